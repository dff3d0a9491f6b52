/*
 * The session as UAC: the INVITE that creates sessions (§13.2, forking
 * §13.2.2.4 and RFC 6026), the ACK of every 2xx (§13.2.2.4), CANCEL
 * (§9.1), requests inside the dialog (§12.2.1) with their responses
 * (§12.2.1.2: 481/408 end the dialog), re-INVITE and its glare retry
 * (§14.1), reliable provisional responses and PRACK (RFC 3262 §4), and
 * the public functions that send.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/mem.h"
#include "session/session_int.h"
#include "syntax/syntax.h"

static void creq_cb(void *arg, sipsess__txn *ct, const sipsess_msg *resp, int err);
static void on_linger(sipsess__timer *t, void *arg);


bool sipsess__is_token(const char *m)
{
    if (!m || !*m)
        return false;
    for (; *m; m++)
        if (!SIPSESS__IS(*m, SIPSESS__C_TOKEN))
            return false;
    return true;
}

/* ------------------------------------------------------------------ */
/* outgoing requests                                                   */

void sipsess__creq_free(sipsess__creq *c)
{
    sipsess__sl *sl = c->sl;
    if (c->prev)
        c->prev->next = c->next;
    else if (sl && sl->creqs == c)
        sl->creqs = c->next;
    if (c->next)
        c->next->prev = c->prev;
    c->prev = c->next = NULL;
    if (c->ct)
        sipsess__ct_abandon(c->ct);
    c->ct = NULL;
    if (c->lingering && sl) {
        sipsess__timer_stop(sl->loop, &c->t_linger);
        sipsess__dtab_remove(&sl->forking, &c->tmpl);
    }
    c->lingering = false;
    sipsess__dialog_clear(&c->tmpl);
    for (size_t i = 0; i < c->nforks; i++) {
        if (c->forks[i]->inv == c)
            c->forks[i]->inv = NULL;
        sipsess__sess_release(c->forks[i]);
    }
    sipsess__free(c->forks);
    if (c->s) {
        if (c->s->reinvite == c)
            c->s->reinvite = NULL;
        if (!c->initial && c->s->nout)
            c->s->nout--;
        sipsess__sess_release(c->s);
    }
    sipsess__free(c->body);
    sipsess__free(c->ctype);
    sipsess__free(c->extra);
    bool notify = c->owns_ud && c->rd.destroy;
    void (*destroy)(void *) = c->rd.destroy;
    void *ud = c->rd_ud;
    sipsess__free(c);
    /* last: the notifier may release what the callbacks used */
    if (notify)
        destroy(ud);
}

static sipsess__creq *creq_new(sipsess__sl *sl, sipsess_session *s, sipsess_method m,
                               const sipsess_response_delegate *rd, void *rd_ud)
{
    sipsess__creq *c = sipsess__calloc(1, sizeof *c);
    if (!c)
        return NULL;
    c->sl = sl;
    c->method = m;
    sipsess__timer_init(&c->t_linger, on_linger, c);
    if (rd)
        c->rd = *rd;
    c->rd_ud = rd_ud;
    if (s) {
        sipsess__sess_hold(s);
        c->s = s;
    }
    return c;
}

static void creq_link(sipsess__creq *c)
{
    sipsess__sl *sl = c->sl;
    c->next = sl->creqs;
    if (sl->creqs)
        sl->creqs->prev = c;
    sl->creqs = c;
    c->owns_ud = true; /* sent: a failure to send leaves the userdata to the caller */
    if (c->s && !c->initial)
        c->s->nout++;
}

/* Method-specific lines of a request in a dialog. */
static int common_lines(sipsess__sl *sl, sipsess_session *s, sipsess_msgbuilder *mb,
                        sipsess_method m)
{
    int rc = SIPSESS_OK;
    /* §8.1.1.8 / §12.2.1.1: Contact in target refresh requests (INVITE,
     * UPDATE RFC 3311 §5.1) and in those that make or run a subscription
     * (REFER RFC 3515 §2.4.1, NOTIFY RFC 6665 §4.2.2). */
    if (s && s->contact &&
        (m == SIPSESS_METHOD_INVITE || m == SIPSESS_METHOD_UPDATE ||
         m == SIPSESS_METHOD_REFER || m == SIPSESS_METHOD_NOTIFY ||
         m == SIPSESS_METHOD_SUBSCRIBE))
        rc = sipsess_msgbuilder_header(mb, "Contact", s->contact);
    if (rc == 0 && (m == SIPSESS_METHOD_INVITE || m == SIPSESS_METHOD_UPDATE)) {
        rc = sipsess_msgbuilder_header(mb, "Allow", sipsess__sl_allow());
        if (rc == 0)
            rc = sipsess_msgbuilder_header(mb, "Supported", sipsess__sl_supported(sl));
    }
    if (rc == 0)
        rc = sipsess_msgbuilder_header(mb, "User-Agent", sl->cfg.user_agent);
    return rc;
}

