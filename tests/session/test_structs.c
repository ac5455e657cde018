/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_structs.c - the session's data-structure modules (session_int.h):
 * allocator accounting and limit (mem.c), output queue ordering, partial
 * writes, notifications and recycling (outq.c), event ring (evq.c), timer
 * heap (timers.c) and frame table against a reference model (ftable.c).
 */
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "session/session_int.h"
#include "wire/wire_int.h"

/* ---- helpers ----------------------------------------------------------- */

/* Deterministic PRNG (xorshift64*). */
static uint64_t rng_state = 0x9E3779B97F4A7C15ull;
static void rng_seed(uint64_t s) { rng_state = s ? s : 1; }
static uint32_t rng32(void) {
  uint64_t x = rng_state;
  x ^= x >> 12;
  x ^= x << 25;
  x ^= x >> 27;
  rng_state = x;
  return (uint32_t)((x * 0x2545F4914F6CDD1Dull) >> 32);
}
static uint32_t rng_below(uint32_t n) { return rng32() % n; }

/* Counting allocator: calls, live blocks, and failure injection (fail_at:
 * the N-th allocating call from now fails, 0 = never). */
typedef struct counting {
  unsigned mallocs, reallocs, frees;
  long live;
  unsigned calls, fail_at;
} counting;

static int counting_fail(counting *c) {
  c->calls++;
  return c->fail_at != 0 && c->calls == c->fail_at;
}

static void *c_malloc(size_t n, void *user) {
  counting *c = user;
  if (counting_fail(c))
    return NULL;
  void *p = malloc(n);
  if (p != NULL) {
    c->mallocs++;
    c->live++;
  }
  return p;
}

static void *c_realloc(void *p, size_t n, void *user) {
  counting *c = user;
  if (counting_fail(c))
    return NULL;
  void *np = realloc(p, n);
  if (np != NULL) {
    c->reallocs++;
    if (p == NULL)
      c->live++;
  }
  return np;
}

static void c_free(void *p, void *user) {
  counting *c = user;
  if (p == NULL)
    return;
  c->frees++;
  c->live--;
  free(p);
}

static nnrp_mem counting_mem(counting *c) {
  memset(c, 0, sizeof(*c));
  nnrp_mem m;
  m.user = c;
  m.malloc_fn = c_malloc;
  m.realloc_fn = c_realloc;
  m.free_fn = c_free;
  return m;
}

/* ======================================================================== */
/* mem.c                                                                    */
/* ======================================================================== */

TEST(mem_accounting_and_alignment) {
  nnrp_smem m;
  nnrp__smem_init(&m, NULL, 0);
  CHECK_EQ_U64(m.used, 0);
  void *a = nnrp__smalloc(&m, 100);
  void *b = nnrp__smalloc(&m, 1);
  void *c = nnrp__smalloc(&m, 0);
  if (!CHECK(a != NULL && b != NULL && c != NULL))
    return;
  CHECK_EQ_U64((uintptr_t)a % 16, 0);
  CHECK_EQ_U64((uintptr_t)b % 16, 0);
  CHECK_EQ_U64((uintptr_t)c % 16, 0);
  CHECK_EQ_U64(m.used, (100 + 16) + (1 + 16) + (0 + 16));
  memset(a, 0x11, 100);
  a = nnrp__srealloc(&m, a, 1000);
  if (!CHECK(a != NULL))
    return;
  CHECK_EQ_U64((uintptr_t)a % 16, 0);
  CHECK_EQ_U64(((uint8_t *)a)[99], 0x11);
  CHECK_EQ_U64(m.used, (1000 + 16) + (1 + 16) + (0 + 16));
  a = nnrp__srealloc(&m, a, 10); /* shrink */
  CHECK_EQ_U64(m.used, (10 + 16) + (1 + 16) + (0 + 16));
  nnrp__sfree(&m, b);
  nnrp__sfree(&m, NULL); /* no-op */
  CHECK_EQ_U64(m.used, (10 + 16) + (0 + 16));
  void *d = nnrp__srealloc(&m, NULL, 50); /* = malloc */
  CHECK(d != NULL);
  CHECK_EQ_U64(m.used, (10 + 16) + (0 + 16) + (50 + 16));
  uint8_t *z = nnrp__scalloc(&m, 64);
  if (CHECK(z != NULL)) {
    uint8_t zero[64] = {0};
    CHECK_EQ_MEM(z, zero, 64);
  }
  nnrp__sfree(&m, z);
  nnrp__sfree(&m, a);
  nnrp__sfree(&m, c);
  nnrp__sfree(&m, d);
  CHECK_EQ_U64(m.used, 0);
}

TEST(mem_limit_refusal) {
  counting cnt;
  nnrp_mem cm = counting_mem(&cnt);
  nnrp_smem m;
  nnrp__smem_init(&m, &cm, 1000);
  void *a = nnrp__smalloc(&m, 500); /* 516 */
  CHECK(a != NULL);
  CHECK(nnrp__smalloc(&m, 500) == NULL); /* 1032 > 1000 */
  CHECK(nnrp__scalloc(&m, 469) == NULL); /* 1001 */
  CHECK_EQ_U64(m.used, 516);
  CHECK_EQ_INT(cnt.mallocs, 1);     /* refused before asking the allocator */
  void *b = nnrp__smalloc(&m, 468); /* exactly 1000 */
  CHECK(b != NULL);
  CHECK_EQ_U64(m.used, 1000);
  CHECK(nnrp__smalloc(&m, 0) == NULL);
  /* Growing over the limit fails and keeps the block; shrinking works. */
  CHECK(nnrp__srealloc(&m, a, 501) == NULL);
  CHECK_EQ_U64(m.used, 1000);
  a = nnrp__srealloc(&m, a, 100);
  CHECK(a != NULL);
  CHECK_EQ_U64(m.used, 600);
  a = nnrp__srealloc(&m, a, 500); /* back up to exactly the limit */
  CHECK(a != NULL);
  CHECK_EQ_U64(m.used, 1000);
  /* Huge sizes never wrap. */
  CHECK(nnrp__smalloc(&m, SIZE_MAX) == NULL);
  CHECK(nnrp__srealloc(&m, a, SIZE_MAX - 8) == NULL);
  nnrp__sfree(&m, a);
  nnrp__sfree(&m, b);
  CHECK_EQ_U64(m.used, 0);
  CHECK_EQ_INT(cnt.live, 0);
}

