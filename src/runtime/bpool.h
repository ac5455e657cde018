/* SPDX-License-Identifier: Apache-2.0 */
/*
 * bpool.h - a bounded free list of heap blocks in size classes (four per
 * power of two, from 64 B to 2 MiB), used for the runtime's per-packet
 * records: held submits (held.c) and client results and frame records
 * (router.c). Steady traffic then reuses blocks instead of going through
 * malloc/free (and the page faults of a heap that glibc trims and grows
 * again). The pool keeps at most max(min_keep, most blocks ever in use at
 * once) blocks and max_bytes bytes, so it follows the traffic's window and
 * stays bounded by the limits that bound that window.
 */
#ifndef NNRP_BPOOL_H
#define NNRP_BPOOL_H

#include <stddef.h>
#include <stdint.h>

/* Largest block kept; larger ones are malloc'd and freed each time. */
#define NNRP__BPOOL_MAX_BLOCK ((size_t)2 << 20)
/* Classes: 64 B, then 4 per power of two up to NNRP__BPOOL_MAX_BLOCK. */
#define NNRP__BPOOL_CLASSES 61u

typedef struct nnrp__bpool {
  void *free[NNRP__BPOOL_CLASSES]; /* linked through each block's start */
  uint32_t count;                  /* blocks in the free lists */
  uint32_t in_use;                 /* blocks handed out, not returned */
  uint32_t peak;                   /* most in_use ever */
  uint32_t min_keep;
  uint64_t bytes; /* bytes in the free lists */
  uint64_t max_bytes;
} nnrp__bpool;

void nnrp__bpool_init(nnrp__bpool *p, uint32_t min_keep, uint64_t max_bytes);
/* A block of at least `need` bytes (its usable size in *cap): recycled, or
 * malloc'd. @return NULL when out of memory. */
void *nnrp__bpool_get(nnrp__bpool *p, size_t need, size_t *cap);
/* Returns a block from nnrp__bpool_get (cap as returned): kept for reuse
 * or freed. */
void nnrp__bpool_put(nnrp__bpool *p, void *blk, size_t cap);
/* A block handed out will be freed without the pool (it outlives it). */
void nnrp__bpool_forget(nnrp__bpool *p);
/* Frees every kept block (the pool stays usable). */
void nnrp__bpool_drain(nnrp__bpool *p);

#endif /* NNRP_BPOOL_H */
