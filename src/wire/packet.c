/* SPDX-License-Identifier: Apache-2.0 */
/*
 * packet.c - whole-packet decoding: header (steps 2-8), then the local body
 * limit (9), exact metadata length (13), metadata (16) and body (15, 17-19)
 * through the descriptor table (wire.md §15).
 */
#include <string.h>

#include "wire_int.h"

static void rebase(nnrp_fault *f, size_t base) {
  if (f)
    f->offset += (uint32_t)base;
}

int nnrp_packet_decode_rest(nnrp_packet *p, const nnrp_header *h,
                            const uint8_t *in, size_t len,
                            const nnrp_wire_opts *opts, nnrp_fault *f) {
  nnrp_wire_opts dflt;
  if (opts == NULL) {
    nnrp_wire_opts_default(&dflt);
    opts = &dflt;
  }
  if (&p->hdr != h)
    p->hdr = *h;
  uint64_t rest = (uint64_t)h->meta_len + h->body_len;
  if (len < rest)
    return nnrp__fail(f, NNRP_ERR_TRUNCATED, NNRP_HEADER_LEN + len,
                      "wire.md §2.1", "packet");
  if (len > rest)
    return nnrp__fail(f, NNRP_ERR_TRAILING_DATA, NNRP_HEADER_LEN + rest,
                      "wire.md §2.1", "packet");
  /* Step 9. */
  if (h->body_len > opts->max_body_bytes)
    return nnrp__fail(f, NNRP_ERR_BODY_TOO_LARGE, 16, "wire.md §15 step 9",
                      "body_len");
  const nnrp_msg_desc *d = nnrp__msg_desc(h->msg_type);
  if (d == NULL) /* header not decoded by nnrp_header_decode() */
    return nnrp__fail(f, NNRP_ERR_MALFORMED_HEADER, 6, "wire.md §3",
                      "msg_type");
  /* Step 13. */
  if (h->meta_len != d->meta_len)
    return nnrp__fail(f, NNRP_ERR_MALFORMED_BODY, 12, "wire.md §15 step 13",
                      "meta_len");
  p->meta_raw.ptr = in;
  p->meta_raw.len = h->meta_len;
  p->body_raw.ptr = in + h->meta_len;
  p->body_raw.len = h->body_len;
  memset(&p->m, 0, sizeof(p->m));
  memset(&p->b, 0, sizeof(p->b));
  if (d->meta_dec) {
    int rc = d->meta_dec(&p->m, in, opts->flags, f);
    if (rc != 0) {
      rebase(f, NNRP_HEADER_LEN);
      return rc;
    }
  }
  int rc = d->body_dec(p, opts, f);
  if (rc != 0)
    rebase(f, NNRP_HEADER_LEN + (size_t)h->meta_len);
  return rc;
}

int nnrp_packet_decode(nnrp_packet *p, const uint8_t *in, size_t len,
                       const nnrp_wire_opts *opts, nnrp_fault *f) {
  nnrp_wire_opts dflt;
  if (opts == NULL) {
    nnrp_wire_opts_default(&dflt);
    opts = &dflt;
  }
  int rc = nnrp_header_decode(&p->hdr, in, len, opts, f);
  if (rc != 0)
    return rc;
  return nnrp_packet_decode_rest(p, &p->hdr, in + NNRP_HEADER_LEN,
                                 len - NNRP_HEADER_LEN, opts, f);
}
