/*
 * libFuzzer target for a whole UA: transactions, dialogs and sessions fed
 * datagrams from a peer on a memnet, on the virtual clock.
 *
 * Each input makes a fresh memnet, a UA listening on mem:5060 (virtual
 * clock, delegates that answer in ways the input chooses) and a raw peer
 * on mem:5070 (a bare transport, as in tests/c/test_session.c) that sends
 * the input's datagrams to the UA and records what the UA sends back. At
 * the end the clock moves 10 minutes on, so every timer (64*T1, the kept
 * request's 170 s, the REFER subscription's 60 s) fires, and everything
 * is freed: ASan then reports any leak.
 *
 * Input layout (text-friendly: seeds are SIP messages, see
 * fuzz/mkseeds.py):
 *   [%%CONFIG\n] DATAGRAM { %%CONTROL\n DATAGRAM }
 * A line starting with "%%" is a control line; the bytes between control
 * lines are one datagram each (an input without "%%" is one datagram, so
 * the conformance messages are inputs too).
 *   CONFIG   (only as the very first line) byte 0 configures the UA:
 *            bits 0-1 100rel mode (off, supported, required, supported),
 *            bit 2 auto-ACK off, bit 3 auto-PRACK off, bit 4 accept
 *            forks, bit 5 small limits (2 sessions, 2 pending, 8
 *            transactions), bit 6 log and trace sinks on, bit 7 fast
 *            timers (T1 50 ms). The other bytes start the action tape.
 *   CONTROL  "%%!" N0 [N1]: the (N0 + 256*N1 + 1)th allocation of the
 *            library from now fails (once; sipsess_set_allocator), so the
 *            ENOMEM paths run in any state; nothing else happens.
 *            Otherwise byte 0: how long the clock moves before the next datagram
 *            (a hex digit '0'..'9', 'a'..'f', or else the byte's low four
 *            bits, indexes {0,1,10,50,100,200,500,1000,2000,4000,5000,
 *            8000,16000,32000,64000,180000} ms); the other bytes go on the
 *            action tape.
 * The action tape is read, one byte per decision, by the delegates (how
 * to answer an INVITE or an in-dialog request, which session operation to
 * start from a callback) and once after each datagram (answer a kept
 * request, start a call or an in-dialog request, ...); past its end every
 * byte reads 0: accept, do nothing more.
 *
 * Before a datagram is sent these are replaced, from what the UA sent
 * last: $T the UA's tag in its last response (To tag: dialogs the peer
 * started), $F its tag in its last request (From tag: dialogs the UA
 * started), $I the Call-ID of its last request, $B the Via branch, $C the
 * CSeq number and $M the CSeq method of its last request but ACK, $V the
 * branch and $N the CSeq number of its last INVITE, $K the RSeq of its
 * last reliable 1xx; then $L by the length of the datagram's
 * body (after the first empty line). So a seed can answer or continue a
 * dialog whatever tags the UA chose, and a mutated body keeps a right
 * Content-Length.
 *
 * UA_FUZZ_TRACE=1 in the environment prints every datagram exchanged.
 *
 * Invariants besides "no crash, no leak, no UB, no hang": every datagram
 * the UA sends parses (leniently: a response may echo a malformed header
 * of the request it answers); the session states, signaling states and
 * causes reported are in range and consistent (a Terminated session has a
 * cause and a Closed signaling state; sipsess_ua_free ends every session);
 * once the kept requests are dropped and every timer had its time, the UA
 * is idle: ten more minutes fire nothing and send nothing.
 */
#include "fuzz_util.h"
#include "msg_walk.h"

#include <stdbool.h>

#include "runtime/loop.h"
#include "transport/transport.h"

#define UA_PORT 5060
#define PEER_PORT 5070
#define MAX_SEGMENTS 64
#define MAX_KEPT 16
#define MAX_SESS 16
#define TAPE_MAX 4096
#define DGRAM_MAX 70000

#define SDP_TYPE "application/sdp"
static const char OFFER[] = "v=0\r\no=ua 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\n"
                            "t=0 0\r\nm=audio 4000 RTP/AVP 0\r\n";
static const char ANSWER[] = "v=0\r\no=ua 1 2 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\n"
                             "t=0 0\r\nm=audio 4002 RTP/AVP 0\r\n";
static const char PEER_URI[] = "sip:peer@127.0.0.1:5070";

/* ---- deterministic randomness -------------------------------------- */
/* The library's tags, branches, Call-IDs and glare delays come from
 * sipsess__random (runtime/random.c). Defined here, they win over the
 * archive's, so an input always runs the same way. */
static uint64_t g_rng = 1;

int sipsess__random(void *buf, size_t len)
{
    unsigned char *p = buf;
    if (len && !buf)
        return SIPSESS_EINVAL;
    for (size_t i = 0; i < len; i++)
        p[i] = (unsigned char)(fuzz_next(&g_rng) >> 56);
    return SIPSESS_OK;
}

