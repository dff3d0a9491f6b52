/*
 * libsipsess — SIP messages (RFC 3261 §7, §20, §25): parser, typed header
 * accessors, stream framer, printer and builder.
 *
 * A parsed sipsess_msg owns one copy of the bytes it was parsed from (one
 * allocation per message holds the copy, the message and its header table).
 * Every sipsess_str, sipsess_uri and sipsess_hdr obtained from a message
 * points into that allocation and stays valid until the message's last
 * reference is dropped with sipsess_msg_free.
 *
 * Multi-value headers (Via, Contact, Route, Record-Route, Allow, Supported,
 * ...) are split at their top-level commas: each value is one sipsess_hdr,
 * so a header repeated on several lines and comma-joined values read the
 * same. Unknown headers are kept whole, in order, and found by name.
 */
#ifndef SIPSESS_MSG_H
#define SIPSESS_MSG_H

#include "common.h"
#include "uri.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct sipsess_msg sipsess_msg;
typedef struct sipsess_hdr sipsess_hdr;

/** Request methods the library knows by name. Anything else is
 *  SIPSESS_METHOD_OTHER; its name is read with sipsess_msg_method_name. */
typedef enum sipsess_method {
    SIPSESS_METHOD_OTHER = 0,
    SIPSESS_METHOD_INVITE,
    SIPSESS_METHOD_ACK,
    SIPSESS_METHOD_BYE,
    SIPSESS_METHOD_CANCEL,
    SIPSESS_METHOD_OPTIONS,
    SIPSESS_METHOD_REGISTER,
    SIPSESS_METHOD_PRACK,
    SIPSESS_METHOD_SUBSCRIBE,
    SIPSESS_METHOD_NOTIFY,
    SIPSESS_METHOD_PUBLISH,
    SIPSESS_METHOD_INFO,
    SIPSESS_METHOD_REFER,
    SIPSESS_METHOD_MESSAGE,
    SIPSESS_METHOD_UPDATE,
    SIPSESS_METHOD__COUNT
} sipsess_method;

/** Header fields the library knows (long and compact forms). Values are
 *  stable; new ones are appended before SIPSESS_HDR__COUNT. */
typedef enum sipsess_hdr_id {
    SIPSESS_HDR_OTHER = 0,
    SIPSESS_HDR_VIA,
    SIPSESS_HDR_FROM,
    SIPSESS_HDR_TO,
    SIPSESS_HDR_CALL_ID,
    SIPSESS_HDR_CSEQ,
    SIPSESS_HDR_MAX_FORWARDS,
    SIPSESS_HDR_CONTACT,
    SIPSESS_HDR_ROUTE,
    SIPSESS_HDR_RECORD_ROUTE,
    SIPSESS_HDR_CONTENT_LENGTH,
    SIPSESS_HDR_CONTENT_TYPE,
    SIPSESS_HDR_CONTENT_DISPOSITION,
    SIPSESS_HDR_CONTENT_ENCODING,
    SIPSESS_HDR_CONTENT_LANGUAGE,
    SIPSESS_HDR_REQUIRE,
    SIPSESS_HDR_PROXY_REQUIRE,
    SIPSESS_HDR_SUPPORTED,
    SIPSESS_HDR_UNSUPPORTED,
    SIPSESS_HDR_ALLOW,
    SIPSESS_HDR_ACCEPT,
    SIPSESS_HDR_ACCEPT_ENCODING,
    SIPSESS_HDR_ACCEPT_LANGUAGE,
    SIPSESS_HDR_EXPIRES,
    SIPSESS_HDR_MIN_EXPIRES,
    SIPSESS_HDR_RSEQ,
    SIPSESS_HDR_RACK,
    SIPSESS_HDR_EVENT,
    SIPSESS_HDR_ALLOW_EVENTS,
    SIPSESS_HDR_SUBSCRIPTION_STATE,
    SIPSESS_HDR_REFER_TO,
    SIPSESS_HDR_REFERRED_BY,
    SIPSESS_HDR_REFER_SUB,
    SIPSESS_HDR_REPLACES,
    SIPSESS_HDR_AUTHORIZATION,
    SIPSESS_HDR_PROXY_AUTHORIZATION,
    SIPSESS_HDR_WWW_AUTHENTICATE,
    SIPSESS_HDR_PROXY_AUTHENTICATE,
    SIPSESS_HDR_AUTHENTICATION_INFO,
    SIPSESS_HDR_SESSION_EXPIRES,
    SIPSESS_HDR_MIN_SE,
    SIPSESS_HDR_REASON,
    SIPSESS_HDR_RETRY_AFTER,
    SIPSESS_HDR_TIMESTAMP,
    SIPSESS_HDR_RECV_INFO,
    SIPSESS_HDR_INFO_PACKAGE,
    SIPSESS_HDR_SUBJECT,
    SIPSESS_HDR_USER_AGENT,
    SIPSESS_HDR_SERVER,
    SIPSESS_HDR_DATE,
    SIPSESS_HDR_WARNING,
    SIPSESS_HDR_ORGANIZATION,
    SIPSESS_HDR_PRIORITY,
    SIPSESS_HDR_REPLY_TO,
    SIPSESS_HDR_IN_REPLY_TO,
    SIPSESS_HDR_CALL_INFO,
    SIPSESS_HDR_ALERT_INFO,
    SIPSESS_HDR_ERROR_INFO,
    SIPSESS_HDR_MIME_VERSION,
    SIPSESS_HDR_IDENTITY,
    SIPSESS_HDR_IDENTITY_INFO,
    SIPSESS_HDR_ACCEPT_CONTACT,
    SIPSESS_HDR_REJECT_CONTACT,
    SIPSESS_HDR_REQUEST_DISPOSITION,
    SIPSESS_HDR_PATH,
    SIPSESS_HDR_SERVICE_ROUTE,
    SIPSESS_HDR_P_ASSERTED_IDENTITY,
    SIPSESS_HDR_PRIVACY,
    SIPSESS_HDR__COUNT
} sipsess_hdr_id;

