/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_runtime_loopback.c - the libuv runtime end to end over 127.0.0.1
 * (port 0): handshake, a pipelined echo of 100 frames with 8 in flight,
 * blocking submit with timeout, receive_result by id and any,
 * discard_frame, router backpressure, close with frames in flight (exactly
 * one terminal each), auth rejection, and peers that close mid-packet on
 * either side, large frames through both backpressure paths, several
 * clients served by one server-wide receive loop, and the event-driven form
 * on the application's own libuv loop. Every test checks that no descriptor
 * is left open.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <uv.h>

#include <nnrp/nnrp_runtime.h>

#include "harness.h"
#include "runtime_check.h"

#define TILE_BYTES 256u
#define NFRAMES 100u

/* ---- helpers --------------------------------------------------------------
 */

/* A frame: two 256-byte tiles whose bytes encode the frame number. */
typedef struct frame_buf {
  uint8_t tile[2][TILE_BYTES];
  rc_tensor_frame tf;
} frame_buf;

static void make_submit(nnrp_submit *r, frame_buf *fb, uint32_t seed) {
  for (size_t t = 0; t < 2; t++)
    for (size_t i = 0; i < TILE_BYTES; i++)
      fb->tile[t][i] = (uint8_t)(seed * 7u + t * 13u + i);
  uint8_t *tiles[2] = {fb->tile[0], fb->tile[1]};
  rc_tensor_submit(r, &fb->tf, tiles, TILE_BYTES, 2, fb);
}

static void echo_cb(nnrp_server_session *ss, const nnrp_received_submit *sub,
                    void *user) {
  int *answered = user;
  if (rc_echo(ss, sub) > 0)
    (*answered)++;
}

typedef struct fixture {
  nnrp_runtime *rt;
  nnrp_server *srv;
  nnrp_client_session *cs;
  int fds_before;
  int answered;
} fixture;

static int auth_ok(const uint8_t *auth, size_t len, void *user) {
  (void)user;
  return len == 6 && memcmp(auth, "secret", 6) == 0;
}

/* Server (callback echo when `callback`, else receive loop) + client. */
static int setup(fixture *f, int callback, uint16_t max_conc,
                 const nnrp_session_settings *srv_settings) {
  memset(f, 0, sizeof(*f));
  f->fds_before = rc_open_fds();
  if (!CHECK_EQ_INT(nnrp_runtime_new(&f->rt, NULL), 0))
    return 0;
  nnrp_server_profile sp;
  nnrp_server_profile_default(&sp);
  sp.max_concurrent_frames = max_conc;
  sp.model_name.ptr = (const uint8_t *)"echo-model";
  sp.model_name.len = 10;
  sp.auth_validator = auth_ok;
  nnrp_server_config sc;
  rc_server_config(&sc);
  sc.settings = srv_settings;
  if (callback) {
    sc.on_submit = echo_cb;
    sc.user = &f->answered;
  }
  if (!CHECK_EQ_INT(nnrp_serve_tcp(f->rt, &sp, &sc, &f->srv), 0))
    return 0;
  CHECK(nnrp_server_port(f->srv) != 0);
  return 1;
}

static int dial(fixture *f, const char *auth, nnrp_client_session **out,
                uint32_t max_queued) {
  nnrp_client_profile cp;
  nnrp_client_profile_default(&cp);
  cp.auth_block.ptr = (const uint8_t *)auth;
  cp.auth_block.len = strlen(auth);
  nnrp_client_config cc;
  rc_client_config(&cc, nnrp_server_port(f->srv));
  if (max_queued)
    cc.max_queued_results = max_queued;
  return nnrp_dial_client(f->rt, &cp, NULL, &cc, out);
}

static void teardown(fixture *f) {
  nnrp_client_session_del(f->cs);
  nnrp_server_close(f->srv);
  nnrp_runtime_del(f->rt);
  CHECK_EQ_INT(rc_open_fds(), f->fds_before);
}

/* ---- tests ----------------------------------------------------------------
 */

