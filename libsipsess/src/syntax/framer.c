/*
 * Stream framing (RFC 3261 §18.3): on a connection, messages are delimited
 * by the empty line and Content-Length, which is therefore mandatory.
 * Keep-alive CRLFs between messages are skipped (RFC 5626 §3.5.1).
 */
#include "syntax.h"

struct sipsess_framer {
    sipsess_parse_opts opts;
    char *buf;
    size_t len;    /* bytes held */
    size_t off;    /* start of unconsumed data */
    size_t cap;
    size_t scanned; /* bytes after `off` already searched for the empty line */
    unsigned pings;
    int failed;    /* the error that broke the stream, or 0 */
    sipsess_str bad; /* the message the last next() failed on */
};

SIPSESS_API int sipsess_framer_new(const sipsess_parse_opts *opts, sipsess_framer **out)
{
    if (!out)
        return SIPSESS_EINVAL;
    sipsess_framer *f = sipsess__calloc(1, sizeof *f);
    if (!f)
        return SIPSESS_ENOMEM;
    sipsess_parse_opts_init(&f->opts);
    if (opts) {
        size_t n = opts->struct_size < sizeof f->opts ? opts->struct_size : sizeof f->opts;
        if (n > sizeof(uint32_t))
            memcpy((char *)&f->opts + sizeof(uint32_t), (const char *)opts + sizeof(uint32_t),
                   n - sizeof(uint32_t));
        f->opts.struct_size = sizeof f->opts;
    }
    *out = f;
    return 0;
}

SIPSESS_API void sipsess_framer_free(sipsess_framer *f)
{
    if (!f)
        return;
    sipsess__free(f->buf);
    sipsess__free(f);
}

SIPSESS_API int sipsess_framer_failed(const sipsess_framer *f)
{
    return f ? f->failed : SIPSESS_EINVAL;
}

SIPSESS_API size_t sipsess_framer_buffered(const sipsess_framer *f)
{
    return f ? f->len - f->off : 0;
}

sipsess_str sipsess__framer_failed_bytes(const sipsess_framer *f)
{
    return f ? f->bad : (sipsess_str){NULL, 0};
}

SIPSESS_API unsigned sipsess_framer_take_pings(sipsess_framer *f)
{
    if (!f)
        return 0;
    unsigned n = f->pings;
    f->pings = 0;
    return n;
}

/* Two message sizes: a reader that drains with next() after every feed of
 * at most one message size never reaches it, and a peer cannot make us hold
 * more. */
static size_t buffer_limit(const sipsess_framer *f)
{
    return (size_t)f->opts.max_msg_size * 2;
}

SIPSESS_API int sipsess_framer_feed(sipsess_framer *f, const void *data, size_t len)
{
    if (!f || (!data && len))
        return SIPSESS_EINVAL;
    if (f->failed)
        return SIPSESS_EFRAMING;
    if (!len)
        return 0;
    f->bad = (sipsess_str){NULL, 0};
    size_t held = f->len - f->off;
    if (len > buffer_limit(f) - held) {
        f->failed = SIPSESS_ETOOBIG;
        return SIPSESS_ETOOBIG;
    }
    if (f->off && f->len + len > f->cap) {
        memmove(f->buf, f->buf + f->off, held);
        f->len = held;
        f->off = 0;
    }
    if (f->len + len > f->cap) {
        size_t ncap = f->cap ? f->cap : 4096;
        while (ncap < f->len + len)
            ncap *= 2;
        char *n = sipsess__realloc(f->buf, ncap);
        if (!n)
            return SIPSESS_ENOMEM;
        f->buf = n;
        f->cap = ncap;
    }
    memcpy(f->buf + f->len, data, len);
    f->len += len;
    return 0;
}

static int fail(sipsess_framer *f, int code)
{
    f->failed = code;
    return code;
}

/* Linear white space from `v`, folds included (RFC 3261 §7.3.1): a value
 * may begin or go on after a line break that is followed by SP or HT. */
static const char *skip_lws(const char *v, const char *end)
{
    for (;;) {
        while (v < end && (*v == ' ' || *v == '\t'))
            v++;
        const char *nl = v < end && *v == '\r' ? v + 1 : v;
        if (nl + 1 < end && *nl == '\n' && (nl[1] == ' ' || nl[1] == '\t')) {
            v = nl + 1;
            continue;
        }
        return v;
    }
}

/* Content-Length from a complete header section [p, end): -1 when absent,
 * -2 when invalid or conflicting. Only the framing question is answered
 * here; the full parse checks the rest. */
