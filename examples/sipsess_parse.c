/*
 * sipsess-parse: parse SIP messages from files and print what the parser
 * found — the start line, every header value with its typed fields, and the
 * body length — or the error and the offset where parsing stopped.
 *
 *   sipsess-parse [-l] [-q] FILE...
 *     -l  lenient: keep messages whose header values are malformed and
 *         report the first such error (SIPSESS_PARSE_LENIENT)
 *     -q  one line per file
 *
 * Each file is one message (one UDP datagram), read as raw bytes.
 * Exit status: 0 when every file was read (a parse error is a result, and
 * is printed), 1 when a file could not be read, 2 on a usage error.
 * Uses the public API only.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sipsess/sipsess.h>

/* ---- output helpers ---------------------------------------------------- */

/* Print bytes as written, escaping control bytes as \xHH so NULs and stray
 * CRs stay visible. */
static void put_bytes(const char *p, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)p[i];
        if (c < 0x20 || c == 0x7f)
            printf("\\x%02x", c);
        else
            putchar(c);
    }
}

static void put_str(sipsess_str s)
{
    if (s.p == NULL)
        fputs("-", stdout);
    else {
        putchar('"');
        put_bytes(s.p, s.len);
        putchar('"');
    }
}

/* " label=value" for a view that is present. */
static void field(const char *label, sipsess_str s)
{
    if (s.p == NULL)
        return;
    printf(" %s=", label);
    put_str(s);
}

static void field_num(const char *label, long long v, long long absent)
{
    if (v != absent)
        printf(" %s=%lld", label, v);
}

static void field_param(const sipsess_hdr *h, const char *name)
{
    sipsess_str v = {0, 0};
    if (!sipsess_hdr_param(h, name, &v))
        return;
    if (v.p == NULL)
        printf(" %s", name);
    else
        field(name, v);
}

static void field_auth(const sipsess_hdr *h, const char *name)
{
    sipsess_str v = {0, 0};
    if (sipsess_auth_param(h, name, &v))
        field(name, v);
}

static const char *host_type_name(sipsess_host_type t)
{
    switch (t) {
    case SIPSESS_HOST_NAME:
        return "name";
    case SIPSESS_HOST_IPV4:
        return "ipv4";
    case SIPSESS_HOST_IPV6:
        return "ipv6";
    default:
        return "none";
    }
}

static void put_uri(const sipsess_uri *u)
{
    if (u == NULL) {
        fputs(" uri=-", stdout);
        return;
    }
    printf(" <");
    put_bytes(sipsess_uri_text(u).p, sipsess_uri_text(u).len);
    printf("> scheme=");
    put_bytes(sipsess_uri_scheme_name(u).p, sipsess_uri_scheme_name(u).len);
    field("user", sipsess_uri_user(u));
    field("password", sipsess_uri_password(u));
    if (sipsess_uri_host(u).p != NULL) {
        field("host", sipsess_uri_host(u));
        printf("(%s)", host_type_name(sipsess_uri_host_type(u)));
    }
    field_num("port", sipsess_uri_port(u), 0);
    field("params", sipsess_uri_params(u));
    field("headers", sipsess_uri_headers(u));
    if (sipsess_uri_scheme_id(u) == SIPSESS_URI_OTHER)
        field("opaque", sipsess_uri_opaque(u));
}

/* ---- headers ------------------------------------------------------------ */

