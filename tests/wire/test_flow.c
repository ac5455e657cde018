/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_flow.c - FLOW_UPDATE (wire.md §4.7) and RESULT_HINT (§4.8): the
 * golden vectors through the packet decoder and through the codec functions
 * alone, and one negative test per rule (enums, D9, reserved fields in
 * strict and lenient mode, flow_flags in both modes, retry_after gating,
 * every row of the routing table, body_len).
 */
#include "guard.h"
#include "harness.h"
#include "vectors.h"

#include "wire/wire_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- shared helpers (same block in each control-message test) ------------ */

static cJSON *g_vectors;

/* Codec functions of one message, straight from wire_int.h. */
typedef struct codec {
  uint8_t type;
  const char *name; /* message_type as written in seed-line.json */
  uint32_t meta_len;
  nnrp_meta_dec_fn dec;
  nnrp_meta_enc_fn enc;
  nnrp_body_dec_fn body;
} codec;

/* Defined by each test file for its own messages. */
static const codec *codec_of(uint8_t type);
typedef struct field_val field_val;
static size_t meta_fields(uint8_t type, const nnrp_meta *m, field_val *t);

/* The vector called name in seed-line.json; aborts when it is missing. */
static const cJSON *vec(const char *name) {
  const cJSON *v;
  cJSON_ArrayForEach(v,
                     cJSON_GetObjectItemCaseSensitive(g_vectors, "vectors")) {
    const cJSON *n = cJSON_GetObjectItemCaseSensitive(v, "name");
    if (cJSON_IsString(n) && strcmp(n->valuestring, name) == 0)
      return v;
  }
  harness_die(__FILE__, __LINE__, name);
}

static const cJSON *jget(const cJSON *o, const char *key) {
  return cJSON_GetObjectItemCaseSensitive(o, key);
}

static size_t vec_bytes(const cJSON *v, uint8_t **out) {
  return nnrp_test_hex_decode(jget(v, "hex")->valuestring, out);
}

