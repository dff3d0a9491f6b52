/*
 * TCP (RFC 3261 §18 over a stream, RFC 5626 §3.5.1 keep-alives):
 * listeners, inbound and outbound connections, framing by Content-Length,
 * connection reuse by remote address, bounded output queues, idle close.
 *
 * Ownership: the tp holds one reference on every connection until it is
 * closed; a received message (sipsess__rx) and a response destination
 * (sipsess__dest) may hold more, so a server transaction can answer on the
 * connection its request came in on. A closed connection keeps only its
 * identity (state CLOSED, no fd, no buffers) until its last reference goes.
 */
#include <errno.h>
#include <netinet/tcp.h>
#include <string.h>
#include <unistd.h>

#include "runtime/mem.h"
#include "syntax/syntax.h"
#include "tp_int.h"

/* Bytes read per recv(): never more than a message, so the framer, which
 * holds at most two messages' worth, is drained before it could overflow. */
#define TCP_CHUNK_MAX 65536
/* Reads per readiness callback; the loop is level-triggered, so the rest
 * waits for the next round and other sockets get their turn. */
#define TCP_MAX_READS 16
/* Accept retry delay after running out of file descriptors. */
#define TCP_ACCEPT_PAUSE_MS 500

enum conn_state {
    C_CONNECTING = 1,
    C_OPEN,
    C_CLOSING, /* failed inside a send: closed from a 0 ms timer, outside the caller */
    C_CLOSED,
};

/* A send whose bytes are not all written yet: reported to err_fn when the
 * connection fails before they are. `end` is a stream offset. */
struct pending {
    uint64_t id;
    uint64_t end;
};

struct sipsess__conn {
    sipsess__tp *tp;  /* NULL once closed */
    sipsess__conn *prev, *next; /* tp->conns */
    sipsess__conn *hnext;       /* bucket chain while reusable */
    unsigned refs;
    uint8_t state;
    bool inbound;
    bool hashed;
    int fd;
    int listener;
    int close_err;
    unsigned watched;
    sipsess__addr local, remote;
    sipsess_framer *fr;
    sipsess__timer timer; /* idle check, or the deferred close */
    uint64_t last_io;

    char *out;
    size_t out_off, out_len, out_cap; /* unwritten bytes: out[out_off, out_len) */
    uint64_t queued_total, written_total;
    struct pending *pend;
    size_t pend_head, pend_len, pend_cap;
};

/* ------------------------------------------------------------ helpers */

static void conn_on_io(int fd, unsigned events, void *arg);
static void conn_on_timer(sipsess__timer *t, void *arg);

static size_t bucket_of(const sipsess__tp *tp, const sipsess__addr *a)
{
    return sipsess__addr_hash(a) & (tp->nbuckets - 1);
}

static void table_add(sipsess__tp *tp, sipsess__conn *c)
{
    size_t b = bucket_of(tp, &c->remote);
    c->hnext = tp->buckets[b];
    tp->buckets[b] = c;
    c->hashed = true;
}

static void table_del(sipsess__tp *tp, sipsess__conn *c)
{
    if (!c->hashed)
        return;
    sipsess__conn **pp = &tp->buckets[bucket_of(tp, &c->remote)];
    while (*pp && *pp != c)
        pp = &(*pp)->hnext;
    if (*pp)
        *pp = c->hnext;
    c->hnext = NULL;
    c->hashed = false;
}

static sipsess__conn *table_find(sipsess__tp *tp, const sipsess__addr *remote)
{
    for (sipsess__conn *c = tp->buckets[bucket_of(tp, remote)]; c; c = c->hnext)
        if (sipsess__addr_equal(&c->remote, remote))
            return c;
    return NULL;
}

static void conn_text(const sipsess__conn *c, char *buf, size_t cap)
{
    if (sipsess__addr_print(&c->remote, buf, cap) < 0 && cap)
        buf[0] = '\0';
}

static int conn_watch(sipsess__conn *c, unsigned events)
{
    if (c->watched == events)
        return 0;
    int rc = sipsess__loop_watch(c->tp->loop, c->fd, events, conn_on_io, c);
    if (rc == 0)
        c->watched = events;
    return rc;
}

