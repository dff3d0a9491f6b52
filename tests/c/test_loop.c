/*
 * Runtime: the event loop (virtual and monotonic clock, timer heap, fd
 * watching, wake and post across threads) and the random helpers.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "sipsess/common.h"
#include "runtime/loop.h"

/* ---- helpers ---- */

static sipsess__loop *new_loop(bool virtual_clock)
{
    sipsess__loop *l = NULL;
    int rc = sipsess__loop_new(virtual_clock, &l);
    cr_assert_eq(rc, 0, "loop_new: %s", sipsess_errname(rc));
    cr_assert_not_null(l);
    return l;
}

static uint64_t wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static double wall_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* A timer that records when it fired into a shared log. */
#define LOG_MAX 64
struct fire {
    int id;
    uint64_t at;
};
static struct fire g_log[LOG_MAX];
static int g_nlog;

struct ttimer {
    sipsess__timer t;
    sipsess__loop *l;
    int id;
    int fired;
    /* optional actions taken by the callback */
    sipsess__timer *stop_other;
    struct ttimer *start_other;
    uint64_t start_other_delay;
    int rearm_times; /* re-arm self this many more times */
    uint64_t rearm_delay;
};

static void ttimer_cb(sipsess__timer *t, void *arg)
{
    struct ttimer *tt = arg;
    cr_assert_eq(t, &tt->t);
    cr_assert(!sipsess__timer_armed(t), "a firing timer is disarmed first");
    cr_assert_eq(sipsess__timer_remaining(tt->l, t), -1);
    tt->fired++;
    if (g_nlog < LOG_MAX)
        g_log[g_nlog++] = (struct fire){tt->id, sipsess__loop_now(tt->l)};
    if (tt->stop_other)
        sipsess__timer_stop(tt->l, tt->stop_other);
    if (tt->start_other)
        cr_assert_eq(sipsess__timer_start(tt->l, &tt->start_other->t, tt->start_other_delay), 0);
    if (tt->rearm_times > 0) {
        tt->rearm_times--;
        cr_assert_eq(sipsess__timer_start(tt->l, t, tt->rearm_delay), 0);
    }
}

static void ttimer_init(struct ttimer *tt, sipsess__loop *l, int id)
{
    memset(tt, 0, sizeof(*tt));
    tt->l = l;
    tt->id = id;
    sipsess__timer_init(&tt->t, ttimer_cb, tt);
}

static void start(sipsess__loop *l, struct ttimer *tt, uint64_t delay)
{
    int rc = sipsess__timer_start(l, &tt->t, delay);
    cr_assert_eq(rc, 0, "timer_start: %s", sipsess_errname(rc));
}

static void expect_log(const struct fire *want, int n)
{
    cr_assert_eq(g_nlog, n, "fired %d timers, expected %d", g_nlog, n);
    for (int i = 0; i < n; i++) {
        cr_assert_eq(g_log[i].id, want[i].id, "fire #%d: timer %d, expected %d", i, g_log[i].id,
                     want[i].id);
        cr_assert_eq(g_log[i].at, want[i].at, "fire #%d (timer %d) at %llu, expected %llu", i,
                     g_log[i].id, (unsigned long long)g_log[i].at,
                     (unsigned long long)want[i].at);
    }
}

/* ------------------------------------------------------------------ */
/* virtual clock timers                                               */

Test(loop_vtimer, starts_at_zero_and_moves_only_in_advance)
{
    sipsess__loop *l = new_loop(true);
    cr_assert(sipsess__loop_is_virtual(l));
    cr_assert_eq(sipsess__loop_now(l), 0);
    cr_assert_eq(sipsess__loop_process(l, 0), 0);
    cr_assert_eq(sipsess__loop_now(l), 0);
    cr_assert_eq(sipsess__loop_advance(l, 1234), 0);
    cr_assert_eq(sipsess__loop_now(l), 1234);
    cr_assert_eq(sipsess__loop_advance(l, 0), 0);
    cr_assert_eq(sipsess__loop_now(l), 1234);
    sipsess__loop_free(l);
}

Test(loop_vtimer, fire_in_due_order_each_at_its_time)
{
    sipsess__loop *l = new_loop(true);
    struct ttimer a, b, c, d;
    ttimer_init(&a, l, 1);
    ttimer_init(&b, l, 2);
    ttimer_init(&c, l, 3);
    ttimer_init(&d, l, 4);
    start(l, &a, 30);
    start(l, &b, 10);
    start(l, &c, 20);
    start(l, &d, 500);
    cr_assert(sipsess__timer_armed(&a.t));
    cr_assert_eq(sipsess__timer_remaining(l, &a.t), 30);
    cr_assert_eq(sipsess__timer_remaining(l, &b.t), 10);

    cr_assert_eq(sipsess__loop_advance(l, 9), 0);
    cr_assert_eq(g_nlog, 0);
    cr_assert_eq(sipsess__timer_remaining(l, &b.t), 1);
    cr_assert_eq(sipsess__loop_advance(l, 91), 3);
    cr_assert_eq(sipsess__loop_now(l), 100);
    const struct fire want[] = {{2, 10}, {3, 20}, {1, 30}};
    expect_log(want, 3);
    cr_assert(!sipsess__timer_armed(&a.t));
    cr_assert(sipsess__timer_armed(&d.t));
    cr_assert_eq(sipsess__timer_remaining(l, &d.t), 400);
    /* The end of the window is inclusive. */
    cr_assert_eq(sipsess__loop_advance(l, 400), 1);
    cr_assert_eq(d.fired, 1);
    cr_assert_eq(g_log[3].at, 500);
    sipsess__loop_free(l);
}

Test(loop_vtimer, equal_due_times_fire_in_start_order)
{
    sipsess__loop *l = new_loop(true);
    struct ttimer t[6];
    for (int i = 0; i < 6; i++)
        ttimer_init(&t[i], l, i);
    /* All due at 100, started in the order 3 0 5 1 4 2 ... */
    start(l, &t[3], 100);
    start(l, &t[0], 100);
    start(l, &t[5], 100);
    start(l, &t[1], 100);
    cr_assert_eq(sipsess__loop_advance(l, 40), 0);
    start(l, &t[4], 60);
    start(l, &t[2], 60);
    /* ... then 0 is re-armed to the same due time: it moves to the end. */
    start(l, &t[0], 60);
    cr_assert_eq(sipsess__loop_advance(l, 100), 6);
    const struct fire want[] = {{3, 100}, {5, 100}, {1, 100}, {4, 100}, {2, 100}, {0, 100}};
    expect_log(want, 6);
    sipsess__loop_free(l);
}

Test(loop_vtimer, rearm_earlier_and_later)
{
    sipsess__loop *l = new_loop(true);
    struct ttimer a, b, c;
    ttimer_init(&a, l, 1);
    ttimer_init(&b, l, 2);
    ttimer_init(&c, l, 3);
    start(l, &a, 100);
    start(l, &b, 200);
    start(l, &c, 300);
    start(l, &c, 50);  /* earlier: sifts up */
    start(l, &a, 250); /* later: sifts down */
    start(l, &a, 250); /* re-arm with the same delay: no duplicate */
    cr_assert_eq(sipsess__timer_remaining(l, &c.t), 50);
    cr_assert_eq(sipsess__timer_remaining(l, &a.t), 250);
    cr_assert_eq(sipsess__loop_advance(l, 1000), 3);
    const struct fire want[] = {{3, 50}, {2, 200}, {1, 250}};
    expect_log(want, 3);
    cr_assert_eq(a.fired + b.fired + c.fired, 3);
    sipsess__loop_free(l);
}

