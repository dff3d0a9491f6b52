/*
 * Typed header values (RFC 3261 §20 and §25.1, RFC 3262, 3265/6665, 3311,
 * 3326, 3515, 3891, 4028, 4488, 6086). Each parser reads one value (a list
 * header has already been split at its top-level commas) and fills the
 * typed part of struct sipsess_hdr. Values are views: nothing is copied.
 *
 * Folding has been left in the value, so the scanners treat CR and LF as
 * linear whitespace: the message parser has checked that they only occur
 * as part of a fold.
 *
 * Every message runs every one of its headers through here, so the
 * scanners are written for the common case: one table test per byte,
 * parameters read inline by each header's own loop (the ones the typed form
 * keeps are picked out by length first), and no pass over bytes another
 * pass already walked.
 */
#include "syntax.h"

/* The big parsers stay out of line: inlined into the dispatcher, they
 * made it save and restore every callee-saved register for each value,
 * an Allow element or a Content-Length included. */
#if defined(__GNUC__)
#define NOINLINE __attribute__((noinline))
#else
#define NOINLINE
#endif

struct scan {
    const char *p;
    const char *end;
};

static inline bool is_lws(char c)
{
    return SIPSESS__IS(c, SIPSESS__C_LWS);
}

static void skip_lws_run(struct scan *s)
{
    while (s->p < s->end && is_lws(*s->p))
        s->p++;
}

/* Most calls find no white space: one test of the current byte decides.
 * That byte is readable even at s->end (see sipsess__hdr_parse_value); if
 * it is LWS there, the bounded loop does not move. */
static inline void skip_lws(struct scan *s)
{
    if (SIPSESS__UNLIKELY(is_lws(*s->p)))
        skip_lws_run(s);
}

static inline bool at(const struct scan *s, char c)
{
    return s->p < s->end && *s->p == c;
}

static inline bool eat(struct scan *s, char c)
{
    skip_lws(s);
    if (at(s, c)) {
        s->p++;
        skip_lws(s);
        return true;
    }
    return false;
}

/* Every class a scanner below takes runs of: none holds LWS, ',' or NUL,
 * so each stops at the end of a value (see sipsess__hdr_parse_value). */
#define SCAN_CLASSES                                                                      \
    (SIPSESS__C_TOKEN | SIPSESS__C_GENVAL | SIPSESS__C_WORD | SIPSESS__C_AUTHV |          \
     SIPSESS__C_DIGIT | SIPSESS__C_HOST)

/* A run of `cls` bytes. No bounds test: the byte at s->end is never in a
 * scanned class, so the run stops there at the latest; without the test
 * the loop is three instructions a byte. */
static inline sipsess_str take_class(struct scan *s, uint32_t cls)
{
    const char *b = s->p, *p = b;
    for (;; p += 4) {
        if (!SIPSESS__IS(p[0], cls))
            break;
        if (!SIPSESS__IS(p[1], cls)) {
            p += 1;
            break;
        }
        if (!SIPSESS__IS(p[2], cls)) {
            p += 2;
            break;
        }
        if (!SIPSESS__IS(p[3], cls)) {
            p += 3;
            break;
        }
    }
    s->p = p;
    return sipsess__str(b, (size_t)(p - b));
}

static inline sipsess_str take_token(struct scan *s)
{
    return take_class(s, SIPSESS__C_TOKEN);
}

/* Case-insensitive equality of a token with a lower-case literal of the
 * same length, a word at a time (loads overlap rather than pass either
 * end). OR 0x20 folds case; it cannot make another token byte equal a
 * letter, digit, '-', '.' or '+' of the literal (only control bytes, never
 * in a token, map onto those), so the test is exact for tokens, and for
 * any input when the literal is all letters. `n` is a constant at every
 * call, so only one branch of this survives. */
static inline bool tok_ieq(const char *p, const char *lit, size_t n)
{
    if (n >= 8) {
        size_t i = 0;
        for (; i + 8 < n; i += 8)
            if ((sipsess__ld8(p + i) | 0x2020202020202020u) != sipsess__ld8(lit + i))
                return false;
        return (sipsess__ld8(p + n - 8) | 0x2020202020202020u) == sipsess__ld8(lit + n - 8);
    }
    if (n >= 4)
        return (sipsess__ld4(p) | 0x20202020u) == sipsess__ld4(lit) &&
               (sipsess__ld4(p + n - 4) | 0x20202020u) == sipsess__ld4(lit + n - 4);
    if (n >= 2)
        return (uint16_t)(sipsess__ld2(p) | 0x2020u) == sipsess__ld2(lit) &&
               (uint16_t)(sipsess__ld2(p + n - 2) | 0x2020u) == sipsess__ld2(lit + n - 2);
    return n == 0 || ((unsigned char)p[0] | 0x20) == (unsigned char)lit[0];
}

/* First '"' or '\\' in [p, end), or end. The vector loop may load up to
 * 15 bytes past `end`: values live in the message's copy, which the
 * zero PAD follows. */
static inline const char *find_quote_or_bs(const char *p, const char *end)
{
#if defined(SIPSESS__SSE2)
    const __m128i dq = _mm_set1_epi8('"'), bs = _mm_set1_epi8('\\');
    for (; p < end; p += 16) {
        __m128i x = _mm_loadu_si128((const __m128i *)(const void *)p);
        unsigned m = (unsigned)_mm_movemask_epi8(
            _mm_or_si128(_mm_cmpeq_epi8(x, dq), _mm_cmpeq_epi8(x, bs)));
        if (m) {
            p += __builtin_ctz(m);
            return p < end ? p : end;
        }
    }
    return end;
#else
    while (p < end && *p != '"' && *p != '\\')
        p++;
    return p;
#endif
}

/* quoted-string: the view excludes the quotes; quoted-pairs stay escaped.
 * UTF-8 and any octet but CR/LF are allowed inside; a control byte only
 * escaped by '\\' (quoted-pair, §25.1; RFC 4475 intmeth has an escaped
 * NUL), which the message parser has checked for every value already. */
static bool take_quoted(struct scan *s, sipsess_str *out)
{
    if (!at(s, '"'))
        return false;
    const char *b = ++s->p, *p = b, *end = s->end;
    for (;;) {
        p = find_quote_or_bs(p, end);
        if (p >= end)
            break;
        if (*p == '"') {
            *out = sipsess__str(b, (size_t)(p - b));
            s->p = p + 1;
            return true;
        }
        if (p + 1 >= end || p[1] == '\r' || p[1] == '\n')
            break;
        p += 2;
    }
    s->p = p;
    return false;
}

