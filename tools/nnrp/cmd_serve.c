/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cmd_serve.c - `nnrp serve`: an NNRP/1 TCP server on the libnnrp runtime
 * with a built-in demo model (model.h). Event-driven (on_session,
 * on_submit, on_sent, on_event); frames held for --delay-ms wait in a FIFO
 * answered from the main loop; SIGINT/SIGTERM set a flag the loop polls
 * (the runtime may not be called from a signal handler) and the server
 * then closes every session gracefully and exits 0. Options in
 * serve_args.c, --budget-mode in serve_budget.c. docs/cli.md.
 */
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "serve.h"
#include "util.h"

static volatile sig_atomic_t g_signal;

static void on_signal(int sig) { g_signal = sig; }

void serve_log(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  fputs("nnrp serve: ", stderr);
  vfprintf(stderr, fmt, ap);
  fputc('\n', stderr);
  va_end(ap);
}

/* ---- sessions and result buffers ---------------------------------------- */

static serve_sess *find_sess(serve_ctx *x, const nnrp_server_session *ss) {
  for (serve_sess *s = x->sessions; s; s = s->next)
    if (s->ss == ss && !s->closed)
      return s;
  return NULL;
}

static void free_bufs(serve_sess *s) {
  while (s->bufs) {
    serve_buf *b = s->bufs;
    s->bufs = b->next;
    free(b->ptr);
    free(b);
  }
}

/* Frees the result buffer ptr of s if it is still listed. @return 1 when
 * it was. */
static int take_buf(serve_sess *s, const void *ptr) {
  for (serve_buf **p = &s->bufs; *p; p = &(*p)->next)
    if ((*p)->ptr == ptr) {
      serve_buf *b = *p;
      *p = b->next;
      free(b->ptr);
      free(b);
      return 1;
    }
  return 0;
}

/* Model sink: send on the current session, keep `owned` until written.
 * The buffer is listed before the send: a write that completes inside the
 * call reports on_sent before send_result returns. */
static int64_t sink_send(void *ctx, const nnrp_result *r, void *owned) {
  serve_ctx *x = ctx;
  serve_sess *s = x->cur;
  nnrp_result rr = *r;
  rr.user_data = owned;
  if (owned != NULL) {
    serve_buf *b = cli_xmalloc(sizeof(*b));
    b->ptr = owned;
    b->next = s->bufs;
    s->bufs = b;
  }
  int64_t rc = nnrp_server_session_send_result(s->ss, x->cur_frame, &rr);
  if (owned != NULL && rc <= 0)
    (void)take_buf(s, owned); /* not queued: nothing references it */
  return rc;
}

static void on_sent(nnrp_server_session *ss, uint32_t frame_id,
                    void *result_user_data, void *user) {
  (void)frame_id;
  serve_sess *s = result_user_data ? find_sess(user, ss) : NULL;
  if (s != NULL)
    (void)take_buf(s, result_user_data);
}

/* ---- answering ---------------------------------------------------------- */

static void answer(serve_ctx *x, serve_sess *s,
                   const nnrp_received_submit *sub) {
  uint32_t frame_id = sub->frame_id; /* sub is invalid once answered */
  model_sink sink = {sink_send, x};
  model_report rep;
  model_plan plan;
  memset(&rep, 0, sizeof(rep));
  s->frames++;
  x->n_frames++;
  if (serve_budget_plan(x, s, sub, &plan) == SERVE_EARLY_DROP &&
      serve_early_drop(x, s, frame_id))
    return;
  x->cur = s;
  x->cur_frame = frame_id;
  int rc = model_answer(x->a.model, sub, &plan, &sink, &rep);
  x->n_packets += rep.packets;
  if (rc == 0) {
    x->n_class[rep.result_class & 3u]++;
    return;
  }
  x->n_errors++;
  if (s->closed || nnrp_server_session_state(s->ss) == NNRP_STATE_CLOSED)
    return; /* the connection went away meanwhile (logged on CLOSED) */
  serve_log("session %08x frame %u: cannot answer: %s (%s); sending "
            "RESULT_DROP",
            (unsigned)s->id, (unsigned)frame_id, nnrp_err_name(rc),
            nnrp_strerror(rc));
  if (nnrp_server_session_send_result_drop(s->ss, frame_id, 0) > 0)
    x->n_drops++;
}