Test(loop_vtimer, stop)
{
    sipsess__loop *l = new_loop(true);
    struct ttimer a, b, c;
    ttimer_init(&a, l, 1);
    ttimer_init(&b, l, 2);
    ttimer_init(&c, l, 3);
    sipsess__timer_stop(l, &a.t); /* never armed: no-op */
    start(l, &a, 10);
    start(l, &b, 20);
    start(l, &c, 30);
    sipsess__timer_stop(l, &b.t);
    sipsess__timer_stop(l, &b.t); /* twice: no-op */
    cr_assert(!sipsess__timer_armed(&b.t));
    cr_assert_eq(sipsess__timer_remaining(l, &b.t), -1);
    cr_assert_eq(sipsess__loop_advance(l, 100), 2);
    const struct fire want[] = {{1, 10}, {3, 30}};
    expect_log(want, 2);
    /* A stopped timer can be started again. */
    start(l, &b, 5);
    cr_assert_eq(sipsess__loop_advance(l, 5), 1);
    cr_assert_eq(b.fired, 1);
    sipsess__loop_free(l);
}

Test(loop_vtimer, stop_other_timers_inside_callback)
{
    sipsess__loop *l = new_loop(true);
    struct ttimer a, b, c, d;
    ttimer_init(&a, l, 1);
    ttimer_init(&b, l, 2);
    ttimer_init(&c, l, 3);
    ttimer_init(&d, l, 4);
    /* a stops b, due at the same instant (already in the batch of due
     * timers) ; c stops d, due later. */
    a.stop_other = &b.t;
    c.stop_other = &d.t;
    start(l, &a, 10);
    start(l, &b, 10);
    start(l, &c, 20);
    start(l, &d, 30);
    cr_assert_eq(sipsess__loop_advance(l, 100), 2);
    const struct fire want[] = {{1, 10}, {3, 20}};
    expect_log(want, 2);
    cr_assert_eq(b.fired, 0);
    cr_assert_eq(d.fired, 0);
    sipsess__loop_free(l);
}

/* A callback that stops itself (not armed: no-op) and then frees the
 * memory the timer lives in: the loop must not touch it afterwards. */
static void self_free_cb(sipsess__timer *t, void *arg)
{
    sipsess__loop *l = arg;
    sipsess__timer_stop(l, t);
    free(t);
    g_nlog++;
}

Test(loop_vtimer, callback_stops_and_frees_itself)
{
    sipsess__loop *l = new_loop(true);
    for (int i = 0; i < 8; i++) {
        sipsess__timer *t = malloc(sizeof(*t));
        cr_assert_not_null(t);
        sipsess__timer_init(t, self_free_cb, l);
        cr_assert_eq(sipsess__timer_start(l, t, (uint64_t)(i % 3)), 0);
    }
    cr_assert_eq(sipsess__loop_advance(l, 2), 8);
    cr_assert_eq(g_nlog, 8);
    sipsess__loop_free(l);
}

Test(loop_vtimer, periodic_rearm_from_callback)
{
    sipsess__loop *l = new_loop(true);
    struct ttimer a;
    ttimer_init(&a, l, 1);
    a.rearm_times = 4;
    a.rearm_delay = 25;
    start(l, &a, 100);
    cr_assert_eq(sipsess__loop_advance(l, 170), 3);
    const struct fire want[] = {{1, 100}, {1, 125}, {1, 150}, {1, 175}, {1, 200}};
    expect_log(want, 3);
    cr_assert_eq(sipsess__loop_advance(l, 1000), 2);
    expect_log(want, 5);
    cr_assert(!sipsess__timer_armed(&a.t));
    sipsess__loop_free(l);
}

Test(loop_vtimer, timers_started_by_callbacks_fire_within_the_window)
{
    sipsess__loop *l = new_loop(true);
    struct ttimer a, b, c, d, e;
    ttimer_init(&a, l, 1);
    ttimer_init(&b, l, 2);
    ttimer_init(&c, l, 3);
    ttimer_init(&d, l, 4);
    ttimer_init(&e, l, 5);
    /* a@10 starts b+5 (15, before c@20); b starts d+0 (15, same instant);
     * c@20 starts e+50 (70, outside this window). */
    a.start_other = &b;
    a.start_other_delay = 5;
    b.start_other = &d;
    b.start_other_delay = 0;
    c.start_other = &e;
    c.start_other_delay = 50;
    start(l, &a, 10);
    start(l, &c, 20);
    cr_assert_eq(sipsess__loop_advance(l, 30), 4);
    const struct fire want[] = {{1, 10}, {2, 15}, {4, 15}, {3, 20}, {5, 70}};
    expect_log(want, 4);
    cr_assert_eq(sipsess__loop_now(l), 30);
    cr_assert_eq(sipsess__timer_remaining(l, &e.t), 40);
    cr_assert_eq(sipsess__loop_advance(l, 40), 1);
    expect_log(want, 5);
    sipsess__loop_free(l);
}

Test(loop_vtimer, zero_delay_timer_fires_in_process)
{
    sipsess__loop *l = new_loop(true);
    struct ttimer a, b;
    ttimer_init(&a, l, 1);
    ttimer_init(&b, l, 2);
    cr_assert_eq(sipsess__loop_advance(l, 7), 0);
    start(l, &a, 0);
    start(l, &b, 1);
    cr_assert_eq(sipsess__loop_next_timeout(l), 0);
    /* process() fires what is due now and never waits for virtual time. */
    cr_assert_eq(sipsess__loop_process(l, 0), 1);
    cr_assert_eq(a.fired, 1);
    cr_assert_eq(b.fired, 0);
    cr_assert_eq(sipsess__loop_process(l, 0), 0);
    cr_assert_eq(sipsess__loop_now(l), 7);
    sipsess__loop_free(l);
}

Test(loop_vtimer, delay_saturates_instead_of_wrapping)
{
    sipsess__loop *l = new_loop(true);
    struct ttimer a, b;
    ttimer_init(&a, l, 1);
    ttimer_init(&b, l, 2);
    cr_assert_eq(sipsess__loop_advance(l, 10), 0);
    start(l, &a, UINT64_MAX);
    start(l, &b, 5);
    cr_assert_eq(sipsess__loop_advance(l, 100), 1);
    cr_assert_eq(b.fired, 1);
    cr_assert_eq(a.fired, 0);
    cr_assert(sipsess__timer_remaining(l, &a.t) > 0);
    sipsess__loop_free(l);
}

/* 100k timers at random due times, a third of them re-armed and a fifth
 * stopped, fired by a few advances: every fire must come in (due, start)
 * order at its own due time, and exactly the armed ones fire. */
#define MANY 100000
struct mtimer {
    sipsess__timer t;
    uint64_t due;
    uint64_t order; /* start order among equal dues */
    bool stopped;
    int fired;
};
static struct mtimer *g_many;
static uint64_t g_last_due, g_last_order, g_nfired;
static sipsess__loop *g_many_loop;

