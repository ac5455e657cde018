/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_cache_store.c - the session cache's object store (cache_store.c,
 * session.md §9.2-§9.4, D16): put outcomes and detail codes, entry and byte
 * quotas, LRU order, pinned entries, invalidation scopes, TTL, frame holds,
 * the client-mirror force mode, allocation failures, memory accounting, and
 * random operations against a reference model.
 */
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "session/cache_store.h"

/* ---- helpers ----------------------------------------------------------- */

static uint64_t rng_state = 0x243F6A8885A308D3ull;
static uint32_t rng32(void) {
  uint64_t x = rng_state;
  x ^= x >> 12;
  x ^= x << 25;
  x ^= x >> 27;
  rng_state = x;
  return (uint32_t)((x * 0x2545F4914F6CDD1Dull) >> 32);
}
static uint32_t below(uint32_t n) { return rng32() % n; }

/* Records what `gone` reports. */
typedef struct gone_log {
  uint32_t n;
  struct {
    uint32_t ns, hi, lo;
    unsigned reason;
  } ev[256];
} gone_log;

static void on_gone(void *ctx, const nnrp_centry *e, unsigned reason) {
  gone_log *g = ctx;
  if (g->n < 256) {
    g->ev[g->n].ns = e->ns;
    g->ev[g->n].hi = e->hi;
    g->ev[g->n].lo = e->lo;
    g->ev[g->n].reason = reason;
  }
  g->n++;
}

static nnrp_smem smem;
static gone_log glog;

static void store_init(nnrp_cstore *cs, uint32_t entries, uint32_t bytes,
                       uint32_t max_obj, uint32_t kinds) {
  nnrp__smem_init(&smem, NULL, 0);
  nnrp_cstore_limits lim;
  memset(&lim, 0, sizeof(lim));
  lim.max_entries = entries;
  lim.max_bytes = bytes;
  lim.max_object_bytes = max_obj;
  lim.kinds = kinds;
  lim.keep_bytes = 1;
  nnrp__cs_init(cs, &smem, &lim, 12345);
  memset(&glog, 0, sizeof(glog));
  cs->gone = on_gone;
  cs->gone_ctx = &glog;
}

static uint8_t payload[4096];

/* put of key (ns, hi, lo) with len bytes of `fill`. */
static int put(nnrp_cstore *cs, uint32_t ns, uint32_t hi, uint32_t lo,
               uint16_t kind, uint32_t len, int pinned, uint64_t expiry,
               uint8_t fill, uint32_t *detail) {
  memset(payload, fill, len);
  nnrp_cstore_put p;
  memset(&p, 0, sizeof(p));
  p.ns = ns;
  p.hi = hi;
  p.lo = lo;
  p.kind = kind;
  p.flags = pinned ? 0x1u : 0u;
  p.expiry = expiry;
  p.data = payload;
  p.len = len;
  uint32_t d;
  int st = nnrp__cs_put(cs, &p, detail ? detail : &d);
  memset(payload, 0xEE, len); /* the store must have copied */
  return st;
}

static int has(const nnrp_cstore *cs, uint32_t lo) {
  return nnrp__cs_find(cs, 0, 0, lo) != NULL;
}

static int all_bytes(const uint8_t *p, uint32_t n, uint8_t v) {
  for (uint32_t i = 0; i < n; i++)
    if (p[i] != v)
      return 0;
  return 1;
}

/* ---- outcomes ---------------------------------------------------------- */

TEST(put_accept_replace_lookup) {
  nnrp_cstore cs;
  store_init(&cs, 4, 1000, 0, 0x1FF);
  CHECK_EQ_INT(put(&cs, 1, 2, 3, 3, 10, 0, 0, 0xA1, NULL), NNRP_CS_ACCEPTED);
  nnrp_centry *e = nnrp__cs_lookup(&cs, 1, 2, 3, 3, 0);
  if (CHECK(e != NULL)) {
    CHECK_EQ_INT(e->len, 10);
    CHECK_EQ_INT(e->kind, 3);
    CHECK(all_bytes(e->data, 10, 0xA1));
    CHECK(e->data != payload);
  }
  CHECK(nnrp__cs_lookup(&cs, 1, 2, 3, 2, 0) == NULL); /* kind checked */
  CHECK(nnrp__cs_lookup(&cs, 1, 2, 4, 3, 0) == NULL);
  CHECK(nnrp__cs_lookup(&cs, 0, 2, 3, 3, 0) == NULL); /* namespace */
  CHECK(nnrp__cs_find(&cs, 1, 2, 3) != NULL);         /* still there */
  uint32_t d = 99;
  CHECK_EQ_INT(put(&cs, 1, 2, 3, 1, 20, 0, 0, 0xB2, &d), NNRP_CS_REPLACED);
  CHECK_EQ_INT(d, 0);
  CHECK_EQ_INT(cs.count, 1);
  CHECK_EQ_U64(cs.bytes, 20);
  e = nnrp__cs_lookup(&cs, 1, 2, 3, 1, 0);
  if (CHECK(e != NULL))
    CHECK(all_bytes(e->data, 20, 0xB2));
  CHECK_EQ_INT(glog.n, 0); /* a replacement is not announced */
  /* Empty objects are objects. */
  CHECK_EQ_INT(put(&cs, 9, 9, 9, 7, 0, 0, 0, 0, NULL), NNRP_CS_ACCEPTED);
  e = nnrp__cs_lookup(&cs, 9, 9, 9, 7, 0);
  CHECK(e != NULL && e->len == 0);
  nnrp__cs_free(&cs);
  CHECK_EQ_U64(smem.used, 0);
}

