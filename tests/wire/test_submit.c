/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_submit.c - FRAME_SUBMIT (wire.md §6.1, §7, §8.1, §9.6): the golden
 * metadata (and the preview4 one a seed-line decoder must reject), the
 * legacy packet, the typed/mixed/reference body vectors, and one negative
 * test per rule: M1-M4, step 17/18, the legacy body rules and F1-F14.
 */
#include <stdlib.h>
#include <string.h>

#include <nnrp/nnrp_wire.h>

#include "guard.h"
#include "harness.h"
#include "wire/wire_int.h"
#include "wire_check.h"

#define MB NNRP_ERR_MALFORMED_BODY
#define UC NNRP_ERR_UNSUPPORTED_CAPABILITY
#define LEN NNRP_WIRE_LENIENT
#define FS NNRP_MSG_FRAME_SUBMIT

#define SUBMIT NNRP_STRUCT_FRAME_SUBMIT
#define PREVIEW4                                                               \
  "conformance/protocol/nnrp-1-preview4/cases/nnrp1-baseline-core.json"

/* ---- Metadata ----------------------------------------------------------- */

static uint8_t *mixed_meta(void) {
  uint8_t *b = NULL;
  CHECK_EQ_INT(wc_vec_hex("metadata.frame_submit.mixed", &b), 72);
  return b;
}

TEST(meta_golden_mixed) {
  nnrp_meta m;
  wc_check_meta_golden("metadata.frame_submit.mixed", &m);
  CHECK_EQ_U64(m.frame_submit.payload_kind_bitmap, 0x11);
}

/* vectors/README.md §3: preview4 puts operation_id at bytes 40-47. */
TEST(meta_preview4_rejected) {
  size_t n = 0;
  uint8_t *b = wc_case_hex(PREVIEW4, "l0.frame_submit.metadata.golden",
                           "metadata_hex", &n);
  if (!CHECK(b != NULL))
    return;
  CHECK_EQ_INT(n, 72);
  nnrp_meta m;
  nnrp_fault f = {0};
  WC_FAULT(wc_meta_decode(FS, b, 0, &m, &f), f, MB, "wire.md §6.1 M2",
           "reserved1");
  CHECK_EQ_U64(f.offset, 36);
  /* Lenient ignores reserved fields and keeps them as read. */
  CHECK_EQ_INT(wc_meta_decode(FS, b, LEN, &m, &f), 0);
  CHECK_EQ_U64(m.frame_submit.reserved1, 0x0506070800000000ull);
  CHECK_EQ_U64(m.frame_submit.reserved2, 0x01020304ull);
  uint8_t out[72];
  nnrp__frame_submit_meta_enc(&m, out);
  CHECK_EQ_MEM(out, b, 72);
  free(b);
}

/* Patches one byte range of the golden metadata, decodes. */
static int mpatch(size_t off, int width, uint64_t v, uint32_t flags,
                  nnrp_meta *m, nnrp_fault *f) {
  uint8_t *b = mixed_meta();
  wc_put_le(b + off, (unsigned)width, v);
  int rc = wc_meta_decode(FS, b, flags, m, f);
  free(b);
  return rc;
}

TEST(meta_rule_m1) {
  static const struct {
    size_t off;
    uint8_t v;
    const char *field;
    int lenient_ok;
  } t[] = {{12, 4, "frame_class", 1},
           {13, 3, "input_profile", 0},
           {14, 4, "tile_index_mode", 0},
           {52, 3, "submit_mode", 0},
           {53, 0x15, "budget_policy", 1},
           {54, 4, "loss_tolerance_policy", 0},
           {54, 0xFE, "loss_tolerance_policy", 0}};
  for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
    nnrp_meta m;
    nnrp_fault f = {0};
    WC_FAULT(mpatch(t[i].off, 1, t[i].v, 0, &m, &f), f, MB, "wire.md §6.1 M1",
             t[i].field);
    CHECK_EQ_U64(f.offset, t[i].off);
    int rc = mpatch(t[i].off, 1, t[i].v, LEN, &m, &f);
    CHECK_EQ_INT(rc, t[i].lenient_ok ? 0 : MB);
  }
  nnrp_meta m;
  nnrp_fault f = {0};
  /* Lenient: frame_class kept, unknown budget bits cleared. */
  CHECK_EQ_INT(mpatch(12, 1, 9, LEN, &m, &f), 0);
  CHECK_EQ_U64(m.frame_submit.frame_class, 9);
  CHECK_EQ_INT(mpatch(53, 1, 0xF5, LEN, &m, &f), 0);
  CHECK_EQ_U64(m.frame_submit.budget_policy, 0x05);
  /* Every LossTolerance value and INHERIT are accepted. */
  for (uint64_t v = 0; v <= 3; v++)
    CHECK_EQ_INT(mpatch(54, 1, v, 0, &m, &f), 0);
  /* object_ref_mask and payload_kind_bitmap: rejected in both modes. */
  WC_FAULT(mpatch(56, 4, 0x13, 0, &m, &f), f, MB, "wire.md §6.1 M1",
           "object_ref_mask");
  WC_FAULT(mpatch(56, 4, 0x13, LEN, &m, &f), f, MB, "wire.md §6.1 M1",
           "object_ref_mask");
  WC_FAULT(mpatch(64, 4, 0x91, 0, &m, &f), f, MB, "wire.md §6.1 M1",
           "payload_kind_bitmap");
  WC_FAULT(mpatch(64, 4, 0x100011, LEN, &m, &f), f, MB, "wire.md §6.1 M1",
           "payload_kind_bitmap");
}

