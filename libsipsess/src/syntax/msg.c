/*
 * SIP message parser (RFC 3261 §7, §18.3, §25): start line, header
 * section (folding, compact names, comma lists), body framing, and the
 * checks that make a message usable (mandatory headers, single-valued
 * headers, CSeq method).
 *
 * One allocation per message: [struct sipsess_msg][header table][bytes].
 * The table is sized from the number of line feeds and commas in the header
 * section, which bounds the number of header values; only a last header line
 * without a line feed can need more, and then the table moves to a second
 * block.
 */
#include "syntax.h"

SIPSESS_API void sipsess_parse_opts_init(sipsess_parse_opts *o)
{
    if (!o)
        return;
    memset(o, 0, sizeof *o);
    o->struct_size = sizeof *o;
    o->flags = 0;
    o->max_msg_size = 65536;
    o->max_headers = 256;
    o->max_header_len = 8192;
    o->max_uri_len = 4096;
    o->max_via = 64;
}

/* Copy the caller's options, tolerating an older (shorter) struct. */
static void opts_load(sipsess_parse_opts *dst, const sipsess_parse_opts *src)
{
    sipsess_parse_opts_init(dst);
    if (!src)
        return;
    size_t n = src->struct_size;
    if (n > sizeof *dst)
        n = sizeof *dst;
    if (n > sizeof(uint32_t))
        memcpy((char *)dst + sizeof(uint32_t), (const char *)src + sizeof(uint32_t),
               n - sizeof(uint32_t));
    dst->struct_size = sizeof *dst;
    /* Header indexes are int16_t. */
    if (dst->max_headers > 30000)
        dst->max_headers = 30000;
}

struct pctx {
    struct sipsess_msg *m;
    const sipsess_parse_opts *o;
    bool lenient;
    uint32_t nvia;
    size_t *err_off;
    struct sipsess_hdr *inline_hdr;
};

/* Record a recoverable error. Returns the code when parsing must stop
 * (strict mode), 0 when it may go on. */
static int soft_err(struct pctx *c, int code, const char *at)
{
    struct sipsess_msg *m = c->m;
    if (!m->err) {
        m->err = code;
        m->err_off = (size_t)(at - m->buf);
    }
    if (!c->lenient) {
        if (c->err_off)
            *c->err_off = m->err_off;
        return code;
    }
    return 0;
}

static int hard_err(struct pctx *c, int code, const char *at)
{
    if (c->err_off)
        *c->err_off = (size_t)(at - c->m->buf);
    return code;
}

static inline bool is_ws(char c)
{
    return c == ' ' || c == '\t';
}

/* ---------------------------------------------------------------- */
/* start line                                                        */

/* "SIP/2.0", case-insensitive; EVERSION for another well-formed version,
 * ESTARTLINE for anything else. */
static int check_version(const char *p, size_t n)
{
    if (n < 7 || sipsess__lower((unsigned char)p[0]) != 's' ||
        sipsess__lower((unsigned char)p[1]) != 'i' || sipsess__lower((unsigned char)p[2]) != 'p' ||
        p[3] != '/')
        return SIPSESS_ESTARTLINE;
    size_t i = 4, d1 = 0, d2 = 0;
    while (i < n && p[i] >= '0' && p[i] <= '9')
        i++, d1++;
    if (!d1 || i >= n || p[i] != '.')
        return SIPSESS_ESTARTLINE;
    i++;
    while (i < n && p[i] >= '0' && p[i] <= '9')
        i++, d2++;
    if (!d2 || i != n)
        return SIPSESS_ESTARTLINE;
    return (n == 7 && p[4] == '2' && p[6] == '0') ? 0 : SIPSESS_EVERSION;
}

