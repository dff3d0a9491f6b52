/*
 * INVITE sessions end to end (RFC 3261 §12-§15, RFC 3262, 3264, 3311,
 * 3515, 3891, 6337): two (or three) user agents on an in-memory network
 * with virtual clocks, every delegate callback, every default answer,
 * state and offer/answer transitions, timers (ACK wait, 491 retry, 100rel
 * retransmission and timeout), forking, REFER with its NOTIFYs, and a few
 * calls over real loopback UDP and TCP; merged requests (482).
 */
#include "sess_harness.h"

TestSuite(session, .init = h_setup, .fini = h_teardown, .timeout = 60);

/* Basic call A → B with offer in INVITE and answer in 2xx, then BYE. */
Test(session, basic_call_and_bye_from_callee)
{
    h_peer(&g_a, "alice", 5001, NULL);
    h_peer(&g_b, "bob", 5002, NULL);
    g_b.on_invite = ACT_ACCEPT;
    g_b.answer_body = ANSWER1;
    rsp r = {0};
    sipsess_session *s = NULL;
    cr_assert_eq(sipsess_ua_invite(g_a.ua, g_b.uri, OFFER1, strlen(OFFER1), SDP, NULL, h_rd(),
                                   &r, &s),
                 0);
    cr_assert_not_null(s);
    sipsess_session_ref(s);
    h_install(s, &g_a);
    cr_assert_eq(sipsess_session_get_signaling_state(s), SIPSESS_SIGNALING_HAVE_LOCAL_OFFER);
    h_run(200);
    cr_assert_eq(g_b.n_invite, 1);
    cr_assert_eq(r.n_accept, 1);
    cr_assert_eq(sipsess_session_get_state(s), SIPSESS_SESSION_CONFIRMED);
    cr_assert_eq(sipsess_session_get_state(g_b.sess), SIPSESS_SESSION_CONFIRMED);
    cr_assert_eq(g_b.n_ack, 1);
    cr_assert_eq(sipsess_session_get_signaling_state(s), SIPSESS_SIGNALING_STABLE);
    cr_assert_eq(sipsess_session_get_signaling_state(g_b.sess), SIPSESS_SIGNALING_STABLE);
    sipsess_str b = sipsess_session_body(s, SIPSESS_BODY_REMOTE_ANSWER, NULL);
    cr_assert_eq(b.len, strlen(ANSWER1));
    b = sipsess_session_body(g_b.sess, SIPSESS_BODY_REMOTE_OFFER, NULL);
    cr_assert_eq(b.len, strlen(OFFER1));
    cr_assert_eq(sipsess_session_bye(g_b.sess, NULL, NULL, NULL), 0);
    h_run(100);
    cr_assert_eq(g_a.n_bye, 1);
    cr_assert_eq(g_a.n_terminated, 1);
    cr_assert_eq(g_a.cause, SIPSESS_TERM_REMOTE_BYE);
    cr_assert_eq(g_b.cause, SIPSESS_TERM_LOCAL_BYE);
    cr_assert_eq(g_a.n_destroy, 1);
    cr_assert_eq(g_b.n_destroy, 1);
    cr_assert_eq(sipsess_session_bye(s, NULL, NULL, NULL), SIPSESS_ESTATE);
    sipsess_session_unref(s);
}

/* ---- helpers ---- */

static sipsess_session *call(peer *from, peer *to, const char *offer, rsp *r)
{
    sipsess_session *s = NULL;
    cr_assert_eq(sipsess_ua_invite(from->ua, to->uri, offer, offer ? strlen(offer) : 0,
                                   offer ? SDP : NULL, NULL, h_rd(), r, &s),
                 0);
    sipsess_session_ref(s);
    h_install(s, from);
    return s;
}

static void two(void)
{
    h_peer(&g_a, "alice", 5001, NULL);
    h_peer(&g_b, "bob", 5002, NULL);
}

/* An established call A → B (offer in INVITE, answer in 2xx). */
static sipsess_session *established(rsp *r)
{
    two();
    g_b.on_invite = ACT_ACCEPT;
    g_b.answer_body = ANSWER1;
    sipsess_session *s = call(&g_a, &g_b, OFFER1, r);
    h_run(200);
    cr_assert_eq(sipsess_session_get_state(s), SIPSESS_SESSION_CONFIRMED);
    cr_assert_eq(sipsess_session_get_state(g_b.sess), SIPSESS_SESSION_CONFIRMED);
    return s;
}

Test(session, bye_from_caller_gets_response_delegate)
{
    rsp r = {0}, rb = {0};
    sipsess_session *s = established(&r);
    cr_assert_eq(sipsess_session_bye(s, "Reason: Q.850;cause=16", h_rd(), &rb), 0);
    /* Terminated at once; told on the next step (outside the loop). */
    cr_assert_eq(sipsess_session_get_state(s), SIPSESS_SESSION_TERMINATED);
    cr_assert_eq(g_a.n_terminated, 0);
    h_run(100);
    cr_assert_eq(g_a.n_terminated, 1);
    cr_assert_eq(g_a.cause, SIPSESS_TERM_LOCAL_BYE);
    cr_assert_eq(g_b.n_bye, 1);
    cr_assert_eq(g_b.cause, SIPSESS_TERM_REMOTE_BYE);
    cr_assert_eq(rb.n_accept, 1);
    cr_assert_eq(rb.last_session, s);
    /* states seen by the callee: Early never, AckWait, Confirmed, Terminated */
    cr_assert_eq(g_b.n_states, 3);
    cr_assert_eq(g_b.states[0], SIPSESS_SESSION_ACK_WAIT);
    cr_assert_eq(g_b.states[1], SIPSESS_SESSION_CONFIRMED);
    cr_assert_eq(g_b.states[2], SIPSESS_SESSION_TERMINATED);
    /* everything on a Terminated session is ESTATE */
    cr_assert_eq(sipsess_session_bye(s, NULL, NULL, NULL), SIPSESS_ESTATE);
    cr_assert_eq(sipsess_session_info(s, "x", 1, "text/plain", NULL, NULL, NULL), SIPSESS_ESTATE);
    cr_assert_eq(sipsess_session_invite(s, NULL, 0, NULL, NULL, NULL, NULL), SIPSESS_ESTATE);
    cr_assert_eq(sipsess_session_update(s, NULL, 0, NULL, NULL, NULL, NULL), SIPSESS_ESTATE);
    cr_assert_eq(sipsess_session_message(s, "x", 1, NULL, NULL, NULL, NULL), SIPSESS_ESTATE);
    cr_assert_eq(sipsess_session_notify(s, NULL, 0, NULL, NULL, NULL, NULL), SIPSESS_ESTATE);
    cr_assert_eq(sipsess_session_prack(s, NULL, 0, NULL, NULL, NULL, NULL), SIPSESS_ESTATE);
    cr_assert_eq(sipsess_session_refer(s, "sip:x@127.0.0.1", NULL, NULL, NULL), SIPSESS_ESTATE);
    cr_assert_eq(sipsess_session_cancel(s, NULL), SIPSESS_ESTATE);
    cr_assert_eq(sipsess_session_ack(s, NULL, 0, NULL), SIPSESS_ESTATE);
    cr_assert_eq(sipsess_session_terminate(s), SIPSESS_ESTATE);
    cr_assert_eq(sipsess_session_request(s, "FOO", NULL, 0, NULL, NULL, NULL, NULL),
                 SIPSESS_ESTATE);
    sipsess_session_unref(s);
}

Test(session, default_480_without_callback)
{
    two();
    g_b.on_invite = ACT_DEFAULT;
    rsp r = {0};
    sipsess_session *s = call(&g_a, &g_b, OFFER1, &r);
    h_run(300);
    cr_assert_eq(r.n_reject, 1);
    cr_assert_eq(r.last_status, 480);
    cr_assert_eq(g_a.cause, SIPSESS_TERM_REJECTED);
    cr_assert_eq(g_b.cause, SIPSESS_TERM_REJECTED);
    cr_assert_eq(g_b.n_destroy, 1);
    cr_assert_eq(sipsess_session_get_signaling_state(s), SIPSESS_SIGNALING_CLOSED);
    sipsess_session_unref(s);
}

Test(session, reject_redirect_and_callback_failure)
{
    two();
    rsp r1 = {0}, r2 = {0}, r3 = {0};
    g_b.on_invite = ACT_REJECT;
    g_b.reject_status = 486;
    sipsess_session *s1 = call(&g_a, &g_b, OFFER1, &r1);
    h_run(300);
    cr_assert_eq(r1.n_reject, 1);
    cr_assert_eq(r1.last_status, 486);
    cr_assert_eq(sipsess_session_term_cause(s1), SIPSESS_TERM_REJECTED);
    g_b.on_invite = ACT_REDIRECT;
    sipsess_session *s2 = call(&g_a, &g_b, OFFER1, &r2);
    h_run(300);
    cr_assert_eq(r2.n_redirect, 1);
    cr_assert_eq(r2.last_status, 302);
    cr_assert_eq(sipsess_session_term_cause(s2), SIPSESS_TERM_REDIRECTED);
    g_b.on_invite = ACT_FAIL;
    sipsess_session *s3 = call(&g_a, &g_b, OFFER1, &r3);
    h_run(300);
    cr_assert_eq(r3.n_reject, 1);
    cr_assert_eq(r3.last_status, 500);
    sipsess_session_unref(s1);
    sipsess_session_unref(s2);
    sipsess_session_unref(s3);
}

Test(session, early_dialog_then_async_accept)
{
    two();
    g_b.on_invite = ACT_PROGRESS;
    rsp r = {0};
    sipsess_session *s = call(&g_a, &g_b, OFFER1, &r);
    h_run(300);
    cr_assert_eq(r.n_progress, 1);
    cr_assert_eq(r.last_status, 180);
    cr_assert_eq(r.last_session, s);
    cr_assert_eq(sipsess_session_get_state(s), SIPSESS_SESSION_EARLY);
    cr_assert_eq(sipsess_session_get_state(g_b.sess), SIPSESS_SESSION_EARLY);
    cr_assert_not_null(sipsess_session_remote_tag(s).p);
    cr_assert_eq(sipsess_session_remote_tag(s).len, sipsess_session_local_tag(g_b.sess).len);
    cr_assert_not_null(g_b.kept);
    /* a callee may not BYE an early dialog; a re-INVITE needs a confirmed one */
    cr_assert_eq(sipsess_session_bye(g_b.sess, NULL, NULL, NULL), SIPSESS_ESTATE);
    cr_assert_eq(sipsess_session_invite(s, OFFER2, strlen(OFFER2), SDP, NULL, NULL, NULL),
                 SIPSESS_ESTATE);
    /* answered later, from outside any callback */
    cr_assert_eq(sipsess_request_accept(g_b.kept, ANSWER1, strlen(ANSWER1), SDP, NULL), 0);
    cr_assert_eq(sipsess_request_accept(g_b.kept, ANSWER1, strlen(ANSWER1), SDP, NULL),
                 SIPSESS_ESTATE);
    h_run(300);
    cr_assert_eq(r.n_accept, 1);
    cr_assert_eq(sipsess_session_get_state(s), SIPSESS_SESSION_CONFIRMED);
    cr_assert_eq(g_a.states[0], SIPSESS_SESSION_EARLY);
    cr_assert_eq(g_a.states[1], SIPSESS_SESSION_CONFIRMED);
    cr_assert_eq(g_b.states[0], SIPSESS_SESSION_EARLY);
    cr_assert_eq(g_b.states[1], SIPSESS_SESSION_ACK_WAIT);
    cr_assert_eq(g_b.states[2], SIPSESS_SESSION_CONFIRMED);
    sipsess_session_unref(s);
}

