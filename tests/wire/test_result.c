/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_result.c - RESULT_PUSH (wire.md §6.3, §7, §8.2, §9.7): the golden
 * metadata and the preview4 one (same layout, result_flags 0x0005), the
 * legacy tensor body vector, the implied tile-index mode, composed results,
 * and one negative test per rule: R1-R6, §7 rule 1, P1-P5, step 18.
 */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <nnrp/nnrp_wire.h>

#include "guard.h"
#include "harness.h"
#include "vectors.h"
#include "wire/wire_int.h"

static cJSON *g_json;

#define MB NNRP_ERR_MALFORMED_BODY
#define LEN NNRP_WIRE_LENIENT
#define RP NNRP_MSG_RESULT_PUSH

#define CHECK_FAULT(rc, f, e, r, fld)                                          \
  do {                                                                         \
    CHECK_EQ_INT((rc), (e));                                                   \
    CHECK_EQ_INT((f).err, (e));                                                \
    CHECK_EQ_STR((f).rule, (r));                                               \
    CHECK_EQ_STR((f).field, (fld));                                            \
  } while (0)

/* ---- Vectors and JSON --------------------------------------------------- */

static const cJSON *vec(const char *name) {
  const cJSON *arr = cJSON_GetObjectItemCaseSensitive(g_json, "vectors");
  const cJSON *v;
  cJSON_ArrayForEach(v, arr) {
    const cJSON *n = cJSON_GetObjectItemCaseSensitive(v, "name");
    if (cJSON_IsString(n) && strcmp(n->valuestring, name) == 0)
      return v;
  }
  harness_die(__FILE__, __LINE__, name);
}

static size_t vec_bytes(const char *name, uint8_t **out) {
  const cJSON *h = cJSON_GetObjectItemCaseSensitive(vec(name), "hex");
  return nnrp_test_hex_decode(h->valuestring, out);
}

static const cJSON *jget(const cJSON *o, const char *k) {
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
  if (v == NULL)
    harness_die(__FILE__, __LINE__, k);
  return v;
}

static uint64_t jnum(const cJSON *v) {
  if (cJSON_IsString(v))
    return strtoull(v->valuestring, NULL, 0);
  return (uint64_t)v->valuedouble;
}

static void wr16(uint8_t *p, uint16_t v) {
  p[0] = (uint8_t)v;
  p[1] = (uint8_t)(v >> 8);
}

static void wr32(uint8_t *p, uint32_t v) {
  for (int i = 0; i < 4; i++)
    p[i] = (uint8_t)(v >> (8 * i));
}

/* ---- Field table of nnrp_result_push ------------------------------------ */