struct field_val {
  const char *name;
  uint64_t v;
};
#define FV(s, f)                                                               \
  { #f, (uint64_t)(s)->f }

/* A JSON field value: a number, or a string "0x17 FLOW_UPDATE" / "0x0".
 * Numbers above 2^53 lost precision in cJSON's double: compare as doubles
 * (the byte-exact re-encode still pins the exact value). */
static int json_eq(const cJSON *j, uint64_t v) {
  if (cJSON_IsNumber(j)) {
    if (j->valuedouble < 9007199254740992.0)
      return j->valuedouble >= 0 && (uint64_t)j->valuedouble == v;
    return (double)v == j->valuedouble;
  }
  if (cJSON_IsString(j)) {
    char *end = NULL;
    unsigned long long x = strtoull(j->valuestring, &end, 0);
    return end != j->valuestring && (uint64_t)x == v;
  }
  return 0;
}

/* Every member of the JSON object must be in the table (or in skip, a
 * NULL-terminated list of names checked elsewhere) with the same value. */
static void check_fields(const cJSON *fields, const field_val *t, size_t n,
                         const char *const *skip) {
  const cJSON *j;
  char msg[160];
  CHECK(cJSON_IsObject(fields));
  cJSON_ArrayForEach(j, fields) {
    int skipped = 0;
    for (size_t k = 0; skip && skip[k]; k++)
      skipped |= strcmp(skip[k], j->string) == 0;
    if (skipped)
      continue;
    size_t i = 0;
    while (i < n && strcmp(t[i].name, j->string) != 0)
      i++;
    if (i == n) {
      snprintf(msg, sizeof msg, "vector field %s not decoded", j->string);
      harness_fail(__FILE__, __LINE__, msg);
    } else if (!json_eq(j, t[i].v)) {
      snprintf(msg, sizeof msg, "field %s: decoded %llu", j->string,
               (unsigned long long)t[i].v);
      harness_fail(__FILE__, __LINE__, msg);
    }
  }
}

/* Writes a 40-byte header (test-local, independent of header.c). */
static void put_hdr(uint8_t *out, const nnrp_header *h) {
  memcpy(out, "NNRP", 4);
  uint8_t *p = out + 4;
  p = nnrp_put_u8(p, h->version_major);
  p = nnrp_put_u8(p, h->wire_format);
  p = nnrp_put_u8(p, h->msg_type);
  p = nnrp_put_u8(p, h->header_len);
  p = nnrp_put_u32le(p, h->flags);
  p = nnrp_put_u32le(p, h->meta_len);
  p = nnrp_put_u32le(p, h->body_len);
  p = nnrp_put_u32le(p, h->session_id);
  p = nnrp_put_u32le(p, h->frame_id);
  p = nnrp_put_u16le(p, h->view_id);
  p = nnrp_put_u16le(p, h->route_id);
  (void)nnrp_put_u64le(p, h->trace_id);
}

/* Builds a whole packet into a malloc'd buffer (freed by the caller). */
static uint8_t *build_packet(uint8_t type, uint32_t session_id,
                             const uint8_t *meta, const uint8_t *body,
                             uint32_t body_len, size_t *len) {
  const codec *c = codec_of(type);
  nnrp_header h;
  memset(&h, 0, sizeof h);
  h.version_major = 1;
  h.msg_type = type;
  h.header_len = 40;
  h.meta_len = c->meta_len;
  h.body_len = body_len;
  h.session_id = session_id;
  *len = 40u + c->meta_len + body_len;
  uint8_t *pkt = malloc(*len);
  if (pkt == NULL)
    harness_die(__FILE__, __LINE__, "out of memory");
  put_hdr(pkt, &h);
  memcpy(pkt + 40, meta, c->meta_len);
  if (body_len)
    memcpy(pkt + 40 + c->meta_len, body, body_len);
  return pkt;
}

/* Whole-packet decode through the library's packet decoder. */
static int pkt_decode(nnrp_packet *p, const uint8_t *buf, size_t len,
                      uint32_t flags, nnrp_fault *f) {
  nnrp_wire_opts o;
  nnrp_wire_opts_default(&o);
  o.flags = flags;
  memset(p, 0, sizeof *p);
  memset(f, 0, sizeof *f);
  return nnrp_packet_decode(p, buf, len, &o, f);
}

/* The same packet through this file's codec functions only: header read by
 * hand, then meta_dec on exactly meta_len bytes and body_dec, in the order
 * the packet decoder calls them. */
static int direct_decode(nnrp_packet *p, const uint8_t *buf, size_t len,
                         uint32_t flags, nnrp_fault *f) {
  nnrp_wire_opts o;
  nnrp_wire_opts_default(&o);
  o.flags = flags;
  memset(p, 0, sizeof *p);
  memset(f, 0, sizeof *f);
  if (len < 40)
    return NNRP_ERR_TRUNCATED;
  p->hdr.version_major = buf[4];
  p->hdr.wire_format = buf[5];
  p->hdr.msg_type = buf[6];
  p->hdr.header_len = buf[7];
  p->hdr.flags = nnrp_rd32(buf + 8);
  p->hdr.meta_len = nnrp_rd32(buf + 12);
  p->hdr.body_len = nnrp_rd32(buf + 16);
  p->hdr.session_id = nnrp_rd32(buf + 20);
  p->hdr.frame_id = nnrp_rd32(buf + 24);
  p->hdr.view_id = nnrp_rd16(buf + 28);
  p->hdr.route_id = nnrp_rd16(buf + 30);
  p->hdr.trace_id = nnrp_rd64(buf + 32);
  const codec *c = codec_of(p->hdr.msg_type);
  if (c == NULL || p->hdr.meta_len != c->meta_len ||
      (uint64_t)len != 40u + (uint64_t)p->hdr.meta_len + p->hdr.body_len)
    return NNRP_ERR_INVALID_ARGUMENT; /* not a case these tests build */
  p->meta_raw.ptr = buf + 40;
  p->meta_raw.len = c->meta_len;
  p->body_raw.ptr = buf + 40 + c->meta_len;
  p->body_raw.len = p->hdr.body_len;
  int rc = c->dec(&p->m, p->meta_raw.ptr, flags, f);
  return rc != 0 ? rc : c->body(p, &o, f);
}

/* meta_dec on exactly meta_len bytes placed against a guard page. */
static int meta_dec(uint8_t type, const uint8_t *bytes, uint32_t flags,
                    nnrp_meta *m, nnrp_fault *f) {
  const codec *c = codec_of(type);
  void *h = NULL;
  uint8_t *g = nnrp_test_guard_copy(bytes, c->meta_len, &h);
  memset(m, 0, sizeof *m);
  memset(f, 0, sizeof *f);
  int rc = c->dec(m, g, flags, f);
  nnrp_test_guard_free(h);
  return rc;
}

/* Like meta_dec() on a copy of base with a w-byte LE value at off. */
static int meta_dec_patched(uint8_t type, const uint8_t *base, size_t off,
                            unsigned w, uint64_t val, uint32_t flags,
                            nnrp_meta *m, nnrp_fault *f) {
  uint8_t buf[128];
  memcpy(buf, base, codec_of(type)->meta_len);
  for (unsigned i = 0; i < w; i++)
    buf[off + i] = (uint8_t)(val >> (8 * i));
  return meta_dec(type, buf, flags, m, f);
}

/* meta_enc writes exactly meta_len bytes equal to expect. */
static void check_meta_enc(uint8_t type, const nnrp_meta *m,
                           const uint8_t *expect) {
  const codec *c = codec_of(type);
  uint8_t out[128 + 8];
  memset(out, 0xA5, sizeof out);
  c->enc(m, out);
  CHECK_EQ_MEM(out, expect, c->meta_len);
  for (size_t i = c->meta_len; i < c->meta_len + 8u; i++)
    CHECK_EQ_U64(out[i], 0xA5);
}

/* The fault of a codec function: code, field, structure offset, rule. */
#define EXPECT_FAULT(rc, f, e, fld, off, sec)                                  \
  do {                                                                         \
    CHECK_EQ_INT((rc), (e));                                                   \
    CHECK_EQ_INT((f).err, (e));                                                \
    CHECK_EQ_STR((f).field, (fld));                                            \
    CHECK_EQ_U64((f).offset, (off));                                           \
    CHECK((f).rule != NULL && strstr((f).rule, (sec)) != NULL);                \
  } while (0)

/* The fault of the packet decoder (offsets are rebased there). */
#define EXPECT_PKT_FAULT(rc, f, e, fld)                                        \
  do {                                                                         \
    CHECK_EQ_INT((rc), (e));                                                   \
    CHECK_EQ_INT((f).err, (e));                                                \
    CHECK_EQ_STR((f).field, (fld));                                            \
  } while (0)

/* A metadata vector: decode (strict and lenient) -> every field by name ->
 * byte-exact re-encode. skip: vector fields checked by the caller. */
static void check_meta_vector(const char *name, const char *const *skip,
                              nnrp_meta *out) {
  const cJSON *v = vec(name);
  uint8_t *bytes = NULL;
  size_t len = vec_bytes(v, &bytes);
  uint8_t type = 0;
  for (unsigned i = 1; i < 256; i++) /* message_type name -> codec */
    if (codec_of((uint8_t)i) && strcmp(jget(v, "message_type")->valuestring,
                                       codec_of((uint8_t)i)->name) == 0)
      type = (uint8_t)i;
  if (!CHECK(type != 0) || !CHECK_EQ_U64(len, codec_of(type)->meta_len)) {
    free(bytes);
    return;
  }
  for (uint32_t mode = 0; mode <= NNRP_WIRE_LENIENT; mode++) {
    nnrp_meta m;
    memset(&m, 0, sizeof(m));
    nnrp_fault f;
    CHECK_EQ_INT(meta_dec(type, bytes, mode, &m, &f), 0);
    field_val t[16];
    check_fields(jget(v, "fields"), t, meta_fields(type, &m, t), skip);
    check_meta_enc(type, &m, bytes);
    if (out)
      *out = m;
  }
  free(bytes);
}

/* body_dec alone on a hand-filled packet: header session_id and body_len,
 * metadata decoded from meta (must be valid), body = body_len bytes of
 * body (or of zeros when body is NULL). The packet is returned in *p. */
static int body_dec_direct(nnrp_packet *p, uint8_t type, const uint8_t *meta,
                           uint32_t session_id, const uint8_t *body,
                           uint32_t body_len, nnrp_fault *f) {
  static const uint8_t zeros[64];
  const codec *c = codec_of(type);
  nnrp_wire_opts o;
  nnrp_wire_opts_default(&o);
  memset(p, 0, sizeof *p);
  p->hdr.version_major = 1;
  p->hdr.msg_type = type;
  p->hdr.header_len = 40;
  p->hdr.meta_len = c->meta_len;
  p->hdr.body_len = body_len;
  p->hdr.session_id = session_id;
  p->meta_raw.ptr = meta;
  p->meta_raw.len = c->meta_len;
  p->body_raw.ptr = body ? body : zeros;
  p->body_raw.len = body_len;
  if (!CHECK_EQ_INT(meta_dec(type, meta, 0, &p->m, f), 0))
    return NNRP_ERR_INTERNAL;
  memset(f, 0, sizeof *f);
  return c->body(p, &o, f);
}
static nnrp_bytes body_view(const nnrp_packet *p);

static void check_header_fields(const cJSON *fields, const nnrp_header *h,
                                const uint8_t *pkt) {
  const field_val t[] = {
      FV(h, version_major), FV(h, wire_format), FV(h, msg_type),
      FV(h, header_len),    FV(h, flags),       FV(h, meta_len),
      FV(h, body_len),      FV(h, session_id),  FV(h, frame_id),
      FV(h, view_id),       FV(h, route_id),    FV(h, trace_id)};
  static const char *const skip[] = {"magic", NULL};
  check_fields(fields, t, sizeof t / sizeof t[0], skip);
  CHECK_EQ_MEM(pkt, jget(fields, "magic")->valuestring, 4);
}

/* A packet vector through both decoders: header and metadata fields by
 * name, the body view, then header + metadata + body view re-encoded
 * byte-exact. */
static void check_packet_vector(const char *name) {
  const cJSON *v = vec(name);
  const cJSON *fields = jget(v, "fields");
  uint8_t *buf = NULL;
  size_t len = vec_bytes(v, &buf);
  for (int path = 0; path < 2; path++) {
    nnrp_packet p;
    nnrp_fault f;
    int rc = path == 0 ? pkt_decode(&p, buf, len, 0, &f)
                       : direct_decode(&p, buf, len, 0, &f);
    if (!CHECK_EQ_INT(rc, 0))
      continue;
    check_header_fields(jget(fields, "header"), &p.hdr, buf);
    field_val t[16];
    check_fields(jget(fields, "metadata"), t,
                 meta_fields(p.hdr.msg_type, &p.m, t), NULL);
    const codec *c = codec_of(p.hdr.msg_type);
    CHECK(p.meta_raw.ptr == buf + 40);
    CHECK_EQ_U64(p.meta_raw.len, c->meta_len);
    nnrp_bytes body = body_view(&p);
    CHECK_EQ_U64(body.len, p.hdr.body_len);
    if (body.len)
      CHECK(body.ptr == buf + 40 + c->meta_len); /* zero copy */
    uint8_t *out = malloc(len);
    if (out == NULL)
      harness_die(__FILE__, __LINE__, "out of memory");
    if (path == 0)
      nnrp_header_encode(&p.hdr, out);
    else
      put_hdr(out, &p.hdr);
    c->enc(&p.m, out + 40);
    if (body.len)
      memcpy(out + 40 + c->meta_len, body.ptr, body.len);
    CHECK_EQ_MEM(out, buf, len);
    free(out);
  }
  free(buf);
}

/* ---- this file's messages ------------------------------------------------ */

static const codec codecs[] = {
    {NNRP_MSG_FLOW_UPDATE, "FLOW_UPDATE", 32, nnrp__flow_update_meta_dec,
     nnrp__flow_update_meta_enc, nnrp__flow_update_body_dec},
    {NNRP_MSG_RESULT_HINT, "RESULT_HINT", 16, nnrp__result_hint_meta_dec,
     nnrp__result_hint_meta_enc, nnrp__result_hint_body_dec},
};

static const codec *codec_of(uint8_t type) {
  for (size_t i = 0; i < sizeof codecs / sizeof codecs[0]; i++)
    if (codecs[i].type == type)
      return &codecs[i];
  return NULL;
}

static size_t meta_fields(uint8_t type, const nnrp_meta *m, field_val *t) {
  if (type == NNRP_MSG_FLOW_UPDATE) {
    const nnrp_flow_update *u = &m->flow_update;
    const field_val x[] = {FV(u, scope_kind),         FV(u, update_reason),
                           FV(u, backpressure_level), FV(u, reserved0),
                           FV(u, connection_credit),  FV(u, session_credit),
                           FV(u, operation_credit),   FV(u, reserved1),
                           FV(u, operation_id),       FV(u, retry_after_ms),
                           FV(u, credit_epoch),       FV(u, flow_flags)};
    memcpy(t, x, sizeof x);
    return sizeof x / sizeof x[0];
  }
  const nnrp_result_hint *h = &m->result_hint;
  const field_val x[] = {FV(h, applied_budget_policy), FV(h, congestion_state),
                         FV(h, reason), FV(h, retry_after_ms)};
  memcpy(t, x, sizeof x);
  return sizeof x / sizeof x[0];
}

/* Both messages have an empty body: the raw view is what there is. */
static nnrp_bytes body_view(const nnrp_packet *p) { return p->body_raw; }

/* ---- helpers for FLOW_UPDATE --------------------------------------------- */

#define LENIENT NNRP_WIRE_LENIENT
#define BODY NNRP_ERR_MALFORMED_BODY

/* Metadata (32 B) and header session_id of a golden FLOW_UPDATE packet. */
static void golden_flow(const char *name, uint8_t meta[32],
                        uint32_t *session_id) {
  uint8_t *pkt = NULL;
  size_t len = vec_bytes(vec(name), &pkt);
  if (len != 72)
    harness_die(__FILE__, __LINE__, "FLOW_UPDATE vector is not 72 bytes");
  memcpy(meta, pkt + 40, 32);
  *session_id = nnrp_rd32(pkt + 20);
  free(pkt);
}

static uint8_t g_conn[32], g_sess[32], g_op[32];
static uint32_t g_conn_sid, g_sess_sid, g_op_sid;

static void load_flow_bases(void) {
  golden_flow("packet.flow_update.connection_grant", g_conn, &g_conn_sid);
  golden_flow("packet.flow_update.session_congestion_hard", g_sess,
              &g_sess_sid);
  golden_flow("packet.flow_update.operation_pause", g_op, &g_op_sid);
}

/* A patched FLOW_UPDATE metadata must fail with field/off in both modes,
 * through meta_dec and through the packet decoder. */
static void expect_flow_reject(const uint8_t *base, uint32_t session_id,
                               size_t off, unsigned w, uint64_t val,
                               const char *field, size_t fault_off,
                               const char *rule) {
  nnrp_meta m;
  memset(&m, 0, sizeof(m));
  nnrp_fault f;
  for (uint32_t mode = 0; mode <= LENIENT; mode++) {
    int rc =
        meta_dec_patched(NNRP_MSG_FLOW_UPDATE, base, off, w, val, mode, &m, &f);
    EXPECT_FAULT(rc, f, BODY, field, fault_off, rule);
  }
  uint8_t meta[32];
  memcpy(meta, base, 32);
  for (unsigned i = 0; i < w; i++)
    meta[off + i] = (uint8_t)(val >> (8 * i));
  size_t len;
  uint8_t *pkt =
      build_packet(NNRP_MSG_FLOW_UPDATE, session_id, meta, NULL, 0, &len);
  nnrp_packet p;
  int rc = pkt_decode(&p, pkt, len, 0, &f);
  EXPECT_PKT_FAULT(rc, f, BODY, field);
  free(pkt);
}

/* A patched FLOW_UPDATE metadata is accepted in both modes. */
static void expect_flow_accept(const uint8_t *base, size_t off, unsigned w,
                               uint64_t val) {
  nnrp_meta m;
  memset(&m, 0, sizeof(m));
  nnrp_fault f;
  for (uint32_t mode = 0; mode <= LENIENT; mode++)
    CHECK_EQ_INT(
        meta_dec_patched(NNRP_MSG_FLOW_UPDATE, base, off, w, val, mode, &m, &f),
        0);
}

/* ---- golden vectors ------------------------------------------------------ */

TEST(flow_update_golden_packets) {
  check_packet_vector("packet.flow_update.session_congestion_hard");
  check_packet_vector("packet.flow_update.session_hard");
  check_packet_vector("packet.flow_update.connection_grant");
  check_packet_vector("packet.flow_update.operation_pause");
}

TEST(result_hint_golden) {
  check_packet_vector("packet.result_hint");
  nnrp_meta m;
  memset(&m, 0, sizeof(m));
  check_meta_vector("metadata.result_hint.partial_elevated_server_busy", NULL,
                    &m);
  CHECK_EQ_U64(m.result_hint.reason, NNRP_HINT_REASON_SERVER_BUSY);
}

/* The operation_pause vector: unaligned u64 operation_id at offset 12. */
TEST(flow_update_operation_id_unaligned) {
  nnrp_meta m;
  memset(&m, 0, sizeof(m));
  nnrp_fault f;
  uint8_t meta[32];
  memcpy(meta, g_op, 32);
  for (unsigned i = 0; i < 8; i++)
    meta[12 + i] = (uint8_t)(0x11 * (i + 1)); /* 0x8877665544332211 */
  CHECK_EQ_INT(meta_dec(NNRP_MSG_FLOW_UPDATE, meta, 0, &m, &f), 0);
  CHECK_EQ_U64(m.flow_update.operation_id, 0x8877665544332211u);
  CHECK_EQ_U64(m.flow_update.retry_after_ms, 250);
  check_meta_enc(NNRP_MSG_FLOW_UPDATE, &m, meta);
}

/* ---- field rules --------------------------------------------------------- */

TEST(flow_update_enums) {
  expect_flow_reject(g_sess, g_sess_sid, 0, 1, 3, "scope_kind", 0, "§4.7");
  expect_flow_reject(g_sess, g_sess_sid, 0, 1, 0xFF, "scope_kind", 0, "§4.7");
  expect_flow_reject(g_sess, g_sess_sid, 1, 1, 5, "update_reason", 1, "§4.7");
  expect_flow_reject(g_sess, g_sess_sid, 1, 1, 0xFF, "update_reason", 1,
                     "§4.7");
  for (uint64_t r = 0; r <= NNRP_FLOW_REASON_CONGESTION; r++)
    expect_flow_accept(g_sess, 1, 1, r);
}

/* D9: backpressure_level 0..2; 3 is rejected in both modes. */
TEST(flow_update_backpressure_d9) {
  expect_flow_reject(g_sess, g_sess_sid, 2, 1, 3, "backpressure_level", 2,
                     "D9");
  expect_flow_reject(g_sess, g_sess_sid, 2, 1, 0x80, "backpressure_level", 2,
                     "D9");
  for (uint64_t l = 0; l <= NNRP_BACKPRESSURE_HARD; l++)
    expect_flow_accept(g_sess, 2, 1, l);
}

/* reserved0 (u8 @3) and reserved1 (u16 @10): strict rejects; lenient
 * ignores and keeps the value as read. */
TEST(flow_update_reserved_fields) {
  static const struct {
    size_t off;
    unsigned w;
    uint64_t val;
    const char *field;
  } rows[] = {{3, 1, 0x01, "reserved0"},
              {3, 1, 0x80, "reserved0"},
              {10, 2, 0x0001, "reserved1"},
              {10, 2, 0x8000, "reserved1"}};
  for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
    nnrp_meta m;
    memset(&m, 0, sizeof(m));
    nnrp_fault f;
    int rc = meta_dec_patched(NNRP_MSG_FLOW_UPDATE, g_sess, rows[i].off,
                              rows[i].w, rows[i].val, 0, &m, &f);
    EXPECT_FAULT(rc, f, BODY, rows[i].field, rows[i].off, "§4.7");
    rc = meta_dec_patched(NNRP_MSG_FLOW_UPDATE, g_sess, rows[i].off, rows[i].w,
                          rows[i].val, LENIENT, &m, &f);
    CHECK_EQ_INT(rc, 0);
    CHECK_EQ_U64(rows[i].off == 3 ? m.flow_update.reserved0
                                  : m.flow_update.reserved1,
                 rows[i].val);
    /* the packet decoder: strict rejects, lenient accepts */
    uint8_t meta[32];
    memcpy(meta, g_sess, 32);
    for (unsigned k = 0; k < rows[i].w; k++)
      meta[rows[i].off + k] = (uint8_t)(rows[i].val >> (8 * k));
    size_t len;
    uint8_t *pkt =
        build_packet(NNRP_MSG_FLOW_UPDATE, g_sess_sid, meta, NULL, 0, &len);
    nnrp_packet p;
    rc = pkt_decode(&p, pkt, len, 0, &f);
    EXPECT_PKT_FAULT(rc, f, BODY, rows[i].field);
    CHECK_EQ_INT(pkt_decode(&p, pkt, len, LENIENT, &f), 0);
    free(pkt);
  }
}