static int uac_send(sipsess__sl *sl, sipsess_session *s, sipsess__dialog *d, const char *method,
                    const char *builtin, const char *extra, const void *body, size_t len,
                    const char *ctype, const sipsess_response_delegate *rd, void *rd_ud,
                    bool has_offer, sipsess__creq **out)
{
    if (!sipsess__is_token(method) || (!body && len))
        return SIPSESS_EINVAL;
    sipsess_method m = sipsess_method_from(method, strlen(method));
    if (s && sl->cfg.max_pending && s->nout >= sl->cfg.max_pending)
        return SIPSESS_ELIMIT;
    sipsess__creq *c = creq_new(sl, s, m, rd, rd_ud);
    if (!c)
        return SIPSESS_ENOMEM;
    c->has_offer = has_offer;
    const sipsess_uri *next = sipsess__dialog_next_hop(d);
    uint32_t cseq = sipsess__dialog_next_cseq(d);
    size_t est = 700 + len + (builtin ? strlen(builtin) : 0) + (extra ? strlen(extra) : 0);
    sipsess__txn *ct = NULL;
    int rc = sipsess__ct_new(sl->txl, m, next, est, creq_cb, c, &ct);
    if (rc) {
        sipsess__creq_free(c);
        return rc;
    }
    sipsess_msgbuilder *mb = sl->mb;
    rc = sipsess__dialog_build(d, mb, method, cseq, sipsess__ct_via(ct));
    if (rc == 0)
        rc = common_lines(sl, s, mb, m);
    if (rc == 0 && builtin)
        rc = sipsess_msgbuilder_header_lines(mb, builtin);
    if (rc == 0 && extra)
        rc = sipsess_msgbuilder_header_lines(mb, extra);
    if (rc == 0 && body && len)
        rc = sipsess_msgbuilder_body(mb, body, len, ctype ? ctype : "application/sdp");
    sipsess_str bytes = {NULL, 0};
    if (rc == 0)
        rc = sipsess_msgbuilder_finish(mb, &bytes);
    if (rc) {
        sipsess__ct_abandon(ct);
        sipsess__creq_free(c);
        return rc;
    }
    rc = sipsess__ct_start(ct, bytes.p, bytes.len);
    if (rc) {
        sipsess__creq_free(c); /* ct_start freed the transaction */
        return rc;
    }
    c->ct = ct;
    c->cseq = cseq;
    creq_link(c);
    if (out)
        *out = c;
    return SIPSESS_OK;
}

int sipsess__uac_send(sipsess_session *s, sipsess__dialog *d, const char *method,
                      const char *builtin, const char *extra, const void *body, size_t len,
                      const char *ctype, const sipsess_response_delegate *rd, void *rd_ud,
                      bool has_offer, sipsess__creq **out)
{
    return uac_send(s->sl, s, d, method, builtin, extra, body, len, ctype, rd, rd_ud,
                    has_offer, out);
}

/* ------------------------------------------------------------------ */
/* ACK (§13.2.2.4)                                                     */

/* Build and send the ACK of the 2xx to the INVITE with CSeq `cseq` in
 * dialog `d`: a request of its own (new branch), straight to the
 * transport. The bytes are returned for resending. */
static int send_ack(sipsess__sl *sl, sipsess__dialog *d, uint32_t cseq, const void *body,
                    size_t len, const char *ctype, char **keep, size_t *keep_len)
{
    sipsess__dest dest;
    int rc = sipsess__txl_route(sl->txl, sipsess__dialog_next_hop(d), 600 + len, &dest);
    if (rc)
        return rc;
    char via[256];
    rc = sipsess__txl_via(sl->txl, &dest, via, sizeof via);
    sipsess_msgbuilder *mb = sl->mb;
    /* "The CSeq header field in the ACK MUST contain the same value for
     * the sequence number as was present in the original request, but
     * the method parameter MUST be equal to ACK." */
    if (rc == 0)
        rc = sipsess__dialog_build(d, mb, "ACK", cseq, sipsess__str_c(via));
    if (rc == 0)
        rc = sipsess_msgbuilder_header(mb, "User-Agent", sl->cfg.user_agent);
    if (rc == 0 && body && len)
        rc = sipsess_msgbuilder_body(mb, body, len, ctype ? ctype : "application/sdp");
    sipsess_str bytes = {NULL, 0};
    if (rc == 0)
        rc = sipsess_msgbuilder_finish(mb, &bytes);
    if (rc == 0)
        rc = sipsess__txl_send(sl->txl, &dest, bytes.p, bytes.len);
    if (rc == 0 && keep) {
        char *k = sipsess__malloc(bytes.len);
        if (k) {
            memcpy(k, bytes.p, bytes.len);
            sipsess__free(*keep);
            *keep = k;
            *keep_len = bytes.len;
        }
    }
    sipsess__txl_dest_release(&dest);
    return rc;
}

int sipsess__uac_ack(sipsess_session *s, const void *body, size_t len, const char *ctype)
{
    sipsess__sl *sl = s->sl;
    if (!sl || !s->ack_due)
        return SIPSESS_ESTATE;
    if (!body && len)
        return SIPSESS_EINVAL;
    if (body && len && s->oa.state != SIPSESS_SIGNALING_HAVE_REMOTE_OFFER)
        return SIPSESS_ESTATE; /* an ACK carries only the answer to a 2xx offer */
    int rc = send_ack(sl, &s->dlg, s->ack_due_cseq, body, len, ctype, &s->ack_bytes,
                      &s->ack_len);
    if (rc)
        return rc;
    s->acked_cseq = s->ack_due_cseq;
    s->ack_due = false;
    sipsess__sess_hold(s);
    if (s->oa.state == SIPSESS_SIGNALING_HAVE_REMOTE_OFFER) {
        /* The 2xx offered; the ACK answers (RFC 3264, §13.2.2.4), or the
         * offer is dropped when the application sent none. */
        if (body && len)
            sipsess__oa_local_answer(&s->oa, body, len, ctype);
        else
            sipsess__oa_rollback(&s->oa);
    }
    if (s->ack_due_reinvite)
        s->ack_due_reinvite = false;
    else
        sipsess__sess_set_state(s, SIPSESS_SESSION_CONFIRMED);
    sipsess__sess_release(s);
    return SIPSESS_OK;
}

/* A 2xx for a dialog that is not ours (any more): a fork that lost, or a
 * late copy. RFC 3261 §13.2.2.4 / RFC 6026 §8.4: ACK it, then end it
 * with BYE. */
