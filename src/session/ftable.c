/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ftable.c - the frame table (session_int.h "ftable.c"): frame_id -> frame
 * record, open addressing with linear probing over a power-of-two array,
 * at most 50 % full, backward-shift deletion (no tombstones). Bounded by
 * settings.max_tracked_frames (session.md: every peer quantity is limited).
 */
#include <string.h>

#include "session_int.h"

#define FT_INITIAL_CAP 16u
/* Largest power of two a uint32_t capacity can hold. */
#define FT_MAX_CAP 0x80000000u

void nnrp__ft_init(nnrp_ftable *t, uint32_t limit) {
  memset(t, 0, sizeof(*t));
  t->limit = limit;
}

void nnrp__ft_free(nnrp_ftable *t, nnrp_smem *m) {
  nnrp__sfree(m, t->slots);
  t->slots = NULL;
  t->cap = 0;
  t->count = 0;
}

/* murmur3 finaliser over the seeded id: spreads sequential ids and makes
 * clustering depend on the seed. */
static uint32_t ft_hash(const nnrp_ftable *t, uint32_t id) {
  uint32_t h = id ^ t->seed;
  h ^= h >> 16;
  h *= 0x85ebca6bu;
  h ^= h >> 13;
  h *= 0xc2b2ae35u;
  h ^= h >> 16;
  return h;
}

/* Index of id's record or of the empty slot ending its probe sequence.
 * Requires cap != 0; an empty slot always exists (load <= 50 %). */
static uint32_t ft_probe(const nnrp_ftable *t, uint32_t id) {
  uint32_t mask = t->cap - 1;
  uint32_t i = ft_hash(t, id) & mask;
  while (t->slots[i].id != 0 && t->slots[i].id != id)
    i = (i + 1) & mask;
  return i;
}

nnrp_frame *nnrp__ft_get(nnrp_ftable *t, uint32_t id) {
  if (id == 0 || t->count == 0)
    return NULL;
  nnrp_frame *f = &t->slots[ft_probe(t, id)];
  return f->id == id ? f : NULL;
}

/* Smallest power of two >= 2 * limit (room for limit records at 50 %). */
static uint64_t ft_cap_for(uint32_t limit) {
  uint64_t c = 2;
  while (c < (uint64_t)limit * 2)
    c *= 2;
  return c;
}

static int ft_grow(nnrp_ftable *t, nnrp_smem *m) {
  uint64_t want = t->cap == 0 ? FT_INITIAL_CAP : (uint64_t)t->cap * 2;
  uint64_t most = ft_cap_for(t->limit);
  if (want > most)
    want = most;
  if (want > FT_MAX_CAP || want <= t->cap ||
      want > SIZE_MAX / sizeof(nnrp_frame))
    return NNRP_ERR_NOMEM;
  nnrp_ftable nt = *t;
  nt.cap = (uint32_t)want;
  nt.slots = nnrp__scalloc(m, (size_t)want * sizeof(nnrp_frame));
  if (nt.slots == NULL)
    return NNRP_ERR_NOMEM;
  for (uint32_t i = 0; i < t->cap; i++)
    if (t->slots[i].id != 0)
      nt.slots[ft_probe(&nt, t->slots[i].id)] = t->slots[i];
  nnrp__sfree(m, t->slots);
  *t = nt;
  return 0;
}

int nnrp__ft_add(nnrp_ftable *t, nnrp_smem *m, uint32_t id, nnrp_frame **out) {
  if (id == 0 || nnrp__ft_get(t, id) != NULL)
    return NNRP_ERR_INVALID_ARGUMENT;
  if (t->count >= t->limit)
    return NNRP_ERR_LIMIT_EXCEEDED;
  if (((uint64_t)t->count + 1) * 2 > t->cap) {
    int rc = ft_grow(t, m);
    if (rc != 0)
      return rc;
  }
  nnrp_frame *f = &t->slots[ft_probe(t, id)];
  memset(f, 0, sizeof(*f));
  f->id = id;
  if (++t->gen == 0) /* generation 0 is never handed out */
    t->gen = 1;
  f->gen = t->gen;
  t->count++;
  if (out != NULL)
    *out = f;
  return 0;
}

void nnrp__ft_del(nnrp_ftable *t, uint32_t id) {
  if (id == 0 || t->count == 0)
    return;
  uint32_t mask = t->cap - 1;
  uint32_t i = ft_probe(t, id);
  if (t->slots[i].id != id)
    return;
  /* Backward shift: pull each later record of the cluster into the hole
   * unless its home lies cyclically in (hole, its slot]. */
  for (uint32_t j = (i + 1) & mask; t->slots[j].id != 0; j = (j + 1) & mask) {
    uint32_t home = ft_hash(t, t->slots[j].id) & mask;
    if (((j - home) & mask) >= ((j - i) & mask)) {
      t->slots[i] = t->slots[j];
      i = j;
    }
  }
  memset(&t->slots[i], 0, sizeof(t->slots[i]));
  t->count--;
}

/* Scans the array once, starting after an empty slot so no cluster wraps
 * around the scan's end. Deleting a record only moves records of its own
 * cluster backwards, towards the deleted slot: deleting the visited record
 * (or a later one) never moves an unvisited record before the scan
 * position. When the visited slot changed, it is examined again. */
void nnrp__ft_each(nnrp_ftable *t, void (*fn)(nnrp_frame *f, void *ctx),
                   void *ctx) {
  if (t->count == 0)
    return;
  uint32_t mask = t->cap - 1;
  uint32_t start = 0;
  while (t->slots[start].id != 0)
    start = (start + 1) & mask;
  uint32_t n = 0;
  while (n < t->cap) {
    uint32_t pos = (start + 1 + n) & mask;
    uint32_t id = t->slots[pos].id;
    if (id == 0) {
      n++;
      continue;
    }
    fn(&t->slots[pos], ctx);
    if (t->slots[pos].id == id)
      n++;
  }
}