TEST(handshake_and_pipelined_echo) {
  fixture f;
  if (!setup(&f, 1, 8, NULL) || !CHECK_EQ_INT(dial(&f, "secret", &f.cs, 0), 0))
    goto out;
  CHECK_EQ_INT(nnrp_client_session_state(f.cs), NNRP_STATE_ACTIVE);
  CHECK(nnrp_client_session_id(f.cs) != 0);
  nnrp_bytes model = nnrp_client_session_model_name(f.cs);
  CHECK_EQ_INT(model.len, 10);
  if (model.len == 10)
    CHECK_EQ_MEM(model.ptr, "echo-model", 10);
  const nnrp_server_hello_ack *ack = nnrp_client_session_server_hello(f.cs);
  CHECK(ack != NULL && ack->max_concurrent_frames == 8);

  static frame_buf bufs[NFRAMES];
  /* Keep the window (8) full: submit until WOULD_BLOCK, then take one. */
  uint32_t max_in_flight = 0, got = 0, sent = 0;
  nnrp_client_result *r;
  while (sent < NFRAMES) {
    nnrp_submit req;
    make_submit(&req, &bufs[sent], sent);
    uint32_t id = 0;
    int rc = nnrp_client_session_submit_nowait(f.cs, &req, 0, &id);
    if (rc == 0) {
      CHECK_EQ_INT(id, sent + 1); /* ids allocated 1, 2, ... */
      sent++;
      uint32_t n = nnrp_client_session_in_flight(f.cs);
      max_in_flight = n > max_in_flight ? n : max_in_flight;
      continue;
    }
    if (!CHECK_EQ_INT(rc, NNRP_ERR_WOULD_BLOCK) ||
        !CHECK_EQ_INT(nnrp_client_session_in_flight(f.cs), 8))
      break;
    if (!CHECK_EQ_INT(nnrp_client_session_receive_result(f.cs, 0, 2000, &r), 0))
      break;
    CHECK_EQ_INT(r->frame_id, got + 1);
    CHECK(r->user_data == &bufs[got]);
    nnrp_bytes t = rc_first_tile(r->body);
    CHECK(t.len == TILE_BYTES &&
          memcmp(t.ptr, bufs[got].tile[0], TILE_BYTES) == 0);
    got++;
    nnrp_client_result_free(r);
  }
  CHECK_EQ_INT(max_in_flight, 8);
  /* Drain the rest. */
  while (got < NFRAMES &&
         nnrp_client_session_receive_result(f.cs, 0, 2000, &r) == 0) {
    got++;
    nnrp_client_result_free(r);
  }
  CHECK_EQ_INT(got, NFRAMES);
  CHECK_EQ_INT(f.answered, NFRAMES);
  CHECK_EQ_INT(nnrp_client_session_in_flight(f.cs), 0);
  /* One more, checking the payload and user_data end to end. */
  frame_buf one;
  nnrp_submit req;
  make_submit(&req, &one, 4242);
  uint32_t id = 0;
  if (CHECK_EQ_INT(nnrp_client_session_submit(f.cs, &req, 2000, &id, &r), 0)) {
    CHECK_EQ_INT(r->kind, NNRP_RESULT_PUSH);
    CHECK_EQ_INT(r->frame_id, NFRAMES + 1);
    CHECK(r->final == 1 && r->user_data == &one && r->meta != NULL);
    nnrp_bytes t = rc_first_tile(r->body);
    CHECK_EQ_INT(t.len, TILE_BYTES);
    if (t.len == TILE_BYTES)
      CHECK_EQ_MEM(t.ptr, one.tile[0], TILE_BYTES);
    nnrp_client_result_free(r);
  }
  CHECK_EQ_INT(nnrp_client_session_close(f.cs, 2000), 0);
  CHECK_EQ_INT(nnrp_client_session_last_error(f.cs, NULL, NULL), 0);
  /* After close: nothing queued, receive reports the close. */
  CHECK_EQ_INT(nnrp_client_session_receive_result(f.cs, 0, 0, &r),
               NNRP_ERR_CLOSED);
  frame_buf late;
  make_submit(&req, &late, 1);
  CHECK_EQ_INT(nnrp_client_session_submit_nowait(f.cs, &req, 0, NULL),
               NNRP_ERR_CLOSED);
out:
  teardown(&f);
}

/* Server side handles used by the receive-loop tests. */
static nnrp_server_session *accept_one(fixture *f) {
  nnrp_server_session *ss = NULL;
  CHECK_EQ_INT(nnrp_accept_server_session(f->srv, 2000, &ss), 0);
  return ss;
}

static const nnrp_received_submit *next_submit(nnrp_server_session *ss) {
  const nnrp_received_submit *sub = NULL;
  CHECK_EQ_INT(nnrp_server_session_receive_submit(ss, 2000, &sub), 0);
  return sub;
}