static void put_hdr_fields(const sipsess_hdr *h)
{
    sipsess_hdr_id id = sipsess_hdr_get_id(h);

    switch (id) {
    case SIPSESS_HDR_VIA:
        printf(" ");
        put_bytes(sipsess_via_protocol(h).p, sipsess_via_protocol(h).len);
        printf("/");
        put_bytes(sipsess_via_transport(h).p, sipsess_via_transport(h).len);
        field("host", sipsess_via_host(h));
        printf("(%s)", host_type_name(sipsess_via_host_type(h)));
        field_num("port", sipsess_via_port(h), 0);
        field("branch", sipsess_via_branch(h));
        field("received", sipsess_via_received(h));
        field_num("rport", sipsess_via_rport(h), -1);
        field("maddr", sipsess_via_maddr(h));
        field_num("ttl", sipsess_via_ttl(h), -1);
        break;
    case SIPSESS_HDR_CONTACT:
        if (sipsess_contact_is_star(h)) {
            printf(" *");
            break;
        }
        field("display", sipsess_nameaddr_display(h));
        put_uri(sipsess_nameaddr_uri(h));
        field_num("expires", sipsess_contact_expires(h), -1);
        field_num("q/1000", sipsess_contact_q(h), -1);
        break;
    case SIPSESS_HDR_FROM:
    case SIPSESS_HDR_TO:
    case SIPSESS_HDR_ROUTE:
    case SIPSESS_HDR_RECORD_ROUTE:
    case SIPSESS_HDR_REPLY_TO:
    case SIPSESS_HDR_REFER_TO:
    case SIPSESS_HDR_REFERRED_BY:
    case SIPSESS_HDR_PATH:
    case SIPSESS_HDR_SERVICE_ROUTE:
    case SIPSESS_HDR_P_ASSERTED_IDENTITY:
        field("display", sipsess_nameaddr_display(h));
        put_uri(sipsess_nameaddr_uri(h));
        field("tag", sipsess_nameaddr_tag(h));
        break;
    case SIPSESS_HDR_CSEQ:
        printf(" number=%lu method=", (unsigned long)sipsess_cseq_number(h));
        put_bytes(sipsess_cseq_method_name(h).p, sipsess_cseq_method_name(h).len);
        break;
    case SIPSESS_HDR_RACK:
        printf(" rseq=%lu cseq=%lu method=%s", (unsigned long)sipsess_rack_rseq(h),
               (unsigned long)sipsess_rack_cseq(h), sipsess_method_str(sipsess_rack_method(h)));
        break;
    case SIPSESS_HDR_CONTENT_TYPE:
    case SIPSESS_HDR_ACCEPT:
        field("type", sipsess_mtype_type(h));
        field("subtype", sipsess_mtype_subtype(h));
        break;
    case SIPSESS_HDR_MAX_FORWARDS:
    case SIPSESS_HDR_CONTENT_LENGTH:
    case SIPSESS_HDR_EXPIRES:
    case SIPSESS_HDR_MIN_EXPIRES:
    case SIPSESS_HDR_RSEQ:
    case SIPSESS_HDR_MIN_SE:
    case SIPSESS_HDR_SESSION_EXPIRES:
        field_num("number", sipsess_hdr_number(h), -1);
        if (id == SIPSESS_HDR_SESSION_EXPIRES)
            field_param(h, "refresher");
        break;
    case SIPSESS_HDR_RETRY_AFTER:
        field_num("number", sipsess_hdr_number(h), -1);
        field("comment", sipsess_retry_after_comment(h));
        field_param(h, "duration");
        break;
    case SIPSESS_HDR_AUTHORIZATION:
    case SIPSESS_HDR_PROXY_AUTHORIZATION:
    case SIPSESS_HDR_WWW_AUTHENTICATE:
    case SIPSESS_HDR_PROXY_AUTHENTICATE:
    case SIPSESS_HDR_AUTHENTICATION_INFO:
        field("scheme", sipsess_auth_scheme(h));
        field_auth(h, "username");
        field_auth(h, "realm");
        field_auth(h, "nonce");
        field_auth(h, "uri");
        field_auth(h, "response");
        field_auth(h, "algorithm");
        field_auth(h, "qop");
        break;
    case SIPSESS_HDR_TIMESTAMP:
        field("value", sipsess_timestamp_value(h));
        field("delay", sipsess_timestamp_delay(h));
        break;
    case SIPSESS_HDR_EVENT:
        field("package", sipsess_hdr_token(h));
        field_param(h, "id");
        break;
    case SIPSESS_HDR_SUBSCRIPTION_STATE:
        field("state", sipsess_hdr_token(h));
        field_param(h, "expires");
        field_param(h, "reason");
        break;
    case SIPSESS_HDR_REASON:
        field("protocol", sipsess_hdr_token(h));
        field_param(h, "cause");
        field_param(h, "text");
        break;
    case SIPSESS_HDR_REPLACES:
        field("call-id", sipsess_hdr_token(h));
        field_param(h, "to-tag");
        field_param(h, "from-tag");
        break;
    case SIPSESS_HDR_CALL_ID:
        field("value", sipsess_hdr_value(h));
        break;
    default:
        /* Token-valued headers show their token; the rest their value. */
        if (sipsess_hdr_token(h).p != NULL)
            field("token", sipsess_hdr_token(h));
        else
            field("value", sipsess_hdr_value(h));
        break;
    }
}

