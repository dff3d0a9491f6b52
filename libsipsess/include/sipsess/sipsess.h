/*
 * libsipsess — umbrella header. Include this one; the per-area headers
 * can also be included on their own.
 */
#ifndef SIPSESS_SIPSESS_H
#define SIPSESS_SIPSESS_H

#include "common.h"
#include "version.h"
#include "uri.h"
#include "msg.h"
#include "ua.h"
#include "session.h"

#endif