TEST(rejected_detail_codes) {
  nnrp_cstore cs;
  uint32_t d;
  /* 4: disabled by any zero quota or kind set. */
  uint32_t lims[3][3] = {{0, 100, 0x7}, {4, 0, 0x7}, {4, 100, 0}};
  for (int i = 0; i < 3; i++) {
    store_init(&cs, lims[i][0], lims[i][1], 0, lims[i][2]);
    CHECK(!nnrp__cs_enabled(&cs));
    CHECK_EQ_INT(nnrp__cs_max_object(&cs), 0);
    CHECK_EQ_INT(put(&cs, 0, 0, 1, 1, 1, 0, 0, 1, &d), NNRP_CS_REJECTED);
    CHECK_EQ_INT(d, NNRP_CS_DETAIL_DISABLED);
    CHECK_EQ_INT(cs.count, 0);
    nnrp__cs_free(&cs);
  }
  /* 3: kind not in the set (bit kind-1), kind 0, kind above 32. */
  store_init(&cs, 4, 100, 0, 0x5); /* kinds 1 and 3 */
  CHECK(nnrp__cs_enabled(&cs));
  CHECK_EQ_INT(put(&cs, 0, 0, 1, 2, 1, 0, 0, 1, &d), NNRP_CS_REJECTED);
  CHECK_EQ_INT(d, NNRP_CS_DETAIL_KIND);
  CHECK_EQ_INT(put(&cs, 0, 0, 1, 0, 1, 0, 0, 1, &d), NNRP_CS_REJECTED);
  CHECK_EQ_INT(d, NNRP_CS_DETAIL_KIND);
  CHECK_EQ_INT(put(&cs, 0, 0, 1, 40, 1, 0, 0, 1, &d), NNRP_CS_REJECTED);
  CHECK_EQ_INT(d, NNRP_CS_DETAIL_KIND);
  CHECK_EQ_INT(put(&cs, 0, 0, 1, 3, 1, 0, 0, 1, &d), NNRP_CS_ACCEPTED);
  /* 2: above max_bytes when no per-object ceiling is set. */
  CHECK_EQ_INT(nnrp__cs_max_object(&cs), 100);
  CHECK_EQ_INT(put(&cs, 0, 0, 2, 1, 101, 0, 0, 1, &d), NNRP_CS_REJECTED);
  CHECK_EQ_INT(d, NNRP_CS_DETAIL_TOO_LARGE);
  CHECK_EQ_INT(put(&cs, 0, 0, 2, 1, 100, 0, 0, 1, &d), NNRP_CS_ACCEPTED);
  nnrp__cs_free(&cs);
  /* 2 with a ceiling, and a ceiling above max_bytes is capped. */
  store_init(&cs, 4, 100, 10, 0x1);
  CHECK_EQ_INT(nnrp__cs_max_object(&cs), 10);
  CHECK_EQ_INT(put(&cs, 0, 0, 1, 1, 11, 0, 0, 1, &d), NNRP_CS_REJECTED);
  CHECK_EQ_INT(d, NNRP_CS_DETAIL_TOO_LARGE);
  CHECK_EQ_INT(put(&cs, 0, 0, 1, 1, 10, 0, 0, 1, &d), NNRP_CS_ACCEPTED);
  nnrp__cs_free(&cs);
  store_init(&cs, 4, 100, 500, 0x1);
  CHECK_EQ_INT(nnrp__cs_max_object(&cs), 100);
  nnrp__cs_free(&cs);
  /* Order of §9.2: disabled before kind before size. */
  store_init(&cs, 0, 100, 0, 0x1);
  CHECK_EQ_INT(put(&cs, 0, 0, 1, 2, 500, 0, 0, 1, &d), NNRP_CS_REJECTED);
  CHECK_EQ_INT(d, NNRP_CS_DETAIL_DISABLED);
  nnrp__cs_free(&cs);
  store_init(&cs, 4, 100, 0, 0x1);
  CHECK_EQ_INT(put(&cs, 0, 0, 1, 2, 500, 0, 0, 1, &d), NNRP_CS_REJECTED);
  CHECK_EQ_INT(d, NNRP_CS_DETAIL_KIND);
  nnrp__cs_free(&cs);
  CHECK_EQ_U64(smem.used, 0);
}

/* ---- quotas, LRU, pinned ----------------------------------------------- */

TEST(lru_order_entry_quota) {
  nnrp_cstore cs;
  store_init(&cs, 3, 1000, 0, 0x1);
  for (uint32_t k = 1; k <= 3; k++)
    CHECK_EQ_INT(put(&cs, 0, 0, k, 1, 10, 0, 0, 1, NULL), NNRP_CS_ACCEPTED);
  nnrp__cs_touch(&cs, nnrp__cs_find(&cs, 0, 0, 1)); /* order now 2, 3, 1 */
  CHECK_EQ_INT(put(&cs, 0, 0, 4, 1, 10, 0, 0, 1, NULL), NNRP_CS_ACCEPTED);
  CHECK(!has(&cs, 2) && has(&cs, 1) && has(&cs, 3) && has(&cs, 4));
  CHECK_EQ_INT(glog.n, 1);
  CHECK_EQ_INT(glog.ev[0].lo, 2);
  CHECK_EQ_INT(glog.ev[0].reason, NNRP_CS_GONE_EVICTED);
  /* A re-put renews: 3 becomes most recent, so 1 goes next. */
  CHECK_EQ_INT(put(&cs, 0, 0, 3, 1, 10, 0, 0, 2, NULL), NNRP_CS_REPLACED);
  CHECK_EQ_INT(put(&cs, 0, 0, 5, 1, 10, 0, 0, 1, NULL), NNRP_CS_ACCEPTED);
  CHECK(!has(&cs, 1) && has(&cs, 3) && has(&cs, 4) && has(&cs, 5));
  CHECK_EQ_INT(glog.ev[1].lo, 1);
  CHECK_EQ_U64(cs.evicted, 2);
  CHECK_EQ_INT(cs.count, 3);
  nnrp__cs_free(&cs);
}

