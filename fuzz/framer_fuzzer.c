/*
 * libFuzzer target for the stream (TCP) framer: sipsess_framer_*.
 *
 * Input layout:
 *   byte 0       bits 0-2: k-1, the number of chunk-size bytes that follow
 *                bits 3-4: chunk scale (x1, x8, x64, x1024)
 *                bits 5-6: limits (default, tight 1024, tiny 200, 1500)
 *                bit 7:    lazy reader: drain only after every third feed
 *   bytes 1..k   chunk sizes (byte+1, times the scale), used in turn
 *   the rest     the byte stream, fed in those chunks
 * Inputs shorter than the header are fed whole with the defaults.
 *
 * Every message taken with sipsess_framer_next is walked and freed.
 * Invariants checked besides "no crash, no leak, no UB":
 *  - buffered bytes never exceed twice max_msg_size (msg.h);
 *  - a reader that drains after each feed of at most max_msg_size bytes
 *    never gets SIPSESS_ETOOBIG from feed (msg.h);
 *  - fed == consumed + buffered; a returned message's raw bytes are the
 *    stream bytes just consumed, preceded only by CR/LF keep-alives, and
 *    the message is no larger than the limit and parses as a datagram too;
 *  - a parse error consumes its message; EAGAIN consumes nothing but
 *    keep-alives; pings counted are at most the CR/LF bytes skipped;
 *  - once failed, the framer stays failed with the same code: feed and next
 *    return SIPSESS_EFRAMING, nothing is buffered or returned any more.
 */
#include "fuzz_util.h"
#include "msg_walk.h"

#include <stdbool.h>

static sipsess_msg *const UNTOUCHED = (sipsess_msg *)&UNTOUCHED;

struct run {
    sipsess_framer *f;
    const sipsess_parse_opts *opts;
    const uint8_t *stream; /* every byte fed so far is stream[0..fed) */
    size_t fed;
    size_t consumed;       /* == fed - buffered */
    unsigned pings;
    size_t crlf_skipped;   /* keep-alive bytes consumed, an upper bound for pings */
};

static void check_accounting(const struct run *r)
{
    size_t buffered = sipsess_framer_buffered(r->f);
    FUZZ_CHECK(buffered <= 2 * (size_t)r->opts->max_msg_size);
    FUZZ_CHECK(buffered <= r->fed);
    FUZZ_CHECK(r->fed - buffered >= r->consumed); /* nothing is ever given back */
}

/* Bytes [from, to) of the stream were consumed without being a message:
 * they must all be keep-alive CR/LF. */
static void check_skipped(struct run *r, size_t from, size_t to)
{
    for (size_t i = from; i < to; i++)
        FUZZ_CHECK(r->stream[i] == '\r' || r->stream[i] == '\n');
    r->crlf_skipped += to - from;
}

static void check_failed_for_good(struct run *r)
{
    int code = sipsess_framer_failed(r->f);
    size_t buffered = sipsess_framer_buffered(r->f);
    FUZZ_CHECK(code < 0);
    static const char more[] = "INVITE sip:a@b SIP/2.0\r\nContent-Length: 0\r\n\r\n";
    FUZZ_CHECK(sipsess_framer_feed(r->f, more, sizeof more - 1) == SIPSESS_EFRAMING);
    FUZZ_CHECK(sipsess_framer_feed(r->f, "", 0) == SIPSESS_EFRAMING);
    sipsess_msg *m = UNTOUCHED;
    size_t off = 12345;
    FUZZ_CHECK(sipsess_framer_next(r->f, &m, &off) == SIPSESS_EFRAMING);
    FUZZ_CHECK(m == UNTOUCHED && off == 12345);
    FUZZ_CHECK(sipsess_framer_next(r->f, &m, NULL) == SIPSESS_EFRAMING);
    FUZZ_CHECK(m == UNTOUCHED);
    FUZZ_CHECK(sipsess_framer_failed(r->f) == code);
    FUZZ_CHECK(sipsess_framer_buffered(r->f) == buffered);
}

