/*
 * Incoming-request handles (session.h): what a delegate callback gets,
 * how it answers, and what answering means for the session — dialog
 * creation by a tagged 1xx or 2xx (§12.1.1), reliable provisional
 * responses (RFC 3262 §3), offer/answer in responses (RFC 3264, RFC 6337
 * §2), the 2xx retransmitted until its ACK (§13.3.1.4), rollback of a
 * rejected offer, and the defaults applied when a callback leaves a
 * request unanswered.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/mem.h"
#include "session/session_int.h"
#include "syntax/syntax.h"

/* A kept request is answered 500 before its client gives up: a
 * non-INVITE client waits 64*T1 (Timer F, §17.1.2.2), so 2*T1 earlier;
 * an INVITE client has no timer once it saw a provisional response, but
 * proxies cancel after 3 minutes (Timer C, §16.6 step 11). */
#define KEPT_INVITE_MS 170000u

static void on_kept_timer(sipsess__timer *t, void *arg);

void sipsess__retry_after(char *buf, size_t cap)
{
    /* §14.2: "a Retry-After header field with a randomly chosen value of
     * between 0 and 10 seconds". */
    uint8_t r = 0;
    sipsess__random(&r, 1);
    snprintf(buf, cap, "Retry-After: %u\r\n", (unsigned)(r % 11));
}

int sipsess__req_new(sipsess__sl *sl, sipsess__txn *st, const sipsess_msg *ack,
                     sipsess_session *s, int kind, sipsess_request **out)
{
    sipsess_request *req = sipsess__calloc(1, sizeof *req);
    if (!req)
        return SIPSESS_ENOMEM;
    const sipsess_msg *m = st ? sipsess__txn_request(st) : ack;
    req->refs = 1;
    req->sl = sl;
    req->st = st;
    req->msg = sipsess_msg_ref((sipsess_msg *)m);
    req->method = sipsess_msg_method(m);
    req->kind = kind;
    const sipsess_hdr *cs = sipsess_msg_hdr(m, SIPSESS_HDR_CSEQ, 0);
    req->cseq = cs ? sipsess_cseq_number(cs) : 0;
    sipsess__timer_init(&req->t_kept, on_kept_timer, req);
    req->next = sl->reqs;
    if (sl->reqs)
        sl->reqs->prev = req;
    sl->reqs = req;
    if (st)
        sipsess__txn_set_user(st, req);
    if (kind == SIPSESS__RQ_ACK || kind == SIPSESS__RQ_CANCEL || !st)
        req->answered = true; /* nothing (more) to answer */
    if (s) {
        sipsess__sess_hold(s);
        req->s = s;
        if (!req->answered) {
            req->snext = s->pend_in;
            if (s->pend_in)
                s->pend_in->sprev = req;
            s->pend_in = req;
            req->spending = true;
            s->npend_in++;
        }
    }
    *out = req;
    return SIPSESS_OK;
}

static void unpend(sipsess_request *req)
{
    sipsess_session *s = req->s;
    if (!req->spending || !s)
        return;
    if (req->sprev)
        req->sprev->snext = req->snext;
    else
        s->pend_in = req->snext;
    if (req->snext)
        req->snext->sprev = req->sprev;
    req->sprev = req->snext = NULL;
    req->spending = false;
    s->npend_in--;
}

static void req_free(sipsess_request *req)
{
    if (req->sl) {
        sipsess__timer_stop(req->sl->loop, &req->t_kept);
        if (req->prev)
            req->prev->next = req->next;
        else
            req->sl->reqs = req->next;
        if (req->next)
            req->next->prev = req->prev;
    }
    if (req->st)
        sipsess__txn_set_user(req->st, NULL);
    unpend(req);
    sipsess_session *s = req->s;
    if (s && s->ack_kept == req)
        s->ack_kept = NULL;
    if (s && s->inv_req == req)
        s->inv_req = NULL;
    if (req->sub && --req->sub->refs == 0)
        sipsess__free(req->sub);
    sipsess__sess_release(req->replaces);
    sipsess_msg_free(req->msg);
    sipsess__free(req);
    sipsess__sess_release(s);
}

