/*
 * libFuzzer target for the message parser, printer and stream framer.
 *
 * The input is one datagram. It is parsed in strict and in lenient mode
 * (with the default limits, or with tight ones for a quarter of the inputs);
 * every parsed message has every header read through its typed accessors,
 * is printed, and the printed text is parsed again and compared. Then the
 * same bytes go through a stream framer in chunks whose sizes come from a
 * hash of the input.
 *
 * Invariants checked besides "no crash, no leak, no UB":
 *  - on failure *out is untouched and the error offset is inside the input;
 *  - header lookups by id, by name, and the next-chains agree with the
 *    message-order list;
 *  - print -> parse succeeds with the same start line, header ids, and body;
 *    printing that again gives the same bytes;
 *  - the framer never buffers more than twice its message limit (msg.h).
 */
#include "fuzz_util.h"
#include "msg_walk.h"

static sipsess_msg *const UNTOUCHED = (sipsess_msg *)&UNTOUCHED;

static void check_lookups(const sipsess_msg *m)
{
    size_t n = sipsess_msg_hdr_count(m);
    size_t per_id[SIPSESS_HDR__COUNT] = {0};

    FUZZ_CHECK(sipsess_msg_hdr_at(m, n) == NULL);
    for (size_t i = 0; i < n; i++) {
        const sipsess_hdr *h = sipsess_msg_hdr_at(m, i);
        FUZZ_CHECK(h != NULL);
        sipsess_hdr_id id = sipsess_hdr_get_id(h);
        FUZZ_CHECK((unsigned)id < SIPSESS_HDR__COUNT);
        if (id != SIPSESS_HDR_OTHER)
            FUZZ_CHECK(sipsess_msg_hdr(m, id, per_id[id]) == h);
        per_id[id]++;
        /* by name finds a header of the same name (the first one for nth 0) */
        sipsess_str name = sipsess_hdr_name(h);
        char cname[256];
        if (name.len < sizeof cname && memchr(name.p, 0, name.len) == NULL) {
            memcpy(cname, name.p, name.len);
            cname[name.len] = '\0';
            const sipsess_hdr *byname = sipsess_msg_hdr_by_name(m, cname, 0);
            FUZZ_CHECK(byname != NULL);
            FUZZ_CHECK(sipsess_hdr_get_id(byname) == id);
        }
    }
    for (int id = 1; id < SIPSESS_HDR__COUNT; id++) {
        FUZZ_CHECK(sipsess_msg_hdr_num(m, (sipsess_hdr_id)id) == per_id[id]);
        size_t chain = 0;
        for (const sipsess_hdr *h = sipsess_msg_hdr(m, (sipsess_hdr_id)id, 0); h != NULL;
             h = sipsess_hdr_next(m, h)) {
            FUZZ_CHECK(sipsess_hdr_get_id(h) == (sipsess_hdr_id)id);
            FUZZ_CHECK(++chain <= per_id[id]);
        }
        FUZZ_CHECK(chain == per_id[id]);
    }
}

/* Print into a fresh buffer; returns it (caller frees) and its length. */
static char *print_msg(const sipsess_msg *m, size_t *len)
{
    char probe[1];
    size_t need = 0, got = 0;
    int err = sipsess_msg_print(m, probe, 0, &need);
    FUZZ_CHECK(err == SIPSESS_ENOSPC || (err == SIPSESS_OK && need == 0));
    char *buf = malloc(need + 1);
    FUZZ_CHECK(buf != NULL);
    err = sipsess_msg_print(m, buf, need + 1, &got);
    FUZZ_CHECK(err == SIPSESS_OK);
    FUZZ_CHECK(got == need);
    *len = got;
    return buf;
}

