/*
 * Matching of messages to transactions in O(1):
 *  - responses to client transactions by the top Via branch and the CSeq
 *    method (RFC 3261 §17.1.3);
 *  - requests to server transactions by branch, sent-by and method when
 *    the branch carries the magic cookie, else by the RFC 2543 rules
 *    (§17.2.3), ACK to its INVITE, CANCEL to the INVITE it cancels (§9.2);
 *  - ACKs for a 2xx to the INVITE server transaction in Accepted that sent
 *    the 2xx (RFC 6026), by Call-ID, From tag, CSeq number and To tag;
 *  - merged requests (§8.2.2.2): the live server transactions whose
 *    request has no To tag, by Call-ID, From tag and CSeq (with method);
 *  - asynchronous send failures by send id.
 *
 * One chained hash table holds every key; nodes are embedded in the
 * transactions. Keys are hashed with SipHash-1-3 under a random per-layer
 * key, so a peer cannot pick branches or Call-IDs that collide.
 */
#include <string.h>

#include "runtime/mem.h"
#include "syntax/syntax.h"
#include "txn/txn_int.h"

/* ------------------------------------------------------------------ */
/* SipHash-1-3, fed byte by byte (keys are short and are lowercased on
 * the way in where the RFC compares them case-insensitively).          */

typedef struct sip_state {
    uint64_t v0, v1, v2, v3;
    uint64_t m;
    uint64_t len;
} sip_state;

#define ROTL(x, b) (uint64_t)(((x) << (b)) | ((x) >> (64 - (b))))

static inline void sip_round(sip_state *s)
{
    s->v0 += s->v1;
    s->v1 = ROTL(s->v1, 13);
    s->v1 ^= s->v0;
    s->v0 = ROTL(s->v0, 32);
    s->v2 += s->v3;
    s->v3 = ROTL(s->v3, 16);
    s->v3 ^= s->v2;
    s->v0 += s->v3;
    s->v3 = ROTL(s->v3, 21);
    s->v3 ^= s->v0;
    s->v2 += s->v1;
    s->v1 = ROTL(s->v1, 17);
    s->v1 ^= s->v2;
    s->v2 = ROTL(s->v2, 32);
}

static void sip_init(sip_state *s, const uint64_t k[2], uint8_t type)
{
    s->v0 = k[0] ^ UINT64_C(0x736f6d6570736575);
    s->v1 = k[1] ^ UINT64_C(0x646f72616e646f6d);
    s->v2 = k[0] ^ UINT64_C(0x6c7967656e657261);
    s->v3 = k[1] ^ UINT64_C(0x7465646279746573);
    /* The key type is the first hashed byte, so equal text under two key
     * types lands in unrelated buckets. */
    s->m = type;
    s->len = 1;
}

static inline void sip_byte(sip_state *s, uint8_t b)
{
    s->m |= (uint64_t)b << (8 * (s->len & 7));
    if ((++s->len & 7) == 0) {
        s->v3 ^= s->m;
        sip_round(s);
        s->v0 ^= s->m;
        s->m = 0;
    }
}

static void sip_str(sip_state *s, sipsess_str v, bool lower)
{
    for (size_t i = 0; i < v.len; i++)
        sip_byte(s, (uint8_t)(lower ? sipsess__lower((unsigned char)v.p[i]) : v.p[i]));
    /* A separator that cannot occur in the text keeps "ab"+"c" apart
     * from "a"+"bc". */
    sip_byte(s, 0xff);
}

static void sip_u64(sip_state *s, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        sip_byte(s, (uint8_t)(v >> (8 * i)));
}

static uint64_t sip_final(sip_state *s)
{
    uint64_t b = (s->len << 56) | s->m;
    s->v3 ^= b;
    sip_round(s);
    s->v0 ^= b;
    s->v2 ^= 0xff;
    sip_round(s);
    sip_round(s);
    sip_round(s);
    return s->v0 ^ s->v1 ^ s->v2 ^ s->v3;
}

/* ------------------------------------------------------------------ */
/* The table                                                           */

enum { TAB_MIN = 64 };

