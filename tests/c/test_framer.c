/*
 * Stream framer (RFC 3261 §18.3, RFC 5626 §3.5.1): messages delimited by
 * the empty line and Content-Length on a byte stream, fed in any pieces.
 */
#include <criterion/criterion.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sipsess/msg.h>

#define PS(s) (int)(s).len, ((s).p ? (s).p : "")

static bool s_same(sipsess_str a, sipsess_str b)
{
    return a.len == b.len && (a.len == 0 || memcmp(a.p, b.p, a.len) == 0);
}

static const char INVITE[] =
    "INVITE sip:bob@biloxi.example.com SIP/2.0\r\n"
    "Via: SIP/2.0/TCP client.atlanta.example.com:5060;branch=z9hG4bK74bf9\r\n"
    "Max-Forwards: 70\r\n"
    "From: Alice <sip:alice@atlanta.example.com>;tag=9fxced76sl\r\n"
    "To: Bob <sip:bob@biloxi.example.com>\r\n"
    "Call-ID: 3848276298220188511@atlanta.example.com\r\n"
    "CSeq: 1 INVITE\r\n"
    "Content-Type: application/sdp\r\n"
    "Content-Length: 28\r\n"
    "\r\n"
    "v=0\r\n"
    "\r\n"           /* an empty line inside the body must not end anything */
    "s=-\r\n"
    "c=IN IP4 0.0.0.0";

static const char RINGING[] =
    "SIP/2.0 180 Ringing\r\n"
    "Via: SIP/2.0/TCP client.atlanta.example.com:5060;branch=z9hG4bK74bf9\r\n"
    "From: Alice <sip:alice@atlanta.example.com>;tag=9fxced76sl\r\n"
    "To: Bob <sip:bob@biloxi.example.com>;tag=8321234356\r\n"
    "Call-ID: 3848276298220188511@atlanta.example.com\r\n"
    "CSeq: 1 INVITE\r\n"
    "l: 0\r\n"
    "\r\n";

static const char BYE[] =
    "BYE sip:alice@client.atlanta.example.com SIP/2.0\n"   /* bare LF line ends */
    "Via: SIP/2.0/TCP biloxi.example.com;branch=z9hG4bKnashds7\n"
    "From: Bob <sip:bob@biloxi.example.com>;tag=8321234356\n"
    "To: Alice <sip:alice@atlanta.example.com>;tag=9fxced76sl\n"
    "Call-ID: 3848276298220188511@atlanta.example.com\n"
    "CSeq: 1 BYE\n"
    "content-length : 4\n"
    "\n"
    "abcd";

#define LEN(lit) (sizeof(lit) - 1)

/* The same bytes parsed as one datagram: what every framed message must
 * equal. */
static void expect_same_as_datagram(const sipsess_msg *m, const char *text, size_t len)
{
    cr_assert(m);
    sipsess_msg *d = NULL;
    cr_assert_eq(sipsess_msg_parse(text, len, NULL, &d, NULL), 0);
    sipsess_str rm = sipsess_msg_raw(m), rd = sipsess_msg_raw(d);
    cr_expect(s_same(rm, rd), "raw bytes differ (%zu vs %zu)", rm.len, rd.len);
    cr_expect(s_same(sipsess_msg_body(m), sipsess_msg_body(d)), "body differs");
    cr_expect_eq(sipsess_msg_status(m), sipsess_msg_status(d));
    cr_expect(s_same(sipsess_msg_method_name(m), sipsess_msg_method_name(d)));
    cr_expect_eq(sipsess_msg_hdr_count(m), sipsess_msg_hdr_count(d));
    for (size_t i = 0; i < sipsess_msg_hdr_count(d); i++) {
        const sipsess_hdr *a = sipsess_msg_hdr_at(m, i), *b = sipsess_msg_hdr_at(d, i);
        cr_expect_eq(sipsess_hdr_get_id(a), sipsess_hdr_get_id(b));
        cr_expect(s_same(sipsess_hdr_value(a), sipsess_hdr_value(b)), "header %zu value", i);
    }
    sipsess_msg_free(d);
}