TEST(mem_allocator_failure) {
  counting cnt;
  nnrp_mem cm = counting_mem(&cnt);
  nnrp_smem m;
  nnrp__smem_init(&m, &cm, 0);
  cnt.fail_at = 1;
  CHECK(nnrp__smalloc(&m, 10) == NULL);
  CHECK_EQ_U64(m.used, 0);
  cnt.calls = 0;
  cnt.fail_at = 2;
  uint8_t *p = nnrp__smalloc(&m, 10);
  if (!CHECK(p != NULL))
    return;
  memcpy(p, "abcdefghij", 10);
  /* Failed realloc: NULL, old block intact and still counted. */
  CHECK(nnrp__srealloc(&m, p, 4000) == NULL);
  CHECK_EQ_U64(m.used, 26);
  CHECK_EQ_MEM(p, "abcdefghij", 10);
  cnt.fail_at = 0;
  nnrp__sfree(&m, p);
  CHECK_EQ_U64(m.used, 0);
  CHECK_EQ_INT(cnt.live, 0);
}

/* ======================================================================== */
/* outq.c                                                                   */
/* ======================================================================== */

/* A queue with mixed packets and the concatenation it must produce. */
#define EXP_MAX 8192
typedef struct outq_fx {
  nnrp_smem m;
  nnrp_outq q;
  uint8_t payload[4][300]; /* referenced caller payloads */
  uint8_t expect[EXP_MAX];
  size_t expect_len;
  size_t ends[16]; /* cumulative end offset of each packet */
  unsigned npkt;
} outq_fx;

static void fx_expect(outq_fx *fx, const void *p, size_t n) {
  memcpy(fx->expect + fx->expect_len, p, n);
  fx->expect_len += n;
}

static void fx_end_packet(outq_fx *fx) {
  fx->ends[fx->npkt++] = fx->expect_len;
}

/* Packet with owned header bytes, two referenced payloads and a small
 * (copied) one in between: segments scratch/ref/scratch/ref/scratch. */
static int fx_data_packet(outq_fx *fx, uint8_t tag, int notify, uint32_t fid) {
  nnrp_out *o;
  int rc = nnrp__outq_begin(&fx->q, &fx->m, 64, 3, &o);
  if (rc != 0)
    return rc;
  uint8_t hdr[10], small[5], trail[3];
  memset(hdr, tag, sizeof(hdr));
  memset(small, tag ^ 0x55, sizeof(small));
  memset(trail, tag ^ 0x33, sizeof(trail));
  const uint8_t *p1 = fx->payload[tag % 4], *p2 = fx->payload[(tag + 1) % 4];
  size_t n1 = 100 + tag % 50, n2 = 200;
  if (nnrp__out_bytes(o, hdr, sizeof(hdr)) != 0 ||
      nnrp__out_ref(o, p1, n1) != 0 || nnrp__out_ref(o, small, 5) != 0 ||
      nnrp__out_ref(o, p2, n2) != 0 ||
      nnrp__out_bytes(o, trail, sizeof(trail)) != 0) {
    nnrp__outq_abort(&fx->q);
    return -1;
  }
  fx_expect(fx, hdr, sizeof(hdr));
  fx_expect(fx, p1, n1);
  fx_expect(fx, small, 5);
  fx_expect(fx, p2, n2);
  fx_expect(fx, trail, sizeof(trail));
  nnrp__outq_commit(&fx->q, notify, (void *)(uintptr_t)(0x1000u + tag), fid);
  fx_end_packet(fx);
  return 0;
}

static int fx_control_packet(outq_fx *fx, size_t n, uint8_t tag) {
  uint8_t buf[512];
  for (size_t i = 0; i < n; i++)
    buf[i] = (uint8_t)(tag + i);
  int rc = nnrp__outq_push_copy(&fx->q, &fx->m, buf, n);
  if (rc == 0) {
    fx_expect(fx, buf, n);
    fx_end_packet(fx);
  }
  return rc;
}

/* Contiguous packet built through begin with iov_need 0. */
static int fx_contig_packet(outq_fx *fx, size_t n, uint8_t tag, int notify,
                            uint32_t fid) {
  nnrp_out *o;
  int rc = nnrp__outq_begin(&fx->q, &fx->m, n, 0, &o);
  if (rc != 0)
    return rc;
  if (o->iov_cap != 0 || o->scratch_cap < n)
    return -1;
  uint8_t *d = nnrp__out_reserve(o, n);
  if (d == NULL)
    return -1;
  for (size_t i = 0; i < n; i++)
    d[i] = (uint8_t)(tag * 7 + i);
  fx_expect(fx, d, n);
  nnrp__outq_commit(&fx->q, notify, (void *)(uintptr_t)(0x1000u + tag), fid);
  fx_end_packet(fx);
  return 0;
}

static int fx_setup(outq_fx *fx, nnrp_mem *mem) {
  memset(fx, 0, sizeof(*fx));
  nnrp__smem_init(&fx->m, mem, 0);
  nnrp__outq_init(&fx->q);
  for (int k = 0; k < 4; k++)
    for (int i = 0; i < 300; i++)
      fx->payload[k][i] = (uint8_t)(k * 61 + i * 7 + 1);
  if (fx_data_packet(fx, 1, 1, 11) || fx_control_packet(fx, 40, 2) ||
      fx_data_packet(fx, 3, 0, 0) || fx_contig_packet(fx, 17, 4, 1, 14) ||
      fx_control_packet(fx, 1, 5) || fx_data_packet(fx, 6, 1, 16) ||
      fx_contig_packet(fx, 90, 7, 0, 0) || fx_data_packet(fx, 8, 1, 18))
    return -1;
  return 0;
}

static void fx_teardown(outq_fx *fx) {
  nnrp__outq_free(&fx->q, &fx->m);
  CHECK_EQ_U64(fx->m.used, 0);
}