/* ------------------------------------------------------------------ */
/* Parsing                                                             */

/** Parse flags (sipsess_parse_opts.flags). */
enum {
    /** Return the message even when a header value is malformed or a
     *  semantic check fails (bad CSeq, duplicate single header, missing
     *  mandatory header, bad Content-Length over a datagram): the first such
     *  error is then read with sipsess_msg_error. A UA uses this to answer
     *  400 to a request it can still route a response for. Start-line and
     *  header-structure errors and limits always fail. */
    SIPSESS_PARSE_LENIENT = 1u << 0,
};

/**
 * Parse options and limits. Versioned: fill with sipsess_parse_opts_init,
 * then change what you need. `struct_size` lets later releases add fields.
 */
typedef struct sipsess_parse_opts {
    uint32_t struct_size;
    uint32_t flags;           /**< SIPSESS_PARSE_* */
    uint32_t max_msg_size;    /**< whole message (default 65536) */
    uint32_t max_headers;     /**< header values after splitting (default 256) */
    uint32_t max_header_len;  /**< one header field as written: name through
                                   the last value byte, folds counted as
                                   they stand, line end not counted
                                   (default 8192) */
    uint32_t max_uri_len;     /**< any URI (default 4096) */
    uint32_t max_via;         /**< Via values (default 64) */
} sipsess_parse_opts;

/** Fill `opts` with the defaults. NULL is ignored. */
SIPSESS_API void sipsess_parse_opts_init(sipsess_parse_opts *opts);

/**
 * Parse one whole message from a datagram. A missing Content-Length means
 * the body is the rest of the datagram; bytes after the declared body are
 * ignored (RFC 3261 §18.3). Lines may end with CRLF or bare LF.
 *
 * `opts` may be NULL for defaults. On success `*out` holds a new message
 * with one reference. On failure `*out` is untouched and, when `err_off`
 * is not NULL, it receives the byte offset where parsing failed.
 * Errors: SIPSESS_EINVAL, SIPSESS_ENOMEM, SIPSESS_ETOOBIG,
 * SIPSESS_ETOOMANYHDRS, SIPSESS_EHDRTOOLONG, SIPSESS_EURITOOLONG,
 * SIPSESS_ETOOMANYVIA, SIPSESS_ESTARTLINE, SIPSESS_EVERSION,
 * SIPSESS_ESTATUS, SIPSESS_EHEADER, SIPSESS_EURI, SIPSESS_ECSEQ,
 * SIPSESS_ERANGE, SIPSESS_ECLEN, SIPSESS_ETRUNCATED, SIPSESS_EMISSING,
 * SIPSESS_EDUPLICATE.
 */
