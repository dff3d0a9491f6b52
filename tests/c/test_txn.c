/*
 * Transaction layer (RFC 3261 §17, RFC 6026) on a virtual clock: every
 * state and every timer of the four machines, with loss (the exact
 * retransmission schedules), matching (§17.1.3, §17.2.3 with the RFC
 * 2543 rules, CANCEL per §9.2), strays, transport errors, the
 * transaction limit and custom T1/T2/T4.
 *
 * The layer sends through a capturing sipsess__txl_io that records every
 * message with the virtual time it left; the peer's messages are crafted
 * here and fed in through sipsess__txl_on_rx, as the transport would.
 */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/loop.h"
#include "transport/transport.h"
#include "txn/txn.h"

/* ------------------------------------------------------------------ */
/* Harness                                                             */

#define MAX_SENT 8192
#define MAX_EV 4096

typedef struct sent_rec {
    uint64_t at;
    sipsess_msg *msg;
    sipsess__dest d;
    int64_t id;
} sent_rec;

typedef struct ct_ev {
    sipsess__txn *ct;
    unsigned status; /* 0 when resp is NULL */
    int err;
    uint64_t at;
    void *arg;
} ct_ev;

typedef struct end_ev {
    sipsess__txn *st;
    int err;
    uint64_t at;
} end_ev;

static struct harness {
    sipsess__loop *l;
    sipsess__txl *txl;
    bool reliable;     /* what io.reliable and rx.reliable say */
    bool fail_send;    /* io.send fails synchronously */
    int64_t next_id;
    sent_rec sent[MAX_SENT];
    size_t nsent;
    /* TU records */
    sipsess__txn *req[MAX_EV];
    size_t nreq;
    size_t nack;
    sipsess_msg *last_ack;
    size_t nstray;
    unsigned stray_status;
    end_ev ends[MAX_EV];
    size_t nend;
    ct_ev cts[MAX_EV];
    size_t nct;
    /* TU behaviour hooks */
    void (*on_request)(sipsess__txn *st);
    void (*on_ct)(sipsess__txn *ct, const sipsess_msg *resp, int err);
    void (*on_end)(sipsess__txn *st, int err);
} H;

static uint64_t now(void)
{
    return sipsess__loop_now(H.l);
}

static void advance(uint64_t ms)
{
    cr_assert_eq(sipsess__loop_advance(H.l, ms) >= 0, 1);
}

/* Advance to an absolute virtual time. */
static void advance_to(uint64_t t)
{
    cr_assert(t >= now(), "advance_to(%lu) in the past (%lu)", (unsigned long)t,
              (unsigned long)now());
    advance(t - now());
}

static void set_addr(sipsess__addr *a, const char *ip, unsigned port, bool tcp)
{
    memset(a, 0, sizeof *a);
    struct sockaddr_in *sin = (struct sockaddr_in *)&a->sa;
    sin->sin_family = AF_INET;
    sin->sin_port = htons((uint16_t)port);
    inet_pton(AF_INET, ip, &sin->sin_addr);
    a->len = sizeof *sin;
    a->proto = tcp ? SIPSESS__TCP : SIPSESS__UDP;
}

/* ---- capturing io ---- */

static int io_route_request(void *arg, const sipsess_uri *target, size_t len, sipsess__dest *d)
{
    (void)arg;
    (void)target;
    (void)len;
    memset(d, 0, sizeof *d);
    set_addr(&d->remote, "192.0.2.1", 5060, H.reliable);
    d->listener = 0;
    return 0;
}

static int io_route_response(void *arg, const sipsess__rx *rx, sipsess__dest *d)
{
    (void)arg;
    memset(d, 0, sizeof *d);
    d->remote = rx->src;
    d->listener = rx->listener;
    return 0;
}

static int64_t io_send(void *arg, const sipsess__dest *d, const char *data, size_t len)
{
    (void)arg;
    if (H.fail_send)
        return SIPSESS_ETRANSPORT;
    cr_assert(H.nsent < MAX_SENT, "too many sends");
    sent_rec *s = &H.sent[H.nsent];
    sipsess_parse_opts o;
    sipsess_parse_opts_init(&o);
    o.flags = SIPSESS_PARSE_LENIENT;
    int rc = sipsess_msg_parse(data, len, &o, &s->msg, NULL);
    cr_assert_eq(rc, 0, "the layer sent an unparsable message (%s): %.*s", sipsess_errname(rc),
                 (int)len, data);
    s->at = now();
    s->d = *d;
    s->id = ++H.next_id;
    H.nsent++;
    return s->id;
}

static sipsess_str io_sentby(void *arg, int listener)
{
    (void)arg;
    (void)listener;
    sipsess_str s = {"192.0.2.10:5060", 15};
    return s;
}

static bool io_reliable(void *arg, const sipsess__dest *d)
{
    (void)arg;
    (void)d;
    return H.reliable;
}

/* ---- recording TU ---- */

static void tu_request(void *arg, sipsess__txn *st)
{
    cr_assert_eq(arg, &H);
    cr_assert(H.nreq < MAX_EV);
    H.req[H.nreq++] = st;
    if (H.on_request)
        H.on_request(st);
}

static void tu_ack(void *arg, const sipsess__rx *rx)
{
    cr_assert_eq(arg, &H);
    H.nack++;
    sipsess_msg_free(H.last_ack);
    H.last_ack = sipsess_msg_ref(rx->msg);
}

static void tu_stray_2xx(void *arg, const sipsess__rx *rx)
{
    cr_assert_eq(arg, &H);
    H.nstray++;
    H.stray_status = sipsess_msg_status(rx->msg);
}

static void tu_st_end(void *arg, sipsess__txn *st, int err)
{
    cr_assert_eq(arg, &H);
    cr_assert(H.nend < MAX_EV);
    cr_assert_eq(sipsess__txn_get_state(st), SIPSESS__TS_TERMINATED);
    H.ends[H.nend++] = (end_ev){st, err, now()};
    if (H.on_end)
        H.on_end(st, err);
}

static void ct_cb(void *arg, sipsess__txn *ct, const sipsess_msg *resp, int err)
{
    cr_assert(H.nct < MAX_EV);
    H.cts[H.nct++] = (ct_ev){ct, resp ? sipsess_msg_status(resp) : 0, err, now(), arg};
    if (H.on_ct)
        H.on_ct(ct, resp, err);
}

static const sipsess__tu TU = {tu_request, tu_ack, tu_stray_2xx, tu_st_end};

static void layer(const sipsess__txn_timers *tm)
{
    sipsess__txl_io io = {io_route_request, io_route_response, io_send, io_sentby, io_reliable,
                          NULL};
    cr_assert_eq(sipsess__txl_new(H.l, NULL, &io, tm, &TU, &H, &H.txl), 0);
}

static void setup(void)
{
    memset(&H, 0, sizeof H);
    cr_assert_eq(sipsess__loop_new(true, &H.l), 0);
    layer(NULL);
}

static void teardown(void)
{
    sipsess__txl_free(H.txl);
    sipsess__loop_free(H.l);
    for (size_t i = 0; i < H.nsent; i++)
        sipsess_msg_free(H.sent[i].msg);
    sipsess_msg_free(H.last_ack);
}

TestSuite(txn_ict, .init = setup, .fini = teardown);
TestSuite(txn_nict, .init = setup, .fini = teardown);
TestSuite(txn_ist, .init = setup, .fini = teardown);
TestSuite(txn_nist, .init = setup, .fini = teardown);
TestSuite(txn_match, .init = setup, .fini = teardown);
TestSuite(txn_misc, .init = setup, .fini = teardown);

/* Replace the layer with one using other timers. */
static void relayer(const sipsess__txn_timers *tm)
{
    sipsess__txl_free(H.txl);
    H.txl = NULL;
    layer(tm);
}

/* ---- message helpers ---- */

/* Header value `nth` of `id` as a NUL-terminated string (static slot). */
static const char *hv(const sipsess_msg *m, sipsess_hdr_id id, size_t nth)
{
    static char buf[8][512];
    static int slot;
    const sipsess_hdr *h = sipsess_msg_hdr(m, id, nth);
    if (!h)
        return NULL;
    sipsess_str v = sipsess_hdr_value(h);
    char *b = buf[slot++ & 7];
    snprintf(b, sizeof buf[0], "%.*s", (int)v.len, v.p);
    return b;
}

static const char *ruri_of(const sipsess_msg *m)
{
    static char b[512];
    sipsess_str t = sipsess_uri_text(sipsess_msg_ruri(m));
    snprintf(b, sizeof b, "%.*s", (int)t.len, t.p);
    return b;
}

static bool is_method(const sipsess_msg *m, const char *method)
{
    sipsess_str n = sipsess_msg_method_name(m);
    return sipsess_msg_is_request(m) && n.len == strlen(method) &&
           memcmp(n.p, method, n.len) == 0;
}

/* Sends of a request method (or of a response status when method is
 * NULL), from index `from`. */
static size_t count_sent(const char *method, unsigned status, size_t from)
{
    size_t n = 0;
    for (size_t i = from; i < H.nsent; i++) {
        const sipsess_msg *m = H.sent[i].msg;
        if (method ? is_method(m, method) : sipsess_msg_status(m) == status)
            n++;
    }
    return n;
}

/* Times (ms) of the sends of a method/status, into `out`; returns count. */
static size_t sent_times(const char *method, unsigned status, uint64_t *out, size_t cap)
{
    size_t n = 0;
    for (size_t i = 0; i < H.nsent && n < cap; i++) {
        const sipsess_msg *m = H.sent[i].msg;
        if (method ? is_method(m, method) : sipsess_msg_status(m) == status)
            out[n++] = H.sent[i].at;
    }
    return n;
}

static void assert_times(const char *what, const uint64_t *got, size_t ngot,
                         const uint64_t *want, size_t nwant)
{
    char g[1024] = "", w[1024] = "";
    for (size_t i = 0; i < ngot; i++)
        snprintf(g + strlen(g), sizeof g - strlen(g), "%lu ", (unsigned long)got[i]);
    for (size_t i = 0; i < nwant; i++)
        snprintf(w + strlen(w), sizeof w - strlen(w), "%lu ", (unsigned long)want[i]);
    cr_assert_eq(ngot, nwant, "%s: sent at [%s], expected [%s]", what, g, w);
    for (size_t i = 0; i < nwant; i++)
        cr_assert_eq(got[i], want[i], "%s: sent at [%s], expected [%s]", what, g, w);
}

static const sipsess_msg *last_sent(void)
{
    cr_assert(H.nsent > 0, "nothing sent");
    return H.sent[H.nsent - 1].msg;
}

/* ---- client side: start a transaction, answer it ---- */

#define CALL_ID "call-1@192.0.2.10"

static sipsess__txn *ct_begin_arg(const char *method, bool routes, void *arg)
{
    sipsess_uri *u = NULL;
    cr_assert_eq(sipsess_uri_parse("sip:bob@192.0.2.1", 17, &u), 0);
    sipsess__txn *ct = NULL;
    int rc = sipsess__ct_new(H.txl, sipsess_method_from(method, strlen(method)), u, 400, ct_cb,
                             arg, &ct);
    sipsess_uri_free(u);
    cr_assert_eq(rc, 0, "ct_new: %s", sipsess_errname(rc));
    sipsess_msgbuilder *b = NULL;
    cr_assert_eq(sipsess_msgbuilder_new(&b), 0);
    cr_assert_eq(sipsess_msgbuilder_request(b, method, "sip:bob@192.0.2.1"), 0);
    cr_assert_eq(sipsess_msgbuilder_header_str(b, (sipsess_str){"Via", 3}, sipsess__ct_via(ct)),
                 0);
    sipsess_msgbuilder_header(b, "Max-Forwards", "70");
    if (routes) {
        sipsess_msgbuilder_header(b, "Route", "<sip:p1.example.com;lr>");
        sipsess_msgbuilder_header(b, "Route", "<sip:p2.example.com;lr>");
    }
    sipsess_msgbuilder_header(b, "From", "Alice <sip:alice@192.0.2.10>;tag=ft1");
    sipsess_msgbuilder_header(b, "To", "Bob <sip:bob@192.0.2.1>");
    sipsess_msgbuilder_header(b, "Call-ID", CALL_ID);
    char cseq[64];
    snprintf(cseq, sizeof cseq, "1 %s", method);
    sipsess_msgbuilder_header(b, "CSeq", cseq);
    sipsess_msgbuilder_header(b, "Contact", "<sip:alice@192.0.2.10>");
    sipsess_str out;
    cr_assert_eq(sipsess_msgbuilder_finish(b, &out), 0);
    rc = sipsess__ct_start(ct, out.p, out.len);
    sipsess_msgbuilder_free(b);
    cr_assert_eq(rc, 0, "ct_start: %s", sipsess_errname(rc));
    return ct;
}

