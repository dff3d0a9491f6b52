/*
 * User agent core (RFC 3261 §8): configuration, listeners, loop driving,
 * and the UAS checks every request goes through before a method handler
 * sees it (§8.2: method, URI scheme, merged requests, Require, malformed
 * requests), the
 * routing of requests to dialogs and sessions (§12.2.2, §9.2) and of the
 * rest to the UA delegate, and out-of-dialog client requests.
 *
 * Calls the session and transaction layers (and, to set them up, the
 * transport and the loop it is given).
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sipsess/ua.h"
#include "sipsess/version.h"
#include "runtime/log.h"
#include "runtime/loop.h"
#include "runtime/mem.h"
#include "transport/transport.h"
#include "txn/txn.h"
#include "ua/ua_int.h"

/* ------------------------------------------------------------------ */
/* configuration                                                       */

static void config_defaults(sipsess_ua_config *c)
{
    memset(c, 0, sizeof *c);
    snprintf(c->user_agent, sizeof c->user_agent, "libsipsess/%s", SIPSESS_VERSION_STRING);
    sipsess__txn_timers_init(&c->timers);
    sipsess__tp_config_init(&c->tp);
    c->log_level = SIPSESS_LOG_NONE;
    c->sess.auto_ack = true;
    c->sess.auto_prack = true;
    c->sess.rel100 = SIPSESS_100REL_SUPPORTED;
    c->sess.max_sessions = 10000;
    c->sess.max_pending = 32;
}

SIPSESS_API int sipsess_ua_config_new(sipsess_ua_config **out)
{
    if (!out)
        return SIPSESS_EINVAL;
    sipsess_ua_config *c = sipsess__malloc(sizeof *c);
    if (!c)
        return SIPSESS_ENOMEM;
    config_defaults(c);
    *out = c;
    return 0;
}

SIPSESS_API void sipsess_ua_config_free(sipsess_ua_config *cfg)
{
    sipsess__free(cfg);
}

static bool header_safe(const char *s)
{
    for (; *s; s++)
        if (*s == '\r' || *s == '\n')
            return false;
    return true;
}

SIPSESS_API int sipsess_ua_config_set_user_agent(sipsess_ua_config *cfg, const char *ua)
{
    if (!cfg || !ua || strlen(ua) >= sizeof cfg->user_agent || !header_safe(ua))
        return SIPSESS_EINVAL;
    strcpy(cfg->user_agent, ua);
    return 0;
}

SIPSESS_API int sipsess_ua_config_set_timers(sipsess_ua_config *cfg, unsigned t1_ms,
                                             unsigned t2_ms, unsigned t4_ms)
{
    /* 64*T1 must stay well inside 32-bit ms arithmetic. */
    if (!cfg || t1_ms == 0 || t2_ms < t1_ms || t4_ms == 0 || t1_ms > 60000 || t2_ms > 600000 ||
        t4_ms > 600000)
        return SIPSESS_EINVAL;
    cfg->timers.t1 = t1_ms;
    cfg->timers.t2 = t2_ms;
    cfg->timers.t4 = t4_ms;
    return 0;
}

SIPSESS_API int sipsess_ua_config_set_limit(sipsess_ua_config *cfg, sipsess_limit which,
                                            unsigned value)
{
    if (!cfg)
        return SIPSESS_EINVAL;
    switch (which) {
    case SIPSESS_LIMIT_MSG_SIZE:
        if (value < 1024 || value > 16u * 1024 * 1024)
            return SIPSESS_EINVAL;
        cfg->tp.parse.max_msg_size = value;
        return 0;
    case SIPSESS_LIMIT_HEADERS:
        if (value < 8 || value > 30000)
            return SIPSESS_EINVAL;
        cfg->tp.parse.max_headers = value;
        return 0;
    case SIPSESS_LIMIT_TRANSACTIONS:
        if (value < 1)
            return SIPSESS_EINVAL;
        cfg->timers.max_transactions = value;
        return 0;
    case SIPSESS_LIMIT_TCP_CONNECTIONS:
        if (value < 1)
            return SIPSESS_EINVAL;
        cfg->tp.max_connections = value;
        return 0;
    case SIPSESS_LIMIT_TCP_BUFFER:
        if (value < 1024)
            return SIPSESS_EINVAL;
        cfg->tp.max_conn_buffer = value;
        return 0;
    case SIPSESS_LIMIT_TCP_IDLE_MS:
        if (value < 10)
            return SIPSESS_EINVAL;
        cfg->tp.tcp_idle_ms = value;
        return 0;
    case SIPSESS_LIMIT_UDP_SWITCH:
        cfg->tp.udp_mtu_switch = value;
        return 0;
    case SIPSESS_LIMIT_SESSIONS:
        if (value < 1)
            return SIPSESS_EINVAL;
        cfg->sess.max_sessions = value;
        return 0;
    case SIPSESS_LIMIT_PENDING:
        if (value < 1)
            return SIPSESS_EINVAL;
        cfg->sess.max_pending = value;
        return 0;
    }
    return SIPSESS_EINVAL;
}

