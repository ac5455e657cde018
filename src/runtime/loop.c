/* SPDX-License-Identifier: Apache-2.0 */
/*
 * loop.c - nnrp_runtime: the libuv loop (own or the application's), the
 * blocking-wait primitive every timeout_ms call is built on, the
 * event-driven entry points (run, run_once, backend fd/timeout), and the
 * last-error record of calls that return no handle.
 */
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/runtime_int.h"

/* The client record pool (router.c): kept blocks, at least this many (or
 * the most ever in use), and at most this many bytes. */
#define RPOOL_MIN_KEEP 64u
#define RPOOL_MAX_BYTES ((uint64_t)16 << 20)

void nnrp_runtime_config_default(nnrp_runtime_config *c) {
  memset(c, 0, sizeof(*c));
  c->struct_size = (uint32_t)sizeof(*c);
}

uint64_t nnrp_runtime_now(void) { return uv_hrtime(); }

uint64_t nnrp__rt_seed(const void *salt) {
  uint64_t x = uv_hrtime() ^ (uint64_t)(uintptr_t)salt;
  x ^= x >> 33;
  x *= 0xFF51AFD7ED558CCDull;
  x ^= x >> 33;
  return x ? x : 1;
}

static void ignore_sigpipe(void) {
  struct sigaction sa;
  if (sigaction(SIGPIPE, NULL, &sa) != 0 || sa.sa_handler != SIG_DFL)
    return;
  memset(&sa, 0, sizeof(sa));
  sa.sa_handler = SIG_IGN;
  sigemptyset(&sa.sa_mask);
  (void)sigaction(SIGPIPE, &sa, NULL);
}

int nnrp_runtime_new(nnrp_runtime **out, const nnrp_runtime_config *cfg) {
  nnrp_runtime_config dflt;
  if (cfg == NULL) {
    nnrp_runtime_config_default(&dflt);
    cfg = &dflt;
  }
  if (out == NULL || cfg->struct_size != sizeof(nnrp_runtime_config))
    return NNRP_ERR_INVALID_ARGUMENT;
  nnrp_runtime *rt = calloc(1, sizeof(*rt));
  if (rt == NULL)
    return NNRP_ERR_NOMEM;
  /* Untouched pages cost no resident memory until a large read arrives. */
  rt->rbuf = malloc(NNRP__RBUF_SIZE);
  if (rt->rbuf == NULL) {
    free(rt);
    return NNRP_ERR_NOMEM;
  }
  if (cfg->uv_loop) {
    rt->loop = cfg->uv_loop;
  } else {
    if (uv_loop_init(&rt->own) != 0) {
      free(rt->rbuf);
      free(rt);
      return NNRP_ERR_INTERNAL;
    }
    rt->loop = &rt->own;
    rt->owns_loop = 1;
  }
  if (uv_timer_init(rt->loop, &rt->wait_timer) != 0) {
    if (rt->owns_loop)
      (void)uv_loop_close(&rt->own);
    free(rt->rbuf);
    free(rt);
    return NNRP_ERR_INTERNAL;
  }
  rt->wait_timer.data = rt;
  if (uv_idle_init(rt->loop, &rt->flush) != 0) {
    uv_close((uv_handle_t *)&rt->wait_timer, NULL);
    (void)uv_run(rt->loop, UV_RUN_NOWAIT); /* finishes the close */
    if (rt->owns_loop)
      (void)uv_loop_close(&rt->own);
    free(rt->rbuf);
    free(rt);
    return NNRP_ERR_INTERNAL;
  }
  rt->flush.data = rt;
  nnrp__list_init(&rt->wq);
  nnrp__list_init(&rt->clients);
  nnrp__list_init(&rt->servers);
  nnrp__list_init(&rt->results);
  nnrp__bpool_init(&rt->rpool, RPOOL_MIN_KEEP, RPOOL_MAX_BYTES);
  if (!cfg->keep_sigpipe)
    ignore_sigpipe();
  *out = rt;
  return 0;
}

