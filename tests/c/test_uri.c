/*
 * URI layer: parsing of every form the syntax layer meets (RFC 3261 §19.1,
 * RFC 3966, RFC 5118, the URIs of the RFC 4475 / 5118 torture messages),
 * comparison per §19.1.4, unescaping, printing and copies.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sipsess/uri.h"
#include "syntax/syntax.h"

#ifndef SHARED_DIR
#define SHARED_DIR "/work/shared"
#endif

/* ---- helpers ---- */

#define ASSERT_STR(view, lit)                                                              \
    do {                                                                                   \
        sipsess_str v_ = (view);                                                           \
        const char *l_ = (lit);                                                            \
        if (!l_) {                                                                         \
            cr_assert_null(v_.p, "expected absent, got '%.*s'", (int)v_.len,              \
                           v_.p ? v_.p : "");                                              \
            cr_assert_eq(v_.len, 0);                                                       \
        } else {                                                                           \
            cr_assert_not_null(v_.p, "expected '%s', got absent", l_);                    \
            cr_assert(v_.len == strlen(l_) && memcmp(v_.p, l_, v_.len) == 0,               \
                      "expected '%s', got '%.*s'", l_, (int)v_.len, v_.p);                \
        }                                                                                  \
    } while (0)

static sipsess_uri *parse_ok(const char *s)
{
    sipsess_uri *u = NULL;
    int rc = sipsess_uri_parse(s, strlen(s), &u);
    cr_assert_eq(rc, 0, "parse '%s': %s", s, sipsess_errname(rc));
    cr_assert_not_null(u);
    return u;
}

/* Return code of parsing `len` bytes; a failed parse must leave *out as is. */
static int parse_rc_n(const char *s, size_t len)
{
    sipsess_uri *sentinel = (sipsess_uri *)(uintptr_t)0x1;
    sipsess_uri *u = sentinel;
    int rc = sipsess_uri_parse(s, len, &u);
    if (rc == 0)
        sipsess_uri_free(u);
    else
        cr_assert_eq(u, sentinel, "*out changed on failure");
    return rc;
}

static int parse_rc(const char *s)
{
    return parse_rc_n(s, strlen(s));
}

#define ASSERT_RC(s, want)                                                                 \
    do {                                                                                   \
        int rc_ = parse_rc(s);                                                             \
        cr_assert_eq(rc_, (want), "'%s': got %s want %s", (s), sipsess_errname(rc_),      \
                     sipsess_errname(want));                                               \
    } while (0)

/* Equality must be symmetric; check both orders every time. */
static int uri_eq(const char *a, const char *b)
{
    sipsess_uri *ua = parse_ok(a), *ub = parse_ok(b);
    int ab = sipsess_uri_equal(ua, ub), ba = sipsess_uri_equal(ub, ua);
    cr_assert_eq(ab, ba, "asymmetric: '%s' vs '%s'", a, b);
    sipsess_uri_free(ua);
    sipsess_uri_free(ub);
    return ab;
}

#define ASSERT_EQUAL(a, b) cr_assert(uri_eq(a, b), "'%s' should equal '%s'", a, b)
#define ASSERT_NOT_EQUAL(a, b) cr_assert(!uri_eq(a, b), "'%s' should differ from '%s'", a, b)

static void assert_unescaped(sipsess_str in, const char *want, size_t want_len)
{
    char buf[256];
    size_t n = 0;
    int rc = sipsess_unescape(in, buf, sizeof buf, &n);
    cr_assert_eq(rc, 0, "unescape: %s", sipsess_errname(rc));
    cr_assert_eq(n, want_len);
    cr_assert(memcmp(buf, want, n) == 0);
    cr_assert_eq(buf[n], '\0');
}

/* ---- sip / sips ---- */

Test(uri, sip_basic)
{
    sipsess_uri *u = parse_ok("sip:alice@atlanta.com");
    cr_assert_eq(sipsess_uri_scheme_id(u), SIPSESS_URI_SIP);
    ASSERT_STR(sipsess_uri_scheme_name(u), "sip");
    ASSERT_STR(sipsess_uri_text(u), "sip:alice@atlanta.com");
    ASSERT_STR(sipsess_uri_user(u), "alice");
    ASSERT_STR(sipsess_uri_password(u), NULL);
    ASSERT_STR(sipsess_uri_host(u), "atlanta.com");
    cr_assert_eq(sipsess_uri_host_type(u), SIPSESS_HOST_NAME);
    cr_assert_eq(sipsess_uri_port(u), 0);
    ASSERT_STR(sipsess_uri_opaque(u), "alice@atlanta.com");
    ASSERT_STR(sipsess_uri_params(u), NULL);
    ASSERT_STR(sipsess_uri_headers(u), NULL);
    sipsess_uri_free(u);
}

Test(uri, sips_scheme_case_insensitive)
{
    sipsess_uri *u = parse_ok("SIPS:bob@Biloxi.COM:5061");
    cr_assert_eq(sipsess_uri_scheme_id(u), SIPSESS_URI_SIPS);
    ASSERT_STR(sipsess_uri_scheme_name(u), "SIPS");
    ASSERT_STR(sipsess_uri_host(u), "Biloxi.COM");
    cr_assert_eq(sipsess_uri_port(u), 5061);
    ASSERT_STR(sipsess_uri_opaque(u), "bob@Biloxi.COM:5061");
    sipsess_uri_free(u);

    u = parse_ok("sIp:x");
    cr_assert_eq(sipsess_uri_scheme_id(u), SIPSESS_URI_SIP);
    sipsess_uri_free(u);
    /* near misses of the known scheme names are other schemes */
    u = parse_ok("sipx:foo");
    cr_assert_eq(sipsess_uri_scheme_id(u), SIPSESS_URI_OTHER);
    sipsess_uri_free(u);
    u = parse_ok("si:foo");
    cr_assert_eq(sipsess_uri_scheme_id(u), SIPSESS_URI_OTHER);
    sipsess_uri_free(u);
    u = parse_ok("tels:foo");
    cr_assert_eq(sipsess_uri_scheme_id(u), SIPSESS_URI_OTHER);
    sipsess_uri_free(u);
}

Test(uri, sip_host_only)
{
    sipsess_uri *u = parse_ok("sip:example.com");
    ASSERT_STR(sipsess_uri_user(u), NULL);
    ASSERT_STR(sipsess_uri_password(u), NULL);
    ASSERT_STR(sipsess_uri_host(u), "example.com");
    ASSERT_STR(sipsess_uri_opaque(u), "example.com");
    sipsess_uri_free(u);
}

Test(uri, sip_password)
{
    sipsess_uri *u = parse_ok("sip:alice:secretword@atlanta.com;transport=tcp");
    ASSERT_STR(sipsess_uri_user(u), "alice");
    ASSERT_STR(sipsess_uri_password(u), "secretword");
    ASSERT_STR(sipsess_uri_host(u), "atlanta.com");
    ASSERT_STR(sipsess_uri_params(u), "transport=tcp");
    ASSERT_STR(sipsess_uri_opaque(u), "alice:secretword@atlanta.com");
    sipsess_uri_free(u);

    u = parse_ok("sip:alice:@atlanta.com");
    ASSERT_STR(sipsess_uri_password(u), "");
    sipsess_uri_free(u);

    /* password chars: unreserved, escapes and &=+$, */
    u = parse_ok("sip:a:&=+$,%41-_.!~*'()@h");
    ASSERT_STR(sipsess_uri_password(u), "&=+$,%41-_.!~*'()");
    sipsess_uri_free(u);
    ASSERT_RC("sip:a:b;c@h", SIPSESS_EURI);
    ASSERT_RC("sip:a:b:c@h", SIPSESS_EURI);
    ASSERT_RC("sip:a:b?c@h", SIPSESS_EURI);
}

