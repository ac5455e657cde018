/* SPDX-License-Identifier: Apache-2.0 */
/*
 * session.c - benchmarks of the runtime over loopback TCP (`scripts/bench
 * session`, issue 3 §5): submit->result round trips (1 KiB, 64 KiB, 1 MiB),
 * pipelined 64 KiB frames (32 in flight), small frames (256 in flight), each
 * against a raw-TCP exchange of the same byte counts measured in the same
 * run, on one core and on two; user-space memory per idle session (malloc
 * interposed) and 10,000 idle sessions on one server. See docs/benchmarks.md.
 */
#define _GNU_SOURCE /* pthread_setaffinity_np, malloc_usable_size */

#include <errno.h>
#include <malloc.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <nnrp/nnrp_runtime.h>

#include "bench_util.h"
#include "raw_tcp.h"

#define BENCH "session"
#define HOST "127.0.0.1"
#define WAIT_MS 10000 /* bound of every blocking call: a hang is an error */

/* ======================================================================== */
/* Heap accounting (malloc interposed, as in bench/wire.c)                  */
/* ======================================================================== */

/* Every thread carries a side tag; while g_mem_on is set, the usable size
 * of each block allocated or freed is added to / taken from the live
 * counter of the calling thread's side. One runtime belongs to one thread,
 * so a block is freed by the side that allocated it. Requested sizes of
 * the server and client sides also go to a size histogram (one writer
 * thread per side). Off under sanitizers, which own malloc. */
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define BENCH_MEM 0
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(memory_sanitizer) ||     \
    __has_feature(thread_sanitizer)
#define BENCH_MEM 0
#endif
#endif
#if !defined(BENCH_MEM) && defined(__GLIBC__)
#define BENCH_MEM 1
#endif
#ifndef BENCH_MEM
#define BENCH_MEM 0
#endif

enum { SIDE_OTHER, SIDE_SERVER, SIDE_CLIENT, SIDE_N };

#define HIST_CAP 512u

typedef struct hist_ent {
  size_t size;
  uint64_t count;
} hist_ent;

static _Thread_local int t_side;
static atomic_int g_mem_on;
static _Atomic int64_t g_live[SIDE_N];
static hist_ent g_hist[SIDE_N][HIST_CAP];
static uint64_t g_hist_lost[SIDE_N];

#if BENCH_MEM
static void hist_add(int side, size_t size) {
  if (side == SIDE_OTHER)
    return;
  hist_ent *h = g_hist[side];
  size_t i = (size * 2654435761u) % HIST_CAP;
  for (size_t k = 0; k < HIST_CAP; k++, i = (i + 1) % HIST_CAP) {
    if (h[i].count == 0 || h[i].size == size) {
      h[i].size = size;
      h[i].count++;
      return;
    }
  }
  g_hist_lost[side]++;
}

static int mem_on(void) {
  return atomic_load_explicit(&g_mem_on, memory_order_relaxed);
}

extern void *__libc_malloc(size_t n);
extern void *__libc_calloc(size_t count, size_t n);
extern void *__libc_realloc(void *p, size_t n);
extern void *__libc_memalign(size_t align, size_t n);
extern void __libc_free(void *p);

static void live_add(void *p, size_t req) {
  if (p == NULL || !mem_on())
    return;
  atomic_fetch_add_explicit(&g_live[t_side], (int64_t)malloc_usable_size(p),
                            memory_order_relaxed);
  hist_add(t_side, req);
}

static void live_sub(void *p) {
  if (p == NULL || !mem_on())
    return;
  atomic_fetch_sub_explicit(&g_live[t_side], (int64_t)malloc_usable_size(p),
                            memory_order_relaxed);
}

void *malloc(size_t n) {
  void *p = __libc_malloc(n);
  live_add(p, n);
  return p;
}

void *calloc(size_t count, size_t n) {
  void *p = __libc_calloc(count, n);
  live_add(p, count * n);
  return p;
}

void *realloc(void *p, size_t n) {
  live_sub(p);
  void *q = __libc_realloc(p, n);
  if (q == NULL && n > 0 && p != NULL)
    live_add(p, 0); /* failed: p is still there */
  live_add(q, n);
  return q;
}

void free(void *p) {
  live_sub(p);
  __libc_free(p);
}

void *aligned_alloc(size_t align, size_t n) {
  void *p = __libc_memalign(align, n);
  live_add(p, n);
  return p;
}

void *memalign(size_t align, size_t n) {
  void *p = __libc_memalign(align, n);
  live_add(p, n);
  return p;
}

int posix_memalign(void **out, size_t align, size_t n) {
  if (align < sizeof(void *) || (align & (align - 1)) != 0)
    return EINVAL;
  void *p = __libc_memalign(align, n);
  if (p == NULL)
    return ENOMEM;
  live_add(p, n);
  *out = p;
  return 0;
}
#endif

static void mem_start(void) {
  for (int s = 0; s < SIDE_N; s++) {
    atomic_store(&g_live[s], 0);
    memset(g_hist[s], 0, sizeof(g_hist[s]));
    g_hist_lost[s] = 0;
  }
  atomic_store(&g_mem_on, 1);
}

static void mem_stop(void) { atomic_store(&g_mem_on, 0); }

static int cmp_hist_bytes(const void *a, const void *b) {
  const hist_ent *x = a, *y = b;
  double bx = (double)x->size * (double)x->count;
  double by = (double)y->size * (double)y->count;
  return bx < by ? 1 : bx > by ? -1 : 0;
}

