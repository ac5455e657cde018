/* SPDX-License-Identifier: Apache-2.0 */
/*
 * client_ops.c - the client calls of nnrp_runtime.h that submit, wait and
 * close (api-seed.md §5.1 mirrored per §11): submit / submit_nowait,
 * receive_result, discard_frame, cancel_frame, ping, flush, close, and the
 * read-only accessors. Every wait runs the runtime's loop (loop.c).
 */
#include <string.h>

#include "runtime/client_int.h"

static nnrp_runtime *rt_of(const nnrp_client_session *cs) {
  return cs->conn.rt;
}

int nnrp__client_closed_err(const nnrp_client_session *cs) {
  return cs->latched_err ? cs->latched_err : NNRP_ERR_CLOSED;
}

static int closed_err(const nnrp_client_session *cs) {
  return nnrp__client_closed_err(cs);
}

/* ---- submit -------------------------------------------------------------- */

/* A slot is free (session.md §8.1: window, credit, pauses), or waiting is
 * pointless. A pause with retry_after ends in the session's timer: run it
 * first when it is due, so the end is seen at once (also with timeout 0). */
static int slot_ready(void *ctx) {
  nnrp_client_session *cs = ctx;
  if (nnrp_session_can_submit(cs->conn.s))
    return 1;
  nnrp__conn_refresh(&cs->conn);
  return nnrp_session_can_submit(cs->conn.s) ||
         nnrp_session_get_state(cs->conn.s) != NNRP_STATE_ACTIVE;
}

int nnrp_client_session_submit_nowait(nnrp_client_session *cs,
                                      const nnrp_submit *req, int timeout_ms,
                                      uint32_t *frame_id) {
  if (cs == NULL || req == NULL || cs->deleted)
    return NNRP_ERR_INVALID_ARGUMENT;
  if (!slot_ready(cs))
    cs->fstats.submit_waits++;
  int rc = nnrp__rt_wait(rt_of(cs), slot_ready, cs, timeout_ms);
  if (rc == NNRP_ERR_TIMEOUT)
    return NNRP_ERR_WOULD_BLOCK;
  if (rc != 0)
    return rc;
  nnrp_session_state st = nnrp_session_get_state(cs->conn.s);
  if (st == NNRP_STATE_CLOSED)
    return closed_err(cs);
  if (st != NNRP_STATE_ACTIVE)
    return NNRP_ERR_INVALID_STATE;
  uint64_t now = uv_hrtime();
  uint32_t id = 0;
  rc = nnrp_session_submit(cs->conn.s, req, &id, now);
  if (rc != 0)
    return rc == NNRP_ERR_CLOSED ? closed_err(cs) : rc;
  if (nnrp__router_track(&cs->router, id) != 0) {
    (void)nnrp_session_discard(cs->conn.s, id, now);
    nnrp__conn_pump(&cs->conn);
    return NNRP_ERR_NOMEM;
  }
  nnrp__conn_pump(&cs->conn); /* starts the write at once */
  if (frame_id)
    *frame_id = id;
  return 0;
}

uint64_t nnrp__deadline(int timeout_ms) {
  if (timeout_ms < 0)
    return UINT64_MAX;
  return uv_hrtime() + (uint64_t)timeout_ms * 1000000u;
}

/* Milliseconds left until deadline (ns); -1 stays -1. */
int nnrp__left_ms(int timeout_ms, uint64_t deadline) {
  if (timeout_ms < 0)
    return -1;
  uint64_t now = uv_hrtime();
  if (now >= deadline)
    return 0;
  uint64_t ms = (deadline - now + 999999u) / 1000000u;
  return ms > 0x7FFFFFFF ? 0x7FFFFFFF : (int)ms;
}

