/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_cache_session.c - the session cache of session.md §9 (D16) over an
 * in-memory client/server pair: negotiation, CACHE_PUT/ACK and the client
 * mirror, REFERENCE and MIXED submits resolved for the server application,
 * CACHE_MISS (ERROR + RESULT_DROP, one terminal whichever arrives first,
 * mirror clean-up), undecodable cached objects, put floods within the
 * quotas, disabled caches, invalidation scopes both ways, TTL, and objects
 * held by frames in flight.
 */
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "session/cache_store.h"
#include "session/session_int.h"
#include "session_pair.h"

#define MS 1000000ull

/* ---- objects ----------------------------------------------------------- */

static const uint8_t camera_obj[] = "CAMERA-0123";        /* 12 bytes */
static const uint8_t tix_obj[] = {0x05, 0x00, 0x09, 0x00}; /* RAW_U16 5, 9 */
static uint8_t sect_obj[32 + 8 + 5];                      /* 1 section */

static uint32_t rd32(const uint8_t *p) {
  return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
         (uint32_t)p[3] << 24;
}
static void wr16(uint8_t *p, uint16_t v) {
  p[0] = (uint8_t)v;
  p[1] = (uint8_t)(v >> 8);
}
static void wr32(uint8_t *p, uint32_t v) {
  for (int i = 0; i < 4; i++)
    p[i] = (uint8_t)(v >> (8 * i));
}

/* A TENSOR_SECTION_TABLE by hand (wire.md §8.5): role 1, UINT8, two tiles
 * "AB" and "CDE", variable length. */
static void make_section_table(void) {
  memset(sect_obj, 0, sizeof(sect_obj));
  wr16(sect_obj + 0, 1);               /* role_id */
  sect_obj[3] = NNRP_DTYPE_UINT8;      /* dtype_id */
  wr32(sect_obj + 16, 8);              /* length_table_bytes */
  wr32(sect_obj + 20, 5);              /* payload_bytes */
  wr32(sect_obj + 32, 2);              /* lengths */
  wr32(sect_obj + 36, 3);
  memcpy(sect_obj + 40, "ABCDE", 5);
}

static void key_of(const char *k, uint32_t *hi, uint32_t *lo) {
  nnrp_cache_key_from_bytes((const uint8_t *)k, strlen(k), hi, lo);
}

static nnrp_object_ref ref_of(uint16_t kind, uint32_t ns, const char *k) {
  nnrp_object_ref r;
  memset(&r, 0, sizeof(r));
  r.object_kind = kind;
  r.cache_namespace = ns;
  key_of(k, &r.cache_key_hi, &r.cache_key_lo);
  return r;
}

/* ---- pair and callbacks ------------------------------------------------ */

typedef struct ctx {
  /* server */
  int answer; /* 1: final empty result; 2: drop */
  int nsubmit;
  uint32_t frame;
  uint8_t resolved_count;
  nnrp_resolved_object resolved[4];
  uint8_t copy[4][64];
  int tensor_rc, camera_rc;
  uint32_t tile_ids[8], ntile;
  uint8_t tiles[8][8];
  size_t tile_len[8];
  uint32_t nsect_tiles;
  uint8_t camera[32];
  size_t camera_len;
  /* client */
  int nacks;
  nnrp_cache_ack ack;
  void *ack_user;
} ctx;

static void on_event(nnrp_pair *p, int side, const nnrp_event *ev, void *u) {
  ctx *c = u;
  if (side == NNRP_PAIR_CLIENT && ev->type == NNRP_EV_CACHE_ACK) {
    c->nacks++;
    c->ack = ev->packet->m.cache_ack;
    c->ack_user = ev->user_data;
    return;
  }
  if (side != NNRP_PAIR_SERVER || ev->type != NNRP_EV_SUBMIT)
    return;
  c->nsubmit++;
  c->frame = ev->frame_id;
  c->resolved_count = ev->resolved_count;
  for (int i = 0; i < ev->resolved_count && i < 4; i++) {
    c->resolved[i] = ev->resolved[i];
    if (ev->resolved[i].data.len <= 64)
      memcpy(c->copy[i], ev->resolved[i].data.ptr, ev->resolved[i].data.len);
  }
  nnrp_tensor_view tv;
  c->tensor_rc = nnrp_session_submit_tensor(ev, &tv);
  c->ntile = c->nsect_tiles = 0;
  if (c->tensor_rc == 0) {
    nnrp_tile_iter it;
    nnrp_tile_iter_init(&it, &tv.tiles);
    uint32_t id;
    while (c->ntile < 8 && nnrp_tile_iter_next(&it, &id) == 1)
      c->tile_ids[c->ntile++] = id;
    nnrp_section_iter si;
    nnrp_section_view sv;
    nnrp_section_iter_init(&si, &tv);
    while (nnrp_section_iter_next(&si, &sv) == 1) {
      nnrp_tile_data_iter ti;
      nnrp_bytes t;
      nnrp_tile_data_iter_init(&ti, &sv);
      while (c->nsect_tiles < 8 && nnrp_tile_data_iter_next(&ti, &t, NULL)) {
        c->tile_len[c->nsect_tiles] = t.len;
        memcpy(c->tiles[c->nsect_tiles++], t.ptr, t.len < 8 ? t.len : 8);
      }
    }
  }
  nnrp_bytes cam;
  c->camera_rc = nnrp_session_submit_object(ev, NNRP_OBJECT_CAMERA_BLOCK, &cam);
  c->camera_len = 0;
  if (c->camera_rc == 0 && cam.len <= sizeof(c->camera)) {
    memcpy(c->camera, cam.ptr, cam.len);
    c->camera_len = cam.len;
  }
  if (c->answer == 1) {
    nnrp_result r;
    memset(&r, 0, sizeof(r));
    r.final = 1;
    CHECK(nnrp_session_send_result(p->side[1], ev->frame_id, &r, p->now) > 0);
  } else if (c->answer == 2) {
    CHECK(nnrp_session_send_result_drop(p->side[1], ev->frame_id, 0, p->now) >
          0);
  }
}

static int setup_with(nnrp_pair *p, ctx *c, const nnrp_client_profile *cp,
                      const nnrp_server_profile *sp) {
  memset(c, 0, sizeof(*c));
  c->answer = 1;
  make_section_table();
  if (!CHECK_EQ_INT(nnrp_pair_init(p, cp, sp, NULL, NULL), 0))
    return 0;
  p->cb = on_event;
  p->user = c;
  return CHECK_EQ_INT(nnrp_pair_handshake(p), 0);
}

static int setup(nnrp_pair *p, ctx *c) { return setup_with(p, c, NULL, NULL); }

static int put_raw(nnrp_pair *p, uint32_t kind, uint32_t ns, const char *k,
                   const void *data, size_t len, uint32_t flags,
                   uint32_t ttl, void *user) {
  nnrp_cache_put_req q;
  memset(&q, 0, sizeof(q));
  q.object_kind = kind;
  q.cache_namespace = ns;
  q.key_bytes = (const uint8_t *)k;
  q.key_len = strlen(k);
  q.data.ptr = data;
  q.data.len = len;
  q.flags = flags;
  q.ttl_ms = ttl;
  q.user_data = user;
  return nnrp_session_put_cache(p->side[0], &q, p->now);
}

/* put + pump; returns the ACK status (or the put's error). */
static int put(nnrp_pair *p, ctx *c, uint32_t kind, uint32_t ns, const char *k,
               const void *data, size_t len, uint32_t flags, uint32_t ttl) {
  int acks = c->nacks;
  int rc = put_raw(p, kind, ns, k, data, len, flags, ttl, NULL);
  if (rc != 0)
    return rc;
  nnrp_pair_pump(p);
  if (!CHECK_EQ_INT(c->nacks, acks + 1))
    return -1000;
  return (int)c->ack.status;
}

static int has(nnrp_pair *p, int side, uint32_t ns, const char *k) {
  uint32_t hi, lo;
  key_of(k, &hi, &lo);
  return nnrp_session_cache_has(p->side[side], ns, hi, lo);
}

static int both(nnrp_pair *p, uint32_t ns, const char *k) {
  int a = has(p, 0, ns, k), b = has(p, 1, ns, k);
  CHECK_EQ_INT(a, b); /* client and server agree */
  return a;
}

static void put_standard_objects(nnrp_pair *p, ctx *c, uint32_t ns) {
  CHECK_EQ_INT(put(p, c, NNRP_OBJECT_CAMERA_BLOCK, ns, "cam", camera_obj,
                   sizeof(camera_obj), 0, 0),
               NNRP_CACHE_ACK_ACCEPTED);
  CHECK_EQ_INT(put(p, c, NNRP_OBJECT_TILE_INDEX_BLOCK, ns, "tix", tix_obj,
                   sizeof(tix_obj), 0, 0),
               NNRP_CACHE_ACK_ACCEPTED);
  CHECK_EQ_INT(put(p, c, NNRP_OBJECT_TENSOR_SECTION_TABLE, ns, "sect",
                   sect_obj, sizeof(sect_obj), 0, 0),
               NNRP_CACHE_ACK_ACCEPTED);
}

/* A submit whose tensor slots are referenced as given (mask of NNRP_SLOT_*
 * referenced; the others inline). */
static nnrp_tensor_data tdat;
static nnrp_object_ref refs[4];
static uint16_t inline_ids[2] = {5, 9};
static nnrp_bytes inline_tiles[2];
static nnrp_section_data inline_sect;

