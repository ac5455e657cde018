/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_session_robust.c - byte-level robustness of a server session over the
 * in-memory pair: garbage, truncation then EOF, packet and body limits
 * (wire.md §15 steps 8-9, §16, D19), unknown types, foreign session ids,
 * frame-id order (D17), first-packet and second-hello rules (session.md
 * §3.3, §4.2), and output / event backpressure. Every case asserts the exact
 * ERROR the server sent (or that none was sent) and the resulting state.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness.h"
#include "session/session_int.h"
#include "session_pair.h"

#define C NNRP_PAIR_CLIENT
#define S NNRP_PAIR_SERVER

/* ---- packets ------------------------------------------------------------ */

/* A control packet (header-only types, PING, CLOSE, FRAME_CANCEL, ...). */
static size_t ctl(uint8_t *buf, size_t cap, uint8_t type, uint32_t sid,
                  uint32_t fid) {
  nnrp_header h;
  nnrp_header_init(&h, type);
  h.session_id = sid;
  h.frame_id = fid;
  nnrp_meta m;
  memset(&m, 0, sizeof(m));
  nnrp_out o;
  nnrp_out_init(&o, buf, cap, NULL, 0);
  nnrp_fault f;
  if (nnrp_build_control(&o, &h, &m, NULL, &f) != 0)
    harness_die(__FILE__, __LINE__, "nnrp_build_control");
  return (size_t)o.total;
}

/* A valid FRAME_SUBMIT with one 4-byte tile. */
static size_t submit(uint8_t *buf, size_t cap, uint32_t sid, uint32_t fid) {
  static const uint8_t tile_bytes[4] = {1, 2, 3, 4};
  nnrp_bytes tile = {tile_bytes, sizeof(tile_bytes)};
  uint16_t tile_id = 0;
  nnrp_section_data sec;
  memset(&sec, 0, sizeof(sec));
  sec.role_id = 1;
  sec.dtype_id = NNRP_DTYPE_UINT8;
  sec.tiles = &tile;
  nnrp_tensor_data t;
  memset(&t, 0, sizeof(t));
  t.tile_index_mode = NNRP_TILE_INDEX_RAW_U16;
  t.tile_ids = &tile_id;
  t.tile_count = 1;
  t.sections = &sec;
  t.section_count = 1;
  nnrp_body_data body;
  memset(&body, 0, sizeof(body));
  body.tensor = &t;
  nnrp_frame_submit m;
  memset(&m, 0, sizeof(m));
  m.src_width = m.src_height = m.tile_width = m.tile_height = 32;
  m.loss_tolerance_policy = NNRP_LOSS_TOLERANCE_INHERIT;
  nnrp_header h;
  nnrp_header_init(&h, NNRP_MSG_FRAME_SUBMIT);
  h.session_id = sid;
  h.frame_id = fid;
  nnrp_out o;
  nnrp_out_init(&o, buf, cap, NULL, 0);
  nnrp_fault f;
  if (nnrp_build_frame_submit(&o, &h, &m, &body, &f) != 0)
    harness_die(__FILE__, __LINE__, "nnrp_build_frame_submit");
  return (size_t)o.total;
}

/* A bare header (no metadata or body bytes follow). */
static void raw_header(uint8_t out[NNRP_HEADER_LEN], uint8_t type,
                       uint32_t meta_len, uint32_t body_len, uint32_t sid) {
  nnrp_header h;
  nnrp_header_init(&h, type);
  h.meta_len = meta_len;
  h.body_len = body_len;
  h.session_id = sid;
  nnrp_header_encode(&h, out);
}

/* ---- fixtures ----------------------------------------------------------- */

typedef struct fixture {
  nnrp_pair p;
  nnrp_session *srv;
  uint32_t sid;
} fixture;

static int setup(fixture *x, const nnrp_server_profile *sp,
                 const nnrp_session_settings *ss, int handshake) {
  nnrp_server_profile dsp;
  if (sp == NULL) {
    nnrp_server_profile_default(&dsp);
    dsp.max_concurrent_frames = 64;
    sp = &dsp;
  }
  if (!CHECK_EQ_INT(nnrp_pair_init(&x->p, NULL, sp, NULL, ss), 0))
    return 0;
  x->srv = x->p.side[S];
  if (handshake && !CHECK_EQ_INT(nnrp_pair_handshake(&x->p), 0))
    return 0;
  x->sid = nnrp_session_id(x->srv);
  return 1;
}

