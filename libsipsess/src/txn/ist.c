/*
 * INVITE server transaction: RFC 3261 §17.2.1 (Figure 7) as corrected by
 * RFC 6026 §7.1 / §8.5-§8.7 (Figure 7 revised):
 *
 *   Proceeding --1xx from TU--> Proceeding (sent)
 *   Proceeding --2xx from TU--> Accepted (Timer L)
 *   Proceeding --3xx-6xx from TU--> Completed (Timers G, H)
 *   Completed --ACK--> Confirmed (Timer I);  --Timer H--> Terminated (ETIMEDOUT)
 *   Confirmed --Timer I--> Terminated;  Accepted --Timer L--> Terminated
 *
 * A 100 Trying goes out by itself when the TU has not answered within
 * trying_100_ms (§17.2.1: "unless it knows that the TU will generate a
 * provisional or final response within 200 ms").
 */
#include "txn/txn_int.h"

void sipsess__tx_ist_start(sipsess__txn *t)
{
    /* 0 means at once; it still waits for the loop, so a TU that answers
     * inside its request() callback never has a 100 sent before it. */
    sipsess__tx_timer(t, &t->t_100, t->txl->tm.trying_100_ms);
}

void sipsess__tx_ist_auto_100(sipsess__txn *t)
{
    if (t->state != SIPSESS__TS_PROCEEDING || t->tu_answered || t->last_resp)
        return;
    sipsess_msg *m = NULL;
    int rc = sipsess__tx_build_reply(t->txl, &t->rx, 100, NULL, NULL, NULL, &m);
    if (rc) {
        SIPSESS__LOG(t->txl->log, SIPSESS_LOG_ERROR, "txn %.*s: cannot build 100 (%s)",
                     (int)t->branch.len, t->branch.p, sipsess_strerror(rc));
        return;
    }
    sipsess__tx_ist_respond(t, m, false);
}

int sipsess__tx_ist_respond(sipsess__txn *t, sipsess_msg *resp, bool from_tu)
{
    sipsess__txl *txl = t->txl;
    const sipsess__txn_timers *tm = &txl->tm;
    unsigned st = sipsess_msg_status(resp);
    switch (t->state) {
    case SIPSESS__TS_PROCEEDING:
        if (from_tu) {
            t->tu_answered = true;
            sipsess__timer_stop(txl->loop, &t->t_100);
        }
        if (st < 200) {
            /* "The TU passes any number of provisional responses to the
             * server transaction"; each is sent and kept for resending. */
        } else if (st < 300) {
            /* RFC 6026 §8.5: Accepted, Timer L = 64*T1. The 2xx is
             * retransmitted by the TU (§13.3.1.4), not by us. */
            t->state = SIPSESS__TS_ACCEPTED;
            sipsess__tx_hash_accepted(t);
            sipsess__tx_timer(t, &t->t_end, 64ull * tm->t1);
        } else {
            /* Completed: Timer G (unreliable only) from T1, Timer H =
             * 64*T1 for the ACK to arrive. */
            t->state = SIPSESS__TS_COMPLETED;
            if (!t->reliable) {
                t->retx_ms = tm->t1;
                sipsess__tx_timer(t, &t->t_retx, t->retx_ms);
            }
            sipsess__tx_timer(t, &t->t_timeout, 64ull * tm->t1);
        }
        return sipsess__tx_st_send_response(t, resp, from_tu);
    case SIPSESS__TS_ACCEPTED:
        /* RFC 6026 §8.7: "2xx from TU / send response": the TU's own
         * retransmissions of the 2xx (or another 2xx) go out through the
         * transaction; nothing else may be sent any more. */
        if (st >= 200 && st < 300)
            return sipsess__tx_st_send_response(t, resp, from_tu);
        break;
    default:
        break;
    }
    sipsess_msg_free(resp);
    return SIPSESS_ESTATE;
}

/* Timer G: resend the final response, doubling up to T2 (§17.2.1:
 * "MIN(2*T1, T2)" and so on). */
void sipsess__tx_ist_retx(sipsess__txn *t)
{
    const sipsess__txn_timers *tm = &t->txl->tm;
    if (t->state != SIPSESS__TS_COMPLETED)
        return;
    sipsess__tx_st_resend(t);
    if (t->state != SIPSESS__TS_COMPLETED)
        return;
    t->retx_ms *= 2;
    if (t->retx_ms > tm->t2)
        t->retx_ms = tm->t2;
    sipsess__tx_timer(t, &t->t_retx, t->retx_ms);
}

/* A retransmitted INVITE or an ACK matched to this transaction. */
void sipsess__tx_ist_on_request(sipsess__txn *t, sipsess__rx *rx)
{
    sipsess__txl *txl = t->txl;
    if (sipsess_msg_method(rx->msg) == SIPSESS_METHOD_ACK) {
        switch (t->state) {
        case SIPSESS__TS_COMPLETED:
            /* §17.2.1: ACK → Confirmed; Timer G stops retransmitting and
             * Timer I (T4, zero when reliable) absorbs further ACKs. */
            sipsess__timer_stop(txl->loop, &t->t_retx);
            sipsess__timer_stop(txl->loop, &t->t_timeout);
            t->state = SIPSESS__TS_CONFIRMED;
            sipsess__tx_timer(t, &t->t_end, t->reliable ? 0 : txl->tm.t4);
            break;
        case SIPSESS__TS_ACCEPTED:
            /* RFC 6026 §8.7: "ACK received: pass to TU". An ACK with the
             * INVITE's branch is an RFC 2543 peer's or a broken one's. */
            t->acked = true;
            if (txl->tu.ack && !txl->free_pending)
                txl->tu.ack(txl->tu_arg, rx);
            break;
        default:
            break; /* Confirmed absorbs ACKs; before a final there is none to ACK */
        }
        return;
    }
    switch (t->state) {
    case SIPSESS__TS_PROCEEDING:
        /* "the most recent provisional response that was received from
         * the TU MUST be passed to the transport layer for
         * retransmission" (none yet: absorbed). */
    case SIPSESS__TS_COMPLETED:
        /* "the server SHOULD pass the response to the transport for
         * retransmission" */
        sipsess__tx_st_resend(t);
        break;
    default:
        /* Confirmed absorbs; Accepted absorbs (RFC 6026 §8.7): the 2xx
         * is retransmitted by the TU on its own schedule. */
        break;
    }
}
