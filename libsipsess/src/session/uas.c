/*
 * The session as UAS: a new INVITE (§13.3.1), requests inside its dialog
 * (§12.2.2, §14.2, §15.1.2, RFC 3262, 3311, 3515), the ACK of our 2xx and
 * its retransmission until then (§13.3.1.4), CANCEL (§9.2), and the
 * retransmission of reliable provisional responses until their PRACK
 * (RFC 3262 §3).
 */
#include <stdio.h>
#include <string.h>

#include "runtime/mem.h"
#include "session/session_int.h"
#include "syntax/syntax.h"

static void reply_plain(sipsess__txn *st, unsigned status, const char *extra)
{
    sipsess__st_reply(st, status, NULL, NULL, extra);
}

/* ------------------------------------------------------------------ */
/* 2xx retransmission and the ACK wait (§13.3.1.4)                     */

static void on_2xx_timer(sipsess__timer *t, void *arg)
{
    (void)t;
    sipsess_session *s = arg;
    sipsess__sl *sl = s->sl;
    if (!s->ack_wait || !s->ack_st || !sl)
        return;
    sipsess__sl_enter(sl);
    /* "the 2xx response is passed to the transport with an interval that
     * starts at T1 seconds and doubles for each retransmission until it
     * reaches T2 seconds". The IST in Accepted sends what we give it
     * (RFC 6026 §8.7). */
    const sipsess_msg *last = sipsess__txn_last_response(s->ack_st);
    if (last && sipsess_msg_status(last) >= 200 && sipsess_msg_status(last) < 300) {
        sipsess_str raw = sipsess_msg_raw(last);
        sipsess__st_respond(s->ack_st, raw.p, raw.len);
    }
    s->retx_ms *= 2;
    if (s->retx_ms > sl->cfg.t2)
        s->retx_ms = sl->cfg.t2;
    sipsess__timer_start(sl->loop, &s->t_2xx, s->retx_ms);
    sipsess__sl_leave(sl);
}

static void on_ack_timeout(sipsess__timer *t, void *arg)
{
    (void)t;
    sipsess_session *s = arg;
    sipsess__sl *sl = s->sl;
    if (!s->ack_wait || !sl)
        return;
    sipsess__sl_enter(sl);
    sipsess__sess_hold(s);
    sipsess__uas_stop_2xx(s);
    if (s->reinv_in) {
        sipsess_request *r = s->reinv_in;
        s->reinv_in = NULL;
        sipsess__req_irelease(r);
    }
    /* §13.3.1.4: "If the server retransmits the 2xx response for 64*T1
     * seconds without receiving an ACK, the dialog is confirmed, but the
     * session SHOULD be terminated. This is accomplished with a BYE." The
     * delegate hears of it first and may end it itself. */
    if (s->state == SIPSESS_SESSION_ACK_WAIT)
        sipsess__sess_set_state(s, SIPSESS_SESSION_CONFIRMED);
    if (s->has_del && s->del.on_ack_timeout)
        s->del.on_ack_timeout(s, NULL, s->ud);
    if (sipsess__sess_alive(s) && !s->bye_sent) {
        s->final_cause = SIPSESS_TERM_ACK_TIMEOUT;
        sipsess__uac_bye(s, NULL, NULL, NULL);
    }
    sipsess__sess_release(s);
    sipsess__sl_leave(sl);
}

void sipsess__uas_stop_2xx(sipsess_session *s)
{
    s->ack_wait = false;
    s->ack_st = NULL;
    if (s->sl) {
        sipsess__timer_stop(s->sl->loop, &s->t_2xx);
        sipsess__timer_stop(s->sl->loop, &s->t_ack);
    }
    if (s->ack_req) {
        sipsess_request *r = s->ack_req;
        s->ack_req = NULL;
        sipsess__req_irelease(r);
    }
}

