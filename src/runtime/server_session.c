/* SPDX-License-Identifier: Apache-2.0 */
/*
 * server_session.c - one server connection and session of the server
 * runtime: creation on accept, session events (handshake -> accept queue or
 * on_session, submits -> held copies -> queues or on_submit, sent / cancel /
 * close bookkeeping), the per-session API (receive_submit, send_result,
 * send_result_drop, send_result_hint, release, flush, close, del) and the
 * rule for freeing a session (api-seed.md §8 mirrored per §11).
 */
#include <stdlib.h>
#include <string.h>

#include "runtime/server_int.h"

static uint64_t now_ns(void) { return uv_hrtime(); }

static int closed_err(const nnrp_server_session *ss) {
  return ss->latched_err ? ss->latched_err : NNRP_ERR_CLOSED;
}

/* ---- freeing ------------------------------------------------------------- */

void nnrp__ss_maybe_free(nnrp_server_session *ss) {
  if (!ss->conn.closed)
    return;
  int unowned_done = !ss->owned && ss->held_count == 0;
  if (!ss->deleted && !unowned_done)
    return;
  nnrp_server *srv = ss->srv;
  nnrp_runtime *rt = ss->conn.rt;
  nnrp__held_free_all(ss);
  if (nnrp__list_linked(&ss->acceptq))
    nnrp__list_remove(&ss->acceptq);
  nnrp__list_remove(&ss->node);
  srv->session_count--;
  nnrp__conn_fini(&ss->conn);
  free(ss);
  rt->live--;
  nnrp__server_maybe_free(srv);
}

void nnrp_server_session_del(nnrp_server_session *ss) {
  if (ss == NULL || ss->deleted)
    return;
  ss->deleted = 1;
  if (nnrp__list_linked(&ss->acceptq))
    nnrp__list_remove(&ss->acceptq);
  for (nnrp__held *h = nnrp__held_list(ss); h; h = h->next)
    nnrp__held_unqueue(h); /* invisible from now on; freed with ss */
  if (nnrp_session_want_close(ss->conn.s) &&
      nnrp__conn_output_pending(&ss->conn) && nnrp__conn_can_write(&ss->conn))
    /* A closed session's last packets (a fatal ERROR, the answering CLOSE)
     * are still queued: let the connection flush them within its linger
     * time and close by itself (session.md §6.3 rule 4); ss is freed then. */
    nnrp__conn_pump(&ss->conn);
  else
    nnrp__conn_abort(&ss->conn);
  nnrp__ss_maybe_free(ss);
}

/* ---- events ------------------------------------------------------------- */

static void on_submit(nnrp_server_session *ss, const nnrp_event *ev) {
  const nnrp_server_config *cfg = &ss->srv->cfg;
  nnrp__held *h = nnrp__held_add(ss, ev);
  if (h == NULL) { /* cannot hold it: answer at once, never lose it */
    (void)nnrp_session_send_result_drop(ss->conn.s, ev->frame_id, 0, now_ns());
    return;
  }
  if (cfg->on_submit) {
    h->delivered = 1;
    cfg->on_submit(ss, &h->pub, cfg->user);
    return;
  }
  nnrp__list_push(&ss->undelivered, &h->q);
  nnrp__list_push(&ss->srv->undelivered, &h->gq);
}

static void on_sent(nnrp_server_session *ss, const nnrp_event *ev) {
  const nnrp_server_config *cfg = &ss->srv->cfg;
  nnrp__held *h = nnrp__idmap_get(&ss->held, ev->frame_id);
  if (cfg->on_sent)
    cfg->on_sent(ss, ev->frame_id, ev->user_data, cfg->user);
  h = nnrp__idmap_get(&ss->held, ev->frame_id); /* the callback may answer */
  if (h && h->pending_sends) {
    h->pending_sends--;
    nnrp__held_maybe_release(ss, h);
  }
}

/* The library ended the frame (FRAME_CANCEL, budget expiry): answers from
 * the application become no-ops; an undelivered copy is dropped now. */
static void on_cancelled(nnrp_server_session *ss, const nnrp_event *ev) {
  nnrp__held *h = nnrp__idmap_get(&ss->held, ev->frame_id);
  if (h == NULL)
    return;
  h->finished = 1;
  if (!h->delivered)
    nnrp__held_unqueue(h);
  nnrp__held_maybe_release(ss, h);
}

