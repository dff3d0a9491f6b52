/*
 * libFuzzer target for the URI parser, printer, comparison and unescaping.
 *
 * The input is URI text. When it parses: every accessor is read, the URI
 * must equal itself and its copy, the copy must have the same text, the
 * printed form must parse again to an equal URI, and the user, password and
 * host must unescape consistently. The input is also split in two (at its
 * first LF, or else at a point taken from its hash) and, when both parts
 * parse, equality must be symmetric.
 */
#include "fuzz_util.h"
#include "msg_walk.h"

static sipsess_uri *const UNTOUCHED = (sipsess_uri *)&UNTOUCHED;

static void check_unescape(sipsess_str in)
{
    if (in.p == NULL)
        return;
    char small[4];
    size_t need = 0, got = 0;
    int err = sipsess_unescape(in, small, sizeof small, &need);
    if (err == SIPSESS_EINVAL)
        return; /* a '%' without two hex digits */
    FUZZ_CHECK(err == SIPSESS_OK || err == SIPSESS_ENOSPC);
    FUZZ_CHECK(need <= in.len);
    char *buf = malloc(need + 1);
    FUZZ_CHECK(buf != NULL);
    err = sipsess_unescape(in, buf, need + 1, &got);
    FUZZ_CHECK(err == SIPSESS_OK && got == need);
    FUZZ_CHECK(buf[got] == '\0');
    free(buf);
}

static void check_uri(const sipsess_uri *u)
{
    sipsess_str v;

    msg_walk_uri(u);
    (void)sipsess_uri_opaque(u);
    (void)sipsess_uri_text(u);
    static const char *const params[] = {"transport", "user", "method", "ttl", "maddr", "lr"};
    for (size_t i = 0; i < sizeof params / sizeof params[0]; i++)
        (void)sipsess_uri_param(u, params[i], &v);
    (void)sipsess_uri_param(u, "lr", NULL);
    (void)sipsess_uri_header(u, "subject", &v);
    (void)sipsess_uri_header(u, "body", NULL);
    check_unescape(sipsess_uri_user(u));
    check_unescape(sipsess_uri_password(u));
    check_unescape(sipsess_uri_host(u));

    FUZZ_CHECK(sipsess_uri_equal(u, u) == 1);
    FUZZ_CHECK(sipsess_uri_equal(u, NULL) == 0);

    sipsess_uri *d = UNTOUCHED;
    int err = sipsess_uri_dup(u, &d);
    FUZZ_CHECK(err == SIPSESS_OK || (err == SIPSESS_ENOMEM && d == UNTOUCHED));
    if (err == SIPSESS_OK) {
        FUZZ_CHECK(fuzz_str_eq(sipsess_uri_text(d), sipsess_uri_text(u)));
        FUZZ_CHECK(sipsess_uri_equal(u, d) == 1 && sipsess_uri_equal(d, u) == 1);
        sipsess_uri_free(d);
    }

    char probe[1];
    size_t need = 0, got = 0;
    err = sipsess_uri_print(u, probe, 0, &need);
    FUZZ_CHECK(err == SIPSESS_ENOSPC || (err == SIPSESS_OK && need == 0));
    char *buf = malloc(need + 1);
    FUZZ_CHECK(buf != NULL);
    err = sipsess_uri_print(u, buf, need + 1, &got);
    FUZZ_CHECK(err == SIPSESS_OK && got == need && buf[got] == '\0');
    sipsess_uri *re = NULL;
    err = sipsess_uri_parse(buf, got, &re);
    if (err != SIPSESS_OK) {
        fprintf(stderr, "printed URI does not parse (%s): %.*s\n", sipsess_errname(err),
                (int)got, buf);
        FUZZ_CHECK(err == SIPSESS_OK);
    }
    FUZZ_CHECK(sipsess_uri_equal(u, re) == 1);
    sipsess_uri_free(re);
    free(buf);
}

static sipsess_uri *parse(const uint8_t *data, size_t size)
{
    sipsess_uri *u = UNTOUCHED;
    int err = sipsess_uri_parse((const char *)data, size, &u);
    if (err != SIPSESS_OK) {
        FUZZ_CHECK(err < 0);
        FUZZ_CHECK(u == UNTOUCHED);
        return NULL;
    }
    FUZZ_CHECK(u != NULL && u != UNTOUCHED);
    return u;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    sipsess_uri *u = parse(data, size);
    if (u != NULL) {
        check_uri(u);
        sipsess_uri_free(u);
    }

    /* Two URIs: the parts before and after the first LF, or else the
     * input cut at a point taken from its hash. */
    const uint8_t *lf = size ? memchr(data, '\n', size) : NULL;
    if (size >= 2) {
        size_t cut = lf ? (size_t)(lf - data) : 1 + (size_t)(fuzz_hash(data, size) % (size - 1));
        size_t skip = lf ? 1 : 0;
        sipsess_uri *a = parse(data, cut), *b = parse(data + cut + skip, size - cut - skip);
        if (a != NULL && b != NULL)
            FUZZ_CHECK(sipsess_uri_equal(a, b) == sipsess_uri_equal(b, a));
        sipsess_uri_free(a);
        sipsess_uri_free(b);
    }
    return 0;
}
