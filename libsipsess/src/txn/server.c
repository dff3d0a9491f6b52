/*
 * Server transactions, the part both machines share (RFC 3261 §17.2):
 * what a received request becomes (a retransmission absorbed by its
 * transaction, an ACK, a new transaction, or a 503 at the limit), and the
 * sending of responses (§17.2.1 / §17.2.2 hand them to the transport,
 * which routes them by §18.2.2).
 */
#include "runtime/mem.h"
#include "txn/txn_int.h"

/* RFC 3261 §21.5.4 lets a 503 say when to come back; a few seconds lets a
 * burst drain without sending the client elsewhere for long. */
#define RETRY_AFTER_S "5"

/* Send `m` as a response to the request of `rx`, without a transaction. */
static int send_stateless(sipsess__txl *txl, const sipsess__rx *rx, const sipsess_msg *m)
{
    sipsess__dest d = {0};
    int rc = txl->io.route_response(txl->io.arg, rx, &d);
    if (rc)
        return rc;
    sipsess_str raw = sipsess_msg_raw(m);
    int64_t id = txl->io.send(txl->io.arg, &d, raw.p, raw.len);
    if (d.conn)
        sipsess__conn_unref(d.conn);
    return id < 0 ? (int)id : SIPSESS_OK;
}

/* Past max_transactions a new request is refused with 503 + Retry-After
 * (§21.5.4) by this layer, without a transaction: the point is to keep
 * memory bounded under a flood. A To tag is added as §8.2.6.2 asks. */
static void reject_503(sipsess__txl *txl, const sipsess__rx *rx)
{
    char tag[11];
    sipsess_msg *m = NULL;
    int rc = sipsess__random_token(tag, sizeof tag - 1);
    tag[sizeof tag - 1] = '\0';
    if (rc == 0)
        rc = sipsess__tx_build_reply(txl, rx, 503, NULL, tag, "Retry-After: " RETRY_AFTER_S,
                                     &m);
    if (rc == 0)
        rc = send_stateless(txl, rx, m);
    sipsess_msg_free(m);
    SIPSESS__LOG(txl->log, SIPSESS_LOG_WARN, "txn: %zu transactions, request refused with 503%s",
                 txl->live, rc ? " (not sent)" : "");
}

static sipsess__txn *st_create(sipsess__rx *rx, const sipsess__tx_reqkey *k)
{
    sipsess__txn *t = sipsess__tx_alloc();
    if (!t)
        return NULL;
    t->server = true;
    t->method = k->method;
    t->mname = k->mname;
    t->kind = k->method == SIPSESS_METHOD_INVITE ? SIPSESS__IST : SIPSESS__NIST;
    /* Figure 7 starts in Proceeding, Figure 8 in Trying. */
    t->state = t->kind == SIPSESS__IST ? SIPSESS__TS_PROCEEDING : SIPSESS__TS_TRYING;
    t->rx = *rx; /* takes the message reference and the connection */
    t->req = rx->msg;
    t->k = *k;
    t->branch = k->branch;
    t->reliable = rx->reliable;
    rx->msg = NULL;
    rx->conn = NULL;
    return t;
}

void sipsess__tx_server_on_request(sipsess__txl *txl, sipsess__rx *rx)
{
    sipsess__tx_reqkey k;
    sipsess__tx_reqkey_read(rx->msg, &k);
    /* No Via, no way to send a response (§18.2.2): nothing to do but drop,
     * unless it is an ACK, which never gets one. */
    if (!k.via && k.method != SIPSESS_METHOD_ACK) {
        SIPSESS__LOG(txl->log, SIPSESS_LOG_INFO, "txn: request without Via dropped");
        sipsess__tx_rx_drop(rx);
        return;
    }
    sipsess__txn *t = sipsess__tx_match_request(txl, &k);
    if (t) {
        sipsess__tx_hold(t);
        if (t->kind == SIPSESS__IST)
            sipsess__tx_ist_on_request(t, rx);
        else
            sipsess__tx_nist_on_request(t, rx);
        sipsess__tx_release(t);
        sipsess__tx_rx_drop(rx);
        return;
    }
    if (k.method == SIPSESS_METHOD_ACK) {
        /* An ACK outside any transaction: the ACK for a 2xx (it has its
         * own branch, §13.2.2.4), or a stray one. The dialog layer
         * decides; note first whether it acknowledges an IST in Accepted
         * (RFC 6026), for Timer L's report. */
        sipsess__txn *a = sipsess__tx_match_2xx_ack(txl, &k);
        if (a)
            a->acked = true;
        if (txl->tu.ack && !txl->free_pending)
            txl->tu.ack(txl->tu_arg, rx);
        sipsess__tx_rx_drop(rx);
        return;
    }
    if (txl->tm.max_transactions && txl->live >= txl->tm.max_transactions) {
        reject_503(txl, rx);
        sipsess__tx_rx_drop(rx);
        return;
    }
    t = st_create(rx, &k);
    if (!t) {
        SIPSESS__LOG(txl->log, SIPSESS_LOG_ERROR, "txn: out of memory, request dropped");
        sipsess__tx_rx_drop(rx);
        return;
    }
    sipsess__tx_link(txl, t);
    sipsess__tx_hash_server(t);
    sipsess__tx_hash_merge(t);
    if (t->kind == SIPSESS__IST)
        sipsess__tx_ist_start(t);
    /* A request with a recoverable parse error gets its transaction too:
     * the TU answers it (400, 505, ...) through it. */
    sipsess__tx_hold(t);
    txl->tu.request(txl->tu_arg, t);
    sipsess__tx_release(t);
}

