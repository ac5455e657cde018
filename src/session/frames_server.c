/* SPDX-License-Identifier: Apache-2.0 */
/*
 * frames_server.c - the server's frames (session.md §7): frame-id ordering
 * (§7.1, D17), accepted submits and their budget timers (§7.5), results and
 * drops with exactly one terminal per frame (§7.2, §7.3, D15), cancel
 * (§7.4), the budget-policy/result-class rules of §7.7, and the automatic
 * RESULT_HINTs of D21 (§8.5).
 */
#include <string.h>

#include "session_int.h"

#define NS_PER_MS 1000000ull
#define WINDOW 1024u

/* ---- frame ids (step 14) ----------------------------------------------- */

static int seen_get(const nnrp_session *s, uint32_t id) {
  uint32_t b = id % WINDOW;
  return (int)((s->seen_window[b / 64] >> (b % 64)) & 1u);
}

static void seen_set(nnrp_session *s, uint32_t id) {
  uint32_t b = id % WINDOW;
  s->seen_window[b / 64] |= (uint64_t)1 << (b % 64);
}

static void advance_highest(nnrp_session *s, uint32_t id) {
  uint32_t d = id - s->highest_seen;
  if (d >= WINDOW) {
    memset(s->seen_window, 0, sizeof(s->seen_window));
  } else {
    for (uint32_t i = s->highest_seen + 1; i != id + 1; i++) {
      uint32_t b = i % WINDOW;
      s->seen_window[b / 64] &= ~((uint64_t)1 << (b % 64));
    }
  }
  s->highest_seen = id;
}

int nnrp__server_check_frame_id(nnrp_session *s, const nnrp_header *h) {
  uint32_t id = h->frame_id;
  if (id == 0)
    return NNRP_ERR_FRAME_ID;
  if (id > s->highest_seen) {
    advance_highest(s, id);
    seen_set(s, id);
    return 0;
  }
  /* Ordered delivery: strictly increasing (D17). QUIC per-frame streams:
   * the 1024-id reordering window of §7.1 rule 3. */
  if (s->st.ordered_delivery || s->highest_seen - id >= WINDOW ||
      seen_get(s, id))
    return NNRP_ERR_FRAME_ID;
  seen_set(s, id);
  return 0;
}

/* ---- congestion hints (D21) -------------------------------------------- */

static uint32_t congestion_of(const nnrp_session *s, uint32_t prev) {
  uint32_t d = s->in_flight, m = s->ack.max_concurrent_frames;
  if (d == 0)
    return NNRP_CONGESTION_NONE;
  if (d >= m)
    return NNRP_CONGESTION_SATURATED;
  if (4 * d >= 3 * m)
    return NNRP_CONGESTION_ELEVATED;
  if (2 * d < m)
    return NNRP_CONGESTION_STEADY;
  /* 0.5 M <= d < 0.75 M: hysteresis */
  if (prev == NNRP_CONGESTION_NONE)
    return NNRP_CONGESTION_STEADY;
  if (prev == NNRP_CONGESTION_SATURATED)
    return NNRP_CONGESTION_ELEVATED;
  return prev;
}

static int send_hint_state(nnrp_session *s, uint32_t frame_id,
                           uint32_t policy, uint32_t reason, uint32_t state) {
  nnrp_result_hint h;
  memset(&h, 0, sizeof(h));
  h.applied_budget_policy = policy;
  h.congestion_state = state;
  h.reason = reason;
  int64_t rc = nnrp_session_send_result_hint(s, frame_id, &h, s->now);
  return rc < 0 ? (int)rc : 0;
}

static int send_hint(nnrp_session *s, uint32_t frame_id, uint32_t policy,
                     uint32_t reason) {
  return send_hint_state(s, frame_id, policy, reason, s->congestion);
}