static void on_closed_event(nnrp_server_session *ss, const nnrp_event *ev) {
  ss->closed = 1;
  ss->latched_err = ev->error.lib_err;
  nnrp__copy_record(&ss->err_rec, ss->err_diag, &ev->error);
  if (nnrp__list_linked(&ss->acceptq))
    nnrp__list_remove(&ss->acceptq); /* never handed out: nobody owns it */
  /* Undelivered submits can no longer be answered. */
  for (nnrp__held *h = nnrp__held_list(ss), *n; h; h = n) {
    n = h->next;
    if (!h->delivered) {
      h->finished = 1;
      nnrp__held_unqueue(h);
    }
  }
}

static void on_handshake(nnrp_server_session *ss) {
  nnrp_server *srv = ss->srv;
  ss->handshaken = 1;
  if (srv->cfg.on_session) {
    ss->owned = 1;
    srv->cfg.on_session(srv, ss, srv->cfg.user);
  } else {
    nnrp__list_push(&srv->acceptq, &ss->acceptq);
  }
}

static void on_event(nnrp__conn *c, const nnrp_event *ev) {
  nnrp_server_session *ss = NNRP__CONTAINER(c, nnrp_server_session, conn);
  if (ss->deleted)
    return;
  nnrp__ss_flow_event(ss, ev);
  const nnrp_server_config *cfg = &ss->srv->cfg;
  switch (ev->type) {
  case NNRP_EV_HANDSHAKE:
    on_handshake(ss);
    return;
  case NNRP_EV_SUBMIT:
    on_submit(ss, ev);
    return;
  case NNRP_EV_SENT:
    on_sent(ss, ev);
    return;
  case NNRP_EV_CANCELLED:
    on_cancelled(ss, ev);
    break;
  case NNRP_EV_CLOSED:
    on_closed_event(ss, ev);
    break;
  case NNRP_EV_PEER_ERROR:
    if (!ss->closed) {
      nnrp__copy_record(&ss->err_rec, ss->err_diag, &ev->error);
      ss->peer_error = 1;
    }
    break;
  default:
    break;
  }
  if (cfg->on_event && !ss->deleted)
    cfg->on_event(ss, ev, cfg->user);
}

static int input_blocked(const nnrp__conn *c) {
  const nnrp_server_session *ss =
      NNRP__CONTAINER(c, const nnrp_server_session, conn);
  return ss->held_count >= ss->max_held || ss->held_bytes >= ss->max_held_bytes;
}

/* Transport and timer are closed: nothing will be written any more, so no
 * held copy is referenced by output. */
static void on_conn_closed(nnrp__conn *c) {
  nnrp_server_session *ss = NNRP__CONTAINER(c, nnrp_server_session, conn);
  ss->closed = 1;
  for (nnrp__held *h = nnrp__held_list(ss), *n; h; h = n) {
    n = h->next;
    h->pending_sends = 0;
    if (!h->delivered) {
      h->finished = 1;
      nnrp__held_unqueue(h);
    }
    (void)nnrp__held_release_if_done(ss, h);
  }
  nnrp__ss_maybe_free(ss);
}

static void on_pumped(nnrp__conn *c) {
  nnrp_server_session *ss = NNRP__CONTAINER(c, nnrp_server_session, conn);
  if (!ss->deleted && !ss->closed)
    nnrp__ss_flow_pumped(ss);
}

static const nnrp__conn_ops ss_ops = {on_event, input_blocked, on_conn_closed,
                                      on_pumped};