Test(session, kept_invite_gets_500_before_timeout)
{
    two();
    g_b.on_invite = ACT_KEEP;
    rsp r = {0};
    sipsess_session *s = call(&g_a, &g_b, OFFER1, &r);
    h_run(1000);
    cr_assert_eq(r.n_trying, 1); /* the IST's automatic 100 */
    cr_assert_eq(r.n_reject, 0);
    h_run(171000);
    cr_assert_eq(r.n_reject, 1);
    cr_assert_eq(r.last_status, 500);
    cr_assert(sipsess_request_answered(g_b.kept));
    sipsess_session_unref(s);
}

Test(session, cancel_before_answer)
{
    two();
    g_b.on_invite = ACT_PROGRESS;
    rsp r = {0};
    sipsess_session *s = call(&g_a, &g_b, OFFER1, &r);
    h_run(200);
    cr_assert_eq(sipsess_session_get_state(s), SIPSESS_SESSION_EARLY);
    h_last("CANCEL");
    cr_assert_eq(sipsess_session_cancel(s, "Reason: SIP;cause=600;text=\"Busy Everywhere\""), 0);
    cr_assert_eq(sipsess_session_cancel(s, NULL), 0); /* once is enough */
    h_run(300);
    cr_assert_not_null(strstr(h_last("CANCEL"), "Reason: SIP;cause=600"));
    cr_assert_eq(g_b.n_cancel, 1);
    cr_assert_eq(g_b.cause, SIPSESS_TERM_CANCELLED);
    cr_assert_eq(r.n_reject, 1);
    cr_assert_eq(r.last_status, 487);
    cr_assert_eq(g_a.cause, SIPSESS_TERM_CANCELLED);
    cr_assert_eq(h_count("CANCEL"), 1);
    cr_assert(sipsess_request_answered(g_b.kept));
    cr_assert_eq(sipsess_request_accept(g_b.kept, NULL, 0, NULL, NULL), SIPSESS_ESTATE);
    sipsess_session_unref(s);
}

Test(session, terminate_in_every_state)
{
    two();
    /* caller, Initial (no provisional yet): the CANCEL waits for one */
    g_b.on_invite = ACT_PROGRESS;
    rsp r = {0};
    sipsess_session *s = call(&g_a, &g_b, OFFER1, &r);
    cr_assert_eq(sipsess_session_terminate(s), 0);
    h_run(500);
    cr_assert_eq(sipsess_session_term_cause(s), SIPSESS_TERM_CANCELLED);
    cr_assert_eq(g_b.cause, SIPSESS_TERM_CANCELLED);
    sipsess_session_unref(s);
    /* callee, early: 480 */
    rsp r2 = {0};
    s = call(&g_a, &g_b, OFFER1, &r2);
    h_run(200);
    cr_assert_eq(sipsess_session_terminate(g_b.sess), 0);
    h_run(200);
    cr_assert_eq(r2.last_status, 480);
    cr_assert_eq(sipsess_session_term_cause(s), SIPSESS_TERM_REJECTED);
    sipsess_session_unref(s);
    /* confirmed: BYE */
    g_b.on_invite = ACT_ACCEPT;
    g_b.answer_body = ANSWER1;
    rsp r3 = {0};
    s = call(&g_a, &g_b, OFFER1, &r3);
    h_run(200);
    cr_assert_eq(sipsess_session_terminate(g_b.sess), 0);
    h_run(200);
    cr_assert_eq(sipsess_session_term_cause(s), SIPSESS_TERM_REMOTE_BYE);
    sipsess_session_unref(s);
}

Test(session, ack_timeout_sends_bye)
{
    two();
    g_b.on_invite = ACT_ACCEPT;
    g_b.answer_body = ANSWER1;
    h_drop("ACK", 1000);
    rsp r = {0};
    sipsess_session *s = call(&g_a, &g_b, OFFER1, &r);
    h_run(100);
    cr_assert_eq(sipsess_session_get_state(g_b.sess), SIPSESS_SESSION_ACK_WAIT);
    /* BYE as callee before the ACK is not allowed (§15) */
    cr_assert_eq(sipsess_session_bye(g_b.sess, NULL, NULL, NULL), SIPSESS_ESTATE);
    h_count_reset();
    h_run(31000);
    /* 2xx at 0, then 0.5, 1, 2, 4, 4, 4 ... s: the UAC re-ACKs each */
    int n2xx = h_count("SIP/2.0 200");
    /* 0.5 1.5 3.5 7.5 11.5 ... 27.5 s: T1 doubling to T2 (§13.3.1.4) */
    cr_assert_eq(n2xx, 9, "%d retransmissions", n2xx);
    cr_assert_eq(g_b.n_ack_timeout, 0);
    h_run(1500);
    cr_assert_eq(g_b.n_ack_timeout, 1);
    cr_assert_eq(g_b.cause, SIPSESS_TERM_ACK_TIMEOUT);
    h_run(500);
    cr_assert_eq(g_a.n_bye, 1);
    cr_assert_eq(g_a.cause, SIPSESS_TERM_REMOTE_BYE);
    sipsess_session_unref(s);
}

Test(session, in_dialog_requests_callbacks_and_defaults)
{
    rsp r = {0};
    sipsess_session *s = established(&r);
    rsp ri = {0}, rm = {0}, rn = {0}, ro = {0}, rx = {0};
    g_b.on_info = ACT_ACCEPT;
    cr_assert_eq(sipsess_session_info(s, "Signal=1\r\n", 10, "application/dtmf-relay", NULL,
                                      h_rd(), &ri),
                 0);
    cr_assert_eq(sipsess_session_message(s, "hi", 2, "text/plain", NULL, h_rd(), &rm), 0);
    cr_assert_eq(sipsess_session_notify(s, NULL, 0, NULL, "Event: dialog", h_rd(), &rn), 0);
    cr_assert_eq(sipsess_session_request(s, "OPTIONS", NULL, 0, NULL, NULL, h_rd(), &ro), 0);
    cr_assert_eq(sipsess_session_request(s, "FOO", NULL, 0, NULL, NULL, h_rd(), &rx), 0);
    cr_assert_eq(sipsess_session_request(s, "ACK", NULL, 0, NULL, NULL, NULL, NULL),
                 SIPSESS_EINVAL);
    cr_assert_eq(sipsess_session_request(s, "BAD METHOD", NULL, 0, NULL, NULL, NULL, NULL),
                 SIPSESS_EINVAL);
    h_run(200);
    cr_assert_eq(g_b.n_info, 1);
    cr_assert_str_eq(g_b.last_method, "FOO");
    cr_assert_eq(ri.n_accept, 1);
    cr_assert_eq(g_b.n_message, 1);
    cr_assert_eq(rm.n_accept, 1);
    cr_assert_eq(g_b.n_notify, 1);
    cr_assert_eq(rn.n_accept, 1);
    cr_assert_eq(ro.n_accept, 1);
    cr_assert_eq(g_b.n_other, 2);
    cr_assert_eq(rx.n_reject, 1);
    cr_assert_eq(rx.last_status, 501);
    /* INFO with no callback: 469 */
    sipsess_session_delegate *d = NULL;
    sipsess_session_delegate_new(&d);
    cr_assert_eq(sipsess_session_set_delegate(g_b.sess, d, NULL, NULL), 0);
    cr_assert_eq(g_b.n_destroy, 1); /* replaced: destroy once */
    sipsess_session_delegate_free(d);
    rsp ri2 = {0}, rr = {0}, ru = {0};
    cr_assert_eq(sipsess_session_info(s, "x", 1, "text/plain", NULL, h_rd(), &ri2), 0);
    cr_assert_eq(sipsess_session_refer(s, "sip:carol@127.0.0.1:5003", NULL, h_rd(), &rr), 0);
    cr_assert_eq(sipsess_session_update(s, NULL, 0, NULL, NULL, h_rd(), &ru), 0);
    h_run(200);
    cr_assert_eq(ri2.last_status, 469);
    cr_assert_eq(rr.last_status, 603);
    cr_assert_eq(ru.n_accept, 1);
    /* ECALLBACK → 500 */
    h_install(g_b.sess, &g_b);
    g_b.on_message = ACT_FAIL;
    rsp rm2 = {0};
    cr_assert_eq(sipsess_session_message(s, "x", 1, NULL, NULL, h_rd(), &rm2), 0);
    h_run(200);
    cr_assert_eq(rm2.last_status, 500);
    /* kept non-INVITE never answered: 500 before Timer F */
    g_b.on_info = ACT_KEEP;
    rsp ri3 = {0};
    cr_assert_eq(sipsess_session_info(s, "x", 1, "text/plain", NULL, h_rd(), &ri3), 0);
    h_run(30000);
    cr_assert_eq(ri3.n_reject, 0);
    h_run(2000);
    cr_assert_eq(ri3.last_status, 500);
    cr_assert_eq(sipsess_session_get_state(s), SIPSESS_SESSION_CONFIRMED);
    sipsess_session_unref(s);
}

/* ---- offer/answer (RFC 3264, RFC 6337 §2.1 patterns) ---- */

Test(session, reinvite_hold_offer_answer_and_rejection_rollback)
{
    rsp r = {0};
    sipsess_session *s = established(&r);
    g_b.on_reinvite = ACT_ACCEPT;
    g_b.answer_body = ANSWER2;
    rsp ri = {0};
    cr_assert_eq(sipsess_session_invite(s, OFFER2, strlen(OFFER2), SDP, NULL, h_rd(), &ri), 0);
    cr_assert_eq(sipsess_session_get_signaling_state(s), SIPSESS_SIGNALING_HAVE_LOCAL_OFFER);
    /* one re-INVITE at a time (§14.1) */
    cr_assert_eq(sipsess_session_invite(s, OFFER2, strlen(OFFER2), SDP, NULL, NULL, NULL),
                 SIPSESS_ESTATE);
    cr_assert_eq(sipsess_session_update(s, OFFER2, strlen(OFFER2), SDP, NULL, NULL, NULL),
                 SIPSESS_ESTATE);
    h_run(200);
    cr_assert_eq(g_b.n_reinvite, 1);
    cr_assert_eq(sipsess_session_body(g_b.sess, SIPSESS_BODY_REMOTE_OFFER, NULL).len,
                 strlen(OFFER2));
    cr_assert_eq(ri.n_accept, 1);
    cr_assert_eq(g_b.n_ack, 2);
    cr_assert_eq(sipsess_session_get_signaling_state(s), SIPSESS_SIGNALING_STABLE);
    sipsess_str b = sipsess_session_body(s, SIPSESS_BODY_REMOTE_ANSWER, NULL);
    cr_assert_eq(b.len, strlen(ANSWER2));
    b = sipsess_session_body(g_b.sess, SIPSESS_BODY_LOCAL_ANSWER, NULL);
    cr_assert_eq(b.len, strlen(ANSWER2));
    /* rejected re-INVITE (default 488): the offer rolls back */
    g_b.on_reinvite = ACT_DEFAULT;
    rsp rj = {0};
    cr_assert_eq(sipsess_session_invite(s, OFFER1, strlen(OFFER1), SDP, NULL, h_rd(), &rj), 0);
    h_run(200);
    cr_assert_eq(rj.last_status, 488);
    cr_assert_eq(sipsess_session_get_signaling_state(s), SIPSESS_SIGNALING_STABLE);
    cr_assert_eq(sipsess_session_get_signaling_state(g_b.sess), SIPSESS_SIGNALING_STABLE);
    b = sipsess_session_body(s, SIPSESS_BODY_LOCAL_OFFER, NULL);
    cr_assert_eq(b.len, strlen(OFFER2));
    cr_assert_eq(sipsess_session_get_state(s), SIPSESS_SESSION_CONFIRMED);
    sipsess_session_unref(s);
}

