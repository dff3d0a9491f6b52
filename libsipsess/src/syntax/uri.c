/*
 * URI parser, comparison and helpers: sip/sips (RFC 3261 §19.1, §25.1),
 * tel (RFC 3966), IPv6 references (RFC 5118), any other scheme kept opaque.
 *
 * The parser never allocates: it runs on every Request-URI and every
 * name-addr of every message, so it makes one forward pass with the
 * character-class table and records views into the caller's bytes.
 */
#include "syntax.h"

/* The `delim` functions below must be inlined into each entry point for
 * the constant to take effect. */
#if defined(__GNUC__)
#define SPECIALIZE inline __attribute__((always_inline))
#else
#define SPECIALIZE inline
#endif

/* sipsess_uri_parse's limit: the public contract promises 8 KiB. */
#define URI_MAX_OWNED 8192u

#define IS_DIGIT(c) SIPSESS__IS((c), SIPSESS__C_DIGIT)
#define IS_HEX(c) SIPSESS__IS((c), SIPSESS__C_HEX)
#define IS_ALPHA(c) \
    ((sipsess__cclass[(unsigned char)(c)] & (SIPSESS__C_ALNUM | SIPSESS__C_DIGIT)) == SIPSESS__C_ALNUM)

static inline unsigned hexval(char c)
{
    unsigned v = (unsigned char)c;
    return v <= '9' ? v - '0' : (v | 0x20) - 'a' + 10;
}

/*
 * `delim`: the caller guarantees that the byte at `end` is readable and
 * belongs to none of the classes scanned here (a URI of a parsed message
 * ends before '>', SP, ';', LWS, ',' or the zero byte after the message's
 * copy; see sipsess__uri_parse_delim). The class loops then need no bounds
 * test. Every function taking `delim` is inlined into one of the two entry
 * points, which pass a constant, so each gets its own loops.
 */

/* Advance over characters of `cls` and %HH escapes. A '%' without two hex
 * digits makes the whole URI invalid, so it is reported (NULL) rather than
 * treated as the end of the component. */
static SPECIALIZE const char *scan(const char *p, const char *end, uint32_t cls, bool delim)
{
    for (;;) {
        if (delim) {
            while (sipsess__cclass[(unsigned char)*p] & cls)
                p++;
        } else {
            while (p < end && (sipsess__cclass[(unsigned char)*p] & cls))
                p++;
        }
        if (p >= end || *p != '%')
            return p;
        if (end - p < 3 || !IS_HEX(p[1]) || !IS_HEX(p[2]))
            return NULL;
        p += 3;
    }
}

/* Dotted quad with each part 0..255; used for hosts and for the IPv4 tail
 * of an IPv6 reference. `out` may be NULL. Leading zeros are accepted, but
 * never more than three digits in a part. */
static bool ipv4_parse(const char *p, size_t len, uint8_t *out)
{
    const char *end = p + len;
    int parts = 0;
    for (;;) {
        unsigned v = 0, nd = 0;
        while (p < end && nd < 4 && (unsigned)(*p - '0') < 10) {
            v = v * 10 + (unsigned)(*p++ - '0');
            nd++;
        }
        if (nd == 0 || nd > 3 || v > 255)
            return false;
        if (out)
            out[parts] = (uint8_t)v;
        parts++;
        if (p == end)
            break;
        if (parts == 4 || *p != '.')
            return false;
        p++;
    }
    return parts == 4;
}

/* The kind of a host the hostname scan accepted (alphanumeric labels and
 * dots, no empty label but maybe a last one): 1 when it is made of digits
 * and dots and is an IPv4 address, 0 when it is made of digits and dots
 * but no address (a name's last label cannot be all digits), -1 when a
 * letter makes it a name. One pass; the same answer as ipv4_parse gives
 * for digits and dots. */
static int host_ipv4(const char *p, const char *end)
{
    unsigned dots = 0, v = 0, nd = 0;
    bool ok = end - p >= 7 && end - p <= 15;
    for (; p < end; p++) {
        unsigned d = (unsigned)(unsigned char)*p - '0';
        if (d < 10) {
            v = v * 10 + d;
            nd++;
        } else if (*p == '.') {
            ok = ok && nd && nd <= 3 && v <= 255 && ++dots <= 3;
            v = nd = 0;
        } else {
            return -1;
        }
    }
    return ok && dots == 3 && nd && nd <= 3 && v <= 255;
}