TEST(lru_byte_quota) {
  nnrp_cstore cs;
  store_init(&cs, 100, 100, 0, 0x1);
  CHECK_EQ_INT(put(&cs, 0, 0, 1, 1, 40, 0, 0, 1, NULL), NNRP_CS_ACCEPTED);
  CHECK_EQ_INT(put(&cs, 0, 0, 2, 1, 40, 0, 0, 1, NULL), NNRP_CS_ACCEPTED);
  CHECK_EQ_INT(put(&cs, 0, 0, 3, 1, 20, 0, 0, 1, NULL), NNRP_CS_ACCEPTED);
  CHECK_EQ_U64(cs.bytes, 100); /* exactly full is allowed */
  CHECK_EQ_INT(glog.n, 0);
  CHECK_EQ_INT(put(&cs, 0, 0, 4, 1, 41, 0, 0, 1, NULL), NNRP_CS_ACCEPTED);
  /* 1 and 2 (the two oldest) had to go: 20 + 41 fits, 60 + 41 does not. */
  CHECK(!has(&cs, 1) && !has(&cs, 2) && has(&cs, 3) && has(&cs, 4));
  CHECK_EQ_U64(cs.bytes, 61);
  CHECK_EQ_INT(put(&cs, 0, 0, 5, 1, 100, 0, 0, 1, NULL), NNRP_CS_ACCEPTED);
  CHECK_EQ_INT(cs.count, 1);
  CHECK_EQ_INT(glog.n, 4);
  nnrp__cs_free(&cs);
}

TEST(pinned_never_evicted_but_counted) {
  nnrp_cstore cs;
  store_init(&cs, 3, 100, 0, 0x1);
  uint32_t d;
  CHECK_EQ_INT(put(&cs, 0, 0, 1, 1, 30, 1, 0, 1, &d), NNRP_CS_ACCEPTED);
  CHECK_EQ_INT(put(&cs, 0, 0, 2, 1, 30, 1, 0, 1, &d), NNRP_CS_ACCEPTED);
  CHECK_EQ_INT(cs.pinned_n, 2);
  CHECK_EQ_U64(cs.pinned_bytes, 60);
  CHECK_EQ_INT(put(&cs, 0, 0, 3, 1, 10, 0, 0, 1, &d), NNRP_CS_ACCEPTED);
  /* Full on entries: the only evictable entry goes, the pinned ones stay. */
  CHECK_EQ_INT(put(&cs, 0, 0, 4, 1, 10, 0, 0, 1, &d), NNRP_CS_ACCEPTED);
  CHECK(has(&cs, 1) && has(&cs, 2) && !has(&cs, 3) && has(&cs, 4));
  /* Touching a pinned entry does nothing harmful. */
  nnrp__cs_touch(&cs, nnrp__cs_find(&cs, 0, 0, 1));
  /* Bytes: 60 pinned + 41 > 100 even after evicting 4: REJECTED 1, and
   * nothing was evicted. */
  CHECK_EQ_INT(put(&cs, 0, 0, 5, 1, 41, 0, 0, 1, &d), NNRP_CS_REJECTED);
  CHECK_EQ_INT(d, NNRP_CS_DETAIL_QUOTA);
  CHECK(has(&cs, 4));
  CHECK_EQ_INT(glog.n, 1);
  /* Entries: a third pinned entry fits by evicting 4; a fourth does not. */
  CHECK_EQ_INT(put(&cs, 0, 0, 6, 1, 10, 1, 0, 1, &d), NNRP_CS_ACCEPTED);
  CHECK(!has(&cs, 4));
  CHECK_EQ_INT(put(&cs, 0, 0, 7, 1, 1, 1, 0, 1, &d), NNRP_CS_REJECTED);
  CHECK_EQ_INT(d, NNRP_CS_DETAIL_QUOTA);
  CHECK_EQ_INT(put(&cs, 0, 0, 8, 1, 1, 0, 0, 1, &d), NNRP_CS_REJECTED);
  CHECK_EQ_INT(d, NNRP_CS_DETAIL_QUOTA);
  /* Replacing a pinned key excludes it from the fit test: REPLACED, and a
   * rejected re-put leaves the old entry unchanged. */
  CHECK_EQ_INT(put(&cs, 0, 0, 1, 1, 39, 1, 0, 9, &d), NNRP_CS_REPLACED);
  CHECK_EQ_INT(put(&cs, 0, 0, 1, 1, 61, 1, 0, 7, &d), NNRP_CS_REJECTED);
  CHECK_EQ_INT(d, NNRP_CS_DETAIL_QUOTA);
  nnrp_centry *e = nnrp__cs_find(&cs, 0, 0, 1);
  if (CHECK(e != NULL))
    CHECK(e->len == 39 && all_bytes(e->data, 39, 9));
  /* Unpinning by re-put makes it evictable again. */
  CHECK_EQ_INT(put(&cs, 0, 0, 2, 1, 30, 0, 0, 1, &d), NNRP_CS_REPLACED);
  CHECK_EQ_INT(cs.pinned_n, 2);
  CHECK_EQ_INT(put(&cs, 0, 0, 9, 1, 5, 0, 0, 1, &d), NNRP_CS_ACCEPTED);
  CHECK(!has(&cs, 2) && has(&cs, 9));
  nnrp__cs_free(&cs);
  CHECK_EQ_U64(smem.used, 0);
}

/* ---- invalidation ------------------------------------------------------ */