TEST(blocking_submit_timeout_and_routing) {
  fixture f;
  nnrp_server_session *ss = NULL;
  if (!setup(&f, 0, 8, NULL) || !CHECK_EQ_INT(dial(&f, "secret", &f.cs, 0), 0))
    goto out;
  ss = accept_one(&f);
  if (ss == NULL)
    goto out;
  CHECK_EQ_INT(nnrp_server_session_id(ss), nnrp_client_session_id(f.cs));

  /* Blocking submit that times out: the frame stays in flight. */
  frame_buf b[8];
  nnrp_submit req;
  make_submit(&req, &b[0], 0);
  uint32_t id0 = 0;
  nnrp_client_result *r = NULL;
  uint64_t t0 = nnrp_runtime_now();
  CHECK_EQ_INT(nnrp_client_session_submit(f.cs, &req, 100, &id0, &r),
               NNRP_ERR_TIMEOUT);
  uint64_t waited = nnrp_runtime_now() - t0;
  CHECK(waited >= 95000000u && waited < 1000000000u);
  CHECK(r == NULL && id0 == 1);
  CHECK_EQ_INT(nnrp_client_session_in_flight(f.cs), 1);
  const nnrp_received_submit *sub = next_submit(ss);
  if (sub == NULL)
    goto out;
  CHECK_EQ_INT(sub->frame_id, id0);
  CHECK(sub->session == ss && sub->meta->tile_count == 2);
  nnrp_bytes t = rc_first_tile(sub->body);
  CHECK(t.len == TILE_BYTES && memcmp(t.ptr, b[0].tile[0], TILE_BYTES) == 0);
  CHECK(rc_echo(ss, sub) > 0);
  if (CHECK_EQ_INT(nnrp_client_session_receive_result(f.cs, id0, 2000, &r),
                   0)) {
    CHECK(r->kind == NNRP_RESULT_PUSH && r->frame_id == id0);
    nnrp_client_result_free(r);
  }
  CHECK_EQ_INT(nnrp_client_session_receive_result(f.cs, id0, 0, &r),
               NNRP_ERR_NOT_FOUND);

  /* A, B, C answered C, A, B: by id takes B, "any" takes C then A. */
  uint32_t ids[3];
  for (int i = 0; i < 3; i++) {
    make_submit(&req, &b[1 + i], (uint32_t)(1 + i));
    CHECK_EQ_INT(nnrp_client_session_submit_nowait(f.cs, &req, 0, &ids[i]), 0);
  }
  const nnrp_received_submit *subs[3];
  for (int i = 0; i < 3; i++)
    if ((subs[i] = next_submit(ss)) == NULL)
      goto out;
  CHECK(rc_echo(ss, subs[2]) > 0);
  CHECK(rc_echo(ss, subs[0]) > 0);
  /* A drop for B: delivered as a DROP record. */
  CHECK_EQ_INT(nnrp_server_session_send_result_drop(ss, subs[1]->frame_id, 0),
               40);
  if (CHECK_EQ_INT(nnrp_client_session_receive_result(f.cs, ids[1], 2000, &r),
                   0)) {
    CHECK(r->kind == NNRP_RESULT_DROP && r->dropped && r->frame_id == ids[1]);
    CHECK(r->meta == NULL && r->packet != NULL);
    nnrp_client_result_free(r);
  }
  uint32_t order[2] = {ids[2], ids[0]};
  for (int i = 0; i < 2; i++) {
    if (CHECK_EQ_INT(nnrp_client_session_receive_result(f.cs, 0, 2000, &r),
                     0)) {
      CHECK_EQ_INT(r->frame_id, order[i]);
      nnrp_client_result_free(r);
    }
  }
  CHECK_EQ_INT(nnrp_client_session_receive_result(f.cs, 0, 50, &r),
               NNRP_ERR_TIMEOUT);

  /* PING round trip through the runtime. */
  uint64_t rtt = 0;
  CHECK_EQ_INT(nnrp_client_session_ping(f.cs, 1000, &rtt), 0);
  CHECK(rtt > 0 && rtt < 1000000000u);
out:
  nnrp_server_session_del(ss);
  teardown(&f);
}

TEST(discard_frame) {
  fixture f;
  nnrp_server_session *ss = NULL;
  if (!setup(&f, 0, 8, NULL) || !CHECK_EQ_INT(dial(&f, "secret", &f.cs, 0), 0))
    goto out;
  ss = accept_one(&f);
  if (ss == NULL)
    goto out;
  frame_buf b[8];
  nnrp_submit req;
  nnrp_client_result *r = NULL;
  const nnrp_received_submit *sub;

  /* discard_frame while in flight: nothing is ever delivered for it. */
  make_submit(&req, &b[4], 4);
  uint32_t d_id = 0, e_id = 0;
  CHECK_EQ_INT(nnrp_client_session_submit_nowait(f.cs, &req, 0, &d_id), 0);
  CHECK_EQ_INT(nnrp_client_session_discard_frame(f.cs, d_id), 0);
  CHECK_EQ_INT(nnrp_client_session_discard_frame(f.cs, d_id),
               NNRP_ERR_NOT_FOUND);
  CHECK_EQ_INT(nnrp_client_session_flush(f.cs, 1000), 0);
  make_submit(&req, &b[5], 5);
  CHECK_EQ_INT(nnrp_client_session_submit_nowait(f.cs, &req, 0, &e_id), 0);
  /* The server may see D (then cancelled) or only E. */
  for (;;) {
    sub = next_submit(ss);
    if (sub == NULL)
      goto out;
    if (sub->frame_id == e_id)
      break;
    CHECK_EQ_INT(sub->frame_id, d_id);
    /* Already ended by the cancel (drop sent by the library): no-op. */
    int64_t rc = rc_echo(ss, sub);
    CHECK(rc == 0 || rc > 0);
  }
  CHECK(rc_echo(ss, sub) > 0);
  if (CHECK_EQ_INT(nnrp_client_session_receive_result(f.cs, 0, 2000, &r), 0)) {
    CHECK_EQ_INT(r->frame_id, e_id);
    nnrp_client_result_free(r);
  }
  CHECK_EQ_INT(nnrp_client_session_receive_result(f.cs, d_id, 0, &r),
               NNRP_ERR_NOT_FOUND);

  /* discard_frame with a result queued: the result goes with it. */
  make_submit(&req, &b[6], 6);
  uint32_t q_id = 0;
  CHECK_EQ_INT(nnrp_client_session_submit_nowait(f.cs, &req, 0, &q_id), 0);
  sub = next_submit(ss);
  if (sub == NULL)
    goto out;
  CHECK(rc_echo(ss, sub) > 0);
  for (int i = 0; i < 400 && nnrp_client_session_queued_results(f.cs) == 0; i++)
    (void)nnrp_runtime_run_once(f.rt, 5);
  CHECK_EQ_INT(nnrp_client_session_queued_results(f.cs), 1);
  CHECK_EQ_INT(nnrp_client_session_discard_frame(f.cs, q_id), 0);
  CHECK_EQ_INT(nnrp_client_session_queued_results(f.cs), 0);
  CHECK_EQ_INT(nnrp_client_session_receive_result(f.cs, 0, 20, &r),
               NNRP_ERR_TIMEOUT);
out:
  nnrp_server_session_del(ss);
  teardown(&f);
}

