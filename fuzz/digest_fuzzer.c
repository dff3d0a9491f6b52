/*
 * libFuzzer target for the auth headers: Authorization,
 * Proxy-Authorization, WWW-Authenticate, Proxy-Authenticate and
 * Authentication-Info, read through sipsess_auth_scheme and
 * sipsess_auth_param.
 *
 * Input layout:
 *   byte 0     bits 0-2: header name (the five above, "authorization" in
 *                        lower case, "WWW-AUTHENTICATE", or one per line in
 *                        turn)
 *              bit 3:    a 401 response instead of a REGISTER request
 *              bit 4:    tight parse limits
 *              bit 5:    raw lines: each line is a whole header line
 *                        ("Name: value") instead of a value
 *   the rest   lines (LF, or CRLF): each is a header value, written as
 *              "Name: line"; a line starting with SP/HT continues the one
 *              before (a fold).
 * The message is parsed in strict and lenient mode. Every auth header
 * value then has its scheme and its parameters read: the digest names
 * (username, realm, nonce, uri, response, algorithm, cnonce, opaque, qop,
 * nc, stale, domain, nextnonce, rspauth), case variants, near misses, and
 * names taken from the input.
 *
 * Invariants checked besides "no crash, no leak, no UB":
 *  - a bad value (lenient) has no scheme and no parameter;
 *  - the scheme is a non-empty token inside the value (none for
 *    Authentication-Info);
 *  - every value found lies inside the header value (so inside the
 *    message bytes), is a token68-ish run or sits between double quotes;
 *  - the parameter list, walked here independently, agrees with
 *    sipsess_auth_param: each name finds the value of its first
 *    occurrence, any case; a name not in the list is not found;
 *  - the generic lookup over the list gives the same answer as the one
 *    recorded by the parse for the digest names;
 *  - after print -> parse, every auth header has the same scheme and the
 *    same parameters (values with folds aside, which print rewrites).
 */
#include "fuzz_util.h"
#include "msg_walk.h"

#include <stdbool.h>

#include "syntax/syntax.h"

#define MAX_PAIRS 64

static const char *const g_digest_names[] = {
    "username", "realm",  "nonce",  "uri",       "response", "algorithm", "cnonce",
    "opaque",   "qop",    "nc",     "stale",     "domain",   "nextnonce", "rspauth",
    "REALM",    "Nonce",  "NC",     "UsErNaMe",  "realm2",   "nonc",      "",
    "re alm",   "realm=", "\"realm", "uri,",     "Digest",   "n\xc3\xa9", "RSPAUTH",
};

struct pair {
    sipsess_str name, val;
};