int sipsess__tx_tab_init(sipsess__txl *txl)
{
    txl->tab.b = sipsess__calloc(TAB_MIN, sizeof *txl->tab.b);
    if (!txl->tab.b)
        return SIPSESS_ENOMEM;
    txl->tab.nb = TAB_MIN;
    txl->tab.n = 0;
    return SIPSESS_OK;
}

void sipsess__tx_tab_free(sipsess__txl *txl)
{
    sipsess__free(txl->tab.b);
    txl->tab.b = NULL;
    txl->tab.nb = txl->tab.n = 0;
}

/* Double the bucket array when the load passes 1. A failed allocation
 * only leaves chains longer: inserting never fails. */
static void tab_grow(sipsess__tx_tab *tab)
{
    if (tab->n <= tab->nb || tab->nb > SIZE_MAX / 2 / sizeof *tab->b)
        return;
    size_t nb = tab->nb * 2;
    sipsess__tx_node **b = sipsess__calloc(nb, sizeof *b);
    if (!b)
        return;
    for (size_t i = 0; i < tab->nb; i++) {
        sipsess__tx_node *n = tab->b[i];
        while (n) {
            sipsess__tx_node *next = n->next;
            size_t j = (size_t)n->hash & (nb - 1);
            n->next = b[j];
            b[j] = n;
            n = next;
        }
    }
    sipsess__free(tab->b);
    tab->b = b;
    tab->nb = nb;
}

static void tab_insert(sipsess__txl *txl, sipsess__tx_node *n, uint8_t type, uint64_t hash)
{
    sipsess__tx_tab *tab = &txl->tab;
    if (n->linked)
        sipsess__tx_unhash(n->t, n);
    n->type = type;
    n->hash = hash;
    size_t i = (size_t)hash & (tab->nb - 1);
    n->next = tab->b[i];
    tab->b[i] = n;
    n->linked = true;
    tab->n++;
    tab_grow(tab);
}

void sipsess__tx_unhash(sipsess__txn *t, sipsess__tx_node *n)
{
    if (!n->linked)
        return;
    sipsess__tx_tab *tab = &t->txl->tab;
    sipsess__tx_node **pp = &tab->b[(size_t)n->hash & (tab->nb - 1)];
    while (*pp && *pp != n)
        pp = &(*pp)->next;
    if (*pp) {
        *pp = n->next;
        tab->n--;
    }
    n->next = NULL;
    n->linked = false;
}

typedef bool (*match_fn)(const sipsess__txn *t, const void *ctx);

static sipsess__txn *tab_find(const sipsess__txl *txl, uint8_t type, uint64_t hash,
                              match_fn fn, const void *ctx)
{
    const sipsess__tx_tab *tab = &txl->tab;
    for (const sipsess__tx_node *n = tab->b[(size_t)hash & (tab->nb - 1)]; n; n = n->next)
        if (n->hash == hash && n->type == type && fn(n->t, ctx))
            return n->t;
    return NULL;
}

/* ------------------------------------------------------------------ */
/* Field comparisons                                                   */

/* Absent and empty compare equal: both mean "no such value". */
static bool str_ieq(sipsess_str a, sipsess_str b)
{
    if (a.len != b.len)
        return false;
    for (size_t i = 0; i < a.len; i++)
        if (sipsess__lower((unsigned char)a.p[i]) != sipsess__lower((unsigned char)b.p[i]))
            return false;
    return true;
}

/* Methods are case-sensitive tokens (§7.1); extension methods compare by
 * their text. */
bool sipsess__tx_same_method(sipsess_method a, sipsess_str an, sipsess_method b, sipsess_str bn)
{
    if (a != b)
        return false;
    return a != SIPSESS_METHOD_OTHER || sipsess__tx_str_eq(an, bn);
}

/* A Via without a port means the transport's default (§18.1.1, §19.1.2):
 * "host" and "host:5060" are the same sent-by over UDP. */
static unsigned default_port(sipsess_str transport)
{
    return sipsess__str_ieq(transport, "TLS") || sipsess__str_ieq(transport, "WSS") ? 5061 : 5060;
}

