/* SPDX-License-Identifier: Apache-2.0 */
/*
 * outq.c - the session's output queue (session_int.h "outq.c"): a FIFO of
 * packets, each a list of segments (owned scratch bytes and references to
 * caller payloads) built by the wire layer's nnrp_out. Entries and their
 * buffers are recycled through a bounded free list, so steady submit/result
 * traffic does not allocate once warmed up (session-preamble: hot path).
 */
#include <string.h>

#include "session_int.h"

/* Free entries kept for reuse; more are released. */
#define OUTQ_FREE_MAX 64u
/* Entries whose scratch or iovec array is larger than this are released
 * instead of recycled: one huge packet must not pin its buffer forever. */
#define OUTQ_RECYCLE_MAX ((size_t)64 * 1024)
/* Smallest scratch buffer allocated (control packets fit without regrowth). */
#define OUTQ_SCRATCH_MIN ((size_t)256)

struct nnrp_outq_entry {
  nnrp_outq_entry *next;
  nnrp_out out;     /* builder state; the packet's segments once committed */
  uint8_t *scratch; /* owned */
  size_t scratch_cap;
  nnrp_iov *iov; /* owned */
  size_t iov_cap;
  uint64_t bytes; /* packet size: the sum of its segments */
  size_t seg;     /* head entry: first segment not completely written */
  size_t seg_off; /* head entry: bytes of that segment written */
  void *user_data;
  uint32_t frame_id;
  uint8_t notify;
};

void nnrp__outq_init(nnrp_outq *q) { memset(q, 0, sizeof(*q)); }

/* ---- segments of an entry --------------------------------------------- */

/* Contiguous mode (iov_cap 0) is one segment: scratch[0..scratch_len). */
static size_t entry_nseg(const nnrp_outq_entry *e) {
  return e->out.iov_cap != 0 ? e->out.iov_len : 1;
}

static nnrp_iov entry_seg(const nnrp_outq_entry *e, size_t i) {
  if (e->out.iov_cap != 0)
    return e->out.iov[i];
  nnrp_iov v;
  v.base = e->out.scratch;
  v.len = e->out.scratch_len;
  return v;
}

static uint64_t entry_size(const nnrp_outq_entry *e) {
  uint64_t sum = 0;
  size_t ns = entry_nseg(e);
  for (size_t i = 0; i < ns; i++)
    sum += entry_seg(e, i).len;
  return sum;
}

/* Moves the head entry's write position n bytes on (n < unwritten bytes). */
static void entry_advance(nnrp_outq_entry *e, size_t n) {
  size_t ns = entry_nseg(e);
  while (n > 0 && e->seg < ns) {
    size_t left = entry_seg(e, e->seg).len - e->seg_off;
    if (n < left) {
      e->seg_off += n;
      return;
    }
    n -= left;
    e->seg++;
    e->seg_off = 0;
  }
}

/* ---- entry allocation and recycling ------------------------------------ */

static void entry_destroy(nnrp_smem *m, nnrp_outq_entry *e) {
  nnrp__sfree(m, e->scratch);
  nnrp__sfree(m, e->iov);
  nnrp__sfree(m, e);
}

static void entry_push_free(nnrp_outq *q, nnrp_outq_entry *e) {
  e->user_data = NULL;
  e->notify = 0;
  e->next = q->free_list;
  q->free_list = e;
  q->free_count++;
}

static void entry_release(nnrp_outq *q, nnrp_smem *m, nnrp_outq_entry *e) {
  if (q->free_count >= OUTQ_FREE_MAX || e->scratch_cap > OUTQ_RECYCLE_MAX ||
      e->iov_cap > OUTQ_RECYCLE_MAX / sizeof(nnrp_iov))
    entry_destroy(m, e);
  else
    entry_push_free(q, e);
}

/* Makes e->scratch hold at least need bytes (old contents are dropped). */
static int entry_grow_scratch(nnrp_smem *m, nnrp_outq_entry *e, size_t need) {
  if (e->scratch != NULL && e->scratch_cap >= need)
    return 0;
  if (need > SIZE_MAX - 63)
    return NNRP_ERR_NOMEM;
  size_t cap = (need + 63) & ~(size_t)63;
  if (cap < OUTQ_SCRATCH_MIN)
    cap = OUTQ_SCRATCH_MIN;
  nnrp__sfree(m, e->scratch);
  e->scratch_cap = 0;
  e->scratch = nnrp__smalloc(m, cap);
  if (e->scratch == NULL)
    return NNRP_ERR_NOMEM;
  e->scratch_cap = cap;
  return 0;
}

static int entry_grow_iov(nnrp_smem *m, nnrp_outq_entry *e, size_t need) {
  if (e->iov_cap >= need)
    return 0;
  if (need > SIZE_MAX / sizeof(nnrp_iov))
    return NNRP_ERR_NOMEM;
  nnrp__sfree(m, e->iov);
  e->iov_cap = 0;
  e->iov = nnrp__smalloc(m, need * sizeof(nnrp_iov));
  if (e->iov == NULL)
    return NNRP_ERR_NOMEM;
  e->iov_cap = need;
  return 0;
}

static nnrp_outq_entry *entry_take(nnrp_outq *q, nnrp_smem *m) {
  nnrp_outq_entry *e = q->free_list;
  if (e != NULL) {
    q->free_list = e->next;
    q->free_count--;
    return e;
  }
  e = nnrp__smalloc(m, sizeof(*e));
  if (e != NULL)
    memset(e, 0, sizeof(*e));
  return e;
}

