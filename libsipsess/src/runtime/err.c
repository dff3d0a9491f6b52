/* Error code texts. */
#include "sipsess/common.h"

struct errdesc {
    int code;
    const char *name;
    const char *text;
};

static const struct errdesc g_errs[] = {
    {SIPSESS_OK, "SIPSESS_OK", "success"},
    {SIPSESS_EINVAL, "SIPSESS_EINVAL", "invalid argument"},
    {SIPSESS_ENOMEM, "SIPSESS_ENOMEM", "out of memory"},
    {SIPSESS_EAGAIN, "SIPSESS_EAGAIN", "more input needed / would block"},
    {SIPSESS_ENOSPC, "SIPSESS_ENOSPC", "buffer too small"},
    {SIPSESS_EBUSY, "SIPSESS_EBUSY", "operation not allowed now"},
    {SIPSESS_ENOTFOUND, "SIPSESS_ENOTFOUND", "not found"},
    {SIPSESS_ESTATE, "SIPSESS_ESTATE", "object in the wrong state"},
    {SIPSESS_ECALLBACK, "SIPSESS_ECALLBACK", "callback failed"},
    {SIPSESS_ETIMEDOUT, "SIPSESS_ETIMEDOUT", "timed out"},
    {SIPSESS_ETRANSPORT, "SIPSESS_ETRANSPORT", "transport error"},
    {SIPSESS_ELIMIT, "SIPSESS_ELIMIT", "limit reached"},
    {SIPSESS_ETOOBIG, "SIPSESS_ETOOBIG", "message larger than the size limit"},
    {SIPSESS_ETOOMANYHDRS, "SIPSESS_ETOOMANYHDRS", "too many header fields"},
    {SIPSESS_EHDRTOOLONG, "SIPSESS_EHDRTOOLONG", "header field too long"},
    {SIPSESS_EURITOOLONG, "SIPSESS_EURITOOLONG", "URI too long"},
    {SIPSESS_ETOOMANYVIA, "SIPSESS_ETOOMANYVIA", "too many Via values"},
    {SIPSESS_ESTARTLINE, "SIPSESS_ESTARTLINE", "malformed start line"},
    {SIPSESS_EVERSION, "SIPSESS_EVERSION", "unsupported SIP version"},
    {SIPSESS_EHEADER, "SIPSESS_EHEADER", "malformed header field"},
    {SIPSESS_ECLEN, "SIPSESS_ECLEN", "missing or invalid Content-Length"},
    {SIPSESS_ETRUNCATED, "SIPSESS_ETRUNCATED", "message truncated"},
    {SIPSESS_EURI, "SIPSESS_EURI", "malformed URI"},
    {SIPSESS_ECSEQ, "SIPSESS_ECSEQ", "malformed or mismatched CSeq"},
    {SIPSESS_EMISSING, "SIPSESS_EMISSING", "mandatory header field missing"},
    {SIPSESS_EDUPLICATE, "SIPSESS_EDUPLICATE", "single-valued header field repeated"},
    {SIPSESS_ERANGE, "SIPSESS_ERANGE", "number out of range"},
    {SIPSESS_ESTATUS, "SIPSESS_ESTATUS", "invalid status code"},
    {SIPSESS_EFRAMING, "SIPSESS_EFRAMING", "stream framing lost"},
};

static const struct errdesc *find(int code)
{
    for (size_t i = 0; i < sizeof g_errs / sizeof g_errs[0]; i++)
        if (g_errs[i].code == code)
            return &g_errs[i];
    return NULL;
}

SIPSESS_API const char *sipsess_strerror(int err)
{
    const struct errdesc *d = find(err);
    return d ? d->text : "unknown error";
}

SIPSESS_API const char *sipsess_errname(int err)
{
    const struct errdesc *d = find(err);
    return d ? d->name : "SIPSESS_E?";
}
