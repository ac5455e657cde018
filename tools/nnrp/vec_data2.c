/* SPDX-License-Identifier: Apache-2.0 */
/*
 * vec_data2.c - `nnrp vectors`: legacy tensor bodies (wire.md §8): the
 * three tile-index encodings, a mixed-codec fixed-stride section, a whole
 * legacy FRAME_SUBMIT packet and a legacy RESULT_PUSH body, each produced
 * by nnrp_build_frame_submit() / nnrp_build_result_push().
 */
#include <stdlib.h>
#include <string.h>

#include "body_json.h"
#include "json_out.h"
#include "vectors.h"

#define D "derived"

static const char *mode_name(uint8_t mode) {
  static const char *names[] = {"DENSE_RANGE", "RAW_U16", "DELTA_U16",
                                "BITSET"};
  return mode < 4 ? names[mode] : "UNKNOWN";
}

/* A legacy FRAME_SUBMIT whose body is the tile-index block alone (no
 * camera, no sections: wire.md §8.3 part 5). */
static void emit_tile_index(vec_ctx *c, const char *name, uint8_t mode,
                            const uint16_t *ids, uint16_t n) {
  vec_info v = {name, "body", "FRAME_SUBMIT", D, "nnrp_build_frame_submit",
                NULL};
  nnrp_tensor_data t = {{NULL, 0}, mode, 0, ids, n, NULL, 0};
  nnrp_body_data b = {&t, NULL, 0, NULL, 0, NULL, 0, NULL, 0};
  nnrp_header h = vec_submit_header(NNRP_MSG_FRAME_SUBMIT);
  nnrp_meta m;
  vec_built bt;
  memset(&m, 0, sizeof(m));
  if (vec_build_data(c, name, &h, &m, &b, &bt) != 0)
    return;
  cJSON *fields = NULL;
  if (bt.decoded) {
    fields = cJSON_CreateObject();
    jo_add_u64(fields, "tile_index_mode", bt.p.b.data.tensor.tiles.mode);
    cJSON_AddStringToObject(fields, "tile_index_mode_name",
                            mode_name(bt.p.b.data.tensor.tiles.mode));
    cJSON_AddItemToObject(fields, "tile_ids",
                          jo_tile_ids(&bt.p.b.data.tensor.tiles));
  }
  vec_emit(c, &v, bt.body.ptr, bt.body.len, fields);
  vec_built_free(&bt);
}

static void emit_tile_indexes(vec_ctx *c) {
  static const uint16_t sparse[3] = {9, 17, 33};
  static const uint16_t small[3] = {1, 4, 9};
  emit_tile_index(c, "body.tile_index.raw_u16", NNRP_TILE_INDEX_RAW_U16, sparse,
                  3);
  emit_tile_index(c, "body.tile_index.delta_u16", NNRP_TILE_INDEX_DELTA_U16,
                  sparse, 3);
  emit_tile_index(c, "body.tile_index.bitset", NNRP_TILE_INDEX_BITSET, small,
                  3);
}

/* Tiles "ab" and "cde" with codecs 1 and 2 in 4-byte slots: with a
 * DENSE_RANGE index the legacy body is exactly the section. */
static void emit_section(vec_ctx *c) {
  vec_info v = {"body.tensor_section.mixed_codec_fixed_stride",
                "body",
                "FRAME_SUBMIT",
                D,
                "nnrp_build_frame_submit",
                "one section: desc + codec table + length table + 2 slots"};
  nnrp_bytes tiles[2] = {vec_str("ab"), vec_str("cde")};
  static const uint8_t codecs[2] = {1, 2};
  nnrp_section_data sec = {9,
                           0,
                           NNRP_DTYPE_UINT8,
                           NNRP_LAYOUT_NHWC,
                           NNRP_SCALE_POLICY_NONE,
                           0,
                           4,
                           tiles,
                           codecs};
  nnrp_tensor_data t = {
      {NULL, 0}, NNRP_TILE_INDEX_DENSE_RANGE, 0, NULL, 2, &sec, 1};
  nnrp_body_data b = {&t, NULL, 0, NULL, 0, NULL, 0, NULL, 0};
  nnrp_header h = vec_submit_header(NNRP_MSG_FRAME_SUBMIT);
  nnrp_meta m;
  vec_built bt;
  memset(&m, 0, sizeof(m));
  if (vec_build_data(c, v.name, &h, &m, &b, &bt) != 0)
    return;
  cJSON *fields = NULL;
  if (bt.decoded) {
    cJSON *all = jo_sections(&bt.p.b.data.tensor);
    fields = cJSON_DetachItemFromArray(all, 0);
    cJSON_Delete(all);
  }
  vec_emit(c, &v, bt.body.ptr, bt.body.len, fields);
  vec_built_free(&bt);
}