/* The To tag of a message (responses carry the UAS's tag). */
static sipsess_str to_tag_of(const sipsess_msg *m)
{
    sipsess_str none = {NULL, 0};
    const sipsess_hdr *to = m ? sipsess_msg_hdr(m, SIPSESS_HDR_TO, 0) : NULL;
    return sipsess__tx_is_bad(to) ? none : sipsess_nameaddr_tag(to);
}

void sipsess__tx_reqkey_read(const sipsess_msg *m, sipsess__tx_reqkey *k)
{
    memset(k, 0, sizeof *k);
    k->msg = m;
    k->method = sipsess_msg_method(m);
    k->mname = sipsess_msg_method_name(m);
    const sipsess_hdr *via = sipsess_msg_hdr(m, SIPSESS_HDR_VIA, 0);
    k->via = via;
    if (!sipsess__tx_is_bad(via)) {
        k->branch = sipsess_via_branch(via);
        k->host = sipsess_via_host(via);
        k->transport = sipsess_via_transport(via);
        k->port = sipsess_via_port(via);
        if (k->port == 0)
            k->port = default_port(k->transport);
        /* §8.1.1.7: the cookie marks a branch made unique by an RFC 3261
         * element; the cookie alone is no unique branch. */
        k->cookie = k->branch.len > SIPSESS__TX_COOKIE_LEN &&
                    memcmp(k->branch.p, SIPSESS__TX_COOKIE, SIPSESS__TX_COOKIE_LEN) == 0;
    }
    const sipsess_hdr *h = sipsess_msg_hdr(m, SIPSESS_HDR_CALL_ID, 0);
    if (h)
        k->callid = sipsess_hdr_value(h);
    h = sipsess_msg_hdr(m, SIPSESS_HDR_FROM, 0);
    if (!sipsess__tx_is_bad(h))
        k->from_tag = sipsess_nameaddr_tag(h);
    k->to_tag = to_tag_of(m);
    h = sipsess_msg_hdr(m, SIPSESS_HDR_CSEQ, 0);
    if (!sipsess__tx_is_bad(h)) {
        k->cseq = sipsess_cseq_number(h);
        k->has_cseq = true;
    }
}

/* "top Via header field match" of the RFC 2543 rules: same transport,
 * sent-by and branch (a 2543 branch, if any, is opaque text). */
static bool via_eq(const sipsess__tx_reqkey *a, const sipsess__tx_reqkey *b)
{
    return a->via && b->via && str_ieq(a->transport, b->transport) && str_ieq(a->host, b->host) &&
           a->port == b->port && str_ieq(a->branch, b->branch);
}

/* The parts every RFC 2543 rule shares (§17.2.3 last paragraphs): Call-ID
 * (case-sensitive, §20.8), From tag, CSeq number, Request-URI (§19.1.4
 * equality), top Via. */
static bool rfc2543_common(const sipsess__tx_reqkey *a, const sipsess__tx_reqkey *b)
{
    return a->has_cseq && b->has_cseq && a->cseq == b->cseq &&
           sipsess__tx_str_eq(a->callid, b->callid) && str_ieq(a->from_tag, b->from_tag) &&
           via_eq(a, b) &&
           sipsess_uri_equal(sipsess_msg_ruri(a->msg), sipsess_msg_ruri(b->msg));
}

/* ------------------------------------------------------------------ */
/* Keys                                                                */

static uint64_t hash_branch(const sipsess__txl *txl, sipsess_str branch)
{
    sip_state s;
    sip_init(&s, txl->sipkey, SIPSESS__TXK_CLIENT);
    sip_str(&s, branch, true);
    return sip_final(&s);
}

/* Branch (compared case-insensitively: §7.3.1 makes parameter values
 * case-insensitive unless stated) and sent-by (host case-insensitive). */
static uint64_t hash_server(const sipsess__txl *txl, const sipsess__tx_reqkey *k)
{
    sip_state s;
    sip_init(&s, txl->sipkey, SIPSESS__TXK_SERVER);
    sip_str(&s, k->branch, true);
    sip_str(&s, k->host, true);
    sip_u64(&s, k->port);
    return sip_final(&s);
}