/* Pattern: INVITE without offer → 2xx offer → ACK answer. */
Test(session, offer_in_2xx_answer_in_ack)
{
    two();
    g_b.on_invite = ACT_ACCEPT;
    g_b.answer_body = OFFER1; /* the callee offers */
    rsp r = {0};
    r.ack_in_accept = 1;
    sipsess_session *s = call(&g_a, &g_b, NULL, &r);
    cr_assert_eq(sipsess_session_get_signaling_state(s), SIPSESS_SIGNALING_INITIAL);
    h_run(200);
    cr_assert_eq(r.n_accept, 1);
    cr_assert_eq(sipsess_session_get_state(s), SIPSESS_SESSION_CONFIRMED);
    cr_assert_eq(sipsess_session_get_signaling_state(s), SIPSESS_SIGNALING_STABLE);
    cr_assert_eq(sipsess_session_get_signaling_state(g_b.sess), SIPSESS_SIGNALING_STABLE);
    cr_assert_str_eq(g_b.last_body, ANSWER1);
    sipsess_str b = sipsess_session_body(g_b.sess, SIPSESS_BODY_REMOTE_ANSWER, NULL);
    cr_assert_eq(b.len, strlen(ANSWER1));
    b = sipsess_session_body(s, SIPSESS_BODY_REMOTE_OFFER, NULL);
    cr_assert_eq(b.len, strlen(OFFER1));
    /* re-INVITE without offer: the 2xx offers, the ACK answers */
    g_b.on_reinvite = ACT_ACCEPT;
    g_b.answer_body = OFFER2;
    rsp ri = {0};
    ri.ack_in_accept = 1;
    cr_assert_eq(sipsess_session_invite(s, NULL, 0, NULL, NULL, h_rd(), &ri), 0);
    h_run(200);
    cr_assert_eq(ri.n_accept, 1);
    cr_assert_eq(sipsess_session_get_signaling_state(g_b.sess), SIPSESS_SIGNALING_STABLE);
    cr_assert_eq(g_b.n_ack, 2);
    sipsess_session_unref(s);
}

Test(session, manual_ack)
{
    sipsess_ua_config *cfg = h_config();
    sipsess_ua_config_set_auto_ack(cfg, 0);
    h_peer(&g_a, "alice", 5001, cfg);
    sipsess_ua_config_free(cfg);
    h_peer(&g_b, "bob", 5002, NULL);
    g_b.on_invite = ACT_ACCEPT;
    g_b.answer_body = ANSWER1;
    rsp r = {0};
    sipsess_session *s = call(&g_a, &g_b, OFFER1, &r);
    h_run(200);
    cr_assert_eq(r.n_accept, 1);
    cr_assert_eq(sipsess_session_get_state(s), SIPSESS_SESSION_ACK_WAIT);
    cr_assert_eq(sipsess_session_bye(s, NULL, NULL, NULL), SIPSESS_ESTATE);
    /* the 2xx held an answer: the ACK carries no body */
    cr_assert_eq(sipsess_session_ack(s, ANSWER1, strlen(ANSWER1), SDP), SIPSESS_ESTATE);
    h_run(1200); /* 2xx copies meanwhile are not ACKed by the library */
    cr_assert_eq(g_b.n_ack, 0);
    cr_assert_eq(sipsess_session_ack(s, NULL, 0, NULL), 0);
    cr_assert_eq(sipsess_session_get_state(s), SIPSESS_SESSION_CONFIRMED);
    cr_assert_eq(sipsess_session_ack(s, NULL, 0, NULL), SIPSESS_ESTATE);
    h_run(200);
    cr_assert_eq(g_b.n_ack, 1);
    cr_assert_eq(sipsess_session_get_state(g_b.sess), SIPSESS_SESSION_CONFIRMED);
    sipsess_session_unref(s);
}

/* Pattern: UPDATE(offer) → 2xx(answer); defaults 200 / 488. */
Test(session, update_offer_answer_and_defaults)
{
    rsp r = {0};
    sipsess_session *s = established(&r);
    g_b.on_update = ACT_ACCEPT;
    g_b.answer_body = ANSWER2;
    rsp ru = {0};
    cr_assert_eq(sipsess_session_update(s, OFFER2, strlen(OFFER2), SDP, NULL, h_rd(), &ru), 0);
    cr_assert_eq(sipsess_session_get_signaling_state(s), SIPSESS_SIGNALING_HAVE_LOCAL_OFFER);
    h_run(200);
    cr_assert_eq(g_b.n_update, 1);
    cr_assert_eq(ru.n_accept, 1);
    cr_assert_eq(sipsess_session_get_signaling_state(s), SIPSESS_SIGNALING_STABLE);
    cr_assert_eq(sipsess_session_body(s, SIPSESS_BODY_REMOTE_ANSWER, NULL).len,
                 strlen(ANSWER2));
    /* unanswered offer in UPDATE: 488 and rollback on both sides */
    g_b.on_update = ACT_DEFAULT;
    rsp ru2 = {0};
    cr_assert_eq(sipsess_session_update(s, OFFER1, strlen(OFFER1), SDP, NULL, h_rd(), &ru2), 0);
    h_run(200);
    cr_assert_eq(ru2.last_status, 488);
    cr_assert_eq(sipsess_session_get_signaling_state(s), SIPSESS_SIGNALING_STABLE);
    cr_assert_eq(sipsess_session_get_signaling_state(g_b.sess), SIPSESS_SIGNALING_STABLE);
    /* the callee's accept without an answer to an offer is refused */
    g_b.on_update = ACT_KEEP;
    rsp ru3 = {0};
    cr_assert_eq(sipsess_session_update(s, OFFER1, strlen(OFFER1), SDP, NULL, h_rd(), &ru3), 0);
    h_run(200);
    cr_assert_eq(sipsess_request_accept(g_b.kept, NULL, 0, NULL, NULL), SIPSESS_EINVAL);
    cr_assert_eq(sipsess_request_accept(g_b.kept, ANSWER1, strlen(ANSWER1), SDP, NULL), 0);
    h_run(200);
    cr_assert_eq(ru3.n_accept, 1);
    cr_assert_eq(sipsess_session_get_signaling_state(s), SIPSESS_SIGNALING_STABLE);
    sipsess_session_unref(s);
}

/* ---- glare (§14.1) ---- */

Test(session, glare_491_and_automatic_retry)
{
    rsp r = {0};
    sipsess_session *s = established(&r);
    g_a.on_reinvite = ACT_ACCEPT;
    g_a.answer_body = ANSWER2;
    g_b.on_reinvite = ACT_ACCEPT;
    g_b.answer_body = ANSWER2;
    rsp ra = {0}, rb = {0};
    cr_assert_eq(sipsess_session_invite(s, OFFER2, strlen(OFFER2), SDP, NULL, h_rd(), &ra), 0);
    cr_assert_eq(sipsess_session_invite(g_b.sess, OFFER2, strlen(OFFER2), SDP, NULL, h_rd(),
                                        &rb),
                 0);
    h_run(100);
    cr_assert_eq(h_count("SIP/2.0 491"), 2);
    cr_assert_eq(ra.n_reject + rb.n_reject, 0); /* 491 is retried, not reported */
    /* the callee (not the Call-ID owner) retries within 0-2 s, the caller
     * after 2.1-4 s: the callee's goes first and wins */
    h_run(1990);
    cr_assert_eq(rb.n_accept, 1);
    cr_assert_eq(ra.n_accept, 0);
    h_run(2100);
    cr_assert_eq(ra.n_accept, 1);
    cr_assert_eq(g_a.n_reinvite, 1);
    cr_assert_eq(g_b.n_reinvite, 1);
    cr_assert_eq(sipsess_session_get_signaling_state(s), SIPSESS_SIGNALING_STABLE);
    cr_assert_eq(sipsess_session_get_signaling_state(g_b.sess), SIPSESS_SIGNALING_STABLE);
    sipsess_session_unref(s);
}

Test(session, kept_ack_blocks_reinvite_with_500)
{
    rsp r = {0};
    two();
    g_b.on_invite = ACT_ACCEPT;
    g_b.answer_body = ANSWER1;
    g_b.keep_ack = 1;
    sipsess_session *s = call(&g_a, &g_b, OFFER1, &r);
    h_run(200);
    cr_assert_not_null(g_b.kept_ack);
    rsp ri = {0};
    cr_assert_eq(sipsess_session_invite(s, OFFER2, strlen(OFFER2), SDP, NULL, h_rd(), &ri), 0);
    h_run(100);
    cr_assert_eq(ri.last_status, 500);
    cr_assert_eq(sipsess_session_get_signaling_state(s), SIPSESS_SIGNALING_STABLE);
    sipsess_request_unref(g_b.kept_ack);
    g_b.kept_ack = NULL;
    g_b.on_reinvite = ACT_ACCEPT;
    g_b.answer_body = ANSWER2;
    rsp ri2 = {0};
    cr_assert_eq(sipsess_session_invite(s, OFFER2, strlen(OFFER2), SDP, NULL, h_rd(), &ri2), 0);
    h_run(200);
    cr_assert_eq(ri2.n_accept, 1);
    sipsess_session_unref(s);
}

/* ---- 100rel (RFC 3262) ---- */

Test(session, reliable_180_with_prack_and_answer_in_1xx)
{
    two();
    g_b.on_invite = ACT_KEEP;
    rsp r = {0};
    sipsess_session *s = call(&g_a, &g_b, OFFER1, &r);
    h_run(100);
    /* Pattern: INVITE(offer) → reliable 1xx(answer) → PRACK → 2xx */
    cr_assert_eq(sipsess_request_progress(g_b.kept, 183, NULL, ANSWER1, strlen(ANSWER1), SDP, 1),
                 0);
    cr_assert_eq(sipsess_session_get_signaling_state(g_b.sess), SIPSESS_SIGNALING_STABLE);
    /* one unacknowledged reliable 1xx at a time */
    cr_assert_eq(sipsess_request_progress(g_b.kept, 180, NULL, NULL, 0, NULL, 1), SIPSESS_EBUSY);
    h_run(200);
    cr_assert_eq(r.n_progress, 1);
    cr_assert_eq(g_b.n_prack, 1);
    cr_assert_eq(h_count("PRACK"), 1);
    cr_assert_eq(sipsess_session_get_signaling_state(s), SIPSESS_SIGNALING_STABLE);
    const char *last = h_last("SIP/2.0 183");
    (void)last;
    cr_assert_eq(sipsess_request_accept(g_b.kept, NULL, 0, NULL, NULL), 0);
    h_run(200);
    cr_assert_eq(r.n_accept, 1);
    cr_assert_eq(sipsess_session_get_state(s), SIPSESS_SESSION_CONFIRMED);
    sipsess_session_unref(s);
}

Test(session, lost_prack_is_retransmitted)
{
    two();
    g_b.on_invite = ACT_PROGRESS;
    g_b.reliable = 1;
    h_drop("PRACK", 1);
    rsp r = {0};
    sipsess_session *s = call(&g_a, &g_b, OFFER1, &r);
    h_run(100);
    cr_assert_eq(h_count("PRACK"), 1);
    cr_assert_eq(g_b.n_prack, 0);
    h_run(1000);
    /* the UAS resent the 180 (T1) and the UAC's PRACK transaction its
     * request; the UAC took the 180 once */
    cr_assert_geq(h_count("SIP/2.0 18"), 2);
    cr_assert_eq(r.n_progress, 1);
    cr_assert_eq(g_b.n_prack, 1);
    int n = h_count("SIP/2.0 18");
    h_run(5000);
    cr_assert_eq(h_count("SIP/2.0 18"), n); /* PRACKed: no more copies */
    cr_assert_eq(sipsess_request_accept(g_b.kept, ANSWER1, strlen(ANSWER1), SDP, NULL), 0);
    h_run(200);
    cr_assert_eq(r.n_accept, 1);
    sipsess_session_unref(s);
}

Test(session, prack_timeout_rejects_with_5xx)
{
    two();
    g_b.on_invite = ACT_PROGRESS;
    g_b.reliable = 1;
    h_drop("PRACK", 100000);
    rsp r = {0};
    sipsess_session *s = call(&g_a, &g_b, OFFER1, &r);
    h_run(33000);
    /* the 180 at 0, then 0.5 1.5 3.5 7.5 15.5 31.5 s (RFC 3262 §3: T1
     * doubling), then 504 at 64*T1 */
    cr_assert_eq(h_count("SIP/2.0 18"), 7);
    cr_assert_eq(g_b.cause, SIPSESS_TERM_PRACK_TIMEOUT);
    cr_assert_eq(r.last_status, 504);
    cr_assert_eq(g_a.cause, SIPSESS_TERM_REJECTED);
    sipsess_session_unref(s);
}

