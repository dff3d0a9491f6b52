/* A program built only from what `make install` puts on a system, through
 * `pkg-config --cflags --libs sipsess`: parse one message with the public
 * API and check a few fields. Prints one line; exit status 0 on success. */
#include <stdio.h>
#include <string.h>

#include <sipsess/sipsess.h>

static const char msg_text[] =
    "OPTIONS sip:carol@chicago.example.com SIP/2.0\r\n"
    "Via: SIP/2.0/UDP pc33.atlanta.example.com;branch=z9hG4bKhjhs8ass877\r\n"
    "Max-Forwards: 70\r\n"
    "To: <sip:carol@chicago.example.com>\r\n"
    "From: Alice <sip:alice@atlanta.example.com>;tag=1928301774\r\n"
    "Call-ID: a84b4c76e66710\r\n"
    "CSeq: 63104 OPTIONS\r\n"
    "Content-Length: 0\r\n"
    "\r\n";

static int same(sipsess_str s, const char *lit)
{
    return s.p != NULL && s.len == strlen(lit) && memcmp(s.p, lit, s.len) == 0;
}

int main(void)
{
    sipsess_msg *msg = NULL;
    size_t off = 0;
    int err = sipsess_msg_parse(msg_text, sizeof msg_text - 1, NULL, &msg, &off);

    if (err != SIPSESS_OK) {
        printf("parse failed: %s at offset %zu\n", sipsess_strerror(err), off);
        return 1;
    }
    const sipsess_hdr *via = sipsess_msg_hdr(msg, SIPSESS_HDR_VIA, 0);
    const sipsess_hdr *from = sipsess_msg_hdr(msg, SIPSESS_HDR_FROM, 0);
    const sipsess_hdr *cseq = sipsess_msg_hdr(msg, SIPSESS_HDR_CSEQ, 0);
    int good = sipsess_msg_is_request(msg) &&
               sipsess_msg_method(msg) == SIPSESS_METHOD_OPTIONS &&
               via && same(sipsess_via_branch(via), "z9hG4bKhjhs8ass877") &&
               from && same(sipsess_nameaddr_tag(from), "1928301774") &&
               cseq && sipsess_cseq_number(cseq) == 63104 &&
               same(sipsess_uri_host(sipsess_msg_ruri(msg)), "chicago.example.com");
    sipsess_msg_free(msg);
    if (!good) {
        printf("parsed, but the fields are not what was sent\n");
        return 1;
    }
    printf("parsed OPTIONS with libsipsess %s (headers %s)\n", sipsess_version(),
           SIPSESS_VERSION_STRING);
    return 0;
}
