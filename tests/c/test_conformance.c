/*
 * Conformance evidence for the syntax layer: every message of RFC 4475 and
 * RFC 5118, driven by the MANIFEST.tsv files of the shared conformance
 * folder (read in place, never copied into the repository).
 *
 * Counts come from the manifests, not from the files this test knows
 * about: a row nobody wrote an expectation for fails, and the totals the
 * RFC archives hold (50 and 24 rows) are asserted, so a file that goes
 * missing or a check that quietly skips rows cannot pass.
 *
 * The shared folder is SHARED_DIR (set by mk/test.mk) unless the
 * environment variable SIPSESS_SHARED names another one.
 */
#include <criterion/criterion.h>
#include <dirent.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sipsess/msg.h>
#include <sipsess/uri.h>

#ifndef SHARED_DIR
#define SHARED_DIR "../shared"
#endif

static const char *shared_dir(void)
{
    const char *e = getenv("SIPSESS_SHARED");
    return e && *e ? e : SHARED_DIR;
}

/* ================================================================== */
/* Check bookkeeping                                                   */

/* Failed checks in this process. A row counts as passed only when it
 * added none, which is how the printed counts stay honest. */
static unsigned g_fails;

#define CHECK(cond, ...)                  \
    do {                                  \
        if (!(cond)) {                    \
            g_fails++;                    \
            cr_expect(0, __VA_ARGS__);    \
        }                                 \
    } while (0)

/* printf arguments for a view; an absent view prints as nothing. */
#define PS(s) (int)(s).len, ((s).p ? (s).p : "")

/* ================================================================== */
/* Files and manifests                                                 */

struct blob {
    char *p;
    size_t len;
};

/* Exactly `len` bytes, no terminator: a parser that reads one byte past
 * the datagram trips ASan or valgrind here instead of finding a NUL the
 * test added. */
static bool blob_read(const char *path, struct blob *b)
{
    b->p = NULL;
    b->len = 0;
    FILE *f = fopen(path, "rb");
    if (!f)
        return false;
    bool ok = fseek(f, 0, SEEK_END) == 0;
    long n = ok ? ftell(f) : -1;
    ok = n >= 0 && fseek(f, 0, SEEK_SET) == 0;
    if (ok) {
        b->p = malloc(n ? (size_t)n : 1);
        ok = b->p && fread(b->p, 1, (size_t)n, f) == (size_t)n;
        b->len = (size_t)n;
    }
    fclose(f);
    if (!ok) {
        free(b->p);
        b->p = NULL;
    }
    return ok;
}

static void blob_free(struct blob *b)
{
    free(b->p);
    b->p = NULL;
    b->len = 0;
}

enum expect { EXP_VALID, EXP_INVALID, EXP_REJECT, EXP__COUNT };
static const char *const g_expect_name[EXP__COUNT] = {"valid", "invalid-parse",
                                                      "valid-but-reject"};

struct row {
    char file[96];
    char section[16];
    enum expect expect;
};

struct manifest {
    const char *suite;
    char dir[512];
    struct row rows[64];
    size_t n;
    size_t count[EXP__COUNT];
};

/* The number of rows each archive holds (RFC 4475 Appendix A: 50 files;
 * RFC 5118 Appendix A: 12 files, plus their 12 wire copies). */
#define RFC4475_ROWS 50
#define RFC5118_ROWS 24

static void manifest_load(const char *suite, struct manifest *m)
{
    memset(m, 0, sizeof *m);
    m->suite = suite;
    snprintf(m->dir, sizeof m->dir, "%s/conformance/%s", shared_dir(), suite);
    char path[600];
    snprintf(path, sizeof path, "%s/MANIFEST.tsv", m->dir);
    struct blob b;
    cr_assert(blob_read(path, &b), "cannot read %s (set SIPSESS_SHARED?)", path);

    const char *p = b.p, *end = b.p + b.len;
    bool header = true;
    while (p < end) {
        const char *eol = memchr(p, '\n', (size_t)(end - p));
        if (!eol)
            eol = end;
        const char *f[4];
        size_t fl[4], nf = 0;
        const char *s = p;
        for (const char *q = p; q <= eol && nf < 4; q++) {
            if (q == eol || *q == '\t') {
                f[nf] = s;
                fl[nf] = (size_t)(q - s);
                nf++;
                s = q + 1;
            }
        }
        if (eol > p) {
            cr_assert(nf == 4, "%s: a row without 4 tab-separated columns", path);
            if (header) {
                /* The columns are read by position; a reordered manifest
                 * must fail here rather than be misread. */
                cr_assert(fl[0] == 4 && !memcmp(f[0], "file", 4) && fl[2] == 6 &&
                              !memcmp(f[2], "expect", 6),
                          "%s: unexpected header row", path);
                header = false;
            } else {
                cr_assert(m->n < sizeof m->rows / sizeof m->rows[0], "%s: too many rows", path);
                struct row *r = &m->rows[m->n++];
                cr_assert(fl[0] < sizeof r->file && fl[1] < sizeof r->section);
                memcpy(r->file, f[0], fl[0]);
                memcpy(r->section, f[1], fl[1]);
                int e = -1;
                for (int i = 0; i < EXP__COUNT; i++)
                    if (strlen(g_expect_name[i]) == fl[2] && !memcmp(f[2], g_expect_name[i], fl[2]))
                        e = i;
                cr_assert(e >= 0, "%s: %s has an unknown expect value", path, r->file);
                r->expect = (enum expect)e;
                m->count[e]++;
            }
        }
        p = eol + 1;
    }
    blob_free(&b);
}

static void row_read(const struct manifest *m, const struct row *r, struct blob *b)
{
    char path[700];
    snprintf(path, sizeof path, "%s/%s", m->dir, r->file);
    cr_assert(blob_read(path, b), "%s: listed in the manifest but not readable", path);
}

/* ================================================================== */
/* View helpers                                                        */

static bool s_is(sipsess_str s, const char *lit)
{
    size_t n = strlen(lit);
    return s.p && s.len == n && memcmp(s.p, lit, n) == 0;
}

static bool s_isn(sipsess_str s, const void *bytes, size_t n)
{
    return s.p && s.len == n && memcmp(s.p, bytes, n) == 0;
}

/* Same bytes, and absent stays absent: an empty Subject must not turn
 * into a missing one, nor a flag parameter into one with a value. */
static bool s_same(sipsess_str a, sipsess_str b)
{
    if ((a.p == NULL) != (b.p == NULL))
        return false;
    return a.len == b.len && (a.len == 0 || memcmp(a.p, b.p, a.len) == 0);
}

/* A whitespace run holding a line break (a fold, RFC 3261 §7.3.1) is
 * one SP: that is all a printer may change in a value. */
static char *unfold(sipsess_str v, size_t *out_len)
{
    char *o = malloc(v.len + 1);
    size_t n = 0;
    for (size_t i = 0; i < v.len;) {
        char c = v.p[i];
        if (c == ' ' || c == '\t' || c == '\r' || c == '\n') {
            size_t j = i;
            bool brk = false;
            while (j < v.len && (v.p[j] == ' ' || v.p[j] == '\t' || v.p[j] == '\r' || v.p[j] == '\n')) {
                brk |= v.p[j] == '\r' || v.p[j] == '\n';
                j++;
            }
            if (brk) {
                o[n++] = ' ';
            } else {
                memcpy(o + n, v.p + i, j - i);
                n += j - i;
            }
            i = j;
        } else {
            o[n++] = c;
            i++;
        }
    }
    *out_len = n;
    return o;
}

static bool s_same_unfolded(sipsess_str a, sipsess_str b)
{
    if ((a.p == NULL) != (b.p == NULL))
        return false;
    if (!a.p)
        return true;
    size_t na, nb;
    char *ua = unfold(a, &na), *ub = unfold(b, &nb);
    bool eq = na == nb && memcmp(ua, ub, na) == 0;
    free(ua);
    free(ub);
    return eq;
}

/* Decode %HH once with the library's own helper. */
static bool unescaped_is(sipsess_str s, const void *want, size_t want_len)
{
    char buf[256];
    size_t n = 0;
    if (sipsess_unescape(s, buf, sizeof buf, &n) != SIPSESS_OK)
        return false;
    return n == want_len && memcmp(buf, want, n) == 0;
}

static const sipsess_hdr *H(const sipsess_msg *m, sipsess_hdr_id id, size_t nth)
{
    return sipsess_msg_hdr(m, id, nth);
}

static size_t offset_of(const struct blob *b, const char *needle)
{
    size_t n = strlen(needle);
    for (size_t i = 0; i + n <= b->len; i++)
        if (memcmp(b->p + i, needle, n) == 0)
            return i;
    return (size_t)-1;
}

/* ================================================================== */
/* Comparing two parses                                                */

#define CMP_S(ctx, what, x, y, exact)                                                      \
    do {                                                                                   \
        sipsess_str x_ = (x), y_ = (y);                                                    \
        CHECK((exact) ? s_same(x_, y_) : s_same_unfolded(x_, y_),                          \
              "%s: %s differs: '%.*s' vs '%.*s'", ctx, what, PS(x_), PS(y_));              \
    } while (0)

#define CMP_N(ctx, what, x, y)                                                             \
    do {                                                                                   \
        long long x_ = (long long)(x), y_ = (long long)(y);                                \
        CHECK(x_ == y_, "%s: %s differs: %lld vs %lld", ctx, what, x_, y_);                \
    } while (0)

static void cmp_uri(const char *ctx, const sipsess_uri *a, const sipsess_uri *b)
{
    CHECK((a == NULL) == (b == NULL), "%s: URI present on one side only", ctx);
    if (!a || !b)
        return;
    CMP_N(ctx, "uri scheme", sipsess_uri_scheme_id(a), sipsess_uri_scheme_id(b));
    CMP_S(ctx, "uri scheme name", sipsess_uri_scheme_name(a), sipsess_uri_scheme_name(b), true);
    CMP_S(ctx, "uri text", sipsess_uri_text(a), sipsess_uri_text(b), true);
    CMP_S(ctx, "uri user", sipsess_uri_user(a), sipsess_uri_user(b), true);
    CMP_S(ctx, "uri password", sipsess_uri_password(a), sipsess_uri_password(b), true);
    CMP_S(ctx, "uri host", sipsess_uri_host(a), sipsess_uri_host(b), true);
    CMP_N(ctx, "uri host type", sipsess_uri_host_type(a), sipsess_uri_host_type(b));
    CMP_N(ctx, "uri port", sipsess_uri_port(a), sipsess_uri_port(b));
    CMP_S(ctx, "uri params", sipsess_uri_params(a), sipsess_uri_params(b), true);
    CMP_S(ctx, "uri headers", sipsess_uri_headers(a), sipsess_uri_headers(b), true);
    CMP_S(ctx, "uri opaque", sipsess_uri_opaque(a), sipsess_uri_opaque(b), true);
    sipsess_uri_scheme sc = sipsess_uri_scheme_id(a);
    if (sc == SIPSESS_URI_SIP || sc == SIPSESS_URI_SIPS)
        CHECK(sipsess_uri_equal(a, b) == 1, "%s: URIs not equal per §19.1.4", ctx);
}

/* Parameter names looked up on every header of a compared pair: the ones
 * RFC 3261 and its extensions define, and those the torture messages
 * invent. */
static const char *const g_param_names[] = {
    "tag", "branch", "received", "rport", "maddr", "ttl", "expires", "q", "lr",
    "transport", "user", "method", "boundary", "charset", "handling", "purpose",
    "refresher", "duration", "text", "cause", "reason", "retry-after", "id",
    "from-tag", "to-tag", "early-only", "unknownparam", "newparam", "secondparam",
    "fromParam''~+*_!.-%", "unknown-no-value", "unknownwith", NULL,
};

static const char *const g_auth_names[] = {
    "realm", "nonce", "uri", "response", "username", "qop", "nc", "cnonce",
    "algorithm", "opaque", "stale", "domain", "opaque-data", NULL,
};