static void make_submit(nnrp_submit *r, uint32_t ns, uint32_t ref_slots,
                        const char *tix_key) {
  memset(&tdat, 0, sizeof(tdat));
  tdat.tile_index_mode = NNRP_TILE_INDEX_RAW_U16;
  tdat.tile_count = 2;
  tdat.section_count = 1;
  uint32_t n = 0;
  if (ref_slots & NNRP_SLOT_CAMERA)
    refs[n++] = ref_of(NNRP_OBJECT_CAMERA_BLOCK, ns, "cam");
  else
    tdat.camera = (nnrp_bytes){(const uint8_t *)"inline-cam", 10};
  if (ref_slots & NNRP_SLOT_TILE_INDEX)
    refs[n++] = ref_of(NNRP_OBJECT_TILE_INDEX_BLOCK, ns, tix_key);
  else
    tdat.tile_ids = inline_ids;
  if (ref_slots & NNRP_SLOT_SECTION_TABLE) {
    refs[n++] = ref_of(NNRP_OBJECT_TENSOR_SECTION_TABLE, ns, "sect");
  } else {
    inline_tiles[0] = (nnrp_bytes){(const uint8_t *)"xy", 2};
    inline_tiles[1] = (nnrp_bytes){(const uint8_t *)"z", 1};
    memset(&inline_sect, 0, sizeof(inline_sect));
    inline_sect.role_id = 1;
    inline_sect.dtype_id = NNRP_DTYPE_UINT8;
    inline_sect.tiles = inline_tiles;
    tdat.sections = &inline_sect;
  }
  memset(r, 0, sizeof(*r));
  r->meta.src_width = 64;
  r->meta.src_height = 32;
  r->meta.tile_width = 32;
  r->meta.tile_height = 32;
  r->meta.loss_tolerance_policy = NNRP_LOSS_TOLERANCE_INHERIT;
  r->meta.submit_mode = ref_slots == 0x7 ? NNRP_SUBMIT_MODE_REFERENCE
                                         : NNRP_SUBMIT_MODE_MIXED;
  r->body.tensor = &tdat;
  r->body.refs = refs;
  r->body.ref_count = n;
}

/* Client-side terminal events of a frame. */
static size_t terminals(const nnrp_pair *p, uint32_t id) {
  size_t t = 0;
  for (size_t i = 0; i < p->nlog; i++) {
    const nnrp_pair_log *l = &p->log[i];
    if (l->side == NNRP_PAIR_CLIENT && l->frame_id == id &&
        ((l->type == NNRP_EV_RESULT && l->final) || l->type == NNRP_EV_DROP ||
         l->type == NNRP_EV_FRAME_FAILED))
      t++;
  }
  return t;
}

static const nnrp_pair_log *last_of(const nnrp_pair *p, int side,
                                    nnrp_event_type type) {
  for (size_t i = p->nlog; i-- > 0;)
    if (p->log[i].side == side && p->log[i].type == type)
      return &p->log[i];
  return NULL;
}

static nnrp_cache_stats stats(nnrp_pair *p, int side) {
  nnrp_cache_stats st;
  nnrp_session_cache_stats(p->side[side], &st);
  return st;
}

/* ---- negotiation, put, ack, mirror ------------------------------------- */

TEST(put_ack_and_mirror) {
  nnrp_pair p;
  ctx c;
  if (!setup(&p, &c))
    return;
  nnrp_cache_stats s = stats(&p, 1);
  CHECK_EQ_INT(s.enabled, 1);
  CHECK_EQ_INT(s.max_entries, 256); /* min(client 256, server 1024) */
  CHECK_EQ_U64(s.max_bytes, 8u << 20);
  CHECK_EQ_INT(stats(&p, 0).enabled, 1);
  /* seed key "tst-v1" through FNV-1a; namespace 3; user data echoed. */
  int tag;
  CHECK_EQ_INT(put_raw(&p, NNRP_OBJECT_TENSOR_SECTION_TABLE, 3, "tst-v1",
                       sect_obj, sizeof(sect_obj), NNRP_CACHE_PUT_REUSABLE,
                       0, &tag),
               0);
  CHECK_EQ_INT(stats(&p, 0).pending_puts, 1);
  CHECK_EQ_INT(has(&p, 0, 3, "tst-v1"), 0); /* not before the ACK */
  nnrp_pair_pump(&p);
  CHECK_EQ_INT(c.nacks, 1);
  CHECK(c.ack_user == &tag);
  CHECK_EQ_INT(c.ack.status, NNRP_CACHE_ACK_ACCEPTED);
  CHECK_EQ_INT(c.ack.detail_code, 0);
  CHECK_EQ_INT(c.ack.accepted_ttl_ms, 0);
  CHECK_EQ_U64(c.ack.max_object_bytes, 8u << 20);
  uint32_t hi, lo;
  key_of("tst-v1", &hi, &lo);
  CHECK_EQ_U64(c.ack.cache_key_hi, hi);
  CHECK_EQ_U64(c.ack.cache_key_lo, lo);
  CHECK_EQ_INT(c.ack.cache_namespace, 3);
  CHECK_EQ_INT(has(&p, 0, 3, "tst-v1"), 1);
  CHECK_EQ_INT(has(&p, 1, 3, "tst-v1"), 1);
  CHECK_EQ_INT(has(&p, 0, 4, "tst-v1"), 0);
  CHECK_EQ_INT(stats(&p, 0).pending_puts, 0);
  /* The object was referenced until written: SENT with the user data. */
  int sent = 0;
  for (size_t i = 0; i < p.nlog; i++)
    if (p.log[i].side == 0 && p.log[i].type == NNRP_EV_SENT &&
        p.log[i].frame_id == 0)
      sent++;
  CHECK_EQ_INT(sent, 1);
  /* The wire: CACHE_PUT with the derived key and object_bytes. */
  nnrp_packet pk;
  if (CHECK(nnrp_pair_sent(&p, 0, NNRP_MSG_CACHE_PUT, 0, &pk))) {
    CHECK_EQ_U64(pk.m.cache_put.cache_key_hi, hi);
    CHECK_EQ_U64(pk.m.cache_put.object_bytes, sizeof(sect_obj));
    CHECK_EQ_U64(pk.m.cache_put.flags, NNRP_CACHE_PUT_REUSABLE);
    CHECK_EQ_MEM(pk.b.object.ptr, sect_obj, sizeof(sect_obj));
  }
  /* Re-put: REPLACED; numeric keys are used as given. */
  CHECK_EQ_INT(put(&p, &c, NNRP_OBJECT_TENSOR_SECTION_TABLE, 3, "tst-v1",
                   sect_obj, 10, 0, 0),
               NNRP_CACHE_ACK_REPLACED);
  nnrp_cache_put_req q;
  memset(&q, 0, sizeof(q));
  q.object_kind = NNRP_OBJECT_PROMPT_SEGMENT;
  q.key_hi = 0x01020304;
  q.key_lo = 0x05060708;
  q.data = (nnrp_bytes){(const uint8_t *)"hello", 5};
  CHECK_EQ_INT(nnrp_session_put_cache(p.side[0], &q, p.now), 0);
  nnrp_pair_pump(&p);
  CHECK_EQ_INT(c.ack.status, NNRP_CACHE_ACK_REJECTED); /* kind 7 not offered */
  CHECK_EQ_INT(c.ack.detail_code, 3);
  CHECK_EQ_INT(c.ack.accepted_ttl_ms, 0);
  CHECK_EQ_INT(nnrp_session_cache_has(p.side[0], 0, 0x01020304, 0x05060708),
               0);
  s = stats(&p, 1);
  CHECK_EQ_INT(s.entries, 1);
  CHECK_EQ_U64(s.bytes, 10);
  CHECK_EQ_U64(s.puts_accepted, 2);
  CHECK_EQ_U64(s.puts_rejected, 1);
  s = stats(&p, 0);
  CHECK_EQ_INT(s.entries, 1);
  CHECK_EQ_U64(s.bytes, 10);
  nnrp_pair_free(&p);
}

