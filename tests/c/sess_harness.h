/*
 * Shared harness of the session tests: user agents on one memnet with
 * virtual clocks, recording every delegate callback, and a tiny SDP-ish
 * body (the library never looks inside it).
 */
#ifndef SESS_HARNESS_H
#define SESS_HARNESS_H

#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include <sipsess/sipsess.h>

#define OFFER1 "v=0\r\no=a 1 1 IN IP4 127.0.0.1\r\nm=audio 4000 RTP/AVP 0\r\n"
#define ANSWER1 "v=0\r\no=b 1 1 IN IP4 127.0.0.1\r\nm=audio 5000 RTP/AVP 0\r\n"
#define OFFER2 "v=0\r\no=a 1 2 IN IP4 127.0.0.1\r\nm=audio 4000 RTP/AVP 0\r\na=sendonly\r\n"
#define ANSWER2 "v=0\r\no=b 1 2 IN IP4 127.0.0.1\r\nm=audio 5000 RTP/AVP 0\r\na=recvonly\r\n"
#define SDP "application/sdp"

enum { EV_MAX = 64 };

/* What a peer's delegates do with what they get. */
typedef enum {
    ACT_DEFAULT = 0,   /* return without answering */
    ACT_ACCEPT,        /* accept (with `answer_body` when set) */
    ACT_REJECT,        /* reject with `reject_status` */
    ACT_KEEP,          /* keep the handle (answered later by the test) */
    ACT_PROGRESS,      /* 180 (reliable when `reliable`), then keep */
    ACT_FAIL,          /* return SIPSESS_ECALLBACK */
    ACT_REDIRECT,
} action;

typedef struct peer {
    const char *name;
    sipsess_ua *ua;
    unsigned port;
    char uri[64];
    /* behaviour */
    action on_invite, on_reinvite, on_bye, on_info, on_update, on_prack, on_refer, on_message,
        on_notify, on_other;
    unsigned reject_status;
    const char *answer_body;
    int reliable;
    int install_delegate; /* on_invite installs the session delegate (default 1) */
    int keep_ack;
    int bye_in_ack_timeout;
    /* records */
    sipsess_session *sess;       /* the last new incoming session */
    sipsess_request *kept;       /* the last kept request (referenced) */
    sipsess_request *kept_ack;
    int n_invite, n_reinvite, n_ack, n_bye, n_info, n_update, n_prack, n_refer, n_message,
        n_notify, n_other, n_cancel, n_ack_timeout, n_ood;
    sipsess_session_state states[EV_MAX];
    int n_states;
    int n_terminated;
    sipsess_term_cause cause;
    int n_destroy;
    unsigned last_sipfrag;
    int last_sub_terminated;
    char last_body[512];
    char last_method[32];
} peer;

/* response delegate records */
typedef struct rsp {
    int n_trying, n_progress, n_accept, n_redirect, n_reject, n_reject_null;
    unsigned last_status;
    sipsess_session *last_session;
    sipsess_session *sessions[8];
    int n_sessions;
    char body[512];
    int ack_in_accept; /* call sipsess_session_ack with ANSWER1 from on_accept */
    int keep_sessions; /* sipsess_session_ref every session seen (test unrefs) */
    int prack_in_progress;
} rsp;

extern sipsess_memnet *g_net;
/** Also advanced by h_run (a raw endpoint's loop), or NULL. */
extern void (*g_extra_advance)(unsigned ms);
extern peer g_a, g_b, g_c;

void h_setup(void);
void h_teardown(void);
void h_peer(peer *p, const char *name, unsigned port, sipsess_ua_config *cfg);
sipsess_ua_config *h_config(void);
/** Advance every UA by `ms` in small steps so messages flow. */
void h_run(unsigned ms);
/** Install the recording UA delegate on p->ua. */
void h_peer_delegates(peer *p);
sipsess_response_delegate *h_rd(void);
void h_install(sipsess_session *s, peer *p);
/** Count of messages seen on the memnet whose start line begins with `prefix`. */
int h_count(const char *prefix);
void h_count_reset(void);
/** Drop the next `n` datagrams whose start line begins with `prefix`. */
void h_drop(const char *prefix, int n);
/** Last datagram whose start line begins with `prefix` (NUL-terminated copy). */
const char *h_last(const char *prefix);

#endif
