/*
 * Dialog state (RFC 3261 §12) and the table of dialogs.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dialog/dialog.h"
#include "runtime/loop.h"
#include "runtime/mem.h"
#include "syntax/syntax.h"

/* ------------------------------------------------------------------ */
/* strings                                                             */

char *sipsess__dlg_strdup(sipsess_str s)
{
    char *p = sipsess__malloc(s.len + 1);
    if (!p)
        return NULL;
    size_t n = 0;
    for (size_t i = 0; i < s.len; i++) {
        char c = s.p[i];
        if (c == '\r' || c == '\n') {
            /* A folded line is one space (§7.3.1); builders refuse CR/LF. */
            while (i + 1 < s.len && (s.p[i + 1] == '\r' || s.p[i + 1] == '\n' ||
                                     s.p[i + 1] == ' ' || s.p[i + 1] == '\t'))
                i++;
            if (n > 0 && p[n - 1] != ' ')
                p[n++] = ' ';
            continue;
        }
        p[n++] = c;
    }
    p[n] = '\0';
    return p;
}

static char *cdup(const char *s)
{
    return sipsess__dlg_strdup(sipsess__str_c(s));
}

static void set_str(char **dst, char *v)
{
    sipsess__free(*dst);
    *dst = v;
}

/* ------------------------------------------------------------------ */
/* table: SipHash-2-4 keyed per table, so a peer cannot pick Call-IDs and
 * tags that all land in one bucket.                                   */

#define ROTL(x, b) (uint64_t)(((x) << (b)) | ((x) >> (64 - (b))))
#define SIPROUND                                                                             \
    do {                                                                                     \
        v0 += v1; v1 = ROTL(v1, 13); v1 ^= v0; v0 = ROTL(v0, 32);                           \
        v2 += v3; v3 = ROTL(v3, 16); v3 ^= v2;                                               \
        v0 += v3; v3 = ROTL(v3, 21); v3 ^= v0;                                               \
        v2 += v1; v1 = ROTL(v1, 17); v1 ^= v2; v2 = ROTL(v2, 32);                           \
    } while (0)

typedef struct {
    uint64_t v0, v1, v2, v3;
    uint64_t tail;
    size_t total;
} sip_state;

static void sip_init(sip_state *s, const uint64_t key[2])
{
    s->v0 = 0x736f6d6570736575ull ^ key[0];
    s->v1 = 0x646f72616e646f6dull ^ key[1];
    s->v2 = 0x6c7967656e657261ull ^ key[0];
    s->v3 = 0x7465646279746573ull ^ key[1];
    s->tail = 0;
    s->total = 0;
}

static void sip_word(sip_state *s, uint64_t m)
{
    uint64_t v0 = s->v0, v1 = s->v1, v2 = s->v2, v3 = s->v3;
    v3 ^= m;
    SIPROUND;
    SIPROUND;
    v0 ^= m;
    s->v0 = v0, s->v1 = v1, s->v2 = v2, s->v3 = v3;
}

static void sip_bytes(sip_state *s, const char *p, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        s->tail |= (uint64_t)(unsigned char)p[i] << (8 * (s->total & 7));
        s->total++;
        if ((s->total & 7) == 0) {
            sip_word(s, s->tail);
            s->tail = 0;
        }
    }
}

static uint64_t sip_final(sip_state *s)
{
    uint64_t b = ((uint64_t)s->total << 56) | s->tail;
    sip_word(s, b);
    uint64_t v0 = s->v0, v1 = s->v1, v2 = s->v2 ^ 0xff, v3 = s->v3;
    SIPROUND;
    SIPROUND;
    SIPROUND;
    SIPROUND;
    return v0 ^ v1 ^ v2 ^ v3;
}

static uint64_t key_hash(const sipsess__dtab *t, sipsess_str cid, sipsess_str lt, sipsess_str rt)
{
    sip_state s;
    sip_init(&s, t->key);
    /* A separator that cannot occur in a Call-ID or a tag keeps
     * ("ab","c") and ("a","bc") apart. */
    sip_bytes(&s, cid.p, cid.len);
    sip_bytes(&s, "\n", 1);
    sip_bytes(&s, lt.p, lt.len);
    sip_bytes(&s, "\n", 1);
    sip_bytes(&s, rt.p, rt.len);
    return sip_final(&s);
}

int sipsess__dtab_init(sipsess__dtab *t)
{
    memset(t, 0, sizeof *t);
    t->nb = 64;
    t->b = sipsess__calloc(t->nb, sizeof *t->b);
    if (!t->b)
        return SIPSESS_ENOMEM;
    return sipsess__random(t->key, sizeof t->key);
}

