/*
 * Printer and builder (RFC 3261 §7, §8.2.6, §20.14, §21).
 *
 * sipsess_msg_print turns a parsed message back into normal-form bytes;
 * sipsess_msgbuilder composes outgoing messages in a reusable buffer.
 * Both run once per message a UA sends or relays, so neither uses the
 * printf family: the only numbers are a status code and a length.
 */
#include <stdint.h>
#include <string.h>

#include "syntax.h"

/* ------------------------------------------------------------------ */
/* Output sink                                                         */

/* Counts every byte offered but stores only what fits. One walk then both
 * sizes and fills: sipsess_msg_print reports the full length on ENOSPC
 * without a second pass, and the builder measures with cap 0 before it
 * grows, so a failed growth leaves the builder as it was. */
struct sink {
    char *p;
    size_t cap;
    size_t len;
};

static void put(struct sink *s, const char *src, size_t n)
{
    /* src may be NULL for an absent view; memcpy from NULL is undefined
     * even for 0 bytes. */
    if (n == 0)
        return;
    if (s->len < s->cap) {
        size_t room = s->cap - s->len;
        memcpy(s->p + s->len, src, n < room ? n : room);
    }
    s->len += n;
}

#define PUT_LIT(s, lit) put((s), (lit), sizeof(lit) - 1)

static void put_str(struct sink *s, sipsess_str v)
{
    put(s, v.p, v.len);
}