static void many_cb(sipsess__timer *t, void *arg)
{
    struct mtimer *m = arg;
    (void)t;
    cr_assert(!m->stopped, "a stopped timer fired");
    cr_assert_eq(sipsess__loop_now(g_many_loop), m->due, "fired at %llu, due %llu",
                 (unsigned long long)sipsess__loop_now(g_many_loop),
                 (unsigned long long)m->due);
    cr_assert(m->due > g_last_due || (m->due == g_last_due && m->order > g_last_order),
              "out of order: due %llu/%llu after %llu/%llu", (unsigned long long)m->due,
              (unsigned long long)m->order, (unsigned long long)g_last_due,
              (unsigned long long)g_last_order);
    g_last_due = m->due;
    g_last_order = m->order;
    m->fired++;
    g_nfired++;
}

Test(loop_vtimer, heap_100k_random_timers_fire_in_order, .timeout = 60)
{
    sipsess__loop *l = new_loop(true);
    g_many_loop = l;
    g_many = calloc(MANY, sizeof(*g_many));
    cr_assert_not_null(g_many);
    srand(12345);
    uint64_t order = 0;
    double t0 = wall_s();
    for (int i = 0; i < MANY; i++) {
        struct mtimer *m = &g_many[i];
        sipsess__timer_init(&m->t, many_cb, m);
        uint64_t delay = (uint64_t)(rand() % 100000); /* many equal dues */
        cr_assert_eq(sipsess__timer_start(l, &m->t, delay), 0);
        m->due = delay;
        m->order = ++order;
    }
    for (int i = 0; i < MANY; i += 3) {
        struct mtimer *m = &g_many[rand() % MANY];
        uint64_t delay = (uint64_t)(rand() % 100000);
        cr_assert_eq(sipsess__timer_start(l, &m->t, delay), 0);
        m->due = delay;
        m->order = ++order;
        m->stopped = false;
    }
    size_t expect = MANY;
    for (int i = 0; i < MANY; i += 5) {
        struct mtimer *m = &g_many[rand() % MANY];
        if (!m->stopped)
            expect--;
        sipsess__timer_stop(l, &m->t);
        m->stopped = true;
    }
    double t1 = wall_s();
    uint64_t fired = 0;
    for (int step = 0; step < 4; step++) {
        int n = sipsess__loop_advance(l, 25000);
        cr_assert_geq(n, 0);
        fired += (uint64_t)n;
    }
    double t2 = wall_s();
    cr_assert_eq(fired, expect);
    cr_assert_eq(g_nfired, expect);
    for (int i = 0; i < MANY; i++)
        cr_assert_eq(g_many[i].fired, g_many[i].stopped ? 0 : 1);
    cr_assert_eq(sipsess__loop_next_timeout(l), -1);
    cr_log_info("loop: 100k timers: %.0f ns per start/re-arm/stop, %.0f ns per fire (advance)",
                (t1 - t0) * 1e9 / (MANY + MANY / 3 + MANY / 5), (t2 - t1) * 1e9 / (double)expect);
    free(g_many);
    sipsess__loop_free(l);
}

/* ------------------------------------------------------------------ */
/* real clock                                                         */

Test(loop_clock, monotonic_now)
{
    sipsess__loop *l = new_loop(false);
    cr_assert(!sipsess__loop_is_virtual(l));
    uint64_t a = sipsess__loop_now(l);
    uint64_t w = wall_ms();
    /* Same clock, read in this order: w is not behind a, and only a slow
     * machine (valgrind, load) puts much time between the two reads. */
    cr_assert(a <= w + 1 && w - a < 1000, "loop now %llu, CLOCK_MONOTONIC %llu",
              (unsigned long long)a, (unsigned long long)w);
    usleep(20000);
    uint64_t b = sipsess__loop_now(l);
    cr_assert_geq(b - a, 19);
    sipsess__loop_free(l);
}

Test(loop_clock, timer_20ms_fires_in_process)
{
    sipsess__loop *l = new_loop(false);
    struct ttimer a;
    ttimer_init(&a, l, 1);
    uint64_t t0 = sipsess__loop_now(l);
    start(l, &a, 20);
    int nt = sipsess__loop_next_timeout(l);
    cr_assert(nt >= 0 && nt <= 20, "next_timeout %d", nt);
    int calls = 0;
    while (!a.fired && calls < 50) {
        int n = sipsess__loop_process(l, -1); /* sleeps until the timer */
        cr_assert_geq(n, 0);
        calls++;
    }
    uint64_t el = sipsess__loop_now(l) - t0;
    cr_assert_eq(a.fired, 1);
    cr_assert_geq(el, 20);
    cr_assert_leq(el, 250, "20 ms timer fired after %llu ms", (unsigned long long)el);
    cr_assert_leq(calls, 3, "%d process() calls for one timer", calls);
    cr_assert_geq(g_log[0].at - t0, 20);
    cr_log_info("loop: 20 ms timer fired after %llu ms in %d process() call(s)",
                (unsigned long long)el, calls);
    cr_assert_eq(sipsess__loop_next_timeout(l), -1);
    sipsess__loop_free(l);
}

Test(loop_clock, process_timeout_without_events)
{
    sipsess__loop *l = new_loop(false);
    uint64_t t0 = wall_ms();
    cr_assert_eq(sipsess__loop_process(l, 30), 0);
    uint64_t el = wall_ms() - t0;
    cr_assert(el >= 29 && el < 500, "process(30) took %llu ms", (unsigned long long)el);
    t0 = wall_ms();
    cr_assert_eq(sipsess__loop_process(l, 0), 0);
    cr_assert_lt(wall_ms() - t0, 50);
    sipsess__loop_free(l);
}

Test(loop_clock, a_timer_shortens_the_wait)
{
    sipsess__loop *l = new_loop(false);
    struct ttimer a;
    ttimer_init(&a, l, 1);
    start(l, &a, 10);
    uint64_t t0 = wall_ms();
    int n = 0;
    while (!a.fired && wall_ms() - t0 < 2000)
        n += sipsess__loop_process(l, 5000);
    cr_assert_eq(n, 1);
    cr_assert_lt(wall_ms() - t0, 1000);
    sipsess__loop_free(l);
}

Test(loop_clock, zero_delay_rearm_does_not_spin_in_one_process)
{
    sipsess__loop *l = new_loop(false);
    struct ttimer a;
    ttimer_init(&a, l, 1);
    a.rearm_times = 1000000;
    a.rearm_delay = 0;
    start(l, &a, 0);
    cr_assert_eq(sipsess__loop_process(l, 0), 1);
    cr_assert_eq(sipsess__loop_process(l, 0), 1);
    cr_assert_eq(a.fired, 2);
    cr_assert_eq(sipsess__loop_next_timeout(l), 0);
    sipsess__timer_stop(l, &a.t);
    sipsess__loop_free(l);
}

