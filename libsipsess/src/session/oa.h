/*
 * Private offer/answer state machine (RFC 3264 §4-§8, RFC 6337 §2-§3),
 * independent of the body type: the library never looks inside an SDP.
 * The session layer tells it which message carried an offer or an answer;
 * it keeps the state, the pending offer and the last completed exchange,
 * and rolls a rejected offer back (RFC 6337 §3.1.1, RFC 3261 §14.1).
 * Never installed.
 */
#ifndef SIPSESS__OA_H
#define SIPSESS__OA_H

#include <stdbool.h>
#include <stddef.h>

#include "sipsess/session.h"

typedef struct sipsess__oa_body {
    char *p;      /* NULL when none */
    size_t len;
    char *ctype;  /* NULL when not given */
} sipsess__oa_body;

typedef struct sipsess__oa {
    sipsess_signaling_state state;
    sipsess_signaling_state before; /* where a rollback returns to */
    bool pending_local;             /* who made the pending offer */
    sipsess__oa_body pending;       /* the pending offer */
    bool have_done;                 /* an exchange completed */
    bool done_local;                /* who offered in it */
    sipsess__oa_body done_offer, done_answer;
} sipsess__oa;

void sipsess__oa_init(sipsess__oa *oa);
void sipsess__oa_free(sipsess__oa *oa);
/** An offer we send. ESTATE unless Initial or Stable (RFC 3264 §4: one
 *  offer at a time). ENOMEM. */
int sipsess__oa_local_offer(sipsess__oa *oa, const void *body, size_t len, const char *ctype);
/** An offer the peer sent; same rule. */
int sipsess__oa_remote_offer(sipsess__oa *oa, const void *body, size_t len, const char *ctype);
/** Our answer to the pending remote offer. ESTATE unless HaveRemoteOffer. */
int sipsess__oa_local_answer(sipsess__oa *oa, const void *body, size_t len, const char *ctype);
/** The peer's answer to our pending offer. ESTATE unless HaveLocalOffer. */
int sipsess__oa_remote_answer(sipsess__oa *oa, const void *body, size_t len, const char *ctype);
/** Drop the pending offer (rejected, RFC 6337 §3.1.1): back to the state
 *  before it. ESTATE when no offer is pending. */
int sipsess__oa_rollback(sipsess__oa *oa);
/** The session ended: Closed, no more offers. */
void sipsess__oa_close(sipsess__oa *oa);
/** Whether an offer is pending (either side). */
bool sipsess__oa_pending(const sipsess__oa *oa);
/** sipsess_session_body: the pending offer or the last exchange. */
sipsess_str sipsess__oa_body_of(const sipsess__oa *oa, sipsess_body_kind which,
                                sipsess_str *ctype);
const char *sipsess__oa_state_name(sipsess_signaling_state s);

#endif
