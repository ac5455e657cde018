/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_handshake.c - the handshake of session.md §3: a client and a server
 * session wired back to back in memory with a fake clock. Success on both
 * sides (events, states, negotiated values, ids), the seed-line hello
 * vectors byte for byte, the extension answers of §3.7, every failure path
 * of §3.9 with the exact ERROR the peer receives, both handshake timeouts,
 * and allocation-failure runs. Sessions run in tests/support/session_pair.h
 * pairs; a lone session is one side of a pair with its output cut.
 */
#include "harness.h"
#include "session_pair.h"
#include "vectors.h"

#include <nnrp/nnrp_session.h>

#include "session/session_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NS 1000000000ull
#define T0 (1000u * NS)
#define HS_TIMEOUT (10u * NS)

static cJSON *g_root;

/* ---- one session of an in-memory pair ----------------------------------- */

#define CLI NNRP_PAIR_CLIENT
#define SRV NNRP_PAIR_SERVER

/* A session as the checks see it: its events are the pair's log for its
 * side, its packets the pair's tap. */
typedef struct side {
  nnrp_pair *p;
  int i; /* CLI or SRV */
  nnrp_session *s;
} side;

static side side_of(nnrp_pair *p, int i) {
  side x = {p, i, p->side[i]};
  return x;
}

static size_t nev(const side *x) { return nnrp_pair_events(x->p, x->i); }

/* The n-th event of x (all zero when there are fewer). */
static const nnrp_pair_log *ev(const side *x, size_t n) {
  static const nnrp_pair_log none;
  const nnrp_pair_log *l = nnrp_pair_event(x->p, x->i, n);
  return l ? l : &none;
}

/* What the pair met on the way: every write was taken whole, and a session
 * that refused input (a negative recv) ended. */
static void check_transfers(const nnrp_pair *p) {
  for (int i = 0; i < 2; i++) {
    CHECK_EQ_INT(p->consume_err[i], 0);
    if (p->recv_err[i] < 0)
      CHECK_EQ_INT(nnrp_session_get_state(p->side[i]), NNRP_STATE_CLOSED);
  }
}

/* Moves bytes until nothing moves (nnrp_pair_pump() stops early at a recv
 * error: the closed side's ERROR still has to go). */
static void pump(nnrp_pair *p) {
  for (int i = 0; i < 1000; i++) {
    if (nnrp_pair_pump(p) == 0) {
      check_transfers(p);
      return;
    }
  }
  harness_die(__FILE__, __LINE__, "pump does not settle");
}

/* Feeds raw bytes to one session (a hand-made peer) and pumps: what the
 * session answers reaches its peer unless its output is cut. */
static void inject(side *to, const uint8_t *b, size_t len) {
  (void)nnrp_pair_inject(to->p, to->i, b, len);
  pump(to->p);
}

static void settings_for(nnrp_session_settings *st, uint32_t flags,
                         uint32_t transport, uint64_t seed) {
  nnrp_session_settings_default(st);
  st->flags = flags;
  st->transport_id = transport;
  st->rand_seed = seed;
}

/* A pair at T0 (profiles NULL: the defaults). */
static void new_pair(nnrp_pair *p, const nnrp_client_profile *cp,
                     uint32_t cflags, const nnrp_server_profile *sp,
                     uint32_t transport) {
  nnrp_session_settings cs, ss;
  settings_for(&cs, cflags, NNRP_TRANSPORT_TCP, 0x1234567u);
  settings_for(&ss, 0, transport, 0xABCDEF01u);
  if (nnrp_pair_init(p, cp, sp, &cs, &ss) != 0)
    harness_die(__FILE__, __LINE__, "nnrp_pair_init");
  p->now = T0;
}

/* A lone client: its output reaches nobody, the server stays idle. */
static void new_client(nnrp_pair *p, side *x, const nnrp_client_profile *cp,
                       uint32_t flags) {
  new_pair(p, cp, flags, NULL, NNRP_TRANSPORT_TCP);
  p->cut[CLI] = 1;
  *x = side_of(p, CLI);
}

/* A lone server: its output reaches nobody, the client never connects. */
static void new_server(nnrp_pair *p, side *x, const nnrp_server_profile *sp,
                       uint32_t transport) {
  new_pair(p, NULL, 0, sp, transport);
  p->cut[SRV] = 1;
  *x = side_of(p, SRV);
}

/* Client/server pair, connected and pumped. */
static void run_pair(nnrp_pair *p, side *c, const nnrp_client_profile *cp,
                     uint32_t cflags, side *s, const nnrp_server_profile *sp,
                     uint32_t transport) {
  new_pair(p, cp, cflags, sp, transport);
  *c = side_of(p, CLI);
  *s = side_of(p, SRV);
  CHECK_EQ_INT(nnrp_session_connect(c->s, p->now), 0);
  pump(p);
}

/* ---- packets ------------------------------------------------------------ */

static uint32_t rd32(const uint8_t *p) {
  return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
         (uint32_t)p[3] << 24;
}

static size_t packet_count(const side *x) {
  return nnrp_pair_packet_count(x->p, x->i);
}

/* Decodes the idx-th packet x wrote (strict). */
static int packet_at(const side *x, size_t idx, nnrp_packet *p) {
  const uint8_t *b;
  size_t len;
  if (!CHECK(nnrp_pair_packet(x->p, x->i, idx, &b, &len)))
    return 0;
  nnrp_wire_opts o;
  nnrp_wire_opts_default(&o);
  nnrp_fault f;
  return CHECK_EQ_INT(nnrp_packet_decode(p, b, len, &o, &f), 0);
}

/* Every byte x wrote, in order. */
static const uint8_t *written(const side *x, size_t *len) {
  *len = x->p->tap_len[x->i];
  return x->p->tap[x->i];
}

static size_t build(uint8_t *buf, size_t cap, const nnrp_header *h,
                    nnrp_meta *m, const nnrp_control_body *b) {
  nnrp_out o;
  nnrp_out_init(&o, buf, cap, NULL, 0);
  nnrp_fault f;
  if (nnrp_build_control(&o, h, m, b, &f) != 0)
    harness_die(__FILE__, __LINE__, "nnrp_build_control");
  return o.scratch_len;
}

/* The nnrp-py 1.0.0rc2 client defaults (wire.md §4.1), requested id 1. */
static void default_hello(nnrp_client_hello *c) {
  memset(c, 0, sizeof(*c));
  c->min_version_major = 1;
  c->max_version_major = 1;
  c->supported_wire_format_bitmap = 1;
  c->supported_profile_bitmap = 1;
  c->supported_payload_kind_bitmap = 1;
  c->supported_codec_bitmap = 3;
  c->supported_compression_bitmap = 3;
  c->supported_dtype_bitmap = 0x1F;
  c->supported_layout_bitmap = 3;
  c->cache_digest_bitmap = 1;
  c->cache_object_bitmap = 7;
  c->cache_namespace_count = 1;
  c->max_lane_count = 1;
  c->max_cache_entries = 256;
  c->max_cache_bytes = 8u << 20;
  c->target_cadence_x100 = 6000;
  c->latency_budget_ms = 50;
  c->quality_tier = 2;
  c->requested_session_id = 1;
}

#define ROUTE 0x0055u
#define TRACE 0x0102030405060708ull

static size_t hello_bytes(uint8_t *buf, size_t cap, nnrp_meta *m,
                          const nnrp_hello_exts *x) {
  nnrp_header h;
  nnrp_header_init(&h, NNRP_MSG_CLIENT_HELLO);
  h.route_id = ROUTE;
  h.trace_id = TRACE;
  nnrp_control_body b;
  memset(&b, 0, sizeof(b));
  b.ext = x;
  return build(buf, cap, &h, m, &b);
}

/* A correct ack for the client's sent hello (intersection = the client's
 * values, cache enabled), to be spoiled by the tests. */
static void ack_for(const nnrp_session *c, nnrp_server_hello_ack *a,
                    uint32_t sid) {
  const nnrp_client_hello *h = &c->hello;
  memset(a, 0, sizeof(*a));
  a->selected_version_major = 1;
  a->session_id = sid;
  a->accepted_profile_bitmap = h->supported_profile_bitmap;
  a->accepted_payload_kind_bitmap = h->supported_payload_kind_bitmap;
  a->accepted_codec_bitmap = h->supported_codec_bitmap;
  a->accepted_compression_bitmap = h->supported_compression_bitmap;
  a->accepted_dtype_bitmap = h->supported_dtype_bitmap;
  a->accepted_layout_bitmap = h->supported_layout_bitmap;
  a->cache_digest_bitmap = h->cache_digest_bitmap;
  a->cache_object_bitmap = h->cache_object_bitmap;
  a->max_cache_entries = h->max_cache_entries;
  a->max_cache_bytes = h->max_cache_bytes;
  a->max_lane_count = 1;
  a->max_concurrent_frames = 4;
  a->max_body_bytes = 1u << 20;
  a->server_flags = h->cache_object_bitmap ? 1u : 0u;
}