static void cmp_hdr(const char *ctx, const sipsess_hdr *a, const sipsess_hdr *b, bool exact)
{
    sipsess_hdr_id id = sipsess_hdr_get_id(a);
    CMP_N(ctx, "header id", id, sipsess_hdr_get_id(b));
    if (exact || id == SIPSESS_HDR_OTHER)
        CMP_S(ctx, "header name", sipsess_hdr_name(a), sipsess_hdr_name(b), true);
    CMP_S(ctx, "header value", sipsess_hdr_value(a), sipsess_hdr_value(b), exact);
    CMP_N(ctx, "header is_bad", sipsess_hdr_is_bad(a), sipsess_hdr_is_bad(b));
    CMP_N(ctx, "number", sipsess_hdr_number(a), sipsess_hdr_number(b));
    CMP_S(ctx, "token", sipsess_hdr_token(a), sipsess_hdr_token(b), exact);

    for (size_t i = 0; g_param_names[i]; i++) {
        sipsess_str va = {NULL, 0}, vb = {NULL, 0};
        int fa = sipsess_hdr_param(a, g_param_names[i], &va);
        int fb = sipsess_hdr_param(b, g_param_names[i], &vb);
        CHECK(fa == fb, "%s: param %s present on one side only", ctx, g_param_names[i]);
        if (fa && fb)
            CMP_S(ctx, g_param_names[i], va, vb, exact);
    }

    /* Via */
    CMP_S(ctx, "via protocol", sipsess_via_protocol(a), sipsess_via_protocol(b), exact);
    CMP_S(ctx, "via transport", sipsess_via_transport(a), sipsess_via_transport(b), true);
    CMP_S(ctx, "via host", sipsess_via_host(a), sipsess_via_host(b), true);
    CMP_N(ctx, "via host type", sipsess_via_host_type(a), sipsess_via_host_type(b));
    CMP_N(ctx, "via port", sipsess_via_port(a), sipsess_via_port(b));
    CMP_S(ctx, "via branch", sipsess_via_branch(a), sipsess_via_branch(b), true);
    CMP_S(ctx, "via received", sipsess_via_received(a), sipsess_via_received(b), true);
    CMP_N(ctx, "via rport", sipsess_via_rport(a), sipsess_via_rport(b));
    CMP_S(ctx, "via maddr", sipsess_via_maddr(a), sipsess_via_maddr(b), true);
    CMP_N(ctx, "via ttl", sipsess_via_ttl(a), sipsess_via_ttl(b));

    /* name-addr */
    CMP_S(ctx, "display name", sipsess_nameaddr_display(a), sipsess_nameaddr_display(b), exact);
    cmp_uri(ctx, sipsess_nameaddr_uri(a), sipsess_nameaddr_uri(b));
    CMP_S(ctx, "tag", sipsess_nameaddr_tag(a), sipsess_nameaddr_tag(b), true);
    CMP_N(ctx, "contact star", sipsess_contact_is_star(a), sipsess_contact_is_star(b));
    CMP_N(ctx, "contact expires", sipsess_contact_expires(a), sipsess_contact_expires(b));
    CMP_N(ctx, "contact q", sipsess_contact_q(a), sipsess_contact_q(b));

    /* CSeq, RAck */
    CMP_N(ctx, "cseq number", sipsess_cseq_number(a), sipsess_cseq_number(b));
    CMP_N(ctx, "cseq method", sipsess_cseq_method(a), sipsess_cseq_method(b));
    CMP_S(ctx, "cseq method name", sipsess_cseq_method_name(a), sipsess_cseq_method_name(b), true);
    CMP_N(ctx, "rack rseq", sipsess_rack_rseq(a), sipsess_rack_rseq(b));
    CMP_N(ctx, "rack cseq", sipsess_rack_cseq(a), sipsess_rack_cseq(b));
    CMP_N(ctx, "rack method", sipsess_rack_method(a), sipsess_rack_method(b));

    /* media types */
    CMP_S(ctx, "media type", sipsess_mtype_type(a), sipsess_mtype_type(b), true);
    CMP_S(ctx, "media subtype", sipsess_mtype_subtype(a), sipsess_mtype_subtype(b), true);

    /* auth */
    CMP_S(ctx, "auth scheme", sipsess_auth_scheme(a), sipsess_auth_scheme(b), true);
    for (size_t i = 0; g_auth_names[i]; i++) {
        sipsess_str va = {NULL, 0}, vb = {NULL, 0};
        int fa = sipsess_auth_param(a, g_auth_names[i], &va);
        int fb = sipsess_auth_param(b, g_auth_names[i], &vb);
        CHECK(fa == fb, "%s: auth param %s present on one side only", ctx, g_auth_names[i]);
        if (fa && fb)
            CMP_S(ctx, g_auth_names[i], va, vb, exact);
    }

    /* the rest */
    CMP_S(ctx, "retry-after comment", sipsess_retry_after_comment(a),
          sipsess_retry_after_comment(b), exact);
    CMP_S(ctx, "timestamp", sipsess_timestamp_value(a), sipsess_timestamp_value(b), true);
    CMP_S(ctx, "timestamp delay", sipsess_timestamp_delay(a), sipsess_timestamp_delay(b), true);
}

/*
 * `exact`: b was parsed from the very bytes of a (the framer): every view
 * must be byte-identical. Otherwise b was parsed from a's printed form:
 * names may be canonical, folds are one SP, and the printer writes one
 * Content-Length for the body it has in place of those a had.
 */
static void cmp_msg(const char *ctx, const sipsess_msg *a, const sipsess_msg *b, bool exact)
{
    CMP_N(ctx, "is_request", sipsess_msg_is_request(a), sipsess_msg_is_request(b));
    CMP_N(ctx, "method", sipsess_msg_method(a), sipsess_msg_method(b));
    CMP_S(ctx, "method name", sipsess_msg_method_name(a), sipsess_msg_method_name(b), true);
    cmp_uri(ctx, sipsess_msg_ruri(a), sipsess_msg_ruri(b));
    CMP_N(ctx, "status", sipsess_msg_status(a), sipsess_msg_status(b));
    CMP_S(ctx, "reason", sipsess_msg_reason(a), sipsess_msg_reason(b), true);
    sipsess_str ba = sipsess_msg_body(a), bb = sipsess_msg_body(b);
    CHECK(ba.len == bb.len && (ba.len == 0 || memcmp(ba.p, bb.p, ba.len) == 0),
          "%s: body differs (%zu vs %zu bytes)", ctx, ba.len, bb.len);
    /* A printed form carries a corrected Content-Length, so only the
     * same bytes must give the same recorded error. */
    if (exact)
        CMP_N(ctx, "lenient error", sipsess_msg_error(a, NULL), sipsess_msg_error(b, NULL));

    size_t na = sipsess_msg_hdr_count(a), nb = sipsess_msg_hdr_count(b);
    if (exact) {
        CMP_N(ctx, "header count", na, nb);
        sipsess_str ra = sipsess_msg_raw(a), rb = sipsess_msg_raw(b);
        CHECK(s_same(ra, rb), "%s: raw bytes differ", ctx);
    } else {
        size_t ncl = sipsess_msg_hdr_num(a, SIPSESS_HDR_CONTENT_LENGTH);
        CHECK(nb == na - ncl + 1, "%s: header count %zu, printed form %zu (%zu Content-Length)",
              ctx, na, nb, ncl);
        const sipsess_hdr *cl = H(b, SIPSESS_HDR_CONTENT_LENGTH, 0);
        CHECK(cl && sipsess_hdr_number(cl) == (int64_t)bb.len &&
                  sipsess_msg_hdr_num(b, SIPSESS_HDR_CONTENT_LENGTH) == 1,
              "%s: printed Content-Length is not the body length", ctx);
    }
    size_t i = 0, j = 0;
    char hctx[200];
    while (i < na && j < nb) {
        const sipsess_hdr *ha = sipsess_msg_hdr_at(a, i), *hb = sipsess_msg_hdr_at(b, j);
        if (!exact && sipsess_hdr_get_id(ha) == SIPSESS_HDR_CONTENT_LENGTH) {
            i++;
            continue;
        }
        if (!exact && sipsess_hdr_get_id(hb) == SIPSESS_HDR_CONTENT_LENGTH) {
            j++;
            continue;
        }
        sipsess_str nm = sipsess_hdr_name(ha);
        snprintf(hctx, sizeof hctx, "%s header #%zu (%.*s)", ctx, i, PS(nm));
        cmp_hdr(hctx, ha, hb, exact);
        i++;
        j++;
    }
    for (int id = 1; id < SIPSESS_HDR__COUNT; id++) {
        if (!exact && id == SIPSESS_HDR_CONTENT_LENGTH)
            continue;
        CHECK(sipsess_msg_hdr_num(a, (sipsess_hdr_id)id) == sipsess_msg_hdr_num(b, (sipsess_hdr_id)id),
              "%s: number of %s values differs", ctx, sipsess_hdr_id_str((sipsess_hdr_id)id));
    }
}

/* Print, parse the print, and check the normal form is a fixed point
 * (printing the re-parse gives the same bytes). NULL when any step failed. */
static sipsess_msg *roundtrip(const char *ctx, const sipsess_msg *m)
{
    size_t need = 0, got = 0;
    int e = sipsess_msg_print(m, NULL, 0, &need);
    CHECK(e == SIPSESS_ENOSPC && need > 0, "%s: sizing print returned %s", ctx, sipsess_errname(e));
    char *buf = malloc(need);
    e = sipsess_msg_print(m, buf, need, &got);
    CHECK(e == SIPSESS_OK && got == need, "%s: print returned %s (%zu of %zu)", ctx,
          sipsess_errname(e), got, need);
    sipsess_msg *r = NULL;
    size_t off = 0;
    e = sipsess_msg_parse(buf, need, NULL, &r, &off);
    CHECK(e == SIPSESS_OK, "%s: printed form does not parse: %s at %zu", ctx, sipsess_errname(e), off);
    if (r) {
        size_t need2 = 0;
        sipsess_msg_print(r, NULL, 0, &need2);
        char *buf2 = malloc(need2 ? need2 : 1);
        e = sipsess_msg_print(r, buf2, need2, &got);
        CHECK(e == SIPSESS_OK && need2 == need && memcmp(buf, buf2, need) == 0,
              "%s: printing the re-parse gives other bytes", ctx);
        free(buf2);
    }
    free(buf);
    return r;
}

/* ================================================================== */
/* What the RFCs call out, message by message                          */

/* Applied to the parse of the file and to the parse of its printed form:
 * each call-out must survive the round trip. */
typedef void (*callout_fn)(const char *ctx, const sipsess_msg *m, const struct blob *file);

static void co_wsinv(const char *ctx, const sipsess_msg *m, const struct blob *file)
{
    (void)file;
    CHECK(sipsess_msg_method(m) == SIPSESS_METHOD_INVITE, "%s: method", ctx);
    const sipsess_uri *ru = sipsess_msg_ruri(m);
    CHECK(s_is(sipsess_uri_text(ru), "sip:vivekg@chair-dnrc.example.com;unknownparam"), "%s: ruri", ctx);
    sipsess_str v = {NULL, 0};
    CHECK(sipsess_uri_param(ru, "unknownparam", &v) == 1 && v.p == NULL,
          "%s: unknown Request-URI flag parameter", ctx);

    const sipsess_hdr *to = H(m, SIPSESS_HDR_TO, 0), *from = H(m, SIPSESS_HDR_FROM, 0);
    CHECK(s_is(sipsess_uri_text(sipsess_nameaddr_uri(to)), "sip:vivekg@chair-dnrc.example.com"),
          "%s: To URI", ctx);
    CHECK(s_is(sipsess_nameaddr_tag(to), "1918181833n"), "%s: To tag around LWS '='", ctx);
    /* Escaped quote and backslash stay as quoted-pairs. */
    CHECK(s_is(sipsess_nameaddr_display(from), "J Rosenberg \\\\\\\""), "%s: From display '%.*s'",
          ctx, PS(sipsess_nameaddr_display(from)));
    CHECK(s_is(sipsess_nameaddr_tag(from), "98asjd8"), "%s: folded From tag", ctx);
    CHECK(sipsess_hdr_number(H(m, SIPSESS_HDR_MAX_FORWARDS, 0)) == 68, "%s: Max-Forwards 0068", ctx);
    const sipsess_hdr *cs = H(m, SIPSESS_HDR_CSEQ, 0);
    CHECK(sipsess_cseq_number(cs) == 9 && sipsess_cseq_method(cs) == SIPSESS_METHOD_INVITE,
          "%s: folded CSeq 0009 INVITE", ctx);

    CHECK(sipsess_msg_hdr_num(m, SIPSESS_HDR_VIA) == 3, "%s: 3 Via values", ctx);
    static const char *const vh[] = {"192.0.2.2", "spindle.example.com", "192.168.255.111"};
    static const char *const vt[] = {"UDP", "TCP", "UDP"};
    static const char *const vb[] = {"390skdjuw", "z9hG4bK9ikj8", "z9hG4bK30239"};
    for (size_t i = 0; i < 3; i++) {
        const sipsess_hdr *via = H(m, SIPSESS_HDR_VIA, i);
        CHECK(s_is(sipsess_via_host(via), vh[i]) && s_is(sipsess_via_transport(via), vt[i]) &&
                  s_is(sipsess_via_branch(via), vb[i]),
              "%s: Via %zu host/transport/branch", ctx, i);
    }
    const sipsess_hdr *subj = H(m, SIPSESS_HDR_SUBJECT, 0);
    CHECK(subj && sipsess_hdr_value(subj).p && sipsess_hdr_value(subj).len == 0,
          "%s: empty Subject (s :) kept as present and empty", ctx);

    const sipsess_hdr *nf = sipsess_msg_hdr_by_name(m, "NewFangledHeader", 0);
    CHECK(nf && s_same_unfolded(sipsess_hdr_value(nf),
                                (sipsess_str){"newfangled value continued newfangled value", 43}),
          "%s: folded unknown header", ctx);
    /* RFC 4475 §3.1.1.1: an unknown header's value is opaque, commas and
     * all, and must pass through as written. */
    const sipsess_hdr *uh = sipsess_msg_hdr_by_name(m, "UnknownHeaderWithUnusualValue", 0);
    CHECK(uh && s_is(sipsess_hdr_value(uh), ";;,,;;,;"), "%s: unknown value ';;,,;;,;' verbatim", ctx);
    CHECK(uh && sipsess_hdr_next(m, uh) == NULL, "%s: the unknown value is one value", ctx);

    const sipsess_hdr *rt = H(m, SIPSESS_HDR_ROUTE, 0);
    CHECK(s_is(sipsess_uri_text(sipsess_nameaddr_uri(rt)),
               "sip:services.example.com;lr;unknownwith=value;unknown-no-value"),
          "%s: Route URI with unknown params", ctx);
    const sipsess_hdr *ct = H(m, SIPSESS_HDR_CONTACT, 0);
    CHECK(s_is(sipsess_nameaddr_display(ct), "Quoted string \\\"\\\""), "%s: Contact display", ctx);
    CHECK(sipsess_contact_q(ct) == 330, "%s: Contact q = 0.33 -> 330, got %d", ctx, sipsess_contact_q(ct));
    CHECK(sipsess_hdr_param(ct, "newparam", &v) && s_is(v, "newvalue"), "%s: folded newparam", ctx);
    CHECK(sipsess_hdr_param(ct, "secondparam", &v) && v.p == NULL, "%s: flag secondparam", ctx);
    CHECK(sipsess_msg_body(m).len == 150, "%s: 150-byte body", ctx);
}