static sipsess_framer *new_framer(const sipsess_parse_opts *o)
{
    sipsess_framer *f = NULL;
    cr_assert_eq(sipsess_framer_new(o, &f), 0);
    cr_assert(f);
    return f;
}

/* Feed through a fresh exact-size copy, so the framer cannot lean on the
 * caller's buffer staying around or on bytes after it. */
static int feed(sipsess_framer *f, const char *p, size_t n)
{
    char *copy = malloc(n ? n : 1);
    memcpy(copy, p, n);
    int e = sipsess_framer_feed(f, copy, n);
    memset(copy, 'X', n);
    free(copy);
    return e;
}

static sipsess_msg *next_ok(sipsess_framer *f)
{
    sipsess_msg *m = NULL;
    size_t off = 0;
    int e = sipsess_framer_next(f, &m, &off);
    cr_assert_eq(e, 0, "next: %s at %zu", sipsess_errname(e), off);
    return m;
}

static void expect_again(sipsess_framer *f)
{
    sipsess_msg *m = NULL;
    int e = sipsess_framer_next(f, &m, NULL);
    cr_expect_eq(e, SIPSESS_EAGAIN, "next: %s", sipsess_errname(e));
    cr_expect_null(m);
    sipsess_msg_free(m);
}

/* ================================================================== */

Test(framer, message_split_at_every_byte_boundary)
{
    static const struct {
        const char *text;
        size_t len;
    } msgs[] = {{INVITE, LEN(INVITE)}, {RINGING, LEN(RINGING)}, {BYE, LEN(BYE)}};
    for (size_t i = 0; i < 3; i++) {
        const char *t = msgs[i].text;
        size_t len = msgs[i].len;
        for (size_t k = 0; k <= len; k++) {
            sipsess_framer *f = new_framer(NULL);
            cr_assert_eq(feed(f, t, k), 0);
            if (k < len) {
                expect_again(f);
                cr_expect_eq(sipsess_framer_buffered(f), k, "msg %zu split at %zu", i, k);
                cr_assert_eq(feed(f, t + k, len - k), 0);
            }
            sipsess_msg *m = next_ok(f);
            expect_same_as_datagram(m, t, len);
            sipsess_msg_free(m);
            expect_again(f);
            cr_expect_eq(sipsess_framer_buffered(f), 0);
            cr_expect_eq(sipsess_framer_failed(f), 0);
            sipsess_framer_free(f);
        }
    }
}

Test(framer, message_one_byte_at_a_time)
{
    sipsess_framer *f = new_framer(NULL);
    size_t got = 0;
    for (size_t i = 0; i < LEN(INVITE); i++) {
        cr_assert_eq(feed(f, INVITE + i, 1), 0);
        sipsess_msg *m = NULL;
        int e = sipsess_framer_next(f, &m, NULL);
        if (i + 1 < LEN(INVITE)) {
            cr_assert_eq(e, SIPSESS_EAGAIN, "message returned early at byte %zu", i);
        } else {
            cr_assert_eq(e, 0);
            expect_same_as_datagram(m, INVITE, LEN(INVITE));
            sipsess_msg_free(m);
            got++;
        }
    }
    cr_expect_eq(got, 1);
    sipsess_framer_free(f);
}

