/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_result.c - RESULT_PUSH (wire.md §6.3, §7, §8.2, §9.7): the golden
 * metadata and the preview4 one (same layout, result_flags 0x0005), the
 * legacy tensor body vector, the implied tile-index mode, composed results,
 * and one negative test per rule: R1-R6, §7 rule 1, P1-P5, step 18.
 */
#include <stdlib.h>
#include <string.h>

#include <nnrp/nnrp_wire.h>

#include "guard.h"
#include "harness.h"
#include "wire/wire_int.h"
#include "wire_check.h"

#define MB NNRP_ERR_MALFORMED_BODY
#define LEN NNRP_WIRE_LENIENT
#define RP NNRP_MSG_RESULT_PUSH

#define RESULT NNRP_STRUCT_RESULT_PUSH
#define PREVIEW4                                                               \
  "conformance/protocol/nnrp-1-preview4/cases/nnrp1-baseline-core.json"

/* ---- Metadata ----------------------------------------------------------- */

static uint8_t *golden_meta(void) {
  uint8_t *b = NULL;
  CHECK_EQ_INT(wc_vec_hex("metadata.result_push.partial_stale", &b), 64);
  return b;
}

TEST(meta_golden_partial_stale) {
  wc_check_meta_golden("metadata.result_push.partial_stale", NULL);
}

/* vectors/README.md §3: same layout, result_flags 0x0005; decodes. */
TEST(meta_preview4_decodes) {
  size_t n = 0;
  uint8_t *b = wc_case_hex(PREVIEW4, "l0.result_push.metadata.golden",
                           "metadata_hex", &n);
  if (!CHECK(b != NULL))
    return;
  CHECK_EQ_INT(n, 64);
  nnrp_meta m;
  nnrp_fault f = {0};
  CHECK_EQ_INT(wc_meta_decode(RP, b, 0, &m, &f), 0);
  CHECK_EQ_U64(m.result_push.result_flags, 0x0005);
  static const char *const skip[] = {"result_flags", NULL};
  WC_CHECK_FIELDS(wc_vec_fields("metadata.result_push.partial_stale"), RESULT,
                  &m.result_push, skip, WC_EXACT);
  uint8_t out[64];
  nnrp__result_push_meta_enc(&m, out);
  CHECK_EQ_MEM(out, b, 64);
  free(b);
}

static int mpatch(size_t off, int width, uint64_t v, uint32_t flags,
                  nnrp_meta *m, nnrp_fault *f) {
  uint8_t *b = golden_meta();
  wc_put_le(b + off, (unsigned)width, v);
  int rc = wc_meta_decode(RP, b, flags, m, f);
  free(b);
  return rc;
}

TEST(meta_rule_r1) {
  nnrp_meta m;
  nnrp_fault f = {0};
  const char *r1 = "wire.md §6.3 R1";
  WC_FAULT(mpatch(2, 2, 0x000C, 0, &m, &f), f, MB, r1, "result_flags");
  CHECK_EQ_U64(f.offset, 2);
  CHECK_EQ_INT(mpatch(2, 2, 0x800C, LEN, &m, &f), 0);
  CHECK_EQ_U64(m.result_push.result_flags, 0x0004);
  WC_FAULT(mpatch(44, 1, 4, 0, &m, &f), f, MB, r1, "result_class");
  WC_FAULT(mpatch(44, 1, 0xFF, LEN, &m, &f), f, MB, r1, "result_class");
  WC_FAULT(mpatch(45, 1, 0x11, 0, &m, &f), f, MB, r1, "applied_budget_policy");
  CHECK_EQ_INT(mpatch(45, 1, 0x11, LEN, &m, &f), 0);
  CHECK_EQ_U64(m.result_push.applied_budget_policy, 0x01);
  WC_FAULT(mpatch(56, 4, 0x83, 0, &m, &f), f, MB, r1, "payload_kind_bitmap");
  WC_FAULT(mpatch(56, 4, 0x10003, LEN, &m, &f), f, MB, r1,
           "payload_kind_bitmap");
  for (uint64_t v = 0; v <= 3; v++) { /* every ResultClass */
    int rc = mpatch(44, 1, v, 0, &m, &f);
    CHECK_EQ_INT(rc, 0); /* dropped_tile_count is 31, so R6 holds */
  }
}

