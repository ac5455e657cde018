/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cache.c - benchmark of the session object cache over loopback TCP
 * (`scripts/bench cache`): a FRAME_SUBMIT whose camera block and section
 * table are referenced from the cache (MIXED, wire.md §9.6, session.md §9)
 * against the same frame sent INLINE, side by side: bytes on the wire per
 * frame, round trip p50 / p99, pipelined frames/s (32 in flight) and the
 * one-time cost of the CACHE_PUTs. See docs/benchmarks.md, "Cases of
 * bench_cache".
 */
#define _GNU_SOURCE /* pthread_setaffinity_np */

#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <nnrp/nnrp_runtime.h>

#include "bench_util.h"

#define BENCH "cache"
#define HOST "127.0.0.1"
#define WAIT_MS 10000    /* bound of every blocking call: a hang is an error */
#define WINDOW 32        /* server max_concurrent_frames = frames in flight */
#define CAMERA_BYTES 192 /* as the golden metadata.frame_submit.mixed */
#define TILES 84         /* tile_count of that vector */
#define GRID_TILES 240   /* 640 x 360 in 32 x 32 tiles: 20 x 12 */
#define MAX_SECT 16      /* the server's default max_sections */
#define CACHE_NS 7u      /* cache namespace of every object */
#define FNV_OFF UINT64_C(0xcbf29ce484222325)
#define FNV_PRIME UINT64_C(0x100000001b3)

/* ======================================================================== */
/* Configuration                                                            */
/* ======================================================================== */

typedef struct run_cfg {
  uint64_t min_run_ns; /* one pipelined run */
  unsigned reps;       /* pipelined runs per form */
  unsigned rtt_n;      /* round trips per form and shape */
  unsigned put_n;      /* put rounds per shape (fresh keys each) */
  unsigned warm_n;     /* round trips per form before measuring */
  int quick;
  int rt;           /* SCHED_FIFO requested and granted */
  int cores;        /* 1: both threads on one CPU; 2: one CPU each */
  int cpu_a, cpu_b; /* client CPU, server CPU */
} run_cfg;

static atomic_int g_status; /* exit status: 1 once the library failed */

static void fail(const char *what, int rc) {
  fprintf(stderr, "bench cache: %s failed: %s (%s)\n", what, nnrp_err_name(rc),
          nnrp_strerror(rc));
  g_status = 1;
}

static int pin_cpu(int cpu) {
  if (cpu < 0)
    return 0;
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET((size_t)cpu, &set);
  return pthread_setaffinity_np(pthread_self(), sizeof(set), &set);
}

static void cfg_init(run_cfg *c) {
  memset(c, 0, sizeof(*c));
  c->quick = (int)bench_env_ul("NNRP_BENCH_QUICK", 0, 0, 1);
  c->min_run_ns = 1000000u * bench_env_ul("NNRP_BENCH_MIN_MS",
                                          c->quick ? 20 : 200, 1, 60000);
  c->reps = (unsigned)bench_env_ul("NNRP_BENCH_REPS", c->quick ? 1 : 5, 1, 100);
  c->rtt_n = c->quick ? 200u : 4000u;
  c->put_n = c->quick ? 3u : 20u;
  c->warm_n = c->quick ? 10u : 100u;
  c->cores = (int)bench_env_ul("NNRP_BENCH_CORES", 1, 1, 2);
  if (bench_env_ul("NNRP_BENCH_RT", 0, 0, 1)) {
    /* Inherited by the server thread: a woken bench thread runs at once
     * instead of waiting for the time slice of other jobs on its CPU. */
    struct sched_param sp;
    memset(&sp, 0, sizeof(sp));
    sp.sched_priority = 10;
    if (pthread_setschedparam(pthread_self(), SCHED_FIFO, &sp) == 0)
      c->rt = 1;
    else
      fprintf(stderr, "bench cache: SCHED_FIFO refused; normal policy\n");
  }
  cpu_set_t all;
  CPU_ZERO(&all);
  c->cpu_a = c->cpu_b = -1;
  if (sched_getaffinity(0, sizeof(all), &all) != 0)
    return;
  for (int i = 0; i < CPU_SETSIZE; i++) {
    if (!CPU_ISSET((size_t)i, &all))
      continue;
    if (c->cpu_a < 0)
      c->cpu_a = i;
    else if (c->cpu_b < 0)
      c->cpu_b = i;
  }
  if (c->cores == 2 && c->cpu_b < 0) {
    fprintf(stderr, "bench cache: one CPU only; NNRP_BENCH_CORES=2 ignored\n");
    c->cores = 1;
  }
  if (c->cores == 1)
    c->cpu_b = c->cpu_a;
}

