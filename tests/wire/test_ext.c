/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_ext.c - the control extension TLV block (wire.md §5): every
 * `extension.*` seed-line vector (decode, compare fields, re-encode), one
 * negative test per parse rule 1-10 of §5.2 and per value rule of §5.3/§5.4,
 * lenient-mode acceptance, the iterator and the encoder.
 */
#include "harness.h"
#include "wire_check.h"

#include <nnrp/nnrp_wire.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CH NNRP_MSG_CLIENT_HELLO
#define SHA NNRP_MSG_SERVER_HELLO_ACK
#define LENIENT NNRP_WIRE_LENIENT

/* ---- block builders --------------------------------------------------------
 */

/* Appends one entry (type, flags, payload, zero padding) at *len. */
static void add(uint8_t *buf, size_t *len, uint16_t type, uint16_t flags,
                const void *payload, uint32_t n) {
  uint8_t *p = buf + *len;
  wc_put_le(p, 2, type);
  wc_put_le(p + 2, 2, flags);
  wc_put_le(p + 4, 4, n);
  if (n)
    memcpy(p + 8, payload, n);
  size_t padded = (n + 7u) & ~(size_t)7u;
  memset(p + 8 + n, 0, padded - n);
  *len += 8 + padded;
}

/* Decodes a block holding one 8-byte payload entry of type t. */
static int dec1(uint8_t msg, uint16_t t, const uint8_t pl[8], uint32_t flags,
                nnrp_hello_exts *x, nnrp_fault *f) {
  uint8_t buf[16];
  size_t len = 0;
  add(buf, &len, t, 0, pl, 8);
  return nnrp_ext_block_decode(msg, x, buf, len, flags, f);
}

/* Expects dec1() to fail with MALFORMED_BODY on field at block offset off
 * (strict), and lenient to give lenient_rc. */
static void expect_value_fault(uint8_t msg, uint16_t t, const uint8_t pl[8],
                               const char *field, uint32_t off, int lenient_rc,
                               nnrp_hello_exts *x) {
  nnrp_fault f;
  memset(&f, 0, sizeof f);
  if (!CHECK_EQ_INT(dec1(msg, t, pl, 0, x, &f), NNRP_ERR_MALFORMED_BODY))
    fprintf(stderr, "  type 0x%04x field %s\n", t, field);
  CHECK_EQ_STR(f.field, field);
  CHECK_EQ_INT(f.offset, off);
  CHECK_EQ_INT(f.err, NNRP_ERR_MALFORMED_BODY);
  if (!CHECK_EQ_INT(dec1(msg, t, pl, LENIENT, x, &f), lenient_rc))
    fprintf(stderr, "  lenient: type 0x%04x field %s\n", t, field);
}

/* ---- vectors --------------------------------------------------------------
 */

TEST(vectors_single_entries) {
  int seen = 0;
  const cJSON *v;
  cJSON_ArrayForEach(v, wc_vectors()) {
    const char *name = wc_jget(v, "name")->valuestring;
    if (strcmp(wc_jget(v, "kind")->valuestring, "extension") != 0 ||
        strncmp(name, "extension.0x", 12) != 0)
      continue;
    seen++;
    int msg = nnrp_msg_type_from_name(wc_jget(v, "message_type")->valuestring);
    CHECK(msg == CH || msg == SHA);
    uint8_t *bytes = NULL;
    size_t n = wc_vec_hex(name, &bytes);
    nnrp_hello_exts x;
    nnrp_fault f;
    if (!CHECK_EQ_INT(nnrp_ext_block_decode((uint8_t)msg, &x, bytes, n, 0, &f),
                      0)) {
      fprintf(stderr, "  %s: %s\n", name, f.rule);
      free(bytes);
      continue;
    }
    CHECK_EQ_INT(x.entry_count, 1);
    CHECK_EQ_INT(x.unknown_count, 0);
    CHECK(x.block.ptr == bytes && x.block.len == n);
    nnrp_ext_iter it;
    nnrp_ext_entry e;
    nnrp_ext_iter_init(&it, x.block);
    CHECK_EQ_INT(nnrp_ext_iter_next(&it, &e), 1);
    wc_check_ext_entry(wc_jget(v, "fields"), &e, &x);
    CHECK_EQ_INT(nnrp_ext_iter_next(&it, &e), 0);
    /* The entry names exactly one standard extension. */
    uint32_t bit = (e.ext_type == 0x0101 || e.ext_type == 0x0102)
                       ? NNRP_HELLO_EXT_TRANSPORT_POLICY
                   : (e.ext_type == 0x0103 || e.ext_type == 0x0104)
                       ? NNRP_HELLO_EXT_LOSS_TOLERANCE
                       : NNRP_HELLO_EXT_PAYLOAD_CAPS;
    CHECK_EQ_U64(x.present, bit);
    /* Re-encode from the parsed struct: byte-exact. */
    uint8_t out[64];
    CHECK_EQ_U64(nnrp_ext_block_size((uint8_t)msg, &x, NULL, 0), n);
    int w = nnrp_ext_block_encode((uint8_t)msg, &x, NULL, 0, out, sizeof out);
    if (CHECK_EQ_INT(w, (int)n))
      CHECK_EQ_MEM(out, bytes, n);
    free(bytes);
  }
  CHECK_EQ_INT(seen, 6);
}