static int64_t scan_clen(const char *p, const char *end)
{
    int64_t found = -1;
    /* skip the start line */
    const char *lf = memchr(p, '\n', (size_t)(end - p));
    p = lf ? lf + 1 : end;
    while (p < end) {
        lf = memchr(p, '\n', (size_t)(end - p));
        const char *le = lf ? lf : end;
        const char *c = memchr(p, ':', (size_t)(le - p));
        if (c && (*p != ' ' && *p != '\t')) {
            const char *ne = c;
            while (ne > p && (ne[-1] == ' ' || ne[-1] == '\t'))
                ne--;
            sipsess_str name = {p, (size_t)(ne - p)};
            if (sipsess__str_ieq(name, "content-length") || sipsess__str_ieq(name, "l")) {
                const char *v = skip_lws(c + 1, end);
                int64_t n = 0;
                const char *ds = v;
                while (v < end && *v >= '0' && *v <= '9') {
                    n = n * 10 + (*v - '0');
                    if (n > (int64_t)UINT32_MAX)
                        return -2;
                    v++;
                }
                if (v == ds)
                    return -2; /* no digits: an empty value is not 0 */
                v = skip_lws(v, end);
                if (v < end && *v == '\r')
                    v++;
                if (v < end && *v != '\n')
                    return -2;
                if (found >= 0 && found != n)
                    return -2;
                found = n;
            }
        }
        p = lf ? lf + 1 : end;
    }
    return found;
}

SIPSESS_API int sipsess_framer_next(sipsess_framer *f, sipsess_msg **out, size_t *err_off)
{
    if (!f || !out)
        return SIPSESS_EINVAL;
    if (f->failed)
        return SIPSESS_EFRAMING;
    if (!f->buf)
        return SIPSESS_EAGAIN; /* nothing fed yet (and NULL + 0 is undefined) */
    f->bad = (sipsess_str){NULL, 0};

    /* Keep-alives: a CRLFCRLF ping gets a CRLF pong; a lone CRLF (a pong
     * from the other side) is skipped. */
    for (;;) {
        const char *p = f->buf + f->off;
        size_t n = f->len - f->off;
        if (n >= 4 && memcmp(p, "\r\n\r\n", 4) == 0) {
            f->pings++;
            f->off += 4;
        } else if (n >= 2 && p[0] == '\r' && p[1] == '\n') {
            if (n < 4 && memcmp(p, "\r\n\r\n", n) == 0)
                return SIPSESS_EAGAIN; /* might become a ping */
            f->off += 2;
        } else if (n >= 1 && p[0] == '\n') {
            f->off += 1;
        } else if (n == 1 && p[0] == '\r') {
            return SIPSESS_EAGAIN;
        } else {
            break;
        }
        f->scanned = 0;
    }

    const char *start = f->buf + f->off, *end = f->buf + f->len;
    size_t held = (size_t)(end - start);
    if (!held)
        return SIPSESS_EAGAIN;

    /* Find the empty line, resuming where the last call stopped so a
     * message arriving a byte at a time costs linear time. */
    size_t from = f->scanned > 3 ? f->scanned - 3 : 0;
    const char *body = NULL;
    for (const char *p = start + from; p < end;) {
        const char *lf = memchr(p, '\n', (size_t)(end - p));
        if (!lf)
            break;
        p = lf + 1;
        if (p < end && *p == '\n') {
            body = p + 1;
            break;
        }
        if (p + 1 < end && p[0] == '\r' && p[1] == '\n') {
            body = p + 2;
            break;
        }
    }
    if (!body) {
        f->scanned = held;
        if (held > f->opts.max_msg_size) {
            f->bad = (sipsess_str){start, held};
            return fail(f, SIPSESS_ETOOBIG);
        }
        return SIPSESS_EAGAIN;
    }
    size_t hlen = (size_t)(body - start);
    f->bad = (sipsess_str){start, hlen};
    if (hlen > f->opts.max_msg_size)
        return fail(f, SIPSESS_ETOOBIG);
    int64_t cl = scan_clen(start, body);
    if (cl < 0)
        return fail(f, SIPSESS_ECLEN);
    size_t total = hlen + (size_t)cl;
    if (total > f->opts.max_msg_size)
        return fail(f, SIPSESS_ETOOBIG);
    f->bad = (sipsess_str){NULL, 0};
    if (held < total)
        return SIPSESS_EAGAIN;

    size_t eo = 0;
    int e = sipsess__msg_parse(start, total, &f->opts, true, out, &eo);
    if (e)
        f->bad = (sipsess_str){start, total}; /* the bytes stay until the next feed */
    f->off += total;
    f->scanned = 0;
    if (f->off == f->len)
        f->off = f->len = 0;
    if (e == SIPSESS_ENOMEM) {
        /* Not the peer's fault, but the message is lost: the stream's
         * framing is intact, so the caller may go on. */
        return e;
    }
    if (e && err_off)
        *err_off = eo;
    return e;
}
