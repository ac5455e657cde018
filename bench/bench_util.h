/* SPDX-License-Identifier: Apache-2.0 */
/*
 * bench_util.h - header-only helpers of the benchmarks (bench/NAME.c): a
 * monotonic clock, a compiler barrier and sink, a "best of N runs" timer
 * and the one-JSON-object-per-line output of scripts/bench
 * (docs/benchmarks.md). Benchmarks may read clocks; the library may not.
 */
#ifndef NNRP_BENCH_UTIL_H
#define NNRP_BENCH_UTIL_H

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

/* Results of measured work flow here so the compiler cannot drop it. */
static volatile uint64_t bench_sink;

/* Forces the compiler to assume *p is read and memory is clobbered: a
 * memcpy whose destination is passed here is really performed. */
static inline void bench_barrier(const void *p) {
  __asm__ __volatile__("" : : "r"(p) : "memory");
}

static inline uint64_t bench_now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* Tuning from the environment: NNRP_BENCH_MIN_MS (length of one run,
 * default 200) and NNRP_BENCH_REPS (runs per measurement, best taken,
 * default 5). Small values give a quick smoke run. */
typedef struct bench_cfg {
  uint64_t min_run_ns;
  unsigned reps;
} bench_cfg;

static inline unsigned long bench_env_ul(const char *name, unsigned long dflt,
                                         unsigned long lo, unsigned long hi) {
  const char *s = getenv(name);
  if (s == NULL || *s == '\0')
    return dflt;
  char *end = NULL;
  unsigned long v = strtoul(s, &end, 10);
  if (end == s || *end != '\0' || v < lo || v > hi)
    return dflt;
  return v;
}

static inline bench_cfg bench_cfg_from_env(void) {
  bench_cfg c;
  c.min_run_ns = 1000000u * bench_env_ul("NNRP_BENCH_MIN_MS", 200, 1, 60000);
  c.reps = (unsigned)bench_env_ul("NNRP_BENCH_REPS", 5, 1, 100);
  return c;
}

/* Performs n operations of the case on ctx. Returns 0, or non-zero when
 * the library reported an error (the measurement is then abandoned). */
typedef int (*bench_fn)(void *ctx, uint64_t n);

/* Times fn: grows n until one call lasts >= 10 ms (this also warms caches
 * and branch predictors), scales n so one run lasts about min_run_ns, then
 * returns the best ns per operation of cfg->reps runs; a negative value
 * when fn failed. */
static inline double bench_measure(const bench_cfg *cfg, bench_fn fn,
                                   void *ctx) {
  uint64_t n = 1, t = 0;
  for (;;) {
    uint64_t t0 = bench_now_ns();
    if (fn(ctx, n) != 0)
      return -1.0;
    t = bench_now_ns() - t0;
    if (t >= 10000000u || n >= (UINT64_C(1) << 40))
      break;
    n *= t < 1000000u ? 10u : 2u;
  }
  if (t == 0)
    t = 1;
  double scale = (double)cfg->min_run_ns / (double)t;
  uint64_t runs_n = scale > 1.0 ? (uint64_t)((double)n * scale) + 1u : n;
  double best = -1.0;
  for (unsigned r = 0; r < cfg->reps; r++) {
    uint64_t t0 = bench_now_ns();
    if (fn(ctx, runs_n) != 0)
      return -1.0;
    double per = (double)(bench_now_ns() - t0) / (double)runs_n;
    if (best < 0.0 || per < best)
      best = per;
  }
  return best;
}

/* Prints a finite number as JSON, or null (NaN / infinity). */
static inline void bench_put_num(double v) {
  double mag = v < 0.0 ? -v : v;
  if (!isfinite(v))
    fputs("null", stdout);
  else if (mag >= 1e4 && mag < 1e15)
    printf("%.0f", v);
  else
    printf("%.4g", v);
}

/* One result line. baseline NAN = null; ratio = value / baseline when the
 * baseline is known (and non-zero), else null. */
static inline void bench_emit(const char *bench, const char *name, double value,
                              const char *unit, double baseline) {
  double ratio = NAN;
  if (isfinite(baseline) && baseline != 0.0)
    ratio = value / baseline;
  printf("{\"bench\": \"%s\", \"case\": \"%s\", \"value\": ", bench, name);
  bench_put_num(value);
  printf(", \"unit\": \"%s\", \"baseline\": ", unit);
  bench_put_num(baseline);
  fputs(", \"ratio\": ", stdout);
  bench_put_num(ratio);
  fputs("}\n", stdout);
  fflush(stdout);
}

#endif /* NNRP_BENCH_UTIL_H */
