/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cmd_bench.c - `nnrp bench`: a pipelined load generator. S sessions share
 * one runtime; each keeps up to W frames in flight (submit_nowait with no
 * wait, refilled from on_result). Every frame must end exactly once: sent
 * == completed + dropped + errors at the end, else exit 1. Prints frames/s,
 * MB/s, RTT percentiles and a histogram; --json ends with one JSON line.
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench_stats.h"
#include "cli.h"
#include "net_common.h"
#include "util.h"

typedef struct bench_args {
  net_opts net;
  uint32_t frames, window, sessions;
  net_frame_spec spec;
  int json;
} bench_args;

struct bench;

typedef struct bench_sess {
  struct bench *b;
  nnrp_client_session *cs;
  uint32_t quota, submitted;
  int dead;
} bench_sess;

typedef struct bench {
  bench_args a;
  net_frame f;
  nnrp_runtime *rt;
  bench_sess *ss;
  uint64_t *sent_at; /* per frame (sequence number) */
  uint8_t *ended;    /* per frame: terminal record seen */
  uint32_t next_seq;
  uint64_t sent, completed, dropped, errors, dup, pushes, rx_bytes;
  uint64_t t_first, t_last, t_progress, t_activity;
  uint32_t logged;
  int stopping, tty;
  bench_stats st;
} bench;

void cli_usage_bench(FILE *out) {
  fputs("usage: nnrp bench [--host H] --port P [--frames N] [--payload BYTES]"
        "\n"
        "                  [--window W] [--sessions S] "
        "[--kind tensor|token|mixed]\n"
        "                  [--json] [--auth-token T] [--lenient]\n"
        "\n"
        "Pipelined load: S sessions in one runtime, W frames in flight per\n"
        "session. Prints frames/s, MB/s, RTT p50/p99/p99.9 and a latency\n"
        "histogram; a progress line goes to stderr (refreshed on a TTY,\n"
        "once a second otherwise). Exit status 1 unless every frame was\n"
        "sent and ended exactly once without error.\n"
        "  --frames N        frames in total (default 1000)\n"
        "  --payload BYTES   payload per frame (default 1024)\n"
        "  --window W        frames in flight per session (default 16)\n"
        "  --sessions S      sessions (default 1)\n"
        "  --kind K          tensor (default), token (streamed) or mixed\n"
        "  --json            last stdout line: {\"sent\", \"completed\", "
        "\"dropped\",\n"
        "                    \"errors\", \"p50_us\", \"p99_us\", \"p999_us\",\n"
        "                    \"frames_per_s\", \"bytes_per_s\"}\n"
        "  (--timeout-ms: abort when no frame ended for that long)\n",
        out);
  net_opts_usage(out);
}

/* Options of bench itself; 1 consumed, 0 unknown, -(exit status+1). */
static int parse_own(bench_args *a, int argc, char **argv, int *i) {
  const char *v = NULL;
  uint64_t n = 0;
  if (cli_opt(argc, argv, i, "--frames", &v)) {
    if (cli_parse_num(v, 10000000, &n) != 0 || n == 0)
      return -1 - cli_usage_fail("bench", "--frames needs 1..10000000", v);
    a->frames = (uint32_t)n;
  } else if (cli_opt(argc, argv, i, "--payload", &v)) {
    if (cli_parse_num(v, 16u << 20, &n) != 0 || n == 0)
      return -1 - cli_usage_fail("bench", "--payload needs 1..16777216", v);
    a->spec.bytes = (size_t)n;
  } else if (cli_opt(argc, argv, i, "--window", &v)) {
    if (cli_parse_num(v, 4096, &n) != 0 || n == 0)
      return -1 - cli_usage_fail("bench", "--window needs 1..4096", v);
    a->window = (uint32_t)n;
  } else if (cli_opt(argc, argv, i, "--sessions", &v)) {
    if (cli_parse_num(v, 256, &n) != 0 || n == 0)
      return -1 - cli_usage_fail("bench", "--sessions needs 1..256", v);
    a->sessions = (uint32_t)n;
  } else if (cli_opt(argc, argv, i, "--kind", &v)) {
    if (net_kind_parse(v, &a->spec.kind) != 0 || a->spec.kind > NET_KIND_MIXED)
      return -1 - cli_usage_fail("bench",
                                 "--kind needs tensor, token or "
                                 "mixed",
                                 v);
  } else if (strcmp(argv[*i], "--json") == 0) {
    a->json = 1;
  } else {
    return 0;
  }
  return 1;
}

