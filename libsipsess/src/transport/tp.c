/*
 * The transport object (RFC 3261 §18): listeners, the choice of where a
 * request or response goes, Via received/rport, and the common path of a
 * received message up to the transaction layer. The per-protocol work is
 * in udp.c, tcp.c and mem.c.
 */
#include <errno.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <string.h>
#include <unistd.h>

#include "runtime/mem.h"
#include "syntax/syntax.h"
#include "tp_int.h"

void sipsess__tp_config_init(sipsess__tp_config *c)
{
    if (!c)
        return;
    memset(c, 0, sizeof *c);
    sipsess_parse_opts_init(&c->parse);
    c->parse.flags |= SIPSESS_PARSE_LENIENT;
    c->udp_mtu_switch = 1300;
    c->max_connections = 1024;
    c->max_conn_buffer = 2 * c->parse.max_msg_size;
    c->tcp_idle_ms = 300000;
}

int sipsess__tp_errno(int e)
{
    switch (e) {
    case EADDRINUSE:
    case EACCES:
    case EPERM:
        return SIPSESS_EBUSY;
    case EADDRNOTAVAIL:
    case EAFNOSUPPORT:
    case EINVAL:
        return SIPSESS_EINVAL;
    case ENOMEM:
    case ENOBUFS:
        return SIPSESS_ENOMEM;
    case EMFILE:
    case ENFILE:
        return SIPSESS_ELIMIT;
    default:
        return SIPSESS_ETRANSPORT;
    }
}

int sipsess__tp_new(sipsess__loop *l, const sipsess__tp_config *cfg, sipsess__tp_rx_fn rx,
                    sipsess__tp_err_fn err, void *arg, sipsess__tp **out)
{
    if (!l || !rx || !out)
        return SIPSESS_EINVAL;
    sipsess__tp_config c;
    if (cfg)
        c = *cfg;
    else
        sipsess__tp_config_init(&c);
    c.parse.struct_size = sizeof c.parse;
    /* A message with a recoverable error must reach the layer above so it
     * can answer 400; only the transport's own check drops the rest. */
    c.parse.flags |= SIPSESS_PARSE_LENIENT;
    if (c.parse.max_msg_size == 0 || c.parse.max_msg_size > (1u << 30))
        return SIPSESS_EINVAL;
    if (c.max_conn_buffer == 0)
        c.max_conn_buffer = 2 * c.parse.max_msg_size;

    sipsess__tp *tp = sipsess__calloc(1, sizeof *tp);
    if (!tp)
        return SIPSESS_ENOMEM;
    size_t nb = 16;
    while (nb < c.max_connections && nb < 65536)
        nb *= 2;
    tp->buckets = sipsess__calloc(nb, sizeof *tp->buckets);
    if (!tp->buckets) {
        sipsess__free(tp);
        return SIPSESS_ENOMEM;
    }
    tp->nbuckets = nb;
    tp->loop = l;
    tp->cfg = c;
    tp->rx_fn = rx;
    tp->err_fn = err;
    tp->arg = arg;
    tp->rbuf_slot = (size_t)c.parse.max_msg_size + 1;
    size_t batch = SIPSESS__RBUF_BUDGET / tp->rbuf_slot;
    if (batch < 1)
        batch = 1;
    if (batch > SIPSESS__UDP_BATCH)
        batch = SIPSESS__UDP_BATCH;
    tp->rbuf_batch = (unsigned)batch;
    for (int i = 0; i < SIPSESS__TP_MAX_LISTENERS; i++)
        tp->lis[i].fd = -1;
    *out = tp;
    return 0;
}

void sipsess__tp_free(sipsess__tp *tp)
{
    if (!tp)
        return;
    sipsess__tcp_close_all(tp);
    for (int i = 0; i < tp->nlis; i++) {
        sipsess__listener *ls = &tp->lis[i];
        switch (ls->addr.proto) {
        case SIPSESS__UDP:
            sipsess__loop_unwatch(tp->loop, ls->fd);
            close(ls->fd);
            break;
        case SIPSESS__TCP:
            sipsess__tcp_close_listener(tp, ls);
            break;
        case SIPSESS__MEM:
            sipsess__mem_close(tp, ls);
            break;
        }
    }
    sipsess__free(tp->buckets);
    sipsess__free(tp->rbuf);
    sipsess__free(tp);
}