static void co_intmeth(const char *ctx, const sipsess_msg *m, const struct blob *file)
{
    (void)file;
    static const char meth[] = "!interesting-Method0123456789_*+`.%indeed'~";
    CHECK(sipsess_msg_method(m) == SIPSESS_METHOD_OTHER && s_is(sipsess_msg_method_name(m), meth),
          "%s: extension method name", ctx);
    const sipsess_hdr *cs = H(m, SIPSESS_HDR_CSEQ, 0);
    CHECK(sipsess_cseq_number(cs) == 139122385 && s_is(sipsess_cseq_method_name(cs), meth),
          "%s: CSeq with the extension method", ctx);
    const sipsess_uri *ru = sipsess_msg_ruri(m);
    CHECK(s_is(sipsess_uri_user(ru), "1_unusual.URI~(to-be!sure)&isn't+it$/crazy?,/;;*"),
          "%s: ruri user '%.*s'", ctx, PS(sipsess_uri_user(ru)));
    CHECK(s_is(sipsess_uri_password(ru), "&it+has=1,weird!*pas$wo~d_too.(doesn't-it)"),
          "%s: ruri password '%.*s'", ctx, PS(sipsess_uri_password(ru)));
    CHECK(s_is(sipsess_uri_host(ru), "example.com"), "%s: ruri host", ctx);
    static const char disp[] = "BEL:\\\x07 NUL:\\\x00 DEL:\\\x7f";
    CHECK(s_isn(sipsess_nameaddr_display(H(m, SIPSESS_HDR_TO, 0)), disp, sizeof disp - 1),
          "%s: To display with escaped BEL/NUL/DEL", ctx);
    const sipsess_hdr *from = H(m, SIPSESS_HDR_FROM, 0);
    CHECK(s_is(sipsess_nameaddr_display(from), "token1~` token2'+_ token3*%!.-"),
          "%s: token display name", ctx);
    CHECK(s_is(sipsess_nameaddr_tag(from), "_token~1'+`*%!-."), "%s: From tag", ctx);
    sipsess_str v;
    CHECK(sipsess_hdr_param(from, "fromParam''~+*_!.-%", &v) &&
              s_is(v, "\xd1\x80\xd0\xb0\xd0\xb1\xd0\xbe\xd1\x82\xd0\xb0\xd1\x8e\xd1\x89\xd0\xb8\xd0\xb9"),
          "%s: UTF-8 quoted From param", ctx);
    CHECK(s_is(sipsess_hdr_value(H(m, SIPSESS_HDR_CALL_ID, 0)),
               "intmeth.word%ZK-!.*_+'@word`~)(><:\\/\"][?}{"),
          "%s: Call-ID of word characters", ctx);
    CHECK(sipsess_hdr_number(H(m, SIPSESS_HDR_MAX_FORWARDS, 0)) == 255, "%s: Max-Forwards 255", ctx);
    const sipsess_hdr *ext = sipsess_msg_hdr_by_name(m, "extensionHeader-!.%*+_`'~", 0);
    CHECK(ext && sipsess_hdr_get_id(ext) == SIPSESS_HDR_OTHER &&
              s_is(sipsess_hdr_value(ext), "\xef\xbb\xbf\xe5\xa4\xa7\xe5\x81\x9c\xe9\x9b\xbb"),
          "%s: extension header with UTF-8 value", ctx);
}

static void co_esc01(const char *ctx, const sipsess_msg *m, const struct blob *file)
{
    (void)file;
    const sipsess_uri *ru = sipsess_msg_ruri(m);
    /* Escapes stay as written in every view; decoding is the caller's
     * explicit step. */
    CHECK(s_is(sipsess_uri_user(ru), "sips%3Auser%40example.com"), "%s: escaped ruri user", ctx);
    CHECK(unescaped_is(sipsess_uri_user(ru), "sips:user@example.com", 21), "%s: ruri user decoded", ctx);
    CHECK(s_is(sipsess_uri_host(ru), "example.net"), "%s: ruri host", ctx);
    const sipsess_uri *to = sipsess_nameaddr_uri(H(m, SIPSESS_HDR_TO, 0));
    CHECK(s_is(sipsess_uri_user(to), "%75se%72") && unescaped_is(sipsess_uri_user(to), "user", 4),
          "%s: To user %%75se%%72", ctx);
    const sipsess_uri *from = sipsess_nameaddr_uri(H(m, SIPSESS_HDR_FROM, 0));
    CHECK(unescaped_is(sipsess_uri_user(from), "I have spaces", 13), "%s: From user", ctx);
    const sipsess_uri *ct = sipsess_nameaddr_uri(H(m, SIPSESS_HDR_CONTACT, 0));
    CHECK(s_is(sipsess_uri_user(ct), "cal%6Cer"), "%s: Contact user", ctx);
    CHECK(s_is(sipsess_uri_params(ct), "%6C%72;n%61me=v%61lue%25%34%31"), "%s: Contact URI params", ctx);
    sipsess_str v = {NULL, 0};
    CHECK(sipsess_uri_param(ct, "n%61me", &v) == 1 && s_is(v, "v%61lue%25%34%31"),
          "%s: escaped param found by its written name", ctx);
    /* One decoding pass: %25%34%31 is "%41", never "A". */
    CHECK(unescaped_is(v, "value%41", 8), "%s: v%%61lue%%25%%34%%31 decodes once to value%%41", ctx);
    CHECK(sipsess_uri_param(ct, "%6C%72", NULL) == 1, "%s: escaped flag param", ctx);
}

static void co_escnull(const char *ctx, const sipsess_msg *m, const struct blob *file)
{
    (void)file;
    const sipsess_uri *to = sipsess_nameaddr_uri(H(m, SIPSESS_HDR_TO, 0));
    CHECK(s_is(sipsess_uri_user(to), "null-%00-null"), "%s: To user as written", ctx);
    CHECK(unescaped_is(sipsess_uri_user(to), "null-\0-null", 11), "%s: decoding keeps the NUL", ctx);
    const sipsess_uri *from = sipsess_nameaddr_uri(H(m, SIPSESS_HDR_FROM, 0));
    CHECK(unescaped_is(sipsess_uri_user(from), "null-\0-null", 11), "%s: From user", ctx);
    CHECK(sipsess_msg_hdr_num(m, SIPSESS_HDR_CONTACT) == 2, "%s: two Contact values", ctx);
    const sipsess_uri *c0 = sipsess_nameaddr_uri(H(m, SIPSESS_HDR_CONTACT, 0));
    const sipsess_uri *c1 = sipsess_nameaddr_uri(H(m, SIPSESS_HDR_CONTACT, 1));
    CHECK(unescaped_is(sipsess_uri_user(c0), "\0", 1) && unescaped_is(sipsess_uri_user(c1), "\0\0", 2),
          "%s: users %%00 and %%00%%00", ctx);
    CHECK(sipsess_uri_equal(c0, c1) == 0, "%s: the two bindings are distinct", ctx);
}

static void co_esc02(const char *ctx, const sipsess_msg *m, const struct blob *file)
{
    (void)file;
    CHECK(sipsess_msg_method(m) == SIPSESS_METHOD_OTHER && s_is(sipsess_msg_method_name(m), "RE%47IST%45R"),
          "%s: RE%%47IST%%45R is an unknown method, not REGISTER", ctx);
    CHECK(s_is(sipsess_nameaddr_display(H(m, SIPSESS_HDR_TO, 0)), "%Z%45"), "%s: literal display", ctx);
    CHECK(sipsess_msg_hdr_num(m, SIPSESS_HDR_CONTACT) == 2, "%s: two Contact values, not three", ctx);
    const sipsess_hdr *odd = sipsess_msg_hdr_by_name(m, "C%6Fntact", 0);
    CHECK(odd && sipsess_hdr_get_id(odd) == SIPSESS_HDR_OTHER &&
              s_is(sipsess_hdr_value(odd), "<sip:alias2@host2.example.com>"),
          "%s: C%%6Fntact is an unknown header", ctx);
    CHECK(s_is(sipsess_uri_host(sipsess_nameaddr_uri(H(m, SIPSESS_HDR_CONTACT, 1))), "host3.example.com"),
          "%s: second Contact is alias3", ctx);
    CHECK(s_is(sipsess_via_branch(H(m, SIPSESS_HDR_VIA, 0)), "z9hG4bK209%fzsnel234"),
          "%s: branch with a literal %%", ctx);
}

static void co_lwsdisp(const char *ctx, const sipsess_msg *m, const struct blob *file)
{
    (void)file;
    const sipsess_hdr *from = H(m, SIPSESS_HDR_FROM, 0);
    CHECK(s_is(sipsess_nameaddr_display(from), "caller"), "%s: display touching '<'", ctx);
    CHECK(s_is(sipsess_uri_text(sipsess_nameaddr_uri(from)), "sip:caller@example.com") &&
              s_is(sipsess_nameaddr_tag(from), "323"),
          "%s: From URI and tag", ctx);
}

static void co_longreq(const char *ctx, const sipsess_msg *m, const struct blob *file)
{
    (void)file;
    CHECK(sipsess_msg_hdr_num(m, SIPSESS_HDR_VIA) == 34, "%s: 34 Via values, got %zu", ctx,
          sipsess_msg_hdr_num(m, SIPSESS_HDR_VIA));
    char host[32];
    for (size_t i = 0; i < 33; i++) {
        snprintf(host, sizeof host, "sip%zu.example.com", 33 - i);
        CHECK(s_is(sipsess_via_host(H(m, SIPSESS_HDR_VIA, i)), host), "%s: Via %zu is %s", ctx, i, host);
    }
    const sipsess_hdr *last = H(m, SIPSESS_HDR_VIA, 33);
    CHECK(s_is(sipsess_via_host(last), "host.example.com") &&
              s_is(sipsess_via_received(last), "192.0.2.5") && sipsess_via_branch(last).len > 200,
          "%s: last Via with its very long branch (%zu)", ctx, sipsess_via_branch(last).len);
    const sipsess_hdr *to = H(m, SIPSESS_HDR_TO, 0);
    CHECK(sipsess_nameaddr_display(to).len == 103 && sipsess_uri_port(sipsess_nameaddr_uri(to)) == 6000,
          "%s: long To display (%zu) and port", ctx, sipsess_nameaddr_display(to).len);
    CHECK(sipsess_nameaddr_tag(H(m, SIPSESS_HDR_FROM, 0)).len > 100, "%s: long From tag", ctx);
    CHECK(sipsess_hdr_value(H(m, SIPSESS_HDR_CALL_ID, 0)).len > 100, "%s: long Call-ID", ctx);
    const sipsess_hdr *u = sipsess_msg_hdr_by_name(
        m, "Unknown-LongLongLongLongLongLongLongLongLongLongLongLongLongLongLongLongLongLongLongLong-Name", 0);
    CHECK(u && sipsess_hdr_value(u).len > 200, "%s: long unknown header found by name", ctx);
    CHECK(sipsess_uri_user(sipsess_nameaddr_uri(H(m, SIPSESS_HDR_CONTACT, 0))).len == 115,
          "%s: long Contact user", ctx);
}