static sipsess__txn *ct_begin(const char *method)
{
    return ct_begin_arg(method, false, &H);
}

static void feed_text(const char *text, bool from_client_side)
{
    sipsess_parse_opts o;
    sipsess_parse_opts_init(&o);
    o.flags = SIPSESS_PARSE_LENIENT;
    sipsess__rx rx;
    memset(&rx, 0, sizeof rx);
    int rc = sipsess_msg_parse(text, strlen(text), &o, &rx.msg, NULL);
    cr_assert_eq(rc, 0, "test message does not parse (%s): %s", sipsess_errname(rc), text);
    if (from_client_side)
        set_addr(&rx.src, "192.0.2.20", 5062, H.reliable);
    else
        set_addr(&rx.src, "192.0.2.1", 5060, H.reliable);
    rx.listener = 0;
    rx.reliable = H.reliable;
    sipsess__txl_on_rx(H.txl, &rx);
}

/* A response from the peer to the request `req` (as the layer sent it). */
static void feed_resp(const sipsess_msg *req, unsigned status, const char *to_tag)
{
    sipsess_msgbuilder *b = NULL;
    cr_assert_eq(sipsess_msgbuilder_new(&b), 0);
    cr_assert_eq(sipsess_msgbuilder_response_to(b, req, status, NULL, to_tag), 0);
    sipsess_str out;
    cr_assert_eq(sipsess_msgbuilder_finish(b, &out), 0);
    char *text = strndup(out.p, out.len);
    sipsess_msgbuilder_free(b);
    feed_text(text, false);
    free(text);
}

/* The first message the layer sent of a method. */
static const sipsess_msg *first_sent(const char *method)
{
    for (size_t i = 0; i < H.nsent; i++)
        if (is_method(H.sent[i].msg, method))
            return H.sent[i].msg;
    cr_assert_fail("no %s sent", method);
    return NULL;
}

/* ---- server side: requests from the peer ---- */

typedef struct rq {
    const char *method;
    const char *ruri;
    const char *branch;   /* NULL: no branch parameter */
    const char *sentby;
    const char *callid;
    const char *from_tag;
    const char *to_tag;   /* NULL: none */
    const char *cseq_method;
    unsigned cseq;
    const char *extra;    /* more header lines, CRLF-terminated */
} rq;

static rq rq_of(const char *method, const char *branch)
{
    rq r = {method,  "sip:bob@192.0.2.10", branch, "192.0.2.20:5062", "srv-call-1@192.0.2.20",
            "ft9",   NULL,                 method, 7,      ""};
    return r;
}

static void feed_rq(const rq *r)
{
    char text[4096];
    char br[256] = "";
    if (r->branch)
        snprintf(br, sizeof br, ";branch=%s", r->branch);
    char tt[128] = "";
    if (r->to_tag)
        snprintf(tt, sizeof tt, ";tag=%s", r->to_tag);
    snprintf(text, sizeof text,
             "%s %s SIP/2.0\r\n"
             "Via: SIP/2.0/UDP %s%s;rport\r\n"
             "Max-Forwards: 70\r\n"
             "From: <sip:alice@192.0.2.20>;tag=%s\r\n"
             "To: <sip:bob@192.0.2.10>%s\r\n"
             "Call-ID: %s\r\n"
             "CSeq: %u %s\r\n"
             "%s"
             "Content-Length: 0\r\n\r\n",
             r->method, r->ruri, r->sentby, br, r->from_tag, tt, r->callid, r->cseq,
             r->cseq_method, r->extra);
    feed_text(text, true);
}

#define BR1 "z9hG4bK-client-branch-1"
#define BR2 "z9hG4bK-client-branch-2"

static void answer_180(sipsess__txn *st)
{
    cr_assert_eq(sipsess__st_reply(st, 180, NULL, "uas1", NULL), 0);
}

/* ================================================================== */
/* INVITE client transaction                                           */

Test(txn_ict, calling_timer_a_doubles_until_timer_b)
{
    sipsess__txn *ct = ct_begin("INVITE");
    cr_assert_eq(sipsess__txn_get_kind(ct), SIPSESS__ICT);
    cr_assert_eq(sipsess__txn_get_state(ct), SIPSESS__TS_CALLING);
    advance_to(31999);
    cr_assert_eq(sipsess__txn_get_state(ct), SIPSESS__TS_CALLING);
    cr_assert_eq(H.nct, 0);
    advance_to(32000);
    /* §17.1.1.2: A = T1, doubling each time; B = 64*T1. */
    uint64_t want[] = {0, 500, 1500, 3500, 7500, 15500, 31500}, got[32];
    assert_times("INVITE", got, sent_times("INVITE", 0, got, 32), want, 7);
    cr_assert_eq(H.nct, 1);
    cr_assert_eq(H.cts[0].err, SIPSESS_ETIMEDOUT);
    cr_assert_eq(H.cts[0].status, 0);
    cr_assert_eq(H.cts[0].at, 32000);
    cr_assert_eq(sipsess__txl_count(H.txl), 0);
    advance(100000);
    cr_assert_eq(H.nsent, 7);
}

Test(txn_ict, reliable_has_no_timer_a)
{
    H.reliable = true;
    ct_begin("INVITE");
    advance_to(31999);
    cr_assert_eq(H.nsent, 1);
    advance_to(32000);
    cr_assert_eq(H.nct, 1);
    cr_assert_eq(H.cts[0].err, SIPSESS_ETIMEDOUT);
}

Test(txn_ict, provisional_stops_retransmission_and_timer_b)
{
    sipsess__txn *ct = ct_begin("INVITE");
    advance_to(600);
    feed_resp(first_sent("INVITE"), 180, "uas1");
    cr_assert_eq(sipsess__txn_get_state(ct), SIPSESS__TS_PROCEEDING);
    cr_assert_eq(H.nct, 1);
    cr_assert_eq(H.cts[0].status, 180);
    feed_resp(first_sent("INVITE"), 183, "uas1");
    cr_assert_eq(H.nct, 2, "every provisional goes to the TU");
    advance(200000);
    /* No Timer B in Proceeding (Figure 5): the TU decides (CANCEL). */
    cr_assert_eq(sipsess__txn_get_state(ct), SIPSESS__TS_PROCEEDING);
    cr_assert_eq(count_sent("INVITE", 0, 0), 2);
    cr_assert_eq(H.nct, 2);
    cr_assert_eq(sipsess__txn_last_response(ct) != NULL, 1);
    sipsess__ct_abandon(ct);
    cr_assert_eq(sipsess__txl_count(H.txl), 0);
}

Test(txn_ict, non2xx_builds_ack_and_timer_d)
{
    sipsess__txn *ct = ct_begin_arg("INVITE", true, &H);
    const sipsess_msg *inv = first_sent("INVITE");
    feed_resp(inv, 180, "uas1");
    advance_to(1000);
    feed_resp(inv, 486, "uas1");
    cr_assert_eq(sipsess__txn_get_state(ct), SIPSESS__TS_COMPLETED);
    cr_assert_eq(H.nct, 2);
    cr_assert_eq(H.cts[1].status, 486);
    cr_assert_eq(count_sent("ACK", 0, 0), 1);
    const sipsess_msg *ack = last_sent();
    /* §17.1.1.3 */
    cr_assert_str_eq(ruri_of(ack), ruri_of(inv));
    cr_assert_eq(sipsess_msg_hdr_num(ack, SIPSESS_HDR_VIA), 1);
    cr_assert_str_eq(hv(ack, SIPSESS_HDR_VIA, 0), hv(inv, SIPSESS_HDR_VIA, 0));
    cr_assert_str_eq(hv(ack, SIPSESS_HDR_FROM, 0), hv(inv, SIPSESS_HDR_FROM, 0));
    cr_assert_str_eq(hv(ack, SIPSESS_HDR_TO, 0), "Bob <sip:bob@192.0.2.1>;tag=uas1");
    cr_assert_str_eq(hv(ack, SIPSESS_HDR_CALL_ID, 0), CALL_ID);
    cr_assert_str_eq(hv(ack, SIPSESS_HDR_CSEQ, 0), "1 ACK");
    cr_assert_eq(sipsess_msg_hdr_num(ack, SIPSESS_HDR_ROUTE), 2);
    cr_assert_str_eq(hv(ack, SIPSESS_HDR_ROUTE, 0), "<sip:p1.example.com;lr>");
    cr_assert_str_eq(hv(ack, SIPSESS_HDR_ROUTE, 1), "<sip:p2.example.com;lr>");
    cr_assert_str_eq(hv(ack, SIPSESS_HDR_MAX_FORWARDS, 0), "70");
    cr_assert_eq(sipsess_msg_hdr(ack, SIPSESS_HDR_CONTACT, 0), NULL);
    cr_assert_eq(sipsess_msg_body(ack).len, 0);
    cr_assert_eq(sipsess_msg_error(ack, NULL), 0);
    /* Retransmitted final: the ACK again, the TU hears nothing. */
    advance_to(2000);
    feed_resp(inv, 486, "uas1");
    cr_assert_eq(count_sent("ACK", 0, 0), 2);
    cr_assert_eq(H.nct, 2);
    /* A provisional in Completed is ignored; a 2xx (a proxy forwards
     * one even after a final, §16.7) goes to the dialog layer. */
    feed_resp(inv, 180, "uas1");
    cr_assert_eq(H.nct, 2);
    feed_resp(inv, 200, "uas2");
    cr_assert_eq(H.nct, 2);
    cr_assert_eq(H.nstray, 1);
    cr_assert_eq(count_sent("ACK", 0, 0), 2);
    /* Timer D: 32 s on unreliable transports. */
    advance_to(1000 + 31999);
    cr_assert_eq(sipsess__txn_get_state(ct), SIPSESS__TS_COMPLETED);
    advance_to(1000 + 32000);
    cr_assert_eq(sipsess__txl_count(H.txl), 0);
    cr_assert_eq(H.nct, 2, "Timer D ends the transaction silently");
    /* After D the response is a stray: dropped, no ACK. */
    feed_resp(inv, 486, "uas1");
    cr_assert_eq(count_sent("ACK", 0, 0), 2);
}

Test(txn_ict, non2xx_in_calling_goes_to_completed)
{
    sipsess__txn *ct = ct_begin("INVITE");
    advance_to(700);
    feed_resp(first_sent("INVITE"), 603, "uas1");
    cr_assert_eq(sipsess__txn_get_state(ct), SIPSESS__TS_COMPLETED);
    advance(100000);
    /* no more retransmissions of the INVITE (A stopped), no B */
    cr_assert_eq(count_sent("INVITE", 0, 0), 2);
    cr_assert_eq(H.nct, 1);
}

Test(txn_ict, reliable_timer_d_is_zero)
{
    H.reliable = true;
    sipsess__txn *ct = ct_begin("INVITE");
    feed_resp(first_sent("INVITE"), 404, "uas1");
    cr_assert_eq(count_sent("ACK", 0, 0), 1);
    cr_assert_eq(sipsess__txn_get_state(ct), SIPSESS__TS_COMPLETED);
    advance(0);
    cr_assert_eq(sipsess__txl_count(H.txl), 0);
    cr_assert_eq(now(), 0);
}

Test(txn_ict, accepted_passes_every_2xx_until_timer_m)
{
    sipsess__txn *ct = ct_begin("INVITE");
    const sipsess_msg *inv = first_sent("INVITE");
    advance_to(100);
    feed_resp(inv, 200, "uas1");
    /* RFC 6026 §8.4 */
    cr_assert_eq(sipsess__txn_get_state(ct), SIPSESS__TS_ACCEPTED);
    cr_assert_eq(H.nct, 1);
    cr_assert_eq(H.cts[0].status, 200);
    cr_assert_eq(count_sent("ACK", 0, 0), 0, "the ACK for a 2xx is the TU's");
    advance_to(1000);
    feed_resp(inv, 200, "uas1"); /* retransmission */
    feed_resp(inv, 200, "uas2"); /* fork */
    cr_assert_eq(H.nct, 3);
    feed_resp(inv, 180, "uas3");
    feed_resp(inv, 486, "uas3");
    cr_assert_eq(H.nct, 3, "non-2xx in Accepted are dropped");
    cr_assert_eq(count_sent("ACK", 0, 0), 0);
    cr_assert_eq(count_sent("INVITE", 0, 0), 1, "Timer A stopped");
    /* Timer M = 64*T1 from the first 2xx */
    advance_to(100 + 31999);
    cr_assert_eq(sipsess__txn_get_state(ct), SIPSESS__TS_ACCEPTED);
    advance_to(100 + 32000);
    cr_assert_eq(sipsess__txl_count(H.txl), 0);
    cr_assert_eq(H.nct, 3);
    /* After Timer M, a 2xx is a stray for the dialog layer. */
    feed_resp(inv, 200, "uas1");
    cr_assert_eq(H.nstray, 1);
    cr_assert_eq(H.stray_status, 200);
}