/* IPv6 text (without brackets) to 16 bytes. Parsing into bytes serves both
 * validation and comparison (two spellings of one address are one host).
 * A run of three colons counts as "::": RFC 5118 §4.10 asks receivers to
 * tolerate what the RFC 3261 ABNF bug let senders produce. `out` may be
 * NULL. */
static bool ipv6_parse(const char *p, size_t len, uint8_t *out)
{
    uint16_t g[8];
    size_t i = 0;
    int n = 0, gap = -1;

    if (len && p[0] == ':') {
        while (i < len && p[i] == ':')
            i++;
        if (i < 2 || i > 3)
            return false;
        gap = 0;
    }
    while (i < len) {
        size_t gs = i;
        unsigned v = 0;
        while (i < len && i - gs < 5 && IS_HEX(p[i]))
            v = (v << 4) | hexval(p[i++]);
        if (i < len && p[i] == '.') {
            uint8_t q[4];
            if (n > 6 || !ipv4_parse(p + gs, len - gs, q))
                return false;
            g[n++] = (uint16_t)(q[0] << 8 | q[1]);
            g[n++] = (uint16_t)(q[2] << 8 | q[3]);
            break;
        }
        if (i == gs || i - gs > 4 || n == 8)
            return false;
        g[n++] = (uint16_t)v;
        if (i == len)
            break;
        if (p[i] != ':')
            return false;
        size_t rs = i;
        while (i < len && p[i] == ':')
            i++;
        if (i - rs > 3)
            return false;
        if (i - rs >= 2) {
            if (gap >= 0)
                return false;
            gap = n;
        } else if (i == len) {
            return false; /* a lone trailing colon */
        }
    }
    if (gap < 0 ? n != 8 : n > 7)
        return false;
    if (out) {
        uint16_t full[8] = {0};
        int head = gap < 0 ? n : gap;
        for (int k = 0; k < head; k++)
            full[k] = g[k];
        for (int k = head; k < n; k++)
            full[8 - (n - k)] = g[k];
        for (int k = 0; k < 8; k++) {
            out[2 * k] = (uint8_t)(full[k] >> 8);
            out[2 * k + 1] = (uint8_t)full[k];
        }
    }
    return true;
}

/* hostname / IPv4address at p. Labels must start with an alphanumeric and
 * not end with '-'; a trailing dot is allowed (fully qualified). A host
 * made only of digits and dots is not a hostname (its toplabel would start
 * with a digit), so it has to be a valid IPv4 address. The label checks
 * look back only at the rare '.' and '-', keeping the common path to one
 * table lookup per byte. */
static SPECIALIZE const char *parse_hostname(struct sipsess_uri *u, const char *p, const char *end,
                                             bool delim)
{
    const char *s = p;
    bool dash = false;

    for (;;) {
        /* the alphanumeric run of a label, the bulk of every host */
        if (delim) {
            while (SIPSESS__IS(*p, SIPSESS__C_ALNUM))
                p++;
        } else {
            while (p < end && SIPSESS__IS(*p, SIPSESS__C_ALNUM))
                p++;
            if (p >= end)
                break;
        }
        if (*p == '.') {
            if (p == s || p[-1] == '.' || p[-1] == '-')
                return NULL;
        } else if (*p == '-') {
            if (p == s || p[-1] == '.')
                return NULL;
            dash = true;
        } else {
            break;
        }
        p++;
    }
    if (p == s || p[-1] == '-')
        return NULL;
    /* A letter or '-' anywhere makes a name; a host of digits and dots
     * only must be an IPv4 address. Names start with a letter far more
     * often than not, which settles it without another look. */
    bool name = dash || !IS_DIGIT(*s);
    if (!name) {
        int v4 = host_ipv4(s, p);
        if (v4 == 0)
            return NULL;
        name = v4 < 0;
    }
    u->host = sipsess__str(s, (size_t)(p - s));
    u->host_type = name ? SIPSESS_HOST_NAME : SIPSESS_HOST_IPV4;
    return p;
}

