/* SPDX-License-Identifier: Apache-2.0 */
/*
 * net_cache.c - the cache objects of `nnrp bench --cache` (net_common.h,
 * net_cache): a frame's camera block, tile-index block and section table
 * put once per session with put_cache (session.md §9.2), and a FRAME_SUBMIT
 * in REFERENCE or MIXED mode naming them (wire.md §9.3, §9.6) that the
 * server resolves before its model sees the frame (§9.5).
 */
#include <stdlib.h>
#include <string.h>

#include "net_common.h"
#include "util.h"

static const char *const key_names[3] = {
    "nnrp-bench/camera", "nnrp-bench/tile-index", "nnrp-bench/sections"};

/* The section table of f: the body of a legacy FRAME_SUBMIT of its tensor
 * alone (DENSE_RANGE: no tile-index block, no camera, no pad), which is
 * exactly "sections as in §8.3 with the first section at offset 0". */
static int build_sections(net_cache *c, const net_frame *f) {
  nnrp_tensor_data t = f->tensor;
  t.camera.ptr = NULL;
  t.camera.len = 0;
  t.tile_index_mode = NNRP_TILE_INDEX_DENSE_RANGE;
  t.tile_base_id = 0;
  t.tile_ids = NULL;
  nnrp_body_data body;
  memset(&body, 0, sizeof(body));
  body.tensor = &t;
  size_t cap = nnrp_build_scratch_bound(&body) + (size_t)f->tiles * f->tile.len;
  c->packet = cli_xmalloc(cap);
  nnrp_out out;
  nnrp_out_init(&out, c->packet, cap, NULL, 0);
  nnrp_header h;
  nnrp_header_init(&h, NNRP_MSG_FRAME_SUBMIT);
  h.frame_id = 1;
  nnrp_frame_submit m = f->req.meta;
  nnrp_fault fault;
  if (nnrp_build_frame_submit(&out, &h, &m, &body, &fault) != 0 ||
      nnrp_out_contiguous(&out) == NULL || m.tile_index_bytes != 0)
    return -1;
  size_t meta = NNRP_HEADER_LEN + (size_t)nnrp_msg_meta_len(h.msg_type);
  c->sections.ptr = c->packet + meta;
  c->sections.len = (size_t)out.total - meta;
  return 0;
}

/* RAW_U16 block of the ids 0..tiles-1 (REFERENCE mode). */
static void build_tile_index(net_cache *c, uint16_t tiles) {
  c->ti_len = 2u * (size_t)tiles;
  c->ti_block = cli_xmalloc(c->ti_len ? c->ti_len : 1);
  for (uint16_t i = 0; i < tiles; i++) {
    c->ti_block[2u * i] = (uint8_t)(i & 0xFFu);
    c->ti_block[2u * i + 1u] = (uint8_t)(i >> 8);
  }
}

/* One object: its put request and the reference of the frame (slot
 * order: camera, tile index, section table). */
static void add_object(net_cache *c, uint32_t kind, const uint8_t *p,
                       size_t len) {
  nnrp_cache_put_req *r = &c->puts[c->put_count];
  nnrp_object_ref *ref = &c->refs[c->put_count];
  const char *key = key_names[kind - 1u];
  memset(r, 0, sizeof(*r));
  r->object_kind = kind;
  r->cache_namespace = NET_CACHE_NAMESPACE;
  r->key_bytes = (const uint8_t *)key;
  r->key_len = strlen(key);
  r->data.ptr = p;
  r->data.len = len;
  r->flags = NNRP_CACHE_PUT_PINNED; /* never evicted by a later put */
  memset(ref, 0, sizeof(*ref));
  ref->object_kind = (uint16_t)kind;
  ref->cache_namespace = NET_CACHE_NAMESPACE;
  nnrp_cache_key_from_bytes(r->key_bytes, r->key_len, &ref->cache_key_hi,
                            &ref->cache_key_lo);
  c->put_count++;
}

int net_cache_init(net_cache *c, const net_frame *f, int mixed) {
  memset(c, 0, sizeof(*c));
  c->mixed = mixed;
  if (!f->has_tensor || build_sections(c, f) != 0) {
    fputs("nnrp: --cache needs a tensor frame (its section table could not "
          "be built)\n",
          stderr);
    net_cache_free(c);
    return -1;
  }
  for (size_t i = 0; i < sizeof(c->camera); i++)
    c->camera[i] = (uint8_t)(0xC0u ^ i);
  add_object(c, NNRP_OBJECT_CAMERA_BLOCK, c->camera, sizeof(c->camera));
  if (!mixed) {
    build_tile_index(c, f->tiles);
    add_object(c, NNRP_OBJECT_TILE_INDEX_BLOCK, c->ti_block, c->ti_len);
  }
  add_object(c, NNRP_OBJECT_TENSOR_SECTION_TABLE, c->sections.ptr,
             c->sections.len);
  c->tensor = f->tensor;
  c->tensor.sections = NULL; /* referenced (F4) */
  c->tensor.tile_ids = NULL;
  c->tensor.tile_index_mode =
      mixed ? NNRP_TILE_INDEX_DENSE_RANGE : NNRP_TILE_INDEX_RAW_U16;
  c->req = f->req;
  c->req.meta.submit_mode =
      mixed ? NNRP_SUBMIT_MODE_MIXED : NNRP_SUBMIT_MODE_REFERENCE;
  c->req.body.tensor = &c->tensor;
  c->req.body.refs = c->refs;
  c->req.body.ref_count = c->put_count;
  return 0;
}

void net_cache_free(net_cache *c) {
  free(c->ti_block);
  free(c->packet);
  memset(c, 0, sizeof(*c));
}

int net_cache_put(nnrp_client_session *cs, const net_cache *c, int timeout_ms,
                  uint64_t *puts, uint64_t *rejected) {
  int all = 1;
  for (uint32_t i = 0; i < c->put_count; i++) {
    nnrp_cache_ack ack;
    memset(&ack, 0, sizeof(ack));
    int rc = nnrp_client_session_put_cache(cs, &c->puts[i], timeout_ms, &ack);
    if (rc != 0)
      return rc;
    (*puts)++;
    if (ack.status == NNRP_CACHE_ACK_REJECTED) {
      (*rejected)++;
      all = 0;
    }
  }
  /* Reference an object only while the mirror lists it (§9.6 rule 2). */
  for (uint32_t i = 0; all && i < c->put_count; i++)
    all = nnrp_client_session_cache_has(cs, c->refs[i].cache_namespace,
                                        c->refs[i].cache_key_hi,
                                        c->refs[i].cache_key_lo);
  return all;
}
