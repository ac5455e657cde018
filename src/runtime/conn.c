/* SPDX-License-Identifier: Apache-2.0 */
/*
 * conn.c - one connection: drives a sans-I/O session over a transport.
 * Input: reads go into the runtime's one shared read buffer and are fed to
 * nnrp_session_recv() before the read callback returns (early returns are
 * honoured: events pulled, then the rest fed); a large packet cut by the
 * end of a read is read whole into a buffer of its size (inframe.c) and
 * handed to the held submit or result (nnrp__conn_adopt); a tail the
 * session cannot take yet moves to a per-connection spill buffer. Input
 * pauses (transport stop_read) while the session's output is over
 * max_output_bytes or the owner's queues are full, and resumes when writes
 * drain or the owner frees space - TCP backpressure, session.md §2.1.
 * Output: one gathered write at a time straight from
 * nnrp_session_pending_output(), tried on the socket at once; the write is
 * reported done (nnrp_session_output_consumed()) in the next loop
 * iteration, by the transport's callback or the runtime's flush hook.
 * Time: one clock read per libuv callback. Timers: one uv_timer driven by
 * get_expiry/handle_expiry, re-armed only when the expiry moves earlier.
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
  c->timer_due = UINT64_MAX; /* fired: not armed any more */
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

/* Called after every pump. The expiry usually moves later (keepalive and
 * peer-dead deadlines follow the traffic): the armed timer then fires early
 * once, finds nothing due and re-arms here. So the clock is read and the
 * timer re-inserted only when the expiry moves earlier than the armed one,
 * or after the timer fired or was stopped. */
static void update_timer(nnrp__conn *c) {
  if (!c->timer_open || c->t_closing)
    return;
  if (session_closed(c)) {
    if (!c->linger && c->t) { /* flushing the last bytes: bounded */
      c->linger = 1;
      c->timer_due = 0; /* never re-armed for the session again */
      uv_update_time(c->rt->loop);
      (void)uv_timer_start(&c->timer, on_timer, LINGER_MS, 0);
    }
    return;
  }
  uint64_t exp = nnrp_session_get_expiry(c->s);
  if (exp == UINT64_MAX) {
    if (c->timer_due != UINT64_MAX) {
      (void)uv_timer_stop(&c->timer);
      c->timer_due = UINT64_MAX;
    }
    return;
  }
  if (exp >= c->timer_due)
    return;
  uint64_t now = now_ns();
  /* Round up and add 1 ms: the loop clock has ms granularity, and a timer
   * that fires early only costs a spurious wake-up, never a busy loop. */
  uint64_t ms = exp > now ? (exp - now + 999999u) / 1000000u + 1u : 0;
  if (ms > 86400000u)
    ms = 86400000u;
  uv_update_time(c->rt->loop);
  (void)uv_timer_start(&c->timer, on_timer, ms, 0);
  c->timer_due = exp;
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
  c->wcomplete = 0;
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
  uint64_t now = now_ns();
  if (c->wcomplete && c->writing) /* written, not yet reported */
    (void)nnrp_session_output_consumed(c->s, c->wbytes, now);
  c->wcomplete = 0;
  c->writing = 0;
  (void)nnrp_session_recv_eof(c->s, now);
}

/* ---- output ------------------------------------------------------------ */

/* Output queued while feeding a read is written when the pass ends (one
 * gathered write for every answer to one read), or as soon as this much is
 * queued. */
#define FEED_WBATCH ((uint64_t)64 * 1024)

/* A write the transport completed inside write_iov() is reported in the
 * next loop iteration by the runtime's flush hook, as a write callback
 * would be: the session learns that its bytes left (SENT events, the next
 * write) never inside the call that queued them, and writes issued in a
 * burst (a window of submits) still leave in one gathered write. Unlike a
 * libuv write request, this costs no epoll_ctl, and no extra poll when the
 * runtime drives the loop (loop.c reports before it polls). */
