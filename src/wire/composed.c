/* SPDX-License-Identifier: Apache-2.0 */
/*
 * composed.c - the structure of a composed data body (wire.md §9.1-9.5): the
 * 32-byte BodyRegionPrelude and its six regions, inline object blocks,
 * object reference blocks, typed-payload descriptors (T1-T4) and extension
 * frame descriptors. The message-specific object contracts (F- and P-rules)
 * live in submit.c and result.c; the accessors in data_body.c.
 */
#include <string.h>

#include "wire_int.h"

#define PRELUDE_LEN 32u
#define INLINE_HDR_LEN 16u
#define REF_LEN 16u
#define TYPED_DESC_LEN 16u
#define EXT_DESC_LEN 16u

#define MB NNRP_ERR_MALFORMED_BODY

void nnrp__ref_read(const uint8_t *p, nnrp_object_ref *r) {
  r->object_kind = nnrp_rd16(p);
  r->ref_flags = nnrp_rd16(p + 2);
  r->cache_namespace = nnrp_rd32(p + 4);
  r->cache_key_hi = nnrp_rd32(p + 8);
  r->cache_key_lo = nnrp_rd32(p + 12);
}

/* Offset of region r from the start of the body. */
static size_t region_off(const nnrp_data_body *b, const uint8_t *body, int r) {
  return (size_t)(b->regions[r].ptr - body);
}

/* §9.1: prelude fields (T1, T2 included) and the exact body length. */
static int prelude_fields(const nnrp_prelude *pr, uint16_t frame_count,
                          uint32_t flags, nnrp_fault *f) {
  if (pr->object_reference_bytes % REF_LEN != 0)
    return nnrp__fail(f, MB, 4, "wire.md §9.1", "object_reference_bytes");
  if (pr->typed_payload_descriptor_bytes % TYPED_DESC_LEN != 0)
    return nnrp__fail(f, MB, 8, "wire.md §9.1",
                      "typed_payload_descriptor_bytes");
  if (pr->typed_payload_descriptor_bytes != TYPED_DESC_LEN * frame_count)
    return nnrp__fail(f, MB, 8, "wire.md §9.4 T1",
                      "typed_payload_descriptor_bytes");
  if (frame_count == 0 && pr->typed_payload_frame_bytes != 0)
    return nnrp__fail(f, MB, 12, "wire.md §9.4 T2",
                      "typed_payload_frame_bytes");
  if (pr->extension_descriptor_bytes % EXT_DESC_LEN != 0)
    return nnrp__fail(f, MB, 16, "wire.md §9.1", "extension_descriptor_bytes");
  if (NNRP__STRICT(flags) && pr->body_flags != 0)
    return nnrp__fail(f, MB, 24, "wire.md §9.1", "body_flags");
  if (NNRP__STRICT(flags) && pr->reserved != 0)
    return nnrp__fail(f, MB, 28, "wire.md §9.1", "reserved");
  return 0;
}

static int prelude_decode(nnrp_data_body *b, const uint8_t *body, size_t len,
                          uint16_t frame_count, uint32_t flags, nnrp_fault *f) {
  if (len < PRELUDE_LEN)
    return nnrp__fail(f, MB, 0, "wire.md §9.1", "body_len");
  nnrp_prelude *pr = &b->prelude;
  const uint8_t *p = body;
  pr->inline_object_bytes = nnrp_get_u32le(&p);
  pr->object_reference_bytes = nnrp_get_u32le(&p);
  pr->typed_payload_descriptor_bytes = nnrp_get_u32le(&p);
  pr->typed_payload_frame_bytes = nnrp_get_u32le(&p);
  pr->extension_descriptor_bytes = nnrp_get_u32le(&p);
  pr->extension_payload_bytes = nnrp_get_u32le(&p);
  pr->body_flags = nnrp_get_u32le(&p);
  pr->reserved = nnrp_get_u32le(&p);
  int rc = prelude_fields(pr, frame_count, flags, f);
  if (rc != 0)
    return rc;
  const uint32_t lens[NNRP_REGION_COUNT] = {pr->inline_object_bytes,
                                            pr->object_reference_bytes,
                                            pr->typed_payload_descriptor_bytes,
                                            pr->typed_payload_frame_bytes,
                                            pr->extension_descriptor_bytes,
                                            pr->extension_payload_bytes};
  uint64_t total = PRELUDE_LEN;
  for (int i = 0; i < NNRP_REGION_COUNT; i++)
    total += lens[i];
  if (total != (uint64_t)len)
    return nnrp__fail(f, MB, 0, "wire.md §9.1", "body_len");
  size_t off = PRELUDE_LEN;
  for (int i = 0; i < NNRP_REGION_COUNT; i++) {
    b->regions[i].ptr = body + off;
    b->regions[i].len = lens[i];
    off += lens[i];
  }
  b->composed = 1;
  b->ref_count = pr->object_reference_bytes / REF_LEN;
  b->typed_count = frame_count;
  b->ext_count = pr->extension_descriptor_bytes / EXT_DESC_LEN;
  return 0;
}

