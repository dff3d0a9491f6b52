/*
 * Private dialog layer (RFC 3261 §12): the dialog identity (Call-ID,
 * local tag, remote tag), the local and remote CSeq, the route set and
 * the remote target, the building of requests inside a dialog (§12.2.1.1,
 * loose and strict routing) and an O(1) table of dialogs by identity.
 * Calls only the syntax layer (messages, builder) below it; the session
 * layer above owns dialogs. Never installed.
 */
#ifndef SIPSESS__DIALOG_H
#define SIPSESS__DIALOG_H

#include <stdbool.h>
#include <stdint.h>

#include "sipsess/msg.h"

typedef struct sipsess__dialog sipsess__dialog;

struct sipsess__dialog {
    /* table link */
    sipsess__dialog *hnext;
    uint64_t hash;
    bool hashed;

    bool uac;          /* we sent the request that created it */
    bool confirmed;    /* a 2xx made it; else early (§12.1) */
    char *call_id;
    char *local_tag;   /* never NULL once initialised */
    char *remote_tag;  /* "" until known (UAC before a tagged response) */
    char *local_hdr;   /* our From (UAC) / To (UAS) value, with our tag */
    char *remote_hdr;  /* the peer's, with its tag when it has one */
    char *local_uri;   /* the URIs of those two, as text */
    char *remote_uri;
    char *target;      /* remote target (§12.1.1: the peer's Contact) */
    sipsess_uri *target_uri;
    char **routes;     /* route set: Route values in the order to send */
    sipsess_uri **route_uris;
    size_t nroutes;
    uint32_t local_cseq;  /* last CSeq we used */
    uint32_t remote_cseq; /* last CSeq the peer used; valid if remote_cseq_set */
    bool remote_cseq_set;
    void *owner;          /* the session */
};

/* ---- dialog table ---- */
typedef struct sipsess__dtab {
    sipsess__dialog **b;
    size_t nb; /* power of two */
    size_t n;
    uint64_t key[2];
} sipsess__dtab;

int sipsess__dtab_init(sipsess__dtab *t);
void sipsess__dtab_free(sipsess__dtab *t);
/** Dialog by identity in O(1): `local`/`remote` tags as this UA sees them
 *  (a request from the peer: To tag, From tag; a response: From, To). */
sipsess__dialog *sipsess__dtab_find(const sipsess__dtab *t, sipsess_str call_id,
                                    sipsess_str local_tag, sipsess_str remote_tag);
/** Index (once its remote tag is known); grows the table. ENOMEM. */
int sipsess__dtab_insert(sipsess__dtab *t, sipsess__dialog *d);
void sipsess__dtab_remove(sipsess__dtab *t, sipsess__dialog *d);

/* ---- creation ---- */

/**
 * UAC side before any response (§12.1.2 fills the rest from it):
 * `local_hdr` is our From value with its tag, `remote_hdr` the To value,
 * `target` the Request-URI, `cseq` the INVITE's CSeq number.
 */
int sipsess__dialog_init_uac(sipsess__dialog *d, const char *call_id, const char *local_hdr,
                             const char *local_tag, const char *remote_hdr,
                             const char *target, uint32_t cseq);
/** Copy of a UAC dialog for another fork (same identity but the remote
 *  tag, which the next response sets). */
int sipsess__dialog_clone_uac(sipsess__dialog *d, const sipsess__dialog *from);
/**
 * A tagged 1xx or a 2xx to the INVITE (§12.1.2, §13.2.2.4): remote tag and
 * To value, remote target from Contact, route set from Record-Route in
 * reverse order. A 2xx confirms the dialog; after that the route set is
 * fixed (§12.2) and only the target is refreshed.
 */
int sipsess__dialog_uac_response(sipsess__dialog *d, const sipsess_msg *resp);
/**
 * UAS side from the INVITE (§12.1.1): Record-Route in order is the route
 * set, Contact the target, From the remote side, To plus `local_tag` our
 * side, the INVITE's CSeq the remote sequence number.
 */
int sipsess__dialog_init_uas(sipsess__dialog *d, const sipsess_msg *req, const char *local_tag);
void sipsess__dialog_clear(sipsess__dialog *d);

/* ---- in the dialog ---- */

/**
 * A request received in the dialog (§12.2.2): a CSeq lower than the last
 * one is out of order → 500 (returned; nothing changes); otherwise the
 * remote CSeq moves on (ACK and CANCEL carry the INVITE's and do not
 * count). Returns 0 or the status to answer.
 */
unsigned sipsess__dialog_rx_request(sipsess__dialog *d, const sipsess_msg *req);
/** Target refresh (§12.2: re-INVITE, UPDATE, their 2xx; RFC 3311):
 *  the remote target becomes the message's Contact, when it has one. */
int sipsess__dialog_refresh_target(sipsess__dialog *d, const sipsess_msg *m);
/** The URI the next request goes to: the first route when it is loose,
 *  the Request-URI otherwise (§12.2.1.1, §8.1.2). */
const sipsess_uri *sipsess__dialog_next_hop(const sipsess__dialog *d);
/** The next local CSeq (§12.2.1.1: "incremented by one"). */
uint32_t sipsess__dialog_next_cseq(sipsess__dialog *d);
/**
 * Start a request in the dialog (§12.2.1.1): Request-URI and Route by
 * loose or strict routing, the Via given, Max-Forwards, From and To with
 * tags, Call-ID, CSeq `cseq` `method`. The caller adds the rest and
 * finishes. Errors: EINVAL, ENOMEM, EURI.
 */
int sipsess__dialog_build(const sipsess__dialog *d, sipsess_msgbuilder *mb, const char *method,
                          uint32_t cseq, sipsess_str via);

/** Helpers for the layer above: a NUL-terminated copy of a view (folding
 *  turned into one space, §7.3.1), NULL on ENOMEM. */
char *sipsess__dlg_strdup(sipsess_str s);

#endif