void sipsess__req_ihold(sipsess_request *req)
{
    req->refs++;
    req->irefs++;
}

void sipsess__req_irelease(sipsess_request *req)
{
    req->irefs--;
    sipsess_request_unref(req);
}

void sipsess__req_st_ended(sipsess_request *req)
{
    req->st = NULL;
    if (!req->answered) {
        /* The client gave up (or the transport failed): nothing can be
         * answered any more. */
        req->answered = true;
        unpend(req);
        if (req->sl)
            sipsess__timer_stop(req->sl->loop, &req->t_kept);
    }
}

void sipsess__req_detach_all(sipsess__sl *sl)
{
    while (sl->reqs) {
        sipsess_request *req = sl->reqs;
        sipsess__timer_stop(sl->loop, &req->t_kept);
        sl->reqs = req->next;
        req->prev = req->next = NULL;
        if (req->st)
            sipsess__txn_set_user(req->st, NULL);
        req->st = NULL;
        req->answered = true;
        unpend(req);
        req->sl = NULL;
    }
}

/* ------------------------------------------------------------------ */
/* answering                                                           */

static void add_record_route(sipsess__sb *b, const sipsess_msg *req)
{
    /* §12.1.1: "the UAS MUST copy all Record-Route header field values
     * from the request into the response (including the URIs, URI
     * parameters, and any Record-Route header field parameters, whether
     * they are known or unknown to the UAS) and MUST maintain the order". */
    for (size_t i = 0;; i++) {
        const sipsess_hdr *h = sipsess_msg_hdr(req, SIPSESS_HDR_RECORD_ROUTE, i);
        if (!h)
            break;
        char *v = sipsess__dlg_strdup(sipsess_hdr_value(h));
        if (!v) {
            b->oom = true;
            return;
        }
        sipsess__sb_add(b, "Record-Route: %s\r\n", v);
        sipsess__free(v);
    }
}

/* Validate and apply what a 2xx (or reliable 1xx) body means for
 * offer/answer. `apply` false: only check. */
static int oa_for_response(sipsess_session *s, sipsess_request *req, unsigned status,
                           bool reliable, const void *body, size_t len, const char *ctype,
                           bool apply)
{
    sipsess__oa *oa = &s->oa;
    bool is_invite = req->kind == SIPSESS__RQ_INVITE || req->kind == SIPSESS__RQ_REINVITE;
    if (status < 200 && !reliable)
        return SIPSESS_OK; /* an unreliable 1xx body is a preview (§13.3.1.1) */
    if (status >= 300) {
        /* RFC 6337 §3.1.1: a rejected offer is as if never made. */
        if (apply && req->has_offer && oa->state == SIPSESS_SIGNALING_HAVE_REMOTE_OFFER)
            sipsess__oa_rollback(oa);
        return SIPSESS_OK;
    }
    if (oa->state == SIPSESS_SIGNALING_HAVE_REMOTE_OFFER) {
        if (!req->has_offer && !is_invite)
            return SIPSESS_OK; /* someone else's offer is pending */
        if (status < 200 && (!body || !len))
            return SIPSESS_OK; /* a reliable 1xx need not answer yet */
        if (!body || !len)
            return SIPSESS_EINVAL; /* the answer is required (RFC 3264 §6) */
        return apply ? sipsess__oa_local_answer(oa, body, len, ctype) : SIPSESS_OK;
    }
    if (!is_invite)
        return SIPSESS_OK; /* non-INVITE 2xx without an offer to answer */
    if (oa->state == SIPSESS_SIGNALING_HAVE_LOCAL_OFFER) {
        /* Our offer (in a reliable 1xx) waits for the PRACK's answer:
         * RFC 3262 §3 forbids a 2xx before it; a second offer is wrong
         * (RFC 3264 §4). */
        return status < 200 ? SIPSESS_OK : SIPSESS_ESTATE;
    }
    if (oa->state == SIPSESS_SIGNALING_STABLE && !(req->kind == SIPSESS__RQ_REINVITE))
        return SIPSESS_OK; /* answered in a reliable 1xx; the 2xx repeats it or not */
    if (status < 200 && !body)
        return SIPSESS_OK;
    /* No offer in the INVITE: RFC 3261 §13.2.1, the first reliable
     * non-failure message from the UAS carries the offer. */
    if (!body || !len)
        return SIPSESS_EINVAL;
    return apply ? sipsess__oa_local_offer(oa, body, len, ctype) : SIPSESS_OK;
}