void sipsess__tp_set_trace(sipsess__tp *tp, sipsess__tp_trace_fn fn, void *arg)
{
    if (!tp)
        return;
    tp->trace_fn = fn;
    tp->trace_arg = arg;
}

void sipsess__tp_set_log(sipsess__tp *tp, const sipsess__log *log)
{
    if (tp)
        tp->log = log;
}

int sipsess__tp_rbuf(sipsess__tp *tp)
{
    if (tp->rbuf)
        return 0;
    tp->rbuf = sipsess__malloc(tp->rbuf_slot * tp->rbuf_batch);
    return tp->rbuf ? 0 : SIPSESS_ENOMEM;
}

uint64_t sipsess__tp_new_id(sipsess__tp *tp)
{
    return ++tp->next_id;
}

/* ------------------------------------------------------------ listeners */

/* A wildcard address cannot be put in a Via: advertise the first
 * non-loopback address of the family that is up, else the loopback. */
static void wildcard_sentby(const sipsess__listener *ls, sipsess__addr *adv)
{
    int fam = ls->addr.sa.ss_family;
    sipsess_str lo = fam == AF_INET ? (sipsess_str){"127.0.0.1", 9} : (sipsess_str){"::1", 3};
    sipsess__addr_from_host((sipsess__proto)ls->addr.proto, lo, sipsess__addr_port(&ls->addr),
                            adv);
    struct ifaddrs *ifs = NULL;
    if (getifaddrs(&ifs) != 0)
        return;
    for (struct ifaddrs *i = ifs; i; i = i->ifa_next) {
        if (!i->ifa_addr || i->ifa_addr->sa_family != fam || !(i->ifa_flags & IFF_UP) ||
            (i->ifa_flags & IFF_LOOPBACK))
            continue;
        if (fam == AF_INET6 &&
            IN6_IS_ADDR_LINKLOCAL(&((const struct sockaddr_in6 *)(const void *)i->ifa_addr)
                                       ->sin6_addr))
            continue;
        sipsess__addr_from_sa(adv, (sipsess__proto)ls->addr.proto, i->ifa_addr,
                              fam == AF_INET ? sizeof(struct sockaddr_in)
                                             : sizeof(struct sockaddr_in6));
        sipsess__addr_set_port(adv, sipsess__addr_port(&ls->addr));
        break;
    }
    freeifaddrs(ifs);
}

int sipsess__tp_listen(sipsess__tp *tp, const char *spec)
{
    if (!tp || !spec)
        return SIPSESS_EINVAL;
    sipsess__addr a;
    int rc = sipsess__addr_parse(spec, &a);
    if (rc)
        return rc;
    if (tp->nlis >= SIPSESS__TP_MAX_LISTENERS)
        return SIPSESS_ELIMIT;
    sipsess__listener *ls = &tp->lis[tp->nlis];
    memset(ls, 0, sizeof *ls);
    ls->tp = tp;
    ls->addr = a;
    ls->fd = -1;
    ls->idx = tp->nlis;
    switch (a.proto) {
    case SIPSESS__UDP:
        rc = sipsess__udp_listen(tp, ls);
        break;
    case SIPSESS__TCP:
        rc = sipsess__tcp_listen(tp, ls);
        break;
    default:
        rc = sipsess__mem_listen(tp, ls);
        break;
    }
    if (rc) {
        ls->fd = -1;
        return rc;
    }
    sipsess__addr adv = ls->addr;
    if (sipsess__addr_is_any(&adv))
        wildcard_sentby(ls, &adv);
    rc = sipsess__addr_hostport(&adv, ls->sentby, sizeof ls->sentby);
    ls->sentby_len = rc > 0 ? (size_t)rc : 0;
    char txt[SIPSESS__ADDR_TEXT_MAX];
    sipsess__addr_print(&ls->addr, txt, sizeof txt);
    SIPSESS__LOG(tp->log, SIPSESS_LOG_INFO, "transport: listening on %s (sent-by %s)", txt,
                 ls->sentby);
    return tp->nlis++;
}

int sipsess__tp_listener_count(const sipsess__tp *tp)
{
    return tp ? tp->nlis : 0;
}