/* The allocations of one side while sessions were opened, per session,
 * largest total first (stderr). */
static void hist_note(int side, const char *who, unsigned sessions) {
  static hist_ent h[HIST_CAP];
  memcpy(h, g_hist[side], sizeof(h));
  qsort(h, HIST_CAP, sizeof(h[0]), cmp_hist_bytes);
  fprintf(stderr,
          "  %s allocations per session (requested size x count):", who);
  for (unsigned i = 0; i < 8 && h[i].count > 0; i++)
    fprintf(stderr, " %zu x %.2f;", h[i].size,
            (double)h[i].count / (double)sessions);
  fprintf(stderr, "%s\n", g_hist_lost[side] ? " (histogram overflowed)" : "");
}

/* ======================================================================== */
/* Configuration, CPUs, output                                              */
/* ======================================================================== */

typedef struct run_cfg {
  uint64_t min_run_ns; /* one timed block */
  unsigned reps;       /* blocks per side of a comparison */
  int quick;
  int rt;           /* SCHED_FIFO requested (NNRP_BENCH_RT=1) and granted */
  int ncpu;         /* CPUs this process may run on */
  int cpu_a, cpu_b; /* server CPU; second CPU for the two-core cases */
  cpu_set_t all;    /* the original affinity */
} run_cfg;

static int g_status; /* exit status: 1 once the library failed */

static int pin_cpu(int cpu) {
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET((size_t)cpu, &set);
  return pthread_setaffinity_np(pthread_self(), sizeof(set), &set);
}

static void unpin(const run_cfg *c) {
  (void)pthread_setaffinity_np(pthread_self(), sizeof(c->all), &c->all);
}

static void cfg_init(run_cfg *c) {
  c->quick = (int)bench_env_ul("NNRP_BENCH_QUICK", 0, 0, 1);
  c->min_run_ns = 1000000u * bench_env_ul("NNRP_BENCH_MIN_MS",
                                          c->quick ? 20 : 200, 1, 60000);
  c->reps = (unsigned)bench_env_ul("NNRP_BENCH_REPS", c->quick ? 1 : 5, 1, 100);
  c->rt = 0;
  if (bench_env_ul("NNRP_BENCH_RT", 0, 0, 1)) {
    /* Every thread created later inherits the policy: on a loaded machine
     * a woken bench thread then runs at once instead of waiting for the
     * time slice of whatever else runs on its CPU. */
    struct sched_param sp;
    memset(&sp, 0, sizeof(sp));
    sp.sched_priority = 10;
    if (pthread_setschedparam(pthread_self(), SCHED_FIFO, &sp) == 0)
      c->rt = 1;
    else
      fprintf(stderr, "bench session: SCHED_FIFO refused; normal policy\n");
  }
  CPU_ZERO(&c->all);
  (void)sched_getaffinity(0, sizeof(c->all), &c->all);
  c->ncpu = CPU_COUNT(&c->all);
  c->cpu_a = c->cpu_b = -1;
  for (int i = 0; i < CPU_SETSIZE; i++) {
    if (!CPU_ISSET((size_t)i, &c->all))
      continue;
    if (c->cpu_a < 0)
      c->cpu_a = i;
    else if (c->cpu_b < 0)
      c->cpu_b = i;
  }
}

/* One result line: the JSON of bench_emit() plus "cores". */
static void emit(const char *name, int cores, double value, const char *unit,
                 double baseline) {
  double ratio = NAN;
  if (isfinite(baseline) && baseline != 0.0)
    ratio = value / baseline;
  printf("{\"bench\": \"%s\", \"case\": \"%s\", \"value\": ", BENCH, name);
  bench_put_num(value);
  printf(", \"unit\": \"%s\", \"baseline\": ", unit);
  bench_put_num(baseline);
  fputs(", \"ratio\": ", stdout);
  bench_put_num(ratio);
  printf(", \"cores\": %d}\n", cores);
  fflush(stdout);
}

/* NNRP_BENCH_ONLY=a,b: only the cases whose name contains a or b (e.g.
 * "rtt_1k", "1core", "small", "idle_10000"). */
static int selected(const char *name) {
  const char *only = getenv("NNRP_BENCH_ONLY");
  if (only == NULL || *only == '\0')
    return 1;
  char buf[256];
  snprintf(buf, sizeof(buf), "%s", only);
  for (char *save = NULL, *t = strtok_r(buf, ",", &save); t != NULL;
       t = strtok_r(NULL, ",", &save))
    if (strstr(name, t) != NULL)
      return 1;
  return 0;
}

static void fail(const char *what, int rc) {
  fprintf(stderr, "bench session: %s failed: %s (%s)\n", what,
          rc < 0 ? nnrp_err_name(rc) : "system",
          rc < 0 ? nnrp_strerror(rc) : strerror(errno));
  g_status = 1;
}

static void sleep_ms(unsigned ms) {
  struct timespec ts = {(time_t)(ms / 1000u), (long)(ms % 1000u) * 1000000L};
  (void)nanosleep(&ts, NULL);
}

/* ======================================================================== */
/* The NNRP echo server (its own runtime in its own thread)                 */
/* ======================================================================== */

#define ECHO_CAP 16

