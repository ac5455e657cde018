/* SPDX-License-Identifier: Apache-2.0 */
/*
 * pktcopy.c - the single receive-side copy. The session's views of a
 * RESULT_PUSH / FRAME_SUBMIT point into the runtime's read buffer (or the
 * session's assembly buffer), both reused by the next bytes; the
 * application keeps results and submits for an unbounded time. So each such
 * packet is copied once into a buffer owned by the router / held-submit
 * table and decoded again there (nnrp_packet_decode_rest), which re-bases
 * every view of the body (tensor sections, typed frames, references) onto
 * the copy without hand-patching pointers. A large packet that the
 * connection read whole into a buffer of its own is not copied: that
 * buffer is handed over and decoded in place (nnrp__pkt_adopt).
 */
#include <string.h>

#include "runtime/runtime_int.h"

size_t nnrp__pkt_size(const nnrp_packet *p) {
  return (size_t)NNRP_HEADER_LEN + p->meta_raw.len + p->body_raw.len;
}

/* Decodes the metadata and body at m (the bytes after the header). The
 * session already validated this packet with its (stricter) negotiated
 * options: decode with every capability allowed and no local limit, so the
 * second pass cannot disagree. */
static int redecode(nnrp_packet *out, const nnrp_packet *p, const uint8_t *m,
                    uint32_t wire_flags) {
  nnrp_wire_opts o;
  nnrp_wire_opts_default(&o);
  o.flags = wire_flags;
  o.max_packet_bytes = NNRP_MAX_PACKET_BYTES;
  o.max_body_bytes = NNRP_MAX_PACKET_BYTES;
  o.max_sections = 0xFFFFu;
  nnrp_fault f;
  return nnrp_packet_decode_rest(out, &p->hdr, m,
                                 p->meta_raw.len + p->body_raw.len, &o, &f);
}

int nnrp__pkt_copy(nnrp_packet *out, uint8_t *dst, const nnrp_packet *p,
                   uint32_t wire_flags) {
  nnrp_header_encode(&p->hdr, dst);
  uint8_t *m = dst + NNRP_HEADER_LEN;
  if (p->meta_raw.len)
    memcpy(m, p->meta_raw.ptr, p->meta_raw.len);
  if (p->body_raw.len)
    memcpy(m + p->meta_raw.len, p->body_raw.ptr, p->body_raw.len);
  return redecode(out, p, m, wire_flags);
}

int nnrp__pkt_adopt(nnrp_packet *out, const uint8_t *buf, const nnrp_packet *p,
                    uint32_t wire_flags) {
  return redecode(out, p, buf + NNRP_HEADER_LEN, wire_flags);
}
