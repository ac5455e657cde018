/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_handshake.c - the handshake of session.md §3: a client and a server
 * session wired back to back in memory with a fake clock. Success on both
 * sides (events, states, negotiated values, ids), the seed-line hello
 * vectors byte for byte, the extension answers of §3.7, every failure path
 * of §3.9 with the exact ERROR the peer receives, both handshake timeouts,
 * and allocation-failure runs.
 */
#include "harness.h"
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
static uint64_t g_now;

/* ---- a session with its captured traffic and events --------------------- */

typedef struct evrec {
  nnrp_event_type type;
  uint8_t msg; /* msg_type of ev.packet, 0 when none */
  uint64_t received_at;
  nnrp_error_record err;
} evrec;

typedef struct side {
  nnrp_session *s;
  evrec ev[32];
  int nev;
  uint8_t out[16384]; /* every byte this side wrote, in order */
  size_t out_len;
  size_t fed; /* bytes of out delivered to the peer */
} side;

static int pull(side *x) {
  nnrp_event ev;
  int n = 0;
  while (nnrp_session_next_event(x->s, &ev) == 1) {
    if (x->nev < 32) {
      evrec *r = &x->ev[x->nev++];
      r->type = ev.type;
      r->msg = ev.packet ? ev.packet->hdr.msg_type : 0;
      r->received_at = ev.received_at;
      r->err = ev.error;
    }
    n++;
  }
  return n;
}

/* Takes everything the session has queued (as a transport would). */
static int collect(side *x) {
  nnrp_iov iov[16];
  size_t n = nnrp_session_pending_output(x->s, iov, 16);
  size_t total = 0;
  for (size_t i = 0; i < n; i++) {
    if (x->out_len + iov[i].len > sizeof(x->out))
      harness_die(__FILE__, __LINE__, "capture buffer full");
    memcpy(x->out + x->out_len, iov[i].base, iov[i].len);
    x->out_len += iov[i].len;
    total += iov[i].len;
  }
  if (total != 0)
    CHECK_EQ_INT(nnrp_session_output_consumed(x->s, total, g_now), 0);
  return total != 0;
}

/* Feeds what `from` wrote and `to` has not consumed yet. */
static int deliver(side *from, side *to) {
  if (from->fed >= from->out_len)
    return 0;
  int64_t r = nnrp_session_recv(to->s, from->out + from->fed,
                                from->out_len - from->fed, g_now);
  if (r > 0)
    from->fed += (size_t)r;
  if (r < 0) /* a negative return means the session ended */
    CHECK_EQ_INT(nnrp_session_get_state(to->s), NNRP_STATE_CLOSED);
  int pulled = pull(to);
  return r != 0 || pulled != 0; /* r < 0: closed now, discards the rest */
}

static void pump(side *c, side *s) {
  for (int i = 0; i < 1000; i++) {
    int p = collect(c);
    p |= collect(s);
    p |= deliver(c, s);
    p |= deliver(s, c);
    p |= pull(c) != 0;
    p |= pull(s) != 0;
    if (!p)
      return;
  }
  harness_die(__FILE__, __LINE__, "pump does not settle");
}

/* Feeds raw bytes to one session (a hand-made peer). */
static void inject(side *to, const uint8_t *b, size_t len) {
  side fake;
  memset(&fake, 0, sizeof(fake));
  memcpy(fake.out, b, len);
  fake.out_len = len;
  for (int i = 0; i < 100 && deliver(&fake, to); i++)
    ;
  collect(to);
}

static void settings_for(nnrp_session_settings *st, uint32_t flags,
                         uint32_t transport, uint64_t seed) {
  nnrp_session_settings_default(st);
  st->flags = flags;
  st->transport_id = transport;
  st->rand_seed = seed;
}

static void new_client(side *x, const nnrp_client_profile *cp, uint32_t flags) {
  memset(x, 0, sizeof(*x));
  nnrp_session_settings st;
  settings_for(&st, flags, NNRP_TRANSPORT_TCP, 0x1234567u);
  if (nnrp_session_client_new(&x->s, cp, &st, NULL) != 0)
    harness_die(__FILE__, __LINE__, "client_new");
}

