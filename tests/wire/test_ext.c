/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_ext.c - the control extension TLV block (wire.md §5): every
 * `extension.*` seed-line vector (decode, compare fields, re-encode), one
 * negative test per parse rule 1-10 of §5.2 and per value rule of §5.3/§5.4,
 * lenient-mode acceptance, the iterator and the encoder.
 */
#include "harness.h"
#include "vectors.h"

#include <nnrp/nnrp_wire.h>

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CH NNRP_MSG_CLIENT_HELLO
#define SHA NNRP_MSG_SERVER_HELLO_ACK
#define LENIENT NNRP_WIRE_LENIENT

static cJSON *g_root;

/* ---- JSON helpers ---------------------------------------------------------
 */

static const cJSON *vector(const char *name) {
  const cJSON *v;
  cJSON_ArrayForEach(v, cJSON_GetObjectItemCaseSensitive(g_root, "vectors")) {
    const cJSON *n = cJSON_GetObjectItemCaseSensitive(v, "name");
    if (cJSON_IsString(n) && strcmp(n->valuestring, name) == 0)
      return v;
  }
  harness_die(__FILE__, __LINE__, name);
}

static const char *vstr(const cJSON *v, const char *key) {
  const cJSON *s = cJSON_GetObjectItemCaseSensitive(v, key);
  return cJSON_IsString(s) ? s->valuestring : NULL;
}

/* A JSON integer: a number, or a string whose first token is a decimal or
 * 0x number ("2 PREFER_TCP", "0x0001 CRITICAL"). */
static int json_u64(const cJSON *v, uint64_t *out) {
  if (cJSON_IsNumber(v)) {
    *out = (uint64_t)v->valuedouble;
    return v->valuedouble >= 0;
  }
  if (cJSON_IsString(v)) {
    char *end = NULL;
    unsigned long long x = strtoull(v->valuestring, &end, 0);
    *out = (uint64_t)x;
    return end != v->valuestring;
  }
  return 0;
}

static int check_json_value(const char *vec, const char *field,
                            const cJSON *expect, uint64_t actual) {
  uint64_t want = 0;
  if (!CHECK(json_u64(expect, &want))) {
    fprintf(stderr, "  %s: field %s is not an integer\n", vec, field);
    return 0;
  }
  if (!CHECK_EQ_U64(actual, want)) {
    fprintf(stderr, "  %s: field %s\n", vec, field);
    return 0;
  }
  return 1;
}

/* ---- field table: JSON field name -> nnrp_hello_exts member -----------------
 */

typedef struct fdesc {
  const char *name;
  size_t off;
  size_t size;
} fdesc;

#define FD(json, member)                                                       \
  {                                                                            \
    json, offsetof(nnrp_hello_exts, member),                                   \
        sizeof(((nnrp_hello_exts *)0)->member)                                 \
  }

static const fdesc ext_fields[] = {
    FD("transport_policy", transport_policy.transport_policy),
    FD("reserved_u8", transport_policy.accepted_transport_policy),
    FD("accepted_transport_policy", transport_policy.accepted_transport_policy),
    FD("reserved_u16", transport_policy.reserved),
    FD("preferred_transport_id", transport_policy.transport_id),
    FD("active_transport_id", transport_policy.transport_id),
    FD("session_loss_tolerance", loss_tolerance.loss_tolerance),
    FD("accepted_loss_tolerance", loss_tolerance.loss_tolerance),
    FD("payload_kind_bitmap", payload_caps.payload_kind_bitmap),
    FD("critical_extension_frame_bitmap",
       payload_caps.critical_extension_frame_bitmap),
    FD("accepted_payload_kind_bitmap", payload_caps.payload_kind_bitmap),
    FD("accepted_critical_extension_frame_bitmap",
       payload_caps.critical_extension_frame_bitmap),
};

static uint64_t fget(const void *base, const fdesc *d) {
  const uint8_t *p = (const uint8_t *)base + d->off;
  uint8_t v8;
  uint16_t v16;
  uint32_t v32;
  uint64_t v64;
  switch (d->size) {
  case 1:
    memcpy(&v8, p, 1);
    return v8;
  case 2:
    memcpy(&v16, p, 2);
    return v16;
  case 4:
    memcpy(&v32, p, 4);
    return v32;
  default:
    memcpy(&v64, p, 8);
    return v64;
  }
}

