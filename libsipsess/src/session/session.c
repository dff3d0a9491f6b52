/*
 * Sessions: their life (references, state, the end and its cause), the
 * delegates, the queries of session.h, and the layer object the UA core
 * owns. Notifications of state changes and of the end reach the
 * application inside its call into the loop: when they happen during one
 * (a callback calling sipsess_session_bye, a received BYE) they are told
 * at once; when the application changes a session from outside the loop
 * they wait for its next step (a 0 ms timer), as the threading rule of
 * common.h promises.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "runtime/mem.h"
#include "session/session_int.h"
#include "syntax/syntax.h"

/* ------------------------------------------------------------------ */
/* helpers                                                             */

char *sipsess__cstrdup(const char *s)
{
    if (!s)
        return NULL;
    size_t n = strlen(s);
    char *p = sipsess__malloc(n + 1);
    if (p)
        memcpy(p, s, n + 1);
    return p;
}

void sipsess__sb_add(sipsess__sb *b, const char *fmt, ...)
{
    if (b->oom)
        return;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0) {
        b->oom = true;
        return;
    }
    if (b->len + (size_t)n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 256;
        while (cap < b->len + (size_t)n + 1)
            cap *= 2;
        char *p = sipsess__realloc(b->p, cap);
        if (!p) {
            b->oom = true;
            return;
        }
        b->p = p;
        b->cap = cap;
    }
    va_start(ap, fmt);
    vsnprintf(b->p + b->len, b->cap - b->len, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
}

void sipsess__sb_free(sipsess__sb *b)
{
    sipsess__free(b->p);
    memset(b, 0, sizeof *b);
}

const char *sipsess__sb_str(sipsess__sb *b)
{
    if (b->oom)
        return NULL;
    return b->p ? b->p : "";
}

bool sipsess__has_option(const sipsess_msg *m, sipsess_hdr_id id, const char *tag)
{
    for (const sipsess_hdr *h = sipsess_msg_hdr(m, id, 0); h; h = sipsess_hdr_next(m, h))
        if (sipsess__str_ieq(sipsess_hdr_token(h), tag))
            return true;
    return false;
}

/* Exactly what is implemented (RFC 3261 §20.5): the methods a session or
 * the UA answers with something else than 405/501. */
const char *sipsess__sl_allow(void)
{
    return "INVITE, ACK, CANCEL, BYE, OPTIONS, INFO, MESSAGE, NOTIFY, PRACK, REFER, UPDATE";
}

/* §20.37: option tags understood: 100rel (RFC 3262) unless turned off,
 * replaces (RFC 3891), norefersub (RFC 4488). */
const char *sipsess__sl_supported(const sipsess__sl *sl)
{
    return sl->cfg.rel100 != SIPSESS_100REL_OFF ? "100rel, replaces, norefersub"
                                                 : "replaces, norefersub";
}

bool sipsess__sl_option_supported(const sipsess__sl *sl, sipsess_str tag)
{
    if (sipsess__str_ieq(tag, "100rel"))
        return sl->cfg.rel100 != SIPSESS_100REL_OFF;
    return sipsess__str_ieq(tag, "replaces") || sipsess__str_ieq(tag, "norefersub");
}

void sipsess__sl_enter(sipsess__sl *sl)
{
    sl->depth++;
}

void sipsess__sl_leave(sipsess__sl *sl)
{
    sl->depth--;
}

/* The user part of our identity names our Contact too. */
static void identity_user(const sipsess__sl *sl, char *buf, size_t cap)
{
    snprintf(buf, cap, "sipsess");
    const char *id = sl->cfg.identity;
    if (!id[0])
        return;
    const char *lt = strchr(id, '<');
    const char *u = lt ? lt + 1 : id;
    const char *colon = strchr(u, ':');
    const char *at = strchr(u, '@');
    if (!colon || !at || at < colon)
        return;
    size_t n = (size_t)(at - colon - 1);
    if (n == 0 || n >= cap)
        return;
    /* No password or parameters in a Contact user part we make. */
    const char *pw = memchr(colon + 1, ':', n);
    if (pw)
        n = (size_t)(pw - colon - 1);
    memcpy(buf, colon + 1, n);
    buf[n] = '\0';
}

