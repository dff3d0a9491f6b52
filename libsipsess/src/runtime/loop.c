/*
 * Event loop (contract in loop.h): epoll for fds, a binary min-heap of
 * embedded timers, a monotonic or virtual ms clock, an eventfd for wake and
 * a mutex-protected queue for work posted from other threads.
 *
 * Hot paths allocate nothing: a timer lives in its owner and the heap array
 * only grows (amortised) when more timers are armed than ever before; the
 * fd table only grows when a higher fd is watched; epoll_wait fills a fixed
 * array on the stack. Only sipsess__loop_post allocates (one node per item).
 *
 * Safety of callbacks:
 *  - fds: each watch of a new fd gets a generation number, stored with the
 *    fd in the epoll data. Before an event of a batch is dispatched, the fd's
 *    table entry must still be active with the same generation, so an fd
 *    unwatched (and maybe closed and reused) by an earlier callback of the
 *    same batch is never dispatched to the wrong watcher. The reported events
 *    are masked with the current interest, so a callback that narrowed
 *    another fd's interest is honoured too.
 *  - timers: a due timer is removed from the heap before its callback runs
 *    and never touched after it, so the callback may re-arm, stop or free it
 *    and start or stop any other timer. One pass fires only timers started
 *    before the pass began (seq limit); timers started by callbacks with a
 *    delay of 0 fire in the next pass, so a timer re-arming itself with 0 ms
 *    cannot spin inside one process() call.
 */
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdint.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "sipsess/common.h"
#include "runtime/loop.h"
#include "runtime/mem.h"

#define LOOP_MAX_EVENTS 64
#define TIMER_IDLE ((size_t)-1)
/* epoll data of the wake eventfd; watchers never have generation 0. */
#define WAKE_TOKEN UINT64_C(0)

struct watcher {
    sipsess__io_cb cb;
    void *arg;
    uint32_t gen; /* 0: slot free */
    unsigned events;
};

struct post_item {
    struct post_item *next;
    void (*fn)(void *arg);
    void *arg;
};

struct sipsess__loop {
    int epfd;
    int wakefd;
    bool virtual_clock;
    uint64_t vnow; /* virtual clock only */

    /* timers: min-heap ordered by (due, seq) */
    sipsess__timer **heap;
    size_t heap_len;
    size_t heap_cap;
    uint64_t seq;

    /* fd table indexed by fd */
    struct watcher *w;
    size_t w_cap;
    size_t w_active; /* fds watched */
    uint32_t gen;

    /* posted work: FIFO under `post_mu`; `post_pending` mirrors
     * "head != NULL" for lock-free reads by next_timeout. */
    pthread_mutex_t post_mu;
    struct post_item *post_head;
    struct post_item *post_tail;
    int post_pending;
};

/* ---------------------------------------------------------------- clock */

static uint64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

uint64_t sipsess__loop_now(const sipsess__loop *l)
{
    if (!l)
        return 0;
    return l->virtual_clock ? l->vnow : mono_ms();
}

bool sipsess__loop_is_virtual(const sipsess__loop *l)
{
    return l && l->virtual_clock;
}

static uint64_t add_sat(uint64_t a, uint64_t b)
{
    return a > UINT64_MAX - b ? UINT64_MAX : a + b;
}

/* ------------------------------------------------------------ lifecycle */

static int errno_to_err(int e)
{
    switch (e) {
    case ENOMEM:
        return SIPSESS_ENOMEM;
    case EMFILE:
    case ENFILE:
    case ENOSPC:
        return SIPSESS_ELIMIT;
    default:
        return SIPSESS_EINVAL;
    }
}

/* loop.h promises only these two codes for loop creation. */
static int create_err(int e)
{
    return e == ENOMEM ? SIPSESS_ENOMEM : SIPSESS_EINVAL;
}

