/* Private shapes of the UA objects. Never installed. */
#ifndef SIPSESS__UA_INT_H
#define SIPSESS__UA_INT_H

#include <stdbool.h>

#include "sipsess/ua.h"
#include "sipsess/session.h"
#include "runtime/log.h"
#include "runtime/loop.h"
#include "transport/transport.h"
#include "txn/txn.h"
#include "session/session_int.h"

struct sipsess_ua_config {
    char user_agent[128];
    sipsess__txn_timers timers;
    sipsess__tp_config tp;
    bool virtual_clock;
    sipsess_log_level log_level;
    sipsess_log_fn log_fn;
    void *log_ud;
    sipsess_trace_fn trace_fn;
    void *trace_ud;
    sipsess__sl_config sess;  /* identity, auto ACK/PRACK, 100rel, limits */
};

struct sipsess_ua_delegate {
    sipsess_ua_invite_cb on_invite;
    sipsess_ua_request_cb on_request;
};

struct sipsess_ua {
    sipsess_ua_config cfg;
    sipsess__log log;
    sipsess__loop *loop;
    sipsess__tp *tp;
    sipsess__txl *txl;
    sipsess__sl *sl;
    sipsess_ua_delegate del;
    void *del_ud;
    void (*del_destroy)(void *ud);
    sipsess_timer *timers;        /* application timers not yet fired */
    volatile bool stop;
};

/* An application timer (sipsess_ua_timer_start). */
struct sipsess_timer {
    sipsess__timer tm;
    sipsess_ua *ua;
    sipsess_timer *prev, *next;   /* ua->timers */
    void (*fn)(void *arg);
    void (*destroy)(void *arg);
    void *arg;
};

#endif