/* Call-ID + From tag + CSeq number (+ the top Via for the RFC 2543
 * rules): fields every rule that uses the key compares, and that an
 * INVITE, its ACK and its CANCEL share. The Request-URI is compared but
 * not hashed: §19.1.4 equality is not byte equality. */
static uint64_t hash_dialog(const sipsess__txl *txl, const sipsess__tx_reqkey *k, uint8_t type)
{
    sip_state s;
    sip_init(&s, txl->sipkey, type);
    sip_str(&s, k->callid, false);
    sip_str(&s, k->from_tag, true);
    sip_u64(&s, k->cseq);
    if (type == SIPSESS__TXK_2543) {
        sip_str(&s, k->host, true);
        sip_u64(&s, k->port);
        sip_str(&s, k->branch, true);
    }
    return sip_final(&s);
}

/* §8.2.2.2: From tag, Call-ID and CSeq "exactly match": byte for byte
 * (tags and Call-IDs are case-sensitive, §19.3, §20.8), the CSeq method
 * by its text (§7.1). */
static uint64_t hash_merge(const sipsess__txl *txl, const sipsess__tx_reqkey *k)
{
    sip_state s;
    sip_init(&s, txl->sipkey, SIPSESS__TXK_MERGE);
    sip_str(&s, k->callid, false);
    sip_str(&s, k->from_tag, false);
    sip_u64(&s, k->cseq);
    sip_str(&s, k->mname, false);
    return sip_final(&s);
}

static uint64_t hash_send(const sipsess__txl *txl, uint64_t id)
{
    sip_state s;
    sip_init(&s, txl->sipkey, SIPSESS__TXK_SEND);
    sip_u64(&s, id);
    return sip_final(&s);
}

void sipsess__tx_hash_client(sipsess__txn *t)
{
    tab_insert(t->txl, &t->hn_main, SIPSESS__TXK_CLIENT, hash_branch(t->txl, t->branch));
}

void sipsess__tx_hash_server(sipsess__txn *t)
{
    if (t->k.cookie)
        tab_insert(t->txl, &t->hn_main, SIPSESS__TXK_SERVER, hash_server(t->txl, &t->k));
    else
        tab_insert(t->txl, &t->hn_dlg, SIPSESS__TXK_2543,
                   hash_dialog(t->txl, &t->k, SIPSESS__TXK_2543));
}

/* Only ISTs the TU accepted are indexed for 2xx ACKs, so a peer cannot
 * grow this key's chains by sending requests. An RFC 2543 IST needs no
 * such index: its ACKs repeat the INVITE's Via and match by §17.2.3. */
void sipsess__tx_hash_accepted(sipsess__txn *t)
{
    if (t->k.cookie)
        tab_insert(t->txl, &t->hn_dlg, SIPSESS__TXK_ACCEPTED,
                   hash_dialog(t->txl, &t->k, SIPSESS__TXK_ACCEPTED));
}

/* Requests that can be merged: those without a To tag (a request in a
 * dialog has one, §8.2.2.2), with the fields the key needs; not ACK (no
 * transaction) nor CANCEL (it names another transaction, §9.2). */
static bool mergeable(const sipsess__tx_reqkey *k)
{
    return k->to_tag.len == 0 && k->has_cseq && k->callid.len &&
           k->method != SIPSESS_METHOD_ACK && k->method != SIPSESS_METHOD_CANCEL;
}

void sipsess__tx_hash_merge(sipsess__txn *t)
{
    if (mergeable(&t->k))
        tab_insert(t->txl, &t->hn_merge, SIPSESS__TXK_MERGE, hash_merge(t->txl, &t->k));
}

void sipsess__tx_hash_send(sipsess__txn *t, uint64_t id)
{
    t->send_id = id;
    tab_insert(t->txl, &t->hn_send, SIPSESS__TXK_SEND, hash_send(t->txl, id));
}

/* ------------------------------------------------------------------ */
/* Responses: §17.1.3                                                  */

typedef struct resp_ctx {
    sipsess_str branch;
    sipsess_method method;
    sipsess_str mname;
} resp_ctx;

