/*
 * Typed header values (RFC 3261 §20 and §25.1, RFC 3262, 3265/6665, 3311,
 * 3326, 3515, 3891, 4028, 4488, 6086). Each parser reads one value (a list
 * header has already been split at its top-level commas) and fills the
 * typed part of struct sipsess_hdr. Values are views: nothing is copied.
 *
 * Folding has been left in the value, so the scanners treat CR and LF as
 * linear whitespace: by construction they only occur as part of a fold.
 */
#include "syntax.h"

struct scan {
    const char *p;
    const char *end;
};

static inline bool is_lws(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static inline void skip_lws(struct scan *s)
{
    while (s->p < s->end && is_lws(*s->p))
        s->p++;
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

static inline sipsess_str take_class(struct scan *s, uint16_t cls)
{
    const char *b = s->p;
    while (s->p < s->end && SIPSESS__IS(*s->p, cls))
        s->p++;
    return sipsess__str(b, (size_t)(s->p - b));
}

static inline sipsess_str take_token(struct scan *s)
{
    return take_class(s, SIPSESS__C_TOKEN);
}

/* quoted-string: the view excludes the quotes; quoted-pairs stay escaped.
 * UTF-8 and any octet but CR/LF/NUL are allowed inside (qdtext / quoted-pair
 * per §25.1 allows %x00-09 in quoted-pair, so a NUL escaped by '\' is kept). */
static bool take_quoted(struct scan *s, sipsess_str *out)
{
    if (!at(s, '"'))
        return false;
    const char *b = ++s->p;
    while (s->p < s->end) {
        char c = *s->p;
        if (c == '"') {
            *out = sipsess__str(b, (size_t)(s->p - b));
            s->p++;
            return true;
        }
        if (c == '\\') {
            if (s->p + 1 >= s->end || s->p[1] == '\r' || s->p[1] == '\n')
                return false;
            s->p += 2;
            continue;
        }
        if (c == '\0')
            return false;
        s->p++;
    }
    return false;
}

/* Decimal number with overflow check: at most `max`. Leading zeros are
 * legal in SIP numbers (RFC 4475 wsinv), so digits are not counted. */
static bool take_uint(struct scan *s, uint64_t max, uint64_t *out)
{
    const char *b = s->p;
    uint64_t v = 0;
    while (s->p < s->end && *s->p >= '0' && *s->p <= '9') {
        v = v * 10 + (uint64_t)(*s->p - '0');
        if (v > max)
            return false;
        s->p++;
    }
    if (s->p == b)
        return false;
    *out = v;
    return true;
}

/* gen-value = token / host / quoted-string. Hosts bring ':' '[' ']' for
 * IPv6 (RFC 5118 §4.5 received=[...]). */
#define GENVAL_CLASS (SIPSESS__C_TOKEN)
static bool take_genvalue(struct scan *s, sipsess_str *out)
{
    if (at(s, '"'))
        return take_quoted(s, out);
    const char *b = s->p;
    while (s->p < s->end && (SIPSESS__IS(*s->p, GENVAL_CLASS) || *s->p == ':' ||
                             *s->p == '[' || *s->p == ']'))
        s->p++;
    *out = sipsess__str(b, (size_t)(s->p - b));
    return s->p > b;
}

/* One ";name[=value]" after the main part. Returns 1 when a parameter was
 * read, 0 at the end of the value, -1 on a syntax error. */
static int next_param(struct scan *s, sipsess_str *name, sipsess_str *val)
{
    skip_lws(s);
    if (s->p >= s->end)
        return 0;
    if (*s->p != ';')
        return -1;
    s->p++;
    skip_lws(s);
    *name = take_token(s);
    if (!name->len)
        return -1;
    val->p = NULL;
    val->len = 0;
    skip_lws(s);
    if (at(s, '=')) {
        s->p++;
        skip_lws(s);
        if (!take_genvalue(s, val))
            return -1;
    }
    return 1;
}

/* Read the parameter section, remembering where it starts for generic
 * lookups; `known` is called for every parameter. */
typedef int (*param_fn)(struct sipsess_hdr *h, sipsess_str name, sipsess_str val);

static int parse_params(struct scan *s, struct sipsess_hdr *h, param_fn known)
{
    skip_lws(s);
    if (s->p < s->end && *s->p == ';')
        h->params = sipsess__str(s->p + 1, (size_t)(s->end - s->p - 1));
    sipsess_str n, v;
    int r;
    while ((r = next_param(s, &n, &v)) == 1) {
        if (known) {
            int e = known(h, n, v);
            if (e)
                return e;
        }
    }
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
    if (at(s, '[')) {
        const char *b = ++s->p;
        while (s->p < s->end && (SIPSESS__IS(*s->p, SIPSESS__C_HEX) || *s->p == ':' || *s->p == '.'))
            s->p++;
        if (!at(s, ']') || s->p == b)
            return SIPSESS_EHEADER;
        *host = sipsess__str(b, (size_t)(s->p - b));
        s->p++;
        *type = SIPSESS_HOST_IPV6;
    } else {
        const char *b = s->p;
        bool digits_dots = true;
        while (s->p < s->end && SIPSESS__IS(*s->p, SIPSESS__C_HOST)) {
            if (!(SIPSESS__IS(*s->p, SIPSESS__C_DIGIT) || *s->p == '.'))
                digits_dots = false;
            s->p++;
        }
        if (s->p == b)
            return SIPSESS_EHEADER;
        *host = sipsess__str(b, (size_t)(s->p - b));
        *type = digits_dots ? SIPSESS_HOST_IPV4 : SIPSESS_HOST_NAME;
    }
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

static int via_param(struct sipsess_hdr *h, sipsess_str n, sipsess_str v)
{
    struct sipsess__via *via = &h->u.via;
    uint64_t x;
    switch (n.len) {
    case 3:
        if (sipsess__str_ieq(n, "ttl")) {
            if (!str_to_uint(v, 255, &x))
                return SIPSESS_EHEADER;
            via->ttl = (int16_t)x;
        }
        break;
    case 5:
        if (sipsess__str_ieq(n, "rport")) {
            if (!v.p)
                via->rport = 0;
            else if (str_to_uint(v, 65535, &x))
                via->rport = (int32_t)x;
            else
                return SIPSESS_EHEADER;
        } else if (sipsess__str_ieq(n, "maddr")) {
            if (!v.len)
                return SIPSESS_EHEADER;
            via->maddr = v;
        }
        break;
    case 6:
        if (sipsess__str_ieq(n, "branch")) {
            if (!v.len)
                return SIPSESS_EHEADER;
            via->branch = v;
        }
        break;
    case 8:
        if (sipsess__str_ieq(n, "received")) {
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

static int parse_via(struct sipsess_hdr *h, struct scan *s)
{
    struct sipsess__via *via = &h->u.via;
    memset(via, 0, sizeof *via);
    via->rport = -1;
    via->ttl = -1;
    const char *pb = s->p;
    sipsess_str name = take_token(s);
    if (!name.len || !eat(s, '/'))
        return SIPSESS_EHEADER;
    sipsess_str ver = take_token(s);
    if (!ver.len)
        return SIPSESS_EHEADER;
    via->proto = sipsess__str(pb, (size_t)(ver.p + ver.len - pb));
    if (!eat(s, '/'))
        return SIPSESS_EHEADER;
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
    return parse_params(s, h, via_param);
}

/* ---------------------------------------------------------------- */
/* name-addr / addr-spec headers                                     */

static int na_param(struct sipsess_hdr *h, sipsess_str n, sipsess_str v)
{
    struct sipsess__nameaddr *na = &h->u.na;
    if (n.len == 3 && sipsess__str_ieq(n, "tag")) {
        if (!v.len)
            return SIPSESS_EHEADER;
        na->tag = v;
    } else if (n.len == 7 && sipsess__str_ieq(n, "expires") && h->id == SIPSESS_HDR_CONTACT) {
        uint64_t x;
        if (!str_to_uint(v, UINT32_MAX, &x)) {
            if (!v.len)
                return SIPSESS_EHEADER;
            struct scan d = {v.p, v.p + v.len};
            take_class(&d, SIPSESS__C_DIGIT);
            return d.p == d.end ? SIPSESS_ERANGE : SIPSESS_EHEADER;
        }
        na->expires = (int64_t)x;
    } else if (n.len == 1 && (n.p[0] == 'q' || n.p[0] == 'Q') && h->id == SIPSESS_HDR_CONTACT) {
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

static int parse_nameaddr(struct sipsess_hdr *h, struct scan *s, const sipsess_parse_opts *o)
{
    struct sipsess__nameaddr *na = &h->u.na;
    na->display = sipsess__str(NULL, 0);
    na->tag = sipsess__str(NULL, 0);
    na->expires = -1;
    na->q = -1;
    na->star = 0;
    memset(&na->uri, 0, sizeof na->uri);

    if (h->id == SIPSESS_HDR_CONTACT && at(s, '*')) {
        s->p++;
        skip_lws(s);
        if (s->p != s->end)
            return SIPSESS_EHEADER;
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
        while (q < s->end && (SIPSESS__IS(*q, SIPSESS__C_TOKEN) || is_lws(*q)))
            q++;
        if (q < s->end && *q == '<') {
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
        while (s->p < s->end && *s->p != '>')
            s->p++;
        if (!at(s, '>'))
            return SIPSESS_EHEADER;
        uri_e = s->p++;
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
    int e = sipsess__uri_parse_into(&na->uri, uri_b, (size_t)(uri_e - uri_b), o->max_uri_len);
    if (e)
        return e;
    return parse_params(s, h, na_param);
}

/* ---------------------------------------------------------------- */
/* CSeq, RAck, numbers                                               */

static int parse_cseq(struct sipsess_hdr *h, struct scan *s)
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

static int parse_rack(struct sipsess_hdr *h, struct scan *s)
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
        return parse_params(s, h, NULL);
    return s->p == s->end ? 0 : SIPSESS_EHEADER;
}

static int parse_retry_after(struct sipsess_hdr *h, struct scan *s)
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
    return parse_params(s, h, NULL);
}

static int parse_timestamp(struct sipsess_hdr *h, struct scan *s)
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
    return parse_params(s, h, NULL);
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
    return parse_params(s, h, NULL);
}

/* Call-ID = word [ "@" word ] */
static int parse_callid(struct sipsess_hdr *h, struct scan *s)
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
static int parse_replaces(struct sipsess_hdr *h, struct scan *s)
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
    return parse_params(s, h, NULL);
}

/* Credentials / challenges: scheme LWS auth-param *(COMMA auth-param);
 * Authentication-Info has no scheme. */
static int parse_auth(struct sipsess_hdr *h, struct scan *s)
{
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
    h->params = sipsess__str(s->p, (size_t)(s->end - s->p));
    for (;;) {
        sipsess_str n = take_token(s), v;
        if (!n.len || !eat(s, '='))
            return SIPSESS_EHEADER;
        if (at(s, '"')) {
            if (!take_quoted(s, &v))
                return SIPSESS_EHEADER;
        } else {
            /* token68-ish values (base64, nc=00000001) */
            const char *b = s->p;
            while (s->p < s->end && (SIPSESS__IS(*s->p, SIPSESS__C_TOKEN) || *s->p == '/' || *s->p == '='))
                s->p++;
            if (s->p == b)
                return SIPSESS_EHEADER;
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
static int parse_date(struct scan *s)
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
static int parse_warning(struct sipsess_hdr *h, struct scan *s)
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

int sipsess__hdr_parse_value(struct sipsess_hdr *h, const sipsess_parse_opts *o)
{
    struct scan s = {h->value.p, h->value.p + h->value.len};
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
        return parse_params(&s, h, NULL);
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
        return parse_params(&s, h, NULL);
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
    switch ((sipsess_hdr_id)h->id) {
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
        return !(h->flags & SIPSESS__HF_BAD);
    default:
        return false;
    }
}

static inline bool is_id(const sipsess_hdr *h, sipsess_hdr_id id)
{
    return h && h->id == id && !(h->flags & SIPSESS__HF_BAD);
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
    return sipsess__param_find(h->params, ',', name, value) ? 1 : 0;
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