static int parse_start(struct pctx *c, const char *p, const char *eol)
{
    struct sipsess_msg *m = c->m;
    int e;
    if (eol - p >= 4 && memcmp(p, "SIP/", 4) == 0) {
        const char *sp = memchr(p, ' ', (size_t)(eol - p));
        if (!sp)
            return hard_err(c, SIPSESS_ESTARTLINE, p);
        e = check_version(p, (size_t)(sp - p));
        if (e == SIPSESS_ESTARTLINE)
            return hard_err(c, e, p);
        if (e && (e = soft_err(c, e, p)))
            return e;
        const char *q = sp + 1, *ds = q;
        while (q < eol && *q >= '0' && *q <= '9')
            q++;
        if (q - ds != 3 || (q < eol && *q != ' '))
            return hard_err(c, SIPSESS_ESTATUS, ds);
        unsigned st = (unsigned)((ds[0] - '0') * 100 + (ds[1] - '0') * 10 + (ds[2] - '0'));
        if (st < 100 || st > 699)
            return hard_err(c, SIPSESS_ESTATUS, ds);
        m->is_request = 0;
        m->status = (uint16_t)st;
        m->method = SIPSESS_METHOD_OTHER;
        /* Reason-Phrase may be empty (RFC 4475 noreason) and UTF-8. */
        m->reason = q < eol ? sipsess__str(q + 1, (size_t)(eol - q - 1)) : sipsess__str(q, 0);
        for (size_t i = 0; i < m->reason.len; i++) {
            unsigned char ch = (unsigned char)m->reason.p[i];
            if ((ch < 0x20 && ch != '\t') || ch == 0x7f)
                return hard_err(c, SIPSESS_ESTARTLINE, m->reason.p + i);
        }
        return 0;
    }

    const char *q = p;
    while (q < eol && SIPSESS__IS(*q, SIPSESS__C_TOKEN))
        q++;
    if (q == p || q >= eol || *q != ' ')
        return hard_err(c, SIPSESS_ESTARTLINE, q);
    m->is_request = 1;
    m->method_name = sipsess__str(p, (size_t)(q - p));
    m->method = (uint8_t)sipsess_method_from(p, (size_t)(q - p));

    /* The version is the last word; everything between is the URI. Extra
     * spaces are reported (RFC 4475 lwsstart, trws, lwsruri) but the
     * message is still usable for a 400 in lenient mode. */
    const char *ve = eol;
    while (ve > q && is_ws(ve[-1]))
        ve--;
    bool trailing_ws = ve != eol;
    const char *vs = ve;
    while (vs > q && !is_ws(vs[-1]))
        vs--;
    if (vs <= q + 1)
        return hard_err(c, SIPSESS_ESTARTLINE, q);
    e = check_version(vs, (size_t)(ve - vs));
    if (e == SIPSESS_ESTARTLINE)
        return hard_err(c, e, vs);
    if (e && (e = soft_err(c, e, vs)))
        return e;
    const char *us = q + 1, *ue = vs - 1;
    bool extra_ws = trailing_ws || ue - us < 1 || is_ws(*us) || is_ws(ue[-1]);
    /* Report the first extra space itself, wherever it is. */
    const char *ws_at = is_ws(*us) ? us : ue > us && is_ws(ue[-1]) ? ue - 1 : trailing_ws ? ve : us;
    if (extra_ws && (e = soft_err(c, SIPSESS_ESTARTLINE, ws_at)))
        return e;
    while (us < ue && is_ws(*us))
        us++;
    while (ue > us && is_ws(ue[-1]))
        ue--;
    if (ue == us)
        return hard_err(c, SIPSESS_ESTARTLINE, us);
    e = sipsess__uri_parse_into(&m->ruri, us, (size_t)(ue - us), c->o->max_uri_len);
    if (e == SIPSESS_EURITOOLONG)
        return hard_err(c, e, us);
    if (!e && (m->ruri.scheme_id == SIPSESS_URI_SIP || m->ruri.scheme_id == SIPSESS_URI_SIPS) &&
        m->ruri.headers.p)
        e = SIPSESS_EURI; /* §19.1.1: headers are not allowed in a Request-URI */
    if (e) {
        memset(&m->ruri, 0, sizeof m->ruri);
        m->ruri.text = sipsess__str(us, (size_t)(ue - us));
        if ((e = soft_err(c, e, us)))
            return e;
    }
    return 0;
}

/* ---------------------------------------------------------------- */
/* headers                                                           */

static int grow_table(struct pctx *c)
{
    struct sipsess_msg *m = c->m;
    uint32_t ncap = m->cap * 2 + 8;
    struct sipsess_hdr *n;
    if (m->hdr == c->inline_hdr) {
        n = sipsess__malloc(ncap * sizeof *n);
        if (n)
            memcpy(n, m->hdr, m->nhdr * sizeof *n);
    } else {
        n = sipsess__realloc(m->hdr, ncap * sizeof *n);
    }
    if (!n)
        return SIPSESS_ENOMEM;
    m->hdr = n;
    m->cap = ncap;
    return 0;
}

