/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cache_store.c - the bounded object store of cache_store.h (session.md
 * §9.2-§9.4, D16): a seeded chained hash index, three intrusive lists (LRU,
 * LOCKED, DETACHED) for O(1) touch and eviction, and an indexed min-heap for
 * TTL expiry. Every allocation is bounded by the quotas: object bytes by
 * max_bytes, entries (and the index and heap arrays) by max_entries.
 */
#include <string.h>

#include "cache_store.h"

#define HEAP_NONE UINT32_MAX
#define BUCKETS_MIN 16u
#define BUCKETS_MAX (1u << 20) /* longer chains beyond a million entries */

/* ---- lists ------------------------------------------------------------- */

static nnrp_clist *list_of(nnrp_cstore *cs, const nnrp_centry *e) {
  switch (e->where) {
  case NNRP_CS_LRU:
    return &cs->lru;
  case NNRP_CS_LOCKED:
    return &cs->locked;
  default:
    return &cs->detached;
  }
}

static void list_push(nnrp_clist *l, nnrp_centry *e) {
  e->next = NULL;
  e->prev = l->tail;
  if (l->tail)
    l->tail->next = e;
  else
    l->head = e;
  l->tail = e;
  l->n++;
  l->bytes += e->len;
}

static void list_unlink(nnrp_clist *l, nnrp_centry *e) {
  if (e->prev)
    e->prev->next = e->next;
  else
    l->head = e->next;
  if (e->next)
    e->next->prev = e->prev;
  else
    l->tail = e->prev;
  e->prev = e->next = NULL;
  l->n--;
  l->bytes -= e->len;
}

/* Moves e to the tail (most recent end) of the list `where`. */
static void list_move(nnrp_cstore *cs, nnrp_centry *e, uint8_t where) {
  list_unlink(list_of(cs, e), e);
  e->where = where;
  list_push(list_of(cs, e), e);
}

/* ---- hash index -------------------------------------------------------- */

static uint32_t khash(uint32_t seed, uint32_t ns, uint32_t hi, uint32_t lo) {
  uint64_t x = ((uint64_t)hi << 32 | lo) ^ (uint64_t)ns * 0x9E3779B97F4A7C15ull;
  x ^= (uint64_t)seed * 0xD6E8FEB86659FD93ull;
  x ^= x >> 32;
  x *= 0xD6E8FEB86659FD93ull;
  x ^= x >> 32;
  x *= 0xD6E8FEB86659FD93ull;
  x ^= x >> 32;
  return (uint32_t)x;
}

static nnrp_centry **bucket_of(const nnrp_cstore *cs, uint32_t ns,
                               uint32_t hi, uint32_t lo) {
  return &cs->buckets[khash(cs->seed, ns, hi, lo) & (cs->nbuckets - 1u)];
}

nnrp_centry *nnrp__cs_find(const nnrp_cstore *cs, uint32_t ns, uint32_t hi,
                           uint32_t lo) {
  if (cs->nbuckets == 0)
    return NULL;
  for (nnrp_centry *e = *bucket_of(cs, ns, hi, lo); e; e = e->hnext)
    if (e->ns == ns && e->hi == hi && e->lo == lo)
      return e;
  return NULL;
}

static void unhash(nnrp_cstore *cs, nnrp_centry *e) {
  nnrp_centry **pp = bucket_of(cs, e->ns, e->hi, e->lo);
  while (*pp && *pp != e)
    pp = &(*pp)->hnext;
  if (*pp)
    *pp = e->hnext;
  e->hnext = NULL;
}

static void rehash_list(nnrp_cstore *cs, nnrp_clist *l) {
  for (nnrp_centry *e = l->head; e; e = e->next) {
    nnrp_centry **b = bucket_of(cs, e->ns, e->hi, e->lo);
    e->hnext = *b;
    *b = e;
  }
}

/* Grows the bucket array to n (a power of two). NNRP_ERR_NOMEM keeps the
 * old array. */
static int rehash(nnrp_cstore *cs, uint32_t n) {
  nnrp_centry **nb = nnrp__scalloc(cs->mem, (size_t)n * sizeof(*nb));
  if (nb == NULL)
    return NNRP_ERR_NOMEM;
  nnrp__sfree(cs->mem, cs->buckets);
  cs->buckets = nb;
  cs->nbuckets = n;
  rehash_list(cs, &cs->lru);
  rehash_list(cs, &cs->locked);
  return 0;
}

/* ---- expiry heap ------------------------------------------------------- */

static void heap_set(nnrp_cstore *cs, uint32_t i, nnrp_centry *e) {
  cs->heap[i] = e;
  e->heap_idx = i;
}

