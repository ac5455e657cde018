/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_header.c - the 40-byte common header (wire.md §2.2, §2.3) and the
 * header steps 1-8 of the validation order (§15): every rule, the exact error
 * and field, the order between faults, lenient flag clearing, the 64-bit size
 * sum, the golden header vectors; plus the error model of nnrp_error.h
 * (names, messages, the wire.md §16 mapping, fault formatting).
 */
#include <nnrp/nnrp_error.h>
#include <nnrp/nnrp_wire.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "vectors.h"

/* ---- helpers ------------------------------------------------------------ */

static const uint8_t known_types[] = {0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x10,
                                      0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17,
                                      0x18, 0x19, 0x1A, 0x1B, 0x1C, 0x20, 0x21};

static int is_known_type(unsigned t) {
  for (size_t i = 0; i < sizeof known_types; i++)
    if (known_types[i] == t)
      return 1;
  return 0;
}

static void put32(uint8_t *p, uint32_t v) {
  for (int i = 0; i < 4; i++)
    p[i] = (uint8_t)(v >> (8 * i));
}

/* A valid PING header: 40 bytes, no metadata, no body. */
static void valid_header(uint8_t *b) {
  static const uint8_t ping[40] = {'N', 'N', 'R', 'P', 1, 0, 0x20, 40};
  memcpy(b, ping, sizeof ping);
}

static nnrp_wire_opts strict_opts(void) {
  nnrp_wire_opts o;
  nnrp_wire_opts_default(&o);
  return o;
}

static nnrp_wire_opts lenient_opts(void) {
  nnrp_wire_opts o;
  nnrp_wire_opts_default(&o);
  o.flags = NNRP_WIRE_LENIENT;
  return o;
}

static nnrp_fault fresh_fault(void) {
  nnrp_fault f = {12345, 0xDEADu, NULL, NULL};
  return f;
}

/* Decodes b and checks the error, the fault's err/field and (when >= 0) its
 * offset. field may be NULL to skip the field check. */
static int expect_decode(const uint8_t *b, size_t len, const nnrp_wire_opts *o,
                         int want, const char *field, long offset) {
  nnrp_header h;
  nnrp_fault f = fresh_fault();
  int rc = nnrp_header_decode(&h, b, len, o, &f);
  int ok = CHECK_EQ_INT(rc, want);
  if (want == 0)
    return ok;
  ok &= CHECK_EQ_INT(f.err, want);
  ok &= CHECK(f.rule != NULL);
  ok &= CHECK(f.field != NULL);
  if (field != NULL && f.field != NULL)
    ok &= CHECK_EQ_STR(f.field, field);
  if (offset >= 0)
    ok &= CHECK_EQ_U64(f.offset, (uint64_t)offset);
  return ok;
}

/* ---- golden vectors ----------------------------------------------------- */

static uint64_t json_u64(const cJSON *item) {
  if (cJSON_IsNumber(item))
    return (uint64_t)item->valuedouble;
  if (cJSON_IsString(item))
    return strtoull(item->valuestring, NULL, 0); /* "0x21", "0x10 NAME" */
  harness_die(__FILE__, __LINE__, "unexpected JSON field type");
}

static void check_golden(const char *name) {
  cJSON *root = nnrp_test_load_json("seed-line.json");
  const cJSON *vecs = cJSON_GetObjectItemCaseSensitive(root, "vectors");
  const cJSON *v = NULL;
  const cJSON *it;
  cJSON_ArrayForEach(it, vecs) {
    const cJSON *n = cJSON_GetObjectItemCaseSensitive(it, "name");
    if (cJSON_IsString(n) && strcmp(n->valuestring, name) == 0)
      v = it;
  }
  if (!CHECK(v != NULL)) {
    cJSON_Delete(root);
    return;
  }
  uint8_t *bytes = NULL;
  size_t len = nnrp_test_hex_decode(
      cJSON_GetObjectItemCaseSensitive(v, "hex")->valuestring, &bytes);
  CHECK_EQ_INT(len, 40);
  nnrp_wire_opts o = strict_opts();
  nnrp_header h;
  nnrp_fault f = fresh_fault();
  CHECK_EQ_INT(nnrp_header_decode(&h, bytes, len, &o, &f), 0);

  /* Every field of the JSON (except magic) equals the decoded field. */
  const cJSON *fields = cJSON_GetObjectItemCaseSensitive(v, "fields");
  size_t nf = 0;
  CHECK(nnrp_struct_fields(NNRP_STRUCT_HEADER, &nf) != NULL);
  CHECK_EQ_INT(nf, 12);
  size_t matched = 0;
  cJSON_ArrayForEach(it, fields) {
    if (strcmp(it->string, "magic") == 0)
      continue;
    const nnrp_field_desc *d = nnrp_field_find(NNRP_STRUCT_HEADER, it->string);
    if (!CHECK(d != NULL))
      continue;
    matched++;
    uint64_t got = nnrp_field_get(&h, d);
    int ok;
    if (cJSON_IsNumber(it) && it->valuedouble >= 9007199254740992.0)
      /* cJSON keeps numbers as doubles: beyond 2^53 compare as doubles (the
       * byte-exact re-encode below checks the low bits). */
      ok = CHECK((double)got == it->valuedouble);
    else
      ok = CHECK_EQ_U64(got, json_u64(it));
    if (!ok)
      printf("  field %s of %s\n", it->string, name);
  }
  CHECK_EQ_INT(matched, nf);

  uint8_t out[40];
  nnrp_header_encode(&h, out);
  CHECK_EQ_MEM(out, bytes, 40);
  free(bytes);
  cJSON_Delete(root);
}

