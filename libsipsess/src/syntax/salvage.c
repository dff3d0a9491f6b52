/*
 * What can still be answered of a request that broke one of the parser's
 * limits. RFC 3261 answers such a request when a response can be routed:
 * 513 Message Too Large (§21.5.14) for a message over the size, header
 * count, Via count or field length limit, 414 Request-URI Too Long
 * (§21.4.12) for a Request-URI over the URI limit. A response needs the
 * start line and five header fields of its request (§8.2.6.2: Via, From,
 * To, Call-ID, CSeq); those lines alone, taken from the bytes that arrived,
 * make a small message that the transaction layer answers like any other,
 * with the broken limit as its sipsess_msg_error.
 */
#include "syntax.h"

/* Stands in for a Request-URI over the limit: no response shows it. */
#define PLACEHOLDER_URI "sip:invalid.invalid"

bool sipsess__limit_error(int e)
{
    return e == SIPSESS_ETOOBIG || e == SIPSESS_ETOOMANYHDRS || e == SIPSESS_ETOOMANYVIA ||
           e == SIPSESS_EHDRTOOLONG || e == SIPSESS_EURITOOLONG;
}

enum { K_OTHER, K_VIA, K_FROM, K_TO, K_CALLID, K_CSEQ, K__N };

static int kind_of(sipsess_str name)
{
    if (sipsess__str_ieq(name, "via") || sipsess__str_ieq(name, "v"))
        return K_VIA;
    if (sipsess__str_ieq(name, "from") || sipsess__str_ieq(name, "f"))
        return K_FROM;
    if (sipsess__str_ieq(name, "to") || sipsess__str_ieq(name, "t"))
        return K_TO;
    if (sipsess__str_ieq(name, "call-id") || sipsess__str_ieq(name, "i"))
        return K_CALLID;
    if (sipsess__str_ieq(name, "cseq"))
        return K_CSEQ;
    return K_OTHER;
}

/* [p, e) without its line end. */
static const char *trim_eol(const char *p, const char *e)
{
    return e > p && e[-1] == '\r' ? e - 1 : e;
}