static void put_uint(struct sink *s, uint64_t v)
{
    char tmp[20]; /* UINT64_MAX has 20 digits */
    size_t i = sizeof tmp;
    do {
        tmp[--i] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    put(s, tmp + i, sizeof tmp - i);
}

static inline bool is_wsp(char c)
{
    return c == ' ' || c == '\t';
}

/*
 * First CR or LF in [p, end), or NULL. Most values hold neither, so eight
 * bytes are tested at a time for any byte below 0x0E (the classic
 * "has less than" word trick: exact about whether such a byte exists);
 * only a word that has one is looked at byte by byte, since TAB and
 * control bytes pass the test too.
 */
static const char *find_break(const char *p, const char *end)
{
    const uint64_t ones = 0x0101010101010101u, highs = 0x8080808080808080u;
    while (end - p >= 8) {
        uint64_t w;
        memcpy(&w, p, sizeof w); /* unaligned load, no aliasing issue */
        if ((w - ones * 0x0e) & ~w & highs) {
            for (int i = 0; i < 8; i++)
                if (p[i] == '\r' || p[i] == '\n')
                    return p + i;
        }
        p += 8;
    }
    for (; p < end; p++)
        if (*p == '\r' || *p == '\n')
            return p;
    return NULL;
}

/*
 * A header value with every LWS that holds a line break ([*WSP CRLF]
 * 1*WSP, RFC 3261 §7.3.1) written as one SP, which is what §7.3.1 asks of
 * a forwarder. Whitespace runs without a break stay as written. Bare CR
 * or LF count as breaks too, so no line terminator ever reaches the output
 * from a value, whatever the parser let through. One forward scan: linear
 * however many folds a value has.
 */
static void put_value(struct sink *s, sipsess_str v)
{
    if (v.len == 0)
        return;
    const char *p = v.p, *end = v.p + v.len, *brk;
    while ((brk = find_break(p, end)) != NULL) {
        const char *ws = brk;
        while (ws > p && is_wsp(ws[-1]))
            ws--;
        put(s, p, (size_t)(ws - p));
        PUT_LIT(s, " ");
        p = brk;
        while (p < end && (is_wsp(*p) || *p == '\r' || *p == '\n'))
            p++;
    }
    put(s, p, (size_t)(end - p));
}

static void put_hdr(struct sink *s, sipsess_str name, sipsess_str value)
{
    put_str(s, name);
    PUT_LIT(s, ": ");
    put_value(s, value);
    PUT_LIT(s, "\r\n");
}

/* ------------------------------------------------------------------ */
/* Reason phrases                                                      */

SIPSESS_API const char *sipsess_reason_phrase(unsigned status)
{
    /* IANA "Response Codes" registry for SIP; names as the defining RFC
     * (or its latest update) writes them. */
    switch (status) {
    case 100: return "Trying";
    case 180: return "Ringing";
    case 181: return "Call Is Being Forwarded";
    case 182: return "Queued";
    case 183: return "Session Progress";
    case 199: return "Early Dialog Terminated";     /* RFC 6228 */
    case 200: return "OK";
    case 202: return "Accepted";                    /* RFC 3265, still used by REFER */
    case 204: return "No Notification";             /* RFC 5839 */
    case 300: return "Multiple Choices";
    case 301: return "Moved Permanently";
    case 302: return "Moved Temporarily";
    case 305: return "Use Proxy";
    case 380: return "Alternative Service";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 402: return "Payment Required";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 406: return "Not Acceptable";
    case 407: return "Proxy Authentication Required";
    case 408: return "Request Timeout";
    case 410: return "Gone";
    case 412: return "Conditional Request Failed";  /* RFC 3903 */
    case 413: return "Request Entity Too Large";
    case 414: return "Request-URI Too Long";
    case 415: return "Unsupported Media Type";
    case 416: return "Unsupported URI Scheme";
    case 417: return "Unknown Resource-Priority";   /* RFC 4412 */
    case 420: return "Bad Extension";
    case 421: return "Extension Required";
    case 422: return "Session Interval Too Small";  /* RFC 4028 */
    case 423: return "Interval Too Brief";
    case 424: return "Bad Location Information";    /* RFC 6442 */
    case 428: return "Use Identity Header";         /* RFC 8224 */
    case 429: return "Provide Referrer Identity";   /* RFC 3892 */
    case 430: return "Flow Failed";                 /* RFC 5626 */
    case 433: return "Anonymity Disallowed";        /* RFC 5079 */
    case 436: return "Bad Identity Info";           /* RFC 8224 */
    case 437: return "Unsupported Credential";      /* RFC 8224 */
    case 438: return "Invalid Identity Header";     /* RFC 8224 */
    case 439: return "First Hop Lacks Outbound Support"; /* RFC 5626 */
    case 440: return "Max-Breadth Exceeded";        /* RFC 5393 */
    case 469: return "Bad Info Package";            /* RFC 6086 */
    case 470: return "Consent Needed";              /* RFC 5360 */
    case 480: return "Temporarily Unavailable";
    case 481: return "Call/Transaction Does Not Exist";
    case 482: return "Loop Detected";
    case 483: return "Too Many Hops";
    case 484: return "Address Incomplete";
    case 485: return "Ambiguous";
    case 486: return "Busy Here";
    case 487: return "Request Terminated";
    case 488: return "Not Acceptable Here";
    case 489: return "Bad Event";                   /* RFC 6665 */
    case 491: return "Request Pending";
    case 493: return "Undecipherable";
    case 494: return "Security Agreement Required"; /* RFC 3329 */
    case 500: return "Server Internal Error";
    case 501: return "Not Implemented";
    case 502: return "Bad Gateway";
    case 503: return "Service Unavailable";
    case 504: return "Server Time-out";
    case 505: return "Version Not Supported";
    case 513: return "Message Too Large";
    case 580: return "Precondition Failure";        /* RFC 3312 */
    case 600: return "Busy Everywhere";
    case 603: return "Decline";
    case 604: return "Does Not Exist Anywhere";
    case 606: return "Not Acceptable";
    case 607: return "Unwanted";                    /* RFC 8197 */
    case 608: return "Rejected";                    /* RFC 8688 */
    default: return "Unknown";
    }
}

/* ------------------------------------------------------------------ */
/* Printing a parsed message                                           */

/* Canonical names are short: copying them up to their NUL costs less
 * than a strlen followed by a memcpy call. */
static void put_cstr(struct sink *s, const char *c)
{
    for (; *c; c++) {
        if (s->len < s->cap)
            s->p[s->len] = *c;
        s->len++;
    }
}

static void put_name(struct sink *s, const struct sipsess_hdr *h)
{
    if (h->id != SIPSESS_HDR_OTHER) {
        const char *n = sipsess_hdr_id_str((sipsess_hdr_id)h->id);
        /* A known id with no table name would print an empty name, which
         * no parser reads back; the name as written is still a header. */
        if (n[0]) {
            put_cstr(s, n);
            return;
        }
    }
    put_str(s, h->name);
}

SIPSESS_API int sipsess_msg_print(const sipsess_msg *msg, char *buf, size_t cap,
                                  size_t *out_len)
{
    if (!msg || !out_len || (!buf && cap))
        return SIPSESS_EINVAL;
    struct sink s = {buf, cap, 0};
    /* Normal form spells 2.0 the RFC's way; another version (a lenient
     * parse let it through, RFC 4475 badvers) stays what it was, or the
     * printed message would claim a version its sender never used. */
    sipsess_str version = sipsess__str("SIP/2.0", 7);
    if (msg->version.p && !sipsess__str_ieq(msg->version, "SIP/2.0"))
        version = msg->version;

    if (msg->is_request) {
        put_str(&s, msg->method_name);
        PUT_LIT(&s, " ");
        put_str(&s, msg->ruri.text);
        PUT_LIT(&s, " ");
        put_str(&s, version);
        PUT_LIT(&s, "\r\n");
    } else {
        put_str(&s, version);
        PUT_LIT(&s, " ");
        put_uint(&s, msg->status);
        PUT_LIT(&s, " ");
        put_str(&s, msg->reason);
        PUT_LIT(&s, "\r\n");
    }
    for (uint32_t i = 0; i < msg->nhdr; i++) {
        const struct sipsess_hdr *h = &msg->hdr[i];
        /* The body we print is the one we have: a written Content-Length
         * may be wrong (a datagram's), absent, or repeated. */
        if (h->id == SIPSESS_HDR_CONTENT_LENGTH)
            continue;
        put_name(&s, h);
        PUT_LIT(&s, ": ");
        put_value(&s, h->value);
        PUT_LIT(&s, "\r\n");
    }
    PUT_LIT(&s, "Content-Length: ");
    put_uint(&s, msg->body.len);
    PUT_LIT(&s, "\r\n\r\n");
    put_str(&s, msg->body);

    *out_len = s.len;
    if (s.len > cap)
        return SIPSESS_ENOSPC;
    /* A courtesy for callers that treat a body-less message as a string;
     * never counted, never written past cap. */
    if (s.len < cap)
        buf[s.len] = '\0';
    return SIPSESS_OK;
}

/* ------------------------------------------------------------------ */
/* Builder                                                             */

/*
 * `buf` holds the start line and the header lines, `len` bytes; finish
 * writes its tail (Content-Type, Content-Length, blank line, body) after
 * them without moving `len`, so a header added after finish just
 * overwrites the stale tail. Body and Content-Type live apart until then:
 * body() may be called again, and headers may follow it.
 */
struct sipsess_msgbuilder {
    char *buf;
    size_t len, cap;
    size_t out_len;         /* length of the finished message; 0: stale */
    char *body;
    size_t body_len, body_cap;
    char *ctype;
    size_t ctype_len, ctype_cap;
    bool has_ctype;
    bool started;           /* a start line is in buf */
};

enum { BUILDER_MIN_CAP = 512 }; /* a typical request fits without regrowth */

/* Geometric growth keeps appends amortised O(1). */
static int grow(char **p, size_t *cap, size_t need)
{
    if (need <= *cap)
        return SIPSESS_OK;
    size_t n = *cap ? *cap : BUILDER_MIN_CAP;
    while (n < need)
        n = n > SIZE_MAX / 2 ? need : n * 2;
    char *q = sipsess__realloc(*p, n);
    if (!q)
        return SIPSESS_ENOMEM;
    *p = q;
    *cap = n;
    return SIPSESS_OK;
}

static int reserve(struct sipsess_msgbuilder *b, size_t extra)
{
    if (extra > SIZE_MAX - b->len)
        return SIPSESS_ENOMEM;
    return grow(&b->buf, &b->cap, b->len + extra);
}

/*
 * An argument that points into the builder's own buffer (a view of an
 * earlier finish) could move with a regrowth or be overwritten by the
 * bytes it is copied to; such calls are refused rather than half-done.
 * Compared as integers: relational compares of unrelated pointers are
 * undefined in C.
 */
static bool aliases(const struct sipsess_msgbuilder *b, const void *p, size_t n)
{
    if (!b->buf || !p)
        return false;
    uintptr_t lo = (uintptr_t)b->buf, hi = lo + b->cap, x = (uintptr_t)p;
    return x < hi && x + n > lo;
}

static bool is_token(const char *p, size_t n)
{
    if (n == 0)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!SIPSESS__IS(p[i], SIPSESS__C_TOKEN))
            return false;
    return true;
}

