/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_cache.c - CACHE_PUT, CACHE_ACK, CACHE_INVALIDATE (wire.md §10.1-10.3)
 * and the FNV-1a byte-key mapping (§10.4, D16): the four vectors, the §10.4
 * check values, and one negative test per rule (object_kind, CachePutFlags
 * strict/lenient, object_bytes = body_len, status, invalidate_scope, empty
 * bodies) plus the "unused scope fields are ignored" rule.
 */
#include "harness.h"
#include "wire_check.h"

#include "wire/wire_int.h"

#include <stdlib.h>
#include <string.h>

#define LENIENT NNRP_WIRE_LENIENT
#define BODY NNRP_ERR_MALFORMED_BODY

static uint8_t g_put[32], g_ack[28], g_inv[20];

/* A patched metadata is rejected in the given modes with field at off,
 * through meta_dec and through the packet decoder. */
static void expect_reject(uint8_t type, const uint8_t *base, size_t off,
                          uint32_t val, uint32_t modes_mask, const char *field,
                          const char *sec) {
  uint8_t meta[32];
  memcpy(meta, base, (size_t)nnrp_msg_meta_len(type));
  nnrp_put_u32le(meta + off, val);
  for (uint32_t mode = 0; mode <= LENIENT; mode++) {
    if ((modes_mask & (1u << mode)) == 0)
      continue;
    nnrp_meta m;
    memset(&m, 0, sizeof(m));
    nnrp_fault f;
    WC_FAULT_AT(wc_meta_dec(type, meta, mode, &m, &f), f, BODY, field, off,
                sec);
    nnrp_packet p;
    size_t len;
    uint32_t blen = type == NNRP_MSG_CACHE_PUT ? nnrp_rd32(meta + 20) : 0;
    static const uint8_t body[4096];
    if (blen > sizeof body)
      harness_die(__FILE__, __LINE__, "test body too large");
    uint8_t *pkt = wc_packet_new(type, 9, meta, body, blen, &len);
    WC_FAULT_FIELD(wc_decode(&p, pkt, len, mode, &f), f, BODY, field);
    free(pkt);
  }
}
#define STRICT_ONLY 0x1u
#define BOTH_MODES 0x3u

/* ---- vectors ------------------------------------------------------------- */

TEST(cache_golden_vectors) {
  wc_check_meta_vector("metadata.cache_put.camera_block", NULL, NULL);
  wc_check_meta_vector("metadata.cache_ack.accepted", NULL, NULL);
  /* scope 0 with non-zero namespace/keys: ignored, not rejected */
  wc_check_meta_vector("metadata.cache_invalidate.whole_session", NULL, NULL);
}

/* §10.4 check values and the tst-v1 vector (D16). */
TEST(cache_fnv1a_key_mapping) {
  CHECK_EQ_U64(nnrp_fnv1a64(NULL, 0), 0xcbf29ce484222325u);
  CHECK_EQ_U64(nnrp_fnv1a64((const uint8_t *)"", 0), 0xcbf29ce484222325u);
  CHECK_EQ_U64(nnrp_fnv1a64((const uint8_t *)"a", 1), 0xaf63dc4c8601ec8cu);

  static const char *const skip[] = {"key_bytes_utf8", "fnv1a64", NULL};
  nnrp_meta m;
  memset(&m, 0, sizeof(m));
  wc_check_meta_vector("metadata.cache_put.key_bytes_tst-v1", skip, &m);
  const cJSON *fields = wc_vec_fields("metadata.cache_put.key_bytes_tst-v1");
  const char *key = wc_jget(fields, "key_bytes_utf8")->valuestring;
  CHECK_EQ_STR(key, "tst-v1");
  uint64_t h = nnrp_fnv1a64((const uint8_t *)key, strlen(key));
  CHECK(wc_json_eq(wc_jget(fields, "fnv1a64"), h));
  CHECK_EQ_U64(h, 0x340662af1df8d56au);
  uint32_t hi = 0, lo = 0;
  nnrp_cache_key_from_bytes((const uint8_t *)key, strlen(key), &hi, &lo);
  CHECK_EQ_U64(hi, m.cache_put.cache_key_hi);
  CHECK_EQ_U64(lo, m.cache_put.cache_key_lo);
  CHECK_EQ_U64(hi, 0x340662afu);
  CHECK_EQ_U64(lo, 0x1df8d56au);
  nnrp_cache_key_from_bytes((const uint8_t *)"a", 1, &hi, &lo);
  CHECK_EQ_U64(hi, 0xaf63dc4cu);
  CHECK_EQ_U64(lo, 0x8601ec8cu);
}