typedef struct echo_srv {
  pthread_t th;
  int started; /* th is running (join it) */
  int cpu;     /* -1: not pinned */
  int side;    /* heap accounting tag of the thread */
  uint16_t window;
  uint16_t backlog;
  uint16_t port;
  nnrp_runtime *rt;
  atomic_int state; /* 0 starting, 1 listening, -1 failed */
  atomic_int stop;
  atomic_uint sessions;       /* handshakes completed */
  atomic_size_t submit_bytes; /* size of the last FRAME_SUBMIT */
  unsigned long refused;      /* answers that had to be drops */
  nnrp_section_data sections[ECHO_CAP];
  nnrp_bytes tiles[ECHO_CAP];
  uint8_t codecs[ECHO_CAP];
  uint16_t ids[ECHO_CAP];
  nnrp_typed_frame typed[ECHO_CAP];
} echo_srv;

/* The body of the submit goes back as the result, sent straight from the
 * received copy (the echo of examples/server.c). */
static void echo_on_submit(nnrp_server_session *ss,
                           const nnrp_received_submit *sub, void *user) {
  echo_srv *e = user;
  const nnrp_packet *p = sub->packet;
  atomic_store_explicit(&e->submit_bytes,
                        NNRP_HEADER_LEN + p->meta_raw.len + p->body_raw.len,
                        memory_order_relaxed);
  nnrp_body_storage st;
  memset(&st, 0, sizeof(st));
  st.sections = e->sections;
  st.sections_cap = ECHO_CAP;
  st.tiles = e->tiles;
  st.tiles_cap = ECHO_CAP;
  st.codecs = e->codecs;
  st.codecs_cap = ECHO_CAP;
  st.tile_ids = e->ids;
  st.tile_ids_cap = ECHO_CAP;
  st.typed = e->typed;
  st.typed_cap = ECHO_CAP;
  nnrp_result r;
  memset(&r, 0, sizeof(r));
  r.final = 1;
  if (nnrp_body_data_from_view(NNRP_MSG_FRAME_SUBMIT, &p->m, sub->body, &r.body,
                               &st) != 0 ||
      nnrp_server_session_send_result(ss, sub->frame_id, &r) < 0) {
    e->refused++;
    (void)nnrp_server_session_send_result_drop(ss, sub->frame_id, 0);
  }
}

static void echo_on_session(nnrp_server *srv, nnrp_server_session *ss,
                            void *user) {
  (void)srv;
  (void)ss;
  echo_srv *e = user;
  atomic_fetch_add(&e->sessions, 1u);
}

static void echo_on_event(nnrp_server_session *ss, const nnrp_event *ev,
                          void *user) {
  echo_srv *e = user;
  if (ev->type != NNRP_EV_CLOSED)
    return;
  nnrp_server_session_del(ss);
  if (atomic_load(&e->stop))
    nnrp_runtime_stop(e->rt);
}

static void *echo_main(void *arg) {
  echo_srv *e = arg;
  t_side = e->side;
  if (e->cpu >= 0)
    (void)pin_cpu(e->cpu);
  nnrp_server *srv = NULL;
  int rc = nnrp_runtime_new(&e->rt, NULL);
  if (rc == 0) {
    nnrp_server_profile profile;
    nnrp_server_profile_default(&profile);
    profile.max_concurrent_frames = e->window;
    /* NNRP_BENCH_HINTS=0: no automatic RESULT_HINTs (D21), to measure
     * what they cost; the default profile sends them. */
    profile.auto_result_hints =
        (uint8_t)bench_env_ul("NNRP_BENCH_HINTS", 1, 0, 1);
    profile.model_name.ptr = (const uint8_t *)"echo";
    profile.model_name.len = 4;
    nnrp_server_config cfg;
    nnrp_server_config_default(&cfg);
    cfg.host = HOST;
    cfg.port = 0;
    cfg.backlog = e->backlog;
    cfg.on_session = echo_on_session;
    cfg.on_submit = echo_on_submit;
    cfg.on_event = echo_on_event;
    cfg.user = e;
    rc = nnrp_serve_tcp(e->rt, &profile, &cfg, &srv);
  }
  if (rc != 0) {
    fail("nnrp_serve_tcp", rc);
    nnrp_runtime_del(e->rt);
    atomic_store(&e->state, -1);
    return NULL;
  }
  e->port = nnrp_server_port(srv);
  atomic_store(&e->state, 1);
  while (!atomic_load(&e->stop))
    (void)nnrp_runtime_run(e->rt, 100);
  nnrp_server_close(srv);
  nnrp_runtime_del(e->rt);
  return NULL;
}

static int echo_start(echo_srv *e, int cpu, int side, uint16_t window) {
  memset(e, 0, sizeof(*e));
  e->cpu = cpu;
  e->side = side;
  e->window = window;
  e->backlog = 4096;
  if (pthread_create(&e->th, NULL, echo_main, e) != 0)
    return -1;
  while (atomic_load(&e->state) == 0)
    sleep_ms(1);
  if (atomic_load(&e->state) < 0) {
    (void)pthread_join(e->th, NULL);
    return -1;
  }
  e->started = 1;
  return 0;
}

/* Set stop first, then close the clients: the CLOSED event (or the next
 * 100 ms slice) ends the server's loop. */
static void echo_join(echo_srv *e) {
  atomic_store(&e->stop, 1);
  (void)pthread_join(e->th, NULL);
}

/* ======================================================================== */
/* The NNRP client side                                                     */
/* ======================================================================== */