int sipsess__random_token(char *buf, size_t len)
{
    static const char cs[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    if (len && !buf)
        return SIPSESS_EINVAL;
    for (size_t i = 0; i < len; i++)
        buf[i] = cs[fuzz_next(&g_rng) % (sizeof cs - 1)];
    return SIPSESS_OK;
}

/* ---- allocation failures --------------------------------------------- */
/* The library's allocator, installed before its first allocation: libc,
 * except that the allocation a control line names fails. */
static struct {
    unsigned long fail_in; /* 0: none armed; else fail when it counts down to 0 */
    unsigned long failed;
} g_alloc;

static bool alloc_fails(void)
{
    if (g_alloc.fail_in && --g_alloc.fail_in == 0) {
        g_alloc.failed++;
        return true;
    }
    return false;
}

static void *fz_malloc(size_t n, void *ud)
{
    (void)ud;
    return alloc_fails() ? NULL : malloc(n);
}

static void *fz_realloc(void *p, size_t n, void *ud)
{
    (void)ud;
    return alloc_fails() ? NULL : realloc(p, n);
}

static void fz_free(void *p, void *ud)
{
    (void)ud;
    free(p);
}

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    FUZZ_CHECK(sipsess_set_allocator(fz_malloc, fz_realloc, fz_free, NULL) == SIPSESS_OK);
    return 0;
}

/* ---- state of one run ------------------------------------------------ */

static struct {
    sipsess_memnet *net;
    sipsess_ua *ua;
    sipsess__loop *rl; /* the raw peer */
    sipsess__tp *rtp;
    sipsess_session_delegate *sd;
    sipsess_response_delegate *rd;
    uint8_t tape[TAPE_MAX];
    size_t tape_len, tape_pos;
    sipsess_request *kept[MAX_KEPT];
    int nkept;
    sipsess_session *sess[MAX_SESS];
    int nsess;
    /* placeholders, from what the UA sent last */
    char tag[128], ftag[128], branch[128], callid[256], cseq[16], method[32], rseq[16];
    char ibranch[128], icseq[16];
    unsigned long out_msgs;
    /* destroy notifiers: owed and run */
    unsigned long rd_owed, rd_destroyed, sd_installed, sd_destroyed, ua_destroyed;
} G;

static unsigned act(void)
{
    return G.tape_pos < G.tape_len ? G.tape[G.tape_pos++] : 0;
}

static void tape_add(const uint8_t *p, size_t n)
{
    if (n > TAPE_MAX - G.tape_len)
        n = TAPE_MAX - G.tape_len;
    memcpy(G.tape + G.tape_len, p, n);
    G.tape_len += n;
}

static void track(sipsess_session *s)
{
    if (!s)
        return;
    for (int i = 0; i < G.nsess; i++)
        if (G.sess[i] == s)
            return;
    if (G.nsess < MAX_SESS)
        G.sess[G.nsess++] = sipsess_session_ref(s);
}

static void keep(sipsess_request *req)
{
    if (G.nkept < MAX_KEPT)
        G.kept[G.nkept++] = sipsess_request_ref(req);
}

static void check_session(const sipsess_session *s)
{
    FUZZ_CHECK((unsigned)sipsess_session_get_state(s) <= SIPSESS_SESSION_TERMINATED);
    FUZZ_CHECK((unsigned)sipsess_session_get_signaling_state(s) <= SIPSESS_SIGNALING_CLOSED);
    FUZZ_CHECK((unsigned)sipsess_session_term_cause(s) <= SIPSESS_TERM_DIALOG_ERROR);
    (void)sipsess_session_call_id(s);
    (void)sipsess_session_local_tag(s);
    (void)sipsess_session_remote_tag(s);
    (void)sipsess_session_remote_target(s);
    (void)sipsess_session_body(s, SIPSESS_BODY_REMOTE_OFFER, NULL);
}

/* ---- what the UA does on its own ------------------------------------ */

static void sd_install(sipsess_session *s);

/* A send that took the response delegate owes its destroy notifier one
 * call (session.h), unless it failed. */
static void sent(int rc)
{
    if (rc == SIPSESS_OK)
        G.rd_owed++;
}

/* A request of this UA inside session `s`, or another thing the
 * application may do to it, chosen by `k`. */
static void session_op(sipsess_session *s, unsigned k)
{
    if (!s)
        return;
    const sipsess_response_delegate *rd = G.rd;
    void *ud = &G;
    switch (k % 16) {
    case 0:
        sent(sipsess_session_bye(s, NULL, rd, ud));
        break;
    case 1:
        sent(sipsess_session_invite(s, OFFER, sizeof OFFER - 1, SDP_TYPE, NULL, rd, ud));
        break;
    case 2:
        sent(sipsess_session_invite(s, NULL, 0, NULL, "Subject: offerless", rd, ud));
        break;
    case 3:
        sent(sipsess_session_info(s, "Signal=5\r\nDuration=160\r\n", 24,
                                  "application/dtmf-relay", "Info-Package: dtmf", rd, ud));
        break;
    case 4:
        sent(sipsess_session_update(s, OFFER, sizeof OFFER - 1, SDP_TYPE, NULL, rd, ud));
        break;
    case 5:
        sent(sipsess_session_update(s, NULL, 0, NULL, NULL, rd, ud));
        break;
    case 6:
        sent(sipsess_session_refer(s, "sip:carol@127.0.0.1:5070",
                                   "Referred-By: <sip:ua@127.0.0.1>", rd, ud));
        break;
    case 7:
        sent(sipsess_session_message(s, "hello", 5, NULL, NULL, rd, ud));
        break;
    case 8:
        sipsess_session_terminate(s);
        break;
    case 9:
        sipsess_session_cancel(s, "Reason: SIP;cause=487;text=\"fuzz\"");
        break;
    case 10:
        sent(sipsess_session_prack(s, NULL, 0, NULL, NULL, rd, ud));
        break;
    case 11:
        sipsess_session_ack(s, ANSWER, sizeof ANSWER - 1, SDP_TYPE);
        break;
    case 12:
        sent(sipsess_session_notify(s, "SIP/2.0 200 OK\r\n", 16, "message/sipfrag",
                                    "Event: refer\r\nSubscription-State: terminated;"
                                    "reason=noresource",
                                    rd, ud));
        break;
    case 13:
        sent(sipsess_session_request(s, "OPTIONS", NULL, 0, NULL, NULL, rd, ud));
        break;
    case 14:
        sd_install(s); /* replaces the delegate: the old one's destroy runs */
        break;
    default:
        sent(sipsess_session_request(s, "X-FUZZ", "x", 1, "text/plain", "Subject: ext", rd,
                                     ud));
        break;
    }
}

