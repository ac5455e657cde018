/* SPDX-License-Identifier: Apache-2.0 */
/*
 * server_ext.c - the server runtime's view of the session patch
 * (session.md §10: policy hook, rate limit, effective state) and of the
 * object cache (session.md §9: counters, server-side invalidation, and the
 * objects of a received REFERENCE / MIXED submit resolved from the cache,
 * read through the held copy).
 */
#include <string.h>

#include "runtime/server_int.h"

int nnrp_server_session_set_patch_policy(nnrp_server_session *ss,
                                         nnrp_patch_policy_fn fn, void *user) {
  if (ss == NULL || ss->deleted)
    return NNRP_ERR_INVALID_ARGUMENT;
  return nnrp_session_set_patch_policy(ss->conn.s, fn, user);
}

int nnrp_server_session_set_patch_rate_limit(nnrp_server_session *ss,
                                             uint32_t count,
                                             uint32_t window_ms) {
  if (ss == NULL || ss->deleted)
    return NNRP_ERR_INVALID_ARGUMENT;
  return nnrp_session_set_patch_rate_limit(ss->conn.s, count, window_ms);
}

int nnrp_server_session_effective_profile(const nnrp_server_session *ss,
                                          nnrp_effective_profile *out) {
  if (ss == NULL)
    return NNRP_ERR_INVALID_ARGUMENT;
  return nnrp_session_effective_profile(ss->conn.s, out);
}

int nnrp_server_session_cache_stats(const nnrp_server_session *ss,
                                    nnrp_cache_stats *out) {
  if (ss == NULL || out == NULL)
    return NNRP_ERR_INVALID_ARGUMENT;
  return nnrp_session_cache_stats(ss->conn.s, out);
}

int nnrp_server_session_invalidate_cache(nnrp_server_session *ss,
                                         const nnrp_cache_invalidate_req *req) {
  if (ss == NULL || req == NULL || ss->deleted)
    return NNRP_ERR_INVALID_ARGUMENT;
  int rc = nnrp_session_invalidate_cache(ss->conn.s, req, uv_hrtime());
  nnrp__conn_pump(&ss->conn);
  if (rc == NNRP_ERR_CLOSED && ss->latched_err)
    rc = ss->latched_err;
  return rc;
}

/* The SUBMIT event the session raised, rebuilt over the held copy (packet
 * and resolved objects), for the session's slot readers. */
static int as_event(const nnrp_received_submit *sub, nnrp_event *ev) {
  if (sub == NULL || sub->packet == NULL)
    return NNRP_ERR_INVALID_ARGUMENT;
  memset(ev, 0, sizeof(*ev));
  ev->type = NNRP_EV_SUBMIT;
  ev->frame_id = sub->frame_id;
  ev->view_id = sub->view_id;
  ev->loss_tolerance = sub->loss_tolerance;
  ev->packet = sub->packet;
  ev->received_at = sub->received_at;
  uint8_t n = sub->resolved_count;
  if (n > NNRP_MAX_RESOLVED_OBJECTS)
    n = NNRP_MAX_RESOLVED_OBJECTS;
  memcpy(ev->resolved, sub->resolved, n * sizeof(sub->resolved[0]));
  ev->resolved_count = n;
  return 0;
}

int nnrp_received_submit_object(const nnrp_received_submit *sub,
                                uint16_t object_kind, nnrp_bytes *out) {
  nnrp_event ev;
  int rc = as_event(sub, &ev);
  return rc ? rc : nnrp_session_submit_object(&ev, object_kind, out);
}

int nnrp_received_submit_tensor(const nnrp_received_submit *sub,
                                nnrp_tensor_view *out) {
  nnrp_event ev;
  int rc = as_event(sub, &ev);
  return rc ? rc : nnrp_session_submit_tensor(&ev, out);
}
