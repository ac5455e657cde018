/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_patch.c - SESSION_PATCH and SESSION_PATCH_ACK (wire.md §4.3, §4.4):
 * the seed-line metadata vectors (decode, compare every field, re-encode),
 * whole packets with and without the 16-byte profile block, and one
 * negative test per reserved field, enum, mask and length rule (patch masks
 * are rejected in both modes, §13).
 */
#include "harness.h"
#include "wire_check.h"

#include <nnrp/nnrp_wire.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SP NNRP_MSG_SESSION_PATCH
#define SPA NNRP_MSG_SESSION_PATCH_ACK
#define LENIENT NNRP_WIRE_LENIENT

static uint8_t g_sp[36];  /* metadata.session_patch */
static uint8_t g_spa[48]; /* metadata.session_patch_ack.preview2 */
static const uint8_t g_block[16] = {0x40, 0x01, 0, 0, 0xF0, 0,    0, 0,
                                    0x00, 0x0F, 0, 0, 0x70, 0x08, 0, 0};

/* Decodes header ‖ meta ‖ body (header session 7). */
static int pkt_dec(uint8_t type, const uint8_t *m, const uint8_t *body,
                   uint32_t body_len, uint32_t flags, nnrp_packet *p,
                   nnrp_fault *f) {
  static uint8_t buf[40 + 48 + 64];
  size_t n = wc_packet(buf, sizeof buf, type, 7, m, body, body_len);
  return wc_decode(p, buf, n, flags, f);
}

/* Expects MALFORMED_BODY on field at offset in strict mode, and lenient_rc
 * in lenient mode (metadata only). */
static void expect_meta_fault(uint8_t type, const uint8_t *m, const char *field,
                              uint32_t off, int lenient_rc) {
  nnrp_meta d;
  nnrp_fault f;
  WC_META_FAULT(type, m, 0, NNRP_ERR_MALFORMED_BODY, field, off);
  if (!CHECK_EQ_INT(wc_meta_decode(type, m, LENIENT, &d, &f), lenient_rc))
    fprintf(stderr, "  lenient: field %s\n", field);
}

/* ---- vectors --------------------------------------------------------------
 */

TEST(vectors_metadata) { CHECK_EQ_INT(wc_check_meta_vectors(SP, SPA), 3); }

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
  uint8_t *b = NULL;
  CHECK_EQ_INT(wc_vec_hex("metadata.session_patch_ack.baseline", &b), 48);
  CHECK_EQ_INT(pkt_dec(SPA, b, g_block, 16, 0, &p, &f), 0);
  CHECK_EQ_INT(p.b.patch.present, 1);
  CHECK_EQ_U64(p.b.patch.block.max_height, 2160);
  CHECK_EQ_U64(p.m.session_patch_ack.effective_quality_tier, 360);
  free(b);
  /* SESSION_PATCH without the block. */
  uint8_t m[36];
  memcpy(m, g_sp, 36);
  wc_put_le(m + 32, 4, 0);
  CHECK_EQ_INT(pkt_dec(SP, m, NULL, 0, 0, &p, &f), 0);
  CHECK_EQ_INT(p.b.patch.present, 0);
}

/* ---- SESSION_PATCH (§4.3) --------------------------------------------------
 */

TEST(session_patch_reserved0) {
  uint8_t m[36];
  memcpy(m, g_sp, 36);
  wc_put_le(m + 2, 2, 0x0100);
  expect_meta_fault(SP, m, "reserved0", 2, 0);
  nnrp_meta d;
  nnrp_fault f;
  CHECK_EQ_INT(wc_meta_decode(SP, m, LENIENT, &d, &f), 0);
  CHECK_EQ_INT(d.session_patch.reserved0, 0x0100); /* kept as read */
}

TEST(session_patch_mask_both_modes) {
  uint8_t m[36];
  memcpy(m, g_sp, 36);
  uint32_t bad[] = {0x80, 0xFF, 0x100, 0x80000000u};
  for (int i = 0; i < 4; i++) {
    wc_put_le(m + 4, 4, bad[i]);
    expect_meta_fault(SP, m, "patch_mask", 4, NNRP_ERR_MALFORMED_BODY);
  }
  nnrp_meta d;
  nnrp_fault f;
  wc_put_le(m + 4, 4, 0x7F);
  CHECK_EQ_INT(wc_meta_decode(SP, m, 0, &d, &f), 0);
  wc_put_le(m + 4, 4, 0);
  CHECK_EQ_INT(wc_meta_decode(SP, m, 0, &d, &f), 0);
}