/* Take every complete message; returns 1 when the framer failed. */
static int drain(struct run *r)
{
    for (;;) {
        size_t before = r->fed - sipsess_framer_buffered(r->f);
        FUZZ_CHECK(before == r->consumed);
        sipsess_msg *m = UNTOUCHED;
        size_t off = (size_t)-1;
        int err = sipsess_framer_next(r->f, &m, &off);
        size_t after = r->fed - sipsess_framer_buffered(r->f);
        check_accounting(r);
        r->consumed = after;
        unsigned p = sipsess_framer_take_pings(r->f);
        FUZZ_CHECK(sipsess_framer_take_pings(r->f) == 0);
        r->pings += p;

        if (err == SIPSESS_EAGAIN) {
            FUZZ_CHECK(m == UNTOUCHED);
            FUZZ_CHECK(!sipsess_framer_failed(r->f));
            check_skipped(r, before, after);
            FUZZ_CHECK((size_t)r->pings * 4 <= r->crlf_skipped);
            return 0;
        }
        if (err == SIPSESS_OK) {
            FUZZ_CHECK(m != NULL && m != UNTOUCHED);
            FUZZ_CHECK(!sipsess_framer_failed(r->f));
            sipsess_str raw = sipsess_msg_raw(m);
            FUZZ_CHECK(raw.len > 0 && raw.len <= r->opts->max_msg_size);
            FUZZ_CHECK(after - before >= raw.len);
            FUZZ_CHECK(memcmp(raw.p, r->stream + after - raw.len, raw.len) == 0);
            check_skipped(r, before, after - raw.len);
            FUZZ_CHECK((size_t)r->pings * 4 <= r->crlf_skipped);
            /* The same bytes as one datagram give a message too. */
            sipsess_parse_opts o = *r->opts;
            o.flags |= SIPSESS_PARSE_LENIENT;
            sipsess_msg *d = NULL;
            int derr = sipsess_msg_parse(raw.p, raw.len, &o, &d, NULL);
            if (derr != SIPSESS_OK) {
                fprintf(stderr, "framed message does not parse as a datagram: %s\n",
                        sipsess_errname(derr));
                FUZZ_CHECK(derr == SIPSESS_OK);
            }
            FUZZ_CHECK(fuzz_str_eq(sipsess_msg_body(d), sipsess_msg_body(m)));
            FUZZ_CHECK(sipsess_msg_hdr_count(d) == sipsess_msg_hdr_count(m));
            sipsess_msg_free(d);
            msg_walk(m);
            sipsess_msg_free(m);
            continue;
        }
        FUZZ_CHECK(err < 0);
        FUZZ_CHECK(m == UNTOUCHED);
        if (sipsess_framer_failed(r->f)) {
            FUZZ_CHECK(sipsess_framer_failed(r->f) == err);
            FUZZ_CHECK(err == SIPSESS_ETOOBIG || err == SIPSESS_ECLEN);
            check_skipped(r, before, after);
            return 1;
        }
        if (err == SIPSESS_ENOMEM)
            continue;
        /* A well-framed message that did not parse: consumed, and the
         * error offset lies inside it. */
        FUZZ_CHECK(after > before);
        FUZZ_CHECK(off <= after - before);
        size_t lead = before;
        while (lead < after && (r->stream[lead] == '\r' || r->stream[lead] == '\n'))
            lead++;
        FUZZ_CHECK(lead < after); /* a message never starts with CR/LF */
        check_skipped(r, before, lead);
        FUZZ_CHECK((size_t)r->pings * 4 <= r->crlf_skipped);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const size_t scale[] = {1, 8, 64, 1024};
    sipsess_parse_opts opts;
    sipsess_parse_opts_init(&opts);

    uint8_t mode = 0;
    const uint8_t *sizes = NULL;
    size_t nsizes = 0;
    if (size >= 2) {
        mode = data[0];
        nsizes = 1 + (mode & 7u);
        if (nsizes > size - 1)
            nsizes = size - 1;
        sizes = data + 1;
        data += 1 + nsizes;
        size -= 1 + nsizes;
    }
    switch ((mode >> 5) & 3u) {
    case 1:
        opts.max_msg_size = 1024;
        opts.max_headers = 8;
        opts.max_header_len = 128;
        opts.max_uri_len = 64;
        opts.max_via = 2;
        break;
    case 2:
        opts.max_msg_size = 200;
        break;
    case 3:
        opts.max_msg_size = 1500;
        break;
    default:
        break;
    }
    const bool lazy = (mode & 0x80u) != 0;

    struct run r = {0};
    r.opts = &opts;
    r.stream = data;
    FUZZ_CHECK(sipsess_framer_new(&opts, &r.f) == SIPSESS_OK);
    FUZZ_CHECK(sipsess_framer_buffered(r.f) == 0 && !sipsess_framer_failed(r.f));
    sipsess_msg *m = UNTOUCHED;
    FUZZ_CHECK(sipsess_framer_next(r.f, &m, NULL) == SIPSESS_EAGAIN && m == UNTOUCHED);

    size_t pos = 0, i = 0;
    bool failed = false, drained = true;
    while (pos < size && !failed) {
        size_t n = sizes ? ((size_t)sizes[i % nsizes] + 1) * scale[(mode >> 3) & 3u] : size;
        i++;
        if (n > size - pos)
            n = size - pos;
        int err = sipsess_framer_feed(r.f, data + pos, n);
        if (err != SIPSESS_OK) {
            FUZZ_CHECK(err == SIPSESS_ETOOBIG);
            /* msg.h: a reader that drains after every feed of at most one
             * message size never reaches the bound. */
            FUZZ_CHECK(!(drained && n <= opts.max_msg_size));
            FUZZ_CHECK(sipsess_framer_failed(r.f) == SIPSESS_ETOOBIG);
            failed = true;
            break;
        }
        pos += n;
        r.fed = pos;
        check_accounting(&r);
        drained = !lazy || i % 3 == 0;
        if (drained)
            failed = drain(&r);
    }
    if (!failed && !drained)
        failed = drain(&r);
    if (failed)
        check_failed_for_good(&r);
    else
        FUZZ_CHECK(r.consumed + sipsess_framer_buffered(r.f) == r.fed);
    sipsess_framer_free(r.f);
    return 0;
}