static void terminate_replaced(sipsess_request *req)
{
    sipsess_session *old = req->replaces;
    if (!old || !sipsess__sess_alive(old))
        return;
    /* RFC 3891 §3: the replaced dialog ends as it would on hang-up: BYE
     * when confirmed, CANCEL / 487 when early. */
    old->final_cause = SIPSESS_TERM_REPLACED;
    if (old->state == SIPSESS_SESSION_CONFIRMED)
        sipsess__uac_bye(old, NULL, NULL, NULL);
    else if (sipsess_session_terminate(old) == 0 && sipsess__sess_alive(old) && !old->outgoing)
        sipsess__sess_terminate(old, SIPSESS_TERM_REPLACED);
}

int sipsess__req_respond(sipsess_request *req, unsigned status, const char *reason,
                         const char *extra, const void *body, size_t len, const char *ctype,
                         bool reliable)
{
    if (!req || (!body && len))
        return SIPSESS_EINVAL;
    if (status < 100 || status > 699)
        return SIPSESS_ESTATUS;
    if (req->kind == SIPSESS__RQ_ACK)
        return SIPSESS_ESTATE;
    if (!req->sl || !req->st || req->answered)
        return SIPSESS_ESTATE;
    if (status < 200 && req->method != SIPSESS_METHOD_INVITE)
        return SIPSESS_EINVAL;
    if (reason && (strchr(reason, '\r') || strchr(reason, '\n')))
        return SIPSESS_EINVAL;
    sipsess__sl *sl = req->sl;
    sipsess_session *s = req->s;
    if (s && s->state == SIPSESS_SESSION_TERMINATED && !req->no_sweep)
        return SIPSESS_ESTATE;
    /* RFC 3515 §2.4.2: a REFER accepted is answered 202. */
    if (req->method == SIPSESS_METHOD_REFER && status >= 200 && status < 300)
        status = 202;

    sipsess__sb hb = {0};
    char tagbuf[17];
    const char *to_tag = NULL;
    bool rel = false;
    bool inv = req->kind == SIPSESS__RQ_INVITE;
    int rc = SIPSESS_OK;
    if (s) {
        to_tag = s->dlg.local_tag;
    } else if (status > 100 && sipsess__random_token(tagbuf, 16) == 0) {
        /* §8.2.6.2: a final response outside a dialog carries a To tag. */
        tagbuf[16] = '\0';
        to_tag = tagbuf;
    }
    if (s && (inv || req->kind == SIPSESS__RQ_REINVITE)) {
        if (inv && status < 200 && status > 100) {
            rel = (reliable && req->peer_100rel && sl->cfg.rel100 != SIPSESS_100REL_OFF) ||
                  req->peer_requires_100rel;
            if (req->kind == SIPSESS__RQ_INVITE && rel && s->rel_pending)
                return SIPSESS_EBUSY; /* RFC 3262 §3: one unacknowledged at a time */
        }
        if (inv && status >= 200 && status < 300 && s->rel_pending && s->rel_had_body)
            return SIPSESS_ESTATE; /* RFC 3262 §3 */
        rc = oa_for_response(s, req, status, rel, body, len, ctype, false);
        if (rc)
            return rc;
        if (status > 100 && status < 300) {
            sipsess__sb_add(&hb, "Contact: %s\r\n", s->contact);
            if (inv)
                add_record_route(&hb, req->msg);
            sipsess__sb_add(&hb, "Allow: %s\r\nSupported: %s\r\n", sipsess__sl_allow(),
                            sipsess__sl_supported(sl));
        }
        if (rel) {
            s->rseq = s->rseq ? s->rseq + 1 : 0;
            if (!s->rseq) {
                /* RFC 3262 §3: the first RSeq is random, 1 to 2**31-1. */
                uint32_t r = 0;
                sipsess__random(&r, sizeof r);
                s->rseq = (r & 0x3fffffffu) + 1;
            }
            sipsess__sb_add(&hb, "Require: 100rel\r\nRSeq: %lu\r\n", (unsigned long)s->rseq);
        }
    } else if (s && req->method == SIPSESS_METHOD_UPDATE && status < 300) {
        rc = oa_for_response(s, req, status, false, body, len, ctype, false);
        if (rc)
            return rc;
        /* RFC 3311 §5.2: the 2xx to UPDATE is a target refresh too. */
        sipsess__sb_add(&hb, "Contact: %s\r\n", s->contact);
    } else if (s && req->method == SIPSESS_METHOD_PRACK && status < 300 && req->has_offer) {
        rc = oa_for_response(s, req, status, false, body, len, ctype, false);
        if (rc)
            return rc;
    } else if (req->method == SIPSESS_METHOD_REFER && status == 202 && req->no_refer_sub) {
        /* RFC 4488 §4: the 2xx says that no subscription was created. */
        sipsess__sb_add(&hb, "Refer-Sub: false\r\n");
    }
    if (extra && *extra)
        sipsess__sb_add(&hb, "%s%s", extra,
                        extra[strlen(extra) - 1] == '\n' ? "" : "\r\n");
    const char *hdrs = sipsess__sb_str(&hb);
    if (!hdrs) {
        sipsess__sb_free(&hb);
        return SIPSESS_ENOMEM;
    }
    sipsess__txn *st = req->st;
    rc = sipsess__st_reply_body(st, status, reason, status == 100 ? NULL : to_tag, hdrs, body,
                                len, body && len ? (ctype ? ctype : "application/sdp") : NULL);
    sipsess__sb_free(&hb);
    if (rc && rc != SIPSESS_ETRANSPORT)
        return rc;
    /* A transport failure is reported by the transaction when it ends;
     * the answer counts as given. */
    if (status >= 200) {
        req->answered = true;
        unpend(req);
        sipsess__timer_stop(sl->loop, &req->t_kept);
    } else {
        req->last_prov = status;
    }
    if (!s)
        return SIPSESS_OK;

    sipsess__sess_hold(s);
    if (s->state != SIPSESS_SESSION_TERMINATED)
        oa_for_response(s, req, status, rel, body, len, ctype, true);
    if (inv) {
        if (status > 100 && status < 200) {
            sipsess__sess_index(s);
            if (rel) {
                s->rel_had_body = body && len;
                sipsess__uas_start_rel(s, st);
            }
            sipsess__sess_set_state(s, SIPSESS_SESSION_EARLY);
        } else if (status >= 200 && status < 300) {
            sipsess__uas_stop_rel(s);
            sipsess__sess_index(s);
            sipsess__sess_set_state(s, SIPSESS_SESSION_ACK_WAIT);
            sipsess__uas_start_2xx(s, req);
            terminate_replaced(req);
        } else if (status >= 300) {
            sipsess__uas_stop_rel(s);
            sipsess__sess_terminate(s, s->final_cause ? s->final_cause
                                       : status < 400 ? SIPSESS_TERM_REDIRECTED
                                                      : SIPSESS_TERM_REJECTED);
        }
    } else if (req->kind == SIPSESS__RQ_REINVITE) {
        if (status >= 200 && status < 300) {
            sipsess__uas_start_2xx(s, req);
        } else if (status >= 300 && s->reinv_in == req) {
            s->reinv_in = NULL;
            sipsess__req_irelease(req);
        }
    } else if (req->method == SIPSESS_METHOD_REFER && status == 202 && !req->no_refer_sub) {
        sipsess__refer_accepted(req);
    }
    sipsess__sess_release(s);
    return SIPSESS_OK;
}