SIPSESS_API int sipsess_msg_parse(const void *data, size_t len,
                                  const sipsess_parse_opts *opts,
                                  sipsess_msg **out, size_t *err_off);

/** Add a reference; returns `msg`. */
SIPSESS_API sipsess_msg *sipsess_msg_ref(sipsess_msg *msg);
/** Drop a reference; the message is freed with the last one. NULL is a no-op. */
SIPSESS_API void sipsess_msg_free(sipsess_msg *msg);

/** First semantic error of a message parsed with SIPSESS_PARSE_LENIENT
 *  (0 when none); `err_off` may be NULL. */
SIPSESS_API int sipsess_msg_error(const sipsess_msg *msg, size_t *err_off);

SIPSESS_API int sipsess_msg_is_request(const sipsess_msg *msg);
/** Request method (SIPSESS_METHOD_OTHER for extension methods and for
 *  responses). */
SIPSESS_API sipsess_method sipsess_msg_method(const sipsess_msg *msg);
/** Method as written (case-sensitive token); {NULL,0} for responses. */
SIPSESS_API sipsess_str sipsess_msg_method_name(const sipsess_msg *msg);
/** Request-URI; NULL for responses. Valid as long as the message. */
SIPSESS_API const sipsess_uri *sipsess_msg_ruri(const sipsess_msg *msg);
/** Status code (100..699) of a response; 0 for requests. */
SIPSESS_API unsigned sipsess_msg_status(const sipsess_msg *msg);
/** SIP-Version of the start line as written ("SIP/2.0"). Only a message
 *  parsed with SIPSESS_PARSE_LENIENT can hold another one ("SIP/7.0",
 *  reported as SIPSESS_EVERSION); sipsess_msg_print keeps it. */
SIPSESS_API sipsess_str sipsess_msg_version(const sipsess_msg *msg);
/** Reason phrase as written (may be empty, may be UTF-8). */
SIPSESS_API sipsess_str sipsess_msg_reason(const sipsess_msg *msg);
/** Body bytes (may contain NULs); len 0 when there is none. */
SIPSESS_API sipsess_str sipsess_msg_body(const sipsess_msg *msg);
/** The message bytes as received (up to the end of the body). */
SIPSESS_API sipsess_str sipsess_msg_raw(const sipsess_msg *msg);

/** Number of header values (after multi-value splitting). */
SIPSESS_API size_t sipsess_msg_hdr_count(const sipsess_msg *msg);
/** Header value `i` in message order, or NULL past the end. */
SIPSESS_API const sipsess_hdr *sipsess_msg_hdr_at(const sipsess_msg *msg, size_t i);
/** The `nth` (0-based) value of a known header, or NULL. O(1) for nth=0. */
SIPSESS_API const sipsess_hdr *sipsess_msg_hdr(const sipsess_msg *msg,
                                              sipsess_hdr_id id, size_t nth);
/** Number of values of a known header. */
SIPSESS_API size_t sipsess_msg_hdr_num(const sipsess_msg *msg, sipsess_hdr_id id);
/** The `nth` value of the header named `name` (case-insensitive; long or
 *  compact name of a known header, or any extension header name). */
SIPSESS_API const sipsess_hdr *sipsess_msg_hdr_by_name(const sipsess_msg *msg,
                                                      const char *name, size_t nth);
/** The next value of the same header after `h` (message order), or NULL. */
SIPSESS_API const sipsess_hdr *sipsess_hdr_next(const sipsess_msg *msg,
                                               const sipsess_hdr *h);

/* ------------------------------------------------------------------ */
/* Header values. Each accessor takes any header; one that does not apply
 * to that header's type returns {NULL,0}, 0, -1 or NULL as documented.   */

SIPSESS_API sipsess_hdr_id sipsess_hdr_get_id(const sipsess_hdr *h);
/** Header name as written (maybe compact, any case). */
SIPSESS_API sipsess_str sipsess_hdr_name(const sipsess_hdr *h);
/** This value, trimmed of surrounding whitespace; folding kept as written. */
SIPSESS_API sipsess_str sipsess_hdr_value(const sipsess_hdr *h);
/** Nonzero when the typed parse of this value failed (lenient mode only). */
SIPSESS_API int sipsess_hdr_is_bad(const sipsess_hdr *h);
/**
 * Generic parameter lookup on headers that have parameters (Via, name-addr
 * headers, Content-Type/Accept, Content-Disposition, Event,
 * Subscription-State, Replaces, Session-Expires, Reason, Retry-After,
 * Refer-Sub, Accept-Contact, ...; auth headers use sipsess_auth_param).
 * Case-insensitive name. Returns 1 and sets *value ({NULL,0} for a flag
 * parameter; quoted values without their quotes) when found, else 0.
 */
