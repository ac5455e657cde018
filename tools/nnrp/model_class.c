/* SPDX-License-Identifier: Apache-2.0 */
/*
 * model_class.c - the tensor of a demo model's final result per result
 * class (model.h, model_plan; session.md §7.7, wire.md §6.3 sender
 * conventions): COMPLETE (bilinear 2x), PARTIAL (half the tiles, the rest
 * dropped as zero-length entries), STALE_REUSE (the session's last full
 * result again) and DEGRADED (nearest-neighbour 2x).
 */
#include <stdlib.h>

#include "model.h"
#include "model_int.h"

/* The class actually used: non-COMPLETE classes need tiles, the upscale
 * model and (STALE_REUSE) a result to reuse. */
static uint8_t class_of(model_kind kind, const model_plan *plan,
                        const nnrp_tensor_data *t) {
  if (plan == NULL || kind != MODEL_UPSCALE || t->tile_count == 0 ||
      t->section_count == 0)
    return NNRP_RESULT_CLASS_COMPLETE;
  if (plan->result_class == NNRP_RESULT_CLASS_STALE_REUSE &&
      plan->stale == NULL)
    return NNRP_RESULT_CLASS_COMPLETE;
  if (plan->result_class > NNRP_RESULT_CLASS_DEGRADED)
    return NNRP_RESULT_CLASS_COMPLETE;
  return plan->result_class;
}

/* STALE_REUSE: a copy of the kept result (the kept one may be replaced
 * before this result is written). */
static int reuse(const model_plan *plan, nnrp_result *fin, void **owned) {
  model_snap *c = model_snap_take(&plan->stale->tensor, plan->stale->frame_id);
  if (c == NULL)
    return NNRP_ERR_NOMEM;
  fin->body.tensor = &c->tensor;
  fin->meta.reused_frame_id = c->frame_id;
  *owned = c;
  return 0;
}

/* Keeps a copy of a full result for later STALE_REUSE answers. */
static void keep(const model_plan *plan, const nnrp_tensor_data *t,
                 uint32_t frame_id) {
  model_snap *s = model_snap_take(t, frame_id);
  if (s == NULL)
    return; /* out of memory: the previous one stays */
  free(*plan->keep);
  *plan->keep = s;
}

int model_tensor_result(model_kind kind, const nnrp_received_submit *sub,
                        const model_plan *plan, model_body *mb,
                        nnrp_result *fin, void **owned, model_report *rep) {
  nnrp_tensor_data *t = &mb->st.tensor;
  uint8_t cls = class_of(kind, plan, t);
  int rc = 0;
  *owned = NULL;
  fin->meta.result_class = cls;
  rep->result_class = cls;
  if (kind != MODEL_UPSCALE)
    return 0; /* echo: unchanged */
  if (cls == NNRP_RESULT_CLASS_STALE_REUSE)
    return reuse(plan, fin, owned);
  model_up_mode mode = {cls == NNRP_RESULT_CLASS_DEGRADED, t->tile_count};
  if (cls == NNRP_RESULT_CLASS_PARTIAL) {
    mode.covered = t->tile_count / 2u;
    fin->meta.covered_tile_count = (uint16_t)mode.covered;
    fin->meta.dropped_tile_count = (uint16_t)(t->tile_count - mode.covered);
  }
  rc = model_upscale_tensor(mb, sub->meta, &mode, owned, &fin->meta.status_code,
                            rep);
  if (rc == 0 && plan != NULL && plan->keep != NULL &&
      cls == NNRP_RESULT_CLASS_COMPLETE)
    keep(plan, t, sub->frame_id);
  return rc;
}