Test(framer, pipelined_messages_in_one_feed)
{
    size_t total = LEN(INVITE) + LEN(RINGING) + LEN(BYE);
    char *all = malloc(total);
    memcpy(all, INVITE, LEN(INVITE));
    memcpy(all + LEN(INVITE), RINGING, LEN(RINGING));
    memcpy(all + LEN(INVITE) + LEN(RINGING), BYE, LEN(BYE));
    sipsess_framer *f = new_framer(NULL);
    cr_assert_eq(feed(f, all, total), 0);
    cr_expect_eq(sipsess_framer_buffered(f), total);

    sipsess_msg *m = next_ok(f);
    expect_same_as_datagram(m, INVITE, LEN(INVITE));
    cr_expect_eq(sipsess_msg_method(m), SIPSESS_METHOD_INVITE);
    sipsess_msg_free(m);
    cr_expect_eq(sipsess_framer_buffered(f), total - LEN(INVITE));

    m = next_ok(f);
    expect_same_as_datagram(m, RINGING, LEN(RINGING));
    cr_expect_eq(sipsess_msg_status(m), 180);
    sipsess_msg_free(m);
    cr_expect_eq(sipsess_framer_buffered(f), LEN(BYE));

    m = next_ok(f);
    expect_same_as_datagram(m, BYE, LEN(BYE));
    cr_expect(s_same(sipsess_msg_body(m), (sipsess_str){"abcd", 4}));
    sipsess_msg_free(m);
    cr_expect_eq(sipsess_framer_buffered(f), 0);
    expect_again(f);
    sipsess_framer_free(f);

    /* The same stream cut into random pieces (fixed seed). */
    uint32_t seed = 0x2545F491u;
    for (int round = 0; round < 50; round++) {
        f = new_framer(NULL);
        size_t pos = 0, n = 0;
        int kinds[3] = {0};
        while (pos < total) {
            seed ^= seed << 13;
            seed ^= seed >> 17;
            seed ^= seed << 5;
            size_t step = 1 + seed % 97;
            if (step > total - pos)
                step = total - pos;
            cr_assert_eq(feed(f, all + pos, step), 0);
            pos += step;
            while (sipsess_framer_next(f, &m, NULL) == 0) {
                cr_assert_lt(n, 3);
                kinds[n] = sipsess_msg_is_request(m) ? (int)sipsess_msg_method(m) : (int)sipsess_msg_status(m);
                n++;
                sipsess_msg_free(m);
            }
        }
        cr_expect_eq(n, 3, "round %d: %zu messages", round, n);
        cr_expect(kinds[0] == SIPSESS_METHOD_INVITE && kinds[1] == 180 && kinds[2] == SIPSESS_METHOD_BYE);
        cr_expect_eq(sipsess_framer_buffered(f), 0);
        sipsess_framer_free(f);
    }
    free(all);
}

/* ================================================================== */
/* Keep-alives                                                         */

Test(framer, keepalive_pings_counted_lone_crlf_skipped)
{
    sipsess_framer *f = new_framer(NULL);
    cr_expect_eq(sipsess_framer_take_pings(f), 0);
    expect_again(f);

    /* A ping alone. */
    cr_assert_eq(feed(f, "\r\n\r\n", 4), 0);
    expect_again(f);
    cr_expect_eq(sipsess_framer_buffered(f), 0);
    cr_expect_eq(sipsess_framer_take_pings(f), 1);
    cr_expect_eq(sipsess_framer_take_pings(f), 0, "taking resets the count");

    /* A ping split in two is still one ping, not two pongs. */
    cr_assert_eq(feed(f, "\r\n", 2), 0);
    expect_again(f);
    cr_expect_eq(sipsess_framer_buffered(f), 2, "a CRLF that may become a ping is held");
    cr_assert_eq(feed(f, "\r\n", 2), 0);
    expect_again(f);
    cr_expect_eq(sipsess_framer_take_pings(f), 1);

    /* A lone CRLF (a pong) before a message is skipped, not counted. */
    cr_assert_eq(feed(f, "\r\n", 2), 0);
    cr_assert_eq(feed(f, RINGING, LEN(RINGING)), 0);
    sipsess_msg *m = next_ok(f);
    expect_same_as_datagram(m, RINGING, LEN(RINGING));
    sipsess_msg_free(m);
    cr_expect_eq(sipsess_framer_take_pings(f), 0);

    /* Two pings and a bare LF between messages, in one feed. */
    char buf[1024];
    size_t n = 0;
    memcpy(buf + n, "\r\n\r\n\r\n\r\n\n", 9);
    n += 9;
    memcpy(buf + n, RINGING, LEN(RINGING));
    n += LEN(RINGING);
    memcpy(buf + n, "\r\n", 2);
    n += 2;
    cr_assert_eq(feed(f, buf, n), 0);
    m = next_ok(f);
    sipsess_msg_free(m);
    cr_expect_eq(sipsess_framer_take_pings(f), 2);
    expect_again(f);
    cr_expect_eq(sipsess_framer_buffered(f), 2, "a trailing CRLF waits to see if it is a ping");
    cr_assert_eq(feed(f, "\r\n", 2), 0);
    expect_again(f);
    cr_expect_eq(sipsess_framer_take_pings(f), 1);
    cr_expect_eq(sipsess_framer_buffered(f), 0);

    /* A lone CR waits for its LF. */
    cr_assert_eq(feed(f, "\r", 1), 0);
    expect_again(f);
    cr_assert_eq(feed(f, "\n", 1), 0);
    expect_again(f);
    cr_assert_eq(feed(f, RINGING, LEN(RINGING)), 0);
    m = next_ok(f);
    sipsess_msg_free(m);
    cr_expect_eq(sipsess_framer_take_pings(f), 0);
    cr_expect_eq(sipsess_framer_failed(f), 0);
    sipsess_framer_free(f);
}