/* One frame: a single uint8 tile of side x side bytes in one section. */
typedef struct frame {
  uint8_t *payload;
  size_t len;
  nnrp_bytes tile;
  uint16_t tile_id;
  nnrp_section_data sec;
  nnrp_tensor_data tensor;
  nnrp_submit req;
} frame;

static int frame_init(frame *f, size_t len) {
  memset(f, 0, sizeof(*f));
  unsigned side = 1;
  while ((size_t)side * side < len)
    side++;
  f->payload = malloc(len);
  if (f->payload == NULL || (size_t)side * side != len)
    return -1;
  for (size_t i = 0; i < len; i++)
    f->payload[i] = (uint8_t)(i * 31u);
  f->len = len;
  f->tile.ptr = f->payload;
  f->tile.len = len;
  f->sec.role_id = 1;
  f->sec.dtype_id = NNRP_DTYPE_UINT8;
  f->sec.tiles = &f->tile;
  f->tensor.tile_index_mode = NNRP_TILE_INDEX_RAW_U16;
  f->tensor.tile_ids = &f->tile_id;
  f->tensor.tile_count = 1;
  f->tensor.sections = &f->sec;
  f->tensor.section_count = 1;
  f->req.meta.src_width = f->req.meta.tile_width = (uint16_t)side;
  f->req.meta.src_height = f->req.meta.tile_height = (uint16_t)side;
  f->req.meta.loss_tolerance_policy = NNRP_LOSS_TOLERANCE_INHERIT;
  f->req.body.tensor = &f->tensor;
  return 0;
}

static void frame_fini(frame *f) { free(f->payload); }

static int client_open(nnrp_runtime **rtp, nnrp_client_session **csp,
                       uint16_t port) {
  *csp = NULL;
  int rc = nnrp_runtime_new(rtp, NULL);
  if (rc != 0)
    return rc;
  nnrp_client_config cfg;
  nnrp_client_config_default(&cfg);
  cfg.host = HOST;
  cfg.port = port;
  return nnrp_dial_client(*rtp, NULL, NULL, &cfg, csp);
}

static void client_close(nnrp_runtime *rt, nnrp_client_session *cs) {
  if (cs != NULL) {
    (void)nnrp_client_session_close(cs, 2000);
    nnrp_client_session_del(cs);
  }
  nnrp_runtime_del(rt);
}

/* One blocking submit -> result; the size of the result packet in *rep. */
static int nnrp_round_trip(nnrp_client_session *cs, const frame *f,
                           size_t *rep) {
  nnrp_client_result *r = NULL;
  int rc = nnrp_client_session_submit(cs, &f->req, WAIT_MS, NULL, &r);
  if (rc != 0)
    return rc;
  if (r->kind != NNRP_RESULT_PUSH || r->packet->body_raw.len < f->len) {
    nnrp_client_result_free(r);
    return NNRP_ERR_INTERNAL;
  }
  if (rep)
    *rep = NNRP_HEADER_LEN + r->packet->meta_raw.len + r->packet->body_raw.len;
  nnrp_client_result_free(r);
  return 0;
}

/* n frames with the server's window full: submit while a slot is free,
 * else take one result (the load-generator pattern of runtime.md; asking
 * can_submit() first saves the zero-timeout loop iteration that a refused
 * submit_nowait(..., 0, ...) runs). */
static int nnrp_pipeline(nnrp_client_session *cs, const frame *f, uint64_t n,
                         uint32_t *max_in_flight) {
  uint64_t sent = 0, done = 0;
  while (done < n) {
    while (sent < n && nnrp_client_session_can_submit(cs)) {
      int rc = nnrp_client_session_submit_nowait(cs, &f->req, 0, NULL);
      if (rc == NNRP_ERR_WOULD_BLOCK)
        break;
      if (rc != 0)
        return rc;
      sent++;
    }
    uint32_t fl = nnrp_client_session_in_flight(cs);
    if (fl > *max_in_flight)
      *max_in_flight = fl;
    nnrp_client_result *r = NULL;
    int rc = nnrp_client_session_receive_result(cs, 0, WAIT_MS, &r);
    if (rc != 0)
      return rc;
    int ok = r->kind == NNRP_RESULT_PUSH;
    nnrp_client_result_free(r);
    if (!ok)
      return NNRP_ERR_INTERNAL;
    done++;
  }
  return 0;
}

/* ======================================================================== */
/* A comparison: NNRP and raw TCP over the same byte counts                 */
/* ======================================================================== */

typedef struct pair {
  const run_cfg *c;
  int cores;
  echo_srv e;
  raw_srv rs;
  nnrp_runtime *rt;
  nnrp_client_session *cs;
  frame f;
  size_t req_len, rep_len; /* NNRP packet sizes, used by raw too */
  int fd;
  uint8_t *raw_req, *raw_rep;
  size_t raw_rep_cap;
  uint32_t window;
  uint32_t max_in_flight;
} pair;

static void pair_close(pair *p) {
  if (p->fd >= 0) {
    close(p->fd);
    raw_srv_join(&p->rs);
  }
  atomic_store(&p->e.stop, 1); /* the client's close then ends the loop */
  if (p->rt)
    client_close(p->rt, p->cs);
  if (p->e.started) {
    echo_join(&p->e);
    if (p->e.refused)
      fprintf(stderr, "bench session: the echo server dropped %lu frames\n",
              p->e.refused);
  }
  frame_fini(&p->f);
  free(p->raw_req);
  free(p->raw_rep);
  unpin(p->c);
}

