/*
 * Strong random bytes (getrandom(2), falling back to /dev/urandom when the
 * kernel lacks the system call) and tokens over [A-Za-z0-9] for branches,
 * tags and Call-IDs.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <sys/random.h>
#include <unistd.h>

#include "sipsess/common.h"
#include "runtime/loop.h"

static int urandom_read(unsigned char *p, size_t len)
{
    int fd;
    do {
        fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
    } while (fd < 0 && errno == EINTR);
    if (fd < 0)
        return SIPSESS_ESTATE;
    while (len > 0) {
        ssize_t r = read(fd, p, len);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0) {
            close(fd);
            return SIPSESS_ESTATE;
        }
        p += r;
        len -= (size_t)r;
    }
    close(fd);
    return SIPSESS_OK;
}

int sipsess__random(void *buf, size_t len)
{
    if (len == 0)
        return SIPSESS_OK;
    if (!buf)
        return SIPSESS_EINVAL;
    unsigned char *p = buf;
    while (len > 0) {
        ssize_t r = getrandom(p, len, 0);
        if (r < 0) {
            if (errno == EINTR)
                continue;
            if (errno == ENOSYS || errno == EPERM) /* old kernel, seccomp */
                return urandom_read(p, len);
            return SIPSESS_ESTATE;
        }
        p += r;
        len -= (size_t)r;
    }
    return SIPSESS_OK;
}

int sipsess__random_token(char *buf, size_t len)
{
    static const char cs[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    enum { NCS = sizeof(cs) - 1, LIMIT = 256 - 256 % NCS }; /* 62, 248 */
    if (len == 0)
        return SIPSESS_OK;
    if (!buf)
        return SIPSESS_EINVAL;
    unsigned char rnd[64];
    size_t have = 0, used = 0, out = 0;
    while (out < len) {
        if (used == have) {
            /* ~3% of bytes are rejected: ask for a little more than needed. */
            size_t want = len - out + (len - out) / 16 + 2;
            if (want > sizeof(rnd))
                want = sizeof(rnd);
            int rc = sipsess__random(rnd, want);
            if (rc)
                return rc;
            have = want;
            used = 0;
        }
        unsigned b = rnd[used++];
        /* Rejection keeps every character equally likely (no modulo bias). */
        if (b < LIMIT)
            buf[out++] = cs[b % NCS];
    }
    return SIPSESS_OK;
}
