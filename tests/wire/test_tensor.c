/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_tensor.c - tile-index encodings (wire.md §8.4), tensor body layout
 * (§8.3) and TensorSectionDesc rules S1-S8 (§8.5): the seed-line vectors
 * body.tile_index.*, body.tensor_section.mixed_codec_fixed_stride and
 * body.result_push.legacy_tensor, plus one negative test per rule.
 */
#include <stdlib.h>
#include <string.h>

#include <nnrp/nnrp_wire.h>

#include "guard.h"
#include "harness.h"
#include "wire_check.h"

#define MB NNRP_ERR_MALFORMED_BODY

static void tile_vector(const char *name, uint8_t mode, uint32_t base) {
  uint8_t *b = NULL;
  size_t n = wc_vec_hex(name, &b);
  const cJSON *ids = wc_jget(wc_vec_fields(name), "tile_ids");
  nnrp_tile_index ti = {mode, (uint16_t)cJSON_GetArraySize(ids), base, {b, n}};
  nnrp_fault f = {0};
  CHECK_EQ_INT(nnrp_tile_index_check(&ti, &f), 0);
  wc_check_tile_ids(&ti, ids);
  /* Guard page: the last id is read from the last two bytes. */
  void *h = NULL;
  ti.block.ptr = nnrp_test_guard_copy(b, n, &h);
  CHECK_EQ_INT(nnrp_tile_index_check(&ti, &f), 0);
  wc_check_tile_ids(&ti, ids);
  nnrp_test_guard_free(h);
  free(b);
}

TEST(tile_index_raw_u16_vector) {
  tile_vector("body.tile_index.raw_u16", NNRP_TILE_INDEX_RAW_U16, 0);
}

TEST(tile_index_delta_u16_vector) {
  tile_vector("body.tile_index.delta_u16", NNRP_TILE_INDEX_DELTA_U16, 0);
}

/* BITSET ignores tile_base_id. */
TEST(tile_index_bitset_vector) {
  tile_vector("body.tile_index.bitset", NNRP_TILE_INDEX_BITSET, 1000);
}

TEST(tile_index_bitset_trailing_zero_bytes) {
  static const uint8_t blk[] = {0x12, 0x02, 0x00, 0x00};
  nnrp_tile_index ti = {NNRP_TILE_INDEX_BITSET, 3, 0, {blk, sizeof blk}};
  CHECK_EQ_INT(nnrp_tile_index_check(&ti, NULL), 0);
  nnrp_tile_iter it;
  uint32_t id = 0;
  nnrp_tile_iter_init(&it, &ti);
  CHECK(nnrp_tile_iter_next(&it, &id) && id == 1);
  CHECK(nnrp_tile_iter_next(&it, &id) && id == 4);
  CHECK(nnrp_tile_iter_next(&it, &id) && id == 9);
  CHECK_EQ_INT(nnrp_tile_iter_next(&it, &id), 0);
  /* No ids: an empty block and count 0. */
  nnrp_tile_index none = {NNRP_TILE_INDEX_BITSET, 0, 0, {NULL, 0}};
  CHECK_EQ_INT(nnrp_tile_index_check(&none, NULL), 0);
}

TEST(tile_index_dense_range) {
  nnrp_tile_index ti = {NNRP_TILE_INDEX_DENSE_RANGE, 3, 40, {NULL, 0}};
  CHECK_EQ_INT(nnrp_tile_index_check(&ti, NULL), 0);
  nnrp_tile_iter it;
  uint32_t id = 0;
  nnrp_tile_iter_init(&it, &ti);
  for (uint32_t i = 0; i < 3; i++) {
    CHECK(nnrp_tile_iter_next(&it, &id) == 1);
    CHECK_EQ_U64(id, 40 + i);
  }
  CHECK_EQ_INT(nnrp_tile_iter_next(&it, &id), 0);
}