static void defer_done(nnrp__conn *c) {
  nnrp_runtime *rt = c->rt;
  c->wcomplete = 1;
  if (!nnrp__list_linked(&c->wq))
    nnrp__list_push(&rt->wq, &c->wq);
  if (!rt->flush_active) {
    rt->flush_active = 1;
    (void)uv_idle_start(&rt->flush, nnrp__rt_flush_cb);
  }
}

/* Starts the next write (one at a time). */
static void kick_write(nnrp__conn *c) {
  if (c->t == NULL || c->writing || c->t_failed || c->t_closing)
    return;
  if (c->feeding && nnrp_session_output_bytes(c->s) < FEED_WBATCH)
    return; /* feed() pumps again when the pass ends */
  nnrp_iov iov[NNRP_TRANSPORT_MAX_IOV];
  size_t n = nnrp_session_pending_output(c->s, iov, NNRP_TRANSPORT_MAX_IOV);
  if (n == 0)
    return;
  size_t total = 0;
  for (size_t i = 0; i < n; i++)
    total += iov[i].len;
  int rc = c->t->vt->write_iov(c->t, iov, n);
  if (rc < 0) {
    transport_failed(c, rc);
    c->repump = 1;
    return;
  }
  c->writing = 1;
  c->wbytes = total;
  if (rc == 1)
    defer_done(c);
}

/* The outstanding write finished (os_err 0) or failed. */
static void write_done(nnrp__conn *c, int os_err) {
  c->writing = 0;
  if (os_err != 0)
    transport_failed(c, os_err);
  else
    (void)nnrp_session_output_consumed(c->s, c->wbytes, now_ns());
  c->wbytes = 0;
  nnrp__conn_pump(c);
  nnrp__conn_resume(c);
}

void nnrp__rt_flush(nnrp_runtime *rt) {
  nnrp__link due;
  nnrp__list_init(&due);
  if (!nnrp__list_empty(&rt->wq)) { /* take the list: writes completed
                                       while it runs wait for the next
                                       iteration */
    due.next = rt->wq.next;
    due.prev = rt->wq.prev;
    due.next->prev = &due;
    due.prev->next = &due;
    nnrp__list_init(&rt->wq);
  }
  rt->flush_active = 0;
  (void)uv_idle_stop(&rt->flush);
  nnrp__rt_enter(rt);
  while (!nnrp__list_empty(&due)) {
    nnrp__conn *c = NNRP__CONTAINER(due.next, nnrp__conn, wq);
    nnrp__list_remove(&c->wq);
    int pending = c->wcomplete && c->writing;
    c->wcomplete = 0;
    if (pending)
      write_done(c, 0);
  }
  nnrp__rt_leave(rt);
}

/* ---- the pump ------------------------------------------------------------ */

static void free_spill(nnrp__conn *c);

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
  free_spill(c); /* every event was pulled */
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

static void put_block(nnrp__conn *c, uint8_t *blk, size_t cap) {
  nnrp__bpool_put(&c->rt->rpool, blk, cap);
}

/* Keeps the unconsumed tail of the shared read buffer: it moves to the
 * connection's spill buffer (input is paused, so nothing is appended).
 * @return 0 or NNRP_ERR_NOMEM. */
static int spill_tail(nnrp__conn *c) {
  put_block(c, c->spill, c->spill_cap); /* a consumed one (settle_input) */
  c->spill = NULL;
  size_t n = c->rend - c->rpos, cap = 0;
  uint8_t *p = nnrp__bpool_get(&c->rt->rpool, n, &cap);
  if (p == NULL)
    return NNRP_ERR_NOMEM;
  memcpy(p, c->in + c->rpos, n);
  c->spill = p;
  c->spill_cap = cap;
  c->spill_whole = 0;
  c->in = p;
  c->rpos = 0;
  c->rend = n;
  return 0;
}

/* A consumed spill buffer may still be referenced by events not yet pulled
 * when feed() ran inside a pump (their views point into the input until
 * the next call into the session): it is freed once the pump is over. */