TEST(vector_two_entries) {
  const char *name = "extension.block.two_entries";
  const cJSON *fields = wc_vec_fields(name);
  uint8_t *bytes = NULL;
  size_t n = wc_vec_hex(name, &bytes);
  uint64_t block_bytes = 0;
  CHECK(wc_jnum(wc_jget(fields, "block_bytes"), &block_bytes));
  CHECK_EQ_U64(n, block_bytes);

  /* Structure: both entries, their payloads and padding. */
  nnrp_ext_iter it;
  nnrp_ext_entry e[2];
  nnrp_ext_iter_init(&it, (nnrp_bytes){bytes, n});
  const cJSON *je;
  int i = 0;
  cJSON_ArrayForEach(je, wc_jget(fields, "entries")) {
    if (!CHECK(i < 2 && nnrp_ext_iter_next(&it, &e[i]) == 1))
      break;
    uint64_t t = 0, fl = 0, len = 0, pad = 0;
    CHECK(wc_jnum(wc_jget(je, "ext_type"), &t));
    CHECK(wc_jnum(wc_jget(je, "ext_flags"), &fl));
    CHECK(wc_jnum(wc_jget(je, "ext_len"), &len));
    CHECK(wc_jnum(wc_jget(je, "padding"), &pad));
    const char *utf8 = wc_jget(je, "payload_utf8")->valuestring;
    CHECK_EQ_U64(e[i].ext_type, t);
    CHECK_EQ_U64(e[i].ext_flags, fl);
    CHECK_EQ_U64(e[i].payload.len, len);
    CHECK_EQ_U64(((len + 7) & ~7ull) - len, pad);
    CHECK_EQ_MEM(e[i].payload.ptr, utf8, strlen(utf8));
    i++;
  }
  CHECK_EQ_INT(i, 2);
  CHECK_EQ_INT(nnrp_ext_iter_next(&it, &e[0]), 0);

  /* The whole block fails on the unknown CRITICAL 0x4001 (rule 8), in both
   * modes and in both hellos; offset = the 0x4001 entry. */
  uint8_t msgs[2] = {CH, SHA};
  for (int m = 0; m < 2; m++) {
    for (uint32_t fl = 0; fl <= LENIENT; fl++) {
      nnrp_hello_exts x;
      nnrp_fault f;
      memset(&f, 0, sizeof f);
      CHECK_EQ_INT(nnrp_ext_block_decode(msgs[m], &x, bytes, n, fl, &f),
                   NNRP_ERR_UNSUPPORTED_CAPABILITY);
      CHECK_EQ_INT(f.offset, 16);
      CHECK_EQ_STR(f.field, "ext_type");
      CHECK_EQ_STR(f.rule, "wire.md §5.2 rule 8");
    }
  }
  /* The first entry alone passes: 0x0001 is unknown and skipped. */
  nnrp_hello_exts x;
  CHECK_EQ_INT(nnrp_ext_block_decode(CH, &x, bytes, 16, 0, NULL), 0);
  CHECK_EQ_INT(x.entry_count, 1);
  CHECK_EQ_INT(x.unknown_count, 1);
  CHECK_EQ_U64(x.present, 0);

  /* Re-encode as extra entries: byte-exact. */
  uint8_t out[64];
  CHECK_EQ_U64(nnrp_ext_block_size(CH, NULL, e, 2), n);
  int w = nnrp_ext_block_encode(CH, NULL, e, 2, out, sizeof out);
  if (CHECK_EQ_INT(w, (int)n))
    CHECK_EQ_MEM(out, bytes, n);
  free(bytes);
}

/* ---- §5.2 parse rules -----------------------------------------------------
 */

static const uint8_t ok_0101[8] = {2, 0, 0, 0, 2, 0, 0, 0};

TEST(rule1_short_entry_header) {
  uint8_t buf[32];
  size_t len = 0;
  nnrp_hello_exts x;
  nnrp_fault f;
  memset(buf, 0, sizeof buf);
  /* 4 bytes: no room for an entry header. */
  CHECK_EQ_INT(nnrp_ext_block_decode(CH, &x, buf, 4, 0, &f),
               NNRP_ERR_MALFORMED_BODY);
  CHECK_EQ_STR(f.rule, "wire.md §5.2 rule 1");
  CHECK_EQ_INT(f.offset, 0);
  /* A valid entry followed by 7 stray bytes, both modes. */
  add(buf, &len, 0x0101, 0, ok_0101, 8);
  for (uint32_t fl = 0; fl <= LENIENT; fl++) {
    CHECK_EQ_INT(nnrp_ext_block_decode(CH, &x, buf, len + 7, fl, &f),
                 NNRP_ERR_MALFORMED_BODY);
    CHECK_EQ_STR(f.rule, "wire.md §5.2 rule 1");
    CHECK_EQ_INT(f.offset, 16);
  }
}