/* Flattens what pending() hands out with an iovec array of cap entries
 * (several rounds when cap is small is not needed: we only look at the
 * first `want` bytes). Returns the bytes described. */
static size_t flatten_pending(const nnrp_outq *q, size_t cap, uint8_t *dst,
                              size_t dst_cap) {
  nnrp_iov iov[64];
  size_t n = nnrp__outq_pending(q, iov, cap);
  size_t off = 0;
  for (size_t i = 0; i < n; i++) {
    if (iov[i].len == 0 || off + iov[i].len > dst_cap)
      return (size_t)-1; /* empty or overlong segments are errors */
    memcpy(dst + off, iov[i].base, iov[i].len);
    off += iov[i].len;
  }
  return off;
}

typedef struct sent_log {
  uint32_t fid[32];
  uintptr_t ud[32];
  unsigned n;
} sent_log;

static void on_sent(void *ctx, void *user_data, uint32_t frame_id) {
  sent_log *l = ctx;
  if (l->n < 32) {
    l->fid[l->n] = frame_id;
    l->ud[l->n] = (uintptr_t)user_data;
  }
  l->n++;
}

TEST(outq_bytes_and_segments) {
  outq_fx fx;
  if (!CHECK(fx_setup(&fx, NULL) == 0))
    return;
  CHECK_EQ_U64(fx.q.bytes, fx.expect_len);
  CHECK_EQ_INT(fx.npkt, 8);
  /* Everything pending at once equals the concatenation. */
  static uint8_t got[EXP_MAX];
  size_t n = flatten_pending(&fx.q, 64, got, sizeof(got));
  CHECK_EQ_U64(n, fx.expect_len);
  CHECK_EQ_MEM(got, fx.expect, fx.expect_len);
  /* Referenced payloads are not copied: some segment points at them. */
  nnrp_iov iov[64];
  size_t cnt = nnrp__outq_pending(&fx.q, iov, 64);
  int found = 0;
  for (size_t i = 0; i < cnt; i++)
    if (iov[i].base == fx.payload[1])
      found = 1;
  CHECK(found);
  /* A data packet is 5 segments here: 4 data packets, 4 one-segment ones. */
  CHECK_EQ_U64(cnt, 4 * 5 + 4);
  /* Small caps return a prefix. */
  CHECK_EQ_U64(nnrp__outq_pending(&fx.q, iov, 3), 3);
  CHECK_EQ_U64(nnrp__outq_pending(&fx.q, iov, 0), 0);
  fx_teardown(&fx);
}

/* Consume at every offset, then check the rest is exactly the suffix. */
TEST(outq_every_offset) {
  static uint8_t got[EXP_MAX];
  outq_fx fx;
  if (!CHECK(fx_setup(&fx, NULL) == 0))
    return;
  size_t total = fx.expect_len;
  fx_teardown(&fx);
  int bad = 0;
  for (size_t off = 0; off <= total && !bad; off++) {
    if (fx_setup(&fx, NULL) != 0) {
      bad = 1;
      break;
    }
    sent_log log;
    memset(&log, 0, sizeof(log));
    if (nnrp__outq_consume(&fx.q, &fx.m, off, on_sent, &log) != 0)
      bad = 1;
    size_t n = flatten_pending(&fx.q, 64, got, sizeof(got));
    if (n != total - off || fx.q.bytes != total - off ||
        memcmp(got, fx.expect + off, n) != 0)
      bad = 1;
    /* Notifications: exactly the notify packets that ended by off. */
    unsigned want = 0;
    static const int notify[8] = {1, 0, 0, 1, 0, 1, 0, 1};
    for (unsigned i = 0; i < fx.npkt; i++)
      if (notify[i] && fx.ends[i] <= off)
        want++;
    if (log.n != want)
      bad = 1;
    fx_teardown(&fx);
  }
  CHECK(!bad);
}

/* Reassemble the stream with pending(cap)+consume(k) for many k and caps. */
TEST(outq_reassembly_many_k) {
  static uint8_t got[EXP_MAX], stream[EXP_MAX];
  static const size_t caps[] = {1, 2, 3, 7, 64};
  int bad = 0;
  for (size_t ci = 0; ci < sizeof(caps) / sizeof(caps[0]); ci++) {
    for (size_t k = 1; k <= 700 && !bad; k += (k < 40 ? 1 : 37)) {
      outq_fx fx;
      if (fx_setup(&fx, NULL) != 0) {
        bad = 1;
        break;
      }
      sent_log log;
      memset(&log, 0, sizeof(log));
      size_t slen = 0;
      while (fx.q.bytes > 0 && !bad) {
        size_t n = flatten_pending(&fx.q, caps[ci], got, sizeof(got));
        if (n == 0 || n == (size_t)-1) {
          bad = 1;
          break;
        }
        size_t take = n < k ? n : k; /* a short write */
        memcpy(stream + slen, got, take);
        slen += take;
        if (nnrp__outq_consume(&fx.q, &fx.m, take, on_sent, &log) != 0)
          bad = 1;
      }
      if (slen != fx.expect_len || memcmp(stream, fx.expect, slen) != 0)
        bad = 1;
      /* Every notify packet reported once, in order. */
      if (log.n != 4 || log.fid[0] != 11 || log.fid[1] != 14 ||
          log.fid[2] != 16 || log.fid[3] != 18 || log.ud[0] != 0x1001u ||
          log.ud[1] != 0x1004u || log.ud[2] != 0x1006u || log.ud[3] != 0x1008u)
        bad = 1;
      if (fx.q.head != NULL || fx.q.tail != NULL || fx.q.head_off != 0)
        bad = 1;
      fx_teardown(&fx);
    }
  }
  CHECK(!bad);
}