#define ACK_ROUTE 9u
#define ACK_TRACE 0xABCull

static size_t ack_bytes(uint8_t *buf, size_t cap, nnrp_server_hello_ack *a,
                        const nnrp_control_body *b) {
  nnrp_header h;
  nnrp_header_init(&h, NNRP_MSG_SERVER_HELLO_ACK);
  h.route_id = ACK_ROUTE;
  h.trace_id = ACK_TRACE;
  nnrp_meta m;
  m.server_hello_ack = *a;
  return build(buf, cap, &h, &m, b);
}

/* ---- expectations ------------------------------------------------------- */

/* Packet idx of x is the last one and is ERROR (code, CONNECTION, fatal)
 * about the packet with these header ids. */
static void check_error(const side *x, size_t idx, uint32_t code, uint32_t sid,
                        uint32_t fid, uint16_t vid, uint16_t route,
                        uint64_t trace) {
  nnrp_packet p;
  CHECK_EQ_INT(packet_count(x), idx + 1);
  if (!packet_at(x, idx, &p))
    return;
  CHECK_EQ_INT(p.hdr.msg_type, NNRP_MSG_ERROR);
  CHECK_EQ_INT(p.m.error.error_code, code);
  CHECK_EQ_INT(p.m.error.error_scope, NNRP_ERROR_SCOPE_CONNECTION);
  CHECK_EQ_INT(p.m.error.is_fatal, 1);
  CHECK_EQ_U64(p.m.error.related_session_id, sid);
  CHECK_EQ_U64(p.m.error.related_frame_id, fid);
  CHECK_EQ_U64(p.m.error.related_view_id, vid);
  CHECK_EQ_U64(p.hdr.session_id, sid);
  CHECK_EQ_U64(p.hdr.frame_id, fid);
  CHECK_EQ_INT(p.hdr.view_id, vid);
  CHECK_EQ_INT(p.hdr.route_id, route);
  CHECK_EQ_U64(p.hdr.trace_id, trace);
  CHECK(p.m.error.diagnostic_bytes > 0 && p.m.error.diagnostic_bytes <= 256);
}

/* x is CLOSED, wants the transport closed, and its last event is CLOSED
 * with this library error. */
static const nnrp_pair_log *check_closed(const side *x, int lib_err) {
  CHECK_EQ_INT(nnrp_session_get_state(x->s), NNRP_STATE_CLOSED);
  CHECK_EQ_INT(nnrp_session_want_close(x->s), 1);
  if (!CHECK(nev(x) > 0))
    return NULL;
  const nnrp_pair_log *e = ev(x, nev(x) - 1);
  CHECK_EQ_INT(e->type, NNRP_EV_CLOSED);
  CHECK_EQ_INT(e->lib_err, lib_err);
  return e;
}

/* The client received the server's fatal ERROR with this code. */
static void check_peer_closed(const side *c, uint32_t code) {
  const nnrp_pair_log *e = check_closed(c, NNRP_ERR_PEER_ERROR);
  if (e == NULL)
    return;
  CHECK_EQ_INT(e->local, 0);
  CHECK_EQ_INT(e->error_code, code);
  CHECK_EQ_INT(e->error_scope, NNRP_ERROR_SCOPE_CONNECTION);
  CHECK_EQ_INT(e->is_fatal, 1);
}

/* A server failure seen from both sides of a real pair: one ERROR from the
 * server about the hello (ids 0), both sessions closed. */
static void check_server_refused(side *c, side *s, int lib_err, uint32_t code) {
  CHECK_EQ_INT(packet_count(c), 1); /* the hello only */
  check_error(s, 0, code, 0, 0, 0, 0, 0);
  const nnrp_pair_log *e = check_closed(s, lib_err);
  if (e) {
    CHECK_EQ_INT(e->local, 1);
    CHECK_EQ_INT(e->error_code, code);
  }
  check_peer_closed(c, code);
  CHECK_EQ_U64(nnrp_session_id(s->s), 0);
  CHECK(nnrp_session_client_hello(s->s) == NULL);
}

static const cJSON *vector(const char *name) {
  const cJSON *v;
  cJSON_ArrayForEach(v, cJSON_GetObjectItemCaseSensitive(g_root, "vectors")) {
    const cJSON *n = cJSON_GetObjectItemCaseSensitive(v, "name");
    if (cJSON_IsString(n) && strcmp(n->valuestring, name) == 0)
      return v;
  }
  harness_die(__FILE__, __LINE__, name);
}

static size_t vhex(const char *name, uint8_t **out) {
  const cJSON *h = cJSON_GetObjectItemCaseSensitive(vector(name), "hex");
  if (!cJSON_IsString(h))
    harness_die(__FILE__, __LINE__, name);
  return nnrp_test_hex_decode(h->valuestring, out);
}

#define VEC_HELLO "packet.client_hello.defaults_prefer_quic_auth"
#define VEC_ACK "packet.server_hello_ack.with_transport_policy_ext"

/* The client profile that matches VEC_HELLO. */
static void vector_profile(nnrp_client_profile *cp) {
  nnrp_client_profile_default(cp);
  cp->requested_session_id = 1;
  cp->transport_policy = NNRP_TRANSPORT_POLICY_PREFER_QUIC;
  cp->preferred_transport_id = NNRP_TRANSPORT_QUIC;
  cp->auth_block.ptr = (const uint8_t *)"tok!";
  cp->auth_block.len = 4;
}

/* ---- success ------------------------------------------------------------ */

TEST(handshake_defaults) {
  nnrp_client_profile cp;
  nnrp_server_profile sp;
  nnrp_client_profile_default(&cp);
  nnrp_server_profile_default(&sp);
  nnrp_pair pair;
  side c, s;
  run_pair(&pair, &c, &cp, 0, &s, &sp, NNRP_TRANSPORT_TCP);

  /* One event each, HANDSHAKE carrying the other side's hello. */
  CHECK_EQ_INT(nev(&c), 1);
  CHECK_EQ_INT(ev(&c, 0)->type, NNRP_EV_HANDSHAKE);
  CHECK_EQ_INT(ev(&c, 0)->msg_type, NNRP_MSG_SERVER_HELLO_ACK);
  CHECK_EQ_U64(ev(&c, 0)->received_at, T0);
  CHECK_EQ_INT(nev(&s), 1);
  CHECK_EQ_INT(ev(&s, 0)->type, NNRP_EV_HANDSHAKE);
  CHECK_EQ_INT(ev(&s, 0)->msg_type, NNRP_MSG_CLIENT_HELLO);
  CHECK_EQ_INT(nnrp_session_get_state(c.s), NNRP_STATE_ACTIVE);
  CHECK_EQ_INT(nnrp_session_get_state(s.s), NNRP_STATE_ACTIVE);
  CHECK_EQ_INT(nnrp_session_want_close(c.s), 0);

  /* The hello: §3.2 defaults, random non-zero requested id, no extension
   * (AUTO without a preferred binding), no auth. */
  nnrp_packet p;
  CHECK_EQ_INT(packet_count(&c), 1);
  if (packet_at(&c, 0, &p)) {
    CHECK_EQ_INT(p.hdr.msg_type, NNRP_MSG_CLIENT_HELLO);
    CHECK_EQ_U64(p.hdr.flags, NNRP_FLAG_ACK_REQUIRED);
    CHECK_EQ_U64(p.hdr.session_id, 0);
    CHECK_EQ_U64(p.hdr.body_len, 0);
    nnrp_client_hello want;
    default_hello(&want);
    want.requested_session_id = p.m.client_hello.requested_session_id;
    CHECK_EQ_MEM(&p.m.client_hello, &want, sizeof(want));
    CHECK(want.requested_session_id != 0);
  }
  uint32_t sid = c.s->hello.requested_session_id;
  CHECK(sid != 0);
  /* §3.4: a free requested id is granted; both sides agree. */
  CHECK_EQ_U64(nnrp_session_id(s.s), sid);
  CHECK_EQ_U64(nnrp_session_id(c.s), sid);

  /* The ack: §3.6 intersections; cache enabled with min(client, server)
   * quotas (the client's 256 / 8 MiB) and kinds 7 = 7 & 0x1FF. */
  CHECK_EQ_INT(packet_count(&s), 1);
  if (packet_at(&s, 0, &p)) {
    CHECK_EQ_INT(p.hdr.msg_type, NNRP_MSG_SERVER_HELLO_ACK);
    CHECK_EQ_U64(p.hdr.flags, NNRP_FLAG_ACK_REQUIRED);
    CHECK_EQ_U64(p.hdr.session_id, sid);
    CHECK_EQ_U64(p.hdr.body_len, 0); /* no extension to answer */
    const nnrp_server_hello_ack *a = &p.m.server_hello_ack;
    CHECK_EQ_INT(a->selected_version_major, 1);
    CHECK_EQ_INT(a->selected_wire_format, 0);
    CHECK_EQ_INT(a->auth_status, 0);
    CHECK_EQ_U64(a->session_id, sid);
    CHECK_EQ_U64(a->accepted_profile_bitmap, 1);
    CHECK_EQ_U64(a->accepted_payload_kind_bitmap, 1);
    CHECK_EQ_U64(a->accepted_codec_bitmap, 3);
    CHECK_EQ_U64(a->accepted_compression_bitmap, 3);
    CHECK_EQ_U64(a->accepted_dtype_bitmap, 0x1F);
    CHECK_EQ_U64(a->accepted_layout_bitmap, 3);
    CHECK_EQ_U64(a->cache_digest_bitmap, 1);
    CHECK_EQ_U64(a->cache_object_bitmap, 7);
    CHECK_EQ_U64(a->max_cache_entries, 256);
    CHECK_EQ_U64(a->max_cache_bytes, 8u << 20);
    CHECK_EQ_U64(a->server_flags, NNRP_SERVER_FLAG_CACHE_ENABLED);
    CHECK_EQ_INT(a->max_lane_count, 1);
    CHECK_EQ_INT(a->max_concurrent_frames, 1);
    CHECK_EQ_INT(a->target_cadence_x100, 6000);
    CHECK_EQ_INT(a->latency_budget_ms, 50);
    CHECK_EQ_INT(a->quality_tier, 2);
    CHECK_EQ_INT(a->degrade_policy, 0);
    CHECK_EQ_U64(a->max_body_bytes, 32u << 20);
    CHECK_EQ_U64(a->token_ttl_ms, 0);
    CHECK_EQ_U64(a->retry_after_ms, 0);
    /* Both sides hold the same view of the negotiation. */
    CHECK_EQ_MEM(&s.s->ack, a, sizeof(*a));
    CHECK_EQ_MEM(&c.s->ack, a, sizeof(*a));
    CHECK(nnrp_session_server_hello(c.s) == &c.s->ack);
  }
  CHECK_EQ_MEM(&s.s->hello, &c.s->hello, sizeof(nnrp_client_hello));
  CHECK(nnrp_session_client_hello(s.s) == &s.s->hello);
  for (int i = 0; i < 2; i++) {
    nnrp_session *x = i ? s.s : c.s;
    CHECK_EQ_INT(x->loss_tolerance, NNRP_LOSS_TOLERANCE_BEST_EFFORT);
    CHECK_EQ_U64(x->wopts.payload_kinds, 1);
    CHECK_EQ_U64(x->wopts.cache_objects, 7);
    CHECK_EQ_U64(x->reader.opts.payload_kinds, 1);
    CHECK_EQ_U64(x->reader.opts.cache_objects, 7);
    CHECK_EQ_U64(x->handshake_deadline, 0);
  }
  CHECK_EQ_U64(c.s->max_in_flight, 1);
  CHECK_EQ_U64(c.s->last_rx, T0);
  CHECK(s.s->auth.len == 0 && s.s->auth.ptr == NULL);
  nnrp_pair_free(&pair);
}