TEST(rule2_payload_past_end) {
  uint8_t buf[16];
  size_t len = 0;
  nnrp_hello_exts x;
  nnrp_fault f;
  add(buf, &len, 0x0001, 0, "abcdefgh", 8);
  buf[4] = 9; /* ext_len 9 in a 16-byte block */
  for (uint32_t fl = 0; fl <= LENIENT; fl++) {
    CHECK_EQ_INT(nnrp_ext_block_decode(CH, &x, buf, len, fl, &f),
                 NNRP_ERR_MALFORMED_BODY);
    CHECK_EQ_STR(f.rule, "wire.md §5.2 rule 2");
    CHECK_EQ_STR(f.field, "ext_len");
    CHECK_EQ_INT(f.offset, 4);
  }
  /* A huge ext_len must not wrap. */
  buf[4] = 0xF8;
  buf[5] = buf[6] = buf[7] = 0xFF;
  CHECK_EQ_INT(nnrp_ext_block_decode(CH, &x, buf, len, 0, &f),
               NNRP_ERR_MALFORMED_BODY);
  CHECK_EQ_STR(f.rule, "wire.md §5.2 rule 2");
}

TEST(rule3_padding_past_end) {
  uint8_t buf[16];
  size_t len = 0;
  nnrp_hello_exts x;
  nnrp_fault f;
  add(buf, &len, 0x0001, 0, "abc", 3);
  /* Payload (3) fits in 12 bytes, its padding (to 8) does not. */
  for (uint32_t fl = 0; fl <= LENIENT; fl++) {
    CHECK_EQ_INT(nnrp_ext_block_decode(CH, &x, buf, 12, fl, &f),
                 NNRP_ERR_MALFORMED_BODY);
    CHECK_EQ_STR(f.rule, "wire.md §5.2 rule 3");
    CHECK_EQ_STR(f.field, "padding");
    CHECK_EQ_INT(f.offset, 11);
  }
}

TEST(rule4_padding_not_zero) {
  uint8_t buf[16];
  size_t len = 0;
  nnrp_hello_exts x;
  nnrp_fault f;
  add(buf, &len, 0x0001, 0, "abc", 3);
  CHECK_EQ_INT(nnrp_ext_block_decode(CH, &x, buf, len, 0, &f), 0);
  buf[15] = 0x01; /* last padding byte; rejected in both modes */
  for (uint32_t fl = 0; fl <= LENIENT; fl++) {
    CHECK_EQ_INT(nnrp_ext_block_decode(CH, &x, buf, len, fl, &f),
                 NNRP_ERR_MALFORMED_BODY);
    CHECK_EQ_STR(f.rule, "wire.md §5.2 rule 4");
    CHECK_EQ_INT(f.offset, 11);
  }
}

TEST(rule5_unknown_ext_flags) {
  uint8_t buf[16];
  size_t len = 0;
  nnrp_hello_exts x;
  nnrp_fault f;
  add(buf, &len, 0x0001, 0x0002, "abc", 3);
  CHECK_EQ_INT(nnrp_ext_block_decode(CH, &x, buf, len, 0, &f),
               NNRP_ERR_MALFORMED_BODY);
  CHECK_EQ_STR(f.rule, "wire.md §5.2 rule 5");
  CHECK_EQ_STR(f.field, "ext_flags");
  CHECK_EQ_INT(f.offset, 2);
  /* Lenient clears the bit: a non-critical unknown entry, skipped. */
  CHECK_EQ_INT(nnrp_ext_block_decode(CH, &x, buf, len, LENIENT, &f), 0);
  CHECK_EQ_INT(x.unknown_count, 1);
  /* Lenient keeps CRITICAL: 0x8003 on an unknown type is still critical. */
  len = 0;
  add(buf, &len, 0x0001, 0x8003, "abc", 3);
  CHECK_EQ_INT(nnrp_ext_block_decode(CH, &x, buf, len, LENIENT, &f),
               NNRP_ERR_UNSUPPORTED_CAPABILITY);
  /* A known type with a reserved flag bit: strict rejects too. */
  len = 0;
  add(buf, &len, 0x0101, 0x0010, ok_0101, 8);
  CHECK_EQ_INT(nnrp_ext_block_decode(CH, &x, buf, len, 0, &f),
               NNRP_ERR_MALFORMED_BODY);
  CHECK_EQ_STR(f.rule, "wire.md §5.2 rule 5");
  CHECK_EQ_INT(nnrp_ext_block_decode(CH, &x, buf, len, LENIENT, &f), 0);
  CHECK_EQ_U64(x.present, NNRP_HELLO_EXT_TRANSPORT_POLICY);
}

TEST(rule6_known_type_in_wrong_message) {
  /* Server types in CLIENT_HELLO and client types in SERVER_HELLO_ACK are
   * unknown: skipped when non-critical (even with invalid values), fatal
   * when critical. */
  static const struct {
    uint8_t msg;
    uint16_t type;
  } cases[] = {{CH, 0x0102},  {CH, 0x0104},  {CH, 0x0106}, {CH, 0x8001},
               {SHA, 0x0101}, {SHA, 0x0103}, {SHA, 0x0105}};
  static const uint8_t bad[8] = {9, 9, 9, 9, 9, 9, 9, 9};
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    uint8_t buf[16];
    size_t len = 0;
    nnrp_hello_exts x;
    nnrp_fault f;
    add(buf, &len, cases[i].type, 0, bad, 8);
    if (!CHECK_EQ_INT(nnrp_ext_block_decode(cases[i].msg, &x, buf, len, 0, &f),
                      0))
      fprintf(stderr, "  type 0x%04x\n", cases[i].type);
    CHECK_EQ_INT(x.unknown_count, 1);
    CHECK_EQ_U64(x.present, 0);
    len = 0;
    add(buf, &len, cases[i].type, NNRP_EXT_FLAG_CRITICAL, bad, 8);
    CHECK_EQ_INT(nnrp_ext_block_decode(cases[i].msg, &x, buf, len, 0, &f),
                 NNRP_ERR_UNSUPPORTED_CAPABILITY);
  }
}