TEST(meta_reserved) {
  static const struct {
    size_t off;
    int width;
    const char *field;
  } t[] = {{10, 2, "reserved0"}, {18, 2, "reserved1"}, {28, 8, "reserved2"},
           {36, 8, "reserved3"}, {46, 2, "reserved4"}, {62, 2, "reserved5"}};
  uint8_t *b = golden_meta();
  for (size_t i = 0; i < sizeof t / sizeof t[0]; i++)
    WC_RESERVED(RP, b, t[i].off, (unsigned)t[i].width, 0x0101,
                "wire.md §1 rule 7", t[i].field);
  free(b);
}

static void nontensor_meta(uint8_t out[64]) {
  nnrp_meta m;
  memset(&m, 0, sizeof m);
  m.result_push.payload_kind_bitmap = NNRP_PAYLOAD_KIND_TOKEN_CHUNK;
  m.result_push.payload_frame_count = 1;
  m.result_push.status_code = 3;
  nnrp__result_push_meta_enc(&m, out);
}

TEST(meta_rule_r2) {
  static const struct {
    size_t off;
    const char *field;
  } t[] = {{4, "section_count"},       {6, "tile_count"},
           {20, "tile_base_id"},       {24, "tile_index_bytes"},
           {52, "covered_tile_count"}, {54, "dropped_tile_count"}};
  uint8_t b[64];
  nnrp_meta m;
  nnrp_fault f = {0};
  nontensor_meta(b);
  CHECK_EQ_INT(wc_meta_decode(RP, b, 0, &m, &f), 0);
  for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
    nontensor_meta(b);
    b[t[i].off] = 1;
    WC_FAULT(wc_meta_decode(RP, b, 0, &m, &f), f, MB, "wire.md §6.3 R2",
             t[i].field);
    CHECK_EQ_U64(f.offset, t[i].off);
    WC_FAULT(wc_meta_decode(RP, b, LEN, &m, &f), f, MB, "wire.md §6.3 R2",
             t[i].field);
  }
}

/* Golden: tile_count 84, covered 53, dropped 31, class PARTIAL, flag PARTIAL.
 */
TEST(meta_rules_r3_to_r6) {
  uint8_t *b = golden_meta();
  nnrp_meta m;
  nnrp_fault f = {0};
  wc_put_le(b + 52, 2, 85);
  wc_put_le(b + 54, 2, 0);
  WC_FAULT(wc_meta_decode(RP, b, 0, &m, &f), f, MB, "wire.md §6.3 R3",
           "covered_tile_count");
  wc_put_le(b + 52, 2, 0);
  wc_put_le(b + 54, 2, 85);
  WC_FAULT(wc_meta_decode(RP, b, 0, &m, &f), f, MB, "wire.md §6.3 R4",
           "dropped_tile_count");
  wc_put_le(b + 52, 2, 50);
  wc_put_le(b + 54, 2, 31);
  WC_FAULT(wc_meta_decode(RP, b, 0, &m, &f), f, MB, "wire.md §6.3 R5",
           "covered_tile_count");
  WC_FAULT(wc_meta_decode(RP, b, LEN, &m, &f), f, MB, "wire.md §6.3 R5",
           "covered_tile_count");
  /* R6: PARTIAL class, or PARTIAL flag, needs a dropped tile. */
  wc_put_le(b + 52, 2, 84);
  wc_put_le(b + 54, 2, 0);
  WC_FAULT(wc_meta_decode(RP, b, 0, &m, &f), f, MB, "wire.md §6.3 R6",
           "dropped_tile_count");
  b[44] = NNRP_RESULT_CLASS_COMPLETE;
  WC_FAULT(wc_meta_decode(RP, b, 0, &m, &f), f, MB, "wire.md §6.3 R6",
           "dropped_tile_count");
  wc_put_le(b + 2, 2, NNRP_RESULT_FLAG_STALE);
  CHECK_EQ_INT(wc_meta_decode(RP, b, 0, &m, &f), 0);
  b[44] = NNRP_RESULT_CLASS_PARTIAL;
  WC_FAULT(wc_meta_decode(RP, b, LEN, &m, &f), f, MB, "wire.md §6.3 R6",
           "dropped_tile_count");
  free(b);
}