static int add_value(struct pctx *c, sipsess_hdr_id id, sipsess_str name, const char *vb,
                     const char *ve)
{
    struct sipsess_msg *m = c->m;
    while (vb < ve && (is_ws(*vb) || *vb == '\r' || *vb == '\n'))
        vb++;
    while (ve > vb && (is_ws(ve[-1]) || ve[-1] == '\r' || ve[-1] == '\n'))
        ve--;
    if (m->nhdr >= c->o->max_headers)
        return hard_err(c, SIPSESS_ETOOMANYHDRS, name.p);
    if (id == SIPSESS_HDR_VIA && ++c->nvia > c->o->max_via)
        return hard_err(c, SIPSESS_ETOOMANYVIA, name.p);
    if (m->nhdr == m->cap) {
        int e = grow_table(c);
        if (e)
            return hard_err(c, e, name.p);
    }
    uint32_t idx = m->nhdr++;
    struct sipsess_hdr *h = &m->hdr[idx];
    h->id = (uint8_t)id;
    h->flags = 0;
    h->next = -1;
    h->name = name;
    h->value = sipsess__str(vb, (size_t)(ve - vb));

    int e = sipsess__hdr_parse_value(h, c->o);
    if (e) {
        h->flags |= SIPSESS__HF_BAD;
        if (e == SIPSESS_EURITOOLONG)
            return hard_err(c, e, vb);
        if ((e = soft_err(c, e, vb)))
            return e;
    }
    if (m->first[id] < 0) {
        m->first[id] = (int16_t)idx;
    } else {
        if (sipsess__hdr_is_single(id)) {
            if ((e = soft_err(c, SIPSESS_EDUPLICATE, name.p)))
                return e;
        } else if (id == SIPSESS_HDR_CONTENT_LENGTH) {
            /* Two lengths that disagree make framing undefined (RFC 4475
             * mcl01); an exact repeat is harmless. */
            const struct sipsess_hdr *f = &m->hdr[m->first[id]];
            if (f->number != h->number && (e = soft_err(c, SIPSESS_ECLEN, name.p)))
                return e;
        }
        m->hdr[m->last[id]].next = (int16_t)idx;
    }
    m->last[id] = (int16_t)idx;
    return 0;
}

/* Split a list value at top-level commas (outside quotes, <> and
 * comments). An empty element is a syntax error unless the whole value is
 * empty (Allow:, Supported: and Accept: may be empty). */
static int add_list(struct pctx *c, sipsess_hdr_id id, sipsess_str name, const char *vb,
                    const char *ve)
{
    /* Most list values hold one element: only a comma makes splitting
     * necessary, and memchr finds out much faster than the scan below. */
    if (!memchr(vb, ',', (size_t)(ve - vb)))
        return add_value(c, id, name, vb, ve);
    const char *s = vb, *p = vb;
    bool quoted = false;
    int angle = 0;
    bool any = false;
    for (; p < ve; p++) {
        char ch = *p;
        if (quoted) {
            if (ch == '\\' && p + 1 < ve)
                p++;
            else if (ch == '"')
                quoted = false;
            continue;
        }
        if (ch == '"')
            quoted = true;
        else if (ch == '<')
            angle++;
        else if (ch == '>' && angle)
            angle--;
        else if (ch == ',' && !angle) {
            const char *a = s;
            while (a < p && (is_ws(*a) || *a == '\r' || *a == '\n'))
                a++;
            if (a == p) {
                int e = soft_err(c, SIPSESS_EHEADER, p);
                if (e)
                    return e;
            } else {
                int e = add_value(c, id, name, s, p);
                if (e)
                    return e;
            }
            any = true;
            s = p + 1;
        }
    }
    const char *a = s;
    while (a < ve && (is_ws(*a) || *a == '\r' || *a == '\n'))
        a++;
    if (a == ve && any)
        return soft_err(c, SIPSESS_EHEADER, ve);
    return add_value(c, id, name, s, ve);
}

