/* SPDX-License-Identifier: Apache-2.0 */
/*
 * held.c - held submits of the server runtime. Each accepted FRAME_SUBMIT is
 * copied once out of the read buffer into a per-frame buffer (the views the
 * application gets must outlive the read buffer) and decoded there; a large
 * one that the connection read whole keeps that buffer instead (no copy). The
 * record lives until the frame is answered or released and every result
 * that may reference its bytes has been written. Buffers come from a
 * per-server pool in size classes (bpool.h), bounded by the most records
 * the server ever held at once (so by its held-submit limits) and by
 * POOL_MAX_BYTES: a steady window of frames does not allocate.
 */
#include <stdlib.h>
#include <string.h>

#include "runtime/server_int.h"

#define POOL_MIN_KEEP 64u
#define POOL_MAX_BYTES ((uint64_t)16 << 20)

void nnrp__held_pool_init(nnrp_server *srv) {
  nnrp__bpool_init(&srv->pool, POOL_MIN_KEEP, POOL_MAX_BYTES);
}

static nnrp__held *pool_get(nnrp_server *srv, size_t need) {
  size_t cap = 0;
  nnrp__held *h = nnrp__bpool_get(&srv->pool, sizeof(*h) + need, &cap);
  if (h)
    h->cap = cap - sizeof(*h);
  return h;
}

static void pool_put(nnrp_server *srv, nnrp__held *h) {
  size_t blk = sizeof(*h) + h->cap;
  if (h->ext) {
    nnrp__bpool_put(&srv->rt->rpool, h->ext, h->ext_cap);
    h->ext = NULL;
  }
  if (srv->closing) {
    nnrp__bpool_forget(&srv->pool);
    free(h);
    return;
  }
  nnrp__bpool_put(&srv->pool, h, blk);
}

void nnrp__held_pool_free(nnrp_server *srv) { nnrp__bpool_drain(&srv->pool); }

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

/* The packet of ev into h: the connection's own buffer when it read the
 * packet whole, else a copy at the start of h->data. @return 0 or the
 * decoder's error. */
static int take_packet(nnrp_server_session *ss, nnrp__held *h,
                       const nnrp_event *ev, uint8_t *ext, size_t ext_cap) {
  uint32_t wf = ss->srv->cfg.lenient ? NNRP_WIRE_LENIENT : 0;
  if (ext == NULL)
    return nnrp__pkt_copy(&h->pkt, h->data, ev->packet, wf);
  h->ext = ext;
  h->ext_cap = ext_cap;
  return nnrp__pkt_adopt(&h->pkt, ext, ev->packet, wf);
}

nnrp__held *nnrp__held_add(nnrp_server_session *ss, const nnrp_event *ev) {
  size_t pkt = nnrp__pkt_size(ev->packet), ext_cap = 0;
  uint8_t *ext = nnrp__conn_adopt(&ss->conn, ev->packet, &ext_cap);
  size_t n = pkt + resolved_bytes(ev); /* accounted */
  nnrp__held *h = pool_get(ss->srv, ext ? n - pkt : n);
  if (h == NULL) {
    nnrp__bpool_put(&ss->srv->rt->rpool, ext, ext_cap);
    return NULL;
  }
  size_t cap = h->cap;
  memset(h, 0, sizeof(*h));
  h->cap = cap;
  if (take_packet(ss, h, ev, ext, ext_cap) != 0 ||
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
  copy_resolved(h, ev, h->ext ? h->data : h->data + pkt);
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