/* An offer gets an answer; no offer, an offer of ours. */
static void body_for(sipsess_request *req, const char **b, size_t *n)
{
    sipsess_str body = sipsess_request_body(req);
    if (body.len) {
        *b = ANSWER;
        *n = sizeof ANSWER - 1;
    } else {
        *b = OFFER;
        *n = sizeof OFFER - 1;
    }
}

/* Read what a handler may read; none of it may crash. */
static void look_at(sipsess_request *req)
{
    const sipsess_msg *m = sipsess_request_msg(req);
    FUZZ_CHECK(m != NULL && sipsess_msg_is_request(m));
    FUZZ_CHECK(sipsess_request_method(req) == sipsess_msg_method(m));
    (void)sipsess_request_header(req, "Subject", 0);
    (void)sipsess_request_header(req, "v", 1);
    (void)sipsess_request_content_type(req);
    (void)sipsess_request_replaces(req);
    (void)sipsess_request_sipfrag_status(req);
    (void)sipsess_request_subscription_terminated(req);
}

/* Any in-dialog or out-of-dialog request but ACK and CANCEL. */
static int answer(sipsess_session *s, sipsess_request *req)
{
    static const unsigned rej[] = {400, 403, 404, 481, 486, 488, 491, 500};
    static const unsigned rep[] = {100, 180, 183, 199, 200, 202, 299, 302};
    unsigned a = act();
    const char *b = NULL;
    size_t n = 0;
    look_at(req);
    if (s)
        check_session(s);
    sipsess_method m = sipsess_request_method(req);
    bool sdp = m == SIPSESS_METHOD_INVITE || m == SIPSESS_METHOD_UPDATE ||
               (m == SIPSESS_METHOD_PRACK && sipsess_request_body(req).len);
    if (sdp)
        body_for(req, &b, &n);
    switch (a & 7) {
    case 0:
        sipsess_request_accept(req, b, n, b ? SDP_TYPE : NULL, NULL);
        if (m == SIPSESS_METHOD_REFER)
            keep(req); /* for sipsess_request_notify_refer later */
        return 0;
    case 1:
        sipsess_request_reject(req, rej[(a >> 3) & 7], NULL, "Warning: 399 ua \"fuzz\"");
        return 0;
    case 2:
        keep(req);
        return 0;
    case 3:
        return 0;
    case 4:
        return SIPSESS_ECALLBACK;
    case 5:
        sipsess_request_reply(req, rep[(a >> 3) & 7], (a & 64) ? "Fuzz" : NULL, b, n,
                              b ? SDP_TYPE : NULL, NULL);
        return 0;
    case 6:
        sipsess_request_progress(req, 180 + ((a >> 3) & 3), NULL, (a & 32) ? b : NULL,
                                 (a & 32) ? n : 0, (a & 32) && b ? SDP_TYPE : NULL,
                                 (a >> 6) & 1);
        keep(req);
        return 0;
    default:
        sipsess_request_accept(req, b, n, b ? SDP_TYPE : NULL, NULL);
        session_op(s, a >> 3);
        return 0;
    }
}

static int sd_request(sipsess_session *s, sipsess_request *req, void *ud)
{
    (void)ud;
    FUZZ_CHECK(req != NULL && sipsess_request_session(req) == s);
    return answer(s, req);
}

static int sd_ack(sipsess_session *s, sipsess_request *req, void *ud)
{
    (void)ud;
    FUZZ_CHECK(sipsess_request_method(req) == SIPSESS_METHOD_ACK);
    look_at(req);
    FUZZ_CHECK(sipsess_request_accept(req, NULL, 0, NULL, NULL) == SIPSESS_ESTATE);
    unsigned a = act();
    if ((a & 7) == 7)
        session_op(s, a >> 3);
    return 0;
}

static int sd_ack_timeout(sipsess_session *s, sipsess_request *req, void *ud)
{
    (void)ud;
    FUZZ_CHECK(req == NULL);
    if (act() & 1)
        sent(sipsess_session_bye(s, "Reason: SIP;cause=408", G.rd, &G));
    return 0;
}

static int sd_cancel(sipsess_session *s, sipsess_request *req, void *ud)
{
    (void)ud;
    FUZZ_CHECK(sipsess_request_method(req) == SIPSESS_METHOD_CANCEL);
    FUZZ_CHECK(sipsess_request_answered(req));
    unsigned a = act();
    if ((a & 7) == 7)
        session_op(s, a >> 3);
    return 0;
}