Test(txn_ict, reliable_accepted_still_waits_timer_m)
{
    H.reliable = true;
    sipsess__txn *ct = ct_begin("INVITE");
    feed_resp(first_sent("INVITE"), 200, "uas1");
    advance_to(31999);
    cr_assert_eq(sipsess__txn_get_state(ct), SIPSESS__TS_ACCEPTED);
    advance_to(32000);
    cr_assert_eq(sipsess__txl_count(H.txl), 0);
}

Test(txn_ict, abandoned_in_accepted_hands_2xx_to_stray)
{
    sipsess__txn *ct = ct_begin("INVITE");
    const sipsess_msg *inv = first_sent("INVITE");
    feed_resp(inv, 200, "uas1");
    sipsess__ct_abandon(ct);
    cr_assert_eq(sipsess__txl_count(H.txl), 1, "Accepted goes on after abandon");
    feed_resp(inv, 200, "uas2");
    cr_assert_eq(H.nct, 1);
    cr_assert_eq(H.nstray, 1);
    advance(32000);
    cr_assert_eq(sipsess__txl_count(H.txl), 0);
}

Test(txn_ict, abandoned_in_completed_still_acks)
{
    sipsess__txn *ct = ct_begin("INVITE");
    const sipsess_msg *inv = first_sent("INVITE");
    feed_resp(inv, 500, "uas1");
    sipsess__ct_abandon(ct);
    feed_resp(inv, 500, "uas1");
    cr_assert_eq(count_sent("ACK", 0, 0), 2);
    cr_assert_eq(H.nct, 1);
}

Test(txn_ict, transport_error_on_retransmission)
{
    sipsess__txn *ct = ct_begin("INVITE");
    (void)ct;
    H.fail_send = true;
    advance_to(500);
    cr_assert_eq(H.nct, 1);
    cr_assert_eq(H.cts[0].err, SIPSESS_ETRANSPORT);
    cr_assert_eq(H.cts[0].status, 0);
    cr_assert_eq(sipsess__txl_count(H.txl), 0);
    advance(100000);
    cr_assert_eq(H.nct, 1);
}

Test(txn_ict, transport_error_at_start_frees_without_callback)
{
    H.fail_send = true;
    sipsess_uri *u = NULL;
    cr_assert_eq(sipsess_uri_parse("sip:bob@192.0.2.1", 17, &u), 0);
    sipsess__txn *ct = NULL;
    cr_assert_eq(sipsess__ct_new(H.txl, SIPSESS_METHOD_INVITE, u, 400, ct_cb, &H, &ct), 0);
    sipsess_uri_free(u);
    char req[512];
    snprintf(req, sizeof req,
             "INVITE sip:bob@192.0.2.1 SIP/2.0\r\nVia: %.*s\r\nMax-Forwards: 70\r\n"
             "From: <sip:a@x>;tag=1\r\nTo: <sip:bob@192.0.2.1>\r\nCall-ID: c1\r\n"
             "CSeq: 1 INVITE\r\nContent-Length: 0\r\n\r\n",
             (int)sipsess__ct_via(ct).len, sipsess__ct_via(ct).p);
    cr_assert_neq(sipsess__ct_start(ct, req, strlen(req)), 0);
    cr_assert_eq(H.nct, 0);
    cr_assert_eq(sipsess__txl_count(H.txl), 0);
}

Test(txn_ict, start_rejects_wrong_branch_or_method)
{
    sipsess_uri *u = NULL;
    cr_assert_eq(sipsess_uri_parse("sip:bob@192.0.2.1", 17, &u), 0);
    sipsess__txn *ct = NULL;
    cr_assert_eq(sipsess__ct_new(H.txl, SIPSESS_METHOD_INVITE, u, 400, ct_cb, &H, &ct), 0);
    const char *req = "INVITE sip:bob@192.0.2.1 SIP/2.0\r\n"
                      "Via: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bKother\r\n"
                      "Max-Forwards: 70\r\nFrom: <sip:a@x>;tag=1\r\nTo: <sip:b@y>\r\n"
                      "Call-ID: c1\r\nCSeq: 1 INVITE\r\nContent-Length: 0\r\n\r\n";
    cr_assert_eq(sipsess__ct_start(ct, req, strlen(req)), SIPSESS_EINVAL);
    cr_assert_eq(sipsess__txl_count(H.txl), 0);
    cr_assert_eq(H.nsent, 0);
    /* ACK and CANCEL are no client transactions of their own */
    cr_assert_eq(sipsess__ct_new(H.txl, SIPSESS_METHOD_ACK, u, 400, ct_cb, &H, &ct),
                 SIPSESS_EINVAL);
    cr_assert_eq(sipsess__ct_new(H.txl, SIPSESS_METHOD_CANCEL, u, 400, ct_cb, &H, &ct),
                 SIPSESS_EINVAL);
    sipsess_uri_free(u);
}

Test(txn_ict, async_transport_error)
{
    ct_begin("INVITE");
    int64_t id = H.sent[0].id;
    sipsess__txl_on_send_error(H.txl, (uint64_t)id, SIPSESS_ETRANSPORT);
    cr_assert_eq(H.nct, 1);
    cr_assert_eq(H.cts[0].err, SIPSESS_ETRANSPORT);
    cr_assert_eq(sipsess__txl_count(H.txl), 0);
    /* an unknown id is ignored */
    sipsess__txl_on_send_error(H.txl, 99999, SIPSESS_ETRANSPORT);
    cr_assert_eq(H.nct, 1);
}

static void *cancel_arg = (void *)&cancel_arg;

Test(txn_ict, cancel_waits_for_a_provisional)
{
    sipsess__txn *ct = ct_begin_arg("INVITE", true, &H);
    const sipsess_msg *inv = first_sent("INVITE");
    /* §9.1: not before a provisional response */
    cr_assert_eq(sipsess__ct_cancel(ct, ct_cb, cancel_arg), SIPSESS_ESTATE);
    cr_assert_eq(count_sent("CANCEL", 0, 0), 0);
    advance_to(800);
    feed_resp(inv, 180, "uas1");
    cr_assert_eq(count_sent("CANCEL", 0, 0), 1);
    const sipsess_msg *c = first_sent("CANCEL");
    cr_assert_str_eq(ruri_of(c), ruri_of(inv));
    cr_assert_eq(sipsess_msg_hdr_num(c, SIPSESS_HDR_VIA), 1);
    cr_assert_str_eq(hv(c, SIPSESS_HDR_VIA, 0), hv(inv, SIPSESS_HDR_VIA, 0));
    cr_assert_str_eq(hv(c, SIPSESS_HDR_FROM, 0), hv(inv, SIPSESS_HDR_FROM, 0));
    cr_assert_str_eq(hv(c, SIPSESS_HDR_TO, 0), hv(inv, SIPSESS_HDR_TO, 0));
    cr_assert_str_eq(hv(c, SIPSESS_HDR_CALL_ID, 0), CALL_ID);
    cr_assert_str_eq(hv(c, SIPSESS_HDR_CSEQ, 0), "1 CANCEL");
    cr_assert_eq(sipsess_msg_hdr_num(c, SIPSESS_HDR_ROUTE), 2);
    cr_assert_eq(sipsess__txl_count(H.txl), 2);
    /* The CANCEL's 200 goes to its own callback (same branch, CSeq
     * method CANCEL: §17.1.3). */
    feed_resp(c, 200, "uas1");
    cr_assert_eq(H.nct, 2);
    cr_assert_eq(H.cts[1].arg, cancel_arg);
    cr_assert_eq(H.cts[1].status, 200);
    cr_assert_eq(sipsess__txn_get_state(ct), SIPSESS__TS_PROCEEDING);
    feed_resp(inv, 487, "uas1");
    cr_assert_eq(H.nct, 3);
    cr_assert_eq(H.cts[2].arg, &H);
    cr_assert_eq(H.cts[2].status, 487);
    cr_assert_eq(count_sent("ACK", 0, 0), 1);
}

Test(txn_ict, cancel_in_proceeding_and_its_retransmissions)
{
    sipsess__txn *ct = ct_begin("INVITE");
    feed_resp(first_sent("INVITE"), 100, NULL);
    advance_to(1000);
    cr_assert_eq(sipsess__ct_cancel(ct, ct_cb, cancel_arg), 0);
    cr_assert_eq(sipsess__ct_cancel(ct, ct_cb, cancel_arg), SIPSESS_EBUSY);
    /* The CANCEL is a NICT: Timer E from T1 capped at T2. */
    advance_to(1000 + 4000);
    uint64_t want[] = {1000, 1500, 2500, 4500}, got[16];
    assert_times("CANCEL", got, sent_times("CANCEL", 0, got, 16), want, 4);
    sipsess__ct_abandon(ct);
}

Test(txn_ict, cancel_after_final_is_refused)
{
    sipsess__txn *ct = ct_begin("INVITE");
    feed_resp(first_sent("INVITE"), 200, "uas1");
    cr_assert_eq(sipsess__ct_cancel(ct, ct_cb, cancel_arg), SIPSESS_ESTATE);
    cr_assert_eq(count_sent("CANCEL", 0, 0), 0);
}

Test(txn_ict, pending_cancel_dropped_by_final)
{
    sipsess__txn *ct = ct_begin("INVITE");
    cr_assert_eq(sipsess__ct_cancel(ct, ct_cb, cancel_arg), SIPSESS_ESTATE);
    feed_resp(first_sent("INVITE"), 486, "uas1");
    feed_resp(first_sent("INVITE"), 180, "uas1");
    cr_assert_eq(count_sent("CANCEL", 0, 0), 0);
}

static void fail_sends_on_provisional(sipsess__txn *ct, const sipsess_msg *resp, int err)
{
    (void)ct;
    (void)err;
    if (resp && sipsess_msg_status(resp) == 180)
        H.fail_send = true;
}

Test(txn_ict, pending_cancel_that_cannot_be_sent)
{
    sipsess__txn *ct = ct_begin("INVITE");
    cr_assert_eq(sipsess__ct_cancel(ct, ct_cb, cancel_arg), SIPSESS_ESTATE);
    H.on_ct = fail_sends_on_provisional;
    feed_resp(first_sent("INVITE"), 180, "uas1");
    /* the promised CANCEL's callback hears of the failure */
    cr_assert_eq(H.nct, 2);
    cr_assert_eq(H.cts[1].arg, cancel_arg);
    cr_assert_eq(H.cts[1].err, SIPSESS_ETRANSPORT);
    cr_assert_eq(sipsess__txn_get_state(ct), SIPSESS__TS_PROCEEDING);
    cr_assert_eq(sipsess__txl_count(H.txl), 1);
}

Test(txn_ict, ack_send_failure_ends_quietly)
{
    sipsess__txn *ct = ct_begin("INVITE");
    (void)ct;
    H.fail_send = true;
    feed_resp(first_sent("INVITE"), 500, "uas1");
    cr_assert_eq(H.nct, 1, "the TU still gets its final response, and nothing else");
    cr_assert_eq(H.cts[0].status, 500);
    cr_assert_eq(sipsess__txl_count(H.txl), 0);
}

/* ================================================================== */
/* non-INVITE client transaction                                       */