static void on_wait_timer(uv_timer_t *t) { (void)t; }

void nnrp__rt_flush_cb(uv_idle_t *h) { nnrp__rt_flush(h->data); }

/* Arms the wait timer so that uv_run(UV_RUN_ONCE) returns by `deadline`.
 * It stays armed across the iterations of one wait (re-armed only after it
 * fired), so an iteration costs no timer insertion and no extra clock
 * reads; the caller stops it when the wait ends. */
static void arm(nnrp_runtime *rt, uint64_t deadline) {
  if (deadline == UINT64_MAX ||
      uv_is_active((const uv_handle_t *)&rt->wait_timer))
    return;
  uint64_t now = uv_hrtime();
  uint64_t ms = deadline > now ? (deadline - now + 999999u) / 1000000u : 0;
  uv_update_time(rt->loop);
  (void)uv_timer_start(&rt->wait_timer, on_wait_timer, ms, 0);
}

static uint64_t deadline_of(int timeout_ms) {
  if (timeout_ms < 0)
    return UINT64_MAX;
  return uv_hrtime() + (uint64_t)timeout_ms * 1000000u;
}

static int passed(uint64_t deadline) {
  return deadline != UINT64_MAX && uv_hrtime() >= deadline;
}

/* One blocking iteration; returns uv_run's "still alive" (1 without
 * running the loop when done(ctx) became true first).
 *
 * Writes that completed inside write_iov are reported first (conn.c,
 * nnrp__rt_flush), here rather than from the idle handle inside uv_run:
 * libuv 1.44 polls without blocking in every iteration that ran an idle
 * callback, which would cost an extra epoll_wait per write. The idle handle
 * still reports them when the loop is run by the application itself. */
static int iterate(nnrp_runtime *rt, uint64_t deadline, uv_run_mode mode,
                   int (*done)(void *ctx), void *ctx) {
  if (rt->flush_active) {
    nnrp__rt_flush(rt);
    if (done != NULL && done(ctx))
      return 1;
  }
  arm(rt, deadline);
  rt->running++;
  int alive = uv_run(rt->loop, mode);
  rt->running--;
  return alive;
}

static int wait_loop(nnrp_runtime *rt, int (*done)(void *ctx), void *ctx,
                     uint64_t deadline) {
  for (;;) {
    if (passed(deadline))
      return done(ctx) ? 0 : NNRP_ERR_TIMEOUT;
    int alive = iterate(rt, deadline, UV_RUN_ONCE, done, ctx);
    if (done(ctx))
      return 0;
    if (!alive && deadline == UINT64_MAX)
      return NNRP_ERR_CLOSED; /* nothing left that could change anything */
  }
}

int nnrp__rt_wait(nnrp_runtime *rt, int (*done)(void *ctx), void *ctx,
                  int timeout_ms) {
  if (done(ctx))
    return 0;
  if (nnrp__rt_in_loop(rt))
    return timeout_ms == 0 ? NNRP_ERR_TIMEOUT : NNRP_ERR_INVALID_STATE;
  if (timeout_ms == 0) {
    (void)iterate(rt, UINT64_MAX, UV_RUN_NOWAIT, done, ctx);
    return done(ctx) ? 0 : NNRP_ERR_TIMEOUT;
  }
  int rc = wait_loop(rt, done, ctx, deadline_of(timeout_ms));
  (void)uv_timer_stop(&rt->wait_timer);
  return rc;
}

int nnrp_runtime_run(nnrp_runtime *rt, int timeout_ms) {
  if (nnrp__rt_in_loop(rt))
    return NNRP_ERR_INVALID_STATE;
  uint64_t deadline = deadline_of(timeout_ms);
  rt->stop = 0;
  while (!rt->stop && !passed(deadline)) {
    if (!iterate(rt, deadline, UV_RUN_ONCE, NULL, NULL) && timeout_ms < 0)
      break;
  }
  (void)uv_timer_stop(&rt->wait_timer);
  rt->stop = 0;
  return 0;
}