int sipsess__loop_new(bool virtual_clock, sipsess__loop **out)
{
    if (!out)
        return SIPSESS_EINVAL;
    sipsess__loop *l = sipsess__calloc(1, sizeof(*l));
    if (!l)
        return SIPSESS_ENOMEM;
    l->virtual_clock = virtual_clock;
    l->epfd = -1;
    l->wakefd = -1;
    int rc;

    if (pthread_mutex_init(&l->post_mu, NULL) != 0) {
        sipsess__free(l);
        return SIPSESS_ENOMEM;
    }
    l->epfd = epoll_create1(EPOLL_CLOEXEC);
    if (l->epfd < 0) {
        rc = create_err(errno);
        goto fail;
    }
    l->wakefd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (l->wakefd < 0) {
        rc = create_err(errno);
        goto fail;
    }
    struct epoll_event ev;
    memset(&ev, 0, sizeof(ev));
    ev.events = EPOLLIN;
    ev.data.u64 = WAKE_TOKEN;
    if (epoll_ctl(l->epfd, EPOLL_CTL_ADD, l->wakefd, &ev) != 0) {
        rc = create_err(errno);
        goto fail;
    }
    *out = l;
    return SIPSESS_OK;

fail:
    if (l->wakefd >= 0)
        close(l->wakefd);
    if (l->epfd >= 0)
        close(l->epfd);
    pthread_mutex_destroy(&l->post_mu);
    sipsess__free(l);
    return rc;
}

void sipsess__loop_free(sipsess__loop *l)
{
    if (!l)
        return;
    struct post_item *p = l->post_head;
    while (p) {
        struct post_item *next = p->next;
        sipsess__free(p);
        p = next;
    }
    pthread_mutex_destroy(&l->post_mu);
    close(l->wakefd);
    close(l->epfd);
    sipsess__free(l->heap);
    sipsess__free(l->w);
    sipsess__free(l);
}

/* --------------------------------------------------------------- timers */

static inline bool timer_before(const sipsess__timer *a, const sipsess__timer *b)
{
    return a->due < b->due || (a->due == b->due && a->seq < b->seq);
}

static inline void heap_set(sipsess__loop *l, size_t i, sipsess__timer *t)
{
    l->heap[i] = t;
    t->heap_idx = i;
}

static void sift_up(sipsess__loop *l, size_t i)
{
    sipsess__timer *t = l->heap[i];
    while (i > 0) {
        size_t parent = (i - 1) / 2;
        if (!timer_before(t, l->heap[parent]))
            break;
        heap_set(l, i, l->heap[parent]);
        i = parent;
    }
    heap_set(l, i, t);
}

static void sift_down(sipsess__loop *l, size_t i)
{
    sipsess__timer *t = l->heap[i];
    size_t n = l->heap_len;
    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= n)
            break;
        if (c + 1 < n && timer_before(l->heap[c + 1], l->heap[c]))
            c++;
        if (!timer_before(l->heap[c], t))
            break;
        heap_set(l, i, l->heap[c]);
        i = c;
    }
    heap_set(l, i, t);
}

/* Remove the element at `i` (which must be valid). */
static void heap_remove(sipsess__loop *l, size_t i)
{
    sipsess__timer *t = l->heap[i];
    size_t last = --l->heap_len;
    t->heap_idx = TIMER_IDLE;
    if (i == last)
        return;
    sipsess__timer *moved = l->heap[last];
    heap_set(l, i, moved);
    if (i > 0 && timer_before(moved, l->heap[(i - 1) / 2]))
        sift_up(l, i);
    else
        sift_down(l, i);
}

/* True when `t` is armed on `l` (guards against foreign or stale timers). */
static inline bool in_heap(const sipsess__loop *l, const sipsess__timer *t)
{
    return t->heap_idx < l->heap_len && l->heap[t->heap_idx] == t;
}

void sipsess__timer_init(sipsess__timer *t, sipsess__timer_cb cb, void *arg)
{
    if (!t)
        return;
    t->due = 0;
    t->seq = 0;
    t->heap_idx = TIMER_IDLE;
    t->cb = cb;
    t->arg = arg;
}