Test(uri, sip_all_components)
{
    sipsess_uri *u =
        parse_ok("sip:alice@atlanta.com:5060;transport=tcp;lr?subject=project%20x&priority=urgent");
    ASSERT_STR(sipsess_uri_host(u), "atlanta.com");
    cr_assert_eq(sipsess_uri_port(u), 5060);
    ASSERT_STR(sipsess_uri_opaque(u), "alice@atlanta.com:5060");
    ASSERT_STR(sipsess_uri_params(u), "transport=tcp;lr");
    ASSERT_STR(sipsess_uri_headers(u), "subject=project%20x&priority=urgent");

    sipsess_str v = {"x", 1};
    cr_assert_eq(sipsess_uri_param(u, "transport", &v), 1);
    ASSERT_STR(v, "tcp");
    cr_assert_eq(sipsess_uri_param(u, "lr", &v), 1);
    ASSERT_STR(v, NULL);
    cr_assert_eq(sipsess_uri_param(u, "LR", NULL), 1);
    cr_assert_eq(sipsess_uri_param(u, "l", NULL), 0);
    cr_assert_eq(sipsess_uri_param(u, "maddr", NULL), 0);
    cr_assert_eq(sipsess_uri_param(u, "subject", NULL), 0);

    cr_assert_eq(sipsess_uri_header(u, "Subject", &v), 1);
    ASSERT_STR(v, "project%20x");
    cr_assert_eq(sipsess_uri_header(u, "priority", &v), 1);
    ASSERT_STR(v, "urgent");
    cr_assert_eq(sipsess_uri_header(u, "transport", NULL), 0);
    sipsess_uri_free(u);

    /* headers without params */
    u = parse_ok("sip:h?a=b");
    ASSERT_STR(sipsess_uri_opaque(u), "h");
    ASSERT_STR(sipsess_uri_params(u), NULL);
    ASSERT_STR(sipsess_uri_headers(u), "a=b");
    sipsess_uri_free(u);
}

/* RFC 3261 §19.1.3 examples */
Test(uri, rfc3261_examples)
{
    struct {
        const char *text, *user, *password, *host, *params, *headers;
        unsigned port;
    } t[] = {
        {"sip:alice@atlanta.com", "alice", NULL, "atlanta.com", NULL, NULL, 0},
        {"sip:alice:secretword@atlanta.com;transport=tcp", "alice", "secretword", "atlanta.com",
         "transport=tcp", NULL, 0},
        {"sips:alice@atlanta.com?subject=project%20x&priority=urgent", "alice", NULL,
         "atlanta.com", NULL, "subject=project%20x&priority=urgent", 0},
        {"sip:+1-212-555-1212:1234@gateway.com;user=phone", "+1-212-555-1212", "1234",
         "gateway.com", "user=phone", NULL, 0},
        {"sips:1212@gateway.com", "1212", NULL, "gateway.com", NULL, NULL, 0},
        {"sip:alice@192.0.2.4", "alice", NULL, "192.0.2.4", NULL, NULL, 0},
        {"sip:atlanta.com;method=REGISTER?to=alice%40atlanta.com", NULL, NULL, "atlanta.com",
         "method=REGISTER", "to=alice%40atlanta.com", 0},
        {"sip:alice;day=tuesday@atlanta.com", "alice;day=tuesday", NULL, "atlanta.com", NULL,
         NULL, 0},
        {"sip:user@example.com:6000;lr", "user", NULL, "example.com", "lr", NULL, 6000},
    };
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
        sipsess_uri *u = parse_ok(t[i].text);
        ASSERT_STR(sipsess_uri_user(u), t[i].user);
        ASSERT_STR(sipsess_uri_password(u), t[i].password);
        ASSERT_STR(sipsess_uri_host(u), t[i].host);
        ASSERT_STR(sipsess_uri_params(u), t[i].params);
        ASSERT_STR(sipsess_uri_headers(u), t[i].headers);
        cr_assert_eq(sipsess_uri_port(u), t[i].port, "%s", t[i].text);
        sipsess_uri_free(u);
    }
}

Test(uri, hostnames)
{
    const char *ok[] = {"sip:example.com.", "sip:a-b.c-d.com", "sip:123.example.com",
                        "sip:x", "sip:a1", "sip:host.123", "sip:A.B.C.D", "sip:1a"};
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        sipsess_uri *u = parse_ok(ok[i]);
        cr_assert_eq(sipsess_uri_host_type(u), SIPSESS_HOST_NAME, "%s", ok[i]);
        sipsess_uri_free(u);
    }
    const char *bad[] = {"sip:a..b", "sip:-a.com", "sip:a-.com", "sip:a.-b", "sip:.com",
                         "sip:host_name.com", "sip:user@", "sip:", "sip:a@b@c",
                         "sip:h/x", "sip://host", "sip:a-"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        ASSERT_RC(bad[i], SIPSESS_EURI);
}

