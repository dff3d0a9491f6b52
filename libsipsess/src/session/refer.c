/*
 * The implicit subscription of REFER (RFC 3515 §2.4.4-§2.4.7): accepting
 * a REFER creates it (unless Refer-Sub: false, RFC 4488), its NOTIFYs
 * carry message/sipfrag status lines, and a final status ends it.
 */
#include <stdio.h>
#include <string.h>

#include "runtime/mem.h"
#include "session/session_int.h"

/* RFC 3515 does not fix the subscription's duration; a refreshing
 * referrer would SUBSCRIBE, which this library does not serve, so the
 * NOTIFYs report a minute, and a transfer still running after it ends the
 * subscription with reason=timeout (RFC 6665 §4.2.2). */
#define REFER_EXPIRES_S 60

static int send_notify_state(sipsess__refer_sub *sub, unsigned status, const char *reason,
                             const char *state, const sipsess_response_delegate *rd, void *ud);

static int send_notify(sipsess__refer_sub *sub, unsigned status, const char *reason,
                       const sipsess_response_delegate *rd, void *ud)
{
    return send_notify_state(sub, status, reason, NULL, rd, ud);
}

static int send_notify_state(sipsess__refer_sub *sub, unsigned status, const char *reason,
                             const char *state, const sipsess_response_delegate *rd, void *ud)
{
    sipsess_session *s = sub->s;
    if (!s || !sipsess__sess_alive(s))
        return SIPSESS_ESTATE;
    if (sub->terminated)
        return SIPSESS_ESTATE;
    bool final = status >= 200 || state;
    char hdrs[192], body[160];
    /* §2.4.6: the id parameter names the REFER (its CSeq) once a dialog
     * has seen more than one. */
    char id[24] = "";
    if (sub->with_id)
        snprintf(id, sizeof id, ";id=%lu", (unsigned long)sub->id);
    char active[32];
    snprintf(active, sizeof active, "active;expires=%d", REFER_EXPIRES_S);
    snprintf(hdrs, sizeof hdrs, "Event: refer%s\r\nSubscription-State: %s\r\n", id,
             state ? state : final ? "terminated;reason=noresource" : active);
    int n = snprintf(body, sizeof body, "SIP/2.0 %u %s\r\n", status,
                     reason ? reason : sipsess_reason_phrase(status));
    if (n < 0 || (size_t)n >= sizeof body)
        return SIPSESS_EINVAL;
    int rc = sipsess__uac_send(s, &s->dlg, "NOTIFY", hdrs, NULL, body, (size_t)n,
                               "message/sipfrag;version=2.0", rd, ud, false, NULL);
    if (rc == 0) {
        sub->last_status = status;
        if (final) {
            sub->terminated = true;
            sipsess__timer_stop(s->sl->loop, &sub->t_expire);
        }
    }
    return rc;
}

static void on_expire(sipsess__timer *t, void *arg)
{
    (void)t;
    sipsess__refer_sub *sub = arg;
    sipsess_session *s = sub->s;
    if (!s || !s->sl || sub->terminated)
        return;
    sipsess__sl *sl = s->sl;
    sipsess__sl_enter(sl);
    send_notify_state(sub, sub->last_status ? sub->last_status : 100, NULL,
                      "terminated;reason=timeout", NULL, NULL);
    sub->terminated = true;
    sipsess__sl_leave(sl);
}

void sipsess__refer_stop_all(sipsess_session *s)
{
    if (!s->sl)
        return;
    for (sipsess__refer_sub *sub = s->subs; sub; sub = sub->next)
        sipsess__timer_stop(s->sl->loop, &sub->t_expire);
}

void sipsess__refer_accepted(sipsess_request *req)
{
    sipsess_session *s = req->s;
    if (!s || req->sub)
        return;
    sipsess__refer_sub *sub = sipsess__calloc(1, sizeof *sub);
    if (!sub)
        return;
    sub->s = s;
    sub->id = req->cseq;
    sub->with_id = s->nrefer_in > 0;
    s->nrefer_in++;
    sub->refs = 2; /* the session's and the handle's */
    sub->next = s->subs;
    s->subs = sub;
    req->sub = sub;
    sipsess__timer_init(&sub->t_expire, on_expire, sub);
    sipsess__timer_start(s->sl->loop, &sub->t_expire, REFER_EXPIRES_S * 1000ull);
    /* §2.4.4: "the REFER-Recipient MUST send a NOTIFY" at once with the
     * state of the referenced request: just started. */
    send_notify(sub, 100, "Trying", NULL, NULL);
}

void sipsess__refer_free_all(sipsess_session *s)
{
    sipsess__refer_sub *sub = s->subs;
    s->subs = NULL;
    while (sub) {
        sipsess__refer_sub *next = sub->next;
        sub->s = NULL;
        if (--sub->refs == 0)
            sipsess__free(sub);
        sub = next;
    }
}

SIPSESS_API int sipsess_request_notify_refer(sipsess_request *req, unsigned status,
                                             const char *reason,
                                             const sipsess_response_delegate *rd,
                                             void *rd_userdata)
{
    if (!req || req->method != SIPSESS_METHOD_REFER || status < 100 || status > 699)
        return SIPSESS_EINVAL;
    if (reason && (strchr(reason, '\r') || strchr(reason, '\n')))
        return SIPSESS_EINVAL;
    if (req->no_refer_sub)
        return SIPSESS_ESTATE;
    if (!req->sub)
        return SIPSESS_EINVAL; /* not (yet) accepted */
    return send_notify(req->sub, status, reason, rd, rd_userdata);
}