/* The value of a run of more than 19 digits, which the loop below let
 * wrap: only leading zeros can make it fit in 64 bits. */
NOINLINE static bool long_uint(const char *b, const char *e, uint64_t *v)
{
    while (*b == '0')
        b++;
    if (e - b > 19)
        return false;
    for (*v = 0; b < e; b++)
        *v = *v * 10 + (unsigned)(*b - '0');
    return true;
}

/* Decimal number of at most `max`. Leading zeros are legal in SIP numbers
 * (RFC 4475 wsinv), however many. No bounds test: a value never ends in a
 * digit (see sipsess__hdr_parse_value), nor does a parameter value inside
 * one. Up to 19 digits cannot overflow 64 bits, so the range is checked
 * once at the end; a number out of range leaves s->p on its first digit,
 * which uint_err reads as ERANGE. */
static inline bool take_uint(struct scan *s, uint64_t max, uint64_t *out)
{
    const char *b = s->p, *p = b;
    uint64_t v = 0;
    unsigned d;
    while ((d = (unsigned)(unsigned char)*p - '0') < 10) {
        v = v * 10 + d;
        p++;
    }
    if (p == b)
        return false;
    if (p - b > 19 && !long_uint(b, p, &v)) {
        s->p = b;
        return false;
    }
    if (v > max) {
        s->p = b;
        return false;
    }
    s->p = p;
    *out = v;
    return true;
}

/* One ";name[=value]" after the main part of a value. */
struct param {
    sipsess_str name;
    sipsess_str val;        /* {NULL,0} without '='; quoted values unquoted */
    bool quoted;
    bool token;             /* the value is a non-empty token as written */
};

/* gen-value = token / host / quoted-string. Hosts bring ':' '[' ']' for
 * IPv6 (RFC 5118 §4.5 received=[...]). The token scan runs first, so
 * whether the value is a plain token (tag and branch must be) costs
 * nothing more. */
static inline bool take_genvalue(struct scan *s, struct param *pr)
{
    if (at(s, '"')) {
        pr->quoted = true;
        return take_quoted(s, &pr->val);
    }
    const char *b = s->p;
    take_class(s, SIPSESS__C_TOKEN);
    pr->token = s->p > b;
    if (s->p < s->end && SIPSESS__IS(*s->p, SIPSESS__C_GENVAL)) {
        pr->token = false;
        take_class(s, SIPSESS__C_GENVAL);
    }
    pr->val = sipsess__str(b, (size_t)(s->p - b));
    return s->p > b;
}

/* Returns 1 when a parameter was read, 0 at the end of the value, -1 on a
 * syntax error. */
static inline int next_param(struct scan *s, struct param *pr)
{
    skip_lws(s);
    if (s->p >= s->end)
        return 0;
    if (*s->p != ';')
        return -1;
    s->p++;
    skip_lws(s);
    pr->name = take_token(s);
    if (!pr->name.len)
        return -1;
    pr->val = sipsess__str(NULL, 0);
    pr->quoted = pr->token = false;
    skip_lws(s);
    if (at(s, '=')) {
        s->p++;
        skip_lws(s);
        if (!take_genvalue(s, pr))
            return -1;
    }
    return 1;
}

/* Where the parameter section starts, for generic lookups: the text after
 * the first ';'. */
static inline void mark_params(struct scan *s, struct sipsess_hdr *h)
{
    skip_lws(s);
    if (s->p < s->end && *s->p == ';')
        h->params = sipsess__str(s->p + 1, (size_t)(s->end - s->p - 1));
}

/* The parameter section of a header whose typed form keeps no parameter:
 * checked, and found later by sipsess_hdr_param. */
static int parse_params(struct scan *s, struct sipsess_hdr *h)
{
    mark_params(s, h);
    struct param pr;
    int r;
    while ((r = next_param(s, &pr)) == 1)
        ;
    return r < 0 ? SIPSESS_EHEADER : 0;
}

/* After a failed take_uint: stopped on a digit means the number was too
 * large (ERANGE); anything else is a syntax error. */
static inline int uint_err(const struct scan *s)
{
    return s->p < s->end && *s->p >= '0' && *s->p <= '9' ? SIPSESS_ERANGE : SIPSESS_EHEADER;
}

static bool str_to_uint(sipsess_str v, uint64_t max, uint64_t *out)
{
    if (!v.p)
        return false; /* a flag parameter; NULL + 0 is undefined in C */
    struct scan s = {v.p, v.p + v.len};
    if (!take_uint(&s, max, out))
        return false;
    return s.p == s.end;
}

/* ---------------------------------------------------------------- */
/* host[:port] for Via sent-by                                       */

static int take_hostport(struct scan *s, sipsess_str *host, uint8_t *type, uint16_t *port)
{
    const char *p = s->p, *end = s->end;
    if (p < end && *p == '[') {
        const char *b = ++p;
        while (p < end && (SIPSESS__IS(*p, SIPSESS__C_HEX) || *p == ':' || *p == '.'))
            p++;
        if (p >= end || *p != ']' || p == b)
            return SIPSESS_EHEADER;
        *host = sipsess__str(b, (size_t)(p - b));
        p++;
        *type = SIPSESS_HOST_IPV6;
    } else {
        const char *b = p;
        take_class(s, SIPSESS__C_HOST); /* from s->p, which is b */
        p = s->p;
        if (p == b)
            return SIPSESS_EHEADER;
        /* A host of digits and dots only is an IPv4 address: a letter or a
         * '-' anywhere makes it a name. A first letter settles it. */
        bool name = SIPSESS__IS(*b, SIPSESS__C_NAMECH);
        for (const char *q = b; !name && q < p; q++)
            name = SIPSESS__IS(*q, SIPSESS__C_NAMECH);
        *host = sipsess__str(b, (size_t)(p - b));
        *type = name ? SIPSESS_HOST_NAME : SIPSESS_HOST_IPV4;
    }
    s->p = p;
    *port = 0;
    skip_lws(s);
    if (at(s, ':')) {
        s->p++;
        skip_lws(s);
        uint64_t v;
        if (!take_uint(s, 65535, &v))
            return SIPSESS_EHEADER;
        *port = (uint16_t)v;
    }
    return 0;
}