char *sipsess__sess_make_contact(sipsess__sl *sl, int listener, sipsess__proto proto)
{
    char user[128];
    identity_user(sl, user, sizeof user);
    sipsess_str sb = sipsess__txl_sentby(sl->txl, listener);
    if (!sb.p)
        return NULL;
    /* UDP is the default transport of a sip: URI (§19.1.2); anything else
     * is named so the peer comes back over it (§8.1.1.8). */
    const char *tp = proto == SIPSESS__TCP ? ";transport=tcp"
                     : proto == SIPSESS__MEM ? ";transport=mem"
                                             : "";
    size_t cap = strlen(user) + sb.len + strlen(tp) + 16;
    char *c = sipsess__malloc(cap);
    if (c)
        snprintf(c, cap, "<sip:%s@%.*s%s>", user, (int)sb.len, sb.p, tp);
    return c;
}

/* ------------------------------------------------------------------ */
/* notifications                                                       */

static void flush(sipsess_session *s)
{
    if (s->flushing)
        return;
    s->flushing = true;
    sipsess__sess_hold(s);
    for (;;) {
        if (s->nev) {
            sipsess_session_state st = s->evq[0];
            memmove(s->evq, s->evq + 1, (s->nev - 1) * sizeof s->evq[0]);
            s->nev--;
            if (s->has_del && s->del.on_state_change)
                s->del.on_state_change(s, st, s->ud);
            continue;
        }
        if (s->term_queued && !s->term_done) {
            s->term_done = true;
            if (s->has_del && s->del.on_terminated)
                s->del.on_terminated(s, s->cause, s->ud);
            /* "destroy ... exactly once: ... after the session's
             * on_terminated" (session.h). */
            void (*destroy)(void *) = s->has_del ? s->destroy : NULL;
            void *ud = s->ud;
            s->has_del = false;
            s->destroy = NULL;
            s->ud = NULL;
            memset(&s->del, 0, sizeof s->del);
            if (destroy)
                destroy(ud);
            /* The library's own reference: the session lived until
             * Terminated whatever the application held. */
            sipsess__sess_release(s);
            continue;
        }
        break;
    }
    s->flushing = false;
    sipsess__sess_release(s);
}

static void notify(sipsess_session *s)
{
    if (!s->sl || s->sl->depth > 0) {
        flush(s);
        return;
    }
    /* Outside the loop: told on the application's next step. */
    sipsess__sess_hold(s);
    if (sipsess__timer_armed(&s->t_notify))
        sipsess__sess_release(s);
    else
        sipsess__timer_start(s->sl->loop, &s->t_notify, 0);
}

void sipsess__sess_set_state(sipsess_session *s, sipsess_session_state st)
{
    if (s->state == st || s->state == SIPSESS_SESSION_TERMINATED)
        return;
    s->state = st;
    if (s->nev < sizeof s->evq / sizeof s->evq[0])
        s->evq[s->nev++] = st;
    notify(s);
}

/* ------------------------------------------------------------------ */
/* life                                                                */

static void timer_notify_cb(sipsess__timer *t, void *arg)
{
    (void)t;
    sipsess_session *s = arg;
    sipsess__sl *sl = s->sl;
    if (sl)
        sipsess__sl_enter(sl);
    flush(s);
    /* the hold taken when the timer was armed */
    sipsess__sess_release(s);
    if (sl)
        sipsess__sl_leave(sl);
}

sipsess_session *sipsess__sess_alloc(sipsess__sl *sl, bool outgoing)
{
    sipsess_session *s = sipsess__calloc(1, sizeof *s);
    if (!s)
        return NULL;
    s->refs = 1; /* the library's, dropped after on_terminated */
    s->sl = sl;
    s->ua = sl->ua;
    s->outgoing = outgoing;
    s->state = SIPSESS_SESSION_INITIAL;
    s->dlg.owner = s;
    sipsess__oa_init(&s->oa);
    sipsess__timer_init(&s->t_notify, timer_notify_cb, s);
    sipsess__uas_timers_init(s);
    sipsess__uac_timers_init(s);
    s->next = sl->sessions;
    if (sl->sessions)
        sl->sessions->prev = s;
    sl->sessions = s;
    s->linked = true;
    s->live = true;
    sl->nsessions++;
    return s;
}

void sipsess__sess_hold(sipsess_session *s)
{
    s->refs++;
}

static void stop_timers(sipsess_session *s)
{
    if (!s->sl)
        return;
    sipsess__loop *l = s->sl->loop;
    sipsess__timer_stop(l, &s->t_2xx);
    sipsess__timer_stop(l, &s->t_ack);
    sipsess__timer_stop(l, &s->t_rel);
    sipsess__timer_stop(l, &s->t_rel_to);
    sipsess__timer_stop(l, &s->t_glare);
    sipsess__refer_stop_all(s);
}

