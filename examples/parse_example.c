/* The README's example: parse one SIP message and read a few fields. */
#include <stdio.h>
#include <string.h>

#include <sipsess/sipsess.h>

int main(void)
{
    const char text[] =
        "INVITE sip:bob@biloxi.example.com SIP/2.0\r\n"
        "Via: SIP/2.0/UDP pc33.atlanta.example.com;branch=z9hG4bK776asdhds\r\n"
        "Max-Forwards: 70\r\n"
        "To: Bob <sip:bob@biloxi.example.com>\r\n"
        "From: Alice <sip:alice@atlanta.example.com>;tag=1928301774\r\n"
        "Call-ID: a84b4c76e66710@pc33.atlanta.example.com\r\n"
        "CSeq: 314159 INVITE\r\n"
        "Contact: <sip:alice@pc33.atlanta.example.com>\r\n"
        "Content-Length: 0\r\n"
        "\r\n";

    sipsess_msg *msg = NULL;
    size_t err_off = 0;
    int err = sipsess_msg_parse(text, strlen(text), NULL, &msg, &err_off);
    if (err != SIPSESS_OK) {
        fprintf(stderr, "parse error %s at offset %zu\n", sipsess_strerror(err), err_off);
        return 1;
    }

    /* Every view below points into `msg` and is valid until sipsess_msg_free. */
    const sipsess_hdr *via = sipsess_msg_hdr(msg, SIPSESS_HDR_VIA, 0);
    const sipsess_hdr *from = sipsess_msg_hdr(msg, SIPSESS_HDR_FROM, 0);
    const sipsess_hdr *cseq = sipsess_msg_hdr(msg, SIPSESS_HDR_CSEQ, 0);
    sipsess_str method = sipsess_msg_method_name(msg);
    sipsess_str host = sipsess_uri_host(sipsess_msg_ruri(msg));
    sipsess_str branch = sipsess_via_branch(via);
    sipsess_str tag = sipsess_nameaddr_tag(from);

    printf("%.*s to %.*s, branch %.*s, from-tag %.*s, CSeq %u\n", (int)method.len, method.p,
           (int)host.len, host.p, (int)branch.len, branch.p, (int)tag.len, tag.p,
           (unsigned)sipsess_cseq_number(cseq));

    sipsess_msg_free(msg);
    return 0;
}