void sipsess__dtab_free(sipsess__dtab *t)
{
    sipsess__free(t->b);
    memset(t, 0, sizeof *t);
}

static bool eq(sipsess_str a, const char *b)
{
    size_t n = strlen(b);
    return a.len == n && (n == 0 || memcmp(a.p, b, n) == 0);
}

sipsess__dialog *sipsess__dtab_find(const sipsess__dtab *t, sipsess_str call_id,
                                    sipsess_str local_tag, sipsess_str remote_tag)
{
    if (!t->b)
        return NULL;
    uint64_t h = key_hash(t, call_id, local_tag, remote_tag);
    /* §12.2.2 / §19.3: Call-ID and tags compare byte for byte (tags are
     * case-sensitive tokens, Call-IDs too). */
    for (sipsess__dialog *d = t->b[h & (t->nb - 1)]; d; d = d->hnext)
        if (d->hash == h && eq(call_id, d->call_id) && eq(local_tag, d->local_tag) &&
            eq(remote_tag, d->remote_tag))
            return d;
    return NULL;
}

static int grow(sipsess__dtab *t)
{
    size_t nb = t->nb * 2;
    sipsess__dialog **b = sipsess__calloc(nb, sizeof *b);
    if (!b)
        return SIPSESS_ENOMEM;
    for (size_t i = 0; i < t->nb; i++) {
        sipsess__dialog *d = t->b[i];
        while (d) {
            sipsess__dialog *next = d->hnext;
            d->hnext = b[d->hash & (nb - 1)];
            b[d->hash & (nb - 1)] = d;
            d = next;
        }
    }
    sipsess__free(t->b);
    t->b = b;
    t->nb = nb;
    return SIPSESS_OK;
}

int sipsess__dtab_insert(sipsess__dtab *t, sipsess__dialog *d)
{
    if (d->hashed)
        sipsess__dtab_remove(t, d);
    if (t->n + 1 > t->nb) {
        int rc = grow(t);
        if (rc)
            return rc;
    }
    d->hash = key_hash(t, sipsess__str_c(d->call_id), sipsess__str_c(d->local_tag),
                       sipsess__str_c(d->remote_tag));
    size_t i = d->hash & (t->nb - 1);
    d->hnext = t->b[i];
    t->b[i] = d;
    d->hashed = true;
    t->n++;
    return SIPSESS_OK;
}

void sipsess__dtab_remove(sipsess__dtab *t, sipsess__dialog *d)
{
    if (!d->hashed || !t->b)
        return;
    sipsess__dialog **pp = &t->b[d->hash & (t->nb - 1)];
    while (*pp && *pp != d)
        pp = &(*pp)->hnext;
    if (*pp) {
        *pp = d->hnext;
        t->n--;
    }
    d->hnext = NULL;
    d->hashed = false;
}

/* ------------------------------------------------------------------ */
/* route set and target                                                */

static void routes_free(sipsess__dialog *d)
{
    for (size_t i = 0; i < d->nroutes; i++) {
        sipsess__free(d->routes[i]);
        sipsess_uri_free(d->route_uris[i]);
    }
    sipsess__free(d->routes);
    sipsess__free(d->route_uris);
    d->routes = NULL;
    d->route_uris = NULL;
    d->nroutes = 0;
}

/* The route set from the Record-Route values of `m`: in order for the
 * UAS (§12.1.1), reversed for the UAC (§12.1.2). */
static int routes_from(sipsess__dialog *d, const sipsess_msg *m, bool reverse)
{
    size_t n = sipsess_msg_hdr_num(m, SIPSESS_HDR_RECORD_ROUTE);
    char **rs = NULL;
    sipsess_uri **us = NULL;
    if (n) {
        rs = sipsess__calloc(n, sizeof *rs);
        us = sipsess__calloc(n, sizeof *us);
        if (!rs || !us)
            goto nomem;
    }
    for (size_t i = 0; i < n; i++) {
        const sipsess_hdr *h = sipsess_msg_hdr(m, SIPSESS_HDR_RECORD_ROUTE, i);
        const sipsess_uri *u = sipsess_nameaddr_uri(h);
        size_t at = reverse ? n - 1 - i : i;
        if (!u || sipsess_hdr_is_bad(h)) {
            /* A route we cannot read cannot be followed. */
            for (size_t j = 0; j < n; j++) {
                sipsess__free(rs[j]);
                sipsess_uri_free(us[j]);
            }
            sipsess__free(rs);
            sipsess__free(us);
            return SIPSESS_EHEADER;
        }
        rs[at] = sipsess__dlg_strdup(sipsess_hdr_value(h));
        if (!rs[at] || sipsess_uri_dup(u, &us[at]))
            goto nomem;
    }
    routes_free(d);
    d->routes = rs;
    d->route_uris = us;
    d->nroutes = n;
    return SIPSESS_OK;
nomem:
    for (size_t j = 0; rs && us && j < n; j++) {
        sipsess__free(rs[j]);
        sipsess_uri_free(us[j]);
    }
    sipsess__free(rs);
    sipsess__free(us);
    return SIPSESS_ENOMEM;
}

