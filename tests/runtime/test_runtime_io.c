/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_runtime_io.c - the runtime's I/O paths over 127.0.0.1: the shared
 * read buffer with per-connection spill, large packets read whole and kept
 * by the held submit / result (no copy), recycled record blocks of every
 * size class (held submits, results, frame records), results that outlive
 * their runtime, truncation inside a packet read whole, and session timers
 * whose expiry moves (keepalive answered, a silent peer detected).
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <nnrp/nnrp_runtime.h>

#include "harness.h"
#include "runtime_check.h"

/* ---- helpers --------------------------------------------------------------
 */

/* A frame with one tile of `len` bytes derived from `seed`. */
typedef struct frame {
  uint8_t *tile;
  size_t len;
  rc_tensor_frame tf;
} frame;

static uint8_t byte_of(uint32_t seed, size_t i) {
  return (uint8_t)(seed * 31u + i * 7u + (i >> 12));
}

static int frame_init(frame *f, size_t len, uint32_t seed) {
  memset(f, 0, sizeof(*f));
  f->tile = malloc(len ? len : 1);
  if (f->tile == NULL)
    return 0;
  for (size_t i = 0; i < len; i++)
    f->tile[i] = byte_of(seed, i);
  f->len = len;
  return 1;
}

static void frame_submit(frame *f, nnrp_submit *r) {
  rc_tensor_submit(r, &f->tf, &f->tile, f->len, 1, f);
}

/* The tile of a result matches the frame it answers. */
static int tile_ok(const nnrp_client_result *r, const frame *f) {
  nnrp_bytes t = rc_first_tile(r->body);
  return t.len == f->len && (f->len == 0 || memcmp(t.ptr, f->tile, f->len) == 0);
}

typedef struct server_state {
  int answered;
  int bad; /* a submit whose tile did not match its seed */
} server_state;

/* Checks the received tile (seed = frame id) before echoing it. */
static void echo_cb(nnrp_server_session *ss, const nnrp_received_submit *sub,
                    void *user) {
  server_state *st = user;
  nnrp_bytes t = rc_first_tile(sub->body);
  for (size_t i = 0; i < t.len; i++)
    if (t.ptr[i] != byte_of(sub->frame_id, i)) {
      st->bad++;
      break;
    }
  if (rc_echo(ss, sub) > 0)
    st->answered++;
}

typedef struct fixture {
  nnrp_runtime *rt;
  nnrp_server *srv;
  nnrp_client_session *cs;
  server_state st;
  int fds_before;
} fixture;

static int setup(fixture *f, uint16_t window, uint32_t max_queued) {
  memset(f, 0, sizeof(*f));
  f->fds_before = rc_open_fds();
  if (!CHECK_EQ_INT(nnrp_runtime_new(&f->rt, NULL), 0))
    return 0;
  nnrp_server_profile sp;
  nnrp_server_profile_default(&sp);
  sp.max_concurrent_frames = window;
  nnrp_server_config sc;
  rc_server_config(&sc);
  sc.on_submit = echo_cb;
  sc.user = &f->st;
  if (!CHECK_EQ_INT(nnrp_serve_tcp(f->rt, &sp, &sc, &f->srv), 0))
    return 0;
  nnrp_client_config cc;
  rc_client_config(&cc, nnrp_server_port(f->srv));
  if (max_queued)
    cc.max_queued_results = max_queued;
  return CHECK_EQ_INT(nnrp_dial_client(f->rt, NULL, NULL, &cc, &f->cs), 0);
}

static void teardown(fixture *f) {
  nnrp_client_session_del(f->cs);
  nnrp_server_close(f->srv);
  nnrp_runtime_del(f->rt);
  CHECK_EQ_INT(rc_open_fds(), f->fds_before);
}

/* Sizes that cover small packets, packets that span reads, and packets
 * read whole (above a quarter of the 256 KiB read buffer), in every size
 * class the record pools use. */
static size_t size_at(uint32_t i) {
  static const size_t sizes[] = {0,     1,          64,         700,
                                 4096,  60000,      65536,      70000,
                                 100,   300 * 1024, 33,         1u << 20,
                                 9000,  130000,     2u << 20,   5};
  return sizes[i % (sizeof(sizes) / sizeof(sizes[0]))];
}

/* ---- tests ----------------------------------------------------------------
 */