/* ================================================================== */
/* Content-Length on a stream                                           */

static const char NO_CLEN[] = "OPTIONS sip:b@h SIP/2.0\r\nVia: SIP/2.0/TCP h;branch=z9hG4bK1\r\n"
                              "From: <sip:a@h>;tag=1\r\nTo: <sip:b@h>\r\nCall-ID: x\r\nCSeq: 1 OPTIONS\r\n";

static void expect_stream_broken(const char *clen_lines, int want)
{
    char buf[1024];
    int n = snprintf(buf, sizeof buf, "%s%s\r\nsome body bytes", NO_CLEN, clen_lines);
    sipsess_framer *f = new_framer(NULL);
    cr_assert_eq(feed(f, buf, (size_t)n), 0);
    sipsess_msg *m = NULL;
    int e = sipsess_framer_next(f, &m, NULL);
    cr_expect_eq(e, want, "[%s]: %s", clen_lines, sipsess_errname(e));
    cr_expect_null(m);
    cr_expect_eq(sipsess_framer_failed(f), want, "[%s] leaves the framer failed", clen_lines);
    /* Nothing more comes out of a broken stream, and nothing goes in. */
    cr_expect_eq(sipsess_framer_next(f, &m, NULL), SIPSESS_EFRAMING);
    cr_expect_eq(sipsess_framer_feed(f, RINGING, LEN(RINGING)), SIPSESS_EFRAMING);
    cr_expect_eq(sipsess_framer_next(f, &m, NULL), SIPSESS_EFRAMING);
    cr_expect_null(m);
    sipsess_framer_free(f);
}

Test(framer, missing_content_length_breaks_the_stream)
{
    expect_stream_broken("", SIPSESS_ECLEN);
}

Test(framer, invalid_content_length_breaks_the_stream)
{
    expect_stream_broken("Content-Length: -999\r\n", SIPSESS_ECLEN);
    expect_stream_broken("Content-Length: five\r\n", SIPSESS_ECLEN);
    expect_stream_broken("Content-Length: +5\r\n", SIPSESS_ECLEN);
    expect_stream_broken("Content-Length: 5 6\r\n", SIPSESS_ECLEN);
    expect_stream_broken("Content-Length: 4294967296\r\n", SIPSESS_ECLEN);
    expect_stream_broken("Content-Length: 99999999999999999999999999\r\n", SIPSESS_ECLEN);
    expect_stream_broken("Content-Length:\r\n", SIPSESS_ECLEN);
}

Test(framer, conflicting_content_lengths_break_the_stream)
{
    expect_stream_broken("Content-Length: 13\r\nl: 5\r\n", SIPSESS_ECLEN);
    expect_stream_broken("content-length: 1\r\nCONTENT-LENGTH: 2\r\n", SIPSESS_ECLEN);

    /* The same length twice frames fine. */
    char buf[512];
    int n = snprintf(buf, sizeof buf, "%sContent-Length: 4\r\nl : 4\r\n\r\nbody", NO_CLEN);
    sipsess_framer *f = new_framer(NULL);
    cr_assert_eq(feed(f, buf, (size_t)n), 0);
    sipsess_msg *m = next_ok(f);
    cr_expect(s_same(sipsess_msg_body(m), (sipsess_str){"body", 4}));
    sipsess_msg_free(m);
    sipsess_framer_free(f);
}