void sipsess__uas_start_2xx(sipsess_session *s, sipsess_request *req)
{
    sipsess__sl *sl = s->sl;
    sipsess__uas_stop_2xx(s);
    s->ack_wait = true;
    s->ack_cseq = req->cseq;
    s->ack_st = req->st;
    /* The handle stays while the IST may end under us: its end clears
     * ack_st through it (sipsess__sl_st_end). */
    sipsess__req_ihold(req);
    s->ack_req = req;
    s->retx_ms = sl->cfg.t1;
    /* Over a reliable transport the transport keeps the 2xx; the ACK wait
     * stays (§13.3.1.4 applies the timeout to both). */
    sipsess__timer_start(sl->loop, &s->t_2xx, s->retx_ms);
    sipsess__timer_start(sl->loop, &s->t_ack, 64ull * sl->cfg.t1);
}

/* ------------------------------------------------------------------ */
/* reliable provisional responses (RFC 3262 §3)                        */

static void on_rel_timer(sipsess__timer *t, void *arg)
{
    (void)t;
    sipsess_session *s = arg;
    sipsess__sl *sl = s->sl;
    if (!s->rel_pending || !s->rel_st || !s->rel_resp || !sl)
        return;
    sipsess__sl_enter(sl);
    /* "The reliable provisional response is passed to the transaction
     * layer periodically with an interval that starts at T1 seconds and
     * doubles for each retransmission." */
    sipsess_str raw = sipsess_msg_raw(s->rel_resp);
    sipsess__st_respond(s->rel_st, raw.p, raw.len);
    s->rel_ms *= 2;
    sipsess__timer_start(sl->loop, &s->t_rel, s->rel_ms);
    sipsess__sl_leave(sl);
}

static void on_rel_timeout(sipsess__timer *t, void *arg)
{
    (void)t;
    sipsess_session *s = arg;
    sipsess__sl *sl = s->sl;
    if (!s->rel_pending || !sl)
        return;
    sipsess__sl_enter(sl);
    sipsess__sess_hold(s);
    sipsess__uas_stop_rel(s);
    /* "If a reliable provisional response is retransmitted for 64*T1
     * seconds without reception of a corresponding PRACK, the UAS SHOULD
     * reject the original request with a 5xx response." */
    sipsess_request *ir = s->inv_req;
    s->final_cause = SIPSESS_TERM_PRACK_TIMEOUT;
    if (ir && !ir->answered && ir->st)
        sipsess__req_respond(ir, 504, "PRACK Timeout", NULL, NULL, 0, NULL, false);
    sipsess__sess_terminate(s, SIPSESS_TERM_PRACK_TIMEOUT);
    sipsess__sess_release(s);
    sipsess__sl_leave(sl);
}

void sipsess__uas_start_rel(sipsess_session *s, sipsess__txn *st)
{
    sipsess__sl *sl = s->sl;
    const sipsess_msg *last = sipsess__txn_last_response(st);
    if (!last)
        return;
    sipsess_msg_free(s->rel_resp);
    s->rel_resp = sipsess_msg_ref((sipsess_msg *)last);
    s->rel_st = st;
    s->rel_pending = true;
    s->rel_ms = sl->cfg.t1;
    sipsess__timer_start(sl->loop, &s->t_rel, s->rel_ms);
    sipsess__timer_start(sl->loop, &s->t_rel_to, 64ull * sl->cfg.t1);
}

void sipsess__uas_stop_rel(sipsess_session *s)
{
    s->rel_pending = false;
    s->rel_st = NULL;
    if (s->sl) {
        sipsess__timer_stop(s->sl->loop, &s->t_rel);
        sipsess__timer_stop(s->sl->loop, &s->t_rel_to);
    }
}

void sipsess__uas_timers_init(sipsess_session *s)
{
    sipsess__timer_init(&s->t_2xx, on_2xx_timer, s);
    sipsess__timer_init(&s->t_ack, on_ack_timeout, s);
    sipsess__timer_init(&s->t_rel, on_rel_timer, s);
    sipsess__timer_init(&s->t_rel_to, on_rel_timeout, s);
}

/* ------------------------------------------------------------------ */
/* a new INVITE                                                        */

/* RFC 3891 §3: the dialog a Replaces header names, seen from here (its
 * to-tag is our local tag, its from-tag the remote one). Returns 0 and the
 * session, or the status to refuse the INVITE with. */