/* No CR, LF or NUL: nothing a caller passes can end a line early. */
static bool is_line_safe(const char *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (p[i] == '\r' || p[i] == '\n' || p[i] == '\0')
            return false;
    return true;
}

/* The start line is built as "METHOD SP URI SP": a byte that ends the
 * URI early or starts a new line must not reach it, whatever the URI
 * grammar of the day accepts. */
static int check_ruri(const char *ruri, size_t len)
{
    if (len == 0)
        return SIPSESS_EURI;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)ruri[i];
        if (c <= 0x20 || c == 0x7f)
            return SIPSESS_EURI;
    }
    struct sipsess_uri u;
    /* No length limit here: limits protect a parser from its peer, and a
     * UA's own Request-URI is whatever its user chose. */
    if (sipsess__uri_parse_into(&u, ruri, len, SIZE_MAX) != 0)
        return SIPSESS_EURI;
    /* §19.1.1: a SIP or SIPS Request-URI never carries headers; the
     * parser refuses them, so the builder must not write them. */
    if ((u.scheme_id == SIPSESS_URI_SIP || u.scheme_id == SIPSESS_URI_SIPS) && u.headers.p)
        return SIPSESS_EURI;
    return SIPSESS_OK;
}

static void start_over(struct sipsess_msgbuilder *b)
{
    b->len = 0;
    b->out_len = 0;
    b->body_len = 0;
    b->ctype_len = 0;
    b->has_ctype = false;
    b->started = false;
}