/* Recomputed on every accept and every terminal event (§8.5). */
static int update_congestion(nnrp_session *s) {
  if (s->ack.max_concurrent_frames == 0)
    return 0; /* no depth-based hints without a limit */
  uint32_t st = congestion_of(s, s->congestion);
  if (st == s->congestion)
    return 0;
  if (s->sprof.auto_result_hints) {
    int rc = send_hint_state(s, 0, NNRP_HINT_BUDGET_NONE,
                             NNRP_HINT_REASON_NONE, st);
    if (rc != 0)
      return rc; /* state kept: the change is announced on the next try */
  }
  s->congestion = st;
  return 0;
}

/* ---- terminal events --------------------------------------------------- */

/* Every accepted frame holds one event slot (for NNRP_EV_CANCELLED) until
 * its terminal event; slot_used says the event consumed it. */
static void finish(nnrp_session *s, nnrp_frame *f, int slot_used) {
  if (!slot_used)
    nnrp__evq_unreserve(&s->evq);
  nnrp__cache_release_frame(s, f); /* objects the frame resolved */
  nnrp__ft_del(&s->frames, f->id);
  if (s->in_flight)
    s->in_flight--;
  int rc = update_congestion(s);
  if (rc <= NNRP_ERR_FATAL_THRESHOLD) {
    /* Over the memory ceiling even for a 56-byte hint: fatal, as every
     * NOMEM is (the frame itself is finished and answered). */
    s->last_err = rc;
    nnrp__terminate(s, rc, NULL);
    return;
  }
  nnrp__maybe_finish_drain(s);
}

static int queue_drop(nnrp_session *s, const nnrp_frame *f, uint32_t flags) {
  nnrp_header h;
  nnrp_header_init(&h, NNRP_MSG_RESULT_DROP);
  h.session_id = s->session_id;
  h.frame_id = f->id;
  h.view_id = f->view_id;
  h.route_id = f->route_id;
  h.trace_id = f->trace_id;
  h.flags = flags;
  nnrp_meta m;
  memset(&m, 0, sizeof(m));
  return nnrp__send_control(s, &h, &m, NULL);
}

/* RESULT_DROP made by the library (budget, cancel, limit, drain), with the
 * hint of §8.5 when the reason has one. `cancel` (may be NULL) is the
 * NNRP_EV_CANCELLED telling the application; it goes out first, in the
 * frame's reserved slot, so no later event can precede it or be lost. */
static int library_drop(nnrp_session *s, nnrp_frame *f, uint32_t reason,
                        const nnrp_event *cancel) {
  if (cancel)
    (void)nnrp__emit_reserved(s, cancel);
  int rc = queue_drop(s, f, 0);
  uint32_t id = f->id;
  finish(s, f, cancel != NULL);
  if (rc == 0 && reason != NNRP_HINT_REASON_NONE && s->sprof.auto_result_hints)
    rc = send_hint(s, id, NNRP_HINT_BUDGET_DROP, reason);
  return rc;
}

int nnrp__server_drop_frame(nnrp_session *s, nnrp_frame *f) {
  return library_drop(s, f, NNRP_HINT_REASON_NONE, NULL);
}

static void cancel_event(nnrp_event *ev, const nnrp_frame *f, uint64_t now,
                         uint32_t code, int lib_err) {
  memset(ev, 0, sizeof(*ev));
  ev->type = NNRP_EV_CANCELLED;
  ev->frame_id = f->id;
  ev->view_id = f->view_id;
  ev->received_at = now;
  ev->error.local = 1;
  ev->error.lib_err = lib_err;
  ev->error.error_code = code;
  ev->error.error_scope = NNRP_ERROR_SCOPE_FRAME;
  ev->error.related_frame_id = f->id;
}

/* ---- submits ------------------------------------------------------------ */