static void co_dblreq(const char *ctx, const sipsess_msg *m, const struct blob *file)
{
    (void)file;
    CHECK(sipsess_msg_method(m) == SIPSESS_METHOD_REGISTER, "%s: the REGISTER only", ctx);
    CHECK(sipsess_msg_body(m).len == 0, "%s: Content-Length 0, no body", ctx);
    CHECK(sipsess_msg_hdr_count(m) == 8, "%s: the REGISTER's 8 headers, got %zu", ctx,
          sipsess_msg_hdr_count(m));
    CHECK(s_is(sipsess_hdr_value(H(m, SIPSESS_HDR_CALL_ID, 0)), "dblreq.0ha0isndaksdj99sdfafnl3lk233412"),
          "%s: the REGISTER's Call-ID", ctx);
    sipsess_str raw = sipsess_msg_raw(m);
    CHECK(raw.len >= 4 && memcmp(raw.p + raw.len - 4, "\r\n\r\n", 4) == 0 &&
              memmem(raw.p, raw.len, "INVITE", 6) == NULL,
          "%s: the trailing INVITE bytes are not part of the message", ctx);
}

static void co_semiuri(const char *ctx, const sipsess_msg *m, const struct blob *file)
{
    (void)file;
    const sipsess_uri *ru = sipsess_msg_ruri(m);
    CHECK(s_is(sipsess_uri_user(ru), "user;par=u%40example.net"), "%s: ';' inside userinfo", ctx);
    CHECK(unescaped_is(sipsess_uri_user(ru), "user;par=u@example.net", 22), "%s: decoded user", ctx);
    CHECK(s_is(sipsess_uri_host(ru), "example.com") && sipsess_uri_params(ru).p == NULL &&
              sipsess_uri_param(ru, "par", NULL) == 0,
          "%s: no URI parameter", ctx);
    static const char *const acc[] = {"application/sdp", "application/pkcs7-mime", "multipart/mixed",
                                      "multipart/signed", "message/sip", "message/sipfrag"};
    CHECK(sipsess_msg_hdr_num(m, SIPSESS_HDR_ACCEPT) == 6, "%s: folded Accept has 6 values", ctx);
    for (size_t i = 0; i < 6; i++) {
        const sipsess_hdr *a = H(m, SIPSESS_HDR_ACCEPT, i);
        char t[64];
        snprintf(t, sizeof t, "%.*s/%.*s", PS(sipsess_mtype_type(a)), PS(sipsess_mtype_subtype(a)));
        CHECK(strcmp(t, acc[i]) == 0, "%s: Accept %zu is %s, got %s", ctx, i, acc[i], t);
    }
}

static void co_transports(const char *ctx, const sipsess_msg *m, const struct blob *file)
{
    (void)file;
    static const char *const tr[] = {"UDP", "SCTP", "TLS", "UNKNOWN", "TCP"};
    CHECK(sipsess_msg_hdr_num(m, SIPSESS_HDR_VIA) == 5, "%s: 5 Via values", ctx);
    for (size_t i = 0; i < 5; i++) {
        const sipsess_hdr *v = H(m, SIPSESS_HDR_VIA, i);
        char host[32];
        snprintf(host, sizeof host, "t%zu.example.com", i + 1);
        CHECK(s_is(sipsess_via_transport(v), tr[i]) && s_is(sipsess_via_host(v), host) &&
                  s_is(sipsess_via_protocol(v), "SIP/2.0"),
              "%s: Via %zu transport %s", ctx, i, tr[i]);
    }
}

static void co_mpart01(const char *ctx, const sipsess_msg *m, const struct blob *file)
{
    sipsess_str body = sipsess_msg_body(m);
    CHECK(body.len == 553, "%s: body framed by Content-Length 553, got %zu", ctx, body.len);
    size_t at = offset_of(file, "\r\n\r\n") + 4;
    CHECK(body.len == 553 && at + 553 == file->len && memcmp(body.p, file->p + at, 553) == 0,
          "%s: binary body bytes kept exactly", ctx);
    CHECK(memchr(body.p, '\0', body.len) != NULL, "%s: body holds NUL octets", ctx);
    const sipsess_hdr *ct = H(m, SIPSESS_HDR_CONTENT_TYPE, 0);
    sipsess_str v;
    CHECK(s_is(sipsess_mtype_type(ct), "multipart") && s_is(sipsess_mtype_subtype(ct), "mixed") &&
              sipsess_hdr_param(ct, "boundary", &v) && s_is(v, "7a9cbec02ceef655"),
          "%s: multipart/mixed with its boundary", ctx);
    const sipsess_hdr *id = H(m, SIPSESS_HDR_IDENTITY, 0);
    CHECK(id && sipsess_hdr_value(id).len == 172, "%s: long Identity header (%zu)", ctx,
          sipsess_hdr_value(id).len);
    CHECK(sipsess_via_rport(H(m, SIPSESS_HDR_VIA, 0)) == 0 && sipsess_via_port(H(m, SIPSESS_HDR_VIA, 0)) == 5070,
          "%s: Via port and rport flag", ctx);
}

static void co_unreason(const char *ctx, const sipsess_msg *m, const struct blob *file)
{
    size_t eol = offset_of(file, "\r\n");
    sipsess_str want = {file->p + 12, eol - 12};
    CHECK(sipsess_msg_status(m) == 200 && s_same(sipsess_msg_reason(m), want),
          "%s: UTF-8 reason phrase kept", ctx);
    CHECK(memchr(want.p, 0xd0, want.len) && memchr(want.p, '=', want.len) && memchr(want.p, '*', want.len),
          "%s: the phrase has '=', '*' and UTF-8", ctx);
}

static void co_noreason(const char *ctx, const sipsess_msg *m, const struct blob *file)
{
    (void)file;
    sipsess_str r = sipsess_msg_reason(m);
    CHECK(sipsess_msg_status(m) == 100 && r.p != NULL && r.len == 0, "%s: empty reason phrase", ctx);
}

static void co_cparam01(const char *ctx, const sipsess_msg *m, const struct blob *file)
{
    (void)file;
    const sipsess_hdr *c = H(m, SIPSESS_HDR_CONTACT, 0);
    const sipsess_uri *u = sipsess_nameaddr_uri(c);
    /* A bare addr-spec cannot hold parameters: ';unknownparam' belongs to
     * the header (RFC 3261 §20.10), so the binding's URI has none. */
    CHECK(s_is(sipsess_uri_text(u), "sip:+19725552222@gw1.example.net"), "%s: URI '%.*s'", ctx,
          PS(sipsess_uri_text(u)));
    CHECK(sipsess_uri_param(u, "unknownparam", NULL) == 0 && sipsess_uri_params(u).p == NULL,
          "%s: unknownparam is not a URI parameter", ctx);
    sipsess_str v = {"x", 1};
    CHECK(sipsess_hdr_param(c, "unknownparam", &v) == 1 && v.p == NULL,
          "%s: unknownparam is a contact-param", ctx);
}

static void co_cparam02(const char *ctx, const sipsess_msg *m, const struct blob *file)
{
    (void)file;
    const sipsess_hdr *c = H(m, SIPSESS_HDR_CONTACT, 0);
    const sipsess_uri *u = sipsess_nameaddr_uri(c);
    CHECK(s_is(sipsess_uri_text(u), "sip:+19725552222@gw1.example.net;unknownparam"), "%s: URI", ctx);
    CHECK(sipsess_uri_param(u, "unknownparam", NULL) == 1, "%s: unknownparam is a URI parameter", ctx);
    CHECK(sipsess_hdr_param(c, "unknownparam", NULL) == 0, "%s: and not a contact-param", ctx);
}

static void co_regescrt(const char *ctx, const sipsess_msg *m, const struct blob *file)
{
    (void)file;
    const sipsess_hdr *c = H(m, SIPSESS_HDR_CONTACT, 0);
    CHECK(c != NULL, "%s: compact M: is Contact", ctx);
    const sipsess_uri *u = sipsess_nameaddr_uri(c);
    sipsess_str v = {NULL, 0};
    CHECK(s_is(sipsess_uri_headers(u), "Route=%3Csip:sip.example.com%3E") &&
              sipsess_uri_header(u, "Route", &v) == 1 && s_is(v, "%3Csip:sip.example.com%3E"),
          "%s: escaped Route header kept in the URI", ctx);
    CHECK(unescaped_is(v, "<sip:sip.example.com>", 21), "%s: it decodes to <sip:sip.example.com>", ctx);
}

static void co_inv2543(const char *ctx, const sipsess_msg *m, const struct blob *file)
{
    /* Only the file itself lacks Content-Length; the printed form has one. */
    size_t at = offset_of(file, "\r\n\r\n") + 4;
    sipsess_str body = sipsess_msg_body(m);
    CHECK(s_isn(body, file->p + at, file->len - at), "%s: body is the rest of the datagram", ctx);
    const sipsess_hdr *via = H(m, SIPSESS_HDR_VIA, 0);
    CHECK(sipsess_via_branch(via).p == NULL && s_is(sipsess_via_host(via), "iftgw.example.com"),
          "%s: RFC 2543 Via without branch", ctx);
    CHECK(sipsess_nameaddr_tag(H(m, SIPSESS_HDR_FROM, 0)).p == NULL, "%s: From without tag", ctx);
    CHECK(H(m, SIPSESS_HDR_MAX_FORWARDS, 0) == NULL, "%s: no Max-Forwards", ctx);
    /* §20: outside <> the ';user=phone' of a bare addr-spec is a header
     * parameter; inside <> (From) it is the URI's. */
    sipsess_str v;
    const sipsess_hdr *to = H(m, SIPSESS_HDR_TO, 0);
    CHECK(sipsess_uri_param(sipsess_nameaddr_uri(to), "user", NULL) == 0 &&
              sipsess_hdr_param(to, "user", &v) && s_is(v, "phone"),
          "%s: bare To addr-spec: ;user=phone is a header parameter", ctx);
    CHECK(sipsess_uri_param(sipsess_nameaddr_uri(H(m, SIPSESS_HDR_FROM, 0)), "user", &v) && s_is(v, "phone"),
          "%s: bracketed From: ;user=phone is a URI parameter", ctx);
}

/* RFC 5118 messages: the archive (bare LF) and wire (CRLF) copies. */

static void co_ipv6_good(const char *ctx, const sipsess_msg *m, const struct blob *file)
{
    (void)file;
    const sipsess_uri *ru = sipsess_msg_ruri(m);
    CHECK(s_is(sipsess_uri_host(ru), "2001:db8::10") && sipsess_uri_host_type(ru) == SIPSESS_HOST_IPV6 &&
              sipsess_uri_port(ru) == 0,
          "%s: bracketed IPv6 Request-URI", ctx);
    const sipsess_hdr *via = H(m, SIPSESS_HDR_VIA, 0);
    CHECK(s_is(sipsess_via_host(via), "2001:db8::9:1") && sipsess_via_host_type(via) == SIPSESS_HOST_IPV6,
          "%s: IPv6 Via sent-by", ctx);
    const sipsess_uri *c = sipsess_nameaddr_uri(H(m, SIPSESS_HDR_CONTACT, 0));
    CHECK(s_is(sipsess_uri_host(c), "2001:db8::1") && sipsess_uri_host_type(c) == SIPSESS_HOST_IPV6,
          "%s: IPv6 Contact", ctx);
}

static void co_port_ambiguous(const char *ctx, const sipsess_msg *m, const struct blob *file)
{
    (void)file;
    const sipsess_uri *ru = sipsess_msg_ruri(m);
    CHECK(s_is(sipsess_uri_host(ru), "2001:db8::10:5070") && sipsess_uri_port(ru) == 0 &&
              sipsess_uri_host_type(ru) == SIPSESS_HOST_IPV6,
          "%s: ':5070' inside brackets is an address group, not a port (host '%.*s' port %u)", ctx,
          PS(sipsess_uri_host(ru)), sipsess_uri_port(ru));
}

static void co_port_unambiguous(const char *ctx, const sipsess_msg *m, const struct blob *file)
{
    (void)file;
    const sipsess_uri *ru = sipsess_msg_ruri(m);
    CHECK(s_is(sipsess_uri_host(ru), "2001:db8::10") && sipsess_uri_port(ru) == 5070,
          "%s: host 2001:db8::10 port 5070", ctx);
}

static void co_recv_with_delim(const char *ctx, const sipsess_msg *m, const struct blob *file)
{
    (void)file;
    const sipsess_hdr *via = H(m, SIPSESS_HDR_VIA, 0);
    CHECK(!sipsess_hdr_is_bad(via) && s_is(sipsess_via_received(via), "[2001:db8::9:255]") &&
              s_is(sipsess_via_branch(via), "z9hG4bKas3-111"),
          "%s: received=[...] tolerated, params after it read", ctx);
}

static void co_recv_no_delim(const char *ctx, const sipsess_msg *m, const struct blob *file)
{
    (void)file;
    const sipsess_hdr *via = H(m, SIPSESS_HDR_VIA, 0);
    CHECK(s_is(sipsess_via_received(via), "2001:db8::9:255") && s_is(sipsess_via_branch(via), "z9hG4bKas3"),
          "%s: bare IPv6 received", ctx);
}

