/*
 * Private shapes of the session layer (INVITE dialog usages, RFC 3261
 * §13-§15 with RFC 3262, 3264, 3311, 3515, 3891, 4488, 6026, 6337):
 * the layer object the UA core owns, sessions, incoming-request handles
 * and outgoing in-dialog requests, and the functions the files of
 * src/session/ offer one another and the UA core. Calls the dialog and
 * transaction layers below; reaches the application only through its
 * delegates. Never installed.
 */
#ifndef SIPSESS__SESSION_INT_H
#define SIPSESS__SESSION_INT_H

#include <stdbool.h>
#include <stdint.h>

#include "sipsess/session.h"
#include "dialog/dialog.h"
#include "runtime/log.h"
#include "runtime/loop.h"
#include "session/oa.h"
#include "txn/txn.h"

/* ---- configuration the UA hands down ---- */
typedef struct sipsess__sl_config {
    uint32_t t1, t2;
    char user_agent[128];
    char identity[256];     /* "" = sip:sipsess@<listener> */
    bool auto_ack;
    bool auto_prack;
    bool accept_forks;      /* later 2xx of other forks: sessions, not BYE */
    int rel100;             /* sipsess_100rel */
    unsigned max_sessions;
    unsigned max_pending;   /* per session, each direction */
} sipsess__sl_config;

struct sipsess_session_delegate {
    sipsess_request_cb on_ack, on_ack_timeout, on_bye, on_info, on_invite, on_message,
        on_notify, on_prack, on_refer, on_update, on_cancel, on_request;
    sipsess_state_cb on_state_change;
    sipsess_terminated_cb on_terminated;
};

struct sipsess_response_delegate {
    sipsess_response_cb on_trying, on_progress, on_accept, on_redirect, on_reject;
    void (*destroy)(void *userdata);
};

typedef struct sipsess__creq sipsess__creq;
typedef struct sipsess__refer_sub sipsess__refer_sub;

/* The layer: one per UA. */
typedef struct sipsess__sl {
    sipsess__sl_config cfg;
    sipsess__loop *loop;
    sipsess__txl *txl;
    const sipsess__log *log;
    sipsess_ua *ua;               /* handed to callbacks, never dereferenced */
    sipsess__dtab dialogs;
    sipsess__dtab forking;        /* initial INVITEs taking more 2xx (accept_forks), by
                                     their dialog before any To tag: creq->tmpl */
    sipsess_session *sessions;    /* every session not yet freed */
    unsigned nsessions;           /* of those, not Terminated */
    sipsess_request *reqs;        /* every request handle alive */
    sipsess__creq *creqs;         /* every outgoing request in flight */
    sipsess_msgbuilder *mb;       /* scratch; never held across a callback */
    unsigned depth;               /* loop entries on the stack */
} sipsess__sl;

/* Kinds of incoming requests, for what answering them means. */
enum {
    SIPSESS__RQ_OOD = 0,     /* out of dialog (UA delegate) */
    SIPSESS__RQ_INVITE,      /* the INVITE that created the session */
    SIPSESS__RQ_REINVITE,
    SIPSESS__RQ_INDIALOG,    /* any other in-dialog request */
    SIPSESS__RQ_ACK,
    SIPSESS__RQ_CANCEL,
};

struct sipsess_request {
    unsigned refs;
    unsigned irefs;               /* of refs, the library's own (not "kept") */
    sipsess__sl *sl;              /* NULL once the UA is gone */
    sipsess_request *prev, *next; /* sl->reqs */
    sipsess_request *sprev, *snext; /* s->pend_in, while unanswered */
    bool spending;
    sipsess_session *s;           /* referenced, or NULL */
    sipsess__txn *st;             /* until the transaction ends (never for ACK) */
    sipsess_msg *msg;             /* referenced */
    sipsess_method method;
    int kind;                     /* SIPSESS__RQ_* */
    bool answered;
    bool no_sweep;                /* the BYE that ends the session answers itself */
    bool has_offer;               /* it carried an offer (RFC 3264) */
    bool no_refer_sub;            /* REFER with Refer-Sub: false (RFC 4488) */
    bool peer_100rel;             /* INVITE: Supported/Require 100rel */
    bool peer_requires_100rel;
    unsigned last_prov;
    uint32_t cseq;
    sipsess__timer t_kept;        /* 500 before the client gives up */
    sipsess_session *replaces;    /* INVITE with Replaces: the session (referenced) */
    sipsess__refer_sub *sub;      /* REFER accepted: its implicit subscription */
};

