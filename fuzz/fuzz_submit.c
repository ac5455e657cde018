/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fuzz_submit.c - libFuzzer target for FRAME_SUBMIT (wire.md §6.1, §7-§9):
 * the input is the 72-byte metadata followed by the body. Decoded with
 * nnrp_meta_decode() + nnrp_data_body_decode() and, wrapped in a header,
 * with nnrp_packet_decode() (the verdicts must agree), in strict and lenient
 * mode and with default and restricted limits (negotiated kinds, sections).
 * Accepted bodies: views inside the input, accessors consistent, and the
 * builders re-encode them stably. fuzz_result.c reuses this file for
 * RESULT_PUSH (FZ_DATA_TYPE).
 */
#include <nnrp/nnrp_wire.h>

#include <stdlib.h>
#include <string.h>

#include "../tests/wire/gen_random.c"
#include "nnrp_fuzz.h"

#ifndef FZ_DATA_TYPE
#define FZ_DATA_TYPE NNRP_MSG_FRAME_SUBMIT
#endif

#define FZ_CHECK(c)                                                            \
  do {                                                                         \
    if (!(c))                                                                  \
      abort();                                                                 \
  } while (0)

#define MAX_INPUT 65536u

static void check_fault(int rc, const nnrp_fault *f) {
  FZ_CHECK(rc == NNRP_ERR_MALFORMED_BODY ||
           rc == NNRP_ERR_UNSUPPORTED_CAPABILITY ||
           rc == NNRP_ERR_LIMIT_EXCEEDED);
  FZ_CHECK(f->err == rc && f->rule != NULL && f->field != NULL);
}

/* header ‖ metadata ‖ body in one exact-size buffer. */
static uint8_t *wrap(const uint8_t *in, size_t size, size_t ml, size_t *len) {
  *len = 40 + size;
  uint8_t *p = malloc(*len);
  FZ_CHECK(p != NULL);
  nnrp_header h;
  nnrp_header_init(&h, FZ_DATA_TYPE);
  h.session_id = 1;
  h.frame_id = 1;
  h.body_len = (uint32_t)(size - ml);
  nnrp_header_encode(&h, p);
  memcpy(p + 40, in, size);
  return p;
}

/* Builder re-encoding of an accepted packet: when the builders accept it,
 * the result decodes to the same content and is a fixed point. */
static void check_rebuild(const nnrp_packet *p, const nnrp_wire_opts *o) {
  size_t cap = 2 * (size_t)(40 + p->meta_raw.len + p->body_raw.len) + 4096;
  uint8_t *a = malloc(cap), *b = malloc(cap);
  FZ_CHECK(a != NULL && b != NULL);
  nnrp_fault f;
  long n = nnrp_rt_rebuild(p, a, cap, &f);
  if (n < 0) {
    /* The builders may refuse a valid but non-canonical body (see
     * nnrp_rt_rebuild); anything but INCONSISTENT is a bug. */
    FZ_CHECK(n == NNRP_ERR_INCONSISTENT);
  } else {
    nnrp_packet q, r;
    FZ_CHECK(nnrp_packet_decode(&q, a, (size_t)n, o, NULL) == 0);
    FZ_CHECK(nnrp_rt_compare(p, &q, NNRP_RT_SEMANTIC, NULL, 0));
    long m = nnrp_rt_rebuild(&q, b, cap, &f);
    FZ_CHECK(m == n && memcmp(a, b, (size_t)n) == 0);
    FZ_CHECK(nnrp_packet_decode(&r, b, (size_t)m, o, NULL) == 0);
    FZ_CHECK(nnrp_rt_compare(&q, &r, NNRP_RT_EXACT, NULL, 0));
  }
  free(a);
  free(b);
}

/* One decode configuration; returns the verdict. */
static int one(const uint8_t *in, size_t size, size_t ml,
               const nnrp_wire_opts *o) {
  nnrp_meta m;
  nnrp_fault f = {1, 0, NULL, NULL};
  int rc = nnrp_meta_decode(FZ_DATA_TYPE, &m, in, ml, o->flags, &f);
  if (rc != 0) {
    check_fault(rc, &f);
  } else {
    nnrp_data_body b;
    f.err = 1;
    rc = nnrp_data_body_decode(FZ_DATA_TYPE, &m, &b, in + ml, size - ml, o, &f);
    if (rc != 0)
      check_fault(rc, &f);
  }
  /* The packet decoder agrees and its views stay inside the packet. */
  size_t len;
  uint8_t *pkt = wrap(in, size, ml, &len);
  nnrp_packet p;
  f.err = 1;
  int prc = nnrp_packet_decode(&p, pkt, len, o, &f);
  FZ_CHECK(prc == rc);
  if (prc != 0) {
    check_fault(prc, &f);
  } else {
    FZ_CHECK(nnrp_rt_views_inside(&p, pkt, len, NULL, 0));
    uint8_t *raw = malloc(len);
    FZ_CHECK(raw != NULL);
    FZ_CHECK(nnrp_rt_raw_encode(&p, raw, len) == (long)len);
    if ((o->flags & NNRP_WIRE_LENIENT) == 0)
      FZ_CHECK(memcmp(raw, pkt, len) == 0);
    free(raw);
    check_rebuild(&p, o);
  }
  free(pkt);
  return rc;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  size_t ml = (size_t)nnrp_msg_meta_len(FZ_DATA_TYPE);
  if (size > MAX_INPUT)
    return 0;
  uint8_t *in = calloc(size ? size : 1, 1);
  FZ_CHECK(in != NULL);
  if (size)
    memcpy(in, data, size);
  if (size < ml) {
    nnrp_meta m;
    nnrp_fault f = {1, 0, NULL, NULL};
    FZ_CHECK(nnrp_meta_decode(FZ_DATA_TYPE, &m, in, size, 0, &f) ==
             NNRP_ERR_MALFORMED_BODY);
    free(in);
    return 0;
  }
  nnrp_wire_opts o;
  nnrp_wire_opts_default(&o);
  int strict = one(in, size, ml, &o);
  o.flags = NNRP_WIRE_LENIENT;
  int lenient = one(in, size, ml, &o);
  if (strict == 0)
    FZ_CHECK(lenient == 0);
  /* Restricted session: fewer kinds, objects and sections. */
  nnrp_wire_opts_default(&o);
  o.payload_kinds = NNRP_PAYLOAD_KIND_TENSOR | NNRP_PAYLOAD_KIND_TOKEN_CHUNK;
  o.cache_objects = 0x07;
  o.max_sections = 2;
  int restricted = one(in, size, ml, &o);
  if (restricted == 0)
    FZ_CHECK(strict == 0);
  free(in);
  return 0;
}
