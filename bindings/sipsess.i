/*
 * libsipsess — the one SWIG interface of the Python and Lua bindings.
 *
 *   swig -python -module core -outdir ... bindings/sipsess.i   (sipsess.core + _core.so)
 *   swig -lua bindings/sipsess.i                               (sipsess.so, luaopen_sipsess)
 *
 * The C API's delegates take function pointers and a void *userdata. The
 * binding installs its own C functions (trampolines) with a small context
 * as userdata; the context holds the script's object (a Python object, a
 * Lua registry reference) and each trampoline calls the method of that
 * object named after the callback. No directors: the same C code serves
 * both languages through five primitives each language file defines:
 *
 *   sb_release(env, obj)        drop the binding's reference to an object
 *   sb_has(env, obj, name)      the object has a callback of that name
 *   sb_invoke(u, obj, mode, name, args, n, &truth)
 *                               call it (catching and reporting errors)
 *   sb_wrap_session(u, s)       a new script object for a session
 *   sb_lang_close(u)            release what the language part of a UA holds
 *
 * Script objects are these C types, renamed:
 *   UA       sb_ua               the UA with the binding's context
 *   Config   sb_config           a configuration plus the script's log/trace hooks
 *   Memnet   sb_memnet           in-memory network plus its loss filter
 *   Session  sipsess_session     holds a reference (sipsess_session_ref)
 *   Request  sb_req              an incoming request handle, valid during
 *                                its callback unless keep() was called
 *   Message  sipsess_msg         holds a reference (sipsess_msg_ref)
 *
 * Lifetime rules (the safety rules of the bindings):
 *   - a session's delegate is referenced from set_delegate until the
 *     session is Terminated (the library's destroy notifier drops it);
 *   - a Session object keeps the C session alive; after Terminated its
 *     methods fail with ESTATE, they never touch freed memory;
 *   - a Request object used after its callback returned, without keep(),
 *     fails with ESTATE; a kept one unanswered when it is collected gets
 *     500 from the library; closing the UA releases every kept request;
 *   - callbacks run only inside the loop calls (run, step, process,
 *     advance) and close(), on the thread that makes them; the log and
 *     trace hooks are the exception: they also run inside the call that
 *     logs or sends (listen, invite, accept, ...), on the calling thread.
 */

%feature("compactdefaultargs");

%{
#include <stdlib.h>
#include <string.h>
#include <stdint.h>
#include <sipsess/sipsess.h>

typedef struct sb_ua sb_ua;
typedef struct sb_config sb_config;
typedef struct sb_memnet sb_memnet;
typedef struct sb_req sb_req;
typedef struct sb_session sb_session;
typedef struct sb_rd sb_rd;
typedef struct sb_timer sb_timer;
typedef struct sb_timerh sb_timerh;
/* The library's own objects under the names the scripts see them by, so
 * that SWIG's accessor names (sb_Session_bye) do not collide with the C
 * API's (sipsess_session_bye). */
#define sb_Session sipsess_session
#define sb_Message sipsess_msg

/* A return code: >= 0 is a result, < 0 a sipsess_err (raised in Python,
 * `nil, message, code` in Lua). SB_RAISED: an error of the script (an
 * exception from a callback) is pending and goes up instead. */
typedef int sb_rc;
#define SB_RAISED (-100000)

/* Bytes in (bodies): NULL when absent (None / nil). */
typedef struct sb_bytes {
    const char *p;
    size_t len;
} sb_bytes;

/* Bytes out (bodies), text out (header values, URIs): views copied into
 * the script's string type by the out typemaps. */
typedef sipsess_str sb_text;
typedef sipsess_str sb_blob;

/* A flag: True/False in Python, true/false in Lua (where 0 would be true). */
typedef int sb_bool;

/* Arguments of a callback, in the order the script receives them. */
enum { SB_A_SESSION, SB_A_REQUEST, SB_A_MSG, SB_A_INT, SB_A_STR, SB_A_BYTES, SB_A_NONE };
typedef struct sb_arg {
    int kind;
    union {
        sipsess_session *s;
        sb_req *r;
        const sipsess_msg *m;
        long long i;
        const char *str;
    } v;
    size_t len; /* SB_A_BYTES */
} sb_arg;

/* Callback objects are called as methods (obj.on_bye(...)) or, when they
 * are plain functions, directly. */
enum { SB_CALL_METHOD = 0, SB_CALL_FUNCTION = 1 };

static int sb_last_err; /* the error of the last failed constructor/factory */
%}

#ifdef SWIGPYTHON
%include "sb_python.swg"
#elif defined(SWIGLUA)
%include "sb_lua.swg"
#else
#error "sipsess.i: only Python and Lua are supported"
#endif

%{
/* ------------------------------------------------------------------ */
/* contexts                                                            */

struct sb_req {
    sipsess_request *req; /* NULL once invalid */
    sb_ua *u;
    int kept;             /* holds a reference of its own */
    sb_req *prev, *next;  /* u->kept, while kept */
};

struct sb_ua {
    sipsess_ua *ua;
    sb_envp env;
    sb_obj delegate;
    sb_obj log_fn, trace_fn, memnet; /* memnet: kept alive while the UA lives */
    sb_bool raise_errors;
    int stopping;       /* stop() was called: run() returns */
    int depth;          /* > 0 inside a loop call */
    int closed;
    int close_pending;  /* close() from one of its callbacks: at the loop call's end */
    sb_req *kept;       /* kept request handles */
    sb_lang lang;       /* the language part (pending error, current state) */
};

struct sb_session {
    unsigned magic;
    sb_ua *u;
    sipsess_session *s;
    sb_obj self;        /* the script's Session object, one per session */
    sb_obj delegate;
    int installing;     /* set_delegate replacing itself: ignore the notifier */
};
#define SB_SESSION_MAGIC 0x5b5e5510u

struct sb_rd {
    sb_ua *u;
    sb_obj handler;
    int mode;
};

struct sb_config {
    sipsess_ua_config *cfg;
    sb_envp env;
    sb_obj log_fn, trace_fn, memnet;
    int log_level;
};

struct sb_memnet {
    sipsess_memnet *net;
    sb_envp env;
    sb_obj filter;
    int users;          /* UAs attached; the net outlives them */
};

/* An application timer: the context belongs to the library timer (freed
 * by its destroy notifier), the script holds a Timer handle pointing at it
 * while it is pending. */
struct sb_timer {
    sb_ua *u;
    sb_obj fn;
    sipsess_timer *t;
    sb_timerh *h;
};

struct sb_timerh {
    sb_timer *ctx; /* NULL once fired or cancelled */
};

static sb_session *sb_sess_ctx(sipsess_session *s)
{
    sb_session *c = s ? (sb_session *)sipsess_session_userdata(s) : NULL;
    return c && c->magic == SB_SESSION_MAGIC ? c : NULL;
}

/* request handles ------------------------------------------------------ */

static sb_req *sb_req_new(sb_ua *u, sipsess_request *req)
{
    sb_req *r = (sb_req *)calloc(1, sizeof *r);
    if (r) {
        r->req = req;
        r->u = u;
    }
    return r;
}

static int sb_req_hold(sb_req *r)
{
    if (!r->req || !r->u)
        return SIPSESS_ESTATE;
    if (!r->kept) {
        sipsess_request_ref(r->req);
        r->kept = 1;
        r->next = r->u->kept;
        if (r->next)
            r->next->prev = r;
        r->u->kept = r;
    }
    return 0;
}

static void sb_req_unlink(sb_req *r)
{
    if (!r->kept)
        return;
    if (r->prev)
        r->prev->next = r->next;
    else if (r->u && r->u->kept == r)
        r->u->kept = r->next;
    if (r->next)
        r->next->prev = r->prev;
    r->prev = r->next = NULL;
    r->kept = 0;
    sipsess_request_unref(r->req); /* unanswered: the library answers 500 */
}

/* After its callback: a handle not kept stops working. */
static void sb_req_expire(sb_req *r)
{
    if (r && !r->kept)
        r->req = NULL;
}

static void sb_req_free(sb_req *r)
{
    if (!r)
        return;
    sb_req_unlink(r);
    free(r);
}

%}