/* `;pname[=pvalue]...` after the first ';'. An empty value after '=' is
 * tolerated (seen in the wild); an empty name is not. */
static SPECIALIZE const char *parse_params(const char *p, const char *end, bool delim)
{
    for (;;) {
        const char *n = p;
        p = scan(p, end, SIPSESS__C_PARAM, delim);
        if (!p || p == n)
            return NULL;
        if (p < end && *p == '=') {
            p = scan(p + 1, end, SIPSESS__C_PARAM, delim);
            if (!p)
                return NULL;
        }
        if (p == end || *p != ';')
            return p;
        p++;
    }
}

/* `hname=hvalue&...` after the '?'. */
static SPECIALIZE const char *parse_headers(const char *p, const char *end, bool delim)
{
    for (;;) {
        const char *n = p;
        p = scan(p, end, SIPSESS__C_HNV, delim);
        if (!p || p == n || p == end || *p != '=')
            return NULL;
        p = scan(p + 1, end, SIPSESS__C_HNV, delim);
        if (!p)
            return NULL;
        if (p == end || *p != '&')
            return p;
        p++;
    }
}

/* Shared tail of sip/sips/tel: params, then (sip only) headers, then the end
 * of the input. */
static SPECIALIZE int parse_tail(struct sipsess_uri *u, const char *p, const char *end, bool headers,
                             bool delim)
{
    if (p < end && *p == ';') {
        const char *s = p + 1;
        p = parse_params(s, end, delim);
        if (!p)
            return SIPSESS_EURI;
        u->params = sipsess__str(s, (size_t)(p - s));
    }
    if (headers && p < end && *p == '?') {
        const char *s = p + 1;
        p = parse_headers(s, end, delim);
        if (!p)
            return SIPSESS_EURI;
        u->headers = sipsess__str(s, (size_t)(p - s));
    }
    return p == end ? 0 : SIPSESS_EURI;
}

static SPECIALIZE int parse_sip(struct sipsess_uri *u, const char *s, const char *end, bool delim)
{
    const char *p = s;
    /* '@' is allowed unescaped nowhere but as the end of userinfo, while the
     * user part may hold ';', '?', '/' (RFC 4475 semiuri), so the first '@'
     * is the only reliable sign of a userinfo. */
    const char *at = memchr(s, '@', (size_t)(end - s));

    if (at) {
        /* '@' is in neither class: these scans stop at `at` unbounded */
        p = scan(p, at, SIPSESS__C_USER, true);
        if (!p || p == s)
            return SIPSESS_EURI;
        u->user = sipsess__str(s, (size_t)(p - s));
        if (p < at) {
            if (*p != ':')
                return SIPSESS_EURI;
            const char *pw = p + 1;
            p = scan(pw, at, SIPSESS__C_PASSWD, true);
            if (p != at)
                return SIPSESS_EURI;
            u->password = sipsess__str(pw, (size_t)(at - pw));
        }
        p = at + 1;
    }

    if (p < end && *p == '[') {
        const char *hs = p + 1;
        const char *rb = memchr(hs, ']', (size_t)(end - hs));
        if (!rb || !ipv6_parse(hs, (size_t)(rb - hs), NULL))
            return SIPSESS_EURI;
        u->host = sipsess__str(hs, (size_t)(rb - hs));
        u->host_type = SIPSESS_HOST_IPV6;
        p = rb + 1;
    } else {
        /* A bare IPv6 address fails here too: its first ':' starts a port
         * whose digits do not follow (RFC 5118 §4.2). */
        p = parse_hostname(u, p, end, delim);
        if (!p)
            return SIPSESS_EURI;
    }

    if (p < end && *p == ':') {
        const char *ds = ++p;
        unsigned v = 0;
        while (p < end && p - ds < 6 && IS_DIGIT(*p))
            v = v * 10 + (unsigned)(*p++ - '0');
        if (p == ds || p - ds > 5 || v > 65535)
            return SIPSESS_EURI;
        u->port = (uint16_t)v;
    }
    u->opaque = sipsess__str(s, (size_t)(p - s));
    return parse_tail(u, p, end, true, delim);
}

