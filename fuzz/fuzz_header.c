/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fuzz_header.c - libFuzzer target for the 40-byte common header (wire.md
 * §2.2, §2.3) and the header steps 1-8 of §15. Every input is decoded in
 * strict and lenient mode, with the default cap and with a cap taken from the
 * input, and compared against an independent model of steps 1-8 (error and
 * field); accepted headers must re-encode byte for byte. Aborts on mismatch.
 */
#include <nnrp/nnrp_wire.h>

#include <stdlib.h>
#include <string.h>

#include "nnrp_fuzz.h"

#define FZ_CHECK(c)                                                            \
  do {                                                                         \
    if (!(c))                                                                  \
      abort();                                                                 \
  } while (0)

static uint32_t rd32(const uint8_t *p) {
  return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) |
         ((uint32_t)p[3] << 24);
}

static int known_type(uint8_t t) {
  return (t >= 0x01 && t <= 0x06) || (t >= 0x10 && t <= 0x1C) || t == 0x20 ||
         t == 0x21;
}

/* The model: wire.md §15 steps 1-8 in order. Returns the error and the
 * wire.md field that must be named (NULL: not checked). */
static int model(const uint8_t *in, size_t len, uint32_t mode, uint64_t cap,
                 const char **field) {
  *field = NULL;
  if (len < NNRP_HEADER_LEN)
    return NNRP_ERR_TRUNCATED;
  if (memcmp(in, "NNRP", 4) != 0) {
    *field = "magic";
    return NNRP_ERR_MALFORMED_HEADER;
  }
  if (in[4] != 1) {
    *field = "version_major";
    return NNRP_ERR_UNSUPPORTED_VERSION;
  }
  if (in[5] != 0) {
    *field = "wire_format";
    return NNRP_ERR_UNSUPPORTED_VERSION;
  }
  if (in[7] != 40) {
    *field = "header_len";
    return NNRP_ERR_MALFORMED_HEADER;
  }
  if ((rd32(in + 8) & ~NNRP_FLAG_KNOWN_MASK) != 0 &&
      (mode & NNRP_WIRE_LENIENT) == 0) {
    *field = "flags";
    return NNRP_ERR_MALFORMED_HEADER;
  }
  if (!known_type(in[6])) {
    *field = "msg_type";
    return NNRP_ERR_MALFORMED_HEADER;
  }
  if (40u + (uint64_t)rd32(in + 12) + rd32(in + 16) > cap)
    return NNRP_ERR_PACKET_TOO_LARGE;
  return 0;
}

static void one(const uint8_t *data, size_t size, uint32_t mode, uint32_t cap) {
  nnrp_wire_opts o;
  nnrp_wire_opts_default(&o);
  o.flags = mode;
  o.max_packet_bytes = cap;
  nnrp_header h;
  nnrp_fault f = {1, 0, NULL, NULL};
  int rc = nnrp_header_decode(&h, data, size, &o, &f);
  const char *want_field;
  int want = model(data, size, mode, cap, &want_field);
  FZ_CHECK(rc == want);
  if (rc != 0) {
    FZ_CHECK(f.err == rc);
    FZ_CHECK(f.rule != NULL && f.field != NULL);
    if (want_field != NULL)
      FZ_CHECK(strcmp(f.field, want_field) == 0);
    return;
  }
  /* Accepted: the fields are the bytes, the flags cleared in lenient mode. */
  uint8_t out[NNRP_HEADER_LEN];
  nnrp_header_encode(&h, out);
  uint8_t want_bytes[NNRP_HEADER_LEN];
  memcpy(want_bytes, data, NNRP_HEADER_LEN);
  uint32_t fl = rd32(data + 8) & NNRP_FLAG_KNOWN_MASK;
  if (mode & NNRP_WIRE_LENIENT) {
    want_bytes[8] = (uint8_t)fl;
    want_bytes[9] = want_bytes[10] = want_bytes[11] = 0;
  }
  FZ_CHECK(memcmp(out, want_bytes, NNRP_HEADER_LEN) == 0);
  FZ_CHECK(h.msg_type == data[6] && h.header_len == 40);
  FZ_CHECK(nnrp_msg_meta_len(h.msg_type) >= 0);

  /* Decoding the re-encoding is stable in strict mode. */
  nnrp_header h2;
  nnrp_wire_opts s = o;
  s.flags = 0;
  FZ_CHECK(nnrp_header_decode(&h2, out, sizeof out, &s, NULL) == 0);
  FZ_CHECK(h2.flags == h.flags && h2.trace_id == h.trace_id &&
           h2.body_len == h.body_len && h2.meta_len == h.meta_len &&
           h2.session_id == h.session_id && h2.frame_id == h.frame_id &&
           h2.view_id == h.view_id && h2.route_id == h.route_id);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  /* A cap from the bytes after the header, kept in [40, 64 MiB]. */
  uint32_t cap = NNRP_MAX_PACKET_BYTES;
  if (size >= 44) {
    cap = rd32(data + 40) % (NNRP_MAX_PACKET_BYTES - 40u + 1u) + 40u;
  }
  for (uint32_t mode = 0; mode <= NNRP_WIRE_LENIENT; mode++) {
    one(data, size, mode, NNRP_MAX_PACKET_BYTES);
    one(data, size, mode, cap);
  }
  /* The same bytes through the packet decoder: a header fault must be
   * reported exactly as the header decoder reports it. */
  nnrp_wire_opts o;
  nnrp_wire_opts_default(&o);
  nnrp_packet p;
  nnrp_fault f = {1, 0, NULL, NULL};
  const char *field;
  int want = model(data, size, 0, NNRP_MAX_PACKET_BYTES, &field);
  int rc = nnrp_packet_decode(&p, data, size, &o, &f);
  if (want != 0)
    FZ_CHECK(rc == want);
  if (rc != 0)
    FZ_CHECK(f.err == rc && f.rule != NULL && f.field != NULL);
  return 0;
}
