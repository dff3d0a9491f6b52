/*
 * Private transport layer (RFC 3261 §18, RFC 3581, RFC 5626 §3.5.1):
 * UDP and TCP listeners over IPv4/IPv6, outgoing TCP connection reuse,
 * stream framing, Via sent-by/received/rport, response routing, and an
 * in-memory transport ("mem") for deterministic tests. Never installed.
 *
 * The layer above (transactions) sees only sipsess__tp_* and the two
 * callbacks it registers: one per received message, one per asynchronous
 * send failure.
 */
#ifndef SIPSESS__TRANSPORT_H
#define SIPSESS__TRANSPORT_H

#include <netinet/in.h>
#include <stdbool.h>
#include <sys/socket.h>

#include "sipsess/msg.h"
#include "sipsess/ua.h"
#include "runtime/log.h"
#include "runtime/loop.h"

typedef struct sipsess__tp sipsess__tp;
typedef struct sipsess__conn sipsess__conn;
typedef struct sipsess_memnet sipsess__memnet; /* public: sipsess/ua.h */

typedef enum sipsess__proto {
    SIPSESS__UDP = 1,
    SIPSESS__TCP = 2,
    SIPSESS__MEM = 3, /* datagram semantics, unreliable unless told otherwise */
} sipsess__proto;

/** A transport address: protocol + socket address. For "mem" the address
 *  is AF_UNIX-free: sin_family AF_INET on 127.0.0.1 with the endpoint's
 *  port number, so one representation serves all. */
typedef struct sipsess__addr {
    uint8_t proto; /* sipsess__proto */
    socklen_t len;
    struct sockaddr_storage sa;
} sipsess__addr;

/** Where to send a message and how we identify ourselves (Via sent-by). */
typedef struct sipsess__dest {
    sipsess__addr remote;
    int listener;        /* index of the local listener used (its sent-by) */
    sipsess__conn *conn; /* TCP: a specific connection to use (referenced), or NULL */
} sipsess__dest;

/** A received message, handed up once; the receiver takes the msg
 *  reference and must sipsess__conn_unref(conn) when it drops rx. */
typedef struct sipsess__rx {
    sipsess_msg *msg;
    sipsess__addr src;
    int listener;        /* listener it arrived on */
    sipsess__conn *conn; /* TCP: the connection (referenced) or NULL */
    bool reliable;
} sipsess__rx;

typedef struct sipsess__tp_config {
    sipsess_parse_opts parse;   /* limits for received messages */
    uint32_t udp_mtu_switch;    /* §18.1.1: requests larger go over TCP; 0 = never */
    uint32_t max_connections;   /* TCP, inbound + outbound (default 1024) */
    uint32_t max_conn_buffer;   /* bytes buffered per connection (default 2 * max msg) */
    uint32_t tcp_idle_ms;       /* idle connection close (default 32 s * ... 300000) */
    sipsess__memnet *memnet;    /* for "mem:" listeners */
} sipsess__tp_config;

void sipsess__tp_config_init(sipsess__tp_config *c);

/** Every received message, parsed in lenient mode: one that cannot be
 *  parsed at all is logged and dropped here; one with a recoverable error
 *  (sipsess_msg_error() != 0) goes up so the layer above can answer 400,
 *  505, ... Keep-alive pings are answered here. */
typedef void (*sipsess__tp_rx_fn)(void *arg, sipsess__rx *rx);
/** An asynchronous send failure (connect refused, reset, ICMP error when
 *  reported) for the send that returned `send_id`. */
typedef void (*sipsess__tp_err_fn)(void *arg, uint64_t send_id, int err);
/** Trace hook: every message sent (`out` true) or received. */
typedef void (*sipsess__tp_trace_fn)(void *arg, bool out, const sipsess__addr *local,
                                     const sipsess__addr *remote, const char *data,
                                     size_t len);

int sipsess__tp_new(sipsess__loop *l, const sipsess__tp_config *cfg, sipsess__tp_rx_fn rx,
                    sipsess__tp_err_fn err, void *arg, sipsess__tp **out);
void sipsess__tp_free(sipsess__tp *tp);
void sipsess__tp_set_trace(sipsess__tp *tp, sipsess__tp_trace_fn fn, void *arg);
/** Log sink (borrowed; must outlive tp). NULL = silent. */
void sipsess__tp_set_log(sipsess__tp *tp, const sipsess__log *log);

