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
};
extern const uint16_t sipsess__cclass[256];
#define SIPSESS__IS(c, cls) ((sipsess__cclass[(unsigned char)(c)] & (cls)) != 0)

static inline int sipsess__lower(int c)
{
    return (c >= 'A' && c <= 'Z') ? c + 32 : c;
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
 * point into `p`. `in_brackets`: the URI came from inside <...> (a bare
 * addr-spec outside brackets cannot hold ';' params that belong to the
 * header, the caller cuts those off first). Returns 0 or SIPSESS_EURI /
 * SIPSESS_EURITOOLONG (len > max_len).
 */
int sipsess__uri_parse_into(struct sipsess_uri *u, const char *p, size_t len,
                            size_t max_len);

/* ---- headers ---- */
enum {
    SIPSESS__HF_BAD = 1 << 0,    /* typed parse failed (lenient mode) */
};

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

/** One header value. `params` is the raw parameter list (text after the
 *  first top-level ';', or for auth headers the text after the scheme) used
 *  for generic lookups. */
struct sipsess_hdr {
    uint8_t id;             /* sipsess_hdr_id */
    uint8_t flags;          /* SIPSESS__HF_* */
    int16_t next;           /* index of next value with the same id, -1 none
                               (for SIPSESS_HDR_OTHER: same name) */
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
/** Whether values of this header are split at top-level commas. */
bool sipsess__hdr_is_list(sipsess_hdr_id id);
/** Whether a second occurrence of this header is an error (RFC 3261 §7.3.1). */
bool sipsess__hdr_is_single(sipsess_hdr_id id);

/** Parse a message whose bytes are copied into a fresh allocation. `stream`:
 *  a Content-Length is mandatory and the body must be complete (framer). */
int sipsess__msg_parse(const void *data, size_t len, const sipsess_parse_opts *opts,
                       bool stream, sipsess_msg **out, size_t *err_off);

#endif
