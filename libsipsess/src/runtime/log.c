/* Log formatting; reached only when a sink wants the level. */
#include <stdarg.h>
#include <stdio.h>

#include "log.h"

void sipsess__log_write(const sipsess__log *lg, sipsess_log_level lvl, const char *fmt, ...)
{
    char line[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    lg->fn(lvl, line, lg->ud);
}