#define ANY_FRAME UINT32_MAX

/* The n-th ERROR the server sent has these values (related_frame
 * ANY_FRAME: not checked, e.g. echoed from a garbage header). */
static void check_error(fixture *x, size_t n, uint32_t code, uint32_t scope,
                        uint32_t fatal, uint32_t related_frame) {
  nnrp_packet pk;
  if (!CHECK(nnrp_pair_sent(&x->p, S, NNRP_MSG_ERROR, n, &pk)))
    return;
  CHECK_EQ_INT(pk.m.error.error_code, code);
  CHECK_EQ_INT(pk.m.error.error_scope, scope);
  CHECK_EQ_INT(pk.m.error.is_fatal, fatal);
  if (related_frame != ANY_FRAME) {
    CHECK_EQ_INT(pk.m.error.related_frame_id, related_frame);
    CHECK_EQ_INT(pk.hdr.frame_id, related_frame);
  }
  CHECK(pk.b.diagnostic.len > 0 && pk.b.diagnostic.len <= 256);
}

/* The last CLOSED event of the server carries lib_err. */
static void check_closed(fixture *x, int lib_err) {
  CHECK_EQ_INT(nnrp_session_get_state(x->srv), NNRP_STATE_CLOSED);
  CHECK_EQ_INT(nnrp_pair_count(&x->p, S, NNRP_EV_CLOSED, 0), 1);
  for (size_t i = x->p.nlog; i-- > 0;)
    if (x->p.log[i].side == S && x->p.log[i].type == NNRP_EV_CLOSED) {
      CHECK_EQ_INT(x->p.log[i].lib_err, lib_err);
      break;
    }
  CHECK_EQ_INT(nnrp_session_want_close(x->srv), 1);
}

/* Feeds the server directly (no pump), returns what recv returned. */
static int64_t feed_server(fixture *x, const uint8_t *b, size_t n) {
  return nnrp_session_recv(x->srv, b, n, x->p.now);
}

/* ---- garbage, truncation ------------------------------------------------ */

TEST(garbage_after_handshake_is_connection_fatal) {
  fixture x;
  if (!setup(&x, NULL, NULL, 1))
    return;
  uint8_t junk[64];
  memset(junk, 0x5A, sizeof(junk));
  memcpy(junk, "HTTP/1.1 200 OK\r\n", 17);
  CHECK_EQ_INT(nnrp_pair_inject(&x.p, S, junk, sizeof(junk)),
               NNRP_ERR_FATAL_PROTOCOL);
  nnrp_pair_pump(&x.p);
  CHECK_EQ_INT(nnrp_pair_sent_count(&x.p, S, NNRP_MSG_ERROR), 1);
  check_error(&x, 0, NNRP_ERROR_CODE_MALFORMED_HEADER,
              NNRP_ERROR_SCOPE_CONNECTION, 1, ANY_FRAME);
  check_closed(&x, NNRP_ERR_MALFORMED_HEADER);
  /* Everything after the fault is discarded, nothing more is sent. */
  CHECK_EQ_INT(feed_server(&x, junk, sizeof(junk)), (int64_t)sizeof(junk));
  CHECK_EQ_U64(nnrp_session_output_bytes(x.srv), 0);
  nnrp_pair_free(&x.p);
}

TEST(garbage_as_first_bytes) {
  fixture x;
  if (!setup(&x, NULL, NULL, 0))
    return;
  uint8_t junk[40];
  memset(junk, 0, sizeof(junk));
  CHECK_EQ_INT(nnrp_pair_inject(&x.p, S, junk, sizeof(junk)),
               NNRP_ERR_FATAL_PROTOCOL);
  CHECK_EQ_INT(nnrp_pair_sent_count(&x.p, S, NNRP_MSG_ERROR), 1);
  check_error(&x, 0, NNRP_ERROR_CODE_MALFORMED_HEADER,
              NNRP_ERROR_SCOPE_CONNECTION, 1, 0);
  check_closed(&x, NNRP_ERR_MALFORMED_HEADER);
  nnrp_pair_free(&x.p);
}

/* Runs fn in a child process with a 10 s alarm, so that a session stuck in
 * an endless loop fails the test instead of hanging the suite. Returns 1
 * when the child exited with status 0. */
