/* See msg_walk.h. */
#include "msg_walk.h"

/* A plain sum: cheap (no multiply chain to distort the benchmark), and
 * enough to keep every call's result alive. */
static inline uint64_t mix(uint64_t acc, uint64_t v)
{
    return acc + v;
}

/* A view contributes its length and its first and last bytes, so the bytes
 * it points at are really read. */
static inline uint64_t mix_str(uint64_t acc, sipsess_str s)
{
    acc += s.len;
    if (s.p != NULL && s.len > 0)
        acc += (unsigned char)s.p[0] + ((uint64_t)(unsigned char)s.p[s.len - 1] << 8);
    return acc;
}

static uint64_t mix_param(uint64_t acc, const sipsess_hdr *h, const char *name)
{
    sipsess_str v = {0, 0};
    int found = sipsess_hdr_param(h, name, &v);
    return mix_str(mix(acc, (uint64_t)found), v);
}

static uint64_t mix_auth(uint64_t acc, const sipsess_hdr *h, const char *name)
{
    sipsess_str v = {0, 0};
    int found = sipsess_auth_param(h, name, &v);
    return mix_str(mix(acc, (uint64_t)found), v);
}

uint64_t msg_walk_uri(const sipsess_uri *u)
{
    uint64_t acc = 0;
    if (u == NULL)
        return 0;
    acc = mix(acc, (uint64_t)sipsess_uri_scheme_id(u));
    acc = mix_str(acc, sipsess_uri_scheme_name(u));
    acc = mix_str(acc, sipsess_uri_user(u));
    acc = mix_str(acc, sipsess_uri_password(u));
    acc = mix_str(acc, sipsess_uri_host(u));
    acc = mix(acc, (uint64_t)sipsess_uri_host_type(u));
    acc = mix(acc, sipsess_uri_port(u));
    acc = mix_str(acc, sipsess_uri_params(u));
    acc = mix_str(acc, sipsess_uri_headers(u));
    return acc;
}

static uint64_t walk_via(uint64_t acc, const sipsess_hdr *h)
{
    acc = mix_str(acc, sipsess_via_protocol(h));
    acc = mix_str(acc, sipsess_via_transport(h));
    acc = mix_str(acc, sipsess_via_host(h));
    acc = mix(acc, (uint64_t)sipsess_via_host_type(h));
    acc = mix(acc, sipsess_via_port(h));
    acc = mix_str(acc, sipsess_via_branch(h));
    acc = mix_str(acc, sipsess_via_received(h));
    acc = mix(acc, (uint64_t)sipsess_via_rport(h));
    acc = mix_str(acc, sipsess_via_maddr(h));
    acc = mix(acc, (uint64_t)sipsess_via_ttl(h));
    return acc;
}

static uint64_t walk_nameaddr(uint64_t acc, const sipsess_hdr *h, int is_contact)
{
    acc = mix_str(acc, sipsess_nameaddr_display(h));
    acc = mix(acc, msg_walk_uri(sipsess_nameaddr_uri(h)));
    acc = mix_str(acc, sipsess_nameaddr_tag(h));
    if (is_contact) {
        acc = mix(acc, (uint64_t)sipsess_contact_is_star(h));
        acc = mix(acc, (uint64_t)sipsess_contact_expires(h));
        acc = mix(acc, (uint64_t)sipsess_contact_q(h));
    }
    return acc;
}

static uint64_t walk_auth(uint64_t acc, const sipsess_hdr *h)
{
    static const char *const names[] = {"realm", "nonce", "username", "uri", "response",
                                        "algorithm", "qop", "opaque", "nc", "cnonce"};
    acc = mix_str(acc, sipsess_auth_scheme(h));
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        acc = mix_auth(acc, h, names[i]);
    return acc;
}

