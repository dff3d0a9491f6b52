/*
 * Helpers shared by the C examples (uas.c, hold.c, transfer.c): SDP
 * bodies, names for log lines, one-shot timers and a bounded loop. They
 * use the public API only and are part of the examples, not of the
 * library; examples/python/common.py and examples/lua/common.lua are the
 * same helpers.
 *
 * The library never reads SDP, so the examples do, just enough for hold:
 * one audio stream whose a= direction attribute is all that changes.
 */
#ifndef SIPSESS_EXAMPLES_COMMON_H
#define SIPSESS_EXAMPLES_COMMON_H

#include <stddef.h>
#include <stdint.h>

#include <sipsess/sipsess.h>

#define EX_SDP_TYPE "application/sdp"
#define EX_SDP_MAX 512

/* printf arguments for a sipsess_str: printf("%.*s", EX_STR(v)) */
#define EX_STR(v) (int)(v).len, (v).p ? (v).p : ""

#if defined(__GNUC__)
#define EX_PRINTF(a, b) __attribute__((format(printf, a, b)))
#else
#define EX_PRINTF(a, b)
#endif

/* ex_log("...") prints "prog(c): ..." as one line on stdout. */
void ex_log_init(const char *prog);
void ex_log(const char *fmt, ...) EX_PRINTF(1, 2);

/* A UA listening on `listen` with `identity` as From; library warnings
 * go to stderr. NULL (the reason printed) on failure. */
sipsess_ua *ex_ua_new(const char *listen, const char *identity);

/* One PCMU audio stream on loopback with an a=<direction> line; returns
 * the length written to buf (EX_SDP_MAX is enough). */
size_t ex_sdp(char *buf, size_t cap, unsigned version, const char *direction, unsigned port);
/* The direction an SDP body asks for ("none" without a body). Static. */
const char *ex_direction(sipsess_str body);
/* RFC 3264 §6.1: the answer's direction for an offer's. Static. */
const char *ex_mirror(const char *direction);
/* '<sip:carol@host;transport=udp?Replaces=...>;p=1' -> 'sip:carol@host;transport=udp' */
void ex_refer_target(sipsess_str value, char *out, size_t cap);

const char *ex_state_name(sipsess_session_state state);
const char *ex_cause_name(sipsess_term_cause cause);
/* "200 OK" for a response, "no response" for NULL (a timeout). */
const char *ex_status_text(const sipsess_msg *resp, char *buf, size_t cap);

/* One-shot timers on the UA's clock. They also serve to act after a
 * callback returned (ex_later(ua, 0, ...)) rather than inside it. */
typedef void (*ex_fn)(void *arg);
int ex_later(sipsess_ua *ua, uint64_t ms, ex_fn fn, void *arg);

/* Step the UA and fire the timers until done() is true (returns 1), or
 * max_s seconds passed or SIGINT/SIGTERM arrived (returns 0). */
int ex_run(sipsess_ua *ua, int (*done)(void), double max_s);
/* Drop the timers that did not fire (at exit). */
void ex_timers_clear(void);

/* Option parsing: a number after --name, or exit 2 with `usage`. */
double ex_number(const char *name, const char *value, const char *usage);

#endif
