/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_patch.c - SESSION_PATCH and SESSION_PATCH_ACK (wire.md §4.3, §4.4):
 * the seed-line metadata vectors (decode, compare every field, re-encode),
 * whole packets with and without the 16-byte profile block, and one
 * negative test per reserved field, enum, mask and length rule (patch masks
 * are rejected in both modes, §13).
 */
#include "harness.h"
#include "vectors.h"

#include <nnrp/nnrp_wire.h>

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SP NNRP_MSG_SESSION_PATCH
#define SPA NNRP_MSG_SESSION_PATCH_ACK
#define LENIENT NNRP_WIRE_LENIENT

static cJSON *g_root;

/* ---- JSON helpers ---------------------------------------------------------
 */

static const char *vstr(const cJSON *v, const char *key) {
  const cJSON *s = cJSON_GetObjectItemCaseSensitive(v, key);
  return cJSON_IsString(s) ? s->valuestring : NULL;
}

static const cJSON *vector(const char *name) {
  const cJSON *v;
  cJSON_ArrayForEach(v, cJSON_GetObjectItemCaseSensitive(g_root, "vectors")) {
    const char *n = vstr(v, "name");
    if (n && strcmp(n, name) == 0)
      return v;
  }
  harness_die(__FILE__, __LINE__, name);
}

static int json_u64(const cJSON *v, uint64_t *out) {
  if (cJSON_IsNumber(v)) {
    *out = (uint64_t)v->valuedouble;
    return v->valuedouble >= 0;
  }
  if (cJSON_IsString(v)) {
    char *end = NULL;
    *out = (uint64_t)strtoull(v->valuestring, &end, 0);
    return end != v->valuestring;
  }
  return 0;
}

/* ---- field tables ----------------------------------------------------------
 */

typedef struct fdesc {
  const char *name;
  size_t off;
  size_t size;
} fdesc;

