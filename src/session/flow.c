/* SPDX-License-Identifier: Apache-2.0 */
/*
 * flow.c - flow control and backpressure of session.md §8 (D20, D21):
 * FLOW_UPDATE received in both directions (per-scope epochs, absolute
 * credits, pauses with retry_after, a bounded table of OPERATION updates),
 * the client in-flight window (§8.1), the application's pause gate and the
 * optional auto-pause on RESULT_HINT SATURATED (§8.6), FLOW_UPDATE sending
 * (api-seed.md §8 send_flow_update) and the server credit policy helper.
 */
#include <string.h>

#include "session_int.h"

#define NS_PER_MS 1000000ull

/* Pause conditions of §8.3 row 1. */
#define PAUSE_FLAGS (NNRP_FLOW_BACKGROUND_ONLY | NNRP_FLOW_DRAIN_IN_FLIGHT_ONLY)

/* One scope's received state (§8.2). */
typedef struct flow_scope {
  uint8_t known;        /* an update was applied */
  uint8_t credit_valid; /* a CREDIT_VALID update was applied */
  uint8_t paused;
  uint8_t timed; /* paused with RETRY_AFTER_VALID: ends at `until` */
  uint8_t level;
  uint8_t reason;
  uint16_t credit;
  uint32_t epoch;
  uint32_t flags; /* flow_flags of the last applied update */
  uint64_t until;
  uint64_t operation_id;
  uint64_t updated_at;
  uint64_t seq; /* OPERATION table: age for eviction */
} flow_scope;

typedef struct nnrp_flow nnrp_flow;

struct nnrp_flow {
  flow_scope conn, sess;
  flow_scope ops[NNRP_FLOW_MAX_OPERATIONS];
  uint32_t op_count;
  uint64_t op_seq;
  /* Client gates. */
  uint8_t app_paused;  /* nnrp_session_pause_submit */
  uint8_t auto_pause;  /* nnrp_session_set_auto_pause */
  uint8_t hint_paused; /* SATURATED seen (auto-pause on) */
  uint8_t hint_timed;
  uint64_t hint_until;
  /* Sending side: last epoch sent per scope (auto = previous + 1). */
  uint32_t sent_epoch[3];
  /* Server credit policy. */
  uint16_t policy_window; /* 0: off */
  uint8_t overloaded;
  uint32_t overload_retry_ms;
};

static nnrp_flow *flow_get(nnrp_session *s) {
  if (s->flow == NULL)
    s->flow = nnrp__scalloc(&s->mem, sizeof(*s->flow));
  return s->flow;
}

void nnrp__flow_free(nnrp_session *s) {
  nnrp__sfree(&s->mem, s->flow);
  s->flow = NULL;
}

static uint64_t after_ms(uint64_t now, uint32_t ms) {
  uint64_t d = (uint64_t)ms * NS_PER_MS;
  return now > UINT64_MAX - d ? UINT64_MAX : now + d;
}

static int scope_paused(const flow_scope *sc, uint64_t now) {
  return sc->paused && (!sc->timed || now < sc->until);
}

static int hint_paused(const nnrp_flow *fl, uint64_t now) {
  return fl->hint_paused && (!fl->hint_timed || now < fl->hint_until);
}

/* ---- receiving FLOW_UPDATE (§8.2, §8.3) ------------------------------- */

/* Applies u to sc unless its epoch is older (rule 2). Returns 1 if applied. */
static int scope_apply(flow_scope *sc, const nnrp_flow_update *u,
                       uint16_t credit, uint64_t now) {
  if (sc->known && u->credit_epoch < sc->epoch)
    return 0; /* older epoch: the whole update is ignored */
  sc->known = 1;
  sc->epoch = u->credit_epoch;
  sc->level = u->backpressure_level;
  sc->reason = u->update_reason;
  sc->flags = u->flow_flags;
  sc->updated_at = now;
  if (u->flow_flags & NNRP_FLOW_CREDIT_VALID) { /* rule 3: absolute */
    sc->credit_valid = 1;
    sc->credit = credit;
  }
  if (u->update_reason == NNRP_FLOW_REASON_PAUSE ||
      u->backpressure_level == NNRP_BACKPRESSURE_HARD ||
      (u->flow_flags & PAUSE_FLAGS)) {
    sc->paused = 1;
    sc->timed = (u->flow_flags & NNRP_FLOW_RETRY_AFTER_VALID) != 0;
    sc->until = sc->timed ? after_ms(now, u->retry_after_ms) : 0;
  } else if (u->update_reason == NNRP_FLOW_REASON_RESUME ||
             u->update_reason == NNRP_FLOW_REASON_GRANT) {
    sc->paused = 0;
    sc->timed = 0;
    sc->until = 0;
  } /* REDUCE: credit only; CONGESTION: level recorded; pause unchanged */
  return 1;
}

