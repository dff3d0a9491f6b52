/*
 * Private event loop: epoll for sockets, a binary min-heap of timers, a
 * monotonic or virtual millisecond clock, and a thread-safe wake/post
 * queue. No threads are started. Every function except
 * sipsess__loop_wake/sipsess__loop_post must be called on the loop's thread.
 * Never installed.
 */
#ifndef SIPSESS__LOOP_H
#define SIPSESS__LOOP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct sipsess__loop sipsess__loop;
typedef struct sipsess__timer sipsess__timer;

typedef void (*sipsess__timer_cb)(sipsess__timer *t, void *arg);

/** A timer embedded in its owner (no allocation per start). Fields are
 *  private to loop.c; initialise with sipsess__timer_init. */
struct sipsess__timer {
    uint64_t due;        /* absolute ms on the loop clock */
    uint64_t seq;        /* tie-break: timers due together fire in start order */
    size_t heap_idx;     /* (size_t)-1 when not armed */
    sipsess__timer_cb cb;
    void *arg;
};

/** `virtual_clock`: time starts at 0 and only moves in
 *  sipsess__loop_advance; process() then never sleeps on timers.
 *  Errors: SIPSESS_ENOMEM, or a negative errno-derived SIPSESS_EINVAL when
 *  epoll/eventfd cannot be created. */
int sipsess__loop_new(bool virtual_clock, sipsess__loop **out);
/** Frees the loop; armed timers are simply forgotten, watched fds are not
 *  closed (their owners close them). */
void sipsess__loop_free(sipsess__loop *l);

/** Current time in ms (CLOCK_MONOTONIC, or the virtual clock). */
uint64_t sipsess__loop_now(const sipsess__loop *l);
bool sipsess__loop_is_virtual(const sipsess__loop *l);

void sipsess__timer_init(sipsess__timer *t, sipsess__timer_cb cb, void *arg);
/** Arm (or re-arm) `t` to fire `delay_ms` from now. O(log n). */
int sipsess__timer_start(sipsess__loop *l, sipsess__timer *t, uint64_t delay_ms);
/** Disarm; a no-op when not armed. O(log n). */
void sipsess__timer_stop(sipsess__loop *l, sipsess__timer *t);
bool sipsess__timer_armed(const sipsess__timer *t);
/** ms until `t` fires, or -1 when not armed. */
int64_t sipsess__timer_remaining(const sipsess__loop *l, const sipsess__timer *t);

enum {
    SIPSESS__IO_READ = 1,
    SIPSESS__IO_WRITE = 2,
    SIPSESS__IO_ERROR = 4, /* reported only: EPOLLERR / EPOLLHUP */
};
typedef void (*sipsess__io_cb)(int fd, unsigned events, void *arg);

/** Watch `fd` for `events` (add or modify). One watcher per fd. */
int sipsess__loop_watch(sipsess__loop *l, int fd, unsigned events, sipsess__io_cb cb, void *arg);
/** Stop watching; safe to call from inside that fd's own callback. */
void sipsess__loop_unwatch(sipsess__loop *l, int fd);

/** The fd an outside loop polls for readability (the epoll fd). */
int sipsess__loop_fd(const sipsess__loop *l);
/** ms until the next timer (0 when one is due or posted work waits), -1
 *  when none; with a virtual clock -1 unless something is already due. */
int sipsess__loop_next_timeout(const sipsess__loop *l);
/**
 * Wait at most `timeout_ms` (-1 forever, 0 poll) for I/O, dispatch ready
 * fds, run posted work and every due timer. Returns the number of events
 * handled (>= 0) or an error.
 */
int sipsess__loop_process(sipsess__loop *l, int timeout_ms);
/** Virtual clock: move time forward by `ms`, firing due timers in order
 *  (each at its own due time) and processing ready I/O without blocking.
 *  SIPSESS_ESTATE on a real clock. */
int sipsess__loop_advance(sipsess__loop *l, uint64_t ms);

/** Make a blocked process() return. Thread-safe, async-signal-safe. */
int sipsess__loop_wake(sipsess__loop *l);
/** Queue fn(arg) to run on the loop thread in the next process(). Thread-safe.
 *  Errors: SIPSESS_ENOMEM. */
int sipsess__loop_post(sipsess__loop *l, void (*fn)(void *arg), void *arg);

/** Fill `buf` with `len` cryptographically strong random bytes (getrandom,
 *  falling back to /dev/urandom). */
int sipsess__random(void *buf, size_t len);
/** `len` random characters from [A-Za-z0-9] (branches, tags, Call-IDs). */
int sipsess__random_token(char *buf, size_t len);

#endif
