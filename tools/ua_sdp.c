/*
 * sipsess-ua — building SDP offers and answers (see ua_sdp.h).
 *
 * The offer is read line by line ("x=value", CRLF or bare LF); only the
 * lines an answer depends on are looked at: c= (address family), m=
 * (streams), a=rtpmap/a=fmtp (copied for the offered formats) and the
 * four direction attributes.
 */
#include "ua_sdp.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

/* A fixed buffer that remembers overflow, so the builders can append
 * without checking every step and fail once at the end. */
typedef struct sbuf {
    char *p;
    size_t cap, len;
    int over;
} sbuf;

__attribute__((format(printf, 2, 3))) static void sb_printf(sbuf *b, const char *fmt, ...)
{
    if (b->over)
        return;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(b->p + b->len, b->cap - b->len, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= b->cap - b->len) {
        b->over = 1;
        return;
    }
    b->len += (size_t)n;
}

static int sb_done(sbuf *b)
{
    return b->over ? -1 : (int)b->len;
}

void ua_sdp_origin_init(ua_sdp_origin *o, unsigned seq)
{
    /* NTP-style ids are customary but any number unique enough for a
     * test peer will do; time is not needed to be a valid o= line. */
    o->sess_id = 1000000u + seq;
    o->version = 0;
    o->last_hash = 0;
    /* Even ports from 16384 up, as RTP wants, wrapping well below 65536. */
    o->port = 16384u + (seq % 20000u) * 2u;
}

static void put_head(sbuf *b, ua_sdp_origin *o, int ipv6)
{
    const char *fam = ipv6 ? "IP6" : "IP4";
    const char *addr = ipv6 ? "::1" : "127.0.0.1";
    sb_printf(b, "v=0\r\n");
    sb_printf(b, "o=sipsess-ua %llu %llu IN %s %s\r\n", (unsigned long long)o->sess_id,
              (unsigned long long)o->version, fam, addr);
    sb_printf(b, "s=sipsess-ua\r\n");
    sb_printf(b, "c=IN %s %s\r\n", fam, addr);
    sb_printf(b, "t=0 0\r\n");
}

/* FNV-1a over the description after its o= line (the second line). */
static uint64_t body_hash(const char *p, size_t len)
{
    uint64_t h = 1469598103934665603u;
    size_t i = 0;
    for (int nl = 0; i < len && nl < 2; i++)
        if (p[i] == '\n')
            nl++;
    for (; i < len; i++) {
        h ^= (unsigned char)p[i];
        h *= 1099511628211u;
    }
    return h;
}

/* Settle the version of a description just built with o->version:
 * unchanged content keeps it; new content (or the first one) takes the
 * next, and is rebuilt by the caller with it. Returns 1 when a rebuild
 * is needed. */
static int needs_new_version(ua_sdp_origin *o, const char *p, int len)
{
    if (len < 0)
        return 0;
    uint64_t h = body_hash(p, (size_t)len);
    if (o->version && h == o->last_hash)
        return 0;
    o->last_hash = h;
    o->version++;
    return 1;
}

static int build_offer(ua_sdp_origin *o, int ipv6, const char *direction, char *buf, size_t cap)
{
    sbuf b = {buf, cap, 0, 0};
    if (!cap)
        return -1;
    put_head(&b, o, ipv6);
    sb_printf(&b, "m=audio %u RTP/AVP 0 8 101\r\n", o->port);
    sb_printf(&b, "a=rtpmap:0 PCMU/8000\r\n");
    sb_printf(&b, "a=rtpmap:8 PCMA/8000\r\n");
    sb_printf(&b, "a=rtpmap:101 telephone-event/8000\r\n");
    sb_printf(&b, "a=fmtp:101 0-16\r\n");
    sb_printf(&b, "a=%s\r\n", direction ? direction : "sendrecv");
    return sb_done(&b);
}

int ua_sdp_offer(ua_sdp_origin *o, int ipv6, const char *direction, char *buf, size_t cap)
{
    int n = build_offer(o, ipv6, direction, buf, cap);
    if (needs_new_version(o, buf, n))
        n = build_offer(o, ipv6, direction, buf, cap);
    return n;
}

/* ------------------------------------------------------------------ */
/* Reading an offer                                                    */

/* One line of the body, without its end-of-line. */
typedef struct line {
    const char *p;
    size_t len;
} line;

/* Next line from *pos; returns 0 at the end. */
static int next_line(const char *s, size_t len, size_t *pos, line *out)
{
    if (*pos >= len)
        return 0;
    size_t i = *pos;
    while (i < len && s[i] != '\n')
        i++;
    size_t end = i;
    if (end > *pos && s[end - 1] == '\r')
        end--;
    out->p = s + *pos;
    out->len = end - *pos;
    *pos = i < len ? i + 1 : len;
    return 1;
}

static int line_is(const line *l, const char *prefix)
{
    size_t n = strlen(prefix);
    return l->len >= n && !memcmp(l->p, prefix, n);
}

/* "a=sendonly" → "sendonly"; NULL when the line is no direction. */
static const char *direction_of(const line *l)
{
    static const char *const dirs[] = {"sendrecv", "sendonly", "recvonly", "inactive"};
    if (!line_is(l, "a="))
        return NULL;
    for (size_t i = 0; i < sizeof dirs / sizeof dirs[0]; i++) {
        size_t n = strlen(dirs[i]);
        if (l->len == 2 + n && !memcmp(l->p + 2, dirs[i], n))
            return dirs[i];
    }
    return NULL;
}

/* What the answerer says back to a stream offered with `dir` (RFC 3264
 * §6.1): we are willing to do anything, so we mirror. */