/**
 * Open a listener from a spec "udp:127.0.0.1:5060", "tcp:[::1]:0",
 * "mem:7" (port 0 = pick a free one). Returns the listener index (>= 0) or
 * an error (SIPSESS_EINVAL for a bad spec, SIPSESS_EBUSY address in use).
 */
int sipsess__tp_listen(sipsess__tp *tp, const char *spec);
int sipsess__tp_listener_count(const sipsess__tp *tp);
/** Local address of a listener (port filled in after binding). */
const sipsess__addr *sipsess__tp_listener_addr(const sipsess__tp *tp, int idx);
/** "udp:127.0.0.1:5060" style text of a listener. */
int sipsess__tp_listener_spec(const sipsess__tp *tp, int idx, char *buf, size_t cap);

/** Parse "udp:HOST:PORT" / IP literal host + port + proto into an address
 *  (numeric hosts and "localhost" only: no DNS). */
int sipsess__addr_parse(const char *spec, sipsess__addr *out);
/** Text of an address: "udp:[::1]:5060". */
int sipsess__addr_print(const sipsess__addr *a, char *buf, size_t cap);
bool sipsess__addr_equal(const sipsess__addr *a, const sipsess__addr *b);

/**
 * Choose where a request goes (RFC 3261 §8.1.2, §18.1.1): `target` is the
 * next hop URI (first Route, else the Request-URI); its host must be an IP
 * literal or "localhost"; port defaults to 5060 (5061 sips); the transport
 * comes from ;transport=, else UDP; `msg_len` > udp_mtu_switch moves UDP to
 * TCP. Fills `d` with the remote address and a listener of the same
 * protocol and address family. Errors: SIPSESS_EINVAL (unsupported host),
 * SIPSESS_ENOTFOUND (no listener for that protocol/family).
 */
int sipsess__tp_route_request(sipsess__tp *tp, const sipsess_uri *target, size_t msg_len,
                              sipsess__dest *d);

/**
 * Choose where a response goes (§18.2.2, RFC 3581): over the request's
 * connection when reliable and still open; else to `received` (or the
 * source address) with rport's port when the top Via has rport, else the
 * sent-by port (default 5060). `rx` is the request as received.
 */
int sipsess__tp_route_response(sipsess__tp *tp, const sipsess__rx *rx, sipsess__dest *d);

/** The Via sent-by of listener `idx` ("127.0.0.1:5060", "[::1]:5070") and
 *  its transport token ("UDP", "TCP"). Views valid as long as tp. */
sipsess_str sipsess__tp_sentby(const sipsess__tp *tp, int idx);
const char *sipsess__tp_proto_token(sipsess__proto p);

/**
 * Send `len` bytes to `d`. UDP/mem: one datagram, now. TCP: over d->conn,
 * or a reused connection to d->remote, or a new non-blocking connect
 * (bytes queued until connected, within max_conn_buffer). Returns a send
 * id (> 0) or an error for a synchronous failure; an asynchronous failure
 * is reported later through err_fn with that id.
 */
int64_t sipsess__tp_send(sipsess__tp *tp, const sipsess__dest *d, const char *data, size_t len);

/**
 * Fill in `received` and `rport` of the top Via of a request as RFC 3261
 * §18.2.1 / RFC 3581 require, by returning the values the layer above
 * writes when it builds the response: `received` (NUL-terminated IP text)
 * is set when the sent-by host differs from the source address or rport
 * is present; `*rport` to the source port when the Via has rport, else 0.
 */
void sipsess__tp_via_received(const sipsess__rx *rx, char *received, size_t cap, unsigned *rport);

void sipsess__conn_ref(sipsess__conn *c);
void sipsess__conn_unref(sipsess__conn *c);
bool sipsess__conn_open(const sipsess__conn *c);

/* ---- in-memory network ----
 * The public sipsess_memnet_* functions (sipsess/ua.h) are implemented in
 * this layer. Datagrams are queued on the receiving loop (posted) and
 * delivered when that loop next processes, so two UAs on virtual clocks
 * exchange messages deterministically. */

#endif