static int set_target(sipsess__dialog *d, sipsess_str text)
{
    sipsess_uri *u = NULL;
    int rc = sipsess_uri_parse(text.p, text.len, &u);
    if (rc)
        return rc;
    char *t = sipsess__dlg_strdup(text);
    if (!t) {
        sipsess_uri_free(u);
        return SIPSESS_ENOMEM;
    }
    set_str(&d->target, t);
    sipsess_uri_free(d->target_uri);
    d->target_uri = u;
    return SIPSESS_OK;
}

int sipsess__dialog_refresh_target(sipsess__dialog *d, const sipsess_msg *m)
{
    const sipsess_hdr *c = sipsess_msg_hdr(m, SIPSESS_HDR_CONTACT, 0);
    const sipsess_uri *u = c && !sipsess_hdr_is_bad(c) ? sipsess_nameaddr_uri(c) : NULL;
    if (!u)
        return SIPSESS_OK; /* no Contact: the target stays */
    return set_target(d, sipsess_uri_text(u));
}

/* A header value without its tag parameter is not needed: the value the
 * peer sent is repeated as is (§12.2.1.1: "the remote URI and remote
 * tag"), and ours is built with our tag. */
static char *uri_of(const sipsess_hdr *h)
{
    const sipsess_uri *u = sipsess_nameaddr_uri(h);
    return u ? sipsess__dlg_strdup(sipsess_uri_text(u)) : NULL;
}

/* ------------------------------------------------------------------ */
/* creation                                                            */

void sipsess__dialog_clear(sipsess__dialog *d)
{
    sipsess__free(d->call_id);
    sipsess__free(d->local_tag);
    sipsess__free(d->remote_tag);
    sipsess__free(d->local_hdr);
    sipsess__free(d->remote_hdr);
    sipsess__free(d->local_uri);
    sipsess__free(d->remote_uri);
    sipsess__free(d->target);
    sipsess_uri_free(d->target_uri);
    routes_free(d);
    void *owner = d->owner;
    memset(d, 0, sizeof *d);
    d->owner = owner;
}

static char *uri_in(const char *hdrval)
{
    /* "Display <uri>;params" or "uri;params": the URI text. */
    const char *lt = strchr(hdrval, '<');
    if (lt) {
        const char *gt = strchr(lt, '>');
        if (!gt)
            return NULL;
        return sipsess__dlg_strdup(sipsess__str(lt + 1, (size_t)(gt - lt - 1)));
    }
    size_t n = strcspn(hdrval, ";");
    while (n && hdrval[n - 1] == ' ')
        n--;
    return sipsess__dlg_strdup(sipsess__str(hdrval, n));
}

int sipsess__dialog_init_uac(sipsess__dialog *d, const char *call_id, const char *local_hdr,
                             const char *local_tag, const char *remote_hdr,
                             const char *target, uint32_t cseq)
{
    d->uac = true;
    d->call_id = cdup(call_id);
    d->local_tag = cdup(local_tag);
    d->remote_tag = cdup("");
    d->local_hdr = cdup(local_hdr);
    d->remote_hdr = cdup(remote_hdr);
    d->local_uri = uri_in(local_hdr);
    d->remote_uri = uri_in(remote_hdr);
    d->local_cseq = cseq;
    if (!d->call_id || !d->local_tag || !d->remote_tag || !d->local_hdr || !d->remote_hdr ||
        !d->local_uri || !d->remote_uri) {
        sipsess__dialog_clear(d);
        return SIPSESS_ENOMEM;
    }
    int rc = set_target(d, sipsess__str_c(target));
    if (rc)
        sipsess__dialog_clear(d);
    return rc;
}