/* The implicit subscription of an accepted REFER (RFC 3515 §2.4.4). */
struct sipsess__refer_sub {
    sipsess__refer_sub *next;     /* s->subs */
    sipsess_session *s;           /* not referenced: the session frees its subs */
    uint32_t id;                  /* the REFER's CSeq (the ;id= of RFC 3515 §2.4.6) */
    bool with_id;
    bool terminated;
    unsigned last_status;         /* of the last NOTIFY's sipfrag */
    sipsess__timer t_expire;      /* the subscription's duration */
    unsigned refs;                /* the session's + a request handle's */
};

/* An outgoing request (in dialog, or the INVITE that creates sessions). */
struct sipsess__creq {
    sipsess__sl *sl;
    sipsess__creq *prev, *next;   /* sl->creqs */
    sipsess_session *s;           /* referenced; NULL for an orphan BYE */
    sipsess__txn *ct;             /* until its final response */
    sipsess_method method;
    uint32_t cseq;
    sipsess_response_delegate rd;
    void *rd_ud;
    bool owns_ud;                 /* rd.destroy(rd_ud) is ours to call: set once sent */
    bool initial;                 /* the session-creating INVITE */
    bool has_offer;
    bool cancelled;
    bool confirmed_one;           /* initial: a 2xx confirmed a session */
    /* initial, accept_forks: for 64*T1 after the first 2xx (§13.2.2.4)
     * the 2xx of other forks become sessions; `tmpl` (the dialog before
     * any To tag) is indexed in sl->forking meanwhile */
    bool lingering;
    sipsess__dialog tmpl;
    sipsess__timer t_linger;
    /* initial INVITE: every session it made (forks), referenced */
    sipsess_session **forks;
    size_t nforks;
    /* kept to retry a re-INVITE after 491 (§14.1); the initial INVITE's
     * offer with accept_forks (the offer of the forks made later) */
    char *body;
    size_t len;
    char *ctype;
    char *extra;
};

struct sipsess_session {
    unsigned refs;
    sipsess__sl *sl;              /* NULL once the UA is gone */
    sipsess_ua *ua;
    sipsess_session *prev, *next; /* sl->sessions, until freed */
    bool linked;
    bool live;                    /* counted in sl->nsessions (not Terminated) */
    bool terminating;
    bool cancelled_in;            /* the peer CANCELled our pending INVITE answer */
    sipsess_term_cause final_cause; /* cause for an end our own answer brings */
    bool outgoing;
    sipsess_session_state state;
    sipsess_term_cause cause;
    sipsess__dialog dlg;
    sipsess__oa oa;
    char *contact;                /* our Contact value */

    /* delegate */
    sipsess_session_delegate del;
    bool has_del;
    void *ud;
    void (*destroy)(void *ud);

    /* notifications: state changes and the end, in order */
    sipsess__timer t_notify;
    sipsess_session_state evq[16];
    unsigned nev;
    bool term_queued, term_done, flushing;

    /* incoming requests not answered yet */
    sipsess_request *pend_in;
    unsigned npend_in;
    sipsess_request *inv_req;     /* UAS: the INVITE (referenced) */
    sipsess_request *reinv_in;    /* the peer's re-INVITE until its ACK (referenced) */
    sipsess_request *ack_kept;    /* an ACK still being processed (not referenced) */

    /* UAS: our 2xx until its ACK (§13.3.1.4) */
    bool ack_wait;
    uint32_t ack_cseq;
    sipsess__txn *ack_st;
    sipsess_request *ack_req;     /* its INVITE's handle (held: keeps ack_st known) */
    uint64_t retx_ms;
    sipsess__timer t_2xx, t_ack;
    bool bye_after_ack;

