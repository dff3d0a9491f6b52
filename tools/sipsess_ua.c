/*
 * sipsess-ua — the reference user agent, built only on the public API.
 *
 *   sipsess-ua --listen SPEC [--listen SPEC]... [--log-level LEVEL] [--trace]
 *              [--print-ports] [--print-rusage] [--t1 MS] [--linger MS]
 *              [--answer [--answer-delay MS] [--reinvite-after MS] [--refer-follow]]
 *              [--call URI [--rate R] [--max-concurrent M]]
 *              [--count N] [--duration S]
 *              [--options URI [--count N]]
 *              [--limit NAME=VALUE]... [--mem-stats]
 *
 * --answer   answers every incoming call: 180, then 200 with an SDP answer
 *            to the offer, or an offer when the INVITE had no body, after
 *            --answer-delay MS. When the INVITE asks for 100rel (Require
 *            or Supported) the 180 is reliable, carries the answer, and
 *            the 200 waits for its PRACK. Hangs up --duration S seconds
 *            after the ACK; 0 (the default) waits for the peer's BYE.
 *            With --count N it exits once N incoming calls have ended.
 *            In-dialog requests: re-INVITE and UPDATE offers get SDP
 *            answers, INFO and MESSAGE 200, REFER 202 followed by the
 *            NOTIFYs of its subscription (sipfrag "100 Trying" from the
 *            library, then the final status: "200 OK", or with
 *            --refer-follow the final answer to a call we place to the
 *            Refer-To URI). --reinvite-after MS sends our own re-INVITE
 *            (a new offer) MS ms after the call is confirmed.
 * --call     places --count N calls (default 1) to URI with an SDP offer,
 *            --rate R new calls per second (default 10), at most
 *            --max-concurrent M at a time (default 100; it also makes
 *            --answer refuse calls beyond M with 486), and hangs each up
 *            --duration S seconds after the 2xx (default 0: at once).
 * --options  sends --count N OPTIONS to URI (at most 50 in flight).
 * --trace    prints every message sent or received as one ladder line:
 *            seconds since start, transport, local address, arrow,
 *            remote address, first line.
 * --t1 MS    the RFC 3261 T1 timer (default 500); a short T1 makes the
 *            64*T1 timeouts short enough for tests.
 * --linger MS  after the last call, keep serving MS ms before exiting
 *            (late retransmissions; a TCP peer that keeps the connection
 *            for a while after its last call, as SIPp's uas does).
 * --limit NAME=VALUE  sets one of the library's limits (sipsess_limit):
 *            msg_size, headers, transactions, tcp_connections, tcp_buffer,
 *            tcp_idle_ms, udp_switch, sessions, pending; repeatable.
 * --mem-stats  counts the library's allocations (sipsess_set_allocator):
 *            blocks and bytes alive, shown in the SIGUSR1 line.
 * SIGUSR1    prints one line "stats attempted A ok O failed F live L peak P
 *            rss_kb R trimmed_rss_kb T" (with --mem-stats also "lib_blocks
 *            B lib_bytes Y"): calls so far, calls not yet counted, the most
 *            ever alive at once, this process's VmRSS, and VmRSS again once
 *            malloc_trim has handed freed heap pages back (glibc; else the
 *            same figure); a soak test reads it between phases.
 * --print-rusage  at exit, after the "calls" line, print this process's
 *            own resource usage (getrusage RUSAGE_SELF) as one line:
 *            "rusage utime_us U stime_us S maxrss_kb M" (the benchmark
 *            bench/uas_bench.sh reads it).
 *
 * A call succeeds when it got (or we sent) a 2xx, was confirmed by the ACK
 * and ended with a BYE that got a 2xx (ours) or that we answered (the
 * peer's). The exit status is 0 only when every call succeeded and, for
 * --call, every one of the N calls was made. At exit one line says
 * "calls attempted N ok N failed N"; every failed call is explained on
 * stderr. SIGINT/SIGTERM end live calls (BYE, CANCEL or 480 as their
 * state asks), wait up to two seconds for that to finish and free the UA;
 * a second signal stops at once.
 */
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <sys/resource.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif

#include <sipsess/sipsess.h>

#include "ua_sdp.h"

/* ------------------------------------------------------------------ */
/* Options and global state                                            */

#define MAX_LISTEN 16
#define MAX_LIMITS 16

static struct {
    const char *listens[MAX_LISTEN];
    int nlisten;
    const char *limits[MAX_LIMITS]; /* NAME=VALUE */
    int nlimits;
    int trace, print_ports, print_rusage, answer, refer_follow, mem_stats;
    sipsess_log_level level;
    const char *options_uri, *call_uri;
    long count;        /* -1: not given */
    double rate;       /* calls per second */
    double duration;   /* seconds */
    long max_concurrent;
    long answer_delay; /* ms */
    long reinvite_after; /* ms; -1: never */
    long t1;           /* ms; 0: library default */
    long linger;       /* ms to keep serving after the last call */
} g_opt = {
    .level = SIPSESS_LOG_WARN,
    .count = -1,
    .rate = 10.0,
    .max_concurrent = 100,
    .reinvite_after = -1,
};

static sipsess_ua *g_ua;
static volatile sig_atomic_t g_signalled, g_stats_wanted;
static uint64_t g_t0;

static struct {
    unsigned attempted, ok, failed;
} g_stats;

/* --mem-stats: the library's allocations, counted. Each block starts with
 * a header that keeps its size, so realloc and free can count too. */
static struct {
    long long blocks, bytes;
} g_mem;
#define MEM_HDR sizeof(max_align_t)

static void *count_malloc(size_t n, void *ud)
{
    (void)ud;
    char *p = malloc(MEM_HDR + n);
    if (!p)
        return NULL;
    memcpy(p, &n, sizeof n);
    g_mem.blocks++;
    g_mem.bytes += (long long)n;
    return p + MEM_HDR;
}

static void *count_realloc(void *ptr, size_t n, void *ud)
{
    if (!ptr)
        return count_malloc(n, ud);
    char *h = (char *)ptr - MEM_HDR;
    size_t old;
    memcpy(&old, h, sizeof old);
    char *p = realloc(h, MEM_HDR + n);
    if (!p)
        return NULL;
    memcpy(p, &n, sizeof n);
    g_mem.bytes += (long long)n - (long long)old;
    return p + MEM_HDR;
}

static void count_free(void *ptr, void *ud)
{
    (void)ud;
    char *h = (char *)ptr - MEM_HDR;
    size_t old;
    memcpy(&old, h, sizeof old);
    g_mem.blocks--;
    g_mem.bytes -= (long long)old;
    free(h);
}

/* ------------------------------------------------------------------ */
/* Clock and logging                                                   */

/* Our own monotonic clock: the trace and our timers must work before and
 * after the UA exists, and the tool never uses the virtual clock. */
static uint64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static const char *level_name(sipsess_log_level l)
{
    switch (l) {
    case SIPSESS_LOG_ERROR:
        return "error";
    case SIPSESS_LOG_WARN:
        return "warn";
    case SIPSESS_LOG_INFO:
        return "info";
    case SIPSESS_LOG_DEBUG:
        return "debug";
    default:
        return "-";
    }
}

