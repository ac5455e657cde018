/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_build_data.c - the data-plane builders (src/wire/build_data.c,
 * build_tensor.c, typed.c, body_export.c): byte-exact seed-line vectors,
 * zero copy in iovec mode, contiguous == flattened output, BUFFER_TOO_SMALL
 * on every short scratch / iovec capacity, every NNRP_ERR_INCONSISTENT rule,
 * and decode(build(x)) == x plus build(from_view(decode(build(x)))) ==
 * build(x) for a set of shapes.
 */
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "wire/wire_int.h"
#include "wire_check.h"

#define CANARY 0xA5u
#define SCRATCH_CAP 65536u
#define IOV_CAP 1024u
#define FLAT_CAP (1u << 20)

#define BYTES(s) ((nnrp_bytes){(const uint8_t *)(s), sizeof(s) - 1u})

/* ---- Helpers ------------------------------------------------------------- */

/* Metadata equality through the encoder (struct padding never compared). */
static int meta_eq(uint8_t msg, const nnrp_meta *a, const nnrp_meta *b) {
  uint8_t ea[80], eb[80];
  int na = nnrp_meta_encode(msg, a, ea, sizeof(ea));
  int nb = nnrp_meta_encode(msg, b, eb, sizeof(eb));
  return CHECK(na > 0) && CHECK_EQ_INT(na, nb) &&
         CHECK_EQ_MEM(ea, eb, (size_t)na);
}

/* Calls the builder of msg. */
static int build_msg(uint8_t msg, nnrp_out *o, const nnrp_header *h,
                     nnrp_meta *m, const nnrp_body_data *b, nnrp_fault *f) {
  if (msg == NNRP_MSG_FRAME_SUBMIT)
    return nnrp_build_frame_submit(o, h, &m->frame_submit, b, f);
  return nnrp_build_result_push(o, h, &m->result_push, b, f);
}

static uint8_t g_scratch[SCRATCH_CAP];
static uint8_t g_scratch2[SCRATCH_CAP];
static nnrp_iov g_iov[IOV_CAP];

/* Builds in iovec mode and in contiguous mode, checks that both give the
 * same bytes and that the iovec-mode scratch stays within
 * nnrp_build_scratch_bound(); returns the packet length (flat in dst) or
 * the builder's error. *m receives the metadata as sent. */
static long build_flat(uint8_t msg, const nnrp_header *h, nnrp_meta *m,
                       const nnrp_body_data *b, uint8_t *dst, size_t cap) {
  nnrp_out o;
  nnrp_fault f;
  nnrp_meta m2 = *m;
  nnrp_out_init(&o, g_scratch, sizeof(g_scratch), g_iov, IOV_CAP);
  int rc = build_msg(msg, &o, h, m, b, &f);
  if (rc != 0)
    return rc;
  int64_t n = nnrp_out_flatten(&o, dst, cap);
  if (!CHECK(n > 0))
    return -1;
  CHECK(o.scratch_len <= nnrp_build_scratch_bound(b));
  nnrp_out c;
  nnrp_out_init(&c, g_scratch2, sizeof(g_scratch2), NULL, 0);
  if (!CHECK_EQ_INT(build_msg(msg, &c, h, &m2, b, &f), 0))
    return -1;
  CHECK_EQ_U64(c.total, (uint64_t)n);
  CHECK(nnrp_out_contiguous(&c) == g_scratch2);
  CHECK_EQ_MEM(nnrp_out_contiguous(&c), dst, (size_t)n);
  meta_eq(msg, &m2, m);
  return (long)n;
}

/* Compares the body part of a built packet with a vector. */
static void check_body_vector(const uint8_t *pkt, long n, uint32_t meta_len,
                              const char *name) {
  uint8_t *want;
  size_t wn = wc_vec_hex(name, &want);
  if (CHECK(n >= 0) && CHECK_EQ_U64((uint64_t)n - 40u - meta_len, wn)) {
    CHECK_EQ_MEM(pkt + 40 + meta_len, want, wn);
    CHECK_EQ_U64(nnrp_rd32(pkt + 16), wn); /* body_len */
    CHECK_EQ_U64(nnrp_rd32(pkt + 12), meta_len);
  }
  free(want);
}

/* ---- Fixtures ------------------------------------------------------------ */

/* The tensor of the seed-line legacy submit vector: camera "camera!!",
 * RAW_U16 ids 0,1, one section (role 1, UINT8) with tiles "aa", "bb". */
typedef struct seed_tensor {
  nnrp_bytes tiles[2];
  uint16_t ids[2];
  nnrp_section_data sec;
  nnrp_tensor_data t;
} seed_tensor;

static void seed_tensor_init(seed_tensor *s) {
  memset(s, 0, sizeof(*s));
  s->tiles[0] = BYTES("aa");
  s->tiles[1] = BYTES("bb");
  s->ids[0] = 0;
  s->ids[1] = 1;
  s->sec.role_id = 1;
  s->sec.dtype_id = NNRP_DTYPE_UINT8;
  s->sec.tiles = s->tiles;
  s->t.camera = BYTES("camera!!");
  s->t.tile_index_mode = NNRP_TILE_INDEX_RAW_U16;
  s->t.tile_ids = s->ids;
  s->t.tile_count = 2;
  s->t.sections = &s->sec;
  s->t.section_count = 1;
}

static void seed_submit_meta(nnrp_header *h, nnrp_meta *m) {
  nnrp_header_init(h, NNRP_MSG_FRAME_SUBMIT);
  h->session_id = 7;
  h->frame_id = 101;
  h->view_id = 1;
  memset(m, 0, sizeof(*m));
  m->frame_submit.src_width = 640;
  m->frame_submit.src_height = 360;
  m->frame_submit.tile_width = 32;
  m->frame_submit.tile_height = 32;
  m->frame_submit.input_profile = NNRP_INPUT_PROFILE_DENSE_LUMA_FRAME;
  m->frame_submit.latency_budget_ms = 50;
  m->frame_submit.target_fps_x100 = 6000;
  m->frame_submit.loss_tolerance_policy = NNRP_LOSS_TOLERANCE_INHERIT;
}

/* A general fixture every negative test mutates: tensor with camera, three
 * RAW_U16 tiles and two sections, one typed frame. Must not be copied. */
typedef struct fx {
  nnrp_header h;
  nnrp_meta m;
  uint8_t msg;
  nnrp_bytes tiles[2][3];
  uint16_t ids[3];
  uint8_t codecs[3];
  nnrp_section_data sec[2];
  nnrp_tensor_data t;
  nnrp_typed_frame typed[2];
  nnrp_object_ref refs[4];
  nnrp_inline_object extra[2];
  nnrp_ext_frame ext[2];
  nnrp_body_data b;
} fx;

static void fx_init(fx *x, uint8_t msg) {
  memset(x, 0, sizeof(*x));
  x->msg = msg;
  nnrp_header_init(&x->h, msg);
  x->h.session_id = 9;
  x->h.frame_id = 3;
  if (msg == NNRP_MSG_FRAME_SUBMIT) {
    x->m.frame_submit.src_width = 64;
    x->m.frame_submit.src_height = 64;
    x->m.frame_submit.tile_width = 16;
    x->m.frame_submit.tile_height = 16;
  }
  static const char *const data[2][3] = {{"t0", "t11", "t222"},
                                         {"u0", "u11", "u222"}};
  for (int s = 0; s < 2; s++) {
    for (int i = 0; i < 3; i++) {
      x->tiles[s][i].ptr = (const uint8_t *)data[s][i];
      x->tiles[s][i].len = strlen(data[s][i]);
    }
    x->sec[s].role_id = (uint16_t)(s + 1);
    x->sec[s].dtype_id = NNRP_DTYPE_FP16;
    x->sec[s].tiles = x->tiles[s];
  }
  x->ids[0] = 3;
  x->ids[1] = 5;
  x->ids[2] = 9;
  x->t.camera = BYTES("cam");
  x->t.tile_index_mode = NNRP_TILE_INDEX_RAW_U16;
  x->t.tile_ids = x->ids;
  x->t.tile_count = 3;
  x->t.sections = x->sec;
  x->t.section_count = 2;
  nnrp_token_chunk_frame(&x->typed[0], BYTES("tok"), 2);
  x->b.tensor = &x->t;
  x->b.typed = x->typed;
  x->b.typed_count = 1;
  x->b.refs = x->refs;
  x->b.extra_inline = x->extra;
  x->b.ext = x->ext;
}

static void set_ref(nnrp_object_ref *r, uint16_t kind, uint32_t ns, uint32_t hi,
                    uint32_t lo) {
  memset(r, 0, sizeof(*r));
  r->object_kind = kind;
  r->cache_namespace = ns;
  r->cache_key_hi = hi;
  r->cache_key_lo = lo;
}

static int fx_build(fx *x, nnrp_out *o, nnrp_fault *f) {
  return build_msg(x->msg, o, &x->h, &x->m, &x->b, f);
}

/* ---- Seed-line vectors ----------------------------------------------------
 */

TEST(vector_legacy_submit_packet) {
  seed_tensor s;
  nnrp_header h;
  nnrp_meta m;
  seed_tensor_init(&s);
  seed_submit_meta(&h, &m);
  nnrp_body_data b = {0};
  b.tensor = &s.t;
  static uint8_t pkt[4096];
  long n = build_flat(NNRP_MSG_FRAME_SUBMIT, &h, &m, &b, pkt, sizeof(pkt));
  uint8_t *want;
  size_t wn = wc_vec_hex("packet.frame_submit.legacy_inline_tensor", &want);
  if (CHECK_EQ_U64((uint64_t)n, wn))
    CHECK_EQ_MEM(pkt, want, wn);
  free(want);
  /* Derived metadata is returned. */
  CHECK_EQ_INT(m.frame_submit.tile_count, 2);
  CHECK_EQ_INT(m.frame_submit.section_count, 1);
  CHECK_EQ_INT(m.frame_submit.tile_index_mode, NNRP_TILE_INDEX_RAW_U16);
  CHECK_EQ_U64(m.frame_submit.camera_bytes, 8);
  CHECK_EQ_U64(m.frame_submit.tile_index_bytes, 4);
  CHECK_EQ_U64(m.frame_submit.payload_kind_bitmap, NNRP_PAYLOAD_KIND_TENSOR);
  CHECK_EQ_U64(m.frame_submit.object_ref_mask, 0);
  CHECK_EQ_INT(m.frame_submit.payload_frame_count, 0);
}