static void emit_legacy_submit(vec_ctx *c) {
  vec_info v = {"packet.frame_submit.legacy_inline_tensor",
                "packet",
                "FRAME_SUBMIT",
                D,
                "nnrp_build_frame_submit",
                "legacy tensor body: camera, pad, tile index, pad, sections"};
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
  static const uint16_t ids[2] = {0, 1};
  nnrp_tensor_data t = {
      vec_str("camera!!"), NNRP_TILE_INDEX_RAW_U16, 0, ids, 2, &sec, 1};
  nnrp_body_data b = {&t, NULL, 0, NULL, 0, NULL, 0, NULL, 0};
  nnrp_header h = vec_submit_header(NNRP_MSG_FRAME_SUBMIT);
  nnrp_meta m;
  vec_built bt;
  h.view_id = 1;
  memset(&m, 0, sizeof(m));
  m.frame_submit.src_width = 640;
  m.frame_submit.src_height = 360;
  m.frame_submit.tile_width = 32;
  m.frame_submit.tile_height = 32;
  m.frame_submit.frame_class = NNRP_FRAME_CLASS_KEYFRAME;
  m.frame_submit.input_profile = NNRP_INPUT_PROFILE_DENSE_LUMA_FRAME;
  m.frame_submit.latency_budget_ms = 50;
  m.frame_submit.target_fps_x100 = 6000;
  m.frame_submit.loss_tolerance_policy = NNRP_LOSS_TOLERANCE_INHERIT;
  if (vec_build_data(c, v.name, &h, &m, &b, &bt) != 0)
    return;
  cJSON *fields = vec_packet_fields(c, v.name, bt.pkt, bt.len);
  if (bt.decoded) {
    const nnrp_data_body *db = &bt.p.b.data;
    cJSON *body = cJSON_AddObjectToObject(fields, "body");
    cJSON_AddItemToObject(body, "camera_block_utf8", vec_text(db->camera));
    cJSON_AddItemToObject(body, "tile_ids", jo_tile_ids(&db->tensor.tiles));
    cJSON_AddItemToObject(body, "sections", jo_sections(&db->tensor));
  }
  vec_emit(c, &v, bt.pkt, bt.len, fields);
  vec_built_free(&bt);
}

static void emit_legacy_result(vec_ctx *c) {
  vec_info v = {"body.result_push.legacy_tensor", "body", "RESULT_PUSH", D,
                "nnrp_build_result_push",         NULL};
  nnrp_bytes tiles[3] = {vec_str("ra"), vec_str("rb"), vec_str("rc")};
  nnrp_section_data sec = {100,
                           0,
                           NNRP_DTYPE_UINT8,
                           NNRP_LAYOUT_NHWC,
                           NNRP_SCALE_POLICY_NONE,
                           0,
                           0,
                           tiles,
                           NULL};
  static const uint16_t ids[3] = {0, 1, 2};
  nnrp_tensor_data t = {{NULL, 0}, NNRP_TILE_INDEX_RAW_U16, 0, ids, 3, &sec, 1};
  nnrp_body_data b = {&t, NULL, 0, NULL, 0, NULL, 0, NULL, 0};
  nnrp_header h = vec_submit_header(NNRP_MSG_RESULT_PUSH);
  nnrp_meta m;
  vec_built bt;
  memset(&m, 0, sizeof(m));
  if (vec_build_data(c, v.name, &h, &m, &b, &bt) != 0)
    return;
  cJSON *fields = NULL;
  if (bt.decoded) {
    const nnrp_data_body *db = &bt.p.b.data;
    fields = cJSON_CreateObject();
    jo_add_u64(fields, "tile_index_bytes", bt.p.m.result_push.tile_index_bytes);
    cJSON_AddStringToObject(fields, "implied_tile_index_mode",
                            mode_name(db->tensor.tiles.mode));
    cJSON_AddItemToObject(fields, "tile_ids", jo_tile_ids(&db->tensor.tiles));
    cJSON_AddItemToObject(fields, "sections", jo_sections(&db->tensor));
  }
  vec_emit(c, &v, bt.body.ptr, bt.body.len, fields);
  vec_built_free(&bt);
}

void vec_group_data2(vec_ctx *c) {
  emit_tile_indexes(c);
  emit_section(c);
  emit_legacy_submit(c);
  emit_legacy_result(c);
}
