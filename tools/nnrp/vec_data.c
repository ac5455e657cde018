/* SPDX-License-Identifier: Apache-2.0 */
/*
 * vec_data.c - `nnrp vectors`: composed-body vectors (wire.md §9): the
 * prelude, an object reference, typed-payload descriptors and frames, and
 * whole composed FRAME_SUBMIT bodies, each cut out of a packet that
 * nnrp_build_frame_submit() produced from the field values.
 */
#include <stdlib.h>
#include <string.h>

#include "body_json.h"
#include "build.h"
#include "json_out.h"
#include "util.h"
#include "vectors.h"

#define G "golden"
#define D "derived"
#define SRC "nnrp_build_frame_submit"

nnrp_header vec_submit_header(uint8_t msg_type) {
  nnrp_header h;
  nnrp_header_init(&h, msg_type);
  h.session_id = 7;
  h.frame_id = 101;
  return h;
}

int vec_build_data(vec_ctx *c, const char *name, const nnrp_header *h,
                   nnrp_meta *m, const nnrp_body_data *b, vec_built *out) {
  nnrp_fault f;
  memset(out, 0, sizeof(*out));
  memset(&f, 0, sizeof(f));
  int rc = cli_build_data(h, m, b, &out->pkt, &out->len, &f);
  if (rc != 0) {
    vec_fail(c, name,
             h->msg_type == NNRP_MSG_FRAME_SUBMIT ? "nnrp_build_frame_submit"
                                                  : "nnrp_build_result_push",
             rc, &f);
    return -1;
  }
  uint64_t meta_len = cli_rd32(out->pkt + 12);
  if (NNRP_HEADER_LEN + meta_len <= out->len) {
    out->body.ptr = out->pkt + NNRP_HEADER_LEN + meta_len;
    out->body.len = out->len - NNRP_HEADER_LEN - (size_t)meta_len;
  }
  rc = nnrp_packet_decode(&out->p, out->pkt, out->len, NULL, &f);
  if (rc == 0)
    out->decoded = 1;
  else
    vec_fail(c, name, "nnrp_packet_decode of the built packet", rc, &f);
  return 0;
}

void vec_built_free(vec_built *b) {
  free(b->pkt);
  b->pkt = NULL;
}

nnrp_bytes vec_region(nnrp_bytes body, int k) {
  nnrp_bytes r = {NULL, 0};
  if (body.len < 32 || k < 0 || k >= NNRP_REGION_COUNT)
    return r;
  uint64_t off = 32;
  for (int i = 0; i < k; i++)
    off += cli_rd32(body.ptr + 4 * i);
  uint64_t n = cli_rd32(body.ptr + 4 * k);
  if (off + n > body.len)
    return r;
  r.ptr = body.ptr + off;
  r.len = (size_t)n;
  return r;
}

static nnrp_bytes cut(nnrp_bytes b, size_t off, size_t n) {
  nnrp_bytes r = {NULL, 0};
  if (off + n <= b.len) {
    r.ptr = b.ptr + off;
    r.len = n;
  }
  return r;
}

/* Typed-payload descriptors of a decoded body (reflection). */
static cJSON *descriptors(const nnrp_data_body *b) {
  cJSON *a = cJSON_CreateArray();
  for (uint32_t i = 0; i < b->typed_count; i++) {
    nnrp_typed_frame t;
    if (nnrp_data_body_typed(b, i, &t) == 0)
      cJSON_AddItemToArray(a, jo_struct(NNRP_STRUCT_TYPED_FRAME, &t));
  }
  return a;
}

static cJSON *frames_utf8(const nnrp_data_body *b) {
  cJSON *a = cJSON_CreateArray();
  for (uint32_t i = 0; i < b->typed_count; i++) {
    nnrp_typed_frame t;
    if (nnrp_data_body_typed(b, i, &t) == 0)
      cJSON_AddItemToArray(a, vec_text(t.data));
  }
  return a;
}