int nnrp__ss_new(nnrp_server *srv, nnrp_transport *t) {
  nnrp_server_session *ss = calloc(1, sizeof(*ss));
  if (ss == NULL)
    return NNRP_ERR_NOMEM;
  nnrp_session_settings st = srv->settings;
  if (st.rand32 == NULL)
    st.rand_seed = nnrp__rt_seed(ss);
  nnrp_mem mem;
  nnrp__memcount_init(&ss->memc, &mem);
  ss->srv = srv;
  ss->max_held = srv->cfg.max_held_submits ? srv->cfg.max_held_submits
                                           : st.max_tracked_frames;
  ss->max_held_bytes = srv->cfg.max_held_bytes;
  nnrp_session *s = NULL;
  int rc = nnrp_session_server_new(&s, &srv->profile, &st, &mem);
  if (rc == 0)
    rc = nnrp__ss_flow_init(ss, s);
  if (rc == 0)
    rc = nnrp__conn_init(&ss->conn, srv->rt, &ss_ops, s, &st);
  if (rc != 0) {
    nnrp_session_del(s); /* NULL: no-op */
    free(ss);
    return rc;
  }
  nnrp__idmap_init(&ss->held);
  nnrp__list_init(&ss->undelivered);
  nnrp__list_init(&ss->acceptq);
  nnrp__list_push(&srv->sessions, &ss->node);
  srv->session_count++;
  srv->rt->live++;
  nnrp__conn_attach(&ss->conn, t);
  return 0;
}

/* ---- receive ------------------------------------------------------------ */

static int submit_ready(void *ctx) {
  const nnrp_server_session *ss = ctx;
  return !nnrp__list_empty(&ss->undelivered) || ss->closed || ss->deleted;
}

int nnrp_server_session_receive_submit(nnrp_server_session *ss, int timeout_ms,
                                       const nnrp_received_submit **out) {
  if (ss == NULL || out == NULL || ss->deleted)
    return NNRP_ERR_INVALID_ARGUMENT;
  *out = NULL;
  int rc = nnrp__rt_wait(ss->conn.rt, submit_ready, ss, timeout_ms);
  if (rc != 0)
    return rc;
  if (nnrp__list_empty(&ss->undelivered))
    return closed_err(ss);
  nnrp__held *h = NNRP__CONTAINER(ss->undelivered.next, nnrp__held, q);
  nnrp__held_unqueue(h);
  h->delivered = 1;
  *out = &h->pub;
  return 0;
}

/* ---- answers ------------------------------------------------------------ */

/* After an answer: write, then release the copy when it is safe. */
static void answered(nnrp_server_session *ss, uint32_t frame_id, int done,
                     int queued) {
  nnrp__held *h = nnrp__idmap_get(&ss->held, frame_id);
  if (h) {
    if (queued)
      h->pending_sends++;
    if (done)
      h->answered = 1;
  }
  nnrp__conn_pump(&ss->conn);
  h = nnrp__idmap_get(&ss->held, frame_id);
  if (h && done)
    nnrp__held_maybe_release(ss, h); /* may free ss: nothing after this */
}

int64_t nnrp_server_session_send_result(nnrp_server_session *ss,
                                        uint32_t frame_id,
                                        const nnrp_result *r) {
  if (ss == NULL || r == NULL || ss->deleted)
    return NNRP_ERR_INVALID_ARGUMENT;
  int64_t rc = nnrp_session_send_result(ss->conn.s, frame_id, r, now_ns());
  int done = (r->final && rc >= 0) || rc == NNRP_ERR_CLOSED;
  if (rc == NNRP_ERR_CLOSED)
    rc = closed_err(ss);
  answered(ss, frame_id, done, rc > 0);
  return rc;
}

int64_t nnrp_server_session_send_result_drop(nnrp_server_session *ss,
                                             uint32_t frame_id,
                                             uint32_t flags) {
  if (ss == NULL || ss->deleted)
    return NNRP_ERR_INVALID_ARGUMENT;
  int64_t rc =
      nnrp_session_send_result_drop(ss->conn.s, frame_id, flags, now_ns());
  int done = rc >= 0 || rc == NNRP_ERR_CLOSED;
  if (rc == NNRP_ERR_CLOSED)
    rc = closed_err(ss);
  answered(ss, frame_id, done, 0);
  return rc;
}

int64_t nnrp_server_session_send_result_hint(nnrp_server_session *ss,
                                             uint32_t frame_id,
                                             const nnrp_result_hint *hint) {
  if (ss == NULL || hint == NULL || ss->deleted)
    return NNRP_ERR_INVALID_ARGUMENT;
  int64_t rc =
      nnrp_session_send_result_hint(ss->conn.s, frame_id, hint, now_ns());
  nnrp__conn_pump(&ss->conn);
  return rc == NNRP_ERR_CLOSED ? closed_err(ss) : rc;
}