static void unlink_all(sipsess_session *s)
{
    sipsess__sl *sl = s->sl;
    if (!s->linked || !sl)
        return;
    if (s->prev)
        s->prev->next = s->next;
    else
        sl->sessions = s->next;
    if (s->next)
        s->next->prev = s->prev;
    s->prev = s->next = NULL;
    s->linked = false;
}

static void sess_free(sipsess_session *s)
{
    stop_timers(s);
    if (s->sl) {
        sipsess__timer_stop(s->sl->loop, &s->t_notify);
        sipsess__dtab_remove(&s->sl->dialogs, &s->dlg);
        unlink_all(s);
    }
    sipsess__refer_free_all(s);
    sipsess__dialog_clear(&s->dlg);
    sipsess__oa_free(&s->oa);
    sipsess_msg_free(s->rel_resp);
    sipsess__free(s->contact);
    sipsess__free(s->ack_bytes);
    sipsess__free(s);
}

void sipsess__sess_release(sipsess_session *s)
{
    if (s && --s->refs == 0)
        sess_free(s);
}

bool sipsess__sess_alive(const sipsess_session *s)
{
    return s && s->sl && s->state != SIPSESS_SESSION_TERMINATED;
}

int sipsess__sess_index(sipsess_session *s)
{
    if (!s->sl || s->state == SIPSESS_SESSION_TERMINATED)
        return SIPSESS_ESTATE;
    return sipsess__dtab_insert(&s->sl->dialogs, &s->dlg);
}

static void unlink_live(sipsess_session *s)
{
    if (s->live && s->sl)
        s->sl->nsessions--;
    s->live = false;
}

void sipsess__sess_terminate(sipsess_session *s, sipsess_term_cause cause)
{
    if (s->state == SIPSESS_SESSION_TERMINATED || s->terminating)
        return;
    /* Answering the pending requests below may come back here (a 487 to
     * the INVITE ends the session too): once is enough. */
    s->terminating = true;
    sipsess__sess_hold(s);
    s->cause = cause;
    stop_timers(s);
    sipsess__oa_close(&s->oa);
    sipsess__uas_stop_2xx(s);
    s->rel_pending = false;
    s->prack_due = false;
    sipsess__uac_glare_cancel(s);
    /* The dialog stays indexed until the session is freed: requests in it
     * get 481 and copies of a 2xx are still ACKed (§12.2.2, §13.2.2.4). */
    unlink_live(s);
    /* §15.1.2: pending requests of the dialog are answered 487 (Request
     * Terminated); the BYE that ended it answers itself. */
    sipsess_request *r = s->pend_in;
    while (r) {
        sipsess_request *next = r->snext;
        if (!r->no_sweep && !r->answered && r->st)
            sipsess__req_respond(r, 487, NULL, NULL, NULL, 0, NULL, false);
        r = next;
    }
    if (s->reinv_in) {
        sipsess_request *ri = s->reinv_in;
        s->reinv_in = NULL;
        sipsess__req_irelease(ri);
    }
    s->inv_req = NULL; /* weak */
    SIPSESS__LOG(s->sl ? s->sl->log : NULL, SIPSESS_LOG_INFO, "session %s: terminated (cause %d)",
                 s->dlg.call_id ? s->dlg.call_id : "-", (int)cause);
    s->state = SIPSESS_SESSION_TERMINATED;
    if (s->nev < sizeof s->evq / sizeof s->evq[0])
        s->evq[s->nev++] = SIPSESS_SESSION_TERMINATED;
    s->term_queued = true;
    notify(s);
    sipsess__sess_release(s);
}

/* ------------------------------------------------------------------ */
/* the layer                                                           */

int sipsess__sl_new(const sipsess__sl_config *cfg, sipsess__loop *loop, sipsess__txl *txl,
                    const sipsess__log *log, sipsess_ua *ua, sipsess__sl **out)
{
    sipsess__sl *sl = sipsess__calloc(1, sizeof *sl);
    if (!sl)
        return SIPSESS_ENOMEM;
    sl->cfg = *cfg;
    sl->loop = loop;
    sl->txl = txl;
    sl->log = log;
    sl->ua = ua;
    int rc = sipsess__dtab_init(&sl->dialogs);
    if (rc == 0)
        rc = sipsess__dtab_init(&sl->forking);
    if (rc == 0)
        rc = sipsess_msgbuilder_new(&sl->mb);
    if (rc) {
        sipsess__dtab_free(&sl->dialogs);
        sipsess__dtab_free(&sl->forking);
        sipsess__free(sl);
        return rc;
    }
    *out = sl;
    return SIPSESS_OK;
}