/* One inline block header at region offset pos (at = body offset). */
static int inline_block(const nnrp_bytes *r, size_t pos, size_t at,
                        uint32_t flags, nnrp_inline_object *o, size_t *next,
                        nnrp_fault *f) {
  if (r->len - pos < INLINE_HDR_LEN)
    return nnrp__fail(f, MB, at, "wire.md §9.2", "InlineObjectHeader");
  const uint8_t *p = r->ptr + pos;
  o->object_kind = nnrp_rd16(p);
  o->object_flags = nnrp_rd16(p + 2);
  o->profile_id = nnrp_rd16(p + 4);
  o->reserved0 = nnrp_rd16(p + 6);
  o->object_bytes = nnrp_rd32(p + 8);
  o->reserved1 = nnrp_rd32(p + 12);
  if (o->object_kind < NNRP_OBJECT_CAMERA_BLOCK ||
      o->object_kind > NNRP_OBJECT_STRUCTURED_EVENT_SCHEMA)
    return nnrp__fail(f, MB, at, "wire.md §9.2", "object_kind");
  if (NNRP__STRICT(flags) && o->object_flags != 0)
    return nnrp__fail(f, MB, at + 2, "wire.md §9.2", "object_flags");
  o->object_flags = 0; /* no known bits: lenient clears them */
  if (NNRP__STRICT(flags) && o->reserved0 != 0)
    return nnrp__fail(f, MB, at + 6, "wire.md §9.2", "reserved0");
  if (NNRP__STRICT(flags) && o->reserved1 != 0)
    return nnrp__fail(f, MB, at + 12, "wire.md §9.2", "reserved1");
  uint64_t end = (uint64_t)pos + INLINE_HDR_LEN + o->object_bytes;
  if (end > r->len)
    return nnrp__fail(f, MB, at + 8, "wire.md §9.2", "object_bytes");
  uint64_t padded = nnrp_align8(end);
  if (padded > r->len)
    return nnrp__fail(f, MB, at + (size_t)(end - pos), "wire.md §9.2",
                      "padding");
  if (!nnrp__all_zero(r->ptr + end, (size_t)(padded - end)))
    return nnrp__fail(f, MB, at + (size_t)(end - pos), "wire.md §9.2",
                      "padding");
  o->data.ptr = p + INLINE_HDR_LEN;
  o->data.len = o->object_bytes;
  *next = (size_t)padded;
  return 0;
}

/* §9.2: walks the inline region, which must be consumed exactly. */
static int inline_scan(nnrp_data_body *b, nnrp__obj_census *c,
                       const uint8_t *body, uint32_t flags, nnrp_fault *f) {
  const nnrp_bytes *r = &b->regions[NNRP_REGION_INLINE];
  size_t base = region_off(b, body, NNRP_REGION_INLINE);
  size_t pos = 0;
  while (pos < r->len) {
    nnrp_inline_object o;
    size_t next = 0;
    int rc = inline_block(r, pos, base + pos, flags, &o, &next, f);
    if (rc != 0)
      return rc;
    if (c->inline_n[o.object_kind]++ == 0) {
      c->first[o.object_kind] = o;
      c->first_off[o.object_kind] = base + pos + INLINE_HDR_LEN;
    }
    b->inline_count++;
    pos = next;
  }
  return 0;
}

/* §9.3: every reference block (the region is a multiple of 16). */
static int refs_scan(const nnrp_data_body *b, nnrp__obj_census *c,
                     const uint8_t *body, uint32_t flags, nnrp_fault *f) {
  const nnrp_bytes *r = &b->regions[NNRP_REGION_REFS];
  size_t base = region_off(b, body, NNRP_REGION_REFS);
  for (uint32_t i = 0; i < b->ref_count; i++) {
    nnrp_object_ref ref;
    size_t at = base + (size_t)i * REF_LEN;
    nnrp__ref_read(r->ptr + (size_t)i * REF_LEN, &ref);
    if (ref.object_kind < NNRP_OBJECT_CAMERA_BLOCK ||
        ref.object_kind > NNRP_OBJECT_STRUCTURED_EVENT_SCHEMA)
      return nnrp__fail(f, MB, at, "wire.md §9.3", "object_kind");
    if (NNRP__STRICT(flags) && ref.ref_flags != 0)
      return nnrp__fail(f, MB, at + 2, "wire.md §9.3", "ref_flags");
    c->ref_n[ref.object_kind]++;
  }
  return 0;
}