static void fill_scopes(nnrp_cstore *cs) {
  /* ns 1: keys lo 1..3 kinds 1,2,1 (lo 3 pinned); ns 2: lo 1..2 kinds 1,2. */
  put(cs, 1, 0, 1, 1, 5, 0, 0, 1, NULL);
  put(cs, 1, 0, 2, 2, 5, 0, 0, 1, NULL);
  put(cs, 1, 0, 3, 1, 5, 1, 0, 1, NULL);
  put(cs, 2, 0, 1, 1, 5, 0, 0, 1, NULL);
  put(cs, 2, 0, 2, 2, 5, 0, 0, 1, NULL);
}

TEST(invalidate_scopes) {
  nnrp_cstore cs;
  store_init(&cs, 16, 1000, 0, 0x3);
  fill_scopes(&cs);
  CHECK_EQ_INT(cs.count, 5);
  /* OBJECT_KEY: exactly that key; no match is not an error. */
  CHECK_EQ_INT(nnrp__cs_invalidate(&cs, NNRP_CS_SCOPE_KEY, 1, 0, 2), 1);
  CHECK(nnrp__cs_find(&cs, 1, 0, 2) == NULL);
  CHECK_EQ_INT(nnrp__cs_invalidate(&cs, NNRP_CS_SCOPE_KEY, 1, 0, 2), 0);
  CHECK_EQ_INT(glog.ev[0].reason, NNRP_CS_GONE_INVALIDATED);
  /* OBJECT_KIND: namespace 1, kind 1 (given as hi) - pinned ones too. */
  CHECK_EQ_INT(nnrp__cs_invalidate(&cs, NNRP_CS_SCOPE_KIND, 1, 1, 0xFFFF), 2);
  CHECK_EQ_INT(cs.count, 2);
  CHECK_EQ_INT(cs.pinned_n, 0);
  CHECK(nnrp__cs_find(&cs, 2, 0, 1) != NULL); /* other namespace kept */
  nnrp__cs_free(&cs);
  store_init(&cs, 16, 1000, 0, 0x3);
  fill_scopes(&cs);
  /* NAMESPACE. */
  CHECK_EQ_INT(nnrp__cs_invalidate(&cs, NNRP_CS_SCOPE_NAMESPACE, 2, 7, 7), 2);
  CHECK_EQ_INT(cs.count, 3);
  CHECK(nnrp__cs_find(&cs, 2, 0, 2) == NULL);
  /* WHOLE_SESSION ignores the other fields. */
  CHECK_EQ_INT(nnrp__cs_invalidate(&cs, NNRP_CS_SCOPE_ALL, 9, 9, 9), 3);
  CHECK_EQ_INT(cs.count, 0);
  CHECK_EQ_U64(cs.bytes, 0);
  CHECK_EQ_INT(nnrp__cs_invalidate(&cs, 4, 0, 0, 0), 0); /* unknown scope */
  CHECK_EQ_INT(glog.n, 5);
  nnrp__cs_free(&cs);
  CHECK_EQ_U64(smem.used, 0);
}

/* ---- TTL --------------------------------------------------------------- */

TEST(ttl_expiry) {
  nnrp_cstore cs;
  store_init(&cs, 16, 1000, 0, 0x1);
  CHECK_EQ_U64(nnrp__cs_next_expiry(&cs), UINT64_MAX);
  put(&cs, 0, 0, 1, 1, 5, 0, 300, 1, NULL);
  put(&cs, 0, 0, 2, 1, 5, 0, 100, 1, NULL);
  put(&cs, 0, 0, 3, 1, 5, 1, 200, 1, NULL); /* pinned entries expire too */
  put(&cs, 0, 0, 4, 1, 5, 0, 0, 1, NULL);   /* never */
  CHECK_EQ_U64(nnrp__cs_next_expiry(&cs), 100);
  CHECK_EQ_INT(nnrp__cs_expire(&cs, 99), 0);
  CHECK_EQ_INT(nnrp__cs_expire(&cs, 100), 1);
  CHECK(!has(&cs, 2));
  CHECK_EQ_INT(glog.ev[0].reason, NNRP_CS_GONE_EXPIRED);
  CHECK_EQ_U64(nnrp__cs_next_expiry(&cs), 200);
  /* A lookup finds an expired entry and removes it (§9.3). */
  CHECK(nnrp__cs_lookup(&cs, 0, 0, 3, 1, 199) != NULL);
  CHECK(nnrp__cs_lookup(&cs, 0, 0, 3, 1, 250) == NULL);
  CHECK(!has(&cs, 3));
  CHECK_EQ_U64(nnrp__cs_next_expiry(&cs), 300);
  /* Replacement renews (or drops) the expiry; invalidation unschedules. */
  put(&cs, 0, 0, 1, 1, 5, 0, 0, 1, NULL);
  CHECK_EQ_U64(nnrp__cs_next_expiry(&cs), UINT64_MAX);
  put(&cs, 0, 0, 5, 1, 5, 0, 400, 1, NULL);
  nnrp__cs_invalidate(&cs, NNRP_CS_SCOPE_KEY, 0, 0, 5);
  CHECK_EQ_U64(nnrp__cs_next_expiry(&cs), UINT64_MAX);
  CHECK_EQ_INT(nnrp__cs_expire(&cs, UINT64_MAX - 1), 0);
  CHECK(has(&cs, 1) && has(&cs, 4));
  CHECK_EQ_U64(cs.expired, 2);
  /* Many expiries come out in time order. */
  for (uint32_t k = 0; k < 12; k++)
    put(&cs, 1, 0, k, 1, 1, 0, 1000 + (k * 7) % 12, 1, NULL);
  uint64_t last = 0;
  for (int i = 0; i < 12; i++) {
    uint64_t t = nnrp__cs_next_expiry(&cs);
    CHECK(t >= last);
    last = t;
    CHECK_EQ_INT(nnrp__cs_expire(&cs, t), 1);
  }
  CHECK_EQ_U64(nnrp__cs_next_expiry(&cs), UINT64_MAX);
  nnrp__cs_free(&cs);
  CHECK_EQ_U64(smem.used, 0);
}