/* The OPERATION entry for id: the existing one, a free one, or the one
 * updated longest ago (the table keeps the last 64 operations). */
static flow_scope *op_slot(nnrp_flow *fl, uint64_t id) {
  flow_scope *oldest = NULL;
  for (uint32_t i = 0; i < fl->op_count; i++) {
    if (fl->ops[i].operation_id == id)
      return &fl->ops[i];
    if (oldest == NULL || fl->ops[i].seq < oldest->seq)
      oldest = &fl->ops[i];
  }
  flow_scope *sc = fl->op_count < NNRP_FLOW_MAX_OPERATIONS
                       ? &fl->ops[fl->op_count++]
                       : oldest;
  memset(sc, 0, sizeof(*sc)); /* a new operation: first-update rule */
  sc->operation_id = id;
  return sc;
}

int nnrp__flow_on_update(nnrp_session *s, const nnrp_packet *p) {
  nnrp_flow *fl = flow_get(s);
  if (fl == NULL)
    return NNRP_ERR_NOMEM;
  const nnrp_flow_update *u = &p->m.flow_update;
  switch (u->scope_kind) { /* routing already checked by the wire layer */
  case NNRP_FLOW_SCOPE_CONNECTION:
    (void)scope_apply(&fl->conn, u, u->connection_credit, s->now);
    break;
  case NNRP_FLOW_SCOPE_SESSION:
    (void)scope_apply(&fl->sess, u, u->session_credit, s->now);
    break;
  default: {
    flow_scope *sc = op_slot(fl, u->operation_id);
    if (scope_apply(sc, u, u->operation_credit, s->now))
      sc->seq = ++fl->op_seq;
    break;
  }
  }
  /* Surfaced after the state is applied, ignored or not (§8.4). */
  return nnrp__on_control_event(s, p, NNRP_EV_FLOW_UPDATE);
}

/* ---- RESULT_HINT (§8.6) ----------------------------------------------- */

int nnrp__flow_on_hint(nnrp_session *s, const nnrp_packet *p) {
  nnrp_flow *fl = s->flow;
  if (fl != NULL && fl->auto_pause) {
    const nnrp_result_hint *h = &p->m.result_hint;
    if (h->congestion_state == NNRP_CONGESTION_SATURATED) {
      fl->hint_paused = 1;
      fl->hint_timed = h->retry_after_ms != 0; /* 0 = no explicit wait */
      fl->hint_until = fl->hint_timed ? after_ms(s->now, h->retry_after_ms) : 0;
    } else {
      fl->hint_paused = 0; /* a lower state resumes */
      fl->hint_timed = 0;
    }
  }
  return nnrp__on_control_event(s, p, NNRP_EV_RESULT_HINT);
}

/* ---- the client window (§8.1) ----------------------------------------- */

static uint32_t pause_bits(const nnrp_session *s) {
  const nnrp_flow *fl = s->flow;
  uint32_t b = 0;
  if (fl == NULL)
    return 0;
  if (fl->app_paused)
    b |= NNRP_SUBMIT_BLOCKED_APP_PAUSE;
  if (hint_paused(fl, s->now))
    b |= NNRP_SUBMIT_BLOCKED_HINT_PAUSE;
  if (scope_paused(&fl->conn, s->now) || scope_paused(&fl->sess, s->now))
    b |= NNRP_SUBMIT_BLOCKED_PEER_PAUSE;
  return b;
}

uint32_t nnrp__flow_window(const nnrp_session *s) {
  const nnrp_flow *fl = s->flow;
  if (fl == NULL || s->is_server)
    return UINT32_MAX; /* a server's sending is not gated (§8.4) */
  if (pause_bits(s))
    return 0;
  uint32_t w = UINT32_MAX;
  if (fl->sess.credit_valid && fl->sess.credit < w)
    w = fl->sess.credit;
  if (fl->conn.credit_valid && fl->conn.credit < w)
    w = fl->conn.credit;
  return w;
}

