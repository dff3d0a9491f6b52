/*
 * Requests over the parser's limits are answered when a response can be
 * routed: 513 Message Too Large (RFC 3261 §21.5.14) for a message over the
 * size, header-count, Via-count or field-length limit, 414 Request-URI Too
 * Long (§21.4.12) for a Request-URI over the URI limit. The syntax layer
 * salvages the fields a response needs (§8.2.6.2), the framer says which
 * bytes failed, and a UA on real loopback sockets answers over UDP (a
 * datagram cut at the limit included) and TCP (then closes the connection
 * when the framing is lost, keeps it when only the parse failed).
 */
#include <criterion/criterion.h>
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "sipsess/sipsess.h"
#include "syntax/syntax.h"

#define WAIT_MS 3000

/* A request: `method`, `ruri`, then `vias` (whole lines, or NULL for one
 * Via to 127.0.0.1:9 with branch z9hG4bK<tag>), `extra` lines, a body of
 * `body_len` bytes 'x'. Returns a malloc'ed NUL-terminated text. */
static char *mkreq(const char *method, const char *ruri, const char *vias, const char *tag,
                   const char *extra, size_t body_len)
{
    size_t cap = strlen(ruri) + (vias ? strlen(vias) : 0) + (extra ? strlen(extra) : 0) +
                 3 * strlen(tag) + body_len + 1024;
    char *b = malloc(cap);
    cr_assert_not_null(b);
    char *via = malloc(strlen(tag) + 128);
    cr_assert_not_null(via);
    sprintf(via, "Via: SIP/2.0/UDP 127.0.0.1:9;branch=z9hG4bK%s;rport\r\n", tag);
    int n = snprintf(b, cap,
                     "%s %s SIP/2.0\r\n%s"
                     "Max-Forwards: 70\r\n"
                     "From: <sip:alice@127.0.0.1>;tag=f%s\r\n"
                     "To: <sip:bob@127.0.0.1>\r\n"
                     "Call-ID: %s@test\r\n"
                     "CSeq: 1 %s\r\n%s"
                     "Content-Length: %zu\r\n\r\n",
                     method, ruri, vias ? vias : via, tag, tag, method, extra ? extra : "",
                     body_len);
    cr_assert(n > 0 && (size_t)n + body_len < cap);
    free(via);
    memset(b + n, 'x', body_len);
    b[(size_t)n + body_len] = '\0';
    return b;
}

/* `n` Via lines (or one line of `n` values when `one_line`). */
static char *many_vias(int n, bool one_line, const char *proto)
{
    char *b = malloc((size_t)n * 96 + 16);
    cr_assert_not_null(b);
    size_t len = 0;
    for (int i = 0; i < n; i++) {
        if (one_line)
            len += (size_t)sprintf(b + len, "%sSIP/2.0/%s 127.0.0.1:9;branch=z9hG4bKv%d;rport",
                                   i ? "," : "Via: ", proto, i);
        else
            len += (size_t)sprintf(b + len,
                                   "Via: SIP/2.0/%s 127.0.0.1:9;branch=z9hG4bKv%d;rport\r\n", proto,
                                   i);
    }
    if (one_line)
        len += (size_t)sprintf(b + len, "\r\n");
    return b;
}

static char *long_text(char c, size_t n)
{
    char *s = malloc(n + 1);
    cr_assert_not_null(s);
    memset(s, c, n);
    s[n] = '\0';
    return s;
}

static int salvage(const char *text, size_t len, int why, sipsess_msg **m)
{
    sipsess_parse_opts o;
    sipsess_parse_opts_init(&o);
    return sipsess__msg_salvage(text, len, &o, why, m);
}

static size_t count_vias(const sipsess_msg *m)
{
    size_t n = 0;
    const sipsess_hdr *h = sipsess_msg_hdr(m, SIPSESS_HDR_VIA, 0);
    for (; h; h = sipsess_hdr_next(m, h))
        n++;
    return n;
}

