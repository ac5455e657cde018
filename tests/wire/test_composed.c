/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_composed.c - composed body structure (wire.md §9.1-9.5): prelude and
 * regions, inline object blocks, reference blocks, typed-payload descriptors
 * (T1-T4), extension frames, and the accessors. Golden vectors body.prelude,
 * descriptor.object_reference.*, descriptor.typed_payload.*,
 * body.typed_payload.frame_region; the preview4 prelude must be rejected.
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
#define PREVIEW4                                                               \
  "conformance/protocol/nnrp-1-preview4/cases/nnrp1-baseline-core.json"

/* ---- Small body builders ------------------------------------------------ */

static size_t typed_desc(uint8_t *out, uint8_t kind, uint16_t profile,
                         uint32_t off, uint32_t len) {
  memset(out, 0, 16);
  out[0] = kind;
  wc_put_le(out + 2, 2, profile);
  wc_put_le(out + 4, 4, off);
  wc_put_le(out + 8, 4, len);
  return 16;
}

static size_t ext_desc(uint8_t *out, uint16_t kind, uint16_t flags,
                       uint32_t off, uint32_t len) {
  memset(out, 0, 16);
  wc_put_le(out, 2, kind);
  wc_put_le(out + 2, 2, flags);
  wc_put_le(out + 8, 4, off);
  wc_put_le(out + 12, 4, len);
  return 16;
}

/* Decodes body as a RESULT_PUSH whose metadata only selects the composed
 * form (no tensor objects, so the P-rules are trivially met). */
static int dec(const uint8_t *body, size_t len, uint32_t bitmap,
               uint16_t frames, uint32_t flags, nnrp_data_body *b,
               nnrp_fault *f) {
  nnrp_meta m;
  memset(&m, 0, sizeof m);
  m.result_push.payload_kind_bitmap = bitmap;
  m.result_push.payload_frame_count = frames;
  return wc_data_decode(NNRP_MSG_RESULT_PUSH, &m, body, len, flags, b, f);
}

/* ---- Golden: prelude, reference, typed descriptor ----------------------- */

/* A body whose prelude is exactly body.prelude (24/16/16/14/16/5). */
static size_t golden_body(uint8_t *out) {
  uint8_t inl[24], ref[16], td[16], tf[14], xd[16];
  uint8_t *g = NULL;
  CHECK_EQ_INT(wc_inline_block(inl, NNRP_OBJECT_PROMPT_SEGMENT, "prompt!!", 8),
               24);
  CHECK_EQ_INT(wc_vec_hex("descriptor.object_reference.tile_index_block", &g),
               16);
  memcpy(ref, g, 16);
  free(g);
  CHECK_EQ_INT(wc_vec_hex("descriptor.typed_payload.structured_event", &g), 16);
  memcpy(td, g, 16);
  free(g);
  memcpy(tf, "....{\"a\":1}...", 14);
  ext_desc(xd, 0x4242, 0, 0, 5);
  const nnrp_bytes r[6] = {{inl, 24}, {ref, 16}, {td, 16},
                           {tf, 14},  {xd, 16},  {(const uint8_t *)"hello", 5}};
  return wc_compose(out, r);
}

TEST(prelude_golden) {
  uint8_t body[160];
  size_t n = golden_body(body);
  CHECK_EQ_INT(n, 32 + 91);
  uint8_t *g = NULL;
  CHECK_EQ_INT(wc_vec_hex("body.prelude", &g), 32);
  CHECK_EQ_MEM(body, g, 32);
  void *h = NULL;
  uint8_t *gb = nnrp_test_guard_copy(body, n, &h);
  nnrp_data_body b;
  nnrp_fault f = {0};
  CHECK_EQ_INT(dec(gb, n, 0x10, 1, 0, &b, &f), 0);
  CHECK_EQ_INT(b.composed, 1);
  CHECK_EQ_INT(b.has_tensor, 0);
  const cJSON *js = wc_vec_fields("body.prelude");
  WC_CHECK_FIELDS(js, NNRP_STRUCT_PRELUDE, &b.prelude, NULL, WC_EXACT);
  uint8_t re[32];
  wc_struct_put(NNRP_STRUCT_PRELUDE, &b.prelude, re);
  CHECK_EQ_MEM(re, g, 32);
  /* Regions in wire order, no gaps. */
  static const size_t offs[6] = {32, 56, 72, 88, 102, 118};
  for (int i = 0; i < 6; i++) {
    CHECK(b.regions[i].ptr == gb + offs[i]);
  }
  CHECK_EQ_INT(b.regions[NNRP_REGION_EXT_PAYLOAD].len, 5);
  CHECK_EQ_INT(b.inline_count, 1);
  CHECK_EQ_INT(b.ref_count, 1);
  CHECK_EQ_INT(b.typed_count, 1);
  CHECK_EQ_INT(b.ext_count, 1);
  /* Unknown non-critical extension frame: skipped, still readable. */
  nnrp_ext_frame x;
  CHECK_EQ_INT(nnrp_data_body_ext(&b, 0, &x), 0);
  CHECK_EQ_U64(x.extension_kind, 0x4242);
  CHECK_EQ_INT(x.data.len, 5);
  CHECK_EQ_MEM(x.data.ptr, "hello", 5);
  CHECK_EQ_INT(nnrp_data_body_ext(&b, 1, &x), NNRP_ERR_NOT_FOUND);
  nnrp_inline_iter it;
  nnrp_inline_object o;
  nnrp_inline_iter_init(&it, &b);
  CHECK_EQ_INT(nnrp_inline_iter_next(&it, &o), 1);
  CHECK_EQ_INT(o.object_kind, NNRP_OBJECT_PROMPT_SEGMENT);
  CHECK_EQ_INT(o.object_bytes, 8);
  CHECK_EQ_MEM(o.data.ptr, "prompt!!", 8);
  CHECK_EQ_INT(nnrp_inline_iter_next(&it, &o), 0);
  nnrp_test_guard_free(h);
  free(g);
}