static void orphan_ack_bye(sipsess__sl *sl, const sipsess_msg *resp)
{
    const sipsess_hdr *cid = sipsess_msg_hdr(resp, SIPSESS_HDR_CALL_ID, 0);
    const sipsess_hdr *from = sipsess_msg_hdr(resp, SIPSESS_HDR_FROM, 0);
    const sipsess_hdr *to = sipsess_msg_hdr(resp, SIPSESS_HDR_TO, 0);
    const sipsess_hdr *cs = sipsess_msg_hdr(resp, SIPSESS_HDR_CSEQ, 0);
    const sipsess_hdr *ct = sipsess_msg_hdr(resp, SIPSESS_HDR_CONTACT, 0);
    const sipsess_uri *cu = ct ? sipsess_nameaddr_uri(ct) : NULL;
    if (!cid || !from || !to || !cs || !cu)
        return;
    sipsess__dialog d;
    memset(&d, 0, sizeof d);
    char *callid = sipsess__dlg_strdup(sipsess_hdr_value(cid));
    char *fv = sipsess__dlg_strdup(sipsess_hdr_value(from));
    char *ft = sipsess__dlg_strdup(sipsess_nameaddr_tag(from));
    char *tv = sipsess__dlg_strdup(sipsess_hdr_value(to));
    char *target = sipsess__dlg_strdup(sipsess_uri_text(cu));
    if (callid && fv && ft && tv && target &&
        sipsess__dialog_init_uac(&d, callid, fv, ft, tv, target, sipsess_cseq_number(cs)) == 0) {
        if (sipsess__dialog_uac_response(&d, resp) == 0 &&
            send_ack(sl, &d, sipsess_cseq_number(cs), NULL, 0, NULL, NULL, NULL) == 0) {
            SIPSESS__LOG(sl->log, SIPSESS_LOG_INFO, "2xx of an unknown fork: ACK and BYE");
            uac_send(sl, NULL, &d, "BYE", NULL, NULL, NULL, 0, NULL, NULL, NULL, false, NULL);
        }
        sipsess__dialog_clear(&d);
    }
    sipsess__free(callid);
    sipsess__free(fv);
    sipsess__free(ft);
    sipsess__free(tv);
    sipsess__free(target);
}

static bool fork_accept_late(sipsess__creq *c, sipsess_session *s, const sipsess_msg *resp);

/* accept_forks: the initial INVITE, still taking 2xx of other forks, that
 * a 2xx answers (its Call-ID and From tag), or NULL. */
static sipsess__creq *lingering_for(sipsess__sl *sl, const sipsess_msg *resp)
{
    const sipsess_hdr *cid = sipsess_msg_hdr(resp, SIPSESS_HDR_CALL_ID, 0);
    const sipsess_hdr *from = sipsess_msg_hdr(resp, SIPSESS_HDR_FROM, 0);
    const sipsess_hdr *cs = sipsess_msg_hdr(resp, SIPSESS_HDR_CSEQ, 0);
    if (!sl->forking.n || !cid || !from || !cs ||
        sipsess_cseq_method(cs) != SIPSESS_METHOD_INVITE)
        return NULL;
    sipsess__dialog *d = sipsess__dtab_find(&sl->forking, sipsess_hdr_value(cid),
                                            sipsess_nameaddr_tag(from), sipsess__str_c(""));
    return d ? d->owner : NULL;
}

void sipsess__sl_stray_2xx(sipsess__sl *sl, const sipsess__rx *rx)
{
    const sipsess_msg *m = rx->msg;
    const sipsess_hdr *cid = sipsess_msg_hdr(m, SIPSESS_HDR_CALL_ID, 0);
    const sipsess_hdr *from = sipsess_msg_hdr(m, SIPSESS_HDR_FROM, 0);
    const sipsess_hdr *to = sipsess_msg_hdr(m, SIPSESS_HDR_TO, 0);
    const sipsess_hdr *cs = sipsess_msg_hdr(m, SIPSESS_HDR_CSEQ, 0);
    if (!cid || !from || !to || !cs)
        return;
    sipsess__sl_enter(sl);
    sipsess__dialog *d = sipsess__dtab_find(&sl->dialogs, sipsess_hdr_value(cid),
                                            sipsess_nameaddr_tag(from), sipsess_nameaddr_tag(to));
    sipsess_session *s = d ? d->owner : NULL;
    sipsess__creq *c = NULL;
    uint32_t n = sipsess_cseq_number(cs);
    if (s && s->ack_bytes && n == s->acked_cseq) {
        /* §13.2.2.4: "the UAC core MUST ... pass the ACK to the transport
         * for each retransmission of the 2xx". */
        sipsess__dest dest;
        if (sipsess__txl_route(sl->txl, sipsess__dialog_next_hop(&s->dlg), s->ack_len, &dest) ==
            0) {
            sipsess__txl_send(sl->txl, &dest, s->ack_bytes, s->ack_len);
            sipsess__txl_dest_release(&dest);
        }
    } else if (s && s->ack_due && n == s->ack_due_cseq) {
        /* The application's ACK is still to come. */
    } else if (s && sipsess__sess_alive(s) && !s->dlg.confirmed && s->inv &&
               s->inv->lingering && n == s->inv->cseq && fork_accept_late(s->inv, s, m)) {
        /* accept_forks: an early dialog confirmed by its own 2xx. */
    } else if (!s && (c = lingering_for(sl, m)) && n == c->cseq && fork_accept_late(c, NULL, m)) {
        /* accept_forks: a new dialog, a session of its own. */
    } else if (!s || s->state == SIPSESS_SESSION_TERMINATED || !s->dlg.confirmed) {
        if (s && sipsess__sess_alive(s))
            sipsess__sess_terminate(s, SIPSESS_TERM_FORK_LOSER);
        orphan_ack_bye(sl, m);
    }
    sipsess__sl_leave(sl);
}