/* Results the application does not take stop the reads at the bound. */
TEST(router_backpressure) {
  fixture f;
  if (!setup(&f, 1, 32, NULL) || !CHECK_EQ_INT(dial(&f, "secret", &f.cs, 4), 0))
    goto out;
  static frame_buf b[32];
  for (uint32_t i = 0; i < 32; i++) {
    nnrp_submit req;
    make_submit(&req, &b[i], i);
    CHECK_EQ_INT(nnrp_client_session_submit_nowait(f.cs, &req, 0, NULL), 0);
  }
  for (int i = 0; i < 100; i++)
    (void)nnrp_runtime_run_once(f.rt, 2);
  CHECK_EQ_INT(f.answered, 32); /* the server answered everything */
  /* Bounded: at most one read's worth above the bound of 4 results. */
  uint32_t q = nnrp_client_session_queued_results(f.cs);
  CHECK(q >= 4 && q < 32);
  uint32_t got = 0;
  nnrp_client_result *r;
  while (got < 32 &&
         nnrp_client_session_receive_result(f.cs, 0, 2000, &r) == 0) {
    CHECK_EQ_INT(r->frame_id, got + 1); /* arrival order */
    got++;
    nnrp_client_result_free(r);
  }
  CHECK_EQ_INT(got, 32);
out:
  teardown(&f);
}

typedef struct outcome {
  uint32_t terminals[16];
  uint32_t push, drop, failed;
} outcome;

static void collect(nnrp_client_session *cs, outcome *o) {
  nnrp_client_result *r;
  memset(o, 0, sizeof(*o));
  while (nnrp_client_session_receive_result(cs, 0, 0, &r) == 0) {
    if (r->frame_id < 16 && r->final)
      o->terminals[r->frame_id]++;
    o->push += r->kind == NNRP_RESULT_PUSH;
    o->drop += r->kind == NNRP_RESULT_DROP;
    o->failed += r->kind == NNRP_RESULT_FAILED;
    nnrp_client_result_free(r);
  }
}

/* Client close with 5 frames in flight, 2 answered: the server drains
 * (drops the rest at its drain timeout), answers CLOSE; one terminal each. */
TEST(close_with_frames_in_flight) {
  fixture f;
  nnrp_server_session *ss = NULL;
  nnrp_session_settings st;
  nnrp_session_settings_default(&st);
  st.drain_timeout_ns = 200000000u;
  if (!setup(&f, 0, 8, &st) || !CHECK_EQ_INT(dial(&f, "secret", &f.cs, 0), 0))
    goto out;
  ss = accept_one(&f);
  if (ss == NULL)
    goto out;
  frame_buf b[5];
  for (uint32_t i = 0; i < 5; i++) {
    nnrp_submit req;
    make_submit(&req, &b[i], i);
    CHECK_EQ_INT(nnrp_client_session_submit_nowait(f.cs, &req, 0, NULL), 0);
  }
  for (int i = 0; i < 5; i++) {
    const nnrp_received_submit *sub = next_submit(ss);
    if (sub == NULL)
      goto out;
    if (i < 2)
      CHECK(rc_echo(ss, sub) > 0);
  }
  CHECK_EQ_INT(nnrp_client_session_close(f.cs, 3000), 0);
  CHECK_EQ_INT(nnrp_client_session_state(f.cs), NNRP_STATE_CLOSED);
  outcome o;
  collect(f.cs, &o);
  for (uint32_t id = 1; id <= 5; id++)
    CHECK_EQ_INT(o.terminals[id], 1);
  CHECK_EQ_INT(o.push, 2);
  CHECK_EQ_INT(o.drop, 3); /* dropped by the server at its drain timeout */
  CHECK_EQ_INT(o.failed, 0);
  /* The server side saw the close; its session reports it. */
  const nnrp_received_submit *sub;
  CHECK_EQ_INT(nnrp_server_session_receive_submit(ss, 500, &sub),
               NNRP_ERR_CLOSED);
  CHECK_EQ_INT(nnrp_server_session_state(ss), NNRP_STATE_CLOSED);
out:
  nnrp_server_session_del(ss);
  teardown(&f);
}

/* The same with a close timeout shorter than the server's drain: the
 * connection is cut and the open frames fail locally, still once each. */
TEST(close_timeout_forces) {
  fixture f;
  nnrp_server_session *ss = NULL;
  nnrp_session_settings st;
  nnrp_session_settings_default(&st);
  st.drain_timeout_ns = 3000000000u;
  if (!setup(&f, 0, 8, &st) || !CHECK_EQ_INT(dial(&f, "secret", &f.cs, 0), 0))
    goto out;
  ss = accept_one(&f);
  if (ss == NULL)
    goto out;
  frame_buf b[3];
  for (uint32_t i = 0; i < 3; i++) {
    nnrp_submit req;
    make_submit(&req, &b[i], i);
    CHECK_EQ_INT(nnrp_client_session_submit_nowait(f.cs, &req, 0, NULL), 0);
  }
  const nnrp_received_submit *sub = next_submit(ss);
  if (sub == NULL)
    goto out;
  CHECK(rc_echo(ss, sub) > 0);
  CHECK_EQ_INT(nnrp_client_session_close(f.cs, 100), NNRP_ERR_TIMEOUT);
  outcome o;
  collect(f.cs, &o);
  for (uint32_t id = 1; id <= 3; id++)
    CHECK_EQ_INT(o.terminals[id], 1);
  CHECK_EQ_INT(o.push, 1);
  CHECK_EQ_INT(o.failed, 2);
  /* The server session sees the connection end. */
  for (int i = 0; i < 100 && nnrp_server_session_state(ss) != NNRP_STATE_CLOSED;
       i++)
    (void)nnrp_runtime_run_once(f.rt, 5);
  CHECK_EQ_INT(nnrp_server_session_state(ss), NNRP_STATE_CLOSED);
out:
  nnrp_server_session_del(ss);
  teardown(&f);
}