TEST(put_arguments_and_states) {
  nnrp_pair p;
  ctx c;
  if (!setup_with(&p, &c, NULL, NULL))
    return;
  nnrp_cache_put_req q;
  memset(&q, 0, sizeof(q));
  q.object_kind = NNRP_OBJECT_CAMERA_BLOCK;
  CHECK_EQ_INT(nnrp_session_put_cache(p.side[1], &q, p.now),
               NNRP_ERR_INVALID_ARGUMENT); /* server session */
  CHECK_EQ_INT(nnrp_session_put_cache(p.side[0], NULL, p.now),
               NNRP_ERR_INVALID_ARGUMENT);
  q.object_kind = 0;
  CHECK_EQ_INT(nnrp_session_put_cache(p.side[0], &q, p.now),
               NNRP_ERR_INVALID_ARGUMENT);
  q.object_kind = 10;
  CHECK_EQ_INT(nnrp_session_put_cache(p.side[0], &q, p.now),
               NNRP_ERR_INVALID_ARGUMENT);
  q.object_kind = 1;
  q.flags = 0x4;
  CHECK_EQ_INT(nnrp_session_put_cache(p.side[0], &q, p.now),
               NNRP_ERR_INVALID_ARGUMENT);
  q.flags = 0;
  q.data.len = 3; /* NULL data */
  CHECK_EQ_INT(nnrp_session_put_cache(p.side[0], &q, p.now),
               NNRP_ERR_INVALID_ARGUMENT);
  q.data.len = 0;
  /* At most NNRP_CACHE_MAX_PENDING_PUTS await their ACK. */
  for (uint32_t i = 0; i < NNRP_CACHE_MAX_PENDING_PUTS; i++) {
    q.key_lo = i;
    CHECK_EQ_INT(nnrp_session_put_cache(p.side[0], &q, p.now), 0);
  }
  q.key_lo = 999;
  CHECK_EQ_INT(nnrp_session_put_cache(p.side[0], &q, p.now),
               NNRP_ERR_WOULD_BLOCK);
  nnrp_pair_pump(&p);
  CHECK_EQ_INT(c.nacks, NNRP_CACHE_MAX_PENDING_PUTS);
  CHECK_EQ_INT(nnrp_session_put_cache(p.side[0], &q, p.now), 0);
  nnrp_pair_pump(&p);
  /* Invalidate arguments. */
  nnrp_cache_invalidate_req iv;
  memset(&iv, 0, sizeof(iv));
  iv.scope = 4;
  CHECK_EQ_INT(nnrp_session_invalidate_cache(p.side[0], &iv, p.now),
               NNRP_ERR_INVALID_ARGUMENT);
  iv.scope = NNRP_CACHE_INVALIDATE_OBJECT_KIND;
  iv.object_kind = 0;
  CHECK_EQ_INT(nnrp_session_invalidate_cache(p.side[0], &iv, p.now),
               NNRP_ERR_INVALID_ARGUMENT);
  /* After close: CLOSED. */
  CHECK_EQ_INT(nnrp_session_close(p.side[0], p.now), 0);
  CHECK_EQ_INT(nnrp_session_put_cache(p.side[0], &q, p.now),
               NNRP_ERR_INVALID_STATE); /* DRAINING */
  nnrp_pair_pump(&p);
  CHECK_EQ_INT(nnrp_session_get_state(p.side[0]), NNRP_STATE_CLOSED);
  CHECK_EQ_INT(nnrp_session_put_cache(p.side[0], &q, p.now), NNRP_ERR_CLOSED);
  nnrp_pair_free(&p);
  /* Before the handshake. */
  nnrp_session *s;
  nnrp_client_profile cp;
  nnrp_client_profile_default(&cp);
  if (CHECK_EQ_INT(nnrp_session_client_new(&s, &cp, NULL, NULL), 0)) {
    CHECK_EQ_INT(nnrp_session_put_cache(s, &q, 1), NNRP_ERR_INVALID_STATE);
    CHECK_EQ_INT(nnrp_session_cache_has(s, 0, 0, 0), 0);
    nnrp_session_del(s);
  }
}

TEST(unsolicited_ack_ignored) {
  nnrp_pair p;
  ctx c;
  if (!setup(&p, &c))
    return;
  uint8_t scratch[256];
  nnrp_out o;
  nnrp_out_init(&o, scratch, sizeof(scratch), NULL, 0);
  nnrp_header h;
  nnrp_header_init(&h, NNRP_MSG_CACHE_ACK);
  h.session_id = nnrp_session_id(p.side[0]);
  nnrp_meta m;
  memset(&m, 0, sizeof(m));
  m.cache_ack.cache_key_lo = 42;
  if (!CHECK_EQ_INT(nnrp_build_control(&o, &h, &m, NULL, NULL), 0))
    return;
  nnrp_pair_inject(&p, NNRP_PAIR_CLIENT, scratch, o.scratch_len);
  CHECK_EQ_INT(c.nacks, 0);
  CHECK_EQ_INT(nnrp_pair_count(&p, 0, NNRP_EV_CACHE_ACK, 0), 0);
  CHECK_EQ_INT(nnrp_session_cache_has(p.side[0], 0, 0, 42), 0);
  CHECK_EQ_INT(nnrp_session_get_state(p.side[0]), NNRP_STATE_ACTIVE);
  nnrp_pair_free(&p);
}

/* ---- references -------------------------------------------------------- */

TEST(reference_submit_resolved) {
  nnrp_pair p;
  ctx c;
  if (!setup(&p, &c))
    return;
  put_standard_objects(&p, &c, 7);
  nnrp_submit r;
  make_submit(&r, 7, 0x7, "tix");
  uint32_t id;
  CHECK_EQ_INT(nnrp_session_submit(p.side[0], &r, &id, p.now), 0);
  nnrp_pair_pump(&p);
  nnrp_packet pk;
  if (CHECK(nnrp_pair_sent(&p, 0, NNRP_MSG_FRAME_SUBMIT, 0, &pk))) {
    CHECK_EQ_INT(pk.m.frame_submit.submit_mode, NNRP_SUBMIT_MODE_REFERENCE);
    CHECK_EQ_INT(pk.m.frame_submit.object_ref_mask, 0x7);
    CHECK_EQ_INT(pk.m.frame_submit.tile_count, 2);
    CHECK_EQ_INT(pk.m.frame_submit.tile_index_bytes, 0);
    CHECK_EQ_INT(pk.b.data.ref_count, 3);
  }
  CHECK_EQ_INT(c.nsubmit, 1);
  if (CHECK_EQ_INT(c.resolved_count, 3)) {
    CHECK_EQ_INT(c.resolved[0].object_kind, NNRP_OBJECT_CAMERA_BLOCK);
    CHECK_EQ_INT(c.resolved[0].cache_namespace, 7);
    CHECK_EQ_U64(c.resolved[0].data.len, sizeof(camera_obj));
    CHECK_EQ_MEM(c.copy[0], camera_obj, sizeof(camera_obj));
    CHECK_EQ_INT(c.resolved[1].object_kind, NNRP_OBJECT_TILE_INDEX_BLOCK);
    CHECK_EQ_MEM(c.copy[1], tix_obj, sizeof(tix_obj));
    CHECK_EQ_INT(c.resolved[2].object_kind, NNRP_OBJECT_TENSOR_SECTION_TABLE);
    CHECK_EQ_U64(c.resolved[2].data.len, sizeof(sect_obj));
    CHECK_EQ_MEM(c.copy[2], sect_obj, sizeof(sect_obj));
    uint32_t hi, lo;
    key_of("sect", &hi, &lo);
    CHECK_EQ_U64(c.resolved[2].cache_key_hi, hi);
    CHECK_EQ_U64(c.resolved[2].cache_key_lo, lo);
  }
  /* Handed over as if inline (§9.5 rule 4). */
  CHECK_EQ_INT(c.tensor_rc, 0);
  CHECK_EQ_INT(c.ntile, 2);
  CHECK_EQ_INT(c.tile_ids[0], 5);
  CHECK_EQ_INT(c.tile_ids[1], 9);
  CHECK_EQ_INT(c.nsect_tiles, 2);
  CHECK(c.tile_len[0] == 2 && memcmp(c.tiles[0], "AB", 2) == 0);
  CHECK(c.tile_len[1] == 3 && memcmp(c.tiles[1], "CDE", 3) == 0);
  CHECK_EQ_INT(c.camera_rc, 0);
  CHECK(c.camera_len == sizeof(camera_obj) &&
        memcmp(c.camera, camera_obj, sizeof(camera_obj)) == 0);
  CHECK_EQ_INT(nnrp_pair_count(&p, 0, NNRP_EV_RESULT, id), 1);
  CHECK_EQ_INT(terminals(&p, id), 1);
  nnrp_cache_stats s = stats(&p, 1);
  CHECK_EQ_U64(s.resolved_frames, 1);
  CHECK_EQ_INT(s.entries, 3);
  CHECK_EQ_INT(s.held_entries, 0);
  CHECK_EQ_INT(nnrp_session_in_flight(p.side[1]), 0);
  nnrp_pair_free(&p);
}

TEST(mixed_submit_resolved) {
  nnrp_pair p;
  ctx c;
  if (!setup(&p, &c))
    return;
  put_standard_objects(&p, &c, 0);
  nnrp_submit r;
  make_submit(&r, 0, NNRP_SLOT_SECTION_TABLE, "tix");
  uint32_t id;
  CHECK_EQ_INT(nnrp_session_submit(p.side[0], &r, &id, p.now), 0);
  nnrp_pair_pump(&p);
  nnrp_packet pk;
  if (CHECK(nnrp_pair_sent(&p, 0, NNRP_MSG_FRAME_SUBMIT, 0, &pk))) {
    CHECK_EQ_INT(pk.m.frame_submit.submit_mode, NNRP_SUBMIT_MODE_MIXED);
    CHECK_EQ_INT(pk.m.frame_submit.object_ref_mask, NNRP_SLOT_SECTION_TABLE);
  }
  CHECK_EQ_INT(c.nsubmit, 1);
  CHECK_EQ_INT(c.resolved_count, 1);
  CHECK_EQ_INT(c.resolved[0].object_kind, NNRP_OBJECT_TENSOR_SECTION_TABLE);
  /* Inline tile ids and camera, cached sections. */
  CHECK_EQ_INT(c.tensor_rc, 0);
  CHECK(c.ntile == 2 && c.tile_ids[0] == 5 && c.tile_ids[1] == 9);
  CHECK(c.nsect_tiles == 2 && memcmp(c.tiles[1], "CDE", 3) == 0);
  CHECK(c.camera_len == 10 && memcmp(c.camera, "inline-cam", 10) == 0);
  /* The other way round: inline sections, cached tile index + camera. */
  make_submit(&r, 0, NNRP_SLOT_CAMERA | NNRP_SLOT_TILE_INDEX, "tix");
  CHECK_EQ_INT(nnrp_session_submit(p.side[0], &r, &id, p.now), 0);
  nnrp_pair_pump(&p);
  CHECK_EQ_INT(c.nsubmit, 2);
  CHECK_EQ_INT(c.resolved_count, 2);
  CHECK(c.ntile == 2 && c.tile_ids[0] == 5 && c.tile_ids[1] == 9);
  CHECK(c.nsect_tiles == 2 && c.tile_len[0] == 2 &&
        memcmp(c.tiles[0], "xy", 2) == 0);
  CHECK(c.camera_len == sizeof(camera_obj));
  CHECK_EQ_INT(terminals(&p, id), 1);
  CHECK_EQ_U64(stats(&p, 1).resolved_frames, 2);
  nnrp_pair_free(&p);
}

