/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_runtime_issue4.c - the issue-4 session features through the runtime
 * API, end to end over 127.0.0.1: cache puts and REFERENCE / MIXED submits
 * resolved for the server application, a missing reference, a put flood
 * against the quotas, session patches (ACK, effective state, policy, rate
 * limit), credit windows, PAUSE with retry_after, auto-pause on SATURATED,
 * the bounded hint stream, the held-submit bound, automatic overload
 * signalling, and a client pushing against a slow server for seconds.
 * Every test runs on its own libuv loop (timers play the slow server) and
 * checks that no descriptor is left open.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <uv.h>

#include <nnrp/nnrp_runtime.h>

#include "harness.h"
#include "runtime_check.h"

#define QCAP 1024u
#define MAXF 8192u
#define MS 1000000ull

static uint64_t now_ms(void) { return nnrp_runtime_now() / MS; }

/* ---- fixture ------------------------------------------------------------- */

typedef struct fx fx;
typedef void (*action_fn)(fx *f);

struct fx {
  uv_loop_t loop;
  nnrp_runtime *rt;
  nnrp_server *srv;
  nnrp_client_session *cs;
  nnrp_server_session *ss;
  int fds_before;
  /* slow server: submits queued by on_submit, answered by `tick` */
  int slow;
  uv_timer_t tick;
  const nnrp_received_submit *q[QCAP];
  uint32_t qh, qn, qpeak;
  uint32_t delay_ms;
  uint64_t next_free; /* ns: when the server can answer the next one */
  uint64_t answered;
  uint32_t srv_in_flight_peak;
  /* one scheduled action */
  uv_timer_t act;
  action_fn action;
  /* client events */
  int cache_acks, patch_acks, sent_zero;
  void *cache_ack_ud, *patch_ack_ud, *sent_zero_ud;
  /* per-frame terminal records */
  uint8_t terminals[MAXF];
  uint64_t pushes, drops, failed;
};

static void client_event(nnrp_client_session *cs, const nnrp_event *ev,
                         void *user) {
  (void)cs;
  fx *f = user;
  if (ev->type == NNRP_EV_CACHE_ACK) {
    f->cache_acks++;
    f->cache_ack_ud = ev->user_data;
  } else if (ev->type == NNRP_EV_PATCH_ACK) {
    f->patch_acks++;
    f->patch_ack_ud = ev->user_data;
  }
}

static void client_sent(nnrp_client_session *cs, uint32_t frame_id,
                        void *frame_user_data, void *user) {
  (void)cs;
  fx *f = user;
  if (frame_id == 0) {
    f->sent_zero++;
    f->sent_zero_ud = frame_user_data;
  }
}

static void note_server_peak(fx *f, nnrp_server_session *ss) {
  uint32_t d = nnrp_server_session_in_flight(ss);
  if (d > f->srv_in_flight_peak)
    f->srv_in_flight_peak = d;
}

static void slow_submit(nnrp_server_session *ss,
                        const nnrp_received_submit *sub, void *user) {
  fx *f = user;
  note_server_peak(f, ss);
  if (f->qn == QCAP) { /* cannot happen with the bounds used here */
    (void)nnrp_server_session_send_result_drop(ss, sub->frame_id, 0);
    return;
  }
  f->q[(f->qh + f->qn) % QCAP] = sub;
  f->qn++;
  if (f->qn > f->qpeak)
    f->qpeak = f->qn;
}

static void answer(const nnrp_received_submit *sub) {
  nnrp_result r;
  memset(&r, 0, sizeof(r));
  r.final = 1;
  (void)nnrp_server_session_send_result(sub->session, sub->frame_id, &r);
}

/* Serial server: one frame every delay_ms. */
static void on_tick(uv_timer_t *t) {
  fx *f = t->data;
  uint64_t now = nnrp_runtime_now();
  while (f->qn > 0) {
    const nnrp_received_submit *sub = f->q[f->qh];
    uint64_t start =
        sub->received_at > f->next_free ? sub->received_at : f->next_free;
    if (now < start + f->delay_ms * MS)
      break;
    f->qh = (f->qh + 1u) % QCAP;
    f->qn--;
    f->next_free = now;
    answer(sub);
    f->answered++;
  }
}

static void on_act(uv_timer_t *t) {
  fx *f = t->data;
  action_fn fn = f->action;
  f->action = NULL;
  if (fn)
    fn(f);
}

static void schedule(fx *f, uint64_t ms, action_fn fn) {
  f->action = fn;
  uv_update_time(&f->loop);
  (void)uv_timer_start(&f->act, on_act, ms, 0);
}

typedef struct fx_opts {
  nnrp_server_profile sp;
  nnrp_server_config sc;
  nnrp_client_profile cp;
  nnrp_client_config cc;
  int slow;
  uint32_t delay_ms;
} fx_opts;

static void opts_default(fx_opts *o) {
  memset(o, 0, sizeof(*o));
  nnrp_server_profile_default(&o->sp);
  rc_server_config(&o->sc);
  nnrp_client_profile_default(&o->cp);
  rc_client_config(&o->cc, 0); /* port: fx_start() */
  o->sp.max_concurrent_frames = 0; /* no window unless a test sets one */
}

/* Runtime on an own loop, server, client dialed, session accepted, and one
 * PING round trip so that everything the server sent after its
 * SERVER_HELLO_ACK (a credit GRANT, ...) has been processed. */
static int fx_start(fx *f, fx_opts *o) {
  memset(f, 0, sizeof(*f));
  f->fds_before = rc_open_fds();
  if (!CHECK_EQ_INT(uv_loop_init(&f->loop), 0))
    return 0;
  (void)uv_timer_init(&f->loop, &f->tick);
  (void)uv_timer_init(&f->loop, &f->act);
  f->tick.data = f;
  f->act.data = f;
  nnrp_runtime_config rc;
  nnrp_runtime_config_default(&rc);
  rc.uv_loop = &f->loop;
  if (!CHECK_EQ_INT(nnrp_runtime_new(&f->rt, &rc), 0))
    return 0;
  f->slow = o->slow;
  f->delay_ms = o->delay_ms;
  if (o->slow) {
    o->sc.on_submit = slow_submit;
    o->sc.user = f;
    (void)uv_timer_start(&f->tick, on_tick, 1, 1);
  }
  if (!CHECK_EQ_INT(nnrp_serve_tcp(f->rt, &o->sp, &o->sc, &f->srv), 0))
    return 0;
  o->cc.port = nnrp_server_port(f->srv);
  o->cc.on_event = client_event;
  o->cc.on_sent = client_sent;
  o->cc.user = f;
  if (!CHECK_EQ_INT(nnrp_dial_client(f->rt, &o->cp, NULL, &o->cc, &f->cs), 0))
    return 0;
  if (!CHECK_EQ_INT(nnrp_accept_server_session(f->srv, 2000, &f->ss), 0))
    return 0;
  return CHECK_EQ_INT(nnrp_client_session_ping(f->cs, 2000, NULL), 0);
}

static void fx_end(fx *f) {
  uv_close((uv_handle_t *)&f->tick, NULL);
  uv_close((uv_handle_t *)&f->act, NULL);
  nnrp_client_session_del(f->cs);
  nnrp_server_session_del(f->ss);
  nnrp_server_close(f->srv);
  nnrp_runtime_del(f->rt);
  (void)uv_run(&f->loop, UV_RUN_DEFAULT);
  CHECK_EQ_INT(uv_loop_close(&f->loop), 0);
  CHECK_EQ_INT(rc_open_fds(), f->fds_before);
}

