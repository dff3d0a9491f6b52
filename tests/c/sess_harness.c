/* Harness of the session tests (see sess_harness.h). */
#include <stdlib.h>

#include "sess_harness.h"

sipsess_memnet *g_net;
void (*g_extra_advance)(unsigned ms);
peer g_a, g_b, g_c;

static struct {
    char prefix[16][32];
    int seen[16];
    int drop[16];
    int n;
    char last[8192];
    char last_prefix[32];
} F;

static int match_prefix(const char *data, size_t len, const char *prefix)
{
    size_t n = strlen(prefix);
    return len >= n && memcmp(data, prefix, n) == 0;
}

static int filter(const char *from, const char *to, const char *data, size_t len, void *ud)
{
    (void)from;
    (void)to;
    (void)ud;
    for (int i = 0; i < F.n; i++) {
        if (match_prefix(data, len, F.prefix[i])) {
            F.seen[i]++;
            if (F.drop[i] > 0) {
                F.drop[i]--;
                return 1;
            }
        }
    }
    if (F.last_prefix[0] && match_prefix(data, len, F.last_prefix)) {
        size_t n = len < sizeof F.last - 1 ? len : sizeof F.last - 1;
        memcpy(F.last, data, n);
        F.last[n] = '\0';
    }
    return 0;
}

static int slot(const char *prefix)
{
    for (int i = 0; i < F.n; i++)
        if (!strcmp(F.prefix[i], prefix))
            return i;
    cr_assert(F.n < 16);
    snprintf(F.prefix[F.n], sizeof F.prefix[0], "%s", prefix);
    F.seen[F.n] = F.drop[F.n] = 0;
    return F.n++;
}

int h_count(const char *prefix)
{
    return F.seen[slot(prefix)];
}

void h_count_reset(void)
{
    for (int i = 0; i < F.n; i++)
        F.seen[i] = 0;
}

void h_drop(const char *prefix, int n)
{
    F.drop[slot(prefix)] = n;
}

const char *h_last(const char *prefix)
{
    if (strcmp(F.last_prefix, prefix) != 0) {
        snprintf(F.last_prefix, sizeof F.last_prefix, "%s", prefix);
        F.last[0] = '\0';
    }
    return F.last;
}

/* ---- session delegate ---- */

static peer *P(void *ud)
{
    return ud;
}

static void keep(peer *p, sipsess_request *req)
{
    if (p->kept)
        sipsess_request_unref(p->kept);
    p->kept = sipsess_request_ref(req);
}

static void copy_body(peer *p, sipsess_request *req)
{
    sipsess_str b = sipsess_request_body(req);
    size_t n = b.len < sizeof p->last_body - 1 ? b.len : sizeof p->last_body - 1;
    if (n)
        memcpy(p->last_body, b.p, n);
    p->last_body[n] = '\0';
    sipsess_str m = sipsess_msg_method_name(sipsess_request_msg(req));
    snprintf(p->last_method, sizeof p->last_method, "%.*s", (int)m.len, m.p);
}

static int act(peer *p, action a, sipsess_request *req)
{
    copy_body(p, req);
    switch (a) {
    case ACT_ACCEPT:
        cr_assert_eq(sipsess_request_accept(req, p->answer_body,
                                            p->answer_body ? strlen(p->answer_body) : 0,
                                            p->answer_body ? SDP : NULL, NULL),
                     0);
        return 0;
    case ACT_REJECT:
        cr_assert_eq(sipsess_request_reject(req, p->reject_status, NULL, NULL), 0);
        return 0;
    case ACT_KEEP:
        keep(p, req);
        return 0;
    case ACT_PROGRESS:
        cr_assert_eq(sipsess_request_progress(req, 180, NULL, NULL, 0, NULL, p->reliable), 0);
        keep(p, req);
        return 0;
    case ACT_FAIL:
        return SIPSESS_ECALLBACK;
    case ACT_REDIRECT:
        cr_assert_eq(sipsess_request_redirect(req, "sip:other@127.0.0.1:7777"), 0);
        return 0;
    default:
        return 0;
    }
}