SIPSESS_API int sipsess_hdr_param(const sipsess_hdr *h, const char *name,
                                  sipsess_str *value);
/** Number-valued headers (Max-Forwards, Content-Length, Expires,
 *  Min-Expires, RSeq, Min-SE, Session-Expires, Retry-After): the number, or
 *  -1 for other headers. */
SIPSESS_API int64_t sipsess_hdr_number(const sipsess_hdr *h);

/* Via */
/** "SIP/2.0" as written. */
SIPSESS_API sipsess_str sipsess_via_protocol(const sipsess_hdr *h);
/** Transport token ("UDP", "TCP", "TLS", "SCTP", "WS", any other). */
SIPSESS_API sipsess_str sipsess_via_transport(const sipsess_hdr *h);
/** sent-by host (IPv6 without brackets). */
SIPSESS_API sipsess_str sipsess_via_host(const sipsess_hdr *h);
SIPSESS_API sipsess_host_type sipsess_via_host_type(const sipsess_hdr *h);
/** sent-by port, 0 when absent. */
SIPSESS_API unsigned sipsess_via_port(const sipsess_hdr *h);
SIPSESS_API sipsess_str sipsess_via_branch(const sipsess_hdr *h);
/** received= (an IPv6 value keeps or lacks its brackets as written). */
SIPSESS_API sipsess_str sipsess_via_received(const sipsess_hdr *h);
/** -1: no rport; 0: rport without value; else the port. */
SIPSESS_API int sipsess_via_rport(const sipsess_hdr *h);
SIPSESS_API sipsess_str sipsess_via_maddr(const sipsess_hdr *h);
/** ttl, -1 when absent. */
SIPSESS_API int sipsess_via_ttl(const sipsess_hdr *h);

/* name-addr headers: From, To, Contact, Route, Record-Route, Reply-To,
 * Refer-To, Referred-By, Path, Service-Route, P-Asserted-Identity */
/** Display name without its quotes (quoted-pairs kept as written). */
SIPSESS_API sipsess_str sipsess_nameaddr_display(const sipsess_hdr *h);
/** The URI; NULL for `Contact: *` and non-name-addr headers. */
SIPSESS_API const sipsess_uri *sipsess_nameaddr_uri(const sipsess_hdr *h);
SIPSESS_API sipsess_str sipsess_nameaddr_tag(const sipsess_hdr *h);
/** Contact: 1 for the `*` form. */
SIPSESS_API int sipsess_contact_is_star(const sipsess_hdr *h);
/** Contact expires parameter, -1 when absent. */
SIPSESS_API int64_t sipsess_contact_expires(const sipsess_hdr *h);
/** Contact q parameter in thousandths (q=0.5 → 500), -1 when absent. */
SIPSESS_API int sipsess_contact_q(const sipsess_hdr *h);

/* CSeq */
SIPSESS_API uint32_t sipsess_cseq_number(const sipsess_hdr *h);
SIPSESS_API sipsess_method sipsess_cseq_method(const sipsess_hdr *h);
SIPSESS_API sipsess_str sipsess_cseq_method_name(const sipsess_hdr *h);

/* RAck (RFC 3262) */
SIPSESS_API uint32_t sipsess_rack_rseq(const sipsess_hdr *h);
SIPSESS_API uint32_t sipsess_rack_cseq(const sipsess_hdr *h);
SIPSESS_API sipsess_method sipsess_rack_method(const sipsess_hdr *h);

/* Content-Type, Accept (media ranges) */
SIPSESS_API sipsess_str sipsess_mtype_type(const sipsess_hdr *h);
SIPSESS_API sipsess_str sipsess_mtype_subtype(const sipsess_hdr *h);

/**
 * The first token of a value: Content-Disposition disposition type,
 * Event package, Subscription-State substate, Reason protocol, Refer-Sub
 * value, Allow/Require/Supported/... option or method, Replaces call-id,
 * Recv-Info/Info-Package name, Accept-Encoding/Language, Privacy, Priority,
 * auth scheme. {NULL,0} for other headers.
 */