int nnrp_runtime_run_once(nnrp_runtime *rt, int timeout_ms) {
  if (nnrp__rt_in_loop(rt))
    return NNRP_ERR_INVALID_STATE;
  if (timeout_ms == 0)
    return iterate(rt, UINT64_MAX, UV_RUN_NOWAIT, NULL, NULL) != 0;
  int alive = iterate(rt, deadline_of(timeout_ms), UV_RUN_ONCE, NULL, NULL);
  (void)uv_timer_stop(&rt->wait_timer);
  return alive != 0;
}

void nnrp_runtime_stop(nnrp_runtime *rt) {
  rt->stop = 1;
  uv_stop(rt->loop);
}

int nnrp_runtime_backend_fd(const nnrp_runtime *rt) {
  return uv_backend_fd(rt->loop);
}

int nnrp_runtime_backend_timeout(const nnrp_runtime *rt) {
  return uv_backend_timeout(rt->loop);
}

/* ---- errors ------------------------------------------------------------ */

void nnrp__copy_record(nnrp_error_record *dst, char *diag,
                       const nnrp_error_record *rec) {
  *dst = *rec;
  size_t n = rec->diagnostic.len;
  if (n > NNRP__DIAG_MAX)
    n = NNRP__DIAG_MAX;
  if (n && rec->diagnostic.ptr)
    memcpy(diag, rec->diagnostic.ptr, n);
  else
    n = 0;
  dst->diagnostic.ptr = n ? (const uint8_t *)diag : NULL;
  dst->diagnostic.len = n;
}

void nnrp__rt_set_error(nnrp_runtime *rt, int err, int os_err,
                        const nnrp_error_record *rec) {
  rt->last_err = err;
  rt->last_os_err = os_err;
  if (rec) {
    nnrp__copy_record(&rt->last_rec, rt->last_diag, rec);
  } else {
    memset(&rt->last_rec, 0, sizeof(rt->last_rec));
    rt->last_rec.local = 1;
    rt->last_rec.lib_err = err;
  }
}

int nnrp_runtime_last_error(const nnrp_runtime *rt, nnrp_error_record *rec,
                            int *os_err) {
  if (rec)
    *rec = rt->last_rec;
  if (os_err)
    *os_err = rt->last_os_err;
  return rt->last_err;
}

/* ---- teardown ---------------------------------------------------------- */

static void on_wait_timer_closed(uv_handle_t *h) {
  nnrp_runtime *rt = h->data;
  rt->closing = 2;
}

void nnrp_runtime_del(nnrp_runtime *rt) {
  if (rt == NULL)
    return;
  rt->closing = 1;
  /* Deleting unlinks at once, even though the memory goes later. */
  while (!nnrp__list_empty(&rt->clients))
    nnrp_client_session_del(nnrp__client_of(rt->clients.next));
  while (!nnrp__list_empty(&rt->servers))
    nnrp_server_close(nnrp__server_of(rt->servers.next));
  while (rt->live > 0) {
    rt->running++;
    int alive = uv_run(rt->loop, UV_RUN_ONCE);
    rt->running--;
    if (!alive)
      break;
  }
  uv_close((uv_handle_t *)&rt->flush, NULL); /* closes in the same pass */
  uv_close((uv_handle_t *)&rt->wait_timer, on_wait_timer_closed);
  while (rt->closing != 2) {
    rt->running++;
    int alive = uv_run(rt->loop, UV_RUN_NOWAIT);
    rt->running--;
    if (!alive && rt->closing != 2)
      break;
  }
  if (rt->owns_loop) {
    (void)uv_run(rt->loop, UV_RUN_DEFAULT);
    (void)uv_loop_close(&rt->own);
  }
  nnrp__rt_results_detach(rt);
  nnrp__bpool_drain(&rt->rpool);
  free(rt->rbuf);
  free(rt);
}
