/* SPDX-License-Identifier: Apache-2.0 */
/*
 * body_export.c - nnrp_body_data_from_view(): turns a decoded FRAME_SUBMIT or
 * RESULT_PUSH body (wire.md §7-§9) back into builder input, so a received
 * packet can be re-encoded. Only descriptors are written to the caller's
 * storage; every payload view still points into the decoded packet.
 */
#include <string.h>

#include "wire_int.h"

/* Slot bits of the reference kinds (FRAME_SUBMIT slot numbering). */
static uint8_t ref_slots(const nnrp_object_ref *r, uint32_t n) {
  uint8_t s = 0;
  for (uint32_t i = 0; i < n; i++) {
    switch (r[i].object_kind) {
    case NNRP_OBJECT_CAMERA_BLOCK:
      s |= NNRP_SLOT_CAMERA;
      break;
    case NNRP_OBJECT_TILE_INDEX_BLOCK:
      s |= NNRP_SLOT_TILE_INDEX;
      break;
    case NNRP_OBJECT_TENSOR_SECTION_TABLE:
      s |= NNRP_SLOT_SECTION_TABLE;
      break;
    default:
      break;
    }
  }
  return s;
}

/* References, typed payloads and extension frames, in wire order. */
static int export_lists(const nnrp_data_body *v, nnrp_body_data *out,
                        nnrp_body_storage *st) {
  if (v->ref_count > st->refs_cap || v->typed_count > st->typed_cap ||
      v->ext_count > st->ext_cap || v->typed_count > UINT16_MAX)
    return NNRP_ERR_BUFFER_TOO_SMALL;
  for (uint32_t i = 0; i < v->ref_count; i++)
    if (nnrp_data_body_ref(v, i, &st->refs[i]) != 0)
      return NNRP_ERR_INVALID_ARGUMENT;
  for (uint32_t i = 0; i < v->typed_count; i++)
    if (nnrp_data_body_typed(v, i, &st->typed[i]) != 0)
      return NNRP_ERR_INVALID_ARGUMENT;
  for (uint32_t i = 0; i < v->ext_count; i++)
    if (nnrp_data_body_ext(v, i, &st->ext[i]) != 0)
      return NNRP_ERR_INVALID_ARGUMENT;
  out->refs = v->ref_count ? st->refs : NULL;
  out->ref_count = v->ref_count;
  out->typed = v->typed_count ? st->typed : NULL;
  out->typed_count = (uint16_t)v->typed_count;
  out->ext = v->ext_count ? st->ext : NULL;
  out->ext_count = v->ext_count;
  return 0;
}

/* Tile ids of an inline RAW_U16 / DELTA_U16 / BITSET block. DENSE_RANGE and
 * referenced indexes need none (ids NULL). */
static int export_tile_ids(const nnrp_data_body *v, nnrp_tensor_data *t,
                           nnrp_body_storage *st) {
  t->tile_ids = NULL;
  if (t->tile_index_mode == NNRP_TILE_INDEX_DENSE_RANGE || t->tile_count == 0)
    return 0;
  if (t->tile_count > st->tile_ids_cap)
    return NNRP_ERR_BUFFER_TOO_SMALL;
  nnrp_tile_index ti = {t->tile_index_mode, t->tile_count, t->tile_base_id,
                        v->tensor.tiles.block};
  nnrp_tile_iter it;
  nnrp_tile_iter_init(&it, &ti);
  uint32_t id = 0;
  for (uint32_t i = 0; i < t->tile_count; i++) {
    /* A u16 running sum (DELTA_U16) may exceed 0xFFFF on the wire; such
     * an index cannot be expressed as builder input. */
    if (!nnrp_tile_iter_next(&it, &id) || id > UINT16_MAX)
      return NNRP_ERR_INCONSISTENT;
    st->tile_ids[i] = (uint16_t)id;
  }
  t->tile_ids = st->tile_ids;
  return 0;
}

/* One decoded section into st->sections[i], its tiles and codecs at
 * i * tile_count in the storage arrays. */
static int export_section(const nnrp_section_view *s, uint16_t tc, size_t i,
                          nnrp_body_storage *st) {
  nnrp_section_data *d = &st->sections[i];
  size_t base = i * tc;
  int mixed = s->desc.codec_table_bytes != 0;
  if (mixed && (st->codecs == NULL || base + tc > st->codecs_cap))
    return NNRP_ERR_BUFFER_TOO_SMALL;
  memset(d, 0, sizeof(*d));
  d->role_id = s->desc.role_id;
  d->codec_id = s->desc.codec_id;
  d->dtype_id = s->desc.dtype_id;
  d->layout_id = s->desc.layout_id;
  d->scale_policy = s->desc.scale_policy;
  d->element_count_per_tile = s->desc.element_count_per_tile;
  d->payload_stride_bytes = s->desc.payload_stride_bytes;
  d->tiles = st->tiles ? st->tiles + base : NULL;
  d->tile_codec_ids = mixed ? st->codecs + base : NULL;
  nnrp_tile_data_iter it;
  nnrp_tile_data_iter_init(&it, s);
  for (uint32_t j = 0; j < tc; j++) {
    uint8_t codec = 0;
    if (!nnrp_tile_data_iter_next(&it, &st->tiles[base + j], &codec))
      return NNRP_ERR_INVALID_ARGUMENT; /* not a decoded view */
    if (mixed)
      st->codecs[base + j] = codec;
  }
  return 0;
}

