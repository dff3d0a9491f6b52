/*
 * Private logging: every layer logs through the UA's sink. Formatting only
 * happens when the level passes, so disabled logging costs one branch.
 * Never installed.
 */
#ifndef SIPSESS__LOG_H
#define SIPSESS__LOG_H

#include "sipsess/ua.h"

typedef struct sipsess__log {
    sipsess_log_fn fn;
    void *ud;
    int level; /* sipsess_log_level */
} sipsess__log;

void sipsess__log_write(const sipsess__log *lg, sipsess_log_level lvl, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#define SIPSESS__LOG(lg, lvl, ...)                                                           \
    do {                                                                                     \
        const sipsess__log *lg_ = (lg);                                                      \
        if (lg_ && lg_->fn && (int)(lvl) <= lg_->level)                                      \
            sipsess__log_write(lg_, (lvl), __VA_ARGS__);                                     \
    } while (0)

#endif
