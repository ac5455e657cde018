/* SPDX-License-Identifier: Apache-2.0 */
/*
 * submit.c - FRAME_SUBMIT (0x10): the 72-byte metadata and its rules M1-M4
 * (wire.md §6.1; M5, the frame id order, belongs to the session), and the
 * body: negotiation and limit checks (§15 steps 17-18), legacy tensor body
 * (§8.1) or composed body (§9) with the object contract F1-F14 (§9.6).
 * FRAME_CANCEL (0x11) is header-only and has no functions here.
 */
#include <string.h>

#include "wire_int.h"

#define MB NNRP_ERR_MALFORMED_BODY

/* CacheObjectKind of each object_ref_mask slot (wire.md §11.9). */
static const uint16_t slot_kind[4] = {
    NNRP_OBJECT_CAMERA_BLOCK, NNRP_OBJECT_TILE_INDEX_BLOCK,
    NNRP_OBJECT_TENSOR_SECTION_TABLE, NNRP_OBJECT_PAYLOAD_LAYOUT_TEMPLATE};

/* ---- Metadata (§6.1) --------------------------------------------------- */

static void submit_read(nnrp_frame_submit *s, const uint8_t *p) {
  s->src_width = nnrp_get_u16le(&p);
  s->src_height = nnrp_get_u16le(&p);
  s->tile_width = nnrp_get_u16le(&p);
  s->tile_height = nnrp_get_u16le(&p);
  s->tile_count = nnrp_get_u16le(&p);
  s->section_count = nnrp_get_u16le(&p);
  s->frame_class = nnrp_get_u8(&p);
  s->input_profile = nnrp_get_u8(&p);
  s->tile_index_mode = nnrp_get_u8(&p);
  s->reserved0 = nnrp_get_u8(&p);
  s->latency_budget_ms = nnrp_get_u16le(&p);
  s->target_fps_x100 = nnrp_get_u16le(&p);
  s->retry_of_frame = nnrp_get_u32le(&p);
  s->tile_base_id = nnrp_get_u32le(&p);
  s->camera_bytes = nnrp_get_u32le(&p);
  s->tile_index_bytes = nnrp_get_u32le(&p);
  s->reserved1 = nnrp_get_u64le(&p);
  s->reserved2 = nnrp_get_u64le(&p);
  s->submit_mode = nnrp_get_u8(&p);
  s->budget_policy = nnrp_get_u8(&p);
  s->loss_tolerance_policy = nnrp_get_u8(&p);
  s->reserved3 = nnrp_get_u8(&p);
  s->object_ref_mask = nnrp_get_u32le(&p);
  s->dependency_frame_id = nnrp_get_u32le(&p);
  s->payload_kind_bitmap = nnrp_get_u32le(&p);
  s->payload_frame_count = nnrp_get_u16le(&p);
  s->reserved4 = nnrp_get_u16le(&p);
}

/* M1: enum and mask checks, in field order. */
static int submit_m1(nnrp_frame_submit *s, uint32_t flags, nnrp_fault *f) {
  const char *r = "wire.md §6.1 M1";
  if (NNRP__STRICT(flags) && s->frame_class > NNRP_FRAME_CLASS_DISCARDABLE)
    return nnrp__fail(f, MB, 12, r, "frame_class");
  if (s->input_profile > NNRP_INPUT_PROFILE_DENSE_LUMA_FRAME)
    return nnrp__fail(f, MB, 13, r, "input_profile");
  if (s->tile_index_mode > NNRP_TILE_INDEX_BITSET)
    return nnrp__fail(f, MB, 14, r, "tile_index_mode");
  if (s->submit_mode > NNRP_SUBMIT_MODE_MIXED)
    return nnrp__fail(f, MB, 52, r, "submit_mode");
  if ((s->budget_policy & ~NNRP_BUDGET_KNOWN_MASK) != 0) {
    if (NNRP__STRICT(flags))
      return nnrp__fail(f, MB, 53, r, "budget_policy");
    s->budget_policy &= NNRP_BUDGET_KNOWN_MASK;
  }
  if (s->loss_tolerance_policy > NNRP_LOSS_TOLERANCE_FIRE_AND_FORGET &&
      s->loss_tolerance_policy != NNRP_LOSS_TOLERANCE_INHERIT)
    return nnrp__fail(f, MB, 54, r, "loss_tolerance_policy");
  /* Both modes (wire.md §13): these bits change the body structure. */
  if ((s->object_ref_mask & ~NNRP_SLOT_KNOWN_MASK) != 0)
    return nnrp__fail(f, MB, 56, r, "object_ref_mask");
  if ((s->payload_kind_bitmap & ~NNRP_PAYLOAD_KIND_KNOWN_MASK) != 0)
    return nnrp__fail(f, MB, 64, r, "payload_kind_bitmap");
  return 0;
}

