/* SPDX-License-Identifier: Apache-2.0 */
/*
 * bpool.c - bounded free lists of heap blocks in size classes (bpool.h).
 * A request is rounded up to its class (at most 25 % more than asked for
 * past 64 B), so a block freed by one packet fits the next packet of about
 * the same size.
 */
#include <stdlib.h>
#include <string.h>

#include "runtime/bpool.h"

#define MIN_SHIFT 6u /* 64 B */
#define MIN_BLOCK ((size_t)1 << MIN_SHIFT)

_Static_assert(NNRP__BPOOL_MAX_BLOCK == (size_t)1 << 21, "class table");
_Static_assert(NNRP__BPOOL_CLASSES == (21u - MIN_SHIFT) * 4u + 1u,
               "one class per quarter power of two, 64 B .. 2 MiB");

static unsigned top_bit(size_t x) { /* x > 0 */
  unsigned k = 0;
  while (x >>= 1)
    k++;
  return k;
}

/* The class of `need` (<= NNRP__BPOOL_MAX_BLOCK) and its block size. */
static unsigned class_of(size_t need, size_t *size) {
  if (need <= MIN_BLOCK) {
    *size = MIN_BLOCK;
    return 0;
  }
  unsigned k = top_bit(need - 1); /* 2^k < need <= 2^(k+1), k >= 6 */
  size_t q = (size_t)1 << (k - 2);
  size_t n = (need + q - 1) / q; /* 5 .. 8 quarters of 2^k */
  *size = n * q;
  return (k - MIN_SHIFT) * 4u + (unsigned)n - 4u;
}

void nnrp__bpool_init(nnrp__bpool *p, uint32_t min_keep, uint64_t max_bytes) {
  memset(p, 0, sizeof(*p));
  p->min_keep = min_keep;
  p->max_bytes = max_bytes;
}

static void *next_of(void *blk) {
  void *n;
  memcpy(&n, blk, sizeof(n));
  return n;
}

void *nnrp__bpool_get(nnrp__bpool *p, size_t need, size_t *cap) {
  void *blk;
  if (need > NNRP__BPOOL_MAX_BLOCK) {
    blk = malloc(need);
    *cap = need;
  } else {
    size_t size;
    unsigned c = class_of(need, &size);
    blk = p->free[c];
    if (blk != NULL) {
      p->free[c] = next_of(blk);
      p->count--;
      p->bytes -= size;
    } else {
      blk = malloc(size);
    }
    *cap = size;
  }
  if (blk != NULL && ++p->in_use > p->peak)
    p->peak = p->in_use;
  return blk;
}

void nnrp__bpool_put(nnrp__bpool *p, void *blk, size_t cap) {
  if (blk == NULL)
    return;
  p->in_use--;
  uint32_t keep = p->peak > p->min_keep ? p->peak : p->min_keep;
  if (cap > NNRP__BPOOL_MAX_BLOCK || p->count >= keep ||
      p->bytes + cap > p->max_bytes) {
    free(blk);
    return;
  }
  size_t size;
  unsigned c = class_of(cap, &size); /* cap is a class size: size == cap */
  memcpy(blk, &p->free[c], sizeof(void *));
  p->free[c] = blk;
  p->count++;
  p->bytes += size;
}

void nnrp__bpool_forget(nnrp__bpool *p) { p->in_use--; }

void nnrp__bpool_drain(nnrp__bpool *p) {
  for (unsigned c = 0; c < NNRP__BPOOL_CLASSES; c++) {
    while (p->free[c] != NULL) {
      void *blk = p->free[c];
      p->free[c] = next_of(blk);
      free(blk);
    }
  }
  p->count = 0;
  p->bytes = 0;
}
