/* SPDX-License-Identifier: Apache-2.0 */
/*
 * build_data.c - the data-plane builders nnrp_build_frame_submit() and
 * nnrp_build_result_push() (api-seed.md §3): form selection (wire.md §7),
 * legacy bodies (§8.1, §8.2), composed bodies (§9), and every derived
 * metadata field. A plan pass checks the input and sizes every region; the
 * emit pass then writes header, metadata and body in one pass over the
 * payloads, which are referenced, never copied (nnrp__out_ref).
 */
#include <string.h>

#include "wire_int.h"

#define PRELUDE_LEN 32u
#define BLOCK_LEN 16u /* inline header, reference, typed / ext descriptor */
#define SUBMIT_META_LEN 72u
#define RESULT_META_LEN 64u

static const char rule_f7[] = "wire.md §9.6 F7";
static const char rule_d19[] = "wire.md §2.1 D19";

/* Everything the emit pass needs, computed by the plan pass. */
typedef struct bplan {
  const nnrp_body_data *b;
  const nnrp_tensor_data *t; /* NULL: no tensor payload */
  uint8_t msg;
  uint8_t composed;
  uint8_t ref_slots; /* NNRP_SLOT_* of the reference kinds */
  uint8_t ti_mode;   /* mode of the tile-index block */
  uint8_t emit_camera, emit_ti, emit_sect;
  uint32_t kinds; /* payload_kind_bitmap */
  uint16_t tile_count, section_count;
  uint32_t tile_base_id;
  uint32_t camera_bytes; /* inline camera block */
  uint32_t ti_bytes;     /* tile-index block (0: none / referenced) */
  uint64_t sect_bytes;   /* inline section sequence */
  uint64_t region[NNRP_REGION_COUNT];
  uint64_t body_len;
} bplan;

static uint8_t slot_of_kind(uint16_t kind) {
  switch (kind) {
  case NNRP_OBJECT_CAMERA_BLOCK:
    return NNRP_SLOT_CAMERA;
  case NNRP_OBJECT_TILE_INDEX_BLOCK:
    return NNRP_SLOT_TILE_INDEX;
  case NNRP_OBJECT_TENSOR_SECTION_TABLE:
    return NNRP_SLOT_SECTION_TABLE;
  case NNRP_OBJECT_PAYLOAD_LAYOUT_TEMPLATE:
    return NNRP_SLOT_LAYOUT_TEMPLATE;
  default:
    return 0;
  }
}

static int kind_valid(uint16_t kind) {
  return kind >= NNRP_OBJECT_CAMERA_BLOCK &&
         kind <= NNRP_OBJECT_STRUCTURED_EVENT_SCHEMA;
}

/* ---- Plan: typed frames, references, extension frames, inline extras --- */

static int plan_typed(bplan *p, nnrp_fault *f) {
  const nnrp_body_data *b = p->b;
  if (b->typed_count != 0 && b->typed == NULL)
    return nnrp__fail(f, NNRP_ERR_INCONSISTENT, 0, "wire.md §9.4 T1", "typed");
  uint64_t bytes = 0;
  for (uint32_t i = 0; i < b->typed_count; i++) {
    const nnrp_typed_frame *t = &b->typed[i];
    uint8_t k = t->payload_kind;
    if ((k & NNRP_PAYLOAD_KIND_TYPED_MASK) != k || k == 0 ||
        (k & (k - 1u)) != 0)
      return nnrp__fail(f, NNRP_ERR_INCONSISTENT, i, "wire.md §9.4",
                        "payload_kind");
    if ((t->data.len != 0 && t->data.ptr == NULL) ||
        t->data.len > NNRP_MAX_PACKET_BYTES)
      return nnrp__fail(f, NNRP_ERR_INCONSISTENT, i, "wire.md §9.4 T5",
                        "typed");
    p->kinds |= k;
    bytes += t->data.len;
  }
  p->region[NNRP_REGION_TYPED_DESC] = (uint64_t)BLOCK_LEN * b->typed_count;
  p->region[NNRP_REGION_TYPED_FRAMES] = bytes;
  return 0;
}

/* (object_kind, namespace, key_hi, key_lo) of a strictly above b (P1). */
static int ref_after(const nnrp_object_ref *a, const nnrp_object_ref *b) {
  if (a->object_kind != b->object_kind)
    return a->object_kind > b->object_kind;
  if (a->cache_namespace != b->cache_namespace)
    return a->cache_namespace > b->cache_namespace;
  if (a->cache_key_hi != b->cache_key_hi)
    return a->cache_key_hi > b->cache_key_hi;
  return a->cache_key_lo > b->cache_key_lo;
}