/* Walks the server's tap from `from` and returns the offset and length of
 * the n-th packet of msg_type. */
static int tap_find(const nnrp_pair *p, size_t from, uint8_t type,
                    size_t *off, size_t *len) {
  const uint8_t *b = p->tap[1];
  size_t o = from;
  while (o + 40 <= p->tap_len[1]) {
    size_t n = 40 + (size_t)rd32(b + o + 12) + rd32(b + o + 16);
    if (b[o + 6] == type) {
      *off = o;
      *len = n;
      return 1;
    }
    o += n;
  }
  return 0;
}

TEST(missing_object_cache_miss_then_drop) {
  nnrp_pair p;
  ctx c;
  if (!setup(&p, &c))
    return;
  put_standard_objects(&p, &c, 0);
  nnrp_submit r;
  make_submit(&r, 0, 0x7, "no-such-key");
  uint32_t id;
  size_t mark = p.tap_len[1];
  CHECK_EQ_INT(nnrp_session_submit(p.side[0], &r, &id, p.now), 0);
  nnrp_pair_pump(&p);
  /* Never a guessed fallback: the application does not see the frame. */
  CHECK_EQ_INT(c.nsubmit, 0);
  CHECK_EQ_INT(nnrp_session_in_flight(p.side[1]), 0);
  /* Server: ERROR CACHE_MISS (FRAME, not fatal, related frame) first,
   * then RESULT_DROP for the frame. */
  size_t eo, el, dro, drl;
  if (CHECK(tap_find(&p, mark, NNRP_MSG_ERROR, &eo, &el)) &&
      CHECK(tap_find(&p, mark, NNRP_MSG_RESULT_DROP, &dro, &drl))) {
    CHECK(eo < dro);
    nnrp_packet pk;
    nnrp_wire_opts wo;
    nnrp_wire_opts_default(&wo);
    if (CHECK_EQ_INT(nnrp_packet_decode(&pk, p.tap[1] + eo, el, &wo, NULL),
                     0)) {
      CHECK_EQ_INT(pk.m.error.error_code, NNRP_ERROR_CODE_CACHE_MISS);
      CHECK_EQ_INT(pk.m.error.error_scope, NNRP_ERROR_SCOPE_FRAME);
      CHECK_EQ_INT(pk.m.error.is_fatal, 0);
      CHECK_EQ_INT(pk.m.error.related_frame_id, id);
      uint32_t hi, lo;
      key_of("no-such-key", &hi, &lo);
      char want[32] = "key 0x";
      static const char hex[] = "0123456789abcdef";
      for (int i = 0; i < 8; i++)
        want[6 + i] = hex[(hi >> (28 - 4 * i)) & 0xF];
      want[14] = '\0';
      int named = 0;
      for (size_t i = 0; i + 14 <= pk.b.diagnostic.len; i++)
        if (memcmp(pk.b.diagnostic.ptr + i, want, 14) == 0)
          named = 1;
      CHECK(named); /* the diagnostic names the key */
    }
    CHECK_EQ_U64(rd32(p.tap[1] + dro + 24), id); /* header frame_id */
  }
  /* Client: the ERROR arrived first and ended the frame; the drop that
   * followed was discarded. */
  CHECK_EQ_INT(terminals(&p, id), 1);
  const nnrp_pair_log *l = last_of(&p, 0, NNRP_EV_FRAME_FAILED);
  if (CHECK(l != NULL)) {
    CHECK_EQ_INT(l->frame_id, id);
    CHECK_EQ_INT(l->error_code, NNRP_ERROR_CODE_CACHE_MISS);
    CHECK_EQ_INT(l->error_scope, NNRP_ERROR_SCOPE_FRAME);
  }
  CHECK_EQ_INT(nnrp_pair_count(&p, 0, NNRP_EV_DROP, id), 0);
  CHECK_EQ_U64(stats(&p, 1).misses, 1);
  CHECK_EQ_U64(stats(&p, 0).misses, 1);
  /* §9.6 rule 3: every key the frame referenced left the mirror. */
  CHECK_EQ_INT(has(&p, 0, 0, "cam"), 0);
  CHECK_EQ_INT(has(&p, 0, 0, "sect"), 0);
  CHECK_EQ_INT(has(&p, 1, 0, "cam"), 1); /* the server still has them */
  /* A kind mismatch is a miss too (§9.5 rule 1): "cam" is a camera. */
  make_submit(&r, 0, 0x7, "cam");
  CHECK_EQ_INT(nnrp_session_submit(p.side[0], &r, &id, p.now), 0);
  nnrp_pair_pump(&p);
  CHECK_EQ_INT(c.nsubmit, 0);
  CHECK_EQ_INT(terminals(&p, id), 1);
  l = last_of(&p, 0, NNRP_EV_FRAME_FAILED);
  CHECK(l != NULL && l->frame_id == id &&
        l->error_code == NNRP_ERROR_CODE_CACHE_MISS);
  nnrp_pair_free(&p);
}

/* The server lost an object the client still lists (its CACHE_INVALIDATE
 * never arrived): the CACHE_MISS cleans the mirror. */
TEST(cache_miss_cleans_stale_mirror) {
  nnrp_pair p;
  ctx c;
  if (!setup(&p, &c))
    return;
  put_standard_objects(&p, &c, 0);
  nnrp_cache_invalidate_req iv;
  memset(&iv, 0, sizeof(iv));
  iv.scope = NNRP_CACHE_INVALIDATE_OBJECT_KEY;
  iv.key_bytes = (const uint8_t *)"tix";
  iv.key_len = 3;
  iv.reason_code = 3;
  p.cut[1] = 1;
  CHECK_EQ_INT(nnrp_session_invalidate_cache(p.side[1], &iv, p.now), 0);
  nnrp_pair_pump(&p);
  p.cut[1] = 0;
  CHECK_EQ_INT(has(&p, 1, 0, "tix"), 0);
  CHECK_EQ_INT(has(&p, 0, 0, "tix"), 1); /* stale */
  nnrp_submit r;
  make_submit(&r, 0, 0x7, "tix");
  uint32_t id;
  CHECK_EQ_INT(nnrp_session_submit(p.side[0], &r, &id, p.now), 0);
  nnrp_pair_pump(&p);
  CHECK_EQ_INT(terminals(&p, id), 1);
  CHECK_EQ_INT(has(&p, 0, 0, "tix"), 0);
  CHECK_EQ_INT(has(&p, 0, 0, "cam"), 0);
  CHECK_EQ_INT(has(&p, 0, 0, "sect"), 0);
  /* Re-PUT (the server still had two of them) and reference again. */
  CHECK_EQ_INT(put(&p, &c, NNRP_OBJECT_CAMERA_BLOCK, 0, "cam", camera_obj,
                   sizeof(camera_obj), 0, 0),
               NNRP_CACHE_ACK_REPLACED);
  CHECK_EQ_INT(put(&p, &c, NNRP_OBJECT_TILE_INDEX_BLOCK, 0, "tix", tix_obj,
                   sizeof(tix_obj), 0, 0),
               NNRP_CACHE_ACK_ACCEPTED);
  CHECK_EQ_INT(put(&p, &c, NNRP_OBJECT_TENSOR_SECTION_TABLE, 0, "sect",
                   sect_obj, sizeof(sect_obj), 0, 0),
               NNRP_CACHE_ACK_REPLACED);
  CHECK_EQ_INT(nnrp_session_submit(p.side[0], &r, &id, p.now), 0);
  nnrp_pair_pump(&p);
  CHECK_EQ_INT(c.nsubmit, 1);
  CHECK_EQ_INT(nnrp_pair_count(&p, 0, NNRP_EV_RESULT, id), 1);
  nnrp_pair_free(&p);
}

/* QUIC per-frame streams: the RESULT_DROP may overtake the ERROR. The
 * client ends the frame on the drop; the late ERROR changes nothing but is
 * surfaced, and still cleans the mirror (session.md §7.2 notes 1-2). */