    /* UAS: reliable provisional responses (RFC 3262 §3) */
    uint32_t rseq;
    bool rel_pending;
    bool rel_had_body;
    sipsess__txn *rel_st;
    sipsess_msg *rel_resp;
    uint64_t rel_ms;
    sipsess__timer t_rel, t_rel_to;

    /* UAC */
    sipsess__creq *inv;           /* the creating INVITE, while in flight */
    uint32_t inv_cseq;
    bool rseq_set;
    uint32_t last_rseq;           /* last reliable 1xx taken (RFC 3262 §4) */
    bool prack_due;
    uint32_t prack_rseq, prack_cseq;
    char *ack_bytes;              /* the ACK sent, resent for each 2xx copy */
    size_t ack_len;
    uint32_t acked_cseq;
    bool ack_due;                 /* a 2xx waits for our ACK */
    uint32_t ack_due_cseq;
    bool ack_due_reinvite;
    bool bye_sent;

    /* outgoing requests */
    unsigned nout;
    sipsess__creq *reinvite;      /* our re-INVITE until its final response */
    bool reinvite_acking;         /* its 2xx waits for the ACK */
    sipsess__creq *glare;         /* a re-INVITE to retry after 491 */
    sipsess__timer t_glare;

    /* REFER */
    sipsess__refer_sub *subs;
    unsigned nrefer_in;
};

/* ---- session.c ---- */
sipsess_session *sipsess__sess_alloc(sipsess__sl *sl, bool outgoing);
void sipsess__sess_hold(sipsess_session *s);
void sipsess__sess_release(sipsess_session *s);
void sipsess__sess_set_state(sipsess_session *s, sipsess_session_state st);
void sipsess__sess_terminate(sipsess_session *s, sipsess_term_cause cause);
bool sipsess__sess_alive(const sipsess_session *s);
/** Index the dialog (once its remote tag is known). */
int sipsess__sess_index(sipsess_session *s);
/** Our Contact for a listener ("<sip:user@host:port;transport=tcp>"). */
char *sipsess__sess_make_contact(sipsess__sl *sl, int listener, sipsess__proto proto);
void sipsess__sl_enter(sipsess__sl *sl);
void sipsess__sl_leave(sipsess__sl *sl);
/** Allow / Supported values of this UA. */
const char *sipsess__sl_allow(void);
const char *sipsess__sl_supported(const sipsess__sl *sl);

/* ---- request.c ---- */
int sipsess__req_new(sipsess__sl *sl, sipsess__txn *st, const sipsess_msg *ack,
                     sipsess_session *s, int kind, sipsess_request **out);
/** After a delegate callback: apply the default when the callback neither
 *  answered nor kept the request (or 500 on SIPSESS_ECALLBACK), then drop
 *  the callback's reference. `extra` goes with the default answer. */
void sipsess__req_after_cb(sipsess_request *req, int cb_rc, unsigned dflt, const char *extra);
/** Answer with everything; the common path of every answering function. */
int sipsess__req_respond(sipsess_request *req, unsigned status, const char *reason,
                         const char *extra, const void *body, size_t len, const char *ctype,
                         bool reliable);
/** The transaction of a handle ended (§17: nothing more can be sent). */
void sipsess__req_st_ended(sipsess_request *req);
void sipsess__req_detach_all(sipsess__sl *sl);
/** A Retry-After value for 500/491-type answers: 0-10 s (§14.2). */
void sipsess__retry_after(char *buf, size_t cap);

/* ---- uas.c ---- */
void sipsess__uas_in_dialog(sipsess_session *s, sipsess__txn *st);
void sipsess__uas_ack(sipsess_session *s, const sipsess__rx *rx);
void sipsess__uas_cancel(sipsess_session *s, sipsess__txn *cancel_st, sipsess_request *inv);
void sipsess__uas_start_2xx(sipsess_session *s, sipsess_request *req);
void sipsess__uas_stop_2xx(sipsess_session *s);
void sipsess__uas_start_rel(sipsess_session *s, sipsess__txn *st);
void sipsess__uas_stop_rel(sipsess_session *s);
void sipsess__uas_timers_init(sipsess_session *s);