/* ---- Legacy bodies (§7 rule 1, §8.2) ------------------------------------ */

static nnrp_meta legacy_meta(void) {
  nnrp_meta m;
  memset(&m, 0, sizeof m);
  m.result_push.payload_kind_bitmap = NNRP_PAYLOAD_KIND_TENSOR;
  m.result_push.tile_count = 3;
  m.result_push.covered_tile_count = 3;
  m.result_push.section_count = 1;
  m.result_push.tile_index_bytes = 6;
  return m;
}

static int bdec(const nnrp_meta *m, const uint8_t *body, size_t len,
                uint32_t flags, nnrp_data_body *b, nnrp_fault *f) {
  return wc_data_decode(RP, m, body, len, flags, b, f);
}

static void check_vector_tensor(const nnrp_tensor_view *tv) {
  const cJSON *js = wc_vec_fields("body.result_push.legacy_tensor");
  CHECK_EQ_INT(tv->tiles.mode, NNRP_TILE_INDEX_RAW_U16);
  CHECK_EQ_U64(tv->tiles.block.len, wc_jval(js, "tile_index_bytes"));
  wc_check_tile_ids(&tv->tiles, wc_jget(js, "tile_ids"));
  wc_check_sections(tv, wc_jget(js, "sections"));
}

TEST(body_legacy_tensor_vector) {
  uint8_t *raw = NULL;
  size_t n = wc_vec_hex("body.result_push.legacy_tensor", &raw);
  void *h = NULL;
  uint8_t *g = nnrp_test_guard_copy(raw, n, &h);
  nnrp_meta m = legacy_meta();
  nnrp_data_body b;
  nnrp_fault f = {0};
  CHECK_EQ_INT(bdec(&m, g, n, 0, &b, &f), 0);
  CHECK_EQ_INT(b.composed, 0);
  CHECK_EQ_INT(b.has_tensor, 1);
  CHECK_EQ_U64(b.slots_inline, NNRP_SLOT_TILE_INDEX | NNRP_SLOT_SECTION_TABLE);
  CHECK_EQ_INT(b.camera.len, 0);
  check_vector_tensor(&b.tensor);
  nnrp_test_guard_free(h);
  free(raw);
}

TEST(body_rule_7_1_and_implied_mode) {
  nnrp_meta m;
  memset(&m, 0, sizeof m);
  nnrp_data_body b;
  nnrp_fault f = {0};
  uint8_t one[1] = {0};
  /* Bitmap 0: legacy form, body must be empty. */
  CHECK_EQ_INT(bdec(&m, NULL, 0, 0, &b, &f), 0);
  CHECK_EQ_INT(b.composed, 0);
  CHECK_EQ_INT(b.has_tensor, 0);
  WC_FAULT(bdec(&m, one, 1, LEN, &b, &f), f, MB, "wire.md §7 rule 1",
           "body_len");
  /* tile_index_bytes 0 implies DENSE_RANGE from tile_base_id. */
  uint8_t *raw = NULL;
  size_t n = wc_vec_hex("body.result_push.legacy_tensor", &raw);
  m = legacy_meta();
  m.result_push.tile_index_bytes = 0;
  m.result_push.tile_base_id = 10;
  CHECK_EQ_INT(bdec(&m, raw + 8, n - 8, 0, &b, &f), 0);
  CHECK_EQ_INT(b.tensor.tiles.mode, NNRP_TILE_INDEX_DENSE_RANGE);
  nnrp_tile_iter it;
  uint32_t id = 0;
  nnrp_tile_iter_init(&it, &b.tensor.tiles);
  for (uint32_t i = 0; i < 3; i++)
    CHECK(nnrp_tile_iter_next(&it, &id) == 1 && id == 10 + i);
  /* tile_index_bytes != 0 implies RAW_U16: the block is 2 x tile_count. */
  m.result_push.tile_index_bytes = 4;
  WC_FAULT(bdec(&m, raw, n, 0, &b, &f), f, MB, "wire.md §8.4 RAW_U16",
           "tile_index_bytes");
  /* Section rules apply: S8 with a tile count the table does not hold. */
  m = legacy_meta();
  m.result_push.tile_count = 2;
  m.result_push.covered_tile_count = 2;
  m.result_push.tile_index_bytes = 4;
  uint8_t body[64];
  memcpy(body, raw, 4);
  memset(body + 4, 0, 4);
  memcpy(body + 8, raw + 8, n - 8);
  WC_FAULT(bdec(&m, body, n, 0, &b, &f), f, MB, "wire.md §8.5 S8",
           "length_table_bytes");
  CHECK_EQ_U64(f.offset, 8 + 16);
  free(raw);
}