/* 96 frames of mixed sizes (0 B .. 2 MiB), 6 in flight, results taken in
 * order while later ones arrive: every byte intact both ways, so the spill,
 * the whole-packet reads and the recycled blocks never mix two packets. */
TEST(mixed_sizes_pipelined) {
  fixture f;
  enum { N = 96 };
  static frame fr[N];
  memset(fr, 0, sizeof(fr));
  if (!setup(&f, 6, 0))
    goto out;
  uint32_t sent = 0, got = 0;
  while (got < N) {
    while (sent < N) {
      if (fr[sent].tile == NULL &&
          !CHECK(frame_init(&fr[sent], size_at(sent), sent + 1)))
        goto out;
      nnrp_submit req;
      frame_submit(&fr[sent], &req);
      if (nnrp_client_session_submit_nowait(f.cs, &req, 0, NULL) != 0)
        break;
      sent++;
    }
    nnrp_client_result *r = NULL;
    if (!CHECK_EQ_INT(nnrp_client_session_receive_result(f.cs, 0, 5000, &r), 0))
      break;
    CHECK(r->kind == NNRP_RESULT_PUSH && r->frame_id == got + 1);
    CHECK(r->user_data == &fr[got]);
    CHECK(tile_ok(r, &fr[got]));
    nnrp_client_result_free(r);
    got++;
  }
  CHECK_EQ_INT(got, N);
  CHECK_EQ_INT(f.st.answered, N);
  CHECK_EQ_INT(f.st.bad, 0);
  CHECK_EQ_INT(nnrp_client_session_close(f.cs, 2000), 0);
out:
  teardown(&f);
  for (int i = 0; i < N; i++)
    free(fr[i].tile);
}

/* A router bound of 2 results with 8 large frames in flight: the client's
 * reads stop while a packet read whole waits (it becomes the pending input)
 * and resume when results are taken. */
TEST(large_results_backpressure) {
  fixture f;
  enum { N = 24 };
  static frame fr[N];
  memset(fr, 0, sizeof(fr));
  if (!setup(&f, 8, 2))
    goto out;
  for (uint32_t i = 0; i < N; i++)
    if (!CHECK(frame_init(&fr[i], (i % 3 + 1) * 200000u, i + 1)))
      goto out;
  uint32_t sent = 0, got = 0;
  while (got < N) {
    while (sent < N) {
      nnrp_submit req;
      frame_submit(&fr[sent], &req);
      if (nnrp_client_session_submit_nowait(f.cs, &req, 0, NULL) != 0)
        break;
      sent++;
    }
    /* Let the loop fill the router before taking anything. */
    (void)nnrp_runtime_run(f.rt, 2);
    CHECK(nnrp_client_session_queued_results(f.cs) <= 3);
    nnrp_client_result *r = NULL;
    if (!CHECK_EQ_INT(nnrp_client_session_receive_result(f.cs, 0, 5000, &r), 0))
      break;
    CHECK(r->frame_id == got + 1 && tile_ok(r, &fr[got]));
    nnrp_client_result_free(r);
    got++;
  }
  CHECK_EQ_INT(got, N);
  CHECK_EQ_INT(f.st.bad, 0);
out:
  teardown(&f);
  for (int i = 0; i < N; i++)
    free(fr[i].tile);
}

/* Results taken and kept (small ones copied, a large one kept in the buffer
 * it was read into) stay valid after the runtime is gone and are freed with
 * nnrp_client_result_free() then. */
TEST(results_outlive_runtime) {
  fixture f;
  enum { N = 4 };
  static frame fr[N];
  memset(fr, 0, sizeof(fr));
  nnrp_client_result *kept[N] = {NULL, NULL, NULL, NULL};
  const size_t sizes[N] = {100, 1u << 20, 70000, 0};
  frame extra;
  memset(&extra, 0, sizeof(extra));
  if (!setup(&f, 4, 0))
    goto out;
  for (uint32_t i = 0; i < N; i++) {
    if (!CHECK(frame_init(&fr[i], sizes[i], i + 1)))
      goto out;
    nnrp_submit req;
    frame_submit(&fr[i], &req);
    CHECK_EQ_INT(nnrp_client_session_submit(f.cs, &req, 5000, NULL, &kept[i]),
                 0);
  }
  /* A frame submitted and never taken: freed with the runtime. */
  if (CHECK(frame_init(&extra, 500000, N + 1))) {
    nnrp_submit req;
    frame_submit(&extra, &req);
    CHECK_EQ_INT(nnrp_client_session_submit_nowait(f.cs, &req, 0, NULL), 0);
    (void)nnrp_client_session_flush(f.cs, 2000);
  }
out:
  teardown(&f);
  for (int i = 0; i < N; i++) {
    if (kept[i] != NULL) {
      CHECK(kept[i]->kind == NNRP_RESULT_PUSH && tile_ok(kept[i], &fr[i]));
      nnrp_client_result_free(kept[i]);
    }
    free(fr[i].tile);
  }
  free(extra.tile);
}