TEST(outq_notify_timing_and_invalid_consume) {
  outq_fx fx;
  if (!CHECK(fx_setup(&fx, NULL) == 0))
    return;
  sent_log log;
  memset(&log, 0, sizeof(log));
  /* Too much: refused, nothing changes. */
  uint64_t before = fx.q.bytes;
  CHECK_EQ_INT(
      nnrp__outq_consume(&fx.q, &fx.m, (size_t)before + 1, on_sent, &log),
      NNRP_ERR_INVALID_ARGUMENT);
  CHECK_EQ_U64(fx.q.bytes, before);
  CHECK_EQ_INT(log.n, 0);
  /* One byte short of the first packet: no notification yet. */
  CHECK_EQ_INT(nnrp__outq_consume(&fx.q, &fx.m, fx.ends[0] - 1, on_sent, &log),
               0);
  CHECK_EQ_INT(log.n, 0);
  CHECK_EQ_INT(nnrp__outq_consume(&fx.q, &fx.m, 1, on_sent, &log), 0);
  CHECK_EQ_INT(log.n, 1);
  CHECK_EQ_INT(log.fid[0], 11);
  CHECK_EQ_U64(log.ud[0], 0x1001u);
  /* consume(0) changes nothing. */
  CHECK_EQ_INT(nnrp__outq_consume(&fx.q, &fx.m, 0, on_sent, &log), 0);
  CHECK_EQ_INT(log.n, 1);
  CHECK_EQ_U64(fx.q.bytes, fx.expect_len - fx.ends[0]);
  /* The rest in one go: three more, in order; a NULL callback is fine. */
  CHECK_EQ_INT(
      nnrp__outq_consume(&fx.q, &fx.m, (size_t)fx.q.bytes, on_sent, &log), 0);
  CHECK_EQ_INT(log.n, 4);
  CHECK_EQ_INT(log.fid[1], 14);
  CHECK_EQ_INT(log.fid[2], 16);
  CHECK_EQ_INT(log.fid[3], 18);
  CHECK_EQ_U64(fx.q.bytes, 0);
  CHECK_EQ_INT(nnrp__outq_consume(&fx.q, &fx.m, 0, NULL, NULL), 0);
  CHECK_EQ_INT(nnrp__outq_consume(&fx.q, &fx.m, 1, NULL, NULL),
               NNRP_ERR_INVALID_ARGUMENT);
  CHECK_EQ_INT(log.n, 4);
  fx_teardown(&fx);
}

TEST(outq_empty_packet_and_abort) {
  nnrp_smem m;
  nnrp__smem_init(&m, NULL, 0);
  nnrp_outq q;
  nnrp__outq_init(&q);
  nnrp_out *o, *o2;
  /* An empty packet with notify is reported on the next consume. */
  CHECK_EQ_INT(nnrp__outq_begin(&q, &m, 0, 0, &o), 0);
  /* Only one packet can be open. */
  CHECK_EQ_INT(nnrp__outq_begin(&q, &m, 0, 0, &o2), NNRP_ERR_INVALID_STATE);
  CHECK_EQ_INT(nnrp__outq_push_copy(&q, &m, (const uint8_t *)"x", 1),
               NNRP_ERR_INVALID_STATE);
  nnrp__outq_commit(&q, 1, (void *)(uintptr_t)7, 77);
  CHECK_EQ_U64(q.bytes, 0);
  nnrp_iov iov[4];
  CHECK_EQ_U64(nnrp__outq_pending(&q, iov, 4), 0);
  sent_log log;
  memset(&log, 0, sizeof(log));
  CHECK_EQ_INT(nnrp__outq_consume(&q, &m, 0, on_sent, &log), 0);
  CHECK_EQ_INT(log.n, 1);
  CHECK_EQ_INT(log.fid[0], 77);
  CHECK(q.head == NULL);
  /* Abort: nothing queued, the entry is reused without allocating. */
  CHECK_EQ_INT(nnrp__outq_begin(&q, &m, 100, 2, &o), 0);
  CHECK(o->iov_cap >= 6);
  CHECK(o->scratch_cap >= 100);
  uint64_t used = m.used;
  nnrp__outq_abort(&q);
  nnrp__outq_abort(&q);              /* nothing open: no-op */
  nnrp__outq_commit(&q, 1, NULL, 1); /* nothing open: no-op */
  CHECK_EQ_U64(q.bytes, 0);
  CHECK(q.head == NULL);
  CHECK_EQ_INT(nnrp__outq_begin(&q, &m, 100, 2, &o), 0);
  CHECK_EQ_U64(m.used, used);
  nnrp__outq_abort(&q);
  /* push_copy of zero bytes queues an empty packet. */
  CHECK_EQ_INT(nnrp__outq_push_copy(&q, &m, NULL, 0), 0);
  CHECK(q.head != NULL);
  CHECK_EQ_INT(nnrp__outq_consume(&q, &m, 0, on_sent, &log), 0);
  CHECK(q.head == NULL);
  CHECK_EQ_INT(log.n, 1);
  nnrp__outq_free(&q, &m);
  CHECK_EQ_U64(m.used, 0);
}

/* Steady begin/build/commit/consume traffic allocates nothing once warm. */
TEST(outq_recycling_no_allocation) {
  counting cnt;
  nnrp_mem cm = counting_mem(&cnt);
  nnrp_smem m;
  nnrp__smem_init(&m, &cm, 0);
  nnrp_outq q;
  nnrp__outq_init(&q);
  static uint8_t payload[4096];
  memset(payload, 0xAB, sizeof(payload));
  sent_log log;
  unsigned allocs_after_warmup = 0;
  uint64_t used_after_warmup = 0;
  int bad = 0;
  rng_seed(42);
  for (int round = 0; round < 3000 && !bad; round++) {
    if (round == 1000) {
      allocs_after_warmup = cnt.mallocs + cnt.reallocs;
      used_after_warmup = m.used;
    }
    /* Up to 8 packets queued, of varying sizes and kinds. */
    unsigned k = 1 + rng_below(8);
    for (unsigned i = 0; i < k; i++) {
      nnrp_out *o;
      size_t sn = 16 + rng_below(200);
      size_t refs = rng_below(4);
      if (nnrp__outq_begin(&q, &m, sn, refs, &o) != 0) {
        bad = 1;
        break;
      }
      uint8_t *h = nnrp__out_reserve(o, sn);
      if (h == NULL) {
        bad = 1;
        break;
      }
      memset(h, 1, sn);
      for (size_t r = 0; r < refs; r++)
        if (nnrp__out_ref(o, payload + r * 1000, 65 + rng_below(900)) != 0)
          bad = 1;
      nnrp__outq_commit(&q, (int)(i & 1), NULL, i);
    }
    /* Drain with random short writes. */
    memset(&log, 0, sizeof(log));
    while (q.bytes > 0) {
      size_t n = 1 + rng_below(3000);
      if (n > q.bytes)
        n = (size_t)q.bytes;
      if (nnrp__outq_consume(&q, &m, n, on_sent, &log) != 0) {
        bad = 1;
        break;
      }
    }
    if (log.n != k / 2)
      bad = 1;
  }
  CHECK(!bad);
  CHECK_EQ_INT(cnt.mallocs + cnt.reallocs, allocs_after_warmup);
  CHECK_EQ_U64(m.used, used_after_warmup);
  CHECK(q.free_count <= 64);
  nnrp__outq_free(&q, &m);
  CHECK_EQ_U64(m.used, 0);
  CHECK_EQ_INT(cnt.live, 0);
}