TEST(auth_rejected) {
  fixture f;
  if (!setup(&f, 1, 8, NULL))
    goto out;
  nnrp_client_session *bad = (nnrp_client_session *)&f;
  CHECK_EQ_INT(dial(&f, "wrong!", &bad, 0), NNRP_ERR_AUTH_FAILED);
  CHECK(bad == NULL);
  nnrp_error_record rec;
  CHECK_EQ_INT(nnrp_runtime_last_error(f.rt, &rec, NULL), NNRP_ERR_AUTH_FAILED);
  CHECK_EQ_INT(rec.error_code, NNRP_ERROR_CODE_AUTH_FAILED);
  CHECK_EQ_INT(rec.error_scope, NNRP_ERROR_SCOPE_CONNECTION);
  CHECK_EQ_INT(rec.local, 0);
  /* The rejected connection is gone on the server too. */
  for (int i = 0; i < 100 && nnrp_server_session_count(f.srv) != 0; i++)
    (void)nnrp_runtime_run_once(f.rt, 5);
  CHECK_EQ_INT(nnrp_server_session_count(f.srv), 0);
  /* The right secret works on the same server. */
  CHECK_EQ_INT(dial(&f, "secret", &f.cs, 0), 0);
  /* Unreachable port: connection refused. */
  nnrp_client_session *none = NULL;
  nnrp_client_config cc;
  rc_client_config(&cc, 1);
  int os_err = 0;
  CHECK_EQ_INT(nnrp_dial_client(f.rt, NULL, NULL, &cc, &none),
               NNRP_ERR_CONNECTION_LOST);
  CHECK_EQ_INT(nnrp_runtime_last_error(f.rt, NULL, &os_err),
               NNRP_ERR_CONNECTION_LOST);
  CHECK(os_err < 0 && none == NULL);
  /* QUIC forced: not available in this release. */
  nnrp_client_dial_policy dp;
  nnrp_client_dial_policy_default(&dp);
  dp.forced_transport_id = NNRP_TRANSPORT_QUIC;
  cc.port = nnrp_server_port(f.srv);
  CHECK_EQ_INT(nnrp_dial_client(f.rt, NULL, &dp, &cc, &none),
               NNRP_ERR_UNSUPPORTED_CAPABILITY);
out:
  teardown(&f);
}

/* ---- peers that close mid-packet ----------------------------------------- */

/* A raw client completes the handshake, then sends half a FRAME_SUBMIT and
 * closes: the server session ends with NNRP_ERR_TRUNCATED. */
TEST(client_closes_mid_packet) {
  fixture f;
  nnrp_server_session *ss = NULL;
  nnrp_session *raw = NULL;
  int fd = -1;
  if (!setup(&f, 0, 8, NULL))
    goto out;
  fd = rc_connect_loopback(nnrp_server_port(f.srv));
  if (!CHECK(fd >= 0))
    goto out;
  nnrp_client_profile cp;
  nnrp_client_profile_default(&cp);
  cp.auth_block.ptr = (const uint8_t *)"secret";
  cp.auth_block.len = 6;
  CHECK_EQ_INT(nnrp_session_client_new(&raw, &cp, NULL, NULL), 0);
  CHECK_EQ_INT(nnrp_session_connect(raw, 0), 0);
  CHECK(rc_write_output(fd, raw, SIZE_MAX) > 0);
  ss = accept_one(&f);
  if (ss == NULL)
    goto out;
  nnrp_event ev;
  if (!CHECK(rc_read_until(NULL, fd, raw, NNRP_EV_HANDSHAKE, &ev)))
    goto out;
  frame_buf b;
  nnrp_submit req;
  make_submit(&req, &b, 1);
  CHECK_EQ_INT(nnrp_session_submit(raw, &req, NULL, 0), 0);
  uint64_t total = nnrp_session_output_bytes(raw);
  CHECK(rc_write_output(fd, raw, (size_t)total / 2) > 0);
  close(fd);
  fd = -1;
  const nnrp_received_submit *sub = NULL;
  CHECK_EQ_INT(nnrp_server_session_receive_submit(ss, 2000, &sub),
               NNRP_ERR_TRUNCATED);
  CHECK(sub == NULL);
  nnrp_error_record rec;
  CHECK_EQ_INT(nnrp_server_session_last_error(ss, &rec, NULL),
               NNRP_ERR_TRUNCATED);
out:
  rc_raw_peer_end(fd, raw, ss);
  teardown(&f);
}

/* A connection that never sends anything is closed at the server's
 * handshake timeout. */