static void sd_state(sipsess_session *s, sipsess_session_state st, void *ud)
{
    FUZZ_CHECK(ud == &G);
    FUZZ_CHECK((unsigned)st <= SIPSESS_SESSION_TERMINATED);
    check_session(s);
    unsigned a = act();
    if ((a & 15) == 15)
        session_op(s, a >> 4);
}

static void sd_terminated(sipsess_session *s, sipsess_term_cause cause, void *ud)
{
    FUZZ_CHECK(ud == &G);
    FUZZ_CHECK(cause != SIPSESS_TERM_NONE && (unsigned)cause <= SIPSESS_TERM_DIALOG_ERROR);
    FUZZ_CHECK(sipsess_session_term_cause(s) == cause);
    FUZZ_CHECK(sipsess_session_get_state(s) == SIPSESS_SESSION_TERMINATED);
    /* session.h: after Terminated, operations return SIPSESS_ESTATE */
    FUZZ_CHECK(sipsess_session_bye(s, NULL, G.rd, &G) == SIPSESS_ESTATE);
    FUZZ_CHECK(sipsess_session_invite(s, OFFER, sizeof OFFER - 1, SDP_TYPE, NULL, G.rd, &G) ==
               SIPSESS_ESTATE);
}

static void sd_destroy(void *ud)
{
    FUZZ_CHECK(ud == &G);
    G.sd_destroyed++;
}

static void sd_install(sipsess_session *s)
{
    if (sipsess_session_set_delegate(s, G.sd, &G, sd_destroy) == SIPSESS_OK)
        G.sd_installed++;
}

static void rd_destroy(void *ud)
{
    FUZZ_CHECK(ud == &G);
    G.rd_destroyed++;
}

static void ua_destroy(void *ud)
{
    FUZZ_CHECK(ud == &G);
    G.ua_destroyed++;
}

static int ua_invite(sipsess_ua *ua, sipsess_session *s, sipsess_request *req, void *ud)
{
    static const unsigned rej[] = {486, 488, 603, 404, 480, 500, 420, 699};
    (void)ud;
    FUZZ_CHECK(ua == G.ua);
    FUZZ_CHECK(sipsess_request_session(req) == s);
    FUZZ_CHECK(sipsess_session_get_state(s) == SIPSESS_SESSION_INITIAL);
    FUZZ_CHECK(!sipsess_session_is_outgoing(s));
    look_at(req);
    track(s);
    unsigned a = act();
    if (!(a & 128))
        sd_install(s);
    const char *b;
    size_t n;
    body_for(req, &b, &n);
    switch (a & 7) {
    case 0:
        sipsess_request_accept(req, b, n, SDP_TYPE, NULL);
        return 0;
    case 1:
        sipsess_request_reject(req, rej[(a >> 3) & 7], NULL, NULL);
        return 0;
    case 2:
        sipsess_request_progress(req, 183, NULL, b, n, SDP_TYPE, 1);
        keep(req);
        return 0;
    case 3:
        sipsess_request_trying(req);
        sipsess_request_progress(req, 180, NULL, NULL, 0, NULL, (a >> 3) & 1);
        keep(req);
        return 0;
    case 4:
        keep(req);
        return 0;
    case 5:
        return 0;
    case 6:
        return SIPSESS_ECALLBACK;
    default:
        sipsess_request_redirect(req, "sip:other@127.0.0.1:7777, <sip:x@127.0.0.1:7778>;q=0.5");
        return 0;
    }
}

static int ua_request(sipsess_ua *ua, sipsess_request *req, void *ud)
{
    (void)ua;
    (void)ud;
    FUZZ_CHECK(sipsess_request_session(req) == NULL);
    return answer(NULL, req);
}

/* Responses to what this UA sent. */
static void rd_accept(sipsess_session *s, const sipsess_msg *resp, void *ud)
{
    FUZZ_CHECK(ud == &G);
    FUZZ_CHECK(resp != NULL && !sipsess_msg_is_request(resp));
    track(s);
    check_session(s);
    unsigned a = act();
    if (sipsess_session_get_state(s) == SIPSESS_SESSION_ACK_WAIT && !(a & 1)) {
        if (sipsess_session_get_signaling_state(s) == SIPSESS_SIGNALING_HAVE_REMOTE_OFFER)
            sipsess_session_ack(s, ANSWER, sizeof ANSWER - 1, SDP_TYPE);
        else
            sipsess_session_ack(s, NULL, 0, NULL);
    }
    if (a & 2)
        session_op(s, a >> 2);
}

static void rd_progress(sipsess_session *s, const sipsess_msg *resp, void *ud)
{
    FUZZ_CHECK(ud == &G);
    FUZZ_CHECK(resp == NULL || !sipsess_msg_is_request(resp));
    track(s);
    unsigned a = act();
    if (a & 1)
        sent(sipsess_session_prack(s, (a & 2) ? ANSWER : NULL, (a & 2) ? sizeof ANSWER - 1 : 0,
                                   (a & 2) ? SDP_TYPE : NULL, NULL, G.rd, &G));
    if (a & 4)
        session_op(s, a >> 3);
}

static void rd_other(sipsess_session *s, const sipsess_msg *resp, void *ud)
{
    FUZZ_CHECK(ud == &G);
    FUZZ_CHECK(resp == NULL || !sipsess_msg_is_request(resp));
    if (s) {
        check_session(s);
        unsigned a = act();
        if ((a & 7) == 7)
            session_op(s, a >> 3);
    }
}

