/* SPDX-License-Identifier: Apache-2.0 */
/*
 * server_flow.c - flow control of the server runtime (session.md §8,
 * api-seed.md §8 send_flow_update): the per-session credit policy and
 * overload switch, the server-config defaults applied to every accepted
 * session, automatic overload signalling (PAUSE with retry_after at a
 * high-water mark of unanswered submits, RESUME below a low-water mark),
 * and the counters of nnrp_server_flow_stats.
 */
#include <string.h>

#include "runtime/server_int.h"

#define MS_NS 1000000ull

static int closed_err(const nnrp_server_session *ss) {
  return ss->latched_err ? ss->latched_err : NNRP_ERR_CLOSED;
}

int nnrp__ss_flow_init(nnrp_server_session *ss, nnrp_session *s) {
  const nnrp_server_config *cfg = &ss->srv->cfg;
  uint64_t now = uv_hrtime();
  int64_t rc = 0;
  if (cfg->credit_window)
    rc = nnrp_session_set_credit_policy(s, cfg->credit_window, now);
  if (rc >= 0 && cfg->patch_policy)
    rc = nnrp_session_set_patch_policy(s, cfg->patch_policy, cfg->patch_user);
  if (rc >= 0)
    rc = nnrp_session_set_patch_rate_limit(s, cfg->patch_rate_limit,
                                           cfg->patch_rate_window_ms);
  if (rc < 0)
    return (int)rc;
  uint32_t high = cfg->overload_high_water;
  if (high == 0)
    high = (uint32_t)(((uint64_t)ss->max_held * 3u) / 4u);
  if (high == 0)
    high = 1;
  uint32_t low = cfg->overload_low_water ? cfg->overload_low_water : high / 2;
  if (low > high)
    low = high;
  if (low == 0)
    low = 1; /* "below 1" = nothing unanswered: the pause always ends */
  ss->high_water = high;
  ss->low_water = low;
  return 0;
}

void nnrp__ss_flow_event(nnrp_server_session *ss, const nnrp_event *ev) {
  nnrp_server_flow_stats *st = &ss->fstats;
  switch (ev->type) {
  case NNRP_EV_SUBMIT:
    st->submits_received++;
    break;
  case NNRP_EV_FLOW_UPDATE:
    st->flow_updates_received++;
    break;
  case NNRP_EV_CANCELLED:
    st->cancelled_frames++;
    break;
  case NNRP_EV_PEER_ERROR:
    st->peer_errors++;
    break;
  case NNRP_EV_PATCH:
    st->patches++;
    break;
  default:
    break;
  }
}

/* ---- overload ------------------------------------------------------------ */

/* Tells the session the combined overload state (application or automatic)
 * when it changed, or renews the PAUSE. @return as set_overloaded. */
static int64_t apply(nnrp_server_session *ss, int renew, uint64_t now) {
  uint8_t on = ss->app_over || ss->auto_over;
  if (!renew && on == ss->over_sent)
    return 0;
  uint32_t retry =
      ss->app_over ? ss->app_retry_ms : ss->srv->cfg.overload_retry_after_ms;
  int64_t rc = nnrp_session_set_overloaded(ss->conn.s, on, retry, now);
  if (rc < 0)
    return rc;
  ss->over_sent = on;
  if (rc > 0) {
    if (on)
      ss->fstats.pauses_sent++;
    else
      ss->fstats.resumes_sent++;
  }
  if (on) {
    ss->last_pause_at = now;
    ss->submits_at_pause = ss->fstats.submits_received;
  }
  return rc;
}

/* A submit arrived after the client's pause ran out while still over the
 * low-water mark: pause it again. */
static int renew_due(const nnrp_server_session *ss, uint64_t now) {
  uint32_t retry = ss->srv->cfg.overload_retry_after_ms;
  return retry != 0 && !ss->app_over &&
         ss->fstats.submits_received > ss->submits_at_pause &&
         now >= ss->last_pause_at + (uint64_t)retry * MS_NS;
}

void nnrp__ss_flow_pumped(nnrp_server_session *ss) {
  if (!ss->srv->cfg.auto_overload ||
      nnrp_session_get_state(ss->conn.s) != NNRP_STATE_ACTIVE)
    return;
  uint32_t d = nnrp_session_in_flight(ss->conn.s);
  uint64_t now = uv_hrtime();
  if (!ss->auto_over) {
    if (d < ss->high_water)
      return;
    ss->auto_over = 1;
    (void)apply(ss, 0, now);
  } else if (d < ss->low_water) {
    ss->auto_over = 0;
    (void)apply(ss, 0, now);
  } else if (renew_due(ss, now)) {
    (void)apply(ss, 1, now);
  }
}

/* ---- API ----------------------------------------------------------------- */

int64_t nnrp_server_session_send_flow_update(nnrp_server_session *ss,
                                             const nnrp_flow_update_req *req) {
  if (ss == NULL || req == NULL || ss->deleted)
    return NNRP_ERR_INVALID_ARGUMENT;
  int64_t rc = nnrp_session_send_flow_update(ss->conn.s, req, uv_hrtime());
  nnrp__conn_pump(&ss->conn);
  return rc == NNRP_ERR_CLOSED ? closed_err(ss) : rc;
}

int64_t nnrp_server_session_set_credit_policy(nnrp_server_session *ss,
                                              uint16_t window) {
  if (ss == NULL || ss->deleted)
    return NNRP_ERR_INVALID_ARGUMENT;
  int64_t rc = nnrp_session_set_credit_policy(ss->conn.s, window, uv_hrtime());
  nnrp__conn_pump(&ss->conn);
  return rc == NNRP_ERR_CLOSED ? closed_err(ss) : rc;
}

int64_t nnrp_server_session_set_overloaded(nnrp_server_session *ss, int on,
                                           uint32_t retry_after_ms) {
  if (ss == NULL || ss->deleted)
    return NNRP_ERR_INVALID_ARGUMENT;
  ss->app_over = on != 0;
  ss->app_retry_ms = on ? retry_after_ms : 0;
  /* On: always sent (a renewal extends a timed pause); off: only when the
   * automatic rule does not keep the session paused. */
  int64_t rc = apply(ss, on != 0, uv_hrtime());
  nnrp__conn_pump(&ss->conn);
  return rc == NNRP_ERR_CLOSED ? closed_err(ss) : rc;
}

int nnrp_server_session_flow_stats(const nnrp_server_session *ss,
                                   nnrp_server_flow_stats *out) {
  if (ss == NULL || out == NULL)
    return NNRP_ERR_INVALID_ARGUMENT;
  *out = ss->fstats;
  out->struct_size = (uint32_t)sizeof(*out);
  out->in_flight = nnrp_session_in_flight(ss->conn.s);
  out->held_submits = ss->held_count;
  out->held_peak = ss->held_peak;
  out->held_bytes = ss->held_bytes;
  out->held_bytes_peak = ss->held_bytes_peak;
  out->session_mem_bytes = ss->memc.used;
  out->session_mem_peak = ss->memc.peak;
  out->input_stalls = ss->conn.input_stalls;
  out->overloaded = ss->over_sent;
  out->auto_overloaded = ss->auto_over;
  return 0;
}