TEST(meta_rule_m2) {
  static const struct {
    size_t off;
    int width;
    const char *field;
  } t[] = {{15, 1, "reserved0"},
           {36, 8, "reserved1"},
           {44, 8, "reserved2"},
           {55, 1, "reserved3"},
           {70, 2, "reserved4"}};
  uint8_t *b = mixed_meta();
  for (size_t i = 0; i < sizeof t / sizeof t[0]; i++)
    WC_RESERVED(FS, b, t[i].off, (unsigned)t[i].width, 0x80, "wire.md §6.1 M2",
                t[i].field);
  free(b);
}

/* A valid non-tensor metadata (token chunks only), encoded. */
static void nontensor_meta(uint8_t out[72]) {
  nnrp_meta m;
  memset(&m, 0, sizeof m);
  m.frame_submit.payload_kind_bitmap = NNRP_PAYLOAD_KIND_TOKEN_CHUNK;
  m.frame_submit.payload_frame_count = 1;
  m.frame_submit.loss_tolerance_policy = 0xFF;
  nnrp__frame_submit_meta_enc(&m, out);
}

TEST(meta_rule_m3) {
  static const struct {
    size_t off;
    int width;
    const char *field;
  } t[] = {{0, 2, "src_width"},      {2, 2, "src_height"},
           {4, 2, "tile_width"},     {6, 2, "tile_height"},
           {8, 2, "tile_count"},     {10, 2, "section_count"},
           {13, 1, "input_profile"}, {24, 4, "tile_base_id"},
           {28, 4, "camera_bytes"},  {32, 4, "tile_index_bytes"}};
  uint8_t b[72];
  nnrp_meta m;
  nnrp_fault f = {0};
  nontensor_meta(b);
  CHECK_EQ_INT(wc_meta_decode(FS, b, 0, &m, &f), 0);
  for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
    nontensor_meta(b);
    b[t[i].off] = 1;
    WC_FAULT(wc_meta_decode(FS, b, 0, &m, &f), f, MB, "wire.md §6.1 M3",
             t[i].field);
    CHECK_EQ_U64(f.offset, t[i].off);
    WC_FAULT(wc_meta_decode(FS, b, LEN, &m, &f), f, MB, "wire.md §6.1 M3",
             t[i].field);
    /* The same field is fine with the TENSOR bit. */
    b[64] |= NNRP_PAYLOAD_KIND_TENSOR;
    CHECK_EQ_INT(wc_meta_decode(FS, b, 0, &m, &f), 0);
  }
}

TEST(meta_rule_m4) {
  nnrp_meta m;
  nnrp_fault f = {0};
  WC_FAULT(mpatch(52, 1, NNRP_SUBMIT_MODE_INLINE, 0, &m, &f), f, MB,
           "wire.md §6.1 M4", "object_ref_mask");
  WC_FAULT(mpatch(56, 4, 0, 0, &m, &f), f, MB, "wire.md §6.1 M4",
           "object_ref_mask"); /* MIXED without references */
  uint8_t *b = mixed_meta();
  b[52] = NNRP_SUBMIT_MODE_REFERENCE;
  CHECK_EQ_INT(wc_meta_decode(FS, b, 0, &m, &f), 0);
  wc_put_le(b + 56, 4, 0);
  WC_FAULT(wc_meta_decode(FS, b, LEN, &m, &f), f, MB, "wire.md §6.1 M4",
           "object_ref_mask");
  free(b);
}

/* ---- Legacy packet and body (§8.1) -------------------------------------- */

static void check_legacy_body(const nnrp_data_body *b, const cJSON *jb) {
  CHECK_EQ_INT(b->composed, 0);
  CHECK_EQ_INT(b->has_tensor, 1);
  CHECK_EQ_U64(b->slots_inline, NNRP_SLOT_CAMERA | NNRP_SLOT_TILE_INDEX |
                                    NNRP_SLOT_SECTION_TABLE);
  CHECK_EQ_U64(b->slots_referenced, 0);
  const char *cam = wc_jget(jb, "camera_block_utf8")->valuestring;
  CHECK_EQ_INT(b->camera.len, strlen(cam));
  CHECK_EQ_MEM(b->camera.ptr, cam, strlen(cam));
  wc_check_tile_ids(&b->tensor.tiles, wc_jget(jb, "tile_ids"));
  wc_check_sections(&b->tensor, wc_jget(jb, "sections"));
}

TEST(packet_legacy_inline_tensor) {
  const char *name = "packet.frame_submit.legacy_inline_tensor";
  const cJSON *js = wc_vec_fields(name);
  uint8_t *pk = NULL;
  size_t n = wc_vec_hex(name, &pk);
  void *h = NULL;
  uint8_t *g = nnrp_test_guard_copy(pk, n, &h);
  nnrp_packet p;
  nnrp_fault f = {0};
  CHECK_EQ_INT(nnrp_packet_decode(&p, g, n, NULL, &f), 0);
  const cJSON *jh = wc_jget(js, "header");
  CHECK_EQ_U64(p.hdr.msg_type, wc_jval(jh, "msg_type"));
  CHECK_EQ_U64(p.hdr.flags, wc_jval(jh, "flags"));
  CHECK_EQ_U64(p.hdr.meta_len, wc_jval(jh, "meta_len"));
  CHECK_EQ_U64(p.hdr.body_len, wc_jval(jh, "body_len"));
  CHECK_EQ_U64(p.hdr.session_id, wc_jval(jh, "session_id"));
  CHECK_EQ_U64(p.hdr.frame_id, wc_jval(jh, "frame_id"));
  CHECK_EQ_U64(p.hdr.view_id, wc_jval(jh, "view_id"));
  CHECK_EQ_U64(p.hdr.trace_id, wc_jval(jh, "trace_id"));
  WC_CHECK_FIELDS(wc_jget(js, "metadata"), SUBMIT, &p.m.frame_submit, NULL,
                  WC_EXACT);
  check_legacy_body(&p.b.data, wc_jget(js, "body"));
  CHECK(p.b.data.camera.ptr == g + 40 + 72);
  /* The same through the metadata and body decoders. */
  nnrp_meta m;
  nnrp_data_body b;
  CHECK_EQ_INT(nnrp_meta_decode(FS, &m, g + 40, 72, 0, &f), 0);
  CHECK_EQ_INT(nnrp_data_body_decode(FS, &m, &b, g + 112, n - 112, NULL, &f),
               0);
  check_legacy_body(&b, wc_jget(js, "body"));
  uint8_t re[72];
  nnrp__frame_submit_meta_enc(&m, re);
  CHECK_EQ_MEM(re, g + 40, 72);
  /* A body fault is reported packet-relative by the packet decoder. */
  pk[40 + 72 + 8 + 4 + 1] = 1; /* pad after the tile index */
  WC_FAULT(nnrp_packet_decode(&p, pk, n, NULL, &f), f, MB,
           "wire.md §8.3 rule 2", "padding");
  CHECK_EQ_U64(f.offset, 40 + 72 + 8 + 4);
  nnrp_test_guard_free(h);
  free(pk);
}