/* The FRAME_SUBMIT metadata fields that shape a body. */
static cJSON *meta_context(const nnrp_frame_submit *m) {
  static const char *names[] = {
      "submit_mode",         "object_ref_mask", "payload_kind_bitmap",
      "payload_frame_count", "tile_count",      "section_count",
      "tile_index_mode",     "camera_bytes",    "tile_index_bytes"};
  cJSON *o = cJSON_CreateObject();
  for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
    const nnrp_field_desc *fd =
        nnrp_field_find(NNRP_STRUCT_FRAME_SUBMIT, names[i]);
    if (fd != NULL)
      jo_add_u64(o, names[i], nnrp_field_get(m, fd));
  }
  return o;
}

/* Inline objects with their standard payloads decoded. */
static cJSON *inline_objects(const nnrp_data_body *b) {
  cJSON *a = cJSON_CreateArray();
  nnrp_inline_iter it;
  nnrp_inline_object o;
  nnrp_inline_iter_init(&it, b);
  while (nnrp_inline_iter_next(&it, &o) == 1) {
    cJSON *e = jo_struct(NNRP_STRUCT_INLINE_OBJECT, &o);
    if (o.object_kind == NNRP_OBJECT_CAMERA_BLOCK)
      cJSON_AddItemToObject(e, "payload_utf8", vec_text(o.data));
    else if (o.object_kind == NNRP_OBJECT_TILE_INDEX_BLOCK && b->has_tensor)
      cJSON_AddItemToObject(e, "tile_ids", jo_tile_ids(&b->tensor.tiles));
    else if (o.object_kind == NNRP_OBJECT_TENSOR_SECTION_TABLE && b->has_tensor)
      cJSON_AddItemToObject(e, "sections", jo_sections(&b->tensor));
    cJSON_AddItemToArray(a, e);
  }
  return a;
}

/* {prelude, inline_objects, object_references, descriptors, frames_utf8,
 *  metadata_context} of a whole composed body. */
static cJSON *composed_fields(const vec_built *bt) {
  const nnrp_data_body *b = &bt->p.b.data;
  cJSON *o = cJSON_CreateObject();
  cJSON_AddItemToObject(o, "prelude",
                        jo_struct(NNRP_STRUCT_PRELUDE, &b->prelude));
  cJSON_AddItemToObject(o, "inline_objects", inline_objects(b));
  cJSON *refs = cJSON_AddArrayToObject(o, "object_references");
  for (uint32_t i = 0; i < b->ref_count; i++) {
    nnrp_object_ref r;
    if (nnrp_data_body_ref(b, i, &r) == 0)
      cJSON_AddItemToArray(refs, jo_struct(NNRP_STRUCT_OBJECT_REF, &r));
  }
  cJSON_AddItemToObject(o, "descriptors", descriptors(b));
  cJSON_AddItemToObject(o, "frames_utf8", frames_utf8(b));
  cJSON_AddItemToObject(o, "metadata_context",
                        meta_context(&bt->p.m.frame_submit));
  return o;
}

/* Builds a FRAME_SUBMIT of submit_mode from b (session 7, frame 101). */
static int build_submit(vec_ctx *c, const char *name, uint8_t submit_mode,
                        const nnrp_body_data *b, vec_built *bt) {
  nnrp_header h = vec_submit_header(NNRP_MSG_FRAME_SUBMIT);
  nnrp_meta m;
  memset(&m, 0, sizeof(m));
  m.frame_submit.submit_mode = submit_mode;
  return vec_build_data(c, name, &h, &m, b, bt);
}

/* Prelude 24/16/16/14/16/5: one non-slot inline object of 8 bytes, one
 * camera reference, one 14-byte typed frame, one 5-byte extension frame. */