static void co_ipv6_in_sdp(const char *ctx, const sipsess_msg *m, const struct blob *file)
{
    (void)file;
    sipsess_str b = sipsess_msg_body(m);
    CHECK(memmem(b.p, b.len, "IN IP6 2001:db8::20", 19) != NULL, "%s: SDP with IPv6 kept", ctx);
    CHECK(s_is(sipsess_uri_host(sipsess_msg_ruri(m)), "2001:db8::10"), "%s: ruri host", ctx);
}

static void co_mult_ip_in_header(const char *ctx, const sipsess_msg *m, const struct blob *file)
{
    (void)file;
    const sipsess_hdr *v0 = H(m, SIPSESS_HDR_VIA, 0), *v1 = H(m, SIPSESS_HDR_VIA, 1),
                      *v2 = H(m, SIPSESS_HDR_VIA, 2);
    CHECK(sipsess_msg_hdr_num(m, SIPSESS_HDR_VIA) == 3, "%s: 3 Via values", ctx);
    CHECK(s_is(sipsess_via_host(v0), "2001:db8::9:1") && sipsess_via_port(v0) == 6050 &&
              sipsess_via_host_type(v0) == SIPSESS_HOST_IPV6,
          "%s: Via 0 IPv6 with port 6050", ctx);
    CHECK(s_is(sipsess_via_host(v1), "192.0.2.1") && sipsess_via_host_type(v1) == SIPSESS_HOST_IPV4 &&
              sipsess_via_port(v1) == 0,
          "%s: Via 1 IPv4", ctx);
    CHECK(s_is(sipsess_via_host(v2), "2001:db8::9:255") && s_is(sipsess_via_transport(v2), "TCP") &&
              s_is(sipsess_via_received(v2), "192.0.2.200") && s_is(sipsess_via_branch(v2), "z9hG4bK451jj"),
          "%s: Via 2 IPv6 with IPv4 received", ctx);
}

static void co_mult_ip_in_sdp(const char *ctx, const sipsess_msg *m, const struct blob *file)
{
    (void)file;
    sipsess_str b = sipsess_msg_body(m);
    CHECK(memmem(b.p, b.len, "c=IN IP4 192.0.2.1", 18) && memmem(b.p, b.len, "c=IN IP6 2001:db8::1", 20),
          "%s: SDP with IPv4 and IPv6 c= lines", ctx);
}

static void co_ipv4_mapped(const char *ctx, const sipsess_msg *m, const struct blob *file)
{
    (void)file;
    const sipsess_hdr *v0 = H(m, SIPSESS_HDR_VIA, 0), *v1 = H(m, SIPSESS_HDR_VIA, 1);
    CHECK(s_is(sipsess_via_host(v0), "::ffff:192.0.2.10") && sipsess_via_port(v0) == 19823,
          "%s: port after ']' in the top Via", ctx);
    CHECK(s_is(sipsess_via_host(v1), "::ffff:192.0.2.2") && sipsess_via_port(v1) == 0, "%s: Via 1", ctx);
    const sipsess_hdr *c = H(m, SIPSESS_HDR_CONTACT, 0);
    CHECK(s_is(sipsess_nameaddr_display(c), "T. desk phone") &&
              s_is(sipsess_uri_host(sipsess_nameaddr_uri(c)), "::ffff:192.0.2.2") &&
              sipsess_uri_host_type(sipsess_nameaddr_uri(c)) == SIPSESS_HOST_IPV6,
          "%s: IPv4-mapped Contact", ctx);
}

static void co_3colons(const char *ctx, const sipsess_msg *m, const struct blob *file)
{
    (void)file;
    const sipsess_uri *ru = sipsess_msg_ruri(m);
    CHECK(s_is(sipsess_uri_host(ru), "2001:db8:::192.0.2.1") && sipsess_uri_host_type(ru) == SIPSESS_HOST_IPV6,
          "%s: three-colon reference tolerated and kept as written", ctx);
    CHECK(s_is(sipsess_uri_host(sipsess_nameaddr_uri(H(m, SIPSESS_HDR_TO, 0))), "2001:db8:::192.0.2.1"),
          "%s: To host", ctx);
}

static void co_2colons(const char *ctx, const sipsess_msg *m, const struct blob *file)
{
    (void)file;
    const sipsess_uri *ru = sipsess_msg_ruri(m);
    CHECK(s_is(sipsess_uri_host(ru), "2001:db8::192.0.2.1") && sipsess_uri_host_type(ru) == SIPSESS_HOST_IPV6,
          "%s: IPv6 with IPv4 tail", ctx);
}

struct callout {
    const char *base; /* file name without directory: applies to both RFC 5118 copies */
    callout_fn fn;
};

static const struct callout g_callouts[] = {
    {"wsinv.dat", co_wsinv},
    {"intmeth.dat", co_intmeth},
    {"esc01.dat", co_esc01},
    {"escnull.dat", co_escnull},
    {"esc02.dat", co_esc02},
    {"lwsdisp.dat", co_lwsdisp},
    {"longreq.dat", co_longreq},
    {"dblreq.dat", co_dblreq},
    {"semiuri.dat", co_semiuri},
    {"transports.dat", co_transports},
    {"mpart01.dat", co_mpart01},
    {"unreason.dat", co_unreason},
    {"noreason.dat", co_noreason},
    {"cparam01.dat", co_cparam01},
    {"cparam02.dat", co_cparam02},
    {"regescrt.dat", co_regescrt},
    {"inv2543.dat", co_inv2543},
    {"ipv6-good.dat", co_ipv6_good},
    {"port-ambiguous.dat", co_port_ambiguous},
    {"port-unambiguous.dat", co_port_unambiguous},
    {"via-received-param-with-delim.dat", co_recv_with_delim},
    {"via-received-param-no-delim.dat", co_recv_no_delim},
    {"ipv6-in-sdp.dat", co_ipv6_in_sdp},
    {"mult-ip-in-header.dat", co_mult_ip_in_header},
    {"mult-ip-in-sdp.dat", co_mult_ip_in_sdp},
    {"ipv4-mapped-ipv6.dat", co_ipv4_mapped},
    {"ipv6-bug-abnf-3-colons.dat", co_3colons},
    {"ipv6-correct-abnf-2-colons.dat", co_2colons},
    {NULL, NULL},
};

static const char *base_name(const char *file)
{
    const char *s = strrchr(file, '/');
    return s ? s + 1 : file;
}

static callout_fn callout_for(const char *file)
{
    for (size_t i = 0; g_callouts[i].base; i++)
        if (strcmp(g_callouts[i].base, base_name(file)) == 0)
            return g_callouts[i].fn;
    return NULL;
}

/* ================================================================== */
/* Per-row expectations that are not "parses cleanly"                  */

/* RFC 5118 archive files whose Content-Length exceeds the body they
 * carry (the README's documented quirk): strict datagram parsing reports
 * ECLEN, lenient parsing keeps the message with the bytes present. */
static bool archive_clen_quirk(const struct manifest *m, const struct row *r)
{
    return strcmp(m->suite, "rfc5118") == 0 &&
           (strcmp(r->file, "ipv6-in-sdp.dat") == 0 || strcmp(r->file, "mult-ip-in-sdp.dat") == 0);
}

enum lenient_mode {
    LEN_MSG,  /* lenient parse returns the message; msg_error is the strict code */
    LEN_FAIL, /* lenient parse fails with the strict code too */
};

struct bad_case {
    const char *file;     /* manifest path */
    int code;             /* strict parse result (0: parses) */
    const char *anchor;   /* err_off lies on the line starting at this text; NULL: end of datagram */
    enum lenient_mode lenient;
    const char *outcome;  /* what a later layer does with it */
};

/* invalid-parse rows. Each code is the one named for the defect; the
 * anchor says where the defect is. */
static const struct bad_case g_invalid[] = {
    {"badinv01.dat", SIPSESS_EHEADER, "Via: SIP/2.0/UDP 192.0.2.15;;", LEN_MSG, "UA -> 400"},
    {"clerr.dat", SIPSESS_ECLEN, NULL, LEN_MSG, "UA -> 400 over UDP; stream: wait, then close"},
    {"ncl.dat", SIPSESS_ECLEN, "Content-Length: -999", LEN_MSG, "UA -> 400; stream: close"},
    {"scalar02.dat", SIPSESS_ECSEQ, "CSeq: 3689", LEN_MSG, "UA -> 400"},
    {"scalarlg.dat", SIPSESS_ECSEQ, "CSeq: 9292", LEN_MSG, "response: discarded"},
    {"quotbal.dat", SIPSESS_EHEADER, "To: \"Mr. J. User", LEN_MSG, "UA -> 400"},
    {"ltgtruri.dat", SIPSESS_EURI, "INVITE <sip:", LEN_MSG, "UA -> 400"},
    {"lwsruri.dat", SIPSESS_EURI, "INVITE sip:user@example.com; lr", LEN_MSG, "UA -> 400"},
    {"lwsstart.dat", SIPSESS_ESTARTLINE, "INVITE  sip:", LEN_MSG, "UA -> 400"},
    {"trws.dat", SIPSESS_ESTARTLINE, "OPTIONS sip:remote-target", LEN_MSG, "UA -> 400"},
    {"escruri.dat", SIPSESS_EURI, "INVITE sip:user@example.com?Route", LEN_MSG, "UA -> 400"},
    {"baddate.dat", SIPSESS_EHEADER, "Date: Fri, 01 Jan 2010 16:00:00 EST", LEN_MSG,
     "UA -> 400 (or ignore the Date)"},
    {"regbadct.dat", SIPSESS_EHEADER, "Contact: sip:user@example.com?Route", LEN_MSG, "registrar -> 400"},
    {"badaspec.dat", SIPSESS_EURI, "To: \"Watson, Thomas\"", LEN_MSG, "UA -> 400"},
    {"baddn.dat", SIPSESS_EHEADER, "From:    Bell, Alexander", LEN_MSG, "UA -> 400"},
    {"badvers.dat", SIPSESS_EVERSION, "OPTIONS sip:t.watson@example.org SIP/7.0", LEN_MSG, "UA -> 505"},
    {"mismatch01.dat", SIPSESS_ECSEQ, "CSeq: 8 INVITE", LEN_MSG, "UA -> 400"},
    {"mismatch02.dat", SIPSESS_ECSEQ, "CSeq: 8 INVITE", LEN_MSG, "UA -> 501 (unknown method)"},
    {"bigcode.dat", SIPSESS_ESTATUS, "SIP/2.0 4294967301", LEN_FAIL, "response: dropped by the parser"},
    {"test.dat", SIPSESS_ESTARTLINE, "INVITE sip:alan@jasomi.com", LEN_FAIL, "dropped by the parser"},
    {"ipv6-bad.dat", SIPSESS_EURI, "REGISTER sip:2001:db8::10", LEN_MSG, "UA -> 400"},
    {"wire/ipv6-bad.dat", SIPSESS_EURI, "REGISTER sip:2001:db8::10", LEN_MSG, "UA -> 400"},
    {NULL, 0, NULL, LEN_MSG, NULL},
};

typedef void (*reject_fn)(const char *ctx, const sipsess_msg *m);

static void rj_badbranch(const char *ctx, const sipsess_msg *m)
{
    CHECK(s_is(sipsess_via_branch(H(m, SIPSESS_HDR_VIA, 0)), "z9hG4bK"), "%s: branch is the bare cookie", ctx);
}

static void rj_insuf(const char *ctx, const sipsess_msg *m)
{
    CHECK(!H(m, SIPSESS_HDR_CALL_ID, 0) && !H(m, SIPSESS_HDR_FROM, 0) && !H(m, SIPSESS_HDR_TO, 0) &&
              H(m, SIPSESS_HDR_CSEQ, 0) && H(m, SIPSESS_HDR_VIA, 0),
          "%s: Call-ID/From/To missing, CSeq and Via present", ctx);
}

static void rj_unkscm(const char *ctx, const sipsess_msg *m)
{
    const sipsess_uri *u = sipsess_msg_ruri(m);
    CHECK(sipsess_uri_scheme_id(u) == SIPSESS_URI_OTHER &&
              s_is(sipsess_uri_scheme_name(u), "nobodyKnowsThisScheme") &&
              s_is(sipsess_uri_opaque(u), "totallyopaquecontent"),
          "%s: opaque Request-URI of an unknown scheme", ctx);
}

static void rj_novelsc(const char *ctx, const sipsess_msg *m)
{
    const sipsess_uri *u = sipsess_msg_ruri(m);
    CHECK(sipsess_uri_scheme_id(u) == SIPSESS_URI_OTHER && s_is(sipsess_uri_scheme_name(u), "soap.beep"),
          "%s: soap.beep scheme", ctx);
}

static void rj_unksm2(const char *ctx, const sipsess_msg *m)
{
    CHECK(s_is(sipsess_uri_scheme_name(sipsess_nameaddr_uri(H(m, SIPSESS_HDR_TO, 0))), "isbn") &&
              s_is(sipsess_uri_scheme_name(sipsess_nameaddr_uri(H(m, SIPSESS_HDR_FROM, 0))), "http") &&
              s_is(sipsess_uri_scheme_name(sipsess_nameaddr_uri(H(m, SIPSESS_HDR_CONTACT, 0))), "name"),
          "%s: isbn:/http:/name: URIs", ctx);
}