/* Lets the server act on everything the client sent so far (and back). */
static void sync_rt(fx *f) {
  CHECK_EQ_INT(nnrp_client_session_ping(f->cs, 2000, NULL), 0);
}

/* ---- frames -------------------------------------------------------------- */

static uint8_t tile_bytes[2][64];
static rc_tensor_frame frame_tf;

/* Two 64-byte tiles, of 'a' and of 'b'. */
static void make_frame(nnrp_submit *r) {
  for (size_t t = 0; t < 2; t++)
    memset(tile_bytes[t], (int)('a' + t), sizeof(tile_bytes[t]));
  uint8_t *tiles[2] = {tile_bytes[0], tile_bytes[1]};
  rc_tensor_submit(r, &frame_tf, tiles, sizeof(tile_bytes[0]), 2, NULL);
}

/* Takes every queued record (waiting up to wait_ms for the first) and files
 * the terminal ones per frame. @return records taken. */
static int drain_results(fx *f, int wait_ms) {
  int n = 0;
  nnrp_client_result *res;
  while (nnrp_client_session_receive_result(f->cs, 0, n ? 0 : wait_ms, &res) ==
         0) {
    n++;
    if (res->final && res->frame_id < MAXF)
      f->terminals[res->frame_id]++;
    if (res->kind == NNRP_RESULT_PUSH)
      f->pushes++;
    else if (res->kind == NNRP_RESULT_DROP)
      f->drops++;
    else
      f->failed++;
    nnrp_client_result_free(res);
  }
  return n;
}

/* Takes records until nothing is in flight or queued (or 2 s pass with
 * nothing new). */
static void drain_all(fx *f) {
  while (nnrp_client_session_in_flight(f->cs) > 0 ||
         nnrp_client_session_queued_results(f->cs) > 0)
    if (drain_results(f, 2000) == 0)
      break;
}

/* Every frame 1..last has exactly one terminal record. */
static void check_one_terminal_each(const fx *f, uint32_t last) {
  uint32_t bad = 0;
  for (uint32_t id = 1; id <= last && id < MAXF; id++)
    if (f->terminals[id] != 1)
      bad++;
  CHECK_EQ_INT(bad, 0);
}

/* ---- cache objects (session.md §9) --------------------------------------- */

static const uint8_t camera_obj[] = "CAMERA-0123";         /* 12 bytes */
static const uint8_t tix_obj[] = {0x05, 0x00, 0x09, 0x00}; /* RAW_U16 5, 9 */
static uint8_t sect_obj[32 + 8 + 5];                       /* 1 section */

static void wr32(uint8_t *p, uint32_t v) {
  for (int i = 0; i < 4; i++)
    p[i] = (uint8_t)(v >> (8 * i));
}

/* TENSOR_SECTION_TABLE (wire.md §8.5): role 1, UINT8, tiles "AB", "CDE". */
static void make_section_table(void) {
  memset(sect_obj, 0, sizeof(sect_obj));
  sect_obj[0] = 1;                /* role_id */
  sect_obj[3] = NNRP_DTYPE_UINT8; /* dtype_id */
  wr32(sect_obj + 16, 8);         /* length_table_bytes */
  wr32(sect_obj + 20, 5);         /* payload_bytes */
  wr32(sect_obj + 32, 2);
  wr32(sect_obj + 36, 3);
  memcpy(sect_obj + 40, "ABCDE", 5);
}

static nnrp_object_ref ref_of(uint16_t kind, uint32_t ns, const char *k) {
  nnrp_object_ref r;
  memset(&r, 0, sizeof(r));
  r.object_kind = kind;
  r.cache_namespace = ns;
  nnrp_cache_key_from_bytes((const uint8_t *)k, strlen(k), &r.cache_key_hi,
                            &r.cache_key_lo);
  return r;
}

static int put(fx *f, uint32_t kind, uint32_t ns, const char *key,
               const uint8_t *data, size_t len, uint32_t flags,
               nnrp_cache_ack *ack) {
  nnrp_cache_put_req req;
  memset(&req, 0, sizeof(req));
  req.object_kind = kind;
  req.cache_namespace = ns;
  req.key_bytes = (const uint8_t *)key;
  req.key_len = strlen(key);
  req.data.ptr = data;
  req.data.len = len;
  req.flags = flags;
  req.user_data = (void *)key;
  return nnrp_client_session_put_cache(f->cs, &req, 2000, ack);
}

/* A submit with the given slots (NNRP_SLOT_*) referenced, the others
 * inline ("inline-cam", ids 5 and 9, tiles "xy" / "z"). */
static nnrp_tensor_data rtensor;
static nnrp_object_ref refs[4];
static uint16_t inline_ids[2] = {5, 9};
static nnrp_bytes inline_tiles[2];
static nnrp_section_data inline_sect;

static void make_ref_submit(nnrp_submit *r, uint32_t ns, uint32_t slots,
                            const char *cam_key) {
  memset(&rtensor, 0, sizeof(rtensor));
  rtensor.tile_index_mode = NNRP_TILE_INDEX_RAW_U16;
  rtensor.tile_count = 2;
  rtensor.section_count = 1;
  uint32_t n = 0;
  if (slots & NNRP_SLOT_CAMERA)
    refs[n++] = ref_of(NNRP_OBJECT_CAMERA_BLOCK, ns, cam_key);
  else
    rtensor.camera = (nnrp_bytes){(const uint8_t *)"inline-cam", 10};
  if (slots & NNRP_SLOT_TILE_INDEX)
    refs[n++] = ref_of(NNRP_OBJECT_TILE_INDEX_BLOCK, ns, "tix");
  else
    rtensor.tile_ids = inline_ids;
  if (slots & NNRP_SLOT_SECTION_TABLE) {
    refs[n++] = ref_of(NNRP_OBJECT_TENSOR_SECTION_TABLE, ns, "sect");
  } else {
    inline_tiles[0] = (nnrp_bytes){(const uint8_t *)"xy", 2};
    inline_tiles[1] = (nnrp_bytes){(const uint8_t *)"z", 1};
    memset(&inline_sect, 0, sizeof(inline_sect));
    inline_sect.role_id = 1;
    inline_sect.dtype_id = NNRP_DTYPE_UINT8;
    inline_sect.tiles = inline_tiles;
    rtensor.sections = &inline_sect;
  }
  rc_submit_meta(r, 2);
  r->meta.submit_mode =
      slots == 0x7 ? NNRP_SUBMIT_MODE_REFERENCE : NNRP_SUBMIT_MODE_MIXED;
  r->body.tensor = &rtensor;
  r->body.refs = refs;
  r->body.ref_count = n;
}