uint32_t nnrp_session_submit_blocked(const nnrp_session *s) {
  if (s->is_server || s->state != NNRP_STATE_ACTIVE)
    return NNRP_SUBMIT_BLOCKED_STATE;
  uint32_t b = pause_bits(s);
  if ((s->max_in_flight && s->in_flight >= s->max_in_flight) ||
      s->frames.count >= s->frames.limit)
    b |= NNRP_SUBMIT_BLOCKED_CONCURRENCY;
  const nnrp_flow *fl = s->flow;
  if (fl && ((fl->sess.credit_valid && s->in_flight >= fl->sess.credit) ||
             (fl->conn.credit_valid && s->in_flight >= fl->conn.credit)))
    b |= NNRP_SUBMIT_BLOCKED_CREDIT;
  return b;
}

/* ---- timers ------------------------------------------------------------ */

static uint64_t scope_expiry(const flow_scope *sc) {
  return (sc->paused && sc->timed) ? sc->until : UINT64_MAX;
}

uint64_t nnrp__flow_next_expiry(const nnrp_session *s) {
  const nnrp_flow *fl = s->flow;
  if (fl == NULL)
    return UINT64_MAX;
  uint64_t t = scope_expiry(&fl->conn);
  uint64_t u = scope_expiry(&fl->sess);
  if (u < t)
    t = u;
  if (fl->hint_paused && fl->hint_timed && fl->hint_until < t)
    t = fl->hint_until;
  return t; /* OPERATION pauses gate nothing; their state is read lazily */
}

static void scope_expire(flow_scope *sc, uint64_t now) {
  if (sc->paused && sc->timed && now >= sc->until) {
    sc->paused = 0; /* retry_after elapsed: resumes by itself (D20) */
    sc->timed = 0;
    sc->until = 0;
  }
}

int nnrp__flow_expiry(nnrp_session *s, uint64_t now) {
  nnrp_flow *fl = s->flow;
  if (fl == NULL)
    return 0;
  scope_expire(&fl->conn, now);
  scope_expire(&fl->sess, now);
  for (uint32_t i = 0; i < fl->op_count; i++)
    scope_expire(&fl->ops[i], now);
  if (fl->hint_paused && fl->hint_timed && now >= fl->hint_until) {
    fl->hint_paused = 0;
    fl->hint_timed = 0;
  }
  return 0;
}

/* ---- state queries ----------------------------------------------------- */

static void export_scope(const nnrp_session *s, const flow_scope *sc,
                         nnrp_flow_state *out) {
  memset(out, 0, sizeof(*out));
  out->known = sc->known;
  out->epoch = sc->epoch;
  out->credit = sc->credit;
  out->credit_valid = sc->credit_valid;
  out->paused = (uint8_t)scope_paused(sc, s->now);
  out->pause_until = out->paused && sc->timed ? sc->until : 0;
  out->level = sc->level;
  out->last_reason = sc->reason;
  out->flow_flags = sc->flags;
  out->operation_id = sc->operation_id;
  out->updated_at = sc->updated_at;
}

int nnrp_session_flow_state(const nnrp_session *s, uint8_t scope,
                            nnrp_flow_state *out) {
  if (s == NULL || out == NULL || scope > NNRP_FLOW_SCOPE_SESSION)
    return NNRP_ERR_INVALID_ARGUMENT;
  static const flow_scope none;
  const nnrp_flow *fl = s->flow;
  const flow_scope *sc = &none;
  if (fl != NULL)
    sc = scope == NNRP_FLOW_SCOPE_CONNECTION ? &fl->conn : &fl->sess;
  export_scope(s, sc, out);
  return 0;
}

int nnrp_session_flow_operation_state(const nnrp_session *s,
                                      uint64_t operation_id,
                                      nnrp_flow_state *out) {
  if (s == NULL || out == NULL || operation_id == 0)
    return NNRP_ERR_INVALID_ARGUMENT;
  const nnrp_flow *fl = s->flow;
  for (uint32_t i = 0; fl != NULL && i < fl->op_count; i++) {
    if (fl->ops[i].operation_id == operation_id) {
      export_scope(s, &fl->ops[i], out);
      return 0;
    }
  }
  return NNRP_ERR_NOT_FOUND;
}

