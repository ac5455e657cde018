/* SPDX-License-Identifier: Apache-2.0 */
/*
 * model_snap.c - flat copies of a result tensor (model.h, model_snap):
 * `nnrp serve --budget-mode` keeps the last full result of each session
 * and answers a STALE_REUSE frame (session.md §7.7) with a copy of it.
 * One malloc'd block holds the sections, tile views, ids, codecs and bytes.
 */
#include <stdlib.h>
#include <string.h>

#include "model.h"

/* Block layout: [model_snap][sections][tiles][tile_ids][codecs][bytes],
 * each part starting on an 8-byte boundary. */
typedef struct snap_layout {
  size_t sections, tiles, ids, codecs, bytes, total;
} snap_layout;

static size_t up8(size_t n) { return (n + 7u) & ~(size_t)7u; }

/* Offsets of every part; 0 when the copy would be too large. */
static int layout_of(const nnrp_tensor_data *t, snap_layout *l) {
  size_t sc = t->section_count, tc = t->tile_count, nt = sc * tc;
  uint64_t data = 0;
  for (size_t i = 0; i < sc; i++)
    for (size_t j = 0; j < tc; j++)
      data += t->sections[i].tiles[j].len;
  if (data > MODEL_MAX_RESULT_BYTES)
    return 0;
  l->sections = up8(sizeof(model_snap));
  l->tiles = l->sections + up8(sc * sizeof(nnrp_section_data));
  l->ids = l->tiles + up8(nt * sizeof(nnrp_bytes));
  l->codecs = l->ids + up8(tc * sizeof(uint16_t));
  l->bytes = l->codecs + up8(nt);
  l->total = l->bytes + (size_t)data;
  return 1;
}

/* Copies section i (descriptor, tile bytes, codecs) into the block. */
static void copy_section(const nnrp_section_data *src, uint16_t tc,
                         nnrp_section_data *dst, nnrp_bytes *tiles,
                         uint8_t *codecs, uint8_t *bytes, size_t *off) {
  *dst = *src;
  for (uint16_t j = 0; j < tc; j++) {
    tiles[j].ptr = bytes + *off;
    tiles[j].len = src->tiles[j].len;
    if (tiles[j].len)
      memcpy(bytes + *off, src->tiles[j].ptr, tiles[j].len);
    *off += tiles[j].len;
  }
  dst->tiles = tiles;
  if (src->tile_codec_ids != NULL) {
    memcpy(codecs, src->tile_codec_ids, tc);
    dst->tile_codec_ids = codecs;
  }
}

model_snap *model_snap_take(const nnrp_tensor_data *t, uint32_t frame_id) {
  snap_layout l;
  if (t == NULL || (t->section_count && t->sections == NULL) ||
      !layout_of(t, &l))
    return NULL;
  uint8_t *blk = malloc(l.total ? l.total : 1);
  if (blk == NULL)
    return NULL;
  model_snap *s = (model_snap *)(void *)blk;
  memset(s, 0, sizeof(*s));
  s->frame_id = frame_id;
  s->tensor = *t;
  s->tensor.camera.ptr = NULL;
  s->tensor.camera.len = 0;
  uint16_t tc = t->tile_count;
  nnrp_section_data *secs = (nnrp_section_data *)(void *)(blk + l.sections);
  nnrp_bytes *tiles = (nnrp_bytes *)(void *)(blk + l.tiles);
  if (t->tile_ids != NULL) {
    uint16_t *ids = (uint16_t *)(void *)(blk + l.ids);
    memcpy(ids, t->tile_ids, (size_t)tc * sizeof(*ids));
    s->tensor.tile_ids = ids;
  }
  size_t off = 0;
  for (uint16_t i = 0; i < t->section_count; i++)
    copy_section(&t->sections[i], tc, &secs[i], tiles + (size_t)i * tc,
                 blk + l.codecs + (size_t)i * tc, blk + l.bytes, &off);
  s->tensor.sections = t->section_count ? secs : NULL;
  return s;
}