static void emit_prelude(vec_ctx *c) {
  vec_info v = {"body.prelude",
                "body",
                "FRAME_SUBMIT",
                G,
                SRC,
                "BodyRegionPrelude alone (first 32 bytes of a composed body)"};
  nnrp_object_ref ref = {NNRP_OBJECT_CAMERA_BLOCK, 0, 1, 0, 1};
  nnrp_inline_object inl = {NNRP_OBJECT_PROMPT_SEGMENT, 0, 0, 0, 0, 0,
                            vec_str("prompt!!")};
  nnrp_ext_frame ext = {0x0100, 0, 0, 0, 0, 0, vec_str("ext!!")};
  nnrp_typed_frame t;
  nnrp_token_chunk_frame(&t, vec_str("fourteen bytes"), 0);
  nnrp_body_data b = {NULL, &t, 1, &ref, 1, &inl, 1, &ext, 1};
  vec_built bt;
  if (build_submit(c, v.name, NNRP_SUBMIT_MODE_REFERENCE, &b, &bt) != 0)
    return;
  nnrp_bytes pre = cut(bt.body, 0, 32);
  vec_emit(c, &v, pre.ptr, pre.len,
           bt.decoded ? jo_struct(NNRP_STRUCT_PRELUDE, &bt.p.b.data.prelude)
                      : NULL);
  vec_built_free(&bt);
}

static void emit_object_ref(vec_ctx *c) {
  vec_info v = {"descriptor.object_reference.tile_index_block",
                "descriptor",
                "FRAME_SUBMIT",
                G,
                SRC,
                "one 16-byte object reference block"};
  nnrp_object_ref ref = {NNRP_OBJECT_TILE_INDEX_BLOCK, 0, 7, 0x11223344u,
                         0x55667788u};
  nnrp_body_data b = {NULL, NULL, 0, &ref, 1, NULL, 0, NULL, 0};
  vec_built bt;
  if (build_submit(c, v.name, NNRP_SUBMIT_MODE_REFERENCE, &b, &bt) != 0)
    return;
  nnrp_bytes r = cut(vec_region(bt.body, NNRP_REGION_REFS), 0, 16);
  nnrp_object_ref back;
  cJSON *fields = NULL;
  if (bt.decoded && nnrp_data_body_ref(&bt.p.b.data, 0, &back) == 0)
    fields = jo_struct(NNRP_STRUCT_OBJECT_REF, &back);
  vec_emit(c, &v, r.ptr, r.len, fields);
  vec_built_free(&bt);
}

/* The second descriptor of a token + structured-event body. */
static void emit_typed_desc(vec_ctx *c) {
  vec_info v = {"descriptor.typed_payload.structured_event",
                "descriptor",
                "FRAME_SUBMIT",
                G,
                SRC,
                NULL};
  nnrp_typed_frame t[2];
  nnrp_token_chunk_frame(&t[0], vec_str("abcd"), 0);
  nnrp_structured_event_frame(&t[1], vec_str("{\"a\":1}"), 3);
  nnrp_body_data b = {NULL, t, 2, NULL, 0, NULL, 0, NULL, 0};
  vec_built bt;
  if (build_submit(c, v.name, NNRP_SUBMIT_MODE_INLINE, &b, &bt) != 0)
    return;
  nnrp_bytes d = cut(vec_region(bt.body, NNRP_REGION_TYPED_DESC), 16, 16);
  nnrp_typed_frame back;
  cJSON *fields = NULL;
  if (bt.decoded && nnrp_data_body_typed(&bt.p.b.data, 1, &back) == 0)
    fields = jo_struct(NNRP_STRUCT_TYPED_FRAME, &back);
  vec_emit(c, &v, d.ptr, d.len, fields);
  vec_built_free(&bt);
}

/* Token, audio, video and event frames: the descriptor region and the
 * frame region of the same body. */
