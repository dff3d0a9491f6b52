/*
 * Messages the transaction layer writes itself: the ACK for a non-2xx
 * final response (§17.1.1.3), the CANCEL of an INVITE (§9.1), and the
 * responses it sends or helps the TU send (100 Trying §17.2.1, 503 at
 * the transaction limit, sipsess__st_reply). Responses get the received
 * and rport parameters on their top Via as §18.2.1 and RFC 3581 §4 ask of
 * the server. Everything goes through the public message builder.
 */
#include <stdio.h>
#include <string.h>

#include "runtime/mem.h"
#include "syntax/syntax.h"
#include "txn/txn_int.h"

/* A received value may be folded (§7.3.1); the builder refuses CR/LF in
 * values, and a folded line is one space by the RFC, so copy it so. */
static int add_hdr(sipsess_msgbuilder *mb, const char *name, sipsess_str v)
{
    if (!memchr(v.p, '\r', v.len) && !memchr(v.p, '\n', v.len))
        return sipsess_msgbuilder_header_str(mb, sipsess__str_c(name), v);
    char *tmp = sipsess__malloc(v.len);
    if (!tmp)
        return SIPSESS_ENOMEM;
    size_t n = 0;
    for (size_t i = 0; i < v.len; i++) {
        char c = v.p[i];
        if (c == '\r' || c == '\n') {
            /* CRLF + leading white space: one SP. */
            while (i + 1 < v.len && (v.p[i + 1] == '\r' || v.p[i + 1] == '\n' ||
                                     v.p[i + 1] == ' ' || v.p[i + 1] == '\t'))
                i++;
            if (n > 0 && tmp[n - 1] != ' ')
                tmp[n++] = ' ';
            continue;
        }
        tmp[n++] = c;
    }
    int rc = sipsess_msgbuilder_header_str(mb, sipsess__str_c(name), sipsess__str(tmp, n));
    sipsess__free(tmp);
    return rc;
}

static int add_hdr_of(sipsess_msgbuilder *mb, const char *name, const sipsess_msg *m,
                      sipsess_hdr_id id)
{
    const sipsess_hdr *h = sipsess_msg_hdr(m, id, 0);
    if (!h)
        return SIPSESS_EINVAL;
    return add_hdr(mb, name, sipsess_hdr_value(h));
}

static int copy_out(sipsess_msgbuilder *mb, char **out, size_t *out_len)
{
    sipsess_str s;
    int rc = sipsess_msgbuilder_finish(mb, &s);
    if (rc)
        return rc;
    char *p = sipsess__malloc(s.len);
    if (!p)
        return SIPSESS_ENOMEM;
    memcpy(p, s.p, s.len);
    *out = p;
    *out_len = s.len;
    return SIPSESS_OK;
}

/* Start "METHOD <Request-URI of req> SIP/2.0" and the Via/Max-Forwards/
 * From/Call-ID/CSeq lines an ACK and a CANCEL share with the request they
 * answer (§17.1.1.3 and §9.1 copy the same fields: the R-URI, the top Via
 * only, From with its tag, Call-ID, the CSeq number). */