int sipsess__dialog_clone_uac(sipsess__dialog *d, const sipsess__dialog *from)
{
    int rc = sipsess__dialog_init_uac(d, from->call_id, from->local_hdr, from->local_tag,
                                      from->remote_hdr, from->target, from->local_cseq);
    return rc;
}

int sipsess__dialog_uac_response(sipsess__dialog *d, const sipsess_msg *resp)
{
    const sipsess_hdr *to = sipsess_msg_hdr(resp, SIPSESS_HDR_TO, 0);
    if (!to || sipsess_hdr_is_bad(to))
        return SIPSESS_EHEADER;
    unsigned st = sipsess_msg_status(resp);
    sipsess_str tag = sipsess_nameaddr_tag(to);
    if (!d->confirmed) {
        char *rt = sipsess__dlg_strdup(tag);
        char *rh = sipsess__dlg_strdup(sipsess_hdr_value(to));
        if (!rt || !rh) {
            sipsess__free(rt);
            sipsess__free(rh);
            return SIPSESS_ENOMEM;
        }
        set_str(&d->remote_tag, rt);
        set_str(&d->remote_hdr, rh);
        /* §12.1.2: the route set is the Record-Route list reversed; an
         * early dialog takes it from each response, and the 2xx fixes it
         * (§13.2.2.4: "recomputed based on the 2xx"). */
        int rc = routes_from(d, resp, true);
        if (rc)
            return rc;
    }
    if (st >= 200 && st < 300)
        d->confirmed = true;
    return sipsess__dialog_refresh_target(d, resp);
}

int sipsess__dialog_init_uas(sipsess__dialog *d, const sipsess_msg *req, const char *local_tag)
{
    const sipsess_hdr *from = sipsess_msg_hdr(req, SIPSESS_HDR_FROM, 0);
    const sipsess_hdr *to = sipsess_msg_hdr(req, SIPSESS_HDR_TO, 0);
    const sipsess_hdr *cid = sipsess_msg_hdr(req, SIPSESS_HDR_CALL_ID, 0);
    const sipsess_hdr *cseq = sipsess_msg_hdr(req, SIPSESS_HDR_CSEQ, 0);
    if (!from || !to || !cid || !cseq)
        return SIPSESS_EMISSING;
    d->uac = false;
    d->call_id = sipsess__dlg_strdup(sipsess_hdr_value(cid));
    d->local_tag = cdup(local_tag);
    d->remote_tag = sipsess__dlg_strdup(sipsess_nameaddr_tag(from));
    d->remote_hdr = sipsess__dlg_strdup(sipsess_hdr_value(from));
    d->remote_uri = uri_of(from);
    d->local_uri = uri_of(to);
    sipsess_str tv = sipsess_hdr_value(to);
    d->local_hdr = sipsess__malloc(tv.len + strlen(local_tag) + 6);
    if (d->local_hdr) {
        char *t = sipsess__dlg_strdup(tv);
        if (t)
            sprintf(d->local_hdr, "%s;tag=%s", t, local_tag);
        else
            set_str(&d->local_hdr, NULL);
        sipsess__free(t);
    }
    /* §12.1.1: "the remote sequence number MUST be set to the value of
     * the sequence number in the CSeq header field of the request"; the
     * local one is empty until we send (we start at a small random
     * number, below 2**31 as §8.1.1.5 asks). */
    d->remote_cseq = sipsess_cseq_number(cseq);
    d->remote_cseq_set = true;
    uint16_t r = 0;
    sipsess__random(&r, sizeof r);
    d->local_cseq = (uint32_t)(r & 0x7fff);
    if (!d->call_id || !d->local_tag || !d->remote_tag || !d->remote_hdr || !d->remote_uri ||
        !d->local_uri || !d->local_hdr) {
        sipsess__dialog_clear(d);
        return SIPSESS_ENOMEM;
    }
    int rc = routes_from(d, req, false);
    if (rc == 0) {
        const sipsess_hdr *c = sipsess_msg_hdr(req, SIPSESS_HDR_CONTACT, 0);
        const sipsess_uri *u = c && !sipsess_hdr_is_bad(c) ? sipsess_nameaddr_uri(c) : NULL;
        /* §8.1.1.8: an INVITE MUST have a Contact; without one, the only
         * way back is where the request came from, so the From URI is
         * the best target there is. */
        rc = set_target(d, u ? sipsess_uri_text(u) : sipsess__str_c(d->remote_uri));
    }
    if (rc)
        sipsess__dialog_clear(d);
    return rc;
}

/* ------------------------------------------------------------------ */
/* in the dialog                                                       */

