/*
 * The offer/answer state machine on its own (RFC 3264 §4-§8, RFC 6337
 * §2-§3): every transition of the states, what a rejected offer rolls
 * back to, the bodies readable as "pending offer or last exchange", and
 * the offers refused while one is outstanding.
 */
#include <criterion/criterion.h>
#include <string.h>

#include "session/oa.h"

static sipsess__oa oa;

static void init(void)
{
    sipsess__oa_init(&oa);
}

static void fini(void)
{
    sipsess__oa_free(&oa);
}

TestSuite(oa, .init = init, .fini = fini);

static void expect_body(sipsess_body_kind k, const char *want, const char *ctype)
{
    sipsess_str ct = {NULL, 0};
    sipsess_str b = sipsess__oa_body_of(&oa, k, &ct);
    if (!want) {
        cr_assert_null(b.p, "kind %d: unexpected body", (int)k);
        cr_assert_eq(b.len, 0);
        return;
    }
    cr_assert_eq(b.len, strlen(want), "kind %d", (int)k);
    cr_assert_eq(memcmp(b.p, want, b.len), 0);
    if (ctype) {
        cr_assert_eq(ct.len, strlen(ctype));
        cr_assert_eq(memcmp(ct.p, ctype, ct.len), 0);
    }
}

Test(oa, initial_state)
{
    cr_assert_eq(oa.state, SIPSESS_SIGNALING_INITIAL);
    cr_assert_not(sipsess__oa_pending(&oa));
    expect_body(SIPSESS_BODY_LOCAL_OFFER, NULL, NULL);
    expect_body(SIPSESS_BODY_REMOTE_ANSWER, NULL, NULL);
    cr_assert_eq(sipsess__oa_rollback(&oa), SIPSESS_ESTATE);
    cr_assert_eq(sipsess__oa_local_answer(&oa, "a", 1, NULL), SIPSESS_ESTATE);
    cr_assert_eq(sipsess__oa_remote_answer(&oa, "a", 1, NULL), SIPSESS_ESTATE);
    cr_assert_str_eq(sipsess__oa_state_name(oa.state), "Initial");
}

Test(oa, local_offer_remote_answer)
{
    cr_assert_eq(sipsess__oa_local_offer(&oa, "o1", 2, "application/sdp"), 0);
    cr_assert_eq(oa.state, SIPSESS_SIGNALING_HAVE_LOCAL_OFFER);
    cr_assert(sipsess__oa_pending(&oa));
    expect_body(SIPSESS_BODY_LOCAL_OFFER, "o1", "application/sdp");
    expect_body(SIPSESS_BODY_REMOTE_OFFER, NULL, NULL);
    /* RFC 3264 §4: no second offer while one is outstanding */
    cr_assert_eq(sipsess__oa_local_offer(&oa, "o2", 2, NULL), SIPSESS_ESTATE);
    cr_assert_eq(sipsess__oa_remote_offer(&oa, "o2", 2, NULL), SIPSESS_ESTATE);
    cr_assert_eq(sipsess__oa_local_answer(&oa, "a", 1, NULL), SIPSESS_ESTATE);
    cr_assert_eq(sipsess__oa_remote_answer(&oa, "a1", 2, "application/sdp"), 0);
    cr_assert_eq(oa.state, SIPSESS_SIGNALING_STABLE);
    expect_body(SIPSESS_BODY_LOCAL_OFFER, "o1", NULL);
    expect_body(SIPSESS_BODY_REMOTE_ANSWER, "a1", "application/sdp");
    expect_body(SIPSESS_BODY_REMOTE_OFFER, NULL, NULL);
    expect_body(SIPSESS_BODY_LOCAL_ANSWER, NULL, NULL);
}

