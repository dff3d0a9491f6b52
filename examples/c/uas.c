/*
 * uas — an auto-answering user agent that logs every in-dialog request.
 *
 * Shows: the UA delegate (new calls), a session delegate per call,
 * keeping a request to answer it later (the INVITE rings RING_MS first),
 * SDP answers that mirror hold (sendonly -> recvonly), INFO/MESSAGE/UPDATE
 * answered 200, and the target side of a blind transfer: a REFER is
 * accepted (202, the library sends "NOTIFY 100 Trying"), kept
 * (sipsess_request_ref), and a new call goes to its Refer-To URI; its 180
 * and final answer reach the referrer through
 * sipsess_request_notify_refer; the transferred call is hung up HANGUP_MS
 * after it is answered.
 *
 *   make examples && build/bin/example-uas udp:127.0.0.1:5070 [--calls N] [--max-time SEC]
 *
 * Exits 0 once N incoming calls ended (and nothing else is in progress),
 * 1 when --max-time (default 30 s) passes first; without --calls it runs
 * for --max-time and exits 0. Port 0 picks a free port: the first line
 * says which ("listening on udp:127.0.0.1:PORT"). Same program in Python
 * (examples/python/uas.py) and Lua (examples/lua/uas.lua).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sipsess/sipsess.h>

#include "common.h"

#define RING_MS 100   /* 180 Ringing, then 200 OK this much later */
#define HANGUP_MS 500 /* a transferred call is hung up this long after its 200 */

static const char usage[] = "usage: example-uas [LISTEN] [--calls N] [--max-time SEC]";

/* One session and what the example remembers of it. */
typedef struct call {
    unsigned id;
    int incoming;
    sipsess_session *s;         /* our reference */
    unsigned version;           /* our SDP version (o= line) */
    sipsess_request *invite;    /* the kept INVITE until answered */
    sipsess_request *refer;     /* a kept REFER we follow */
    char target[256];           /* its Refer-To URI */
    struct call *referrer;      /* the call whose REFER made this call */
    unsigned notified;          /* last status sent to the referrer */
    struct call *next;
} call;

static struct {
    sipsess_ua *ua;
    call *calls;                /* every call, freed at exit */
    unsigned next_id, incoming_ended;
    int live;                   /* sessions not yet terminated */
    int pending;                /* our BYEs waiting for their response */
    long want_calls;
    sipsess_session_delegate *sd;
    sipsess_response_delegate *transfer_rd, *bye_rd;
} g;

static call *call_new(sipsess_session *s, int incoming)
{
    call *c = calloc(1, sizeof *c);
    if (!c)
        return NULL;
    c->id = ++g.next_id;
    c->incoming = incoming;
    c->s = s ? sipsess_session_ref(s) : NULL;
    c->next = g.calls;
    g.calls = c;
    return c;
}

static size_t call_sdp(call *c, const char *dir, char *buf)
{
    return ex_sdp(buf, EX_SDP_MAX, ++c->version, dir, 5000 + 2 * c->id);
}

/* The answer to an offer (mirrored direction), or our offer when the
 * request had none. */
static size_t answer_body(call *c, sipsess_str offer, char *buf)
{
    return call_sdp(c, offer.len ? ex_mirror(ex_direction(offer)) : "sendrecv", buf);
}

static sipsess_str str_of(const char *p, size_t n)
{
    sipsess_str v = {p, n};
    return v;
}

/* ---- answering the INVITE ---- */

static void answer_call(void *arg)
{
    call *c = arg;
    sipsess_request *req = c->invite;
    c->invite = NULL;
    if (!req)
        return; /* ended (CANCEL) while ringing */
    char body[EX_SDP_MAX];
    size_t n = answer_body(c, sipsess_request_body(req), body);
    int e = sipsess_request_accept(req, body, n, EX_SDP_TYPE, NULL);
    if (e)
        ex_log("call %u: answering failed: %s", c->id, sipsess_strerror(e));
    else
        ex_log("call %u: answered 200 OK sdp %s", c->id, ex_direction(str_of(body, n)));
    sipsess_request_unref(req);
}

static int ua_on_invite(sipsess_ua *ua, sipsess_session *s, sipsess_request *req, void *ud)
{
    (void)ud;
    call *c = call_new(s, 1);
    if (!c)
        return SIPSESS_ECALLBACK; /* the library answers 500 */
    g.live++;
    sipsess_session_set_delegate(s, g.sd, c, NULL);
    ex_log("call %u: INVITE from %.*s sdp %s", c->id, EX_STR(sipsess_session_remote_uri(s)),
           ex_direction(sipsess_request_body(req)));
    sipsess_request_progress(req, 180, NULL, NULL, 0, NULL, 0);
    c->invite = sipsess_request_ref(req); /* answered later, by the timer */
    ex_later(ua, RING_MS, answer_call, c);
    return 0;
}