/* flow_flags bits 4-31 are rejected in BOTH modes (§13; preview3 case
 * l0.flow_update.reserved_flags.reject); bits 0-3 in any combination are
 * accepted. */
TEST(flow_update_flow_flags_both_modes) {
  for (unsigned bit = 4; bit < 32; bit++)
    expect_flow_reject(g_conn, g_conn_sid, 28, 4, (uint64_t)1 << bit,
                       "flow_flags", 28, "§4.7");
  expect_flow_reject(g_conn, g_conn_sid, 28, 4, 0xFFFFFFFFu, "flow_flags", 28,
                     "§4.7");
  for (uint64_t v = 0; v <= NNRP_FLOW_KNOWN_MASK; v++)
    expect_flow_accept(g_conn, 28, 4, v); /* retry_after_ms is 0 here */
}

/* retry_after_ms != 0 requires RETRY_AFTER_VALID (both modes); conformance
 * l1.flow_update.metadata.validation. */
TEST(flow_update_retry_after_gating) {
  /* session vector: retry_after_ms 40, flags CREDIT_VALID|RETRY_AFTER_VALID */
  expect_flow_reject(g_sess, g_sess_sid, 28, 4, NNRP_FLOW_CREDIT_VALID,
                     "retry_after_ms", 20, "§4.7");
  expect_flow_reject(g_sess, g_sess_sid, 28, 4, 0, "retry_after_ms", 20,
                     "§4.7");
  expect_flow_accept(g_sess, 28, 4, NNRP_FLOW_RETRY_AFTER_VALID);
  /* connection vector: retry_after_ms 0 with or without the flag */
  expect_flow_accept(g_conn, 28, 4, 0);
  expect_flow_accept(g_conn, 28, 4, NNRP_FLOW_RETRY_AFTER_VALID);
  expect_flow_reject(g_conn, g_conn_sid, 20, 4, 1, "retry_after_ms", 20,
                     "§4.7");
}

