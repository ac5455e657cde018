/* SPDX-License-Identifier: Apache-2.0 */
/*
 * serve_args.c - the options of `nnrp serve` (serve.h, docs/cli.md):
 * listening, the demo model, --delay-ms, and the issue-4 switches for
 * budget mode (session.md §7.7), credit and automatic overload (§8), cache
 * quotas (§9) and the patch rate limit (§10.1).
 */
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "serve.h"
#include "util.h"

void cli_usage_serve(FILE *out) {
  fputs("usage: nnrp serve [--host H] [--port P] [--max-concurrent N]\n"
        "                  [--delay-ms D] [--auth-token T]\n"
        "                  [--model upscale|echo] [--lenient]\n"
        "                  [--budget-mode [--budget-depth N]]\n"
        "                  [--credit-window N] [--auto-overload\n"
        "                  [--overload-high N] [--overload-low N]\n"
        "                  [--overload-retry-ms MS]]\n"
        "                  [--cache-entries N] [--cache-bytes B]\n"
        "                  [--max-object-bytes B] [--no-cache]\n"
        "                  [--patch-rate N/MS]\n"
        "\n"
        "An NNRP/1 TCP server with a demo model. Prints \"listening on "
        "HOST:PORT\"\n"
        "on stdout, logs sessions and errors on stderr, stops cleanly on\n"
        "SIGINT/SIGTERM (exit 0).\n"
        "  --host H            bind address (default 127.0.0.1)\n"
        "  --port P            port, 0 = any free port (default 4434)\n"
        "  --max-concurrent N  max_concurrent_frames advertised (default "
        "64)\n"
        "  --delay-ms D        answer each frame D ms after it arrived\n"
        "  --auth-token T      accept only clients whose auth block is T\n"
        "  --model M           upscale (default): FP16 tiles upscaled 2x,\n"
        "                      tokens streamed back; echo: all unchanged\n"
        "  --lenient           lenient validation (wire.md §13)\n"
        "  --budget-mode       with N or more unanswered frames in a "
        "session,\n"
        "                      answer PARTIAL, STALE_REUSE or DEGRADED (or\n"
        "                      drop) when the frame's budget_policy allows\n"
        "  --budget-depth N    N for --budget-mode (default: half of\n"
        "                      --max-concurrent, at least 1)\n"
        "  --credit-window N   grant every session N frames of credit\n"
        "  --auto-overload     PAUSE at --overload-high unanswered frames\n"
        "                      (default 3/4 of --max-concurrent), RESUME "
        "below\n"
        "                      --overload-low (default half of high);\n"
        "                      --overload-retry-ms (default 100)\n"
        "  --cache-entries N   session cache quota: entries (default 1024)\n"
        "  --cache-bytes B     session cache quota: bytes (default 32 MiB)\n"
        "  --max-object-bytes B  largest cache object (default: the quota)\n"
        "  --no-cache          disable the session cache\n"
        "  --patch-rate N/MS   at most N SESSION_PATCH per MS ms (default\n"
        "                      10/1000; 0/0 = no limit)\n",
        out);
}

/* "N/MS" of --patch-rate. */
static int parse_rate(const char *v, uint32_t *n, uint32_t *ms) {
  const char *slash = v ? strchr(v, '/') : NULL;
  char num[16];
  uint64_t a = 0, b = 0;
  if (slash == NULL || (size_t)(slash - v) >= sizeof(num))
    return -1;
  memcpy(num, v, (size_t)(slash - v));
  num[slash - v] = '\0';
  if (cli_parse_num(num, NNRP_PATCH_RATE_LIMIT_MAX, &a) != 0 ||
      cli_parse_num(slash + 1, 3600000, &b) != 0 || ((a == 0) != (b == 0)))
    return -1;
  *n = (uint32_t)a;
  *ms = (uint32_t)b;
  return 0;
}

/* A numeric option NAME in [lo, hi]: 1 consumed (*out set), 0 not this
 * option, -(exit status+1) on a bad value. */
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
    return -1 - cli_usage_fail("serve", msg, v);
  }
  *out = (uint32_t)n;
  return 1;
}

