/*
 * hold — call, put the call on hold and take it back, hang up.
 *
 * Shows: placing a call with an SDP offer, then in-dialog requests one
 * after the other, each sent when the previous one got its final
 * response: re-INVITE with a=sendonly (hold: the answer must say recvonly
 * or inactive), INFO, MESSAGE, re-INVITE with a=sendrecv (unhold: the
 * answer must say sendrecv), UPDATE without a body, BYE. Each 200 to a
 * re-INVITE must carry an SDP answer.
 *
 *   make examples && build/bin/example-hold sip:bob@127.0.0.1:5070 \
 *       [--listen udp:127.0.0.1:0] [--max-time SEC]
 *
 * Exits 0 when every step got its 2xx, 1 on the first failure or after
 * --max-time (default 10 s). Run examples/{c,python,lua}/uas.* as the peer. Same
 * program in Python (examples/python/hold.py) and Lua (examples/lua/hold.lua).
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <sipsess/sipsess.h>

#include "common.h"

static const char usage[] =
    "usage: example-hold URI [--listen SPEC] [--max-time SEC]";

/* what, request, direction of our offer, directions accepted in the answer */
static const struct step {
    const char *what, *method, *offer_dir, *want[2];
} steps[] = {
    {"hold", "INVITE", "sendonly", {"recvonly", "inactive"}},
    {"dtmf", "INFO", NULL, {NULL, NULL}},
    {"text", "MESSAGE", NULL, {NULL, NULL}},
    {"unhold", "INVITE", "sendrecv", {"sendrecv", NULL}},
    {"refresh", "UPDATE", NULL, {NULL, NULL}},
    {"hangup", "BYE", NULL, {NULL, NULL}},
};

static struct {
    sipsess_ua *ua;
    sipsess_session *s;         /* our reference */
    unsigned version;           /* our SDP version */
    int step;                   /* index in steps, -1 before the first */
    int result;                 /* -1 running, 0 success, 1 failure */
    sipsess_response_delegate *invite_rd, *step_rd;
} g = {.step = -1, .result = -1};

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

static void next_step(void *arg)
{
    (void)arg;
    const struct step *st = &steps[++g.step];
    char body[EX_SDP_MAX];
    int e;
    if (!strcmp(st->method, "INVITE")) {
        size_t n = ex_sdp(body, sizeof body, ++g.version, st->offer_dir, 4000);
        e = sipsess_session_invite(g.s, body, n, EX_SDP_TYPE, NULL, g.step_rd, NULL);
    } else if (!strcmp(st->method, "INFO")) {
        static const char dtmf[] = "Signal=5\r\nDuration=160\r\n";
        e = sipsess_session_info(g.s, dtmf, strlen(dtmf), "application/dtmf-relay", NULL,
                                 g.step_rd, NULL);
    } else if (!strcmp(st->method, "MESSAGE")) {
        static const char text[] = "on hold for a moment";
        e = sipsess_session_message(g.s, text, strlen(text), "text/plain", NULL, g.step_rd, NULL);
    } else if (!strcmp(st->method, "UPDATE")) {
        e = sipsess_session_update(g.s, NULL, 0, NULL, NULL, g.step_rd, NULL);
    } else {
        e = sipsess_session_bye(g.s, NULL, g.step_rd, NULL);
    }
    if (e)
        fail("%s: %s not sent: %s", st->what, st->method, sipsess_strerror(e));
}

/* The final response of the current step (on_accept, on_redirect, on_reject). */
static void on_step_response(sipsess_session *s, const sipsess_msg *resp, void *ud)
{
    (void)s;
    (void)ud;
    const struct step *st = &steps[g.step];
    char label[64], status[128];
    snprintf(label, sizeof label, "%s: %s%s%s", st->what, st->method, st->offer_dir ? " " : "",
             st->offer_dir ? st->offer_dir : "");
    ex_status_text(resp, status, sizeof status);
    if (!resp || sipsess_msg_status(resp) >= 300) {
        fail("%s -> %s", label, status);
        return;
    }
    if (st->want[0]) {
        sipsess_str body = sipsess_msg_body(resp);
        const char *got = ex_direction(body);
        ex_log("%s -> %s answer %s", label, status, got);
        if (!body.len) {
            fail("%s: the 200 carries no SDP answer", label);
            return;
        }
        if (strcmp(got, st->want[0]) && (!st->want[1] || strcmp(got, st->want[1]))) {
            fail("%s: answer %s, expected %s%s%s", label, got, st->want[0],
                 st->want[1] ? " or " : "", st->want[1] ? st->want[1] : "");
            return;
        }
    } else {
        ex_log("%s -> %s", label, status);
    }
    if (!strcmp(st->method, "BYE"))
        finish(0, "PASS");
    else
        ex_later(g.ua, 0, next_step, NULL);
}

static void on_invite_progress(sipsess_session *s, const sipsess_msg *resp, void *ud)
{
    (void)s;
    (void)ud;
    char status[128];
    ex_log("%s", ex_status_text(resp, status, sizeof status));
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
    sipsess_str body = sipsess_msg_body(resp);
    ex_log("INVITE -> %s sdp %s", status, ex_direction(body));
    if (!body.len) {
        fail("the 200 carries no SDP answer");
        return;
    }
    ex_later(g.ua, 0, next_step, NULL);
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
    ex_log_init("hold");
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
        } else {
            fprintf(stderr, "%s\n", usage);
            return 2;
        }
    }
    if (!uri) {
        fprintf(stderr, "%s\n", usage);
        return 2;
    }

    g.ua = ex_ua_new(listen, "sip:hold@127.0.0.1");
    sipsess_session_delegate *sd = NULL;
    if (!g.ua || sipsess_response_delegate_new(&g.invite_rd) ||
        sipsess_response_delegate_new(&g.step_rd) || sipsess_session_delegate_new(&sd))
        return 2;
    sipsess_response_delegate_set_on_progress(g.invite_rd, on_invite_progress);
    sipsess_response_delegate_set_on_accept(g.invite_rd, on_invite_response);
    sipsess_response_delegate_set_on_redirect(g.invite_rd, on_invite_response);
    sipsess_response_delegate_set_on_reject(g.invite_rd, on_invite_response);
    sipsess_response_delegate_set_on_accept(g.step_rd, on_step_response);
    sipsess_response_delegate_set_on_redirect(g.step_rd, on_step_response);
    sipsess_response_delegate_set_on_reject(g.step_rd, on_step_response);
    sipsess_session_delegate_set_on_terminated(sd, on_terminated);

    ex_log("calling %s", uri);
    char body[EX_SDP_MAX];
    size_t n = ex_sdp(body, sizeof body, ++g.version, "sendrecv", 4000);
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
            snprintf(text, sizeof text, "FAIL: timeout after %g s (step %d)", max_time,
                     g.step + 1);
            finish(1, text);
            status = 1;
        }
    }
    sipsess_ua_free(g.ua);
    ex_timers_clear();
    sipsess_session_unref(g.s);
    sipsess_session_delegate_free(sd);
    sipsess_response_delegate_free(g.invite_rd);
    sipsess_response_delegate_free(g.step_rd);
    return status;
}