/* ---- the syntax layer ---- */

Test(limits, salvage_keeps_the_fields_a_response_needs)
{
    /* 100 Via lines: the first 64 (the limit) stay, in order. */
    char *vias = many_vias(100, false, "UDP");
    char *r = mkreq("OPTIONS", "sip:bob@127.0.0.1", vias, "a", "X-Other: 1\r\n", 0);
    sipsess_msg *m = NULL;
    cr_assert_eq(salvage(r, strlen(r), SIPSESS_ETOOMANYVIA, &m), 0);
    cr_assert_eq(sipsess_msg_error(m, NULL), SIPSESS_ETOOMANYVIA);
    cr_assert_eq(sipsess_msg_method(m), SIPSESS_METHOD_OPTIONS);
    cr_assert_eq(count_vias(m), 64);
    sipsess_str br = sipsess_via_branch(sipsess_msg_hdr(m, SIPSESS_HDR_VIA, 0));
    cr_assert_eq(br.len, strlen("z9hG4bKv0"));
    cr_assert_eq(memcmp(br.p, "z9hG4bKv0", br.len), 0);
    cr_assert_null(sipsess_msg_hdr_by_name(m, "X-Other", 0), "other fields are left out");
    cr_assert_not_null(sipsess_msg_hdr(m, SIPSESS_HDR_CALL_ID, 0));
    cr_assert_not_null(sipsess_msg_hdr(m, SIPSESS_HDR_CSEQ, 0));
    cr_assert_eq(sipsess_msg_body(m).len, 0);
    sipsess_msg_free(m);
    free(r);
    free(vias);

    /* One line of 100 values: the top value alone. */
    vias = many_vias(100, true, "UDP");
    r = mkreq("INVITE", "sip:bob@127.0.0.1", vias, "b", NULL, 0);
    cr_assert_eq(salvage(r, strlen(r), SIPSESS_ETOOMANYVIA, &m), 0);
    cr_assert_eq(count_vias(m), 1);
    cr_assert_eq(sipsess_msg_method(m), SIPSESS_METHOD_INVITE);
    sipsess_msg_free(m);
    free(r);
    free(vias);

    /* Bare LF line ends, the limit's worth of Via lines and nothing else:
     * every line copied grows by its CR. */
    size_t cap = 64 * 60 + 512, len = 0;
    char *lf = malloc(cap);
    cr_assert_not_null(lf);
    len += (size_t)sprintf(lf, "OPTIONS sip:b@h SIP/2.0\n");
    for (int i = 0; i < 64; i++)
        len += (size_t)sprintf(lf + len, "v:SIP/2.0/UDP h;branch=z9hG4bK%d\n", i);
    len += (size_t)sprintf(lf + len, "f:<sip:a@h>;tag=1\nt:<sip:b@h>\ni:x\nCSeq:1 OPTIONS\n");
    cr_assert_lt(len, cap);
    cr_assert_eq(salvage(lf, len, SIPSESS_ETOOMANYHDRS, &m), 0);
    cr_assert_eq(count_vias(m), 64);
    sipsess_msg_free(m);
    free(lf);

    /* A datagram cut by the size limit: the fields come first, the cut
     * falls in the body. */
    r = mkreq("MESSAGE", "sip:bob@127.0.0.1", NULL, "c", "Content-Type: text/plain\r\n", 5000);
    cr_assert_eq(salvage(r, 1025, SIPSESS_ETOOBIG, &m), 0);
    cr_assert_eq(sipsess_msg_error(m, NULL), SIPSESS_ETOOBIG);
    sipsess_msg_free(m);
    free(r);
}