/* ---- Composed results (§9.7) -------------------------------------------- */

/* Inline payloads: TILE_INDEX = RAW_U16 {0,1,2}; TENSOR_SECTION_TABLE = the
 * section of the legacy vector (3 tiles); other kinds opaque. */
static size_t kind_payload(uint16_t kind, uint8_t *out) {
  uint8_t *raw = NULL;
  size_t n = wc_vec_hex("body.result_push.legacy_tensor", &raw);
  size_t len = 5;
  if (kind == NNRP_OBJECT_TILE_INDEX_BLOCK) {
    memcpy(out, raw, 6);
    len = 6;
  } else if (kind == NNRP_OBJECT_TENSOR_SECTION_TABLE) {
    memcpy(out, raw + 8, n - 8);
    len = n - 8;
  } else {
    memcpy(out, "other", 5);
  }
  free(raw);
  return len;
}

typedef struct {
  uint16_t kind;
  uint32_t ns, hi, lo;
} ref_t;

/* Composed result body: inline kinds, references, one "tok" token frame. */
static size_t rbody(uint8_t *out, const uint16_t *inl, size_t ninl,
                    const ref_t *refs, size_t nrefs) {
  uint8_t reg[2][512], pl[64], td[16];
  size_t n[2] = {0, 0};
  for (size_t i = 0; i < ninl; i++) {
    uint32_t len = (uint32_t)kind_payload(inl[i], pl);
    n[0] += wc_inline_block(reg[0] + n[0], inl[i], pl, len);
  }
  for (size_t i = 0; i < nrefs; i++)
    n[1] += wc_ref_block(reg[1] + n[1], refs[i].kind, refs[i].ns, refs[i].hi,
                         refs[i].lo);
  memset(td, 0, sizeof td);
  td[0] = NNRP_PAYLOAD_KIND_TOKEN_CHUNK;
  wc_put_le(td + 8, 4, 3);
  const nnrp_bytes r[6] = {{reg[0], n[0]}, {reg[1], n[1]},
                           {td, 16},       {(const uint8_t *)"tok", 3},
                           {NULL, 0},      {NULL, 0}};
  return wc_compose(out, r);
}

static nnrp_meta cmeta(const uint16_t *inl, size_t ninl) {
  nnrp_meta m = legacy_meta();
  m.result_push.payload_kind_bitmap = 0x03;
  m.result_push.payload_frame_count = 1;
  m.result_push.tile_index_bytes = 0;
  for (size_t i = 0; i < ninl; i++)
    if (inl[i] == NNRP_OBJECT_TILE_INDEX_BLOCK)
      m.result_push.tile_index_bytes = 6;
  return m;
}

static int crun_m(const nnrp_meta *m, const uint16_t *inl, size_t ninl,
                  const ref_t *refs, size_t nrefs, nnrp_data_body *b,
                  nnrp_fault *f) {
  static uint8_t body[512];
  size_t n = rbody(body, inl, ninl, refs, nrefs);
  return nnrp_data_body_decode(RP, m, b, body, n, NULL, f);
}

