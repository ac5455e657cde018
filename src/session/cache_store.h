/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cache_store.h - the bounded object store behind the session cache
 * (session.md §9.2-§9.4, D16), with no protocol knowledge: entries keyed by
 * (namespace, key_hi, key_lo), entry and byte quotas, O(1) LRU over
 * non-pinned entries, TTL expiry, invalidation scopes and frame holds. The
 * server keeps object bytes; the client mirror keeps sizes only.
 */
#ifndef NNRP_CACHE_STORE_H
#define NNRP_CACHE_STORE_H

#include "session_int.h"

/* Outcome of a put (same values as the wire's CacheAckStatus). */
enum { NNRP_CS_ACCEPTED = 0, NNRP_CS_REJECTED = 1, NNRP_CS_REPLACED = 2 };

/* Why a put was rejected (same values as wire.md §11.11 detail_code). */
enum {
  NNRP_CS_DETAIL_NONE = 0,
  NNRP_CS_DETAIL_QUOTA = 1,     /* cannot fit after evicting (or no memory) */
  NNRP_CS_DETAIL_TOO_LARGE = 2, /* object above the per-object ceiling */
  NNRP_CS_DETAIL_KIND = 3,      /* kind not in the store's kinds */
  NNRP_CS_DETAIL_DISABLED = 4   /* no quota or no kind: store disabled */
};

/* Why an entry left the index (same values as CACHE_INVALIDATE
 * reason_code, wire.md §11.11). Replacement by a put reports nothing. */
enum {
  NNRP_CS_GONE_EVICTED = 1,    /* LRU eviction (or a failed replacement) */
  NNRP_CS_GONE_EXPIRED = 2,    /* TTL */
  NNRP_CS_GONE_INVALIDATED = 3 /* nnrp__cs_invalidate() */
};

/* Invalidation scopes (same values as CacheInvalidateScope). */
enum {
  NNRP_CS_SCOPE_ALL = 0,
  NNRP_CS_SCOPE_NAMESPACE = 1,
  NNRP_CS_SCOPE_KIND = 2, /* namespace + kind (the kind is given as hi) */
  NNRP_CS_SCOPE_KEY = 3
};

/* Which list an entry is on. Every indexed entry is on LRU (evictable) or
 * LOCKED (pinned, or held by a frame); an entry removed while held is on
 * DETACHED until its last hold is released. */
enum { NNRP_CS_LRU = 0, NNRP_CS_LOCKED = 1, NNRP_CS_DETACHED = 2 };

/* One entry. The object bytes follow the struct in the same allocation
 * (keep_bytes), so an entry costs sizeof(nnrp_centry) + 16 (allocator
 * header) + len bytes of session memory. Callers read the key, kind, len,
 * data, expiry and pinned fields; the rest belongs to the store. */
typedef struct nnrp_centry {
  struct nnrp_centry *prev, *next; /* list links (see NNRP_CS_LRU...) */
  struct nnrp_centry *hnext;       /* hash chain */
  const uint8_t *data;             /* len bytes; NULL without keep_bytes */
  uint64_t expiry;                 /* monotonic ns; 0 = none */
  uint32_t ns, hi, lo;
  uint32_t len;
  uint32_t refs;     /* frame holds */
  uint32_t heap_idx; /* position in the expiry heap; UINT32_MAX = none */
  uint32_t flags;    /* the put's flags, as given */
  uint16_t kind;
  uint8_t pinned;
  uint8_t where; /* NNRP_CS_LRU / _LOCKED / _DETACHED */
} nnrp_centry;

/* Fixed session-memory cost of one entry besides its object bytes. */
#define NNRP_CS_ENTRY_OVERHEAD ((uint64_t)sizeof(nnrp_centry) + 16u)

typedef struct nnrp_clist {
  nnrp_centry *head, *tail; /* head = least recently used */
  uint32_t n;
  uint64_t bytes;
} nnrp_clist;

typedef struct nnrp_cstore_limits {
  uint32_t max_entries;      /* 0: disabled */
  uint32_t max_bytes;        /* sum of object bytes; 0: disabled */
  uint32_t max_object_bytes; /* per object; 0 or above max_bytes: max_bytes */
  uint32_t kinds;            /* bit kind-1 accepted; 0: disabled */
  uint8_t keep_bytes;        /* 1: copy the object bytes (server) */
  uint8_t force;             /* 1 (client mirror): the peer already accepted,
                                so make room by evicting pinned entries too,
                                oldest first, instead of rejecting */
} nnrp_cstore_limits;