static void heap_up(nnrp_cstore *cs, uint32_t i) {
  nnrp_centry *e = cs->heap[i];
  while (i > 0) {
    uint32_t p = (i - 1) / 2;
    if (cs->heap[p]->expiry <= e->expiry)
      break;
    heap_set(cs, i, cs->heap[p]);
    i = p;
  }
  heap_set(cs, i, e);
}

static void heap_down(nnrp_cstore *cs, uint32_t i) {
  nnrp_centry *e = cs->heap[i];
  for (;;) {
    uint32_t c = 2 * i + 1;
    if (c >= cs->heap_n)
      break;
    if (c + 1 < cs->heap_n && cs->heap[c + 1]->expiry < cs->heap[c]->expiry)
      c++;
    if (e->expiry <= cs->heap[c]->expiry)
      break;
    heap_set(cs, i, cs->heap[c]);
    i = c;
  }
  heap_set(cs, i, e);
}

static void heap_remove(nnrp_cstore *cs, nnrp_centry *e) {
  uint32_t i = e->heap_idx;
  if (i == HEAP_NONE)
    return;
  e->heap_idx = HEAP_NONE;
  nnrp_centry *last = cs->heap[--cs->heap_n];
  if (i == cs->heap_n)
    return;
  heap_set(cs, i, last);
  heap_up(cs, i);
  heap_down(cs, last->heap_idx);
}

/* ---- lifecycle --------------------------------------------------------- */

void nnrp__cs_init(nnrp_cstore *cs, nnrp_smem *mem,
                   const nnrp_cstore_limits *lim, uint32_t seed) {
  memset(cs, 0, sizeof(*cs));
  cs->mem = mem;
  cs->lim = *lim;
  cs->seed = seed;
}

static void free_list(nnrp_cstore *cs, nnrp_clist *l) {
  nnrp_centry *e = l->head;
  while (e) {
    nnrp_centry *next = e->next;
    nnrp__sfree(cs->mem, e);
    e = next;
  }
  memset(l, 0, sizeof(*l));
}

void nnrp__cs_free(nnrp_cstore *cs) {
  free_list(cs, &cs->lru);
  free_list(cs, &cs->locked);
  free_list(cs, &cs->detached);
  nnrp__sfree(cs->mem, cs->buckets);
  nnrp__sfree(cs->mem, cs->heap);
  cs->buckets = NULL;
  cs->heap = NULL;
  cs->nbuckets = cs->heap_n = cs->heap_cap = 0;
  cs->count = cs->pinned_n = 0;
  cs->bytes = cs->pinned_bytes = 0;
}

int nnrp__cs_enabled(const nnrp_cstore *cs) {
  return cs->lim.max_entries != 0 && cs->lim.max_bytes != 0 &&
         cs->lim.kinds != 0;
}

uint32_t nnrp__cs_max_object(const nnrp_cstore *cs) {
  if (!nnrp__cs_enabled(cs))
    return 0;
  uint32_t m = cs->lim.max_object_bytes;
  return (m == 0 || m > cs->lim.max_bytes) ? cs->lim.max_bytes : m;
}

/* ---- removal, holds ---------------------------------------------------- */

void nnrp__cs_remove(nnrp_cstore *cs, nnrp_centry *e, unsigned reason) {
  if (e->where == NNRP_CS_DETACHED)
    return; /* already out of the index */
  unhash(cs, e);
  heap_remove(cs, e);
  list_unlink(list_of(cs, e), e);
  cs->count--;
  cs->bytes -= e->len;
  if (e->pinned) {
    cs->pinned_n--;
    cs->pinned_bytes -= e->len;
  }
  if (reason == NNRP_CS_GONE_EVICTED)
    cs->evicted++;
  else if (reason == NNRP_CS_GONE_EXPIRED)
    cs->expired++;
  if (reason != 0 && cs->gone)
    cs->gone(cs->gone_ctx, e, reason);
  if (e->refs != 0) {
    e->where = NNRP_CS_DETACHED; /* frames keep what they resolved */
    list_push(&cs->detached, e);
  } else {
    nnrp__sfree(cs->mem, e);
  }
}

void nnrp__cs_hold(nnrp_cstore *cs, nnrp_centry *e) {
  if (e->refs++ == 0 && e->where == NNRP_CS_LRU)
    list_move(cs, e, NNRP_CS_LOCKED);
}

void nnrp__cs_release(nnrp_cstore *cs, nnrp_centry *e) {
  if (e->refs == 0 || --e->refs != 0)
    return;
  if (e->where == NNRP_CS_DETACHED) {
    list_unlink(&cs->detached, e);
    nnrp__sfree(cs->mem, e);
  } else if (!e->pinned) {
    list_move(cs, e, NNRP_CS_LRU); /* just used: most recent */
  }
}