/* Each decoder rule of the §8.4 table. */
TEST(tile_index_decoder_rules) {
  static const uint8_t six[] = {9, 0, 17, 0, 33, 0};
  nnrp_fault f = {0};
  nnrp_tile_index d = {NNRP_TILE_INDEX_DENSE_RANGE, 3, 0, {six, 2}};
  WC_FAULT(nnrp_tile_index_check(&d, &f), f, MB, "wire.md §8.4 DENSE_RANGE",
           "tile_index_bytes");
  nnrp_tile_index r = {NNRP_TILE_INDEX_RAW_U16, 2, 0, {six, 6}};
  WC_FAULT(nnrp_tile_index_check(&r, &f), f, MB, "wire.md §8.4 RAW_U16",
           "tile_index_bytes");
  r.count = 4;
  WC_FAULT(nnrp_tile_index_check(&r, &f), f, MB, "wire.md §8.4 RAW_U16",
           "tile_index_bytes");
  nnrp_tile_index dl = {NNRP_TILE_INDEX_DELTA_U16, 2, 0, {six, 6}};
  WC_FAULT(nnrp_tile_index_check(&dl, &f), f, MB, "wire.md §8.4 DELTA_U16",
           "tile_index_bytes");
  static const uint8_t bits[] = {0x12, 0x02};
  nnrp_tile_index bs = {NNRP_TILE_INDEX_BITSET, 2, 0, {bits, 2}};
  WC_FAULT(nnrp_tile_index_check(&bs, &f), f, MB, "wire.md §8.4 BITSET",
           "tile_count");
  bs.count = 4;
  WC_FAULT(nnrp_tile_index_check(&bs, &f), f, MB, "wire.md §8.4 BITSET",
           "tile_count");
  nnrp_tile_index bad = {4, 0, 0, {NULL, 0}};
  WC_FAULT(nnrp_tile_index_check(&bad, &f), f, MB, "wire.md §11.2",
           "tile_index_mode");
}

/* An unchecked index (block too short) never makes the iterator overrun. */
TEST(tile_iter_unchecked_is_bounded) {
  static const uint8_t two[] = {1, 0};
  void *h = NULL;
  uint8_t *g = nnrp_test_guard_copy(two, 2, &h);
  nnrp_tile_index ti = {NNRP_TILE_INDEX_RAW_U16, 5, 0, {g, 2}};
  nnrp_tile_iter it;
  uint32_t id = 0;
  nnrp_tile_iter_init(&it, &ti);
  CHECK_EQ_INT(nnrp_tile_iter_next(&it, &id), 1);
  CHECK_EQ_INT(nnrp_tile_iter_next(&it, &id), 0);
  ti.mode = NNRP_TILE_INDEX_BITSET;
  nnrp_tile_iter_init(&it, &ti);
  CHECK_EQ_INT(nnrp_tile_iter_next(&it, &id), 1);
  CHECK_EQ_U64(id, 0);
  CHECK_EQ_INT(nnrp_tile_iter_next(&it, &id), 0);
  nnrp_test_guard_free(h);
}

/* ---- Sections ----------------------------------------------------------- */

/* The section vector alone = a TENSOR_SECTION_TABLE payload (2 tiles). */
static int decode_fixed(uint8_t *b, size_t n, uint16_t tiles, uint32_t flags,
                        nnrp_tensor_view *tv, nnrp_fault *f) {
  nnrp_tile_index ti = {NNRP_TILE_INDEX_DENSE_RANGE, tiles, 0, {NULL, 0}};
  return nnrp_tensor_body_decode(tv, &ti, 0, 1, b, n, flags, f);
}

TEST(section_mixed_codec_fixed_stride_vector) {
  const char *name = "body.tensor_section.mixed_codec_fixed_stride";
  uint8_t *b = NULL;
  size_t n = wc_vec_hex(name, &b);
  void *h = NULL;
  uint8_t *g = nnrp_test_guard_copy(b, n, &h);
  nnrp_tensor_view tv;
  nnrp_fault f = {0};
  CHECK_EQ_INT(decode_fixed(g, n, 2, 0, &tv, &f), 0);
  CHECK_EQ_INT(tv.section_count, 1);
  CHECK(tv.sections.ptr == g);
  CHECK_EQ_INT(tv.sections.len, n);
  nnrp_section_iter it;
  nnrp_section_view s;
  nnrp_section_iter_init(&it, &tv);
  CHECK_EQ_INT(nnrp_section_iter_next(&it, &s), 1);
  wc_check_section(&s, wc_vec_fields(name));
  CHECK(s.codec_table == g + 32);
  CHECK(s.length_table == g + 34);
  CHECK(s.payload == g + 42);
  CHECK_EQ_INT(nnrp_section_iter_next(&it, &s), 0);
  nnrp_test_guard_free(h);
  free(b);
}