void sipsess__sl_shutdown(sipsess__sl *sl)
{
    if (!sl)
        return;
    /* Callbacks run now, inside sipsess_ua_free: the loop will not run
     * again, so this is the last chance to tell the application. */
    sl->depth++;
    for (;;) {
        sipsess_session *s = sl->sessions;
        while (s && !sipsess__sess_alive(s))
            s = s->next;
        if (!s)
            break;
        /* Tell the peer, best effort, so its call does not hang: BYE, a
         * CANCEL, or 480 to an INVITE still unanswered go out now over
         * the transport that closes next; no answer is waited for. A
         * callee whose 2xx is not ACKed yet sends nothing (§15). */
        sipsess__sess_hold(s);
        s->final_cause = SIPSESS_TERM_UA_SHUTDOWN;
        (void)sipsess_session_terminate(s);
        if (sipsess__sess_alive(s)) {
            s->bye_sent = true;
            sipsess__sess_terminate(s, SIPSESS_TERM_UA_SHUTDOWN);
        }
        sipsess__sess_release(s);
    }
    while (sl->creqs)
        sipsess__creq_free(sl->creqs);
    sipsess__req_detach_all(sl);
    /* What the application still holds outlives the layer: detach it. */
    while (sl->sessions) {
        sipsess_session *s = sl->sessions;
        sipsess__sess_hold(s);
        if (sipsess__timer_armed(&s->t_notify)) {
            /* told now: the loop that would have told it is going */
            sipsess__timer_stop(sl->loop, &s->t_notify);
            flush(s);
            sipsess__sess_release(s);
        }
        stop_timers(s);
        sipsess__dtab_remove(&sl->dialogs, &s->dlg);
        unlink_all(s);
        s->sl = NULL;
        sipsess__sess_release(s);
    }
    sl->depth--;
}

void sipsess__sl_free(sipsess__sl *sl)
{
    if (!sl)
        return;
    sipsess__dtab_free(&sl->dialogs);
    sipsess__dtab_free(&sl->forking);
    sipsess_msgbuilder_free(sl->mb);
    sipsess__free(sl);
}

/* ------------------------------------------------------------------ */
/* delegates (public)                                                  */

SIPSESS_API int sipsess_session_delegate_new(sipsess_session_delegate **out)
{
    if (!out)
        return SIPSESS_EINVAL;
    sipsess_session_delegate *d = sipsess__calloc(1, sizeof *d);
    if (!d)
        return SIPSESS_ENOMEM;
    *out = d;
    return SIPSESS_OK;
}

SIPSESS_API void sipsess_session_delegate_free(sipsess_session_delegate *d)
{
    sipsess__free(d);
}

#define DSET(field, type)                                                                    \
    SIPSESS_API void sipsess_session_delegate_set_##field(sipsess_session_delegate *d,       \
                                                          type cb)                          \
    {                                                                                        \
        if (d)                                                                               \
            d->field = cb;                                                                   \
    }
DSET(on_ack, sipsess_request_cb)
DSET(on_ack_timeout, sipsess_request_cb)
DSET(on_bye, sipsess_request_cb)
DSET(on_info, sipsess_request_cb)
DSET(on_invite, sipsess_request_cb)
DSET(on_message, sipsess_request_cb)
DSET(on_notify, sipsess_request_cb)
DSET(on_prack, sipsess_request_cb)
DSET(on_refer, sipsess_request_cb)
DSET(on_update, sipsess_request_cb)
DSET(on_cancel, sipsess_request_cb)
DSET(on_request, sipsess_request_cb)
DSET(on_state_change, sipsess_state_cb)
DSET(on_terminated, sipsess_terminated_cb)
#undef DSET

SIPSESS_API int sipsess_session_set_delegate(sipsess_session *s, const sipsess_session_delegate *d,
                                             void *userdata, void (*destroy)(void *userdata))
{
    if (!s || !d)
        return SIPSESS_EINVAL;
    /* After on_terminated nobody would ever call destroy: refuse, and the
     * caller keeps what it passed. */
    if (s->term_done)
        return SIPSESS_ESTATE;
    void (*old_destroy)(void *) = s->has_del ? s->destroy : NULL;
    void *old_ud = s->ud;
    s->del = *d;
    s->ud = userdata;
    s->destroy = destroy;
    s->has_del = true;
    if (old_destroy)
        old_destroy(old_ud);
    return SIPSESS_OK;
}