/* T4 and the extension-frame equivalent: ranges ascending, non-overlapping
 * and inside the region. *prev_end is updated. */
static int range_check(uint32_t off, uint32_t n, size_t region_len,
                       uint64_t *prev_end) {
  uint64_t end = (uint64_t)off + n;
  if (off < *prev_end || end > region_len)
    return -1;
  *prev_end = end;
  return 0;
}

/* §9.4: T3, T4 and the descriptor table rules (T1, T2 in the prelude). */
static int typed_check(const nnrp_data_body *b, const uint8_t *body,
                       uint32_t bitmap, uint32_t flags, nnrp_fault *f) {
  const nnrp_bytes *r = &b->regions[NNRP_REGION_TYPED_DESC];
  size_t base = region_off(b, body, NNRP_REGION_TYPED_DESC);
  size_t frames = b->regions[NNRP_REGION_TYPED_FRAMES].len;
  uint64_t prev_end = 0;
  for (uint32_t i = 0; i < b->typed_count; i++) {
    const uint8_t *p = r->ptr + (size_t)i * TYPED_DESC_LEN;
    size_t at = base + (size_t)i * TYPED_DESC_LEN;
    uint8_t kind = p[0];
    if (kind == 0 || (kind & ~NNRP_PAYLOAD_KIND_TYPED_MASK) != 0 ||
        (kind & (kind - 1u)) != 0)
      return nnrp__fail(f, MB, at, "wire.md §9.4", "payload_kind");
    if (NNRP__STRICT(flags) && p[1] != 0)
      return nnrp__fail(f, MB, at + 1, "wire.md §9.4", "descriptor_flags");
    if (NNRP__STRICT(flags) && nnrp_rd32(p + 12) != 0)
      return nnrp__fail(f, MB, at + 12, "wire.md §9.4", "reserved");
    if ((kind & bitmap) == 0)
      return nnrp__fail(f, MB, at, "wire.md §9.4 T3", "payload_kind");
    if (range_check(nnrp_rd32(p + 4), nnrp_rd32(p + 8), frames, &prev_end))
      return nnrp__fail(f, MB, at + 4, "wire.md §9.4 T4", "payload_offset");
  }
  return 0;
}

/* §9.5: descriptor rules in order; an unknown CRITICAL frame (every CRITICAL
 * frame on this revision) is UNSUPPORTED_CAPABILITY, others are skipped. */
static int ext_check(const nnrp_data_body *b, const uint8_t *body,
                     uint32_t flags, nnrp_fault *f) {
  const nnrp_bytes *r = &b->regions[NNRP_REGION_EXT_DESC];
  size_t base = region_off(b, body, NNRP_REGION_EXT_DESC);
  size_t payload = b->regions[NNRP_REGION_EXT_PAYLOAD].len;
  uint64_t prev_end = 0;
  for (uint32_t i = 0; i < b->ext_count; i++) {
    const uint8_t *p = r->ptr + (size_t)i * EXT_DESC_LEN;
    size_t at = base + (size_t)i * EXT_DESC_LEN;
    uint16_t xflags = nnrp_rd16(p + 2);
    if (NNRP__STRICT(flags) && (xflags & ~NNRP_EXT_FLAG_CRITICAL) != 0)
      return nnrp__fail(f, MB, at + 2, "wire.md §9.5", "extension_flags");
    if (NNRP__STRICT(flags) && nnrp_rd16(p + 6) != 0)
      return nnrp__fail(f, MB, at + 6, "wire.md §9.5", "reserved0");
    if (range_check(nnrp_rd32(p + 8), nnrp_rd32(p + 12), payload, &prev_end))
      return nnrp__fail(f, MB, at + 8, "wire.md §9.5", "payload_offset");
    if (xflags & NNRP_EXT_FLAG_CRITICAL)
      return nnrp__fail(f, NNRP_ERR_UNSUPPORTED_CAPABILITY, at + 2,
                        "wire.md §9.5", "extension_flags");
  }
  return 0;
}

int nnrp__composed_decode(nnrp_data_body *b, nnrp__obj_census *c,
                          const uint8_t *body, size_t len,
                          uint32_t payload_kind_bitmap,
                          uint16_t payload_frame_count, uint32_t flags,
                          nnrp_fault *f) {
  memset(c, 0, sizeof(*c));
  int rc = prelude_decode(b, body, len, payload_frame_count, flags, f);
  if (rc == 0)
    rc = inline_scan(b, c, body, flags, f);
  if (rc == 0)
    rc = refs_scan(b, c, body, flags, f);
  if (rc == 0)
    rc = typed_check(b, body, payload_kind_bitmap, flags, f);
  if (rc == 0)
    rc = ext_check(b, body, flags, f);
  return rc;
}
