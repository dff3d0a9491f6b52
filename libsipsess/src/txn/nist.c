/*
 * Non-INVITE server transaction: RFC 3261 §17.2.2 (Figure 8) with erratum
 * 1470 (a final response in Trying also leads to Completed):
 *
 *   Trying --1xx from TU--> Proceeding
 *   Trying/Proceeding --200-699 from TU--> Completed (Timer J)
 *   Completed --Timer J--> Terminated
 *
 * Retransmitted requests: absorbed in Trying, answered with the last
 * response in Proceeding and Completed.
 */
#include "txn/txn_int.h"

int sipsess__tx_nist_respond(sipsess__txn *t, sipsess_msg *resp, bool from_tu)
{
    sipsess__txl *txl = t->txl;
    unsigned st = sipsess_msg_status(resp);
    if (t->state != SIPSESS__TS_TRYING && t->state != SIPSESS__TS_PROCEEDING) {
        /* "Any other final responses passed by the TU to the server
         * transaction MUST be discarded while in the Completed state." */
        sipsess_msg_free(resp);
        return SIPSESS_ESTATE;
    }
    if (st < 200) {
        t->state = SIPSESS__TS_PROCEEDING;
    } else {
        t->state = SIPSESS__TS_COMPLETED;
        /* Timer J: 64*T1 to answer retransmissions over unreliable
         * transports, zero over reliable ones. */
        sipsess__tx_timer(t, &t->t_end, t->reliable ? 0 : 64ull * txl->tm.t1);
    }
    return sipsess__tx_st_send_response(t, resp, from_tu);
}

void sipsess__tx_nist_on_request(sipsess__txn *t, sipsess__rx *rx)
{
    (void)rx;
    /* Trying: "any retransmissions of the request received while in this
     * state MUST be discarded". Proceeding and Completed: "the most
     * recently sent provisional / final response MUST be passed to the
     * transport layer for retransmission". */
    if (t->state == SIPSESS__TS_PROCEEDING || t->state == SIPSESS__TS_COMPLETED)
        sipsess__tx_st_resend(t);
}