int nnrp__on_submit(nnrp_session *s, const nnrp_packet *p) {
  const nnrp_frame_submit *m = &p->m.frame_submit;
  nnrp_frame *f;
  int rc = nnrp__ft_add(&s->frames, &s->mem, p->hdr.frame_id, &f);
  if (rc == NNRP_ERR_LIMIT_EXCEEDED) {
    /* More frames than this server tracks: answer at once, never buffer. */
    nnrp_frame tmp;
    memset(&tmp, 0, sizeof(tmp));
    tmp.id = p->hdr.frame_id;
    tmp.view_id = p->hdr.view_id;
    tmp.route_id = p->hdr.route_id;
    tmp.trace_id = p->hdr.trace_id;
    rc = queue_drop(s, &tmp, 0);
    if (rc == 0 && s->sprof.auto_result_hints)
      rc = send_hint(s, tmp.id, NNRP_HINT_BUDGET_DROP,
                     NNRP_HINT_REASON_QUEUE_FULL);
    return rc;
  }
  if (rc != 0)
    return rc;
  rc = nnrp__evq_reserve(&s->evq, &s->mem); /* its NNRP_EV_CANCELLED slot */
  if (rc != 0) {
    nnrp__ft_del(&s->frames, f->id);
    return rc;
  }
  f->flags = NNRP_FR_IN_FLIGHT;
  f->view_id = p->hdr.view_id;
  f->route_id = p->hdr.route_id;
  f->trace_id = p->hdr.trace_id;
  f->budget_policy = m->budget_policy;
  f->loss_tolerance = m->loss_tolerance_policy == NNRP_LOSS_TOLERANCE_INHERIT
                          ? s->loss_tolerance
                          : m->loss_tolerance_policy;
  s->in_flight++;
  if (m->latency_budget_ms) {
    f->deadline = s->now + m->latency_budget_ms * NS_PER_MS;
    nnrp_timer t = {f->deadline, f->id, f->gen};
    rc = nnrp__theap_push(&s->timers, &s->mem, t);
    if (rc != 0)
      return rc;
  }
  uint16_t limit = s->ack.max_concurrent_frames;
  if (s->sprof.enforce_concurrency_limit && limit && s->in_flight > limit) {
    /* §7.3 rule 2: accepted, answered at once with a drop + hint. */
    return library_drop(s, f, NNRP_HINT_REASON_QUEUE_FULL, NULL);
  }
  rc = update_congestion(s);
  if (rc != 0)
    return rc;
  rc = nnrp__cache_resolve_submit(s, p, f);
  if (rc == NNRP_ERR_CACHE_MISS)
    return 0; /* ERROR CACHE_MISS + RESULT_DROP sent; the frame is done */
  if (rc != 0)
    return rc;
  nnrp_event ev;
  memset(&ev, 0, sizeof(ev));
  ev.type = NNRP_EV_SUBMIT;
  ev.frame_id = f->id;
  ev.view_id = f->view_id;
  ev.loss_tolerance = f->loss_tolerance;
  ev.packet = p;
  ev.received_at = s->now;
  nnrp__cache_submit_event(s, f, &ev);
  return nnrp__emit(s, &ev);
}

int nnrp__on_cancel(nnrp_session *s, const nnrp_packet *p) {
  nnrp_frame *f = nnrp__ft_get(&s->frames, p->hdr.frame_id);
  if (f == NULL || !(f->flags & NNRP_FR_IN_FLIGHT))
    return 0; /* unknown or finished: ignored (§7.4) */
  nnrp_event ev;
  cancel_event(&ev, f, s->now, NNRP_ERROR_CODE_FRAME_CANCELLED, 0);
  return library_drop(s, f, NNRP_HINT_REASON_NONE, &ev);
}

/* ---- results ------------------------------------------------------------ */

/* §7.7: the class needs its budget bit in the submit's policy; flags and
 * the applied policy are derived when the application leaves them 0. */
