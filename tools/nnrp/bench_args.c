/* SPDX-License-Identifier: Apache-2.0 */
/*
 * bench_args.c - the options of `nnrp bench` (bench.h, docs/cli.md): the
 * load shape (frames, payload, window, sessions, kind, duration), and the
 * issue-4 switches: budget policy, cache objects by reference, cache
 * flood, auto-pause, deadlines, result verification.
 */
#include <string.h>

#include "bench.h"
#include "cli.h"
#include "util.h"

void cli_usage_bench(FILE *out) {
  fputs("usage: nnrp bench [--host H] --port P [--frames N] [--payload BYTES]"
        "\n"
        "                  [--window W] [--sessions S] "
        "[--kind tensor|token|mixed]\n"
        "                  [--tiles N] [--duration-s D] [--budget-policy P]\n"
        "                  [--cache [--cache-mode reference|mixed]]\n"
        "                  [--cache-flood N] [--auto-pause] [--deadline-ms MS]"
        "\n"
        "                  [--verify] [--json] [--auth-token T] [--lenient]\n"
        "\n"
        "Pipelined load: S sessions in one runtime, W frames in flight per\n"
        "session. Prints frames/s, MB/s, RTT p50/p99/p99.9, a latency\n"
        "histogram, result classes, hints and pauses; a progress line goes\n"
        "to stderr (refreshed on a TTY, once a second otherwise). Exit\n"
        "status 1 unless every frame was sent and ended exactly once\n"
        "without error.\n"
        "  --frames N        frames in total (default 1000)\n"
        "  --payload BYTES   payload per frame (default 1024)\n"
        "  --window W        frames in flight per session (default 16)\n"
        "  --sessions S      sessions (default 1)\n"
        "  --kind K          tensor (default), token (streamed) or mixed\n"
        "  --tiles N         N identical tiles per tensor frame (default 1)\n"
        "  --duration-s D    submit for D seconds (--frames: at most that "
        "many)\n"
        "  --budget-policy P BudgetPolicy of the submits: partial, stale,\n"
        "                    degraded, drop, any or none, comma-separated\n"
        "  --cache           put the camera block, tile index and section\n"
        "                    table once per session (put_cache) and submit\n"
        "                    frames that reference them\n"
        "  --cache-mode M    reference (default: every slot referenced) or\n"
        "                    mixed (tile index inline)\n"
        "  --cache-flood N   first put N pinned objects of BYTES per session\n"
        "                    (beyond the quota: REJECTED acks are counted)\n"
        "  --auto-pause      pause submitting on a SATURATED RESULT_HINT\n"
        "  --deadline-ms MS  deadline of every frame (expiries are counted,\n"
        "                    not errors)\n"
        "  --verify          check every result: class vs budget policy and\n"
        "                    tiles vs the server's model\n"
        "  --json            last stdout line: {\"sent\", \"completed\", "
        "\"dropped\",\n"
        "                    \"errors\", \"p50_us\", \"p99_us\", \"p999_us\",\n"
        "                    \"frames_per_s\", \"bytes_per_s\", \"hints\", "
        "\"pauses\",\n"
        "                    \"result_classes\", \"cache_puts\", ...}\n"
        "  (--timeout-ms: abort when no frame ended for that long)\n",
        out);
  net_opts_usage(out);
}

/* A numeric option NAME in [lo, hi]: 1 consumed, 0 not this option,
 * -(exit status+1) on a bad value. */
static int num(int argc, char **argv, int *i, const char *name, uint64_t lo,
               uint64_t hi, uint32_t *out) {
  const char *v = NULL;
  uint64_t n = 0;
  if (!cli_opt(argc, argv, i, name, &v))
    return 0;
  if (cli_parse_num(v, hi, &n) != 0 || n < lo) {
    char msg[96];
    snprintf(msg, sizeof(msg), "%s needs %llu..%llu", name,
             (unsigned long long)lo, (unsigned long long)hi);
    return -1 - cli_usage_fail("bench", msg, v);
  }
  *out = (uint32_t)n;
  return 1;
}

/* The load shape; same returns as num(). */
static int parse_load(bench_args *a, int argc, char **argv, int *i) {
  const char *v = NULL;
  uint32_t n = 0;
  int r;
  if ((r = num(argc, argv, i, "--frames", 1, 10000000, &a->frames)) != 0)
    return a->frames_given = 1, r;
  if ((r = num(argc, argv, i, "--payload", 1, 16u << 20, &n)) != 0) {
    a->spec.bytes = n;
    return r;
  }
  if ((r = num(argc, argv, i, "--window", 1, 4096, &a->window)) ||
      (r = num(argc, argv, i, "--sessions", 1, 256, &a->sessions)) ||
      (r = num(argc, argv, i, "--tiles", 1, 4096, &a->spec.tiles)) ||
      (r = num(argc, argv, i, "--duration-s", 1, 86400, &a->duration_s)))
    return r;
  if (cli_opt(argc, argv, i, "--kind", &v)) {
    if (net_kind_parse(v, &a->spec.kind) != 0 || a->spec.kind > NET_KIND_MIXED)
      return -1 -
             cli_usage_fail("bench", "--kind needs tensor, token or mixed", v);
    return 1;
  }
  if (strcmp(argv[*i], "--json") == 0)
    return a->json = 1;
  return 0;
}

/* Issue-4 switches; same returns as num(). */
static int parse_flow(bench_args *a, int argc, char **argv, int *i) {
  const char *v = NULL;
  int r;
  if ((r = num(argc, argv, i, "--cache-flood", 1, 1000000, &a->cache_flood)) ||
      (r = num(argc, argv, i, "--deadline-ms", 1, 3600000, &a->deadline_ms)))
    return r;
  if (cli_opt(argc, argv, i, "--budget-policy", &v)) {
    if (net_budget_parse(v, &a->budget_policy) != 0)
      return -1 - cli_usage_fail("bench",
                                 "--budget-policy needs partial, stale, "
                                 "degraded, drop, any or none",
                                 v);
    return 1;
  }
  if (cli_opt(argc, argv, i, "--cache-mode", &v)) {
    if (v == NULL || (strcmp(v, "reference") && strcmp(v, "mixed")))
      return -1 - cli_usage_fail("bench",
                                 "--cache-mode needs reference or mixed", v);
    a->cache_mixed = strcmp(v, "mixed") == 0;
    return 1;
  }
  if (strcmp(argv[*i], "--cache") == 0)
    return a->cache = 1;
  if (strcmp(argv[*i], "--auto-pause") == 0)
    return a->auto_pause = 1;
  if (strcmp(argv[*i], "--verify") == 0)
    return a->verify = 1;
  return 0;
}

int bench_parse_args(int argc, char **argv, bench_args *a) {
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
    r = parse_load(a, argc, argv, &i);
    if (r == 0)
      r = parse_flow(a, argc, argv, &i);
    if (r < 0)
      return -r - 1;
    if (r == 0)
      return cli_usage_fail("bench", "unknown argument", argv[i]);
  }
  if (!a->net.port_given)
    return cli_usage_fail("bench", "--port is required", NULL);
  if (a->cache && a->spec.kind == NET_KIND_TOKEN)
    return cli_usage_fail("bench",
                          "--cache needs a tensor (--kind tensor or "
                          "mixed)",
                          NULL);
  if (a->duration_s && !a->frames_given)
    a->frames = UINT32_MAX; /* until the time is up */
  return -1;
}