static void ood_response(const sipsess_msg *msg, int final, int err, void *ud)
{
    (void)ud;
    FUZZ_CHECK(final == 0 || final == 1);
    FUZZ_CHECK(msg != NULL || err < 0);
}

/* Once after each datagram: something the application does on its own. */
static void tick(void)
{
    unsigned a = act();
    switch (a & 7) {
    case 1:
    case 6:
        if (G.nkept > 0) {
            sipsess_request *req = G.kept[0];
            memmove(G.kept, G.kept + 1, (size_t)(G.nkept - 1) * sizeof G.kept[0]);
            G.nkept--;
            unsigned b = act();
            const char *body;
            size_t n;
            body_for(req, &body, &n);
            bool sdp = sipsess_request_method(req) == SIPSESS_METHOD_INVITE;
            switch (b & 7) {
            case 0:
                sipsess_request_accept(req, sdp ? body : NULL, sdp ? n : 0,
                                       sdp ? SDP_TYPE : NULL, NULL);
                break;
            case 1:
                sipsess_request_reject(req, 486 + (b >> 3), NULL, NULL);
                break;
            case 2:
                sipsess_request_progress(req, 183, NULL, body, n, SDP_TYPE, (b >> 3) & 1);
                keep(req); /* answered later, or 500 at the end */
                break;
            case 3:
                sent(sipsess_request_notify_refer(req, 100 + (b >> 3) * 20, NULL, G.rd, &G));
                keep(req);
                break;
            case 4:
                sipsess_request_redirect(req, "sip:elsewhere@127.0.0.1:7000");
                break;
            default:
                break; /* dropped: answered 500 */
            }
            sipsess_request_unref(req);
        }
        break;
    case 2:
        if (G.nsess > 0) {
            unsigned i = act();
            session_op(G.sess[i % (unsigned)G.nsess], act());
        }
        break;
    case 3: {
        sipsess_session *s = NULL;
        const char *hdrs = (a & 16) ? "Require: 100rel\r\nSupported: timer" : NULL;
        if (sipsess_ua_invite(G.ua, PEER_URI, (a & 8) ? NULL : OFFER,
                              (a & 8) ? 0 : sizeof OFFER - 1, (a & 8) ? NULL : SDP_TYPE, hdrs,
                              G.rd, &G, &s) == SIPSESS_OK) {
            G.rd_owed++;
            track(s);
            if (a & 32)
                sd_install(s);
        }
        break;
    }
    case 4: {
        static const char *const methods[] = {"OPTIONS", "MESSAGE", "INFO", "SUBSCRIBE"};
        sipsess_ua_request(G.ua, methods[(a >> 3) & 3], PEER_URI, "Subject: fuzz", "x", 1,
                           "text/plain", ood_response, NULL);
        break;
    }
    case 5:
        while (G.nkept > 0)
            sipsess_request_unref(G.kept[--G.nkept]);
        break;
    default:
        break;
    }
}

/* ---- the raw peer ---------------------------------------------------- */

static void set_field(char *dst, size_t cap, sipsess_str v)
{
    size_t n = v.len < cap - 1 ? v.len : cap - 1;
    if (n)
        memcpy(dst, v.p, n);
    dst[n] = '\0';
}

static void raw_rx(void *arg, sipsess__rx *rx)
{
    (void)arg;
    const sipsess_msg *m = rx->msg;
    if (sipsess_msg_is_request(m)) {
        const sipsess_hdr *from = sipsess_msg_hdr(m, SIPSESS_HDR_FROM, 0);
        const sipsess_hdr *via = sipsess_msg_hdr(m, SIPSESS_HDR_VIA, 0);
        const sipsess_hdr *cid = sipsess_msg_hdr(m, SIPSESS_HDR_CALL_ID, 0);
        const sipsess_hdr *cseq = sipsess_msg_hdr(m, SIPSESS_HDR_CSEQ, 0);
        if (from && sipsess_nameaddr_tag(from).len)
            set_field(G.ftag, sizeof G.ftag, sipsess_nameaddr_tag(from));
        if (cid)
            set_field(G.callid, sizeof G.callid, sipsess_hdr_value(cid));
        /* Nobody answers an ACK: $B, $C, $M stay those of the request
         * before it. */
        bool ack = sipsess_msg_method(m) == SIPSESS_METHOD_ACK;
        if (via && !ack)
            set_field(G.branch, sizeof G.branch, sipsess_via_branch(via));
        if (cseq && !ack) {
            snprintf(G.cseq, sizeof G.cseq, "%u", (unsigned)sipsess_cseq_number(cseq));
            set_field(G.method, sizeof G.method, sipsess_cseq_method_name(cseq));
        }
        if (via && cseq && sipsess_msg_method(m) == SIPSESS_METHOD_INVITE) {
            set_field(G.ibranch, sizeof G.ibranch, sipsess_via_branch(via));
            snprintf(G.icseq, sizeof G.icseq, "%u", (unsigned)sipsess_cseq_number(cseq));
        }
    } else {
        const sipsess_hdr *to = sipsess_msg_hdr(m, SIPSESS_HDR_TO, 0);
        const sipsess_hdr *rseq = sipsess_msg_hdr(m, SIPSESS_HDR_RSEQ, 0);
        if (to && sipsess_nameaddr_tag(to).len)
            set_field(G.tag, sizeof G.tag, sipsess_nameaddr_tag(to));
        if (rseq && sipsess_hdr_number(rseq) >= 0)
            snprintf(G.rseq, sizeof G.rseq, "%lld", (long long)sipsess_hdr_number(rseq));
    }
    sipsess_msg_free(rx->msg);
    if (rx->conn)
        sipsess__conn_unref(rx->conn);
}

