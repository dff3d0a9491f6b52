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
    if (!name || len < 3 || len > 9)
        return SIPSESS_METHOD_OTHER;
    /* Methods are case-sensitive (RFC 3261 §7.1): a plain memcmp is right. */
    for (int m = 1; m < SIPSESS_METHOD__COUNT; m++) {
        const char *s = g_methods[m];
        if (s[0] == name[0] && strlen(s) == len && memcmp(s, name, len) == 0)
            return (sipsess_method)m;
    }
    return SIPSESS_METHOD_OTHER;
}

SIPSESS_API const char *sipsess_hdr_id_str(sipsess_hdr_id id)
{
    if ((unsigned)id >= SIPSESS_HDR__COUNT)
        return "";
    return g_hdrs[id].name;
}

sipsess_hdr_id sipsess__hdr_lookup(const char *name, size_t len)
{
    if (len == 0)
        return SIPSESS_HDR_OTHER;
    int c = sipsess__lower((unsigned char)name[0]);
    if (c < 'a' || c > 'z')
        return SIPSESS_HDR_OTHER;
    if (len == 1)
        return (sipsess_hdr_id)g_compact[c - 'a'];
    const uint8_t *cand = g_by_letter[c - 'a'];
    if (!cand)
        return SIPSESS_HDR_OTHER;
    for (; *cand; cand++) {
        const struct hdrdef *d = &g_hdrs[*cand];
        if (d->len != len)
            continue;
        size_t i = 1;
        while (i < len && sipsess__lower((unsigned char)name[i]) == sipsess__lower((unsigned char)d->name[i]))
            i++;
        if (i == len)
            return (sipsess_hdr_id)*cand;
    }
    return SIPSESS_HDR_OTHER;
}

SIPSESS_API sipsess_hdr_id sipsess_hdr_id_from(const char *name, size_t len)
{
    if (!name)
        return SIPSESS_HDR_OTHER;
    return sipsess__hdr_lookup(name, len);
}

bool sipsess__hdr_is_list(sipsess_hdr_id id)
{
    return (unsigned)id < SIPSESS_HDR__COUNT && g_hdrs[id].list;
}

bool sipsess__hdr_is_single(sipsess_hdr_id id)
{
    return (unsigned)id < SIPSESS_HDR__COUNT && g_hdrs[id].single;
}