static uint64_t walk_hdr(uint64_t acc, const sipsess_hdr *h)
{
    sipsess_hdr_id id = sipsess_hdr_get_id(h);

    acc = mix(acc, (uint64_t)id);
    acc = mix_str(acc, sipsess_hdr_name(h));
    acc = mix_str(acc, sipsess_hdr_value(h));
    acc = mix(acc, (uint64_t)sipsess_hdr_is_bad(h));

    switch (id) {
    case SIPSESS_HDR_VIA:
        return walk_via(acc, h);
    case SIPSESS_HDR_CONTACT:
        return walk_nameaddr(acc, h, 1);
    case SIPSESS_HDR_FROM:
    case SIPSESS_HDR_TO:
    case SIPSESS_HDR_ROUTE:
    case SIPSESS_HDR_RECORD_ROUTE:
    case SIPSESS_HDR_REPLY_TO:
    case SIPSESS_HDR_REFER_TO:
    case SIPSESS_HDR_REFERRED_BY:
    case SIPSESS_HDR_PATH:
    case SIPSESS_HDR_SERVICE_ROUTE:
    case SIPSESS_HDR_P_ASSERTED_IDENTITY:
        return walk_nameaddr(acc, h, 0);
    case SIPSESS_HDR_CSEQ:
        acc = mix(acc, sipsess_cseq_number(h));
        acc = mix(acc, (uint64_t)sipsess_cseq_method(h));
        return mix_str(acc, sipsess_cseq_method_name(h));
    case SIPSESS_HDR_RACK:
        acc = mix(acc, sipsess_rack_rseq(h));
        acc = mix(acc, sipsess_rack_cseq(h));
        return mix(acc, (uint64_t)sipsess_rack_method(h));
    case SIPSESS_HDR_CONTENT_TYPE:
    case SIPSESS_HDR_ACCEPT:
        acc = mix_str(acc, sipsess_mtype_type(h));
        acc = mix_str(acc, sipsess_mtype_subtype(h));
        return mix_param(acc, h, id == SIPSESS_HDR_ACCEPT ? "q" : "charset");
    case SIPSESS_HDR_MAX_FORWARDS:
    case SIPSESS_HDR_CONTENT_LENGTH:
    case SIPSESS_HDR_EXPIRES:
    case SIPSESS_HDR_MIN_EXPIRES:
    case SIPSESS_HDR_RSEQ:
    case SIPSESS_HDR_MIN_SE:
        return mix(acc, (uint64_t)sipsess_hdr_number(h));
    case SIPSESS_HDR_SESSION_EXPIRES:
        acc = mix(acc, (uint64_t)sipsess_hdr_number(h));
        return mix_param(acc, h, "refresher");
    case SIPSESS_HDR_RETRY_AFTER:
        acc = mix(acc, (uint64_t)sipsess_hdr_number(h));
        acc = mix_str(acc, sipsess_retry_after_comment(h));
        return mix_param(acc, h, "duration");
    case SIPSESS_HDR_CONTENT_DISPOSITION:
        acc = mix_str(acc, sipsess_hdr_token(h));
        return mix_param(acc, h, "handling");
    case SIPSESS_HDR_EVENT:
        acc = mix_str(acc, sipsess_hdr_token(h));
        return mix_param(acc, h, "id");
    case SIPSESS_HDR_SUBSCRIPTION_STATE:
        acc = mix_str(acc, sipsess_hdr_token(h));
        acc = mix_param(acc, h, "expires");
        return mix_param(acc, h, "reason");
    case SIPSESS_HDR_REASON:
        acc = mix_str(acc, sipsess_hdr_token(h));
        acc = mix_param(acc, h, "cause");
        return mix_param(acc, h, "text");
    case SIPSESS_HDR_REPLACES:
        acc = mix_str(acc, sipsess_hdr_token(h));
        acc = mix_param(acc, h, "to-tag");
        return mix_param(acc, h, "from-tag");
    case SIPSESS_HDR_REFER_SUB:
    case SIPSESS_HDR_CONTENT_ENCODING:
    case SIPSESS_HDR_CONTENT_LANGUAGE:
    case SIPSESS_HDR_REQUIRE:
    case SIPSESS_HDR_PROXY_REQUIRE:
    case SIPSESS_HDR_SUPPORTED:
    case SIPSESS_HDR_UNSUPPORTED:
    case SIPSESS_HDR_ALLOW:
    case SIPSESS_HDR_ACCEPT_ENCODING:
    case SIPSESS_HDR_ACCEPT_LANGUAGE:
    case SIPSESS_HDR_ALLOW_EVENTS:
    case SIPSESS_HDR_RECV_INFO:
    case SIPSESS_HDR_INFO_PACKAGE:
    case SIPSESS_HDR_PRIVACY:
    case SIPSESS_HDR_PRIORITY:
        return mix_str(acc, sipsess_hdr_token(h));
    case SIPSESS_HDR_AUTHORIZATION:
    case SIPSESS_HDR_PROXY_AUTHORIZATION:
    case SIPSESS_HDR_WWW_AUTHENTICATE:
    case SIPSESS_HDR_PROXY_AUTHENTICATE:
    case SIPSESS_HDR_AUTHENTICATION_INFO:
        return walk_auth(acc, h);
    case SIPSESS_HDR_TIMESTAMP:
        acc = mix_str(acc, sipsess_timestamp_value(h));
        return mix_str(acc, sipsess_timestamp_delay(h));
    default:
        /* Call-ID, Subject, User-Agent, Server, Date, Warning, ... and
         * extension headers: the value read above is their typed form. */
        return acc;
    }
}

uint64_t msg_walk(const sipsess_msg *msg)
{
    uint64_t acc = 0;

    acc = mix(acc, (uint64_t)sipsess_msg_is_request(msg));
    if (sipsess_msg_is_request(msg)) {
        acc = mix(acc, (uint64_t)sipsess_msg_method(msg));
        acc = mix_str(acc, sipsess_msg_method_name(msg));
        acc = mix(acc, msg_walk_uri(sipsess_msg_ruri(msg)));
    } else {
        acc = mix(acc, sipsess_msg_status(msg));
        acc = mix_str(acc, sipsess_msg_reason(msg));
    }
    size_t n = sipsess_msg_hdr_count(msg);
    for (size_t i = 0; i < n; i++)
        acc = walk_hdr(acc, sipsess_msg_hdr_at(msg, i));
    return mix_str(acc, sipsess_msg_body(msg));
}