static void on_kept_timer(sipsess__timer *t, void *arg)
{
    (void)t;
    sipsess_request *req = arg;
    sipsess__sl *sl = req->sl;
    if (!sl)
        return;
    sipsess__sl_enter(sl);
    req->refs++;
    if (!req->answered && req->st) {
        SIPSESS__LOG(sl->log, SIPSESS_LOG_WARN, "%s kept but never answered: 500",
                     sipsess_method_str(req->method));
        sipsess__req_respond(req, 500, NULL, NULL, NULL, 0, NULL, false);
    }
    sipsess_request_unref(req);
    sipsess__sl_leave(sl);
}

void sipsess__req_after_cb(sipsess_request *req, int cb_rc, unsigned dflt, const char *extra)
{
    if (!req->answered && req->st && req->sl) {
        if (cb_rc == SIPSESS_ECALLBACK) {
            /* "callback failed": the request gets 500 (session.h). */
            sipsess__req_respond(req, 500, NULL, NULL, NULL, 0, NULL, false);
        } else if (req->refs - req->irefs > 1) {
            uint64_t ms = req->method == SIPSESS_METHOD_INVITE
                              ? KEPT_INVITE_MS
                              : 62ull * req->sl->cfg.t1;
            sipsess__timer_start(req->sl->loop, &req->t_kept, ms);
        } else if (dflt) {
            int rc = sipsess__req_respond(req, dflt, NULL, extra, NULL, 0, NULL, false);
            if (rc)
                SIPSESS__LOG(req->sl->log, SIPSESS_LOG_WARN, "default %u not sent: %s", dflt,
                             sipsess_strerror(rc));
        }
    }
    sipsess_request_unref(req);
}