static int plan_refs(bplan *p, nnrp_fault *f) {
  const nnrp_body_data *b = p->b;
  if (b->ref_count != 0 && b->refs == NULL)
    return nnrp__fail(f, NNRP_ERR_INCONSISTENT, 0, "wire.md §9.3", "refs");
  for (uint32_t i = 0; i < b->ref_count; i++) {
    const nnrp_object_ref *r = &b->refs[i];
    if (!kind_valid(r->object_kind))
      return nnrp__fail(f, NNRP_ERR_INCONSISTENT, i, "wire.md §9.3",
                        "object_kind");
    uint8_t slot = slot_of_kind(r->object_kind);
    if (p->msg == NNRP_MSG_FRAME_SUBMIT) {
      /* Slot kinds only, each once, in slot (= bit) order. */
      if (slot == 0 || (p->ref_slots & ~(slot - 1u)) != 0)
        return nnrp__fail(f, NNRP_ERR_INCONSISTENT, i, rule_f7, "object_kind");
    } else {
      if (i > 0 && !ref_after(r, &b->refs[i - 1]))
        return nnrp__fail(f, NNRP_ERR_INCONSISTENT, i, "wire.md §9.7 P1",
                          "refs");
      /* P3/P4 limit only the tile index and the section table to one
       * reference; cameras and other kinds may repeat (P5). */
      if ((slot == NNRP_SLOT_TILE_INDEX || slot == NNRP_SLOT_SECTION_TABLE) &&
          (p->ref_slots & slot) != 0)
        return nnrp__fail(f, NNRP_ERR_INCONSISTENT, i,
                          slot == NNRP_SLOT_TILE_INDEX ? "wire.md §9.7 P3"
                                                       : "wire.md §9.7 P4",
                          "refs");
    }
    p->ref_slots |= slot;
  }
  p->region[NNRP_REGION_REFS] = (uint64_t)BLOCK_LEN * b->ref_count;
  return 0;
}

static int plan_ext(bplan *p, nnrp_fault *f) {
  const nnrp_body_data *b = p->b;
  if (b->ext_count != 0 && b->ext == NULL)
    return nnrp__fail(f, NNRP_ERR_INCONSISTENT, 0, "wire.md §9.5", "ext");
  uint64_t bytes = 0;
  for (uint32_t i = 0; i < b->ext_count; i++) {
    const nnrp_ext_frame *e = &b->ext[i];
    if ((e->extension_flags & ~NNRP_EXT_FLAG_CRITICAL) != 0)
      return nnrp__fail(f, NNRP_ERR_INCONSISTENT, i, "wire.md §9.5",
                        "extension_flags");
    if ((e->data.len != 0 && e->data.ptr == NULL) ||
        e->data.len > NNRP_MAX_PACKET_BYTES)
      return nnrp__fail(f, NNRP_ERR_INCONSISTENT, i, "wire.md §9.5", "ext");
    bytes += e->data.len;
  }
  p->region[NNRP_REGION_EXT_DESC] = (uint64_t)BLOCK_LEN * b->ext_count;
  p->region[NNRP_REGION_EXT_PAYLOAD] = bytes;
  return 0;
}

/* Non-slot inline objects. Slot kinds 1-3 come from the tensor data only
 * (F3, P2); an inline PAYLOAD_LAYOUT_TEMPLATE may appear once in a submit
 * and never with its slot referenced (F3, F4). */
static int plan_extra_inline(bplan *p, uint64_t *bytes, uint8_t *slots,
                             nnrp_fault *f) {
  const nnrp_body_data *b = p->b;
  *bytes = 0;
  *slots = 0;
  if (b->extra_inline_count != 0 && b->extra_inline == NULL)
    return nnrp__fail(f, NNRP_ERR_INCONSISTENT, 0, "wire.md §9.2",
                      "extra_inline");
  int submit = p->msg == NNRP_MSG_FRAME_SUBMIT;
  for (uint32_t i = 0; i < b->extra_inline_count; i++) {
    const nnrp_inline_object *o = &b->extra_inline[i];
    uint16_t k = o->object_kind;
    if (!kind_valid(k))
      return nnrp__fail(f, NNRP_ERR_INCONSISTENT, i, "wire.md §9.2",
                        "object_kind");
    uint8_t slot = slot_of_kind(k);
    int bad = k == NNRP_OBJECT_TILE_INDEX_BLOCK ||
              k == NNRP_OBJECT_TENSOR_SECTION_TABLE ||
              (submit && slot != 0 &&
               (slot == NNRP_SLOT_CAMERA || (*slots & slot) != 0 ||
                (p->ref_slots & slot) != 0));
    if (bad)
      return nnrp__fail(f, NNRP_ERR_INCONSISTENT, i,
                        submit ? "wire.md §9.6 F3" : "wire.md §9.7 P2",
                        "extra_inline");
    if ((o->data.len != 0 && o->data.ptr == NULL) ||
        o->data.len > NNRP_MAX_PACKET_BYTES)
      return nnrp__fail(f, NNRP_ERR_INCONSISTENT, i, "wire.md §9.2",
                        "extra_inline");
    if (submit)
      *slots |= slot;
    *bytes += nnrp_align8(BLOCK_LEN + (uint64_t)o->data.len);
  }
  return 0;
}

