/*
 * The dialog layer (RFC 3261 §12): identity and the O(1) table, the
 * route set of each side (§12.1.1 in order, §12.1.2 reversed), remote
 * target refresh, CSeq ordering (§12.2.2), and request building with
 * loose and strict routing (§12.2.1.1).
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "dialog/dialog.h"
#include "runtime/mem.h"

static sipsess_msg *parse(const char *text)
{
    sipsess_msg *m = NULL;
    int rc = sipsess_msg_parse(text, strlen(text), NULL, &m, NULL);
    cr_assert_eq(rc, 0, "parse: %s", sipsess_errname(rc));
    return m;
}

static const char *INVITE =
    "INVITE sip:bob@192.0.2.2 SIP/2.0\r\n"
    "Via: SIP/2.0/UDP 192.0.2.1;branch=z9hG4bKa\r\n"
    "Max-Forwards: 70\r\n"
    "From: Alice <sip:alice@192.0.2.1>;tag=atag\r\n"
    "To: Bob <sip:bob@192.0.2.2>\r\n"
    "Call-ID: call1@192.0.2.1\r\n"
    "CSeq: 7 INVITE\r\n"
    "Contact: <sip:alice@192.0.2.1:5070>\r\n"
    "Record-Route: <sip:p2.example.com;lr>\r\n"
    "Record-Route: <sip:p1.example.com;lr>\r\n"
    "Content-Length: 0\r\n\r\n";

static const char *OK200 =
    "SIP/2.0 200 OK\r\n"
    "Via: SIP/2.0/UDP 192.0.2.1;branch=z9hG4bKa\r\n"
    "From: <sip:alice@192.0.2.1>;tag=atag\r\n"
    "To: <sip:bob@192.0.2.2>;tag=btag\r\n"
    "Call-ID: call1@192.0.2.1\r\n"
    "CSeq: 1 INVITE\r\n"
    "Contact: <sip:bob@192.0.2.2:5080>\r\n"
    "Record-Route: <sip:p2.example.com;lr>\r\n"
    "Record-Route: <sip:p1.example.com;lr>\r\n"
    "Content-Length: 0\r\n\r\n";

static char *build(sipsess__dialog *d, const char *method)
{
    sipsess_msgbuilder *mb = NULL;
    cr_assert_eq(sipsess_msgbuilder_new(&mb), 0);
    uint32_t cseq = sipsess__dialog_next_cseq(d);
    cr_assert_eq(sipsess__dialog_build(d, mb, method, cseq,
                                       (sipsess_str){"SIP/2.0/UDP h;branch=z9hG4bKx", 29}),
                 0);
    sipsess_str out;
    cr_assert_eq(sipsess_msgbuilder_finish(mb, &out), 0);
    char *s = strndup(out.p, out.len);
    sipsess_msgbuilder_free(mb);
    return s;
}

Test(dialog, uas_from_invite_route_set_in_order)
{
    sipsess_msg *inv = parse(INVITE);
    sipsess__dialog d;
    memset(&d, 0, sizeof d);
    cr_assert_eq(sipsess__dialog_init_uas(&d, inv, "btag"), 0);
    cr_assert_str_eq(d.call_id, "call1@192.0.2.1");
    cr_assert_str_eq(d.local_tag, "btag");
    cr_assert_str_eq(d.remote_tag, "atag");
    cr_assert_str_eq(d.remote_uri, "sip:alice@192.0.2.1");
    cr_assert_str_eq(d.local_uri, "sip:bob@192.0.2.2");
    cr_assert_str_eq(d.target, "sip:alice@192.0.2.1:5070");
    cr_assert_eq(d.nroutes, 2);
    cr_assert_str_eq(d.routes[0], "<sip:p2.example.com;lr>");
    cr_assert_str_eq(d.routes[1], "<sip:p1.example.com;lr>");
    cr_assert(d.remote_cseq_set);
    cr_assert_eq(d.remote_cseq, 7);
    /* loose routing: R-URI the target, Route the set, next hop the first */
    char *bye = build(&d, "BYE");
    cr_assert_not_null(strstr(bye, "BYE sip:alice@192.0.2.1:5070 SIP/2.0\r\n"));
    cr_assert_not_null(strstr(bye, "Route: <sip:p2.example.com;lr>\r\nRoute: <sip:p1.example.com;lr>"));
    cr_assert_not_null(strstr(bye, "From: Bob <sip:bob@192.0.2.2>;tag=btag\r\n"));
    cr_assert_not_null(strstr(bye, "To: Alice <sip:alice@192.0.2.1>;tag=atag\r\n"));
    cr_assert_not_null(strstr(bye, "Call-ID: call1@192.0.2.1\r\n"));
    sipsess_str nh = sipsess_uri_text(sipsess__dialog_next_hop(&d));
    cr_assert_eq(nh.len, strlen("sip:p2.example.com;lr"));
    free(bye);
    sipsess__dialog_clear(&d);
    sipsess_msg_free(inv);
}

