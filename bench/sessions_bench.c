/*
 * Sessions benchmark (never part of `make test`; figures only): the cost of
 * idle confirmed sessions, on the public API only. Two UAs, "alice" (the
 * caller) and "bob" (the callee, who answers every INVITE with 200 and
 * installs a session delegate, as an application would), talk over an
 * in-memory network (sipsess_memnet) on virtual clocks.
 *
 * Sessions are opened in batches of INVITE/200/ACK, advancing both clocks
 * 1 ms at a time until the batch is confirmed on both sides, then 40 s of
 * virtual time so every transaction of the batch (Timer L/M/K: 64*T1)
 * has ended: what stays is the idle confirmed sessions.
 *
 * Prints:
 *   sessions open N alloc_bytes_per_session X rss_bytes_per_session Y ...
 *     X: live bytes (malloc_usable_size of every block the library holds,
 *        counted through sipsess_set_allocator) added by opening the
 *        dialogs from 100 (the baseline, after the 100-session CPU run) to N,
 *        divided by twice their number: each dialog is two sessions, one in each UA. Y: the
 *        growth of the process's resident set (/proc/self/statm) over the
 *        same interval, divided by 2N. per_dialog: the same for both sides
 *        of one dialog.
 *   sessions cpu_us_per_call_at_100 A cpu_us_per_call_at_100000 B
 *     process CPU time (CLOCK_PROCESS_CPUTIME_ID: both UAs and the memnet,
 *     one process) per full call INVITE->200->ACK->BYE->200, including
 *     the expiry of its transactions, with that many idle sessions open in
 *     each UA. Calls go in batches of CALL_BATCH at a time.
 *
 * Usage: sessions_bench [MAX_SESSIONS]   (default 100000; it prints which)
 */
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sipsess/sipsess.h>

#define OPEN_BATCH 1000
#define CALL_BATCH 100
#define CALLS 5000

static const char sdp[] = "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\n"
                          "t=0 0\r\nm=audio 4000 RTP/AVP 0\r\n";

/* ---- counting allocator ---- */

static long long g_live; /* bytes held by the library */

static void *c_malloc(size_t size, void *ud)
{
    (void)ud;
    void *p = malloc(size);
    if (p)
        g_live += (long long)malloc_usable_size(p);
    return p;
}

static void *c_realloc(void *ptr, size_t size, void *ud)
{
    (void)ud;
    size_t old = ptr ? malloc_usable_size(ptr) : 0;
    void *p = realloc(ptr, size);
    if (p)
        g_live += (long long)malloc_usable_size(p) - (long long)old;
    else if (size == 0)
        g_live -= (long long)old;
    return p;
}

static void c_free(void *ptr, void *ud)
{
    (void)ud;
    if (ptr)
        g_live -= (long long)malloc_usable_size(ptr);
    free(ptr);
}

static long long rss_bytes(void)
{
    FILE *f = fopen("/proc/self/statm", "r");
    long long size = 0, res = 0;
    if (f) {
        if (fscanf(f, "%lld %lld", &size, &res) != 2)
            res = 0;
        fclose(f);
    }
    return res * sysconf(_SC_PAGESIZE);
}

static double cpu_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* ---- the two UAs ---- */

static sipsess_memnet *g_net;
static sipsess_ua *g_alice, *g_bob;
static sipsess_session_delegate *g_bob_sd;
static sipsess_response_delegate *g_rd_idle, *g_rd_call;
static long g_alice_ok, g_bob_confirmed, g_bob_ended, g_failed;

static void bob_state(sipsess_session *s, sipsess_session_state st, void *ud)
{
    (void)s;
    (void)ud;
    if (st == SIPSESS_SESSION_CONFIRMED)
        g_bob_confirmed++;
}

static void bob_terminated(sipsess_session *s, sipsess_term_cause cause, void *ud)
{
    (void)s;
    (void)ud;
    if (cause == SIPSESS_TERM_REMOTE_BYE)
        g_bob_ended++;
    else
        g_failed++;
}

