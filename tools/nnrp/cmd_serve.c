/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cmd_serve.c - `nnrp serve`: an NNRP/1 TCP server on the libnnrp runtime
 * with a built-in demo model (model.h). Event-driven (on_session,
 * on_submit, on_sent, on_event); frames held for --delay-ms wait in a FIFO
 * answered from the main loop; SIGINT/SIGTERM set a flag the loop polls
 * (the runtime may not be called from a signal handler) and the server
 * then closes every session gracefully and exits 0. docs/cli.md.
 */
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "model.h"
#include "net_common.h"
#include "util.h"

static volatile sig_atomic_t g_signal;

static void on_signal(int sig) { g_signal = sig; }

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
} serve_sess;

/* A submit waiting for its --delay-ms. */
typedef struct held_frame {
  struct held_frame *next;
  serve_sess *sess;
  const nnrp_received_submit *sub;
  uint64_t due;
} held_frame;

typedef struct serve_args {
  net_opts net; /* host, port, auth token, lenient */
  uint32_t max_concurrent;
  uint32_t delay_ms;
  model_kind model;
} serve_args;

typedef struct serve_ctx {
  serve_args a;
  nnrp_runtime *rt;
  nnrp_server *srv;
  serve_sess *sessions;
  held_frame *head, *tail;
  serve_sess *cur; /* the session a model is answering on */
  uint32_t cur_frame;
  uint64_t n_sessions, n_frames, n_packets, n_drops, n_errors;
} serve_ctx;

#ifdef __GNUC__
__attribute__((format(printf, 1, 2)))
#endif
static void
slog(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  fputs("nnrp serve: ", stderr);
  vfprintf(stderr, fmt, ap);
  fputc('\n', stderr);
  va_end(ap);
}

void cli_usage_serve(FILE *out) {
  fputs("usage: nnrp serve [--host H] [--port P] [--max-concurrent N]\n"
        "                  [--delay-ms D] [--auth-token T]\n"
        "                  [--model upscale|echo] [--lenient]\n"
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
        "  --lenient           lenient validation (wire.md §13)\n",
        out);
}

static int parse_model(const char *v, model_kind *out) {
  int k = v ? model_kind_from_name(v, strlen(v)) : -1;
  if (k < 0)
    return -1;
  *out = (model_kind)k;
  return 0;
}

/* Returns -1 to continue, or an exit status. */
static int parse_args(int argc, char **argv, serve_args *a) {
  memset(a, 0, sizeof(*a));
  net_opts_default(&a->net);
  a->net.port = 4434;
  a->max_concurrent = 64;
  for (int i = 0; i < argc; i++) {
    const char *v = NULL;
    uint64_t n = 0;
    int r = net_opt_parse(&a->net, "serve", argc, argv, &i);
    if (r < 0)
      return CLI_EXIT_USAGE;
    if (r > 0)
      continue;
    if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
      cli_usage_serve(stdout);
      return CLI_EXIT_OK;
    } else if (cli_opt(argc, argv, &i, "--max-concurrent", &v)) {
      if (cli_parse_num(v, UINT16_MAX, &n) != 0)
        return cli_usage_fail("serve", "--max-concurrent needs 0..65535", v);
      a->max_concurrent = (uint32_t)n;
    } else if (cli_opt(argc, argv, &i, "--delay-ms", &v)) {
      if (cli_parse_num(v, 3600000, &n) != 0)
        return cli_usage_fail("serve", "--delay-ms needs 0..3600000", v);
      a->delay_ms = (uint32_t)n;
    } else if (cli_opt(argc, argv, &i, "--model", &v)) {
      if (parse_model(v, &a->model) != 0)
        return cli_usage_fail("serve", "--model needs upscale or echo", v);
    } else {
      return cli_usage_fail("serve", "unknown argument", argv[i]);
    }
  }
  return -1;
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