/* Starts both servers (pinned to cpu_a) and connects both clients from
 * this thread (pinned to cpu_a on one core, cpu_b on two). One round trip
 * gives the NNRP packet sizes, which the raw exchange then uses. */
static int pair_open(pair *p, const run_cfg *c, int cores, size_t payload,
                     uint32_t window) {
  memset(p, 0, sizeof(*p));
  p->c = c;
  p->cores = cores;
  p->fd = -1;
  p->window = window;
  int srv_cpu = c->cpu_a, cli_cpu = cores == 1 ? c->cpu_a : c->cpu_b;
  if (frame_init(&p->f, payload) != 0 ||
      echo_start(&p->e, srv_cpu, SIDE_OTHER, (uint16_t)window) != 0) {
    fail("setup", 0);
    return -1;
  }
  (void)pin_cpu(cli_cpu);
  int rc = client_open(&p->rt, &p->cs, p->e.port);
  if (rc == 0)
    rc = nnrp_round_trip(p->cs, &p->f, &p->rep_len);
  if (rc != 0) {
    fail("NNRP connect + first round trip", rc);
    return -1;
  }
  p->req_len = atomic_load(&p->e.submit_bytes);
  p->raw_req = calloc(1, p->req_len);
  p->raw_rep_cap =
      p->rep_len > ((size_t)1 << 20) ? p->rep_len : (size_t)1 << 20;
  p->raw_rep = malloc(p->raw_rep_cap);
  p->rs.cpu = srv_cpu;
  p->rs.req_len = p->req_len;
  p->rs.rep_len = p->rep_len;
  p->rs.pin = pin_cpu;
  if (p->raw_req == NULL || p->raw_rep == NULL || raw_srv_start(&p->rs) != 0) {
    fail("raw server", 0);
    return -1;
  }
  p->fd = raw_connect(p->rs.port);
  if (p->fd < 0) {
    fail("raw connect", 0);
    (void)shutdown(p->rs.lfd, SHUT_RDWR); /* wakes accept() */
    raw_srv_join(&p->rs);
    return -1;
  }
  memcpy(p->raw_req, p->f.payload,
         p->req_len < p->f.len ? p->req_len : p->f.len);
  return 0;
}

/* ---- latency ------------------------------------------------------------- */

typedef struct samples {
  uint64_t *v;
  size_t n, cap;
} samples;

static int cmp_u64(const void *a, const void *b) {
  uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
  return x < y ? -1 : x > y;
}

static double pct_us(samples *s, double q) {
  if (s->n == 0)
    return NAN;
  return (double)s->v[(size_t)((double)(s->n - 1) * q)] / 1000.0;
}

/* Round trips for dur ns (NNRP when raw is 0); s NULL: warm-up only. */
static int rtt_block(pair *p, int raw, uint64_t dur, samples *s) {
  uint64_t start = bench_now_ns(), t0 = start;
  do {
    int rc = raw ? raw_round_trip(p->fd, p->raw_req, p->req_len, p->raw_rep,
                                  p->rep_len)
                 : nnrp_round_trip(p->cs, &p->f, NULL);
    uint64_t t1 = bench_now_ns();
    if (rc != 0) {
      fail(raw ? "raw round trip" : "NNRP round trip", raw ? 0 : rc);
      return -1;
    }
    if (s != NULL && s->n < s->cap)
      s->v[s->n++] = t1 - t0;
    t0 = t1;
  } while (t0 - start < dur && (s == NULL || s->n < s->cap));
  return 0;
}

static const char *size_label(size_t payload) {
  return payload >= ((size_t)1 << 20) ? "1m"
         : payload >= 65536u          ? "64k"
         : payload >= 1024u           ? "1k"
                                      : "64b";
}

static void rtt_report(const pair *p, size_t payload, samples *sn,
                       samples *sr) {
  qsort(sn->v, sn->n, sizeof(uint64_t), cmp_u64);
  qsort(sr->v, sr->n, sizeof(uint64_t), cmp_u64);
  char name[64];
  double n50 = pct_us(sn, 0.5), r50 = pct_us(sr, 0.5);
  snprintf(name, sizeof(name), "rtt_%s_%dcore_p50", size_label(payload),
           p->cores);
  emit(name, p->cores, n50, "us", r50);
  snprintf(name, sizeof(name), "rtt_%s_%dcore_p99", size_label(payload),
           p->cores);
  emit(name, p->cores, pct_us(sn, 0.99), "us", pct_us(sr, 0.99));
  double target = p->cores == 1 ? 1.5 : 1.1;
  fprintf(stderr,
          "  rtt %s %d core(s): FRAME_SUBMIT %zu B, RESULT_PUSH %zu B; "
          "%zu NNRP / %zu raw samples; p50 %.1f / %.1f us = %.2fx "
          "(target <= %.1fx: %s)\n",
          size_label(payload), p->cores, p->req_len, p->rep_len, sn->n, sr->n,
          n50, r50, n50 / r50, target, n50 / r50 <= target ? "met" : "MISSED");
}

/* Case 1: blocks of NNRP and raw round trips alternate, so both see the
 * same machine load; percentiles over all blocks of each. */