SIPSESS_API sipsess_str sipsess_hdr_token(const sipsess_hdr *h);

/* Authorization, Proxy-Authorization, WWW-Authenticate,
 * Proxy-Authenticate, Authentication-Info */
/** Auth scheme ("Digest", ...); {NULL,0} for Authentication-Info. */
SIPSESS_API sipsess_str sipsess_auth_scheme(const sipsess_hdr *h);
/** An auth-param by name (realm, nonce, uri, response, qop, ...): 1 and
 *  *value (without quotes, quoted-pairs as written) when found, else 0. */
SIPSESS_API int sipsess_auth_param(const sipsess_hdr *h, const char *name,
                                   sipsess_str *value);

/* Retry-After comment, Timestamp value and delay, Reason text param are
 * read with sipsess_hdr_param / sipsess_hdr_value; the views below cover
 * the few parts that are not parameters. */
/** Retry-After: the comment text without parentheses, or {NULL,0}. */
SIPSESS_API sipsess_str sipsess_retry_after_comment(const sipsess_hdr *h);
/** Timestamp: the time value (first part) and the delay (second, maybe
 *  {NULL,0}). */
SIPSESS_API sipsess_str sipsess_timestamp_value(const sipsess_hdr *h);
SIPSESS_API sipsess_str sipsess_timestamp_delay(const sipsess_hdr *h);

/* ------------------------------------------------------------------ */
/* Names                                                               */

/** Canonical method name ("INVITE"); "" for SIPSESS_METHOD_OTHER. Static. */
SIPSESS_API const char *sipsess_method_str(sipsess_method m);
/** Method id from a name (case-sensitive as RFC 3261 says). */
SIPSESS_API sipsess_method sipsess_method_from(const char *name, size_t len);
/** Canonical long header name ("Call-ID"); "" for SIPSESS_HDR_OTHER. */
SIPSESS_API const char *sipsess_hdr_id_str(sipsess_hdr_id id);
/** Header id from a long or compact name (case-insensitive). */
SIPSESS_API sipsess_hdr_id sipsess_hdr_id_from(const char *name, size_t len);
/** The RFC reason phrase for a status code ("Not Found"); "Unknown" when
 *  the code has none. Static. */
SIPSESS_API const char *sipsess_reason_phrase(unsigned status);

/* ------------------------------------------------------------------ */
/* Stream framing (TCP)                                                */

typedef struct sipsess_framer sipsess_framer;

/** A framer for one byte stream. `opts` may be NULL; it is copied. The
 *  framer never holds more than twice opts->max_msg_size buffered bytes:
 *  a reader that feeds at most one message size at a time and drains with
 *  sipsess_framer_next after each feed never reaches that bound.
 *  Errors: SIPSESS_EINVAL, SIPSESS_ENOMEM. */
SIPSESS_API int sipsess_framer_new(const sipsess_parse_opts *opts,
                                   sipsess_framer **out);
/** NULL is a no-op. */
SIPSESS_API void sipsess_framer_free(sipsess_framer *f);
/**
 * Append received bytes (copied). Errors: SIPSESS_EINVAL,
 * SIPSESS_ENOMEM, SIPSESS_ETOOBIG (buffer would exceed twice the message limit:
 * the stream is lost), SIPSESS_EFRAMING (the framer already failed).
 */
SIPSESS_API int sipsess_framer_feed(sipsess_framer *f, const void *data, size_t len);
/**
 * Take the next complete message. Keep-alive CRLFs between messages are
 * skipped (counted for sipsess_framer_take_pings). Returns 0 with `*out`
 * set, SIPSESS_EAGAIN when more bytes are needed, or a parse error. A
 * parse error of a well-framed message consumes that message and the
 * stream stays usable; a framing error (no or invalid Content-Length,
 * header section over the limit) leaves the framer failed
 * (sipsess_framer_failed) and the connection should be closed.
 * `err_off` (may be NULL) gets the offset inside the failed message.
 */
SIPSESS_API int sipsess_framer_next(sipsess_framer *f, sipsess_msg **out,
                                    size_t *err_off);
