/* SPDX-License-Identifier: Apache-2.0 */
/*
 * out.c - scatter-gather output of the builders (nnrp_out, nnrp_wire.h).
 * Structural bytes go into the caller's scratch buffer; large payloads are
 * referenced in place as iovec entries (zero copy), small ones copied.
 * Contiguous mode (iov_cap 0) copies everything into scratch.
 */
#include <string.h>

#include "wire_int.h"

/* Payloads up to this size are copied rather than referenced: an iovec
 * entry costs more than copying a few bytes. */
#define NNRP__OUT_COPY_MAX_DEFAULT 64u

void nnrp_out_init(nnrp_out *o, uint8_t *scratch, size_t scratch_cap,
                   nnrp_iov *iov, size_t iov_cap) {
  o->scratch = scratch;
  o->scratch_cap = scratch ? scratch_cap : 0;
  o->scratch_len = 0;
  o->iov = iov;
  o->iov_cap = iov ? iov_cap : 0;
  o->iov_len = 0;
  o->copy_max = NNRP__OUT_COPY_MAX_DEFAULT;
  o->total = 0;
}

void nnrp_out_reset(nnrp_out *o) {
  o->scratch_len = 0;
  o->iov_len = 0;
  o->total = 0;
}

/* The last iovec is the open scratch segment when it ends exactly where the
 * next scratch byte goes. scratch_len > 0 rules out a referenced payload
 * that happens to end right before the scratch buffer. */
static int out_scratch_open(const nnrp_out *o) {
  if (o->iov_len == 0 || o->scratch_len == 0)
    return 0;
  const nnrp_iov *last = &o->iov[o->iov_len - 1];
  return (const uint8_t *)last->base + last->len == o->scratch + o->scratch_len;
}

uint8_t *nnrp__out_reserve(nnrp_out *o, size_t n) {
  if (n > o->scratch_cap - o->scratch_len)
    return NULL;
  uint8_t *d = o->scratch + o->scratch_len;
  if (n == 0)
    return d;
  if (o->iov_cap != 0) {
    if (out_scratch_open(o)) {
      o->iov[o->iov_len - 1].len += n;
    } else {
      if (o->iov_len >= o->iov_cap)
        return NULL;
      o->iov[o->iov_len].base = d;
      o->iov[o->iov_len].len = n;
      o->iov_len++;
    }
  }
  o->scratch_len += n;
  o->total += n;
  return d;
}

int nnrp__out_bytes(nnrp_out *o, const void *p, size_t n) {
  uint8_t *d = nnrp__out_reserve(o, n);
  if (d == NULL)
    return NNRP_ERR_BUFFER_TOO_SMALL;
  if (n != 0)
    memcpy(d, p, n);
  return 0;
}

int nnrp__out_ref(nnrp_out *o, const void *p, size_t n) {
  if (n <= o->copy_max || o->iov_cap == 0)
    return nnrp__out_bytes(o, p, n);
  /* Payloads adjacent in the caller's memory (e.g. the tiles of a decoded
   * packet being re-encoded) share one entry. Never extend the open scratch
   * segment this way: later scratch writes would land inside it. */
  if (o->iov_len != 0) {
    nnrp_iov *last = &o->iov[o->iov_len - 1];
    const uint8_t *end = (const uint8_t *)last->base + last->len;
    if (end == (const uint8_t *)p && !out_scratch_open(o)) {
      last->len += n;
      o->total += n;
      return 0;
    }
  }
  if (o->iov_len >= o->iov_cap)
    return NNRP_ERR_BUFFER_TOO_SMALL;
  o->iov[o->iov_len].base = p;
  o->iov[o->iov_len].len = n;
  o->iov_len++;
  o->total += n;
  return 0;
}

int64_t nnrp_out_flatten(const nnrp_out *o, uint8_t *dst, size_t cap) {
  if (o->total > (uint64_t)cap)
    return NNRP_ERR_BUFFER_TOO_SMALL;
  if (o->iov_cap == 0) {
    if (o->scratch_len != 0)
      memcpy(dst, o->scratch, o->scratch_len);
    return (int64_t)o->total;
  }
  size_t off = 0;
  for (size_t i = 0; i < o->iov_len; i++) {
    if (o->iov[i].len == 0)
      continue;
    memcpy(dst + off, o->iov[i].base, o->iov[i].len);
    off += o->iov[i].len;
  }
  return (int64_t)o->total;
}

const uint8_t *nnrp_out_contiguous(const nnrp_out *o) {
  if (o->iov_cap == 0)
    return o->scratch;
  if (o->iov_len == 1)
    return (const uint8_t *)o->iov[0].base;
  return NULL;
}