/* Parse header lines in [p, hend). Returns 0 or an error. */
static int parse_headers(struct pctx *c, const char *p, const char *hend)
{
    while (p < hend) {
        if (*p == '\r' || *p == '\n')
            break; /* the empty line */
        if (is_ws(*p))
            return hard_err(c, SIPSESS_EHEADER, p); /* fold with no header */
        const char *ns = p;
        while (p < hend && SIPSESS__IS(*p, SIPSESS__C_TOKEN))
            p++;
        sipsess_str name = sipsess__str(ns, (size_t)(p - ns));
        while (p < hend && is_ws(*p))
            p++;
        if (!name.len || p >= hend || *p != ':')
            return hard_err(c, SIPSESS_EHEADER, p);
        p++;
        /* Logical line end: an LF not followed by SP/HT (§7.3.1 folding). */
        const char *lf = p;
        for (;;) {
            lf = memchr(lf, '\n', (size_t)(hend - lf));
            if (!lf) {
                lf = hend;
                break;
            }
            if (lf + 1 < hend && is_ws(lf[1])) {
                lf++;
                continue;
            }
            break;
        }
        /* The line's CR is no more part of the field than its LF. */
        const char *le = lf > ns && lf[-1] == '\r' ? lf - 1 : lf;
        if ((size_t)(le - ns) > c->o->max_header_len)
            return hard_err(c, SIPSESS_EHDRTOOLONG, ns);
        const char *ve = lf;
        sipsess_hdr_id id = sipsess__hdr_lookup(name.p, name.len);
        int e = sipsess__hdr_is_list(id) ? add_list(c, id, name, p, ve)
                                         : add_value(c, id, name, p, ve);
        if (e)
            return e;
        p = lf < hend ? lf + 1 : hend;
    }
    return 0;
}

/* ---------------------------------------------------------------- */

/* `*nvalues` bounds the header values of the section: each one starts a
 * line or follows a comma. */
static const char *find_header_end(const char *d, const char *end, size_t *nvalues,
                                   const char **body)
{
    size_t n = 0;
    const char *p = d;
    *body = NULL;
    while (p < end) {
        const char *lf = memchr(p, '\n', (size_t)(end - p));
        if (!lf)
            break;
        for (const char *q = p; (q = memchr(q, ',', (size_t)(lf - q))) != NULL; q++)
            n++;
        n++;
        p = lf + 1;
        if (p < end && *p == '\n') {
            *body = p + 1;
            break;
        }
        if (p + 1 < end && p[0] == '\r' && p[1] == '\n') {
            *body = p + 2;
            break;
        }
    }
    *nvalues = n;
    return p;
}