void nnrp__cs_touch(nnrp_cstore *cs, nnrp_centry *e) {
  if (e->where == NNRP_CS_LRU)
    list_move(cs, e, NNRP_CS_LRU);
}

/* ---- put --------------------------------------------------------------- */

static uint32_t pow2_at_least(uint32_t n) {
  uint32_t p = BUCKETS_MIN;
  while (p < n && p < BUCKETS_MAX)
    p <<= 1;
  return p;
}

/* Makes the index and (ttl) the heap big enough for one more entry, before
 * anything is changed. Both stay bounded by max_entries. */
static int reserve(nnrp_cstore *cs, int ttl) {
  uint32_t want = cs->count + 1u;
  if (want > cs->lim.max_entries)
    want = cs->lim.max_entries;
  want = pow2_at_least(want);
  if (want > cs->nbuckets && rehash(cs, want) != 0)
    return NNRP_ERR_NOMEM;
  if (ttl && cs->heap_n >= cs->heap_cap && cs->heap_cap < cs->lim.max_entries) {
    uint64_t cap = cs->heap_cap ? (uint64_t)cs->heap_cap * 2 : BUCKETS_MIN;
    if (cap > cs->lim.max_entries)
      cap = cs->lim.max_entries;
    nnrp_centry **h =
        nnrp__srealloc(cs->mem, cs->heap, (size_t)cap * sizeof(*h));
    if (h == NULL)
      return NNRP_ERR_NOMEM;
    cs->heap = h;
    cs->heap_cap = (uint32_t)cap;
  }
  return 0;
}

static int fits(const nnrp_cstore *cs, uint32_t len) {
  return (uint64_t)cs->count + cs->detached.n + 1u <= cs->lim.max_entries &&
         cs->bytes + cs->detached.bytes + len <= cs->lim.max_bytes;
}

/* session.md §9.2 step 6: evict least recently used non-pinned entries
 * (force: then the oldest locked entries no frame holds). */
static int make_room(nnrp_cstore *cs, uint32_t len) {
  while (!fits(cs, len)) {
    nnrp_centry *v = cs->lru.head;
    if (v == NULL && cs->lim.force && cs->locked.head &&
        cs->locked.head->refs == 0)
      v = cs->locked.head;
    if (v == NULL)
      return 0;
    nnrp__cs_remove(cs, v, NNRP_CS_GONE_EVICTED);
  }
  return 1;
}

/* Step 5: what cannot be freed after the put (pinned or held entries other
 * than the old one, detached ones, the old one if a frame holds it) plus
 * the new object must fit. */
static int can_fit(const nnrp_cstore *cs, const nnrp_centry *old,
                   uint32_t len) {
  uint64_t n = (uint64_t)cs->locked.n + cs->detached.n;
  uint64_t b = cs->locked.bytes + cs->detached.bytes;
  if (old && old->where == NNRP_CS_LOCKED && old->refs == 0) {
    n--;
    b -= old->len;
  }
  return n + 1 <= cs->lim.max_entries && b + len <= cs->lim.max_bytes;
}

static void insert(nnrp_cstore *cs, nnrp_centry *e) {
  nnrp_centry **b = bucket_of(cs, e->ns, e->hi, e->lo);
  e->hnext = *b;
  *b = e;
  e->where = e->pinned ? NNRP_CS_LOCKED : NNRP_CS_LRU;
  list_push(list_of(cs, e), e);
  cs->count++;
  cs->bytes += e->len;
  if (e->pinned) {
    cs->pinned_n++;
    cs->pinned_bytes += e->len;
  }
  if (e->expiry && cs->heap_n < cs->heap_cap) {
    cs->heap[cs->heap_n] = e;
    e->heap_idx = cs->heap_n++;
    heap_up(cs, e->heap_idx);
  } /* else (cannot happen, see reserve): found expired on lookup */
}

static nnrp_centry *new_entry(nnrp_cstore *cs, const nnrp_cstore_put *p) {
  size_t extra = cs->lim.keep_bytes ? p->len : 0;
  nnrp_centry *e = nnrp__smalloc(cs->mem, sizeof(*e) + extra);
  if (e == NULL)
    return NULL;
  memset(e, 0, sizeof(*e));
  if (extra) {
    uint8_t *d = (uint8_t *)(e + 1);
    memcpy(d, p->data, extra);
    e->data = d;
  }
  e->ns = p->ns;
  e->hi = p->hi;
  e->lo = p->lo;
  e->kind = p->kind;
  e->len = p->len;
  e->flags = p->flags;
  e->pinned = (uint8_t)((p->flags & 0x1u) != 0);
  e->expiry = p->expiry;
  e->heap_idx = HEAP_NONE;
  return e;
}