TEST(golden_frame_submit_ack_required_keyframe) {
  check_golden("header.frame_submit_ack_required_keyframe");
}

TEST(golden_all_caller_controlled_fields) {
  check_golden("header.all_caller_controlled_fields");
}

/* The golden header's meta_len 48 is not FRAME_SUBMIT's 72: step 13 belongs
 * to the packet, so the header codec accepts it; the packet decoder then
 * sees a truncated packet. */
TEST(meta_len_not_checked_by_header) {
  static const char hex[] = "4e4e525001001028210000003000000000100000070000000b"
                            "0000000200000015cd5b0700000000";
  uint8_t *b = NULL;
  size_t n = nnrp_test_hex_decode(hex, &b);
  nnrp_wire_opts o = strict_opts();
  expect_decode(b, n, &o, 0, NULL, -1);
  nnrp_packet p;
  nnrp_fault f = fresh_fault();
  CHECK_EQ_INT(nnrp_packet_decode(&p, b, n, &o, &f), NNRP_ERR_TRUNCATED);
  CHECK_EQ_INT(f.err, NNRP_ERR_TRUNCATED);
  free(b);
}

/* ---- step 1: 40 bytes available ----------------------------------------- */

TEST(step1_truncated) {
  uint8_t b[40];
  valid_header(b);
  nnrp_wire_opts o = strict_opts();
  for (size_t len = 0; len < 40; len++)
    expect_decode(b, len, &o, NNRP_ERR_TRUNCATED, NULL, -1);
  expect_decode(b, 40, &o, 0, NULL, -1);
  /* Even with a bad magic, fewer than 40 bytes is "wait", not a fault. */
  b[0] = 'X';
  expect_decode(b, 39, &o, NNRP_ERR_TRUNCATED, NULL, -1);
  /* Only the first 40 bytes are read: trailing bytes do not matter. */
  uint8_t big[64];
  memset(big, 0xEE, sizeof big);
  valid_header(big);
  expect_decode(big, sizeof big, &o, 0, NULL, -1);
}

/* ---- step 2: magic ------------------------------------------------------ */

TEST(step2_magic) {
  nnrp_wire_opts o = strict_opts();
  nnrp_wire_opts l = lenient_opts();
  for (int i = 0; i < 4; i++) {
    static const uint8_t bad[] = {0x00, 'n', 0xFF, 'Q'};
    for (size_t k = 0; k < sizeof bad; k++) {
      uint8_t b[40];
      valid_header(b);
      b[i] = bad[k];
      expect_decode(b, 40, &o, NNRP_ERR_MALFORMED_HEADER, "magic", 0);
      /* Lenient mode never relaxes the magic. */
      expect_decode(b, 40, &l, NNRP_ERR_MALFORMED_HEADER, "magic", 0);
    }
  }
}

/* ---- steps 3-4: version_major, wire_format ------------------------------ */

TEST(step3_version_major) {
  nnrp_wire_opts o = strict_opts();
  nnrp_wire_opts l = lenient_opts();
  static const uint8_t bad[] = {0, 2, 3, 0x7F, 0xFF};
  for (size_t k = 0; k < sizeof bad; k++) {
    uint8_t b[40];
    valid_header(b);
    b[4] = bad[k];
    expect_decode(b, 40, &o, NNRP_ERR_UNSUPPORTED_VERSION, "version_major", 4);
    expect_decode(b, 40, &l, NNRP_ERR_UNSUPPORTED_VERSION, "version_major", 4);
  }
}

TEST(step4_wire_format) {
  nnrp_wire_opts o = strict_opts();
  nnrp_wire_opts l = lenient_opts();
  static const uint8_t bad[] = {1, 2, 0x80, 0xFF};
  for (size_t k = 0; k < sizeof bad; k++) {
    uint8_t b[40];
    valid_header(b);
    b[5] = bad[k];
    expect_decode(b, 40, &o, NNRP_ERR_UNSUPPORTED_VERSION, "wire_format", 5);
    expect_decode(b, 40, &l, NNRP_ERR_UNSUPPORTED_VERSION, "wire_format", 5);
  }
}

/* ---- step 5: header_len ------------------------------------------------- */

TEST(step5_header_len) {
  nnrp_wire_opts o = strict_opts();
  nnrp_wire_opts l = lenient_opts();
  static const uint8_t bad[] = {0, 1, 39, 41, 48, 72, 0xFF};
  for (size_t k = 0; k < sizeof bad; k++) {
    uint8_t b[40];
    valid_header(b);
    b[7] = bad[k];
    expect_decode(b, 40, &o, NNRP_ERR_MALFORMED_HEADER, "header_len", 7);
    expect_decode(b, 40, &l, NNRP_ERR_MALFORMED_HEADER, "header_len", 7);
  }
}