static void touch(sipsess__conn *c)
{
    c->last_io = sipsess__loop_now(c->tp->loop);
}

const sipsess__addr *sipsess__conn_remote(const sipsess__conn *c)
{
    return &c->remote;
}

int sipsess__conn_listener(const sipsess__conn *c)
{
    return c->listener;
}

void sipsess__conn_ref(sipsess__conn *c)
{
    if (c)
        c->refs++;
}

void sipsess__conn_unref(sipsess__conn *c)
{
    if (!c || c->refs == 0)
        return;
    /* The tp's own reference is the last to go while the connection is
     * open, so reaching zero means it is closed and owns nothing else. */
    if (--c->refs == 0)
        sipsess__free(c);
}

bool sipsess__conn_open(const sipsess__conn *c)
{
    return c && (c->state == C_CONNECTING || c->state == C_OPEN);
}

/* ------------------------------------------------------------- closing */

/* Close now: forget the socket and buffers, tell the layer above which
 * sends were lost (when `notify`), and drop the tp's reference. */
static void conn_close(sipsess__conn *c, int err, bool notify)
{
    if (c->state == C_CLOSED)
        return;
    sipsess__tp *tp = c->tp;
    char txt[SIPSESS__ADDR_TEXT_MAX];
    conn_text(c, txt, sizeof txt);
    SIPSESS__LOG(tp->log, err ? SIPSESS_LOG_INFO : SIPSESS_LOG_DEBUG,
                 "transport: tcp connection %s %s closed%s%s", c->inbound ? "from" : "to", txt,
                 err ? ": " : "", err ? sipsess_strerror(err) : "");
    c->state = C_CLOSED;
    table_del(tp, c);
    if (c->prev)
        c->prev->next = c->next;
    else
        tp->conns = c->next;
    if (c->next)
        c->next->prev = c->prev;
    c->prev = c->next = NULL;
    tp->nconns--;
    sipsess__timer_stop(tp->loop, &c->timer);
    if (c->fd >= 0) {
        sipsess__loop_unwatch(tp->loop, c->fd);
        close(c->fd);
        c->fd = -1;
    }
    sipsess_framer_free(c->fr);
    c->fr = NULL;
    sipsess__free(c->out);
    c->out = NULL;
    c->out_off = c->out_len = c->out_cap = 0;
    struct pending *pend = c->pend;
    size_t head = c->pend_head, n = c->pend_len;
    c->pend = NULL;
    c->pend_head = c->pend_len = c->pend_cap = 0;
    c->tp = NULL;
    /* The connection is out of every table before anyone hears of the
     * failure, so a callback that sends again gets a fresh connection. */
    if (notify && err && tp->err_fn)
        for (size_t i = head; i < n; i++)
            if (pend[i].id)
                tp->err_fn(tp->arg, pend[i].id, err);
    sipsess__free(pend);
    sipsess__conn_unref(c);
}

/* A failure met inside sipsess__tp_send: the caller gets its own error
 * synchronously, and earlier sends still queued are reported from the
 * loop, never from inside the caller's send. */
static void conn_fail_later(sipsess__conn *c, int err)
{
    if (c->state == C_CLOSING || c->state == C_CLOSED)
        return;
    c->state = C_CLOSING;
    c->close_err = err;
    table_del(c->tp, c);
    sipsess__loop_unwatch(c->tp->loop, c->fd);
    c->watched = 0;
    sipsess__timer_start(c->tp->loop, &c->timer, 0);
}

void sipsess__tcp_close_all(sipsess__tp *tp)
{
    while (tp->conns)
        conn_close(tp->conns, 0, false);
}

/* ------------------------------------------------------------- writing */

static void pend_pop(sipsess__conn *c)
{
    while (c->pend_head < c->pend_len && c->pend[c->pend_head].end <= c->written_total)
        c->pend_head++;
    if (c->pend_head == c->pend_len)
        c->pend_head = c->pend_len = 0;
}

