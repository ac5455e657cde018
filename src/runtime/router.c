/* SPDX-License-Identifier: Apache-2.0 */
/*
 * router.c - result router of the client runtime (router.h, session.md
 * §7.9 rules 1-7). The oldest record of all is always the head of its
 * frame's queue (both queues are in arrival order), so "any" takes pop the
 * arrival list, and "by frame" takes unlink from the middle of it.
 * Frame records and result blocks come from the runtime's pool (bpool.h).
 * A result handed to the application stays on the runtime's `results`
 * list until nnrp_client_result_free() returns it to the pool; when the
 * runtime goes first, nnrp__rt_results_detach() unlinks them and they are
 * freed with free() later (a result outlives its runtime).
 */
#include <stdlib.h>
#include <string.h>

#include "runtime/router.h"

struct nnrp__rres {
  nnrp_client_result pub; /* first: the application frees this pointer */
  nnrp_packet pkt;
  nnrp__rres *fnext; /* next record of the same frame */
  /* The router's arrival queue while queued; rt->results once taken. */
  nnrp__link arrival;
  nnrp_runtime *rt; /* whose pool the block returns to; NULL: detached */
  size_t cap;       /* block size */
  /* The packet's bytes when the connection read it whole (an rt->rpool
   * block of ext_cap bytes, nnrp__conn_adopt), else NULL: copy in data. */
  uint8_t *ext;
  size_t ext_cap;
  size_t bytes;     /* accounted against the bounds */
  uint8_t data[];   /* packet copy, or the failure diagnostic */
};

typedef struct nnrp__rframe {
  uint32_t id;
  uint8_t ended; /* the terminal record is queued */
  size_t cap;    /* block size */
  nnrp__rres *head, *tail;
  nnrp__rres *spare; /* failure record reserved at submit */
} nnrp__rframe;

void nnrp__router_init(nnrp__router *r, nnrp_runtime *rt, uint64_t max_bytes,
                       uint32_t max_count, uint32_t wire_flags) {
  memset(r, 0, sizeof(*r));
  nnrp__idmap_init(&r->frames);
  nnrp__list_init(&r->arrival);
  r->rt = rt;
  r->max_bytes = max_bytes;
  r->max_count = max_count;
  r->wire_flags = wire_flags;
}

static nnrp__rres *rres_new(nnrp__router *r, size_t data) {
  size_t cap = 0;
  nnrp__rres *x = nnrp__bpool_get(&r->rt->rpool, sizeof(*x) + data, &cap);
  if (x == NULL)
    return NULL;
  x->rt = r->rt;
  x->cap = cap;
  x->ext = NULL;
  x->ext_cap = 0;
  nnrp__list_init(&x->arrival);
  return x;
}

/* A record that is not queued (or a NULL spare). */
static void rres_free(nnrp__rres *x) {
  if (x == NULL)
    return;
  nnrp__bpool_put(&x->rt->rpool, x->ext, x->ext_cap);
  nnrp__bpool_put(&x->rt->rpool, x, x->cap);
}

static void unqueue(nnrp__router *r, nnrp__rres *x) {
  nnrp__list_remove(&x->arrival);
  r->bytes -= x->bytes;
  r->count--;
}

static void frame_free(nnrp__router *r, nnrp__rframe *f) {
  for (nnrp__rres *x = f->head, *n; x; x = n) {
    n = x->fnext;
    unqueue(r, x);
    rres_free(x);
  }
  rres_free(f->spare);
  nnrp__bpool_put(&r->rt->rpool, f, f->cap);
}

void nnrp__router_free(nnrp__router *r) {
  for (uint32_t i = 0; i < r->frames.cap; i++)
    if (r->frames.slots[i].key)
      frame_free(r, r->frames.slots[i].val);
  nnrp__idmap_free(&r->frames);
  nnrp__list_init(&r->arrival);
  r->bytes = 0;
  r->count = 0;
}

int nnrp__router_track(nnrp__router *r, uint32_t frame_id) {
  size_t cap = 0;
  nnrp__rframe *f = nnrp__bpool_get(&r->rt->rpool, sizeof(*f), &cap);
  nnrp__rres *spare = rres_new(r, NNRP__DIAG_MAX);
  if (f == NULL || spare == NULL ||
      nnrp__idmap_put(&r->frames, frame_id, f) != 0) {
    nnrp__bpool_put(&r->rt->rpool, f, cap);
    rres_free(spare);
    return NNRP_ERR_NOMEM;
  }
  memset(f, 0, sizeof(*f));
  f->id = frame_id;
  f->cap = cap;
  f->spare = spare;
  return 0;
}

static void enqueue(nnrp__router *r, nnrp__rframe *f, nnrp__rres *x) {
  x->fnext = NULL;
  if (f->tail)
    f->tail->fnext = x;
  else
    f->head = x;
  f->tail = x;
  nnrp__list_push(&r->arrival, &x->arrival);
  r->bytes += x->bytes;
  r->count++;
}

static void fill_common(nnrp__rres *x, const nnrp_event *ev) {
  memset(&x->pub, 0, sizeof(x->pub));
  x->pub.frame_id = ev->frame_id;
  x->pub.view_id = ev->view_id;
  x->pub.final = ev->final;
  x->pub.user_data = ev->user_data;
  x->pub.received_at = ev->received_at;
}

