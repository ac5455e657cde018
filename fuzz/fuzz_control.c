/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fuzz_control.c - libFuzzer target for the control message families
 * (wire.md §4, §10): the input as a packet through nnrp_packet_decode()
 * (strict and lenient), the same input with a repaired header retyped to a
 * control message so the metadata and body rules are reached, and the bytes
 * after the header through nnrp_meta_decode() of every type. Checks: faults
 * match the return value, accepted views lie inside the input, strict
 * acceptance implies lenient acceptance, metadata re-encodes byte for byte.
 */
#include <nnrp/nnrp_wire.h>

#include <stdlib.h>
#include <string.h>

#include "../tests/wire/gen_random.c"
#include "nnrp_fuzz.h"

#define FZ_CHECK(c)                                                            \
  do {                                                                         \
    if (!(c))                                                                  \
      abort();                                                                 \
  } while (0)

#define MAX_INPUT 65536u

static const uint8_t control_types[] = {
    0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x11, 0x13, 0x14, 0x15,
    0x16, 0x17, 0x18, 0x19, 0x1A, 0x1B, 0x1C, 0x20, 0x21};

static int decoder_error(int rc) {
  switch (rc) {
  case NNRP_ERR_TRUNCATED:
  case NNRP_ERR_TRAILING_DATA:
  case NNRP_ERR_MALFORMED_HEADER:
  case NNRP_ERR_UNSUPPORTED_VERSION:
  case NNRP_ERR_PACKET_TOO_LARGE:
  case NNRP_ERR_BODY_TOO_LARGE:
  case NNRP_ERR_MALFORMED_BODY:
  case NNRP_ERR_UNSUPPORTED_CAPABILITY:
  case NNRP_ERR_LIMIT_EXCEEDED:
    return 1;
  default:
    return 0;
  }
}

static void check_fault(int rc, const nnrp_fault *f) {
  FZ_CHECK(decoder_error(rc));
  FZ_CHECK(f->err == rc);
  FZ_CHECK(f->rule != NULL && f->field != NULL);
}

/* Metadata of type t: accepted bytes re-encode exactly (strict), lenient
 * is at least as permissive and idempotent. */
static void check_meta(uint8_t t, const uint8_t *in, size_t len) {
  nnrp_meta s, l, l2;
  nnrp_fault f = {1, 0, NULL, NULL};
  int rs = nnrp_meta_decode(t, &s, in, len, 0, &f);
  if (rs != 0)
    check_fault(rs, &f);
  f.err = 1;
  int rl = nnrp_meta_decode(t, &l, in, len, NNRP_WIRE_LENIENT, &f);
  if (rl != 0)
    check_fault(rl, &f);
  if (rs == 0)
    FZ_CHECK(rl == 0);
  uint8_t out[128];
  if (rs == 0) {
    FZ_CHECK(nnrp_meta_encode(t, &s, out, sizeof out) == (int)len);
    FZ_CHECK(len == 0 || memcmp(out, in, len) == 0);
  }
  if (rl == 0) {
    int n = nnrp_meta_encode(t, &l, out, sizeof out);
    FZ_CHECK(n == (int)len);
    FZ_CHECK(nnrp_meta_decode(t, &l2, out, len, NNRP_WIRE_LENIENT, NULL) == 0);
    uint8_t out2[128];
    FZ_CHECK(nnrp_meta_encode(t, &l2, out2, sizeof out2) == n);
    FZ_CHECK(len == 0 || memcmp(out, out2, len) == 0);
  }
  /* One byte short or long is always a length fault (step 13). */
  if (len > 0) {
    f.err = 1;
    FZ_CHECK(nnrp_meta_decode(t, &l, in, len - 1, 0, &f) ==
             NNRP_ERR_MALFORMED_BODY);
    FZ_CHECK(f.err == NNRP_ERR_MALFORMED_BODY);
  }
}

static void check_packet(const uint8_t *buf, size_t len) {
  nnrp_wire_opts o;
  nnrp_wire_opts_default(&o);
  nnrp_packet p, l;
  nnrp_fault f = {1, 0, NULL, NULL};
  int rs = nnrp_packet_decode(&p, buf, len, &o, &f);
  if (rs != 0) {
    check_fault(rs, &f);
    /* The fault points into the decoded input (packet-relative). */
    FZ_CHECK(f.offset <= len);
  }
  o.flags = NNRP_WIRE_LENIENT;
  f.err = 1;
  int rl = nnrp_packet_decode(&l, buf, len, &o, &f);
  if (rl != 0)
    check_fault(rl, &f);
  if (rs == 0)
    FZ_CHECK(rl == 0);
  if (rl == 0)
    FZ_CHECK(nnrp_rt_views_inside(&l, buf, len, NULL, 0));
  if (rs != 0)
    return;
  FZ_CHECK(nnrp_rt_views_inside(&p, buf, len, NULL, 0));
  /* Strict: the fields are the bytes, and lenient decodes the same. */
  uint8_t *out = malloc(len);
  FZ_CHECK(out != NULL);
  FZ_CHECK(nnrp_rt_raw_encode(&p, out, len) == (long)len);
  FZ_CHECK(memcmp(out, buf, len) == 0);
  free(out);
  FZ_CHECK(nnrp_rt_compare(&p, &l, NNRP_RT_EXACT, NULL, 0));
  /* The metadata decoder agrees with the packet decoder. */
  nnrp_meta m;
  FZ_CHECK(nnrp_meta_decode(p.hdr.msg_type, &m, p.meta_raw.ptr, p.meta_raw.len,
                            0, NULL) == 0);
}

/* The input with a valid header for a control type chosen by byte 6: the
 * fuzzer then spends its time in the metadata and body rules. */
static void check_repaired(const uint8_t *data, size_t size) {
  uint8_t t = control_types[data[6] % sizeof control_types];
  size_t ml = (size_t)nnrp_msg_meta_len(t);
  size_t len = size < 40 + ml ? 40 + ml : size;
  uint8_t *buf = calloc(1, len);
  FZ_CHECK(buf != NULL);
  memcpy(buf, data, size);
  memcpy(buf, "NNRP", 4);
  buf[4] = 1;
  buf[5] = 0;
  buf[6] = t;
  buf[7] = 40;
  buf[8] &= 0x3F;
  buf[9] = buf[10] = buf[11] = 0;
  uint32_t body = (uint32_t)(len - 40 - ml);
  for (int i = 0; i < 4; i++) {
    buf[12 + i] = (uint8_t)(ml >> (8 * i));
    buf[16 + i] = (uint8_t)(body >> (8 * i));
  }
  check_packet(buf, len);
  free(buf);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size > MAX_INPUT)
    return 0;
  /* An exact-size copy: ASan sees any read past the input. */
  uint8_t *in = calloc(size ? size : 1, 1);
  FZ_CHECK(in != NULL);
  if (size)
    memcpy(in, data, size);
  check_packet(in, size);
  if (size >= 40)
    check_repaired(in, size);
  /* Every type's metadata decoder on the bytes after the header. */
  size_t off = size >= 40 ? 40 : 0;
  for (size_t k = 0; k < 21; k++) {
    uint8_t t = nnrp_gen_types[k];
    int ml = nnrp_msg_meta_len(t);
    FZ_CHECK(ml >= 0);
    if (ml > 0 && size - off >= (size_t)ml)
      check_meta(t, in + off, (size_t)ml);
  }
  free(in);
  return 0;
}
