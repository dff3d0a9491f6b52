/* Method and header names. */
#include "syntax.h"
#include "names_tab.h"

static const char *const g_methods[SIPSESS_METHOD__COUNT] = {
    [SIPSESS_METHOD_OTHER] = "",          [SIPSESS_METHOD_INVITE] = "INVITE",
    [SIPSESS_METHOD_ACK] = "ACK",         [SIPSESS_METHOD_BYE] = "BYE",
    [SIPSESS_METHOD_CANCEL] = "CANCEL",   [SIPSESS_METHOD_OPTIONS] = "OPTIONS",
    [SIPSESS_METHOD_REGISTER] = "REGISTER", [SIPSESS_METHOD_PRACK] = "PRACK",
    [SIPSESS_METHOD_SUBSCRIBE] = "SUBSCRIBE", [SIPSESS_METHOD_NOTIFY] = "NOTIFY",
    [SIPSESS_METHOD_PUBLISH] = "PUBLISH", [SIPSESS_METHOD_INFO] = "INFO",
    [SIPSESS_METHOD_REFER] = "REFER",     [SIPSESS_METHOD_MESSAGE] = "MESSAGE",
    [SIPSESS_METHOD_UPDATE] = "UPDATE",
};

SIPSESS_API const char *sipsess_method_str(sipsess_method m)
{
    if ((unsigned)m >= SIPSESS_METHOD__COUNT)
        return "";
    return g_methods[m];
}

SIPSESS_API sipsess_method sipsess_method_from(const char *name, size_t len)
{
    if (!name)
        return SIPSESS_METHOD_OTHER;
    /* Methods are case-sensitive (RFC 3261 §7.1): a plain memcmp is right.
     * Every request and every CSeq asks, so the length picks the one or
     * two candidates first. */
#define M(lit, id) (memcmp(name, lit, sizeof lit - 1) == 0 ? (id) : SIPSESS_METHOD_OTHER)
    switch (len) {
    case 3:
        return name[0] == 'A' ? M("ACK", SIPSESS_METHOD_ACK) : M("BYE", SIPSESS_METHOD_BYE);
    case 4:
        return M("INFO", SIPSESS_METHOD_INFO);
    case 5:
        return name[0] == 'P' ? M("PRACK", SIPSESS_METHOD_PRACK) : M("REFER", SIPSESS_METHOD_REFER);
    case 6:
        switch (name[0]) {
        case 'I':
            return M("INVITE", SIPSESS_METHOD_INVITE);
        case 'C':
            return M("CANCEL", SIPSESS_METHOD_CANCEL);
        case 'N':
            return M("NOTIFY", SIPSESS_METHOD_NOTIFY);
        default:
            return M("UPDATE", SIPSESS_METHOD_UPDATE);
        }
    case 7:
        switch (name[0]) {
        case 'O':
            return M("OPTIONS", SIPSESS_METHOD_OPTIONS);
        case 'P':
            return M("PUBLISH", SIPSESS_METHOD_PUBLISH);
        default:
            return M("MESSAGE", SIPSESS_METHOD_MESSAGE);
        }
    case 8:
        return M("REGISTER", SIPSESS_METHOD_REGISTER);
    case 9:
        return M("SUBSCRIBE", SIPSESS_METHOD_SUBSCRIBE);
    default:
        return SIPSESS_METHOD_OTHER;
    }
#undef M
}

SIPSESS_API const char *sipsess_hdr_id_str(sipsess_hdr_id id)
{
    if ((unsigned)id >= SIPSESS_HDR__COUNT)
        return "";
    return g_hdrs[id].name;
}

/* Case-insensitive equality of `len` input bytes with a canonical name of
 * the same length, a word at a time. Canonical names hold letters and '-'
 * only; a letter byte has bit 0x40 set, so (n >> 1) & 0x20 puts 0x20 on
 * exactly the letter positions. OR-ing that into both sides folds case
 * where a letter is expected and nowhere else, which keeps the test exact
 * for any input byte ("Call\rID" is not "Call-ID"). Loads overlap rather
 * than read past either string. */
#define FOLD_EQ(x, n, t) ((((x) | (((n) >> 1) & (t))) == ((n) | (((n) >> 1) & (t)))))

static bool name_eq(const char *in, const char *canon, size_t len)
{
    const uint64_t m8 = 0x2020202020202020u;
    if (len >= 8) {
        size_t i = 0;
        for (; i + 8 < len; i += 8)
            if (!FOLD_EQ(sipsess__ld8(in + i), sipsess__ld8(canon + i), m8))
                return false;
        return FOLD_EQ(sipsess__ld8(in + len - 8), sipsess__ld8(canon + len - 8), m8);
    }
    if (len >= 4)
        return FOLD_EQ(sipsess__ld4(in), sipsess__ld4(canon), (uint32_t)m8) &&
               FOLD_EQ(sipsess__ld4(in + len - 4), sipsess__ld4(canon + len - 4), (uint32_t)m8);
    return FOLD_EQ(sipsess__ld2(in), sipsess__ld2(canon), (uint16_t)m8) &&
           FOLD_EQ(sipsess__ld2(in + len - 2), sipsess__ld2(canon + len - 2), (uint16_t)m8);
}

/* Runs once per header line of every message: one hash, one length test
 * and a few word compares, where a scan of candidate names used to cost a
 * compare loop per candidate. */
sipsess_hdr_id sipsess__hdr_lookup(const char *name, size_t len)
{
    if (len == 0)
        return SIPSESS_HDR_OTHER;
    if (len == 1) {
        int c = sipsess__lower((unsigned char)name[0]);
        return c >= 'a' && c <= 'z' ? (sipsess_hdr_id)g_compact[c - 'a'] : SIPSESS_HDR_OTHER;
    }
    if (len > 19) /* the longest known name */
        return SIPSESS_HDR_OTHER;
    unsigned first = (unsigned char)name[0] | 0x20, last = (unsigned char)name[len - 1] | 0x20,
             mid = (unsigned char)name[len >> 1] | 0x20;
    unsigned id = g_hash[name_hash(first, mid, last, len)];
    if (id == SIPSESS_HDR_OTHER || g_hdrs[id].len != len || !name_eq(name, g_hdrs[id].name, len))
        return SIPSESS_HDR_OTHER;
    return (sipsess_hdr_id)id;
}

SIPSESS_API sipsess_hdr_id sipsess_hdr_id_from(const char *name, size_t len)
{
    if (!name)
        return SIPSESS_HDR_OTHER;
    return sipsess__hdr_lookup(name, len);
}
