/*
 * Private definitions of the syntax layer: the concrete shapes behind the
 * opaque sipsess_uri, sipsess_hdr and sipsess_msg, and the helpers the
 * parser files share. Never installed.
 */
#ifndef SIPSESS__SYNTAX_H
#define SIPSESS__SYNTAX_H

#include <stdbool.h>
#include <string.h>

#include "sipsess/msg.h"
#include "../runtime/mem.h"

/* Vector scans: SSE2 is part of every x86-64; SIPSESS__NO_SIMD builds the
 * portable loops instead (msg.c has a word-at-a-time one and a byte one),
 * so they stay tested. */
#if defined(__SSE2__) && !defined(SIPSESS__NO_SIMD)
#include <emmintrin.h>
#define SIPSESS__SSE2 1
#endif

/* A branch hint for the few tests whose rare side costs a call. */
#if defined(__GNUC__)
#define SIPSESS__UNLIKELY(x) __builtin_expect(!!(x), 0)
#else
#define SIPSESS__UNLIKELY(x) (x)
#endif

/* ---- character classes (RFC 3261 §25.1) ---- */
enum {
    SIPSESS__C_TOKEN = 1 << 0,   /* token chars: alphanum -.!%*_+`'~ */
    SIPSESS__C_WS = 1 << 1,      /* SP HTAB */
    SIPSESS__C_ALNUM = 1 << 2,
    SIPSESS__C_DIGIT = 1 << 3,
    SIPSESS__C_HEX = 1 << 4,
    SIPSESS__C_UNRES = 1 << 5,   /* unreserved: alphanum mark */
    SIPSESS__C_USER = 1 << 6,    /* unreserved + user-unreserved &=+$,;?/ */
    SIPSESS__C_PARAM = 1 << 7,   /* unreserved + param-unreserved []/:&+$ */
    SIPSESS__C_HNV = 1 << 8,     /* unreserved + hnv-unreserved []/?:+$ */
    SIPSESS__C_PASSWD = 1 << 9,  /* unreserved + &=+$, */
    SIPSESS__C_WORD = 1 << 10,   /* word chars (Call-ID): token + ()<>:\"/[]?{} */
    SIPSESS__C_HOST = 1 << 11,   /* hostname chars alnum - . */
    SIPSESS__C_GENVAL = 1 << 12, /* unquoted gen-value: token + host's :[] */
    SIPSESS__C_AUTHV = 1 << 13,  /* unquoted auth-param value: token + /= */
    SIPSESS__C_LWS = 1 << 14,    /* SP HTAB CR LF (CR/LF only occur in folds) */
    SIPSESS__C_SPLIT = 1 << 15,  /* what the list splitter stops at: " < > , */
    SIPSESS__C_ALPHA = 1 << 16,
    SIPSESS__C_SCHEME = 1 << 17, /* URI scheme chars after the first: alnum + - . */
    SIPSESS__C_NAMECH = 1 << 18, /* host chars that make a host a name: letter - */
};
extern const uint32_t sipsess__cclass[256];
#define SIPSESS__IS(c, cls) ((sipsess__cclass[(unsigned char)(c)] & (cls)) != 0)

static inline int sipsess__lower(int c)
{
    return (c >= 'A' && c <= 'Z') ? c + 32 : c;
}

/* Unaligned little loads for word-at-a-time compares; memcpy compiles to one
 * mov and keeps strict aliasing and alignment rules intact. */
static inline uint64_t sipsess__ld8(const char *p)
{
    uint64_t w;
    memcpy(&w, p, 8);
    return w;
}

static inline uint32_t sipsess__ld4(const char *p)
{
    uint32_t w;
    memcpy(&w, p, 4);
    return w;
}

static inline uint16_t sipsess__ld2(const char *p)
{
    uint16_t w;
    memcpy(&w, p, 2);
    return w;
}

/** Case-insensitive compare of a view with a NUL-terminated ASCII string. */
bool sipsess__str_ieq(sipsess_str a, const char *lit);
bool sipsess__str_ieq2(sipsess_str a, sipsess_str b);
static inline sipsess_str sipsess__str(const char *p, size_t len)
{
    sipsess_str s = {p, len};
    return s;
}
static inline sipsess_str sipsess__str_c(const char *cstr)
{
    sipsess_str s = {cstr, cstr ? strlen(cstr) : 0};
    return s;
}

/**
 * Find parameter `name` in a parameter list `params` (the text after the
 * first `sep`, separated by `sep`, each `name[=value]`, whitespace allowed
 * around `sep` and `=`). Values in double quotes are returned without the
 * quotes. Returns true when found.
 */