Test(limits, salvage_of_a_long_uri)
{
    char *user = long_text('u', 5000);
    char ruri[5100];
    snprintf(ruri, sizeof ruri, "sip:%s@127.0.0.1", user);
    /* The Request-URI: 414, and a stand-in no response shows. */
    char *r = mkreq("OPTIONS", ruri, NULL, "d", NULL, 0);
    sipsess_msg *m = NULL;
    sipsess_msg *whole = NULL;
    cr_assert_eq(sipsess_msg_parse(r, strlen(r), NULL, &whole, NULL), SIPSESS_EURITOOLONG);
    cr_assert_eq(salvage(r, strlen(r), SIPSESS_EURITOOLONG, &m), 0);
    cr_assert_eq(sipsess_msg_error(m, NULL), SIPSESS_EURITOOLONG);
    cr_assert_eq(sipsess_msg_method(m), SIPSESS_METHOD_OPTIONS);
    sipsess_str host = sipsess_uri_host(sipsess_msg_ruri(m));
    cr_assert_eq(host.len, strlen("invalid.invalid"));
    cr_assert_eq(memcmp(host.p, "invalid.invalid", host.len), 0);
    sipsess_msg_free(m);
    free(r);
    /* Another URI (Contact): the message is too large for us, 513. */
    char contact[5200];
    snprintf(contact, sizeof contact, "Contact: <%s>\r\n", ruri);
    r = mkreq("OPTIONS", "sip:bob@127.0.0.1", NULL, "e", contact, 0);
    cr_assert_eq(salvage(r, strlen(r), SIPSESS_EURITOOLONG, &m), 0);
    cr_assert_eq(sipsess_msg_error(m, NULL), SIPSESS_ETOOBIG);
    sipsess_msg_free(m);
    free(r);
    free(user);
}

Test(limits, salvage_refuses_what_cannot_be_answered)
{
    sipsess_msg *m = NULL;
    const char *resp = "SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP 127.0.0.1:9;branch=z9hG4bKr\r\n"
                       "From: <sip:a@x>;tag=1\r\nTo: <sip:b@y>;tag=2\r\nCall-ID: r\r\n"
                       "CSeq: 1 OPTIONS\r\n\r\n";
    cr_assert_eq(salvage(resp, strlen(resp), SIPSESS_ETOOBIG, &m), SIPSESS_EINVAL);
    char *r = mkreq("ACK", "sip:bob@127.0.0.1", NULL, "f", NULL, 0);
    cr_assert_eq(salvage(r, strlen(r), SIPSESS_ETOOBIG, &m), SIPSESS_EINVAL, "an ACK");
    free(r);
    r = mkreq("OPTIONS", "sip:bob@127.0.0.1", NULL, "g", NULL, 0);
    cr_assert_eq(salvage(r, strlen(r), SIPSESS_EHEADER, &m), SIPSESS_EINVAL, "not a limit");
    /* Cut before CSeq: a response could not be built. */
    const char *cseq = strstr(r, "CSeq");
    cr_assert_eq(salvage(r, (size_t)(cseq - r) + 3, SIPSESS_ETOOBIG, &m), SIPSESS_EMISSING);
    cr_assert_eq(salvage(r, 20, SIPSESS_ETOOBIG, &m), SIPSESS_ETRUNCATED);
    cr_assert_eq(salvage("GARBAGE\r\n\r\n", 11, SIPSESS_ETOOBIG, &m), SIPSESS_ESTARTLINE);
    /* A field the response copies is itself over the line limit. */
    char *tag = long_text('t', 9000);
    char *r2 = mkreq("OPTIONS", "sip:bob@127.0.0.1", NULL, tag, NULL, 0);
    cr_assert_eq(salvage(r2, strlen(r2), SIPSESS_EHDRTOOLONG, &m), SIPSESS_EMISSING);
    cr_assert_null(m);
    free(r2);
    free(tag);
    free(r);
}