/* ---- step 6: reserved flag bits ----------------------------------------- */

TEST(step6_flags_strict) {
  nnrp_wire_opts o = strict_opts();
  /* Every combination of the six known bits is accepted on any message. */
  for (uint32_t fl = 0; fl <= NNRP_FLAG_KNOWN_MASK; fl++) {
    uint8_t b[40];
    valid_header(b);
    put32(b + 8, fl);
    nnrp_header h;
    CHECK_EQ_INT(nnrp_header_decode(&h, b, 40, &o, NULL), 0);
    CHECK_EQ_U64(h.flags, fl);
  }
  /* Each reserved bit alone, and all of them, is a header fault. */
  for (int bit = 6; bit < 32; bit++) {
    uint8_t b[40];
    valid_header(b);
    put32(b + 8, (uint32_t)1u << bit);
    expect_decode(b, 40, &o, NNRP_ERR_MALFORMED_HEADER, "flags", 8);
  }
  uint8_t b[40];
  valid_header(b);
  put32(b + 8, 0xFFFFFFC0u);
  expect_decode(b, 40, &o, NNRP_ERR_MALFORMED_HEADER, "flags", 8);
}

TEST(step6_flags_lenient_clears) {
  nnrp_wire_opts l = lenient_opts();
  for (int bit = 6; bit < 32; bit++) {
    uint8_t b[40];
    valid_header(b);
    put32(b + 8, ((uint32_t)1u << bit) | NNRP_FLAG_EOS | NNRP_FLAG_CAN_DROP);
    nnrp_header h;
    nnrp_fault f = fresh_fault();
    CHECK_EQ_INT(nnrp_header_decode(&h, b, 40, &l, &f), 0);
    /* Unknown bits cleared, known bits kept. */
    CHECK_EQ_U64(h.flags, NNRP_FLAG_EOS | NNRP_FLAG_CAN_DROP);
  }
  uint8_t b[40];
  valid_header(b);
  put32(b + 8, 0xFFFFFFFFu);
  nnrp_header h;
  CHECK_EQ_INT(nnrp_header_decode(&h, b, 40, &l, NULL), 0);
  CHECK_EQ_U64(h.flags, NNRP_FLAG_KNOWN_MASK);
  /* A lenient decode still applies the later steps. */
  b[6] = 0x07;
  expect_decode(b, 40, &l, NNRP_ERR_MALFORMED_HEADER, "msg_type", 6);
}

/* ---- step 7: msg_type --------------------------------------------------- */

TEST(step7_msg_type) {
  nnrp_wire_opts o = strict_opts();
  nnrp_wire_opts l = lenient_opts();
  unsigned accepted = 0;
  for (unsigned t = 0; t < 256; t++) {
    uint8_t b[40];
    valid_header(b);
    b[6] = (uint8_t)t;
    if (is_known_type(t)) {
      nnrp_header h;
      if (CHECK_EQ_INT(nnrp_header_decode(&h, b, 40, &o, NULL), 0))
        accepted++;
      CHECK_EQ_U64(h.msg_type, t);
    } else {
      expect_decode(b, 40, &o, NNRP_ERR_MALFORMED_HEADER, "msg_type", 6);
      expect_decode(b, 40, &l, NNRP_ERR_MALFORMED_HEADER, "msg_type", 6);
    }
  }
  CHECK_EQ_INT(accepted, 21);
}

/* Later revisions' types are unknown here (wire.md §3, §17, D1). */
TEST(step7_later_revisions_rejected) {
  nnrp_wire_opts o = strict_opts();
  for (unsigned t = 0x07; t <= 0x0A; t++) {
    uint8_t b[40];
    valid_header(b);
    b[6] = (uint8_t)t;
    expect_decode(b, 40, &o, NNRP_ERR_MALFORMED_HEADER, "msg_type", 6);
  }
  for (unsigned t = 0x30; t <= 0x49; t++) {
    uint8_t b[40];
    valid_header(b);
    b[6] = (uint8_t)t;
    expect_decode(b, 40, &o, NNRP_ERR_MALFORMED_HEADER, "msg_type", 6);
  }
}

/* ---- step 8: 64-bit size sum -------------------------------------------- */

static int decode_sizes(uint32_t meta, uint32_t body, uint32_t cap) {
  uint8_t b[40];
  valid_header(b);
  b[6] = NNRP_MSG_FRAME_SUBMIT;
  put32(b + 12, meta);
  put32(b + 16, body);
  nnrp_wire_opts o = strict_opts();
  if (cap)
    o.max_packet_bytes = cap;
  nnrp_header h;
  nnrp_fault f = fresh_fault();
  int rc = nnrp_header_decode(&h, b, 40, &o, &f);
  if (rc != 0) {
    CHECK_EQ_INT(f.err, rc);
    CHECK(f.rule != NULL && f.field != NULL);
  } else {
    CHECK_EQ_U64(h.meta_len, meta);
    CHECK_EQ_U64(h.body_len, body);
  }
  return rc;
}

