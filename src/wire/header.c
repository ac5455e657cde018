/* SPDX-License-Identifier: Apache-2.0 */
/*
 * header.c - the 40-byte common header (wire.md §2.2, §2.3) and the header
 * steps 2-8 of the validation order (wire.md §15).
 */
#include <string.h>

#include "wire_int.h"

void nnrp_wire_opts_default(nnrp_wire_opts *o) {
  memset(o, 0, sizeof(*o));
  o->max_packet_bytes = NNRP_MAX_PACKET_BYTES;
  o->max_body_bytes = NNRP_DEFAULT_MAX_BODY_BYTES;
  o->max_sections = NNRP_DEFAULT_MAX_SECTIONS;
  o->payload_kinds = 0xFFFFFFFFu;
  o->cache_objects = 0xFFFFFFFFu;
}

void nnrp_header_init(nnrp_header *h, uint8_t msg_type) {
  memset(h, 0, sizeof(*h));
  h->version_major = NNRP_PROTOCOL_VERSION_MAJOR;
  h->wire_format = NNRP_WIRE_FORMAT_CURRENT;
  h->msg_type = msg_type;
  h->header_len = NNRP_HEADER_LEN;
  int ml = nnrp_msg_meta_len(msg_type);
  h->meta_len = ml > 0 ? (uint32_t)ml : 0;
}

int nnrp_header_decode(nnrp_header *h, const uint8_t *in, size_t len,
                       const nnrp_wire_opts *opts, nnrp_fault *f) {
  static const char rule_hdr[] = "wire.md §2.2";
  if (len < NNRP_HEADER_LEN)
    return nnrp__fail(f, NNRP_ERR_TRUNCATED, len, "wire.md §15 step 1",
                      "header");
  const uint8_t *p = in + 4;
  h->version_major = nnrp_get_u8(&p);
  h->wire_format = nnrp_get_u8(&p);
  h->msg_type = nnrp_get_u8(&p);
  h->header_len = nnrp_get_u8(&p);
  h->flags = nnrp_get_u32le(&p);
  h->meta_len = nnrp_get_u32le(&p);
  h->body_len = nnrp_get_u32le(&p);
  h->session_id = nnrp_get_u32le(&p);
  h->frame_id = nnrp_get_u32le(&p);
  h->view_id = nnrp_get_u16le(&p);
  h->route_id = nnrp_get_u16le(&p);
  h->trace_id = nnrp_get_u64le(&p);

  /* Steps 2-7 in the order of wire.md §15. */
  if (memcmp(in, NNRP_MAGIC, 4) != 0)
    return nnrp__fail(f, NNRP_ERR_MALFORMED_HEADER, 0, rule_hdr, "magic");
  if (h->version_major != NNRP_PROTOCOL_VERSION_MAJOR)
    return nnrp__fail(f, NNRP_ERR_UNSUPPORTED_VERSION, 4, rule_hdr,
                      "version_major");
  if (h->wire_format != NNRP_WIRE_FORMAT_CURRENT)
    return nnrp__fail(f, NNRP_ERR_UNSUPPORTED_VERSION, 5, rule_hdr,
                      "wire_format");
  if (h->header_len != NNRP_HEADER_LEN)
    return nnrp__fail(f, NNRP_ERR_MALFORMED_HEADER, 7, rule_hdr,
                      "header_len");
  if (h->flags & ~NNRP_FLAG_KNOWN_MASK) {
    if (NNRP__STRICT(opts->flags))
      return nnrp__fail(f, NNRP_ERR_MALFORMED_HEADER, 8, "wire.md §2.3",
                        "flags");
    h->flags &= NNRP_FLAG_KNOWN_MASK; /* lenient: clear and continue */
  }
  if (nnrp__msg_desc(h->msg_type) == NULL)
    return nnrp__fail(f, NNRP_ERR_MALFORMED_HEADER, 6, "wire.md §3",
                      "msg_type");
  /* Step 8: 64-bit sum against the packet cap (D19). */
  uint64_t total = (uint64_t)NNRP_HEADER_LEN + h->meta_len + h->body_len;
  uint64_t cap = opts->max_packet_bytes;
  if (cap == 0 || cap > NNRP_MAX_PACKET_BYTES)
    cap = NNRP_MAX_PACKET_BYTES;
  if (total > cap)
    return nnrp__fail(f, NNRP_ERR_PACKET_TOO_LARGE, 12, "wire.md §2.1 D19",
                      "body_len");
  return 0;
}

void nnrp_header_encode(const nnrp_header *h, uint8_t *out) {
  memcpy(out, NNRP_MAGIC, 4);
  uint8_t *p = out + 4;
  p = nnrp_put_u8(p, h->version_major);
  p = nnrp_put_u8(p, h->wire_format);
  p = nnrp_put_u8(p, h->msg_type);
  p = nnrp_put_u8(p, h->header_len);
  p = nnrp_put_u32le(p, h->flags);
  p = nnrp_put_u32le(p, h->meta_len);
  p = nnrp_put_u32le(p, h->body_len);
  p = nnrp_put_u32le(p, h->session_id);
  p = nnrp_put_u32le(p, h->frame_id);
  p = nnrp_put_u16le(p, h->view_id);
  p = nnrp_put_u16le(p, h->route_id);
  (void)nnrp_put_u64le(p, h->trace_id);
}