/* Metadata and body of the legacy packet vector. */
static size_t legacy_parts(nnrp_meta *m, uint8_t *body) {
  uint8_t *pk = NULL;
  size_t n = wc_vec_hex("packet.frame_submit.legacy_inline_tensor", &pk);
  CHECK_EQ_INT(nnrp_meta_decode(FS, m, pk + 40, 72, 0, NULL), 0);
  memcpy(body, pk + 112, n - 112);
  free(pk);
  return n - 112;
}

static int bdec(const nnrp_meta *m, const uint8_t *body, size_t len,
                uint32_t flags, nnrp_data_body *b, nnrp_fault *f) {
  return wc_data_decode(FS, m, body, len, flags, b, f);
}

TEST(legacy_body_rules_8_1) {
  nnrp_meta m;
  uint8_t body[64];
  size_t n = legacy_parts(&m, body);
  CHECK_EQ_INT(n, 60);
  nnrp_data_body b;
  nnrp_fault f = {0};
  /* Camera block missing. */
  WC_FAULT(bdec(&m, body, 7, 0, &b, &f), f, MB, "wire.md §8.1", "camera_bytes");
  /* A tensor body follows but its pad is missing. */
  m.frame_submit.camera_bytes = 6;
  WC_FAULT(bdec(&m, body, 7, 0, &b, &f), f, MB, "wire.md §8.1", "pad");
  CHECK_EQ_U64(f.offset, 6);
  /* Pad not zero: strict rejects, lenient accepts (§8.1 "zero (strict)"). */
  WC_FAULT(bdec(&m, body, n, 0, &b, &f), f, MB, "wire.md §8.1", "pad");
  CHECK_EQ_INT(bdec(&m, body, n, LEN, &b, &f), 0);
  CHECK_EQ_INT(b.camera.len, 6);
  CHECK_EQ_MEM(b.camera.ptr, "camera", 6);
  /* body_len = camera_bytes: the tensor body is empty. */
  m.frame_submit.camera_bytes = 8;
  WC_FAULT(bdec(&m, body, 8, 0, &b, &f), f, MB, "wire.md §8.3 rule 1",
           "tile_index_bytes");
  m.frame_submit.tile_index_bytes = 0;
  m.frame_submit.section_count = 0;
  m.frame_submit.tile_index_mode = NNRP_TILE_INDEX_DENSE_RANGE;
  m.frame_submit.tile_base_id = 5;
  CHECK_EQ_INT(bdec(&m, body, 8, 0, &b, &f), 0);
  CHECK_EQ_INT(b.tensor.tiles.count, 2);
  CHECK_EQ_U64(b.slots_inline, NNRP_SLOT_CAMERA | NNRP_SLOT_TILE_INDEX);
  /* ... or, with the pad present, an empty tensor body at align8. */
  m.frame_submit.camera_bytes = 5;
  memset(body + 5, 0, 3);
  CHECK_EQ_INT(bdec(&m, body, 8, 0, &b, &f), 0);
  CHECK_EQ_INT(b.camera.len, 5);
  /* Tensor faults are offset from the body start. */
  n = legacy_parts(&m, body);
  m.frame_submit.tile_count = 3;
  WC_FAULT(bdec(&m, body, n, 0, &b, &f), f, MB, "wire.md §8.4 RAW_U16",
           "tile_index_bytes");
  CHECK_EQ_U64(f.offset, 8);
  n = legacy_parts(&m, body);
  body[8 + 8 + 3] = 9; /* dtype_id of the section */
  WC_FAULT(bdec(&m, body, n, 0, &b, &f), f, MB, "wire.md §8.5", "dtype_id");
  CHECK_EQ_U64(f.offset, 16 + 3);
}

/* ---- Composed body vectors ---------------------------------------------- */

static void check_typed_json(const nnrp_data_body *b, const cJSON *js) {
  const cJSON *descs = wc_jget(js, "descriptors");
  const cJSON *utf8 = wc_jget(js, "frames_utf8");
  CHECK_EQ_INT(b->typed_count, cJSON_GetArraySize(descs));
  for (uint32_t i = 0; i < b->typed_count; i++) {
    const cJSON *d = cJSON_GetArrayItem(descs, (int)i);
    nnrp_typed_frame t;
    CHECK_EQ_INT(nnrp_data_body_typed(b, i, &t), 0);
    WC_CHECK_FIELDS(d, NNRP_STRUCT_TYPED_FRAME, &t, NULL, WC_EXACT);
    const char *s = cJSON_GetArrayItem(utf8, (int)i)->valuestring;
    CHECK_EQ_INT(t.data.len, strlen(s));
    CHECK_EQ_MEM(t.data.ptr, s, strlen(s));
  }
}

