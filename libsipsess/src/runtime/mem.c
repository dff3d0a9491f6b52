/* Allocator hook: libc by default, replaceable before the first allocation. */
#include <stdlib.h>
#include <string.h>

#include "sipsess/common.h"
#include "mem.h"

static sipsess_malloc_fn g_malloc;
static sipsess_realloc_fn g_realloc;
static sipsess_free_fn g_free;
static void *g_ud;
/* Set on the first allocation; written with a relaxed atomic store so UAs
 * on different threads may allocate concurrently without a data race. */
static int g_used;

SIPSESS_API int sipsess_set_allocator(sipsess_malloc_fn malloc_fn,
                                      sipsess_realloc_fn realloc_fn,
                                      sipsess_free_fn free_fn, void *ud)
{
    if (__atomic_load_n(&g_used, __ATOMIC_ACQUIRE))
        return SIPSESS_EBUSY;
    /* All three or none: a block must always go back to its own allocator. */
    if ((malloc_fn == NULL) != (free_fn == NULL) || (malloc_fn == NULL) != (realloc_fn == NULL))
        return SIPSESS_EINVAL;
    g_malloc = malloc_fn;
    g_realloc = realloc_fn;
    g_free = free_fn;
    g_ud = ud;
    return SIPSESS_OK;
}

static inline void mark_used(void)
{
    if (!__atomic_load_n(&g_used, __ATOMIC_RELAXED))
        __atomic_store_n(&g_used, 1, __ATOMIC_RELEASE);
}

void *sipsess__malloc(size_t size)
{
    mark_used();
    if (size == 0)
        size = 1;
    return g_malloc ? g_malloc(size, g_ud) : malloc(size);
}

void *sipsess__calloc(size_t n, size_t size)
{
    if (size && n > (size_t)-1 / size)
        return NULL;
    void *p = sipsess__malloc(n * size);
    if (p)
        memset(p, 0, n * size);
    return p;
}

void *sipsess__realloc(void *ptr, size_t size)
{
    mark_used();
    if (size == 0)
        size = 1;
    return g_realloc ? g_realloc(ptr, size, g_ud) : realloc(ptr, size);
}

void sipsess__free(void *ptr)
{
    if (!ptr)
        return;
    if (g_free)
        g_free(ptr, g_ud);
    else
        free(ptr);
}