/* ---- routing and consistency table (§4.7) ------------------------------- */

/* The "must be zero" column, row by row (preview3 cases
 * l1.flow_update.{connection,session,operation}.scope.validation). */
TEST(flow_update_routing_zero_fields) {
  /* CONNECTION: session_credit, operation_credit, operation_id */
  expect_flow_reject(g_conn, g_conn_sid, 6, 2, 1, "session_credit", 6,
                     "routing");
  expect_flow_reject(g_conn, g_conn_sid, 8, 2, 1, "operation_credit", 8,
                     "routing");
  expect_flow_reject(g_conn, g_conn_sid, 12, 8, 1, "operation_id", 12,
                     "routing");
  expect_flow_reject(g_conn, g_conn_sid, 12, 8, (uint64_t)1 << 63,
                     "operation_id", 12, "routing");
  expect_flow_accept(g_conn, 4, 2, 0xFFFF); /* its own credit is free */
  /* SESSION: connection_credit, operation_credit, operation_id */
  expect_flow_reject(g_sess, g_sess_sid, 4, 2, 1, "connection_credit", 4,
                     "routing");
  expect_flow_reject(g_sess, g_sess_sid, 8, 2, 1, "operation_credit", 8,
                     "routing");
  expect_flow_reject(g_sess, g_sess_sid, 12, 8, 0x1234, "operation_id", 12,
                     "routing");
  expect_flow_accept(g_sess, 6, 2, 0xFFFF);
  expect_flow_accept(g_sess, 6, 2, 0); /* credit 0 = normal backpressure */
  /* OPERATION: connection_credit, session_credit; operation_id != 0 */
  expect_flow_reject(g_op, g_op_sid, 4, 2, 1, "connection_credit", 4,
                     "routing");
  expect_flow_reject(g_op, g_op_sid, 6, 2, 1, "session_credit", 6, "routing");
  expect_flow_reject(g_op, g_op_sid, 12, 8, 0, "operation_id", 12, "routing");
  expect_flow_accept(g_op, 8, 2, 0);
  expect_flow_accept(g_op, 12, 8, UINT64_MAX);
}