/* Decodes a body vector with the metadata of its metadata_context. */
static int ctx_decode(const char *name, nnrp_meta *m, nnrp_data_body *b,
                      uint8_t **body, size_t *len, void **guard) {
  const cJSON *js = wc_vec_fields(name);
  memset(m, 0, sizeof *m);
  wc_set_fields(SUBMIT, &m->frame_submit, wc_jget(js, "metadata_context"));
  uint8_t *raw = NULL;
  *len = wc_vec_hex(name, &raw);
  *body = nnrp_test_guard_copy(raw, *len, guard);
  free(raw);
  /* The context must itself be a valid metadata. */
  uint8_t mb[72];
  nnrp_meta back;
  nnrp__frame_submit_meta_enc(m, mb);
  CHECK_EQ_INT(nnrp_meta_decode(FS, &back, mb, 72, 0, NULL), 0);
  nnrp_fault f = {0};
  int rc = nnrp_data_body_decode(FS, m, b, *body, *len, NULL, &f);
  if (rc != 0)
    harness_fail(__FILE__, __LINE__, f.rule);
  return rc;
}

TEST(body_typed_only) {
  const char *name = "body.frame_submit.typed_only";
  nnrp_meta m;
  nnrp_data_body b;
  uint8_t *body;
  size_t n;
  void *h = NULL;
  CHECK_EQ_INT(ctx_decode(name, &m, &b, &body, &n, &h), 0);
  const cJSON *js = wc_vec_fields(name);
  CHECK_EQ_INT(b.composed, 1);
  CHECK_EQ_INT(b.has_tensor, 0);
  CHECK_EQ_U64(b.slots_inline, 0);
  CHECK_EQ_U64(b.slots_referenced, 0);
  CHECK_EQ_INT(b.inline_count, 0);
  CHECK_EQ_INT(b.ref_count, 0);
  CHECK_EQ_INT(b.ext_count, 0);
  CHECK_EQ_INT(b.camera.len, 0);
  WC_CHECK_FIELDS(wc_jget(js, "prelude"), NNRP_STRUCT_PRELUDE, &b.prelude, NULL,
                  WC_EXACT);
  check_typed_json(&b, js);
  nnrp_test_guard_free(h);
}

TEST(body_mixed_tensor_typed_inline) {
  const char *name = "body.frame_submit.mixed_tensor_typed_inline";
  nnrp_meta m;
  nnrp_data_body b;
  uint8_t *body;
  size_t n;
  void *h = NULL;
  CHECK_EQ_INT(ctx_decode(name, &m, &b, &body, &n, &h), 0);
  const cJSON *js = wc_vec_fields(name);
  CHECK_EQ_INT(b.composed, 1);
  CHECK_EQ_INT(b.has_tensor, 1);
  CHECK_EQ_U64(b.slots_inline, 0x7);
  CHECK_EQ_U64(b.slots_referenced, 0);
  WC_CHECK_FIELDS(wc_jget(js, "prelude"), NNRP_STRUCT_PRELUDE, &b.prelude, NULL,
                  WC_EXACT);
  check_typed_json(&b, js);
  const cJSON *objs = wc_jget(js, "inline_objects");
  CHECK_EQ_INT(b.inline_count, cJSON_GetArraySize(objs));
  nnrp_inline_iter it;
  nnrp_inline_object o;
  nnrp_inline_iter_init(&it, &b);
  const cJSON *jo;
  cJSON_ArrayForEach(jo, objs) {
    if (!CHECK(nnrp_inline_iter_next(&it, &o) == 1))
      break;
    CHECK_EQ_U64(o.object_kind, wc_jval(jo, "object_kind"));
    CHECK_EQ_U64(o.object_bytes, wc_jval(jo, "object_bytes"));
    CHECK_EQ_INT(o.data.len, o.object_bytes);
    if (o.object_kind == NNRP_OBJECT_CAMERA_BLOCK) {
      const char *s = wc_jget(jo, "payload_utf8")->valuestring;
      CHECK_EQ_MEM(o.data.ptr, s, strlen(s));
      CHECK(b.camera.ptr == o.data.ptr && b.camera.len == strlen(s));
    } else if (o.object_kind == NNRP_OBJECT_TILE_INDEX_BLOCK) {
      CHECK(b.tensor.tiles.block.ptr == o.data.ptr);
      CHECK_EQ_INT(b.tensor.tiles.mode, NNRP_TILE_INDEX_RAW_U16);
      wc_check_tile_ids(&b.tensor.tiles, wc_jget(jo, "tile_ids"));
    } else {
      CHECK(b.tensor.sections.ptr == o.data.ptr);
      wc_check_sections(&b.tensor, wc_jget(jo, "sections"));
    }
  }
  CHECK_EQ_INT(nnrp_inline_iter_next(&it, &o), 0);
  nnrp_test_guard_free(h);
}