/* Issue-4 options; same returns as num(). */
static int parse_flow(serve_args *a, int argc, char **argv, int *i) {
  int r;
  const char *v = NULL;
  if ((r = num(argc, argv, i, "--budget-depth", 1, 65535, &a->budget_depth)) ||
      (r = num(argc, argv, i, "--credit-window", 0, 65535,
               &a->credit_window)) ||
      (r = num(argc, argv, i, "--overload-high", 1, 1000000,
               &a->overload_high)) ||
      (r = num(argc, argv, i, "--overload-low", 1, 1000000,
               &a->overload_low)) ||
      (r = num(argc, argv, i, "--max-object-bytes", 1, UINT32_MAX,
               &a->max_object_bytes)))
    return r;
  if ((r = num(argc, argv, i, "--overload-retry-ms", 0, 3600000,
               &a->overload_retry_ms)) != 0)
    return a->overload_retry_given = 1, r;
  if ((r = num(argc, argv, i, "--cache-entries", 0, UINT32_MAX,
               &a->cache_entries)) != 0)
    return a->cache_entries_given = 1, r;
  if ((r = num(argc, argv, i, "--cache-bytes", 0, UINT32_MAX,
               &a->cache_bytes)) != 0)
    return a->cache_bytes_given = 1, r;
  if (cli_opt(argc, argv, i, "--patch-rate", &v)) {
    if (parse_rate(v, &a->patch_rate, &a->patch_window_ms) != 0)
      return -1 - cli_usage_fail("serve", "--patch-rate needs N/MS", v);
    return 1;
  }
  if (strcmp(argv[*i], "--budget-mode") == 0)
    return a->budget_mode = 1;
  if (strcmp(argv[*i], "--auto-overload") == 0)
    return a->auto_overload = 1;
  if (strcmp(argv[*i], "--no-cache") == 0)
    return a->no_cache = 1;
  return 0;
}

/* Options of serve before issue 4; same returns as num(). */
static int parse_base(serve_args *a, int argc, char **argv, int *i) {
  const char *v = NULL;
  int r;
  if ((r = num(argc, argv, i, "--max-concurrent", 0, UINT16_MAX,
               &a->max_concurrent)) ||
      (r = num(argc, argv, i, "--delay-ms", 0, 3600000, &a->delay_ms)))
    return r;
  if (cli_opt(argc, argv, i, "--model", &v)) {
    int k = v ? model_kind_from_name(v, strlen(v)) : -1;
    if (k < 0)
      return -1 - cli_usage_fail("serve", "--model needs upscale or echo", v);
    a->model = (model_kind)k;
    return 1;
  }
  return 0;
}

/* Defaults that depend on other options. */
static void derive(serve_args *a) {
  if (a->budget_depth == 0)
    a->budget_depth = a->max_concurrent >= 2 ? a->max_concurrent / 2
                      : a->max_concurrent    ? 1
                                             : 32;
  if (a->auto_overload && a->overload_high == 0 && a->max_concurrent != 0)
    a->overload_high =
        a->max_concurrent * 3u / 4u ? a->max_concurrent * 3u / 4u : 1;
}

int serve_parse_args(int argc, char **argv, serve_args *a) {
  memset(a, 0, sizeof(*a));
  net_opts_default(&a->net);
  a->net.port = 4434;
  a->max_concurrent = 64;
  a->patch_rate = NNRP_PATCH_RATE_LIMIT_DEFAULT;
  a->patch_window_ms = NNRP_PATCH_RATE_WINDOW_MS_DEFAULT;
  for (int i = 0; i < argc; i++) {
    int r = net_opt_parse(&a->net, "serve", argc, argv, &i);
    if (r < 0)
      return CLI_EXIT_USAGE;
    if (r > 0)
      continue;
    if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
      cli_usage_serve(stdout);
      return CLI_EXIT_OK;
    }
    r = parse_base(a, argc, argv, &i);
    if (r == 0)
      r = parse_flow(a, argc, argv, &i);
    if (r < 0)
      return -r - 1;
    if (r == 0)
      return cli_usage_fail("serve", "unknown argument", argv[i]);
  }
  derive(a);
  return -1;
}