static unsigned find_replaced(sipsess__sl *sl, const sipsess_msg *m, sipsess_session **out)
{
    *out = NULL;
    const sipsess_hdr *h = sipsess_msg_hdr(m, SIPSESS_HDR_REPLACES, 0);
    if (!h)
        return 0;
    if (sipsess_msg_hdr(m, SIPSESS_HDR_REPLACES, 1))
        return 400; /* §3: more than one Replaces → 400 */
    sipsess_str cid = sipsess_hdr_token(h), tt = {NULL, 0}, ft = {NULL, 0};
    if (!cid.len || !sipsess_hdr_param(h, "to-tag", &tt) || !sipsess_hdr_param(h, "from-tag", &ft))
        return 400;
    sipsess__dialog *d = sipsess__dtab_find(&sl->dialogs, cid, tt, ft);
    sipsess_session *old = d ? d->owner : NULL;
    if (!old || old->state == SIPSESS_SESSION_TERMINATED)
        return 481;
    /* §3: an early dialog we initiated cannot be replaced (481); one with
     * early-only cannot be replaced once confirmed (486). */
    if (old->state != SIPSESS_SESSION_CONFIRMED && old->outgoing)
        return 481;
    if (old->state == SIPSESS_SESSION_CONFIRMED && sipsess_hdr_param(h, "early-only", NULL))
        return 486;
    *out = old;
    return 0;
}

int sipsess__sl_new_invite(sipsess__sl *sl, sipsess__txn *st, sipsess_session **out,
                           sipsess_request **out_req)
{
    const sipsess_msg *m = sipsess__txn_request(st);
    if (sl->cfg.max_sessions && sl->nsessions >= sl->cfg.max_sessions)
        return SIPSESS_ELIMIT;
    bool sup = sipsess__has_option(m, SIPSESS_HDR_SUPPORTED, "100rel");
    bool req100 = sipsess__has_option(m, SIPSESS_HDR_REQUIRE, "100rel");
    if (sl->cfg.rel100 == SIPSESS_100REL_REQUIRED && !sup && !req100) {
        /* RFC 3262 §3 / RFC 3261 §21.4.15: we insist on 100rel. */
        reply_plain(st, 421, "Require: 100rel\r\n");
        return -421;
    }
    sipsess_session *old = NULL;
    unsigned rst = find_replaced(sl, m, &old);
    if (rst) {
        reply_plain(st, rst, NULL);
        return -(int)rst;
    }
    sipsess_session *s = sipsess__sess_alloc(sl, false);
    if (!s)
        return SIPSESS_ENOMEM;
    char tag[17];
    int listener = 0;
    sipsess__proto proto = SIPSESS__UDP;
    int rc = sipsess__random_token(tag, 16);
    tag[16] = '\0';
    if (rc == 0)
        rc = sipsess__dialog_init_uas(&s->dlg, m, tag);
    if (rc == 0)
        rc = sipsess__txn_local(st, &listener, &proto);
    if (rc == 0 && !(s->contact = sipsess__sess_make_contact(sl, listener, proto)))
        rc = SIPSESS_ENOMEM;
    const sipsess_hdr *cs = sipsess_msg_hdr(m, SIPSESS_HDR_CSEQ, 0);
    s->inv_cseq = cs ? sipsess_cseq_number(cs) : 0;
    /* RFC 3264 §5 / RFC 3261 §13.3.1: a body in the INVITE is the offer. */
    sipsess_str body = sipsess_msg_body(m);
    bool has_offer = false;
    if (rc == 0 && body.len) {
        const sipsess_hdr *ct = sipsess_msg_hdr(m, SIPSESS_HDR_CONTENT_TYPE, 0);
        char *ctype = ct ? sipsess__dlg_strdup(sipsess_hdr_value(ct)) : NULL;
        rc = sipsess__oa_remote_offer(&s->oa, body.p, body.len, ctype);
        sipsess__free(ctype);
        has_offer = true;
    }
    sipsess_request *req = NULL;
    if (rc == 0)
        rc = sipsess__req_new(sl, st, NULL, s, SIPSESS__RQ_INVITE, &req);
    if (rc) {
        s->bye_sent = true;
        sipsess__sess_terminate(s, SIPSESS_TERM_REJECTED);
        return rc;
    }
    req->has_offer = has_offer;
    req->peer_100rel = sup || req100;
    req->peer_requires_100rel = req100;
    if (old) {
        sipsess__sess_hold(old);
        req->replaces = old;
    }
    s->inv_req = req; /* weak: cleared when the handle goes */
    *out = s;
    *out_req = req;
    return SIPSESS_OK;
}

