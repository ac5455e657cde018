/* SPDX-License-Identifier: Apache-2.0 */
/*
 * result.c - RESULT_PUSH (0x12): the 64-byte metadata and its rules R1-R6
 * (wire.md §6.3), and the body: the legacy tensor body with the implied
 * tile-index mode (§7 rule 1, §8.2) or the composed body (§9) with the
 * result object contract P1-P5 (§9.7).
 */
#include <string.h>

#include "wire_int.h"

#define MB NNRP_ERR_MALFORMED_BODY

/* ---- Metadata (§6.3) --------------------------------------------------- */

static void result_read(nnrp_result_push *r, const uint8_t *p) {
  r->status_code = nnrp_get_u16le(&p);
  r->result_flags = nnrp_get_u16le(&p);
  r->section_count = nnrp_get_u16le(&p);
  r->tile_count = nnrp_get_u16le(&p);
  r->active_profile_id = nnrp_get_u16le(&p);
  r->reserved0 = nnrp_get_u16le(&p);
  r->inference_ms = nnrp_get_u16le(&p);
  r->queue_ms = nnrp_get_u16le(&p);
  r->server_total_ms = nnrp_get_u16le(&p);
  r->reserved1 = nnrp_get_u16le(&p);
  r->tile_base_id = nnrp_get_u32le(&p);
  r->tile_index_bytes = nnrp_get_u32le(&p);
  r->reserved2 = nnrp_get_u64le(&p);
  r->reserved3 = nnrp_get_u64le(&p);
  r->result_class = nnrp_get_u8(&p);
  r->applied_budget_policy = nnrp_get_u8(&p);
  r->reserved4 = nnrp_get_u16le(&p);
  r->reused_frame_id = nnrp_get_u32le(&p);
  r->covered_tile_count = nnrp_get_u16le(&p);
  r->dropped_tile_count = nnrp_get_u16le(&p);
  r->payload_kind_bitmap = nnrp_get_u32le(&p);
  r->payload_frame_count = nnrp_get_u16le(&p);
  r->reserved5 = nnrp_get_u16le(&p);
}

/* R1: masks and enums, in field order. */
static int result_r1(nnrp_result_push *r, uint32_t flags, nnrp_fault *f) {
  const char *rule = "wire.md §6.3 R1";
  if ((r->result_flags & ~NNRP_RESULT_FLAG_KNOWN_MASK) != 0) {
    if (NNRP__STRICT(flags))
      return nnrp__fail(f, MB, 2, rule, "result_flags");
    r->result_flags &= NNRP_RESULT_FLAG_KNOWN_MASK;
  }
  if (r->result_class > NNRP_RESULT_CLASS_DEGRADED)
    return nnrp__fail(f, MB, 44, rule, "result_class");
  if ((r->applied_budget_policy & ~NNRP_BUDGET_KNOWN_MASK) != 0) {
    if (NNRP__STRICT(flags))
      return nnrp__fail(f, MB, 45, rule, "applied_budget_policy");
    r->applied_budget_policy &= NNRP_BUDGET_KNOWN_MASK;
  }
  /* Both modes (wire.md §13): the bitmap selects the body structure. */
  if ((r->payload_kind_bitmap & ~NNRP_PAYLOAD_KIND_KNOWN_MASK) != 0)
    return nnrp__fail(f, MB, 56, rule, "payload_kind_bitmap");
  return 0;
}

/* Reserved fields (strict only). */
static int result_reserved(const nnrp_result_push *r, nnrp_fault *f) {
  const char *rule = "wire.md §1 rule 7";
  if (r->reserved0 != 0)
    return nnrp__fail(f, MB, 10, rule, "reserved0");
  if (r->reserved1 != 0)
    return nnrp__fail(f, MB, 18, rule, "reserved1");
  if (r->reserved2 != 0)
    return nnrp__fail(f, MB, 28, rule, "reserved2");
  if (r->reserved3 != 0)
    return nnrp__fail(f, MB, 36, rule, "reserved3");
  if (r->reserved4 != 0)
    return nnrp__fail(f, MB, 46, rule, "reserved4");
  if (r->reserved5 != 0)
    return nnrp__fail(f, MB, 62, rule, "reserved5");
  return 0;
}