/* Returns -1 to continue, or an exit status. */
static int parse_args(int argc, char **argv, bench_args *a) {
  memset(a, 0, sizeof(*a));
  net_opts_default(&a->net);
  a->frames = 1000;
  a->window = 16;
  a->sessions = 1;
  a->spec.bytes = 1024;
  for (int i = 0; i < argc; i++) {
    int r = net_opt_parse(&a->net, "bench", argc, argv, &i);
    if (r < 0)
      return CLI_EXIT_USAGE;
    if (r > 0)
      continue;
    if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
      cli_usage_bench(stdout);
      return CLI_EXIT_OK;
    }
    r = parse_own(a, argc, argv, &i);
    if (r < 0)
      return -r - 1;
    if (r == 0)
      return cli_usage_fail("bench", "unknown argument", argv[i]);
  }
  if (!a->net.port_given)
    return cli_usage_fail("bench", "--port is required", NULL);
  return -1;
}

/* ---- the load ----------------------------------------------------------- */

static uint64_t ended_total(const bench *b) {
  return b->completed + b->dropped + b->errors;
}

static int all_done(const bench *b) {
  for (uint32_t i = 0; i < b->a.sessions; i++)
    if (!b->ss[i].dead && b->ss[i].submitted < b->ss[i].quota)
      return 0;
  return ended_total(b) >= b->sent;
}

/* Submits until the session has W frames in flight or its quota is sent. */
static void fill(bench_sess *bs) {
  bench *b = bs->b;
  while (!b->stopping && !bs->dead && bs->submitted < bs->quota &&
         nnrp_client_session_in_flight(bs->cs) < b->a.window) {
    uint32_t seq = b->next_seq;
    nnrp_submit req = b->f.req;
    req.user_data = (void *)(uintptr_t)(seq + 1u);
    b->sent_at[seq] = nnrp_runtime_now();
    int rc = nnrp_client_session_submit_nowait(bs->cs, &req, 0, NULL);
    if (rc == NNRP_ERR_WOULD_BLOCK)
      break; /* the server's window (max_concurrent_frames) is full */
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
  } else if (r->kind == NNRP_RESULT_DROP) {
    b->dropped++;
  } else {
    b->errors++;
    if (b->logged++ < 5) {
      char why[300];
      net_record_text(&r->error, why, sizeof(why));
      fprintf(stderr, "nnrp bench: frame %u failed: %s\n",
              (unsigned)r->frame_id, why);
    }
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
          (unsigned)b->a.frames, s > 0 ? (double)ended_total(b) / s : 0.0,
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
  }
}

/* Runs until every frame ended or nothing ended for timeout_ms. */
static int run_load(bench *b) {
  for (uint32_t i = 0; i < b->a.sessions; i++)
    fill(&b->ss[i]);
  b->t_activity = b->t_progress = nnrp_runtime_now();
  while (!all_done(b)) {
    nnrp_runtime_run(b->rt, 100);
    check_sessions(b);
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
    (void)nnrp_client_session_close(b->ss[i].cs, timeout_ms);
    drain(&b->ss[i]);
    nnrp_client_session_del(b->ss[i].cs);
    b->ss[i].cs = NULL;
  }
}

/* ---- report ------------------------------------------------------------- */

static void report(bench *b) {
  double s =
      b->t_last > b->t_first ? (double)(b->t_last - b->t_first) / 1e9 : 0.0;
  double fps = s > 0 ? (double)b->completed / s : 0.0;
  double bps = fps * (double)b->f.payload;
  double us[4] = {(double)bench_stats_pct(&b->st, 500) / 1e3,
                  (double)bench_stats_pct(&b->st, 990) / 1e3,
                  (double)bench_stats_pct(&b->st, 999) / 1e3,
                  (double)bench_stats_pct(&b->st, 1000) / 1e3};
  printf("frames: sent %llu, completed %llu, dropped %llu, errors %llu\n",
         (unsigned long long)b->sent, (unsigned long long)b->completed,
         (unsigned long long)b->dropped, (unsigned long long)b->errors);
  printf("time: %.3f s, %.0f frames/s, %.2f MB/s payload sent, %.2f MB/s "
         "result packets\n",
         s, fps, bps / 1e6, s > 0 ? (double)b->rx_bytes / s / 1e6 : 0.0);
  printf("rtt: min %.1f us, mean %.1f us, p50 %.1f us, p99 %.1f us, "
         "p99.9 %.1f us, max %.1f us\n",
         (double)bench_stats_min(&b->st) / 1e3, bench_stats_mean(&b->st) / 1e3,
         us[0], us[1], us[2], us[3]);
  printf("result pushes: %llu (%.2f per frame)\n",
         (unsigned long long)b->pushes,
         b->completed ? (double)b->pushes / (double)b->completed : 0.0);
  printf("latency histogram (round trip, submit to final record):\n");
  bench_stats_histogram(&b->st, stdout);
  if (b->a.json)
    printf("{\"sent\": %llu, \"completed\": %llu, \"dropped\": %llu, "
           "\"errors\": %llu, \"p50_us\": %.1f, \"p99_us\": %.1f, "
           "\"p999_us\": %.1f, \"frames_per_s\": %.1f, \"bytes_per_s\": "
           "%.1f}\n",
           (unsigned long long)b->sent, (unsigned long long)b->completed,
           (unsigned long long)b->dropped, (unsigned long long)b->errors, us[0],
           us[1], us[2], fps, bps);
}

