/* SPDX-License-Identifier: Apache-2.0 */
/*
 * gen_random.c - seeded random valid packets of every message type and body
 * shape (wire.md §4-§10), built with the public builders, and their
 * verification; gen_check.c (included below) checks, re-encodes and compares
 * decoded packets. Compiled into test_random_roundtrip.c, test_guard.c and
 * the fuzz targets with #include "gen_random.c". See gen_random.h.
 */
#include "gen_random.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ======================================================================== */
/* Random numbers                                                           */
/* ======================================================================== */

void nnrp_rng_seed(nnrp_rng *r, uint64_t seed) { r->s = seed; }

uint64_t nnrp_rng_u64(nnrp_rng *r) {
  uint64_t z = (r->s += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

uint32_t nnrp_rng_below(nnrp_rng *r, uint32_t n) {
  return (uint32_t)(nnrp_rng_u64(r) % n);
}

int nnrp_rng_chance(nnrp_rng *r, unsigned pct) {
  return nnrp_rng_below(r, 100) < pct;
}

/* Free-form values: often 0 or all ones, otherwise anything. */
static uint32_t rv32(nnrp_rng *r) {
  switch (nnrp_rng_below(r, 8)) {
  case 0:
    return 0;
  case 1:
    return 0xFFFFFFFFu;
  case 2:
    return nnrp_rng_below(r, 16);
  default:
    return (uint32_t)nnrp_rng_u64(r);
  }
}
static uint16_t rv16(nnrp_rng *r) { return (uint16_t)rv32(r); }
static uint8_t rv8(nnrp_rng *r) { return (uint8_t)rv32(r); }
static uint64_t rv64(nnrp_rng *r) {
  return nnrp_rng_chance(r, 20) ? rv32(r) : nnrp_rng_u64(r);
}
static uint32_t below(nnrp_rng *r, uint32_t n) { return nnrp_rng_below(r, n); }
static uint32_t nonzero32(nnrp_rng *r) {
  uint32_t v = rv32(r);
  return v ? v : 1u + below(r, 1000);
}

/* ======================================================================== */
/* Generator                                                                */
/* ======================================================================== */

const uint8_t nnrp_gen_types[21] = {0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x10,
                                    0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17,
                                    0x18, 0x19, 0x1A, 0x1B, 0x1C, 0x20, 0x21};

/* n random bytes from the pool (fewer when the pool is used up). */
static nnrp_bytes gen_bytes(nnrp_gen *g, nnrp_rng *r, size_t max) {
  size_t n = max ? below(r, (uint32_t)max + 1u) : 0;
  if (n > NNRP_GEN_POOL - g->pool_used)
    n = NNRP_GEN_POOL - g->pool_used;
  nnrp_bytes b = {g->pool + g->pool_used, n};
  for (size_t i = 0; i < n; i++)
    g->pool[g->pool_used + i] = (uint8_t)nnrp_rng_u64(r);
  g->pool_used += n;
  return b;
}

static void gen_header(nnrp_gen *g, nnrp_rng *r, uint8_t t) {
  nnrp_header_init(&g->hdr, t);
  uint32_t fl = below(r, 64);
  /* The data builders refuse CAN_DROP together with KEYFRAME (§2.3). */
  if ((fl & NNRP_FLAG_CAN_DROP) && (fl & NNRP_FLAG_KEYFRAME))
    fl &= ~NNRP_FLAG_KEYFRAME;
  g->hdr.flags = fl;
  g->hdr.session_id = nonzero32(r);
  g->hdr.frame_id = nonzero32(r);
  g->hdr.view_id = rv16(r);
  g->hdr.route_id = rv16(r);
  g->hdr.trace_id = rv64(r);
}

/* ---- control extension blocks (wire.md §5) ------------------------------ */

static int tlv_type_used(const nnrp_gen *g, size_t n, uint16_t t) {
  for (size_t i = 0; i < n; i++)
    if (g->tlv[i].ext_type == t)
      return 1;
  return 0;
}

/* Extra entries: unknown types (skipped by the receiver), never CRITICAL;
 * known types of the other hello (unknown there, §5.2 rule 6). */
static void gen_extra_tlv(nnrp_gen *g, nnrp_rng *r, uint8_t t) {
  size_t n = below(r, NNRP_GEN_TLV + 1u);
  for (size_t i = 0; i < n; i++) {
    uint16_t type;
    do {
      switch (below(r, 4)) {
      case 0: /* a standard type of the other message */
        type =
            (uint16_t)(t == NNRP_MSG_CLIENT_HELLO ? 0x0102 + 2 * below(r, 3)
                                                  : 0x0101 + 2 * below(r, 3));
        break;
      case 1:
        type = (uint16_t)below(r, 0x4000); /* standard range, unassigned */
        break;
      default:
        type = (uint16_t)nnrp_rng_u64(r);
        break;
      }
    } while ((type >= 0x0101 && type <= 0x0106 &&
              (type & 1u) == (t == NNRP_MSG_CLIENT_HELLO ? 1u : 0u)) ||
             (type == NNRP_EXT_ACTIVE_MODEL_NAME &&
              t == NNRP_MSG_SERVER_HELLO_ACK) ||
             tlv_type_used(g, i, type));
    g->tlv[i].ext_type = type;
    g->tlv[i].ext_flags = 0;
    g->tlv[i].payload = gen_bytes(g, r, 20);
  }
  g->ctl.extra_ext = n ? g->tlv : NULL;
  g->ctl.extra_ext_count = n;
}

static void gen_std_tlv(nnrp_gen *g, nnrp_rng *r, uint8_t t) {
  nnrp_hello_exts *x = &g->exts;
  int server = t == NNRP_MSG_SERVER_HELLO_ACK;
  memset(x, 0, sizeof(*x));
  if (nnrp_rng_chance(r, 60)) {
    x->present |= NNRP_HELLO_EXT_TRANSPORT_POLICY;
    x->transport_policy.transport_policy = (uint8_t)below(r, 5);
    x->transport_policy.accepted_transport_policy =
        server ? (uint8_t)below(r, 5) : 0;
    x->transport_policy.transport_id = server ? 1u + below(r, 2) : below(r, 3);
  }
  if (nnrp_rng_chance(r, 60)) {
    x->present |= NNRP_HELLO_EXT_LOSS_TOLERANCE;
    x->loss_tolerance.loss_tolerance = (uint8_t)below(r, 4);
  }
  if (nnrp_rng_chance(r, 60)) {
    x->present |= NNRP_HELLO_EXT_PAYLOAD_CAPS;
    x->payload_caps.payload_kind_bitmap = below(r, 0x80);
  }
  if (server && nnrp_rng_chance(r, 50)) {
    /* 1..255 bytes of printable ASCII (valid UTF-8). */
    size_t n = 1 + below(r, 40);
    if (n <= NNRP_GEN_POOL - g->pool_used) {
      x->present |= NNRP_HELLO_EXT_MODEL_NAME;
      x->model_name.ptr = g->pool + g->pool_used;
      x->model_name.len = n;
      for (size_t i = 0; i < n; i++)
        g->pool[g->pool_used + i] = (uint8_t)(0x21 + below(r, 94));
      g->pool_used += n;
    }
  }
  g->ctl.ext = x->present || nnrp_rng_chance(r, 50) ? x : NULL;
}

/* ---- metadata of the control messages ----------------------------------- */

static void gen_client_hello(nnrp_gen *g, nnrp_rng *r) {
  nnrp_client_hello *c = &g->meta.client_hello;
  c->min_version_major = (uint8_t)below(r, 2);
  c->max_version_major = (uint8_t)(1 + below(r, 255));
  c->supported_wire_format_bitmap = (uint16_t)(rv16(r) | 1u);
  c->supported_profile_bitmap = nonzero32(r);
  c->supported_payload_kind_bitmap = nonzero32(r);
  c->supported_codec_bitmap = rv32(r);
  c->supported_compression_bitmap = rv32(r);
  c->supported_dtype_bitmap = rv32(r);
  c->supported_layout_bitmap = rv32(r);
  c->cache_digest_bitmap = rv16(r);
  c->cache_object_bitmap = rv16(r);
  c->cache_namespace_count = rv16(r);
  c->max_lane_count = rv16(r);
  c->max_cache_entries = rv32(r);
  c->max_cache_bytes = rv32(r);
  c->target_cadence_x100 = rv16(r);
  c->latency_budget_ms = rv16(r);
  c->quality_tier = rv16(r);
  c->degrade_policy = rv16(r);
  c->requested_session_id = rv32(r);
  gen_std_tlv(g, r, NNRP_MSG_CLIENT_HELLO);
  gen_extra_tlv(g, r, NNRP_MSG_CLIENT_HELLO);
  g->ctl.bytes = gen_bytes(g, r, 24); /* auth block */
}

static void gen_server_hello_ack(nnrp_gen *g, nnrp_rng *r) {
  nnrp_server_hello_ack *s = &g->meta.server_hello_ack;
  s->selected_version_major = 1;
  s->selected_wire_format = 0;
  s->auth_status = 0;
  s->session_id = nonzero32(r);
  s->accepted_profile_bitmap = rv32(r);
  s->accepted_payload_kind_bitmap = rv32(r);
  s->accepted_codec_bitmap = rv32(r);
  s->accepted_compression_bitmap = rv32(r);
  s->accepted_dtype_bitmap = rv32(r);
  s->accepted_layout_bitmap = rv32(r);
  s->cache_digest_bitmap = rv32(r);
  s->cache_object_bitmap = rv32(r);
  s->max_cache_entries = rv32(r);
  s->max_cache_bytes = rv32(r);
  s->max_lane_count = rv16(r);
  s->max_concurrent_frames = rv16(r);
  s->target_cadence_x100 = rv16(r);
  s->latency_budget_ms = rv16(r);
  s->quality_tier = rv16(r);
  s->degrade_policy = rv16(r);
  s->max_body_bytes = rv32(r);
  s->token_ttl_ms = rv32(r);
  s->retry_after_ms = rv32(r);
  s->server_flags = below(r, 8);
  if (nnrp_rng_chance(r, 15)) {
    /* The opaque form of D5 (rc2 model name): bytes, no TLV entries. */
    nnrp_bytes b = gen_bytes(g, r, 24);
    if (b.len != 0) {
      g->ctl.bytes = b;
      return;
    }
  }
  gen_std_tlv(g, r, NNRP_MSG_SERVER_HELLO_ACK);
  gen_extra_tlv(g, r, NNRP_MSG_SERVER_HELLO_ACK);
}

static void gen_patch_block(nnrp_gen *g, nnrp_rng *r) {
  g->patch.min_width = rv32(r);
  g->patch.min_height = rv32(r);
  g->patch.max_width = rv32(r);
  g->patch.max_height = rv32(r);
  g->ctl.patch = &g->patch;
}

static void gen_session_patch(nnrp_gen *g, nnrp_rng *r) {
  nnrp_session_patch *s = &g->meta.session_patch;
  s->profile_id = rv16(r);
  s->patch_mask = below(r, 0x80);
  s->target_cadence_x100 = rv32(r);
  s->quality_tier = rv16(r);
  s->degrade_policy = rv16(r);
  s->active_lane_mask = rv64(r);
  s->preferred_codec_bitmap = rv32(r);
  s->preferred_compression_bitmap = rv32(r);
  if (s->patch_mask & NNRP_PATCH_PROFILE_PATCH)
    gen_patch_block(g, r);
}

static void gen_session_patch_ack(nnrp_gen *g, nnrp_rng *r) {
  nnrp_session_patch_ack *s = &g->meta.session_patch_ack;
  s->ack_status = (uint16_t)below(r, 3);
  s->reject_reason = (uint16_t)below(r, 6);
  s->applied_patch_mask = below(r, 0x80);
  s->rejected_patch_mask = below(r, 0x80);
  s->retry_after_ms = rv32(r);
  s->effective_profile_id = rv16(r);
  s->effective_target_cadence_x100 = rv32(r);
  s->effective_quality_tier = rv16(r);
  s->effective_degrade_policy = rv16(r);
  s->effective_lane_mask = rv64(r);
  s->effective_codec_bitmap = rv32(r);
  s->effective_compression_bitmap = rv32(r);
  if (nnrp_rng_chance(r, 50))
    gen_patch_block(g, r);
}

static void gen_error(nnrp_gen *g, nnrp_rng *r) {
  nnrp_error_meta *e = &g->meta.error;
  e->error_code = nnrp_rng_chance(r, 70) ? 1u + below(r, 12) : rv32(r);
  e->error_scope = below(r, 3);
  e->is_fatal = below(r, 2);
  e->retry_after_ms = rv32(r);
  e->related_session_id = rv32(r);
  e->related_frame_id = rv32(r);
  e->related_view_id = rv32(r);
  g->ctl.bytes = gen_bytes(g, r, 40);
}

static void gen_cache(nnrp_gen *g, nnrp_rng *r, uint8_t t) {
  switch (t) {
  case NNRP_MSG_CACHE_PUT: {
    nnrp_cache_put *c = &g->meta.cache_put;
    c->cache_namespace = rv32(r);
    c->cache_key_hi = rv32(r);
    c->cache_key_lo = rv32(r);
    c->object_kind = 1u + below(r, 9);
    c->ttl_ms = rv32(r);
    c->codec_bitmap = rv32(r);
    c->flags = below(r, 4);
    g->ctl.bytes = gen_bytes(g, r, 48);
    break;
  }
  case NNRP_MSG_CACHE_ACK: {
    nnrp_cache_ack *c = &g->meta.cache_ack;
    c->cache_namespace = rv32(r);
    c->cache_key_hi = rv32(r);
    c->cache_key_lo = rv32(r);
    c->status = below(r, 3);
    c->accepted_ttl_ms = rv32(r);
    c->max_object_bytes = rv32(r);
    c->detail_code = rv32(r);
    break;
  }
  default: {
    nnrp_cache_invalidate *c = &g->meta.cache_invalidate;
    c->invalidate_scope = below(r, 4);
    c->cache_namespace = rv32(r);
    c->cache_key_hi = rv32(r);
    c->cache_key_lo = rv32(r);
    c->reason_code = rv32(r);
    break;
  }
  }
}

/* FLOW_UPDATE routing rules (wire.md §4.7) are part of validity. */
static void gen_flow_update(nnrp_gen *g, nnrp_rng *r) {
  nnrp_flow_update *u = &g->meta.flow_update;
  u->scope_kind = (uint8_t)below(r, 3);
  u->update_reason = (uint8_t)below(r, 5);
  u->backpressure_level = (uint8_t)below(r, 3);
  u->flow_flags = below(r, 16);
  u->retry_after_ms =
      (u->flow_flags & NNRP_FLOW_RETRY_AFTER_VALID) ? rv32(r) : 0;
  u->credit_epoch = rv32(r);
  switch (u->scope_kind) {
  case NNRP_FLOW_SCOPE_CONNECTION:
    u->connection_credit = rv16(r);
    g->hdr.session_id = 0;
    break;
  case NNRP_FLOW_SCOPE_SESSION:
    u->session_credit = rv16(r);
    break;
  default:
    u->operation_credit = rv16(r);
    u->operation_id = rv64(r);
    if (u->operation_id == 0)
      u->operation_id = 1;
    break;
  }
}

static void gen_small_control(nnrp_gen *g, nnrp_rng *r, uint8_t t) {
  switch (t) {
  case NNRP_MSG_RESULT_HINT:
    g->meta.result_hint.applied_budget_policy = below(r, 5);
    g->meta.result_hint.congestion_state = below(r, 4);
    g->meta.result_hint.reason = below(r, 5);
    g->meta.result_hint.retry_after_ms = rv32(r);
    break;
  case NNRP_MSG_TRANSPORT_PROBE:
    g->meta.transport_probe.probe_id = rv32(r);
    g->meta.transport_probe.probe_payload_bytes = below(r, 65);
    g->meta.transport_probe.client_send_ts_us = rv64(r);
    break;
  case NNRP_MSG_TRANSPORT_PROBE_ACK:
    g->meta.transport_probe_ack.probe_id = rv32(r);
    g->meta.transport_probe_ack.server_recv_ts_us = rv64(r);
    break;
  case NNRP_MSG_SESSION_MIGRATE:
    g->meta.session_migrate.old_transport_id = 1u + below(r, 2);
    g->meta.session_migrate.new_transport_id = 1u + below(r, 2);
    g->meta.session_migrate.last_result_frame_id = rv64(r);
    g->meta.session_migrate.client_migrate_ts_us = rv64(r);
    g->ctl.bytes = gen_bytes(g, r, 32);
    break;
  case NNRP_MSG_SESSION_MIGRATE_ACK:
    g->meta.session_migrate_ack.accept_code = rv32(r);
    g->meta.session_migrate_ack.resume_from_frame_id = rv64(r);
    g->meta.session_migrate_ack.grace_window_ms = rv32(r);
    g->meta.session_migrate_ack.server_migrate_ts_us = rv64(r);
    break;
  default:
    break; /* header-only messages */
  }
}

/* ---- data bodies (wire.md §7-§9) ---------------------------------------- */

/* Tile ids valid for mode: DENSE consecutive (or NULL), DELTA and BITSET
 * strictly increasing, RAW anything. */
static void gen_tile_ids(nnrp_gen *g, nnrp_rng *r, uint8_t mode, uint16_t n) {
  nnrp_tensor_data *t = &g->tensor;
  t->tile_ids = g->tile_ids;
  switch (mode) {
  case NNRP_TILE_INDEX_DENSE_RANGE:
    if (nnrp_rng_chance(r, 50)) {
      t->tile_base_id = nnrp_rng_chance(r, 30) ? rv32(r) : below(r, 100);
      if ((uint64_t)t->tile_base_id + n > 0xFFFFFFFFull)
        t->tile_base_id = 0;
      t->tile_ids = NULL;
    } else {
      t->tile_base_id = below(r, 0x10000u - n);
      for (uint16_t i = 0; i < n; i++)
        g->tile_ids[i] = (uint16_t)(t->tile_base_id + i);
    }
    break;
  case NNRP_TILE_INDEX_RAW_U16:
    t->tile_base_id = rv32(r);
    for (uint16_t i = 0; i < n; i++)
      g->tile_ids[i] = nnrp_rng_chance(r, 20) ? 0xFFFF : rv16(r);
    break;
  default: { /* DELTA_U16, BITSET: strictly increasing */
    uint32_t id = below(r, mode == NNRP_TILE_INDEX_BITSET ? 64 : 30000);
    uint32_t step_max = mode == NNRP_TILE_INDEX_BITSET ? 20 : 4000;
    t->tile_base_id = rv32(r); /* not used by DELTA_U16 / BITSET */
    for (uint16_t i = 0; i < n; i++) {
      g->tile_ids[i] = (uint16_t)id;
      id += 1u + below(r, step_max);
    }
    break;
  }
  }
}

static void gen_sections(nnrp_gen *g, nnrp_rng *r, uint16_t sc, uint16_t tc) {
  nnrp_tensor_data *t = &g->tensor;
  uint16_t role = (uint16_t)below(r, 100);
  for (uint16_t s = 0; s < sc; s++) {
    nnrp_section_data *d = &g->sections[s];
    memset(d, 0, sizeof(*d));
    d->role_id = role;
    role = (uint16_t)(role + 1u + below(r, 500));
    d->codec_id = rv8(r);
    d->dtype_id = (uint8_t)below(r, 8);
    d->layout_id = (uint8_t)below(r, 2);
    d->scale_policy = (uint8_t)below(r, 3);
    d->element_count_per_tile = rv32(r);
    size_t maxlen = 0;
    for (uint16_t i = 0; i < tc; i++) {
      g->tiles[s][i] = gen_bytes(g, r, 9);
      if (g->tiles[s][i].len > maxlen)
        maxlen = g->tiles[s][i].len;
    }
    if (nnrp_rng_chance(r, 35))
      d->payload_stride_bytes =
          (uint32_t)(maxlen + below(r, 4) + (maxlen == 0));
    d->tiles = g->tiles[s];
    if (nnrp_rng_chance(r, 40)) {
      for (uint16_t i = 0; i < tc; i++)
        g->codecs[s][i] = nnrp_rng_chance(r, 50) ? d->codec_id : rv8(r);
      d->tile_codec_ids = g->codecs[s];
    }
  }
  t->sections = sc ? g->sections : NULL;
  t->section_count = sc;
}

/* Inline tensor content: camera, ids, sections; refs (slot bits) say which
 * of them live in the cache instead. */
static void gen_tensor(nnrp_gen *g, nnrp_rng *r, uint8_t ref_slots,
                       int camera_ok, int submit) {
  nnrp_tensor_data *t = &g->tensor;
  memset(t, 0, sizeof(*t));
  uint16_t tc = (uint16_t)below(r, NNRP_GEN_TILES + 1u);
  t->tile_count = tc;
  t->tile_index_mode =
      submit ? (uint8_t)below(r, 4)
             : (nnrp_rng_chance(r, 50) ? NNRP_TILE_INDEX_DENSE_RANGE
                                       : NNRP_TILE_INDEX_RAW_U16);
  if (camera_ok && !(ref_slots & NNRP_SLOT_CAMERA) && nnrp_rng_chance(r, 60))
    t->camera = gen_bytes(g, r, 20);
  if (ref_slots & NNRP_SLOT_TILE_INDEX) {
    t->tile_base_id = rv32(r);
    t->tile_ids = NULL;
    if (!submit)
      t->tile_index_mode = NNRP_TILE_INDEX_DENSE_RANGE;
  } else {
    gen_tile_ids(g, r, t->tile_index_mode, tc);
  }
  if (ref_slots & NNRP_SLOT_SECTION_TABLE) {
    t->sections = NULL;
    t->section_count = (uint16_t)below(r, NNRP_DEFAULT_MAX_SECTIONS + 1u);
  } else {
    gen_sections(g, r, (uint16_t)below(r, NNRP_GEN_SECTIONS + 1u), tc);
  }
  g->body.tensor = t;
}

static void gen_typed(nnrp_gen *g, nnrp_rng *r, uint16_t min) {
  uint16_t n = (uint16_t)(min + below(r, NNRP_GEN_TYPED + 1u - min));
  for (uint16_t i = 0; i < n; i++) {
    nnrp_bytes d = gen_bytes(g, r, 24);
    uint16_t prof = rv16(r);
    nnrp_typed_frame *f = &g->typed[i];
    switch (below(r, 6)) {
    case 0:
      nnrp_token_chunk_frame(f, d, prof);
      break;
    case 1:
      nnrp_audio_chunk_frame(f, d, prof);
      break;
    case 2:
      nnrp_video_chunk_frame(f, d, prof);
      break;
    case 3:
      nnrp_structured_event_frame(f, d, prof);
      break;
    case 4:
      nnrp_tool_delta_frame(f, d, prof);
      break;
    default:
      nnrp_opaque_bytes_frame(f, d, prof);
      break;
    }
  }
  g->body.typed = n ? g->typed : NULL;
  g->body.typed_count = n;
}

static void gen_ext_frames(nnrp_gen *g, nnrp_rng *r) {
  uint32_t n = nnrp_rng_chance(r, 40) ? 1u + below(r, NNRP_GEN_EXT) : 0;
  for (uint32_t i = 0; i < n; i++) {
    nnrp_ext_frame *e = &g->ext[i];
    memset(e, 0, sizeof(*e));
    e->extension_kind = rv16(r);
    e->extension_flags = 0; /* a CRITICAL frame is always refused */
    e->profile_id = rv16(r);
    e->data = gen_bytes(g, r, 16);
  }
  g->body.ext = n ? g->ext : NULL;
  g->body.ext_count = n;
}

/* Extra inline objects of the allowed kinds (bitmask of kinds 1..9). */
static void gen_extra_inline(nnrp_gen *g, nnrp_rng *r, uint32_t kinds,
                             int layout_once) {
  uint32_t n = nnrp_rng_chance(r, 50) ? 1u + below(r, NNRP_GEN_INLINE) : 0;
  uint32_t k = 0;
  int layout_used = 0;
  for (uint32_t i = 0; i < n; i++) {
    uint16_t kind = (uint16_t)(1u + below(r, 9));
    if (!(kinds & (1u << kind)))
      continue;
    if (kind == NNRP_OBJECT_PAYLOAD_LAYOUT_TEMPLATE && layout_once) {
      if (layout_used)
        continue;
      layout_used = 1;
    }
    nnrp_inline_object *o = &g->extra[k++];
    memset(o, 0, sizeof(*o));
    o->object_kind = kind;
    o->profile_id = rv16(r);
    o->data = gen_bytes(g, r, 20);
  }
  g->body.extra_inline = k ? g->extra : NULL;
  g->body.extra_inline_count = k;
}

static void gen_ref(nnrp_rng *r, nnrp_object_ref *o, uint16_t kind) {
  memset(o, 0, sizeof(*o));
  o->object_kind = kind;
  o->cache_namespace = rv32(r);
  o->cache_key_hi = rv32(r);
  o->cache_key_lo = rv32(r);
}

/* Submit references: slot kinds in slot order (F7); returns the slots. */
static uint8_t gen_submit_refs(nnrp_gen *g, nnrp_rng *r) {
  static const uint16_t slot_kind[4] = {1, 2, 3, 6};
  uint8_t slots = (uint8_t)(1u + below(r, 15));
  uint32_t n = 0;
  for (unsigned b = 0; b < 4; b++)
    if (slots & (1u << b))
      gen_ref(r, &g->refs[n++], slot_kind[b]);
  g->body.refs = g->refs;
  g->body.ref_count = n;
  return slots;
}

static void gen_frame_submit(nnrp_gen *g, nnrp_rng *r, unsigned shape) {
  nnrp_frame_submit *m = &g->meta.frame_submit;
  m->frame_class = (uint8_t)below(r, 4);
  m->latency_budget_ms = rv16(r);
  m->target_fps_x100 = rv16(r);
  m->retry_of_frame = rv32(r);
  m->budget_policy = (uint8_t)below(r, 16);
  m->loss_tolerance_policy =
      nnrp_rng_chance(r, 25) ? 0xFF : (uint8_t)below(r, 4);
  m->dependency_frame_id = rv32(r);
  g->shape = shape % 6u;
  uint8_t slots = 0;
  uint32_t extra_kinds =
      (1u << 4) | (1u << 5) | (1u << 7) | (1u << 8) | (1u << 9);
  switch (g->shape) {
  case NNRP_GEN_SUBMIT_LEGACY:
    m->submit_mode = NNRP_SUBMIT_MODE_INLINE;
    gen_tensor(g, r, 0, 1, 1);
    break;
  case NNRP_GEN_SUBMIT_INLINE:
    m->submit_mode = NNRP_SUBMIT_MODE_INLINE;
    gen_tensor(g, r, 0, 1, 1);
    gen_typed(g, r, 1);
    gen_extra_inline(g, r, extra_kinds | (1u << 6), 1);
    gen_ext_frames(g, r);
    break;
  case NNRP_GEN_SUBMIT_REFERENCE:
    m->submit_mode = NNRP_SUBMIT_MODE_REFERENCE;
    slots = gen_submit_refs(g, r);
    if (nnrp_rng_chance(r, 70)) {
      /* F6: nothing of a standard slot inline. */
      gen_tensor(g, r, slots, 0, 1);
      if (!(slots & NNRP_SLOT_TILE_INDEX))
        g->tensor.tile_count = 0;
      if (!(slots & NNRP_SLOT_SECTION_TABLE)) {
        g->tensor.section_count = 0;
        g->tensor.sections = NULL;
      }
    }
    gen_typed(g, r, 0);
    gen_extra_inline(g, r, extra_kinds, 1);
    gen_ext_frames(g, r);
    break;
  case NNRP_GEN_SUBMIT_MIXED:
    m->submit_mode = NNRP_SUBMIT_MODE_MIXED;
    slots = gen_submit_refs(g, r);
    if (nnrp_rng_chance(r, 80))
      gen_tensor(g, r, slots, 1, 1);
    gen_typed(g, r, 0);
    gen_extra_inline(g, r,
                     extra_kinds |
                         ((slots & NNRP_SLOT_LAYOUT_TEMPLATE) ? 0u : (1u << 6)),
                     1);
    gen_ext_frames(g, r);
    break;
  case NNRP_GEN_SUBMIT_TYPED:
    m->submit_mode = NNRP_SUBMIT_MODE_INLINE;
    gen_typed(g, r, 1);
    gen_extra_inline(g, r, extra_kinds | (1u << 6), 1);
    gen_ext_frames(g, r);
    break;
  default:
    m->submit_mode = NNRP_SUBMIT_MODE_INLINE;
    break;
  }
  if (g->body.tensor != NULL) {
    /* M3 only binds without the TENSOR bit. */
    m->src_width = rv16(r);
    m->src_height = rv16(r);
    m->tile_width = rv16(r);
    m->tile_height = rv16(r);
    m->input_profile = (uint8_t)below(r, 3);
  }
}

/* Result references: strictly ascending (P1), at most one tile index and one
 * section table reference (P3, P4). */
static uint8_t gen_result_refs(nnrp_gen *g, nnrp_rng *r) {
  uint32_t n = below(r, NNRP_GEN_REFS + 1u);
  uint8_t slots = 0;
  uint32_t k = 0;
  for (uint32_t i = 0; i < n; i++) {
    nnrp_object_ref x;
    gen_ref(r, &x, (uint16_t)(1u + below(r, 9)));
    if (x.object_kind == 2 || x.object_kind == 3) {
      uint8_t s =
          x.object_kind == 2 ? NNRP_SLOT_TILE_INDEX : NNRP_SLOT_SECTION_TABLE;
      if (slots & s)
        continue;
      slots |= s;
    }
    /* insertion sort by (kind, namespace, hi, lo), dropping duplicates */
    uint32_t j = k;
    int dup = 0;
    while (j > 0) {
      const nnrp_object_ref *p = &g->refs[j - 1];
      int cmp = p->object_kind != x.object_kind
                    ? (p->object_kind < x.object_kind ? -1 : 1)
                : p->cache_namespace != x.cache_namespace
                    ? (p->cache_namespace < x.cache_namespace ? -1 : 1)
                : p->cache_key_hi != x.cache_key_hi
                    ? (p->cache_key_hi < x.cache_key_hi ? -1 : 1)
                : p->cache_key_lo != x.cache_key_lo
                    ? (p->cache_key_lo < x.cache_key_lo ? -1 : 1)
                    : 0;
      if (cmp == 0)
        dup = 1;
      if (cmp <= 0)
        break;
      j--;
    }
    if (dup)
      continue;
    /* Several camera references are fine (P5); one tells gen_tensor()
     * not to put a camera in the tensor data. */
    if (x.object_kind == NNRP_OBJECT_CAMERA_BLOCK)
      slots |= NNRP_SLOT_CAMERA;
    memmove(&g->refs[j + 1], &g->refs[j], (k - j) * sizeof(g->refs[0]));
    g->refs[j] = x;
    k++;
  }
  g->body.refs = k ? g->refs : NULL;
  g->body.ref_count = k;
  return slots;
}

static void gen_result_push(nnrp_gen *g, nnrp_rng *r, unsigned shape) {
  nnrp_result_push *m = &g->meta.result_push;
  m->status_code = rv16(r);
  m->active_profile_id = rv16(r);
  m->inference_ms = rv16(r);
  m->queue_ms = rv16(r);
  m->server_total_ms = rv16(r);
  m->applied_budget_policy = (uint8_t)below(r, 16);
  m->reused_frame_id = rv32(r);
  g->shape = shape % 3u;
  uint32_t kinds = 0x3F0u; /* 4..9 */
  switch (g->shape) {
  case NNRP_GEN_RESULT_LEGACY:
    gen_tensor(g, r, 0, 0, 0);
    break;
  case NNRP_GEN_RESULT_EMPTY:
    break;
  default: {
    uint8_t slots = gen_result_refs(g, r);
    if (nnrp_rng_chance(r, 70))
      gen_tensor(g, r, slots, 1, 0);
    else
      kinds |= 0x2u; /* camera as a plain object when there is no tensor */
    gen_typed(g, r, 1);
    gen_extra_inline(g, r, kinds, 0);
    gen_ext_frames(g, r);
    break;
  }
  }
  /* Coverage (R3-R6): covered + dropped = tile_count; PARTIAL needs a
   * dropped tile; both 0 lets the builder mark every tile covered. */
  uint16_t tc = g->body.tensor ? g->tensor.tile_count : 0;
  m->result_class = (uint8_t)below(r, 4);
  m->result_flags = (uint16_t)below(r, 8);
  if (tc != 0 && nnrp_rng_chance(r, 60)) {
    m->dropped_tile_count = (uint16_t)(1u + below(r, tc));
    m->covered_tile_count = (uint16_t)(tc - m->dropped_tile_count);
  } else if (m->result_class == NNRP_RESULT_CLASS_PARTIAL ||
             (m->result_flags & NNRP_RESULT_FLAG_PARTIAL)) {
    m->result_class = NNRP_RESULT_CLASS_COMPLETE;
    m->result_flags &= (uint16_t)~NNRP_RESULT_FLAG_PARTIAL;
  }
}

void nnrp_gen_make(nnrp_gen *g, nnrp_rng *r, uint8_t t, unsigned shape) {
  memset(g, 0, sizeof(*g));
  g->msg_type = t;
  gen_header(g, r, t);
  switch (t) {
  case NNRP_MSG_CLIENT_HELLO:
    gen_client_hello(g, r);
    break;
  case NNRP_MSG_SERVER_HELLO_ACK:
    gen_server_hello_ack(g, r);
    break;
  case NNRP_MSG_SESSION_PATCH:
    gen_session_patch(g, r);
    break;
  case NNRP_MSG_SESSION_PATCH_ACK:
    gen_session_patch_ack(g, r);
    break;
  case NNRP_MSG_ERROR:
    gen_error(g, r);
    break;
  case NNRP_MSG_FRAME_SUBMIT:
    gen_frame_submit(g, r, shape);
    break;
  case NNRP_MSG_RESULT_PUSH:
    gen_result_push(g, r, shape);
    break;
  case NNRP_MSG_CACHE_PUT:
  case NNRP_MSG_CACHE_ACK:
  case NNRP_MSG_CACHE_INVALIDATE:
    gen_cache(g, r, t);
    break;
  case NNRP_MSG_FLOW_UPDATE:
    gen_flow_update(g, r);
    break;
  default:
    gen_small_control(g, r, t);
    break;
  }
}

int nnrp_gen_build(nnrp_gen *g, nnrp_out *o, nnrp_fault *f) {
  switch (g->msg_type) {
  case NNRP_MSG_FRAME_SUBMIT:
    return nnrp_build_frame_submit(o, &g->hdr, &g->meta.frame_submit, &g->body,
                                   f);
  case NNRP_MSG_RESULT_PUSH:
    return nnrp_build_result_push(o, &g->hdr, &g->meta.result_push, &g->body,
                                  f);
  default:
    return nnrp_build_control(o, &g->hdr, &g->meta, &g->ctl, f);
  }
}

/* Checks, re-encoding and comparison of decoded packets. */
#include "gen_check.c"

/* ======================================================================== */
/* Verification of a generated packet                                       */
/* ======================================================================== */

static int verify_tlv(const nnrp_gen *g, const nnrp_hello_exts *x, char *why,
                      size_t cap) {
  const nnrp_hello_exts *want = g->ctl.ext;
  uint32_t present = want ? want->present : 0;
  if (g->msg_type == NNRP_MSG_CLIENT_HELLO)
    present &= ~(uint32_t)NNRP_HELLO_EXT_MODEL_NAME;
  if (x->present != present)
    FAIL("extensions present 0x%x, generated 0x%x", x->present, present);
  if ((present & NNRP_HELLO_EXT_TRANSPORT_POLICY) &&
      !struct_eq(NNRP_STRUCT_EXT_TRANSPORT_POLICY, &want->transport_policy,
                 &x->transport_policy, NNRP_RT_EXACT, NULL, why, cap))
    return 0;
  if ((present & NNRP_HELLO_EXT_LOSS_TOLERANCE) &&
      !struct_eq(NNRP_STRUCT_EXT_LOSS_TOLERANCE, &want->loss_tolerance,
                 &x->loss_tolerance, NNRP_RT_EXACT, NULL, why, cap))
    return 0;
  if ((present & NNRP_HELLO_EXT_PAYLOAD_CAPS) &&
      !struct_eq(NNRP_STRUCT_EXT_PAYLOAD_CAPS, &want->payload_caps,
                 &x->payload_caps, NNRP_RT_EXACT, NULL, why, cap))
    return 0;
  if ((present & NNRP_HELLO_EXT_MODEL_NAME) &&
      !bytes_eq(want->model_name, x->model_name))
    FAIL("model name differs");
  /* Standard entries first (ascending type), then the extras in order. */
  uint32_t nstd = 0;
  for (uint32_t b = present; b; b &= b - 1)
    nstd++;
  if (x->entry_count != nstd + g->ctl.extra_ext_count)
    FAIL("entry_count %u, generated %u + %zu", x->entry_count, nstd,
         g->ctl.extra_ext_count);
  if (x->unknown_count != g->ctl.extra_ext_count)
    FAIL("unknown_count %u, generated %zu", x->unknown_count,
         g->ctl.extra_ext_count);
  nnrp_ext_iter it;
  nnrp_ext_entry e;
  nnrp_ext_iter_init(&it, x->block);
  uint32_t k = 0, prev = 0;
  while (nnrp_ext_iter_next(&it, &e)) {
    if (k < nstd) {
      if (k > 0 && e.ext_type <= prev)
        FAIL("standard entries not ascending");
      prev = e.ext_type;
    } else {
      const nnrp_ext_entry *w = &g->ctl.extra_ext[k - nstd];
      if (e.ext_type != w->ext_type || e.ext_flags != w->ext_flags ||
          !bytes_eq(e.payload, w->payload))
        FAIL("extra extension entry %u differs", k - nstd);
    }
    k++;
  }
  return 1;
}

static int verify_control(const nnrp_gen *g, const nnrp_packet *p, char *why,
                          size_t cap) {
  switch (g->msg_type) {
  case NNRP_MSG_CLIENT_HELLO:
    if (!bytes_eq(p->b.client_hello.auth, g->ctl.bytes))
      FAIL("auth block differs");
    return verify_tlv(g, &p->b.client_hello.ext, why, cap);
  case NNRP_MSG_SERVER_HELLO_ACK:
    if (!bytes_eq(p->b.server_hello_ack.opaque, g->ctl.bytes))
      FAIL("opaque body differs");
    return verify_tlv(g, &p->b.server_hello_ack.ext, why, cap);
  case NNRP_MSG_SESSION_PATCH:
  case NNRP_MSG_SESSION_PATCH_ACK:
    if (p->b.patch.present != (g->ctl.patch != NULL))
      FAIL("patch block presence differs");
    if (g->ctl.patch &&
        !struct_eq(NNRP_STRUCT_PROFILE_PATCH, g->ctl.patch, &p->b.patch.block,
                   NNRP_RT_EXACT, NULL, why, cap))
      return 0;
    return 1;
  case NNRP_MSG_ERROR:
    if (!bytes_eq(p->b.diagnostic, g->ctl.bytes))
      FAIL("diagnostic differs");
    return 1;
  case NNRP_MSG_CACHE_PUT:
    if (!bytes_eq(p->b.object, g->ctl.bytes))
      FAIL("object differs");
    return 1;
  case NNRP_MSG_SESSION_MIGRATE:
    if (!bytes_eq(p->b.token, g->ctl.bytes))
      FAIL("token differs");
    return 1;
  case NNRP_MSG_TRANSPORT_PROBE:
    if (p->b.filler.len != g->meta.transport_probe.probe_payload_bytes)
      FAIL("filler length differs");
    for (size_t i = 0; i < p->b.filler.len; i++)
      if (p->b.filler.ptr[i] != 0x50)
        FAIL("filler byte %zu is not 'P'", i);
    return 1;
  default:
    if (p->body_raw.len != 0)
      FAIL("header-only message with a body");
    return 1;
  }
}

/* Typed frames contiguous from offset 0 (T5) and kinds in the bitmap. */
static int verify_typed_layout(const nnrp_packet *p, char *why, size_t cap) {
  const nnrp_data_body *b = &p->b.data;
  uint32_t off = 0, kinds = 0;
  for (uint32_t i = 0; i < b->typed_count; i++) {
    nnrp_typed_frame t;
    nnrp_data_body_typed(b, i, &t);
    if (t.payload_offset != off)
      FAIL("typed frame %u at %u, expected %u", i, t.payload_offset, off);
    off += t.payload_length;
    kinds |= t.payload_kind;
  }
  if (off != b->regions[NNRP_REGION_TYPED_FRAMES].len)
    FAIL("typed frames do not cover their region");
  uint32_t bitmap = p->hdr.msg_type == NNRP_MSG_FRAME_SUBMIT
                        ? p->m.frame_submit.payload_kind_bitmap
                        : p->m.result_push.payload_kind_bitmap;
  if ((bitmap & NNRP_PAYLOAD_KIND_TYPED_MASK) != kinds)
    FAIL("bitmap 0x%x, typed kinds 0x%x", bitmap, kinds);
  return 1;
}

int nnrp_gen_verify(const nnrp_gen *g, const nnrp_packet *p, char *why,
                    size_t cap) {
  nnrp_header h = send_rules(&g->hdr, &g->meta);
  h.meta_len = p->hdr.meta_len;
  h.body_len = p->hdr.body_len;
  if (!struct_eq(NNRP_STRUCT_HEADER, &h, &p->hdr, NNRP_RT_EXACT, NULL, why,
                 cap))
    return 0;
  if ((int)p->hdr.meta_len != nnrp_msg_meta_len(g->msg_type))
    FAIL("meta_len %u", p->hdr.meta_len);
  int id = nnrp_meta_struct_id(g->msg_type);
  if (id >= 0 && !struct_eq(id, &g->meta, &p->m, NNRP_RT_EXACT, NULL, why, cap))
    return 0;
  if (g->msg_type != NNRP_MSG_FRAME_SUBMIT &&
      g->msg_type != NNRP_MSG_RESULT_PUSH)
    return verify_control(g, p, why, cap);
  const nnrp_data_body *b = &p->b.data;
  int legacy = g->msg_type == NNRP_MSG_FRAME_SUBMIT
                   ? g->shape == NNRP_GEN_SUBMIT_LEGACY
                   : g->shape != NNRP_GEN_RESULT_COMPOSED;
  if (b->composed == legacy)
    FAIL("body form %s, shape %u", b->composed ? "composed" : "legacy",
         g->shape);
  if (!verify_typed_layout(p, why, cap))
    return 0;
  rt_store s;
  int rc = rt_export(p, &s);
  int ok = rc == 0 ? body_data_eq(&g->body, &s.data, why, cap) : 0;
  if (rc != 0 && why && cap)
    snprintf(why, cap, "nnrp_body_data_from_view: %s", nnrp_err_name(rc));
  rt_store_free(&s);
  return ok;
}
#undef FAIL