static int reject(uint32_t *detail, uint32_t why) {
  *detail = why;
  return NNRP_CS_REJECTED;
}

int nnrp__cs_put(nnrp_cstore *cs, const nnrp_cstore_put *p, uint32_t *detail) {
  *detail = NNRP_CS_DETAIL_NONE;
  if (!nnrp__cs_enabled(cs))
    return reject(detail, NNRP_CS_DETAIL_DISABLED);
  if (p->kind == 0 || p->kind > 32 ||
      (cs->lim.kinds & (1u << (p->kind - 1u))) == 0)
    return reject(detail, NNRP_CS_DETAIL_KIND);
  if (p->len > nnrp__cs_max_object(cs))
    return reject(detail, NNRP_CS_DETAIL_TOO_LARGE);
  nnrp_centry *old = nnrp__cs_find(cs, p->ns, p->hi, p->lo);
  if (!cs->lim.force && !can_fit(cs, old, p->len))
    return reject(detail, NNRP_CS_DETAIL_QUOTA); /* nothing evicted */
  if (reserve(cs, p->expiry != 0) != 0)
    return reject(detail, NNRP_CS_DETAIL_QUOTA); /* no memory: unchanged */
  nnrp_centry gone_copy;
  int had_old = old != NULL;
  if (old) {
    gone_copy = *old;
    gone_copy.data = NULL;
    nnrp__cs_remove(cs, old, 0); /* replaced: nothing to announce */
  }
  nnrp_centry *e = make_room(cs, p->len) ? new_entry(cs, p) : NULL;
  if (e == NULL) {
    /* Out of session memory (or, in force mode, no room): the old entry is
     * gone, so it is reported as evicted. */
    if (had_old && cs->gone)
      cs->gone(cs->gone_ctx, &gone_copy, NNRP_CS_GONE_EVICTED);
    return reject(detail, NNRP_CS_DETAIL_QUOTA);
  }
  insert(cs, e);
  return had_old ? NNRP_CS_REPLACED : NNRP_CS_ACCEPTED;
}

/* ---- lookup, invalidation, expiry -------------------------------------- */

nnrp_centry *nnrp__cs_lookup(nnrp_cstore *cs, uint32_t ns, uint32_t hi,
                             uint32_t lo, uint16_t kind, uint64_t now) {
  nnrp_centry *e = nnrp__cs_find(cs, ns, hi, lo);
  if (e == NULL)
    return NULL;
  if (e->expiry != 0 && e->expiry <= now) {
    nnrp__cs_remove(cs, e, NNRP_CS_GONE_EXPIRED);
    return NULL;
  }
  return e->kind == kind ? e : NULL;
}

static uint32_t invalidate_list(nnrp_cstore *cs, nnrp_clist *l,
                                uint32_t scope, uint32_t ns, uint32_t kind) {
  uint32_t n = 0;
  nnrp_centry *e = l->head;
  while (e) {
    nnrp_centry *next = e->next;
    int match = scope == NNRP_CS_SCOPE_ALL ||
                (e->ns == ns && (scope == NNRP_CS_SCOPE_NAMESPACE ||
                                 (uint32_t)e->kind == kind));
    if (match) {
      nnrp__cs_remove(cs, e, NNRP_CS_GONE_INVALIDATED);
      n++;
    }
    e = next;
  }
  return n;
}

uint32_t nnrp__cs_invalidate(nnrp_cstore *cs, uint32_t scope, uint32_t ns,
                             uint32_t hi, uint32_t lo) {
  if (scope == NNRP_CS_SCOPE_KEY) {
    nnrp_centry *e = nnrp__cs_find(cs, ns, hi, lo);
    if (e == NULL)
      return 0;
    nnrp__cs_remove(cs, e, NNRP_CS_GONE_INVALIDATED);
    return 1;
  }
  if (scope > NNRP_CS_SCOPE_KEY)
    return 0;
  /* A removal never moves another entry between the two lists. */
  return invalidate_list(cs, &cs->lru, scope, ns, hi) +
         invalidate_list(cs, &cs->locked, scope, ns, hi);
}

uint64_t nnrp__cs_next_expiry(const nnrp_cstore *cs) {
  return cs->heap_n ? cs->heap[0]->expiry : UINT64_MAX;
}

uint32_t nnrp__cs_expire(nnrp_cstore *cs, uint64_t now) {
  uint32_t n = 0;
  while (cs->heap_n && cs->heap[0]->expiry <= now) {
    nnrp__cs_remove(cs, cs->heap[0], NNRP_CS_GONE_EXPIRED);
    n++;
  }
  return n;
}
