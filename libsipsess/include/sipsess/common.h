/*
 * libsipsess — common definitions: export macro, error codes, string views,
 * allocator hook and version query.
 *
 * Threading: libsipsess starts no threads. Every object belongs to the thread
 * that created it; the functions of this header are the exception and may be
 * called from any thread (sipsess_set_allocator only before first use).
 */
#ifndef SIPSESS_COMMON_H
#define SIPSESS_COMMON_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(SIPSESS_BUILDING) && defined(__GNUC__)
#define SIPSESS_API __attribute__((visibility("default")))
#else
#define SIPSESS_API
#endif

/**
 * Error codes. Every fallible function returns 0 (SIPSESS_OK) or one of
 * these negative values. New codes are only ever appended, so a value keeps
 * its meaning across releases of the same SONAME.
 */
typedef enum sipsess_err {
    SIPSESS_OK = 0,
    SIPSESS_EINVAL = -1,        /**< bad argument (NULL, out of range) */
    SIPSESS_ENOMEM = -2,        /**< allocation failed */
    SIPSESS_EAGAIN = -3,        /**< need more input / would block */
    SIPSESS_ENOSPC = -4,        /**< caller's buffer too small */
    SIPSESS_EBUSY = -5,         /**< operation not allowed now */
    SIPSESS_ENOTFOUND = -6,     /**< no such item */
    SIPSESS_ESTATE = -7,        /**< object in the wrong state */
    SIPSESS_ECALLBACK = -8,     /**< a user callback failed */
    SIPSESS_ETIMEDOUT = -9,     /**< no response in time (Timer B/F, ...) */
    SIPSESS_ETRANSPORT = -10,   /**< the transport could not deliver (refused, reset, unreachable) */
    SIPSESS_ELIMIT = -11,       /**< a configured limit was reached */
    /* syntax layer */
    SIPSESS_ETOOBIG = -20,      /**< message larger than the size limit */
    SIPSESS_ETOOMANYHDRS = -21, /**< more header fields than the limit */
    SIPSESS_EHDRTOOLONG = -22,  /**< a header field longer than the limit */
    SIPSESS_EURITOOLONG = -23,  /**< a URI longer than the limit */
    SIPSESS_ETOOMANYVIA = -24,  /**< more Via values than the limit */
    SIPSESS_ESTARTLINE = -25,   /**< malformed Request-Line / Status-Line */
    SIPSESS_EVERSION = -26,     /**< SIP-Version other than SIP/2.0 */
    SIPSESS_EHEADER = -27,      /**< malformed header field */
    SIPSESS_ECLEN = -28,        /**< missing/invalid/conflicting Content-Length */
    SIPSESS_ETRUNCATED = -29,   /**< message ends before its header section or body does */
    SIPSESS_EURI = -30,         /**< malformed URI */
    SIPSESS_ECSEQ = -31,        /**< malformed CSeq, or its method differs from the request's */
    SIPSESS_EMISSING = -32,     /**< a mandatory header field is missing */
    SIPSESS_EDUPLICATE = -33,   /**< a single-valued header field appears more than once */
    SIPSESS_ERANGE = -34,       /**< a number is out of its allowed range */
    SIPSESS_ESTATUS = -35,      /**< status code outside 100..699 */
    SIPSESS_EFRAMING = -36,     /**< stream framing lost; close the connection */
} sipsess_err;

/** Human-readable text for an error code. Never returns NULL; unknown codes
 *  get a generic text. The string is static. */
SIPSESS_API const char *sipsess_strerror(int err);

/** Name of the enum constant ("SIPSESS_EINVAL"); never NULL, static. */
SIPSESS_API const char *sipsess_errname(int err);

/**
 * A view of bytes owned by someone else: `p` points at `len` bytes, not NUL
 * terminated. Views returned by the library say in their function's comment
 * how long they stay valid. An absent value is {NULL, 0}; an empty one is a
 * non-NULL pointer with len 0.
 */
typedef struct sipsess_str {
    const char *p;
    size_t len;
} sipsess_str;

/**
 * Replace the allocator used for every allocation the library makes.
 * Allowed only before the library's first allocation (returns SIPSESS_EBUSY
 * after), so no block is ever freed by an allocator that did not make it.
 * The three functions are given together (SIPSESS_EINVAL otherwise); `ud`
 * is passed to every call. Passing all NULL restores the libc allocator
 * (same restriction). Sizes passed are never 0.
 */
typedef void *(*sipsess_malloc_fn)(size_t size, void *ud);
typedef void *(*sipsess_realloc_fn)(void *ptr, size_t size, void *ud);
typedef void (*sipsess_free_fn)(void *ptr, void *ud);
SIPSESS_API int sipsess_set_allocator(sipsess_malloc_fn malloc_fn,
                                      sipsess_realloc_fn realloc_fn,
                                      sipsess_free_fn free_fn, void *ud);

/** Release version of the loaded library, "MAJOR.MINOR.PATCH". Static. */
SIPSESS_API const char *sipsess_version(void);

/** Same as a number: MAJOR*10000 + MINOR*100 + PATCH. Compare with
 *  SIPSESS_VERSION_NUMBER from <sipsess/version.h> to detect a mismatch
 *  between headers and the loaded library. */
SIPSESS_API unsigned sipsess_version_number(void);

#ifdef __cplusplus
}
#endif
#endif