/* NNRP_BENCH_ONLY=a,b: only the shapes whose name contains a or b. */
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

static void sleep_ms(unsigned ms) {
  struct timespec ts = {(time_t)(ms / 1000u), (long)(ms % 1000u) * 1000000L};
  (void)nanosleep(&ts, NULL);
}

/* ======================================================================== */
/* Frame digest: what the server read, compared with what the client sent   */
/* ======================================================================== */

static uint64_t mix(uint64_t h, uint64_t v) { return (h ^ v) * FNV_PRIME; }

/* A tile counts with its length and its first and last byte: the handler
 * touches every tile view (and so the resolved table) without hashing the
 * payload, which would add the same per-byte cost to both forms. */
static uint64_t mix_tile(uint64_t h, nnrp_bytes t) {
  h = mix(h, t.len);
  if (t.len > 0)
    h = mix(mix(h, t.ptr[0]), t.ptr[t.len - 1]);
  return h;
}

static uint64_t mix_bytes(uint64_t h, nnrp_bytes b) {
  h = mix(h, b.len);
  for (size_t i = 0; i < b.len; i++)
    h = mix(h, b.ptr[i]);
  return h;
}

/* The server's reading of a submit, inline or resolved: camera block, tile
 * ids, and every section's role and tiles (nnrp_received_submit_object /
 * _tensor, session.md §9.5 rule 4). @return 0, or -1 if a view is
 * missing. */
static int submit_digest(const nnrp_received_submit *sub, uint64_t *out) {
  nnrp_bytes cam;
  nnrp_tensor_view tv;
  if (nnrp_received_submit_object(sub, NNRP_OBJECT_CAMERA_BLOCK, &cam) != 0 ||
      nnrp_received_submit_tensor(sub, &tv) != 0)
    return -1;
  uint64_t h = mix_bytes(FNV_OFF, cam);
  nnrp_tile_iter ti;
  uint32_t id;
  nnrp_tile_iter_init(&ti, &tv.tiles);
  while (nnrp_tile_iter_next(&ti, &id))
    h = mix(h, id);
  nnrp_section_iter si;
  nnrp_section_view sv;
  nnrp_section_iter_init(&si, &tv);
  while (nnrp_section_iter_next(&si, &sv)) {
    h = mix(h, sv.desc.role_id);
    nnrp_tile_data_iter di;
    nnrp_bytes tile;
    nnrp_tile_data_iter_init(&di, &sv);
    while (nnrp_tile_data_iter_next(&di, &tile, NULL))
      h = mix_tile(h, tile);
  }
  *out = h;
  return 0;
}

/* ======================================================================== */
/* The server: its own runtime in its own thread                            */
/* ======================================================================== */

typedef struct server {
  pthread_t th;
  int cpu;
  uint16_t port;
  nnrp_runtime *rt;
  atomic_int state; /* 0 starting, 1 listening, -1 failed */
  atomic_int stop;
  _Atomic uint64_t expect;  /* digest of the frame the client sends */
  atomic_size_t last_bytes; /* size of the last FRAME_SUBMIT received */
  atomic_ulong submits;     /* FRAME_SUBMITs delivered */
  atomic_ulong resolved;    /* of them with objects from the cache */
  atomic_ulong bad;         /* digest mismatch or send failure: dropped */
} server;

/* Reads the (resolved) frame, then answers with a small RESULT_PUSH: no
 * tensor, empty legacy body (104 bytes). A frame that does not read back as
 * the client built it is dropped, which fails the client's measurement. */
static void srv_on_submit(nnrp_server_session *ss,
                          const nnrp_received_submit *sub, void *user) {
  server *s = user;
  const nnrp_packet *p = sub->packet;
  atomic_store(&s->last_bytes,
               NNRP_HEADER_LEN + p->meta_raw.len + p->body_raw.len);
  atomic_fetch_add(&s->submits, 1ul);
  if (sub->resolved_count > 0)
    atomic_fetch_add(&s->resolved, 1ul);
  uint64_t d = 0;
  nnrp_result r;
  memset(&r, 0, sizeof(r));
  r.final = 1;
  if (submit_digest(sub, &d) != 0 || d != atomic_load(&s->expect) ||
      nnrp_server_session_send_result(ss, sub->frame_id, &r) <= 0) {
    atomic_fetch_add(&s->bad, 1ul);
    (void)nnrp_server_session_send_result_drop(ss, sub->frame_id, 0);
  }
}