/* M2: reserved fields (strict only). */
static int submit_m2(const nnrp_frame_submit *s, nnrp_fault *f) {
  const char *r = "wire.md §6.1 M2";
  if (s->reserved0 != 0)
    return nnrp__fail(f, MB, 15, r, "reserved0");
  if (s->reserved1 != 0)
    return nnrp__fail(f, MB, 36, r, "reserved1");
  if (s->reserved2 != 0)
    return nnrp__fail(f, MB, 44, r, "reserved2");
  if (s->reserved3 != 0)
    return nnrp__fail(f, MB, 55, r, "reserved3");
  if (s->reserved4 != 0)
    return nnrp__fail(f, MB, 70, r, "reserved4");
  return 0;
}

/* M3: without the TENSOR bit every tensor field is 0. */
static int submit_m3(const nnrp_frame_submit *s, nnrp_fault *f) {
  if (s->payload_kind_bitmap & NNRP_PAYLOAD_KIND_TENSOR)
    return 0;
  const struct {
    uint32_t v;
    uint8_t off;
    const char *name;
  } t[] = {{s->src_width, 0, "src_width"},
           {s->src_height, 2, "src_height"},
           {s->tile_width, 4, "tile_width"},
           {s->tile_height, 6, "tile_height"},
           {s->tile_count, 8, "tile_count"},
           {s->section_count, 10, "section_count"},
           {s->input_profile, 13, "input_profile"},
           {s->tile_base_id, 24, "tile_base_id"},
           {s->camera_bytes, 28, "camera_bytes"},
           {s->tile_index_bytes, 32, "tile_index_bytes"}};
  for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
    if (t[i].v != 0)
      return nnrp__fail(f, MB, t[i].off, "wire.md §6.1 M3", t[i].name);
  }
  return 0;
}

/* M4: INLINE has no references; REFERENCE and MIXED have some. */
static int submit_m4(const nnrp_frame_submit *s, nnrp_fault *f) {
  int inl = s->submit_mode == NNRP_SUBMIT_MODE_INLINE;
  if (inl != (s->object_ref_mask == 0))
    return nnrp__fail(f, MB, 56, "wire.md §6.1 M4", "object_ref_mask");
  return 0;
}

int nnrp__frame_submit_meta_dec(nnrp_meta *m, const uint8_t *in, uint32_t flags,
                                nnrp_fault *f) {
  nnrp_frame_submit *s = &m->frame_submit;
  submit_read(s, in);
  int rc = submit_m1(s, flags, f);
  if (rc == 0 && NNRP__STRICT(flags))
    rc = submit_m2(s, f);
  if (rc == 0)
    rc = submit_m3(s, f);
  if (rc == 0)
    rc = submit_m4(s, f);
  return rc;
}

void nnrp__frame_submit_meta_enc(const nnrp_meta *m, uint8_t *out) {
  const nnrp_frame_submit *s = &m->frame_submit;
  uint8_t *p = out;
  p = nnrp_put_u16le(p, s->src_width);
  p = nnrp_put_u16le(p, s->src_height);
  p = nnrp_put_u16le(p, s->tile_width);
  p = nnrp_put_u16le(p, s->tile_height);
  p = nnrp_put_u16le(p, s->tile_count);
  p = nnrp_put_u16le(p, s->section_count);
  p = nnrp_put_u8(p, s->frame_class);
  p = nnrp_put_u8(p, s->input_profile);
  p = nnrp_put_u8(p, s->tile_index_mode);
  p = nnrp_put_u8(p, s->reserved0);
  p = nnrp_put_u16le(p, s->latency_budget_ms);
  p = nnrp_put_u16le(p, s->target_fps_x100);
  p = nnrp_put_u32le(p, s->retry_of_frame);
  p = nnrp_put_u32le(p, s->tile_base_id);
  p = nnrp_put_u32le(p, s->camera_bytes);
  p = nnrp_put_u32le(p, s->tile_index_bytes);
  p = nnrp_put_u64le(p, s->reserved1);
  p = nnrp_put_u64le(p, s->reserved2);
  p = nnrp_put_u8(p, s->submit_mode);
  p = nnrp_put_u8(p, s->budget_policy);
  p = nnrp_put_u8(p, s->loss_tolerance_policy);
  p = nnrp_put_u8(p, s->reserved3);
  p = nnrp_put_u32le(p, s->object_ref_mask);
  p = nnrp_put_u32le(p, s->dependency_frame_id);
  p = nnrp_put_u32le(p, s->payload_kind_bitmap);
  p = nnrp_put_u16le(p, s->payload_frame_count);
  (void)nnrp_put_u16le(p, s->reserved4);
}

