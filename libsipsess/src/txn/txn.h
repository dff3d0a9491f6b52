/*
 * Private transaction layer (RFC 3261 §17, RFC 6026): the four state
 * machines with their timers, matching of requests and responses to
 * transactions, CANCEL and ACK handling. Calls only the transport layer
 * below (through sipsess__txl_io so tests can capture what is sent) and
 * the transaction user (TU) above through sipsess__tu. Never installed.
 */
#ifndef SIPSESS__TXN_H
#define SIPSESS__TXN_H

#include "transport/transport.h"

typedef struct sipsess__txl sipsess__txl;
typedef struct sipsess__txn sipsess__txn;

typedef enum sipsess__txn_kind {
    SIPSESS__ICT = 1, /* INVITE client */
    SIPSESS__NICT,    /* non-INVITE client */
    SIPSESS__IST,     /* INVITE server */
    SIPSESS__NIST,    /* non-INVITE server */
} sipsess__txn_kind;

typedef enum sipsess__txn_state {
    SIPSESS__TS_CALLING = 1, /* ICT */
    SIPSESS__TS_TRYING,      /* NICT, NIST */
    SIPSESS__TS_PROCEEDING,
    SIPSESS__TS_COMPLETED,
    SIPSESS__TS_CONFIRMED,   /* IST */
    SIPSESS__TS_ACCEPTED,    /* ICT, IST (RFC 6026) */
    SIPSESS__TS_TERMINATED,
} sipsess__txn_state;

typedef struct sipsess__txn_timers {
    uint32_t t1, t2, t4;       /* ms; defaults 500, 4000, 5000 */
    uint32_t trying_100_ms;    /* IST: auto 100 Trying when the TU is silent (200) */
    uint32_t max_transactions; /* new server transactions past this get 503 (default 100000) */
} sipsess__txn_timers;

void sipsess__txn_timers_init(sipsess__txn_timers *t);

/** The TU: the UA core / dialog layer. Every callback may call back into
 *  the transaction layer (respond, create transactions). */
typedef struct sipsess__tu {
    /** A new server transaction (INVITE or non-INVITE, CANCEL included).
     *  The TU answers now or later with sipsess__st_respond. `rx` (and its
     *  msg) stay readable through sipsess__txn_request until the
     *  transaction is freed. */
    void (*request)(void *arg, sipsess__txn *st);
    /** An ACK that belongs to no INVITE server transaction in Completed
     *  (i.e. the ACK for a 2xx, also when it hits an IST in Accepted). */
    void (*ack)(void *arg, const sipsess__rx *rx);
    /** A 2xx to INVITE that matches no client transaction any more (a
     *  retransmission after Timer M, or a forked 2xx): the dialog layer
     *  ACKs it. */
    void (*stray_2xx)(void *arg, const sipsess__rx *rx);
    /** A server transaction ended (Terminated): `err` is 0 normally,
     *  SIPSESS_ETIMEDOUT when an IST never got its ACK (Timer H) or a 2xx
     *  was never ACKed (Timer L), SIPSESS_ETRANSPORT on a send failure.
     *  The txn pointer is invalid after the callback returns. */
    void (*st_end)(void *arg, sipsess__txn *st, int err);
} sipsess__tu;

/** How the layer sends; production uses the transport, tests may capture. */
typedef struct sipsess__txl_io {
    int (*route_request)(void *arg, const sipsess_uri *target, size_t len, sipsess__dest *d);
    int (*route_response)(void *arg, const sipsess__rx *rx, sipsess__dest *d);
    int64_t (*send)(void *arg, const sipsess__dest *d, const char *data, size_t len);
    sipsess_str (*sentby)(void *arg, int listener);
    bool (*reliable)(void *arg, const sipsess__dest *d);
    void *arg;
} sipsess__txl_io;

/** io: NULL = the transport `tp`. */
int sipsess__txl_new(sipsess__loop *l, sipsess__tp *tp, const sipsess__txl_io *io,
                     const sipsess__txn_timers *timers, const sipsess__tu *tu, void *tu_arg,
                     sipsess__txl **out);
/** Log sink (borrowed; must outlive txl). NULL = silent. */
void sipsess__txl_set_log(sipsess__txl *txl, const sipsess__log *log);
/** Frees every transaction without callbacks. */
void sipsess__txl_free(sipsess__txl *txl);

/** Entry points from the transport (the UA wires them to the tp callbacks). */
void sipsess__txl_on_rx(sipsess__txl *txl, sipsess__rx *rx);
void sipsess__txl_on_send_error(sipsess__txl *txl, uint64_t send_id, int err);

size_t sipsess__txl_count(const sipsess__txl *txl);

/* ---- client transactions ---- */

/** Final notification of a client transaction and every response before
 *  it. `resp` is NULL when `err` is SIPSESS_ETIMEDOUT (Timer B/F) or
 *  SIPSESS_ETRANSPORT. Called for each provisional response, each
 *  final response (and, for INVITE in Accepted, each further 2xx with a
 *  different To tag, i.e. forks). */
typedef void (*sipsess__ct_fn)(void *arg, sipsess__txn *ct, const sipsess_msg *resp, int err);

/**
 * Step 1: create a client transaction for a request to `next_hop` (first
 * Route URI, else the Request-URI) of `method`. Picks the destination and
 * a fresh branch. `est_len` is the request size estimate (§18.1.1 switch).
 * The TU then reads sipsess__ct_via() and puts it as the top Via.
 */