Test(limits, framer_says_which_bytes_failed)
{
    sipsess_framer *f = NULL;
    cr_assert_eq(sipsess_framer_new(NULL, &f), 0);
    sipsess_msg *m = NULL;
    /* A parse limit with the framing intact: the whole message, and the
     * stream goes on. */
    char *vias = many_vias(70, false, "TCP");
    char *r = mkreq("OPTIONS", "sip:bob@127.0.0.1", vias, "h", NULL, 0);
    char *ok = mkreq("OPTIONS", "sip:bob@127.0.0.1", NULL, "i", NULL, 0);
    cr_assert_eq(sipsess_framer_feed(f, r, strlen(r)), 0);
    cr_assert_eq(sipsess_framer_feed(f, ok, strlen(ok)), 0);
    cr_assert_eq(sipsess_framer_next(f, &m, NULL), SIPSESS_ETOOMANYVIA);
    sipsess_str bad = sipsess__framer_failed_bytes(f);
    cr_assert_eq(bad.len, strlen(r));
    cr_assert_eq(memcmp(bad.p, r, bad.len), 0);
    cr_assert_eq(sipsess_framer_failed(f), 0);
    cr_assert_eq(sipsess_framer_next(f, &m, NULL), 0);
    cr_assert_null(sipsess__framer_failed_bytes(f).p);
    sipsess_msg_free(m);
    sipsess_framer_free(f);
    free(r);
    free(vias);

    /* A Content-Length past the size limit: the header section. */
    cr_assert_eq(sipsess_framer_new(NULL, &f), 0);
    const char *big = "MESSAGE sip:bob@127.0.0.1 SIP/2.0\r\n"
                      "Via: SIP/2.0/TCP 127.0.0.1:9;branch=z9hG4bKj\r\n"
                      "From: <sip:a@x>;tag=1\r\nTo: <sip:b@y>\r\nCall-ID: j\r\n"
                      "CSeq: 1 MESSAGE\r\nContent-Length: 99999999\r\n\r\nabc";
    cr_assert_eq(sipsess_framer_feed(f, big, strlen(big)), 0);
    cr_assert_eq(sipsess_framer_next(f, &m, NULL), SIPSESS_ETOOBIG);
    cr_assert_eq(sipsess_framer_failed(f), SIPSESS_ETOOBIG);
    bad = sipsess__framer_failed_bytes(f);
    cr_assert_eq(bad.len, strlen(big) - 3);
    cr_assert_eq(sipsess__msg_salvage(bad.p, bad.len, NULL, SIPSESS_ETOOBIG, &m), 0);
    cr_assert_eq(sipsess_msg_method(m), SIPSESS_METHOD_MESSAGE);
    sipsess_msg_free(m);
    sipsess_framer_free(f);
    free(ok);
}

/* ---- a UA on loopback ---- */

typedef struct uafix {
    sipsess_ua *ua;
    unsigned port;
    struct sockaddr_in to;
} uafix;

static void ua_up(uafix *u, const char *proto, unsigned msg_size)
{
    sipsess_ua_config *cfg = NULL;
    cr_assert_eq(sipsess_ua_config_new(&cfg), 0);
    if (msg_size)
        cr_assert_eq(sipsess_ua_config_set_limit(cfg, SIPSESS_LIMIT_MSG_SIZE, msg_size), 0);
    cr_assert_eq(sipsess_ua_new(cfg, &u->ua), 0);
    sipsess_ua_config_free(cfg);
    char spec[32];
    snprintf(spec, sizeof spec, "%s:127.0.0.1:0", proto);
    cr_assert_geq(sipsess_ua_listen(u->ua, spec), 0);
    u->port = sipsess_ua_listener_port(u->ua, 0);
    memset(&u->to, 0, sizeof u->to);
    u->to.sin_family = AF_INET;
    u->to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    u->to.sin_port = htons((uint16_t)u->port);
}

/* Step the UA until `fd` has something to read (or the deadline). Returns
 * the bytes read, 0 at EOF, -1 on an error (a reset), -2 when nothing came
 * in time. */