int nnrp__frame_submit_body_dec(nnrp_packet *p, const nnrp_wire_opts *o,
                                nnrp_fault *f) {
  return nnrp_data_body_decode(NNRP_MSG_FRAME_SUBMIT, &p->m, &p->b.data,
                               p->body_raw.ptr, p->body_raw.len, o, f);
}

/* ---- Body: steps 17 and 18 --------------------------------------------- */

static int submit_negotiation(const nnrp_frame_submit *m,
                              const nnrp_wire_opts *o, nnrp_fault *f) {
  const char *r = "wire.md §15 step 17";
  if ((m->payload_kind_bitmap & ~o->payload_kinds) != 0)
    return nnrp__fail(f, NNRP_ERR_UNSUPPORTED_CAPABILITY, 0, r,
                      "payload_kind_bitmap");
  for (unsigned s = 0; s < 4; s++) {
    if ((m->object_ref_mask & (1u << s)) == 0)
      continue;
    /* cache_objects 0: cache disabled, so any reference is refused. */
    if ((o->cache_objects & (1u << (slot_kind[s] - 1u))) == 0)
      return nnrp__fail(f, NNRP_ERR_UNSUPPORTED_CAPABILITY, 0, r,
                        "object_ref_mask");
  }
  if (m->section_count > o->max_sections)
    return nnrp__fail(f, NNRP_ERR_LIMIT_EXCEEDED, 0, "wire.md §15 step 18",
                      "section_count");
  return 0;
}

static void rebase(nnrp_fault *f, size_t base) {
  if (f)
    f->offset += (uint32_t)base;
}

/* ---- Legacy body (§8.1) ------------------------------------------------ */

static int submit_legacy(const nnrp_frame_submit *m, nnrp_data_body *b,
                         const uint8_t *body, size_t len, uint32_t flags,
                         nnrp_fault *f) {
  if ((uint64_t)m->camera_bytes > len)
    return nnrp__fail(f, MB, len, "wire.md §8.1", "camera_bytes");
  b->camera.ptr = body;
  b->camera.len = m->camera_bytes;
  size_t start = m->camera_bytes;
  if (len != m->camera_bytes) { /* a tensor body follows the pad */
    uint64_t aligned = nnrp_align8(m->camera_bytes);
    if (aligned > len)
      return nnrp__fail(f, MB, start, "wire.md §8.1", "pad");
    if (NNRP__STRICT(flags) &&
        !nnrp__all_zero(body + start, (size_t)aligned - start))
      return nnrp__fail(f, MB, start, "wire.md §8.1", "pad");
    start = (size_t)aligned;
  }
  nnrp_tile_index ti = {
      m->tile_index_mode, m->tile_count, m->tile_base_id, {NULL, 0}};
  int rc = nnrp_tensor_body_decode(&b->tensor, &ti, m->tile_index_bytes,
                                   m->section_count, body + start, len - start,
                                   flags, f);
  if (rc != 0) {
    rebase(f, start);
    return rc;
  }
  b->has_tensor = 1;
  b->slots_inline =
      (uint8_t)((m->camera_bytes ? NNRP_SLOT_CAMERA : 0u) |
                (m->tile_count || m->tile_index_bytes ? NNRP_SLOT_TILE_INDEX
                                                      : 0u) |
                (m->section_count ? NNRP_SLOT_SECTION_TABLE : 0u));
  return 0;
}

/* ---- Composed body: F1-F14 (§9.6) -------------------------------------- */

