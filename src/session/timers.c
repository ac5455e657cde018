/* SPDX-License-Identifier: Apache-2.0 */
/*
 * timers.c - binary min-heap of frame timers (session_int.h "timers.c"),
 * ordered by expiry time, ties by lower frame id so expiry order is
 * deterministic. Stale timers (generation mismatch) are skipped by callers.
 */
#include "session_int.h"

#define THEAP_INITIAL_CAP 16u

void nnrp__theap_init(nnrp_theap *h) {
  h->v = NULL;
  h->n = 0;
  h->cap = 0;
}

void nnrp__theap_free(nnrp_theap *h, nnrp_smem *m) {
  nnrp__sfree(m, h->v);
  nnrp__theap_init(h);
}

/* 1 when a expires strictly before b. */
static int timer_less(const nnrp_timer *a, const nnrp_timer *b) {
  if (a->at != b->at)
    return a->at < b->at;
  return a->frame_id < b->frame_id;
}

static int theap_grow(nnrp_theap *h, nnrp_smem *m) {
  uint64_t want = h->cap == 0 ? THEAP_INITIAL_CAP : (uint64_t)h->cap * 2;
  if (want > UINT32_MAX)
    want = UINT32_MAX;
  if (want <= h->cap || want > SIZE_MAX / sizeof(nnrp_timer))
    return NNRP_ERR_NOMEM;
  nnrp_timer *v = nnrp__srealloc(m, h->v, (size_t)want * sizeof(nnrp_timer));
  if (v == NULL)
    return NNRP_ERR_NOMEM;
  h->v = v;
  h->cap = (uint32_t)want;
  return 0;
}

int nnrp__theap_push(nnrp_theap *h, nnrp_smem *m, nnrp_timer t) {
  if (h->n == h->cap) {
    int rc = theap_grow(h, m);
    if (rc != 0)
      return rc;
  }
  uint32_t i = h->n++;
  while (i > 0) {
    uint32_t parent = (i - 1) / 2;
    if (!timer_less(&t, &h->v[parent]))
      break;
    h->v[i] = h->v[parent];
    i = parent;
  }
  h->v[i] = t;
  return 0;
}

const nnrp_timer *nnrp__theap_top(const nnrp_theap *h) {
  return h->n != 0 ? &h->v[0] : NULL;
}

void nnrp__theap_pop(nnrp_theap *h) {
  if (h->n == 0)
    return;
  nnrp_timer last = h->v[--h->n];
  uint32_t n = h->n;
  uint32_t i = 0;
  for (;;) {
    uint64_t c = (uint64_t)i * 2 + 1;
    if (c >= n)
      break;
    uint32_t child = (uint32_t)c;
    if (child + 1 < n && timer_less(&h->v[child + 1], &h->v[child]))
      child++;
    if (!timer_less(&h->v[child], &last))
      break;
    h->v[i] = h->v[child];
    i = child;
  }
  if (n != 0)
    h->v[i] = last;
}