TEST(object_reference_golden) {
  const char *name = "descriptor.object_reference.tile_index_block";
  uint8_t body[160];
  size_t n = golden_body(body);
  nnrp_data_body b;
  nnrp_fault f = {0};
  CHECK_EQ_INT(dec(body, n, 0x10, 1, 0, &b, &f), 0);
  nnrp_object_ref r;
  CHECK_EQ_INT(nnrp_data_body_ref(&b, 0, &r), 0);
  const cJSON *js = wc_vec_fields(name);
  WC_CHECK_FIELDS(js, NNRP_STRUCT_OBJECT_REF, &r, NULL, WC_EXACT);
  uint8_t re[16], *g = NULL;
  wc_struct_put(NNRP_STRUCT_OBJECT_REF, &r, re);
  wc_vec_hex(name, &g);
  CHECK_EQ_MEM(re, g, 16);
  free(g);
  CHECK_EQ_INT(nnrp_data_body_ref(&b, 1, &r), NNRP_ERR_NOT_FOUND);
}

TEST(typed_descriptor_golden) {
  const char *name = "descriptor.typed_payload.structured_event";
  uint8_t body[160];
  size_t n = golden_body(body);
  nnrp_data_body b;
  nnrp_fault f = {0};
  CHECK_EQ_INT(dec(body, n, 0x10, 1, 0, &b, &f), 0);
  nnrp_typed_frame t;
  CHECK_EQ_INT(nnrp_data_body_typed(&b, 0, &t), 0);
  WC_CHECK_FIELDS(wc_vec_fields(name), NNRP_STRUCT_TYPED_FRAME, &t, NULL,
                  WC_EXACT);
  CHECK(t.data.ptr == b.regions[NNRP_REGION_TYPED_FRAMES].ptr + 4);
  CHECK_EQ_INT(t.data.len, 7);
  CHECK_EQ_MEM(t.data.ptr, "{\"a\":1}", 7);
  uint8_t re[16], *g = NULL;
  wc_struct_put(NNRP_STRUCT_TYPED_FRAME, &t, re);
  wc_vec_hex(name, &g);
  CHECK_EQ_MEM(re, g, 16);
  free(g);
  CHECK_EQ_INT(nnrp_data_body_typed(&b, 1, &t), NNRP_ERR_NOT_FOUND);
}

/* descriptor.typed_payload.region_token_audio_video_event with
 * body.typed_payload.frame_region. */