/* ------------------------------------------------------------------ */
/* responses                                                           */

static void rd_call(sipsess__creq *c, sipsess_response_cb cb, sipsess_session *s,
                    const sipsess_msg *resp)
{
    if (cb && s)
        cb(s, resp, c->rd_ud);
}

static void rd_final(sipsess__creq *c, sipsess_session *s, const sipsess_msg *resp)
{
    unsigned st = resp ? sipsess_msg_status(resp) : 0;
    if (!resp || st >= 400)
        rd_call(c, c->rd.on_reject, s, resp);
    else if (st >= 300)
        rd_call(c, c->rd.on_redirect, s, resp);
    else if (st >= 200)
        rd_call(c, c->rd.on_accept, s, resp);
    else if (st == 100)
        rd_call(c, c->rd.on_trying, s, resp);
    else
        rd_call(c, c->rd.on_progress, s, resp);
}

static char *ctype_of(const sipsess_msg *m)
{
    const sipsess_hdr *ct = sipsess_msg_hdr(m, SIPSESS_HDR_CONTENT_TYPE, 0);
    return ct ? sipsess__dlg_strdup(sipsess_hdr_value(ct)) : NULL;
}

/* What a body in a response means for our offer/answer state: the answer
 * to our offer, or an offer (2xx / reliable 1xx to an INVITE without one:
 * `may_offer`). Once an exchange completed in a reliable 1xx / PRACK, the
 * 2xx body only repeats it (RFC 3261 §13.2.1, RFC 6337 §3.1). */
static void oa_from_response(sipsess_session *s, const sipsess_msg *resp, bool may_offer)
{
    sipsess_str body = sipsess_msg_body(resp);
    if (!body.len)
        return;
    char *ctype = ctype_of(resp);
    if (s->oa.state == SIPSESS_SIGNALING_HAVE_LOCAL_OFFER)
        sipsess__oa_remote_answer(&s->oa, body.p, body.len, ctype);
    else if (may_offer && (s->oa.state == SIPSESS_SIGNALING_INITIAL ||
                           s->oa.state == SIPSESS_SIGNALING_STABLE))
        sipsess__oa_remote_offer(&s->oa, body.p, body.len, ctype);
    sipsess__free(ctype);
}

int sipsess__uac_prack(sipsess_session *s, const void *body, size_t len, const char *ctype,
                      const char *extra, const sipsess_response_delegate *rd, void *ud)
{
    char rack[96];
    /* RFC 3262 §7.2: RAck = response-num CSeq-num Method. */
    snprintf(rack, sizeof rack, "RAck: %lu %lu INVITE", (unsigned long)s->prack_rseq,
             (unsigned long)s->prack_cseq);
    bool answer = s->oa.state == SIPSESS_SIGNALING_HAVE_REMOTE_OFFER;
    bool offer = !answer && body && len;
    if (offer && sipsess__oa_pending(&s->oa))
        return SIPSESS_ESTATE;
    int rc = sipsess__uac_send(s, &s->dlg, "PRACK", rack, extra, body, len, ctype, rd, ud,
                               offer, NULL);
    if (rc)
        return rc;
    s->prack_due = false;
    if (answer && body && len)
        sipsess__oa_local_answer(&s->oa, body, len, ctype);
    else if (offer)
        sipsess__oa_local_offer(&s->oa, body, len, ctype);
    return SIPSESS_OK;
}

static sipsess_session *fork_for(sipsess__creq *c, const sipsess_msg *resp, bool create)
{
    const sipsess_hdr *to = sipsess_msg_hdr(resp, SIPSESS_HDR_TO, 0);
    sipsess_str tag = to ? sipsess_nameaddr_tag(to) : (sipsess_str){NULL, 0};
    for (size_t i = 0; i < c->nforks; i++) {
        sipsess_session *f = c->forks[i];
        if (f->dlg.remote_tag && strlen(f->dlg.remote_tag) == tag.len &&
            (tag.len == 0 || memcmp(f->dlg.remote_tag, tag.p, tag.len) == 0))
            return f;
    }
    sipsess_session *s0 = c->forks[0];
    if (s0->dlg.remote_tag && !s0->dlg.remote_tag[0] && sipsess__sess_alive(s0))
        return s0;
    if (!create)
        return NULL;
    /* §13.2.2.4 / §12.1.2: a response with another To tag is another
     * dialog: one session per early dialog. It starts with the INVITE's
     * offer and no delegate; the response delegate sees it. */
    sipsess__sl *sl = c->sl;
    sipsess_session **nf = sipsess__realloc(c->forks, (c->nforks + 1) * sizeof *nf);
    if (!nf)
        return NULL;
    c->forks = nf;
    sipsess_session *f = sipsess__sess_alloc(sl, true);
    if (!f)
        return NULL;
    if (sipsess__dialog_clone_uac(&f->dlg, &s0->dlg) || !(f->contact = sipsess__cstrdup(s0->contact))) {
        f->bye_sent = true;
        sipsess__sess_terminate(f, SIPSESS_TERM_FORK_LOSER);
        return NULL;
    }
    f->inv = c;
    f->inv_cseq = s0->inv_cseq;
    if (c->has_offer && c->body) {
        /* accept_forks: the INVITE's own copy (s0 may have moved on) */
        sipsess__oa_local_offer(&f->oa, c->body, c->len, c->ctype);
    } else {
        sipsess_str offer_ct = {NULL, 0};
        sipsess_str offer = sipsess__oa_body_of(&s0->oa, SIPSESS_BODY_LOCAL_OFFER, &offer_ct);
        if (c->has_offer && offer.len) {
            char *ctype = offer_ct.p ? sipsess__dlg_strdup(offer_ct) : NULL;
            sipsess__oa_local_offer(&f->oa, offer.p, offer.len, ctype);
            sipsess__free(ctype);
        }
    }
    sipsess__sess_hold(f);
    c->forks[c->nforks++] = f;
    /* the library's own reference stays until on_terminated; the fork
     * list holds the one just taken */
    return f;
}