Test(txn_nict, trying_timer_e_capped_at_t2_until_timer_f)
{
    sipsess__txn *ct = ct_begin("OPTIONS");
    cr_assert_eq(sipsess__txn_get_kind(ct), SIPSESS__NICT);
    cr_assert_eq(sipsess__txn_get_state(ct), SIPSESS__TS_TRYING);
    advance_to(31999);
    cr_assert_eq(H.nct, 0);
    advance_to(32000);
    /* §17.1.2.2: E = T1, MIN(2E, T2) ...; F = 64*T1 */
    uint64_t want[] = {0, 500, 1500, 3500, 7500, 11500, 15500, 19500, 23500, 27500, 31500},
             got[32];
    assert_times("OPTIONS", got, sent_times("OPTIONS", 0, got, 32), want, 11);
    cr_assert_eq(H.nct, 1);
    cr_assert_eq(H.cts[0].err, SIPSESS_ETIMEDOUT);
    cr_assert_eq(H.cts[0].at, 32000);
    cr_assert_eq(sipsess__txl_count(H.txl), 0);
}

Test(txn_nict, proceeding_retransmits_every_t2)
{
    sipsess__txn *ct = ct_begin("REGISTER");
    advance_to(600);
    feed_resp(first_sent("REGISTER"), 100, NULL);
    cr_assert_eq(sipsess__txn_get_state(ct), SIPSESS__TS_PROCEEDING);
    cr_assert_eq(H.nct, 1);
    cr_assert_eq(H.cts[0].status, 100);
    advance_to(32000);
    /* The E armed in Trying (1000 ms at 500) still fires at 1500, then
     * every T2 in Proceeding; F still ends it at 64*T1. */
    uint64_t want[] = {0, 500, 1500, 5500, 9500, 13500, 17500, 21500, 25500, 29500}, got[32];
    assert_times("REGISTER", got, sent_times("REGISTER", 0, got, 32), want, 10);
    cr_assert_eq(H.nct, 2);
    cr_assert_eq(H.cts[1].err, SIPSESS_ETIMEDOUT);
}

Test(txn_nict, final_then_timer_k)
{
    sipsess__txn *ct = ct_begin("OPTIONS");
    const sipsess_msg *req = first_sent("OPTIONS");
    advance_to(700);
    feed_resp(req, 200, "uas1");
    cr_assert_eq(sipsess__txn_get_state(ct), SIPSESS__TS_COMPLETED);
    cr_assert_eq(H.nct, 1);
    cr_assert_eq(H.cts[0].status, 200);
    feed_resp(req, 200, "uas1");
    feed_resp(req, 100, NULL);
    cr_assert_eq(H.nct, 1, "Completed absorbs");
    /* Timer K = T4 */
    advance_to(700 + 4999);
    cr_assert_eq(sipsess__txn_get_state(ct), SIPSESS__TS_COMPLETED);
    cr_assert_eq(count_sent("OPTIONS", 0, 0), 2, "no retransmission after the final");
    advance_to(700 + 5000);
    cr_assert_eq(sipsess__txl_count(H.txl), 0);
    cr_assert_eq(H.nct, 1);
}

Test(txn_nict, final_from_proceeding)
{
    sipsess__txn *ct = ct_begin("BYE");
    const sipsess_msg *req = first_sent("BYE");
    feed_resp(req, 100, NULL);
    feed_resp(req, 481, "uas1");
    cr_assert_eq(sipsess__txn_get_state(ct), SIPSESS__TS_COMPLETED);
    cr_assert_eq(H.nct, 2);
    cr_assert_eq(H.cts[1].status, 481);
}

Test(txn_nict, reliable_no_timer_e_and_k_zero)
{
    H.reliable = true;
    ct_begin("OPTIONS");
    advance_to(20000);
    cr_assert_eq(H.nsent, 1);
    feed_resp(first_sent("OPTIONS"), 200, "uas1");
    cr_assert_eq(sipsess__txl_count(H.txl), 1);
    advance(0);
    cr_assert_eq(sipsess__txl_count(H.txl), 0);
}

Test(txn_nict, reliable_timer_f)
{
    H.reliable = true;
    ct_begin("OPTIONS");
    advance_to(32000);
    cr_assert_eq(H.nsent, 1);
    cr_assert_eq(H.nct, 1);
    cr_assert_eq(H.cts[0].err, SIPSESS_ETIMEDOUT);
}

Test(txn_nict, transport_error_on_retransmission)
{
    ct_begin("MESSAGE");
    advance_to(500);
    H.fail_send = true;
    advance_to(1500);
    cr_assert_eq(H.nct, 1);
    cr_assert_eq(H.cts[0].err, SIPSESS_ETRANSPORT);
    cr_assert_eq(sipsess__txl_count(H.txl), 0);
}

Test(txn_nict, extension_method)
{
    sipsess__txn *ct = ct_begin("FOO");
    feed_resp(first_sent("FOO"), 200, "x");
    cr_assert_eq(sipsess__txn_get_state(ct), SIPSESS__TS_COMPLETED);
    cr_assert_eq(H.nct, 1);
}

/* ================================================================== */
/* INVITE server transaction                                           */

Test(txn_ist, automatic_100_after_200ms)
{
    rq r = rq_of("INVITE", BR1);
    feed_rq(&r);
    cr_assert_eq(H.nreq, 1);
    sipsess__txn *st = H.req[0];
    cr_assert_eq(sipsess__txn_get_kind(st), SIPSESS__IST);
    cr_assert_eq(sipsess__txn_get_state(st), SIPSESS__TS_PROCEEDING);
    advance_to(199);
    cr_assert_eq(H.nsent, 0);
    advance_to(200);
    cr_assert_eq(H.nsent, 1);
    const sipsess_msg *m = last_sent();
    cr_assert_eq(sipsess_msg_status(m), 100);
    /* §8.2.6.2: no To tag on a 100; the request's fields copied; §18.2.1
     * and RFC 3581: received and rport on the top Via. */
    cr_assert_str_eq(hv(m, SIPSESS_HDR_TO, 0), "<sip:bob@192.0.2.10>");
    cr_assert_str_eq(hv(m, SIPSESS_HDR_VIA, 0),
                     "SIP/2.0/UDP 192.0.2.20:5062;branch=" BR1 ";rport=5062;received=192.0.2.20");
    cr_assert_str_eq(hv(m, SIPSESS_HDR_CSEQ, 0), "7 INVITE");
    /* A retransmitted INVITE gets the 100 again. */
    feed_rq(&r);
    cr_assert_eq(H.nreq, 1);
    cr_assert_eq(count_sent(NULL, 100, 0), 2);
    advance(5000);
    cr_assert_eq(count_sent(NULL, 100, 0), 2, "one automatic 100 only");
}

Test(txn_ist, no_100_when_the_tu_answers_in_time)
{
    H.on_request = answer_180;
    rq r = rq_of("INVITE", BR1);
    feed_rq(&r);
    advance(1000);
    cr_assert_eq(H.nsent, 1);
    cr_assert_eq(sipsess_msg_status(last_sent()), 180);
    cr_assert_str_eq(hv(last_sent(), SIPSESS_HDR_TO, 0), "<sip:bob@192.0.2.10>;tag=uas1");
}

Test(txn_ist, answer_before_200ms_suppresses_100)
{
    rq r = rq_of("INVITE", BR1);
    feed_rq(&r);
    advance_to(150);
    cr_assert_eq(sipsess__st_reply(H.req[0], 183, NULL, "uas1", NULL), 0);
    advance_to(1000);
    cr_assert_eq(H.nsent, 1);
    cr_assert_eq(sipsess_msg_status(last_sent()), 183);
}

Test(txn_ist, retransmitted_invite_resends_last_provisional)
{
    H.on_request = answer_180;
    rq r = rq_of("INVITE", BR1);
    feed_rq(&r);
    advance_to(500);
    feed_rq(&r);
    cr_assert_eq(H.nreq, 1, "retransmissions are absorbed");
    cr_assert_eq(count_sent(NULL, 180, 0), 2);
    cr_assert_eq(sipsess__st_reply(H.req[0], 183, NULL, "uas1", NULL), 0);
    feed_rq(&r);
    cr_assert_eq(count_sent(NULL, 183, 0), 2);
    cr_assert_eq(count_sent(NULL, 180, 0), 2);
}

Test(txn_ist, non2xx_timer_g_capped_then_timer_h)
{
    H.on_request = answer_180;
    rq r = rq_of("INVITE", BR1);
    feed_rq(&r);
    sipsess__txn *st = H.req[0];
    advance_to(1000);
    cr_assert_eq(sipsess__st_reply(st, 486, NULL, "uas1", NULL), 0);
    cr_assert_eq(sipsess__txn_get_state(st), SIPSESS__TS_COMPLETED);
    advance_to(1000 + 31999);
    cr_assert_eq(H.nend, 0);
    advance_to(1000 + 32000);
    /* §17.2.1: G = T1, MIN(2G, T2)...; H = 64*T1 */
    uint64_t want[] = {1000,  1500,  2500,  4500,  8500,  12500,
                       16500, 20500, 24500, 28500, 32500},
             got[32];
    assert_times("486", got, sent_times(NULL, 486, got, 32), want, 11);
    cr_assert_eq(H.nend, 1);
    cr_assert_eq(H.ends[0].st, st);
    cr_assert_eq(H.ends[0].err, SIPSESS_ETIMEDOUT);
    cr_assert_eq(sipsess__txl_count(H.txl), 0);
}

Test(txn_ist, ack_confirms_then_timer_i)
{
    rq r = rq_of("INVITE", BR1);
    feed_rq(&r);
    sipsess__txn *st = H.req[0];
    cr_assert_eq(sipsess__st_reply(st, 603, NULL, "uas1", NULL), 0);
    advance_to(200);
    feed_rq(&r); /* retransmitted INVITE in Completed: the final again */
    cr_assert_eq(count_sent(NULL, 603, 0), 2);
    advance_to(1000); /* G fired at 500 */
    cr_assert_eq(count_sent(NULL, 603, 0), 3);
    rq a = rq_of("ACK", BR1);
    a.to_tag = "uas1";
    feed_rq(&a);
    cr_assert_eq(sipsess__txn_get_state(st), SIPSESS__TS_CONFIRMED);
    cr_assert_eq(H.nack, 0, "the ACK for a non-2xx stays in the transaction");
    feed_rq(&a);
    feed_rq(&r);
    cr_assert_eq(H.nack, 0);
    cr_assert_eq(count_sent(NULL, 603, 0), 3, "Confirmed absorbs INVITE and ACK");
    /* Timer I = T4 */
    advance_to(1000 + 4999);
    cr_assert_eq(count_sent(NULL, 603, 0), 3, "G stopped");
    cr_assert_eq(sipsess__txn_get_state(st), SIPSESS__TS_CONFIRMED);
    advance_to(1000 + 5000);
    cr_assert_eq(H.nend, 1);
    cr_assert_eq(H.ends[0].err, 0);
    cr_assert_eq(sipsess__txl_count(H.txl), 0);
}

Test(txn_ist, reliable_no_timer_g_and_i_zero)
{
    H.reliable = true;
    rq r = rq_of("INVITE", BR1);
    feed_rq(&r);
    cr_assert_eq(sipsess__st_reply(H.req[0], 480, NULL, "uas1", NULL), 0);
    advance_to(10000);
    cr_assert_eq(count_sent(NULL, 480, 0), 1);
    rq a = rq_of("ACK", BR1);
    a.to_tag = "uas1";
    feed_rq(&a);
    cr_assert_eq(sipsess__txn_get_state(H.req[0]), SIPSESS__TS_CONFIRMED);
    advance(0);
    cr_assert_eq(H.nend, 1);
    cr_assert_eq(H.ends[0].err, 0);
    cr_assert_eq(H.ends[0].at, 10000);
}

Test(txn_ist, reliable_timer_h)
{
    H.reliable = true;
    rq r = rq_of("INVITE", BR1);
    feed_rq(&r);
    cr_assert_eq(sipsess__st_reply(H.req[0], 480, NULL, "uas1", NULL), 0);
    advance_to(32000);
    cr_assert_eq(H.nend, 1);
    cr_assert_eq(H.ends[0].err, SIPSESS_ETIMEDOUT);
    cr_assert_eq(H.nsent, 1);
}