TEST(outq_free_list_bounds) {
  nnrp_smem m;
  nnrp__smem_init(&m, NULL, 0);
  nnrp_outq q;
  nnrp__outq_init(&q);
  uint8_t b[32] = {0};
  for (int i = 0; i < 200; i++)
    if (!CHECK_EQ_INT(nnrp__outq_push_copy(&q, &m, b, sizeof(b)), 0))
      return;
  CHECK_EQ_U64(q.bytes, 200 * 32);
  CHECK_EQ_INT(nnrp__outq_consume(&q, &m, 200 * 32, NULL, NULL), 0);
  CHECK_EQ_INT(q.free_count, 64);
  uint64_t idle = m.used;
  /* A packet with a huge scratch is released, not kept. */
  static uint8_t big[100000];
  CHECK_EQ_INT(nnrp__outq_push_copy(&q, &m, big, sizeof(big)), 0);
  CHECK(m.used > idle + sizeof(big) - 1000);
  CHECK_EQ_INT(nnrp__outq_consume(&q, &m, sizeof(big), NULL, NULL), 0);
  CHECK(m.used < idle); /* its entry came from the free list and is gone */
  CHECK_EQ_INT(q.free_count, 63);
  /* Released with live and open entries. */
  CHECK_EQ_INT(nnrp__outq_push_copy(&q, &m, b, 5), 0);
  nnrp_out *o;
  CHECK_EQ_INT(nnrp__outq_begin(&q, &m, 10, 1, &o), 0);
  nnrp__outq_free(&q, &m);
  CHECK_EQ_U64(m.used, 0);
  CHECK(q.head == NULL && q.free_list == NULL && q.open == NULL);
  CHECK_EQ_U64(q.bytes, 0);
}

TEST(outq_nomem) {
  /* Every allocation of begin failing in turn: clean error, no leak, the
   * queue unchanged. */
  for (unsigned n = 1; n <= 3; n++) {
    counting cnt;
    nnrp_mem cm = counting_mem(&cnt);
    nnrp_smem m;
    nnrp__smem_init(&m, &cm, 0);
    nnrp_outq q;
    nnrp__outq_init(&q);
    CHECK_EQ_INT(nnrp__outq_push_copy(&q, &m, (const uint8_t *)"abc", 3), 0);
    cnt.calls = 0;
    cnt.fail_at = n;
    nnrp_out *o = NULL;
    CHECK_EQ_INT(nnrp__outq_begin(&q, &m, 5000, 4, &o), NNRP_ERR_NOMEM);
    CHECK(q.open == NULL);
    CHECK_EQ_U64(q.bytes, 3);
    cnt.fail_at = 0;
    nnrp__outq_free(&q, &m);
    CHECK_EQ_U64(m.used, 0);
    CHECK_EQ_INT(cnt.live, 0);
  }
  /* Memory ceiling. */
  nnrp_smem m;
  nnrp__smem_init(&m, NULL, 300);
  nnrp_outq q;
  nnrp__outq_init(&q);
  uint8_t b[100] = {0};
  CHECK_EQ_INT(nnrp__outq_push_copy(&q, &m, b, 1000), NNRP_ERR_NOMEM);
  CHECK_EQ_U64(q.bytes, 0);
  nnrp__outq_free(&q, &m);
  CHECK_EQ_U64(m.used, 0);
}

/* ======================================================================== */
/* evq.c                                                                    */
/* ======================================================================== */

static nnrp_event ev_n(uint32_t n) {
  nnrp_event ev;
  memset(&ev, 0, sizeof(ev));
  ev.type = NNRP_EV_SENT;
  ev.frame_id = n;
  ev.received_at = (uint64_t)n * 3;
  return ev;
}

TEST(evq_fifo_wrap_grow_limit) {
  nnrp_smem m;
  nnrp__smem_init(&m, NULL, 0);
  nnrp_evq q;
  nnrp__evq_init(&q, 100);
  nnrp_event ev;
  CHECK_EQ_INT(nnrp__evq_pop(&q, &ev), 0);
  CHECK(q.ring == NULL); /* lazy */
  uint32_t next_in = 1, next_out = 1;
  int bad = 0;
  /* Interleave so head wraps, then grow while wrapped, up to the limit. */
  rng_seed(7);
  for (int step = 0; step < 20000 && !bad; step++) {
    if (rng_below(100) < 55) {
      nnrp_event e = ev_n(next_in);
      int rc = nnrp__evq_push(&q, &m, &e);
      if (rc == 0)
        next_in++;
      else if (rc != NNRP_ERR_NOMEM || next_in - next_out != 100)
        bad = 1;
    } else {
      int got = nnrp__evq_pop(&q, &ev);
      if (got != (next_in != next_out))
        bad = 1;
      if (got) {
        if (ev.frame_id != next_out || ev.received_at != (uint64_t)next_out * 3)
          bad = 1;
        next_out++;
      }
    }
    if (q.count != next_in - next_out || q.cap > 100)
      bad = 1;
  }
  CHECK(!bad);
  CHECK(next_out > 5000);
  CHECK_EQ_INT(q.cap, 100);
  nnrp__evq_free(&q, &m);
  CHECK_EQ_U64(m.used, 0);
}

