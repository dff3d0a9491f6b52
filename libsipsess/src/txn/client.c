/*
 * Client transactions, the part both machines share (RFC 3261 §17.1):
 * creation with a fresh branch (§8.1.1.7) and destination (§18.1.1),
 * start, abandon, CANCEL (§9.1), and the hand-over of responses to the
 * INVITE (ict.c) or non-INVITE (nict.c) machine.
 */
#include <stdio.h>
#include <string.h>

#include "runtime/mem.h"
#include "syntax/syntax.h"
#include "txn/txn_int.h"

static sipsess__txn *ct_alloc(sipsess__txl *txl, sipsess_method method, sipsess__ct_fn cb,
                              void *arg)
{
    sipsess__txn *t = sipsess__tx_alloc();
    if (!t)
        return NULL;
    t->txl = txl;
    t->method = method;
    t->kind = method == SIPSESS_METHOD_INVITE ? SIPSESS__ICT : SIPSESS__NICT;
    /* The initial states of Figures 5 and 6 (entered when the request is
     * passed to the transport, here by sipsess__ct_start). */
    t->state = t->kind == SIPSESS__ICT ? SIPSESS__TS_CALLING : SIPSESS__TS_TRYING;
    t->cb = cb;
    t->cb_arg = arg;
    return t;
}

/* "SIP/2.0/<TRANSPORT> <sent-by>;branch=<branch>;rport": RFC 3581 §3
 * asks for rport on requests so responses follow NATs. */
static int make_via(sipsess__txn *t)
{
    sipsess__txl *txl = t->txl;
    const char *tok = sipsess__tp_proto_token((sipsess__proto)t->dest.remote.proto);
    sipsess_str sb = txl->io.sentby(txl->io.arg, t->dest.listener);
    if (!tok || !tok[0] || !sb.p)
        return SIPSESS_EINVAL;
    size_t cap = strlen("SIP/2.0/ ;branch=;rport") + strlen(tok) + sb.len +
                 strlen(t->branch_buf) + 1;
    t->via = sipsess__malloc(cap);
    if (!t->via)
        return SIPSESS_ENOMEM;
    int n = snprintf(t->via, cap, "SIP/2.0/%s %.*s;branch=%s;rport", tok, (int)sb.len, sb.p,
                     t->branch_buf);
    t->via_len = (size_t)n;
    return SIPSESS_OK;
}

int sipsess__ct_new(sipsess__txl *txl, sipsess_method method, const sipsess_uri *next_hop,
                    size_t est_len, sipsess__ct_fn cb, void *arg, sipsess__txn **out)
{
    /* An ACK is never a transaction (§17.1.1.3, §13.2.2.4); a CANCEL is
     * made by sipsess__ct_cancel, which reuses the INVITE's branch. */
    if (!txl || !next_hop || !out || method == SIPSESS_METHOD_ACK ||
        method == SIPSESS_METHOD_CANCEL)
        return SIPSESS_EINVAL;
    sipsess__txn *t = ct_alloc(txl, method, cb, arg);
    if (!t)
        return SIPSESS_ENOMEM;
    int rc = txl->io.route_request(txl->io.arg, next_hop, est_len, &t->dest);
    if (rc) {
        sipsess__free(t);
        return rc;
    }
    t->has_dest = true;
    t->reliable = txl->io.reliable(txl->io.arg, &t->dest);
    /* §8.1.1.7: the cookie, then enough randomness that the branch is
     * unique across space and time. */
    memcpy(t->branch_buf, SIPSESS__TX_COOKIE, SIPSESS__TX_COOKIE_LEN);
    rc = sipsess__random_token(t->branch_buf + SIPSESS__TX_COOKIE_LEN, SIPSESS__TX_BRANCH_RAND);
    t->branch_buf[SIPSESS__TX_COOKIE_LEN + SIPSESS__TX_BRANCH_RAND] = '\0';
    t->branch = sipsess__str_c(t->branch_buf);
    if (rc == 0)
        rc = make_via(t);
    if (rc) {
        if (t->dest.conn)
            sipsess__conn_unref(t->dest.conn);
        sipsess__free(t->via);
        sipsess__free(t);
        return rc;
    }
    sipsess__tx_link(txl, t);
    *out = t;
    return SIPSESS_OK;
}

