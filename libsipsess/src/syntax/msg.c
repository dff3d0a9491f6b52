/*
 * SIP message parser (RFC 3261 §7, §18.3, §25): start line, header
 * section (folding, compact names, comma lists), body framing, and the
 * checks that make a message usable (mandatory headers, single-valued
 * headers, CSeq method).
 *
 * One allocation per message: [struct sipsess_msg][header table][bytes][pad].
 * Before allocating, one vector pass over the caller's header section finds
 * the empty line and counts line feeds and commas: every header value starts
 * a line or follows a comma, so the count sizes the table exactly and no
 * message ever needs a second block. The copy is followed by 16 zero bytes
 * so the per-line scanner can load 16 bytes at a time without a bounds test:
 * a zero byte stops it at the latest at the end of the copy.
 */
#include "syntax.h"

/* SSE2 where the compiler has it; else eight bytes at a time on a
 * little-endian machine; else a byte at a time. SIPSESS__NO_SIMD and
 * SIPSESS__NO_SWAR select the fallbacks on x86-64 too, so they get tested. */
#if defined(SIPSESS__SSE2)
#define USE_SSE2 1
#elif defined(__GNUC__) && defined(__BYTE_ORDER__) && \
    __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__ && !defined(SIPSESS__NO_SWAR)
#define USE_SWAR 1
#endif

/* Zero bytes after the copy of a message (see the file comment). */
#define PAD 16

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

