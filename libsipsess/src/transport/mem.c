/*
 * The in-memory network: "mem:N" endpoints exchange datagrams without
 * sockets. A datagram is queued on the receiving endpoint and delivered by
 * work posted to the receiver's loop, so it arrives on that loop's next
 * process/advance, never inside the sender's call: two UAs on virtual
 * clocks then run deterministically.
 *
 * A memnet is used from one thread (the one driving every loop attached
 * to it). Endpoints belong to the memnet, not to the tp: work already
 * posted may outlive the tp, and a loop freed with work pending drops it
 * without running it, so only the memnet can free what is left.
 */
#include <stdio.h>
#include <string.h>

#include "runtime/mem.h"
#include "tp_int.h"

/* Datagrams waiting per endpoint, like a socket receive buffer: more are
 * dropped. */
#define MEM_MAX_QUEUED 1024
/* Ports chosen for "mem:0" come from the dynamic range first. */
#define MEM_AUTO_PORT_FIRST 49152

struct mem_pkt {
    struct mem_pkt *next;
    uint16_t from;
    size_t len;
    char data[];
};

struct sipsess__mem_ep {
    struct sipsess_memnet *net;
    struct sipsess__mem_ep *next;
    sipsess__tp *tp; /* NULL once its listener is closed */
    sipsess__loop *loop;
    int listener;
    uint16_t port;
    bool posted;     /* a delivery is queued on `loop` */
    bool delivering; /* mem_deliver is running for it */
    struct mem_pkt *head, *tail;
    size_t queued;
};

struct sipsess_memnet {
    struct sipsess__mem_ep *eps;
    sipsess_memnet_filter_fn filter;
    void *filter_ud;
    unsigned next_port;
};

SIPSESS_API int sipsess_memnet_new(sipsess_memnet **out)
{
    if (!out)
        return SIPSESS_EINVAL;
    sipsess_memnet *net = sipsess__calloc(1, sizeof *net);
    if (!net)
        return SIPSESS_ENOMEM;
    net->next_port = MEM_AUTO_PORT_FIRST;
    *out = net;
    return 0;
}

static void drop_queue(struct sipsess__mem_ep *ep)
{
    struct mem_pkt *p = ep->head;
    while (p) {
        struct mem_pkt *next = p->next;
        sipsess__free(p);
        p = next;
    }
    ep->head = ep->tail = NULL;
    ep->queued = 0;
}

static void ep_unlink(struct sipsess__mem_ep *ep)
{
    struct sipsess__mem_ep **pp = &ep->net->eps;
    while (*pp && *pp != ep)
        pp = &(*pp)->next;
    if (*pp)
        *pp = ep->next;
}

SIPSESS_API void sipsess_memnet_free(sipsess_memnet *net)
{
    if (!net)
        return;
    struct sipsess__mem_ep *ep = net->eps;
    while (ep) {
        struct sipsess__mem_ep *next = ep->next;
        /* Freed out of order: a tp still attached must not reach back into
         * freed memory when it closes. */
        if (ep->tp)
            ep->tp->lis[ep->listener].mem = NULL;
        drop_queue(ep);
        sipsess__free(ep);
        ep = next;
    }
    sipsess__free(net);
}

SIPSESS_API int sipsess_memnet_set_filter(sipsess_memnet *net, sipsess_memnet_filter_fn fn,
                                          void *userdata)
{
    if (!net)
        return SIPSESS_EINVAL;
    net->filter = fn;
    net->filter_ud = userdata;
    return 0;
}

static struct sipsess__mem_ep *find_port(const sipsess_memnet *net, unsigned port)
{
    for (struct sipsess__mem_ep *ep = net->eps; ep; ep = ep->next)
        if (ep->tp && ep->port == port)
            return ep;
    return NULL;
}

int sipsess__mem_listen(sipsess__tp *tp, sipsess__listener *ls)
{
    sipsess_memnet *net = tp->cfg.memnet;
    if (!net)
        return SIPSESS_ESTATE;
    unsigned port = sipsess__addr_port(&ls->addr);
    if (port == 0) {
        for (unsigned tries = 0; tries < 65535 && !port; tries++) {
            unsigned p = net->next_port++;
            if (net->next_port > 65535)
                net->next_port = 1024;
            if (!find_port(net, p))
                port = p;
        }
        if (!port)
            return SIPSESS_ELIMIT;
    } else if (find_port(net, port)) {
        return SIPSESS_EBUSY;
    }
    struct sipsess__mem_ep *ep = sipsess__calloc(1, sizeof *ep);
    if (!ep)
        return SIPSESS_ENOMEM;
    ep->net = net;
    ep->tp = tp;
    ep->loop = tp->loop;
    ep->listener = ls->idx;
    ep->port = (uint16_t)port;
    ep->next = net->eps;
    net->eps = ep;
    sipsess__addr_set_port(&ls->addr, port);
    ls->mem = ep;
    return 0;
}