int nnrp_client_session_submit(nnrp_client_session *cs, const nnrp_submit *req,
                               int timeout_ms, uint32_t *frame_id,
                               nnrp_client_result **out) {
  if (out == NULL)
    return NNRP_ERR_INVALID_ARGUMENT;
  *out = NULL;
  uint64_t deadline =
      uv_hrtime() + (timeout_ms > 0 ? (uint64_t)timeout_ms * 1000000u : 0);
  uint32_t id = 0;
  int rc = nnrp_client_session_submit_nowait(cs, req, timeout_ms, &id);
  if (rc != 0)
    return rc;
  if (frame_id)
    *frame_id = id;
  return nnrp_client_session_receive_result(
      cs, id, nnrp__left_ms(timeout_ms, deadline), out);
}

/* ---- results ------------------------------------------------------------- */

typedef struct result_wait {
  const nnrp_client_session *cs;
  uint32_t frame_id;
} result_wait;

static int result_ready(void *ctx) {
  const result_wait *w = ctx;
  return nnrp__router_ready(&w->cs->router, w->frame_id) != 0 || w->cs->closed;
}

int nnrp_client_session_receive_result(nnrp_client_session *cs,
                                       uint32_t frame_id, int timeout_ms,
                                       nnrp_client_result **out) {
  if (cs == NULL || out == NULL || cs->deleted)
    return NNRP_ERR_INVALID_ARGUMENT;
  *out = NULL;
  if (frame_id &&
      nnrp__router_ready(&cs->router, frame_id) == NNRP_ERR_NOT_FOUND)
    return NNRP_ERR_NOT_FOUND;
  result_wait w = {cs, frame_id};
  int rc = nnrp__rt_wait(rt_of(cs), result_ready, &w, timeout_ms);
  if (rc != 0)
    return rc;
  nnrp_client_result *r = nnrp__router_take(&cs->router, frame_id);
  if (r == NULL) {
    if (frame_id &&
        nnrp__router_ready(&cs->router, frame_id) == NNRP_ERR_NOT_FOUND)
      return NNRP_ERR_NOT_FOUND;
    return closed_err(cs);
  }
  nnrp__conn_resume(&cs->conn); /* room in the router again */
  *out = r;
  return 0;
}

int nnrp_client_session_discard_frame(nnrp_client_session *cs,
                                      uint32_t frame_id) {
  if (cs == NULL || cs->deleted)
    return NNRP_ERR_INVALID_ARGUMENT;
  int rc = nnrp__router_discard(&cs->router, frame_id);
  if (rc != 0)
    return rc;
  /* NOT_FOUND when the session already ended the frame: nothing to send. */
  (void)nnrp_session_discard(cs->conn.s, frame_id, uv_hrtime());
  nnrp__conn_pump(&cs->conn);
  nnrp__conn_resume(&cs->conn);
  return 0;
}

int nnrp_client_session_cancel_frame(nnrp_client_session *cs,
                                     uint32_t frame_id) {
  if (cs == NULL || cs->deleted)
    return NNRP_ERR_INVALID_ARGUMENT;
  int rc = nnrp_session_cancel(cs->conn.s, frame_id, uv_hrtime());
  nnrp__conn_pump(&cs->conn);
  return rc;
}

/* ---- ping, flush, close -------------------------------------------------- */

static int pong_seen(void *ctx) {
  const nnrp_client_session *cs = ctx;
  return !cs->ping_wait || cs->closed;
}

int nnrp_client_session_ping(nnrp_client_session *cs, int timeout_ms,
                             uint64_t *rtt_ns) {
  if (cs == NULL || cs->deleted)
    return NNRP_ERR_INVALID_ARGUMENT;
  nnrp_session_state st = nnrp_session_get_state(cs->conn.s);
  if (st == NNRP_STATE_CLOSED)
    return closed_err(cs);
  if (st != NNRP_STATE_ACTIVE && st != NNRP_STATE_DRAINING)
    return NNRP_ERR_INVALID_STATE;
  uint64_t trace = uv_hrtime();
  int rc = nnrp_session_ping(cs->conn.s, trace, trace);
  if (rc != 0)
    return rc;
  cs->ping_trace = trace;
  cs->ping_wait = 1;
  nnrp__conn_pump(&cs->conn);
  rc = nnrp__rt_wait(rt_of(cs), pong_seen, cs, timeout_ms);
  if (rc == 0 && cs->ping_wait)
    rc = closed_err(cs);
  cs->ping_wait = 0;
  if (rc == 0 && rtt_ns)
    *rtt_ns = cs->pong_at - trace;
  return rc;
}