sipsess_str sipsess__ct_via(const sipsess__txn *ct)
{
    sipsess_str none = {NULL, 0};
    if (!ct || ct->server || !ct->via)
        return none;
    return sipsess__str(ct->via, ct->via_len);
}

/* Parse, check and send the request of a new client transaction; the
 * machine's timers start once it is on its way. No callback on failure:
 * the caller learns from the return value. */
static int ct_launch(sipsess__txn *t, const char *data, size_t len)
{
    sipsess_msg *m = NULL;
    int rc = sipsess_msg_parse(data, len, NULL, &m, NULL);
    if (rc)
        return rc;
    const sipsess_hdr *via = sipsess_msg_hdr(m, SIPSESS_HDR_VIA, 0);
    sipsess_method mm = sipsess_msg_method(m);
    /* The request must be the one the transaction was made for, with the
     * transaction's branch on top: responses are matched by it. */
    if (!sipsess_msg_is_request(m) || mm != t->method || !via ||
        !sipsess__tx_str_eq(sipsess_via_branch(via), t->branch)) {
        sipsess_msg_free(m);
        return SIPSESS_EINVAL;
    }
    t->req = m;
    t->mname = sipsess_msg_method_name(m);
    t->started = true;
    sipsess__tx_hash_client(t);
    sipsess_str raw = sipsess_msg_raw(m);
    rc = sipsess__tx_send(t, &t->dest, raw.p, raw.len);
    if (rc)
        return SIPSESS_ETRANSPORT;
    if (t->kind == SIPSESS__ICT)
        sipsess__tx_ict_start(t);
    else
        sipsess__tx_nict_start(t);
    return SIPSESS_OK;
}

int sipsess__ct_start(sipsess__txn *ct, const char *data, size_t len)
{
    if (!ct || ct->server || !data)
        return SIPSESS_EINVAL;
    if (ct->started || ct->state == SIPSESS__TS_TERMINATED)
        return SIPSESS_ESTATE;
    int rc = ct_launch(ct, data, len);
    if (rc)
        sipsess__tx_end(ct, rc, false);
    return rc;
}

void sipsess__ct_abandon(sipsess__txn *ct)
{
    if (!ct || ct->server || ct->ended)
        return;
    /* The TU loses interest; the protocol duties go on where the RFC has
     * them: Completed keeps ACKing retransmitted finals (ICT, §17.1.1.2)
     * or absorbing them (NICT), Accepted keeps absorbing 2xx and hands
     * them to the dialog layer as strays (RFC 6026 §8.4). Before the
     * final response there is nothing left to do for a TU that no longer
     * listens (a TU that wants an INVITE stopped sends a CANCEL). */
    if (ct->started &&
        (ct->state == SIPSESS__TS_COMPLETED || ct->state == SIPSESS__TS_ACCEPTED)) {
        ct->detached = true;
        ct->cancel_pending = false;
        return;
    }
    sipsess__tx_end(ct, 0, false);
}

void sipsess__tx_ct_notify(sipsess__txn *t, const sipsess_msg *resp, int err)
{
    if (t->detached || !t->cb || t->txl->free_pending)
        return;
    sipsess__tx_hold(t);
    t->cb(t->cb_arg, t, resp, err);
    sipsess__tx_release(t);
}

void sipsess__tx_client_on_response(sipsess__txn *t, const sipsess__rx *rx)
{
    if (t->state == SIPSESS__TS_TERMINATED)
        return;
    if (t->kind == SIPSESS__ICT)
        sipsess__tx_ict_on_response(t, rx);
    else
        sipsess__tx_nict_on_response(t, rx);
}

/* ------------------------------------------------------------------ */
/* CANCEL (§9.1)                                                       */