TEST(rule7_unknown_non_critical_skipped) {
  uint8_t buf[64];
  size_t len = 0;
  nnrp_hello_exts x;
  add(buf, &len, 0x0000, 0, NULL, 0); /* reserved type = unknown */
  add(buf, &len, 0x4000, 0, "x", 1);
  add(buf, &len, 0x0101, 0, ok_0101, 8);
  add(buf, &len, 0xC000, 0, "debug", 5);
  CHECK_EQ_INT(nnrp_ext_block_decode(CH, &x, buf, len, 0, NULL), 0);
  CHECK_EQ_INT(x.entry_count, 4);
  CHECK_EQ_INT(x.unknown_count, 3);
  CHECK_EQ_U64(x.present, NNRP_HELLO_EXT_TRANSPORT_POLICY);
  CHECK_EQ_INT(x.transport_policy.transport_policy, 2);
}

TEST(rule8_unknown_critical) {
  uint8_t buf[64];
  size_t len = 0;
  nnrp_hello_exts x;
  nnrp_fault f;
  add(buf, &len, 0x0101, 0, ok_0101, 8);
  add(buf, &len, 0x0000, NNRP_EXT_FLAG_CRITICAL, NULL, 0);
  CHECK_EQ_INT(nnrp_ext_block_decode(CH, &x, buf, len, 0, &f),
               NNRP_ERR_UNSUPPORTED_CAPABILITY);
  CHECK_EQ_INT(f.offset, 16);
  /* Step order (§15): a structure fault after the critical entry is step
   * 16 and wins over the negotiation failure of step 17. */
  add(buf, &len, 0x0001, 0, "abc", 3);
  buf[len - 1] = 0x7F; /* padding not zero */
  CHECK_EQ_INT(nnrp_ext_block_decode(CH, &x, buf, len, 0, &f),
               NNRP_ERR_MALFORMED_BODY);
  CHECK_EQ_STR(f.rule, "wire.md §5.2 rule 4");
  /* So does a bad value of a known entry after it. */
  len = 0;
  add(buf, &len, 0x7777, NNRP_EXT_FLAG_CRITICAL, NULL, 0);
  add(buf, &len, 0x0103, 0, (const uint8_t[8]){7, 0, 0, 0, 0, 0, 0, 0}, 8);
  CHECK_EQ_INT(nnrp_ext_block_decode(CH, &x, buf, len, 0, &f),
               NNRP_ERR_MALFORMED_BODY);
  CHECK_EQ_STR(f.field, "session_loss_tolerance");
  /* A known type with CRITICAL set is known: accepted. */
  len = 0;
  add(buf, &len, 0x0101, NNRP_EXT_FLAG_CRITICAL, ok_0101, 8);
  CHECK_EQ_INT(nnrp_ext_block_decode(CH, &x, buf, len, 0, &f), 0);
}

TEST(rule9_known_type_wrong_length) {
  static const uint16_t types[] = {0x0101, 0x0103, 0x0105,
                                   0x0102, 0x0104, 0x0106};
  uint8_t zeros[16] = {0};
  for (size_t i = 0; i < 6; i++) {
    uint8_t msg = i < 3 ? CH : SHA;
    uint32_t lens[] = {0, 4, 7, 9, 16};
    for (size_t k = 0; k < 5; k++) {
      uint8_t buf[32];
      size_t len = 0;
      nnrp_hello_exts x;
      nnrp_fault f;
      add(buf, &len, types[i], 0, zeros, lens[k]);
      for (uint32_t fl = 0; fl <= LENIENT; fl++) {
        if (!CHECK_EQ_INT(nnrp_ext_block_decode(msg, &x, buf, len, fl, &f),
                          NNRP_ERR_MALFORMED_BODY))
          fprintf(stderr, "  type 0x%04x len %u\n", types[i], lens[k]);
        CHECK_EQ_STR(f.rule, "wire.md §5.2 rule 9");
        CHECK_EQ_STR(f.field, "ext_len");
        CHECK_EQ_INT(f.offset, 4);
      }
    }
  }
}

TEST(rule10_first_occurrence_wins) {
  uint8_t buf[64];
  size_t len = 0;
  nnrp_hello_exts x;
  add(buf, &len, 0x0101, 0, ok_0101, 8);
  /* Later duplicates are ignored: another value, a bad value, a bad
   * length. */
  add(buf, &len, 0x0101, 0, (const uint8_t[8]){1, 0, 0, 0, 1, 0, 0, 0}, 8);
  add(buf, &len, 0x0101, 0, (const uint8_t[8]){9, 9, 9, 9, 9, 9, 9, 9}, 8);
  add(buf, &len, 0x0101, 0, "abc", 3);
  CHECK_EQ_INT(nnrp_ext_block_decode(CH, &x, buf, len, 0, NULL), 0);
  CHECK_EQ_INT(x.entry_count, 4);
  CHECK_EQ_INT(x.unknown_count, 0);
  CHECK_EQ_INT(x.transport_policy.transport_policy, 2);
  CHECK_EQ_INT(x.transport_policy.transport_id, 2);
  /* The first occurrence is the one validated. */
  len = 0;
  add(buf, &len, 0x0101, 0, (const uint8_t[8]){9, 0, 0, 0, 0, 0, 0, 0}, 8);
  add(buf, &len, 0x0101, 0, ok_0101, 8);
  CHECK_EQ_INT(nnrp_ext_block_decode(CH, &x, buf, len, 0, NULL),
               NNRP_ERR_MALFORMED_BODY);
}