static void end_forks(sipsess__creq *c, sipsess_session *keep, sipsess_term_cause cause)
{
    for (size_t i = 0; i < c->nforks; i++) {
        sipsess_session *f = c->forks[i];
        if (f != keep && sipsess__sess_alive(f) && f->state != SIPSESS_SESSION_CONFIRMED &&
            f->state != SIPSESS_SESSION_ACK_WAIT)
            sipsess__sess_terminate(f, cause);
    }
}

static void after_2xx(sipsess_session *s, sipsess__creq *c, const sipsess_msg *resp)
{
    sipsess__sl *sl = s->sl;
    s->ack_due = true;
    s->ack_due_cseq = c->cseq;
    s->ack_due_reinvite = !c->initial;
    /* §13.2.2.4: the ACK goes at once unless the application sends it (a
     * 2xx offer needs its answer, or auto-ACK is off). */
    bool auto_ack = sl->cfg.auto_ack && s->oa.state != SIPSESS_SIGNALING_HAVE_REMOTE_OFFER;
    if (auto_ack)
        sipsess__uac_ack(s, NULL, 0, NULL);
    else if (c->initial)
        sipsess__sess_set_state(s, SIPSESS_SESSION_ACK_WAIT);
    rd_call(c, c->rd.on_accept, s, resp);
}

/* accept_forks (ua.h): after the first 2xx the INVITE stays known for
 * 64*T1 (§13.2.2.4: "the UAC core considers the INVITE transaction
 * completed 64*T1 seconds after the reception of the first 2xx"), indexed
 * by its dialog before any To tag so that a 2xx of another fork, which
 * reaches the dialog layer as a stray (RFC 6026 §8.4), finds it. false
 * when that cannot be set up (ENOMEM): the forks are then ended as
 * without the option. */
static bool linger_start(sipsess__creq *c)
{
    sipsess__sl *sl = c->sl;
    if (sipsess__dialog_clone_uac(&c->tmpl, &c->forks[0]->dlg))
        return false;
    c->tmpl.owner = c;
    if (sipsess__dtab_insert(&sl->forking, &c->tmpl) ||
        sipsess__timer_start(sl->loop, &c->t_linger, 64ull * sl->cfg.t1)) {
        sipsess__dtab_remove(&sl->forking, &c->tmpl);
        sipsess__dialog_clear(&c->tmpl);
        return false;
    }
    c->lingering = true;
    return true;
}

/* The end of the 64*T1: early dialogs that got no 2xx end (§13.2.2.4),
 * and later 2xx of other forks are ACKed and BYEd. */
static void on_linger(sipsess__timer *t, void *arg)
{
    (void)t;
    sipsess__creq *c = arg;
    sipsess__sl *sl = c->sl;
    sipsess__sl_enter(sl);
    end_forks(c, NULL, SIPSESS_TERM_FORK_LOSER);
    sipsess__creq_free(c);
    sipsess__sl_leave(sl);
}

/* A 2xx confirms the dialog of session `s` (a fork of `c`): the dialog
 * takes its route set and target, the body its offer/answer meaning, and
 * after_2xx ACKs it and tells the response delegate. */
static void fork_confirm(sipsess__creq *c, sipsess_session *s, const sipsess_msg *resp)
{
    s->prack_due = false;
    oa_from_response(s, resp, s->oa.state == SIPSESS_SIGNALING_INITIAL);
    after_2xx(s, c, resp);
}

/* accept_forks: a stray 2xx of the INVITE `c` (CSeq checked) from the
 * fork `s` (NULL: a dialog not seen before) becomes a confirmed session.
 * false when it cannot (the caller ACKs and BYEs it). */
static bool fork_accept_late(sipsess__creq *c, sipsess_session *s, const sipsess_msg *resp)
{
    if (!s)
        s = fork_for(c, resp, true);
    if (!s || !sipsess__sess_alive(s) || s->dlg.confirmed)
        return false;
    sipsess__sess_hold(s);
    bool ok = sipsess__dialog_uac_response(&s->dlg, resp) == 0 && sipsess__sess_index(s) == 0;
    if (ok) {
        SIPSESS__LOG(c->sl->log, SIPSESS_LOG_INFO, "2xx of another fork: a session of its own");
        fork_confirm(c, s, resp);
    } else {
        sipsess__sess_terminate(s, SIPSESS_TERM_FORK_LOSER);
    }
    sipsess__sess_release(s);
    return ok;
}