const sipsess__addr *sipsess__tp_listener_addr(const sipsess__tp *tp, int idx)
{
    if (!tp || idx < 0 || idx >= tp->nlis)
        return NULL;
    return &tp->lis[idx].addr;
}

int sipsess__tp_listener_spec(const sipsess__tp *tp, int idx, char *buf, size_t cap)
{
    if (!tp || !buf)
        return SIPSESS_EINVAL;
    if (idx < 0 || idx >= tp->nlis)
        return SIPSESS_ENOTFOUND;
    return sipsess__addr_print(&tp->lis[idx].addr, buf, cap);
}

sipsess_str sipsess__tp_sentby(const sipsess__tp *tp, int idx)
{
    if (!tp || idx < 0 || idx >= tp->nlis)
        return (sipsess_str){NULL, 0};
    return (sipsess_str){tp->lis[idx].sentby, tp->lis[idx].sentby_len};
}

/* ------------------------------------------------------------- tracing */

void sipsess__tp_trace(sipsess__tp *tp, bool out, const sipsess__addr *local,
                       const sipsess__addr *remote, const char *data, size_t len)
{
    if (tp->trace_fn)
        tp->trace_fn(tp->trace_arg, out, local, remote, data, len);
}

/* ------------------------------------------------------------ receiving */

void sipsess__tp_hand_up(sipsess__tp *tp, sipsess_msg *msg, int listener,
                         const sipsess__addr *src, sipsess__conn *conn, bool reliable)
{
    sipsess__rx rx;
    rx.msg = msg;
    rx.src = *src;
    rx.listener = listener;
    rx.conn = conn;
    rx.reliable = reliable;
    if (conn)
        sipsess__conn_ref(conn);
    tp->rx_fn(tp->arg, &rx);
}

static bool only_crlf(const char *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (p[i] != '\r' && p[i] != '\n')
            return false;
    return true;
}

bool sipsess__tp_salvage(sipsess__tp *tp, int why, const char *data, size_t len,
                        const sipsess__addr *src, sipsess_msg **out)
{
    if (!sipsess__limit_error(why) || sipsess__msg_salvage(data, len, &tp->cfg.parse, why, out))
        return false;
    char from[SIPSESS__ADDR_TEXT_MAX];
    sipsess__addr_print(src, from, sizeof from);
    SIPSESS__LOG(tp->log, SIPSESS_LOG_WARN,
                 "transport: request from %s over a limit (%s): its routing fields go up",
                 from, sipsess_errname(why));
    return true;
}

void sipsess__tp_dgram_in(sipsess__tp *tp, int listener, const sipsess__addr *src,
                          const char *data, size_t len)
{
    sipsess__tp_trace(tp, false, &tp->lis[listener].addr, src, data, len);
    /* RFC 5626 §4.4.1 keep-alives over a datagram transport (CRLFCRLF) need
     * no answer here; STUN is not spoken. */
    if (only_crlf(data, len))
        return;
    sipsess_msg *msg = NULL;
    size_t off = 0;
    int rc = sipsess_msg_parse(data, len, &tp->cfg.parse, &msg, &off);
    /* A request over a limit is still answered (513, 414) when the fields
     * a response needs are there: a datagram over the size limit arrives
     * cut after max_msg_size + 1 bytes, which hold them. */
    if (rc && sipsess__tp_salvage(tp, rc, data, len, src, &msg))
        rc = 0;
    if (rc) {
        if (tp->log && tp->log->fn && tp->log->level >= SIPSESS_LOG_WARN) {
            char from[SIPSESS__ADDR_TEXT_MAX];
            sipsess__addr_print(src, from, sizeof from);
            SIPSESS__LOG(tp->log, SIPSESS_LOG_WARN,
                         "transport: dropped unparseable %zu-byte datagram from %s: %s at "
                         "offset %zu",
                         len, from, sipsess_errname(rc), off);
        }
        return;
    }
    sipsess__tp_hand_up(tp, msg, listener, src, NULL, false);
}

/* ------------------------------------------------------------- routing */

/* The listener of `proto` and `family` best suited to reach `to`: a
 * loopback listener for a loopback target, another one otherwise, else
 * any of the right kind. -1 when none. */