Test(loop_clock, next_timeout_real)
{
    sipsess__loop *l = new_loop(false);
    cr_assert_eq(sipsess__loop_next_timeout(l), -1);
    struct ttimer a, b;
    ttimer_init(&a, l, 1);
    ttimer_init(&b, l, 2);
    start(l, &a, 1000);
    int nt = sipsess__loop_next_timeout(l);
    cr_assert(nt > 900 && nt <= 1000, "next_timeout %d", nt);
    int64_t rem = sipsess__timer_remaining(l, &a.t);
    cr_assert(rem > 900 && rem <= 1000, "remaining %lld", (long long)rem);
    start(l, &b, 0);
    cr_assert_eq(sipsess__loop_next_timeout(l), 0);
    sipsess__timer_stop(l, &b.t);
    start(l, &b, UINT64_MAX); /* beyond INT_MAX ms: clamped */
    sipsess__timer_stop(l, &a.t);
    cr_assert_eq(sipsess__loop_next_timeout(l), 2147483647);
    sipsess__loop_free(l);
}

Test(loop_clock, advance_on_real_clock_is_estate)
{
    sipsess__loop *l = new_loop(false);
    cr_assert_eq(sipsess__loop_advance(l, 10), SIPSESS_ESTATE);
    cr_assert_eq(sipsess__loop_advance(l, 0), SIPSESS_ESTATE);
    sipsess__loop_free(l);
}

Test(loop_vtimer, next_timeout_virtual)
{
    sipsess__loop *l = new_loop(true);
    cr_assert_eq(sipsess__loop_next_timeout(l), -1);
    struct ttimer a;
    ttimer_init(&a, l, 1);
    start(l, &a, 50);
    /* Virtual time does not pass by itself: nothing to wait for. */
    cr_assert_eq(sipsess__loop_next_timeout(l), -1);
    cr_assert_eq(sipsess__timer_remaining(l, &a.t), 50);
    start(l, &a, 0);
    cr_assert_eq(sipsess__loop_next_timeout(l), 0);
    cr_assert_eq(sipsess__timer_remaining(l, &a.t), 0);
    cr_assert_eq(sipsess__loop_process(l, -1), 1); /* due: does not block */
    cr_assert_eq(sipsess__loop_next_timeout(l), -1);
    sipsess__loop_free(l);
}

/* ------------------------------------------------------------------ */
/* fd watching                                                        */

struct io_rec {
    sipsess__loop *l;
    int calls;
    int fd;
    unsigned events;
    /* actions */
    bool unwatch_self;
    int unwatch_fd;         /* -1: none */
    int *reuse_fd;          /* unwatch+close *reuse_fd, then watch a new pipe on it */
    struct io_rec *reuse_rec;
    int reuse_pipe[2];
};

static void io_cb(int fd, unsigned events, void *arg)
{
    struct io_rec *r = arg;
    r->calls++;
    r->fd = fd;
    r->events = events;
    if (r->unwatch_self)
        sipsess__loop_unwatch(r->l, fd);
    if (r->unwatch_fd >= 0)
        sipsess__loop_unwatch(r->l, r->unwatch_fd);
    if (r->reuse_fd) {
        int old = *r->reuse_fd;
        sipsess__loop_unwatch(r->l, old);
        close(old);
        /* A fresh, empty pipe whose read end gets the number `old`. */
        cr_assert_eq(pipe(r->reuse_pipe), 0);
        if (r->reuse_pipe[0] != old) {
            cr_assert_eq(dup2(r->reuse_pipe[0], old), old);
            close(r->reuse_pipe[0]);
            r->reuse_pipe[0] = old;
        }
        int rc = sipsess__loop_watch(r->l, r->reuse_pipe[0], SIPSESS__IO_READ, io_cb,
                                     r->reuse_rec);
        cr_assert_eq(rc, 0, "watch fd %d: %s", r->reuse_pipe[0], sipsess_errname(rc));
        r->reuse_fd = NULL;
    }
}

static void io_rec_init(struct io_rec *r, sipsess__loop *l)
{
    memset(r, 0, sizeof(*r));
    r->l = l;
    r->fd = -1;
    r->unwatch_fd = -1;
}

Test(loop_io, pipe_read_readiness_level_triggered)
{
    sipsess__loop *l = new_loop(false);
    int p[2];
    cr_assert_eq(pipe(p), 0);
    struct io_rec r;
    io_rec_init(&r, l);
    cr_assert_eq(sipsess__loop_watch(l, p[0], SIPSESS__IO_READ, io_cb, &r), 0);
    cr_assert_eq(sipsess__loop_process(l, 0), 0);
    cr_assert_eq(r.calls, 0);
    cr_assert_eq(write(p[1], "x", 1), 1);
    cr_assert_eq(sipsess__loop_process(l, 0), 1);
    cr_assert_eq(r.calls, 1);
    cr_assert_eq(r.fd, p[0]);
    cr_assert_eq(r.events, SIPSESS__IO_READ);
    /* Level-triggered: not read yet, reported again. */
    cr_assert_eq(sipsess__loop_process(l, 0), 1);
    cr_assert_eq(r.calls, 2);
    char c;
    cr_assert_eq(read(p[0], &c, 1), 1);
    cr_assert_eq(sipsess__loop_process(l, 0), 0);
    cr_assert_eq(r.calls, 2);
    sipsess__loop_unwatch(l, p[0]);
    close(p[0]);
    close(p[1]);
    sipsess__loop_free(l);
}

Test(loop_io, readiness_wakes_a_blocking_process)
{
    sipsess__loop *l = new_loop(true); /* virtual clock: I/O is still real */
    int sv[2];
    cr_assert_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    struct io_rec r;
    io_rec_init(&r, l);
    cr_assert_eq(sipsess__loop_watch(l, sv[0], SIPSESS__IO_READ, io_cb, &r), 0);
    cr_assert_eq(write(sv[1], "ab", 2), 2);
    cr_assert_eq(sipsess__loop_process(l, -1), 1);
    cr_assert_eq(r.events, SIPSESS__IO_READ);
    /* advance() also handles ready I/O, without blocking. */
    cr_assert_eq(sipsess__loop_advance(l, 10), 1);
    cr_assert_eq(r.calls, 2);
    sipsess__loop_unwatch(l, sv[0]);
    close(sv[0]);
    close(sv[1]);
    sipsess__loop_free(l);
}

Test(loop_io, modify_read_to_write)
{
    sipsess__loop *l = new_loop(false);
    int sv[2];
    cr_assert_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    struct io_rec r, r2;
    io_rec_init(&r, l);
    io_rec_init(&r2, l);
    cr_assert_eq(sipsess__loop_watch(l, sv[0], SIPSESS__IO_READ, io_cb, &r), 0);
    cr_assert_eq(sipsess__loop_process(l, 0), 0); /* nothing to read */
    cr_assert_eq(sipsess__loop_watch(l, sv[0], SIPSESS__IO_WRITE, io_cb, &r), 0);
    cr_assert_eq(sipsess__loop_process(l, 0), 1);
    cr_assert_eq(r.events, SIPSESS__IO_WRITE);
    /* Both, with data waiting; then a different callback on the same fd. */
    cr_assert_eq(write(sv[1], "z", 1), 1);
    cr_assert_eq(sipsess__loop_watch(l, sv[0], SIPSESS__IO_READ | SIPSESS__IO_WRITE, io_cb, &r),
                 0);
    cr_assert_eq(sipsess__loop_process(l, 0), 1);
    cr_assert_eq(r.events, SIPSESS__IO_READ | SIPSESS__IO_WRITE);
    cr_assert_eq(sipsess__loop_watch(l, sv[0], SIPSESS__IO_READ, io_cb, &r2), 0);
    cr_assert_eq(sipsess__loop_process(l, 0), 1);
    cr_assert_eq(r.calls, 2);
    cr_assert_eq(r2.calls, 1);
    cr_assert_eq(r2.events, SIPSESS__IO_READ);
    /* Interest 0: nothing is reported while the peer is alive. */
    cr_assert_eq(sipsess__loop_watch(l, sv[0], 0, io_cb, &r2), 0);
    cr_assert_eq(sipsess__loop_process(l, 0), 0);
    sipsess__loop_unwatch(l, sv[0]);
    close(sv[0]);
    close(sv[1]);
    sipsess__loop_free(l);
}