bool sipsess__param_find(sipsess_str params, char sep, const char *name,
                         sipsess_str *value);

/* ---- URI ---- */
struct sipsess_uri {
    sipsess_str text;      /* whole URI */
    sipsess_str scheme;
    sipsess_str user;      /* sip: user, tel: number */
    sipsess_str password;
    sipsess_str host;      /* IPv6 without brackets */
    sipsess_str params;    /* after the first ';' (not including it) */
    sipsess_str headers;   /* after '?' (not including it) */
    sipsess_str opaque;    /* after "scheme:" up to params (sip/tel) or the end */
    uint16_t port;
    uint8_t scheme_id;     /* sipsess_uri_scheme */
    uint8_t host_type;     /* sipsess_host_type */
    uint8_t owned;         /* 1: made by sipsess_uri_parse/dup, text follows the struct */
};

/**
 * Parse `len` bytes at `p` as a URI into `u` without allocating; the views
 * point into `p`. The bytes must be exactly the URI: a caller holding a
 * name-addr cuts off the <...> brackets, and for a bare addr-spec the
 * header parameters after the first ';', before calling. Returns 0,
 * SIPSESS_EINVAL when `u` is NULL, SIPSESS_EURITOOLONG when len > max_len,
 * or SIPSESS_EURI. Even on failure (but EINVAL) u->text holds the input so
 * a lenient parser can still show it; every other view is then absent.
 */
int sipsess__uri_parse_into(struct sipsess_uri *u, const char *p, size_t len,
                            size_t max_len);

/**
 * The same for a URI inside a parsed message's copy, where the byte at
 * p[len] is readable and ends the URI: '>' of a name-addr, the SP after a
 * Request-URI, or the ';', LWS, ',' or zero byte after a bare addr-spec.
 * None of those is a URI character the scanners take runs of, so they run
 * without bounds tests. Never for a caller's buffer.
 */
int sipsess__uri_parse_delim(struct sipsess_uri *u, const char *p, size_t len,
                             size_t max_len);

/* ---- headers ---- */
enum {
    SIPSESS__HF_BAD = 1 << 0,    /* typed parse failed (lenient mode) */
};
#define SIPSESS__TID_BAD 0xff

/** Typed parse of h->value for h->id (hdr.c). */
int sipsess__hdr_parse_value(struct sipsess_hdr *h, const sipsess_parse_opts *o);

struct sipsess__via {
    sipsess_str proto;      /* "SIP/2.0" */
    sipsess_str transport;
    sipsess_str host;
    sipsess_str branch, received, maddr;
    int32_t rport;          /* -1 none, 0 flag, else port */
    int16_t ttl;            /* -1 none */
    uint16_t port;
    uint8_t host_type;
};

struct sipsess__nameaddr {
    sipsess_str display;    /* without quotes */
    sipsess_str tag;
    struct sipsess_uri uri;
    int64_t expires;        /* -1 none */
    int16_t q;              /* -1 none, else thousandths */
    uint8_t star;
};

struct sipsess__cseq {
    uint32_t num;
    uint8_t method;
    sipsess_str mname;
};

struct sipsess__rack {
    uint32_t rseq, cseq;
    uint8_t method;
    sipsess_str mname;
};

struct sipsess__mtype {
    sipsess_str type, subtype;
};

struct sipsess__twostr {     /* Retry-After comment, Timestamp value/delay */
    sipsess_str a, b;
};

/* Digest parameters (RFC 3261 §25.1, RFC 2617) an auth header carries,
 * recorded while the header is parsed so sipsess_auth_param answers for
 * them without walking the list again. */
enum {
    SIPSESS__AP_REALM,
    SIPSESS__AP_NONCE,
    SIPSESS__AP_USERNAME,
    SIPSESS__AP_URI,
    SIPSESS__AP_RESPONSE,
    SIPSESS__AP_ALGORITHM,
    SIPSESS__AP_QOP,
    SIPSESS__AP_OPAQUE,
    SIPSESS__AP_NC,
    SIPSESS__AP_CNONCE,
    SIPSESS__AP_DOMAIN,
    SIPSESS__AP_STALE,
    SIPSESS__AP_NEXTNONCE,
    SIPSESS__AP_RSPAUTH,
    SIPSESS__AP__COUNT
};
#define SIPSESS__AP_ABSENT UINT32_MAX

/* Offsets from the header's `params` view rather than full views: 14
 * views would make every header 100 bytes larger, for the sake of one. A
 * value is at most a header line long, and max_msg_size is 32-bit. */
struct sipsess__auth {
    struct {
        uint32_t off;       /* SIPSESS__AP_ABSENT: no such parameter */
        uint32_t len;       /* without the quotes of a quoted value */
    } p[SIPSESS__AP__COUNT];
};