int sipsess__timer_start(sipsess__loop *l, sipsess__timer *t, uint64_t delay_ms)
{
    if (!l || !t || !t->cb)
        return SIPSESS_EINVAL;
    uint64_t due = add_sat(sipsess__loop_now(l), delay_ms);
    if (in_heap(l, t)) {
        /* Re-arm in place: a later due or seq can only move it down, an
         * earlier due up. */
        size_t i = t->heap_idx;
        t->due = due;
        t->seq = ++l->seq;
        if (i > 0 && timer_before(t, l->heap[(i - 1) / 2]))
            sift_up(l, i);
        else
            sift_down(l, i);
        return SIPSESS_OK;
    }
    if (l->heap_len == l->heap_cap) {
        size_t cap = l->heap_cap ? l->heap_cap * 2 : 64;
        if (cap > SIZE_MAX / sizeof(*l->heap))
            return SIPSESS_ENOMEM;
        sipsess__timer **h = sipsess__realloc(l->heap, cap * sizeof(*h));
        if (!h)
            return SIPSESS_ENOMEM;
        l->heap = h;
        l->heap_cap = cap;
    }
    t->due = due;
    t->seq = ++l->seq;
    size_t i = l->heap_len++;
    heap_set(l, i, t);
    sift_up(l, i);
    return SIPSESS_OK;
}

void sipsess__timer_stop(sipsess__loop *l, sipsess__timer *t)
{
    if (!l || !t || !in_heap(l, t))
        return;
    heap_remove(l, t->heap_idx);
}

bool sipsess__timer_armed(const sipsess__timer *t)
{
    return t && t->heap_idx != TIMER_IDLE;
}

int64_t sipsess__timer_remaining(const sipsess__loop *l, const sipsess__timer *t)
{
    if (!l || !t || !in_heap(l, t))
        return -1;
    uint64_t now = sipsess__loop_now(l);
    if (t->due <= now)
        return 0;
    uint64_t rem = t->due - now;
    return rem > (uint64_t)INT64_MAX ? INT64_MAX : (int64_t)rem;
}

/* Fire every timer due at `now` that was started before this pass began.
 * Returns how many fired. */
static int run_timers(sipsess__loop *l, uint64_t now)
{
    uint64_t seq_limit = l->seq;
    int n = 0;
    while (l->heap_len > 0) {
        sipsess__timer *t = l->heap[0];
        if (t->due > now || t->seq > seq_limit)
            break;
        heap_remove(l, 0);
        n++;
        t->cb(t, t->arg); /* `t` may be freed or re-armed from here on */
    }
    return n;
}

/* ------------------------------------------------------------------ fds */

static uint32_t to_epoll(unsigned events)
{
    uint32_t e = 0;
    if (events & SIPSESS__IO_READ)
        e |= EPOLLIN;
    if (events & SIPSESS__IO_WRITE)
        e |= EPOLLOUT;
    return e;
}

static int grow_watchers(sipsess__loop *l, size_t need)
{
    size_t cap = l->w_cap ? l->w_cap : 64;
    while (cap < need) {
        if (cap > SIZE_MAX / 2 / sizeof(*l->w))
            return SIPSESS_ENOMEM;
        cap *= 2;
    }
    struct watcher *w = sipsess__realloc(l->w, cap * sizeof(*w));
    if (!w)
        return SIPSESS_ENOMEM;
    memset(w + l->w_cap, 0, (cap - l->w_cap) * sizeof(*w));
    l->w = w;
    l->w_cap = cap;
    return SIPSESS_OK;
}