/* ---- a raw peer ------------------------------------------------------------
 */

/* A raw client that completed the handshake on f's server; *ss accepted. */
static int raw_client(fixture *f, uint16_t window, int *fd, nnrp_session **raw,
                      nnrp_server_session **ss) {
  memset(f, 0, sizeof(*f));
  f->fds_before = rc_open_fds();
  if (!CHECK_EQ_INT(nnrp_runtime_new(&f->rt, NULL), 0))
    return 0;
  nnrp_server_profile sp;
  nnrp_server_profile_default(&sp);
  sp.max_concurrent_frames = window;
  nnrp_server_config sc;
  rc_server_config(&sc);
  sc.keepalive_interval_ms = 40;
  sc.peer_dead_timeout_ms = 300;
  if (!CHECK_EQ_INT(nnrp_serve_tcp(f->rt, &sp, &sc, &f->srv), 0))
    return 0;
  *fd = rc_connect_loopback(nnrp_server_port(f->srv));
  if (!CHECK(*fd >= 0))
    return 0;
  nnrp_session_settings st;
  nnrp_session_settings_default(&st);
  st.keepalive_interval_ns = 0; /* the raw side never pings */
  st.peer_dead_timeout_ns = 0;
  nnrp_client_profile cp;
  nnrp_client_profile_default(&cp);
  if (!CHECK_EQ_INT(nnrp_session_client_new(raw, &cp, &st, NULL), 0) ||
      !CHECK_EQ_INT(nnrp_session_connect(*raw, 0), 0) ||
      !CHECK(rc_write_output(*fd, *raw, SIZE_MAX) > 0) ||
      !CHECK(rc_read_until(f->rt, *fd, *raw, NNRP_EV_HANDSHAKE, NULL)))
    return 0;
  return CHECK_EQ_INT(nnrp_accept_server_session(f->srv, 2000, ss), 0);
}

/* Half of a 600 KiB FRAME_SUBMIT (read whole by the server, so held back
 * from the session until complete), then the client closes: the session
 * still sees the partial packet and ends with NNRP_ERR_TRUNCATED, not a
 * clean end. */
TEST(large_packet_truncated) {
  fixture f;
  int fd = -1;
  nnrp_session *raw = NULL;
  nnrp_server_session *ss = NULL;
  frame fr;
  memset(&fr, 0, sizeof(fr));
  if (!raw_client(&f, 4, &fd, &raw, &ss) ||
      !CHECK(frame_init(&fr, 600 * 1024, 1)))
    goto out;
  nnrp_submit req;
  frame_submit(&fr, &req);
  CHECK_EQ_INT(nnrp_session_submit(raw, &req, NULL, 0), 0);
  uint64_t total = nnrp_session_output_bytes(raw);
  CHECK(rc_write_output(fd, raw, (size_t)total / 2) > 0);
  close(fd);
  fd = -1;
  const nnrp_received_submit *sub = NULL;
  CHECK_EQ_INT(nnrp_server_session_receive_submit(ss, 2000, &sub),
               NNRP_ERR_TRUNCATED);
  CHECK(sub == NULL);
out:
  rc_raw_peer_end(fd, raw, ss);
  teardown(&f);
  free(fr.tile);
}

