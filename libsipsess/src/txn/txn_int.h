/*
 * Private shapes of the transaction layer, shared by the files of
 * src/txn/ only: the layer object, the transaction object, the hash table
 * that indexes transactions, and the functions one file of the layer
 * offers another. Never installed; nothing outside src/txn/ includes it.
 *
 * Lifetime rule. A transaction is never freed while a frame of this layer
 * still points at it: every path that may call into the TU (which may call
 * back into the layer, abandon the transaction, or end it) holds a
 * reference (sipsess__tx_hold / sipsess__tx_release). Ending a
 * transaction only unlinks it (from the hash table, its timers, the live
 * count); the memory goes with the last reference.
 */
#ifndef SIPSESS__TXN_INT_H
#define SIPSESS__TXN_INT_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "sipsess/msg.h"
#include "runtime/log.h"
#include "runtime/loop.h"
#include "txn/txn.h"

/* The magic cookie of RFC 3261 §8.1.1.7: a branch starting with it was
 * made unique by an RFC 3261 element, so §17.2.3 matches on it. */
#define SIPSESS__TX_COOKIE "z9hG4bK"
#define SIPSESS__TX_COOKIE_LEN 7
/* Random characters after the cookie (>= 16 asked; 20 of [A-Za-z0-9]
 * carry about 119 bits). */
#define SIPSESS__TX_BRANCH_RAND 20

/* Timer D floor for unreliable transports (§17.1.1.2: "at least 32
 * seconds"). */
#define SIPSESS__TX_TIMER_D_MS 32000u

/* ---- hash table ----
 * Nodes live inside the transactions (no allocation per insert), chained
 * per bucket. Each node carries its full 64-bit hash and a key type, so a
 * lookup compares the stored hash first and calls the (costlier) match
 * predicate only for real candidates. The table doubles when it holds more
 * nodes than buckets, so chains stay O(1) on average; the hash is SipHash
 * with a per-layer random key, so a peer cannot choose branches that all
 * land in one bucket. */
typedef enum sipsess__tx_key {
    SIPSESS__TXK_CLIENT = 'C', /* client txn: branch (+ method in predicate) */
    SIPSESS__TXK_SERVER = 'S', /* server txn, cookie: branch + sent-by */
    SIPSESS__TXK_2543 = 'D',   /* server txn, no cookie: Call-ID, From tag, CSeq
                                  number, top Via (RFC 2543 rules) */
    SIPSESS__TXK_ACCEPTED = 'A', /* IST in Accepted (cookie): Call-ID, From tag,
                                    CSeq number, for the ACK of its 2xx */
    SIPSESS__TXK_SEND = 'I',   /* send id of the last message sent */
    SIPSESS__TXK_MERGE = 'G',  /* server txn whose request has no To tag: Call-ID,
                                  From tag, CSeq number and method (§8.2.2.2) */
} sipsess__tx_key;

typedef struct sipsess__tx_node {
    struct sipsess__tx_node *next;
    uint64_t hash;
    sipsess__txn *t;
    uint8_t type; /* sipsess__tx_key */
    bool linked;
} sipsess__tx_node;

typedef struct sipsess__tx_tab {
    sipsess__tx_node **b;
    size_t nb; /* power of two */
    size_t n;
} sipsess__tx_tab;

/* The fields of a request that §17.2.3 (both its RFC 3261 and its RFC 2543
 * rules) and §9.2 compare, read once. Views point into the message. */
typedef struct sipsess__tx_reqkey {
    const sipsess_msg *msg;
    sipsess_method method;
    sipsess_str mname;         /* method as written (extension methods) */
    const sipsess_hdr *via;    /* top Via */
    sipsess_str branch;
    sipsess_str host;          /* sent-by host */
    unsigned port;             /* sent-by port, default filled in */
    sipsess_str transport;
    bool cookie;
    sipsess_str callid;
    sipsess_str from_tag;
    sipsess_str to_tag;
    uint32_t cseq;
    bool has_cseq;
} sipsess__tx_reqkey;

struct sipsess__txl {
    sipsess__loop *loop;
    sipsess__txl_io io;
    sipsess__txn_timers tm;
    sipsess__tu tu;
    void *tu_arg;
    const sipsess__log *log;
    sipsess__tx_tab tab;
    uint64_t sipkey[2];
    sipsess__txn *all;          /* every transaction not yet freed */
    size_t live;                /* not yet Terminated */
    unsigned depth;             /* entry points on the stack */
    bool free_pending;          /* sipsess__txl_free called from a callback */
    sipsess_msgbuilder *mb;     /* scratch builder; never held across a callback */
};