static void new_server(side *x, const nnrp_server_profile *sp,
                       uint32_t transport) {
  memset(x, 0, sizeof(*x));
  nnrp_session_settings st;
  settings_for(&st, 0, transport, 0xABCDEF01u);
  if (nnrp_session_server_new(&x->s, sp, &st, NULL) != 0)
    harness_die(__FILE__, __LINE__, "server_new");
}

static void del(side *x) {
  nnrp_session_del(x->s);
  x->s = NULL;
}

/* Default client/server pair, connected and pumped. */
static void run_pair(side *c, const nnrp_client_profile *cp, uint32_t cflags,
                     side *s, const nnrp_server_profile *sp,
                     uint32_t transport) {
  new_client(c, cp, cflags);
  new_server(s, sp, transport);
  g_now = T0;
  CHECK_EQ_INT(nnrp_session_connect(c->s, g_now), 0);
  pump(c, s);
}

/* ---- packets ------------------------------------------------------------ */

static uint32_t rd32(const uint8_t *p) {
  return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
         (uint32_t)p[3] << 24;
}

static size_t packet_len(const uint8_t *p) {
  return 40u + (size_t)rd32(p + 12) + rd32(p + 16);
}

static size_t packet_count(const side *x) {
  size_t n = 0;
  for (size_t off = 0; off + 40 <= x->out_len; off += packet_len(x->out + off))
    n++;
  return n;
}