static int d_ack(sipsess_session *s, sipsess_request *req, void *ud)
{
    (void)s;
    peer *p = P(ud);
    p->n_ack++;
    copy_body(p, req);
    cr_assert_eq(sipsess_request_method(req), SIPSESS_METHOD_ACK);
    cr_assert_eq(sipsess_request_accept(req, NULL, 0, NULL, NULL), SIPSESS_ESTATE);
    if (p->keep_ack) {
        if (p->kept_ack)
            sipsess_request_unref(p->kept_ack);
        p->kept_ack = sipsess_request_ref(req);
    }
    return 0;
}

static int d_ack_timeout(sipsess_session *s, sipsess_request *req, void *ud)
{
    peer *p = P(ud);
    cr_assert_null(req);
    p->n_ack_timeout++;
    if (p->bye_in_ack_timeout)
        cr_assert_eq(sipsess_session_bye(s, "Reason: SIP;cause=408", NULL, NULL), 0);
    return 0;
}

#define D(name, counter, field)                                                              \
    static int d_##name(sipsess_session *s, sipsess_request *req, void *ud)                  \
    {                                                                                        \
        peer *p = P(ud);                                                                     \
        cr_assert_eq(sipsess_request_session(req), s);                                       \
        p->counter++;                                                                        \
        return act(p, p->field, req);                                                        \
    }
D(bye, n_bye, on_bye)
D(info, n_info, on_info)
D(invite, n_reinvite, on_reinvite)
D(message, n_message, on_message)
D(prack, n_prack, on_prack)
D(refer, n_refer, on_refer)
D(update, n_update, on_update)
D(other, n_other, on_other)
#undef D

static int d_notify(sipsess_session *s, sipsess_request *req, void *ud)
{
    (void)s;
    peer *p = P(ud);
    p->n_notify++;
    p->last_sipfrag = sipsess_request_sipfrag_status(req);
    p->last_sub_terminated = sipsess_request_subscription_terminated(req);
    return act(p, p->on_notify, req);
}

static int d_cancel(sipsess_session *s, sipsess_request *req, void *ud)
{
    (void)s;
    peer *p = P(ud);
    p->n_cancel++;
    cr_assert_eq(sipsess_request_method(req), SIPSESS_METHOD_CANCEL);
    cr_assert(sipsess_request_answered(req));
    return 0;
}

static void d_state(sipsess_session *s, sipsess_session_state st, void *ud)
{
    peer *p = P(ud);
    cr_assert_eq(sipsess_session_get_state(s), st == SIPSESS_SESSION_TERMINATED
                                                   ? SIPSESS_SESSION_TERMINATED
                                                   : sipsess_session_get_state(s));
    if (p->n_states < EV_MAX)
        p->states[p->n_states++] = st;
}

static void d_terminated(sipsess_session *s, sipsess_term_cause cause, void *ud)
{
    peer *p = P(ud);
    cr_assert_eq(sipsess_session_get_state(s), SIPSESS_SESSION_TERMINATED);
    p->n_terminated++;
    p->cause = cause;
}

static void d_destroy(void *ud)
{
    peer *p = P(ud);
    p->n_destroy++;
}

void h_install(sipsess_session *s, peer *p)
{
    sipsess_session_delegate *d = NULL;
    cr_assert_eq(sipsess_session_delegate_new(&d), 0);
    sipsess_session_delegate_set_on_ack(d, d_ack);
    sipsess_session_delegate_set_on_ack_timeout(d, d_ack_timeout);
    sipsess_session_delegate_set_on_bye(d, d_bye);
    sipsess_session_delegate_set_on_info(d, d_info);
    sipsess_session_delegate_set_on_invite(d, d_invite);
    sipsess_session_delegate_set_on_message(d, d_message);
    sipsess_session_delegate_set_on_notify(d, d_notify);
    sipsess_session_delegate_set_on_prack(d, d_prack);
    sipsess_session_delegate_set_on_refer(d, d_refer);
    sipsess_session_delegate_set_on_update(d, d_update);
    sipsess_session_delegate_set_on_cancel(d, d_cancel);
    sipsess_session_delegate_set_on_request(d, d_other);
    sipsess_session_delegate_set_on_state_change(d, d_state);
    sipsess_session_delegate_set_on_terminated(d, d_terminated);
    cr_assert_eq(sipsess_session_set_delegate(s, d, p, d_destroy), 0);
    sipsess_session_delegate_free(d);
}