Test(loop_io, hangup_reports_error_and_read)
{
    sipsess__loop *l = new_loop(false);
    int p[2];
    cr_assert_eq(pipe(p), 0);
    struct io_rec r;
    io_rec_init(&r, l);
    cr_assert_eq(sipsess__loop_watch(l, p[0], SIPSESS__IO_READ, io_cb, &r), 0);
    close(p[1]);
    cr_assert_eq(sipsess__loop_process(l, 0), 1);
    cr_assert(r.events & SIPSESS__IO_ERROR);
    cr_assert(r.events & SIPSESS__IO_READ);
    cr_assert(!(r.events & SIPSESS__IO_WRITE));
    sipsess__loop_unwatch(l, p[0]);
    close(p[0]);
    sipsess__loop_free(l);
}

Test(loop_io, unwatch_inside_own_callback)
{
    sipsess__loop *l = new_loop(false);
    int p[2];
    cr_assert_eq(pipe(p), 0);
    struct io_rec r;
    io_rec_init(&r, l);
    r.unwatch_self = true;
    cr_assert_eq(sipsess__loop_watch(l, p[0], SIPSESS__IO_READ, io_cb, &r), 0);
    cr_assert_eq(write(p[1], "x", 1), 1);
    cr_assert_eq(sipsess__loop_process(l, 0), 1);
    cr_assert_eq(sipsess__loop_process(l, 0), 0); /* still readable, not watched */
    cr_assert_eq(r.calls, 1);
    sipsess__loop_unwatch(l, p[0]); /* again: no-op */
    /* Watching again works. */
    r.unwatch_self = false;
    cr_assert_eq(sipsess__loop_watch(l, p[0], SIPSESS__IO_READ, io_cb, &r), 0);
    cr_assert_eq(sipsess__loop_process(l, 0), 1);
    cr_assert_eq(r.calls, 2);
    sipsess__loop_unwatch(l, p[0]);
    close(p[0]);
    close(p[1]);
    sipsess__loop_free(l);
}

Test(loop_io, unwatch_other_fd_in_the_same_batch)
{
    sipsess__loop *l = new_loop(false);
    int a[2], b[2];
    cr_assert_eq(pipe(a), 0);
    cr_assert_eq(pipe(b), 0);
    struct io_rec ra, rb;
    io_rec_init(&ra, l);
    io_rec_init(&rb, l);
    /* Whichever runs first removes the other. */
    ra.unwatch_fd = b[0];
    rb.unwatch_fd = a[0];
    cr_assert_eq(sipsess__loop_watch(l, a[0], SIPSESS__IO_READ, io_cb, &ra), 0);
    cr_assert_eq(sipsess__loop_watch(l, b[0], SIPSESS__IO_READ, io_cb, &rb), 0);
    cr_assert_eq(write(a[1], "x", 1), 1);
    cr_assert_eq(write(b[1], "x", 1), 1);
    cr_assert_eq(sipsess__loop_process(l, 0), 1);
    cr_assert_eq(ra.calls + rb.calls, 1);
    cr_assert_eq(sipsess__loop_process(l, 0), 1); /* the survivor */
    cr_assert_eq(ra.calls + rb.calls, 2);
    cr_assert(ra.calls == 2 || rb.calls == 2);
    sipsess__loop_unwatch(l, a[0]);
    sipsess__loop_unwatch(l, b[0]);
    for (int i = 0; i < 2; i++) {
        close(a[i]);
        close(b[i]);
    }
    sipsess__loop_free(l);
}

/* The first callback of a batch unwatches and closes another ready fd and
 * watches a fresh (empty) pipe that reuses its number: the stale event of
 * the batch must not reach the new watcher. */
Test(loop_io, stale_event_of_a_reused_fd_is_dropped)
{
    sipsess__loop *l = new_loop(false);
    int a[2], b[2];
    cr_assert_eq(pipe(a), 0);
    cr_assert_eq(pipe(b), 0);
    struct io_rec ra, rb, fresh;
    io_rec_init(&ra, l);
    io_rec_init(&rb, l);
    io_rec_init(&fresh, l);
    int a_fd = a[0], b_fd = b[0];
    ra.reuse_fd = &b_fd;
    ra.reuse_rec = &fresh;
    rb.reuse_fd = &a_fd;
    rb.reuse_rec = &fresh;
    cr_assert_eq(sipsess__loop_watch(l, a[0], SIPSESS__IO_READ, io_cb, &ra), 0);
    cr_assert_eq(sipsess__loop_watch(l, b[0], SIPSESS__IO_READ, io_cb, &rb), 0);
    cr_assert_eq(write(a[1], "x", 1), 1);
    cr_assert_eq(write(b[1], "x", 1), 1);
    cr_assert_eq(sipsess__loop_process(l, 0), 1);
    cr_assert_eq(ra.calls + rb.calls, 1);
    struct io_rec *first = ra.calls ? &ra : &rb;
    int closed = ra.calls ? b[0] : a[0];
    cr_assert_eq(first->reuse_pipe[0], closed, "fd number was not reused (%d vs %d)",
                 first->reuse_pipe[0], closed);
    cr_assert_eq(fresh.calls, 0, "stale event delivered to the new watcher");
    /* The new pipe works normally. */
    cr_assert_eq(write(first->reuse_pipe[1], "y", 1), 1);
    first->unwatch_fd = -1;
    int n = sipsess__loop_process(l, 0);
    cr_assert_eq(n, 2); /* first's own fd (still readable) + fresh */
    cr_assert_eq(fresh.calls, 1);
    cr_assert_eq(fresh.fd, closed);
    int keep_r = ra.calls ? a[0] : b[0];
    sipsess__loop_unwatch(l, keep_r);
    sipsess__loop_unwatch(l, first->reuse_pipe[0]);
    close(a[1]);
    close(b[1]);
    close(keep_r);
    close(first->reuse_pipe[0]);
    close(first->reuse_pipe[1]);
    sipsess__loop_free(l);
}

