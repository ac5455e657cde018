/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fuzz_roundtrip.c - libFuzzer target for decode -> encode -> decode
 * (wire.md §2-§10): every accepted packet (the input, and the input with a
 * repaired header of any type) is re-encoded verbatim (nnrp_header_encode +
 * nnrp_meta_encode + body) and through the builders (nnrp_build_control, or
 * nnrp_body_data_from_view + nnrp_build_frame_submit/_result_push), decoded
 * again and compared field by field (reflection + body accessors); the
 * builder output must be a fixed point (byte-identical when rebuilt).
 * abort() on any mismatch, and on any builder refusal of a decoded packet
 * other than the known non-canonical cases listed in builder_may_refuse().
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

/* Valid packets the builders cannot express (the decoder is more
 * permissive than the encoder rules); everything else must rebuild. */
static int builder_may_refuse(long rc, const nnrp_fault *f, uint32_t mode) {
  if (rc != NNRP_ERR_INCONSISTENT || f->rule == NULL || f->field == NULL)
    return 0;
  const char *r = f->rule;
  /* CAN_DROP with KEYFRAME: senders must not, receivers do not check. */
  if (strcmp(r, "wire.md §2.3") == 0)
    return 1;
  /* Tile ids the encoder rules forbid: DELTA_U16 sums past 0xFFFF or not
   * increasing, DENSE_RANGE ids wrapping past 2^32. */
  if (strcmp(r, "nnrp_body_data_from_view") == 0 ||
      strncmp(r, "wire.md §8.4", strlen("wire.md §8.4")) == 0)
    return 1;
  /* T5: the encoder derives the bitmap from the typed frames, so a
   * composed RESULT_PUSH without typed frames cannot be re-sent composed. */
  if (strcmp(r, "wire.md §7") == 0)
    return 1;
  /* Lenient mode accepts frame_class > 3; the builder does not send it. */
  if ((mode & NNRP_WIRE_LENIENT) && strcmp(f->field, "frame_class") == 0)
    return 1;
  /* SESSION_PATCH with PROFILE_PATCH but no block (receivers do not
   * cross-check, §4.3). */
  if (strcmp(f->field, "patch_mask") == 0)
    return 1;
  return 0;
}

static int same_bytes(const uint8_t *a, long na, const uint8_t *b, long nb) {
  return na == nb && (na == 0 || memcmp(a, b, (size_t)na) == 0);
}

static void roundtrip(const uint8_t *buf, size_t len, uint32_t mode) {
  nnrp_wire_opts o;
  nnrp_wire_opts_default(&o);
  o.flags = mode;
  nnrp_packet p0, p1, p2, pr;
  if (nnrp_packet_decode(&p0, buf, len, &o, NULL) != 0)
    return;
  FZ_CHECK(nnrp_rt_views_inside(&p0, buf, len, NULL, 0));
  size_t cap = 2 * len + 4096;
  uint8_t *y0 = malloc(cap), *y1 = malloc(cap), *y2 = malloc(cap);
  FZ_CHECK(y0 && y1 && y2);

  /* Verbatim: strict gives the input back; lenient is a fixed point. */
  long n0 = nnrp_rt_raw_encode(&p0, y0, cap);
  FZ_CHECK(n0 == (long)len);
  if (mode == 0)
    FZ_CHECK(memcmp(y0, buf, len) == 0);
  FZ_CHECK(nnrp_packet_decode(&pr, y0, (size_t)n0, &o, NULL) == 0);
  FZ_CHECK(nnrp_rt_compare(&p0, &pr, NNRP_RT_EXACT, NULL, 0));

  /* Builders. */
  nnrp_fault f = {1, 0, NULL, NULL};
  long n1 = nnrp_rt_rebuild(&p0, y1, cap, &f);
  if (n1 < 0) {
    FZ_CHECK(builder_may_refuse(n1, &f, mode));
    goto out;
  }
  FZ_CHECK(nnrp_packet_decode(&p1, y1, (size_t)n1, &o, NULL) == 0);
  FZ_CHECK(nnrp_rt_views_inside(&p1, y1, (size_t)n1, NULL, 0));
  FZ_CHECK(nnrp_rt_compare(&p0, &p1, NNRP_RT_SEMANTIC, NULL, 0));
  if (same_bytes(y1, n1, buf, (long)len))
    FZ_CHECK(nnrp_rt_compare(&p0, &p1, NNRP_RT_EXACT, NULL, 0));
  /* The builder output is canonical: rebuilt, it is the same bytes. */
  long n2 = nnrp_rt_rebuild(&p1, y2, cap, &f);
  FZ_CHECK(same_bytes(y1, n1, y2, n2));
  FZ_CHECK(nnrp_packet_decode(&p2, y2, (size_t)n2, &o, NULL) == 0);
  FZ_CHECK(nnrp_rt_compare(&p1, &p2, NNRP_RT_EXACT, NULL, 0));
out:
  free(y0);
  free(y1);
  free(y2);
}

/* The input with a repaired header (magic, version, lengths) and a known
 * type chosen by byte 6, so mutations reach metadata and bodies. */
static void repaired(const uint8_t *data, size_t size) {
  uint8_t t = nnrp_gen_types[data[6] % 21u];
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
  roundtrip(buf, len, 0);
  roundtrip(buf, len, NNRP_WIRE_LENIENT);
  free(buf);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size > MAX_INPUT)
    return 0;
  uint8_t *in = calloc(size ? size : 1, 1);
  FZ_CHECK(in != NULL);
  if (size)
    memcpy(in, data, size);
  roundtrip(in, size, 0);
  roundtrip(in, size, NNRP_WIRE_LENIENT);
  if (size >= 40)
    repaired(in, size);
  free(in);
  return 0;
}