/* Pattern: INVITE() → reliable 1xx(offer) → PRACK(answer); then
 * PRACK(offer) → 200 PRACK(answer) is covered by the next test. */
Test(session, offer_in_reliable_1xx_answer_in_prack)
{
    two();
    g_b.on_invite = ACT_KEEP;
    rsp r = {0};
    r.prack_in_progress = 1;
    sipsess_session *s = call(&g_a, &g_b, NULL, &r);
    h_run(100);
    cr_assert_eq(sipsess_request_progress(g_b.kept, 183, NULL, OFFER1, strlen(OFFER1), SDP, 1),
                 0);
    cr_assert_eq(sipsess_session_get_signaling_state(g_b.sess),
                 SIPSESS_SIGNALING_HAVE_LOCAL_OFFER);
    /* no 2xx before the PRACK answered that offer (RFC 3262 §3) */
    cr_assert_eq(sipsess_request_accept(g_b.kept, NULL, 0, NULL, NULL), SIPSESS_ESTATE);
    h_run(200);
    cr_assert_eq(g_b.n_prack, 1);
    cr_assert_str_eq(g_b.last_body, ANSWER1);
    cr_assert_eq(sipsess_session_get_signaling_state(g_b.sess), SIPSESS_SIGNALING_STABLE);
    cr_assert_eq(sipsess_session_get_signaling_state(s), SIPSESS_SIGNALING_STABLE);
    cr_assert_eq(sipsess_request_accept(g_b.kept, NULL, 0, NULL, NULL), 0);
    h_run(200);
    cr_assert_eq(sipsess_session_get_state(s), SIPSESS_SESSION_CONFIRMED);
    sipsess_session_unref(s);
}

Test(session, offer_in_prack_and_early_update_info)
{
    sipsess_ua_config *cfg = h_config();
    sipsess_ua_config_set_auto_prack(cfg, 0);
    h_peer(&g_a, "alice", 5001, cfg);
    sipsess_ua_config_free(cfg);
    h_peer(&g_b, "bob", 5002, NULL);
    g_b.on_invite = ACT_PROGRESS;
    g_b.reliable = 1;
    g_b.on_prack = ACT_ACCEPT;
    g_b.answer_body = ANSWER1;
    rsp r = {0};
    sipsess_session *s = call(&g_a, &g_b, NULL, &r);
    h_run(100);
    cr_assert_eq(r.n_progress, 1);
    cr_assert_eq(h_count("PRACK"), 0); /* auto-PRACK is off */
    rsp rp = {0};
    cr_assert_eq(sipsess_session_prack(s, OFFER1, strlen(OFFER1), SDP, NULL, h_rd(), &rp), 0);
    cr_assert_eq(sipsess_session_prack(s, NULL, 0, NULL, NULL, NULL, NULL), SIPSESS_ESTATE);
    h_run(200);
    cr_assert_eq(rp.n_accept, 1);
    cr_assert_eq(sipsess_session_get_signaling_state(s), SIPSESS_SIGNALING_STABLE);
    cr_assert_eq(sipsess_session_body(s, SIPSESS_BODY_REMOTE_ANSWER, NULL).len,
                 strlen(ANSWER1));
    /* INFO and UPDATE in the early dialog (RFC 3262, RFC 3311) */
    g_b.on_info = ACT_ACCEPT;
    g_b.on_update = ACT_ACCEPT;
    g_b.answer_body = ANSWER2;
    rsp ri = {0}, ru = {0};
    cr_assert_eq(sipsess_session_info(s, "x", 1, "text/plain", NULL, h_rd(), &ri), 0);
    cr_assert_eq(sipsess_session_update(s, OFFER2, strlen(OFFER2), SDP, NULL, h_rd(), &ru), 0);
    h_run(200);
    cr_assert_eq(ri.n_accept, 1);
    cr_assert_eq(ru.n_accept, 1);
    cr_assert_eq(sipsess_session_get_signaling_state(s), SIPSESS_SIGNALING_STABLE);
    cr_assert_eq(sipsess_session_get_state(s), SIPSESS_SESSION_EARLY);
    cr_assert_eq(sipsess_request_accept(g_b.kept, NULL, 0, NULL, NULL), 0);
    h_run(200);
    cr_assert_eq(sipsess_session_get_state(s), SIPSESS_SESSION_CONFIRMED);
    sipsess_session_unref(s);
}

/* ---- a raw endpoint: crafted messages (forking, strays, 481, CSeq) ---- */

#include "runtime/loop.h"
#include "transport/transport.h"

static struct raw {
    sipsess__loop *l;
    sipsess__tp *tp;
    sipsess_msg *rx[64];
    int n;
} R;