static void srv_on_session(nnrp_server *srv, nnrp_server_session *ss,
                           void *user) {
  (void)srv;
  (void)ss;
  (void)user;
}

static void srv_on_event(nnrp_server_session *ss, const nnrp_event *ev,
                         void *user) {
  server *s = user;
  if (ev->type != NNRP_EV_CLOSED)
    return;
  nnrp_server_session_del(ss);
  if (atomic_load(&s->stop))
    nnrp_runtime_stop(s->rt);
}

static int srv_listen(server *s, nnrp_server **out) {
  nnrp_server_profile profile;
  nnrp_server_profile_default(&profile);
  profile.max_concurrent_frames = WINDOW;
  profile.enable_cache = 1;
  profile.max_cache_entries = 1024;
  profile.max_cache_bytes = 64u << 20;
  profile.model_name.ptr = (const uint8_t *)"cache-bench";
  profile.model_name.len = 11;
  nnrp_server_config cfg;
  nnrp_server_config_default(&cfg);
  cfg.host = HOST;
  cfg.port = 0;
  cfg.on_session = srv_on_session;
  cfg.on_submit = srv_on_submit;
  cfg.on_event = srv_on_event;
  cfg.user = s;
  return nnrp_serve_tcp(s->rt, &profile, &cfg, out);
}

static void *srv_main(void *arg) {
  server *s = arg;
  (void)pin_cpu(s->cpu);
  nnrp_server *srv = NULL;
  int rc = nnrp_runtime_new(&s->rt, NULL);
  if (rc == 0)
    rc = srv_listen(s, &srv);
  if (rc != 0) {
    fail("nnrp_serve_tcp", rc);
    nnrp_runtime_del(s->rt);
    atomic_store(&s->state, -1);
    return NULL;
  }
  s->port = nnrp_server_port(srv);
  atomic_store(&s->state, 1);
  while (!atomic_load(&s->stop))
    (void)nnrp_runtime_run(s->rt, 100);
  nnrp_server_close(srv);
  nnrp_runtime_del(s->rt);
  return NULL;
}

static int srv_start(server *s, int cpu) {
  memset(s, 0, sizeof(*s));
  s->cpu = cpu;
  if (pthread_create(&s->th, NULL, srv_main, s) != 0)
    return -1;
  while (atomic_load(&s->state) == 0)
    sleep_ms(1);
  if (atomic_load(&s->state) < 0) {
    (void)pthread_join(s->th, NULL);
    return -1;
  }
  return 0;
}

/* ======================================================================== */
/* Frames of one shape, inline and cache form                               */
/* ======================================================================== */

/* A frame: camera block, 84 RAW_U16 tile ids (inline in both forms) and a
 * section table of `sections` sections x 84 tiles of tile_bytes each. The
 * cache form references the camera block, and the section table too when
 * ref_table is 1 (else the table stays inline in both forms). */
typedef struct shape_def {
  const char *name;
  uint16_t sections;
  uint32_t tile_bytes;
  int ref_table;
} shape_def;

static const shape_def k_shapes[] = {
    {"cam192_only", 1, 8, 0},        /* table 1040 B, stays inline */
    {"cam192_sect16k", 8, 20, 1},    /* table 16 384 B */
    {"cam192_sect256k", 16, 190, 1}, /* table 261 248 B */
};

typedef struct shape {
  const shape_def *def;
  uint8_t camera[CAMERA_BYTES];
  uint16_t ids[TILES];
  uint8_t *tile_data; /* sections x TILES x tile_bytes */
  nnrp_bytes tiles[MAX_SECT][TILES];
  nnrp_section_data sec[MAX_SECT];
  nnrp_tensor_data t_inline, t_cache;
  nnrp_object_ref refs[2];
  nnrp_submit req_inline, req_cache;
  uint8_t *table; /* the TENSOR_SECTION_TABLE object (wire.md §9.2) */
  size_t table_len;
  size_t bytes_inline, bytes_cache; /* FRAME_SUBMIT packet sizes */
  uint64_t digest;
} shape;