/* RFC 3261 §7.3.1 lets any header value start on a continuation line;
 * framing must read the length there too. */
Test(framer, folded_content_length)
{
    char buf[512];
    int n = snprintf(buf, sizeof buf, "%sContent-Length:\r\n   4\r\n\r\nbody", NO_CLEN);
    sipsess_msg *d = NULL;
    cr_assert_eq(sipsess_msg_parse(buf, (size_t)n, NULL, &d, NULL), 0, "the datagram parser accepts it");
    sipsess_msg_free(d);
    sipsess_framer *f = new_framer(NULL);
    cr_assert_eq(feed(f, buf, (size_t)n), 0);
    sipsess_msg *m = NULL;
    int e = sipsess_framer_next(f, &m, NULL);
    cr_expect_eq(e, 0, "framing a folded Content-Length: %s", sipsess_errname(e));
    cr_expect(m && s_same(sipsess_msg_body(m), (sipsess_str){"body", 4}));
    sipsess_msg_free(m);
    sipsess_framer_free(f);
}

Test(framer, body_arriving_later)
{
    size_t hlen = (size_t)(strstr(INVITE, "\r\n\r\n") - INVITE) + 4;
    sipsess_framer *f = new_framer(NULL);
    cr_assert_eq(feed(f, INVITE, hlen), 0);
    expect_again(f);
    cr_expect_eq(sipsess_framer_buffered(f), hlen);
    for (size_t i = hlen; i < LEN(INVITE) - 1; i++) {
        cr_assert_eq(feed(f, INVITE + i, 1), 0);
        expect_again(f);
        cr_expect_eq(sipsess_framer_buffered(f), i + 1);
    }
    /* The last body byte arrives together with the next message's start. */
    char tail[64];
    tail[0] = INVITE[LEN(INVITE) - 1];
    memcpy(tail + 1, RINGING, 20);
    cr_assert_eq(feed(f, tail, 21), 0);
    sipsess_msg *m = next_ok(f);
    expect_same_as_datagram(m, INVITE, LEN(INVITE));
    sipsess_msg_free(m);
    cr_expect_eq(sipsess_framer_buffered(f), 20);
    expect_again(f);
    cr_assert_eq(feed(f, RINGING + 20, LEN(RINGING) - 20), 0);
    m = next_ok(f);
    expect_same_as_datagram(m, RINGING, LEN(RINGING));
    sipsess_msg_free(m);
    sipsess_framer_free(f);
}

/* ================================================================== */
/* Size limits                                                          */

Test(framer, oversize_header_section)
{
    sipsess_parse_opts o;
    sipsess_parse_opts_init(&o);
    o.max_msg_size = 200;
    sipsess_framer *f = new_framer(&o);
    o.max_msg_size = 1; /* copied at creation: later changes do not count */

    /* 200 bytes with no end of headers yet: still waiting. */
    char hdr[256];
    int n = snprintf(hdr, sizeof hdr, "%sX-Pad: ", NO_CLEN);
    memset(hdr + n, 'p', sizeof hdr - (size_t)n);
    cr_assert_eq(feed(f, hdr, 200), 0);
    expect_again(f);
    cr_expect_eq(sipsess_framer_failed(f), 0);
    /* One more byte and the header section can no longer fit. */
    cr_assert_eq(feed(f, hdr + 200, 1), 0);
    sipsess_msg *m = NULL;
    cr_expect_eq(sipsess_framer_next(f, &m, NULL), SIPSESS_ETOOBIG);
    cr_expect_eq(sipsess_framer_failed(f), SIPSESS_ETOOBIG);
    cr_expect_eq(sipsess_framer_feed(f, "x", 1), SIPSESS_EFRAMING);
    sipsess_framer_free(f);
}