/* ---- §5.3 value rules -----------------------------------------------------
 */

TEST(value_0101_client_transport_policy) {
  nnrp_hello_exts x;
  /* Every policy 0..4 and preferred id 0..2 is valid. */
  for (uint8_t pol = 0; pol <= 4; pol++)
    for (uint8_t id = 0; id <= 2; id++) {
      uint8_t pl[8] = {pol, 0, 0, 0, id, 0, 0, 0};
      CHECK_EQ_INT(dec1(CH, 0x0101, pl, 0, &x, NULL), 0);
      CHECK_EQ_INT(x.transport_policy.transport_policy, pol);
      CHECK_EQ_INT(x.transport_policy.transport_id, id);
    }
  /* Enums: both modes. */
  expect_value_fault(CH, 0x0101, (const uint8_t[8]){5, 0, 0, 0, 0, 0, 0, 0},
                     "transport_policy", 8, NNRP_ERR_MALFORMED_BODY, &x);
  expect_value_fault(CH, 0x0101, (const uint8_t[8]){0, 0, 0, 0, 3, 0, 0, 0},
                     "preferred_transport_id", 12, NNRP_ERR_MALFORMED_BODY, &x);
  expect_value_fault(CH, 0x0101, (const uint8_t[8]){0, 0, 0, 0, 0, 0, 0, 1},
                     "preferred_transport_id", 12, NNRP_ERR_MALFORMED_BODY, &x);
  /* Reserved bytes: strict only; lenient keeps the value. */
  expect_value_fault(CH, 0x0101, (const uint8_t[8]){1, 7, 0, 0, 1, 0, 0, 0},
                     "reserved", 9, 0, &x);
  CHECK_EQ_INT(x.transport_policy.accepted_transport_policy, 7);
  expect_value_fault(CH, 0x0101, (const uint8_t[8]){1, 0, 0, 1, 1, 0, 0, 0},
                     "reserved", 10, 0, &x);
  CHECK_EQ_INT(x.transport_policy.reserved, 0x0100);
}

TEST(value_0102_server_transport_policy) {
  nnrp_hello_exts x;
  uint8_t ok[8] = {4, 3, 0, 0, 1, 0, 0, 0};
  CHECK_EQ_INT(dec1(SHA, 0x0102, ok, 0, &x, NULL), 0);
  CHECK_EQ_INT(x.transport_policy.accepted_transport_policy, 3);
  expect_value_fault(SHA, 0x0102, (const uint8_t[8]){5, 0, 0, 0, 1, 0, 0, 0},
                     "transport_policy", 8, NNRP_ERR_MALFORMED_BODY, &x);
  expect_value_fault(SHA, 0x0102, (const uint8_t[8]){0, 5, 0, 0, 1, 0, 0, 0},
                     "accepted_transport_policy", 9, NNRP_ERR_MALFORMED_BODY,
                     &x);
  expect_value_fault(SHA, 0x0102, (const uint8_t[8]){0, 0, 1, 0, 1, 0, 0, 0},
                     "reserved", 10, 0, &x);
  /* active id: {1,2}; 0 tolerated in lenient mode only; 3 never. */
  expect_value_fault(SHA, 0x0102, (const uint8_t[8]){0, 0, 0, 0, 0, 0, 0, 0},
                     "active_transport_id", 12, 0, &x);
  CHECK_EQ_INT(x.transport_policy.transport_id, 0);
  expect_value_fault(SHA, 0x0102, (const uint8_t[8]){0, 0, 0, 0, 3, 0, 0, 0},
                     "active_transport_id", 12, NNRP_ERR_MALFORMED_BODY, &x);
}

TEST(value_0103_0104_loss_tolerance) {
  static const struct {
    uint8_t msg;
    uint16_t type;
    const char *field;
  } c[] = {{CH, 0x0103, "session_loss_tolerance"},
           {SHA, 0x0104, "accepted_loss_tolerance"}};
  for (int i = 0; i < 2; i++) {
    nnrp_hello_exts x;
    for (uint8_t v = 0; v <= 3; v++) {
      uint8_t pl[8] = {v, 0, 0, 0, 0, 0, 0, 0};
      CHECK_EQ_INT(dec1(c[i].msg, c[i].type, pl, 0, &x, NULL), 0);
      CHECK_EQ_INT(x.loss_tolerance.loss_tolerance, v);
      CHECK_EQ_U64(x.present, NNRP_HELLO_EXT_LOSS_TOLERANCE);
    }
    /* 4 and INHERIT (0xFF, FRAME_SUBMIT only) are unknown: both modes. */
    expect_value_fault(c[i].msg, c[i].type,
                       (const uint8_t[8]){4, 0, 0, 0, 0, 0, 0, 0}, c[i].field,
                       8, NNRP_ERR_MALFORMED_BODY, &x);
    expect_value_fault(c[i].msg, c[i].type,
                       (const uint8_t[8]){0xFF, 0, 0, 0, 0, 0, 0, 0},
                       c[i].field, 8, NNRP_ERR_MALFORMED_BODY, &x);
    /* The three reserved fields: strict only. */
    expect_value_fault(c[i].msg, c[i].type,
                       (const uint8_t[8]){1, 1, 0, 0, 0, 0, 0, 0}, "reserved",
                       9, 0, &x);
    CHECK_EQ_INT(x.loss_tolerance.reserved0, 1);
    expect_value_fault(c[i].msg, c[i].type,
                       (const uint8_t[8]){1, 0, 0, 2, 0, 0, 0, 0}, "reserved",
                       10, 0, &x);
    CHECK_EQ_INT(x.loss_tolerance.reserved1, 0x0200);
    expect_value_fault(c[i].msg, c[i].type,
                       (const uint8_t[8]){1, 0, 0, 0, 0, 0, 0, 0x80},
                       "reserved", 12, 0, &x);
    CHECK_EQ_U64(x.loss_tolerance.reserved2, 0x80000000u);
  }
}