static inline bool is_lws(char c)
{
    return SIPSESS__IS(c, SIPSESS__C_LWS);
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
        m->version = sipsess__str(p, (size_t)(sp - p));
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
    m->version = sipsess__str(vs, (size_t)(ve - vs));
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
    e = sipsess__uri_parse_delim(&m->ruri, us, (size_t)(ue - us), c->o->max_uri_len);
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
/* header lines                                                      */

/*
 * First byte at or after `p` that is below 0x20 or is DEL: CR, LF and HT,
 * which the caller handles, and the control bytes it must refuse. `*comma`
 * is set when a ',' comes before that byte, which spares a list header the
 * splitter when it holds a single value. Unbounded: the copy of the
 * message ends with a zero byte, and the loads past it stay in the PAD.
 */
static inline const char *find_stop(const char *p, unsigned *comma)
{
#if defined(USE_SSE2)
    const __m128i lim = _mm_set1_epi8(0x1f), del = _mm_set1_epi8(0x7f),
                  cm = _mm_set1_epi8(',');
    for (;; p += 16) {
        __m128i x = _mm_loadu_si128((const __m128i *)(const void *)p);
        /* min(x, 0x1f) == x is the unsigned x <= 0x1f SSE2 lacks */
        __m128i stop = _mm_or_si128(_mm_cmpeq_epi8(_mm_min_epu8(x, lim), x),
                                    _mm_cmpeq_epi8(x, del));
        unsigned sm = (unsigned)_mm_movemask_epi8(stop);
        unsigned cmm = (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(x, cm));
        if (sm) {
            unsigned i = (unsigned)__builtin_ctz(sm);
            *comma |= cmm & ((1u << i) - 1);
            return p + i;
        }
        *comma |= cmm;
    }
#elif defined(USE_SWAR)
    /* The classic "has a byte less than n" word tests. Only the lowest
     * flagged byte is exact (a borrow can flag bytes above it), which is
     * all that is used: the stop position, and whether a comma flag lies
     * below it. */
    const uint64_t ones = 0x0101010101010101u, highs = 0x8080808080808080u;
    for (;; p += 8) {
        uint64_t w;
        memcpy(&w, p, sizeof w);
        uint64_t d = w ^ (ones * 0x7f), k = w ^ (ones * ',');
        uint64_t stop = ((w - ones * 0x20) & ~w & highs) | ((d - ones) & ~d & highs);
        uint64_t cmm = (k - ones) & ~k & highs;
        if (stop) {
            unsigned i = (unsigned)__builtin_ctzll(stop) / 8;
            *comma |= (cmm & ((1ull << (8 * i)) - 1)) != 0;
            return p + i;
        }
        *comma |= cmm != 0;
    }
#else
    for (;; p++) {
        unsigned char ch = (unsigned char)*p;
        if (ch < 0x20 || ch == 0x7f)
            return p;
        *comma |= ch == ',';
    }
#endif
}

/* Quote state of a header value, advanced lazily: only a control byte
 * needs it, and resuming where the last question stopped keeps many
 * control bytes in one value linear. */
struct qstate {
    const char *at;
    bool quoted;
};

/* Whether the control byte at `q` is a quoted-pair inside a quoted string
 * (RFC 3261 §25.1 quoted-pair = "\" %x00-09 / %x0B-0C / %x0E-7F: the one
 * place where a control byte is legal in a header; RFC 4475 intmeth). */
static bool escaped_in_quotes(struct qstate *st, const char *q)
{
    const char *p = st->at;
    bool quoted = st->quoted;
    while (p < q) {
        if (quoted) {
            if (*p == '\\') {
                if (p + 1 == q) {
                    st->at = q + 1;
                    st->quoted = true;
                    return true;
                }
                p += 2;
                continue;
            }
            if (*p == '"')
                quoted = false;
        } else if (*p == '"') {
            quoted = true;
        }
        p++;
    }
    return false;
}

struct vline {
    const char *lf;   /* the line feed ending the logical line, or hl_end */
    const char *next; /* first byte of the next line */
    unsigned comma;   /* nonzero: the value holds a ',' */
};

/*
 * The value of one header field, from `p` (after the colon) to the end of
 * its logical line; a line break followed by SP or HT is a fold and the
 * line goes on (§7.3.1). Each byte is checked on the way, by the same
 * vector loop that looks for the line end: CR only as part of CRLF, and no
 * control byte (0x00-0x08, 0x0A-0x1F, 0x7F) but inside a quoted-pair. HT
 * and UTF-8 are text. `hl_end` is where the empty line starts, or the end
 * of the message when there is none.
 */
static int scan_value(struct pctx *c, const char *p, const char *hl_end, struct vline *vl)
{
    struct qstate qs = {p, false};
    unsigned comma = 0;
    const char *lf;
    for (;;) {
        const char *q = find_stop(p, &comma);
        if (q >= hl_end) {
            /* the last line of a message with no empty line */
            vl->lf = vl->next = hl_end;
            break;
        }
        if (*q == '\n') {
            lf = q;
        } else if (*q == '\r') {
            if (q[1] != '\n')
                return hard_err(c, SIPSESS_EHEADER, q); /* bare CR */
            lf = q + 1;
        } else {
            if (*q != '\t' && !escaped_in_quotes(&qs, q))
                return hard_err(c, SIPSESS_EHEADER, q);
            p = q + 1;
            continue;
        }
        if (lf + 1 < hl_end && is_ws(lf[1])) {
            p = lf + 1;
            continue;
        }
        vl->lf = lf;
        vl->next = lf + 1;
        break;
    }
    vl->comma = comma;
    return 0;
}

static inline int add_value(struct pctx *c, sipsess_hdr_id id, sipsess_str name, const char *vb,
                            const char *ve)
{
    struct sipsess_msg *m = c->m;
    while (vb < ve && is_lws(*vb))
        vb++;
    while (ve > vb && is_lws(ve[-1]))
        ve--;
    if (m->nhdr >= c->o->max_headers)
        return hard_err(c, SIPSESS_ETOOMANYHDRS, name.p);
    if (id == SIPSESS_HDR_VIA && ++c->nvia > c->o->max_via)
        return hard_err(c, SIPSESS_ETOOMANYVIA, name.p);
    /* The table was sized from the header section (see the file comment);
     * this is a guard, never expected to fire. */
    if (m->nhdr == m->cap)
        return hard_err(c, SIPSESS_ETOOMANYHDRS, name.p);
    uint32_t idx = m->nhdr++;
    struct sipsess_hdr *h = &m->hdr[idx];
    h->id = (uint8_t)id;
    h->flags = 0;
    h->next = -1;
    h->name = name;
    h->value = sipsess__str(vb, (size_t)(ve - vb));

    h->tid = (uint8_t)id;
    int e = sipsess__hdr_parse_value(h, c->o);
    if (e) {
        h->flags |= SIPSESS__HF_BAD;
        h->tid = SIPSESS__TID_BAD;
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

/* The next byte in [p, end) the list splitter must look at: '"', '<', '>',
 * ',' or '\\'; `end` when there is none. A list like Allow has a comma
 * every few bytes, so the vector loop mostly runs once per element. It may
 * load past `end`, inside the copy or its PAD (end is at most the end of
 * the copy). */
static inline const char *next_split(const char *p, const char *end)
{
#if defined(USE_SSE2)
    const __m128i dq = _mm_set1_epi8('"'), lt = _mm_set1_epi8('<'), gt = _mm_set1_epi8('>'),
                  cm = _mm_set1_epi8(','), bs = _mm_set1_epi8('\\');
    for (; p < end; p += 16) {
        __m128i x = _mm_loadu_si128((const __m128i *)(const void *)p);
        __m128i m = _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(x, dq), _mm_cmpeq_epi8(x, lt)),
                                 _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(x, gt), _mm_cmpeq_epi8(x, cm)),
                                              _mm_cmpeq_epi8(x, bs)));
        unsigned bits = (unsigned)_mm_movemask_epi8(m);
        if (bits) {
            p += __builtin_ctz(bits);
            return p < end ? p : end;
        }
    }
    return end;