static void raw_rx(void *arg, sipsess__rx *rx)
{
    (void)arg;
    if (R.n < 64)
        R.rx[R.n++] = rx->msg;
    else
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

static void raw_advance(unsigned ms)
{
    sipsess__loop_advance(R.l, ms);
}

static void raw_open(void)
{
    memset(&R, 0, sizeof R);
    cr_assert_eq(sipsess__loop_new(true, &R.l), 0);
    sipsess__tp_config c;
    sipsess__tp_config_init(&c);
    c.memnet = g_net;
    cr_assert_eq(sipsess__tp_new(R.l, &c, raw_rx, raw_err, NULL, &R.tp), 0);
    cr_assert_geq(sipsess__tp_listen(R.tp, "mem:6000"), 0);
    g_extra_advance = raw_advance;
}

static void raw_close(void)
{
    for (int i = 0; i < R.n; i++)
        sipsess_msg_free(R.rx[i]);
    sipsess__tp_free(R.tp);
    sipsess__loop_free(R.l);
    g_extra_advance = NULL;
    memset(&R, 0, sizeof R);
}

static void raw_send_to(unsigned port, const char *data, size_t len)
{
    char u[64];
    snprintf(u, sizeof u, "sip:x@127.0.0.1:%u;transport=mem", port);
    sipsess_uri *uri = NULL;
    cr_assert_eq(sipsess_uri_parse(u, strlen(u), &uri), 0);
    sipsess__dest d;
    memset(&d, 0, sizeof d);
    cr_assert_eq(sipsess__tp_route_request(R.tp, uri, len, &d), 0);
    cr_assert_geq(sipsess__tp_send(R.tp, &d, data, len), 0);
    sipsess_uri_free(uri);
}

/* A response to `req` with To tag `tag`, our Contact, optional body. */
static void raw_respond(unsigned port, const sipsess_msg *req, unsigned status, const char *tag,
                        const char *body)
{
    sipsess_msgbuilder *b = NULL;
    cr_assert_eq(sipsess_msgbuilder_new(&b), 0);
    cr_assert_eq(sipsess_msgbuilder_response_to(b, req, status, NULL, tag), 0);
    cr_assert_eq(sipsess_msgbuilder_header(b, "Contact", "<sip:raw@127.0.0.1:6000;transport=mem>"),
                 0);
    if (body)
        cr_assert_eq(sipsess_msgbuilder_body(b, body, strlen(body), SDP), 0);
    sipsess_str out;
    cr_assert_eq(sipsess_msgbuilder_finish(b, &out), 0);
    raw_send_to(port, out.p, out.len);
    sipsess_msgbuilder_free(b);
}

static const sipsess_msg *raw_find(const char *method, int nth)
{
    for (int i = 0; i < R.n; i++) {
        if (!sipsess_msg_is_request(R.rx[i]))
            continue;
        sipsess_str m = sipsess_msg_method_name(R.rx[i]);
        if (m.len == strlen(method) && !memcmp(m.p, method, m.len) && nth-- == 0)
            return R.rx[i];
    }
    return NULL;
}

static int raw_count(const char *method)
{
    int n = 0;
    while (raw_find(method, n))
        n++;
    return n;
}

Test(session, forking_two_early_dialogs_and_late_2xx)
{
    h_peer(&g_a, "alice", 5001, NULL);
    raw_open();
    rsp r = {0};
    r.keep_sessions = 1;
    sipsess_session *s = NULL;
    cr_assert_eq(sipsess_ua_invite(g_a.ua, "sip:bob@127.0.0.1:6000", OFFER1, strlen(OFFER1), SDP,
                                   NULL, h_rd(), &r, &s),
                 0);
    h_run(50);
    const sipsess_msg *inv = raw_find("INVITE", 0);
    cr_assert_not_null(inv);
    raw_respond(5001, inv, 180, "fork1", NULL);
    raw_respond(5001, inv, 183, "fork2", ANSWER2);
    h_run(50);
    cr_assert_eq(r.n_progress, 2);
    cr_assert_eq(r.n_sessions, 2);
    sipsess_session *f1 = r.sessions[0], *f2 = r.sessions[1];
    cr_assert_eq(f1, s);
    cr_assert_neq(f1, f2);
    cr_assert_eq(sipsess_session_get_state(f1), SIPSESS_SESSION_EARLY);
    cr_assert_eq(sipsess_session_get_state(f2), SIPSESS_SESSION_EARLY);
    cr_assert(sipsess_session_is_outgoing(f2));
    cr_assert_eq(sipsess_session_remote_tag(f2).len, 5);
    cr_assert_eq(memcmp(sipsess_session_call_id(f1).p, sipsess_session_call_id(f2).p,
                        sipsess_session_call_id(f1).len),
                 0);
    /* the first 2xx confirms its dialog; the other fork loses */
    raw_respond(5001, inv, 200, "fork1", ANSWER1);
    h_run(50);
    cr_assert_eq(r.n_accept, 1);
    cr_assert_eq(sipsess_session_get_state(f1), SIPSESS_SESSION_CONFIRMED);
    cr_assert_eq(sipsess_session_get_state(f2), SIPSESS_SESSION_TERMINATED);
    cr_assert_eq(sipsess_session_term_cause(f2), SIPSESS_TERM_FORK_LOSER);
    cr_assert_eq(raw_count("ACK"), 1);
    /* a copy of the 2xx is ACKed again; a late 2xx of the other fork is
     * ACKed and ended with BYE */
    raw_respond(5001, inv, 200, "fork1", ANSWER1);
    raw_respond(5001, inv, 200, "fork2", ANSWER2);
    h_run(50);
    cr_assert_eq(raw_count("ACK"), 3);
    cr_assert_eq(raw_count("BYE"), 1);
    const sipsess_msg *bye = raw_find("BYE", 0);
    const sipsess_hdr *to = sipsess_msg_hdr(bye, SIPSESS_HDR_TO, 0);
    cr_assert_eq(sipsess_nameaddr_tag(to).len, 5);
    cr_assert_eq(memcmp(sipsess_nameaddr_tag(to).p, "fork2", 5), 0);
    cr_assert_eq(r.n_accept, 1);
    cr_assert_eq(sipsess_session_get_state(f1), SIPSESS_SESSION_CONFIRMED);
    for (int i = 0; i < r.n_sessions; i++)
        sipsess_session_unref(r.sessions[i]);
    sipsess_ua_free(g_a.ua);
    g_a.ua = NULL;
    raw_close();
}

static void raw_request(unsigned port, const char *fmt, const char *a, const char *b,
                        const char *c, unsigned cseq)
{
    char buf[2048];
    int n = snprintf(buf, sizeof buf, fmt, a, b, c, cseq);
    cr_assert(n > 0 && (size_t)n < sizeof buf);
    raw_send_to(port, buf, (size_t)n);
}

/* Requests of `method` received by the raw endpoint whose To tag is `tag`
 * (retransmissions included). */
static int raw_count_to(const char *method, const char *tag)
{
    int n = 0;
    const sipsess_msg *m;
    for (int i = 0; (m = raw_find(method, i)); i++) {
        sipsess_str t = sipsess_nameaddr_tag(sipsess_msg_hdr(m, SIPSESS_HDR_TO, 0));
        if (t.len == strlen(tag) && !memcmp(t.p, tag, t.len))
            n++;
    }
    return n;
}

static int str_is(sipsess_str s, const char *c)
{
    return s.len == strlen(c) && (s.len == 0 || !memcmp(s.p, c, s.len));
}

/* Default (accept_forks off): two 2xx with different To tags and no 1xx
 * before them: the first confirms, the second is ACKed and BYEd and never
 * reaches the application. */
Test(session, forking_second_2xx_acked_and_byed_by_default)
{
    h_peer(&g_a, "alice", 5001, NULL);
    raw_open();
    rsp r = {0};
    r.keep_sessions = 1;
    sipsess_session *s = NULL;
    cr_assert_eq(sipsess_ua_invite(g_a.ua, "sip:bob@127.0.0.1:6000", OFFER1, strlen(OFFER1), SDP,
                                   NULL, h_rd(), &r, &s),
                 0);
    h_run(50);
    const sipsess_msg *inv = raw_find("INVITE", 0);
    cr_assert_not_null(inv);
    raw_respond(5001, inv, 200, "fork1", ANSWER1);
    raw_respond(5001, inv, 200, "fork2", ANSWER2);
    h_run(50);
    cr_assert_eq(r.n_accept, 1);
    cr_assert_eq(r.n_sessions, 1);
    cr_assert_eq(r.sessions[0], s);
    cr_assert_eq(sipsess_session_get_state(s), SIPSESS_SESSION_CONFIRMED);
    cr_assert(str_is(sipsess_session_remote_tag(s), "fork1"));
    cr_assert_eq(raw_count_to("ACK", "fork1"), 1);
    cr_assert_eq(raw_count_to("ACK", "fork2"), 1);
    cr_assert_eq(raw_count("BYE"), 1);
    cr_assert_eq(raw_count_to("BYE", "fork2"), 1);
    cr_assert_eq(raw_count_to("BYE", "fork1"), 0);
    sipsess_session_unref(s);
    sipsess_ua_free(g_a.ua);
    g_a.ua = NULL;
    raw_close();
}

/* sipsess_ua_config_set_accept_forks(cfg, 1): a later 2xx of another fork
 * (new dialog, or an early dialog) is ACKed and becomes a confirmed
 * session of its own, handed to on_accept; for 64*T1 after the first
 * 2xx, then the remaining early dialogs lose and a 2xx is ACKed and BYEd
 * again. */
Test(session, forking_accept_forks_hands_later_2xx_to_app)
{
    cr_assert_eq(sipsess_ua_config_set_accept_forks(NULL, 1), SIPSESS_EINVAL);
    sipsess_ua_config *cfg = h_config();
    cr_assert_eq(sipsess_ua_config_set_accept_forks(cfg, 1), 0);
    h_peer(&g_a, "alice", 5001, cfg);
    sipsess_ua_config_free(cfg);
    raw_open();
    rsp r = {0};
    r.keep_sessions = 1;
    sipsess_session *s = NULL;
    cr_assert_eq(sipsess_ua_invite(g_a.ua, "sip:bob@127.0.0.1:6000", OFFER1, strlen(OFFER1), SDP,
                                   NULL, h_rd(), &r, &s),
                 0);
    h_run(50);
    const sipsess_msg *inv = raw_find("INVITE", 0);
    cr_assert_not_null(inv);
    /* two early dialogs (fork3 will answer late, fork4 never) */
    raw_respond(5001, inv, 180, "fork1", NULL);
    raw_respond(5001, inv, 180, "fork3", NULL);
    raw_respond(5001, inv, 180, "fork4", NULL);
    h_run(50);
    cr_assert_eq(r.n_sessions, 3);
    sipsess_session *f1 = r.sessions[0], *f3 = r.sessions[1], *f4 = r.sessions[2];
    cr_assert_eq(f1, s);
    /* the first 2xx confirms; the other early dialogs stay Early */
    raw_respond(5001, inv, 200, "fork1", ANSWER1);
    h_run(50);
    cr_assert_eq(r.n_accept, 1);
    cr_assert_eq(r.last_session, f1);
    cr_assert_eq(sipsess_session_get_state(f1), SIPSESS_SESSION_CONFIRMED);
    cr_assert_eq(sipsess_session_get_state(f3), SIPSESS_SESSION_EARLY);
    cr_assert_eq(sipsess_session_get_state(f4), SIPSESS_SESSION_EARLY);
    cr_assert_eq(raw_count_to("ACK", "fork1"), 1);

    /* a 2xx of a dialog never seen: ACKed, a new confirmed session */
    raw_respond(5001, inv, 200, "fork2", ANSWER2);
    h_run(50);
    cr_assert_eq(raw_count_to("ACK", "fork2"), 1);
    cr_assert_eq(raw_count("BYE"), 0);
    cr_assert_eq(r.n_accept, 2);
    cr_assert_eq(r.n_sessions, 4);
    sipsess_session *f2 = r.sessions[3];
    cr_assert_eq(r.last_session, f2);
    cr_assert_eq(r.last_status, 200);
    cr_assert_str_eq(r.body, ANSWER2);
    cr_assert_eq(sipsess_session_get_state(f2), SIPSESS_SESSION_CONFIRMED);
    cr_assert(sipsess_session_is_outgoing(f2));
    cr_assert_null(sipsess_session_userdata(f2));
    cr_assert(str_is(sipsess_session_remote_tag(f2), "fork2"));
    cr_assert_eq(sipsess_session_call_id(f2).len, sipsess_session_call_id(f1).len);
    cr_assert_eq(memcmp(sipsess_session_call_id(f2).p, sipsess_session_call_id(f1).p,
                        sipsess_session_call_id(f1).len),
                 0);
    cr_assert_eq(sipsess_session_local_tag(f2).len, sipsess_session_local_tag(f1).len);
    /* offer/answer: the INVITE's offer, this fork's answer */
    cr_assert_eq(sipsess_session_get_signaling_state(f2), SIPSESS_SIGNALING_STABLE);
    cr_assert(str_is(sipsess_session_body(f2, SIPSESS_BODY_LOCAL_OFFER, NULL), OFFER1));
    cr_assert(str_is(sipsess_session_body(f2, SIPSESS_BODY_REMOTE_ANSWER, NULL), ANSWER2));
    cr_assert(str_is(sipsess_session_body(f1, SIPSESS_BODY_REMOTE_ANSWER, NULL), ANSWER1));
    /* a copy of that 2xx is ACKed again, not handed up again */
    raw_respond(5001, inv, 200, "fork2", ANSWER2);
    h_run(50);
    cr_assert_eq(raw_count_to("ACK", "fork2"), 2);
    cr_assert_eq(r.n_accept, 2);

    /* an early dialog confirmed by its own late 2xx */
    raw_respond(5001, inv, 200, "fork3", ANSWER1);
    h_run(50);
    cr_assert_eq(raw_count_to("ACK", "fork3"), 1);
    cr_assert_eq(r.n_accept, 3);
    cr_assert_eq(r.last_session, f3);
    cr_assert_eq(r.n_sessions, 4);
    cr_assert_eq(sipsess_session_get_state(f3), SIPSESS_SESSION_CONFIRMED);
    cr_assert_eq(sipsess_session_get_signaling_state(f3), SIPSESS_SIGNALING_STABLE);
    cr_assert_eq(raw_count("BYE"), 0);

    /* each is a dialog of its own: a BYE on f2 goes to fork2 only */
    cr_assert_eq(sipsess_session_bye(f2, NULL, NULL, NULL), 0);
    h_run(50);
    cr_assert_geq(raw_count_to("BYE", "fork2"), 1);
    cr_assert_eq(raw_count("BYE"), raw_count_to("BYE", "fork2"));
    const sipsess_msg *bye = raw_find("BYE", 0);
    raw_respond(5001, bye, 200, NULL, NULL);
    h_run(50);
    cr_assert_eq(sipsess_session_get_state(f2), SIPSESS_SESSION_TERMINATED);
    cr_assert_eq(sipsess_session_term_cause(f2), SIPSESS_TERM_LOCAL_BYE);
    cr_assert_eq(sipsess_session_get_state(f1), SIPSESS_SESSION_CONFIRMED);
    cr_assert_eq(sipsess_session_get_state(f3), SIPSESS_SESSION_CONFIRMED);

    /* 64*T1 after the first 2xx: the early dialog left ends, and a 2xx
     * of yet another fork is ACKed and BYEd */
    h_run(32000);
    cr_assert_eq(sipsess_session_get_state(f4), SIPSESS_SESSION_TERMINATED);
    cr_assert_eq(sipsess_session_term_cause(f4), SIPSESS_TERM_FORK_LOSER);
    raw_respond(5001, inv, 200, "fork5", ANSWER2);
    h_run(50);
    cr_assert_eq(raw_count_to("ACK", "fork5"), 1);
    cr_assert_eq(raw_count_to("BYE", "fork5"), 1);
    cr_assert_eq(r.n_accept, 3);
    cr_assert_eq(sipsess_session_get_state(f1), SIPSESS_SESSION_CONFIRMED);
    cr_assert_eq(sipsess_session_get_state(f3), SIPSESS_SESSION_CONFIRMED);
    for (int i = 0; i < r.n_sessions; i++)
        sipsess_session_unref(r.sessions[i]);
    sipsess_ua_free(g_a.ua);
    g_a.ua = NULL;
    raw_close();
}

/* accept_forks with the UA freed while the INVITE still takes forks: the
 * sessions end UA_SHUTDOWN, nothing leaks. */
Test(session, forking_accept_forks_ua_freed_while_lingering)
{
    sipsess_ua_config *cfg = h_config();
    cr_assert_eq(sipsess_ua_config_set_accept_forks(cfg, 1), 0);
    h_peer(&g_a, "alice", 5001, cfg);
    sipsess_ua_config_free(cfg);
    raw_open();
    rsp r = {0};
    sipsess_session *s = NULL;
    cr_assert_eq(sipsess_ua_invite(g_a.ua, "sip:bob@127.0.0.1:6000", NULL, 0, NULL, NULL, h_rd(),
                                   &r, &s),
                 0);
    sipsess_session_ref(s);
    h_run(50);
    const sipsess_msg *inv = raw_find("INVITE", 0);
    cr_assert_not_null(inv);
    raw_respond(5001, inv, 180, "fork9", NULL);
    raw_respond(5001, inv, 200, "fork1", NULL);
    h_run(50);
    raw_respond(5001, inv, 200, "fork2", NULL);
    h_run(50);
    cr_assert_eq(r.n_accept, 2);
    cr_assert_eq(raw_count("ACK"), 2);
    sipsess_ua_free(g_a.ua);
    g_a.ua = NULL;
    cr_assert_eq(sipsess_session_get_state(s), SIPSESS_SESSION_TERMINATED);
    sipsess_session_unref(s);
    raw_close();
}

static const char *RAW_INFO =
    "INFO sip:bob@127.0.0.1:5002 SIP/2.0\r\n"
    "Via: SIP/2.0/MEM 127.0.0.1:6000;branch=z9hG4bK%s\r\n"
    "Max-Forwards: 70\r\n"
    "From: <sip:raw@127.0.0.1:6000>;tag=%s\r\n"
    "To: <sip:bob@127.0.0.1:5002>;tag=%s\r\n"
    "Call-ID: rawcall\r\n"
    "CSeq: %u INFO\r\n"
    "Content-Length: 0\r\n\r\n";

static unsigned raw_last_status(void)
{
    for (int i = R.n - 1; i >= 0; i--)
        if (!sipsess_msg_is_request(R.rx[i]))
            return sipsess_msg_status(R.rx[i]);
    return 0;
}

Test(session, unknown_dialog_481_and_out_of_order_cseq_500)
{
    h_peer(&g_b, "bob", 5002, NULL);
    raw_open();
    raw_request(5002, RAW_INFO, "b1", "rawtag", "nosuchtag", 5);
    h_run(50);
    cr_assert_eq(raw_last_status(), 481);
    /* a dialog: the raw endpoint calls bob, who answers */
    g_b.on_invite = ACT_ACCEPT;
    g_b.answer_body = ANSWER1;
    g_b.on_info = ACT_ACCEPT;
    const char *inv = "INVITE sip:bob@127.0.0.1:5002 SIP/2.0\r\n"
                      "Via: SIP/2.0/MEM 127.0.0.1:6000;branch=z9hG4bKinv1\r\n"
                      "Max-Forwards: 70\r\n"
                      "From: <sip:raw@127.0.0.1:6000>;tag=rawtag\r\n"
                      "To: <sip:bob@127.0.0.1:5002>\r\n"
                      "Call-ID: rawcall\r\n"
                      "CSeq: 10 INVITE\r\n"
                      "Contact: <sip:raw@127.0.0.1:6000;transport=mem>\r\n"
                      "Record-Route: <sip:p1@127.0.0.1:6000;transport=mem;lr>\r\n"
                      "Content-Type: application/sdp\r\n"
                      "Content-Length: 4\r\n\r\nv=0\n";
    raw_send_to(5002, inv, strlen(inv));
    h_run(50);
    cr_assert_eq(raw_last_status(), 200);
    const sipsess_msg *ok = R.rx[R.n - 1];
    /* §12.1.1: Record-Route copied into the 2xx */
    cr_assert_eq(sipsess_msg_hdr_num(ok, SIPSESS_HDR_RECORD_ROUTE), 1);
    sipsess_str tag = sipsess_nameaddr_tag(sipsess_msg_hdr(ok, SIPSESS_HDR_TO, 0));
    char btag[64];
    snprintf(btag, sizeof btag, "%.*s", (int)tag.len, tag.p);
    char ack[1024];
    int an = snprintf(ack, sizeof ack,
                      "ACK sip:bob@127.0.0.1:5002;transport=mem SIP/2.0\r\n"
                      "Via: SIP/2.0/MEM 127.0.0.1:6000;branch=z9hG4bKack1\r\n"
                      "Max-Forwards: 70\r\n"
                      "From: <sip:raw@127.0.0.1:6000>;tag=rawtag\r\n"
                      "To: <sip:bob@127.0.0.1:5002>;tag=%s\r\n"
                      "Call-ID: rawcall\r\nCSeq: 10 ACK\r\nContent-Length: 0\r\n\r\n",
                      btag);
    raw_send_to(5002, ack, (size_t)an);
    h_run(50);
    cr_assert_eq(g_b.n_ack, 1);
    cr_assert_eq(sipsess_session_get_state(g_b.sess), SIPSESS_SESSION_CONFIRMED);
    raw_request(5002, RAW_INFO, "b2", "rawtag", btag, 11);
    h_run(50);
    cr_assert_eq(raw_last_status(), 200);
    cr_assert_eq(g_b.n_info, 1);
    /* §12.2.2: lower than the last CSeq → 500 */
    raw_request(5002, RAW_INFO, "b3", "rawtag", btag, 9);
    h_run(50);
    cr_assert_eq(raw_last_status(), 500);
    cr_assert_eq(g_b.n_info, 1);
    /* bob's BYE follows the route set: Route to the proxy, R-URI the Contact */
    cr_assert_eq(sipsess_session_terminate(g_b.sess), 0);
    h_run(50);
    const sipsess_msg *bye = raw_find("BYE", 0);
    cr_assert_not_null(bye);
    sipsess_str ru = sipsess_uri_text(sipsess_msg_ruri(bye));
    cr_assert_eq(ru.len, strlen("sip:raw@127.0.0.1:6000;transport=mem"));
    const sipsess_hdr *route = sipsess_msg_hdr(bye, SIPSESS_HDR_ROUTE, 0);
    cr_assert_not_null(route);
    cr_assert_not_null(strstr(sipsess_hdr_value(route).p, "p1@127.0.0.1"));
    cr_assert_eq(sipsess_cseq_number(sipsess_msg_hdr(bye, SIPSESS_HDR_CSEQ, 0)) > 0, 1);
    sipsess_ua_free(g_b.ua);
    g_b.ua = NULL;
    raw_close();
}

/* ---- merged requests (RFC 3261 §8.2.2.2) ---- */

/* branch, From tag, To parameters ("" or ";tag=..."), CSeq number */
static const char *RAW_INVITE_M =
    "INVITE sip:bob@127.0.0.1:5002 SIP/2.0\r\n"
    "Via: SIP/2.0/MEM 127.0.0.1:6000;branch=z9hG4bK%s\r\n"
    "Max-Forwards: 70\r\n"
    "From: <sip:raw@127.0.0.1:6000>;tag=%s\r\n"
    "To: <sip:bob@127.0.0.1:5002>%s\r\n"
    "Call-ID: mergecall\r\n"
    "CSeq: %u INVITE\r\n"
    "Contact: <sip:raw@127.0.0.1:6000;transport=mem>\r\n"
    "Content-Length: 0\r\n\r\n";

static const char *RAW_MESSAGE_M =
    "MESSAGE sip:bob@127.0.0.1:5002 SIP/2.0\r\n"
    "Via: SIP/2.0/MEM 127.0.0.1:6000;branch=z9hG4bK%s\r\n"
    "Max-Forwards: 70\r\n"
    "From: <sip:raw@127.0.0.1:6000>;tag=%s\r\n"
    "To: <sip:bob@127.0.0.1:5002>%s\r\n"
    "Call-ID: mergecall\r\n"
    "CSeq: %u MESSAGE\r\n"
    "Content-Type: text/plain\r\n"
    "Content-Length: 2\r\n\r\nhi";

/* Responses with `status` received by the raw endpoint for the request
 * whose branch was z9hG4bK<branch>. */
static int raw_responses(unsigned status, const char *branch)
{
    char b[64];
    snprintf(b, sizeof b, "z9hG4bK%s", branch);
    int n = 0;
    for (int i = 0; i < R.n; i++) {
        if (sipsess_msg_is_request(R.rx[i]) || sipsess_msg_status(R.rx[i]) != status)
            continue;
        if (str_is(sipsess_via_branch(sipsess_msg_hdr(R.rx[i], SIPSESS_HDR_VIA, 0)), b))
            n++;
    }
    return n;
}

Test(session, merged_invite_gets_482)
{
    h_peer(&g_b, "bob", 5002, NULL);
    g_b.on_invite = ACT_KEEP;
    raw_open();
    raw_request(5002, RAW_INVITE_M, "m1", "mtag", "", 1);
    h_run(300); /* the automatic 100 Trying goes out */
    cr_assert_eq(g_b.n_invite, 1);
    cr_assert_eq(raw_responses(100, "m1"), 1);
    /* the same request over another path (another branch) */
    raw_request(5002, RAW_INVITE_M, "m2", "mtag", "", 1);
    h_run(50);
    cr_assert_eq(raw_responses(482, "m2"), 1);
    cr_assert_eq(raw_last_status(), 482);
    const sipsess_msg *lr = R.rx[R.n - 1];
    cr_assert(str_is(sipsess_msg_reason(lr), "Loop Detected"));
    cr_assert_eq(g_b.n_invite, 1);
    /* a retransmission (same branch) is absorbed by its transaction */
    raw_request(5002, RAW_INVITE_M, "m1", "mtag", "", 1);
    h_run(50);
    cr_assert_eq(g_b.n_invite, 1);
    cr_assert_eq(raw_responses(100, "m1"), 2);
    cr_assert_eq(raw_responses(482, "m1"), 0);
    /* the first INVITE goes on normally; its transaction (Accepted)
     * still lives, so another copy is still merged */
    /* (the INVITE had no offer: the 2xx makes one) */
    cr_assert_eq(sipsess_request_accept(g_b.kept, OFFER1, strlen(OFFER1), SDP, NULL), 0);
    h_run(50);
    cr_assert_eq(raw_responses(200, "m1"), 1);
    raw_request(5002, RAW_INVITE_M, "m5", "mtag", "", 1);
    h_run(50);
    cr_assert_eq(raw_responses(482, "m5"), 1);
    cr_assert_eq(g_b.n_invite, 1);
    /* not merged: another From tag; the same fields with another method */
    raw_request(5002, RAW_INVITE_M, "m3", "othertag", "", 1);
    raw_request(5002, RAW_MESSAGE_M, "m4", "mtag", "", 1);
    h_run(50);
    cr_assert_eq(g_b.n_invite, 2);
    cr_assert_eq(raw_responses(482, "m3"), 0);
    cr_assert_eq(raw_responses(482, "m4"), 0);
    cr_assert_eq(raw_responses(200, "m4"), 1);
    cr_assert_eq(g_b.n_ood, 1);
    sipsess_ua_free(g_b.ua);
    g_b.ua = NULL;
    raw_close();
}

Test(session, merged_message_gets_482_while_first_transaction_lives)
{
    h_peer(&g_b, "bob", 5002, NULL);
    raw_open();
    raw_request(5002, RAW_MESSAGE_M, "g1", "gtag", "", 7);
    h_run(50);
    cr_assert_eq(g_b.n_ood, 1);
    cr_assert_eq(raw_responses(200, "g1"), 1);
    /* answered, but its transaction (Completed, Timer J) is still there */
    raw_request(5002, RAW_MESSAGE_M, "g2", "gtag", "", 7);
    h_run(50);
    cr_assert_eq(raw_responses(482, "g2"), 1);
    cr_assert_eq(g_b.n_ood, 1);
    /* a retransmission of the first gets its 200 again */
    raw_request(5002, RAW_MESSAGE_M, "g1", "gtag", "", 7);
    h_run(50);
    cr_assert_eq(raw_responses(200, "g1"), 2);
    cr_assert_eq(g_b.n_ood, 1);
    /* the same with a To tag is no merged request (it belongs to a
     * dialog: here none, 481) */
    raw_request(5002, RAW_MESSAGE_M, "g3", "gtag", ";tag=nodialog", 7);
    h_run(50);
    cr_assert_eq(raw_responses(481, "g3"), 1);
    /* once the first transaction has ended (64*T1), the same fields on a
     * new branch are a new request */
    h_run(32500);
    raw_request(5002, RAW_MESSAGE_M, "g4", "gtag", "", 7);
    h_run(50);
    cr_assert_eq(raw_responses(200, "g4"), 1);
    cr_assert_eq(g_b.n_ood, 2);
    sipsess_ua_free(g_b.ua);
    g_b.ua = NULL;
    raw_close();
}

/* ---- REFER (RFC 3515, RFC 4488) and Replaces (RFC 3891) ---- */

Test(session, refer_with_notify_sipfrag_to_completion)
{
    rsp r = {0};
    sipsess_session *s = established(&r);
    g_b.on_refer = ACT_KEEP;
    rsp rr = {0};
    cr_assert_eq(sipsess_session_refer(s, "sip:carol@127.0.0.1:5003", NULL, h_rd(), &rr), 0);
    h_run(100);
    cr_assert_eq(g_b.n_refer, 1);
    cr_assert_eq(sipsess_request_notify_refer(g_b.kept, 100, NULL, NULL, NULL), SIPSESS_EINVAL);
    cr_assert_eq(sipsess_request_accept(g_b.kept, NULL, 0, NULL, NULL), 0);
    h_run(100);
    cr_assert_eq(rr.n_accept, 1);
    cr_assert_eq(rr.last_status, 202);
    cr_assert_eq(g_a.n_notify, 1);
    cr_assert_eq(g_a.last_sipfrag, 100);
    cr_assert_not(g_a.last_sub_terminated);
    cr_assert_eq(sipsess_request_notify_refer(g_b.kept, 180, NULL, NULL, NULL), 0);
    h_run(100);
    cr_assert_eq(g_a.n_notify, 2);
    cr_assert_eq(g_a.last_sipfrag, 180);
    rsp rn = {0};
    cr_assert_eq(sipsess_request_notify_refer(g_b.kept, 200, "OK", h_rd(), &rn), 0);
    h_run(100);
    cr_assert_eq(g_a.n_notify, 3);
    cr_assert_eq(g_a.last_sipfrag, 200);
    cr_assert(g_a.last_sub_terminated);
    cr_assert_eq(rn.n_accept, 1);
    cr_assert_eq(sipsess_request_notify_refer(g_b.kept, 200, NULL, NULL, NULL), SIPSESS_ESTATE);
    /* a second REFER: its NOTIFYs carry ;id= (§2.4.6) */
    h_last("NOTIFY");
    cr_assert_eq(sipsess_session_refer(s, "sip:dave@127.0.0.1:5004", NULL, NULL, NULL), 0);
    h_run(100);
    cr_assert_eq(sipsess_request_accept(g_b.kept, NULL, 0, NULL, NULL), 0);
    h_run(100);
    cr_assert_not_null(strstr(h_last("NOTIFY"), "Event: refer;id="));
    /* Refer-Sub: false: 202 says so, no subscription, no NOTIFY */
    int nn = g_a.n_notify;
    rsp rf = {0};
    cr_assert_eq(sipsess_session_refer(s, "sip:erin@127.0.0.1:5005", "Refer-Sub: false", h_rd(),
                                       &rf),
                 0);
    h_run(100);
    cr_assert_eq(sipsess_request_accept(g_b.kept, NULL, 0, NULL, NULL), 0);
    cr_assert_eq(sipsess_request_notify_refer(g_b.kept, 200, NULL, NULL, NULL), SIPSESS_ESTATE);
    h_run(100);
    cr_assert_eq(rf.last_status, 202);
    cr_assert_eq(g_a.n_notify, nn);
    sipsess_session_unref(s);
}

Test(session, replaces_ends_the_replaced_session)
{
    rsp r = {0};
    sipsess_session *s = established(&r);
    sipsess_session *old = sipsess_session_ref(g_b.sess);
    h_peer(&g_c, "carol", 5003, NULL);
    char rep[512];
    sipsess_str cid = sipsess_session_call_id(old), lt = sipsess_session_local_tag(old),
                rt = sipsess_session_remote_tag(old);
    snprintf(rep, sizeof rep, "Replaces: %.*s;to-tag=%.*s;from-tag=%.*s", (int)cid.len, cid.p,
             (int)lt.len, lt.p, (int)rt.len, rt.p);
    g_b.on_invite = ACT_ACCEPT;
    g_b.answer_body = ANSWER1;
    rsp rc = {0};
    sipsess_session *sc = NULL;
    cr_assert_eq(sipsess_ua_invite(g_c.ua, g_b.uri, OFFER1, strlen(OFFER1), SDP, rep, h_rd(), &rc,
                                   &sc),
                 0);
    h_run(200);
    cr_assert_eq(rc.n_accept, 1);
    cr_assert_neq(g_b.sess, old);
    cr_assert_eq(sipsess_session_get_state(old), SIPSESS_SESSION_TERMINATED);
    cr_assert_eq(sipsess_session_term_cause(old), SIPSESS_TERM_REPLACED);
    cr_assert_eq(g_a.n_bye, 1);
    cr_assert_eq(sipsess_session_get_state(s), SIPSESS_SESSION_TERMINATED);
    /* a Replaces that names nothing: 481 */
    rsp rx = {0};
    cr_assert_eq(sipsess_ua_invite(g_c.ua, g_b.uri, OFFER1, strlen(OFFER1), SDP,
                                   "Replaces: nosuch;to-tag=a;from-tag=b", h_rd(), &rx, &sc),
                 0);
    h_run(200);
    cr_assert_eq(rx.last_status, 481);
    sipsess_session_unref(old);
    sipsess_session_unref(s);
}

/* ---- lifetime ---- */

Test(session, ua_free_terminates_with_ua_shutdown)
{
    rsp r = {0};
    sipsess_session *s = established(&r);
    sipsess_ua_free(g_a.ua);
    g_a.ua = NULL;
    cr_assert_eq(g_a.n_terminated, 1);
    cr_assert_eq(g_a.cause, SIPSESS_TERM_UA_SHUTDOWN);
    cr_assert_eq(g_a.n_destroy, 1);
    cr_assert_eq(sipsess_session_get_state(s), SIPSESS_SESSION_TERMINATED);
    cr_assert_eq(sipsess_session_bye(s, NULL, NULL, NULL), SIPSESS_ESTATE);
    cr_assert_eq(sipsess_session_terminate(s), SIPSESS_ESTATE);
    sipsess_session_unref(s);
    /* bob's side is still up until his UA goes too */
    cr_assert_eq(g_b.n_terminated, 0);
    sipsess_ua_free(g_b.ua);
    g_b.ua = NULL;
    cr_assert_eq(g_b.cause, SIPSESS_TERM_UA_SHUTDOWN);
    cr_assert_eq(g_b.n_destroy, 1);
}

Test(session, destroy_notifier_exactly_once_and_set_delegate_after_end)
{
    rsp r = {0};
    sipsess_session *s = established(&r);
    h_install(s, &g_a); /* replaces the first: destroy once */
    cr_assert_eq(g_a.n_destroy, 1);
    cr_assert_eq(sipsess_session_bye(s, NULL, NULL, NULL), 0);
    h_run(100);
    cr_assert_eq(g_a.n_destroy, 2);
    cr_assert_eq(g_a.n_terminated, 1);
    sipsess_session_delegate *d = NULL;
    sipsess_session_delegate_new(&d);
    cr_assert_eq(sipsess_session_set_delegate(s, d, &g_a, NULL), SIPSESS_ESTATE);
    sipsess_session_delegate_free(d);
    sipsess_session_unref(s);
    cr_assert_eq(g_a.n_destroy, 2);
}

/* ---- UA delegate: out-of-dialog requests, limits ---- */

static int g_ood_status;
static void ood_cb(const sipsess_msg *m, int final, int err, void *ud)
{
    (void)err;
    (void)ud;
    if (final)
        g_ood_status = m ? (int)sipsess_msg_status(m) : -1;
}

static int ood(peer *from, peer *to, const char *method)
{
    g_ood_status = 0;
    cr_assert_eq(sipsess_ua_request(from->ua, method, to->uri, NULL, "x", 1, "text/plain",
                                    ood_cb, NULL),
                 0);
    h_run(100);
    return g_ood_status;
}

Test(session, out_of_dialog_defaults)
{
    two();
    cr_assert_eq(ood(&g_a, &g_b, "OPTIONS"), 200);
    cr_assert_eq(ood(&g_a, &g_b, "MESSAGE"), 200); /* a callback is set, left unanswered */
    cr_assert_eq(ood(&g_a, &g_b, "REFER"), 603);
    cr_assert_eq(ood(&g_a, &g_b, "NOTIFY"), 200);
    cr_assert_eq(ood(&g_a, &g_b, "SUBSCRIBE"), 405);
    cr_assert_eq(ood(&g_a, &g_b, "FOO"), 501);
    cr_assert_eq(ood(&g_a, &g_b, "BYE"), 481);
    g_b.on_other = ACT_REJECT;
    g_b.reject_status = 486;
    cr_assert_eq(ood(&g_a, &g_b, "MESSAGE"), 486);
    cr_assert_eq(g_b.n_ood, 7);
    /* without a request callback: MESSAGE 405 */
    sipsess_ua_delegate *d = NULL;
    sipsess_ua_delegate_new(&d);
    sipsess_ua_set_delegate(g_b.ua, d, NULL, NULL);
    sipsess_ua_delegate_free(d);
    cr_assert_eq(ood(&g_a, &g_b, "MESSAGE"), 405);
    cr_assert_eq(ood(&g_a, &g_b, "OPTIONS"), 200);
}

Test(session, session_limit_503)
{
    sipsess_ua_config *cfg = h_config();
    cr_assert_eq(sipsess_ua_config_set_limit(cfg, SIPSESS_LIMIT_SESSIONS, 1), 0);
    h_peer(&g_b, "bob", 5002, cfg);
    h_peer(&g_a, "alice", 5001, cfg);
    sipsess_ua_config_free(cfg);
    g_b.on_invite = ACT_ACCEPT;
    g_b.answer_body = ANSWER1;
    rsp r1 = {0};
    sipsess_session *s1 = call(&g_a, &g_b, OFFER1, &r1);
    h_run(200);
    sipsess_session *s2 = NULL;
    cr_assert_eq(sipsess_ua_invite(g_a.ua, g_b.uri, NULL, 0, NULL, NULL, NULL, NULL, &s2),
                 SIPSESS_ELIMIT);
    /* from a third UA: bob refuses with 503 + Retry-After */
    h_peer(&g_c, "carol", 5003, NULL);
    rsp r3 = {0};
    sipsess_session *s3 = call(&g_c, &g_b, OFFER1, &r3);
    h_run(200);
    cr_assert_eq(r3.last_status, 503);
    sipsess_session_unref(s1);
    sipsess_session_unref(s3);
}

/* ---- real loopback ---- */

static void real_call(const char *proto)
{
    sipsess_ua_config *cfg = NULL;
    cr_assert_eq(sipsess_ua_config_new(&cfg), 0);
    memset(&g_a, 0, sizeof g_a);
    memset(&g_b, 0, sizeof g_b);
    g_a.install_delegate = g_b.install_delegate = 1;
    cr_assert_eq(sipsess_ua_new(cfg, &g_a.ua), 0);
    cr_assert_eq(sipsess_ua_new(cfg, &g_b.ua), 0);
    sipsess_ua_config_free(cfg);
    char spec[64];
    snprintf(spec, sizeof spec, "%s:127.0.0.1:0", proto);
    cr_assert_geq(sipsess_ua_listen(g_a.ua, spec), 0);
    cr_assert_geq(sipsess_ua_listen(g_b.ua, spec), 0);
    snprintf(g_b.uri, sizeof g_b.uri, "sip:bob@127.0.0.1:%u%s", sipsess_ua_listener_port(g_b.ua, 0),
             strcmp(proto, "tcp") ? "" : ";transport=tcp");
    h_peer_delegates(&g_a);
    h_peer_delegates(&g_b);
    g_b.on_invite = ACT_ACCEPT;
    g_b.answer_body = ANSWER1;
    g_b.on_info = ACT_ACCEPT;
    rsp r = {0};
    sipsess_session *s = call(&g_a, &g_b, OFFER1, &r);
    for (int i = 0; i < 300 && g_b.n_ack == 0; i++) {
        sipsess_ua_step(g_a.ua, 5);
        sipsess_ua_step(g_b.ua, 5);
    }
    cr_assert_eq(sipsess_session_get_state(s), SIPSESS_SESSION_CONFIRMED);
    cr_assert_eq(sipsess_session_get_state(g_b.sess), SIPSESS_SESSION_CONFIRMED);
    rsp ri = {0};
    cr_assert_eq(sipsess_session_info(s, "x", 1, "text/plain", NULL, h_rd(), &ri), 0);
    for (int i = 0; i < 300 && ri.n_accept == 0; i++) {
        sipsess_ua_step(g_a.ua, 5);
        sipsess_ua_step(g_b.ua, 5);
    }
    cr_assert_eq(ri.n_accept, 1);
    cr_assert_eq(sipsess_session_bye(g_b.sess, NULL, NULL, NULL), 0);
    for (int i = 0; i < 300 && g_a.n_terminated == 0; i++) {
        sipsess_ua_step(g_a.ua, 5);
        sipsess_ua_step(g_b.ua, 5);
    }
    cr_assert_eq(g_a.cause, SIPSESS_TERM_REMOTE_BYE);
    cr_assert_eq(g_b.cause, SIPSESS_TERM_LOCAL_BYE);
    sipsess_session_unref(s);
}

Test(session, real_udp_call)
{
    real_call("udp");
}

Test(session, real_tcp_call)
{
    real_call("tcp");
}

Test(session, caller_bye_in_early_dialog_gets_invite_487)
{
    two();
    g_b.on_invite = ACT_PROGRESS;
    rsp r = {0}, rb = {0};
    sipsess_session *s = call(&g_a, &g_b, OFFER1, &r);
    h_run(200);
    cr_assert_eq(sipsess_session_get_state(s), SIPSESS_SESSION_EARLY);
    /* §15: the caller may BYE an early dialog */
    cr_assert_eq(sipsess_session_bye(s, NULL, h_rd(), &rb), 0);
    h_run(300);
    cr_assert_eq(rb.n_accept, 1);
    cr_assert_eq(g_b.n_bye, 1);
    cr_assert_eq(g_b.cause, SIPSESS_TERM_REMOTE_BYE);
    cr_assert(sipsess_request_answered(g_b.kept));
    cr_assert_eq(r.n_reject, 1);
    cr_assert_eq(r.last_status, 487);
    /* Terminated told once */
    int nterm = 0;
    for (int i = 0; i < g_b.n_states; i++)
        nterm += g_b.states[i] == SIPSESS_SESSION_TERMINATED;
    cr_assert_eq(nterm, 1);
    cr_assert_eq(g_b.n_terminated, 1);
    cr_assert_eq(g_a.n_terminated, 1);
    cr_assert_eq(g_a.cause, SIPSESS_TERM_LOCAL_BYE);
    sipsess_session_unref(s);
}

Test(session, dropped_kept_request_gets_500)
{
    rsp r = {0};
    sipsess_session *s = established(&r);
    g_b.on_info = ACT_KEEP;
    rsp ri = {0};
    cr_assert_eq(sipsess_session_info(s, "x", 1, "text/plain", NULL, h_rd(), &ri), 0);
    h_run(100);
    cr_assert_not_null(g_b.kept);
    sipsess_request_unref(g_b.kept);
    g_b.kept = NULL;
    h_run(100);
    cr_assert_eq(ri.last_status, 500);
    sipsess_session_unref(s);
}

/* §12.2.1.2: a 481 or 408 (or no answer) to a request in the dialog ends it. */
Test(session, in_dialog_481_408_and_timeout_end_the_session)
{
    rsp r = {0};
    sipsess_session *s = established(&r);
    g_b.on_info = ACT_REJECT;
    g_b.reject_status = 481;
    rsp ri = {0};
    cr_assert_eq(sipsess_session_info(s, "x", 1, "text/plain", NULL, h_rd(), &ri), 0);
    h_run(100);
    cr_assert_eq(ri.last_status, 481);
    cr_assert_eq(sipsess_session_term_cause(s), SIPSESS_TERM_DIALOG_ERROR);
    sipsess_session_unref(s);
    h_teardown();
    h_setup();
    rsp r2 = {0};
    s = established(&r2);
    g_b.on_info = ACT_REJECT;
    g_b.reject_status = 408;
    rsp ri2 = {0};
    cr_assert_eq(sipsess_session_info(s, "x", 1, "text/plain", NULL, h_rd(), &ri2), 0);
    h_run(100);
    cr_assert_eq(ri2.last_status, 408);
    cr_assert_eq(sipsess_session_term_cause(s), SIPSESS_TERM_TIMEOUT);
    cr_assert_eq(g_b.n_bye, 1);
    sipsess_session_unref(s);
    h_teardown();
    h_setup();
    rsp r3 = {0};
    s = established(&r3);
    h_drop("MESSAGE", 1000);
    rsp rm = {0};
    cr_assert_eq(sipsess_session_message(s, "x", 1, NULL, NULL, h_rd(), &rm), 0);
    h_run(33000);
    cr_assert_eq(rm.n_reject_null, 1);
    cr_assert_eq(sipsess_session_term_cause(s), SIPSESS_TERM_TIMEOUT);
    sipsess_session_unref(s);
}

Test(session, rel100_required_and_off)
{
    sipsess_ua_config *cfg = h_config();
    sipsess_ua_config_set_100rel(cfg, SIPSESS_100REL_REQUIRED);
    h_peer(&g_b, "bob", 5002, cfg);
    sipsess_ua_config_free(cfg);
    cfg = h_config();
    sipsess_ua_config_set_100rel(cfg, SIPSESS_100REL_OFF);
    cr_assert_eq(sipsess_ua_config_set_100rel(cfg, (sipsess_100rel)7), SIPSESS_EINVAL);
    h_peer(&g_a, "alice", 5001, cfg);
    sipsess_ua_config_free(cfg);
    rsp r = {0};
    sipsess_session *s = call(&g_a, &g_b, OFFER1, &r);
    h_run(200);
    cr_assert_eq(r.last_status, 421);
    sipsess_session_unref(s);
    /* the other way: Require: 100rel to a UA with it off → 420 */
    rsp r2 = {0};
    s = call(&g_b, &g_a, OFFER1, &r2);
    h_run(200);
    cr_assert_eq(r2.last_status, 420);
    sipsess_session_unref(s);
}

Test(session, pending_limit_and_identity)
{
    sipsess_ua_config *cfg = h_config();
    cr_assert_eq(sipsess_ua_config_set_limit(cfg, SIPSESS_LIMIT_PENDING, 1), 0);
    cr_assert_eq(sipsess_ua_config_set_identity(cfg, "Alice <sip:alice@127.0.0.1>"), 0);
    cr_assert_eq(sipsess_ua_config_set_identity(cfg, "not a uri"), SIPSESS_EURI);
    cr_assert_eq(sipsess_ua_config_set_identity(cfg, "x\r\ny"), SIPSESS_EINVAL);
    h_peer(&g_a, "alice", 5001, cfg);
    sipsess_ua_config_free(cfg);
    h_peer(&g_b, "bob", 5002, NULL);
    g_b.on_invite = ACT_ACCEPT;
    g_b.answer_body = ANSWER1;
    rsp r = {0};
    sipsess_session *s = call(&g_a, &g_b, OFFER1, &r);
    h_run(200);
    sipsess_str ru = sipsess_session_remote_uri(g_b.sess);
    cr_assert_eq(ru.len, strlen("sip:alice@127.0.0.1"));
    cr_assert_eq(memcmp(ru.p, "sip:alice@127.0.0.1", ru.len), 0);
    cr_assert_not_null(strstr(sipsess_session_remote_target(g_b.sess).p, "sip:alice@"));
    g_b.on_info = ACT_KEEP;
    cr_assert_eq(sipsess_session_info(s, "x", 1, "text/plain", NULL, NULL, NULL), 0);
    cr_assert_eq(sipsess_session_info(s, "x", 1, "text/plain", NULL, NULL, NULL), SIPSESS_ELIMIT);
    h_run(100);
    sipsess_request_unref(g_b.kept);
    g_b.kept = NULL;
    h_run(100);
    cr_assert_eq(sipsess_session_info(s, "x", 1, "text/plain", NULL, NULL, NULL), 0);
    h_run(100);
    sipsess_session_unref(s);
}

Test(session, ua_free_with_everything_in_flight)
{
    h_peer(&g_a, "alice", 5001, NULL);
    h_peer(&g_b, "bob", 5002, NULL);
    h_peer(&g_c, "carol", 5003, NULL);
    sipsess_session *x = NULL;
    cr_assert_eq(sipsess_ua_invite(g_a.ua, "sip:x@127.0.0.1:5999;transport=tcp", NULL, 0, NULL,
                                   NULL, NULL, NULL, &x),
                 SIPSESS_ENOTFOUND);
    cr_assert_eq(sipsess_ua_invite(g_a.ua, "mailto:x@y", NULL, 0, NULL, NULL, NULL, NULL, &x),
                 SIPSESS_EURI);
    cr_assert_eq(sipsess_ua_invite(NULL, g_b.uri, NULL, 0, NULL, NULL, NULL, NULL, &x),
                 SIPSESS_EINVAL);
    /* a → b: kept unanswered; c → b: nothing answers (lost INVITE) */
    g_b.on_invite = ACT_KEEP;
    rsp r1 = {0}, r2 = {0};
    sipsess_session *s1 = call(&g_a, &g_b, OFFER1, &r1);
    h_run(100);
    h_drop("INVITE", 100);
    sipsess_session *s2 = call(&g_c, &g_b, OFFER1, &r2);
    h_run(100);
    sipsess_request *kept = sipsess_request_ref(g_b.kept);
    sipsess_session *bs = sipsess_session_ref(g_b.sess);
    sipsess_ua_free(g_b.ua);
    g_b.ua = NULL;
    cr_assert_eq(sipsess_session_get_state(bs), SIPSESS_SESSION_TERMINATED);
    cr_assert_eq(sipsess_request_accept(kept, NULL, 0, NULL, NULL), SIPSESS_ESTATE);
    sipsess_request_unref(kept);
    sipsess_ua_free(g_c.ua);
    g_c.ua = NULL;
    cr_assert_eq(sipsess_session_term_cause(s2), SIPSESS_TERM_UA_SHUTDOWN);
    sipsess_ua_free(g_a.ua);
    g_a.ua = NULL;
    cr_assert_eq(sipsess_session_term_cause(s1), SIPSESS_TERM_UA_SHUTDOWN);
    sipsess_session_unref(bs);
    sipsess_session_unref(s1);
    sipsess_session_unref(s2);
}

Test(session, invite_timeout_timer_b)
{
    two();
    h_drop("INVITE", 1000);
    rsp r = {0};
    sipsess_session *s = call(&g_a, &g_b, OFFER1, &r);
    h_run(31000);
    cr_assert_eq(r.n_reject_null, 0);
    h_run(1500);
    cr_assert_eq(r.n_reject_null, 1);
    cr_assert_eq(r.last_session, s);
    cr_assert_eq(g_a.cause, SIPSESS_TERM_TIMEOUT);
    cr_assert_eq(g_b.n_invite, 0);
    sipsess_session_unref(s);
}

/* The 2xx repeats the answer a reliable 1xx gave: not a new offer. */
Test(session, answer_in_reliable_1xx_repeated_in_2xx)
{
    two();
    g_b.on_invite = ACT_KEEP;
    rsp r = {0};
    sipsess_session *s = call(&g_a, &g_b, OFFER1, &r);
    h_run(100);
    cr_assert_eq(sipsess_request_progress(g_b.kept, 183, NULL, ANSWER1, strlen(ANSWER1), SDP, 1),
                 0);
    h_run(200);
    cr_assert_eq(sipsess_session_get_signaling_state(s), SIPSESS_SIGNALING_STABLE);
    cr_assert_eq(sipsess_request_accept(g_b.kept, ANSWER1, strlen(ANSWER1), SDP, NULL), 0);
    h_run(200);
    cr_assert_eq(sipsess_session_get_state(s), SIPSESS_SESSION_CONFIRMED);
    cr_assert_eq(sipsess_session_get_signaling_state(s), SIPSESS_SIGNALING_STABLE);
    cr_assert_eq(sipsess_session_body(s, SIPSESS_BODY_REMOTE_OFFER, NULL).len, 0);
    cr_assert_eq(sipsess_session_body(s, SIPSESS_BODY_REMOTE_ANSWER, NULL).len, strlen(ANSWER1));
    cr_assert_eq(g_b.n_ack, 1);
    sipsess_session_unref(s);
}

Test(session, refer_subscription_expires)
{
    rsp r = {0};
    sipsess_session *s = established(&r);
    g_b.on_refer = ACT_ACCEPT;
    cr_assert_eq(sipsess_session_refer(s, "sip:carol@127.0.0.1:5003", NULL, NULL, NULL), 0);
    h_run(200);
    cr_assert_eq(g_a.n_notify, 1);
    cr_assert_not(g_a.last_sub_terminated);
    h_run(60000);
    cr_assert_eq(g_a.n_notify, 2);
    cr_assert(g_a.last_sub_terminated);
    cr_assert_eq(g_a.last_sipfrag, 100);
    sipsess_session_unref(s);
}