/* The tiles of the first section of a tensor view, concatenated. */
static size_t section_tiles(const nnrp_tensor_view *tv, char *out, size_t cap) {
  nnrp_section_iter si;
  nnrp_section_view sv;
  nnrp_section_iter_init(&si, tv);
  if (!nnrp_section_iter_next(&si, &sv))
    return 0;
  nnrp_tile_data_iter ti;
  nnrp_tile_data_iter_init(&ti, &sv);
  nnrp_bytes t;
  size_t n = 0;
  while (nnrp_tile_data_iter_next(&ti, &t, NULL)) {
    if (n + t.len + 1 > cap)
      break;
    memcpy(out + n, t.ptr, t.len);
    n += t.len;
    out[n++] = '|';
  }
  return n;
}

static const nnrp_resolved_object *resolved(const nnrp_received_submit *sub,
                                            uint16_t kind) {
  for (uint8_t i = 0; i < sub->resolved_count; i++)
    if (sub->resolved[i].object_kind == kind)
      return &sub->resolved[i];
  return NULL;
}

/* ---- tests: cache -------------------------------------------------------- */

TEST(cache_put_then_reference_and_mixed) {
  fx f;
  fx_opts o;
  opts_default(&o);
  make_section_table();
  if (!fx_start(&f, &o))
    goto out;
  nnrp_cache_stats cst;
  CHECK_EQ_INT(nnrp_client_session_cache_stats(f.cs, &cst), 0);
  CHECK_EQ_INT(cst.enabled, 1);
  nnrp_cache_ack ack;
  const char *cam_key = "cam";
  CHECK_EQ_INT(put(&f, NNRP_OBJECT_CAMERA_BLOCK, 7, cam_key, camera_obj,
                   sizeof(camera_obj), 0, &ack),
               0);
  CHECK_EQ_INT(ack.status, NNRP_CACHE_ACK_ACCEPTED);
  nnrp_object_ref cam = ref_of(NNRP_OBJECT_CAMERA_BLOCK, 7, "cam");
  CHECK_EQ_INT(ack.cache_namespace, 7);
  CHECK_EQ_INT(ack.cache_key_hi, cam.cache_key_hi);
  CHECK_EQ_INT(ack.cache_key_lo, cam.cache_key_lo);
  /* The event carries the application's user_data, not the runtime's. */
  CHECK_EQ_INT(f.cache_acks, 1);
  CHECK(f.cache_ack_ud == (const void *)cam_key);
  CHECK_EQ_INT(f.sent_zero, 1);
  CHECK(f.sent_zero_ud == (const void *)cam_key);
  CHECK_EQ_INT(put(&f, NNRP_OBJECT_TILE_INDEX_BLOCK, 7, "tix", tix_obj,
                   sizeof(tix_obj), 0, &ack),
               0);
  CHECK_EQ_INT(ack.status, NNRP_CACHE_ACK_ACCEPTED);
  CHECK_EQ_INT(put(&f, NNRP_OBJECT_TENSOR_SECTION_TABLE, 7, "sect", sect_obj,
                   sizeof(sect_obj), 0, &ack),
               0);
  CHECK_EQ_INT(ack.status, NNRP_CACHE_ACK_ACCEPTED);
  CHECK_EQ_INT(put(&f, NNRP_OBJECT_CAMERA_BLOCK, 7, "cam", camera_obj,
                   sizeof(camera_obj), 0, &ack),
               0);
  CHECK_EQ_INT(ack.status, NNRP_CACHE_ACK_REPLACED);
  CHECK_EQ_INT(nnrp_client_session_cache_has(f.cs, 7, cam.cache_key_hi,
                                             cam.cache_key_lo),
               1);

  /* REFERENCE: every slot from the cache; the handler sees the bytes. */
  nnrp_submit req;
  make_ref_submit(&req, 7, 0x7, "cam");
  uint32_t id = 0;
  CHECK_EQ_INT(nnrp_client_session_submit_nowait(f.cs, &req, 1000, &id), 0);
  const nnrp_received_submit *sub = NULL;
  if (!CHECK_EQ_INT(nnrp_server_session_receive_submit(f.ss, 2000, &sub), 0))
    goto out;
  CHECK_EQ_INT(sub->frame_id, id);
  CHECK_EQ_INT(sub->resolved_count, 3);
  const nnrp_resolved_object *ro = resolved(sub, NNRP_OBJECT_CAMERA_BLOCK);
  if (CHECK(ro != NULL) && CHECK_EQ_INT(ro->data.len, sizeof(camera_obj)))
    CHECK_EQ_MEM(ro->data.ptr, camera_obj, sizeof(camera_obj));
  ro = resolved(sub, NNRP_OBJECT_TENSOR_SECTION_TABLE);
  if (CHECK(ro != NULL) && CHECK_EQ_INT(ro->data.len, sizeof(sect_obj)))
    CHECK_EQ_MEM(ro->data.ptr, sect_obj, sizeof(sect_obj));
  /* The client invalidates the camera while the server holds the frame:
   * the held copy keeps its bytes (session.md §9.4 rule 1). */
  nnrp_cache_invalidate_req inv;
  memset(&inv, 0, sizeof(inv));
  inv.scope = NNRP_CACHE_INVALIDATE_OBJECT_KEY;
  inv.cache_namespace = 7;
  inv.key_bytes = (const uint8_t *)"cam";
  inv.key_len = 3;
  inv.reason_code = 3;
  CHECK_EQ_INT(nnrp_client_session_invalidate_cache(f.cs, &inv), 0);
  CHECK_EQ_INT(nnrp_client_session_cache_has(f.cs, 7, cam.cache_key_hi,
                                             cam.cache_key_lo),
               0);
  sync_rt(&f);
  nnrp_bytes obj;
  CHECK_EQ_INT(nnrp_received_submit_object(sub, NNRP_OBJECT_CAMERA_BLOCK, &obj),
               0);
  CHECK_EQ_INT(obj.len, sizeof(camera_obj));
  CHECK_EQ_MEM(obj.ptr, camera_obj, sizeof(camera_obj));
  nnrp_tensor_view tv;
  CHECK_EQ_INT(nnrp_received_submit_tensor(sub, &tv), 0);
  CHECK_EQ_INT(tv.tiles.count, 2);
  char buf[64];
  size_t n = section_tiles(&tv, buf, sizeof(buf));
  CHECK_EQ_INT(n, 7);
  CHECK_EQ_MEM(buf, "AB|CDE|", 7);
  answer(sub);
  nnrp_client_result *res = NULL;
  CHECK_EQ_INT(nnrp_client_session_receive_result(f.cs, id, 2000, &res), 0);
  if (res)
    CHECK_EQ_INT(res->kind, NNRP_RESULT_PUSH);
  nnrp_client_result_free(res);

  /* MIXED: the (re-put) camera referenced, tiles inline. */
  CHECK_EQ_INT(put(&f, NNRP_OBJECT_CAMERA_BLOCK, 7, "cam2", camera_obj,
                   sizeof(camera_obj), 0, &ack),
               0);
  make_ref_submit(&req, 7, NNRP_SLOT_CAMERA, "cam2");
  CHECK_EQ_INT(nnrp_client_session_submit_nowait(f.cs, &req, 1000, &id), 0);
  if (!CHECK_EQ_INT(nnrp_server_session_receive_submit(f.ss, 2000, &sub), 0))
    goto out;
  CHECK_EQ_INT(sub->resolved_count, 1);
  CHECK_EQ_INT(sub->resolved[0].object_kind, NNRP_OBJECT_CAMERA_BLOCK);
  CHECK_EQ_INT(sub->resolved[0].data.len, sizeof(camera_obj));
  CHECK_EQ_MEM(sub->resolved[0].data.ptr, camera_obj, sizeof(camera_obj));
  CHECK_EQ_INT(nnrp_received_submit_tensor(sub, &tv), 0);
  n = section_tiles(&tv, buf, sizeof(buf));
  CHECK_EQ_INT(n, 5);
  CHECK_EQ_MEM(buf, "xy|z|", 5);
  answer(sub);
  CHECK_EQ_INT(nnrp_client_session_receive_result(f.cs, id, 2000, &res), 0);
  nnrp_client_result_free(res);
  nnrp_cache_stats sst;
  CHECK_EQ_INT(nnrp_server_session_cache_stats(f.ss, &sst), 0);
  CHECK_EQ_U64(sst.resolved_frames, 2);
  CHECK_EQ_U64(sst.puts_accepted, 5);
out:
  fx_end(&f);
}