/* The header.session_id column: 0 for CONNECTION, != 0 for SESSION and
 * OPERATION. Checked by body_dec (needs the header). */
TEST(flow_update_routing_session_id) {
  static const struct {
    const uint8_t *meta;
    uint32_t sid;
  } bad[] = {{g_conn, 42}, {g_conn, 1}, {g_sess, 0}, {g_op, 0}};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    nnrp_packet p;
    nnrp_fault f;
    int rc = body_dec_direct(&p, NNRP_MSG_FLOW_UPDATE, bad[i].meta, bad[i].sid,
                             NULL, 0, &f);
    EXPECT_FAULT(rc, f, BODY, "session_id", 0, "routing");
    size_t len;
    uint8_t *pkt = build_packet(NNRP_MSG_FLOW_UPDATE, bad[i].sid, bad[i].meta,
                                NULL, 0, &len);
    for (uint32_t mode = 0; mode <= LENIENT; mode++) {
      rc = pkt_decode(&p, pkt, len, mode, &f);
      EXPECT_PKT_FAULT(rc, f, BODY, "session_id");
    }
    free(pkt);
  }
  static const struct {
    const uint8_t *meta;
    uint32_t sid;
  } good[] = {{g_conn, 0}, {g_sess, 7}, {g_op, 0xFFFFFFFFu}};
  for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
    nnrp_packet p;
    nnrp_fault f;
    CHECK_EQ_INT(body_dec_direct(&p, NNRP_MSG_FLOW_UPDATE, good[i].meta,
                                 good[i].sid, NULL, 0, &f),
                 0);
  }
}