int sipsess__loop_watch(sipsess__loop *l, int fd, unsigned events, sipsess__io_cb cb, void *arg)
{
    if (!l || fd < 0 || !cb || fd == l->epfd || fd == l->wakefd)
        return SIPSESS_EINVAL;
    if (events & ~(unsigned)(SIPSESS__IO_READ | SIPSESS__IO_WRITE | SIPSESS__IO_ERROR))
        return SIPSESS_EINVAL;
    if ((size_t)fd >= l->w_cap) {
        int rc = grow_watchers(l, (size_t)fd + 1);
        if (rc)
            return rc;
    }
    struct watcher *w = &l->w[fd];
    bool active = w->gen != 0;
    uint32_t gen = w->gen;
    if (!active) {
        if (++l->gen == 0)
            l->gen = 1;
        gen = l->gen;
    }

    struct epoll_event ev;
    memset(&ev, 0, sizeof(ev));
    ev.events = to_epoll(events);
    ev.data.u64 = (uint64_t)gen << 32 | (uint32_t)fd;
    int op = active ? EPOLL_CTL_MOD : EPOLL_CTL_ADD;
    if (epoll_ctl(l->epfd, op, fd, &ev) != 0) {
        /* The table and the kernel disagree when an owner closed an fd
         * without unwatching it (the kernel dropped it) and the number
         * came back: retry with the other operation. */
        int e = errno;
        if (op == EPOLL_CTL_MOD && e == ENOENT)
            op = EPOLL_CTL_ADD;
        else if (op == EPOLL_CTL_ADD && e == EEXIST)
            op = EPOLL_CTL_MOD;
        else
            return errno_to_err(e);
        if (epoll_ctl(l->epfd, op, fd, &ev) != 0)
            return errno_to_err(errno);
    }
    if (!active)
        l->w_active++;
    w->cb = cb;
    w->arg = arg;
    w->gen = gen;
    w->events = events & (SIPSESS__IO_READ | SIPSESS__IO_WRITE);
    return SIPSESS_OK;
}

void sipsess__loop_unwatch(sipsess__loop *l, int fd)
{
    if (!l || fd < 0 || (size_t)fd >= l->w_cap || l->w[fd].gen == 0)
        return;
    /* Fails with EBADF when the owner already closed the fd; the kernel
     * has then dropped it already (unless it was dup'ed). */
    (void)epoll_ctl(l->epfd, EPOLL_CTL_DEL, fd, NULL);
    memset(&l->w[fd], 0, sizeof(l->w[fd]));
    l->w_active--;
}

int sipsess__loop_fd(const sipsess__loop *l)
{
    return l ? l->epfd : -1;
}

static void drain_wake(sipsess__loop *l)
{
    uint64_t v;
    while (read(l->wakefd, &v, sizeof(v)) < 0 && errno == EINTR) {
    }
}

/* One epoll_wait and the dispatch of its batch. Returns the number of
 * callbacks run, or an error. */
static int run_io(sipsess__loop *l, int timeout_ms)
{
    struct epoll_event evs[LOOP_MAX_EVENTS];
    int k = epoll_wait(l->epfd, evs, LOOP_MAX_EVENTS, timeout_ms);
    if (k < 0)
        return errno == EINTR ? 0 : errno_to_err(errno);
    int n = 0;
    for (int i = 0; i < k; i++) {
        uint64_t data = evs[i].data.u64;
        if (data == WAKE_TOKEN) {
            drain_wake(l);
            continue;
        }
        int fd = (int)(uint32_t)data;
        uint32_t gen = (uint32_t)(data >> 32);
        /* Re-read the table each time: callbacks may unwatch, re-watch or
         * grow it (realloc). */
        if ((size_t)fd >= l->w_cap || l->w[fd].gen != gen)
            continue;
        struct watcher *w = &l->w[fd];
        uint32_t e = evs[i].events;
        unsigned ev = 0;
        if (e & EPOLLIN)
            ev |= SIPSESS__IO_READ;
        if (e & EPOLLOUT)
            ev |= SIPSESS__IO_WRITE;
        if (e & (EPOLLERR | EPOLLHUP))
            /* Also report what is watched, so the owner's read or write
             * returns the error or EOF. */
            ev |= SIPSESS__IO_ERROR | w->events;
        ev &= w->events | SIPSESS__IO_ERROR;
        if (!ev)
            continue;
        n++;
        w->cb(fd, ev, w->arg); /* `w` may be stale after this */
    }
    return n;
}

/* ----------------------------------------------------------- wake, post */

int sipsess__loop_wake(sipsess__loop *l)
{
    if (!l)
        return SIPSESS_EINVAL;
    uint64_t one = 1;
    for (;;) {
        if (write(l->wakefd, &one, sizeof(one)) == (ssize_t)sizeof(one))
            return SIPSESS_OK;
        if (errno == EINTR)
            continue;
        /* EAGAIN: the counter is saturated, so a wake is pending anyway. */
        return errno == EAGAIN ? SIPSESS_OK : SIPSESS_EINVAL;
    }
}