static void free_spill(nnrp__conn *c) {
  if (c->spill != NULL && c->in != c->spill && !c->pumping) {
    put_block(c, c->spill, c->spill_cap);
    c->spill = NULL;
  }
}

/* The bytes of `blk` (len of them) are the input from now on (the spill
 * is empty: reading had stopped until it was consumed). */
static void input_from_block(nnrp__conn *c, uint8_t *blk, size_t cap,
                             size_t len, uint8_t whole) {
  put_block(c, c->spill, c->spill_cap);
  c->spill = blk;
  c->spill_cap = cap;
  c->spill_whole = whole;
  c->in = blk;
  c->rpos = 0;
  c->rend = len;
}

uint8_t *nnrp__conn_adopt(nnrp__conn *c, const nnrp_packet *p, size_t *cap) {
  /* Only while the event of that packet is delivered from the feed loop:
   * the whole buffer was consumed by the recv that produced it. */
  if (c->spill == NULL || !c->spill_whole || c->in != c->spill ||
      c->rpos != c->rend || nnrp__pkt_size(p) != c->rend)
    return NULL;
  const uint8_t *m = c->spill + NNRP_HEADER_LEN;
  if ((p->meta_raw.len && p->meta_raw.ptr != m) ||
      (p->body_raw.len && p->body_raw.ptr != m + p->meta_raw.len))
    return NULL;
  uint8_t *blk = c->spill;
  *cap = c->spill_cap;
  c->spill = NULL; /* c->in is not read again: rpos == rend */
  return blk;
}

/* After feeding: drops consumed or unusable input, spills a tail that must
 * wait. */
static void settle_input(nnrp__conn *c) {
  int dead = c->t_failed || c->t_closing || c->closed;
  if (c->rpos < c->rend && !dead) {
    if (c->in == c->spill || spill_tail(c) == 0)
      return;
    transport_failed(c, UV_ENOMEM); /* the tail cannot be kept */
    nnrp__conn_pump(c);
  }
  c->in = NULL;
  c->rpos = c->rend = 0;
  free_spill(c);
}

/* Feeds buffered input to the session until it is consumed or input must
 * pause; `now` is the time of every recv call of this pass (one clock read
 * per callback). Re-entry (from a callback) only clears `paused`: the outer
 * loop goes on. */
static void feed(nnrp__conn *c, uint64_t now) {
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
        nnrp_session_recv(c->s, c->in + c->rpos, c->rend - c->rpos, now);
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
  settle_input(c);
  c->feeding = 0;
  if (nnrp_session_output_bytes(c->s) > 0)
    nnrp__conn_pump(c); /* the answers of this pass, in one write */
  if (!c->paused && c->t && !c->t_closing && !c->t_failed && !c->eof)
    (void)c->t->vt->start_read(c->t);
}

void nnrp__conn_resume(nnrp__conn *c) {
  if (!c->paused || c->closed)
    return;
  if (c->ops->input_blocked(c) || output_full(c))
    return;
  c->paused = 0;
  feed(c, now_ns());
}

/* ---- transport callbacks ------------------------------------------------- */

/* Input still pending (spilled, input paused): no room, the transport
 * stops reading until feed() restarts it. A large packet being read whole:
 * exactly its missing bytes. Otherwise the shared buffer, which is free
 * again when t_on_read returns. */
static void t_read_buffer(void *owner, uint8_t **buf, size_t *cap) {
  nnrp__conn *c = owner;
  if (c->rpos < c->rend || c->feeding) {
    *buf = NULL;
    *cap = 0;
  } else if (c->big != NULL) {
    *buf = c->big + c->big_fill;
    *cap = c->big_len - c->big_fill;
  } else {
    *buf = c->rt->rbuf;
    *cap = NNRP__RBUF_SIZE;
  }
}

/* A read of n bytes into the shared buffer: how many of them to feed now.
 * When the read ends inside a large packet, that packet is read whole
 * from here on: its first bytes move to a buffer of the packet's size and
 * the next reads go straight into it. */
