/*
 * The public functions that act on a session (session.h): in-dialog
 * requests with their state checks, CANCEL, ACK, and terminate.
 */
#include <stdio.h>
#include <string.h>

#include "runtime/mem.h"
#include "session/session_int.h"
#include "syntax/syntax.h"

/* A request inside the dialog needs the dialog: a remote tag (an early or
 * confirmed dialog, §12) and a session not Terminated. */
static int check_dialog(const sipsess_session *s)
{
    if (!s)
        return SIPSESS_EINVAL;
    if (!sipsess__sess_alive(s) || s->state == SIPSESS_SESSION_INITIAL || !s->dlg.remote_tag ||
        !s->dlg.remote_tag[0])
        return SIPSESS_ESTATE;
    return SIPSESS_OK;
}

int sipsess__uac_bye(sipsess_session *s, const char *extra, const sipsess_response_delegate *rd,
                     void *rd_ud)
{
    if (!sipsess__sess_alive(s))
        return SIPSESS_ESTATE;
    sipsess__sess_hold(s);
    int rc = sipsess__uac_send(s, &s->dlg, "BYE", NULL, extra, NULL, 0, NULL, rd, rd_ud, false,
                               NULL);
    /* §15.1.1: the session ends when the BYE is sent, whatever answers it
     * (the response still reaches `rd`). */
    s->bye_sent = true;
    sipsess__sess_terminate(s, s->final_cause ? s->final_cause : SIPSESS_TERM_LOCAL_BYE);
    sipsess__sess_release(s);
    return rc;
}

SIPSESS_API int sipsess_session_bye(sipsess_session *s, const char *extra_headers,
                                    const sipsess_response_delegate *rd, void *rd_userdata)
{
    int rc = check_dialog(s);
    if (rc)
        return rc;
    /* §15: "the callee's UA MUST NOT send a BYE on a confirmed dialog
     * until it has received an ACK for its 2xx response"; in an early
     * dialog the callee rejects the INVITE instead. The caller ACKs first. */
    if (!s->outgoing && (s->state == SIPSESS_SESSION_EARLY || s->state == SIPSESS_SESSION_ACK_WAIT))
        return SIPSESS_ESTATE;
    if (s->ack_due && !s->ack_due_reinvite)
        return SIPSESS_ESTATE;
    return sipsess__uac_bye(s, extra_headers, rd, rd_userdata);
}

static int generic(sipsess_session *s, const char *method, const void *body, size_t len,
                   const char *ctype, const char *extra, const sipsess_response_delegate *rd,
                   void *ud)
{
    int rc = check_dialog(s);
    if (rc)
        return rc;
    return sipsess__uac_send(s, &s->dlg, method, NULL, extra, body, len, ctype, rd, ud, false,
                             NULL);
}

SIPSESS_API int sipsess_session_invite(sipsess_session *s, const void *body, size_t len,
                                       const char *content_type, const char *extra_headers,
                                       const sipsess_response_delegate *rd, void *rd_userdata)
{
    int rc = check_dialog(s);
    if (rc)
        return rc;
    if (!body && len)
        return SIPSESS_EINVAL;
    /* §14.1: "a UAC MUST NOT initiate a re-INVITE transaction within a
     * dialog while another INVITE transaction is in progress in either
     * direction"; none in an early dialog; one offer at a time. */
    if (sipsess__uac_reinvite_blocked(s))
        return SIPSESS_ESTATE;
    return sipsess__uac_reinvite(s, body, len, content_type, extra_headers, rd, rd_userdata);
}