static int start_like(sipsess_msgbuilder *mb, const char *method, const sipsess_msg *req,
                      const sipsess_hdr *to)
{
    const sipsess_uri *ruri = sipsess_msg_ruri(req);
    const sipsess_hdr *cseq = sipsess_msg_hdr(req, SIPSESS_HDR_CSEQ, 0);
    if (!ruri || sipsess__tx_is_bad(cseq) || !to)
        return SIPSESS_EINVAL;
    sipsess_str rt = sipsess_uri_text(ruri);
    char *r = sipsess__malloc(rt.len + 1);
    if (!r)
        return SIPSESS_ENOMEM;
    memcpy(r, rt.p, rt.len);
    r[rt.len] = '\0';
    int rc = sipsess_msgbuilder_request(mb, method, r);
    sipsess__free(r);
    char cs[32];
    snprintf(cs, sizeof cs, "%lu %s", (unsigned long)sipsess_cseq_number(cseq), method);
    if (rc == 0)
        rc = add_hdr_of(mb, "Via", req, SIPSESS_HDR_VIA);
    if (rc == 0)
        rc = sipsess_msgbuilder_header(mb, "Max-Forwards", "70");
    if (rc == 0)
        rc = add_hdr_of(mb, "From", req, SIPSESS_HDR_FROM);
    if (rc == 0)
        rc = add_hdr(mb, "To", sipsess_hdr_value(to));
    if (rc == 0)
        rc = add_hdr_of(mb, "Call-ID", req, SIPSESS_HDR_CALL_ID);
    if (rc == 0)
        rc = sipsess_msgbuilder_header(mb, "CSeq", cs);
    /* "If the INVITE request whose response is being acknowledged had
     * Route header fields, those header fields MUST appear in the ACK"
     * (§17.1.1.3); the same for CANCEL (§9.1). In order, one per line. */
    for (size_t i = 0; rc == 0; i++) {
        const sipsess_hdr *h = sipsess_msg_hdr(req, SIPSESS_HDR_ROUTE, i);
        if (!h)
            break;
        rc = add_hdr(mb, "Route", sipsess_hdr_value(h));
    }
    return rc;
}

int sipsess__tx_build_ack(sipsess__txl *txl, const sipsess_msg *req, const sipsess_msg *resp,
                          char **out, size_t *out_len)
{
    /* "The To header field in the ACK MUST equal the To header field in
     * the response being acknowledged" (§17.1.1.3): it has the UAS tag. */
    int rc = start_like(txl->mb, "ACK", req, sipsess_msg_hdr(resp, SIPSESS_HDR_TO, 0));
    if (rc == 0)
        rc = copy_out(txl->mb, out, out_len);
    return rc;
}


int sipsess__tx_build_cancel(sipsess__txl *txl, const sipsess_msg *inv, char **out,
                             size_t *out_len)
{
    return sipsess__tx_build_cancel_extra(txl, inv, NULL, out, out_len);
}

int sipsess__tx_build_cancel_extra(sipsess__txl *txl, const sipsess_msg *inv, const char *extra,
                                   char **out, size_t *out_len)
{
    /* §9.1: To as in the request, "including tags". */
    int rc = start_like(txl->mb, "CANCEL", inv, sipsess_msg_hdr(inv, SIPSESS_HDR_TO, 0));
    if (rc == 0 && extra)
        rc = sipsess_msgbuilder_header_lines(txl->mb, extra);
    if (rc == 0)
        rc = copy_out(txl->mb, out, out_len);
    return rc;
}

/* ------------------------------------------------------------------ */
/* Responses                                                           */


/*
 * Rewrite a Via value with received/rport (§18.2.1, RFC 3581 §4): an
 * existing received parameter is dropped, a bare "rport" gets the port.
 * Parameters are split at ';' outside quoted strings; the others are kept
 * byte for byte. Returns the length written (`buf` is large enough: the
 * value plus both parameters).
 */
static size_t rewrite_via(sipsess_str v, const char *received, unsigned rport, char *buf)
{
    size_t n = 0;
    const char *p = v.p, *end = v.p + v.len;
    /* The sent-by part ends at the first ';' (no quotes can precede it). */
    const char *semi = memchr(p, ';', v.len);
    const char *seg_end = semi ? semi : end;
    memcpy(buf + n, p, (size_t)(seg_end - p));
    n += (size_t)(seg_end - p);
    bool rport_done = false;
    p = seg_end;
    while (p < end) {
        p++; /* the ';' */
        const char *s = p;
        bool quoted = false;
        while (p < end && (quoted || *p != ';')) {
            if (*p == '\\' && quoted && p + 1 < end)
                p++;
            else if (*p == '"')
                quoted = !quoted;
            p++;
        }
        const char *ns = s, *ne = s;
        while (ns < p && (*ns == ' ' || *ns == '\t'))
            ns++;
        ne = ns;
        while (ne < p && *ne != '=' && *ne != ' ' && *ne != '\t')
            ne++;
        sipsess_str name = {ns, (size_t)(ne - ns)};
        if (sipsess__str_ieq(name, "received"))
            continue;
        if (rport && sipsess__str_ieq(name, "rport")) {
            n += (size_t)sprintf(buf + n, ";rport=%u", rport);
            rport_done = true;
            continue;
        }
        buf[n++] = ';';
        memcpy(buf + n, s, (size_t)(p - s));
        n += (size_t)(p - s);
    }
    if (rport && !rport_done)
        n += (size_t)sprintf(buf + n, ";rport=%u", rport);
    if (received && received[0])
        n += (size_t)sprintf(buf + n, ";received=%s", received);
    return n;
}

