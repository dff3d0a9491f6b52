/*
 * Private allocation entry points. Every allocation of the library goes
 * through these so the allocator hook (sipsess_set_allocator) sees all of
 * them. Never installed.
 */
#ifndef SIPSESS__MEM_H
#define SIPSESS__MEM_H

#include <stddef.h>

void *sipsess__malloc(size_t size);
void *sipsess__calloc(size_t n, size_t size);
void *sipsess__realloc(void *ptr, size_t size);
void sipsess__free(void *ptr);

#endif