/* ---- Plan: tensor content ------------------------------------------------ */

/* Tile index: the mode written (submit) or implied (result), its block, and
 * whether a TILE_INDEX_BLOCK object is emitted in a composed body. */
static int plan_tile_index(bplan *p, nnrp_fault *f) {
  const nnrp_tensor_data *t = p->t;
  int submit = p->msg == NNRP_MSG_FRAME_SUBMIT;
  if (submit && t->tile_index_mode > NNRP_TILE_INDEX_BITSET)
    return nnrp__fail(f, NNRP_ERR_INCONSISTENT, 0, "wire.md §6.1 M1",
                      "tile_index_mode");
  p->ti_mode = t->tile_index_mode;
  if (p->ref_slots & NNRP_SLOT_TILE_INDEX) {
    /* F11 / P3: the block lives in the cache; ids are not sent. */
    if (!submit)
      p->ti_mode = NNRP_TILE_INDEX_DENSE_RANGE;
    return 0;
  }
  if (!submit) {
    int dense =
        t->tile_index_mode == NNRP_TILE_INDEX_DENSE_RANGE &&
        nnrp__tile_ids_dense(t->tile_base_id, t->tile_ids, t->tile_count);
    p->ti_mode = dense ? NNRP_TILE_INDEX_DENSE_RANGE : NNRP_TILE_INDEX_RAW_U16;
  }
  int rc = nnrp__tile_index_plan(p->ti_mode, t->tile_base_id, t->tile_ids,
                                 t->tile_count, &p->ti_bytes, f);
  if (rc != 0)
    return rc;
  p->emit_ti = t->tile_count != 0;
  return 0;
}

static int plan_tensor(bplan *p, nnrp_fault *f) {
  const nnrp_tensor_data *t = p->t;
  p->tile_count = t->tile_count;
  p->section_count = t->section_count;
  p->tile_base_id = t->tile_base_id;
  if (t->camera.len != 0 && t->camera.ptr == NULL)
    return nnrp__fail(f, NNRP_ERR_INCONSISTENT, 0, "wire.md §8.1", "camera");
  if (t->camera.len > NNRP_MAX_PACKET_BYTES)
    return nnrp__fail(f, NNRP_ERR_INCONSISTENT, 0, rule_d19, "camera");
  if (t->camera.len != 0 && (p->ref_slots & NNRP_SLOT_CAMERA))
    return nnrp__fail(f, NNRP_ERR_INCONSISTENT, 0,
                      p->msg == NNRP_MSG_FRAME_SUBMIT ? "wire.md §9.6 F4"
                                                      : "wire.md §9.7",
                      "camera");
  p->camera_bytes = (uint32_t)t->camera.len;
  p->emit_camera = t->camera.len != 0;
  int rc = plan_tile_index(p, f);
  if (rc != 0)
    return rc;
  if (p->ref_slots & NNRP_SLOT_SECTION_TABLE) {
    if (t->sections != NULL)
      return nnrp__fail(f, NNRP_ERR_INCONSISTENT, 0,
                        p->msg == NNRP_MSG_FRAME_SUBMIT ? "wire.md §9.6 F4"
                                                        : "wire.md §9.7 P4",
                        "sections");
    return 0;
  }
  rc = nnrp__sections_plan(t->sections, t->section_count, t->tile_count,
                           &p->sect_bytes, f);
  if (rc != 0)
    return rc;
  p->emit_sect = t->section_count != 0;
  return 0;
}

/* Legacy tensor body length: tile index, pad, sections (§8.3). */
static uint64_t tensor_body_len(const bplan *p) {
  if (p->t == NULL || !p->emit_sect)
    return p->ti_bytes;
  return nnrp_align8(p->ti_bytes) + p->sect_bytes;
}

/* Sizes of a composed body (§9.1) once every part is planned. */
static void plan_composed_sizes(bplan *p, uint64_t extra_inline) {
  uint64_t in = extra_inline;
  if (p->emit_camera)
    in += nnrp_align8(BLOCK_LEN + (uint64_t)p->camera_bytes);
  if (p->emit_ti)
    in += nnrp_align8(BLOCK_LEN + (uint64_t)p->ti_bytes);
  if (p->emit_sect)
    in += nnrp_align8(BLOCK_LEN + p->sect_bytes);
  p->region[NNRP_REGION_INLINE] = in;
  uint64_t body = PRELUDE_LEN;
  for (int i = 0; i < NNRP_REGION_COUNT; i++)
    body += p->region[i];
  p->body_len = body;
}