static void log_cb(sipsess_log_level level, const char *msg, void *ud)
{
    (void)ud;
    fprintf(stderr, "[%s] %s\n", level_name(level), msg);
}

/* The tool's own log lines go the same way as the library's, under the
 * same --log-level, so one switch shows both. */
__attribute__((format(printf, 2, 3))) static void tlog(sipsess_log_level level,
                                                       const char *fmt, ...)
{
    if (level > g_opt.level)
        return;
    char line[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    fprintf(stderr, "[%s] sipsess-ua: %s\n", level_name(level), line);
}

static void trace_cb(int out, const char *transport, const char *local, const char *remote,
                     const char *data, size_t len, void *ud)
{
    (void)ud;
    size_t fl = 0;
    while (fl < len && data[fl] != '\r' && data[fl] != '\n')
        fl++;
    uint64_t t = now_ms() - g_t0;
    /* Local address always on the left, so a column of lines reads as
     * one side of a ladder diagram. */
    printf("%llu.%03llu %s %-21s %s %-21s  %.*s\n", (unsigned long long)(t / 1000),
           (unsigned long long)(t % 1000), transport, local, out ? "-->" : "<--", remote,
           (int)fl, data);
}

static void on_signal(int sig)
{
    if (sig == SIGUSR1)
        g_stats_wanted = 1;
    else
        g_signalled++;
    /* sipsess_ua_wake is async-signal-safe: it writes to an eventfd. */
    if (g_ua)
        sipsess_ua_wake(g_ua);
}

/* ------------------------------------------------------------------ */
/* Calls                                                               */

typedef struct call call;
struct call {
    call *next;
    unsigned id;            /* 1, 2, ... in order of creation */
    int outgoing;
    sipsess_session *s;     /* our reference, dropped when freed */
    sipsess_request *invite; /* incoming INVITE kept until answered */
    ua_sdp_origin sdp;
    int ipv6;               /* our SDP uses ::1 */
    /* Conditions the 200 waits for: the PRACK of a reliable 180 and the
     * --answer-delay timer. */
    int wait_prack, wait_delay;
    int answered, confirmed, terminated, delegate_gone, counted;
    int bye_out, bye_ok, reinvite_out;
    unsigned pending;       /* our in-dialog requests awaiting a final answer */
    sipsess_term_cause cause;
    char why[160];          /* first failure; empty while all is well */
    uint64_t reap_at;       /* when the struct may be freed */
    unsigned nactions;      /* scheduled actions naming this call */
    /* A REFER we accepted on this call, kept until its final NOTIFY is
     * sent, and its target; refer_parent is the id of the call whose
     * REFER made this (outgoing) call. */
    sipsess_request *refer;
    char refer_to[256];
    unsigned refer_parent;
};

static call *g_calls;         /* every call not yet freed, newest first */
static unsigned g_next_id = 1;
static unsigned g_live;       /* calls not yet counted */
static unsigned g_peak;       /* the most calls ever alive at once */
static unsigned g_live_out;   /* of them, outgoing ones */
static unsigned g_out_started, g_in_done;

static sipsess_session_delegate *g_sd;
static sipsess_response_delegate *g_invite_rd, *g_bye_rd, *g_reinvite_rd, *g_notify_rd;

__attribute__((format(printf, 2, 3))) static void call_fail(call *c, const char *fmt, ...)
{
    if (c->why[0])
        return; /* the first cause is the interesting one */
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(c->why, sizeof c->why, fmt, ap);
    va_end(ap);
    if (!c->why[0])
        snprintf(c->why, sizeof c->why, "failed");
}

static call *call_new(int outgoing)
{
    call *c = calloc(1, sizeof *c);
    if (!c)
        return NULL;
    c->id = g_next_id++;
    c->outgoing = outgoing;
    ua_sdp_origin_init(&c->sdp, c->id);
    c->next = g_calls;
    g_calls = c;
    g_live++;
    if (g_live > g_peak)
        g_peak = g_live;
    if (outgoing)
        g_live_out++;
    return c;
}

static call *call_find(unsigned id)
{
    for (call *c = g_calls; c; c = c->next)
        if (c->id == id)
            return c;
    return NULL;
}

static const char *cause_text(sipsess_term_cause cause)
{
    switch (cause) {
    case SIPSESS_TERM_LOCAL_BYE:
        return "we hung up";
    case SIPSESS_TERM_REMOTE_BYE:
        return "the peer hung up";
    case SIPSESS_TERM_REJECTED:
        return "rejected";
    case SIPSESS_TERM_CANCELLED:
        return "cancelled before answer";
    case SIPSESS_TERM_REDIRECTED:
        return "redirected";
    case SIPSESS_TERM_ACK_TIMEOUT:
        return "our 2xx was never ACKed";
    case SIPSESS_TERM_TIMEOUT:
        return "no response in time";
    case SIPSESS_TERM_TRANSPORT:
        return "transport error";
    case SIPSESS_TERM_PRACK_TIMEOUT:
        return "our reliable 1xx was never PRACKed";
    case SIPSESS_TERM_REPLACED:
        return "replaced";
    case SIPSESS_TERM_FORK_LOSER:
        return "another fork answered";
    case SIPSESS_TERM_UA_SHUTDOWN:
        return "UA shut down";
    case SIPSESS_TERM_DIALOG_ERROR:
        return "dialog error (481/408 to an in-dialog request)";
    default:
        return "ended for no known cause";
    }
}

/* ------------------------------------------------------------------ */
/* Timers: a sorted list of deferred actions per call. The public API has
 * no timer of its own; the main loop steps the UA until the next one is
 * due. Deferring also keeps our requests out of library callbacks where
 * the order of events would otherwise depend on the callback nesting. */

typedef void (*action_fn)(call *c);
typedef struct action {
    struct action *next;
    uint64_t due;
    action_fn fn;
    call *c;
} action;

static action *g_actions;

static void schedule(call *c, uint64_t delay_ms, action_fn fn)
{
    action *a = calloc(1, sizeof *a);
    if (!a) {
        call_fail(c, "out of memory");
        return;
    }
    a->due = now_ms() + delay_ms;
    a->fn = fn;
    a->c = c;
    c->nactions++;
    /* After every action due at the same time: actions run in the order
     * they were scheduled. */
    action **pp = &g_actions;
    while (*pp && (*pp)->due <= a->due)
        pp = &(*pp)->next;
    a->next = *pp;
    *pp = a;
}

static void cancel_actions(call *c)
{
    action **pp = &g_actions;
    while (*pp) {
        if ((*pp)->c == c) {
            action *a = *pp;
            *pp = a->next;
            c->nactions--;
            free(a);
        } else {
            pp = &(*pp)->next;
        }
    }
}

static void run_due(void)
{
    uint64_t now = now_ms();
    while (g_actions && g_actions->due <= now) {
        action *a = g_actions;
        g_actions = a->next;
        a->c->nactions--;
        a->fn(a->c);
        free(a);
    }
}

/* ------------------------------------------------------------------ */
/* Call completion                                                     */

static void notify_referrer(unsigned parent_id, unsigned status, const char *reason);

/* Count a call once: when its session has ended and none of our requests
 * on it is still waiting for its final answer. */
static void call_check_done(call *c)
{
    if (c->counted || !c->terminated || c->pending)
        return;
    c->counted = 1;
    g_live--;
    if (c->outgoing)
        g_live_out--;
    else
        g_in_done++;
    cancel_actions(c);
    int ok = !c->why[0] && c->answered && c->confirmed &&
             (c->cause == SIPSESS_TERM_REMOTE_BYE || (c->cause == SIPSESS_TERM_LOCAL_BYE && c->bye_ok));
    if (!ok && !c->why[0]) {
        if (!c->answered)
            call_fail(c, "never answered: %s", cause_text(c->cause));
        else if (!c->confirmed)
            call_fail(c, "never confirmed: %s", cause_text(c->cause));
        else
            call_fail(c, "ended badly: %s", cause_text(c->cause));
    }
    if (ok) {
        g_stats.ok++;
    } else {
        g_stats.failed++;
        sipsess_str cid = c->s ? sipsess_session_call_id(c->s) : (sipsess_str){NULL, 0};
        fprintf(stderr, "sipsess-ua: call %u (%s, Call-ID %.*s) failed: %s\n", c->id,
                c->outgoing ? "outgoing" : "incoming", (int)cid.len, cid.p ? cid.p : "",
                c->why);
    }
    tlog(SIPSESS_LOG_INFO, "call %u done: %s (%s)", c->id, ok ? "ok" : "failed",
         cause_text(c->cause));
    /* Transactions still open on the dialog end within 64*T1 at most;
     * until then a late callback could still name this call. */
    uint64_t t1 = g_opt.t1 > 0 ? (uint64_t)g_opt.t1 : 500;
    c->reap_at = now_ms() + 64 * t1 + 1000;
}

/* Free counted calls nobody can call back about any more. A walk over
 * every call is not free under load, so it runs twice a second at most. */
static void reap(int all)
{
    static uint64_t last;
    uint64_t now = now_ms();
    if (!all && now - last < 500)
        return;
    last = now;
    call **pp = &g_calls;
    while (*pp) {
        call *c = *pp;
        if (all || (c->counted && c->delegate_gone && !c->pending && now >= c->reap_at &&
                    !c->nactions)) {
            *pp = c->next;
            cancel_actions(c);
            if (c->invite)
                sipsess_request_unref(c->invite);
            if (c->refer)
                sipsess_request_unref(c->refer);
            if (c->s)
                sipsess_session_unref(c->s);
            free(c);
        } else {
            pp = &c->next;
        }
    }
}

/* ------------------------------------------------------------------ */
/* Helpers on requests                                                 */

/* Does the request list `tag` in Require or Supported? */
static int request_has_option(const sipsess_request *req, const char *tag)
{
    const sipsess_msg *m = sipsess_request_msg(req);
    static const sipsess_hdr_id ids[] = {SIPSESS_HDR_REQUIRE, SIPSESS_HDR_SUPPORTED};
    for (size_t i = 0; i < sizeof ids / sizeof ids[0]; i++)
        for (const sipsess_hdr *h = sipsess_msg_hdr(m, ids[i], 0); h; h = sipsess_hdr_next(m, h)) {
            sipsess_str t = sipsess_hdr_token(h);
            if (t.len == strlen(tag) && !strncasecmp(t.p, tag, t.len))
                return 1;
        }
    return 0;
}

static int request_is_ipv6(const sipsess_request *req)
{
    const sipsess_uri *u = sipsess_msg_ruri(sipsess_request_msg(req));
    return u && sipsess_uri_host_type(u) == SIPSESS_HOST_IPV6;
}

/* Answer an offer (or make one when `offer` is empty) into `buf`.
 * Returns the length or a negative value when the offer cannot be
 * answered. */
static int sdp_reply(call *c, sipsess_str offer, char *buf, size_t cap)
{
    if (offer.len)
        return ua_sdp_answer(&c->sdp, offer.p, offer.len, buf, cap);
    return ua_sdp_offer(&c->sdp, c->ipv6, "sendrecv", buf, cap);
}

/* Accept an offer-carrying request (re-INVITE, UPDATE) with our answer, or
 * a request without body with an offer (re-INVITE) or nothing (UPDATE). */
static int accept_with_sdp(call *c, sipsess_request *req, int offer_when_empty)
{
    sipsess_str body = sipsess_request_body(req);
    if (!body.len && !offer_when_empty)
        return sipsess_request_accept(req, NULL, 0, NULL, NULL);
    char sdp[4096];
    int n = sdp_reply(c, body, sdp, sizeof sdp);
    if (n < 0) {
        tlog(SIPSESS_LOG_WARN, "call %u: %s offer we cannot answer: 488", c->id,
             sipsess_method_str(sipsess_request_method(req)));
        return sipsess_request_reject(req, 488, NULL, NULL);
    }
    if (body.len && g_opt.level >= SIPSESS_LOG_INFO) {
        char din[16], dout[16];
        ua_sdp_direction(body.p, body.len, din, sizeof din);
        ua_sdp_direction(sdp, (size_t)n, dout, sizeof dout);
        tlog(SIPSESS_LOG_INFO, "call %u: %s offer %s, answer %s", c->id,
             sipsess_method_str(sipsess_request_method(req)), din, dout);
    }
    return sipsess_request_accept(req, sdp, (size_t)n, "application/sdp", NULL);
}

/* ------------------------------------------------------------------ */
/* Answering                                                           */

static void answer_invite(call *c)
{
    sipsess_request *req = c->invite;
    c->invite = NULL;
    char sdp[4096];
    int n = sdp_reply(c, sipsess_request_body(req), sdp, sizeof sdp);
    if (n < 0) {
        call_fail(c, "the INVITE's offer cannot be answered (488)");
        sipsess_request_reject(req, 488, NULL, NULL);
    } else {
        int e = sipsess_request_accept(req, sdp, (size_t)n, "application/sdp", NULL);
        if (e)
            call_fail(c, "accepting the INVITE failed: %s", sipsess_errname(e));
        else
            c->answered = 1;
    }
    sipsess_request_unref(req);
}

/* The 200 goes out once nothing holds it back any more. */
static void try_answer(call *c)
{
    if (c->invite && !c->wait_prack && !c->wait_delay && !c->terminated)
        answer_invite(c);
}

static void answer_delay_done(call *c)
{
    c->wait_delay = 0;
    try_answer(c);
}

static void on_session_gone(void *ud)
{
    call *c = ud;
    c->delegate_gone = 1;
}

static int on_incoming(sipsess_ua *ua, sipsess_session *s, sipsess_request *req, void *ud)
{
    (void)ua;
    (void)ud;
    g_stats.attempted++;
    if (g_signalled) {
        g_stats.failed++;
        fprintf(stderr, "sipsess-ua: incoming call refused: shutting down\n");
        return sipsess_request_reject(req, 503, NULL, NULL) ? SIPSESS_ECALLBACK : 0;
    }
    if (g_opt.max_concurrent > 0 && g_live >= (unsigned long)g_opt.max_concurrent) {
        g_stats.failed++;
        fprintf(stderr, "sipsess-ua: incoming call refused: %u calls already (--max-concurrent)\n",
                g_live);
        return sipsess_request_reject(req, 486, NULL, NULL) ? SIPSESS_ECALLBACK : 0;
    }
    call *c = call_new(0);
    if (!c) {
        g_stats.failed++;
        return SIPSESS_ECALLBACK;
    }
    c->s = sipsess_session_ref(s);
    c->ipv6 = request_is_ipv6(req);
    if (sipsess_session_set_delegate(s, g_sd, c, on_session_gone) != 0) {
        /* Without a delegate we would never hear the end of it. */
        c->delegate_gone = 1;
        c->terminated = 1;
        call_fail(c, "cannot install the session delegate");
        sipsess_request_reject(req, 500, NULL, NULL);
        call_check_done(c);
        return 0;
    }
    c->invite = sipsess_request_ref(req);
    /* RFC 3262: a peer that asks for 100rel (Require) or offers it
     * (Supported) gets a reliable 180, and the 200 waits for its PRACK so
     * the order seen on the wire is 180, PRACK, 200 (PRACK), 200 (INVITE).
     * The reliable 180 carries our answer when the INVITE had an offer
     * (RFC 3262 §5, RFC 6337 §2.1 pattern 2): the first reliable answer
     * settles the offer, and the 200 repeats the same description. */
    c->wait_prack = request_has_option(req, "100rel");
    c->wait_delay = g_opt.answer_delay > 0;
    char sdp[4096];
    int n = 0;
    sipsess_str offer = sipsess_request_body(req);
    if (c->wait_prack && offer.len) {
        n = ua_sdp_answer(&c->sdp, offer.p, offer.len, sdp, sizeof sdp);
        if (n < 0) {
            call_fail(c, "the INVITE's offer cannot be answered (488)");
            sipsess_request_reject(req, 488, NULL, NULL);
            sipsess_request_unref(c->invite);
            c->invite = NULL;
            return 0;
        }
    }
    int e = sipsess_request_progress(req, 180, NULL, n ? sdp : NULL, (size_t)n,
                                     n ? "application/sdp" : NULL, c->wait_prack);
    if (e) {
        call_fail(c, "sending 180 failed: %s", sipsess_errname(e));
        c->wait_prack = 0;
    }
    if (c->wait_delay)
        schedule(c, (uint64_t)g_opt.answer_delay, answer_delay_done);
    try_answer(c);
    return 0;
}

/* ------------------------------------------------------------------ */
/* Hanging up, re-INVITE, REFER                                        */

static void hangup(call *c)
{
    if (c->terminated || c->bye_out)
        return;
    int e = sipsess_session_bye(c->s, NULL, g_bye_rd, c);
    if (e) {
        call_fail(c, "BYE not sent: %s", sipsess_errname(e));
        sipsess_session_terminate(c->s);
        return;
    }
    c->bye_out = 1;
    c->pending++;
}

static void send_reinvite(call *c)
{
    if (c->terminated)
        return;
    char sdp[2048];
    int n = ua_sdp_offer(&c->sdp, c->ipv6, "sendrecv", sdp, sizeof sdp);
    int e = sipsess_session_invite(c->s, sdp, (size_t)n, "application/sdp", NULL, g_reinvite_rd, c);
    if (e) {
        call_fail(c, "re-INVITE not sent: %s", sipsess_errname(e));
        return;
    }
    c->reinvite_out = 1;
    c->pending++;
}

/* RFC 3515 §2.4.4: the final state of the referred request, in the
 * implicit subscription's last NOTIFY (the library sent "100 Trying" when
 * we accepted the REFER). */
static void send_refer_final(call *c, unsigned status, const char *reason)
{
    sipsess_request *refer = c->refer;
    if (!refer || c->terminated)
        return;
    c->refer = NULL;
    int e = sipsess_request_notify_refer(refer, status, reason, g_notify_rd, c);
    if (e)
        call_fail(c, "final NOTIFY not sent: %s", sipsess_errname(e));
    else
        c->pending++;
    sipsess_request_unref(refer);
}

static void refer_notify_ok(call *c)
{
    send_refer_final(c, 200, "OK");
}

static void place_call(const char *uri, unsigned refer_parent);

static void refer_follow(call *c)
{
    place_call(c->refer_to, c->id);
}

/* The referred call we placed reached its final answer: tell the REFER's
 * sender in the final NOTIFY. */
static void notify_referrer(unsigned parent_id, unsigned status, const char *reason)
{
    call *p = call_find(parent_id);
    if (p)
        send_refer_final(p, status, reason);
}

/* "<sip:bob@host;transport=tcp?Replaces=...>;param" → "sip:bob@host;transport=tcp":
 * a Request-URI carries no headers part. */
static void refer_target(sipsess_str v, char *out, size_t cap)
{
    const char *p = v.p, *e = v.p + v.len;
    const char *lt = memchr(p, '<', v.len);
    if (lt) {
        p = lt + 1;
        const char *gt = memchr(p, '>', (size_t)(e - p));
        if (gt)
            e = gt;
    } else {
        const char *semi = memchr(p, ';', v.len);
        if (semi)
            e = semi;
    }
    const char *q = memchr(p, '?', (size_t)(e - p));
    if (q)
        e = q;
    snprintf(out, cap, "%.*s", (int)(e - p), p);
}

/* ------------------------------------------------------------------ */
/* Session delegate                                                    */

static int sd_on_ack(sipsess_session *s, sipsess_request *req, void *ud)
{
    (void)s;
    (void)req;
    call *c = ud;
    tlog(SIPSESS_LOG_DEBUG, "call %u: ACK", c->id);
    return 0;
}

static int sd_on_ack_timeout(sipsess_session *s, sipsess_request *req, void *ud)
{
    (void)s;
    (void)req;
    call *c = ud;
    /* Returning without a BYE of our own lets the library send it. */
    call_fail(c, "our 2xx was never ACKed (ACK timeout, BYE sent)");
    return 0;
}

static int sd_on_bye(sipsess_session *s, sipsess_request *req, void *ud)
{
    (void)s;
    (void)req;
    call *c = ud;
    tlog(SIPSESS_LOG_DEBUG, "call %u: BYE from the peer", c->id);
    return 0; /* the library's 200 */
}

static int sd_on_accept_plain(sipsess_session *s, sipsess_request *req, void *ud)
{
    (void)s;
    (void)ud;
    return sipsess_request_accept(req, NULL, 0, NULL, NULL) ? SIPSESS_ECALLBACK : 0;
}

static int sd_on_reinvite(sipsess_session *s, sipsess_request *req, void *ud)
{
    (void)s;
    return accept_with_sdp(ud, req, 1) ? SIPSESS_ECALLBACK : 0;
}

static int sd_on_update(sipsess_session *s, sipsess_request *req, void *ud)
{
    (void)s;
    return accept_with_sdp(ud, req, 0) ? SIPSESS_ECALLBACK : 0;
}

static int sd_on_prack(sipsess_session *s, sipsess_request *req, void *ud)
{
    (void)s;
    call *c = ud;
    /* Our 200 for the PRACK first, then the held 200 for the INVITE. */
    int e = sipsess_request_accept(req, NULL, 0, NULL, NULL);
    if (e)
        call_fail(c, "answering the PRACK failed: %s", sipsess_errname(e));
    if (c->wait_prack) {
        c->wait_prack = 0;
        try_answer(c);
    }
    return 0;
}

static int sd_on_refer(sipsess_session *s, sipsess_request *req, void *ud)
{
    (void)s;
    call *c = ud;
    sipsess_str to = sipsess_request_header(req, "Refer-To", 0);
    if (!to.len)
        return sipsess_request_reject(req, 400, "Missing Refer-To", NULL) ? SIPSESS_ECALLBACK : 0;
    if (c->refer) {
        /* One transfer at a time is all this tool follows. */
        return sipsess_request_reject(req, 491, NULL, NULL) ? SIPSESS_ECALLBACK : 0;
    }
    refer_target(to, c->refer_to, sizeof c->refer_to);
    /* 202, and the library's first NOTIFY (100 Trying). */
    int e = sipsess_request_accept(req, NULL, 0, NULL, NULL);
    if (e) {
        call_fail(c, "accepting the REFER failed: %s", sipsess_errname(e));
        return 0;
    }
    c->refer = sipsess_request_ref(req);
    tlog(SIPSESS_LOG_INFO, "call %u: REFER to %s accepted", c->id, c->refer_to);
    /* Deferred: our final NOTIFY (or the new call) comes after the
     * library's 100 Trying, outside this callback. */
    schedule(c, 0, g_opt.refer_follow ? refer_follow : refer_notify_ok);
    return 0;
}

static int sd_on_cancel(sipsess_session *s, sipsess_request *req, void *ud)
{
    (void)s;
    (void)req;
    call *c = ud;
    call_fail(c, "cancelled by the peer before we answered");
    return 0; /* 200 to the CANCEL, 487 to the INVITE: the library's */
}

static void sd_on_state(sipsess_session *s, sipsess_session_state state, void *ud)
{
    (void)s;
    call *c = ud;
    if (state != SIPSESS_SESSION_CONFIRMED || c->confirmed)
        return;
    c->confirmed = 1;
    /* Caller: --duration after the answer, 0 = at once. Answerer: only
     * when a duration was asked for; otherwise the peer hangs up. */
    if (c->outgoing || g_opt.duration > 0)
        schedule(c, (uint64_t)(g_opt.duration * 1000.0 + 0.5), hangup);
    if (g_opt.reinvite_after >= 0)
        schedule(c, (uint64_t)g_opt.reinvite_after, send_reinvite);
}

static void sd_on_terminated(sipsess_session *s, sipsess_term_cause cause, void *ud)
{
    (void)s;
    call *c = ud;
    c->terminated = 1;
    c->cause = cause;
    if (c->invite) {
        sipsess_request_unref(c->invite);
        c->invite = NULL;
    }
    if (c->refer) {
        sipsess_request_unref(c->refer);
        c->refer = NULL;
    }
    cancel_actions(c);
    call_check_done(c);
}

/* ------------------------------------------------------------------ */
/* Response delegates                                                  */

static void status_of(const sipsess_msg *resp, unsigned *status, char *reason, size_t cap)
{
    if (!resp) {
        *status = 408;
        snprintf(reason, cap, "Request Timeout");
        return;
    }
    sipsess_str r = sipsess_msg_reason(resp);
    *status = sipsess_msg_status(resp);
    snprintf(reason, cap, "%.*s", (int)r.len, r.p ? r.p : "");
}

static void invite_accepted(sipsess_session *s, const sipsess_msg *resp, void *ud)
{
    (void)resp;
    call *c = ud;
    if (c->answered)
        return; /* a retransmitted 2xx */
    c->answered = 1;
    /* Our INVITE always carries an offer, so a 2xx can only answer it or
     * repeat an answer already received in a reliable 1xx (RFC 3261
     * §13.2.1: later descriptions are ignored). If the session took the
     * body for a new offer it would wait for an ACK with an answer that
     * this tool never sends; end the call at once and say why. */
    if (sipsess_session_get_signaling_state(s) == SIPSESS_SIGNALING_HAVE_REMOTE_OFFER) {
        call_fail(c, "the 2xx body was taken as a new offer although our INVITE carried one");
        sipsess_session_terminate(s);
    }
    if (c->refer_parent)
        notify_referrer(c->refer_parent, 200, "OK");
}

static void invite_rejected(sipsess_session *s, const sipsess_msg *resp, void *ud)
{
    (void)s;
    call *c = ud;
    unsigned st;
    char reason[96];
    status_of(resp, &st, reason, sizeof reason);
    if (resp)
        call_fail(c, "INVITE answered %u %s", st, reason);
    else
        call_fail(c, "INVITE got no answer (timeout or transport error)");
    if (c->refer_parent)
        notify_referrer(c->refer_parent, st, reason);
}

static void bye_accepted(sipsess_session *s, const sipsess_msg *resp, void *ud)
{
    (void)s;
    (void)resp;
    call *c = ud;
    if (!c->bye_out)
        return;
    c->bye_out = 0;
    c->bye_ok = 1;
    c->pending--;
    call_check_done(c);
}

static void bye_rejected(sipsess_session *s, const sipsess_msg *resp, void *ud)
{
    (void)s;
    call *c = ud;
    if (!c->bye_out)
        return;
    c->bye_out = 0;
    if (resp)
        call_fail(c, "our BYE was answered %u", sipsess_msg_status(resp));
    else
        call_fail(c, "our BYE got no answer");
    c->pending--;
    call_check_done(c);
}

static void reinvite_accepted(sipsess_session *s, const sipsess_msg *resp, void *ud)
{
    (void)s;
    (void)resp;
    call *c = ud;
    if (!c->reinvite_out)
        return;
    c->reinvite_out = 0;
    c->pending--;
    call_check_done(c);
}

static void reinvite_rejected(sipsess_session *s, const sipsess_msg *resp, void *ud)
{
    (void)s;
    call *c = ud;
    if (!c->reinvite_out)
        return;
    c->reinvite_out = 0;
    /* 491 is glare, not failure: the library retries it (RFC 3261 §14.1). */
    if (resp && sipsess_msg_status(resp) == 491)
        tlog(SIPSESS_LOG_INFO, "call %u: our re-INVITE met glare (491)", c->id);
    else if (resp)
        call_fail(c, "our re-INVITE was answered %u", sipsess_msg_status(resp));
    else
        call_fail(c, "our re-INVITE got no answer");
    c->pending--;
    call_check_done(c);
}

static void notify_accepted(sipsess_session *s, const sipsess_msg *resp, void *ud)
{
    (void)s;
    (void)resp;
    call *c = ud;
    c->pending--;
    call_check_done(c);
}

static void notify_rejected(sipsess_session *s, const sipsess_msg *resp, void *ud)
{
    (void)s;
    call *c = ud;
    if (resp)
        call_fail(c, "our NOTIFY was answered %u", sipsess_msg_status(resp));
    else
        call_fail(c, "our NOTIFY got no answer");
    c->pending--;
    call_check_done(c);
}

/* ------------------------------------------------------------------ */
/* Calling                                                             */

static void place_call(const char *uri, unsigned refer_parent)
{
    call *c = call_new(1);
    g_stats.attempted++;
    if (!c) {
        g_stats.failed++;
        return;
    }
    c->refer_parent = refer_parent;
    sipsess_uri *u = NULL;
    if (sipsess_uri_parse(uri, strlen(uri), &u) == 0) {
        c->ipv6 = sipsess_uri_host_type(u) == SIPSESS_HOST_IPV6;
        sipsess_uri_free(u);
    }
    char sdp[2048];
    int n = ua_sdp_offer(&c->sdp, c->ipv6, "sendrecv", sdp, sizeof sdp);
    sipsess_session *s = NULL;
    int e = sipsess_ua_invite(g_ua, uri, sdp, (size_t)n, "application/sdp", NULL, g_invite_rd, c,
                              &s);
    if (!e) {
        c->s = sipsess_session_ref(s);
        e = sipsess_session_set_delegate(s, g_sd, c, on_session_gone);
        if (e)
            sipsess_session_terminate(s);
    }
    if (e) {
        call_fail(c, "cannot call %s: %s", uri, sipsess_errname(e));
        c->delegate_gone = 1;
        c->terminated = 1;
        if (refer_parent)
            notify_referrer(refer_parent, 503, "Service Unavailable");
        call_check_done(c);
    }
}

/* ------------------------------------------------------------------ */
/* Setup                                                               */

static int make_delegates(void)
{
    if (sipsess_session_delegate_new(&g_sd) || sipsess_response_delegate_new(&g_invite_rd) ||
        sipsess_response_delegate_new(&g_bye_rd) || sipsess_response_delegate_new(&g_reinvite_rd) ||
        sipsess_response_delegate_new(&g_notify_rd))
        return SIPSESS_ENOMEM;
    sipsess_session_delegate_set_on_ack(g_sd, sd_on_ack);
    sipsess_session_delegate_set_on_ack_timeout(g_sd, sd_on_ack_timeout);
    sipsess_session_delegate_set_on_bye(g_sd, sd_on_bye);
    sipsess_session_delegate_set_on_info(g_sd, sd_on_accept_plain);
    sipsess_session_delegate_set_on_message(g_sd, sd_on_accept_plain);
    sipsess_session_delegate_set_on_invite(g_sd, sd_on_reinvite);
    sipsess_session_delegate_set_on_update(g_sd, sd_on_update);
    sipsess_session_delegate_set_on_prack(g_sd, sd_on_prack);
    sipsess_session_delegate_set_on_refer(g_sd, sd_on_refer);
    sipsess_session_delegate_set_on_cancel(g_sd, sd_on_cancel);
    sipsess_session_delegate_set_on_state_change(g_sd, sd_on_state);
    sipsess_session_delegate_set_on_terminated(g_sd, sd_on_terminated);

    sipsess_response_delegate_set_on_accept(g_invite_rd, invite_accepted);
    sipsess_response_delegate_set_on_reject(g_invite_rd, invite_rejected);
    sipsess_response_delegate_set_on_redirect(g_invite_rd, invite_rejected);
    sipsess_response_delegate_set_on_accept(g_bye_rd, bye_accepted);
    sipsess_response_delegate_set_on_reject(g_bye_rd, bye_rejected);
    sipsess_response_delegate_set_on_redirect(g_bye_rd, bye_rejected);
    sipsess_response_delegate_set_on_accept(g_reinvite_rd, reinvite_accepted);
    sipsess_response_delegate_set_on_reject(g_reinvite_rd, reinvite_rejected);
    sipsess_response_delegate_set_on_redirect(g_reinvite_rd, reinvite_rejected);
    sipsess_response_delegate_set_on_accept(g_notify_rd, notify_accepted);
    sipsess_response_delegate_set_on_reject(g_notify_rd, notify_rejected);
    sipsess_response_delegate_set_on_redirect(g_notify_rd, notify_rejected);
    return 0;
}

static void free_delegates(void)
{
    sipsess_session_delegate_free(g_sd);
    sipsess_response_delegate_free(g_invite_rd);
    sipsess_response_delegate_free(g_bye_rd);
    sipsess_response_delegate_free(g_reinvite_rd);
    sipsess_response_delegate_free(g_notify_rd);
}

/* ------------------------------------------------------------------ */
/* OPTIONS mode (unchanged behaviour)                                  */

struct options_run {
    int sent, ok, failed, pending;
};

static void on_options(const sipsess_msg *msg, int final, int err, void *ud)
{
    struct options_run *r = ud;
    if (!final)
        return;
    r->pending--;
    if (msg && sipsess_msg_status(msg) >= 200 && sipsess_msg_status(msg) < 300)
        r->ok++;
    else {
        r->failed++;
        if (msg) {
            sipsess_str reason = sipsess_msg_reason(msg);
            fprintf(stderr, "OPTIONS failed: %u %.*s\n", sipsess_msg_status(msg),
                    (int)reason.len, reason.p);
        } else {
            fprintf(stderr, "OPTIONS failed: %s\n", sipsess_strerror(err));
        }
    }
}

static int run_options(long count)
{
    struct options_run r = {0, 0, 0, 0};
    for (long i = 0; i < count && !g_signalled; i++) {
        int e = sipsess_ua_request(g_ua, "OPTIONS", g_opt.options_uri, NULL, NULL, 0, NULL,
                                   on_options, &r);
        if (e) {
            fprintf(stderr, "sipsess-ua: OPTIONS %s: %s\n", g_opt.options_uri, sipsess_strerror(e));
            r.failed++;
            continue;
        }
        r.sent++;
        r.pending++;
        /* Keep a bounded number in flight so a long run stays gentle. */
        while (r.pending >= 50 && !g_signalled)
            sipsess_ua_step(g_ua, 100);
    }
    while (r.pending > 0 && !g_signalled)
        sipsess_ua_step(g_ua, 100);
    printf("options sent %d ok %d failed %d\n", r.sent, r.ok, r.failed);
    return r.ok == count ? 0 : 1;
}

/* ------------------------------------------------------------------ */
/* The call loop                                                       */

/* This process's resident set in kB (VmRSS), or -1. */
static long rss_kb(void)
{
    FILE *f = fopen("/proc/self/status", "r");
    if (!f)
        return -1;
    char line[256];
    long kb = -1;
    while (fgets(line, sizeof line, f))
        if (!strncmp(line, "VmRSS:", 6)) {
            kb = strtol(line + 6, NULL, 10);
            break;
        }
    fclose(f);
    return kb;
}

/* The SIGUSR1 line (see the file comment). */
static void print_stats(void)
{
    long rss = rss_kb(), trimmed = rss;
#ifdef __GLIBC__
    /* glibc keeps freed pages inside its heap for reuse; what a process
     * really holds shows once they are handed back. */
    malloc_trim(0);
    trimmed = rss_kb();
#endif
    printf("stats attempted %u ok %u failed %u live %u peak %u rss_kb %ld trimmed_rss_kb %ld",
           g_stats.attempted, g_stats.ok, g_stats.failed, g_live, g_peak, rss, trimmed);
    if (g_opt.mem_stats)
        printf(" lib_blocks %lld lib_bytes %lld", g_mem.blocks, g_mem.bytes);
    printf("\n");
}

/* Is there nothing left to do without a signal? */
static int finished(long count)
{
    if (g_live)
        return 0;
    if (g_opt.call_uri)
        return g_out_started >= (unsigned long)count;
    if (g_opt.answer && g_opt.count > 0)
        return g_in_done >= (unsigned long)g_opt.count;
    return 0; /* a server runs until a signal */
}

/* End every live call; the loop then runs until they are counted or the
 * grace time is over. */
static void shut_down_calls(void)
{
    for (call *c = g_calls; c; c = c->next) {
        if (c->terminated)
            continue;
        call_fail(c, "interrupted by a signal");
        cancel_actions(c);
        if (c->invite) {
            /* An unanswered incoming call: the held INVITE is refused. */
            sipsess_request_reject(c->invite, 480, NULL, NULL);
            sipsess_request_unref(c->invite);
            c->invite = NULL;
        } else {
            sipsess_session_terminate(c->s);
        }
    }
}

static int run_calls(long count)
{
    int rc = 0;
    double next_start = (double)now_ms();
    uint64_t deadline = 0, linger_end = 0;
    int stopping = 0;

    for (;;) {
        uint64_t now = now_ms();
        if (g_signalled && !stopping) {
            stopping = 1;
            deadline = now + 2000;
            shut_down_calls();
        }
        if (stopping) {
            if (!g_live || now >= deadline || g_signalled > 1)
                break;
        } else if (finished(count)) {
            /* --linger: stay a little longer for retransmissions and for
             * peers that hold a connection open after the last call. */
            if (!linger_end)
                linger_end = now + (uint64_t)g_opt.linger;
            if (now >= linger_end)
                break;
        }

        /* New calls at --rate, at most --max-concurrent at a time. A call
         * held back by the bound starts when a slot frees, without a
         * catch-up burst for the time lost. */
        int may_start = !stopping && g_opt.call_uri && g_out_started < (unsigned long)count;
        while (may_start && (double)now >= next_start) {
            if (g_opt.max_concurrent > 0 && g_live_out >= (unsigned long)g_opt.max_concurrent) {
                next_start = (double)now;
                break;
            }
            place_call(g_opt.call_uri, 0);
            g_out_started++;
            next_start += 1000.0 / g_opt.rate;
            may_start = g_out_started < (unsigned long)count;
        }

        run_due();

        /* Sleep in the loop until the next thing we must do ourselves. */
        uint64_t wake = UINT64_MAX;
        if (g_actions)
            wake = g_actions->due;
        if (may_start && !(g_opt.max_concurrent > 0 &&
                           g_live_out >= (unsigned long)g_opt.max_concurrent) &&
            (uint64_t)next_start < wake)
            wake = (uint64_t)next_start;
        if (stopping && deadline < wake)
            wake = deadline;
        if (linger_end && linger_end < wake)
            wake = linger_end;
        now = now_ms();
        int timeout = 1000;
        if (wake != UINT64_MAX)
            timeout = wake <= now ? 0 : (wake - now < 1000 ? (int)(wake - now) : 1000);
        int e = sipsess_ua_step(g_ua, timeout);
        if (e < 0) {
            fprintf(stderr, "sipsess-ua: %s\n", sipsess_strerror(e));
            rc = 1;
            break;
        }
        run_due();
        reap(0);
        if (g_stats_wanted) {
            g_stats_wanted = 0;
            print_stats();
        }
    }
    return rc;
}

/* ------------------------------------------------------------------ */
/* Command line                                                        */

static void usage(void)
{
    fprintf(stderr,
            "usage: sipsess-ua --listen SPEC [--listen SPEC]... [--log-level LEVEL] [--trace]\n"
            "                  [--print-ports] [--print-rusage] [--t1 MS] [--linger MS]\n"
            "                  [--answer [--answer-delay MS] [--reinvite-after MS] [--refer-follow]]\n"
            "                  [--call URI [--rate R] [--max-concurrent M]]\n"
            "                  [--count N] [--duration S] [--options URI]\n"
            "                  [--limit NAME=VALUE]... [--mem-stats]\n"
            "  SPEC: udp:IP:PORT | tcp:IP:PORT (IPv6 as [::1]; port 0 picks one)\n"
            "  LEVEL: none | error | warn | info | debug\n"
            "  NAME: msg_size | headers | transactions | tcp_connections | tcp_buffer |\n"
            "        tcp_idle_ms | udp_switch | sessions | pending\n");
}

/* strtol/strtod with the whole argument required and a lower bound. */
static int parse_long(const char *s, long min, long *out)
{
    char *end;
    long v = strtol(s, &end, 10);
    if (!*s || *end || v < min)
        return -1;
    *out = v;
    return 0;
}

static int parse_double(const char *s, double min, double *out)
{
    char *end;
    double v = strtod(s, &end);
    if (!*s || *end || !(v >= min))
        return -1;
    *out = v;
    return 0;
}

/* "NAME=VALUE" of --limit: the limit and its value. */
static int parse_limit(const char *s, sipsess_limit *which, unsigned *value)
{
    static const struct {
        const char *name;
        sipsess_limit id;
    } names[] = {
        {"msg_size", SIPSESS_LIMIT_MSG_SIZE},
        {"headers", SIPSESS_LIMIT_HEADERS},
        {"transactions", SIPSESS_LIMIT_TRANSACTIONS},
        {"tcp_connections", SIPSESS_LIMIT_TCP_CONNECTIONS},
        {"tcp_buffer", SIPSESS_LIMIT_TCP_BUFFER},
        {"tcp_idle_ms", SIPSESS_LIMIT_TCP_IDLE_MS},
        {"udp_switch", SIPSESS_LIMIT_UDP_SWITCH},
        {"sessions", SIPSESS_LIMIT_SESSIONS},
        {"pending", SIPSESS_LIMIT_PENDING},
    };
    const char *eq = strchr(s, '=');
    long v;
    if (!eq || parse_long(eq + 1, 0, &v) || v > 0x7fffffffL)
        return -1;
    size_t n = (size_t)(eq - s);
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (strlen(names[i].name) == n && !strncmp(s, names[i].name, n)) {
            if (which)
                *which = names[i].id;
            *value = (unsigned)v;
            return 0;
        }
    return -1;
}

static int parse_args(int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        int bad = 0;
        if (!strcmp(a, "--trace")) {
            g_opt.trace = 1;
            continue;
        } else if (!strcmp(a, "--print-ports")) {
            g_opt.print_ports = 1;
            continue;
        } else if (!strcmp(a, "--print-rusage")) {
            g_opt.print_rusage = 1;
            continue;
        } else if (!strcmp(a, "--answer")) {
            g_opt.answer = 1;
            continue;
        } else if (!strcmp(a, "--refer-follow")) {
            g_opt.refer_follow = 1;
            continue;
        } else if (!strcmp(a, "--mem-stats")) {
            g_opt.mem_stats = 1;
            continue;
        }
        /* Everything else takes a value. */
        if (!v) {
            usage();
            return -1;
        }
        i++;
        if (!strcmp(a, "--listen")) {
            if (g_opt.nlisten == MAX_LISTEN) {
                fprintf(stderr, "too many listeners\n");
                return -1;
            }
            g_opt.listens[g_opt.nlisten++] = v;
        } else if (!strcmp(a, "--limit")) {
            if (g_opt.nlimits == MAX_LIMITS) {
                fprintf(stderr, "too many limits\n");
                return -1;
            }
            unsigned val;
            bad = parse_limit(v, NULL, &val);
            g_opt.limits[g_opt.nlimits++] = v;
        } else if (!strcmp(a, "--log-level")) {
            static const char *const names[] = {"none", "error", "warn", "info", "debug"};
            bad = 1;
            for (int k = 0; k < 5; k++)
                if (!strcmp(v, names[k])) {
                    g_opt.level = (sipsess_log_level)k;
                    bad = 0;
                }
        } else if (!strcmp(a, "--options")) {
            g_opt.options_uri = v;
        } else if (!strcmp(a, "--call")) {
            g_opt.call_uri = v;
        } else if (!strcmp(a, "--count")) {
            bad = parse_long(v, 1, &g_opt.count);
        } else if (!strcmp(a, "--rate")) {
            bad = parse_double(v, 0.001, &g_opt.rate);
        } else if (!strcmp(a, "--duration")) {
            bad = parse_double(v, 0, &g_opt.duration);
        } else if (!strcmp(a, "--max-concurrent")) {
            bad = parse_long(v, 1, &g_opt.max_concurrent);
        } else if (!strcmp(a, "--answer-delay")) {
            bad = parse_long(v, 0, &g_opt.answer_delay);
        } else if (!strcmp(a, "--reinvite-after")) {
            bad = parse_long(v, 0, &g_opt.reinvite_after);
        } else if (!strcmp(a, "--t1")) {
            bad = parse_long(v, 1, &g_opt.t1);
        } else if (!strcmp(a, "--linger")) {
            bad = parse_long(v, 0, &g_opt.linger);
        } else {
            bad = 1;
        }
        if (bad) {
            fprintf(stderr, "sipsess-ua: bad option %s %s\n", a, v);
            usage();
            return -1;
        }
    }
    if (!g_opt.nlisten || (g_opt.options_uri && (g_opt.call_uri || g_opt.answer))) {
        usage();
        return -1;
    }
    return 0;
}