TEST(step8_overflow_64bit) {
  /* 40 + 0xFFFFFFFF + 0xFFFFFFFF overflows 32 bits: must not wrap. */
  CHECK_EQ_INT(decode_sizes(0xFFFFFFFFu, 0xFFFFFFFFu, 0),
               NNRP_ERR_PACKET_TOO_LARGE);
  CHECK_EQ_INT(decode_sizes(0xFFFFFFFFu, 0, 0), NNRP_ERR_PACKET_TOO_LARGE);
  CHECK_EQ_INT(decode_sizes(0, 0xFFFFFFFFu, 0), NNRP_ERR_PACKET_TOO_LARGE);
  /* Sums that wrap to a small 32-bit value. */
  CHECK_EQ_INT(decode_sizes(0xFFFFFFD8u, 0, 0), NNRP_ERR_PACKET_TOO_LARGE);
  CHECK_EQ_INT(decode_sizes(0xFFFFFFD8u, 0x30u, 0), NNRP_ERR_PACKET_TOO_LARGE);
  CHECK_EQ_INT(decode_sizes(0x80000000u, 0x80000000u, 0),
               NNRP_ERR_PACKET_TOO_LARGE);
}

TEST(step8_exactly_at_cap) {
  const uint32_t cap = NNRP_MAX_PACKET_BYTES;
  /* 40 + meta + body == 64 MiB passes, one more byte fails. */
  CHECK_EQ_INT(decode_sizes(72, cap - 40 - 72, 0), 0);
  CHECK_EQ_INT(decode_sizes(72, cap - 40 - 72 + 1, 0),
               NNRP_ERR_PACKET_TOO_LARGE);
  CHECK_EQ_INT(decode_sizes(cap - 40, 0, 0), 0);
  CHECK_EQ_INT(decode_sizes(cap - 39, 0, 0), NNRP_ERR_PACKET_TOO_LARGE);
  CHECK_EQ_INT(decode_sizes(0, cap - 40, 0), 0);
  CHECK_EQ_INT(decode_sizes(0, cap - 39, 0), NNRP_ERR_PACKET_TOO_LARGE);
  /* A smaller configured cap works the same way. */
  CHECK_EQ_INT(decode_sizes(72, 1000 - 40 - 72, 1000), 0);
  CHECK_EQ_INT(decode_sizes(72, 1000 - 40 - 72 + 1, 1000),
               NNRP_ERR_PACKET_TOO_LARGE);
  CHECK_EQ_INT(decode_sizes(0, 0, 40), 0);
  CHECK_EQ_INT(decode_sizes(0, 1, 40), NNRP_ERR_PACKET_TOO_LARGE);
}

TEST(step8_lenient_same) {
  uint8_t b[40];
  valid_header(b);
  put32(b + 16, 0xFFFFFFFFu);
  nnrp_wire_opts l = lenient_opts();
  expect_decode(b, 40, &l, NNRP_ERR_PACKET_TOO_LARGE, NULL, -1);
}

/* ---- order of steps 2-8 ------------------------------------------------- */

/* One fault per step, in §15 order; the first one present decides. */
typedef struct fault_case {
  int err;
  const char *field;
  void (*apply)(uint8_t *b);
} fault_case;

static void f_magic(uint8_t *b) { b[0] = 'X'; }
static void f_version(uint8_t *b) { b[4] = 2; }
static void f_wire(uint8_t *b) { b[5] = 1; }
static void f_hlen(uint8_t *b) { b[7] = 41; }
static void f_flags(uint8_t *b) { put32(b + 8, 0x40u); }
static void f_type(uint8_t *b) { b[6] = 0x30; }
static void f_size(uint8_t *b) {
  put32(b + 12, 0xFFFFFFFFu);
  put32(b + 16, 0xFFFFFFFFu);
}

static const fault_case cases[] = {
    {NNRP_ERR_MALFORMED_HEADER, "magic", f_magic},
    {NNRP_ERR_UNSUPPORTED_VERSION, "version_major", f_version},
    {NNRP_ERR_UNSUPPORTED_VERSION, "wire_format", f_wire},
    {NNRP_ERR_MALFORMED_HEADER, "header_len", f_hlen},
    {NNRP_ERR_MALFORMED_HEADER, "flags", f_flags},
    {NNRP_ERR_MALFORMED_HEADER, "msg_type", f_type},
    {NNRP_ERR_PACKET_TOO_LARGE, NULL, f_size},
};

TEST(order_every_subset) {
  const unsigned n = sizeof cases / sizeof cases[0];
  nnrp_wire_opts o = strict_opts();
  for (unsigned mask = 1; mask < (1u << n); mask++) {
    uint8_t b[40];
    valid_header(b);
    unsigned first = n;
    for (unsigned i = 0; i < n; i++) {
      if (mask & (1u << i)) {
        cases[i].apply(b);
        if (first == n)
          first = i;
      }
    }
    if (!expect_decode(b, 40, &o, cases[first].err, cases[first].field, -1))
      printf("  fault subset mask 0x%x\n", mask);
  }
}

