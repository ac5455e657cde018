/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_flow_control.c - flow control and backpressure (session.md §8, D20,
 * D21) on an in-memory client/server pair with a fake clock: epochs per
 * scope, CREDIT_VALID / RETRY_AFTER_VALID gating, the client window, pauses
 * (reason, HARD, BACKGROUND_ONLY, DRAIN_IN_FLIGHT_ONLY, timed), OPERATION
 * records, client-sent updates, auto-pause on RESULT_HINT, send_flow_update
 * flag/epoch derivation and the server credit policy. Every test also
 * checks that each submitted frame ends with exactly one terminal (D15).
 */
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "session_pair.h"

#define MS 1000000ull
#define SEC 1000000000ull

/* ---- a small tensor frame ---------------------------------------------- */

static const uint8_t tile_bytes[4] = {1, 2, 3, 4};
static nnrp_bytes tiles[1];
static uint16_t tile_ids[1];
static nnrp_section_data section;
static nnrp_tensor_data tensor;

static void make_submit(nnrp_submit *r) {
  tiles[0].ptr = tile_bytes;
  tiles[0].len = sizeof(tile_bytes);
  tile_ids[0] = 0;
  memset(&section, 0, sizeof(section));
  section.role_id = 1;
  section.dtype_id = NNRP_DTYPE_UINT8;
  section.tiles = tiles;
  memset(&tensor, 0, sizeof(tensor));
  tensor.tile_index_mode = NNRP_TILE_INDEX_RAW_U16;
  tensor.tile_ids = tile_ids;
  tensor.tile_count = 1;
  tensor.sections = &section;
  tensor.section_count = 1;
  memset(r, 0, sizeof(*r));
  r->meta.src_width = 32;
  r->meta.src_height = 32;
  r->meta.tile_width = 32;
  r->meta.tile_height = 32;
  r->meta.loss_tolerance_policy = NNRP_LOSS_TOLERANCE_INHERIT;
  r->body.tensor = &tensor;
}

/* ---- pair context ------------------------------------------------------- */

typedef struct ctx {
  uint32_t pending[512]; /* server: accepted, not yet answered */
  size_t npending;
  uint32_t submitted; /* client: frames submitted (ids 1..submitted) */
  /* client FLOW_UPDATE events: packet epoch and the scope's state epoch
   * read inside the event (the state is applied before the event). */
  size_t flow_events;
  uint32_t ev_pkt_epoch, ev_state_epoch;
  uint16_t ev_state_credit;
  size_t server_flow_events;
  uint8_t server_ev_reason;
} ctx;

static void on_event(nnrp_pair *p, int side, const nnrp_event *ev, void *u) {
  ctx *c = u;
  if (side == NNRP_PAIR_SERVER && ev->type == NNRP_EV_SUBMIT &&
      c->npending < 512)
    c->pending[c->npending++] = ev->frame_id;
  if (ev->type != NNRP_EV_FLOW_UPDATE || ev->packet == NULL)
    return;
  const nnrp_flow_update *fu = &ev->packet->m.flow_update;
  if (side == NNRP_PAIR_SERVER) {
    c->server_flow_events++;
    c->server_ev_reason = fu->update_reason;
    return;
  }
  nnrp_flow_state st;
  memset(&st, 0, sizeof(st));
  if (fu->scope_kind == NNRP_FLOW_SCOPE_OPERATION)
    (void)nnrp_session_flow_operation_state(p->side[0], fu->operation_id, &st);
  else
    (void)nnrp_session_flow_state(p->side[0], fu->scope_kind, &st);
  c->flow_events++;
  c->ev_pkt_epoch = fu->credit_epoch;
  c->ev_state_epoch = st.epoch;
  c->ev_state_credit = st.credit;
}

static int setup_sp(nnrp_pair *p, ctx *c, const nnrp_server_profile *sp,
                    int handshake) {
  memset(c, 0, sizeof(*c));
  if (!CHECK_EQ_INT(nnrp_pair_init(p, NULL, sp, NULL, NULL), 0))
    return 0;
  p->cb = on_event;
  p->user = c;
  return !handshake || CHECK_EQ_INT(nnrp_pair_handshake(p), 0);
}

/* max_conc 0 = no advertised limit; automatic D21 hints off so that only
 * the hints a test sends reach the client. */
static int setup(nnrp_pair *p, ctx *c, uint16_t max_conc) {
  nnrp_server_profile sp;
  nnrp_server_profile_default(&sp);
  sp.max_concurrent_frames = max_conc;
  sp.auto_result_hints = 0;
  return setup_sp(p, c, &sp, 1);
}

static int submit(nnrp_pair *p, ctx *c) {
  nnrp_submit r;
  make_submit(&r);
  uint32_t id = 0;
  int rc = nnrp_session_submit(p->side[0], &r, &id, p->now);
  if (rc == 0) {
    c->submitted++;
    CHECK_EQ_INT(id, c->submitted);
  }
  return rc;
}

/* Submits until the window refuses; returns how many went out. */
static int fill(nnrp_pair *p, ctx *c) {
  int n = 0;
  while (n < 1000 && submit(p, c) == 0)
    n++;
  return n;
}

/* Server answers its n oldest pending frames. */
static void answer(nnrp_pair *p, ctx *c, size_t n) {
  nnrp_pair_pump(p);
  if (n > c->npending)
    n = c->npending;
  nnrp_result r;
  memset(&r, 0, sizeof(r));
  r.body.tensor = &tensor;
  r.final = 1;
  for (size_t i = 0; i < n; i++)
    CHECK(nnrp_session_send_result(p->side[1], c->pending[i], &r, p->now) > 0);
  memmove(c->pending, c->pending + n, (c->npending - n) * sizeof(uint32_t));
  c->npending -= n;
  nnrp_pair_pump(p);
}

/* Answers everything, then: every submitted frame got exactly one terminal
 * event on the client (D15), nothing is left in flight. */
static void finish(nnrp_pair *p, ctx *c) {
  nnrp_pair_pump(p);
  answer(p, c, c->npending);
  CHECK_EQ_INT(nnrp_session_in_flight(p->side[0]), 0);
  CHECK_EQ_INT(nnrp_session_in_flight(p->side[1]), 0);
  for (uint32_t id = 1; id <= c->submitted; id++) {
    size_t t = 0;
    for (size_t i = 0; i < p->nlog; i++) {
      const nnrp_pair_log *l = &p->log[i];
      if (l->side != NNRP_PAIR_CLIENT || l->frame_id != id)
        continue;
      if ((l->type == NNRP_EV_RESULT && l->final) || l->type == NNRP_EV_DROP ||
          l->type == NNRP_EV_FRAME_FAILED)
        t++;
    }
    CHECK_EQ_INT(t, 1);
  }
  CHECK_EQ_INT(nnrp_pair_sent_count(p, 0, NNRP_MSG_FRAME_CANCEL), 0);
  nnrp_pair_free(p);
}

/* ---- FLOW_UPDATE builders ----------------------------------------------- */

static nnrp_flow_update fu_of(uint8_t scope, uint8_t reason, uint32_t epoch) {
  nnrp_flow_update u;
  memset(&u, 0, sizeof(u));
  u.scope_kind = scope;
  u.update_reason = reason;
  u.credit_epoch = epoch;
  return u;
}

/* A SESSION-scope update with a valid credit. */
static nnrp_flow_update fu_credit(uint8_t reason, uint16_t credit,
                                  uint32_t epoch) {
  nnrp_flow_update u = fu_of(NNRP_FLOW_SCOPE_SESSION, reason, epoch);
  u.session_credit = credit;
  u.flow_flags = NNRP_FLOW_CREDIT_VALID;
  return u;
}

/* Encodes u as sent by `from` (header session id: the session, the builder
 * writes 0 for CONNECTION scope) and injects it into the other side. */
static int64_t inject_fu(nnrp_pair *p, int to, const nnrp_flow_update *u) {
  nnrp_header h;
  nnrp_header_init(&h, NNRP_MSG_FLOW_UPDATE);
  h.session_id = nnrp_session_id(p->side[to]);
  nnrp_meta m;
  memset(&m, 0, sizeof(m));
  m.flow_update = *u;
  uint8_t buf[128];
  nnrp_out o;
  nnrp_out_init(&o, buf, sizeof(buf), NULL, 0);
  nnrp_fault f;
  if (!CHECK_EQ_INT(nnrp_build_control(&o, &h, &m, NULL, &f), 0))
    return -1;
  return nnrp_pair_inject(p, to, nnrp_out_contiguous(&o), (size_t)o.total);
}