TEST(value_0105_0106_payload_caps) {
  static const struct {
    uint8_t msg;
    uint16_t type;
    const char *bitmap;
    const char *critical;
  } c[] = {
      {CH, 0x0105, "payload_kind_bitmap", "critical_extension_frame_bitmap"},
      {SHA, 0x0106, "accepted_payload_kind_bitmap",
       "accepted_critical_extension_frame_bitmap"}};
  for (int i = 0; i < 2; i++) {
    nnrp_hello_exts x;
    uint8_t ok[8] = {0x7F, 0, 0, 0, 0, 0, 0, 0};
    CHECK_EQ_INT(dec1(c[i].msg, c[i].type, ok, 0, &x, NULL), 0);
    CHECK_EQ_U64(x.payload_caps.payload_kind_bitmap, 0x7F);
    uint8_t zero[8] = {0};
    CHECK_EQ_INT(dec1(c[i].msg, c[i].type, zero, 0, &x, NULL), 0);
    /* Unknown kind bits and a non-zero critical bitmap: both modes. */
    expect_value_fault(c[i].msg, c[i].type,
                       (const uint8_t[8]){0x80, 0, 0, 0, 0, 0, 0, 0},
                       c[i].bitmap, 8, NNRP_ERR_MALFORMED_BODY, &x);
    expect_value_fault(c[i].msg, c[i].type,
                       (const uint8_t[8]){1, 0, 0, 0x01, 0, 0, 0, 0},
                       c[i].bitmap, 8, NNRP_ERR_MALFORMED_BODY, &x);
    expect_value_fault(c[i].msg, c[i].type,
                       (const uint8_t[8]){1, 0, 0, 0, 1, 0, 0, 0},
                       c[i].critical, 12, NNRP_ERR_MALFORMED_BODY, &x);
    expect_value_fault(c[i].msg, c[i].type,
                       (const uint8_t[8]){1, 0, 0, 0, 0, 0, 0, 0x80},
                       c[i].critical, 12, NNRP_ERR_MALFORMED_BODY, &x);
  }
}

TEST(value_8001_model_name) {
  uint8_t buf[8 + 256 + 8];
  uint8_t name[256];
  memset(name, 'm', sizeof name);
  size_t len;
  nnrp_hello_exts x;
  nnrp_fault f;
  /* 1 and 255 bytes: accepted, view into the block, padded. */
  size_t ok_lens[] = {1, 5, 8, 255};
  for (size_t i = 0; i < 4; i++) {
    len = 0;
    add(buf, &len, 0x8001, 0, name, (uint32_t)ok_lens[i]);
    CHECK_EQ_INT(nnrp_ext_block_decode(SHA, &x, buf, len, 0, &f), 0);
    CHECK_EQ_U64(x.present, NNRP_HELLO_EXT_MODEL_NAME);
    CHECK(x.model_name.ptr == buf + 8);
    CHECK_EQ_U64(x.model_name.len, ok_lens[i]);
  }
  /* 0 and 256 bytes: malformed in both modes. */
  size_t bad_lens[] = {0, 256};
  for (size_t i = 0; i < 2; i++) {
    len = 0;
    add(buf, &len, 0x8001, 0, name, (uint32_t)bad_lens[i]);
    for (uint32_t fl = 0; fl <= LENIENT; fl++) {
      CHECK_EQ_INT(nnrp_ext_block_decode(SHA, &x, buf, len, fl, &f),
                   NNRP_ERR_MALFORMED_BODY);
      CHECK_EQ_STR(f.rule, "wire.md §5.4");
      CHECK_EQ_STR(f.field, "ext_len");
    }
  }
}

