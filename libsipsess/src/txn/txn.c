/*
 * Transaction layer core (RFC 3261 §17): the layer object, the life of a
 * transaction (references, ending, freeing), the timers' dispatch, the
 * entry points the transport calls (received messages, asynchronous send
 * failures) and the accessors of txn.h. The four state machines live in
 * ict.c, nict.c, ist.c and nist.c; matching in match.c; the messages the
 * layer writes itself (ACK, CANCEL, 100, 503) in build.c.
 */
#include <string.h>

#include "runtime/mem.h"
#include "txn/txn_int.h"

void sipsess__txn_timers_init(sipsess__txn_timers *t)
{
    if (!t)
        return;
    /* §17.1.1.1 / Table 4 defaults; 200 ms for the automatic 100 Trying
     * (§17.2.1); the transaction limit protects memory from floods. */
    t->t1 = 500;
    t->t2 = 4000;
    t->t4 = 5000;
    t->trying_100_ms = 200;
    /* A call keeps two server transactions for 64*T1 (32 s) after it ends
     * (INVITE in Accepted, BYE in Completed): 100000 carries ~1500 calls/s
     * sustained with default timers. */
    t->max_transactions = 100000;
}

/* ------------------------------------------------------------------ */
/* Default io: the transport itself.                                   */

static int dio_route_request(void *arg, const sipsess_uri *target, size_t len, sipsess__dest *d)
{
    return sipsess__tp_route_request(arg, target, len, d);
}

static int dio_route_response(void *arg, const sipsess__rx *rx, sipsess__dest *d)
{
    return sipsess__tp_route_response(arg, rx, d);
}

static int64_t dio_send(void *arg, const sipsess__dest *d, const char *data, size_t len)
{
    return sipsess__tp_send(arg, d, data, len);
}

static sipsess_str dio_sentby(void *arg, int listener)
{
    return sipsess__tp_sentby(arg, listener);
}

/* §17.1.1.2 / §17.1.2.2: only TCP (and TLS/SCTP, which we lack) is
 * reliable; UDP and the in-memory datagram transport are not. */
static bool dio_reliable(void *arg, const sipsess__dest *d)
{
    (void)arg;
    return d->remote.proto == SIPSESS__TCP;
}

/* ------------------------------------------------------------------ */
/* The layer                                                           */

int sipsess__txl_new(sipsess__loop *l, sipsess__tp *tp, const sipsess__txl_io *io,
                     const sipsess__txn_timers *timers, const sipsess__tu *tu, void *tu_arg,
                     sipsess__txl **out)
{
    if (!l || !tu || !tu->request || !out || (!io && !tp))
        return SIPSESS_EINVAL;
    if (io && (!io->route_request || !io->route_response || !io->send || !io->sentby))
        return SIPSESS_EINVAL;
    sipsess__txn_timers tm;
    sipsess__txn_timers_init(&tm);
    if (timers)
        tm = *timers;
    /* T1 is the base of every doubling; T2 caps them (§17.1.2.2). */
    if (tm.t1 == 0 || tm.t2 < tm.t1)
        return SIPSESS_EINVAL;

    sipsess__txl *txl = sipsess__calloc(1, sizeof *txl);
    if (!txl)
        return SIPSESS_ENOMEM;
    txl->loop = l;
    txl->tm = tm;
    txl->tu = *tu;
    txl->tu_arg = tu_arg;
    if (io) {
        txl->io = *io;
    } else {
        txl->io.route_request = dio_route_request;
        txl->io.route_response = dio_route_response;
        txl->io.send = dio_send;
        txl->io.sentby = dio_sentby;
        txl->io.reliable = dio_reliable;
        txl->io.arg = tp;
    }
    if (!txl->io.reliable)
        txl->io.reliable = dio_reliable;
    int rc = sipsess__random(txl->sipkey, sizeof txl->sipkey);
    if (rc == 0)
        rc = sipsess__tx_tab_init(txl);
    if (rc == 0)
        rc = sipsess_msgbuilder_new(&txl->mb);
    if (rc) {
        sipsess__tx_tab_free(txl);
        sipsess__free(txl);
        return rc;
    }
    *out = txl;
    return SIPSESS_OK;
}

void sipsess__txl_set_log(sipsess__txl *txl, const sipsess__log *log)
{
    if (txl)
        txl->log = log;
}

static void tx_destroy(sipsess__txn *t);

static void txl_really_free(sipsess__txl *txl)
{
    while (txl->all)
        tx_destroy(txl->all);
    sipsess__tx_tab_free(txl);
    sipsess_msgbuilder_free(txl->mb);
    sipsess__free(txl);
}

