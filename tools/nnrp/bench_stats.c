/* SPDX-License-Identifier: Apache-2.0 */
/*
 * bench_stats.c - latency samples, exact percentiles and the log2
 * histogram of `nnrp bench` (bench_stats.h).
 */
#include "bench_stats.h"

#include <stdlib.h>
#include <string.h>

#include "util.h"

void bench_stats_init(bench_stats *s, size_t cap) {
  memset(s, 0, sizeof(*s));
  s->cap = cap ? cap : 16;
  s->v = cli_xmalloc(s->cap * sizeof(*s->v));
}

void bench_stats_free(bench_stats *s) {
  free(s->v);
  memset(s, 0, sizeof(*s));
}

void bench_stats_add(bench_stats *s, uint64_t ns) {
  if (s->n == s->cap) {
    uint64_t *v = realloc(s->v, 2 * s->cap * sizeof(*v));
    if (v == NULL) {
      fputs("nnrp: out of memory\n", stderr);
      exit(CLI_EXIT_INVALID);
    }
    s->v = v;
    s->cap *= 2;
  }
  s->v[s->n++] = ns;
  s->sum += ns;
  s->sorted = 0;
}

static int cmp_u64(const void *a, const void *b) {
  uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
  return x < y ? -1 : x > y;
}

static void sort(bench_stats *s) {
  if (!s->sorted)
    qsort(s->v, s->n, sizeof(*s->v), cmp_u64);
  s->sorted = 1;
}

uint64_t bench_stats_pct(bench_stats *s, unsigned per_mille) {
  if (s->n == 0)
    return 0;
  sort(s);
  uint64_t rank = ((uint64_t)s->n * per_mille + 999u) / 1000u;
  return s->v[rank == 0 ? 0 : (rank > s->n ? s->n : rank) - 1];
}

uint64_t bench_stats_min(bench_stats *s) {
  if (s->n == 0)
    return 0;
  sort(s);
  return s->v[0];
}

double bench_stats_mean(const bench_stats *s) {
  return s->n ? (double)s->sum / (double)s->n : 0.0;
}

/* Bucket bounds in us: 1-2-5 steps, 1 us .. 100 s; bucket k holds
 * [bound(k), bound(k+1)), bucket 0 also everything below 1 us. */
#define NBUCKETS 25

static uint64_t bound(unsigned k) {
  static const uint64_t step[3] = {1, 2, 5};
  uint64_t b = step[k % 3u];
  for (unsigned d = 0; d < k / 3u; d++)
    b *= 10u;
  return b;
}

static unsigned bucket(uint64_t ns) {
  uint64_t us = ns / 1000u;
  unsigned k = 0;
  while (k + 1u < NBUCKETS && us >= bound(k + 1u))
    k++;
  return k;
}

static void fmt_us(char *buf, size_t cap, uint64_t us) {
  if (us >= 1000000u)
    snprintf(buf, cap, "%llu s", (unsigned long long)(us / 1000000u));
  else if (us >= 1000u)
    snprintf(buf, cap, "%llu ms", (unsigned long long)(us / 1000u));
  else
    snprintf(buf, cap, "%llu us", (unsigned long long)us);
}

void bench_stats_histogram(bench_stats *s, FILE *out) {
  uint64_t count[NBUCKETS];
  memset(count, 0, sizeof(count));
  unsigned lo = NBUCKETS - 1u, hi = 0;
  uint64_t top = 0;
  for (size_t i = 0; i < s->n; i++) {
    unsigned k = bucket(s->v[i]);
    count[k]++;
    lo = k < lo ? k : lo;
    hi = k > hi ? k : hi;
  }
  for (unsigned k = lo; s->n && k <= hi; k++)
    top = count[k] > top ? count[k] : top;
  for (unsigned k = lo; s->n && k <= hi; k++) {
    char a[32], b[32], bar[41];
    fmt_us(a, sizeof(a), k == 0 ? 0 : bound(k));
    if (k + 1u < NBUCKETS)
      fmt_us(b, sizeof(b), bound(k + 1u));
    else
      snprintf(b, sizeof(b), "...");
    size_t w = (size_t)((count[k] * 40u + top - 1u) / top);
    memset(bar, '#', w);
    bar[w] = '\0';
    fprintf(out, "  %6s - %-6s |%-40s| %8llu %5.1f%%\n", a, b, bar,
            (unsigned long long)count[k],
            100.0 * (double)count[k] / (double)s->n);
  }
}