/* ------------------------------------------------------------------ */
/* CANCEL (§9.2)                                                       */

void sipsess__uas_cancel(sipsess_session *s, sipsess__txn *cancel_st, sipsess_request *inv)
{
    sipsess__sl *sl = s->sl;
    sipsess__sess_hold(s);
    /* §9.2: the CANCEL gets 200 whatever happens to the INVITE. */
    reply_plain(cancel_st, 200, NULL);
    bool pending = inv && !inv->answered && inv->st;
    if (!pending) {
        sipsess__sess_release(s);
        return; /* "the CANCEL request has no effect" once final */
    }
    sipsess_request *creq = NULL;
    sipsess__req_new(sl, cancel_st, NULL, s, SIPSESS__RQ_CANCEL, &creq);
    sipsess__req_ihold(inv);
    if (inv->kind == SIPSESS__RQ_INVITE) {
        s->cancelled_in = true;
        s->final_cause = SIPSESS_TERM_CANCELLED;
    }
    if (creq && s->has_del && s->del.on_cancel)
        s->del.on_cancel(s, creq, s->ud);
    /* "the UAS MUST respond to the INVITE with a 487". */
    if (!inv->answered && inv->st)
        sipsess__req_respond(inv, 487, NULL, NULL, NULL, 0, NULL, false);
    if (inv->kind == SIPSESS__RQ_INVITE)
        sipsess__sess_terminate(s, SIPSESS_TERM_CANCELLED);
    if (creq)
        sipsess_request_unref(creq);
    sipsess__req_irelease(inv);
    sipsess__sess_release(s);
}

bool sipsess__sl_cancel(sipsess__sl *sl, sipsess__txn *cancel_st, sipsess__txn *target)
{
    sipsess_request *inv = target ? sipsess__txn_get_user(target) : NULL;
    if (!inv || !inv->s || inv->sl != sl)
        return false;
    sipsess__sl_enter(sl);
    sipsess__uas_cancel(inv->s, cancel_st, inv);
    sipsess__sl_leave(sl);
    return true;
}

/* ------------------------------------------------------------------ */
/* ACK (§13.3.1.4, §17.2.1 with RFC 6026)                              */

void sipsess__uas_ack(sipsess_session *s, const sipsess__rx *rx)
{
    sipsess__sl *sl = s->sl;
    const sipsess_msg *m = rx->msg;
    const sipsess_hdr *cs = sipsess_msg_hdr(m, SIPSESS_HDR_CSEQ, 0);
    uint32_t n = cs ? sipsess_cseq_number(cs) : 0;
    if (!s->ack_wait || n != s->ack_cseq)
        return; /* a retransmitted ACK, or one for nothing we sent */
    sipsess__sess_hold(s);
    sipsess__uas_stop_2xx(s);
    if (s->reinv_in) {
        sipsess_request *r = s->reinv_in;
        s->reinv_in = NULL;
        sipsess__req_irelease(r);
    }
    /* Our offer was in the 2xx: the ACK carries the answer (§13.2.2.4,
     * RFC 3264 §5). Without one the offer is withdrawn (RFC 6337 §3.1.1
     * has no better outcome; the delegate sees the bodiless ACK). */
    sipsess_str body = sipsess_msg_body(m);
    if (s->oa.state == SIPSESS_SIGNALING_HAVE_LOCAL_OFFER) {
        if (body.len) {
            const sipsess_hdr *ct = sipsess_msg_hdr(m, SIPSESS_HDR_CONTENT_TYPE, 0);
            char *ctype = ct ? sipsess__dlg_strdup(sipsess_hdr_value(ct)) : NULL;
            sipsess__oa_remote_answer(&s->oa, body.p, body.len, ctype);
            sipsess__free(ctype);
        } else {
            sipsess__oa_rollback(&s->oa);
        }
    }
    if (s->state == SIPSESS_SESSION_ACK_WAIT)
        sipsess__sess_set_state(s, SIPSESS_SESSION_CONFIRMED);
    sipsess_request *req = NULL;
    if (sipsess__sess_alive(s) && sipsess__req_new(sl, NULL, m, s, SIPSESS__RQ_ACK, &req) == 0) {
        if (s->has_del && s->del.on_ack)
            s->del.on_ack(s, req, s->ud);
        /* Kept: "answer processing not finished yet" until released;
         * meanwhile a re-INVITE gets 500 + Retry-After. */
        if (req->refs > 1)
            s->ack_kept = req;
        sipsess_request_unref(req);
    }
    if (s->bye_after_ack && sipsess__sess_alive(s) && !s->bye_sent)
        sipsess__uac_bye(s, NULL, NULL, NULL);
    sipsess__sess_release(s);
}