/** One header value. `params` is the raw parameter list (text after the
 *  first top-level ';', or for auth headers the text after the scheme) used
 *  for generic lookups. */
struct sipsess_hdr {
    uint8_t id;             /* sipsess_hdr_id */
    uint8_t flags;          /* SIPSESS__HF_* */
    int16_t next;           /* index of next value with the same id, -1 none
                               (for SIPSESS_HDR_OTHER: same name) */
    uint8_t tid;            /* id when the typed parse succeeded, else
                               SIPSESS__TID_BAD: each typed accessor then
                               asks one question instead of two */
    sipsess_str name;
    sipsess_str value;
    sipsess_str params;
    sipsess_str token;      /* first token (see sipsess_hdr_token) */
    int64_t number;         /* number-valued headers, else -1 */
    union {
        struct sipsess__via via;
        struct sipsess__nameaddr na;
        struct sipsess__cseq cseq;
        struct sipsess__rack rack;
        struct sipsess__mtype mt;
        struct sipsess__twostr two;
        struct sipsess__auth auth;
    } u;
};

struct sipsess_msg {
    int refs;
    int err;                /* first semantic error (lenient) */
    size_t err_off;
    const char *buf;        /* owned copy of the bytes (same allocation) */
    size_t len;             /* through the end of the body */
    uint8_t is_request;
    uint8_t method;
    uint16_t status;
    sipsess_str method_name;
    sipsess_str version;    /* SIP-Version as written ("SIP/2.0", "SIP/7.0") */
    sipsess_str reason;
    sipsess_str body;
    struct sipsess_uri ruri;
    uint32_t nhdr, cap;
    struct sipsess_hdr *hdr;
    int16_t first[SIPSESS_HDR__COUNT];
    int16_t last[SIPSESS_HDR__COUNT];
};

/* Header name table lookups shared with the printer. */
sipsess_hdr_id sipsess__hdr_lookup(const char *name, size_t len);

/* Per-id properties, one byte each so the parser's per-value checks are a
 * load and a test (names.c). */
enum {
    SIPSESS__HP_LIST = 1 << 0,   /* values are split at top-level commas */
    SIPSESS__HP_SINGLE = 1 << 1, /* a second occurrence is an error (§7.3.1) */
};
extern const uint8_t sipsess__hdr_props[SIPSESS_HDR__COUNT];

/** Whether values of this header are split at top-level commas. */
static inline bool sipsess__hdr_is_list(sipsess_hdr_id id)
{
    return (unsigned)id < SIPSESS_HDR__COUNT && (sipsess__hdr_props[id] & SIPSESS__HP_LIST);
}
/** Whether a second occurrence of this header is an error (RFC 3261 §7.3.1). */
static inline bool sipsess__hdr_is_single(sipsess_hdr_id id)
{
    return (unsigned)id < SIPSESS_HDR__COUNT && (sipsess__hdr_props[id] & SIPSESS__HP_SINGLE);
}

/** Parse a message whose bytes are copied into a fresh allocation. `stream`:
 *  a Content-Length is mandatory and the body must be complete (framer). */
int sipsess__msg_parse(const void *data, size_t len, const sipsess_parse_opts *opts,
                       bool stream, sipsess_msg **out, size_t *err_off);

/** Whether `e` is a parse error for a broken limit (size, header count,
 *  Via count, field length, URI length). */
bool sipsess__limit_error(int e);

/** The part of a request that broke a limit (`why`, a limit error) that a
 *  response needs, from the `len` bytes that arrived (the first ones of a
 *  longer message will do): its start line and its Via, From, To, Call-ID
 *  and CSeq fields (Via cut to the top value when there are too many),
 *  parsed as a message without body whose sipsess_msg_error is `why`, or
 *  SIPSESS_EURITOOLONG when the Request-URI was over the limit (it then
 *  reads sip:invalid.invalid). Errors: SIPSESS_EINVAL (a response, an
 *  ACK, `why` no limit error), SIPSESS_ETRUNCATED, SIPSESS_ESTARTLINE,
 *  SIPSESS_EMISSING (one of the five fields missing or cut), the parser's
 *  errors for what is left, SIPSESS_ENOMEM (salvage.c). */
int sipsess__msg_salvage(const void *data, size_t len, const sipsess_parse_opts *opts, int why,
                         sipsess_msg **out);

/** The bytes of the message the last sipsess_framer_next call failed on
 *  (those held, when the framing itself failed); valid until the next feed
 *  or next call. {NULL, 0} when the last call did not fail on a message. */
sipsess_str sipsess__framer_failed_bytes(const sipsess_framer *f);

#endif