#ifdef SWIGPYTHON
%include "sb_python_impl.swg"
#else
%include "sb_lua_impl.swg"
#endif

%{
/* sessions ------------------------------------------------------------ */

static void sb_sess_destroy(void *ud)
{
    sb_session *c = (sb_session *)ud;
    if (c->installing)
        return;
    sb_envp env = c->u->env;
    c->magic = 0;
    sb_obj self = c->self, del = c->delegate;
    free(c);
    /* last: releasing may run the script's finalizers */
    sb_release(env, del);
    sb_release(env, self);
}

#define SB_REQ_CB(name)                                                                    \
    static int sb_cb_##name(sipsess_session *s, sipsess_request *req, void *ud)            \
    {                                                                                      \
        sb_session *c = (sb_session *)ud;                                                  \
        sb_arg a[2];                                                                       \
        a[0].kind = SB_A_SESSION;                                                          \
        a[0].v.s = s;                                                                      \
        a[1].kind = req ? SB_A_REQUEST : SB_A_NONE;                                        \
        a[1].v.r = req ? sb_req_new(c->u, req) : NULL;                                     \
        if (req && !a[1].v.r)                                                              \
            return SIPSESS_ECALLBACK;                                                      \
        return sb_invoke(c->u, c->delegate, SB_CALL_METHOD, "on_" #name, a, 2, NULL);      \
    }
SB_REQ_CB(ack)
SB_REQ_CB(ack_timeout)
SB_REQ_CB(bye)
SB_REQ_CB(info)
SB_REQ_CB(invite)
SB_REQ_CB(message)
SB_REQ_CB(notify)
SB_REQ_CB(prack)
SB_REQ_CB(refer)
SB_REQ_CB(update)
SB_REQ_CB(cancel)
SB_REQ_CB(request)

static void sb_cb_state_change(sipsess_session *s, sipsess_session_state st, void *ud)
{
    sb_session *c = (sb_session *)ud;
    sb_arg a[2];
    a[0].kind = SB_A_SESSION;
    a[0].v.s = s;
    a[1].kind = SB_A_INT;
    a[1].v.i = st;
    sb_invoke(c->u, c->delegate, SB_CALL_METHOD, "on_state_change", a, 2, NULL);
}

static void sb_cb_terminated(sipsess_session *s, sipsess_term_cause cause, void *ud)
{
    sb_session *c = (sb_session *)ud;
    sb_arg a[2];
    a[0].kind = SB_A_SESSION;
    a[0].v.s = s;
    a[1].kind = SB_A_INT;
    a[1].v.i = cause;
    sb_invoke(c->u, c->delegate, SB_CALL_METHOD, "on_terminated", a, 2, NULL);
}

/* Install the C delegate matching the callbacks the script's object has:
 * a callback the object lacks keeps the library's default (INFO without a
 * callback gets 469, with one 200). */
static int sb_sess_install(sb_session *c)
{
    sipsess_session_delegate *d = NULL;
    int rc = sipsess_session_delegate_new(&d);
    if (rc)
        return rc;
    if (c->delegate) {
#define SB_SET(name)                                                                       \
        if (sb_has(c->u->env, c->delegate, "on_" #name))                                   \
            sipsess_session_delegate_set_on_##name(d, sb_cb_##name);
        SB_SET(ack) SB_SET(ack_timeout) SB_SET(bye) SB_SET(info) SB_SET(invite)
        SB_SET(message) SB_SET(notify) SB_SET(prack) SB_SET(refer) SB_SET(update)
        SB_SET(cancel) SB_SET(request) SB_SET(state_change) SB_SET(terminated)
#undef SB_SET
    }
    c->installing = 1;
    rc = sipsess_session_set_delegate(c->s, d, c, sb_sess_destroy);
    c->installing = 0;
    sipsess_session_delegate_free(d);
    return rc;
}

/* The binding's context of a session, made the first time the binding
 * sees the session (incoming INVITE, ua.invite, a fork in a response). */
static sb_session *sb_sess_attach(sb_ua *u, sipsess_session *s)
{
    sb_session *c = sb_sess_ctx(s);
    if (c || !s || sipsess_session_get_state(s) == SIPSESS_SESSION_TERMINATED)
        return c;
    c = (sb_session *)calloc(1, sizeof *c);
    if (!c)
        return NULL;
    c->magic = SB_SESSION_MAGIC;
    c->u = u;
    c->s = s;
    c->self = sb_wrap_session(u, s);
    if (!c->self || sb_sess_install(c) != 0) {
        sb_release(u->env, c->self);
        free(c);
        return NULL;
    }
    return c;
}

static int sb_sess_set_delegate(sb_ua *u, sipsess_session *s, sb_obj del)
{
    sb_session *c = sb_sess_attach(u, s);
    if (!c) {
        sb_release(u->env, del);
        return sipsess_session_get_state(s) == SIPSESS_SESSION_TERMINATED ? SIPSESS_ESTATE
                                                                          : SIPSESS_ENOMEM;
    }
    sb_obj old = c->delegate;
    c->delegate = del;
    int rc = sb_sess_install(c);
    sb_release(u->env, old);
    return rc;
}

/* response delegates -------------------------------------------------- */

static void sb_rd_call(const char *name, sipsess_session *s, const sipsess_msg *resp, void *ud)
{
    sb_rd *rd = (sb_rd *)ud;
    sb_sess_attach(rd->u, s); /* a fork's session gets its object here */
    sb_arg a[2];
    a[0].kind = SB_A_SESSION;
    a[0].v.s = s;
    a[1].kind = resp ? SB_A_MSG : SB_A_NONE;
    a[1].v.m = resp;
    sb_invoke(rd->u, rd->handler, rd->mode, name, a, 2, NULL);
}
static void sb_rd_trying(sipsess_session *s, const sipsess_msg *m, void *ud) { sb_rd_call("on_trying", s, m, ud); }
static void sb_rd_progress(sipsess_session *s, const sipsess_msg *m, void *ud) { sb_rd_call("on_progress", s, m, ud); }
static void sb_rd_accept(sipsess_session *s, const sipsess_msg *m, void *ud) { sb_rd_call("on_accept", s, m, ud); }
static void sb_rd_redirect(sipsess_session *s, const sipsess_msg *m, void *ud) { sb_rd_call("on_redirect", s, m, ud); }
static void sb_rd_reject(sipsess_session *s, const sipsess_msg *m, void *ud) { sb_rd_call("on_reject", s, m, ud); }

static void sb_rd_destroy(void *ud)
{
    sb_rd *rd = (sb_rd *)ud;
    sb_envp env = rd->u->env;
    sb_obj h = rd->handler;
    free(rd);
    sb_release(env, h);
}

/* A response delegate for `handler` (owned reference, may be none): a
 * function gets every response, an object the methods it has. */
static int sb_rd_make(sb_ua *u, sb_obj handler, sipsess_response_delegate **d, sb_rd **out)
{
    *d = NULL;
    *out = NULL;
    if (!handler)
        return 0;
    sb_rd *rd = (sb_rd *)calloc(1, sizeof *rd);
    if (!rd || sipsess_response_delegate_new(d) != 0) {
        free(rd);
        sb_release(u->env, handler);
        return SIPSESS_ENOMEM;
    }
    rd->u = u;
    rd->handler = handler;
    static const char *names[] = {"on_trying", "on_progress", "on_accept", "on_redirect",
                                  "on_reject"};
    int any = 0;
    for (int i = 0; i < 5; i++)
        any |= sb_has(u->env, handler, names[i]);
    rd->mode = any ? SB_CALL_METHOD : SB_CALL_FUNCTION;
    int all = rd->mode == SB_CALL_FUNCTION;
    if (all || sb_has(u->env, handler, "on_trying"))
        sipsess_response_delegate_set_on_trying(*d, sb_rd_trying);
    if (all || sb_has(u->env, handler, "on_progress"))
        sipsess_response_delegate_set_on_progress(*d, sb_rd_progress);
    if (all || sb_has(u->env, handler, "on_accept"))
        sipsess_response_delegate_set_on_accept(*d, sb_rd_accept);
    if (all || sb_has(u->env, handler, "on_redirect"))
        sipsess_response_delegate_set_on_redirect(*d, sb_rd_redirect);
    if (all || sb_has(u->env, handler, "on_reject"))
        sipsess_response_delegate_set_on_reject(*d, sb_rd_reject);
    sipsess_response_delegate_set_destroy(*d, sb_rd_destroy);
    *out = rd;
    return 0;
}

/* Send through `send` with the response delegate of `handler`; on failure
 * the binding still owns the context (the library calls no notifier). */
#define SB_SEND(u, handler, call)                                                          \
    do {                                                                                   \
        sb_ua *u_ = (u); /* read once: the call may end the session and its context */     \
        sipsess_response_delegate *d_ = NULL;                                              \
        sb_rd *rd_ = NULL;                                                                 \
        int rc_ = sb_rd_make(u_, (handler), &d_, &rd_);                                    \
        if (rc_)                                                                           \
            return rc_;                                                                    \
        sipsess_response_delegate *rdd = d_;                                               \
        void *rdu = rd_;                                                                   \
        rc_ = (call);                                                                      \
        sipsess_response_delegate_free(d_);                                                \
        if (rc_ && rd_)                                                                    \
            sb_rd_destroy(rd_);                                                            \
        sb_after_send(u_);                                                                 \
        return rc_;                                                                        \
    } while (0)

/* timers -------------------------------------------------------------- */

static void sb_timer_fire(void *arg)
{
    sb_timer *c = (sb_timer *)arg;
    c->t = NULL;
    if (c->h)
        c->h->ctx = NULL;
    c->h = NULL;
    sb_invoke(c->u, c->fn, SB_CALL_FUNCTION, "timer", NULL, 0, NULL);
}

static void sb_timer_destroy(void *arg)
{
    sb_timer *c = (sb_timer *)arg;
    if (c->h)
        c->h->ctx = NULL;
    sb_envp env = c->u->env;
    sb_obj fn = c->fn;
    free(c);
    sb_release(env, fn);
}

/* UA ------------------------------------------------------------------ */

static int sb_ua_on_invite(sipsess_ua *ua, sipsess_session *s, sipsess_request *req, void *ud)
{
    (void)ua;
    sb_ua *u = (sb_ua *)ud;
    if (!sb_sess_attach(u, s))
        return SIPSESS_ECALLBACK;
    sb_arg a[2];
    a[0].kind = SB_A_SESSION;
    a[0].v.s = s;
    a[1].kind = SB_A_REQUEST;
    a[1].v.r = sb_req_new(u, req);
    if (!a[1].v.r)
        return SIPSESS_ECALLBACK;
    return sb_invoke(u, u->delegate, SB_CALL_METHOD, "on_invite", a, 2, NULL);
}

static int sb_ua_on_request(sipsess_ua *ua, sipsess_request *req, void *ud)
{
    (void)ua;
    sb_ua *u = (sb_ua *)ud;
    sb_arg a[1];
    a[0].kind = SB_A_REQUEST;
    a[0].v.r = sb_req_new(u, req);
    if (!a[0].v.r)
        return SIPSESS_ECALLBACK;
    return sb_invoke(u, u->delegate, SB_CALL_METHOD, "on_request", a, 1, NULL);
}

static int sb_ua_install(sb_ua *u)
{
    sipsess_ua_delegate *d = NULL;
    int rc = sipsess_ua_delegate_new(&d);
    if (rc)
        return rc;
    if (u->delegate && sb_has(u->env, u->delegate, "on_invite"))
        sipsess_ua_delegate_set_on_invite(d, sb_ua_on_invite);
    if (u->delegate && sb_has(u->env, u->delegate, "on_request"))
        sipsess_ua_delegate_set_on_request(d, sb_ua_on_request);
    rc = sipsess_ua_set_delegate(u->ua, d, u, NULL);
    sipsess_ua_delegate_free(d);
    return rc;
}

static void sb_ua_log(sipsess_log_level level, const char *msg, void *ud)
{
    sb_ua *u = (sb_ua *)ud;
    sb_arg a[2];
    a[0].kind = SB_A_INT;
    a[0].v.i = level;
    a[1].kind = SB_A_STR;
    a[1].v.str = msg;
    sb_invoke(u, u->log_fn, SB_CALL_FUNCTION, "log", a, 2, NULL);
}

static void sb_ua_trace(int outgoing, const char *transport, const char *local,
                        const char *remote, const char *data, size_t len, void *ud)
{
    sb_ua *u = (sb_ua *)ud;
    sb_arg a[5];
    a[0].kind = SB_A_INT;
    a[0].v.i = outgoing;
    a[1].kind = SB_A_STR;
    a[1].v.str = transport;
    a[2].kind = SB_A_STR;
    a[2].v.str = local;
    a[3].kind = SB_A_STR;
    a[3].v.str = remote;
    a[4].kind = SB_A_BYTES;
    a[4].v.str = data;
    a[4].len = len;
    sb_invoke(u, u->trace_fn, SB_CALL_FUNCTION, "trace", a, 5, NULL);
}

static int sb_memnet_filter(const char *from, const char *to, const char *data, size_t len,
                            void *ud);

/* Out-of-dialog request responses: handler(response or none, final, err)
 * for each response; the context goes with the final one (or the error). */
static void sb_ua_response(const sipsess_msg *msg, int final, int err, void *ud)
{
    sb_rd *rd = (sb_rd *)ud;
    sb_arg a[3];
    a[0].kind = msg ? SB_A_MSG : SB_A_NONE;
    a[0].v.m = msg;
    a[1].kind = SB_A_INT;
    a[1].v.i = final || err;
    a[2].kind = SB_A_INT;
    a[2].v.i = err;
    sb_invoke(rd->u, rd->handler, SB_CALL_FUNCTION, "on_response", a, 3, NULL);
    if (final || err)
        sb_rd_destroy(rd);
}

/* Free the UA: every session ends (on_terminated runs), kept requests are
 * released, and the script's objects are dropped. */
static void sb_ua_shutdown(sb_ua *u)
{
    if (!u || u->closed)
        return;
    u->closed = 1;
    /* first the library, which tells the peers (480 to an INVITE still
     * held, 487 to other kept requests, BYE, CANCEL) and detaches the
     * handles; then the handles the script kept are released */
    sipsess_ua_free(u->ua);
    u->ua = NULL;
    while (u->kept) {
        sb_req *r = u->kept;
        sb_req_unlink(r);
        r->req = NULL;
        r->u = NULL;
    }
    sb_lang_close(u);
    sb_release(u->env, u->delegate);
    sb_release(u->env, u->log_fn);
    sb_release(u->env, u->trace_fn);
    u->delegate = u->log_fn = u->trace_fn = 0;
    if (u->memnet) {
        sb_memnet *net = NULL;
        if (SWIG_ConvertPtr_obj(u->env, u->memnet, (void **)&net, SWIGTYPE_p_sb_memnet) == 0 && net)
            net->users--;
        sb_release(u->env, u->memnet);
        u->memnet = 0;
    }
}

/* At the end of a loop call: the close() a callback asked for (the
 * library must not free a UA from inside one of its callbacks). */
static void sb_ua_close_deferred(sb_ua *u)
{
    if (u->close_pending && u->depth == 0) {
        u->close_pending = 0;
        sb_ua_shutdown(u);
    }
}

static sb_ua *sb_ua_new(sb_config *c, sb_envp env)
{
    sb_ua *u = (sb_ua *)calloc(1, sizeof *u);
    if (!u) {
        sb_last_err = SIPSESS_ENOMEM;
        return NULL;
    }
    u->env = env;
    sb_lang_init(u);
    if (c->log_fn) {
        u->log_fn = sb_retain(env, c->log_fn);
        sipsess_ua_config_set_log(c->cfg, (sipsess_log_level)c->log_level, sb_ua_log, u);
    }
    if (c->trace_fn) {
        u->trace_fn = sb_retain(env, c->trace_fn);
        sipsess_ua_config_set_trace(c->cfg, sb_ua_trace, u);
    }
    int rc = sipsess_ua_new(c->cfg, &u->ua);
    /* the config may serve another UA: its hooks must not point at this one */
    if (c->log_fn)
        sipsess_ua_config_set_log(c->cfg, SIPSESS_LOG_NONE, NULL, NULL);
    if (c->trace_fn)
        sipsess_ua_config_set_trace(c->cfg, NULL, NULL);
    if (rc == 0)
        rc = sb_ua_install(u);
    if (rc) {
        sb_last_err = rc;
        u->closed = 0;
        sb_ua_shutdown(u);
        free(u);
        return NULL;
    }
    if (c->memnet) {
        sb_memnet *net = NULL;
        u->memnet = sb_retain(env, c->memnet);
        if (SWIG_ConvertPtr_obj(env, u->memnet, (void **)&net, SWIGTYPE_p_sb_memnet) == 0 && net)
            net->users++;
    }
    return u;
}

#define SB_UA_LIVE(u)                                                                      \
    do {                                                                                   \
        if (!(u) || (u)->closed)                                                           \
            return SIPSESS_ESTATE;                                                         \
    } while (0)
%}

/* ====================================================================== */
/* What the scripts see                                                   */

%rename(UA) sb_ua;
%rename(Config) sb_config;
%rename(Memnet) sb_memnet;
%rename(Request) sb_req;
%rename(Session) sb_Session;
%rename(Message) sb_Message;
%rename(Timer) sb_timerh;

%nodefaultctor sb_Session;
%nodefaultctor sb_Message;
%nodefaultctor sb_req;
%nodefaultctor sb_timerh;

typedef struct sb_ua {} sb_ua;
typedef struct sb_config {} sb_config;
typedef struct sb_memnet {} sb_memnet;
typedef struct sb_req {} sb_req;
typedef struct sb_timerh {} sb_timerh;
typedef struct sb_Session {} sb_Session;
typedef struct sb_Message {} sb_Message;

/* Constants: error codes, methods, states, causes, limits, log levels. */
%constant int OK = SIPSESS_OK;
%constant int EINVAL = SIPSESS_EINVAL;
%constant int ENOMEM = SIPSESS_ENOMEM;
%constant int EAGAIN = SIPSESS_EAGAIN;
%constant int ENOSPC = SIPSESS_ENOSPC;
%constant int EBUSY = SIPSESS_EBUSY;
%constant int ENOTFOUND = SIPSESS_ENOTFOUND;
%constant int ESTATE = SIPSESS_ESTATE;
%constant int ECALLBACK = SIPSESS_ECALLBACK;
%constant int ETIMEDOUT = SIPSESS_ETIMEDOUT;
%constant int ETRANSPORT = SIPSESS_ETRANSPORT;
%constant int ELIMIT = SIPSESS_ELIMIT;
%constant int ETOOBIG = SIPSESS_ETOOBIG;
%constant int ETOOMANYHDRS = SIPSESS_ETOOMANYHDRS;
%constant int EHDRTOOLONG = SIPSESS_EHDRTOOLONG;
%constant int EURITOOLONG = SIPSESS_EURITOOLONG;
%constant int ETOOMANYVIA = SIPSESS_ETOOMANYVIA;
%constant int ESTARTLINE = SIPSESS_ESTARTLINE;
%constant int EVERSION = SIPSESS_EVERSION;
%constant int EHEADER = SIPSESS_EHEADER;
%constant int ECLEN = SIPSESS_ECLEN;
%constant int ETRUNCATED = SIPSESS_ETRUNCATED;
%constant int EURI = SIPSESS_EURI;
%constant int ECSEQ = SIPSESS_ECSEQ;
%constant int EMISSING = SIPSESS_EMISSING;
%constant int EDUPLICATE = SIPSESS_EDUPLICATE;
%constant int ERANGE = SIPSESS_ERANGE;
%constant int ESTATUS = SIPSESS_ESTATUS;
%constant int EFRAMING = SIPSESS_EFRAMING;
%constant int METHOD_OTHER = SIPSESS_METHOD_OTHER;
%constant int METHOD_INVITE = SIPSESS_METHOD_INVITE;
%constant int METHOD_ACK = SIPSESS_METHOD_ACK;
%constant int METHOD_BYE = SIPSESS_METHOD_BYE;
%constant int METHOD_CANCEL = SIPSESS_METHOD_CANCEL;
%constant int METHOD_OPTIONS = SIPSESS_METHOD_OPTIONS;
%constant int METHOD_REGISTER = SIPSESS_METHOD_REGISTER;
%constant int METHOD_PRACK = SIPSESS_METHOD_PRACK;
%constant int METHOD_SUBSCRIBE = SIPSESS_METHOD_SUBSCRIBE;
%constant int METHOD_NOTIFY = SIPSESS_METHOD_NOTIFY;
%constant int METHOD_PUBLISH = SIPSESS_METHOD_PUBLISH;
%constant int METHOD_INFO = SIPSESS_METHOD_INFO;
%constant int METHOD_REFER = SIPSESS_METHOD_REFER;
%constant int METHOD_MESSAGE = SIPSESS_METHOD_MESSAGE;
%constant int METHOD_UPDATE = SIPSESS_METHOD_UPDATE;

%constant int SESSION_INITIAL = SIPSESS_SESSION_INITIAL;
%constant int SESSION_EARLY = SIPSESS_SESSION_EARLY;
%constant int SESSION_ACK_WAIT = SIPSESS_SESSION_ACK_WAIT;
%constant int SESSION_CONFIRMED = SIPSESS_SESSION_CONFIRMED;
%constant int SESSION_TERMINATED = SIPSESS_SESSION_TERMINATED;

%constant int SIGNALING_INITIAL = SIPSESS_SIGNALING_INITIAL;
%constant int SIGNALING_HAVE_LOCAL_OFFER = SIPSESS_SIGNALING_HAVE_LOCAL_OFFER;
%constant int SIGNALING_HAVE_REMOTE_OFFER = SIPSESS_SIGNALING_HAVE_REMOTE_OFFER;
%constant int SIGNALING_STABLE = SIPSESS_SIGNALING_STABLE;
%constant int SIGNALING_CLOSED = SIPSESS_SIGNALING_CLOSED;

%constant int TERM_NONE = SIPSESS_TERM_NONE;
%constant int TERM_LOCAL_BYE = SIPSESS_TERM_LOCAL_BYE;
%constant int TERM_REMOTE_BYE = SIPSESS_TERM_REMOTE_BYE;
%constant int TERM_REJECTED = SIPSESS_TERM_REJECTED;
%constant int TERM_CANCELLED = SIPSESS_TERM_CANCELLED;
%constant int TERM_REDIRECTED = SIPSESS_TERM_REDIRECTED;
%constant int TERM_ACK_TIMEOUT = SIPSESS_TERM_ACK_TIMEOUT;
%constant int TERM_TIMEOUT = SIPSESS_TERM_TIMEOUT;
%constant int TERM_TRANSPORT = SIPSESS_TERM_TRANSPORT;
%constant int TERM_PRACK_TIMEOUT = SIPSESS_TERM_PRACK_TIMEOUT;
%constant int TERM_REPLACED = SIPSESS_TERM_REPLACED;
%constant int TERM_FORK_LOSER = SIPSESS_TERM_FORK_LOSER;
%constant int TERM_UA_SHUTDOWN = SIPSESS_TERM_UA_SHUTDOWN;
%constant int TERM_DIALOG_ERROR = SIPSESS_TERM_DIALOG_ERROR;

%constant int BODY_LOCAL_OFFER = SIPSESS_BODY_LOCAL_OFFER;
%constant int BODY_LOCAL_ANSWER = SIPSESS_BODY_LOCAL_ANSWER;
%constant int BODY_REMOTE_OFFER = SIPSESS_BODY_REMOTE_OFFER;
%constant int BODY_REMOTE_ANSWER = SIPSESS_BODY_REMOTE_ANSWER;

%constant int LOG_NONE = SIPSESS_LOG_NONE;
%constant int LOG_ERROR = SIPSESS_LOG_ERROR;
%constant int LOG_WARN = SIPSESS_LOG_WARN;
%constant int LOG_INFO = SIPSESS_LOG_INFO;
%constant int LOG_DEBUG = SIPSESS_LOG_DEBUG;

%constant int LIMIT_MSG_SIZE = SIPSESS_LIMIT_MSG_SIZE;
%constant int LIMIT_HEADERS = SIPSESS_LIMIT_HEADERS;
%constant int LIMIT_TRANSACTIONS = SIPSESS_LIMIT_TRANSACTIONS;
%constant int LIMIT_TCP_CONNECTIONS = SIPSESS_LIMIT_TCP_CONNECTIONS;
%constant int LIMIT_TCP_BUFFER = SIPSESS_LIMIT_TCP_BUFFER;
%constant int LIMIT_TCP_IDLE_MS = SIPSESS_LIMIT_TCP_IDLE_MS;
%constant int LIMIT_UDP_SWITCH = SIPSESS_LIMIT_UDP_SWITCH;
%constant int LIMIT_SESSIONS = SIPSESS_LIMIT_SESSIONS;
%constant int LIMIT_PENDING = SIPSESS_LIMIT_PENDING;

%constant int REL100_OFF = SIPSESS_100REL_OFF;
%constant int REL100_SUPPORTED = SIPSESS_100REL_SUPPORTED;
%constant int REL100_REQUIRED = SIPSESS_100REL_REQUIRED;

%inline %{
/* Parse one SIP message (bytes) into a Message; raises / returns nil,msg
 * on a malformed one. */
static sb_Message *parse(const sb_bytes *data)
{
    sipsess_msg *m = NULL;
    sb_last_err = data ? sipsess_msg_parse(data->p, data->len, NULL, &m, NULL) : SIPSESS_EINVAL;
    if (sb_last_err) {
        sipsess_msg_free(m);
        return NULL;
    }
    return m;
}
%}

const char *sipsess_strerror(int err);
const char *sipsess_errname(int err);
const char *sipsess_version(void);
const char *sipsess_reason_phrase(unsigned status);
const char *sipsess_method_str(int m);

/* ---------------------------------------------------------------------- */
%extend sb_memnet {
    /** An in-memory network for UAs made with config.memnet(net). */
    sb_memnet(sb_envp env) {
        sb_memnet *n = (sb_memnet *)calloc(1, sizeof *n);
        if (!n || (sb_last_err = sipsess_memnet_new(&n->net)) != 0) {
            free(n);
            if (!sb_last_err)
                sb_last_err = SIPSESS_ENOMEM;
            return NULL;
        }
        n->env = env;
        return n;
    }
    ~sb_memnet() {
        /* a UA still attached keeps its script object alive, so this only
         * runs once every UA using the net is closed */
        sipsess_memnet_free($self->net);
        sb_release($self->env, $self->filter);
        free($self);
    }
    /** fn(from, to, data) -> true to drop the datagram; None/nil: keep all. */
    sb_rc set_filter(sb_obj fn) {
        sb_release($self->env, $self->filter);
        $self->filter = fn;
        return sipsess_memnet_set_filter($self->net, fn ? sb_memnet_filter : NULL, $self);
    }
}

%{
static int sb_memnet_filter(const char *from, const char *to, const char *data, size_t len,
                            void *ud)
{
    sb_memnet *n = (sb_memnet *)ud;
    sb_arg a[3];
    a[0].kind = SB_A_STR;
    a[0].v.str = from;
    a[1].kind = SB_A_STR;
    a[1].v.str = to;
    a[2].kind = SB_A_BYTES;
    a[2].v.str = data;
    a[2].len = len;
    int drop = 0;
    sb_invoke_detached(n->env, n->filter, a, 3, &drop);
    return drop;
}
%}

/* ---------------------------------------------------------------------- */
%extend sb_config {
    sb_config(sb_envp env) {
        sb_config *c = (sb_config *)calloc(1, sizeof *c);
        if (!c || (sb_last_err = sipsess_ua_config_new(&c->cfg)) != 0) {
            free(c);
            if (!sb_last_err)
                sb_last_err = SIPSESS_ENOMEM;
            return NULL;
        }
        c->env = env;
        return c;
    }
    ~sb_config() {
        sipsess_ua_config_free($self->cfg);
        sb_release($self->env, $self->log_fn);
        sb_release($self->env, $self->trace_fn);
        sb_release($self->env, $self->memnet);
        free($self);
    }
    sb_rc set_user_agent(const char *ua) { return sipsess_ua_config_set_user_agent($self->cfg, ua); }
    sb_rc set_identity(const char *identity) { return sipsess_ua_config_set_identity($self->cfg, identity); }
    sb_rc set_timers(unsigned t1_ms, unsigned t2_ms = 4000, unsigned t4_ms = 5000) {
        return sipsess_ua_config_set_timers($self->cfg, t1_ms, t2_ms, t4_ms);
    }
    sb_rc set_limit(int which, long long value) {
        if (value < 0)
            return SIPSESS_EINVAL;
        return sipsess_ua_config_set_limit($self->cfg, (sipsess_limit)which, (size_t)value);
    }
    sb_rc set_auto_ack(int on) { return sipsess_ua_config_set_auto_ack($self->cfg, on); }
    sb_rc set_auto_prack(int on) { return sipsess_ua_config_set_auto_prack($self->cfg, on); }
    sb_rc set_accept_forks(int on) { return sipsess_ua_config_set_accept_forks($self->cfg, on); }
    sb_rc set_100rel(int mode) { return sipsess_ua_config_set_100rel($self->cfg, (sipsess_100rel)mode); }
    sb_rc set_virtual_clock(int on) { return sipsess_ua_config_set_virtual_clock($self->cfg, on); }
    /** fn(level, line) gets the library's log lines up to `level`. */
    sb_rc set_log(int level, sb_obj fn) {
        if (level < SIPSESS_LOG_NONE || level > SIPSESS_LOG_DEBUG) {
            sb_release($self->env, fn);
            return SIPSESS_EINVAL;
        }
        sb_release($self->env, $self->log_fn);
        $self->log_fn = fn;
        $self->log_level = level;
        return 0;
    }
    /** fn(outgoing, transport, local, remote, data) gets every message. */
    sb_rc set_trace(sb_obj fn) {
        sb_release($self->env, $self->trace_fn);
        $self->trace_fn = fn;
        return 0;
    }
    sb_rc set_memnet(sb_obj net) {
        sb_memnet *n = NULL;
        if (!net || SWIG_ConvertPtr_obj($self->env, net, (void **)&n, SWIGTYPE_p_sb_memnet) != 0 || !n) {
            sb_release($self->env, net);
            return SIPSESS_EINVAL;
        }
        sb_release($self->env, $self->memnet);
        $self->memnet = net;
        return sipsess_ua_config_set_memnet($self->cfg, n->net);
    }
}

/* ---------------------------------------------------------------------- */
%extend sb_ua {
    sb_ua(sb_config *config, sb_envp env) {
        if (!config) {
            sb_last_err = SIPSESS_EINVAL;
            return NULL;
        }
        return sb_ua_new(config, env);
    }
    ~sb_ua() {
        /* collected without close(): on_terminated runs from the collector */
        sb_ua_shutdown($self);
        free($self);
    }
    /** End every session, release every handle and close the sockets.
     *  The UA cannot be used after (ESTATE). Called from one of the UA's
     *  callbacks, it takes effect when the running loop call returns. */
    void close(sb_envp cur) {
        if ($self->depth > 0 && !$self->closed) {
            /* inside one of this UA's callbacks: done when the loop call
             * returns (it returns at once, as after stop()) */
            $self->close_pending = 1;
            $self->stopping = 1;
            sipsess_ua_stop($self->ua);
            return;
        }
        SB_ENTER($self, cur);
        sb_ua_shutdown($self);
        SB_LEAVE($self);
    }
    const sb_bool closed;
    /** Nonzero once stop() was called (until the next run()). */
    const sb_bool stopping;
    /** Listen on "udp:127.0.0.1:5060", "tcp:[::1]:0", "mem:0"...; returns
     *  the listener index. */
    sb_rc listen(const char *spec) {
        SB_UA_LIVE($self);
        return sipsess_ua_listen($self->ua, spec);
    }
    const int listener_count;
    /** The listener as "udp:127.0.0.1:34567". */
    sb_text listener(int idx) {
        static char buf[128];
        size_t n = 0;
        sipsess_str out = {NULL, 0};
        if (!$self->closed && sipsess_ua_listener_spec($self->ua, idx, buf, sizeof buf, &n) == 0) {
            out.p = buf;
            out.len = n;
        }
        return out;
    }
    int port(int idx = 0) { return $self->closed ? 0 : (int)sipsess_ua_listener_port($self->ua, idx); }
    /** The UA delegate: on_invite(session, request), on_request(request). */
    sb_rc set_delegate(sb_obj delegate) {
        if ($self->closed) {
            sb_release($self->env, delegate);
            return SIPSESS_ESTATE;
        }
        sb_obj old = $self->delegate;
        $self->delegate = delegate;
        int rc = sb_ua_install($self);
        sb_release($self->env, old);
        return rc;
    }
    /** Re-raise (Python) / return (Lua) errors of callbacks from the loop
     *  call that ran them, instead of only reporting them. */
    sb_bool raise_errors;

    /** Make run() return after the current step. */
    sb_rc stop() {
        SB_UA_LIVE($self);
        $self->stopping = 1;
        sipsess_ua_stop($self->ua);
        return 0;
    }
    sb_rc wake() {
        SB_UA_LIVE($self);
        return sipsess_ua_wake($self->ua);
    }
    const int fd;
    const int next_timeout;
    const double now;

    /** Call fn() once, `ms` from now on the UA's clock (virtual clock
     *  too), like any callback; returns a Timer (timer.cancel()). */
    sb_timerh *after(double ms, sb_obj fn) {
        sb_last_err = 0;
        if ($self->closed || !fn || !(ms >= 0) || ms > 1e15) {
            sb_last_err = $self->closed ? SIPSESS_ESTATE : SIPSESS_EINVAL;
            sb_release($self->env, fn);
            return NULL;
        }
        sb_timer *c = (sb_timer *)calloc(1, sizeof *c);
        sb_timerh *h = (sb_timerh *)calloc(1, sizeof *h);
        int rc = c && h ? 0 : SIPSESS_ENOMEM;
        if (rc == 0) {
            c->u = $self;
            c->fn = fn;
            rc = sipsess_ua_timer_start($self->ua, (uint64_t)ms, sb_timer_fire, c,
                                        sb_timer_destroy, &c->t);
        }
        if (rc) {
            free(c);
            free(h);
            sb_release($self->env, fn);
            sb_last_err = rc;
            return NULL;
        }
        c->h = h;
        h->ctx = c;
        sb_after_send($self); /* asyncio: the adapter re-reads the timeout */
        return h;
    }

    /** Send an out-of-dialog request (OPTIONS, MESSAGE, ...) to `uri`;
     *  handler(response, final, err) gets each response (response none
     *  and err ETIMEDOUT/ETRANSPORT when there is none). */
    sb_rc request(sb_envp cur, const char *method, const char *uri, const char *headers = NULL,
                  const sb_bytes *body = NULL, const char *content_type = NULL,
                  sb_obj handler = 0) {
        if ($self->closed) {
            sb_release($self->env, handler);
            return SIPSESS_ESTATE;
        }
        sb_rd *rd = NULL;
        if (handler) {
            rd = (sb_rd *)calloc(1, sizeof *rd);
            if (!rd) {
                sb_release($self->env, handler);
                return SIPSESS_ENOMEM;
            }
            rd->u = $self;
            rd->handler = handler;
            rd->mode = SB_CALL_FUNCTION;
        }
        int rc = sipsess_ua_request($self->ua, method, uri, headers, body ? body->p : NULL,
                                    body ? body->len : 0, content_type,
                                    rd ? sb_ua_response : NULL, rd);
        if (rc && rd)
            sb_rd_destroy(rd);
        sb_after_send($self);
        return rc;
    }

    /** Place a call; returns the Session. `delegate` gets its in-dialog
     *  requests, `handler` the INVITE's responses. */
    sb_session *invite(const char *uri, const sb_bytes *body = NULL, const char *content_type = NULL,
                       const char *headers = NULL, sb_obj delegate = 0, sb_obj handler = 0) {
        sb_last_err = 0;
        if ($self->closed) {
            sb_release($self->env, delegate);
            sb_release($self->env, handler);
            sb_last_err = SIPSESS_ESTATE;
            return NULL;
        }
        sipsess_response_delegate *d = NULL;
        sb_rd *rd = NULL;
        int rc = sb_rd_make($self, handler, &d, &rd);
        sipsess_session *s = NULL;
        if (rc == 0)
            rc = sipsess_ua_invite($self->ua, uri, body ? body->p : NULL, body ? body->len : 0,
                                   content_type, headers, d, rd, &s);
        sipsess_response_delegate_free(d);
        if (rc) {
            if (rd)
                sb_rd_destroy(rd);
            sb_release($self->env, delegate);
            sb_last_err = rc;
            return NULL;
        }
        sb_after_send($self);
        sb_session *c = sb_sess_attach($self, s);
        if (!c) {
            sb_release($self->env, delegate);
            sipsess_session_terminate(s);
            sb_last_err = SIPSESS_ENOMEM;
            return NULL;
        }
        if (delegate && (rc = sb_sess_set_delegate($self, s, delegate)) != 0) {
            sipsess_session_terminate(s);
            sb_last_err = rc;
            return NULL;
        }
        return c;
    }
}

%{
static int sb_ua_closed_get(sb_ua *u) { return u->closed; }
static int sb_ua_stopping_get(sb_ua *u) { return u->stopping; }
static int sb_ua_listener_count_get(sb_ua *u) { return u->closed ? 0 : sipsess_ua_listener_count(u->ua); }
static int sb_ua_raise_errors_get(sb_ua *u) { return u->raise_errors; }
static void sb_ua_raise_errors_set(sb_ua *u, int on) { u->raise_errors = on; }
static int sb_ua_fd_get(sb_ua *u) { return u->closed ? -1 : sipsess_ua_fd(u->ua); }
static int sb_ua_next_timeout_get(sb_ua *u) { return u->closed ? -1 : sipsess_ua_next_timeout_ms(u->ua); }
static double sb_ua_now_get(sb_ua *u) { return u->closed ? 0.0 : (double)sipsess_ua_now_ms(u->ua); }
%}

/* ---------------------------------------------------------------------- */
%extend sb_Session {
    ~sb_Session() { sipsess_session_unref($self); }

    const int state;
    const int signaling_state;
    const int term_cause;
    const sb_bool outgoing;
    const sb_text call_id;
    const sb_text local_tag;
    const sb_text remote_tag;
    const sb_text local_uri;
    const sb_text remote_uri;
    const sb_text remote_target;

    /** One of the offer/answer bodies (BODY_*): the bytes, or none. */
    sb_blob body(int which) {
        sipsess_str none = {NULL, 0};
        if (which < SIPSESS_BODY_LOCAL_OFFER || which > SIPSESS_BODY_REMOTE_ANSWER)
            return none;
        return sipsess_session_body($self, (sipsess_body_kind)which, NULL);
    }
    sb_text body_type(int which) {
        sipsess_str ct = {NULL, 0};
        if (which < SIPSESS_BODY_LOCAL_OFFER || which > SIPSESS_BODY_REMOTE_ANSWER)
            return ct;
        sipsess_session_body($self, (sipsess_body_kind)which, &ct);
        return ct;
    }

    /** Install the session delegate (an object with on_bye, on_info, ...);
     *  held until the session is Terminated. */
    sb_rc set_delegate(sb_envp env, sb_obj delegate) {
        sb_session *c = sb_sess_ctx($self);
        if (!c) {
            sb_release(env, delegate);
            return SIPSESS_ESTATE;
        }
        return sb_sess_set_delegate(c->u, $self, delegate);
    }

    sb_rc bye(sb_envp env, const char *headers = NULL, sb_obj handler = 0) {
        sb_session *c = sb_sess_ctx($self);
        if (!c) { sb_release(env, handler); return SIPSESS_ESTATE; }
        SB_SEND(c->u, handler, sipsess_session_bye($self, headers, rdd, rdu));
    }
    sb_rc info(sb_envp env, const sb_bytes *body = NULL, const char *content_type = NULL,
               const char *headers = NULL, sb_obj handler = 0) {
        sb_session *c = sb_sess_ctx($self);
        if (!c) { sb_release(env, handler); return SIPSESS_ESTATE; }
        SB_SEND(c->u, handler, sipsess_session_info($self, body ? body->p : NULL, body ? body->len : 0,
                                                     content_type, headers, rdd, rdu));
    }
    sb_rc invite(sb_envp env, const sb_bytes *body = NULL, const char *content_type = NULL,
                 const char *headers = NULL, sb_obj handler = 0) {
        sb_session *c = sb_sess_ctx($self);
        if (!c) { sb_release(env, handler); return SIPSESS_ESTATE; }
        SB_SEND(c->u, handler, sipsess_session_invite($self, body ? body->p : NULL, body ? body->len : 0,
                                                       content_type, headers, rdd, rdu));
    }
    sb_rc update(sb_envp env, const sb_bytes *body = NULL, const char *content_type = NULL,
                 const char *headers = NULL, sb_obj handler = 0) {
        sb_session *c = sb_sess_ctx($self);
        if (!c) { sb_release(env, handler); return SIPSESS_ESTATE; }
        SB_SEND(c->u, handler, sipsess_session_update($self, body ? body->p : NULL, body ? body->len : 0,
                                                       content_type, headers, rdd, rdu));
    }
    sb_rc message(sb_envp env, const sb_bytes *body = NULL, const char *content_type = NULL,
                  const char *headers = NULL, sb_obj handler = 0) {
        sb_session *c = sb_sess_ctx($self);
        if (!c) { sb_release(env, handler); return SIPSESS_ESTATE; }
        SB_SEND(c->u, handler, sipsess_session_message($self, body ? body->p : NULL, body ? body->len : 0,
                                                        content_type, headers, rdd, rdu));
    }
    sb_rc notify(sb_envp env, const sb_bytes *body = NULL, const char *content_type = NULL,
                 const char *headers = NULL, sb_obj handler = 0) {
        sb_session *c = sb_sess_ctx($self);
        if (!c) { sb_release(env, handler); return SIPSESS_ESTATE; }
        SB_SEND(c->u, handler, sipsess_session_notify($self, body ? body->p : NULL, body ? body->len : 0,
                                                       content_type, headers, rdd, rdu));
    }
    sb_rc prack(sb_envp env, const sb_bytes *body = NULL, const char *content_type = NULL,
                const char *headers = NULL, sb_obj handler = 0) {
        sb_session *c = sb_sess_ctx($self);
        if (!c) { sb_release(env, handler); return SIPSESS_ESTATE; }
        SB_SEND(c->u, handler, sipsess_session_prack($self, body ? body->p : NULL, body ? body->len : 0,
                                                      content_type, headers, rdd, rdu));
    }
    sb_rc refer(sb_envp env, const char *refer_to, const char *headers = NULL, sb_obj handler = 0) {
        sb_session *c = sb_sess_ctx($self);
        if (!c) { sb_release(env, handler); return SIPSESS_ESTATE; }
        SB_SEND(c->u, handler, sipsess_session_refer($self, refer_to, headers, rdd, rdu));
    }
    /** Any in-dialog method. */
    sb_rc request(sb_envp env, const char *method, const sb_bytes *body = NULL, const char *content_type = NULL,
                  const char *headers = NULL, sb_obj handler = 0) {
        sb_session *c = sb_sess_ctx($self);
        if (!c) { sb_release(env, handler); return SIPSESS_ESTATE; }
        SB_SEND(c->u, handler, sipsess_session_request($self, method, body ? body->p : NULL,
                                                        body ? body->len : 0, content_type, headers,
                                                        rdd, rdu));
    }
    sb_rc cancel(const char *headers = NULL) {
        sb_session *c = sb_sess_ctx($self);
        sb_ua *u = c ? c->u : NULL;
        int rc = sipsess_session_cancel($self, headers);
        sb_after_send(u);
        return rc;
    }
    sb_rc ack(const sb_bytes *body = NULL, const char *content_type = NULL) {
        sb_session *c = sb_sess_ctx($self);
        sb_ua *u = c ? c->u : NULL;
        int rc = sipsess_session_ack($self, body ? body->p : NULL, body ? body->len : 0, content_type);
        sb_after_send(u);
        return rc;
    }
    sb_rc terminate() {
        sb_session *c = sb_sess_ctx($self);
        sb_ua *u = c ? c->u : NULL;
        int rc = sipsess_session_terminate($self);
        sb_after_send(u);
        return rc;
    }
}

%{
static int sb_Session_state_get(sipsess_session *s) { return sipsess_session_get_state(s); }
static int sb_Session_signaling_state_get(sipsess_session *s) { return sipsess_session_get_signaling_state(s); }
static int sb_Session_term_cause_get(sipsess_session *s) { return sipsess_session_term_cause(s); }
static int sb_Session_outgoing_get(sipsess_session *s) { return sipsess_session_is_outgoing(s); }
static sb_text sb_Session_call_id_get(sipsess_session *s) { return sipsess_session_call_id(s); }
static sb_text sb_Session_local_tag_get(sipsess_session *s) { return sipsess_session_local_tag(s); }
static sb_text sb_Session_remote_tag_get(sipsess_session *s) { return sipsess_session_remote_tag(s); }
static sb_text sb_Session_local_uri_get(sipsess_session *s) { return sipsess_session_local_uri(s); }
static sb_text sb_Session_remote_uri_get(sipsess_session *s) { return sipsess_session_remote_uri(s); }
static sb_text sb_Session_remote_target_get(sipsess_session *s) { return sipsess_session_remote_target(s); }
%}

/* ---------------------------------------------------------------------- */
%extend sb_timerh {
    ~sb_timerh() {
        if ($self->ctx)
            $self->ctx->h = NULL; /* the timer still fires */
        free($self);
    }
    /** Nonzero until the timer fired or was cancelled. */
    const sb_bool pending;
    /** Cancel it (a no-op once it fired). */
    sb_rc cancel() {
        sb_timer *c = $self->ctx;
        if (!c)
            return 0;
        $self->ctx = NULL;
        c->h = NULL;
        sipsess_ua_timer_cancel(c->t);
        return 0;
    }
}
%{
static int sb_timerh_pending_get(sb_timerh *h) { return h->ctx != NULL; }
%}

/* ---------------------------------------------------------------------- */
%extend sb_req {
    ~sb_req() { sb_req_free($self); }

    /** Nonzero while the handle can be used (in its callback, or kept). */
    const sb_bool valid;
    const int method;
    const sb_text method_name;
    const sb_text uri;
    const sb_blob body;
    const sb_text content_type;
    const sb_bool answered;
    const int sipfrag_status;
    const sb_bool subscription_terminated;

    /** Keep the handle past the callback to answer later. */
    sb_rc keep() { return sb_req_hold($self); }
    /** The nth value of a header, or none. */
    sb_text header(const char *name, int nth = 0) {
        sipsess_str none = {NULL, 0};
        if (!$self->req || !name || nth < 0)
            return none;
        return sipsess_request_header($self->req, name, (size_t)nth);
    }
    sb_rc accept(const sb_bytes *body = NULL, const char *content_type = NULL,
                 const char *headers = NULL) {
        if (!$self->req) return SIPSESS_ESTATE;
        int rc = sipsess_request_accept($self->req, body ? body->p : NULL, body ? body->len : 0,
                                        content_type, headers);
        if ($self->u) sb_after_send($self->u);
        return rc;
    }
    sb_rc reply(int status, const char *reason = NULL, const sb_bytes *body = NULL,
                const char *content_type = NULL, const char *headers = NULL) {
        if (!$self->req) return SIPSESS_ESTATE;
        if (status < 0) return SIPSESS_ESTATUS;
        int rc = sipsess_request_reply($self->req, (unsigned)status, reason, body ? body->p : NULL,
                                       body ? body->len : 0, content_type, headers);
        if ($self->u) sb_after_send($self->u);
        return rc;
    }
    sb_rc reject(int status = 603, const char *reason = NULL, const char *headers = NULL) {
        if (!$self->req) return SIPSESS_ESTATE;
        if (status < 0) return SIPSESS_ESTATUS;
        int rc = sipsess_request_reject($self->req, (unsigned)status, reason, headers);
        if ($self->u) sb_after_send($self->u);
        return rc;
    }
    sb_rc progress(int status = 180, const char *reason = NULL, const sb_bytes *body = NULL,
                   const char *content_type = NULL, int reliable = 0) {
        if (!$self->req) return SIPSESS_ESTATE;
        if (status < 0) return SIPSESS_ESTATUS;
        int rc = sipsess_request_progress($self->req, (unsigned)status, reason, body ? body->p : NULL,
                                          body ? body->len : 0, content_type, reliable);
        if ($self->u) sb_after_send($self->u);
        return rc;
    }
    sb_rc trying() {
        if (!$self->req) return SIPSESS_ESTATE;
        return sipsess_request_trying($self->req);
    }
    sb_rc redirect(const char *contacts) {
        if (!$self->req) return SIPSESS_ESTATE;
        int rc = sipsess_request_redirect($self->req, contacts);
        if ($self->u) sb_after_send($self->u);
        return rc;
    }
    /** REFER progress to the referrer (a NOTIFY with a sipfrag). */
    sb_rc notify_refer(sb_envp env, int status, const char *reason = NULL, sb_obj handler = 0) {
        if (!$self->req || !$self->u) { sb_release(env, handler); return SIPSESS_ESTATE; }
        if (status < 0) { sb_release($self->u->env, handler); return SIPSESS_EINVAL; }
        SB_SEND($self->u, handler, sipsess_request_notify_refer($self->req, (unsigned)status, reason, rdd, rdu));
    }
    /** The whole request as a Message (kept as long as the Message). */
    sb_Message *message() {
        sb_last_err = 0;
        if (!$self->req)
            return NULL;
        return sipsess_msg_ref((sipsess_msg *)sipsess_request_msg($self->req));
    }
    /** The session an INVITE with Replaces names, or none. */
    sb_session *replaces() {
        sb_last_err = 0;
        if (!$self->req || !$self->u)
            return NULL;
        sipsess_session *s = sipsess_request_replaces($self->req);
        return s ? sb_sess_attach($self->u, s) : NULL;
    }
    /** The session of an in-dialog request, or none. */
    sb_session *session() {
        sb_last_err = 0;
        if (!$self->req || !$self->u)
            return NULL;
        sipsess_session *s = sipsess_request_session($self->req);
        return s ? sb_sess_attach($self->u, s) : NULL;
    }
}

%{
static int sb_req_valid_get(sb_req *r) { return r->req != NULL; }
static int sb_req_method_get(sb_req *r) { return r->req ? (int)sipsess_request_method(r->req) : -1; }
static sb_text sb_req_method_name_get(sb_req *r)
{
    sipsess_str none = {NULL, 0};
    return r->req ? sipsess_msg_method_name(sipsess_request_msg(r->req)) : none;
}
static sb_text sb_req_uri_get(sb_req *r)
{
    sipsess_str none = {NULL, 0};
    const sipsess_uri *uri = r->req ? sipsess_msg_ruri(sipsess_request_msg(r->req)) : NULL;
    return uri ? sipsess_uri_text(uri) : none;
}
static sb_blob sb_req_body_get(sb_req *r)
{
    sipsess_str none = {NULL, 0};
    return r->req ? sipsess_request_body(r->req) : none;
}
static sb_text sb_req_content_type_get(sb_req *r)
{
    sipsess_str none = {NULL, 0};
    return r->req ? sipsess_request_content_type(r->req) : none;
}
static int sb_req_answered_get(sb_req *r) { return r->req ? sipsess_request_answered(r->req) : 1; }
static int sb_req_sipfrag_status_get(sb_req *r) { return r->req ? (int)sipsess_request_sipfrag_status(r->req) : 0; }
static int sb_req_subscription_terminated_get(sb_req *r) { return r->req ? sipsess_request_subscription_terminated(r->req) : 0; }
%}

/* ---------------------------------------------------------------------- */
%extend sb_Message {
    ~sb_Message() { sipsess_msg_free($self); }
    const sb_bool is_request;
    const int status;
    const sb_text reason;
    const sb_text method_name;
    const sb_text uri;
    const sb_blob body;
    const sb_blob raw;
    const int header_count;
    /** The nth value of a header by name (compact forms too), or none. */
    sb_text header(const char *name, int nth = 0) {
        sipsess_str none = {NULL, 0};
        if (!name || nth < 0)
            return none;
        const sipsess_hdr *h = sipsess_msg_hdr_by_name($self, name, (size_t)nth);
        return h ? sipsess_hdr_value(h) : none;
    }
    /** Name and value of the header at index i (0 .. header_count-1). */
    sb_text header_name(int i) {
        sipsess_str none = {NULL, 0};
        const sipsess_hdr *h = i >= 0 ? sipsess_msg_hdr_at($self, (size_t)i) : NULL;
        return h ? sipsess_hdr_name(h) : none;
    }
    sb_text header_value(int i) {
        sipsess_str none = {NULL, 0};
        const sipsess_hdr *h = i >= 0 ? sipsess_msg_hdr_at($self, (size_t)i) : NULL;
        return h ? sipsess_hdr_value(h) : none;
    }
}

%{
static int sb_Message_is_request_get(sipsess_msg *m) { return sipsess_msg_is_request(m); }
static int sb_Message_status_get(sipsess_msg *m) { return (int)sipsess_msg_status(m); }
static sb_text sb_Message_reason_get(sipsess_msg *m) { return sipsess_msg_reason(m); }
static sb_text sb_Message_method_name_get(sipsess_msg *m)
{
    sipsess_str none = {NULL, 0};
    if (sipsess_msg_is_request(m))
        return sipsess_msg_method_name(m);
    const sipsess_hdr *h = sipsess_msg_hdr(m, SIPSESS_HDR_CSEQ, 0);
    return h ? sipsess_cseq_method_name(h) : none;
}
static sb_text sb_Message_uri_get(sipsess_msg *m)
{
    sipsess_str none = {NULL, 0};
    const sipsess_uri *u = sipsess_msg_ruri(m);
    return u ? sipsess_uri_text(u) : none;
}
static sb_blob sb_Message_body_get(sipsess_msg *m) { return sipsess_msg_body(m); }
static sb_blob sb_Message_raw_get(sipsess_msg *m) { return sipsess_msg_raw(m); }
static int sb_Message_header_count_get(sipsess_msg *m) { return (int)sipsess_msg_hdr_count(m); }
%}

#ifdef SWIGPYTHON
%include "sb_python_api.swg"
#else
%include "sb_lua_api.swg"
#endif
