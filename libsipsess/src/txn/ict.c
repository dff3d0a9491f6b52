/*
 * INVITE client transaction: RFC 3261 §17.1.1 (Figure 5) as corrected by
 * RFC 6026 §7.2 / §8.4 (Figure 5 revised):
 *
 *   Calling --1xx--> Proceeding --1xx--> Proceeding
 *   Calling/Proceeding --2xx--> Accepted (Timer M; every further 2xx to the TU)
 *   Calling/Proceeding --3xx-6xx--> Completed (ACK sent, Timer D)
 *   Calling --Timer B--> Terminated (ETIMEDOUT)
 *   Completed --Timer D--> Terminated, Accepted --Timer M--> Terminated
 *
 * Timer A retransmits the INVITE in Calling over unreliable transports,
 * starting at T1 and doubling each time (§17.1.1.2).
 */
#include "runtime/mem.h"
#include "txn/txn_int.h"

void sipsess__tx_ict_start(sipsess__txn *t)
{
    const sipsess__txn_timers *tm = &t->txl->tm;
    /* "If an unreliable transport is being used, the client transaction
     * MUST start timer A with a value of T1. [...] For any transport, the
     * client transaction MUST start timer B with a value of 64*T1." */
    if (!t->reliable) {
        t->retx_ms = tm->t1;
        sipsess__tx_timer(t, &t->t_retx, t->retx_ms);
    }
    sipsess__tx_timer(t, &t->t_timeout, 64ull * tm->t1);
}

/* Timer A: retransmit, then re-arm at twice the interval (no cap: the
 * INVITE schedule is T1, 2T1, 4T1, ... until Timer B, §17.1.1.2). */
void sipsess__tx_ict_retx(sipsess__txn *t)
{
    if (t->state != SIPSESS__TS_CALLING)
        return;
    sipsess_str raw = sipsess_msg_raw(t->req);
    if (sipsess__tx_send(t, &t->dest, raw.p, raw.len)) {
        sipsess__tx_end(t, SIPSESS_ETRANSPORT, true);
        return;
    }
    t->retx_ms *= 2;
    sipsess__tx_timer(t, &t->t_retx, t->retx_ms);
}

static void keep_response(sipsess__txn *t, const sipsess_msg *resp)
{
    sipsess_msg_free(t->last_resp);
    t->last_resp = sipsess_msg_ref((sipsess_msg *)resp);
}

/* (Re)send the ACK of Completed; a failure ends the transaction quietly:
 * the TU already has the final response. */
static void send_ack(sipsess__txn *t)
{
    if (!t->ack)
        return;
    if (sipsess__tx_send(t, &t->dest, t->ack, t->ack_len))
        sipsess__tx_end(t, SIPSESS_ETRANSPORT, false);
}

static void on_final_non2xx(sipsess__txn *t, const sipsess_msg *resp)
{
    const sipsess__txn_timers *tm = &t->txl->tm;
    sipsess__timer_stop(t->txl->loop, &t->t_retx);
    sipsess__timer_stop(t->txl->loop, &t->t_timeout);
    t->cancel_pending = false; /* §9.1: nothing left to cancel */
    t->state = SIPSESS__TS_COMPLETED;
    keep_response(t, resp);
    /* §17.1.1.3: the ACK is built once (its To is the response's, which
     * every retransmission repeats) and sent again for each
     * retransmission of the response. */
    int rc = sipsess__tx_build_ack(t->txl, t->req, resp, &t->ack, &t->ack_len);
    if (rc)
        SIPSESS__LOG(t->txl->log, SIPSESS_LOG_ERROR, "txn %.*s: cannot build ACK (%s)",
                     (int)t->branch.len, t->branch.p, sipsess_strerror(rc));
    /* Timer D: "at least 32 seconds for unreliable transports, and a value
     * of zero seconds for reliable transports". It covers the server's
     * retransmissions, which last 64*T1 (Timer H), so a larger T1
     * lengthens it. */
    uint64_t d = 64ull * tm->t1;
    if (d < SIPSESS__TX_TIMER_D_MS)
        d = SIPSESS__TX_TIMER_D_MS;
    sipsess__tx_timer(t, &t->t_end, t->reliable ? 0 : d);
    send_ack(t);
    /* The TU gets the response even when the ACK could not be sent (the
     * transaction is then already Terminated). */
    sipsess__tx_ct_notify(t, resp, 0);
}

void sipsess__tx_ict_on_response(sipsess__txn *t, const sipsess__rx *rx)
{
    const sipsess_msg *resp = rx->msg;
    unsigned st = sipsess_msg_status(resp);
    sipsess__txl *txl = t->txl;
    switch (t->state) {
    case SIPSESS__TS_CALLING:
    case SIPSESS__TS_PROCEEDING:
        if (st < 200) {
            /* Proceeding: no more retransmissions; Timer B only ever
             * fires in Calling, so it stops too (Figure 5). */
            sipsess__timer_stop(txl->loop, &t->t_retx);
            sipsess__timer_stop(txl->loop, &t->t_timeout);
            t->state = SIPSESS__TS_PROCEEDING;
            keep_response(t, resp);
            sipsess__tx_ct_notify(t, resp, 0);
            sipsess__tx_ict_send_pending_cancel(t);
        } else if (st < 300) {
            /* RFC 6026 §8.4: Accepted, Timer M = 64*T1; the ACK for a 2xx
             * is the TU's (§13.2.2.4). */
            sipsess__timer_stop(txl->loop, &t->t_retx);
            sipsess__timer_stop(txl->loop, &t->t_timeout);
            t->cancel_pending = false;
            t->state = SIPSESS__TS_ACCEPTED;
            keep_response(t, resp);
            sipsess__tx_timer(t, &t->t_end, 64ull * txl->tm.t1);
            sipsess__tx_ct_notify(t, resp, 0);
        } else {
            on_final_non2xx(t, resp);
        }
        break;
    case SIPSESS__TS_COMPLETED:
        /* "Any retransmissions of the final response that are received
         * while in the Completed state MUST cause the ACK to be re-passed
         * to the transport layer for retransmission, but the newly
         * received response MUST NOT be passed up to the TU." */
        if (st >= 300) {
            send_ack(t);
        } else if (st >= 200 && txl->tu.stray_2xx && !txl->free_pending) {
            /* A proxy forwards a 2xx even after it forwarded a final
             * (§16.7 step 5): the TU has its final already, so the 2xx
             * is the dialog layer's to ACK and end, like any stray 2xx
             * (RFC 6026 §8.4). */
            txl->tu.stray_2xx(txl->tu_arg, rx);
        }
        break;
    case SIPSESS__TS_ACCEPTED:
        /* RFC 6026 §8.4: "2xx response received: pass to TU" —
         * retransmissions (the TU ACKs each) and forks alike. Once the TU
         * abandoned the transaction they reach the dialog layer as
         * strays. */
        if (st >= 200 && st < 300) {
            keep_response(t, resp);
            if (t->detached) {
                if (txl->tu.stray_2xx && !txl->free_pending)
                    txl->tu.stray_2xx(txl->tu_arg, rx);
            } else {
                sipsess__tx_ct_notify(t, resp, 0);
            }
        }
        break;
    default:
        break;
    }
}
