/* SPDX-License-Identifier: Apache-2.0 */
/*
 * bench_stats.h - latency samples of `nnrp bench`: every round-trip time
 * is kept (8 bytes per frame), so percentiles are exact (nearest rank),
 * and a 1-2-5 histogram is printed from the same samples.
 */
#ifndef NNRP_CLI_BENCH_STATS_H
#define NNRP_CLI_BENCH_STATS_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

typedef struct bench_stats {
  uint64_t *v; /* samples, ns */
  size_t n;
  size_t cap;
  int sorted;
  uint64_t sum;
} bench_stats;

/** Room for cap samples (more grow the array). Exits on out of memory. */
void bench_stats_init(bench_stats *s, size_t cap);
void bench_stats_free(bench_stats *s);
void bench_stats_add(bench_stats *s, uint64_t ns);

/** The sample of nearest rank ceil(per_mille / 1000 * n) (p50 = 500,
 *  p99 = 990, p99.9 = 999, max = 1000); 0 when there are none. */
uint64_t bench_stats_pct(bench_stats *s, unsigned per_mille);
uint64_t bench_stats_min(bench_stats *s);
double bench_stats_mean(const bench_stats *s);

/** Prints the samples as a histogram of 1-2-5 microsecond buckets (1, 2,
 *  5, 10, 20, ... us up to 100 s; only the occupied range), one line per
 *  bucket with a bar. */
void bench_stats_histogram(bench_stats *s, FILE *out);

#endif /* NNRP_CLI_BENCH_STATS_H */
