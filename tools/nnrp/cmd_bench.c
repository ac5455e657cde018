/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cmd_bench.c - `nnrp bench`: a pipelined load generator. S sessions share
 * one runtime; each keeps up to W frames in flight (submit_nowait with no
 * wait, refilled from on_result). Every frame must end exactly once: sent
 * == completed + dropped + errors at the end, else exit 1. Counts result
 * classes, hints and pauses; options and setup in bench_args.c and
 * bench_setup.c, the report (and --json line) in bench_report.c.
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench.h"
#include "cli.h"
#include "util.h"

/* ---- the load ----------------------------------------------------------- */

static uint64_t ended_total(const bench *b) {
  return b->completed + b->dropped + b->errors;
}

static int time_up(const bench *b) {
  return b->a.duration_s && nnrp_runtime_now() >= b->t_end;
}

static int all_done(const bench *b) {
  for (uint32_t i = 0; i < b->a.sessions && !time_up(b); i++)
    if (!b->ss[i].dead && b->ss[i].submitted < b->ss[i].quota)
      return 0;
  return ended_total(b) >= b->sent;
}

/* Room for frame seq in the per-frame arrays (they grow with
 * --duration-s). */
static void reserve(bench *b, uint32_t seq) {
  if (seq < b->cap)
    return;
  uint32_t cap = b->cap * 2u > seq ? b->cap * 2u : seq + 1u;
  uint64_t *t = realloc(b->sent_at, (size_t)cap * sizeof(*t));
  uint8_t *e = realloc(b->ended, cap);
  if (t == NULL || e == NULL) {
    fputs("nnrp: out of memory\n", stderr);
    exit(CLI_EXIT_INVALID);
  }
  memset(e + b->cap, 0, cap - b->cap);
  b->sent_at = t;
  b->ended = e;
  b->cap = cap;
}

/* Submits until the session has W frames in flight or its quota is sent. */
static void fill(bench_sess *bs) {
  bench *b = bs->b;
  while (!b->stopping && !bs->dead && bs->submitted < bs->quota &&
         nnrp_client_session_in_flight(bs->cs) < b->a.window && !time_up(b)) {
    uint32_t seq = b->next_seq;
    reserve(b, seq);
    nnrp_submit req = bs->cached ? b->cache.req : b->f.req;
    req.user_data = (void *)(uintptr_t)(seq + 1u);
    b->sent_at[seq] = nnrp_runtime_now();
    if (b->a.deadline_ms)
      req.deadline = b->sent_at[seq] + b->a.deadline_ms * 1000000ull;
    int rc = nnrp_client_session_submit_nowait(bs->cs, &req, 0, NULL);
    if (rc == NNRP_ERR_WOULD_BLOCK)
      break; /* window, credit or pause (session.md §8.1) */
    if (rc != 0) {
      fprintf(stderr, "nnrp bench: submit: %s (%s); session stops\n",
              nnrp_err_name(rc),
              rc == NNRP_ERR_INVALID_STATE ? "the session is closing"
                                           : nnrp_strerror(rc));
      bs->dead = 1;
      break;
    }
    if (b->sent == 0)
      b->t_first = b->sent_at[seq];
    b->next_seq++;
    bs->submitted++;
    b->sent++;
    b->ref_frames += bs->cached != 0;
  }
}

/* --verify of a final push: class fields and tiles. */
static void verify(bench *b, const nnrp_client_result *r) {
  const char *why =
      check_result_class(r->meta, b->a.budget_policy, r->frame_id);
  if (why == NULL && b->f.has_tensor)
    why = check_result_tiles(&b->ex, r->meta, r->body);
  if (why == NULL)
    return;
  b->verify_failed++;
  if (b->vlogged++ < 5)
    fprintf(stderr, "nnrp bench: frame %u (%s): verify failed: %s\n",
            (unsigned)r->frame_id, net_class_name(r->meta->result_class), why);
}