TEST(typed_region_golden) {
  const char *dname = "descriptor.typed_payload.region_token_audio_video_event";
  uint8_t *d = NULL, *fr = NULL, body[160];
  size_t nd = wc_vec_hex(dname, &d);
  size_t nf = wc_vec_hex("body.typed_payload.frame_region", &fr);
  const cJSON *fj = wc_vec_fields("body.typed_payload.frame_region");
  CHECK_EQ_INT(nd, 64);
  CHECK_EQ_INT(nf, wc_jval(fj, "typed_payload_frame_bytes"));
  const nnrp_bytes r[6] = {{NULL, 0}, {NULL, 0}, {d, nd},
                           {fr, nf},  {NULL, 0}, {NULL, 0}};
  size_t n = wc_compose(body, r);
  nnrp_data_body b;
  nnrp_fault f = {0};
  CHECK_EQ_INT(dec(body, n, 0x1E, 4, 0, &b, &f), 0);
  CHECK_EQ_INT(b.typed_count, 4);
  const cJSON *descs = wc_jget(wc_vec_fields(dname), "descriptors");
  const cJSON *utf8 = wc_jget(fj, "frames_utf8");
  for (uint32_t i = 0; i < 4; i++) {
    nnrp_typed_frame t;
    CHECK_EQ_INT(nnrp_data_body_typed(&b, i, &t), 0);
    WC_CHECK_FIELDS(cJSON_GetArrayItem(descs, (int)i), NNRP_STRUCT_TYPED_FRAME,
                    &t, NULL, WC_EXACT);
    const char *want = cJSON_GetArrayItem(utf8, (int)i)->valuestring;
    CHECK_EQ_INT(t.data.len, strlen(want));
    CHECK_EQ_MEM(t.data.ptr, want, strlen(want));
    uint8_t re[16];
    wc_struct_put(NNRP_STRUCT_TYPED_FRAME, &t, re);
    CHECK_EQ_MEM(re, d + 16 * i, 16);
  }
  /* T3: the bitmap must hold every descriptor kind (0x08 missing here). */
  WC_FAULT(dec(body, n, 0x16, 4, 0, &b, &f), f, MB, "wire.md §9.4 T3",
           "payload_kind");
  CHECK_EQ_U64(f.offset, 32 + 32);
  free(d);
  free(fr);
}

/* vectors/README.md §3: the preview4 prelude (24-byte blocks) is rejected. */
TEST(preview4_prelude_rejected) {
  size_t n = 0;
  uint8_t *p = wc_case_hex(PREVIEW4, "l0.body_region.prelude.golden",
                           "metadata_hex", &n);
  if (!CHECK(p != NULL))
    return;
  CHECK_EQ_INT(n, 32);
  uint8_t body[32 + 107];
  memset(body, 0, sizeof body);
  memcpy(body, p, 32);
  nnrp_data_body b;
  nnrp_fault f = {0};
  WC_FAULT(dec(body, sizeof body, 0x10, 1, 0, &b, &f), f, MB, "wire.md §9.1",
           "object_reference_bytes");
  WC_FAULT(dec(body, sizeof body, 0x10, 1, LEN, &b, &f), f, MB, "wire.md §9.1",
           "object_reference_bytes");
  /* Even with 16-byte references the 24-byte descriptor region fails. */
  wc_put_le(body + 4, 4, 16);
  WC_FAULT(dec(body, sizeof body - 8, 0x10, 1, 0, &b, &f), f, MB,
           "wire.md §9.1", "typed_payload_descriptor_bytes");
  free(p);
}

/* ---- §9.1 prelude rules ------------------------------------------------- */

TEST(prelude_rules) {
  uint8_t body[128];
  memset(body, 0, sizeof body);
  nnrp_data_body b;
  nnrp_fault f = {0};
  /* An empty composed body (prelude only) is fine. */
  CHECK_EQ_INT(dec(body, 32, 0x02, 0, 0, &b, &f), 0);
  CHECK_EQ_INT(b.composed, 1);
  WC_FAULT(dec(body, 31, 0x02, 0, 0, &b, &f), f, MB, "wire.md §9.1",
           "body_len");
  WC_FAULT(dec(NULL, 0, 0x02, 0, 0, &b, &f), f, MB, "wire.md §9.1", "body_len");
  /* 32 + six lengths must equal body_len, both ways. */
  WC_FAULT(dec(body, 33, 0x02, 0, 0, &b, &f), f, MB, "wire.md §9.1",
           "body_len");
  wc_put_le(body + 20, 4, 2);
  WC_FAULT(dec(body, 33, 0x02, 0, 0, &b, &f), f, MB, "wire.md §9.1",
           "body_len");
  CHECK_EQ_INT(dec(body, 34, 0x02, 0, 0, &b, &f), 0);
  wc_put_le(body + 20, 4, 0);
  /* Lengths near 2^32 must not wrap the sum. */
  wc_put_le(body + 0, 4, 0xFFFFFFF8u);
  wc_put_le(body + 20, 4, 0x10u);
  WC_FAULT(dec(body, 40, 0x02, 0, 0, &b, &f), f, MB, "wire.md §9.1",
           "body_len");
  memset(body, 0, 32);
  /* Multiples of 16. */
  wc_put_le(body + 4, 4, 8);
  WC_FAULT(dec(body, 40, 0x02, 0, 0, &b, &f), f, MB, "wire.md §9.1",
           "object_reference_bytes");
  CHECK_EQ_U64(f.offset, 4);
  memset(body, 0, 32);
  wc_put_le(body + 8, 4, 8);
  WC_FAULT(dec(body, 40, 0x02, 0, 0, &b, &f), f, MB, "wire.md §9.1",
           "typed_payload_descriptor_bytes");
  memset(body, 0, 32);
  wc_put_le(body + 16, 4, 24);
  WC_FAULT(dec(body, 56, 0x02, 0, 0, &b, &f), f, MB, "wire.md §9.1",
           "extension_descriptor_bytes");
  memset(body, 0, 32);
  /* T1: 16 x payload_frame_count. */
  wc_put_le(body + 8, 4, 32);
  typed_desc(body + 32, 0x02, 0, 0, 0);
  typed_desc(body + 48, 0x02, 0, 0, 0);
  WC_FAULT(dec(body, 64, 0x02, 1, 0, &b, &f), f, MB, "wire.md §9.4 T1",
           "typed_payload_descriptor_bytes");
  CHECK_EQ_INT(dec(body, 64, 0x02, 2, 0, &b, &f), 0);
  memset(body, 0, 64);
  /* T2: no descriptors, no frame bytes. */
  wc_put_le(body + 12, 4, 3);
  WC_FAULT(dec(body, 35, 0x02, 0, 0, &b, &f), f, MB, "wire.md §9.4 T2",
           "typed_payload_frame_bytes");
  memset(body, 0, 64);
}