static ssize_t ua_recv(uafix *u, int fd, char *buf, size_t cap, int ms)
{
    for (int waited = 0; waited < ms; waited += 5) {
        sipsess_ua_step(u->ua, 5);
        ssize_t n = recv(fd, buf, cap - 1, MSG_DONTWAIT);
        if (n >= 0) {
            buf[n] = '\0';
            return n;
        }
        if (errno != EAGAIN && errno != EINTR)
            return -1;
    }
    return -2;
}

static unsigned status_of(const char *resp)
{
    return strncmp(resp, "SIP/2.0 ", 8) ? 0 : (unsigned)atoi(resp + 8);
}

/* The value of the first `name` line of `resp`, into `out`. */
static void field(const char *resp, const char *name, char *out, size_t cap)
{
    const char *p = strstr(resp, name);
    cr_assert_not_null(p, "no %s in %s", name, resp);
    p += strlen(name);
    size_t n = strcspn(p, "\r\n");
    snprintf(out, cap, "%.*s", (int)n, p);
}

/* Send `req`, return the status of what comes back within `ms` (0: none). */
static unsigned udp_ask(uafix *u, int fd, const char *req, char *resp, size_t cap, int ms)
{
    size_t len = strlen(req);
    cr_assert_eq(sendto(fd, req, len, 0, (const struct sockaddr *)&u->to, sizeof u->to),
                 (ssize_t)len);
    ssize_t n = ua_recv(u, fd, resp, cap, ms);
    return n > 0 ? status_of(resp) : 0;
}

Test(limits, ua_answers_513_and_414_over_udp)
{
    uafix u;
    ua_up(&u, "udp", 2048);
    int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    cr_assert(fd >= 0);
    char resp[4096], tag1[128], tag2[128];

    /* Over the size limit: the datagram arrives cut, the fields first. */
    char *r = mkreq("MESSAGE", "sip:bob@127.0.0.1", NULL, "u1", "Content-Type: text/plain\r\n",
                    6000);
    cr_assert_eq(udp_ask(&u, fd, r, resp, sizeof resp, WAIT_MS), 513, "%s", resp);
    cr_assert_not_null(strstr(resp, "Message Too Large"));
    cr_assert_not_null(strstr(resp, "Call-ID: u1@test"));
    field(resp, "To: ", tag1, sizeof tag1);
    /* Its retransmission is absorbed by the transaction: the same 513. */
    cr_assert_eq(udp_ask(&u, fd, r, resp, sizeof resp, WAIT_MS), 513);
    field(resp, "To: ", tag2, sizeof tag2);
    cr_assert_str_eq(tag1, tag2);
    free(r);

    /* Too many Via values (in a datagram under the size limit). */
    char *vias = many_vias(80, true, "UDP");
    r = mkreq("OPTIONS", "sip:bob@127.0.0.1", vias, "u2", NULL, 0);
    cr_assert_lt(strlen(r), 65000);
    sipsess_ua_free(u.ua);
    ua_up(&u, "udp", 0); /* the default size limit: the Via limit breaks first */
    cr_assert_eq(udp_ask(&u, fd, r, resp, sizeof resp, WAIT_MS), 513, "%s", resp);
    cr_assert_not_null(strstr(resp, "too many Via"));
    cr_assert_not_null(strstr(resp, "branch=z9hG4bKv0"));
    cr_assert_null(strstr(resp, "branch=z9hG4bKv1"), "the top Via only");
    free(r);
    free(vias);

    /* A Request-URI over the URI limit. */
    char *user = long_text('u', 5000);
    char ruri[5100];
    snprintf(ruri, sizeof ruri, "sip:%s@127.0.0.1", user);
    r = mkreq("OPTIONS", ruri, NULL, "u3", NULL, 0);
    cr_assert_eq(udp_ask(&u, fd, r, resp, sizeof resp, WAIT_MS), 414, "%s", resp);
    free(r);
    free(user);

    /* An oversized ACK gets nothing; a normal request is still served. */
    char *hdrs = malloc(300 * 16);
    size_t hl = 0;
    for (int i = 0; i < 300; i++)
        hl += (size_t)sprintf(hdrs + hl, "X-H%d: v\r\n", i);
    r = mkreq("ACK", "sip:bob@127.0.0.1", NULL, "u4", hdrs, 0);
    cr_assert_eq(udp_ask(&u, fd, r, resp, sizeof resp, 300), 0);
    free(r);
    r = mkreq("OPTIONS", "sip:bob@127.0.0.1", NULL, "u5", hdrs, 0);
    cr_assert_eq(udp_ask(&u, fd, r, resp, sizeof resp, WAIT_MS), 513, "%s", resp);
    cr_assert_not_null(strstr(resp, "too many header fields"));
    free(r);
    free(hdrs);
    r = mkreq("OPTIONS", "sip:bob@127.0.0.1", NULL, "u6", NULL, 0);
    cr_assert_eq(udp_ask(&u, fd, r, resp, sizeof resp, WAIT_MS), 200);
    free(r);
    close(fd);
    sipsess_ua_free(u.ua);
}