void sipsess__mem_close(sipsess__tp *tp, sipsess__listener *ls)
{
    struct sipsess__mem_ep *ep = ls->mem;
    (void)tp;
    if (!ep)
        return;
    ls->mem = NULL;
    ep->tp = NULL;
    drop_queue(ep);
    /* Work already posted, or running, still points here and frees the
     * endpoint when it is done. */
    if (!ep->posted && !ep->delivering) {
        ep_unlink(ep);
        sipsess__free(ep);
    }
}

static void mem_deliver(void *arg)
{
    struct sipsess__mem_ep *ep = arg;
    ep->posted = false;
    if (!ep->tp) {
        drop_queue(ep);
        ep_unlink(ep);
        sipsess__free(ep);
        return;
    }
    /* Take what is queued now: what the receiver sends to itself while
     * handling it waits for the next round, like any other datagram. */
    struct mem_pkt *p = ep->head;
    ep->head = ep->tail = NULL;
    ep->queued = 0;
    ep->delivering = true;
    while (p) {
        struct mem_pkt *next = p->next;
        sipsess__addr src;
        sipsess__addr_from_host(SIPSESS__MEM, (sipsess_str){"127.0.0.1", 9}, p->from, &src);
        /* A receiver closed by a callback of this very delivery drops the
         * rest. */
        if (ep->tp)
            sipsess__tp_dgram_in(ep->tp, ep->listener, &src, p->data, p->len);
        sipsess__free(p);
        p = next;
    }
    ep->delivering = false;
    if (!ep->tp && !ep->posted) {
        ep_unlink(ep);
        sipsess__free(ep);
    }
}

int sipsess__mem_send(sipsess__tp *tp, sipsess__listener *ls, const sipsess__addr *to,
                      const char *data, size_t len)
{
    struct sipsess__mem_ep *self = ls->mem;
    if (!self)
        return SIPSESS_ETRANSPORT; /* the memnet was freed under us */
    if (to->sa.ss_family != AF_INET)
        return SIPSESS_EINVAL;
    sipsess_memnet *net = self->net;
    unsigned port = sipsess__addr_port(to);
    sipsess__tp_trace(tp, true, &ls->addr, to, data, len);
    if (net->filter) {
        char from_txt[16], to_txt[16];
        snprintf(from_txt, sizeof from_txt, "mem:%u", (unsigned)self->port);
        snprintf(to_txt, sizeof to_txt, "mem:%u", port);
        if (net->filter(from_txt, to_txt, data, len, net->filter_ud)) {
            SIPSESS__LOG(tp->log, SIPSESS_LOG_DEBUG, "transport: %s -> %s dropped by filter",
                         from_txt, to_txt);
            return 0;
        }
    }
    struct sipsess__mem_ep *ep = find_port(net, port);
    if (!ep) {
        /* Nobody listens: lost, as a UDP datagram would be. */
        SIPSESS__LOG(tp->log, SIPSESS_LOG_DEBUG, "transport: no mem endpoint %u, dropped", port);
        return 0;
    }
    if (ep->queued >= MEM_MAX_QUEUED) {
        SIPSESS__LOG(tp->log, SIPSESS_LOG_WARN, "transport: mem endpoint %u full, dropped", port);
        return 0;
    }
    struct mem_pkt *p = sipsess__malloc(sizeof *p + len);
    if (!p)
        return SIPSESS_ENOMEM;
    p->next = NULL;
    p->from = self->port;
    p->len = len;
    memcpy(p->data, data, len);
    if (!ep->posted) {
        if (sipsess__loop_post(ep->loop, mem_deliver, ep)) {
            sipsess__free(p);
            return SIPSESS_ENOMEM;
        }
        ep->posted = true;
    }
    if (ep->tail)
        ep->tail->next = p;
    else
        ep->head = p;
    ep->tail = p;
    ep->queued++;
    return 0;
}
