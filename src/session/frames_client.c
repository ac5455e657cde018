/* SPDX-License-Identifier: Apache-2.0 */
/*
 * frames_client.c - the client's frames (session.md §7): id allocation
 * (§7.1), the in-flight window (§8.1), submit with budgets and local
 * deadlines (§7.5), results (first push, or EOS for streaming frames, §7.8),
 * drops, cancel and discard (§7.4, §7.9), and the failure of frames on
 * ERROR, expiry or connection loss - exactly one terminal event per frame
 * (§7.2, D15).
 */
#include <string.h>

#include "session_int.h"

#define NS_PER_MS 1000000ull

static int window_open(const nnrp_session *s) {
  if (s->state != NNRP_STATE_ACTIVE)
    return 0;
  if (s->max_in_flight && s->in_flight >= s->max_in_flight)
    return 0;
  if (s->in_flight >= nnrp__flow_window(s))
    return 0; /* credits or a pause (session.md §8.1) */
  return s->frames.count < s->frames.limit;
}

int nnrp_session_can_submit(const nnrp_session *s) {
  return !s->is_server && window_open(s);
}

/* Terminal event bookkeeping: forget the frame, free its slot. */
static void finish(nnrp_session *s, nnrp_frame *f) {
  nnrp__ft_del(&s->frames, f->id);
  if (s->in_flight)
    s->in_flight--;
  nnrp__maybe_finish_drain(s);
}

static int send_cancel(nnrp_session *s, const nnrp_frame *f) {
  nnrp_header h;
  nnrp_header_init(&h, NNRP_MSG_FRAME_CANCEL);
  h.session_id = s->session_id;
  h.frame_id = f->id;
  h.view_id = f->view_id;
  nnrp_meta m;
  memset(&m, 0, sizeof(m));
  return nnrp__send_control(s, &h, &m, NULL);
}

/* Latency budget and local timer of §7.5 rules 2 and 3. */
static void plan_deadline(const nnrp_session *s, const nnrp_submit *req,
                          uint16_t *budget_ms, uint64_t *timer_at) {
  uint64_t budget = req->meta.latency_budget_ms;
  *timer_at = 0;
  if (req->deadline) {
    uint64_t left = (req->deadline - s->now + NS_PER_MS - 1) / NS_PER_MS;
    if (budget == 0 || left < budget)
      budget = left;
    *timer_at = req->deadline;
  }
  if (budget > 0xFFFF)
    budget = 0xFFFF;
  *budget_ms = (uint16_t)budget;
  if (*timer_at == 0 && budget)
    *timer_at = s->now + budget * NS_PER_MS + s->st.client_grace_ns;
}

static size_t iov_need_of(const nnrp_body_data *b) {
  size_t n = 4 + b->typed_count + b->extra_inline_count + b->ext_count;
  if (b->tensor && b->tensor->sections)
    n += 2 + (size_t)b->tensor->section_count * b->tensor->tile_count;
  return n;
}

static int submit_checks(nnrp_session *s, const nnrp_submit *req,
                         uint32_t *id) {
  if (s->is_server || req == NULL)
    return NNRP_ERR_INVALID_ARGUMENT;
  if (s->state == NNRP_STATE_CLOSED)
    return NNRP_ERR_CLOSED;
  if (s->state != NNRP_STATE_ACTIVE)
    return NNRP_ERR_INVALID_STATE; /* not yet ACTIVE, or DRAINING */
  *id = req->frame_id ? req->frame_id : s->next_frame_id;
  if (*id == 0 || *id < s->next_frame_id)
    return NNRP_ERR_FRAME_ID; /* ids strictly increase (D17) */
  if (req->deadline && s->now >= req->deadline)
    return NNRP_ERR_TIMEOUT; /* FRAME_EXPIRED locally, nothing sent */
  if (!window_open(s))
    return NNRP_ERR_WOULD_BLOCK;
  return 0;
}