/* ---- uac.c ---- */
/** Send a request in the session's dialog (or in `d` for an orphan). */
int sipsess__uac_send(sipsess_session *s, sipsess__dialog *d, const char *method,
                      const char *builtin, const char *extra, const void *body, size_t len,
                      const char *ctype, const sipsess_response_delegate *rd, void *rd_ud,
                      bool has_offer, sipsess__creq **out);
int sipsess__uac_ack(sipsess_session *s, const void *body, size_t len, const char *ctype);
void sipsess__uac_stray_2xx(sipsess__sl *sl, const sipsess__rx *rx);
void sipsess__creq_free(sipsess__creq *c);
void sipsess__uac_glare_cancel(sipsess_session *s);
int sipsess__uac_prack(sipsess_session *s, const void *body, size_t len, const char *ctype,
                       const char *extra, const sipsess_response_delegate *rd, void *ud);
int sipsess__uac_reinvite(sipsess_session *s, const void *body, size_t len, const char *ctype,
                          const char *extra, const sipsess_response_delegate *rd, void *ud);
bool sipsess__uac_reinvite_blocked(const sipsess_session *s);
bool sipsess__is_token(const char *m);
void sipsess__uac_timers_init(sipsess_session *s);
int sipsess__uac_bye(sipsess_session *s, const char *extra, const sipsess_response_delegate *rd,
                     void *rd_ud);

/* ---- refer.c ---- */
void sipsess__refer_accepted(sipsess_request *req);
void sipsess__refer_free_all(sipsess_session *s);
/** Stop the subscriptions' timers (the session ends or the UA goes). */
void sipsess__refer_stop_all(sipsess_session *s);

/* ---- for the UA core ---- */
int sipsess__sl_new(const sipsess__sl_config *cfg, sipsess__loop *loop, sipsess__txl *txl,
                    const sipsess__log *log, sipsess_ua *ua, sipsess__sl **out);
/** Terminate every session (UA_SHUTDOWN, delegates told now), detach
 *  every handle, drop every outgoing request. Before the txl is freed. */
void sipsess__sl_shutdown(sipsess__sl *sl);
void sipsess__sl_free(sipsess__sl *sl);
/** A request with a To tag: to its dialog. false when none matches (the
 *  UA answers 481, §12.2.2). */
bool sipsess__sl_in_dialog(sipsess__sl *sl, sipsess__txn *st);
/** CANCEL for an INVITE server transaction of a session; false when its
 *  target is not a session's. */
bool sipsess__sl_cancel(sipsess__sl *sl, sipsess__txn *cancel_st, sipsess__txn *target);
/** A new INVITE: a session (Initial) and its request handle (the caller's
 *  reference). Errors: ELIMIT (max sessions: the UA answers 503), ENOMEM;
 *  a negative status (-4xx) when the session layer answered it itself. */
int sipsess__sl_new_invite(sipsess__sl *sl, sipsess__txn *st, sipsess_session **s,
                           sipsess_request **req);
void sipsess__sl_ack(sipsess__sl *sl, const sipsess__rx *rx);
void sipsess__sl_stray_2xx(sipsess__sl *sl, const sipsess__rx *rx);
void sipsess__sl_st_end(sipsess__sl *sl, sipsess__txn *st, int err);
int sipsess__sl_invite(sipsess__sl *sl, const char *uri, const void *body, size_t len,
                       const char *content_type, const char *extra_headers,
                       const sipsess_response_delegate *rd, void *rd_userdata,
                       sipsess_session **out);
/** Whether an option tag in Require is one this UA implements. */
bool sipsess__sl_option_supported(const sipsess__sl *sl, sipsess_str tag);

/* small helpers */
typedef struct sipsess__sb {
    char *p;
    size_t len, cap;
    bool oom;
} sipsess__sb;
void sipsess__sb_add(sipsess__sb *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void sipsess__sb_free(sipsess__sb *b);
/** The text, or "" when empty (never NULL unless out of memory). */
const char *sipsess__sb_str(sipsess__sb *b);
void sipsess__req_ihold(sipsess_request *req);
void sipsess__req_irelease(sipsess_request *req);
bool sipsess__has_option(const sipsess_msg *m, sipsess_hdr_id id, const char *tag);
char *sipsess__cstrdup(const char *s);

#endif