TEST(drop_overtakes_cache_miss_error) {
  nnrp_pair p;
  ctx c;
  if (!setup(&p, &c))
    return;
  put_standard_objects(&p, &c, 0);
  nnrp_submit r;
  make_submit(&r, 0, 0x7, "gone");
  uint32_t id;
  size_t mark = p.tap_len[1];
  p.cut[1] = 1;
  CHECK_EQ_INT(nnrp_session_submit(p.side[0], &r, &id, p.now), 0);
  nnrp_pair_pump(&p);
  p.cut[1] = 0;
  size_t eo, el, dro, drl;
  if (!CHECK(tap_find(&p, mark, NNRP_MSG_ERROR, &eo, &el)) ||
      !CHECK(tap_find(&p, mark, NNRP_MSG_RESULT_DROP, &dro, &drl))) {
    nnrp_pair_free(&p);
    return;
  }
  uint8_t err[512], drop[64];
  memcpy(err, p.tap[1] + eo, el);
  memcpy(drop, p.tap[1] + dro, drl);
  nnrp_pair_inject(&p, NNRP_PAIR_CLIENT, drop, drl);
  CHECK_EQ_INT(nnrp_pair_count(&p, 0, NNRP_EV_DROP, id), 1);
  CHECK_EQ_INT(has(&p, 0, 0, "cam"), 1); /* not yet known as a miss */
  nnrp_pair_inject(&p, NNRP_PAIR_CLIENT, err, el);
  CHECK_EQ_INT(terminals(&p, id), 1);
  const nnrp_pair_log *l = last_of(&p, 0, NNRP_EV_PEER_ERROR);
  if (CHECK(l != NULL)) {
    CHECK_EQ_INT(l->frame_id, id);
    CHECK_EQ_INT(l->error_code, NNRP_ERROR_CODE_CACHE_MISS);
  }
  CHECK_EQ_INT(has(&p, 0, 0, "cam"), 0);
  CHECK_EQ_INT(has(&p, 0, 0, "sect"), 0);
  CHECK_EQ_INT(nnrp_session_get_state(p.side[0]), NNRP_STATE_ACTIVE);
  nnrp_pair_free(&p);
}

/* §9.5 rule 3: a cached object that does not decode for the frame. */
TEST(undecodable_cached_object_dropped) {
  nnrp_pair p;
  ctx c;
  if (!setup(&p, &c))
    return;
  put_standard_objects(&p, &c, 0);
  CHECK_EQ_INT(put(&p, &c, NNRP_OBJECT_TILE_INDEX_BLOCK, 0, "bad-tix", "abc",
                   3, 0, 0),
               NNRP_CACHE_ACK_ACCEPTED); /* opaque when put */
  nnrp_submit r;
  make_submit(&r, 0, 0x7, "bad-tix"); /* RAW_U16 x 2 needs 4 bytes */
  uint32_t id;
  size_t mark = p.tap_len[1];
  CHECK_EQ_INT(nnrp_session_submit(p.side[0], &r, &id, p.now), 0);
  nnrp_pair_pump(&p);
  CHECK_EQ_INT(c.nsubmit, 0);
  size_t eo, el, dro, drl;
  CHECK(tap_find(&p, mark, NNRP_MSG_ERROR, &eo, &el));
  CHECK(tap_find(&p, mark, NNRP_MSG_RESULT_DROP, &dro, &drl));
  CHECK_EQ_INT(terminals(&p, id), 1);
  const nnrp_pair_log *l = last_of(&p, 0, NNRP_EV_FRAME_FAILED);
  if (CHECK(l != NULL)) {
    CHECK_EQ_INT(l->frame_id, id);
    CHECK_EQ_INT(l->error_code, NNRP_ERROR_CODE_MALFORMED_BODY);
    CHECK_EQ_INT(l->error_scope, NNRP_ERROR_SCOPE_SESSION);
  }
  CHECK_EQ_INT(has(&p, 0, 0, "bad-tix"), 1); /* not a CACHE_MISS */
  CHECK_EQ_INT(nnrp_session_in_flight(p.side[1]), 0);
  /* A section table that does not match section_count / tile_count. */
  CHECK_EQ_INT(put(&p, &c, NNRP_OBJECT_TENSOR_SECTION_TABLE, 0, "sect",
                   sect_obj, sizeof(sect_obj) - 1, 0, 0),
               NNRP_CACHE_ACK_REPLACED);
  make_submit(&r, 0, 0x7, "tix");
  CHECK_EQ_INT(nnrp_session_submit(p.side[0], &r, &id, p.now), 0);
  nnrp_pair_pump(&p);
  CHECK_EQ_INT(c.nsubmit, 0);
  CHECK_EQ_INT(terminals(&p, id), 1);
  l = last_of(&p, 0, NNRP_EV_FRAME_FAILED);
  CHECK(l != NULL && l->error_code == NNRP_ERROR_CODE_MALFORMED_BODY);
  CHECK_EQ_INT(nnrp_session_get_state(p.side[1]), NNRP_STATE_ACTIVE);
  nnrp_pair_free(&p);
}

/* ---- disabled caches --------------------------------------------------- */

static void check_disabled(nnrp_pair *p, ctx *c) {
  const nnrp_server_hello_ack *a = nnrp_session_server_hello(p->side[0]);
  if (CHECK(a != NULL)) {
    CHECK_EQ_INT(a->cache_object_bitmap, 0);
    CHECK_EQ_INT(a->max_cache_entries, 0);
    CHECK_EQ_INT(a->max_cache_bytes, 0);
    CHECK_EQ_INT(a->server_flags & NNRP_SERVER_FLAG_CACHE_ENABLED, 0);
  }
  CHECK_EQ_INT(stats(p, 1).enabled, 0);
  CHECK_EQ_INT(put(p, c, NNRP_OBJECT_CAMERA_BLOCK, 0, "cam", camera_obj,
                   sizeof(camera_obj), 0, 5000),
               NNRP_CACHE_ACK_REJECTED);
  CHECK_EQ_INT(c->ack.detail_code, 4);
  CHECK_EQ_INT(c->ack.accepted_ttl_ms, 0);
  CHECK_EQ_INT(c->ack.max_object_bytes, 0);
  CHECK_EQ_INT(has(p, 0, 0, "cam"), 0);
  CHECK_EQ_INT(has(p, 1, 0, "cam"), 0);
  /* References are refused at step 17 (UNSUPPORTED_CAPABILITY, SESSION,
   * not fatal); the frame fails on the client. */
  nnrp_submit r;
  make_submit(&r, 0, 0x7, "tix");
  uint32_t id;
  CHECK_EQ_INT(nnrp_session_submit(p->side[0], &r, &id, p->now), 0);
  nnrp_pair_pump(p);
  CHECK_EQ_INT(c->nsubmit, 0);
  CHECK_EQ_INT(terminals(p, id), 1);
  const nnrp_pair_log *l = last_of(p, 0, NNRP_EV_FRAME_FAILED);
  if (CHECK(l != NULL)) {
    CHECK_EQ_INT(l->frame_id, id);
    CHECK_EQ_INT(l->error_code, NNRP_ERROR_CODE_UNSUPPORTED_CAPABILITY);
    CHECK_EQ_INT(l->error_scope, NNRP_ERROR_SCOPE_SESSION);
  }
  CHECK_EQ_INT(nnrp_session_get_state(p->side[0]), NNRP_STATE_ACTIVE);
  CHECK_EQ_INT(nnrp_session_get_state(p->side[1]), NNRP_STATE_ACTIVE);
  /* Inline submits still work. */
  make_submit(&r, 0, 0, "tix");
  r.meta.submit_mode = NNRP_SUBMIT_MODE_INLINE;
  r.body.ref_count = 0;
  CHECK_EQ_INT(nnrp_session_submit(p->side[0], &r, &id, p->now), 0);
  nnrp_pair_pump(p);
  CHECK_EQ_INT(c->nsubmit, 1);
  CHECK_EQ_INT(c->resolved_count, 0);
}

TEST(cache_disabled_by_client) {
  nnrp_pair p;
  ctx c;
  nnrp_client_profile cp;
  nnrp_client_profile_default(&cp);
  cp.enable_cache = 0;
  if (setup_with(&p, &c, &cp, NULL))
    check_disabled(&p, &c);
  nnrp_pair_free(&p);
  /* Quotas of 0 with kinds offered: disabled too (and the ack says so). */
  nnrp_client_profile_default(&cp);
  cp.max_cache_entries = 0;
  if (setup_with(&p, &c, &cp, NULL))
    check_disabled(&p, &c);
  nnrp_pair_free(&p);
}

TEST(cache_disabled_by_server) {
  nnrp_pair p;
  ctx c;
  nnrp_server_profile sp;
  nnrp_server_profile_default(&sp);
  sp.enable_cache = 0;
  if (setup_with(&p, &c, NULL, &sp))
    check_disabled(&p, &c);
  nnrp_pair_free(&p);
  /* No common kind. */
  nnrp_server_profile_default(&sp);
  sp.cache_object_bitmap = 0x100;
  if (setup_with(&p, &c, NULL, &sp))
    check_disabled(&p, &c);
  nnrp_pair_free(&p);
}

/* ---- quotas ------------------------------------------------------------ */