/* ---- CACHE_PUT ----------------------------------------------------------- */

TEST(cache_put_object_kind_enum) {
  static const uint32_t bad[] = {0, 10, 0x100, 0xFFFFFFFFu};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
    expect_reject(NNRP_MSG_CACHE_PUT, g_put, 12, bad[i], BOTH_MODES,
                  "object_kind", "§10.1");
  for (uint32_t k = NNRP_OBJECT_CAMERA_BLOCK;
       k <= NNRP_OBJECT_STRUCTURED_EVENT_SCHEMA; k++)
    WC_PATCH_OK(NNRP_MSG_CACHE_PUT, g_put, 12, 4, k, 0, "object_kind", k);
}

/* CachePutFlags is a strict-only mask (§13): strict rejects unknown bits,
 * lenient clears them and continues. */
TEST(cache_put_flags_strict_only) {
  static const uint32_t bad[] = {0x4, 0x7, 0x80000000u, 0xFFFFFFFFu};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    expect_reject(NNRP_MSG_CACHE_PUT, g_put, 28, bad[i], STRICT_ONLY, "flags",
                  "§10.1");
    WC_PATCH_OK(NNRP_MSG_CACHE_PUT, g_put, 28, 4, bad[i], LENIENT, "flags",
                bad[i] & NNRP_CACHE_PUT_KNOWN_MASK);
  }
  for (uint32_t v = 0; v <= NNRP_CACHE_PUT_KNOWN_MASK; v++)
    WC_PATCH_OK(NNRP_MSG_CACHE_PUT, g_put, 28, 4, v, 0, "flags", v);
  /* the packet decoder accepts the lenient case too */
  uint8_t meta[32];
  memcpy(meta, g_put, 32);
  nnrp_put_u32le(meta + 28, 0x7);
  nnrp_put_u32le(meta + 20, 0);
  size_t len;
  uint8_t *pkt = wc_packet_new(NNRP_MSG_CACHE_PUT, 9, meta, NULL, 0, &len);
  nnrp_packet p;
  nnrp_fault f;
  CHECK_EQ_INT(wc_decode(&p, pkt, len, LENIENT, &f), 0);
  CHECK_EQ_U64(p.m.cache_put.flags, 0x3);
  free(pkt);
}

/* ttl_ms, codec_bitmap and the key are free. */
TEST(cache_put_free_fields) {
  uint8_t meta[32];
  memcpy(meta, g_put, 32);
  memset(meta, 0xFF, 12);     /* namespace, key_hi, key_lo */
  memset(meta + 16, 0xFF, 4); /* ttl_ms */
  memset(meta + 24, 0xFF, 4); /* codec_bitmap */
  nnrp_meta m;
  wc_meta_roundtrip(NNRP_MSG_CACHE_PUT, meta, &m);
}

/* object_bytes = body_len (step 15); the object is a zero-copy view. */
TEST(cache_put_object_bytes) {
  static uint8_t object[2049];
  for (size_t i = 0; i < sizeof object; i++)
    object[i] = (uint8_t)(i * 7u);
  static const uint32_t bad_lens[] = {0, 2047, 2049};
  for (size_t i = 0; i < sizeof bad_lens / sizeof bad_lens[0]; i++) {
    nnrp_packet p;
    nnrp_fault f;
    int rc = wc_body_dec(&p, NNRP_MSG_CACHE_PUT, g_put, 9, object, bad_lens[i],
                         &f); /* object_bytes = 2048 */
    WC_FAULT_AT(rc, f, BODY, "object_bytes", 0, "§10.1");
    size_t len;
    uint8_t *pkt =
        wc_packet_new(NNRP_MSG_CACHE_PUT, 9, g_put, object, bad_lens[i], &len);
    for (uint32_t mode = 0; mode <= LENIENT; mode++) {
      rc = wc_decode(&p, pkt, len, mode, &f);
      WC_FAULT_FIELD(rc, f, BODY, "object_bytes");
    }
    free(pkt);
  }
  size_t len;
  uint8_t *pkt =
      wc_packet_new(NNRP_MSG_CACHE_PUT, 9, g_put, object, 2048, &len);
  for (int path = 0; path < 2; path++) {
    nnrp_packet p;
    nnrp_fault f;
    int rc = path == 0 ? wc_decode(&p, pkt, len, 0, &f)
                       : wc_decode_direct(&p, pkt, len, 0, &f);
    if (!CHECK_EQ_INT(rc, 0))
      continue;
    nnrp_bytes obj = wc_body_view(&p);
    CHECK(obj.ptr == pkt + 72);
    CHECK_EQ_U64(obj.len, 2048);
    CHECK_EQ_MEM(obj.ptr, object, 2048);
  }
  free(pkt);
}