int sipsess__ct_new(sipsess__txl *txl, sipsess_method method, const sipsess_uri *next_hop,
                    size_t est_len, sipsess__ct_fn cb, void *arg, sipsess__txn **out);
/** The Via value for the request: "SIP/2.0/UDP host:port;branch=z9hG4bK...;rport". */
sipsess_str sipsess__ct_via(const sipsess__txn *ct);
/** Step 2: send the request bytes (copied and parsed: the transaction keeps
 *  the request to retransmit it and to build ACK/CANCEL). Starts timers.
 *  On error the transaction is freed without callback. */
int sipsess__ct_start(sipsess__txn *ct, const char *data, size_t len);
/** Abandon a client transaction before its final response (no callback). */
void sipsess__ct_abandon(sipsess__txn *ct);
/**
 * CANCEL for an INVITE client transaction in Proceeding (§9.1): builds the
 * CANCEL from the INVITE (same R-URI, top Via and branch, Call-ID, From,
 * To, CSeq number, Route) and sends it in a new NICT; `cb` gets the
 * CANCEL's responses. SIPSESS_ESTATE when no provisional response was
 * received yet (the CANCEL is then sent as soon as one arrives), or when
 * the INVITE has a final response.
 */
int sipsess__ct_cancel(sipsess__txn *ict, sipsess__ct_fn cb, void *arg);
/** As sipsess__ct_cancel, with header lines for the CANCEL ("Name:
 *  value\r\n...", copied; e.g. Reason, RFC 3326). */
int sipsess__ct_cancel_extra(sipsess__txn *ict, const char *extra, sipsess__ct_fn cb, void *arg);

/* ---- server transactions ---- */

/** Send a response built by the TU (status from the bytes); moves the
 *  machine (1xx: Proceeding; 2xx INVITE: Accepted; 3xx-6xx: Completed).
 *  Retransmitted 2xx in Accepted go through here too. */
int sipsess__st_respond(sipsess__txn *st, const char *data, size_t len);
/** Convenience: build and send a response to the request of `st` with
 *  status/reason (NULL = default), optional To tag and extra header
 *  lines ("Name: value\r\n..." or NULL). */
int sipsess__st_reply(sipsess__txn *st, unsigned status, const char *reason,
                      const char *to_tag, const char *extra);
/** For a CANCEL server transaction: the INVITE server transaction it
 *  cancels (§9.2 matching), or NULL (the TU answers 481). */
sipsess__txn *sipsess__st_cancel_target(sipsess__txl *txl, const sipsess__txn *cancel_st);

/**
 * §8.2.2.2 merged requests: another server transaction, not yet
 * Terminated, whose request has no To tag and the same From tag, Call-ID
 * and CSeq (number and method) as the request of `st`, which has no To tag
 * either — the same request reached this UA over another path (it did
 * not match that transaction by §17.2.3, or it would have been absorbed
 * as a retransmission). NULL when there is none, when `st`'s request has
 * a To tag, or for ACK and CANCEL (a CANCEL shares its INVITE's fields
 * but another method). O(1): a hash of the live server transactions
 * without To tag.
 */
sipsess__txn *sipsess__st_merged(sipsess__txl *txl, const sipsess__txn *st);

/* ---- outside any transaction (stateless.c) ---- */

/** Where a request to `next_hop` goes (as sipsess__ct_new picks it). A TCP
 *  connection in `d` is referenced: sipsess__txl_dest_release drops it. */
int sipsess__txl_route(sipsess__txl *txl, const sipsess_uri *next_hop, size_t est_len,
                       sipsess__dest *d);
/** A Via value with a fresh branch for a request sent to `d` outside any
 *  transaction (the ACK of a 2xx, §13.2.2.4). ENOSPC when `cap` is short. */
int sipsess__txl_via(sipsess__txl *txl, const sipsess__dest *d, char *buf, size_t cap);
/** Send bytes to `d` without a transaction. */
int sipsess__txl_send(sipsess__txl *txl, const sipsess__dest *d, const char *data, size_t len);
void sipsess__txl_dest_release(sipsess__dest *d);
/** The sent-by ("host:port") of a listener, for Contact headers. */
sipsess_str sipsess__txl_sentby(const sipsess__txl *txl, int listener);
/** The local listener and protocol of a transaction: where a server
 *  transaction's request arrived, where a client's request leaves from. */
int sipsess__txn_local(const sipsess__txn *t, int *listener, sipsess__proto *proto);
/** As sipsess__st_reply, with a body (copied; `ctype` its Content-Type). */
int sipsess__st_reply_body(sipsess__txn *st, unsigned status, const char *reason,
                           const char *to_tag, const char *extra, const void *body, size_t len,
                           const char *ctype);

/* ---- any transaction ---- */
sipsess__txn_kind sipsess__txn_get_kind(const sipsess__txn *t);
sipsess__txn_state sipsess__txn_get_state(const sipsess__txn *t);
/** The request (received for servers, sent for clients). */
const sipsess_msg *sipsess__txn_request(const sipsess__txn *t);
/** The received request's transport facts (servers). */
const sipsess__rx *sipsess__txn_rx(const sipsess__txn *t);
/** The last response sent (server) or received (client), or NULL. */
const sipsess_msg *sipsess__txn_last_response(const sipsess__txn *t);
sipsess_str sipsess__txn_branch(const sipsess__txn *t);
/** A pointer the TU hangs on the transaction. */
void sipsess__txn_set_user(sipsess__txn *t, void *user);
void *sipsess__txn_get_user(const sipsess__txn *t);
const char *sipsess__txn_state_name(sipsess__txn_state s);

#endif