/* ---------------------------------------------------------------- */
/* Via                                                               */

static int via_param(struct sipsess__via *via, const struct param *pr)
{
    sipsess_str n = pr->name, v = pr->val;
    uint64_t x;
    switch (n.len) {
    case 3:
        if (tok_ieq(n.p, "ttl", 3)) {
            if (!str_to_uint(v, 255, &x))
                return SIPSESS_EHEADER;
            via->ttl = (int16_t)x;
        }
        break;
    case 5:
        if (tok_ieq(n.p, "rport", 5)) {
            if (!v.p)
                via->rport = 0;
            else if (str_to_uint(v, 65535, &x))
                via->rport = (int32_t)x;
            else
                return SIPSESS_EHEADER;
        } else if (tok_ieq(n.p, "maddr", 5)) {
            if (!v.len)
                return SIPSESS_EHEADER;
            via->maddr = v;
        }
        break;
    case 6:
        /* via-branch = "branch" EQUAL token: a quoted or host-like branch
         * would match transactions under a spelling its sender never
         * used. */
        if (tok_ieq(n.p, "branch", 6)) {
            if (!pr->token)
                return SIPSESS_EHEADER;
            via->branch = v;
        }
        break;
    case 8:
        if (tok_ieq(n.p, "received", 8)) {
            if (!v.len)
                return SIPSESS_EHEADER;
            via->received = v;
        }
        break;
    default:
        break;
    }
    return 0;
}

/* "SIP/2.0/" in any case: nearly every Via starts so, and checking it
 * whole saves two token scans and two '/' tests. */
static inline bool sip20_prefix(const char *p, const char *end)
{
    return end - p >= 8 && (p[0] | 0x20) == 's' && (p[1] | 0x20) == 'i' &&
           (p[2] | 0x20) == 'p' && memcmp(p + 3, "/2.0/", 5) == 0;
}

NOINLINE static int parse_via(struct sipsess_hdr *h, struct scan *s)
{
    struct sipsess__via *via = &h->u.via;
    const sipsess_str none = {NULL, 0};
    via->transport = via->host = via->branch = via->received = via->maddr = none;
    via->rport = -1;
    via->ttl = -1;
    via->port = 0;
    via->host_type = SIPSESS_HOST_NONE;
    const char *pb = s->p;
    if (sip20_prefix(s->p, s->end)) {
        via->proto = sipsess__str(pb, 7);
        s->p += 8;
        skip_lws(s); /* as the '/' test of the general path does */
    } else {
        via->proto = none;
        sipsess_str name = take_token(s);
        if (!name.len || !eat(s, '/'))
            return SIPSESS_EHEADER;
        sipsess_str ver = take_token(s);
        if (!ver.len)
            return SIPSESS_EHEADER;
        via->proto = sipsess__str(pb, (size_t)(ver.p + ver.len - pb));
        if (!eat(s, '/'))
            return SIPSESS_EHEADER;
    }
    via->transport = take_token(s);
    if (!via->transport.len)
        return SIPSESS_EHEADER;
    const char *before = s->p;
    skip_lws(s);
    if (s->p == before)
        return SIPSESS_EHEADER;
    int e = take_hostport(s, &via->host, &via->host_type, &via->port);
    if (e)
        return e;
    mark_params(s, h);
    struct param pr;
    int r;
    while ((r = next_param(s, &pr)) == 1)
        if ((e = via_param(via, &pr)))
            return e;
    return r < 0 ? SIPSESS_EHEADER : 0;
}

/* ---------------------------------------------------------------- */
/* name-addr / addr-spec headers                                     */

static int na_param(struct sipsess_hdr *h, const struct param *pr)
{
    struct sipsess__nameaddr *na = &h->u.na;
    sipsess_str n = pr->name, v = pr->val;
    if (n.len == 3 && tok_ieq(n.p, "tag", 3)) {
        /* tag-param = "tag" EQUAL token: `tag="x"` is not the tag x, and
         * dialogs are matched on the tag as written. */
        if (!pr->token)
            return SIPSESS_EHEADER;
        na->tag = v;
    } else if (h->id != SIPSESS_HDR_CONTACT) {
        return 0;
    } else if (n.len == 7 && tok_ieq(n.p, "expires", 7)) {
        uint64_t x;
        if (!str_to_uint(v, UINT32_MAX, &x)) {
            if (!v.len)
                return SIPSESS_EHEADER;
            struct scan d = {v.p, v.p + v.len};
            take_class(&d, SIPSESS__C_DIGIT);
            return d.p == d.end ? SIPSESS_ERANGE : SIPSESS_EHEADER;
        }
        na->expires = (int64_t)x;
    } else if (n.len == 1 && (n.p[0] | 0x20) == 'q') {
        /* qvalue = ( "0" [ "." 0*3DIGIT ] ) / ( "1" [ "." 0*3("0") ] ) */
        if (!v.len || (v.p[0] != '0' && v.p[0] != '1'))
            return SIPSESS_EHEADER;
        int q = (v.p[0] - '0') * 1000;
        if (v.len > 1) {
            if (v.p[1] != '.' || v.len > 5)
                return SIPSESS_EHEADER;
            int scale = 100;
            for (size_t i = 2; i < v.len; i++, scale /= 10) {
                if (v.p[i] < '0' || v.p[i] > '9')
                    return SIPSESS_EHEADER;
                q += (v.p[i] - '0') * scale;
            }
        }
        if (q > 1000)
            return SIPSESS_EHEADER;
        na->q = (int16_t)q;
    }
    return 0;
}