static int crun(const uint16_t *inl, size_t ninl, const ref_t *refs,
                size_t nrefs, nnrp_data_body *b, nnrp_fault *f) {
  nnrp_meta m = cmeta(inl, ninl);
  return crun_m(&m, inl, ninl, refs, nrefs, b, f);
}

#define N(a) (sizeof(a) / sizeof((a)[0]))

TEST(composed_result_ok) {
  const uint16_t inl[] = {2, 3};
  const ref_t refs[] = {{5, 0, 0, 1}};
  nnrp_data_body b;
  nnrp_fault f = {0};
  CHECK_EQ_INT(crun(inl, 2, refs, 1, &b, &f), 0);
  CHECK_EQ_INT(b.composed, 1);
  CHECK_EQ_INT(b.has_tensor, 1);
  CHECK_EQ_U64(b.slots_inline, NNRP_SLOT_TILE_INDEX | NNRP_SLOT_SECTION_TABLE);
  CHECK_EQ_U64(b.slots_referenced, 0);
  check_vector_tensor(&b.tensor);
  nnrp_object_ref r;
  CHECK_EQ_INT(nnrp_data_body_ref(&b, 0, &r), 0);
  CHECK_EQ_U64(r.object_kind, NNRP_OBJECT_REUSABLE_RESULT_OBJECT);
  nnrp_typed_frame t;
  CHECK_EQ_INT(nnrp_data_body_typed(&b, 0, &t), 0);
  CHECK_EQ_MEM(t.data.ptr, "tok", 3);
  /* Referenced tile index and section table. */
  const ref_t both[] = {{2, 0, 0, 1}, {3, 0, 0, 1}};
  CHECK_EQ_INT(crun(NULL, 0, both, 2, &b, &f), 0);
  CHECK_EQ_INT(b.has_tensor, 0);
  CHECK_EQ_U64(b.slots_referenced,
               NNRP_SLOT_TILE_INDEX | NNRP_SLOT_SECTION_TABLE);
  /* P5: other kinds inline and referenced (a camera block too). */
  const uint16_t other[] = {2, 3, 5, 1, 7, 9};
  const ref_t many[] = {
      {1, 0, 0, 0}, {5, 0, 0, 0}, {5, 0, 1, 0}, {5, 1, 0, 0}, {9, 0, 0, 0}};
  CHECK_EQ_INT(crun(other, N(other), many, N(many), &b, &f), 0);
  CHECK_EQ_U64(b.slots_inline, NNRP_SLOT_TILE_INDEX | NNRP_SLOT_SECTION_TABLE);
  CHECK_EQ_INT(b.camera.len, 0);
  /* An empty inline tile index: DENSE_RANGE implied by tile_index_bytes 0. */
  nnrp_meta m = cmeta(NULL, 0);
  m.result_push.tile_count = 0;
  m.result_push.covered_tile_count = 0;
  m.result_push.section_count = 0;
  static uint8_t body[128];
  size_t n = rbody(body, NULL, 0, NULL, 0);
  CHECK_EQ_INT(nnrp_data_body_decode(RP, &m, &b, body, n, NULL, &f), 0);
}

TEST(p1_reference_order) {
  const uint16_t inl[] = {2, 3};
  nnrp_data_body b;
  nnrp_fault f = {0};
  const ref_t desc_ns[] = {{5, 1, 0, 0}, {5, 0, 9, 9}};
  WC_FAULT(crun(inl, 2, desc_ns, 2, &b, &f), f, MB, "wire.md §9.7 P1",
           "object_reference");
  CHECK_EQ_U64(f.offset, 32 + 24 + 72 + 16);
  const ref_t dup[] = {{5, 1, 2, 3}, {5, 1, 2, 3}};
  WC_FAULT(crun(inl, 2, dup, 2, &b, &f), f, MB, "wire.md §9.7 P1",
           "object_reference");
  const ref_t kinds[] = {{7, 0, 0, 0}, {5, 9, 9, 9}};
  WC_FAULT(crun(inl, 2, kinds, 2, &b, &f), f, MB, "wire.md §9.7 P1",
           "object_reference");
  const ref_t lo[] = {{5, 1, 2, 4}, {5, 1, 2, 3}};
  WC_FAULT(crun(inl, 2, lo, 2, &b, &f), f, MB, "wire.md §9.7 P1",
           "object_reference");
  const ref_t ok[] = {{5, 1, 2, 3}, {5, 1, 2, 4}, {5, 1, 3, 0}};
  CHECK_EQ_INT(crun(inl, 2, ok, 3, &b, &f), 0);
}

