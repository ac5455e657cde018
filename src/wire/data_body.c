/* SPDX-License-Identifier: Apache-2.0 */
/*
 * data_body.c - the public entry to FRAME_SUBMIT / RESULT_PUSH bodies
 * (wire.md §7-§9): nnrp_data_body_decode() dispatches by message type, and
 * the O(1) accessors read reference blocks, typed payloads, extension frames
 * and inline objects of an accepted body on demand (zero copy).
 */
#include <string.h>

#include "wire_int.h"

int nnrp_data_body_decode(uint8_t msg_type, const nnrp_meta *meta,
                          nnrp_data_body *b, const uint8_t *body, size_t len,
                          const nnrp_wire_opts *opts, nnrp_fault *fault) {
  static const uint8_t empty[1] = {0}; /* never NULL + 0 */
  nnrp_wire_opts dflt;
  if (meta == NULL || b == NULL || (body == NULL && len != 0))
    return NNRP_ERR_INVALID_ARGUMENT;
  if (body == NULL)
    body = empty;
  if (opts == NULL) {
    nnrp_wire_opts_default(&dflt);
    opts = &dflt;
  }
  memset(b, 0, sizeof(*b));
  switch (msg_type) {
  case NNRP_MSG_FRAME_SUBMIT:
    return nnrp__submit_body_decode(&meta->frame_submit, b, body, len, opts,
                                    fault);
  case NNRP_MSG_RESULT_PUSH:
    return nnrp__result_body_decode(&meta->result_push, b, body, len, opts,
                                    fault);
  default:
    return NNRP_ERR_INVALID_ARGUMENT;
  }
}

int nnrp_data_body_ref(const nnrp_data_body *b, uint32_t i,
                       nnrp_object_ref *out) {
  if (i >= b->ref_count)
    return NNRP_ERR_NOT_FOUND;
  nnrp__ref_read(b->regions[NNRP_REGION_REFS].ptr + 16u * (size_t)i, out);
  out->ref_flags = 0; /* no known bits: lenient clears them */
  return 0;
}

int nnrp_data_body_typed(const nnrp_data_body *b, uint32_t i,
                         nnrp_typed_frame *out) {
  if (i >= b->typed_count)
    return NNRP_ERR_NOT_FOUND;
  const uint8_t *p = b->regions[NNRP_REGION_TYPED_DESC].ptr + 16u * (size_t)i;
  out->payload_kind = p[0];
  out->descriptor_flags = 0; /* no known bits: lenient clears them */
  out->profile_id = nnrp_rd16(p + 2);
  out->payload_offset = nnrp_rd32(p + 4);
  out->payload_length = nnrp_rd32(p + 8);
  out->reserved = nnrp_rd32(p + 12);
  out->data.ptr =
      b->regions[NNRP_REGION_TYPED_FRAMES].ptr + out->payload_offset;
  out->data.len = out->payload_length;
  return 0;
}

int nnrp_data_body_ext(const nnrp_data_body *b, uint32_t i,
                       nnrp_ext_frame *out) {
  if (i >= b->ext_count)
    return NNRP_ERR_NOT_FOUND;
  const uint8_t *p = b->regions[NNRP_REGION_EXT_DESC].ptr + 16u * (size_t)i;
  out->extension_kind = nnrp_rd16(p);
  out->extension_flags = (uint16_t)(nnrp_rd16(p + 2) & NNRP_EXT_FLAG_CRITICAL);
  out->profile_id = nnrp_rd16(p + 4);
  out->reserved0 = nnrp_rd16(p + 6);
  out->payload_offset = nnrp_rd32(p + 8);
  out->payload_length = nnrp_rd32(p + 12);
  out->data.ptr = b->regions[NNRP_REGION_EXT_PAYLOAD].ptr + out->payload_offset;
  out->data.len = out->payload_length;
  return 0;
}

void nnrp_inline_iter_init(nnrp_inline_iter *it, const nnrp_data_body *b) {
  it->region = b->regions[NNRP_REGION_INLINE];
  it->off = 0;
}

int nnrp_inline_iter_next(nnrp_inline_iter *it, nnrp_inline_object *o) {
  const nnrp_bytes *r = &it->region;
  if (it->off >= r->len || r->len - it->off < 16u)
    return 0;
  const uint8_t *p = r->ptr + it->off;
  o->object_kind = nnrp_rd16(p);
  o->object_flags = 0; /* no known bits: lenient clears them */
  o->profile_id = nnrp_rd16(p + 4);
  o->reserved0 = nnrp_rd16(p + 6);
  o->object_bytes = nnrp_rd32(p + 8);
  o->reserved1 = nnrp_rd32(p + 12);
  uint64_t end = (uint64_t)it->off + 16u + o->object_bytes;
  if (end > r->len) /* not an accepted body: stop, never overrun */
    return 0;
  o->data.ptr = p + 16;
  o->data.len = o->object_bytes;
  it->off = (size_t)nnrp_align8(end);
  return 1;
}