static inline bool is_visual_sep(unsigned char c)
{
    return c == '-' || c == '.' || c == '(' || c == ')';
}

/* RFC 3966 telephone-subscriber, leniently: letters beyond the hex digits
 * (vanity numbers) and escapes are accepted, a '+' only in front. */
static int parse_tel(struct sipsess_uri *u, const char *s, const char *end)
{
    const char *p = s;
    bool digit = false;

    if (p < end && *p == '+')
        p++;
    while (p < end) {
        unsigned char c = (unsigned char)*p;
        if (SIPSESS__IS(c, SIPSESS__C_ALNUM) || c == '*' || c == '#') {
            digit = true;
            p++;
        } else if (is_visual_sep(c)) {
            p++;
        } else if (c == '%') {
            if (end - p < 3 || !IS_HEX(p[1]) || !IS_HEX(p[2]))
                return SIPSESS_EURI;
            digit = true;
            p += 3;
        } else {
            break;
        }
    }
    if (!digit)
        return SIPSESS_EURI;
    u->user = sipsess__str(s, (size_t)(p - s));
    u->opaque = u->user;
    return parse_tail(u, p, end, false, false);
}

/* Opaque part of other schemes: anything a URI can carry inside <...> of a
 * header field. Non-ASCII is refused as well, since URIs are ASCII and an
 * IRI would have to be percent-encoded. */
static int parse_other(struct sipsess_uri *u, const char *s, const char *end)
{
    for (const char *p = s; p < end; p++) {
        unsigned char c = (unsigned char)*p;
        if (c <= 0x20 || c >= 0x7f || c == '<' || c == '>' || c == '"')
            return SIPSESS_EURI;
    }
    if (s == end)
        return SIPSESS_EURI;
    u->opaque = sipsess__str(s, (size_t)(end - s));
    return 0;
}

/* Field by field on purpose: a whole-struct zeroing compiles to `rep stos`,
 * whose start-up cost was a third of the time of parsing a short URI. */
static inline void reset(struct sipsess_uri *u, const char *p, size_t len)
{
    const sipsess_str none = {NULL, 0};
    u->text = sipsess__str(p, len);
    u->scheme = none;
    u->user = none;
    u->password = none;
    u->host = none;
    u->params = none;
    u->headers = none;
    u->opaque = none;
    u->port = 0;
    u->scheme_id = SIPSESS_URI_OTHER;
    u->host_type = SIPSESS_HOST_NONE;
    u->owned = 0;
}

static SPECIALIZE int uri_parse(struct sipsess_uri *u, const char *p, size_t len, size_t max_len,
                            bool delim)
{
    if (!u)
        return SIPSESS_EINVAL;
    /* Keep the text even when the parse fails: a lenient message parser
     * can still show what the URI was. */
    reset(u, p, len);
    if (len > max_len)
        return SIPSESS_EURITOOLONG;
    if (!p || len == 0 || !IS_ALPHA(p[0]))
        return SIPSESS_EURI;

    const char *end = p + len, *s;
    size_t slen;
    int id = SIPSESS_URI_OTHER;
    /* "sip:" first: nearly every URI a parser meets starts so. */
    if (len > 4 && (p[0] | 0x20) == 's' && (p[1] | 0x20) == 'i' && (p[2] | 0x20) == 'p' &&
        p[3] == ':') {
        slen = 3;
        id = SIPSESS_URI_SIP;
    } else {
        s = p + 1;
        while (s < end && SIPSESS__IS(*s, SIPSESS__C_SCHEME))
            s++;
        if (s == end || *s != ':')
            return SIPSESS_EURI;
        slen = (size_t)(s - p);
        if ((slen == 3 || slen == 4) && (p[0] | 0x20) == 's' && (p[1] | 0x20) == 'i' &&
            (p[2] | 0x20) == 'p') {
            if (slen == 3)
                id = SIPSESS_URI_SIP;
            else if ((p[3] | 0x20) == 's')
                id = SIPSESS_URI_SIPS;
        } else if (slen == 3 && (p[0] | 0x20) == 't' && (p[1] | 0x20) == 'e' &&
                   (p[2] | 0x20) == 'l') {
            id = SIPSESS_URI_TEL;
        }
    }
    u->scheme = sipsess__str(p, slen);
    s = p + slen + 1;
    u->scheme_id = (uint8_t)id;

    int rc;
    switch (id) {
    case SIPSESS_URI_SIP:
    case SIPSESS_URI_SIPS:
        rc = parse_sip(u, s, end, delim);
        break;
    case SIPSESS_URI_TEL:
        rc = parse_tel(u, s, end);
        break;
    default:
        rc = parse_other(u, s, end);
        break;
    }
    if (rc)
        reset(u, p, len);
    return rc;
}