unsigned sipsess__dialog_rx_request(sipsess__dialog *d, const sipsess_msg *req)
{
    sipsess_method m = sipsess_msg_method(req);
    const sipsess_hdr *cseq = sipsess_msg_hdr(req, SIPSESS_HDR_CSEQ, 0);
    if (!cseq)
        return 400;
    if (m == SIPSESS_METHOD_ACK || m == SIPSESS_METHOD_CANCEL)
        return 0;
    uint32_t n = sipsess_cseq_number(cseq);
    /* §12.2.2: "If the remote sequence number is not empty, but the
     * sequence number of the request is lower than the remote sequence
     * number, the request is out of order and MUST be rejected with a 500
     * (Server Internal Error) response." Equal is a new request (a
     * retransmission was absorbed by its transaction). */
    if (d->remote_cseq_set && n < d->remote_cseq)
        return 500;
    d->remote_cseq = n;
    d->remote_cseq_set = true;
    return 0;
}

static bool route_is_loose(const sipsess_uri *u)
{
    return sipsess_uri_param(u, "lr", NULL) == 1;
}

const sipsess_uri *sipsess__dialog_next_hop(const sipsess__dialog *d)
{
    if (d->nroutes == 0)
        return d->target_uri;
    /* Loose: the first Route is the next hop; strict: the Request-URI,
     * which is that same first route (§12.2.1.1). */
    return d->route_uris[0];
}

uint32_t sipsess__dialog_next_cseq(sipsess__dialog *d)
{
    return ++d->local_cseq;
}

/* The URI text of a route without the parts a Request-URI may not carry
 * (§19.1.1 table: no headers, no method parameter). */
static char *ruri_of_route(const sipsess_uri *u)
{
    sipsess_str t = sipsess_uri_text(u);
    size_t n = t.len;
    const char *q = memchr(t.p, '?', t.len);
    if (q)
        n = (size_t)(q - t.p);
    char *s = sipsess__dlg_strdup(sipsess__str(t.p, n));
    if (!s)
        return NULL;
    char *mp = strstr(s, ";method=");
    if (mp) {
        char *end = strchr(mp + 1, ';');
        memmove(mp, end ? end : mp + strlen(mp), strlen(end ? end : mp + strlen(mp)) + 1);
    }
    return s;
}

int sipsess__dialog_build(const sipsess__dialog *d, sipsess_msgbuilder *mb, const char *method,
                          uint32_t cseq, sipsess_str via)
{
    if (!d->target_uri || !d->call_id)
        return SIPSESS_EINVAL;
    bool strict = d->nroutes > 0 && !route_is_loose(d->route_uris[0]);
    char *ruri = strict ? ruri_of_route(d->route_uris[0]) : cdup(d->target);
    if (!ruri)
        return SIPSESS_ENOMEM;
    int rc = sipsess_msgbuilder_request(mb, method, ruri);
    sipsess__free(ruri);
    if (rc == 0)
        rc = sipsess_msgbuilder_header_str(mb, sipsess__str_c("Via"), via);
    if (rc == 0)
        rc = sipsess_msgbuilder_header(mb, "Max-Forwards", "70");
    if (strict) {
        /* §12.2.1.1, strict: "the UAC MUST place the first URI from the
         * route set into the Request-URI ... the remaining URIs in the
         * route set in order ... then the remote target". */
        for (size_t i = 1; rc == 0 && i < d->nroutes; i++)
            rc = sipsess_msgbuilder_header(mb, "Route", d->routes[i]);
        if (rc == 0) {
            size_t n = strlen(d->target) + 3;
            char *t = sipsess__malloc(n);
            if (!t)
                return SIPSESS_ENOMEM;
            snprintf(t, n, "<%s>", d->target);
            rc = sipsess_msgbuilder_header(mb, "Route", t);
            sipsess__free(t);
        }
    } else {
        for (size_t i = 0; rc == 0 && i < d->nroutes; i++)
            rc = sipsess_msgbuilder_header(mb, "Route", d->routes[i]);
    }
    char cs[48];
    snprintf(cs, sizeof cs, "%lu %s", (unsigned long)cseq, method);
    if (rc == 0)
        rc = sipsess_msgbuilder_header(mb, "From", d->local_hdr);
    if (rc == 0)
        rc = sipsess_msgbuilder_header(mb, "To", d->remote_hdr);
    if (rc == 0)
        rc = sipsess_msgbuilder_header(mb, "Call-ID", d->call_id);
    if (rc == 0)
        rc = sipsess_msgbuilder_header(mb, "CSeq", cs);
    return rc;
}