/* ---- body_len 0 ---------------------------------------------------------- */

TEST(flow_update_body_must_be_empty) {
  static const uint8_t one[1] = {0};
  nnrp_packet p;
  nnrp_fault f;
  int rc =
      body_dec_direct(&p, NNRP_MSG_FLOW_UPDATE, g_sess, g_sess_sid, one, 1, &f);
  EXPECT_FAULT(rc, f, BODY, "body_len", 0, "§4.7");
  size_t len;
  uint8_t *pkt =
      build_packet(NNRP_MSG_FLOW_UPDATE, g_sess_sid, g_sess, one, 1, &len);
  rc = pkt_decode(&p, pkt, len, LENIENT, &f);
  EXPECT_PKT_FAULT(rc, f, BODY, "body_len");
  free(pkt);
}

/* credit_epoch is free on the wire: its monotonicity (preview3 case
 * l1.flow_update.credit_epoch.monotonicity.validation) is session state
 * (session.md §8.2) and is NOT tested here. */
TEST(flow_update_credit_epoch_free) {
  expect_flow_accept(g_sess, 24, 4, 0);
  expect_flow_accept(g_sess, 24, 4, 0xFFFFFFFFu);
}

/* ---- RESULT_HINT --------------------------------------------------------- */

static uint8_t g_hint[16];

