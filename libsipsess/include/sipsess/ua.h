/*
 * libsipsess — the user agent: configuration, listeners, the event loop
 * (own or someone else's), logging and message trace.
 *
 * Threading: a UA and everything reached through it belong to the thread
 * that drives its loop. Callbacks run only inside sipsess_ua_run / _step /
 * _process / _advance on that thread. The only functions another thread
 * may call are sipsess_ua_wake and sipsess_ua_post.
 */
#ifndef SIPSESS_UA_H
#define SIPSESS_UA_H

#include "common.h"
#include "msg.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct sipsess_ua sipsess_ua;
typedef struct sipsess_ua_config sipsess_ua_config;

typedef enum sipsess_log_level {
    SIPSESS_LOG_NONE = 0,
    SIPSESS_LOG_ERROR = 1,
    SIPSESS_LOG_WARN = 2,
    SIPSESS_LOG_INFO = 3,
    SIPSESS_LOG_DEBUG = 4,
} sipsess_log_level;

/** Log sink: `msg` is one NUL-terminated line without newline, valid only
 *  during the call. */
typedef void (*sipsess_log_fn)(sipsess_log_level level, const char *msg, void *userdata);

/** Trace sink: every message sent (`outgoing` 1) or received, with the
 *  transport ("UDP"/"TCP"/"MEM") and the addresses as text
 *  ("127.0.0.1:5060", "[::1]:5060"). All strings valid only during the
 *  call; `data` is not NUL-terminated. */
typedef void (*sipsess_trace_fn)(int outgoing, const char *transport, const char *local,
                                 const char *remote, const char *data, size_t len,
                                 void *userdata);

/** Limits the UA enforces (sipsess_ua_config_set_limit). A request over
 *  one of the parser's limits (message size, header values, and the field
 *  length, URI length and Via count of sipsess_parse_opts) is answered
 *  513 Message Too Large, or 414 Request-URI Too Long for a Request-URI
 *  over the URI limit, when its start line and the fields a response
 *  copies (Via, From, To, Call-ID, CSeq) arrived whole: a datagram over
 *  the size is read up to the limit, a stream up to where it broke (the
 *  connection is then closed when the framing is lost). Otherwise, and
 *  for responses and ACKs, it is dropped. */
typedef enum sipsess_limit {
    SIPSESS_LIMIT_MSG_SIZE = 1,       /**< bytes per message (65536); beyond: 513 */
    SIPSESS_LIMIT_HEADERS,            /**< header values per message (256); beyond: 513 */
    SIPSESS_LIMIT_TRANSACTIONS,       /**< open transactions (100000; each call holds two for 32 s after it ends); beyond: 503 */
    SIPSESS_LIMIT_TCP_CONNECTIONS,    /**< open TCP connections (1024) */
    SIPSESS_LIMIT_TCP_BUFFER,         /**< bytes buffered per connection (2 x msg size) */
    SIPSESS_LIMIT_TCP_IDLE_MS,        /**< idle TCP connection timeout (300000) */
    SIPSESS_LIMIT_UDP_SWITCH,         /**< §18.1.1: requests above this go over TCP (1300; 0 = off) */
    SIPSESS_LIMIT_SESSIONS,           /**< sessions not yet Terminated (10000); beyond: an
                                           incoming INVITE gets 503 + Retry-After and
                                           sipsess_ua_invite returns ELIMIT */
    SIPSESS_LIMIT_PENDING,            /**< per session, each direction (32): unanswered
                                           incoming requests (503 + Retry-After beyond)
                                           and outgoing requests in flight (ELIMIT) */
} sipsess_limit;

/** Reliable provisional responses (RFC 3262). */
typedef enum sipsess_100rel {
    SIPSESS_100REL_OFF = 0,   /**< never: no Supported: 100rel; Require: 100rel gets 420 */
    SIPSESS_100REL_SUPPORTED, /**< default: offered in INVITEs, used when asked */
    SIPSESS_100REL_REQUIRED,  /**< INVITEs carry Require: 100rel; an INVITE that does not
                                   support it gets 421 Extension Required */
} sipsess_100rel;

/** A configuration with defaults. Errors: EINVAL, ENOMEM. */
SIPSESS_API int sipsess_ua_config_new(sipsess_ua_config **out);
SIPSESS_API void sipsess_ua_config_free(sipsess_ua_config *cfg);
/** User-Agent/Server header text (copied; default "libsipsess/VERSION"). */
SIPSESS_API int sipsess_ua_config_set_user_agent(sipsess_ua_config *cfg, const char *ua);
/** RFC 3261 timer bases in ms (defaults 500, 4000, 5000). EINVAL when
 *  t1 == 0 or t2 < t1. */
SIPSESS_API int sipsess_ua_config_set_timers(sipsess_ua_config *cfg, unsigned t1_ms,
                                             unsigned t2_ms, unsigned t4_ms);