/* ---- holds ------------------------------------------------------------- */

TEST(holds_keep_bytes_and_count) {
  nnrp_cstore cs;
  store_init(&cs, 3, 100, 0, 0x1);
  put(&cs, 0, 0, 1, 1, 30, 0, 50, 0x11, NULL);
  put(&cs, 0, 0, 2, 1, 30, 0, 0, 0x22, NULL);
  nnrp_centry *a = nnrp__cs_lookup(&cs, 0, 0, 1, 1, 0);
  if (!CHECK(a != NULL))
    return;
  nnrp__cs_hold(&cs, a);
  nnrp__cs_hold(&cs, a); /* two frames */
  /* A held entry is not evicted: 2 goes first, then nothing fits. */
  uint32_t d;
  CHECK_EQ_INT(put(&cs, 0, 0, 3, 1, 40, 0, 0, 0x33, &d), NNRP_CS_ACCEPTED);
  CHECK_EQ_INT(put(&cs, 0, 0, 4, 1, 40, 0, 0, 0x44, &d), NNRP_CS_ACCEPTED);
  CHECK(has(&cs, 1) && !has(&cs, 2) && !has(&cs, 3) && has(&cs, 4));
  CHECK_EQ_INT(put(&cs, 0, 0, 5, 1, 71, 0, 0, 0x55, &d), NNRP_CS_REJECTED);
  CHECK_EQ_INT(d, NNRP_CS_DETAIL_QUOTA);
  /* Invalidated while held: out of the index, bytes still valid and
   * still counted (detached). */
  uint64_t used = smem.used;
  CHECK_EQ_INT(nnrp__cs_invalidate(&cs, NNRP_CS_SCOPE_ALL, 0, 0, 0), 2);
  CHECK(!has(&cs, 1));
  CHECK_EQ_INT(cs.count, 0);
  CHECK_EQ_INT(cs.detached.n, 1);
  CHECK_EQ_U64(cs.detached.bytes, 30);
  CHECK(all_bytes(a->data, 30, 0x11));
  CHECK_EQ_U64(nnrp__cs_next_expiry(&cs), UINT64_MAX); /* unscheduled */
  CHECK(smem.used < used);
  /* Detached bytes count against the quota: 30 + 71 > 100. */
  CHECK_EQ_INT(put(&cs, 0, 0, 5, 1, 71, 0, 0, 0x55, &d), NNRP_CS_REJECTED);
  CHECK_EQ_INT(put(&cs, 0, 0, 5, 1, 70, 0, 0, 0x55, &d), NNRP_CS_ACCEPTED);
  nnrp__cs_release(&cs, a);
  CHECK_EQ_INT(cs.detached.n, 1);
  CHECK(all_bytes(a->data, 30, 0x11));
  nnrp__cs_release(&cs, a); /* last hold: freed */
  CHECK_EQ_INT(cs.detached.n, 0);
  CHECK_EQ_U64(cs.detached.bytes, 0);
  /* Released while still indexed: back on the LRU as most recent. */
  put(&cs, 0, 0, 6, 1, 10, 0, 0, 0x66, NULL);
  nnrp_centry *b = nnrp__cs_lookup(&cs, 0, 0, 5, 1, 0);
  if (CHECK(b != NULL)) {
    nnrp__cs_hold(&cs, b);
    CHECK_EQ_INT(b->where, NNRP_CS_LOCKED);
    nnrp__cs_release(&cs, b);
    CHECK_EQ_INT(b->where, NNRP_CS_LRU);
  }
  put(&cs, 0, 0, 7, 1, 25, 0, 0, 0x77, NULL); /* evicts 6 (older than 5) */
  CHECK(has(&cs, 5) && !has(&cs, 6) && has(&cs, 7));
  /* Replacing a held entry detaches the old bytes. */
  b = nnrp__cs_lookup(&cs, 0, 0, 5, 1, 0);
  if (CHECK(b != NULL)) {
    nnrp__cs_hold(&cs, b);
    CHECK_EQ_INT(put(&cs, 0, 0, 5, 1, 1, 0, 0, 0x99, &d), NNRP_CS_REPLACED);
    CHECK(all_bytes(b->data, 70, 0x55));
    nnrp_centry *nb = nnrp__cs_find(&cs, 0, 0, 5);
    CHECK(nb != NULL && nb != b && nb->len == 1);
    nnrp__cs_release(&cs, b);
  }
  nnrp__cs_free(&cs);
  CHECK_EQ_U64(smem.used, 0);
}

TEST(free_with_held_entries) {
  nnrp_cstore cs;
  store_init(&cs, 4, 100, 0, 0x1);
  put(&cs, 0, 0, 1, 1, 10, 0, 0, 1, NULL);
  put(&cs, 0, 0, 2, 1, 10, 1, 0, 1, NULL);
  nnrp_centry *a = nnrp__cs_find(&cs, 0, 0, 1);
  nnrp__cs_hold(&cs, a);
  nnrp__cs_hold(&cs, nnrp__cs_find(&cs, 0, 0, 2));
  nnrp__cs_invalidate(&cs, NNRP_CS_SCOPE_KEY, 0, 0, 1);
  nnrp__cs_free(&cs); /* detached and locked entries are freed too */
  CHECK_EQ_U64(smem.used, 0);
}

/* ---- client mirror: sizes only, force ---------------------------------- */