SIPSESS_API int sipsess_ua_config_set_identity(sipsess_ua_config *cfg, const char *identity)
{
    if (!cfg || !identity || strlen(identity) >= sizeof cfg->sess.identity ||
        !header_safe(identity))
        return SIPSESS_EINVAL;
    /* "Name <uri>" or a bare URI: the URI must parse (§20.20 From). */
    const char *lt = strchr(identity, '<');
    const char *u = lt ? lt + 1 : identity;
    size_t n = lt ? strcspn(u, ">") : strlen(u);
    if (lt && u[n] != '>')
        return SIPSESS_EURI;
    sipsess_uri *uri = NULL;
    int e = sipsess_uri_parse(u, n, &uri);
    if (e)
        return e;
    sipsess_uri_scheme sc = sipsess_uri_scheme_id(uri);
    sipsess_uri_free(uri);
    if (sc != SIPSESS_URI_SIP && sc != SIPSESS_URI_SIPS && sc != SIPSESS_URI_TEL)
        return SIPSESS_EURI;
    strcpy(cfg->sess.identity, identity);
    return 0;
}

SIPSESS_API int sipsess_ua_config_set_auto_ack(sipsess_ua_config *cfg, int on)
{
    if (!cfg)
        return SIPSESS_EINVAL;
    cfg->sess.auto_ack = on != 0;
    return 0;
}

SIPSESS_API int sipsess_ua_config_set_auto_prack(sipsess_ua_config *cfg, int on)
{
    if (!cfg)
        return SIPSESS_EINVAL;
    cfg->sess.auto_prack = on != 0;
    return 0;
}

SIPSESS_API int sipsess_ua_config_set_accept_forks(sipsess_ua_config *cfg, int on)
{
    if (!cfg)
        return SIPSESS_EINVAL;
    cfg->sess.accept_forks = on != 0;
    return 0;
}

SIPSESS_API int sipsess_ua_config_set_100rel(sipsess_ua_config *cfg, sipsess_100rel mode)
{
    if (!cfg || (mode != SIPSESS_100REL_OFF && mode != SIPSESS_100REL_SUPPORTED &&
                 mode != SIPSESS_100REL_REQUIRED))
        return SIPSESS_EINVAL;
    cfg->sess.rel100 = (int)mode;
    return 0;
}

SIPSESS_API int sipsess_ua_config_set_virtual_clock(sipsess_ua_config *cfg, int on)
{
    if (!cfg)
        return SIPSESS_EINVAL;
    cfg->virtual_clock = on != 0;
    return 0;
}

SIPSESS_API int sipsess_ua_config_set_log(sipsess_ua_config *cfg, sipsess_log_level level,
                                          sipsess_log_fn fn, void *userdata)
{
    if (!cfg || (int)level < SIPSESS_LOG_NONE || level > SIPSESS_LOG_DEBUG)
        return SIPSESS_EINVAL;
    cfg->log_level = level;
    cfg->log_fn = fn;
    cfg->log_ud = userdata;
    return 0;
}

SIPSESS_API int sipsess_ua_config_set_trace(sipsess_ua_config *cfg, sipsess_trace_fn fn,
                                            void *userdata)
{
    if (!cfg)
        return SIPSESS_EINVAL;
    cfg->trace_fn = fn;
    cfg->trace_ud = userdata;
    return 0;
}

SIPSESS_API int sipsess_ua_config_set_memnet(sipsess_ua_config *cfg, sipsess_memnet *net)
{
    if (!cfg)
        return SIPSESS_EINVAL;
    cfg->tp.memnet = net;
    return 0;
}

/* ------------------------------------------------------------------ */
/* trace adapter                                                       */