void sipsess__sl_ack(sipsess__sl *sl, const sipsess__rx *rx)
{
    const sipsess_msg *m = rx->msg;
    const sipsess_hdr *cid = sipsess_msg_hdr(m, SIPSESS_HDR_CALL_ID, 0);
    const sipsess_hdr *from = sipsess_msg_hdr(m, SIPSESS_HDR_FROM, 0);
    const sipsess_hdr *to = sipsess_msg_hdr(m, SIPSESS_HDR_TO, 0);
    if (!cid || !from || !to)
        return;
    sipsess__dialog *d = sipsess__dtab_find(&sl->dialogs, sipsess_hdr_value(cid),
                                            sipsess_nameaddr_tag(to), sipsess_nameaddr_tag(from));
    if (!d)
        return;
    sipsess__sl_enter(sl);
    sipsess__uas_ack(d->owner, rx);
    sipsess__sl_leave(sl);
}

void sipsess__sl_st_end(sipsess__sl *sl, sipsess__txn *st, int err)
{
    (void)err;
    sipsess_request *req = sipsess__txn_get_user(st);
    if (!req || req->sl != sl)
        return;
    sipsess_session *s = req->s;
    if (s) {
        if (s->ack_st == st)
            s->ack_st = NULL;
        if (s->rel_st == st)
            s->rel_st = NULL;
    }
    sipsess__req_st_ended(req);
}

/* ------------------------------------------------------------------ */
/* requests inside the dialog                                          */

static void dispatch(sipsess_session *s, sipsess_request *req, sipsess_request_cb cb,
                     unsigned dflt, const char *extra)
{
    int rc = 0;
    if (cb)
        rc = cb(s, req, s->ud);
    sipsess__req_after_cb(req, rc, dflt, extra);
}

/* RFC 3262 §3: a PRACK acknowledges the reliable 1xx whose RSeq, CSeq
 * and method its RAck repeats; anything else gets 481. The last one sent
 * still matches after a 2xx stopped its retransmission: a PRACK crossing
 * the 2xx is not an error. */
static bool prack_matches(const sipsess_session *s, const sipsess_msg *m)
{
    const sipsess_hdr *h = sipsess_msg_hdr(m, SIPSESS_HDR_RACK, 0);
    if (!h || sipsess_hdr_is_bad(h) || !s->rseq)
        return false;
    return sipsess_rack_rseq(h) == s->rseq && sipsess_rack_cseq(h) == s->inv_cseq &&
           sipsess_rack_method(h) == SIPSESS_METHOD_INVITE;
}

static char *ctype_of(const sipsess_msg *m)
{
    const sipsess_hdr *ct = sipsess_msg_hdr(m, SIPSESS_HDR_CONTENT_TYPE, 0);
    return ct ? sipsess__dlg_strdup(sipsess_hdr_value(ct)) : NULL;
}