/* Shared part of both plans: header flags, typed, refs, ext, tensor. */
static int plan_common(bplan *p, const nnrp_header *hdr,
                       const nnrp_body_data *b, uint8_t msg, nnrp_fault *f) {
  static const nnrp_body_data empty;
  memset(p, 0, sizeof(*p));
  p->msg = msg;
  p->b = b ? b : &empty;
  p->t = p->b->tensor;
  if ((hdr->flags & ~NNRP_FLAG_KNOWN_MASK) != 0 ||
      ((hdr->flags & NNRP_FLAG_CAN_DROP) && (hdr->flags & NNRP_FLAG_KEYFRAME)))
    return nnrp__fail(f, NNRP_ERR_INCONSISTENT, 8, "wire.md §2.3", "flags");
  int rc = plan_typed(p, f);
  if (rc == 0)
    rc = plan_refs(p, f);
  if (rc == 0)
    rc = plan_ext(p, f);
  if (rc != 0)
    return rc;
  if (p->t != NULL) {
    p->kinds |= NNRP_PAYLOAD_KIND_TENSOR;
    return plan_tensor(p, f);
  }
  p->ti_mode = NNRP_TILE_INDEX_RAW_U16; /* typed-only submit, as the seed */
  return 0;
}

static int plan_total(const bplan *p, uint32_t meta_len, nnrp_fault *f) {
  if ((uint64_t)NNRP_HEADER_LEN + meta_len + p->body_len >
      NNRP_MAX_PACKET_BYTES)
    return nnrp__fail(f, NNRP_ERR_INCONSISTENT, 16, rule_d19, "body_len");
  return 0;
}

/* ---- Emit ---------------------------------------------------------------- */

/* Writes the header and reserves the metadata; returns where the metadata
 * goes, or NULL (BUFFER_TOO_SMALL). */
static uint8_t *emit_header(nnrp_out *o, const nnrp_header *hdr, uint8_t msg,
                            uint32_t meta_len, uint64_t body_len) {
  nnrp_header h = *hdr;
  h.version_major = NNRP_PROTOCOL_VERSION_MAJOR;
  h.wire_format = NNRP_WIRE_FORMAT_CURRENT;
  h.msg_type = msg;
  h.header_len = NNRP_HEADER_LEN;
  h.meta_len = meta_len;
  h.body_len = (uint32_t)body_len;
  uint8_t *d = nnrp__out_reserve(o, NNRP_HEADER_LEN + (size_t)meta_len);
  if (d == NULL)
    return NULL;
  nnrp_header_encode(&h, d);
  return d + NNRP_HEADER_LEN;
}

/* Inline object block header + payload (referenced) + pad. */
static int emit_inline_head(nnrp_out *o, uint16_t kind, uint16_t profile_id,
                            uint64_t len) {
  uint8_t *d = nnrp__out_reserve(o, BLOCK_LEN);
  if (d == NULL)
    return NNRP_ERR_BUFFER_TOO_SMALL;
  d = nnrp_put_u16le(d, kind);
  d = nnrp_put_u16le(d, 0); /* object_flags */
  d = nnrp_put_u16le(d, profile_id);
  d = nnrp_put_u16le(d, 0);
  d = nnrp_put_u32le(d, (uint32_t)len);
  (void)nnrp_put_u32le(d, 0);
  return 0;
}

static int emit_pad(nnrp_out *o, uint64_t len) {
  return nnrp__out_zeros(o, (size_t)(nnrp_align8(len) - len));
}

static int emit_inline_data(nnrp_out *o, uint16_t kind, uint16_t profile_id,
                            nnrp_bytes data) {
  int rc = emit_inline_head(o, kind, profile_id, data.len);
  if (rc == 0)
    rc = nnrp__out_ref(o, data.ptr, data.len);
  if (rc == 0)
    rc = emit_pad(o, BLOCK_LEN + (uint64_t)data.len);
  return rc;
}

static int emit_tile_index(nnrp_out *o, const bplan *p) {
  const nnrp_tensor_data *t = p->t;
  return nnrp__tile_index_write(o, p->ti_mode, t->tile_base_id, t->tile_ids,
                                t->tile_count, p->ti_bytes);
}

static int emit_sections(nnrp_out *o, const bplan *p) {
  const nnrp_tensor_data *t = p->t;
  return nnrp__sections_write(o, t->sections, t->section_count, t->tile_count);
}