static void raw_err(void *arg, uint64_t id, int err)
{
    (void)arg;
    (void)id;
    (void)err;
}

/* Every datagram on the memnet: what the UA sends must parse. */
static int net_filter(const char *from, const char *to, const char *data, size_t len,
                      void *ud)
{
    (void)ud;
    static int trace = -1;
    if (trace < 0)
        trace = getenv("UA_FUZZ_TRACE") != NULL;
    if (trace)
        fprintf(stderr, "==== %s -> %s (%zu bytes) at %llu ms\n%.*s\n", from, to, len,
                G.ua ? (unsigned long long)sipsess_ua_now_ms(G.ua) : 0ull, (int)len, data);
    if (strcmp(from, "mem:5060") != 0)
        return 0;
    G.out_msgs++;
    sipsess_parse_opts o;
    sipsess_parse_opts_init(&o);
    o.flags = SIPSESS_PARSE_LENIENT;
    sipsess_msg *m = NULL;
    size_t off = 0;
    int err = sipsess_msg_parse(data, len, &o, &m, &off);
    if (err == SIPSESS_ENOMEM)
        return 0; /* an injected failure hit this parse */
    if (err != SIPSESS_OK) {
        fprintf(stderr, "the UA sent a datagram that does not parse (%s at %zu):\n%.*s\n",
                sipsess_errname(err), off, (int)len, data);
        FUZZ_CHECK(err == SIPSESS_OK);
    }
    sipsess_msg_free(m);
    return 0;
}

static void raw_send(const char *data, size_t len)
{
    if (len == 0)
        return; /* no empty datagram on a memnet (sipsess__tp_send: EINVAL) */
    sipsess_uri *uri = NULL;
    static const char target[] = "sip:ua@127.0.0.1:5060;transport=mem";
    int err = sipsess_uri_parse(target, sizeof target - 1, &uri);
    if (err == SIPSESS_ENOMEM)
        return; /* an injected failure: the datagram is lost */
    FUZZ_CHECK(err == SIPSESS_OK);
    sipsess__dest d;
    memset(&d, 0, sizeof d);
    FUZZ_CHECK(sipsess__tp_route_request(G.rtp, uri, len, &d) == SIPSESS_OK);
    int64_t id = sipsess__tp_send(G.rtp, &d, data, len);
    FUZZ_CHECK(id >= 0 || id == SIPSESS_ENOMEM);
    sipsess_uri_free(uri);
}

/* Let both loops handle what is queued, then move the clock. */
static void run(uint64_t ms)
{
    FUZZ_CHECK(sipsess_ua_advance(G.ua, 0) >= 0);
    FUZZ_CHECK(sipsess__loop_advance(G.rl, 0) >= 0);
    if (ms) {
        FUZZ_CHECK(sipsess_ua_advance(G.ua, ms) >= 0);
        FUZZ_CHECK(sipsess__loop_advance(G.rl, ms) >= 0);
    }
}

/* ---- datagrams -------------------------------------------------------- */

static char g_dgram[DGRAM_MAX];

static size_t put(size_t o, const char *p, size_t n)
{
    if (n > DGRAM_MAX - o)
        n = DGRAM_MAX - o;
    memcpy(g_dgram + o, p, n);
    return o + n;
}

/* The datagram with its placeholders replaced. */
static size_t build(const uint8_t *in, size_t n)
{
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        const char *v = NULL;
        if (in[i] == '$' && i + 1 < n) {
            switch (in[i + 1]) {
            case 'T':
                v = G.tag;
                break;
            case 'F':
                v = G.ftag;
                break;
            case 'B':
                v = G.branch;
                break;
            case 'I':
                v = G.callid;
                break;
            case 'C':
                v = G.cseq;
                break;
            case 'M':
                v = G.method;
                break;
            case 'K':
                v = G.rseq;
                break;
            case 'V':
                v = G.ibranch;
                break;
            case 'N':
                v = G.icseq;
                break;
            default:
                break;
            }
        }
        if (v) {
            o = put(o, v, strlen(v));
            i++;
        } else {
            o = put(o, (const char *)in + i, 1);
        }
    }
    /* $L: the body length, once the rest is in place */
    const char *body = NULL;
    for (size_t i = 0; i + 1 < o && !body; i++) {
        if (g_dgram[i] != '\n')
            continue;
        if (g_dgram[i + 1] == '\n')
            body = g_dgram + i + 2;
        else if (i + 2 < o && g_dgram[i + 1] == '\r' && g_dgram[i + 2] == '\n')
            body = g_dgram + i + 3;
    }
    size_t hend = body ? (size_t)(body - g_dgram) : o;
    char *l = memmem(g_dgram, hend, "$L", 2);
    if (l) {
        char num[24];
        int k = snprintf(num, sizeof num, "%zu", body ? o - hend : (size_t)0);
        /* "$L" (2 bytes) becomes k bytes */
        if (o + (size_t)k - 2 <= DGRAM_MAX) {
            memmove(l + k, l + 2, o - (size_t)(l + 2 - g_dgram));
            memcpy(l, num, (size_t)k);
            o = o + (size_t)k - 2;
        }
    }
    return o;
}