TEST(vector_legacy_result_body) {
  nnrp_bytes tiles[3] = {BYTES("ra"), BYTES("rb"), BYTES("rc")};
  uint16_t ids[3] = {0, 1, 2};
  nnrp_section_data sec = {0};
  sec.role_id = 100;
  sec.dtype_id = NNRP_DTYPE_UINT8;
  sec.tiles = tiles;
  nnrp_tensor_data t = {0};
  t.tile_index_mode = NNRP_TILE_INDEX_RAW_U16;
  t.tile_ids = ids;
  t.tile_count = 3;
  t.sections = &sec;
  t.section_count = 1;
  nnrp_body_data b = {0};
  b.tensor = &t;
  nnrp_header h;
  nnrp_header_init(&h, NNRP_MSG_RESULT_PUSH);
  h.flags = NNRP_FLAG_EOS;
  nnrp_meta m;
  memset(&m, 0, sizeof(m));
  static uint8_t pkt[4096];
  long n = build_flat(NNRP_MSG_RESULT_PUSH, &h, &m, &b, pkt, sizeof(pkt));
  check_body_vector(pkt, n, 64, "body.result_push.legacy_tensor");
  CHECK_EQ_U64(m.result_push.tile_index_bytes, 6);
  CHECK_EQ_INT(m.result_push.covered_tile_count, 3); /* 0/0 -> all */
  CHECK_EQ_INT(m.result_push.dropped_tile_count, 0);
  CHECK_EQ_INT(m.result_push.tile_count, 3);
  CHECK_EQ_INT(m.result_push.section_count, 1);
  CHECK_EQ_U64(nnrp_rd32(pkt + 8), NNRP_FLAG_EOS); /* flags copied */
  CHECK_EQ_INT(pkt[6], NNRP_MSG_RESULT_PUSH);
}

TEST(vector_typed_only_submit) {
  nnrp_typed_frame typed[2];
  nnrp_token_chunk_frame(&typed[0], BYTES("tok"), 0);
  nnrp_audio_chunk_frame(&typed[1], BYTES("aud"), 0);
  nnrp_body_data b = {0};
  b.typed = typed;
  b.typed_count = 2;
  nnrp_header h;
  nnrp_header_init(&h, NNRP_MSG_FRAME_SUBMIT);
  h.session_id = 1;
  h.frame_id = 1;
  nnrp_meta m;
  memset(&m, 0, sizeof(m));
  static uint8_t pkt[4096];
  long n = build_flat(NNRP_MSG_FRAME_SUBMIT, &h, &m, &b, pkt, sizeof(pkt));
  check_body_vector(pkt, n, 72, "body.frame_submit.typed_only");
  CHECK_EQ_U64(m.frame_submit.payload_kind_bitmap, 0x06);
  CHECK_EQ_INT(m.frame_submit.payload_frame_count, 2);
  CHECK_EQ_INT(m.frame_submit.tile_index_mode, NNRP_TILE_INDEX_RAW_U16);
  CHECK_EQ_INT(m.frame_submit.tile_count, 0);
  CHECK_EQ_INT(m.frame_submit.section_count, 0);
  CHECK_EQ_INT(m.frame_submit.submit_mode, NNRP_SUBMIT_MODE_INLINE);
}

TEST(vector_mixed_tensor_typed_inline) {
  seed_tensor s;
  nnrp_header h;
  nnrp_meta m;
  seed_tensor_init(&s);
  seed_submit_meta(&h, &m);
  nnrp_typed_frame typed;
  nnrp_token_chunk_frame(&typed, BYTES("tok"), 0);
  nnrp_body_data b = {0};
  b.tensor = &s.t;
  b.typed = &typed;
  b.typed_count = 1;
  static uint8_t pkt[4096];
  long n = build_flat(NNRP_MSG_FRAME_SUBMIT, &h, &m, &b, pkt, sizeof(pkt));
  check_body_vector(pkt, n, 72, "body.frame_submit.mixed_tensor_typed_inline");
  CHECK_EQ_U64(m.frame_submit.payload_kind_bitmap, 0x03);
  CHECK_EQ_INT(m.frame_submit.payload_frame_count, 1);
  CHECK_EQ_U64(m.frame_submit.camera_bytes, 8);
  CHECK_EQ_U64(m.frame_submit.tile_index_bytes, 4);
  CHECK_EQ_INT(m.frame_submit.tile_index_mode, NNRP_TILE_INDEX_RAW_U16);
}

TEST(vector_mixed_mode_references) {
  seed_tensor s;
  nnrp_header h;
  nnrp_meta m;
  seed_tensor_init(&s);
  seed_submit_meta(&h, &m);
  s.t.camera.ptr = NULL; /* referenced slots are never inlined */
  s.t.camera.len = 0;
  s.t.tile_ids = NULL;
  m.frame_submit.submit_mode = NNRP_SUBMIT_MODE_MIXED;
  nnrp_object_ref refs[2];
  set_ref(&refs[0], NNRP_OBJECT_CAMERA_BLOCK, 3, 11, 12);
  set_ref(&refs[1], NNRP_OBJECT_TILE_INDEX_BLOCK, 4, 21, 22);
  nnrp_body_data b = {0};
  b.tensor = &s.t;
  b.refs = refs;
  b.ref_count = 2;
  static uint8_t pkt[4096];
  long n = build_flat(NNRP_MSG_FRAME_SUBMIT, &h, &m, &b, pkt, sizeof(pkt));
  check_body_vector(pkt, n, 72, "body.frame_submit.mixed_mode_references");
  CHECK_EQ_U64(m.frame_submit.object_ref_mask, 0x3);
  CHECK_EQ_U64(m.frame_submit.camera_bytes, 0);
  CHECK_EQ_U64(m.frame_submit.tile_index_bytes, 0);
  CHECK_EQ_INT(m.frame_submit.tile_count, 2);
  CHECK_EQ_INT(m.frame_submit.section_count, 1);
  CHECK_EQ_U64(m.frame_submit.payload_kind_bitmap, 0x01);
}

TEST(vector_section_mixed_codec_fixed_stride) {
  nnrp_bytes tiles[2] = {BYTES("ab"), BYTES("cde")};
  uint8_t codecs[2] = {1, 2};
  nnrp_section_data sec = {0};
  sec.role_id = 9;
  sec.codec_id = 0;
  sec.dtype_id = NNRP_DTYPE_UINT8;
  sec.payload_stride_bytes = 4;
  sec.tiles = tiles;
  sec.tile_codec_ids = codecs;
  nnrp_tensor_data t = {0};
  t.tile_index_mode = NNRP_TILE_INDEX_DENSE_RANGE;
  t.tile_count = 2;
  t.sections = &sec;
  t.section_count = 1;
  nnrp_body_data b = {0};
  b.tensor = &t;
  nnrp_header h;
  nnrp_meta m;
  seed_submit_meta(&h, &m);
  static uint8_t pkt[4096];
  /* Legacy body with an empty DENSE_RANGE index: the body is the section. */
  long n = build_flat(NNRP_MSG_FRAME_SUBMIT, &h, &m, &b, pkt, sizeof(pkt));
  check_body_vector(pkt, n, 72, "body.tensor_section.mixed_codec_fixed_stride");
  CHECK_EQ_U64(m.frame_submit.tile_index_bytes, 0);
  CHECK_EQ_INT(m.frame_submit.section_count, 1);
  CHECK_EQ_INT(m.frame_submit.tile_index_mode, NNRP_TILE_INDEX_DENSE_RANGE);
  /* Same codecs as the default: no codec table, no MIXED_CODEC. */
  codecs[0] = 0;
  codecs[1] = 0;
  n = build_flat(NNRP_MSG_FRAME_SUBMIT, &h, &m, &b, pkt, sizeof(pkt));
  if (CHECK(n > 0)) {
    const uint8_t *d = pkt + 40 + 72;
    CHECK_EQ_INT(nnrp_rd16(d + 6), NNRP_SECTION_FIXED_STRIDE);
    CHECK_EQ_U64(nnrp_rd32(d + 12), 0); /* codec_table_bytes */
    CHECK_EQ_U64((uint64_t)n, 40u + 72u + 32u + 8u + 8u);
  }
}

static void tile_index_vector(uint8_t mode, const uint16_t *ids,
                              const char *name) {
  nnrp_tensor_data t = {0};
  t.tile_index_mode = mode;
  t.tile_ids = ids;
  t.tile_count = 3;
  nnrp_body_data b = {0};
  b.tensor = &t;
  nnrp_header h;
  nnrp_meta m;
  seed_submit_meta(&h, &m);
  static uint8_t pkt[4096];
  long n = build_flat(NNRP_MSG_FRAME_SUBMIT, &h, &m, &b, pkt, sizeof(pkt));
  check_body_vector(pkt, n, 72, name);
  CHECK_EQ_INT(m.frame_submit.tile_index_mode, mode);
  CHECK_EQ_U64(m.frame_submit.tile_index_bytes, nnrp_rd32(pkt + 16));
}

