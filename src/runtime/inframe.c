/* SPDX-License-Identifier: Apache-2.0 */
/*
 * inframe.c - packet boundaries of a connection's input, as seen by the
 * runtime (runtime_int.h "nnrp__inframe"). The runtime follows the byte
 * stream it feeds to the session by the length fields of each header
 * (wire.md §2.2), so that it can tell when a read ends inside a large packet
 * and read the rest of it straight into one buffer of the packet's size:
 * the session then gets the packet whole (no copy into its assembly buffer)
 * and the held submit or result can keep that buffer (no second copy).
 * Nothing here validates for the session: a header that does not look like
 * NNRP stops the tracking (the session rejects the stream by itself).
 */
#include <string.h>

#include "runtime/runtime_int.h"
#include "wire/conv.h"

void nnrp__inframe_init(nnrp__inframe *f, uint64_t big_min, uint64_t big_max,
                        uint32_t body_max) {
  memset(f, 0, sizeof(*f));
  f->big_min = big_min;
  f->big_max = big_max;
  f->body_max = body_max;
}

void nnrp__inframe_decline(nnrp__inframe *f, uint64_t big_len, size_t have) {
  f->skip = big_len - have;
}

/* Magic and header_len of a header (the session checks the rest). */
static int plausible(const uint8_t *h) {
  return memcmp(h, NNRP_MAGIC, 4) == 0 && h[7] == NNRP_HEADER_LEN;
}

/* A complete packet of this header may be read into a buffer of its own:
 * large enough to matter, small enough to allocate before the session saw
 * it, and a header the session will accept as such. */
static int big_candidate(const nnrp__inframe *f, const uint8_t *h,
                         uint64_t total) {
  if (total < f->big_min || total > f->big_max ||
      nnrp_rd32(h + 16) > f->body_max)
    return 0;
  nnrp_wire_opts o;
  nnrp_wire_opts_default(&o);
  o.flags = NNRP_WIRE_LENIENT; /* the session judges the flags */
  o.max_packet_bytes = (uint32_t)f->big_max;
  nnrp_header hdr;
  nnrp_fault fault;
  return nnrp_header_decode(&hdr, h, NNRP_HEADER_LEN, &o, &fault) == 0;
}

size_t nnrp__inframe_scan(nnrp__inframe *f, const uint8_t *p, size_t n,
                          uint64_t *big_len) {
  size_t pos = 0;
  *big_len = 0;
  while (pos < n && !f->broken) {
    if (f->skip) { /* inside a packet */
      size_t k = f->skip < n - pos ? (size_t)f->skip : n - pos;
      pos += k;
      f->skip -= k;
      continue;
    }
    size_t start = pos;
    const uint8_t *h;
    int split = f->hdr_n > 0 || n - pos < NNRP_HEADER_LEN;
    if (split) { /* a header cut by the end of a read */
      size_t k = NNRP_HEADER_LEN - f->hdr_n;
      if (k > n - pos)
        k = n - pos;
      memcpy(f->hdr + f->hdr_n, p + pos, k);
      f->hdr_n = (uint8_t)(f->hdr_n + k);
      pos += k;
      if (f->hdr_n < NNRP_HEADER_LEN)
        break;
      f->hdr_n = 0;
      h = f->hdr;
    } else {
      h = p + pos;
      pos += NNRP_HEADER_LEN;
    }
    if (!plausible(h)) {
      f->broken = 1;
      break;
    }
    uint64_t rest = (uint64_t)nnrp_rd32(h + 12) + nnrp_rd32(h + 16);
    uint64_t total = NNRP_HEADER_LEN + rest;
    if (!split && total > n - start && big_candidate(f, h, total)) {
      *big_len = total; /* the caller reads it whole; boundary after it */
      return start;
    }
    f->skip = rest;
  }
  return n;
}