/* ---- CACHE_ACK ----------------------------------------------------------- */

TEST(cache_ack_status_enum) {
  static const uint32_t bad[] = {3, 0xFFFFFFFFu};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
    expect_reject(NNRP_MSG_CACHE_ACK, g_ack, 12, bad[i], BOTH_MODES, "status",
                  "§10.2");
  for (uint32_t s = 0; s <= NNRP_CACHE_ACK_REPLACED; s++)
    WC_PATCH_OK(NNRP_MSG_CACHE_ACK, g_ack, 12, 4, s, 0, "status", s);
  /* detail_code is free (project values are informative only) */
  WC_PATCH_OK(NNRP_MSG_CACHE_ACK, g_ack, 24, 4, 0xFFFFFFFFu, 0, NULL, 0);
}

/* ---- CACHE_INVALIDATE ---------------------------------------------------- */

TEST(cache_invalidate_scope_enum) {
  static const uint32_t bad[] = {4, 0xFFFFFFFFu};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
    expect_reject(NNRP_MSG_CACHE_INVALIDATE, g_inv, 0, bad[i], BOTH_MODES,
                  "invalidate_scope", "§10.3");
  for (uint32_t s = 0; s <= NNRP_CACHE_INVALIDATE_OBJECT_KEY; s++)
    WC_PATCH_OK(NNRP_MSG_CACHE_INVALIDATE, g_inv, 0, 4, s, 0, NULL, 0);
}

/* Fields a scope does not use are ignored, not validated; the OBJECT_KIND
 * value carried in cache_key_hi is not range-checked either (see cache.c). */
TEST(cache_invalidate_unused_fields_ignored) {
  for (uint32_t s = 0; s <= NNRP_CACHE_INVALIDATE_OBJECT_KEY; s++) {
    uint8_t meta[20];
    nnrp_put_u32le(meta, s);
    memset(meta + 4, 0xFF, 16); /* namespace, key halves, reason_code */
    nnrp_meta m;
    wc_meta_roundtrip(NNRP_MSG_CACHE_INVALIDATE, meta, &m);
    CHECK_EQ_U64(m.cache_invalidate.cache_key_lo, 0xFFFFFFFFu);
  }
}

/* ---- empty bodies -------------------------------------------------------- */

TEST(cache_ack_invalidate_body_must_be_empty) {
  static const uint8_t body[8] = {1};
  static const struct {
    uint8_t type;
    const uint8_t *meta;
    const char *sec;
  } rows[] = {{NNRP_MSG_CACHE_ACK, g_ack, "§10.2"},
              {NNRP_MSG_CACHE_INVALIDATE, g_inv, "§10.3"}};
  for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
    nnrp_packet p;
    nnrp_fault f;
    int rc = wc_body_dec(&p, rows[i].type, rows[i].meta, 9, body, 8, &f);
    WC_FAULT_AT(rc, f, BODY, "body_len", 0, rows[i].sec);
    CHECK_EQ_INT(wc_body_dec(&p, rows[i].type, rows[i].meta, 9, NULL, 0, &f),
                 0);
    size_t len;
    uint8_t *pkt = wc_packet_new(rows[i].type, 9, rows[i].meta, body, 1, &len);
    rc = wc_decode(&p, pkt, len, LENIENT, &f);
    WC_FAULT_FIELD(rc, f, BODY, "body_len");
    free(pkt);
  }
}

int main(void) {
  wc_vec_exact("metadata.cache_put.camera_block", g_put, 32);
  wc_vec_exact("metadata.cache_ack.accepted", g_ack, 28);
  wc_vec_exact("metadata.cache_invalidate.whole_session", g_inv, 20);

  RUN(cache_golden_vectors);
  RUN(cache_fnv1a_key_mapping);
  RUN(cache_put_object_kind_enum);
  RUN(cache_put_flags_strict_only);
  RUN(cache_put_free_fields);
  RUN(cache_put_object_bytes);
  RUN(cache_ack_status_enum);
  RUN(cache_invalidate_scope_enum);
  RUN(cache_invalidate_unused_fields_ignored);
  RUN(cache_ack_invalidate_body_must_be_empty);
  wc_vectors_free();
  TEST_MAIN_END();
}