int sipsess__uri_parse_into(struct sipsess_uri *u, const char *p, size_t len,
                            size_t max_len)
{
    return uri_parse(u, p, len, max_len, false);
}

int sipsess__uri_parse_delim(struct sipsess_uri *u, const char *p, size_t len,
                             size_t max_len)
{
    return uri_parse(u, p, len, max_len, true);
}

/* ---- owned copies ---- */

static inline sipsess_str rebase(sipsess_str v, const char *from, const char *to)
{
    if (v.p)
        v.p = to + (v.p - from);
    return v;
}

/* One block holds the struct and the text so a URI is freed in one call and
 * its views can never outlive their bytes. */
static int make_owned(const struct sipsess_uri *src, sipsess_uri **out)
{
    size_t len = src->text.len;
    struct sipsess_uri *u = sipsess__malloc(sizeof *u + len + 1);
    if (!u)
        return SIPSESS_ENOMEM;
    char *t = (char *)(u + 1);
    if (len)
        memcpy(t, src->text.p, len);
    t[len] = '\0';

    const char *from = src->text.p;
    *u = *src;
    u->text = sipsess__str(t, len);
    u->scheme = rebase(src->scheme, from, t);
    u->user = rebase(src->user, from, t);
    u->password = rebase(src->password, from, t);
    u->host = rebase(src->host, from, t);
    u->params = rebase(src->params, from, t);
    u->headers = rebase(src->headers, from, t);
    u->opaque = rebase(src->opaque, from, t);
    u->owned = 1;
    *out = u;
    return 0;
}

SIPSESS_API int sipsess_uri_parse(const char *text, size_t len, sipsess_uri **out)
{
    struct sipsess_uri tmp;
    if (!text || !out)
        return SIPSESS_EINVAL;
    /* Parse in place first: a malformed URI then costs no allocation. */
    int rc = sipsess__uri_parse_into(&tmp, text, len, URI_MAX_OWNED);
    if (rc)
        return rc;
    return make_owned(&tmp, out);
}

SIPSESS_API void sipsess_uri_free(sipsess_uri *uri)
{
    /* A URI embedded in a message is part of the message's memory. */
    if (uri && uri->owned)
        sipsess__free(uri);
}

SIPSESS_API int sipsess_uri_dup(const sipsess_uri *uri, sipsess_uri **out)
{
    if (!uri || !out || !uri->text.p)
        return SIPSESS_EINVAL;
    return make_owned(uri, out);
}

/* ---- accessors ---- */

static const sipsess_str k_none = {NULL, 0};

SIPSESS_API sipsess_uri_scheme sipsess_uri_scheme_id(const sipsess_uri *uri)
{
    return uri ? (sipsess_uri_scheme)uri->scheme_id : SIPSESS_URI_OTHER;
}

SIPSESS_API sipsess_str sipsess_uri_scheme_name(const sipsess_uri *uri)
{
    return uri ? uri->scheme : k_none;
}

SIPSESS_API sipsess_str sipsess_uri_text(const sipsess_uri *uri)
{
    return uri ? uri->text : k_none;
}

SIPSESS_API sipsess_str sipsess_uri_user(const sipsess_uri *uri)
{
    return uri ? uri->user : k_none;
}

SIPSESS_API sipsess_str sipsess_uri_password(const sipsess_uri *uri)
{
    return uri ? uri->password : k_none;
}

SIPSESS_API sipsess_str sipsess_uri_host(const sipsess_uri *uri)
{
    return uri ? uri->host : k_none;
}