void sipsess__txl_free(sipsess__txl *txl)
{
    if (!txl)
        return;
    /* Called from inside a TU callback: frames of this layer below still
     * use the layer, so the free waits until the outermost one returns. */
    if (txl->depth > 0) {
        txl->free_pending = true;
        return;
    }
    txl_really_free(txl);
}

size_t sipsess__txl_count(const sipsess__txl *txl)
{
    return txl ? txl->live : 0;
}

void sipsess__tx_enter(sipsess__txl *txl)
{
    txl->depth++;
}

void sipsess__tx_leave(sipsess__txl *txl)
{
    if (--txl->depth == 0 && txl->free_pending)
        txl_really_free(txl);
}

/* ------------------------------------------------------------------ */
/* Life of a transaction                                               */

void sipsess__tx_link(sipsess__txl *txl, sipsess__txn *t)
{
    t->txl = txl;
    t->prev = NULL;
    t->next = txl->all;
    if (txl->all)
        txl->all->prev = t;
    txl->all = t;
    txl->live++;
}

static void tx_destroy(sipsess__txn *t)
{
    sipsess__txl *txl = t->txl;
    sipsess__tx_stop_timers(t);
    sipsess__tx_unhash(t, &t->hn_main);
    sipsess__tx_unhash(t, &t->hn_dlg);
    sipsess__tx_unhash(t, &t->hn_send);
    sipsess__tx_unhash(t, &t->hn_merge);
    if (t->state != SIPSESS__TS_TERMINATED)
        txl->live--;
    if (t->prev)
        t->prev->next = t->next;
    else
        txl->all = t->next;
    if (t->next)
        t->next->prev = t->prev;
    if (t->server) {
        /* The received request: its message reference and connection. */
        sipsess_msg_free(t->rx.msg);
        if (t->rx.conn)
            sipsess__conn_unref(t->rx.conn);
    } else {
        sipsess_msg_free(t->req);
        if (t->has_dest && t->dest.conn)
            sipsess__conn_unref(t->dest.conn);
    }
    sipsess_msg_free(t->last_resp);
    sipsess__free(t->ack);
    sipsess__free(t->via);
    sipsess__free(t->cancel_extra);
    sipsess__free(t);
}

void sipsess__tx_hold(sipsess__txn *t)
{
    t->refs++;
}

void sipsess__tx_release(sipsess__txn *t)
{
    if (--t->refs == 0 && t->ended)
        tx_destroy(t);
}

void sipsess__tx_stop_timers(sipsess__txn *t)
{
    sipsess__loop *l = t->txl->loop;
    sipsess__timer_stop(l, &t->t_retx);
    sipsess__timer_stop(l, &t->t_timeout);
    sipsess__timer_stop(l, &t->t_end);
    sipsess__timer_stop(l, &t->t_100);
}

void sipsess__tx_timer(sipsess__txn *t, sipsess__timer *tm, uint64_t ms)
{
    int rc = sipsess__timer_start(t->txl->loop, tm, ms);
    if (rc)
        SIPSESS__LOG(t->txl->log, SIPSESS_LOG_ERROR,
                     "txn %.*s: cannot start a timer (%s)", (int)t->branch.len, t->branch.p,
                     sipsess_strerror(rc));
}

/* Terminated in the machine's sense: no longer matched, no timers, not
 * counted. Idempotent. */
static void tx_unlink(sipsess__txn *t)
{
    if (t->state == SIPSESS__TS_TERMINATED)
        return;
    t->state = SIPSESS__TS_TERMINATED;
    sipsess__tx_stop_timers(t);
    sipsess__tx_unhash(t, &t->hn_main);
    sipsess__tx_unhash(t, &t->hn_dlg);
    sipsess__tx_unhash(t, &t->hn_send);
    sipsess__tx_unhash(t, &t->hn_merge);
    t->txl->live--;
}

void sipsess__tx_end(sipsess__txn *t, int err, bool notify)
{
    if (t->ended)
        return;
    sipsess__txl *txl = t->txl;
    tx_unlink(t);
    sipsess__timer_stop(txl->loop, &t->t_end); /* a deferred end pending */
    t->ended = true;
    sipsess__tx_hold(t);
    if (notify && !txl->free_pending) {
        if (t->server) {
            if (txl->tu.st_end)
                txl->tu.st_end(txl->tu_arg, t, err);
        } else if (err) {
            sipsess__tx_ct_notify(t, NULL, err);
        }
    }
    sipsess__tx_release(t);
}

void sipsess__tx_end_later(sipsess__txn *t, int err)
{
    if (t->ended || t->state == SIPSESS__TS_TERMINATED)
        return;
    tx_unlink(t);
    t->end_err = err;
    sipsess__tx_timer(t, &t->t_end, 0);
}