Test(oa, remote_offer_local_answer_then_new_exchange)
{
    cr_assert_eq(sipsess__oa_remote_offer(&oa, "ro", 2, NULL), 0);
    cr_assert_eq(oa.state, SIPSESS_SIGNALING_HAVE_REMOTE_OFFER);
    expect_body(SIPSESS_BODY_REMOTE_OFFER, "ro", NULL);
    cr_assert_eq(sipsess__oa_remote_answer(&oa, "x", 1, NULL), SIPSESS_ESTATE);
    cr_assert_eq(sipsess__oa_local_answer(&oa, "la", 2, NULL), 0);
    cr_assert_eq(oa.state, SIPSESS_SIGNALING_STABLE);
    expect_body(SIPSESS_BODY_REMOTE_OFFER, "ro", NULL);
    expect_body(SIPSESS_BODY_LOCAL_ANSWER, "la", NULL);
    /* a later exchange in the other direction replaces the current one */
    cr_assert_eq(sipsess__oa_local_offer(&oa, "o2", 2, NULL), 0);
    expect_body(SIPSESS_BODY_LOCAL_OFFER, "o2", NULL);
    expect_body(SIPSESS_BODY_REMOTE_OFFER, "ro", NULL); /* still the last exchange */
    cr_assert_eq(sipsess__oa_remote_answer(&oa, "a2", 2, NULL), 0);
    expect_body(SIPSESS_BODY_REMOTE_OFFER, NULL, NULL);
    expect_body(SIPSESS_BODY_LOCAL_OFFER, "o2", NULL);
    expect_body(SIPSESS_BODY_REMOTE_ANSWER, "a2", NULL);
}

Test(oa, rollback_returns_to_previous_state)
{
    /* rejected first offer: back to Initial */
    cr_assert_eq(sipsess__oa_local_offer(&oa, "o1", 2, NULL), 0);
    cr_assert_eq(sipsess__oa_rollback(&oa), 0);
    cr_assert_eq(oa.state, SIPSESS_SIGNALING_INITIAL);
    expect_body(SIPSESS_BODY_LOCAL_OFFER, NULL, NULL);
    /* rejected re-offer: back to Stable with the old exchange */
    cr_assert_eq(sipsess__oa_remote_offer(&oa, "ro", 2, NULL), 0);
    cr_assert_eq(sipsess__oa_local_answer(&oa, "la", 2, NULL), 0);
    cr_assert_eq(sipsess__oa_remote_offer(&oa, "ro2", 3, NULL), 0);
    expect_body(SIPSESS_BODY_REMOTE_OFFER, "ro2", NULL);
    cr_assert_eq(sipsess__oa_rollback(&oa), 0);
    cr_assert_eq(oa.state, SIPSESS_SIGNALING_STABLE);
    expect_body(SIPSESS_BODY_REMOTE_OFFER, "ro", NULL);
    expect_body(SIPSESS_BODY_LOCAL_ANSWER, "la", NULL);
    cr_assert_eq(sipsess__oa_rollback(&oa), SIPSESS_ESTATE);
}

Test(oa, closed_refuses_everything)
{
    cr_assert_eq(sipsess__oa_local_offer(&oa, "o1", 2, NULL), 0);
    sipsess__oa_close(&oa);
    cr_assert_eq(oa.state, SIPSESS_SIGNALING_CLOSED);
    cr_assert_not(sipsess__oa_pending(&oa));
    cr_assert_eq(sipsess__oa_local_offer(&oa, "o", 1, NULL), SIPSESS_ESTATE);
    cr_assert_eq(sipsess__oa_remote_offer(&oa, "o", 1, NULL), SIPSESS_ESTATE);
    cr_assert_eq(sipsess__oa_remote_answer(&oa, "a", 1, NULL), SIPSESS_ESTATE);
    cr_assert_str_eq(sipsess__oa_state_name(oa.state), "Closed");
}

Test(oa, empty_bodies_and_names)
{
    cr_assert_eq(sipsess__oa_local_offer(&oa, NULL, 0, NULL), 0);
    sipsess_str b = sipsess__oa_body_of(&oa, SIPSESS_BODY_LOCAL_OFFER, NULL);
    cr_assert_eq(b.len, 0);
    cr_assert_str_eq(sipsess__oa_state_name(SIPSESS_SIGNALING_HAVE_LOCAL_OFFER), "HaveLocalOffer");
    cr_assert_str_eq(sipsess__oa_state_name(SIPSESS_SIGNALING_HAVE_REMOTE_OFFER),
                     "HaveRemoteOffer");
    cr_assert_str_eq(sipsess__oa_state_name(SIPSESS_SIGNALING_STABLE), "Stable");
}