static nnrp_flow_state state_of(nnrp_pair *p, int side, uint8_t scope) {
  nnrp_flow_state st;
  memset(&st, 0xAA, sizeof(st));
  CHECK_EQ_INT(nnrp_session_flow_state(p->side[side], scope, &st), 0);
  return st;
}

/* ---- epochs (§8.2) ------------------------------------------------------ */

TEST(epochs_first_older_equal_greater) {
  nnrp_pair p;
  ctx c;
  if (!setup(&p, &c, 0))
    return;
  nnrp_flow_state st = state_of(&p, 0, NNRP_FLOW_SCOPE_SESSION);
  CHECK_EQ_INT(st.known, 0);
  CHECK_EQ_INT(st.credit_valid, 0);
  /* First update: applied whatever its epoch. */
  nnrp_flow_update u = fu_credit(NNRP_FLOW_REASON_GRANT, 5, 10);
  inject_fu(&p, 0, &u);
  st = state_of(&p, 0, NNRP_FLOW_SCOPE_SESSION);
  CHECK_EQ_INT(st.known, 1);
  CHECK_EQ_INT(st.epoch, 10);
  CHECK_EQ_INT(st.credit, 5);
  CHECK_EQ_U64(st.updated_at, p.now);
  CHECK_EQ_INT(c.flow_events, 1);
  CHECK_EQ_INT(c.ev_state_epoch, 10); /* applied before the event */
  CHECK_EQ_INT(c.ev_state_credit, 5);
  /* Older: ignored entirely (credit and pause), still surfaced. */
  u = fu_credit(NNRP_FLOW_REASON_PAUSE, 1, 9);
  inject_fu(&p, 0, &u);
  st = state_of(&p, 0, NNRP_FLOW_SCOPE_SESSION);
  CHECK_EQ_INT(st.epoch, 10);
  CHECK_EQ_INT(st.credit, 5);
  CHECK_EQ_INT(st.paused, 0);
  CHECK_EQ_INT(c.flow_events, 2);
  CHECK_EQ_INT(c.ev_pkt_epoch, 9);
  CHECK_EQ_INT(c.ev_state_epoch, 10); /* "applied iff epochs equal" */
  CHECK_EQ_INT(nnrp_pair_count(&p, 0, NNRP_EV_FLOW_UPDATE, 0), 2);
  /* Equal: replaces. */
  u = fu_credit(NNRP_FLOW_REASON_REDUCE, 3, 10);
  inject_fu(&p, 0, &u);
  st = state_of(&p, 0, NNRP_FLOW_SCOPE_SESSION);
  CHECK_EQ_INT(st.credit, 3);
  CHECK_EQ_INT(st.last_reason, NNRP_FLOW_REASON_REDUCE);
  /* Greater: applied. */
  u = fu_credit(NNRP_FLOW_REASON_GRANT, 7, 11);
  inject_fu(&p, 0, &u);
  st = state_of(&p, 0, NNRP_FLOW_SCOPE_SESSION);
  CHECK_EQ_INT(st.epoch, 11);
  CHECK_EQ_INT(st.credit, 7);
  /* Scopes have their own epochs: a first CONNECTION update at epoch
   * 0xFFFFFFFF is applied; then plain unsigned compare (no wrap): 5 is
   * older and ignored. */
  u = fu_of(NNRP_FLOW_SCOPE_CONNECTION, NNRP_FLOW_REASON_GRANT, 0xFFFFFFFFu);
  u.connection_credit = 4;
  u.flow_flags = NNRP_FLOW_CREDIT_VALID;
  inject_fu(&p, 0, &u);
  u.credit_epoch = 5;
  u.connection_credit = 1;
  inject_fu(&p, 0, &u);
  st = state_of(&p, 0, NNRP_FLOW_SCOPE_CONNECTION);
  CHECK_EQ_U64(st.epoch, 0xFFFFFFFFu);
  CHECK_EQ_INT(st.credit, 4);
  CHECK_EQ_INT(state_of(&p, 0, NNRP_FLOW_SCOPE_SESSION).epoch, 11);
  CHECK_EQ_INT(c.flow_events, 6);
  /* The window follows the applied credits: min(7, 4). */
  CHECK_EQ_INT(fill(&p, &c), 4);
  /* The OPERATION scope is not a flow_state scope. */
  nnrp_flow_state tmp;
  CHECK_EQ_INT(
      nnrp_session_flow_state(p.side[0], NNRP_FLOW_SCOPE_OPERATION, &tmp),
      NNRP_ERR_INVALID_ARGUMENT);
  finish(&p, &c);
}

/* ---- credits and the window (§8.1) -------------------------------------- */

TEST(credit_without_flag_is_ignored) {
  nnrp_pair p;
  ctx c;
  if (!setup(&p, &c, 0))
    return;
  /* session_credit 1 without CREDIT_VALID: the credit is not applied. */
  nnrp_flow_update u =
      fu_of(NNRP_FLOW_SCOPE_SESSION, NNRP_FLOW_REASON_GRANT, 1);
  u.session_credit = 1;
  inject_fu(&p, 0, &u);
  nnrp_flow_state st = state_of(&p, 0, NNRP_FLOW_SCOPE_SESSION);
  CHECK_EQ_INT(st.known, 1);
  CHECK_EQ_INT(st.credit_valid, 0);
  CHECK_EQ_INT(st.credit, 0);
  for (int i = 0; i < 3; i++)
    CHECK_EQ_INT(submit(&p, &c), 0); /* no limit */
  /* With the flag: credit 2 (absolute, below the 3 in flight). */
  u.flow_flags = NNRP_FLOW_CREDIT_VALID;
  u.session_credit = 2;
  u.credit_epoch = 2;
  inject_fu(&p, 0, &u);
  CHECK_EQ_INT(state_of(&p, 0, NNRP_FLOW_SCOPE_SESSION).credit_valid, 1);
  CHECK_EQ_INT(nnrp_session_can_submit(p.side[0]), 0);
  CHECK_EQ_INT(nnrp_session_submit_blocked(p.side[0]),
               NNRP_SUBMIT_BLOCKED_CREDIT);
  /* A later update without the flag keeps the credit unchanged. */
  u.flow_flags = 0;
  u.session_credit = 9;
  u.credit_epoch = 3;
  inject_fu(&p, 0, &u);
  nnrp_flow_state st2 = state_of(&p, 0, NNRP_FLOW_SCOPE_SESSION);
  CHECK_EQ_INT(st2.credit, 2);
  CHECK_EQ_INT(st2.epoch, 3);
  answer(&p, &c, 2); /* in flight 1 < 2 */
  CHECK_EQ_INT(fill(&p, &c), 1);
  finish(&p, &c);
}

TEST(window_is_min_of_session_connection_and_max_concurrent) {
  nnrp_pair p;
  ctx c;
  if (!setup(&p, &c, 4))
    return;
  nnrp_flow_update s3 = fu_credit(NNRP_FLOW_REASON_GRANT, 3, 1);
  inject_fu(&p, 0, &s3);
  nnrp_flow_update c2 =
      fu_of(NNRP_FLOW_SCOPE_CONNECTION, NNRP_FLOW_REASON_GRANT, 1);
  c2.connection_credit = 2;
  c2.flow_flags = NNRP_FLOW_CREDIT_VALID;
  inject_fu(&p, 0, &c2);
  CHECK_EQ_INT(fill(&p, &c), 2); /* connection credit */
  CHECK_EQ_INT(nnrp_session_submit_blocked(p.side[0]),
               NNRP_SUBMIT_BLOCKED_CREDIT);
  CHECK_EQ_INT(submit(&p, &c), NNRP_ERR_WOULD_BLOCK);
  c2.connection_credit = 6;
  c2.credit_epoch = 2;
  inject_fu(&p, 0, &c2);
  CHECK_EQ_INT(fill(&p, &c), 1); /* session credit 3 */
  nnrp_flow_update s10 = fu_credit(NNRP_FLOW_REASON_GRANT, 10, 2);
  inject_fu(&p, 0, &s10);
  CHECK_EQ_INT(fill(&p, &c), 1); /* max_concurrent_frames 4 */
  CHECK_EQ_INT(nnrp_session_submit_blocked(p.side[0]),
               NNRP_SUBMIT_BLOCKED_CONCURRENCY);
  CHECK_EQ_INT(nnrp_session_in_flight(p.side[0]), 4);
  finish(&p, &c);
}