#else
    while (p < end && !SIPSESS__IS(*p, SIPSESS__C_SPLIT) && *p != '\\')
        p++;
    return p;
#endif
}

/* Split a list value at top-level commas: outside quoted strings and <...>.
 * Comments are not tracked: no list header the library splits has a
 * comment in its RFC 3261 grammar (RFC 2543 allowed one in Via), so a
 * comma inside parentheses splits the value and the pieces fail their
 * typed parse. An empty element is a syntax error unless the whole value
 * is empty (Allow:, Supported: and Accept: may be empty). */
static int add_list(struct pctx *c, sipsess_hdr_id id, sipsess_str name, const char *vb,
                    const char *ve)
{
    const char *s = vb, *p = vb;
    bool quoted = false;
    int angle = 0;
    bool any = false;
    for (; (p = next_split(p, ve)) < ve; p++) {
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
            while (a < p && is_lws(*a))
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
    while (a < ve && is_lws(*a))
        a++;
    if (a == ve && any)
        return soft_err(c, SIPSESS_EHEADER, ve);
    return add_value(c, id, name, s, ve);
}

/* Parse the header lines in [p, hl_end). Returns 0 or an error. */
static int parse_headers(struct pctx *c, const char *p, const char *hl_end)
{
    while (p < hl_end) {
        if (is_ws(*p))
            return hard_err(c, SIPSESS_EHEADER, p); /* fold with no header */
        if (*p == '\r' && p + 1 == hl_end)
            break; /* a datagram cut inside its empty line: no body */
        const char *ns = p;
        /* No bounds test: a line ends with LF or, at the end of the
         * message, with the zero byte after the copy; neither is a token
         * byte or white space. Unrolled: names are 4 to 20 bytes. */
        for (;; p += 4) {
            if (!SIPSESS__IS(p[0], SIPSESS__C_TOKEN))
                break;
            if (!SIPSESS__IS(p[1], SIPSESS__C_TOKEN)) {
                p += 1;
                break;
            }
            if (!SIPSESS__IS(p[2], SIPSESS__C_TOKEN)) {
                p += 2;
                break;
            }
            if (!SIPSESS__IS(p[3], SIPSESS__C_TOKEN)) {
                p += 3;
                break;
            }
        }
        sipsess_str name = sipsess__str(ns, (size_t)(p - ns));
        while (is_ws(*p))
            p++;
        if (!name.len || p >= hl_end || *p != ':')
            return hard_err(c, SIPSESS_EHEADER, p);
        p++;
        struct vline vl;
        int e = scan_value(c, p, hl_end, &vl);
        if (e)
            return e;
        /* The line's CR is no more part of the field than its LF. */
        const char *le = vl.lf > ns && vl.lf < hl_end && vl.lf[-1] == '\r' ? vl.lf - 1 : vl.lf;
        if ((size_t)(le - ns) > c->o->max_header_len)
            return hard_err(c, SIPSESS_EHDRTOOLONG, ns);
        sipsess_hdr_id id = sipsess__hdr_lookup(name.p, name.len);
        e = vl.comma && sipsess__hdr_is_list(id) ? add_list(c, id, name, p, vl.lf)
                                                 : add_value(c, id, name, p, vl.lf);
        if (e)
            return e;
        p = vl.next;
    }
    return 0;
}

/* ---------------------------------------------------------------- */

/* A line feed at `lf` ends the header section when the empty line follows
 * it; *body then gets the first body byte. */
static inline bool empty_line_after(const char *lf, const char *end, const char **body)
{
    const char *q = lf + 1;
    if (q < end && *q == '\n') {
        *body = q + 1;
        return true;
    }
    if (q + 1 < end && q[0] == '\r' && q[1] == '\n') {
        *body = q + 2;
        return true;
    }
    return false;
}

/*
 * The header section of the caller's bytes [d, end): returns the number of
 * line feeds and commas in it, which bounds its header values, and sets
 * *body past the empty line (NULL when there is none: then every byte is
 * header section). Reads only [d, end): the caller's buffer has no pad.
 */
static size_t scan_section(const char *d, const char *end, const char **body)
{
    size_t n = 0;
    const char *p = d;
    *body = NULL;
#if defined(USE_SSE2)
    const __m128i nl = _mm_set1_epi8('\n'), cm = _mm_set1_epi8(','), zero = _mm_setzero_si128();
    __m128i acc = zero;
    unsigned rounds = 0;
    for (; end - p >= 16; p += 16) {
        __m128i x = _mm_loadu_si128((const __m128i *)(const void *)p);
        __m128i lf = _mm_cmpeq_epi8(x, nl), hit = _mm_or_si128(lf, _mm_cmpeq_epi8(x, cm));
        unsigned lm = (unsigned)_mm_movemask_epi8(lf);
        for (unsigned b = lm; b; b &= b - 1) {
            unsigned i = (unsigned)__builtin_ctz(b);
            if (empty_line_after(p + i, end, body)) {
                /* Count this block only up to the line feed. */
                unsigned keep = (unsigned)_mm_movemask_epi8(hit) & ((2u << i) - 1);
                for (; keep; keep &= keep - 1)
                    n++;
                goto sum;
            }
        }
        /* Each lane counts its hits (a compare gives -1); no lane can pass
         * 255 before it is emptied. */
        acc = _mm_sub_epi8(acc, hit);
        if (++rounds == 255) {
            uint64_t s[2];
            _mm_storeu_si128((__m128i *)(void *)s, _mm_sad_epu8(acc, zero));
            n += s[0] + s[1];
            acc = zero;
            rounds = 0;
        }
    }
#endif
    for (; p < end; p++) {
        if (*p == ',') {
            n++;
        } else if (*p == '\n') {
            n++;
            if (empty_line_after(p, end, body))
                break;
        }
    }
#if defined(USE_SSE2)
sum:;
    uint64_t s[2];
    _mm_storeu_si128((__m128i *)(void *)s, _mm_sad_epu8(acc, zero));
    n += s[0] + s[1];
#endif
    return n;
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
    const char *body;
    size_t nvalues = scan_section(d, dend, &body);

    uint32_t cap = (uint32_t)(nvalues < o.max_headers ? nvalues + 2 : o.max_headers + 1);
    size_t mlen = (size_t)(dend - d);
    size_t hsz = sizeof(struct sipsess_msg) + (size_t)cap * sizeof(struct sipsess_hdr);
    char *blk = sipsess__malloc(hsz + mlen + PAD);
    if (!blk)
        return SIPSESS_ENOMEM;
    struct sipsess_msg *m = (struct sipsess_msg *)blk;
    char *buf = blk + hsz;
    memcpy(buf, d, mlen);
    memset(buf + mlen, 0, PAD);
    memset(m, 0, offsetof(struct sipsess_msg, first));
    memset(m->first, 0xff, sizeof m->first);
    m->refs = 1;
    m->buf = buf;
    m->len = mlen;
    m->hdr = (struct sipsess_hdr *)(blk + sizeof(struct sipsess_msg));
    m->cap = cap;

    size_t base_off = (size_t)(d - (const char *)data);
    struct pctx c = {m, &o, (o.flags & SIPSESS_PARSE_LENIENT) != 0, 0, err_off};
    const char *bend = buf + mlen;
    /* hend: first body byte; hl_end: first byte of the empty line. */
    const char *hend = body ? buf + (body - d) : bend;
    /* The empty line is LF or CRLF: the byte before it is the previous
     * line's LF, never a CR. */
    const char *hl_end = !body ? bend : hend[-2] == '\r' ? hend - 2 : hend - 1;
    int e;

    const char *eol = memchr(buf, '\n', (size_t)(hend - buf));
    if (!eol) {
        e = hard_err(&c, SIPSESS_ETRUNCATED, bend);
        goto fail;
    }
    const char *sl_end = (eol > buf && eol[-1] == '\r') ? eol - 1 : eol;
    if ((e = parse_start(&c, buf, sl_end)))
        goto fail;
    if ((e = parse_headers(&c, eol + 1, hl_end)))
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
    sipsess__free(msg); /* the header table and the bytes are in the block */
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

SIPSESS_API sipsess_str sipsess_msg_version(const sipsess_msg *msg)
{
    return msg ? msg->version : g_none;
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