Test(txn_ist, accepted_2xx_ack_to_tu_and_timer_l)
{
    rq r = rq_of("INVITE", BR1);
    feed_rq(&r);
    sipsess__txn *st = H.req[0];
    advance_to(100);
    cr_assert_eq(sipsess__st_reply(st, 200, NULL, "uas1", NULL), 0);
    /* RFC 6026 §8.5 */
    cr_assert_eq(sipsess__txn_get_state(st), SIPSESS__TS_ACCEPTED);
    advance_to(600);
    cr_assert_eq(count_sent(NULL, 200, 0), 1, "the layer never retransmits a 2xx");
    feed_rq(&r);
    cr_assert_eq(count_sent(NULL, 200, 0), 1, "retransmitted INVITE absorbed");
    cr_assert_eq(H.nreq, 1);
    /* the TU's retransmission goes through */
    cr_assert_eq(sipsess__st_reply(st, 200, NULL, "uas1", NULL), 0);
    cr_assert_eq(count_sent(NULL, 200, 0), 2);
    cr_assert_eq(sipsess__st_reply(st, 486, NULL, "uas1", NULL), SIPSESS_ESTATE);
    cr_assert_eq(sipsess__st_reply(st, 180, NULL, "uas1", NULL), SIPSESS_ESTATE);
    /* the ACK for the 2xx has its own branch: to the TU */
    rq a = rq_of("ACK", "z9hG4bK-ack-for-2xx");
    a.to_tag = "uas1";
    feed_rq(&a);
    cr_assert_eq(H.nack, 1);
    cr_assert_eq(sipsess__txn_get_state(st), SIPSESS__TS_ACCEPTED);
    /* Timer L = 64*T1 from the 2xx */
    advance_to(100 + 31999);
    cr_assert_eq(H.nend, 0);
    advance_to(100 + 32000);
    cr_assert_eq(H.nend, 1);
    cr_assert_eq(H.ends[0].err, 0, "the 2xx was ACKed");
    cr_assert_eq(sipsess__txl_count(H.txl), 0);
}

Test(txn_ist, accepted_without_ack_times_out)
{
    H.reliable = true;
    rq r = rq_of("INVITE", BR1);
    feed_rq(&r);
    cr_assert_eq(sipsess__st_reply(H.req[0], 200, NULL, "uas1", NULL), 0);
    /* an ACK of another dialog (To tag) does not count */
    rq a = rq_of("ACK", "z9hG4bK-ack-x");
    a.to_tag = "other";
    feed_rq(&a);
    cr_assert_eq(H.nack, 1);
    advance_to(32000);
    cr_assert_eq(H.nend, 1);
    cr_assert_eq(H.ends[0].err, SIPSESS_ETIMEDOUT);
}

Test(txn_ist, accepted_ack_with_invite_branch_goes_to_tu)
{
    rq r = rq_of("INVITE", BR1);
    feed_rq(&r);
    cr_assert_eq(sipsess__st_reply(H.req[0], 202, NULL, "uas1", NULL), 0);
    rq a = rq_of("ACK", BR1);
    a.to_tag = "uas1";
    feed_rq(&a);
    cr_assert_eq(H.nack, 1);
    advance(32000);
    cr_assert_eq(H.ends[0].err, 0);
}

Test(txn_ist, transport_error_reaches_st_end_after_the_call)
{
    rq r = rq_of("INVITE", BR1);
    feed_rq(&r);
    sipsess__txn *st = H.req[0];
    H.fail_send = true;
    cr_assert_eq(sipsess__st_reply(st, 180, NULL, "uas1", NULL), SIPSESS_ETRANSPORT);
    /* still valid; Terminated; the TU hears it from the loop */
    cr_assert_eq(sipsess__txn_get_state(st), SIPSESS__TS_TERMINATED);
    cr_assert_eq(H.nend, 0);
    cr_assert_eq(sipsess__st_reply(st, 200, NULL, "uas1", NULL), SIPSESS_ESTATE);
    cr_assert_eq(sipsess__txl_count(H.txl), 0);
    advance(0);
    cr_assert_eq(H.nend, 1);
    cr_assert_eq(H.ends[0].err, SIPSESS_ETRANSPORT);
    advance(100000);
    cr_assert_eq(H.nend, 1);
}

Test(txn_ist, transport_error_on_timer_g)
{
    rq r = rq_of("INVITE", BR1);
    feed_rq(&r);
    cr_assert_eq(sipsess__st_reply(H.req[0], 500, NULL, "uas1", NULL), 0);
    H.fail_send = true;
    advance_to(500);
    cr_assert_eq(H.nend, 1);
    cr_assert_eq(H.ends[0].err, SIPSESS_ETRANSPORT);
    cr_assert_eq(H.ends[0].at, 500);
}

Test(txn_ist, async_transport_error)
{
    rq r = rq_of("INVITE", BR1);
    feed_rq(&r);
    cr_assert_eq(sipsess__st_reply(H.req[0], 180, NULL, "uas1", NULL), 0);
    sipsess__txl_on_send_error(H.txl, (uint64_t)H.sent[0].id, SIPSESS_ETRANSPORT);
    cr_assert_eq(H.nend, 1);
    cr_assert_eq(H.ends[0].err, SIPSESS_ETRANSPORT);
}

Test(txn_ist, respond_with_raw_bytes)
{
    rq r = rq_of("INVITE", BR1);
    feed_rq(&r);
    sipsess__txn *st = H.req[0];
    sipsess_msgbuilder *b = NULL;
    sipsess_msgbuilder_new(&b);
    cr_assert_eq(sipsess_msgbuilder_response_to(b, sipsess__txn_request(st), 302, NULL, "u"), 0);
    sipsess_msgbuilder_header(b, "Contact", "<sip:elsewhere@192.0.2.99>");
    sipsess_str out;
    sipsess_msgbuilder_finish(b, &out);
    cr_assert_eq(sipsess__st_respond(st, out.p, out.len), 0);
    cr_assert_lt(sipsess__st_respond(st, "garbage", 7), 0);
    sipsess_msgbuilder_free(b);
    cr_assert_eq(sipsess__txn_get_state(st), SIPSESS__TS_COMPLETED);
    cr_assert_eq(sipsess_msg_status(sipsess__txn_last_response(st)), 302);
    cr_assert_str_eq(hv(last_sent(), SIPSESS_HDR_CONTACT, 0), "<sip:elsewhere@192.0.2.99>");
}

Test(txn_ist, ack_before_a_final_is_absorbed)
{
    rq r = rq_of("INVITE", BR1);
    feed_rq(&r);
    rq a = rq_of("ACK", BR1);
    feed_rq(&a);
    cr_assert_eq(H.nack, 0);
    cr_assert_eq(sipsess__txn_get_state(H.req[0]), SIPSESS__TS_PROCEEDING);
}

Test(txn_ist, trying_100_at_zero_waits_for_the_loop)
{
    sipsess__txn_timers tm;
    sipsess__txn_timers_init(&tm);
    tm.trying_100_ms = 0;
    relayer(&tm);
    rq r = rq_of("INVITE", BR1);
    feed_rq(&r);
    cr_assert_eq(H.nsent, 0);
    advance(0);
    cr_assert_eq(H.nsent, 1);
    cr_assert_eq(sipsess_msg_status(last_sent()), 100);
    H.on_request = answer_180;
    rq r2 = rq_of("INVITE", BR2);
    feed_rq(&r2);
    advance(0);
    cr_assert_eq(H.nsent, 2);
    cr_assert_eq(sipsess_msg_status(last_sent()), 180);
}

/* ================================================================== */
/* non-INVITE server transaction                                       */

Test(txn_nist, trying_absorbs_retransmissions)
{
    rq r = rq_of("OPTIONS", BR1);
    feed_rq(&r);
    cr_assert_eq(H.nreq, 1);
    sipsess__txn *st = H.req[0];
    cr_assert_eq(sipsess__txn_get_kind(st), SIPSESS__NIST);
    cr_assert_eq(sipsess__txn_get_state(st), SIPSESS__TS_TRYING);
    advance_to(500);
    feed_rq(&r);
    advance_to(1500);
    feed_rq(&r);
    cr_assert_eq(H.nreq, 1);
    cr_assert_eq(H.nsent, 0, "no automatic 100 for non-INVITE, nothing to resend");
}

Test(txn_nist, proceeding_resends_last_provisional)
{
    rq r = rq_of("REGISTER", BR1);
    feed_rq(&r);
    sipsess__txn *st = H.req[0];
    cr_assert_eq(sipsess__st_reply(st, 100, NULL, NULL, NULL), 0);
    cr_assert_eq(sipsess__txn_get_state(st), SIPSESS__TS_PROCEEDING);
    feed_rq(&r);
    cr_assert_eq(count_sent(NULL, 100, 0), 2);
}

Test(txn_nist, completed_resends_final_until_timer_j)
{
    rq r = rq_of("OPTIONS", BR1);
    feed_rq(&r);
    sipsess__txn *st = H.req[0];
    advance_to(100);
    /* erratum 1470: a final straight from Trying */
    cr_assert_eq(sipsess__st_reply(st, 200, NULL, "uas1", "Allow: INVITE, ACK, OPTIONS\r\n"),
                 0);
    cr_assert_eq(sipsess__txn_get_state(st), SIPSESS__TS_COMPLETED);
    cr_assert_str_eq(hv(last_sent(), SIPSESS_HDR_ALLOW, 2), "OPTIONS");
    cr_assert_eq(sipsess__st_reply(st, 500, NULL, "uas1", NULL), SIPSESS_ESTATE);
    advance_to(600);
    feed_rq(&r);
    cr_assert_eq(count_sent(NULL, 200, 0), 2);
    cr_assert_eq(count_sent(NULL, 500, 0), 0);
    /* Timer J = 64*T1, no retransmission on its own */
    advance_to(100 + 31999);
    cr_assert_eq(count_sent(NULL, 200, 0), 2);
    cr_assert_eq(H.nend, 0);
    advance_to(100 + 32000);
    cr_assert_eq(H.nend, 1);
    cr_assert_eq(H.ends[0].err, 0);
    cr_assert_eq(sipsess__txl_count(H.txl), 0);
    /* A retransmission after J is a new request for the TU. */
    feed_rq(&r);
    cr_assert_eq(H.nreq, 2);
}

Test(txn_nist, reliable_timer_j_zero)
{
    H.reliable = true;
    rq r = rq_of("BYE", BR1);
    feed_rq(&r);
    cr_assert_eq(sipsess__st_reply(H.req[0], 200, NULL, NULL, NULL), 0);
    cr_assert_eq(sipsess__txl_count(H.txl), 1);
    advance(0);
    cr_assert_eq(H.nend, 1);
    cr_assert_eq(H.ends[0].at, 0);
}

Test(txn_nist, transport_error)
{
    rq r = rq_of("OPTIONS", BR1);
    feed_rq(&r);
    cr_assert_eq(sipsess__st_reply(H.req[0], 200, NULL, NULL, NULL), 0);
    H.fail_send = true;
    feed_rq(&r); /* the resend fails: "Transport Err." */
    cr_assert_eq(H.nend, 1);
    cr_assert_eq(H.ends[0].err, SIPSESS_ETRANSPORT);
}

/* ================================================================== */
/* Matching                                                            */

Test(txn_match, response_needs_branch_and_cseq_method)
{
    sipsess__txn *ct = ct_begin("INVITE");
    char text[1024];
    /* another branch: a stray, dropped */
    snprintf(text, sizeof text,
             "SIP/2.0 180 Ringing\r\nVia: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bKnope\r\n"
             "From: <sip:a@x>;tag=ft1\r\nTo: <sip:b@y>;tag=2\r\nCall-ID: " CALL_ID "\r\n"
             "CSeq: 1 INVITE\r\nContent-Length: 0\r\n\r\n");
    feed_text(text, false);
    cr_assert_eq(H.nct, 0);
    cr_assert_eq(sipsess__txn_get_state(ct), SIPSESS__TS_CALLING);
    /* our branch, but CSeq CANCEL: the CANCEL's transaction, not ours */
    sipsess_str br = sipsess__txn_branch(ct);
    snprintf(text, sizeof text,
             "SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP 192.0.2.10:5060;branch=%.*s\r\n"
             "From: <sip:a@x>;tag=ft1\r\nTo: <sip:b@y>;tag=2\r\nCall-ID: " CALL_ID "\r\n"
             "CSeq: 1 CANCEL\r\nContent-Length: 0\r\n\r\n",
             (int)br.len, br.p);
    feed_text(text, false);
    cr_assert_eq(H.nct, 0);
    /* our branch in another case: parameter values compare
     * case-insensitively (§7.3.1) */
    char up[64];
    snprintf(up, sizeof up, "%.*s", (int)br.len, br.p);
    for (char *p = up; *p; p++)
        *p = (char)(*p >= 'a' && *p <= 'z' ? *p - 32 : *p);
    snprintf(text, sizeof text,
             "SIP/2.0 180 Ringing\r\nVia: SIP/2.0/UDP 192.0.2.10:5060;branch=%s\r\n"
             "From: <sip:a@x>;tag=ft1\r\nTo: <sip:b@y>;tag=2\r\nCall-ID: " CALL_ID "\r\n"
             "CSeq: 1 INVITE\r\nContent-Length: 0\r\n\r\n",
             up);
    feed_text(text, false);
    cr_assert_eq(H.nct, 1);
}