TEST(body_mixed_mode_references) {
  const char *name = "body.frame_submit.mixed_mode_references";
  nnrp_meta m;
  nnrp_data_body b;
  uint8_t *body;
  size_t n;
  void *h = NULL;
  CHECK_EQ_INT(ctx_decode(name, &m, &b, &body, &n, &h), 0);
  const cJSON *js = wc_vec_fields(name);
  CHECK_EQ_INT(b.composed, 1);
  CHECK_EQ_INT(b.has_tensor, 1);
  CHECK_EQ_U64(b.slots_inline, NNRP_SLOT_SECTION_TABLE);
  CHECK_EQ_U64(b.slots_referenced, NNRP_SLOT_CAMERA | NNRP_SLOT_TILE_INDEX);
  CHECK_EQ_INT(b.camera.len, 0);
  CHECK_EQ_INT(b.tensor.tiles.block.len, 0);
  CHECK_EQ_INT(b.tensor.section_count, 1);
  WC_CHECK_FIELDS(wc_jget(js, "prelude"), NNRP_STRUCT_PRELUDE, &b.prelude, NULL,
                  WC_EXACT);
  const cJSON *objs = wc_jget(js, "inline_objects");
  nnrp_inline_iter it;
  nnrp_inline_object o;
  nnrp_inline_iter_init(&it, &b);
  CHECK_EQ_INT(nnrp_inline_iter_next(&it, &o), 1);
  CHECK_EQ_U64(o.object_kind,
               wc_jval(cJSON_GetArrayItem(objs, 0), "object_kind"));
  CHECK_EQ_U64(o.object_bytes,
               wc_jval(cJSON_GetArrayItem(objs, 0), "object_bytes"));
  CHECK_EQ_INT(nnrp_inline_iter_next(&it, &o), 0);
  const cJSON *refs = wc_jget(js, "object_references");
  CHECK_EQ_INT(b.ref_count, cJSON_GetArraySize(refs));
  for (uint32_t i = 0; i < b.ref_count; i++) {
    const cJSON *jr = cJSON_GetArrayItem(refs, (int)i);
    nnrp_object_ref r;
    CHECK_EQ_INT(nnrp_data_body_ref(&b, i, &r), 0);
    WC_CHECK_FIELDS(jr, NNRP_STRUCT_OBJECT_REF, &r, NULL, WC_EXACT);
  }
  /* The section table decodes with the metadata tile_count (2 tiles). */
  nnrp_section_iter si;
  nnrp_section_view s;
  nnrp_section_iter_init(&si, &b.tensor);
  CHECK_EQ_INT(nnrp_section_iter_next(&si, &s), 1);
  CHECK_EQ_INT(s.tile_count, 2);
  CHECK_EQ_INT(s.desc.role_id, 1);
  nnrp_test_guard_free(h);
}

/* ---- Composed bodies built for the F-rules ------------------------------ */

/* Standard payloads: camera 8 B, RAW_U16 tile index {0, 1}, the 44-byte
 * section of the legacy packet (2 tiles), opaque bytes for other kinds. */
static size_t kind_payload(uint16_t kind, uint8_t *out) {
  if (kind == NNRP_OBJECT_CAMERA_BLOCK) {
    memcpy(out, "camera!!", 8);
    return 8;
  }
  if (kind == NNRP_OBJECT_TILE_INDEX_BLOCK) {
    static const uint8_t tix[4] = {0, 0, 1, 0};
    memcpy(out, tix, 4);
    return 4;
  }
  if (kind == NNRP_OBJECT_TENSOR_SECTION_TABLE) {
    uint8_t *pk = NULL;
    wc_vec_hex("packet.frame_submit.legacy_inline_tensor", &pk);
    memcpy(out, pk + 112 + 16, 44);
    free(pk);
    return 44;
  }
  memcpy(out, "opaque", 6);
  return 6;
}

/* A composed body: the given inline kinds, references of the given kinds
 * (namespace 1, key (kind, index)), and no typed or extension frames. */
static size_t fbody(uint8_t *out, const uint16_t *inl, size_t ninl,
                    const uint16_t *refs, size_t nrefs) {
  uint8_t reg[2][512], pl[64];
  size_t n[2] = {0, 0};
  for (size_t i = 0; i < ninl; i++) {
    uint32_t len = (uint32_t)kind_payload(inl[i], pl);
    n[0] += wc_inline_block(reg[0] + n[0], inl[i], pl, len);
  }
  for (size_t i = 0; i < nrefs; i++)
    n[1] += wc_ref_block(reg[1] + n[1], refs[i], 1, refs[i], (uint32_t)i);
  const nnrp_bytes r[6] = {{reg[0], n[0]}, {reg[1], n[1]}, {NULL, 0},
                           {NULL, 0},      {NULL, 0},      {NULL, 0}};
  return wc_compose(out, r);
}

/* Metadata of a tensor submit (TENSOR | TOKEN_CHUNK so INLINE is composed):
 * 2 tiles RAW_U16, 1 section; camera_bytes / tile_index_bytes follow the
 * inline objects. */
static nnrp_meta fmeta(uint8_t mode, uint32_t mask, const uint16_t *inl,
                       size_t ninl) {
  nnrp_meta m;
  memset(&m, 0, sizeof m);
  nnrp_frame_submit *s = &m.frame_submit;
  s->payload_kind_bitmap = 0x03;
  s->submit_mode = mode;
  s->object_ref_mask = mask;
  s->tile_count = 2;
  s->section_count = 1;
  s->tile_index_mode = NNRP_TILE_INDEX_RAW_U16;
  s->loss_tolerance_policy = 0xFF;
  for (size_t i = 0; i < ninl; i++) {
    if (inl[i] == NNRP_OBJECT_CAMERA_BLOCK)
      s->camera_bytes = 8;
    if (inl[i] == NNRP_OBJECT_TILE_INDEX_BLOCK)
      s->tile_index_bytes = 4;
  }
  return m;
}

#define N(a) (sizeof(a) / sizeof((a)[0]))

/* Builds the body and decodes it with the metadata *m. */
static int frun_m(const nnrp_meta *m, const uint16_t *inl, size_t ninl,
                  const uint16_t *refs, size_t nrefs, nnrp_data_body *b,
                  nnrp_fault *f) {
  static uint8_t body[512];
  size_t n = fbody(body, inl, ninl, refs, nrefs);
  return nnrp_data_body_decode(FS, m, b, body, n, NULL, f);
}

