/* SPDX-License-Identifier: Apache-2.0 */
/*
 * conn.c - one connection: drives a sans-I/O session over a transport.
 * Input: one fixed read buffer; bytes go to nnrp_session_recv(), whose early
 * returns are honoured (events pulled, then the rest fed); input pauses
 * (transport stop_read) while the session's output is over
 * max_output_bytes or the owner's queues are full, and resumes when writes
 * drain or the owner frees space - TCP backpressure, session.md §2.1.
 * Output: one gathered write at a time straight from
 * nnrp_session_pending_output(); nnrp_session_output_consumed() only in the
 * write callback. Timers: one uv_timer driven by get_expiry/handle_expiry.
 */
#include <stdlib.h>
#include <string.h>

#include "runtime/runtime_int.h"

static uint64_t now_ns(void) { return uv_hrtime(); }

static int session_closed(const nnrp__conn *c) {
  return nnrp_session_get_state(c->s) == NNRP_STATE_CLOSED;
}

/* ---- timer ------------------------------------------------------------- */

static void close_transport(nnrp__conn *c, int graceful);

static void on_timer(uv_timer_t *h) {
  nnrp__conn *c = h->data;
  nnrp__rt_enter(c->rt);
  if (session_closed(c)) {
    /* The linger time is up and the last bytes are still not written: a
     * peer that does not read cannot keep the connection (session.md §6.3
     * rule 4: close within 1 s). */
    close_transport(c, 0);
  } else {
    (void)nnrp_session_handle_expiry(c->s, now_ns());
    nnrp__conn_pump(c);
  }
  nnrp__rt_leave(c->rt);
}

#define LINGER_MS 1000u

static void update_timer(nnrp__conn *c) {
  if (!c->timer_open || c->t_closing)
    return;
  if (session_closed(c)) {
    if (!c->linger && c->t) { /* flushing the last bytes: bounded */
      c->linger = 1;
      uv_update_time(c->rt->loop);
      (void)uv_timer_start(&c->timer, on_timer, LINGER_MS, 0);
    }
    return;
  }
  uint64_t exp = nnrp_session_get_expiry(c->s);
  if (exp == UINT64_MAX) {
    (void)uv_timer_stop(&c->timer);
    return;
  }
  uint64_t now = now_ns();
  /* Round up and add 1 ms: the loop clock has ms granularity, and a timer
   * that fires early only costs a spurious wake-up, never a busy loop. */
  uint64_t ms = exp > now ? (exp - now + 999999u) / 1000000u + 1u : 0;
  if (ms > 86400000u)
    ms = 86400000u;
  uv_update_time(c->rt->loop);
  (void)uv_timer_start(&c->timer, on_timer, ms, 0);
}

/* ---- closing ----------------------------------------------------------- */

static void on_timer_closed(uv_handle_t *h) {
  nnrp__conn *c = h->data;
  nnrp_runtime *rt = c->rt;
  c->timer_open = 0;
  c->closed = 1;
  nnrp__rt_enter(rt);
  c->ops->on_closed(c); /* may free c */
  nnrp__rt_leave(rt);
}

static void close_timer(nnrp__conn *c) {
  if (c->timer_open && !uv_is_closing((uv_handle_t *)&c->timer))
    uv_close((uv_handle_t *)&c->timer, on_timer_closed);
}

static void close_transport(nnrp__conn *c, int graceful) {
  if (c->t == NULL) {
    close_timer(c);
    return;
  }
  if (c->t_closing)
    return;
  c->t_closing = 1;
  c->writing = 0; /* a cancelled write never reports */
  c->t->vt->close(c->t, graceful && !c->t_failed);
}

/* The session is over and its last bytes are written (or cannot be). */
static void maybe_close(nnrp__conn *c) {
  if (c->t == NULL || c->t_closing)
    return;
  if (c->t_failed)
    close_transport(c, 0);
  else if (session_closed(c) && !c->writing &&
           nnrp_session_output_bytes(c->s) == 0)
    close_transport(c, 1);
}

/* The transport cannot be used any more: the session learns it (in-flight
 * frames fail, CLOSED), then everything closes. */