static void on_submit(nnrp_server_session *ss, const nnrp_received_submit *sub,
                      void *user) {
  serve_ctx *x = user;
  serve_sess *s = find_sess(x, ss);
  if (s == NULL) { /* cannot happen: on_session comes first */
    (void)nnrp_server_session_send_result_drop(ss, sub->frame_id, 0);
    return;
  }
  if (x->a.delay_ms == 0) {
    answer(x, s, sub);
    return;
  }
  held_frame *h = cli_xmalloc(sizeof(*h));
  h->next = NULL;
  h->sess = s;
  h->sub = sub;
  h->due = sub->received_at + (uint64_t)x->a.delay_ms * 1000000u;
  if (x->tail)
    x->tail->next = h;
  else
    x->head = h;
  x->tail = h;
  if (x->head == h)
    nnrp_runtime_stop(x->rt); /* let the main loop shorten its wait */
}

/* Answers the held frames whose delay is over (FIFO: one delay for all);
 * frames of closed sessions are skipped. */
static void answer_due(serve_ctx *x) {
  uint64_t now = nnrp_runtime_now();
  while (x->head && (x->head->due <= now || x->head->sess->closed)) {
    held_frame *h = x->head;
    x->head = h->next;
    if (x->head == NULL)
      x->tail = NULL;
    if (!h->sess->closed)
      answer(x, h->sess, h->sub);
    free(h);
  }
}

/* Forgets the held frames of s (NULL: of every session) without touching
 * their views: the library drops or frees them with the session. */
static void forget_held(serve_ctx *x, const serve_sess *s) {
  held_frame **p = &x->head;
  x->tail = NULL;
  while (*p) {
    held_frame *h = *p;
    if (s == NULL || h->sess == s) {
      *p = h->next;
      free(h);
    } else {
      x->tail = h;
      p = &h->next;
    }
  }
}

/* ---- session events ----------------------------------------------------- */

static void on_session(nnrp_server *srv, nnrp_server_session *ss, void *user) {
  serve_ctx *x = user;
  serve_sess *s = cli_xcalloc(1, sizeof(*s));
  s->ss = ss;
  s->id = nnrp_server_session_id(ss);
  s->next = x->sessions;
  x->sessions = s;
  x->n_sessions++;
  const nnrp_client_hello *ch = nnrp_server_session_client_hello(ss);
  (void)srv;
  serve_log("session %08x: accepted, handshake complete (model %s, window %u, "
            "client payload kinds 0x%02x)",
            (unsigned)s->id, model_kind_name(x->a.model),
            (unsigned)x->a.max_concurrent,
            ch ? (unsigned)ch->supported_payload_kind_bitmap : 0u);
}

/* "; cache: ...; pauses ..." for a closed session, when there was any. */
static void session_stats(const serve_sess *s, char *buf, size_t cap) {
  nnrp_cache_stats cs;
  nnrp_server_flow_stats fs;
  size_t n = 0;
  buf[0] = '\0';
  memset(&cs, 0, sizeof(cs));
  memset(&fs, 0, sizeof(fs));
  (void)nnrp_server_session_cache_stats(s->ss, &cs);
  (void)nnrp_server_session_flow_stats(s->ss, &fs);
  if (cs.puts_accepted || cs.puts_rejected || cs.misses || cs.resolved_frames)
    n += (size_t)snprintf(buf + n, cap - n,
                          "; cache: %llu put(s) accepted, %llu rejected, "
                          "%llu resolved frame(s), %llu miss(es), %u "
                          "entr%s",
                          (unsigned long long)cs.puts_accepted,
                          (unsigned long long)cs.puts_rejected,
                          (unsigned long long)cs.resolved_frames,
                          (unsigned long long)cs.misses, (unsigned)cs.entries,
                          cs.entries == 1 ? "y" : "ies");
  if (n < cap && (fs.pauses_sent || fs.patches))
    snprintf(buf + n, cap - n,
             "; %llu pause(s), %llu resume(s), %llu patch(es), held peak %u",
             (unsigned long long)fs.pauses_sent,
             (unsigned long long)fs.resumes_sent,
             (unsigned long long)fs.patches, (unsigned)fs.held_peak);
}