TEST(evq_grow_while_wrapped_exact) {
  nnrp_smem m;
  nnrp__smem_init(&m, NULL, 0);
  nnrp_evq q;
  nnrp__evq_init(&q, 1000);
  nnrp_event ev;
  for (uint32_t i = 1; i <= 16; i++) {
    nnrp_event e = ev_n(i);
    CHECK_EQ_INT(nnrp__evq_push(&q, &m, &e), 0);
  }
  CHECK_EQ_INT(q.cap, 16);
  for (uint32_t i = 1; i <= 10; i++)
    CHECK(nnrp__evq_pop(&q, &ev) == 1 && ev.frame_id == i);
  for (uint32_t i = 17; i <= 26; i++) { /* wraps: 16 in a ring of 16 */
    nnrp_event e = ev_n(i);
    CHECK_EQ_INT(nnrp__evq_push(&q, &m, &e), 0);
  }
  CHECK_EQ_INT(q.cap, 16);
  nnrp_event e27 = ev_n(27);
  CHECK_EQ_INT(nnrp__evq_push(&q, &m, &e27), 0); /* grows while wrapped */
  CHECK_EQ_INT(q.cap, 32);
  for (uint32_t i = 11; i <= 27; i++)
    CHECK(nnrp__evq_pop(&q, &ev) == 1 && ev.frame_id == i);
  CHECK_EQ_INT(nnrp__evq_pop(&q, &ev), 0);
  nnrp__evq_free(&q, &m);
  CHECK_EQ_U64(m.used, 0);
}

TEST(evq_limits) {
  nnrp_smem m;
  nnrp__smem_init(&m, NULL, 0);
  nnrp_evq q;
  nnrp_event e = ev_n(1), out;
  /* limit 0: nothing fits. */
  nnrp__evq_init(&q, 0);
  CHECK_EQ_INT(nnrp__evq_push(&q, &m, &e), NNRP_ERR_NOMEM);
  /* limit 3 (below the initial size): exactly 3. */
  nnrp__evq_init(&q, 3);
  for (int i = 0; i < 3; i++)
    CHECK_EQ_INT(nnrp__evq_push(&q, &m, &e), 0);
  CHECK_EQ_INT(nnrp__evq_push(&q, &m, &e), NNRP_ERR_NOMEM);
  CHECK_EQ_INT(q.cap, 3);
  CHECK_EQ_INT(nnrp__evq_pop(&q, &out), 1);
  CHECK_EQ_INT(nnrp__evq_push(&q, &m, &e), 0);
  nnrp__evq_free(&q, &m);
  CHECK_EQ_U64(m.used, 0);
  /* Memory ceiling: the first ring does not fit. */
  nnrp__smem_init(&m, NULL, 64);
  nnrp__evq_init(&q, 100);
  CHECK_EQ_INT(nnrp__evq_push(&q, &m, &e), NNRP_ERR_NOMEM);
  CHECK_EQ_INT(q.count, 0);
  nnrp__evq_free(&q, &m);
  CHECK_EQ_U64(m.used, 0);
}

/* ======================================================================== */
/* timers.c                                                                 */
/* ======================================================================== */

static int timer_cmp(const void *a, const void *b) {
  const nnrp_timer *x = a, *y = b;
  if (x->at != y->at)
    return x->at < y->at ? -1 : 1;
  if (x->frame_id != y->frame_id)
    return x->frame_id < y->frame_id ? -1 : 1;
  return 0;
}

TEST(theap_random_order) {
  nnrp_smem m;
  nnrp__smem_init(&m, NULL, 0);
  nnrp_theap h;
  nnrp__theap_init(&h);
  CHECK(nnrp__theap_top(&h) == NULL);
  nnrp__theap_pop(&h); /* empty: no-op */
  enum { MAXN = 3000 };
  static nnrp_timer ref[MAXN];
  size_t nref = 0;
  int bad = 0;
  rng_seed(99);
  for (int step = 0; step < 100000 && !bad; step++) {
    if (nref < MAXN && (nref == 0 || rng_below(100) < 52)) {
      nnrp_timer t;
      t.at = rng_below(500); /* many ties */
      t.frame_id = 1 + rng_below(100000);
      t.gen = (uint32_t)step;
      if (nnrp__theap_push(&h, &m, t) != 0)
        bad = 1;
      ref[nref++] = t;
    } else {
      /* The top is the reference minimum by (at, frame_id). */
      size_t best = 0;
      for (size_t i = 1; i < nref; i++)
        if (timer_cmp(&ref[i], &ref[best]) < 0)
          best = i;
      const nnrp_timer *top = nnrp__theap_top(&h);
      if (top == NULL || timer_cmp(top, &ref[best]) != 0)
        bad = 1;
      nnrp__theap_pop(&h);
      /* Remove one reference entry equal in (at, frame_id) (duplicates
       * of both are interchangeable for ordering). */
      ref[best] = ref[--nref];
    }
    if (h.n != nref)
      bad = 1;
  }
  CHECK(!bad);
  /* Drain: non-decreasing, ties by frame id. */
  nnrp_timer prev = {0, 0, 0};
  size_t drained = 0;
  for (const nnrp_timer *t; (t = nnrp__theap_top(&h)) != NULL;) {
    if (timer_cmp(t, &prev) < 0)
      bad = 1;
    prev = *t;
    nnrp__theap_pop(&h);
    drained++;
  }
  CHECK(!bad);
  CHECK_EQ_U64(drained, nref);
  nnrp__theap_free(&h, &m);
  CHECK_EQ_U64(m.used, 0);
}