/* Watching many fds, some above the initial table size. */
Test(loop_io, many_fds_and_high_numbers)
{
    sipsess__loop *l = new_loop(false);
    enum { N = 100 };
    int p[N][2];
    struct io_rec r[N];
    for (int i = 0; i < N; i++) {
        cr_assert_eq(pipe(p[i]), 0);
        io_rec_init(&r[i], l);
        cr_assert_eq(sipsess__loop_watch(l, p[i][0], SIPSESS__IO_READ, io_cb, &r[i]), 0);
        cr_assert_eq(write(p[i][1], "x", 1), 1);
    }
    int hi = fcntl(p[0][0], F_DUPFD_CLOEXEC, 900);
    cr_assert_geq(hi, 900);
    struct io_rec rh;
    io_rec_init(&rh, l);
    cr_assert_eq(sipsess__loop_watch(l, hi, SIPSESS__IO_READ, io_cb, &rh), 0);
    /* 101 ready fds: more than one epoll batch; level-triggered catches up. */
    int total = 0;
    for (int k = 0; k < 3; k++)
        total += sipsess__loop_process(l, 0);
    cr_assert_geq(total, N + 1);
    for (int i = 0; i < N; i++)
        cr_assert_geq(r[i].calls, 1, "fd %d never reported", p[i][0]);
    cr_assert_geq(rh.calls, 1);
    sipsess__loop_unwatch(l, hi);
    close(hi);
    for (int i = 0; i < N; i++) {
        sipsess__loop_unwatch(l, p[i][0]);
        close(p[i][0]);
        close(p[i][1]);
    }
    sipsess__loop_free(l);
}

Test(loop_io, loop_fd_is_readable_when_work_waits)
{
    sipsess__loop *l = new_loop(false);
    int fd = sipsess__loop_fd(l);
    cr_assert_geq(fd, 0);
    int p[2];
    cr_assert_eq(pipe(p), 0);
    struct io_rec r;
    io_rec_init(&r, l);
    cr_assert_eq(sipsess__loop_watch(l, p[0], SIPSESS__IO_READ, io_cb, &r), 0);
    struct pollfd pf = {.fd = fd, .events = POLLIN};
    cr_assert_eq(poll(&pf, 1, 0), 0);
    cr_assert_eq(write(p[1], "x", 1), 1);
    cr_assert_eq(poll(&pf, 1, 0), 1);
    cr_assert_eq(sipsess__loop_process(l, 0), 1);
    char c;
    cr_assert_eq(read(p[0], &c, 1), 1);
    cr_assert_eq(poll(&pf, 1, 0), 0);
    /* A wake makes it readable too. */
    cr_assert_eq(sipsess__loop_wake(l), 0);
    cr_assert_eq(poll(&pf, 1, 0), 1);
    cr_assert_eq(sipsess__loop_process(l, 0), 0);
    cr_assert_eq(poll(&pf, 1, 0), 0);
    sipsess__loop_unwatch(l, p[0]);
    close(p[0]);
    close(p[1]);
    sipsess__loop_free(l);
}

Test(loop_io, watch_errors)
{
    sipsess__loop *l = new_loop(false);
    int p[2];
    cr_assert_eq(pipe(p), 0);
    struct io_rec r;
    io_rec_init(&r, l);
    cr_assert_eq(sipsess__loop_watch(NULL, p[0], SIPSESS__IO_READ, io_cb, &r), SIPSESS_EINVAL);
    cr_assert_eq(sipsess__loop_watch(l, -1, SIPSESS__IO_READ, io_cb, &r), SIPSESS_EINVAL);
    cr_assert_eq(sipsess__loop_watch(l, p[0], SIPSESS__IO_READ, NULL, &r), SIPSESS_EINVAL);
    cr_assert_eq(sipsess__loop_watch(l, p[0], 0x100, io_cb, &r), SIPSESS_EINVAL);
    cr_assert_eq(sipsess__loop_watch(l, sipsess__loop_fd(l), SIPSESS__IO_READ, io_cb, &r),
                 SIPSESS_EINVAL);
    /* A regular file cannot be polled; a closed fd is not an fd. */
    char path[] = "/tmp/sipsess-loop-XXXXXX";
    int f = mkstemp(path);
    cr_assert_geq(f, 0);
    unlink(path);
    cr_assert_eq(sipsess__loop_watch(l, f, SIPSESS__IO_READ, io_cb, &r), SIPSESS_EINVAL);
    close(f);
    cr_assert_eq(sipsess__loop_watch(l, 5000, SIPSESS__IO_READ, io_cb, &r), SIPSESS_EINVAL);
    /* Failed watches leave nothing behind. */
    cr_assert_eq(sipsess__loop_process(l, 0), 0);
    sipsess__loop_unwatch(l, 5000);
    sipsess__loop_unwatch(l, -1);
    sipsess__loop_unwatch(l, p[0]); /* never watched */
    sipsess__loop_unwatch(NULL, p[0]);
    close(p[0]);
    close(p[1]);
    sipsess__loop_free(l);
}

/* An owner that closed its fd without unwatching, then got the same
 * number back: watching it again must work. */
Test(loop_io, rewatch_after_close_without_unwatch)
{
    sipsess__loop *l = new_loop(false);
    int p[2];
    cr_assert_eq(pipe(p), 0);
    struct io_rec r;
    io_rec_init(&r, l);
    cr_assert_eq(sipsess__loop_watch(l, p[0], SIPSESS__IO_READ, io_cb, &r), 0);
    int old = p[0];
    close(p[0]);
    close(p[1]);
    cr_assert_eq(pipe(p), 0);
    cr_assert_eq(p[0], old);
    cr_assert_eq(sipsess__loop_watch(l, p[0], SIPSESS__IO_READ, io_cb, &r), 0);
    cr_assert_eq(write(p[1], "x", 1), 1);
    cr_assert_eq(sipsess__loop_process(l, 0), 1);
    cr_assert_eq(r.calls, 1);
    sipsess__loop_unwatch(l, p[0]);
    close(p[0]);
    close(p[1]);
    sipsess__loop_free(l);
}

/* ------------------------------------------------------------------ */
/* wake and post across threads                                       */

struct thr_arg {
    sipsess__loop *l;
    int delay_ms;
    int what; /* 0 wake, 1 post */
    pthread_t loop_thread;
    pthread_t ran_on;
    int ran;
    int rc;
};

static void post_fn(void *arg)
{
    struct thr_arg *a = arg;
    a->ran_on = pthread_self();
    __atomic_add_fetch(&a->ran, 1, __ATOMIC_SEQ_CST);
}

static void *thr_main(void *arg)
{
    struct thr_arg *a = arg;
    usleep((useconds_t)a->delay_ms * 1000);
    if (a->what == 0)
        a->rc = sipsess__loop_wake(a->l);
    else
        a->rc = sipsess__loop_post(a->l, post_fn, a);
    return NULL;
}

Test(loop_thread, wake_from_another_thread_unblocks_process)
{
    sipsess__loop *l = new_loop(false);
    struct thr_arg a = {.l = l, .delay_ms = 50, .what = 0};
    pthread_t th;
    uint64_t t0 = wall_ms();
    cr_assert_eq(pthread_create(&th, NULL, thr_main, &a), 0);
    int n = sipsess__loop_process(l, -1);
    uint64_t el = wall_ms() - t0;
    pthread_join(th, NULL);
    cr_assert_eq(a.rc, 0);
    cr_assert_eq(n, 0); /* a bare wake handles no event */
    cr_assert(el >= 45 && el < 2000, "process(-1) returned after %llu ms",
              (unsigned long long)el);
    /* The wake was consumed: the next poll does not return at once. */
    cr_assert_eq(sipsess__loop_process(l, 0), 0);
    struct pollfd pf = {.fd = sipsess__loop_fd(l), .events = POLLIN};
    cr_assert_eq(poll(&pf, 1, 0), 0);
    sipsess__loop_free(l);
}