static int apply_class(nnrp_result_push *m, uint8_t submit_policy) {
  static const struct {
    uint8_t bit;
    uint16_t flag;
  } cls[] = {
      {0, 0},
      {NNRP_BUDGET_ALLOW_PARTIAL, NNRP_RESULT_FLAG_PARTIAL},
      {NNRP_BUDGET_ALLOW_STALE_REUSE, NNRP_RESULT_FLAG_STALE},
      {NNRP_BUDGET_ALLOW_DEGRADED, NNRP_RESULT_FLAG_FALLBACK},
  };
  if (m->result_class > NNRP_RESULT_CLASS_DEGRADED)
    return NNRP_ERR_INCONSISTENT;
  uint8_t bit = cls[m->result_class].bit;
  if (bit && !(submit_policy & bit))
    return NNRP_ERR_INCONSISTENT;
  if (m->result_flags == 0)
    m->result_flags = cls[m->result_class].flag;
  if (m->applied_budget_policy == 0)
    m->applied_budget_policy = bit;
  if (m->applied_budget_policy & ~submit_policy)
    return NNRP_ERR_INCONSISTENT; /* §7.3 rule 3 */
  if (m->result_class == NNRP_RESULT_CLASS_STALE_REUSE &&
      m->reused_frame_id == 0)
    return NNRP_ERR_INCONSISTENT;
  return 0;
}

static size_t iov_need_of(const nnrp_body_data *b) {
  size_t n = 4 + b->typed_count + b->extra_inline_count + b->ext_count;
  if (b->tensor) {
    n += 2;
    for (uint16_t i = 0; i < b->tensor->section_count && b->tensor->sections;
         i++)
      n += b->tensor->tile_count;
  }
  return n;
}

/* Looks up an in-flight frame for an application send. Returns the frame,
 * or NULL with *rc = 0 (already finished: no-op) or NNRP_ERR_NOT_FOUND. */
static nnrp_frame *app_frame(nnrp_session *s, uint32_t id, int64_t *rc) {
  nnrp_frame *f = nnrp__ft_get(&s->frames, id);
  if (f && (f->flags & NNRP_FR_IN_FLIGHT))
    return f;
  *rc = (id != 0 && id <= s->highest_seen) ? 0 : NNRP_ERR_NOT_FOUND;
  return NULL;
}

int64_t nnrp_session_send_result(nnrp_session *s, uint32_t frame_id,
                                 const nnrp_result *r, uint64_t now) {
  s->now = now;
  int64_t rc = 0;
  if (!s->is_server || r == NULL)
    return NNRP_ERR_INVALID_ARGUMENT;
  if (s->state != NNRP_STATE_ACTIVE && s->state != NNRP_STATE_DRAINING)
    return s->state == NNRP_STATE_CLOSED ? NNRP_ERR_CLOSED
                                         : NNRP_ERR_INVALID_STATE;
  nnrp_frame *f = app_frame(s, frame_id, &rc);
  if (f == NULL)
    return rc;
  nnrp_result_push meta = r->meta;
  int crc = apply_class(&meta, f->budget_policy);
  if (crc != 0) {
    s->last_err = crc;
    s->last_fault.err = crc;
    s->last_fault.rule = "session.md §7.7";
    s->last_fault.field = "result_class";
    return crc;
  }
  nnrp_header h;
  nnrp_header_init(&h, NNRP_MSG_RESULT_PUSH);
  h.session_id = s->session_id;
  h.frame_id = f->id;
  h.view_id = f->view_id;
  h.route_id = f->route_id;
  h.trace_id = f->trace_id;
  h.flags = (r->flags & ~NNRP_FLAG_EOS) | (r->final ? NNRP_FLAG_EOS : 0);
  nnrp_out *out;
  size_t scratch = nnrp_build_scratch_bound(&r->body) + 256;
  int brc = nnrp__outq_begin(&s->outq, &s->mem, scratch, iov_need_of(&r->body),
                             &out);
  if (brc != 0)
    return brc;
  nnrp_fault fault;
  brc = nnrp_build_result_push(out, &h, &meta, &r->body, &fault);
  if (brc != 0) {
    nnrp__outq_abort(&s->outq);
    s->last_err = brc;
    s->last_fault = fault;
    return brc;
  }
  int64_t size = (int64_t)out->total;
  brc = nnrp__commit_notify(s, r->user_data, f->id);
  if (brc != 0)
    return brc;
  if (r->final)
    finish(s, f, 0);
  return size;
}