TEST(block_edge_cases) {
  nnrp_hello_exts x;
  nnrp_fault f;
  /* An empty block (NULL allowed) is valid and has no entries. */
  CHECK_EQ_INT(nnrp_ext_block_decode(CH, &x, NULL, 0, 0, &f), 0);
  CHECK_EQ_INT(x.entry_count, 0);
  CHECK_EQ_U64(x.present, 0);
  /* Not a hello. */
  uint8_t buf[16] = {0};
  CHECK_EQ_INT(nnrp_ext_block_decode(NNRP_MSG_PING, &x, buf, 16, 0, &f),
               NNRP_ERR_INVALID_ARGUMENT);
  CHECK_EQ_INT(nnrp_ext_block_decode(CH, &x, NULL, 8, 0, &f),
               NNRP_ERR_INVALID_ARGUMENT);
  /* The fault pointer is optional. */
  CHECK_EQ_INT(nnrp_ext_block_decode(CH, &x, buf, 4, 0, NULL),
               NNRP_ERR_MALFORMED_BODY);
  /* All six standard client entries decoded together. */
  size_t len = 0;
  uint8_t blk[64];
  add(blk, &len, 0x0105, 0, (const uint8_t[8]){0x21, 0, 0, 0, 0, 0, 0, 0}, 8);
  add(blk, &len, 0x0103, 0, (const uint8_t[8]){3, 0, 0, 0, 0, 0, 0, 0}, 8);
  add(blk, &len, 0x0101, 0, ok_0101, 8);
  CHECK_EQ_INT(nnrp_ext_block_decode(CH, &x, blk, len, 0, &f), 0);
  CHECK_EQ_U64(x.present, NNRP_HELLO_EXT_TRANSPORT_POLICY |
                              NNRP_HELLO_EXT_LOSS_TOLERANCE |
                              NNRP_HELLO_EXT_PAYLOAD_CAPS);
  CHECK_EQ_INT(x.loss_tolerance.loss_tolerance, 3);
  CHECK_EQ_U64(x.payload_caps.payload_kind_bitmap, 0x21);
}

/* ---- iterator and encoder --------------------------------------------------
 */

TEST(iterator) {
  uint8_t buf[64];
  size_t len = 0;
  add(buf, &len, 0x0101, 0, ok_0101, 8);
  add(buf, &len, 0x4444, 1, NULL, 0);
  add(buf, &len, 0x9000, 0, "hello", 5);
  nnrp_ext_iter it;
  nnrp_ext_entry e;
  nnrp_ext_iter_init(&it, (nnrp_bytes){buf, len});
  CHECK_EQ_INT(nnrp_ext_iter_next(&it, &e), 1);
  CHECK_EQ_U64(e.ext_type, 0x0101);
  CHECK(e.payload.ptr == buf + 8 && e.payload.len == 8);
  CHECK_EQ_INT(nnrp_ext_iter_next(&it, &e), 1);
  CHECK_EQ_U64(e.ext_type, 0x4444);
  CHECK_EQ_U64(e.ext_flags, 1);
  CHECK_EQ_U64(e.payload.len, 0);
  CHECK_EQ_INT(nnrp_ext_iter_next(&it, &e), 1);
  CHECK_EQ_U64(e.ext_type, 0x9000);
  CHECK(e.payload.ptr == buf + 32);
  CHECK_EQ_MEM(e.payload.ptr, "hello", 5);
  CHECK_EQ_INT(nnrp_ext_iter_next(&it, &e), 0);
  CHECK_EQ_INT(nnrp_ext_iter_next(&it, &e), 0);
  nnrp_ext_iter_init(&it, (nnrp_bytes){NULL, 0});
  CHECK_EQ_INT(nnrp_ext_iter_next(&it, &e), 0);
  /* A misused iterator (truncated block) stops instead of overrunning. */
  nnrp_ext_iter_init(&it, (nnrp_bytes){buf, 12});
  CHECK_EQ_INT(nnrp_ext_iter_next(&it, &e), 0);
}

TEST(encode_client_standard_order) {
  nnrp_hello_exts x;
  memset(&x, 0, sizeof x);
  x.present = NNRP_HELLO_EXT_PAYLOAD_CAPS | NNRP_HELLO_EXT_LOSS_TOLERANCE |
              NNRP_HELLO_EXT_TRANSPORT_POLICY | NNRP_HELLO_EXT_MODEL_NAME;
  x.transport_policy.transport_policy = 3;
  x.transport_policy.transport_id = 1;
  x.loss_tolerance.loss_tolerance = 2;
  x.payload_caps.payload_kind_bitmap = 0x21;
  x.model_name = (nnrp_bytes){(const uint8_t *)"m", 1}; /* not for CH */
  nnrp_ext_entry extra = {0x4001, 0, {(const uint8_t *)"xyz", 3}};
  static const uint8_t want[] = {
      0x01, 0x01, 0, 0, 8, 0, 0, 0, 3,    0,   0,   0, 1, 0, 0, 0, /* 0x0101 */
      0x03, 0x01, 0, 0, 8, 0, 0, 0, 2,    0,   0,   0, 0, 0, 0, 0, /* 0x0103 */
      0x05, 0x01, 0, 0, 8, 0, 0, 0, 0x21, 0,   0,   0, 0, 0, 0, 0, /* 0x0105 */
      0x01, 0x40, 0, 0, 3, 0, 0, 0, 'x',  'y', 'z', 0, 0, 0, 0, 0};
  uint8_t out[128];
  memset(out, 0xEE, sizeof out);
  CHECK_EQ_U64(nnrp_ext_block_size(CH, &x, &extra, 1), sizeof want);
  CHECK_EQ_INT(nnrp_ext_block_encode(CH, &x, &extra, 1, out, sizeof out),
               (int)sizeof want);
  CHECK_EQ_MEM(out, want, sizeof want);
  /* Round trip: the standard part decodes to the same values. */
  nnrp_hello_exts y;
  CHECK_EQ_INT(nnrp_ext_block_decode(CH, &y, out, 48, 0, NULL), 0);
  CHECK_EQ_U64(y.present, x.present & ~(uint32_t)NNRP_HELLO_EXT_MODEL_NAME);
  CHECK_EQ_INT(y.transport_policy.transport_policy, 3);
  CHECK_EQ_INT(y.loss_tolerance.loss_tolerance, 2);
}