static void rj_bext01(const char *ctx, const sipsess_msg *m)
{
    CHECK(sipsess_msg_hdr_num(m, SIPSESS_HDR_REQUIRE) == 2 &&
              s_is(sipsess_hdr_token(H(m, SIPSESS_HDR_REQUIRE, 0)), "nothingSupportsThis") &&
              s_is(sipsess_hdr_token(H(m, SIPSESS_HDR_REQUIRE, 1)), "nothingSupportsThisEither"),
          "%s: Require tags", ctx);
    CHECK(sipsess_msg_hdr_num(m, SIPSESS_HDR_PROXY_REQUIRE) == 2 &&
              s_is(sipsess_hdr_token(H(m, SIPSESS_HDR_PROXY_REQUIRE, 1)), "norDoAnyProxiesSupportThis"),
          "%s: Proxy-Require tags", ctx);
}

static void rj_invut(const char *ctx, const sipsess_msg *m)
{
    const sipsess_hdr *ct = H(m, SIPSESS_HDR_CONTENT_TYPE, 0);
    CHECK(s_is(sipsess_mtype_type(ct), "application") && s_is(sipsess_mtype_subtype(ct), "unknownformat") &&
              sipsess_msg_body(m).len == 40,
          "%s: unknown body type", ctx);
}

static void rj_regaut01(const char *ctx, const sipsess_msg *m)
{
    const sipsess_hdr *a = H(m, SIPSESS_HDR_AUTHORIZATION, 0);
    sipsess_str v;
    CHECK(s_is(sipsess_auth_scheme(a), "NoOneKnowsThisScheme") && sipsess_auth_param(a, "opaque-data", &v) &&
              s_is(v, "here"),
          "%s: unknown auth scheme read", ctx);
}

static void rj_multi01(const char *ctx, const sipsess_msg *m)
{
    static const sipsess_hdr_id twice[] = {SIPSESS_HDR_CALL_ID, SIPSESS_HDR_TO, SIPSESS_HDR_FROM,
                                           SIPSESS_HDR_MAX_FORWARDS, SIPSESS_HDR_CSEQ};
    for (size_t i = 0; i < 5; i++)
        CHECK(sipsess_msg_hdr_num(m, twice[i]) == 2, "%s: two %s values kept", ctx,
              sipsess_hdr_id_str(twice[i]));
}

static void rj_mcl01(const char *ctx, const sipsess_msg *m)
{
    CHECK(sipsess_msg_hdr_num(m, SIPSESS_HDR_CONTENT_LENGTH) == 2 && sipsess_msg_body(m).len == 13,
          "%s: both lengths kept, body by the first (%zu)", ctx, sipsess_msg_body(m).len);
}

static void rj_bcast(const char *ctx, const sipsess_msg *m)
{
    const sipsess_hdr *v = H(m, SIPSESS_HDR_VIA, 1);
    CHECK(!sipsess_msg_is_request(m) && s_is(sipsess_via_host(v), "255.255.255.255") &&
              sipsess_via_host_type(v) == SIPSESS_HOST_IPV4,
          "%s: broadcast sent-by in the second Via", ctx);
}

static void rj_zeromf(const char *ctx, const sipsess_msg *m)
{
    CHECK(sipsess_hdr_number(H(m, SIPSESS_HDR_MAX_FORWARDS, 0)) == 0, "%s: Max-Forwards 0", ctx);
}

static void rj_sdp01(const char *ctx, const sipsess_msg *m)
{
    const sipsess_hdr *a = H(m, SIPSESS_HDR_ACCEPT, 0);
    CHECK(sipsess_msg_hdr_num(m, SIPSESS_HDR_ACCEPT) == 1 && s_is(sipsess_mtype_type(a), "text") &&
              s_is(sipsess_mtype_subtype(a), "nobodyKnowsThis"),
          "%s: Accept without application/sdp", ctx);
}

struct reject_case {
    struct bad_case c;
    reject_fn fn; /* run on the (lenient) message */
};

/* valid-but-reject rows: what the parser does, and who rejects after it. */
static const struct reject_case g_reject[] = {
    {{"badbranch.dat", 0, NULL, LEN_MSG, "transaction layer: bare z9hG4bK branch -> 400 or RFC 2543 matching"},
     rj_badbranch},
    {{"insuf.dat", SIPSESS_EMISSING, "\r\n\r\n", LEN_MSG, "parser EMISSING -> UA 400"}, rj_insuf},
    {{"unkscm.dat", 0, NULL, LEN_MSG, "UA -> 416"}, rj_unkscm},
    {{"novelsc.dat", 0, NULL, LEN_MSG, "UA -> 416 (or 404)"}, rj_novelsc},
    {{"unksm2.dat", 0, NULL, LEN_MSG, "registrar -> 400 (AOR not sip/sips); proxy forwards"}, rj_unksm2},
    {{"bext01.dat", 0, NULL, LEN_MSG, "UA -> 420 with Unsupported; proxy -> 420 for Proxy-Require"},
     rj_bext01},
    {{"invut.dat", 0, NULL, LEN_MSG, "UA -> 415"}, rj_invut},
    {{"regaut01.dat", 0, NULL, LEN_MSG, "registrar ignores it or challenges (401); proxy forwards"},
     rj_regaut01},
    {{"multi01.dat", SIPSESS_EDUPLICATE, "CSeq: 59", LEN_MSG, "parser EDUPLICATE -> UA 400"}, rj_multi01},
    {{"mcl01.dat", SIPSESS_ECLEN, "Content-Length: 5", LEN_MSG,
      "parser ECLEN -> UDP discard / 400; framer ECLEN -> close"},
     rj_mcl01},
    {{"bcast.dat", 0, NULL, LEN_MSG, "UA discards the response; proxy must not forward it"}, rj_bcast},
    {{"zeromf.dat", 0, NULL, LEN_MSG, "parses, UAS processes; proxy -> 483"}, rj_zeromf},
    {{"sdp01.dat", 0, NULL, LEN_MSG, "UA -> 406 (Warning 399) or 400"}, rj_sdp01},
    {{NULL, 0, NULL, LEN_MSG, NULL}, NULL},
};

static const struct bad_case *invalid_for(const char *file)
{
    for (size_t i = 0; g_invalid[i].file; i++)
        if (strcmp(g_invalid[i].file, file) == 0)
            return &g_invalid[i];
    return NULL;
}

static const struct reject_case *reject_for(const char *file)
{
    for (size_t i = 0; g_reject[i].c.file; i++)
        if (strcmp(g_reject[i].c.file, file) == 0)
            return &g_reject[i];
    return NULL;
}

/* ================================================================== */
/* Row checkers                                                        */

static void check_err_off(const char *ctx, const struct blob *b, const char *anchor, size_t off)
{
    if (!anchor) {
        CHECK(off == b->len, "%s: err_off %zu, expected the end of the datagram (%zu)", ctx, off, b->len);
        return;
    }
    size_t at = offset_of(b, anchor);
    CHECK(at != (size_t)-1, "%s: anchor text missing from the file", ctx);
    if (at == (size_t)-1)
        return;
    const char *lf = memchr(b->p + at + strlen(anchor), '\n', b->len - at - strlen(anchor));
    size_t eol = lf ? (size_t)(lf - b->p) : b->len;
    CHECK(off >= at && off <= eol, "%s: err_off %zu is outside [%zu, %zu] ('%.20s...')", ctx, off, at,
          eol, anchor);
}

/* Parse strictly, print, re-parse, compare, run the call-outs on both
 * parses. Returns whether the row passed. */
static bool check_valid(const struct manifest *mf, const struct row *r, bool quiet)
{
    unsigned before = g_fails;
    char ctx[160];
    snprintf(ctx, sizeof ctx, "%s/%s", mf->suite, r->file);
    struct blob b;
    row_read(mf, r, &b);

    sipsess_msg *m = NULL;
    size_t off = 0;
    int e = sipsess_msg_parse(b.p, b.len, NULL, &m, &off);
    sipsess_parse_opts lo;
    sipsess_parse_opts_init(&lo);
    lo.flags = SIPSESS_PARSE_LENIENT;
    if (archive_clen_quirk(mf, r)) {
        CHECK(e == SIPSESS_ECLEN, "%s: strict parse of the archive quirk gave %s", ctx, sipsess_errname(e));
        /* Reported where the body runs out, not at the header. */
        CHECK(e != SIPSESS_ECLEN || off == b.len, "%s: ECLEN at %zu, datagram ends at %zu", ctx, off, b.len);
        e = sipsess_msg_parse(b.p, b.len, &lo, &m, &off);
        CHECK(e == SIPSESS_OK && sipsess_msg_error(m, NULL) == SIPSESS_ECLEN,
              "%s: lenient parse must keep the message and report ECLEN", ctx);
        size_t hend = offset_of(&b, "\n\n") + 2;
        CHECK(m && sipsess_msg_body(m).len == b.len - hend, "%s: body is the bytes present", ctx);
    } else {
        CHECK(e == SIPSESS_OK, "%s: strict parse failed: %s at %zu", ctx, sipsess_errname(e), off);
        CHECK(!m || sipsess_msg_error(m, NULL) == 0, "%s: clean parse with a recorded error", ctx);
    }
    if (m) {
        for (size_t i = 0; i < sipsess_msg_hdr_count(m); i++)
            CHECK(!sipsess_hdr_is_bad(sipsess_msg_hdr_at(m, i)), "%s: header %zu marked bad", ctx, i);
        const sipsess_hdr *cl = H(m, SIPSESS_HDR_CONTENT_LENGTH, 0);
        if (cl && !archive_clen_quirk(mf, r))
            CHECK(sipsess_hdr_number(cl) == (int64_t)sipsess_msg_body(m).len,
                  "%s: Content-Length %lld, body %zu", ctx, (long long)sipsess_hdr_number(cl),
                  sipsess_msg_body(m).len);
        callout_fn co = callout_for(r->file);
        if (co)
            co(ctx, m, &b);
        sipsess_msg *rt = roundtrip(ctx, m);
        if (rt) {
            char rctx[200];
            snprintf(rctx, sizeof rctx, "%s (printed)", ctx);
            cmp_msg(rctx, m, rt, false);
            if (co)
                co(rctx, rt, &b);
        }
        sipsess_msg_free(rt);
    }
    sipsess_msg_free(m);
    blob_free(&b);
    bool ok = g_fails == before;
    if (!quiet && !ok)
        fprintf(stderr, "  %s %-40s valid: FAILED\n", mf->suite, r->file);
    return ok;
}

/* Strict and lenient outcome of an invalid or rejected row. */
static bool check_bad(const struct manifest *mf, const struct row *r, const struct bad_case *bc,
                      reject_fn fn, bool quiet)
{
    unsigned before = g_fails;
    char ctx[160];
    snprintf(ctx, sizeof ctx, "%s/%s", mf->suite, r->file);
    CHECK(bc != NULL, "%s: no expectation recorded for this row", ctx);
    if (!bc)
        return false;
    struct blob b;
    row_read(mf, r, &b);

    sipsess_msg *m = NULL;
    size_t off = (size_t)-1;
    int e = sipsess_msg_parse(b.p, b.len, NULL, &m, &off);
    CHECK(e == bc->code, "%s: strict parse gave %s, expected %s", ctx, sipsess_errname(e),
          sipsess_errname(bc->code));
    if (e)
        check_err_off(ctx, &b, bc->anchor, off);
    CHECK(e != 0 || m != NULL, "%s: success without a message", ctx);
    CHECK(e == 0 || m == NULL, "%s: failure but a message", ctx);
    if (fn && m)
        fn(ctx, m);
    sipsess_msg_free(m);

    sipsess_parse_opts lo;
    sipsess_parse_opts_init(&lo);
    lo.flags = SIPSESS_PARSE_LENIENT;
    m = NULL;
    size_t loff = (size_t)-1;
    int le = sipsess_msg_parse(b.p, b.len, &lo, &m, &loff);
    const char *lenient_text;
    char lbuf[96];
    if (bc->lenient == LEN_FAIL) {
        CHECK(le == bc->code && m == NULL, "%s: lenient parse gave %s, expected failure %s", ctx,
              sipsess_errname(le), sipsess_errname(bc->code));
        CHECK(le == 0 || loff == off, "%s: lenient err_off %zu, strict %zu", ctx, loff, off);
        lenient_text = "lenient: fails too";
    } else {
        CHECK(le == SIPSESS_OK && m, "%s: lenient parse gave %s", ctx, sipsess_errname(le));
        size_t moff = (size_t)-1;
        int me = m ? sipsess_msg_error(m, &moff) : 0;
        CHECK(me == bc->code, "%s: lenient message error %s, expected %s", ctx, sipsess_errname(me),
              sipsess_errname(bc->code));
        CHECK(me == 0 || moff == off, "%s: lenient err_off %zu, strict %zu", ctx, moff, off);
        if (m && fn)
            fn(ctx, m);
        if (m && bc->code)
            CHECK(sipsess_msg_is_request(m) || strstr(bc->outcome, "response"),
                  "%s: a lenient message a UA should answer is not a request", ctx);
        snprintf(lbuf, sizeof lbuf, "lenient: message, error %s", sipsess_errname(me));
        lenient_text = lbuf;
    }
    sipsess_msg_free(m);
    blob_free(&b);
    bool ok = g_fails == before;
    if (!quiet) {
        char where[32] = "";
        if (e)
            snprintf(where, sizeof where, " @%zu", off);
        fprintf(stderr, "  %s %-40s %s: strict %s%s, %s => %s%s\n", mf->suite, r->file,
                g_expect_name[r->expect], e ? sipsess_errname(e) : "parses", where, lenient_text,
                bc->outcome, ok ? "" : "  [FAILED]");
    }
    return ok;
}