int64_t nnrp_session_send_result_drop(nnrp_session *s, uint32_t frame_id,
                                      uint32_t flags, uint64_t now) {
  s->now = now;
  int64_t rc = 0;
  if (!s->is_server)
    return NNRP_ERR_INVALID_ARGUMENT;
  if (s->state == NNRP_STATE_CLOSED)
    return NNRP_ERR_CLOSED;
  nnrp_frame *f = app_frame(s, frame_id, &rc);
  if (f == NULL)
    return rc;
  int qrc = queue_drop(s, f, flags);
  if (qrc != 0)
    return qrc;
  finish(s, f, 0); /* drops made by the application get no auto hint */
  return NNRP_HEADER_LEN;
}

int64_t nnrp_session_send_result_hint(nnrp_session *s, uint32_t frame_id,
                                      const nnrp_result_hint *hint,
                                      uint64_t now) {
  s->now = now;
  if (!s->is_server || hint == NULL)
    return NNRP_ERR_INVALID_ARGUMENT;
  if (s->state != NNRP_STATE_ACTIVE && s->state != NNRP_STATE_DRAINING)
    return s->state == NNRP_STATE_CLOSED ? NNRP_ERR_CLOSED
                                         : NNRP_ERR_INVALID_STATE;
  nnrp_header h;
  nnrp_header_init(&h, NNRP_MSG_RESULT_HINT);
  h.session_id = s->session_id;
  h.frame_id = frame_id;
  nnrp_meta m;
  memset(&m, 0, sizeof(m));
  m.result_hint = *hint;
  int rc = nnrp__send_control(s, &h, &m, NULL);
  return rc != 0 ? rc : (int64_t)(NNRP_HEADER_LEN + 16);
}

/* ---- timers, drain, loss ------------------------------------------------ */

int nnrp__server_frame_expiry(nnrp_session *s, uint64_t now) {
  const nnrp_timer *t;
  while ((t = nnrp__theap_top(&s->timers)) != NULL && t->at <= now) {
    nnrp_timer due = *t;
    nnrp__theap_pop(&s->timers);
    nnrp_frame *f = nnrp__ft_get(&s->frames, due.frame_id);
    if (f == NULL || f->gen != due.gen || !(f->flags & NNRP_FR_IN_FLIGHT))
      continue; /* stale */
    /* §7.5 rule 1: budget elapsed -> RESULT_DROP + hint BUDGET_EXCEEDED;
     * the application hears of it first (NNRP_EV_CANCELLED). */
    nnrp_event ev;
    cancel_event(&ev, f, now, NNRP_ERROR_CODE_FRAME_EXPIRED, NNRP_ERR_TIMEOUT);
    int rc = library_drop(s, f, NNRP_HINT_REASON_BUDGET_EXCEEDED, &ev);
    if (rc <= NNRP_ERR_FATAL_THRESHOLD)
      return rc;
  }
  return 0;
}

static void drop_one(nnrp_frame *f, void *ctx) {
  nnrp_session *s = ctx;
  if (f->flags & NNRP_FR_IN_FLIGHT)
    (void)library_drop(s, f, NNRP_HINT_REASON_NONE, NULL);
}

void nnrp__server_drop_all(nnrp_session *s) {
  nnrp__ft_each(&s->frames, drop_one, s);
}

static void forget_one(nnrp_frame *f, void *ctx) {
  nnrp_session *s = ctx;
  nnrp__evq_unreserve(&s->evq);
  nnrp__cache_release_frame(s, f);
  nnrp__ft_del(&s->frames, f->id);
}

void nnrp__server_forget_all(nnrp_session *s) {
  nnrp__ft_each(&s->frames, forget_one, s);
  s->in_flight = 0;
}