static int pick_listener(const sipsess__tp *tp, unsigned proto, const sipsess__addr *to)
{
    int best = -1, best_score = -1;
    bool to_lo = sipsess__addr_is_loopback(to);
    for (int i = 0; i < tp->nlis; i++) {
        const sipsess__addr *la = &tp->lis[i].addr;
        if (la->proto != proto || la->sa.ss_family != to->sa.ss_family)
            continue;
        int score = 0;
        if (sipsess__addr_is_any(la))
            score = 1;
        else if (sipsess__addr_is_loopback(la) == to_lo)
            score = 2;
        if (score > best_score) {
            best = i;
            best_score = score;
        }
    }
    return best;
}

static bool has_listener(const sipsess__tp *tp, unsigned proto, int family)
{
    for (int i = 0; i < tp->nlis; i++)
        if (tp->lis[i].addr.proto == proto && tp->lis[i].addr.sa.ss_family == family)
            return true;
    return false;
}

static bool str_ieq(sipsess_str s, const char *lit)
{
    size_t n = strlen(lit);
    if (s.len != n || !s.p)
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = s.p[i];
        if (c >= 'A' && c <= 'Z')
            c = (char)(c + 32);
        if (c != lit[i])
            return false;
    }
    return true;
}

int sipsess__tp_route_request(sipsess__tp *tp, const sipsess_uri *target, size_t msg_len,
                              sipsess__dest *d)
{
    if (!tp || !target || !d)
        return SIPSESS_EINVAL;
    sipsess_uri_scheme scheme = sipsess_uri_scheme_id(target);
    if (scheme != SIPSESS_URI_SIP && scheme != SIPSESS_URI_SIPS)
        return SIPSESS_EINVAL;

    sipsess_str tparam = {NULL, 0};
    bool explicit_tp = sipsess_uri_param(target, "transport", &tparam) && tparam.p;
    unsigned proto = SIPSESS__UDP;
    if (explicit_tp) {
        if (str_ieq(tparam, "udp"))
            proto = SIPSESS__UDP;
        else if (str_ieq(tparam, "tcp"))
            proto = SIPSESS__TCP;
        else if (str_ieq(tparam, "mem"))
            proto = SIPSESS__MEM;
        else
            return SIPSESS_ENOTFOUND; /* tls, sctp, ws...: not spoken here */
    }
    /* sips: needs TLS (RFC 3261 §26.2.2), which this library lacks; never
     * downgrade to a clear transport. */
    if (scheme == SIPSESS_URI_SIPS)
        return SIPSESS_ENOTFOUND;

    /* §8.1.2 with RFC 3263 reduced to numeric hosts: maddr overrides the
     * host; the port defaults to 5060. */
    sipsess_str host = sipsess_uri_host(target);
    sipsess_str maddr;
    if (sipsess_uri_param(target, "maddr", &maddr) && maddr.p && maddr.len)
        host = maddr;
    if (host.len >= 2 && host.p[0] == '[' && host.p[host.len - 1] == ']')
        host = (sipsess_str){host.p + 1, host.len - 2};
    unsigned port = sipsess_uri_port(target);
    if (!port)
        port = 5060;
    sipsess__addr to;
    if (sipsess__addr_from_host(SIPSESS__UDP, host, port, &to))
        return SIPSESS_EINVAL;
    bool localhost = str_ieq(host, "localhost");
    int fam = to.sa.ss_family;
    /* localhost is 127.0.0.1 unless only IPv6 can carry this protocol. */
    if (localhost && !has_listener(tp, proto, AF_INET) && has_listener(tp, proto, AF_INET6)) {
        sipsess__addr_from_host(SIPSESS__UDP, (sipsess_str){"::1", 3}, port, &to);
        fam = AF_INET6;
    }

    /* §18.1.1: a large request over UDP goes over TCP instead (congestion
     * control, no IP fragmentation). An explicit ;transport=udp is the
     * target's statement that it takes UDP only, so it is honoured. */
    if (proto == SIPSESS__UDP && !explicit_tp && tp->cfg.udp_mtu_switch &&
        msg_len > tp->cfg.udp_mtu_switch && has_listener(tp, SIPSESS__TCP, fam))
        proto = SIPSESS__TCP;
    /* A UA living only on a memnet reaches its peers' plain sip: URIs
     * (127.0.0.1:N) through it. */
    if (proto == SIPSESS__UDP && !explicit_tp && !has_listener(tp, SIPSESS__UDP, fam) &&
        fam == AF_INET && has_listener(tp, SIPSESS__MEM, AF_INET))
        proto = SIPSESS__MEM;

    to.proto = (uint8_t)proto;
    int li = pick_listener(tp, proto, &to);
    if (li < 0)
        return SIPSESS_ENOTFOUND;
    memset(d, 0, sizeof *d);
    d->remote = to;
    d->listener = li;
    d->conn = NULL;
    return 0;
}