static int pend_push(sipsess__conn *c, uint64_t id)
{
    if (c->pend_len == c->pend_cap && c->pend_head) {
        memmove(c->pend, c->pend + c->pend_head,
                (c->pend_len - c->pend_head) * sizeof *c->pend);
        c->pend_len -= c->pend_head;
        c->pend_head = 0;
    }
    if (c->pend_len == c->pend_cap) {
        size_t ncap = c->pend_cap ? c->pend_cap * 2 : 8;
        struct pending *p = sipsess__realloc(c->pend, ncap * sizeof *p);
        if (!p)
            return SIPSESS_ENOMEM;
        c->pend = p;
        c->pend_cap = ncap;
    }
    c->pend[c->pend_len].id = id;
    c->pend[c->pend_len].end = c->queued_total;
    c->pend_len++;
    return 0;
}

/* Write queued bytes until done or EAGAIN. Returns 0 or ETRANSPORT. */
static int flush(sipsess__conn *c)
{
    while (c->out_off < c->out_len) {
        ssize_t n = send(c->fd, c->out + c->out_off, c->out_len - c->out_off,
                         MSG_NOSIGNAL | MSG_DONTWAIT);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            if (errno == EAGAIN || errno == EWOULDBLOCK)
                break;
            return SIPSESS_ETRANSPORT;
        }
        c->out_off += (size_t)n;
        c->written_total += (uint64_t)n;
        touch(c);
    }
    if (c->out_off == c->out_len)
        c->out_off = c->out_len = 0;
    pend_pop(c);
    return 0;
}

static unsigned wanted_events(const sipsess__conn *c)
{
    if (c->state == C_CONNECTING)
        return SIPSESS__IO_READ | SIPSESS__IO_WRITE;
    return SIPSESS__IO_READ | (c->out_len > c->out_off ? SIPSESS__IO_WRITE : 0u);
}

/* Queue or write `len` bytes. The limit is checked before anything is
 * written: a message is never cut short on the wire. */
static int conn_write(sipsess__conn *c, const char *data, size_t len, uint64_t id)
{
    sipsess__tp *tp = c->tp;
    size_t queued = c->out_len - c->out_off;
    if (len > tp->cfg.max_conn_buffer || queued > tp->cfg.max_conn_buffer - len)
        return SIPSESS_ELIMIT;
    size_t done = 0;
    if (c->state == C_OPEN && queued == 0) {
        while (done < len) {
            ssize_t n = send(c->fd, data + done, len - done, MSG_NOSIGNAL | MSG_DONTWAIT);
            if (n < 0) {
                if (errno == EINTR)
                    continue;
                if (errno == EAGAIN || errno == EWOULDBLOCK)
                    break;
                int e = errno;
                char txt[SIPSESS__ADDR_TEXT_MAX];
                conn_text(c, txt, sizeof txt);
                SIPSESS__LOG(tp->log, SIPSESS_LOG_WARN, "transport: tcp send to %s: %s", txt,
                             strerror(e));
                /* Bytes of this message may be out already: the stream is
                 * unusable. */
                conn_fail_later(c, SIPSESS_ETRANSPORT);
                return SIPSESS_ETRANSPORT;
            }
            done += (size_t)n;
            touch(c);
        }
        c->written_total += done;
        c->queued_total += done;
        if (done == len)
            return 0;
    }
    size_t rest = len - done;
    if (c->out_len + rest > c->out_cap) {
        if (c->out_off) {
            memmove(c->out, c->out + c->out_off, c->out_len - c->out_off);
            c->out_len -= c->out_off;
            c->out_off = 0;
        }
        if (c->out_len + rest > c->out_cap) {
            size_t ncap = c->out_cap ? c->out_cap : 4096;
            while (ncap < c->out_len + rest)
                ncap *= 2;
            char *p = sipsess__realloc(c->out, ncap);
            if (!p) {
                if (done) {
                    conn_fail_later(c, SIPSESS_ETRANSPORT);
                    return SIPSESS_ETRANSPORT;
                }
                return SIPSESS_ENOMEM;
            }
            c->out = p;
            c->out_cap = ncap;
        }
    }
    memcpy(c->out + c->out_len, data + done, rest);
    c->out_len += rest;
    c->queued_total += rest;
    if (id && pend_push(c, id)) {
        /* Without a record the failure could not be reported: refuse. The
         * bytes stay queued; with `done` 0 they are taken back. */
        if (!done) {
            c->out_len -= rest;
            c->queued_total -= rest;
            return SIPSESS_ENOMEM;
        }
    }
    if (conn_watch(c, wanted_events(c))) {
        conn_fail_later(c, SIPSESS_ETRANSPORT);
        return SIPSESS_ETRANSPORT;
    }
    return 0;
}

