/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_session_frames.c - client and server sessions back to back in
 * memory with a fake clock: submits, results, streaming, drops, cancel,
 * discard, budgets and deadlines, the in-flight window, keep-alive, close
 * and drain, ERROR paths (session.md §5-§8), and "exactly one terminal
 * event per frame" (D15) on every path.
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

static void make_submit(nnrp_submit *r, uint16_t budget_ms) {
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
  r->meta.latency_budget_ms = budget_ms;
  r->body.tensor = &tensor;
}

static void make_result(nnrp_result *r, int final) {
  memset(r, 0, sizeof(*r));
  r->body.tensor = &tensor; /* echo the same tile */
  r->final = (uint8_t)final;
}

/* Server callback: remembers submitted frame ids; optionally answers. */
typedef struct server_ctx {
  int auto_answer;
  uint32_t ids[256];
  size_t n;
} server_ctx;

static void on_event(nnrp_pair *p, int side, const nnrp_event *ev, void *u) {
  server_ctx *c = u;
  if (side != NNRP_PAIR_SERVER || ev->type != NNRP_EV_SUBMIT || c == NULL)
    return;
  if (c->n < 256)
    c->ids[c->n++] = ev->frame_id;
  if (c->auto_answer) {
    nnrp_result r;
    make_result(&r, 1);
    (void)nnrp_session_send_result(p->side[1], ev->frame_id, &r, p->now);
  }
}

static int setup(nnrp_pair *p, server_ctx *c, uint16_t max_conc) {
  nnrp_server_profile sp;
  nnrp_server_profile_default(&sp);
  sp.max_concurrent_frames = max_conc;
  if (!CHECK_EQ_INT(nnrp_pair_init(p, NULL, &sp, NULL, NULL), 0))
    return 0;
  p->cb = on_event;
  p->user = c;
  return CHECK_EQ_INT(nnrp_pair_handshake(p), 0);
}