int sipsess__tx_send(sipsess__txn *t, const sipsess__dest *d, const char *data, size_t len)
{
    sipsess__txl *txl = t->txl;
    int64_t id = txl->io.send(txl->io.arg, d, data, len);
    if (id < 0) {
        SIPSESS__LOG(txl->log, SIPSESS_LOG_WARN, "txn %.*s: send failed (%s)",
                     (int)t->branch.len, t->branch.p, sipsess_strerror((int)id));
        return (int)id;
    }
    /* Only the last send of a transaction is indexed: an asynchronous
     * failure (TCP) of an older one is followed by the failure of the
     * newer one on the same connection. */
    if (id > 0)
        sipsess__tx_hash_send(t, (uint64_t)id);
    return SIPSESS_OK;
}

void sipsess__tx_rx_drop(sipsess__rx *rx)
{
    sipsess_msg_free(rx->msg);
    rx->msg = NULL;
    if (rx->conn)
        sipsess__conn_unref(rx->conn);
    rx->conn = NULL;
}

bool sipsess__tx_is_bad(const sipsess_hdr *h)
{
    return !h || sipsess_hdr_is_bad(h);
}

/* ------------------------------------------------------------------ */
/* Timers                                                              */

/* Retransmission timers: A (ICT), E (NICT), G (IST). */
static void on_retx(sipsess__timer *tm, void *arg)
{
    (void)tm;
    sipsess__txn *t = arg;
    sipsess__txl *txl = t->txl;
    sipsess__tx_enter(txl);
    sipsess__tx_hold(t);
    switch (t->kind) {
    case SIPSESS__ICT:
        sipsess__tx_ict_retx(t);
        break;
    case SIPSESS__NICT:
        sipsess__tx_nict_retx(t);
        break;
    case SIPSESS__IST:
        sipsess__tx_ist_retx(t);
        break;
    default:
        break;
    }
    sipsess__tx_release(t);
    sipsess__tx_leave(txl);
}

/* Transaction timeouts: B (ICT Calling), F (NICT Trying/Proceeding),
 * H (IST Completed). Each reports SIPSESS_ETIMEDOUT (§17.1.1.2,
 * §17.1.2.2, §17.2.1). */
static void on_timeout(sipsess__timer *tm, void *arg)
{
    (void)tm;
    sipsess__txn *t = arg;
    sipsess__txl *txl = t->txl;
    sipsess__tx_enter(txl);
    SIPSESS__LOG(txl->log, SIPSESS_LOG_INFO, "txn %.*s: timer %c fired in %s",
                 (int)t->branch.len, t->branch.p,
                 t->kind == SIPSESS__ICT ? 'B' : t->kind == SIPSESS__NICT ? 'F' : 'H',
                 sipsess__txn_state_name((sipsess__txn_state)t->state));
    sipsess__tx_end(t, SIPSESS_ETIMEDOUT, true);
    sipsess__tx_leave(txl);
}

/* The waits that end a transaction: D and M (ICT), K (NICT), I and L
 * (IST), J (NIST), and ends deferred out of a TU call. */
static void on_end(sipsess__timer *tm, void *arg)
{
    (void)tm;
    sipsess__txn *t = arg;
    sipsess__txl *txl = t->txl;
    int err = 0;
    if (t->state == SIPSESS__TS_TERMINATED)
        err = t->end_err;
    else if (t->kind == SIPSESS__IST && t->state == SIPSESS__TS_ACCEPTED && !t->acked)
        /* Timer L with no ACK seen for the 2xx: txn.h reports it. */
        err = SIPSESS_ETIMEDOUT;
    sipsess__tx_enter(txl);
    sipsess__tx_end(t, err, true);
    sipsess__tx_leave(txl);
}

static void on_100(sipsess__timer *tm, void *arg)
{
    (void)tm;
    sipsess__txn *t = arg;
    sipsess__txl *txl = t->txl;
    sipsess__tx_enter(txl);
    sipsess__tx_hold(t);
    sipsess__tx_ist_auto_100(t);
    sipsess__tx_release(t);
    sipsess__tx_leave(txl);
}

sipsess__txn *sipsess__tx_alloc(void)
{
    sipsess__txn *t = sipsess__calloc(1, sizeof *t);
    if (!t)
        return NULL;
    sipsess__timer_init(&t->t_retx, on_retx, t);
    sipsess__timer_init(&t->t_timeout, on_timeout, t);
    sipsess__timer_init(&t->t_end, on_end, t);
    sipsess__timer_init(&t->t_100, on_100, t);
    t->hn_main.t = t->hn_dlg.t = t->hn_send.t = t->hn_merge.t = t;
    return t;
}

/* ------------------------------------------------------------------ */
/* Entry points from the transport                                     */