/* Decodes the idx-th packet x wrote (strict). */
static int packet_at(const side *x, size_t idx, nnrp_packet *p) {
  size_t off = 0;
  for (size_t i = 0; i < idx && off + 40 <= x->out_len; i++)
    off += packet_len(x->out + off);
  if (!CHECK(off + 40 <= x->out_len))
    return 0;
  nnrp_wire_opts o;
  nnrp_wire_opts_default(&o);
  nnrp_fault f;
  return CHECK_EQ_INT(
      nnrp_packet_decode(p, x->out + off, packet_len(x->out + off), &o, &f), 0);
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
static const evrec *check_closed(const side *x, int lib_err) {
  CHECK_EQ_INT(nnrp_session_get_state(x->s), NNRP_STATE_CLOSED);
  CHECK_EQ_INT(nnrp_session_want_close(x->s), 1);
  if (!CHECK(x->nev > 0))
    return NULL;
  const evrec *e = &x->ev[x->nev - 1];
  CHECK_EQ_INT(e->type, NNRP_EV_CLOSED);
  CHECK_EQ_INT(e->err.lib_err, lib_err);
  return e;
}

/* The client received the server's fatal ERROR with this code. */
static void check_peer_closed(const side *c, uint32_t code) {
  const evrec *e = check_closed(c, NNRP_ERR_PEER_ERROR);
  if (e == NULL)
    return;
  CHECK_EQ_INT(e->err.local, 0);
  CHECK_EQ_INT(e->err.error_code, code);
  CHECK_EQ_INT(e->err.error_scope, NNRP_ERROR_SCOPE_CONNECTION);
  CHECK_EQ_INT(e->err.is_fatal, 1);
}

/* A server failure seen from both sides of a real pair: one ERROR from the
 * server about the hello (ids 0), both sessions closed. */
static void check_server_refused(side *c, side *s, int lib_err, uint32_t code) {
  CHECK_EQ_INT(packet_count(c), 1); /* the hello only */
  check_error(s, 0, code, 0, 0, 0, 0, 0);
  const evrec *e = check_closed(s, lib_err);
  if (e) {
    CHECK_EQ_INT(e->err.local, 1);
    CHECK_EQ_INT(e->err.error_code, code);
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
  side c, s;
  run_pair(&c, &cp, 0, &s, &sp, NNRP_TRANSPORT_TCP);

  /* One event each, HANDSHAKE carrying the other side's hello. */
  CHECK_EQ_INT(c.nev, 1);
  CHECK_EQ_INT(c.ev[0].type, NNRP_EV_HANDSHAKE);
  CHECK_EQ_INT(c.ev[0].msg, NNRP_MSG_SERVER_HELLO_ACK);
  CHECK_EQ_U64(c.ev[0].received_at, T0);
  CHECK_EQ_INT(s.nev, 1);
  CHECK_EQ_INT(s.ev[0].type, NNRP_EV_HANDSHAKE);
  CHECK_EQ_INT(s.ev[0].msg, NNRP_MSG_CLIENT_HELLO);
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
  del(&c);
  del(&s);
}

TEST(client_hello_matches_vector) {
  nnrp_client_profile cp;
  vector_profile(&cp);
  side c;
  new_client(&c, &cp, 0);
  g_now = T0;
  CHECK_EQ_INT(nnrp_session_connect(c.s, g_now), 0);
  CHECK_EQ_INT(nnrp_session_get_state(c.s), NNRP_STATE_NEGOTIATING);
  CHECK_EQ_U64(c.s->handshake_deadline, T0 + HS_TIMEOUT);
  CHECK_EQ_U64(nnrp_session_get_expiry(c.s), T0 + HS_TIMEOUT);
  collect(&c);
  uint8_t *want;
  size_t n = vhex(VEC_HELLO, &want);
  CHECK_EQ_U64(c.out_len, n);
  CHECK_EQ_MEM(c.out, want, n);
  CHECK_EQ_INT(c.nev, 0);
  free(want);
  del(&c);
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
  side s;
  new_server(&s, &sp, NNRP_TRANSPORT_QUIC);
  g_now = T0;
  uint8_t *hello, *want;
  size_t hn = vhex(VEC_HELLO, &hello);
  size_t an = vhex(VEC_ACK, &want);
  inject(&s, hello, hn);
  CHECK_EQ_INT(nnrp_session_get_state(s.s), NNRP_STATE_ACTIVE);
  CHECK_EQ_U64(nnrp_session_id(s.s), 1);
  CHECK_EQ_U64(s.out_len, an);
  /* The cache fields, named for the reader. */
  CHECK_EQ_U64(rd32(want + ACK_CACHE_OBJ), 7);
  CHECK_EQ_U64(rd32(want + ACK_CACHE_ENTRIES), 256);
  CHECK_EQ_U64(rd32(want + ACK_CACHE_BYTES), 8u << 20);
  CHECK_EQ_U64(rd32(want + ACK_SERVER_FLAGS), 1);
  if (s.out_len == an)
    CHECK_EQ_MEM(s.out, want, an);
  CHECK_EQ_INT(s.nev, 1);
  CHECK_EQ_INT(s.ev[0].type, NNRP_EV_HANDSHAKE);
  CHECK(s.s->auth.len == 4 && memcmp(s.s->auth.ptr, "tok!", 4) == 0);
  CHECK(s.s->auth.ptr < hello || s.s->auth.ptr >= hello + hn); /* a copy */
  free(hello);
  free(want);
  del(&s);
}

/* The client adopts the vector ack as published (cache enabled). */
TEST(client_adopts_vector_ack) {
  nnrp_client_profile cp;
  vector_profile(&cp);
  side c;
  new_client(&c, &cp, 0);
  g_now = T0;
  CHECK_EQ_INT(nnrp_session_connect(c.s, g_now), 0);
  collect(&c);
  uint8_t *ack;
  size_t an = vhex(VEC_ACK, &ack);
  g_now = T0 + 5 * NS;
  inject(&c, ack, an);
  CHECK_EQ_INT(nnrp_session_get_state(c.s), NNRP_STATE_ACTIVE);
  CHECK_EQ_INT(packet_count(&c), 1); /* no ERROR */
  CHECK_EQ_INT(c.nev, 1);
  CHECK_EQ_INT(c.ev[0].type, NNRP_EV_HANDSHAKE);
  CHECK_EQ_U64(c.ev[0].received_at, T0 + 5 * NS);
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
  del(&c);
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
  side c, s;
  run_pair(&c, &cp, 0, &s, &sp, NNRP_TRANSPORT_TCP);
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
  del(&c);
  del(&s);
}

/* The 0x0105 bitmap narrows the accepted kinds (§3.6). */
TEST(payload_caps_ext_intersects) {
  nnrp_server_profile sp;
  nnrp_server_profile_default(&sp);
  side s;
  new_server(&s, &sp, NNRP_TRANSPORT_TCP);
  nnrp_meta m;
  default_hello(&m.client_hello);
  m.client_hello.supported_payload_kind_bitmap = 0x3;
  nnrp_hello_exts x;
  memset(&x, 0, sizeof(x));
  x.present = NNRP_HELLO_EXT_PAYLOAD_CAPS;
  x.payload_caps.payload_kind_bitmap = 0x1;
  uint8_t buf[256];
  size_t n = hello_bytes(buf, sizeof(buf), &m, &x);
  g_now = T0;
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
  del(&s);

  /* Empty after the 0x0105 intersection: no common payload kind. */
  new_server(&s, &sp, NNRP_TRANSPORT_TCP);
  default_hello(&m.client_hello);
  m.client_hello.supported_payload_kind_bitmap = 0x2;
  n = hello_bytes(buf, sizeof(buf), &m, &x);
  inject(&s, buf, n);
  check_error(&s, 0, NNRP_ERROR_CODE_UNSUPPORTED_CAPABILITY, 0, 0, 0, ROUTE,
              TRACE);
  check_closed(&s, NNRP_ERR_UNSUPPORTED_CAPABILITY);
  del(&s);
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
  side s;
  new_server(&s, &sp, NNRP_TRANSPORT_TCP);
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
  g_now = T0;
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
  del(&s);
  /* No common digest: 0 (may be 0, D5). */
  new_server(&s, &sp, NNRP_TRANSPORT_TCP);
  c->cache_digest_bitmap = 0x2;
  inject(&s, buf, hello_bytes(buf, sizeof(buf), &m, NULL));
  if (packet_at(&s, 0, &p))
    CHECK_EQ_U64(p.m.server_hello_ack.cache_digest_bitmap, 0);
  del(&s);
}

/* ---- server failures (§3.3 steps 4-9, §3.9) ----------------------------- */

/* A hand-made hello the server must refuse with code. */
static void refuse_hello(const nnrp_client_hello *c, int lib_err, uint32_t code,
                         const char *field) {
  nnrp_server_profile sp;
  nnrp_server_profile_default(&sp);
  side s;
  new_server(&s, &sp, NNRP_TRANSPORT_TCP);
  nnrp_meta m;
  m.client_hello = *c;
  uint8_t buf[256];
  size_t n = hello_bytes(buf, sizeof(buf), &m, NULL);
  g_now = T0;
  inject(&s, buf, n);
  check_error(&s, 0, code, 0, 0, 0, ROUTE, TRACE);
  const evrec *e = check_closed(&s, lib_err);
  if (e)
    CHECK_EQ_INT(e->err.error_code, code);
  nnrp_fault f;
  CHECK_EQ_INT(nnrp_session_last_error(s.s, &f), lib_err);
  if (field)
    CHECK_EQ_STR(f.field, field);
  del(&s);
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
  side c, s;
  run_pair(&c, &cp, 0, &s, &sp, NNRP_TRANSPORT_TCP);
  check_server_refused(&c, &s, NNRP_ERR_UNSUPPORTED_CAPABILITY,
                       NNRP_ERROR_CODE_UNSUPPORTED_CAPABILITY);
  nnrp_fault f;
  nnrp_session_last_error(s.s, &f);
  CHECK_EQ_STR(f.field, "supported_profile_bitmap");
  del(&c);
  del(&s);
}

TEST(server_refuses_no_common_payload_kind) {
  nnrp_client_profile cp;
  nnrp_server_profile sp;
  nnrp_client_profile_default(&cp);
  nnrp_server_profile_default(&sp);
  cp.payload_kinds = NNRP_PAYLOAD_KIND_TOKEN_CHUNK;
  sp.payload_kinds = NNRP_PAYLOAD_KIND_TENSOR;
  side c, s;
  run_pair(&c, &cp, 0, &s, &sp, NNRP_TRANSPORT_TCP);
  check_server_refused(&c, &s, NNRP_ERR_UNSUPPORTED_CAPABILITY,
                       NNRP_ERROR_CODE_UNSUPPORTED_CAPABILITY);
  nnrp_fault f;
  nnrp_session_last_error(s.s, &f);
  CHECK_EQ_STR(f.field, "supported_payload_kind_bitmap");
  del(&c);
  del(&s);
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
  side c, s;
  run_pair(&c, &cp, 0, &s, &sp, NNRP_TRANSPORT_TCP);
  check_server_refused(&c, &s, NNRP_ERR_UNSUPPORTED_CAPABILITY,
                       NNRP_ERROR_CODE_UNSUPPORTED_CAPABILITY);
  del(&c);
  del(&s);
}

TEST(server_refuses_forced_transport_mismatch) {
  nnrp_client_profile cp;
  nnrp_server_profile sp;
  nnrp_server_profile_default(&sp);
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
    run_pair(&c, &cp, 0, &s, &sp, cases[i].server_transport);
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
    del(&c);
    del(&s);
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
    run_pair(&c, &cp, 0, &s, &sp, NNRP_TRANSPORT_TCP);
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
    del(&c);
    del(&s);
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
  side c, s;
  /* Requested and free: granted. */
  cp.requested_session_id = 78;
  run_pair(&c, &cp, 0, &s, &sp, NNRP_TRANSPORT_TCP);
  CHECK_EQ_U64(nnrp_session_id(s.s), 78);
  CHECK_EQ_U64(nnrp_session_id(c.s), 78);
  del(&c);
  del(&s);
  /* Requested but in use: a fresh random id, adopted by the client. */
  cp.requested_session_id = 77;
  run_pair(&c, &cp, 0, &s, &sp, NNRP_TRANSPORT_TCP);
  uint32_t got = nnrp_session_id(s.s);
  CHECK(got != 0 && got != 77);
  CHECK_EQ_U64(nnrp_session_id(c.s), got);
  CHECK_EQ_INT(nnrp_session_get_state(c.s), NNRP_STATE_ACTIVE);
  del(&c);
  del(&s);
  /* Requested 0 (hand-made hello): a random non-zero id. */
  nnrp_server_profile_default(&sp);
  new_server(&s, &sp, NNRP_TRANSPORT_TCP);
  nnrp_meta m;
  default_hello(&m.client_hello);
  m.client_hello.requested_session_id = 0;
  uint8_t buf[256];
  inject(&s, buf, hello_bytes(buf, sizeof(buf), &m, NULL));
  CHECK_EQ_INT(nnrp_session_get_state(s.s), NNRP_STATE_ACTIVE);
  CHECK(nnrp_session_id(s.s) != 0);
  del(&s);
  /* Every id in use: SERVER_BUSY (CONNECTION, fatal). */
  sp.id_in_use = id_taken;
  sp.id_user = &t;
  t.all = 1;
  run_pair(&c, &cp, 0, &s, &sp, NNRP_TRANSPORT_TCP);
  check_server_refused(&c, &s, NNRP_ERR_SERVER_BUSY,
                       NNRP_ERROR_CODE_SERVER_BUSY);
  del(&c);
  del(&s);
}

/* §3.3 step 2: only hello, probe, migrate and PING may come first. */
TEST(server_first_packet_not_allowed) {
  nnrp_server_profile sp;
  nnrp_server_profile_default(&sp);
  side s;
  new_server(&s, &sp, NNRP_TRANSPORT_TCP);
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
  g_now = T0;
  inject(&s, buf, sizeof(buf));
  check_error(&s, 0, NNRP_ERROR_CODE_INVALID_STATE, 5, 1, 2, 3, 4);
  const evrec *e = check_closed(&s, NNRP_ERR_HANDSHAKE_ORDER);
  if (e)
    CHECK_EQ_INT(e->err.error_code, NNRP_ERROR_CODE_INVALID_STATE);
  del(&s);
}

TEST(server_second_client_hello_fatal) {
  nnrp_client_profile cp;
  nnrp_server_profile sp;
  nnrp_client_profile_default(&cp);
  nnrp_server_profile_default(&sp);
  side c, s;
  run_pair(&c, &cp, 0, &s, &sp, NNRP_TRANSPORT_TCP);
  CHECK_EQ_INT(nnrp_session_get_state(s.s), NNRP_STATE_ACTIVE);
  /* The client API refuses a second hello... */
  CHECK_EQ_INT(nnrp_session_connect(c.s, g_now), NNRP_ERR_INVALID_STATE);
  /* ...a peer that sends one anyway ends the connection. */
  nnrp_meta m;
  default_hello(&m.client_hello);
  uint8_t buf[256];
  inject(&s, buf, hello_bytes(buf, sizeof(buf), &m, NULL));
  check_error(&s, 1, NNRP_ERROR_CODE_INVALID_STATE, 0, 0, 0, ROUTE, TRACE);
  check_closed(&s, NNRP_ERR_HANDSHAKE_ORDER);
  pump(&c, &s); /* the ERROR reaches the client */
  check_peer_closed(&c, NNRP_ERROR_CODE_INVALID_STATE);
  CHECK_EQ_INT(packet_count(&c), 1); /* never an ERROR for an ERROR */
  del(&c);
  del(&s);
}

/* §3.3 step 1: no first packet within handshake_timeout: close, no ERROR.
 * A PING is answered but does not end the wait. */
TEST(server_handshake_timeout) {
  nnrp_server_profile sp;
  nnrp_server_profile_default(&sp);
  side s;
  new_server(&s, &sp, NNRP_TRANSPORT_TCP);
  g_now = T0;
  CHECK_EQ_INT(nnrp_session_handle_expiry(s.s, g_now), 0); /* arms */
  CHECK_EQ_U64(nnrp_session_get_expiry(s.s), T0 + HS_TIMEOUT);
  g_now = T0 + 5 * NS;
  nnrp_header h;
  nnrp_header_init(&h, NNRP_MSG_PING);
  uint8_t ping[40];
  nnrp_header_encode(&h, ping);
  inject(&s, ping, sizeof(ping));
  CHECK_EQ_INT(packet_count(&s), 1); /* PONG */
  CHECK_EQ_INT(nnrp_session_get_state(s.s), NNRP_STATE_INIT);
  CHECK_EQ_U64(nnrp_session_get_expiry(s.s), T0 + HS_TIMEOUT);
  g_now = T0 + HS_TIMEOUT - 1;
  CHECK_EQ_INT(nnrp_session_handle_expiry(s.s, g_now), 0);
  CHECK_EQ_INT(nnrp_session_get_state(s.s), NNRP_STATE_INIT);
  g_now = T0 + HS_TIMEOUT;
  CHECK_EQ_INT(nnrp_session_handle_expiry(s.s, g_now), 0);
  collect(&s);
  pull(&s);
  CHECK_EQ_INT(packet_count(&s), 1); /* no ERROR */
  check_closed(&s, NNRP_ERR_TIMEOUT);
  CHECK_EQ_U64(nnrp_session_get_expiry(s.s), UINT64_MAX);
  del(&s);
}

/* ---- client failures (§3.8) -------------------------------------------- */

/* A strict (or lenient) client that sent its hello and waits. */
static void waiting_client(side *c, uint32_t flags,
                           const nnrp_client_profile *cp) {
  nnrp_client_profile def;
  if (cp == NULL) {
    nnrp_client_profile_default(&def);
    cp = &def;
  }
  new_client(c, cp, flags);
  g_now = T0;
  CHECK_EQ_INT(nnrp_session_connect(c->s, g_now), 0);
  collect(c);
}

/* The client refused the ack with an ERROR of this code. */
static void check_client_refused(side *c, int lib_err, uint32_t code,
                                 uint32_t ack_sid, const char *field) {
  check_error(c, 1, code, ack_sid, 0, 0, ACK_ROUTE, ACK_TRACE);
  const evrec *e = check_closed(c, lib_err);
  if (e) {
    CHECK_EQ_INT(e->err.local, 1);
    CHECK_EQ_INT(e->err.error_code, code);
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
    side c;
    waiting_client(&c, 0, NULL);
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
    del(&c);
  }
  /* A cache-less client offered no object kinds: any is a violation. */
  nnrp_client_profile cp;
  nnrp_client_profile_default(&cp);
  cp.enable_cache = 0;
  side c;
  waiting_client(&c, 0, &cp);
  uint8_t *ack;
  size_t an = vhex(VEC_ACK, &ack);
  inject(&c, ack, an);
  check_error(&c, 1, NNRP_ERROR_CODE_UNSUPPORTED_CAPABILITY, 1, 0, 0, 0, 0);
  check_closed(&c, NNRP_ERR_UNSUPPORTED_CAPABILITY);
  free(ack);
  del(&c);
}

/* Lenient (nnrp-py 1.0.0rc2 servers): over-wide bitmaps are intersected,
 * an opaque model-name body is kept. */
TEST(client_lenient_intersects) {
  side c;
  waiting_client(&c, NNRP_SESSION_LENIENT, NULL);
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
  CHECK_EQ_INT(c.nev, 1);
  CHECK_EQ_INT(c.ev[0].type, NNRP_EV_HANDSHAKE);
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
  del(&c);

  /* Lenient, but nothing left in common: refused (§3.9). */
  waiting_client(&c, NNRP_SESSION_LENIENT, NULL);
  ack_for(c.s, &a, 42);
  a.accepted_profile_bitmap = 0x2; /* client offered 0x1 */
  inject(&c, buf, ack_bytes(buf, sizeof(buf), &a, NULL));
  check_client_refused(&c, NNRP_ERR_UNSUPPORTED_CAPABILITY,
                       NNRP_ERROR_CODE_UNSUPPORTED_CAPABILITY, 42,
                       "accepted_profile_bitmap");
  del(&c);
}

/* §3.8 step 6: closed without ERROR, reported as AUTH_FAILED. */
TEST(client_auth_status_refused) {
  side c;
  waiting_client(&c, 0, NULL);
  nnrp_server_hello_ack a;
  ack_for(c.s, &a, 42);
  a.auth_status = 1;
  uint8_t buf[256];
  inject(&c, buf, ack_bytes(buf, sizeof(buf), &a, NULL));
  CHECK_EQ_INT(packet_count(&c), 1); /* the hello only: no ERROR */
  const evrec *e = check_closed(&c, NNRP_ERR_AUTH_FAILED);
  if (e) {
    CHECK_EQ_INT(e->err.local, 1);
    CHECK_EQ_INT(e->err.error_code, NNRP_ERROR_CODE_AUTH_FAILED);
    CHECK_EQ_INT(e->err.error_scope, NNRP_ERROR_SCOPE_CONNECTION);
    CHECK_EQ_INT(e->err.is_fatal, 1);
  }
  CHECK_EQ_U64(nnrp_session_id(c.s), 0);
  del(&c);
}

TEST(client_refuses_version) {
  /* Outside the window the client offered (simulated: the client offered
   * only wire format 1). */
  side c;
  waiting_client(&c, 0, NULL);
  c.s->hello.supported_wire_format_bitmap = 0x0002;
  nnrp_server_hello_ack a;
  ack_for(c.s, &a, 42);
  uint8_t buf[256];
  inject(&c, buf, ack_bytes(buf, sizeof(buf), &a, NULL));
  check_client_refused(&c, NNRP_ERR_UNSUPPORTED_VERSION,
                       NNRP_ERROR_CODE_UNSUPPORTED_VERSION, 42,
                       "selected_wire_format");
  del(&c);
  /* selected_version_major 2 (refused by the wire layer first). */
  waiting_client(&c, 0, NULL);
  ack_for(c.s, &a, 42);
  a.selected_version_major = 2;
  inject(&c, buf, ack_bytes(buf, sizeof(buf), &a, NULL));
  check_client_refused(&c, NNRP_ERR_UNSUPPORTED_VERSION,
                       NNRP_ERROR_CODE_UNSUPPORTED_VERSION, 42, NULL);
  del(&c);
}

/* §3.8 step 3: no ack within handshake_timeout: close, no ERROR. */
TEST(client_handshake_timeout) {
  side c;
  waiting_client(&c, 0, NULL);
  CHECK_EQ_U64(nnrp_session_get_expiry(c.s), T0 + HS_TIMEOUT);
  g_now = T0 + HS_TIMEOUT - 1;
  CHECK_EQ_INT(nnrp_session_handle_expiry(c.s, g_now), 0);
  CHECK_EQ_INT(nnrp_session_get_state(c.s), NNRP_STATE_NEGOTIATING);
  g_now = T0 + HS_TIMEOUT;
  CHECK_EQ_INT(nnrp_session_handle_expiry(c.s, g_now), 0);
  collect(&c);
  pull(&c);
  CHECK_EQ_INT(packet_count(&c), 1); /* the hello only */
  check_closed(&c, NNRP_ERR_TIMEOUT);
  del(&c);
}

TEST(connect_misuse) {
  nnrp_server_profile sp;
  nnrp_server_profile_default(&sp);
  side s, c;
  new_server(&s, &sp, NNRP_TRANSPORT_TCP);
  CHECK_EQ_INT(nnrp_session_connect(s.s, T0), NNRP_ERR_INVALID_STATE);
  CHECK_EQ_U64(nnrp_session_output_bytes(s.s), 0);
  del(&s);
  waiting_client(&c, 0, NULL);
  CHECK_EQ_INT(nnrp_session_connect(c.s, T0), NNRP_ERR_INVALID_STATE);
  CHECK_EQ_INT(packet_count(&c), 1);
  del(&c);
  /* A forced binding contradicted by the preferred id (§11.1). */
  nnrp_client_profile cp;
  nnrp_client_profile_default(&cp);
  cp.transport_policy = NNRP_TRANSPORT_POLICY_FORCE_QUIC;
  cp.preferred_transport_id = NNRP_TRANSPORT_TCP;
  new_client(&c, &cp, 0);
  CHECK_EQ_INT(nnrp_session_connect(c.s, T0), NNRP_ERR_INVALID_ARGUMENT);
  CHECK_EQ_INT(nnrp_session_get_state(c.s), NNRP_STATE_INIT);
  CHECK_EQ_U64(nnrp_session_output_bytes(c.s), 0);
  del(&c);
  cp.transport_policy = NNRP_TRANSPORT_POLICY_PREFER_QUIC;
  cp.preferred_transport_id = 3;
  new_client(&c, &cp, 0);
  CHECK_EQ_INT(nnrp_session_connect(c.s, T0), NNRP_ERR_INVALID_ARGUMENT);
  del(&c);
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
  side c, s;
  run_pair(&c, &cp, 0, &s, &sp, NNRP_TRANSPORT_TCP);
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
  del(&c);
  del(&s);
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
  side c, s;
  memset(&c, 0, sizeof(c));
  memset(&s, 0, sizeof(s));
  settings_for(&st, 0, NNRP_TRANSPORT_TCP, 7);
  int rc = nnrp_session_client_new(&c.s, &cp, &st, server_fails ? NULL : &mem);
  if (rc == 0)
    rc = nnrp_session_server_new(&s.s, &sp, &st, server_fails ? &mem : NULL);
  if (rc != 0) {
    CHECK_EQ_INT(rc, NNRP_ERR_NOMEM);
    del(&c);
    return 1;
  }
  g_now = T0;
  rc = nnrp_session_connect(c.s, g_now);
  if (rc == 0)
    pump(&c, &s);
  else
    CHECK_EQ_INT(rc, NNRP_ERR_NOMEM);
  side *f = server_fails ? &s : &c;
  side *o = server_fails ? &c : &s;
  if (nnrp_session_get_state(f->s) == NNRP_STATE_ACTIVE) {
    CHECK_EQ_INT(nnrp_session_get_state(o->s), NNRP_STATE_ACTIVE);
    CHECK(f->nev >= 1 && f->ev[0].type == NNRP_EV_HANDSHAKE);
  } else if (rc == 0) {
    CHECK_EQ_INT(nnrp_session_get_state(f->s), NNRP_STATE_CLOSED);
    CHECK_EQ_INT(nnrp_session_want_close(f->s), 1);
    CHECK(nnrp_session_get_state(o->s) != NNRP_STATE_ACTIVE);
  }
  del(&c);
  del(&s);
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