SIPSESS_API int sipsess_response_delegate_new(sipsess_response_delegate **out)
{
    if (!out)
        return SIPSESS_EINVAL;
    sipsess_response_delegate *d = sipsess__calloc(1, sizeof *d);
    if (!d)
        return SIPSESS_ENOMEM;
    *out = d;
    return SIPSESS_OK;
}

SIPSESS_API void sipsess_response_delegate_free(sipsess_response_delegate *d)
{
    sipsess__free(d);
}

#define RSET(field)                                                                          \
    SIPSESS_API void sipsess_response_delegate_set_##field(sipsess_response_delegate *d,     \
                                                           sipsess_response_cb cb)          \
    {                                                                                        \
        if (d)                                                                               \
            d->field = cb;                                                                   \
    }
RSET(on_trying)
RSET(on_progress)
RSET(on_accept)
RSET(on_redirect)
RSET(on_reject)
#undef RSET

SIPSESS_API void sipsess_response_delegate_set_destroy(sipsess_response_delegate *d,
                                                       void (*destroy)(void *userdata))
{
    if (d)
        d->destroy = destroy;
}

/* ------------------------------------------------------------------ */
/* queries (public)                                                    */

SIPSESS_API sipsess_session *sipsess_session_ref(sipsess_session *s)
{
    if (s)
        s->refs++;
    return s;
}

SIPSESS_API void sipsess_session_unref(sipsess_session *s)
{
    /* The library's own reference is never the application's to drop:
     * one held past its release would be a double free. */
    if (s && s->refs > (s->term_done ? 0u : 1u))
        sipsess__sess_release(s);
}

SIPSESS_API sipsess_session_state sipsess_session_get_state(const sipsess_session *s)
{
    return s ? s->state : SIPSESS_SESSION_TERMINATED;
}

SIPSESS_API sipsess_signaling_state sipsess_session_get_signaling_state(const sipsess_session *s)
{
    return s ? s->oa.state : SIPSESS_SIGNALING_CLOSED;
}

SIPSESS_API sipsess_term_cause sipsess_session_term_cause(const sipsess_session *s)
{
    return s ? s->cause : SIPSESS_TERM_NONE;
}

SIPSESS_API int sipsess_session_is_outgoing(const sipsess_session *s)
{
    return s ? s->outgoing : 0;
}

SIPSESS_API sipsess_ua *sipsess_session_ua(const sipsess_session *s)
{
    return s ? s->ua : NULL;
}

SIPSESS_API void *sipsess_session_userdata(const sipsess_session *s)
{
    return s ? s->ud : NULL;
}

static sipsess_str cview(const char *p)
{
    sipsess_str v = {p, p ? strlen(p) : 0};
    return v;
}

SIPSESS_API sipsess_str sipsess_session_call_id(const sipsess_session *s)
{
    return cview(s ? s->dlg.call_id : NULL);
}

SIPSESS_API sipsess_str sipsess_session_local_tag(const sipsess_session *s)
{
    return cview(s ? s->dlg.local_tag : NULL);
}

SIPSESS_API sipsess_str sipsess_session_remote_tag(const sipsess_session *s)
{
    return cview(s && s->dlg.remote_tag && s->dlg.remote_tag[0] ? s->dlg.remote_tag : NULL);
}

SIPSESS_API sipsess_str sipsess_session_local_uri(const sipsess_session *s)
{
    return cview(s ? s->dlg.local_uri : NULL);
}

SIPSESS_API sipsess_str sipsess_session_remote_uri(const sipsess_session *s)
{
    return cview(s ? s->dlg.remote_uri : NULL);
}

SIPSESS_API sipsess_str sipsess_session_remote_target(const sipsess_session *s)
{
    return cview(s ? s->dlg.target : NULL);
}

SIPSESS_API sipsess_str sipsess_session_body(const sipsess_session *s, sipsess_body_kind which,
                                             sipsess_str *content_type)
{
    if (!s || (int)which < (int)SIPSESS_BODY_LOCAL_OFFER ||
        (int)which > (int)SIPSESS_BODY_REMOTE_ANSWER) {
        sipsess_str none = {NULL, 0};
        if (content_type)
            *content_type = none;
        return none;
    }
    return sipsess__oa_body_of(&s->oa, which, content_type);
}