Test(txn_match, stray_responses)
{
    const char *ok_inv =
        "SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bKgone\r\n"
        "From: <sip:a@x>;tag=1\r\nTo: <sip:b@y>;tag=2\r\nCall-ID: c\r\n"
        "CSeq: 1 INVITE\r\nContent-Length: 0\r\n\r\n";
    const char *ok_opt =
        "SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bKgone\r\n"
        "From: <sip:a@x>;tag=1\r\nTo: <sip:b@y>;tag=2\r\nCall-ID: c\r\n"
        "CSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n";
    const char *busy_inv =
        "SIP/2.0 486 Busy Here\r\nVia: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bKgone\r\n"
        "From: <sip:a@x>;tag=1\r\nTo: <sip:b@y>;tag=2\r\nCall-ID: c\r\n"
        "CSeq: 1 INVITE\r\nContent-Length: 0\r\n\r\n";
    feed_text(ok_inv, false);
    cr_assert_eq(H.nstray, 1, "RFC 6026: a stray 2xx to INVITE goes to the dialog layer");
    feed_text(ok_opt, false);
    feed_text(busy_inv, false);
    cr_assert_eq(H.nstray, 1, "other strays are dropped");
    cr_assert_eq(H.nsent, 0);
}

Test(txn_match, stray_ack_goes_to_tu)
{
    rq a = rq_of("ACK", "z9hG4bK-nothing");
    a.to_tag = "t";
    feed_rq(&a);
    cr_assert_eq(H.nack, 1);
    cr_assert_eq(H.nreq, 0);
    cr_assert_eq(H.nsent, 0);
    cr_assert_eq(sipsess__txl_count(H.txl), 0);
}

Test(txn_match, request_needs_branch_sentby_and_method)
{
    rq r = rq_of("OPTIONS", BR1);
    feed_rq(&r);
    rq other_sentby = r;
    other_sentby.sentby = "192.0.2.21:5062";
    feed_rq(&other_sentby);
    cr_assert_eq(H.nreq, 2, "another sent-by is another transaction");
    rq other_method = rq_of("INFO", BR1);
    feed_rq(&other_method);
    cr_assert_eq(H.nreq, 3, "another method is another transaction");
    rq other_branch = rq_of("OPTIONS", BR2);
    feed_rq(&other_branch);
    cr_assert_eq(H.nreq, 4, "nreq %zu", H.nreq);
    rq same = r;
    same.branch = "z9hG4bK-CLIENT-Branch-1"; /* case-insensitive value */
    same.sentby = "192.0.2.20:5062";
    cr_assert_eq(sipsess__st_reply(H.req[0], 200, NULL, NULL, NULL), 0);
    feed_rq(&same);
    cr_assert_eq(H.nreq, 4);
    cr_assert_eq(count_sent(NULL, 200, 0), 2);
    /* a sent-by without port is the default port: 5060 */
    rq p1 = rq_of("OPTIONS", "z9hG4bK-port");
    p1.sentby = "192.0.2.30";
    feed_rq(&p1);
    cr_assert_eq(sipsess__st_reply(H.req[4], 200, NULL, NULL, NULL), 0);
    rq p2 = p1;
    p2.sentby = "192.0.2.30:5060";
    feed_rq(&p2);
    cr_assert_eq(H.nreq, 5);
    cr_assert_eq(count_sent(NULL, 200, 0), 4);
}

Test(txn_match, cancel_target)
{
    rq inv = rq_of("INVITE", BR1);
    feed_rq(&inv);
    rq inv2 = rq_of("INVITE", BR2);
    feed_rq(&inv2);
    rq c = rq_of("CANCEL", BR1);
    feed_rq(&c);
    cr_assert_eq(H.nreq, 3);
    sipsess__txn *cst = H.req[2];
    cr_assert_eq(sipsess__txn_get_kind(cst), SIPSESS__NIST);
    cr_assert_eq(sipsess__st_cancel_target(H.txl, cst), H.req[0]);
    cr_assert_eq(sipsess__st_cancel_target(H.txl, H.req[1]), NULL, "not a CANCEL");
    /* the TU's answer: 200 to the CANCEL, 487 to the INVITE */
    cr_assert_eq(sipsess__st_reply(cst, 200, NULL, "uas1", NULL), 0);
    cr_assert_eq(sipsess__st_reply(H.req[0], 487, NULL, "uas1", NULL), 0);
    /* a CANCEL for nothing */
    rq c2 = rq_of("CANCEL", "z9hG4bK-unknown");
    feed_rq(&c2);
    cr_assert_eq(sipsess__st_cancel_target(H.txl, H.req[3]), NULL);
    /* same branch, other sent-by: not it either (§17.2.3) */
    rq c3 = rq_of("CANCEL", BR2);
    c3.sentby = "198.51.100.1:5060";
    feed_rq(&c3);
    cr_assert_eq(sipsess__st_cancel_target(H.txl, H.req[4]), NULL);
}

/* §8.2.2.2: the live server transaction of the same request (no To tag;
 * same From tag, Call-ID and CSeq with method) that arrived on another
 * branch. */
Test(txn_match, merged_request_lookup)
{
    rq inv = rq_of("INVITE", BR1);
    feed_rq(&inv);
    cr_assert_eq(H.nreq, 1);
    cr_assert_null(sipsess__st_merged(H.txl, H.req[0]));
    feed_rq(&inv); /* a retransmission: absorbed, no new transaction */
    cr_assert_eq(H.nreq, 1);
    rq inv2 = rq_of("INVITE", BR2);
    feed_rq(&inv2);
    cr_assert_eq(H.nreq, 2);
    cr_assert_eq(sipsess__st_merged(H.txl, H.req[1]), H.req[0]);
    /* not merged: CANCEL, another method, a To tag, another From tag,
     * another Call-ID, another CSeq */
    rq c = rq_of("CANCEL", BR1);
    feed_rq(&c);
    rq msg = rq_of("MESSAGE", "z9hG4bK-m3");
    feed_rq(&msg);
    rq tagged = rq_of("INVITE", "z9hG4bK-m4");
    tagged.to_tag = "tt";
    feed_rq(&tagged);
    rq ft = rq_of("INVITE", "z9hG4bK-m5");
    ft.from_tag = "FT9";
    feed_rq(&ft);
    rq cid = rq_of("INVITE", "z9hG4bK-m6");
    cid.callid = "srv-call-2@192.0.2.20";
    feed_rq(&cid);
    rq cs = rq_of("INVITE", "z9hG4bK-m7");
    cs.cseq = 8;
    feed_rq(&cs);
    cr_assert_eq(H.nreq, 8);
    for (size_t i = 2; i < 8; i++)
        cr_assert_null(sipsess__st_merged(H.txl, H.req[i]), "request %zu", i);
    /* an RFC 2543 request (no cookie) with the same fields is merged too */
    rq old = rq_of("INVITE", NULL);
    feed_rq(&old);
    cr_assert_eq(H.nreq, 9);
    sipsess__txn *m = sipsess__st_merged(H.txl, H.req[8]);
    cr_assert(m == H.req[0] || m == H.req[1]);
    /* once those transactions have ended, nothing is merged any more */
    for (size_t i = 0; i < 9; i++)
        if (sipsess__txn_get_state(H.req[i]) != SIPSESS__TS_TERMINATED &&
            sipsess__txn_get_state(H.req[i]) != SIPSESS__TS_COMPLETED)
            cr_assert_eq(sipsess__st_reply(H.req[i], 486, NULL, "uas1", NULL), 0);
    advance(100000);
    cr_assert_eq(sipsess__txl_count(H.txl), 0);
    rq inv8 = rq_of("INVITE", "z9hG4bK-m8");
    feed_rq(&inv8);
    cr_assert_eq(H.nreq, 10);
    cr_assert_null(sipsess__st_merged(H.txl, H.req[9]));
}

Test(txn_match, rfc2543_invite_ack_and_cancel)
{
    /* No magic cookie: §17.2.3's RFC 2543 rules. */
    rq inv = rq_of("INVITE", NULL);
    feed_rq(&inv);
    cr_assert_eq(H.nreq, 1);
    sipsess__txn *st = H.req[0];
    cr_assert_eq(sipsess__st_reply(st, 180, NULL, "uas7", NULL), 0);
    feed_rq(&inv);
    cr_assert_eq(H.nreq, 1, "same R-URI, tags, Call-ID, CSeq, top Via: a retransmission");
    cr_assert_eq(count_sent(NULL, 180, 0), 2);
    rq other_cseq = inv;
    other_cseq.cseq = 8;
    feed_rq(&other_cseq);
    cr_assert_eq(H.nreq, 2);
    rq other_uri = inv;
    other_uri.ruri = "sip:carol@192.0.2.10";
    feed_rq(&other_uri);
    cr_assert_eq(H.nreq, 3);
    rq equal_uri = inv;
    equal_uri.ruri = "sip:bob@192.0.2.10;transport=udp"; /* §19.1.4: not equal */
    feed_rq(&equal_uri);
    cr_assert_eq(H.nreq, 4);
    /* CANCEL (no cookie) finds the INVITE */
    rq c = rq_of("CANCEL", NULL);
    feed_rq(&c);
    cr_assert_eq(H.nreq, 5);
    cr_assert_eq(sipsess__st_cancel_target(H.txl, H.req[4]), st);
    /* ACK: To tag must be the one of the response sent */
    cr_assert_eq(sipsess__st_reply(st, 486, NULL, "uas7", NULL), 0);
    rq bad_ack = rq_of("ACK", NULL);
    bad_ack.cseq_method = "ACK";
    bad_ack.to_tag = "wrong";
    feed_rq(&bad_ack);
    cr_assert_eq(H.nack, 1, "no match: a stray ACK for the TU");
    cr_assert_eq(sipsess__txn_get_state(st), SIPSESS__TS_COMPLETED);
    rq ack = bad_ack;
    ack.to_tag = "uas7";
    feed_rq(&ack);
    cr_assert_eq(H.nack, 1);
    cr_assert_eq(sipsess__txn_get_state(st), SIPSESS__TS_CONFIRMED);
}

Test(txn_match, rfc2543_other_methods_compare_method)
{
    rq r = rq_of("OPTIONS", "old-2543-branch");
    feed_rq(&r);
    rq info = r;
    info.method = info.cseq_method = "INFO";
    feed_rq(&info);
    cr_assert_eq(H.nreq, 2);
    feed_rq(&r);
    feed_rq(&info);
    cr_assert_eq(H.nreq, 2);
}

Test(txn_match, malformed_request_still_gets_a_transaction)
{
    rq r = rq_of("OPTIONS", BR1);
    r.extra = "Max-Forwards: lots\r\nExpires: never\r\n";
    feed_rq(&r);
    cr_assert_eq(H.nreq, 1);
    sipsess__txn *st = H.req[0];
    cr_assert_neq(sipsess_msg_error(sipsess__txn_request(st), NULL), 0);
    cr_assert_eq(sipsess__st_reply(st, 400, NULL, "x", NULL), 0);
    cr_assert_eq(sipsess_msg_status(last_sent()), 400);
    feed_rq(&r);
    cr_assert_eq(H.nreq, 1, "and its retransmissions match it");
    cr_assert_eq(count_sent(NULL, 400, 0), 2);
}

Test(txn_match, many_transactions_grow_the_table)
{
    enum { N = 3000 };
    char br[64];
    for (int i = 0; i < N; i++) {
        snprintf(br, sizeof br, "z9hG4bK-many-%d", i);
        rq r = rq_of("OPTIONS", br);
        feed_rq(&r);
    }
    cr_assert_eq(H.nreq, N);
    cr_assert_eq(sipsess__txl_count(H.txl), N);
    for (int i = 0; i < N; i++)
        cr_assert_eq(sipsess__st_reply(H.req[i], 200, NULL, NULL, NULL), 0);
    /* every retransmission still finds its transaction */
    for (int i = 0; i < N; i += 7) {
        snprintf(br, sizeof br, "z9hG4bK-many-%d", i);
        rq r = rq_of("OPTIONS", br);
        feed_rq(&r);
    }
    cr_assert_eq(H.nreq, N);
    cr_assert_eq(count_sent(NULL, 200, 0), N + (N + 6) / 7);
    advance(32000);
    cr_assert_eq(sipsess__txl_count(H.txl), 0);
}