static int ua_on_request(sipsess_ua *ua, sipsess_request *req, void *ud)
{
    (void)ua;
    (void)ud;
    ex_log("out-of-dialog %.*s (library default answer)",
           EX_STR(sipsess_msg_method_name(sipsess_request_msg(req))));
    return 0;
}

/* ---- in-dialog requests ---- */

static int on_ack(sipsess_session *s, sipsess_request *req, void *ud)
{
    (void)s;
    call *c = ud;
    sipsess_str b = sipsess_request_body(req);
    if (b.len)
        ex_log("call %u: ACK sdp %s", c->id, ex_direction(b));
    else
        ex_log("call %u: ACK", c->id);
    return 0;
}

static int on_ack_timeout(sipsess_session *s, sipsess_request *req, void *ud)
{
    (void)s;
    (void)req;
    ex_log("call %u: ACK timeout (the library sends BYE)", ((call *)ud)->id);
    return 0;
}

static int on_reinvite(sipsess_session *s, sipsess_request *req, void *ud)
{
    (void)s;
    call *c = ud;
    char body[EX_SDP_MAX];
    sipsess_str offer = sipsess_request_body(req);
    size_t n = answer_body(c, offer, body);
    if (sipsess_request_accept(req, body, n, EX_SDP_TYPE, NULL))
        return SIPSESS_ECALLBACK;
    ex_log("call %u: re-INVITE sdp %s -> 200 answer %s", c->id, ex_direction(offer),
           ex_direction(str_of(body, n)));
    return 0;
}

static int on_update(sipsess_session *s, sipsess_request *req, void *ud)
{
    (void)s;
    call *c = ud;
    sipsess_str offer = sipsess_request_body(req);
    if (offer.len) {
        char body[EX_SDP_MAX];
        size_t n = answer_body(c, offer, body);
        if (sipsess_request_accept(req, body, n, EX_SDP_TYPE, NULL))
            return SIPSESS_ECALLBACK;
        ex_log("call %u: UPDATE sdp %s -> 200 answer %s", c->id, ex_direction(offer),
               ex_direction(str_of(body, n)));
    } else {
        if (sipsess_request_accept(req, NULL, 0, NULL, NULL))
            return SIPSESS_ECALLBACK;
        ex_log("call %u: UPDATE (no sdp) -> 200", c->id);
    }
    return 0;
}

static int on_info(sipsess_session *s, sipsess_request *req, void *ud)
{
    (void)s;
    call *c = ud;
    if (sipsess_request_accept(req, NULL, 0, NULL, NULL))
        return SIPSESS_ECALLBACK;
    ex_log("call %u: INFO %.*s %zu bytes -> 200", c->id, EX_STR(sipsess_request_content_type(req)),
           sipsess_request_body(req).len);
    return 0;
}

static int on_message(sipsess_session *s, sipsess_request *req, void *ud)
{
    (void)s;
    call *c = ud;
    if (sipsess_request_accept(req, NULL, 0, NULL, NULL))
        return SIPSESS_ECALLBACK;
    sipsess_str b = sipsess_request_body(req);
    ex_log("call %u: MESSAGE %.*s \"%.*s\" -> 200", c->id,
           EX_STR(sipsess_request_content_type(req)), b.len > 40 ? 40 : (int)b.len,
           b.p ? b.p : "");
    return 0;
}

static int on_notify(sipsess_session *s, sipsess_request *req, void *ud)
{
    (void)s;
    call *c = ud;
    if (sipsess_request_accept(req, NULL, 0, NULL, NULL))
        return SIPSESS_ECALLBACK;
    ex_log("call %u: NOTIFY %.*s -> 200", c->id, EX_STR(sipsess_request_header(req, "Event", 0)));
    return 0;
}

static int on_prack(sipsess_session *s, sipsess_request *req, void *ud)
{
    (void)s;
    (void)req;
    ex_log("call %u: PRACK (library answers 200)", ((call *)ud)->id);
    return 0;
}

static int on_cancel(sipsess_session *s, sipsess_request *req, void *ud)
{
    (void)s;
    (void)req;
    ex_log("call %u: CANCEL (library answers 200, 487 to the INVITE)", ((call *)ud)->id);
    return 0;
}

static int on_other(sipsess_session *s, sipsess_request *req, void *ud)
{
    (void)s;
    ex_log("call %u: %.*s (library answers 501)", ((call *)ud)->id,
           EX_STR(sipsess_msg_method_name(sipsess_request_msg(req))));
    return 0;
}