static void on_initial(sipsess__creq *c, sipsess__txn *ct, const sipsess_msg *resp, int err)
{
    sipsess_session *s0 = c->forks[0];
    if (!resp) {
        rd_call(c, c->rd.on_reject, s0, NULL);
        end_forks(c, NULL, c->cancelled ? SIPSESS_TERM_CANCELLED
                           : err == SIPSESS_ETIMEDOUT ? SIPSESS_TERM_TIMEOUT
                                                      : SIPSESS_TERM_TRANSPORT);
        return;
    }
    unsigned st = sipsess_msg_status(resp);
    if (st == 100) {
        rd_call(c, c->rd.on_trying, s0, resp);
        return;
    }
    const sipsess_hdr *to = sipsess_msg_hdr(resp, SIPSESS_HDR_TO, 0);
    bool tagged = to && sipsess_nameaddr_tag(to).len;
    if (st < 200 && !tagged) {
        rd_call(c, c->rd.on_progress, s0, resp);
        return;
    }
    if (st < 300) {
        sipsess_session *s = fork_for(c, resp, true);
        if (!s || !sipsess__sess_alive(s)) {
            if (st >= 200) {
                sipsess__ct_abandon(ct);
                c->ct = NULL;
            }
            return;
        }
        sipsess__sess_hold(s);
        sipsess__dialog_uac_response(&s->dlg, resp);
        sipsess__sess_index(s);
        if (st < 200) {
            bool reliable = sipsess__has_option(resp, SIPSESS_HDR_REQUIRE, "100rel") &&
                            sipsess_msg_hdr(resp, SIPSESS_HDR_RSEQ, 0);
            if (reliable) {
                uint32_t rseq =
                    (uint32_t)sipsess_hdr_number(sipsess_msg_hdr(resp, SIPSESS_HDR_RSEQ, 0));
                /* RFC 3262 §4: a retransmission (RSeq not above the last)
                 * and one out of order (not last+1) are not passed up. */
                if (s->rseq_set && (rseq <= s->last_rseq || rseq != s->last_rseq + 1)) {
                    sipsess__sess_release(s);
                    return;
                }
                s->rseq_set = true;
                s->last_rseq = rseq;
                oa_from_response(s, resp, s->oa.state == SIPSESS_SIGNALING_INITIAL);
                s->prack_due = true;
                s->prack_rseq = rseq;
                s->prack_cseq = c->cseq;
            }
            sipsess__sess_set_state(s, SIPSESS_SESSION_EARLY);
            rd_call(c, c->rd.on_progress, s, resp);
            if (reliable && s->prack_due && sipsess__sess_alive(s) && s->sl->cfg.auto_prack &&
                s->oa.state != SIPSESS_SIGNALING_HAVE_REMOTE_OFFER)
                sipsess__uac_prack(s, NULL, 0, NULL, NULL, NULL, NULL);
        } else {
            /* RFC 6026 §8.4: further 2xx reach the dialog layer as
             * strays (retransmissions re-ACKed, other forks ended). */
            sipsess__ct_abandon(ct);
            c->ct = NULL;
            c->confirmed_one = true;
            /* §13.2.2.4: other early dialogs may still confirm with a 2xx
             * of their own (accept_forks); else they lost. */
            if (!c->sl->cfg.accept_forks || !linger_start(c))
                end_forks(c, s, SIPSESS_TERM_FORK_LOSER);
            fork_confirm(c, s, resp);
        }
        sipsess__sess_release(s);
        return;
    }
    sipsess_session *s = fork_for(c, resp, false);
    if (!s)
        s = s0;
    rd_final(c, s, resp);
    sipsess_term_cause cause = st < 400 ? SIPSESS_TERM_REDIRECTED
                               : c->cancelled && st == 487 ? SIPSESS_TERM_CANCELLED
                                                            : SIPSESS_TERM_REJECTED;
    end_forks(c, NULL, cause);
}

/* §12.2.1.2: 481 and 408 (or no answer) end the dialog. */
static void dialog_error(sipsess_session *s, unsigned st, int err)
{
    if (!sipsess__sess_alive(s))
        return;
    if (st == 481) {
        s->bye_sent = true; /* the peer has no dialog to BYE */
        sipsess__sess_terminate(s, SIPSESS_TERM_DIALOG_ERROR);
    } else if (st == 408 || err == SIPSESS_ETIMEDOUT) {
        s->final_cause = SIPSESS_TERM_TIMEOUT;
        if (!s->ack_wait)
            sipsess__uac_bye(s, NULL, NULL, NULL);
        if (sipsess__sess_alive(s))
            sipsess__sess_terminate(s, SIPSESS_TERM_TIMEOUT);
    } else if (err) {
        s->bye_sent = true;
        sipsess__sess_terminate(s, SIPSESS_TERM_TRANSPORT);
    }
}

static void glare_schedule(sipsess_session *s, sipsess__creq *c);

static void on_reinvite(sipsess__creq *c, sipsess__txn *ct, const sipsess_msg *resp, int err)
{
    sipsess_session *s = c->s;
    unsigned st = resp ? sipsess_msg_status(resp) : 0;
    if (resp && st < 200) {
        rd_final(c, s, resp);
        return;
    }
    if (resp && st < 300) {
        sipsess__ct_abandon(ct);
        c->ct = NULL;
        if (s->reinvite == c)
            s->reinvite = NULL;
        if (!sipsess__sess_alive(s))
            return;
        sipsess__dialog_refresh_target(&s->dlg, resp);
        if (c->has_offer && !sipsess_msg_body(resp).len)
            sipsess__oa_rollback(&s->oa);
        else
            oa_from_response(s, resp, !c->has_offer);
        after_2xx(s, c, resp);
        return;
    }
    if (s->reinvite == c)
        s->reinvite = NULL;
    if (c->has_offer && s->oa.state == SIPSESS_SIGNALING_HAVE_LOCAL_OFFER)
        sipsess__oa_rollback(&s->oa);
    if (st == 491 && sipsess__sess_alive(s)) {
        glare_schedule(s, c);
        return;
    }
    rd_final(c, s, resp);
    dialog_error(s, st, err);
}

static void on_generic(sipsess__creq *c, const sipsess_msg *resp, int err)
{
    sipsess_session *s = c->s;
    unsigned st = resp ? sipsess_msg_status(resp) : 0;
    if (!s)
        return; /* an orphan BYE */
    if (resp && st < 200) {
        rd_final(c, s, resp);
        return;
    }
    if (resp && st < 300) {
        if (c->method == SIPSESS_METHOD_UPDATE)
            sipsess__dialog_refresh_target(&s->dlg, resp);
        if (c->has_offer && s->oa.state == SIPSESS_SIGNALING_HAVE_LOCAL_OFFER) {
            if (sipsess_msg_body(resp).len)
                oa_from_response(s, resp, false);
            else
                sipsess__oa_rollback(&s->oa);
        }
        rd_final(c, s, resp);
        return;
    }
    if (c->has_offer && s->oa.state == SIPSESS_SIGNALING_HAVE_LOCAL_OFFER)
        sipsess__oa_rollback(&s->oa);
    rd_final(c, s, resp);
    if (c->method != SIPSESS_METHOD_BYE)
        dialog_error(s, st, err);
}