Test(loop_thread, post_from_another_thread_runs_on_the_loop_thread)
{
    sipsess__loop *l = new_loop(false);
    struct thr_arg a = {.l = l, .delay_ms = 30, .what = 1, .loop_thread = pthread_self()};
    pthread_t th;
    cr_assert_eq(pthread_create(&th, NULL, thr_main, &a), 0);
    uint64_t t0 = wall_ms();
    int n = 0;
    while (!__atomic_load_n(&a.ran, __ATOMIC_SEQ_CST) && wall_ms() - t0 < 5000)
        n += sipsess__loop_process(l, -1); /* the post wakes it */
    pthread_join(th, NULL);
    cr_assert_eq(a.rc, 0);
    cr_assert_eq(a.ran, 1);
    cr_assert_eq(n, 1);
    cr_assert(pthread_equal(a.ran_on, pthread_self()), "posted work ran on another thread");
    sipsess__loop_free(l);
}

/* Several threads post many items; all run exactly once, on the loop
 * thread, in per-thread FIFO order. */
#define POSTERS 4
#define POSTS 2000
struct poster {
    sipsess__loop *l;
    int id;
    int next_expected;
    int bad_order;
    struct pitem {
        struct poster *p;
        int seq;
    } items[POSTS];
};
static int g_post_runs;

static void pitem_fn(void *arg)
{
    struct pitem *it = arg;
    if (it->seq != it->p->next_expected)
        it->p->bad_order++;
    it->p->next_expected = it->seq + 1;
    g_post_runs++;
}

static void *poster_main(void *arg)
{
    struct poster *p = arg;
    for (int i = 0; i < POSTS; i++) {
        p->items[i].p = p;
        p->items[i].seq = i;
        if (sipsess__loop_post(p->l, pitem_fn, &p->items[i]) != 0)
            abort();
    }
    return NULL;
}

Test(loop_thread, many_posters_fifo_per_thread, .timeout = 60)
{
    sipsess__loop *l = new_loop(false);
    static struct poster ps[POSTERS];
    pthread_t th[POSTERS];
    for (int i = 0; i < POSTERS; i++) {
        memset(&ps[i], 0, sizeof(ps[i]));
        ps[i].l = l;
        ps[i].id = i;
        cr_assert_eq(pthread_create(&th[i], NULL, poster_main, &ps[i]), 0);
    }
    uint64_t t0 = wall_ms();
    while (g_post_runs < POSTERS * POSTS && wall_ms() - t0 < 20000)
        cr_assert_geq(sipsess__loop_process(l, 100), 0);
    for (int i = 0; i < POSTERS; i++)
        pthread_join(th[i], NULL);
    cr_assert_eq(g_post_runs, POSTERS * POSTS);
    for (int i = 0; i < POSTERS; i++) {
        cr_assert_eq(ps[i].bad_order, 0);
        cr_assert_eq(ps[i].next_expected, POSTS);
    }
    cr_assert_eq(sipsess__loop_next_timeout(l), -1);
    sipsess__loop_free(l);
}

static int g_order[8];
static int g_norder;
static sipsess__loop *g_post_loop;

static void order_fn(void *arg)
{
    int v = (int)(intptr_t)arg;
    g_order[g_norder++] = v;
    if (v == 2) /* posted from posted work: runs in the next process() */
        cr_assert_eq(sipsess__loop_post(g_post_loop, order_fn, (void *)(intptr_t)9), 0);
}

Test(loop_thread, post_order_and_next_timeout)
{
    sipsess__loop *l = new_loop(true);
    g_post_loop = l;
    struct ttimer a;
    ttimer_init(&a, l, 1);
    start(l, &a, 100);
    cr_assert_eq(sipsess__loop_next_timeout(l), -1);
    for (int i = 1; i <= 3; i++)
        cr_assert_eq(sipsess__loop_post(l, order_fn, (void *)(intptr_t)i), 0);
    cr_assert_eq(sipsess__loop_next_timeout(l), 0);
    cr_assert_eq(sipsess__loop_process(l, -1), 3);
    cr_assert_eq(g_norder, 3);
    cr_assert_eq(g_order[0], 1);
    cr_assert_eq(g_order[1], 2);
    cr_assert_eq(g_order[2], 3);
    cr_assert_eq(sipsess__loop_next_timeout(l), 0); /* the one posted by 2 */
    cr_assert_eq(sipsess__loop_process(l, -1), 1);
    cr_assert_eq(g_order[3], 9);
    cr_assert_eq(sipsess__loop_next_timeout(l), -1);
    /* advance() runs posted work as well. */
    cr_assert_eq(sipsess__loop_post(l, order_fn, (void *)(intptr_t)7), 0);
    cr_assert_eq(sipsess__loop_advance(l, 100), 2);
    cr_assert_eq(g_order[4], 7);
    cr_assert_eq(a.fired, 1);
    sipsess__loop_free(l);
}

static void never_fn(void *arg)
{
    (void)arg;
    cr_assert_fail("posted work ran after loop_free");
}

Test(loop_thread, free_drops_pending_work_and_timers)
{
    sipsess__loop *l = new_loop(false);
    for (int i = 0; i < 10; i++)
        cr_assert_eq(sipsess__loop_post(l, never_fn, NULL), 0);
    struct ttimer a;
    ttimer_init(&a, l, 1);
    start(l, &a, 10);
    sipsess__loop_free(l); /* valgrind/ASan: no leak */
    sipsess__loop_free(NULL);
}

/* ------------------------------------------------------------------ */
/* argument errors                                                    */

Test(loop_errors, null_arguments)
{
    cr_assert_eq(sipsess__loop_new(false, NULL), SIPSESS_EINVAL);
    sipsess__loop *l = new_loop(true);
    sipsess__timer t;
    sipsess__timer_init(&t, NULL, NULL);
    cr_assert(!sipsess__timer_armed(&t));
    cr_assert_eq(sipsess__timer_start(l, &t, 1), SIPSESS_EINVAL); /* no callback */
    sipsess__timer_init(&t, ttimer_cb, NULL);
    cr_assert_eq(sipsess__timer_start(NULL, &t, 1), SIPSESS_EINVAL);
    cr_assert_eq(sipsess__timer_start(l, NULL, 1), SIPSESS_EINVAL);
    cr_assert(!sipsess__timer_armed(&t));
    sipsess__timer_init(NULL, ttimer_cb, NULL);
    sipsess__timer_stop(NULL, &t);
    sipsess__timer_stop(l, NULL);
    cr_assert(!sipsess__timer_armed(NULL));
    cr_assert_eq(sipsess__timer_remaining(NULL, &t), -1);
    cr_assert_eq(sipsess__timer_remaining(l, NULL), -1);
    cr_assert_eq(sipsess__timer_remaining(l, &t), -1);
    cr_assert_eq(sipsess__loop_now(NULL), 0);
    cr_assert(!sipsess__loop_is_virtual(NULL));
    cr_assert_eq(sipsess__loop_fd(NULL), -1);
    cr_assert_eq(sipsess__loop_next_timeout(NULL), -1);
    cr_assert_eq(sipsess__loop_process(NULL, 0), SIPSESS_EINVAL);
    cr_assert_eq(sipsess__loop_advance(NULL, 1), SIPSESS_EINVAL);
    cr_assert_eq(sipsess__loop_wake(NULL), SIPSESS_EINVAL);
    cr_assert_eq(sipsess__loop_post(NULL, never_fn, NULL), SIPSESS_EINVAL);
    cr_assert_eq(sipsess__loop_post(l, NULL, NULL), SIPSESS_EINVAL);
    cr_assert_eq(sipsess__loop_next_timeout(l), -1);
    cr_assert_eq(sipsess__random(NULL, 4), SIPSESS_EINVAL);
    cr_assert_eq(sipsess__random(NULL, 0), 0);
    cr_assert_eq(sipsess__random_token(NULL, 4), SIPSESS_EINVAL);
    cr_assert_eq(sipsess__random_token(NULL, 0), 0);
    sipsess__loop_free(l);
}

