/*
 * libsipsess — URIs (RFC 3261 §19.1, RFC 3966 tel:, RFC 5118 IPv6).
 *
 * A sipsess_uri is a parsed view of URI text: its string accessors return
 * views into that text, exactly as written (still %-escaped). A URI parsed
 * with sipsess_uri_parse owns a copy of its text; a URI obtained from a
 * message (sipsess_msg_ruri, sipsess_nameaddr_uri) belongs to the message
 * and is valid until the message is freed.
 */
#ifndef SIPSESS_URI_H
#define SIPSESS_URI_H

#include "common.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct sipsess_uri sipsess_uri;

typedef enum sipsess_uri_scheme {
    SIPSESS_URI_OTHER = 0, /**< any other absolute URI, kept opaque */
    SIPSESS_URI_SIP = 1,
    SIPSESS_URI_SIPS = 2,
    SIPSESS_URI_TEL = 3,
} sipsess_uri_scheme;

typedef enum sipsess_host_type {
    SIPSESS_HOST_NONE = 0, /**< no host (tel:, opaque URIs) */
    SIPSESS_HOST_NAME = 1, /**< a domain name */
    SIPSESS_HOST_IPV4 = 2,
    SIPSESS_HOST_IPV6 = 3, /**< host view is without the brackets */
} sipsess_host_type;

/**
 * Parse `len` bytes of URI text into a new URI that owns a copy of the text.
 * Errors: SIPSESS_EINVAL (NULL args), SIPSESS_EURI (malformed),
 * SIPSESS_EURITOOLONG (longer than 8 KiB), SIPSESS_ENOMEM.
 * `*out` is untouched on failure. Free with sipsess_uri_free.
 */
SIPSESS_API int sipsess_uri_parse(const char *text, size_t len, sipsess_uri **out);

/** Free a URI made by sipsess_uri_parse or sipsess_uri_dup. NULL is a no-op.
 *  Never call it on a URI that belongs to a message. */
SIPSESS_API void sipsess_uri_free(sipsess_uri *uri);

/** Independent copy of any URI (including one that belongs to a message).
 *  Errors: SIPSESS_EINVAL, SIPSESS_ENOMEM. */
SIPSESS_API int sipsess_uri_dup(const sipsess_uri *uri, sipsess_uri **out);

SIPSESS_API sipsess_uri_scheme sipsess_uri_scheme_id(const sipsess_uri *uri);
/** Scheme as written ("sip", "SIPS", "tel", "urn", ...). */
SIPSESS_API sipsess_str sipsess_uri_scheme_name(const sipsess_uri *uri);
/** The whole URI text as parsed. */
SIPSESS_API sipsess_str sipsess_uri_text(const sipsess_uri *uri);
/** sip/sips: user part (escaped) or {NULL,0} when there is no userinfo.
 *  tel: the telephone-subscriber number. Other schemes: {NULL,0}. */
SIPSESS_API sipsess_str sipsess_uri_user(const sipsess_uri *uri);
/** Password after ':' in userinfo, or {NULL,0}. */
SIPSESS_API sipsess_str sipsess_uri_password(const sipsess_uri *uri);
/** Host (IPv6 without brackets), or {NULL,0} for tel:/opaque URIs. */
SIPSESS_API sipsess_str sipsess_uri_host(const sipsess_uri *uri);
SIPSESS_API sipsess_host_type sipsess_uri_host_type(const sipsess_uri *uri);
/** Port, or 0 when none is written. */
SIPSESS_API unsigned sipsess_uri_port(const sipsess_uri *uri);
/** Everything after the scheme's ':' for opaque URIs; for sip/sips/tel the
 *  part after the scheme up to the parameters. */
SIPSESS_API sipsess_str sipsess_uri_opaque(const sipsess_uri *uri);
/** Raw parameter section without the leading ';' ({NULL,0} if none). */
SIPSESS_API sipsess_str sipsess_uri_params(const sipsess_uri *uri);
/** Raw header section without the leading '?' ({NULL,0} if none). */
SIPSESS_API sipsess_str sipsess_uri_headers(const sipsess_uri *uri);

/**
 * Look up a URI parameter by name (case-insensitive, compared escaped as
 * written). Returns 1 and sets *value when found (value {NULL,0} for a
 * parameter without '='), 0 when absent. `value` may be NULL.
 */
SIPSESS_API int sipsess_uri_param(const sipsess_uri *uri, const char *name,
                                  sipsess_str *value);
/** Look up a URI header (the part after '?') by name; same contract. */
SIPSESS_API int sipsess_uri_header(const sipsess_uri *uri, const char *name,
                                   sipsess_str *value);

/**
 * Decode %HH escapes of `in` once (never recursively) into `buf` of size
 * `cap`. The result may contain NUL bytes; it is NUL-terminated when room
 * is left, and its length is stored in *out_len. Errors: SIPSESS_EINVAL
 * (NULL args, or a '%' not followed by two hex digits), SIPSESS_ENOSPC (the
 * decoded text does not fit; *out_len then says how much is needed).
 */
SIPSESS_API int sipsess_unescape(sipsess_str in, char *buf, size_t cap,
                                 size_t *out_len);

/**
 * URI equality per RFC 3261 §19.1.4: scheme must match (sip vs sips never
 * equal); user/password case-sensitive after unescaping, host
 * case-insensitive; user, ttl, method, maddr and transport parameters must
 * match when present in either; other parameters must match when present in
 * both; headers must match by name. tel: numbers are compared ignoring
 * visual separators; other schemes by case-insensitive text.
 * Returns 1 when equal, 0 when not (also when either is NULL).
 */
SIPSESS_API int sipsess_uri_equal(const sipsess_uri *a, const sipsess_uri *b);

/** Print the URI into `buf` (NUL-terminated when room is left); *out_len
 *  gets the length. Errors: SIPSESS_EINVAL, SIPSESS_ENOSPC. */
SIPSESS_API int sipsess_uri_print(const sipsess_uri *uri, char *buf, size_t cap,
                                  size_t *out_len);

#ifdef __cplusplus
}
#endif
#endif