TEST(credit_zero_blocks_then_grant_opens) {
  nnrp_pair p;
  ctx c;
  if (!setup(&p, &c, 0))
    return;
  nnrp_flow_update u = fu_credit(NNRP_FLOW_REASON_GRANT, 0, 1);
  inject_fu(&p, 0, &u);
  /* Credit 0: a normal wait, no error, nothing sent, session alive. */
  CHECK_EQ_INT(nnrp_session_can_submit(p.side[0]), 0);
  CHECK_EQ_INT(submit(&p, &c), NNRP_ERR_WOULD_BLOCK);
  CHECK_EQ_INT(nnrp_pair_sent_count(&p, 0, NNRP_MSG_FRAME_SUBMIT), 0);
  CHECK_EQ_INT(nnrp_pair_sent_count(&p, 0, NNRP_MSG_ERROR), 0);
  nnrp_pair_advance(&p, 5 * SEC);
  CHECK_EQ_INT(nnrp_session_get_state(p.side[0]), NNRP_STATE_ACTIVE);
  CHECK_EQ_INT(nnrp_session_can_submit(p.side[0]), 0);
  u = fu_credit(NNRP_FLOW_REASON_GRANT, 2, 2);
  inject_fu(&p, 0, &u);
  CHECK_EQ_INT(fill(&p, &c), 2);
  finish(&p, &c);
}

TEST(reduce_below_in_flight_cancels_nothing) {
  nnrp_pair p;
  ctx c;
  if (!setup(&p, &c, 0))
    return;
  nnrp_flow_update u = fu_credit(NNRP_FLOW_REASON_GRANT, 4, 1);
  inject_fu(&p, 0, &u);
  CHECK_EQ_INT(fill(&p, &c), 4);
  nnrp_pair_pump(&p);
  u = fu_credit(NNRP_FLOW_REASON_REDUCE, 1, 2);
  inject_fu(&p, 0, &u);
  CHECK_EQ_INT(nnrp_session_in_flight(p.side[0]), 4); /* nothing ended */
  CHECK_EQ_INT(nnrp_pair_sent_count(&p, 0, NNRP_MSG_FRAME_CANCEL), 0);
  CHECK_EQ_INT(nnrp_pair_count(&p, 0, NNRP_EV_FRAME_FAILED, 0), 0);
  CHECK_EQ_INT(c.npending, 4);
  answer(&p, &c, 3);
  CHECK_EQ_INT(nnrp_pair_count(&p, 0, NNRP_EV_RESULT, 0), 3);
  CHECK_EQ_INT(nnrp_session_can_submit(p.side[0]), 0); /* 1 >= credit 1 */
  answer(&p, &c, 1);
  CHECK_EQ_INT(fill(&p, &c), 1);
  /* REDUCE does not lift a pause. */
  nnrp_flow_update pz =
      fu_of(NNRP_FLOW_SCOPE_SESSION, NNRP_FLOW_REASON_PAUSE, 3);
  inject_fu(&p, 0, &pz);
  u = fu_credit(NNRP_FLOW_REASON_REDUCE, 8, 4);
  inject_fu(&p, 0, &u);
  CHECK_EQ_INT(state_of(&p, 0, NNRP_FLOW_SCOPE_SESSION).paused, 1);
  CHECK_EQ_INT(state_of(&p, 0, NNRP_FLOW_SCOPE_SESSION).credit, 8);
  finish(&p, &c);
}

/* ---- pauses (§8.3) ------------------------------------------------------ */

TEST(pause_blocks_until_resume) {
  nnrp_pair p;
  ctx c;
  if (!setup(&p, &c, 0))
    return;
  CHECK_EQ_INT(submit(&p, &c), 0);
  nnrp_pair_pump(&p);
  nnrp_flow_update u =
      fu_of(NNRP_FLOW_SCOPE_SESSION, NNRP_FLOW_REASON_PAUSE, 1);
  inject_fu(&p, 0, &u);
  nnrp_flow_state st = state_of(&p, 0, NNRP_FLOW_SCOPE_SESSION);
  CHECK_EQ_INT(st.paused, 1);
  CHECK_EQ_U64(st.pause_until, 0);
  CHECK_EQ_INT(submit(&p, &c), NNRP_ERR_WOULD_BLOCK);
  CHECK_EQ_INT(nnrp_session_submit_blocked(p.side[0]),
               NNRP_SUBMIT_BLOCKED_PEER_PAUSE);
  /* The frame in flight is not affected. */
  answer(&p, &c, 1);
  CHECK_EQ_INT(nnrp_pair_count(&p, 0, NNRP_EV_RESULT, 1), 1);
  /* No timer for an untimed pause; time alone does not resume. */
  nnrp_pair_advance(&p, 20 * SEC);
  CHECK_EQ_INT(nnrp_session_can_submit(p.side[0]), 0);
  /* CONGESTION is informational: the pause stays. */
  u = fu_of(NNRP_FLOW_SCOPE_SESSION, NNRP_FLOW_REASON_CONGESTION, 2);
  inject_fu(&p, 0, &u);
  CHECK_EQ_INT(nnrp_session_can_submit(p.side[0]), 0);
  u = fu_of(NNRP_FLOW_SCOPE_SESSION, NNRP_FLOW_REASON_RESUME, 3);
  inject_fu(&p, 0, &u);
  CHECK_EQ_INT(nnrp_session_can_submit(p.side[0]), 1);
  /* A CONNECTION pause gates too; GRANT resumes it. */
  u = fu_of(NNRP_FLOW_SCOPE_CONNECTION, NNRP_FLOW_REASON_PAUSE, 1);
  inject_fu(&p, 0, &u);
  CHECK_EQ_INT(submit(&p, &c), NNRP_ERR_WOULD_BLOCK);
  u = fu_of(NNRP_FLOW_SCOPE_CONNECTION, NNRP_FLOW_REASON_GRANT, 2);
  inject_fu(&p, 0, &u);
  CHECK_EQ_INT(submit(&p, &c), 0);
  finish(&p, &c);
}

TEST(pause_with_retry_after_resumes_exactly_then) {
  nnrp_pair p;
  ctx c;
  if (!setup(&p, &c, 0))
    return;
  nnrp_flow_update u =
      fu_of(NNRP_FLOW_SCOPE_SESSION, NNRP_FLOW_REASON_PAUSE, 1);
  u.flow_flags = NNRP_FLOW_RETRY_AFTER_VALID;
  u.retry_after_ms = 250;
  uint64_t t0 = p.now;
  inject_fu(&p, 0, &u);
  nnrp_flow_state st = state_of(&p, 0, NNRP_FLOW_SCOPE_SESSION);
  CHECK_EQ_INT(st.paused, 1);
  CHECK_EQ_U64(st.pause_until, t0 + 250 * MS);
  CHECK_EQ_U64(nnrp_session_get_expiry(p.side[0]), t0 + 250 * MS);
  nnrp_pair_advance(&p, 250 * MS - 1);
  CHECK_EQ_INT(nnrp_session_can_submit(p.side[0]), 0); /* not before */
  CHECK_EQ_INT(submit(&p, &c), NNRP_ERR_WOULD_BLOCK);
  nnrp_pair_advance(&p, 1);
  CHECK_EQ_U64(p.now, t0 + 250 * MS);
  CHECK_EQ_INT(nnrp_session_can_submit(p.side[0]), 1); /* exactly then */
  st = state_of(&p, 0, NNRP_FLOW_SCOPE_SESSION);
  CHECK_EQ_INT(st.paused, 0);
  CHECK_EQ_U64(st.pause_until, 0);
  CHECK(nnrp_session_get_expiry(p.side[0]) > p.now); /* timer disarmed */
  CHECK_EQ_INT(submit(&p, &c), 0);
  /* retry_after_ms without RETRY_AFTER_VALID is a malformed FLOW_UPDATE
   * (wire.md §4.7): the client answers ERROR and keeps its state. */
  u.flow_flags = 0;
  u.credit_epoch = 2;
  inject_fu(&p, 0, &u);
  CHECK_EQ_INT(nnrp_pair_sent_count(&p, 0, NNRP_MSG_ERROR), 1);
  CHECK_EQ_INT(state_of(&p, 0, NNRP_FLOW_SCOPE_SESSION).epoch, 1);
  CHECK_EQ_INT(nnrp_session_can_submit(p.side[0]), 1);
  /* RETRY_AFTER_VALID on a non-pause update is no wait. */
  u = fu_of(NNRP_FLOW_SCOPE_SESSION, NNRP_FLOW_REASON_GRANT, 3);
  u.flow_flags = NNRP_FLOW_RETRY_AFTER_VALID;
  u.retry_after_ms = 1000;
  inject_fu(&p, 0, &u);
  CHECK_EQ_INT(nnrp_session_can_submit(p.side[0]), 1);
  finish(&p, &c);
}

