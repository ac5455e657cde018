/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_error_msg.c - the ERROR message (wire.md §4.6): its two vectors
 * through the packet decoder and the codec functions alone, and one negative
 * test per rule (error_scope enum, is_fatal <= 1, diagnostic_bytes =
 * body_len), plus the free fields (error_code is never range-checked).
 */
#include "harness.h"
#include "wire_check.h"

#include "wire/wire_int.h"

#include <stdlib.h>
#include <string.h>

#define LENIENT NNRP_WIRE_LENIENT
#define BODY NNRP_ERR_MALFORMED_BODY

static uint8_t g_meta[32]; /* metadata.error.server_busy */

/* ---- vectors ------------------------------------------------------------- */

TEST(error_metadata_vector) {
  nnrp_meta m;
  memset(&m, 0, sizeof(m));
  wc_check_meta_vector("metadata.error.server_busy", NULL, &m);
  CHECK_EQ_U64(m.error.error_code, NNRP_ERROR_CODE_SERVER_BUSY);
  CHECK_EQ_U64(m.error.error_scope, NNRP_ERROR_SCOPE_SESSION);
}

TEST(error_packet_vector) {
  wc_check_packet_vector("packet.error.malformed_body");
  /* the diagnostic view is the body text, zero copy */
  const char *name = "packet.error.malformed_body";
  const char *text = wc_jget(wc_vec_fields(name), "body_utf8")->valuestring;
  uint8_t *pkt = NULL;
  size_t len = wc_vec_hex(name, &pkt);
  for (int path = 0; path < 2; path++) {
    nnrp_packet p;
    nnrp_fault f;
    int rc = path == 0 ? wc_decode(&p, pkt, len, 0, &f)
                       : wc_decode_direct(&p, pkt, len, 0, &f);
    if (!CHECK_EQ_INT(rc, 0))
      continue;
    CHECK_EQ_U64(p.b.diagnostic.len, strlen(text));
    CHECK(p.b.diagnostic.ptr == pkt + 72);
    CHECK_EQ_MEM(p.b.diagnostic.ptr, text, strlen(text));
  }
  free(pkt);
}

/* ---- metadata rules ------------------------------------------------------ */

TEST(error_scope_enum) {
  static const uint32_t bad[] = {3, 4, 0x100, 0xFFFFFFFFu};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
    for (uint32_t mode = 0; mode <= LENIENT; mode++)
      WC_PATCH_FAULT(NNRP_MSG_ERROR, g_meta, 4, 4, bad[i], mode, "error_scope",
                     4, "§4.6");
  for (uint32_t s = 0; s <= NNRP_ERROR_SCOPE_FRAME; s++)
    WC_PATCH_OK(NNRP_MSG_ERROR, g_meta, 4, 4, s, 0, "error_scope", s);
}

TEST(error_is_fatal_max_1) {
  static const uint32_t bad[] = {2, 0x80000000u, 0xFFFFFFFFu};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
    for (uint32_t mode = 0; mode <= LENIENT; mode++)
      WC_PATCH_FAULT(NNRP_MSG_ERROR, g_meta, 8, 4, bad[i], mode, "is_fatal", 8,
                     "§4.6");
  for (uint32_t v = 0; v <= 1; v++)
    WC_PATCH_OK(NNRP_MSG_ERROR, g_meta, 8, 4, v, 0, "is_fatal", v);
}

/* error_code and the related ids are free (wire.md §1 rule 10, D2): unknown
 * codes are surfaced as-is. */