/* ---- client gates ------------------------------------------------------ */

static int client_gate(nnrp_session *s, nnrp_flow **fl) {
  if (s == NULL || s->is_server)
    return NNRP_ERR_INVALID_ARGUMENT;
  *fl = flow_get(s);
  return *fl ? 0 : NNRP_ERR_NOMEM;
}

int nnrp_session_pause_submit(nnrp_session *s) {
  nnrp_flow *fl;
  int rc = client_gate(s, &fl);
  if (rc == 0)
    fl->app_paused = 1;
  return rc;
}

int nnrp_session_resume_submit(nnrp_session *s) {
  nnrp_flow *fl;
  int rc = client_gate(s, &fl);
  if (rc == 0)
    fl->app_paused = 0;
  return rc;
}

int nnrp_session_set_auto_pause(nnrp_session *s, int on) {
  nnrp_flow *fl;
  int rc = client_gate(s, &fl);
  if (rc != 0)
    return rc;
  fl->auto_pause = (uint8_t)(on != 0);
  if (!on)
    fl->hint_paused = 0; /* switching off lifts a hint pause */
  return 0;
}

/* ---- sending FLOW_UPDATE (api-seed.md §8 send_flow_update) ------------- */

void nnrp_flow_update_req_default(nnrp_flow_update_req *r) {
  memset(r, 0, sizeof(*r));
  r->update_reason = NNRP_FLOW_REASON_GRANT;
  r->scope_kind = NNRP_FLOW_SCOPE_SESSION;
  r->backpressure_level = NNRP_BACKPRESSURE_NONE;
}

/* Local argument checks: enums, the scope's own credit only, operation_id
 * per scope, extra flags limited to the two pause flags. */
static int req_check(const nnrp_flow_update_req *r) {
  if (r->update_reason > NNRP_FLOW_REASON_CONGESTION ||
      r->scope_kind > NNRP_FLOW_SCOPE_OPERATION ||
      r->backpressure_level > NNRP_BACKPRESSURE_HARD ||
      (r->extra_flags & ~(uint32_t)PAUSE_FLAGS))
    return NNRP_ERR_INVALID_ARGUMENT;
  int conn = r->scope_kind == NNRP_FLOW_SCOPE_CONNECTION;
  int sess = r->scope_kind == NNRP_FLOW_SCOPE_SESSION;
  int op = r->scope_kind == NNRP_FLOW_SCOPE_OPERATION;
  if ((r->has_connection_credit && !conn) || (r->has_session_credit && !sess) ||
      (r->has_operation_credit && !op))
    return NNRP_ERR_INVALID_ARGUMENT; /* wire.md §4.7 routing */
  if (op != (r->operation_id != 0))
    return NNRP_ERR_INVALID_ARGUMENT;
  return 0;
}

static int send_state_ok(const nnrp_session *s) {
  if (s->state == NNRP_STATE_ACTIVE || s->state == NNRP_STATE_DRAINING)
    return 0;
  return s->state == NNRP_STATE_CLOSED ? NNRP_ERR_CLOSED
                                       : NNRP_ERR_INVALID_STATE;
}

/* Builds and queues the packet; s->flow exists. */
static int64_t send_update(nnrp_session *s, const nnrp_flow_update_req *r) {
  nnrp_flow *fl = s->flow;
  nnrp_meta m;
  memset(&m, 0, sizeof(m));
  nnrp_flow_update *u = &m.flow_update;
  u->scope_kind = r->scope_kind;
  u->update_reason = r->update_reason;
  u->backpressure_level = r->backpressure_level;
  u->flow_flags = r->extra_flags;
  if (r->has_connection_credit || r->has_session_credit ||
      r->has_operation_credit)
    u->flow_flags |= NNRP_FLOW_CREDIT_VALID;
  if (r->has_connection_credit)
    u->connection_credit = r->connection_credit;
  if (r->has_session_credit)
    u->session_credit = r->session_credit;
  if (r->has_operation_credit)
    u->operation_credit = r->operation_credit;
  if (r->has_retry_after) {
    u->flow_flags |= NNRP_FLOW_RETRY_AFTER_VALID;
    u->retry_after_ms = r->retry_after_ms;
  }
  u->operation_id = r->operation_id;
  uint32_t *prev = &fl->sent_epoch[r->scope_kind];
  u->credit_epoch = r->credit_epoch ? r->credit_epoch : *prev + 1;
  nnrp_header h;
  nnrp_header_init(&h, NNRP_MSG_FLOW_UPDATE);
  h.session_id = s->session_id; /* the builder writes 0 for CONNECTION */
  int rc = nnrp__send_control(s, &h, &m, NULL);
  if (rc != 0)
    return rc;
  *prev = u->credit_epoch;
  return (int64_t)(NNRP_HEADER_LEN + 32);
}