/** Set a limit; EINVAL for an unknown limit or a value out of range. */
SIPSESS_API int sipsess_ua_config_set_limit(sipsess_ua_config *cfg, sipsess_limit which,
                                            unsigned value);
/**
 * Who this UA is: the From of the INVITEs it sends, "sip:alice@127.0.0.1"
 * or with a display name, "Alice <sip:alice@127.0.0.1>" (copied; its user
 * part also names our Contact). Default: sip:sipsess@ the address of the
 * listener used. Errors: EINVAL (NULL, too long, CR/LF), EURI.
 */
SIPSESS_API int sipsess_ua_config_set_identity(sipsess_ua_config *cfg, const char *identity);
/** ACK every 2xx to an INVITE automatically (default 1). With 0 the
 *  application sends it with sipsess_session_ack; a 2xx that carries an
 *  offer always waits for sipsess_session_ack with the answer. */
SIPSESS_API int sipsess_ua_config_set_auto_ack(sipsess_ua_config *cfg, int on);
/** PRACK every reliable provisional response automatically (default 1);
 *  one that carries an offer always waits for sipsess_session_prack with
 *  the answer. */
SIPSESS_API int sipsess_ua_config_set_auto_prack(sipsess_ua_config *cfg, int on);
/**
 * Forking (RFC 3261 §13.2.2.4): what becomes of a 2xx from another fork
 * (another To tag) that arrives after the first 2xx confirmed the call.
 * 0 (default): the other early dialogs end with SIPSESS_TERM_FORK_LOSER
 * when the first 2xx arrives, and a later 2xx of another dialog is ACKed
 * and answered with BYE at once. 1: for 64*T1 after the first 2xx (the
 * time §13.2.2.4 keeps the INVITE open for more 2xx) the other early
 * dialogs stay Early, and every 2xx of another dialog is ACKed (as any
 * 2xx: at once with auto-ACK unless it carries an offer) and becomes a
 * Confirmed session of its own, handed to the application as the `s` of
 * the INVITE's response delegate on_accept, with the INVITE's offer and
 * no session delegate (install one there; end it with sipsess_session_bye
 * when one call is enough). Early dialogs without a 2xx at the end of
 * the 64*T1 end with SIPSESS_TERM_FORK_LOSER; a 2xx of another dialog
 * after that is ACKed and answered with BYE. Errors: EINVAL.
 */
SIPSESS_API int sipsess_ua_config_set_accept_forks(sipsess_ua_config *cfg, int on);
/** RFC 3262 mode (default SIPSESS_100REL_SUPPORTED). EINVAL otherwise. */
SIPSESS_API int sipsess_ua_config_set_100rel(sipsess_ua_config *cfg, sipsess_100rel mode);
/** Use a virtual clock: time starts at 0 and moves only with
 *  sipsess_ua_advance, so timers are tested without sleeping. */
SIPSESS_API int sipsess_ua_config_set_virtual_clock(sipsess_ua_config *cfg, int on);
SIPSESS_API int sipsess_ua_config_set_log(sipsess_ua_config *cfg, sipsess_log_level level,
                                          sipsess_log_fn fn, void *userdata);
SIPSESS_API int sipsess_ua_config_set_trace(sipsess_ua_config *cfg, sipsess_trace_fn fn,
                                            void *userdata);

/** Create a UA (the config is copied and may be freed). Errors: EINVAL,
 *  ENOMEM. */
SIPSESS_API int sipsess_ua_new(const sipsess_ua_config *cfg, sipsess_ua **out);
/** End every session (SIPSESS_TERM_UA_SHUTDOWN), telling each peer on a
 *  best-effort basis before the transport closes — BYE for a confirmed
 *  call, CANCEL for one still ringing, 480 to an INVITE not answered yet
 *  (no answer is waited for) — then close every listener and connection
 *  and free the UA. NULL is a no-op. Must not be called from inside one of
 *  the UA's callbacks. */
SIPSESS_API void sipsess_ua_free(sipsess_ua *ua);

/**
 * Listen on "udp:127.0.0.1:5060", "tcp:[::1]:0", "udp:0.0.0.0:5060"...
 * (port 0 picks a free port). Returns the listener index (>= 0) or an
 * error: EINVAL (bad spec), EBUSY (address in use), ENOMEM.
 */
SIPSESS_API int sipsess_ua_listen(sipsess_ua *ua, const char *spec);
SIPSESS_API int sipsess_ua_listener_count(const sipsess_ua *ua);
/** The listener as "udp:127.0.0.1:34567" (actual port). *out_len gets the
 *  length. Errors: EINVAL, ENOTFOUND, ENOSPC. */
SIPSESS_API int sipsess_ua_listener_spec(const sipsess_ua *ua, int idx, char *buf, size_t cap,
                                         size_t *out_len);
/** The port a listener is bound to, or 0. */
SIPSESS_API unsigned sipsess_ua_listener_port(const sipsess_ua *ua, int idx);

/* ---- in-memory network (tests) ---- */