TEST(cache_missing_reference_ends_once) {
  fx f;
  fx_opts o;
  opts_default(&o);
  make_section_table();
  if (!fx_start(&f, &o))
    goto out;
  nnrp_submit req;
  make_ref_submit(&req, 0, NNRP_SLOT_CAMERA, "never-put");
  uint32_t id = 0;
  CHECK_EQ_INT(nnrp_client_session_submit_nowait(f.cs, &req, 1000, &id), 0);
  nnrp_client_result *res = NULL;
  CHECK_EQ_INT(nnrp_client_session_receive_result(f.cs, id, 2000, &res), 0);
  if (CHECK(res != NULL)) {
    CHECK(res->kind == NNRP_RESULT_DROP || res->kind == NNRP_RESULT_FAILED);
    CHECK_EQ_INT(res->final, 1);
    nnrp_client_result_free(res);
  }
  /* Nothing else for that frame, and the application never saw it. */
  CHECK_EQ_INT(nnrp_client_session_receive_result(f.cs, 0, 200, &res),
               NNRP_ERR_TIMEOUT);
  CHECK_EQ_INT(nnrp_client_session_receive_result(f.cs, id, 0, &res),
               NNRP_ERR_NOT_FOUND);
  const nnrp_received_submit *sub = NULL;
  CHECK_EQ_INT(nnrp_server_session_receive_submit(f.ss, 0, &sub),
               NNRP_ERR_TIMEOUT);
  nnrp_cache_stats sst;
  CHECK_EQ_INT(nnrp_server_session_cache_stats(f.ss, &sst), 0);
  CHECK_EQ_U64(sst.misses, 1);
  /* The session goes on: an inline frame still works. */
  make_frame(&req);
  CHECK_EQ_INT(nnrp_client_session_submit_nowait(f.cs, &req, 1000, &id), 0);
  CHECK_EQ_INT(nnrp_server_session_receive_submit(f.ss, 2000, &sub), 0);
  if (sub)
    answer(sub);
  CHECK_EQ_INT(nnrp_client_session_receive_result(f.cs, id, 2000, &res), 0);
  if (res)
    CHECK_EQ_INT(res->kind, NNRP_RESULT_PUSH);
  nnrp_client_result_free(res);
  CHECK_EQ_INT(nnrp_client_session_state(f.cs), NNRP_STATE_ACTIVE);
out:
  fx_end(&f);
}

TEST(cache_quota_flood_stays_bounded) {
  fx f;
  fx_opts o;
  opts_default(&o);
  o.sp.max_cache_entries = 8;
  o.sp.max_cache_bytes = 64 * 1024;
  o.sp.max_object_bytes = 8 * 1024;
  o.cp.max_cache_entries = 1024;
  o.cp.max_cache_bytes = 1 << 20;
  static uint8_t obj[16 * 1024];
  memset(obj, 0x5a, sizeof(obj));
  if (!fx_start(&f, &o))
    goto out;
  nnrp_cache_ack ack;
  char key[32];
  /* Too large for the server's per-object ceiling. */
  CHECK_EQ_INT(
      put(&f, NNRP_OBJECT_CAMERA_BLOCK, 0, "big", obj, sizeof(obj), 0, &ack),
      0);
  CHECK_EQ_INT(ack.status, NNRP_CACHE_ACK_REJECTED);
  CHECK_EQ_INT(ack.detail_code, 2);
  /* 300 LRU puts of 4 KiB: all accepted, at most 8 kept. */
  nnrp_server_flow_stats fs;
  uint64_t mem_early = 0;
  int accepted = 0;
  for (int i = 0; i < 300; i++) {
    snprintf(key, sizeof(key), "lru-%d", i);
    if (!CHECK_EQ_INT(
            put(&f, NNRP_OBJECT_CAMERA_BLOCK, 1, key, obj, 4096, 0, &ack), 0))
      break;
    accepted += ack.status == NNRP_CACHE_ACK_ACCEPTED;
    if (i == 16) {
      CHECK_EQ_INT(nnrp_server_session_flow_stats(f.ss, &fs), 0);
      mem_early = fs.session_mem_bytes;
    }
  }
  CHECK_EQ_INT(accepted, 300);
  nnrp_cache_stats sst, cst;
  CHECK_EQ_INT(nnrp_server_session_cache_stats(f.ss, &sst), 0);
  CHECK(sst.entries <= 8);
  CHECK(sst.bytes <= 64 * 1024);
  CHECK(sst.evicted >= 292);
  sync_rt(&f);
  CHECK_EQ_INT(nnrp_client_session_cache_stats(f.cs, &cst), 0);
  CHECK(cst.entries <= 8); /* evictions announced to the mirror */
  CHECK_EQ_INT(nnrp_server_session_flow_stats(f.ss, &fs), 0);
  /* No growth with the flood: the session holds what it held early on. */
  CHECK(fs.session_mem_bytes <= mem_early + 64 * 1024);
  CHECK(fs.session_mem_peak < (uint64_t)8 << 20);

  /* Pinned puts: the quota of 8 entries rejects the rest (detail 1). */
  nnrp_cache_invalidate_req inv;
  memset(&inv, 0, sizeof(inv));
  inv.scope = NNRP_CACHE_INVALIDATE_WHOLE_SESSION;
  CHECK_EQ_INT(nnrp_client_session_invalidate_cache(f.cs, &inv), 0);
  int ok = 0, rejected = 0;
  for (int i = 0; i < 100; i++) {
    snprintf(key, sizeof(key), "pin-%d", i);
    if (!CHECK_EQ_INT(put(&f, NNRP_OBJECT_CAMERA_BLOCK, 2, key, obj, 1024,
                          NNRP_CACHE_PUT_PINNED, &ack),
                      0))
      break;
    if (ack.status == NNRP_CACHE_ACK_REJECTED) {
      rejected++;
      CHECK_EQ_INT(ack.detail_code, 1);
    } else {
      ok++;
    }
  }
  CHECK_EQ_INT(ok, 8);
  CHECK_EQ_INT(rejected, 92);
  CHECK_EQ_INT(nnrp_server_session_cache_stats(f.ss, &sst), 0);
  CHECK_EQ_INT(sst.entries, 8);
  CHECK_EQ_INT(sst.pinned_entries, 8);
  CHECK_EQ_INT(nnrp_server_session_flow_stats(f.ss, &fs), 0);
  CHECK(fs.session_mem_bytes <= mem_early + 64 * 1024);
out:
  fx_end(&f);
}

