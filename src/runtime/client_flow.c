/* SPDX-License-Identifier: Apache-2.0 */
/*
 * client_flow.c - flow control of the client runtime (session.md §8,
 * api-seed.md §5.1): pause_submit / resume_submit / auto-pause,
 * flow_state, send_flow_update, the result_hints() stream (a bounded ring
 * of the newest hints, oldest dropped and counted), the counters for
 * benchmarks, and the per-event bookkeeping that also routes CACHE_ACK,
 * PATCH_ACK and SENT events to the records of client_cache.c /
 * client_patch.c.
 */
#include <stdlib.h>
#include <string.h>

#include "runtime/client_int.h"

#define PAUSE_BITS                                                             \
  (NNRP_SUBMIT_BLOCKED_PEER_PAUSE | NNRP_SUBMIT_BLOCKED_HINT_PAUSE)

int nnrp__cflow_init(nnrp_client_session *cs, uint32_t cap) {
  cs->hint_cap = 0;
  cs->hint_head = cs->hint_n = 0;
  cs->hints = NULL;
  if (cap == 0)
    return 0;
  cs->hints = calloc(cap, sizeof(*cs->hints));
  if (cs->hints == NULL)
    return NNRP_ERR_NOMEM;
  cs->hint_cap = cap;
  return 0;
}

void nnrp__cflow_free(nnrp_client_session *cs) {
  free(cs->hints);
  cs->hints = NULL;
  cs->hint_cap = cs->hint_head = cs->hint_n = 0;
}

/* ---- bookkeeping ------------------------------------------------------- */

static void hint_push(nnrp_client_session *cs, const nnrp_event *ev) {
  nnrp_client_flow_stats *st = &cs->fstats;
  const nnrp_result_hint *h = &ev->packet->m.result_hint;
  st->hints_received++;
  if (h->congestion_state == NNRP_CONGESTION_SATURATED)
    st->hints_saturated++;
  if (cs->hint_cap == 0) {
    st->hints_dropped++;
    return;
  }
  if (cs->hint_n == cs->hint_cap) { /* full: the oldest goes */
    cs->hint_head = (cs->hint_head + 1u) % cs->hint_cap;
    cs->hint_n--;
    st->hints_dropped++;
  }
  nnrp__hint_rec *r = &cs->hints[(cs->hint_head + cs->hint_n) % cs->hint_cap];
  r->hint = *h;
  r->frame_id = ev->packet->hdr.frame_id;
  cs->hint_n++;
}

/* Counts transitions into "paused" by the peer or by auto-pause, as seen
 * after each event and each pump pass (a pause and its end inside one read
 * may go unseen). */
static void reconcile(nnrp_client_session *cs) {
  uint32_t b = nnrp_session_submit_blocked(cs->conn.s);
  uint8_t peer = (b & NNRP_SUBMIT_BLOCKED_PEER_PAUSE) != 0;
  uint8_t hint = (b & NNRP_SUBMIT_BLOCKED_HINT_PAUSE) != 0;
  if (b & NNRP_SUBMIT_BLOCKED_STATE)
    peer = hint = 0;
  if (peer && !cs->was_peer_paused) {
    cs->fstats.peer_pauses++;
    cs->fstats.pauses_observed++;
  }
  if (hint && !cs->was_hint_paused) {
    cs->fstats.hint_pauses++;
    cs->fstats.pauses_observed++;
  }
  cs->was_peer_paused = peer;
  cs->was_hint_paused = hint;
}

void nnrp__cflow_pumped(nnrp_client_session *cs) { reconcile(cs); }

/* CACHE_ACK / SENT of a put, PATCH_ACK of a patch: the record's own
 * bookkeeping, and the application's user_data for the event. */
static const nnrp_event *records(nnrp_client_session *cs, const nnrp_event *ev,
                                 nnrp_event *tmp) {
  if (ev->type == NNRP_EV_CACHE_ACK ||
      (ev->type == NNRP_EV_SENT && ev->frame_id == 0)) {
    nnrp__cput *p = nnrp__cput_find(cs, ev->user_data);
    if (p == NULL)
      return ev;
    *tmp = *ev;
    tmp->user_data = p->app_ud;
    nnrp__cput_event(cs, p, ev); /* may free p */
    return tmp;
  }
  if (ev->type == NNRP_EV_PATCH_ACK) {
    nnrp__cpatch *p = nnrp__cpatch_find(cs, ev->user_data);
    if (p == NULL)
      return ev;
    *tmp = *ev;
    tmp->user_data = p->app_ud;
    nnrp__cpatch_event(cs, p, ev);
    return tmp;
  }
  return ev;
}