/* "udp:127.0.0.1:5060" → "127.0.0.1:5060": the public trace gives the
 * transport separately. */
static const char *after_proto(const char *spec)
{
    const char *c = strchr(spec, ':');
    return c ? c + 1 : spec;
}

static void trace_tp(void *arg, bool out, const sipsess__addr *local, const sipsess__addr *remote,
                     const char *data, size_t len)
{
    sipsess_ua *ua = arg;
    char l[96] = "", r[96] = "";
    if (local)
        sipsess__addr_print(local, l, sizeof l);
    if (remote)
        sipsess__addr_print(remote, r, sizeof r);
    const char *proto = sipsess__tp_proto_token((sipsess__proto)(remote ? remote->proto : 0));
    ua->cfg.trace_fn(out, proto, after_proto(l), after_proto(r), data, len, ua->cfg.trace_ud);
}

/* ------------------------------------------------------------------ */
/* UAS core: checks before method dispatch (§8.2)                      */

static void reply(sipsess_ua *ua, sipsess__txn *st, unsigned status, const char *reason,
                  const char *extra)
{
    char tag[17];
    const char *to_tag = NULL;
    /* A final response outside a dialog carries a To tag (§8.2.6.2). */
    if (status > 100 && sipsess__random_token(tag, sizeof tag - 1) == 0) {
        tag[sizeof tag - 1] = '\0';
        to_tag = tag;
    }
    int e = sipsess__st_reply(st, status, reason, to_tag, extra);
    if (e)
        SIPSESS__LOG(&ua->log, SIPSESS_LOG_WARN, "sending %u failed: %s", status,
                     sipsess_strerror(e));
}

/* An out-of-dialog request for the UA delegate (session.h documents the
 * defaults). */
static void ood_request(sipsess_ua *ua, sipsess__txn *st, sipsess_method m)
{
    char extra[512];
    const char *dextra = NULL;
    unsigned dflt;
    sipsess_ua_request_cb cb = ua->del.on_request;
    switch (m) {
    case SIPSESS_METHOD_OPTIONS:
        /* §11.2. Max-Forwards 0 is still answered: a UAS is the final
         * destination (RFC 4475 zeromf, RFC 3261 §11). */
        snprintf(extra, sizeof extra,
                 "Allow: %s\r\nAccept: application/sdp\r\nSupported: %s\r\nServer: %s\r\n",
                 sipsess__sl_allow(), sipsess__sl_supported(ua->sl), ua->cfg.user_agent);
        dextra = extra;
        dflt = 200;
        break;
    case SIPSESS_METHOD_MESSAGE:
    case SIPSESS_METHOD_NOTIFY:
        dflt = cb ? 200 : 405;
        break;
    case SIPSESS_METHOD_REFER:
        dflt = 603;
        break;
    case SIPSESS_METHOD_OTHER:
        dflt = 501;
        break;
    default:
        dflt = 405;
        break;
    }
    if (dflt == 405 || dflt == 501) {
        snprintf(extra, sizeof extra, "Allow: %s\r\n", sipsess__sl_allow());
        dextra = extra;
    }
    if (!cb) {
        reply(ua, st, dflt, NULL, dextra);
        return;
    }
    sipsess_request *req = NULL;
    if (sipsess__req_new(ua->sl, st, NULL, NULL, SIPSESS__RQ_OOD, &req)) {
        reply(ua, st, 500, NULL, NULL);
        return;
    }
    sipsess__sl_enter(ua->sl);
    int rc = cb(ua, req, ua->del_ud);
    sipsess__req_after_cb(req, rc, dflt, dextra);
    sipsess__sl_leave(ua->sl);
}

/* A new INVITE: a session for it, handed to the UA delegate (default 480,
 * session.h). */
static void new_invite(sipsess_ua *ua, sipsess__txn *st)
{
    sipsess_session *s = NULL;
    sipsess_request *req = NULL;
    sipsess__sl_enter(ua->sl);
    int e = sipsess__sl_new_invite(ua->sl, st, &s, &req);
    if (e == SIPSESS_ELIMIT) {
        /* §21.5.4: overloaded; come back later. */
        char ra[48];
        sipsess__retry_after(ra, sizeof ra);
        reply(ua, st, 503, NULL, ra);
    } else if (e == SIPSESS_ENOMEM) {
        reply(ua, st, 500, NULL, NULL);
    } else if (e == 0) {
        sipsess__sess_hold(s);
        int rc = 0;
        if (ua->del.on_invite)
            rc = ua->del.on_invite(ua, s, req, ua->del_ud);
        sipsess__req_after_cb(req, rc, 480, NULL);
        sipsess__sess_release(s);
    }
    sipsess__sl_leave(ua->sl);
}