static int bob_on_invite(sipsess_ua *ua, sipsess_session *s, sipsess_request *req, void *ud)
{
    (void)ua;
    (void)ud;
    sipsess_session_set_delegate(s, g_bob_sd, NULL, NULL);
    return sipsess_request_accept(req, sdp, sizeof sdp - 1, "application/sdp", NULL);
}

static void alice_accept_idle(sipsess_session *s, const sipsess_msg *resp, void *ud)
{
    (void)s;
    (void)resp;
    (void)ud;
    g_alice_ok++;
}

static void alice_accept_call(sipsess_session *s, const sipsess_msg *resp, void *ud)
{
    (void)resp;
    (void)ud;
    g_alice_ok++;
    if (sipsess_session_bye(s, NULL, NULL, NULL))
        g_failed++;
}

static void alice_reject(sipsess_session *s, const sipsess_msg *resp, void *ud)
{
    (void)s;
    (void)resp;
    (void)ud;
    g_failed++;
}

static sipsess_ua *make_ua(const char *identity, const char *listen)
{
    sipsess_ua_config *cfg = NULL;
    sipsess_ua *ua = NULL;
    if (sipsess_ua_config_new(&cfg) == 0 && sipsess_ua_config_set_memnet(cfg, g_net) == 0 &&
        sipsess_ua_config_set_virtual_clock(cfg, 1) == 0 &&
        sipsess_ua_config_set_log(cfg, SIPSESS_LOG_ERROR, NULL, NULL) == 0 &&
        sipsess_ua_config_set_limit(cfg, SIPSESS_LIMIT_SESSIONS, 1000000) == 0 &&
        sipsess_ua_config_set_limit(cfg, SIPSESS_LIMIT_TRANSACTIONS, 1000000) == 0 &&
        sipsess_ua_config_set_identity(cfg, identity) == 0 && sipsess_ua_new(cfg, &ua) == 0 &&
        sipsess_ua_listen(ua, listen) < 0) {
        sipsess_ua_free(ua);
        ua = NULL;
    }
    sipsess_ua_config_free(cfg);
    return ua;
}

static void advance(uint64_t ms)
{
    sipsess_ua_advance(g_alice, ms);
    sipsess_ua_advance(g_bob, ms);
}

/* Send n INVITEs with rd, then step 1 ms at a time until `done()` holds
 * (at most 10 s of virtual time), then let 40 s pass for the
 * transactions to end. Returns 0 or -1. */
static int batch(long n, const sipsess_response_delegate *rd, int (*done)(void))
{
    for (long i = 0; i < n; i++) {
        sipsess_session *s = NULL;
        int e = sipsess_ua_invite(g_alice, "sip:bob@127.0.0.1:5062", sdp, sizeof sdp - 1,
                                  "application/sdp", NULL, rd, NULL, &s);
        if (e) {
            fprintf(stderr, "sessions_bench: invite: %s\n", sipsess_strerror(e));
            return -1;
        }
    }
    for (int t = 0; t < 10000 && !done(); t++)
        advance(1);
    if (!done() || g_failed) {
        fprintf(stderr, "sessions_bench: batch did not complete (failed %ld)\n", g_failed);
        return -1;
    }
    for (int t = 0; t < 40; t++)
        advance(1000);
    return 0;
}

static long g_target;
static int all_confirmed(void)
{
    return g_alice_ok >= g_target && g_bob_confirmed >= g_target;
}
static int all_ended(void)
{
    return g_bob_ended >= g_target;
}

static long g_open; /* idle confirmed dialogs */

static int open_to(long n)
{
    while (g_open < n) {
        long k = n - g_open < OPEN_BATCH ? n - g_open : OPEN_BATCH;
        /* Both confirmed counters move together (every earlier batch,
         * idle or call, confirmed on both sides): one target. */
        if (g_alice_ok != g_bob_confirmed) {
            fprintf(stderr, "sessions_bench: counters out of step\n");
            return -1;
        }
        g_target = g_alice_ok + k;
        if (batch(k, g_rd_idle, all_confirmed))
            return -1;
        g_open += k;
    }
    return 0;
}