/* Branch of the top Via equal to the request's, and the CSeq method equal
 * to the request's method (a CANCEL shares its INVITE's branch). */
static bool match_client(const sipsess__txn *t, const void *ctx)
{
    const resp_ctx *c = ctx;
    return !t->server && t->started && str_ieq(t->branch, c->branch) &&
           sipsess__tx_same_method(t->method, t->mname, c->method, c->mname);
}

sipsess__txn *sipsess__tx_match_response(sipsess__txl *txl, const sipsess_msg *resp)
{
    const sipsess_hdr *via = sipsess_msg_hdr(resp, SIPSESS_HDR_VIA, 0);
    const sipsess_hdr *cseq = sipsess_msg_hdr(resp, SIPSESS_HDR_CSEQ, 0);
    if (sipsess__tx_is_bad(via) || sipsess__tx_is_bad(cseq))
        return NULL;
    resp_ctx c = {sipsess_via_branch(via), sipsess_cseq_method(cseq),
                  sipsess_cseq_method_name(cseq)};
    if (c.branch.len == 0)
        return NULL;
    return tab_find(txl, SIPSESS__TXK_CLIENT, hash_branch(txl, c.branch), match_client, &c);
}

/* ------------------------------------------------------------------ */
/* Requests: §17.2.3                                                   */

/* RFC 3261 rule: branch, sent-by, and method, where an ACK matches the
 * INVITE's transaction. */
static bool match_server_cookie(const sipsess__txn *t, const void *ctx)
{
    const sipsess__tx_reqkey *k = ctx;
    if (!t->server || !t->k.cookie || !str_ieq(t->k.branch, k->branch) ||
        !str_ieq(t->k.host, k->host) || t->k.port != k->port)
        return false;
    if (k->method == SIPSESS_METHOD_ACK)
        return t->kind == SIPSESS__IST;
    return sipsess__tx_same_method(t->method, t->mname, k->method, k->mname);
}

/* RFC 2543 rules: an INVITE or other request matches when Request-URI,
 * To tag, From tag, Call-ID, CSeq (with method) and top Via match the
 * request that made the transaction; an ACK when all but the To tag and
 * CSeq method match the INVITE and its To tag is the To tag of the
 * response the transaction sent. */
static bool match_server_2543(const sipsess__txn *t, const void *ctx)
{
    const sipsess__tx_reqkey *k = ctx;
    if (!t->server || t->k.cookie || !rfc2543_common(&t->k, k))
        return false;
    if (k->method == SIPSESS_METHOD_ACK)
        return t->kind == SIPSESS__IST && t->last_resp &&
               str_ieq(to_tag_of(t->last_resp), k->to_tag);
    return str_ieq(t->k.to_tag, k->to_tag) &&
           sipsess__tx_same_method(t->method, t->mname, k->method, k->mname);
}

sipsess__txn *sipsess__tx_match_request(sipsess__txl *txl, const sipsess__tx_reqkey *k)
{
    if (k->cookie)
        return tab_find(txl, SIPSESS__TXK_SERVER, hash_server(txl, k), match_server_cookie, k);
    return tab_find(txl, SIPSESS__TXK_2543, hash_dialog(txl, k, SIPSESS__TXK_2543),
                    match_server_2543, k);
}

/* RFC 6026 §8.7: an ACK for a 2xx carries its own branch (§13.2.2.4), so
 * it matches no transaction by §17.2.3; it is still worth knowing which
 * IST in Accepted it acknowledges, so Timer L can say whether the 2xx
 * was ever ACKed. The dialog of the 2xx is its Call-ID, From tag and the
 * To tag the 2xx carried; the ACK repeats the INVITE's CSeq number. */
static bool match_2xx_ack(const sipsess__txn *t, const void *ctx)
{
    const sipsess__tx_reqkey *k = ctx;
    return t->kind == SIPSESS__IST && t->state == SIPSESS__TS_ACCEPTED && t->last_resp &&
           t->k.has_cseq && k->has_cseq && t->k.cseq == k->cseq &&
           sipsess__tx_str_eq(t->k.callid, k->callid) && str_ieq(t->k.from_tag, k->from_tag) &&
           str_ieq(to_tag_of(t->last_resp), k->to_tag);
}