static void on_request(void *arg, sipsess__txn *st)
{
    sipsess_ua *ua = arg;
    const sipsess_msg *req = sipsess__txn_request(st);
    sipsess_method m = sipsess_msg_method(req);
    char extra[512];

    if (m == SIPSESS_METHOD_ACK)
        return; /* never answered */

    int perr = sipsess_msg_error(req, NULL);
    /* A request over one of the parser's limits reaches us as its routing
     * fields only (the transport's salvage): §21.4.12, §21.5.14. */
    if (perr == SIPSESS_EURITOOLONG) {
        reply(ua, st, 414, NULL, NULL);
        return;
    }
    if (perr == SIPSESS_ETOOBIG || perr == SIPSESS_ETOOMANYHDRS || perr == SIPSESS_ETOOMANYVIA ||
        perr == SIPSESS_EHDRTOOLONG) {
        snprintf(extra, sizeof extra, "Message Too Large (%s)", sipsess_strerror(perr));
        reply(ua, st, 513, extra, NULL);
        return;
    }
    if (perr == SIPSESS_EVERSION) {
        reply(ua, st, 505, NULL, NULL);
        return;
    }
    if (perr && m != SIPSESS_METHOD_OTHER) {
        /* The reason phrase tells the peer what was wrong (§21.4.1). */
        snprintf(extra, sizeof extra, "Bad Request (%s)", sipsess_strerror(perr));
        reply(ua, st, 400, extra, NULL);
        return;
    }
    if (perr) {
        /* §8.2.1: an unknown method gets 501 even when the rest is broken
         * (RFC 4475 mismatch02 prefers 501). */
        snprintf(extra, sizeof extra, "Allow: %s\r\n", sipsess__sl_allow());
        reply(ua, st, 501, NULL, extra);
        return;
    }
    const sipsess_hdr *to = sipsess_msg_hdr(req, SIPSESS_HDR_TO, 0);
    bool tagged = to && sipsess_nameaddr_tag(to).len > 0;
    if (m == SIPSESS_METHOD_CANCEL) {
        /* §9.2: the CANCEL's target is the INVITE server transaction it
         * matches; without a session behind it, 481. */
        sipsess__txn *target = sipsess__st_cancel_target(ua->txl, st);
        if (!sipsess__sl_cancel(ua->sl, st, target))
            reply(ua, st, 481, NULL, NULL);
        return;
    }
    /* §8.2.2.1: URI schemes this UA serves. */
    sipsess_uri_scheme sc = sipsess_uri_scheme_id(sipsess_msg_ruri(req));
    if (sc != SIPSESS_URI_SIP && sc != SIPSESS_URI_SIPS && sc != SIPSESS_URI_TEL) {
        reply(ua, st, 416, NULL, NULL);
        return;
    }
    /* §8.2.2.2: a request without To tag whose From tag, Call-ID and CSeq
     * are those of a request still in a server transaction, but which did
     * not match that transaction (another branch: it came over another
     * path, a proxy forked it back to us), is a merged request: 482. */
    if (!tagged && sipsess__st_merged(ua->txl, st)) {
        reply(ua, st, 482, NULL, NULL);
        return;
    }
    /* §8.2.2.3: Require with tags we do not support → 420 + Unsupported. */
    size_t len = 0, n = 0;
    for (const sipsess_hdr *h = sipsess_msg_hdr(req, SIPSESS_HDR_REQUIRE, 0); h;
         h = sipsess_hdr_next(req, h)) {
        sipsess_str t = sipsess_hdr_token(h);
        if (!t.len || sipsess__sl_option_supported(ua->sl, t))
            continue;
        int w = snprintf(extra + len, sizeof extra - len, "Unsupported: %.*s\r\n", (int)t.len,
                         t.p);
        if (w < 0 || len + (size_t)w >= sizeof extra)
            break;
        len += (size_t)w;
        n++;
    }
    if (n) {
        reply(ua, st, 420, NULL, extra);
        return;
    }
    /* §12.2.2: a request with a To tag belongs to a dialog, or gets 481. */
    if (tagged) {
        if (!sipsess__sl_in_dialog(ua->sl, st))
            reply(ua, st, 481, NULL, NULL);
        return;
    }
    switch (m) {
    case SIPSESS_METHOD_INVITE:
        new_invite(ua, st);
        return;
    case SIPSESS_METHOD_BYE:
    case SIPSESS_METHOD_PRACK:
    case SIPSESS_METHOD_UPDATE:
    case SIPSESS_METHOD_INFO:
        /* Methods that only live inside a dialog (§15.1.2, RFC 3262 §7.1,
         * RFC 3311 §5.2, RFC 6086 §4.2.2), here without one. */
        reply(ua, st, 481, NULL, NULL);
        return;
    default:
        ood_request(ua, st, m);
        return;
    }
}