/* Legacy body: [camera ‖ pad] tile index ‖ pad ‖ sections (§8.1-§8.3). */
static int emit_legacy(nnrp_out *o, const bplan *p) {
  if (p->t == NULL)
    return 0;
  int rc = nnrp__out_ref(o, p->t->camera.ptr, p->camera_bytes);
  uint64_t tb = tensor_body_len(p);
  if (rc == 0 && tb != 0)
    rc = emit_pad(o, p->camera_bytes);
  if (rc == 0)
    rc = emit_tile_index(o, p);
  if (rc == 0 && p->emit_sect)
    rc = emit_pad(o, p->ti_bytes);
  if (rc == 0 && p->emit_sect)
    rc = emit_sections(o, p);
  return rc;
}

static int emit_prelude(nnrp_out *o, const bplan *p) {
  uint8_t *d = nnrp__out_reserve(o, PRELUDE_LEN);
  if (d == NULL)
    return NNRP_ERR_BUFFER_TOO_SMALL;
  for (int i = 0; i < NNRP_REGION_COUNT; i++)
    d = nnrp_put_u32le(d, (uint32_t)p->region[i]);
  d = nnrp_put_u32le(d, 0); /* body_flags */
  (void)nnrp_put_u32le(d, 0);
  return 0;
}

/* Region 1: camera, tile index, section table, then the extra objects. */
static int emit_inline_region(nnrp_out *o, const bplan *p) {
  int rc = 0;
  if (p->emit_camera)
    rc = emit_inline_data(o, NNRP_OBJECT_CAMERA_BLOCK, 0, p->t->camera);
  if (rc == 0 && p->emit_ti) {
    rc = emit_inline_head(o, NNRP_OBJECT_TILE_INDEX_BLOCK, 0, p->ti_bytes);
    if (rc == 0)
      rc = emit_tile_index(o, p);
    if (rc == 0)
      rc = emit_pad(o, BLOCK_LEN + (uint64_t)p->ti_bytes);
  }
  if (rc == 0 && p->emit_sect) {
    rc =
        emit_inline_head(o, NNRP_OBJECT_TENSOR_SECTION_TABLE, 0, p->sect_bytes);
    if (rc == 0)
      rc = emit_sections(o, p);
    if (rc == 0)
      rc = emit_pad(o, BLOCK_LEN + p->sect_bytes);
  }
  const nnrp_body_data *b = p->b;
  for (uint32_t i = 0; rc == 0 && i < b->extra_inline_count; i++) {
    const nnrp_inline_object *x = &b->extra_inline[i];
    rc = emit_inline_data(o, x->object_kind, x->profile_id, x->data);
  }
  return rc;
}

/* Regions 2-6: references, typed descriptors and frames, extension
 * descriptors and payloads (offsets contiguous from 0, T5). */
static int emit_tail_regions(nnrp_out *o, const bplan *p) {
  const nnrp_body_data *b = p->b;
  uint8_t *d =
      nnrp__out_reserve(o, (size_t)(p->region[NNRP_REGION_REFS] +
                                    p->region[NNRP_REGION_TYPED_DESC]));
  if (d == NULL)
    return NNRP_ERR_BUFFER_TOO_SMALL;
  for (uint32_t i = 0; i < b->ref_count; i++) {
    const nnrp_object_ref *r = &b->refs[i];
    d = nnrp_put_u16le(d, r->object_kind);
    d = nnrp_put_u16le(d, 0); /* ref_flags */
    d = nnrp_put_u32le(d, r->cache_namespace);
    d = nnrp_put_u32le(d, r->cache_key_hi);
    d = nnrp_put_u32le(d, r->cache_key_lo);
  }
  uint32_t off = 0;
  for (uint32_t i = 0; i < b->typed_count; i++) {
    const nnrp_typed_frame *t = &b->typed[i];
    d = nnrp_put_u8(d, t->payload_kind);
    d = nnrp_put_u8(d, 0); /* descriptor_flags */
    d = nnrp_put_u16le(d, t->profile_id);
    d = nnrp_put_u32le(d, off);
    d = nnrp_put_u32le(d, (uint32_t)t->data.len);
    d = nnrp_put_u32le(d, 0);
    off += (uint32_t)t->data.len;
  }
  for (uint32_t i = 0; i < b->typed_count; i++)
    if (nnrp__out_ref(o, b->typed[i].data.ptr, b->typed[i].data.len) != 0)
      return NNRP_ERR_BUFFER_TOO_SMALL;
  d = nnrp__out_reserve(o, (size_t)p->region[NNRP_REGION_EXT_DESC]);
  if (d == NULL)
    return NNRP_ERR_BUFFER_TOO_SMALL;
  off = 0;
  for (uint32_t i = 0; i < b->ext_count; i++) {
    const nnrp_ext_frame *e = &b->ext[i];
    d = nnrp_put_u16le(d, e->extension_kind);
    d = nnrp_put_u16le(d, e->extension_flags);
    d = nnrp_put_u16le(d, e->profile_id);
    d = nnrp_put_u16le(d, 0);
    d = nnrp_put_u32le(d, off);
    d = nnrp_put_u32le(d, (uint32_t)e->data.len);
    off += (uint32_t)e->data.len;
  }
  for (uint32_t i = 0; i < b->ext_count; i++)
    if (nnrp__out_ref(o, b->ext[i].data.ptr, b->ext[i].data.len) != 0)
      return NNRP_ERR_BUFFER_TOO_SMALL;
  return 0;
}