TEST(theap_ties_and_nomem) {
  nnrp_smem m;
  nnrp__smem_init(&m, NULL, 0);
  nnrp_theap h;
  nnrp__theap_init(&h);
  nnrp_timer a = {100, 9, 1}, b = {100, 3, 2}, c = {50, 20, 3};
  CHECK_EQ_INT(nnrp__theap_push(&h, &m, a), 0);
  CHECK_EQ_INT(nnrp__theap_push(&h, &m, b), 0);
  CHECK_EQ_INT(nnrp__theap_push(&h, &m, c), 0);
  CHECK_EQ_INT(nnrp__theap_top(&h)->frame_id, 20);
  nnrp__theap_pop(&h);
  CHECK_EQ_INT(nnrp__theap_top(&h)->frame_id, 3);
  CHECK_EQ_INT(nnrp__theap_top(&h)->gen, 2);
  nnrp__theap_pop(&h);
  CHECK_EQ_INT(nnrp__theap_top(&h)->frame_id, 9);
  nnrp__theap_pop(&h);
  CHECK(nnrp__theap_top(&h) == NULL);
  nnrp__theap_free(&h, &m);
  /* Growth refused by the ceiling: error, heap intact. */
  nnrp__smem_init(&m, NULL, 16 * sizeof(nnrp_timer) + 16);
  for (uint32_t i = 0; i < 16; i++) {
    nnrp_timer t = {1000 - i, i + 1, 0};
    CHECK_EQ_INT(nnrp__theap_push(&h, &m, t), 0);
  }
  nnrp_timer t = {1, 99, 0};
  CHECK_EQ_INT(nnrp__theap_push(&h, &m, t), NNRP_ERR_NOMEM);
  CHECK_EQ_INT(h.n, 16);
  CHECK_EQ_U64(nnrp__theap_top(&h)->at, 985);
  nnrp__theap_free(&h, &m);
  CHECK_EQ_U64(m.used, 0);
}

/* ======================================================================== */
/* ftable.c                                                                 */
/* ======================================================================== */

/* Runs random add/get/del against a reference array of ids 1..idmax. */
static int ft_random(uint32_t limit, uint32_t idmax, uint32_t seed, int ops) {
  nnrp_smem m;
  nnrp__smem_init(&m, NULL, 0);
  nnrp_ftable t;
  nnrp__ft_init(&t, limit);
  t.seed = seed;
  uint8_t *live = calloc(idmax + 1, 1);
  uint32_t *gen = calloc(idmax + 1, sizeof(uint32_t));
  if (live == NULL || gen == NULL)
    harness_die(__FILE__, __LINE__, "out of memory");
  uint32_t count = 0, last_gen = 0;
  int bad = 0;
  for (int op = 0; op < ops && !bad; op++) {
    uint32_t id = 1 + rng_below(idmax);
    uint32_t r = rng_below(100);
    if (r < 45) {
      nnrp_frame *f = NULL;
      int rc = nnrp__ft_add(&t, &m, id, &f);
      int want = live[id]         ? NNRP_ERR_INVALID_ARGUMENT
                 : count >= limit ? NNRP_ERR_LIMIT_EXCEEDED
                                  : 0;
      if (rc != want)
        bad = 1;
      if (rc == 0) {
        if (f == NULL || f->id != id || f->gen != last_gen + 1 ||
            f->flags != 0 || f->trace_id != 0 || f->user_data != NULL ||
            f->deadline != 0 || f->view_id != 0)
          bad = 1;
        last_gen++;
        f->trace_id = (uint64_t)id * 1000003u; /* payload to follow moves */
        f->user_data = (void *)(uintptr_t)id;
        live[id] = 1;
        gen[id] = f->gen;
        count++;
      }
    } else if (r < 80) {
      nnrp__ft_del(&t, id);
      if (live[id]) {
        live[id] = 0;
        count--;
      }
    } else {
      nnrp_frame *f = nnrp__ft_get(&t, id);
      if (live[id] ? (f == NULL || f->id != id || f->gen != gen[id] ||
                      f->trace_id != (uint64_t)id * 1000003u ||
                      f->user_data != (void *)(uintptr_t)id)
                   : f != NULL)
        bad = 1;
    }
    if (t.count != count || (uint64_t)t.count * 2 > t.cap)
      bad = 1;
  }
  /* Full check at the end. */
  for (uint32_t id = 1; id <= idmax && !bad; id++) {
    nnrp_frame *f = nnrp__ft_get(&t, id);
    if (live[id] != (f != NULL))
      bad = 1;
  }
  /* Never larger than the limit needs. */
  uint64_t most = 2;
  while (most < (uint64_t)limit * 2)
    most *= 2;
  if (t.cap > most)
    bad = 1;
  nnrp__ft_free(&t, &m);
  if (m.used != 0)
    bad = 1;
  free(live);
  free(gen);
  return bad ? -1 : 0;
}

TEST(ftable_random_vs_reference) {
  rng_seed(1234);
  CHECK_EQ_INT(ft_random(700, 2000, 0, 100000), 0);
  /* Small table near its load limit: long clusters that wrap around. */
  CHECK_EQ_INT(ft_random(8, 40, 0, 100000), 0);
  CHECK_EQ_INT(ft_random(8, 40, 0xDEADBEEFu, 100000), 0);
  CHECK_EQ_INT(ft_random(100, 300, 77, 100000), 0);
  CHECK_EQ_INT(ft_random(1, 3, 0, 10000), 0);
}