static void put_hdr(const sipsess_hdr *h)
{
    sipsess_hdr_id id = sipsess_hdr_get_id(h);
    sipsess_str name = sipsess_hdr_name(h);
    int width;

    printf("    ");
    if (id == SIPSESS_HDR_OTHER) {
        put_bytes(name.p, name.len);
        width = (int)name.len;
    } else {
        width = printf("%s", sipsess_hdr_id_str(id));
        if (!(name.len == strlen(sipsess_hdr_id_str(id)) &&
              memcmp(name.p, sipsess_hdr_id_str(id), name.len) == 0)) {
            printf(" (");
            put_bytes(name.p, name.len);
            printf(")");
            width += (int)name.len + 3;
        }
    }
    printf(":%*s", width < 24 ? 24 - width : 1, "");
    if (sipsess_hdr_is_bad(h)) {
        printf("MALFORMED value=");
        put_str(sipsess_hdr_value(h));
    } else {
        put_hdr_fields(h);
    }
    putchar('\n');
}

/* ---- files ---------------------------------------------------------------- */

static unsigned char *read_all(const char *path, size_t *len)
{
    FILE *fp = fopen(path, "rb");
    if (fp == NULL)
        return NULL;
    size_t cap = 8192, n = 0;
    unsigned char *buf = malloc(cap);
    while (buf != NULL) {
        n += fread(buf + n, 1, cap - n, fp);
        if (n < cap)
            break;
        unsigned char *nb = realloc(buf, cap * 2);
        if (nb == NULL)
            free(buf);
        buf = nb;
        cap *= 2;
    }
    if (buf != NULL && ferror(fp)) {
        free(buf);
        buf = NULL;
    }
    fclose(fp);
    *len = n;
    return buf;
}

/* Show the line holding byte `off`, with a caret under it. */
static void put_error_context(const unsigned char *data, size_t len, size_t off)
{
    if (off > len)
        off = len;
    size_t start = off, end = off, line = 1;
    while (start > 0 && data[start - 1] != '\n')
        start--;
    while (end < len && data[end] != '\n' && data[end] != '\r' && end - start < 160)
        end++;
    for (size_t i = 0; i < start; i++)
        line += data[i] == '\n';
    printf("  line %zu, column %zu:\n    ", line, off - start + 1);
    put_bytes((const char *)data + start, end - start);
    printf("\n    ");
    for (size_t i = start; i < off; i++) {
        unsigned char c = data[i];
        /* as wide as put_bytes prints it; UTF-8 continuation bytes add none */
        int w = (c < 0x20 || c == 0x7f) ? 4 : (c & 0xc0) == 0x80 ? 0 : 1;
        printf("%*s", w, "");
    }
    printf("^\n");
}

struct totals {
    unsigned parsed, failed, unreadable;
};