/* R2-R6: tile bookkeeping. */
static int result_coverage(const nnrp_result_push *r, nnrp_fault *f) {
  if ((r->payload_kind_bitmap & NNRP_PAYLOAD_KIND_TENSOR) == 0) {
    const struct {
      uint32_t v;
      uint8_t off;
      const char *name;
    } t[] = {{r->section_count, 4, "section_count"},
             {r->tile_count, 6, "tile_count"},
             {r->tile_base_id, 20, "tile_base_id"},
             {r->tile_index_bytes, 24, "tile_index_bytes"},
             {r->covered_tile_count, 52, "covered_tile_count"},
             {r->dropped_tile_count, 54, "dropped_tile_count"}};
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
      if (t[i].v != 0)
        return nnrp__fail(f, MB, t[i].off, "wire.md §6.3 R2", t[i].name);
    }
    return 0;
  }
  if (r->covered_tile_count > r->tile_count)
    return nnrp__fail(f, MB, 52, "wire.md §6.3 R3", "covered_tile_count");
  if (r->dropped_tile_count > r->tile_count)
    return nnrp__fail(f, MB, 54, "wire.md §6.3 R4", "dropped_tile_count");
  if ((uint32_t)r->covered_tile_count + r->dropped_tile_count != r->tile_count)
    return nnrp__fail(f, MB, 52, "wire.md §6.3 R5", "covered_tile_count");
  if ((r->result_class == NNRP_RESULT_CLASS_PARTIAL ||
       (r->result_flags & NNRP_RESULT_FLAG_PARTIAL) != 0) &&
      r->dropped_tile_count == 0)
    return nnrp__fail(f, MB, 54, "wire.md §6.3 R6", "dropped_tile_count");
  return 0;
}

int nnrp__result_push_meta_dec(nnrp_meta *m, const uint8_t *in, uint32_t flags,
                               nnrp_fault *f) {
  nnrp_result_push *r = &m->result_push;
  result_read(r, in);
  int rc = result_r1(r, flags, f);
  if (rc == 0 && NNRP__STRICT(flags))
    rc = result_reserved(r, f);
  if (rc == 0)
    rc = result_coverage(r, f);
  return rc;
}

void nnrp__result_push_meta_enc(const nnrp_meta *m, uint8_t *out) {
  const nnrp_result_push *r = &m->result_push;
  uint8_t *p = out;
  p = nnrp_put_u16le(p, r->status_code);
  p = nnrp_put_u16le(p, r->result_flags);
  p = nnrp_put_u16le(p, r->section_count);
  p = nnrp_put_u16le(p, r->tile_count);
  p = nnrp_put_u16le(p, r->active_profile_id);
  p = nnrp_put_u16le(p, r->reserved0);
  p = nnrp_put_u16le(p, r->inference_ms);
  p = nnrp_put_u16le(p, r->queue_ms);
  p = nnrp_put_u16le(p, r->server_total_ms);
  p = nnrp_put_u16le(p, r->reserved1);
  p = nnrp_put_u32le(p, r->tile_base_id);
  p = nnrp_put_u32le(p, r->tile_index_bytes);
  p = nnrp_put_u64le(p, r->reserved2);
  p = nnrp_put_u64le(p, r->reserved3);
  p = nnrp_put_u8(p, r->result_class);
  p = nnrp_put_u8(p, r->applied_budget_policy);
  p = nnrp_put_u16le(p, r->reserved4);
  p = nnrp_put_u32le(p, r->reused_frame_id);
  p = nnrp_put_u16le(p, r->covered_tile_count);
  p = nnrp_put_u16le(p, r->dropped_tile_count);
  p = nnrp_put_u32le(p, r->payload_kind_bitmap);
  p = nnrp_put_u16le(p, r->payload_frame_count);
  (void)nnrp_put_u16le(p, r->reserved5);
}

int nnrp__result_push_body_dec(nnrp_packet *p, const nnrp_wire_opts *o,
                               nnrp_fault *f) {
  return nnrp_data_body_decode(NNRP_MSG_RESULT_PUSH, &p->m, &p->b.data,
                               p->body_raw.ptr, p->body_raw.len, o, f);
}

/* ---- Body -------------------------------------------------------------- */

static void rebase(nnrp_fault *f, size_t base) {
  if (f)
    f->offset += (uint32_t)base;
}