static int flushed(void *ctx) {
  const nnrp_client_session *cs = ctx;
  return !nnrp__conn_output_pending(&cs->conn) ||
         !nnrp__conn_can_write(&cs->conn);
}

int nnrp_client_session_flush(nnrp_client_session *cs, int timeout_ms) {
  if (cs == NULL || cs->deleted)
    return NNRP_ERR_INVALID_ARGUMENT;
  int rc = nnrp__rt_wait(rt_of(cs), flushed, cs, timeout_ms);
  if (rc != 0)
    return rc;
  return nnrp__conn_output_pending(&cs->conn) ? NNRP_ERR_CLOSED : 0;
}

static int conn_closed(void *ctx) {
  const nnrp_client_session *cs = ctx;
  return cs->conn.closed;
}

int nnrp_client_session_close(nnrp_client_session *cs, int timeout_ms) {
  if (cs == NULL || cs->deleted)
    return NNRP_ERR_INVALID_ARGUMENT;
  if (cs->conn.closed)
    return 0;
  (void)nnrp_session_close(cs->conn.s, uv_hrtime()); /* INIT: at once */
  nnrp__conn_pump(&cs->conn);
  if (cs->dial)
    nnrp__tcp_dial_cancel(cs->dial); /* on_dialed reports and closes */
  if (timeout_ms == 0)
    return cs->conn.closed ? 0 : NNRP_ERR_WOULD_BLOCK;
  int rc = nnrp__rt_wait(rt_of(cs), conn_closed, cs, timeout_ms);
  if (rc == 0 || rc == NNRP_ERR_INVALID_STATE)
    return rc;
  /* Out of time: end it now. In-flight frames fail (connection lost). */
  (void)nnrp_session_recv_eof(cs->conn.s, uv_hrtime());
  nnrp__conn_pump(&cs->conn);
  nnrp__conn_abort(&cs->conn);
  (void)nnrp__rt_wait(rt_of(cs), conn_closed, cs, -1);
  return NNRP_ERR_TIMEOUT;
}

/* ---- accessors ------------------------------------------------------------
 */

nnrp_session_state nnrp_client_session_state(const nnrp_client_session *cs) {
  return nnrp_session_get_state(cs->conn.s);
}

uint32_t nnrp_client_session_id(const nnrp_client_session *cs) {
  return nnrp_session_id(cs->conn.s);
}

const nnrp_server_hello_ack *
nnrp_client_session_server_hello(const nnrp_client_session *cs) {
  return nnrp_session_server_hello(cs->conn.s);
}

nnrp_bytes nnrp_client_session_model_name(const nnrp_client_session *cs) {
  nnrp_bytes b;
  b.ptr = cs->model_len ? cs->model_name : NULL;
  b.len = cs->model_len;
  return b;
}

uint32_t nnrp_client_session_in_flight(const nnrp_client_session *cs) {
  return nnrp_session_in_flight(cs->conn.s);
}

int nnrp_client_session_can_submit(const nnrp_client_session *cs) {
  return nnrp_session_can_submit(cs->conn.s);
}

uint32_t nnrp_client_session_queued_results(const nnrp_client_session *cs) {
  return cs->router.count;
}

int nnrp_client_session_last_error(const nnrp_client_session *cs,
                                   nnrp_error_record *rec, int *os_err) {
  if (rec) {
    if (cs->closed || cs->peer_error)
      *rec = cs->err_rec;
    else
      memset(rec, 0, sizeof(*rec));
  }
  if (os_err)
    *os_err = cs->conn.os_err;
  if (cs->closed)
    return cs->latched_err;
  return cs->peer_error ? NNRP_ERR_PEER_ERROR : 0;
}

const nnrp_session *nnrp_client_session_session(const nnrp_client_session *cs) {
  return cs->conn.s;
}