TEST(client_hello_matches_vector) {
  nnrp_client_profile cp;
  vector_profile(&cp);
  nnrp_pair pair;
  side c;
  new_client(&pair, &c, &cp, 0);
  CHECK_EQ_INT(nnrp_session_connect(c.s, pair.now), 0);
  CHECK_EQ_INT(nnrp_session_get_state(c.s), NNRP_STATE_NEGOTIATING);
  CHECK_EQ_U64(c.s->handshake_deadline, T0 + HS_TIMEOUT);
  CHECK_EQ_U64(nnrp_session_get_expiry(c.s), T0 + HS_TIMEOUT);
  pump(&pair);
  uint8_t *want;
  size_t n = vhex(VEC_HELLO, &want);
  size_t len;
  const uint8_t *out = written(&c, &len);
  CHECK_EQ_U64(len, n);
  if (len == n)
    CHECK_EQ_MEM(out, want, n);
  CHECK_EQ_INT(nev(&c), 0);
  free(want);
  nnrp_pair_free(&pair);
}

/* Offsets (packet-relative) of the SERVER_HELLO_ACK cache fields. */
#define ACK_CACHE_OBJ (40 + 36)
#define ACK_CACHE_ENTRIES (40 + 40)
#define ACK_CACHE_BYTES (40 + 44)
#define ACK_SERVER_FLAGS (40 + 76)

/* The derived vector shows a cache-enabled server (kinds 7, 256 entries,
 * 8 MiB, server_flags 1): with the default profile our server negotiates
 * exactly that (session.md §3.6), so every byte must be the vector's. */
TEST(server_ack_matches_vector) {
  nnrp_server_profile sp;
  nnrp_server_profile_default(&sp);
  nnrp_pair pair;
  side s;
  new_server(&pair, &s, &sp, NNRP_TRANSPORT_QUIC);
  uint8_t *hello, *want;
  size_t hn = vhex(VEC_HELLO, &hello);
  size_t an = vhex(VEC_ACK, &want);
  inject(&s, hello, hn);
  CHECK_EQ_INT(nnrp_session_get_state(s.s), NNRP_STATE_ACTIVE);
  CHECK_EQ_U64(nnrp_session_id(s.s), 1);
  size_t len;
  const uint8_t *out = written(&s, &len);
  CHECK_EQ_U64(len, an);
  /* The cache fields, named for the reader. */
  CHECK_EQ_U64(rd32(want + ACK_CACHE_OBJ), 7);
  CHECK_EQ_U64(rd32(want + ACK_CACHE_ENTRIES), 256);
  CHECK_EQ_U64(rd32(want + ACK_CACHE_BYTES), 8u << 20);
  CHECK_EQ_U64(rd32(want + ACK_SERVER_FLAGS), 1);
  if (len == an)
    CHECK_EQ_MEM(out, want, an);
  CHECK_EQ_INT(nev(&s), 1);
  CHECK_EQ_INT(ev(&s, 0)->type, NNRP_EV_HANDSHAKE);
  CHECK(s.s->auth.len == 4 && memcmp(s.s->auth.ptr, "tok!", 4) == 0);
  CHECK(s.s->auth.ptr < hello || s.s->auth.ptr >= hello + hn); /* a copy */
  free(hello);
  free(want);
  nnrp_pair_free(&pair);
}

/* The client adopts the vector ack as published (cache enabled). */
TEST(client_adopts_vector_ack) {
  nnrp_client_profile cp;
  vector_profile(&cp);
  nnrp_pair pair;
  side c;
  new_client(&pair, &c, &cp, 0);
  CHECK_EQ_INT(nnrp_session_connect(c.s, pair.now), 0);
  pump(&pair);
  uint8_t *ack;
  size_t an = vhex(VEC_ACK, &ack);
  pair.now = T0 + 5 * NS;
  inject(&c, ack, an);
  CHECK_EQ_INT(nnrp_session_get_state(c.s), NNRP_STATE_ACTIVE);
  CHECK_EQ_INT(packet_count(&c), 1); /* no ERROR */
  CHECK_EQ_INT(nev(&c), 1);
  CHECK_EQ_INT(ev(&c, 0)->type, NNRP_EV_HANDSHAKE);
  CHECK_EQ_U64(ev(&c, 0)->received_at, T0 + 5 * NS);
  CHECK_EQ_U64(nnrp_session_id(c.s), 1);
  CHECK_EQ_U64(c.s->wopts.payload_kinds, 1);
  CHECK_EQ_U64(c.s->wopts.cache_objects, 7); /* server_flags bit0 */
  CHECK_EQ_U64(c.s->reader.opts.cache_objects, 7);
  CHECK_EQ_U64(c.s->max_in_flight, 1);
  CHECK_EQ_INT(c.s->loss_tolerance, NNRP_LOSS_TOLERANCE_BEST_EFFORT);
  CHECK_EQ_U64(c.s->handshake_deadline, 0);
  CHECK_EQ_U64(c.s->last_rx, T0 + 5 * NS);
  CHECK_EQ_U64(nnrp_session_server_hello(c.s)->max_cache_entries, 256);
  free(ack);
  nnrp_pair_free(&pair);
}

static const uint8_t ext_abc[] = {'a', 'b', 'c'};
static const uint8_t ext_vendor[] = "vendor!!";