/* ---- UA delegate ---- */

static int u_invite(sipsess_ua *ua, sipsess_session *s, sipsess_request *req, void *ud)
{
    peer *p = P(ud);
    cr_assert_eq(ua, p->ua);
    cr_assert_eq(sipsess_request_session(req), s);
    cr_assert_eq(sipsess_session_get_state(s), SIPSESS_SESSION_INITIAL);
    cr_assert_not(sipsess_session_is_outgoing(s));
    p->n_invite++;
    p->sess = s;
    if (p->install_delegate)
        h_install(s, p);
    return act(p, p->on_invite, req);
}

static int u_request(sipsess_ua *ua, sipsess_request *req, void *ud)
{
    (void)ua;
    peer *p = P(ud);
    p->n_ood++;
    cr_assert_null(sipsess_request_session(req));
    return act(p, p->on_other, req);
}

/* ---- setup ---- */

static void trace(int out, const char *tp, const char *local, const char *remote,
                  const char *data, size_t len, void *ud)
{
    (void)tp;
    (void)ud;
    if (getenv("SESS_TRACE_FULL")) {
        fprintf(stderr, "%s %s %s\n%.*s\n", local, out ? "-->" : "<--", remote, (int)len, data);
        return;
    }
    size_t fl = 0;
    while (fl < len && data[fl] != '\r')
        fl++;
    if (out)
        fprintf(stderr, "  %s -> %s  %.*s\n", local, remote, (int)fl, data);
}

sipsess_ua_config *h_config(void)
{
    sipsess_ua_config *cfg = NULL;
    cr_assert_eq(sipsess_ua_config_new(&cfg), 0);
    if (getenv("SESS_TRACE") || getenv("SESS_TRACE_FULL"))
        sipsess_ua_config_set_trace(cfg, trace, NULL);
    cr_assert_eq(sipsess_ua_config_set_virtual_clock(cfg, 1), 0);
    cr_assert_eq(sipsess_ua_config_set_memnet(cfg, g_net), 0);
    return cfg;
}

void h_peer(peer *p, const char *name, unsigned port, sipsess_ua_config *cfg)
{
    memset(p, 0, sizeof *p);
    p->name = name;
    p->port = port;
    p->install_delegate = 1;
    p->reject_status = 486;
    sipsess_ua_config *c = cfg ? cfg : h_config();
    cr_assert_eq(sipsess_ua_new(c, &p->ua), 0);
    if (!cfg)
        sipsess_ua_config_free(c);
    char spec[32];
    snprintf(spec, sizeof spec, "mem:%u", port);
    cr_assert_geq(sipsess_ua_listen(p->ua, spec), 0);
    snprintf(p->uri, sizeof p->uri, "sip:%s@127.0.0.1:%u", name, port);
    h_peer_delegates(p);
}

void h_peer_delegates(peer *p)
{
    sipsess_ua_delegate *d = NULL;
    cr_assert_eq(sipsess_ua_delegate_new(&d), 0);
    sipsess_ua_delegate_set_on_invite(d, u_invite);
    sipsess_ua_delegate_set_on_request(d, u_request);
    cr_assert_eq(sipsess_ua_set_delegate(p->ua, d, p, NULL), 0);
    sipsess_ua_delegate_free(d);
}

void h_setup(void)
{
    memset(&F, 0, sizeof F);
    static const char *const pre[] = {"INVITE", "ACK", "BYE", "CANCEL", "PRACK",
                                      "SIP/2.0 200", "SIP/2.0 18", "NOTIFY", "UPDATE",
                                      "SIP/2.0 491"};
    for (size_t i = 0; i < sizeof pre / sizeof pre[0]; i++)
        slot(pre[i]);
    cr_assert_eq(sipsess_memnet_new(&g_net), 0);
    sipsess_memnet_set_filter(g_net, filter, NULL);
}