/* §17.1.3 / RFC 6026 §8.4: a response that matches no client
 * transaction is dropped, except a 2xx to INVITE: forks and late
 * retransmissions of the 2xx belong to the dialog layer, which ACKs. */
static void on_stray_response(sipsess__txl *txl, const sipsess__rx *rx)
{
    const sipsess_msg *m = rx->msg;
    unsigned status = sipsess_msg_status(m);
    const sipsess_hdr *cseq = sipsess_msg_hdr(m, SIPSESS_HDR_CSEQ, 0);
    if (status >= 200 && status < 300 && !sipsess__tx_is_bad(cseq) &&
        sipsess_cseq_method(cseq) == SIPSESS_METHOD_INVITE) {
        if (txl->tu.stray_2xx && !txl->free_pending)
            txl->tu.stray_2xx(txl->tu_arg, rx);
        return;
    }
    SIPSESS__LOG(txl->log, SIPSESS_LOG_DEBUG, "txn: stray %u response dropped", status);
}

void sipsess__txl_on_rx(sipsess__txl *txl, sipsess__rx *rx)
{
    if (!rx)
        return;
    if (!txl || !rx->msg) {
        sipsess__tx_rx_drop(rx);
        return;
    }
    sipsess__tx_enter(txl);
    if (sipsess_msg_is_request(rx->msg)) {
        sipsess__tx_server_on_request(txl, rx); /* takes rx */
    } else {
        sipsess__txn *t = sipsess__tx_match_response(txl, rx->msg);
        if (t) {
            sipsess__tx_hold(t);
            sipsess__tx_client_on_response(t, rx);
            sipsess__tx_release(t);
        } else {
            on_stray_response(txl, rx);
        }
        sipsess__tx_rx_drop(rx);
    }
    sipsess__tx_leave(txl);
}

void sipsess__txl_on_send_error(sipsess__txl *txl, uint64_t send_id, int err)
{
    if (!txl)
        return;
    sipsess__tx_enter(txl);
    sipsess__txn *t = sipsess__tx_match_send(txl, send_id);
    if (t) {
        SIPSESS__LOG(txl->log, SIPSESS_LOG_WARN, "txn %.*s: transport error in %s (%s)",
                     (int)t->branch.len, t->branch.p,
                     sipsess__txn_state_name((sipsess__txn_state)t->state),
                     sipsess_strerror(err));
        /* A client that has its final response has told the TU all it
         * will: a lost ACK (ICT Completed) or a late error just ends it
         * quietly. Everything else is the "Transport Err." arc of
         * Figures 5-8: inform the TU, go to Terminated. */
        bool quiet = !t->server && (t->state == SIPSESS__TS_COMPLETED ||
                                    t->state == SIPSESS__TS_ACCEPTED);
        sipsess__tx_end(t, SIPSESS_ETRANSPORT, !quiet);
    }
    sipsess__tx_leave(txl);
}

/* ------------------------------------------------------------------ */
/* Accessors                                                           */

sipsess__txn_kind sipsess__txn_get_kind(const sipsess__txn *t)
{
    return t ? (sipsess__txn_kind)t->kind : (sipsess__txn_kind)0;
}

sipsess__txn_state sipsess__txn_get_state(const sipsess__txn *t)
{
    return t ? (sipsess__txn_state)t->state : SIPSESS__TS_TERMINATED;
}

const sipsess_msg *sipsess__txn_request(const sipsess__txn *t)
{
    return t ? t->req : NULL;
}

const sipsess__rx *sipsess__txn_rx(const sipsess__txn *t)
{
    return t && t->server ? &t->rx : NULL;
}

const sipsess_msg *sipsess__txn_last_response(const sipsess__txn *t)
{
    return t ? t->last_resp : NULL;
}

sipsess_str sipsess__txn_branch(const sipsess__txn *t)
{
    sipsess_str none = {NULL, 0};
    return t ? t->branch : none;
}

void sipsess__txn_set_user(sipsess__txn *t, void *user)
{
    if (t)
        t->user = user;
}

void *sipsess__txn_get_user(const sipsess__txn *t)
{
    return t ? t->user : NULL;
}

const char *sipsess__txn_state_name(sipsess__txn_state s)
{
    switch (s) {
    case SIPSESS__TS_CALLING:
        return "Calling";
    case SIPSESS__TS_TRYING:
        return "Trying";
    case SIPSESS__TS_PROCEEDING:
        return "Proceeding";
    case SIPSESS__TS_COMPLETED:
        return "Completed";
    case SIPSESS__TS_CONFIRMED:
        return "Confirmed";
    case SIPSESS__TS_ACCEPTED:
        return "Accepted";
    case SIPSESS__TS_TERMINATED:
        return "Terminated";
    }
    return "?";
}