Test(dialog, uac_from_2xx_route_set_reversed_and_confirmed)
{
    sipsess__dialog d;
    memset(&d, 0, sizeof d);
    cr_assert_eq(sipsess__dialog_init_uac(&d, "call1@192.0.2.1", "<sip:alice@192.0.2.1>;tag=atag",
                                          "atag", "<sip:bob@192.0.2.2>", "sip:bob@192.0.2.2", 1),
                 0);
    cr_assert_str_eq(d.remote_tag, "");
    cr_assert_str_eq(d.target, "sip:bob@192.0.2.2");
    sipsess_msg *ok = parse(OK200);
    cr_assert_eq(sipsess__dialog_uac_response(&d, ok), 0);
    cr_assert(d.confirmed);
    cr_assert_str_eq(d.remote_tag, "btag");
    cr_assert_str_eq(d.target, "sip:bob@192.0.2.2:5080");
    cr_assert_eq(d.nroutes, 2);
    cr_assert_str_eq(d.routes[0], "<sip:p1.example.com;lr>");
    cr_assert_str_eq(d.routes[1], "<sip:p2.example.com;lr>");
    cr_assert_eq(d.local_cseq, 1);
    char *info = build(&d, "INFO");
    cr_assert_not_null(strstr(info, "CSeq: 2 INFO\r\n"));
    cr_assert_not_null(strstr(info, "To: <sip:bob@192.0.2.2>;tag=btag\r\n"));
    free(info);
    /* §12.2: once confirmed the route set stays; the target follows Contact */
    const char *re = "SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP h;branch=z9hG4bKb\r\n"
                     "From: <sip:alice@192.0.2.1>;tag=atag\r\nTo: <sip:bob@192.0.2.2>;tag=btag\r\n"
                     "Call-ID: call1@192.0.2.1\r\nCSeq: 2 INVITE\r\n"
                     "Contact: <sip:bob@192.0.2.9>\r\nContent-Length: 0\r\n\r\n";
    sipsess_msg *ok2 = parse(re);
    cr_assert_eq(sipsess__dialog_uac_response(&d, ok2), 0);
    cr_assert_eq(d.nroutes, 2);
    cr_assert_str_eq(d.target, "sip:bob@192.0.2.9");
    sipsess_msg_free(ok2);
    sipsess_msg_free(ok);
    sipsess__dialog_clear(&d);
}

Test(dialog, strict_route_compatibility)
{
    const char *inv = "INVITE sip:bob@192.0.2.2 SIP/2.0\r\n"
                      "Via: SIP/2.0/UDP 192.0.2.1;branch=z9hG4bKa\r\n"
                      "From: <sip:alice@192.0.2.1>;tag=atag\r\nTo: <sip:bob@192.0.2.2>\r\n"
                      "Call-ID: c2\r\nCSeq: 1 INVITE\r\nContact: <sip:alice@192.0.2.1>\r\n"
                      "Record-Route: <sip:strict.example.com;maddr=192.0.2.7>\r\n"
                      "Record-Route: <sip:loose.example.com;lr>\r\n"
                      "Content-Length: 0\r\n\r\n";
    sipsess_msg *m = parse(inv);
    sipsess__dialog d;
    memset(&d, 0, sizeof d);
    cr_assert_eq(sipsess__dialog_init_uas(&d, m, "bt"), 0);
    /* §12.2.1.1: the first route lacks lr → it is the Request-URI, the rest
     * follows, then the remote target as the last Route */
    char *bye = build(&d, "BYE");
    cr_assert_not_null(strstr(bye, "BYE sip:strict.example.com;maddr=192.0.2.7 SIP/2.0\r\n"), "%s",
                       bye);
    cr_assert_not_null(
        strstr(bye, "Route: <sip:loose.example.com;lr>\r\nRoute: <sip:alice@192.0.2.1>\r\n"));
    cr_assert_null(strstr(bye, "Route: <sip:strict"));
    sipsess_str nh = sipsess_uri_text(sipsess__dialog_next_hop(&d));
    cr_assert_eq(memcmp(nh.p, "sip:strict.example.com", 22), 0);
    free(bye);
    sipsess__dialog_clear(&d);
    sipsess_msg_free(m);
}

