/* Helpers shared by the C examples: see common.h. */
#include "common.h"

#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *g_prog = "example";

void ex_log_init(const char *prog)
{
    g_prog = prog;
}

void ex_log(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    printf("%s(c): ", g_prog);
    vprintf(fmt, ap);
    putchar('\n');
    fflush(stdout);
    va_end(ap);
}

static void lib_log(sipsess_log_level level, const char *msg, void *ud)
{
    (void)level;
    (void)ud;
    fprintf(stderr, "%s(c): [library] %s\n", g_prog, msg);
}

sipsess_ua *ex_ua_new(const char *listen, const char *identity)
{
    sipsess_ua_config *cfg = NULL;
    sipsess_ua *ua = NULL;
    int e = sipsess_ua_config_new(&cfg);
    if (!e)
        e = sipsess_ua_config_set_identity(cfg, identity);
    if (!e)
        e = sipsess_ua_config_set_log(cfg, SIPSESS_LOG_WARN, lib_log, NULL);
    if (!e)
        e = sipsess_ua_new(cfg, &ua);
    sipsess_ua_config_free(cfg);
    if (e) {
        fprintf(stderr, "%s(c): cannot make the UA: %s\n", g_prog, sipsess_strerror(e));
        return NULL;
    }
    e = sipsess_ua_listen(ua, listen);
    if (e < 0) {
        fprintf(stderr, "%s(c): listen %s: %s\n", g_prog, listen, sipsess_strerror(e));
        sipsess_ua_free(ua);
        return NULL;
    }
    return ua;
}

size_t ex_sdp(char *buf, size_t cap, unsigned version, const char *direction, unsigned port)
{
    int n = snprintf(buf, cap,
                     "v=0\r\n"
                     "o=- 4242 %u IN IP4 127.0.0.1\r\n"
                     "s=-\r\n"
                     "c=IN IP4 127.0.0.1\r\n"
                     "t=0 0\r\n"
                     "m=audio %u RTP/AVP 0\r\n"
                     "a=rtpmap:0 PCMU/8000\r\n"
                     "a=%s\r\n",
                     version, port, direction ? direction : "sendrecv");
    if (n < 0)
        return 0;
    return (size_t)n < cap ? (size_t)n : cap - 1;
}

const char *ex_direction(sipsess_str body)
{
    static const char *const dirs[] = {"sendrecv", "sendonly", "recvonly", "inactive"};
    if (!body.p || !body.len)
        return "none";
    const char *p = body.p, *end = body.p + body.len;
    while (p < end) {
        const char *eol = memchr(p, '\n', (size_t)(end - p));
        const char *le = eol ? eol : end;
        size_t n = (size_t)(le - p);
        while (n && (p[n - 1] == '\r' || p[n - 1] == ' '))
            n--;
        if (n > 2 && p[0] == 'a' && p[1] == '=') {
            for (size_t i = 0; i < sizeof dirs / sizeof dirs[0]; i++)
                if (n - 2 == strlen(dirs[i]) && !memcmp(p + 2, dirs[i], n - 2))
                    return dirs[i];
        }
        p = eol ? eol + 1 : end;
    }
    return "sendrecv";
}

const char *ex_mirror(const char *direction)
{
    if (!strcmp(direction, "sendonly"))
        return "recvonly";
    if (!strcmp(direction, "recvonly"))
        return "sendonly";
    if (!strcmp(direction, "inactive"))
        return "inactive";
    return "sendrecv";
}

void ex_refer_target(sipsess_str v, char *out, size_t cap)
{
    const char *p = v.p ? v.p : "", *e = p + v.len;
    const char *lt = memchr(p, '<', v.len);
    if (lt) {
        p = lt + 1;
        const char *gt = memchr(p, '>', (size_t)(e - p));
        if (gt)
            e = gt;
    } else {
        while (p < e && *p == ' ')
            p++;
        const char *semi = memchr(p, ';', (size_t)(e - p));
        if (semi)
            e = semi;
    }
    const char *q = memchr(p, '?', (size_t)(e - p));
    if (q)
        e = q;
    snprintf(out, cap, "%.*s", (int)(e - p), p);
}

const char *ex_state_name(sipsess_session_state state)
{
    static const char *const names[] = {"Initial", "Early", "AckWait", "Confirmed", "Terminated"};
    return (unsigned)state < sizeof names / sizeof names[0] ? names[state] : "?";
}

const char *ex_cause_name(sipsess_term_cause cause)
{
    static const char *const names[] = {"None",      "LocalBye",   "RemoteBye",   "Rejected",
                                        "Cancelled", "Redirected", "AckTimeout",  "Timeout",
                                        "Transport", "PrackTimeout", "Replaced",  "ForkLoser",
                                        "UaShutdown", "DialogError"};
    return (unsigned)cause < sizeof names / sizeof names[0] ? names[cause] : "?";
}

const char *ex_status_text(const sipsess_msg *resp, char *buf, size_t cap)
{
    if (!resp)
        snprintf(buf, cap, "no response");
    else
        snprintf(buf, cap, "%u %.*s", sipsess_msg_status(resp), EX_STR(sipsess_msg_reason(resp)));
    return buf;
}

/* ---- timers and the loop ---- */

typedef struct ex_timer {
    uint64_t at;
    ex_fn fn;
    void *arg;
    struct ex_timer *next;
} ex_timer;

static ex_timer *g_timers; /* sorted by `at`, first in first out for equal times */
static volatile sig_atomic_t g_signalled;

int ex_later(sipsess_ua *ua, uint64_t ms, ex_fn fn, void *arg)
{
    ex_timer *t = malloc(sizeof *t);
    if (!t)
        return SIPSESS_ENOMEM;
    t->at = sipsess_ua_now_ms(ua) + ms;
    t->fn = fn;
    t->arg = arg;
    ex_timer **pp = &g_timers;
    while (*pp && (*pp)->at <= t->at)
        pp = &(*pp)->next;
    t->next = *pp;
    *pp = t;
    return 0;
}

static void on_signal(int sig)
{
    (void)sig;
    g_signalled = 1;
}

int ex_run(sipsess_ua *ua, int (*done)(void), double max_s)
{
    signal(SIGINT, on_signal);
    signal(SIGTERM, on_signal);
    uint64_t end = sipsess_ua_now_ms(ua) + (uint64_t)(max_s * 1000.0);
    for (;;) {
        while (g_timers && g_timers->at <= sipsess_ua_now_ms(ua)) {
            ex_timer *t = g_timers;
            g_timers = t->next;
            t->fn(t->arg);
            free(t);
        }
        if (done())
            return 1;
        uint64_t now = sipsess_ua_now_ms(ua);
        if (now >= end || g_signalled)
            return 0;
        uint64_t wait = end - now < 50 ? end - now : 50;
        if (g_timers && g_timers->at - now < wait)
            wait = g_timers->at - now;
        int e = sipsess_ua_step(ua, (int)wait);
        if (e < 0) {
            fprintf(stderr, "%s(c): loop: %s\n", g_prog, sipsess_strerror(e));
            return 0;
        }
    }
}

void ex_timers_clear(void)
{
    while (g_timers) {
        ex_timer *t = g_timers;
        g_timers = t->next;
        free(t);
    }
}

double ex_number(const char *name, const char *value, const char *usage)
{
    char *end = NULL;
    double v = value ? strtod(value, &end) : 0;
    if (!value || end == value || *end || v < 0) {
        fprintf(stderr, "%s(c): %s wants a number\n%s\n", g_prog, name, usage);
        exit(2);
    }
    return v;
}
