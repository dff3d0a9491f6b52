/*
 * Non-INVITE client transaction: RFC 3261 §17.1.2 (Figure 6).
 *
 *   Trying --1xx--> Proceeding --1xx--> Proceeding
 *   Trying/Proceeding --200-699--> Completed (Timer K)
 *   Trying/Proceeding --Timer F--> Terminated (ETIMEDOUT)
 *   Completed --Timer K--> Terminated
 *
 * Timer E retransmits over unreliable transports: in Trying at T1, 2T1,
 * 4T1, ... capped at T2; in Proceeding every T2 (§17.1.2.2).
 */
#include "txn/txn_int.h"

void sipsess__tx_nict_start(sipsess__txn *t)
{
    const sipsess__txn_timers *tm = &t->txl->tm;
    /* "If an unreliable transport is in use, the client transaction MUST
     * set timer E to fire in T1 seconds. [...] timer F [...] 64*T1." */
    if (!t->reliable) {
        t->retx_ms = tm->t1;
        sipsess__tx_timer(t, &t->t_retx, t->retx_ms);
    }
    sipsess__tx_timer(t, &t->t_timeout, 64ull * tm->t1);
}

void sipsess__tx_nict_retx(sipsess__txn *t)
{
    const sipsess__txn_timers *tm = &t->txl->tm;
    if (t->state != SIPSESS__TS_TRYING && t->state != SIPSESS__TS_PROCEEDING)
        return;
    sipsess_str raw = sipsess_msg_raw(t->req);
    if (sipsess__tx_send(t, &t->dest, raw.p, raw.len)) {
        sipsess__tx_end(t, SIPSESS_ETRANSPORT, true);
        return;
    }
    /* Trying: "reset with a value of MIN(2*T1, T2)" and doubling on;
     * Proceeding: "reset with a value of T2". */
    if (t->state == SIPSESS__TS_TRYING) {
        t->retx_ms *= 2;
        if (t->retx_ms > tm->t2)
            t->retx_ms = tm->t2;
    } else {
        t->retx_ms = tm->t2;
    }
    sipsess__tx_timer(t, &t->t_retx, t->retx_ms);
}

void sipsess__tx_nict_on_response(sipsess__txn *t, const sipsess__rx *rx)
{
    const sipsess_msg *resp = rx->msg;
    unsigned st = sipsess_msg_status(resp);
    sipsess__txl *txl = t->txl;
    if (t->state != SIPSESS__TS_TRYING && t->state != SIPSESS__TS_PROCEEDING)
        return; /* Completed absorbs retransmitted finals (§17.1.2.2) */
    sipsess_msg_free(t->last_resp);
    t->last_resp = sipsess_msg_ref((sipsess_msg *)resp);
    if (st < 200) {
        /* Timer E keeps running; its next firing re-arms it at T2. */
        t->state = SIPSESS__TS_PROCEEDING;
    } else {
        sipsess__timer_stop(txl->loop, &t->t_retx);
        sipsess__timer_stop(txl->loop, &t->t_timeout);
        t->state = SIPSESS__TS_COMPLETED;
        /* Timer K: T4 to absorb retransmitted responses over unreliable
         * transports, zero over reliable ones. */
        sipsess__tx_timer(t, &t->t_end, t->reliable ? 0 : txl->tm.t4);
    }
    sipsess__tx_ct_notify(t, resp, 0);
}