Test(txn_match, limit_answers_503)
{
    sipsess__txn_timers tm;
    sipsess__txn_timers_init(&tm);
    tm.max_transactions = 2;
    relayer(&tm);
    rq r1 = rq_of("OPTIONS", BR1), r2 = rq_of("OPTIONS", BR2), r3 = rq_of("INVITE", "z9hG4bK3");
    feed_rq(&r1);
    feed_rq(&r2);
    feed_rq(&r3);
    cr_assert_eq(H.nreq, 2);
    cr_assert_eq(sipsess__txl_count(H.txl), 2);
    cr_assert_eq(H.nsent, 1);
    const sipsess_msg *m = last_sent();
    cr_assert_eq(sipsess_msg_status(m), 503);
    cr_assert_not_null(hv(m, SIPSESS_HDR_RETRY_AFTER, 0));
    cr_assert_str_eq(hv(m, SIPSESS_HDR_CSEQ, 0), "7 INVITE");
    cr_assert_neq(sipsess_nameaddr_tag(sipsess_msg_hdr(m, SIPSESS_HDR_TO, 0)).len, 0);
    /* retransmissions of existing transactions still match */
    feed_rq(&r1);
    cr_assert_eq(H.nreq, 2);
    /* an ACK never gets a response */
    rq a = rq_of("ACK", "z9hG4bK-x");
    feed_rq(&a);
    cr_assert_eq(H.nack, 1);
    cr_assert_eq(H.nsent, 1);
    /* room again once one ends */
    cr_assert_eq(sipsess__st_reply(H.req[0], 200, NULL, NULL, NULL), 0);
    advance(32000);
    feed_rq(&r3);
    cr_assert_eq(H.nreq, 3);
}

/* ================================================================== */
/* Misc: Via, timers, re-entrancy                                      */

Test(txn_misc, via_and_branch)
{
    sipsess__txn *a = ct_begin("OPTIONS");
    sipsess__txn *b = ct_begin("OPTIONS");
    sipsess_str va = sipsess__ct_via(a), ba = sipsess__txn_branch(a);
    char want[128];
    snprintf(want, sizeof want, "SIP/2.0/UDP 192.0.2.10:5060;branch=%.*s;rport", (int)ba.len,
             ba.p);
    cr_assert_eq(va.len, strlen(want));
    cr_assert_eq(memcmp(va.p, want, va.len), 0);
    cr_assert_geq(ba.len, 7 + 16);
    cr_assert_eq(memcmp(ba.p, "z9hG4bK", 7), 0);
    for (size_t i = 7; i < ba.len; i++)
        cr_assert(isalnum((unsigned char)ba.p[i]));
    sipsess_str bb = sipsess__txn_branch(b);
    cr_assert(ba.len != bb.len || memcmp(ba.p, bb.p, ba.len) != 0, "branches are unique");
    H.reliable = true;
    sipsess__txn *c = ct_begin("OPTIONS");
    cr_assert_eq(memcmp(sipsess__ct_via(c).p, "SIP/2.0/TCP ", 12), 0);
    cr_assert_eq(sipsess__txn_rx(c), NULL);
    cr_assert_str_eq(sipsess__txn_state_name(SIPSESS__TS_ACCEPTED), "Accepted");
}

Test(txn_misc, custom_timers)
{
    sipsess__txn_timers tm;
    sipsess__txn_timers_init(&tm);
    tm.t1 = 100;
    tm.t2 = 400;
    tm.t4 = 1000;
    tm.trying_100_ms = 50;
    relayer(&tm);
    /* ICT: A 100, 200, 400, 800, 1600, 3200; B at 6400 */
    ct_begin("INVITE");
    /* NICT: E 100, 200, 400, 400, ...; F at 6400 */
    ct_begin("OPTIONS");
    advance_to(6400);
    uint64_t want_a[] = {0, 100, 300, 700, 1500, 3100, 6300}, got[64];
    assert_times("INVITE", got, sent_times("INVITE", 0, got, 64), want_a, 7);
    uint64_t want_e[] = {0,    100,  300,  700,  1100, 1500, 1900, 2300,
                         2700, 3100, 3500, 3900, 4300, 4700, 5100, 5500, 5900, 6300};
    assert_times("OPTIONS", got, sent_times("OPTIONS", 0, got, 64), want_e, 18);
    cr_assert_eq(H.nct, 2);
    cr_assert_eq(H.cts[0].err, SIPSESS_ETIMEDOUT);
    cr_assert_eq(H.cts[1].err, SIPSESS_ETIMEDOUT);

    /* IST: 100 at 50 ms; G 100, 200, 400, 400...; H at 6400; then a
     * second one for Timer I = T4 */
    uint64_t t0 = now();
    rq r = rq_of("INVITE", BR1);
    feed_rq(&r);
    advance(50);
    cr_assert_eq(sipsess_msg_status(last_sent()), 100);
    cr_assert_eq(sipsess__st_reply(H.req[0], 404, NULL, "u", NULL), 0);
    advance_to(t0 + 50 + 6400);
    cr_assert_eq(H.nend, 1);
    cr_assert_eq(H.ends[0].err, SIPSESS_ETIMEDOUT);
    cr_assert_eq(H.ends[0].at, t0 + 50 + 6400);
    size_t n404 = sent_times(NULL, 404, got, 64);
    cr_assert_eq(n404, 1 + 17);
    cr_assert_eq(got[1] - got[0], 100);
    cr_assert_eq(got[2] - got[1], 200);
    cr_assert_eq(got[3] - got[2], 400);
    cr_assert_eq(got[4] - got[3], 400);

    rq r2 = rq_of("INVITE", BR2);
    feed_rq(&r2);
    cr_assert_eq(sipsess__st_reply(H.req[1], 404, NULL, "u", NULL), 0);
    rq a = rq_of("ACK", BR2);
    a.to_tag = "u";
    uint64_t t1 = now();
    feed_rq(&a);
    advance(999);
    cr_assert_eq(H.nend, 1);
    advance(1);
    cr_assert_eq(H.nend, 2);
    cr_assert_eq(H.ends[1].at, t1 + 1000);

    /* Timer D stays at least 32 s; NICT K = T4 */
    uint64_t t2 = now();
    sipsess__txn *ct = ct_begin("INVITE");
    feed_resp(last_sent(), 500, "x");
    sipsess__txn *nct = ct_begin("OPTIONS");
    feed_resp(last_sent(), 200, "x");
    advance_to(t2 + 1000);
    cr_assert_eq(sipsess__txl_count(H.txl), 1);
    cr_assert_eq(sipsess__txn_get_state(ct), SIPSESS__TS_COMPLETED);
    (void)nct;
    advance_to(t2 + 32000);
    cr_assert_eq(sipsess__txl_count(H.txl), 0);
}

Test(txn_misc, bad_timers_refused)
{
    sipsess__txn_timers tm;
    sipsess__txn_timers_init(&tm);
    cr_assert_eq(tm.t1, 500);
    cr_assert_eq(tm.t2, 4000);
    cr_assert_eq(tm.t4, 5000);
    cr_assert_eq(tm.trying_100_ms, 200);
    sipsess__txl *x = NULL;
    sipsess__txl_io io = {io_route_request, io_route_response, io_send, io_sentby, io_reliable,
                          NULL};
    tm.t1 = 0;
    cr_assert_eq(sipsess__txl_new(H.l, NULL, &io, &tm, &TU, &H, &x), SIPSESS_EINVAL);
    tm.t1 = 1000;
    tm.t2 = 500;
    cr_assert_eq(sipsess__txl_new(H.l, NULL, &io, &tm, &TU, &H, &x), SIPSESS_EINVAL);
    cr_assert_eq(sipsess__txl_new(H.l, NULL, NULL, NULL, &TU, &H, &x), SIPSESS_EINVAL);
    cr_assert_null(x);
}

/* Re-entrancy: the TU abandons inside its own callback, starts new
 * transactions from a callback, and ends a server transaction's life
 * from st_end by answering (refused). */
static void abandon_on_provisional(sipsess__txn *ct, const sipsess_msg *resp, int err)
{
    (void)err;
    if (resp && sipsess_msg_status(resp) < 200)
        sipsess__ct_abandon(ct);
}

Test(txn_misc, abandon_inside_callback)
{
    H.on_ct = abandon_on_provisional;
    ct_begin("INVITE");
    feed_resp(first_sent("INVITE"), 180, "x");
    cr_assert_eq(H.nct, 1);
    cr_assert_eq(sipsess__txl_count(H.txl), 0);
    feed_resp(first_sent("INVITE"), 200, "x");
    cr_assert_eq(H.nstray, 1);
}

static void new_ct_on_final(sipsess__txn *ct, const sipsess_msg *resp, int err)
{
    (void)ct;
    (void)err;
    if (resp && sipsess_msg_status(resp) >= 200 && H.nct < 3)
        ct_begin("OPTIONS");
    if (!resp && H.nct < 3)
        ct_begin("OPTIONS");
}

Test(txn_misc, new_transactions_from_callbacks)
{
    H.on_ct = new_ct_on_final;
    ct_begin("OPTIONS");
    feed_resp(first_sent("OPTIONS"), 200, "x");
    cr_assert_eq(count_sent("OPTIONS", 0, 0), 2);
    advance(32000); /* the second one times out and starts a third */
    cr_assert_geq(count_sent("OPTIONS", 0, 0), 3);
}

static void reply_in_end(sipsess__txn *st, int err)
{
    (void)err;
    cr_assert_eq(sipsess__st_reply(st, 200, NULL, NULL, NULL), SIPSESS_ESTATE);
}

static void reply_200_and_more(sipsess__txn *st)
{
    cr_assert_eq(sipsess__st_reply(st, 200, NULL, "t", NULL), 0);
    cr_assert_eq(sipsess__txn_get_state(st), SIPSESS__TS_COMPLETED);
    /* on TCP Timer J is 0: still valid inside this callback */
    sipsess__txn_set_user(st, (void *)st);
    cr_assert_eq(sipsess__txn_get_user(st), (void *)st);
    cr_assert_eq(sipsess__txn_rx(st)->listener, 0);
}

Test(txn_misc, respond_inside_request_and_end)
{
    H.reliable = true;
    H.on_request = reply_200_and_more;
    H.on_end = reply_in_end;
    rq r = rq_of("MESSAGE", BR1);
    feed_rq(&r);
    cr_assert_eq(H.nsent, 1);
    advance(0);
    cr_assert_eq(H.nend, 1);
}

static void free_layer_in_callback(sipsess__txn *st)
{
    (void)st;
    sipsess__txl_free(H.txl);
    H.txl = NULL;
}

Test(txn_misc, free_layer_inside_callback)
{
    rq r = rq_of("INVITE", BR1);
    H.on_request = free_layer_in_callback;
    sipsess__txl *txl = H.txl;
    sipsess_parse_opts o;
    sipsess_parse_opts_init(&o);
    o.flags = SIPSESS_PARSE_LENIENT;
    (void)r;
    /* feed by hand: feed_rq uses H.txl, which the callback clears */
    const char *text = "OPTIONS sip:bob@192.0.2.10 SIP/2.0\r\n"
                       "Via: SIP/2.0/UDP 192.0.2.20:5062;branch=z9hG4bKfree\r\n"
                       "From: <sip:a@x>;tag=1\r\nTo: <sip:b@y>\r\nCall-ID: c\r\n"
                       "CSeq: 1 OPTIONS\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n";
    sipsess__rx rx;
    memset(&rx, 0, sizeof rx);
    cr_assert_eq(sipsess_msg_parse(text, strlen(text), &o, &rx.msg, NULL), 0);
    set_addr(&rx.src, "192.0.2.20", 5062, false);
    sipsess__txl_on_rx(txl, &rx);
    cr_assert_eq(H.nreq, 1);
    cr_assert_null(H.txl);
    advance(100000); /* no timer of the freed layer may fire */
}

Test(txn_misc, free_with_live_transactions)
{
    ct_begin("INVITE");
    ct_begin("OPTIONS");
    rq r = rq_of("INVITE", BR1);
    feed_rq(&r);
    rq r2 = rq_of("OPTIONS", BR2);
    feed_rq(&r2);
    cr_assert_eq(sipsess__txl_count(H.txl), 4);
    sipsess__txl_free(H.txl);
    H.txl = NULL;
    advance(100000);
    cr_assert_eq(H.nct, 0);
    cr_assert_eq(H.nend, 0);
}