Test(dialog, cseq_order_and_target_refresh)
{
    sipsess_msg *inv = parse(INVITE);
    sipsess__dialog d;
    memset(&d, 0, sizeof d);
    cr_assert_eq(sipsess__dialog_init_uas(&d, inv, "btag"), 0);
    const char *fmt = "%s sip:bob@192.0.2.2 SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK%u\r\n"
                      "From: <sip:alice@192.0.2.1>;tag=atag\r\nTo: <sip:bob@192.0.2.2>;tag=btag\r\n"
                      "Call-ID: call1@192.0.2.1\r\nCSeq: %u %s\r\n%sContent-Length: 0\r\n\r\n";
    char buf[1024];
    snprintf(buf, sizeof buf, fmt, "INFO", 1u, 8u, "INFO", "");
    sipsess_msg *m = parse(buf);
    cr_assert_eq(sipsess__dialog_rx_request(&d, m), 0);
    cr_assert_eq(d.remote_cseq, 8);
    sipsess_msg_free(m);
    snprintf(buf, sizeof buf, fmt, "INFO", 2u, 5u, "INFO", "");
    m = parse(buf);
    cr_assert_eq(sipsess__dialog_rx_request(&d, m), 500);
    cr_assert_eq(d.remote_cseq, 8);
    sipsess_msg_free(m);
    /* ACK carries the INVITE's number and never moves it */
    snprintf(buf, sizeof buf, fmt, "ACK", 3u, 7u, "ACK", "");
    m = parse(buf);
    cr_assert_eq(sipsess__dialog_rx_request(&d, m), 0);
    cr_assert_eq(d.remote_cseq, 8);
    sipsess_msg_free(m);
    snprintf(buf, sizeof buf, fmt, "UPDATE", 4u, 9u, "UPDATE",
             "Contact: <sip:alice@198.51.100.1:5099>\r\n");
    m = parse(buf);
    cr_assert_eq(sipsess__dialog_rx_request(&d, m), 0);
    cr_assert_eq(sipsess__dialog_refresh_target(&d, m), 0);
    cr_assert_str_eq(d.target, "sip:alice@198.51.100.1:5099");
    sipsess_msg_free(m);
    sipsess__dialog_clear(&d);
    sipsess_msg_free(inv);
}

Test(dialog, table_find_insert_remove_grow)
{
    sipsess__dtab t;
    cr_assert_eq(sipsess__dtab_init(&t), 0);
    enum { N = 500 };
    static sipsess__dialog ds[N];
    char cid[32], lt[16], rt[16];
    for (int i = 0; i < N; i++) {
        memset(&ds[i], 0, sizeof ds[i]);
        snprintf(cid, sizeof cid, "call-%d", i);
        snprintf(lt, sizeof lt, "l%d", i);
        cr_assert_eq(sipsess__dialog_init_uac(&ds[i], cid, "<sip:a@h>;tag=x", lt, "<sip:b@h>",
                                              "sip:b@h", 1),
                     0);
        sipsess__free(ds[i].remote_tag);
        snprintf(rt, sizeof rt, "r%d", i);
        ds[i].remote_tag = sipsess__dlg_strdup((sipsess_str){rt, strlen(rt)});
        cr_assert_eq(sipsess__dtab_insert(&t, &ds[i]), 0);
    }
    cr_assert_eq(t.n, N);
    cr_assert_geq(t.nb, N);
    for (int i = 0; i < N; i++) {
        snprintf(cid, sizeof cid, "call-%d", i);
        snprintf(lt, sizeof lt, "l%d", i);
        snprintf(rt, sizeof rt, "r%d", i);
        sipsess__dialog *f = sipsess__dtab_find(&t, (sipsess_str){cid, strlen(cid)},
                                                (sipsess_str){lt, strlen(lt)},
                                                (sipsess_str){rt, strlen(rt)});
        cr_assert_eq(f, &ds[i]);
        /* swapped tags are another dialog */
        cr_assert_null(sipsess__dtab_find(&t, (sipsess_str){cid, strlen(cid)},
                                          (sipsess_str){rt, strlen(rt)},
                                          (sipsess_str){lt, strlen(lt)}));
    }
    for (int i = 0; i < N; i += 2)
        sipsess__dtab_remove(&t, &ds[i]);
    cr_assert_eq(t.n, N / 2);
    cr_assert_null(sipsess__dtab_find(&t, (sipsess_str){"call-0", 6}, (sipsess_str){"l0", 2},
                                      (sipsess_str){"r0", 2}));
    cr_assert_not_null(sipsess__dtab_find(&t, (sipsess_str){"call-1", 6},
                                          (sipsess_str){"l1", 2}, (sipsess_str){"r1", 2}));
    for (int i = 0; i < N; i++) {
        sipsess__dtab_remove(&t, &ds[i]);
        sipsess__dialog_clear(&ds[i]);
    }
    cr_assert_eq(t.n, 0);
    sipsess__dtab_free(&t);
}
