/* SPDX-License-Identifier: Apache-2.0 */
/*
 * bench.h - internals of `nnrp bench` shared by cmd_bench.c (the load
 * loop), bench_args.c (options), bench_setup.c (sessions, cache objects,
 * --cache-flood) and bench_report.c (text, JSON line, exit status).
 * docs/cli.md.
 */
#ifndef NNRP_CLI_BENCH_H
#define NNRP_CLI_BENCH_H

#include <stdint.h>

#include "bench_stats.h"
#include "net_common.h"
#include "result_check.h"

typedef struct bench_args {
  net_opts net;
  uint32_t frames, window, sessions;
  int frames_given;
  net_frame_spec spec;
  int json;
  uint8_t budget_policy; /* --budget-policy */
  int cache;             /* --cache: slot objects put once, referenced */
  int cache_mixed;       /* --cache-mode mixed (else reference) */
  uint32_t cache_flood;  /* --cache-flood N: pinned puts per session */
  int auto_pause;        /* --auto-pause */
  uint32_t deadline_ms;  /* --deadline-ms */
  uint32_t duration_s;   /* --duration-s */
  int verify;            /* --verify */
} bench_args;

struct bench;

typedef struct bench_sess {
  struct bench *b;
  nnrp_client_session *cs;
  uint32_t index;
  uint32_t quota, submitted;
  int dead;
  int cached;     /* the cache objects are in this session's cache */
  int flow_taken; /* its counters were added to the totals */
} bench_sess;

typedef struct bench {
  bench_args a;
  net_frame f;
  net_cache cache; /* --cache */
  check_expect ex; /* --verify */
  uint8_t *flood_data;
  nnrp_runtime *rt;
  bench_sess *ss;
  uint64_t *sent_at; /* per frame (sequence number) */
  uint8_t *ended;    /* per frame: terminal record seen */
  uint32_t cap;      /* entries of sent_at / ended */
  uint32_t next_seq;
  uint64_t sent, completed, dropped, errors, expired, dup, pushes, rx_bytes;
  uint64_t classes[4]; /* completed frames per result class */
  uint64_t ref_frames; /* frames sent by reference (--cache) */
  uint64_t hints, pauses, drops_seen;
  uint64_t cache_puts, cache_rejected;
  uint64_t flood_sent, flood_acked, flood_rejected;
  uint64_t verify_failed;
  uint64_t t_first, t_last, t_progress, t_activity, t_end;
  uint32_t logged, vlogged;
  int stopping, tty;
  bench_stats st;
} bench;

/** Options. @return -1 to continue, or an exit status. */
int bench_parse_args(int argc, char **argv, bench_args *a);

/** Dials every session (callbacks of cmd_bench.c in cfg), then puts the
 *  cache objects (--cache) and floods (--cache-flood). @return 0, -1. */
int bench_setup(bench *b, nnrp_client_config *cfg);

/** on_event of every session: counts --cache-flood acks. */
void bench_on_event(nnrp_client_session *cs, const nnrp_event *ev, void *user);

/** Adds a session's hint / pause counters to the totals (once, before
 *  the session is freed). */
void bench_take_flow_stats(bench *b, bench_sess *bs);

/** Prints the report (and the JSON line with --json). */
void bench_report(bench *b);

/** Exit status: every frame ended exactly once, no error (expiries of
 *  --deadline-ms excepted), every frame sent (without --duration-s), no
 *  --verify failure. */
int bench_verdict(const bench *b);

#endif /* NNRP_CLI_BENCH_H */