TEST(encode_server_with_model_name) {
  nnrp_hello_exts x;
  memset(&x, 0, sizeof x);
  x.present = NNRP_HELLO_EXT_MODEL_NAME | NNRP_HELLO_EXT_TRANSPORT_POLICY |
              NNRP_HELLO_EXT_PAYLOAD_CAPS | NNRP_HELLO_EXT_LOSS_TOLERANCE;
  x.transport_policy.transport_policy = 1;
  x.transport_policy.accepted_transport_policy = 1;
  x.transport_policy.transport_id = 2;
  x.loss_tolerance.loss_tolerance = 1;
  x.payload_caps.payload_kind_bitmap = 3;
  x.model_name = (nnrp_bytes){(const uint8_t *)"sr-x4-v2", 8};
  uint8_t out[128];
  size_t n = nnrp_ext_block_size(SHA, &x, NULL, 0);
  CHECK_EQ_U64(n, 16 * 3 + 16);
  CHECK_EQ_INT(nnrp_ext_block_encode(SHA, &x, NULL, 0, out, sizeof out),
               (int)n);
  static const uint16_t order[] = {0x0102, 0x0104, 0x0106, 0x8001};
  nnrp_ext_iter it;
  nnrp_ext_entry e;
  nnrp_ext_iter_init(&it, (nnrp_bytes){out, n});
  for (int i = 0; i < 4; i++) {
    CHECK_EQ_INT(nnrp_ext_iter_next(&it, &e), 1);
    CHECK_EQ_U64(e.ext_type, order[i]);
    CHECK_EQ_U64(e.ext_flags, 0);
  }
  nnrp_hello_exts y;
  CHECK_EQ_INT(nnrp_ext_block_decode(SHA, &y, out, n, 0, NULL), 0);
  CHECK_EQ_U64(y.present, x.present);
  CHECK_EQ_MEM(y.model_name.ptr, "sr-x4-v2", 8);
  CHECK_EQ_INT(y.transport_policy.transport_id, 2);
  /* A 3-byte name is padded with zeros. */
  x.present = NNRP_HELLO_EXT_MODEL_NAME;
  x.model_name = (nnrp_bytes){(const uint8_t *)"abc", 3};
  memset(out, 0xEE, sizeof out);
  CHECK_EQ_INT(nnrp_ext_block_encode(SHA, &x, NULL, 0, out, sizeof out), 16);
  static const uint8_t want[] = {0x01, 0x80, 0,   0, 3, 0, 0, 0,
                                 'a',  'b',  'c', 0, 0, 0, 0, 0};
  CHECK_EQ_MEM(out, want, 16);
}

TEST(encode_errors) {
  nnrp_hello_exts x;
  memset(&x, 0, sizeof x);
  x.present = NNRP_HELLO_EXT_TRANSPORT_POLICY;
  uint8_t out[16];
  memset(out, 0xEE, sizeof out);
  CHECK_EQ_INT(nnrp_ext_block_encode(CH, &x, NULL, 0, out, 15),
               NNRP_ERR_BUFFER_TOO_SMALL);
  CHECK_EQ_U64(out[0], 0xEE); /* nothing written */
  CHECK_EQ_INT(nnrp_ext_block_encode(NNRP_MSG_ERROR, &x, NULL, 0, out, 16),
               NNRP_ERR_INVALID_ARGUMENT);
  CHECK_EQ_U64(nnrp_ext_block_size(NNRP_MSG_ERROR, &x, NULL, 0), 0);
  CHECK_EQ_INT(nnrp_ext_block_encode(CH, &x, NULL, 2, out, 16),
               NNRP_ERR_INVALID_ARGUMENT);
  /* Nothing to encode. */
  CHECK_EQ_INT(nnrp_ext_block_encode(CH, NULL, NULL, 0, NULL, 0), 0);
  CHECK_EQ_U64(nnrp_ext_block_size(SHA, NULL, NULL, 0), 0);
}

int main(void) {
  RUN(vectors_single_entries);
  RUN(vector_two_entries);
  RUN(rule1_short_entry_header);
  RUN(rule2_payload_past_end);
  RUN(rule3_padding_past_end);
  RUN(rule4_padding_not_zero);
  RUN(rule5_unknown_ext_flags);
  RUN(rule6_known_type_in_wrong_message);
  RUN(rule7_unknown_non_critical_skipped);
  RUN(rule8_unknown_critical);
  RUN(rule9_known_type_wrong_length);
  RUN(rule10_first_occurrence_wins);
  RUN(value_0101_client_transport_policy);
  RUN(value_0102_server_transport_policy);
  RUN(value_0103_0104_loss_tolerance);
  RUN(value_0105_0106_payload_caps);
  RUN(value_8001_model_name);
  RUN(block_edge_cases);
  RUN(iterator);
  RUN(encode_client_standard_order);
  RUN(encode_server_with_model_name);
  RUN(encode_errors);
  wc_vectors_free();
  TEST_MAIN_END();
}
