/* Header-name tables: canonical names, compact forms, per-id properties
 * and the perfect hash the parser looks names up with. */
#include "syntax.h"

/* One row per known header: id suffix, canonical name, properties. The
 * name and property tables are built from these rows; the hash slots at
 * the end were computed from the names, and the header tests that look up
 * every name and compact form in several cases catch a slot that no longer
 * matches. */
#define SIPSESS__HDR_ROWS(X) \
    X(VIA, "Via", SIPSESS__HP_LIST) \
    X(FROM, "From", SIPSESS__HP_SINGLE) \
    X(TO, "To", SIPSESS__HP_SINGLE) \
    X(CALL_ID, "Call-ID", SIPSESS__HP_SINGLE) \
    X(CSEQ, "CSeq", SIPSESS__HP_SINGLE) \
    X(MAX_FORWARDS, "Max-Forwards", SIPSESS__HP_SINGLE) \
    X(CONTACT, "Contact", SIPSESS__HP_LIST) \
    X(ROUTE, "Route", SIPSESS__HP_LIST) \
    X(RECORD_ROUTE, "Record-Route", SIPSESS__HP_LIST) \
    X(CONTENT_LENGTH, "Content-Length", 0) \
    X(CONTENT_TYPE, "Content-Type", SIPSESS__HP_SINGLE) \
    X(CONTENT_DISPOSITION, "Content-Disposition", SIPSESS__HP_SINGLE) \
    X(CONTENT_ENCODING, "Content-Encoding", SIPSESS__HP_LIST) \
    X(CONTENT_LANGUAGE, "Content-Language", SIPSESS__HP_LIST) \
    X(REQUIRE, "Require", SIPSESS__HP_LIST) \
    X(PROXY_REQUIRE, "Proxy-Require", SIPSESS__HP_LIST) \
    X(SUPPORTED, "Supported", SIPSESS__HP_LIST) \
    X(UNSUPPORTED, "Unsupported", SIPSESS__HP_LIST) \
    X(ALLOW, "Allow", SIPSESS__HP_LIST) \
    X(ACCEPT, "Accept", SIPSESS__HP_LIST) \
    X(ACCEPT_ENCODING, "Accept-Encoding", SIPSESS__HP_LIST) \
    X(ACCEPT_LANGUAGE, "Accept-Language", SIPSESS__HP_LIST) \
    X(EXPIRES, "Expires", SIPSESS__HP_SINGLE) \
    X(MIN_EXPIRES, "Min-Expires", SIPSESS__HP_SINGLE) \
    X(RSEQ, "RSeq", SIPSESS__HP_SINGLE) \
    X(RACK, "RAck", SIPSESS__HP_SINGLE) \
    X(EVENT, "Event", SIPSESS__HP_SINGLE) \
    X(ALLOW_EVENTS, "Allow-Events", SIPSESS__HP_LIST) \
    X(SUBSCRIPTION_STATE, "Subscription-State", SIPSESS__HP_SINGLE) \
    X(REFER_TO, "Refer-To", SIPSESS__HP_SINGLE) \
    X(REFERRED_BY, "Referred-By", SIPSESS__HP_SINGLE) \
    X(REFER_SUB, "Refer-Sub", SIPSESS__HP_SINGLE) \
    X(REPLACES, "Replaces", SIPSESS__HP_SINGLE) \
    X(AUTHORIZATION, "Authorization", 0) \
    X(PROXY_AUTHORIZATION, "Proxy-Authorization", 0) \
    X(WWW_AUTHENTICATE, "WWW-Authenticate", 0) \
    X(PROXY_AUTHENTICATE, "Proxy-Authenticate", 0) \
    X(AUTHENTICATION_INFO, "Authentication-Info", SIPSESS__HP_SINGLE) \
    X(SESSION_EXPIRES, "Session-Expires", SIPSESS__HP_SINGLE) \
    X(MIN_SE, "Min-SE", SIPSESS__HP_SINGLE) \
    X(REASON, "Reason", SIPSESS__HP_LIST) \
    X(RETRY_AFTER, "Retry-After", SIPSESS__HP_SINGLE) \
    X(TIMESTAMP, "Timestamp", SIPSESS__HP_SINGLE) \
    X(RECV_INFO, "Recv-Info", SIPSESS__HP_LIST) \
    X(INFO_PACKAGE, "Info-Package", SIPSESS__HP_SINGLE) \
    X(SUBJECT, "Subject", 0) \
    X(USER_AGENT, "User-Agent", 0) \
    X(SERVER, "Server", 0) \
    X(DATE, "Date", SIPSESS__HP_SINGLE) \
    X(WARNING, "Warning", SIPSESS__HP_LIST) \
    X(ORGANIZATION, "Organization", 0) \
    X(PRIORITY, "Priority", SIPSESS__HP_SINGLE) \
    X(REPLY_TO, "Reply-To", SIPSESS__HP_SINGLE) \
    X(IN_REPLY_TO, "In-Reply-To", SIPSESS__HP_LIST) \
    X(CALL_INFO, "Call-Info", SIPSESS__HP_LIST) \
    X(ALERT_INFO, "Alert-Info", SIPSESS__HP_LIST) \
    X(ERROR_INFO, "Error-Info", SIPSESS__HP_LIST) \
    X(MIME_VERSION, "MIME-Version", SIPSESS__HP_SINGLE) \
    X(IDENTITY, "Identity", 0) \
    X(IDENTITY_INFO, "Identity-Info", 0) \
    X(ACCEPT_CONTACT, "Accept-Contact", SIPSESS__HP_LIST) \
    X(REJECT_CONTACT, "Reject-Contact", SIPSESS__HP_LIST) \
    X(REQUEST_DISPOSITION, "Request-Disposition", SIPSESS__HP_LIST) \
    X(PATH, "Path", SIPSESS__HP_LIST) \
    X(SERVICE_ROUTE, "Service-Route", SIPSESS__HP_LIST) \
    X(P_ASSERTED_IDENTITY, "P-Asserted-Identity", SIPSESS__HP_LIST) \
    X(PRIVACY, "Privacy", 0)