TEST(prelude_reserved_strict_lenient) {
  uint8_t body[32];
  memset(body, 0, sizeof body);
  nnrp_data_body b;
  nnrp_fault f = {0};
  wc_put_le(body + 24, 4, 1);
  WC_FAULT(dec(body, 32, 0x02, 0, 0, &b, &f), f, MB, "wire.md §9.1",
           "body_flags");
  CHECK_EQ_INT(dec(body, 32, 0x02, 0, LEN, &b, &f), 0);
  CHECK_EQ_U64(b.prelude.body_flags, 1); /* kept as read */
  wc_put_le(body + 24, 4, 0);
  wc_put_le(body + 28, 4, 0x77);
  WC_FAULT(dec(body, 32, 0x02, 0, 0, &b, &f), f, MB, "wire.md §9.1",
           "reserved");
  CHECK_EQ_INT(dec(body, 32, 0x02, 0, LEN, &b, &f), 0);
  CHECK_EQ_U64(b.prelude.reserved, 0x77);
}

/* ---- §9.2 inline blocks ------------------------------------------------- */

/* Decodes a body whose only region is the given inline region. */
static int dec_inline(const uint8_t *reg, size_t n, uint32_t flags,
                      nnrp_data_body *b, nnrp_fault *f, uint8_t *body) {
  const nnrp_bytes r[6] = {{reg, n},  {NULL, 0}, {NULL, 0},
                           {NULL, 0}, {NULL, 0}, {NULL, 0}};
  size_t len = wc_compose(body, r);
  return dec(body, len, 0x02, 0, flags, b, f);
}

TEST(inline_blocks_ok_and_iterator) {
  uint8_t reg[128], body[160];
  size_t n = wc_inline_block(reg, NNRP_OBJECT_TOOL_SCHEMA, "{}", 2);
  n += wc_inline_block(reg + n, NNRP_OBJECT_PROMPT_SEGMENT, NULL, 0);
  n += wc_inline_block(reg + n, NNRP_OBJECT_STRUCTURED_EVENT_SCHEMA, "12345678",
                       8);
  CHECK_EQ_INT(n, 24 + 16 + 24);
  nnrp_data_body b;
  nnrp_fault f = {0};
  CHECK_EQ_INT(dec_inline(reg, n, 0, &b, &f, body), 0);
  CHECK_EQ_INT(b.inline_count, 3);
  nnrp_inline_iter it;
  nnrp_inline_object o;
  nnrp_inline_iter_init(&it, &b);
  CHECK(nnrp_inline_iter_next(&it, &o) == 1 && o.object_kind == 8);
  CHECK(o.data.len == 2 && o.data.ptr == body + 32 + 16);
  CHECK(nnrp_inline_iter_next(&it, &o) == 1 && o.object_kind == 7);
  CHECK_EQ_INT(o.data.len, 0);
  CHECK(nnrp_inline_iter_next(&it, &o) == 1 && o.object_kind == 9);
  CHECK_EQ_MEM(o.data.ptr, "12345678", 8);
  CHECK_EQ_INT(nnrp_inline_iter_next(&it, &o), 0);
}

