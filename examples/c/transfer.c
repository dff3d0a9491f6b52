/*
 * transfer — call B, then transfer B to C (blind transfer, RFC 3515).
 *
 * Shows: the referrer side of a REFER: once the call to B is answered it
 * sends REFER with Refer-To: TARGET, then follows the transfer through
 * the NOTIFYs B sends (on_notify; sipsess_request_sipfrag_status is the
 * status line of their message/sipfrag body: 100 Trying, 180 Ringing,
 * 200 OK). When the sipfrag says 2xx the transfer worked: it hangs up its
 * own call (BYE).
 *
 *   make examples && build/bin/example-transfer sip:bob@127.0.0.1:5070 \
 *       sip:carol@127.0.0.1:5071 [--listen udp:127.0.0.1:0] [--max-time SEC]
 *
 * Exits 0 after the BYE that follows a 2xx sipfrag got its 2xx; 1 when
 * the REFER is refused, the sipfrag reports a failure, or --max-time
 * (default 10 s) passes. Run examples/{c,python,lua}/uas.* as B and C.
 * Same program in Python (examples/python/transfer.py) and Lua
 * (examples/lua/transfer.lua).
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <sipsess/sipsess.h>

#include "common.h"

static const char usage[] =
    "usage: example-transfer URI TARGET [--listen SPEC] [--max-time SEC]";

static struct {
    sipsess_ua *ua;
    const char *target;
    sipsess_session *s;         /* our reference */
    int result;                 /* -1 running, 0 success, 1 failure */
    unsigned final;             /* the final sipfrag status */
    sipsess_response_delegate *invite_rd, *refer_rd, *bye_rd;
} g = {.result = -1};

static void finish(int code, const char *text)
{
    if (g.result < 0) {
        g.result = code;
        ex_log("%s", text);
    }
}

EX_PRINTF(1, 2) static void fail(const char *fmt, ...);
static void fail(const char *fmt, ...)
{
    char text[300] = "FAIL: ";
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text + 6, sizeof text - 6, fmt, ap);
    va_end(ap);
    finish(1, text);
    if (sipsess_session_get_state(g.s) == SIPSESS_SESSION_CONFIRMED)
        sipsess_session_bye(g.s, NULL, NULL, NULL);
}

static void on_bye_response(sipsess_session *s, const sipsess_msg *resp, void *ud)
{
    (void)s;
    (void)ud;
    char status[128];
    ex_status_text(resp, status, sizeof status);
    if (!resp || sipsess_msg_status(resp) >= 300) {
        fail("BYE -> %s", status);
        return;
    }
    ex_log("BYE -> %s", status);
    finish(0, "PASS");
}

static void hangup(void *arg)
{
    (void)arg;
    int e = sipsess_session_bye(g.s, NULL, g.bye_rd, NULL);
    if (e)
        fail("BYE not sent: %s", sipsess_strerror(e));
}

static void on_refer_response(sipsess_session *s, const sipsess_msg *resp, void *ud)
{
    (void)s;
    (void)ud;
    char status[128];
    ex_status_text(resp, status, sizeof status);
    if (!resp || sipsess_msg_status(resp) >= 300) {
        fail("REFER to %s -> %s", g.target, status);
        return;
    }
    ex_log("REFER to %s -> %s", g.target, status);
}

static void refer(void *arg)
{
    (void)arg;
    int e = sipsess_session_refer(g.s, g.target, NULL, g.refer_rd, NULL);
    if (e)
        fail("REFER not sent: %s", sipsess_strerror(e));
}

static void on_invite_response(sipsess_session *s, const sipsess_msg *resp, void *ud)
{
    (void)s;
    (void)ud;
    char status[128];
    ex_status_text(resp, status, sizeof status);
    if (!resp || sipsess_msg_status(resp) >= 300) {
        fail("INVITE -> %s", status);
        return;
    }
    ex_log("INVITE -> %s", status);
    ex_later(g.ua, 0, refer, NULL);
}