/* ------------------------------------------------------------------ */
/* Responses                                                           */

static int st_send(sipsess__txn *t, const sipsess_msg *m)
{
    sipsess__txl *txl = t->txl;
    sipsess__dest d = {0};
    /* Routed for each send: a TCP connection may have closed meanwhile,
     * and §18.2.2 then falls back to the Via (received/rport) address. */
    int rc = txl->io.route_response(txl->io.arg, &t->rx, &d);
    if (rc == 0) {
        sipsess_str raw = sipsess_msg_raw(m);
        rc = sipsess__tx_send(t, &d, raw.p, raw.len);
        if (d.conn)
            sipsess__conn_unref(d.conn);
    }
    return rc;
}

static void st_fail(sipsess__txn *t, bool from_tu)
{
    /* "Transport Err. / Inform TU" (Figures 7, 8). From inside a TU call
     * the TU hears of it once that call has returned. */
    if (from_tu)
        sipsess__tx_end_later(t, SIPSESS_ETRANSPORT);
    else
        sipsess__tx_end(t, SIPSESS_ETRANSPORT, true);
}

int sipsess__tx_st_send_response(sipsess__txn *t, sipsess_msg *resp, bool from_tu)
{
    sipsess_msg_free(t->last_resp);
    t->last_resp = resp;
    if (st_send(t, resp)) {
        st_fail(t, from_tu);
        return SIPSESS_ETRANSPORT;
    }
    return SIPSESS_OK;
}

void sipsess__tx_st_resend(sipsess__txn *t)
{
    if (t->last_resp && st_send(t, t->last_resp))
        st_fail(t, false);
}

static int st_dispatch(sipsess__txn *t, sipsess_msg *m)
{
    if (t->kind == SIPSESS__IST)
        return sipsess__tx_ist_respond(t, m, true);
    return sipsess__tx_nist_respond(t, m, true);
}

int sipsess__st_respond(sipsess__txn *st, const char *data, size_t len)
{
    if (!st || !st->server || !data)
        return SIPSESS_EINVAL;
    if (st->state == SIPSESS__TS_TERMINATED)
        return SIPSESS_ESTATE;
    /* Lenient, as for the layer's own replies: a 400 to a malformed
     * request repeats its malformed fields and must still go out. */
    sipsess_parse_opts o;
    sipsess_parse_opts_init(&o);
    o.flags |= SIPSESS_PARSE_LENIENT;
    o.max_msg_size = UINT32_MAX;
    sipsess_msg *m = NULL;
    int rc = sipsess_msg_parse(data, len, &o, &m, NULL);
    if (rc)
        return rc;
    if (sipsess_msg_is_request(m)) {
        sipsess_msg_free(m);
        return SIPSESS_EINVAL;
    }
    return st_dispatch(st, m);
}

int sipsess__st_reply(sipsess__txn *st, unsigned status, const char *reason,
                      const char *to_tag, const char *extra)
{
    if (!st || !st->server)
        return SIPSESS_EINVAL;
    if (st->state == SIPSESS__TS_TERMINATED)
        return SIPSESS_ESTATE;
    sipsess_msg *m = NULL;
    int rc = sipsess__tx_build_reply(st->txl, &st->rx, status, reason, to_tag, extra, &m);
    if (rc)
        return rc;
    return st_dispatch(st, m);
}

int sipsess__st_reply_body(sipsess__txn *st, unsigned status, const char *reason,
                           const char *to_tag, const char *extra, const void *body, size_t len,
                           const char *ctype)
{
    if (!st || !st->server || (!body && len))
        return SIPSESS_EINVAL;
    if (st->state == SIPSESS__TS_TERMINATED)
        return SIPSESS_ESTATE;
    sipsess_msg *m = NULL;
    int rc = sipsess__tx_build_reply_body(st->txl, &st->rx, status, reason, to_tag, extra, body,
                                          len, ctype, &m);
    if (rc)
        return rc;
    return st_dispatch(st, m);
}