TEST(inline_block_rules) {
  uint8_t reg[64], body[128];
  nnrp_data_body b;
  nnrp_fault f = {0};
  /* Partial header. */
  memset(reg, 0, sizeof reg);
  wc_put_le(reg, 2, 7);
  WC_FAULT(dec_inline(reg, 8, 0, &b, &f, body), f, MB, "wire.md §9.2",
           "InlineObjectHeader");
  CHECK_EQ_U64(f.offset, 32);
  /* A second, partial header after a good block. */
  size_t n = wc_inline_block(reg, 7, "ab", 2);
  WC_FAULT(dec_inline(reg, n + 8, 0, &b, &f, body), f, MB, "wire.md §9.2",
           "InlineObjectHeader");
  CHECK_EQ_U64(f.offset, 32 + 24);
  /* object_kind enum. */
  wc_put_le(reg, 2, 0);
  WC_FAULT(dec_inline(reg, n, 0, &b, &f, body), f, MB, "wire.md §9.2",
           "object_kind");
  wc_put_le(reg, 2, 10);
  WC_FAULT(dec_inline(reg, n, LEN, &b, &f, body), f, MB, "wire.md §9.2",
           "object_kind");
  wc_put_le(reg, 2, 7);
  /* Block past the end of the region. */
  wc_put_le(reg + 8, 4, 9);
  WC_FAULT(dec_inline(reg, n, 0, &b, &f, body), f, MB, "wire.md §9.2",
           "object_bytes");
  wc_put_le(reg + 8, 4, 2);
  /* Pad missing (region ends right after the payload), pad not zero. */
  WC_FAULT(dec_inline(reg, 18, 0, &b, &f, body), f, MB, "wire.md §9.2",
           "padding");
  reg[20] = 1;
  WC_FAULT(dec_inline(reg, n, 0, &b, &f, body), f, MB, "wire.md §9.2",
           "padding");
  WC_FAULT(dec_inline(reg, n, LEN, &b, &f, body), f, MB, "wire.md §9.2",
           "padding");
  CHECK_EQ_U64(f.offset, 32 + 18);
  reg[20] = 0;
  CHECK_EQ_INT(dec_inline(reg, n, 0, &b, &f, body), 0);
}

TEST(inline_block_reserved_strict_lenient) {
  static const struct {
    size_t off;
    int width;
    const char *field;
  } t[] = {{2, 2, "object_flags"}, {6, 2, "reserved0"}, {12, 4, "reserved1"}};
  for (size_t i = 0; i < 3; i++) {
    uint8_t reg[32], body[96];
    size_t n = wc_inline_block(reg, 7, "abcd", 4);
    if (t[i].width == 2)
      wc_put_le(reg + t[i].off, 2, 0x8001);
    else
      wc_put_le(reg + t[i].off, 4, 0x8001);
    nnrp_data_body b;
    nnrp_fault f = {0};
    WC_FAULT(dec_inline(reg, n, 0, &b, &f, body), f, MB, "wire.md §9.2",
             t[i].field);
    CHECK_EQ_INT(dec_inline(reg, n, LEN, &b, &f, body), 0);
    nnrp_inline_iter it;
    nnrp_inline_object o;
    nnrp_inline_iter_init(&it, &b);
    CHECK_EQ_INT(nnrp_inline_iter_next(&it, &o), 1);
    CHECK_EQ_U64(o.object_flags, 0); /* flags cleared, reserved kept */
    CHECK_EQ_U64(o.reserved0, i == 1 ? 0x8001 : 0);
    CHECK_EQ_U64(o.reserved1, i == 2 ? 0x8001 : 0);
  }
}

/* ---- §9.3 reference blocks ---------------------------------------------- */

TEST(reference_block_rules) {
  uint8_t refs[32], body[96];
  wc_ref_block(refs, 5, 1, 2, 3);
  wc_ref_block(refs + 16, 9, 1, 2, 3);
  const nnrp_bytes r[6] = {{NULL, 0}, {refs, 32}, {NULL, 0},
                           {NULL, 0}, {NULL, 0},  {NULL, 0}};
  size_t n = wc_compose(body, r);
  nnrp_data_body b;
  nnrp_fault f = {0};
  CHECK_EQ_INT(dec(body, n, 0x02, 0, 0, &b, &f), 0);
  CHECK_EQ_INT(b.ref_count, 2);
  wc_put_le(body + 32 + 16, 2, 10);
  WC_FAULT(dec(body, n, 0x02, 0, LEN, &b, &f), f, MB, "wire.md §9.3",
           "object_kind");
  CHECK_EQ_U64(f.offset, 48);
  wc_put_le(body + 32 + 16, 2, 0);
  WC_FAULT(dec(body, n, 0x02, 0, 0, &b, &f), f, MB, "wire.md §9.3",
           "object_kind");
  wc_put_le(body + 32 + 16, 2, 9);
  wc_put_le(body + 32 + 2, 2, 0x0100);
  WC_FAULT(dec(body, n, 0x02, 0, 0, &b, &f), f, MB, "wire.md §9.3",
           "ref_flags");
  CHECK_EQ_INT(dec(body, n, 0x02, 0, LEN, &b, &f), 0);
  nnrp_object_ref o;
  CHECK_EQ_INT(nnrp_data_body_ref(&b, 0, &o), 0);
  CHECK_EQ_U64(o.ref_flags, 0);
  CHECK_EQ_U64(o.cache_key_lo, 3);
}