/* Legacy RESULT_PUSH body: RAW_U16 index of 6 bytes, pad, one section. */
TEST(result_legacy_tensor_vector) {
  const char *name = "body.result_push.legacy_tensor";
  const cJSON *js = wc_vec_fields(name);
  uint8_t *b = NULL;
  size_t n = wc_vec_hex(name, &b);
  void *h = NULL;
  uint8_t *g = nnrp_test_guard_copy(b, n, &h);
  nnrp_tile_index ti = {NNRP_TILE_INDEX_RAW_U16, 3, 0, {NULL, 0}};
  nnrp_tensor_view tv;
  nnrp_fault f = {0};
  CHECK_EQ_INT(nnrp_tensor_body_decode(&tv, &ti, 6, 1, g, n, 0, &f), 0);
  CHECK(tv.tiles.block.ptr == g);
  CHECK_EQ_INT(tv.tiles.block.len, wc_jval(js, "tile_index_bytes"));
  wc_check_tile_ids(&tv.tiles, wc_jget(js, "tile_ids"));
  CHECK(tv.sections.ptr == g + 8);
  nnrp_section_iter it;
  nnrp_section_view s;
  nnrp_section_iter_init(&it, &tv);
  CHECK_EQ_INT(nnrp_section_iter_next(&it, &s), 1);
  wc_check_section(&s, cJSON_GetArrayItem(wc_jget(js, "sections"), 0));
  CHECK(s.codec_table == NULL);
  CHECK_EQ_INT(nnrp_section_iter_next(&it, &s), 0);
  nnrp_test_guard_free(h);
  free(b);
}

/* Patches one descriptor field of the fixed-stride vector and expects rule. */
static void fixed_neg(size_t off, int width, uint32_t v, uint16_t tiles,
                      const char *rule, const char *field) {
  uint8_t *b = NULL;
  size_t n = wc_vec_hex("body.tensor_section.mixed_codec_fixed_stride", &b);
  wc_put_le(b + off, (unsigned)width, v);
  nnrp_tensor_view tv;
  nnrp_fault f = {0};
  WC_FAULT(decode_fixed(b, n, tiles, 0, &tv, &f), f, MB, rule, field);
  WC_FAULT(decode_fixed(b, n, tiles, NNRP_WIRE_LENIENT, &tv, &f), f, MB, rule,
           field);
  free(b);
}

TEST(section_rules_s1_to_s8) {
  /* S1: the payload blob runs past the end of the body. */
  fixed_neg(20, 4, 12, 2, "wire.md §8.5 S1", "payload_bytes");
  /* S2: length table not a multiple of 4. */
  fixed_neg(16, 4, 7, 2, "wire.md §8.5 S2", "length_table_bytes");
  /* S3: FIXED_STRIDE clear with a stride. */
  fixed_neg(6, 2, 0x0001, 2, "wire.md §8.5 S3", "flags");
  /* S4: MIXED_CODEC clear with a codec table. */
  fixed_neg(6, 2, 0x0002, 2, "wire.md §8.5 S4", "flags");
  /* S5: codec table neither 0 nor one byte per tile. */
  fixed_neg(12, 4, 1, 2, "wire.md §8.5 S5", "codec_table_bytes");
  /* S6: payload_bytes != stride x entries. */
  fixed_neg(20, 4, 4, 2, "wire.md §8.5 S6", "payload_bytes");
  /* S6: a length above the stride. */
  fixed_neg(42 - 8, 4, 5, 2, "wire.md §8.5 S6", "length_table");
  /* S6: unused slot bytes must be zero (tile 0 uses 2 of 4). */
  fixed_neg(42 + 3, 1, 0x55, 2, "wire.md §8.5 S6", "payload_blob");
  /* S8: the metadata says 3 tiles, the table holds 2. */
  fixed_neg(0, 1, 9, 3, "wire.md §8.5 S8", "length_table_bytes");
}

TEST(section_rule_s3_stride_without_flag_reverse) {
  /* FIXED_STRIDE set but stride 0. */
  uint8_t *b = NULL;
  size_t n = wc_vec_hex("body.tensor_section.mixed_codec_fixed_stride", &b);
  wc_put_le(b + 24, 4, 0);
  nnrp_tensor_view tv;
  nnrp_fault f = {0};
  WC_FAULT(decode_fixed(b, n, 2, 0, &tv, &f), f, MB, "wire.md §8.5 S3",
           "flags");
  free(b);
}

/* S7 on the variable-length section of the legacy result vector. */
TEST(section_rule_s7_variable_sum) {
  uint8_t *b = NULL;
  size_t n = wc_vec_hex("body.result_push.legacy_tensor", &b);
  wc_put_le(b + 8 + 32 + 4, 4, 3); /* second length 2 -> 3 */
  nnrp_tile_index ti = {NNRP_TILE_INDEX_RAW_U16, 3, 0, {NULL, 0}};
  nnrp_tensor_view tv;
  nnrp_fault f = {0};
  WC_FAULT(nnrp_tensor_body_decode(&tv, &ti, 6, 1, b, n, 0, &f), f, MB,
           "wire.md §8.5 S7", "length_table");
  CHECK_EQ_U64(f.offset, 8 + 32);
  free(b);
}