static size_t take_read(nnrp__conn *c, size_t n) {
  uint64_t total = 0;
  size_t start = nnrp__inframe_scan(&c->fr, c->rt->rbuf, n, &total);
  if (total == 0)
    return n;
  size_t cap = 0;
  uint8_t *b = nnrp__bpool_get(&c->rt->rpool, (size_t)total, &cap);
  if (b == NULL) { /* read it the ordinary way */
    nnrp__inframe_decline(&c->fr, total, n - start);
    return n;
  }
  memcpy(b, c->rt->rbuf + start, n - start);
  c->big = b;
  c->big_cap = cap;
  c->big_len = (size_t)total;
  c->big_fill = n - start;
  return start;
}

/* A packet being read whole becomes input (complete, or cut by the end of
 * the stream: the session must see those bytes to tell a truncated packet
 * from a clean end). */
static void take_big(nnrp__conn *c) {
  uint8_t *b = c->big;
  c->big = NULL;
  input_from_block(c, b, c->big_cap, c->big_fill, c->big_fill == c->big_len);
}

static void t_on_read(void *owner, size_t n) {
  nnrp__conn *c = owner;
  nnrp__rt_enter(c->rt);
  if (c->big != NULL) {
    c->big_fill += n;
    if (c->big_fill == c->big_len)
      take_big(c);
  } else {
    c->in = c->rt->rbuf;
    c->rpos = 0;
    c->rend = take_read(c, n);
  }
  feed(c, now_ns());
  nnrp__rt_leave(c->rt);
}

static void t_on_eof(void *owner) {
  nnrp__conn *c = owner;
  nnrp__rt_enter(c->rt);
  uint64_t now = now_ns();
  c->eof = 1;
  if (c->big != NULL) {
    take_big(c);
    feed(c, now);
  }
  (void)nnrp_session_recv_eof(c->s, now);
  nnrp__conn_pump(c);
  nnrp__rt_leave(c->rt);
}

static void t_on_error(void *owner, int os_err) {
  nnrp__conn *c = owner;
  nnrp__rt_enter(c->rt);
  if (c->big != NULL) {
    c->eof = 1; /* no read is started again */
    take_big(c);
    feed(c, now_ns());
  }
  transport_failed(c, os_err);
  nnrp__conn_pump(c);
  nnrp__rt_leave(c->rt);
}

static void t_on_written(void *owner, int os_err) {
  nnrp__conn *c = owner;
  nnrp__rt_enter(c->rt);
  write_done(c, os_err);
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

/* Packets read whole: from one shared read buffer's worth / 4 (smaller
 * ones rarely span reads) up to BIG_MAX (allocated before the session saw
 * the packet, so bounded well below the session's own limits). */
#define BIG_MIN ((uint64_t)NNRP__RBUF_SIZE / 4u)
#define BIG_MAX ((uint64_t)16 << 20)

int nnrp__conn_init(nnrp__conn *c, nnrp_runtime *rt, const nnrp__conn_ops *ops,
                    nnrp_session *s, const nnrp_session_settings *st) {
  memset(c, 0, sizeof(*c));
  c->rt = rt;
  c->ops = ops;
  c->s = s;
  c->max_output = st->max_output_bytes;
  uint64_t big_max = st->max_packet_bytes < BIG_MAX ? st->max_packet_bytes
                                                     : BIG_MAX;
  nnrp__inframe_init(&c->fr, BIG_MIN, big_max, st->max_body_bytes);
  c->timer_due = UINT64_MAX;
  nnrp__list_init(&c->wq);
  if (uv_timer_init(rt->loop, &c->timer) != 0)
    return NNRP_ERR_INTERNAL;
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
  if (nnrp__list_linked(&c->wq))
    nnrp__list_remove(&c->wq);
  nnrp_session_del(c->s);
  c->s = NULL;
  put_block(c, c->spill, c->spill_cap);
  put_block(c, c->big, c->big_cap);
  c->spill = c->big = NULL;
  c->in = NULL;
  c->rpos = c->rend = 0;
}