/* Every extension of §3.7 offered and answered. */
TEST(extensions_answered) {
  nnrp_client_profile cp;
  nnrp_client_profile_default(&cp);
  cp.has_loss_tolerance = 1;
  cp.loss_tolerance = NNRP_LOSS_TOLERANCE_LOW_LATENCY;
  cp.payload_kinds = NNRP_PAYLOAD_KIND_TENSOR | NNRP_PAYLOAD_KIND_TOKEN_CHUNK;
  cp.profile_bitmap = 0x3;
  cp.preferred_transport_id = NNRP_TRANSPORT_TCP; /* AUTO + selected TCP */
  cp.max_views = 40;
  nnrp_ext_entry cext = {0x4001, 0, {ext_abc, sizeof(ext_abc)}};
  cp.extra_ext = &cext;
  cp.extra_ext_count = 1;
  nnrp_server_profile sp;
  nnrp_server_profile_default(&sp);
  sp.model_name.ptr = (const uint8_t *)"sr-x4";
  sp.model_name.len = 5;
  nnrp_ext_entry sext = {0x8002, 0, {ext_vendor, 8}};
  sp.extra_ext = &sext;
  sp.extra_ext_count = 1;
  nnrp_pair pair;
  side c, s;
  run_pair(&pair, &c, &cp, 0, &s, &sp, NNRP_TRANSPORT_TCP);
  CHECK_EQ_INT(nnrp_session_get_state(c.s), NNRP_STATE_ACTIVE);
  CHECK_EQ_INT(nnrp_session_get_state(s.s), NNRP_STATE_ACTIVE);

  nnrp_packet p;
  if (packet_at(&c, 0, &p)) {
    const nnrp_hello_exts *x = &p.b.client_hello.ext;
    CHECK_EQ_U64(x->present, NNRP_HELLO_EXT_TRANSPORT_POLICY |
                                 NNRP_HELLO_EXT_LOSS_TOLERANCE |
                                 NNRP_HELLO_EXT_PAYLOAD_CAPS);
    CHECK_EQ_INT(x->transport_policy.transport_policy,
                 NNRP_TRANSPORT_POLICY_PREFER_TCP);
    CHECK_EQ_U64(x->transport_policy.transport_id, NNRP_TRANSPORT_TCP);
    CHECK_EQ_INT(x->loss_tolerance.loss_tolerance, 2);
    CHECK_EQ_U64(x->payload_caps.payload_kind_bitmap, 3);
    CHECK_EQ_U64(x->payload_caps.critical_extension_frame_bitmap, 0);
    CHECK_EQ_INT(x->entry_count, 4);
    CHECK_EQ_INT(x->unknown_count, 1);
    CHECK_EQ_INT(p.m.client_hello.max_lane_count, 40);
  }
  if (packet_at(&s, 0, &p)) {
    const nnrp_hello_exts *x = &p.b.server_hello_ack.ext;
    CHECK_EQ_U64(x->present, NNRP_HELLO_EXT_TRANSPORT_POLICY |
                                 NNRP_HELLO_EXT_LOSS_TOLERANCE |
                                 NNRP_HELLO_EXT_PAYLOAD_CAPS |
                                 NNRP_HELLO_EXT_MODEL_NAME);
    CHECK_EQ_INT(x->transport_policy.transport_policy,
                 NNRP_TRANSPORT_POLICY_PREFER_TCP);
    CHECK_EQ_INT(x->transport_policy.accepted_transport_policy,
                 NNRP_TRANSPORT_POLICY_PREFER_TCP);
    CHECK_EQ_U64(x->transport_policy.transport_id, NNRP_TRANSPORT_TCP);
    CHECK_EQ_INT(x->loss_tolerance.loss_tolerance, 2);
    CHECK_EQ_U64(x->payload_caps.payload_kind_bitmap, 3);
    CHECK_EQ_U64(x->payload_caps.critical_extension_frame_bitmap, 0);
    CHECK(x->model_name.len == 5 && memcmp(x->model_name.ptr, "sr-x4", 5) == 0);
    CHECK_EQ_INT(x->entry_count, 5);
    CHECK_EQ_INT(x->unknown_count, 1);
    /* The application extra comes last (after 0x8001). */
    nnrp_ext_iter it;
    nnrp_ext_entry e;
    nnrp_ext_iter_init(&it, x->block);
    uint16_t last = 0;
    while (nnrp_ext_iter_next(&it, &e))
      last = e.ext_type;
    CHECK_EQ_INT(last, 0x8002);
    CHECK_EQ_U64(p.m.server_hello_ack.accepted_profile_bitmap, 3);
    CHECK_EQ_U64(p.m.server_hello_ack.accepted_payload_kind_bitmap, 3);
    CHECK_EQ_INT(p.m.server_hello_ack.max_lane_count, 16); /* max_lanes */
  }
  for (int i = 0; i < 2; i++) {
    nnrp_session *x = i ? s.s : c.s;
    CHECK_EQ_INT(x->loss_tolerance, NNRP_LOSS_TOLERANCE_LOW_LATENCY);
    CHECK_EQ_U64(x->wopts.payload_kinds, 3);
  }
  nnrp_pair_free(&pair);
}

/* The 0x0105 bitmap narrows the accepted kinds (§3.6). */
TEST(payload_caps_ext_intersects) {
  nnrp_server_profile sp;
  nnrp_server_profile_default(&sp);
  nnrp_pair pair;
  side s;
  new_server(&pair, &s, &sp, NNRP_TRANSPORT_TCP);
  nnrp_meta m;
  default_hello(&m.client_hello);
  m.client_hello.supported_payload_kind_bitmap = 0x3;
  nnrp_hello_exts x;
  memset(&x, 0, sizeof(x));
  x.present = NNRP_HELLO_EXT_PAYLOAD_CAPS;
  x.payload_caps.payload_kind_bitmap = 0x1;
  uint8_t buf[256];
  size_t n = hello_bytes(buf, sizeof(buf), &m, &x);
  inject(&s, buf, n);
  nnrp_packet p;
  CHECK_EQ_INT(nnrp_session_get_state(s.s), NNRP_STATE_ACTIVE);
  if (packet_at(&s, 0, &p)) {
    CHECK_EQ_U64(p.m.server_hello_ack.accepted_payload_kind_bitmap, 1);
    CHECK_EQ_U64(p.b.server_hello_ack.ext.present, NNRP_HELLO_EXT_PAYLOAD_CAPS);
    CHECK_EQ_U64(p.b.server_hello_ack.ext.payload_caps.payload_kind_bitmap, 1);
    CHECK_EQ_INT(p.hdr.route_id, ROUTE); /* echoed, wire.md §2.4 */
    CHECK_EQ_U64(p.hdr.trace_id, TRACE);
  }
  CHECK_EQ_U64(s.s->wopts.payload_kinds, 1);
  nnrp_pair_free(&pair);

  /* Empty after the 0x0105 intersection: no common payload kind. */
  new_server(&pair, &s, &sp, NNRP_TRANSPORT_TCP);
  default_hello(&m.client_hello);
  m.client_hello.supported_payload_kind_bitmap = 0x2;
  n = hello_bytes(buf, sizeof(buf), &m, &x);
  inject(&s, buf, n);
  check_error(&s, 0, NNRP_ERROR_CODE_UNSUPPORTED_CAPABILITY, 0, 0, 0, ROUTE,
              TRACE);
  check_closed(&s, NNRP_ERR_UNSUPPORTED_CAPABILITY);
  nnrp_pair_free(&pair);
}

/* §3.6 field by field: every bitmap is client ∩ server, the preferences
 * are echoed (free values, never range-checked), limits come from the
 * server profile and settings. */