sipsess__txn *sipsess__tx_match_2xx_ack(sipsess__txl *txl, const sipsess__tx_reqkey *k)
{
    return tab_find(txl, SIPSESS__TXK_ACCEPTED, hash_dialog(txl, k, SIPSESS__TXK_ACCEPTED),
                    match_2xx_ack, k);
}

typedef struct send_ctx {
    uint64_t id;
} send_ctx;

static bool match_send(const sipsess__txn *t, const void *ctx)
{
    return t->send_id == ((const send_ctx *)ctx)->id;
}

sipsess__txn *sipsess__tx_match_send(sipsess__txl *txl, uint64_t id)
{
    send_ctx c = {id};
    return tab_find(txl, SIPSESS__TXK_SEND, hash_send(txl, id), match_send, &c);
}

/* ------------------------------------------------------------------ */
/* Merged requests: §8.2.2.2                                           */

typedef struct merge_ctx {
    const sipsess__txn *st;
} merge_ctx;

static bool match_merge(const sipsess__txn *t, const void *ctx)
{
    const sipsess__txn *st = ((const merge_ctx *)ctx)->st;
    return t != st && t->server && t->k.has_cseq && t->k.cseq == st->k.cseq &&
           t->k.to_tag.len == 0 && sipsess__tx_str_eq(t->k.callid, st->k.callid) &&
           sipsess__tx_str_eq(t->k.from_tag, st->k.from_tag) &&
           sipsess__tx_same_method(t->method, t->mname, st->method, st->mname);
}

sipsess__txn *sipsess__st_merged(sipsess__txl *txl, const sipsess__txn *st)
{
    if (!txl || !st || !st->server || !mergeable(&st->k))
        return NULL;
    merge_ctx c = {st};
    return tab_find(txl, SIPSESS__TXK_MERGE, hash_merge(txl, &st->k), match_merge, &c);
}

/* ------------------------------------------------------------------ */
/* CANCEL: §9.2                                                        */

typedef struct cancel_ctx {
    const sipsess__txn *cancel;
} cancel_ctx;

/* §9.2: the transaction a CANCEL cancels is the one §17.2.3 finds for the
 * CANCEL taken as a request of another method (never CANCEL or ACK). The
 * TU only ever cancels INVITEs, so only an INVITE server transaction is
 * returned (txn.h). */
static bool match_cancel_cookie(const sipsess__txn *t, const void *ctx)
{
    const sipsess__txn *c = ((const cancel_ctx *)ctx)->cancel;
    return t != c && t->kind == SIPSESS__IST && t->k.cookie &&
           str_ieq(t->k.branch, c->k.branch) && str_ieq(t->k.host, c->k.host) &&
           t->k.port == c->k.port;
}

/* RFC 2543 peers: the CANCEL repeats the INVITE's Request-URI, To (with
 * its tag, none for an initial INVITE), From, Call-ID, CSeq number and
 * top Via (§9.1). */
static bool match_cancel_2543(const sipsess__txn *t, const void *ctx)
{
    const sipsess__txn *c = ((const cancel_ctx *)ctx)->cancel;
    return t != c && t->kind == SIPSESS__IST && !t->k.cookie && rfc2543_common(&t->k, &c->k) &&
           str_ieq(t->k.to_tag, c->k.to_tag);
}

sipsess__txn *sipsess__st_cancel_target(sipsess__txl *txl, const sipsess__txn *cancel_st)
{
    if (!txl || !cancel_st || !cancel_st->server || cancel_st->method != SIPSESS_METHOD_CANCEL)
        return NULL;
    cancel_ctx c = {cancel_st};
    if (cancel_st->k.cookie)
        return tab_find(txl, SIPSESS__TXK_SERVER, hash_server(txl, &cancel_st->k),
                        match_cancel_cookie, &c);
    return tab_find(txl, SIPSESS__TXK_2543, hash_dialog(txl, &cancel_st->k, SIPSESS__TXK_2543),
                    match_cancel_2543, &c);
}