static void on_ack(void *arg, const sipsess__rx *rx)
{
    sipsess_ua *ua = arg;
    sipsess__sl_ack(ua->sl, rx);
}

static void on_stray_2xx(void *arg, const sipsess__rx *rx)
{
    sipsess_ua *ua = arg;
    sipsess__sl_stray_2xx(ua->sl, rx);
}

static void on_st_end(void *arg, sipsess__txn *st, int err)
{
    sipsess_ua *ua = arg;
    if (err)
        SIPSESS__LOG(&ua->log, SIPSESS_LOG_INFO, "server transaction ended: %s",
                     sipsess_strerror(err));
    sipsess__sl_st_end(ua->sl, st, err);
}

static void on_rx(void *arg, sipsess__rx *rx)
{
    sipsess_ua *ua = arg;
    sipsess__txl_on_rx(ua->txl, rx);
}

static void on_send_error(void *arg, uint64_t send_id, int err)
{
    sipsess_ua *ua = arg;
    sipsess__txl_on_send_error(ua->txl, send_id, err);
}

/* ------------------------------------------------------------------ */
/* lifecycle                                                           */

SIPSESS_API int sipsess_ua_new(const sipsess_ua_config *cfg, sipsess_ua **out)
{
    if (!out)
        return SIPSESS_EINVAL;
    sipsess_ua *ua = sipsess__calloc(1, sizeof *ua);
    if (!ua)
        return SIPSESS_ENOMEM;
    if (cfg)
        ua->cfg = *cfg;
    else
        config_defaults(&ua->cfg);
    ua->log.fn = ua->cfg.log_fn;
    ua->log.ud = ua->cfg.log_ud;
    ua->log.level = ua->cfg.log_fn ? (int)ua->cfg.log_level : SIPSESS_LOG_NONE;

    static const sipsess__tu tu = {on_request, on_ack, on_stray_2xx, on_st_end};
    int e = sipsess__loop_new(ua->cfg.virtual_clock, &ua->loop);
    if (!e)
        e = sipsess__tp_new(ua->loop, &ua->cfg.tp, on_rx, on_send_error, ua, &ua->tp);
    if (!e)
        e = sipsess__txl_new(ua->loop, ua->tp, NULL, &ua->cfg.timers, &tu, ua, &ua->txl);
    if (!e) {
        sipsess__sl_config sc = ua->cfg.sess;
        sc.t1 = ua->cfg.timers.t1;
        sc.t2 = ua->cfg.timers.t2;
        memcpy(sc.user_agent, ua->cfg.user_agent, sizeof sc.user_agent);
        e = sipsess__sl_new(&sc, ua->loop, ua->txl, &ua->log, ua, &ua->sl);
    }
    if (e) {
        sipsess_ua_free(ua);
        return e;
    }
    sipsess__tp_set_log(ua->tp, &ua->log);
    sipsess__txl_set_log(ua->txl, &ua->log);
    if (ua->cfg.trace_fn)
        sipsess__tp_set_trace(ua->tp, trace_tp, ua);
    *out = ua;
    return 0;
}

static void app_timer_unlink(sipsess_timer *t)
{
    sipsess_ua *ua = t->ua;
    if (t->prev)
        t->prev->next = t->next;
    else
        ua->timers = t->next;
    if (t->next)
        t->next->prev = t->prev;
    t->prev = t->next = NULL;
}

static void app_timer_fire(sipsess__timer *tm, void *arg)
{
    (void)tm;
    sipsess_timer *t = arg;
    app_timer_unlink(t);
    t->fn(t->arg);
    if (t->destroy)
        t->destroy(t->arg);
    sipsess__free(t);
}

