/*
 * What the transaction user sends or needs outside any transaction: the
 * ACK for a 2xx (RFC 3261 §13.2.2.4: "passed directly to the transport
 * layer", with a Via of its own), and the local facts (listener, sent-by)
 * a dialog puts into its Contact (§12.1.1, §12.1.2). Kept in this layer
 * because it owns the io through which everything goes out.
 */
#include <stdio.h>
#include <string.h>

#include "syntax/syntax.h"
#include "txn/txn_int.h"

int sipsess__txl_route(sipsess__txl *txl, const sipsess_uri *next_hop, size_t est_len,
                       sipsess__dest *d)
{
    if (!txl || !next_hop || !d)
        return SIPSESS_EINVAL;
    memset(d, 0, sizeof *d);
    return txl->io.route_request(txl->io.arg, next_hop, est_len, d);
}

int sipsess__txl_via(sipsess__txl *txl, const sipsess__dest *d, char *buf, size_t cap)
{
    if (!txl || !d || !buf)
        return SIPSESS_EINVAL;
    const char *tok = sipsess__tp_proto_token((sipsess__proto)d->remote.proto);
    sipsess_str sb = txl->io.sentby(txl->io.arg, d->listener);
    char branch[SIPSESS__TX_BRANCH_RAND + 1];
    if (!tok || !tok[0] || !sb.p)
        return SIPSESS_EINVAL;
    /* §8.1.1.7: a branch of its own, unique across space and time; the
     * ACK of a 2xx is a transaction of its own (§17.1.1.3). */
    int rc = sipsess__random_token(branch, SIPSESS__TX_BRANCH_RAND);
    if (rc)
        return rc;
    branch[SIPSESS__TX_BRANCH_RAND] = '\0';
    int n = snprintf(buf, cap, "SIP/2.0/%s %.*s;branch=" SIPSESS__TX_COOKIE "%s;rport", tok,
                     (int)sb.len, sb.p, branch);
    return n < 0 || (size_t)n >= cap ? SIPSESS_ENOSPC : SIPSESS_OK;
}

int sipsess__txl_send(sipsess__txl *txl, const sipsess__dest *d, const char *data, size_t len)
{
    if (!txl || !d || !data)
        return SIPSESS_EINVAL;
    int64_t id = txl->io.send(txl->io.arg, d, data, len);
    return id < 0 ? (int)id : SIPSESS_OK;
}

void sipsess__txl_dest_release(sipsess__dest *d)
{
    if (d && d->conn) {
        sipsess__conn_unref(d->conn);
        d->conn = NULL;
    }
}

sipsess_str sipsess__txl_sentby(const sipsess__txl *txl, int listener)
{
    sipsess_str none = {NULL, 0};
    if (!txl)
        return none;
    return txl->io.sentby(txl->io.arg, listener);
}

int sipsess__txn_local(const sipsess__txn *t, int *listener, sipsess__proto *proto)
{
    if (!t)
        return SIPSESS_EINVAL;
    if (t->server) {
        *listener = t->rx.listener;
        *proto = (sipsess__proto)t->rx.src.proto;
    } else {
        if (!t->has_dest)
            return SIPSESS_ESTATE;
        *listener = t->dest.listener;
        *proto = (sipsess__proto)t->dest.remote.proto;
    }
    return SIPSESS_OK;
}