Test(uri, ipv4_hosts)
{
    sipsess_uri *u = parse_ok("sip:192.0.2.4:5070");
    ASSERT_STR(sipsess_uri_host(u), "192.0.2.4");
    cr_assert_eq(sipsess_uri_host_type(u), SIPSESS_HOST_IPV4);
    cr_assert_eq(sipsess_uri_port(u), 5070);
    sipsess_uri_free(u);

    u = parse_ok("sip:fluffy@127.0.0.1:5070"); /* mpart01 Contact */
    cr_assert_eq(sipsess_uri_host_type(u), SIPSESS_HOST_IPV4);
    sipsess_uri_free(u);
    u = parse_ok("sip:0.0.0.0");
    cr_assert_eq(sipsess_uri_host_type(u), SIPSESS_HOST_IPV4);
    sipsess_uri_free(u);
    u = parse_ok("sip:255.255.255.255");
    cr_assert_eq(sipsess_uri_host_type(u), SIPSESS_HOST_IPV4);
    sipsess_uri_free(u);

    const char *bad[] = {"sip:256.1.1.1", "sip:1.2.3", "sip:1.2.3.4.5", "sip:1.2.3.4.",
                         "sip:1234.1.1.1", "sip:1..2.3", "sip:12345"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        ASSERT_RC(bad[i], SIPSESS_EURI);
}

Test(uri, ipv6_rfc5118_good)
{
    /* ipv6-good, via-received-param-*: REGISTER sip:[2001:db8::10] */
    sipsess_uri *u = parse_ok("sip:[2001:db8::10]");
    ASSERT_STR(sipsess_uri_host(u), "2001:db8::10");
    cr_assert_eq(sipsess_uri_host_type(u), SIPSESS_HOST_IPV6);
    cr_assert_eq(sipsess_uri_port(u), 0);
    ASSERT_STR(sipsess_uri_opaque(u), "[2001:db8::10]");
    sipsess_uri_free(u);

    /* ipv6-in-sdp / mult-ip-in-sdp */
    u = parse_ok("sip:user@[2001:db8::10]");
    ASSERT_STR(sipsess_uri_user(u), "user");
    ASSERT_STR(sipsess_uri_host(u), "2001:db8::10");
    sipsess_uri_free(u);
    u = parse_ok("sip:caller@[2001:db8::9:1]");
    ASSERT_STR(sipsess_uri_host(u), "2001:db8::9:1");
    sipsess_uri_free(u);
}

Test(uri, ipv6_port_ambiguous)
{
    /* port-ambiguous: the ":5070" is inside the brackets, part of the address */
    sipsess_uri *u = parse_ok("sip:[2001:db8::10:5070]");
    ASSERT_STR(sipsess_uri_host(u), "2001:db8::10:5070");
    cr_assert_eq(sipsess_uri_host_type(u), SIPSESS_HOST_IPV6);
    cr_assert_eq(sipsess_uri_port(u), 0);
    sipsess_uri_free(u);

    /* port-unambiguous */
    u = parse_ok("sip:[2001:db8::10]:5070");
    ASSERT_STR(sipsess_uri_host(u), "2001:db8::10");
    cr_assert_eq(sipsess_uri_port(u), 5070);
    ASSERT_STR(sipsess_uri_opaque(u), "[2001:db8::10]:5070");
    sipsess_uri_free(u);

    ASSERT_NOT_EQUAL("sip:[2001:db8::10:5070]", "sip:[2001:db8::10]:5070");
}

Test(uri, ipv6_embedded_ipv4_and_three_colons)
{
    /* ipv6-correct-abnf-2-colons */
    sipsess_uri *u = parse_ok("sip:user@[2001:db8::192.0.2.1]");
    ASSERT_STR(sipsess_uri_host(u), "2001:db8::192.0.2.1");
    cr_assert_eq(sipsess_uri_host_type(u), SIPSESS_HOST_IPV6);
    sipsess_uri_free(u);
    /* ipv6-bug-abnf-3-colons: RFC 5118 §4.10 asks for tolerance */
    u = parse_ok("sip:user@[2001:db8:::192.0.2.1]");
    ASSERT_STR(sipsess_uri_host(u), "2001:db8:::192.0.2.1");
    cr_assert_eq(sipsess_uri_host_type(u), SIPSESS_HOST_IPV6);
    sipsess_uri_free(u);
    ASSERT_EQUAL("sip:user@[2001:db8:::192.0.2.1]", "sip:user@[2001:db8::192.0.2.1]");

    /* ipv4-mapped-ipv6 Contact */
    u = parse_ok("sip:ted@[::ffff:192.0.2.2]");
    ASSERT_STR(sipsess_uri_host(u), "::ffff:192.0.2.2");
    cr_assert_eq(sipsess_uri_host_type(u), SIPSESS_HOST_IPV6);
    sipsess_uri_free(u);
    u = parse_ok("sip:[::ffff:192.0.2.10]:5060;transport=udp");
    cr_assert_eq(sipsess_uri_port(u), 5060);
    ASSERT_STR(sipsess_uri_params(u), "transport=udp");
    sipsess_uri_free(u);
    /* a mapped address is an IPv6 host, never the IPv4 one */
    ASSERT_NOT_EQUAL("sip:[::ffff:192.0.2.10]", "sip:192.0.2.10");
}

Test(uri, ipv6_forms)
{
    const char *ok[] = {"sip:[::]", "sip:[::1]", "sip:[1::]", "sip:[1:2:3:4:5:6:7:8]",
                        "sip:[1:2:3:4:5:6:1.2.3.4]", "sip:[::1.2.3.4]", "sip:[FE80::AbCd]",
                        "sip:[1:2:3:4:5:6:7::]", "sip:[::2:3:4:5:6:7:8]",
                        "sip:[2001:0db8:0000:0000:0000:0000:0000:0001]"};
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        sipsess_uri *u = parse_ok(ok[i]);
        cr_assert_eq(sipsess_uri_host_type(u), SIPSESS_HOST_IPV6, "%s", ok[i]);
        sipsess_uri_free(u);
    }
    const char *bad[] = {"sip:[2001:db8::10", "sip:[]", "sip:[1:2:3:4:5:6:7:8:9]",
                         "sip:[1::2::3]", "sip:[12345::]", "sip:[::g]", "sip:[1:2:3:4:5:6:7]",
                         "sip:[:1::]", "sip:[1::2:]", "sip:[::1]x", "sip:[::1]:",
                         "sip:[1::::2]", "sip:[1.2.3.4]", "sip:[::1.2.3]", "sip:[::1.2.3.4:5]",
                         "sip:[1:2:3:4:5:6:7:1.2.3.4]", "sip:[example.com]", "sip:[:]",
                         "sip:[::1%25eth0]", "sip:[1:2:3:4:5:6:7:8::]"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        ASSERT_RC(bad[i], SIPSESS_EURI);
}

Test(uri, ipv6_raw_is_error)
{
    /* RFC 5118 §4.2 ipv6-bad: REGISTER sip:2001:db8::10 */
    ASSERT_RC("sip:2001:db8::10", SIPSESS_EURI);
    ASSERT_RC("sip:user@2001:db8::1", SIPSESS_EURI);
    ASSERT_RC("sip:::1", SIPSESS_EURI);
}

Test(uri, ipv6_equality_by_value)
{
    ASSERT_EQUAL("sip:[2001:db8::1]", "sip:[2001:0DB8:0:0::0001]");
    ASSERT_EQUAL("sip:[::ffff:192.0.2.10]", "sip:[::ffff:c000:20a]");
    ASSERT_NOT_EQUAL("sip:[2001:db8::1]", "sip:[2001:db8::2]");
    ASSERT_NOT_EQUAL("sip:[2001:db8::1]", "sip:[2001:db8::1]:5060");
}

Test(uri, ports)
{
    sipsess_uri *u = parse_ok("sip:h:0");
    cr_assert_eq(sipsess_uri_port(u), 0);
    sipsess_uri_free(u);
    u = parse_ok("sip:h:65535");
    cr_assert_eq(sipsess_uri_port(u), 65535);
    sipsess_uri_free(u);
    u = parse_ok("sip:u@h:00001;lr");
    cr_assert_eq(sipsess_uri_port(u), 1);
    sipsess_uri_free(u);

    const char *bad[] = {"sip:h:65536", "sip:h:000001", "sip:h:", "sip:h:12a", "sip:h:-1",
                         "sip:h:99999", "sip:h:1:2", "sip:h:+5", "sip:h: 5060",
                         "sip:h:4294967297", "sip:u@h:;lr"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        ASSERT_RC(bad[i], SIPSESS_EURI);
}

Test(uri, params)
{
    sipsess_uri *u = parse_ok("sip:h;Transport=TCP;a=;lr;maddr=[2001:db8::1];x=a/b:c&d+e$[]");
    sipsess_str v;
    cr_assert_eq(sipsess_uri_param(u, "transport", &v), 1);
    ASSERT_STR(v, "TCP");
    cr_assert_eq(sipsess_uri_param(u, "a", &v), 1);
    ASSERT_STR(v, "");
    cr_assert_eq(sipsess_uri_param(u, "Lr", &v), 1);
    ASSERT_STR(v, NULL);
    cr_assert_eq(sipsess_uri_param(u, "maddr", &v), 1);
    ASSERT_STR(v, "[2001:db8::1]");
    cr_assert_eq(sipsess_uri_param(u, "x", &v), 1);
    ASSERT_STR(v, "a/b:c&d+e$[]");
    cr_assert_eq(sipsess_uri_param(u, NULL, &v), 0);
    sipsess_uri_free(u);

    /* wsinv Route */
    u = parse_ok("sip:services.example.com;lr;unknownwith=value;unknown-no-value");
    ASSERT_STR(sipsess_uri_params(u), "lr;unknownwith=value;unknown-no-value");
    cr_assert_eq(sipsess_uri_param(u, "unknownwith", &v), 1);
    ASSERT_STR(v, "value");
    cr_assert_eq(sipsess_uri_param(u, "unknown-no-value", &v), 1);
    ASSERT_STR(v, NULL);
    sipsess_uri_free(u);

    const char *bad[] = {"sip:h;", "sip:h;;lr", "sip:h;=x", "sip:h;a=b=c", "sip:h;a;",
                         "sip:h;a b", "sip:h;a=\"q\"", "sip:h;a=<x>", "sip:h;a@b@c",
                         "sip:h;a=b,c"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        ASSERT_RC(bad[i], SIPSESS_EURI);

    /* '@' ends a userinfo, so what precedes it is a user, not parameters */
    u = parse_ok("sip:h;a@b");
    ASSERT_STR(sipsess_uri_user(u), "h;a");
    ASSERT_STR(sipsess_uri_host(u), "b");
    ASSERT_STR(sipsess_uri_params(u), NULL);
    sipsess_uri_free(u);
}

Test(uri, headers)
{
    sipsess_uri *u = parse_ok("sip:h?a=&B=c/d?e:f+$[]&to=sip:bob%40biloxi.com");
    sipsess_str v;
    cr_assert_eq(sipsess_uri_header(u, "a", &v), 1);
    ASSERT_STR(v, "");
    cr_assert_eq(sipsess_uri_header(u, "b", &v), 1);
    ASSERT_STR(v, "c/d?e:f+$[]");
    cr_assert_eq(sipsess_uri_header(u, "TO", &v), 1);
    ASSERT_STR(v, "sip:bob%40biloxi.com");
    cr_assert_eq(sipsess_uri_header(u, "c", NULL), 0);
    cr_assert_eq(sipsess_uri_header(u, NULL, NULL), 0);
    sipsess_uri_free(u);

    const char *bad[] = {"sip:h?", "sip:h?a", "sip:h?a=b&", "sip:h?=b", "sip:h?a=b=c",
                         "sip:h?a=b;c", "sip:h?a=b&&c=d", "sip:h?a=b c", "sip:h?a=b?c=@"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        ASSERT_RC(bad[i], SIPSESS_EURI);
}

Test(uri, escape_validation)
{
    const char *bad[] = {"sip:a%4@h", "sip:a%zz@h", "sip:a%@h", "sip:h;p=%", "sip:h;p=%4",
                         "sip:h?x=%4", "sip:h?x=%g0", "sip:a:%x1@h", "sip:%4", "tel:12%3"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        ASSERT_RC(bad[i], SIPSESS_EURI);
    /* the escape at the very end of the input */
    sipsess_uri *u = parse_ok("sip:h;p=%4a");
    sipsess_uri_free(u);
    /* hosts are never escaped */
    ASSERT_RC("sip:ex%61mple.com", SIPSESS_EURI);
}

Test(uri, bad_characters)
{
    const char *bad[] = {"sip:us er@h",      "sip:user@example.com; lr", "sip:user@example.com ",
                         " sip:user@h",      "sip:u\t@h",                "sip:h;p=<x>",
                         "sip:<h>",          "sip:\"u\"@h",              "sip:u\x7f@h",
                         "sip:\xc3\xa9@h",   "sip:h\r\n",                "sip:u@h>",
                         "sip:u#1@h",        "sip:u|x@h",                "sip:h;a=\\"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        ASSERT_RC(bad[i], SIPSESS_EURI);
    /* a NUL inside the given length is a byte like any other */
    cr_assert_eq(parse_rc_n("sip:u\0x@h", 9), SIPSESS_EURI);
    cr_assert_eq(parse_rc_n("sip:h\0", 6), SIPSESS_EURI);
    /* ... and the length, not a NUL, ends the URI */
    cr_assert_eq(parse_rc_n("sip:h;junk", 5), 0);
}

Test(uri, no_scheme)
{
    const char *bad[] = {"",     "user@example.com", ":foo",  "1sip:foo",
                         "s p:x", "<sip:user@example.com>", "sip", "+tel:1",
                         "-a:b", "sip_x:y", "sip;x:y"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        ASSERT_RC(bad[i], SIPSESS_EURI);
    cr_assert_eq(parse_rc_n("sip:x", 0), SIPSESS_EURI);
}

Test(uri, too_long)
{
    size_t n = 8193;
    char *buf = malloc(n + 1);
    cr_assert_not_null(buf);
    memcpy(buf, "sip:", 4);
    memset(buf + 4, 'a', n - 4);
    buf[n] = '\0';
    cr_assert_eq(parse_rc_n(buf, n), SIPSESS_EURITOOLONG);
    /* exactly 8 KiB is within the limit */
    cr_assert_eq(parse_rc_n(buf, n - 1), 0);
    /* the limit wins over a syntax error further in */
    buf[100] = ' ';
    cr_assert_eq(parse_rc_n(buf, n), SIPSESS_EURITOOLONG);
    free(buf);

    struct sipsess_uri u;
    const char *s = "sip:alice@atlanta.com";
    cr_assert_eq(sipsess__uri_parse_into(&u, s, strlen(s), 10), SIPSESS_EURITOOLONG);
    cr_assert_eq(sipsess__uri_parse_into(&u, s, strlen(s), strlen(s)), 0);
}

/* ---- RFC 4475 URIs ---- */

Test(uri, rfc4475_esc01)
{
    /* Request-URI: the user is "sips:user@example.com" once unescaped */
    sipsess_uri *u = parse_ok("sip:sips%3Auser%40example.com@example.net");
    ASSERT_STR(sipsess_uri_user(u), "sips%3Auser%40example.com");
    ASSERT_STR(sipsess_uri_password(u), NULL);
    ASSERT_STR(sipsess_uri_host(u), "example.net");
    assert_unescaped(sipsess_uri_user(u), "sips:user@example.com", 21);
    sipsess_uri_free(u);

    /* To and From */
    ASSERT_EQUAL("sip:%75se%72@example.com", "sip:user@example.com");
    u = parse_ok("sip:I%20have%20spaces@example.net");
    assert_unescaped(sipsess_uri_user(u), "I have spaces", 13);
    sipsess_uri_free(u);
}

Test(uri, rfc4475_esc01_contact)
{
    sipsess_uri *u = parse_ok("sip:cal%6Cer@host5.example.net;%6C%72;n%61me=v%61lue%25%34%31");
    ASSERT_STR(sipsess_uri_user(u), "cal%6Cer");
    ASSERT_STR(sipsess_uri_params(u), "%6C%72;n%61me=v%61lue%25%34%31");
    sipsess_str v;
    /* lookup compares names as written */
    cr_assert_eq(sipsess_uri_param(u, "lr", NULL), 0);
    cr_assert_eq(sipsess_uri_param(u, "%6c%72", &v), 1);
    ASSERT_STR(v, NULL);
    cr_assert_eq(sipsess_uri_param(u, "n%61me", &v), 1);
    ASSERT_STR(v, "v%61lue%25%34%31");
    /* one level of unescaping only: %25 gives '%', not a new escape */
    assert_unescaped(v, "value%41", 8);
    sipsess_uri_free(u);

    /* comparison unescapes both names and values */
    ASSERT_EQUAL("sip:cal%6Cer@host5.example.net;%6C%72;n%61me=v%61lue%25%34%31",
                 "sip:caller@host5.example.net;lr;name=value%2541");
    ASSERT_NOT_EQUAL("sip:cal%6Cer@host5.example.net;%6C%72;n%61me=v%61lue%25%34%31",
                     "sip:caller@host5.example.net;lr;name=valueA");
}

Test(uri, rfc4475_escnull)
{
    sipsess_uri *u = parse_ok("sip:null-%00-null@example.com");
    ASSERT_STR(sipsess_uri_user(u), "null-%00-null");
    assert_unescaped(sipsess_uri_user(u), "null-\0-null", 11);
    sipsess_uri_free(u);

    u = parse_ok("sip:%00@host5.example.com");
    assert_unescaped(sipsess_uri_user(u), "\0", 1);
    sipsess_uri_free(u);
    u = parse_ok("sip:%00%00@host5.example.com");
    assert_unescaped(sipsess_uri_user(u), "\0\0", 2);
    sipsess_uri_free(u);

    /* the two Contacts of escnull are distinct bindings */
    ASSERT_NOT_EQUAL("sip:%00@host5.example.com", "sip:%00%00@host5.example.com");
    ASSERT_NOT_EQUAL("sip:%00@host5.example.com", "sip:host5.example.com");
    ASSERT_RC("sip:@host5.example.com", SIPSESS_EURI);
}

Test(uri, rfc4475_semiuri)
{
    sipsess_uri *u = parse_ok("sip:user;par=u%40example.net@example.com");
    ASSERT_STR(sipsess_uri_user(u), "user;par=u%40example.net");
    ASSERT_STR(sipsess_uri_host(u), "example.com");
    ASSERT_STR(sipsess_uri_params(u), NULL);
    cr_assert_eq(sipsess_uri_param(u, "par", NULL), 0);
    sipsess_uri_free(u);
}

Test(uri, rfc4475_intmeth)
{
    sipsess_uri *u = parse_ok(
        "sip:1_unusual.URI~(to-be!sure)&isn't+it$/crazy?,/;;*:&it+has=1,weird!*pas$wo~d_too."
        "(doesn't-it)@example.com");
    ASSERT_STR(sipsess_uri_user(u), "1_unusual.URI~(to-be!sure)&isn't+it$/crazy?,/;;*");
    ASSERT_STR(sipsess_uri_password(u), "&it+has=1,weird!*pas$wo~d_too.(doesn't-it)");
    ASSERT_STR(sipsess_uri_host(u), "example.com");
    ASSERT_STR(sipsess_uri_params(u), NULL);
    ASSERT_STR(sipsess_uri_headers(u), NULL);
    sipsess_uri_free(u);

    /* the To header field's URI: same user, no password */
    u = parse_ok("sip:1_unusual.URI~(to-be!sure)&isn't+it$/crazy?,/;;*@example.com");
    ASSERT_STR(sipsess_uri_user(u), "1_unusual.URI~(to-be!sure)&isn't+it$/crazy?,/;;*");
    ASSERT_STR(sipsess_uri_password(u), NULL);
    sipsess_uri_free(u);
}

Test(uri, rfc4475_escaped_headers)
{
    /* escruri (Request-URI), regescrt and regbadct (Contact) */
    const char *texts[] = {"sip:user@example.com?Route=%3Csip:example.com%3E",
                           "sip:user@example.com?Route=%3Csip:sip.example.com%3E"};
    const char *want[] = {"<sip:example.com>", "<sip:sip.example.com>"};
    for (int i = 0; i < 2; i++) {
        sipsess_uri *u = parse_ok(texts[i]);
        sipsess_str v;
        cr_assert_eq(sipsess_uri_header(u, "route", &v), 1);
        char buf[64];
        size_t n;
        cr_assert_eq(sipsess_unescape(v, buf, sizeof buf, &n), 0);
        cr_assert_str_eq(buf, want[i]);
        /* printing keeps the escapes */
        cr_assert_eq(sipsess_uri_print(u, buf, sizeof buf, &n), 0);
        cr_assert_str_eq(buf, texts[i]);
        sipsess_uri_free(u);
    }
}

Test(uri, rfc4475_unknown_schemes)
{
    struct {
        const char *text, *scheme, *opaque;
    } t[] = {
        {"nobodyKnowsThisScheme:totallyopaquecontent", "nobodyKnowsThisScheme",
         "totallyopaquecontent"},                                    /* unkscm */
        {"soap.beep://192.0.2.103:3002", "soap.beep", "//192.0.2.103:3002"}, /* novelsc */
        {"isbn:2983792873", "isbn", "2983792873"},                   /* unksm2 To */
        {"http://www.example.com", "http", "//www.example.com"},     /* unksm2 From */
        {"name:John_Smith", "name", "John_Smith"},                   /* unksm2 Contact */
        {"urn:service:sos", "urn", "service:sos"},
        {"mailto:a@b.c?subject=x%20y", "mailto", "a@b.c?subject=x%20y"},
        {"z9+-.:x", "z9+-.", "x"},
    };
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
        sipsess_uri *u = parse_ok(t[i].text);
        cr_assert_eq(sipsess_uri_scheme_id(u), SIPSESS_URI_OTHER, "%s", t[i].text);
        ASSERT_STR(sipsess_uri_scheme_name(u), t[i].scheme);
        ASSERT_STR(sipsess_uri_opaque(u), t[i].opaque);
        ASSERT_STR(sipsess_uri_text(u), t[i].text);
        ASSERT_STR(sipsess_uri_user(u), NULL);
        ASSERT_STR(sipsess_uri_host(u), NULL);
        ASSERT_STR(sipsess_uri_params(u), NULL);
        cr_assert_eq(sipsess_uri_host_type(u), SIPSESS_HOST_NONE);
        cr_assert_eq(sipsess_uri_port(u), 0);
        sipsess_uri_free(u);
    }
    const char *bad[] = {"urn:ser vice", "http://x/<a>", "foo:", "x:a\tb", "x:a\"b",
                         "x:\xc3\xa9", "x:a\r\n", "x:a>"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        ASSERT_RC(bad[i], SIPSESS_EURI);
}

/* Request-URI of every RFC 4475 / 5118 message, read from the files: the
 * start line is split at the first space and at " SIP/". */
Test(uri, conformance_request_uris)
{
    struct {
        const char *file;
        int rc;
        const char *host;
    } t[] = {
        {"rfc4475/wsinv.dat", 0, "chair-dnrc.example.com"},
        {"rfc4475/intmeth.dat", 0, "example.com"},
        {"rfc4475/esc01.dat", 0, "example.net"},
        {"rfc4475/escnull.dat", 0, "example.com"},
        {"rfc4475/esc02.dat", 0, "registrar.example.com"},
        {"rfc4475/semiuri.dat", 0, "example.com"},
        {"rfc4475/mpart01.dat", 0, "example.org"},
        {"rfc4475/inv2543.dat", 0, "example.com"},
        {"rfc4475/escruri.dat", 0, "example.com"},
        {"rfc4475/trws.dat", 0, "example.com"},
        {"rfc4475/badvers.dat", 0, "example.org"},
        {"rfc4475/unkscm.dat", 0, NULL},
        {"rfc4475/novelsc.dat", 0, NULL},
        {"rfc4475/ltgtruri.dat", SIPSESS_EURI, NULL},
        {"rfc4475/lwsruri.dat", SIPSESS_EURI, NULL},
        {"rfc4475/lwsstart.dat", SIPSESS_EURI, NULL},
        {"rfc5118/wire/ipv6-good.dat", 0, "2001:db8::10"},
        {"rfc5118/wire/ipv6-bad.dat", SIPSESS_EURI, NULL},
        {"rfc5118/wire/port-ambiguous.dat", 0, "2001:db8::10:5070"},
        {"rfc5118/wire/port-unambiguous.dat", 0, "2001:db8::10"},
        {"rfc5118/wire/ipv6-bug-abnf-3-colons.dat", 0, "2001:db8:::192.0.2.1"},
        {"rfc5118/wire/ipv6-correct-abnf-2-colons.dat", 0, "2001:db8::192.0.2.1"},
        {"rfc5118/wire/ipv6-in-sdp.dat", 0, "2001:db8::10"},
        {"rfc5118/wire/via-received-param-with-delim.dat", 0, "2001:db8::10"},
        {"rfc5118/wire/mult-ip-in-header.dat", 0, "host.example.net"},
        {"rfc5118/ipv6-good.dat", 0, "2001:db8::10"},
    };
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
        char path[512], line[1024];
        snprintf(path, sizeof path, "%s/conformance/%s", SHARED_DIR, t[i].file);
        FILE *f = fopen(path, "rb");
        cr_assert_not_null(f, "cannot open %s", path);
        cr_assert_not_null(fgets(line, sizeof line, f));
        fclose(f);
        const char *sp = strchr(line, ' ');
        cr_assert_not_null(sp, "%s", path);
        const char *ver = strstr(sp, " SIP/");
        cr_assert_not_null(ver, "%s", path);
        const char *uri = sp + 1;
        size_t len = (size_t)(ver - uri);

        sipsess_uri *u = NULL;
        int rc = sipsess_uri_parse(uri, len, &u);
        cr_assert_eq(rc, t[i].rc, "%s: '%.*s': %s", t[i].file, (int)len, uri,
                     sipsess_errname(rc));
        if (rc == 0) {
            ASSERT_STR(sipsess_uri_host(u), t[i].host);
            sipsess_str txt = sipsess_uri_text(u);
            cr_assert(txt.len == len && memcmp(txt.p, uri, len) == 0);
        }
        sipsess_uri_free(u);
    }
}

/* Header-field URIs of the torture messages (name-addr brackets removed). */
Test(uri, conformance_header_uris)
{
    const char *ok[] = {
        "sip:a.g.bell@example.com",
        "sip:caller@example.net",
        "sip:+19725552222@gw1.example.net;unknownparam",
        "sip:j.user@host.example.com",
        "sip:resource@example.com",
        "sip:alias1@host1.example.com",
        "sip:mundane@example.com",
        "sip:+13035551111@ift.client.example.net;user=phone",
        "sip:UserB@example.com;maddr=ss1.example.com",
        "sip:+16505552222@ss1.example.net;user=phone",
        "sip:127.0.0.1:5080",
        "sip:jdrosen@example.com",
        "sip:user@host.example.net",
        "sip:user@example.net",
        "sip:caller@[2001:db8::1]",
        "sip:user@[2001:db8::10]",
        "sip:caller@[2001:db8::20]",
        "sip:ted@[::ffff:192.0.2.2]",
        "sip:user@east.example.com",
    };
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++)
        ASSERT_RC(ok[i], 0);

    /* longreq's To URI, taken from the file to keep its long names exact */
    char path[512], msg[4096];
    snprintf(path, sizeof path, "%s/conformance/rfc4475/longreq.dat", SHARED_DIR);
    FILE *f = fopen(path, "rb");
    cr_assert_not_null(f, "cannot open %s", path);
    size_t n = fread(msg, 1, sizeof msg - 1, f);
    fclose(f);
    msg[n] = '\0';
    const char *b = strstr(msg, "<sip:user@example.com:6000");
    cr_assert_not_null(b);
    const char *e = strchr(b, '>');
    cr_assert_not_null(e);
    sipsess_uri *u = NULL;
    cr_assert_eq(sipsess_uri_parse(b + 1, (size_t)(e - b - 1), &u), 0);
    cr_assert_eq(sipsess_uri_port(u), 6000);
    sipsess_str params = sipsess_uri_params(u), v;
    const char *last = (const char *)memrchr(params.p, ';', params.len) + 1;
    char name[256];
    size_t nlen = (size_t)(params.p + params.len - last);
    cr_assert_lt(nlen, sizeof name);
    memcpy(name, last, nlen);
    name[nlen] = '\0';
    cr_assert(strstr(name, "ParameterNameWithNoValue"));
    cr_assert_eq(sipsess_uri_param(u, name, &v), 1);
    ASSERT_STR(v, NULL);
    cr_assert_eq(sipsess_uri_param(u, "unknownparam1", &v), 1);
    cr_assert(v.len > 80);
    sipsess_uri_free(u);

    /* badaspec / baddn style: the brackets' spaces are not part of the URI */
    ASSERT_RC(" sip:t.watson@example.org ", SIPSESS_EURI);
}

/* ---- tel: ---- */

Test(uri, tel_parse)
{
    sipsess_uri *u = parse_ok("tel:+1-201-555-0123");
    cr_assert_eq(sipsess_uri_scheme_id(u), SIPSESS_URI_TEL);
    ASSERT_STR(sipsess_uri_user(u), "+1-201-555-0123");
    ASSERT_STR(sipsess_uri_opaque(u), "+1-201-555-0123");
    ASSERT_STR(sipsess_uri_host(u), NULL);
    cr_assert_eq(sipsess_uri_host_type(u), SIPSESS_HOST_NONE);
    ASSERT_STR(sipsess_uri_params(u), NULL);
    sipsess_uri_free(u);

    u = parse_ok("tel:7042;phone-context=example.com");
    ASSERT_STR(sipsess_uri_user(u), "7042");
    sipsess_str v;
    cr_assert_eq(sipsess_uri_param(u, "Phone-Context", &v), 1);
    ASSERT_STR(v, "example.com");
    sipsess_uri_free(u);

    u = parse_ok("TEL:863-1234;phone-context=+1-914-555");
    cr_assert_eq(sipsess_uri_scheme_id(u), SIPSESS_URI_TEL);
    ASSERT_STR(sipsess_uri_user(u), "863-1234");
    cr_assert_eq(sipsess_uri_param(u, "phone-context", &v), 1);
    ASSERT_STR(v, "+1-914-555");
    sipsess_uri_free(u);

    const char *ok[] = {"tel:+358-555-1234567;postd=pp22", "tel:*67#", "tel:(0)123.456",
                        "tel:+1-800-FLOWERS", "tel:+12015550123;ext=1234;isub=abc",
                        "tel:1AbC", "tel:+1%2D2"};
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++)
        ASSERT_RC(ok[i], 0);

    const char *bad[] = {"tel:", "tel:+", "tel:12 34", "tel:123?x=y", "tel:+1;", "tel:--",
                         "tel:1+2", "tel:1@h", "tel:1;a b", "tel:\t1", "tel:1\n",
                         "tel:1;=x"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        ASSERT_RC(bad[i], SIPSESS_EURI);
}

Test(uri, tel_equality)
{
    ASSERT_EQUAL("tel:+1-201-555-0123", "tel:+1(201)555.0123");
    ASSERT_EQUAL("tel:+12015550123", "TEL:+1-201-555-0123");
    ASSERT_NOT_EQUAL("tel:+12015550123", "tel:12015550123");
    ASSERT_NOT_EQUAL("tel:+12015550123", "tel:+12015550124");
    ASSERT_EQUAL("tel:7042;phone-context=example.com", "tel:7042;PHONE-CONTEXT=Example.COM");
    ASSERT_NOT_EQUAL("tel:7042;phone-context=example.com", "tel:7042");
    ASSERT_NOT_EQUAL("tel:7042;phone-context=example.com", "tel:7042;phone-context=examplecom");
    ASSERT_EQUAL("tel:863-1234;phone-context=+1-914-555", "tel:8631234;phone-context=+1914555");
    ASSERT_EQUAL("tel:+1-201-555-0123;ext=1-234;isub=x",
                 "tel:+12015550123;isub=X;ext=1234");
    ASSERT_NOT_EQUAL("tel:+12015550123;ext=1234", "tel:+12015550123");
    ASSERT_EQUAL("tel:1aBc", "tel:1AbC");
    ASSERT_NOT_EQUAL("tel:+12015550123", "sip:+12015550123@h;user=phone");
}

/* ---- RFC 3261 §19.1.4 ---- */

Test(uri, rfc3261_equal_examples)
{
    ASSERT_EQUAL("sip:%61lice@atlanta.com;transport=TCP", "sip:alice@AtLanTa.CoM;Transport=tcp");

    ASSERT_EQUAL("sip:carol@chicago.com", "sip:carol@chicago.com;newparam=5");
    ASSERT_EQUAL("sip:carol@chicago.com", "sip:carol@chicago.com;security=on");
    ASSERT_EQUAL("sip:carol@chicago.com;newparam=5", "sip:carol@chicago.com;security=on");

    ASSERT_EQUAL("sip:biloxi.com;transport=tcp;method=REGISTER?to=sip:bob%40biloxi.com",
                 "sip:biloxi.com;method=REGISTER;transport=tcp?to=sip:bob%40biloxi.com");

    ASSERT_EQUAL("sip:alice@atlanta.com?subject=project%20x&priority=urgent",
                 "sip:alice@atlanta.com?priority=urgent&subject=project%20x");
}

Test(uri, rfc3261_not_equal_examples)
{
    /* different usernames */
    ASSERT_NOT_EQUAL("SIP:ALICE@AtLanTa.CoM;Transport=udp", "sip:alice@AtLanTa.CoM;Transport=UDP");
    /* can resolve to different ports */
    ASSERT_NOT_EQUAL("sip:bob@biloxi.com", "sip:bob@biloxi.com:5060");
    /* can resolve to different transports */
    ASSERT_NOT_EQUAL("sip:bob@biloxi.com", "sip:bob@biloxi.com;transport=udp");
    /* can resolve to different port and transports */
    ASSERT_NOT_EQUAL("sip:bob@biloxi.com", "sip:bob@biloxi.com:6000;transport=tcp");
    /* different header component */
    ASSERT_NOT_EQUAL("sip:carol@chicago.com", "sip:carol@chicago.com?Subject=next%20meeting");
    /* even though that's what phone21.boxesbybob.com resolves to */
    ASSERT_NOT_EQUAL("sip:bob@phone21.boxesbybob.com", "sip:bob@192.0.2.4");
    /* equality is not transitive */
    ASSERT_NOT_EQUAL("sip:carol@chicago.com;security=on", "sip:carol@chicago.com;security=off");
}

Test(uri, equality_details)
{
    /* sip and sips are never equal */
    ASSERT_NOT_EQUAL("sip:alice@atlanta.com", "sips:alice@atlanta.com");
    ASSERT_EQUAL("SIPS:alice@atlanta.com", "sips:alice@atlanta.com");
    /* an escaped reserved character differs from the character itself */
    ASSERT_NOT_EQUAL("sip:a%3Bb@h", "sip:a;b@h");
    ASSERT_EQUAL("sip:a%3bb@h", "sip:a%3Bb@h");
    ASSERT_EQUAL("sip:%41@h", "sip:A@h");
    ASSERT_NOT_EQUAL("sip:%41@h", "sip:a@h");
    /* userinfo: presence, password, case */
    ASSERT_NOT_EQUAL("sip:h", "sip:u@h");
    ASSERT_NOT_EQUAL("sip:u@h", "sip:u:@h");
    ASSERT_NOT_EQUAL("sip:u:pw@h", "sip:u:PW@h");
    ASSERT_EQUAL("sip:u:p%77@h", "sip:u:pw@h");
    /* ports */
    ASSERT_EQUAL("sip:h:5060", "sip:h:05060");
    ASSERT_NOT_EQUAL("sip:h", "sip:h:0");
    ASSERT_NOT_EQUAL("sip:h:5060", "sip:h:5061");
    /* host */
    ASSERT_NOT_EQUAL("sip:u@example.com", "sip:u@example.com.");
    ASSERT_NOT_EQUAL("sip:u@example.com", "sip:u@example.org");
    /* must-match parameters, each of them */
    const char *must[] = {"user=phone", "ttl=1", "method=INVITE", "maddr=1.2.3.4",
                          "transport=tcp", "TTL=1", "%75ser=ip"};
    for (size_t i = 0; i < sizeof must / sizeof must[0]; i++) {
        char with[64];
        snprintf(with, sizeof with, "sip:u@h;%s", must[i]);
        ASSERT_NOT_EQUAL("sip:u@h", with);
        ASSERT_EQUAL(with, with);
    }
    ASSERT_NOT_EQUAL("sip:u@h;user=phone", "sip:u@h;user=ip");
    ASSERT_NOT_EQUAL("sip:u@h;ttl=1", "sip:u@h;ttl=2");
    ASSERT_EQUAL("sip:u@h;maddr=Example.COM", "sip:u@h;MADDR=example.com");
    /* other params: compared only when present on both sides */
    ASSERT_EQUAL("sip:u@h;lr", "sip:u@h");
    ASSERT_EQUAL("sip:u@h;lr", "sip:u@h;LR");
    ASSERT_NOT_EQUAL("sip:u@h;lr", "sip:u@h;lr=on");
    ASSERT_EQUAL("sip:u@h;foo=Bar%20x;lr", "sip:u@h;FOO=bar%20X");
    ASSERT_NOT_EQUAL("sip:u@h;foo=1;lr", "sip:u@h;foo=2;lr");
    /* a repeated parameter counts with its first value, so a URI always
     * equals itself */
    ASSERT_EQUAL("sip:u@h;e=1;e=2", "sip:u@h;e=1;e=2");
    ASSERT_EQUAL("sip:u@h;e=1;e=2", "sip:u@h;e=1");
    ASSERT_NOT_EQUAL("sip:u@h;e=2;e=1", "sip:u@h;e=1");
    ASSERT_EQUAL("tel:1;e=3l:-1;e=3", "tel:1;e=3l:-1;e=3");
    /* headers: all of them, both sides, order free, values unescaped */
    ASSERT_EQUAL("sip:u@h?a=1&b=2", "sip:u@h?B=2&A=1");
    ASSERT_EQUAL("sip:u@h?a=%41", "sip:u@h?a=a");
    ASSERT_NOT_EQUAL("sip:u@h?a=1&b=2", "sip:u@h?a=1");
    ASSERT_NOT_EQUAL("sip:u@h?a=1", "sip:u@h?a=2");
    ASSERT_NOT_EQUAL("sip:u@h?a=1&a=1&a=2", "sip:u@h?a=1&a=2&a=2");
    ASSERT_EQUAL("sip:u@h?a=1&a=2&a=1", "sip:u@h?a=1&a=1&a=2");
    /* other schemes: whole text, case-insensitively */
    ASSERT_EQUAL("urn:service:sos", "URN:Service:SOS");
    ASSERT_NOT_EQUAL("urn:service:sos", "urn:service:sos.fire");
    ASSERT_NOT_EQUAL("urn:service:sos", "sip:service");
}

Test(uri, equality_null)
{
    sipsess_uri *u = parse_ok("sip:u@h");
    cr_assert_eq(sipsess_uri_equal(u, NULL), 0);
    cr_assert_eq(sipsess_uri_equal(NULL, u), 0);
    cr_assert_eq(sipsess_uri_equal(NULL, NULL), 0);
    cr_assert_eq(sipsess_uri_equal(u, u), 1);
    sipsess_uri_free(u);
}

/* ---- unescape ---- */

Test(uri, unescape_basic)
{
    assert_unescaped(sipsess__str_c("v%61lue%25%34%31"), "value%41", 8);
    assert_unescaped(sipsess__str_c("%4a%4A%7e"), "JJ~", 3);
    assert_unescaped(sipsess__str_c("plain"), "plain", 5);
    assert_unescaped(sipsess__str_c(""), "", 0);
    assert_unescaped(sipsess__str_c("%00a%00"), "\0a\0", 3);
    assert_unescaped(sipsess__str_c("%ff"), "\xff", 1);
    /* an absent view decodes to nothing */
    sipsess_str none = {NULL, 0};
    assert_unescaped(none, "", 0);
}

Test(uri, unescape_space)
{
    char buf[8];
    size_t n = 0;
    sipsess_str in = sipsess__str_c("a%62c%64e"); /* "abcde" */

    memset(buf, 'X', sizeof buf);
    cr_assert_eq(sipsess_unescape(in, buf, 3, &n), SIPSESS_ENOSPC);
    cr_assert_eq(n, 5);
    cr_assert_eq(buf[3], 'X', "wrote past cap");

    /* an exact fit succeeds without a terminator */
    memset(buf, 'X', sizeof buf);
    cr_assert_eq(sipsess_unescape(in, buf, 5, &n), 0);
    cr_assert_eq(n, 5);
    cr_assert(memcmp(buf, "abcde", 5) == 0);
    cr_assert_eq(buf[5], 'X');

    cr_assert_eq(sipsess_unescape(in, buf, 6, &n), 0);
    cr_assert_str_eq(buf, "abcde");

    /* length query */
    n = 0;
    cr_assert_eq(sipsess_unescape(in, NULL, 0, &n), SIPSESS_ENOSPC);
    cr_assert_eq(n, 5);
    cr_assert_eq(sipsess_unescape(sipsess__str_c(""), NULL, 0, &n), 0);
    cr_assert_eq(n, 0);

    /* NUL bytes count in the length */
    cr_assert_eq(sipsess_unescape(sipsess__str_c("%00%00%00"), buf, 2, &n), SIPSESS_ENOSPC);
    cr_assert_eq(n, 3);
}

Test(uri, unescape_errors)
{
    char buf[16];
    size_t n = 77;
    const char *bad[] = {"%", "%4", "a%zz", "%g1", "abc%", "%%41", "% 41"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        cr_assert_eq(sipsess_unescape(sipsess__str_c(bad[i]), buf, sizeof buf, &n),
                     SIPSESS_EINVAL, "%s", bad[i]);
    /* the escape must lie inside the view even if the bytes follow it */
    sipsess_str cut = {"ab%41", 4};
    cr_assert_eq(sipsess_unescape(cut, buf, sizeof buf, &n), SIPSESS_EINVAL);

    cr_assert_eq(sipsess_unescape(sipsess__str_c("a"), buf, sizeof buf, NULL), SIPSESS_EINVAL);
    cr_assert_eq(sipsess_unescape(sipsess__str_c("a"), NULL, 4, &n), SIPSESS_EINVAL);
    sipsess_str nullp = {NULL, 3};
    cr_assert_eq(sipsess_unescape(nullp, buf, sizeof buf, &n), SIPSESS_EINVAL);
}

/* ---- print ---- */

Test(uri, print)
{
    const char *text = "sip:cal%6Cer@[2001:db8::1]:5070;%6C%72?h=%20";
    sipsess_uri *u = parse_ok(text);
    char buf[128];
    size_t n = 0;
    cr_assert_eq(sipsess_uri_print(u, buf, sizeof buf, &n), 0);
    cr_assert_eq(n, strlen(text));
    cr_assert_str_eq(buf, text);

    memset(buf, 'X', sizeof buf);
    cr_assert_eq(sipsess_uri_print(u, buf, 10, &n), SIPSESS_ENOSPC);
    cr_assert_eq(n, strlen(text));
    cr_assert_eq(buf[10], 'X');

    memset(buf, 'X', sizeof buf);
    cr_assert_eq(sipsess_uri_print(u, buf, strlen(text), &n), 0);
    cr_assert(memcmp(buf, text, n) == 0);
    cr_assert_eq(buf[n], 'X');

    cr_assert_eq(sipsess_uri_print(u, NULL, 0, &n), SIPSESS_ENOSPC);
    cr_assert_eq(n, strlen(text));

    cr_assert_eq(sipsess_uri_print(NULL, buf, sizeof buf, &n), SIPSESS_EINVAL);
    cr_assert_eq(sipsess_uri_print(u, buf, sizeof buf, NULL), SIPSESS_EINVAL);
    cr_assert_eq(sipsess_uri_print(u, NULL, 5, &n), SIPSESS_EINVAL);

    /* print then parse gives an equal URI */
    cr_assert_eq(sipsess_uri_print(u, buf, sizeof buf, &n), 0);
    sipsess_uri *v = parse_ok(buf);
    cr_assert_eq(sipsess_uri_equal(u, v), 1);
    sipsess_uri_free(v);
    sipsess_uri_free(u);
}

/* ---- ownership ---- */

Test(uri, parse_copies_text)
{
    char text[] = "sip:alice:pw@atlanta.com:5060;transport=tcp?subject=hi";
    sipsess_uri *u = NULL;
    cr_assert_eq(sipsess_uri_parse(text, strlen(text), &u), 0);
    memset(text, 'Z', sizeof text - 1);
    ASSERT_STR(sipsess_uri_text(u), "sip:alice:pw@atlanta.com:5060;transport=tcp?subject=hi");
    ASSERT_STR(sipsess_uri_scheme_name(u), "sip");
    ASSERT_STR(sipsess_uri_user(u), "alice");
    ASSERT_STR(sipsess_uri_password(u), "pw");
    ASSERT_STR(sipsess_uri_host(u), "atlanta.com");
    ASSERT_STR(sipsess_uri_opaque(u), "alice:pw@atlanta.com:5060");
    ASSERT_STR(sipsess_uri_params(u), "transport=tcp");
    ASSERT_STR(sipsess_uri_headers(u), "subject=hi");
    /* the owned copy is NUL-terminated for convenience */
    cr_assert_eq(sipsess_uri_text(u).p[sipsess_uri_text(u).len], '\0');
    sipsess_uri_free(u);
}

Test(uri, parse_into_views_point_into_input)
{
    char text[] = "sip:bob@[2001:db8::10]:5070;lr?x=y";
    struct sipsess_uri u;
    cr_assert_eq(sipsess__uri_parse_into(&u, text, strlen(text), 4096), 0);
    cr_assert_eq(u.owned, 0);
    cr_assert_eq(u.text.p, text);
    cr_assert_eq(u.scheme.p, text);
    cr_assert_eq(u.user.p, text + 4);
    cr_assert_eq(u.host.p, text + 9);
    cr_assert_eq(u.params.p, text + 28);
    cr_assert_eq(u.headers.p, text + 31);
    cr_assert_eq(u.port, 5070);
    /* freeing a URI that belongs to someone else does nothing */
    sipsess_uri_free(&u);

    /* on failure only the text survives, for diagnostics */
    const char *bad = "sip:u@h;x y";
    cr_assert_eq(sipsess__uri_parse_into(&u, bad, strlen(bad), 4096), SIPSESS_EURI);
    cr_assert_eq(u.text.p, bad);
    cr_assert_eq(u.text.len, strlen(bad));
    cr_assert_null(u.user.p);
    cr_assert_null(u.host.p);
    cr_assert_null(u.params.p);
    cr_assert_eq(u.scheme_id, SIPSESS_URI_OTHER);
    cr_assert_eq(sipsess__uri_parse_into(NULL, bad, strlen(bad), 4096), SIPSESS_EINVAL);
    cr_assert_eq(sipsess__uri_parse_into(&u, NULL, 0, 4096), SIPSESS_EURI);
}

/* The parameter-list helper shared by the header accessors and the
 * printer: an absent list is {NULL,0}, and the helper must not do pointer
 * arithmetic on it (NULL + 0 is undefined; UBSan's pointer-overflow check
 * reports it in the sanitizer build). */
Test(uri, param_find_on_an_absent_list)
{
    sipsess_str none = {NULL, 0}, v = {"x", 1};
    cr_assert_not(sipsess__param_find(none, ';', "tag", &v));
    cr_assert_eq(v.len, 1, "value untouched");
    cr_assert_not(sipsess__param_find(none, ',', "realm", NULL));
    sipsess_str list = sipsess__str_c("a=1; tag=x ;b");
    cr_assert(sipsess__param_find(list, ';', "TAG", &v));
    ASSERT_STR(v, "x");
    cr_assert(sipsess__param_find(list, ';', "b", &v));
    ASSERT_STR(v, NULL);
    cr_assert_not(sipsess__param_find(list, ';', "ta", &v), "a prefix is not a name");
    cr_assert_not(sipsess__param_find(list, ';', NULL, &v));
}

Test(uri, dup)
{
    char text[] = "sips:u%41:p@[::1]:5061;maddr=x?h=v";
    struct sipsess_uri borrowed;
    cr_assert_eq(sipsess__uri_parse_into(&borrowed, text, strlen(text), 4096), 0);
    sipsess_uri *d = NULL;
    cr_assert_eq(sipsess_uri_dup(&borrowed, &d), 0);
    memset(text, '!', sizeof text - 1);
    cr_assert_eq(d->owned, 1);
    ASSERT_STR(sipsess_uri_text(d), "sips:u%41:p@[::1]:5061;maddr=x?h=v");
    ASSERT_STR(sipsess_uri_user(d), "u%41");
    ASSERT_STR(sipsess_uri_password(d), "p");
    ASSERT_STR(sipsess_uri_host(d), "::1");
    ASSERT_STR(sipsess_uri_opaque(d), "u%41:p@[::1]:5061");
    ASSERT_STR(sipsess_uri_params(d), "maddr=x");
    ASSERT_STR(sipsess_uri_headers(d), "h=v");
    cr_assert_eq(sipsess_uri_scheme_id(d), SIPSESS_URI_SIPS);
    cr_assert_eq(sipsess_uri_host_type(d), SIPSESS_HOST_IPV6);
    cr_assert_eq(sipsess_uri_port(d), 5061);

    /* a dup of a dup, compared with the original */
    sipsess_uri *d2 = NULL;
    cr_assert_eq(sipsess_uri_dup(d, &d2), 0);
    cr_assert_neq(sipsess_uri_text(d2).p, sipsess_uri_text(d).p);
    cr_assert_eq(sipsess_uri_equal(d, d2), 1);
    sipsess_uri_free(d);
    ASSERT_STR(sipsess_uri_host(d2), "::1");
    sipsess_uri_free(d2);

    /* every scheme kind */
    const char *kinds[][2] = {{"tel:+1-2;ext=3", "+1-2"}, {"urn:service:sos", "service:sos"},
                              {"sip:h", "h"}};
    for (size_t i = 0; i < 3; i++) {
        sipsess_uri *a = parse_ok(kinds[i][0]), *b = NULL;
        cr_assert_eq(sipsess_uri_dup(a, &b), 0);
        cr_assert_eq(sipsess_uri_equal(a, b), 1);
        ASSERT_STR(sipsess_uri_opaque(b), kinds[i][1]);
        ASSERT_STR(sipsess_uri_text(b), kinds[i][0]);
        sipsess_uri_free(a);
        sipsess_uri_free(b);
    }
}

Test(uri, null_arguments)
{
    sipsess_uri *u = NULL;
    cr_assert_eq(sipsess_uri_parse(NULL, 5, &u), SIPSESS_EINVAL);
    cr_assert_eq(sipsess_uri_parse("sip:h", 5, NULL), SIPSESS_EINVAL);
    cr_assert_null(u);
    cr_assert_eq(sipsess_uri_dup(NULL, &u), SIPSESS_EINVAL);
    sipsess_uri *a = parse_ok("sip:h");
    cr_assert_eq(sipsess_uri_dup(a, NULL), SIPSESS_EINVAL);
    sipsess_uri_free(a);
    sipsess_uri_free(NULL);

    cr_assert_eq(sipsess_uri_scheme_id(NULL), SIPSESS_URI_OTHER);
    ASSERT_STR(sipsess_uri_scheme_name(NULL), NULL);
    ASSERT_STR(sipsess_uri_text(NULL), NULL);
    ASSERT_STR(sipsess_uri_user(NULL), NULL);
    ASSERT_STR(sipsess_uri_password(NULL), NULL);
    ASSERT_STR(sipsess_uri_host(NULL), NULL);
    cr_assert_eq(sipsess_uri_host_type(NULL), SIPSESS_HOST_NONE);
    cr_assert_eq(sipsess_uri_port(NULL), 0);
    ASSERT_STR(sipsess_uri_opaque(NULL), NULL);
    ASSERT_STR(sipsess_uri_params(NULL), NULL);
    ASSERT_STR(sipsess_uri_headers(NULL), NULL);
    sipsess_str v = {"keep", 4};
    cr_assert_eq(sipsess_uri_param(NULL, "lr", &v), 0);
    cr_assert_eq(sipsess_uri_header(NULL, "h", &v), 0);
    ASSERT_STR(v, "keep");
}

/* ---- allocator ---- */

static size_t g_allocs;
static int g_fail;

static void *count_malloc(size_t n, void *ud)
{
    (void)ud;
    g_allocs++;
    return g_fail ? NULL : malloc(n);
}
static void *count_realloc(void *p, size_t n, void *ud)
{
    (void)ud;
    g_allocs++;
    return g_fail ? NULL : realloc(p, n);
}
static void count_free(void *p, void *ud)
{
    (void)ud;
    free(p);
}

/* Each Criterion test runs in its own process, so the hook is still free
 * to install unless something in this process allocated already. */
static void install_counting_allocator(void)
{
    if (sipsess_set_allocator(count_malloc, count_realloc, count_free, NULL) != 0)
        cr_skip_test("allocator already in use in this process");
}

Test(uri, parse_into_does_not_allocate)
{
    install_counting_allocator();
    const char *texts[] = {"sip:alice:pw@atlanta.com:5060;transport=tcp?subject=hi",
                           "sip:[2001:db8::10]:5070", "tel:+1-201-555-0123;ext=1",
                           "urn:service:sos", "sip:bad uri"};
    for (size_t i = 0; i < sizeof texts / sizeof texts[0]; i++) {
        struct sipsess_uri u;
        (void)sipsess__uri_parse_into(&u, texts[i], strlen(texts[i]), 4096);
    }
    cr_assert_eq(g_allocs, 0);

    /* an owned URI is exactly one block; a failed parse allocates nothing */
    sipsess_uri *u = parse_ok("sip:alice@atlanta.com");
    cr_assert_eq(g_allocs, 1);
    cr_assert_eq(parse_rc("sip:alice@atlanta.com;"), SIPSESS_EURI);
    cr_assert_eq(g_allocs, 1);
    sipsess_uri *d = NULL;
    cr_assert_eq(sipsess_uri_dup(u, &d), 0);
    cr_assert_eq(g_allocs, 2);
    sipsess_uri_free(d);
    sipsess_uri_free(u);
}

Test(uri, out_of_memory)
{
    install_counting_allocator();
    g_fail = 1;
    sipsess_uri *sentinel = (sipsess_uri *)(uintptr_t)0x1, *u = sentinel;
    cr_assert_eq(sipsess_uri_parse("sip:h", 5, &u), SIPSESS_ENOMEM);
    cr_assert_eq(u, sentinel);
    struct sipsess_uri b;
    cr_assert_eq(sipsess__uri_parse_into(&b, "sip:h", 5, 100), 0);
    cr_assert_eq(sipsess_uri_dup(&b, &u), SIPSESS_ENOMEM);
    cr_assert_eq(u, sentinel);
}