static void free_peer(peer *p)
{
    if (p->kept)
        sipsess_request_unref(p->kept);
    if (p->kept_ack)
        sipsess_request_unref(p->kept_ack);
    p->kept = p->kept_ack = NULL;
    sipsess_ua_free(p->ua);
    p->ua = NULL;
}

void h_teardown(void)
{
    free_peer(&g_a);
    free_peer(&g_b);
    free_peer(&g_c);
    sipsess_memnet_free(g_net);
    g_net = NULL;
    g_extra_advance = NULL;
}

void h_run(unsigned ms)
{
    peer *ps[3] = {&g_a, &g_b, &g_c};
    for (unsigned t = 0; t < ms; t += 10) {
        for (int i = 0; i < 3; i++)
            if (ps[i]->ua)
                cr_assert_geq(sipsess_ua_advance(ps[i]->ua, 10), 0);
        if (g_extra_advance)
            g_extra_advance(10);
    }
}

/* ---- response delegate ---- */

static void r_trying(sipsess_session *s, const sipsess_msg *m, void *ud)
{
    rsp *r = ud;
    r->n_trying++;
    r->last_status = sipsess_msg_status(m);
    r->last_session = s;
}

static void note_session(rsp *r, sipsess_session *s)
{
    r->last_session = s;
    for (int i = 0; i < r->n_sessions; i++)
        if (r->sessions[i] == s)
            return;
    if (r->n_sessions < 8) {
        r->sessions[r->n_sessions++] = s;
        if (r->keep_sessions)
            sipsess_session_ref(s);
    }
}

static void r_progress(sipsess_session *s, const sipsess_msg *m, void *ud)
{
    rsp *r = ud;
    r->n_progress++;
    r->last_status = sipsess_msg_status(m);
    note_session(r, s);
    if (r->prack_in_progress && sipsess_session_get_signaling_state(s) ==
                                    SIPSESS_SIGNALING_HAVE_REMOTE_OFFER)
        cr_assert_eq(sipsess_session_prack(s, ANSWER1, strlen(ANSWER1), SDP, NULL, NULL, NULL),
                     0);
}

static void r_accept(sipsess_session *s, const sipsess_msg *m, void *ud)
{
    rsp *r = ud;
    r->n_accept++;
    r->last_status = sipsess_msg_status(m);
    note_session(r, s);
    sipsess_str b = sipsess_msg_body(m);
    size_t n = b.len < sizeof r->body - 1 ? b.len : sizeof r->body - 1;
    if (n)
        memcpy(r->body, b.p, n);
    r->body[n] = '\0';
    if (r->ack_in_accept)
        cr_assert_eq(sipsess_session_ack(s, ANSWER1, strlen(ANSWER1), SDP), 0);
}

static void r_redirect(sipsess_session *s, const sipsess_msg *m, void *ud)
{
    rsp *r = ud;
    r->n_redirect++;
    r->last_status = sipsess_msg_status(m);
    r->last_session = s;
}

static void r_reject(sipsess_session *s, const sipsess_msg *m, void *ud)
{
    rsp *r = ud;
    r->last_session = s;
    if (!m) {
        r->n_reject_null++;
        return;
    }
    r->n_reject++;
    r->last_status = sipsess_msg_status(m);
}

sipsess_response_delegate *h_rd(void)
{
    static sipsess_response_delegate *rd;
    if (!rd) {
        cr_assert_eq(sipsess_response_delegate_new(&rd), 0);
        sipsess_response_delegate_set_on_trying(rd, r_trying);
        sipsess_response_delegate_set_on_progress(rd, r_progress);
        sipsess_response_delegate_set_on_accept(rd, r_accept);
        sipsess_response_delegate_set_on_redirect(rd, r_redirect);
        sipsess_response_delegate_set_on_reject(rd, r_reject);
    }
    return rd;
}