struct hdrdef {
    const char *name;
    uint8_t len;
};

/* Indexed by sipsess_hdr_id. */
#define SIPSESS__ROW_DEF(id, nm, pr) [SIPSESS_HDR_##id] = {nm, sizeof nm - 1},
static const struct hdrdef g_hdrs[SIPSESS_HDR__COUNT] = {
    [SIPSESS_HDR_OTHER] = {"", 0},
    SIPSESS__HDR_ROWS(SIPSESS__ROW_DEF)
};
#undef SIPSESS__ROW_DEF

#define SIPSESS__ROW_PROPS(id, nm, pr) [SIPSESS_HDR_##id] = (pr),
const uint8_t sipsess__hdr_props[SIPSESS_HDR__COUNT] = {
    SIPSESS__HDR_ROWS(SIPSESS__ROW_PROPS)
};
#undef SIPSESS__ROW_PROPS

/* Compact forms (RFC 3261 §7.3.3 and extensions), by letter. */
static const uint8_t g_compact[26] = {
    ['a' - 'a'] = SIPSESS_HDR_ACCEPT_CONTACT,
    ['b' - 'a'] = SIPSESS_HDR_REFERRED_BY,
    ['c' - 'a'] = SIPSESS_HDR_CONTENT_TYPE,
    ['d' - 'a'] = SIPSESS_HDR_REQUEST_DISPOSITION,
    ['e' - 'a'] = SIPSESS_HDR_CONTENT_ENCODING,
    ['f' - 'a'] = SIPSESS_HDR_FROM,
    ['i' - 'a'] = SIPSESS_HDR_CALL_ID,
    ['j' - 'a'] = SIPSESS_HDR_REJECT_CONTACT,
    ['k' - 'a'] = SIPSESS_HDR_SUPPORTED,
    ['l' - 'a'] = SIPSESS_HDR_CONTENT_LENGTH,
    ['m' - 'a'] = SIPSESS_HDR_CONTACT,
    ['n' - 'a'] = SIPSESS_HDR_IDENTITY_INFO,
    ['o' - 'a'] = SIPSESS_HDR_EVENT,
    ['r' - 'a'] = SIPSESS_HDR_REFER_TO,
    ['s' - 'a'] = SIPSESS_HDR_SUBJECT,
    ['t' - 'a'] = SIPSESS_HDR_TO,
    ['u' - 'a'] = SIPSESS_HDR_ALLOW_EVENTS,
    ['v' - 'a'] = SIPSESS_HDR_VIA,
    ['x' - 'a'] = SIPSESS_HDR_SESSION_EXPIRES,
    ['y' - 'a'] = SIPSESS_HDR_IDENTITY,
};

/*
 * Perfect hash of the long names: with every byte OR 0x20 (lower case for
 * letters; the other name bytes, '-', keep their value), the slot is
 *   (2 * first + 8 * last + 14 * len + 3 * name[len / 2]) & 255.
 * First, last and length alone cannot work (Refer-To and Reply-To share
 * them); the middle byte separates every pair. A slot gives one candidate,
 * which the caller still compares in full, so a name that is not in the
 * table can land anywhere. Found by a search over small multipliers.
 */