NOINLINE static int parse_nameaddr(struct sipsess_hdr *h, struct scan *s, const sipsess_parse_opts *o)
{
    struct sipsess__nameaddr *na = &h->u.na;
    na->display = sipsess__str(NULL, 0);
    na->tag = sipsess__str(NULL, 0);
    na->expires = -1;
    na->q = -1;
    na->star = 0;
    /* na->uri is set whole by the URI parser below; the star form has no
     * URI, so give it a defined (empty) one. */

    if (h->id == SIPSESS_HDR_CONTACT && at(s, '*')) {
        s->p++;
        skip_lws(s);
        if (s->p != s->end)
            return SIPSESS_EHEADER;
        memset(&na->uri, 0, sizeof na->uri);
        na->star = 1;
        return 0;
    }

    const char *uri_b, *uri_e;
    if (at(s, '"')) {
        if (!take_quoted(s, &na->display))
            return SIPSESS_EHEADER;
        skip_lws(s);
        if (!at(s, '<'))
            return SIPSESS_EHEADER;
    } else {
        /* Either `*(token LWS) <uri>` or a bare addr-spec. A '<' decides;
         * the display-name tokens may touch the '<' (RFC 4475 lwsdisp). */
        const char *q = s->p;
        while (q < s->end && SIPSESS__IS(*q, SIPSESS__C_TOKEN | SIPSESS__C_LWS))
            q++;
        if (q < s->end && *q == '<' && q > s->p) {
            const char *e = q;
            while (e > s->p && is_lws(e[-1]))
                e--;
            if (e > s->p)
                na->display = sipsess__str(s->p, (size_t)(e - s->p));
            s->p = q;
        }
    }
    if (at(s, '<')) {
        uri_b = ++s->p;
        const char *gt = memchr(uri_b, '>', (size_t)(s->end - uri_b));
        if (!gt)
            return SIPSESS_EHEADER;
        uri_e = gt;
        s->p = gt + 1;
    } else {
        /* addr-spec: the header's parameters start at the first ';', and
         * a URI holding ',', '?' or ';' must be bracketed (§20). */
        uri_b = s->p;
        while (s->p < s->end && *s->p != ';' && !is_lws(*s->p)) {
            if (*s->p == '?' || *s->p == ',' || *s->p == '"' || *s->p == '<' || *s->p == '>')
                return SIPSESS_EHEADER;
            s->p++;
        }
        uri_e = s->p;
    }
    int e = sipsess__uri_parse_delim(&na->uri, uri_b, (size_t)(uri_e - uri_b), o->max_uri_len);
    if (e)
        return e;
    mark_params(s, h);
    struct param pr;
    int r;
    while ((r = next_param(s, &pr)) == 1)
        if ((e = na_param(h, &pr)))
            return e;
    return r < 0 ? SIPSESS_EHEADER : 0;
}

/* ---------------------------------------------------------------- */
/* CSeq, RAck, numbers                                               */

NOINLINE static int parse_cseq(struct sipsess_hdr *h, struct scan *s)
{
    uint64_t n;
    if (!take_uint(s, UINT32_MAX, &n))
        return SIPSESS_ECSEQ;
    const char *before = s->p;
    skip_lws(s);
    if (s->p == before)
        return SIPSESS_ECSEQ;
    h->u.cseq.num = (uint32_t)n;
    h->u.cseq.mname = take_token(s);
    skip_lws(s);
    if (!h->u.cseq.mname.len || s->p != s->end)
        return SIPSESS_ECSEQ;
    h->u.cseq.method = (uint8_t)sipsess_method_from(h->u.cseq.mname.p, h->u.cseq.mname.len);
    h->number = (int64_t)n;
    return 0;
}

NOINLINE static int parse_rack(struct sipsess_hdr *h, struct scan *s)
{
    uint64_t a, b;
    if (!take_uint(s, UINT32_MAX, &a))
        return SIPSESS_EHEADER;
    skip_lws(s);
    if (!take_uint(s, UINT32_MAX, &b))
        return SIPSESS_EHEADER;
    skip_lws(s);
    h->u.rack.rseq = (uint32_t)a;
    h->u.rack.cseq = (uint32_t)b;
    h->u.rack.mname = take_token(s);
    skip_lws(s);
    if (!h->u.rack.mname.len || s->p != s->end)
        return SIPSESS_EHEADER;
    h->u.rack.method = (uint8_t)sipsess_method_from(h->u.rack.mname.p, h->u.rack.mname.len);
    return 0;
}

/* delta-seconds and friends; `params` allows ;params after the number
 * (Session-Expires refresher, Retry-After duration). */
static int parse_number(struct sipsess_hdr *h, struct scan *s, uint64_t max, bool params)
{
    uint64_t n;
    if (!take_uint(s, UINT64_MAX / 10 - 10, &n))
        return uint_err(s);
    if (n > max)
        return SIPSESS_ERANGE;
    h->number = (int64_t)n;
    skip_lws(s);
    if (params)
        return parse_params(s, h);
    return s->p == s->end ? 0 : SIPSESS_EHEADER;
}

NOINLINE static int parse_retry_after(struct sipsess_hdr *h, struct scan *s)
{
    uint64_t n;
    if (!take_uint(s, UINT32_MAX, &n))
        return uint_err(s);
    h->number = (int64_t)n;
    h->u.two.a = sipsess__str(NULL, 0);
    h->u.two.b = sipsess__str(NULL, 0);
    skip_lws(s);
    if (at(s, '(')) {
        /* comment: nested parentheses and quoted-pairs */
        const char *b = ++s->p;
        int depth = 1;
        while (s->p < s->end && depth) {
            if (*s->p == '\\' && s->p + 1 < s->end)
                s->p++;
            else if (*s->p == '(')
                depth++;
            else if (*s->p == ')')
                depth--;
            s->p++;
        }
        if (depth)
            return SIPSESS_EHEADER;
        h->u.two.a = sipsess__str(b, (size_t)(s->p - 1 - b));
    }
    return parse_params(s, h);
}

NOINLINE static int parse_timestamp(struct sipsess_hdr *h, struct scan *s)
{
    h->u.two.a = take_class(s, SIPSESS__C_DIGIT);
    if (!h->u.two.a.len)
        return SIPSESS_EHEADER;
    if (at(s, '.')) {
        s->p++;
        take_class(s, SIPSESS__C_DIGIT);
        h->u.two.a.len = (size_t)(s->p - h->u.two.a.p);
    }
    h->u.two.b = sipsess__str(NULL, 0);
    skip_lws(s);
    if (s->p < s->end) {
        const char *b = s->p;
        take_class(s, SIPSESS__C_DIGIT);
        if (s->p == b)
            return SIPSESS_EHEADER;
        if (at(s, '.')) {
            s->p++;
            take_class(s, SIPSESS__C_DIGIT);
        }
        h->u.two.b = sipsess__str(b, (size_t)(s->p - b));
        skip_lws(s);
    }
    return s->p == s->end ? 0 : SIPSESS_EHEADER;
}