TEST(session_patch_block_bytes) {
  uint8_t m[36];
  nnrp_packet p;
  nnrp_fault f;
  memcpy(m, g_sp, 36);
  uint32_t bad[] = {1, 8, 15, 17, 32, 0xFFFFFFFFu};
  for (int i = 0; i < 6; i++) {
    wc_put_le(m + 32, 4, bad[i]);
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
  wc_put_le(m + 32, 4, 0);
  CHECK_EQ_INT(pkt_dec(SP, m, g_block, 16, 0, &p, &f), NNRP_ERR_MALFORMED_BODY);
  CHECK_EQ_STR(f.rule, "wire.md §4.3");
}

TEST(session_patch_no_cross_check) {
  /* PROFILE_PATCH is not cross-checked against the block (§4.3 [R]). */
  uint8_t m[36];
  nnrp_packet p;
  nnrp_fault f;
  memcpy(m, g_sp, 36);
  wc_put_le(m + 4, 4, 0x40);
  wc_put_le(m + 32, 4, 0);
  CHECK_EQ_INT(pkt_dec(SP, m, NULL, 0, 0, &p, &f), 0);
  wc_put_le(m + 4, 4, 0x01);
  wc_put_le(m + 32, 4, 16);
  CHECK_EQ_INT(pkt_dec(SP, m, g_block, 16, 0, &p, &f), 0);
  /* Free fields are never range-checked (D2). */
  memset(m, 0xFF, 32);
  wc_put_le(m + 2, 2, 0);    /* reserved0 */
  wc_put_le(m + 4, 4, 0x7F); /* patch_mask */
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
    wc_put_le(m, 2, s);
    CHECK_EQ_INT(wc_meta_decode(SPA, m, 0, &d, &f), 0);
  }
  wc_put_le(m, 2, 3);
  expect_meta_fault(SPA, m, "ack_status", 0, NNRP_ERR_MALFORMED_BODY);
  wc_put_le(m, 2, 0xFFFF);
  expect_meta_fault(SPA, m, "ack_status", 0, NNRP_ERR_MALFORMED_BODY);
  memcpy(m, g_spa, 48);
  for (uint16_t r = 0; r <= 5; r++) {
    wc_put_le(m + 2, 2, r);
    CHECK_EQ_INT(wc_meta_decode(SPA, m, 0, &d, &f), 0);
  }
  wc_put_le(m + 2, 2, 6);
  expect_meta_fault(SPA, m, "reject_reason", 2, NNRP_ERR_MALFORMED_BODY);
}

TEST(session_patch_ack_masks_both_modes) {
  uint8_t m[48];
  memcpy(m, g_spa, 48);
  wc_put_le(m + 4, 4, 0x80);
  expect_meta_fault(SPA, m, "applied_patch_mask", 4, NNRP_ERR_MALFORMED_BODY);
  memcpy(m, g_spa, 48);
  wc_put_le(m + 8, 4, 0x100);
  expect_meta_fault(SPA, m, "rejected_patch_mask", 8, NNRP_ERR_MALFORMED_BODY);
  nnrp_meta d;
  nnrp_fault f;
  wc_put_le(m + 4, 4, 0x7F);
  wc_put_le(m + 8, 4, 0x7F); /* overlap is a sender rule, not checked */
  CHECK_EQ_INT(wc_meta_decode(SPA, m, 0, &d, &f), 0);
}

TEST(session_patch_ack_reserved0) {
  uint8_t m[48];
  memcpy(m, g_spa, 48);
  wc_put_le(m + 18, 2, 1);
  expect_meta_fault(SPA, m, "reserved0", 18, 0);
  nnrp_meta d;
  nnrp_fault f;
  CHECK_EQ_INT(wc_meta_decode(SPA, m, LENIENT, &d, &f), 0);
  CHECK_EQ_INT(d.session_patch_ack.reserved0, 1);
  /* Enum faults come first (field order). */
  wc_put_le(m, 2, 9);
  CHECK_EQ_INT(wc_meta_decode(SPA, m, 0, &d, &f), NNRP_ERR_MALFORMED_BODY);
  CHECK_EQ_STR(f.field, "ack_status");
}

TEST(session_patch_ack_block_bytes) {
  uint8_t m[48];
  nnrp_packet p;
  nnrp_fault f;
  memcpy(m, g_spa, 48);
  wc_put_le(m + 44, 4, 4);
  expect_meta_fault(SPA, m, "profile_patch_ack_bytes", 44,
                    NNRP_ERR_MALFORMED_BODY);
  wc_put_le(m + 44, 4, 16);
  for (uint32_t fl = 0; fl <= LENIENT; fl++) {
    CHECK_EQ_INT(pkt_dec(SPA, m, NULL, 0, fl, &p, &f), NNRP_ERR_MALFORMED_BODY);
    CHECK_EQ_STR(f.field, "profile_patch_ack_bytes");
    CHECK_EQ_INT(f.offset, 88);
  }
  wc_put_le(m + 44, 4, 0);
  CHECK_EQ_INT(pkt_dec(SPA, m, g_block, 16, 0, &p, &f),
               NNRP_ERR_MALFORMED_BODY);
  CHECK_EQ_STR(f.rule, "wire.md §4.4");
}

int main(void) {
  wc_vec_exact("metadata.session_patch", g_sp, 36);
  wc_vec_exact("metadata.session_patch_ack.preview2", g_spa, 48);

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
  wc_vectors_free();
  TEST_MAIN_END();
}