/* A FAILED record: counted (local expiries of --deadline-ms apart). */
static void failed(bench *b, const nnrp_client_result *r) {
  b->errors++;
  if (b->a.deadline_ms && r->error.local &&
      (r->error.lib_err == NNRP_ERR_TIMEOUT ||
       r->error.error_code == NNRP_ERROR_CODE_FRAME_EXPIRED)) {
    b->expired++;
    return;
  }
  if (b->logged++ < 5) {
    char why[300];
    net_record_text(&r->error, why, sizeof(why));
    fprintf(stderr, "nnrp bench: frame %u failed: %s\n", (unsigned)r->frame_id,
            why);
  }
}

/* One record: non-final pushes of streamed frames only count; a terminal
 * record must be the frame's first. */
static void account(bench *b, const nnrp_client_result *r) {
  uintptr_t u = (uintptr_t)r->user_data;
  if (r->packet != NULL)
    b->rx_bytes +=
        NNRP_HEADER_LEN + r->packet->meta_raw.len + r->packet->body_raw.len;
  b->pushes += r->kind == NNRP_RESULT_PUSH;
  if (r->kind == NNRP_RESULT_PUSH && !r->final)
    return;
  if (u == 0 || u > b->next_seq || b->ended[u - 1]) {
    b->dup++;
    return;
  }
  b->ended[u - 1] = 1;
  b->t_last = b->t_activity = r->received_at;
  bench_stats_add(&b->st, r->received_at - b->sent_at[u - 1]);
  if (r->kind == NNRP_RESULT_PUSH) {
    b->completed++;
    b->classes[r->meta->result_class & 3u]++;
    if (b->a.verify)
      verify(b, r);
  } else if (r->kind == NNRP_RESULT_DROP) {
    b->dropped++;
  } else {
    failed(b, r);
  }
}

static void drain(bench_sess *bs) {
  nnrp_client_result *r = NULL;
  while (nnrp_client_session_receive_result(bs->cs, 0, 0, &r) == 0) {
    account(bs->b, r);
    nnrp_client_result_free(r);
  }
}

static void on_result(nnrp_client_session *cs, uint32_t frame_id, void *user) {
  (void)cs;
  (void)frame_id;
  bench_sess *bs = user;
  drain(bs);
  fill(bs);
  if (all_done(bs->b))
    nnrp_runtime_stop(bs->b->rt);
}

static void progress(bench *b, int last) {
  uint64_t now = nnrp_runtime_now();
  uint64_t every = b->tty ? 250000000u : 1000000000u;
  if (!last && now - b->t_progress < every)
    return;
  if (last && !b->tty)
    return;
  b->t_progress = now;
  double s = (double)(now - b->t_first) / 1e9;
  if (last) {
    fputs("\r\033[K", stderr);
    return;
  }
  fprintf(stderr,
          "%sbench: %llu/%u frames ended, %.0f frames/s, %llu in "
          "flight%s",
          b->tty ? "\r\033[K" : "", (unsigned long long)ended_total(b),
          (unsigned)(b->a.duration_s ? b->sent : b->a.frames),
          s > 0 ? (double)ended_total(b) / s : 0.0,
          (unsigned long long)(b->sent - ended_total(b)), b->tty ? "" : "\n");
}

/* Marks closed sessions dead (their frames fail: take the records). */
static void check_sessions(bench *b) {
  for (uint32_t i = 0; i < b->a.sessions; i++) {
    bench_sess *bs = &b->ss[i];
    if (bs->dead || nnrp_client_session_state(bs->cs) != NNRP_STATE_CLOSED)
      continue;
    drain(bs);
    bs->dead = 1;
    nnrp_error_record rec;
    int err = nnrp_client_session_last_error(bs->cs, &rec, NULL);
    fprintf(stderr, "nnrp bench: session %u closed: %s\n", (unsigned)i,
            err ? nnrp_err_name(err) : "by the server");
    bench_take_flow_stats(b, bs);
  }
}