TEST(submit_at_pause_end_without_expiry_call) {
  nnrp_pair p;
  ctx c;
  if (!setup(&p, &c, 0))
    return;
  nnrp_flow_update u =
      fu_of(NNRP_FLOW_SCOPE_CONNECTION, NNRP_FLOW_REASON_PAUSE, 7);
  u.flow_flags = NNRP_FLOW_RETRY_AFTER_VALID;
  u.retry_after_ms = 40;
  uint64_t t0 = p.now;
  inject_fu(&p, 0, &u);
  CHECK_EQ_U64(state_of(&p, 0, NNRP_FLOW_SCOPE_CONNECTION).pause_until,
               t0 + 40 * MS);
  /* A submit whose `now` is at the end of the pause goes through even if
   * the caller has not run the expiry yet. */
  nnrp_submit r;
  make_submit(&r);
  CHECK_EQ_INT(nnrp_session_submit(p.side[0], &r, NULL, t0 + 40 * MS - 1),
               NNRP_ERR_WOULD_BLOCK);
  CHECK_EQ_INT(nnrp_session_submit(p.side[0], &r, NULL, t0 + 40 * MS), 0);
  c.submitted++;
  p.now = t0 + 40 * MS;
  finish(&p, &c);
}

TEST(hard_level_and_pause_flags_pause) {
  nnrp_pair p;
  ctx c;
  if (!setup(&p, &c, 0))
    return;
  uint32_t epoch = 1;
  /* HARD with a non-pause reason. */
  nnrp_flow_update u =
      fu_of(NNRP_FLOW_SCOPE_SESSION, NNRP_FLOW_REASON_CONGESTION, epoch++);
  u.backpressure_level = NNRP_BACKPRESSURE_HARD;
  inject_fu(&p, 0, &u);
  CHECK_EQ_INT(state_of(&p, 0, NNRP_FLOW_SCOPE_SESSION).level,
               NNRP_BACKPRESSURE_HARD);
  CHECK_EQ_INT(submit(&p, &c), NNRP_ERR_WOULD_BLOCK);
  u = fu_of(NNRP_FLOW_SCOPE_SESSION, NNRP_FLOW_REASON_RESUME, epoch++);
  inject_fu(&p, 0, &u);
  CHECK_EQ_INT(submit(&p, &c), 0);
  /* GRANT with BACKGROUND_ONLY: paused (no priority classes). */
  u = fu_of(NNRP_FLOW_SCOPE_SESSION, NNRP_FLOW_REASON_GRANT, epoch++);
  u.flow_flags = NNRP_FLOW_BACKGROUND_ONLY;
  inject_fu(&p, 0, &u);
  CHECK_EQ_INT(submit(&p, &c), NNRP_ERR_WOULD_BLOCK);
  u.flow_flags = 0;
  u.credit_epoch = epoch++;
  inject_fu(&p, 0, &u);
  CHECK_EQ_INT(submit(&p, &c), 0);
  /* RESUME with DRAIN_IN_FLIGHT_ONLY and a retry: paused for 30 ms. */
  u = fu_of(NNRP_FLOW_SCOPE_SESSION, NNRP_FLOW_REASON_RESUME, epoch++);
  u.flow_flags = NNRP_FLOW_DRAIN_IN_FLIGHT_ONLY | NNRP_FLOW_RETRY_AFTER_VALID;
  u.retry_after_ms = 30;
  inject_fu(&p, 0, &u);
  CHECK_EQ_INT(submit(&p, &c), NNRP_ERR_WOULD_BLOCK);
  CHECK_EQ_INT(state_of(&p, 0, NNRP_FLOW_SCOPE_SESSION).flow_flags,
               NNRP_FLOW_DRAIN_IN_FLIGHT_ONLY | NNRP_FLOW_RETRY_AFTER_VALID);
  nnrp_pair_advance(&p, 30 * MS);
  CHECK_EQ_INT(submit(&p, &c), 0);
  /* SOFT: advisory, recorded, not a pause. */
  u = fu_of(NNRP_FLOW_SCOPE_SESSION, NNRP_FLOW_REASON_CONGESTION, epoch++);
  u.backpressure_level = NNRP_BACKPRESSURE_SOFT;
  inject_fu(&p, 0, &u);
  nnrp_flow_state st = state_of(&p, 0, NNRP_FLOW_SCOPE_SESSION);
  CHECK_EQ_INT(st.level, NNRP_BACKPRESSURE_SOFT);
  CHECK_EQ_INT(st.paused, 0);
  CHECK_EQ_INT(submit(&p, &c), 0);
  CHECK_EQ_INT(c.submitted, 4);
  finish(&p, &c);
}

TEST(app_pause_submit_gate) {
  nnrp_pair p;
  ctx c;
  if (!setup(&p, &c, 0))
    return;
  CHECK_EQ_INT(submit(&p, &c), 0);
  CHECK_EQ_INT(nnrp_session_pause_submit(p.side[0]), 0);
  CHECK_EQ_INT(nnrp_session_can_submit(p.side[0]), 0);
  CHECK_EQ_INT(nnrp_session_submit_blocked(p.side[0]),
               NNRP_SUBMIT_BLOCKED_APP_PAUSE);
  CHECK_EQ_INT(submit(&p, &c), NNRP_ERR_WOULD_BLOCK);
  answer(&p, &c, 1); /* in flight continues while paused */
  CHECK_EQ_INT(nnrp_pair_count(&p, 0, NNRP_EV_RESULT, 1), 1);
  /* A peer GRANT does not lift the local gate. */
  nnrp_flow_update u = fu_credit(NNRP_FLOW_REASON_GRANT, 5, 1);
  inject_fu(&p, 0, &u);
  CHECK_EQ_INT(nnrp_session_can_submit(p.side[0]), 0);
  CHECK_EQ_INT(nnrp_session_resume_submit(p.side[0]), 0);
  CHECK_EQ_INT(fill(&p, &c), 5);
  /* Role checks. */
  CHECK_EQ_INT(nnrp_session_pause_submit(p.side[1]), NNRP_ERR_INVALID_ARGUMENT);
  CHECK_EQ_INT(nnrp_session_set_auto_pause(p.side[1], 1),
               NNRP_ERR_INVALID_ARGUMENT);
  CHECK_EQ_INT(nnrp_session_submit_blocked(p.side[1]),
               NNRP_SUBMIT_BLOCKED_STATE);
  finish(&p, &c);
}

/* ---- scopes, header session id, client-sent updates --------------------- */

TEST(connection_scope_travels_with_session_zero) {
  nnrp_pair p;
  ctx c;
  if (!setup(&p, &c, 0))
    return;
  nnrp_flow_update_req r;
  nnrp_flow_update_req_default(&r);
  r.scope_kind = NNRP_FLOW_SCOPE_CONNECTION;
  r.has_connection_credit = 1;
  r.connection_credit = 3;
  CHECK_EQ_INT(nnrp_session_send_flow_update(p.side[1], &r, p.now), 72);
  nnrp_pair_pump(&p);
  nnrp_packet pk;
  if (CHECK(nnrp_pair_sent(&p, 1, NNRP_MSG_FLOW_UPDATE, 0, &pk))) {
    CHECK_EQ_INT(pk.hdr.session_id, 0);
    CHECK_EQ_INT(pk.m.flow_update.connection_credit, 3);
  }
  nnrp_flow_state st = state_of(&p, 0, NNRP_FLOW_SCOPE_CONNECTION);
  CHECK_EQ_INT(st.credit_valid, 1);
  CHECK_EQ_INT(st.credit, 3);
  CHECK_EQ_INT(state_of(&p, 0, NNRP_FLOW_SCOPE_SESSION).known, 0);
  CHECK_EQ_INT(fill(&p, &c), 3);
  /* A CONNECTION update carrying the session id breaks the routing rule:
   * ERROR MALFORMED_BODY (SESSION, not fatal), state unchanged. */
  nnrp_header h;
  nnrp_header_init(&h, NNRP_MSG_FLOW_UPDATE);
  nnrp_meta m;
  memset(&m, 0, sizeof(m));
  m.flow_update = fu_of(NNRP_FLOW_SCOPE_CONNECTION, NNRP_FLOW_REASON_PAUSE, 9);
  uint8_t buf[128];
  nnrp_out o;
  nnrp_out_init(&o, buf, sizeof(buf), NULL, 0);
  nnrp_fault f;
  CHECK_EQ_INT(nnrp_build_control(&o, &h, &m, NULL, &f), 0);
  uint32_t sid = nnrp_session_id(p.side[0]);
  buf[20] = (uint8_t)sid;
  buf[21] = (uint8_t)(sid >> 8);
  buf[22] = (uint8_t)(sid >> 16);
  buf[23] = (uint8_t)(sid >> 24);
  nnrp_pair_inject(&p, 0, buf, (size_t)o.total);
  if (CHECK(nnrp_pair_sent(&p, 0, NNRP_MSG_ERROR, 0, &pk))) {
    CHECK_EQ_INT(pk.m.error.error_code, NNRP_ERROR_CODE_MALFORMED_BODY);
    CHECK_EQ_INT(pk.m.error.error_scope, NNRP_ERROR_SCOPE_SESSION);
  }
  CHECK_EQ_INT(state_of(&p, 0, NNRP_FLOW_SCOPE_CONNECTION).epoch, 1);
  CHECK_EQ_INT(state_of(&p, 0, NNRP_FLOW_SCOPE_CONNECTION).paused, 0);
  CHECK_EQ_INT(nnrp_session_get_state(p.side[0]), NNRP_STATE_ACTIVE);
  finish(&p, &c);
}