TEST(mirror_force_mode) {
  nnrp_cstore cs;
  nnrp__smem_init(&smem, NULL, 0);
  nnrp_cstore_limits lim;
  memset(&lim, 0, sizeof(lim));
  lim.max_entries = 2;
  lim.max_bytes = 100;
  lim.kinds = 0x1FF;
  lim.force = 1;
  nnrp__cs_init(&cs, &smem, &lim, 1);
  CHECK_EQ_INT(put(&cs, 0, 0, 1, 1, 60, 1, 0, 1, NULL), NNRP_CS_ACCEPTED);
  CHECK_EQ_INT(put(&cs, 0, 0, 2, 1, 30, 1, 0, 1, NULL), NNRP_CS_ACCEPTED);
  nnrp_centry *e = nnrp__cs_find(&cs, 0, 0, 2);
  CHECK(e != NULL && e->data == NULL && e->len == 30);
  /* The peer accepted a third: the oldest pinned one makes room. */
  CHECK_EQ_INT(put(&cs, 0, 0, 3, 1, 10, 0, 0, 1, NULL), NNRP_CS_ACCEPTED);
  CHECK(!has(&cs, 1) && has(&cs, 2) && has(&cs, 3));
  /* Non-pinned entries go first. */
  CHECK_EQ_INT(put(&cs, 0, 0, 4, 1, 10, 0, 0, 1, NULL), NNRP_CS_ACCEPTED);
  CHECK(has(&cs, 2) && !has(&cs, 3) && has(&cs, 4));
  /* Memory: no object bytes are kept. */
  CHECK(smem.used < 2 * NNRP_CS_ENTRY_OVERHEAD + 2 * 16 * sizeof(void *) +
                        64);
  nnrp__cs_free(&cs);
  CHECK_EQ_U64(smem.used, 0);
}

/* ---- allocation failures ----------------------------------------------- */

TEST(out_of_memory_is_a_quota_rejection) {
  nnrp_cstore cs;
  store_init(&cs, 8, 10000, 0, 0x1);
  smem.limit = 1; /* nothing fits: the index cannot even be created */
  uint32_t d;
  CHECK_EQ_INT(put(&cs, 0, 0, 1, 1, 10, 0, 0, 1, &d), NNRP_CS_REJECTED);
  CHECK_EQ_INT(d, NNRP_CS_DETAIL_QUOTA);
  CHECK_EQ_INT(cs.count, 0);
  smem.limit = 0;
  CHECK_EQ_INT(put(&cs, 0, 0, 1, 1, 10, 0, 50, 1, &d), NNRP_CS_ACCEPTED);
  /* The entry itself does not fit in memory after the old one was removed:
   * the old one is reported as evicted so the peer can be told. */
  smem.limit = smem.used + 100;
  CHECK_EQ_INT(put(&cs, 0, 0, 1, 1, 1000, 0, 0, 2, &d), NNRP_CS_REJECTED);
  CHECK_EQ_INT(d, NNRP_CS_DETAIL_QUOTA);
  CHECK(!has(&cs, 1));
  CHECK_EQ_INT(glog.n, 1);
  CHECK_EQ_INT(glog.ev[0].lo, 1);
  CHECK_EQ_INT(glog.ev[0].reason, NNRP_CS_GONE_EVICTED);
  CHECK_EQ_U64(nnrp__cs_next_expiry(&cs), UINT64_MAX);
  smem.limit = 0;
  nnrp__cs_free(&cs);
  CHECK_EQ_U64(smem.used, 0);
}

/* ---- memory accounting and a reference model --------------------------- */

#define MAXM 64

typedef struct mentry {
  int used, indexed;
  uint32_t ns, hi, lo, len, refs;
  uint16_t kind;
  int pinned;
  uint64_t expiry, last_use;
  uint8_t fill;
} mentry;

typedef struct model {
  mentry e[MAXM];
  uint64_t clock;
  uint32_t max_entries, max_bytes, max_obj, kinds;
  gone_log gone;
} model;

static mentry *m_find(model *m, uint32_t ns, uint32_t hi, uint32_t lo) {
  for (int i = 0; i < MAXM; i++)
    if (m->e[i].used && m->e[i].indexed && m->e[i].ns == ns &&
        m->e[i].hi == hi && m->e[i].lo == lo)
      return &m->e[i];
  return NULL;
}

static void m_sums(const model *m, uint64_t *n_all, uint64_t *b_all,
                   uint64_t *n_fixed, uint64_t *b_fixed) {
  *n_all = *b_all = *n_fixed = *b_fixed = 0;
  for (int i = 0; i < MAXM; i++) {
    const mentry *e = &m->e[i];
    if (!e->used)
      continue;
    (*n_all)++;
    *b_all += e->len;
    if (!e->indexed || e->pinned || e->refs) {
      (*n_fixed)++;
      *b_fixed += e->len;
    }
  }
}

static void m_remove(model *m, mentry *e, unsigned reason) {
  if (reason) {
    gone_log *g = &m->gone;
    if (g->n < 256) {
      g->ev[g->n].ns = e->ns;
      g->ev[g->n].hi = e->hi;
      g->ev[g->n].lo = e->lo;
      g->ev[g->n].reason = reason;
    }
    g->n++;
  }
  if (e->refs)
    e->indexed = 0;
  else
    e->used = 0;
}

static mentry *m_victim(model *m) {
  mentry *v = NULL;
  for (int i = 0; i < MAXM; i++) {
    mentry *e = &m->e[i];
    if (e->used && e->indexed && !e->pinned && !e->refs &&
        (v == NULL || e->last_use < v->last_use))
      v = e;
  }
  return v;
}