TEST(vector_tile_index_modes) {
  static const uint16_t a[3] = {9, 17, 33}, c[3] = {1, 4, 9};
  tile_index_vector(NNRP_TILE_INDEX_RAW_U16, a, "body.tile_index.raw_u16");
  tile_index_vector(NNRP_TILE_INDEX_DELTA_U16, a, "body.tile_index.delta_u16");
  tile_index_vector(NNRP_TILE_INDEX_BITSET, c, "body.tile_index.bitset");
  /* DENSE_RANGE: empty block, ids from tile_base_id (ids given or NULL). */
  static const uint16_t d[3] = {5, 6, 7};
  const uint16_t *dense_ids[2] = {d, NULL};
  for (int i = 0; i < 2; i++) {
    nnrp_tensor_data t = {0};
    t.tile_index_mode = NNRP_TILE_INDEX_DENSE_RANGE;
    t.tile_base_id = 5;
    t.tile_ids = dense_ids[i];
    t.tile_count = 3;
    nnrp_body_data b = {0};
    b.tensor = &t;
    nnrp_header h;
    nnrp_meta m;
    seed_submit_meta(&h, &m);
    static uint8_t pkt[256];
    long n = build_flat(NNRP_MSG_FRAME_SUBMIT, &h, &m, &b, pkt, sizeof(pkt));
    CHECK_EQ_INT(n, 40 + 72);
    CHECK_EQ_U64(m.frame_submit.tile_base_id, 5);
    CHECK_EQ_U64(m.frame_submit.tile_index_bytes, 0);
  }
}

TEST(typed_frame_helpers) {
  typedef void (*helper)(nnrp_typed_frame *, nnrp_bytes, uint16_t);
  static const helper fns[6] = {
      nnrp_token_chunk_frame, nnrp_audio_chunk_frame,
      nnrp_video_chunk_frame, nnrp_structured_event_frame,
      nnrp_tool_delta_frame,  nnrp_opaque_bytes_frame};
  static const uint8_t kinds[6] = {
      NNRP_PAYLOAD_KIND_TOKEN_CHUNK, NNRP_PAYLOAD_KIND_AUDIO_CHUNK,
      NNRP_PAYLOAD_KIND_VIDEO_CHUNK, NNRP_PAYLOAD_KIND_STRUCTURED_EVENT,
      NNRP_PAYLOAD_KIND_TOOL_DELTA,  NNRP_PAYLOAD_KIND_OPAQUE_BYTES};
  nnrp_bytes data = BYTES("{\"a\":1}");
  for (int i = 0; i < 6; i++) {
    nnrp_typed_frame f;
    memset(&f, 0xFF, sizeof(f));
    fns[i](&f, data, (uint16_t)(i + 40));
    CHECK_EQ_INT(f.payload_kind, kinds[i]);
    CHECK_EQ_INT(f.profile_id, i + 40);
    CHECK(f.data.ptr == data.ptr); /* a view, not a copy */
    CHECK_EQ_U64(f.data.len, data.len);
    CHECK_EQ_INT(f.descriptor_flags, 0);
    CHECK_EQ_U64(f.reserved, 0);
    CHECK_EQ_U64(f.payload_offset, 0);
  }
  /* The golden descriptor region: token/audio/video/event with profiles. */
  nnrp_typed_frame t[4];
  nnrp_token_chunk_frame(&t[0], BYTES("tok"), 1);
  nnrp_audio_chunk_frame(&t[1], BYTES("au"), 2);
  nnrp_video_chunk_frame(&t[2], BYTES("video"), 3);
  nnrp_structured_event_frame(&t[3], BYTES("evt"), 4);
  nnrp_body_data b = {0};
  b.typed = t;
  b.typed_count = 4;
  nnrp_header h;
  nnrp_header_init(&h, NNRP_MSG_RESULT_PUSH);
  nnrp_meta m;
  memset(&m, 0, sizeof(m));
  static uint8_t pkt[1024];
  long n = build_flat(NNRP_MSG_RESULT_PUSH, &h, &m, &b, pkt, sizeof(pkt));
  uint8_t *desc, *frames;
  size_t dn = wc_vec_hex(
      "descriptor.typed_payload.region_token_audio_video_event", &desc);
  size_t fn = wc_vec_hex("body.typed_payload.frame_region", &frames);
  if (CHECK_EQ_INT(n, 40 + 64 + 32 + (long)dn + (long)fn)) {
    CHECK_EQ_MEM(pkt + 40 + 64 + 32, desc, dn);
    CHECK_EQ_MEM(pkt + 40 + 64 + 32 + dn, frames, fn);
  }
  CHECK_EQ_U64(m.result_push.payload_kind_bitmap, 0x1E);
  free(desc);
  free(frames);
}

/* ---- Zero copy and output modes ------------------------------------------ */

TEST(large_payloads_are_referenced) {
  static uint8_t mem[8192];
  for (size_t i = 0; i < sizeof(mem); i++)
    mem[i] = (uint8_t)(i * 7u);
  /* Payloads separated by gaps so that none is adjacent to another. */
  fx x;
  fx_init(&x, NNRP_MSG_FRAME_SUBMIT);
  x.t.camera = (nnrp_bytes){mem, 300};
  x.tiles[0][0] = (nnrp_bytes){mem + 400, 1000};
  x.tiles[1][2] = (nnrp_bytes){mem + 1500, 65};
  x.typed[0].data = (nnrp_bytes){mem + 1700, 500};
  x.extra[0].object_kind = NNRP_OBJECT_PROMPT_SEGMENT;
  x.extra[0].data = (nnrp_bytes){mem + 2300, 700};
  x.b.extra_inline_count = 1;
  x.ext[0].extension_kind = 0x7001;
  x.ext[0].data = (nnrp_bytes){mem + 3100, 900};
  x.b.ext_count = 1;
  nnrp_out o;
  nnrp_fault f;
  nnrp_out_init(&o, g_scratch, sizeof(g_scratch), g_iov, IOV_CAP);
  if (!CHECK_EQ_INT(fx_build(&x, &o, &f), 0))
    return;
  CHECK(wc_iov_has(&o, mem, 300));
  CHECK(wc_iov_has(&o, mem + 400, 1000));
  CHECK(wc_iov_has(&o, mem + 1500, 65)); /* copy_max + 1 */
  CHECK(wc_iov_has(&o, mem + 1700, 500));
  CHECK(wc_iov_has(&o, mem + 2300, 700));
  CHECK(wc_iov_has(&o, mem + 3100, 900));
  /* Small payloads were copied: only the six references leave scratch. */
  uint64_t referenced = 0;
  for (size_t i = 0; i < o.iov_len; i++) {
    uintptr_t p = (uintptr_t)o.iov[i].base, s0 = (uintptr_t)g_scratch;
    if (p < s0 || p >= s0 + sizeof(g_scratch))
      referenced += o.iov[i].len;
  }
  CHECK_EQ_U64(referenced, 300u + 1000u + 65u + 500u + 700u + 900u);
  CHECK_EQ_U64(o.scratch_len + referenced, o.total);
  CHECK(o.scratch_len <= nnrp_build_scratch_bound(&x.b));
  /* The bound plus the payload sizes covers contiguous mode. */
  nnrp_out c;
  nnrp_out_init(&c, g_scratch2, sizeof(g_scratch2), NULL, 0);
  fx_init(&x, NNRP_MSG_FRAME_SUBMIT);
  CHECK_EQ_INT(fx_build(&x, &c, &f), 0);
  CHECK(c.scratch_len <= nnrp_build_scratch_bound(&x.b) + 3u + 18u + 3u);
}

TEST(copy_max_controls_referencing) {
  fx x;
  fx_init(&x, NNRP_MSG_FRAME_SUBMIT);
  nnrp_out o;
  nnrp_fault f;
  nnrp_out_init(&o, g_scratch, sizeof(g_scratch), g_iov, IOV_CAP);
  o.copy_max = 0; /* reference every non-empty payload */
  if (!CHECK_EQ_INT(fx_build(&x, &o, &f), 0))
    return;
  CHECK(wc_iov_has(&o, x.t.camera.ptr, 3) || wc_iov_has(&o, x.t.camera.ptr, 0));
  for (int s = 0; s < 2; s++)
    for (int i = 0; i < 3; i++)
      CHECK(wc_iov_has(&o, x.tiles[s][i].ptr, x.tiles[s][i].len));
  CHECK(wc_iov_has(&o, x.typed[0].data.ptr, 3));
  static uint8_t a[4096], bflat[4096];
  int64_t n = nnrp_out_flatten(&o, a, sizeof(a));
  nnrp_out_init(&o, g_scratch2, sizeof(g_scratch2), NULL, 0);
  fx_init(&x, NNRP_MSG_FRAME_SUBMIT);
  CHECK_EQ_INT(fx_build(&x, &o, &f), 0);
  CHECK_EQ_INT(nnrp_out_flatten(&o, bflat, sizeof(bflat)), n);
  CHECK_EQ_MEM(a, bflat, (size_t)n);
}

/* Every scratch capacity below the need fails without writing past it;
 * likewise every iovec capacity below the need. */