TEST(p2_one_inline_each) {
  nnrp_data_body b;
  nnrp_fault f = {0};
  const uint16_t t2[] = {2, 2, 3}, s2[] = {2, 3, 3};
  nnrp_meta m = cmeta(t2, 3);
  WC_FAULT(crun_m(&m, t2, 3, NULL, 0, &b, &f), f, MB, "wire.md §9.7 P2",
           "object_kind");
  WC_FAULT(crun(s2, 3, NULL, 0, &b, &f), f, MB, "wire.md §9.7 P2",
           "object_kind");
}

TEST(p3_tile_index) {
  nnrp_data_body b;
  nnrp_fault f = {0};
  const char *p3 = "wire.md §9.7 P3";
  const uint16_t st[] = {3}, all[] = {2, 3};
  /* At most one reference; never inline and referenced together. */
  const ref_t two[] = {{2, 0, 0, 1}, {2, 0, 0, 2}};
  WC_FAULT(crun(st, 1, two, 2, &b, &f), f, MB, p3, "object_kind");
  const ref_t one[] = {{2, 0, 0, 1}};
  WC_FAULT(crun(all, 2, one, 1, &b, &f), f, MB, p3, "object_kind");
  /* Inline object_bytes = tile_index_bytes. */
  nnrp_meta m = cmeta(all, 2);
  m.result_push.tile_index_bytes = 8;
  WC_FAULT(crun_m(&m, all, 2, NULL, 0, &b, &f), f, MB, p3, "object_bytes");
  CHECK_EQ_U64(f.offset, 32 + 8);
  /* Inline block decodes in the implied mode (RAW_U16: 2 x tile_count). */
  m = cmeta(all, 2);
  m.result_push.tile_count = 2;
  m.result_push.covered_tile_count = 2;
  WC_FAULT(crun_m(&m, all, 2, NULL, 0, &b, &f), f, MB, "wire.md §8.4 RAW_U16",
           "tile_index_bytes");
  CHECK_EQ_U64(f.offset, 32 + 16);
  /* Missing while tile_count > 0. */
  WC_FAULT(crun(st, 1, NULL, 0, &b, &f), f, MB, p3, "tile_count");
  /* Referenced: tile_index_bytes must be 0. */
  m = cmeta(st, 1);
  m.result_push.tile_index_bytes = 6;
  WC_FAULT(crun_m(&m, st, 1, one, 1, &b, &f), f, MB, p3, "tile_index_bytes");
  m.result_push.tile_index_bytes = 0;
  CHECK_EQ_INT(crun_m(&m, st, 1, one, 1, &b, &f), 0);
  CHECK_EQ_U64(b.slots_referenced, NNRP_SLOT_TILE_INDEX);
}

TEST(p4_section_table) {
  nnrp_data_body b;
  nnrp_fault f = {0};
  const char *p4 = "wire.md §9.7 P4";
  const uint16_t tix[] = {2}, all[] = {2, 3};
  const ref_t two[] = {{3, 0, 0, 1}, {3, 0, 0, 2}};
  WC_FAULT(crun(tix, 1, two, 2, &b, &f), f, MB, p4, "object_kind");
  const ref_t one[] = {{3, 0, 0, 1}};
  WC_FAULT(crun(all, 2, one, 1, &b, &f), f, MB, p4, "object_kind");
  /* Inline table parses as §8.3 with section_count and tile_count. */
  nnrp_meta m = cmeta(all, 2);
  m.result_push.section_count = 2;
  WC_FAULT(crun_m(&m, all, 2, NULL, 0, &b, &f), f, MB, "wire.md §8.3 rule 4",
           "padding");
  CHECK_EQ_U64(f.offset, 32 + 24 + 16 + 50);
  /* Missing while section_count > 0. */
  WC_FAULT(crun(tix, 1, NULL, 0, &b, &f), f, MB, p4, "section_count");
  /* section_count 0 with no table is fine. */
  m = cmeta(tix, 1);
  m.result_push.section_count = 0;
  CHECK_EQ_INT(crun_m(&m, tix, 1, NULL, 0, &b, &f), 0);
  CHECK_EQ_INT(b.tensor.section_count, 0);
}