static int emit_body(nnrp_out *o, const bplan *p) {
  if (!p->composed)
    return emit_legacy(o, p);
  int rc = emit_prelude(o, p);
  if (rc == 0)
    rc = emit_inline_region(o, p);
  if (rc == 0)
    rc = emit_tail_regions(o, p);
  return rc;
}

/* Emits a planned packet: header, metadata m of msg, body. */
static int emit_packet(nnrp_out *o, const nnrp_header *hdr, const bplan *p,
                       const nnrp_meta *m, uint32_t meta_len, nnrp_fault *f) {
  uint8_t *md = emit_header(o, hdr, p->msg, meta_len, p->body_len);
  int rc = md ? 0 : NNRP_ERR_BUFFER_TOO_SMALL;
  if (rc == 0) {
    if (p->msg == NNRP_MSG_FRAME_SUBMIT)
      nnrp__frame_submit_meta_enc(m, md);
    else
      nnrp__result_push_meta_enc(m, md);
    rc = emit_body(o, p);
  }
  if (rc != 0)
    return nnrp__fail(f, rc, (size_t)o->total, "nnrp_out", "out");
  return 0;
}

/* ---- FRAME_SUBMIT -------------------------------------------------------- */

/* Caller-supplied metadata fields that a strict receiver checks (M1, M3). */
static int submit_meta_check(const nnrp_frame_submit *m, int tensor,
                             nnrp_fault *f) {
  static const char r61[] = "wire.md §6.1 M1";
  if (m->frame_class > NNRP_FRAME_CLASS_DISCARDABLE)
    return nnrp__fail(f, NNRP_ERR_INCONSISTENT, 12, r61, "frame_class");
  if (m->input_profile > NNRP_INPUT_PROFILE_DENSE_LUMA_FRAME)
    return nnrp__fail(f, NNRP_ERR_INCONSISTENT, 13, r61, "input_profile");
  if (m->submit_mode > NNRP_SUBMIT_MODE_MIXED)
    return nnrp__fail(f, NNRP_ERR_INCONSISTENT, 52, r61, "submit_mode");
  if (m->budget_policy & ~NNRP_BUDGET_KNOWN_MASK)
    return nnrp__fail(f, NNRP_ERR_INCONSISTENT, 53, r61, "budget_policy");
  if (m->loss_tolerance_policy > NNRP_LOSS_TOLERANCE_FIRE_AND_FORGET &&
      m->loss_tolerance_policy != NNRP_LOSS_TOLERANCE_INHERIT)
    return nnrp__fail(f, NNRP_ERR_INCONSISTENT, 54, r61,
                      "loss_tolerance_policy");
  if (!tensor && (m->src_width | m->src_height | m->tile_width |
                  m->tile_height | m->input_profile) != 0)
    return nnrp__fail(f, NNRP_ERR_INCONSISTENT, 0, "wire.md §6.1 M3",
                      "src_width");
  return 0;
}

/* Submit mode against the references and inline slots (F2, F6, F14), then
 * the form of §7 and the sizes. */
static int submit_form(bplan *p, const nnrp_frame_submit *m, nnrp_fault *f) {
  const nnrp_body_data *b = p->b;
  uint64_t extra = 0;
  uint8_t extra_slots = 0;
  int rc = plan_extra_inline(p, &extra, &extra_slots, f);
  if (rc != 0)
    return rc;
  if (m->submit_mode == NNRP_SUBMIT_MODE_INLINE && b->ref_count != 0)
    return nnrp__fail(f, NNRP_ERR_INCONSISTENT, 52, "wire.md §9.6 F2",
                      "submit_mode");
  if (m->submit_mode != NNRP_SUBMIT_MODE_INLINE && b->ref_count == 0)
    return nnrp__fail(f, NNRP_ERR_INCONSISTENT, 52, "wire.md §9.6 F14",
                      "submit_mode");
  if (m->submit_mode == NNRP_SUBMIT_MODE_REFERENCE &&
      (p->emit_camera || p->emit_ti || p->emit_sect || extra_slots != 0))
    return nnrp__fail(f, NNRP_ERR_INCONSISTENT, 52, "wire.md §9.6 F6",
                      "submit_mode");
  p->composed = !(p->kinds == NNRP_PAYLOAD_KIND_TENSOR &&
                  m->submit_mode == NNRP_SUBMIT_MODE_INLINE &&
                  b->ref_count == 0 && b->typed_count == 0);
  if (!p->composed) {
    if (b->extra_inline_count != 0 || b->ext_count != 0)
      return nnrp__fail(f, NNRP_ERR_INCONSISTENT, 0, "wire.md §7",
                        b->ext_count ? "ext" : "extra_inline");
    uint64_t tb = tensor_body_len(p);
    p->body_len = tb ? nnrp_align8(p->camera_bytes) + tb : p->camera_bytes;
  } else {
    plan_composed_sizes(p, extra);
  }
  return plan_total(p, SUBMIT_META_LEN, f);
}