static void rtt_case(const run_cfg *c, int cores, size_t payload) {
  pair p;
  samples sn = {NULL, 0, (size_t)1 << 20}, sr = {NULL, 0, (size_t)1 << 20};
  if (pair_open(&p, c, cores, payload, 1) != 0)
    goto out;
  sn.v = malloc(sn.cap * sizeof(uint64_t));
  sr.v = malloc(sr.cap * sizeof(uint64_t));
  if (sn.v == NULL || sr.v == NULL)
    goto out;
  if (rtt_block(&p, 0, c->min_run_ns / 4, NULL) != 0 ||
      rtt_block(&p, 1, c->min_run_ns / 4, NULL) != 0)
    goto out;
  for (unsigned r = 0; r < c->reps; r++)
    if (rtt_block(&p, 0, c->min_run_ns, &sn) != 0 ||
        rtt_block(&p, 1, c->min_run_ns, &sr) != 0)
      goto out;
  rtt_report(&p, payload, &sn, &sr);
out:
  free(sn.v);
  free(sr.v);
  pair_close(&p);
}

/* ---- throughput ---------------------------------------------------------- */

static int run_n(pair *p, int raw, uint64_t n) {
  int rc = raw ? raw_pipeline(p->fd, p->raw_req, p->req_len, p->rep_len,
                              p->window, n, p->raw_rep, p->raw_rep_cap)
               : nnrp_pipeline(p->cs, &p->f, n, &p->max_in_flight);
  if (rc != 0)
    fail(raw ? "raw pipeline" : "NNRP pipeline", raw ? 0 : rc);
  return rc;
}

/* As bench_measure(): grows n until one run lasts >= 10 ms, then scales it
 * to about min_run_ns. 0 on failure. */
static uint64_t calibrate(pair *p, int raw) {
  uint64_t n = 1, t = 0;
  for (;;) {
    uint64_t t0 = bench_now_ns();
    if (run_n(p, raw, n) != 0)
      return 0;
    t = bench_now_ns() - t0;
    if (t >= 10000000u || n >= (UINT64_C(1) << 32))
      break;
    n *= t < 1000000u ? 10u : 2u;
  }
  double scale = (double)p->c->min_run_ns / (double)(t ? t : 1);
  return scale > 1.0 ? (uint64_t)((double)n * scale) + 1u : n;
}

/* Cases 2 and 3: frames/s of NNRP and raw TCP with `window` in flight;
 * runs alternate, best of reps each. */
static void pipe_case(const run_cfg *c, int cores, size_t payload,
                      uint32_t window, const char *unit) {
  pair p;
  if (pair_open(&p, c, cores, payload, window) != 0 ||
      raw_set_nonblock(p.fd, 1) != 0)
    goto out;
  uint64_t nn = calibrate(&p, 0), nr = calibrate(&p, 1);
  if (nn == 0 || nr == 0)
    goto out;
  double bn = INFINITY, br = INFINITY;
  for (unsigned r = 0; r < c->reps; r++) {
    uint64_t t0 = bench_now_ns();
    if (run_n(&p, 0, nn) != 0)
      goto out;
    uint64_t t1 = bench_now_ns();
    if (run_n(&p, 1, nr) != 0)
      goto out;
    uint64_t t2 = bench_now_ns();
    double a = (double)(t1 - t0) / (double)nn,
           b = (double)(t2 - t1) / (double)nr;
    bn = a < bn ? a : bn;
    br = b < br ? b : br;
  }
  char name[64];
  snprintf(name, sizeof(name), "%s_%s_w%u_%dcore",
           payload >= 4096u ? "pipelined" : "small", size_label(payload),
           (unsigned)window, cores);
  emit(name, cores, 1e9 / bn, unit, 1e9 / br);
  double ratio = br / bn;
  fprintf(stderr,
          "  %s: FRAME_SUBMIT %zu B, RESULT_PUSH %zu B, max in flight %u; "
          "%.0f vs %.0f per s = %.2fx raw%s\n",
          name, p.req_len, p.rep_len, (unsigned)p.max_in_flight, 1e9 / bn,
          1e9 / br, ratio,
          payload >= 4096u ? (ratio >= 0.85 ? " (target >= 0.85: met)"
                                            : " (target >= 0.85: MISSED)")
                           : "");
out:
  pair_close(&p);
}

/* ======================================================================== */
/* Case 4: memory of idle sessions                                          */
/* ======================================================================== */

/* The server (one runtime in one thread) stays in this process; the clients
 * (one runtime) run in a forked child, so each process holds one end of
 * every connection: 10,000 sessions need 10,000 descriptors per process,
 * not 20,000. Each process counts its own heap (server and client side). */

typedef struct dial_count {
  unsigned ok, failed;
  int first_err;
} dial_count;

/* What the client process reports back through a pipe. */
typedef struct idle_report {
  dial_count d;
  uint64_t t_dial; /* ns to establish every session; 0: stalled */
  int64_t bytes;   /* client heap added by the sessions */
  long rss_kib;    /* client RSS growth */
} idle_report;

static void on_connected(nnrp_client_session *cs, int status, void *user) {
  (void)cs;
  dial_count *d = user;
  if (status == 0) {
    d->ok++;
  } else {
    d->failed++;
    if (d->first_err == 0)
      d->first_err = status;
  }
}

/* Raises RLIMIT_NOFILE to fit `want` sessions (one descriptor each per
 * process, plus a margin). @return the sessions that fit. */