static void too_small_sweep(fx *x) {
  nnrp_out o;
  nnrp_fault f;
  nnrp_meta keep = x->m;
  nnrp_out_init(&o, g_scratch, sizeof(g_scratch), g_iov, IOV_CAP);
  o.copy_max = 0;
  if (!CHECK_EQ_INT(fx_build(x, &o, &f), 0))
    return;
  size_t need_s = o.scratch_len, need_i = o.iov_len;
  x->m = keep;
  static uint8_t mem[SCRATCH_CAP + 64];
  for (size_t cap = 0; cap < need_s; cap++) {
    memset(mem, CANARY, need_s + 64);
    nnrp_out_init(&o, mem, cap, g_iov, IOV_CAP);
    o.copy_max = 0;
    int rc = fx_build(x, &o, &f);
    if (!CHECK_EQ_INT(rc, NNRP_ERR_BUFFER_TOO_SMALL))
      return;
    if (!CHECK_EQ_U64(cap + wc_span(mem + cap, need_s + 64 - cap, CANARY),
                      need_s + 64))
      return;
    meta_eq(x->msg, &x->m, &keep); /* meta untouched */
  }
  static nnrp_iov iov[IOV_CAP + 1];
  for (size_t cap = 1; cap < need_i; cap++) {
    memset(iov, CANARY, sizeof(iov));
    nnrp_out_init(&o, g_scratch, sizeof(g_scratch), iov, cap);
    o.copy_max = 0;
    if (!CHECK_EQ_INT(fx_build(x, &o, &f), NNRP_ERR_BUFFER_TOO_SMALL))
      return;
    const uint8_t *rest = (const uint8_t *)&iov[cap];
    size_t rn = sizeof(iov) - cap * sizeof(iov[0]);
    if (!CHECK_EQ_U64(wc_span(rest, rn, CANARY), rn))
      return;
  }
  /* Contiguous mode: every capacity below the packet size. */
  nnrp_out_init(&o, g_scratch, sizeof(g_scratch), NULL, 0);
  CHECK_EQ_INT(fx_build(x, &o, &f), 0);
  size_t total = o.scratch_len;
  for (size_t cap = 0; cap < total; cap++) {
    memset(mem, CANARY, total + 64);
    nnrp_out_init(&o, mem, cap, NULL, 0);
    if (!CHECK_EQ_INT(fx_build(x, &o, &f), NNRP_ERR_BUFFER_TOO_SMALL))
      return;
    if (!CHECK_EQ_INT(mem[cap], CANARY))
      return;
  }
}

TEST(buffer_too_small_submit_and_result) {
  fx x;
  fx_init(&x, NNRP_MSG_FRAME_SUBMIT); /* composed: camera, index, sections */
  x.extra[0].object_kind = NNRP_OBJECT_TOOL_SCHEMA;
  x.extra[0].data = BYTES("schema");
  x.b.extra_inline_count = 1;
  x.ext[0].data = BYTES("ext");
  x.b.ext_count = 1;
  too_small_sweep(&x);
  fx_init(&x, NNRP_MSG_FRAME_SUBMIT); /* legacy */
  x.b.typed_count = 0;
  too_small_sweep(&x);
  fx_init(&x, NNRP_MSG_RESULT_PUSH);
  too_small_sweep(&x);
}

/* ---- NNRP_ERR_INCONSISTENT ----------------------------------------------- */

static void expect_bad(fx *x, const char *rule, const char *field, int line) {
  nnrp_out o;
  nnrp_fault f;
  memset(&f, 0, sizeof(f));
  nnrp_meta keep = x->m;
  nnrp_out_init(&o, g_scratch, sizeof(g_scratch), g_iov, IOV_CAP);
  int rc = fx_build(x, &o, &f);
  int ok = CHECK_EQ_INT(rc, NNRP_ERR_INCONSISTENT);
  ok &= CHECK_EQ_INT(f.err, NNRP_ERR_INCONSISTENT);
  ok &= CHECK_EQ_STR(f.rule, rule);
  ok &= CHECK_EQ_STR(f.field, field);
  ok &= CHECK_EQ_U64(o.total, 0); /* refused before writing anything */
  ok &= meta_eq(x->msg, &x->m, &keep);
  if (!ok)
    harness_fail(__FILE__, line, "the case above failed");
}
#define EXPECT_BAD(x, rule, field) expect_bad((x), (rule), (field), __LINE__)

TEST(fixtures_are_valid) {
  fx x;
  nnrp_out o;
  nnrp_fault f;
  fx_init(&x, NNRP_MSG_FRAME_SUBMIT);
  nnrp_out_init(&o, g_scratch, sizeof(g_scratch), g_iov, IOV_CAP);
  CHECK_EQ_INT(fx_build(&x, &o, &f), 0);
  fx_init(&x, NNRP_MSG_RESULT_PUSH);
  nnrp_out_init(&o, g_scratch, sizeof(g_scratch), g_iov, IOV_CAP);
  CHECK_EQ_INT(fx_build(&x, &o, &f), 0);
}

TEST(inconsistent_header_and_typed) {
  fx x;
  fx_init(&x, NNRP_MSG_FRAME_SUBMIT);
  x.h.flags = 0x40;
  EXPECT_BAD(&x, "wire.md §2.3", "flags");
  x.h.flags = NNRP_FLAG_CAN_DROP | NNRP_FLAG_KEYFRAME;
  EXPECT_BAD(&x, "wire.md §2.3", "flags");
  static const uint8_t bad_kinds[5] = {0, NNRP_PAYLOAD_KIND_TENSOR, 0x06, 0x80,
                                       0x03};
  for (int i = 0; i < 5; i++) {
    fx_init(&x, NNRP_MSG_FRAME_SUBMIT);
    x.typed[0].payload_kind = bad_kinds[i];
    EXPECT_BAD(&x, "wire.md §9.4", "payload_kind");
  }
  fx_init(&x, NNRP_MSG_FRAME_SUBMIT);
  x.typed[0].data.ptr = NULL;
  EXPECT_BAD(&x, "wire.md §9.4 T5", "typed");
  fx_init(&x, NNRP_MSG_FRAME_SUBMIT);
  x.b.typed = NULL;
  EXPECT_BAD(&x, "wire.md §9.4 T1", "typed");
  fx_init(&x, NNRP_MSG_FRAME_SUBMIT);
  x.ext[0].extension_flags = 0x0002;
  x.b.ext_count = 1;
  EXPECT_BAD(&x, "wire.md §9.5", "extension_flags");
  fx_init(&x, NNRP_MSG_FRAME_SUBMIT);
  x.b.ext_count = 1;
  x.ext[0].data.len = 4; /* ptr NULL */
  EXPECT_BAD(&x, "wire.md §9.5", "ext");
}

TEST(inconsistent_submit_meta) {
  fx x;
  fx_init(&x, NNRP_MSG_FRAME_SUBMIT);
  x.m.frame_submit.frame_class = 4;
  EXPECT_BAD(&x, "wire.md §6.1 M1", "frame_class");
  fx_init(&x, NNRP_MSG_FRAME_SUBMIT);
  x.m.frame_submit.input_profile = 3;
  EXPECT_BAD(&x, "wire.md §6.1 M1", "input_profile");
  fx_init(&x, NNRP_MSG_FRAME_SUBMIT);
  x.m.frame_submit.submit_mode = 3;
  EXPECT_BAD(&x, "wire.md §6.1 M1", "submit_mode");
  fx_init(&x, NNRP_MSG_FRAME_SUBMIT);
  x.m.frame_submit.budget_policy = 0x10;
  EXPECT_BAD(&x, "wire.md §6.1 M1", "budget_policy");
  fx_init(&x, NNRP_MSG_FRAME_SUBMIT);
  x.m.frame_submit.loss_tolerance_policy = 4;
  EXPECT_BAD(&x, "wire.md §6.1 M1", "loss_tolerance_policy");
  fx_init(&x, NNRP_MSG_FRAME_SUBMIT);
  x.b.tensor = NULL; /* typed only, but tensor dimensions given */
  EXPECT_BAD(&x, "wire.md §6.1 M3", "src_width");
  fx_init(&x, NNRP_MSG_FRAME_SUBMIT);
  x.t.tile_index_mode = 4;
  EXPECT_BAD(&x, "wire.md §6.1 M1", "tile_index_mode");
}

TEST(inconsistent_submit_modes_and_refs) {
  fx x;
  /* F2: references in INLINE mode. */
  fx_init(&x, NNRP_MSG_FRAME_SUBMIT);
  x.t.camera.len = 0;
  set_ref(&x.refs[0], NNRP_OBJECT_CAMERA_BLOCK, 1, 2, 3);
  x.b.ref_count = 1;
  EXPECT_BAD(&x, "wire.md §9.6 F2", "submit_mode");
  /* F14: REFERENCE / MIXED without references. */
  for (uint8_t mode = 1; mode <= 2; mode++) {
    fx_init(&x, NNRP_MSG_FRAME_SUBMIT);
    x.m.frame_submit.submit_mode = mode;
    EXPECT_BAD(&x, "wire.md §9.6 F14", "submit_mode");
  }
  /* F7: non-slot kind, wrong order, duplicate slot; invalid kinds. */
  static const uint16_t k1[3][2] = {
      {NNRP_OBJECT_PROMPT_SEGMENT, 0},
      {NNRP_OBJECT_TILE_INDEX_BLOCK, NNRP_OBJECT_CAMERA_BLOCK},
      {NNRP_OBJECT_TILE_INDEX_BLOCK, NNRP_OBJECT_TILE_INDEX_BLOCK}};
  for (int i = 0; i < 3; i++) {
    fx_init(&x, NNRP_MSG_FRAME_SUBMIT);
    x.m.frame_submit.submit_mode = NNRP_SUBMIT_MODE_MIXED;
    x.t.camera.len = 0;
    set_ref(&x.refs[0], k1[i][0], 1, 1, 1);
    set_ref(&x.refs[1], k1[i][1], 1, 1, 2);
    x.b.ref_count = k1[i][1] ? 2 : 1;
    EXPECT_BAD(&x, "wire.md §9.6 F7", "object_kind");
  }
  static const uint16_t invalid[2] = {0, 10};
  for (int i = 0; i < 2; i++) {
    fx_init(&x, NNRP_MSG_FRAME_SUBMIT);
    x.m.frame_submit.submit_mode = NNRP_SUBMIT_MODE_MIXED;
    set_ref(&x.refs[0], invalid[i], 1, 1, 1);
    x.b.ref_count = 1;
    EXPECT_BAD(&x, "wire.md §9.3", "object_kind");
  }
  fx_init(&x, NNRP_MSG_FRAME_SUBMIT);
  x.m.frame_submit.submit_mode = NNRP_SUBMIT_MODE_MIXED;
  x.b.ref_count = 1;
  x.b.refs = NULL;
  EXPECT_BAD(&x, "wire.md §9.3", "refs");
  /* F6: REFERENCE mode with an inline slot (tile index here). */
  fx_init(&x, NNRP_MSG_FRAME_SUBMIT);
  x.m.frame_submit.submit_mode = NNRP_SUBMIT_MODE_REFERENCE;
  set_ref(&x.refs[0], NNRP_OBJECT_CAMERA_BLOCK, 1, 1, 1);
  set_ref(&x.refs[1], NNRP_OBJECT_TENSOR_SECTION_TABLE, 1, 1, 2);
  x.b.ref_count = 2;
  x.t.camera.len = 0;
  x.t.sections = NULL;
  EXPECT_BAD(&x, "wire.md §9.6 F6", "submit_mode");
  /* F4: a referenced slot given inline content too. */
  fx_init(&x, NNRP_MSG_FRAME_SUBMIT);
  x.m.frame_submit.submit_mode = NNRP_SUBMIT_MODE_MIXED;
  set_ref(&x.refs[0], NNRP_OBJECT_CAMERA_BLOCK, 1, 1, 1);
  x.b.ref_count = 1;
  EXPECT_BAD(&x, "wire.md §9.6 F4", "camera");
  fx_init(&x, NNRP_MSG_FRAME_SUBMIT);
  x.m.frame_submit.submit_mode = NNRP_SUBMIT_MODE_MIXED;
  set_ref(&x.refs[0], NNRP_OBJECT_TENSOR_SECTION_TABLE, 1, 1, 1);
  x.b.ref_count = 1;
  EXPECT_BAD(&x, "wire.md §9.6 F4", "sections");
}