TEST(pinned_quota_and_object_ceiling) {
  nnrp_pair p;
  ctx c;
  nnrp_server_profile sp;
  nnrp_server_profile_default(&sp);
  sp.max_cache_entries = 2;
  sp.max_object_bytes = 100;
  if (!setup_with(&p, &c, NULL, &sp))
    return;
  uint8_t big[101];
  memset(big, 7, sizeof(big));
  CHECK_EQ_INT(put(&p, &c, 1, 0, "big", big, 101, 0, 0),
               NNRP_CACHE_ACK_REJECTED);
  CHECK_EQ_INT(c.ack.detail_code, 2);
  CHECK_EQ_INT(c.ack.max_object_bytes, 100);
  CHECK_EQ_INT(put(&p, &c, 1, 0, "big", big, 100, 0, 0),
               NNRP_CACHE_ACK_ACCEPTED);
  CHECK_EQ_INT(c.ack.max_object_bytes, 100);
  CHECK_EQ_INT(put(&p, &c, 1, 0, "p1", big, 1, NNRP_CACHE_PUT_PINNED, 0),
               NNRP_CACHE_ACK_ACCEPTED);
  CHECK_EQ_INT(put(&p, &c, 1, 0, "p2", big, 1, NNRP_CACHE_PUT_PINNED, 0),
               NNRP_CACHE_ACK_ACCEPTED);
  CHECK_EQ_INT(has(&p, 1, 0, "big"), 0); /* evicted for p2 */
  CHECK_EQ_INT(has(&p, 0, 0, "big"), 0); /* the mirror follows */
  CHECK_EQ_INT(put(&p, &c, 1, 0, "u3", big, 1, 0, 0),
               NNRP_CACHE_ACK_REJECTED);
  CHECK_EQ_INT(c.ack.detail_code, 1);
  CHECK_EQ_INT(has(&p, 0, 0, "u3"), 0); /* REJECTED is not mirrored */
  CHECK_EQ_INT(put(&p, &c, 1, 0, "p1", big, 2, NNRP_CACHE_PUT_PINNED, 0),
               NNRP_CACHE_ACK_REPLACED);
  nnrp_cache_stats s = stats(&p, 1);
  CHECK_EQ_INT(s.entries, 2);
  CHECK_EQ_INT(s.pinned_entries, 2);
  CHECK_EQ_U64(s.pinned_bytes, 3);
  CHECK_EQ_INT(s.max_object_bytes, 100);
  s = stats(&p, 0);
  CHECK_EQ_INT(s.entries, 2);
  CHECK_EQ_INT(s.pinned_entries, 2);
  nnrp_pair_free(&p);
}

/* "Use" for LRU includes every successful resolution (§9.2); the mirror
 * counts a reference as a use too, so both evict the same entry. */
TEST(resolution_is_a_use_for_lru) {
  nnrp_pair p;
  ctx c;
  nnrp_server_profile sp;
  nnrp_server_profile_default(&sp);
  sp.max_cache_entries = 4;
  if (!setup_with(&p, &c, NULL, &sp))
    return;
  put_standard_objects(&p, &c, 0); /* cam, tix, sect: cam is the oldest */
  CHECK_EQ_INT(put(&p, &c, NNRP_OBJECT_CAMERA_BLOCK, 0, "x", "x", 1, 0, 0),
               NNRP_CACHE_ACK_ACCEPTED);
  nnrp_submit r;
  make_submit(&r, 0, NNRP_SLOT_CAMERA, "tix"); /* references cam only */
  uint32_t id;
  CHECK_EQ_INT(nnrp_session_submit(p.side[0], &r, &id, p.now), 0);
  nnrp_pair_pump(&p);
  CHECK_EQ_INT(c.resolved_count, 1);
  /* Full: the next put evicts tix (now the least recently used). */
  CHECK_EQ_INT(put(&p, &c, 1, 0, "y", "y", 1, 0, 0), NNRP_CACHE_ACK_ACCEPTED);
  CHECK(both(&p, 0, "cam") && !both(&p, 0, "tix") && both(&p, 0, "sect") &&
        both(&p, 0, "x") && both(&p, 0, "y"));
  nnrp_pair_free(&p);
}

/* A CACHE_PUT flood beyond the quotas: the server's memory stays bounded
 * and every eviction is announced; the mirror tracks the server exactly. */
TEST(put_flood_stays_bounded) {
  nnrp_pair p;
  ctx c;
  nnrp_server_profile sp;
  nnrp_server_profile_default(&sp);
  sp.max_cache_entries = 8;
  sp.max_cache_bytes = 4096;
  if (!setup_with(&p, &c, NULL, &sp))
    return;
  static uint8_t obj[1000];
  memset(obj, 0x5A, sizeof(obj));
  nnrp_pair_pump(&p);
  uint64_t base = p.side[1]->mem.used, peak = base;
  char key[32];
  const int n = 600;
  for (int i = 0; i < n; i++) {
    size_t k = 0;
    key[k++] = 'o';
    for (int v = i; v > 0 || k == 1; v /= 10)
      key[k++] = (char)('0' + v % 10);
    key[k] = '\0';
    CHECK_EQ_INT(put_raw(&p, 1, 0, key, obj, sizeof(obj), 0, 0, NULL), 0);
    if (i % 16 == 15)
      nnrp_pair_pump(&p);
    if (p.side[1]->mem.used > peak)
      peak = p.side[1]->mem.used;
  }
  nnrp_pair_pump(&p);
  nnrp_cache_stats s = stats(&p, 1);
  CHECK(s.entries <= 8);
  CHECK(s.bytes <= 4096);
  CHECK_EQ_INT(s.entries, 4); /* 4 x 1000 bytes */
  CHECK_EQ_U64(s.puts_accepted, (uint64_t)n);
  CHECK_EQ_U64(s.evicted, (uint64_t)n - 4);
  CHECK_EQ_INT(c.nacks, n);
  /* Evictions announced: CACHE_INVALIDATE OBJECT_KEY, reason 1. */
  CHECK_EQ_INT(nnrp_pair_sent_count(&p, 1, NNRP_MSG_CACHE_INVALIDATE), n - 4);
  nnrp_packet pk;
  if (CHECK(nnrp_pair_sent(&p, 1, NNRP_MSG_CACHE_INVALIDATE, 0, &pk))) {
    uint32_t hi, lo;
    key_of("o0", &hi, &lo);
    CHECK_EQ_INT(pk.m.cache_invalidate.invalidate_scope,
                 NNRP_CACHE_INVALIDATE_OBJECT_KEY);
    CHECK_EQ_INT(pk.m.cache_invalidate.reason_code, 1);
    CHECK_EQ_U64(pk.m.cache_invalidate.cache_key_hi, hi);
    CHECK_EQ_U64(pk.m.cache_invalidate.cache_key_lo, lo);
  }
  /* Memory: at most the byte quota + fixed per-entry overhead + index,
   * plus the output/reader buffers the session recycles. */
  uint64_t cache_bound = 4096 + 8 * NNRP_CS_ENTRY_OVERHEAD + 2 * (16 * 8 + 16);
  CHECK(peak - base <= cache_bound + 64 * 1024);
  CHECK(p.side[1]->mem.used - base <= cache_bound + 64 * 1024);
  /* Mirror = server, key by key. */
  int same = 1;
  for (int i = 0; i < n; i++) {
    size_t k = 0;
    key[k++] = 'o';
    for (int v = i; v > 0 || k == 1; v /= 10)
      key[k++] = (char)('0' + v % 10);
    key[k] = '\0';
    if (has(&p, 0, 0, key) != has(&p, 1, 0, key))
      same = 0;
  }
  CHECK(same);
  CHECK_EQ_INT(stats(&p, 0).entries, 4);
  /* Oversized objects are refused without touching the store. */
  static uint8_t huge[5000];
  CHECK_EQ_INT(put(&p, &c, 1, 0, "huge", huge, sizeof(huge), 0, 0),
               NNRP_CACHE_ACK_REJECTED);
  CHECK_EQ_INT(c.ack.detail_code, 2);
  CHECK_EQ_INT(stats(&p, 1).entries, 4);
  nnrp_pair_free(&p);
}

/* ---- invalidation ------------------------------------------------------ */

static void put_scope_set(nnrp_pair *p, ctx *c) {
  put(p, c, NNRP_OBJECT_CAMERA_BLOCK, 1, "a", "1", 1, 0, 0);
  put(p, c, NNRP_OBJECT_TILE_INDEX_BLOCK, 1, "b", "2", 1, 0, 0);
  put(p, c, NNRP_OBJECT_CAMERA_BLOCK, 1, "c", "3", 1, NNRP_CACHE_PUT_PINNED, 0);
  put(p, c, NNRP_OBJECT_CAMERA_BLOCK, 2, "a", "4", 1, 0, 0);
  put(p, c, NNRP_OBJECT_TILE_INDEX_BLOCK, 2, "d", "5", 1, 0, 0);
}