static int m_put(model *m, uint32_t ns, uint32_t hi, uint32_t lo,
                 uint16_t kind, uint32_t len, int pinned, uint64_t expiry,
                 uint8_t fill, uint32_t *detail) {
  uint32_t maxo = m->max_obj && m->max_obj <= m->max_bytes ? m->max_obj
                                                           : m->max_bytes;
  *detail = 0;
  if (!(m->kinds & (1u << (kind - 1)))) {
    *detail = 3;
    return NNRP_CS_REJECTED;
  }
  if (len > maxo) {
    *detail = 2;
    return NNRP_CS_REJECTED;
  }
  mentry *old = m_find(m, ns, hi, lo);
  uint64_t na, ba, nf, bf;
  m_sums(m, &na, &ba, &nf, &bf);
  if (old && old->pinned && !old->refs) {
    nf--;
    bf -= old->len;
  }
  if (nf + 1 > m->max_entries || bf + len > m->max_bytes) {
    *detail = 1;
    return NNRP_CS_REJECTED;
  }
  if (old)
    m_remove(m, old, 0);
  for (;;) {
    m_sums(m, &na, &ba, &nf, &bf);
    if (na + 1 <= m->max_entries && ba + len <= m->max_bytes)
      break;
    mentry *v = m_victim(m);
    if (v == NULL)
      return -1; /* cannot happen */
    m_remove(m, v, NNRP_CS_GONE_EVICTED);
  }
  for (int i = 0; i < MAXM; i++) {
    if (m->e[i].used)
      continue;
    mentry *e = &m->e[i];
    memset(e, 0, sizeof(*e));
    e->used = e->indexed = 1;
    e->ns = ns;
    e->hi = hi;
    e->lo = lo;
    e->kind = kind;
    e->len = len;
    e->pinned = pinned;
    e->expiry = expiry;
    e->fill = fill;
    e->last_use = ++m->clock;
    return old ? NNRP_CS_REPLACED : NNRP_CS_ACCEPTED;
  }
  return -1;
}

/* Sorted comparison of two gone logs (the store reports TTL ties in heap
 * order). */
static int gone_key_cmp(const void *a, const void *b) {
  const uint32_t *x = a, *y = b;
  for (int i = 0; i < 4; i++)
    if (x[i] != y[i])
      return x[i] < y[i] ? -1 : 1;
  return 0;
}

static int gone_same(const gone_log *a, const gone_log *b) {
  if (a->n != b->n || a->n > 256)
    return 0;
  uint32_t x[256][4], y[256][4];
  for (uint32_t i = 0; i < a->n; i++) {
    uint32_t xa[4] = {a->ev[i].ns, a->ev[i].hi, a->ev[i].lo, a->ev[i].reason};
    uint32_t yb[4] = {b->ev[i].ns, b->ev[i].hi, b->ev[i].lo, b->ev[i].reason};
    memcpy(x[i], xa, sizeof(xa));
    memcpy(y[i], yb, sizeof(yb));
  }
  qsort(x, a->n, sizeof(x[0]), gone_key_cmp);
  qsort(y, a->n, sizeof(y[0]), gone_key_cmp);
  return memcmp(x, y, a->n * sizeof(x[0])) == 0;
}

/* Outstanding holds: store entry + model entry. */
typedef struct held {
  nnrp_centry *e;
  mentry *m;
} held;

static int compare(const nnrp_cstore *cs, const model *m, const held *h,
                   size_t nh) {
  uint64_t n = 0, b = 0, pn = 0, pb = 0, dn = 0, db = 0;
  for (int i = 0; i < MAXM; i++) {
    const mentry *e = &m->e[i];
    if (!e->used)
      continue;
    if (!e->indexed) {
      dn++;
      db += e->len;
      continue;
    }
    n++;
    b += e->len;
    if (e->pinned) {
      pn++;
      pb += e->len;
    }
    const nnrp_centry *s = nnrp__cs_find(cs, e->ns, e->hi, e->lo);
    if (s == NULL || s->kind != e->kind || s->len != e->len ||
        s->pinned != (uint8_t)e->pinned || s->expiry != e->expiry ||
        !all_bytes(s->data, s->len, e->fill))
      return 0;
  }
  for (size_t i = 0; i < nh; i++)
    if (!all_bytes(h[i].e->data, h[i].e->len, h[i].m->fill))
      return 0; /* held bytes must stay valid (ASan checks the memory) */
  return cs->count == n && cs->bytes == b && cs->pinned_n == pn &&
         cs->pinned_bytes == pb && cs->detached.n == dn &&
         cs->detached.bytes == db;
}