/* The failure record: the reserved spare, diagnostic copied into it. */
static nnrp__rres *make_failure(nnrp__rframe *f, const nnrp_event *ev,
                                int lib_err) {
  nnrp__rres *x = f->spare;
  f->spare = NULL;
  fill_common(x, ev);
  x->pub.kind = NNRP_RESULT_FAILED;
  x->pub.final = 1;
  nnrp__copy_record(&x->pub.error, (char *)x->data, &ev->error);
  if (lib_err)
    x->pub.error.lib_err = lib_err;
  x->bytes = sizeof(*x) + x->pub.error.diagnostic.len;
  return x;
}

/* A record of the packet of ev: the connection's buffer when it read the
 * packet whole, else a copy. */
static nnrp__rres *make_packet(nnrp__router *r, nnrp__conn *c,
                               const nnrp_event *ev) {
  size_t n = nnrp__pkt_size(ev->packet), ext_cap = 0;
  uint8_t *ext = c ? nnrp__conn_adopt(c, ev->packet, &ext_cap) : NULL;
  nnrp__rres *x = rres_new(r, ext ? 0 : n);
  if (x == NULL) {
    nnrp__bpool_put(&r->rt->rpool, ext, ext_cap);
    return NULL;
  }
  int rc;
  if (ext) {
    x->ext = ext;
    x->ext_cap = ext_cap;
    rc = nnrp__pkt_adopt(&x->pkt, ext, ev->packet, r->wire_flags);
  } else {
    rc = nnrp__pkt_copy(&x->pkt, x->data, ev->packet, r->wire_flags);
  }
  if (rc != 0) {
    rres_free(x);
    return NULL;
  }
  fill_common(x, ev);
  x->pub.packet = &x->pkt;
  if (ev->type == NNRP_EV_RESULT) {
    x->pub.kind = NNRP_RESULT_PUSH;
    x->pub.meta = &x->pkt.m.result_push;
    x->pub.body = &x->pkt.b.data;
  } else {
    x->pub.kind = NNRP_RESULT_DROP;
    x->pub.dropped = 1;
    x->pub.final = 1;
  }
  x->bytes = sizeof(*x) + n;
  return x;
}

int nnrp__router_file(nnrp__router *r, const nnrp_event *ev, nnrp__conn *c) {
  nnrp__rframe *f = nnrp__idmap_get(&r->frames, ev->frame_id);
  if (f == NULL || f->ended)
    return 0; /* discarded, or already terminal: dropped on arrival */
  nnrp__rres *x;
  int final = ev->type != NNRP_EV_RESULT || ev->final;
  if (ev->type == NNRP_EV_FRAME_FAILED) {
    x = make_failure(f, ev, 0);
  } else {
    x = ev->packet ? make_packet(r, c, ev) : NULL;
    if (x == NULL && !final)
      return NNRP_ERR_NOMEM; /* a streaming chunk is lost; the frame goes on */
    if (x == NULL)
      x = make_failure(f, ev, NNRP_ERR_NOMEM);
  }
  if (final) {
    f->ended = 1;
    rres_free(f->spare);
    f->spare = NULL;
  }
  enqueue(r, f, x);
  return 1;
}

int nnrp__router_full(const nnrp__router *r) {
  return r->bytes >= r->max_bytes || r->count >= r->max_count;
}

int nnrp__router_ready(const nnrp__router *r, uint32_t frame_id) {
  if (frame_id == 0)
    return !nnrp__list_empty(&r->arrival);
  const nnrp__rframe *f = nnrp__idmap_get(&r->frames, frame_id);
  if (f == NULL)
    return NNRP_ERR_NOT_FOUND;
  return f->head != NULL;
}

nnrp_client_result *nnrp__router_take(nnrp__router *r, uint32_t frame_id) {
  if (frame_id == 0) {
    if (nnrp__list_empty(&r->arrival))
      return NULL;
    nnrp__rres *oldest = NNRP__CONTAINER(r->arrival.next, nnrp__rres, arrival);
    frame_id = oldest->pub.frame_id;
  }
  nnrp__rframe *f = nnrp__idmap_get(&r->frames, frame_id);
  if (f == NULL || f->head == NULL)
    return NULL;
  nnrp__rres *x = f->head;
  f->head = x->fnext;
  if (f->head == NULL)
    f->tail = NULL;
  unqueue(r, x);
  nnrp__list_push(&r->rt->results, &x->arrival); /* the application's now */
  if (x->pub.final) { /* rule 7: the frame's queue goes with its terminal */
    (void)nnrp__idmap_del(&r->frames, frame_id);
    frame_free(r, f);
  }
  return &x->pub;
}

int nnrp__router_discard(nnrp__router *r, uint32_t frame_id) {
  nnrp__rframe *f = nnrp__idmap_del(&r->frames, frame_id);
  if (f == NULL)
    return NNRP_ERR_NOT_FOUND;
  frame_free(r, f);
  return 0;
}

void nnrp_client_result_free(nnrp_client_result *res) {
  if (res == NULL)
    return;
  nnrp__rres *x = (nnrp__rres *)(void *)res; /* pub is the first member */
  if (x->rt == NULL) { /* the runtime is gone */
    free(x->ext);
    free(x);
    return;
  }
  nnrp__list_remove(&x->arrival);
  rres_free(x);
}

void nnrp__rt_results_detach(nnrp_runtime *rt) {
  while (!nnrp__list_empty(&rt->results)) {
    nnrp__rres *x = NNRP__CONTAINER(rt->results.next, nnrp__rres, arrival);
    nnrp__list_remove(&x->arrival);
    x->rt = NULL;
    nnrp__bpool_forget(&rt->rpool);
    if (x->ext)
      nnrp__bpool_forget(&rt->rpool);
  }
}