static void log_closed(const serve_sess *s, const nnrp_event *ev) {
  char why[300], stats[300];
  if (ev->error.lib_err == 0)
    snprintf(why, sizeof(why), "clean");
  else
    net_record_text(&ev->error, why, sizeof(why));
  if (s == NULL) {
    serve_log("connection closed before the handshake completed: %s", why);
    return;
  }
  session_stats(s, stats, sizeof(stats));
  serve_log("session %08x: closed, %s (%llu frame(s)%s)", (unsigned)s->id, why,
            (unsigned long long)s->frames, stats);
}

static void on_event(nnrp_server_session *ss, const nnrp_event *ev,
                     void *user) {
  serve_ctx *x = user;
  serve_sess *s = find_sess(x, ss);
  char why[300];
  switch (ev->type) {
  case NNRP_EV_CLOSED:
    log_closed(s, ev);
    if (ev->error.lib_err != 0)
      x->n_errors++;
    if (s != NULL)
      s->closed = 1; /* del from the main loop, never from inside a call */
    break;
  case NNRP_EV_PEER_ERROR:
    net_record_text(&ev->error, why, sizeof(why));
    serve_log("session %08x: peer ERROR %s", s ? (unsigned)s->id : 0u, why);
    x->n_errors++;
    break;
  case NNRP_EV_CANCELLED:
    x->n_drops++; /* the library already sent RESULT_DROP */
    break;
  default:
    break;
  }
}

/* Auth validator (session.md §3.5): the auth block must equal the token. */
static int check_auth(const uint8_t *auth, size_t len, void *user) {
  const serve_ctx *x = user;
  const char *t = x->a.net.auth_token;
  if (t == NULL || (len == strlen(t) && memcmp(auth, t, len) == 0))
    return 1;
  serve_log("handshake rejected: auth block (%zu bytes) does not match "
            "--auth-token (ERROR AUTH_FAILED/CONNECTION)",
            len);
  return 0;
}

/* ---- main loop ---------------------------------------------------------- */

/* Frees the sessions that reported CLOSED (outside any library call). */
static void reap(serve_ctx *x) {
  for (serve_sess **p = &x->sessions; *p;) {
    serve_sess *s = *p;
    if (!s->closed) {
      p = &s->next;
      continue;
    }
    forget_held(x, s);
    *p = s->next;
    nnrp_server_session_del(s->ss); /* aborts: nothing is written after */
    free_bufs(s);
    serve_budget_free(s);
    free(s);
  }
}

static int loop_wait_ms(const serve_ctx *x) {
  if (x->head == NULL)
    return 100;
  uint64_t now = nnrp_runtime_now();
  if (x->head->due <= now)
    return 0;
  uint64_t ms = (x->head->due - now + 999999u) / 1000000u;
  return ms < 100 ? (int)ms : 100;
}

/* Issue-4 settings: cache quotas, credit, overload, patch rate. */
static void flow_config(const serve_args *a, nnrp_server_profile *p,
                        nnrp_server_config *c) {
  p->enable_cache = (uint8_t)!a->no_cache;
  if (a->cache_entries_given)
    p->max_cache_entries = a->cache_entries;
  if (a->cache_bytes_given)
    p->max_cache_bytes = a->cache_bytes;
  p->max_object_bytes = a->max_object_bytes;
  c->credit_window = (uint16_t)a->credit_window;
  c->auto_overload = (uint8_t)(a->auto_overload != 0);
  c->overload_high_water = a->overload_high;
  c->overload_low_water = a->overload_low;
  if (a->overload_retry_given)
    c->overload_retry_after_ms = a->overload_retry_ms;
  c->patch_rate_limit = a->patch_rate;
  c->patch_rate_window_ms = a->patch_window_ms;
}