SIPSESS_API int sipsess_ua_timer_start(sipsess_ua *ua, uint64_t ms, void (*fn)(void *arg),
                                       void *arg, void (*destroy)(void *arg),
                                       sipsess_timer **out)
{
    if (!ua || !fn)
        return SIPSESS_EINVAL;
    sipsess_timer *t = sipsess__calloc(1, sizeof *t);
    if (!t)
        return SIPSESS_ENOMEM;
    t->ua = ua;
    t->fn = fn;
    t->arg = arg;
    t->destroy = destroy;
    sipsess__timer_init(&t->tm, app_timer_fire, t);
    int rc = sipsess__timer_start(ua->loop, &t->tm, ms);
    if (rc) {
        sipsess__free(t);
        return rc;
    }
    t->next = ua->timers;
    if (t->next)
        t->next->prev = t;
    ua->timers = t;
    if (out)
        *out = t;
    return SIPSESS_OK;
}

SIPSESS_API void sipsess_ua_timer_cancel(sipsess_timer *t)
{
    if (!t)
        return;
    sipsess__timer_stop(t->ua->loop, &t->tm);
    app_timer_unlink(t);
    if (t->destroy)
        t->destroy(t->arg);
    sipsess__free(t);
}

SIPSESS_API void sipsess_ua_free(sipsess_ua *ua)
{
    if (!ua)
        return;
    /* Pending application timers are dropped (their destroy runs). */
    while (ua->timers)
        sipsess_ua_timer_cancel(ua->timers);
    /* Sessions end first (UA_SHUTDOWN, their delegates told), while the
     * layers below still exist; then the UA delegate's notifier. */
    sipsess__sl_shutdown(ua->sl);
    if (ua->del_destroy)
        ua->del_destroy(ua->del_ud);
    ua->del_destroy = NULL;
    /* Top-down: transactions hold connections of the transport. */
    if (ua->txl)
        sipsess__txl_free(ua->txl);
    sipsess__sl_free(ua->sl);
    if (ua->tp)
        sipsess__tp_free(ua->tp);
    if (ua->loop)
        sipsess__loop_free(ua->loop);
    sipsess__free(ua);
}

SIPSESS_API int sipsess_ua_listen(sipsess_ua *ua, const char *spec)
{
    if (!ua || !spec)
        return SIPSESS_EINVAL;
    int idx = sipsess__tp_listen(ua->tp, spec);
    if (idx >= 0) {
        char buf[96];
        if (sipsess__tp_listener_spec(ua->tp, idx, buf, sizeof buf) >= 0)
            SIPSESS__LOG(&ua->log, SIPSESS_LOG_INFO, "listening on %s", buf);
    }
    return idx;
}

SIPSESS_API int sipsess_ua_listener_count(const sipsess_ua *ua)
{
    return ua ? sipsess__tp_listener_count(ua->tp) : SIPSESS_EINVAL;
}

SIPSESS_API int sipsess_ua_listener_spec(const sipsess_ua *ua, int idx, char *buf, size_t cap,
                                         size_t *out_len)
{
    if (!ua || !buf)
        return SIPSESS_EINVAL;
    if (idx < 0 || idx >= sipsess__tp_listener_count(ua->tp))
        return SIPSESS_ENOTFOUND;
    char tmp[96];
    int e = sipsess__tp_listener_spec(ua->tp, idx, tmp, sizeof tmp);
    if (e < 0)
        return e;
    size_t n = strlen(tmp);
    if (out_len)
        *out_len = n;
    if (n + 1 > cap)
        return SIPSESS_ENOSPC;
    memcpy(buf, tmp, n + 1);
    return 0;
}

SIPSESS_API unsigned sipsess_ua_listener_port(const sipsess_ua *ua, int idx)
{
    if (!ua || idx < 0 || idx >= sipsess__tp_listener_count(ua->tp))
        return 0;
    const sipsess__addr *a = sipsess__tp_listener_addr(ua->tp, idx);
    if (!a)
        return 0;
    if (a->sa.ss_family == AF_INET6)
        return ntohs(((const struct sockaddr_in6 *)&a->sa)->sin6_port);
    return ntohs(((const struct sockaddr_in *)&a->sa)->sin_port);
}

/* ------------------------------------------------------------------ */
/* loop driving                                                        */