/* Every frame id 1..n got exactly one terminal on the client. */
static void check_one_terminal(nnrp_pair *p, uint32_t first, uint32_t last) {
  for (uint32_t id = first; id <= last; id++) {
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
}

/* ---- tests ------------------------------------------------------------- */

TEST(submit_result_round_trip) {
  nnrp_pair p;
  server_ctx c = {1, {0}, 0};
  if (!setup(&p, &c, 4))
    return;
  nnrp_submit r;
  make_submit(&r, 0);
  uint32_t id = 0;
  CHECK_EQ_INT(nnrp_session_submit(p.side[0], &r, &id, p.now), 0);
  CHECK_EQ_INT(id, 1);
  CHECK_EQ_INT(nnrp_session_in_flight(p.side[0]), 1);
  nnrp_pair_pump(&p);
  CHECK_EQ_INT(nnrp_pair_count(&p, 1, NNRP_EV_SUBMIT, 1), 1);
  CHECK_EQ_INT(nnrp_pair_count(&p, 0, NNRP_EV_RESULT, 1), 1);
  CHECK_EQ_INT(nnrp_pair_count(&p, 0, NNRP_EV_SENT, 1), 1);
  CHECK_EQ_INT(nnrp_pair_count(&p, 1, NNRP_EV_SENT, 1), 1);
  CHECK_EQ_INT(nnrp_session_in_flight(p.side[0]), 0);
  CHECK_EQ_INT(nnrp_session_in_flight(p.side[1]), 0);
  /* The result carries EOS and echoes the submit's ids (§7.3 rule 4). */
  nnrp_packet pk;
  if (CHECK(nnrp_pair_sent(&p, 1, NNRP_MSG_RESULT_PUSH, 0, &pk))) {
    CHECK(pk.hdr.flags & NNRP_FLAG_EOS);
    CHECK_EQ_INT(pk.hdr.frame_id, 1);
    CHECK_EQ_INT(pk.hdr.session_id, nnrp_session_id(p.side[0]));
  }
  check_one_terminal(&p, 1, 1);
  nnrp_pair_free(&p);
}

TEST(window_limits_in_flight) {
  nnrp_pair p;
  server_ctx c = {0, {0}, 0};
  if (!setup(&p, &c, 8))
    return;
  nnrp_submit r;
  make_submit(&r, 0);
  for (int i = 0; i < 8; i++)
    CHECK_EQ_INT(nnrp_session_submit(p.side[0], &r, NULL, p.now), 0);
  CHECK_EQ_INT(nnrp_session_can_submit(p.side[0]), 0);
  CHECK_EQ_INT(nnrp_session_submit(p.side[0], &r, NULL, p.now),
               NNRP_ERR_WOULD_BLOCK);
  nnrp_pair_pump(&p);
  CHECK_EQ_INT(c.n, 8);
  /* Answer in reverse order: results route by frame id. */
  nnrp_result res;
  make_result(&res, 1);
  for (size_t i = c.n; i-- > 0;)
    CHECK(nnrp_session_send_result(p.side[1], c.ids[i], &res, p.now) > 0);
  nnrp_pair_pump(&p);
  CHECK_EQ_INT(nnrp_session_in_flight(p.side[0]), 0);
  CHECK_EQ_INT(nnrp_session_can_submit(p.side[0]), 1);
  check_one_terminal(&p, 1, 8);
  nnrp_pair_free(&p);
}

TEST(streaming_results_end_on_eos) {
  nnrp_pair p;
  server_ctx c = {0, {0}, 0};
  if (!setup(&p, &c, 4))
    return;
  nnrp_submit r;
  make_submit(&r, 0);
  r.stream = 1;
  CHECK_EQ_INT(nnrp_session_submit(p.side[0], &r, NULL, p.now), 0);
  r.stream = 0;
  CHECK_EQ_INT(nnrp_session_submit(p.side[0], &r, NULL, p.now), 0);
  nnrp_pair_pump(&p);
  nnrp_result chunk;
  make_result(&chunk, 0);
  /* Frame 1 (streaming): two chunks, then the final one. */
  CHECK(nnrp_session_send_result(p.side[1], 1, &chunk, p.now) > 0);
  CHECK(nnrp_session_send_result(p.side[1], 1, &chunk, p.now) > 0);
  chunk.final = 1;
  CHECK(nnrp_session_send_result(p.side[1], 1, &chunk, p.now) > 0);
  /* After the final chunk the frame is finished: a no-op (§7.2). */
  CHECK_EQ_INT(nnrp_session_send_result(p.side[1], 1, &chunk, p.now), 0);
  /* Frame 2 (not streaming): a non-final push still ends it. */
  chunk.final = 0;
  CHECK(nnrp_session_send_result(p.side[1], 2, &chunk, p.now) > 0);
  chunk.final = 1;
  CHECK(nnrp_session_send_result(p.side[1], 2, &chunk, p.now) > 0);
  nnrp_pair_pump(&p);
  CHECK_EQ_INT(nnrp_pair_count(&p, 0, NNRP_EV_RESULT, 1), 3);
  CHECK_EQ_INT(nnrp_pair_count(&p, 0, NNRP_EV_RESULT, 2), 1);
  check_one_terminal(&p, 1, 2);
  nnrp_pair_free(&p);
}

TEST(drop_and_cancel_and_discard) {
  nnrp_pair p;
  server_ctx c = {0, {0}, 0};
  if (!setup(&p, &c, 8))
    return;
  nnrp_submit r;
  make_submit(&r, 0);
  for (int i = 0; i < 3; i++)
    CHECK_EQ_INT(nnrp_session_submit(p.side[0], &r, NULL, p.now), 0);
  nnrp_pair_pump(&p);
  /* 1: dropped by the application. */
  CHECK_EQ_INT(nnrp_session_send_result_drop(p.side[1], 1, 0, p.now), 40);
  CHECK_EQ_INT(nnrp_session_send_result_drop(p.side[1], 1, 0, p.now), 0);
  /* 2: cancelled by the client: local terminal now, server drops it. */
  CHECK_EQ_INT(nnrp_session_cancel(p.side[0], 2, p.now), 0);
  CHECK_EQ_INT(nnrp_session_cancel(p.side[0], 2, p.now), NNRP_ERR_NOT_FOUND);
  /* 3: discarded: no event at all, FRAME_CANCEL sent. */
  CHECK_EQ_INT(nnrp_session_discard(p.side[0], 3, p.now), 0);
  nnrp_pair_pump(&p);
  CHECK_EQ_INT(nnrp_pair_count(&p, 0, NNRP_EV_DROP, 1), 1);
  CHECK_EQ_INT(nnrp_pair_count(&p, 0, NNRP_EV_FRAME_FAILED, 2), 1);
  CHECK_EQ_INT(nnrp_pair_count(&p, 1, NNRP_EV_CANCELLED, 2), 1);
  CHECK_EQ_INT(nnrp_pair_count(&p, 1, NNRP_EV_CANCELLED, 3), 1);
  CHECK_EQ_INT(nnrp_pair_sent_count(&p, 0, NNRP_MSG_FRAME_CANCEL), 2);
  /* The server's drops for 2 and 3 are discarded silently by the client. */
  CHECK_EQ_INT(nnrp_pair_sent_count(&p, 1, NNRP_MSG_RESULT_DROP), 3);
  CHECK_EQ_INT(nnrp_pair_count(&p, 0, NNRP_EV_DROP, 2), 0);
  CHECK_EQ_INT(nnrp_pair_count(&p, 0, NNRP_EV_DROP, 3), 0);
  CHECK_EQ_INT(nnrp_session_in_flight(p.side[0]), 0);
  CHECK_EQ_INT(nnrp_session_in_flight(p.side[1]), 0);
  for (size_t i = 0; i < p.nlog; i++)
    if (p.log[i].side == 0 && p.log[i].frame_id == 2 &&
        p.log[i].type == NNRP_EV_FRAME_FAILED)
      CHECK_EQ_INT(p.log[i].error_code, NNRP_ERROR_CODE_FRAME_CANCELLED);
  nnrp_pair_free(&p);
}

TEST(server_budget_expiry_drops_with_hint) {
  nnrp_pair p;
  server_ctx c = {0, {0}, 0};
  if (!setup(&p, &c, 4))
    return;
  nnrp_submit r;
  make_submit(&r, 10); /* 10 ms budget */
  CHECK_EQ_INT(nnrp_session_submit(p.side[0], &r, NULL, p.now), 0);
  nnrp_pair_pump(&p);
  nnrp_pair_advance(&p, 9 * MS);
  CHECK_EQ_INT(nnrp_pair_count(&p, 0, NNRP_EV_DROP, 1), 0);
  nnrp_pair_advance(&p, 2 * MS);
  CHECK_EQ_INT(nnrp_pair_count(&p, 0, NNRP_EV_DROP, 1), 1);
  CHECK_EQ_INT(nnrp_pair_count(&p, 1, NNRP_EV_CANCELLED, 1), 1);
  /* RESULT_HINT for the frame: applied DROP, reason BUDGET_EXCEEDED. */
  int found = 0;
  nnrp_packet pk;
  for (size_t i = 0; nnrp_pair_sent(&p, 1, NNRP_MSG_RESULT_HINT, i, &pk); i++)
    if (pk.hdr.frame_id == 1 &&
        pk.m.result_hint.reason == NNRP_HINT_REASON_BUDGET_EXCEEDED &&
        pk.m.result_hint.applied_budget_policy == NNRP_HINT_BUDGET_DROP)
      found = 1;
  CHECK(found);
  /* The application's late answer is a no-op. */
  nnrp_result res;
  make_result(&res, 1);
  CHECK_EQ_INT(nnrp_session_send_result(p.side[1], 1, &res, p.now), 0);
  check_one_terminal(&p, 1, 1);
  nnrp_pair_free(&p);
}

TEST(client_local_deadline_expires) {
  nnrp_pair p;
  server_ctx c = {0, {0}, 0};
  if (!setup(&p, &c, 4))
    return;
  p.cut[1] = 1; /* the server's drop never arrives */
  nnrp_submit r;
  make_submit(&r, 10);
  CHECK_EQ_INT(nnrp_session_submit(p.side[0], &r, NULL, p.now), 0);
  nnrp_pair_pump(&p);
  nnrp_pair_advance(&p, 500 * MS);
  CHECK_EQ_INT(nnrp_pair_count(&p, 0, NNRP_EV_FRAME_FAILED, 1), 0);
  nnrp_pair_advance(&p, 600 * MS); /* budget + 1 s client grace passed */
  CHECK_EQ_INT(nnrp_pair_count(&p, 0, NNRP_EV_FRAME_FAILED, 1), 1);
  CHECK_EQ_INT(p.log[p.nlog - 1].error_code, NNRP_ERROR_CODE_FRAME_EXPIRED);
  CHECK_EQ_INT(nnrp_pair_sent_count(&p, 0, NNRP_MSG_FRAME_CANCEL), 1);
  CHECK_EQ_INT(nnrp_session_in_flight(p.side[0]), 0);
  /* An absolute deadline already passed: nothing is sent. */
  r.deadline = p.now - 1;
  CHECK_EQ_INT(nnrp_session_submit(p.side[0], &r, NULL, p.now),
               NNRP_ERR_TIMEOUT);
  nnrp_pair_free(&p);
}

TEST(duplicate_frame_id_is_frame_scoped_error) {
  nnrp_pair p;
  server_ctx c = {0, {0}, 0};
  if (!setup(&p, &c, 8))
    return;
  nnrp_submit r;
  make_submit(&r, 0);
  CHECK_EQ_INT(nnrp_session_submit(p.side[0], &r, NULL, p.now), 0);
  nnrp_pair_pump(&p);
  /* Replay the client's FRAME_SUBMIT bytes: same id again. */
  nnrp_packet pk;
  if (!CHECK(nnrp_pair_sent(&p, 0, NNRP_MSG_FRAME_SUBMIT, 0, &pk)))
    return;
  size_t len = NNRP_HEADER_LEN + pk.hdr.meta_len + pk.hdr.body_len;
  uint8_t *copy = malloc(len);
  memcpy(copy, pk.meta_raw.ptr - NNRP_HEADER_LEN, len);
  nnrp_pair_inject(&p, NNRP_PAIR_SERVER, copy, len);
  free(copy);
  CHECK_EQ_INT(nnrp_pair_count(&p, 1, NNRP_EV_SUBMIT, 1), 1);
  if (CHECK(nnrp_pair_sent(&p, 1, NNRP_MSG_ERROR, 0, &pk))) {
    CHECK_EQ_INT(pk.m.error.error_code, NNRP_ERROR_CODE_INVALID_STATE);
    CHECK_EQ_INT(pk.m.error.error_scope, NNRP_ERROR_SCOPE_FRAME);
    CHECK_EQ_INT(pk.m.error.is_fatal, 0);
    CHECK_EQ_INT(pk.m.error.related_frame_id, 1);
  }
  CHECK_EQ_INT(nnrp_session_get_state(p.side[1]), NNRP_STATE_ACTIVE);
  /* The client: the ERROR names frame 1, which is in flight -> it fails. */
  CHECK_EQ_INT(nnrp_pair_count(&p, 0, NNRP_EV_FRAME_FAILED, 1), 1);
  check_one_terminal(&p, 1, 1);
  nnrp_pair_free(&p);
}

TEST(keepalive_ping_and_dead_peer) {
  nnrp_pair p;
  server_ctx c = {1, {0}, 0};
  if (!setup(&p, &c, 4))
    return;
  nnrp_pair_advance(&p, 10 * SEC + 1);
  CHECK(nnrp_pair_sent_count(&p, 0, NNRP_MSG_PING) >= 1);
  CHECK(nnrp_pair_sent_count(&p, 1, NNRP_MSG_PONG) >= 1);
  CHECK_EQ_INT(nnrp_session_get_state(p.side[0]), NNRP_STATE_ACTIVE);
  /* Now the server goes silent: dead after 30 s, frames fail. */
  nnrp_submit r;
  make_submit(&r, 0);
  c.auto_answer = 0;
  CHECK_EQ_INT(nnrp_session_submit(p.side[0], &r, NULL, p.now), 0);
  nnrp_pair_pump(&p);
  p.cut[1] = 1;
  for (int i = 0; i < 31; i++)
    nnrp_pair_advance(&p, SEC);
  CHECK_EQ_INT(nnrp_session_get_state(p.side[0]), NNRP_STATE_CLOSED);
  CHECK_EQ_INT(nnrp_pair_count(&p, 0, NNRP_EV_FRAME_FAILED, 1), 1);
  CHECK_EQ_INT(nnrp_pair_count(&p, 0, NNRP_EV_CLOSED, 0), 1);
  check_one_terminal(&p, 1, 1);
  nnrp_pair_free(&p);
}

TEST(graceful_close_drains_in_flight_frames) {
  nnrp_pair p;
  server_ctx c = {0, {0}, 0};
  if (!setup(&p, &c, 8))
    return;
  nnrp_submit r;
  make_submit(&r, 0);
  for (int i = 0; i < 3; i++)
    CHECK_EQ_INT(nnrp_session_submit(p.side[0], &r, NULL, p.now), 0);
  nnrp_pair_pump(&p);
  CHECK_EQ_INT(nnrp_session_close(p.side[0], p.now), 0);
  nnrp_pair_pump(&p);
  CHECK_EQ_INT(nnrp_session_get_state(p.side[0]), NNRP_STATE_DRAINING);
  CHECK_EQ_INT(nnrp_session_get_state(p.side[1]), NNRP_STATE_DRAINING);
  CHECK_EQ_INT(nnrp_pair_count(&p, 1, NNRP_EV_CLOSING, 0), 1);
  CHECK_EQ_INT(nnrp_session_submit(p.side[0], &r, NULL, p.now),
               NNRP_ERR_INVALID_STATE);
  nnrp_result res;
  make_result(&res, 1);
  for (uint32_t id = 1; id <= 3; id++)
    CHECK(nnrp_session_send_result(p.side[1], id, &res, p.now) > 0);
  nnrp_pair_pump(&p);
  CHECK_EQ_INT(nnrp_session_get_state(p.side[1]), NNRP_STATE_CLOSED);
  CHECK_EQ_INT(nnrp_session_get_state(p.side[0]), NNRP_STATE_CLOSED);
  CHECK_EQ_INT(nnrp_pair_sent_count(&p, 1, NNRP_MSG_CLOSE), 1);
  check_one_terminal(&p, 1, 3);
  nnrp_pair_free(&p);
}

TEST(drain_timeout_drops_unanswered_frames) {
  nnrp_pair p;
  server_ctx c = {0, {0}, 0};
  nnrp_server_profile sp;
  nnrp_server_profile_default(&sp);
  sp.max_concurrent_frames = 8;
  /* The closer waits longer than the server drains, as it would over a real
   * network (the server's timer starts when CLOSE arrives). */
  nnrp_session_settings cs;
  nnrp_session_settings_default(&cs);
  cs.drain_timeout_ns = 3 * SEC;
  if (!CHECK_EQ_INT(nnrp_pair_init(&p, NULL, &sp, &cs, NULL), 0))
    return;
  p.cb = on_event;
  p.user = &c;
  if (!CHECK_EQ_INT(nnrp_pair_handshake(&p), 0))
    return;
  nnrp_submit r;
  make_submit(&r, 0);
  for (int i = 0; i < 2; i++)
    CHECK_EQ_INT(nnrp_session_submit(p.side[0], &r, NULL, p.now), 0);
  nnrp_pair_pump(&p);
  CHECK_EQ_INT(nnrp_session_close(p.side[0], p.now), 0);
  nnrp_pair_pump(&p);
  nnrp_pair_advance(&p, 2 * SEC + 1);
  CHECK_EQ_INT(nnrp_session_get_state(p.side[1]), NNRP_STATE_CLOSED);
  CHECK_EQ_INT(nnrp_pair_sent_count(&p, 1, NNRP_MSG_RESULT_DROP), 2);
  CHECK_EQ_INT(nnrp_pair_count(&p, 0, NNRP_EV_DROP, 0), 2);
  /* The drops emptied the client; the server's CLOSE completes its close. */
  CHECK_EQ_INT(nnrp_session_get_state(p.side[0]), NNRP_STATE_CLOSED);
  CHECK_EQ_INT(nnrp_pair_count(&p, 0, NNRP_EV_CLOSED, 0), 1);
  check_one_terminal(&p, 1, 2);
  nnrp_pair_free(&p);
}

TEST(fatal_peer_error_fails_every_frame) {
  nnrp_pair p;
  server_ctx c = {0, {0}, 0};
  if (!setup(&p, &c, 8))
    return;
  nnrp_submit r;
  make_submit(&r, 0);
  for (int i = 0; i < 4; i++)
    CHECK_EQ_INT(nnrp_session_submit(p.side[0], &r, NULL, p.now), 0);
  nnrp_pair_pump(&p);
  /* Garbage from the "server": bad magic is connection-fatal (D18). */
  static const uint8_t junk[40] = {'X', 'N', 'R', 'P', 1, 0, 0x20, 40};
  CHECK(nnrp_pair_inject(&p, NNRP_PAIR_CLIENT, junk, sizeof(junk)) < 0);
  CHECK_EQ_INT(nnrp_session_get_state(p.side[0]), NNRP_STATE_CLOSED);
  CHECK_EQ_INT(nnrp_session_want_close(p.side[0]), 1);
  CHECK_EQ_INT(nnrp_pair_count(&p, 0, NNRP_EV_FRAME_FAILED, 0), 4);
  check_one_terminal(&p, 1, 4);
  nnrp_packet pk;
  if (CHECK(nnrp_pair_sent(&p, 0, NNRP_MSG_ERROR, 0, &pk))) {
    CHECK_EQ_INT(pk.m.error.error_code, NNRP_ERROR_CODE_MALFORMED_HEADER);
    CHECK_EQ_INT(pk.m.error.error_scope, NNRP_ERROR_SCOPE_CONNECTION);
    CHECK_EQ_INT(pk.m.error.is_fatal, 1);
  }
  nnrp_pair_free(&p);
}

TEST(foreign_session_and_unknown_results) {
  nnrp_pair p;
  server_ctx c = {0, {0}, 0};
  if (!setup(&p, &c, 8))
    return;
  /* A RESULT_DROP for a frame the client never sent: silently ignored. */
  uint8_t drop[40];
  nnrp_header h;
  nnrp_header_init(&h, NNRP_MSG_RESULT_DROP);
  h.session_id = nnrp_session_id(p.side[0]);
  h.frame_id = 77;
  nnrp_header_encode(&h, drop);
  nnrp_pair_inject(&p, NNRP_PAIR_CLIENT, drop, sizeof(drop));
  CHECK_EQ_INT(nnrp_pair_count(&p, 0, NNRP_EV_DROP, 0), 0);
  CHECK_EQ_INT(nnrp_pair_sent_count(&p, 0, NNRP_MSG_ERROR), 0);
  /* The same with another session id: INVALID_STATE, SESSION, not fatal. */
  h.session_id += 1;
  nnrp_header_encode(&h, drop);
  nnrp_pair_inject(&p, NNRP_PAIR_CLIENT, drop, sizeof(drop));
  nnrp_packet pk;
  if (CHECK(nnrp_pair_sent(&p, 0, NNRP_MSG_ERROR, 0, &pk))) {
    CHECK_EQ_INT(pk.m.error.error_code, NNRP_ERROR_CODE_INVALID_STATE);
    CHECK_EQ_INT(pk.m.error.error_scope, NNRP_ERROR_SCOPE_SESSION);
    CHECK_EQ_INT(pk.m.error.is_fatal, 0);
  }
  CHECK_EQ_INT(nnrp_session_get_state(p.side[0]), NNRP_STATE_ACTIVE);
  nnrp_pair_free(&p);
}

TEST(result_class_needs_budget_bit) {
  nnrp_pair p;
  server_ctx c = {0, {0}, 0};
  if (!setup(&p, &c, 8))
    return;
  nnrp_submit r;
  make_submit(&r, 0);
  CHECK_EQ_INT(nnrp_session_submit(p.side[0], &r, NULL, p.now), 0);
  r.meta.budget_policy = NNRP_BUDGET_ALLOW_DEGRADED;
  CHECK_EQ_INT(nnrp_session_submit(p.side[0], &r, NULL, p.now), 0);
  nnrp_pair_pump(&p);
  nnrp_result res;
  make_result(&res, 1);
  res.meta.result_class = NNRP_RESULT_CLASS_DEGRADED;
  CHECK_EQ_INT(nnrp_session_send_result(p.side[1], 1, &res, p.now),
               NNRP_ERR_INCONSISTENT);
  CHECK(nnrp_session_send_result(p.side[1], 2, &res, p.now) > 0);
  nnrp_pair_pump(&p);
  nnrp_packet pk;
  if (CHECK(nnrp_pair_sent(&p, 1, NNRP_MSG_RESULT_PUSH, 0, &pk))) {
    CHECK_EQ_INT(pk.hdr.frame_id, 2);
    CHECK_EQ_INT(pk.m.result_push.result_flags, NNRP_RESULT_FLAG_FALLBACK);
    CHECK_EQ_INT(pk.m.result_push.applied_budget_policy,
                 NNRP_BUDGET_ALLOW_DEGRADED);
  }
  nnrp_pair_free(&p);
}

TEST(congestion_hints_follow_d21) {
  nnrp_pair p;
  server_ctx c = {0, {0}, 0};
  if (!setup(&p, &c, 4))
    return;
  nnrp_submit r;
  make_submit(&r, 0);
  for (int i = 0; i < 4; i++) { /* d = 1..4 */
    CHECK_EQ_INT(nnrp_session_submit(p.side[0], &r, NULL, p.now), 0);
    nnrp_pair_pump(&p);
  }
  nnrp_result res;
  make_result(&res, 1);
  for (uint32_t id = 1; id <= 4; id++) { /* d = 3..0 */
    CHECK(nnrp_session_send_result(p.side[1], id, &res, p.now) > 0);
    nnrp_pair_pump(&p);
  }
  /* M = 4: 1 STEADY, 2 STEADY, 3 ELEVATED, 4 SATURATED, 3 ELEVATED (kept),
   * 2 ELEVATED (kept), 1 STEADY, 0 NONE: session-wide hints on change. */
  static const uint32_t want[] = {
      NNRP_CONGESTION_STEADY, NNRP_CONGESTION_ELEVATED,
      NNRP_CONGESTION_SATURATED, NNRP_CONGESTION_ELEVATED,
      NNRP_CONGESTION_STEADY, NNRP_CONGESTION_NONE};
  nnrp_packet pk;
  size_t n = 0;
  for (size_t i = 0; nnrp_pair_sent(&p, 1, NNRP_MSG_RESULT_HINT, i, &pk);
       i++) {
    if (n < 6)
      CHECK_EQ_INT(pk.m.result_hint.congestion_state, want[n]);
    CHECK_EQ_INT(pk.hdr.frame_id, 0);
    n++;
  }
  CHECK_EQ_INT(n, 6);
  CHECK_EQ_INT(nnrp_pair_count(&p, 0, NNRP_EV_RESULT_HINT, 0), 6);
  nnrp_pair_free(&p);
}

TEST(enforced_concurrency_limit_drops_with_queue_full) {
  nnrp_pair p;
  server_ctx c = {0, {0}, 0};
  nnrp_server_profile sp;
  nnrp_server_profile_default(&sp);
  sp.max_concurrent_frames = 1;
  sp.enforce_concurrency_limit = 1;
  if (!CHECK_EQ_INT(nnrp_pair_init(&p, NULL, &sp, NULL, NULL), 0))
    return;
  p.cb = on_event;
  p.user = &c;
  if (!CHECK_EQ_INT(nnrp_pair_handshake(&p), 0))
    return;
  nnrp_submit r;
  make_submit(&r, 0);
  CHECK_EQ_INT(nnrp_session_submit(p.side[0], &r, NULL, p.now), 0);
  /* The client respects the advertised window of 1 ... */
  CHECK_EQ_INT(nnrp_session_submit(p.side[0], &r, NULL, p.now),
               NNRP_ERR_WOULD_BLOCK);
  nnrp_pair_pump(&p);
  /* ... so push a second submit past it by hand (frame 2). */
  nnrp_packet pk;
  if (!CHECK(nnrp_pair_sent(&p, 0, NNRP_MSG_FRAME_SUBMIT, 0, &pk)))
    return;
  size_t len = NNRP_HEADER_LEN + pk.hdr.meta_len + pk.hdr.body_len;
  uint8_t *copy = malloc(len);
  memcpy(copy, pk.meta_raw.ptr - NNRP_HEADER_LEN, len);
  copy[24] = 2; /* frame_id */
  nnrp_pair_inject(&p, NNRP_PAIR_SERVER, copy, len);
  free(copy);
  CHECK_EQ_INT(nnrp_pair_count(&p, 1, NNRP_EV_SUBMIT, 2), 0);
  int queue_full = 0;
  for (size_t i = 0; nnrp_pair_sent(&p, 1, NNRP_MSG_RESULT_HINT, i, &pk); i++)
    if (pk.hdr.frame_id == 2 &&
        pk.m.result_hint.reason == NNRP_HINT_REASON_QUEUE_FULL)
      queue_full = 1;
  CHECK(queue_full);
  CHECK_EQ_INT(nnrp_pair_sent_count(&p, 1, NNRP_MSG_RESULT_DROP), 1);
  nnrp_pair_free(&p);
}

TEST(memory_ceiling_is_enforced) {
  nnrp_session_settings st;
  nnrp_session_settings_default(&st);
  st.max_memory_bytes = 64; /* less than the session object itself */
  nnrp_client_profile cp;
  nnrp_client_profile_default(&cp);
  nnrp_session *s = NULL;
  CHECK_EQ_INT(nnrp_session_client_new(&s, &cp, &st, NULL), NNRP_ERR_NOMEM);
  CHECK(s == NULL);
}

int main(void) {
  RUN(submit_result_round_trip);
  RUN(window_limits_in_flight);
  RUN(streaming_results_end_on_eos);
  RUN(drop_and_cancel_and_discard);
  RUN(server_budget_expiry_drops_with_hint);
  RUN(client_local_deadline_expires);
  RUN(duplicate_frame_id_is_frame_scoped_error);
  RUN(keepalive_ping_and_dead_peer);
  RUN(graceful_close_drains_in_flight_frames);
  RUN(drain_timeout_drops_unanswered_frames);
  RUN(fatal_peer_error_fails_every_frame);
  RUN(foreign_session_and_unknown_results);
  RUN(result_class_needs_budget_bit);
  RUN(congestion_hints_follow_d21);
  RUN(enforced_concurrency_limit_drops_with_queue_full);
  RUN(memory_ceiling_is_enforced);
  TEST_MAIN_END();
}