/* ---- tests: patch -------------------------------------------------------- */

static int patch_policy(const nnrp_session *s, uint32_t field,
                        nnrp_patch_values *v, uint16_t *reject_reason,
                        void *user) {
  (void)s;
  (*(int *)user)++;
  if (field == NNRP_PATCH_QUALITY_TIER && v->quality_tier > 3) {
    v->quality_tier = 3;
    return NNRP_PATCH_POLICY_CLAMP;
  }
  if (field == NNRP_PATCH_DEGRADE_POLICY) {
    *reject_reason = NNRP_PATCH_REJECT_UNSUPPORTED_FIELD;
    return NNRP_PATCH_POLICY_REJECT;
  }
  return NNRP_PATCH_POLICY_ACCEPT;
}

TEST(patch_ack_policy_and_effective_state) {
  fx f;
  fx_opts o;
  opts_default(&o);
  int calls = 0;
  o.sc.patch_policy = patch_policy;
  o.sc.patch_user = &calls;
  if (!fx_start(&f, &o))
    goto out;
  nnrp_patch_req pr;
  memset(&pr, 0, sizeof(pr));
  pr.patch_fields = NNRP_PATCH_TARGET_CADENCE | NNRP_PATCH_QUALITY_TIER;
  pr.target_cadence = 30;
  pr.quality_tier = 5;
  pr.user_data = &pr;
  nnrp_session_patch_ack ack;
  CHECK_EQ_INT(nnrp_client_session_patch_session(f.cs, &pr, 2000, &ack), 0);
  CHECK_EQ_INT(ack.ack_status, NNRP_PATCH_ACK_ACCEPTED);
  CHECK_EQ_INT(ack.applied_patch_mask,
               NNRP_PATCH_TARGET_CADENCE | NNRP_PATCH_QUALITY_TIER);
  CHECK_EQ_INT(ack.effective_target_cadence_x100, 3000);
  CHECK_EQ_INT(ack.effective_quality_tier, 3); /* clamped by the policy */
  CHECK_EQ_INT(calls, 2);
  CHECK_EQ_INT(f.patch_acks, 1);
  CHECK(f.patch_ack_ud == &pr); /* the application's user_data */
  nnrp_effective_profile ce, se;
  CHECK_EQ_INT(nnrp_client_session_effective_profile(f.cs, &ce), 0);
  CHECK_EQ_INT(nnrp_server_session_effective_profile(f.ss, &se), 0);
  CHECK_EQ_INT(ce.target_cadence_x100, 3000);
  CHECK_EQ_INT(ce.quality_tier, 3);
  CHECK_EQ_INT(se.target_cadence_x100, 3000);
  CHECK_EQ_INT(se.quality_tier, 3);

  /* One field vetoed: PARTIALLY_APPLIED, the rest in force. */
  memset(&pr, 0, sizeof(pr));
  pr.patch_fields = NNRP_PATCH_TARGET_CADENCE | NNRP_PATCH_DEGRADE_POLICY;
  pr.target_cadence = 15;
  pr.degrade_policy = 2;
  CHECK_EQ_INT(nnrp_client_session_patch(f.cs, &pr, 2000, &ack), 0);
  CHECK_EQ_INT(ack.ack_status, NNRP_PATCH_ACK_PARTIALLY_APPLIED);
  CHECK_EQ_INT(ack.rejected_patch_mask, NNRP_PATCH_DEGRADE_POLICY);
  CHECK_EQ_INT(ack.reject_reason, NNRP_PATCH_REJECT_UNSUPPORTED_FIELD);
  CHECK_EQ_INT(nnrp_client_session_effective_profile(f.cs, &ce), 0);
  CHECK_EQ_INT(ce.target_cadence_x100, 1500);
  CHECK_EQ_INT(ce.degrade_policy, se.degrade_policy);
  nnrp_server_flow_stats fs;
  CHECK_EQ_INT(nnrp_server_session_flow_stats(f.ss, &fs), 0);
  CHECK_EQ_U64(fs.patches, 2);
  /* Bad arguments are refused locally. */
  pr.patch_fields = NNRP_PATCH_QUALITY_TIER;
  pr.quality_tier = 256;
  CHECK_EQ_INT(nnrp_client_session_patch_session(f.cs, &pr, 100, &ack),
               NNRP_ERR_INVALID_ARGUMENT);
out:
  fx_end(&f);
}

TEST(patch_rate_limited) {
  fx f;
  fx_opts o;
  opts_default(&o);
  o.sc.patch_rate_limit = 3;
  o.sc.patch_rate_window_ms = 1000;
  if (!fx_start(&f, &o))
    goto out;
  nnrp_patch_req pr;
  memset(&pr, 0, sizeof(pr));
  pr.patch_fields = NNRP_PATCH_TARGET_CADENCE;
  nnrp_session_patch_ack ack;
  for (uint32_t i = 0; i < 3; i++) {
    pr.target_cadence = 10 + i;
    CHECK_EQ_INT(nnrp_client_session_patch_session(f.cs, &pr, 2000, &ack), 0);
    CHECK_EQ_INT(ack.ack_status, NNRP_PATCH_ACK_ACCEPTED);
  }
  pr.target_cadence = 50;
  CHECK_EQ_INT(nnrp_client_session_patch_session(f.cs, &pr, 2000, &ack), 0);
  CHECK_EQ_INT(ack.ack_status, NNRP_PATCH_ACK_REJECTED);
  CHECK_EQ_INT(ack.reject_reason, NNRP_PATCH_REJECT_RATE_LIMITED);
  CHECK_EQ_INT(ack.rejected_patch_mask, NNRP_PATCH_TARGET_CADENCE);
  CHECK(ack.retry_after_ms > 0 && ack.retry_after_ms <= 1000);
  nnrp_effective_profile ce;
  CHECK_EQ_INT(nnrp_client_session_effective_profile(f.cs, &ce), 0);
  CHECK_EQ_INT(ce.target_cadence_x100, 1200); /* the 4th changed nothing */
  /* A wait of zero sends and returns at once; the ACK still arrives. */
  int acks = f.patch_acks;
  pr.user_data = &acks;
  int rc = nnrp_client_session_patch_session(f.cs, &pr, 0, &ack);
  CHECK(rc == NNRP_ERR_TIMEOUT || rc == 0);
  sync_rt(&f);
  CHECK_EQ_INT(f.patch_acks, acks + 1);
  CHECK(f.patch_ack_ud == &acks);
out:
  fx_end(&f);
}

/* ---- tests: flow control ------------------------------------------------- */