int sipsess__tp_route_response(sipsess__tp *tp, const sipsess__rx *rx, sipsess__dest *d)
{
    if (!tp || !rx || !rx->msg || !d)
        return SIPSESS_EINVAL;
    if (rx->listener < 0 || rx->listener >= tp->nlis)
        return SIPSESS_EINVAL;
    const sipsess_hdr *via = sipsess_msg_hdr(rx->msg, SIPSESS_HDR_VIA, 0);
    if (!via)
        return SIPSESS_EINVAL;
    memset(d, 0, sizeof *d);
    d->listener = rx->listener;
    /* `received` is the source address by definition (§18.2.1): we are the
     * ones who would add it, so the source stands for it. */
    d->remote = rx->src;
    unsigned sent_by_port = sipsess_via_port(via);
    if (!sent_by_port)
        sent_by_port = 5060;

    if (rx->reliable) {
        if (rx->conn && sipsess__conn_open(rx->conn)) {
            sipsess__conn_ref(rx->conn);
            d->conn = rx->conn;
            d->remote = *sipsess__conn_remote(rx->conn);
            return 0;
        }
        /* §18.2.2: the connection is gone; open one to the received IP
         * at the sent-by port. */
        sipsess__addr_set_port(&d->remote, sent_by_port);
        return 0;
    }
    /* RFC 3581 §4: with rport, back to the exact source port, which is
     * where a NAT keeps its binding open. */
    if (sipsess_via_rport(via) < 0)
        sipsess__addr_set_port(&d->remote, sent_by_port);
    return 0;
}

void sipsess__tp_via_received(const sipsess__rx *rx, char *received, size_t cap, unsigned *rport)
{
    if (received && cap)
        received[0] = '\0';
    if (rport)
        *rport = 0;
    if (!rx || !rx->msg)
        return;
    const sipsess_hdr *via = sipsess_msg_hdr(rx->msg, SIPSESS_HDR_VIA, 0);
    if (!via)
        return;
    bool has_rport = sipsess_via_rport(via) >= 0;
    if (rport && has_rport)
        *rport = sipsess__addr_port(&rx->src);
    if (!received || !cap)
        return;
    /* Compared as addresses, so "::1" and "0:0::1" are the same host. */
    bool same = false;
    sipsess__addr sb;
    if (sipsess__addr_from_host(SIPSESS__UDP, sipsess_via_host(via), 0, &sb) == 0 &&
        !str_ieq(sipsess_via_host(via), "localhost"))
        same = sipsess__addr_same_ip(&sb, &rx->src);
    if (!same || has_rport)
        sipsess__addr_ip(&rx->src, received, cap);
}

/* ------------------------------------------------------------- sending */

int64_t sipsess__tp_send(sipsess__tp *tp, const sipsess__dest *d, const char *data, size_t len)
{
    if (!tp || !d || !data || !len)
        return SIPSESS_EINVAL;
    if (d->listener < 0 || d->listener >= tp->nlis)
        return SIPSESS_EINVAL;
    sipsess__listener *ls = &tp->lis[d->listener];
    unsigned proto = d->conn ? SIPSESS__TCP : d->remote.proto;
    if (proto != ls->addr.proto)
        return SIPSESS_EINVAL;
    uint64_t id = sipsess__tp_new_id(tp);
    int rc;
    switch (proto) {
    case SIPSESS__UDP:
        rc = sipsess__udp_send(tp, ls, &d->remote, data, len);
        break;
    case SIPSESS__TCP:
        rc = sipsess__tcp_send(tp, d, data, len, id);
        break;
    case SIPSESS__MEM:
        rc = sipsess__mem_send(tp, ls, &d->remote, data, len);
        break;
    default:
        rc = SIPSESS_EINVAL;
    }
    if (rc < 0)
        return rc;
    return (int64_t)id;
}