TEST(error_free_fields) {
  static const uint32_t codes[] = {0, 0x000C, 0x000D, 0x00030001u, 0xFFFFFFFFu};
  for (size_t i = 0; i < sizeof codes / sizeof codes[0]; i++)
    WC_PATCH_OK(NNRP_MSG_ERROR, g_meta, 0, 4, codes[i], 0, "error_code",
                codes[i]);
  uint8_t meta[32];
  memcpy(meta, g_meta, 32);
  memset(meta + 12, 0xFF, 16); /* retry_after_ms and the three related ids */
  nnrp_meta m;
  wc_meta_roundtrip(NNRP_MSG_ERROR, meta, &m);
  CHECK_EQ_U64(m.error.related_view_id, 0xFFFFFFFFu);
}

/* ---- body rule: diagnostic_bytes = body_len ------------------------------ */

TEST(error_diagnostic_bytes_mismatch) {
  static const char text[] = "server busy, retry later."; /* 25 bytes */
  uint8_t meta[32];
  memcpy(meta, g_meta, 32); /* diagnostic_bytes = 24 */
  static const uint32_t body_lens[] = {0, 23, 25};
  for (size_t i = 0; i < sizeof body_lens / sizeof body_lens[0]; i++) {
    nnrp_packet p;
    nnrp_fault f;
    int rc = wc_body_dec(&p, NNRP_MSG_ERROR, meta, 42, (const uint8_t *)text,
                         body_lens[i], &f);
    WC_FAULT_AT(rc, f, BODY, "diagnostic_bytes", 0, "§4.6");
    size_t len;
    uint8_t *pkt = wc_packet_new(NNRP_MSG_ERROR, 42, meta,
                                 (const uint8_t *)text, body_lens[i], &len);
    for (uint32_t mode = 0; mode <= LENIENT; mode++) {
      rc = wc_decode(&p, pkt, len, mode, &f);
      WC_FAULT_FIELD(rc, f, BODY, "diagnostic_bytes");
    }
    free(pkt);
  }
  /* matching lengths: the view covers exactly the body */
  nnrp_packet p;
  nnrp_fault f;
  CHECK_EQ_INT(
      wc_body_dec(&p, NNRP_MSG_ERROR, meta, 42, (const uint8_t *)text, 24, &f),
      0);
  CHECK(p.b.diagnostic.ptr == (const uint8_t *)text);
  CHECK_EQ_U64(p.b.diagnostic.len, 24);
}

/* An empty diagnostic is fine; the text is never interpreted (not even as
 * UTF-8). */
TEST(error_diagnostic_empty_and_binary) {
  nnrp_meta m;
  memset(&m, 0, sizeof(m));
  nnrp_fault f;
  uint8_t meta[32];
  memcpy(meta, g_meta, 32);
  nnrp_put_u32le(meta + 28, 0);
  CHECK_EQ_INT(wc_meta_dec(NNRP_MSG_ERROR, meta, 0, &m, &f), 0);
  nnrp_packet p;
  CHECK_EQ_INT(wc_body_dec(&p, NNRP_MSG_ERROR, meta, 0, NULL, 0, &f), 0);
  CHECK_EQ_U64(p.b.diagnostic.len, 0);

  static const uint8_t junk[4] = {0xFF, 0xFE, 0x00, 0xC0}; /* not UTF-8 */
  nnrp_put_u32le(meta + 28, 4);
  size_t len;
  uint8_t *pkt = wc_packet_new(NNRP_MSG_ERROR, 0, meta, junk, 4, &len);
  CHECK_EQ_INT(wc_decode(&p, pkt, len, 0, &f), 0);
  CHECK_EQ_U64(p.b.diagnostic.len, 4);
  CHECK(p.b.diagnostic.ptr == pkt + 72);
  free(pkt);
}

int main(void) {
  wc_vec_exact("metadata.error.server_busy", g_meta, 32);

  RUN(error_metadata_vector);
  RUN(error_packet_vector);
  RUN(error_scope_enum);
  RUN(error_is_fatal_max_1);
  RUN(error_free_fields);
  RUN(error_diagnostic_bytes_mismatch);
  RUN(error_diagnostic_empty_and_binary);
  wc_vectors_free();
  TEST_MAIN_END();
}