static const char *mirror(const char *dir)
{
    if (!strcmp(dir, "sendonly"))
        return "recvonly";
    if (!strcmp(dir, "recvonly"))
        return "sendonly";
    if (!strcmp(dir, "inactive"))
        return "inactive";
    return "sendrecv";
}

/* Space-separated token `i` (0-based) of an m= value, or len 0. */
static line token(const line *l, size_t from, unsigned i)
{
    line t = {NULL, 0};
    size_t k = from;
    for (unsigned n = 0;; n++) {
        while (k < l->len && l->p[k] == ' ')
            k++;
        if (k >= l->len)
            return t;
        size_t s = k;
        while (k < l->len && l->p[k] != ' ')
            k++;
        if (n == i) {
            t.p = l->p + s;
            t.len = k - s;
            return t;
        }
    }
}

/* Does an "a=rtpmap:PT ..." or "a=fmtp:PT ..." line name one of the
 * formats in `fmts` (the m= line's format list)? */
static int attr_for_format(const line *l, const line *m)
{
    size_t skip;
    if (line_is(l, "a=rtpmap:"))
        skip = 9;
    else if (line_is(l, "a=fmtp:"))
        skip = 7;
    else
        return 0;
    size_t e = skip;
    while (e < l->len && l->p[e] != ' ')
        e++;
    line pt = {l->p + skip, e - skip};
    for (unsigned i = 3;; i++) {
        line f = token(m, 2, i);
        if (!f.len)
            return 0;
        if (f.len == pt.len && !memcmp(f.p, pt.p, pt.len))
            return 1;
    }
}

static int build_answer(ua_sdp_origin *o, const char *offer, size_t len, char *buf, size_t cap)
{
    size_t pos = 0;
    line l;
    int have_v = 0, nmedia = 0, ipv6 = 0;
    const char *sess_dir = "sendrecv";

    /* First pass: session-level facts (everything before the first m=). */
    while (next_line(offer, len, &pos, &l)) {
        if (line_is(&l, "m="))
            nmedia++;
        else if (!nmedia && line_is(&l, "v=0"))
            have_v = 1;
        else if (!nmedia && line_is(&l, "c=IN IP6"))
            ipv6 = 1;
        else if (!nmedia && direction_of(&l))
            sess_dir = direction_of(&l);
    }
    if (!have_v || !nmedia)
        return -2;
    if (!cap)
        return -1;

    sbuf b = {buf, cap, 0, 0};
    put_head(&b, o, ipv6);

    /* Second pass, one stream at a time: its m= line, then its
     * attributes until the next m=. The answer's lines for a stream are
     * written when the stream ends, once its direction is known. */
    pos = 0;
    line m = {NULL, 0};
    const char *dir = NULL;
    unsigned idx = 0;
    size_t attr_start = 0, attr_end = 0;
    for (;;) {
        int more = next_line(offer, len, &pos, &l);
        if (!more || line_is(&l, "m=")) {
            if (m.p) {
                line media = token(&m, 2, 0), port = token(&m, 2, 1), proto = token(&m, 2, 2);
                int rejected = port.len == 1 && port.p[0] == '0';
                /* Format list: everything after the protocol. */
                line fmts = token(&m, 2, 3);
                size_t flen = fmts.len ? (size_t)(m.p + m.len - fmts.p) : 0;
                if (!media.len || !proto.len || !fmts.len) {
                    /* A malformed m= line: answer it rejected, keeping
                     * the m= line count the offer has (RFC 3264 §6). */
                    sb_printf(&b, "m=%.*s 0 %.*s 0\r\n", (int)media.len, media.p,
                              (int)proto.len, proto.p);
                } else if (rejected) {
                    sb_printf(&b, "m=%.*s 0 %.*s %.*s\r\n", (int)media.len, media.p,
                              (int)proto.len, proto.p, (int)flen, fmts.p);
                } else {
                    sb_printf(&b, "m=%.*s %u %.*s %.*s\r\n", (int)media.len, media.p,
                              o->port + 2 * idx, (int)proto.len, proto.p, (int)flen, fmts.p);
                    size_t ap = attr_start;
                    line a;
                    while (ap < attr_end && next_line(offer, attr_end, &ap, &a))
                        if (attr_for_format(&a, &m))
                            sb_printf(&b, "%.*s\r\n", (int)a.len, a.p);
                    sb_printf(&b, "a=%s\r\n", mirror(dir ? dir : sess_dir));
                }
                idx++;
            }
            if (!more)
                break;
            m = l;
            dir = NULL;
            attr_start = pos;
            attr_end = pos;
            continue;
        }
        if (m.p) {
            attr_end = pos;
            if (direction_of(&l))
                dir = direction_of(&l);
        }
    }
    return sb_done(&b);
}

int ua_sdp_answer(ua_sdp_origin *o, const char *offer, size_t len, char *buf, size_t cap)
{
    int n = build_answer(o, offer, len, buf, cap);
    if (needs_new_version(o, buf, n))
        n = build_answer(o, offer, len, buf, cap);
    return n;
}

void ua_sdp_direction(const char *sdp, size_t len, char *out, size_t cap)
{
    size_t pos = 0;
    line l;
    const char *sess = "sendrecv", *media = NULL;
    int in_media = 0;
    while (next_line(sdp, len, &pos, &l)) {
        if (line_is(&l, "m=")) {
            if (in_media)
                break;
            in_media = 1;
        } else if (direction_of(&l)) {
            if (in_media)
                media = direction_of(&l);
            else
                sess = direction_of(&l);
        }
    }
    snprintf(out, cap, "%s", media ? media : sess);
}