SIPSESS_API int sipsess_ua_run(sipsess_ua *ua)
{
    if (!ua)
        return SIPSESS_EINVAL;
    ua->stop = false;
    while (!ua->stop) {
        int e = sipsess__loop_process(ua->loop, -1);
        if (e < 0)
            return e;
    }
    return 0;
}

SIPSESS_API int sipsess_ua_step(sipsess_ua *ua, int timeout_ms)
{
    if (!ua)
        return SIPSESS_EINVAL;
    return sipsess__loop_process(ua->loop, timeout_ms);
}

SIPSESS_API void sipsess_ua_stop(sipsess_ua *ua)
{
    if (!ua)
        return;
    ua->stop = true;
    sipsess__loop_wake(ua->loop);
}

SIPSESS_API int sipsess_ua_fd(const sipsess_ua *ua)
{
    return ua ? sipsess__loop_fd(ua->loop) : SIPSESS_EINVAL;
}

SIPSESS_API int sipsess_ua_next_timeout_ms(const sipsess_ua *ua)
{
    return ua ? sipsess__loop_next_timeout(ua->loop) : SIPSESS_EINVAL;
}

SIPSESS_API int sipsess_ua_process(sipsess_ua *ua)
{
    if (!ua)
        return SIPSESS_EINVAL;
    return sipsess__loop_process(ua->loop, 0);
}

SIPSESS_API int sipsess_ua_wake(sipsess_ua *ua)
{
    return ua ? sipsess__loop_wake(ua->loop) : SIPSESS_EINVAL;
}

SIPSESS_API int sipsess_ua_post(sipsess_ua *ua, void (*fn)(void *arg), void *arg)
{
    if (!ua || !fn)
        return SIPSESS_EINVAL;
    return sipsess__loop_post(ua->loop, fn, arg);
}

SIPSESS_API uint64_t sipsess_ua_now_ms(const sipsess_ua *ua)
{
    return ua ? sipsess__loop_now(ua->loop) : 0;
}

SIPSESS_API int sipsess_ua_advance(sipsess_ua *ua, uint64_t ms)
{
    if (!ua)
        return SIPSESS_EINVAL;
    return sipsess__loop_advance(ua->loop, ms);
}

/* ------------------------------------------------------------------ */
/* out-of-dialog client requests                                       */

struct req_ctx {
    sipsess_response_fn cb;
    void *ud;
};

static void on_ct(void *arg, sipsess__txn *ct, const sipsess_msg *resp, int err)
{
    struct req_ctx *rc = arg;
    (void)ct;
    int final = resp == NULL || sipsess_msg_status(resp) >= 200;
    if (rc->cb)
        rc->cb(resp, final, err, rc->ud);
    if (final)
        sipsess__free(rc);
}


