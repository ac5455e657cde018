/* SPDX-License-Identifier: Apache-2.0 */
/*
 * mem.c - the per-session allocator wrapper (session_int.h "mem.c"): every
 * session allocation goes through the caller's nnrp_mem (libc when NULL) and
 * is counted against settings.max_memory_bytes. A 16-byte header in front of
 * each block records its size, so free and realloc need no size argument.
 */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "session_int.h"

/* Header in front of every block: the block's user size (a size_t, read and
 * written with memcpy). 16 bytes keep the returned pointer aligned like the
 * allocator's own result on every ABI we target. */
#define SMEM_HDR ((size_t)16)

_Static_assert(SMEM_HDR >= sizeof(size_t), "header holds a size_t");
_Static_assert(SMEM_HDR % _Alignof(max_align_t) == 0,
               "header keeps max_align_t alignment");

static void *libc_malloc(size_t size, void *user) {
  (void)user;
  return malloc(size);
}

static void *libc_realloc(void *ptr, size_t size, void *user) {
  (void)user;
  return realloc(ptr, size);
}

static void libc_free(void *ptr, void *user) {
  (void)user;
  free(ptr);
}

void nnrp__smem_init(nnrp_smem *m, const nnrp_mem *mem, uint64_t limit) {
  if (mem != NULL) {
    m->mem = *mem;
  } else {
    m->mem.user = NULL;
    m->mem.malloc_fn = libc_malloc;
    m->mem.realloc_fn = libc_realloc;
    m->mem.free_fn = libc_free;
  }
  m->used = 0;
  m->limit = limit;
}

/* 1 when `more` additional bytes stay within the limit. */
static int smem_fits(const nnrp_smem *m, uint64_t more) {
  if (m->limit == 0)
    return 1;
  return m->used <= m->limit && more <= m->limit - m->used;
}

static size_t hdr_get(const unsigned char *base) {
  size_t n;
  memcpy(&n, base, sizeof(n));
  return n;
}

static void hdr_put(unsigned char *base, size_t n) {
  memcpy(base, &n, sizeof(n));
}

/* The accounted footprint of a block of n user bytes (header included). */
static uint64_t smem_cost(size_t n) { return (uint64_t)n + SMEM_HDR; }

void *nnrp__smalloc(nnrp_smem *m, size_t n) {
  if (n > SIZE_MAX - SMEM_HDR || !smem_fits(m, smem_cost(n)))
    return NULL;
  unsigned char *base = m->mem.malloc_fn(n + SMEM_HDR, m->mem.user);
  if (base == NULL)
    return NULL;
  hdr_put(base, n);
  m->used += smem_cost(n);
  return base + SMEM_HDR;
}

void *nnrp__scalloc(nnrp_smem *m, size_t n) {
  void *p = nnrp__smalloc(m, n);
  if (p != NULL && n != 0)
    memset(p, 0, n);
  return p;
}

void *nnrp__srealloc(nnrp_smem *m, void *p, size_t n) {
  if (p == NULL)
    return nnrp__smalloc(m, n);
  if (n > SIZE_MAX - SMEM_HDR)
    return NULL;
  unsigned char *base = (unsigned char *)p - SMEM_HDR;
  size_t old = hdr_get(base);
  if (n > old && !smem_fits(m, (uint64_t)(n - old)))
    return NULL;
  unsigned char *nb = m->mem.realloc_fn(base, n + SMEM_HDR, m->mem.user);
  if (nb == NULL)
    return NULL; /* the old block stays valid and counted */
  hdr_put(nb, n);
  m->used = m->used - smem_cost(old) + smem_cost(n);
  return nb + SMEM_HDR;
}

void nnrp__sfree(nnrp_smem *m, void *p) {
  if (p == NULL)
    return;
  unsigned char *base = (unsigned char *)p - SMEM_HDR;
  m->used -= smem_cost(hdr_get(base));
  m->mem.free_fn(base, m->mem.user);
}
