/* SPDX-License-Identifier: Apache-2.0 */
/*
 * bench_report.c - the report of `nnrp bench` (bench.h): frame counts,
 * throughput, RTT percentiles and histogram, result classes, hints,
 * pauses and cache puts; the --json line (the nine keys of issue 3 first,
 * in order, then the issue-4 keys); the exit status.
 */
#include "bench.h"
#include "util.h"

static void report_flow(const bench *b) {
  printf("result classes: complete %llu, partial %llu, stale_reuse %llu, "
         "degraded %llu\n",
         (unsigned long long)b->classes[0], (unsigned long long)b->classes[1],
         (unsigned long long)b->classes[2], (unsigned long long)b->classes[3]);
  printf("flow: %llu hint(s), %llu pause(s), %llu drop(s)%s\n",
         (unsigned long long)b->hints, (unsigned long long)b->pauses,
         (unsigned long long)b->dropped,
         b->a.auto_pause ? " (auto-pause on)" : "");
  if (b->a.deadline_ms)
    printf("deadline %u ms: %llu frame(s) expired\n",
           (unsigned)b->a.deadline_ms, (unsigned long long)b->expired);
  if (b->a.cache || b->a.cache_flood)
    printf("cache: %llu put(s), %llu rejected; %llu frame(s) by "
           "reference\n",
           (unsigned long long)b->cache_puts,
           (unsigned long long)b->cache_rejected,
           (unsigned long long)b->ref_frames);
  if (b->a.verify)
    printf("verify: %llu result(s) failed\n",
           (unsigned long long)b->verify_failed);
}

static void report_json(const bench *b, const double *us, double fps,
                        double bps) {
  printf("{\"sent\": %llu, \"completed\": %llu, \"dropped\": %llu, "
         "\"errors\": %llu, \"p50_us\": %.1f, \"p99_us\": %.1f, "
         "\"p999_us\": %.1f, \"frames_per_s\": %.1f, \"bytes_per_s\": "
         "%.1f, ",
         (unsigned long long)b->sent, (unsigned long long)b->completed,
         (unsigned long long)b->dropped, (unsigned long long)b->errors, us[0],
         us[1], us[2], fps, bps);
  printf("\"hints\": %llu, \"pauses\": %llu, \"result_classes\": "
         "{\"complete\": %llu, \"partial\": %llu, \"stale_reuse\": %llu, "
         "\"degraded\": %llu}, \"cache_puts\": %llu, \"cache_rejected\": "
         "%llu, \"ref_frames\": %llu, \"expired\": %llu, \"verify_failed\": "
         "%llu}\n",
         (unsigned long long)b->hints, (unsigned long long)b->pauses,
         (unsigned long long)b->classes[0], (unsigned long long)b->classes[1],
         (unsigned long long)b->classes[2], (unsigned long long)b->classes[3],
         (unsigned long long)b->cache_puts,
         (unsigned long long)b->cache_rejected,
         (unsigned long long)b->ref_frames, (unsigned long long)b->expired,
         (unsigned long long)b->verify_failed);
}

void bench_report(bench *b) {
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
  report_flow(b);
  printf("latency histogram (round trip, submit to final record):\n");
  bench_stats_histogram(&b->st, stdout);
  if (b->a.json)
    report_json(b, us, fps, bps);
}

int bench_verdict(const bench *b) {
  int st = CLI_EXIT_OK;
  if (b->sent != b->completed + b->dropped + b->errors || b->dup != 0) {
    fprintf(stderr,
            "nnrp bench: accounting mismatch: sent %llu != "
            "completed + dropped + errors %llu (%llu duplicate records)\n",
            (unsigned long long)b->sent,
            (unsigned long long)(b->completed + b->dropped + b->errors),
            (unsigned long long)b->dup);
    st = CLI_EXIT_INVALID;
  }
  if (!b->a.duration_s && b->sent != b->a.frames) {
    fprintf(stderr, "nnrp bench: only %llu of %u frames could be sent\n",
            (unsigned long long)b->sent, (unsigned)b->a.frames);
    st = CLI_EXIT_INVALID;
  }
  if (b->errors != b->expired || b->verify_failed != 0)
    st = CLI_EXIT_INVALID;
  return st;
}