static int tcp_to(uafix *u)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    cr_assert(fd >= 0);
    /* The UA accepts only while it is stepped: a non-blocking connect. */
    cr_assert(connect(fd, (const struct sockaddr *)&u->to, sizeof u->to) == 0 ||
              errno == EINPROGRESS);
    return fd;
}

static void tcp_send(uafix *u, int fd, const char *p, size_t n)
{
    while (n) {
        ssize_t w = send(fd, p, n, MSG_NOSIGNAL | MSG_DONTWAIT);
        if (w < 0 && (errno == EAGAIN || errno == EINTR)) {
            sipsess_ua_step(u->ua, 5);
            continue;
        }
        if (w < 0)
            return; /* reset by the UA: what it answered is still readable */
        p += w;
        n -= (size_t)w;
    }
}

Test(limits, ua_answers_513_over_tcp)
{
    uafix u;
    ua_up(&u, "tcp", 0);
    char resp[4096];

    /* Framing intact, too many header fields: 513, and the connection goes
     * on to serve the next request. */
    char *hdrs = malloc(300 * 16);
    size_t hl = 0;
    for (int i = 0; i < 300; i++)
        hl += (size_t)sprintf(hdrs + hl, "X-H%d: v\r\n", i);
    char *r = mkreq("OPTIONS", "sip:bob@127.0.0.1", NULL, "t1", hdrs, 0);
    char *ok = mkreq("OPTIONS", "sip:bob@127.0.0.1", NULL, "t2", NULL, 0);
    int fd = tcp_to(&u);
    tcp_send(&u, fd, r, strlen(r));
    cr_assert_gt(ua_recv(&u, fd, resp, sizeof resp, WAIT_MS), 0);
    cr_assert_eq(status_of(resp), 513, "%s", resp);
    tcp_send(&u, fd, ok, strlen(ok));
    cr_assert_gt(ua_recv(&u, fd, resp, sizeof resp, WAIT_MS), 0);
    cr_assert_eq(status_of(resp), 200, "%s", resp);
    close(fd);
    free(r);
    free(hdrs);

    /* A 70 KB message: 513 on the connection, then it is closed (the
     * framing is lost). */
    r = mkreq("MESSAGE", "sip:bob@127.0.0.1", NULL, "t3", "Content-Type: text/plain\r\n",
              70000);
    fd = tcp_to(&u);
    tcp_send(&u, fd, r, strlen(r));
    size_t got = 0;
    ssize_t n;
    while ((n = ua_recv(&u, fd, resp + got, sizeof resp - got, WAIT_MS)) > 0)
        got += (size_t)n;
    cr_assert_gt(got, 0, "no answer before the close");
    cr_assert_eq(status_of(resp), 513, "%s", resp);
    cr_assert_not_null(strstr(resp, "Call-ID: t3@test"));
    cr_assert(n == 0 || n == -1, "closed (EOF or reset), not left open");
    close(fd);
    free(r);
    free(ok);
    sipsess_ua_free(u.ua);
}