#define FD(type, member)                                                       \
  { #member, offsetof(type, member), sizeof(((type *)0)->member) }
#define END                                                                    \
  { NULL, 0, 0 }

#define SPF(m) FD(nnrp_session_patch, m)
static const fdesc sp_fields[] = {SPF(profile_id),
                                  SPF(reserved0),
                                  SPF(patch_mask),
                                  SPF(target_cadence_x100),
                                  SPF(quality_tier),
                                  SPF(degrade_policy),
                                  SPF(active_lane_mask),
                                  SPF(preferred_codec_bitmap),
                                  SPF(preferred_compression_bitmap),
                                  SPF(profile_patch_bytes),
                                  END};

#define SAF(m) FD(nnrp_session_patch_ack, m)
static const fdesc spa_fields[] = {SAF(ack_status),
                                   SAF(reject_reason),
                                   SAF(applied_patch_mask),
                                   SAF(rejected_patch_mask),
                                   SAF(retry_after_ms),
                                   SAF(effective_profile_id),
                                   SAF(reserved0),
                                   SAF(effective_target_cadence_x100),
                                   SAF(effective_quality_tier),
                                   SAF(effective_degrade_policy),
                                   SAF(effective_lane_mask),
                                   SAF(effective_codec_bitmap),
                                   SAF(effective_compression_bitmap),
                                   SAF(profile_patch_ack_bytes),
                                   END};

static uint64_t fget(const void *base, const fdesc *d) {
  const uint8_t *p = (const uint8_t *)base + d->off;
  uint16_t v16;
  uint32_t v32;
  uint64_t v64;
  switch (d->size) {
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

static void compare_fields(const char *vec, const cJSON *obj, const fdesc *t,
                           const void *base) {
  const cJSON *fv;
  cJSON_ArrayForEach(fv, obj) {
    const fdesc *d = t;
    while (d->name && strcmp(d->name, fv->string) != 0)
      d++;
    if (!CHECK(d->name != NULL)) {
      fprintf(stderr, "  %s: no mapping for field %s\n", vec, fv->string);
      continue;
    }
    uint64_t want = 0;
    CHECK(json_u64(fv, &want));
    if (!CHECK_EQ_U64(fget(base, d), want))
      fprintf(stderr, "  %s: field %s\n", vec, fv->string);
  }
}

/* ---- byte helpers ----------------------------------------------------------
 */

static void put16(uint8_t *p, uint16_t v) {
  p[0] = (uint8_t)v;
  p[1] = (uint8_t)(v >> 8);
}
static void put32(uint8_t *p, uint32_t v) {
  put16(p, (uint16_t)v);
  put16(p + 2, (uint16_t)(v >> 16));
}

static uint8_t g_sp[36];  /* metadata.session_patch */
static uint8_t g_spa[48]; /* metadata.session_patch_ack.preview2 */
static const uint8_t g_block[16] = {0x40, 0x01, 0, 0, 0xF0, 0,    0, 0,
                                    0x00, 0x0F, 0, 0, 0x70, 0x08, 0, 0};

static int meta_dec(uint8_t type, const uint8_t *m, uint32_t flags,
                    nnrp_meta *d, nnrp_fault *f) {
  memset(f, 0, sizeof(*f));
  return nnrp_meta_decode(type, d, m, type == SP ? 36u : 48u, flags, f);
}

/* Decodes header ‖ meta ‖ body (header session 7). */
static int pkt_dec(uint8_t type, const uint8_t *m, const uint8_t *body,
                   uint32_t body_len, uint32_t flags, nnrp_packet *p,
                   nnrp_fault *f) {
  static uint8_t buf[40 + 48 + 64];
  uint32_t ml = type == SP ? 36u : 48u;
  nnrp_header h;
  nnrp_header_init(&h, type);
  h.session_id = 7;
  h.meta_len = ml;
  h.body_len = body_len;
  nnrp_header_encode(&h, buf);
  memcpy(buf + 40, m, ml);
  if (body_len)
    memcpy(buf + 40 + ml, body, body_len);
  nnrp_wire_opts o;
  nnrp_wire_opts_default(&o);
  o.flags = flags;
  memset(f, 0, sizeof(*f));
  return nnrp_packet_decode(p, buf, 40u + ml + body_len, &o, f);
}

/* Expects MALFORMED_BODY on field at offset in strict mode, and lenient_rc
 * in lenient mode (metadata only). */
static void expect_meta_fault(uint8_t type, const uint8_t *m, const char *field,
                              uint32_t off, int lenient_rc) {
  nnrp_meta d;
  nnrp_fault f;
  if (!CHECK_EQ_INT(meta_dec(type, m, 0, &d, &f), NNRP_ERR_MALFORMED_BODY))
    fprintf(stderr, "  field %s\n", field);
  CHECK_EQ_STR(f.field, field);
  CHECK_EQ_INT(f.offset, off);
  if (!CHECK_EQ_INT(meta_dec(type, m, LENIENT, &d, &f), lenient_rc))
    fprintf(stderr, "  lenient: field %s\n", field);
}

/* ---- vectors --------------------------------------------------------------
 */

TEST(vectors_metadata) {
  int seen = 0;
  const cJSON *v;
  cJSON_ArrayForEach(v, cJSON_GetObjectItemCaseSensitive(g_root, "vectors")) {
    const char *mt = vstr(v, "message_type");
    const char *name = vstr(v, "name");
    if (strcmp(vstr(v, "kind"), "metadata") != 0 ||
        (strcmp(mt, "SESSION_PATCH") != 0 &&
         strcmp(mt, "SESSION_PATCH_ACK") != 0))
      continue;
    seen++;
    uint8_t type = (uint8_t)nnrp_msg_type_from_name(mt);
    uint8_t *bytes = NULL;
    size_t n = nnrp_test_hex_decode(vstr(v, "hex"), &bytes);
    nnrp_meta m;
    nnrp_fault f;
    if (CHECK_EQ_INT(nnrp_meta_decode(type, &m, bytes, n, 0, &f), 0)) {
      compare_fields(name, cJSON_GetObjectItemCaseSensitive(v, "fields"),
                     type == SP ? sp_fields : spa_fields, &m);
      uint8_t out[48];
      CHECK_EQ_INT(nnrp_meta_encode(type, &m, out, sizeof out), (int)n);
      CHECK_EQ_MEM(out, bytes, n);
    } else {
      fprintf(stderr, "  %s: %s %s\n", name, f.rule, f.field);
    }
    free(bytes);
  }
  CHECK_EQ_INT(seen, 3);
}

TEST(packets_with_and_without_block) {
  nnrp_packet p;
  nnrp_fault f;
  /* metadata.session_patch: profile_patch_bytes 16 + the block. */
  CHECK_EQ_INT(pkt_dec(SP, g_sp, g_block, 16, 0, &p, &f), 0);
  CHECK_EQ_INT(p.b.patch.present, 1);
  CHECK_EQ_U64(p.b.patch.block.min_width, 320);
  CHECK_EQ_U64(p.b.patch.block.min_height, 240);
  CHECK_EQ_U64(p.b.patch.block.max_width, 3840);
  CHECK_EQ_U64(p.b.patch.block.max_height, 2160);
  CHECK_EQ_U64(p.m.session_patch.active_lane_mask, 3);
  /* metadata.session_patch_ack.preview2: no block. */
  CHECK_EQ_INT(pkt_dec(SPA, g_spa, NULL, 0, 0, &p, &f), 0);
  CHECK_EQ_INT(p.b.patch.present, 0);
  /* metadata.session_patch_ack.baseline: block of 16. */
  const cJSON *v = vector("metadata.session_patch_ack.baseline");
  uint8_t *b = NULL;
  CHECK_EQ_INT(nnrp_test_hex_decode(vstr(v, "hex"), &b), 48);
  CHECK_EQ_INT(pkt_dec(SPA, b, g_block, 16, 0, &p, &f), 0);
  CHECK_EQ_INT(p.b.patch.present, 1);
  CHECK_EQ_U64(p.b.patch.block.max_height, 2160);
  CHECK_EQ_U64(p.m.session_patch_ack.effective_quality_tier, 360);
  free(b);
  /* SESSION_PATCH without the block. */
  uint8_t m[36];
  memcpy(m, g_sp, 36);
  put32(m + 32, 0);
  CHECK_EQ_INT(pkt_dec(SP, m, NULL, 0, 0, &p, &f), 0);
  CHECK_EQ_INT(p.b.patch.present, 0);
}

/* ---- SESSION_PATCH (§4.3) --------------------------------------------------
 */

TEST(session_patch_reserved0) {
  uint8_t m[36];
  memcpy(m, g_sp, 36);
  put16(m + 2, 0x0100);
  expect_meta_fault(SP, m, "reserved0", 2, 0);
  nnrp_meta d;
  nnrp_fault f;
  CHECK_EQ_INT(meta_dec(SP, m, LENIENT, &d, &f), 0);
  CHECK_EQ_INT(d.session_patch.reserved0, 0x0100); /* kept as read */
}

TEST(session_patch_mask_both_modes) {
  uint8_t m[36];
  memcpy(m, g_sp, 36);
  uint32_t bad[] = {0x80, 0xFF, 0x100, 0x80000000u};
  for (int i = 0; i < 4; i++) {
    put32(m + 4, bad[i]);
    expect_meta_fault(SP, m, "patch_mask", 4, NNRP_ERR_MALFORMED_BODY);
  }
  nnrp_meta d;
  nnrp_fault f;
  put32(m + 4, 0x7F);
  CHECK_EQ_INT(meta_dec(SP, m, 0, &d, &f), 0);
  put32(m + 4, 0);
  CHECK_EQ_INT(meta_dec(SP, m, 0, &d, &f), 0);
}

TEST(session_patch_block_bytes) {
  uint8_t m[36];
  nnrp_packet p;
  nnrp_fault f;
  memcpy(m, g_sp, 36);
  uint32_t bad[] = {1, 8, 15, 17, 32, 0xFFFFFFFFu};
  for (int i = 0; i < 6; i++) {
    put32(m + 32, bad[i]);
    expect_meta_fault(SP, m, "profile_patch_bytes", 32,
                      NNRP_ERR_MALFORMED_BODY);
  }
  /* profile_patch_bytes != body_len, both directions, both modes. */
  memcpy(m, g_sp, 36); /* 16 */
  for (uint32_t fl = 0; fl <= LENIENT; fl++) {
    CHECK_EQ_INT(pkt_dec(SP, m, NULL, 0, fl, &p, &f), NNRP_ERR_MALFORMED_BODY);
    CHECK_EQ_STR(f.field, "profile_patch_bytes");
    CHECK_EQ_INT(f.offset, 76);
    CHECK_EQ_INT(pkt_dec(SP, m, g_block, 8, fl, &p, &f),
                 NNRP_ERR_MALFORMED_BODY);
  }
  put32(m + 32, 0);
  CHECK_EQ_INT(pkt_dec(SP, m, g_block, 16, 0, &p, &f), NNRP_ERR_MALFORMED_BODY);
  CHECK_EQ_STR(f.rule, "wire.md §4.3");
}

TEST(session_patch_no_cross_check) {
  /* PROFILE_PATCH is not cross-checked against the block (§4.3 [R]). */
  uint8_t m[36];
  nnrp_packet p;
  nnrp_fault f;
  memcpy(m, g_sp, 36);
  put32(m + 4, 0x40);
  put32(m + 32, 0);
  CHECK_EQ_INT(pkt_dec(SP, m, NULL, 0, 0, &p, &f), 0);
  put32(m + 4, 0x01);
  put32(m + 32, 16);
  CHECK_EQ_INT(pkt_dec(SP, m, g_block, 16, 0, &p, &f), 0);
  /* Free fields are never range-checked (D2). */
  memset(m, 0xFF, 32);
  put16(m + 2, 0);    /* reserved0 */
  put32(m + 4, 0x7F); /* patch_mask */
  CHECK_EQ_INT(pkt_dec(SP, m, g_block, 16, 0, &p, &f), 0);
}

/* ---- SESSION_PATCH_ACK (§4.4) ----------------------------------------------
 */

TEST(session_patch_ack_enums) {
  uint8_t m[48];
  nnrp_meta d;
  nnrp_fault f;
  memcpy(m, g_spa, 48);
  for (uint16_t s = 0; s <= 2; s++) {
    put16(m, s);
    CHECK_EQ_INT(meta_dec(SPA, m, 0, &d, &f), 0);
  }
  put16(m, 3);
  expect_meta_fault(SPA, m, "ack_status", 0, NNRP_ERR_MALFORMED_BODY);
  put16(m, 0xFFFF);
  expect_meta_fault(SPA, m, "ack_status", 0, NNRP_ERR_MALFORMED_BODY);
  memcpy(m, g_spa, 48);
  for (uint16_t r = 0; r <= 5; r++) {
    put16(m + 2, r);
    CHECK_EQ_INT(meta_dec(SPA, m, 0, &d, &f), 0);
  }
  put16(m + 2, 6);
  expect_meta_fault(SPA, m, "reject_reason", 2, NNRP_ERR_MALFORMED_BODY);
}

TEST(session_patch_ack_masks_both_modes) {
  uint8_t m[48];
  memcpy(m, g_spa, 48);
  put32(m + 4, 0x80);
  expect_meta_fault(SPA, m, "applied_patch_mask", 4, NNRP_ERR_MALFORMED_BODY);
  memcpy(m, g_spa, 48);
  put32(m + 8, 0x100);
  expect_meta_fault(SPA, m, "rejected_patch_mask", 8, NNRP_ERR_MALFORMED_BODY);
  nnrp_meta d;
  nnrp_fault f;
  put32(m + 4, 0x7F);
  put32(m + 8, 0x7F); /* overlap is a sender rule, not checked */
  CHECK_EQ_INT(meta_dec(SPA, m, 0, &d, &f), 0);
}

TEST(session_patch_ack_reserved0) {
  uint8_t m[48];
  memcpy(m, g_spa, 48);
  put16(m + 18, 1);
  expect_meta_fault(SPA, m, "reserved0", 18, 0);
  nnrp_meta d;
  nnrp_fault f;
  CHECK_EQ_INT(meta_dec(SPA, m, LENIENT, &d, &f), 0);
  CHECK_EQ_INT(d.session_patch_ack.reserved0, 1);
  /* Enum faults come first (field order). */
  put16(m, 9);
  CHECK_EQ_INT(meta_dec(SPA, m, 0, &d, &f), NNRP_ERR_MALFORMED_BODY);
  CHECK_EQ_STR(f.field, "ack_status");
}

TEST(session_patch_ack_block_bytes) {
  uint8_t m[48];
  nnrp_packet p;
  nnrp_fault f;
  memcpy(m, g_spa, 48);
  put32(m + 44, 4);
  expect_meta_fault(SPA, m, "profile_patch_ack_bytes", 44,
                    NNRP_ERR_MALFORMED_BODY);
  put32(m + 44, 16);
  for (uint32_t fl = 0; fl <= LENIENT; fl++) {
    CHECK_EQ_INT(pkt_dec(SPA, m, NULL, 0, fl, &p, &f), NNRP_ERR_MALFORMED_BODY);
    CHECK_EQ_STR(f.field, "profile_patch_ack_bytes");
    CHECK_EQ_INT(f.offset, 88);
  }
  put32(m + 44, 0);
  CHECK_EQ_INT(pkt_dec(SPA, m, g_block, 16, 0, &p, &f),
               NNRP_ERR_MALFORMED_BODY);
  CHECK_EQ_STR(f.rule, "wire.md §4.4");
}

int main(void) {
  g_root = nnrp_test_load_json("seed-line.json");
  uint8_t *b = NULL;
  if (nnrp_test_hex_decode(vstr(vector("metadata.session_patch"), "hex"), &b) !=
      36)
    harness_die(__FILE__, __LINE__, "metadata.session_patch");
  memcpy(g_sp, b, 36);
  free(b);
  if (nnrp_test_hex_decode(
          vstr(vector("metadata.session_patch_ack.preview2"), "hex"), &b) != 48)
    harness_die(__FILE__, __LINE__, "metadata.session_patch_ack.preview2");
  memcpy(g_spa, b, 48);
  free(b);

  RUN(vectors_metadata);
  RUN(packets_with_and_without_block);
  RUN(session_patch_reserved0);
  RUN(session_patch_mask_both_modes);
  RUN(session_patch_block_bytes);
  RUN(session_patch_no_cross_check);
  RUN(session_patch_ack_enums);
  RUN(session_patch_ack_masks_both_modes);
  RUN(session_patch_ack_reserved0);
  RUN(session_patch_ack_block_bytes);
  cJSON_Delete(g_root);
  TEST_MAIN_END();
}