TEST(result_hint_enums) {
  static const struct {
    size_t off;
    uint32_t val;
    const char *field;
  } bad[] = {{0, 5, "applied_budget_policy"},
             {0, 0xFFFFFFFFu, "applied_budget_policy"},
             {4, 4, "congestion_state"},
             {4, 0x100, "congestion_state"},
             {8, 99, "reason"}, /* conformance: reason 99 must fail */
             {8, 5, "reason"}};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    /* enums: rejected in both modes. applied_budget_policy is an enum here,
     * not the strict-only BudgetPolicy bitmask of RESULT_PUSH. */
    for (uint32_t mode = 0; mode <= LENIENT; mode++) {
      nnrp_meta m;
      memset(&m, 0, sizeof(m));
      nnrp_fault f;
      int rc = meta_dec_patched(NNRP_MSG_RESULT_HINT, g_hint, bad[i].off, 4,
                                bad[i].val, mode, &m, &f);
      EXPECT_FAULT(rc, f, BODY, bad[i].field, bad[i].off, "§4.8");
    }
    uint8_t meta[16];
    memcpy(meta, g_hint, 16);
    for (unsigned k = 0; k < 4; k++)
      meta[bad[i].off + k] = (uint8_t)(bad[i].val >> (8 * k));
    size_t len;
    uint8_t *pkt = build_packet(NNRP_MSG_RESULT_HINT, 21, meta, NULL, 0, &len);
    nnrp_packet p;
    nnrp_fault f;
    int rc = pkt_decode(&p, pkt, len, 0, &f);
    EXPECT_PKT_FAULT(rc, f, BODY, bad[i].field);
    free(pkt);
  }
  /* every defined combination decodes; retry_after_ms is free */
  for (uint32_t a = 0; a <= NNRP_HINT_BUDGET_DROP; a++)
    for (uint32_t c = 0; c <= NNRP_CONGESTION_SATURATED; c++)
      for (uint32_t r = 0; r <= NNRP_HINT_REASON_SUPERSEDED; r++) {
        uint8_t meta[16];
        nnrp_put_u32le(meta, a);
        nnrp_put_u32le(meta + 4, c);
        nnrp_put_u32le(meta + 8, r);
        nnrp_put_u32le(meta + 12, 0xFFFFFFFFu);
        nnrp_meta m;
        memset(&m, 0, sizeof(m));
        nnrp_fault f;
        CHECK_EQ_INT(meta_dec(NNRP_MSG_RESULT_HINT, meta, 0, &m, &f), 0);
      }
}