static void creq_cb(void *arg, sipsess__txn *ct, const sipsess_msg *resp, int err)
{
    sipsess__creq *c = arg;
    sipsess__sl *sl = c->sl;
    bool final = !resp || sipsess_msg_status(resp) >= 200;
    sipsess__sl_enter(sl);
    if (final)
        c->ct = NULL; /* the transaction is done with us after this call */
    sipsess_session *s = c->s;
    if (s)
        sipsess__sess_hold(s);
    if (c->initial)
        on_initial(c, ct, resp, err);
    else if (c->method == SIPSESS_METHOD_INVITE)
        on_reinvite(c, ct, resp, err);
    else
        on_generic(c, resp, err);
    if (final && !c->lingering)
        sipsess__creq_free(c);
    sipsess__sess_release(s);
    sipsess__sl_leave(sl);
}

/* ------------------------------------------------------------------ */
/* glare (§14.1)                                                       */

int sipsess__uac_reinvite(sipsess_session *s, const void *body, size_t len, const char *ctype,
                         const char *extra, const sipsess_response_delegate *rd, void *ud)
{
    sipsess__creq *c = NULL;
    bool offer = body && len;
    int rc = sipsess__uac_send(s, &s->dlg, "INVITE", NULL, extra, body, len, ctype, rd, ud, offer,
                               &c);
    if (rc)
        return rc;
    if (offer)
        sipsess__oa_local_offer(&s->oa, body, len, ctype);
    s->reinvite = c;
    /* Kept to send it again after a 491. */
    if (offer) {
        c->body = sipsess__malloc(len);
        if (c->body) {
            memcpy(c->body, body, len);
            c->len = len;
        }
    }
    c->ctype = sipsess__cstrdup(ctype);
    c->extra = sipsess__cstrdup(extra);
    return SIPSESS_OK;
}

bool sipsess__uac_reinvite_blocked(const sipsess_session *s)
{
    return s->state != SIPSESS_SESSION_CONFIRMED || s->reinvite || s->ack_due || s->ack_wait ||
           s->reinv_in || sipsess__oa_pending(&s->oa);
}

static void on_glare_timer(sipsess__timer *t, void *arg)
{
    (void)t;
    sipsess_session *s = arg;
    sipsess__sl *sl = s->sl;
    sipsess__creq *g = s->glare;
    if (!g || !sl)
        return;
    sipsess__sl_enter(sl);
    sipsess__sess_hold(s);
    if (sipsess__sess_alive(s) && sipsess__uac_reinvite_blocked(s)) {
        /* Still busy (the peer's re-INVITE): wait another interval. */
        sipsess__timer_start(sl->loop, &s->t_glare, 500);
    } else {
        s->glare = NULL;
        if (sipsess__sess_alive(s)) {
            int rc = sipsess__uac_reinvite(s, g->body, g->len, g->ctype, g->extra, &g->rd, g->rd_ud);
            if (rc)
                rd_call(g, g->rd.on_reject, s, NULL);
            else
                g->owns_ud = false; /* the retry's request owns it now */
        }
        sipsess__creq_free(g);
    }
    sipsess__sess_release(s);
    sipsess__sl_leave(sl);
}

static void glare_schedule(sipsess_session *s, sipsess__creq *c)
{
    sipsess__sl *sl = s->sl;
    sipsess__creq *g = creq_new(sl, NULL, SIPSESS_METHOD_INVITE, &c->rd, c->rd_ud);
    if (!g) {
        rd_call(c, c->rd.on_reject, s, NULL);
        return;
    }
    g->owns_ud = c->owns_ud; /* the pending retry carries the userdata on */
    c->owns_ud = false;
    g->body = c->body;
    g->len = c->len;
    g->ctype = c->ctype;
    g->extra = c->extra;
    c->body = NULL;
    c->ctype = c->extra = NULL;
    sipsess__uac_glare_cancel(s);
    s->glare = g;
    /* §14.1: "If the UAC is the owner of the Call-ID of the dialog ID
     * ..., T has a randomly chosen value between 2.1 and 4 seconds in
     * units of 10 ms. If the UAC is not the owner ..., T has a randomly
     * chosen value of between 0 and 2 seconds in units of 10 ms." */
    uint16_t r = 0;
    sipsess__random(&r, sizeof r);
    uint64_t ms = s->outgoing ? 2100 + 10u * (r % 191) : 10u * (r % 201);
    sipsess__timer_start(sl->loop, &s->t_glare, ms);
}

void sipsess__uac_glare_cancel(sipsess_session *s)
{
    if (s->sl)
        sipsess__timer_stop(s->sl->loop, &s->t_glare);
    if (s->glare) {
        sipsess__creq *g = s->glare;
        s->glare = NULL;
        sipsess__creq_free(g);
    }
}

void sipsess__uac_timers_init(sipsess_session *s)
{
    sipsess__timer_init(&s->t_glare, on_glare_timer, s);
}

/* ------------------------------------------------------------------ */
/* the creating INVITE                                                 */