TEST(inconsistent_extra_inline) {
  fx x;
  static const uint16_t slot_kinds[3] = {NNRP_OBJECT_CAMERA_BLOCK,
                                         NNRP_OBJECT_TILE_INDEX_BLOCK,
                                         NNRP_OBJECT_TENSOR_SECTION_TABLE};
  for (int i = 0; i < 3; i++) {
    fx_init(&x, NNRP_MSG_FRAME_SUBMIT);
    x.extra[0].object_kind = slot_kinds[i];
    x.b.extra_inline_count = 1;
    EXPECT_BAD(&x, "wire.md §9.6 F3", "extra_inline");
  }
  /* Layout template: once; never while referenced. */
  fx_init(&x, NNRP_MSG_FRAME_SUBMIT);
  x.extra[0].object_kind = NNRP_OBJECT_PAYLOAD_LAYOUT_TEMPLATE;
  x.extra[1].object_kind = NNRP_OBJECT_PAYLOAD_LAYOUT_TEMPLATE;
  x.b.extra_inline_count = 2;
  EXPECT_BAD(&x, "wire.md §9.6 F3", "extra_inline");
  fx_init(&x, NNRP_MSG_FRAME_SUBMIT);
  x.m.frame_submit.submit_mode = NNRP_SUBMIT_MODE_MIXED;
  set_ref(&x.refs[0], NNRP_OBJECT_PAYLOAD_LAYOUT_TEMPLATE, 1, 1, 1);
  x.b.ref_count = 1;
  x.extra[0].object_kind = NNRP_OBJECT_PAYLOAD_LAYOUT_TEMPLATE;
  x.b.extra_inline_count = 1;
  EXPECT_BAD(&x, "wire.md §9.6 F3", "extra_inline");
  /* F6: REFERENCE mode with an inline layout template. */
  fx_init(&x, NNRP_MSG_FRAME_SUBMIT);
  x.m.frame_submit.submit_mode = NNRP_SUBMIT_MODE_REFERENCE;
  set_ref(&x.refs[0], NNRP_OBJECT_CAMERA_BLOCK, 1, 1, 1);
  set_ref(&x.refs[1], NNRP_OBJECT_TILE_INDEX_BLOCK, 1, 1, 2);
  set_ref(&x.refs[2], NNRP_OBJECT_TENSOR_SECTION_TABLE, 1, 1, 3);
  x.b.ref_count = 3;
  x.t.camera.len = 0;
  x.t.sections = NULL;
  x.extra[0].object_kind = NNRP_OBJECT_PAYLOAD_LAYOUT_TEMPLATE;
  x.b.extra_inline_count = 1;
  EXPECT_BAD(&x, "wire.md §9.6 F6", "submit_mode");
  fx_init(&x, NNRP_MSG_FRAME_SUBMIT);
  x.b.extra_inline_count = 1; /* kind 0 */
  EXPECT_BAD(&x, "wire.md §9.2", "object_kind");
  fx_init(&x, NNRP_MSG_FRAME_SUBMIT);
  x.b.extra_inline_count = 1;
  x.b.extra_inline = NULL;
  EXPECT_BAD(&x, "wire.md §9.2", "extra_inline");
  fx_init(&x, NNRP_MSG_FRAME_SUBMIT);
  x.extra[0].object_kind = NNRP_OBJECT_PROMPT_SEGMENT;
  x.extra[0].data.len = 2; /* ptr NULL */
  x.b.extra_inline_count = 1;
  EXPECT_BAD(&x, "wire.md §9.2", "extra_inline");
  /* §7: a legacy submit cannot carry extra objects or extension frames. */
  fx_init(&x, NNRP_MSG_FRAME_SUBMIT);
  x.b.typed_count = 0;
  x.extra[0].object_kind = NNRP_OBJECT_PROMPT_SEGMENT;
  x.b.extra_inline_count = 1;
  EXPECT_BAD(&x, "wire.md §7", "extra_inline");
  fx_init(&x, NNRP_MSG_FRAME_SUBMIT);
  x.b.typed_count = 0;
  x.b.ext_count = 1;
  EXPECT_BAD(&x, "wire.md §7", "ext");
}

TEST(inconsistent_tile_index) {
  fx x;
  static const uint16_t not_consecutive[3] = {4, 5, 7};
  fx_init(&x, NNRP_MSG_FRAME_SUBMIT);
  x.t.tile_index_mode = NNRP_TILE_INDEX_DENSE_RANGE;
  x.t.tile_base_id = 4;
  x.t.tile_ids = not_consecutive;
  EXPECT_BAD(&x, "wire.md §8.4 DENSE_RANGE", "tile_ids");
  fx_init(&x, NNRP_MSG_FRAME_SUBMIT);
  x.t.tile_index_mode = NNRP_TILE_INDEX_DENSE_RANGE;
  x.t.tile_base_id = 0xFFFFFFFFu; /* base + 2 overflows u32 */
  x.t.tile_ids = NULL;
  EXPECT_BAD(&x, "wire.md §8.4 DENSE_RANGE", "tile_ids");
  static const uint16_t down[3] = {9, 5, 10}, dup[3] = {1, 4, 4};
  fx_init(&x, NNRP_MSG_FRAME_SUBMIT);
  x.t.tile_index_mode = NNRP_TILE_INDEX_DELTA_U16;
  x.t.tile_ids = down;
  EXPECT_BAD(&x, "wire.md §8.4 DELTA_U16", "tile_ids");
  fx_init(&x, NNRP_MSG_FRAME_SUBMIT);
  x.t.tile_index_mode = NNRP_TILE_INDEX_BITSET;
  x.t.tile_ids = dup;
  EXPECT_BAD(&x, "wire.md §8.4 BITSET", "tile_ids");
  fx_init(&x, NNRP_MSG_FRAME_SUBMIT);
  x.t.tile_ids = NULL; /* RAW_U16 of base+i: the last id exceeds u16 */
  x.t.tile_base_id = 0xFFFEu;
  EXPECT_BAD(&x, "wire.md §8.4", "tile_base_id");
  /* RAW_U16 keeps order and duplicates. */
  fx_init(&x, NNRP_MSG_FRAME_SUBMIT);
  x.t.tile_ids = dup;
  nnrp_out o;
  nnrp_fault f;
  nnrp_out_init(&o, g_scratch, sizeof(g_scratch), g_iov, IOV_CAP);
  CHECK_EQ_INT(fx_build(&x, &o, &f), 0);
}

TEST(inconsistent_sections) {
  fx x;
  fx_init(&x, NNRP_MSG_FRAME_SUBMIT);
  x.sec[1].role_id = 1;
  EXPECT_BAD(&x, "wire.md §8.3", "role_id");
  fx_init(&x, NNRP_MSG_FRAME_SUBMIT);
  x.sec[0].dtype_id = 8;
  EXPECT_BAD(&x, "wire.md §8.5", "dtype_id");
  fx_init(&x, NNRP_MSG_FRAME_SUBMIT);
  x.sec[0].layout_id = 2;
  EXPECT_BAD(&x, "wire.md §8.5", "layout_id");
  fx_init(&x, NNRP_MSG_FRAME_SUBMIT);
  x.sec[1].scale_policy = 3;
  EXPECT_BAD(&x, "wire.md §8.5", "scale_policy");
  fx_init(&x, NNRP_MSG_FRAME_SUBMIT);
  x.sec[1].tiles = NULL;
  EXPECT_BAD(&x, "wire.md §8.5 S8", "tiles");
  fx_init(&x, NNRP_MSG_FRAME_SUBMIT);
  x.tiles[0][1].ptr = NULL;
  EXPECT_BAD(&x, "wire.md §8.5 S1", "tiles");
  fx_init(&x, NNRP_MSG_FRAME_SUBMIT);
  x.sec[0].payload_stride_bytes = 3; /* tile 2 has 4 bytes */
  EXPECT_BAD(&x, "wire.md §8.5 S6", "payload_stride_bytes");
  fx_init(&x, NNRP_MSG_FRAME_SUBMIT);
  x.t.sections = NULL;
  EXPECT_BAD(&x, "wire.md §8.3", "sections");
  fx_init(&x, NNRP_MSG_FRAME_SUBMIT);
  x.t.camera.ptr = NULL;
  EXPECT_BAD(&x, "wire.md §8.1", "camera");
}