static unsigned raise_nofile(unsigned want) {
  rlim_t need = (rlim_t)want + 64u;
  struct rlimit rl;
  if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
    return 0;
  if (rl.rlim_cur >= need)
    return want;
  struct rlimit nr = rl;
  nr.rlim_cur = need;
  if (nr.rlim_max != RLIM_INFINITY && nr.rlim_max < need)
    nr.rlim_max = need;
  if (setrlimit(RLIMIT_NOFILE, &nr) == 0)
    return want;
  int err = errno;
  nr.rlim_cur = rl.rlim_max; /* at least up to the hard limit */
  nr.rlim_max = rl.rlim_max;
  (void)setrlimit(RLIMIT_NOFILE, &nr);
  (void)getrlimit(RLIMIT_NOFILE, &rl);
  unsigned fit = rl.rlim_cur > 64u ? (unsigned)(rl.rlim_cur - 64u) : 0;
  fprintf(stderr,
          "  RLIMIT_NOFILE could not be raised to %llu (%s); hard limit "
          "%llu: %u sessions fit\n",
          (unsigned long long)need, strerror(err),
          (unsigned long long)rl.rlim_max, fit);
  return fit < want ? fit : want;
}

static long rss_kib(void) {
  FILE *f = fopen("/proc/self/statm", "r");
  long pages = 0, res = 0;
  if (f == NULL)
    return -1;
  if (fscanf(f, "%ld %ld", &pages, &res) != 2)
    res = -1;
  fclose(f);
  return res < 0 ? -1 : res * (sysconf(_SC_PAGESIZE) / 1024);
}

#define DIAL_WAVE 500u

/* Opens n sessions from this thread's runtime, DIAL_WAVE connects at a
 * time (event-driven dial). @return ns taken, 0 on a stall. */
static uint64_t dial_all(nnrp_runtime *rt, nnrp_client_session **cs, unsigned n,
                         uint16_t port, dial_count *d) {
  nnrp_client_config cfg;
  nnrp_client_config_default(&cfg);
  cfg.host = HOST;
  cfg.port = port;
  cfg.on_connected = on_connected;
  cfg.user = d;
  uint64_t t0 = bench_now_ns();
  for (unsigned i = 0; i < n;) {
    unsigned end = n - i < DIAL_WAVE ? n : i + DIAL_WAVE;
    for (; i < end; i++) {
      int rc = nnrp_dial_client_start(rt, NULL, NULL, &cfg, &cs[i]);
      if (rc != 0) {
        cs[i] = NULL;
        on_connected(NULL, rc, d);
      }
    }
    uint64_t stall = bench_now_ns() + 30000000000u;
    while (d->ok + d->failed < end) {
      (void)nnrp_runtime_run_once(rt, 100);
      if (bench_now_ns() > stall)
        return 0;
    }
  }
  return bench_now_ns() - t0;
}

/* The client process: reads the port, opens n sessions, reports, keeps
 * them open until the parent is done (a byte or EOF on rfd). */
static void idle_client(int cpu, int rfd, int wfd, unsigned n) {
  uint16_t port = 0;
  idle_report rep;
  memset(&rep, 0, sizeof(rep));
  if (raw_read_full(rfd, (uint8_t *)&port, sizeof(port)) != 0)
    _exit(1);
  if (cpu >= 0)
    (void)pin_cpu(cpu);
  nnrp_runtime *rt = NULL;
  nnrp_client_session **cs = calloc(n ? n : 1, sizeof(*cs));
  if (cs == NULL || nnrp_runtime_new(&rt, NULL) != 0)
    _exit(1);
  long rss0 = rss_kib();
  t_side = SIDE_CLIENT;
  mem_start();
  rep.t_dial = dial_all(rt, cs, n, port, &rep.d);
  rep.bytes = atomic_load(&g_live[SIDE_CLIENT]);
  mem_stop();
  t_side = SIDE_OTHER;
  rep.rss_kib = rss_kib() - rss0;
  hist_note(SIDE_CLIENT, "client", rep.d.ok ? rep.d.ok : 1);
  if (raw_write_full(wfd, (const uint8_t *)&rep, sizeof(rep)) != 0)
    _exit(1);
  uint8_t done;
  (void)raw_read_full(rfd, &done, 1);
  nnrp_runtime_del(rt);
  _exit(0);
}

static void idle_report_emit(unsigned want, unsigned n, const idle_report *r,
                             int64_t srv, long srv_rss_kib, int cores) {
  char name[80];
  double ok = r->d.ok ? (double)r->d.ok : 1.0;
  double t = r->t_dial ? (double)r->t_dial : NAN;
  snprintf(name, sizeof(name), "idle_%u_sessions", want);
  emit(name, cores, (double)r->d.ok, "sessions", (double)want);
  snprintf(name, sizeof(name), "idle_%u_server_bytes_per_session", want);
  emit(name, cores, (double)srv / ok, "B", NAN);
  snprintf(name, sizeof(name), "idle_%u_client_bytes_per_session", want);
  emit(name, cores, (double)r->bytes / ok, "B", NAN);
  snprintf(name, sizeof(name), "idle_%u_server_bytes_total", want);
  emit(name, cores, (double)srv, "B", NAN);
  snprintf(name, sizeof(name), "idle_%u_establish", want);
  emit(name, cores, t / 1e6, "ms", NAN);
  fprintf(stderr,
          "  idle %u: %u of %u sessions (%u failed%s%s), established in %.0f "
          "ms (%.0f sessions/s); server %.0f B/session (target <= 16384: "
          "%s), client %.0f B/session; RSS growth per session: server "
          "%.0f B, client %.0f B\n",
          want, r->d.ok, n, r->d.failed, r->d.first_err ? ", first error " : "",
          r->d.first_err ? nnrp_err_name(r->d.first_err) : "", t / 1e6,
          ok * 1e9 / t, (double)srv / ok,
          (double)srv / ok <= 16384.0 ? "met" : "MISSED", (double)r->bytes / ok,
          (double)srv_rss_kib * 1024.0 / ok, (double)r->rss_kib * 1024.0 / ok);
}