/* Exit status: every frame sent and ended exactly once, no error. */
static int verdict(const bench *b) {
  int st = CLI_EXIT_OK;
  if (b->sent != ended_total(b) || b->dup != 0) {
    fprintf(stderr,
            "nnrp bench: accounting mismatch: sent %llu != "
            "completed + dropped + errors %llu (%llu duplicate records)\n",
            (unsigned long long)b->sent, (unsigned long long)ended_total(b),
            (unsigned long long)b->dup);
    st = CLI_EXIT_INVALID;
  }
  if (b->sent != b->a.frames) {
    fprintf(stderr, "nnrp bench: only %llu of %u frames could be sent\n",
            (unsigned long long)b->sent, (unsigned)b->a.frames);
    st = CLI_EXIT_INVALID;
  }
  if (b->errors != 0)
    st = CLI_EXIT_INVALID;
  return st;
}

/* ---- setup -------------------------------------------------------------- */

static int connect_all(bench *b) {
  b->ss = cli_xcalloc(b->a.sessions, sizeof(*b->ss));
  for (uint32_t i = 0; i < b->a.sessions; i++) {
    bench_sess *bs = &b->ss[i];
    bs->b = b;
    bs->quota = b->a.frames / b->a.sessions + (i < b->a.frames % b->a.sessions);
    nnrp_client_config cfg;
    nnrp_client_config_default(&cfg);
    cfg.on_result = on_result;
    cfg.user = bs;
    if (net_dial(b->rt, &b->a.net, "bench", &cfg, &bs->cs) != 0)
      return -1;
  }
  const nnrp_server_hello_ack *ack =
      nnrp_client_session_server_hello(b->ss[0].cs);
  nnrp_bytes m = nnrp_client_session_model_name(b->ss[0].cs);
  printf("bench: %u session(s) x window %u to %s:%u (server window %u, model "
         "\"%.*s\"), %u frames of %zu payload bytes\n",
         (unsigned)b->a.sessions, (unsigned)b->a.window, b->a.net.host,
         (unsigned)b->a.net.port,
         ack ? (unsigned)ack->max_concurrent_frames : 0u, (int)m.len,
         m.ptr ? (const char *)m.ptr : "", (unsigned)b->a.frames, b->f.payload);
  fflush(stdout);
  return 0;
}

static void bench_free(bench *b) {
  close_all(b, 0);
  nnrp_runtime_del(b->rt);
  free(b->ss);
  free(b->sent_at);
  free(b->ended);
  bench_stats_free(&b->st);
  net_frame_free(&b->f);
}

int cli_cmd_bench(int argc, char **argv) {
  bench b;
  memset(&b, 0, sizeof(b));
  int st = parse_args(argc, argv, &b.a);
  if (st >= 0)
    return st;
  if (net_frame_init(&b.f, &b.a.spec) != 0)
    return CLI_EXIT_USAGE;
  b.tty = isatty(2);
  b.sent_at = cli_xcalloc(b.a.frames, sizeof(*b.sent_at));
  b.ended = cli_xcalloc(b.a.frames, 1);
  bench_stats_init(&b.st, b.a.frames);
  if (nnrp_runtime_new(&b.rt, NULL) != 0 || connect_all(&b) != 0) {
    bench_free(&b);
    return CLI_EXIT_INVALID;
  }
  int rc = run_load(&b);
  close_all(&b, rc == 0 ? (int)b.a.net.timeout_ms : 1000);
  report(&b);
  st = verdict(&b);
  bench_free(&b);
  return rc == 0 ? st : CLI_EXIT_INVALID;
}