/* Allocation failures: loop creation, heap growth, fd table growth and
 * post report SIPSESS_ENOMEM and leave everything usable and leak-free. */
static int g_fail_next;
static long g_live_blocks;

static void *cnt_malloc(size_t n, void *ud)
{
    (void)ud;
    if (g_fail_next)
        return NULL;
    void *p = malloc(n);
    if (p)
        g_live_blocks++;
    return p;
}

static void *cnt_realloc(void *p, size_t n, void *ud)
{
    (void)ud;
    if (g_fail_next)
        return NULL;
    void *q = realloc(p, n);
    if (q && !p)
        g_live_blocks++;
    return q;
}

static void cnt_free(void *p, void *ud)
{
    (void)ud;
    if (p)
        g_live_blocks--;
    free(p);
}

Test(loop_errors, allocation_failures)
{
    if (sipsess_set_allocator(cnt_malloc, cnt_realloc, cnt_free, NULL) != 0)
        cr_skip_test("allocator already in use in this process");
    sipsess__loop *l = (sipsess__loop *)(uintptr_t)1;
    g_fail_next = 1;
    cr_assert_eq(sipsess__loop_new(true, &l), SIPSESS_ENOMEM);
    cr_assert_eq(l, (sipsess__loop *)(uintptr_t)1, "out touched on failure");
    g_fail_next = 0;
    l = new_loop(true);

    /* Heap growth: the first start allocates the array. */
    struct ttimer a, b;
    ttimer_init(&a, l, 1);
    ttimer_init(&b, l, 2);
    g_fail_next = 1;
    cr_assert_eq(sipsess__timer_start(l, &a.t, 5), SIPSESS_ENOMEM);
    cr_assert(!sipsess__timer_armed(&a.t));
    g_fail_next = 0;
    start(l, &a, 5);
    /* No allocation while the array has room: start, re-arm, stop. */
    g_fail_next = 1;
    start(l, &b, 3);
    start(l, &a, 4);
    sipsess__timer_stop(l, &b.t);
    g_fail_next = 0;

    int p[2];
    cr_assert_eq(pipe(p), 0);
    struct io_rec r;
    io_rec_init(&r, l);
    g_fail_next = 1;
    cr_assert_eq(sipsess__loop_watch(l, p[0], SIPSESS__IO_READ, io_cb, &r), SIPSESS_ENOMEM);
    cr_assert_eq(sipsess__loop_post(l, never_fn, NULL), SIPSESS_ENOMEM);
    g_fail_next = 0;
    cr_assert_eq(sipsess__loop_watch(l, p[0], SIPSESS__IO_READ, io_cb, &r), 0);
    cr_assert_eq(write(p[1], "x", 1), 1);
    /* No allocation per event or per timer. */
    g_fail_next = 1;
    cr_assert_geq(sipsess__loop_advance(l, 10), 2); /* fd events + a */
    cr_assert_eq(a.fired, 1);
    cr_assert_geq(r.calls, 1);
    g_fail_next = 0;
    sipsess__loop_unwatch(l, p[0]);
    close(p[0]);
    close(p[1]);
    sipsess__loop_free(l);
    cr_assert_eq(g_live_blocks, 0, "%ld blocks leaked", g_live_blocks);
}

/* ------------------------------------------------------------------ */
/* random                                                             */

static bool is_token_char(char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

Test(loop_random, bytes_fill_the_buffer)
{
    unsigned char a[4096], b[4096];
    memset(a, 0, sizeof a);
    memset(b, 0, sizeof b);
    cr_assert_eq(sipsess__random(a, sizeof a), 0);
    cr_assert_eq(sipsess__random(b, sizeof b), 0);
    cr_assert_neq(memcmp(a, b, sizeof a), 0);
    int zeros = 0;
    for (size_t i = 0; i < sizeof a; i++)
        zeros += a[i] == 0;
    cr_assert_lt(zeros, 64, "%d zero bytes of 4096", zeros);
    /* Large requests may come back in pieces from getrandom. */
    size_t big = 1 << 20;
    unsigned char *m = malloc(big);
    cr_assert_not_null(m);
    memset(m, 0, big);
    cr_assert_eq(sipsess__random(m, big), 0);
    size_t tail_zeros = 0;
    for (size_t i = big - 4096; i < big; i++)
        tail_zeros += m[i] == 0;
    cr_assert_lt(tail_zeros, 64);
    free(m);
}

Test(loop_random, token_charset_length_and_bounds)
{
    for (size_t len = 1; len <= 200; len++) {
        char buf[256];
        memset(buf, '#', sizeof buf);
        cr_assert_eq(sipsess__random_token(buf, len), 0);
        for (size_t i = 0; i < len; i++)
            cr_assert(is_token_char(buf[i]), "len %zu: char %zu is 0x%02x", len, i,
                      (unsigned char)buf[i]);
        for (size_t i = len; i < sizeof buf; i++)
            cr_assert_eq(buf[i], '#', "len %zu: wrote past the end at %zu", len, i);
    }
    char t1[32], t2[32];
    cr_assert_eq(sipsess__random_token(t1, sizeof t1), 0);
    cr_assert_eq(sipsess__random_token(t2, sizeof t2), 0);
    cr_assert_neq(memcmp(t1, t2, sizeof t1), 0);
}

/* Every one of the 62 characters appears about equally often: with
 * 620000 draws each count is 10000 ± ~100 (sd); a modulo bias would put
 * the first 8 characters ~3% (300) higher. Chi-square with 61 degrees of
 * freedom stays far below 140 except with negligible probability. */
Test(loop_random, token_distribution_is_uniform)
{
    enum { DRAWS = 620000 };
    char *buf = malloc(DRAWS);
    cr_assert_not_null(buf);
    cr_assert_eq(sipsess__random_token(buf, DRAWS), 0);
    long count[256] = {0};
    for (size_t i = 0; i < DRAWS; i++)
        count[(unsigned char)buf[i]]++;
    double chi = 0, expect = DRAWS / 62.0;
    int seen = 0;
    for (int c = 0; c < 256; c++) {
        if (!count[c])
            continue;
        cr_assert(is_token_char((char)c));
        seen++;
        chi += (count[c] - expect) * (count[c] - expect) / expect;
    }
    cr_assert_eq(seen, 62);
    cr_assert_lt(chi, 140.0, "chi-square %.1f over 61 dof", chi);
    free(buf);
}