static const uint64_t g_advance[16] = {0,    1,    10,   50,    100,   200,   500,    1000,
                                       2000, 4000, 5000, 8000, 16000, 32000, 64000, 180000};

/* Sinks that read what they are given, so a bad view shows. */
static volatile size_t g_sink;

static void log_sink(sipsess_log_level level, const char *msg, void *ud)
{
    (void)ud;
    FUZZ_CHECK(level >= SIPSESS_LOG_ERROR && level <= SIPSESS_LOG_DEBUG);
    g_sink += strlen(msg);
}

static void trace_sink(int outgoing, const char *transport, const char *local,
                       const char *remote, const char *data, size_t len, void *ud)
{
    (void)ud;
    FUZZ_CHECK(outgoing == 0 || outgoing == 1);
    g_sink += strlen(transport) + strlen(local) + strlen(remote);
    g_sink += memchr(data, '\0', len) != NULL; /* ASan checks the whole range */
}

/* '0'..'9' and 'a'..'f' as hex digits, any other byte by its low bits */
static unsigned adv_index(uint8_t c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return 10u + (c - 'a');
    return c & 15u;
}

static void setup(uint8_t cfgb)
{
    FUZZ_CHECK(sipsess_memnet_new(&G.net) == SIPSESS_OK);
    sipsess_memnet_set_filter(G.net, net_filter, NULL);

    sipsess_ua_config *cfg = NULL;
    FUZZ_CHECK(sipsess_ua_config_new(&cfg) == SIPSESS_OK);
    FUZZ_CHECK(sipsess_ua_config_set_virtual_clock(cfg, 1) == SIPSESS_OK);
    FUZZ_CHECK(sipsess_ua_config_set_memnet(cfg, G.net) == SIPSESS_OK);
    static const sipsess_100rel modes[] = {SIPSESS_100REL_OFF, SIPSESS_100REL_SUPPORTED,
                                           SIPSESS_100REL_REQUIRED, SIPSESS_100REL_SUPPORTED};
    sipsess_ua_config_set_100rel(cfg, modes[cfgb & 3]);
    sipsess_ua_config_set_auto_ack(cfg, !(cfgb & 4));
    sipsess_ua_config_set_auto_prack(cfg, !(cfgb & 8));
    sipsess_ua_config_set_accept_forks(cfg, (cfgb >> 4) & 1);
    if (cfgb & 32) {
        sipsess_ua_config_set_limit(cfg, SIPSESS_LIMIT_SESSIONS, 2);
        sipsess_ua_config_set_limit(cfg, SIPSESS_LIMIT_PENDING, 2);
        sipsess_ua_config_set_limit(cfg, SIPSESS_LIMIT_TRANSACTIONS, 8);
    }
    if (cfgb & 64) {
        sipsess_ua_config_set_log(cfg, SIPSESS_LOG_DEBUG, log_sink, NULL);
        sipsess_ua_config_set_trace(cfg, trace_sink, NULL);
    }
    if (cfgb & 128)
        sipsess_ua_config_set_timers(cfg, 50, 400, 500);
    sipsess_ua_config_set_identity(cfg, "UA <sip:ua@127.0.0.1:5060>");
    FUZZ_CHECK(sipsess_ua_new(cfg, &G.ua) == SIPSESS_OK);
    sipsess_ua_config_free(cfg);
    FUZZ_CHECK(sipsess_ua_listen(G.ua, "mem:5060") >= 0);

    sipsess_ua_delegate *ud = NULL;
    FUZZ_CHECK(sipsess_ua_delegate_new(&ud) == SIPSESS_OK);
    sipsess_ua_delegate_set_on_invite(ud, ua_invite);
    sipsess_ua_delegate_set_on_request(ud, ua_request);
    FUZZ_CHECK(sipsess_ua_set_delegate(G.ua, ud, &G, ua_destroy) == SIPSESS_OK);
    sipsess_ua_delegate_free(ud);

    FUZZ_CHECK(sipsess_session_delegate_new(&G.sd) == SIPSESS_OK);
    sipsess_session_delegate *d = G.sd;
    sipsess_session_delegate_set_on_ack(d, sd_ack);
    sipsess_session_delegate_set_on_ack_timeout(d, sd_ack_timeout);
    sipsess_session_delegate_set_on_bye(d, sd_request);
    sipsess_session_delegate_set_on_info(d, sd_request);
    sipsess_session_delegate_set_on_invite(d, sd_request);
    sipsess_session_delegate_set_on_message(d, sd_request);
    sipsess_session_delegate_set_on_notify(d, sd_request);
    sipsess_session_delegate_set_on_prack(d, sd_request);
    sipsess_session_delegate_set_on_refer(d, sd_request);
    sipsess_session_delegate_set_on_update(d, sd_request);
    sipsess_session_delegate_set_on_cancel(d, sd_cancel);
    sipsess_session_delegate_set_on_request(d, sd_request);
    sipsess_session_delegate_set_on_state_change(d, sd_state);
    sipsess_session_delegate_set_on_terminated(d, sd_terminated);

    FUZZ_CHECK(sipsess_response_delegate_new(&G.rd) == SIPSESS_OK);
    sipsess_response_delegate_set_on_trying(G.rd, rd_other);
    sipsess_response_delegate_set_on_progress(G.rd, rd_progress);
    sipsess_response_delegate_set_on_accept(G.rd, rd_accept);
    sipsess_response_delegate_set_on_redirect(G.rd, rd_other);
    sipsess_response_delegate_set_on_reject(G.rd, rd_other);
    sipsess_response_delegate_set_destroy(G.rd, rd_destroy);

    FUZZ_CHECK(sipsess__loop_new(true, &G.rl) == SIPSESS_OK);
    sipsess__tp_config tc;
    sipsess__tp_config_init(&tc);
    tc.memnet = G.net;
    FUZZ_CHECK(sipsess__tp_new(G.rl, &tc, raw_rx, raw_err, NULL, &G.rtp) == SIPSESS_OK);
    FUZZ_CHECK(sipsess__tp_listen(G.rtp, "mem:5070") >= 0);
}