/* A NICT for the CANCEL of `ict`: same branch and destination as the
 * INVITE ("the CANCEL request ... MUST have a top Via matching the
 * request being cancelled"; sent where the INVITE went). `notify_fail`:
 * report a send failure through `cb` (a CANCEL sent later, from a
 * response) rather than to the caller. */
static int send_cancel(sipsess__txn *ict, sipsess__ct_fn cb, void *arg, bool notify_fail)
{
    sipsess__txl *txl = ict->txl;
    char *bytes = NULL;
    size_t len = 0;
    int rc = sipsess__tx_build_cancel_extra(txl, ict->req, ict->cancel_extra, &bytes, &len);
    if (rc)
        return rc;
    sipsess__txn *c = ct_alloc(txl, SIPSESS_METHOD_CANCEL, cb, arg);
    if (!c) {
        sipsess__free(bytes);
        return SIPSESS_ENOMEM;
    }
    c->dest = ict->dest;
    if (c->dest.conn)
        sipsess__conn_ref(c->dest.conn);
    c->has_dest = true;
    c->reliable = ict->reliable;
    memcpy(c->branch_buf, ict->branch_buf, sizeof c->branch_buf);
    c->branch = sipsess__str_c(c->branch_buf);
    sipsess__tx_link(txl, c);
    ict->cancel_sent = true;
    rc = ct_launch(c, bytes, len);
    sipsess__free(bytes);
    if (rc)
        sipsess__tx_end(c, SIPSESS_ETRANSPORT, notify_fail);
    return rc;
}

int sipsess__ct_cancel_extra(sipsess__txn *ict, const char *extra, sipsess__ct_fn cb, void *arg)
{
    if (!ict || ict->kind != SIPSESS__ICT)
        return SIPSESS_EINVAL;
    if (!ict->started || ict->cancel_sent || ict->cancel_pending ||
        (ict->state != SIPSESS__TS_CALLING && ict->state != SIPSESS__TS_PROCEEDING))
        return sipsess__ct_cancel(ict, cb, arg);
    if (extra && *extra) {
        size_t n = strlen(extra);
        ict->cancel_extra = sipsess__malloc(n + 1);
        if (!ict->cancel_extra)
            return SIPSESS_ENOMEM;
        memcpy(ict->cancel_extra, extra, n + 1);
    }
    return sipsess__ct_cancel(ict, cb, arg);
}

int sipsess__ct_cancel(sipsess__txn *ict, sipsess__ct_fn cb, void *arg)
{
    if (!ict || ict->kind != SIPSESS__ICT)
        return SIPSESS_EINVAL;
    if (!ict->started || (ict->state != SIPSESS__TS_CALLING &&
                          ict->state != SIPSESS__TS_PROCEEDING))
        return SIPSESS_ESTATE;
    if (ict->cancel_sent)
        return SIPSESS_EBUSY;
    if (ict->state == SIPSESS__TS_CALLING) {
        /* §9.1: "If no provisional response has been received, the CANCEL
         * request MUST NOT be sent; rather, the client MUST wait for the
         * arrival of a provisional response before sending the request."
         * It goes out from sipsess__tx_ict_send_pending_cancel. */
        ict->cancel_pending = true;
        ict->cancel_cb = cb;
        ict->cancel_arg = arg;
        return SIPSESS_ESTATE;
    }
    return send_cancel(ict, cb, arg, false);
}

void sipsess__tx_ict_send_pending_cancel(sipsess__txn *t)
{
    if (!t->cancel_pending || t->cancel_sent || t->state != SIPSESS__TS_PROCEEDING)
        return;
    t->cancel_pending = false;
    int rc = send_cancel(t, t->cancel_cb, t->cancel_arg, true);
    if (rc && rc != SIPSESS_ETRANSPORT)
        SIPSESS__LOG(t->txl->log, SIPSESS_LOG_ERROR, "txn %.*s: cannot build CANCEL (%s)",
                     (int)t->branch.len, t->branch.p, sipsess_strerror(rc));
}