/* ------------------------------------------------------------- reading */

/* Hand up every complete message, answer pings. Returns false when the
 * connection was closed meanwhile. */
static bool drain(sipsess__conn *c)
{
    sipsess__tp *tp = c->tp;
    for (;;) {
        sipsess_msg *m = NULL;
        size_t off = 0;
        int rc = sipsess_framer_next(c->fr, &m, &off);
        if (rc == SIPSESS_EAGAIN)
            break;
        if (rc == 0) {
            sipsess_str raw = sipsess_msg_raw(m);
            sipsess__tp_trace(tp, false, &c->local, &c->remote, raw.p, raw.len);
            sipsess__tp_hand_up(tp, m, c->listener, &c->remote, c, true);
            if (c->state != C_OPEN)
                return false;
            continue;
        }
        /* A request over a limit is answered (513, 414) when the fields a
         * response needs are there, on this connection, before a framing
         * failure closes it. */
        sipsess_str bad = sipsess__framer_failed_bytes(c->fr);
        bool salvaged = bad.p && sipsess__tp_salvage(tp, rc, bad.p, bad.len, &c->remote, &m);
        if (salvaged) {
            sipsess__tp_trace(tp, false, &c->local, &c->remote, bad.p, bad.len);
            sipsess__tp_hand_up(tp, m, c->listener, &c->remote, c, true);
            if (c->state != C_OPEN)
                return false;
        }
        char txt[SIPSESS__ADDR_TEXT_MAX];
        conn_text(c, txt, sizeof txt);
        if (sipsess_framer_failed(c->fr)) {
            /* Message boundaries are lost: nothing after this point can be
             * trusted to start a message (§18.3). */
            SIPSESS__LOG(tp->log, SIPSESS_LOG_WARN,
                         "transport: framing error on tcp connection %s %s: %s",
                         c->inbound ? "from" : "to", txt, sipsess_errname(rc));
            conn_close(c, SIPSESS_ETRANSPORT, true);
            return false;
        }
        if (!salvaged)
            SIPSESS__LOG(tp->log, SIPSESS_LOG_WARN,
                         "transport: dropped unparseable message from %s: %s at offset %zu",
                         txt, sipsess_errname(rc), off);
    }
    unsigned pings = sipsess_framer_take_pings(c->fr);
    while (pings--) {
        /* A pong that cannot be queued is not worth the connection. */
        if (conn_write(c, "\r\n", 2, 0) != 0)
            break;
    }
    return c->state == C_OPEN;
}

static void conn_read(sipsess__conn *c)
{
    sipsess__tp *tp = c->tp;
    size_t chunk = tp->cfg.parse.max_msg_size;
    if (chunk > TCP_CHUNK_MAX)
        chunk = TCP_CHUNK_MAX;
    for (int i = 0; i < TCP_MAX_READS; i++) {
        ssize_t n = recv(c->fd, tp->rbuf, chunk, MSG_DONTWAIT);
        if (n > 0) {
            touch(c);
            int rc = sipsess_framer_feed(c->fr, tp->rbuf, (size_t)n);
            if (rc) {
                char txt[SIPSESS__ADDR_TEXT_MAX];
                conn_text(c, txt, sizeof txt);
                SIPSESS__LOG(tp->log, SIPSESS_LOG_WARN,
                             "transport: tcp connection %s: %s, closing", txt,
                             sipsess_errname(rc));
                conn_close(c, SIPSESS_ETRANSPORT, true);
                return;
            }
            if (!drain(c))
                return;
            if ((size_t)n < chunk)
                return; /* the socket is empty for now */
            continue;
        }
        if (n == 0) {
            /* Orderly close by the peer: whatever is still queued for it
             * will not be read. */
            conn_close(c, SIPSESS_ETRANSPORT, true);
            return;
        }
        if (errno == EINTR)
            continue;
        if (errno == EAGAIN || errno == EWOULDBLOCK)
            return;
        conn_close(c, SIPSESS_ETRANSPORT, true);
        return;
    }
}