TEST(inconsistent_packet_too_large) {
  static const uint8_t small[1] = {0};
  fx x;
  fx_init(&x, NNRP_MSG_FRAME_SUBMIT);
  x.typed[0].data = (nnrp_bytes){small, (size_t)NNRP_MAX_PACKET_BYTES + 1u};
  EXPECT_BAD(&x, "wire.md §9.4 T5", "typed");
  /* Two frames that each fit but not together (never read: refused in
   * the plan pass). */
  fx_init(&x, NNRP_MSG_FRAME_SUBMIT);
  x.typed[0].data = (nnrp_bytes){small, 40u << 20};
  nnrp_opaque_bytes_frame(&x.typed[1], (nnrp_bytes){small, 40u << 20}, 0);
  x.b.typed_count = 2;
  EXPECT_BAD(&x, "wire.md §2.1 D19", "body_len");
  fx_init(&x, NNRP_MSG_FRAME_SUBMIT);
  x.t.camera = (nnrp_bytes){small, (size_t)NNRP_MAX_PACKET_BYTES + 1u};
  EXPECT_BAD(&x, "wire.md §2.1 D19", "camera");
  fx_init(&x, NNRP_MSG_FRAME_SUBMIT);
  x.tiles[1][0] = (nnrp_bytes){small, (size_t)NNRP_MAX_PACKET_BYTES + 1u};
  EXPECT_BAD(&x, "wire.md §2.1 D19", "tiles");
}

TEST(inconsistent_result) {
  fx x;
  fx_init(&x, NNRP_MSG_RESULT_PUSH);
  x.m.result_push.result_flags = 0x8;
  EXPECT_BAD(&x, "wire.md §6.3 R1", "result_flags");
  fx_init(&x, NNRP_MSG_RESULT_PUSH);
  x.m.result_push.result_class = 4;
  EXPECT_BAD(&x, "wire.md §6.3 R1", "result_class");
  fx_init(&x, NNRP_MSG_RESULT_PUSH);
  x.m.result_push.applied_budget_policy = 0x10;
  EXPECT_BAD(&x, "wire.md §6.3 R1", "applied_budget_policy");
  fx_init(&x, NNRP_MSG_RESULT_PUSH);
  x.b.tensor = NULL;
  x.m.result_push.covered_tile_count = 1;
  EXPECT_BAD(&x, "wire.md §6.3 R2", "covered_tile_count");
  fx_init(&x, NNRP_MSG_RESULT_PUSH);
  x.m.result_push.covered_tile_count = 4;
  EXPECT_BAD(&x, "wire.md §6.3 R3", "covered_tile_count");
  fx_init(&x, NNRP_MSG_RESULT_PUSH);
  x.m.result_push.dropped_tile_count = 4;
  EXPECT_BAD(&x, "wire.md §6.3 R4", "dropped_tile_count");
  fx_init(&x, NNRP_MSG_RESULT_PUSH);
  x.m.result_push.covered_tile_count = 1;
  x.m.result_push.dropped_tile_count = 1;
  EXPECT_BAD(&x, "wire.md §6.3 R5", "covered_tile_count");
  fx_init(&x, NNRP_MSG_RESULT_PUSH);
  x.m.result_push.result_class = NNRP_RESULT_CLASS_PARTIAL;
  EXPECT_BAD(&x, "wire.md §6.3 R6", "dropped_tile_count");
  fx_init(&x, NNRP_MSG_RESULT_PUSH);
  x.m.result_push.result_flags = NNRP_RESULT_FLAG_PARTIAL;
  x.m.result_push.covered_tile_count = 3;
  EXPECT_BAD(&x, "wire.md §6.3 R6", "dropped_tile_count");
  /* P1: references strictly ascending; P3: one tile-index reference. */
  fx_init(&x, NNRP_MSG_RESULT_PUSH);
  set_ref(&x.refs[0], NNRP_OBJECT_REUSABLE_RESULT_OBJECT, 1, 2, 3);
  set_ref(&x.refs[1], NNRP_OBJECT_REUSABLE_RESULT_OBJECT, 1, 2, 3);
  x.b.ref_count = 2;
  EXPECT_BAD(&x, "wire.md §9.7 P1", "refs");
  fx_init(&x, NNRP_MSG_RESULT_PUSH);
  set_ref(&x.refs[0], NNRP_OBJECT_REUSABLE_RESULT_OBJECT, 2, 0, 0);
  set_ref(&x.refs[1], NNRP_OBJECT_REUSABLE_RESULT_OBJECT, 1, 9, 9);
  x.b.ref_count = 2;
  EXPECT_BAD(&x, "wire.md §9.7 P1", "refs");
  fx_init(&x, NNRP_MSG_RESULT_PUSH);
  set_ref(&x.refs[0], NNRP_OBJECT_TILE_INDEX_BLOCK, 1, 0, 1);
  set_ref(&x.refs[1], NNRP_OBJECT_TILE_INDEX_BLOCK, 1, 0, 2);
  x.b.ref_count = 2;
  EXPECT_BAD(&x, "wire.md §9.7 P3", "refs");
  fx_init(&x, NNRP_MSG_RESULT_PUSH);
  set_ref(&x.refs[0], NNRP_OBJECT_TENSOR_SECTION_TABLE, 1, 0, 1);
  x.b.ref_count = 1; /* sections given too */
  EXPECT_BAD(&x, "wire.md §9.7 P4", "sections");
  /* P2: the tile index and section table come from the tensor only. */
  fx_init(&x, NNRP_MSG_RESULT_PUSH);
  x.extra[0].object_kind = NNRP_OBJECT_TENSOR_SECTION_TABLE;
  x.b.extra_inline_count = 1;
  EXPECT_BAD(&x, "wire.md §9.7 P2", "extra_inline");
  /* §7: without typed frames a result is a bare tensor body. */
  fx_init(&x, NNRP_MSG_RESULT_PUSH);
  x.b.typed_count = 0;
  EXPECT_BAD(&x, "wire.md §7", "camera");
  fx_init(&x, NNRP_MSG_RESULT_PUSH);
  x.b.typed_count = 0;
  x.t.camera.len = 0;
  set_ref(&x.refs[0], NNRP_OBJECT_REUSABLE_RESULT_OBJECT, 1, 2, 3);
  x.b.ref_count = 1;
  EXPECT_BAD(&x, "wire.md §7", "refs");
}

/* ---- Round trips -----------------------------------------------------------
 */

static int bytes_eq(nnrp_bytes a, nnrp_bytes b) {
  return a.len == b.len && (a.len == 0 || memcmp(a.ptr, b.ptr, a.len) == 0);
}

/* x's content equals y's (ids NULL = base+i; codecs NULL = codec_id). */
static void check_same_tensor(const nnrp_tensor_data *x,
                              const nnrp_tensor_data *y, int ids_sent,
                              int sections_sent) {
  CHECK(bytes_eq(x->camera, y->camera));
  CHECK_EQ_INT(x->tile_count, y->tile_count);
  CHECK_EQ_U64(x->tile_base_id, y->tile_base_id);
  CHECK_EQ_INT(x->section_count, y->section_count);
  for (uint32_t i = 0; ids_sent && i < x->tile_count; i++) {
    uint32_t a = x->tile_ids ? x->tile_ids[i] : x->tile_base_id + i;
    uint32_t b = y->tile_ids ? y->tile_ids[i] : y->tile_base_id + i;
    CHECK_EQ_U64(a, b);
  }
  if (!sections_sent) {
    CHECK(y->sections == NULL);
    return;
  }
  for (uint32_t s = 0; s < x->section_count; s++) {
    const nnrp_section_data *a = &x->sections[s], *b = &y->sections[s];
    CHECK_EQ_INT(a->role_id, b->role_id);
    CHECK_EQ_INT(a->codec_id, b->codec_id);
    CHECK_EQ_INT(a->dtype_id, b->dtype_id);
    CHECK_EQ_INT(a->layout_id, b->layout_id);
    CHECK_EQ_INT(a->scale_policy, b->scale_policy);
    CHECK_EQ_U64(a->element_count_per_tile, b->element_count_per_tile);
    CHECK_EQ_U64(a->payload_stride_bytes, b->payload_stride_bytes);
    for (uint32_t i = 0; i < x->tile_count; i++) {
      CHECK(bytes_eq(a->tiles[i], b->tiles[i]));
      uint8_t ca = a->tile_codec_ids ? a->tile_codec_ids[i] : a->codec_id;
      uint8_t cb = b->tile_codec_ids ? b->tile_codec_ids[i] : b->codec_id;
      CHECK_EQ_INT(ca, cb);
    }
  }
}

static void check_same_body(const nnrp_body_data *x, const nnrp_body_data *y,
                            uint8_t ref_slots) {
  CHECK_EQ_INT(x->tensor != NULL, y->tensor != NULL);
  if (x->tensor && y->tensor)
    check_same_tensor(x->tensor, y->tensor,
                      (ref_slots & NNRP_SLOT_TILE_INDEX) == 0,
                      (ref_slots & NNRP_SLOT_SECTION_TABLE) == 0);
  if (CHECK_EQ_INT(x->typed_count, y->typed_count)) {
    for (uint32_t i = 0; i < x->typed_count; i++) {
      CHECK_EQ_INT(x->typed[i].payload_kind, y->typed[i].payload_kind);
      CHECK_EQ_INT(x->typed[i].profile_id, y->typed[i].profile_id);
      CHECK(bytes_eq(x->typed[i].data, y->typed[i].data));
    }
  }
  if (CHECK_EQ_U64(x->ref_count, y->ref_count)) {
    for (uint32_t i = 0; i < x->ref_count; i++) {
      CHECK_EQ_INT(x->refs[i].object_kind, y->refs[i].object_kind);
      CHECK_EQ_U64(x->refs[i].cache_namespace, y->refs[i].cache_namespace);
      CHECK_EQ_U64(x->refs[i].cache_key_hi, y->refs[i].cache_key_hi);
      CHECK_EQ_U64(x->refs[i].cache_key_lo, y->refs[i].cache_key_lo);
    }
  }
  if (CHECK_EQ_U64(x->extra_inline_count, y->extra_inline_count)) {
    for (uint32_t i = 0; i < x->extra_inline_count; i++) {
      CHECK_EQ_INT(x->extra_inline[i].object_kind,
                   y->extra_inline[i].object_kind);
      CHECK_EQ_INT(x->extra_inline[i].profile_id,
                   y->extra_inline[i].profile_id);
      CHECK(bytes_eq(x->extra_inline[i].data, y->extra_inline[i].data));
    }
  }
  if (CHECK_EQ_U64(x->ext_count, y->ext_count)) {
    for (uint32_t i = 0; i < x->ext_count; i++) {
      CHECK_EQ_INT(x->ext[i].extension_kind, y->ext[i].extension_kind);
      CHECK_EQ_INT(x->ext[i].extension_flags, y->ext[i].extension_flags);
      CHECK_EQ_INT(x->ext[i].profile_id, y->ext[i].profile_id);
      CHECK(bytes_eq(x->ext[i].data, y->ext[i].data));
    }
  }
}