/* ------------------------------------------------------------------ */
/* public                                                              */

SIPSESS_API const sipsess_msg *sipsess_request_msg(const sipsess_request *req)
{
    return req ? req->msg : NULL;
}

SIPSESS_API sipsess_method sipsess_request_method(const sipsess_request *req)
{
    return req ? req->method : SIPSESS_METHOD_OTHER;
}

SIPSESS_API sipsess_str sipsess_request_header(const sipsess_request *req, const char *name,
                                               size_t nth)
{
    sipsess_str none = {NULL, 0};
    if (!req || !name)
        return none;
    const sipsess_hdr *h = sipsess_msg_hdr_by_name(req->msg, name, nth);
    return h ? sipsess_hdr_value(h) : none;
}

SIPSESS_API sipsess_str sipsess_request_body(const sipsess_request *req)
{
    sipsess_str none = {NULL, 0};
    return req ? sipsess_msg_body(req->msg) : none;
}

SIPSESS_API sipsess_str sipsess_request_content_type(const sipsess_request *req)
{
    sipsess_str none = {NULL, 0};
    if (!req)
        return none;
    const sipsess_hdr *h = sipsess_msg_hdr(req->msg, SIPSESS_HDR_CONTENT_TYPE, 0);
    if (!h)
        return none;
    sipsess_str t = sipsess_mtype_type(h), st = sipsess_mtype_subtype(h);
    if (!t.p || !st.p || st.p < t.p)
        return sipsess_hdr_value(h);
    sipsess_str r = {t.p, (size_t)(st.p + st.len - t.p)};
    return r;
}

SIPSESS_API sipsess_session *sipsess_request_session(const sipsess_request *req)
{
    return req ? req->s : NULL;
}

SIPSESS_API sipsess_session *sipsess_request_replaces(const sipsess_request *req)
{
    return req ? req->replaces : NULL;
}

SIPSESS_API sipsess_request *sipsess_request_ref(sipsess_request *req)
{
    if (req)
        req->refs++;
    return req;
}

SIPSESS_API void sipsess_request_unref(sipsess_request *req)
{
    if (!req || req->refs == 0)
        return;
    if (req->refs - req->irefs == 1 && !req->answered && req->st && req->sl) {
        /* The last application reference goes with the request still
         * unanswered: nobody can answer it any more (session.h: a kept
         * request never answered gets 500). */
        req->refs++;
        sipsess__req_respond(req, 500, NULL, NULL, NULL, 0, NULL, false);
        req->refs--;
    }
    if (--req->refs == 0)
        req_free(req);
}

SIPSESS_API int sipsess_request_answered(const sipsess_request *req)
{
    return req ? req->answered : 0;
}

SIPSESS_API int sipsess_request_accept(sipsess_request *req, const void *body, size_t len,
                                       const char *content_type, const char *extra_headers)
{
    return sipsess__req_respond(req, 200, NULL, extra_headers, body, len, content_type, false);
}

