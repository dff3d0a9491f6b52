/*
 * Header-by-header tests of the message parser: each typed header through
 * sipsess_msg_parse of a small message, compact and case-insensitive
 * names, folding, unknown headers, limits, error offsets, allocation
 * behaviour and NULL handling.
 *
 * Every message is copied into an allocation of exactly its size before
 * parsing, so a read past the end shows up under ASan and valgrind.
 */
#include <criterion/criterion.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sipsess/msg.h>
#include <sipsess/uri.h>

/* ================================================================== */
/* Helpers                                                             */

#define PS(s) (int)(s).len, ((s).p ? (s).p : "")

static bool s_is(sipsess_str s, const char *lit)
{
    size_t n = strlen(lit);
    return s.p && s.len == n && memcmp(s.p, lit, n) == 0;
}

#define EXPECT_STR(view, lit)                                                                   \
    do {                                                                                        \
        sipsess_str got_ = (view);                                                              \
        cr_expect(s_is(got_, (lit)), "%s: expected '%s', got '%.*s'%s", #view, (lit), PS(got_), \
                  got_.p ? "" : " (absent)");                                                   \
    } while (0)

#define EXPECT_NONE(view)                                                                 \
    do {                                                                                  \
        sipsess_str got_ = (view);                                                        \
        cr_expect(got_.p == NULL && got_.len == 0, "%s: expected absent, got '%.*s'", #view, \
                  PS(got_));                                                              \
    } while (0)

/* The mandatory headers of a request; a test leaves some out (B_*) to
 * write its own. */
enum { B_VIA = 1, B_FROM = 2, B_TO = 4, B_CALLID = 8, B_CSEQ = 16, B_MF = 32, B_ALL = 63 };

static const char START[] = "OPTIONS sip:bob@example.com SIP/2.0\r\n";
static const char *const g_base[] = {
    "Via: SIP/2.0/UDP pc33.example.com;branch=z9hG4bK776asdhds\r\n",
    "From: <sip:alice@example.com>;tag=1928301774\r\n",
    "To: <sip:bob@example.com>\r\n",
    "Call-ID: a84b4c76e66710@pc33.example.com\r\n",
    "CSeq: 314159 OPTIONS\r\n",
    "Max-Forwards: 70\r\n",
};

struct text {
    char *p;
    size_t len;
};

/* Exactly `len` bytes, no NUL after them. */
static struct text exact_copy(const char *src, size_t len)
{
    struct text t = {malloc(len ? len : 1), len};
    cr_assert(t.p);
    memcpy(t.p, src, len);
    return t;
}

/* start line, base headers not in `omit`, `extra` (header lines with
 * their CRLFs), the empty line, `body`. */
static struct text compose(unsigned omit, const char *extra, const char *body)
{
    size_t cap = strlen(START) + strlen(extra) + strlen(body) + 512, n = 0;
    char *tmp = malloc(cap);
    n += (size_t)snprintf(tmp + n, cap - n, "%s", START);
    for (size_t i = 0; i < 6; i++)
        if (!(omit & (1u << i)))
            n += (size_t)snprintf(tmp + n, cap - n, "%s", g_base[i]);
    n += (size_t)snprintf(tmp + n, cap - n, "%s\r\n%s", extra, body);
    struct text t = exact_copy(tmp, n);
    free(tmp);
    return t;
}

static sipsess_parse_opts lenient_opts(void)
{
    sipsess_parse_opts o;
    sipsess_parse_opts_init(&o);
    o.flags = SIPSESS_PARSE_LENIENT;
    return o;
}

/* Parse a composed request strictly; the test fails unless it parses. */
static sipsess_msg *ok(unsigned omit, const char *extra)
{
    struct text t = compose(omit, extra, "");
    sipsess_msg *m = NULL;
    size_t off = 0;
    int e = sipsess_msg_parse(t.p, t.len, NULL, &m, &off);
    cr_assert_eq(e, SIPSESS_OK, "parse of [%s] failed: %s at %zu", extra, sipsess_errname(e), off);
    free(t.p);
    return m;
}

/* Parse strictly and return the error; `*off` (may be NULL) gets err_off
 * relative to the composed text, whose copy `*t` the caller may keep. */
static int fails(unsigned omit, const char *extra, size_t *off, struct text *keep)
{
    struct text t = compose(omit, extra, "");
    sipsess_msg *m = NULL;
    size_t o = (size_t)-1;
    int e = sipsess_msg_parse(t.p, t.len, NULL, &m, &o);
    cr_expect(e != SIPSESS_OK && m == NULL, "[%s] parsed but should not", extra);
    sipsess_msg_free(m);
    if (off)
        *off = o;
    if (keep)
        *keep = t;
    else
        free(t.p);
    return e;
}

static int parse_text(const char *text, const sipsess_parse_opts *o, sipsess_msg **m, size_t *off)
{
    struct text t = exact_copy(text, strlen(text));
    int e = sipsess_msg_parse(t.p, t.len, o, m, off);
    free(t.p);
    return e;
}

static size_t offset_in(const struct text *t, const char *needle)
{
    size_t n = strlen(needle);
    for (size_t i = 0; i + n <= t->len; i++)
        if (memcmp(t->p + i, needle, n) == 0)
            return i;
    cr_assert_fail("'%s' not in the message", needle);
    return 0;
}

static const sipsess_hdr *one(const sipsess_msg *m, sipsess_hdr_id id)
{
    const sipsess_hdr *h = sipsess_msg_hdr(m, id, 0);
    cr_assert(h, "no %s header", sipsess_hdr_id_str(id));
    return h;
}

static const sipsess_hdr *nth(const sipsess_msg *m, sipsess_hdr_id id, size_t i)
{
    const sipsess_hdr *h = sipsess_msg_hdr(m, id, i);
    cr_assert(h, "no %s value #%zu", sipsess_hdr_id_str(id), i);
    return h;
}

/* ================================================================== */
/* Via                                                                 */

Test(headers, via_every_parameter)
{
    sipsess_msg *m = ok(B_VIA, "Via: SIP/2.0/UDP host.example.com:5062;branch=z9hG4bKnashds8;"
                               "received=192.0.2.1;rport=5061;maddr=224.2.0.1;ttl=16;x-ext=1;flagged\r\n");
    const sipsess_hdr *v = one(m, SIPSESS_HDR_VIA);
    EXPECT_STR(sipsess_via_protocol(v), "SIP/2.0");
    EXPECT_STR(sipsess_via_transport(v), "UDP");
    EXPECT_STR(sipsess_via_host(v), "host.example.com");
    cr_expect_eq(sipsess_via_host_type(v), SIPSESS_HOST_NAME);
    cr_expect_eq(sipsess_via_port(v), 5062);
    EXPECT_STR(sipsess_via_branch(v), "z9hG4bKnashds8");
    EXPECT_STR(sipsess_via_received(v), "192.0.2.1");
    cr_expect_eq(sipsess_via_rport(v), 5061);
    EXPECT_STR(sipsess_via_maddr(v), "224.2.0.1");
    cr_expect_eq(sipsess_via_ttl(v), 16);
    sipsess_str val = {NULL, 0};
    cr_expect(sipsess_hdr_param(v, "x-ext", &val) && s_is(val, "1"));
    cr_expect(sipsess_hdr_param(v, "FLAGGED", &val) && val.p == NULL, "flag parameter, any case");
    cr_expect(sipsess_hdr_param(v, "BRANCH", &val) && s_is(val, "z9hG4bKnashds8"));
    cr_expect_not(sipsess_hdr_param(v, "absent", &val));
    sipsess_msg_free(m);
}

Test(headers, via_defaults_and_spacing)
{
    /* LWS around '/', ';' and '=' (RFC 3261 §25.1 SLASH, SEMI, EQUAL). */
    sipsess_msg *m = ok(B_VIA, "Via: SIP / 2.0 / TCP  h.example.com ; branch = z9hG4bKx ; rport\r\n");
    const sipsess_hdr *v = one(m, SIPSESS_HDR_VIA);
    EXPECT_STR(sipsess_via_transport(v), "TCP");
    EXPECT_STR(sipsess_via_host(v), "h.example.com");
    EXPECT_STR(sipsess_via_branch(v), "z9hG4bKx");
    cr_expect_eq(sipsess_via_port(v), 0, "no port written");
    cr_expect_eq(sipsess_via_rport(v), 0, "rport without a value");
    cr_expect_eq(sipsess_via_ttl(v), -1);
    EXPECT_NONE(sipsess_via_received(v));
    EXPECT_NONE(sipsess_via_maddr(v));
    sipsess_msg_free(m);

    m = ok(0, "");
    v = one(m, SIPSESS_HDR_VIA);
    cr_expect_eq(sipsess_via_rport(v), -1, "no rport at all");
    sipsess_msg_free(m);
}

Test(headers, via_ipv6_and_ipv4_sent_by)
{
    sipsess_msg *m = ok(B_VIA, "Via: SIP/2.0/UDP [2001:db8::1]:5070;branch=z9hG4bK1;received=[2001:db8::2]\r\n"
                               "Via: SIP/2.0/TLS [::ffff:192.0.2.1];branch=z9hG4bK2\r\n"
                               "Via: SIP/2.0/WS 192.0.2.4:80;branch=z9hG4bK3\r\n");
    const sipsess_hdr *v = nth(m, SIPSESS_HDR_VIA, 0);
    EXPECT_STR(sipsess_via_host(v), "2001:db8::1");
    cr_expect_eq(sipsess_via_host_type(v), SIPSESS_HOST_IPV6);
    cr_expect_eq(sipsess_via_port(v), 5070);
    EXPECT_STR(sipsess_via_received(v), "[2001:db8::2]");
    v = nth(m, SIPSESS_HDR_VIA, 1);
    EXPECT_STR(sipsess_via_host(v), "::ffff:192.0.2.1");
    cr_expect_eq(sipsess_via_port(v), 0);
    EXPECT_STR(sipsess_via_transport(v), "TLS");
    v = nth(m, SIPSESS_HDR_VIA, 2);
    EXPECT_STR(sipsess_via_host(v), "192.0.2.4");
    cr_expect_eq(sipsess_via_host_type(v), SIPSESS_HOST_IPV4);
    cr_expect_eq(sipsess_via_port(v), 80);
    EXPECT_STR(sipsess_via_transport(v), "WS");
    sipsess_msg_free(m);
}