static void meta_init(nnrp_frame_submit *m, uint8_t mode) {
  memset(m, 0, sizeof(*m));
  m->src_width = 640; /* dimensions of metadata.frame_submit.mixed */
  m->src_height = 360;
  m->tile_width = 32;
  m->tile_height = 32;
  m->frame_class = 1;
  m->input_profile = 2;
  m->target_fps_x100 = 6000;
  m->submit_mode = mode;
  m->loss_tolerance_policy = NNRP_LOSS_TOLERANCE_INHERIT;
}

/* Fills the content and both requests (the cache form's references are set
 * by shape_put, once the keys exist). */
static int shape_init(shape *s, const shape_def *def) {
  s->def = def;
  for (size_t i = 0; i < CAMERA_BYTES; i++)
    s->camera[i] = (uint8_t)(i * 37u + 11u);
  for (unsigned i = 0; i < TILES; i++)
    s->ids[i] = (uint16_t)(i * GRID_TILES / TILES);
  size_t per_sect = (size_t)TILES * def->tile_bytes;
  s->tile_data = malloc(per_sect * def->sections);
  if (s->tile_data == NULL)
    return NNRP_ERR_NOMEM;
  for (size_t i = 0; i < per_sect * def->sections; i++)
    s->tile_data[i] = (uint8_t)(i * 131u + 7u);
  uint64_t h = mix_bytes(FNV_OFF, (nnrp_bytes){s->camera, CAMERA_BYTES});
  for (unsigned i = 0; i < TILES; i++)
    h = mix(h, s->ids[i]);
  for (uint16_t k = 0; k < def->sections; k++) {
    nnrp_section_data *sd = &s->sec[k];
    sd->role_id = (uint16_t)(k + 1);
    sd->dtype_id = NNRP_DTYPE_UINT8;
    sd->element_count_per_tile = def->tile_bytes;
    sd->tiles = s->tiles[k];
    h = mix(h, sd->role_id);
    for (unsigned i = 0; i < TILES; i++) {
      s->tiles[k][i].ptr = s->tile_data + k * per_sect + i * def->tile_bytes;
      s->tiles[k][i].len = def->tile_bytes;
      h = mix_tile(h, s->tiles[k][i]);
    }
  }
  s->digest = h;
  nnrp_tensor_data *t = &s->t_inline;
  t->camera = (nnrp_bytes){s->camera, CAMERA_BYTES};
  t->tile_index_mode = NNRP_TILE_INDEX_RAW_U16;
  t->tile_ids = s->ids;
  t->tile_count = TILES;
  t->sections = s->sec;
  t->section_count = def->sections;
  s->t_cache = *t;
  s->t_cache.camera = (nnrp_bytes){NULL, 0};
  if (def->ref_table)
    s->t_cache.sections = NULL; /* section_count stays: from the cache */
  meta_init(&s->req_inline.meta, NNRP_SUBMIT_MODE_INLINE);
  s->req_inline.body.tensor = &s->t_inline;
  meta_init(&s->req_cache.meta, NNRP_SUBMIT_MODE_MIXED);
  s->req_cache.body.tensor = &s->t_cache;
  s->req_cache.body.refs = s->refs;
  s->req_cache.body.ref_count = def->ref_table ? 2u : 1u;
  return 0;
}

static void shape_fini(shape *s) {
  free(s->tile_data);
  free(s->table);
}

/* Builds the FRAME_SUBMIT of req as the session would (contiguous), checks
 * that it decodes, and returns its size; with table != NULL, also copies
 * the sections of the (legacy) inline body out as the TENSOR_SECTION_TABLE
 * object: in a legacy body they start 8-aligned from the tensor body, so
 * the bytes (inter-section pads included) are those of the object. */