static void submit_meta_fill(nnrp_frame_submit *m, const bplan *p) {
  m->tile_count = p->tile_count;
  m->section_count = p->section_count;
  m->tile_index_mode = p->ti_mode;
  m->reserved0 = 0;
  m->tile_base_id = p->tile_base_id;
  m->camera_bytes = p->emit_camera ? p->camera_bytes : 0;
  m->tile_index_bytes = p->ti_bytes;
  m->reserved1 = 0;
  m->reserved2 = 0;
  m->reserved3 = 0;
  m->object_ref_mask = p->ref_slots;
  m->payload_kind_bitmap = p->kinds;
  m->payload_frame_count = p->b->typed_count;
  m->reserved4 = 0;
}

int nnrp_build_frame_submit(nnrp_out *out, const nnrp_header *hdr,
                            nnrp_frame_submit *meta, const nnrp_body_data *body,
                            nnrp_fault *fault) {
  bplan p;
  int rc = plan_common(&p, hdr, body, NNRP_MSG_FRAME_SUBMIT, fault);
  if (rc == 0)
    rc = submit_meta_check(meta, p.t != NULL, fault);
  if (rc == 0)
    rc = submit_form(&p, meta, fault);
  if (rc != 0)
    return rc;
  nnrp_meta m;
  m.frame_submit = *meta;
  submit_meta_fill(&m.frame_submit, &p);
  rc = emit_packet(out, hdr, &p, &m, SUBMIT_META_LEN, fault);
  if (rc != 0)
    return rc;
  *meta = m.frame_submit;
  return 0;
}

/* ---- RESULT_PUSH --------------------------------------------------------- */

/* R1 and the coverage rules R2-R6; fills covered/dropped. */
static int result_meta_check(nnrp_result_push *m, const bplan *p,
                             nnrp_fault *f) {
  static const char r63[] = "wire.md §6.3 R1";
  if (m->result_flags & ~NNRP_RESULT_FLAG_KNOWN_MASK)
    return nnrp__fail(f, NNRP_ERR_INCONSISTENT, 2, r63, "result_flags");
  if (m->result_class > NNRP_RESULT_CLASS_DEGRADED)
    return nnrp__fail(f, NNRP_ERR_INCONSISTENT, 44, r63, "result_class");
  if (m->applied_budget_policy & ~NNRP_BUDGET_KNOWN_MASK)
    return nnrp__fail(f, NNRP_ERR_INCONSISTENT, 45, r63,
                      "applied_budget_policy");
  if (p->t == NULL) {
    if (m->covered_tile_count != 0 || m->dropped_tile_count != 0)
      return nnrp__fail(f, NNRP_ERR_INCONSISTENT, 52, "wire.md §6.3 R2",
                        "covered_tile_count");
    return 0;
  }
  if (m->covered_tile_count == 0 && m->dropped_tile_count == 0)
    m->covered_tile_count = p->tile_count;
  if (m->covered_tile_count > p->tile_count)
    return nnrp__fail(f, NNRP_ERR_INCONSISTENT, 52, "wire.md §6.3 R3",
                      "covered_tile_count");
  if (m->dropped_tile_count > p->tile_count)
    return nnrp__fail(f, NNRP_ERR_INCONSISTENT, 54, "wire.md §6.3 R4",
                      "dropped_tile_count");
  if ((uint32_t)m->covered_tile_count + m->dropped_tile_count != p->tile_count)
    return nnrp__fail(f, NNRP_ERR_INCONSISTENT, 52, "wire.md §6.3 R5",
                      "covered_tile_count");
  if ((m->result_class == NNRP_RESULT_CLASS_PARTIAL ||
       (m->result_flags & NNRP_RESULT_FLAG_PARTIAL)) &&
      m->dropped_tile_count == 0)
    return nnrp__fail(f, NNRP_ERR_INCONSISTENT, 54, "wire.md §6.3 R6",
                      "dropped_tile_count");
  return 0;
}