/** A process-local network: UAs configured with the same memnet exchange
 *  datagrams through "mem:N" listeners (N a port number, 0 = pick one)
 *  without sockets, deterministically, which together with the virtual
 *  clock lets call logic be unit-tested. Free it after every UA using it. */
typedef struct sipsess_memnet sipsess_memnet;
SIPSESS_API int sipsess_memnet_new(sipsess_memnet **out);
SIPSESS_API void sipsess_memnet_free(sipsess_memnet *net);
/** Return nonzero to drop the datagram (loss injection). `from`/`to` are
 *  "mem:N" texts; all views are valid during the call only. */
typedef int (*sipsess_memnet_filter_fn)(const char *from, const char *to, const char *data,
                                        size_t len, void *userdata);
SIPSESS_API int sipsess_memnet_set_filter(sipsess_memnet *net, sipsess_memnet_filter_fn fn,
                                          void *userdata);
/** Attach the UA to a memnet (needed before listening on "mem:..."). */
SIPSESS_API int sipsess_ua_config_set_memnet(sipsess_ua_config *cfg, sipsess_memnet *net);

/* ---- driving the loop ---- */
/** Run until sipsess_ua_stop. Returns 0 or an error. */
SIPSESS_API int sipsess_ua_run(sipsess_ua *ua);
/** Wait at most timeout_ms (-1 forever) and handle what is ready. Returns
 *  the number of events handled or an error. */
SIPSESS_API int sipsess_ua_step(sipsess_ua *ua, int timeout_ms);
/** Make sipsess_ua_run return after the current step. */
SIPSESS_API void sipsess_ua_stop(sipsess_ua *ua);
/** For an outside loop: watch this fd for readability, call
 *  sipsess_ua_process when it is readable or when the timeout from
 *  sipsess_ua_next_timeout_ms (-1: none) has passed. */
SIPSESS_API int sipsess_ua_fd(const sipsess_ua *ua);
SIPSESS_API int sipsess_ua_next_timeout_ms(const sipsess_ua *ua);
SIPSESS_API int sipsess_ua_process(sipsess_ua *ua);
/** Thread-safe: make a blocked step/run return. */
SIPSESS_API int sipsess_ua_wake(sipsess_ua *ua);
/** Thread-safe: run fn(arg) on the loop thread during the next step. */
SIPSESS_API int sipsess_ua_post(sipsess_ua *ua, void (*fn)(void *arg), void *arg);
/** Loop clock in ms (monotonic, or the virtual clock). */
SIPSESS_API uint64_t sipsess_ua_now_ms(const sipsess_ua *ua);
/** Virtual clock only: move time forward, firing timers in order and
 *  handling ready I/O. ESTATE on a real clock. */
SIPSESS_API int sipsess_ua_advance(sipsess_ua *ua, uint64_t ms);

/* ---- application timers ---- */
typedef struct sipsess_timer sipsess_timer;
/**
 * Call fn(arg) once, `ms` from now on the UA's clock (the virtual clock
 * too), from inside a loop call like every other callback; timers due
 * together fire in the order they were started. `destroy` (may be NULL) is
 * called with `arg` exactly once: after fn ran, on cancel, or when the UA
 * is freed with the timer pending (fn is then not called). `*out` (may be
 * NULL) receives a handle for sipsess_ua_timer_cancel, valid until fn
 * starts or the timer is cancelled. Errors: EINVAL, ENOMEM (destroy is not
 * called on error).
 */
SIPSESS_API int sipsess_ua_timer_start(sipsess_ua *ua, uint64_t ms, void (*fn)(void *arg),
                                       void *arg, void (*destroy)(void *arg),
                                       sipsess_timer **out);
/** Cancel a pending timer (its destroy runs now). NULL is a no-op. */
SIPSESS_API void sipsess_ua_timer_cancel(sipsess_timer *t);

/* ---- out-of-dialog requests (client side) ---- */

/** The response callback of sipsess_ua_request: called for each
 *  provisional and the final response (`final` 1), or once with
 *  msg NULL and err SIPSESS_ETIMEDOUT / SIPSESS_ETRANSPORT. `msg` is valid
 *  during the call only (sipsess_msg_ref to keep it). */
typedef void (*sipsess_response_fn)(const sipsess_msg *msg, int final, int err, void *userdata);

/**
 * Send an out-of-dialog request (OPTIONS, MESSAGE, ...; not INVITE/ACK/
 * CANCEL, which belong to sessions) to `uri` (IP literal or localhost;
 * ;transport=tcp selects TCP). `extra_headers` is NULL or "Name: value"
 * lines separated by CRLF; `body` may be NULL. Errors: EINVAL, EURI,
 * ENOTFOUND (no listener for that transport/family), ENOMEM.
 */
SIPSESS_API int sipsess_ua_request(sipsess_ua *ua, const char *method, const char *uri,
                                   const char *extra_headers, const void *body, size_t body_len,
                                   const char *content_type, sipsess_response_fn cb,
                                   void *userdata);

#ifdef __cplusplus
}
#endif
#endif
