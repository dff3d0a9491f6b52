/*
 * A whole call between two user agents in one process: Alice calls Bob, Bob
 * answers, Alice sends INFO, Bob hangs up. They talk over the in-memory
 * network on a virtual clock, so the program needs no port and no sleep,
 * and prints the same lines every time: the way to unit-test call logic.
 * Replace "mem:" with "udp:127.0.0.1:5060" and drop the memnet and virtual
 * clock, and the same code runs over real sockets.
 */
#include <stdio.h>
#include <string.h>

#include <sipsess/sipsess.h>

static const char sdp[] = "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\n"
                          "t=0 0\r\nm=audio 4000 RTP/AVP 0\r\n";

static int done;

/* ---- Bob: the callee ---- */

static int bob_on_info(sipsess_session *s, sipsess_request *req, void *ud)
{
    (void)ud;
    sipsess_str body = sipsess_request_body(req), type = sipsess_request_content_type(req);
    printf("bob:   INFO %.*s, %zu bytes; hanging up\n", (int)type.len, type.p, body.len);
    sipsess_request_accept(req, NULL, 0, NULL, NULL); /* 200 */
    return sipsess_session_bye(s, NULL, NULL, NULL);
}

static void on_terminated(sipsess_session *s, sipsess_term_cause cause, void *ud)
{
    (void)s;
    printf("%s call ended by %s BYE\n", (const char *)ud,
           cause == SIPSESS_TERM_LOCAL_BYE    ? "our"
           : cause == SIPSESS_TERM_REMOTE_BYE ? "the peer's"
                                              : "something else than a");
    done++;
}

static int bob_on_invite(sipsess_ua *ua, sipsess_session *s, sipsess_request *req, void *ud)
{
    (void)ua;
    (void)ud;
    const sipsess_hdr *from = sipsess_msg_hdr(sipsess_request_msg(req), SIPSESS_HDR_FROM, 0);
    sipsess_str user = sipsess_uri_user(sipsess_nameaddr_uri(from));
    printf("bob:   INVITE from %.*s\n", (int)user.len, user.p);
    sipsess_session_delegate *d = NULL;
    if (sipsess_session_delegate_new(&d))
        return SIPSESS_ECALLBACK;
    sipsess_session_delegate_set_on_info(d, bob_on_info);
    sipsess_session_delegate_set_on_terminated(d, on_terminated);
    sipsess_session_set_delegate(s, d, "bob:  ", NULL); /* the delegate is copied */
    sipsess_session_delegate_free(d);
    /* Answer the offer: 200 OK with our SDP. */
    return sipsess_request_accept(req, sdp, strlen(sdp), "application/sdp", NULL);
}

/* ---- Alice: the caller ---- */

static void alice_on_accept(sipsess_session *s, const sipsess_msg *resp, void *ud)
{
    (void)ud;
    printf("alice: %u %.*s; sending INFO\n", sipsess_msg_status(resp),
           (int)sipsess_msg_reason(resp).len, sipsess_msg_reason(resp).p);
    static const char dtmf[] = "Signal=5\r\nDuration=160\r\n";
    sipsess_session_info(s, dtmf, strlen(dtmf), "application/dtmf-relay", NULL, NULL, NULL);
}

static sipsess_ua *make_ua(sipsess_memnet *net, const char *identity, const char *listen)
{
    sipsess_ua_config *cfg = NULL;
    sipsess_ua *ua = NULL;
    if (sipsess_ua_config_new(&cfg) == 0 && sipsess_ua_config_set_memnet(cfg, net) == 0 &&
        sipsess_ua_config_set_virtual_clock(cfg, 1) == 0 &&
        sipsess_ua_config_set_identity(cfg, identity) == 0 && sipsess_ua_new(cfg, &ua) == 0 &&
        sipsess_ua_listen(ua, listen) < 0) {
        sipsess_ua_free(ua);
        ua = NULL;
    }
    sipsess_ua_config_free(cfg);
    return ua;
}

int main(void)
{
    sipsess_memnet *net = NULL;
    if (sipsess_memnet_new(&net))
        return 1;
    sipsess_ua *alice = make_ua(net, "sip:alice@127.0.0.1", "mem:5061");
    sipsess_ua *bob = make_ua(net, "sip:bob@127.0.0.1", "mem:5062");
    if (!alice || !bob)
        return 1;

    sipsess_ua_delegate *bd = NULL;
    sipsess_ua_delegate_new(&bd);
    sipsess_ua_delegate_set_on_invite(bd, bob_on_invite);
    sipsess_ua_set_delegate(bob, bd, NULL, NULL);
    sipsess_ua_delegate_free(bd);

    sipsess_response_delegate *rd = NULL;
    sipsess_response_delegate_new(&rd);
    sipsess_response_delegate_set_on_accept(rd, alice_on_accept);
    sipsess_session *call = NULL;
    int e = sipsess_ua_invite(alice, "sip:bob@127.0.0.1:5062", sdp, strlen(sdp),
                              "application/sdp", NULL, rd, NULL, &call);
    sipsess_response_delegate_free(rd);
    if (e) {
        fprintf(stderr, "invite: %s\n", sipsess_strerror(e));
        return 1;
    }
    /* The library owns the session and frees it after on_terminated; keep a
     * reference to read it afterwards. */
    sipsess_session_ref(call);
    sipsess_session_delegate *ad = NULL;
    sipsess_session_delegate_new(&ad);
    sipsess_session_delegate_set_on_terminated(ad, on_terminated);
    sipsess_session_set_delegate(call, ad, "alice:", NULL);
    sipsess_session_delegate_free(ad);

    /* Drive both UAs in 10 ms steps of virtual time until both sides ended. */
    for (int i = 0; i < 1000 && done < 2; i++) {
        sipsess_ua_advance(alice, 10);
        sipsess_ua_advance(bob, 10);
    }
    printf("alice: %s after %llu ms of virtual time\n", done == 2 ? "both sides done" : "TIMED OUT",
           (unsigned long long)sipsess_ua_now_ms(alice));
    sipsess_session_unref(call);
    sipsess_ua_free(alice);
    sipsess_ua_free(bob);
    sipsess_memnet_free(net);
    return done == 2 ? 0 : 1;
}