TEST(idle_connection_times_out) {
  fixture f;
  memset(&f, 0, sizeof(f));
  f.fds_before = rc_open_fds();
  if (!CHECK_EQ_INT(nnrp_runtime_new(&f.rt, NULL), 0))
    return;
  nnrp_server_config sc;
  rc_server_config(&sc);
  sc.handshake_timeout_ms = 100;
  CHECK_EQ_INT(nnrp_serve_tcp(f.rt, NULL, &sc, &f.srv), 0);
  int fd = rc_connect_loopback(nnrp_server_port(f.srv));
  CHECK(fd >= 0);
  for (int i = 0; i < 20 && nnrp_server_session_count(f.srv) == 0; i++)
    (void)nnrp_runtime_run_once(f.rt, 5);
  CHECK_EQ_INT(nnrp_server_session_count(f.srv), 1);
  uint64_t t0 = nnrp_runtime_now();
  for (int i = 0; i < 200 && nnrp_server_session_count(f.srv) != 0; i++)
    (void)nnrp_runtime_run_once(f.rt, 5);
  CHECK_EQ_INT(nnrp_server_session_count(f.srv), 0);
  CHECK(nnrp_runtime_now() - t0 < 900000000u);
  /* The server closed its end: the raw socket reads EOF. */
  char c;
  struct pollfd p = {fd, POLLIN, 0};
  CHECK_EQ_INT(poll(&p, 1, 1000), 1);
  CHECK_EQ_INT(read(fd, &c, 1), 0);
  close(fd);
  teardown(&f);
}

/* Child process: a raw server that answers the handshake, then writes half
 * of a RESULT_PUSH for the first submit and closes. */
static void raw_server(int lfd) {
  int fd = accept(lfd, NULL, NULL);
  nnrp_server_profile sp;
  nnrp_server_profile_default(&sp);
  sp.max_concurrent_frames = 8;
  nnrp_session *s = NULL;
  if (fd < 0 || nnrp_session_server_new(&s, &sp, NULL, NULL) != 0)
    _exit(2);
  nnrp_event ev;
  if (!rc_read_until(NULL, fd, s, NNRP_EV_HANDSHAKE, &ev) ||
      rc_write_output(fd, s, SIZE_MAX) <= 0 ||
      !rc_read_until(NULL, fd, s, NNRP_EV_SUBMIT, &ev))
    _exit(3);
  uint32_t id = ev.frame_id;
  frame_buf b;
  nnrp_submit req;
  make_submit(&req, &b, 9);
  nnrp_result r;
  memset(&r, 0, sizeof(r));
  r.body = req.body;
  r.final = 1;
  if (nnrp_session_send_result(s, id, &r, 0) <= 0)
    _exit(4);
  uint64_t total = nnrp_session_output_bytes(s);
  (void)rc_write_output(fd, s, (size_t)total / 2);
  close(fd);
  _exit(0);
}

TEST(server_closes_mid_packet) {
  int fds_before = rc_open_fds();
  int lfd = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in sa;
  memset(&sa, 0, sizeof(sa));
  sa.sin_family = AF_INET;
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t sl = sizeof(sa);
  if (!CHECK_EQ_INT(bind(lfd, (struct sockaddr *)&sa, sizeof(sa)), 0) ||
      !CHECK_EQ_INT(listen(lfd, 4), 0) ||
      !CHECK_EQ_INT(getsockname(lfd, (struct sockaddr *)&sa, &sl), 0)) {
    close(lfd);
    return;
  }
  pid_t pid = fork();
  if (pid == 0)
    raw_server(lfd);
  close(lfd);
  nnrp_runtime *rt = NULL;
  nnrp_client_session *cs = NULL;
  CHECK_EQ_INT(nnrp_runtime_new(&rt, NULL), 0);
  nnrp_client_config cc;
  rc_client_config(&cc, ntohs(sa.sin_port));
  if (CHECK_EQ_INT(nnrp_dial_client(rt, NULL, NULL, &cc, &cs), 0)) {
    frame_buf b;
    nnrp_submit req;
    make_submit(&req, &b, 3);
    nnrp_client_result *r = NULL;
    if (CHECK_EQ_INT(nnrp_client_session_submit(cs, &req, 3000, NULL, &r), 0)) {
      CHECK_EQ_INT(r->kind, NNRP_RESULT_FAILED);
      CHECK_EQ_INT(r->error.lib_err, NNRP_ERR_TRUNCATED);
      CHECK(r->final == 1 && r->frame_id == 1);
      nnrp_client_result_free(r);
    }
    CHECK_EQ_INT(nnrp_client_session_last_error(cs, NULL, NULL),
                 NNRP_ERR_TRUNCATED);
    CHECK_EQ_INT(nnrp_client_session_receive_result(cs, 0, 100, &r),
                 NNRP_ERR_TRUNCATED);
  }
  nnrp_client_session_del(cs);
  nnrp_runtime_del(rt);
  int status = -1;
  CHECK_EQ_INT(waitpid(pid, &status, 0), pid);
  CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  CHECK_EQ_INT(rc_open_fds(), fds_before);
}

/* ---- large frames: async writes, both backpressure paths ------------------
 */

#define BIG (512u * 1024u)

typedef struct big_frame {
  uint8_t *tile[2];
  rc_tensor_frame tf;
} big_frame;

static void make_big(nnrp_submit *r, big_frame *fb, uint32_t seed) {
  for (size_t t = 0; t < 2; t++)
    for (size_t i = 0; i < BIG; i++)
      fb->tile[t][i] = (uint8_t)(seed + t + i / 4096u);
  rc_tensor_submit(r, &fb->tf, fb->tile, BIG, 2, fb);
}