Test(framer, oversize_message_by_content_length)
{
    sipsess_parse_opts o;
    sipsess_parse_opts_init(&o);
    char buf[512];
    int n = snprintf(buf, sizeof buf, "%sContent-Length: 10\r\n\r\n0123456789", NO_CLEN);
    o.max_msg_size = (uint32_t)n;
    sipsess_framer *f = new_framer(&o);
    cr_assert_eq(feed(f, buf, (size_t)n), 0);
    sipsess_msg *m = next_ok(f);
    sipsess_msg_free(m);
    sipsess_framer_free(f);

    /* Declares one byte more than the limit allows: refused as soon as the
     * header section is in, before any body byte is waited for. */
    o.max_msg_size = (uint32_t)n - 1;
    f = new_framer(&o);
    cr_assert_eq(feed(f, buf, (size_t)n - 10), 0);
    cr_expect_eq(sipsess_framer_next(f, &m, NULL), SIPSESS_ETOOBIG);
    cr_expect_eq(sipsess_framer_failed(f), SIPSESS_ETOOBIG);
    sipsess_framer_free(f);
}

Test(framer, feed_over_the_buffer_limit)
{
    sipsess_parse_opts o;
    sipsess_parse_opts_init(&o);
    o.max_msg_size = 100;
    sipsess_framer *f = new_framer(&o);
    char junk[201];
    memset(junk, 'j', sizeof junk);
    cr_expect_eq(sipsess_framer_feed(f, junk, 200), 0, "two message sizes may be held");
    cr_expect_eq(sipsess_framer_feed(f, junk, 1), SIPSESS_ETOOBIG);
    cr_expect_eq(sipsess_framer_failed(f), SIPSESS_ETOOBIG);
    cr_expect_eq(sipsess_framer_feed(f, junk, 1), SIPSESS_EFRAMING);
    sipsess_framer_free(f);
}

/* ================================================================== */
/* Parse errors of well-framed messages                                 */

Test(framer, parse_error_keeps_the_stream_usable)
{
    char bad[512];
    int n = snprintf(bad, sizeof bad,
                     "OPTIONS sip:b@h SIP/2.0\r\nVia: SIP/2.0/TCP h;branch=z9hG4bK1\r\nFrom: <sip:a@h>;tag=1\r\n"
                     "To: <sip:b@h>\r\nCall-ID: x\r\nCSeq: 1 INVITE\r\nContent-Length: 3\r\n\r\nabc");
    size_t cseq_at = (size_t)(strstr(bad, "1 INVITE") - bad);
    sipsess_framer *f = new_framer(NULL);
    cr_assert_eq(feed(f, "\r\n\r\n", 4), 0);
    cr_assert_eq(feed(f, bad, (size_t)n), 0);
    cr_assert_eq(feed(f, RINGING, LEN(RINGING)), 0);
    sipsess_msg *m = NULL;
    size_t off = 0;
    cr_expect_eq(sipsess_framer_next(f, &m, &off), SIPSESS_ECSEQ);
    cr_expect_null(m);
    cr_expect_eq(off, cseq_at, "err_off %zu counts from the failed message's first byte", off);
    cr_expect_eq(sipsess_framer_failed(f), 0);
    cr_expect_eq(sipsess_framer_buffered(f), LEN(RINGING), "the bad message was consumed");
    cr_expect_eq(sipsess_framer_take_pings(f), 1);
    m = next_ok(f);
    expect_same_as_datagram(m, RINGING, LEN(RINGING));
    sipsess_msg_free(m);

    /* A start line that is not SIP at all, with a length: same. */
    static const char junk[] = "HELLO WORLD\r\nContent-Length: 2\r\n\r\nhi";
    cr_assert_eq(feed(f, junk, LEN(junk)), 0);
    cr_assert_eq(feed(f, RINGING, LEN(RINGING)), 0);
    cr_expect_eq(sipsess_framer_next(f, &m, NULL), SIPSESS_ESTARTLINE);
    m = next_ok(f);
    sipsess_msg_free(m);
    sipsess_framer_free(f);
}

Test(framer, lenient_framer_returns_flawed_messages)
{
    sipsess_parse_opts o;
    sipsess_parse_opts_init(&o);
    o.flags = SIPSESS_PARSE_LENIENT;
    char bad[512];
    int n = snprintf(bad, sizeof bad, "%sMax-Forwards: 300\r\nContent-Length: 0\r\n\r\n", NO_CLEN);
    sipsess_framer *f = new_framer(&o);
    cr_assert_eq(feed(f, bad, (size_t)n), 0);
    sipsess_msg *m = next_ok(f);
    size_t off = 0;
    cr_expect_eq(sipsess_msg_error(m, &off), SIPSESS_ERANGE);
    cr_expect_eq(off, (size_t)(strstr(bad, "300") - bad));
    sipsess_msg_free(m);
    sipsess_framer_free(f);
}