/* ---------------------------------------------------------------- */
/* media types, tokens with parameters                               */

static int parse_mtype(struct sipsess_hdr *h, struct scan *s, bool allow_empty)
{
    if (s->p == s->end && allow_empty) {
        h->u.mt.type = h->u.mt.subtype = sipsess__str(NULL, 0);
        return 0;
    }
    h->u.mt.type = take_token(s);
    if (!h->u.mt.type.len || !eat(s, '/'))
        return SIPSESS_EHEADER;
    h->u.mt.subtype = take_token(s);
    if (!h->u.mt.subtype.len)
        return SIPSESS_EHEADER;
    h->token = h->u.mt.type;
    return parse_params(s, h);
}

/* token *(;param); `allow_empty` for lists that may be empty (Supported:,
 * Allow:, Accept-Encoding: ...). */
static int parse_token_params(struct sipsess_hdr *h, struct scan *s, bool allow_empty)
{
    if (s->p == s->end)
        return allow_empty ? 0 : SIPSESS_EHEADER;
    h->token = take_token(s);
    if (!h->token.len)
        return SIPSESS_EHEADER;
    /* A lone token (Allow: INVITE, Supported: timer) is the usual case. */
    if (s->p == s->end)
        return 0;
    return parse_params(s, h);
}

/* Call-ID = word [ "@" word ] */
NOINLINE static int parse_callid(struct sipsess_hdr *h, struct scan *s)
{
    sipsess_str w = take_class(s, SIPSESS__C_WORD);
    if (!w.len)
        return SIPSESS_EHEADER;
    if (at(s, '@')) {
        s->p++;
        if (!take_class(s, SIPSESS__C_WORD).len)
            return SIPSESS_EHEADER;
    }
    skip_lws(s);
    if (s->p != s->end)
        return SIPSESS_EHEADER;
    h->token = sipsess__str(w.p, (size_t)(s->p - w.p));
    return 0;
}

/* Replaces = callid *(;param) (RFC 3891) */
NOINLINE static int parse_replaces(struct sipsess_hdr *h, struct scan *s)
{
    const char *b = s->p;
    take_class(s, SIPSESS__C_WORD);
    if (at(s, '@')) {
        s->p++;
        take_class(s, SIPSESS__C_WORD);
    }
    if (s->p == b)
        return SIPSESS_EHEADER;
    h->token = sipsess__str(b, (size_t)(s->p - b));
    return parse_params(s, h);
}

/* The digest parameter a name is, or -1. Names are matched as tokens (see
 * tok_ieq); all of them are letters, for which OR 0x20 is exact on any
 * byte, so sipsess_auth_param can use this on a caller's name too. */
static int auth_param_index(const char *n, size_t len)
{
    switch (len) {
    case 2:
        return tok_ieq(n, "nc", 2) ? SIPSESS__AP_NC : -1;
    case 3:
        return tok_ieq(n, "uri", 3) ? SIPSESS__AP_URI : tok_ieq(n, "qop", 3) ? SIPSESS__AP_QOP : -1;
    case 5:
        return tok_ieq(n, "realm", 5)   ? SIPSESS__AP_REALM
               : tok_ieq(n, "nonce", 5) ? SIPSESS__AP_NONCE
               : tok_ieq(n, "stale", 5) ? SIPSESS__AP_STALE
                                        : -1;
    case 6:
        return tok_ieq(n, "opaque", 6)   ? SIPSESS__AP_OPAQUE
               : tok_ieq(n, "cnonce", 6) ? SIPSESS__AP_CNONCE
               : tok_ieq(n, "domain", 6) ? SIPSESS__AP_DOMAIN
                                         : -1;
    case 7:
        return tok_ieq(n, "rspauth", 7) ? SIPSESS__AP_RSPAUTH : -1;
    case 8:
        return tok_ieq(n, "username", 8)   ? SIPSESS__AP_USERNAME
               : tok_ieq(n, "response", 8) ? SIPSESS__AP_RESPONSE
                                           : -1;
    case 9:
        return tok_ieq(n, "algorithm", 9)   ? SIPSESS__AP_ALGORITHM
               : tok_ieq(n, "nextnonce", 9) ? SIPSESS__AP_NEXTNONCE
                                            : -1;
    default:
        return -1;
    }
}

/* Credentials / challenges: scheme LWS auth-param *(COMMA auth-param);
 * Authentication-Info has no scheme. The digest parameters are recorded
 * on the way (first occurrence, as a lookup of the list would find). */
NOINLINE static int parse_auth(struct sipsess_hdr *h, struct scan *s)
{
    struct sipsess__auth *a = &h->u.auth;
    memset(a, 0xff, sizeof *a); /* every offset SIPSESS__AP_ABSENT */
    if (h->id != SIPSESS_HDR_AUTHENTICATION_INFO) {
        h->token = take_token(s);
        if (!h->token.len)
            return SIPSESS_EHEADER;
        const char *before = s->p;
        skip_lws(s);
        if (s->p == s->end)
            return 0;
        if (s->p == before)
            return SIPSESS_EHEADER;
    }
    const char *base = s->p;
    h->params = sipsess__str(base, (size_t)(s->end - base));
    for (;;) {
        sipsess_str n = take_token(s), v;
        if (!n.len || !eat(s, '='))
            return SIPSESS_EHEADER;
        if (at(s, '"')) {
            if (!take_quoted(s, &v))
                return SIPSESS_EHEADER;
        } else {
            /* token68-ish values (base64, nc=00000001) */
            v = take_class(s, SIPSESS__C_AUTHV);
            if (!v.len)
                return SIPSESS_EHEADER;
        }
        int k = auth_param_index(n.p, n.len);
        if (k >= 0 && a->p[k].off == SIPSESS__AP_ABSENT) {
            a->p[k].off = (uint32_t)(v.p - base);
            a->p[k].len = (uint32_t)v.len;
        }
        skip_lws(s);
        if (s->p == s->end)
            return 0;
        if (*s->p != ',')
            return SIPSESS_EHEADER;
        s->p++;
        skip_lws(s);
    }
}