SIPSESS_API sipsess_host_type sipsess_uri_host_type(const sipsess_uri *uri)
{
    return uri ? (sipsess_host_type)uri->host_type : SIPSESS_HOST_NONE;
}

SIPSESS_API unsigned sipsess_uri_port(const sipsess_uri *uri)
{
    return uri ? uri->port : 0;
}

SIPSESS_API sipsess_str sipsess_uri_opaque(const sipsess_uri *uri)
{
    return uri ? uri->opaque : k_none;
}

SIPSESS_API sipsess_str sipsess_uri_params(const sipsess_uri *uri)
{
    return uri ? uri->params : k_none;
}

SIPSESS_API sipsess_str sipsess_uri_headers(const sipsess_uri *uri)
{
    return uri ? uri->headers : k_none;
}

/* ---- parameter and header lists ---- */

struct kv {
    sipsess_str name;
    sipsess_str value; /* {NULL,0} without '=' */
};

/* Next `name[=value]` of a list already validated by the parser, so no
 * whitespace or quoting can occur. Index-based so an absent list ({NULL,0})
 * needs no pointer arithmetic on NULL. */
static bool kv_next(sipsess_str list, char sep, size_t *i, struct kv *kv)
{
    if (*i >= list.len)
        return false;
    const char *p = list.p + *i, *end = list.p + list.len, *ns = p;
    while (p < end && *p != '=' && *p != sep)
        p++;
    kv->name = sipsess__str(ns, (size_t)(p - ns));
    kv->value = k_none;
    if (p < end && *p == '=') {
        const char *vs = ++p;
        while (p < end && *p != sep)
            p++;
        kv->value = sipsess__str(vs, (size_t)(p - vs));
    }
    if (p < end)
        p++;
    *i = (size_t)(p - list.p);
    return true;
}

static int list_lookup(sipsess_str list, char sep, const char *name, sipsess_str *value)
{
    struct kv kv;
    size_t i = 0;
    if (!name)
        return 0;
    while (kv_next(list, sep, &i, &kv)) {
        if (sipsess__str_ieq(kv.name, name)) {
            if (value)
                *value = kv.value;
            return 1;
        }
    }
    return 0;
}

SIPSESS_API int sipsess_uri_param(const sipsess_uri *uri, const char *name,
                                  sipsess_str *value)
{
    return uri ? list_lookup(uri->params, ';', name, value) : 0;
}

SIPSESS_API int sipsess_uri_header(const sipsess_uri *uri, const char *name,
                                   sipsess_str *value)
{
    return uri ? list_lookup(uri->headers, '&', name, value) : 0;
}

/* ---- unescape and print ---- */

SIPSESS_API int sipsess_unescape(sipsess_str in, char *buf, size_t cap,
                                 size_t *out_len)
{
    /* buf may be NULL with cap 0 to ask for the length only. */
    if (!out_len || (!buf && cap) || (!in.p && in.len))
        return SIPSESS_EINVAL;
    size_t n = 0;
    for (size_t i = 0; i < in.len; n++) {
        char c = in.p[i];
        if (c == '%') {
            if (in.len - i < 3 || !IS_HEX(in.p[i + 1]) || !IS_HEX(in.p[i + 2]))
                return SIPSESS_EINVAL;
            c = (char)(hexval(in.p[i + 1]) << 4 | hexval(in.p[i + 2]));
            i += 3;
        } else {
            i++;
        }
        if (n < cap)
            buf[n] = c;
    }
    *out_len = n;
    if (n > cap)
        return SIPSESS_ENOSPC;
    if (n < cap)
        buf[n] = '\0';
    return 0;
}

SIPSESS_API int sipsess_uri_print(const sipsess_uri *uri, char *buf, size_t cap,
                                  size_t *out_len)
{
    if (!uri || !out_len || (!buf && cap))
        return SIPSESS_EINVAL;
    size_t len = uri->text.len;
    *out_len = len;
    if (len > cap)
        return SIPSESS_ENOSPC;
    if (len)
        memcpy(buf, uri->text.p, len);
    if (len < cap)
        buf[len] = '\0';
    return 0;
}