TEST(ftable_limits_and_errors) {
  nnrp_smem m;
  nnrp__smem_init(&m, NULL, 0);
  nnrp_ftable t;
  nnrp__ft_init(&t, 3);
  nnrp_frame *f;
  CHECK(nnrp__ft_get(&t, 5) == NULL); /* empty, unallocated */
  nnrp__ft_del(&t, 5);                /* no-op */
  CHECK_EQ_INT(nnrp__ft_add(&t, &m, 0, &f), NNRP_ERR_INVALID_ARGUMENT);
  CHECK_EQ_INT(nnrp__ft_add(&t, &m, 5, &f), 0);
  CHECK_EQ_INT(f->gen, 1);
  CHECK_EQ_INT(nnrp__ft_add(&t, &m, 5, &f), NNRP_ERR_INVALID_ARGUMENT);
  CHECK_EQ_INT(nnrp__ft_add(&t, &m, 6, &f), 0);
  CHECK_EQ_INT(f->gen, 2);
  CHECK_EQ_INT(nnrp__ft_add(&t, &m, 0xFFFFFFFFu, &f), 0);
  CHECK_EQ_INT(nnrp__ft_add(&t, &m, 7, &f), NNRP_ERR_LIMIT_EXCEEDED);
  CHECK_EQ_INT(t.count, 3);
  CHECK_EQ_INT(t.cap, 8); /* 3 records at <= 50 % */
  CHECK(nnrp__ft_get(&t, 0) == NULL);
  nnrp__ft_del(&t, 6);
  nnrp__ft_del(&t, 6);
  CHECK_EQ_INT(t.count, 2);
  CHECK_EQ_INT(nnrp__ft_add(&t, &m, 7, &f), 0);
  CHECK_EQ_INT(f->gen, 4); /* failed adds consume no generation */
  nnrp__ft_free(&t, &m);
  CHECK_EQ_U64(m.used, 0);
  /* limit 0: nothing can be tracked. */
  nnrp__ft_init(&t, 0);
  CHECK_EQ_INT(nnrp__ft_add(&t, &m, 1, &f), NNRP_ERR_LIMIT_EXCEEDED);
  /* Memory ceiling on growth: NOMEM, table intact. */
  nnrp__smem_init(&m, NULL, 16 * sizeof(nnrp_frame) + 16);
  nnrp__ft_init(&t, 1000);
  for (uint32_t id = 1; id <= 8; id++)
    CHECK_EQ_INT(nnrp__ft_add(&t, &m, id, &f), 0);
  CHECK_EQ_INT(nnrp__ft_add(&t, &m, 9, &f), NNRP_ERR_NOMEM);
  CHECK_EQ_INT(t.count, 8);
  for (uint32_t id = 1; id <= 8; id++)
    CHECK(nnrp__ft_get(&t, id) != NULL);
  nnrp__ft_free(&t, &m);
  CHECK_EQ_U64(m.used, 0);
}

typedef struct each_ctx {
  nnrp_ftable *t;
  int mode; /* 0: visit only, 1: delete the visited record, 2: delete odd
               ids when visited, 3: like 2 and also delete a record not yet
               visited (id + 30) */
  uint8_t visits[512];
  uint8_t deleted[512];
  uint8_t predeleted[512]; /* deleted before its visit */
  unsigned nseen;
} each_ctx;

static void each_del(each_ctx *c, uint32_t id) {
  nnrp__ft_del(c->t, id);
  c->deleted[id] = 1;
}

static void each_fn(nnrp_frame *f, void *ctx) {
  each_ctx *c = ctx;
  uint32_t id = f->id;
  c->nseen++;
  if (id >= 512)
    return;
  c->visits[id]++;
  if (c->mode == 3) {
    uint32_t p = id + 30;
    if (p < 512 && c->visits[p] == 0 && !c->deleted[p] &&
        nnrp__ft_get(c->t, p) != NULL) {
      each_del(c, p);
      c->predeleted[p] = 1;
    }
  }
  if (c->mode == 1 || (c->mode >= 2 && (id & 1)))
    each_del(c, id);
}

static int each_run(uint32_t seed, int mode, uint32_t n) {
  nnrp_smem m;
  nnrp__smem_init(&m, NULL, 0);
  nnrp_ftable t;
  nnrp__ft_init(&t, 400);
  t.seed = seed;
  nnrp_frame *f;
  int bad = 0;
  for (uint32_t id = 1; id <= n; id++)
    if (nnrp__ft_add(&t, &m, id * 3, &f) != 0)
      bad = 1;
  each_ctx *c = calloc(1, sizeof(*c));
  if (c == NULL)
    harness_die(__FILE__, __LINE__, "out of memory");
  c->t = &t;
  c->mode = mode;
  nnrp__ft_each(&t, each_fn, c);
  uint32_t left = 0;
  for (uint32_t id = 1; id < 512; id++) {
    int in_set = id % 3 == 0 && id / 3 <= n;
    /* Every record exactly once, unless deleted before its turn. */
    if (c->visits[id] + c->predeleted[id] != (in_set ? 1 : 0))
      bad = 1;
    if (in_set && !c->deleted[id])
      left++;
    if ((nnrp__ft_get(&t, id) != NULL) != (in_set && !c->deleted[id]))
      bad = 1;
  }
  if (t.count != left || (mode == 0 && c->nseen != n))
    bad = 1;
  free(c);
  nnrp__ft_free(&t, &m);
  return bad ? -1 : 0;
}

TEST(ftable_each_with_deletion) {
  /* Many seeds: clusters in every position, including wrap-around. */
  int bad = 0;
  for (uint32_t seed = 0; seed < 300 && !bad; seed++)
    for (int mode = 0; mode < 4 && !bad; mode++)
      for (uint32_t n = 0; n <= 160 && !bad; n += 1 + n / 4)
        if (each_run(seed * 2654435761u, mode, n) != 0)
          bad = 1;
  CHECK(!bad);
  /* Empty table: fn never called. */
  nnrp_ftable t;
  nnrp__ft_init(&t, 10);
  each_ctx c;
  memset(&c, 0, sizeof(c));
  c.t = &t;
  nnrp__ft_each(&t, each_fn, &c);
  CHECK_EQ_INT(c.nseen, 0);
}

int main(void) {
  RUN(mem_accounting_and_alignment);
  RUN(mem_limit_refusal);
  RUN(mem_allocator_failure);
  RUN(outq_bytes_and_segments);
  RUN(outq_every_offset);
  RUN(outq_reassembly_many_k);
  RUN(outq_notify_timing_and_invalid_consume);
  RUN(outq_empty_packet_and_abort);
  RUN(outq_recycling_no_allocation);
  RUN(outq_free_list_bounds);
  RUN(outq_nomem);
  RUN(evq_fifo_wrap_grow_limit);
  RUN(evq_grow_while_wrapped_exact);
  RUN(evq_limits);
  RUN(theap_random_order);
  RUN(theap_ties_and_nomem);
  RUN(ftable_random_vs_reference);
  RUN(ftable_limits_and_errors);
  RUN(ftable_each_with_deletion);
  TEST_MAIN_END();
}