/* The progress of the transfer (RFC 3515 §2.4.5). */
static int on_notify(sipsess_session *s, sipsess_request *req, void *ud)
{
    (void)s;
    (void)ud;
    unsigned status = sipsess_request_sipfrag_status(req);
    int ended = sipsess_request_subscription_terminated(req);
    sipsess_request_accept(req, NULL, 0, NULL, NULL);
    sipsess_str body = sipsess_request_body(req);
    const char *eol = body.p ? memchr(body.p, '\r', body.len) : NULL;
    int line = eol ? (int)(eol - body.p) : (int)body.len;
    ex_log("NOTIFY sipfrag \"%.*s\"%s", line, body.p ? body.p : "",
           ended ? " (subscription terminated)" : "");
    if (status >= 200 && !g.final) {
        g.final = status;
        if (status < 300)
            ex_later(g.ua, 0, hangup, NULL);
        else
            fail("the transfer failed: %u", status);
    } else if (ended && !g.final) {
        fail("the subscription ended without a final status");
    }
    return 0;
}

static void on_terminated(sipsess_session *s, sipsess_term_cause cause, void *ud)
{
    (void)s;
    (void)ud;
    ex_log("call ended: %s", ex_cause_name(cause));
    if (g.result < 0 && cause != SIPSESS_TERM_LOCAL_BYE)
        fail("the call ended early (%s)", ex_cause_name(cause));
}

static int done(void)
{
    return g.result >= 0;
}

int main(int argc, char **argv)
{
    const char *uri = NULL, *listen = "udp:127.0.0.1:0";
    double max_time = 10;
    ex_log_init("transfer");
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--listen") && i + 1 < argc) {
            listen = argv[++i];
        } else if (!strcmp(argv[i], "--max-time") && i + 1 < argc) {
            max_time = ex_number("--max-time", argv[++i], usage);
        } else if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
            puts(usage);
            return 0;
        } else if (argv[i][0] != '-' && !uri) {
            uri = argv[i];
        } else if (argv[i][0] != '-' && !g.target) {
            g.target = argv[i];
        } else {
            fprintf(stderr, "%s\n", usage);
            return 2;
        }
    }
    if (!uri || !g.target) {
        fprintf(stderr, "%s\n", usage);
        return 2;
    }

    g.ua = ex_ua_new(listen, "sip:transfer@127.0.0.1");
    sipsess_session_delegate *sd = NULL;
    if (!g.ua || sipsess_response_delegate_new(&g.invite_rd) ||
        sipsess_response_delegate_new(&g.refer_rd) || sipsess_response_delegate_new(&g.bye_rd) ||
        sipsess_session_delegate_new(&sd))
        return 2;
    /* final responses only: on_accept, on_redirect, on_reject */
    sipsess_response_delegate *rds[] = {g.invite_rd, g.refer_rd, g.bye_rd};
    sipsess_response_cb cbs[] = {on_invite_response, on_refer_response, on_bye_response};
    for (int i = 0; i < 3; i++) {
        sipsess_response_delegate_set_on_accept(rds[i], cbs[i]);
        sipsess_response_delegate_set_on_redirect(rds[i], cbs[i]);
        sipsess_response_delegate_set_on_reject(rds[i], cbs[i]);
    }
    sipsess_session_delegate_set_on_notify(sd, on_notify);
    sipsess_session_delegate_set_on_terminated(sd, on_terminated);

    ex_log("calling %s", uri);
    char body[EX_SDP_MAX];
    size_t n = ex_sdp(body, sizeof body, 1, "sendrecv", 4000);
    sipsess_session *s = NULL;
    int e = sipsess_ua_invite(g.ua, uri, body, n, EX_SDP_TYPE, NULL, g.invite_rd, NULL, &s);
    int status;
    if (e) {
        ex_log("FAIL: cannot call %s: %s", uri, sipsess_strerror(e));
        status = 1;
    } else {
        g.s = sipsess_session_ref(s);
        sipsess_session_set_delegate(s, sd, NULL, NULL);
        if (ex_run(g.ua, done, max_time)) {
            status = g.result;
        } else {
            char text[96];
            snprintf(text, sizeof text, "FAIL: timeout after %g s", max_time);
            finish(1, text);
            status = 1;
        }
    }
    sipsess_ua_free(g.ua);
    ex_timers_clear();
    sipsess_session_unref(g.s);
    sipsess_session_delegate_free(sd);
    for (int i = 0; i < 3; i++)
        sipsess_response_delegate_free(rds[i]);
    return status;
}