SIPSESS_API int sipsess_msgbuilder_new(sipsess_msgbuilder **out)
{
    if (!out)
        return SIPSESS_EINVAL;
    struct sipsess_msgbuilder *b = sipsess__calloc(1, sizeof *b);
    if (!b)
        return SIPSESS_ENOMEM;
    *out = b;
    return SIPSESS_OK;
}

SIPSESS_API void sipsess_msgbuilder_free(sipsess_msgbuilder *b)
{
    if (!b)
        return;
    sipsess__free(b->buf);
    sipsess__free(b->body);
    sipsess__free(b->ctype);
    sipsess__free(b);
}

SIPSESS_API int sipsess_msgbuilder_request(sipsess_msgbuilder *b, const char *method,
                                           const char *ruri)
{
    if (!b || !method || !ruri)
        return SIPSESS_EINVAL;
    size_t mlen = strlen(method), ulen = strlen(ruri);
    if (aliases(b, method, mlen) || aliases(b, ruri, ulen) || !is_token(method, mlen))
        return SIPSESS_EINVAL;
    int rc = check_ruri(ruri, ulen);
    if (rc)
        return rc;
    rc = grow(&b->buf, &b->cap, mlen + ulen + sizeof " " - 1 + sizeof " SIP/2.0\r\n" - 1);
    if (rc)
        return rc;
    start_over(b);
    struct sink s = {b->buf, b->cap, 0};
    put(&s, method, mlen);
    PUT_LIT(&s, " ");
    put(&s, ruri, ulen);
    PUT_LIT(&s, " SIP/2.0\r\n");
    b->len = s.len;
    b->started = true;
    return SIPSESS_OK;
}