/** Nonzero once the stream can no longer be framed. */
SIPSESS_API int sipsess_framer_failed(const sipsess_framer *f);
/** Bytes buffered and not yet returned as messages. */
SIPSESS_API size_t sipsess_framer_buffered(const sipsess_framer *f);
/** Number of CRLFCRLF keep-alive pings (RFC 5626 §3.5.1) seen since the
 *  last call; a server answers each with one CRLF. */
SIPSESS_API unsigned sipsess_framer_take_pings(sipsess_framer *f);

/* ------------------------------------------------------------------ */
/* Printing and building                                               */

/**
 * Print a parsed message in normal form: start line (with "SIP/2.0", or the
 * version as written when a lenient parse accepted another one), every
 * header value on its own line with its canonical long name (unknown names
 * as written),
 * folding replaced by one space, Content-Length recomputed from the body,
 * then the body. Parsing the output yields the same method/status,
 * Request-URI, headers and body. `*out_len` gets the full length even on
 * SIPSESS_ENOSPC, so a caller can size its buffer with cap 0.
 * Errors: SIPSESS_EINVAL, SIPSESS_ENOSPC.
 */
SIPSESS_API int sipsess_msg_print(const sipsess_msg *msg, char *buf, size_t cap,
                                  size_t *out_len);

typedef struct sipsess_msgbuilder sipsess_msgbuilder;

/** A reusable builder with a growing buffer. Errors: EINVAL, ENOMEM. */
SIPSESS_API int sipsess_msgbuilder_new(sipsess_msgbuilder **out);
SIPSESS_API void sipsess_msgbuilder_free(sipsess_msgbuilder *b);
/** Start a request: `method` must be a token, `ruri` a valid URI.
 *  Errors: EINVAL, EURI, ENOMEM. */
SIPSESS_API int sipsess_msgbuilder_request(sipsess_msgbuilder *b, const char *method,
                                           const char *ruri);
/** Start a response; `reason` NULL uses sipsess_reason_phrase.
 *  Errors: EINVAL, ESTATUS, ENOMEM. */
SIPSESS_API int sipsess_msgbuilder_response(sipsess_msgbuilder *b, unsigned status,
                                            const char *reason);
/**
 * Start a response to `req` per RFC 3261 §8.2.6: copies every Via (in
 * order), From, To, Call-ID, CSeq and Timestamp; adds `;tag=to_tag` to To
 * when `to_tag` is not NULL and To has no tag yet (a 100 never gets one).
 * Errors: EINVAL (req is not a request), ESTATUS, ENOMEM.
 */
SIPSESS_API int sipsess_msgbuilder_response_to(sipsess_msgbuilder *b,
                                               const sipsess_msg *req, unsigned status,
                                               const char *reason, const char *to_tag);
/** Add a header line. The name must be a token; the value must not contain
 *  CR, LF or NUL (no header injection). Content-Length is always computed
 *  by finish: adding one is an error. Errors: EINVAL, ESTATE (no start
 *  line yet), ENOMEM. */
SIPSESS_API int sipsess_msgbuilder_header(sipsess_msgbuilder *b, const char *name,
                                          const char *value);
/** Same with lengths, for views (values may come from another message). */
SIPSESS_API int sipsess_msgbuilder_header_str(sipsess_msgbuilder *b, sipsess_str name,
                                              sipsess_str value);
/**
 * Add header lines given as one text: "Name: value" lines separated by CRLF
 * (or bare LF), the form extra headers take across the API. Empty lines are
 * skipped and whitespace around names and values is dropped; each line is
 * then checked as sipsess_msgbuilder_header_str checks it. NULL or "" adds
 * nothing. Errors: EINVAL (a line without ':' or a bad name/value; the lines
 * before it stay added), ESTATE, ENOMEM.
 */
SIPSESS_API int sipsess_msgbuilder_header_lines(sipsess_msgbuilder *b, const char *lines);
/** Set the body (copied) and, when not NULL, its Content-Type. Replaces an
 *  earlier body. Errors: EINVAL, ESTATE, ENOMEM. */
SIPSESS_API int sipsess_msgbuilder_body(sipsess_msgbuilder *b, const void *body,
                                        size_t len, const char *content_type);
/**
 * Finish: append Content-Length and the body. `*out` points into the
 * builder and is valid until the next call on it. Errors: EINVAL, ESTATE,
 * ENOMEM.
 */
SIPSESS_API int sipsess_msgbuilder_finish(sipsess_msgbuilder *b, sipsess_str *out);

#ifdef __cplusplus
}
#endif
#endif