static int in_child(int (*fn)(void)) {
  fflush(NULL);
  pid_t pid = fork();
  if (pid < 0)
    return 0;
  if (pid == 0) {
    alarm(10);
    _exit(fn() ? 0 : 1);
  }
  int status = 0;
  if (waitpid(pid, &status, 0) != pid)
    return 0;
  if (WIFSIGNALED(status) && WTERMSIG(status) == SIGALRM)
    harness_fail(__FILE__, __LINE__, "the session did not return (loop)");
  return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

/* A header fault on a header whose msg_type is ERROR: the stream cannot
 * resynchronise (D18), so the session must end; it must not treat it as "a
 * malformed ERROR, dropped silently" and spin on the sticky reader. Returns
 * 1 when the session ended, recv returned a fatal error and no ERROR was
 * sent in reply to the ERROR-typed header. */
static int error_typed_header_fault(int flags_fault) {
  fixture x;
  if (!setup(&x, NULL, NULL, 1))
    return 0;
  uint8_t h[NNRP_HEADER_LEN + 8];
  memset(h, 0, sizeof(h));
  if (flags_fault) {
    raw_header(h, NNRP_MSG_ERROR, 32, 0, x.sid);
    h[8] = 0x80; /* reserved flag bit: MALFORMED_HEADER in strict mode */
  } else {
    raw_header(h, NNRP_MSG_ERROR, 32, 100u << 20, x.sid); /* over the cap */
  }
  int64_t rc = feed_server(&x, h, sizeof(h));
  int ok = rc <= NNRP_ERR_FATAL_THRESHOLD &&
           nnrp_session_get_state(x.srv) == NNRP_STATE_CLOSED;
  nnrp_pair_free(&x.p);
  return ok;
}

static int error_typed_flags_fault(void) { return error_typed_header_fault(1); }
static int error_typed_size_fault(void) { return error_typed_header_fault(0); }

/* A valid ERROR (SESSION scope) and then garbage: the garbage must end the
 * session even though the last decoded header was an ERROR. */
static int garbage_after_error(void) {
  fixture x;
  if (!setup(&x, NULL, NULL, 1))
    return 0;
  uint8_t buf[NNRP_HEADER_LEN + 32 + 64];
  nnrp_header h;
  nnrp_header_init(&h, NNRP_MSG_ERROR);
  h.session_id = x.sid;
  nnrp_meta m;
  memset(&m, 0, sizeof(m));
  m.error.error_code = NNRP_ERROR_CODE_MALFORMED_BODY;
  m.error.error_scope = NNRP_ERROR_SCOPE_SESSION;
  nnrp_out o;
  nnrp_out_init(&o, buf, sizeof(buf), NULL, 0);
  if (nnrp_build_control(&o, &h, &m, NULL, NULL) != 0)
    return 0;
  size_t n = (size_t)o.total;
  memset(buf + n, 0x5A, 64);
  /* The ERROR is surfaced as NNRP_EV_PEER_ERROR (a view): recv returns
   * after it; pull, then feed the garbage. */
  int64_t rc = feed_server(&x, buf, n + 64);
  nnrp_event ev;
  int peer_error = 0;
  while (nnrp_session_next_event(x.srv, &ev) == 1)
    peer_error += ev.type == NNRP_EV_PEER_ERROR;
  if (rc != (int64_t)n || peer_error != 1)
    return 0;
  rc = feed_server(&x, buf + n, 64);
  int ok = rc <= NNRP_ERR_FATAL_THRESHOLD &&
           nnrp_session_get_state(x.srv) == NNRP_STATE_CLOSED;
  nnrp_pair_free(&x.p);
  return ok;
}

TEST(header_fault_on_error_type_ends_session) {
  CHECK(in_child(error_typed_flags_fault));
  CHECK(in_child(error_typed_size_fault));
  CHECK(in_child(garbage_after_error));
}

TEST(truncated_header_then_eof_closes_without_error) {
  fixture x;
  if (!setup(&x, NULL, NULL, 1))
    return;
  uint8_t pkt[256];
  size_t n = ctl(pkt, sizeof(pkt), NNRP_MSG_PING, x.sid, 0);
  CHECK_EQ_INT(n, NNRP_HEADER_LEN);
  CHECK_EQ_INT(feed_server(&x, pkt, 20), 20); /* half a header: buffered */
  CHECK_EQ_INT(nnrp_session_get_state(x.srv), NNRP_STATE_ACTIVE);
  CHECK_EQ_INT(nnrp_session_recv_eof(x.srv, x.p.now), 0);
  nnrp_pair_pump(&x.p);
  CHECK_EQ_INT(nnrp_pair_sent_count(&x.p, S, NNRP_MSG_ERROR), 0);
  CHECK_EQ_INT(nnrp_pair_sent_count(&x.p, S, NNRP_MSG_PONG), 0);
  check_closed(&x, NNRP_ERR_TRUNCATED);
  CHECK_EQ_U64(nnrp_session_get_expiry(x.srv), UINT64_MAX);
  nnrp_pair_free(&x.p);
}

TEST(eof_at_packet_boundary_is_connection_lost) {
  fixture x;
  if (!setup(&x, NULL, NULL, 1))
    return;
  CHECK_EQ_INT(nnrp_session_recv_eof(x.srv, x.p.now), 0);
  nnrp_pair_pump(&x.p);
  CHECK_EQ_INT(nnrp_pair_sent_count(&x.p, S, NNRP_MSG_ERROR), 0);
  check_closed(&x, NNRP_ERR_CONNECTION_LOST);
  nnrp_pair_free(&x.p);
}

/* ---- limits ------------------------------------------------------------- */

TEST(oversize_packet_fails_before_buffering) {
  nnrp_session_settings ss;
  nnrp_session_settings_default(&ss);
  ss.max_packet_bytes = 1u << 20;
  fixture x;
  if (!setup(&x, NULL, &ss, 1))
    return;
  const uint32_t body_len = 8u << 20;
  uint8_t buf[NNRP_HEADER_LEN + 4096];
  memset(buf, 0xAB, sizeof(buf));
  raw_header(buf, NNRP_MSG_FRAME_SUBMIT, 72, body_len, x.sid);
  nnrp_header h;
  nnrp_wire_opts o;
  nnrp_wire_opts_default(&o);
  CHECK_EQ_INT(nnrp_header_decode(&h, buf, NNRP_HEADER_LEN, &o, NULL),
               0); /* valid under the 64 MiB cap, over this server's */
  uint64_t used = x.srv->mem.used;
  CHECK_EQ_INT(feed_server(&x, buf, sizeof(buf)), NNRP_ERR_FATAL_PROTOCOL);
  CHECK(x.srv->mem.used < used + 64 * 1024); /* no body buffer */
  nnrp_pair_pump(&x.p);
  CHECK_EQ_INT(nnrp_pair_sent_count(&x.p, S, NNRP_MSG_ERROR), 1);
  check_error(&x, 0, NNRP_ERROR_CODE_LIMIT_EXCEEDED,
              NNRP_ERROR_SCOPE_CONNECTION, 1, 0);
  check_closed(&x, NNRP_ERR_PACKET_TOO_LARGE);
  nnrp_pair_free(&x.p);
}

TEST(body_over_max_body_is_skipped) {
  nnrp_server_profile sp;
  nnrp_server_profile_default(&sp);
  sp.max_concurrent_frames = 64;
  sp.max_body_bytes = 4096; /* advertised and enforced */
  fixture x;
  if (!setup(&x, &sp, NULL, 1))
    return;
  const uint32_t body_len = 64u << 10;
  size_t total = NNRP_HEADER_LEN + 72 + body_len;
  uint8_t *buf = calloc(1, total + 256);
  if (!CHECK(buf != NULL))
    return;
  raw_header(buf, NNRP_MSG_FRAME_SUBMIT, 72, body_len, x.sid);
  size_t ping = ctl(buf + total, 256, NNRP_MSG_PING, x.sid, 0);
  uint64_t used = x.srv->mem.used;
  /* In 1000-byte chunks: the skip spans many recv calls. */
  size_t off = 0;
  while (off < total + ping) {
    size_t n = total + ping - off < 1000 ? total + ping - off : 1000;
    int64_t rc = feed_server(&x, buf + off, n);
    if (!CHECK(rc > 0))
      break;
    off += (size_t)rc;
  }
  CHECK(x.srv->mem.used < used + body_len / 2); /* never buffered */
  nnrp_pair_pump(&x.p);
  CHECK_EQ_INT(nnrp_pair_sent_count(&x.p, S, NNRP_MSG_ERROR), 1);
  check_error(&x, 0, NNRP_ERROR_CODE_LIMIT_EXCEEDED, NNRP_ERROR_SCOPE_SESSION,
              0, 0);
  CHECK_EQ_INT(nnrp_session_get_state(x.srv), NNRP_STATE_ACTIVE);
  CHECK_EQ_INT(nnrp_pair_count(&x.p, S, NNRP_EV_SUBMIT, 0), 0);
  /* The session goes on: the PING after it is answered. */
  CHECK_EQ_INT(nnrp_pair_sent_count(&x.p, S, NNRP_MSG_PONG), 1);
  free(buf);
  nnrp_pair_free(&x.p);
}

TEST(unknown_message_type_is_malformed_header) {
  fixture x;
  if (!setup(&x, NULL, NULL, 1))
    return;
  uint8_t h[NNRP_HEADER_LEN];
  raw_header(h, 0x07, 0, 0, x.sid); /* preview3 SESSION_OPEN: not seed */
  CHECK_EQ_INT(nnrp_pair_inject(&x.p, S, h, sizeof(h)),
               NNRP_ERR_FATAL_PROTOCOL);
  CHECK_EQ_INT(nnrp_pair_sent_count(&x.p, S, NNRP_MSG_ERROR), 1);
  check_error(&x, 0, NNRP_ERROR_CODE_MALFORMED_HEADER,
              NNRP_ERROR_SCOPE_CONNECTION, 1, 0);
  check_closed(&x, NNRP_ERR_MALFORMED_HEADER);
  nnrp_pair_free(&x.p);
}

/* ---- session id, frame ids, order --------------------------------------- */

TEST(foreign_session_id_is_session_scoped) {
  fixture x;
  if (!setup(&x, NULL, NULL, 1))
    return;
  uint8_t pkt[512];
  size_t n = submit(pkt, sizeof(pkt), x.sid + 1, 3);
  CHECK_EQ_INT(nnrp_pair_inject(&x.p, S, pkt, n), (int64_t)n);
  CHECK_EQ_INT(nnrp_pair_sent_count(&x.p, S, NNRP_MSG_ERROR), 1);
  check_error(&x, 0, NNRP_ERROR_CODE_INVALID_STATE, NNRP_ERROR_SCOPE_SESSION, 0,
              3);
  nnrp_packet pk;
  if (CHECK(nnrp_pair_sent(&x.p, S, NNRP_MSG_ERROR, 0, &pk)))
    CHECK_EQ_INT(pk.m.error.related_session_id, x.sid + 1);
  CHECK_EQ_INT(nnrp_pair_count(&x.p, S, NNRP_EV_SUBMIT, 0), 0);
  CHECK_EQ_INT(nnrp_session_get_state(x.srv), NNRP_STATE_ACTIVE);
  /* Step 12 precedes step 14: the id was not consumed. */
  n = submit(pkt, sizeof(pkt), x.sid, 3);
  CHECK_EQ_INT(nnrp_pair_inject(&x.p, S, pkt, n), (int64_t)n);
  CHECK_EQ_INT(nnrp_pair_count(&x.p, S, NNRP_EV_SUBMIT, 3), 1);
  CHECK_EQ_INT(nnrp_pair_sent_count(&x.p, S, NNRP_MSG_ERROR), 1);
  nnrp_pair_free(&x.p);
}

TEST(duplicate_and_old_frame_ids_are_frame_scoped) {
  fixture x;
  if (!setup(&x, NULL, NULL, 1))
    return;
  uint8_t pkt[512];
  size_t n = submit(pkt, sizeof(pkt), x.sid, 5);
  CHECK_EQ_INT(nnrp_pair_inject(&x.p, S, pkt, n), (int64_t)n);
  CHECK_EQ_INT(nnrp_pair_count(&x.p, S, NNRP_EV_SUBMIT, 5), 1);
  CHECK_EQ_INT(nnrp_pair_inject(&x.p, S, pkt, n), (int64_t)n); /* again */
  n = submit(pkt, sizeof(pkt), x.sid, 4); /* below the highest (TCP) */
  CHECK_EQ_INT(nnrp_pair_inject(&x.p, S, pkt, n), (int64_t)n);
  n = submit(pkt, sizeof(pkt), x.sid, 0); /* frame id 0 */
  CHECK_EQ_INT(nnrp_pair_inject(&x.p, S, pkt, n), (int64_t)n);
  CHECK_EQ_INT(nnrp_pair_sent_count(&x.p, S, NNRP_MSG_ERROR), 3);
  check_error(&x, 0, NNRP_ERROR_CODE_INVALID_STATE, NNRP_ERROR_SCOPE_FRAME, 0,
              5);
  check_error(&x, 1, NNRP_ERROR_CODE_INVALID_STATE, NNRP_ERROR_SCOPE_FRAME, 0,
              4);
  check_error(&x, 2, NNRP_ERROR_CODE_INVALID_STATE, NNRP_ERROR_SCOPE_FRAME, 0,
              0);
  CHECK_EQ_INT(nnrp_pair_count(&x.p, S, NNRP_EV_SUBMIT, 0), 1);
  CHECK_EQ_INT(nnrp_session_in_flight(x.srv), 1);
  /* No RESULT_DROP for a rejected submit (D17). */
  CHECK_EQ_INT(nnrp_pair_sent_count(&x.p, S, NNRP_MSG_RESULT_DROP), 0);
  CHECK_EQ_INT(nnrp_session_get_state(x.srv), NNRP_STATE_ACTIVE);
  nnrp_pair_free(&x.p);
}

TEST(frame_submit_as_first_packet_is_fatal) {
  fixture x;
  if (!setup(&x, NULL, NULL, 0))
    return;
  uint8_t pkt[512];
  size_t n = submit(pkt, sizeof(pkt), 1, 1);
  CHECK_EQ_INT(nnrp_pair_inject(&x.p, S, pkt, n), NNRP_ERR_FATAL_PROTOCOL);
  CHECK_EQ_INT(nnrp_pair_sent_count(&x.p, S, NNRP_MSG_ERROR), 1);
  check_error(&x, 0, NNRP_ERROR_CODE_INVALID_STATE, NNRP_ERROR_SCOPE_CONNECTION,
              1, 1);
  check_closed(&x, NNRP_ERR_HANDSHAKE_ORDER);
  CHECK_EQ_INT(nnrp_pair_count(&x.p, S, NNRP_EV_SUBMIT, 0), 0);
  CHECK_EQ_INT(nnrp_pair_count(&x.p, S, NNRP_EV_HANDSHAKE, 0), 0);
  nnrp_pair_free(&x.p);
}

TEST(second_client_hello_is_fatal) {
  fixture x;
  if (!setup(&x, NULL, NULL, 1))
    return;
  nnrp_packet hello;
  if (!CHECK(nnrp_pair_sent(&x.p, C, NNRP_MSG_CLIENT_HELLO, 0, &hello)))
    return;
  size_t n = NNRP_HEADER_LEN + hello.hdr.meta_len + hello.hdr.body_len;
  uint8_t pkt[1024];
  if (!CHECK(n <= sizeof(pkt)))
    return;
  memcpy(pkt, hello.meta_raw.ptr - NNRP_HEADER_LEN, n);
  CHECK_EQ_INT(nnrp_pair_inject(&x.p, S, pkt, n), NNRP_ERR_FATAL_PROTOCOL);
  CHECK_EQ_INT(nnrp_pair_sent_count(&x.p, S, NNRP_MSG_ERROR), 1);
  check_error(&x, 0, NNRP_ERROR_CODE_INVALID_STATE, NNRP_ERROR_SCOPE_CONNECTION,
              1, 0);
  check_closed(&x, NNRP_ERR_HANDSHAKE_ORDER);
  CHECK_EQ_INT(nnrp_pair_sent_count(&x.p, S, NNRP_MSG_SERVER_HELLO_ACK), 1);
  nnrp_pair_free(&x.p);
}

/* ---- backpressure ------------------------------------------------------- */

TEST(output_backpressure_stops_input) {
  nnrp_session_settings ss;
  nnrp_session_settings_default(&ss);
  ss.max_output_bytes = 1024;
  fixture x;
  if (!setup(&x, NULL, &ss, 1))
    return;
  /* 1000 PINGs from a client that never reads the PONGs. */
  const size_t count = 1000;
  uint8_t *pings = malloc(count * NNRP_HEADER_LEN);
  if (!CHECK(pings != NULL))
    return;
  for (size_t i = 0; i < count; i++)
    ctl(pings + i * NNRP_HEADER_LEN, NNRP_HEADER_LEN, NNRP_MSG_PING, x.sid, 0);
  uint64_t used = x.srv->mem.used;
  /* Input stops once queued output exceeds 1024: 26 PONGs = 1040 bytes. */
  CHECK_EQ_INT(feed_server(&x, pings, count * NNRP_HEADER_LEN),
               26 * NNRP_HEADER_LEN);
  CHECK_EQ_U64(nnrp_session_output_bytes(x.srv), 26 * NNRP_HEADER_LEN);
  CHECK_EQ_INT(feed_server(&x, pings + 26 * NNRP_HEADER_LEN,
                           (count - 26) * NNRP_HEADER_LEN),
               0);
  CHECK(x.srv->mem.used < used + 32 * 1024); /* bounded, not per PING */
  CHECK_EQ_INT(nnrp_session_get_state(x.srv), NNRP_STATE_ACTIVE);
  /* Writing the output lets input in again. */
  CHECK_EQ_INT(nnrp_session_output_consumed(
                   x.srv, (size_t)nnrp_session_output_bytes(x.srv), x.p.now),
               0);
  CHECK_EQ_INT(feed_server(&x, pings + 26 * NNRP_HEADER_LEN,
                           (count - 26) * NNRP_HEADER_LEN),
               26 * NNRP_HEADER_LEN);
  free(pings);
  nnrp_pair_free(&x.p);
}

TEST(event_backpressure_stops_at_max_events) {
  nnrp_session_settings ss;
  nnrp_session_settings_default(&ss);
  ss.max_events = 8;
  fixture x;
  if (!setup(&x, NULL, &ss, 1))
    return;
  /* Ten frames in flight (each SUBMIT event pulled as it comes). */
  uint8_t pkt[512];
  for (uint32_t id = 1; id <= 10; id++) {
    size_t n = submit(pkt, sizeof(pkt), x.sid, id);
    CHECK_EQ_INT(nnrp_pair_inject(&x.p, S, pkt, n), (int64_t)n);
  }
  CHECK_EQ_INT(nnrp_pair_count(&x.p, S, NNRP_EV_SUBMIT, 0), 10);
  CHECK_EQ_INT(nnrp_session_in_flight(x.srv), 10);
  /* Ten cancels, events not pulled: each adds NNRP_EV_CANCELLED (no view),
   * so input stops after the 8th. */
  uint8_t cancels[10 * NNRP_HEADER_LEN];
  for (uint32_t id = 1; id <= 10; id++)
    ctl(cancels + (id - 1) * NNRP_HEADER_LEN, NNRP_HEADER_LEN,
        NNRP_MSG_FRAME_CANCEL, x.sid, id);
  CHECK_EQ_INT(feed_server(&x, cancels, sizeof(cancels)), 8 * NNRP_HEADER_LEN);
  CHECK_EQ_INT(x.srv->evq.count, 8);
  CHECK_EQ_INT(
      feed_server(&x, cancels + 8 * NNRP_HEADER_LEN, 2 * NNRP_HEADER_LEN), 0);
  nnrp_event ev;
  int pulled = 0;
  while (nnrp_session_next_event(x.srv, &ev) == 1)
    pulled += ev.type == NNRP_EV_CANCELLED;
  CHECK_EQ_INT(pulled, 8);
  CHECK_EQ_INT(
      feed_server(&x, cancels + 8 * NNRP_HEADER_LEN, 2 * NNRP_HEADER_LEN),
      2 * NNRP_HEADER_LEN);
  CHECK_EQ_INT(nnrp_session_in_flight(x.srv), 0);
  nnrp_pair_pump(&x.p);
  CHECK_EQ_INT(nnrp_pair_sent_count(&x.p, S, NNRP_MSG_RESULT_DROP), 10);
  CHECK_EQ_INT(nnrp_pair_sent_count(&x.p, S, NNRP_MSG_ERROR), 0);
  nnrp_pair_free(&x.p);
}

int main(void) {
  RUN(garbage_after_handshake_is_connection_fatal);
  RUN(garbage_as_first_bytes);
  RUN(header_fault_on_error_type_ends_session);
  RUN(truncated_header_then_eof_closes_without_error);
  RUN(eof_at_packet_boundary_is_connection_lost);
  RUN(oversize_packet_fails_before_buffering);
  RUN(body_over_max_body_is_skipped);
  RUN(unknown_message_type_is_malformed_header);
  RUN(foreign_session_id_is_session_scoped);
  RUN(duplicate_and_old_frame_ids_are_frame_scoped);
  RUN(frame_submit_as_first_packet_is_fatal);
  RUN(second_client_hello_is_fatal);
  RUN(output_backpressure_stops_input);
  RUN(event_backpressure_stops_at_max_events);
  TEST_MAIN_END();
}