/* Storage for nnrp_body_data_from_view(). */
typedef struct export_store {
  nnrp_body_storage st;
  nnrp_section_data sections[8];
  nnrp_bytes tiles[8 * 64];
  uint8_t codecs[8 * 64];
  uint16_t ids[64];
  nnrp_typed_frame typed[8];
  nnrp_object_ref refs[8];
  nnrp_inline_object extra[8];
  nnrp_ext_frame ext[8];
} export_store;

static void export_store_init(export_store *e) {
  memset(e, 0, sizeof(*e));
  e->st.sections = e->sections;
  e->st.sections_cap = 8;
  e->st.tiles = e->tiles;
  e->st.tiles_cap = 8 * 64;
  e->st.codecs = e->codecs;
  e->st.codecs_cap = 8 * 64;
  e->st.tile_ids = e->ids;
  e->st.tile_ids_cap = 64;
  e->st.typed = e->typed;
  e->st.typed_cap = 8;
  e->st.refs = e->refs;
  e->st.refs_cap = 8;
  e->st.extra_inline = e->extra;
  e->st.extra_inline_cap = 8;
  e->st.ext = e->ext;
  e->st.ext_cap = 8;
}

/* build -> decode (strict) -> from_view -> same content -> rebuild -> same
 * bytes. Returns the packet length. */
static long roundtrip(fx *x) {
  static uint8_t a[FLAT_CAP], b2[FLAT_CAP];
  long n = build_flat(x->msg, &x->h, &x->m, &x->b, a, sizeof(a));
  if (!CHECK(n > 0))
    return n;
  nnrp_packet p;
  nnrp_fault f;
  memset(&f, 0, sizeof(f));
  int rc = nnrp_packet_decode(&p, a, (size_t)n, NULL, &f);
  if (!CHECK_EQ_INT(rc, 0)) {
    harness_fail(f.rule ? f.rule : "?", (int)f.offset, f.field ? f.field : "?");
    return -1;
  }
  CHECK_EQ_U64(p.hdr.session_id, x->h.session_id);
  CHECK_EQ_U64(p.hdr.frame_id, x->h.frame_id);
  CHECK_EQ_U64(p.hdr.view_id, x->h.view_id);
  CHECK_EQ_U64(p.hdr.route_id, x->h.route_id);
  CHECK_EQ_U64(p.hdr.trace_id, x->h.trace_id);
  CHECK_EQ_U64(p.hdr.flags, x->h.flags);
  /* The decoded metadata is the metadata the builder reported. */
  CHECK_EQ_MEM(p.meta_raw.ptr, a + 40, p.meta_raw.len);
  uint8_t menc[80];
  CHECK_EQ_INT(nnrp_meta_encode(x->msg, &x->m, menc, sizeof(menc)),
               (int)p.meta_raw.len);
  CHECK_EQ_MEM(menc, p.meta_raw.ptr, p.meta_raw.len);
  static export_store e;
  export_store_init(&e);
  nnrp_body_data y;
  rc = nnrp_body_data_from_view(x->msg, &p.m, &p.b.data, &y, &e.st);
  if (!CHECK_EQ_INT(rc, 0))
    return -1;
  uint8_t slots = 0;
  for (uint32_t i = 0; i < x->b.ref_count; i++) {
    uint16_t k = x->refs[i].object_kind;
    if (k >= 1 && k <= 3)
      slots = (uint8_t)(slots | (1u << (k - 1u)));
  }
  check_same_body(&x->b, &y, slots);
  nnrp_meta m2 = p.m;
  nnrp_header h2 = p.hdr;
  long n2 = build_flat(x->msg, &h2, &m2, &y, b2, sizeof(b2));
  if (CHECK_EQ_INT(n2, n))
    CHECK_EQ_MEM(b2, a, (size_t)n);
  return n;
}

TEST(roundtrip_submit_shapes) {
  fx x;
  fx_init(&x, NNRP_MSG_FRAME_SUBMIT); /* composed: camera, RAW, 2 sections */
  x.h.route_id = 0x1234;
  x.h.trace_id = 0x0102030405060708ull;
  x.h.flags = NNRP_FLAG_KEYFRAME | NNRP_FLAG_ACK_REQUIRED;
  x.h.view_id = 4;
  x.m.frame_submit.budget_policy = NNRP_BUDGET_ALLOW_PARTIAL;
  x.m.frame_submit.dependency_frame_id = 2;
  x.m.frame_submit.retry_of_frame = 1;
  roundtrip(&x);
  CHECK_EQ_U64(x.m.frame_submit.payload_kind_bitmap, 0x03);

  fx_init(&x, NNRP_MSG_FRAME_SUBMIT); /* legacy with DELTA, no camera */
  x.b.typed_count = 0;
  x.t.camera.len = 0;
  x.t.tile_index_mode = NNRP_TILE_INDEX_DELTA_U16;
  roundtrip(&x);

  fx_init(&x, NNRP_MSG_FRAME_SUBMIT); /* legacy camera only, no pad */
  x.b.typed_count = 0;
  x.t.tile_count = 0;
  x.t.section_count = 0;
  CHECK_EQ_INT(roundtrip(&x), 40 + 72 + 3);

  fx_init(&x, NNRP_MSG_FRAME_SUBMIT); /* BITSET, mixed codec, fixed stride */
  x.t.tile_index_mode = NNRP_TILE_INDEX_BITSET;
  x.codecs[0] = 0;
  x.codecs[1] = 7;
  x.codecs[2] = 0;
  x.sec[0].tile_codec_ids = x.codecs;
  x.sec[1].payload_stride_bytes = 6;
  x.sec[1].layout_id = NNRP_LAYOUT_NCHW;
  x.sec[1].scale_policy = NNRP_SCALE_POLICY_ZERO_POINT;
  x.sec[1].element_count_per_tile = 77;
  x.extra[0].object_kind = NNRP_OBJECT_PAYLOAD_LAYOUT_TEMPLATE;
  x.extra[0].profile_id = 5;
  x.extra[0].data = BYTES("layout!");
  x.extra[1].object_kind = NNRP_OBJECT_PROMPT_SEGMENT;
  x.extra[1].data = BYTES("");
  x.b.extra_inline_count = 2;
  x.ext[0].extension_kind = 0x7777;
  x.ext[0].profile_id = 3;
  x.ext[0].data = BYTES("e0");
  x.ext[1].extension_kind = 0x7778;
  x.ext[1].data = BYTES("");
  x.b.ext_count = 2;
  nnrp_structured_event_frame(&x.typed[1], BYTES("{}"), 9);
  x.b.typed_count = 2;
  roundtrip(&x);

  fx_init(&x, NNRP_MSG_FRAME_SUBMIT); /* REFERENCE mode: every slot */
  x.m.frame_submit.submit_mode = NNRP_SUBMIT_MODE_REFERENCE;
  set_ref(&x.refs[0], NNRP_OBJECT_CAMERA_BLOCK, 1, 0xAAAAAAAAu, 1);
  set_ref(&x.refs[1], NNRP_OBJECT_TILE_INDEX_BLOCK, 2, 0, 2);
  set_ref(&x.refs[2], NNRP_OBJECT_TENSOR_SECTION_TABLE, 3, 0, 3);
  set_ref(&x.refs[3], NNRP_OBJECT_PAYLOAD_LAYOUT_TEMPLATE, 4, 0, 4);
  x.b.ref_count = 4;
  x.t.camera.len = 0;
  x.t.sections = NULL;
  roundtrip(&x);
  CHECK_EQ_U64(x.m.frame_submit.object_ref_mask, 0xF);
  CHECK_EQ_INT(x.m.frame_submit.section_count, 2);
  CHECK_EQ_U64(x.m.frame_submit.tile_index_bytes, 0);

  fx_init(&x, NNRP_MSG_FRAME_SUBMIT); /* MIXED: index referenced */
  x.m.frame_submit.submit_mode = NNRP_SUBMIT_MODE_MIXED;
  set_ref(&x.refs[0], NNRP_OBJECT_TILE_INDEX_BLOCK, 2, 0, 2);
  x.b.ref_count = 1;
  x.b.typed_count = 0;
  roundtrip(&x);

  fx_init(&x, NNRP_MSG_FRAME_SUBMIT); /* typed only, all six kinds */
  memset(&x.m, 0, sizeof(x.m));
  x.b.tensor = NULL;
  nnrp_video_chunk_frame(&x.typed[1], BYTES("vid"), 1);
  x.b.typed_count = 2;
  roundtrip(&x);

  fx_init(&x, NNRP_MSG_FRAME_SUBMIT); /* empty submit: bare prelude */
  memset(&x.m, 0, sizeof(x.m));
  x.b.tensor = NULL;
  x.b.typed_count = 0;
  CHECK_EQ_INT(roundtrip(&x), 40 + 72 + 32);
  CHECK_EQ_U64(x.m.frame_submit.payload_kind_bitmap, 0);

  fx_init(&x, NNRP_MSG_FRAME_SUBMIT); /* one tile: index block still sent */
  x.t.tile_count = 1;
  x.t.section_count = 1;
  x.t.tile_index_mode = NNRP_TILE_INDEX_DENSE_RANGE;
  x.t.tile_ids = NULL;
  x.t.tile_base_id = 42;
  roundtrip(&x);

  fx_init(&x, NNRP_MSG_FRAME_SUBMIT); /* composed, camera only: no index */
  x.t.tile_count = 0;
  x.t.section_count = 0;
  /* prelude + camera block (16 + 3 -> 24) + descriptor + "tok" */
  CHECK_EQ_INT(roundtrip(&x), 40 + 72 + 32 + 24 + 16 + 3);

  fx_init(&x, NNRP_MSG_FRAME_SUBMIT); /* DENSE_RANGE composed, base 1000 */
  x.t.tile_index_mode = NNRP_TILE_INDEX_DENSE_RANGE;
  x.t.tile_ids = NULL;
  x.t.tile_base_id = 100000;
  roundtrip(&x);
  CHECK_EQ_U64(x.m.frame_submit.tile_base_id, 100000);
}