static int build_submit(const nnrp_submit *req, size_t *size, uint8_t **table,
                        size_t *table_len) {
  size_t payload = CAMERA_BYTES;
  const nnrp_tensor_data *t = req->body.tensor;
  for (uint16_t k = 0; t->sections != NULL && k < t->section_count; k++)
    for (unsigned i = 0; i < t->tile_count; i++)
      payload += t->sections[k].tiles[i].len;
  size_t cap = nnrp_build_scratch_bound(&req->body) + payload + 256;
  uint8_t *buf = malloc(cap);
  if (buf == NULL)
    return NNRP_ERR_NOMEM;
  nnrp_header h;
  nnrp_header_init(&h, NNRP_MSG_FRAME_SUBMIT);
  h.session_id = 1;
  h.frame_id = 1;
  nnrp_frame_submit m = req->meta;
  nnrp_fault f;
  memset(&f, 0, sizeof(f));
  nnrp_out o;
  nnrp_out_init(&o, buf, cap, NULL, 0);
  int rc = nnrp_build_frame_submit(&o, &h, &m, &req->body, &f);
  nnrp_packet p;
  nnrp_wire_opts opts;
  nnrp_wire_opts_default(&opts);
  if (rc == 0)
    rc = nnrp_packet_decode(&p, buf, (size_t)o.total, &opts, &f);
  if (rc != 0) {
    fprintf(stderr, "bench cache: submit does not build/decode: %s (%s %s)\n",
            nnrp_err_name(rc), f.rule ? f.rule : "?", f.field ? f.field : "?");
  } else if (table != NULL) {
    const nnrp_bytes *sect = &p.b.data.tensor.sections;
    *table = malloc(sect->len);
    if (*table == NULL)
      rc = NNRP_ERR_NOMEM;
    else {
      memcpy(*table, sect->ptr, sect->len);
      *table_len = sect->len;
    }
  }
  *size = (size_t)o.total;
  free(buf);
  return rc;
}

/* ======================================================================== */
/* Client side                                                              */
/* ======================================================================== */

static int client_open(nnrp_runtime *rt, uint16_t port,
                       nnrp_client_session **cs) {
  nnrp_client_profile profile;
  nnrp_client_profile_default(&profile);
  profile.enable_cache = 1;
  profile.max_cache_entries = 1024;
  profile.max_cache_bytes = 64u << 20;
  nnrp_client_config cfg;
  nnrp_client_config_default(&cfg);
  cfg.host = HOST;
  cfg.port = port;
  return nnrp_dial_client(rt, &profile, NULL, &cfg, cs);
}

/* One blocking put (session.md §9.2); only ACCEPTED counts as success. */
static int put_one(nnrp_client_session *cs, uint16_t kind, const char *key,
                   const uint8_t *data, size_t len, nnrp_object_ref *ref) {
  nnrp_cache_put_req req;
  memset(&req, 0, sizeof(req));
  req.object_kind = kind;
  req.cache_namespace = CACHE_NS;
  req.key_bytes = (const uint8_t *)key;
  req.key_len = strlen(key);
  req.data.ptr = data;
  req.data.len = len;
  nnrp_cache_ack ack;
  int rc = nnrp_client_session_put_cache(cs, &req, WAIT_MS, &ack);
  if (rc != 0)
    return rc;
  if (ack.status != NNRP_CACHE_ACK_ACCEPTED) {
    fprintf(stderr, "bench cache: put %s: status %u detail %u\n", key,
            ack.status, ack.detail_code);
    return NNRP_ERR_INTERNAL;
  }
  memset(ref, 0, sizeof(*ref));
  ref->object_kind = kind;
  ref->cache_namespace = CACHE_NS;
  nnrp_cache_key_from_bytes(req.key_bytes, req.key_len, &ref->cache_key_hi,
                            &ref->cache_key_lo);
  return nnrp_client_session_cache_has(cs, CACHE_NS, ref->cache_key_hi,
                                       ref->cache_key_lo)
             ? 0
             : NNRP_ERR_INTERNAL;
}

/* One put round: the shape's objects under fresh keys (so every put is a
 * first put, ACCEPTED), camera then section table, each waiting for its
 * CACHE_ACK. The last round's keys are the ones the cache form uses. */
static int shape_put(nnrp_client_session *cs, shape *s, unsigned round,
                     double *us) {
  char key[96];
  uint64_t t0 = bench_now_ns();
  snprintf(key, sizeof(key), "%s/camera/%u", s->def->name, round);
  int rc = put_one(cs, NNRP_OBJECT_CAMERA_BLOCK, key, s->camera, CAMERA_BYTES,
                   &s->refs[0]);
  if (rc == 0 && s->def->ref_table) {
    snprintf(key, sizeof(key), "%s/sections/%u", s->def->name, round);
    rc = put_one(cs, NNRP_OBJECT_TENSOR_SECTION_TABLE, key, s->table,
                 s->table_len, &s->refs[1]);
  }
  *us = (double)(bench_now_ns() - t0) / 1000.0;
  return rc;
}

/* FRAME_SUBMITs sent: [0] inline, [1] cache form (checked against what
 * the server saw resolved). */
static uint64_t g_sent[2];

static void count_sent(const nnrp_submit *req) {
  g_sent[req->meta.submit_mode != NNRP_SUBMIT_MODE_INLINE]++;
}