static int on_bye(sipsess_session *s, sipsess_request *req, void *ud)
{
    (void)s;
    (void)req;
    ex_log("call %u: BYE (library answers 200)", ((call *)ud)->id);
    return 0;
}

/* ---- blind transfer, target side (RFC 3515) ---- */

static void notify_referrer(call *c, unsigned status, const char *reason)
{
    if (!c->refer || status <= c->notified)
        return;
    c->notified = status;
    int e = sipsess_request_notify_refer(c->refer, status, reason, NULL, NULL);
    if (e)
        ex_log("call %u: NOTIFY to the referrer not sent: %s", c->id, sipsess_strerror(e));
    else
        ex_log("call %u: NOTIFY to the referrer: %u %s", c->id, status, reason);
    if (status >= 200) { /* final: the subscription ended */
        sipsess_request_unref(c->refer);
        c->refer = NULL;
    }
}

static void transfer(void *arg)
{
    call *c = arg;
    call *t = call_new(NULL, 0);
    if (!t) {
        notify_referrer(c, 500, "Server Internal Error");
        return;
    }
    t->referrer = c;
    char body[EX_SDP_MAX];
    size_t n = call_sdp(t, "sendrecv", body);
    sipsess_session *s = NULL;
    int e = sipsess_ua_invite(g.ua, c->target, body, n, EX_SDP_TYPE, NULL, g.transfer_rd, t, &s);
    if (e) {
        ex_log("call %u: calling %s failed: %s", c->id, c->target, sipsess_strerror(e));
        notify_referrer(c, 503, "Service Unavailable");
        return;
    }
    t->s = sipsess_session_ref(s);
    sipsess_session_set_delegate(s, g.sd, t, NULL);
    g.live++;
    ex_log("call %u: calling %s (transfer from call %u)", t->id, c->target, c->id);
}

static int on_refer(sipsess_session *s, sipsess_request *req, void *ud)
{
    call *c = ud;
    sipsess_str to = sipsess_request_header(req, "Refer-To", 0);
    if (!to.len) {
        sipsess_request_reject(req, 400, "Missing Refer-To", NULL);
        ex_log("call %u: REFER without Refer-To -> 400", c->id);
        return 0;
    }
    if (c->refer) {
        sipsess_request_reject(req, 491, NULL, NULL);
        ex_log("call %u: REFER while another runs -> 491", c->id);
        return 0;
    }
    ex_refer_target(to, c->target, sizeof c->target);
    /* 202; the library sends NOTIFY "100 Trying" */
    if (sipsess_request_accept(req, NULL, 0, NULL, NULL))
        return SIPSESS_ECALLBACK;
    c->refer = sipsess_request_ref(req); /* for notify_refer after this callback */
    ex_log("call %u: REFER to %s -> 202", c->id, c->target);
    ex_later(sipsess_session_ua(s), 0, transfer, c);
    return 0;
}

static void on_bye_response(sipsess_session *s, const sipsess_msg *resp, void *ud)
{
    (void)s;
    char st[128];
    g.pending--;
    ex_log("call %u: BYE -> %s", ((call *)ud)->id, ex_status_text(resp, st, sizeof st));
}

static void hangup(void *arg)
{
    call *c = arg;
    if (sipsess_session_get_state(c->s) == SIPSESS_SESSION_TERMINATED)
        return;
    ex_log("call %u: hanging up the transferred call", c->id);
    if (sipsess_session_bye(c->s, NULL, g.bye_rd, c) == 0)
        g.pending++;
}

static void on_transfer_response(sipsess_session *s, const sipsess_msg *resp, void *ud)
{
    call *t = ud;
    char st[128];
    ex_log("call %u: %s from the transfer target", t->id, ex_status_text(resp, st, sizeof st));
    if (!resp) {
        notify_referrer(t->referrer, 408, "Request Timeout");
        return;
    }
    char reason[96];
    snprintf(reason, sizeof reason, "%.*s", EX_STR(sipsess_msg_reason(resp)));
    unsigned status = sipsess_msg_status(resp);
    notify_referrer(t->referrer, status, reason);
    if (status >= 200 && status < 300)
        ex_later(sipsess_session_ua(s), HANGUP_MS, hangup, t);
}

/* ---- state ---- */

static void on_state_change(sipsess_session *s, sipsess_session_state state, void *ud)
{
    (void)s;
    ex_log("call %u: state %s", ((call *)ud)->id, ex_state_name(state));
}

static void on_terminated(sipsess_session *s, sipsess_term_cause cause, void *ud)
{
    (void)s;
    call *c = ud;
    ex_log("call %u: terminated %s", c->id, ex_cause_name(cause));
    g.live--;
    if (c->incoming)
        g.incoming_ended++;
    if (c->invite) {
        sipsess_request_unref(c->invite);
        c->invite = NULL;
    }
    if (c->refer) {
        sipsess_request_unref(c->refer);
        c->refer = NULL;
    }
}