/* ---- comparison (RFC 3261 §19.1.4, RFC 3966 §4) ---- */

enum { CMP_ICASE = 1, CMP_SKIPVIS = 2 };

/* Next comparable unit of escaped text, -1 at the end. An escape of an
 * unreserved character equals the character itself, but an escaped reserved
 * character is not the reserved character (§19.1.4: "%3B" is not ";"), so
 * such escapes carry a mark bit above the byte. */
static int next_unit(sipsess_str s, size_t *i, unsigned flags)
{
    while (*i < s.len) {
        unsigned c = (unsigned char)s.p[*i];
        unsigned esc = 0;
        if (c == '%' && s.len - *i >= 3 && IS_HEX(s.p[*i + 1]) && IS_HEX(s.p[*i + 2])) {
            c = hexval(s.p[*i + 1]) << 4 | hexval(s.p[*i + 2]);
            esc = !SIPSESS__IS(c, SIPSESS__C_UNRES);
            *i += 3;
        } else {
            (*i)++;
        }
        if ((flags & CMP_SKIPVIS) && !esc && is_visual_sep((unsigned char)c))
            continue;
        if (flags & CMP_ICASE)
            c = (unsigned)sipsess__lower((int)c);
        return (int)(c | esc << 8);
    }
    return -1;
}

static bool esc_eq(sipsess_str a, sipsess_str b, unsigned flags)
{
    /* Same bytes (up to case when case does not matter) are equal under
     * every rule here, and that is what most comparisons meet. */
    if (a.len == b.len && a.len &&
        ((flags & CMP_ICASE) ? sipsess__str_ieq2(a, b) : memcmp(a.p, b.p, a.len) == 0))
        return true;
    size_t ia = 0, ib = 0;
    for (;;) {
        int ca = next_unit(a, &ia, flags), cb = next_unit(b, &ib, flags);
        if (ca != cb)
            return false;
        if (ca < 0)
            return true;
    }
}

/* Absent and present-but-empty differ ("sip:a@h" vs "sip:a:@h"). */
static bool opt_eq(sipsess_str a, sipsess_str b, unsigned flags)
{
    if ((a.p == NULL) != (b.p == NULL))
        return false;
    return esc_eq(a, b, flags);
}

static bool kv_find(sipsess_str list, char sep, sipsess_str name, struct kv *out)
{
    size_t i = 0;
    while (kv_next(list, sep, &i, out))
        if (esc_eq(out->name, name, CMP_ICASE))
            return true;
    return false;
}

/* A repeated parameter name counts with its first value only, as a lookup
 * would see it; comparing later duplicates too would make a URI unequal to
 * itself. */
static bool kv_is_first(sipsess_str list, char sep, const struct kv *kv)
{
    struct kv f;
    return kv_find(list, sep, kv->name, &f) && f.name.p == kv->name.p;
}

static bool name_is(sipsess_str name, const char *lit)
{
    if (!name.len || !memchr(name.p, '%', name.len))
        return sipsess__str_ieq(name, lit);
    return esc_eq(name, sipsess__str_c(lit), CMP_ICASE);
}

/* Parameters whose absence on one side still changes where a request goes
 * (§19.1.4), so they must be on both sides to be equal. */
static bool sip_param_must_match(sipsess_str name)
{
    return name_is(name, "transport") || name_is(name, "user") || name_is(name, "ttl") ||
           name_is(name, "method") || name_is(name, "maddr");
}

static bool sip_params_equal(sipsess_str a, sipsess_str b)
{
    struct kv ka, kb;
    size_t i = 0;
    while (kv_next(a, ';', &i, &ka)) {
        if (!kv_is_first(a, ';', &ka))
            continue;
        if (!kv_find(b, ';', ka.name, &kb)) {
            if (sip_param_must_match(ka.name))
                return false;
            continue;
        }
        if (!opt_eq(ka.value, kb.value, CMP_ICASE))
            return false;
    }
    i = 0;
    while (kv_next(b, ';', &i, &kb))
        if (sip_param_must_match(kb.name) && !kv_find(a, ';', kb.name, &ka))
            return false;
    return true;
}