struct sipsess__txn {
    sipsess__txl *txl;
    sipsess__txn *prev, *next;  /* txl->all */
    unsigned refs;
    uint8_t kind;               /* sipsess__txn_kind */
    uint8_t state;              /* sipsess__txn_state */
    bool server;
    bool reliable;
    bool ended;                 /* Terminated: unlinked, waiting for the last reference */
    bool started;               /* client: request sent */
    bool detached;              /* client: abandoned, no more TU callbacks */
    bool tu_answered;           /* IST: the TU sent a response (no automatic 100) */
    bool acked;                 /* IST Accepted: an ACK for the 2xx was seen */
    bool cancel_pending;        /* ICT: CANCEL asked for before any provisional */
    bool cancel_sent;           /* ICT: CANCEL already sent */
    int end_err;                /* code of a deferred end */

    sipsess_method method;
    sipsess_str mname;          /* method as written (points into req) */
    sipsess_str branch;         /* client: branch_buf; server: into the request */

    sipsess_msg *req;           /* sent request (client) / received one (server) */
    sipsess__rx rx;             /* server: the request as received (owns msg, conn) */
    sipsess__tx_reqkey k;       /* server: matching fields of the request */
    sipsess_msg *last_resp;     /* last response sent (server) or received (client) */

    /* client */
    sipsess__dest dest;
    bool has_dest;
    sipsess__ct_fn cb;
    void *cb_arg;
    sipsess__ct_fn cancel_cb;   /* pending CANCEL (§9.1: only after a provisional) */
    void *cancel_arg;
    char *cancel_extra;         /* header lines for that CANCEL (NULL: none) */
    char *ack;                  /* ICT: the ACK for the non-2xx final (§17.1.1.3) */
    size_t ack_len;
    char *via;                  /* the Via value the TU puts on top */
    size_t via_len;
    char branch_buf[SIPSESS__TX_COOKIE_LEN + SIPSESS__TX_BRANCH_RAND + 1];

    /* timers: retransmission (A, E, G), timeout (B, F, H), the wait that
     * ends the transaction (D, K, I, J, L, M, and deferred ends), and the
     * IST's automatic 100 Trying */
    sipsess__timer t_retx, t_timeout, t_end, t_100;
    uint64_t retx_ms;

    sipsess__tx_node hn_main;   /* CLIENT or SERVER key */
    sipsess__tx_node hn_dlg;    /* 2543 or ACCEPTED key (server) */
    sipsess__tx_node hn_send;   /* SEND key */
    sipsess__tx_node hn_merge;  /* MERGE key (server, request without To tag) */
    uint64_t send_id;

    void *user;
};

static inline bool sipsess__tx_str_eq(sipsess_str a, sipsess_str b)
{
    return a.len == b.len && (a.len == 0 || memcmp(a.p, b.p, a.len) == 0);
}

/* ---- txn.c: lifetime, sending, shared helpers ---- */
/** A zeroed transaction with its timers and hash nodes set up. */
sipsess__txn *sipsess__tx_alloc(void);
void sipsess__tx_hold(sipsess__txn *t);
void sipsess__tx_release(sipsess__txn *t);
/** Link a new transaction into the layer (list, live count). */
void sipsess__tx_link(sipsess__txl *txl, sipsess__txn *t);
/** Move to Terminated now: unhash, stop timers, drop from the live count,
 *  then tell the TU (`notify`): st_end for servers, the ct callback with
 *  `err` for clients when err != 0. Frees when nobody holds it. */
void sipsess__tx_end(sipsess__txn *t, int err, bool notify);
/** Terminated now, but the TU hears of it from the loop (a 0 ms timer):
 *  used when the cause is found inside a call made by the TU, so the
 *  transaction stays valid until that call has returned. */
void sipsess__tx_end_later(sipsess__txn *t, int err);
/** Start / stop a timer of `t` on the layer's loop. */
void sipsess__tx_timer(sipsess__txn *t, sipsess__timer *tm, uint64_t ms);
void sipsess__tx_stop_timers(sipsess__txn *t);
/** Send bytes to `d`; records the send id (for asynchronous errors).
 *  Returns 0 or a negative error. */
int sipsess__tx_send(sipsess__txn *t, const sipsess__dest *d, const char *data, size_t len);
/** Enter / leave an entry point of the layer (rx, timers, send errors). */
void sipsess__tx_enter(sipsess__txl *txl);
void sipsess__tx_leave(sipsess__txl *txl);
/** Drop a received message that no transaction keeps. */
void sipsess__tx_rx_drop(sipsess__rx *rx);
bool sipsess__tx_is_bad(const sipsess_hdr *h);

/* ---- match.c: hashing and matching ---- */
int sipsess__tx_tab_init(sipsess__txl *txl);
void sipsess__tx_tab_free(sipsess__txl *txl);
void sipsess__tx_unhash(sipsess__txn *t, sipsess__tx_node *n);
void sipsess__tx_hash_client(sipsess__txn *t);
void sipsess__tx_hash_server(sipsess__txn *t);
void sipsess__tx_hash_send(sipsess__txn *t, uint64_t id);
/** A new server transaction whose request has no To tag: index it for
 *  sipsess__st_merged (§8.2.2.2). */