/* Server side of case 4, in this process (server thread on cpu_a); the
 * clients in a child on cpu_b. The server's heap counter starts after its
 * runtime and listener exist, so the figure is what the sessions added. */
static void idle_case(const run_cfg *c, unsigned want) {
  if (!BENCH_MEM) {
    fprintf(stderr, "  idle sessions: skipped (malloc is not interposed)\n");
    return;
  }
  unsigned n = raise_nofile(want);
  int cores = c->cpu_b >= 0 ? 2 : 1;
  int p2c[2], c2p[2];
  if (pipe(p2c) != 0 || pipe(c2p) != 0) {
    fail("pipe", 0);
    return;
  }
  fflush(NULL);
  pid_t pid = fork();
  if (pid == 0) {
    close(p2c[1]);
    close(c2p[0]);
    idle_client(cores == 2 ? c->cpu_b : c->cpu_a, p2c[0], c2p[1], n);
  }
  close(p2c[0]);
  close(c2p[1]);
  echo_srv e;
  idle_report rep;
  if (pid < 0 || echo_start(&e, c->cpu_a, SIDE_SERVER, 1) != 0) {
    fail("idle setup", 0);
    goto out;
  }
  long rss0 = rss_kib();
  mem_start();
  if (raw_write_full(p2c[1], (const uint8_t *)&e.port, sizeof(e.port)) != 0 ||
      raw_read_full(c2p[0], (uint8_t *)&rep, sizeof(rep)) != 0) {
    mem_stop();
    fail("idle client process", 0);
    echo_join(&e);
    goto out;
  }
  for (int i = 0; i < 10000 && atomic_load(&e.sessions) < rep.d.ok; i++)
    sleep_ms(1);
  sleep_ms(20); /* let the server settle */
  int64_t srv = atomic_load(&g_live[SIDE_SERVER]);
  mem_stop();
  long srv_rss = rss_kib() - rss0;
  if (rep.t_dial == 0)
    fprintf(stderr, "  idle %u: dialing stalled\n", want);
  idle_report_emit(want, n, &rep, srv, srv_rss, cores);
  hist_note(SIDE_SERVER, "server", rep.d.ok ? rep.d.ok : 1);
  /* Server first: its sockets take the TIME_WAIT states, so reruns do not
   * run out of client ports. */
  echo_join(&e);
out:
  close(p2c[1]); /* EOF: the client process closes its sessions */
  close(c2p[0]);
  if (pid > 0)
    (void)waitpid(pid, NULL, 0);
}

/* ======================================================================== */

static void machine_note(const run_cfg *c) {
  char load[64] = "?";
  FILE *f = fopen("/proc/loadavg", "r");
  if (f != NULL) {
    if (fgets(load, sizeof(load), f) == NULL)
      strcpy(load, "?");
    fclose(f);
    load[strcspn(load, "\n")] = '\0';
  }
  fprintf(stderr,
          "bench session: %d CPU(s) usable (server on CPU %d, second CPU %d), "
          "%llu ms blocks x %u, %s, RESULT_HINTs %s, loadavg %s%s\n",
          c->ncpu, c->cpu_a, c->cpu_b,
          (unsigned long long)(c->min_run_ns / 1000000u), c->reps,
          c->rt ? "SCHED_FIFO 10" : "SCHED_OTHER",
          bench_env_ul("NNRP_BENCH_HINTS", 1, 0, 1) ? "on" : "off", load,
          c->quick ? " (quick)" : "");
}

int main(void) {
  run_cfg c;
  cfg_init(&c);
  machine_note(&c);
  static const size_t rtt_sizes[] = {1024u, 65536u, (size_t)1 << 20};
  char name[64];
  for (int cores = 1; cores <= 2; cores++) {
    if (cores == 2 && c.cpu_b < 0) {
      fprintf(stderr, "  two-core cases skipped: one CPU usable\n");
      break;
    }
    fprintf(stderr, "-- %d core(s)\n", cores);
    for (size_t i = 0; i < sizeof(rtt_sizes) / sizeof(rtt_sizes[0]); i++) {
      snprintf(name, sizeof(name), "rtt_%s_%dcore", size_label(rtt_sizes[i]),
               cores);
      if (selected(name))
        rtt_case(&c, cores, rtt_sizes[i]);
    }
    snprintf(name, sizeof(name), "pipelined_64k_w32_%dcore", cores);
    if (selected(name))
      pipe_case(&c, cores, 65536u, 32u, "frames/s");
    snprintf(name, sizeof(name), "small_64b_w256_%dcore", cores);
    if (selected(name))
      pipe_case(&c, cores, 64u, 256u, "round trips/s");
  }
  fprintf(stderr, "-- idle sessions\n");
  static const unsigned idle_n[2][2] = {{256u, 10000u}, {64u, 1000u}};
  for (int i = 0; i < 2; i++) {
    snprintf(name, sizeof(name), "idle_%u", idle_n[c.quick][i]);
    if (selected(name))
      idle_case(&c, idle_n[c.quick][i]);
  }
  return g_status;
}