TEST(server_negotiates_fixed_fields) {
  nnrp_server_profile sp;
  nnrp_server_profile_default(&sp);
  sp.profile_bitmap = 0x3;
  sp.payload_kinds = 0x5;
  sp.codec_bitmap = 0x6;
  sp.compression_bitmap = 0x5;
  sp.dtype_bitmap = 0x0C;
  sp.layout_bitmap = 0x1;
  sp.max_concurrent_frames = 0;
  sp.max_body_bytes = 1u << 20;
  sp.token_ttl_ms = 5000;
  nnrp_pair pair;
  side s;
  new_server(&pair, &s, &sp, NNRP_TRANSPORT_TCP);
  nnrp_meta m;
  nnrp_client_hello *c = &m.client_hello;
  default_hello(c);
  c->supported_profile_bitmap = 0x7;
  c->supported_payload_kind_bitmap = 0xFFFFFFFFu; /* unknown bits dropped */
  c->supported_codec_bitmap = 0x3;
  c->supported_compression_bitmap = 0x3;
  c->supported_dtype_bitmap = 0x1F;
  c->supported_layout_bitmap = 0x3;
  c->cache_digest_bitmap = 0x3;
  c->cache_object_bitmap = 0x1FF;
  c->max_lane_count = 3;
  c->target_cadence_x100 = 12345;
  c->latency_budget_ms = 77;
  c->quality_tier = 360;
  c->degrade_policy = 9;
  uint8_t buf[256];
  inject(&s, buf, hello_bytes(buf, sizeof(buf), &m, NULL));
  nnrp_packet p;
  CHECK_EQ_INT(nnrp_session_get_state(s.s), NNRP_STATE_ACTIVE);
  if (packet_at(&s, 0, &p)) {
    const nnrp_server_hello_ack *a = &p.m.server_hello_ack;
    CHECK_EQ_U64(a->accepted_profile_bitmap, 0x3);
    CHECK_EQ_U64(a->accepted_payload_kind_bitmap, 0x5);
    CHECK_EQ_U64(a->accepted_codec_bitmap, 0x2);
    CHECK_EQ_U64(a->accepted_compression_bitmap, 0x1);
    CHECK_EQ_U64(a->accepted_dtype_bitmap, 0x0C);
    CHECK_EQ_U64(a->accepted_layout_bitmap, 0x1);
    CHECK_EQ_U64(a->cache_digest_bitmap, 0x1);
    CHECK_EQ_U64(a->cache_object_bitmap, 0x1FF); /* 0x1FF & 0x1FF */
    CHECK_EQ_U64(a->max_cache_entries, 256);     /* min(256, 1024) */
    CHECK_EQ_U64(a->max_cache_bytes, 8u << 20);  /* min(8, 32 MiB) */
    CHECK_EQ_U64(a->server_flags, NNRP_SERVER_FLAG_CACHE_ENABLED);
    CHECK_EQ_INT(a->max_lane_count, 3);
    CHECK_EQ_INT(a->max_concurrent_frames, 0);
    CHECK_EQ_INT(a->target_cadence_x100, 12345);
    CHECK_EQ_INT(a->latency_budget_ms, 77);
    CHECK_EQ_INT(a->quality_tier, 360);
    CHECK_EQ_INT(a->degrade_policy, 9);
    CHECK_EQ_U64(a->max_body_bytes, 1u << 20);
    CHECK_EQ_U64(a->token_ttl_ms, 5000);
    CHECK_EQ_U64(a->session_id, 1);
  }
  CHECK_EQ_U64(s.s->wopts.payload_kinds, 0x5);
  CHECK_EQ_U64(s.s->reader.opts.payload_kinds, 0x5);
  nnrp_pair_free(&pair);
  /* No common digest: 0 (may be 0, D5). */
  new_server(&pair, &s, &sp, NNRP_TRANSPORT_TCP);
  c->cache_digest_bitmap = 0x2;
  inject(&s, buf, hello_bytes(buf, sizeof(buf), &m, NULL));
  if (packet_at(&s, 0, &p))
    CHECK_EQ_U64(p.m.server_hello_ack.cache_digest_bitmap, 0);
  nnrp_pair_free(&pair);
}

/* ---- server failures (§3.3 steps 4-9, §3.9) ----------------------------- */

/* A hand-made hello the server must refuse with code. */
static void refuse_hello(const nnrp_client_hello *c, int lib_err, uint32_t code,
                         const char *field) {
  nnrp_server_profile sp;
  nnrp_server_profile_default(&sp);
  nnrp_pair pair;
  side s;
  new_server(&pair, &s, &sp, NNRP_TRANSPORT_TCP);
  nnrp_meta m;
  m.client_hello = *c;
  uint8_t buf[256];
  size_t n = hello_bytes(buf, sizeof(buf), &m, NULL);
  inject(&s, buf, n);
  check_error(&s, 0, code, 0, 0, 0, ROUTE, TRACE);
  const nnrp_pair_log *e = check_closed(&s, lib_err);
  if (e)
    CHECK_EQ_INT(e->error_code, code);
  nnrp_fault f;
  CHECK_EQ_INT(nnrp_session_last_error(s.s, &f), lib_err);
  if (field)
    CHECK_EQ_STR(f.field, field);
  nnrp_pair_free(&pair);
}

TEST(server_refuses_version_window) {
  nnrp_client_hello c;
  default_hello(&c);
  c.min_version_major = 2;
  c.max_version_major = 3;
  refuse_hello(&c, NNRP_ERR_UNSUPPORTED_VERSION,
               NNRP_ERROR_CODE_UNSUPPORTED_VERSION, "min_version_major");
  default_hello(&c);
  c.min_version_major = 0;
  c.max_version_major = 0;
  refuse_hello(&c, NNRP_ERR_UNSUPPORTED_VERSION,
               NNRP_ERROR_CODE_UNSUPPORTED_VERSION, "max_version_major");
}

TEST(server_refuses_wire_bitmap) {
  nnrp_client_hello c;
  default_hello(&c);
  c.supported_wire_format_bitmap = 0x0002;
  refuse_hello(&c, NNRP_ERR_UNSUPPORTED_VERSION,
               NNRP_ERROR_CODE_UNSUPPORTED_VERSION,
               "supported_wire_format_bitmap");
}

TEST(server_refuses_no_common_profile) {
  nnrp_client_profile cp;
  nnrp_server_profile sp;
  nnrp_client_profile_default(&cp);
  nnrp_server_profile_default(&sp);
  cp.profile_bitmap = 0x4; /* server: 0x3 */
  nnrp_pair pair;
  side c, s;
  run_pair(&pair, &c, &cp, 0, &s, &sp, NNRP_TRANSPORT_TCP);
  check_server_refused(&c, &s, NNRP_ERR_UNSUPPORTED_CAPABILITY,
                       NNRP_ERROR_CODE_UNSUPPORTED_CAPABILITY);
  nnrp_fault f;
  nnrp_session_last_error(s.s, &f);
  CHECK_EQ_STR(f.field, "supported_profile_bitmap");
  nnrp_pair_free(&pair);
}

TEST(server_refuses_no_common_payload_kind) {
  nnrp_client_profile cp;
  nnrp_server_profile sp;
  nnrp_client_profile_default(&cp);
  nnrp_server_profile_default(&sp);
  cp.payload_kinds = NNRP_PAYLOAD_KIND_TOKEN_CHUNK;
  sp.payload_kinds = NNRP_PAYLOAD_KIND_TENSOR;
  nnrp_pair pair;
  side c, s;
  run_pair(&pair, &c, &cp, 0, &s, &sp, NNRP_TRANSPORT_TCP);
  check_server_refused(&c, &s, NNRP_ERR_UNSUPPORTED_CAPABILITY,
                       NNRP_ERROR_CODE_UNSUPPORTED_CAPABILITY);
  nnrp_fault f;
  nnrp_session_last_error(s.s, &f);
  CHECK_EQ_STR(f.field, "supported_payload_kind_bitmap");
  nnrp_pair_free(&pair);
}

TEST(server_refuses_unknown_critical_extension) {
  nnrp_client_profile cp;
  nnrp_server_profile sp;
  nnrp_client_profile_default(&cp);
  nnrp_server_profile_default(&sp);
  static const uint8_t payload[8] = {1, 2, 3, 4, 5, 6, 7, 8};
  nnrp_ext_entry e = {0x4001, NNRP_EXT_FLAG_CRITICAL, {payload, 8}};
  cp.extra_ext = &e;
  cp.extra_ext_count = 1;
  nnrp_pair pair;
  side c, s;
  run_pair(&pair, &c, &cp, 0, &s, &sp, NNRP_TRANSPORT_TCP);
  check_server_refused(&c, &s, NNRP_ERR_UNSUPPORTED_CAPABILITY,
                       NNRP_ERROR_CODE_UNSUPPORTED_CAPABILITY);
  nnrp_pair_free(&pair);
}

TEST(server_refuses_forced_transport_mismatch) {
  nnrp_client_profile cp;
  nnrp_server_profile sp;
  nnrp_server_profile_default(&sp);
  nnrp_pair pair;
  side c, s;
  static const struct {
    uint8_t policy;
    uint32_t server_transport;
    int ok;
  } cases[] = {
      {NNRP_TRANSPORT_POLICY_FORCE_QUIC, NNRP_TRANSPORT_TCP, 0},
      {NNRP_TRANSPORT_POLICY_FORCE_TCP, NNRP_TRANSPORT_QUIC, 0},
      {NNRP_TRANSPORT_POLICY_FORCE_QUIC, NNRP_TRANSPORT_QUIC, 1},
      {NNRP_TRANSPORT_POLICY_FORCE_TCP, NNRP_TRANSPORT_TCP, 1},
      {NNRP_TRANSPORT_POLICY_PREFER_TCP, NNRP_TRANSPORT_QUIC, 1},
  };
  for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
    nnrp_client_profile_default(&cp);
    cp.transport_policy = cases[i].policy;
    run_pair(&pair, &c, &cp, 0, &s, &sp, cases[i].server_transport);
    if (!cases[i].ok) {
      check_server_refused(&c, &s, NNRP_ERR_UNSUPPORTED_CAPABILITY,
                           NNRP_ERROR_CODE_UNSUPPORTED_CAPABILITY);
      nnrp_fault f;
      nnrp_session_last_error(s.s, &f);
      CHECK_EQ_STR(f.field, "transport_policy");
    } else {
      CHECK_EQ_INT(nnrp_session_get_state(c.s), NNRP_STATE_ACTIVE);
      nnrp_packet p;
      if (packet_at(&s, 0, &p)) {
        const nnrp_ext_transport_policy *t =
            &p.b.server_hello_ack.ext.transport_policy;
        CHECK_EQ_INT(t->transport_policy, cases[i].policy);
        CHECK_EQ_INT(t->accepted_transport_policy, cases[i].policy);
        CHECK_EQ_U64(t->transport_id, cases[i].server_transport);
      }
    }
    nnrp_pair_free(&pair);
  }
}