static void parse_file(const char *path, unsigned flags, int quiet, struct totals *t)
{
    size_t len = 0;
    unsigned char *data = read_all(path, &len);
    if (data == NULL) {
        fprintf(stderr, "sipsess-parse: cannot read %s\n", path);
        t->unreadable++;
        return;
    }

    sipsess_parse_opts opts;
    sipsess_parse_opts_init(&opts);
    opts.flags = flags;
    sipsess_msg *msg = NULL;
    size_t off = 0;
    int err = sipsess_msg_parse(data, len, &opts, &msg, &off);

    if (err != SIPSESS_OK) {
        t->failed++;
        printf("%s%s: %zu bytes: error %s (%s) at offset %zu\n", quiet ? "" : "== ", path,
               len, sipsess_errname(err), sipsess_strerror(err), off);
        if (!quiet)
            put_error_context(data, len, off);
        free(data);
        return;
    }
    t->parsed++;

    size_t nhdr = sipsess_msg_hdr_count(msg);
    sipsess_str body = sipsess_msg_body(msg);
    size_t semoff = 0;
    int semerr = sipsess_msg_error(msg, &semoff);
    printf("%s%s: %zu bytes: ", quiet ? "" : "== ", path, len);
    if (sipsess_msg_is_request(msg)) {
        printf("request ");
        put_bytes(sipsess_msg_method_name(msg).p, sipsess_msg_method_name(msg).len);
    } else {
        printf("response %u", sipsess_msg_status(msg));
    }
    printf(", %zu header values, body %zu bytes", nhdr, body.len);
    if (semerr != SIPSESS_OK)
        printf(", first error %s at offset %zu", sipsess_errname(semerr), semoff);
    printf("\n");

    if (!quiet) {
        sipsess_str raw = sipsess_msg_raw(msg);
        size_t eol = 0;
        while (eol < raw.len && raw.p[eol] != '\r' && raw.p[eol] != '\n')
            eol++;
        printf("  start line: ");
        put_bytes(raw.p, eol);
        printf("\n");
        if (sipsess_msg_is_request(msg)) {
            printf("  Request-URI:");
            put_uri(sipsess_msg_ruri(msg));
            printf("\n");
        } else {
            printf("  status %u reason ", sipsess_msg_status(msg));
            put_str(sipsess_msg_reason(msg));
            printf("\n");
        }
        printf("  headers:\n");
        for (size_t i = 0; i < nhdr; i++)
            put_hdr(sipsess_msg_hdr_at(msg, i));
        printf("  body: %zu bytes", body.len);
        const sipsess_hdr *ct = sipsess_msg_hdr(msg, SIPSESS_HDR_CONTENT_TYPE, 0);
        if (body.len > 0 && ct != NULL) {
            printf(" of ");
            put_bytes(sipsess_hdr_value(ct).p, sipsess_hdr_value(ct).len);
        }
        printf("\n");
    }
    sipsess_msg_free(msg);
    free(data);
}

int main(int argc, char **argv)
{
    unsigned flags = 0;
    int quiet = 0, i = 1;

    for (; i < argc && argv[i][0] == '-' && argv[i][1] != '\0'; i++) {
        if (strcmp(argv[i], "-l") == 0)
            flags |= SIPSESS_PARSE_LENIENT;
        else if (strcmp(argv[i], "-q") == 0)
            quiet = 1;
        else if (strcmp(argv[i], "--") == 0) {
            i++;
            break;
        } else {
            i = argc + 1;
            break;
        }
    }
    if (i >= argc) {
        fprintf(stderr, "usage: sipsess-parse [-l] [-q] FILE...\n"
                        "  -l  lenient mode (keep messages with malformed header values)\n"
                        "  -q  one line per file\n");
        return 2;
    }

    struct totals t = {0, 0, 0};
    for (; i < argc; i++) {
        parse_file(argv[i], flags, quiet, &t);
        if (!quiet)
            putchar('\n');
    }
    printf("sipsess-parse (libsipsess %s, %s mode): %u parsed, %u rejected, %u unreadable\n",
           sipsess_version(), (flags & SIPSESS_PARSE_LENIENT) ? "lenient" : "strict", t.parsed,
           t.failed, t.unreadable);
    return t.unreadable ? 1 : 0;
}