/* 16 frames of 1 MiB, 8 in flight, a 1 MiB result bound on the client and a
 * 2 MiB held-submit bound on the server: both sides pause their reads, the
 * writes go asynchronous, and every echoed byte still arrives intact. */
TEST(large_frames_backpressure) {
  fixture f;
  memset(&f, 0, sizeof(f));
  f.fds_before = rc_open_fds();
  if (!CHECK_EQ_INT(nnrp_runtime_new(&f.rt, NULL), 0))
    return;
  nnrp_server_profile sp;
  nnrp_server_profile_default(&sp);
  sp.max_concurrent_frames = 8;
  nnrp_server_config sc;
  rc_server_config(&sc);
  sc.on_submit = echo_cb;
  sc.user = &f.answered;
  sc.max_held_bytes = 2u << 20;
  CHECK_EQ_INT(nnrp_serve_tcp(f.rt, &sp, &sc, &f.srv), 0);
  nnrp_client_config cc;
  rc_client_config(&cc, nnrp_server_port(f.srv));
  cc.max_result_bytes = 1u << 20;
  static big_frame b[16];
  for (size_t i = 0; i < 16; i++)
    for (size_t t = 0; t < 2; t++)
      b[i].tile[t] = malloc(BIG);
  if (!CHECK_EQ_INT(nnrp_dial_client(f.rt, NULL, NULL, &cc, &f.cs), 0))
    goto out;
  uint32_t sent = 0, got = 0;
  while (got < 16) {
    nnrp_submit req;
    while (sent < 16) {
      make_big(&req, &b[sent], sent);
      if (nnrp_client_session_submit_nowait(f.cs, &req, 0, NULL) != 0)
        break;
      sent++;
    }
    nnrp_client_result *r;
    if (!CHECK_EQ_INT(nnrp_client_session_receive_result(f.cs, 0, 5000, &r), 0))
      break;
    CHECK(r->kind == NNRP_RESULT_PUSH && r->frame_id == got + 1);
    CHECK(nnrp_client_session_queued_results(f.cs) <= 2);
    nnrp_bytes t = rc_first_tile(r->body);
    CHECK(t.len == BIG && memcmp(t.ptr, b[got].tile[0], BIG) == 0);
    got++;
    nnrp_client_result_free(r);
  }
  CHECK_EQ_INT(got, 16);
  CHECK_EQ_INT(f.answered, 16);
  CHECK_EQ_INT(nnrp_client_session_close(f.cs, 2000), 0);
out:
  teardown(&f);
  for (size_t i = 0; i < 16; i++)
    for (size_t t = 0; t < 2; t++)
      free(b[i].tile[t]);
}

/* ---- several clients, one server-wide receive loop ------------------------
 */

TEST(server_wide_receive) {
  fixture f;
  nnrp_client_session *cs[4] = {NULL, NULL, NULL, NULL};
  static frame_buf b[4][10];
  if (!setup(&f, 0, 16, NULL))
    goto out;
  for (int c = 0; c < 4; c++)
    if (!CHECK_EQ_INT(dial(&f, "secret", &cs[c], 0), 0))
      goto out;
  CHECK_EQ_INT(nnrp_server_session_count(f.srv), 4);
  for (int i = 0; i < 10; i++)
    for (int c = 0; c < 4; c++) {
      nnrp_submit req;
      make_submit(&req, &b[c][i], (uint32_t)(c * 100 + i));
      CHECK_EQ_INT(nnrp_client_session_submit_nowait(cs[c], &req, 0, NULL), 0);
    }
  nnrp_server_session *seen[4] = {NULL, NULL, NULL, NULL};
  int nseen = 0;
  for (int n = 0; n < 40; n++) {
    const nnrp_received_submit *sub = NULL;
    if (!CHECK_EQ_INT(nnrp_server_receive_submit(f.srv, 2000, &sub), 0))
      goto out;
    int known = 0;
    for (int k = 0; k < nseen; k++)
      known |= seen[k] == sub->session;
    if (!known && nseen < 4)
      seen[nseen++] = sub->session;
    CHECK(rc_echo(sub->session, sub) > 0);
  }
  CHECK_EQ_INT(nseen, 4);
  for (int c = 0; c < 4; c++) {
    for (uint32_t i = 0; i < 10; i++) {
      nnrp_client_result *r;
      if (!CHECK_EQ_INT(
              nnrp_client_session_receive_result(cs[c], i + 1, 2000, &r), 0))
        break;
      nnrp_bytes t = rc_first_tile(r->body);
      CHECK(t.len == TILE_BYTES &&
            memcmp(t.ptr, b[c][i].tile[0], TILE_BYTES) == 0);
      nnrp_client_result_free(r);
    }
    CHECK_EQ_INT(nnrp_client_session_close(cs[c], 2000), 0);
  }
  /* Never accepted: the library frees them once they are closed. */
  for (int i = 0; i < 200 && nnrp_server_session_count(f.srv) != 0; i++)
    (void)nnrp_runtime_run_once(f.rt, 5);
  CHECK_EQ_INT(nnrp_server_session_count(f.srv), 0);
out:
  for (int c = 0; c < 4; c++)
    nnrp_client_session_del(cs[c]);
  teardown(&f);
}

/* ---- event-driven, on the application's libuv loop ------------------------
 */