/* ================================================================== */
/* Counts and arguments                                                */

Test(framer, buffered_counts)
{
    sipsess_framer *f = new_framer(NULL);
    cr_expect_eq(sipsess_framer_buffered(f), 0);
    cr_expect_eq(feed(f, INVITE, 0), 0, "an empty feed is fine");
    cr_expect_eq(sipsess_framer_feed(f, NULL, 0), 0);
    size_t held = 0;
    for (size_t step = 1; held + step <= LEN(INVITE); held += step, step++) {
        cr_assert_eq(feed(f, INVITE + held, step), 0);
        cr_expect_eq(sipsess_framer_buffered(f), held + step);
    }
    cr_assert_eq(feed(f, INVITE + held, LEN(INVITE) - held), 0);
    cr_assert_eq(feed(f, "\r\n\r\n", 4), 0);
    cr_assert_eq(feed(f, BYE, 10), 0);
    cr_expect_eq(sipsess_framer_buffered(f), LEN(INVITE) + 14);
    sipsess_msg *m = next_ok(f);
    sipsess_msg_free(m);
    cr_expect_eq(sipsess_framer_buffered(f), 14);
    expect_again(f);
    cr_expect_eq(sipsess_framer_buffered(f), 10, "the ping was taken off");
    cr_expect_eq(sipsess_framer_take_pings(f), 1);
    cr_assert_eq(feed(f, BYE + 10, LEN(BYE) - 10), 0);
    m = next_ok(f);
    sipsess_msg_free(m);
    cr_expect_eq(sipsess_framer_buffered(f), 0);
    sipsess_framer_free(f);
}

/* Many messages through one framer: the buffer is reused and compacted,
 * never grows past what one message and its neighbour need. */
Test(framer, long_stream)
{
    sipsess_framer *f = new_framer(NULL);
    size_t got = 0;
    for (int i = 0; i < 2000; i++) {
        cr_assert_eq(feed(f, INVITE, LEN(INVITE)), 0);
        if (i % 3 == 0)
            cr_assert_eq(feed(f, "\r\n\r\n", 4), 0);
        sipsess_msg *m = NULL;
        while (sipsess_framer_next(f, &m, NULL) == 0) {
            got++;
            sipsess_msg_free(m);
        }
        cr_assert_eq(sipsess_framer_failed(f), 0);
    }
    cr_expect_eq(got, 2000);
    cr_expect_eq(sipsess_framer_take_pings(f), 667);
    cr_expect_eq(sipsess_framer_buffered(f), 0);
    sipsess_framer_free(f);
}

Test(framer, null_arguments)
{
    sipsess_framer *f = NULL;
    cr_expect_eq(sipsess_framer_new(NULL, NULL), SIPSESS_EINVAL);
    sipsess_framer_free(NULL);
    cr_expect_eq(sipsess_framer_feed(NULL, "x", 1), SIPSESS_EINVAL);
    sipsess_msg *m = NULL;
    cr_expect_eq(sipsess_framer_next(NULL, &m, NULL), SIPSESS_EINVAL);
    cr_expect_neq(sipsess_framer_failed(NULL), 0);
    cr_expect_eq(sipsess_framer_buffered(NULL), 0);
    cr_expect_eq(sipsess_framer_take_pings(NULL), 0);

    f = new_framer(NULL);
    cr_expect_eq(sipsess_framer_feed(f, NULL, 3), SIPSESS_EINVAL);
    cr_expect_eq(sipsess_framer_next(f, NULL, NULL), SIPSESS_EINVAL);
    cr_expect_eq(sipsess_framer_failed(f), 0, "bad arguments do not break the stream");
    cr_expect_eq(sipsess_framer_buffered(f), 0);
    sipsess_framer_free(f);
}