TEST(client_sent_update_is_surfaced_on_server) {
  nnrp_pair p;
  ctx c;
  if (!setup(&p, &c, 0))
    return;
  nnrp_flow_update_req r;
  nnrp_flow_update_req_default(&r);
  r.update_reason = NNRP_FLOW_REASON_PAUSE;
  r.has_session_credit = 1;
  r.session_credit = 0;
  CHECK_EQ_INT(nnrp_session_send_flow_update(p.side[0], &r, p.now), 72);
  nnrp_pair_pump(&p);
  CHECK_EQ_INT(c.server_flow_events, 1);
  CHECK_EQ_INT(c.server_ev_reason, NNRP_FLOW_REASON_PAUSE);
  nnrp_flow_state st = state_of(&p, 1, NNRP_FLOW_SCOPE_SESSION);
  CHECK_EQ_INT(st.paused, 1);
  CHECK_EQ_INT(st.credit_valid, 1);
  CHECK_EQ_INT(st.credit, 0);
  CHECK_EQ_INT(st.epoch, 1);
  /* The server's own sending is unchanged: results still flow. */
  CHECK_EQ_INT(submit(&p, &c), 0);
  answer(&p, &c, 1);
  CHECK_EQ_INT(nnrp_pair_count(&p, 0, NNRP_EV_RESULT, 1), 1);
  /* OPERATION scope from the client: recorded per operation. */
  r.scope_kind = NNRP_FLOW_SCOPE_OPERATION;
  r.update_reason = NNRP_FLOW_REASON_CONGESTION;
  r.has_session_credit = 0;
  r.has_operation_credit = 1;
  r.operation_credit = 2;
  r.operation_id = 1;
  CHECK_EQ_INT(nnrp_session_send_flow_update(p.side[0], &r, p.now), 72);
  nnrp_pair_pump(&p);
  CHECK_EQ_INT(c.server_flow_events, 2);
  nnrp_flow_state op;
  CHECK_EQ_INT(nnrp_session_flow_operation_state(p.side[1], 1, &op), 0);
  CHECK_EQ_INT(op.operation_id, 1);
  CHECK_EQ_INT(op.credit, 2);
  CHECK_EQ_INT(op.epoch, 1); /* the OPERATION scope's first auto epoch */
  CHECK_EQ_INT(nnrp_session_flow_operation_state(p.side[1], 2, &op),
               NNRP_ERR_NOT_FOUND);
  CHECK_EQ_INT(nnrp_pair_count(&p, 1, NNRP_EV_FLOW_UPDATE, 0), 2);
  CHECK_EQ_INT(nnrp_pair_sent_count(&p, 1, NNRP_MSG_ERROR), 0);
  finish(&p, &c);
}

TEST(operation_updates_bounded_and_not_gating) {
  nnrp_pair p;
  ctx c;
  if (!setup(&p, &c, 0))
    return;
  for (uint32_t id = 1; id <= 70; id++) {
    nnrp_flow_update u =
        fu_of(NNRP_FLOW_SCOPE_OPERATION, NNRP_FLOW_REASON_PAUSE, 5);
    u.operation_id = id;
    inject_fu(&p, 0, &u);
  }
  CHECK_EQ_INT(c.flow_events, 70);
  nnrp_flow_state st;
  for (uint64_t id = 1; id <= 70; id++) {
    int rc = nnrp_session_flow_operation_state(p.side[0], id, &st);
    CHECK_EQ_INT(rc,
                 id <= 70 - NNRP_FLOW_MAX_OPERATIONS ? NNRP_ERR_NOT_FOUND : 0);
  }
  CHECK_EQ_INT(nnrp_session_flow_operation_state(p.side[0], 70, &st), 0);
  CHECK_EQ_INT(st.paused, 1);
  /* Per-operation epochs: older ignored for that operation only. */
  nnrp_flow_update u =
      fu_of(NNRP_FLOW_SCOPE_OPERATION, NNRP_FLOW_REASON_RESUME, 4);
  u.operation_id = 70;
  inject_fu(&p, 0, &u);
  CHECK_EQ_INT(nnrp_session_flow_operation_state(p.side[0], 70, &st), 0);
  CHECK_EQ_INT(st.paused, 1);
  CHECK_EQ_INT(st.epoch, 5);
  CHECK_EQ_INT(c.ev_state_epoch, 5);
  u.credit_epoch = 6;
  inject_fu(&p, 0, &u);
  CHECK_EQ_INT(nnrp_session_flow_operation_state(p.side[0], 70, &st), 0);
  CHECK_EQ_INT(st.paused, 0);
  /* An evicted operation comes back as new: its first update applies. */
  u.operation_id = 1;
  u.credit_epoch = 1;
  inject_fu(&p, 0, &u);
  CHECK_EQ_INT(nnrp_session_flow_operation_state(p.side[0], 1, &st), 0);
  CHECK_EQ_INT(st.epoch, 1);
  /* OPERATION pauses do not gate submits on this revision. */
  CHECK_EQ_INT(nnrp_session_submit_blocked(p.side[0]), 0);
  CHECK_EQ_INT(submit(&p, &c), 0);
  CHECK_EQ_INT(nnrp_session_flow_operation_state(p.side[0], 0, &st),
               NNRP_ERR_INVALID_ARGUMENT);
  finish(&p, &c);
}

/* ---- RESULT_HINT auto-pause (§8.6) -------------------------------------- */

static void send_hint(nnrp_pair *p, uint32_t state, uint32_t retry_ms) {
  nnrp_result_hint h;
  memset(&h, 0, sizeof(h));
  h.congestion_state = state;
  h.retry_after_ms = retry_ms;
  CHECK(nnrp_session_send_result_hint(p->side[1], 0, &h, p->now) > 0);
  nnrp_pair_pump(p);
}

TEST(auto_pause_on_saturated_hint) {
  nnrp_pair p;
  ctx c;
  if (!setup(&p, &c, 0))
    return;
  /* Off (default): hints are only surfaced. */
  send_hint(&p, NNRP_CONGESTION_SATURATED, 0);
  CHECK_EQ_INT(nnrp_pair_count(&p, 0, NNRP_EV_RESULT_HINT, 0), 1);
  CHECK_EQ_INT(submit(&p, &c), 0);
  CHECK_EQ_INT(nnrp_session_set_auto_pause(p.side[0], 1), 0);
  send_hint(&p, NNRP_CONGESTION_SATURATED, 0);
  CHECK_EQ_INT(nnrp_session_can_submit(p.side[0]), 0);
  CHECK_EQ_INT(nnrp_session_submit_blocked(p.side[0]),
               NNRP_SUBMIT_BLOCKED_HINT_PAUSE);
  CHECK_EQ_INT(submit(&p, &c), NNRP_ERR_WOULD_BLOCK);
  nnrp_pair_advance(&p, 5 * SEC); /* no retry_after: time does not resume */
  CHECK_EQ_INT(nnrp_session_can_submit(p.side[0]), 0);
  send_hint(&p, NNRP_CONGESTION_ELEVATED, 0); /* ELEVATED < SATURATED */
  CHECK_EQ_INT(nnrp_session_can_submit(p.side[0]), 1);
  send_hint(&p, NNRP_CONGESTION_SATURATED, 0);
  send_hint(&p, NNRP_CONGESTION_STEADY, 0);
  CHECK_EQ_INT(submit(&p, &c), 0);
  /* SATURATED with retry_after: resumes by itself exactly then. */
  uint64_t t0 = p.now;
  send_hint(&p, NNRP_CONGESTION_SATURATED, 100);
  CHECK_EQ_U64(nnrp_session_get_expiry(p.side[0]), t0 + 100 * MS);
  nnrp_pair_advance(&p, 100 * MS - 1);
  CHECK_EQ_INT(nnrp_session_can_submit(p.side[0]), 0);
  nnrp_pair_advance(&p, 1);
  CHECK_EQ_INT(nnrp_session_can_submit(p.side[0]), 1);
  /* Switching auto-pause off lifts a pending hint pause. */
  send_hint(&p, NNRP_CONGESTION_SATURATED, 0);
  CHECK_EQ_INT(nnrp_session_can_submit(p.side[0]), 0);
  CHECK_EQ_INT(nnrp_session_set_auto_pause(p.side[0], 0), 0);
  CHECK_EQ_INT(submit(&p, &c), 0);
  CHECK_EQ_INT(nnrp_pair_count(&p, 0, NNRP_EV_RESULT_HINT, 0), 7);
  finish(&p, &c);
}