SIPSESS_API int sipsess_ua_request(sipsess_ua *ua, const char *method, const char *uri,
                                   const char *extra_headers, const void *body, size_t body_len,
                                   const char *content_type, sipsess_response_fn cb,
                                   void *userdata)
{
    if (!ua || !method || !uri || (!body && body_len))
        return SIPSESS_EINVAL;
    sipsess_method m = sipsess_method_from(method, strlen(method));
    if (m == SIPSESS_METHOD_INVITE || m == SIPSESS_METHOD_ACK || m == SIPSESS_METHOD_CANCEL)
        return SIPSESS_EINVAL;
    sipsess_uri *target = NULL;
    int e = sipsess_uri_parse(uri, strlen(uri), &target);
    if (e)
        return e;
    struct req_ctx *rc = sipsess__calloc(1, sizeof *rc);
    sipsess_msgbuilder *b = NULL;
    sipsess__txn *ct = NULL;
    char *to = NULL;
    if (!rc) {
        e = SIPSESS_ENOMEM;
        goto out;
    }
    rc->cb = cb;
    rc->ud = userdata;
    if ((e = sipsess__ct_new(ua->txl, m, target, 600 + body_len, on_ct, rc, &ct)))
        goto out;
    if ((e = sipsess_msgbuilder_new(&b)))
        goto out;

    char tag[17], callid[33], cseq[64], from[200];
    if ((e = sipsess__random_token(tag, 16)) || (e = sipsess__random_token(callid, 32)))
        goto out;
    tag[16] = callid[32] = '\0';
    sipsess_str via = sipsess__ct_via(ct);
    static const sipsess_str via_name = {"Via", 3};
    /* From names our sent-by so the peer can reach us without DNS. */
    const char *sb = memchr(via.p, ' ', via.len);
    size_t sblen = 0;
    if (sb) {
        sb++;
        while (sb + sblen < via.p + via.len && sb[sblen] != ';')
            sblen++;
    }
    snprintf(from, sizeof from, "<sip:sipsess@%.*s>;tag=%s", (int)sblen, sb ? sb : "invalid",
             tag);
    snprintf(cseq, sizeof cseq, "1 %s", method);
    size_t ulen = strlen(uri);
    if (!(to = sipsess__malloc(ulen + 3))) {
        e = SIPSESS_ENOMEM;
        goto out;
    }
    to[0] = '<';
    memcpy(to + 1, uri, ulen);
    to[ulen + 1] = '>';
    to[ulen + 2] = '\0';

    if ((e = sipsess_msgbuilder_request(b, method, uri)) ||
        (e = sipsess_msgbuilder_header_str(b, via_name, via)) ||
        (e = sipsess_msgbuilder_header(b, "Max-Forwards", "70")) ||
        (e = sipsess_msgbuilder_header(b, "From", from)) ||
        (e = sipsess_msgbuilder_header(b, "To", to)) ||
        (e = sipsess_msgbuilder_header(b, "Call-ID", callid)) ||
        (e = sipsess_msgbuilder_header(b, "CSeq", cseq)) ||
        (e = sipsess_msgbuilder_header(b, "User-Agent", ua->cfg.user_agent)) ||
        (e = sipsess_msgbuilder_header_lines(b, extra_headers)))
        goto out;
    if (body_len && (e = sipsess_msgbuilder_body(b, body, body_len, content_type)))
        goto out;
    sipsess_str bytes;
    if ((e = sipsess_msgbuilder_finish(b, &bytes)))
        goto out;
    e = sipsess__ct_start(ct, bytes.p, bytes.len);
    ct = NULL; /* on failure ct_start has freed it; on success the layer owns it */
    if (e)
        goto out;
    rc = NULL; /* freed by on_ct with the final response */
out:
    if (ct)
        sipsess__ct_abandon(ct);
    sipsess__free(rc);
    sipsess__free(to);
    sipsess_msgbuilder_free(b);
    sipsess_uri_free(target);
    return e;
}

/* ------------------------------------------------------------------ */
/* UA delegate and outgoing sessions                                   */

SIPSESS_API int sipsess_ua_delegate_new(sipsess_ua_delegate **out)
{
    if (!out)
        return SIPSESS_EINVAL;
    sipsess_ua_delegate *d = sipsess__calloc(1, sizeof *d);
    if (!d)
        return SIPSESS_ENOMEM;
    *out = d;
    return 0;
}

SIPSESS_API void sipsess_ua_delegate_free(sipsess_ua_delegate *d)
{
    sipsess__free(d);
}

SIPSESS_API void sipsess_ua_delegate_set_on_invite(sipsess_ua_delegate *d, sipsess_ua_invite_cb cb)
{
    if (d)
        d->on_invite = cb;
}

SIPSESS_API void sipsess_ua_delegate_set_on_request(sipsess_ua_delegate *d,
                                                    sipsess_ua_request_cb cb)
{
    if (d)
        d->on_request = cb;
}

SIPSESS_API int sipsess_ua_set_delegate(sipsess_ua *ua, const sipsess_ua_delegate *d,
                                        void *userdata, void (*destroy)(void *userdata))
{
    if (!ua || !d)
        return SIPSESS_EINVAL;
    void (*old)(void *) = ua->del_destroy;
    void *old_ud = ua->del_ud;
    ua->del = *d;
    ua->del_ud = userdata;
    ua->del_destroy = destroy;
    if (old)
        old(old_ud);
    return 0;
}

SIPSESS_API void *sipsess_ua_userdata(const sipsess_ua *ua)
{
    return ua ? ua->del_ud : NULL;
}

SIPSESS_API int sipsess_ua_invite(sipsess_ua *ua, const char *uri, const void *body, size_t len,
                                  const char *content_type, const char *extra_headers,
                                  const sipsess_response_delegate *rd, void *rd_userdata,
                                  sipsess_session **out)
{
    if (!ua)
        return SIPSESS_EINVAL;
    return sipsess__sl_invite(ua->sl, uri, body, len, content_type, extra_headers, rd,
                              rd_userdata, out);
}