/* ---- §9.4 typed descriptors --------------------------------------------- */

/* Two descriptors over a 10-byte frame region. */
static size_t typed_body(uint8_t *body, const uint8_t d[32]) {
  const nnrp_bytes r[6] = {{NULL, 0}, {NULL, 0},
                           {d, 32},   {(const uint8_t *)"0123456789", 10},
                           {NULL, 0}, {NULL, 0}};
  return wc_compose(body, r);
}

TEST(typed_descriptor_rules) {
  uint8_t d[32], body[96];
  nnrp_data_body b;
  nnrp_fault f = {0};
  const uint32_t bm = 0x7E;
  /* Gaps and zero-length frames are allowed. */
  typed_desc(d, 0x02, 0, 1, 3);
  typed_desc(d + 16, 0x40, 0, 6, 0);
  size_t n = typed_body(body, d);
  CHECK_EQ_INT(dec(body, n, bm, 2, 0, &b, &f), 0);
  nnrp_typed_frame t;
  CHECK_EQ_INT(nnrp_data_body_typed(&b, 0, &t), 0);
  CHECK_EQ_MEM(t.data.ptr, "123", 3);
  /* payload_kind: exactly one bit of 0x7E. */
  static const uint8_t bad[] = {0x00, 0x01, 0x06, 0x80, 0x81, 0xFF};
  for (size_t i = 0; i < sizeof bad; i++) {
    body[32 + 16] = bad[i];
    WC_FAULT(dec(body, n, 0x7F, 2, LEN, &b, &f), f, MB, "wire.md §9.4",
             "payload_kind");
    CHECK_EQ_U64(f.offset, 48);
  }
  body[32 + 16] = 0x40;
  /* descriptor_flags and reserved. */
  body[32 + 1] = 1;
  WC_FAULT(dec(body, n, bm, 2, 0, &b, &f), f, MB, "wire.md §9.4",
           "descriptor_flags");
  CHECK_EQ_INT(dec(body, n, bm, 2, LEN, &b, &f), 0);
  CHECK_EQ_INT(nnrp_data_body_typed(&b, 0, &t), 0);
  CHECK_EQ_U64(t.descriptor_flags, 0);
  body[32 + 1] = 0;
  wc_put_le(body + 32 + 12, 4, 5);
  WC_FAULT(dec(body, n, bm, 2, 0, &b, &f), f, MB, "wire.md §9.4", "reserved");
  CHECK_EQ_INT(dec(body, n, bm, 2, LEN, &b, &f), 0);
  CHECK_EQ_INT(nnrp_data_body_typed(&b, 0, &t), 0);
  CHECK_EQ_U64(t.reserved, 5);
  wc_put_le(body + 32 + 12, 4, 0);
  /* T3. */
  WC_FAULT(dec(body, n, 0x02, 2, 0, &b, &f), f, MB, "wire.md §9.4 T3",
           "payload_kind");
  CHECK_EQ_U64(f.offset, 48);
}

TEST(typed_rule_t4_ranges) {
  uint8_t d[32], body[96];
  nnrp_data_body b;
  nnrp_fault f = {0};
  /* Overlap: the second starts before the first ends. */
  typed_desc(d, 0x02, 0, 0, 4);
  typed_desc(d + 16, 0x04, 0, 3, 2);
  size_t n = typed_body(body, d);
  WC_FAULT(dec(body, n, 0x06, 2, 0, &b, &f), f, MB, "wire.md §9.4 T4",
           "payload_offset");
  CHECK_EQ_U64(f.offset, 48 + 4);
  /* Descending order. */
  typed_desc(d, 0x02, 0, 5, 2);
  typed_desc(d + 16, 0x04, 0, 0, 2);
  n = typed_body(body, d);
  WC_FAULT(dec(body, n, 0x06, 2, 0, &b, &f), f, MB, "wire.md §9.4 T4",
           "payload_offset");
  /* End past the region; offset + length overflowing 32 bits. */
  typed_desc(d, 0x02, 0, 0, 2);
  typed_desc(d + 16, 0x04, 0, 8, 3);
  n = typed_body(body, d);
  WC_FAULT(dec(body, n, 0x06, 2, 0, &b, &f), f, MB, "wire.md §9.4 T4",
           "payload_offset");
  typed_desc(d + 16, 0x04, 0, 8, 0xFFFFFFFFu);
  n = typed_body(body, d);
  WC_FAULT(dec(body, n, 0x06, 2, 0, &b, &f), f, MB, "wire.md §9.4 T4",
           "payload_offset");
  /* Exactly to the end is fine. */
  typed_desc(d + 16, 0x04, 0, 8, 2);
  n = typed_body(body, d);
  CHECK_EQ_INT(dec(body, n, 0x06, 2, 0, &b, &f), 0);
}