static int result_form(bplan *p, nnrp_fault *f) {
  const nnrp_body_data *b = p->b;
  uint64_t extra = 0;
  uint8_t extra_slots = 0;
  int rc = plan_extra_inline(p, &extra, &extra_slots, f);
  if (rc != 0)
    return rc;
  p->composed = b->typed_count != 0 || (p->kinds & ~NNRP_PAYLOAD_KIND_TENSOR);
  if (!p->composed) {
    /* §7: without typed frames only a bare tensor body can be sent. */
    if (b->ref_count != 0 || b->extra_inline_count != 0 || b->ext_count != 0 ||
        p->camera_bytes != 0)
      return nnrp__fail(f, NNRP_ERR_INCONSISTENT, 0, "wire.md §7",
                        b->ref_count            ? "refs"
                        : b->extra_inline_count ? "extra_inline"
                        : b->ext_count          ? "ext"
                                                : "camera");
    p->body_len = tensor_body_len(p);
  } else {
    plan_composed_sizes(p, extra);
  }
  return plan_total(p, RESULT_META_LEN, f);
}

static void result_meta_fill(nnrp_result_push *m, const bplan *p) {
  m->section_count = p->section_count;
  m->tile_count = p->tile_count;
  m->reserved0 = 0;
  m->reserved1 = 0;
  m->tile_base_id = p->tile_base_id;
  m->tile_index_bytes = p->ti_bytes;
  m->reserved2 = 0;
  m->reserved3 = 0;
  m->reserved4 = 0;
  m->payload_kind_bitmap = p->kinds;
  m->payload_frame_count = p->b->typed_count;
  m->reserved5 = 0;
}

int nnrp_build_result_push(nnrp_out *out, const nnrp_header *hdr,
                           nnrp_result_push *meta, const nnrp_body_data *body,
                           nnrp_fault *fault) {
  bplan p;
  nnrp_meta m;
  m.result_push = *meta;
  int rc = plan_common(&p, hdr, body, NNRP_MSG_RESULT_PUSH, fault);
  if (rc == 0)
    rc = result_meta_check(&m.result_push, &p, fault);
  if (rc == 0)
    rc = result_form(&p, fault);
  if (rc != 0)
    return rc;
  result_meta_fill(&m.result_push, &p);
  rc = emit_packet(out, hdr, &p, &m, RESULT_META_LEN, fault);
  if (rc != 0)
    return rc;
  *meta = m.result_push;
  return 0;
}

/* ---- Scratch bound ------------------------------------------------------- */

/* Bytes a payload of n bytes may take in scratch in iovec mode: copied when
 * at most copy_max (64 by default) bytes. */
static uint64_t copied(size_t n) { return n < 64u ? n : 64u; }

static uint64_t bound_tensor(const nnrp_tensor_data *t) {
  uint64_t s = BLOCK_LEN * 3u + 3u * 7u + 8u + copied(t->camera.len);
  uint64_t n = t->tile_count;
  s += 2u * n + 7u;
  if (t->tile_index_mode == NNRP_TILE_INDEX_BITSET)
    s += 8192u; /* ids are u16: at most 65536 bits */
  if (t->sections == NULL)
    return s;
  for (uint32_t i = 0; i < t->section_count; i++) {
    const nnrp_section_data *sd = &t->sections[i];
    s += 32u + 5u * n + 7u;
    for (uint32_t j = 0; sd->tiles != NULL && j < n; j++) {
      size_t len = sd->tiles[j].len;
      s += copied(len);
      if (sd->payload_stride_bytes > len)
        s += sd->payload_stride_bytes - len;
    }
  }
  return s;
}

size_t nnrp_build_scratch_bound(const nnrp_body_data *body) {
  uint64_t s = NNRP_HEADER_LEN + SUBMIT_META_LEN + PRELUDE_LEN;
  if (body == NULL)
    return (size_t)s;
  if (body->tensor != NULL)
    s += bound_tensor(body->tensor);
  s += (uint64_t)BLOCK_LEN * body->ref_count;
  s += (uint64_t)BLOCK_LEN * body->typed_count;
  for (uint32_t i = 0; body->typed != NULL && i < body->typed_count; i++)
    s += copied(body->typed[i].data.len);
  s += (uint64_t)(BLOCK_LEN + 7u) * body->extra_inline_count;
  for (uint32_t i = 0;
       body->extra_inline != NULL && i < body->extra_inline_count; i++)
    s += copied(body->extra_inline[i].data.len);
  s += (uint64_t)BLOCK_LEN * body->ext_count;
  for (uint32_t i = 0; body->ext != NULL && i < body->ext_count; i++)
    s += copied(body->ext[i].data.len);
  return s > SIZE_MAX ? SIZE_MAX : (size_t)s;
}