int nnrp_server_session_release_submit(nnrp_server_session *ss,
                                       uint32_t frame_id) {
  if (ss == NULL || ss->deleted)
    return NNRP_ERR_INVALID_ARGUMENT;
  nnrp__held *h = nnrp__idmap_get(&ss->held, frame_id);
  if (h == NULL || h->released)
    return NNRP_ERR_NOT_FOUND;
  nnrp__held_unqueue(h);
  h->released = 1;
  nnrp__held_maybe_release(ss, h);
  return 0;
}

/* ---- flush, close, accessors ----------------------------------------------
 */

static int flushed(void *ctx) {
  const nnrp_server_session *ss = ctx;
  return !nnrp__conn_output_pending(&ss->conn) ||
         !nnrp__conn_can_write(&ss->conn);
}

int nnrp_server_session_flush(nnrp_server_session *ss, int timeout_ms) {
  if (ss == NULL || ss->deleted)
    return NNRP_ERR_INVALID_ARGUMENT;
  int rc = nnrp__rt_wait(ss->conn.rt, flushed, ss, timeout_ms);
  if (rc != 0)
    return rc;
  return nnrp__conn_output_pending(&ss->conn) ? NNRP_ERR_CLOSED : 0;
}

static int conn_closed(void *ctx) {
  const nnrp_server_session *ss = ctx;
  return ss->conn.closed;
}

int nnrp_server_session_close(nnrp_server_session *ss, int timeout_ms) {
  if (ss == NULL || ss->deleted)
    return NNRP_ERR_INVALID_ARGUMENT;
  if (ss->conn.closed)
    return 0;
  uint64_t now = now_ns();
  /* Frames the application still holds are dropped now (seed: close with
   * drain; the session would drop them at drain_timeout anyway). */
  for (nnrp__held *h = nnrp__held_list(ss); h; h = h->next) {
    nnrp__held_unqueue(h);
    if (!h->answered && !h->finished)
      (void)nnrp_session_send_result_drop(ss->conn.s, h->pub.frame_id, 0, now);
    h->answered = 1;
  }
  (void)nnrp_session_close(ss->conn.s, now);
  nnrp__conn_pump(&ss->conn);
  for (nnrp__held *h = nnrp__held_list(ss), *n; h; h = n) {
    n = h->next;
    (void)nnrp__held_release_if_done(ss, h);
  }
  if (timeout_ms == 0)
    return ss->conn.closed ? 0 : NNRP_ERR_WOULD_BLOCK;
  int rc = nnrp__rt_wait(ss->conn.rt, conn_closed, ss, timeout_ms);
  if (rc == 0 || rc == NNRP_ERR_INVALID_STATE)
    return rc;
  (void)nnrp_session_recv_eof(ss->conn.s, now_ns());
  nnrp__conn_pump(&ss->conn);
  nnrp__conn_abort(&ss->conn);
  (void)nnrp__rt_wait(ss->conn.rt, conn_closed, ss, -1);
  return NNRP_ERR_TIMEOUT;
}

nnrp_session_state nnrp_server_session_state(const nnrp_server_session *ss) {
  return nnrp_session_get_state(ss->conn.s);
}

uint32_t nnrp_server_session_id(const nnrp_server_session *ss) {
  return nnrp_session_id(ss->conn.s);
}

const nnrp_client_hello *
nnrp_server_session_client_hello(const nnrp_server_session *ss) {
  return nnrp_session_client_hello(ss->conn.s);
}

uint32_t nnrp_server_session_in_flight(const nnrp_server_session *ss) {
  return nnrp_session_in_flight(ss->conn.s);
}

int nnrp_server_session_last_error(const nnrp_server_session *ss,
                                   nnrp_error_record *rec, int *os_err) {
  if (rec) {
    if (ss->closed || ss->peer_error)
      *rec = ss->err_rec;
    else
      memset(rec, 0, sizeof(*rec));
  }
  if (os_err)
    *os_err = ss->conn.os_err;
  if (ss->closed)
    return ss->latched_err;
  return ss->peer_error ? NNRP_ERR_PEER_ERROR : 0;
}

const nnrp_session *nnrp_server_session_session(const nnrp_server_session *ss) {
  return ss->conn.s;
}

nnrp_server *nnrp_server_session_server(const nnrp_server_session *ss) {
  return ss->srv;
}