static void put_status_line(struct sink *s, unsigned status, const char *reason,
                            size_t rlen)
{
    PUT_LIT(s, "SIP/2.0 ");
    put_uint(s, status);
    PUT_LIT(s, " ");
    put(s, reason, rlen);
    PUT_LIT(s, "\r\n");
}

/* Shared argument checks of the two response starters; sets *reason to
 * the phrase to write. */
static int check_response(const struct sipsess_msgbuilder *b, unsigned status,
                          const char **reason, size_t *rlen)
{
    if (status < 100 || status > 699)
        return SIPSESS_ESTATUS;
    if (!*reason)
        *reason = sipsess_reason_phrase(status);
    *rlen = strlen(*reason);
    if (aliases(b, *reason, *rlen) || !is_line_safe(*reason, *rlen))
        return SIPSESS_EINVAL;
    return SIPSESS_OK;
}

SIPSESS_API int sipsess_msgbuilder_response(sipsess_msgbuilder *b, unsigned status,
                                            const char *reason)
{
    if (!b)
        return SIPSESS_EINVAL;
    size_t rlen;
    int rc = check_response(b, status, &reason, &rlen);
    if (rc)
        return rc;
    struct sink m = {NULL, 0, 0};
    put_status_line(&m, status, reason, rlen);
    rc = grow(&b->buf, &b->cap, m.len);
    if (rc)
        return rc;
    start_over(b);
    struct sink s = {b->buf, b->cap, 0};
    put_status_line(&s, status, reason, rlen);
    b->len = s.len;
    b->started = true;
    return SIPSESS_OK;
}

/*
 * Whether a To value already carries a tag parameter. Read from the text
 * rather than the typed parse: a value that failed its typed parse (lenient
 * mode) must not get a second tag either. Header parameters start at the
 * first ';' after the closing '>' of a name-addr, or at the first ';' of a
 * bare addr-spec; quoted display names may hold either character.
 */
static bool to_has_tag(const struct sipsess_hdr *h)
{
    if (!(h->flags & SIPSESS__HF_BAD) && h->u.na.tag.p)
        return true;
    const char *p = h->value.p, *end = p + h->value.len;
    bool quoted = false, bracket = false;
    for (; p < end; p++) {
        char c = *p;
        if (quoted) {
            if (c == '\\' && p + 1 < end)
                p++;
            else if (c == '"')
                quoted = false;
        } else if (c == '"') {
            quoted = true;
        } else if (c == '<') {
            bracket = true;
        } else if (c == '>') {
            bracket = false;
        } else if (c == ';' && !bracket) {
            break;
        }
    }
    if (p >= end)
        return false;
    sipsess_str params = {p + 1, (size_t)(end - p - 1)};
    return sipsess__param_find(params, ';', "tag", NULL);
}

struct resp_copy {
    unsigned status;
    const char *reason;
    size_t rlen;
    const char *tag;        /* NULL: leave To as it is */
    size_t tag_len;
};

/* RFC 3261 §8.2.6.2: the headers a response copies from its request.
 * May run twice (a first try that did not fit), so it changes no state. */