Test(txn_misc, reply_helpers)
{
    rq r = rq_of("OPTIONS", BR1);
    feed_rq(&r);
    sipsess__txn *st = H.req[0];
    cr_assert_eq(sipsess__st_reply(st, 200, "Fine", "tt", "X-A: 1\r\nX-B:  two words \r\n"), 0);
    const sipsess_msg *m = last_sent();
    cr_assert_eq(sipsess_msg_status(m), 200);
    sipsess_str reason = sipsess_msg_reason(m);
    cr_assert_eq(reason.len, 4);
    cr_assert_eq(memcmp(reason.p, "Fine", 4), 0);
    cr_assert_str_eq(hv(m, SIPSESS_HDR_TO, 0), "<sip:bob@192.0.2.10>;tag=tt");
    const sipsess_hdr *xb = sipsess_msg_hdr_by_name(m, "X-B", 0);
    cr_assert_not_null(xb);
    cr_assert_eq(sipsess_hdr_value(xb).len, 9);
    cr_assert_eq(sipsess__st_reply(st, 200, NULL, NULL, "no colon here"), SIPSESS_EINVAL);
    /* the rx of a server transaction */
    const sipsess__rx *rx = sipsess__txn_rx(st);
    cr_assert_not_null(rx);
    cr_assert_eq(rx->msg, sipsess__txn_request(st));
    sipsess_str b = sipsess__txn_branch(st);
    cr_assert_eq(b.len, strlen(BR1));
    cr_assert_eq(memcmp(b.p, BR1, b.len), 0);
}

Test(txn_misc, via_received_rewrite)
{
    /* sent-by host differs from the source, no rport: received only */
    const char *text = "OPTIONS sip:bob@192.0.2.10 SIP/2.0\r\n"
                       "Via: SIP/2.0/UDP client.example.com:5070 ; branch=z9hG4bKrw ;"
                       " received=10.0.0.1;x=\"a;b\"\r\n"
                       "Via: SIP/2.0/UDP proxy.example.com\r\n"
                       "From: <sip:a@x>;tag=1\r\nTo: <sip:b@y>\r\nCall-ID: c\r\n"
                       "CSeq: 1 OPTIONS\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n";
    feed_text(text, true);
    cr_assert_eq(sipsess__st_reply(H.req[0], 200, NULL, "t", NULL), 0);
    const sipsess_msg *m = last_sent();
    cr_assert_str_eq(hv(m, SIPSESS_HDR_VIA, 0),
                     "SIP/2.0/UDP client.example.com:5070 ; branch=z9hG4bKrw ;x=\"a;b\""
                     ";received=192.0.2.20");
    cr_assert_str_eq(hv(m, SIPSESS_HDR_VIA, 1), "SIP/2.0/UDP proxy.example.com");
    cr_assert_eq(sipsess_msg_hdr_num(m, SIPSESS_HDR_VIA), 2);
}

Test(txn_misc, request_without_via_dropped)
{
    const char *text = "OPTIONS sip:bob@192.0.2.10 SIP/2.0\r\n"
                       "From: <sip:a@x>;tag=1\r\nTo: <sip:b@y>\r\nCall-ID: c\r\n"
                       "CSeq: 1 OPTIONS\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n";
    feed_text(text, true);
    cr_assert_eq(H.nreq, 0);
    cr_assert_eq(H.nsent, 0);
}

Test(txn_misc, null_arguments)
{
    sipsess__txl_free(NULL);
    cr_assert_eq(sipsess__txl_count(NULL), 0);
    cr_assert_eq(sipsess__st_reply(NULL, 200, NULL, NULL, NULL), SIPSESS_EINVAL);
    cr_assert_eq(sipsess__st_respond(NULL, "x", 1), SIPSESS_EINVAL);
    cr_assert_eq(sipsess__ct_start(NULL, "x", 1), SIPSESS_EINVAL);
    cr_assert_eq(sipsess__ct_cancel(NULL, ct_cb, NULL), SIPSESS_EINVAL);
    sipsess__ct_abandon(NULL);
    cr_assert_eq(sipsess__st_cancel_target(H.txl, NULL), NULL);
    cr_assert_eq(sipsess__txn_get_user(NULL), NULL);
    cr_assert_eq(sipsess__ct_via(NULL).p, NULL);
    sipsess__txl_on_send_error(NULL, 1, 0);
}

/* ================================================================== */
/* End to end: two layers over the transport's in-memory network, with
 * the default io (the transport itself) and datagram loss.            */

static struct e2e {
    sipsess__loop *l;
    sipsess_memnet *net;
    sipsess__tp *tpa, *tpb;
    sipsess__txl *a, *b;
    int drop_req, drop_resp, drop_ack; /* datagrams still to drop */
    unsigned b_answer;                  /* status b's TU answers with */
    size_t nreq_b;
    unsigned final_status;
    int final_err;
    uint64_t final_at;
    size_t nend_b;
    int end_err_b;
    uint64_t end_at_b;
} E;

static void e_rx_a(void *arg, sipsess__rx *rx)
{
    (void)arg;
    sipsess__txl_on_rx(E.a, rx);
}

static void e_rx_b(void *arg, sipsess__rx *rx)
{
    (void)arg;
    sipsess__txl_on_rx(E.b, rx);
}

static void e_err_a(void *arg, uint64_t id, int err)
{
    (void)arg;
    sipsess__txl_on_send_error(E.a, id, err);
}

static void e_err_b(void *arg, uint64_t id, int err)
{
    (void)arg;
    sipsess__txl_on_send_error(E.b, id, err);
}

static int e_filter(const char *from, const char *to, const char *data, size_t len, void *ud)
{
    (void)from;
    (void)to;
    (void)ud;
    (void)len;
    int *counter = strncmp(data, "SIP/2.0 ", 8) == 0 ? &E.drop_resp
                   : strncmp(data, "ACK ", 4) == 0   ? &E.drop_ack
                                                     : &E.drop_req;
    if (*counter > 0) {
        (*counter)--;
        return 1;
    }
    return 0;
}

static void e_request_b(void *arg, sipsess__txn *st)
{
    (void)arg;
    E.nreq_b++;
    cr_assert_eq(sipsess__st_reply(st, E.b_answer, NULL, "uasE", NULL), 0);
}

static void e_request_a(void *arg, sipsess__txn *st)
{
    (void)arg;
    (void)st;
    cr_assert_fail("a gets no requests");
}

static void e_end_b(void *arg, sipsess__txn *st, int err)
{
    (void)arg;
    (void)st;
    E.nend_b++;
    E.end_err_b = err;
    E.end_at_b = sipsess__loop_now(E.l);
}

static void e_ct(void *arg, sipsess__txn *ct, const sipsess_msg *resp, int err)
{
    (void)arg;
    (void)ct;
    if (resp && sipsess_msg_status(resp) < 200)
        return;
    E.final_status = resp ? sipsess_msg_status(resp) : 0;
    E.final_err = err;
    E.final_at = sipsess__loop_now(E.l);
}

static void e2e_setup(void)
{
    memset(&E, 0, sizeof E);
    cr_assert_eq(sipsess__loop_new(true, &E.l), 0);
    cr_assert_eq(sipsess_memnet_new(&E.net), 0);
    cr_assert_eq(sipsess_memnet_set_filter(E.net, e_filter, NULL), 0);
    sipsess__tp_config c;
    sipsess__tp_config_init(&c);
    c.memnet = E.net;
    cr_assert_eq(sipsess__tp_new(E.l, &c, e_rx_a, e_err_a, NULL, &E.tpa), 0);
    cr_assert_eq(sipsess__tp_new(E.l, &c, e_rx_b, e_err_b, NULL, &E.tpb), 0);
    cr_assert_geq(sipsess__tp_listen(E.tpa, "mem:5080"), 0);
    cr_assert_geq(sipsess__tp_listen(E.tpb, "mem:5070"), 0);
    static const sipsess__tu tua = {e_request_a, NULL, NULL, NULL};
    static const sipsess__tu tub = {e_request_b, NULL, NULL, e_end_b};
    cr_assert_eq(sipsess__txl_new(E.l, E.tpa, NULL, NULL, &tua, NULL, &E.a), 0);
    cr_assert_eq(sipsess__txl_new(E.l, E.tpb, NULL, NULL, &tub, NULL, &E.b), 0);
}

static void e2e_teardown(void)
{
    sipsess__txl_free(E.a);
    sipsess__txl_free(E.b);
    sipsess__tp_free(E.tpa);
    sipsess__tp_free(E.tpb);
    sipsess__loop_free(E.l);
    sipsess_memnet_free(E.net);
}

TestSuite(txn_e2e, .init = e2e_setup, .fini = e2e_teardown);

static sipsess__txn *e_send(const char *method)
{
    const char *target = "sip:bob@127.0.0.1:5070;transport=mem";
    sipsess_uri *u = NULL;
    cr_assert_eq(sipsess_uri_parse(target, strlen(target), &u), 0);
    sipsess__txn *ct = NULL;
    int rc = sipsess__ct_new(E.a, sipsess_method_from(method, strlen(method)), u, 300, e_ct,
                             NULL, &ct);
    sipsess_uri_free(u);
    cr_assert_eq(rc, 0, "ct_new: %s", sipsess_errname(rc));
    sipsess_str via = sipsess__ct_via(ct);
    cr_assert_eq(memcmp(via.p, "SIP/2.0/MEM 127.0.0.1:5080;branch=z9hG4bK", 41), 0,
                 "%.*s", (int)via.len, via.p);
    char req[1024];
    int n = snprintf(req, sizeof req,
                     "%s %s SIP/2.0\r\nVia: %.*s\r\nMax-Forwards: 70\r\n"
                     "From: <sip:alice@127.0.0.1>;tag=e1\r\nTo: <sip:bob@127.0.0.1>\r\n"
                     "Call-ID: e2e-1\r\nCSeq: 1 %s\r\nContent-Length: 0\r\n\r\n",
                     method, target, (int)via.len, via.p, method);
    cr_assert_eq(sipsess__ct_start(ct, req, (size_t)n), 0);
    return ct;
}

/* Advance, then let datagrams posted at that instant (a reply sent while
 * a request was being delivered) arrive: the loop runs one round of
 * posted work per call. */
static void e_advance(uint64_t ms)
{
    cr_assert_geq(sipsess__loop_advance(E.l, ms), 0);
    for (int i = 0; i < 4; i++)
        cr_assert_geq(sipsess__loop_advance(E.l, 0), 0);
}

Test(txn_e2e, options_through_loss)
{
    E.b_answer = 200;
    E.drop_req = 2;  /* the request at 0 and 500 */
    E.drop_resp = 1; /* the first 200 (answering the request of 1500) */
    e_send("OPTIONS");
    e_advance(3499);
    cr_assert_eq(E.final_status, 0);
    cr_assert_eq(E.nreq_b, 1);
    e_advance(1);
    /* the retransmission of 3500 meets b's Completed NIST, which resends
     * its 200 */
    cr_assert_eq(E.final_status, 200);
    cr_assert_eq(E.final_at, 3500);
    cr_assert_eq(E.nreq_b, 1);
    e_advance(40000);
    cr_assert_eq(E.nend_b, 1);
    cr_assert_eq(E.end_err_b, 0);
    cr_assert_eq(E.end_at_b, 1500 + 32000, "Timer J from the first 200");
    cr_assert_eq(sipsess__txl_count(E.a), 0);
    cr_assert_eq(sipsess__txl_count(E.b), 0);
}

Test(txn_e2e, invite_rejected_with_lost_ack)
{
    E.b_answer = 486;
    E.drop_ack = 1;
    sipsess__txn *ct = e_send("INVITE");
    e_advance(0);
    cr_assert_eq(E.final_status, 486);
    cr_assert_eq(sipsess__txn_get_state(ct), SIPSESS__TS_COMPLETED);
    /* b's Timer G resends the 486 at 500; a's ICT ACKs again */
    e_advance(500);
    cr_assert_eq(E.nend_b, 0);
    /* Confirmed at 500, Timer I = T4 */
    e_advance(4999);
    cr_assert_eq(E.nend_b, 0);
    e_advance(1);
    cr_assert_eq(E.nend_b, 1);
    cr_assert_eq(E.end_err_b, 0);
    cr_assert_eq(E.end_at_b, 5500);
    e_advance(40000);
    cr_assert_eq(sipsess__txl_count(E.a), 0);
}
