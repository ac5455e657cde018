/* SPDX-License-Identifier: Apache-2.0 */
/*
 * serve_budget.c - `nnrp serve --budget-mode` (serve.h): when a session's
 * queue is deep and the frame's budget_policy allows it, the demo model
 * answers PARTIAL, STALE_REUSE or DEGRADED instead of COMPLETE, or drops
 * the frame early (ALLOW_DROP) with a RESULT_HINT (session.md §7.7, §8.5).
 */
#include <stdlib.h>
#include <string.h>

#include "serve.h"

/* The degraded classes in rotation order with their budget bits. */
static const struct {
  uint8_t cls;
  uint8_t bit;
} degraded[] = {
    {NNRP_RESULT_CLASS_PARTIAL, NNRP_BUDGET_ALLOW_PARTIAL},
    {NNRP_RESULT_CLASS_STALE_REUSE, NNRP_BUDGET_ALLOW_STALE_REUSE},
    {NNRP_RESULT_CLASS_DEGRADED, NNRP_BUDGET_ALLOW_DEGRADED},
};

/* 1 when the frame has tiles a degraded answer can act on. */
static int has_tiles(const nnrp_received_submit *sub) {
  const nnrp_frame_submit *m = sub->meta;
  return (m->payload_kind_bitmap & NNRP_PAYLOAD_KIND_TENSOR) != 0 &&
         m->tile_count != 0 && m->section_count != 0;
}

serve_action serve_budget_plan(const serve_ctx *x, serve_sess *s,
                               const nnrp_received_submit *sub,
                               model_plan *plan) {
  memset(plan, 0, sizeof(*plan));
  plan->result_class = NNRP_RESULT_CLASS_COMPLETE;
  if (!x->a.budget_mode || x->a.model != MODEL_UPSCALE)
    return SERVE_ANSWER;
  plan->keep = &s->last;
  uint8_t policy = sub->meta->budget_policy;
  if (nnrp_server_session_in_flight(s->ss) < x->a.budget_depth)
    return SERVE_ANSWER;
  size_t n = sizeof(degraded) / sizeof(degraded[0]);
  for (size_t k = 0; has_tiles(sub) && k < n; k++) {
    size_t i = (s->turn + k) % n;
    if ((policy & degraded[i].bit) == 0)
      continue;
    s->turn = (uint32_t)(i + 1u);
    /* Nothing to reuse yet: this turn makes a COMPLETE result (kept). */
    if (degraded[i].cls != NNRP_RESULT_CLASS_STALE_REUSE || s->last != NULL)
      plan->result_class = degraded[i].cls;
    plan->stale = s->last;
    return SERVE_ANSWER;
  }
  return (policy & NNRP_BUDGET_ALLOW_DROP) ? SERVE_EARLY_DROP : SERVE_ANSWER;
}

/* Congestion of a session with d unanswered frames (session.md §8.5,
 * without the hysteresis band). */
static uint32_t congestion(const serve_ctx *x, uint32_t d) {
  uint32_t m = x->a.max_concurrent;
  if (d == 0)
    return NNRP_CONGESTION_NONE;
  if (m == 0)
    return NNRP_CONGESTION_ELEVATED;
  if (d >= m)
    return NNRP_CONGESTION_SATURATED;
  return (uint64_t)d * 4u >= (uint64_t)m * 3u ? NNRP_CONGESTION_ELEVATED
                                              : NNRP_CONGESTION_STEADY;
}

int serve_early_drop(serve_ctx *x, serve_sess *s, uint32_t frame_id) {
  nnrp_result_hint h;
  memset(&h, 0, sizeof(h));
  h.applied_budget_policy = NNRP_HINT_BUDGET_DROP;
  h.congestion_state = congestion(x, nnrp_server_session_in_flight(s->ss));
  h.reason = NNRP_HINT_REASON_QUEUE_FULL;
  if (nnrp_server_session_send_result_drop(s->ss, frame_id, 0) <= 0)
    return 0;
  /* Application drops get no automatic hint (§8.5): send our own. */
  (void)nnrp_server_session_send_result_hint(s->ss, frame_id, &h);
  x->n_drops++;
  x->n_early_drops++;
  return 1;
}

void serve_budget_free(serve_sess *s) {
  free(s->last);
  s->last = NULL;
}

void serve_log_classes(const serve_ctx *x) {
  serve_log(
      "result classes: complete %llu, partial %llu, stale_reuse %llu, "
      "degraded %llu; early drops %llu",
      (unsigned long long)x->n_class[0], (unsigned long long)x->n_class[1],
      (unsigned long long)x->n_class[2], (unsigned long long)x->n_class[3],
      (unsigned long long)x->n_early_drops);
}