static void put_response_to(struct sink *s, const struct sipsess_msg *req,
                            const struct resp_copy *rc)
{
    const struct sipsess_hdr *from = NULL, *to = NULL, *callid = NULL, *cseq = NULL,
                             *ts = NULL;
    put_status_line(s, rc->status, rc->reason, rc->rlen);
    for (uint32_t i = 0; i < req->nhdr; i++) {
        const struct sipsess_hdr *h = &req->hdr[i];
        switch (h->id) {
        case SIPSESS_HDR_VIA:
            put_hdr(s, sipsess__str("Via", 3), h->value);
            break;
        case SIPSESS_HDR_FROM:
            from = from ? from : h;
            break;
        case SIPSESS_HDR_TO:
            to = to ? to : h;
            break;
        case SIPSESS_HDR_CALL_ID:
            callid = callid ? callid : h;
            break;
        case SIPSESS_HDR_CSEQ:
            cseq = cseq ? cseq : h;
            break;
        case SIPSESS_HDR_TIMESTAMP:
            ts = ts ? ts : h;
            break;
        default:
            break;
        }
    }
    if (from)
        put_hdr(s, sipsess__str("From", 4), from->value);
    if (to) {
        PUT_LIT(s, "To: ");
        put_value(s, to->value);
        if (rc->tag && !to_has_tag(to)) {
            PUT_LIT(s, ";tag=");
            put(s, rc->tag, rc->tag_len);
        }
        PUT_LIT(s, "\r\n");
    }
    if (callid)
        put_hdr(s, sipsess__str("Call-ID", 7), callid->value);
    if (cseq)
        put_hdr(s, sipsess__str("CSeq", 4), cseq->value);
    if (ts)
        put_hdr(s, sipsess__str("Timestamp", 9), ts->value);
}

SIPSESS_API int sipsess_msgbuilder_response_to(sipsess_msgbuilder *b,
                                               const sipsess_msg *req, unsigned status,
                                               const char *reason, const char *to_tag)
{
    if (!b || !req || !req->is_request)
        return SIPSESS_EINVAL;
    struct resp_copy c = {status, reason, 0, NULL, 0};
    int rc = check_response(b, status, &c.reason, &c.rlen);
    if (rc)
        return rc;
    if (to_tag) {
        size_t tlen = strlen(to_tag);
        if (aliases(b, to_tag, tlen) || !is_token(to_tag, tlen))
            return SIPSESS_EINVAL;
        /* A 100 is sent by the transaction layer, never inside a dialog
         * (RFC 3261 §8.2.6.2): it carries the To of the request as is. */
        if (status != 100) {
            c.tag = to_tag;
            c.tag_len = tlen;
        }
    }
    /* Written straight into the buffer: a reused builder almost always
     * has room, and the sink measures when it has not. The old message is
     * gone either way, so ENOMEM leaves an empty builder. */
    start_over(b);
    struct sink s = {b->buf, b->cap, 0};
    put_response_to(&s, req, &c);
    if (s.len > b->cap) {
        rc = grow(&b->buf, &b->cap, s.len);
        if (rc)
            return rc;
        s = (struct sink){b->buf, b->cap, 0};
        put_response_to(&s, req, &c);
    }
    b->len = s.len;
    b->started = true;
    return SIPSESS_OK;
}

static int set_ctype(struct sipsess_msgbuilder *b, const char *p, size_t n)
{
    /* An empty media type is no Content-Type at all: it removes one. */
    if (n == 0) {
        b->has_ctype = false;
        b->ctype_len = 0;
        b->out_len = 0;
        return SIPSESS_OK;
    }
    int rc = grow(&b->ctype, &b->ctype_cap, n);
    if (rc)
        return rc;
    memcpy(b->ctype, p, n);
    b->ctype_len = n;
    b->has_ctype = true;
    b->out_len = 0;
    return SIPSESS_OK;
}

SIPSESS_API int sipsess_msgbuilder_header_str(sipsess_msgbuilder *b, sipsess_str name,
                                              sipsess_str value)
{
    if (!b || !name.p || !value.p)
        return SIPSESS_EINVAL;
    if (!b->started)
        return SIPSESS_ESTATE;
    if (!is_token(name.p, name.len) || !is_line_safe(value.p, value.len) ||
        aliases(b, name.p, name.len) || aliases(b, value.p, value.len))
        return SIPSESS_EINVAL;
    switch (sipsess__hdr_lookup(name.p, name.len)) {
    case SIPSESS_HDR_CONTENT_LENGTH:
        return SIPSESS_EINVAL;
    case SIPSESS_HDR_CONTENT_TYPE:
        /* Kept with the body so that body() with a media type replaces
         * it instead of adding a second one. */
        return set_ctype(b, value.p, value.len);
    default:
        break;
    }
    int rc = reserve(b, name.len + value.len + sizeof ": \r\n" - 1);
    if (rc)
        return rc;
    struct sink s = {b->buf, b->cap, b->len};
    put_str(&s, name);
    PUT_LIT(&s, ": ");
    put_str(&s, value);
    PUT_LIT(&s, "\r\n");
    b->len = s.len;
    b->out_len = 0;
    return SIPSESS_OK;
}