SIPSESS_API int sipsess_request_reply(sipsess_request *req, unsigned status, const char *reason,
                                      const void *body, size_t len, const char *content_type,
                                      const char *extra_headers)
{
    return sipsess__req_respond(req, status, reason, extra_headers, body, len, content_type,
                                false);
}

SIPSESS_API int sipsess_request_reject(sipsess_request *req, unsigned status, const char *reason,
                                       const char *extra_headers)
{
    if (!req)
        return SIPSESS_EINVAL;
    if (req->kind == SIPSESS__RQ_ACK)
        return SIPSESS_ESTATE;
    if (status < 300 || status > 699)
        return SIPSESS_EINVAL;
    return sipsess__req_respond(req, status, reason, extra_headers, NULL, 0, NULL, false);
}

SIPSESS_API int sipsess_request_progress(sipsess_request *req, unsigned status,
                                         const char *reason, const void *body, size_t len,
                                         const char *content_type, int reliable)
{
    if (!req)
        return SIPSESS_EINVAL;
    if (req->kind == SIPSESS__RQ_ACK)
        return SIPSESS_ESTATE;
    if (status < 101 || status > 199 || req->method != SIPSESS_METHOD_INVITE)
        return SIPSESS_EINVAL;
    return sipsess__req_respond(req, status, reason, NULL, body, len, content_type,
                                reliable != 0);
}

SIPSESS_API int sipsess_request_trying(sipsess_request *req)
{
    if (!req)
        return SIPSESS_EINVAL;
    if (req->kind == SIPSESS__RQ_ACK)
        return SIPSESS_ESTATE;
    if (req->method != SIPSESS_METHOD_INVITE)
        return SIPSESS_EINVAL;
    return sipsess__req_respond(req, 100, NULL, NULL, NULL, 0, NULL, false);
}

SIPSESS_API int sipsess_request_redirect(sipsess_request *req, const char *contacts)
{
    if (!req || !contacts || !*contacts)
        return SIPSESS_EINVAL;
    if (req->kind == SIPSESS__RQ_ACK)
        return SIPSESS_ESTATE;
    if (strchr(contacts, '\r') || strchr(contacts, '\n'))
        return SIPSESS_EINVAL;
    /* §21.3.3 / §20.10: each Contact a name-addr, so URI parameters stay
     * the URI's. */
    sipsess__sb b = {0};
    sipsess__sb_add(&b, "Contact: ");
    const char *p = contacts;
    bool first = true;
    while (*p) {
        while (*p == ' ' || *p == ',')
            p++;
        if (!*p)
            break;
        size_t n = strcspn(p, ",");
        while (n && p[n - 1] == ' ')
            n--;
        sipsess__sb_add(&b, "%s%s%.*s%s", first ? "" : ", ", p[0] == '<' ? "" : "<", (int)n, p,
                        p[0] == '<' ? "" : ">");
        first = false;
        p += n;
        while (*p && *p != ',')
            p++;
    }
    const char *h = sipsess__sb_str(&b);
    int rc = h ? sipsess__req_respond(req, 302, NULL, h, NULL, 0, NULL, false) : SIPSESS_ENOMEM;
    sipsess__sb_free(&b);
    return rc;
}

SIPSESS_API unsigned sipsess_request_sipfrag_status(const sipsess_request *req)
{
    if (!req)
        return 0;
    sipsess_str body = sipsess_msg_body(req->msg);
    /* RFC 3420: a message/sipfrag starts with the start line it carries;
     * RFC 3515 §2.4.5 wants at least the Status-Line. */
    if (body.len < 12 || memcmp(body.p, "SIP/2.0 ", 8) != 0)
        return 0;
    unsigned v = 0;
    for (size_t i = 8; i < 11; i++) {
        if (body.p[i] < '0' || body.p[i] > '9')
            return 0;
        v = v * 10 + (unsigned)(body.p[i] - '0');
    }
    return v >= 100 && v <= 699 ? v : 0;
}

SIPSESS_API int sipsess_request_subscription_terminated(const sipsess_request *req)
{
    if (!req)
        return 0;
    const sipsess_hdr *h = sipsess_msg_hdr(req->msg, SIPSESS_HDR_SUBSCRIPTION_STATE, 0);
    return h && sipsess__str_ieq(sipsess_hdr_token(h), "terminated");
}