TEST(auto_pause_with_d21_hints) {
  /* Server with automatic D21 hints and M = 2: the second frame makes it
   * SATURATED, the client pauses although its window (2) has room after a
   * result, and resumes when the server reports a lower state. */
  nnrp_server_profile sp;
  nnrp_server_profile_default(&sp);
  sp.max_concurrent_frames = 2;
  nnrp_pair p;
  ctx c;
  if (!setup_sp(&p, &c, &sp, 1))
    return;
  CHECK_EQ_INT(nnrp_session_set_auto_pause(p.side[0], 1), 0);
  CHECK_EQ_INT(submit(&p, &c), 0);
  CHECK_EQ_INT(submit(&p, &c), 0);
  nnrp_pair_pump(&p); /* STEADY at d = 1, SATURATED at d = 2 */
  CHECK(nnrp_session_submit_blocked(p.side[0]) &
        NNRP_SUBMIT_BLOCKED_HINT_PAUSE);
  answer(&p, &c, 1); /* d = 1: ELEVATED (from SATURATED) */
  CHECK_EQ_INT(nnrp_session_submit_blocked(p.side[0]), 0);
  CHECK_EQ_INT(submit(&p, &c), 0);
  finish(&p, &c);
}

/* ---- send_flow_update (api-seed.md §8) ---------------------------------- */

TEST(send_flow_update_epochs_and_flags) {
  nnrp_pair p;
  ctx c;
  if (!setup(&p, &c, 0))
    return;
  nnrp_session *srv = p.side[1];
  nnrp_flow_update_req r;
  nnrp_flow_update_req_default(&r);
  CHECK_EQ_INT(r.scope_kind, NNRP_FLOW_SCOPE_SESSION);
  CHECK_EQ_INT(r.update_reason, NNRP_FLOW_REASON_GRANT);
  /* 0: GRANT SESSION credit 5, auto epoch 1. */
  r.has_session_credit = 1;
  r.session_credit = 5;
  CHECK_EQ_INT(nnrp_session_send_flow_update(srv, &r, p.now), 72);
  /* 1: PAUSE SESSION retry 100, no credit, auto epoch 2. */
  nnrp_flow_update_req_default(&r);
  r.update_reason = NNRP_FLOW_REASON_PAUSE;
  r.has_retry_after = 1;
  r.retry_after_ms = 100;
  CHECK_EQ_INT(nnrp_session_send_flow_update(srv, &r, p.now), 72);
  /* 2: CONNECTION scope: own counter, epoch 1; retry not given -> 0. */
  nnrp_flow_update_req_default(&r);
  r.scope_kind = NNRP_FLOW_SCOPE_CONNECTION;
  r.update_reason = NNRP_FLOW_REASON_RESUME;
  r.retry_after_ms = 77; /* not given: not sent */
  CHECK_EQ_INT(nnrp_session_send_flow_update(srv, &r, p.now), 72);
  /* 3: SESSION explicit epoch 10; 4: auto continues at 11. */
  nnrp_flow_update_req_default(&r);
  r.update_reason = NNRP_FLOW_REASON_RESUME;
  r.credit_epoch = 10;
  r.backpressure_level = NNRP_BACKPRESSURE_SOFT;
  r.session_credit = 9; /* not given: not sent */
  CHECK_EQ_INT(nnrp_session_send_flow_update(srv, &r, p.now), 72);
  r.credit_epoch = 0;
  r.extra_flags = NNRP_FLOW_BACKGROUND_ONLY;
  CHECK_EQ_INT(nnrp_session_send_flow_update(srv, &r, p.now), 72);
  /* 5: OPERATION. */
  nnrp_flow_update_req_default(&r);
  r.scope_kind = NNRP_FLOW_SCOPE_OPERATION;
  r.operation_id = 42;
  r.has_operation_credit = 1;
  r.operation_credit = 1;
  CHECK_EQ_INT(nnrp_session_send_flow_update(srv, &r, p.now), 72);
  nnrp_pair_pump(&p);
  CHECK_EQ_INT(nnrp_pair_sent_count(&p, 1, NNRP_MSG_FLOW_UPDATE), 6);
  CHECK_EQ_INT(c.flow_events, 6);
  CHECK_EQ_INT(nnrp_pair_sent_count(&p, 0, NNRP_MSG_ERROR), 0);
  static const struct {
    uint8_t scope, reason, level;
    uint32_t epoch, flags, retry;
    uint16_t cc, sc, oc;
    uint64_t op;
    int session_hdr;
  } want[6] = {
      {1, 0, 0, 1, NNRP_FLOW_CREDIT_VALID, 0, 0, 5, 0, 0, 1},
      {1, 2, 0, 2, NNRP_FLOW_RETRY_AFTER_VALID, 100, 0, 0, 0, 0, 1},
      {0, 3, 0, 1, 0, 0, 0, 0, 0, 0, 0},
      {1, 3, 1, 10, 0, 0, 0, 0, 0, 0, 1},
      {1, 3, 1, 11, NNRP_FLOW_BACKGROUND_ONLY, 0, 0, 0, 0, 0, 1},
      {2, 0, 0, 1, NNRP_FLOW_CREDIT_VALID, 0, 0, 0, 1, 42, 1},
  };
  uint32_t sid = nnrp_session_id(srv);
  for (size_t i = 0; i < 6; i++) {
    nnrp_packet pk;
    if (!CHECK(nnrp_pair_sent(&p, 1, NNRP_MSG_FLOW_UPDATE, i, &pk)))
      continue;
    const nnrp_flow_update *u = &pk.m.flow_update;
    CHECK_EQ_INT(u->scope_kind, want[i].scope);
    CHECK_EQ_INT(u->update_reason, want[i].reason);
    CHECK_EQ_INT(u->backpressure_level, want[i].level);
    CHECK_EQ_INT(u->credit_epoch, want[i].epoch);
    CHECK_EQ_INT(u->flow_flags, want[i].flags);
    CHECK_EQ_INT(u->retry_after_ms, want[i].retry);
    CHECK_EQ_INT(u->connection_credit, want[i].cc);
    CHECK_EQ_INT(u->session_credit, want[i].sc);
    CHECK_EQ_INT(u->operation_credit, want[i].oc);
    CHECK_EQ_U64(u->operation_id, want[i].op);
    CHECK_EQ_INT(pk.hdr.session_id, want[i].session_hdr ? sid : 0);
    CHECK_EQ_INT(pk.hdr.frame_id, 0);
  }
  /* The client applied them: SESSION at epoch 11, paused by
   * BACKGROUND_ONLY, credit 5 from the first update. */
  nnrp_flow_state st = state_of(&p, 0, NNRP_FLOW_SCOPE_SESSION);
  CHECK_EQ_INT(st.epoch, 11);
  CHECK_EQ_INT(st.credit, 5);
  CHECK_EQ_INT(st.paused, 1);
  CHECK_EQ_INT(submit(&p, &c), NNRP_ERR_WOULD_BLOCK);
  nnrp_flow_update_req_default(&r);
  CHECK_EQ_INT(nnrp_session_send_flow_update(srv, &r, p.now), 72);
  nnrp_pair_pump(&p);
  CHECK_EQ_INT(state_of(&p, 0, NNRP_FLOW_SCOPE_SESSION).epoch, 12);
  CHECK_EQ_INT(fill(&p, &c), 5);
  finish(&p, &c);
}