TEST(credit_window_two) {
  fx f;
  fx_opts o;
  opts_default(&o);
  o.sc.credit_window = 2;
  o.slow = 1;
  o.delay_ms = 2;
  if (!fx_start(&f, &o))
    goto out;
  nnrp_flow_state fl;
  CHECK_EQ_INT(
      nnrp_client_session_flow_state(f.cs, NNRP_FLOW_SCOPE_SESSION, &fl), 0);
  CHECK_EQ_INT(fl.known, 1);
  CHECK_EQ_INT(fl.credit_valid, 1);
  CHECK_EQ_INT(fl.credit, 2);
  /* Stop the server for a moment: two go, the third fails fast. */
  (void)uv_timer_stop(&f.tick);
  nnrp_submit req;
  make_frame(&req);
  CHECK_EQ_INT(nnrp_client_session_submit_nowait(f.cs, &req, 0, NULL), 0);
  CHECK_EQ_INT(nnrp_client_session_submit_nowait(f.cs, &req, 0, NULL), 0);
  CHECK_EQ_INT(nnrp_client_session_submit_nowait(f.cs, &req, 0, NULL),
               NNRP_ERR_WOULD_BLOCK);
  CHECK(nnrp_client_session_submit_blocked(f.cs) & NNRP_SUBMIT_BLOCKED_CREDIT);
  uint64_t t0 = now_ms();
  CHECK_EQ_INT(nnrp_client_session_submit_nowait(f.cs, &req, 100, NULL),
               NNRP_ERR_WOULD_BLOCK);
  CHECK(now_ms() - t0 >= 90);
  (void)uv_timer_start(&f.tick, on_tick, 1, 1);
  /* 60 blocking submits: each waits for a slot the slow server frees. */
  uint32_t peak = 0, last = 2;
  for (int i = 0; i < 60; i++) {
    uint32_t id = 0;
    if (!CHECK_EQ_INT(nnrp_client_session_submit_nowait(f.cs, &req, 2000, &id),
                      0))
      break;
    last = id;
    uint32_t d = nnrp_client_session_in_flight(f.cs);
    if (d > peak)
      peak = d;
    (void)drain_results(&f, 0);
  }
  drain_all(&f);
  CHECK(peak <= 2);
  CHECK(f.srv_in_flight_peak <= 2);
  CHECK(f.qpeak <= 2);
  CHECK_EQ_U64(f.answered, last);
  check_one_terminal_each(&f, last);
  nnrp_client_flow_stats cst;
  CHECK_EQ_INT(nnrp_client_session_flow_stats(f.cs, &cst), 0);
  CHECK(cst.submit_waits >= 30);
  CHECK_EQ_U64(cst.pauses_observed, 0);
out:
  fx_end(&f);
}

static void resume_server(fx *f) {
  CHECK(nnrp_server_session_set_overloaded(f->ss, 0, 0) > 0);
}

TEST(pause_with_retry_after_then_resume) {
  fx f;
  fx_opts o;
  opts_default(&o);
  o.slow = 1;
  o.delay_ms = 0;
  if (!fx_start(&f, &o))
    goto out;
  nnrp_submit req;
  make_frame(&req);
  uint64_t t0 = now_ms();
  CHECK(nnrp_server_session_set_overloaded(f.ss, 1, 150) > 0);
  sync_rt(&f);
  nnrp_flow_state fl;
  CHECK_EQ_INT(
      nnrp_client_session_flow_state(f.cs, NNRP_FLOW_SCOPE_SESSION, &fl), 0);
  CHECK_EQ_INT(fl.paused, 1);
  CHECK(fl.pause_until != 0);
  CHECK(nnrp_client_session_submit_blocked(f.cs) &
        NNRP_SUBMIT_BLOCKED_PEER_PAUSE);
  CHECK_EQ_INT(nnrp_client_session_submit_nowait(f.cs, &req, 0, NULL),
               NNRP_ERR_WOULD_BLOCK);
  /* Waits for the retry_after (no RESUME is ever sent), then goes. */
  uint32_t id = 0;
  nnrp_client_result *res = NULL;
  CHECK_EQ_INT(nnrp_client_session_submit(f.cs, &req, 3000, &id, &res), 0);
  uint64_t waited = now_ms() - t0;
  CHECK(waited >= 140 && waited < 1000);
  if (res)
    CHECK_EQ_INT(res->kind, NNRP_RESULT_PUSH);
  nnrp_client_result_free(res);
  nnrp_client_flow_stats cst;
  CHECK_EQ_INT(nnrp_client_session_flow_stats(f.cs, &cst), 0);
  CHECK_EQ_U64(cst.peer_pauses, 1);
  CHECK_EQ_U64(cst.pauses_observed, 1);

  /* An untimed PAUSE: the submit waits for the RESUME (sent 100 ms on). */
  CHECK(nnrp_server_session_set_overloaded(f.ss, 1, 0) > 0);
  sync_rt(&f);
  CHECK(nnrp_client_session_submit_blocked(f.cs) &
        NNRP_SUBMIT_BLOCKED_PEER_PAUSE);
  t0 = now_ms();
  schedule(&f, 100, resume_server);
  CHECK_EQ_INT(nnrp_client_session_submit(f.cs, &req, 3000, &id, &res), 0);
  waited = now_ms() - t0;
  CHECK(waited >= 90 && waited < 1000);
  nnrp_client_result_free(res);
  CHECK_EQ_INT(nnrp_client_session_flow_stats(f.cs, &cst), 0);
  CHECK_EQ_U64(cst.peer_pauses, 2);
  CHECK(cst.flow_updates_received >= 3);
  nnrp_server_flow_stats fs;
  CHECK_EQ_INT(nnrp_server_session_flow_stats(f.ss, &fs), 0);
  CHECK_EQ_U64(fs.pauses_sent, 2);
  CHECK_EQ_U64(fs.resumes_sent, 1);
  CHECK_EQ_INT(fs.overloaded, 0);
out:
  fx_end(&f);
}

static void send_hint(fx *f, uint32_t state, uint32_t retry) {
  nnrp_result_hint h;
  memset(&h, 0, sizeof(h));
  h.congestion_state = state;
  h.retry_after_ms = retry;
  CHECK(nnrp_server_session_send_result_hint(f->ss, 0, &h) > 0);
}

static void steady_hint(fx *f) { send_hint(f, NNRP_CONGESTION_STEADY, 0); }

