/* SPDX-License-Identifier: Apache-2.0 */
/*
 * evq.c - the session's event queue (session_int.h "evq.c"): a FIFO ring of
 * nnrp_event copies, allocated on first use and doubled as needed up to
 * settings.max_events entries (every peer-driven quantity is bounded).
 */
#include <string.h>

#include "session_int.h"

/* First ring size (or the limit when smaller). Small: an idle session
 * holds few events (a handshake, the odd PONG); a busy one doubles it. */
#define EVQ_INITIAL_CAP 4u

void nnrp__evq_init(nnrp_evq *q, uint32_t limit) {
  memset(q, 0, sizeof(*q));
  q->limit = limit;
}

void nnrp__evq_free(nnrp_evq *q, nnrp_smem *m) {
  nnrp__sfree(m, q->ring);
  nnrp__evq_init(q, q->limit);
}

/* Grows the ring to at least `need` entries (doubling). The wrapped-around
 * front part [head, cap) moves to the end of the larger array so the order
 * is kept. Normal pushes stop at the limit; reserved slots may go beyond it
 * (they are bounded by the frames and packets that hold them). */
static int evq_grow(nnrp_evq *q, nnrp_smem *m, uint64_t need) {
  uint64_t want = q->cap == 0 ? EVQ_INITIAL_CAP : (uint64_t)q->cap * 2;
  uint64_t max = (uint64_t)q->limit + q->reserved;
  if (want > max)
    want = max;
  if (want < need)
    want = need;
  if (want <= q->cap || want > SIZE_MAX / sizeof(nnrp_event) ||
      want > UINT32_MAX)
    return NNRP_ERR_NOMEM;
  nnrp_event *r = nnrp__srealloc(m, q->ring, (size_t)want * sizeof(nnrp_event));
  if (r == NULL)
    return NNRP_ERR_NOMEM;
  uint32_t ncap = (uint32_t)want;
  uint32_t front = q->cap - q->head; /* entries from head to the old end */
  if (q->count != 0 && front < q->count) {
    memmove(r + (ncap - front), r + q->head, front * sizeof(nnrp_event));
    q->head = ncap - front;
  }
  q->ring = r;
  q->cap = ncap;
  return 0;
}

static void put(nnrp_evq *q, const nnrp_event *ev) {
  uint32_t tail = (uint32_t)(((uint64_t)q->head + q->count) % q->cap);
  q->ring[tail] = *ev;
  q->count++;
}

int nnrp__evq_reserve(nnrp_evq *q, nnrp_smem *m) {
  uint64_t need = (uint64_t)q->count + q->reserved + 1;
  if (need > q->cap) {
    q->reserved++; /* lets evq_grow go past the limit by one more slot */
    int rc = evq_grow(q, m, need);
    q->reserved--;
    if (rc != 0)
      return rc;
  }
  q->reserved++;
  return 0;
}

void nnrp__evq_unreserve(nnrp_evq *q) {
  if (q->reserved)
    q->reserved--;
}

int nnrp__evq_push_reserved(nnrp_evq *q, const nnrp_event *ev) {
  if (q->reserved == 0 || q->count >= q->cap)
    return NNRP_ERR_INTERNAL; /* a caller without a reservation: a bug */
  q->reserved--;
  put(q, ev);
  return 0;
}

int nnrp__evq_push(nnrp_evq *q, nnrp_smem *m, const nnrp_event *ev) {
  if (q->count >= q->limit)
    return NNRP_ERR_NOMEM;
  if ((uint64_t)q->count + q->reserved >= q->cap) {
    int rc = evq_grow(q, m, (uint64_t)q->count + q->reserved + 1);
    if (rc != 0)
      return rc;
  }
  put(q, ev);
  return 0;
}

int nnrp__evq_pop(nnrp_evq *q, nnrp_event *ev) {
  if (q->count == 0)
    return 0;
  *ev = q->ring[q->head];
  q->head = q->head + 1 == q->cap ? 0 : q->head + 1;
  q->count--;
  return 1;
}