typedef struct auth_seen {
  uint8_t bytes[16];
  size_t len;
  int calls;
} auth_seen;

static int validate_good(const uint8_t *auth, size_t len, void *user) {
  auth_seen *a = user;
  a->calls++;
  a->len = len;
  if (len <= sizeof(a->bytes) && len)
    memcpy(a->bytes, auth, len);
  return len == 4 && memcmp(auth, "good", 4) == 0;
}

TEST(server_auth_validator) {
  nnrp_client_profile cp;
  nnrp_server_profile sp;
  auth_seen seen;
  nnrp_pair pair;
  side c, s;
  const char *tokens[] = {"bad!", "good"};
  for (int i = 0; i < 2; i++) {
    memset(&seen, 0, sizeof(seen));
    nnrp_client_profile_default(&cp);
    nnrp_server_profile_default(&sp);
    cp.auth_block.ptr = (const uint8_t *)tokens[i];
    cp.auth_block.len = 4;
    sp.auth_validator = validate_good;
    sp.auth_user = &seen;
    run_pair(&pair, &c, &cp, 0, &s, &sp, NNRP_TRANSPORT_TCP);
    CHECK_EQ_INT(seen.calls, 1);
    CHECK(seen.len == 4 && memcmp(seen.bytes, tokens[i], 4) == 0);
    if (i == 0) {
      check_server_refused(&c, &s, NNRP_ERR_AUTH_FAILED,
                           NNRP_ERROR_CODE_AUTH_FAILED);
      CHECK(s.s->auth.ptr == NULL);
    } else {
      CHECK_EQ_INT(nnrp_session_get_state(c.s), NNRP_STATE_ACTIVE);
      CHECK(s.s->auth.len == 4 && memcmp(s.s->auth.ptr, "good", 4) == 0);
    }
    nnrp_pair_free(&pair);
  }
}

typedef struct ids {
  uint32_t taken;
  int all;
} ids;

static int id_taken(uint32_t id, void *user) {
  const ids *t = user;
  return t->all || id == t->taken;
}

TEST(server_session_id_assignment) {
  nnrp_client_profile cp;
  nnrp_server_profile sp;
  ids t = {77, 0};
  nnrp_client_profile_default(&cp);
  nnrp_server_profile_default(&sp);
  sp.id_in_use = id_taken;
  sp.id_user = &t;
  nnrp_pair pair;
  side c, s;
  /* Requested and free: granted. */
  cp.requested_session_id = 78;
  run_pair(&pair, &c, &cp, 0, &s, &sp, NNRP_TRANSPORT_TCP);
  CHECK_EQ_U64(nnrp_session_id(s.s), 78);
  CHECK_EQ_U64(nnrp_session_id(c.s), 78);
  nnrp_pair_free(&pair);
  /* Requested but in use: a fresh random id, adopted by the client. */
  cp.requested_session_id = 77;
  run_pair(&pair, &c, &cp, 0, &s, &sp, NNRP_TRANSPORT_TCP);
  uint32_t got = nnrp_session_id(s.s);
  CHECK(got != 0 && got != 77);
  CHECK_EQ_U64(nnrp_session_id(c.s), got);
  CHECK_EQ_INT(nnrp_session_get_state(c.s), NNRP_STATE_ACTIVE);
  nnrp_pair_free(&pair);
  /* Requested 0 (hand-made hello): a random non-zero id. */
  nnrp_server_profile_default(&sp);
  new_server(&pair, &s, &sp, NNRP_TRANSPORT_TCP);
  nnrp_meta m;
  default_hello(&m.client_hello);
  m.client_hello.requested_session_id = 0;
  uint8_t buf[256];
  inject(&s, buf, hello_bytes(buf, sizeof(buf), &m, NULL));
  CHECK_EQ_INT(nnrp_session_get_state(s.s), NNRP_STATE_ACTIVE);
  CHECK(nnrp_session_id(s.s) != 0);
  nnrp_pair_free(&pair);
  /* Every id in use: SERVER_BUSY (CONNECTION, fatal). */
  sp.id_in_use = id_taken;
  sp.id_user = &t;
  t.all = 1;
  run_pair(&pair, &c, &cp, 0, &s, &sp, NNRP_TRANSPORT_TCP);
  check_server_refused(&c, &s, NNRP_ERR_SERVER_BUSY,
                       NNRP_ERROR_CODE_SERVER_BUSY);
  nnrp_pair_free(&pair);
}

/* §3.3 step 2: only hello, probe, migrate and PING may come first. */
TEST(server_first_packet_not_allowed) {
  nnrp_server_profile sp;
  nnrp_server_profile_default(&sp);
  nnrp_pair pair;
  side s;
  new_server(&pair, &s, &sp, NNRP_TRANSPORT_TCP);
  nnrp_header h;
  nnrp_header_init(&h, NNRP_MSG_FRAME_SUBMIT);
  h.session_id = 5;
  h.frame_id = 1;
  h.view_id = 2;
  h.route_id = 3;
  h.trace_id = 4;
  uint8_t buf[40 + 72];
  memset(buf, 0, sizeof(buf));
  nnrp_header_encode(&h, buf);
  inject(&s, buf, sizeof(buf));
  check_error(&s, 0, NNRP_ERROR_CODE_INVALID_STATE, 5, 1, 2, 3, 4);
  const nnrp_pair_log *e = check_closed(&s, NNRP_ERR_HANDSHAKE_ORDER);
  if (e)
    CHECK_EQ_INT(e->error_code, NNRP_ERROR_CODE_INVALID_STATE);
  nnrp_pair_free(&pair);
}

TEST(server_second_client_hello_fatal) {
  nnrp_client_profile cp;
  nnrp_server_profile sp;
  nnrp_client_profile_default(&cp);
  nnrp_server_profile_default(&sp);
  nnrp_pair pair;
  side c, s;
  run_pair(&pair, &c, &cp, 0, &s, &sp, NNRP_TRANSPORT_TCP);
  CHECK_EQ_INT(nnrp_session_get_state(s.s), NNRP_STATE_ACTIVE);
  /* The client API refuses a second hello... */
  CHECK_EQ_INT(nnrp_session_connect(c.s, pair.now), NNRP_ERR_INVALID_STATE);
  /* ...a peer that sends one anyway ends the connection. */
  nnrp_meta m;
  default_hello(&m.client_hello);
  uint8_t buf[256];
  inject(&s, buf, hello_bytes(buf, sizeof(buf), &m, NULL));
  check_error(&s, 1, NNRP_ERROR_CODE_INVALID_STATE, 0, 0, 0, ROUTE, TRACE);
  check_closed(&s, NNRP_ERR_HANDSHAKE_ORDER);
  /* inject() pumped: the ERROR reached the client. */
  check_peer_closed(&c, NNRP_ERROR_CODE_INVALID_STATE);
  CHECK_EQ_INT(packet_count(&c), 1); /* never an ERROR for an ERROR */
  nnrp_pair_free(&pair);
}

/* §3.3 step 1: no first packet within handshake_timeout: close, no ERROR.
 * A PING is answered but does not end the wait. */
TEST(server_handshake_timeout) {
  nnrp_server_profile sp;
  nnrp_server_profile_default(&sp);
  nnrp_pair pair;
  side s;
  new_server(&pair, &s, &sp, NNRP_TRANSPORT_TCP);
  CHECK_EQ_INT(nnrp_session_handle_expiry(s.s, pair.now), 0); /* arms */
  CHECK_EQ_U64(nnrp_session_get_expiry(s.s), T0 + HS_TIMEOUT);
  pair.now = T0 + 5 * NS;
  nnrp_header h;
  nnrp_header_init(&h, NNRP_MSG_PING);
  uint8_t ping[40];
  nnrp_header_encode(&h, ping);
  inject(&s, ping, sizeof(ping));
  CHECK_EQ_INT(packet_count(&s), 1); /* PONG */
  CHECK_EQ_INT(nnrp_session_get_state(s.s), NNRP_STATE_INIT);
  CHECK_EQ_U64(nnrp_session_get_expiry(s.s), T0 + HS_TIMEOUT);
  pair.now = T0 + HS_TIMEOUT - 1;
  CHECK_EQ_INT(nnrp_session_handle_expiry(s.s, pair.now), 0);
  CHECK_EQ_INT(nnrp_session_get_state(s.s), NNRP_STATE_INIT);
  pair.now = T0 + HS_TIMEOUT;
  CHECK_EQ_INT(nnrp_session_handle_expiry(s.s, pair.now), 0);
  pump(&pair);
  CHECK_EQ_INT(packet_count(&s), 1); /* no ERROR */
  check_closed(&s, NNRP_ERR_TIMEOUT);
  CHECK_EQ_U64(nnrp_session_get_expiry(s.s), UINT64_MAX);
  nnrp_pair_free(&pair);
}