void sipsess__tx_hash_merge(sipsess__txn *t);
/** An IST entering Accepted: index it for the ACK of its 2xx. */
void sipsess__tx_hash_accepted(sipsess__txn *t);
/** Fill `k` from a received request. */
void sipsess__tx_reqkey_read(const sipsess_msg *msg, sipsess__tx_reqkey *k);
/** §17.1.3: the client transaction of a response, or NULL. */
sipsess__txn *sipsess__tx_match_response(sipsess__txl *txl, const sipsess_msg *resp);
/** §17.2.3: the server transaction of a request, or NULL. */
sipsess__txn *sipsess__tx_match_request(sipsess__txl *txl, const sipsess__tx_reqkey *k);
/** RFC 6026: the IST in Accepted whose 2xx an ACK (with its own branch)
 *  acknowledges, or NULL. */
sipsess__txn *sipsess__tx_match_2xx_ack(sipsess__txl *txl, const sipsess__tx_reqkey *k);
sipsess__txn *sipsess__tx_match_send(sipsess__txl *txl, uint64_t id);
bool sipsess__tx_same_method(sipsess_method a, sipsess_str an, sipsess_method b, sipsess_str bn);

/* ---- build.c: messages the layer writes itself ---- */
/** The ACK for a non-2xx final response (§17.1.1.3), in a new heap buffer. */
int sipsess__tx_build_ack(sipsess__txl *txl, const sipsess_msg *req, const sipsess_msg *resp,
                          char **out, size_t *out_len);
/** The CANCEL for an INVITE (§9.1), in a new heap buffer. */
int sipsess__tx_build_cancel(sipsess__txl *txl, const sipsess_msg *inv, char **out,
                             size_t *out_len);
/** The same with extra header lines ("Name: value\r\n...", may be NULL),
 *  such as a Reason (RFC 3326). */
int sipsess__tx_build_cancel_extra(sipsess__txl *txl, const sipsess_msg *inv, const char *extra,
                                   char **out, size_t *out_len);
/** A response to the request of `rx` (§8.2.6) with received/rport on the
 *  top Via (§18.2.1, RFC 3581), parsed into a new message. */
int sipsess__tx_build_reply(sipsess__txl *txl, const sipsess__rx *rx, unsigned status,
                            const char *reason, const char *to_tag, const char *extra,
                            sipsess_msg **out);
/** The same with a body (NULL: none) and its Content-Type. */
int sipsess__tx_build_reply_body(sipsess__txl *txl, const sipsess__rx *rx, unsigned status,
                                 const char *reason, const char *to_tag, const char *extra,
                                 const void *body, size_t len, const char *ctype,
                                 sipsess_msg **out);

/* ---- client.c / ict.c / nict.c ---- */
void sipsess__tx_client_on_response(sipsess__txn *t, const sipsess__rx *rx);
void sipsess__tx_ict_on_response(sipsess__txn *t, const sipsess__rx *rx);
void sipsess__tx_nict_on_response(sipsess__txn *t, const sipsess__rx *rx);
void sipsess__tx_ict_start(sipsess__txn *t);
void sipsess__tx_nict_start(sipsess__txn *t);
void sipsess__tx_ict_retx(sipsess__txn *t);
void sipsess__tx_nict_retx(sipsess__txn *t);
/** Deliver a response to the TU (not when abandoned). */
void sipsess__tx_ct_notify(sipsess__txn *t, const sipsess_msg *resp, int err);
/** ICT: send the CANCEL held back until a provisional arrived. */
void sipsess__tx_ict_send_pending_cancel(sipsess__txn *t);

/* ---- server.c / ist.c / nist.c ---- */
/** A new request: match it, absorb it, or create a server transaction. */
void sipsess__tx_server_on_request(sipsess__txl *txl, sipsess__rx *rx);
/** Send a response message on a server transaction; `from_tu`: called by
 *  the TU (errors then end the transaction later, from the loop). Takes
 *  the message reference. */
int sipsess__tx_st_send_response(sipsess__txn *t, sipsess_msg *resp, bool from_tu);
/** (Re)send the last response; on failure end with ETRANSPORT. */
void sipsess__tx_st_resend(sipsess__txn *t);
int sipsess__tx_ist_respond(sipsess__txn *t, sipsess_msg *resp, bool from_tu);
int sipsess__tx_nist_respond(sipsess__txn *t, sipsess_msg *resp, bool from_tu);
void sipsess__tx_ist_on_request(sipsess__txn *t, sipsess__rx *rx);
void sipsess__tx_nist_on_request(sipsess__txn *t, sipsess__rx *rx);
void sipsess__tx_ist_retx(sipsess__txn *t);
void sipsess__tx_ist_auto_100(sipsess__txn *t);
void sipsess__tx_ist_start(sipsess__txn *t);

#endif
