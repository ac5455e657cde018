/* SPDX-License-Identifier: Apache-2.0 */
/*
 * serve.h - internals of `nnrp serve` shared by cmd_serve.c (events, main
 * loop), serve_args.c (options) and serve_budget.c (--budget-mode: how a
 * frame is answered when the queue is deep, session.md §7.7). docs/cli.md.
 */
#ifndef NNRP_CLI_SERVE_H
#define NNRP_CLI_SERVE_H

#include <stdint.h>

#include "model.h"
#include "net_common.h"

typedef struct serve_args {
  net_opts net; /* host, port, auth token, lenient */
  uint32_t max_concurrent;
  uint32_t delay_ms;
  model_kind model;
  /* --budget-mode: degrade answers when the session's queue is deep */
  int budget_mode;
  uint32_t budget_depth; /* "deep" = at least this many unanswered */
  /* flow control (session.md §8) */
  uint32_t credit_window;
  int auto_overload;
  uint32_t overload_high, overload_low, overload_retry_ms;
  int overload_retry_given;
  /* cache quotas (session.md §9) */
  int no_cache;
  uint32_t cache_entries, cache_bytes, max_object_bytes;
  int cache_entries_given, cache_bytes_given;
  /* patch rate limit (session.md §10.1 step 2) */
  uint32_t patch_rate, patch_window_ms;
} serve_args;

/* A result buffer not yet written (freed on on_sent or session end). */
typedef struct serve_buf {
  struct serve_buf *next;
  void *ptr;
} serve_buf;

typedef struct serve_sess {
  struct serve_sess *next;
  nnrp_server_session *ss;
  uint32_t id;
  int closed;      /* CLOSED seen: del and free from the main loop */
  uint64_t frames; /* submits answered */
  serve_buf *bufs;
  model_snap *last; /* --budget-mode: last full result (STALE_REUSE) */
  uint32_t turn;    /* --budget-mode: rotation over the allowed classes */
} serve_sess;

/* A submit waiting for its --delay-ms. */
typedef struct held_frame {
  struct held_frame *next;
  serve_sess *sess;
  const nnrp_received_submit *sub;
  uint64_t due;
} held_frame;

typedef struct serve_ctx {
  serve_args a;
  nnrp_runtime *rt;
  nnrp_server *srv;
  serve_sess *sessions;
  held_frame *head, *tail;
  serve_sess *cur; /* the session a model is answering on */
  uint32_t cur_frame;
  uint64_t n_sessions, n_frames, n_packets, n_drops, n_errors;
  uint64_t n_class[4];    /* final results per result class */
  uint64_t n_early_drops; /* --budget-mode drops (ALLOW_DROP) */
} serve_ctx;

/** "nnrp serve: ..." on stderr. */
#ifdef __GNUC__
__attribute__((format(printf, 1, 2)))
#endif
void serve_log(const char *fmt, ...);

/** Parses the options. @return -1 to continue, or an exit status. */
int serve_parse_args(int argc, char **argv, serve_args *a);

/** What --budget-mode does with one frame. */
typedef enum serve_action {
  SERVE_ANSWER = 0,    /* answer with the model per *plan */
  SERVE_EARLY_DROP = 1 /* RESULT_DROP + RESULT_HINT (ALLOW_DROP) */
} serve_action;

/**
 * --budget-mode: when the session has at least budget_depth unanswered
 * frames and the submit's budget_policy allows it, rotates over the
 * allowed classes PARTIAL, STALE_REUSE and DEGRADED (a STALE_REUSE turn
 * with no COMPLETE result kept yet answers COMPLETE, which is then kept);
 * with only ALLOW_DROP, drops early. Otherwise COMPLETE. Fills *plan
 * (keep / stale point into s).
 */
serve_action serve_budget_plan(const serve_ctx *x, serve_sess *s,
                               const nnrp_received_submit *sub,
                               model_plan *plan);

/** Early drop of frame_id: RESULT_DROP and a RESULT_HINT (DROP,
 *  QUEUE_FULL, congestion of the session's depth). @return 1 when the drop
 *  was sent. */
int serve_early_drop(serve_ctx *x, serve_sess *s, uint32_t frame_id);

/** Frees what --budget-mode keeps for a session. */
void serve_budget_free(serve_sess *s);

/** One log line with the result classes sent (at shutdown). */
void serve_log_classes(const serve_ctx *x);

#endif /* NNRP_CLI_SERVE_H */