static int take_push(nnrp_client_result *r) {
  int ok = r->kind == NNRP_RESULT_PUSH;
  nnrp_client_result_free(r);
  return ok ? 0 : NNRP_ERR_INTERNAL;
}

/* n blocking submit -> result round trips; each one's time (µs) in out. */
static int rtt_block(nnrp_client_session *cs, const nnrp_submit *req,
                     unsigned n, double *out) {
  for (unsigned i = 0; i < n; i++) {
    nnrp_client_result *r = NULL;
    uint64_t t0 = bench_now_ns();
    int rc = nnrp_client_session_submit(cs, req, WAIT_MS, NULL, &r);
    uint64_t t1 = bench_now_ns();
    if (rc != 0)
      return rc;
    count_sent(req);
    if ((rc = take_push(r)) != 0)
      return rc;
    if (out != NULL)
      out[i] = (double)(t1 - t0) / 1000.0;
  }
  return 0;
}

/* Pipelined frames with the window full (submit while a slot is free, else
 * take a result) for about min_ns. The rate counts the frames answered up
 * to the moment the time was up; the frames still in flight are then
 * drained without being timed. */
static int pipeline_run(nnrp_client_session *cs, const nnrp_submit *req,
                        uint64_t min_ns, double *fps) {
  uint64_t t0 = bench_now_ns(), t_stop = 0, done = 0, counted = 0;
  int sending = 1;
  for (;;) {
    while (sending && nnrp_client_session_can_submit(cs)) {
      int rc = nnrp_client_session_submit_nowait(cs, req, 0, NULL);
      if (rc == NNRP_ERR_WOULD_BLOCK)
        break;
      if (rc != 0)
        return rc;
      count_sent(req);
    }
    if (!sending && nnrp_client_session_in_flight(cs) == 0 &&
        nnrp_client_session_queued_results(cs) == 0)
      break;
    nnrp_client_result *r = NULL;
    int rc = nnrp_client_session_receive_result(cs, 0, WAIT_MS, &r);
    if (rc != 0)
      return rc;
    if ((rc = take_push(r)) != 0)
      return rc;
    done++;
    if (sending && bench_now_ns() - t0 >= min_ns) {
      sending = 0;
      t_stop = bench_now_ns();
      counted = done;
    }
  }
  *fps = (double)counted * 1e9 / (double)(t_stop - t0);
  return 0;
}

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y ? 1 : 0;
}

/* Nearest-rank percentile of n sorted values. */
static double pct(const double *v, size_t n, double q) {
  size_t k = (size_t)(q * (double)n + 0.999999);
  if (k < 1)
    k = 1;
  return v[(k > n ? n : k) - 1];
}

/* ======================================================================== */
/* One shape: puts, sizes, round trips, pipeline                            */
/* ======================================================================== */

typedef struct shape_res {
  double put_us, put_us_first;
  double p50[2], p99[2]; /* [0] inline, [1] cache */
  double fps[2];
} shape_res;

/* put_n rounds of puts: the median round and the first one. */
static int measure_puts(const run_cfg *c, nnrp_client_session *cs, shape *s,
                        shape_res *res) {
  double v[64];
  unsigned n = c->put_n < 64 ? c->put_n : 64;
  for (unsigned i = 0; i < n; i++) {
    int rc = shape_put(cs, s, i, &v[i]);
    if (rc != 0) {
      fail("put_cache", rc);
      return rc;
    }
  }
  res->put_us_first = v[0];
  qsort(v, n, sizeof(v[0]), cmp_double);
  res->put_us = pct(v, n, 0.5);
  return 0;
}

/* Warm-up of both forms, checking on the way that the server received
 * packets of exactly the built sizes. */
static int warm_up(const run_cfg *c, nnrp_client_session *cs, server *srv,
                   const shape *s) {
  const nnrp_submit *req[2] = {&s->req_inline, &s->req_cache};
  const size_t want[2] = {s->bytes_inline, s->bytes_cache};
  for (int f = 0; f < 2; f++) {
    int rc = rtt_block(cs, req[f], c->warm_n, NULL);
    if (rc != 0) {
      fail(f ? "cache-form submit" : "inline submit", rc);
      return rc;
    }
    size_t got = atomic_load(&srv->last_bytes);
    if (got != want[f]) {
      fprintf(stderr, "bench cache: %s: server got %zu bytes, built %zu\n",
              s->def->name, got, want[f]);
      g_status = 1;
      return NNRP_ERR_INTERNAL;
    }
  }
  return 0;
}