static bool check_row(const struct manifest *mf, const struct row *r, bool quiet)
{
    switch (r->expect) {
    case EXP_VALID:
        return check_valid(mf, r, quiet);
    case EXP_INVALID:
        return check_bad(mf, r, invalid_for(r->file), NULL, quiet);
    case EXP_REJECT: {
        const struct reject_case *rc = reject_for(r->file);
        return check_bad(mf, r, rc ? &rc->c : NULL, rc ? rc->fn : NULL, quiet);
    }
    case EXP__COUNT:
        break;
    }
    return false;
}

static void run_category(const char *suite, enum expect ex)
{
    struct manifest mf;
    manifest_load(suite, &mf);
    size_t seen = 0, passed = 0;
    for (size_t i = 0; i < mf.n; i++) {
        if (mf.rows[i].expect != ex)
            continue;
        seen++;
        passed += check_row(&mf, &mf.rows[i], false);
    }
    cr_expect(seen == mf.count[ex], "%s: %zu %s rows checked, manifest has %zu", suite, seen,
              g_expect_name[ex], mf.count[ex]);
    cr_expect(passed == seen, "%s: %zu of %zu %s rows passed", suite, passed, seen, g_expect_name[ex]);
    fprintf(stderr, "%s %s: %zu of %zu manifest rows passed\n", suite, g_expect_name[ex], passed,
            mf.count[ex]);
}

/* ================================================================== */
/* Manifests themselves                                                */

static void check_manifest(const char *suite, size_t rows)
{
    struct manifest mf;
    manifest_load(suite, &mf);
    cr_assert_eq(mf.n, rows, "%s: %zu manifest rows, the archive holds %zu", suite, mf.n, rows);
    /* Every row's file exists, and every .dat file has a row. */
    for (size_t i = 0; i < mf.n; i++) {
        struct blob b;
        row_read(&mf, &mf.rows[i], &b);
        cr_expect(b.len > 0, "%s/%s is empty", suite, mf.rows[i].file);
        blob_free(&b);
        for (size_t j = 0; j < i; j++)
            cr_expect(strcmp(mf.rows[i].file, mf.rows[j].file) != 0, "%s: %s listed twice", suite,
                      mf.rows[i].file);
    }
    static const char *const subdirs[] = {"", "/wire"};
    size_t ndat = 0;
    for (size_t s = 0; s < 2; s++) {
        char path[600];
        snprintf(path, sizeof path, "%s%s", mf.dir, subdirs[s]);
        DIR *d = opendir(path);
        if (!d)
            continue;
        struct dirent *de;
        while ((de = readdir(d))) {
            size_t n = strlen(de->d_name);
            if (n < 4 || strcmp(de->d_name + n - 4, ".dat") != 0)
                continue;
            ndat++;
            char rel[400];
            snprintf(rel, sizeof rel, "%s%s%s", s ? "wire" : "", s ? "/" : "", de->d_name);
            bool listed = false;
            for (size_t i = 0; i < mf.n; i++)
                listed |= strcmp(mf.rows[i].file, rel) == 0;
            cr_expect(listed, "%s: %s is not in the manifest", suite, rel);
        }
        closedir(d);
    }
    cr_expect_eq(ndat, rows, "%s: %zu .dat files, %zu rows", suite, ndat, rows);
}

Test(conformance, rfc4475_manifest_has_50_rows)
{
    check_manifest("rfc4475", RFC4475_ROWS);
}

Test(conformance, rfc5118_manifest_has_24_rows)
{
    check_manifest("rfc5118", RFC5118_ROWS);
}

/* ================================================================== */
/* Rows by category                                                    */

Test(conformance, rfc4475_valid)
{
    run_category("rfc4475", EXP_VALID);
}

Test(conformance, rfc4475_invalid_parse)
{
    run_category("rfc4475", EXP_INVALID);
}

Test(conformance, rfc4475_valid_but_reject)
{
    run_category("rfc4475", EXP_REJECT);
}

Test(conformance, rfc5118_valid)
{
    run_category("rfc5118", EXP_VALID);
}

Test(conformance, rfc5118_invalid_parse)
{
    run_category("rfc5118", EXP_INVALID);
}

/* Every expectation written above belongs to a manifest row: a table
 * entry whose row disappeared would otherwise go unnoticed. */
Test(conformance, every_expectation_has_a_row)
{
    struct manifest a, b;
    manifest_load("rfc4475", &a);
    manifest_load("rfc5118", &b);
    const struct manifest *both[] = {&a, &b};
    for (size_t i = 0; g_invalid[i].file; i++) {
        bool found = false;
        for (size_t k = 0; k < 2; k++)
            for (size_t j = 0; j < both[k]->n; j++)
                found |= strcmp(both[k]->rows[j].file, g_invalid[i].file) == 0 &&
                         both[k]->rows[j].expect == EXP_INVALID;
        cr_expect(found, "%s: no invalid-parse row", g_invalid[i].file);
    }
    for (size_t i = 0; g_reject[i].c.file; i++) {
        bool found = false;
        for (size_t j = 0; j < a.n; j++)
            found |= strcmp(a.rows[j].file, g_reject[i].c.file) == 0 && a.rows[j].expect == EXP_REJECT;
        cr_expect(found, "%s: no valid-but-reject row", g_reject[i].c.file);
    }
    for (size_t i = 0; g_callouts[i].base; i++) {
        bool found = false;
        for (size_t k = 0; k < 2; k++)
            for (size_t j = 0; j < both[k]->n; j++)
                found |= strcmp(base_name(both[k]->rows[j].file), g_callouts[i].base) == 0 &&
                         both[k]->rows[j].expect == EXP_VALID;
        cr_expect(found, "%s: call-out without a valid row", g_callouts[i].base);
    }
}

/* ================================================================== */
/* RFC 5118: archive (bare LF) against wire (CRLF)                     */

/* The archive bytes differ from their wire copies only in line ends, the
 * closing empty line and two wrong lengths: both must read the same. */
Test(conformance, rfc5118_archive_reads_like_wire)
{
    struct manifest mf;
    manifest_load("rfc5118", &mf);
    size_t pairs = 0;
    sipsess_parse_opts lo;
    sipsess_parse_opts_init(&lo);
    lo.flags = SIPSESS_PARSE_LENIENT;
    for (size_t i = 0; i < mf.n; i++) {
        const struct row *r = &mf.rows[i];
        if (strchr(r->file, '/'))
            continue;
        struct row w = *r;
        size_t fl = strlen(r->file);
        cr_assert(fl + 5 < sizeof w.file);
        memcpy(w.file, "wire/", 5);
        memcpy(w.file + 5, r->file, fl + 1);
        struct blob ab, wb;
        row_read(&mf, r, &ab);
        row_read(&mf, &w, &wb);
        cr_expect(memchr(ab.p, '\r', ab.len) == NULL, "%s: archive copy holds a CR", r->file);
        sipsess_msg *am = NULL, *wm = NULL;
        int ae = sipsess_msg_parse(ab.p, ab.len, &lo, &am, NULL);
        int we = sipsess_msg_parse(wb.p, wb.len, &lo, &wm, NULL);
        cr_expect(ae == 0 && we == 0, "%s: lenient parses %s / %s", r->file, sipsess_errname(ae),
                  sipsess_errname(we));
        if (am && wm) {
            cr_expect_eq(sipsess_msg_hdr_count(am), sipsess_msg_hdr_count(wm), "%s: header count", r->file);
            for (size_t k = 0; k < sipsess_msg_hdr_count(am) && k < sipsess_msg_hdr_count(wm); k++) {
                const sipsess_hdr *ha = sipsess_msg_hdr_at(am, k), *hw = sipsess_msg_hdr_at(wm, k);
                if (sipsess_hdr_get_id(ha) == SIPSESS_HDR_CONTENT_LENGTH)
                    continue;
                char ctx[200];
                snprintf(ctx, sizeof ctx, "%s header #%zu LF vs CRLF", r->file, k);
                cmp_hdr(ctx, ha, hw, true);
            }
            /* Bodies differ only by CR before LF. */
            sipsess_str ba = sipsess_msg_body(am), bw = sipsess_msg_body(wm);
            size_t crs = 0;
            for (size_t k = 0; k < bw.len; k++)
                crs += bw.p[k] == '\r';
            cr_expect_eq(ba.len + crs, bw.len, "%s: body lengths %zu + %zu CR vs %zu", r->file, ba.len,
                         crs, bw.len);
        }
        sipsess_msg_free(am);
        sipsess_msg_free(wm);
        blob_free(&ab);
        blob_free(&wb);
        pairs++;
    }
    cr_expect_eq(pairs, RFC5118_ROWS / 2);
}

/* The two archive files whose Content-Length is larger than their body:
 * strict ECLEN at the end of the datagram, lenient success, and the wire
 * copies parse cleanly with a matching length. */
Test(conformance, rfc5118_archive_length_quirk)
{
    static const char *const files[] = {"ipv6-in-sdp.dat", "mult-ip-in-sdp.dat"};
    static const int64_t written[] = {268, 181}, lf_body[] = {242, 180};
    struct manifest mf;
    manifest_load("rfc5118", &mf);
    for (size_t i = 0; i < 2; i++) {
        struct row r = {.expect = EXP_VALID};
        snprintf(r.file, sizeof r.file, "%s", files[i]);
        struct blob b;
        row_read(&mf, &r, &b);
        sipsess_msg *m = NULL;
        size_t off = 0;
        cr_expect_eq(sipsess_msg_parse(b.p, b.len, NULL, &m, &off), SIPSESS_ECLEN, "%s strict", files[i]);
        cr_expect_eq(off, b.len, "%s: ECLEN where the body runs out", files[i]);
        sipsess_parse_opts lo;
        sipsess_parse_opts_init(&lo);
        lo.flags = SIPSESS_PARSE_LENIENT;
        cr_assert_eq(sipsess_msg_parse(b.p, b.len, &lo, &m, NULL), 0, "%s lenient", files[i]);
        cr_expect_eq(sipsess_msg_error(m, NULL), SIPSESS_ECLEN);
        cr_expect_eq(sipsess_hdr_number(H(m, SIPSESS_HDR_CONTENT_LENGTH, 0)), written[i]);
        cr_expect_eq((int64_t)sipsess_msg_body(m).len, lf_body[i], "%s: body %zu", files[i],
                     sipsess_msg_body(m).len);
        sipsess_msg_free(m);
        blob_free(&b);

        snprintf(r.file, sizeof r.file, "wire/%s", files[i]);
        row_read(&mf, &r, &b);
        m = NULL;
        cr_expect_eq(sipsess_msg_parse(b.p, b.len, NULL, &m, NULL), 0, "%s strict", r.file);
        cr_expect(m && sipsess_hdr_number(H(m, SIPSESS_HDR_CONTENT_LENGTH, 0)) == (int64_t)sipsess_msg_body(m).len &&
                      sipsess_msg_body(m).len == (size_t)lf_body[i] + 9,
                  "%s: length fixed to the CRLF body", r.file);
        sipsess_msg_free(m);
        blob_free(&b);
    }
}

/* ================================================================== */
/* Stream framer over the valid set                                    */

enum frame_expect {
    FR_ONE,      /* exactly the datagram's message, nothing left over */
    FR_ECLEN,    /* no Content-Length: a stream cannot be framed */
    FR_WAIT,     /* incomplete on a stream: the framer keeps waiting */
    FR_TRAILING, /* the datagram's message, then the trailing bytes as the next one */
};

struct frame_case {
    const char *suite, *file;
    enum frame_expect fx;
};

static const struct frame_case g_frame_cases[] = {
    /* RFC 2543 style: the body is "the rest of the datagram", which a
     * stream does not have. */
    {"rfc4475", "inv2543.dat", FR_ECLEN},
    /* On a stream the INVITE after the REGISTER is simply the next
     * message; what follows its declared body is garbage. */
    {"rfc4475", "dblreq.dat", FR_TRAILING},
    /* No empty line after the headers (archive form). */
    {"rfc5118", "ipv6-bug-abnf-3-colons.dat", FR_WAIT},
    {"rfc5118", "ipv6-correct-abnf-2-colons.dat", FR_WAIT},
    /* Content-Length larger than the archived body. */
    {"rfc5118", "ipv6-in-sdp.dat", FR_WAIT},
    {"rfc5118", "mult-ip-in-sdp.dat", FR_WAIT},
    {NULL, NULL, FR_ONE},
};