/* ---- §9.5 extension frames ---------------------------------------------- */

static size_t ext_body(uint8_t *body, const uint8_t *d, size_t nd) {
  const nnrp_bytes r[6] = {{NULL, 0}, {NULL, 0},
                           {NULL, 0}, {NULL, 0},
                           {d, nd},   {(const uint8_t *)"abcdefgh", 8}};
  return wc_compose(body, r);
}

TEST(extension_frame_rules) {
  uint8_t d[32], body[96];
  nnrp_data_body b;
  nnrp_fault f = {0};
  ext_desc(d, 0x0001, 0, 0, 4);
  ext_desc(d + 16, 0x9000, 0, 4, 4);
  size_t n = ext_body(body, d, 32);
  CHECK_EQ_INT(dec(body, n, 0x02, 0, 0, &b, &f), 0);
  CHECK_EQ_INT(b.ext_count, 2);
  nnrp_ext_frame x;
  CHECK_EQ_INT(nnrp_data_body_ext(&b, 1, &x), 0);
  CHECK_EQ_MEM(x.data.ptr, "efgh", 4);
  /* CRITICAL: no kinds are defined, so it is never supported. */
  wc_put_le(body + 32 + 16 + 2, 2, NNRP_EXT_FLAG_CRITICAL);
  WC_FAULT(dec(body, n, 0x02, 0, 0, &b, &f), f, NNRP_ERR_UNSUPPORTED_CAPABILITY,
           "wire.md §9.5", "extension_flags");
  CHECK_EQ_U64(f.offset, 50);
  WC_FAULT(dec(body, n, 0x02, 0, LEN, &b, &f), f,
           NNRP_ERR_UNSUPPORTED_CAPABILITY, "wire.md §9.5", "extension_flags");
  /* Unknown flag bits: strict rejects, lenient clears. */
  wc_put_le(body + 32 + 16 + 2, 2, 0x0002);
  WC_FAULT(dec(body, n, 0x02, 0, 0, &b, &f), f, MB, "wire.md §9.5",
           "extension_flags");
  CHECK_EQ_INT(dec(body, n, 0x02, 0, LEN, &b, &f), 0);
  CHECK_EQ_INT(nnrp_data_body_ext(&b, 1, &x), 0);
  CHECK_EQ_U64(x.extension_flags, 0);
  /* Lenient keeps CRITICAL among unknown bits. */
  wc_put_le(body + 32 + 16 + 2, 2, 0x8001);
  CHECK_EQ_INT(dec(body, n, 0x02, 0, LEN, &b, &f),
               NNRP_ERR_UNSUPPORTED_CAPABILITY);
  wc_put_le(body + 32 + 16 + 2, 2, 0);
  /* reserved0. */
  wc_put_le(body + 32 + 6, 2, 3);
  WC_FAULT(dec(body, n, 0x02, 0, 0, &b, &f), f, MB, "wire.md §9.5",
           "reserved0");
  CHECK_EQ_INT(dec(body, n, 0x02, 0, LEN, &b, &f), 0);
  wc_put_le(body + 32 + 6, 2, 0);
}

TEST(extension_frame_ranges_and_order) {
  uint8_t d[32], body[96];
  nnrp_data_body b;
  nnrp_fault f = {0};
  /* Overlap, out of bounds. */
  ext_desc(d, 0x0001, 0, 0, 5);
  ext_desc(d + 16, 0x0002, 0, 4, 4);
  size_t n = ext_body(body, d, 32);
  WC_FAULT(dec(body, n, 0x02, 0, 0, &b, &f), f, MB, "wire.md §9.5",
           "payload_offset");
  ext_desc(d, 0x0001, 0, 0, 9);
  n = ext_body(body, d, 16);
  WC_FAULT(dec(body, n, 0x02, 0, 0, &b, &f), f, MB, "wire.md §9.5",
           "payload_offset");
  /* Descriptors are checked in order: a bad range before a CRITICAL frame
   * is MALFORMED; a CRITICAL frame before a bad range is UNSUPPORTED. */
  ext_desc(d, 0x0001, 0, 6, 4);
  ext_desc(d + 16, 0x0002, NNRP_EXT_FLAG_CRITICAL, 0, 2);
  n = ext_body(body, d, 32);
  WC_FAULT(dec(body, n, 0x02, 0, 0, &b, &f), f, MB, "wire.md §9.5",
           "payload_offset");
  ext_desc(d, 0x0002, NNRP_EXT_FLAG_CRITICAL, 0, 2);
  ext_desc(d + 16, 0x0001, 0, 0, 40);
  n = ext_body(body, d, 32);
  CHECK_EQ_INT(dec(body, n, 0x02, 0, 0, &b, &f),
               NNRP_ERR_UNSUPPORTED_CAPABILITY);
}