/* Same with the default metadata of fmeta(). */
static int frun(uint8_t mode, uint32_t mask, const uint16_t *inl, size_t ninl,
                const uint16_t *refs, size_t nrefs, nnrp_data_body *b,
                nnrp_fault *f) {
  nnrp_meta m = fmeta(mode, mask, inl, ninl);
  return frun_m(&m, inl, ninl, refs, nrefs, b, f);
}

#define FRUN(mode, mask, inl, refs, b, f)                                      \
  frun(mode, mask, inl, N(inl), refs, N(refs), b, f)
#define FRUN_M(inl, refs, b, f) frun_m(&m, inl, N(inl), refs, N(refs), b, f)

TEST(f_rules_positive) {
  nnrp_data_body b;
  nnrp_fault f = {0};
  const uint16_t all[] = {1, 2, 3};
  CHECK_EQ_INT(frun(0, 0, all, 3, NULL, 0, &b, &f), 0);
  CHECK_EQ_U64(b.slots_inline, 7);
  CHECK_EQ_INT(b.has_tensor, 1);
  /* MIXED: camera and tile index referenced. */
  const uint16_t st[] = {3}, cr[] = {1, 2};
  CHECK_EQ_INT(FRUN(2, 3, st, cr, &b, &f), 0);
  CHECK_EQ_U64(b.slots_referenced, 3);
  /* REFERENCE with every slot referenced and a non-slot inline object. */
  const uint16_t prompt[] = {7}, r3[] = {1, 2, 3};
  CHECK_EQ_INT(FRUN(1, 7, prompt, r3, &b, &f), 0);
  CHECK_EQ_INT(b.has_tensor, 0);
  CHECK_EQ_U64(b.slots_inline, 0);
  CHECK_EQ_U64(b.slots_referenced, 7);
  /* The layout-template slot. */
  const uint16_t lt[] = {6};
  CHECK_EQ_INT(FRUN(2, 8, all, lt, &b, &f), 0);
  CHECK_EQ_U64(b.slots_referenced, NNRP_SLOT_LAYOUT_TEMPLATE);
  /* Non-slot inline kinds are opaque and allowed in any mode. */
  const uint16_t many[] = {1, 2, 3, 7, 8, 9, 5, 4};
  CHECK_EQ_INT(frun(0, 0, many, N(many), NULL, 0, &b, &f), 0);
  CHECK_EQ_INT(b.inline_count, 8);
}

TEST(f1_to_f7_slots) {
  nnrp_meta m;
  nnrp_data_body b;
  nnrp_fault f = {0};
  const uint16_t st[] = {3}, cr[] = {1, 2}, all[] = {1, 2, 3};
  /* F1: bypassing the metadata decoder. */
  m = fmeta(2, 0x13, st, 1);
  WC_FAULT(FRUN_M(st, cr, &b, &f), f, MB, "wire.md §9.6 F1", "object_ref_mask");
  /* F2: INLINE with a mask; INLINE with a reference region. */
  WC_FAULT(FRUN(0, 3, st, cr, &b, &f), f, MB, "wire.md §9.6 F2",
           "object_ref_mask");
  const uint16_t r7[] = {7};
  WC_FAULT(FRUN(0, 0, all, r7, &b, &f), f, MB, "wire.md §9.6 F2",
           "object_reference_bytes");
  CHECK_EQ_U64(f.offset, 32 + 24 + 24 + 64);
  /* F3: two inline cameras; two camera references. */
  const uint16_t cam2[] = {1, 1, 2, 3};
  WC_FAULT(frun(0, 0, cam2, 4, NULL, 0, &b, &f), f, MB, "wire.md §9.6 F3",
           "object_kind");
  const uint16_t ts[] = {2, 3}, c2[] = {1, 1};
  WC_FAULT(FRUN(2, 1, ts, c2, &b, &f), f, MB, "wire.md §9.6 F3", "object_kind");
  /* F4: slot referenced and inline; slot set without its reference. */
  const uint16_t c1[] = {1};
  WC_FAULT(FRUN(2, 1, all, c1, &b, &f), f, MB, "wire.md §9.6 F4",
           "object_kind");
  WC_FAULT(FRUN(2, 3, st, c1, &b, &f), f, MB, "wire.md §9.6 F4",
           "object_ref_mask");
  /* F5: a reference of a slot whose bit is clear. */
  WC_FAULT(FRUN(2, 1, st, cr, &b, &f), f, MB, "wire.md §9.6 F5", "object_kind");
  /* F6: REFERENCE mode with an inline slot object. */
  WC_FAULT(FRUN(1, 3, st, cr, &b, &f), f, MB, "wire.md §9.6 F6", "object_kind");
  /* F7: wrong order; a non-slot kind among the references. */
  const uint16_t rc[] = {2, 1}, c7[] = {1, 7};
  WC_FAULT(FRUN(2, 3, st, rc, &b, &f), f, MB, "wire.md §9.6 F7", "object_kind");
  CHECK_EQ_U64(f.offset, 32 + 64);
  WC_FAULT(FRUN(2, 1, ts, c7, &b, &f), f, MB, "wire.md §9.6 F7", "object_kind");
  CHECK_EQ_U64(f.offset, 32 + 24 + 64 + 16);
}