TEST(auto_pause_on_saturated_hints) {
  fx f;
  fx_opts o;
  opts_default(&o);
  o.cc.auto_pause = 1;
  o.slow = 1;
  if (!fx_start(&f, &o))
    goto out;
  nnrp_submit req;
  make_frame(&req);
  send_hint(&f, NNRP_CONGESTION_SATURATED, 0);
  nnrp_result_hint h;
  uint32_t hid = 99;
  CHECK_EQ_INT(nnrp_client_session_next_hint(f.cs, 2000, &h, &hid), 0);
  CHECK_EQ_INT(h.congestion_state, NNRP_CONGESTION_SATURATED);
  CHECK_EQ_INT(hid, 0);
  CHECK(nnrp_client_session_submit_blocked(f.cs) &
        NNRP_SUBMIT_BLOCKED_HINT_PAUSE);
  CHECK_EQ_INT(nnrp_client_session_submit_nowait(f.cs, &req, 0, NULL),
               NNRP_ERR_WOULD_BLOCK);
  /* A lower hint 80 ms later lifts the pause. */
  uint64_t t0 = now_ms();
  schedule(&f, 80, steady_hint);
  uint32_t id;
  nnrp_client_result *res = NULL;
  CHECK_EQ_INT(nnrp_client_session_submit(f.cs, &req, 3000, &id, &res), 0);
  uint64_t waited = now_ms() - t0;
  CHECK(waited >= 70 && waited < 1000);
  nnrp_client_result_free(res);
  /* SATURATED with retry_after: resumes by itself. */
  send_hint(&f, NNRP_CONGESTION_SATURATED, 120);
  sync_rt(&f);
  CHECK(nnrp_client_session_submit_blocked(f.cs) &
        NNRP_SUBMIT_BLOCKED_HINT_PAUSE);
  t0 = now_ms();
  CHECK_EQ_INT(nnrp_client_session_submit(f.cs, &req, 3000, &id, &res), 0);
  waited = now_ms() - t0;
  CHECK(waited >= 90 && waited < 1000);
  nnrp_client_result_free(res);
  nnrp_client_flow_stats cst;
  CHECK_EQ_INT(nnrp_client_session_flow_stats(f.cs, &cst), 0);
  CHECK_EQ_U64(cst.hint_pauses, 2);
  CHECK_EQ_U64(cst.hints_saturated, 2);
  CHECK_EQ_U64(cst.hints_received, 3);
  /* Auto-pause off: a SATURATED hint is only reported. */
  CHECK_EQ_INT(nnrp_client_session_set_auto_pause(f.cs, 0), 0);
  send_hint(&f, NNRP_CONGESTION_SATURATED, 0);
  sync_rt(&f);
  CHECK_EQ_INT(nnrp_client_session_submit_blocked(f.cs), 0);
  /* The application's own gate. */
  CHECK_EQ_INT(nnrp_client_session_pause_submit(f.cs), 0);
  CHECK_EQ_INT(nnrp_client_session_submit_nowait(f.cs, &req, 20, NULL),
               NNRP_ERR_WOULD_BLOCK);
  CHECK_EQ_INT(nnrp_client_session_resume_submit(f.cs), 0);
  CHECK_EQ_INT(nnrp_client_session_submit(f.cs, &req, 2000, &id, &res), 0);
  nnrp_client_result_free(res);
  CHECK_EQ_INT(nnrp_client_session_flow_stats(f.cs, &cst), 0);
  CHECK_EQ_U64(cst.hint_pauses, 2);
out:
  fx_end(&f);
}

TEST(hint_stream_is_bounded) {
  fx f;
  fx_opts o;
  opts_default(&o);
  if (!fx_start(&f, &o))
    goto out;
  for (uint32_t i = 0; i < 300; i++) {
    nnrp_result_hint h;
    memset(&h, 0, sizeof(h));
    h.congestion_state = NNRP_CONGESTION_STEADY;
    h.retry_after_ms = i;
    CHECK(nnrp_server_session_send_result_hint(f.ss, 0, &h) > 0);
  }
  sync_rt(&f);
  nnrp_client_flow_stats cst;
  CHECK_EQ_INT(nnrp_client_session_flow_stats(f.cs, &cst), 0);
  CHECK_EQ_U64(cst.hints_received, 300);
  CHECK_EQ_U64(cst.hints_dropped, 300 - NNRP_CLIENT_HINT_QUEUE_DEFAULT);
  CHECK_EQ_INT(cst.queued_hints, NNRP_CLIENT_HINT_QUEUE_DEFAULT);
  uint32_t bad = 0, n = 0;
  nnrp_result_hint h;
  while (nnrp_client_session_next_hint(f.cs, 0, &h, NULL) == 0) {
    if (h.retry_after_ms != 300 - NNRP_CLIENT_HINT_QUEUE_DEFAULT + n)
      bad++;
    n++;
  }
  CHECK_EQ_INT(n, NNRP_CLIENT_HINT_QUEUE_DEFAULT);
  CHECK_EQ_INT(bad, 0);
  CHECK_EQ_INT(nnrp_client_session_next_hint(f.cs, 20, &h, NULL),
               NNRP_ERR_TIMEOUT);
  /* A client-sent FLOW_UPDATE is recorded by the server (§8.4); a server
   * REDUCE sets the client's credit. */
  nnrp_flow_update_req fr;
  nnrp_flow_update_req_default(&fr);
  fr.update_reason = NNRP_FLOW_REASON_CONGESTION;
  fr.backpressure_level = NNRP_BACKPRESSURE_SOFT;
  CHECK_EQ_INT(nnrp_client_session_send_flow_update(f.cs, &fr), 72);
  nnrp_flow_update_req_default(&fr);
  fr.update_reason = NNRP_FLOW_REASON_REDUCE;
  fr.has_session_credit = 1;
  fr.session_credit = 1;
  CHECK_EQ_INT(nnrp_server_session_send_flow_update(f.ss, &fr), 72);
  sync_rt(&f);
  nnrp_server_flow_stats fs;
  CHECK_EQ_INT(nnrp_server_session_flow_stats(f.ss, &fs), 0);
  CHECK_EQ_U64(fs.flow_updates_received, 1);
  nnrp_flow_state fl;
  CHECK_EQ_INT(
      nnrp_client_session_flow_state(f.cs, NNRP_FLOW_SCOPE_SESSION, &fl), 0);
  CHECK_EQ_INT(fl.credit, 1);
  /* Closed with nothing queued: the latched close error. */
  CHECK_EQ_INT(nnrp_client_session_close(f.cs, 2000), 0);
  CHECK_EQ_INT(nnrp_client_session_next_hint(f.cs, 100, &h, NULL),
               NNRP_ERR_CLOSED);
out:
  fx_end(&f);
}

/* ---- tests: bounded server memory ---------------------------------------- */

TEST(held_submit_bound_stops_reading) {
  fx f;
  fx_opts o;
  opts_default(&o);
  o.sc.max_held_submits = 8;
  if (!fx_start(&f, &o))
    goto out;
  nnrp_submit req;
  make_frame(&req);
  uint32_t last = 0;
  for (int i = 0; i < 200; i++) /* no window: nothing holds the client */
    CHECK_EQ_INT(nnrp_client_session_submit_nowait(f.cs, &req, 0, &last), 0);
  (void)nnrp_runtime_run(f.rt, 300);
  nnrp_server_flow_stats fs;
  CHECK_EQ_INT(nnrp_server_session_flow_stats(f.ss, &fs), 0);
  CHECK_EQ_INT(fs.held_submits, 8);
  CHECK_EQ_U64(fs.submits_received, 8); /* the rest waits in TCP */
  CHECK(fs.input_stalls >= 1);
  /* Answering lets the rest in, never more than 8 held at once. */
  uint32_t answered = 0;
  const nnrp_received_submit *sub;
  while (answered < last &&
         nnrp_server_session_receive_submit(f.ss, 2000, &sub) == 0) {
    answer(sub);
    answered++;
    (void)drain_results(&f, 0);
  }
  drain_all(&f);
  CHECK_EQ_INT(answered, last);
  CHECK_EQ_INT(nnrp_server_session_flow_stats(f.ss, &fs), 0);
  CHECK_EQ_INT(fs.held_peak, 8);
  CHECK(fs.held_bytes_peak <= 8 * 4096);
  check_one_terminal_each(&f, last);
  CHECK_EQ_U64(f.pushes, last);
out:
  fx_end(&f);
}