/* Lenient mode: the flags step disappears, the others keep their order. */
TEST(order_lenient_skips_flags) {
  nnrp_wire_opts l = lenient_opts();
  uint8_t b[40];
  valid_header(b);
  f_flags(b);
  f_type(b);
  expect_decode(b, 40, &l, NNRP_ERR_MALFORMED_HEADER, "msg_type", 6);
  valid_header(b);
  f_flags(b);
  f_size(b);
  expect_decode(b, 40, &l, NNRP_ERR_PACKET_TOO_LARGE, NULL, -1);
  valid_header(b);
  f_flags(b);
  f_hlen(b);
  expect_decode(b, 40, &l, NNRP_ERR_MALFORMED_HEADER, "header_len", 7);
}

/* Through the packet decoder: header faults come before truncation, the
 * body limit (step 9) before the metadata length (step 13). */
TEST(order_packet_level) {
  nnrp_wire_opts o = strict_opts();
  nnrp_packet p;
  nnrp_fault f = fresh_fault();
  uint8_t b[80];
  memset(b, 0, sizeof b);
  valid_header(b);
  f_magic(b);
  put32(b + 16, 1000); /* declared body far beyond the input */
  CHECK_EQ_INT(nnrp_packet_decode(&p, b, 40, &o, &f),
               NNRP_ERR_MALFORMED_HEADER);
  CHECK_EQ_STR(f.field, "magic");

  /* Steps 9 and 13: PING with a 4-byte body over max_body_bytes 2 and a
   * wrong meta_len: the body limit is reported. */
  valid_header(b);
  put32(b + 12, 4);
  put32(b + 16, 4);
  nnrp_wire_opts small = strict_opts();
  small.max_body_bytes = 2;
  f = fresh_fault();
  CHECK_EQ_INT(nnrp_packet_decode(&p, b, 48, &small, &f),
               NNRP_ERR_BODY_TOO_LARGE);
  CHECK_EQ_INT(f.err, NNRP_ERR_BODY_TOO_LARGE);
  f = fresh_fault();
  CHECK_EQ_INT(nnrp_packet_decode(&p, b, 48, &o, &f), NNRP_ERR_MALFORMED_BODY);
  CHECK_EQ_STR(f.field, "meta_len");
  /* Length mismatches of the whole packet. */
  valid_header(b);
  CHECK_EQ_INT(nnrp_packet_decode(&p, b, 41, &o, NULL), NNRP_ERR_TRAILING_DATA);
  put32(b + 16, 1);
  CHECK_EQ_INT(nnrp_packet_decode(&p, b, 40, &o, NULL), NNRP_ERR_TRUNCATED);
  CHECK_EQ_INT(nnrp_packet_decode(&p, b, 30, &o, NULL), NNRP_ERR_TRUNCATED);
}

/* ---- encode / init ------------------------------------------------------ */

TEST(encode_decode_every_field) {
  nnrp_header h;
  nnrp_header_init(&h, NNRP_MSG_RESULT_PUSH);
  h.flags = 0x2A;
  h.meta_len = 64;
  h.body_len = 0x01020304u & 0x003FFFFFu;
  h.session_id = 0xA1B2C3D4u;
  h.frame_id = 0x0badf00du;
  h.view_id = 0xBEEF;
  h.route_id = 0x1234;
  h.trace_id = 0x0102030405060708ull;
  uint8_t b[40];
  nnrp_header_encode(&h, b);
  static const uint8_t want[40] = {
      'N',  'N',  'R',  'P',  1,    0,    0x12, 40,   0x2A, 0,
      0,    0,    64,   0,    0,    0,    0x04, 0x03, 0x02, 0,
      0xD4, 0xC3, 0xB2, 0xA1, 0x0d, 0xf0, 0xad, 0x0b, 0xEF, 0xBE,
      0x34, 0x12, 0x08, 0x07, 0x06, 0x05, 0x04, 0x03, 0x02, 0x01};
  CHECK_EQ_MEM(b, want, 40);
  nnrp_wire_opts o = strict_opts();
  nnrp_header d;
  CHECK_EQ_INT(nnrp_header_decode(&d, b, 40, &o, NULL), 0);
  size_t nf = 0;
  const nnrp_field_desc *fd = nnrp_struct_fields(NNRP_STRUCT_HEADER, &nf);
  for (size_t i = 0; i < nf; i++)
    CHECK_EQ_U64(nnrp_field_get(&d, &fd[i]), nnrp_field_get(&h, &fd[i]));
}

TEST(header_init_every_type) {
  for (size_t i = 0; i < sizeof known_types; i++) {
    nnrp_header h;
    memset(&h, 0xA5, sizeof h);
    nnrp_header_init(&h, known_types[i]);
    CHECK_EQ_INT(h.version_major, 1);
    CHECK_EQ_INT(h.wire_format, 0);
    CHECK_EQ_INT(h.header_len, 40);
    CHECK_EQ_INT(h.msg_type, known_types[i]);
    CHECK_EQ_INT(h.meta_len, nnrp_msg_meta_len(known_types[i]));
    CHECK_EQ_U64(h.flags | h.body_len | h.session_id | h.frame_id | h.view_id |
                     h.route_id | h.trace_id,
                 0);
    uint8_t b[40];
    nnrp_header_encode(&h, b);
    nnrp_wire_opts o = strict_opts();
    nnrp_header d;
    CHECK_EQ_INT(nnrp_header_decode(&d, b, 40, &o, NULL), 0);
  }
  nnrp_header h;
  nnrp_header_init(&h, 0x30);
  CHECK_EQ_INT(h.meta_len, 0);
}