/* ---------------------------------------------------------- connections */

static void conn_on_connected(sipsess__conn *c)
{
    int soerr = 0;
    socklen_t sl = sizeof soerr;
    if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) != 0)
        soerr = errno;
    if (soerr) {
        char txt[SIPSESS__ADDR_TEXT_MAX];
        conn_text(c, txt, sizeof txt);
        SIPSESS__LOG(c->tp->log, SIPSESS_LOG_WARN, "transport: tcp connect to %s: %s", txt,
                     strerror(soerr));
        conn_close(c, SIPSESS_ETRANSPORT, true);
        return;
    }
    c->state = C_OPEN;
    touch(c);
    struct sockaddr_storage ss;
    socklen_t ssl = sizeof ss;
    if (getsockname(c->fd, (struct sockaddr *)&ss, &ssl) == 0)
        sipsess__addr_from_sa(&c->local, SIPSESS__TCP, &ss, ssl);
}

static void conn_on_io(int fd, unsigned events, void *arg)
{
    sipsess__conn *c = arg;
    (void)fd;
    /* Callbacks up the stack may drop every other reference. */
    sipsess__conn_ref(c);
    if (c->state == C_CONNECTING) {
        if (!(events & (SIPSESS__IO_WRITE | SIPSESS__IO_ERROR)))
            goto out;
        conn_on_connected(c);
        if (c->state != C_OPEN)
            goto out;
    }
    if (c->state == C_OPEN && (events & SIPSESS__IO_WRITE)) {
        if (flush(c)) {
            conn_close(c, SIPSESS_ETRANSPORT, true);
            goto out;
        }
    }
    if (c->state == C_OPEN && (events & (SIPSESS__IO_READ | SIPSESS__IO_ERROR)))
        conn_read(c);
    if (c->state == C_OPEN && conn_watch(c, wanted_events(c)))
        conn_close(c, SIPSESS_ETRANSPORT, true);
out:
    sipsess__conn_unref(c);
}

static void conn_on_timer(sipsess__timer *t, void *arg)
{
    sipsess__conn *c = arg;
    (void)t;
    sipsess__tp *tp = c->tp;
    if (c->state == C_CLOSING) {
        conn_close(c, c->close_err, true);
        return;
    }
    uint64_t idle = tp->cfg.tcp_idle_ms;
    if (!idle)
        return;
    uint64_t now = sipsess__loop_now(tp->loop);
    uint64_t quiet = now - c->last_io;
    if (quiet < idle) {
        sipsess__timer_start(tp->loop, &c->timer, idle - quiet);
        return;
    }
    /* Someone still holds it (a server transaction that will answer on
     * it): keep it; a connect that has hung this long is given up. */
    if (c->refs > 1 && c->state != C_CONNECTING) {
        sipsess__timer_start(tp->loop, &c->timer, idle);
        return;
    }
    char txt[SIPSESS__ADDR_TEXT_MAX];
    conn_text(c, txt, sizeof txt);
    SIPSESS__LOG(tp->log, SIPSESS_LOG_DEBUG, "transport: tcp connection %s idle, closing", txt);
    conn_close(c, SIPSESS_ETRANSPORT, true);
}

/* A connection object around a connected or connecting socket `fd`
 * (closed here on failure). */
