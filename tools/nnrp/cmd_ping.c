/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cmd_ping.c - `nnrp ping`: connects, exchanges --count PING/PONG round
 * trips (wire.md §4.13) with nnrp_client_session_ping(), prints each RTT
 * and a min/avg/max summary, then closes the session. docs/cli.md.
 */
#include <string.h>

#include "cli.h"
#include "net_common.h"
#include "util.h"

typedef struct ping_args {
  net_opts net;
  uint32_t count;
  uint32_t interval_ms;
} ping_args;

void cli_usage_ping(FILE *out) {
  fputs("usage: nnrp ping [--host H] --port P [--count N] [--interval-ms MS]\n"
        "                 [--auth-token T] [--lenient] [--timeout-ms MS]\n"
        "\n"
        "PING/PONG round trips over one session; prints each RTT and a\n"
        "summary. Exit status 0 when every PONG came back.\n"
        "  --count N         round trips (default 4)\n"
        "  --interval-ms MS  pause between round trips (default 100)\n",
        out);
  net_opts_usage(out);
}

/* Returns -1 to continue, or an exit status. */
static int parse_args(int argc, char **argv, ping_args *a) {
  memset(a, 0, sizeof(*a));
  net_opts_default(&a->net);
  a->count = 4;
  a->interval_ms = 100;
  for (int i = 0; i < argc; i++) {
    const char *v = NULL;
    uint64_t n = 0;
    int r = net_opt_parse(&a->net, "ping", argc, argv, &i);
    if (r < 0)
      return CLI_EXIT_USAGE;
    if (r > 0)
      continue;
    if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
      cli_usage_ping(stdout);
      return CLI_EXIT_OK;
    } else if (cli_opt(argc, argv, &i, "--count", &v)) {
      if (cli_parse_num(v, 1000000, &n) != 0 || n == 0)
        return cli_usage_fail("ping", "--count needs 1..1000000", v);
      a->count = (uint32_t)n;
    } else if (cli_opt(argc, argv, &i, "--interval-ms", &v)) {
      if (cli_parse_num(v, 60000, &n) != 0)
        return cli_usage_fail("ping", "--interval-ms needs 0..60000", v);
      a->interval_ms = (uint32_t)n;
    } else {
      return cli_usage_fail("ping", "unknown argument", argv[i]);
    }
  }
  if (!a->net.port_given)
    return cli_usage_fail("ping", "--port is required", NULL);
  return -1;
}

/* The round trips; returns the number of PONGs received. */
static uint32_t ping_loop(nnrp_runtime *rt, nnrp_client_session *cs,
                          const ping_args *a) {
  uint32_t ok = 0;
  uint64_t min = UINT64_MAX, max = 0, sum = 0;
  for (uint32_t i = 0; i < a->count; i++) {
    if (i > 0 && a->interval_ms > 0)
      nnrp_runtime_run(rt, (int)a->interval_ms); /* keeps the session live */
    uint64_t rtt = 0;
    int rc = nnrp_client_session_ping(cs, (int)a->net.timeout_ms, &rtt);
    if (rc != 0) {
      printf("ping %u: %s (%s)\n", (unsigned)(i + 1), nnrp_err_name(rc),
             nnrp_strerror(rc));
      if (rc != NNRP_ERR_TIMEOUT)
        break; /* the session is gone */
      continue;
    }
    ok++;
    sum += rtt;
    min = rtt < min ? rtt : min;
    max = rtt > max ? rtt : max;
    printf("pong from %s:%u: seq=%u rtt=%.3f ms\n", a->net.host,
           (unsigned)a->net.port, (unsigned)(i + 1), (double)rtt / 1e6);
    fflush(stdout);
  }
  printf("%u sent, %u received", (unsigned)a->count, (unsigned)ok);
  if (ok > 0)
    printf(", rtt min/avg/max = %.3f/%.3f/%.3f ms", (double)min / 1e6,
           (double)sum / ok / 1e6, (double)max / 1e6);
  printf("\n");
  return ok;
}

int cli_cmd_ping(int argc, char **argv) {
  ping_args a;
  int st = parse_args(argc, argv, &a);
  if (st >= 0)
    return st;
  nnrp_runtime *rt = NULL;
  if (nnrp_runtime_new(&rt, NULL) != 0)
    return CLI_EXIT_INVALID;
  nnrp_client_session *cs = NULL;
  if (net_dial(rt, &a.net, "ping", NULL, &cs) != 0) {
    nnrp_runtime_del(rt);
    return CLI_EXIT_INVALID;
  }
  printf("connected to %s:%u, session %08x\n", a.net.host, (unsigned)a.net.port,
         (unsigned)nnrp_client_session_id(cs));
  uint32_t ok = ping_loop(rt, cs, &a);
  (void)nnrp_client_session_close(cs, (int)a.net.timeout_ms);
  nnrp_client_session_del(cs);
  nnrp_runtime_del(rt);
  return ok == a.count ? CLI_EXIT_OK : CLI_EXIT_INVALID;
}