SIPSESS_API int sipsess_session_update(sipsess_session *s, const void *body, size_t len,
                                       const char *content_type, const char *extra_headers,
                                       const sipsess_response_delegate *rd, void *rd_userdata)
{
    int rc = check_dialog(s);
    if (rc)
        return rc;
    if (!body && len)
        return SIPSESS_EINVAL;
    bool offer = body && len;
    /* RFC 3311 §5.1: no new offer while one is outstanding (either way). */
    if (offer && sipsess__oa_pending(&s->oa))
        return SIPSESS_ESTATE;
    rc = sipsess__uac_send(s, &s->dlg, "UPDATE", NULL, extra_headers, body, len, content_type,
                           rd, rd_userdata, offer, NULL);
    if (rc == 0 && offer)
        sipsess__oa_local_offer(&s->oa, body, len, content_type);
    return rc;
}

SIPSESS_API int sipsess_session_info(sipsess_session *s, const void *body, size_t len,
                                     const char *content_type, const char *extra_headers,
                                     const sipsess_response_delegate *rd, void *rd_userdata)
{
    return generic(s, "INFO", body, len, content_type, extra_headers, rd, rd_userdata);
}

SIPSESS_API int sipsess_session_message(sipsess_session *s, const void *body, size_t len,
                                        const char *content_type, const char *extra_headers,
                                        const sipsess_response_delegate *rd, void *rd_userdata)
{
    return generic(s, "MESSAGE", body, len, content_type ? content_type : "text/plain",
                   extra_headers, rd, rd_userdata);
}

SIPSESS_API int sipsess_session_notify(sipsess_session *s, const void *body, size_t len,
                                       const char *content_type, const char *extra_headers,
                                       const sipsess_response_delegate *rd, void *rd_userdata)
{
    return generic(s, "NOTIFY", body, len, content_type, extra_headers, rd, rd_userdata);
}

SIPSESS_API int sipsess_session_prack(sipsess_session *s, const void *body, size_t len,
                                      const char *content_type, const char *extra_headers,
                                      const sipsess_response_delegate *rd, void *rd_userdata)
{
    int rc = check_dialog(s);
    if (rc)
        return rc;
    if (!body && len)
        return SIPSESS_EINVAL;
    if (!s->prack_due)
        return SIPSESS_ESTATE;
    return sipsess__uac_prack(s, body, len, content_type, extra_headers, rd, rd_userdata);
}

SIPSESS_API int sipsess_session_refer(sipsess_session *s, const char *refer_to,
                                      const char *extra_headers,
                                      const sipsess_response_delegate *rd, void *rd_userdata)
{
    int rc = check_dialog(s);
    if (rc)
        return rc;
    if (!refer_to || !*refer_to || strchr(refer_to, '\r') || strchr(refer_to, '\n'))
        return SIPSESS_EINVAL;
    if (s->state != SIPSESS_SESSION_CONFIRMED)
        return SIPSESS_ESTATE;
    /* RFC 3515 §2.1: Refer-To is a name-addr when the URI has parameters
     * or headers (a ?Replaces=...), so always write the brackets. */
    sipsess__sb b = {0};
    sipsess__sb_add(&b, "Refer-To: %s%s%s", refer_to[0] == '<' ? "" : "<", refer_to,
                    refer_to[0] == '<' ? "" : ">");
    const char *h = sipsess__sb_str(&b);
    rc = h ? sipsess__uac_send(s, &s->dlg, "REFER", h, extra_headers, NULL, 0, NULL, rd,
                               rd_userdata, false, NULL)
           : SIPSESS_ENOMEM;
    sipsess__sb_free(&b);
    return rc;
}