/* §8.2: the tile-index mode a RESULT_PUSH implies. */
static nnrp_tile_index implied_index(const nnrp_result_push *m) {
  nnrp_tile_index ti = {m->tile_index_bytes ? NNRP_TILE_INDEX_RAW_U16
                                            : NNRP_TILE_INDEX_DENSE_RANGE,
                        m->tile_count,
                        m->tile_base_id,
                        {NULL, 0}};
  return ti;
}

static int result_legacy(const nnrp_result_push *m, nnrp_data_body *b,
                         const uint8_t *body, size_t len, uint32_t flags,
                         nnrp_fault *f) {
  if (m->payload_kind_bitmap == 0) {
    if (len != 0)
      return nnrp__fail(f, MB, 0, "wire.md §7 rule 1", "body_len");
    return 0;
  }
  nnrp_tile_index ti = implied_index(m);
  int rc = nnrp_tensor_body_decode(&b->tensor, &ti, m->tile_index_bytes,
                                   m->section_count, body, len, flags, f);
  if (rc != 0)
    return rc;
  b->has_tensor = 1;
  b->slots_inline =
      (uint8_t)((m->tile_count || m->tile_index_bytes ? NNRP_SLOT_TILE_INDEX
                                                      : 0u) |
                (m->section_count ? NNRP_SLOT_SECTION_TABLE : 0u));
  return 0;
}

/* 1 when reference a sorts strictly before b (P1 order). */
static int ref_less(const nnrp_object_ref *a, const nnrp_object_ref *b) {
  if (a->object_kind != b->object_kind)
    return a->object_kind < b->object_kind;
  if (a->cache_namespace != b->cache_namespace)
    return a->cache_namespace < b->cache_namespace;
  if (a->cache_key_hi != b->cache_key_hi)
    return a->cache_key_hi < b->cache_key_hi;
  return a->cache_key_lo < b->cache_key_lo;
}

/* P1, P2 and the count parts of P3/P4. */
static int result_p_counts(const nnrp_data_body *b, const nnrp__obj_census *c,
                           const uint8_t *body, nnrp_fault *f) {
  const nnrp_bytes *refs = &b->regions[NNRP_REGION_REFS];
  size_t refs_at = (size_t)(refs->ptr - body);
  nnrp_object_ref prev, cur;
  for (uint32_t i = 0; i < b->ref_count; i++) {
    nnrp__ref_read(refs->ptr + 16u * (size_t)i, &cur);
    if (i > 0 && !ref_less(&prev, &cur))
      return nnrp__fail(f, MB, refs_at + 16u * (size_t)i, "wire.md §9.7 P1",
                        "object_reference");
    prev = cur;
  }
  const uint16_t kinds[2] = {NNRP_OBJECT_TILE_INDEX_BLOCK,
                             NNRP_OBJECT_TENSOR_SECTION_TABLE};
  for (int i = 0; i < 2; i++) {
    if (c->inline_n[kinds[i]] > 1)
      return nnrp__fail(f, MB, c->first_off[kinds[i]], "wire.md §9.7 P2",
                        "object_kind");
  }
  for (int i = 0; i < 2; i++) {
    const char *rule = i == 0 ? "wire.md §9.7 P3" : "wire.md §9.7 P4";
    if (c->ref_n[kinds[i]] > 1)
      return nnrp__fail(f, MB, refs_at, rule, "object_kind");
    if (c->ref_n[kinds[i]] && c->inline_n[kinds[i]])
      return nnrp__fail(f, MB, c->first_off[kinds[i]], rule, "object_kind");
  }
  return 0;
}

/* P3: the tile index, inline (implied mode) or referenced. */
static int result_p3(const nnrp_result_push *m, nnrp_data_body *b,
                     const nnrp__obj_census *c, nnrp_fault *f) {
  const char *rule = "wire.md §9.7 P3";
  const nnrp_inline_object *tix = &c->first[NNRP_OBJECT_TILE_INDEX_BLOCK];
  b->tensor.tiles = implied_index(m);
  if (c->inline_n[NNRP_OBJECT_TILE_INDEX_BLOCK]) {
    size_t at = c->first_off[NNRP_OBJECT_TILE_INDEX_BLOCK];
    if (tix->object_bytes != m->tile_index_bytes)
      return nnrp__fail(f, MB, at - 8u, rule, "object_bytes");
    b->tensor.tiles.block = tix->data;
    int rc = nnrp_tile_index_check(&b->tensor.tiles, f);
    if (rc != 0)
      rebase(f, at);
    return rc;
  }
  if (c->ref_n[NNRP_OBJECT_TILE_INDEX_BLOCK]) {
    if (m->tile_index_bytes != 0)
      return nnrp__fail(f, MB, 0, rule, "tile_index_bytes");
    return 0;
  }
  if (m->tile_count > 0)
    return nnrp__fail(f, MB, 0, rule, "tile_count");
  /* [P] docs/wire-notes.md: no tile-index block at all -> no length. */
  if (m->tile_index_bytes != 0)
    return nnrp__fail(f, MB, 0, "wire.md §9.7 P3 [P]", "tile_index_bytes");
  return 0;
}