/* rtt_n round trips per form, the forms alternating frame by frame (in
 * the order A B B A A B ...): the machine has stretches of a few ms in
 * which every round trip is slower (other jobs, kernel work); with blocks
 * of one form, such a stretch set the p99 of whichever form it hit. */
static int measure_rtt(const run_cfg *c, nnrp_client_session *cs,
                       const shape *s, shape_res *res) {
  size_t n = c->rtt_n;
  double *v[2] = {malloc(n * sizeof(double)), malloc(n * sizeof(double))};
  int rc = v[0] && v[1] ? 0 : NNRP_ERR_NOMEM;
  const nnrp_submit *req[2] = {&s->req_inline, &s->req_cache};
  for (size_t i = 0; rc == 0 && i < n; i++)
    for (unsigned k = 0; rc == 0 && k < 2; k++) {
      unsigned f = (unsigned)(i + k) % 2;
      rc = rtt_block(cs, req[f], 1, v[f] + i);
    }
  if (rc != 0)
    fail("round trips", rc);
  for (int f = 0; rc == 0 && f < 2; f++) {
    qsort(v[f], n, sizeof(double), cmp_double);
    res->p50[f] = pct(v[f], n, 0.50);
    res->p99[f] = pct(v[f], n, 0.99);
  }
  free(v[0]);
  free(v[1]);
  return rc;
}

/* reps pipelined runs per form, alternating; the best run of each. */
static int measure_pipeline(const run_cfg *c, nnrp_client_session *cs,
                            const shape *s, shape_res *res) {
  const nnrp_submit *req[2] = {&s->req_inline, &s->req_cache};
  res->fps[0] = res->fps[1] = 0.0;
  for (unsigned b = 0; b < c->reps; b++)
    for (unsigned k = 0; k < 2; k++) {
      unsigned f = (b + k) % 2;
      double fps = 0.0;
      int rc = pipeline_run(cs, req[f], c->min_run_ns, &fps);
      if (rc != 0) {
        fail("pipelined submits", rc);
        return rc;
      }
      if (fps > res->fps[f])
        res->fps[f] = fps;
    }
  return 0;
}

static void emit_shape(const shape *s, const shape_res *r) {
  char name[96];
  const char *n = s->def->name;
  size_t objs = s->def->ref_table ? 2u : 1u;
  size_t put_bytes = objs * (NNRP_HEADER_LEN + 32u) + CAMERA_BYTES +
                     (s->def->ref_table ? s->table_len : 0u);
  double saved = (double)s->bytes_inline - (double)s->bytes_cache;
  snprintf(name, sizeof(name), "submit_bytes_%s", n);
  bench_emit(BENCH, name, (double)s->bytes_cache, "bytes",
             (double)s->bytes_inline);
  snprintf(name, sizeof(name), "rtt_p50_us_%s", n);
  bench_emit(BENCH, name, r->p50[1], "us", r->p50[0]);
  snprintf(name, sizeof(name), "rtt_p99_us_%s", n);
  bench_emit(BENCH, name, r->p99[1], "us", r->p99[0]);
  snprintf(name, sizeof(name), "frames_per_s_%s", n);
  bench_emit(BENCH, name, r->fps[1], "frames/s", r->fps[0]);
  snprintf(name, sizeof(name), "put_us_%s", n);
  bench_emit(BENCH, name, r->put_us, "us", r->p50[0]);
  snprintf(name, sizeof(name), "put_bytes_%s", n);
  bench_emit(BENCH, name, (double)put_bytes, "bytes", saved);
  double dt = r->p50[0] - r->p50[1];
  fprintf(stderr,
          "  %s: first put round %.1f us; %zu CACHE_ACK bytes back; "
          "break-even after %.1f frames (bytes)",
          n, r->put_us_first, objs * (NNRP_HEADER_LEN + 28u),
          saved > 0 ? (double)put_bytes / saved : NAN);
  if (dt > 0)
    fprintf(stderr, ", %.1f frames (p50 time)\n", r->put_us / dt);
  else
    fprintf(stderr, ", never in time (the cache form is not faster)\n");
}