static const fdesc *ext_field(const char *name) {
  for (size_t i = 0; i < sizeof ext_fields / sizeof ext_fields[0]; i++)
    if (strcmp(ext_fields[i].name, name) == 0)
      return &ext_fields[i];
  return NULL;
}

/* Compares every field of one entry object (ext_type, ext_flags, ext_len
 * and the payload fields) with the entry e and the decoded block x. */
static void compare_entry(const char *vec, const cJSON *fields,
                          const nnrp_ext_entry *e, const nnrp_hello_exts *x) {
  const cJSON *fv;
  cJSON_ArrayForEach(fv, fields) {
    const char *k = fv->string;
    if (strcmp(k, "ext_type") == 0)
      check_json_value(vec, k, fv, e->ext_type);
    else if (strcmp(k, "ext_flags") == 0)
      check_json_value(vec, k, fv, e->ext_flags);
    else if (strcmp(k, "ext_len") == 0)
      check_json_value(vec, k, fv, e->payload.len);
    else if (ext_field(k) != NULL)
      check_json_value(vec, k, fv, fget(x, ext_field(k)));
    else if (!CHECK(0))
      fprintf(stderr, "  %s: no mapping for field %s\n", vec, k);
  }
}

/* ---- block builders --------------------------------------------------------
 */

/* Appends one entry (type, flags, payload, zero padding) at *len. */
static void add(uint8_t *buf, size_t *len, uint16_t type, uint16_t flags,
                const void *payload, uint32_t n) {
  uint8_t *p = buf + *len;
  p[0] = (uint8_t)type;
  p[1] = (uint8_t)(type >> 8);
  p[2] = (uint8_t)flags;
  p[3] = (uint8_t)(flags >> 8);
  p[4] = (uint8_t)n;
  p[5] = (uint8_t)(n >> 8);
  p[6] = (uint8_t)(n >> 16);
  p[7] = (uint8_t)(n >> 24);
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
  cJSON_ArrayForEach(v, cJSON_GetObjectItemCaseSensitive(g_root, "vectors")) {
    const char *name = vstr(v, "name");
    if (strcmp(vstr(v, "kind"), "extension") != 0 ||
        strncmp(name, "extension.0x", 12) != 0)
      continue;
    seen++;
    int msg = nnrp_msg_type_from_name(vstr(v, "message_type"));
    CHECK(msg == CH || msg == SHA);
    uint8_t *bytes = NULL;
    size_t n = nnrp_test_hex_decode(vstr(v, "hex"), &bytes);
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
    compare_entry(name, cJSON_GetObjectItemCaseSensitive(v, "fields"), &e, &x);
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
  const cJSON *v = vector("extension.block.two_entries");
  const cJSON *fields = cJSON_GetObjectItemCaseSensitive(v, "fields");
  uint8_t *bytes = NULL;
  size_t n = nnrp_test_hex_decode(vstr(v, "hex"), &bytes);
  uint64_t block_bytes = 0;
  CHECK(json_u64(cJSON_GetObjectItemCaseSensitive(fields, "block_bytes"),
                 &block_bytes));
  CHECK_EQ_U64(n, block_bytes);

  /* Structure: both entries, their payloads and padding. */
  nnrp_ext_iter it;
  nnrp_ext_entry e[2];
  nnrp_ext_iter_init(&it, (nnrp_bytes){bytes, n});
  const cJSON *je;
  int i = 0;
  cJSON_ArrayForEach(je, cJSON_GetObjectItemCaseSensitive(fields, "entries")) {
    if (!CHECK(i < 2 && nnrp_ext_iter_next(&it, &e[i]) == 1))
      break;
    uint64_t t = 0, fl = 0, len = 0, pad = 0;
    CHECK(json_u64(cJSON_GetObjectItemCaseSensitive(je, "ext_type"), &t));
    CHECK(json_u64(cJSON_GetObjectItemCaseSensitive(je, "ext_flags"), &fl));
    CHECK(json_u64(cJSON_GetObjectItemCaseSensitive(je, "ext_len"), &len));
    CHECK(json_u64(cJSON_GetObjectItemCaseSensitive(je, "padding"), &pad));
    const char *utf8 = vstr(je, "payload_utf8");
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
  g_root = nnrp_test_load_json("seed-line.json");
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
  cJSON_Delete(g_root);
  TEST_MAIN_END();
}