TEST(section_desc_enums_flags_reserved) {
  fixed_neg(3, 1, 8, 2, "wire.md §8.5", "dtype_id");
  fixed_neg(4, 1, 2, 2, "wire.md §8.5", "layout_id");
  fixed_neg(5, 1, 3, 2, "wire.md §8.5", "scale_policy");
  /* Unknown SectionFlags bit and reserved: strict rejects, lenient accepts
   * (flags cleared, reserved kept as read). */
  uint8_t *b = NULL;
  size_t n = wc_vec_hex("body.tensor_section.mixed_codec_fixed_stride", &b);
  wc_put_le(b + 6, 2, 0x0007);
  wc_put_le(b + 28, 4, 0xABCD);
  nnrp_tensor_view tv;
  nnrp_fault f = {0};
  WC_FAULT(decode_fixed(b, n, 2, 0, &tv, &f), f, MB, "wire.md §8.5", "flags");
  wc_put_le(b + 6, 2, 0x0003);
  WC_FAULT(decode_fixed(b, n, 2, 0, &tv, &f), f, MB, "wire.md §1 rule 7",
           "reserved");
  wc_put_le(b + 6, 2, 0x0007);
  CHECK_EQ_INT(decode_fixed(b, n, 2, NNRP_WIRE_LENIENT, &tv, &f), 0);
  nnrp_section_iter it;
  nnrp_section_view s;
  nnrp_section_iter_init(&it, &tv);
  CHECK_EQ_INT(nnrp_section_iter_next(&it, &s), 1);
  CHECK_EQ_U64(s.desc.flags, 0x0003);
  CHECK_EQ_U64(s.desc.reserved, 0xABCD);
  free(b);
}

/* A two-section body built from the legacy result vector: index(6) pad(2)
 * secA(50) pad(6) secB(50) = 114 bytes; role ids 100 and 101. */
static size_t two_sections(uint8_t *out) {
  uint8_t *b = NULL;
  size_t n = wc_vec_hex("body.result_push.legacy_tensor", &b);
  CHECK_EQ_INT(n, 58);
  memset(out, 0, 114);
  memcpy(out, b, 58);
  memcpy(out + 64, b + 8, 50);
  wc_put_le(out + 64, 2, 101);
  free(b);
  return 114;
}

static int decode_two(const uint8_t *b, size_t n, uint16_t sections,
                      nnrp_tensor_view *tv, nnrp_fault *f) {
  nnrp_tile_index ti = {NNRP_TILE_INDEX_RAW_U16, 3, 0, {NULL, 0}};
  return nnrp_tensor_body_decode(tv, &ti, 6, sections, b, n, 0, f);
}

TEST(two_sections_and_iterators) {
  uint8_t b[128];
  size_t n = two_sections(b);
  nnrp_tensor_view tv;
  nnrp_fault f = {0};
  CHECK_EQ_INT(decode_two(b, n, 2, &tv, &f), 0);
  nnrp_section_iter it;
  nnrp_section_view s;
  nnrp_section_iter_init(&it, &tv);
  CHECK_EQ_INT(nnrp_section_iter_next(&it, &s), 1);
  CHECK_EQ_INT(s.desc.role_id, 100);
  CHECK_EQ_INT(nnrp_section_iter_next(&it, &s), 1);
  CHECK_EQ_INT(s.desc.role_id, 101);
  CHECK(s.payload == b + 64 + 44);
  nnrp_tile_data_iter ti;
  nnrp_bytes t;
  nnrp_tile_data_iter_init(&ti, &s);
  CHECK_EQ_INT(nnrp_tile_data_iter_next(&ti, &t, NULL), 1);
  CHECK_EQ_INT(nnrp_tile_data_iter_next(&ti, &t, NULL), 1);
  CHECK_EQ_INT(nnrp_tile_data_iter_next(&ti, &t, NULL), 1);
  CHECK_EQ_MEM(t.ptr, "rc", 2);
  CHECK_EQ_INT(nnrp_section_iter_next(&it, &s), 0);
}