int sipsess__msg_parse(const void *data, size_t len, const sipsess_parse_opts *opts,
                       bool stream, sipsess_msg **out, size_t *err_off)
{
    if (!data || !out)
        return SIPSESS_EINVAL;
    sipsess_parse_opts o;
    opts_load(&o, opts);
    if (len > o.max_msg_size) {
        if (err_off)
            *err_off = o.max_msg_size;
        return SIPSESS_ETOOBIG;
    }

    const char *d = data, *dend = d + len;
    /* §7.5: ignore CRLFs before the start line. */
    while (d < dend && (*d == '\r' || *d == '\n'))
        d++;
    if (d == dend) {
        if (err_off)
            *err_off = len;
        return SIPSESS_ETRUNCATED;
    }
    size_t nvalues;
    const char *body;
    find_header_end(d, dend, &nvalues, &body);

    uint32_t cap = (uint32_t)(nvalues < o.max_headers ? nvalues + 2 : o.max_headers + 1);
    size_t mlen = (size_t)(dend - d);
    size_t hsz = sizeof(struct sipsess_msg) + (size_t)cap * sizeof(struct sipsess_hdr);
    char *blk = sipsess__malloc(hsz + mlen + 1);
    if (!blk)
        return SIPSESS_ENOMEM;
    struct sipsess_msg *m = (struct sipsess_msg *)blk;
    char *buf = blk + hsz;
    memcpy(buf, d, mlen);
    buf[mlen] = '\0';
    memset(m, 0, offsetof(struct sipsess_msg, first));
    memset(m->first, 0xff, sizeof m->first);
    m->refs = 1;
    m->buf = buf;
    m->len = mlen;
    m->hdr = (struct sipsess_hdr *)(blk + sizeof(struct sipsess_msg));
    m->cap = cap;

    size_t base_off = (size_t)(d - (const char *)data);
    struct pctx c = {m, &o, (o.flags & SIPSESS_PARSE_LENIENT) != 0, 0, err_off, m->hdr};
    const char *bend = buf + mlen;
    const char *hend = body ? buf + (body - d) : bend;
    int e;

    const char *eol = memchr(buf, '\n', (size_t)(hend - buf));
    if (!eol) {
        e = hard_err(&c, SIPSESS_ETRUNCATED, bend);
        goto fail;
    }
    const char *sl_end = (eol > buf && eol[-1] == '\r') ? eol - 1 : eol;
    if ((e = parse_start(&c, buf, sl_end)))
        goto fail;
    if ((e = parse_headers(&c, eol + 1, hend)))
        goto fail;

    /* Mandatory headers (§8.1.1; Max-Forwards is left out so RFC 2543
     * requests stay acceptable, RFC 4475 inv2543). */
    static const uint8_t mandatory[] = {SIPSESS_HDR_VIA, SIPSESS_HDR_FROM, SIPSESS_HDR_TO,
                                        SIPSESS_HDR_CALL_ID, SIPSESS_HDR_CSEQ};
    for (size_t i = 0; i < sizeof mandatory; i++) {
        if (m->first[mandatory[i]] < 0 && (e = soft_err(&c, SIPSESS_EMISSING, hend)))
            goto fail;
    }
    if (m->is_request && m->first[SIPSESS_HDR_CSEQ] >= 0) {
        const struct sipsess_hdr *cs = &m->hdr[m->first[SIPSESS_HDR_CSEQ]];
        if (!(cs->flags & SIPSESS__HF_BAD) &&
            (cs->u.cseq.mname.len != m->method_name.len ||
             memcmp(cs->u.cseq.mname.p, m->method_name.p, m->method_name.len) != 0) &&
            (e = soft_err(&c, SIPSESS_ECSEQ, cs->value.p)))
            goto fail;
    }

    /* Body framing (§18.3, §20.14). */
    size_t avail = body ? (size_t)(bend - hend) : 0;
    const struct sipsess_hdr *cl = m->first[SIPSESS_HDR_CONTENT_LENGTH] >= 0
                                       ? &m->hdr[m->first[SIPSESS_HDR_CONTENT_LENGTH]]
                                       : NULL;
    if (cl && (cl->flags & SIPSESS__HF_BAD))
        cl = NULL; /* already reported as ECLEN */
    size_t blen = avail;
    if (cl) {
        blen = (size_t)cl->number;
        if (blen > avail) {
            e = stream ? SIPSESS_ETRUNCATED : SIPSESS_ECLEN;
            if ((e = soft_err(&c, e, bend)))
                goto fail;
            blen = avail;
        }
    } else if (stream && m->first[SIPSESS_HDR_CONTENT_LENGTH] < 0) {
        if ((e = soft_err(&c, SIPSESS_ECLEN, hend)))
            goto fail;
    }
    m->body = sipsess__str(hend, blen);
    m->len = (size_t)(hend - buf) + blen;
    /* Offsets count from the caller's first byte, as a strict failure's
     * do, not from after the CRLFs skipped above. */
    if (m->err)
        m->err_off += base_off;
    *out = m;
    return 0;

fail:
    if (err_off && e != SIPSESS_ENOMEM)
        *err_off += base_off;
    if (m->hdr != c.inline_hdr)
        sipsess__free(m->hdr);
    sipsess__free(m);
    return e;
}

SIPSESS_API int sipsess_msg_parse(const void *data, size_t len, const sipsess_parse_opts *opts,
                                  sipsess_msg **out, size_t *err_off)
{
    return sipsess__msg_parse(data, len, opts, false, out, err_off);
}

SIPSESS_API sipsess_msg *sipsess_msg_ref(sipsess_msg *msg)
{
    if (msg)
        msg->refs++;
    return msg;
}

SIPSESS_API void sipsess_msg_free(sipsess_msg *msg)
{
    if (!msg || --msg->refs > 0)
        return;
    if ((char *)msg->hdr != (char *)msg + sizeof(struct sipsess_msg))
        sipsess__free(msg->hdr);
    sipsess__free(msg);
}