/* The same packet sent whole in two writes far apart: delivered intact. */
TEST(large_packet_in_two_writes) {
  fixture f;
  int fd = -1;
  nnrp_session *raw = NULL;
  nnrp_server_session *ss = NULL;
  frame fr;
  memset(&fr, 0, sizeof(fr));
  if (!raw_client(&f, 4, &fd, &raw, &ss) ||
      !CHECK(frame_init(&fr, 600 * 1024, 1)))
    goto out;
  nnrp_submit req;
  frame_submit(&fr, &req);
  CHECK_EQ_INT(nnrp_session_submit(raw, &req, NULL, 0), 0);
  uint64_t total = nnrp_session_output_bytes(raw);
  CHECK(rc_write_output(fd, raw, 300) == 300); /* header + a little */
  (void)nnrp_runtime_run(f.rt, 20);
  CHECK(rc_write_output(fd, raw, (size_t)total) > 0);
  const nnrp_received_submit *sub = NULL;
  if (CHECK_EQ_INT(nnrp_server_session_receive_submit(ss, 2000, &sub), 0)) {
    nnrp_bytes t = rc_first_tile(sub->body);
    CHECK(t.len == fr.len && memcmp(t.ptr, fr.tile, fr.len) == 0);
    CHECK_EQ_INT(nnrp_server_session_release_submit(ss, sub->frame_id), 0);
  }
out:
  rc_raw_peer_end(fd, raw, ss);
  teardown(&f);
  free(fr.tile);
}

/* Timers whose expiry keeps moving: a silent peer (never answers the
 * server's PINGs) is cut at the peer-dead timeout (300 ms), although every
 * packet it sent before pushed the expiry later. */
TEST(silent_peer_is_cut) {
  fixture f;
  int fd = -1;
  nnrp_session *raw = NULL;
  nnrp_server_session *ss = NULL;
  if (!raw_client(&f, 4, &fd, &raw, &ss))
    goto out;
  uint64_t t0 = nnrp_runtime_now();
  for (int i = 0; i < 300 && nnrp_server_session_state(ss) != NNRP_STATE_CLOSED;
       i++)
    (void)nnrp_runtime_run_once(f.rt, 10);
  uint64_t waited = nnrp_runtime_now() - t0;
  CHECK_EQ_INT(nnrp_server_session_state(ss), NNRP_STATE_CLOSED);
  CHECK(waited >= 250000000u && waited < 2000000000u);
out:
  rc_raw_peer_end(fd, raw, ss);
  teardown(&f);
}

/* A live client with a short keepalive against the same server settings:
 * PINGs go out and are answered while idle, so the session stays up well
 * past the peer-dead timeout. */
TEST(keepalive_keeps_idle_session) {
  fixture f;
  memset(&f, 0, sizeof(f));
  f.fds_before = rc_open_fds();
  if (!CHECK_EQ_INT(nnrp_runtime_new(&f.rt, NULL), 0))
    return;
  nnrp_server_config sc;
  rc_server_config(&sc);
  sc.on_submit = echo_cb;
  sc.user = &f.st;
  sc.keepalive_interval_ms = 40;
  sc.peer_dead_timeout_ms = 300;
  CHECK_EQ_INT(nnrp_serve_tcp(f.rt, NULL, &sc, &f.srv), 0);
  nnrp_client_config cc;
  rc_client_config(&cc, nnrp_server_port(f.srv));
  cc.keepalive_interval_ms = 40;
  cc.peer_dead_timeout_ms = 300;
  if (!CHECK_EQ_INT(nnrp_dial_client(f.rt, NULL, NULL, &cc, &f.cs), 0))
    goto out;
  CHECK_EQ_INT(nnrp_runtime_run(f.rt, 800), 0);
  CHECK_EQ_INT(nnrp_client_session_state(f.cs), NNRP_STATE_ACTIVE);
  CHECK_EQ_INT(nnrp_server_session_count(f.srv), 1);
  frame fr;
  if (CHECK(frame_init(&fr, 100, 1))) {
    nnrp_submit req;
    frame_submit(&fr, &req);
    nnrp_client_result *r = NULL;
    if (CHECK_EQ_INT(nnrp_client_session_submit(f.cs, &req, 2000, NULL, &r),
                     0)) {
      CHECK(tile_ok(r, &fr));
      nnrp_client_result_free(r);
    }
    free(fr.tile);
  }
out:
  teardown(&f);
}

int main(void) {
  /* libuv opens a process-wide pipe with the first loop: open it before
   * the tests count descriptors. */
  nnrp_runtime *warm = NULL;
  if (nnrp_runtime_new(&warm, NULL) == 0)
    nnrp_runtime_del(warm);
  RUN(mixed_sizes_pipelined);
  RUN(large_results_backpressure);
  RUN(results_outlive_runtime);
  RUN(large_packet_truncated);
  RUN(large_packet_in_two_writes);
  RUN(silent_peer_is_cut);
  RUN(keepalive_keeps_idle_session);
  return harness_finish();
}