static int start(serve_ctx *x) {
  nnrp_server_profile p;
  nnrp_server_profile_default(&p);
  p.max_concurrent_frames = (uint16_t)x->a.max_concurrent;
  const char *name = model_kind_name(x->a.model);
  p.model_name.ptr = (const uint8_t *)name;
  p.model_name.len = strlen(name);
  p.auth_validator = check_auth;
  p.auth_user = x;
  nnrp_server_config c;
  nnrp_server_config_default(&c);
  c.host = x->a.net.host;
  c.port = (uint16_t)x->a.net.port;
  c.lenient = (uint8_t)(x->a.net.lenient != 0);
  c.on_session = on_session;
  c.on_submit = on_submit;
  c.on_sent = on_sent;
  c.on_event = on_event;
  c.user = x;
  flow_config(&x->a, &p, &c);
  int rc = nnrp_serve_tcp(x->rt, &p, &c, &x->srv);
  if (rc != 0) {
    int os_err = 0;
    (void)nnrp_runtime_last_error(x->rt, NULL, &os_err);
    serve_log("cannot listen on %s:%u: %s%s%s", x->a.net.host,
              (unsigned)x->a.net.port, nnrp_err_name(rc), os_err ? ": " : "",
              os_err ? strerror(-os_err) : "");
    return rc;
  }
  printf("listening on %s:%u\n", x->a.net.host,
         (unsigned)nnrp_server_port(x->srv));
  fflush(stdout);
  return 0;
}

/* Graceful stop: every session drains (held frames get RESULT_DROP, CLOSE
 * is exchanged), bounded by 3 s, then the listener goes. */
static void shutdown_all(serve_ctx *x) {
  uint32_t open = 0;
  forget_held(x, NULL); /* the close below answers them with RESULT_DROP */
  for (serve_sess *s = x->sessions; s; s = s->next)
    if (!s->closed) {
      (void)nnrp_server_session_close(s->ss, 0);
      open++;
    }
  serve_log("signal %d: closing %u session(s)", (int)g_signal, (unsigned)open);
  uint64_t end = nnrp_runtime_now() + 3000000000u;
  while (x->sessions && nnrp_runtime_now() < end) {
    nnrp_runtime_run(x->rt, 50);
    reap(x);
  }
  for (serve_sess *s = x->sessions; s; s = s->next)
    s->closed = 1;
  reap(x);
  nnrp_server_close(x->srv);
}

int cli_cmd_serve(int argc, char **argv) {
  serve_ctx x;
  memset(&x, 0, sizeof(x));
  int st = serve_parse_args(argc, argv, &x.a);
  if (st >= 0)
    return st;
  if (nnrp_runtime_new(&x.rt, NULL) != 0) {
    serve_log("cannot create the runtime");
    return CLI_EXIT_INVALID;
  }
  if (start(&x) != 0) {
    nnrp_runtime_del(x.rt);
    return CLI_EXIT_INVALID;
  }
  struct sigaction sa;
  memset(&sa, 0, sizeof(sa));
  sa.sa_handler = on_signal;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, NULL);
  sigaction(SIGTERM, &sa, NULL);
  while (!g_signal) {
    nnrp_runtime_run(x.rt, loop_wait_ms(&x));
    answer_due(&x);
    reap(&x);
  }
  shutdown_all(&x);
  nnrp_runtime_del(x.rt);
  serve_log("stopped: %llu session(s), %llu frame(s), %llu result packet(s), "
            "%llu drop(s), %llu error(s)",
            (unsigned long long)x.n_sessions, (unsigned long long)x.n_frames,
            (unsigned long long)x.n_packets, (unsigned long long)x.n_drops,
            (unsigned long long)x.n_errors);
  serve_log_classes(&x);
  return CLI_EXIT_OK;
}