static void teardown(void)
{
    g_alloc.fail_in = 0; /* a failure still armed would hit the checks below */
    /* Kept requests are dropped (answered 500), then every timer fires. */
    while (G.nkept > 0)
        sipsess_request_unref(G.kept[--G.nkept]);
    /* In a few long steps: timers fire in order inside each; the peer
     * reads what piled up in between (a full queue drops, as UDP would). */
    for (int i = 0; i < 4; i++)
        run(150000);
    for (int i = 0; i < G.nsess; i++)
        check_session(G.sess[i]);
    /* Ten quiet minutes later nothing is left to fire: no timer re-arms
     * itself for ever, nothing is sent. */
    unsigned long sent = G.out_msgs;
    int ev = sipsess_ua_advance(G.ua, 600000);
    if (ev != 0 || G.out_msgs != sent) {
        fprintf(stderr, "the UA is not idle: %d events, %lu datagrams in ten more minutes\n",
                ev, G.out_msgs - sent);
        FUZZ_CHECK(!"the UA goes idle");
    }
    sipsess_ua_free(G.ua);
    /* session.h: each destroy notifier ran exactly once, by the time
     * sipsess_ua_free returns */
    if (G.rd_destroyed != G.rd_owed || G.sd_destroyed != G.sd_installed ||
        G.ua_destroyed != 1) {
        fprintf(stderr,
                "destroy notifiers: response %lu of %lu, session %lu of %lu, ua %lu of 1\n",
                G.rd_destroyed, G.rd_owed, G.sd_destroyed, G.sd_installed, G.ua_destroyed);
        FUZZ_CHECK(!"every destroy notifier runs exactly once");
    }
    for (int i = 0; i < G.nsess; i++) {
        FUZZ_CHECK(sipsess_session_get_state(G.sess[i]) == SIPSESS_SESSION_TERMINATED);
        FUZZ_CHECK(sipsess_session_term_cause(G.sess[i]) != SIPSESS_TERM_NONE);
        FUZZ_CHECK(sipsess_session_get_signaling_state(G.sess[i]) == SIPSESS_SIGNALING_CLOSED);
        FUZZ_CHECK(sipsess_session_bye(G.sess[i], NULL, NULL, NULL) == SIPSESS_ESTATE);
        sipsess_session_unref(G.sess[i]);
    }
    sipsess__tp_free(G.rtp);
    sipsess__loop_free(G.rl);
    sipsess_memnet_free(G.net);
    sipsess_session_delegate_free(G.sd);
    sipsess_response_delegate_free(G.rd);
    memset(&G, 0, sizeof G);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    memset(&G, 0, sizeof G);
    memset(&g_alloc, 0, sizeof g_alloc);
    g_rng = 0x9e3779b97f4a7c15ull;

    size_t pos = 0;
    uint8_t cfgb = 0;
    if (size >= 2 && data[0] == '%' && data[1] == '%') {
        const uint8_t *lf = memchr(data, '\n', size);
        size_t e = lf ? (size_t)(lf - data) : size;
        if (e > 2) {
            cfgb = data[2];
            tape_add(data + 3, e - 3);
        }
        pos = lf ? e + 1 : size;
    }
    setup(cfgb);

    for (int seg = 0; seg < MAX_SEGMENTS && pos < size; seg++) {
        /* the datagram runs to the next line that starts with "%%" */
        size_t end = size, next = size;
        for (size_t i = pos; i + 2 < size; i++) {
            if (data[i] == '\n' && data[i + 1] == '%' && data[i + 2] == '%') {
                end = i + 1;
                next = i + 3;
                break;
            }
        }
        size_t n = build(data + pos, end - pos);
        raw_send(g_dgram, n);
        run(0);
        tick();
        run(0);
        if (next >= size)
            break;
        /* the control line after it */
        const uint8_t *lf = memchr(data + next, '\n', size - next);
        size_t ce = lf ? (size_t)(lf - data) : size;
        if (ce > next + 1 && data[next] == '!') {
            unsigned long nth = data[next + 1] + (ce > next + 2 ? 256ul * data[next + 2] : 0);
            g_alloc.fail_in = nth + 1;
        } else {
            if (ce > next + 1)
                tape_add(data + next + 1, ce - next - 1);
            if (ce > next)
                run(g_advance[adv_index(data[next])]);
        }
        pos = lf ? ce + 1 : size;
    }
    teardown();
    return 0;
}
