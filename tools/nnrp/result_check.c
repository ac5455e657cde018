/* SPDX-License-Identifier: Apache-2.0 */
/*
 * result_check.c - the client-side checks of a final RESULT_PUSH
 * (result_check.h): result class vs budget policy (session.md §7.7,
 * wire.md §6.3) and the tiles vs the demo model's output for that class.
 */
#include <stdlib.h>
#include <string.h>

#include "result_check.h"
#include "util.h"

/* Per class: the budget bit it needs and the flag it carries. */
static const struct {
  uint8_t bit;
  uint16_t flag;
  const char *flag_missing;
  const char *bit_missing;
} classes[4] = {
    {0, 0, NULL, NULL},
    {NNRP_BUDGET_ALLOW_PARTIAL, NNRP_RESULT_FLAG_PARTIAL,
     "PARTIAL without the PARTIAL flag",
     "PARTIAL without ALLOW_PARTIAL applied"},
    {NNRP_BUDGET_ALLOW_STALE_REUSE, NNRP_RESULT_FLAG_STALE,
     "STALE_REUSE without the STALE flag",
     "STALE_REUSE without ALLOW_STALE_REUSE applied"},
    {NNRP_BUDGET_ALLOW_DEGRADED, NNRP_RESULT_FLAG_FALLBACK,
     "DEGRADED without the FALLBACK flag",
     "DEGRADED without ALLOW_DEGRADED applied"},
};

/* Coverage counts of a tensor result (R3-R6). */
static const char *check_coverage(const nnrp_result_push *m) {
  if ((m->payload_kind_bitmap & NNRP_PAYLOAD_KIND_TENSOR) == 0)
    return NULL;
  if ((uint32_t)m->covered_tile_count + m->dropped_tile_count != m->tile_count)
    return "covered + dropped tiles != tile_count";
  if (m->result_class == NNRP_RESULT_CLASS_PARTIAL &&
      m->dropped_tile_count == 0)
    return "PARTIAL tensor result with no dropped tile";
  if (m->result_class == NNRP_RESULT_CLASS_COMPLETE &&
      m->dropped_tile_count != 0)
    return "COMPLETE result with dropped tiles";
  return NULL;
}

const char *check_result_class(const nnrp_result_push *m, uint8_t policy,
                               uint32_t frame_id) {
  uint8_t k = m->result_class;
  if (k > NNRP_RESULT_CLASS_DEGRADED)
    return "unknown result_class";
  if (classes[k].bit && !(policy & classes[k].bit))
    return "class not allowed by the submit's budget_policy";
  if (m->applied_budget_policy & ~policy)
    return "applied_budget_policy outside the submit's budget_policy";
  if (k == NNRP_RESULT_CLASS_COMPLETE &&
      (m->result_flags != 0 || m->applied_budget_policy != 0))
    return "COMPLETE with result flags or an applied budget policy";
  if (k != NNRP_RESULT_CLASS_COMPLETE) {
    if (!(m->result_flags & classes[k].flag))
      return classes[k].flag_missing;
    if (!(m->applied_budget_policy & classes[k].bit))
      return classes[k].bit_missing;
  }
  if (k == NNRP_RESULT_CLASS_STALE_REUSE &&
      (m->reused_frame_id == 0 || m->reused_frame_id >= frame_id))
    return "reused_frame_id does not name an earlier frame";
  if (k != NNRP_RESULT_CLASS_STALE_REUSE && m->reused_frame_id != 0)
    return "reused_frame_id set outside STALE_REUSE";
  return check_coverage(m);
}

void check_expect_init(check_expect *e, int model, const net_frame *f) {
  memset(e, 0, sizeof(*e));
  e->model = model;
  e->tiles = f->tiles;
  if (!f->has_tensor || model < 0)
    return;
  int up = model == MODEL_UPSCALE;
  e->full_len = f->tile.len * (up ? 4u : 1u);
  e->full_w = f->w * (up ? 2u : 1u);
  e->full = cli_xmalloc(e->full_len);
  e->nearest_len = f->tile.len * 4u;
  e->nearest = cli_xmalloc(e->nearest_len);
  fp16_upscale2x_nearest(f->tile.ptr, f->w, f->h, e->nearest);
  if (!up) {
    memcpy(e->full, f->tile.ptr, f->tile.len);
  } else if (fp16_upscale2x(f->tile.ptr, f->w, f->h, e->full) != 0) {
    fputs("nnrp: out of memory\n", stderr);
    exit(CLI_EXIT_INVALID);
  }
}

void check_expect_free(check_expect *e) {
  free(e->full);
  free(e->nearest);
  memset(e, 0, sizeof(*e));
}

static int same(nnrp_bytes t, const uint8_t *p, size_t n) {
  return t.len == n && (n == 0 || memcmp(t.ptr, p, n) == 0);
}

const char *check_result_tiles(const check_expect *e, const nnrp_result_push *m,
                               const nnrp_data_body *b) {
  if (e->full == NULL)
    return e->model < 0 ? "the server's model is not upscale or echo" : NULL;
  if (!b->has_tensor || b->tensor.section_count != 1)
    return "result has no tensor section";
  int degraded = m->result_class == NNRP_RESULT_CLASS_DEGRADED;
  const uint8_t *want = degraded ? e->nearest : e->full;
  size_t want_len = degraded ? e->nearest_len : e->full_len;
  nnrp_section_iter it;
  nnrp_section_view sv;
  nnrp_section_iter_init(&it, &b->tensor);
  if (!nnrp_section_iter_next(&it, &sv) || sv.tile_count != e->tiles)
    return "result tile count differs from the tiles sent";
  nnrp_tile_data_iter ti;
  nnrp_bytes t;
  uint32_t full = 0, empty = 0;
  nnrp_tile_data_iter_init(&ti, &sv);
  while (nnrp_tile_data_iter_next(&ti, &t, NULL)) {
    if (t.len == 0)
      empty++;
    else if (same(t, want, want_len))
      full++;
  }
  if (m->result_class == NNRP_RESULT_CLASS_PARTIAL)
    return full == m->covered_tile_count && empty == m->dropped_tile_count
               ? NULL
               : "PARTIAL: covered tiles differ from the model's output";
  if (full == e->tiles)
    return NULL;
  if (degraded)
    return "DEGRADED tile is not the nearest-neighbour 2x upscale";
  return e->model == MODEL_ECHO ? "tile not echoed unchanged"
                                : "tile is not the 2x bilinear upscale";
}