/* The internal §9.1-9.5 entry point fills the census used by F/P rules. */
TEST(composed_decode_census) {
  uint8_t reg[96], refs[48], body[192];
  size_t n = wc_inline_block(reg, 7, "x", 1);
  n += wc_inline_block(reg + n, 7, "y", 1);
  n += wc_inline_block(reg + n, 2, "\x01\x00", 2);
  wc_ref_block(refs, 1, 0, 0, 1);
  wc_ref_block(refs + 16, 5, 0, 0, 1);
  wc_ref_block(refs + 32, 5, 0, 0, 2);
  const nnrp_bytes r[6] = {{reg, n},  {refs, 48}, {NULL, 0},
                           {NULL, 0}, {NULL, 0},  {NULL, 0}};
  size_t len = wc_compose(body, r);
  nnrp_data_body b;
  nnrp__obj_census c;
  nnrp_fault f = {0};
  memset(&b, 0, sizeof b);
  CHECK_EQ_INT(nnrp__composed_decode(&b, &c, body, len, 0x02, 0, 0, &f), 0);
  CHECK_EQ_INT(c.inline_n[7], 2);
  CHECK_EQ_INT(c.inline_n[2], 1);
  CHECK_EQ_INT(c.first[2].object_bytes, 2);
  CHECK_EQ_U64(c.first_off[2], 32 + 48 + 16);
  CHECK_EQ_MEM(c.first[7].data.ptr, "x", 1);
  CHECK_EQ_INT(c.ref_n[1], 1);
  CHECK_EQ_INT(c.ref_n[5], 2);
  CHECK_EQ_INT(b.inline_count, 3);
  CHECK_EQ_INT(b.ref_count, 3);
}

/* A legacy body has no regions: accessors report nothing. */
TEST(accessors_on_legacy_body) {
  nnrp_meta m;
  memset(&m, 0, sizeof m);
  nnrp_data_body b;
  nnrp_fault f = {0};
  CHECK_EQ_INT(
      nnrp_data_body_decode(NNRP_MSG_RESULT_PUSH, &m, &b, NULL, 0, NULL, &f),
      0);
  CHECK_EQ_INT(b.composed, 0);
  nnrp_object_ref r;
  nnrp_typed_frame t;
  nnrp_ext_frame x;
  nnrp_inline_object o;
  nnrp_inline_iter it;
  CHECK_EQ_INT(nnrp_data_body_ref(&b, 0, &r), NNRP_ERR_NOT_FOUND);
  CHECK_EQ_INT(nnrp_data_body_typed(&b, 0, &t), NNRP_ERR_NOT_FOUND);
  CHECK_EQ_INT(nnrp_data_body_ext(&b, 0, &x), NNRP_ERR_NOT_FOUND);
  nnrp_inline_iter_init(&it, &b);
  CHECK_EQ_INT(nnrp_inline_iter_next(&it, &o), 0);
  /* Not a data message. */
  CHECK_EQ_INT(nnrp_data_body_decode(NNRP_MSG_PING, &m, &b, NULL, 0, NULL, &f),
               NNRP_ERR_INVALID_ARGUMENT);
}

int main(void) {
  RUN(prelude_golden);
  RUN(object_reference_golden);
  RUN(typed_descriptor_golden);
  RUN(typed_region_golden);
  RUN(preview4_prelude_rejected);
  RUN(prelude_rules);
  RUN(prelude_reserved_strict_lenient);
  RUN(inline_blocks_ok_and_iterator);
  RUN(inline_block_rules);
  RUN(inline_block_reserved_strict_lenient);
  RUN(reference_block_rules);
  RUN(typed_descriptor_rules);
  RUN(typed_rule_t4_ranges);
  RUN(extension_frame_rules);
  RUN(extension_frame_ranges_and_order);
  RUN(composed_decode_census);
  RUN(accessors_on_legacy_body);
  wc_vectors_free();
  TEST_MAIN_END();
}
