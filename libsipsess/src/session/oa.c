/*
 * Offer/answer (RFC 3264, RFC 6337). The states are those of RFC 6337
 * §2.1's model: no offer yet (Initial), an offer out (HaveLocalOffer) or
 * in (HaveRemoteOffer), an exchange complete (Stable), and Closed when
 * the session is over. Which SIP message carries what is the session
 * layer's business; this file only keeps the rules of the exchange.
 */
#include <string.h>

#include "runtime/mem.h"
#include "session/oa.h"

void sipsess__oa_init(sipsess__oa *oa)
{
    memset(oa, 0, sizeof *oa);
    oa->state = SIPSESS_SIGNALING_INITIAL;
    oa->before = SIPSESS_SIGNALING_INITIAL;
}

static void body_free(sipsess__oa_body *b)
{
    sipsess__free(b->p);
    sipsess__free(b->ctype);
    memset(b, 0, sizeof *b);
}

void sipsess__oa_free(sipsess__oa *oa)
{
    body_free(&oa->pending);
    body_free(&oa->done_offer);
    body_free(&oa->done_answer);
}

static int body_set(sipsess__oa_body *b, const void *p, size_t len, const char *ctype)
{
    sipsess__oa_body n = {NULL, 0, NULL};
    if (p && len) {
        n.p = sipsess__malloc(len);
        if (!n.p)
            return SIPSESS_ENOMEM;
        memcpy(n.p, p, len);
        n.len = len;
    }
    if (ctype) {
        size_t cl = strlen(ctype);
        n.ctype = sipsess__malloc(cl + 1);
        if (!n.ctype) {
            sipsess__free(n.p);
            return SIPSESS_ENOMEM;
        }
        memcpy(n.ctype, ctype, cl + 1);
    }
    body_free(b);
    *b = n;
    return SIPSESS_OK;
}

static int offer(sipsess__oa *oa, bool local, const void *body, size_t len, const char *ctype)
{
    /* RFC 3264 §4: "an agent MUST NOT generate a new offer if it has
     * received an offer which it has not yet answered or rejected" and not
     * while its own is outstanding; RFC 6337 §3.1 the same for SIP. */
    if (oa->state != SIPSESS_SIGNALING_INITIAL && oa->state != SIPSESS_SIGNALING_STABLE)
        return SIPSESS_ESTATE;
    int rc = body_set(&oa->pending, body, len, ctype);
    if (rc)
        return rc;
    oa->before = oa->state;
    oa->pending_local = local;
    oa->state = local ? SIPSESS_SIGNALING_HAVE_LOCAL_OFFER : SIPSESS_SIGNALING_HAVE_REMOTE_OFFER;
    return SIPSESS_OK;
}

static int answer(sipsess__oa *oa, bool local, const void *body, size_t len, const char *ctype)
{
    sipsess_signaling_state want =
        local ? SIPSESS_SIGNALING_HAVE_REMOTE_OFFER : SIPSESS_SIGNALING_HAVE_LOCAL_OFFER;
    if (oa->state != want)
        return SIPSESS_ESTATE;
    sipsess__oa_body a = {NULL, 0, NULL};
    int rc = body_set(&a, body, len, ctype);
    if (rc)
        return rc;
    /* The exchange completes: the offer and its answer become the
     * session's current description (RFC 3264 §5, §6). */
    body_free(&oa->done_offer);
    body_free(&oa->done_answer);
    oa->done_offer = oa->pending;
    memset(&oa->pending, 0, sizeof oa->pending);
    oa->done_answer = a;
    oa->done_local = oa->pending_local;
    oa->have_done = true;
    oa->state = SIPSESS_SIGNALING_STABLE;
    return SIPSESS_OK;
}

int sipsess__oa_local_offer(sipsess__oa *oa, const void *body, size_t len, const char *ctype)
{
    return offer(oa, true, body, len, ctype);
}

int sipsess__oa_remote_offer(sipsess__oa *oa, const void *body, size_t len, const char *ctype)
{
    return offer(oa, false, body, len, ctype);
}

int sipsess__oa_local_answer(sipsess__oa *oa, const void *body, size_t len, const char *ctype)
{
    return answer(oa, true, body, len, ctype);
}

int sipsess__oa_remote_answer(sipsess__oa *oa, const void *body, size_t len, const char *ctype)
{
    return answer(oa, false, body, len, ctype);
}

int sipsess__oa_rollback(sipsess__oa *oa)
{
    if (!sipsess__oa_pending(oa))
        return SIPSESS_ESTATE;
    /* RFC 6337 §3.1.1: a rejected offer leaves the session as it was
     * before the offer (RFC 3261 §14.1, §14.2 for re-INVITE). */
    body_free(&oa->pending);
    oa->state = oa->before;
    return SIPSESS_OK;
}

void sipsess__oa_close(sipsess__oa *oa)
{
    oa->state = SIPSESS_SIGNALING_CLOSED;
}

bool sipsess__oa_pending(const sipsess__oa *oa)
{
    return oa->state == SIPSESS_SIGNALING_HAVE_LOCAL_OFFER ||
           oa->state == SIPSESS_SIGNALING_HAVE_REMOTE_OFFER;
}

static sipsess_str view(const sipsess__oa_body *b, sipsess_str *ctype)
{
    sipsess_str s = {b->p, b->len};
    if (ctype) {
        ctype->p = b->ctype;
        ctype->len = b->ctype ? strlen(b->ctype) : 0;
    }
    if (!b->p)
        s.len = 0;
    return s;
}

sipsess_str sipsess__oa_body_of(const sipsess__oa *oa, sipsess_body_kind which,
                                sipsess_str *ctype)
{
    static const sipsess__oa_body none = {NULL, 0, NULL};
    bool local = which == SIPSESS_BODY_LOCAL_OFFER || which == SIPSESS_BODY_LOCAL_ANSWER;
    bool is_offer = which == SIPSESS_BODY_LOCAL_OFFER || which == SIPSESS_BODY_REMOTE_OFFER;
    /* The pending offer first, then the last completed exchange. */
    if (is_offer && sipsess__oa_pending(oa) && oa->pending_local == local)
        return view(&oa->pending, ctype);
    if (oa->have_done) {
        if (is_offer && oa->done_local == local)
            return view(&oa->done_offer, ctype);
        if (!is_offer && oa->done_local != local)
            return view(&oa->done_answer, ctype);
    }
    return view(&none, ctype);
}

const char *sipsess__oa_state_name(sipsess_signaling_state s)
{
    switch (s) {
    case SIPSESS_SIGNALING_INITIAL:
        return "Initial";
    case SIPSESS_SIGNALING_HAVE_LOCAL_OFFER:
        return "HaveLocalOffer";
    case SIPSESS_SIGNALING_HAVE_REMOTE_OFFER:
        return "HaveRemoteOffer";
    case SIPSESS_SIGNALING_STABLE:
        return "Stable";
    case SIPSESS_SIGNALING_CLOSED:
        return "Closed";
    }
    return "?";
}
