/*
 * sipsess-ua — the reference user agent, built only on the public API.
 *
 *   sipsess-ua --listen udp:127.0.0.1:5060 [--listen tcp:[::1]:5060]...
 *              [--log-level error|warn|info|debug] [--trace]
 *              [--options URI [--count N]] [--print-ports]
 *
 * As a server it answers what the library answers (OPTIONS at this stage).
 * --options sends N OPTIONS requests to URI and exits 0 when every one got
 * a 2xx. SIGINT/SIGTERM stop it cleanly.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sipsess/sipsess.h>

static sipsess_ua *g_ua;
static volatile sig_atomic_t g_signalled;

static void on_signal(int sig)
{
    (void)sig;
    g_signalled = 1;
    /* sipsess_ua_wake is async-signal-safe: it writes to an eventfd. */
    if (g_ua)
        sipsess_ua_wake(g_ua);
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

static void trace_cb(int out, const char *transport, const char *local, const char *remote,
                     const char *data, size_t len, void *ud)
{
    (void)ud;
    /* First line only, as a ladder: local --> remote. */
    size_t fl = 0;
    while (fl < len && data[fl] != '\r' && data[fl] != '\n')
        fl++;
    fprintf(stdout, "%s %-22s %s %-22s %.*s\n", transport, local, out ? "-->" : "<--", remote,
            (int)fl, data);
    fflush(stdout);
}

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

static void usage(void)
{
    fprintf(stderr,
            "usage: sipsess-ua --listen SPEC [--listen SPEC]... [--log-level LEVEL] [--trace]\n"
            "                  [--options URI [--count N]] [--print-ports]\n"
            "  SPEC: udp:IP:PORT | tcp:IP:PORT (IPv6 as [::1]; port 0 picks one)\n");
}

int main(int argc, char **argv)
{
    const char *listens[16];
    int nlisten = 0, trace = 0, print_ports = 0, count = 1;
    const char *options_uri = NULL;
    sipsess_log_level level = SIPSESS_LOG_WARN;

    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--listen") && i + 1 < argc) {
            if (nlisten == 16) {
                fprintf(stderr, "too many listeners\n");
                return 2;
            }
            listens[nlisten++] = argv[++i];
        } else if (!strcmp(a, "--log-level") && i + 1 < argc) {
            const char *l = argv[++i];
            if (!strcmp(l, "none"))
                level = SIPSESS_LOG_NONE;
            else if (!strcmp(l, "error"))
                level = SIPSESS_LOG_ERROR;
            else if (!strcmp(l, "warn"))
                level = SIPSESS_LOG_WARN;
            else if (!strcmp(l, "info"))
                level = SIPSESS_LOG_INFO;
            else if (!strcmp(l, "debug"))
                level = SIPSESS_LOG_DEBUG;
            else {
                usage();
                return 2;
            }
        } else if (!strcmp(a, "--trace")) {
            trace = 1;
        } else if (!strcmp(a, "--print-ports")) {
            print_ports = 1;
        } else if (!strcmp(a, "--options") && i + 1 < argc) {
            options_uri = argv[++i];
        } else if (!strcmp(a, "--count") && i + 1 < argc) {
            count = atoi(argv[++i]);
            if (count < 1) {
                usage();
                return 2;
            }
        } else {
            usage();
            return 2;
        }
    }
    if (!nlisten) {
        usage();
        return 2;
    }

    sipsess_ua_config *cfg = NULL;
    int e = sipsess_ua_config_new(&cfg);
    if (!e)
        e = sipsess_ua_config_set_log(cfg, level, log_cb, NULL);
    if (!e && trace)
        e = sipsess_ua_config_set_trace(cfg, trace_cb, NULL);
    if (!e)
        e = sipsess_ua_new(cfg, &g_ua);
    sipsess_ua_config_free(cfg);
    if (e) {
        fprintf(stderr, "sipsess-ua: %s\n", sipsess_strerror(e));
        return 1;
    }
    for (int i = 0; i < nlisten; i++) {
        int idx = sipsess_ua_listen(g_ua, listens[i]);
        if (idx < 0) {
            fprintf(stderr, "sipsess-ua: listen %s: %s\n", listens[i], sipsess_strerror(idx));
            sipsess_ua_free(g_ua);
            return 1;
        }
        if (print_ports) {
            char spec[96];
            if (sipsess_ua_listener_spec(g_ua, idx, spec, sizeof spec, NULL) == 0)
                printf("listening %s\n", spec);
            fflush(stdout);
        }
    }

    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);

    int rc = 0;
    if (options_uri) {
        struct options_run r = {0, 0, 0, 0};
        for (int i = 0; i < count && !g_signalled; i++) {
            e = sipsess_ua_request(g_ua, "OPTIONS", options_uri, NULL, NULL, 0, NULL, on_options,
                                   &r);
            if (e) {
                fprintf(stderr, "sipsess-ua: OPTIONS %s: %s\n", options_uri, sipsess_strerror(e));
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
        rc = (r.ok == count) ? 0 : 1;
    } else {
        while (!g_signalled) {
            e = sipsess_ua_step(g_ua, -1);
            if (e < 0) {
                fprintf(stderr, "sipsess-ua: %s\n", sipsess_strerror(e));
                rc = 1;
                break;
            }
        }
    }
    sipsess_ua_free(g_ua);
    g_ua = NULL;
    return rc;
}