static size_t header_count(sipsess_str list, const struct kv *h)
{
    struct kv kv;
    size_t i = 0, n = 0;
    while (kv_next(list, '&', &i, &kv)) {
        if (!h || (esc_eq(kv.name, h->name, CMP_ICASE) && opt_eq(kv.value, h->value, CMP_ICASE)))
            n++;
    }
    return n;
}

/* Headers are compared as multisets: a header may repeat (two Route
 * values) and order is not significant. Values are compared
 * case-insensitively, the rule §19.1.4 gives to every component it does
 * not name. */
static bool sip_headers_equal(sipsess_str a, sipsess_str b)
{
    struct kv h;
    size_t i = 0;
    if (header_count(a, NULL) != header_count(b, NULL))
        return false;
    while (kv_next(a, '&', &i, &h))
        if (header_count(a, &h) != header_count(b, &h))
            return false;
    return true;
}

/* Whether a port was written: "sip:h" and "sip:h:5060" are different
 * URIs, which the stored port alone (0 when absent) cannot tell from
 * "sip:h:0". Only a port can follow the host inside the opaque part. */
static bool has_port(const struct sipsess_uri *u)
{
    if (!u->host.p)
        return false;
    size_t off = (size_t)(u->host.p - u->opaque.p) + u->host.len;
    if (u->host_type == SIPSESS_HOST_IPV6)
        off++;
    return off < u->opaque.len;
}

static bool sip_equal(const struct sipsess_uri *a, const struct sipsess_uri *b)
{
    if (a->port != b->port || has_port(a) != has_port(b) || a->host_type != b->host_type)
        return false;
    if (a->host_type == SIPSESS_HOST_IPV6) {
        uint8_t x[16], y[16];
        if (!ipv6_parse(a->host.p, a->host.len, x) || !ipv6_parse(b->host.p, b->host.len, y) ||
            memcmp(x, y, sizeof x) != 0)
            return false;
    } else if (!sipsess__str_ieq2(a->host, b->host)) {
        return false;
    }
    /* userinfo is the one case-sensitive component */
    if (!opt_eq(a->user, b->user, 0) || !opt_eq(a->password, b->password, 0))
        return false;
    return sip_params_equal(a->params, b->params) && sip_headers_equal(a->headers, b->headers);
}

static bool tel_value_equal(sipsess_str name, sipsess_str a, sipsess_str b)
{
    unsigned flags = CMP_ICASE;
    /* ext and a global-number phone-context are digits where visual
     * separators carry no meaning; a domain-name context keeps its dots. */
    if (name_is(name, "ext") || (name_is(name, "phone-context") && a.len && a.p[0] == '+'))
        flags |= CMP_SKIPVIS;
    return opt_eq(a, b, flags);
}

/* RFC 3966 §4: same kind of number (global/local), same digits without
 * visual separators, and the same set of parameters. */
static bool tel_equal(const struct sipsess_uri *a, const struct sipsess_uri *b)
{
    bool ga = a->user.len && a->user.p[0] == '+';
    bool gb = b->user.len && b->user.p[0] == '+';
    if (ga != gb || !esc_eq(a->user, b->user, CMP_ICASE | CMP_SKIPVIS))
        return false;
    struct kv ka, kb;
    size_t i = 0;
    while (kv_next(a->params, ';', &i, &ka))
        if (kv_is_first(a->params, ';', &ka) &&
            (!kv_find(b->params, ';', ka.name, &kb) ||
             !tel_value_equal(ka.name, ka.value, kb.value)))
            return false;
    i = 0;
    while (kv_next(b->params, ';', &i, &kb))
        if (!kv_find(a->params, ';', kb.name, &ka))
            return false;
    return true;
}

SIPSESS_API int sipsess_uri_equal(const sipsess_uri *a, const sipsess_uri *b)
{
    if (!a || !b || a->scheme_id != b->scheme_id)
        return 0;
    switch (a->scheme_id) {
    case SIPSESS_URI_SIP:
    case SIPSESS_URI_SIPS:
        return sip_equal(a, b);
    case SIPSESS_URI_TEL:
        return tel_equal(a, b);
    default:
        return a->text.p && b->text.p && sipsess__str_ieq2(a->text, b->text);
    }
}