int64_t nnrp_session_send_flow_update(nnrp_session *s,
                                      const nnrp_flow_update_req *req,
                                      uint64_t now) {
  if (s == NULL || req == NULL)
    return NNRP_ERR_INVALID_ARGUMENT;
  s->now = now;
  int rc = req_check(req);
  if (rc == 0)
    rc = send_state_ok(s);
  if (rc != 0)
    return rc;
  if (flow_get(s) == NULL)
    return NNRP_ERR_NOMEM;
  return send_update(s, req);
}

/* ---- server credit policy ---------------------------------------------- */

/* The SESSION-scope update the policy sends for its current state: PAUSE
 * (HARD, retry_after if given) while overloaded, else `reason`; the
 * window's credit rides along whenever the policy has one. */
static int64_t policy_send(nnrp_session *s, uint8_t reason) {
  nnrp_flow *fl = s->flow;
  nnrp_flow_update_req r;
  nnrp_flow_update_req_default(&r);
  r.update_reason = reason;
  if (fl->overloaded) {
    r.update_reason = NNRP_FLOW_REASON_PAUSE;
    r.backpressure_level = NNRP_BACKPRESSURE_HARD;
    r.has_retry_after = fl->overload_retry_ms != 0;
    r.retry_after_ms = fl->overload_retry_ms;
  }
  if (fl->policy_window) {
    r.has_session_credit = 1;
    r.session_credit = fl->policy_window;
  }
  return send_update(s, &r);
}

int nnrp__flow_on_active(nnrp_session *s) {
  nnrp_flow *fl = s->flow;
  if (!s->is_server || fl == NULL || (!fl->policy_window && !fl->overloaded))
    return 0;
  int64_t rc = policy_send(s, NNRP_FLOW_REASON_GRANT);
  return rc < 0 ? (int)rc : 0;
}

static int policy_gate(nnrp_session *s, uint64_t now, nnrp_flow **fl) {
  if (s == NULL || !s->is_server)
    return NNRP_ERR_INVALID_ARGUMENT;
  s->now = now;
  if (s->state == NNRP_STATE_CLOSED)
    return NNRP_ERR_CLOSED;
  *fl = flow_get(s);
  return *fl ? 0 : NNRP_ERR_NOMEM;
}

static int active(const nnrp_session *s) {
  return s->state == NNRP_STATE_ACTIVE || s->state == NNRP_STATE_DRAINING;
}

int64_t nnrp_session_set_credit_policy(nnrp_session *s, uint16_t window,
                                       uint64_t now) {
  nnrp_flow *fl;
  int rc = policy_gate(s, now, &fl);
  if (rc != 0)
    return rc;
  uint16_t old = fl->policy_window;
  fl->policy_window = window;
  /* Before ACTIVE the grant goes out right after SERVER_HELLO_ACK; while
   * overloaded the new window rides on the RESUME; 0 stops the policy. */
  if (!active(s) || fl->overloaded || window == 0 || window == old)
    return 0;
  return policy_send(s, window < old ? NNRP_FLOW_REASON_REDUCE
                                     : NNRP_FLOW_REASON_GRANT);
}

int64_t nnrp_session_set_overloaded(nnrp_session *s, int on,
                                    uint32_t retry_after_ms, uint64_t now) {
  nnrp_flow *fl;
  int rc = policy_gate(s, now, &fl);
  if (rc != 0)
    return rc;
  if (!on && !fl->overloaded)
    return 0; /* nothing to clear */
  fl->overloaded = (uint8_t)(on != 0);
  fl->overload_retry_ms = on ? retry_after_ms : 0;
  if (!active(s))
    return 0; /* sent at handshake completion (nnrp__flow_on_active) */
  return policy_send(s, NNRP_FLOW_REASON_RESUME);
}