/* ---- client failures (§3.8) -------------------------------------------- */

/* A strict (or lenient) client that sent its hello and waits. */
static void waiting_client(nnrp_pair *p, side *c, uint32_t flags,
                           const nnrp_client_profile *cp) {
  new_client(p, c, cp, flags);
  CHECK_EQ_INT(nnrp_session_connect(c->s, p->now), 0);
  pump(p);
}

/* The client refused the ack with an ERROR of this code. */
static void check_client_refused(side *c, int lib_err, uint32_t code,
                                 uint32_t ack_sid, const char *field) {
  check_error(c, 1, code, ack_sid, 0, 0, ACK_ROUTE, ACK_TRACE);
  const nnrp_pair_log *e = check_closed(c, lib_err);
  if (e) {
    CHECK_EQ_INT(e->local, 1);
    CHECK_EQ_INT(e->error_code, code);
  }
  nnrp_fault f;
  CHECK_EQ_INT(nnrp_session_last_error(c->s, &f), lib_err);
  if (field)
    CHECK_EQ_STR(f.field, field);
  CHECK(nnrp_session_server_hello(c->s) == NULL);
}

TEST(client_strict_subset_violation) {
  static const char *fields[] = {
      "accepted_profile_bitmap", "accepted_payload_kind_bitmap",
      "accepted_codec_bitmap",   "accepted_compression_bitmap",
      "accepted_dtype_bitmap",   "accepted_layout_bitmap",
      "cache_digest_bitmap",     "cache_object_bitmap"};
  for (size_t i = 0; i < 8; i++) {
    nnrp_pair pair;
    side c;
    waiting_client(&pair, &c, 0, NULL);
    nnrp_server_hello_ack a;
    ack_for(c.s, &a, 42);
    uint32_t *bm[] = {
        &a.accepted_profile_bitmap, &a.accepted_payload_kind_bitmap,
        &a.accepted_codec_bitmap,   &a.accepted_compression_bitmap,
        &a.accepted_dtype_bitmap,   &a.accepted_layout_bitmap,
        &a.cache_digest_bitmap,     &a.cache_object_bitmap};
    *bm[i] |= 0x40; /* one bit the client did not offer */
    uint8_t buf[256];
    inject(&c, buf, ack_bytes(buf, sizeof(buf), &a, NULL));
    check_client_refused(&c, NNRP_ERR_UNSUPPORTED_CAPABILITY,
                         NNRP_ERROR_CODE_UNSUPPORTED_CAPABILITY, 42, fields[i]);
    nnrp_pair_free(&pair);
  }
  /* A cache-less client offered no object kinds: any is a violation. */
  nnrp_client_profile cp;
  nnrp_client_profile_default(&cp);
  cp.enable_cache = 0;
  nnrp_pair pair;
  side c;
  waiting_client(&pair, &c, 0, &cp);
  uint8_t *ack;
  size_t an = vhex(VEC_ACK, &ack);
  inject(&c, ack, an);
  check_error(&c, 1, NNRP_ERROR_CODE_UNSUPPORTED_CAPABILITY, 1, 0, 0, 0, 0);
  check_closed(&c, NNRP_ERR_UNSUPPORTED_CAPABILITY);
  free(ack);
  nnrp_pair_free(&pair);
}

/* Lenient (nnrp-py 1.0.0rc2 servers): over-wide bitmaps are intersected,
 * an opaque model-name body is kept. */
TEST(client_lenient_intersects) {
  nnrp_pair pair;
  side c;
  waiting_client(&pair, &c, NNRP_SESSION_LENIENT, NULL);
  nnrp_server_hello_ack a;
  ack_for(c.s, &a, 42);
  a.accepted_payload_kind_bitmap = 0x7F;
  a.accepted_codec_bitmap = 0xFFFFFFFFu;
  a.accepted_dtype_bitmap = 0xFF;
  a.cache_digest_bitmap = 0xFFFF;
  a.cache_object_bitmap = 0x1FF;
  nnrp_control_body b;
  memset(&b, 0, sizeof(b));
  b.bytes.ptr = (const uint8_t *)"model-7";
  b.bytes.len = 7;
  uint8_t buf[256];
  inject(&c, buf, ack_bytes(buf, sizeof(buf), &a, &b));
  CHECK_EQ_INT(nnrp_session_get_state(c.s), NNRP_STATE_ACTIVE);
  CHECK_EQ_INT(packet_count(&c), 1);
  CHECK_EQ_INT(nev(&c), 1);
  CHECK_EQ_INT(ev(&c, 0)->type, NNRP_EV_HANDSHAKE);
  const nnrp_server_hello_ack *got = nnrp_session_server_hello(c.s);
  if (CHECK(got != NULL)) {
    CHECK_EQ_U64(got->accepted_payload_kind_bitmap, 1);
    CHECK_EQ_U64(got->accepted_codec_bitmap, 3);
    CHECK_EQ_U64(got->accepted_dtype_bitmap, 0x1F);
    CHECK_EQ_U64(got->cache_digest_bitmap, 1);
    CHECK_EQ_U64(got->cache_object_bitmap, 7);
    CHECK_EQ_U64(got->max_concurrent_frames, 4);
  }
  CHECK_EQ_U64(c.s->wopts.payload_kinds, 1);
  CHECK_EQ_U64(c.s->wopts.cache_objects, 7);
  CHECK_EQ_U64(c.s->max_in_flight, 4);
  CHECK_EQ_U64(nnrp_session_id(c.s), 42);
  CHECK_EQ_INT(c.s->loss_tolerance, NNRP_LOSS_TOLERANCE_BEST_EFFORT);
  nnrp_pair_free(&pair);

  /* Lenient, but nothing left in common: refused (§3.9). */
  waiting_client(&pair, &c, NNRP_SESSION_LENIENT, NULL);
  ack_for(c.s, &a, 42);
  a.accepted_profile_bitmap = 0x2; /* client offered 0x1 */
  inject(&c, buf, ack_bytes(buf, sizeof(buf), &a, NULL));
  check_client_refused(&c, NNRP_ERR_UNSUPPORTED_CAPABILITY,
                       NNRP_ERROR_CODE_UNSUPPORTED_CAPABILITY, 42,
                       "accepted_profile_bitmap");
  nnrp_pair_free(&pair);
}

/* §3.8 step 6: closed without ERROR, reported as AUTH_FAILED. */
TEST(client_auth_status_refused) {
  nnrp_pair pair;
  side c;
  waiting_client(&pair, &c, 0, NULL);
  nnrp_server_hello_ack a;
  ack_for(c.s, &a, 42);
  a.auth_status = 1;
  uint8_t buf[256];
  inject(&c, buf, ack_bytes(buf, sizeof(buf), &a, NULL));
  CHECK_EQ_INT(packet_count(&c), 1); /* the hello only: no ERROR */
  const nnrp_pair_log *e = check_closed(&c, NNRP_ERR_AUTH_FAILED);
  if (e) {
    CHECK_EQ_INT(e->local, 1);
    CHECK_EQ_INT(e->error_code, NNRP_ERROR_CODE_AUTH_FAILED);
    CHECK_EQ_INT(e->error_scope, NNRP_ERROR_SCOPE_CONNECTION);
    CHECK_EQ_INT(e->is_fatal, 1);
  }
  CHECK_EQ_U64(nnrp_session_id(c.s), 0);
  nnrp_pair_free(&pair);
}

TEST(client_refuses_version) {
  /* Outside the window the client offered (simulated: the client offered
   * only wire format 1). */
  nnrp_pair pair;
  side c;
  waiting_client(&pair, &c, 0, NULL);
  c.s->hello.supported_wire_format_bitmap = 0x0002;
  nnrp_server_hello_ack a;
  ack_for(c.s, &a, 42);
  uint8_t buf[256];
  inject(&c, buf, ack_bytes(buf, sizeof(buf), &a, NULL));
  check_client_refused(&c, NNRP_ERR_UNSUPPORTED_VERSION,
                       NNRP_ERROR_CODE_UNSUPPORTED_VERSION, 42,
                       "selected_wire_format");
  nnrp_pair_free(&pair);
  /* selected_version_major 2 (refused by the wire layer first). */
  waiting_client(&pair, &c, 0, NULL);
  ack_for(c.s, &a, 42);
  a.selected_version_major = 2;
  inject(&c, buf, ack_bytes(buf, sizeof(buf), &a, NULL));
  check_client_refused(&c, NNRP_ERR_UNSUPPORTED_VERSION,
                       NNRP_ERROR_CODE_UNSUPPORTED_VERSION, 42, NULL);
  nnrp_pair_free(&pair);
}