/* ---------------------------------------------------------------- */
/* accessors                                                         */

static const sipsess_str g_none = {NULL, 0};

SIPSESS_API int sipsess_msg_error(const sipsess_msg *msg, size_t *err_off)
{
    if (!msg)
        return SIPSESS_EINVAL;
    if (err_off)
        *err_off = msg->err_off;
    return msg->err;
}

SIPSESS_API int sipsess_msg_is_request(const sipsess_msg *msg)
{
    return msg ? msg->is_request : 0;
}

SIPSESS_API sipsess_method sipsess_msg_method(const sipsess_msg *msg)
{
    return msg ? (sipsess_method)msg->method : SIPSESS_METHOD_OTHER;
}

SIPSESS_API sipsess_str sipsess_msg_method_name(const sipsess_msg *msg)
{
    return msg ? msg->method_name : g_none;
}

SIPSESS_API const sipsess_uri *sipsess_msg_ruri(const sipsess_msg *msg)
{
    return msg && msg->is_request ? &msg->ruri : NULL;
}

SIPSESS_API unsigned sipsess_msg_status(const sipsess_msg *msg)
{
    return msg ? msg->status : 0;
}

SIPSESS_API sipsess_str sipsess_msg_reason(const sipsess_msg *msg)
{
    return msg ? msg->reason : g_none;
}

SIPSESS_API sipsess_str sipsess_msg_body(const sipsess_msg *msg)
{
    return msg ? msg->body : g_none;
}

SIPSESS_API sipsess_str sipsess_msg_raw(const sipsess_msg *msg)
{
    return msg ? sipsess__str(msg->buf, msg->len) : g_none;
}

SIPSESS_API size_t sipsess_msg_hdr_count(const sipsess_msg *msg)
{
    return msg ? msg->nhdr : 0;
}

SIPSESS_API const sipsess_hdr *sipsess_msg_hdr_at(const sipsess_msg *msg, size_t i)
{
    return msg && i < msg->nhdr ? &msg->hdr[i] : NULL;
}

SIPSESS_API const sipsess_hdr *sipsess_msg_hdr(const sipsess_msg *msg, sipsess_hdr_id id,
                                              size_t nth)
{
    if (!msg || (unsigned)id >= SIPSESS_HDR__COUNT || id == SIPSESS_HDR_OTHER)
        return NULL;
    int i = msg->first[id];
    while (i >= 0 && nth--)
        i = msg->hdr[i].next;
    return i >= 0 ? &msg->hdr[i] : NULL;
}

SIPSESS_API size_t sipsess_msg_hdr_num(const sipsess_msg *msg, sipsess_hdr_id id)
{
    if (!msg || (unsigned)id >= SIPSESS_HDR__COUNT || id == SIPSESS_HDR_OTHER)
        return 0;
    size_t n = 0;
    for (int i = msg->first[id]; i >= 0; i = msg->hdr[i].next)
        n++;
    return n;
}

SIPSESS_API const sipsess_hdr *sipsess_msg_hdr_by_name(const sipsess_msg *msg, const char *name,
                                                      size_t nth)
{
    if (!msg || !name)
        return NULL;
    size_t len = strlen(name);
    sipsess_hdr_id id = sipsess__hdr_lookup(name, len);
    if (id != SIPSESS_HDR_OTHER)
        return sipsess_msg_hdr(msg, id, nth);
    sipsess_str n = {name, len};
    for (int i = msg->first[SIPSESS_HDR_OTHER]; i >= 0; i = msg->hdr[i].next) {
        if (sipsess__str_ieq2(msg->hdr[i].name, n) && nth-- == 0)
            return &msg->hdr[i];
    }
    return NULL;
}

SIPSESS_API const sipsess_hdr *sipsess_hdr_next(const sipsess_msg *msg, const sipsess_hdr *h)
{
    if (!msg || !h || h < msg->hdr || h >= msg->hdr + msg->nhdr)
        return NULL;
    /* Extension headers share one chain; skip the ones with other names. */
    for (int i = h->next; i >= 0; i = msg->hdr[i].next) {
        if (h->id != SIPSESS_HDR_OTHER || sipsess__str_ieq2(msg->hdr[i].name, h->name))
            return &msg->hdr[i];
    }
    return NULL;
}
