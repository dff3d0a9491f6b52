/*
 * Read every header value of a parsed message through the typed accessors
 * that belong to its header id (Via sent-by and parameters, name-addr URI
 * and tag, CSeq number and method, digest parameters, ...). Used by the
 * parse benchmark, so that no header is skipped, and by the fuzz targets,
 * so that every accessor runs on hostile input. Public API only.
 */
#ifndef SIPSESS_BENCH_MSG_WALK_H
#define SIPSESS_BENCH_MSG_WALK_H

#include <stdint.h>

#include <sipsess/sipsess.h>

/** Walk the start line, every header and the body; returns a checksum of
 *  what was read, so a compiler cannot drop the calls. */
uint64_t msg_walk(const sipsess_msg *msg);

/** Read every part of a URI; returns a checksum. NULL gives 0. */
uint64_t msg_walk_uri(const sipsess_uri *uri);

#endif