/* §3.8 step 3: no ack within handshake_timeout: close, no ERROR. */
TEST(client_handshake_timeout) {
  nnrp_pair pair;
  side c;
  waiting_client(&pair, &c, 0, NULL);
  CHECK_EQ_U64(nnrp_session_get_expiry(c.s), T0 + HS_TIMEOUT);
  pair.now = T0 + HS_TIMEOUT - 1;
  CHECK_EQ_INT(nnrp_session_handle_expiry(c.s, pair.now), 0);
  CHECK_EQ_INT(nnrp_session_get_state(c.s), NNRP_STATE_NEGOTIATING);
  pair.now = T0 + HS_TIMEOUT;
  CHECK_EQ_INT(nnrp_session_handle_expiry(c.s, pair.now), 0);
  pump(&pair);
  CHECK_EQ_INT(packet_count(&c), 1); /* the hello only */
  check_closed(&c, NNRP_ERR_TIMEOUT);
  nnrp_pair_free(&pair);
}

TEST(connect_misuse) {
  nnrp_server_profile sp;
  nnrp_server_profile_default(&sp);
  nnrp_pair pair;
  side s, c;
  new_server(&pair, &s, &sp, NNRP_TRANSPORT_TCP);
  CHECK_EQ_INT(nnrp_session_connect(s.s, T0), NNRP_ERR_INVALID_STATE);
  CHECK_EQ_U64(nnrp_session_output_bytes(s.s), 0);
  nnrp_pair_free(&pair);
  waiting_client(&pair, &c, 0, NULL);
  CHECK_EQ_INT(nnrp_session_connect(c.s, T0), NNRP_ERR_INVALID_STATE);
  CHECK_EQ_INT(packet_count(&c), 1);
  nnrp_pair_free(&pair);
  /* A forced binding contradicted by the preferred id (§11.1). */
  nnrp_client_profile cp;
  nnrp_client_profile_default(&cp);
  cp.transport_policy = NNRP_TRANSPORT_POLICY_FORCE_QUIC;
  cp.preferred_transport_id = NNRP_TRANSPORT_TCP;
  new_client(&pair, &c, &cp, 0);
  CHECK_EQ_INT(nnrp_session_connect(c.s, T0), NNRP_ERR_INVALID_ARGUMENT);
  CHECK_EQ_INT(nnrp_session_get_state(c.s), NNRP_STATE_INIT);
  CHECK_EQ_U64(nnrp_session_output_bytes(c.s), 0);
  nnrp_pair_free(&pair);
  cp.transport_policy = NNRP_TRANSPORT_POLICY_PREFER_QUIC;
  cp.preferred_transport_id = 3;
  new_client(&pair, &c, &cp, 0);
  CHECK_EQ_INT(nnrp_session_connect(c.s, T0), NNRP_ERR_INVALID_ARGUMENT);
  nnrp_pair_free(&pair);
}

/* Cache disabled on the client: zero cache fields (§3.2); max_views 0
 * still gets one lane (§3.6). */
TEST(client_cache_disabled_and_lanes) {
  nnrp_client_profile cp;
  nnrp_server_profile sp;
  nnrp_client_profile_default(&cp);
  nnrp_server_profile_default(&sp);
  cp.enable_cache = 0;
  cp.max_views = 0;
  nnrp_pair pair;
  side c, s;
  run_pair(&pair, &c, &cp, 0, &s, &sp, NNRP_TRANSPORT_TCP);
  CHECK_EQ_INT(nnrp_session_get_state(c.s), NNRP_STATE_ACTIVE);
  nnrp_packet p;
  if (packet_at(&c, 0, &p)) {
    CHECK_EQ_U64(p.m.client_hello.cache_object_bitmap, 0);
    CHECK_EQ_U64(p.m.client_hello.cache_namespace_count, 0);
    CHECK_EQ_U64(p.m.client_hello.max_cache_entries, 0);
    CHECK_EQ_U64(p.m.client_hello.max_cache_bytes, 0);
    CHECK_EQ_U64(p.m.client_hello.cache_digest_bitmap, 1);
  }
  CHECK_EQ_INT(c.s->ack.max_lane_count, 1);
  CHECK_EQ_U64(c.s->wopts.cache_objects, 0);
  nnrp_pair_free(&pair);
}

/* ---- allocation failures ------------------------------------------------ */

typedef struct failmem {
  long countdown; /* the allocation that fails (0 = the next one) */
  int failed;
} failmem;

static void *fm_malloc(size_t n, void *u) {
  failmem *f = u;
  if (f->countdown-- == 0) {
    f->failed = 1;
    return NULL;
  }
  return malloc(n);
}

static void *fm_realloc(void *p, size_t n, void *u) {
  failmem *f = u;
  if (f->countdown-- == 0) {
    f->failed = 1;
    return NULL;
  }
  return realloc(p, n);
}

static void fm_free(void *p, void *u) {
  (void)u;
  free(p);
}

/* Fails the n-th allocation of one side; returns 0 once a run hit none. */
static int failing_run(long n, int server_fails) {
  failmem fm = {n, 0};
  nnrp_mem mem = {&fm, fm_malloc, fm_realloc, fm_free};
  nnrp_client_profile cp;
  nnrp_server_profile sp;
  vector_profile(&cp);
  nnrp_server_profile_default(&sp);
  sp.model_name.ptr = (const uint8_t *)"m";
  sp.model_name.len = 1;
  nnrp_session_settings st;
  settings_for(&st, 0, NNRP_TRANSPORT_TCP, 7);
  nnrp_pair pair;
  int rc =
      nnrp_pair_init_mem(&pair, &cp, &sp, &st, &st, server_fails ? NULL : &mem,
                         server_fails ? &mem : NULL);
  if (rc != 0) {
    CHECK_EQ_INT(rc, NNRP_ERR_NOMEM);
    nnrp_pair_free(&pair);
    return 1;
  }
  pair.now = T0;
  side c = side_of(&pair, CLI), s = side_of(&pair, SRV);
  rc = nnrp_session_connect(c.s, pair.now);
  if (rc == 0)
    pump(&pair);
  else
    CHECK_EQ_INT(rc, NNRP_ERR_NOMEM);
  side *f = server_fails ? &s : &c;
  side *o = server_fails ? &c : &s;
  if (nnrp_session_get_state(f->s) == NNRP_STATE_ACTIVE) {
    CHECK_EQ_INT(nnrp_session_get_state(o->s), NNRP_STATE_ACTIVE);
    CHECK(nev(f) >= 1 && ev(f, 0)->type == NNRP_EV_HANDSHAKE);
  } else if (rc == 0) {
    CHECK_EQ_INT(nnrp_session_get_state(f->s), NNRP_STATE_CLOSED);
    CHECK_EQ_INT(nnrp_session_want_close(f->s), 1);
    CHECK(nnrp_session_get_state(o->s) != NNRP_STATE_ACTIVE);
  }
  nnrp_pair_free(&pair);
  return fm.failed;
}

TEST(allocation_failures) {
  for (int side_ = 0; side_ < 2; side_++) {
    long n = 0;
    while (failing_run(n, side_) && n < 200)
      n++;
    CHECK(n < 200);
    CHECK(n > 3); /* some allocations were really failed */
  }
}

int main(void) {
  g_root = nnrp_test_load_json("seed-line.json");
  RUN(handshake_defaults);
  RUN(client_hello_matches_vector);
  RUN(server_ack_matches_vector);
  RUN(client_adopts_vector_ack);
  RUN(extensions_answered);
  RUN(payload_caps_ext_intersects);
  RUN(server_negotiates_fixed_fields);
  RUN(server_refuses_version_window);
  RUN(server_refuses_wire_bitmap);
  RUN(server_refuses_no_common_profile);
  RUN(server_refuses_no_common_payload_kind);
  RUN(server_refuses_unknown_critical_extension);
  RUN(server_refuses_forced_transport_mismatch);
  RUN(server_auth_validator);
  RUN(server_session_id_assignment);
  RUN(server_first_packet_not_allowed);
  RUN(server_second_client_hello_fatal);
  RUN(server_handshake_timeout);
  RUN(client_strict_subset_violation);
  RUN(client_lenient_intersects);
  RUN(client_auth_status_refused);
  RUN(client_refuses_version);
  RUN(client_handshake_timeout);
  RUN(connect_misuse);
  RUN(client_cache_disabled_and_lanes);
  RUN(allocation_failures);
  cJSON_Delete(g_root);
  TEST_MAIN_END();
}