TEST(layout_rules_8_3) {
  uint8_t b[128];
  size_t n = two_sections(b);
  nnrp_tensor_view tv;
  nnrp_fault f = {0};
  /* Rule 1: body shorter than the tile-index block. */
  WC_FAULT(decode_two(b, 5, 0, &tv, &f), f, MB, "wire.md §8.3 rule 1",
           "tile_index_bytes");
  /* Rule 2: pad after the tile index missing, then not zero. */
  WC_FAULT(decode_two(b, 7, 1, &tv, &f), f, MB, "wire.md §8.3 rule 2",
           "padding");
  b[7] = 1;
  WC_FAULT(decode_two(b, n, 2, &tv, &f), f, MB, "wire.md §8.3 rule 2",
           "padding");
  CHECK_EQ_U64(f.offset, 6);
  b[7] = 0;
  /* Rule 4: pad between sections not zero. */
  b[60] = 1;
  WC_FAULT(decode_two(b, n, 2, &tv, &f), f, MB, "wire.md §8.3 rule 4",
           "padding");
  b[60] = 0;
  /* Rule 3: fewer sections than section_count (pad present, no desc). */
  WC_FAULT(decode_two(b, 64, 2, &tv, &f), f, MB, "wire.md §8.3 rule 3",
           "section_count");
  /* Rule 4 also when the pad itself is missing. */
  WC_FAULT(decode_two(b, 58, 2, &tv, &f), f, MB, "wire.md §8.3 rule 4",
           "padding");
  /* Rule 5: bytes after the last section; section_count 0 with sections. */
  WC_FAULT(decode_two(b, n, 1, &tv, &f), f, MB, "wire.md §8.3 rule 5",
           "body_len");
  CHECK_EQ_U64(f.offset, 58);
  WC_FAULT(decode_two(b, n, 0, &tv, &f), f, MB, "wire.md §8.3 rule 5",
           "body_len");
  /* role_id strictly increasing. */
  wc_put_le(b + 64, 2, 100);
  WC_FAULT(decode_two(b, n, 2, &tv, &f), f, MB, "wire.md §8.3", "role_id");
  wc_put_le(b + 64, 2, 99);
  WC_FAULT(decode_two(b, n, 2, &tv, &f), f, MB, "wire.md §8.3", "role_id");
}

/* Padding is checked in lenient mode too (wire.md §13). */
TEST(layout_padding_lenient_still_rejected) {
  uint8_t b[128];
  size_t n = two_sections(b);
  b[6] = 0x80;
  nnrp_tile_index ti = {NNRP_TILE_INDEX_RAW_U16, 3, 0, {NULL, 0}};
  nnrp_tensor_view tv;
  nnrp_fault f = {0};
  WC_FAULT(nnrp_tensor_body_decode(&tv, &ti, 6, 2, b, n, NNRP_WIRE_LENIENT, &f),
           f, MB, "wire.md §8.3 rule 2", "padding");
}

/* An empty tensor body: DENSE_RANGE ids, no sections. */
TEST(empty_tensor_body) {
  nnrp_tile_index ti = {NNRP_TILE_INDEX_DENSE_RANGE, 4, 7, {NULL, 0}};
  nnrp_tensor_view tv;
  nnrp_fault f = {0};
  CHECK_EQ_INT(nnrp_tensor_body_decode(&tv, &ti, 0, 0, NULL, 0, 0, &f), 0);
  CHECK_EQ_INT(tv.section_count, 0);
  nnrp_section_iter it;
  nnrp_section_view s;
  nnrp_section_iter_init(&it, &tv);
  CHECK_EQ_INT(nnrp_section_iter_next(&it, &s), 0);
  nnrp_tile_iter t;
  uint32_t id = 0;
  nnrp_tile_iter_init(&t, &tv.tiles);
  CHECK(nnrp_tile_iter_next(&t, &id) == 1 && id == 7);
  /* RAW_U16 with 4 tiles needs 8 bytes. */
  ti.mode = NNRP_TILE_INDEX_RAW_U16;
  WC_FAULT(nnrp_tensor_body_decode(&tv, &ti, 0, 0, NULL, 0, 0, &f), f, MB,
           "wire.md §8.4 RAW_U16", "tile_index_bytes");
}

int main(void) {
  RUN(tile_index_raw_u16_vector);
  RUN(tile_index_delta_u16_vector);
  RUN(tile_index_bitset_vector);
  RUN(tile_index_bitset_trailing_zero_bytes);
  RUN(tile_index_dense_range);
  RUN(tile_index_decoder_rules);
  RUN(tile_iter_unchecked_is_bounded);
  RUN(section_mixed_codec_fixed_stride_vector);
  RUN(result_legacy_tensor_vector);
  RUN(section_rules_s1_to_s8);
  RUN(section_rule_s3_stride_without_flag_reverse);
  RUN(section_rule_s7_variable_sum);
  RUN(section_desc_enums_flags_reserved);
  RUN(two_sections_and_iterators);
  RUN(layout_rules_8_3);
  RUN(layout_padding_lenient_still_rejected);
  RUN(empty_tensor_body);
  wc_vectors_free();
  TEST_MAIN_END();
}