static int run_shape(const run_cfg *c, nnrp_client_session *cs, server *srv,
                     const shape_def *def) {
  shape *s = calloc(1, sizeof(*s));
  if (s == NULL)
    return NNRP_ERR_NOMEM;
  shape_res res;
  memset(&res, 0, sizeof(res));
  int rc = shape_init(s, def);
  if (rc == 0)
    rc = build_submit(&s->req_inline, &s->bytes_inline, &s->table,
                      &s->table_len);
  if (rc == 0)
    rc = measure_puts(c, cs, s, &res);
  if (rc == 0)
    rc = build_submit(&s->req_cache, &s->bytes_cache, NULL, NULL);
  if (rc == 0) {
    fprintf(stderr,
            "  %s: camera %u B, %u tile ids, table %u x %u tiles x %u B = "
            "%zu B (%s); FRAME_SUBMIT inline %zu B, cache form %zu B\n",
            def->name, CAMERA_BYTES, TILES, def->sections, TILES,
            def->tile_bytes, s->table_len,
            def->ref_table ? "referenced" : "inline in both", s->bytes_inline,
            s->bytes_cache);
    atomic_store(&srv->expect, s->digest);
    unsigned long resolved0 = atomic_load(&srv->resolved);
    unsigned long submits0 = atomic_load(&srv->submits);
    uint64_t sent0[2] = {g_sent[0], g_sent[1]};
    rc = warm_up(c, cs, srv, s);
    if (rc == 0)
      rc = measure_rtt(c, cs, s, &res);
    if (rc == 0)
      rc = measure_pipeline(c, cs, s, &res);
    if (rc == 0)
      emit_shape(s, &res);
    unsigned long nres = atomic_load(&srv->resolved) - resolved0;
    unsigned long nsub = atomic_load(&srv->submits) - submits0;
    uint64_t ncache = g_sent[1] - sent0[1];
    uint64_t nall = ncache + g_sent[0] - sent0[0];
    fprintf(stderr,
            "  %s: server read %lu submits (%llu sent), %lu resolved from the "
            "cache (%llu sent in the cache form), %lu dropped\n",
            def->name, nsub, (unsigned long long)nall, nres,
            (unsigned long long)ncache, atomic_load(&srv->bad));
    if (rc == 0 && (nsub != nall || nres != ncache)) {
      fprintf(stderr, "bench cache: %s: server counts do not match\n",
              def->name);
      rc = NNRP_ERR_INTERNAL;
    }
  }
  shape_fini(s);
  free(s);
  return rc;
}

/* Each shape gets a fresh server (thread, runtime, listener) and a fresh
 * client runtime and session, so that no shape inherits the allocator or
 * pool state of another (see docs/benchmarks.md: the server's held-submit
 * pool filled with the small blocks of earlier shapes made the 256 KiB
 * cache form 7-10 x slower). */
static int run_fresh(const run_cfg *c, const shape_def *def) {
  static server srv;
  if (srv_start(&srv, c->cpu_b) != 0)
    return NNRP_ERR_INTERNAL;
  nnrp_runtime *rt = NULL;
  nnrp_client_session *cs = NULL;
  int rc = nnrp_runtime_new(&rt, NULL);
  if (rc == 0)
    rc = client_open(rt, srv.port, &cs);
  if (rc != 0)
    fail("dial", rc);
  else
    rc = run_shape(c, cs, &srv, def);
  if (cs != NULL) {
    (void)nnrp_client_session_close(cs, 2000);
    nnrp_client_session_del(cs);
  }
  nnrp_runtime_del(rt);
  atomic_store(&srv.stop, 1);
  (void)pthread_join(srv.th, NULL);
  return rc;
}

int main(void) {
  run_cfg c;
  cfg_init(&c);
  (void)pin_cpu(c.cpu_a);
  fprintf(stderr,
          "bench cache: client and server runtimes in two threads, %s "
          "(CPU %d / %d)%s; %u round trips per form, %u x %u ms pipelined "
          "runs (window %d), %u put rounds\n",
          c.cores == 1 ? "one core" : "two cores", c.cpu_a, c.cpu_b,
          c.rt ? ", SCHED_FIFO" : "", c.rtt_n, c.reps,
          (unsigned)(c.min_run_ns / 1000000u), WINDOW, c.put_n);
  int rc = 0;
  for (size_t i = 0; rc == 0 && i < sizeof(k_shapes) / sizeof(k_shapes[0]); i++)
    if (selected(k_shapes[i].name))
      rc = run_fresh(&c, &k_shapes[i]);
  if (rc != 0)
    g_status = 1;
  return atomic_load(&g_status);
}