/* Put received/rport on the first Via line of a finished response. The
 * builder writes the Via lines right after the status line (§8.2.6.2 copy
 * order), as "Via: value". */
static int with_received(const sipsess__rx *rx, sipsess_str in, char **out, size_t *out_len)
{
    char received[64] = "";
    unsigned rport = 0;
    sipsess__tp_via_received(rx, received, sizeof received, &rport);
    received[sizeof received - 1] = '\0';
    const char *sl = memchr(in.p, '\n', in.len);
    if ((!received[0] && !rport) || !sl)
        return SIPSESS_ENOTFOUND;
    size_t head = (size_t)(sl + 1 - in.p);
    static const char via[] = "Via: ";
    if (in.len - head < sizeof via - 1 || memcmp(in.p + head, via, sizeof via - 1) != 0)
        return SIPSESS_ENOTFOUND;
    const char *vs = in.p + head + sizeof via - 1;
    const char *ve = memchr(vs, '\r', in.len - (size_t)(vs - in.p));
    if (!ve)
        return SIPSESS_ENOTFOUND;
    size_t vlen = (size_t)(ve - vs);
    size_t cap = in.len + strlen(received) + 64;
    char *buf = sipsess__malloc(cap);
    if (!buf)
        return SIPSESS_ENOMEM;
    size_t n = (size_t)(vs - in.p);
    memcpy(buf, in.p, n);
    n += rewrite_via(sipsess__str(vs, vlen), received, rport, buf + n);
    size_t rest = in.len - (size_t)(ve - in.p);
    memcpy(buf + n, ve, rest);
    n += rest;
    *out = buf;
    *out_len = n;
    return SIPSESS_OK;
}

int sipsess__tx_build_reply(sipsess__txl *txl, const sipsess__rx *rx, unsigned status,
                            const char *reason, const char *to_tag, const char *extra,
                            sipsess_msg **out)
{
    return sipsess__tx_build_reply_body(txl, rx, status, reason, to_tag, extra, NULL, 0, NULL,
                                        out);
}

int sipsess__tx_build_reply_body(sipsess__txl *txl, const sipsess__rx *rx, unsigned status,
                                 const char *reason, const char *to_tag, const char *extra,
                                 const void *body, size_t len, const char *ctype,
                                 sipsess_msg **out)
{
    sipsess_msgbuilder *mb = txl->mb;
    int rc = sipsess_msgbuilder_response_to(mb, rx->msg, status, reason, to_tag);
    if (rc == 0 && extra)
        rc = sipsess_msgbuilder_header_lines(mb, extra);
    if (rc == 0 && body && len)
        rc = sipsess_msgbuilder_body(mb, body, len, ctype);
    sipsess_str s;
    if (rc == 0)
        rc = sipsess_msgbuilder_finish(mb, &s);
    if (rc)
        return rc;
    char *fixed = NULL;
    size_t fixed_len = 0;
    rc = with_received(rx, s, &fixed, &fixed_len);
    if (rc == SIPSESS_ENOMEM)
        return rc;
    if (rc == 0)
        s = sipsess__str(fixed, fixed_len);
    /* Lenient: a response to a malformed request copies its malformed
     * headers (a 400 to a bad CSeq), and must still go out. */
    sipsess_parse_opts o;
    sipsess_parse_opts_init(&o);
    o.flags |= SIPSESS_PARSE_LENIENT;
    o.max_msg_size = UINT32_MAX;
    rc = sipsess_msg_parse(s.p, s.len, &o, out, NULL);
    sipsess__free(fixed);
    return rc;
}
