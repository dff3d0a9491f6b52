/* Small string helpers shared by the syntax layer. */
#include "syntax.h"

bool sipsess__str_ieq(sipsess_str a, const char *lit)
{
    size_t i = 0;
    if (!a.p)
        return false;
    for (; i < a.len; i++) {
        if (!lit[i] || sipsess__lower((unsigned char)a.p[i]) != sipsess__lower((unsigned char)lit[i]))
            return false;
    }
    return lit[i] == '\0';
}

bool sipsess__str_ieq2(sipsess_str a, sipsess_str b)
{
    if (a.len != b.len)
        return false;
    for (size_t i = 0; i < a.len; i++)
        if (sipsess__lower((unsigned char)a.p[i]) != sipsess__lower((unsigned char)b.p[i]))
            return false;
    return true;
}

static inline bool is_ws(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

bool sipsess__param_find(sipsess_str params, char sep, const char *name,
                         sipsess_str *value)
{
    /* An absent list is {NULL,0}: no pointer arithmetic before the test,
     * since NULL + 0 is undefined in C. */
    if (!params.p || !name)
        return false;
    const char *p = params.p, *end = params.p + params.len;
    size_t nlen = strlen(name);
    while (p < end) {
        while (p < end && (is_ws(*p) || *p == sep))
            p++;
        const char *ns = p;
        while (p < end && *p != '=' && *p != sep && !is_ws(*p))
            p++;
        sipsess_str pname = {ns, (size_t)(p - ns)};
        while (p < end && is_ws(*p))
            p++;
        sipsess_str pval = {NULL, 0};
        if (p < end && *p == '=') {
            p++;
            while (p < end && is_ws(*p))
                p++;
            if (p < end && *p == '"') {
                const char *vs = ++p;
                while (p < end && *p != '"') {
                    if (*p == '\\' && p + 1 < end)
                        p++;
                    p++;
                }
                pval = sipsess__str(vs, (size_t)(p - vs));
                if (p < end)
                    p++;
            } else {
                const char *vs = p;
                /* IPv6 references may appear bracketed as values */
                while (p < end && *p != sep && !is_ws(*p))
                    p++;
                pval = sipsess__str(vs, (size_t)(p - vs));
            }
        }
        /* Lengths first: most names differ in length from the one asked. */
        if (pname.len == nlen && nlen && sipsess__str_ieq(pname, name)) {
            if (value)
                *value = pval;
            return true;
        }
        while (p < end && *p != sep)
            p++;
    }
    return false;
}