static int take_offer(sipsess_session *s, const sipsess_msg *m)
{
    sipsess_str body = sipsess_msg_body(m);
    char *ctype = ctype_of(m);
    int rc = sipsess__oa_remote_offer(&s->oa, body.p, body.len, ctype);
    sipsess__free(ctype);
    return rc;
}

void sipsess__uas_in_dialog(sipsess_session *s, sipsess__txn *st)
{
    sipsess__sl *sl = s->sl;
    const sipsess_msg *m = sipsess__txn_request(st);
    sipsess_method method = sipsess_msg_method(m);
    char ra[48];
    if (s->state == SIPSESS_SESSION_TERMINATED) {
        reply_plain(st, 481, NULL);
        return;
    }
    unsigned bad = sipsess__dialog_rx_request(&s->dlg, m);
    if (bad) {
        reply_plain(st, bad, NULL);
        return;
    }
    if (sl->cfg.max_pending && s->npend_in >= sl->cfg.max_pending) {
        sipsess__retry_after(ra, sizeof ra);
        reply_plain(st, 503, ra);
        return;
    }
    sipsess_str body = sipsess_msg_body(m);
    bool offer = false;
    int kind = SIPSESS__RQ_INDIALOG;
    switch (method) {
    case SIPSESS_METHOD_INVITE:
        /* §14.2: a re-INVITE while ours is pending is glare (491); while
         * the peer's previous one (or its ACK's processing) is not done,
         * 500 with Retry-After. No re-INVITE in an early dialog (§14.1). */
        if (s->reinvite || s->oa.state == SIPSESS_SIGNALING_HAVE_LOCAL_OFFER) {
            reply_plain(st, 491, NULL);
            return;
        }
        if (s->reinv_in || s->ack_kept || s->ack_wait || s->ack_due ||
            s->state != SIPSESS_SESSION_CONFIRMED ||
            s->oa.state == SIPSESS_SIGNALING_HAVE_REMOTE_OFFER) {
            sipsess__retry_after(ra, sizeof ra);
            reply_plain(st, 500, ra);
            return;
        }
        if (body.len) {
            if (take_offer(s, m)) {
                reply_plain(st, 500, NULL);
                return;
            }
            offer = true;
        }
        /* §12.2.2: a target refresh request replaces the remote target. */
        sipsess__dialog_refresh_target(&s->dlg, m);
        kind = SIPSESS__RQ_REINVITE;
        break;
    case SIPSESS_METHOD_UPDATE:
        if (body.len) {
            /* RFC 3311 §5.2: an UPDATE offer while ours is pending → 491;
             * while the peer's earlier offer is unanswered → 500. */
            if (s->oa.state == SIPSESS_SIGNALING_HAVE_LOCAL_OFFER) {
                reply_plain(st, 491, NULL);
                return;
            }
            if (s->oa.state == SIPSESS_SIGNALING_HAVE_REMOTE_OFFER) {
                sipsess__retry_after(ra, sizeof ra);
                reply_plain(st, 500, ra);
                return;
            }
            if (take_offer(s, m)) {
                reply_plain(st, 500, NULL);
                return;
            }
            offer = true;
        }
        sipsess__dialog_refresh_target(&s->dlg, m);
        break;
    case SIPSESS_METHOD_PRACK:
        if (!prack_matches(s, m)) {
            reply_plain(st, 481, NULL);
            return;
        }
        sipsess__uas_stop_rel(s);
        if (body.len) {
            char *ctype = ctype_of(m);
            if (s->oa.state == SIPSESS_SIGNALING_HAVE_LOCAL_OFFER) {
                /* RFC 3262 §5: the answer to the offer in the 1xx. */
                sipsess__oa_remote_answer(&s->oa, body.p, body.len, ctype);
            } else if (sipsess__oa_remote_offer(&s->oa, body.p, body.len, ctype) == 0) {
                offer = true; /* RFC 6337 §2.1 pattern 5: offer in PRACK */
            }
            sipsess__free(ctype);
        }
        break;
    default:
        break;
    }
    sipsess_request *req = NULL;
    if (sipsess__req_new(sl, st, NULL, s, kind, &req)) {
        if (offer)
            sipsess__oa_rollback(&s->oa);
        reply_plain(st, 500, NULL);
        return;
    }
    req->has_offer = offer;
    sipsess__sess_hold(s);
    const sipsess_session_delegate *d = s->has_del ? &s->del : NULL;
    switch (method) {
    case SIPSESS_METHOD_INVITE:
        s->reinv_in = req;
        sipsess__req_ihold(req);
        dispatch(s, req, d ? d->on_invite : NULL, 488, NULL);
        break;
    case SIPSESS_METHOD_UPDATE:
        dispatch(s, req, d ? d->on_update : NULL, offer ? 488 : 200, NULL);
        break;
    case SIPSESS_METHOD_PRACK:
        dispatch(s, req, d ? d->on_prack : NULL, offer ? 488 : 200, NULL);
        break;
    case SIPSESS_METHOD_BYE: {
        /* §15.1.2: answer the BYE, end the session; a pending INVITE of
         * an early dialog gets 487 by the sweep of terminate. */
        req->no_sweep = true;
        sipsess__req_ihold(req);
        dispatch(s, req, d ? d->on_bye : NULL, 200, NULL);
        sipsess__sess_terminate(s, SIPSESS_TERM_REMOTE_BYE);
        sipsess__req_irelease(req);
        break;
    }
    case SIPSESS_METHOD_INFO:
        /* RFC 6086 §4.2.2: 469 Bad Info Package when we take none. */
        dispatch(s, req, d ? d->on_info : NULL, d && d->on_info ? 200 : 469, NULL);
        break;
    case SIPSESS_METHOD_MESSAGE:
        dispatch(s, req, d ? d->on_message : NULL, 200, NULL);
        break;
    case SIPSESS_METHOD_NOTIFY:
        dispatch(s, req, d ? d->on_notify : NULL, 200, NULL);
        break;
    case SIPSESS_METHOD_REFER:
        if (sipsess_msg_hdr(m, SIPSESS_HDR_REFER_SUB, 0) &&
            sipsess__str_ieq(sipsess_hdr_token(sipsess_msg_hdr(m, SIPSESS_HDR_REFER_SUB, 0)),
                             "false"))
            req->no_refer_sub = true;
        /* RFC 3515 §2.4.2: a REFER without exactly one Refer-To is 400. */
        if (sipsess_msg_hdr_num(m, SIPSESS_HDR_REFER_TO) != 1) {
            sipsess__req_respond(req, 400, "Missing Refer-To", NULL, NULL, 0, NULL, false);
            sipsess_request_unref(req);
            break;
        }
        dispatch(s, req, d ? d->on_refer : NULL, 603, NULL);
        break;
    case SIPSESS_METHOD_OPTIONS: {
        char extra[256];
        snprintf(extra, sizeof extra, "Allow: %s\r\nSupported: %s\r\n", sipsess__sl_allow(),
                 sipsess__sl_supported(sl));
        dispatch(s, req, d ? d->on_request : NULL, 200, extra);
        break;
    }
    default:
        dispatch(s, req, d ? d->on_request : NULL, 501, NULL);
        break;
    }
    sipsess__sess_release(s);
}

bool sipsess__sl_in_dialog(sipsess__sl *sl, sipsess__txn *st)
{
    const sipsess_msg *m = sipsess__txn_request(st);
    const sipsess_hdr *cid = sipsess_msg_hdr(m, SIPSESS_HDR_CALL_ID, 0);
    const sipsess_hdr *from = sipsess_msg_hdr(m, SIPSESS_HDR_FROM, 0);
    const sipsess_hdr *to = sipsess_msg_hdr(m, SIPSESS_HDR_TO, 0);
    if (!cid || !from || !to)
        return false;
    sipsess__dialog *d = sipsess__dtab_find(&sl->dialogs, sipsess_hdr_value(cid),
                                            sipsess_nameaddr_tag(to), sipsess_nameaddr_tag(from));
    if (!d)
        return false;
    sipsess__sl_enter(sl);
    sipsess__uas_in_dialog(d->owner, st);
    sipsess__sl_leave(sl);
    return true;
}