TEST(result_hint_body_must_be_empty) {
  static const uint8_t body[3] = {1, 2, 3};
  nnrp_packet p;
  nnrp_fault f;
  int rc = body_dec_direct(&p, NNRP_MSG_RESULT_HINT, g_hint, 21, body, 3, &f);
  EXPECT_FAULT(rc, f, BODY, "body_len", 0, "§4.8");
  size_t len;
  uint8_t *pkt = build_packet(NNRP_MSG_RESULT_HINT, 21, g_hint, body, 3, &len);
  rc = pkt_decode(&p, pkt, len, 0, &f);
  EXPECT_PKT_FAULT(rc, f, BODY, "body_len");
  free(pkt);
}

int main(void) {
  g_vectors = nnrp_test_load_json("seed-line.json");
  load_flow_bases();
  uint8_t *hint = NULL;
  if (vec_bytes(vec("metadata.result_hint.partial_elevated_server_busy"),
                &hint) != 16)
    harness_die(__FILE__, __LINE__, "RESULT_HINT vector is not 16 bytes");
  memcpy(g_hint, hint, 16);
  free(hint);

  RUN(flow_update_golden_packets);
  RUN(result_hint_golden);
  RUN(flow_update_operation_id_unaligned);
  RUN(flow_update_enums);
  RUN(flow_update_backpressure_d9);
  RUN(flow_update_reserved_fields);
  RUN(flow_update_flow_flags_both_modes);
  RUN(flow_update_retry_after_gating);
  RUN(flow_update_routing_zero_fields);
  RUN(flow_update_routing_session_id);
  RUN(flow_update_body_must_be_empty);
  RUN(flow_update_credit_epoch_free);
  RUN(result_hint_enums);
  RUN(result_hint_body_must_be_empty);
  cJSON_Delete(g_vectors);
  TEST_MAIN_END();
}