TEST(send_flow_update_argument_checks) {
  nnrp_pair p;
  ctx c;
  if (!setup_sp(&p, &c, NULL, 0))
    return;
  nnrp_session *srv = p.side[1];
  nnrp_flow_update_req r;
  nnrp_flow_update_req_default(&r);
  /* Before the handshake. */
  CHECK_EQ_INT(nnrp_session_send_flow_update(srv, &r, p.now),
               NNRP_ERR_INVALID_STATE);
  if (!CHECK_EQ_INT(nnrp_pair_handshake(&p), 0))
    return;
  struct {
    int field;
    int64_t want;
  } cases[] = {{0, NNRP_ERR_INVALID_ARGUMENT}, {1, NNRP_ERR_INVALID_ARGUMENT},
               {2, NNRP_ERR_INVALID_ARGUMENT}, {3, NNRP_ERR_INVALID_ARGUMENT},
               {4, NNRP_ERR_INVALID_ARGUMENT}, {5, NNRP_ERR_INVALID_ARGUMENT},
               {6, NNRP_ERR_INVALID_ARGUMENT}, {7, NNRP_ERR_INVALID_ARGUMENT},
               {8, NNRP_ERR_INVALID_ARGUMENT}};
  for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
    nnrp_flow_update_req_default(&r);
    switch (cases[i].field) {
    case 0:
      r.update_reason = 5;
      break;
    case 1:
      r.scope_kind = 3;
      break;
    case 2:
      r.backpressure_level = 3;
      break; /* D9 */
    case 3:
      r.has_connection_credit = 1;
      break; /* SESSION scope */
    case 4:
      r.has_operation_credit = 1;
      break;
    case 5:
      r.operation_id = 7;
      break; /* not OPERATION scope */
    case 6:
      r.scope_kind = NNRP_FLOW_SCOPE_OPERATION;
      break; /* id 0 */
    case 7:
      r.extra_flags = NNRP_FLOW_CREDIT_VALID;
      break; /* derived */
    default:
      r.extra_flags = 0x10;
      break;
    }
    CHECK_EQ_INT(nnrp_session_send_flow_update(srv, &r, p.now), cases[i].want);
  }
  CHECK_EQ_INT(nnrp_session_send_flow_update(srv, NULL, p.now),
               NNRP_ERR_INVALID_ARGUMENT);
  nnrp_pair_pump(&p);
  CHECK_EQ_INT(nnrp_pair_sent_count(&p, 1, NNRP_MSG_FLOW_UPDATE), 0);
  /* A refused call consumed no epoch. */
  nnrp_flow_update_req_default(&r);
  CHECK_EQ_INT(nnrp_session_send_flow_update(srv, &r, p.now), 72);
  CHECK_EQ_INT(submit(&p, &c), 0);
  nnrp_pair_pump(&p);
  nnrp_packet pk;
  if (CHECK(nnrp_pair_sent(&p, 1, NNRP_MSG_FLOW_UPDATE, 0, &pk)))
    CHECK_EQ_INT(pk.m.flow_update.credit_epoch, 1);
  answer(&p, &c, 1);
  /* CLOSED refuses (DRAINING: see send_flow_update_while_draining). */
  CHECK_EQ_INT(nnrp_session_close(p.side[0], p.now), 0);
  nnrp_pair_pump(&p);
  CHECK_EQ_INT(nnrp_session_get_state(srv), NNRP_STATE_CLOSED);
  CHECK_EQ_INT(nnrp_session_send_flow_update(srv, &r, p.now), NNRP_ERR_CLOSED);
  finish(&p, &c);
}

TEST(send_flow_update_while_draining) {
  nnrp_pair p;
  ctx c;
  if (!setup(&p, &c, 0))
    return;
  CHECK_EQ_INT(submit(&p, &c), 0);
  nnrp_pair_pump(&p);
  CHECK_EQ_INT(nnrp_session_close(p.side[0], p.now), 0);
  nnrp_pair_pump(&p);
  CHECK_EQ_INT(nnrp_session_get_state(p.side[1]), NNRP_STATE_DRAINING);
  nnrp_flow_update_req r;
  nnrp_flow_update_req_default(&r);
  r.has_session_credit = 1;
  r.session_credit = 1;
  CHECK_EQ_INT(nnrp_session_send_flow_update(p.side[1], &r, p.now), 72);
  nnrp_pair_pump(&p);
  /* Received and applied in DRAINING (legality §4.2). */
  CHECK_EQ_INT(state_of(&p, 0, NNRP_FLOW_SCOPE_SESSION).credit, 1);
  CHECK_EQ_INT(nnrp_pair_sent_count(&p, 0, NNRP_MSG_ERROR), 0);
  finish(&p, &c);
}

/* ---- server credit policy ----------------------------------------------- */

TEST(credit_policy_grants_after_handshake) {
  nnrp_server_profile sp;
  nnrp_server_profile_default(&sp);
  sp.max_concurrent_frames = 8;
  sp.auto_result_hints = 0;
  nnrp_pair p;
  ctx c;
  if (!setup_sp(&p, &c, &sp, 0))
    return;
  CHECK_EQ_INT(nnrp_session_set_credit_policy(p.side[1], 2, p.now), 0);
  CHECK_EQ_INT(nnrp_session_set_credit_policy(p.side[0], 2, p.now),
               NNRP_ERR_INVALID_ARGUMENT);
  if (!CHECK_EQ_INT(nnrp_pair_handshake(&p), 0))
    return;
  /* SERVER_HELLO_ACK first, the GRANT right after it. */
  nnrp_packet pk;
  if (CHECK(nnrp_pair_sent(&p, 1, NNRP_MSG_SERVER_HELLO_ACK, 0, &pk))) {
    CHECK_EQ_INT(p.tap[1][6], NNRP_MSG_SERVER_HELLO_ACK);
    size_t ack_len = NNRP_HEADER_LEN + pk.hdr.meta_len + pk.hdr.body_len;
    CHECK(p.tap_len[1] > ack_len + 6);
    CHECK_EQ_INT(p.tap[1][ack_len + 6], NNRP_MSG_FLOW_UPDATE);
  }
  if (CHECK(nnrp_pair_sent(&p, 1, NNRP_MSG_FLOW_UPDATE, 0, &pk))) {
    CHECK_EQ_INT(pk.m.flow_update.update_reason, NNRP_FLOW_REASON_GRANT);
    CHECK_EQ_INT(pk.m.flow_update.scope_kind, NNRP_FLOW_SCOPE_SESSION);
    CHECK_EQ_INT(pk.m.flow_update.session_credit, 2);
    CHECK_EQ_INT(pk.m.flow_update.flow_flags, NNRP_FLOW_CREDIT_VALID);
    CHECK_EQ_INT(pk.m.flow_update.credit_epoch, 1);
  }
  CHECK_EQ_INT(fill(&p, &c), 2); /* below max_concurrent_frames 8 */
  /* A steady window: as frames finish, slots come back (no re-grant). */
  answer(&p, &c, 2);
  CHECK_EQ_INT(fill(&p, &c), 2);
  CHECK_EQ_INT(nnrp_pair_sent_count(&p, 1, NNRP_MSG_FLOW_UPDATE), 1);
  /* Wider: GRANT epoch 2; narrower: REDUCE epoch 3; same: nothing. */
  CHECK_EQ_INT(nnrp_session_set_credit_policy(p.side[1], 3, p.now), 72);
  CHECK_EQ_INT(nnrp_session_set_credit_policy(p.side[1], 3, p.now), 0);
  nnrp_pair_pump(&p);
  CHECK_EQ_INT(fill(&p, &c), 1);
  CHECK_EQ_INT(nnrp_session_set_credit_policy(p.side[1], 1, p.now), 72);
  nnrp_pair_pump(&p);
  if (CHECK(nnrp_pair_sent(&p, 1, NNRP_MSG_FLOW_UPDATE, 2, &pk))) {
    CHECK_EQ_INT(pk.m.flow_update.update_reason, NNRP_FLOW_REASON_REDUCE);
    CHECK_EQ_INT(pk.m.flow_update.session_credit, 1);
    CHECK_EQ_INT(pk.m.flow_update.credit_epoch, 3);
  }
  CHECK_EQ_INT(nnrp_session_in_flight(p.side[0]), 3); /* nothing cancelled */
  answer(&p, &c, 2);
  CHECK_EQ_INT(nnrp_session_can_submit(p.side[0]), 0); /* 1 in flight */
  answer(&p, &c, 1);
  CHECK_EQ_INT(fill(&p, &c), 1);
  /* Off: nothing sent, the client keeps the last credit. */
  CHECK_EQ_INT(nnrp_session_set_credit_policy(p.side[1], 0, p.now), 0);
  nnrp_pair_pump(&p);
  CHECK_EQ_INT(nnrp_pair_sent_count(&p, 1, NNRP_MSG_FLOW_UPDATE), 3);
  finish(&p, &c);
}