/* Called for every entry leaving the index, except replacement by a put.
 * The entry is only valid during the call. */
typedef void (*nnrp_cstore_gone_fn)(void *ctx, const nnrp_centry *e,
                                    unsigned reason);

typedef struct nnrp_cstore {
  nnrp_smem *mem;
  nnrp_cstore_limits lim;
  nnrp_centry **buckets; /* chained hash index; power-of-two count */
  uint32_t nbuckets;
  uint32_t seed;
  nnrp_clist lru, locked, detached;
  uint32_t count;       /* indexed entries (lru.n + locked.n) */
  uint64_t bytes;       /* their object bytes */
  uint32_t pinned_n;    /* indexed pinned entries */
  uint64_t pinned_bytes;
  nnrp_centry **heap; /* expiry min-heap of indexed entries with a TTL */
  uint32_t heap_n, heap_cap;
  nnrp_cstore_gone_fn gone;
  void *gone_ctx;
  uint64_t evicted, expired; /* counters */
} nnrp_cstore;

typedef struct nnrp_cstore_put {
  uint32_t ns, hi, lo;
  uint16_t kind;
  uint32_t flags;   /* bit 0x1 = pinned; kept as given */
  uint64_t expiry;  /* absolute; 0 = none */
  const uint8_t *data; /* len bytes (copied when keep_bytes) */
  uint32_t len;
} nnrp_cstore_put;

/* Sets the store up (nothing is allocated until the first put). seed
 * randomises the hash (keys are chosen by the peer). */
void nnrp__cs_init(nnrp_cstore *cs, nnrp_smem *mem,
                   const nnrp_cstore_limits *lim, uint32_t seed);
/* Frees every entry (held ones too) and the index. */
void nnrp__cs_free(nnrp_cstore *cs);
/* The effective per-object ceiling (0 when disabled). */
uint32_t nnrp__cs_max_object(const nnrp_cstore *cs);
int nnrp__cs_enabled(const nnrp_cstore *cs);

/* session.md §9.2 steps 2-7: returns NNRP_CS_ACCEPTED, _REPLACED or
 * _REJECTED with *detail set. A rejection for quota (detail 1) changes
 * nothing, except when memory runs out after the old entry was removed:
 * that entry is then reported through `gone` (EVICTED). */
int nnrp__cs_put(nnrp_cstore *cs, const nnrp_cstore_put *p, uint32_t *detail);
/* The indexed entry of a key, or NULL (no expiry or kind check). */
nnrp_centry *nnrp__cs_find(const nnrp_cstore *cs, uint32_t ns, uint32_t hi,
                           uint32_t lo);
/* Resolution lookup (§9.5 rule 1): key found, kind equal, not expired; an
 * expired entry is removed (EXPIRED). Does not touch the LRU order. */
nnrp_centry *nnrp__cs_lookup(nnrp_cstore *cs, uint32_t ns, uint32_t hi,
                             uint32_t lo, uint16_t kind, uint64_t now);
/* Marks an indexed entry most recently used. */
void nnrp__cs_touch(nnrp_cstore *cs, nnrp_centry *e);
/* A frame holds the entry: it is not evicted, and if it leaves the index
 * (invalidated, expired, replaced) its bytes stay valid until released.
 * Held and detached entries count against both quotas. */
void nnrp__cs_hold(nnrp_cstore *cs, nnrp_centry *e);
void nnrp__cs_release(nnrp_cstore *cs, nnrp_centry *e);
/* Removes one indexed entry, reporting `reason` through gone. */
void nnrp__cs_remove(nnrp_cstore *cs, nnrp_centry *e, unsigned reason);
/* session.md §9.4 rule 2; returns the number of entries removed. */
uint32_t nnrp__cs_invalidate(nnrp_cstore *cs, uint32_t scope, uint32_t ns,
                             uint32_t hi, uint32_t lo);
/* Earliest expiry of an indexed entry, UINT64_MAX when none. */
uint64_t nnrp__cs_next_expiry(const nnrp_cstore *cs);
/* Removes every entry with expiry <= now; returns how many. */
uint32_t nnrp__cs_expire(nnrp_cstore *cs, uint64_t now);

#endif /* NNRP_CACHE_STORE_H */