/* Fixed metadata sizes of wire.md §3 / §14. */
TEST(meta_len_table) {
  static const struct {
    uint8_t t;
    int len;
  } want[] = {{0x01, 64}, {0x02, 80}, {0x03, 36}, {0x04, 48}, {0x05, 0},
              {0x06, 32}, {0x10, 72}, {0x11, 0},  {0x12, 64}, {0x13, 0},
              {0x14, 32}, {0x15, 28}, {0x16, 20}, {0x17, 32}, {0x18, 16},
              {0x19, 16}, {0x1A, 16}, {0x1B, 24}, {0x1C, 24}, {0x20, 0},
              {0x21, 0}};
  for (size_t i = 0; i < sizeof want / sizeof want[0]; i++)
    CHECK_EQ_INT(nnrp_msg_meta_len(want[i].t), want[i].len);
  CHECK_EQ_INT(nnrp_msg_meta_len(0x00), -1);
  CHECK_EQ_INT(nnrp_msg_meta_len(0x07), -1);
  CHECK_EQ_INT(nnrp_msg_meta_len(0xFF), -1);
}

/* ---- error model: names, messages, fatal flag --------------------------- */

typedef struct err_entry {
  int value;
  const char *name;
  const char *msg;
} err_entry;

static const err_entry all_errors[] = {
#define X_(name, value, msg) {value, "NNRP_ERR_" #name, msg},
    NNRP_ERROR_TABLE(X_)
#undef X_
};
#define N_ERRORS (sizeof all_errors / sizeof all_errors[0])

TEST(err_names_and_messages) {
  CHECK_EQ_INT(N_ERRORS, 34);
  for (size_t i = 0; i < N_ERRORS; i++) {
    CHECK_EQ_STR(nnrp_err_name(all_errors[i].value), all_errors[i].name);
    CHECK_EQ_STR(nnrp_strerror(all_errors[i].value), all_errors[i].msg);
    CHECK_EQ_INT(nnrp_err_is_fatal(all_errors[i].value),
                 all_errors[i].value <= NNRP_ERR_FATAL_THRESHOLD);
    CHECK(all_errors[i].value < 0);
    for (size_t j = 0; j < i; j++)
      CHECK(all_errors[j].value != all_errors[i].value);
  }
  CHECK_EQ_STR(nnrp_err_name(0), "NNRP_OK");
  CHECK_EQ_STR(nnrp_strerror(0), "success");
  CHECK_EQ_INT(nnrp_err_is_fatal(0), 0);
  static const int unknown[] = {1, -13, -99, -117, -199, -505, -100000};
  for (size_t i = 0; i < sizeof unknown / sizeof unknown[0]; i++) {
    CHECK_EQ_STR(nnrp_err_name(unknown[i]), "NNRP_ERR_UNKNOWN");
    CHECK_EQ_STR(nnrp_strerror(unknown[i]), "unknown error");
  }
  CHECK_EQ_INT(nnrp_err_is_fatal(-500), 1);
  CHECK_EQ_INT(nnrp_err_is_fatal(-499), 0);
}

TEST(wire_code_and_scope_names) {
  static const char *const codes[] = {NULL,
                                      "UNSUPPORTED_VERSION",
                                      "AUTH_FAILED",
                                      "INVALID_STATE",
                                      "MALFORMED_HEADER",
                                      "MALFORMED_BODY",
                                      "UNSUPPORTED_CAPABILITY",
                                      "LIMIT_EXCEEDED",
                                      "FRAME_EXPIRED",
                                      "FRAME_CANCELLED",
                                      "CACHE_MISS",
                                      "SERVER_BUSY",
                                      "INTERNAL_ERROR"};
  for (uint32_t c = 1; c <= 12; c++)
    CHECK_EQ_STR(nnrp_error_code_name(c), codes[c]);
  CHECK(nnrp_error_code_name(0) == NULL);
  CHECK(nnrp_error_code_name(13) == NULL);
  CHECK(nnrp_error_code_name(0x00030001u) == NULL);
  CHECK(nnrp_error_code_name(0xFFFFFFFFu) == NULL);
  CHECK_EQ_STR(nnrp_error_scope_name(0), "CONNECTION");
  CHECK_EQ_STR(nnrp_error_scope_name(1), "SESSION");
  CHECK_EQ_STR(nnrp_error_scope_name(2), "FRAME");
  CHECK(nnrp_error_scope_name(3) == NULL);
  CHECK(nnrp_error_scope_name(0xFFFFFFFFu) == NULL);
}

/* ---- wire.md §16 mapping ------------------------------------------------ */

/* send = 0: nothing is sent. Otherwise code/scope/fatal outside the
 * handshake phase; in the handshake phase every row becomes CONNECTION and
 * fatal (D6). */
typedef struct map_want {
  int err;
  int send;
  uint32_t code;
  uint32_t scope;
  uint32_t fatal;
} map_want;