TEST(invalidate_each_scope) {
  nnrp_pair p;
  ctx c;
  if (!setup(&p, &c))
    return;
  put_scope_set(&p, &c);
  CHECK_EQ_INT(stats(&p, 1).entries, 5);
  nnrp_cache_invalidate_req iv;
  memset(&iv, 0, sizeof(iv));
  iv.reason_code = 3;
  /* OBJECT_KEY (byte key). */
  iv.scope = NNRP_CACHE_INVALIDATE_OBJECT_KEY;
  iv.cache_namespace = 1;
  iv.key_bytes = (const uint8_t *)"b";
  iv.key_len = 1;
  CHECK_EQ_INT(nnrp_session_invalidate_cache(p.side[0], &iv, p.now), 0);
  CHECK_EQ_INT(has(&p, 0, 1, "b"), 0); /* applied locally at once */
  nnrp_pair_pump(&p);
  CHECK(!both(&p, 1, "b") && both(&p, 1, "a") && both(&p, 2, "a"));
  /* OBJECT_KIND: namespace 1, cameras (pinned included); kind on the wire
   * in cache_key_hi. */
  memset(&iv, 0, sizeof(iv));
  iv.scope = NNRP_CACHE_INVALIDATE_OBJECT_KIND;
  iv.cache_namespace = 1;
  iv.object_kind = NNRP_OBJECT_CAMERA_BLOCK;
  CHECK_EQ_INT(nnrp_session_invalidate_cache(p.side[0], &iv, p.now), 0);
  nnrp_pair_pump(&p);
  CHECK(!both(&p, 1, "a") && !both(&p, 1, "c") && both(&p, 2, "a"));
  nnrp_packet pk;
  if (CHECK(nnrp_pair_sent(&p, 0, NNRP_MSG_CACHE_INVALIDATE, 1, &pk))) {
    CHECK_EQ_INT(pk.m.cache_invalidate.invalidate_scope,
                 NNRP_CACHE_INVALIDATE_OBJECT_KIND);
    CHECK_EQ_INT(pk.m.cache_invalidate.cache_namespace, 1);
    CHECK_EQ_INT(pk.m.cache_invalidate.cache_key_hi,
                 NNRP_OBJECT_CAMERA_BLOCK);
    CHECK_EQ_INT(pk.m.cache_invalidate.cache_key_lo, 0);
  }
  /* NAMESPACE. */
  put_scope_set(&p, &c);
  memset(&iv, 0, sizeof(iv));
  iv.scope = NNRP_CACHE_INVALIDATE_NAMESPACE;
  iv.cache_namespace = 2;
  CHECK_EQ_INT(nnrp_session_invalidate_cache(p.side[0], &iv, p.now), 0);
  nnrp_pair_pump(&p);
  CHECK(!both(&p, 2, "a") && !both(&p, 2, "d") && both(&p, 1, "a") &&
        both(&p, 1, "c"));
  /* WHOLE_SESSION. */
  memset(&iv, 0, sizeof(iv));
  iv.scope = NNRP_CACHE_INVALIDATE_WHOLE_SESSION;
  iv.cache_namespace = 99; /* ignored, and sent as 0 */
  CHECK_EQ_INT(nnrp_session_invalidate_cache(p.side[0], &iv, p.now), 0);
  nnrp_pair_pump(&p);
  CHECK_EQ_INT(stats(&p, 1).entries, 0);
  CHECK_EQ_INT(stats(&p, 0).entries, 0);
  /* Not acknowledged. */
  CHECK_EQ_INT(nnrp_pair_sent_count(&p, 1, NNRP_MSG_CACHE_ACK), 10);
  CHECK_EQ_INT(nnrp_session_get_state(p.side[1]), NNRP_STATE_ACTIVE);
  nnrp_pair_free(&p);
}

TEST(server_invalidates_and_announces) {
  nnrp_pair p;
  ctx c;
  if (!setup(&p, &c))
    return;
  put_scope_set(&p, &c);
  nnrp_cache_invalidate_req iv;
  memset(&iv, 0, sizeof(iv));
  iv.scope = NNRP_CACHE_INVALIDATE_NAMESPACE;
  iv.cache_namespace = 1;
  iv.reason_code = 3;
  CHECK_EQ_INT(nnrp_session_invalidate_cache(p.side[1], &iv, p.now), 0);
  nnrp_pair_pump(&p);
  CHECK(!both(&p, 1, "a") && !both(&p, 1, "b") && !both(&p, 1, "c"));
  CHECK(both(&p, 2, "a") && both(&p, 2, "d"));
  nnrp_pair_free(&p);
}

/* ---- TTL --------------------------------------------------------------- */

TEST(ttl_expiry_both_sides) {
  nnrp_pair p;
  ctx c;
  if (!setup(&p, &c))
    return;
  uint64_t t0 = p.now;
  CHECK_EQ_INT(put(&p, &c, NNRP_OBJECT_CAMERA_BLOCK, 0, "cam", camera_obj,
                   sizeof(camera_obj), 0, 100),
               NNRP_CACHE_ACK_ACCEPTED);
  CHECK_EQ_INT(c.ack.accepted_ttl_ms, 100);
  CHECK(nnrp_session_get_expiry(p.side[1]) <= t0 + 100 * MS);
  CHECK(nnrp_session_get_expiry(p.side[0]) <= t0 + 100 * MS);
  nnrp_pair_advance(&p, 50 * MS);
  CHECK(both(&p, 0, "cam"));
  size_t before = nnrp_pair_sent_count(&p, 1, NNRP_MSG_CACHE_INVALIDATE);
  nnrp_pair_advance(&p, 51 * MS);
  CHECK_EQ_INT(has(&p, 1, 0, "cam"), 0);
  CHECK_EQ_INT(has(&p, 0, 0, "cam"), 0); /* the client's own clock */
  CHECK_EQ_U64(stats(&p, 1).expired, 1);
  CHECK_EQ_U64(stats(&p, 0).expired, 1);
  CHECK_EQ_INT(nnrp_pair_sent_count(&p, 1, NNRP_MSG_CACHE_INVALIDATE),
               before + 1);
  nnrp_packet pk;
  if (CHECK(nnrp_pair_sent(&p, 1, NNRP_MSG_CACHE_INVALIDATE, before, &pk)))
    CHECK_EQ_INT(pk.m.cache_invalidate.reason_code, 2);
  /* An expired object is a miss. */
  CHECK_EQ_INT(put(&p, &c, NNRP_OBJECT_CAMERA_BLOCK, 0, "cam", camera_obj,
                   sizeof(camera_obj), 0, 10),
               NNRP_CACHE_ACK_ACCEPTED);
  put(&p, &c, NNRP_OBJECT_TILE_INDEX_BLOCK, 0, "tix", tix_obj, 4, 0, 0);
  put(&p, &c, NNRP_OBJECT_TENSOR_SECTION_TABLE, 0, "sect", sect_obj,
      sizeof(sect_obj), 0, 0);
  p.now += 20 * MS; /* no expiry call: the lookup finds it expired */
  nnrp_submit r;
  make_submit(&r, 0, 0x7, "tix");
  uint32_t id;
  CHECK_EQ_INT(nnrp_session_submit(p.side[0], &r, &id, p.now), 0);
  nnrp_pair_pump(&p);
  CHECK_EQ_INT(c.nsubmit, 0);
  const nnrp_pair_log *l = last_of(&p, 0, NNRP_EV_FRAME_FAILED);
  CHECK(l != NULL && l->frame_id == id &&
        l->error_code == NNRP_ERROR_CODE_CACHE_MISS);
  nnrp_pair_free(&p);
}

/* ---- frames hold what they resolved ------------------------------------ */

TEST(held_objects_survive_invalidation) {
  nnrp_pair p;
  ctx c;
  if (!setup(&p, &c))
    return;
  c.answer = 0;
  static uint8_t obj[3][64];
  memcpy(obj[0], camera_obj, sizeof(camera_obj));
  put_standard_objects(&p, &c, 0);
  nnrp_submit r;
  make_submit(&r, 0, 0x7, "tix");
  uint32_t id;
  CHECK_EQ_INT(nnrp_session_submit(p.side[0], &r, &id, p.now), 0);
  nnrp_pair_pump(&p);
  if (!CHECK_EQ_INT(c.resolved_count, 3)) {
    nnrp_pair_free(&p);
    return;
  }
  /* The client wipes the cache while the frame is in flight (§9.4 rule 1:
   * accepted frames keep what they resolved). */
  nnrp_cache_invalidate_req iv;
  memset(&iv, 0, sizeof(iv));
  CHECK_EQ_INT(nnrp_session_invalidate_cache(p.side[0], &iv, p.now), 0);
  nnrp_pair_pump(&p);
  nnrp_cache_stats s = stats(&p, 1);
  CHECK_EQ_INT(s.entries, 0);
  CHECK_EQ_INT(s.held_entries, 3);
  CHECK_EQ_U64(s.held_bytes, sizeof(camera_obj) + 4 + sizeof(sect_obj));
  CHECK_EQ_MEM(c.resolved[0].data.ptr, camera_obj, sizeof(camera_obj));
  CHECK_EQ_MEM(c.resolved[2].data.ptr, sect_obj, sizeof(sect_obj));
  /* The client may overwrite its own buffers: the server has copies. */
  (void)obj;
  /* Held bytes count against the quota until the frame ends. */
  CHECK_EQ_INT(has(&p, 1, 0, "tix"), 0);
  CHECK_EQ_INT(nnrp_session_send_result_drop(p.side[1], id, 0, p.now), 40);
  s = stats(&p, 1);
  CHECK_EQ_INT(s.held_entries, 0);
  CHECK_EQ_U64(s.held_bytes, 0);
  nnrp_pair_pump(&p);
  CHECK_EQ_INT(nnrp_pair_count(&p, 0, NNRP_EV_DROP, id), 1);
  /* Held entries are also released when the session ends. */
  put_standard_objects(&p, &c, 0);
  CHECK_EQ_INT(nnrp_session_submit(p.side[0], &r, &id, p.now), 0);
  nnrp_pair_pump(&p);
  CHECK_EQ_INT(stats(&p, 1).resolved_frames, 2);
  nnrp_pair_free(&p); /* ASan: nothing leaks, nothing is freed twice */
}

/* ---- random traffic ---------------------------------------------------- */

#define RKEYS 8