static bool post_pending(const sipsess__loop *l)
{
    return __atomic_load_n(&l->post_pending, __ATOMIC_ACQUIRE) != 0;
}

int sipsess__loop_post(sipsess__loop *l, void (*fn)(void *arg), void *arg)
{
    if (!l || !fn)
        return SIPSESS_EINVAL;
    struct post_item *p = sipsess__malloc(sizeof(*p));
    if (!p)
        return SIPSESS_ENOMEM;
    p->next = NULL;
    p->fn = fn;
    p->arg = arg;
    pthread_mutex_lock(&l->post_mu);
    bool was_empty = l->post_head == NULL;
    if (was_empty)
        l->post_head = p;
    else
        l->post_tail->next = p;
    l->post_tail = p;
    __atomic_store_n(&l->post_pending, 1, __ATOMIC_RELEASE);
    pthread_mutex_unlock(&l->post_mu);
    /* A non-empty queue already has a wake on its way: the item that made
     * it non-empty woke the loop, and the loop reads the eventfd before it
     * takes the queue. The item is queued whatever the wake returns, so
     * a (never expected) wake failure is not reported as a post failure. */
    if (was_empty)
        (void)sipsess__loop_wake(l);
    return SIPSESS_OK;
}

/* Run what was queued when called; work posted meanwhile waits for the
 * next call (next_timeout reports 0 for it). */
static int run_posted(sipsess__loop *l)
{
    if (!post_pending(l))
        return 0;
    pthread_mutex_lock(&l->post_mu);
    struct post_item *p = l->post_head;
    l->post_head = l->post_tail = NULL;
    __atomic_store_n(&l->post_pending, 0, __ATOMIC_RELEASE);
    pthread_mutex_unlock(&l->post_mu);
    int n = 0;
    while (p) {
        struct post_item *next = p->next;
        void (*fn)(void *) = p->fn;
        void *arg = p->arg;
        sipsess__free(p);
        fn(arg);
        n++;
        p = next;
    }
    return n;
}

/* -------------------------------------------------------------- driving */

int sipsess__loop_next_timeout(const sipsess__loop *l)
{
    if (!l)
        return -1;
    if (post_pending(l))
        return 0;
    if (l->heap_len == 0)
        return -1;
    uint64_t due = l->heap[0]->due;
    if (l->virtual_clock)
        return due <= l->vnow ? 0 : -1;
    uint64_t now = mono_ms();
    if (due <= now)
        return 0;
    uint64_t rem = due - now;
    return rem > (uint64_t)INT_MAX ? INT_MAX : (int)rem;
}

int sipsess__loop_process(sipsess__loop *l, int timeout_ms)
{
    if (!l)
        return SIPSESS_EINVAL;
    if (timeout_ms < 0)
        timeout_ms = -1;
    int next = sipsess__loop_next_timeout(l);
    if (next >= 0 && (timeout_ms < 0 || next < timeout_ms))
        timeout_ms = next;
    int n = run_io(l, timeout_ms);
    if (n < 0)
        return n;
    n += run_posted(l);
    n += run_timers(l, sipsess__loop_now(l));
    return n;
}

int sipsess__loop_advance(sipsess__loop *l, uint64_t ms)
{
    if (!l)
        return SIPSESS_EINVAL;
    if (!l->virtual_clock)
        return SIPSESS_ESTATE;
    uint64_t target = add_sat(l->vnow, ms);
    int n = 0;
    for (;;) {
        /* I/O and posted work at the current instant, before time moves
         * on: a packet sent by a timer callback is received "at once".
         * Without watched fds the poll is skipped (only a wake could be
         * pending; process() consumes it): timer-only tests stay fast. */
        if (l->w_active > 0) {
            int r = run_io(l, 0);
            if (r < 0)
                return r;
            n += r;
        }
        n += run_posted(l);
        if (l->heap_len == 0 || l->heap[0]->due > target)
            break;
        if (l->heap[0]->due > l->vnow)
            l->vnow = l->heap[0]->due;
        n += run_timers(l, l->vnow);
    }
    l->vnow = target;
    return n;
}