static int export_sections(const nnrp_data_body *v, nnrp_tensor_data *t,
                           nnrp_body_storage *st) {
  uint16_t sc = v->tensor.section_count;
  uint16_t tc = t->tile_count;
  t->sections = NULL;
  t->section_count = sc;
  if (sc == 0)
    return 0;
  if (sc > st->sections_cap || (size_t)sc * tc > st->tiles_cap ||
      (tc != 0 && st->tiles == NULL))
    return NNRP_ERR_BUFFER_TOO_SMALL;
  nnrp_section_iter it;
  nnrp_section_iter_init(&it, &v->tensor);
  for (size_t i = 0; i < sc; i++) {
    nnrp_section_view s;
    if (!nnrp_section_iter_next(&it, &s) || s.tile_count != tc)
      return NNRP_ERR_INVALID_ARGUMENT;
    int rc = export_section(&s, tc, i, st);
    if (rc != 0)
      return rc;
  }
  t->sections = st->sections;
  return 0;
}

/* Inline objects: the first camera / tile index / section table of a tensor
 * body are the tensor's own; everything else becomes extra_inline. In a
 * RESULT_PUSH, where further cameras are ordinary objects (P5), a camera is
 * the tensor's only as the builder writes it: first block, profile_id 0.
 * Empty slot blocks of a body without tensor carry nothing and are dropped.
 */
static int export_inline(const nnrp_data_body *v, int tensor, int submit,
                         uint8_t refs, nnrp_body_data *out,
                         nnrp_body_storage *st) {
  nnrp_inline_iter it;
  nnrp_inline_object o;
  uint8_t seen = 0;
  uint32_t n = 0;
  int first = 1;
  nnrp_inline_iter_init(&it, v);
  for (; nnrp_inline_iter_next(&it, &o); first = 0) {
    uint8_t slot = 0;
    if (o.object_kind == NNRP_OBJECT_CAMERA_BLOCK)
      slot = (submit ||
              (first && o.profile_id == 0 && (refs & NNRP_SLOT_CAMERA) == 0))
                 ? NNRP_SLOT_CAMERA
                 : 0;
    else if (o.object_kind == NNRP_OBJECT_TILE_INDEX_BLOCK)
      slot = NNRP_SLOT_TILE_INDEX;
    else if (o.object_kind == NNRP_OBJECT_TENSOR_SECTION_TABLE)
      slot = NNRP_SLOT_SECTION_TABLE;
    if (slot != 0 && tensor && (seen & slot) == 0) {
      seen |= slot;
      if (slot == NNRP_SLOT_CAMERA && out->tensor != NULL)
        st->tensor.camera = o.data;
      continue;
    }
    if (slot != 0 && !tensor && o.data.len == 0 &&
        (submit || slot != NNRP_SLOT_CAMERA))
      continue; /* e.g. the empty index block of a tile-less tensor */
    if (n >= st->extra_inline_cap)
      return NNRP_ERR_BUFFER_TOO_SMALL;
    st->extra_inline[n++] = o;
  }
  out->extra_inline = n ? st->extra_inline : NULL;
  out->extra_inline_count = n;
  return 0;
}

/* The tensor fields of the metadata, then ids, camera and sections. */
static int export_tensor(uint8_t msg_type, const nnrp_meta *meta,
                         const nnrp_data_body *v, uint8_t refs,
                         nnrp_body_storage *st) {
  nnrp_tensor_data *t = &st->tensor;
  memset(t, 0, sizeof(*t));
  if (msg_type == NNRP_MSG_FRAME_SUBMIT) {
    const nnrp_frame_submit *m = &meta->frame_submit;
    t->tile_index_mode = m->tile_index_mode;
    t->tile_base_id = m->tile_base_id;
    t->tile_count = m->tile_count;
    if (!v->composed)
      t->camera = v->camera;
  } else {
    const nnrp_result_push *m = &meta->result_push;
    t->tile_index_mode = m->tile_index_bytes ? NNRP_TILE_INDEX_RAW_U16
                                             : NNRP_TILE_INDEX_DENSE_RANGE;
    t->tile_base_id = m->tile_base_id;
    t->tile_count = m->tile_count;
  }
  if ((refs & NNRP_SLOT_TILE_INDEX) == 0) {
    int rc = export_tile_ids(v, t, st);
    if (rc != 0)
      return rc;
  }
  if (refs & NNRP_SLOT_SECTION_TABLE) {
    t->section_count = msg_type == NNRP_MSG_FRAME_SUBMIT
                           ? meta->frame_submit.section_count
                           : meta->result_push.section_count;
    return 0;
  }
  return export_sections(v, t, st);
}

int nnrp_body_data_from_view(uint8_t msg_type, const nnrp_meta *meta,
                             const nnrp_data_body *v, nnrp_body_data *out,
                             nnrp_body_storage *st) {
  if (meta == NULL || v == NULL || out == NULL || st == NULL ||
      (msg_type != NNRP_MSG_FRAME_SUBMIT && msg_type != NNRP_MSG_RESULT_PUSH))
    return NNRP_ERR_INVALID_ARGUMENT;
  int submit = msg_type == NNRP_MSG_FRAME_SUBMIT;
  uint32_t kinds = submit ? meta->frame_submit.payload_kind_bitmap
                          : meta->result_push.payload_kind_bitmap;
  int tensor = (kinds & NNRP_PAYLOAD_KIND_TENSOR) != 0;
  memset(out, 0, sizeof(*out));
  int rc = export_lists(v, out, st);
  if (rc != 0)
    return rc;
  uint8_t refs = ref_slots(out->refs, out->ref_count);
  if (tensor) {
    rc = export_tensor(msg_type, meta, v, refs, st);
    if (rc != 0)
      return rc;
    out->tensor = &st->tensor;
  }
  return export_inline(v, tensor, submit, refs, out, st);
}