/* CPU µs per full call with the current idle sessions open. */
static double cpu_per_call(void)
{
    double t0 = cpu_s();
    for (long done = 0; done < CALLS; done += CALL_BATCH) {
        /* Every call ends with bob's REMOTE_BYE; the confirmed counters
         * move too (alice_ok, bob_confirmed) and stay in step. */
        g_target = g_bob_ended + CALL_BATCH;
        if (batch(CALL_BATCH, g_rd_call, all_ended))
            return -1;
    }
    return (cpu_s() - t0) * 1e6 / CALLS;
}

static int report_open(long n, long open0, long long live0, long long rss0)
{
    if (open_to(n))
        return -1;
    long long dl = g_live - live0, dr = rss_bytes() - rss0;
    double k = (double)(n - open0); /* dialogs opened since the baseline */
    printf("sessions open %ld alloc_bytes_per_session %.0f rss_bytes_per_session %.0f "
           "alloc_bytes_per_dialog %.0f rss_bytes_per_dialog %.0f\n",
           n, (double)dl / (2.0 * k), (double)dr / (2.0 * k), (double)dl / k, (double)dr / k);
    fflush(stdout);
    return 0;
}

int main(int argc, char **argv)
{
    long max = argc > 1 ? atol(argv[1]) : 100000;
    if (max < 10000)
        max = 10000;
    if (sipsess_set_allocator(c_malloc, c_realloc, c_free, NULL))
        return 1;
    if (sipsess_memnet_new(&g_net))
        return 1;
    g_alice = make_ua("sip:alice@127.0.0.1", "mem:5061");
    g_bob = make_ua("sip:bob@127.0.0.1", "mem:5062");
    if (!g_alice || !g_bob)
        return 1;

    sipsess_ua_delegate *bd = NULL;
    if (sipsess_ua_delegate_new(&bd))
        return 1;
    sipsess_ua_delegate_set_on_invite(bd, bob_on_invite);
    sipsess_ua_set_delegate(g_bob, bd, NULL, NULL);
    sipsess_ua_delegate_free(bd);
    if (sipsess_session_delegate_new(&g_bob_sd))
        return 1;
    sipsess_session_delegate_set_on_state_change(g_bob_sd, bob_state);
    sipsess_session_delegate_set_on_terminated(g_bob_sd, bob_terminated);
    if (sipsess_response_delegate_new(&g_rd_idle) || sipsess_response_delegate_new(&g_rd_call))
        return 1;
    sipsess_response_delegate_set_on_accept(g_rd_idle, alice_accept_idle);
    sipsess_response_delegate_set_on_reject(g_rd_idle, alice_reject);
    sipsess_response_delegate_set_on_accept(g_rd_call, alice_accept_call);
    sipsess_response_delegate_set_on_reject(g_rd_call, alice_reject);

    /* Warm up (first-use allocations, memnet buffers), untimed. */
    g_target = g_bob_ended + CALL_BATCH;
    if (batch(CALL_BATCH, g_rd_call, all_ended))
        return 1;

    if (open_to(100))
        return 1;
    double at100 = cpu_per_call();
    if (at100 < 0)
        return 1;

    long long live0 = g_live, rss0 = rss_bytes();
    long open0 = g_open; /* the baseline holds these 100 dialogs */
    if (report_open(10000, open0, live0, rss0))
        return 1;
    if (report_open(max, open0, live0, rss0))
        return 1;
    double atmax = cpu_per_call();
    if (atmax < 0)
        return 1;
    printf("sessions cpu_us_per_call_at_100 %.1f cpu_us_per_call_at_%ld %.1f calls %d\n", at100,
           max, atmax, CALLS);

    sipsess_ua_free(g_alice);
    sipsess_ua_free(g_bob);
    sipsess_memnet_free(g_net);
    sipsess_session_delegate_free(g_bob_sd);
    sipsess_response_delegate_free(g_rd_idle);
    sipsess_response_delegate_free(g_rd_call);
    return 0;
}