static void emit_typed_regions(vec_ctx *c) {
  vec_info vd = {"descriptor.typed_payload.region_token_audio_video_event",
                 "descriptor",
                 "FRAME_SUBMIT",
                 G,
                 SRC,
                 "typed-payload descriptor region (4 x 16 bytes)"};
  vec_info vf = {
      "body.typed_payload.frame_region", "body", "FRAME_SUBMIT", G, SRC, NULL};
  nnrp_typed_frame t[4];
  nnrp_token_chunk_frame(&t[0], vec_str("tok"), 1);
  nnrp_audio_chunk_frame(&t[1], vec_str("au"), 2);
  nnrp_video_chunk_frame(&t[2], vec_str("video"), 3);
  nnrp_structured_event_frame(&t[3], vec_str("evt"), 4);
  nnrp_body_data b = {NULL, t, 4, NULL, 0, NULL, 0, NULL, 0};
  vec_built bt;
  if (build_submit(c, vd.name, NNRP_SUBMIT_MODE_INLINE, &b, &bt) != 0)
    return;
  cJSON *fd = NULL, *ff = NULL;
  if (bt.decoded) {
    fd = cJSON_CreateObject();
    cJSON_AddItemToObject(fd, "descriptors", descriptors(&bt.p.b.data));
    ff = cJSON_CreateObject();
    cJSON_AddItemToObject(ff, "frames_utf8", frames_utf8(&bt.p.b.data));
    jo_add_u64(ff, "typed_payload_frame_bytes",
               bt.p.b.data.prelude.typed_payload_frame_bytes);
  }
  nnrp_bytes d = vec_region(bt.body, NNRP_REGION_TYPED_DESC);
  nnrp_bytes f = vec_region(bt.body, NNRP_REGION_TYPED_FRAMES);
  vec_emit(c, &vd, d.ptr, d.len, fd);
  vec_emit(c, &vf, f.ptr, f.len, ff);
  vec_built_free(&bt);
}

static void emit_whole_body(vec_ctx *c, const vec_info *v, uint8_t mode,
                            const nnrp_body_data *b) {
  vec_built bt;
  if (build_submit(c, v->name, mode, b, &bt) != 0)
    return;
  vec_emit(c, v, bt.body.ptr, bt.body.len,
           bt.decoded ? composed_fields(&bt) : NULL);
  vec_built_free(&bt);
}

static void emit_composed_bodies(vec_ctx *c) {
  vec_info v1 = {
      "body.frame_submit.typed_only", "body", "FRAME_SUBMIT", D, SRC, NULL};
  nnrp_typed_frame t[2];
  nnrp_token_chunk_frame(&t[0], vec_str("tok"), 0);
  nnrp_audio_chunk_frame(&t[1], vec_str("aud"), 0);
  nnrp_body_data b1 = {NULL, t, 2, NULL, 0, NULL, 0, NULL, 0};
  emit_whole_body(c, &v1, NNRP_SUBMIT_MODE_INLINE, &b1);

  nnrp_bytes tiles[2] = {vec_str("aa"), vec_str("bb")};
  nnrp_section_data sec = {1,
                           0,
                           NNRP_DTYPE_UINT8,
                           NNRP_LAYOUT_NHWC,
                           NNRP_SCALE_POLICY_NONE,
                           0,
                           0,
                           tiles,
                           NULL};
  uint16_t ids[2] = {0, 1};
  nnrp_tensor_data tensor = {
      vec_str("camera!!"), NNRP_TILE_INDEX_RAW_U16, 0, ids, 2, &sec, 1};
  vec_info v2 = {"body.frame_submit.mixed_tensor_typed_inline",
                 "body",
                 "FRAME_SUBMIT",
                 D,
                 SRC,
                 NULL};
  nnrp_body_data b2 = {&tensor, t, 1, NULL, 0, NULL, 0, NULL, 0};
  emit_whole_body(c, &v2, NNRP_SUBMIT_MODE_INLINE, &b2);

  nnrp_tensor_data referenced = {
      {NULL, 0}, NNRP_TILE_INDEX_DENSE_RANGE, 0, NULL, 2, &sec, 1};
  nnrp_object_ref refs[2] = {{NNRP_OBJECT_CAMERA_BLOCK, 0, 3, 11, 12},
                             {NNRP_OBJECT_TILE_INDEX_BLOCK, 0, 4, 21, 22}};
  vec_info v3 = {"body.frame_submit.mixed_mode_references",
                 "body",
                 "FRAME_SUBMIT",
                 D,
                 SRC,
                 NULL};
  nnrp_body_data b3 = {&referenced, NULL, 0, refs, 2, NULL, 0, NULL, 0};
  emit_whole_body(c, &v3, NNRP_SUBMIT_MODE_MIXED, &b3);
}

void vec_group_data(vec_ctx *c) {
  emit_prelude(c);
  emit_object_ref(c);
  emit_typed_desc(c);
  emit_typed_regions(c);
  emit_composed_bodies(c);
}