int sipsess__msg_salvage(const void *data, size_t len, const sipsess_parse_opts *opts, int why,
                         sipsess_msg **out)
{
    if (!data || !out || !sipsess__limit_error(why))
        return SIPSESS_EINVAL;
    sipsess_parse_opts o;
    sipsess_parse_opts_init(&o);
    if (opts) {
        /* An older caller's shorter struct keeps the later defaults. */
        size_t n = opts->struct_size < sizeof o ? opts->struct_size : sizeof o;
        if (n > sizeof(uint32_t))
            memcpy((char *)&o + sizeof(uint32_t), (const char *)opts + sizeof(uint32_t),
                   n - sizeof(uint32_t));
    }
    const char *p = data, *end = p + len;
    while (p < end && (*p == '\r' || *p == '\n'))
        p++;
    const char *lf = memchr(p, '\n', (size_t)(end - p));
    if (!lf)
        return SIPSESS_ETRUNCATED;
    size_t sl_len = (size_t)(trim_eol(p, lf) - p);
    const char *sl_end = p + sl_len;
    /* Responses and ACKs are never answered. */
    if (sl_len >= 4 && memcmp(p, "SIP/", 4) == 0)
        return SIPSESS_EINVAL;
    const char *sp1 = memchr(p, ' ', sl_len);
    const char *sp2 = sl_end;
    while (sp2 > p && sp2[-1] != ' ')
        sp2--;
    if (!sp1 || sp2 <= sp1 + 1)
        return SIPSESS_ESTARTLINE;
    if (sp1 - p == 3 && memcmp(p, "ACK", 3) == 0)
        return SIPSESS_EINVAL;

    /* Room for the copy: every line may grow by a byte (LF to CRLF), the
     * Request-URI may become the placeholder, and the Content-Length line
     * and the empty line come on top. */
    size_t cap = 2 * (size_t)(end - p) + sizeof PLACEHOLDER_URI + 64;
    char *buf = sipsess__malloc(cap), *w = buf;
    if (!buf)
        return SIPSESS_ENOMEM;
    int err = why;
    if ((size_t)(sp2 - 1 - (sp1 + 1)) > o.max_uri_len) {
        memcpy(w, p, (size_t)(sp1 + 1 - p));
        w += sp1 + 1 - p;
        memcpy(w, PLACEHOLDER_URI, sizeof PLACEHOLDER_URI - 1);
        w += sizeof PLACEHOLDER_URI - 1;
        memcpy(w, sp2 - 1, (size_t)(sl_end - (sp2 - 1)));
        w += sl_end - (sp2 - 1);
        err = SIPSESS_EURITOOLONG;
    } else {
        memcpy(w, p, (size_t)(sl_end - p));
        w += sl_end - p;
        /* A URI over the limit elsewhere (Contact, Route...) is no
         * Request-URI: the message is one this UA will not take whole. */
        if (err == SIPSESS_EURITOOLONG)
            err = SIPSESS_ETOOBIG;
    }
    memcpy(w, "\r\n", 2);
    w += 2;

    /* Header lines, folds included; only whole lines (a datagram cut by
     * the limit ends inside one), up to the empty line. */
    bool have[K__N] = {false};
    bool via_full = false;
    uint32_t nvia = 0;
    for (const char *q = lf + 1; q < end;) {
        const char *le = memchr(q, '\n', (size_t)(end - q));
        if (!le || trim_eol(q, le) == q)
            break;
        while (le + 1 < end && (le[1] == ' ' || le[1] == '\t')) {
            le = memchr(le + 1, '\n', (size_t)(end - le - 1));
            if (!le)
                break;
        }
        if (!le)
            break;
        const char *ve = trim_eol(q, le);
        const char *ne = q;
        while (ne < ve && SIPSESS__IS(*ne, SIPSESS__C_TOKEN))
            ne++;
        int k = kind_of((sipsess_str){q, (size_t)(ne - q)});
        bool fits = (size_t)(ve - q) <= o.max_header_len;
        if (k == K_VIA && !via_full) {
            uint32_t n = 1;
            for (const char *c = ne; c < ve; c++)
                n += *c == ',';
            if (nvia + n <= o.max_via && fits) {
                nvia += n;
            } else {
                /* Too many values: the top one is where the response goes
                 * (§18.2.2); without the rest it cannot cross a proxy, which
                 * is still better than no response at all. */
                via_full = true;
                if (nvia)
                    k = K_OTHER;
                else {
                    const char *c = memchr(ne, ',', (size_t)(ve - ne));
                    if (c)
                        ve = c;
                    fits = (size_t)(ve - q) <= o.max_header_len;
                }
            }
        } else if (k == K_VIA || have[k]) {
            k = K_OTHER;
        }
        if (k != K_OTHER && fits) {
            memcpy(w, q, (size_t)(ve - q));
            w += ve - q;
            memcpy(w, "\r\n", 2);
            w += 2;
            have[k] = true;
        }
        q = le + 1;
    }
    int rc = SIPSESS_EMISSING;
    if (have[K_VIA] && have[K_FROM] && have[K_TO] && have[K_CALLID] && have[K_CSEQ]) {
        static const char tail[] = "Content-Length: 0\r\n\r\n";
        memcpy(w, tail, sizeof tail - 1);
        w += sizeof tail - 1;
        o.flags |= SIPSESS_PARSE_LENIENT;
        o.max_msg_size = (uint32_t)(w - buf);
        if (o.max_headers < nvia + 8)
            o.max_headers = nvia + 8;
        sipsess_msg *m = NULL;
        rc = sipsess__msg_parse(buf, (size_t)(w - buf), &o, false, &m, NULL);
        if (rc == 0 && (!m->is_request || m->first[SIPSESS_HDR_VIA] < 0)) {
            sipsess_msg_free(m);
            rc = SIPSESS_EMISSING;
        } else if (rc == 0) {
            m->err = err;
            m->err_off = 0;
            *out = m;
        }
    }
    sipsess__free(buf);
    return rc;
}