/* rfc1123-date only (§20.17): "Thu, 21 Feb 2002 13:02:03 GMT". */
NOINLINE static int parse_date(struct scan *s)
{
    static const char *const days[] = {"Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"};
    static const char *const months[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                         "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    size_t n = (size_t)(s->end - s->p);
    const char *p = s->p;
    /* wkday "," SP 2DIGIT SP month SP 4DIGIT SP 2DIGIT:2DIGIT:2DIGIT SP "GMT" */
    if (n != 29)
        return SIPSESS_EHEADER;
    bool ok = false;
    for (int i = 0; i < 7; i++)
        ok |= memcmp(p, days[i], 3) == 0;
    if (!ok || p[3] != ',' || p[4] != ' ' || p[7] != ' ' || p[11] != ' ' || p[16] != ' ' ||
        p[19] != ':' || p[22] != ':' || p[25] != ' ' || memcmp(p + 26, "GMT", 3) != 0)
        return SIPSESS_EHEADER;
    ok = false;
    for (int i = 0; i < 12; i++)
        ok |= memcmp(p + 8, months[i], 3) == 0;
    static const uint8_t digits[] = {5, 6, 12, 13, 14, 15, 17, 18, 20, 21, 23, 24};
    for (size_t i = 0; i < sizeof digits; i++)
        ok &= p[digits[i]] >= '0' && p[digits[i]] <= '9';
    return ok ? 0 : SIPSESS_EHEADER;
}

/* warning-value = warn-code SP warn-agent SP warn-text */
NOINLINE static int parse_warning(struct sipsess_hdr *h, struct scan *s)
{
    sipsess_str code = take_class(s, SIPSESS__C_DIGIT);
    if (code.len != 3 || !at(s, ' '))
        return SIPSESS_EHEADER;
    h->token = code;
    h->number = (code.p[0] - '0') * 100 + (code.p[1] - '0') * 10 + (code.p[2] - '0');
    skip_lws(s);
    const char *b = s->p;
    while (s->p < s->end && !is_lws(*s->p))
        s->p++;
    if (s->p == b)
        return SIPSESS_EHEADER;
    skip_lws(s);
    sipsess_str text;
    if (!take_quoted(s, &text))
        return SIPSESS_EHEADER;
    skip_lws(s);
    return s->p == s->end ? 0 : SIPSESS_EHEADER;
}

/*
 * The scanners rely on the byte just past the value: the message parser
 * hands over values that end before LWS, a list's ',' or the zero byte
 * after its copy of the message, and none of those is in a scanned class.
 * The guard keeps the scanners inside the buffer should a caller ever
 * pass something else.
 */
int sipsess__hdr_parse_value(struct sipsess_hdr *h, const sipsess_parse_opts *o)
{
    struct scan s = {h->value.p, h->value.p + h->value.len};
    if (SIPSESS__IS(*s.end, SCAN_CLASSES))
        return SIPSESS_EHEADER;
    h->params = sipsess__str(NULL, 0);
    h->token = sipsess__str(NULL, 0);
    h->number = -1;
    switch ((sipsess_hdr_id)h->id) {
    case SIPSESS_HDR_VIA:
        return parse_via(h, &s);
    case SIPSESS_HDR_FROM:
    case SIPSESS_HDR_TO:
    case SIPSESS_HDR_CONTACT:
    case SIPSESS_HDR_ROUTE:
    case SIPSESS_HDR_RECORD_ROUTE:
    case SIPSESS_HDR_REPLY_TO:
    case SIPSESS_HDR_REFER_TO:
    case SIPSESS_HDR_REFERRED_BY:
    case SIPSESS_HDR_PATH:
    case SIPSESS_HDR_SERVICE_ROUTE:
    case SIPSESS_HDR_P_ASSERTED_IDENTITY:
        return parse_nameaddr(h, &s, o);
    case SIPSESS_HDR_CALL_ID:
    case SIPSESS_HDR_IN_REPLY_TO:
        return parse_callid(h, &s);
    case SIPSESS_HDR_CSEQ:
        return parse_cseq(h, &s);
    case SIPSESS_HDR_RACK:
        return parse_rack(h, &s);
    case SIPSESS_HDR_MAX_FORWARDS:
        return parse_number(h, &s, 255, false);
    case SIPSESS_HDR_CONTENT_LENGTH:
        /* Negative or absurd lengths are framing errors, not range errors. */
        return parse_number(h, &s, UINT32_MAX, false) ? SIPSESS_ECLEN : 0;
    case SIPSESS_HDR_EXPIRES:
    case SIPSESS_HDR_MIN_EXPIRES:
    case SIPSESS_HDR_MIN_SE:
        return parse_number(h, &s, UINT32_MAX, h->id == SIPSESS_HDR_MIN_SE);
    case SIPSESS_HDR_RSEQ:
        return parse_number(h, &s, UINT32_MAX, false);
    case SIPSESS_HDR_SESSION_EXPIRES:
        return parse_number(h, &s, UINT32_MAX, true);
    case SIPSESS_HDR_RETRY_AFTER:
        return parse_retry_after(h, &s);
    case SIPSESS_HDR_TIMESTAMP:
        return parse_timestamp(h, &s);
    case SIPSESS_HDR_CONTENT_TYPE:
        return parse_mtype(h, &s, false);
    case SIPSESS_HDR_ACCEPT:
        return parse_mtype(h, &s, true);
    case SIPSESS_HDR_CONTENT_DISPOSITION:
    case SIPSESS_HDR_EVENT:
    case SIPSESS_HDR_SUBSCRIPTION_STATE:
    case SIPSESS_HDR_REFER_SUB:
    case SIPSESS_HDR_REASON:
    case SIPSESS_HDR_INFO_PACKAGE:
    case SIPSESS_HDR_PRIORITY:
    case SIPSESS_HDR_MIME_VERSION:
        return parse_token_params(h, &s, false);
    case SIPSESS_HDR_CONTENT_ENCODING:
    case SIPSESS_HDR_CONTENT_LANGUAGE:
    case SIPSESS_HDR_REQUIRE:
    case SIPSESS_HDR_PROXY_REQUIRE:
    case SIPSESS_HDR_UNSUPPORTED:
    case SIPSESS_HDR_ALLOW_EVENTS:
    case SIPSESS_HDR_REQUEST_DISPOSITION:
        return parse_token_params(h, &s, false);
    /* Only these lists are optional ("[ ... ]") in their grammar. */
    case SIPSESS_HDR_SUPPORTED:
    case SIPSESS_HDR_ALLOW:
    case SIPSESS_HDR_ACCEPT_ENCODING:
    case SIPSESS_HDR_ACCEPT_LANGUAGE:
    case SIPSESS_HDR_RECV_INFO:
        return parse_token_params(h, &s, true);
    case SIPSESS_HDR_REPLACES:
        return parse_replaces(h, &s);
    case SIPSESS_HDR_AUTHORIZATION:
    case SIPSESS_HDR_PROXY_AUTHORIZATION:
    case SIPSESS_HDR_WWW_AUTHENTICATE:
    case SIPSESS_HDR_PROXY_AUTHENTICATE:
    case SIPSESS_HDR_AUTHENTICATION_INFO:
        return parse_auth(h, &s);
    case SIPSESS_HDR_DATE:
        return parse_date(&s);
    case SIPSESS_HDR_WARNING:
        return parse_warning(h, &s);
    case SIPSESS_HDR_ACCEPT_CONTACT:
    case SIPSESS_HDR_REJECT_CONTACT:
        /* "*" *(;feature-param) (RFC 3841) */
        if (!at(&s, '*'))
            return SIPSESS_EHEADER;
        s.p++;
        h->token = sipsess__str(s.p - 1, 1);
        return parse_params(&s, h);
    case SIPSESS_HDR_CALL_INFO:
    case SIPSESS_HDR_ALERT_INFO:
    case SIPSESS_HDR_ERROR_INFO: {
        /* "<" absoluteURI ">" *(;param) */
        if (!at(&s, '<'))
            return SIPSESS_EHEADER;
        const char *b = ++s.p;
        while (s.p < s.end && *s.p != '>')
            s.p++;
        if (!at(&s, '>') || s.p == b)
            return SIPSESS_EHEADER;
        h->token = sipsess__str(b, (size_t)(s.p - b));
        s.p++;
        return parse_params(&s, h);
    }
    case SIPSESS_HDR_PRIVACY:
    case SIPSESS_HDR_SUBJECT:
    case SIPSESS_HDR_USER_AGENT:
    case SIPSESS_HDR_SERVER:
    case SIPSESS_HDR_ORGANIZATION:
    case SIPSESS_HDR_IDENTITY:
    case SIPSESS_HDR_IDENTITY_INFO:
    case SIPSESS_HDR_OTHER:
    case SIPSESS_HDR__COUNT:
        break;
    }
    return 0;
}

/* ================================================================ */
/* Public accessors                                                  */

static inline bool is_na(const sipsess_hdr *h)
{
    switch (h->tid) {
    case SIPSESS_HDR_FROM:
    case SIPSESS_HDR_TO:
    case SIPSESS_HDR_CONTACT:
    case SIPSESS_HDR_ROUTE:
    case SIPSESS_HDR_RECORD_ROUTE:
    case SIPSESS_HDR_REPLY_TO:
    case SIPSESS_HDR_REFER_TO:
    case SIPSESS_HDR_REFERRED_BY:
    case SIPSESS_HDR_PATH:
    case SIPSESS_HDR_SERVICE_ROUTE:
    case SIPSESS_HDR_P_ASSERTED_IDENTITY:
        return true;
    default:
        return false;
    }
}

static inline bool is_id(const sipsess_hdr *h, sipsess_hdr_id id)
{
    return h && h->tid == id;
}

static const sipsess_str g_none = {NULL, 0};

SIPSESS_API sipsess_hdr_id sipsess_hdr_get_id(const sipsess_hdr *h)
{
    return h ? (sipsess_hdr_id)h->id : SIPSESS_HDR_OTHER;
}

SIPSESS_API sipsess_str sipsess_hdr_name(const sipsess_hdr *h)
{
    return h ? h->name : g_none;
}

SIPSESS_API sipsess_str sipsess_hdr_value(const sipsess_hdr *h)
{
    return h ? h->value : g_none;
}

SIPSESS_API int sipsess_hdr_is_bad(const sipsess_hdr *h)
{
    return h ? (h->flags & SIPSESS__HF_BAD) != 0 : 0;
}

SIPSESS_API int sipsess_hdr_param(const sipsess_hdr *h, const char *name, sipsess_str *value)
{
    if (!h || !name || !h->params.p || (h->flags & SIPSESS__HF_BAD))
        return 0;
    switch ((sipsess_hdr_id)h->id) {
    case SIPSESS_HDR_AUTHORIZATION:
    case SIPSESS_HDR_PROXY_AUTHORIZATION:
    case SIPSESS_HDR_WWW_AUTHENTICATE:
    case SIPSESS_HDR_PROXY_AUTHENTICATE:
    case SIPSESS_HDR_AUTHENTICATION_INFO:
        return 0;
    default:
        return sipsess__param_find(h->params, ';', name, value) ? 1 : 0;
    }
}

SIPSESS_API int64_t sipsess_hdr_number(const sipsess_hdr *h)
{
    if (!h || (h->flags & SIPSESS__HF_BAD))
        return -1;
    switch ((sipsess_hdr_id)h->id) {
    case SIPSESS_HDR_MAX_FORWARDS:
    case SIPSESS_HDR_CONTENT_LENGTH:
    case SIPSESS_HDR_EXPIRES:
    case SIPSESS_HDR_MIN_EXPIRES:
    case SIPSESS_HDR_RSEQ:
    case SIPSESS_HDR_MIN_SE:
    case SIPSESS_HDR_SESSION_EXPIRES:
    case SIPSESS_HDR_RETRY_AFTER:
        return h->number;
    default:
        return -1;
    }
}

SIPSESS_API sipsess_str sipsess_via_protocol(const sipsess_hdr *h)
{
    return is_id(h, SIPSESS_HDR_VIA) ? h->u.via.proto : g_none;
}
SIPSESS_API sipsess_str sipsess_via_transport(const sipsess_hdr *h)
{
    return is_id(h, SIPSESS_HDR_VIA) ? h->u.via.transport : g_none;
}
SIPSESS_API sipsess_str sipsess_via_host(const sipsess_hdr *h)
{
    return is_id(h, SIPSESS_HDR_VIA) ? h->u.via.host : g_none;
}
SIPSESS_API sipsess_host_type sipsess_via_host_type(const sipsess_hdr *h)
{
    return is_id(h, SIPSESS_HDR_VIA) ? (sipsess_host_type)h->u.via.host_type : SIPSESS_HOST_NONE;
}
SIPSESS_API unsigned sipsess_via_port(const sipsess_hdr *h)
{
    return is_id(h, SIPSESS_HDR_VIA) ? h->u.via.port : 0;
}
SIPSESS_API sipsess_str sipsess_via_branch(const sipsess_hdr *h)
{
    return is_id(h, SIPSESS_HDR_VIA) ? h->u.via.branch : g_none;
}
SIPSESS_API sipsess_str sipsess_via_received(const sipsess_hdr *h)
{
    return is_id(h, SIPSESS_HDR_VIA) ? h->u.via.received : g_none;
}
SIPSESS_API int sipsess_via_rport(const sipsess_hdr *h)
{
    return is_id(h, SIPSESS_HDR_VIA) ? h->u.via.rport : -1;
}
SIPSESS_API sipsess_str sipsess_via_maddr(const sipsess_hdr *h)
{
    return is_id(h, SIPSESS_HDR_VIA) ? h->u.via.maddr : g_none;
}
SIPSESS_API int sipsess_via_ttl(const sipsess_hdr *h)
{
    return is_id(h, SIPSESS_HDR_VIA) ? h->u.via.ttl : -1;
}

SIPSESS_API sipsess_str sipsess_nameaddr_display(const sipsess_hdr *h)
{
    return h && is_na(h) ? h->u.na.display : g_none;
}
SIPSESS_API const sipsess_uri *sipsess_nameaddr_uri(const sipsess_hdr *h)
{
    return h && is_na(h) && !h->u.na.star ? &h->u.na.uri : NULL;
}
SIPSESS_API sipsess_str sipsess_nameaddr_tag(const sipsess_hdr *h)
{
    return h && is_na(h) ? h->u.na.tag : g_none;
}
SIPSESS_API int sipsess_contact_is_star(const sipsess_hdr *h)
{
    return is_id(h, SIPSESS_HDR_CONTACT) ? h->u.na.star : 0;
}
SIPSESS_API int64_t sipsess_contact_expires(const sipsess_hdr *h)
{
    return is_id(h, SIPSESS_HDR_CONTACT) ? h->u.na.expires : -1;
}
SIPSESS_API int sipsess_contact_q(const sipsess_hdr *h)
{
    return is_id(h, SIPSESS_HDR_CONTACT) ? h->u.na.q : -1;
}

SIPSESS_API uint32_t sipsess_cseq_number(const sipsess_hdr *h)
{
    return is_id(h, SIPSESS_HDR_CSEQ) ? h->u.cseq.num : 0;
}
SIPSESS_API sipsess_method sipsess_cseq_method(const sipsess_hdr *h)
{
    return is_id(h, SIPSESS_HDR_CSEQ) ? (sipsess_method)h->u.cseq.method : SIPSESS_METHOD_OTHER;
}
SIPSESS_API sipsess_str sipsess_cseq_method_name(const sipsess_hdr *h)
{
    return is_id(h, SIPSESS_HDR_CSEQ) ? h->u.cseq.mname : g_none;
}

SIPSESS_API uint32_t sipsess_rack_rseq(const sipsess_hdr *h)
{
    return is_id(h, SIPSESS_HDR_RACK) ? h->u.rack.rseq : 0;
}
SIPSESS_API uint32_t sipsess_rack_cseq(const sipsess_hdr *h)
{
    return is_id(h, SIPSESS_HDR_RACK) ? h->u.rack.cseq : 0;
}
SIPSESS_API sipsess_method sipsess_rack_method(const sipsess_hdr *h)
{
    return is_id(h, SIPSESS_HDR_RACK) ? (sipsess_method)h->u.rack.method : SIPSESS_METHOD_OTHER;
}

SIPSESS_API sipsess_str sipsess_mtype_type(const sipsess_hdr *h)
{
    return is_id(h, SIPSESS_HDR_CONTENT_TYPE) || is_id(h, SIPSESS_HDR_ACCEPT) ? h->u.mt.type : g_none;
}
SIPSESS_API sipsess_str sipsess_mtype_subtype(const sipsess_hdr *h)
{
    return is_id(h, SIPSESS_HDR_CONTENT_TYPE) || is_id(h, SIPSESS_HDR_ACCEPT) ? h->u.mt.subtype : g_none;
}

SIPSESS_API sipsess_str sipsess_hdr_token(const sipsess_hdr *h)
{
    return h && !(h->flags & SIPSESS__HF_BAD) ? h->token : g_none;
}

static inline bool is_auth(const sipsess_hdr *h)
{
    return h && !(h->flags & SIPSESS__HF_BAD) &&
           (h->id == SIPSESS_HDR_AUTHORIZATION || h->id == SIPSESS_HDR_PROXY_AUTHORIZATION ||
            h->id == SIPSESS_HDR_WWW_AUTHENTICATE || h->id == SIPSESS_HDR_PROXY_AUTHENTICATE ||
            h->id == SIPSESS_HDR_AUTHENTICATION_INFO);
}

SIPSESS_API sipsess_str sipsess_auth_scheme(const sipsess_hdr *h)
{
    return is_auth(h) ? h->token : g_none;
}

SIPSESS_API int sipsess_auth_param(const sipsess_hdr *h, const char *name, sipsess_str *value)
{
    if (!is_auth(h) || !name || !h->params.p)
        return 0;
    /* The digest parameters were recorded by the parse; any other name
     * walks the list. */
    int k = auth_param_index(name, strlen(name));
    if (k < 0)
        return sipsess__param_find(h->params, ',', name, value) ? 1 : 0;
    if (h->u.auth.p[k].off == SIPSESS__AP_ABSENT)
        return 0;
    if (value)
        *value = sipsess__str(h->params.p + h->u.auth.p[k].off, h->u.auth.p[k].len);
    return 1;
}

SIPSESS_API sipsess_str sipsess_retry_after_comment(const sipsess_hdr *h)
{
    return is_id(h, SIPSESS_HDR_RETRY_AFTER) ? h->u.two.a : g_none;
}
SIPSESS_API sipsess_str sipsess_timestamp_value(const sipsess_hdr *h)
{
    return is_id(h, SIPSESS_HDR_TIMESTAMP) ? h->u.two.a : g_none;
}
SIPSESS_API sipsess_str sipsess_timestamp_delay(const sipsess_hdr *h)
{
    return is_id(h, SIPSESS_HDR_TIMESTAMP) ? h->u.two.b : g_none;
}