static enum frame_expect frame_expect_for(const char *suite, const char *file)
{
    for (size_t i = 0; g_frame_cases[i].file; i++)
        if (!strcmp(g_frame_cases[i].suite, suite) && !strcmp(g_frame_cases[i].file, file))
            return g_frame_cases[i].fx;
    return FR_ONE;
}

struct frame_result {
    sipsess_msg *msg[4];
    size_t nmsg;
    int err;          /* first error other than EAGAIN */
    int failed;       /* sipsess_framer_failed at the end */
    size_t buffered;  /* sipsess_framer_buffered at the end */
};

/* Deterministic on every libc: xorshift32 with a fixed seed. */
static uint32_t rng_next(uint32_t *s)
{
    uint32_t x = *s;
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    return *s = x;
}

/* chunk 0: the whole buffer at once; 1: one byte at a time; otherwise
 * random sizes from 1 to `chunk`, drawn from *seed. */
static void frame_feed(const struct blob *b, size_t chunk, uint32_t *seed, struct frame_result *fr)
{
    memset(fr, 0, sizeof *fr);
    sipsess_framer *f = NULL;
    cr_assert_eq(sipsess_framer_new(NULL, &f), 0);
    size_t pos = 0;
    while (pos < b->len) {
        size_t n = chunk == 0 ? b->len : chunk == 1 ? 1 : 1 + rng_next(seed) % chunk;
        if (n > b->len - pos)
            n = b->len - pos;
        int e = sipsess_framer_feed(f, b->p + pos, n);
        if (fr->err) {
            CHECK(e == SIPSESS_EFRAMING, "feeding a failed framer gave %s", sipsess_errname(e));
            break;
        }
        CHECK(e == 0, "feed returned %s", sipsess_errname(e));
        pos += n;
        for (;;) {
            sipsess_msg *m = NULL;
            e = sipsess_framer_next(f, &m, NULL);
            if (e == SIPSESS_EAGAIN)
                break;
            if (e) {
                fr->err = e;
                break;
            }
            if (fr->nmsg < 4)
                fr->msg[fr->nmsg++] = m;
            else
                sipsess_msg_free(m);
        }
    }
    fr->failed = sipsess_framer_failed(f);
    fr->buffered = sipsess_framer_buffered(f);
    sipsess_framer_free(f);
}

static void frame_result_free(struct frame_result *fr)
{
    for (size_t i = 0; i < fr->nmsg; i++)
        sipsess_msg_free(fr->msg[i]);
    fr->nmsg = 0;
}

static const char *frame_expect_name(enum frame_expect fx)
{
    switch (fx) {
    case FR_ONE: return "one message";
    case FR_ECLEN: return "ECLEN, stream failed";
    case FR_WAIT: return "waits for more bytes";
    case FR_TRAILING: return "the message, the trailing INVITE, then ECLEN on the rest";
    }
    return "?";
}

static void frame_valid_set(const char *suite)
{
    struct manifest mf;
    manifest_load(suite, &mf);
    size_t checked = 0, framed = 0;
    for (size_t i = 0; i < mf.n; i++) {
        const struct row *r = &mf.rows[i];
        if (r->expect != EXP_VALID)
            continue;
        unsigned before = g_fails;
        struct blob b;
        row_read(&mf, r, &b);
        sipsess_parse_opts lo;
        sipsess_parse_opts_init(&lo);
        lo.flags = SIPSESS_PARSE_LENIENT;
        sipsess_msg *dg = NULL;
        cr_assert_eq(sipsess_msg_parse(b.p, b.len, &lo, &dg, NULL), 0, "%s", r->file);
        enum frame_expect fx = frame_expect_for(suite, r->file);
        uint32_t seed = 0x5eed1234u ^ (uint32_t)i;
        /* whole, byte by byte, then random chunks of several sizes */
        static const size_t chunks[] = {0, 1, 7, 64, 300};
        for (size_t c = 0; c < sizeof chunks / sizeof chunks[0]; c++) {
            char ctx[200];
            snprintf(ctx, sizeof ctx, "%s/%s framed (chunk %zu)", suite, r->file, chunks[c]);
            struct frame_result fr;
            frame_feed(&b, chunks[c], &seed, &fr);
            switch (fx) {
            case FR_ONE:
                CHECK(fr.nmsg == 1 && fr.err == 0 && fr.buffered == 0 && !fr.failed,
                      "%s: %zu messages, err %s, %zu left", ctx, fr.nmsg, sipsess_errname(fr.err),
                      fr.buffered);
                if (fr.nmsg >= 1)
                    cmp_msg(ctx, dg, fr.msg[0], true);
                break;
            case FR_TRAILING:
                /* The INVITE's 150-byte body stops 5 bytes short of the
                 * datagram's end; "C\r\n\r\n" is then a header section
                 * without Content-Length, so the stream fails there. */
                CHECK(fr.nmsg == 2 && fr.err == SIPSESS_ECLEN && fr.failed == SIPSESS_ECLEN &&
                          fr.buffered == 5,
                      "%s: %zu messages, err %s, failed %d, %zu left", ctx, fr.nmsg,
                      sipsess_errname(fr.err), fr.failed, fr.buffered);
                if (fr.nmsg >= 1)
                    cmp_msg(ctx, dg, fr.msg[0], true);
                if (fr.nmsg >= 2)
                    CHECK(sipsess_msg_method(fr.msg[1]) == SIPSESS_METHOD_INVITE &&
                              sipsess_msg_body(fr.msg[1]).len == 150,
                          "%s: the second message is the trailing INVITE", ctx);
                break;
            case FR_ECLEN:
                CHECK(fr.nmsg == 0 && fr.err == SIPSESS_ECLEN && fr.failed == SIPSESS_ECLEN,
                      "%s: expected ECLEN, got %s (failed %d)", ctx, sipsess_errname(fr.err), fr.failed);
                break;
            case FR_WAIT:
                CHECK(fr.nmsg == 0 && fr.err == 0 && !fr.failed && fr.buffered == b.len,
                      "%s: expected to hold all %zu bytes, holds %zu (%zu messages, %s)", ctx, b.len,
                      fr.buffered, fr.nmsg, sipsess_errname(fr.err));
                break;
            }
            frame_result_free(&fr);
        }
        sipsess_msg_free(dg);
        blob_free(&b);
        checked++;
        /* Only what differs from "one message, equal to the datagram" is
         * worth a line; failures always get one. */
        if (fx != FR_ONE || g_fails != before)
            fprintf(stderr, "  %s %-40s framer: %s%s\n", suite, r->file, frame_expect_name(fx),
                    g_fails == before ? "" : "  [FAILED]");
        framed += g_fails == before;
    }
    cr_expect_eq(checked, mf.count[EXP_VALID]);
    fprintf(stderr, "%s framer: %zu of %zu valid rows framed as expected (whole, byte by byte, random chunks)\n",
            suite, framed, mf.count[EXP_VALID]);
}

Test(conformance, rfc4475_valid_through_framer, .timeout = 120)
{
    frame_valid_set("rfc4475");
}

Test(conformance, rfc5118_valid_through_framer, .timeout = 120)
{
    frame_valid_set("rfc5118");
}

/* The rows whose Content-Length is wrong, on a stream: too large waits
 * (and never reads past what arrived), negative or conflicting breaks the
 * stream for good. */
Test(conformance, rfc4475_bad_lengths_on_a_stream)
{
    static const struct {
        const char *file;
        int err;
    } cases[] = {{"clerr.dat", 0}, {"ncl.dat", SIPSESS_ECLEN}, {"mcl01.dat", SIPSESS_ECLEN}};
    struct manifest mf;
    manifest_load("rfc4475", &mf);
    for (size_t i = 0; i < 3; i++) {
        struct row r = {.expect = EXP_INVALID};
        snprintf(r.file, sizeof r.file, "%s", cases[i].file);
        struct blob b;
        row_read(&mf, &r, &b);
        uint32_t seed = 99;
        for (size_t chunk = 0; chunk < 3; chunk++) {
            struct frame_result fr;
            frame_feed(&b, chunk == 2 ? 16 : chunk, &seed, &fr);
            cr_expect_eq(fr.nmsg, 0, "%s", cases[i].file);
            cr_expect_eq(fr.err, cases[i].err, "%s: %s", cases[i].file, sipsess_errname(fr.err));
            cr_expect_eq(fr.failed, cases[i].err, "%s", cases[i].file);
            if (!cases[i].err)
                cr_expect_eq(fr.buffered, b.len, "%s: waits holding every byte", cases[i].file);
            frame_result_free(&fr);
        }
        blob_free(&b);
    }
}

/* ================================================================== */
/* Every prefix of every row                                           */

static bool is_parse_error(int e)
{
    switch (e) {
    case SIPSESS_ETOOBIG: case SIPSESS_ETOOMANYHDRS: case SIPSESS_EHDRTOOLONG:
    case SIPSESS_EURITOOLONG: case SIPSESS_ETOOMANYVIA: case SIPSESS_ESTARTLINE:
    case SIPSESS_EVERSION: case SIPSESS_ESTATUS: case SIPSESS_EHEADER: case SIPSESS_EURI:
    case SIPSESS_ECSEQ: case SIPSESS_ERANGE: case SIPSESS_ECLEN: case SIPSESS_ETRUNCATED:
    case SIPSESS_EMISSING: case SIPSESS_EDUPLICATE:
        return true;
    default:
        return false;
    }
}

/* A datagram cut anywhere (a short read, a truncating middlebox) must
 * parse or fail with a parse error, with err_off inside the input, and
 * never read a byte past it: each prefix lives in its own allocation of
 * exactly its size, so ASan and valgrind see any over-read. */
Test(conformance, every_prefix_of_every_row_is_clean, .timeout = 600)
{
    static const char *const suites[] = {"rfc4475", "rfc5118"};
    sipsess_parse_opts lo;
    sipsess_parse_opts_init(&lo);
    lo.flags = SIPSESS_PARSE_LENIENT;
    size_t rows = 0, parses = 0;
    for (size_t s = 0; s < 2; s++) {
        struct manifest mf;
        manifest_load(suites[s], &mf);
        for (size_t i = 0; i < mf.n; i++) {
            struct blob b;
            row_read(&mf, &mf.rows[i], &b);
            for (size_t k = 0; k <= b.len; k++) {
                char *p = malloc(k ? k : 1);
                memcpy(p, b.p, k);
                for (int lenient = 0; lenient < 2; lenient++) {
                    sipsess_msg *m = NULL;
                    size_t off = (size_t)-1;
                    int e = sipsess_msg_parse(p, k, lenient ? &lo : NULL, &m, &off);
                    parses++;
                    if (e) {
                        CHECK(is_parse_error(e) && m == NULL && off <= k,
                              "%s/%s cut at %zu: %s at %zu", suites[s], mf.rows[i].file, k,
                              sipsess_errname(e), off);
                    } else {
                        sipsess_str raw = sipsess_msg_raw(m);
                        CHECK(m && raw.len <= k, "%s/%s cut at %zu: message longer than input", suites[s],
                              mf.rows[i].file, k);
                        sipsess_msg_free(m);
                    }
                }
                free(p);
            }
            blob_free(&b);
            rows++;
        }
    }
    cr_expect_eq(rows, RFC4475_ROWS + RFC5118_ROWS);
    fprintf(stderr, "conformance prefixes: %zu rows, %zu parses of truncated datagrams\n", rows, parses);
}

/* ================================================================== */
/* Totals                                                              */

Test(conformance, summary)
{
    static const char *const suites[] = {"rfc4475", "rfc5118"};
    static const size_t want_rows[] = {RFC4475_ROWS, RFC5118_ROWS};
    size_t passed[EXP__COUNT] = {0}, listed[EXP__COUNT] = {0};
    for (size_t s = 0; s < 2; s++) {
        struct manifest mf;
        manifest_load(suites[s], &mf);
        cr_assert_eq(mf.n, want_rows[s], "%s: %zu rows", suites[s], mf.n);
        for (size_t i = 0; i < mf.n; i++) {
            listed[mf.rows[i].expect]++;
            passed[mf.rows[i].expect] += check_row(&mf, &mf.rows[i], true);
        }
    }
    for (int e = 0; e < EXP__COUNT; e++)
        cr_expect_eq(passed[e], listed[e], "%s: %zu of %zu rows passed", g_expect_name[e], passed[e],
                     listed[e]);
    fprintf(stderr,
            "conformance: %zu valid parsed+roundtripped, %zu invalid rejected, %zu valid-but-reject "
            "recorded (of %zu/%zu/%zu manifest rows)\n",
            passed[EXP_VALID], passed[EXP_INVALID], passed[EXP_REJECT], listed[EXP_VALID],
            listed[EXP_INVALID], listed[EXP_REJECT]);
}
