/*
 * Shapes shared by the files of the transport layer (tp.c, addr.c, udp.c,
 * tcp.c, mem.c). Nothing outside src/transport/ includes this header: the
 * layer above sees only transport.h.
 */
#ifndef SIPSESS__TP_INT_H
#define SIPSESS__TP_INT_H

#include <arpa/inet.h>

#include "transport.h"

/* Listeners live in a fixed array inside the tp so the pointers handed to
 * the loop as callback arguments never move. */
#define SIPSESS__TP_MAX_LISTENERS 16
/* Datagrams read per recvmmsg call at most; each needs its own
 * max_msg_size+1 buffer, so large limits get fewer (SIPSESS__RBUF_BUDGET
 * bytes in all, at least one slot). */
#define SIPSESS__UDP_BATCH 8
#define SIPSESS__RBUF_BUDGET (1u << 20)
/* "[ffff:...:ffff]:65535" plus NUL. */
#define SIPSESS__HOSTPORT_MAX (INET6_ADDRSTRLEN + 8)
/* "udp:" + host:port. */
#define SIPSESS__ADDR_TEXT_MAX (SIPSESS__HOSTPORT_MAX + 4)

struct sipsess__mem_ep;

typedef struct sipsess__listener {
    sipsess__tp *tp;
    sipsess__addr addr;          /* bound address, actual port */
    int fd;                      /* -1 for mem */
    int idx;
    sipsess__timer pause;        /* TCP: accept paused after EMFILE */
    struct sipsess__mem_ep *mem; /* mem: registration on the memnet */
    char sentby[SIPSESS__HOSTPORT_MAX];
    size_t sentby_len;
} sipsess__listener;

struct sipsess__tp {
    sipsess__loop *loop;
    sipsess__tp_config cfg;
    sipsess__tp_rx_fn rx_fn;
    sipsess__tp_err_fn err_fn;
    void *arg;
    sipsess__tp_trace_fn trace_fn;
    void *trace_arg;
    const sipsess__log *log;

    sipsess__listener lis[SIPSESS__TP_MAX_LISTENERS];
    int nlis;
    uint64_t next_id;

    /* Receive buffer shared by every socket of this tp: a UDP batch, or one
     * TCP read chunk. Reads never nest (one loop thread), and a message is
     * copied out by the parser before the next read. */
    char *rbuf;
    size_t rbuf_slot;            /* max_msg_size + 1 */
    unsigned rbuf_batch;         /* slots, 1..SIPSESS__UDP_BATCH */

    /* TCP: every connection not yet closed, and a table by remote address
     * of those that may carry new messages. */
    sipsess__conn *conns;
    uint32_t nconns;
    sipsess__conn **buckets;
    size_t nbuckets;             /* power of two */
};

/* ---- tp.c: shared helpers ---- */
int sipsess__tp_errno(int e);
int sipsess__tp_rbuf(sipsess__tp *tp);
uint64_t sipsess__tp_new_id(sipsess__tp *tp);
void sipsess__tp_trace(sipsess__tp *tp, bool out, const sipsess__addr *local,
                       const sipsess__addr *remote, const char *data, size_t len);
/** A datagram from UDP or mem: trace, parse, hand up or drop. */
void sipsess__tp_dgram_in(sipsess__tp *tp, int listener, const sipsess__addr *src,
                          const char *data, size_t len);
/** A request that failed to parse with limit error `why`: when the fields
 *  a response needs can be had from `data` (sipsess__msg_salvage), *out
 *  gets them as a message marked with the limit, and true is returned. */
bool sipsess__tp_salvage(sipsess__tp *tp, int why, const char *data, size_t len,
                        const sipsess__addr *src, sipsess_msg **out);
/** Hand a parsed message up; consumes `msg`, references `conn`. */
void sipsess__tp_hand_up(sipsess__tp *tp, sipsess_msg *msg, int listener,
                         const sipsess__addr *src, sipsess__conn *conn, bool reliable);

/* ---- addr.c ---- */
/** "127.0.0.1:5060" / "[::1]:5060". Returns the length or an error. */
int sipsess__addr_hostport(const sipsess__addr *a, char *buf, size_t cap);
/** The IP alone, IPv6 without brackets. Returns the length or an error. */
int sipsess__addr_ip(const sipsess__addr *a, char *buf, size_t cap);
unsigned sipsess__addr_port(const sipsess__addr *a);
void sipsess__addr_set_port(sipsess__addr *a, unsigned port);
int sipsess__addr_family(const sipsess__addr *a);
/** Numeric host (IPv6 without brackets, or "localhost" → 127.0.0.1) into
 *  `out`. SIPSESS_EINVAL when the host is not numeric. */
int sipsess__addr_from_host(sipsess__proto proto, sipsess_str host, unsigned port,
                            sipsess__addr *out);
/** Copy a kernel socket address (sockaddr_in/in6) in. */
void sipsess__addr_from_sa(sipsess__addr *a, sipsess__proto proto, const void *sa,
                           socklen_t len);
bool sipsess__addr_is_any(const sipsess__addr *a);
bool sipsess__addr_is_loopback(const sipsess__addr *a);
bool sipsess__addr_same_ip(const sipsess__addr *a, const sipsess__addr *b);
uint32_t sipsess__addr_hash(const sipsess__addr *a);

/* ---- udp.c ---- */
int sipsess__udp_listen(sipsess__tp *tp, sipsess__listener *ls);
int sipsess__udp_send(sipsess__tp *tp, sipsess__listener *ls, const sipsess__addr *to,
                      const char *data, size_t len);

/* ---- tcp.c ---- */
int sipsess__tcp_listen(sipsess__tp *tp, sipsess__listener *ls);
/** Returns 0 or a synchronous error; `id` is reported to err_fn on a
 *  later failure of these bytes. */
int sipsess__tcp_send(sipsess__tp *tp, const sipsess__dest *d, const char *data, size_t len,
                      uint64_t id);
void sipsess__tcp_close_listener(sipsess__tp *tp, sipsess__listener *ls);
void sipsess__tcp_close_all(sipsess__tp *tp);
const sipsess__addr *sipsess__conn_remote(const sipsess__conn *c);
int sipsess__conn_listener(const sipsess__conn *c);

/* ---- mem.c ---- */
int sipsess__mem_listen(sipsess__tp *tp, sipsess__listener *ls);
int sipsess__mem_send(sipsess__tp *tp, sipsess__listener *ls, const sipsess__addr *to,
                      const char *data, size_t len);
void sipsess__mem_close(sipsess__tp *tp, sipsess__listener *ls);

#endif