SIPSESS_API int sipsess_msgbuilder_header(sipsess_msgbuilder *b, const char *name,
                                          const char *value)
{
    if (!b || !name || !value)
        return SIPSESS_EINVAL;
    return sipsess_msgbuilder_header_str(b, sipsess__str_c(name), sipsess__str_c(value));
}

SIPSESS_API int sipsess_msgbuilder_header_lines(sipsess_msgbuilder *b, const char *lines)
{
    if (!b)
        return SIPSESS_EINVAL;
    for (const char *p = lines; p && *p;) {
        const char *eol = strchr(p, '\n');
        const char *end = eol ? eol : p + strlen(p);
        const char *next = eol ? eol + 1 : end;
        if (end > p && end[-1] == '\r')
            end--;
        if (end > p) {
            const char *colon = memchr(p, ':', (size_t)(end - p));
            if (!colon)
                return SIPSESS_EINVAL;
            const char *ne = colon, *vs = colon + 1, *ve = end;
            while (ne > p && is_wsp(ne[-1]))
                ne--;
            while (vs < ve && is_wsp(*vs))
                vs++;
            while (ve > vs && is_wsp(ve[-1]))
                ve--;
            sipsess_str name = {p, (size_t)(ne - p)}, value = {vs, (size_t)(ve - vs)};
            int rc = sipsess_msgbuilder_header_str(b, name, value);
            if (rc)
                return rc;
        }
        p = next;
    }
    return SIPSESS_OK;
}

SIPSESS_API int sipsess_msgbuilder_body(sipsess_msgbuilder *b, const void *body,
                                        size_t len, const char *content_type)
{
    if (!b || !body)
        return SIPSESS_EINVAL;
    if (!b->started)
        return SIPSESS_ESTATE;
    size_t clen = 0;
    if (content_type) {
        clen = strlen(content_type);
        if (!is_line_safe(content_type, clen))
            return SIPSESS_EINVAL;
    }
    /* Both stores grow before either changes, so ENOMEM leaves the old
     * body and type in place. The sources may be views of an earlier
     * finish: these stores are not that buffer, so no alias check. */
    int rc = grow(&b->body, &b->body_cap, len);
    if (rc == 0 && content_type)
        rc = grow(&b->ctype, &b->ctype_cap, clen);
    if (rc)
        return rc;
    if (len)
        memcpy(b->body, body, len);
    b->body_len = len;
    b->out_len = 0;
    return content_type ? set_ctype(b, content_type, clen) : SIPSESS_OK;
}

static void put_tail(struct sink *s, const struct sipsess_msgbuilder *b)
{
    if (b->has_ctype) {
        PUT_LIT(s, "Content-Type: ");
        put(s, b->ctype, b->ctype_len);
        PUT_LIT(s, "\r\n");
    }
    PUT_LIT(s, "Content-Length: ");
    put_uint(s, b->body_len);
    PUT_LIT(s, "\r\n\r\n");
    put(s, b->body, b->body_len);
}

SIPSESS_API int sipsess_msgbuilder_finish(sipsess_msgbuilder *b, sipsess_str *out)
{
    if (!b || !out)
        return SIPSESS_EINVAL;
    if (!b->started)
        return SIPSESS_ESTATE;
    if (!b->out_len) {
        struct sink m = {NULL, 0, 0};
        put_tail(&m, b);
        int rc = reserve(b, m.len);
        if (rc)
            return rc;
        struct sink s = {b->buf, b->cap, b->len};
        put_tail(&s, b);
        b->out_len = s.len;
    }
    out->p = b->buf;
    out->len = b->out_len;
    return SIPSESS_OK;
}