/* P4: the section table, inline (§8.3) or referenced. */
static int result_p4(const nnrp_result_push *m, nnrp_data_body *b,
                     const nnrp__obj_census *c, uint32_t flags, nnrp_fault *f) {
  const nnrp_inline_object *st = &c->first[NNRP_OBJECT_TENSOR_SECTION_TABLE];
  if (c->inline_n[NNRP_OBJECT_TENSOR_SECTION_TABLE]) {
    size_t at = c->first_off[NNRP_OBJECT_TENSOR_SECTION_TABLE];
    nnrp_tile_index dense = {
        NNRP_TILE_INDEX_DENSE_RANGE, m->tile_count, 0, {NULL, 0}};
    nnrp_tensor_view tv;
    int rc = nnrp_tensor_body_decode(&tv, &dense, 0, m->section_count,
                                     st->data.ptr, st->data.len, flags, f);
    if (rc != 0) {
      rebase(f, at);
      return rc;
    }
    b->tensor.sections = tv.sections;
    b->tensor.section_count = tv.section_count;
    return 0;
  }
  if (c->ref_n[NNRP_OBJECT_TENSOR_SECTION_TABLE] == 0 && m->section_count > 0)
    return nnrp__fail(f, MB, 0, "wire.md §9.7 P4", "section_count");
  return 0;
}

static int result_composed(const nnrp_result_push *m, nnrp_data_body *b,
                           const uint8_t *body, size_t len, uint32_t flags,
                           nnrp_fault *f) {
  nnrp__obj_census c;
  int rc = nnrp__composed_decode(b, &c, body, len, m->payload_kind_bitmap,
                                 m->payload_frame_count, flags, f);
  if (rc == 0)
    rc = result_p_counts(b, &c, body, f);
  if (rc == 0)
    rc = result_p3(m, b, &c, f);
  if (rc == 0)
    rc = result_p4(m, b, &c, flags, f);
  if (rc != 0)
    return rc;
  /* P5: every other kind is allowed. Slots use the FRAME_SUBMIT bits. */
  if (c.inline_n[NNRP_OBJECT_TILE_INDEX_BLOCK])
    b->slots_inline |= NNRP_SLOT_TILE_INDEX;
  if (c.inline_n[NNRP_OBJECT_TENSOR_SECTION_TABLE])
    b->slots_inline |= NNRP_SLOT_SECTION_TABLE;
  if (c.ref_n[NNRP_OBJECT_TILE_INDEX_BLOCK])
    b->slots_referenced |= NNRP_SLOT_TILE_INDEX;
  if (c.ref_n[NNRP_OBJECT_TENSOR_SECTION_TABLE])
    b->slots_referenced |= NNRP_SLOT_SECTION_TABLE;
  b->has_tensor = (uint8_t)(b->slots_inline != 0);
  return 0;
}

int nnrp__result_body_decode(const nnrp_result_push *m, nnrp_data_body *b,
                             const uint8_t *body, size_t len,
                             const nnrp_wire_opts *o, nnrp_fault *f) {
  if (m->section_count > o->max_sections)
    return nnrp__fail(f, NNRP_ERR_LIMIT_EXCEEDED, 0, "wire.md §15 step 18",
                      "section_count");
  /* §7: the form is selected by the metadata alone. */
  if (m->payload_frame_count == 0 &&
      (m->payload_kind_bitmap & ~NNRP_PAYLOAD_KIND_TENSOR) == 0)
    return result_legacy(m, b, body, len, o->flags, f);
  return result_composed(m, b, body, len, o->flags, f);
}