/* Runs until every frame ended or nothing ended for timeout_ms. */
static int run_load(bench *b) {
  b->t_activity = b->t_progress = nnrp_runtime_now();
  b->t_end = b->t_activity + b->a.duration_s * 1000000000ull;
  for (uint32_t i = 0; i < b->a.sessions; i++)
    fill(&b->ss[i]);
  while (!all_done(b)) {
    nnrp_runtime_run(b->rt, 100);
    check_sessions(b);
    for (uint32_t i = 0; i < b->a.sessions; i++)
      fill(&b->ss[i]); /* a pause may have ended without a result */
    progress(b, 0);
    uint64_t idle = nnrp_runtime_now() - b->t_activity;
    if (!all_done(b) && idle > (uint64_t)b->a.net.timeout_ms * 1000000u) {
      fprintf(stderr, "\nnnrp bench: no frame ended for %u ms: giving up\n",
              (unsigned)b->a.net.timeout_ms);
      return -1;
    }
  }
  progress(b, 1);
  return 0;
}

/* Closes every session; frames still open end as failures (counted). */
static void close_all(bench *b, int timeout_ms) {
  b->stopping = 1;
  for (uint32_t i = 0; b->ss != NULL && i < b->a.sessions; i++) {
    if (b->ss[i].cs == NULL)
      continue;
    bench_take_flow_stats(b, &b->ss[i]);
    (void)nnrp_client_session_close(b->ss[i].cs, timeout_ms);
    drain(&b->ss[i]);
    nnrp_client_session_del(b->ss[i].cs);
    b->ss[i].cs = NULL;
  }
}

static void bench_free(bench *b) {
  close_all(b, 0);
  nnrp_runtime_del(b->rt);
  free(b->ss);
  free(b->sent_at);
  free(b->ended);
  free(b->flood_data);
  bench_stats_free(&b->st);
  check_expect_free(&b->ex);
  net_cache_free(&b->cache);
  net_frame_free(&b->f);
}

/* Frames, cache objects, expected results; then the sessions. */
static int prepare(bench *b) {
  if (net_frame_init(&b->f, &b->a.spec) != 0)
    return CLI_EXIT_USAGE;
  b->f.req.meta.budget_policy = b->a.budget_policy;
  if (b->a.cache && net_cache_init(&b->cache, &b->f, b->a.cache_mixed) != 0)
    return CLI_EXIT_USAGE;
  b->tty = isatty(2);
  b->cap = b->a.frames < (1u << 16) ? b->a.frames : (1u << 16);
  b->sent_at = cli_xcalloc(b->cap, sizeof(*b->sent_at));
  b->ended = cli_xcalloc(b->cap, 1);
  bench_stats_init(&b->st, b->cap);
  nnrp_client_config cfg;
  nnrp_client_config_default(&cfg);
  cfg.on_result = on_result;
  cfg.on_event = bench_on_event;
  cfg.max_queued_hints = 0; /* counted, not kept */
  cfg.auto_pause = (uint8_t)(b->a.auto_pause != 0);
  if (nnrp_runtime_new(&b->rt, NULL) != 0 || bench_setup(b, &cfg) != 0)
    return CLI_EXIT_INVALID;
  nnrp_bytes m = nnrp_client_session_model_name(b->ss[0].cs);
  if (b->a.verify)
    check_expect_init(
        &b->ex, m.ptr ? model_kind_from_name((const char *)m.ptr, m.len) : -1,
        &b->f);
  return CLI_EXIT_OK;
}

int cli_cmd_bench(int argc, char **argv) {
  bench b;
  memset(&b, 0, sizeof(b));
  int st = bench_parse_args(argc, argv, &b.a);
  if (st >= 0)
    return st;
  st = prepare(&b);
  if (st != CLI_EXIT_OK) {
    bench_free(&b);
    return st;
  }
  int rc = run_load(&b);
  close_all(&b, rc == 0 ? (int)b.a.net.timeout_ms : 1000);
  bench_report(&b);
  st = bench_verdict(&b);
  bench_free(&b);
  return rc == 0 ? st : CLI_EXIT_INVALID;
}