#define C_(x) NNRP_ERROR_CODE_##x
#define S_(x) NNRP_ERROR_SCOPE_##x
static const map_want map_table[] = {
    {NNRP_ERR_MALFORMED_HEADER, 1, C_(MALFORMED_HEADER), S_(CONNECTION), 1},
    {NNRP_ERR_UNSUPPORTED_VERSION, 1, C_(UNSUPPORTED_VERSION), S_(CONNECTION),
     1},
    {NNRP_ERR_PACKET_TOO_LARGE, 1, C_(LIMIT_EXCEEDED), S_(CONNECTION), 1},
    {NNRP_ERR_BODY_TOO_LARGE, 1, C_(LIMIT_EXCEEDED), S_(SESSION), 0},
    {NNRP_ERR_MALFORMED_BODY, 1, C_(MALFORMED_BODY), S_(SESSION), 0},
    {NNRP_ERR_UNSUPPORTED_CAPABILITY, 1, C_(UNSUPPORTED_CAPABILITY),
     S_(SESSION), 0},
    {NNRP_ERR_LIMIT_EXCEEDED, 1, C_(LIMIT_EXCEEDED), S_(SESSION), 0},
    {NNRP_ERR_UNEXPECTED_MESSAGE, 1, C_(INVALID_STATE), S_(SESSION), 0},
    {NNRP_ERR_FOREIGN_SESSION, 1, C_(INVALID_STATE), S_(SESSION), 0},
    {NNRP_ERR_HANDSHAKE_ORDER, 1, C_(INVALID_STATE), S_(CONNECTION), 1},
    {NNRP_ERR_FRAME_ID, 1, C_(INVALID_STATE), S_(FRAME), 0},
    {NNRP_ERR_DRAINING, 1, C_(INVALID_STATE), S_(FRAME), 0},
    {NNRP_ERR_AUTH_FAILED, 1, C_(AUTH_FAILED), S_(CONNECTION), 1},
    {NNRP_ERR_CACHE_MISS, 1, C_(CACHE_MISS), S_(FRAME), 0},
    {NNRP_ERR_SERVER_BUSY, 1, C_(SERVER_BUSY), S_(CONNECTION), 1},
    {NNRP_ERR_PEER_ERROR, 0, 0, 0, 0},
    {NNRP_ERR_TRUNCATED, 0, 0, 0, 0},
    {NNRP_ERR_INVALID_ARGUMENT, 0, 0, 0, 0},
    {NNRP_ERR_BUFFER_TOO_SMALL, 0, 0, 0, 0},
    {NNRP_ERR_INVALID_STATE, 0, 0, 0, 0},
    {NNRP_ERR_WOULD_BLOCK, 0, 0, 0, 0},
    {NNRP_ERR_TIMEOUT, 0, 0, 0, 0},
    {NNRP_ERR_NOT_FOUND, 0, 0, 0, 0},
    {NNRP_ERR_CLOSED, 0, 0, 0, 0},
    {NNRP_ERR_NO_CREDIT, 0, 0, 0, 0},
    {NNRP_ERR_TOO_MANY_IN_FLIGHT, 0, 0, 0, 0},
    {NNRP_ERR_PAUSED, 0, 0, 0, 0},
    {NNRP_ERR_TRAILING_DATA, 0, 0, 0, 0},
    {NNRP_ERR_INCONSISTENT, 0, 0, 0, 0},
    {NNRP_ERR_NOMEM, 1, C_(INTERNAL_ERROR), S_(CONNECTION), 1},
    {NNRP_ERR_CALLBACK_FAILURE, 1, C_(INTERNAL_ERROR), S_(CONNECTION), 1},
    {NNRP_ERR_INTERNAL, 1, C_(INTERNAL_ERROR), S_(CONNECTION), 1},
    {NNRP_ERR_CONNECTION_LOST, 1, C_(INTERNAL_ERROR), S_(CONNECTION), 1},
    {NNRP_ERR_FATAL_PROTOCOL, 1, C_(INTERNAL_ERROR), S_(CONNECTION), 1},
};
#undef C_
#undef S_

static void check_map(const map_want *w, unsigned phase) {
  nnrp_wire_error e = {0xAAAAAAAAu, 0xBBBBBBBBu, 0xCCCCCCCCu};
  int rc = nnrp_error_map(w->err, phase, &e);
  int ok = CHECK_EQ_INT(rc, w->send);
  if (!w->send) {
    /* out untouched when nothing is sent */
    ok &= CHECK_EQ_U64(e.error_code, 0xAAAAAAAAu);
    ok &= CHECK_EQ_U64(e.error_scope, 0xBBBBBBBBu);
    ok &= CHECK_EQ_U64(e.is_fatal, 0xCCCCCCCCu);
  } else {
    ok &= CHECK_EQ_U64(e.error_code, w->code);
    if (phase & NNRP_MAP_HANDSHAKE) {
      ok &= CHECK_EQ_U64(e.error_scope, NNRP_ERROR_SCOPE_CONNECTION);
      ok &= CHECK_EQ_U64(e.is_fatal, 1);
    } else {
      ok &= CHECK_EQ_U64(e.error_scope, w->scope);
      ok &= CHECK_EQ_U64(e.is_fatal, w->fatal);
    }
  }
  if (!ok)
    printf("  mapping of %s, phase %u\n", nnrp_err_name(w->err), phase);
}