int nnrp_session_submit(nnrp_session *s, const nnrp_submit *req,
                        uint32_t *frame_id, uint64_t now) {
  s->now = now;
  uint32_t id;
  int rc = submit_checks(s, req, &id);
  if (rc != 0)
    return rc;
  nnrp_frame_submit meta = req->meta;
  uint64_t timer_at;
  plan_deadline(s, req, &meta.latency_budget_ms, &timer_at);
  nnrp_header h;
  nnrp_header_init(&h, NNRP_MSG_FRAME_SUBMIT);
  h.session_id = s->session_id;
  h.frame_id = id;
  h.view_id = req->view_id;
  h.route_id = req->route_id;
  h.trace_id = req->trace_id;
  h.flags = req->flags;
  nnrp_frame *f;
  rc = nnrp__ft_add(&s->frames, &s->mem, id, &f);
  if (rc != 0)
    return rc == NNRP_ERR_LIMIT_EXCEEDED ? NNRP_ERR_WOULD_BLOCK : rc;
  nnrp_out *out;
  size_t scratch = nnrp_build_scratch_bound(&req->body) + 256;
  rc = nnrp__outq_begin(&s->outq, &s->mem, scratch, iov_need_of(&req->body),
                        &out);
  if (rc == 0) {
    nnrp_fault fault;
    rc = nnrp_build_frame_submit(out, &h, &meta, &req->body, &fault);
    if (rc != 0) {
      nnrp__outq_abort(&s->outq);
      s->last_fault = fault;
    }
  }
  if (rc == 0 && timer_at) {
    nnrp_timer t = {timer_at, id, f->gen};
    rc = nnrp__theap_push(&s->timers, &s->mem, t);
    if (rc != 0)
      nnrp__outq_abort(&s->outq);
  }
  /* The frame's terminal event gets its queue slot now, so that it can
   * never be lost later (D15); then the packet with its SENT slot. */
  int reserved = 0;
  if (rc == 0) {
    rc = nnrp__evq_reserve(&s->evq, &s->mem);
    if (rc != 0)
      nnrp__outq_abort(&s->outq);
    else
      reserved = 1;
  }
  if (rc == 0)
    rc = nnrp__commit_notify(s, req->user_data, id);
  if (rc != 0) {
    if (reserved)
      nnrp__evq_unreserve(&s->evq);
    nnrp__ft_del(&s->frames, id);
    s->last_err = rc;
    return rc;
  }
  nnrp__cache_note_submit(s, id, &req->body); /* for CACHE_MISS clean-up */
  f->flags = (uint8_t)(NNRP_FR_IN_FLIGHT | (req->stream ? NNRP_FR_STREAM : 0));
  f->view_id = req->view_id;
  f->route_id = req->route_id;
  f->trace_id = req->trace_id;
  f->deadline = timer_at;
  f->user_data = req->user_data;
  s->in_flight++;
  s->next_frame_id = id + 1;
  if (frame_id)
    *frame_id = id;
  return 0;
}

/* ---- results and drops ------------------------------------------------- */

static nnrp_frame *live(nnrp_session *s, uint32_t id) {
  nnrp_frame *f = nnrp__ft_get(&s->frames, id);
  return (f && (f->flags & NNRP_FR_IN_FLIGHT)) ? f : NULL;
}

int nnrp__on_result(nnrp_session *s, const nnrp_packet *p) {
  nnrp_frame *f = live(s, p->hdr.frame_id);
  if (f == NULL)
    return 0; /* unknown or finished frame: discarded silently (§16) */
  int final = !(f->flags & NNRP_FR_STREAM) || (p->hdr.flags & NNRP_FLAG_EOS);
  nnrp_event ev;
  memset(&ev, 0, sizeof(ev));
  ev.type = NNRP_EV_RESULT;
  ev.frame_id = f->id;
  ev.view_id = p->hdr.view_id;
  ev.final = (uint8_t)final;
  ev.packet = p;
  ev.user_data = f->user_data;
  ev.received_at = s->now;
  int rc = final ? nnrp__emit_reserved(s, &ev) : nnrp__emit(s, &ev);
  if (rc == 0 && final)
    finish(s, f);
  return rc;
}

int nnrp__on_drop(nnrp_session *s, const nnrp_packet *p) {
  nnrp_frame *f = live(s, p->hdr.frame_id);
  if (f == NULL)
    return 0;
  nnrp_event ev;
  memset(&ev, 0, sizeof(ev));
  ev.type = NNRP_EV_DROP;
  ev.frame_id = f->id;
  ev.view_id = p->hdr.view_id;
  ev.final = 1;
  ev.packet = p;
  ev.user_data = f->user_data;
  ev.received_at = s->now;
  int rc = nnrp__emit_reserved(s, &ev);
  if (rc == 0)
    finish(s, f);
  return rc;
}

/* ---- failures ---------------------------------------------------------- */