typedef struct evctx {
  uv_loop_t *loop;
  nnrp_client_session *cs;
  frame_buf b[20];
  uint32_t sent, results, connected, closed_events, sent_events;
  int status;
} evctx;

static void ev_submit_more(evctx *e) {
  while (e->sent < 20) {
    nnrp_submit req;
    make_submit(&req, &e->b[e->sent], e->sent);
    /* Inside a callback only non-waiting calls are allowed. */
    if (nnrp_client_session_submit_nowait(e->cs, &req, 0, NULL) != 0)
      break;
    e->sent++;
  }
}

static void ev_connected(nnrp_client_session *cs, int status, void *user) {
  evctx *e = user;
  e->connected++;
  e->status = status;
  e->cs = cs;
  if (status == 0)
    ev_submit_more(e);
}

static void ev_result(nnrp_client_session *cs, uint32_t frame_id, void *user) {
  evctx *e = user;
  nnrp_client_result *r = NULL;
  CHECK_EQ_INT(nnrp_client_session_receive_result(cs, frame_id, 0, &r), 0);
  CHECK(r != NULL && r->frame_id == frame_id);
  nnrp_client_result_free(r);
  /* A waiting call is refused here. */
  CHECK_EQ_INT(nnrp_client_session_receive_result(cs, 0, 10, &r),
               NNRP_ERR_INVALID_STATE);
  e->results++;
  ev_submit_more(e);
  if (e->results == 20)
    CHECK_EQ_INT(nnrp_client_session_close(cs, 0), NNRP_ERR_WOULD_BLOCK);
}

static void ev_sent(nnrp_client_session *cs, uint32_t frame_id, void *fud,
                    void *user) {
  (void)cs;
  evctx *e = user;
  CHECK(fud == &e->b[frame_id - 1]);
  e->sent_events++;
}

static void ev_event(nnrp_client_session *cs, const nnrp_event *ev,
                     void *user) {
  (void)cs;
  evctx *e = user;
  if (ev->type == NNRP_EV_CLOSED) {
    e->closed_events++;
    uv_stop(e->loop);
  }
}

TEST(event_driven_on_app_loop) {
  int fds_before = rc_open_fds();
  uv_loop_t loop;
  if (!CHECK_EQ_INT(uv_loop_init(&loop), 0))
    return;
  nnrp_runtime_config rc;
  nnrp_runtime_config_default(&rc);
  rc.uv_loop = &loop;
  nnrp_runtime *rt = NULL;
  nnrp_server *srv = NULL;
  static evctx e;
  memset(&e, 0, sizeof(e));
  e.loop = &loop;
  int answered = 0;
  CHECK_EQ_INT(nnrp_runtime_new(&rt, &rc), 0);
  nnrp_server_profile sp;
  nnrp_server_profile_default(&sp);
  sp.max_concurrent_frames = 4;
  nnrp_server_config sc;
  rc_server_config(&sc);
  sc.on_submit = echo_cb;
  sc.user = &answered;
  CHECK_EQ_INT(nnrp_serve_tcp(rt, &sp, &sc, &srv), 0);
  nnrp_client_config cc;
  rc_client_config(&cc, nnrp_server_port(srv));
  cc.on_connected = ev_connected;
  cc.on_result = ev_result;
  cc.on_sent = ev_sent;
  cc.on_event = ev_event;
  cc.user = &e;
  nnrp_client_session *cs = NULL;
  CHECK_EQ_INT(nnrp_dial_client_start(rt, NULL, NULL, &cc, &cs), 0);
  CHECK_EQ_INT(nnrp_client_session_state(cs), NNRP_STATE_INIT);
  uv_run(&loop, UV_RUN_DEFAULT); /* the application runs its loop */
  CHECK_EQ_INT(e.connected, 1);
  CHECK_EQ_INT(e.status, 0);
  CHECK(e.cs == cs);
  CHECK_EQ_INT(e.results, 20);
  CHECK_EQ_INT(e.sent_events, 20);
  CHECK_EQ_INT(e.closed_events, 1);
  CHECK_EQ_INT(answered, 20);
  CHECK(nnrp_runtime_backend_fd(rt) >= 0);
  nnrp_client_session_del(cs);
  nnrp_server_close(srv);
  nnrp_runtime_del(rt);
  CHECK_EQ_INT(uv_run(&loop, UV_RUN_DEFAULT), 0);
  CHECK_EQ_INT(uv_loop_close(&loop), 0);
  CHECK_EQ_INT(rc_open_fds(), fds_before);
}

int main(void) {
  /* libuv opens process-wide descriptors on its first loop (signal pipe):
   * create one runtime first so the per-test descriptor counts compare. */
  nnrp_runtime *warm = NULL;
  if (nnrp_runtime_new(&warm, NULL) == 0)
    nnrp_runtime_del(warm);
  RUN(handshake_and_pipelined_echo);
  RUN(blocking_submit_timeout_and_routing);
  RUN(discard_frame);
  RUN(router_backpressure);
  RUN(close_with_frames_in_flight);
  RUN(close_timeout_forces);
  RUN(auth_rejected);
  RUN(client_closes_mid_packet);
  RUN(idle_connection_times_out);
  RUN(server_closes_mid_packet);
  RUN(large_frames_backpressure);
  RUN(server_wide_receive);
  RUN(event_driven_on_app_loop);
  TEST_MAIN_END();
}