TEST(f8_to_f14_tensor_objects) {
  nnrp_meta m;
  nnrp_data_body b;
  nnrp_fault f = {0};
  const uint16_t all[] = {1, 2, 3}, st[] = {3}, cr[] = {1, 2};
  /* F8: inline camera of another size; camera_bytes without a camera. */
  m = fmeta(0, 0, all, 3);
  m.frame_submit.camera_bytes = 9;
  WC_FAULT(frun_m(&m, all, 3, NULL, 0, &b, &f), f, MB, "wire.md §9.6 F8",
           "object_bytes");
  CHECK_EQ_U64(f.offset, 32 + 8);
  m = fmeta(2, 3, st, 1);
  m.frame_submit.camera_bytes = 8;
  WC_FAULT(FRUN_M(st, cr, &b, &f), f, MB, "wire.md §9.6 F8", "camera_bytes");
  /* F9: size, then decoding under the metadata's mode. */
  m = fmeta(0, 0, all, 3);
  m.frame_submit.tile_index_bytes = 6;
  WC_FAULT(frun_m(&m, all, 3, NULL, 0, &b, &f), f, MB, "wire.md §9.6 F9",
           "object_bytes");
  m = fmeta(0, 0, all, 3);
  m.frame_submit.tile_index_mode = NNRP_TILE_INDEX_BITSET;
  WC_FAULT(frun_m(&m, all, 3, NULL, 0, &b, &f), f, MB, "wire.md §8.4 BITSET",
           "tile_count");
  CHECK_EQ_U64(f.offset, 32 + 24 + 16);
  m = fmeta(0, 0, all, 3);
  m.frame_submit.tile_index_mode = NNRP_TILE_INDEX_DENSE_RANGE;
  WC_FAULT(frun_m(&m, all, 3, NULL, 0, &b, &f), f, MB,
           "wire.md §8.4 DENSE_RANGE", "tile_index_bytes");
  /* F10: no tile index at all while tile_count > 0 (DENSE_RANGE too). */
  const uint16_t cs[] = {1, 3};
  m = fmeta(0, 0, cs, 2);
  m.frame_submit.tile_index_mode = NNRP_TILE_INDEX_DENSE_RANGE;
  WC_FAULT(frun_m(&m, cs, 2, NULL, 0, &b, &f), f, MB, "wire.md §9.6 F10",
           "tile_count");
  /* F11: referenced tile index with tile_index_bytes. */
  const uint16_t r2[] = {2};
  m = fmeta(2, 2, cs, 2);
  m.frame_submit.tile_index_bytes = 4;
  WC_FAULT(FRUN_M(cs, r2, &b, &f), f, MB, "wire.md §9.6 F11",
           "tile_index_bytes");
  /* F12: the inline section table must parse with section_count. */
  m = fmeta(0, 0, all, 3);
  m.frame_submit.section_count = 2;
  WC_FAULT(frun_m(&m, all, 3, NULL, 0, &b, &f), f, MB, "wire.md §8.3 rule 4",
           "padding");
  CHECK_EQ_U64(f.offset, 32 + 24 + 24 + 16 + 44);
  /* F13: sections announced, no table inline or referenced. */
  const uint16_t ct[] = {1, 2};
  WC_FAULT(frun(0, 0, ct, 2, NULL, 0, &b, &f), f, MB, "wire.md §9.6 F13",
           "section_count");
  /* F14: REFERENCE without any reference slot. */
  m = fmeta(1, 0, NULL, 0);
  m.frame_submit.tile_count = 0;
  m.frame_submit.section_count = 0;
  WC_FAULT(frun_m(&m, NULL, 0, NULL, 0, &b, &f), f, MB, "wire.md §9.6 F14",
           "object_ref_mask");
  m = fmeta(2, 0, NULL, 0);
  m.frame_submit.tile_count = 0;
  m.frame_submit.section_count = 0;
  WC_FAULT(frun_m(&m, NULL, 0, NULL, 0, &b, &f), f, MB, "wire.md §9.6 F14",
           "object_ref_mask");
}

/* ---- Steps 17 and 18, form selection ------------------------------------ */

TEST(step17_negotiation) {
  nnrp_meta m;
  uint8_t body[64];
  size_t n = legacy_parts(&m, body);
  nnrp_data_body b;
  nnrp_fault f = {0};
  nnrp_wire_opts o;
  nnrp_wire_opts_default(&o);
  o.payload_kinds = NNRP_PAYLOAD_KIND_TOKEN_CHUNK;
  WC_FAULT(nnrp_data_body_decode(FS, &m, &b, body, n, &o, &f), f, UC,
           "wire.md §15 step 17", "payload_kind_bitmap");
  o.payload_kinds = 0x7F;
  CHECK_EQ_INT(nnrp_data_body_decode(FS, &m, &b, body, n, &o, &f), 0);
  /* Referenced kinds against cache_objects (bit kind-1). */
  nnrp_data_body b2;
  uint8_t *vb = NULL;
  size_t vn = wc_vec_hex("body.frame_submit.mixed_mode_references", &vb);
  nnrp_meta mm;
  memset(&mm, 0, sizeof mm);
  wc_set_fields(
      SUBMIT, &mm.frame_submit,
      wc_jget(wc_vec_fields("body.frame_submit.mixed_mode_references"),
              "metadata_context"));
  o.cache_objects = 0x0001; /* camera only: the tile index is refused */
  WC_FAULT(nnrp_data_body_decode(FS, &mm, &b2, vb, vn, &o, &f), f, UC,
           "wire.md §15 step 17", "object_ref_mask");
  o.cache_objects = 0x0002;
  CHECK_EQ_INT(nnrp_data_body_decode(FS, &mm, &b2, vb, vn, &o, &f), UC);
  o.cache_objects = 0x0003;
  CHECK_EQ_INT(nnrp_data_body_decode(FS, &mm, &b2, vb, vn, &o, &f), 0);
  /* Cache disabled: any reference is refused; inline submits are fine. */
  o.cache_objects = 0;
  WC_FAULT(nnrp_data_body_decode(FS, &mm, &b2, vb, vn, &o, &f), f, UC,
           "wire.md §15 step 17", "object_ref_mask");
  CHECK_EQ_INT(nnrp_data_body_decode(FS, &m, &b, body, n, &o, &f), 0);
  /* Step 17 comes before the body structure. */
  WC_FAULT(nnrp_data_body_decode(FS, &mm, &b2, vb, 5, &o, &f), f, UC,
           "wire.md §15 step 17", "object_ref_mask");
  free(vb);
}