static void transport_failed(nnrp__conn *c, int os_err) {
  if (!c->os_err)
    c->os_err = os_err;
  c->t_failed = 1;
  c->writing = 0;
  (void)nnrp_session_recv_eof(c->s, now_ns());
}

/* ---- output ------------------------------------------------------------ */

static void kick_write(nnrp__conn *c) {
  if (c->t == NULL || c->writing || c->t_failed || c->t_closing)
    return;
  size_t n = nnrp_session_pending_output(c->s, c->wiov, NNRP_TRANSPORT_MAX_IOV);
  if (n == 0)
    return;
  size_t total = 0;
  for (size_t i = 0; i < n; i++)
    total += c->wiov[i].len;
  int rc = c->t->vt->write_iov(c->t, c->wiov, n);
  if (rc != 0) {
    transport_failed(c, rc);
    c->repump = 1;
    return;
  }
  c->writing = 1;
  c->wbytes = total;
}

/* ---- the pump ------------------------------------------------------------ */

static void drain_events(nnrp__conn *c) {
  nnrp_event ev;
  while (nnrp_session_next_event(c->s, &ev) == 1)
    c->ops->on_event(c, &ev);
}

void nnrp__conn_pump(nnrp__conn *c) {
  if (c->pumping) { /* called from an application callback: loop again */
    c->repump = 1;
    return;
  }
  c->pumping = 1;
  do {
    c->repump = 0;
    drain_events(c);
    if (c->ops->on_pumped && !c->closed)
      c->ops->on_pumped(c);
    kick_write(c);
    maybe_close(c);
    update_timer(c);
  } while (c->repump);
  c->pumping = 0;
}

/* ---- input --------------------------------------------------------------- */

static void pause_input(nnrp__conn *c) {
  c->paused = 1;
  if (c->t && !c->t_closing)
    (void)c->t->vt->stop_read(c->t);
}

static int output_full(const nnrp__conn *c) {
  return nnrp_session_output_bytes(c->s) > c->max_output;
}

/* Feeds buffered input to the session until it is consumed or input must
 * pause. Re-entry (from a callback) only clears `paused`: the outer loop
 * goes on. */
static void feed(nnrp__conn *c) {
  if (c->feeding)
    return;
  c->feeding = 1;
  int retried = 0;
  while (c->rpos < c->rend && !c->t_failed && !c->t_closing && !c->closed) {
    if (c->ops->input_blocked(c)) {
      c->input_stalls++;
      pause_input(c);
      break;
    }
    int64_t r =
        nnrp_session_recv(c->s, c->rbuf + c->rpos, c->rend - c->rpos, now_ns());
    if (r < 0) { /* fatal: the session is CLOSED; the rest is junk */
      c->rpos = c->rend;
      nnrp__conn_pump(c);
      break;
    }
    c->rpos += (size_t)r;
    nnrp__conn_pump(c);
    if (r > 0) {
      retried = 0;
      continue;
    }
    /* 0: the session cannot take input (output backed up, events full). */
    if (!retried && !output_full(c)) {
      retried = 1; /* the pump pulled the events: one more try */
      continue;
    }
    pause_input(c);
    break;
  }
  if (c->rpos == c->rend)
    c->rpos = c->rend = 0;
  c->feeding = 0;
  if (!c->paused && c->t && !c->t_closing && !c->t_failed && !c->eof)
    (void)c->t->vt->start_read(c->t);
}

void nnrp__conn_resume(nnrp__conn *c) {
  if (!c->paused || c->closed)
    return;
  if (c->ops->input_blocked(c) || output_full(c))
    return;
  c->paused = 0;
  feed(c);
}

/* ---- transport callbacks ------------------------------------------------- */

static void t_read_buffer(void *owner, uint8_t **buf, size_t *cap) {
  nnrp__conn *c = owner;
  if (c->rpos == c->rend) {
    c->rpos = c->rend = 0;
  } else if (c->rend == NNRP__RBUF_SIZE && c->rpos > 0) {
    memmove(c->rbuf, c->rbuf + c->rpos, c->rend - c->rpos);
    c->rend -= c->rpos;
    c->rpos = 0;
  }
  *buf = c->rbuf + c->rend;
  *cap = NNRP__RBUF_SIZE - c->rend;
}