SIPSESS_API int sipsess_session_request(sipsess_session *s, const char *method, const void *body,
                                        size_t len, const char *content_type,
                                        const char *extra_headers,
                                        const sipsess_response_delegate *rd, void *rd_userdata)
{
    if (!s || !sipsess__is_token(method) || (!body && len))
        return SIPSESS_EINVAL;
    switch (sipsess_method_from(method, strlen(method))) {
    case SIPSESS_METHOD_ACK:
    case SIPSESS_METHOD_CANCEL:
        return SIPSESS_EINVAL; /* sipsess_session_ack / sipsess_session_cancel */
    case SIPSESS_METHOD_INVITE:
        return sipsess_session_invite(s, body, len, content_type, extra_headers, rd,
                                      rd_userdata);
    case SIPSESS_METHOD_BYE:
        return sipsess_session_bye(s, extra_headers, rd, rd_userdata);
    case SIPSESS_METHOD_UPDATE:
        return sipsess_session_update(s, body, len, content_type, extra_headers, rd,
                                      rd_userdata);
    case SIPSESS_METHOD_PRACK:
        return sipsess_session_prack(s, body, len, content_type, extra_headers, rd,
                                     rd_userdata);
    default:
        return generic(s, method, body, len, content_type, extra_headers, rd, rd_userdata);
    }
}

SIPSESS_API int sipsess_session_cancel(sipsess_session *s, const char *extra_headers)
{
    if (!s)
        return SIPSESS_EINVAL;
    if (!sipsess__sess_alive(s) || !s->outgoing || !s->inv || !s->inv->ct ||
        (s->state != SIPSESS_SESSION_INITIAL && s->state != SIPSESS_SESSION_EARLY))
        return SIPSESS_ESTATE;
    sipsess__creq *c = s->inv;
    if (c->cancelled)
        return SIPSESS_OK;
    bool calling = sipsess__txn_get_state(c->ct) == SIPSESS__TS_CALLING;
    int rc = sipsess__ct_cancel_extra(c->ct, extra_headers, NULL, NULL);
    /* §9.1: before any provisional response the CANCEL waits for one; the
     * transaction layer sends it then. */
    if (rc == SIPSESS_EBUSY || (rc == SIPSESS_ESTATE && calling))
        rc = SIPSESS_OK;
    if (rc == 0)
        c->cancelled = true;
    return rc;
}

SIPSESS_API int sipsess_session_ack(sipsess_session *s, const void *body, size_t len,
                                    const char *content_type)
{
    if (!s || (!body && len))
        return SIPSESS_EINVAL;
    if (!sipsess__sess_alive(s) || !s->ack_due)
        return SIPSESS_ESTATE;
    return sipsess__uac_ack(s, body, len, content_type);
}

SIPSESS_API int sipsess_session_terminate(sipsess_session *s)
{
    if (!s)
        return SIPSESS_EINVAL;
    if (!sipsess__sess_alive(s))
        return SIPSESS_ESTATE;
    int rc = SIPSESS_OK;
    sipsess__sess_hold(s);
    if (s->outgoing && (s->state == SIPSESS_SESSION_INITIAL || s->state == SIPSESS_SESSION_EARLY)) {
        if (s->inv && s->inv->ct)
            rc = sipsess_session_cancel(s, NULL);
        else if (s->state == SIPSESS_SESSION_EARLY)
            rc = sipsess__uac_bye(s, NULL, NULL, NULL); /* §15: a caller may BYE early */
        else
            sipsess__sess_terminate(s, SIPSESS_TERM_LOCAL_BYE);
    } else if (!s->outgoing &&
               (s->state == SIPSESS_SESSION_INITIAL || s->state == SIPSESS_SESSION_EARLY)) {
        sipsess_request *ir = s->inv_req;
        if (ir && !ir->answered && ir->st)
            rc = sipsess__req_respond(ir, 480, NULL, NULL, NULL, 0, NULL, false);
        else
            sipsess__sess_terminate(s, SIPSESS_TERM_REJECTED);
    } else if (s->ack_wait && !s->outgoing && s->state == SIPSESS_SESSION_ACK_WAIT) {
        /* §15: BYE only after the ACK (or its timeout). */
        s->bye_after_ack = true;
    } else {
        if (s->ack_due)
            sipsess__uac_ack(s, NULL, 0, NULL);
        rc = sipsess__uac_bye(s, NULL, NULL, NULL);
    }
    sipsess__sess_release(s);
    return rc;
}
