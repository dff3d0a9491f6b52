/*
 * UDP listeners (RFC 3261 §18.1.1, §18.2.1 over datagrams): one
 * non-blocking socket per listener, used both to receive and to send, so
 * responses and requests leave from the advertised sent-by port (RFC 3581
 * depends on that).
 */
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "tp_int.h"

/* Datagrams handled per readiness callback: the loop is level-triggered,
 * so stopping early only lets timers and other sockets have their turn. */
#define UDP_MAX_ROUNDS 8

static void udp_on_io(int fd, unsigned events, void *arg)
{
    sipsess__listener *ls = arg;
    sipsess__tp *tp = ls->tp;
    (void)events;
    struct mmsghdr mm[SIPSESS__UDP_BATCH];
    struct iovec iov[SIPSESS__UDP_BATCH];
    struct sockaddr_storage from[SIPSESS__UDP_BATCH];
    size_t slot = tp->rbuf_slot;
    unsigned batch = tp->rbuf_batch;

    for (int round = 0; round < UDP_MAX_ROUNDS; round++) {
        memset(mm, 0, sizeof mm);
        for (unsigned i = 0; i < batch; i++) {
            /* One byte more than the limit, so an oversized datagram shows
             * as longer than the limit instead of passing truncated. */
            iov[i].iov_base = tp->rbuf + (size_t)i * slot;
            iov[i].iov_len = slot;
            mm[i].msg_hdr.msg_name = &from[i];
            mm[i].msg_hdr.msg_namelen = sizeof from[i];
            mm[i].msg_hdr.msg_iov = &iov[i];
            mm[i].msg_hdr.msg_iovlen = 1;
        }
        int n = recvmmsg(fd, mm, batch, MSG_DONTWAIT, NULL);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            if (errno != EAGAIN && errno != EWOULDBLOCK)
                SIPSESS__LOG(tp->log, SIPSESS_LOG_WARN, "transport: udp receive on %s: %s",
                             ls->sentby, strerror(errno));
            return;
        }
        for (int i = 0; i < n; i++) {
            size_t len = mm[i].msg_len;
            sipsess__addr src;
            sipsess__addr_from_sa(&src, SIPSESS__UDP, &from[i], mm[i].msg_hdr.msg_namelen);
            /* A datagram over the limit (longer than max_msg_size, or cut
             * to the slot: MSG_TRUNC) goes on too: the parser's size error
             * may leave enough of a request to answer it 513 (§21.5.14). */
            sipsess__tp_dgram_in(tp, ls->idx, &src, tp->rbuf + (size_t)i * slot, len);
        }
        if ((unsigned)n < batch)
            return; /* drained */
    }
}

int sipsess__udp_listen(sipsess__tp *tp, sipsess__listener *ls)
{
    int rc = sipsess__tp_rbuf(tp);
    if (rc)
        return rc;
    int fam = ls->addr.sa.ss_family;
    int fd = socket(fam, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return sipsess__tp_errno(errno);
    int one = 1;
    /* An IPv6 listener takes IPv6 only; IPv4 has listeners of its own and
     * mapped addresses would make sources compare unequal. */
    if (fam == AF_INET6 && setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one) != 0)
        goto fail;
    if (bind(fd, (const struct sockaddr *)&ls->addr.sa, ls->addr.len) != 0)
        goto fail;
    struct sockaddr_storage ss;
    socklen_t sl = sizeof ss;
    if (getsockname(fd, (struct sockaddr *)&ss, &sl) != 0)
        goto fail;
    sipsess__addr_from_sa(&ls->addr, SIPSESS__UDP, &ss, sl);
    rc = sipsess__loop_watch(tp->loop, fd, SIPSESS__IO_READ, udp_on_io, ls);
    if (rc) {
        close(fd);
        return rc;
    }
    ls->fd = fd;
    return 0;
fail:
    rc = sipsess__tp_errno(errno);
    close(fd);
    return rc;
}

int sipsess__udp_send(sipsess__tp *tp, sipsess__listener *ls, const sipsess__addr *to,
                      const char *data, size_t len)
{
    if (to->sa.ss_family != ls->addr.sa.ss_family)
        return SIPSESS_EINVAL;
    sipsess__tp_trace(tp, true, &ls->addr, to, data, len);
    for (;;) {
        ssize_t n = sendto(ls->fd, data, len, MSG_DONTWAIT | MSG_NOSIGNAL,
                           (const struct sockaddr *)&to->sa, to->len);
        if (n >= 0)
            return 0;
        if (errno == EINTR)
            continue;
        int e = errno;
        char txt[SIPSESS__ADDR_TEXT_MAX];
        sipsess__addr_print(to, txt, sizeof txt);
        if (e == EAGAIN || e == EWOULDBLOCK || e == ENOBUFS || e == ENOMEM) {
            /* A full socket buffer loses the datagram as the network
             * would; the transaction's retransmissions cover it. */
            SIPSESS__LOG(tp->log, SIPSESS_LOG_WARN, "transport: udp send to %s dropped: %s",
                         txt, strerror(e));
            return 0;
        }
        SIPSESS__LOG(tp->log, SIPSESS_LOG_WARN, "transport: udp send to %s failed: %s", txt,
                     strerror(e));
        return SIPSESS_ETRANSPORT;
    }
}
