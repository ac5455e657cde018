/* SPDX-License-Identifier: Apache-2.0 */
/*
 * data_json.c - JSON rendering of FRAME_SUBMIT / RESULT_PUSH bodies (wire.md
 * §7 form, §8 tensor body, §9 composed regions) through the public
 * iterators and accessors; descriptor fields come from the reflection
 * tables.
 */
#include "body_json.h"
#include "json_out.h"

cJSON *jo_tile_ids(const nnrp_tile_index *ti) {
  cJSON *a = cJSON_CreateArray();
  nnrp_tile_iter it;
  uint32_t id;
  nnrp_tile_iter_init(&it, ti);
  while (nnrp_tile_iter_next(&it, &id) == 1)
    cJSON_AddItemToArray(a, jo_u64(id));
  return a;
}

cJSON *jo_tile_index(const nnrp_tile_index *ti) {
  cJSON *o = cJSON_CreateObject();
  jo_add_u64(o, "mode", ti->mode);
  jo_add_u64(o, "count", ti->count);
  jo_add_u64(o, "base", ti->base_id);
  jo_add_u64(o, "bytes", ti->block.len);
  cJSON_AddItemToObject(o, "ids", jo_tile_ids(ti));
  return o;
}

cJSON *jo_section(const nnrp_section_view *s) {
  cJSON *o = jo_struct(NNRP_STRUCT_SECTION_DESC, &s->desc);
  if (s->codec_table != NULL && s->desc.codec_table_bytes > 0) {
    cJSON *c = cJSON_CreateArray();
    for (uint32_t i = 0; i < s->desc.codec_table_bytes; i++)
      cJSON_AddItemToArray(c, jo_u64(s->codec_table[i]));
    cJSON_AddItemToObject(o, "codec_ids", c);
  } else {
    cJSON_AddNullToObject(o, "codec_ids");
  }
  cJSON *tiles = cJSON_CreateArray();
  nnrp_tile_data_iter it;
  nnrp_bytes tile;
  nnrp_tile_data_iter_init(&it, s);
  while (nnrp_tile_data_iter_next(&it, &tile, NULL) == 1)
    cJSON_AddItemToArray(tiles, jo_hex(tile.ptr, tile.len));
  cJSON_AddItemToObject(o, "tiles", tiles);
  return o;
}

cJSON *jo_sections(const nnrp_tensor_view *tv) {
  cJSON *a = cJSON_CreateArray();
  nnrp_section_iter it;
  nnrp_section_view s;
  nnrp_section_iter_init(&it, tv);
  while (nnrp_section_iter_next(&it, &s) == 1)
    cJSON_AddItemToArray(a, jo_section(&s));
  return a;
}

/* Inline objects, references, typed payloads and extension frames. */
static void add_regions(cJSON *o, const nnrp_data_body *b) {
  cJSON *a = cJSON_AddArrayToObject(o, "inline_objects");
  nnrp_inline_iter ii;
  nnrp_inline_object io;
  nnrp_inline_iter_init(&ii, b);
  while (nnrp_inline_iter_next(&ii, &io) == 1) {
    cJSON *e = jo_struct(NNRP_STRUCT_INLINE_OBJECT, &io);
    jo_add_hex(e, "data_hex", io.data.ptr, io.data.len);
    cJSON_AddItemToArray(a, e);
  }
  a = cJSON_AddArrayToObject(o, "object_references");
  for (uint32_t i = 0; i < b->ref_count; i++) {
    nnrp_object_ref r;
    if (nnrp_data_body_ref(b, i, &r) == 0)
      cJSON_AddItemToArray(a, jo_struct(NNRP_STRUCT_OBJECT_REF, &r));
  }
  a = cJSON_AddArrayToObject(o, "typed_payloads");
  for (uint32_t i = 0; i < b->typed_count; i++) {
    nnrp_typed_frame t;
    if (nnrp_data_body_typed(b, i, &t) != 0)
      continue;
    cJSON *e = jo_struct(NNRP_STRUCT_TYPED_FRAME, &t);
    jo_add_hex(e, "data_hex", t.data.ptr, t.data.len);
    cJSON_AddItemToArray(a, e);
  }
  a = cJSON_AddArrayToObject(o, "extension_frames");
  for (uint32_t i = 0; i < b->ext_count; i++) {
    nnrp_ext_frame x;
    if (nnrp_data_body_ext(b, i, &x) != 0)
      continue;
    cJSON *e = jo_struct(NNRP_STRUCT_EXT_FRAME, &x);
    jo_add_hex(e, "data_hex", x.data.ptr, x.data.len);
    cJSON_AddItemToArray(a, e);
  }
}

cJSON *jo_data_body(const nnrp_data_body *b) {
  cJSON *o = cJSON_CreateObject();
  cJSON_AddBoolToObject(o, "composed", b->composed != 0);
  if (b->composed)
    cJSON_AddItemToObject(o, "prelude",
                          jo_struct(NNRP_STRUCT_PRELUDE, &b->prelude));
  else
    cJSON_AddNullToObject(o, "prelude");
  jo_add_u64(o, "slots_inline", b->slots_inline);
  jo_add_u64(o, "slots_referenced", b->slots_referenced);
  jo_add_hex(o, "camera_hex", b->camera.ptr, b->camera.len);
  int tiles_inline =
      b->has_tensor && (b->slots_referenced & NNRP_SLOT_TILE_INDEX) == 0;
  int sections_inline =
      b->has_tensor && (b->slots_referenced & NNRP_SLOT_SECTION_TABLE) == 0;
  if (tiles_inline)
    cJSON_AddItemToObject(o, "tile_index", jo_tile_index(&b->tensor.tiles));
  else
    cJSON_AddNullToObject(o, "tile_index");
  if (sections_inline)
    cJSON_AddItemToObject(o, "sections", jo_sections(&b->tensor));
  else
    cJSON_AddItemToObject(o, "sections", cJSON_CreateArray());
  add_regions(o, b);
  return o;
}