typedef struct rnd {
  uint64_t state;
  uint8_t expect[RKEYS][64]; /* the server's content of key i */
  size_t expect_len[RKEYS];
  uint32_t pending[64];      /* frames the server holds unanswered */
  nnrp_bytes pend_view[64];  /* their resolved bytes (held) */
  uint8_t pend_copy[64][64]; /* what those bytes were */
  size_t npending;
  int want_key; /* key the next SUBMIT must resolve to, -1: must miss */
  int bad;
  uint32_t resolved, missed, held_checked;
} rnd;

static rnd R;

static uint32_t rnd32(void) {
  uint64_t x = R.state;
  x ^= x >> 12;
  x ^= x << 25;
  x ^= x >> 27;
  R.state = x;
  return (uint32_t)((x * 0x2545F4914F6CDD1Dull) >> 32);
}

static void rkey(char *k, int i) {
  k[0] = 'r';
  k[1] = (char)('0' + i);
  k[2] = '\0';
}

static void on_random(nnrp_pair *p, int side, const nnrp_event *ev, void *u) {
  ctx *c = u;
  if (side == NNRP_PAIR_CLIENT && ev->type == NNRP_EV_CACHE_ACK) {
    c->nacks++;
    c->ack = ev->packet->m.cache_ack;
    return;
  }
  if (side != NNRP_PAIR_SERVER || ev->type != NNRP_EV_SUBMIT)
    return;
  R.resolved++;
  int k = R.want_key;
  if (k < 0 || ev->resolved_count != 1 ||
      ev->resolved[0].data.len != R.expect_len[k] ||
      memcmp(ev->resolved[0].data.ptr, R.expect[k], R.expect_len[k]) != 0) {
    R.bad = 1;
    return;
  }
  uint32_t how = rnd32() % 3;
  if (how == 0 && R.npending < 64) { /* keep it: the entry stays held */
    size_t n = R.npending++;
    R.pending[n] = ev->frame_id;
    R.pend_view[n] = ev->resolved[0].data;
    memcpy(R.pend_copy[n], R.expect[k], R.expect_len[k]);
  } else if (how == 1) {
    nnrp_result r;
    memset(&r, 0, sizeof(r));
    r.final = 1;
    CHECK(nnrp_session_send_result(p->side[1], ev->frame_id, &r, p->now) > 0);
  } else {
    CHECK(nnrp_session_send_result_drop(p->side[1], ev->frame_id, 0, p->now) >
          0);
  }
}

/* Answers one held frame after checking that its resolved bytes did not
 * change, whatever happened to the cache meanwhile. */
static void answer_pending(nnrp_pair *p, size_t i) {
  if (memcmp(R.pend_view[i].ptr, R.pend_copy[i], R.pend_view[i].len) != 0)
    R.bad = 1;
  R.held_checked++;
  CHECK(nnrp_session_send_result_drop(p->side[1], R.pending[i], 0, p->now) >
        0);
  size_t last = --R.npending;
  R.pending[i] = R.pending[last];
  R.pend_view[i] = R.pend_view[last];
  memcpy(R.pend_copy[i], R.pend_copy[last], 64);
}

static void random_put(nnrp_pair *p, ctx *c, int i, const char *k) {
  static uint8_t data[64];
  size_t len = 1 + rnd32() % 64;
  for (size_t j = 0; j < len; j++)
    data[j] = (uint8_t)rnd32();
  uint32_t flags = rnd32() % 8 == 0 ? NNRP_CACHE_PUT_PINNED : 0;
  uint32_t ttl = rnd32() % 4 == 0 ? 1 + rnd32() % 40 : 0;
  int st = put(p, c, NNRP_OBJECT_CAMERA_BLOCK, 0, k, data, len, flags, ttl);
  if (st == NNRP_CACHE_ACK_ACCEPTED || st == NNRP_CACHE_ACK_REPLACED) {
    memcpy(R.expect[i], data, len);
    R.expect_len[i] = len;
  }
}

/* One MIXED submit referencing the camera slot: usually a key the mirror
 * lists, sometimes any key. */
static void random_reference(nnrp_pair *p, int i, char *k) {
  if (!nnrp_session_can_submit(p->side[0]))
    return;
  for (int tries = 0; rnd32() % 5 != 0 && !has(p, 0, 0, k) && tries < RKEYS;
       tries++) {
    i = (i + 1) % RKEYS;
    rkey(k, i);
  }
  R.want_key = has(p, 1, 0, k) ? i : -1; /* the server decides */
  nnrp_submit r;
  make_submit(&r, 0, NNRP_SLOT_CAMERA, "unused");
  refs[0] = ref_of(NNRP_OBJECT_CAMERA_BLOCK, 0, k);
  uint32_t before = R.resolved, id;
  CHECK_EQ_INT(nnrp_session_submit(p->side[0], &r, &id, p->now), 0);
  nnrp_pair_pump(p);
  if (R.want_key < 0) {
    CHECK_EQ_INT(R.resolved, before); /* CACHE_MISS + RESULT_DROP */
    CHECK_EQ_INT(terminals(p, id), 1);
    R.missed++;
  } else {
    CHECK_EQ_INT(R.resolved, before + 1);
  }
}

static void random_step(nnrp_pair *p, ctx *c) {
  char k[4];
  int i = (int)(rnd32() % RKEYS);
  rkey(k, i);
  uint32_t op = rnd32() % 100;
  if (op < 40) {
    random_put(p, c, i, k);
  } else if (op < 75) {
    random_reference(p, i, k);
  } else if (op < 85) {
    if (R.npending)
      answer_pending(p, rnd32() % R.npending);
    nnrp_pair_pump(p);
  } else if (op < 90) {
    nnrp_cache_invalidate_req iv;
    memset(&iv, 0, sizeof(iv));
    iv.scope = rnd32() % 4;
    iv.object_kind = NNRP_OBJECT_CAMERA_BLOCK;
    iv.key_bytes = (const uint8_t *)k;
    iv.key_len = 2;
    CHECK_EQ_INT(
        nnrp_session_invalidate_cache(p->side[rnd32() % 2], &iv, p->now), 0);
    nnrp_pair_pump(p);
  } else {
    nnrp_pair_advance(p, (rnd32() % 20) * MS);
  }
}

/* Random puts, references, answers, invalidations (either side) and time:
 * a resolution gives the server's current content, a miss happens exactly
 * when the server lacks the key, held bytes never change, the mirror stays
 * a subset of the server, the quotas hold, every frame ends once. */
TEST(random_cache_traffic) {
  nnrp_pair p;
  ctx c;
  nnrp_server_profile sp;
  nnrp_server_profile_default(&sp);
  sp.max_cache_entries = 4;
  sp.max_cache_bytes = 160;
  sp.max_concurrent_frames = 16;
  if (!setup_with(&p, &c, NULL, &sp))
    return;
  p.cb = on_random;
  memset(&R, 0, sizeof(R));
  R.state = 0x0123456789ABCDEFull;
  for (int step = 0; step < 4000 && !R.bad; step++) {
    random_step(&p, &c);
    nnrp_cache_stats s = stats(&p, 1);
    if (!CHECK(s.entries <= 4) || !CHECK(s.bytes + s.held_bytes <= 160) ||
        !CHECK((uint64_t)s.entries + s.held_entries <= 4))
      break;
    for (int i = 0; i < RKEYS; i++) {
      char k[4];
      rkey(k, i);
      if (has(&p, 0, 0, k) && !has(&p, 1, 0, k))
        R.bad = 2; /* the mirror lists a key the server does not hold */
    }
  }
  CHECK_EQ_INT(R.bad, 0);
  CHECK(R.resolved > 100);
  CHECK(R.missed > 20);
  CHECK(R.held_checked > 20);
  while (R.npending)
    answer_pending(&p, 0);
  nnrp_pair_pump(&p);
  CHECK_EQ_INT(R.bad, 0);
  CHECK_EQ_INT(nnrp_session_in_flight(p.side[1]), 0);
  CHECK_EQ_INT(nnrp_session_in_flight(p.side[0]), 0);
  CHECK_EQ_INT(stats(&p, 1).held_entries, 0);
  /* Exactly one terminal per frame the client sent. */
  uint32_t frames = (uint32_t)nnrp_pair_sent_count(&p, 0, NNRP_MSG_FRAME_SUBMIT);
  CHECK(frames > 100);
  int once = 1;
  for (uint32_t id = 1; id <= frames; id++)
    once &= terminals(&p, id) == 1;
  CHECK(once);
  nnrp_pair_free(&p);
}

int main(void) {
  RUN(put_ack_and_mirror);
  RUN(put_arguments_and_states);
  RUN(unsolicited_ack_ignored);
  RUN(reference_submit_resolved);
  RUN(mixed_submit_resolved);
  RUN(missing_object_cache_miss_then_drop);
  RUN(cache_miss_cleans_stale_mirror);
  RUN(drop_overtakes_cache_miss_error);
  RUN(undecodable_cached_object_dropped);
  RUN(cache_disabled_by_client);
  RUN(cache_disabled_by_server);
  RUN(pinned_quota_and_object_ceiling);
  RUN(resolution_is_a_use_for_lru);
  RUN(put_flood_stays_bounded);
  RUN(invalidate_each_scope);
  RUN(server_invalidates_and_announces);
  RUN(ttl_expiry_both_sides);
  RUN(held_objects_survive_invalidation);
  RUN(random_cache_traffic);
  TEST_MAIN_END();
}