/* Model sink: send on the current session, keep `owned` until written. */
static int64_t sink_send(void *ctx, const nnrp_result *r, void *owned) {
  serve_ctx *x = ctx;
  nnrp_result rr = *r;
  rr.user_data = owned;
  int64_t rc = nnrp_server_session_send_result(x->cur->ss, x->cur_frame, &rr);
  if (owned != NULL && rc > 0) {
    serve_buf *b = cli_xmalloc(sizeof(*b));
    b->ptr = owned;
    b->next = x->cur->bufs;
    x->cur->bufs = b;
  } else {
    free(owned); /* not queued: nothing references it */
  }
  return rc;
}

static void on_sent(nnrp_server_session *ss, uint32_t frame_id,
                    void *result_user_data, void *user) {
  (void)frame_id;
  serve_sess *s = result_user_data ? find_sess(user, ss) : NULL;
  for (serve_buf **p = s ? &s->bufs : NULL; p && *p; p = &(*p)->next)
    if ((*p)->ptr == result_user_data) {
      serve_buf *b = *p;
      *p = b->next;
      free(b->ptr);
      free(b);
      return;
    }
}

/* ---- answering ---------------------------------------------------------- */

static void answer(serve_ctx *x, serve_sess *s,
                   const nnrp_received_submit *sub) {
  uint32_t frame_id = sub->frame_id; /* sub is invalid once answered */
  model_sink sink = {sink_send, x};
  model_report rep;
  memset(&rep, 0, sizeof(rep));
  x->cur = s;
  x->cur_frame = frame_id;
  int rc = model_answer(x->a.model, sub, &sink, &rep);
  x->n_packets += rep.packets;
  s->frames++;
  x->n_frames++;
  if (rc == 0)
    return;
  x->n_errors++;
  if (s->closed || nnrp_server_session_state(s->ss) == NNRP_STATE_CLOSED)
    return; /* the connection went away meanwhile (logged on CLOSED) */
  slog("session %08x frame %u: cannot answer: %s (%s); sending RESULT_DROP",
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
  slog("session %08x: accepted, handshake complete (model %s, window %u, "
       "client payload kinds 0x%02x)",
       (unsigned)s->id, model_kind_name(x->a.model),
       (unsigned)x->a.max_concurrent,
       ch ? (unsigned)ch->supported_payload_kind_bitmap : 0u);
}

static void log_closed(const serve_sess *s, const nnrp_event *ev) {
  char why[300];
  if (ev->error.lib_err == 0)
    snprintf(why, sizeof(why), "clean");
  else
    net_record_text(&ev->error, why, sizeof(why));
  if (s != NULL)
    slog("session %08x: closed, %s (%llu frame(s))", (unsigned)s->id, why,
         (unsigned long long)s->frames);
  else
    slog("connection closed before the handshake completed: %s", why);
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
    slog("session %08x: peer ERROR %s", s ? (unsigned)s->id : 0u, why);
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
  slog("handshake rejected: auth block (%zu bytes) does not match "
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
  int rc = nnrp_serve_tcp(x->rt, &p, &c, &x->srv);
  if (rc != 0) {
    int os_err = 0;
    (void)nnrp_runtime_last_error(x->rt, NULL, &os_err);
    slog("cannot listen on %s:%u: %s%s%s", x->a.net.host,
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
  slog("signal %d: closing %u session(s)", (int)g_signal, (unsigned)open);
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
  int st = parse_args(argc, argv, &x.a);
  if (st >= 0)
    return st;
  if (nnrp_runtime_new(&x.rt, NULL) != 0) {
    slog("cannot create the runtime");
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
  slog("stopped: %llu session(s), %llu frame(s), %llu result packet(s), "
       "%llu drop(s), %llu error(s)",
       (unsigned long long)x.n_sessions, (unsigned long long)x.n_frames,
       (unsigned long long)x.n_packets, (unsigned long long)x.n_drops,
       (unsigned long long)x.n_errors);
  return CLI_EXIT_OK;
}