TEST(roundtrip_result_shapes) {
  fx x;
  fx_init(&x, NNRP_MSG_RESULT_PUSH); /* composed: camera + typed */
  x.h.flags = NNRP_FLAG_EOS;
  x.m.result_push.inference_ms = 12;
  x.m.result_push.status_code = 3;
  roundtrip(&x);
  CHECK_EQ_INT(x.m.result_push.covered_tile_count, 3);

  fx_init(&x, NNRP_MSG_RESULT_PUSH); /* legacy RAW, partial */
  x.b.typed_count = 0;
  x.t.camera.len = 0;
  x.tiles[0][2].len = 0;
  x.tiles[1][2].len = 0;
  x.m.result_push.result_class = NNRP_RESULT_CLASS_PARTIAL;
  x.m.result_push.result_flags = NNRP_RESULT_FLAG_PARTIAL;
  x.m.result_push.covered_tile_count = 2;
  x.m.result_push.dropped_tile_count = 1;
  roundtrip(&x);

  fx_init(&x, NNRP_MSG_RESULT_PUSH); /* DENSE_RANGE implied */
  static const uint16_t dense[3] = {7, 8, 9};
  x.b.typed_count = 0;
  x.t.camera.len = 0;
  x.t.tile_index_mode = NNRP_TILE_INDEX_DENSE_RANGE;
  x.t.tile_base_id = 7;
  x.t.tile_ids = dense;
  roundtrip(&x);
  CHECK_EQ_U64(x.m.result_push.tile_index_bytes, 0);
  CHECK_EQ_U64(x.m.result_push.tile_base_id, 7);

  fx_init(&x, NNRP_MSG_RESULT_PUSH); /* DENSE asked, ids not dense: RAW */
  x.b.typed_count = 0;
  x.t.camera.len = 0;
  x.t.tile_index_mode = NNRP_TILE_INDEX_DENSE_RANGE;
  x.t.tile_base_id = 3;
  roundtrip(&x);
  CHECK_EQ_U64(x.m.result_push.tile_index_bytes, 6);

  fx_init(&x, NNRP_MSG_RESULT_PUSH); /* DELTA asked: RESULT_PUSH sends RAW */
  x.b.typed_count = 0;
  x.t.camera.len = 0;
  x.t.tile_index_mode = NNRP_TILE_INDEX_DELTA_U16;
  roundtrip(&x);
  CHECK_EQ_U64(x.m.result_push.tile_index_bytes, 6);

  fx_init(&x, NNRP_MSG_RESULT_PUSH); /* refs, extras, ext; index referenced */
  set_ref(&x.refs[0], NNRP_OBJECT_CAMERA_BLOCK, 1, 1, 1);
  set_ref(&x.refs[1], NNRP_OBJECT_TILE_INDEX_BLOCK, 1, 1, 1);
  set_ref(&x.refs[2], NNRP_OBJECT_REUSABLE_RESULT_OBJECT, 1, 1, 1);
  set_ref(&x.refs[3], NNRP_OBJECT_REUSABLE_RESULT_OBJECT, 1, 1, 2);
  x.b.ref_count = 4;
  x.t.camera.len = 0;
  x.extra[0].object_kind = NNRP_OBJECT_REUSABLE_RESULT_OBJECT;
  x.extra[0].data = BYTES("reuse");
  x.b.extra_inline_count = 1;
  x.ext[0].extension_kind = 0x4001;
  x.ext[0].data = BYTES("x");
  x.b.ext_count = 1;
  x.m.result_push.result_class = NNRP_RESULT_CLASS_STALE_REUSE;
  x.m.result_push.reused_frame_id = 2;
  roundtrip(&x);

  fx_init(&x, NNRP_MSG_RESULT_PUSH); /* a second camera is an extra (P5) */
  x.extra[0].object_kind = NNRP_OBJECT_CAMERA_BLOCK;
  x.extra[0].data = BYTES("second camera");
  x.b.extra_inline_count = 1;
  roundtrip(&x);

  fx_init(&x, NNRP_MSG_RESULT_PUSH); /* no tensor camera; extra camera */
  x.t.camera.len = 0;
  x.extra[0].object_kind = NNRP_OBJECT_CAMERA_BLOCK;
  x.extra[0].data = BYTES("extra camera");
  x.b.extra_inline_count = 1;
  roundtrip(&x);
  x.t.section_count = 0; /* now the extra camera is the first block... */
  x.t.tile_count = 0;
  x.m.result_push.covered_tile_count = 0; /* was derived by the build */
  x.extra[0].profile_id = 3; /* ...but it has a profile: still an extra */
  roundtrip(&x);

  fx_init(&x, NNRP_MSG_RESULT_PUSH); /* camera referenced, camera object */
  set_ref(&x.refs[0], NNRP_OBJECT_CAMERA_BLOCK, 1, 1, 1);
  set_ref(&x.refs[1], NNRP_OBJECT_TILE_INDEX_BLOCK, 1, 1, 1);
  x.b.ref_count = 2;
  x.t.camera.len = 0;
  x.t.section_count = 0;
  x.extra[0].object_kind = NNRP_OBJECT_CAMERA_BLOCK;
  x.extra[0].data = BYTES("cam2");
  x.b.extra_inline_count = 1;
  roundtrip(&x);

  fx_init(&x, NNRP_MSG_RESULT_PUSH); /* typed only */
  x.b.tensor = NULL;
  nnrp_tool_delta_frame(&x.typed[1], BYTES("{\"d\":1}"), 0);
  x.b.typed_count = 2;
  roundtrip(&x);

  fx_init(&x, NNRP_MSG_RESULT_PUSH); /* nothing: bitmap 0, empty body */
  x.b.tensor = NULL;
  x.b.typed_count = 0;
  CHECK_EQ_INT(roundtrip(&x), 40 + 64);
}

TEST(from_view_storage_too_small) {
  fx x;
  fx_init(&x, NNRP_MSG_FRAME_SUBMIT);
  static uint8_t a[4096];
  long n = build_flat(x.msg, &x.h, &x.m, &x.b, a, sizeof(a));
  nnrp_packet p;
  nnrp_fault f;
  if (!CHECK(n > 0) ||
      !CHECK_EQ_INT(nnrp_packet_decode(&p, a, (size_t)n, NULL, &f), 0))
    return;
  static export_store e;
  nnrp_body_data y;
  size_t *caps[5] = {&e.st.sections_cap, &e.st.tiles_cap, &e.st.tile_ids_cap,
                     &e.st.typed_cap, NULL};
  for (int i = 0; caps[i] != NULL; i++) {
    export_store_init(&e);
    *caps[i] = 1;
    CHECK_EQ_INT(nnrp_body_data_from_view(x.msg, &p.m, &p.b.data, &y, &e.st),
                 i == 3 ? 0 : NNRP_ERR_BUFFER_TOO_SMALL);
  }
  export_store_init(&e);
  e.st.typed_cap = 0;
  CHECK_EQ_INT(nnrp_body_data_from_view(x.msg, &p.m, &p.b.data, &y, &e.st),
               NNRP_ERR_BUFFER_TOO_SMALL);
  export_store_init(&e);
  CHECK_EQ_INT(
      nnrp_body_data_from_view(NNRP_MSG_PING, &p.m, &p.b.data, &y, &e.st),
      NNRP_ERR_INVALID_ARGUMENT);
  /* Codec storage is only needed when a section has a codec table. */
  export_store_init(&e);
  e.st.codecs = NULL;
  e.st.codecs_cap = 0;
  CHECK_EQ_INT(nnrp_body_data_from_view(x.msg, &p.m, &p.b.data, &y, &e.st), 0);
}

int main(void) {
  RUN(vector_legacy_submit_packet);
  RUN(vector_legacy_result_body);
  RUN(vector_typed_only_submit);
  RUN(vector_mixed_tensor_typed_inline);
  RUN(vector_mixed_mode_references);
  RUN(vector_section_mixed_codec_fixed_stride);
  RUN(vector_tile_index_modes);
  RUN(typed_frame_helpers);
  RUN(large_payloads_are_referenced);
  RUN(copy_max_controls_referencing);
  RUN(buffer_too_small_submit_and_result);
  RUN(fixtures_are_valid);
  RUN(inconsistent_header_and_typed);
  RUN(inconsistent_submit_meta);
  RUN(inconsistent_submit_modes_and_refs);
  RUN(inconsistent_extra_inline);
  RUN(inconsistent_tile_index);
  RUN(inconsistent_sections);
  RUN(inconsistent_packet_too_large);
  RUN(inconsistent_result);
  RUN(roundtrip_submit_shapes);
  RUN(roundtrip_result_shapes);
  RUN(from_view_storage_too_small);
  wc_vectors_free();
  TEST_MAIN_END();
}