TEST(overloaded_policy_pauses_and_resumes) {
  nnrp_server_profile sp;
  nnrp_server_profile_default(&sp);
  sp.max_concurrent_frames = 0;
  sp.auto_result_hints = 0;
  nnrp_pair p;
  ctx c;
  if (!setup_sp(&p, &c, &sp, 1))
    return;
  nnrp_session *srv = p.side[1];
  CHECK_EQ_INT(nnrp_session_set_credit_policy(srv, 4, p.now), 72);
  nnrp_pair_pump(&p);
  CHECK_EQ_INT(fill(&p, &c), 4);
  /* Queue full, retry in 200 ms: PAUSE, HARD, RETRY_AFTER_VALID, credit. */
  uint64_t t0 = p.now;
  CHECK_EQ_INT(nnrp_session_set_overloaded(srv, 1, 200, p.now), 72);
  nnrp_pair_pump(&p);
  nnrp_packet pk;
  if (CHECK(nnrp_pair_sent(&p, 1, NNRP_MSG_FLOW_UPDATE, 1, &pk))) {
    const nnrp_flow_update *u = &pk.m.flow_update;
    CHECK_EQ_INT(u->update_reason, NNRP_FLOW_REASON_PAUSE);
    CHECK_EQ_INT(u->backpressure_level, NNRP_BACKPRESSURE_HARD);
    CHECK_EQ_INT(u->flow_flags,
                 NNRP_FLOW_CREDIT_VALID | NNRP_FLOW_RETRY_AFTER_VALID);
    CHECK_EQ_INT(u->retry_after_ms, 200);
    CHECK_EQ_INT(u->session_credit, 4);
    CHECK_EQ_INT(u->credit_epoch, 2);
  }
  answer(&p, &c, 4); /* frames in flight finish normally */
  CHECK_EQ_INT(nnrp_session_submit_blocked(p.side[0]),
               NNRP_SUBMIT_BLOCKED_PEER_PAUSE);
  /* A window change while overloaded waits for the RESUME. */
  CHECK_EQ_INT(nnrp_session_set_credit_policy(srv, 2, p.now), 0);
  nnrp_pair_advance(&p, t0 + 200 * MS - p.now - 1);
  CHECK_EQ_INT(nnrp_session_can_submit(p.side[0]), 0);
  nnrp_pair_advance(&p, 1);
  CHECK_EQ_INT(fill(&p, &c), 4); /* resumed by itself; old credit 4 */
  /* Still full: pause again, this time until cleared. */
  CHECK_EQ_INT(nnrp_session_set_overloaded(srv, 1, 0, p.now), 72);
  nnrp_pair_pump(&p);
  if (CHECK(nnrp_pair_sent(&p, 1, NNRP_MSG_FLOW_UPDATE, 2, &pk))) {
    CHECK_EQ_INT(pk.m.flow_update.flow_flags, NNRP_FLOW_CREDIT_VALID);
    CHECK_EQ_INT(pk.m.flow_update.retry_after_ms, 0);
    CHECK_EQ_INT(pk.m.flow_update.session_credit, 2);
  }
  answer(&p, &c, 4);
  nnrp_pair_advance(&p, 5 * SEC);
  CHECK_EQ_INT(nnrp_session_can_submit(p.side[0]), 0);
  /* Cleared: RESUME, level NONE, the new window. */
  CHECK_EQ_INT(nnrp_session_set_overloaded(srv, 0, 0, p.now), 72);
  CHECK_EQ_INT(nnrp_session_set_overloaded(srv, 0, 0, p.now), 0);
  nnrp_pair_pump(&p);
  if (CHECK(nnrp_pair_sent(&p, 1, NNRP_MSG_FLOW_UPDATE, 3, &pk))) {
    CHECK_EQ_INT(pk.m.flow_update.update_reason, NNRP_FLOW_REASON_RESUME);
    CHECK_EQ_INT(pk.m.flow_update.backpressure_level, NNRP_BACKPRESSURE_NONE);
    CHECK_EQ_INT(pk.m.flow_update.flow_flags, NNRP_FLOW_CREDIT_VALID);
    CHECK_EQ_INT(pk.m.flow_update.session_credit, 2);
    CHECK_EQ_INT(pk.m.flow_update.credit_epoch, 4);
  }
  CHECK_EQ_INT(nnrp_pair_sent_count(&p, 1, NNRP_MSG_FLOW_UPDATE), 4);
  CHECK_EQ_INT(fill(&p, &c), 2);
  CHECK_EQ_INT(nnrp_session_set_overloaded(p.side[0], 1, 0, p.now),
               NNRP_ERR_INVALID_ARGUMENT);
  finish(&p, &c);
}

TEST(overloaded_before_handshake_without_window) {
  nnrp_pair p;
  ctx c;
  if (!setup_sp(&p, &c, NULL, 0))
    return;
  CHECK_EQ_INT(nnrp_session_set_overloaded(p.side[1], 1, 50, p.now), 0);
  if (!CHECK_EQ_INT(nnrp_pair_handshake(&p), 0))
    return;
  nnrp_packet pk;
  if (CHECK(nnrp_pair_sent(&p, 1, NNRP_MSG_FLOW_UPDATE, 0, &pk))) {
    CHECK_EQ_INT(pk.m.flow_update.update_reason, NNRP_FLOW_REASON_PAUSE);
    CHECK_EQ_INT(pk.m.flow_update.flow_flags, NNRP_FLOW_RETRY_AFTER_VALID);
    CHECK_EQ_INT(pk.m.flow_update.session_credit, 0);
  }
  CHECK_EQ_INT(nnrp_session_can_submit(p.side[0]), 0);
  nnrp_pair_advance(&p, 50 * MS);
  CHECK_EQ_INT(submit(&p, &c), 0); /* default M = 1 */
  finish(&p, &c);
}

/* ---- allocation failure ------------------------------------------------- */

static void *fail_malloc(size_t n, void *u) {
  int *armed = u;
  return *armed ? NULL : malloc(n);
}
static void *fail_realloc(void *ptr, size_t n, void *u) {
  int *armed = u;
  return *armed ? NULL : realloc(ptr, n);
}
static void plain_free(void *ptr, void *u) {
  (void)u;
  free(ptr);
}

TEST(flow_state_allocation_failure_is_clean) {
  int armed = 0;
  nnrp_mem mem = {&armed, fail_malloc, fail_realloc, plain_free};
  nnrp_client_profile cp;
  nnrp_client_profile_default(&cp);
  nnrp_session *s = NULL;
  if (!CHECK_EQ_INT(nnrp_session_client_new(&s, &cp, NULL, &mem), 0))
    return;
  armed = 1;
  CHECK_EQ_INT(nnrp_session_pause_submit(s), NNRP_ERR_NOMEM);
  CHECK_EQ_INT(nnrp_session_set_auto_pause(s, 1), NNRP_ERR_NOMEM);
  nnrp_flow_state st;
  CHECK_EQ_INT(nnrp_session_flow_state(s, NNRP_FLOW_SCOPE_SESSION, &st), 0);
  CHECK_EQ_INT(st.known, 0);
  armed = 0;
  CHECK_EQ_INT(nnrp_session_pause_submit(s), 0);
  CHECK_EQ_INT(nnrp_session_in_flight(s), 0); /* nothing submitted */
  nnrp_session_del(s);                        /* ASan: no leak */
}

int main(void) {
  RUN(epochs_first_older_equal_greater);
  RUN(credit_without_flag_is_ignored);
  RUN(window_is_min_of_session_connection_and_max_concurrent);
  RUN(credit_zero_blocks_then_grant_opens);
  RUN(reduce_below_in_flight_cancels_nothing);
  RUN(pause_blocks_until_resume);
  RUN(pause_with_retry_after_resumes_exactly_then);
  RUN(submit_at_pause_end_without_expiry_call);
  RUN(hard_level_and_pause_flags_pause);
  RUN(app_pause_submit_gate);
  RUN(connection_scope_travels_with_session_zero);
  RUN(client_sent_update_is_surfaced_on_server);
  RUN(operation_updates_bounded_and_not_gating);
  RUN(auto_pause_on_saturated_hint);
  RUN(auto_pause_with_d21_hints);
  RUN(send_flow_update_epochs_and_flags);
  RUN(send_flow_update_argument_checks);
  RUN(send_flow_update_while_draining);
  RUN(credit_policy_grants_after_handshake);
  RUN(overloaded_policy_pauses_and_resumes);
  RUN(overloaded_before_handshake_without_window);
  RUN(flow_state_allocation_failure_is_clean);
  TEST_MAIN_END();
}