TEST(step18_and_extension_in_result) {
  nnrp_meta m = legacy_meta();
  nnrp_data_body b;
  nnrp_fault f = {0};
  nnrp_wire_opts o;
  nnrp_wire_opts_default(&o);
  m.result_push.section_count = (uint16_t)(o.max_sections + 1);
  WC_FAULT(nnrp_data_body_decode(RP, &m, &b, NULL, 0, &o, &f), f,
           NNRP_ERR_LIMIT_EXCEEDED, "wire.md §15 step 18", "section_count");
  /* A CRITICAL extension frame in a result. */
  uint8_t body[64];
  memset(body, 0, sizeof body);
  wc_put_le(body + 16, 4, 16);
  wc_put_le(body + 32 + 2, 2, NNRP_EXT_FLAG_CRITICAL);
  memset(&m, 0, sizeof m);
  m.result_push.payload_kind_bitmap = NNRP_PAYLOAD_KIND_OPAQUE_BYTES;
  WC_FAULT(nnrp_data_body_decode(RP, &m, &b, body, 48, NULL, &f), f,
           NNRP_ERR_UNSUPPORTED_CAPABILITY, "wire.md §9.5", "extension_flags");
}

/* A whole legacy RESULT_PUSH packet through nnrp_packet_decode(). */
TEST(packet_legacy_result) {
  uint8_t *raw = NULL;
  size_t n = wc_vec_hex("body.result_push.legacy_tensor", &raw);
  nnrp_meta m = legacy_meta();
  nnrp_header h;
  nnrp_header_init(&h, RP);
  h.body_len = (uint32_t)n;
  h.session_id = 7;
  h.frame_id = 101;
  h.flags = NNRP_FLAG_EOS;
  uint8_t pk[256];
  nnrp_header_encode(&h, pk);
  nnrp__result_push_meta_enc(&m, pk + 40);
  memcpy(pk + 104, raw, n);
  void *gh = NULL;
  uint8_t *g = nnrp_test_guard_copy(pk, 104 + n, &gh);
  nnrp_packet p;
  nnrp_fault f = {0};
  CHECK_EQ_INT(nnrp_packet_decode(&p, g, 104 + n, NULL, &f), 0);
  CHECK_EQ_U64(p.hdr.flags, NNRP_FLAG_EOS);
  CHECK_EQ_U64(p.m.result_push.tile_count, 3);
  check_vector_tensor(&p.b.data.tensor);
  nnrp_test_guard_free(gh);
  /* Metadata fault offsets are packet-relative. */
  pk[40 + 44] = 9;
  WC_FAULT(nnrp_packet_decode(&p, pk, 104 + n, NULL, &f), f, MB,
           "wire.md §6.3 R1", "result_class");
  CHECK_EQ_U64(f.offset, 40 + 44);
  free(raw);
}

int main(void) {
  RUN(meta_golden_partial_stale);
  RUN(meta_preview4_decodes);
  RUN(meta_rule_r1);
  RUN(meta_reserved);
  RUN(meta_rule_r2);
  RUN(meta_rules_r3_to_r6);
  RUN(body_legacy_tensor_vector);
  RUN(body_rule_7_1_and_implied_mode);
  RUN(composed_result_ok);
  RUN(p1_reference_order);
  RUN(p2_one_inline_each);
  RUN(p3_tile_index);
  RUN(p4_section_table);
  RUN(step18_and_extension_in_result);
  RUN(packet_legacy_result);
  wc_vectors_free();
  TEST_MAIN_END();
}