static void t_on_read(void *owner, size_t n) {
  nnrp__conn *c = owner;
  nnrp__rt_enter(c->rt);
  c->rend += n;
  feed(c);
  nnrp__rt_leave(c->rt);
}

static void t_on_eof(void *owner) {
  nnrp__conn *c = owner;
  nnrp__rt_enter(c->rt);
  c->eof = 1;
  (void)nnrp_session_recv_eof(c->s, now_ns());
  nnrp__conn_pump(c);
  nnrp__rt_leave(c->rt);
}

static void t_on_error(void *owner, int os_err) {
  nnrp__conn *c = owner;
  nnrp__rt_enter(c->rt);
  transport_failed(c, os_err);
  nnrp__conn_pump(c);
  nnrp__rt_leave(c->rt);
}

static void t_on_written(void *owner, int os_err) {
  nnrp__conn *c = owner;
  nnrp__rt_enter(c->rt);
  c->writing = 0;
  if (os_err != 0)
    transport_failed(c, os_err);
  else
    (void)nnrp_session_output_consumed(c->s, c->wbytes, now_ns());
  c->wbytes = 0;
  nnrp__conn_pump(c);
  nnrp__conn_resume(c);
  nnrp__rt_leave(c->rt);
}

static void t_on_closed(void *owner) {
  nnrp__conn *c = owner;
  c->t = NULL;
  c->writing = 0;
  close_timer(c);
}

static const nnrp_transport_cb conn_tcb = {
    t_read_buffer, t_on_read, t_on_eof, t_on_error, t_on_written, t_on_closed};

/* ---- lifecycle ----------------------------------------------------------- */

int nnrp__conn_init(nnrp__conn *c, nnrp_runtime *rt, const nnrp__conn_ops *ops,
                    nnrp_session *s, uint64_t max_output) {
  memset(c, 0, sizeof(*c));
  c->rt = rt;
  c->ops = ops;
  c->s = s;
  c->max_output = max_output;
  c->rbuf = malloc(NNRP__RBUF_SIZE);
  if (c->rbuf == NULL)
    return NNRP_ERR_NOMEM;
  if (uv_timer_init(rt->loop, &c->timer) != 0) {
    free(c->rbuf);
    c->rbuf = NULL;
    return NNRP_ERR_INTERNAL;
  }
  c->timer.data = c;
  c->timer_open = 1;
  return 0;
}

void nnrp__conn_attach(nnrp__conn *c, nnrp_transport *t) {
  c->t = t;
  nnrp__transport_bind(t, &conn_tcb, c);
  int rc = t->vt->start_read(t);
  if (rc != 0)
    transport_failed(c, rc);
  /* Arms the server's handshake timer now: a peer that connects and never
   * sends must not hold the connection (session.md §3.3). */
  (void)nnrp_session_handle_expiry(c->s, now_ns());
  nnrp__conn_pump(c);
}

void nnrp__conn_abort(nnrp__conn *c) {
  if (c->closed)
    return;
  close_transport(c, 0);
}

int nnrp__conn_can_write(const nnrp__conn *c) {
  return c->t != NULL && !c->t_failed && !c->t_closing;
}

int nnrp__conn_output_pending(const nnrp__conn *c) {
  return c->writing || nnrp_session_output_bytes(c->s) > 0;
}

void nnrp__conn_refresh(nnrp__conn *c) {
  if (c->closed || session_closed(c))
    return;
  uint64_t now = now_ns();
  if (nnrp_session_get_expiry(c->s) > now)
    return;
  nnrp__rt_enter(c->rt); /* callbacks may run: they see "inside the loop" */
  (void)nnrp_session_handle_expiry(c->s, now);
  nnrp__conn_pump(c);
  nnrp__rt_leave(c->rt);
}

void nnrp__conn_fini(nnrp__conn *c) {
  nnrp_session_del(c->s);
  c->s = NULL;
  free(c->rbuf);
  c->rbuf = NULL;
}