static bool is_lws(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* The parameter list of a well-formed auth value, walked without the
 * library: name LWS "=" LWS (quoted-string | token68-ish) separated by
 * LWS "," LWS. Returns the number of pairs, or -1 when the text does not
 * follow that grammar. */
static int walk_params(sipsess_str params, struct pair *out, int max)
{
    if (!params.p)
        return 0; /* no pointer arithmetic on NULL */
    const char *p = params.p, *end = params.p + params.len;
    int n = 0;
    for (;;) {
        while (p < end && is_lws(*p))
            p++;
        const char *ns = p;
        while (p < end && SIPSESS__IS(*p, SIPSESS__C_TOKEN))
            p++;
        if (p == ns)
            return -1;
        sipsess_str name = {ns, (size_t)(p - ns)};
        while (p < end && is_lws(*p))
            p++;
        if (p == end || *p != '=')
            return -1;
        p++;
        while (p < end && is_lws(*p))
            p++;
        sipsess_str val;
        if (p < end && *p == '"') {
            const char *vs = ++p;
            while (p < end && *p != '"') {
                if (*p == '\\')
                    p++;
                p++;
            }
            if (p >= end)
                return -1;
            val = (sipsess_str){vs, (size_t)(p - vs)};
            p++;
        } else {
            const char *vs = p;
            while (p < end && SIPSESS__IS(*p, SIPSESS__C_AUTHV))
                p++;
            if (p == vs)
                return -1;
            val = (sipsess_str){vs, (size_t)(p - vs)};
        }
        if (n < max)
            out[n] = (struct pair){name, val};
        n++;
        while (p < end && is_lws(*p))
            p++;
        if (p == end)
            return n;
        if (*p != ',')
            return -1;
        p++;
    }
}

static bool inside(sipsess_str in, sipsess_str outer)
{
    if (in.p == NULL)
        return in.len == 0;
    return outer.p != NULL && in.p >= outer.p && in.len <= outer.len &&
           (size_t)(in.p - outer.p) <= outer.len - in.len;
}

static bool is_auth_id(sipsess_hdr_id id)
{
    return id == SIPSESS_HDR_AUTHORIZATION || id == SIPSESS_HDR_PROXY_AUTHORIZATION ||
           id == SIPSESS_HDR_WWW_AUTHENTICATE || id == SIPSESS_HDR_PROXY_AUTHENTICATE ||
           id == SIPSESS_HDR_AUTHENTICATION_INFO;
}

/* One lookup by name: the public answer, checked against the model (the
 * pairs walked here) when there is one, and against the generic lookup. */
static void check_name(const sipsess_msg *m, const sipsess_hdr *h, const char *name,
                       const struct pair *pairs, int npairs)
{
    sipsess_str v = {(const char *)&v, 777};
    int found = sipsess_auth_param(h, name, &v);
    FUZZ_CHECK(found == 0 || found == 1);
    FUZZ_CHECK(sipsess_auth_param(h, name, NULL) == found);
    if (!found) {
        FUZZ_CHECK(v.p == (const char *)&v && v.len == 777); /* untouched */
    } else {
        FUZZ_CHECK(v.p != NULL);
        FUZZ_CHECK(inside(v, sipsess_hdr_value(h)));
        FUZZ_CHECK(inside(v, sipsess_msg_raw(m)));
        const char *vend = v.p + v.len;
        if (v.p[-1] == '"') {
            FUZZ_CHECK(*vend == '"');
        } else {
            FUZZ_CHECK(v.len > 0);
            for (size_t i = 0; i < v.len; i++)
                FUZZ_CHECK(SIPSESS__IS(v.p[i], SIPSESS__C_AUTHV));
        }
    }
    /* The generic walk of the list answers the same (the digest names are
     * recorded by the parse, the others found by that walk). */
    sipsess_str g = {NULL, 0};
    bool gfound = sipsess__param_find(h->params, ',', name, &g);
    if (gfound != (found == 1) || (found && (g.p != v.p || g.len != v.len))) {
        fprintf(stderr, "auth_param(%s)=%d [%.*s] but the list walk says %d [%.*s] in: %.*s\n",
                name, found, found ? (int)v.len : 0, found ? v.p : "", (int)gfound,
                gfound ? (int)g.len : 0, gfound ? g.p : "", (int)sipsess_hdr_value(h).len,
                sipsess_hdr_value(h).p);
        FUZZ_CHECK(!"auth_param agrees with the list walk");
    }
    if (npairs < 0)
        return;
    /* The model: the first pair of that name, any case. */
    size_t nlen = strlen(name);
    for (int i = 0; i < npairs && i < MAX_PAIRS; i++) {
        if (pairs[i].name.len == nlen && sipsess__str_ieq(pairs[i].name, name)) {
            if (found != 1 || v.p != pairs[i].val.p || v.len != pairs[i].val.len) {
                fprintf(stderr, "auth_param(%s): expected [%.*s], got %d [%.*s] in: %.*s\n",
                        name, (int)pairs[i].val.len, pairs[i].val.p, found,
                        found ? (int)v.len : 0, found ? v.p : "",
                        (int)sipsess_hdr_value(h).len, sipsess_hdr_value(h).p);
                FUZZ_CHECK(!"auth_param finds the first pair of that name");
            }
            return;
        }
    }
    if (npairs <= MAX_PAIRS && found) {
        fprintf(stderr, "auth_param(%s) found [%.*s] but the list has no such name: %.*s\n",
                name, (int)v.len, v.p, (int)sipsess_hdr_value(h).len, sipsess_hdr_value(h).p);
        FUZZ_CHECK(!"auth_param finds only names of the list");
    }
}

/* Names taken from the input: the tokens before each '=', and a few
 * slices picked by the hash. */
static void input_names(const uint8_t *data, size_t size, char names[][40], int *n, int max)
{
    for (size_t i = 0; i < size && *n < max - 4; i++) {
        if (data[i] != '=')
            continue;
        size_t e = i;
        while (e > 0 && (data[e - 1] == ' ' || data[e - 1] == '\t'))
            e--;
        size_t b = e;
        while (b > 0 && e - b < 39 && data[b - 1] != ' ' && data[b - 1] != ',' &&
               data[b - 1] != '\n' && data[b - 1] != '\t' && data[b - 1] != 0)
            b--;
        memcpy(names[*n], data + b, e - b);
        names[*n][e - b] = '\0';
        (*n)++;
    }
    uint64_t seed = fuzz_hash(data, size) | 1u;
    for (int k = 0; k < 4 && size > 0; k++) {
        size_t at = (size_t)(fuzz_next(&seed) % size);
        size_t len = 1 + (size_t)(fuzz_next(&seed) % 12);
        if (len > size - at)
            len = size - at;
        size_t j = 0;
        for (size_t i = 0; i < len; i++)
            if (data[at + i] != 0)
                names[*n][j++] = (char)data[at + i];
        names[*n][j] = '\0';
        (*n)++;
    }
}

static void check_auth_hdr(const sipsess_msg *m, const sipsess_hdr *h, char names[][40],
                           int nnames)
{
    sipsess_hdr_id id = sipsess_hdr_get_id(h);
    sipsess_str value = sipsess_hdr_value(h);
    sipsess_str scheme = sipsess_auth_scheme(h);
    FUZZ_CHECK(inside(value, sipsess_msg_raw(m)));

    /* The generic parameter lookup is not for auth headers. */
    sipsess_str gv;
    FUZZ_CHECK(sipsess_hdr_param(h, "realm", &gv) == 0);

    if (sipsess_hdr_is_bad(h)) {
        FUZZ_CHECK(scheme.p == NULL && scheme.len == 0);
        for (size_t i = 0; i < sizeof g_digest_names / sizeof g_digest_names[0]; i++)
            FUZZ_CHECK(sipsess_auth_param(h, g_digest_names[i], NULL) == 0);
        return;
    }
    if (id == SIPSESS_HDR_AUTHENTICATION_INFO) {
        FUZZ_CHECK(scheme.p == NULL && scheme.len == 0);
    } else {
        FUZZ_CHECK(scheme.len > 0 && inside(scheme, value));
        FUZZ_CHECK(scheme.p == value.p);
        for (size_t i = 0; i < scheme.len; i++)
            FUZZ_CHECK(SIPSESS__IS(scheme.p[i], SIPSESS__C_TOKEN));
        FUZZ_CHECK(fuzz_str_eq(sipsess_hdr_token(h), scheme));
    }
    FUZZ_CHECK(inside(h->params, value));

    struct pair pairs[MAX_PAIRS];
    int npairs = walk_params(h->params, pairs, MAX_PAIRS);
    if (npairs < 0) {
        fprintf(stderr, "accepted auth value does not follow the grammar: %.*s\n",
                (int)value.len, value.p);
        FUZZ_CHECK(npairs >= 0);
    }
    for (size_t i = 0; i < sizeof g_digest_names / sizeof g_digest_names[0]; i++)
        check_name(m, h, g_digest_names[i], pairs, npairs);
    for (int i = 0; i < nnames; i++)
        check_name(m, h, names[i], pairs, npairs);
    /* every name of the list, as written, upper-cased and lower-cased */
    for (int i = 0; i < npairs && i < MAX_PAIRS; i++) {
        char n[3][64];
        size_t len = pairs[i].name.len;
        if (len >= sizeof n[0])
            continue;
        for (size_t j = 0; j < len; j++) {
            char c = pairs[i].name.p[j];
            n[0][j] = c;
            n[1][j] = (char)(c >= 'a' && c <= 'z' ? c - 32 : c);
            n[2][j] = (char)sipsess__lower((unsigned char)c);
        }
        for (int k = 0; k < 3; k++) {
            n[k][len] = '\0';
            check_name(m, h, n[k], pairs, npairs);
        }
    }
}

/* After print -> parse the auth headers read the same. */
static void check_reprint(const sipsess_msg *m, const sipsess_parse_opts *opts)
{
    char probe[1];
    size_t need = 0;
    if (sipsess_msg_print(m, probe, 0, &need) != SIPSESS_ENOSPC)
        return;
    char *buf = malloc(need + 1);
    FUZZ_CHECK(buf != NULL);
    FUZZ_CHECK(sipsess_msg_print(m, buf, need + 1, &need) == SIPSESS_OK);
    sipsess_parse_opts big = *opts;
    big.max_msg_size = opts->max_msg_size * 2u + 4096u;
    big.max_headers = opts->max_headers + 1u;
    big.max_header_len = opts->max_header_len * 2u + 256u;
    big.max_uri_len = opts->max_uri_len * 2u + 256u;
    sipsess_msg *re = NULL;
    FUZZ_CHECK(sipsess_msg_parse(buf, need, &big, &re, NULL) == SIPSESS_OK);
    for (int idn = SIPSESS_HDR_AUTHORIZATION; idn <= SIPSESS_HDR_AUTHENTICATION_INFO; idn++) {
        sipsess_hdr_id id = (sipsess_hdr_id)idn;
        FUZZ_CHECK(sipsess_msg_hdr_num(re, id) == sipsess_msg_hdr_num(m, id));
        for (size_t k = 0; k < sipsess_msg_hdr_num(m, id); k++) {
            const sipsess_hdr *a = sipsess_msg_hdr(m, id, k), *b = sipsess_msg_hdr(re, id, k);
            sipsess_str av = sipsess_hdr_value(a);
            if (memchr(av.p, '\n', av.len) || memchr(av.p, '\r', av.len))
                continue; /* folds become one space */
            FUZZ_CHECK(sipsess_hdr_is_bad(a) == sipsess_hdr_is_bad(b));
            FUZZ_CHECK(fuzz_str_eq(sipsess_auth_scheme(a), sipsess_auth_scheme(b)));
            for (size_t i = 0; i < sizeof g_digest_names / sizeof g_digest_names[0]; i++) {
                sipsess_str x = {NULL, 0}, y = {NULL, 0};
                int fa = sipsess_auth_param(a, g_digest_names[i], &x);
                int fb = sipsess_auth_param(b, g_digest_names[i], &y);
                FUZZ_CHECK(fa == fb && fuzz_str_eq(x, y));
            }
        }
    }
    sipsess_msg_free(re);
    free(buf);
}

static const char *const g_hdr_names[] = {
    "Authorization",      "Proxy-Authorization", "WWW-Authenticate", "Proxy-Authenticate",
    "Authentication-Info", "authorization",      "WWW-AUTHENTICATE",
};

static void append(char **buf, size_t *len, size_t *cap, const void *p, size_t n)
{
    if (*len + n + 1 > *cap) {
        size_t ncap = (*cap ? *cap : 1024);
        while (ncap < *len + n + 1)
            ncap *= 2;
        char *nb = realloc(*buf, ncap);
        FUZZ_CHECK(nb != NULL);
        *buf = nb;
        *cap = ncap;
    }
    memcpy(*buf + *len, p, n);
    *len += n;
}

#define APPEND_LIT(s) append(&buf, &len, &cap, s, sizeof(s) - 1)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    uint8_t mode = data[0];
    const uint8_t *in = data + 1;
    size_t insize = size - 1;

    char *buf = NULL;
    size_t len = 0, cap = 0;
    if (mode & 8u)
        APPEND_LIT("SIP/2.0 401 Unauthorized\r\n");
    else
        APPEND_LIT("REGISTER sip:example.com SIP/2.0\r\n");
    APPEND_LIT("Via: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bKdigest\r\n"
               "From: <sip:alice@example.com>;tag=f1\r\n"
               "To: <sip:alice@example.com>\r\n"
               "Call-ID: digest@192.0.2.1\r\n"
               "CSeq: 1 REGISTER\r\n"
               "Max-Forwards: 70\r\n");
    size_t pos = 0;
    unsigned line_no = 0;
    while (pos < insize) {
        const uint8_t *lf = memchr(in + pos, '\n', insize - pos);
        size_t e = lf ? (size_t)(lf - in) : insize;
        size_t le = e;
        if (le > pos && in[le - 1] == '\r')
            le--;
        bool fold = le > pos && (in[pos] == ' ' || in[pos] == '\t');
        if (!(mode & 32u) && !fold) {
            unsigned which = mode & 7u;
            if (which == 7)
                which = line_no % 7;
            const char *name = g_hdr_names[which];
            append(&buf, &len, &cap, name, strlen(name));
            APPEND_LIT(": ");
        }
        append(&buf, &len, &cap, in + pos, le - pos);
        APPEND_LIT("\r\n");
        line_no++;
        pos = e + 1;
    }
    APPEND_LIT("Content-Length: 0\r\n\r\n");

    char names[64][40];
    int nnames = 0;
    input_names(in, insize, names, &nnames, 64);

    sipsess_parse_opts opts;
    sipsess_parse_opts_init(&opts);
    if (mode & 16u) {
        opts.max_msg_size = 1024;
        opts.max_headers = 16;
        opts.max_header_len = 256;
    }
    for (int lenient = 0; lenient < 2; lenient++) {
        opts.flags = lenient ? SIPSESS_PARSE_LENIENT : 0;
        sipsess_msg *m = NULL;
        if (sipsess_msg_parse(buf, len, &opts, &m, NULL) != SIPSESS_OK)
            continue;
        msg_walk(m);
        for (size_t i = 0; i < sipsess_msg_hdr_count(m); i++) {
            const sipsess_hdr *h = sipsess_msg_hdr_at(m, i);
            if (is_auth_id(sipsess_hdr_get_id(h)))
                check_auth_hdr(m, h, names, nnames);
            else
                FUZZ_CHECK(sipsess_auth_param(h, "realm", NULL) == 0 &&
                           sipsess_auth_scheme(h).p == NULL);
        }
        check_reprint(m, &opts);
        sipsess_msg_free(m);
    }
    free(buf);
    return 0;
}