int main(int argc, char **argv)
{
    if (parse_args(argc, argv))
        return 2;
    /* Line-buffered so a reader of our output (the test scripts, a pipe
     * into less) sees each ladder line and the listening ports at once. */
    setvbuf(stdout, NULL, _IOLBF, 0);
    g_t0 = now_ms();

    /* Before the library's first allocation, which the hook requires. */
    if (g_opt.mem_stats &&
        sipsess_set_allocator(count_malloc, count_realloc, count_free, NULL) != 0) {
        fprintf(stderr, "sipsess-ua: cannot install the counting allocator\n");
        return 1;
    }

    sipsess_ua_config *cfg = NULL;
    int e = sipsess_ua_config_new(&cfg);
    for (int i = 0; !e && i < g_opt.nlimits; i++) {
        sipsess_limit which = SIPSESS_LIMIT_MSG_SIZE;
        unsigned val = 0;
        parse_limit(g_opt.limits[i], &which, &val);
        e = sipsess_ua_config_set_limit(cfg, which, val);
        if (e)
            fprintf(stderr, "sipsess-ua: --limit %s: %s\n", g_opt.limits[i], sipsess_strerror(e));
    }
    if (!e)
        e = sipsess_ua_config_set_log(cfg, g_opt.level, log_cb, NULL);
    if (!e && g_opt.trace)
        e = sipsess_ua_config_set_trace(cfg, trace_cb, NULL);
    if (!e && g_opt.t1 > 0) {
        /* T2 stays 4 s unless T1 exceeds it (T2 >= T1 is required). */
        unsigned t1 = (unsigned)g_opt.t1, t2 = t1 > 4000 ? t1 : 4000;
        e = sipsess_ua_config_set_timers(cfg, t1, t2, 5000);
    }
    if (!e)
        e = sipsess_ua_new(cfg, &g_ua);
    sipsess_ua_config_free(cfg);
    if (!e)
        e = make_delegates();
    if (e) {
        fprintf(stderr, "sipsess-ua: %s\n", sipsess_strerror(e));
        sipsess_ua_free(g_ua);
        free_delegates();
        return 1;
    }
    if (g_opt.answer) {
        sipsess_ua_delegate *ud = NULL;
        e = sipsess_ua_delegate_new(&ud);
        if (!e) {
            sipsess_ua_delegate_set_on_invite(ud, on_incoming);
            e = sipsess_ua_set_delegate(g_ua, ud, NULL, NULL);
        }
        sipsess_ua_delegate_free(ud);
        if (e) {
            fprintf(stderr, "sipsess-ua: %s\n", sipsess_strerror(e));
            sipsess_ua_free(g_ua);
            free_delegates();
            return 1;
        }
    }
    /* Before the listening lines: a script that reads them may signal us
     * at once. */
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGUSR1, &sa, NULL);

    for (int i = 0; i < g_opt.nlisten; i++) {
        int idx = sipsess_ua_listen(g_ua, g_opt.listens[i]);
        if (idx < 0) {
            fprintf(stderr, "sipsess-ua: listen %s: %s\n", g_opt.listens[i], sipsess_strerror(idx));
            sipsess_ua_free(g_ua);
            free_delegates();
            return 1;
        }
        if (g_opt.print_ports) {
            char spec[96];
            if (sipsess_ua_listener_spec(g_ua, idx, spec, sizeof spec, NULL) == 0)
                printf("listening %s\n", spec);
        }
    }

    int rc;
    long count = g_opt.count > 0 ? g_opt.count : 1;
    if (g_opt.options_uri) {
        rc = run_options(count);
    } else {
        rc = run_calls(count);
        /* A caller must have made every call it was asked for; an
         * answerer with --count must have seen that many end. */
        if (g_opt.call_uri && g_stats.ok != (unsigned long)count)
            rc = 1;
        if (!g_opt.call_uri && g_opt.answer && g_opt.count > 0 &&
            g_in_done < (unsigned long)g_opt.count)
            rc = 1;
    }

    /* Our references go first; the call structs stay until the UA is
     * freed, because freeing it ends any session still alive (after a
     * second signal or the grace time) and its callbacks still name
     * their calls. */
    for (call *c = g_calls; c; c = c->next) {
        if (c->invite)
            sipsess_request_unref(c->invite);
        if (c->refer)
            sipsess_request_unref(c->refer);
        c->invite = c->refer = NULL;
        sipsess_session_unref(c->s);
        c->s = NULL;
    }
    sipsess_ua_free(g_ua);
    g_ua = NULL;
    for (call *c = g_calls; c; c = c->next)
        if (!c->counted) {
            call_fail(c, "still running at exit");
            c->terminated = 1;
            c->pending = 0;
            call_check_done(c);
        }
    reap(1);
    free_delegates();
    if (g_stats.failed)
        rc = 1;
    printf("calls attempted %u ok %u failed %u\n", g_stats.attempted, g_stats.ok,
           g_stats.failed);
    if (g_opt.print_rusage) {
        struct rusage ru;
        if (getrusage(RUSAGE_SELF, &ru) == 0)
            printf("rusage utime_us %lld stime_us %lld maxrss_kb %ld\n",
                   (long long)ru.ru_utime.tv_sec * 1000000 + (long long)ru.ru_utime.tv_usec,
                   (long long)ru.ru_stime.tv_sec * 1000000 + (long long)ru.ru_stime.tv_usec,
                   (long)ru.ru_maxrss);
    }
    return rc;
}