/* ---- building ---------------------------------------------------------- */

int nnrp__outq_begin(nnrp_outq *q, nnrp_smem *m, size_t scratch_need,
                     size_t iov_need, nnrp_out **out) {
  if (q->open != NULL)
    return NNRP_ERR_INVALID_STATE;
  /* The builder coalesces scratch writes, so a packet with r referenced
   * payloads has at most 2r+1 segments. */
  size_t iov_want = 0;
  if (iov_need != 0) {
    if (iov_need > (SIZE_MAX / sizeof(nnrp_iov) - 2) / 2)
      return NNRP_ERR_NOMEM;
    iov_want = iov_need * 2 + 2;
  }
  nnrp_outq_entry *e = entry_take(q, m);
  if (e == NULL)
    return NNRP_ERR_NOMEM;
  if (entry_grow_scratch(m, e, scratch_need) != 0 ||
      entry_grow_iov(m, e, iov_want) != 0) {
    entry_release(q, m, e);
    return NNRP_ERR_NOMEM;
  }
  if (iov_want != 0)
    nnrp_out_init(&e->out, e->scratch, e->scratch_cap, e->iov, e->iov_cap);
  else
    nnrp_out_init(&e->out, e->scratch, e->scratch_cap, NULL, 0);
  e->next = NULL;
  q->open = e;
  *out = &e->out;
  return 0;
}

void nnrp__outq_commit(nnrp_outq *q, int notify, void *user_data,
                       uint32_t frame_id) {
  nnrp_outq_entry *e = q->open;
  if (e == NULL)
    return;
  q->open = NULL;
  /* The sum of the segments equals out.total by the nnrp_out contract;
   * computing it keeps `bytes` consistent with what pending() hands out. */
  e->bytes = entry_size(e);
  e->seg = 0;
  e->seg_off = 0;
  e->notify = notify != 0;
  e->user_data = user_data;
  e->frame_id = frame_id;
  e->next = NULL;
  if (q->tail != NULL)
    q->tail->next = e;
  else
    q->head = e;
  q->tail = e;
  q->bytes += e->bytes;
}

void nnrp__outq_abort(nnrp_outq *q) {
  nnrp_outq_entry *e = q->open;
  if (e == NULL)
    return;
  q->open = NULL;
  /* No allocator here: always recycled. The next begin takes it back (the
   * free list is LIFO), so the list exceeds its bound by one at most. */
  entry_push_free(q, e);
}

int nnrp__outq_push_copy(nnrp_outq *q, nnrp_smem *m, const uint8_t *p,
                         size_t n) {
  nnrp_out *o;
  int rc = nnrp__outq_begin(q, m, n, 0, &o);
  if (rc != 0)
    return rc;
  if (n != 0)
    memcpy(o->scratch, p, n);
  o->scratch_len = n;
  o->total = n;
  nnrp__outq_commit(q, 0, NULL, 0);
  return 0;
}

/* ---- writing ----------------------------------------------------------- */

size_t nnrp__outq_pending(const nnrp_outq *q, nnrp_iov *iov, size_t cap) {
  size_t k = 0;
  for (const nnrp_outq_entry *e = q->head; e != NULL && k < cap; e = e->next) {
    size_t i = e == q->head ? e->seg : 0;
    size_t off = e == q->head ? e->seg_off : 0;
    size_t ns = entry_nseg(e);
    for (; i < ns && k < cap; i++, off = 0) {
      nnrp_iov s = entry_seg(e, i);
      if (s.len <= off)
        continue; /* empty segment */
      iov[k].base = (const uint8_t *)s.base + off;
      iov[k].len = s.len - off;
      k++;
    }
  }
  return k;
}

int nnrp__outq_consume(nnrp_outq *q, nnrp_smem *m, size_t n,
                       void (*sent)(void *ctx, void *user_data,
                                    uint32_t frame_id),
                       void *ctx) {
  if ((uint64_t)n > q->bytes)
    return NNRP_ERR_INVALID_ARGUMENT;
  for (;;) {
    nnrp_outq_entry *e = q->head;
    if (e == NULL)
      break;
    uint64_t left = e->bytes - q->head_off;
    if ((uint64_t)n < left) {
      entry_advance(e, n);
      q->head_off += n;
      q->bytes -= n;
      break;
    }
    /* Fully written (also empty entries when n is used up). Unlink and
     * recycle before the callback so it sees a consistent queue. */
    n -= (size_t)left;
    q->bytes -= left;
    q->head = e->next;
    if (q->head == NULL)
      q->tail = NULL;
    q->head_off = 0;
    int notify = e->notify;
    void *ud = e->user_data;
    uint32_t fid = e->frame_id;
    entry_release(q, m, e);
    if (notify && sent != NULL)
      sent(ctx, ud, fid);
  }
  return 0;
}

void nnrp__outq_free(nnrp_outq *q, nnrp_smem *m) {
  nnrp_outq_entry *lists[2] = {q->head, q->free_list};
  for (int l = 0; l < 2; l++) {
    nnrp_outq_entry *e = lists[l];
    while (e != NULL) {
      nnrp_outq_entry *next = e->next;
      entry_destroy(m, e);
      e = next;
    }
  }
  if (q->open != NULL)
    entry_destroy(m, q->open);
  nnrp__outq_init(q);
}