/* F1-F7: slots, modes and the reference region against object_ref_mask. */
static int submit_f_slots(const nnrp_frame_submit *m, const nnrp_data_body *b,
                          const nnrp__obj_census *c, const uint8_t *body,
                          nnrp_fault *f) {
  uint32_t mask = m->object_ref_mask;
  size_t refs_at = (size_t)(b->regions[NNRP_REGION_REFS].ptr - body);
  if ((mask & ~NNRP_SLOT_KNOWN_MASK) != 0)
    return nnrp__fail(f, MB, 0, "wire.md §9.6 F1", "object_ref_mask");
  if (m->submit_mode == NNRP_SUBMIT_MODE_INLINE && mask != 0)
    return nnrp__fail(f, MB, 0, "wire.md §9.6 F2", "object_ref_mask");
  if (m->submit_mode == NNRP_SUBMIT_MODE_INLINE && b->ref_count != 0)
    return nnrp__fail(f, MB, refs_at, "wire.md §9.6 F2",
                      "object_reference_bytes");
  for (unsigned s = 0; s < 4; s++) {
    uint16_t k = slot_kind[s];
    if (c->inline_n[k] > 1)
      return nnrp__fail(f, MB, c->first_off[k], "wire.md §9.6 F3",
                        "object_kind");
    if (c->ref_n[k] > 1)
      return nnrp__fail(f, MB, refs_at, "wire.md §9.6 F3", "object_kind");
  }
  for (unsigned s = 0; s < 4; s++) {
    uint16_t k = slot_kind[s];
    int set = (mask & (1u << s)) != 0;
    if (set && c->inline_n[k] != 0)
      return nnrp__fail(f, MB, c->first_off[k], "wire.md §9.6 F4",
                        "object_kind");
    if (set && c->ref_n[k] != 1)
      return nnrp__fail(f, MB, refs_at, "wire.md §9.6 F4", "object_ref_mask");
    if (!set && c->ref_n[k] != 0)
      return nnrp__fail(f, MB, refs_at, "wire.md §9.6 F5", "object_kind");
  }
  if (m->submit_mode == NNRP_SUBMIT_MODE_REFERENCE) {
    for (unsigned s = 0; s < 4; s++) {
      if (c->inline_n[slot_kind[s]] != 0)
        return nnrp__fail(f, MB, c->first_off[slot_kind[s]], "wire.md §9.6 F6",
                          "object_kind");
    }
  }
  /* F7: reference kinds, in order, are exactly the set slots in order. */
  uint32_t i = 0;
  for (unsigned s = 0; s < 4; s++) {
    if ((mask & (1u << s)) == 0)
      continue;
    nnrp_object_ref r;
    if (i >= b->ref_count)
      return nnrp__fail(f, MB, refs_at, "wire.md §9.6 F7", "object_kind");
    nnrp__ref_read(b->regions[NNRP_REGION_REFS].ptr + 16u * (size_t)i, &r);
    if (r.object_kind != slot_kind[s])
      return nnrp__fail(f, MB, refs_at + 16u * (size_t)i, "wire.md §9.6 F7",
                        "object_kind");
    i++;
  }
  if (i != b->ref_count)
    return nnrp__fail(f, MB, refs_at + 16u * (size_t)i, "wire.md §9.6 F7",
                      "object_kind");
  return 0;
}

/* F8-F9: inline camera and tile index against the metadata. */
static int submit_f_camera_tiles(const nnrp_frame_submit *m, nnrp_data_body *b,
                                 const nnrp__obj_census *c, nnrp_fault *f) {
  const nnrp_inline_object *cam = &c->first[NNRP_OBJECT_CAMERA_BLOCK];
  const nnrp_inline_object *tix = &c->first[NNRP_OBJECT_TILE_INDEX_BLOCK];
  if (c->inline_n[NNRP_OBJECT_CAMERA_BLOCK]) {
    if (cam->object_bytes != m->camera_bytes)
      return nnrp__fail(f, MB, c->first_off[NNRP_OBJECT_CAMERA_BLOCK] - 8u,
                        "wire.md §9.6 F8", "object_bytes");
    b->camera = cam->data;
  } else if (m->camera_bytes != 0) {
    return nnrp__fail(f, MB, 0, "wire.md §9.6 F8", "camera_bytes");
  }
  b->tensor.tiles.mode = m->tile_index_mode;
  b->tensor.tiles.count = m->tile_count;
  b->tensor.tiles.base_id = m->tile_base_id;
  if (c->inline_n[NNRP_OBJECT_TILE_INDEX_BLOCK]) {
    size_t at = c->first_off[NNRP_OBJECT_TILE_INDEX_BLOCK];
    if (tix->object_bytes != m->tile_index_bytes)
      return nnrp__fail(f, MB, at - 8u, "wire.md §9.6 F9", "object_bytes");
    b->tensor.tiles.block = tix->data;
    int rc = nnrp_tile_index_check(&b->tensor.tiles, f);
    if (rc != 0) {
      rebase(f, at);
      return rc;
    }
  }
  return 0;
}