TEST(auto_overload_pauses_and_resumes) {
  fx f;
  fx_opts o;
  opts_default(&o);
  o.sc.credit_window = 16;
  o.sc.auto_overload = 1;
  o.sc.overload_high_water = 8;
  o.sc.overload_low_water = 4;
  o.sc.overload_retry_after_ms = 200;
  o.slow = 1;
  o.delay_ms = 3;
  if (!fx_start(&f, &o))
    goto out;
  nnrp_submit req;
  make_frame(&req);
  uint32_t last = 0;
  for (int i = 0; i < 120; i++) {
    if (!CHECK_EQ_INT(
            nnrp_client_session_submit_nowait(f.cs, &req, 3000, &last), 0))
      break;
    (void)drain_results(&f, 0);
  }
  drain_all(&f);
  sync_rt(&f);
  nnrp_server_flow_stats fs;
  CHECK_EQ_INT(nnrp_server_session_flow_stats(f.ss, &fs), 0);
  CHECK(fs.pauses_sent >= 1);
  CHECK(fs.resumes_sent >= 1);
  CHECK_EQ_INT(fs.overloaded, 0); /* all answered: resumed */
  CHECK(fs.held_peak <= 16);
  CHECK(f.srv_in_flight_peak <= 16);
  nnrp_client_flow_stats cst;
  CHECK_EQ_INT(nnrp_client_session_flow_stats(f.cs, &cst), 0);
  CHECK(cst.peer_pauses >= 1);
  CHECK_EQ_INT(nnrp_client_session_submit_blocked(f.cs), 0);
  check_one_terminal_each(&f, last);
out:
  fx_end(&f);
}

TEST(fast_client_slow_server_for_seconds) {
  fx f;
  fx_opts o;
  opts_default(&o);
  o.sp.max_concurrent_frames = 64; /* advertised; auto hints (D21) */
  o.sc.credit_window = 64;
  o.slow = 1;
  o.delay_ms = 5;
  if (!fx_start(&f, &o))
    goto out;
  nnrp_submit req;
  make_frame(&req);
  uint32_t last = 0;
  uint64_t end = now_ms() + 3000;
  while (now_ms() < end && last + 1 < MAXF) {
    int rc = nnrp_client_session_submit_nowait(f.cs, &req, 50, &last);
    if (rc != 0 && !CHECK_EQ_INT(rc, NNRP_ERR_WOULD_BLOCK))
      break;
    (void)drain_results(&f, 0);
  }
  drain_all(&f);
  nnrp_server_flow_stats fs;
  CHECK_EQ_INT(nnrp_server_session_flow_stats(f.ss, &fs), 0);
  CHECK(last > 300); /* ~200 per second at 5 ms each */
  CHECK(fs.held_peak <= 64);
  CHECK(f.srv_in_flight_peak <= 64);
  CHECK(f.qpeak <= 64);
  CHECK(fs.session_mem_peak < (uint64_t)4 << 20);
  CHECK_EQ_INT(fs.held_submits, 0);
  nnrp_client_flow_stats cst;
  CHECK_EQ_INT(nnrp_client_session_flow_stats(f.cs, &cst), 0);
  CHECK(cst.hints_received > 0);
  CHECK(cst.hints_saturated > 0);
  CHECK(cst.submit_waits > 0);
  CHECK(cst.session_mem_peak < (uint64_t)4 << 20);
  CHECK_EQ_U64(f.answered, last);
  check_one_terminal_each(&f, last);
  CHECK_EQ_U64(f.pushes, last);
  /* A graceful close with nothing in flight. */
  CHECK_EQ_INT(nnrp_client_session_close(f.cs, 2000), 0);
out:
  fx_end(&f);
}

/* ---- tests: waiting calls inside callbacks ------------------------------- */

typedef struct cb_ctx {
  int rc_put, rc_patch, rc_hint, ran;
} cb_ctx;

static void cb_connected(nnrp_client_session *cs, int status, void *user) {
  cb_ctx *c = user;
  if (status != 0)
    return;
  c->ran = 1;
  nnrp_cache_put_req req;
  memset(&req, 0, sizeof(req));
  req.object_kind = NNRP_OBJECT_CAMERA_BLOCK;
  c->rc_put = nnrp_client_session_put_cache(cs, &req, 100, NULL);
  nnrp_patch_req pr;
  memset(&pr, 0, sizeof(pr));
  pr.patch_fields = NNRP_PATCH_QUALITY_TIER;
  c->rc_patch = nnrp_client_session_patch_session(cs, &pr, -1, NULL);
  nnrp_result_hint h;
  c->rc_hint = nnrp_client_session_next_hint(cs, 100, &h, NULL);
}

TEST(waiting_calls_refused_in_callbacks) {
  int fds = rc_open_fds();
  nnrp_runtime *rt = NULL;
  nnrp_server *srv = NULL;
  CHECK_EQ_INT(nnrp_runtime_new(&rt, NULL), 0);
  nnrp_server_config sc;
  rc_server_config(&sc);
  CHECK_EQ_INT(nnrp_serve_tcp(rt, NULL, &sc, &srv), 0);
  cb_ctx c;
  memset(&c, 0, sizeof(c));
  nnrp_client_config cc;
  rc_client_config(&cc, nnrp_server_port(srv));
  cc.on_connected = cb_connected;
  cc.user = &c;
  nnrp_client_session *cs = NULL;
  CHECK_EQ_INT(nnrp_dial_client_start(rt, NULL, NULL, &cc, &cs), 0);
  for (int i = 0; i < 200 && !c.ran; i++)
    (void)nnrp_runtime_run_once(rt, 10);
  CHECK_EQ_INT(c.ran, 1);
  CHECK_EQ_INT(c.rc_put, NNRP_ERR_INVALID_STATE);
  CHECK_EQ_INT(c.rc_patch, NNRP_ERR_INVALID_STATE);
  CHECK_EQ_INT(c.rc_hint, NNRP_ERR_INVALID_STATE);
  /* Config checks. */
  cc.max_queued_hints = 65537;
  nnrp_client_session *bad = NULL;
  CHECK_EQ_INT(nnrp_dial_client_start(rt, NULL, NULL, &cc, &bad),
               NNRP_ERR_INVALID_ARGUMENT);
  sc.patch_rate_limit = NNRP_PATCH_RATE_LIMIT_MAX + 1;
  nnrp_server *bad_srv = NULL;
  CHECK_EQ_INT(nnrp_serve_tcp(rt, NULL, &sc, &bad_srv),
               NNRP_ERR_INVALID_ARGUMENT);
  nnrp_client_session_del(cs);
  nnrp_server_close(srv);
  nnrp_runtime_del(rt);
  CHECK_EQ_INT(rc_open_fds(), fds);
}

int main(void) {
  /* libuv opens process-wide descriptors on its first loop: warm up. */
  nnrp_runtime *warm = NULL;
  if (nnrp_runtime_new(&warm, NULL) == 0)
    nnrp_runtime_del(warm);
  RUN(cache_put_then_reference_and_mixed);
  RUN(cache_missing_reference_ends_once);
  RUN(cache_quota_flood_stays_bounded);
  RUN(patch_ack_policy_and_effective_state);
  RUN(patch_rate_limited);
  RUN(credit_window_two);
  RUN(pause_with_retry_after_then_resume);
  RUN(auto_pause_on_saturated_hints);
  RUN(hint_stream_is_bounded);
  RUN(held_submit_bound_stops_reading);
  RUN(auto_overload_pauses_and_resumes);
  RUN(fast_client_slow_server_for_seconds);
  RUN(waiting_calls_refused_in_callbacks);
  TEST_MAIN_END();
}