int nnrp__client_frame_fail(nnrp_session *s, nnrp_frame *f,
                            const nnrp_error_record *e) {
  nnrp_event ev;
  memset(&ev, 0, sizeof(ev));
  ev.type = NNRP_EV_FRAME_FAILED;
  ev.frame_id = f->id;
  ev.view_id = f->view_id;
  ev.final = 1;
  ev.user_data = f->user_data;
  ev.received_at = s->now;
  ev.error = *e;
  /* A received ERROR's diagnostic is a view into the current packet. */
  if (!e->local && e->diagnostic.len)
    ev.packet = &s->pkt;
  int rc = nnrp__emit_reserved(s, &ev); /* reserved at submit */
  finish(s, f);
  return rc;
}

typedef struct fail_ctx {
  nnrp_session *s;
  const nnrp_error_record *e;
} fail_ctx;

static void fail_one(nnrp_frame *f, void *ctx) {
  fail_ctx *c = ctx;
  if (f->flags & NNRP_FR_IN_FLIGHT) {
    nnrp_error_record e = *c->e;
    e.diagnostic.ptr = NULL; /* may outlive the packet */
    e.diagnostic.len = 0;
    e.local = 1;
    (void)nnrp__client_frame_fail(c->s, f, &e);
  } else {
    nnrp__ft_del(&c->s->frames, f->id);
  }
}

void nnrp__client_fail_all(nnrp_session *s, const nnrp_error_record *e) {
  fail_ctx c = {s, e};
  nnrp__ft_each(&s->frames, fail_one, &c);
  s->in_flight = 0;
}

static nnrp_error_record local_error(int lib_err, uint32_t code,
                                     uint32_t frame_id) {
  nnrp_error_record e;
  memset(&e, 0, sizeof(e));
  e.local = 1;
  e.lib_err = lib_err;
  e.error_code = code;
  e.error_scope = NNRP_ERROR_SCOPE_FRAME;
  e.related_frame_id = frame_id;
  return e;
}

int nnrp__client_frame_expiry(nnrp_session *s, uint64_t now) {
  const nnrp_timer *t;
  while ((t = nnrp__theap_top(&s->timers)) != NULL && t->at <= now) {
    nnrp_timer due = *t;
    nnrp__theap_pop(&s->timers);
    nnrp_frame *f = live(s, due.frame_id);
    if (f == NULL || f->gen != due.gen)
      continue; /* stale timer */
    /* §7.5 rule 3: FRAME_EXPIRED locally, FRAME_CANCEL, slot released. */
    int rc = send_cancel(s, f);
    if (rc <= NNRP_ERR_FATAL_THRESHOLD)
      return rc;
    nnrp_error_record e = local_error(NNRP_ERR_TIMEOUT,
                                      NNRP_ERROR_CODE_FRAME_EXPIRED, f->id);
    rc = nnrp__client_frame_fail(s, f, &e);
    if (rc != 0)
      return rc;
  }
  return 0;
}

int nnrp_session_cancel(nnrp_session *s, uint32_t frame_id, uint64_t now) {
  s->now = now;
  nnrp_frame *f = s->is_server ? NULL : live(s, frame_id);
  if (f == NULL)
    return NNRP_ERR_NOT_FOUND;
  int rc = send_cancel(s, f);
  if (rc != 0)
    return rc;
  nnrp_error_record e =
      local_error(NNRP_ERR_CLOSED, NNRP_ERROR_CODE_FRAME_CANCELLED, frame_id);
  return nnrp__client_frame_fail(s, f, &e);
}

int nnrp_session_discard(nnrp_session *s, uint32_t frame_id, uint64_t now) {
  s->now = now;
  nnrp_frame *f = s->is_server ? NULL : nnrp__ft_get(&s->frames, frame_id);
  if (f == NULL)
    return NNRP_ERR_NOT_FOUND;
  if (f->flags & NNRP_FR_IN_FLIGHT) {
    int rc = send_cancel(s, f);
    if (rc != 0)
      return rc;
    nnrp__evq_unreserve(&s->evq); /* its terminal event will not come */
    finish(s, f); /* no event: the frame is forgotten (§7.9 rule 4) */
    return 0;
  }
  nnrp__ft_del(&s->frames, frame_id);
  return 0;
}

uint64_t nnrp__frames_next_expiry(const nnrp_session *s) {
  const nnrp_timer *t = nnrp__theap_top(&s->timers);
  return t ? t->at : UINT64_MAX; /* may be stale: a spurious wake-up */
}