const nnrp_event *nnrp__cflow_event(nnrp_client_session *cs,
                                    const nnrp_event *ev, nnrp_event *tmp) {
  switch (ev->type) {
  case NNRP_EV_RESULT_HINT:
    hint_push(cs, ev);
    reconcile(cs);
    break;
  case NNRP_EV_FLOW_UPDATE:
    cs->fstats.flow_updates_received++;
    reconcile(cs);
    break;
  case NNRP_EV_DROP:
    cs->fstats.drops_received++;
    break;
  case NNRP_EV_CLOSED:
    cs->closed = 1; /* (latched by client.c right after) */
    nnrp__crec_closed(cs);
    break;
  default:
    break;
  }
  return records(cs, ev, tmp);
}

/* ---- gates and flow state ---------------------------------------------- */

int nnrp_client_session_pause_submit(nnrp_client_session *cs) {
  if (cs == NULL || cs->deleted)
    return NNRP_ERR_INVALID_ARGUMENT;
  return nnrp_session_pause_submit(cs->conn.s);
}

int nnrp_client_session_resume_submit(nnrp_client_session *cs) {
  if (cs == NULL || cs->deleted)
    return NNRP_ERR_INVALID_ARGUMENT;
  return nnrp_session_resume_submit(cs->conn.s);
}

int nnrp_client_session_set_auto_pause(nnrp_client_session *cs, int on) {
  if (cs == NULL || cs->deleted)
    return NNRP_ERR_INVALID_ARGUMENT;
  int rc = nnrp_session_set_auto_pause(cs->conn.s, on);
  if (rc == 0)
    reconcile(cs);
  return rc;
}

int nnrp_client_session_flow_state(nnrp_client_session *cs, uint8_t scope,
                                   nnrp_flow_state *out) {
  if (cs == NULL || cs->deleted || out == NULL)
    return NNRP_ERR_INVALID_ARGUMENT;
  nnrp__conn_refresh(&cs->conn);
  return nnrp_session_flow_state(cs->conn.s, scope, out);
}

uint32_t nnrp_client_session_submit_blocked(nnrp_client_session *cs) {
  if (cs == NULL || cs->deleted)
    return NNRP_SUBMIT_BLOCKED_STATE;
  nnrp__conn_refresh(&cs->conn);
  return nnrp_session_submit_blocked(cs->conn.s);
}

int64_t nnrp_client_session_send_flow_update(nnrp_client_session *cs,
                                             const nnrp_flow_update_req *req) {
  if (cs == NULL || cs->deleted || req == NULL)
    return NNRP_ERR_INVALID_ARGUMENT;
  int64_t rc = nnrp_session_send_flow_update(cs->conn.s, req, uv_hrtime());
  nnrp__conn_pump(&cs->conn);
  return rc == NNRP_ERR_CLOSED ? nnrp__client_closed_err(cs) : rc;
}

/* ---- result_hints() ---------------------------------------------------- */

static int hint_ready(void *ctx) {
  const nnrp_client_session *cs = ctx;
  return cs->hint_n > 0 || cs->closed;
}

int nnrp_client_session_next_hint(nnrp_client_session *cs, int timeout_ms,
                                  nnrp_result_hint *out, uint32_t *frame_id) {
  if (cs == NULL || cs->deleted || out == NULL)
    return NNRP_ERR_INVALID_ARGUMENT;
  int rc = nnrp__rt_wait(cs->conn.rt, hint_ready, cs, timeout_ms);
  if (rc != 0)
    return rc;
  if (cs->hint_n == 0)
    return nnrp__client_closed_err(cs);
  const nnrp__hint_rec *r = &cs->hints[cs->hint_head];
  *out = r->hint;
  if (frame_id)
    *frame_id = r->frame_id;
  cs->hint_head = (cs->hint_head + 1u) % cs->hint_cap;
  cs->hint_n--;
  return 0;
}

int nnrp_client_session_flow_stats(const nnrp_client_session *cs,
                                   nnrp_client_flow_stats *out) {
  if (cs == NULL || out == NULL)
    return NNRP_ERR_INVALID_ARGUMENT;
  *out = cs->fstats;
  out->struct_size = (uint32_t)sizeof(*out);
  out->queued_hints = cs->hint_n;
  out->session_mem_bytes = cs->memc.used;
  out->session_mem_peak = cs->memc.peak;
  return 0;
}
