/* SPDX-License-Identifier: Apache-2.0 */
/*
 * memcount.c - a counting allocator handed to every session the runtime
 * creates, so the memory a session holds (its queues, tables, cache) can
 * be reported (nnrp_server_session_flow_stats(), client flow stats). A
 * 16-byte header in front of each block records its size.
 */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/runtime_int.h"

#define HDR ((size_t)16)

_Static_assert(HDR >= sizeof(size_t), "header holds a size_t");
_Static_assert(HDR % _Alignof(max_align_t) == 0,
               "header keeps max_align_t alignment");

static size_t hdr_get(const unsigned char *base) {
  size_t n;
  memcpy(&n, base, sizeof(n));
  return n;
}

static void hdr_put(unsigned char *base, size_t n) {
  memcpy(base, &n, sizeof(n));
}

static void grow(nnrp__memcount *mc, size_t n) {
  mc->used += (uint64_t)n + HDR;
  if (mc->used > mc->peak)
    mc->peak = mc->used;
}

static void *mc_malloc(size_t size, void *user) {
  if (size > SIZE_MAX - HDR)
    return NULL;
  unsigned char *base = malloc(size + HDR);
  if (base == NULL)
    return NULL;
  hdr_put(base, size);
  grow(user, size);
  return base + HDR;
}

static void mc_free(void *ptr, void *user) {
  if (ptr == NULL)
    return;
  nnrp__memcount *mc = user;
  unsigned char *base = (unsigned char *)ptr - HDR;
  mc->used -= (uint64_t)hdr_get(base) + HDR;
  free(base);
}

static void *mc_realloc(void *ptr, size_t size, void *user) {
  if (ptr == NULL)
    return mc_malloc(size, user);
  if (size > SIZE_MAX - HDR)
    return NULL;
  nnrp__memcount *mc = user;
  unsigned char *base = (unsigned char *)ptr - HDR;
  size_t old = hdr_get(base);
  unsigned char *nb = realloc(base, size + HDR);
  if (nb == NULL)
    return NULL; /* the old block stays valid and counted */
  hdr_put(nb, size);
  mc->used -= (uint64_t)old + HDR;
  grow(mc, size);
  return nb + HDR;
}

void nnrp__memcount_init(nnrp__memcount *mc, nnrp_mem *mem) {
  mc->used = 0;
  mc->peak = 0;
  mem->user = mc;
  mem->malloc_fn = mc_malloc;
  mem->realloc_fn = mc_realloc;
  mem->free_fn = mc_free;
}