static int make_from(const sipsess__sl *sl, sipsess_str sentby, const char *tag, char **out)
{
    sipsess__sb b = {0};
    const char *id = sl->cfg.identity;
    if (!id[0])
        sipsess__sb_add(&b, "<sip:sipsess@%.*s>", (int)sentby.len, sentby.p);
    else if (strchr(id, '<'))
        sipsess__sb_add(&b, "%s", id);
    else
        sipsess__sb_add(&b, "<%s>", id);
    sipsess__sb_add(&b, ";tag=%s", tag);
    if (b.oom) {
        sipsess__sb_free(&b);
        return SIPSESS_ENOMEM;
    }
    *out = b.p;
    return SIPSESS_OK;
}

int sipsess__sl_invite(sipsess__sl *sl, const char *uri, const void *body, size_t len,
                       const char *content_type, const char *extra_headers,
                       const sipsess_response_delegate *rd, void *rd_userdata,
                       sipsess_session **out)
{
    if (!uri || !out || (!body && len))
        return SIPSESS_EINVAL;
    if (sl->cfg.max_sessions && sl->nsessions >= sl->cfg.max_sessions)
        return SIPSESS_ELIMIT;
    sipsess_uri *target = NULL;
    int rc = sipsess_uri_parse(uri, strlen(uri), &target);
    if (rc)
        return rc;
    sipsess_uri_scheme sc = sipsess_uri_scheme_id(target);
    if (sc != SIPSESS_URI_SIP && sc != SIPSESS_URI_SIPS) {
        sipsess_uri_free(target);
        return SIPSESS_EURI;
    }
    sipsess__creq *c = creq_new(sl, NULL, SIPSESS_METHOD_INVITE, rd, rd_userdata);
    if (!c) {
        sipsess_uri_free(target);
        return SIPSESS_ENOMEM;
    }
    c->initial = true;
    c->has_offer = body && len;
    c->cseq = 1;
    if (c->has_offer && sl->cfg.accept_forks) {
        /* the offer of the forks that may come after the first 2xx */
        c->body = sipsess__malloc(len);
        if (!c->body) {
            sipsess_uri_free(target);
            sipsess__creq_free(c);
            return SIPSESS_ENOMEM;
        }
        memcpy(c->body, body, len);
        c->len = len;
        if (content_type && !(c->ctype = sipsess__cstrdup(content_type))) {
            sipsess_uri_free(target);
            sipsess__creq_free(c);
            return SIPSESS_ENOMEM;
        }
    }
    sipsess__txn *ct = NULL;
    size_t est = 900 + len + (extra_headers ? strlen(extra_headers) : 0);
    rc = sipsess__ct_new(sl->txl, SIPSESS_METHOD_INVITE, target, est, creq_cb, c, &ct);
    sipsess_uri_free(target);
    if (rc) {
        sipsess__creq_free(c);
        return rc;
    }
    sipsess_session *s = sipsess__sess_alloc(sl, true);
    char tag[17], callid[33], *from = NULL, *to = NULL;
    int listener = 0;
    sipsess__proto proto = SIPSESS__UDP;
    if (!s)
        rc = SIPSESS_ENOMEM;
    if (rc == 0)
        rc = sipsess__random_token(tag, 16);
    if (rc == 0)
        rc = sipsess__random_token(callid, 32);
    tag[16] = callid[32] = '\0';
    if (rc == 0)
        rc = sipsess__txn_local(ct, &listener, &proto);
    if (rc == 0)
        rc = make_from(sl, sipsess__txl_sentby(sl->txl, listener), tag, &from);
    if (rc == 0) {
        size_t n = strlen(uri) + 3;
        to = sipsess__malloc(n);
        if (to)
            snprintf(to, n, "<%s>", uri);
        else
            rc = SIPSESS_ENOMEM;
    }
    if (rc == 0 && !(s->contact = sipsess__sess_make_contact(sl, listener, proto)))
        rc = SIPSESS_ENOMEM;
    if (rc == 0)
        rc = sipsess__dialog_init_uac(&s->dlg, callid, from, tag, to, uri, c->cseq);
    sipsess_msgbuilder *mb = sl->mb;
    if (rc == 0)
        rc = sipsess__dialog_build(&s->dlg, mb, "INVITE", c->cseq, sipsess__ct_via(ct));
    if (rc == 0)
        rc = common_lines(sl, s, mb, SIPSESS_METHOD_INVITE);
    /* RFC 3262 §4: Require: 100rel when we insist on it. */
    if (rc == 0 && sl->cfg.rel100 == SIPSESS_100REL_REQUIRED)
        rc = sipsess_msgbuilder_header(mb, "Require", "100rel");
    if (rc == 0 && extra_headers)
        rc = sipsess_msgbuilder_header_lines(mb, extra_headers);
    if (rc == 0 && body && len)
        rc = sipsess_msgbuilder_body(mb, body, len, content_type ? content_type : "application/sdp");
    sipsess_str bytes = {NULL, 0};
    if (rc == 0)
        rc = sipsess_msgbuilder_finish(mb, &bytes);
    sipsess__free(from);
    sipsess__free(to);
    if (rc == 0 && !(c->forks = sipsess__malloc(sizeof *c->forks)))
        rc = SIPSESS_ENOMEM;
    if (rc == 0) {
        sipsess__sess_hold(s);
        c->forks[0] = s;
        c->nforks = 1;
        rc = sipsess__ct_start(ct, bytes.p, bytes.len);
        if (rc == 0)
            c->ct = ct;
        ct = NULL; /* started, or freed by ct_start */
    }
    if (rc) {
        if (ct)
            sipsess__ct_abandon(ct);
        sipsess__creq_free(c);
        if (s) {
            s->bye_sent = true;
            sipsess__sess_terminate(s, SIPSESS_TERM_TRANSPORT);
        }
        return rc;
    }
    s->inv = c;
    s->inv_cseq = c->cseq;
    if (body && len)
        sipsess__oa_local_offer(&s->oa, body, len, content_type);
    creq_link(c);
    *out = s;
    return SIPSESS_OK;
}