static void roundtrip(const sipsess_msg *m, const sipsess_parse_opts *opts)
{
    size_t len = 0;
    char *text = print_msg(m, &len);

    /* Canonical names and an added Content-Length can make the text longer
     * than the input, with one header more; give the re-parse room so the
     * limits do not hide a real failure. */
    sipsess_parse_opts big = *opts;
    big.max_msg_size = opts->max_msg_size * 2u + 4096u;
    big.max_headers = opts->max_headers + 1u;
    big.max_header_len = opts->max_header_len * 2u + 256u;
    big.max_uri_len = opts->max_uri_len * 2u + 256u;
    sipsess_msg *re = NULL;
    size_t off = 0;
    int err = sipsess_msg_parse(text, len, &big, &re, &off);
    if (err != SIPSESS_OK) {
        fprintf(stderr, "re-parse of printed message failed: %s at %zu\n---\n%.*s\n---\n",
                sipsess_errname(err), off, (int)len, text);
        FUZZ_CHECK(err == SIPSESS_OK);
    }

    FUZZ_CHECK(sipsess_msg_is_request(re) == sipsess_msg_is_request(m));
    FUZZ_CHECK(sipsess_msg_method(re) == sipsess_msg_method(m));
    FUZZ_CHECK(fuzz_str_eq(sipsess_msg_method_name(re), sipsess_msg_method_name(m)));
    FUZZ_CHECK(sipsess_msg_status(re) == sipsess_msg_status(m));
    FUZZ_CHECK(fuzz_str_eq(sipsess_msg_body(re), sipsess_msg_body(m)));
    if (sipsess_msg_is_request(m))
        FUZZ_CHECK(fuzz_str_eq(sipsess_uri_text(sipsess_msg_ruri(re)),
                               sipsess_uri_text(sipsess_msg_ruri(m))));
    if (sipsess_msg_error(m, NULL) == SIPSESS_OK) {
        /* Same header values in the same order (Content-Length may be added
         * by the printer when the input had none). */
        size_t n = sipsess_msg_hdr_count(m), j = 0;
        for (size_t i = 0; i < n; i++) {
            sipsess_hdr_id id = sipsess_hdr_get_id(sipsess_msg_hdr_at(m, i));
            if (id == SIPSESS_HDR_CONTENT_LENGTH)
                continue;
            while (j < sipsess_msg_hdr_count(re) &&
                   sipsess_hdr_get_id(sipsess_msg_hdr_at(re, j)) == SIPSESS_HDR_CONTENT_LENGTH)
                j++;
            FUZZ_CHECK(j < sipsess_msg_hdr_count(re));
            FUZZ_CHECK(sipsess_hdr_get_id(sipsess_msg_hdr_at(re, j)) == id);
            j++;
        }
    }
    msg_walk(re);

    /* The printed form is a normal form: printing it again changes nothing. */
    size_t len2 = 0;
    char *text2 = print_msg(re, &len2);
    if (len2 != len || memcmp(text, text2, len) != 0) {
        fprintf(stderr, "print is not stable\n--- first\n%.*s\n--- second\n%.*s\n---\n",
                (int)len, text, (int)len2, text2);
        FUZZ_CHECK(!"print(parse(print(m))) == print(m)");
    }
    free(text2);
    sipsess_msg_free(re);
    free(text);
}

static void parse_one(const uint8_t *data, size_t size, const sipsess_parse_opts *opts)
{
    sipsess_msg *m = UNTOUCHED;
    size_t off = (size_t)-1;
    int err = sipsess_msg_parse(data, size, opts, &m, &off);

    if (err != SIPSESS_OK) {
        FUZZ_CHECK(err < 0);
        FUZZ_CHECK(m == UNTOUCHED);
        FUZZ_CHECK(off <= size);
        FUZZ_CHECK(sipsess_strerror(err) != NULL);
        return;
    }
    FUZZ_CHECK(m != NULL && m != UNTOUCHED);
    FUZZ_CHECK(sipsess_msg_raw(m).len <= size);
    if (!(opts->flags & SIPSESS_PARSE_LENIENT))
        FUZZ_CHECK(sipsess_msg_error(m, NULL) == SIPSESS_OK);

    /* A second reference keeps the message alive past the first free. */
    sipsess_msg *ref = sipsess_msg_ref(m);
    sipsess_msg_free(m);
    msg_walk(ref);
    check_lookups(ref);
    roundtrip(ref, opts);
    sipsess_msg_free(ref);
}

static void frame(const uint8_t *data, size_t size, const sipsess_parse_opts *opts,
                  uint64_t seed)
{
    static const size_t max_chunk[] = {1, 3, 17, 64, 512, 1500, 65536};
    size_t maxc = max_chunk[seed % (sizeof max_chunk / sizeof max_chunk[0])];
    sipsess_framer *f = NULL;

    if (sipsess_framer_new(opts, &f) != SIPSESS_OK)
        return; /* only ENOMEM is possible here */
    size_t pos = 0;
    int dead = 0;
    while (pos < size && !dead) {
        size_t n = 1 + (size_t)(fuzz_next(&seed) % maxc);
        if (n > size - pos)
            n = size - pos;
        int err = sipsess_framer_feed(f, data + pos, n);
        pos += n;
        if (err != SIPSESS_OK) {
            FUZZ_CHECK(err < 0 && err != SIPSESS_EAGAIN);
            break;
        }
        /* msg.h: the framer never holds more than twice max_msg_size */
        FUZZ_CHECK(sipsess_framer_buffered(f) <= 2 * (size_t)opts->max_msg_size);
        for (;;) {
            sipsess_msg *m = UNTOUCHED;
            size_t off = 0;
            err = sipsess_framer_next(f, &m, &off);
            if (err == SIPSESS_EAGAIN) {
                FUZZ_CHECK(m == UNTOUCHED);
                break;
            }
            if (err != SIPSESS_OK) {
                FUZZ_CHECK(m == UNTOUCHED);
                if (sipsess_framer_failed(f)) {
                    dead = 1;
                    break;
                }
                continue; /* a bad message was consumed; the stream goes on */
            }
            msg_walk(m);
            sipsess_msg_free(m);
        }
        (void)sipsess_framer_take_pings(f);
    }
    sipsess_framer_free(f);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint64_t seed = fuzz_hash(data, size) | 1u;
    sipsess_parse_opts opts;

    sipsess_parse_opts_init(&opts);
    if (seed % 4 == 1) {
        /* tight limits: every limit path is reachable with small inputs */
        opts.max_msg_size = 1024;
        opts.max_headers = 8;
        opts.max_header_len = 128;
        opts.max_uri_len = 64;
        opts.max_via = 2;
    }

    opts.flags = 0;
    parse_one(data, size, &opts);
    opts.flags = SIPSESS_PARSE_LENIENT;
    parse_one(data, size, &opts);
    frame(data, size, &opts, seed);
    return 0;
}