Test(headers, via_ttl_and_rport_range)
{
    sipsess_msg *m = ok(B_VIA, "Via: SIP/2.0/UDP h;branch=z9hG4bK1;ttl=0\r\nVia: SIP/2.0/UDP h;ttl=255;rport=65535\r\n");
    cr_expect_eq(sipsess_via_ttl(nth(m, SIPSESS_HDR_VIA, 0)), 0);
    cr_expect_eq(sipsess_via_ttl(nth(m, SIPSESS_HDR_VIA, 1)), 255);
    cr_expect_eq(sipsess_via_rport(nth(m, SIPSESS_HDR_VIA, 1)), 65535);
    sipsess_msg_free(m);

    static const char *const bad[] = {
        "Via: SIP/2.0/UDP h;branch=z9hG4bK1;ttl=256\r\n",
        "Via: SIP/2.0/UDP h;branch=z9hG4bK1;ttl=-1\r\n",
        "Via: SIP/2.0/UDP h;branch=z9hG4bK1;ttl=\r\n",
        "Via: SIP/2.0/UDP h;branch=z9hG4bK1;rport=65536\r\n",
        "Via: SIP/2.0/UDP h;branch=z9hG4bK1;rport=x\r\n",
        "Via: SIP/2.0/UDP h:65536;branch=z9hG4bK1\r\n",
        "Via: SIP/2.0/UDP h:;branch=z9hG4bK1\r\n",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        cr_expect_eq(fails(B_VIA, bad[i], NULL, NULL), SIPSESS_EHEADER, "%s", bad[i]);
}

Test(headers, via_malformed)
{
    static const char *const bad[] = {
        "Via: SIP/2.0 h;branch=z9hG4bK1\r\n",        /* no transport */
        "Via: SIP/2.0/UDP\r\n",                      /* no sent-by */
        "Via: SIP/2.0/UDPh\r\n",                     /* no LWS before sent-by */
        "Via: SIP/2.0/UDP h;branch=\r\n",            /* empty branch */
        "Via: SIP/2.0/UDP h;received=\r\n",          /* empty received */
        "Via: SIP/2.0/UDP h;;branch=z9hG4bK1\r\n",   /* empty parameter */
        "Via: SIP/2.0/UDP h branch\r\n",             /* junk after sent-by */
        "Via: SIP/2.0/UDP [2001:db8::1;branch=x\r\n", /* unclosed IPv6 reference */
        "Via: SIP/2.0/UDP h, \r\n",                  /* empty list element */
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        cr_expect_eq(fails(B_VIA, bad[i], NULL, NULL), SIPSESS_EHEADER, "%s", bad[i]);
}

/* RFC 3261 §7.3.1: one header line with a comma list and the same values
 * on several lines are the same header field. */
Test(headers, via_comma_joined_reads_like_multiline)
{
    sipsess_msg *a = ok(B_VIA, "Via: SIP/2.0/UDP a.example.com;branch=z9hG4bK1, SIP/2.0/TCP "
                               "b.example.com:5061;branch=z9hG4bK2 ,SIP/2.0/TLS c.example.com;branch=z9hG4bK3\r\n");
    sipsess_msg *b = ok(B_VIA, "Via: SIP/2.0/UDP a.example.com;branch=z9hG4bK1\r\n"
                               "v: SIP/2.0/TCP b.example.com:5061;branch=z9hG4bK2\r\n"
                               "VIA: SIP/2.0/TLS c.example.com;branch=z9hG4bK3\r\n");
    cr_assert_eq(sipsess_msg_hdr_num(a, SIPSESS_HDR_VIA), 3);
    cr_assert_eq(sipsess_msg_hdr_num(b, SIPSESS_HDR_VIA), 3);
    const sipsess_hdr *ha = sipsess_msg_hdr(a, SIPSESS_HDR_VIA, 0), *hb = sipsess_msg_hdr(b, SIPSESS_HDR_VIA, 0);
    for (size_t i = 0; i < 3; i++) {
        cr_assert(ha && hb);
        cr_expect(s_is(sipsess_via_host(ha), (const char *[]){"a.example.com", "b.example.com", "c.example.com"}[i]));
        cr_expect_eq(sipsess_via_host(ha).len, sipsess_via_host(hb).len);
        cr_expect_eq(memcmp(sipsess_via_host(ha).p, sipsess_via_host(hb).p, sipsess_via_host(ha).len), 0);
        cr_expect_eq(memcmp(sipsess_via_branch(ha).p, sipsess_via_branch(hb).p, sipsess_via_branch(ha).len), 0);
        cr_expect_eq(sipsess_via_port(ha), sipsess_via_port(hb));
        cr_expect_eq(memcmp(sipsess_via_transport(ha).p, sipsess_via_transport(hb).p, 3), 0);
        ha = sipsess_hdr_next(a, ha);
        hb = sipsess_hdr_next(b, hb);
    }
    cr_expect_null(ha);
    cr_expect_null(hb);
    cr_expect_eq(sipsess_msg_hdr_count(a), sipsess_msg_hdr_count(b));
    sipsess_msg_free(a);
    sipsess_msg_free(b);
}

/* ================================================================== */
/* From / To                                                           */

Test(headers, from_quoted_display_with_quoted_pairs)
{
    sipsess_msg *m = ok(B_FROM, "From: \"A \\\"quoted\\\" \\\\ name\" <sip:alice@example.com>;tag=abc\r\n");
    const sipsess_hdr *f = one(m, SIPSESS_HDR_FROM);
    /* quoted-pairs are kept as written, quotes removed */
    EXPECT_STR(sipsess_nameaddr_display(f), "A \\\"quoted\\\" \\\\ name");
    EXPECT_STR(sipsess_uri_text(sipsess_nameaddr_uri(f)), "sip:alice@example.com");
    EXPECT_STR(sipsess_nameaddr_tag(f), "abc");
    sipsess_msg_free(m);

    m = ok(B_FROM, "From: \"\" <sip:alice@example.com>;tag=1\r\n");
    sipsess_str d = sipsess_nameaddr_display(one(m, SIPSESS_HDR_FROM));
    cr_expect(d.p != NULL && d.len == 0, "empty quoted display is present and empty");
    sipsess_msg_free(m);

    m = ok(B_FROM, "From: \"Caf\xc3\xa9, Inc.\" <sip:alice@example.com>;tag=1\r\n");
    EXPECT_STR(sipsess_nameaddr_display(one(m, SIPSESS_HDR_FROM)), "Caf\xc3\xa9, Inc.");
    sipsess_msg_free(m);
}

Test(headers, from_token_display)
{
    sipsess_msg *m = ok(B_FROM, "From: Alice  Smith <sip:alice@example.com> ; tag = 88sja8x\r\n");
    const sipsess_hdr *f = one(m, SIPSESS_HDR_FROM);
    EXPECT_STR(sipsess_nameaddr_display(f), "Alice  Smith");
    EXPECT_STR(sipsess_nameaddr_tag(f), "88sja8x");
    sipsess_msg_free(m);

    m = ok(B_FROM, "From: <sip:alice@example.com>;tag=1\r\n");
    EXPECT_NONE(sipsess_nameaddr_display(one(m, SIPSESS_HDR_FROM)));
    sipsess_msg_free(m);
}

Test(headers, to_addr_spec_with_params)
{
    /* §20: without <>, every ';' parameter belongs to the header. */
    sipsess_msg *m = ok(B_TO, "To: sip:bob@example.com;tag=a6c85cf;x-custom=yes;flag\r\n");
    const sipsess_hdr *t = one(m, SIPSESS_HDR_TO);
    EXPECT_STR(sipsess_uri_text(sipsess_nameaddr_uri(t)), "sip:bob@example.com");
    EXPECT_STR(sipsess_nameaddr_tag(t), "a6c85cf");
    sipsess_str v = {NULL, 0};
    cr_expect(sipsess_hdr_param(t, "x-custom", &v) && s_is(v, "yes"));
    cr_expect(sipsess_hdr_param(t, "flag", &v) && v.p == NULL);
    EXPECT_NONE(sipsess_uri_params(sipsess_nameaddr_uri(t)));
    sipsess_msg_free(m);

    /* Inside <> they are the URI's. */
    m = ok(B_TO, "To: <sip:bob@example.com;transport=tcp>;tag=t1\r\n");
    t = one(m, SIPSESS_HDR_TO);
    cr_expect(sipsess_uri_param(sipsess_nameaddr_uri(t), "transport", &v) && s_is(v, "tcp"));
    cr_expect_not(sipsess_hdr_param(t, "transport", NULL));
    EXPECT_STR(sipsess_nameaddr_tag(t), "t1");
    sipsess_msg_free(m);

    m = ok(B_TO, "t: <tel:+1-201-555-0123>\r\n");
    t = one(m, SIPSESS_HDR_TO);
    cr_expect_eq(sipsess_uri_scheme_id(sipsess_nameaddr_uri(t)), SIPSESS_URI_TEL);
    EXPECT_NONE(sipsess_nameaddr_tag(t));
    sipsess_msg_free(m);
}

Test(headers, from_to_malformed)
{
    static const struct {
        const char *line;
        int err;
    } bad[] = {
        {"From: \"unclosed <sip:a@example.com>;tag=1\r\n", SIPSESS_EHEADER},
        {"From: <sip:a@example.com;tag=1\r\n", SIPSESS_EHEADER},
        {"From: \"x\" sip:a@example.com;tag=1\r\n", SIPSESS_EHEADER},
        {"From: sip:a@example.com?subject=x;tag=1\r\n", SIPSESS_EHEADER},
        {"From: <sip:a@example.com>;tag=\r\n", SIPSESS_EHEADER},
        {"From: <sip:a@example.com>;tag=1 junk\r\n", SIPSESS_EHEADER},
        {"From: <>;tag=1\r\n", SIPSESS_EURI},
        {"From:\r\n", SIPSESS_EURI},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        cr_expect_eq(fails(B_FROM, bad[i].line, NULL, NULL), bad[i].err, "%s", bad[i].line);
}

/* tag-param and via-branch are tokens (RFC 3261 §25.1): a quoted or
 * host-like value is a different string than the one matched on, so it
 * is refused rather than read as the token inside. */
Test(headers, tag_and_branch_must_be_tokens)
{
    static const struct {
        unsigned omit;
        const char *line;
    } bad[] = {
        {B_TO, "To: <sip:a@b>;tag=\"x\"\r\n"},
        {B_FROM, "From: <sip:a@b>;tag=\"1928301774\"\r\n"},
        {B_TO, "To: sip:a@b;tag=a:b\r\n"},
        {B_TO, "To: <sip:a@b>;tag=[x]\r\n"},
        {B_VIA, "Via: SIP/2.0/UDP h;branch=\"z9hG4bK1\"\r\n"},
        {B_VIA, "Via: SIP/2.0/UDP h;branch=z9hG4bK:1\r\n"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        size_t off = 0;
        struct text t;
        cr_expect_eq(fails(bad[i].omit, bad[i].line, &off, &t), SIPSESS_EHEADER, "%s", bad[i].line);
        /* a typed-value error points at the value */
        cr_expect_eq(off, offset_in(&t, bad[i].line) + (size_t)(strchr(bad[i].line, ' ') + 1 - bad[i].line),
                     "%s: err_off %zu", bad[i].line, off);
        free(t.p);
    }

    /* Lenient: the value is kept, marked bad, and has no tag. */
    struct text t = compose(B_TO, "To: <sip:a@b>;tag=\"x\"\r\n", "");
    sipsess_parse_opts lo = lenient_opts();
    sipsess_msg *m = NULL;
    cr_assert_eq(sipsess_msg_parse(t.p, t.len, &lo, &m, NULL), 0);
    cr_expect_eq(sipsess_msg_error(m, NULL), SIPSESS_EHEADER);
    const sipsess_hdr *to = one(m, SIPSESS_HDR_TO);
    cr_expect(sipsess_hdr_is_bad(to));
    EXPECT_NONE(sipsess_nameaddr_tag(to));
    EXPECT_STR(sipsess_hdr_value(to), "<sip:a@b>;tag=\"x\"");
    sipsess_msg_free(m);
    free(t.p);

    /* Every token character is still a tag character (RFC 4475 intmeth). */
    m = ok(B_TO | B_VIA, "To: <sip:a@b>;tag=_token~1'+`*%!-.\r\n"
                         "Via: SIP/2.0/TCP h;branch=z9hG4bK-.!%66*_+`'~\r\n");
    EXPECT_STR(sipsess_nameaddr_tag(one(m, SIPSESS_HDR_TO)), "_token~1'+`*%!-.");
    EXPECT_STR(sipsess_via_branch(one(m, SIPSESS_HDR_VIA)), "z9hG4bK-.!%66*_+`'~");
    sipsess_msg_free(m);
}

/* ================================================================== */
/* Contact                                                             */

Test(headers, contact_star)
{
    sipsess_msg *m = ok(0, "Contact: *\r\nExpires: 0\r\n");
    const sipsess_hdr *c = one(m, SIPSESS_HDR_CONTACT);
    cr_expect_eq(sipsess_contact_is_star(c), 1);
    cr_expect_null(sipsess_nameaddr_uri(c));
    cr_expect_eq(sipsess_contact_expires(c), -1);
    sipsess_msg_free(m);

    m = ok(0, "m:  *  \r\n");
    cr_expect_eq(sipsess_contact_is_star(one(m, SIPSESS_HDR_CONTACT)), 1);
    sipsess_msg_free(m);

    cr_expect_eq(fails(0, "Contact: *;expires=0\r\n", NULL, NULL), SIPSESS_EHEADER);
    cr_expect_eq(fails(0, "Contact: * <sip:a@h>\r\n", NULL, NULL), SIPSESS_EHEADER);

    m = ok(0, "Contact: <sip:a@example.com>\r\n");
    cr_expect_eq(sipsess_contact_is_star(one(m, SIPSESS_HDR_CONTACT)), 0);
    sipsess_msg_free(m);
}

Test(headers, contact_expires_and_q)
{
    sipsess_msg *m = ok(0, "Contact: <sip:a@example.com>;expires=3600;q=0.7\r\n"
                           "Contact: <sip:b@example.com>;Q=1;EXPIRES=4294967295\r\n"
                           "Contact: <sip:c@example.com>;q=0\r\n"
                           "Contact: <sip:d@example.com>;q=0.001\r\n"
                           "Contact: <sip:e@example.com>;q=1.000\r\n"
                           "Contact: <sip:f@example.com>\r\n");
    static const int64_t exp[] = {3600, 4294967295LL, -1, -1, -1, -1};
    static const int q[] = {700, 1000, 0, 1, 1000, -1};
    for (size_t i = 0; i < 6; i++) {
        const sipsess_hdr *c = nth(m, SIPSESS_HDR_CONTACT, i);
        cr_expect_eq(sipsess_contact_expires(c), exp[i], "Contact %zu expires", i);
        cr_expect_eq(sipsess_contact_q(c), q[i], "Contact %zu q: %d", i, sipsess_contact_q(c));
    }
    sipsess_msg_free(m);

    static const struct {
        const char *line;
        int err;
    } bad[] = {
        {"Contact: <sip:a@h>;q=1.5\r\n", SIPSESS_EHEADER},
        {"Contact: <sip:a@h>;q=2\r\n", SIPSESS_EHEADER},
        {"Contact: <sip:a@h>;q=0.1234\r\n", SIPSESS_EHEADER},
        {"Contact: <sip:a@h>;q=.5\r\n", SIPSESS_EHEADER},
        {"Contact: <sip:a@h>;q=1.001\r\n", SIPSESS_EHEADER},
        {"Contact: <sip:a@h>;expires=4294967296\r\n", SIPSESS_ERANGE},
        {"Contact: <sip:a@h>;expires=99999999999999999999999\r\n", SIPSESS_ERANGE},
        {"Contact: <sip:a@h>;expires=soon\r\n", SIPSESS_EHEADER},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        cr_expect_eq(fails(0, bad[i].line, NULL, NULL), bad[i].err, "%s: %s", bad[i].line,
                     sipsess_errname(fails(0, bad[i].line, NULL, NULL)));
}

Test(headers, contact_several_values)
{
    sipsess_msg *m = ok(0, "Contact: <sip:a@h1.example.com>, <sip:b@h2.example.com>;q=0.1\r\n"
                           "m: sip:c@h3.example.com;expires=5\r\n");
    cr_assert_eq(sipsess_msg_hdr_num(m, SIPSESS_HDR_CONTACT), 3);
    EXPECT_STR(sipsess_uri_host(sipsess_nameaddr_uri(nth(m, SIPSESS_HDR_CONTACT, 0))), "h1.example.com");
    cr_expect_eq(sipsess_contact_q(nth(m, SIPSESS_HDR_CONTACT, 1)), 100);
    cr_expect_eq(sipsess_contact_expires(nth(m, SIPSESS_HDR_CONTACT, 2)), 5);
    EXPECT_STR(sipsess_hdr_value(nth(m, SIPSESS_HDR_CONTACT, 1)), "<sip:b@h2.example.com>;q=0.1");
    sipsess_msg_free(m);
}

Test(headers, contact_commas_inside_quotes_and_brackets)
{
    sipsess_msg *m = ok(0, "Contact: \"Doe, John\" <sip:j@h.example.com>, \"a,\\\"b\" <sip:k@h.example.com>,"
                           " <sip:x,y@h.example.com;p=1>\r\n");
    cr_assert_eq(sipsess_msg_hdr_num(m, SIPSESS_HDR_CONTACT), 3);
    EXPECT_STR(sipsess_nameaddr_display(nth(m, SIPSESS_HDR_CONTACT, 0)), "Doe, John");
    EXPECT_STR(sipsess_nameaddr_display(nth(m, SIPSESS_HDR_CONTACT, 1)), "a,\\\"b");
    const sipsess_uri *u = sipsess_nameaddr_uri(nth(m, SIPSESS_HDR_CONTACT, 2));
    EXPECT_STR(sipsess_uri_user(u), "x,y");
    cr_expect(sipsess_uri_param(u, "p", NULL));
    sipsess_msg_free(m);

    /* A comma in a bare addr-spec would split it, so §20 requires <>. */
    cr_expect_eq(fails(0, "Contact: <sip:a@h>,\r\n", NULL, NULL), SIPSESS_EHEADER);
    cr_expect_eq(fails(0, "Contact: <sip:a@h>,,<sip:b@h>\r\n", NULL, NULL), SIPSESS_EHEADER);
}

/* ================================================================== */
/* Call-ID, CSeq, Max-Forwards                                          */

Test(headers, call_id)
{
    sipsess_msg *m = ok(B_CALLID, "i:   f81d4fae-7dec-11d0-a765-00a0c91e6bf6@foo.bar.com  \r\n");
    const sipsess_hdr *h = one(m, SIPSESS_HDR_CALL_ID);
    EXPECT_STR(sipsess_hdr_value(h), "f81d4fae-7dec-11d0-a765-00a0c91e6bf6@foo.bar.com");
    EXPECT_STR(sipsess_hdr_token(h), "f81d4fae-7dec-11d0-a765-00a0c91e6bf6@foo.bar.com");
    sipsess_msg_free(m);

    m = ok(B_CALLID, "Call-ID: no-at-sign\r\n");
    EXPECT_STR(sipsess_hdr_value(one(m, SIPSESS_HDR_CALL_ID)), "no-at-sign");
    sipsess_msg_free(m);

    static const char *const bad[] = {"Call-ID: two words\r\n", "Call-ID:\r\n", "Call-ID: abc@\r\n",
                                      "Call-ID: @abc\r\n", "Call-ID: a@b@c\r\n"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        cr_expect_eq(fails(B_CALLID, bad[i], NULL, NULL), SIPSESS_EHEADER, "%s", bad[i]);
}

Test(headers, cseq)
{
    sipsess_msg *m = ok(B_CSEQ, "CSeq: 4294967295 OPTIONS\r\n");
    const sipsess_hdr *h = one(m, SIPSESS_HDR_CSEQ);
    cr_expect_eq(sipsess_cseq_number(h), 4294967295u);
    cr_expect_eq(sipsess_cseq_method(h), SIPSESS_METHOD_OPTIONS);
    EXPECT_STR(sipsess_cseq_method_name(h), "OPTIONS");
    sipsess_msg_free(m);

    m = ok(B_CSEQ, "CSeq:   000042\r\n   OPTIONS  \r\n");
    cr_expect_eq(sipsess_cseq_number(one(m, SIPSESS_HDR_CSEQ)), 42, "leading zeros and a fold");
    sipsess_msg_free(m);

    m = ok(B_CSEQ, "CSeq: 0 OPTIONS\r\n");
    cr_expect_eq(sipsess_cseq_number(one(m, SIPSESS_HDR_CSEQ)), 0);
    sipsess_msg_free(m);

    static const char *const bad[] = {
        "CSeq: 4294967296 OPTIONS\r\n",              /* 2^32 */
        "CSeq: 18446744073709551617 OPTIONS\r\n",    /* wraps a 64-bit counter */
        "CSeq: OPTIONS\r\n",
        "CSeq: 1\r\n",
        "CSeq: 1OPTIONS\r\n",
        "CSeq: -1 OPTIONS\r\n",
        "CSeq: 1 OPTIONS extra\r\n",
        "CSeq: 1 INVITE\r\n",                         /* not the request's method */
        "CSeq: 1 options\r\n",                        /* methods are case-sensitive */
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        cr_expect_eq(fails(B_CSEQ, bad[i], NULL, NULL), SIPSESS_ECSEQ, "%s", bad[i]);
}

Test(headers, cseq_of_an_extension_method)
{
    sipsess_msg *m = NULL;
    cr_assert_eq(parse_text("FOO sip:b@example.com SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\n"
                            "From: <sip:a@h>;tag=1\r\nTo: <sip:b@h>\r\nCall-ID: x\r\nCSeq: 7 FOO\r\n\r\n",
                            NULL, &m, NULL),
                 0);
    cr_expect_eq(sipsess_msg_method(m), SIPSESS_METHOD_OTHER);
    EXPECT_STR(sipsess_msg_method_name(m), "FOO");
    cr_expect_eq(sipsess_cseq_method(one(m, SIPSESS_HDR_CSEQ)), SIPSESS_METHOD_OTHER);
    EXPECT_STR(sipsess_cseq_method_name(one(m, SIPSESS_HDR_CSEQ)), "FOO");
    sipsess_msg_free(m);
}

Test(headers, max_forwards)
{
    static const struct {
        const char *line;
        int64_t v;
    } good[] = {{"Max-Forwards: 0\r\n", 0}, {"Max-Forwards: 255\r\n", 255}, {"Max-Forwards: 0070\r\n", 70}};
    for (size_t i = 0; i < 3; i++) {
        sipsess_msg *m = ok(B_MF, good[i].line);
        cr_expect_eq(sipsess_hdr_number(one(m, SIPSESS_HDR_MAX_FORWARDS)), good[i].v, "%s", good[i].line);
        sipsess_msg_free(m);
    }
    static const struct {
        const char *line;
        int err;
    } bad[] = {
        {"Max-Forwards: 256\r\n", SIPSESS_ERANGE},
        {"Max-Forwards: 300\r\n", SIPSESS_ERANGE},
        {"Max-Forwards: 99999999999999999999999\r\n", SIPSESS_ERANGE},
        {"Max-Forwards: -1\r\n", SIPSESS_EHEADER},
        {"Max-Forwards: ten\r\n", SIPSESS_EHEADER},
        {"Max-Forwards: 70 hops\r\n", SIPSESS_EHEADER},
        {"Max-Forwards:\r\n", SIPSESS_EHEADER},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        int e = fails(B_MF, bad[i].line, NULL, NULL);
        cr_expect_eq(e, bad[i].err, "%s: %s", bad[i].line, sipsess_errname(e));
    }
}

/* ================================================================== */
/* Content-Length, Content-Type, Content-Disposition                    */

Test(headers, content_length)
{
    struct text t = compose(0, "Content-Length: 5\r\n", "hello, and bytes after the body");
    sipsess_msg *m = NULL;
    cr_assert_eq(sipsess_msg_parse(t.p, t.len, NULL, &m, NULL), 0);
    cr_expect(s_is(sipsess_msg_body(m), "hello"), "body by Content-Length, the rest ignored");
    cr_expect_eq(sipsess_hdr_number(one(m, SIPSESS_HDR_CONTENT_LENGTH)), 5);
    sipsess_str raw = sipsess_msg_raw(m);
    cr_expect_eq(raw.len, t.len - strlen(", and bytes after the body"));
    sipsess_msg_free(m);
    free(t.p);

    /* No Content-Length on a datagram: the rest is the body (§18.3). */
    t = compose(0, "", "v=0\r\n");
    cr_assert_eq(sipsess_msg_parse(t.p, t.len, NULL, &m, NULL), 0);
    cr_expect(s_is(sipsess_msg_body(m), "v=0\r\n"));
    sipsess_msg_free(m);
    free(t.p);

    /* Two equal lengths are harmless; two different ones are not. */
    t = compose(0, "l: 2\r\nContent-Length: 2\r\n", "ok");
    cr_expect_eq(sipsess_msg_parse(t.p, t.len, NULL, &m, NULL), 0);
    sipsess_msg_free(m);
    free(t.p);

    static const struct {
        const char *hdrs, *body;
    } bad[] = {
        {"Content-Length: 6\r\n", "short"},
        {"Content-Length: -1\r\n", ""},
        {"Content-Length: five\r\n", ""},
        {"Content-Length: 4294967296\r\n", ""},
        {"Content-Length: 99999999999999999999999\r\n", ""},
        {"Content-Length: 1 2\r\n", "ab"},
        {"Content-Length:\r\n", ""},
        {"Content-Length: 2\r\nl: 3\r\n", "abc"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        t = compose(0, bad[i].hdrs, bad[i].body);
        m = NULL;
        int e = sipsess_msg_parse(t.p, t.len, NULL, &m, NULL);
        cr_expect_eq(e, SIPSESS_ECLEN, "%s: %s", bad[i].hdrs, sipsess_errname(e));
        sipsess_msg_free(m);
        free(t.p);
    }
}

Test(headers, content_length_too_large_lenient)
{
    struct text t = compose(0, "Content-Length: 10\r\n", "abc");
    sipsess_parse_opts lo = lenient_opts();
    sipsess_msg *m = NULL;
    cr_assert_eq(sipsess_msg_parse(t.p, t.len, &lo, &m, NULL), 0);
    size_t off = 0;
    cr_expect_eq(sipsess_msg_error(m, &off), SIPSESS_ECLEN);
    cr_expect_eq(off, t.len, "reported where the body runs out");
    cr_expect(s_is(sipsess_msg_body(m), "abc"), "the bytes present are the body");
    sipsess_msg_free(m);
    free(t.p);
}

Test(headers, content_type_with_params)
{
    sipsess_msg *m = ok(0, "Content-Type: multipart/mixed ; boundary=\"a b;c\" ; charset=UTF-8\r\n");
    const sipsess_hdr *h = one(m, SIPSESS_HDR_CONTENT_TYPE);
    EXPECT_STR(sipsess_mtype_type(h), "multipart");
    EXPECT_STR(sipsess_mtype_subtype(h), "mixed");
    sipsess_str v = {NULL, 0};
    cr_expect(sipsess_hdr_param(h, "boundary", &v) && s_is(v, "a b;c"), "quoted value without quotes");
    cr_expect(sipsess_hdr_param(h, "CHARSET", &v) && s_is(v, "UTF-8"));
    sipsess_msg_free(m);

    m = ok(0, "c: application/sdp\r\n");
    EXPECT_STR(sipsess_mtype_subtype(one(m, SIPSESS_HDR_CONTENT_TYPE)), "sdp");
    sipsess_msg_free(m);

    static const char *const bad[] = {"Content-Type: application\r\n", "Content-Type: application/\r\n",
                                      "Content-Type: /sdp\r\n", "Content-Type:\r\n",
                                      "Content-Type: text/plain;\r\n"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        cr_expect_eq(fails(0, bad[i], NULL, NULL), SIPSESS_EHEADER, "%s", bad[i]);
}

Test(headers, content_disposition)
{
    sipsess_msg *m = ok(0, "Content-Disposition: session;handling=optional\r\n");
    const sipsess_hdr *h = one(m, SIPSESS_HDR_CONTENT_DISPOSITION);
    EXPECT_STR(sipsess_hdr_token(h), "session");
    sipsess_str v;
    cr_expect(sipsess_hdr_param(h, "handling", &v) && s_is(v, "optional"));
    sipsess_msg_free(m);
    cr_expect_eq(fails(0, "Content-Disposition:\r\n", NULL, NULL), SIPSESS_EHEADER);
}

/* ================================================================== */
/* Option tags, methods, media ranges                                  */

static void expect_tokens(const sipsess_msg *m, sipsess_hdr_id id, const char *const *want, size_t n)
{
    cr_expect_eq(sipsess_msg_hdr_num(m, id), n, "%s: %zu values", sipsess_hdr_id_str(id),
                 sipsess_msg_hdr_num(m, id));
    for (size_t i = 0; i < n; i++) {
        const sipsess_hdr *h = sipsess_msg_hdr(m, id, i);
        cr_expect(h && s_is(sipsess_hdr_token(h), want[i]), "%s value %zu: want %s", sipsess_hdr_id_str(id), i,
                  want[i]);
    }
}

Test(headers, option_tag_and_method_lists)
{
    sipsess_msg *m = ok(0, "Require: 100rel, timer\r\n"
                           "Proxy-Require: sec-agree\r\n"
                           "Supported: replaces,norefersub\r\nk: path\r\n"
                           "Unsupported: foo\r\n"
                           "Allow: INVITE, ACK, CANCEL,\r\n BYE\r\n");
    expect_tokens(m, SIPSESS_HDR_REQUIRE, (const char *[]){"100rel", "timer"}, 2);
    expect_tokens(m, SIPSESS_HDR_PROXY_REQUIRE, (const char *[]){"sec-agree"}, 1);
    expect_tokens(m, SIPSESS_HDR_SUPPORTED, (const char *[]){"replaces", "norefersub", "path"}, 3);
    expect_tokens(m, SIPSESS_HDR_UNSUPPORTED, (const char *[]){"foo"}, 1);
    expect_tokens(m, SIPSESS_HDR_ALLOW, (const char *[]){"INVITE", "ACK", "CANCEL", "BYE"}, 4);
    sipsess_msg_free(m);
}

/* Supported, Allow, Accept, Accept-Encoding, Accept-Language and
 * Recv-Info may be empty (RFC 3261 §25.1 "[ ... ]", RFC 6086); Require,
 * Proxy-Require, Unsupported and Allow-Events may not. */
Test(headers, empty_lists_where_the_grammar_allows)
{
    static const char *const may[] = {"Supported:\r\n", "Allow: \r\n", "Accept:\r\n",
                                      "Accept-Encoding:\r\n", "Accept-Language:\r\n", "Recv-Info:\r\n"};
    for (size_t i = 0; i < sizeof may / sizeof may[0]; i++) {
        sipsess_msg *m = ok(0, may[i]);
        const sipsess_hdr *h = sipsess_msg_hdr_by_name(m, (const char *[]){"Supported", "Allow", "Accept",
                                                                           "Accept-Encoding", "Accept-Language",
                                                                           "Recv-Info"}[i], 0);
        cr_assert(h, "%s", may[i]);
        cr_expect_eq(sipsess_hdr_value(h).len, 0, "%s", may[i]);
        EXPECT_NONE(sipsess_hdr_token(h));
        cr_expect_not(sipsess_hdr_is_bad(h));
        sipsess_msg_free(m);
    }
    static const char *const mayNot[] = {"Require:\r\n", "Proxy-Require:\r\n", "Unsupported:\r\n",
                                         "Allow-Events:\r\n", "Content-Encoding:\r\n"};
    for (size_t i = 0; i < sizeof mayNot / sizeof mayNot[0]; i++)
        cr_expect_eq(fails(0, mayNot[i], NULL, NULL), SIPSESS_EHEADER, "%s", mayNot[i]);
    cr_expect_eq(fails(0, "Supported: a,,b\r\n", NULL, NULL), SIPSESS_EHEADER);
    cr_expect_eq(fails(0, "Allow: INVITE,\r\n", NULL, NULL), SIPSESS_EHEADER);
}

Test(headers, accept_media_ranges)
{
    sipsess_msg *m = ok(0, "Accept: application/sdp;level=1, */*;q=0.1,text/*\r\n");
    cr_assert_eq(sipsess_msg_hdr_num(m, SIPSESS_HDR_ACCEPT), 3);
    const sipsess_hdr *a = nth(m, SIPSESS_HDR_ACCEPT, 0);
    EXPECT_STR(sipsess_mtype_type(a), "application");
    EXPECT_STR(sipsess_mtype_subtype(a), "sdp");
    sipsess_str v;
    cr_expect(sipsess_hdr_param(a, "level", &v) && s_is(v, "1"));
    a = nth(m, SIPSESS_HDR_ACCEPT, 1);
    EXPECT_STR(sipsess_mtype_type(a), "*");
    EXPECT_STR(sipsess_mtype_subtype(a), "*");
    cr_expect(sipsess_hdr_param(a, "q", &v) && s_is(v, "0.1"));
    EXPECT_STR(sipsess_mtype_subtype(nth(m, SIPSESS_HDR_ACCEPT, 2)), "*");
    sipsess_msg_free(m);
}

/* ================================================================== */
/* Expires, Min-Expires, RSeq, RAck                                     */

Test(headers, expires_and_min_expires)
{
    sipsess_msg *m = ok(0, "Expires: 3600\r\nMin-Expires: 4294967295\r\n");
    cr_expect_eq(sipsess_hdr_number(one(m, SIPSESS_HDR_EXPIRES)), 3600);
    cr_expect_eq(sipsess_hdr_number(one(m, SIPSESS_HDR_MIN_EXPIRES)), 4294967295LL);
    sipsess_msg_free(m);
    static const struct {
        const char *line;
        int err;
    } bad[] = {
        {"Expires: 4294967296\r\n", SIPSESS_ERANGE},
        {"Expires: 99999999999999999999999999999\r\n", SIPSESS_ERANGE},
        {"Min-Expires: 4294967296\r\n", SIPSESS_ERANGE},
        {"Expires: Thu, 01 Dec 1994 16:00:00 GMT\r\n", SIPSESS_EHEADER},
        {"Expires: 10 s\r\n", SIPSESS_EHEADER},
        {"Expires:\r\n", SIPSESS_EHEADER},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        int e = fails(0, bad[i].line, NULL, NULL);
        cr_expect_eq(e, bad[i].err, "%s: %s", bad[i].line, sipsess_errname(e));
    }
}

Test(headers, rseq_and_rack)
{
    sipsess_msg *m = ok(0, "RSeq: 988789\r\nRAck: 776656 1 INVITE\r\n");
    cr_expect_eq(sipsess_hdr_number(one(m, SIPSESS_HDR_RSEQ)), 988789);
    const sipsess_hdr *r = one(m, SIPSESS_HDR_RACK);
    cr_expect_eq(sipsess_rack_rseq(r), 776656);
    cr_expect_eq(sipsess_rack_cseq(r), 1);
    cr_expect_eq(sipsess_rack_method(r), SIPSESS_METHOD_INVITE);
    sipsess_msg_free(m);

    m = ok(0, "RAck: 4294967295 4294967295 FOO\r\n");
    r = one(m, SIPSESS_HDR_RACK);
    cr_expect_eq(sipsess_rack_rseq(r), 4294967295u);
    cr_expect_eq(sipsess_rack_method(r), SIPSESS_METHOD_OTHER);
    sipsess_msg_free(m);

    static const char *const bad[] = {"RAck: 1 INVITE\r\n", "RAck: 1 2\r\n", "RAck: 4294967296 1 INVITE\r\n",
                                      "RAck: x 1 INVITE\r\n", "RSeq: x\r\n"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        cr_expect_neq(fails(0, bad[i], NULL, NULL), SIPSESS_OK, "%s", bad[i]);
}

/* ================================================================== */
/* Events (RFC 6665), REFER (RFC 3515, 3892, 3891)                       */

Test(headers, event_allow_events_subscription_state)
{
    sipsess_msg *m = ok(0, "Event: presence.winfo;id=93809824\r\n"
                           "Allow-Events: presence, dialog\r\nu: talk\r\n"
                           "Subscription-State: terminated;reason=timeout;retry-after=20\r\n");
    const sipsess_hdr *e = one(m, SIPSESS_HDR_EVENT);
    EXPECT_STR(sipsess_hdr_token(e), "presence.winfo");
    sipsess_str v;
    cr_expect(sipsess_hdr_param(e, "id", &v) && s_is(v, "93809824"));
    expect_tokens(m, SIPSESS_HDR_ALLOW_EVENTS, (const char *[]){"presence", "dialog", "talk"}, 3);
    const sipsess_hdr *s = one(m, SIPSESS_HDR_SUBSCRIPTION_STATE);
    EXPECT_STR(sipsess_hdr_token(s), "terminated");
    cr_expect(sipsess_hdr_param(s, "reason", &v) && s_is(v, "timeout"));
    cr_expect(sipsess_hdr_param(s, "retry-after", &v) && s_is(v, "20"));
    sipsess_msg_free(m);

    m = ok(0, "o: refer\r\nSubscription-State: active;expires=60\r\n");
    EXPECT_STR(sipsess_hdr_token(one(m, SIPSESS_HDR_EVENT)), "refer");
    cr_expect(sipsess_hdr_param(one(m, SIPSESS_HDR_SUBSCRIPTION_STATE), "expires", &v) && s_is(v, "60"));
    sipsess_msg_free(m);

    cr_expect_eq(fails(0, "Event:\r\n", NULL, NULL), SIPSESS_EHEADER);
    cr_expect_eq(fails(0, "Event: a\r\nEvent: b\r\n", NULL, NULL), SIPSESS_EDUPLICATE);
}

Test(headers, refer_to_referred_by_replaces)
{
    sipsess_msg *m = ok(0, "Refer-To: <sip:carol@example.com?Replaces=12345%40h%3Bto-tag%3D1%3Bfrom-tag%3D2>\r\n"
                           "Referred-By: \"Alice\" <sip:alice@example.com>;cid=\"20398823.2UWQFN309shb3@referrer.example\"\r\n"
                           "Replaces: 98732@sip.example.com;from-tag=r33th4x0r;to-tag=ff87ff;early-only\r\n");
    const sipsess_uri *u = sipsess_nameaddr_uri(one(m, SIPSESS_HDR_REFER_TO));
    sipsess_str v;
    cr_expect(sipsess_uri_header(u, "Replaces", &v) && s_is(v, "12345%40h%3Bto-tag%3D1%3Bfrom-tag%3D2"));
    const sipsess_hdr *rb = one(m, SIPSESS_HDR_REFERRED_BY);
    EXPECT_STR(sipsess_nameaddr_display(rb), "Alice");
    cr_expect(sipsess_hdr_param(rb, "cid", &v) && s_is(v, "20398823.2UWQFN309shb3@referrer.example"));
    const sipsess_hdr *rp = one(m, SIPSESS_HDR_REPLACES);
    EXPECT_STR(sipsess_hdr_token(rp), "98732@sip.example.com");
    cr_expect(sipsess_hdr_param(rp, "from-tag", &v) && s_is(v, "r33th4x0r"));
    cr_expect(sipsess_hdr_param(rp, "to-tag", &v) && s_is(v, "ff87ff"));
    cr_expect(sipsess_hdr_param(rp, "early-only", &v) && v.p == NULL);
    sipsess_msg_free(m);

    m = ok(0, "r: sip:carol@example.com\r\nb: <sip:alice@example.com>\r\n");
    EXPECT_STR(sipsess_uri_user(sipsess_nameaddr_uri(one(m, SIPSESS_HDR_REFER_TO))), "carol");
    EXPECT_STR(sipsess_uri_user(sipsess_nameaddr_uri(one(m, SIPSESS_HDR_REFERRED_BY))), "alice");
    sipsess_msg_free(m);

    cr_expect_eq(fails(0, "Replaces:\r\n", NULL, NULL), SIPSESS_EHEADER);
    cr_expect_eq(fails(0, "Refer-To: <sip:a@h>\r\nRefer-To: <sip:b@h>\r\n", NULL, NULL), SIPSESS_EDUPLICATE);
}

/* ================================================================== */
/* Authentication (RFC 3261 §20.7, §20.27, §20.28, §20.44; RFC 7616)    */

Test(headers, digest_credentials)
{
    sipsess_msg *m = ok(0, "Authorization: Digest username=\"bob\", realm=\"biloxi.com\",\r\n"
                           "  nonce=\"dcd98b7102dd2f0e8b11d0f600bfb0c093\", uri=\"sip:bob@biloxi.com\",\r\n"
                           "  qop=auth, nc=00000001, cnonce=\"0a4f113b\",\r\n"
                           "  response=\"6629fae49393a05397450978507c4ef1\", opaque = \"5ccc069c403ebaf9f0171e9517f40e41\","
                           " algorithm=MD5\r\n");
    const sipsess_hdr *a = one(m, SIPSESS_HDR_AUTHORIZATION);
    EXPECT_STR(sipsess_auth_scheme(a), "Digest");
    EXPECT_STR(sipsess_hdr_token(a), "Digest");
    static const struct {
        const char *name, *value;
    } want[] = {{"username", "bob"}, {"realm", "biloxi.com"}, {"nonce", "dcd98b7102dd2f0e8b11d0f600bfb0c093"},
                {"uri", "sip:bob@biloxi.com"}, {"qop", "auth"}, {"nc", "00000001"}, {"cnonce", "0a4f113b"},
                {"response", "6629fae49393a05397450978507c4ef1"}, {"opaque", "5ccc069c403ebaf9f0171e9517f40e41"},
                {"ALGORITHM", "MD5"}};
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
        sipsess_str v = {NULL, 0};
        cr_expect(sipsess_auth_param(a, want[i].name, &v) && s_is(v, want[i].value), "%s: got '%.*s'",
                  want[i].name, PS(v));
    }
    cr_expect_not(sipsess_auth_param(a, "stale", NULL));
    cr_expect_not(sipsess_hdr_param(a, "realm", NULL), "auth params are not ';' parameters");
    sipsess_msg_free(m);
}

Test(headers, digest_challenges_and_info)
{
    sipsess_msg *m = ok(0, "WWW-Authenticate: Digest realm=\"a, \\\"b\\\"\", qop=\"auth,auth-int\", "
                           "nonce=\"n1\", stale=FALSE, algorithm=SHA-256\r\n"
                           "WWW-Authenticate: Digest realm=\"second\", nonce=\"n2\"\r\n"
                           "Proxy-Authenticate: Digest realm=\"proxy\", nonce=\"n3\"\r\n"
                           "Proxy-Authorization: Digest username=\"u\", realm=\"proxy\", nonce=\"n3\", "
                           "uri=\"sip:b@h\", response=\"r\"\r\n"
                           "Authentication-Info: nextnonce=\"47364c23432d2e131a5fb210812c\", qop=auth\r\n");
    cr_assert_eq(sipsess_msg_hdr_num(m, SIPSESS_HDR_WWW_AUTHENTICATE), 2, "challenges are not split at commas");
    const sipsess_hdr *w = nth(m, SIPSESS_HDR_WWW_AUTHENTICATE, 0);
    sipsess_str v = {NULL, 0};
    cr_expect(sipsess_auth_param(w, "realm", &v) && s_is(v, "a, \\\"b\\\""), "quoted-pairs as written: '%.*s'",
              PS(v));
    cr_expect(sipsess_auth_param(w, "qop", &v) && s_is(v, "auth,auth-int"));
    cr_expect(sipsess_auth_param(w, "stale", &v) && s_is(v, "FALSE"));
    cr_expect(sipsess_auth_param(w, "nonce", &v) && s_is(v, "n1"));
    cr_expect(sipsess_auth_param(w, "algorithm", &v) && s_is(v, "SHA-256"));
    cr_expect(sipsess_auth_param(nth(m, SIPSESS_HDR_WWW_AUTHENTICATE, 1), "realm", &v) && s_is(v, "second"));
    cr_expect(sipsess_auth_param(one(m, SIPSESS_HDR_PROXY_AUTHENTICATE), "realm", &v) && s_is(v, "proxy"));
    const sipsess_hdr *pa = one(m, SIPSESS_HDR_PROXY_AUTHORIZATION);
    EXPECT_STR(sipsess_auth_scheme(pa), "Digest");
    cr_expect(sipsess_auth_param(pa, "response", &v) && s_is(v, "r"));
    const sipsess_hdr *ai = one(m, SIPSESS_HDR_AUTHENTICATION_INFO);
    EXPECT_NONE(sipsess_auth_scheme(ai));
    cr_expect(sipsess_auth_param(ai, "nextnonce", &v) && s_is(v, "47364c23432d2e131a5fb210812c"));
    cr_expect(sipsess_auth_param(ai, "qop", &v) && s_is(v, "auth"));
    sipsess_msg_free(m);

    static const char *const bad[] = {"Authorization: Digest realm\r\n", "Authorization: Digest realm=\"x\" nonce=\"y\"\r\n",
                                      "Authorization: Digest realm=\"open\r\n", "Authorization:\r\n",
                                      "WWW-Authenticate: Digest realm=\"x\",\r\n"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        cr_expect_eq(fails(0, bad[i], NULL, NULL), SIPSESS_EHEADER, "%s", bad[i]);
}

/* ================================================================== */
/* Session timers, Reason, Retry-After, Timestamp, INFO packages        */

Test(headers, session_expires_and_min_se)
{
    sipsess_msg *m = ok(0, "Session-Expires: 1800;refresher=uas\r\nMin-SE: 90;x=y\r\n");
    const sipsess_hdr *se = one(m, SIPSESS_HDR_SESSION_EXPIRES);
    cr_expect_eq(sipsess_hdr_number(se), 1800);
    sipsess_str v;
    cr_expect(sipsess_hdr_param(se, "refresher", &v) && s_is(v, "uas"));
    cr_expect_eq(sipsess_hdr_number(one(m, SIPSESS_HDR_MIN_SE)), 90);
    sipsess_msg_free(m);

    m = ok(0, "x: 90\r\n");
    se = one(m, SIPSESS_HDR_SESSION_EXPIRES);
    cr_expect_eq(sipsess_hdr_number(se), 90);
    cr_expect_not(sipsess_hdr_param(se, "refresher", NULL));
    sipsess_msg_free(m);

    cr_expect_eq(fails(0, "Session-Expires: soon\r\n", NULL, NULL), SIPSESS_EHEADER);
    cr_expect_eq(fails(0, "Session-Expires: 1800 refresher=uac\r\n", NULL, NULL), SIPSESS_EHEADER);
}

Test(headers, reason)
{
    sipsess_msg *m = ok(0, "Reason: SIP ;cause=200 ;text=\"Call completed, elsewhere\", Q.850;cause=16\r\n");
    cr_assert_eq(sipsess_msg_hdr_num(m, SIPSESS_HDR_REASON), 2);
    const sipsess_hdr *r = nth(m, SIPSESS_HDR_REASON, 0);
    EXPECT_STR(sipsess_hdr_token(r), "SIP");
    sipsess_str v;
    cr_expect(sipsess_hdr_param(r, "cause", &v) && s_is(v, "200"));
    cr_expect(sipsess_hdr_param(r, "text", &v) && s_is(v, "Call completed, elsewhere"));
    r = nth(m, SIPSESS_HDR_REASON, 1);
    EXPECT_STR(sipsess_hdr_token(r), "Q.850");
    cr_expect(sipsess_hdr_param(r, "cause", &v) && s_is(v, "16"));
    sipsess_msg_free(m);
}

Test(headers, retry_after)
{
    sipsess_msg *m = ok(0, "Retry-After: 18000;duration=3600\r\n");
    const sipsess_hdr *h = one(m, SIPSESS_HDR_RETRY_AFTER);
    cr_expect_eq(sipsess_hdr_number(h), 18000);
    sipsess_str v;
    cr_expect(sipsess_hdr_param(h, "duration", &v) && s_is(v, "3600"));
    EXPECT_NONE(sipsess_retry_after_comment(h));
    sipsess_msg_free(m);

    m = ok(0, "Retry-After: 120 (I'm in a (long) meeting) ;duration=10\r\n");
    h = one(m, SIPSESS_HDR_RETRY_AFTER);
    cr_expect_eq(sipsess_hdr_number(h), 120);
    EXPECT_STR(sipsess_retry_after_comment(h), "I'm in a (long) meeting");
    cr_expect(sipsess_hdr_param(h, "duration", &v) && s_is(v, "10"));
    sipsess_msg_free(m);

    static const struct {
        const char *line;
        int err;
    } bad[] = {
        {"Retry-After: 4294967296\r\n", SIPSESS_ERANGE},
        {"Retry-After: 949302838503028349304023988\r\n", SIPSESS_ERANGE},
        {"Retry-After: later\r\n", SIPSESS_EHEADER},
        {"Retry-After: 5 (unclosed\r\n", SIPSESS_EHEADER},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        int e = fails(0, bad[i].line, NULL, NULL);
        cr_expect_eq(e, bad[i].err, "%s: %s", bad[i].line, sipsess_errname(e));
    }
}

Test(headers, timestamp)
{
    sipsess_msg *m = ok(0, "Timestamp: 54.21 1.5\r\n");
    const sipsess_hdr *h = one(m, SIPSESS_HDR_TIMESTAMP);
    EXPECT_STR(sipsess_timestamp_value(h), "54.21");
    EXPECT_STR(sipsess_timestamp_delay(h), "1.5");
    sipsess_msg_free(m);

    m = ok(0, "Timestamp: 100\r\n");
    h = one(m, SIPSESS_HDR_TIMESTAMP);
    EXPECT_STR(sipsess_timestamp_value(h), "100");
    EXPECT_NONE(sipsess_timestamp_delay(h));
    sipsess_msg_free(m);

    static const char *const bad[] = {"Timestamp: now\r\n", "Timestamp: 1 2 3\r\n", "Timestamp:\r\n"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        cr_expect_eq(fails(0, bad[i], NULL, NULL), SIPSESS_EHEADER, "%s", bad[i]);
}

Test(headers, recv_info_and_info_package)
{
    sipsess_msg *m = ok(0, "Recv-Info: foo, bar;x=1\r\nInfo-Package: foo;y=2\r\n");
    expect_tokens(m, SIPSESS_HDR_RECV_INFO, (const char *[]){"foo", "bar"}, 2);
    const sipsess_hdr *ip = one(m, SIPSESS_HDR_INFO_PACKAGE);
    EXPECT_STR(sipsess_hdr_token(ip), "foo");
    sipsess_str v;
    cr_expect(sipsess_hdr_param(ip, "y", &v) && s_is(v, "2"));
    sipsess_msg_free(m);
    cr_expect_eq(fails(0, "Info-Package:\r\n", NULL, NULL), SIPSESS_EHEADER);
}

/* ================================================================== */
/* Names: compact forms, case, folding, unknown headers                */

/* RFC 3261 §7.3.3 and the extension RFCs' compact forms, one message
 * written only with them. */
static const struct {
    char letter;
    sipsess_hdr_id id;
    const char *value;
} g_compact[] = {
    {'v', SIPSESS_HDR_VIA, "SIP/2.0/UDP h.example.com;branch=z9hG4bK1"},
    {'f', SIPSESS_HDR_FROM, "<sip:a@example.com>;tag=1"},
    {'t', SIPSESS_HDR_TO, "<sip:b@example.com>"},
    {'i', SIPSESS_HDR_CALL_ID, "compact@h"},
    {'m', SIPSESS_HDR_CONTACT, "<sip:a@h.example.com>"},
    {'e', SIPSESS_HDR_CONTENT_ENCODING, "gzip"},
    {'c', SIPSESS_HDR_CONTENT_TYPE, "text/plain"},
    {'s', SIPSESS_HDR_SUBJECT, "lunch"},
    {'k', SIPSESS_HDR_SUPPORTED, "100rel"},
    {'o', SIPSESS_HDR_EVENT, "presence"},
    {'u', SIPSESS_HDR_ALLOW_EVENTS, "dialog"},
    {'r', SIPSESS_HDR_REFER_TO, "<sip:c@example.com>"},
    {'b', SIPSESS_HDR_REFERRED_BY, "<sip:d@example.com>"},
    {'x', SIPSESS_HDR_SESSION_EXPIRES, "1800"},
    {'y', SIPSESS_HDR_IDENTITY, "ZYNBbHC00VMZr2kZt6VmCvPonWJMGvQTBDqghoWeLxJfzB2a1pxAr3VgrB0SsSAa"},
    {'a', SIPSESS_HDR_ACCEPT_CONTACT, "*;audio"},
    {'j', SIPSESS_HDR_REJECT_CONTACT, "*;video"},
    {'d', SIPSESS_HDR_REQUEST_DISPOSITION, "proxy"},
    {'n', SIPSESS_HDR_IDENTITY_INFO, "<https://h.example.com/cert>;alg=rsa-sha1"},
    {'l', SIPSESS_HDR_CONTENT_LENGTH, "4"},
};
#define N_COMPACT (sizeof g_compact / sizeof g_compact[0])

static void compact_message(bool upper)
{
    char buf[2048];
    size_t n = (size_t)snprintf(buf, sizeof buf, "OPTIONS sip:b@example.com SIP/2.0\r\nCSeq: 1 OPTIONS\r\n");
    for (size_t i = 0; i < N_COMPACT; i++)
        n += (size_t)snprintf(buf + n, sizeof buf - n, "%c: %s\r\n",
                              upper ? g_compact[i].letter - 32 : g_compact[i].letter, g_compact[i].value);
    n += (size_t)snprintf(buf + n, sizeof buf - n, "\r\nbody");
    sipsess_msg *m = NULL;
    size_t off = 0;
    int e = parse_text(buf, NULL, &m, &off);
    cr_assert_eq(e, 0, "%s at %zu", sipsess_errname(e), off);
    cr_assert_eq(sipsess_msg_hdr_count(m), N_COMPACT + 1);
    for (size_t i = 0; i < N_COMPACT; i++) {
        const sipsess_hdr *h = sipsess_msg_hdr_at(m, i + 1);
        cr_expect_eq(sipsess_hdr_get_id(h), g_compact[i].id, "%c is %s", g_compact[i].letter,
                     sipsess_hdr_id_str(g_compact[i].id));
        cr_expect_not(sipsess_hdr_is_bad(h), "%c", g_compact[i].letter);
        cr_expect_eq(sipsess_hdr_name(h).len, 1, "the name is kept as written");
        cr_expect(s_is(sipsess_hdr_value(h), g_compact[i].value));
        char name[2] = {g_compact[i].letter, 0};
        cr_expect_eq(sipsess_msg_hdr_by_name(m, name, 0), h, "by compact name %s", name);
        cr_expect_eq(sipsess_msg_hdr_by_name(m, sipsess_hdr_id_str(g_compact[i].id), 0), h, "by long name");
        cr_expect_eq(sipsess_hdr_id_from(name, 1), g_compact[i].id);
    }
    cr_expect(s_is(sipsess_msg_body(m), "body"));
    cr_expect_eq(sipsess_contact_q(one(m, SIPSESS_HDR_CONTACT)), -1);
    cr_expect_eq(sipsess_hdr_number(one(m, SIPSESS_HDR_SESSION_EXPIRES)), 1800);
    EXPECT_STR(sipsess_hdr_token(one(m, SIPSESS_HDR_ACCEPT_CONTACT)), "*");
    sipsess_msg_free(m);
}

Test(headers, every_compact_form)
{
    compact_message(false);
}

Test(headers, every_compact_form_upper_case)
{
    compact_message(true);
}

Test(headers, names_are_case_insensitive)
{
    sipsess_msg *m = NULL;
    cr_assert_eq(parse_text("OPTIONS sip:b@example.com SIP/2.0\r\nvIA: SIP/2.0/UDP h;branch=z9hG4bK1\r\n"
                            "FROM: <sip:a@h>;tag=1\r\nto: <sip:b@h>\r\ncall-id: x\r\nCSEQ: 1 OPTIONS\r\n"
                            "mAx-FoRwArDs: 70\r\ncONTENT-lENGTH: 0\r\nX-Custom: 1\r\n\r\n",
                            NULL, &m, NULL),
                 0);
    static const sipsess_hdr_id ids[] = {SIPSESS_HDR_VIA, SIPSESS_HDR_FROM, SIPSESS_HDR_TO, SIPSESS_HDR_CALL_ID,
                                         SIPSESS_HDR_CSEQ, SIPSESS_HDR_MAX_FORWARDS, SIPSESS_HDR_CONTENT_LENGTH,
                                         SIPSESS_HDR_OTHER};
    for (size_t i = 0; i < 8; i++)
        cr_expect_eq(sipsess_hdr_get_id(sipsess_msg_hdr_at(m, i)), ids[i], "header %zu", i);
    EXPECT_STR(sipsess_hdr_name(sipsess_msg_hdr_at(m, 0)), "vIA");
    cr_expect_eq(sipsess_msg_hdr_by_name(m, "CALL-ID", 0), sipsess_msg_hdr_at(m, 3));
    cr_expect_eq(sipsess_msg_hdr_by_name(m, "I", 0), sipsess_msg_hdr_at(m, 3));
    cr_expect_eq(sipsess_msg_hdr_by_name(m, "x-CUSTOM", 0), sipsess_msg_hdr_at(m, 7));
    cr_expect_eq(sipsess_hdr_id_from("WWW-AUTHENTICATE", 16), SIPSESS_HDR_WWW_AUTHENTICATE);
    cr_expect_eq(sipsess_hdr_id_from("p-asserted-identity", 19), SIPSESS_HDR_P_ASSERTED_IDENTITY);
    cr_expect_eq(sipsess_hdr_id_from("Via-", 4), SIPSESS_HDR_OTHER);
    cr_expect_eq(sipsess_hdr_id_from("q", 1), SIPSESS_HDR_OTHER, "q is no compact form");
    sipsess_msg_free(m);
}

Test(headers, line_folding)
{
    sipsess_msg *m = ok(B_VIA | B_CSEQ, "Subject: first\r\n   second\r\n\tthird\r\n"
                                        "Via: SIP/2.0/UDP h.example.com\r\n ;branch=z9hG4bK1\r\n ;rport\r\n"
                                        "CSeq:\r\n 7\r\n OPTIONS\r\n"
                                        "X-Folded: a,\r\n b\r\n");
    const sipsess_hdr *s = one(m, SIPSESS_HDR_SUBJECT);
    EXPECT_STR(sipsess_hdr_value(s), "first\r\n   second\r\n\tthird");
    const sipsess_hdr *v = one(m, SIPSESS_HDR_VIA);
    EXPECT_STR(sipsess_via_branch(v), "z9hG4bK1");
    cr_expect_eq(sipsess_via_rport(v), 0);
    cr_expect_eq(sipsess_cseq_number(one(m, SIPSESS_HDR_CSEQ)), 7);
    const sipsess_hdr *x = sipsess_msg_hdr_by_name(m, "X-Folded", 0);
    cr_assert(x);
    EXPECT_STR(sipsess_hdr_value(x), "a,\r\n b");
    sipsess_msg_free(m);

    /* Bare LF line ends fold the same way. */
    cr_assert_eq(parse_text("OPTIONS sip:b@h SIP/2.0\nVia: SIP/2.0/UDP h\n ;branch=z9hG4bK1\nFrom: <sip:a@h>;tag=1\n"
                            "To: <sip:b@h>\nCall-ID: x\nCSeq: 1\n\tOPTIONS\n\n",
                            NULL, &m, NULL),
                 0);
    EXPECT_STR(sipsess_via_branch(one(m, SIPSESS_HDR_VIA)), "z9hG4bK1");
    sipsess_msg_free(m);

    /* A continuation line before any header has nothing to continue. */
    size_t off = 0;
    struct text t = exact_copy("OPTIONS sip:b@h SIP/2.0\r\n Via: x\r\n\r\n", 37);
    cr_expect_eq(sipsess_msg_parse(t.p, t.len, NULL, &m, &off), SIPSESS_EHEADER);
    cr_expect_eq(off, 25);
    free(t.p);
}

Test(headers, unknown_headers_in_order_and_by_name)
{
    sipsess_msg *m = ok(0, "X-A: 1\r\nX-B: two, values ; kept\r\nx-a: 3\r\nP-Weird-Header!: %%;;,,\r\nX-A: \r\n");
    size_t base = 6;
    cr_assert_eq(sipsess_msg_hdr_count(m), base + 5);
    static const char *const names[] = {"X-A", "X-B", "x-a", "P-Weird-Header!", "X-A"};
    static const char *const values[] = {"1", "two, values ; kept", "3", "%%;;,,", ""};
    for (size_t i = 0; i < 5; i++) {
        const sipsess_hdr *h = sipsess_msg_hdr_at(m, base + i);
        cr_expect_eq(sipsess_hdr_get_id(h), SIPSESS_HDR_OTHER);
        EXPECT_STR(sipsess_hdr_name(h), names[i]);
        EXPECT_STR(sipsess_hdr_value(h), values[i]);
    }
    const sipsess_hdr *a0 = sipsess_msg_hdr_by_name(m, "x-A", 0);
    cr_expect_eq(a0, sipsess_msg_hdr_at(m, base));
    cr_expect_eq(sipsess_msg_hdr_by_name(m, "X-A", 1), sipsess_msg_hdr_at(m, base + 2));
    cr_expect_eq(sipsess_msg_hdr_by_name(m, "X-A", 2), sipsess_msg_hdr_at(m, base + 4));
    cr_expect_null(sipsess_msg_hdr_by_name(m, "X-A", 3));
    /* hdr_next skips the other unknown names in between. */
    const sipsess_hdr *a1 = sipsess_hdr_next(m, a0);
    cr_expect_eq(a1, sipsess_msg_hdr_at(m, base + 2));
    cr_expect_eq(sipsess_hdr_next(m, a1), sipsess_msg_hdr_at(m, base + 4));
    cr_expect_null(sipsess_hdr_next(m, sipsess_msg_hdr_at(m, base + 4)));
    cr_expect_null(sipsess_hdr_next(m, sipsess_msg_hdr_at(m, base + 1)), "X-B has no second value");
    cr_expect_eq(sipsess_msg_hdr_by_name(m, "p-weird-header!", 0), sipsess_msg_hdr_at(m, base + 3));
    cr_expect_null(sipsess_msg_hdr_by_name(m, "X-C", 0));
    cr_expect_null(sipsess_msg_hdr_by_name(m, "", 0));
    cr_expect_null(sipsess_msg_hdr(m, SIPSESS_HDR_OTHER, 0), "unknown headers are reached by name");
    /* hdr_next on a known header follows its own chain. */
    const sipsess_hdr *via = one(m, SIPSESS_HDR_VIA);
    cr_expect_null(sipsess_hdr_next(m, via));
    sipsess_msg_free(m);
}

Test(headers, malformed_header_lines)
{
    static const char *const bad[] = {"NoColon\r\n", "Bad Name: x\r\n", ": no name\r\n", "X-\x01: x\r\n"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        size_t off = 0;
        struct text t;
        cr_expect_eq(fails(0, bad[i], &off, &t), SIPSESS_EHEADER, "%s", bad[i]);
        size_t line = offset_in(&t, bad[i]);
        cr_expect(off >= line && off < line + strlen(bad[i]), "%s: err_off %zu not on its line (%zu)", bad[i], off,
                  line);
        free(t.p);
    }
}

/* Parse `n` raw bytes (NULs allowed) with `o`; the copy has no byte after
 * them, so an over-read shows under ASan and valgrind. */
static int parse_raw(const char *p, size_t n, const sipsess_parse_opts *o, sipsess_msg **m,
                     size_t *off)
{
    struct text t = exact_copy(p, n);
    int e = sipsess_msg_parse(t.p, t.len, o, m, off);
    free(t.p);
    return e;
}

/* A request whose last header line is `line` (`n` bytes, CRLF included):
 * into `buf`, returning the length and setting *at to the line's offset. */
static size_t with_line(char *buf, size_t cap, const char *line, size_t n, size_t *at)
{
    static const char head[] = "OPTIONS sip:b@h SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\n"
                               "From: <sip:a@h>;tag=1\r\nTo: <sip:b@h>\r\nCall-ID: x\r\n"
                               "CSeq: 1 OPTIONS\r\n";
    size_t h = sizeof head - 1;
    cr_assert(h + n + 2 <= cap);
    memcpy(buf, head, h);
    memcpy(buf + h, line, n);
    memcpy(buf + h + n, "\r\n", 2);
    *at = h;
    return h + n + 2;
}

/* Bare CR and control bytes (RFC 3261 §25.1: TEXT-UTF8 and LWS only, a
 * control byte only as a quoted-pair) are refused wherever they stand in
 * a header field, in strict and in lenient mode, with the offset of the
 * byte itself. */
Test(headers, control_bytes_and_bare_cr_are_refused)
{
    static const struct {
        const char *line;
        size_t len;
        size_t bad_at; /* offset of the offending byte in the line */
    } bad[] = {
#define BAD(lit, at) {lit, sizeof lit - 1, at}
        BAD("Subject: a\rb\r\n", 10),
        BAD("Subject: a\r\r\n", 10),
        BAD("X-Unknown: \r x\r\n", 11),
        BAD("Subject: a\0b\r\n", 10),
        BAD("Subject: \x01\r\n", 9),
        BAD("Subject: a\x08\r\n", 10),
        BAD("Subject: a\x0b\r\n", 10),
        BAD("Subject: a\x0c" "b\r\n", 10),
        BAD("Subject: a\x1f\r\n", 10),
        BAD("Subject: a\x7f\r\n", 10),
        BAD("Call-ID: abc\x1b@h\r\n", 12),
        BAD("X-Quote: \"open\" \\\x01\r\n", 17),
        BAD("X-Quote: \"un\x02" "escaped\"\r\n", 12),
        BAD("Subject: ok\r\n \x05 fold\r\n", 14),
#undef BAD
    };
    sipsess_parse_opts lo = lenient_opts();
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char buf[512];
        size_t at = 0, off = 0;
        /* the table's lengths include the CRLF; with_line adds the empty line */
        size_t n = with_line(buf, sizeof buf, bad[i].line, bad[i].len, &at);
        sipsess_msg *m = NULL;
        cr_expect_eq(parse_raw(buf, n, NULL, &m, &off), SIPSESS_EHEADER, "case %zu", i);
        cr_expect_eq(off, at + bad[i].bad_at, "case %zu: err_off %zu, want %zu", i, off, at + bad[i].bad_at);
        cr_expect_eq(parse_raw(buf, n, &lo, &m, &off), SIPSESS_EHEADER, "case %zu lenient", i);
    }
}

Test(headers, quoted_pair_controls_utf8_and_tabs_are_legal)
{
    /* A control byte escaped by '\' inside a quoted string is a quoted-pair
     * (RFC 4475 intmeth has BEL, NUL and DEL so); HT is white space;
     * UTF-8 is text. */
    static const char to[] = "To: \"BEL:\\\x07 NUL:\\\0 DEL:\\\x7f\" <sip:b@h>";
    static const char *const good[] = {"X-Tab: a\tb", "Subject: Caf\xc3\xa9 \xe2\x82\xac", "X-Q: \"\\\x1f\"",
                                       "Subject: a\r\n\tb"};
    char buf[512];
    size_t at = 0, n;
    sipsess_msg *m = NULL;
    size_t off = 0;
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        n = with_line(buf, sizeof buf, good[i], strlen(good[i]), &at);
        memcpy(buf + n, "\r\n", 2);
        int e = parse_raw(buf, n + 2, NULL, &m, &off);
        cr_expect_eq(e, 0, "case %zu: %s at %zu", i, sipsess_errname(e), off);
        sipsess_msg_free(m);
    }
    /* The To line replaces the base To: build it by hand. */
    static const char head[] = "OPTIONS sip:b@h SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\n"
                               "From: <sip:a@h>;tag=1\r\nCall-ID: x\r\nCSeq: 1 OPTIONS\r\n";
    n = 0;
    memcpy(buf, head, sizeof head - 1);
    n += sizeof head - 1;
    memcpy(buf + n, to, sizeof to - 1);
    n += sizeof to - 1;
    memcpy(buf + n, "\r\n\r\n", 4);
    n += 4;
    int e = parse_raw(buf, n, NULL, &m, &off);
    cr_assert_eq(e, 0, "%s at %zu", sipsess_errname(e), off);
    sipsess_str d = sipsess_nameaddr_display(one(m, SIPSESS_HDR_TO));
    static const char want[] = "BEL:\\\x07 NUL:\\\0 DEL:\\\x7f";
    cr_expect(d.len == sizeof want - 1 && memcmp(d.p, want, d.len) == 0, "display kept as written");
    sipsess_msg_free(m);
}

/* A datagram may end inside the CRLF of its empty line: what is there is
 * still a message without a body, not a bare CR. */
Test(headers, datagram_cut_inside_the_empty_line)
{
    static const char text[] = "OPTIONS sip:b@h SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\n"
                               "From: <sip:a@h>;tag=1\r\nTo: <sip:b@h>\r\nCall-ID: x\r\n"
                               "CSeq: 1 OPTIONS\r\n\r";
    sipsess_msg *m = NULL;
    cr_assert_eq(parse_raw(text, sizeof text - 1, NULL, &m, NULL), 0);
    cr_expect_eq(sipsess_msg_hdr_count(m), 5);
    cr_expect_eq(sipsess_msg_body(m).len, 0);
    sipsess_msg_free(m);
}

/* add_list does not track comments: no list header has one in its RFC
 * 3261 grammar, so a comma inside parentheses splits the value and the
 * pieces fail their typed parse. */
Test(headers, comma_in_a_comment_of_a_list_value)
{
    size_t off = 0;
    struct text t;
    cr_expect_eq(fails(B_VIA, "Via: SIP/2.0/UDP h;branch=z9hG4bK1 (a, b)\r\n", &off, &t), SIPSESS_EHEADER);
    cr_expect_eq(off, offset_in(&t, "SIP/2.0/UDP h"));
    free(t.p);
}

/* ================================================================== */
/* Mandatory and single-valued headers                                 */

Test(headers, mandatory_and_duplicate_headers)
{
    static const unsigned omit[] = {B_VIA, B_FROM, B_TO, B_CALLID, B_CSEQ};
    for (size_t i = 0; i < 5; i++)
        cr_expect_eq(fails(omit[i], "", NULL, NULL), SIPSESS_EMISSING, "without %s", g_base[i]);
    sipsess_msg *m = ok(B_MF, "");
    cr_expect_null(sipsess_msg_hdr(m, SIPSESS_HDR_MAX_FORWARDS, 0), "Max-Forwards is optional (RFC 2543 peers)");
    sipsess_msg_free(m);

    static const char *const twice[] = {"From: <sip:x@h>;tag=2\r\n", "To: <sip:x@h>\r\n", "Call-ID: other\r\n",
                                        "CSeq: 2 OPTIONS\r\n", "Max-Forwards: 1\r\n",
                                        "Content-Type: a/b\r\nc: a/b\r\n"};
    for (size_t i = 0; i < sizeof twice / sizeof twice[0]; i++)
        cr_expect_eq(fails(0, twice[i], NULL, NULL), SIPSESS_EDUPLICATE, "%s", twice[i]);

    /* Lenient: the message comes back with the first error, and both
     * values are there. */
    struct text t = compose(0, "Call-ID: other\r\n", "");
    sipsess_parse_opts lo = lenient_opts();
    cr_assert_eq(sipsess_msg_parse(t.p, t.len, &lo, &m, NULL), 0);
    size_t off = 0;
    cr_expect_eq(sipsess_msg_error(m, &off), SIPSESS_EDUPLICATE);
    cr_expect_eq(off, offset_in(&t, "Call-ID: other"));
    cr_expect_eq(sipsess_msg_hdr_num(m, SIPSESS_HDR_CALL_ID), 2);
    sipsess_msg_free(m);
    free(t.p);
}

Test(headers, lenient_marks_bad_values)
{
    struct text t = compose(B_MF, "Max-Forwards: 999\r\nContact: <sip:a@h>;q=7\r\nContact: <sip:b@h>\r\n", "");
    sipsess_parse_opts lo = lenient_opts();
    sipsess_msg *m = NULL;
    cr_assert_eq(sipsess_msg_parse(t.p, t.len, &lo, &m, NULL), 0);
    size_t off = 0;
    cr_expect_eq(sipsess_msg_error(m, &off), SIPSESS_ERANGE, "the first error is kept");
    cr_expect_eq(off, offset_in(&t, "999"));
    const sipsess_hdr *mf = one(m, SIPSESS_HDR_MAX_FORWARDS);
    cr_expect(sipsess_hdr_is_bad(mf));
    cr_expect_eq(sipsess_hdr_number(mf), -1, "a bad value has no typed reading");
    EXPECT_STR(sipsess_hdr_value(mf), "999");
    const sipsess_hdr *c0 = nth(m, SIPSESS_HDR_CONTACT, 0), *c1 = nth(m, SIPSESS_HDR_CONTACT, 1);
    cr_expect(sipsess_hdr_is_bad(c0));
    cr_expect_null(sipsess_nameaddr_uri(c0));
    cr_expect_eq(sipsess_contact_q(c0), -1);
    cr_expect_not(sipsess_hdr_is_bad(c1));
    EXPECT_STR(sipsess_uri_user(sipsess_nameaddr_uri(c1)), "b");
    sipsess_msg_free(m);
    free(t.p);

    /* A clean message reports no error. */
    m = ok(0, "");
    cr_expect_eq(sipsess_msg_error(m, &off), 0);
    sipsess_msg_free(m);
}

/* ================================================================== */
/* Start lines                                                         */

Test(headers, start_lines)
{
    static const struct {
        const char *text;
        int err;
        size_t off;
    } cases[] = {
        {"OPTIONS sip:b@h SIP/3.0\r\n", SIPSESS_EVERSION, 16},
        {"OPTIONS sip:b@h HTTP/1.1\r\n", SIPSESS_ESTARTLINE, 16},
        {"OPTIONS sip:b@h\r\n", SIPSESS_ESTARTLINE, 7},
        {"OPTIONS  sip:b@h SIP/2.0\r\n", SIPSESS_ESTARTLINE, 8},
        {"OPTIONS sip:b@h SIP/2.0 \r\n", SIPSESS_ESTARTLINE, 23},
        {"OPT<IONS sip:b@h SIP/2.0\r\n", SIPSESS_ESTARTLINE, 3},
        {"OPTIONS sip:b@h SIP/2.0x\r\n", SIPSESS_ESTARTLINE, 16},
        {"SIP/2.0 99 Too Low\r\n", SIPSESS_ESTATUS, 8},
        {"SIP/2.0 700 Too High\r\n", SIPSESS_ESTATUS, 8},
        {"SIP/2.0 2000 Long\r\n", SIPSESS_ESTATUS, 8},
        {"SIP/2.0 20 Short\r\n", SIPSESS_ESTATUS, 8},
        {"SIP/2.0 200 Bad\x01Reason\r\n", SIPSESS_ESTARTLINE, 15},
        {"SIP/2.1 200 OK\r\n", SIPSESS_EVERSION, 0},
    };
    static const char rest[] = "Via: SIP/2.0/UDP h;branch=z9hG4bK1\r\nFrom: <sip:a@h>;tag=1\r\nTo: <sip:b@h>\r\n"
                               "Call-ID: x\r\nCSeq: 1 OPTIONS\r\n\r\n";
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char buf[512];
        snprintf(buf, sizeof buf, "%s%s", cases[i].text, rest);
        sipsess_msg *m = NULL;
        size_t off = (size_t)-1;
        int e = parse_text(buf, NULL, &m, &off);
        cr_expect_eq(e, cases[i].err, "[%.20s]: %s", cases[i].text, sipsess_errname(e));
        cr_expect_eq(off, cases[i].off, "[%.20s]: err_off %zu, expected %zu", cases[i].text, off, cases[i].off);
        sipsess_msg_free(m);
    }

    sipsess_msg *m = NULL;
    char buf[512];
    snprintf(buf, sizeof buf, "SIP/2.0 180 \r\n%s", rest);
    cr_assert_eq(parse_text(buf, NULL, &m, NULL), 0);
    cr_expect_eq(sipsess_msg_status(m), 180);
    cr_expect_eq(sipsess_msg_reason(m).len, 0);
    cr_expect_null(sipsess_msg_ruri(m));
    cr_expect_eq(sipsess_msg_method(m), SIPSESS_METHOD_OTHER);
    EXPECT_NONE(sipsess_msg_method_name(m));
    cr_expect_eq(sipsess_msg_is_request(m), 0);
    sipsess_msg_free(m);

    /* §7.5: CRLFs before the start line are skipped. */
    snprintf(buf, sizeof buf, "\r\n\r\nOPTIONS sip:b@h SIP/2.0\r\n%s", rest);
    cr_assert_eq(parse_text(buf, NULL, &m, NULL), 0);
    cr_expect_eq(sipsess_msg_method(m), SIPSESS_METHOD_OPTIONS);
    cr_expect_eq(sipsess_msg_status(m), 0);
    sipsess_msg_free(m);

    size_t off = 0;
    cr_expect_eq(parse_text("\r\n\r\n", NULL, &m, &off), SIPSESS_ETRUNCATED);
    cr_expect_eq(parse_text("OPTIONS sip:b@h SIP/2.0", NULL, &m, &off), SIPSESS_ETRUNCATED);
    struct text empty = exact_copy("", 0);
    cr_expect_eq(sipsess_msg_parse(empty.p, 0, NULL, &m, &off), SIPSESS_ETRUNCATED);
    free(empty.p);
}

/* ================================================================== */
/* Error offsets                                                        */

Test(headers, err_off_points_at_the_failure)
{
    static const struct {
        const char *line;   /* added header line */
        const char *at;     /* err_off must be the offset of this text */
        int err;
    } cases[] = {
        {"Max-Forwards: 256\r\n", "256", SIPSESS_ERANGE},
        {"Expires: x\r\n", "x\r\n", SIPSESS_EHEADER},
        {"Content-Type: text\r\n", "text", SIPSESS_EHEADER},
        {"Contact: <sip:a@h>, <sip:b@h>;q=5\r\n", "<sip:b@h>;q=5", SIPSESS_EHEADER},
        {"Contact: <sip:a@h>,,<sip:b@h>\r\n", ",<sip:b@h>", SIPSESS_EHEADER},
        {"Route: <sip:[::1>\r\n", "<sip:[::1>", SIPSESS_EURI},
        {"X-Ok: 1\r\nBroken\r\n", "\r\n\r\n", SIPSESS_EHEADER},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        size_t off = 0;
        struct text t;
        int e = fails(B_MF, cases[i].line, &off, &t);
        cr_expect_eq(e, cases[i].err, "%s: %s", cases[i].line, sipsess_errname(e));
        cr_expect_eq(off, offset_in(&t, cases[i].at), "%s: err_off %zu, want %zu", cases[i].line, off,
                     offset_in(&t, cases[i].at));
        free(t.p);
    }
}

Test(headers, err_off_counts_skipped_leading_crlfs)
{
    struct text t = compose(B_CSEQ, "CSeq: x OPTIONS\r\n", "");
    size_t base = offset_in(&t, "x OPTIONS");
    char *shifted = malloc(t.len + 4);
    memcpy(shifted, "\r\n\r\n", 4);
    memcpy(shifted + 4, t.p, t.len);
    sipsess_msg *m = NULL;
    size_t off = 0;
    cr_expect_eq(sipsess_msg_parse(shifted, t.len + 4, NULL, &m, &off), SIPSESS_ECSEQ);
    cr_expect_eq(off, base + 4, "strict err_off is relative to the input (%zu)", off);
    /* The lenient offset is relative to the same input, so a caller can
     * use either without knowing how many CRLFs were skipped. */
    sipsess_parse_opts lo = lenient_opts();
    cr_assert_eq(sipsess_msg_parse(shifted, t.len + 4, &lo, &m, NULL), 0);
    cr_expect_eq(sipsess_msg_error(m, &off), SIPSESS_ECSEQ);
    cr_expect_eq(off, base + 4, "lenient err_off %zu", off);
    sipsess_msg_free(m);
    free(shifted);
    free(t.p);
}

/* ================================================================== */
/* Limits                                                              */

Test(headers, limit_message_size)
{
    sipsess_parse_opts o;
    sipsess_parse_opts_init(&o);
    cr_expect_eq(o.max_msg_size, 65536);
    struct text t = compose(0, "", "");
    o.max_msg_size = (uint32_t)t.len;
    sipsess_msg *m = NULL;
    cr_expect_eq(sipsess_msg_parse(t.p, t.len, &o, &m, NULL), 0, "exactly the limit is fine");
    sipsess_msg_free(m);
    o.max_msg_size = (uint32_t)t.len - 1;
    size_t off = 0;
    cr_expect_eq(sipsess_msg_parse(t.p, t.len, &o, &m, &off), SIPSESS_ETOOBIG);
    cr_expect_eq(off, t.len - 1, "err_off is the first byte past the limit");
    o.flags = SIPSESS_PARSE_LENIENT;
    cr_expect_eq(sipsess_msg_parse(t.p, t.len, &o, &m, &off), SIPSESS_ETOOBIG, "limits hold when lenient");
    free(t.p);

    /* The default: 64 KiB. */
    size_t big = 65537;
    char *body = malloc(big);
    memset(body, 'a', big - 1);
    body[big - 1] = '\0';
    t = compose(0, "", body);
    cr_expect_eq(sipsess_msg_parse(t.p, t.len, NULL, &m, NULL), SIPSESS_ETOOBIG);
    free(t.p);
    free(body);
}

Test(headers, limit_header_count)
{
    sipsess_parse_opts o;
    sipsess_parse_opts_init(&o);
    cr_expect_eq(o.max_headers, 256);
    o.max_headers = 9; /* 6 base + 3 */
    struct text t = compose(0, "Allow: INVITE, ACK, BYE\r\n", "");
    sipsess_msg *m = NULL;
    cr_expect_eq(sipsess_msg_parse(t.p, t.len, &o, &m, NULL), 0);
    cr_expect_eq(sipsess_msg_hdr_count(m), 9);
    sipsess_msg_free(m);
    free(t.p);

    t = compose(0, "Allow: INVITE, ACK, BYE, CANCEL\r\n", "");
    size_t off = 0;
    cr_expect_eq(sipsess_msg_parse(t.p, t.len, &o, &m, &off), SIPSESS_ETOOMANYHDRS,
                 "values after comma splitting count");
    cr_expect_eq(off, offset_in(&t, "Allow"));
    o.flags = SIPSESS_PARSE_LENIENT;
    cr_expect_eq(sipsess_msg_parse(t.p, t.len, &o, &m, &off), SIPSESS_ETOOMANYHDRS);
    free(t.p);

    /* Default: 256 values. */
    char *many = malloc(300 * 12 + 1);
    size_t n = 0;
    for (int i = 0; i < 251; i++)
        n += (size_t)sprintf(many + n, "X-%03d: v\r\n", i);
    t = compose(0, many, "");
    cr_expect_eq(sipsess_msg_parse(t.p, t.len, NULL, &m, NULL), SIPSESS_ETOOMANYHDRS, "257 values");
    free(t.p);
    n = 0;
    for (int i = 0; i < 250; i++)
        n += (size_t)sprintf(many + n, "X-%03d: v\r\n", i);
    t = compose(0, many, "");
    cr_expect_eq(sipsess_msg_parse(t.p, t.len, NULL, &m, NULL), 0, "256 values");
    sipsess_msg_free(m);
    free(t.p);
    free(many);
}

Test(headers, limit_header_length)
{
    sipsess_parse_opts o;
    sipsess_parse_opts_init(&o);
    cr_expect_eq(o.max_header_len, 8192);
    /* Every other field is under 40 bytes; "X-Long: " + 42 digits is
     * exactly 50, line end not counted, whichever line end it is. */
    static const char *const eol[] = {"\r\n", "\n"};
    for (size_t i = 0; i < 2; i++) {
        char buf[512];
        snprintf(buf, sizeof buf,
                 "OPTIONS sip:b@h SIP/2.0%sVia: SIP/2.0/UDP h;branch=z9hG4bK1%sFrom: <sip:a@h>;tag=1%s"
                 "To: <sip:b@h>%sCall-ID: x%sCSeq: 1 OPTIONS%sX-Long: %042d%s%s",
                 eol[i], eol[i], eol[i], eol[i], eol[i], eol[i], 0, eol[i], eol[i]);
        sipsess_msg *m = NULL;
        size_t off = 0;
        o.max_header_len = 50;
        int e = parse_text(buf, &o, &m, &off);
        cr_expect_eq(e, 0, "%s: a 50-byte field at a 50-byte limit: %s", i ? "LF" : "CRLF", sipsess_errname(e));
        sipsess_msg_free(m);
        o.max_header_len = 49;
        cr_expect_eq(parse_text(buf, &o, &m, &off), SIPSESS_EHDRTOOLONG, "%s", i ? "LF" : "CRLF");
        cr_expect_eq(off, (size_t)(strstr(buf, "X-Long") - buf), "err_off at the field's name");
        o.flags = SIPSESS_PARSE_LENIENT;
        cr_expect_eq(parse_text(buf, &o, &m, &off), SIPSESS_EHDRTOOLONG);
        o.flags = 0;
    }
}

/* max_header_len counts a field as written: a fold's line break and
 * white space count like any other byte (the doc said "unfolded" once,
 * which the parser never did). */
Test(headers, limit_header_length_counts_folds_as_written)
{
    static const char text[] = "OPTIONS sip:b@h SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\n"
                               "From: <sip:a@h>;tag=1\r\nTo: <sip:b@h>\r\nCall-ID: x\r\n"
                               "CSeq: 1 OPTIONS\r\nSubject: 0123456789abcdefghij\r\n  0123456789\r\n\r\n";
    /* "Subject: 0123456789abcdefghij" (29) + CRLF (2) + "  0123456789" (12)
     * = 43, the longest field (Via is 34); unfolded it would be 42 or less. */
    sipsess_parse_opts o;
    sipsess_parse_opts_init(&o);
    sipsess_msg *m = NULL;
    size_t off = 0;
    o.max_header_len = 43;
    cr_assert_eq(parse_text(text, &o, &m, &off), 0, "43 bytes as written fit a 43-byte limit");
    EXPECT_STR(sipsess_hdr_value(one(m, SIPSESS_HDR_SUBJECT)), "0123456789abcdefghij\r\n  0123456789");
    sipsess_msg_free(m);
    o.max_header_len = 42;
    cr_expect_eq(parse_text(text, &o, &m, &off), SIPSESS_EHDRTOOLONG);
    cr_expect_eq(off, (size_t)(strstr(text, "Subject") - text));
}

Test(headers, limit_uri_length)
{
    sipsess_parse_opts o;
    sipsess_parse_opts_init(&o);
    cr_expect_eq(o.max_uri_len, 4096);
    o.max_uri_len = 21; /* "sip:bob@example.com" is 19, "<sip:alice@example.com>" holds 21 */
    struct text t = compose(0, "", "");
    sipsess_msg *m = NULL;
    cr_expect_eq(sipsess_msg_parse(t.p, t.len, &o, &m, NULL), 0);
    sipsess_msg_free(m);
    o.max_uri_len = 20;
    size_t off = 0;
    cr_expect_eq(sipsess_msg_parse(t.p, t.len, &o, &m, &off), SIPSESS_EURITOOLONG, "the From URI is 21");
    cr_expect_eq(off, offset_in(&t, "<sip:alice"));
    o.max_uri_len = 18;
    cr_expect_eq(sipsess_msg_parse(t.p, t.len, &o, &m, &off), SIPSESS_EURITOOLONG, "the Request-URI is 19");
    cr_expect_eq(off, 8);
    o.flags = SIPSESS_PARSE_LENIENT;
    cr_expect_eq(sipsess_msg_parse(t.p, t.len, &o, &m, &off), SIPSESS_EURITOOLONG);
    free(t.p);
}

Test(headers, limit_via_count)
{
    sipsess_parse_opts o;
    sipsess_parse_opts_init(&o);
    cr_expect_eq(o.max_via, 64);
    o.max_via = 3;
    struct text t = compose(0, "Via: SIP/2.0/UDP b;branch=z9hG4bK2, SIP/2.0/UDP c;branch=z9hG4bK3\r\n", "");
    sipsess_msg *m = NULL;
    cr_expect_eq(sipsess_msg_parse(t.p, t.len, &o, &m, NULL), 0);
    sipsess_msg_free(m);
    free(t.p);
    t = compose(0, "Via: SIP/2.0/UDP b;branch=z9hG4bK2, SIP/2.0/UDP c;branch=z9hG4bK3\r\nv: SIP/2.0/UDP d\r\n", "");
    size_t off = 0;
    cr_expect_eq(sipsess_msg_parse(t.p, t.len, &o, &m, &off), SIPSESS_ETOOMANYVIA);
    cr_expect_eq(off, offset_in(&t, "v: SIP/2.0/UDP d"));
    free(t.p);
}

/* An older caller's shorter struct: the fields it lacks keep their
 * defaults. */
Test(headers, shorter_opts_struct_keeps_defaults)
{
    sipsess_parse_opts o;
    sipsess_parse_opts_init(&o);
    cr_expect_eq(o.struct_size, sizeof o);
    o.max_msg_size = 10;
    o.max_headers = 1;
    o.struct_size = offsetof(sipsess_parse_opts, max_headers);
    struct text t = compose(0, "", "");
    sipsess_msg *m = NULL;
    cr_expect_eq(sipsess_msg_parse(t.p, t.len, &o, &m, NULL), SIPSESS_ETOOBIG, "max_msg_size is inside");
    o.max_msg_size = 65536;
    cr_expect_eq(sipsess_msg_parse(t.p, t.len, &o, &m, NULL), 0, "max_headers is outside, default used");
    sipsess_msg_free(m);
    o.struct_size = 0;
    o.max_msg_size = 10;
    cr_expect_eq(sipsess_msg_parse(t.p, t.len, &o, &m, NULL), 0, "struct_size 0: all defaults");
    sipsess_msg_free(m);
    free(t.p);
}

/* ================================================================== */
/* Allocation                                                          */

struct alloc_count {
    size_t calls;    /* every malloc/realloc attempt */
    size_t fail_at;  /* the attempt (1-based) that returns NULL; 0: none */
    size_t allocs;   /* successful malloc + realloc(NULL, ...) */
    size_t reallocs; /* successful realloc of a block */
    size_t frees;
    long live;
};
static struct alloc_count g_ac;

static void *count_malloc(size_t n, void *ud)
{
    struct alloc_count *c = ud;
    if (++c->calls == c->fail_at)
        return NULL;
    void *p = malloc(n);
    if (p) {
        c->allocs++;
        c->live++;
    }
    return p;
}

static void *count_realloc(void *ptr, size_t n, void *ud)
{
    struct alloc_count *c = ud;
    if (++c->calls == c->fail_at)
        return NULL;
    void *p = realloc(ptr, n);
    if (p) {
        if (ptr) {
            c->reallocs++;
        } else {
            c->allocs++;
            c->live++;
        }
    }
    return p;
}

static void count_free(void *ptr, void *ud)
{
    struct alloc_count *c = ud;
    if (ptr) {
        c->frees++;
        c->live--;
    }
    free(ptr);
}

/* Criterion runs each test in a fresh process, so this is the library's
 * first call there and the hook is accepted. */
static void install_counter(void)
{
    memset(&g_ac, 0, sizeof g_ac);
    cr_assert_eq(sipsess_set_allocator(count_malloc, count_realloc, count_free, &g_ac), 0);
}

static void reset_counter(size_t fail_at)
{
    memset(&g_ac, 0, sizeof g_ac);
    g_ac.fail_at = fail_at;
}

static const char g_typical[] =
    "INVITE sip:bob@biloxi.example.com SIP/2.0\r\n"
    "Via: SIP/2.0/TCP client.atlanta.example.com:5060;branch=z9hG4bK74bf9;rport\r\n"
    "Max-Forwards: 70\r\n"
    "From: Alice <sip:alice@atlanta.example.com>;tag=9fxced76sl\r\n"
    "To: Bob <sip:bob@biloxi.example.com>\r\n"
    "Call-ID: 3848276298220188511@atlanta.example.com\r\n"
    "CSeq: 2 INVITE\r\n"
    "Contact: <sip:alice@client.atlanta.example.com;transport=tcp>\r\n"
    "Allow: INVITE, ACK, CANCEL, OPTIONS, BYE, REFER, NOTIFY, MESSAGE\r\n"
    "Supported: replaces, timer\r\n"
    "Session-Expires: 1800;refresher=uac\r\n"
    "Content-Type: application/sdp\r\n"
    "Content-Length: 151\r\n"
    "\r\n"
    "v=0\r\n"
    "o=alice 2890844526 2890844526 IN IP4 client.atlanta.example.com\r\n"
    "s=-\r\n"
    "c=IN IP4 192.0.2.101\r\n"
    "t=0 0\r\n"
    "m=audio 49172 RTP/AVP 0\r\n"
    "a=rtpmap:0 PCMU/8000\r\n";

Test(headers, one_allocation_per_typical_message, .init = install_counter)
{
    sipsess_msg *m = NULL;
    cr_assert_eq(parse_text(g_typical, NULL, &m, NULL), 0);
    cr_expect_eq(g_ac.allocs, 1, "%zu allocations", g_ac.allocs);
    cr_expect_eq(g_ac.reallocs, 0);
    cr_expect_eq(sipsess_msg_hdr_count(m), 20, "the table held every split value");
    sipsess_msg_ref(m);
    sipsess_msg_free(m);
    cr_expect_eq(g_ac.frees, 0, "a second reference keeps the message");
    sipsess_msg_free(m);
    cr_expect_eq(g_ac.frees, 1);
    cr_expect_eq(g_ac.live, 0);

    sipsess_parse_opts lo = lenient_opts();
    reset_counter(0);
    cr_assert_eq(parse_text(g_typical, &lo, &m, NULL), 0);
    sipsess_msg_free(m);
    cr_expect_eq(g_ac.allocs, 1, "lenient too");

    /* A failed parse leaves nothing behind. */
    reset_counter(0);
    cr_expect_eq(parse_text("OPTIONS sip:b@h SIP/2.0\r\nCSeq: 1 OPTIONS\r\n\r\n", NULL, &m, NULL), SIPSESS_EMISSING);
    cr_expect_eq(g_ac.live, 0);

    /* The hook cannot change once the library has allocated. */
    cr_expect_eq(sipsess_set_allocator(NULL, NULL, NULL, NULL), SIPSESS_EBUSY);
}

/* The header table is sized from the line feeds and commas of the header
 * section, so a message needs one allocation however long its lists. That
 * includes a datagram that ends inside its last header line: its commas
 * are counted like the others (the table used to move to blocks of its own
 * then, an allocation per growth the count can do without). */
static char *long_list_message(size_t values, bool terminated)
{
    size_t cap = 400 + values * 8, n = 0;
    char *buf = malloc(cap);
    n += (size_t)snprintf(buf + n, cap - n, "%s", START);
    for (size_t i = 0; i < 6; i++)
        n += (size_t)snprintf(buf + n, cap - n, "%s", g_base[i]);
    n += (size_t)snprintf(buf + n, cap - n, "Supported: ");
    for (size_t i = 0; i < values; i++)
        n += (size_t)snprintf(buf + n, cap - n, "%st%zu", i ? "," : "", i);
    snprintf(buf + n, cap - n, "%s", terminated ? "\r\n\r\n" : "");
    return buf;
}

Test(headers, long_lists_need_one_allocation, .init = install_counter)
{
    char *text = long_list_message(200, true);
    sipsess_msg *m = NULL;
    cr_assert_eq(parse_text(text, NULL, &m, NULL), 0);
    cr_expect_eq(sipsess_msg_hdr_count(m), 206);
    cr_expect_eq(g_ac.calls, 1, "%zu allocations", g_ac.calls);
    sipsess_msg_free(m);
    free(text);
}

Test(headers, allocation_failure_injection, .init = install_counter)
{
    static const struct {
        size_t values;
        bool terminated;
    } cases[] = {{1, true}, {100, true}, {100, false}};
    for (size_t s = 0; s < 3; s++) {
        char *text = long_list_message(cases[s].values, cases[s].terminated);
        reset_counter(0);
        sipsess_msg *m = NULL;
        cr_assert_eq(parse_text(text, NULL, &m, NULL), 0);
        size_t needed = g_ac.calls;
        cr_expect_eq(sipsess_msg_hdr_count(m), 6 + cases[s].values);
        sipsess_msg_free(m);
        cr_expect_eq(g_ac.live, 0);
        cr_expect(needed == 1, "case %zu: %zu allocations", s, needed);
        /* Fail each allocation in turn: ENOMEM, *out untouched, no leak. */
        for (size_t k = 1; k <= needed; k++) {
            reset_counter(k);
            sipsess_msg *sentinel = (sipsess_msg *)&g_ac;
            m = sentinel;
            int e = parse_text(text, NULL, &m, NULL);
            cr_expect_eq(e, SIPSESS_ENOMEM, "case %zu, allocation %zu fails: %s", s, k, sipsess_errname(e));
            cr_expect_eq(m, sentinel, "*out untouched");
            cr_expect_eq(g_ac.live, 0, "case %zu, allocation %zu fails: %ld blocks leaked", s, k, g_ac.live);
        }
        free(text);
    }
}

Test(headers, framer_allocation_failure, .init = install_counter)
{
    reset_counter(1);
    sipsess_framer *f = NULL;
    cr_expect_eq(sipsess_framer_new(NULL, &f), SIPSESS_ENOMEM);
    cr_expect_null(f);
    reset_counter(0);
    cr_assert_eq(sipsess_framer_new(NULL, &f), 0);
    g_ac.fail_at = g_ac.calls + 1;
    cr_expect_eq(sipsess_framer_feed(f, g_typical, sizeof g_typical - 1), SIPSESS_ENOMEM);
    cr_expect_eq(sipsess_framer_failed(f), 0, "an allocation failure is not the peer's fault");
    cr_expect_eq(sipsess_framer_buffered(f), 0);
    g_ac.fail_at = 0;
    cr_assert_eq(sipsess_framer_feed(f, g_typical, sizeof g_typical - 1), 0);
    g_ac.fail_at = g_ac.calls + 1;
    sipsess_msg *m = NULL;
    cr_expect_eq(sipsess_framer_next(f, &m, NULL), SIPSESS_ENOMEM);
    cr_expect_eq(sipsess_framer_failed(f), 0);
    cr_expect_eq(sipsess_framer_buffered(f), 0, "the message is lost, the stream goes on");
    g_ac.fail_at = 0;
    cr_assert_eq(sipsess_framer_feed(f, g_typical, sizeof g_typical - 1), 0);
    cr_expect_eq(sipsess_framer_next(f, &m, NULL), 0);
    sipsess_msg_free(m);
    sipsess_framer_free(f);
    cr_expect_eq(g_ac.live, 0);
}

/* ================================================================== */
/* NULL and wrong-type arguments                                       */

Test(headers, null_arguments)
{
    sipsess_msg *m = NULL;
    size_t off = 7;
    cr_expect_eq(sipsess_msg_parse(NULL, 10, NULL, &m, &off), SIPSESS_EINVAL);
    cr_expect_eq(sipsess_msg_parse("x", 1, NULL, NULL, &off), SIPSESS_EINVAL);
    cr_expect_null(m);
    sipsess_parse_opts_init(NULL);
    sipsess_msg_free(NULL);
    cr_expect_null(sipsess_msg_ref(NULL));
    cr_expect_eq(sipsess_msg_error(NULL, &off), SIPSESS_EINVAL);
    cr_expect_eq(sipsess_msg_is_request(NULL), 0);
    cr_expect_eq(sipsess_msg_method(NULL), SIPSESS_METHOD_OTHER);
    EXPECT_NONE(sipsess_msg_method_name(NULL));
    cr_expect_null(sipsess_msg_ruri(NULL));
    cr_expect_eq(sipsess_msg_status(NULL), 0);
    EXPECT_NONE(sipsess_msg_reason(NULL));
    EXPECT_NONE(sipsess_msg_body(NULL));
    EXPECT_NONE(sipsess_msg_raw(NULL));
    cr_expect_eq(sipsess_msg_hdr_count(NULL), 0);
    cr_expect_null(sipsess_msg_hdr_at(NULL, 0));
    cr_expect_null(sipsess_msg_hdr(NULL, SIPSESS_HDR_VIA, 0));
    cr_expect_eq(sipsess_msg_hdr_num(NULL, SIPSESS_HDR_VIA), 0);
    cr_expect_null(sipsess_msg_hdr_by_name(NULL, "Via", 0));
    cr_expect_null(sipsess_hdr_next(NULL, NULL));
    size_t len = 0;
    cr_expect_eq(sipsess_msg_print(NULL, NULL, 0, &len), SIPSESS_EINVAL);

    const sipsess_hdr *h = NULL;
    sipsess_str v = {"unchanged", 9};
    cr_expect_eq(sipsess_hdr_get_id(h), SIPSESS_HDR_OTHER);
    EXPECT_NONE(sipsess_hdr_name(h));
    EXPECT_NONE(sipsess_hdr_value(h));
    cr_expect_eq(sipsess_hdr_is_bad(h), 0);
    cr_expect_eq(sipsess_hdr_param(h, "tag", &v), 0);
    cr_expect_eq(sipsess_hdr_number(h), -1);
    EXPECT_NONE(sipsess_via_protocol(h));
    EXPECT_NONE(sipsess_via_transport(h));
    EXPECT_NONE(sipsess_via_host(h));
    cr_expect_eq(sipsess_via_host_type(h), SIPSESS_HOST_NONE);
    cr_expect_eq(sipsess_via_port(h), 0);
    EXPECT_NONE(sipsess_via_branch(h));
    EXPECT_NONE(sipsess_via_received(h));
    cr_expect_eq(sipsess_via_rport(h), -1);
    EXPECT_NONE(sipsess_via_maddr(h));
    cr_expect_eq(sipsess_via_ttl(h), -1);
    EXPECT_NONE(sipsess_nameaddr_display(h));
    cr_expect_null(sipsess_nameaddr_uri(h));
    EXPECT_NONE(sipsess_nameaddr_tag(h));
    cr_expect_eq(sipsess_contact_is_star(h), 0);
    cr_expect_eq(sipsess_contact_expires(h), -1);
    cr_expect_eq(sipsess_contact_q(h), -1);
    cr_expect_eq(sipsess_cseq_number(h), 0);
    cr_expect_eq(sipsess_cseq_method(h), SIPSESS_METHOD_OTHER);
    EXPECT_NONE(sipsess_cseq_method_name(h));
    cr_expect_eq(sipsess_rack_rseq(h), 0);
    cr_expect_eq(sipsess_rack_cseq(h), 0);
    cr_expect_eq(sipsess_rack_method(h), SIPSESS_METHOD_OTHER);
    EXPECT_NONE(sipsess_mtype_type(h));
    EXPECT_NONE(sipsess_mtype_subtype(h));
    EXPECT_NONE(sipsess_hdr_token(h));
    EXPECT_NONE(sipsess_auth_scheme(h));
    cr_expect_eq(sipsess_auth_param(h, "realm", &v), 0);
    EXPECT_NONE(sipsess_retry_after_comment(h));
    EXPECT_NONE(sipsess_timestamp_value(h));
    EXPECT_NONE(sipsess_timestamp_delay(h));
    cr_expect(s_is(v, "unchanged"), "a failed lookup leaves *value alone");

    /* NULL names and values on a real message. */
    m = ok(0, "WWW-Authenticate: Digest realm=\"r\"\r\n");
    cr_expect_null(sipsess_msg_hdr_by_name(m, NULL, 0));
    cr_expect_null(sipsess_hdr_next(m, NULL));
    cr_expect_eq(sipsess_hdr_param(one(m, SIPSESS_HDR_FROM), NULL, &v), 0);
    cr_expect_eq(sipsess_hdr_param(one(m, SIPSESS_HDR_FROM), "tag", NULL), 1, "value may be NULL");
    cr_expect_eq(sipsess_auth_param(one(m, SIPSESS_HDR_WWW_AUTHENTICATE), NULL, &v), 0);
    cr_expect_eq(sipsess_auth_param(one(m, SIPSESS_HDR_WWW_AUTHENTICATE), "realm", NULL), 1);
    cr_expect_eq(sipsess_msg_error(m, NULL), 0);
    cr_expect_null(sipsess_msg_hdr_at(m, sipsess_msg_hdr_count(m)));
    cr_expect_null(sipsess_msg_hdr(m, SIPSESS_HDR_OTHER, 0));
    cr_expect_null(sipsess_msg_hdr(m, SIPSESS_HDR__COUNT, 0));
    cr_expect_null(sipsess_msg_hdr(m, (sipsess_hdr_id)-1, 0));
    cr_expect_eq(sipsess_msg_hdr_num(m, SIPSESS_HDR__COUNT), 0);
    cr_expect_null(sipsess_msg_hdr(m, SIPSESS_HDR_VIA, 1));

    /* A header of another message is not this message's. */
    sipsess_msg *other = ok(0, "");
    cr_expect_null(sipsess_hdr_next(m, one(other, SIPSESS_HDR_VIA)));
    sipsess_msg_free(other);
    sipsess_msg_free(m);
}

Test(headers, accessors_of_another_header_type)
{
    sipsess_msg *m = ok(0, "Contact: <sip:c@h>;expires=5\r\nRAck: 1 2 INVITE\r\nContent-Type: a/b\r\n");
    const sipsess_hdr *from = one(m, SIPSESS_HDR_FROM), *via = one(m, SIPSESS_HDR_VIA),
                      *cseq = one(m, SIPSESS_HDR_CSEQ), *ct = one(m, SIPSESS_HDR_CONTENT_TYPE);
    EXPECT_NONE(sipsess_via_host(from));
    EXPECT_NONE(sipsess_via_branch(from));
    cr_expect_eq(sipsess_via_rport(from), -1);
    cr_expect_eq(sipsess_via_ttl(cseq), -1);
    EXPECT_NONE(sipsess_nameaddr_tag(via));
    cr_expect_null(sipsess_nameaddr_uri(via));
    cr_expect_eq(sipsess_contact_expires(from), -1, "expires is a Contact reading");
    cr_expect_eq(sipsess_contact_q(from), -1);
    cr_expect_eq(sipsess_contact_is_star(from), 0);
    cr_expect_eq(sipsess_cseq_number(via), 0);
    EXPECT_NONE(sipsess_cseq_method_name(from));
    cr_expect_eq(sipsess_rack_rseq(cseq), 0);
    EXPECT_NONE(sipsess_mtype_type(from));
    EXPECT_NONE(sipsess_auth_scheme(ct));
    cr_expect_eq(sipsess_auth_param(from, "tag", NULL), 0);
    cr_expect_eq(sipsess_hdr_number(from), -1);
    cr_expect_eq(sipsess_hdr_number(cseq), -1, "CSeq reads with sipsess_cseq_number");
    EXPECT_NONE(sipsess_retry_after_comment(from));
    EXPECT_NONE(sipsess_timestamp_value(ct));
    sipsess_msg_free(m);
}