/* F8-F13: the tensor objects against the metadata. */
static int submit_f_tensor(const nnrp_frame_submit *m, nnrp_data_body *b,
                           const nnrp__obj_census *c, uint32_t flags,
                           nnrp_fault *f) {
  int rc = submit_f_camera_tiles(m, b, c, f);
  if (rc != 0)
    return rc;
  int tix_inline = c->inline_n[NNRP_OBJECT_TILE_INDEX_BLOCK] != 0;
  int tix_ref = (m->object_ref_mask & NNRP_SLOT_TILE_INDEX) != 0;
  if (!tix_inline && !tix_ref && m->tile_count != 0)
    return nnrp__fail(f, MB, 0, "wire.md §9.6 F10", "tile_count");
  if (tix_ref && m->tile_index_bytes != 0)
    return nnrp__fail(f, MB, 0, "wire.md §9.6 F11", "tile_index_bytes");
  /* [P] docs/wire-notes.md: with no tile-index block at all, as F8 says for
   * the camera, tile_index_bytes is 0 (otherwise it describes nothing). */
  if (!tix_inline && !tix_ref && m->tile_index_bytes != 0)
    return nnrp__fail(f, MB, 0, "wire.md §9.6 F9-F11 [P]",
                      "tile_index_bytes");
  const nnrp_inline_object *st = &c->first[NNRP_OBJECT_TENSOR_SECTION_TABLE];
  int st_inline = c->inline_n[NNRP_OBJECT_TENSOR_SECTION_TABLE] != 0;
  if (st_inline) {
    size_t at = c->first_off[NNRP_OBJECT_TENSOR_SECTION_TABLE];
    nnrp_tile_index dense = {
        NNRP_TILE_INDEX_DENSE_RANGE, m->tile_count, 0, {NULL, 0}};
    nnrp_tensor_view tv;
    rc = nnrp_tensor_body_decode(&tv, &dense, 0, m->section_count, st->data.ptr,
                                 st->data.len, flags, f);
    if (rc != 0) {
      rebase(f, at);
      return rc;
    }
    b->tensor.sections = tv.sections;
    b->tensor.section_count = tv.section_count;
  } else if ((m->object_ref_mask & NNRP_SLOT_SECTION_TABLE) == 0 &&
             m->section_count != 0) {
    return nnrp__fail(f, MB, 0, "wire.md §9.6 F13", "section_count");
  }
  b->has_tensor = (uint8_t)(tix_inline || st_inline);
  return 0;
}

static int submit_composed(const nnrp_frame_submit *m, nnrp_data_body *b,
                           const uint8_t *body, size_t len, uint32_t flags,
                           nnrp_fault *f) {
  nnrp__obj_census c;
  int rc = nnrp__composed_decode(b, &c, body, len, m->payload_kind_bitmap,
                                 m->payload_frame_count, flags, f);
  if (rc == 0)
    rc = submit_f_slots(m, b, &c, body, f);
  if (rc == 0)
    rc = submit_f_tensor(m, b, &c, flags, f);
  if (rc != 0)
    return rc;
  if (m->submit_mode != NNRP_SUBMIT_MODE_INLINE && m->object_ref_mask == 0)
    return nnrp__fail(f, MB, 0, "wire.md §9.6 F14", "object_ref_mask");
  for (unsigned s = 0; s < 4; s++) {
    if (c.inline_n[slot_kind[s]])
      b->slots_inline = (uint8_t)(b->slots_inline | (1u << s));
    if (c.ref_n[slot_kind[s]])
      b->slots_referenced = (uint8_t)(b->slots_referenced | (1u << s));
  }
  return 0;
}

int nnrp__submit_body_decode(const nnrp_frame_submit *m, nnrp_data_body *b,
                             const uint8_t *body, size_t len,
                             const nnrp_wire_opts *o, nnrp_fault *f) {
  int rc = submit_negotiation(m, o, f);
  if (rc != 0)
    return rc;
  /* §7: the legacy form is selected by the metadata alone. */
  if (m->payload_kind_bitmap == NNRP_PAYLOAD_KIND_TENSOR &&
      m->submit_mode == NNRP_SUBMIT_MODE_INLINE && m->object_ref_mask == 0 &&
      m->payload_frame_count == 0)
    return submit_legacy(m, b, body, len, o->flags, f);
  return submit_composed(m, b, body, len, o->flags, f);
}