static int conn_new(sipsess__tp *tp, int fd, enum conn_state st, bool inbound, int listener,
                    const sipsess__addr *remote, sipsess__conn **out)
{
    int rc = sipsess__tp_rbuf(tp);
    if (rc) {
        close(fd);
        return rc;
    }
    sipsess__conn *c = sipsess__calloc(1, sizeof *c);
    if (!c) {
        close(fd);
        return SIPSESS_ENOMEM;
    }
    rc = sipsess_framer_new(&tp->cfg.parse, &c->fr);
    if (rc) {
        sipsess__free(c);
        close(fd);
        return rc;
    }
    c->tp = tp;
    c->refs = 1;
    c->state = (uint8_t)st;
    c->inbound = inbound;
    c->fd = fd;
    c->listener = listener;
    c->remote = *remote;
    c->remote.proto = SIPSESS__TCP;
    c->local = tp->lis[listener].addr;
    struct sockaddr_storage ss;
    socklen_t sl = sizeof ss;
    if (getsockname(fd, (struct sockaddr *)&ss, &sl) == 0)
        sipsess__addr_from_sa(&c->local, SIPSESS__TCP, &ss, sl);
    int one = 1;
    /* Messages are written whole; Nagle would only delay the next one. */
    (void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    sipsess__timer_init(&c->timer, conn_on_timer, c);
    c->last_io = sipsess__loop_now(tp->loop);
    rc = conn_watch(c, wanted_events(c));
    if (rc) {
        sipsess_framer_free(c->fr);
        sipsess__free(c);
        close(fd);
        return rc;
    }
    c->next = tp->conns;
    if (tp->conns)
        tp->conns->prev = c;
    tp->conns = c;
    tp->nconns++;
    table_add(tp, c);
    if (tp->cfg.tcp_idle_ms)
        sipsess__timer_start(tp->loop, &c->timer, tp->cfg.tcp_idle_ms);
    *out = c;
    return 0;
}

static int conn_connect(sipsess__tp *tp, const sipsess__dest *d, sipsess__conn **out)
{
    char txt[SIPSESS__ADDR_TEXT_MAX];
    sipsess__addr_print(&d->remote, txt, sizeof txt);
    if (tp->nconns >= tp->cfg.max_connections) {
        SIPSESS__LOG(tp->log, SIPSESS_LOG_WARN,
                     "transport: tcp connection limit (%u) reached, not connecting to %s",
                     (unsigned)tp->cfg.max_connections, txt);
        return SIPSESS_ELIMIT;
    }
    const sipsess__listener *ls = &tp->lis[d->listener];
    int fam = d->remote.sa.ss_family;
    if (fam != ls->addr.sa.ss_family)
        return SIPSESS_EINVAL;
    int fd = socket(fam, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return sipsess__tp_errno(errno);
    if (fam == AF_INET6) {
        int one = 1;
        (void)setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
    }
    /* Leave from the listener's address, so the peer sees the source it
     * would expect from our Via (the port stays ephemeral). */
    if (!sipsess__addr_is_any(&ls->addr)) {
        sipsess__addr src = ls->addr;
        sipsess__addr_set_port(&src, 0);
        if (bind(fd, (const struct sockaddr *)&src.sa, src.len) != 0) {
            int rc = sipsess__tp_errno(errno);
            close(fd);
            return rc;
        }
    }
    enum conn_state st = C_OPEN;
    if (connect(fd, (const struct sockaddr *)&d->remote.sa, d->remote.len) != 0) {
        if (errno != EINPROGRESS && errno != EINTR) {
            int e = errno;
            SIPSESS__LOG(tp->log, SIPSESS_LOG_WARN, "transport: tcp connect to %s: %s", txt,
                         strerror(e));
            close(fd);
            return SIPSESS_ETRANSPORT;
        }
        st = C_CONNECTING;
    }
    SIPSESS__LOG(tp->log, SIPSESS_LOG_DEBUG, "transport: tcp connecting to %s", txt);
    return conn_new(tp, fd, st, false, d->listener, &d->remote, out);
}

int sipsess__tcp_send(sipsess__tp *tp, const sipsess__dest *d, const char *data, size_t len,
                      uint64_t id)
{
    sipsess__conn *c = NULL;
    if (d->conn && sipsess__conn_open(d->conn) && d->conn->tp == tp)
        c = d->conn;
    else
        c = table_find(tp, &d->remote);
    if (!c) {
        /* The peer's ephemeral port of a closed inbound connection accepts
         * nothing: §18.2.2 wants the sent-by port, which route_response
         * gives when asked again. */
        if (d->conn && d->conn->inbound && sipsess__addr_equal(&d->remote, &d->conn->remote))
            return SIPSESS_ETRANSPORT;
        if (d->remote.proto != SIPSESS__TCP)
            return SIPSESS_EINVAL;
        int rc = conn_connect(tp, d, &c);
        if (rc)
            return rc;
    }
    int rc = conn_write(c, data, len, id);
    if (rc == 0)
        sipsess__tp_trace(tp, true, &c->local, &c->remote, data, len);
    return rc;
}

/* ------------------------------------------------------------ listeners */

static void listener_on_io(int fd, unsigned events, void *arg);

static void listener_resume(sipsess__timer *t, void *arg)
{
    sipsess__listener *ls = arg;
    (void)t;
    if (sipsess__loop_watch(ls->tp->loop, ls->fd, SIPSESS__IO_READ, listener_on_io, ls))
        sipsess__timer_start(ls->tp->loop, &ls->pause, TCP_ACCEPT_PAUSE_MS);
}

static void listener_on_io(int fd, unsigned events, void *arg)
{
    sipsess__listener *ls = arg;
    sipsess__tp *tp = ls->tp;
    (void)events;
    for (int i = 0; i < 64; i++) {
        struct sockaddr_storage ss;
        socklen_t sl = sizeof ss;
        int cfd = accept4(fd, (struct sockaddr *)&ss, &sl, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (cfd < 0) {
            if (errno == EINTR || errno == ECONNABORTED)
                continue;
            if (errno == EAGAIN || errno == EWOULDBLOCK)
                return;
            /* Out of descriptors: the pending connection stays readable on a
             * level-triggered loop, so stop watching for a while instead of
             * spinning. */
            SIPSESS__LOG(tp->log, SIPSESS_LOG_WARN, "transport: tcp accept on %s: %s",
                         ls->sentby, strerror(errno));
            sipsess__loop_unwatch(tp->loop, fd);
            sipsess__timer_start(tp->loop, &ls->pause, TCP_ACCEPT_PAUSE_MS);
            return;
        }
        sipsess__addr remote;
        sipsess__addr_from_sa(&remote, SIPSESS__TCP, &ss, sl);
        char txt[SIPSESS__ADDR_TEXT_MAX];
        sipsess__addr_print(&remote, txt, sizeof txt);
        if (tp->nconns >= tp->cfg.max_connections) {
            /* Accept and close: a refused backlog entry would only be
             * retried by the peer's kernel. */
            SIPSESS__LOG(tp->log, SIPSESS_LOG_WARN,
                         "transport: tcp connection limit (%u) reached, closing %s",
                         (unsigned)tp->cfg.max_connections, txt);
            close(cfd);
            continue;
        }
        sipsess__conn *c;
        int rc = conn_new(tp, cfd, C_OPEN, true, ls->idx, &remote, &c);
        if (rc)
            SIPSESS__LOG(tp->log, SIPSESS_LOG_WARN, "transport: tcp accept from %s: %s", txt,
                         sipsess_errname(rc));
        else
            SIPSESS__LOG(tp->log, SIPSESS_LOG_DEBUG, "transport: tcp connection from %s", txt);
    }
}

int sipsess__tcp_listen(sipsess__tp *tp, sipsess__listener *ls)
{
    int fam = ls->addr.sa.ss_family;
    int fd = socket(fam, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return sipsess__tp_errno(errno);
    int one = 1, rc;
    /* Restarting a UA must not wait for TIME_WAIT of its old port. */
    if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) != 0)
        goto fail;
    if (fam == AF_INET6 && setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one) != 0)
        goto fail;
    if (bind(fd, (const struct sockaddr *)&ls->addr.sa, ls->addr.len) != 0)
        goto fail;
    if (listen(fd, SOMAXCONN) != 0)
        goto fail;
    struct sockaddr_storage ss;
    socklen_t sl = sizeof ss;
    if (getsockname(fd, (struct sockaddr *)&ss, &sl) != 0)
        goto fail;
    sipsess__addr_from_sa(&ls->addr, SIPSESS__TCP, &ss, sl);
    sipsess__timer_init(&ls->pause, listener_resume, ls);
    rc = sipsess__loop_watch(tp->loop, fd, SIPSESS__IO_READ, listener_on_io, ls);
    if (rc) {
        close(fd);
        return rc;
    }
    ls->fd = fd;
    return 0;
fail:
    rc = sipsess__tp_errno(errno);
    close(fd);
    return rc;
}

void sipsess__tcp_close_listener(sipsess__tp *tp, sipsess__listener *ls)
{
    sipsess__timer_stop(tp->loop, &ls->pause);
    if (ls->fd >= 0) {
        sipsess__loop_unwatch(tp->loop, ls->fd);
        close(ls->fd);
        ls->fd = -1;
    }
}
