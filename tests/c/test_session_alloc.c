/*
 * Allocation failures through a whole call (the allocator hook of
 * common.h): each allocation in turn fails while two user agents set up,
 * run and tear down a call with 100rel, a re-INVITE and BYE. Nothing may
 * crash and, once everything is freed, no block may be left.
 */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include <sipsess/sipsess.h>

static struct {
    long live;
    size_t calls, fail_at;
} AC;

static void *ac_malloc(size_t n, void *ud)
{
    (void)ud;
    if (AC.fail_at && ++AC.calls == AC.fail_at)
        return NULL;
    if (!AC.fail_at)
        AC.calls++;
    void *p = malloc(n);
    if (p)
        AC.live++;
    return p;
}

static void *ac_realloc(void *ptr, size_t n, void *ud)
{
    if (!ptr)
        return ac_malloc(n, ud);
    if (AC.fail_at && ++AC.calls == AC.fail_at)
        return NULL;
    if (!AC.fail_at)
        AC.calls++;
    return realloc(ptr, n);
}

static void ac_free(void *p, void *ud)
{
    (void)ud;
    if (p)
        AC.live--;
    free(p);
}

static void install(void)
{
    cr_assert_eq(sipsess_set_allocator(ac_malloc, ac_realloc, ac_free, NULL), 0);
}

static const char OFFER[] = "v=0\r\nm=audio 4000 RTP/AVP 0\r\n";
static const char ANSWER[] = "v=0\r\nm=audio 5000 RTP/AVP 0\r\n";

static int on_invite(sipsess_ua *ua, sipsess_session *s, sipsess_request *req, void *ud)
{
    (void)ua;
    (void)s;
    (void)ud;
    sipsess_request_progress(req, 180, NULL, NULL, 0, NULL, 1);
    sipsess_request_accept(req, ANSWER, sizeof ANSWER - 1, "application/sdp", NULL);
    return 0;
}

static int on_reinvite(sipsess_session *s, sipsess_request *req, void *ud)
{
    (void)s;
    (void)ud;
    return sipsess_request_accept(req, ANSWER, sizeof ANSWER - 1, "application/sdp", NULL) == 0
               ? 0
               : SIPSESS_ECALLBACK;
}

static sipsess_ua *mk(sipsess_memnet *net, const char *spec)
{
    sipsess_ua_config *cfg = NULL;
    sipsess_ua *ua = NULL;
    if (sipsess_ua_config_new(&cfg))
        return NULL;
    sipsess_ua_config_set_virtual_clock(cfg, 1);
    sipsess_ua_config_set_memnet(cfg, net);
    if (sipsess_ua_new(cfg, &ua) == 0 && sipsess_ua_listen(ua, spec) < 0) {
        sipsess_ua_free(ua);
        ua = NULL;
    }
    sipsess_ua_config_free(cfg);
    return ua;
}

static void run(sipsess_ua *a, sipsess_ua *b, unsigned ms)
{
    for (unsigned t = 0; t < ms; t += 10) {
        sipsess_ua_advance(a, 10);
        sipsess_ua_advance(b, 10);
    }
}

/* One call; returns nonzero when it got through confirmed. */
static int scenario(void)
{
    int ok = 0;
    sipsess_memnet *net = NULL;
    if (sipsess_memnet_new(&net))
        return 0;
    sipsess_ua *a = mk(net, "mem:5101"), *b = mk(net, "mem:5102");
    sipsess_ua_delegate *ud = NULL;
    sipsess_session_delegate *sd = NULL;
    if (!a || !b || sipsess_ua_delegate_new(&ud) || sipsess_session_delegate_new(&sd))
        goto out;
    sipsess_ua_delegate_set_on_invite(ud, on_invite);
    if (sipsess_ua_set_delegate(b, ud, NULL, NULL))
        goto out;
    sipsess_session_delegate_set_on_invite(sd, on_reinvite);
    sipsess_session *s = NULL;
    if (sipsess_ua_invite(a, "sip:b@127.0.0.1:5102", OFFER, sizeof OFFER - 1, "application/sdp",
                          NULL, NULL, NULL, &s))
        goto out;
    sipsess_session_ref(s);
    sipsess_session_set_delegate(s, sd, NULL, NULL);
    run(a, b, 300);
    if (sipsess_session_get_state(s) == SIPSESS_SESSION_CONFIRMED) {
        sipsess_session_invite(s, OFFER, sizeof OFFER - 1, "application/sdp", NULL, NULL, NULL);
        run(a, b, 300);
        ok = sipsess_session_get_state(s) == SIPSESS_SESSION_CONFIRMED;
        sipsess_session_bye(s, NULL, NULL, NULL);
        run(a, b, 300);
    }
    sipsess_session_unref(s);
out:
    sipsess_session_delegate_free(sd);
    sipsess_ua_delegate_free(ud);
    sipsess_ua_free(a);
    sipsess_ua_free(b);
    sipsess_memnet_free(net);
    return ok;
}

Test(session_alloc, every_allocation_fails_in_turn, .init = install, .timeout = 600)
{
    AC.fail_at = 0;
    AC.calls = 0;
    cr_assert(scenario(), "the call works without failures");
    cr_assert_eq(AC.live, 0, "%ld blocks left after a good call", AC.live);
    size_t needed = AC.calls;
    cr_log_info("a call takes %zu allocations", needed);
    cr_assert_gt(needed, 10);
    /* Every allocation of the call fails once in turn (a stride keeps the
     * run short when the count is large). */
    size_t stride = needed > 1500 ? needed / 1500 : 1;
    for (size_t k = 1; k <= needed; k += stride) {
        AC.fail_at = k;
        AC.calls = 0;
        scenario();
        cr_assert_eq(AC.live, 0, "allocation %zu of %zu failed: %ld blocks leaked", k, needed,
                     AC.live);
    }
}