static inline unsigned name_hash(unsigned first, unsigned mid, unsigned last, size_t len)
{
    return (2 * first + 8 * last + 14 * (unsigned)len + 3 * mid) & 255;
}

static const uint8_t g_hash[256] = {
    [0] = SIPSESS_HDR_ACCEPT_LANGUAGE, [1] = SIPSESS_HDR_REASON,
    [4] = SIPSESS_HDR_ALLOW,
    [13] = SIPSESS_HDR_CONTENT_ENCODING, [15] = SIPSESS_HDR_REPLACES,
    [18] = SIPSESS_HDR_CONTENT_LANGUAGE,
    [20] = SIPSESS_HDR_PROXY_REQUIRE,
    [33] = SIPSESS_HDR_MIME_VERSION, [34] = SIPSESS_HDR_REFER_TO, [35] = SIPSESS_HDR_AUTHORIZATION,
    [36] = SIPSESS_HDR_CONTACT, [37] = SIPSESS_HDR_WWW_AUTHENTICATE, [38] = SIPSESS_HDR_SUBJECT,
    [44] = SIPSESS_HDR_SERVER,
    [49] = SIPSESS_HDR_ALLOW_EVENTS,
    [52] = SIPSESS_HDR_IN_REPLY_TO, [55] = SIPSESS_HDR_REPLY_TO,
    [57] = SIPSESS_HDR_USER_AGENT, [59] = SIPSESS_HDR_RECORD_ROUTE,
    [60] = SIPSESS_HDR_PROXY_AUTHENTICATE, [63] = SIPSESS_HDR_TIMESTAMP,
    [67] = SIPSESS_HDR_CALL_INFO,
    [69] = SIPSESS_HDR_SUBSCRIPTION_STATE,
    [77] = SIPSESS_HDR_ALERT_INFO, [79] = SIPSESS_HDR_ACCEPT_CONTACT,
    [81] = SIPSESS_HDR_CONTENT_LENGTH,
    [85] = SIPSESS_HDR_ERROR_INFO,
    [89] = SIPSESS_HDR_VIA,
    [92] = SIPSESS_HDR_IDENTITY_INFO,
    [97] = SIPSESS_HDR_RECV_INFO,
    [100] = SIPSESS_HDR_ORGANIZATION, [102] = SIPSESS_HDR_IDENTITY, [103] = SIPSESS_HDR_AUTHENTICATION_INFO,
    [108] = SIPSESS_HDR_PRIVACY, [110] = SIPSESS_HDR_PRIORITY,
    [112] = SIPSESS_HDR_MAX_FORWARDS, [113] = SIPSESS_HDR_REJECT_CONTACT,
    [116] = SIPSESS_HDR_MIN_EXPIRES,
    [123] = SIPSESS_HDR_CONTENT_DISPOSITION,
    [132] = SIPSESS_HDR_DATE,
    [140] = SIPSESS_HDR_CALL_ID,
    [146] = SIPSESS_HDR_PROXY_AUTHORIZATION,
    [149] = SIPSESS_HDR_RETRY_AFTER,
    [153] = SIPSESS_HDR_REQUEST_DISPOSITION,
    [156] = SIPSESS_HDR_REFERRED_BY, [157] = SIPSESS_HDR_RACK,
    [177] = SIPSESS_HDR_ROUTE,
    [180] = SIPSESS_HDR_PATH, [181] = SIPSESS_HDR_CSEQ,
    [185] = SIPSESS_HDR_FROM,
    [197] = SIPSESS_HDR_INFO_PACKAGE,
    [200] = SIPSESS_HDR_REFER_SUB, [201] = SIPSESS_HDR_TO,
    [205] = SIPSESS_HDR_REQUIRE,
    [209] = SIPSESS_HDR_SUPPORTED, [210] = SIPSESS_HDR_WARNING, [211] = SIPSESS_HDR_RSEQ,
    [215] = SIPSESS_HDR_SESSION_EXPIRES,
    [221] = SIPSESS_HDR_MIN_SE, [222] = SIPSESS_HDR_P_ASSERTED_IDENTITY, [223] = SIPSESS_HDR_EVENT,
    [229] = SIPSESS_HDR_ACCEPT,
    [242] = SIPSESS_HDR_CONTENT_TYPE, [243] = SIPSESS_HDR_SERVICE_ROUTE,
    [244] = SIPSESS_HDR_UNSUPPORTED,
    [251] = SIPSESS_HDR_ACCEPT_ENCODING,
    [255] = SIPSESS_HDR_EXPIRES,
};