TEST(error_map_every_error_both_phases) {
  const size_t n = sizeof map_table / sizeof map_table[0];
  /* The table above covers every NNRP_ERR_* exactly once. */
  CHECK_EQ_INT(n, N_ERRORS);
  for (size_t i = 0; i < N_ERRORS; i++) {
    int found = 0;
    for (size_t j = 0; j < n; j++)
      found += map_table[j].err == all_errors[i].value;
    if (!CHECK_EQ_INT(found, 1))
      printf("  %s\n", all_errors[i].name);
  }
  for (size_t i = 0; i < n; i++) {
    check_map(&map_table[i], 0);
    check_map(&map_table[i], NNRP_MAP_HANDSHAKE);
  }
  /* NNRP_OK sends nothing. */
  nnrp_wire_error e = {7, 7, 7};
  CHECK_EQ_INT(nnrp_error_map(0, 0, &e), 0);
  CHECK_EQ_U64(e.error_code, 7);
}

/* Every validation error (-100..-199) that is sent carries a defined
 * ErrorCode and ErrorScope. */
TEST(error_map_codes_are_defined) {
  for (size_t i = 0; i < N_ERRORS; i++) {
    nnrp_wire_error e;
    for (unsigned ph = 0; ph < 2; ph++) {
      if (nnrp_error_map(all_errors[i].value, ph, &e) == 1) {
        CHECK(nnrp_error_code_name(e.error_code) != NULL);
        CHECK(nnrp_error_scope_name(e.error_scope) != NULL);
        CHECK(e.is_fatal <= 1);
      }
    }
  }
}

/* ---- fault formatting --------------------------------------------------- */

TEST(fault_format) {
  nnrp_fault f = {NNRP_ERR_MALFORMED_BODY, 92, "wire.md §6.1 M1",
                  "submit_mode"};
  char buf[128];
  const char *want = "MALFORMED_BODY: submit_mode (wire.md §6.1 M1) at "
                     "offset 92";
  size_t n = nnrp_fault_format(&f, buf, sizeof buf);
  CHECK_EQ_STR(buf, want);
  CHECK_EQ_INT(n, strlen(want));
  /* snprintf semantics: truncated but NUL-terminated, full length
   * returned. */
  char small[10];
  memset(small, 'x', sizeof small);
  CHECK_EQ_INT(nnrp_fault_format(&f, small, sizeof small), strlen(want));
  CHECK_EQ_STR(small, "MALFORMED");
  char one[1] = {'x'};
  CHECK_EQ_INT(nnrp_fault_format(&f, one, 1), strlen(want));
  CHECK_EQ_INT(one[0], 0);
  /* cap 0: nothing written. */
  char none[1] = {'x'};
  CHECK_EQ_INT(nnrp_fault_format(&f, none, 0), strlen(want));
  CHECK_EQ_INT(none[0], 'x');

  /* A fault from a real decode formats with its own rule and field. */
  uint8_t b[40];
  valid_header(b);
  b[0] = 'X';
  nnrp_wire_opts o = strict_opts();
  nnrp_header h;
  nnrp_fault g = fresh_fault();
  CHECK_EQ_INT(nnrp_header_decode(&h, b, 40, &o, &g),
               NNRP_ERR_MALFORMED_HEADER);
  n = nnrp_fault_format(&g, buf, sizeof buf);
  CHECK(strncmp(buf, "MALFORMED_HEADER: magic (", 25) == 0);
  CHECK(strstr(buf, ") at offset 0") != NULL);
  CHECK_EQ_INT(n, strlen(buf));

  nnrp_fault t = {NNRP_ERR_PACKET_TOO_LARGE, 4294967295u, "r", "f"};
  nnrp_fault_format(&t, buf, sizeof buf);
  CHECK_EQ_STR(buf, "PACKET_TOO_LARGE: f (r) at offset 4294967295");
}

int main(void) {
  RUN(golden_frame_submit_ack_required_keyframe);
  RUN(golden_all_caller_controlled_fields);
  RUN(meta_len_not_checked_by_header);
  RUN(step1_truncated);
  RUN(step2_magic);
  RUN(step3_version_major);
  RUN(step4_wire_format);
  RUN(step5_header_len);
  RUN(step6_flags_strict);
  RUN(step6_flags_lenient_clears);
  RUN(step7_msg_type);
  RUN(step7_later_revisions_rejected);
  RUN(step8_overflow_64bit);
  RUN(step8_exactly_at_cap);
  RUN(step8_lenient_same);
  RUN(order_every_subset);
  RUN(order_lenient_skips_flags);
  RUN(order_packet_level);
  RUN(encode_decode_every_field);
  RUN(header_init_every_type);
  RUN(meta_len_table);
  RUN(err_names_and_messages);
  RUN(wire_code_and_scope_names);
  RUN(error_map_every_error_both_phases);
  RUN(error_map_codes_are_defined);
  RUN(fault_format);
  TEST_MAIN_END();
}