/* ---- main ---- */

static int done(void)
{
    return g.want_calls > 0 && g.incoming_ended >= (unsigned long)g.want_calls && g.live == 0 &&
           g.pending == 0;
}

static int setup(void)
{
    sipsess_ua_delegate *ud = NULL;
    if (sipsess_ua_delegate_new(&ud) || sipsess_session_delegate_new(&g.sd) ||
        sipsess_response_delegate_new(&g.transfer_rd) ||
        sipsess_response_delegate_new(&g.bye_rd)) {
        sipsess_ua_delegate_free(ud);
        return -1;
    }
    sipsess_ua_delegate_set_on_invite(ud, ua_on_invite);
    sipsess_ua_delegate_set_on_request(ud, ua_on_request);
    sipsess_ua_set_delegate(g.ua, ud, NULL, NULL); /* copied */
    sipsess_ua_delegate_free(ud);

    /* One session delegate for every call (set_delegate copies it);
     * the call struct is the userdata. */
    sipsess_session_delegate *d = g.sd;
    sipsess_session_delegate_set_on_ack(d, on_ack);
    sipsess_session_delegate_set_on_ack_timeout(d, on_ack_timeout);
    sipsess_session_delegate_set_on_bye(d, on_bye);
    sipsess_session_delegate_set_on_info(d, on_info);
    sipsess_session_delegate_set_on_invite(d, on_reinvite);
    sipsess_session_delegate_set_on_message(d, on_message);
    sipsess_session_delegate_set_on_notify(d, on_notify);
    sipsess_session_delegate_set_on_prack(d, on_prack);
    sipsess_session_delegate_set_on_refer(d, on_refer);
    sipsess_session_delegate_set_on_update(d, on_update);
    sipsess_session_delegate_set_on_cancel(d, on_cancel);
    sipsess_session_delegate_set_on_request(d, on_other);
    sipsess_session_delegate_set_on_state_change(d, on_state_change);
    sipsess_session_delegate_set_on_terminated(d, on_terminated);

    /* 100 Trying is not forwarded: the library's first NOTIFY said it */
    sipsess_response_delegate_set_on_progress(g.transfer_rd, on_transfer_response);
    sipsess_response_delegate_set_on_accept(g.transfer_rd, on_transfer_response);
    sipsess_response_delegate_set_on_redirect(g.transfer_rd, on_transfer_response);
    sipsess_response_delegate_set_on_reject(g.transfer_rd, on_transfer_response);
    sipsess_response_delegate_set_on_accept(g.bye_rd, on_bye_response);
    sipsess_response_delegate_set_on_redirect(g.bye_rd, on_bye_response);
    sipsess_response_delegate_set_on_reject(g.bye_rd, on_bye_response);
    return 0;
}

int main(int argc, char **argv)
{
    const char *listen = "udp:127.0.0.1:5070";
    double max_time = 30;
    int npos = 0;
    ex_log_init("uas");
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--calls") && i + 1 < argc) {
            g.want_calls = (long)ex_number("--calls", argv[++i], usage);
        } else if (!strcmp(argv[i], "--max-time") && i + 1 < argc) {
            max_time = ex_number("--max-time", argv[++i], usage);
        } else if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
            puts(usage);
            return 0;
        } else if (argv[i][0] != '-' && npos++ == 0) {
            listen = argv[i];
        } else {
            fprintf(stderr, "%s\n", usage);
            return 2;
        }
    }

    g.ua = ex_ua_new(listen, "sip:uas@127.0.0.1");
    if (!g.ua || setup() != 0)
        return 2;
    char spec[128];
    size_t n = 0;
    sipsess_ua_listener_spec(g.ua, 0, spec, sizeof spec, &n);
    ex_log("listening on %s", spec);

    int status;
    if (ex_run(g.ua, done, max_time)) {
        ex_log("done: %u calls ended", g.incoming_ended);
        status = 0;
    } else if (g.want_calls > 0) {
        ex_log("max time reached: %u of %ld calls ended", g.incoming_ended, g.want_calls);
        status = 1;
    } else {
        ex_log("max time reached: %u calls ended", g.incoming_ended);
        status = 0;
    }

    /* Ends what still lives (on_terminated runs), then our own references. */
    sipsess_ua_free(g.ua);
    ex_timers_clear();
    while (g.calls) {
        call *c = g.calls;
        g.calls = c->next;
        sipsess_session_unref(c->s);
        free(c);
    }
    sipsess_session_delegate_free(g.sd);
    sipsess_response_delegate_free(g.transfer_rd);
    sipsess_response_delegate_free(g.bye_rd);
    return status;
}
