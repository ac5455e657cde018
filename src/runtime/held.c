/* SPDX-License-Identifier: Apache-2.0 */
/*
 * held.c - held submits of the server runtime. Each accepted FRAME_SUBMIT is
 * copied once out of the read buffer into a per-frame buffer (the views the
 * application gets must outlive the read buffer) and decoded there. The
 * record lives until the frame is answered or released and every result
 * that may reference its bytes has been written. Buffers are recycled
 * through a bounded per-server pool, so steady traffic does not allocate.
 */
#include <stdlib.h>
#include <string.h>

#include "runtime/server_int.h"

#define POOL_MAX_COUNT 64u
#define POOL_MAX_BYTES ((uint64_t)16 << 20)
#define POOL_MAX_BLOCK ((size_t)1 << 20)
#define BLOCK_MIN ((size_t)4096)

static nnrp__held *pool_get(nnrp_server *srv, size_t need) {
  for (nnrp__held **pp = &srv->pool; *pp; pp = &(*pp)->next) {
    nnrp__held *h = *pp;
    if (h->cap >= need) {
      *pp = h->next;
      srv->pool_count--;
      srv->pool_bytes -= h->cap;
      return h;
    }
  }
  size_t cap = need < BLOCK_MIN ? BLOCK_MIN : (need + 4095u) & ~(size_t)4095u;
  nnrp__held *h = malloc(sizeof(*h) + cap);
  if (h)
    h->cap = cap;
  return h;
}

static void pool_put(nnrp_server *srv, nnrp__held *h) {
  if (srv->closing || h->cap > POOL_MAX_BLOCK ||
      srv->pool_count >= POOL_MAX_COUNT ||
      srv->pool_bytes + h->cap > POOL_MAX_BYTES) {
    free(h);
    return;
  }
  h->next = srv->pool;
  srv->pool = h;
  srv->pool_count++;
  srv->pool_bytes += h->cap;
}

void nnrp__held_pool_free(nnrp_server *srv) {
  while (srv->pool) {
    nnrp__held *h = srv->pool;
    srv->pool = h->next;
    free(h);
  }
  srv->pool_count = 0;
  srv->pool_bytes = 0;
}

/* Objects the submit referenced, resolved from the session cache: copied
 * behind the packet, because the cache only holds them until the frame
 * ends, which may come before the application lets go of the submit. */
static void copy_resolved(nnrp__held *h, const nnrp_event *ev, uint8_t *dst) {
  uint8_t n = ev->resolved_count;
  if (n > NNRP_MAX_RESOLVED_OBJECTS)
    n = NNRP_MAX_RESOLVED_OBJECTS;
  for (uint8_t i = 0; i < n; i++) {
    h->pub.resolved[i] = ev->resolved[i];
    size_t len = ev->resolved[i].data.len;
    if (len)
      memcpy(dst, ev->resolved[i].data.ptr, len);
    h->pub.resolved[i].data.ptr = len ? dst : NULL;
    dst += len;
  }
  h->pub.resolved_count = n;
}

static size_t resolved_bytes(const nnrp_event *ev) {
  size_t n = 0;
  for (uint8_t i = 0; i < ev->resolved_count && i < NNRP_MAX_RESOLVED_OBJECTS;
       i++)
    n += ev->resolved[i].data.len;
  return n;
}

nnrp__held *nnrp__held_add(nnrp_server_session *ss, const nnrp_event *ev) {
  size_t pkt = nnrp__pkt_size(ev->packet);
  size_t n = pkt + resolved_bytes(ev);
  nnrp__held *h = pool_get(ss->srv, n);
  if (h == NULL)
    return NULL;
  size_t cap = h->cap;
  memset(h, 0, sizeof(*h));
  h->cap = cap;
  uint32_t wf = ss->srv->cfg.lenient ? NNRP_WIRE_LENIENT : 0;
  if (nnrp__pkt_copy(&h->pkt, h->data, ev->packet, wf) != 0 ||
      nnrp__idmap_put(&ss->held, ev->frame_id, h) != 0) {
    pool_put(ss->srv, h);
    return NULL;
  }
  nnrp__list_init(&h->q);
  nnrp__list_init(&h->gq);
  h->bytes = n;
  h->pub.session = ss;
  h->pub.frame_id = ev->frame_id;
  h->pub.view_id = ev->view_id;
  h->pub.loss_tolerance = ev->loss_tolerance;
  h->pub.received_at = ev->received_at;
  h->pub.packet = &h->pkt;
  h->pub.meta = &h->pkt.m.frame_submit;
  h->pub.body = &h->pkt.b.data;
  copy_resolved(h, ev, h->data + pkt);
  ss->held_count++;
  ss->held_bytes += n;
  if (ss->held_count > ss->held_peak)
    ss->held_peak = ss->held_count;
  if (ss->held_bytes > ss->held_bytes_peak)
    ss->held_bytes_peak = ss->held_bytes;
  return h;
}

void nnrp__held_unqueue(nnrp__held *h) {
  if (nnrp__list_linked(&h->q))
    nnrp__list_remove(&h->q);
  if (nnrp__list_linked(&h->gq))
    nnrp__list_remove(&h->gq);
}

static void release(nnrp_server_session *ss, nnrp__held *h) {
  nnrp__held_unqueue(h);
  (void)nnrp__idmap_del(&ss->held, h->pub.frame_id);
  ss->held_count--;
  ss->held_bytes -= h->bytes;
  pool_put(ss->srv, h);
}

int nnrp__held_release_if_done(nnrp_server_session *ss, nnrp__held *h) {
  int done = h->answered || h->released || (h->finished && !h->delivered);
  if (!done || h->pending_sends)
    return 0;
  release(ss, h);
  return 1;
}

void nnrp__held_maybe_release(nnrp_server_session *ss, nnrp__held *h) {
  if (!nnrp__held_release_if_done(ss, h))
    return;
  nnrp__conn_resume(&ss->conn);
  nnrp__ss_maybe_free(ss);
}

nnrp__held *nnrp__held_list(nnrp_server_session *ss) {
  nnrp__held *list = NULL;
  for (uint32_t i = 0; i < ss->held.cap; i++) {
    if (ss->held.slots[i].key) {
      nnrp__held *h = ss->held.slots[i].val;
      h->next = list;
      list = h;
    }
  }
  return list;
}

void nnrp__held_free_all(nnrp_server_session *ss) {
  nnrp__held *h = nnrp__held_list(ss);
  while (h) {
    nnrp__held *next = h->next;
    release(ss, h);
    h = next;
  }
  nnrp__idmap_free(&ss->held);
}