#define F(x)                                                                   \
  { #x, offsetof(nnrp_result_push, x), sizeof(((nnrp_result_push *)0)->x) }
static const struct {
  const char *name;
  size_t off, size;
} fields[] = {F(status_code),
              F(result_flags),
              F(section_count),
              F(tile_count),
              F(active_profile_id),
              F(reserved0),
              F(inference_ms),
              F(queue_ms),
              F(server_total_ms),
              F(reserved1),
              F(tile_base_id),
              F(tile_index_bytes),
              F(reserved2),
              F(reserved3),
              F(result_class),
              F(applied_budget_policy),
              F(reserved4),
              F(reused_frame_id),
              F(covered_tile_count),
              F(dropped_tile_count),
              F(payload_kind_bitmap),
              F(payload_frame_count),
              F(reserved5)};
#undef F
#define NFIELDS (sizeof fields / sizeof fields[0])

static uint64_t fget(const nnrp_result_push *r, const char *name) {
  for (size_t i = 0; i < NFIELDS; i++) {
    if (strcmp(fields[i].name, name) != 0)
      continue;
    const uint8_t *p = (const uint8_t *)r + fields[i].off;
    uint8_t v8;
    uint16_t v16;
    uint32_t v32;
    uint64_t v64;
    switch (fields[i].size) {
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
  harness_die(__FILE__, __LINE__, name);
}

static void check_fields(const nnrp_result_push *r, const cJSON *js,
                         const char *skip) {
  size_t n = 0;
  const cJSON *e;
  cJSON_ArrayForEach(e, js) {
    n++;
    if (skip && strcmp(e->string, skip) == 0)
      continue;
    if (fget(r, e->string) != jnum(e))
      harness_fail(__FILE__, __LINE__, e->string);
  }
  CHECK_EQ_INT(n, NFIELDS);
}

/* ---- Metadata ----------------------------------------------------------- */

static uint8_t *golden_meta(void) {
  uint8_t *b = NULL;
  CHECK_EQ_INT(vec_bytes("metadata.result_push.partial_stale", &b), 64);
  return b;
}

static int mdec(const uint8_t *in, uint32_t flags, nnrp_meta *m,
                nnrp_fault *f) {
  return nnrp_meta_decode(RP, m, in, 64, flags, f);
}

TEST(meta_golden_partial_stale) {
  uint8_t *b = golden_meta();
  void *h = NULL;
  uint8_t *g = nnrp_test_guard_copy(b, 64, &h);
  nnrp_meta m;
  nnrp_fault f = {0};
  CHECK_EQ_INT(mdec(g, 0, &m, &f), 0);
  check_fields(&m.result_push,
               jget(vec("metadata.result_push.partial_stale"), "fields"), NULL);
  uint8_t out[64];
  memset(out, 0xAA, sizeof out);
  CHECK_EQ_INT(nnrp_meta_encode(RP, &m, out, sizeof out), 64);
  CHECK_EQ_MEM(out, b, 64);
  memset(&m, 0, sizeof m);
  CHECK_EQ_INT(nnrp__result_push_meta_dec(&m, g, 0, &f), 0);
  memset(out, 0, sizeof out);
  nnrp__result_push_meta_enc(&m, out);
  CHECK_EQ_MEM(out, b, 64);
  CHECK_FAULT(nnrp_meta_decode(RP, &m, g, 63, 0, &f), f, MB,
              "wire.md §15 step 13", "meta_len");
  nnrp_test_guard_free(h);
  free(b);
}

/* vectors/README.md §3: same layout, result_flags 0x0005; decodes. */
TEST(meta_preview4_decodes) {
  cJSON *cases = nnrp_test_load_json(
      "conformance/protocol/nnrp-1-preview4/cases/nnrp1-baseline-core.json");
  const cJSON *c, *hex = NULL;
  cJSON_ArrayForEach(c, jget(cases, "cases")) {
    if (strcmp(jget(c, "id")->valuestring, "l0.result_push.metadata.golden") ==
        0)
      hex = jget(jget(c, "parameters"), "metadata_hex");
  }
  if (!CHECK(hex != NULL)) {
    cJSON_Delete(cases);
    return;
  }
  uint8_t *b = NULL;
  CHECK_EQ_INT(nnrp_test_hex_decode(hex->valuestring, &b), 64);
  nnrp_meta m;
  nnrp_fault f = {0};
  CHECK_EQ_INT(mdec(b, 0, &m, &f), 0);
  CHECK_EQ_U64(m.result_push.result_flags, 0x0005);
  check_fields(&m.result_push,
               jget(vec("metadata.result_push.partial_stale"), "fields"),
               "result_flags");
  uint8_t out[64];
  nnrp__result_push_meta_enc(&m, out);
  CHECK_EQ_MEM(out, b, 64);
  free(b);
  cJSON_Delete(cases);
}

static int mpatch(size_t off, int width, uint64_t v, uint32_t flags,
                  nnrp_meta *m, nnrp_fault *f) {
  uint8_t *b = golden_meta();
  for (int i = 0; i < width; i++)
    b[off + (size_t)i] = (uint8_t)(v >> (8 * i));
  int rc = mdec(b, flags, m, f);
  free(b);
  return rc;
}

TEST(meta_rule_r1) {
  nnrp_meta m;
  nnrp_fault f = {0};
  const char *r1 = "wire.md §6.3 R1";
  CHECK_FAULT(mpatch(2, 2, 0x000C, 0, &m, &f), f, MB, r1, "result_flags");
  CHECK_EQ_U64(f.offset, 2);
  CHECK_EQ_INT(mpatch(2, 2, 0x800C, LEN, &m, &f), 0);
  CHECK_EQ_U64(m.result_push.result_flags, 0x0004);
  CHECK_FAULT(mpatch(44, 1, 4, 0, &m, &f), f, MB, r1, "result_class");
  CHECK_FAULT(mpatch(44, 1, 0xFF, LEN, &m, &f), f, MB, r1, "result_class");
  CHECK_FAULT(mpatch(45, 1, 0x11, 0, &m, &f), f, MB, r1,
              "applied_budget_policy");
  CHECK_EQ_INT(mpatch(45, 1, 0x11, LEN, &m, &f), 0);
  CHECK_EQ_U64(m.result_push.applied_budget_policy, 0x01);
  CHECK_FAULT(mpatch(56, 4, 0x83, 0, &m, &f), f, MB, r1, "payload_kind_bitmap");
  CHECK_FAULT(mpatch(56, 4, 0x10003, LEN, &m, &f), f, MB, r1,
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
  for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
    nnrp_meta m;
    nnrp_fault f = {0};
    CHECK_FAULT(mpatch(t[i].off, t[i].width, 0x0101, 0, &m, &f), f, MB,
                "wire.md §1 rule 7", t[i].field);
    CHECK_EQ_U64(f.offset, t[i].off);
    CHECK_EQ_INT(mpatch(t[i].off, t[i].width, 0x0101, LEN, &m, &f), 0);
    CHECK_EQ_U64(fget(&m.result_push, t[i].field), 0x0101);
  }
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
  CHECK_EQ_INT(mdec(b, 0, &m, &f), 0);
  for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
    nontensor_meta(b);
    b[t[i].off] = 1;
    CHECK_FAULT(mdec(b, 0, &m, &f), f, MB, "wire.md §6.3 R2", t[i].field);
    CHECK_EQ_U64(f.offset, t[i].off);
    CHECK_FAULT(mdec(b, LEN, &m, &f), f, MB, "wire.md §6.3 R2", t[i].field);
  }
}

/* Golden: tile_count 84, covered 53, dropped 31, class PARTIAL, flag PARTIAL.
 */
TEST(meta_rules_r3_to_r6) {
  uint8_t *b = golden_meta();
  nnrp_meta m;
  nnrp_fault f = {0};
  wr16(b + 52, 85);
  wr16(b + 54, 0);
  CHECK_FAULT(mdec(b, 0, &m, &f), f, MB, "wire.md §6.3 R3",
              "covered_tile_count");
  wr16(b + 52, 0);
  wr16(b + 54, 85);
  CHECK_FAULT(mdec(b, 0, &m, &f), f, MB, "wire.md §6.3 R4",
              "dropped_tile_count");
  wr16(b + 52, 50);
  wr16(b + 54, 31);
  CHECK_FAULT(mdec(b, 0, &m, &f), f, MB, "wire.md §6.3 R5",
              "covered_tile_count");
  CHECK_FAULT(mdec(b, LEN, &m, &f), f, MB, "wire.md §6.3 R5",
              "covered_tile_count");
  /* R6: PARTIAL class, or PARTIAL flag, needs a dropped tile. */
  wr16(b + 52, 84);
  wr16(b + 54, 0);
  CHECK_FAULT(mdec(b, 0, &m, &f), f, MB, "wire.md §6.3 R6",
              "dropped_tile_count");
  b[44] = NNRP_RESULT_CLASS_COMPLETE;
  CHECK_FAULT(mdec(b, 0, &m, &f), f, MB, "wire.md §6.3 R6",
              "dropped_tile_count");
  wr16(b + 2, NNRP_RESULT_FLAG_STALE);
  CHECK_EQ_INT(mdec(b, 0, &m, &f), 0);
  b[44] = NNRP_RESULT_CLASS_PARTIAL;
  CHECK_FAULT(mdec(b, LEN, &m, &f), f, MB, "wire.md §6.3 R6",
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
  nnrp_wire_opts o;
  nnrp_wire_opts_default(&o);
  o.flags = flags;
  return nnrp_data_body_decode(RP, m, b, body, len, &o, f);
}

static void check_ids(const nnrp_tile_index *ti, const cJSON *ids) {
  nnrp_tile_iter it;
  uint32_t id = 0;
  nnrp_tile_iter_init(&it, ti);
  const cJSON *e;
  cJSON_ArrayForEach(e, ids) {
    if (!CHECK(nnrp_tile_iter_next(&it, &id) == 1))
      return;
    CHECK_EQ_U64(id, jnum(e));
  }
  CHECK_EQ_INT(nnrp_tile_iter_next(&it, &id), 0);
}

static void check_section_json(const nnrp_section_view *s, const cJSON *js) {
  static const char *names[] = {"role_id",
                                "codec_id",
                                "dtype_id",
                                "layout_id",
                                "scale_policy",
                                "flags",
                                "element_count_per_tile",
                                "codec_table_bytes",
                                "length_table_bytes",
                                "payload_bytes",
                                "payload_stride_bytes",
                                "reserved"};
  const uint32_t got[] = {s->desc.role_id,
                          s->desc.codec_id,
                          s->desc.dtype_id,
                          s->desc.layout_id,
                          s->desc.scale_policy,
                          s->desc.flags,
                          s->desc.element_count_per_tile,
                          s->desc.codec_table_bytes,
                          s->desc.length_table_bytes,
                          s->desc.payload_bytes,
                          s->desc.payload_stride_bytes,
                          s->desc.reserved};
  for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
    CHECK_EQ_U64(got[i], jnum(jget(js, names[i])));
  nnrp_tile_data_iter it;
  nnrp_tile_data_iter_init(&it, s);
  const cJSON *t;
  cJSON_ArrayForEach(t, jget(js, "tiles")) {
    nnrp_bytes tb;
    uint8_t *want = NULL;
    if (!CHECK(nnrp_tile_data_iter_next(&it, &tb, NULL) == 1))
      return;
    size_t n = nnrp_test_hex_decode(t->valuestring, &want);
    CHECK_EQ_INT(tb.len, n);
    if (tb.len == n)
      CHECK_EQ_MEM(tb.ptr, want, n);
    free(want);
  }
}

static void check_vector_tensor(const nnrp_tensor_view *tv) {
  const cJSON *js = jget(vec("body.result_push.legacy_tensor"), "fields");
  CHECK_EQ_INT(tv->tiles.mode, NNRP_TILE_INDEX_RAW_U16);
  CHECK_EQ_U64(tv->tiles.block.len, jnum(jget(js, "tile_index_bytes")));
  check_ids(&tv->tiles, jget(js, "tile_ids"));
  nnrp_section_iter it;
  nnrp_section_view s;
  nnrp_section_iter_init(&it, tv);
  CHECK_EQ_INT(nnrp_section_iter_next(&it, &s), 1);
  check_section_json(&s, cJSON_GetArrayItem(jget(js, "sections"), 0));
  CHECK_EQ_INT(nnrp_section_iter_next(&it, &s), 0);
}

TEST(body_legacy_tensor_vector) {
  uint8_t *raw = NULL;
  size_t n = vec_bytes("body.result_push.legacy_tensor", &raw);
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
  CHECK_FAULT(bdec(&m, one, 1, LEN, &b, &f), f, MB, "wire.md §7 rule 1",
              "body_len");
  /* tile_index_bytes 0 implies DENSE_RANGE from tile_base_id. */
  uint8_t *raw = NULL;
  size_t n = vec_bytes("body.result_push.legacy_tensor", &raw);
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
  CHECK_FAULT(bdec(&m, raw, n, 0, &b, &f), f, MB, "wire.md §8.4 RAW_U16",
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
  CHECK_FAULT(bdec(&m, body, n, 0, &b, &f), f, MB, "wire.md §8.5 S8",
              "length_table_bytes");
  CHECK_EQ_U64(f.offset, 8 + 16);
  free(raw);
}

/* ---- Composed results (§9.7) -------------------------------------------- */

/* Inline payloads: TILE_INDEX = RAW_U16 {0,1,2}; TENSOR_SECTION_TABLE = the
 * section of the legacy vector (3 tiles); other kinds opaque. */
static size_t kind_payload(uint16_t kind, uint8_t *out) {
  uint8_t *raw = NULL;
  size_t n = vec_bytes("body.result_push.legacy_tensor", &raw);
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
  size_t off = 32;
  memset(out, 0, 32);
  for (size_t i = 0; i < ninl; i++) {
    uint8_t *h = out + off;
    uint32_t n = (uint32_t)kind_payload(inl[i], h + 16);
    size_t total = (16u + n + 7u) & ~(size_t)7u;
    memset(h, 0, 16);
    memset(h + 16 + n, 0, total - 16 - n);
    wr16(h, inl[i]);
    wr32(h + 8, n);
    off += total;
  }
  wr32(out, (uint32_t)(off - 32));
  for (size_t i = 0; i < nrefs; i++) {
    memset(out + off, 0, 16);
    wr16(out + off, refs[i].kind);
    wr32(out + off + 4, refs[i].ns);
    wr32(out + off + 8, refs[i].hi);
    wr32(out + off + 12, refs[i].lo);
    off += 16;
  }
  wr32(out + 4, (uint32_t)(16 * nrefs));
  memset(out + off, 0, 16);
  out[off] = NNRP_PAYLOAD_KIND_TOKEN_CHUNK;
  wr32(out + off + 8, 3);
  memcpy(out + off + 16, "tok", 3);
  wr32(out + 8, 16);
  wr32(out + 12, 3);
  return off + 19;
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
  CHECK_FAULT(crun(inl, 2, desc_ns, 2, &b, &f), f, MB, "wire.md §9.7 P1",
              "object_reference");
  CHECK_EQ_U64(f.offset, 32 + 24 + 72 + 16);
  const ref_t dup[] = {{5, 1, 2, 3}, {5, 1, 2, 3}};
  CHECK_FAULT(crun(inl, 2, dup, 2, &b, &f), f, MB, "wire.md §9.7 P1",
              "object_reference");
  const ref_t kinds[] = {{7, 0, 0, 0}, {5, 9, 9, 9}};
  CHECK_FAULT(crun(inl, 2, kinds, 2, &b, &f), f, MB, "wire.md §9.7 P1",
              "object_reference");
  const ref_t lo[] = {{5, 1, 2, 4}, {5, 1, 2, 3}};
  CHECK_FAULT(crun(inl, 2, lo, 2, &b, &f), f, MB, "wire.md §9.7 P1",
              "object_reference");
  const ref_t ok[] = {{5, 1, 2, 3}, {5, 1, 2, 4}, {5, 1, 3, 0}};
  CHECK_EQ_INT(crun(inl, 2, ok, 3, &b, &f), 0);
}

TEST(p2_one_inline_each) {
  nnrp_data_body b;
  nnrp_fault f = {0};
  const uint16_t t2[] = {2, 2, 3}, s2[] = {2, 3, 3};
  nnrp_meta m = cmeta(t2, 3);
  CHECK_FAULT(crun_m(&m, t2, 3, NULL, 0, &b, &f), f, MB, "wire.md §9.7 P2",
              "object_kind");
  CHECK_FAULT(crun(s2, 3, NULL, 0, &b, &f), f, MB, "wire.md §9.7 P2",
              "object_kind");
}

TEST(p3_tile_index) {
  nnrp_data_body b;
  nnrp_fault f = {0};
  const char *p3 = "wire.md §9.7 P3";
  const uint16_t st[] = {3}, all[] = {2, 3};
  /* At most one reference; never inline and referenced together. */
  const ref_t two[] = {{2, 0, 0, 1}, {2, 0, 0, 2}};
  CHECK_FAULT(crun(st, 1, two, 2, &b, &f), f, MB, p3, "object_kind");
  const ref_t one[] = {{2, 0, 0, 1}};
  CHECK_FAULT(crun(all, 2, one, 1, &b, &f), f, MB, p3, "object_kind");
  /* Inline object_bytes = tile_index_bytes. */
  nnrp_meta m = cmeta(all, 2);
  m.result_push.tile_index_bytes = 8;
  CHECK_FAULT(crun_m(&m, all, 2, NULL, 0, &b, &f), f, MB, p3, "object_bytes");
  CHECK_EQ_U64(f.offset, 32 + 8);
  /* Inline block decodes in the implied mode (RAW_U16: 2 x tile_count). */
  m = cmeta(all, 2);
  m.result_push.tile_count = 2;
  m.result_push.covered_tile_count = 2;
  CHECK_FAULT(crun_m(&m, all, 2, NULL, 0, &b, &f), f, MB,
              "wire.md §8.4 RAW_U16", "tile_index_bytes");
  CHECK_EQ_U64(f.offset, 32 + 16);
  /* Missing while tile_count > 0. */
  CHECK_FAULT(crun(st, 1, NULL, 0, &b, &f), f, MB, p3, "tile_count");
  /* Referenced: tile_index_bytes must be 0. */
  m = cmeta(st, 1);
  m.result_push.tile_index_bytes = 6;
  CHECK_FAULT(crun_m(&m, st, 1, one, 1, &b, &f), f, MB, p3, "tile_index_bytes");
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
  CHECK_FAULT(crun(tix, 1, two, 2, &b, &f), f, MB, p4, "object_kind");
  const ref_t one[] = {{3, 0, 0, 1}};
  CHECK_FAULT(crun(all, 2, one, 1, &b, &f), f, MB, p4, "object_kind");
  /* Inline table parses as §8.3 with section_count and tile_count. */
  nnrp_meta m = cmeta(all, 2);
  m.result_push.section_count = 2;
  CHECK_FAULT(crun_m(&m, all, 2, NULL, 0, &b, &f), f, MB, "wire.md §8.3 rule 4",
              "padding");
  CHECK_EQ_U64(f.offset, 32 + 24 + 16 + 50);
  /* Missing while section_count > 0. */
  CHECK_FAULT(crun(tix, 1, NULL, 0, &b, &f), f, MB, p4, "section_count");
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
  CHECK_FAULT(nnrp_data_body_decode(RP, &m, &b, NULL, 0, &o, &f), f,
              NNRP_ERR_LIMIT_EXCEEDED, "wire.md §15 step 18", "section_count");
  /* A CRITICAL extension frame in a result. */
  uint8_t body[64];
  memset(body, 0, sizeof body);
  wr32(body + 16, 16);
  wr16(body + 32 + 2, NNRP_EXT_FLAG_CRITICAL);
  memset(&m, 0, sizeof m);
  m.result_push.payload_kind_bitmap = NNRP_PAYLOAD_KIND_OPAQUE_BYTES;
  CHECK_FAULT(nnrp_data_body_decode(RP, &m, &b, body, 48, NULL, &f), f,
              NNRP_ERR_UNSUPPORTED_CAPABILITY, "wire.md §9.5",
              "extension_flags");
}

/* A whole legacy RESULT_PUSH packet through nnrp_packet_decode(). */
TEST(packet_legacy_result) {
  uint8_t *raw = NULL;
  size_t n = vec_bytes("body.result_push.legacy_tensor", &raw);
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
  CHECK_FAULT(nnrp_packet_decode(&p, pk, 104 + n, NULL, &f), f, MB,
              "wire.md §6.3 R1", "result_class");
  CHECK_EQ_U64(f.offset, 40 + 44);
  free(raw);
}

int main(void) {
  g_json = nnrp_test_load_json("seed-line.json");
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
  cJSON_Delete(g_json);
  TEST_MAIN_END();
}
