/* Application timers of the UA (sipsess_ua_timer_start / _cancel) on the
 * virtual clock: order, cancel, destroy exactly once, free with pending. */
#include <criterion/criterion.h>
#include <sipsess/sipsess.h>
#include <string.h>

static char fired[16];
static int nfired, ndestroyed;

static void on_fire(void *arg)
{
    fired[nfired++] = *(const char *)arg;
}

static void on_destroy(void *arg)
{
    (void)arg;
    ndestroyed++;
}

static sipsess_ua *vua(void)
{
    sipsess_ua_config *cfg = NULL;
    cr_assert_eq(sipsess_ua_config_new(&cfg), 0);
    cr_assert_eq(sipsess_ua_config_set_virtual_clock(cfg, 1), 0);
    sipsess_ua *ua = NULL;
    cr_assert_eq(sipsess_ua_new(cfg, &ua), 0);
    sipsess_ua_config_free(cfg);
    memset(fired, 0, sizeof fired);
    nfired = ndestroyed = 0;
    return ua;
}

Test(ua_timer, fire_in_due_then_start_order)
{
    sipsess_ua *ua = vua();
    static const char a = 'a', b = 'b', c = 'c', d = 'd';
    cr_assert_eq(sipsess_ua_timer_start(ua, 30, on_fire, (void *)&a, on_destroy, NULL), 0);
    cr_assert_eq(sipsess_ua_timer_start(ua, 10, on_fire, (void *)&b, on_destroy, NULL), 0);
    cr_assert_eq(sipsess_ua_timer_start(ua, 10, on_fire, (void *)&c, NULL, NULL), 0);
    cr_assert_eq(sipsess_ua_timer_start(ua, 0, on_fire, (void *)&d, on_destroy, NULL), 0);
    cr_assert_eq(sipsess_ua_next_timeout_ms(ua), 0);
    cr_assert_geq(sipsess_ua_advance(ua, 9), 0);
    cr_assert_str_eq(fired, "d");
    cr_assert_geq(sipsess_ua_advance(ua, 1), 0);
    cr_assert_str_eq(fired, "dbc");
    cr_assert_geq(sipsess_ua_advance(ua, 19), 0);
    cr_assert_str_eq(fired, "dbc");
    cr_assert_geq(sipsess_ua_advance(ua, 1), 0);
    cr_assert_str_eq(fired, "dbca");
    cr_assert_eq(ndestroyed, 3, "destroy once per timer that has one");
    sipsess_ua_free(ua);
    cr_assert_eq(ndestroyed, 3);
}

Test(ua_timer, cancel_and_free_pending)
{
    sipsess_ua *ua = vua();
    static const char a = 'a', b = 'b', c = 'c';
    sipsess_timer *ta = NULL, *tb = NULL;
    cr_assert_eq(sipsess_ua_timer_start(ua, 10, on_fire, (void *)&a, on_destroy, &ta), 0);
    cr_assert_eq(sipsess_ua_timer_start(ua, 20, on_fire, (void *)&b, on_destroy, &tb), 0);
    cr_assert_eq(sipsess_ua_timer_start(ua, 30, on_fire, (void *)&c, on_destroy, NULL), 0);
    sipsess_ua_timer_cancel(tb);
    cr_assert_eq(ndestroyed, 1, "cancel runs destroy at once");
    sipsess_ua_timer_cancel(NULL);
    cr_assert_geq(sipsess_ua_advance(ua, 25), 0);
    cr_assert_str_eq(fired, "a");
    cr_assert_eq(ndestroyed, 2);
    sipsess_ua_free(ua); /* c still pending: destroyed, never fired */
    cr_assert_str_eq(fired, "a");
    cr_assert_eq(ndestroyed, 3);
}

Test(ua_timer, bad_arguments)
{
    sipsess_ua *ua = vua();
    cr_assert_eq(sipsess_ua_timer_start(NULL, 1, on_fire, NULL, NULL, NULL), SIPSESS_EINVAL);
    cr_assert_eq(sipsess_ua_timer_start(ua, 1, NULL, NULL, on_destroy, NULL), SIPSESS_EINVAL);
    cr_assert_eq(ndestroyed, 0, "no destroy on error");
    sipsess_ua_free(ua);
}