static void random_op(nnrp_cstore *cs, model *m, held *h, size_t *nh,
                      uint64_t now) {
  uint32_t ns = below(2), hi = below(4), lo = below(4);
  uint32_t op = below(100);
  if (op < 45) {
    uint16_t kind = (uint16_t)(1 + below(4));
    uint32_t len = below(4) == 0 ? below(400) : below(120);
    int pinned = below(7) == 0;
    uint64_t exp = below(3) == 0 ? now + 1 + below(60) : 0;
    uint8_t fill = (uint8_t)(1 + below(250));
    uint32_t d1, d2;
    int a = put(cs, ns, hi, lo, kind, len, pinned, exp, fill, &d1);
    int b = m_put(m, ns, hi, lo, kind, len, pinned, exp, fill, &d2);
    CHECK_EQ_INT(a, b);
    CHECK_EQ_INT(d1, d2);
  } else if (op < 65) { /* resolution: lookup, touch, maybe hold */
    uint16_t kind = (uint16_t)(1 + below(4));
    nnrp_centry *e = nnrp__cs_lookup(cs, ns, hi, lo, kind, now);
    mentry *me = m_find(m, ns, hi, lo);
    if (me && me->expiry && me->expiry <= now) {
      m_remove(m, me, NNRP_CS_GONE_EXPIRED);
      me = NULL;
    }
    if (me && me->kind != kind)
      me = NULL;
    CHECK_EQ_INT(e != NULL, me != NULL);
    if (e && me) {
      nnrp__cs_touch(cs, e);
      if (!me->pinned && !me->refs)
        me->last_use = ++m->clock;
      if (*nh < 16 && below(2)) {
        nnrp__cs_hold(cs, e);
        me->refs++;
        h[*nh].e = e;
        h[(*nh)++].m = me;
      }
    }
  } else if (op < 80) { /* release a hold */
    if (*nh == 0)
      return;
    size_t i = below((uint32_t)*nh);
    nnrp__cs_release(cs, h[i].e);
    mentry *me = h[i].m;
    if (--me->refs == 0) {
      if (!me->indexed)
        me->used = 0;
      else if (!me->pinned)
        me->last_use = ++m->clock;
    }
    h[i] = h[--*nh];
  } else if (op < 88) {
    uint32_t scope = below(20) == 0 ? NNRP_CS_SCOPE_ALL : 1 + below(3);
    uint32_t kind = 1 + below(4);
    uint32_t arg_hi = scope == NNRP_CS_SCOPE_KIND ? kind : hi;
    nnrp__cs_invalidate(cs, scope, ns, arg_hi, lo);
    for (int i = 0; i < MAXM; i++) {
      mentry *e = &m->e[i];
      if (!e->used || !e->indexed)
        continue;
      int match = scope == NNRP_CS_SCOPE_ALL ||
                  (e->ns == ns && (scope == NNRP_CS_SCOPE_NAMESPACE ||
                                   (scope == NNRP_CS_SCOPE_KIND &&
                                    e->kind == kind) ||
                                   (scope == NNRP_CS_SCOPE_KEY &&
                                    e->hi == hi && e->lo == lo)));
      if (match)
        m_remove(m, e, NNRP_CS_GONE_INVALIDATED);
    }
  } else {
    nnrp__cs_expire(cs, now);
    for (int i = 0; i < MAXM; i++) {
      mentry *e = &m->e[i];
      if (e->used && e->indexed && e->expiry && e->expiry <= now)
        m_remove(m, e, NNRP_CS_GONE_EXPIRED);
    }
  }
}

TEST(random_ops_vs_reference_model) {
  static model m;
  for (uint64_t seed = 1; seed <= 20; seed++) {
    rng_state = seed * 0x9E3779B97F4A7C15ull;
    memset(&m, 0, sizeof(m));
    m.max_entries = 2 + below(10);
    m.max_bytes = 100 + below(900);
    m.max_obj = below(2) ? 0 : 50 + below(500);
    m.kinds = 0x7;
    nnrp_cstore cs;
    store_init(&cs, m.max_entries, m.max_bytes, m.max_obj, m.kinds);
    held h[16];
    size_t nh = 0;
    uint64_t now = 1;
    uint64_t bound = m.max_bytes + m.max_entries * NNRP_CS_ENTRY_OVERHEAD +
                     2 * (16 * sizeof(void *) + 16);
    int ok = 1;
    for (int step = 0; step < 3000 && ok; step++) {
      now += below(4);
      random_op(&cs, &m, h, &nh, now);
      ok = CHECK(compare(&cs, &m, h, nh)) &&
           CHECK(gone_same(&glog, &m.gone)) &&
           CHECK((uint64_t)cs.count + cs.detached.n <= m.max_entries) &&
           CHECK(cs.bytes + cs.detached.bytes <= m.max_bytes) &&
           CHECK(smem.used <= bound);
      glog.n = 0; /* each operation's reports were compared */
      m.gone.n = 0;
    }
    while (nh > 0)
      nnrp__cs_release(&cs, h[--nh].e);
    CHECK_EQ_INT(cs.detached.n, 0);
    nnrp__cs_free(&cs);
    CHECK_EQ_U64(smem.used, 0);
  }
}

/* A flood of puts never allocates beyond quota + fixed overhead. */
TEST(memory_bounded_under_flood) {
  nnrp_cstore cs;
  store_init(&cs, 64, 4096, 0, 0x1FF);
  uint64_t bound = 4096 + 64 * NNRP_CS_ENTRY_OVERHEAD +
                   (64 * sizeof(void *) + 16) * 2;
  uint64_t peak = 0;
  for (uint32_t i = 0; i < 20000; i++) {
    /* Pinned objects get a TTL so that they do not fill the store. */
    int pinned = below(50) == 0;
    uint64_t exp = (pinned || below(4) == 0) ? 1000 + i : 0;
    put(&cs, i % 3, i, i * 7, (uint16_t)(1 + i % 9), below(300), pinned, exp,
        (uint8_t)i, NULL);
    if (i % 97 == 0)
      nnrp__cs_expire(&cs, 500 + i);
    if (smem.used > peak)
      peak = smem.used;
  }
  CHECK(peak <= bound);
  CHECK(cs.count <= 64);
  CHECK(cs.bytes <= 4096);
  CHECK(cs.evicted > 10000);
  nnrp__cs_free(&cs);
  CHECK_EQ_U64(smem.used, 0);
}

int main(void) {
  RUN(put_accept_replace_lookup);
  RUN(rejected_detail_codes);
  RUN(lru_order_entry_quota);
  RUN(lru_byte_quota);
  RUN(pinned_never_evicted_but_counted);
  RUN(invalidate_scopes);
  RUN(ttl_expiry);
  RUN(holds_keep_bytes_and_count);
  RUN(free_with_held_entries);
  RUN(mirror_force_mode);
  RUN(out_of_memory_is_a_quota_rejection);
  RUN(random_ops_vs_reference_model);
  RUN(memory_bounded_under_flood);
  TEST_MAIN_END();
}