TEST(step18_max_sections) {
  nnrp_meta m;
  uint8_t body[64];
  size_t n = legacy_parts(&m, body);
  nnrp_data_body b;
  nnrp_fault f = {0};
  nnrp_wire_opts o;
  nnrp_wire_opts_default(&o);
  o.max_sections = 0;
  WC_FAULT(nnrp_data_body_decode(FS, &m, &b, body, n, &o, &f), f,
           NNRP_ERR_LIMIT_EXCEEDED, "wire.md §15 step 18", "section_count");
  o.max_sections = 1;
  CHECK_EQ_INT(nnrp_data_body_decode(FS, &m, &b, body, n, &o, &f), 0);
  /* Default limit 16: 17 sections fail before the (broken) body. */
  nnrp_wire_opts_default(&o);
  m.frame_submit.section_count = 17;
  WC_FAULT(nnrp_data_body_decode(FS, &m, &b, body, 3, &o, &f), f,
           NNRP_ERR_LIMIT_EXCEEDED, "wire.md §15 step 18", "section_count");
  /* Step 17 wins over step 18. */
  o.payload_kinds = 0;
  CHECK_EQ_INT(nnrp_data_body_decode(FS, &m, &b, body, 3, &o, &f), UC);
}

TEST(form_selection_7) {
  nnrp_meta m;
  memset(&m, 0, sizeof m);
  nnrp_data_body b;
  nnrp_fault f = {0};
  /* payload_kind_bitmap 0 is composed: an empty body is too short. */
  WC_FAULT(nnrp_data_body_decode(FS, &m, &b, NULL, 0, NULL, &f), f, MB,
           "wire.md §9.1", "body_len");
  uint8_t pre[32];
  memset(pre, 0, sizeof pre);
  CHECK_EQ_INT(nnrp_data_body_decode(FS, &m, &b, pre, 32, NULL, &f), 0);
  CHECK_EQ_INT(b.composed, 1);
  /* TENSOR alone, INLINE, no refs, no typed frames: legacy. */
  m.frame_submit.payload_kind_bitmap = NNRP_PAYLOAD_KIND_TENSOR;
  CHECK_EQ_INT(nnrp_data_body_decode(FS, &m, &b, NULL, 0, NULL, &f), 0);
  CHECK_EQ_INT(b.composed, 0);
  CHECK_EQ_INT(b.has_tensor, 1);
  /* ... and any typed frame count makes it composed. */
  m.frame_submit.payload_frame_count = 1;
  WC_FAULT(nnrp_data_body_decode(FS, &m, &b, pre, 32, NULL, &f), f, MB,
           "wire.md §9.4 T1", "typed_payload_descriptor_bytes");
}

/* The packet path: a composed submit through nnrp_packet_decode(). */
TEST(packet_composed_submit) {
  const char *name = "body.frame_submit.mixed_tensor_typed_inline";
  uint8_t *vb = NULL;
  size_t vn = wc_vec_hex(name, &vb);
  nnrp_meta m;
  memset(&m, 0, sizeof m);
  wc_set_fields(SUBMIT, &m.frame_submit,
                wc_jget(wc_vec_fields(name), "metadata_context"));
  nnrp_header h;
  nnrp_header_init(&h, FS);
  h.body_len = (uint32_t)vn;
  h.session_id = 7;
  h.frame_id = 9;
  uint8_t pk[512];
  nnrp_header_encode(&h, pk);
  nnrp__frame_submit_meta_enc(&m, pk + 40);
  memcpy(pk + 112, vb, vn);
  nnrp_packet p;
  nnrp_fault f = {0};
  CHECK_EQ_INT(nnrp_packet_decode(&p, pk, 112 + vn, NULL, &f), 0);
  CHECK_EQ_INT(p.b.data.composed, 1);
  CHECK_EQ_INT(p.b.data.typed_count, 1);
  CHECK(p.b.data.camera.ptr == pk + 112 + 32 + 16);
  /* Step-17 failure through the packet path. */
  nnrp_wire_opts o;
  nnrp_wire_opts_default(&o);
  o.payload_kinds = NNRP_PAYLOAD_KIND_TENSOR;
  WC_FAULT(nnrp_packet_decode(&p, pk, 112 + vn, &o, &f), f, UC,
           "wire.md §15 step 17", "payload_kind_bitmap");
  free(vb);
}

int main(void) {
  RUN(meta_golden_mixed);
  RUN(meta_preview4_rejected);
  RUN(meta_rule_m1);
  RUN(meta_rule_m2);
  RUN(meta_rule_m3);
  RUN(meta_rule_m4);
  RUN(packet_legacy_inline_tensor);
  RUN(legacy_body_rules_8_1);
  RUN(body_typed_only);
  RUN(body_mixed_tensor_typed_inline);
  RUN(body_mixed_mode_references);
  RUN(f_rules_positive);
  RUN(f1_to_f7_slots);
  RUN(f8_to_f14_tensor_objects);
  RUN(step17_negotiation);
  RUN(step18_max_sections);
  RUN(form_selection_7);
  RUN(packet_composed_submit);
  wc_vectors_free();
  TEST_MAIN_END();
}
