/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_probe_migrate.c - TRANSPORT_PROBE / TRANSPORT_PROBE_ACK (wire.md
 * §4.9, §4.10) and SESSION_MIGRATE / SESSION_MIGRATE_ACK (§4.11, §4.12):
 * the four metadata vectors, whole packets with bodies through the packet
 * decoder, and one negative test per rule (probe_payload_bytes = body_len,
 * ACK reserved0 strict/lenient, empty ACK body, transport ids).
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

/* ---- this file's messages ------------------------------------------------ */

static const codec codecs[] = {
    {NNRP_MSG_TRANSPORT_PROBE, "TRANSPORT_PROBE", 16,
     nnrp__transport_probe_meta_dec, nnrp__transport_probe_meta_enc,
     nnrp__transport_probe_body_dec},
    {NNRP_MSG_TRANSPORT_PROBE_ACK, "TRANSPORT_PROBE_ACK", 16,
     nnrp__transport_probe_ack_meta_dec, nnrp__transport_probe_ack_meta_enc,
     nnrp__transport_probe_ack_body_dec},
    {NNRP_MSG_SESSION_MIGRATE, "SESSION_MIGRATE", 24,
     nnrp__session_migrate_meta_dec, nnrp__session_migrate_meta_enc,
     nnrp__session_migrate_body_dec},
    {NNRP_MSG_SESSION_MIGRATE_ACK, "SESSION_MIGRATE_ACK", 24,
     nnrp__session_migrate_ack_meta_dec, nnrp__session_migrate_ack_meta_enc,
     nnrp__session_migrate_ack_body_dec},
};

static const codec *codec_of(uint8_t type) {
  for (size_t i = 0; i < sizeof codecs / sizeof codecs[0]; i++)
    if (codecs[i].type == type)
      return &codecs[i];
  return NULL;
}

static size_t meta_fields(uint8_t type, const nnrp_meta *m, field_val *t) {
  switch (type) {
  case NNRP_MSG_TRANSPORT_PROBE: {
    const nnrp_transport_probe *x = &m->transport_probe;
    const field_val v[] = {FV(x, probe_id), FV(x, probe_payload_bytes),
                           FV(x, client_send_ts_us)};
    memcpy(t, v, sizeof v);
    return sizeof v / sizeof v[0];
  }
  case NNRP_MSG_TRANSPORT_PROBE_ACK: {
    const nnrp_transport_probe_ack *x = &m->transport_probe_ack;
    const field_val v[] = {FV(x, probe_id), FV(x, reserved0),
                           FV(x, server_recv_ts_us)};
    memcpy(t, v, sizeof v);
    return sizeof v / sizeof v[0];
  }
  case NNRP_MSG_SESSION_MIGRATE: {
    const nnrp_session_migrate *x = &m->session_migrate;
    const field_val v[] = {FV(x, old_transport_id), FV(x, new_transport_id),
                           FV(x, last_result_frame_id),
                           FV(x, client_migrate_ts_us)};
    memcpy(t, v, sizeof v);
    return sizeof v / sizeof v[0];
  }
  default: {
    const nnrp_session_migrate_ack *x = &m->session_migrate_ack;
    const field_val v[] = {FV(x, accept_code), FV(x, resume_from_frame_id),
                           FV(x, grace_window_ms), FV(x, server_migrate_ts_us)};
    memcpy(t, v, sizeof v);
    return sizeof v / sizeof v[0];
  }
  }
}

#define LENIENT NNRP_WIRE_LENIENT
#define BODY NNRP_ERR_MALFORMED_BODY

static uint8_t g_probe[16], g_probe_ack[16], g_mig[24], g_mig_ack[24];

static void load_meta(const char *name, uint8_t *out, size_t len) {
  uint8_t *b = NULL;
  if (vec_bytes(vec(name), &b) != len)
    harness_die(__FILE__, __LINE__, name);
  memcpy(out, b, len);
  free(b);
}

/* Decodes a built packet with both decoders; both must succeed. */
static int decode_both(const uint8_t *pkt, size_t len, uint32_t flags,
                       nnrp_packet out[2]) {
  nnrp_fault f;
  int ok = CHECK_EQ_INT(pkt_decode(&out[0], pkt, len, flags, &f), 0);
  ok &= CHECK_EQ_INT(direct_decode(&out[1], pkt, len, flags, &f), 0);
  return ok;
}

/* ---- vectors ------------------------------------------------------------- */

TEST(probe_migrate_vectors) {
  check_meta_vector("metadata.transport_probe", NULL, NULL);
  check_meta_vector("metadata.transport_probe_ack", NULL, NULL);
  check_meta_vector("metadata.session_migrate.quic_to_tcp", NULL, NULL);
  nnrp_meta m;
  memset(&m, 0, sizeof(m));
  check_meta_vector("metadata.session_migrate_ack.accepted", NULL, &m);
  /* resume_from_frame_id is the unaligned u64 at offset 4 */
  uint8_t meta[24];
  memcpy(meta, g_mig_ack, 24);
  for (unsigned i = 0; i < 8; i++)
    meta[4 + i] = (uint8_t)(0xA1 + i);
  nnrp_fault f;
  CHECK_EQ_INT(meta_dec(NNRP_MSG_SESSION_MIGRATE_ACK, meta, 0, &m, &f), 0);
  CHECK_EQ_U64(m.session_migrate_ack.resume_from_frame_id, 0xA8A7A6A5A4A3A2A1u);
  CHECK_EQ_U64(m.session_migrate_ack.accept_code, 0);
  CHECK_EQ_U64(m.session_migrate_ack.grace_window_ms, 250);
  check_meta_enc(NNRP_MSG_SESSION_MIGRATE_ACK, &m, meta);
}

/* ---- TRANSPORT_PROBE ----------------------------------------------------- */

/* probe_payload_bytes = body_len; the filler is a zero-copy view whose
 * content is not checked. */
TEST(probe_payload_bytes_rule) {
  static uint8_t filler[1201];
  memset(filler, 'P', sizeof filler);
  filler[17] = 0x00; /* content is not checked */
  static const uint32_t bad_lens[] = {0, 1199, 1201};
  for (size_t i = 0; i < sizeof bad_lens / sizeof bad_lens[0]; i++) {
    nnrp_packet p;
    nnrp_fault f;
    int rc = body_dec_direct(&p, NNRP_MSG_TRANSPORT_PROBE, g_probe, 0, filler,
                             bad_lens[i], &f); /* probe_payload_bytes 1200 */
    EXPECT_FAULT(rc, f, BODY, "probe_payload_bytes", 0, "§4.9");
    size_t len;
    uint8_t *pkt = build_packet(NNRP_MSG_TRANSPORT_PROBE, 0, g_probe, filler,
                                bad_lens[i], &len);
    for (uint32_t mode = 0; mode <= LENIENT; mode++) {
      rc = pkt_decode(&p, pkt, len, mode, &f);
      EXPECT_PKT_FAULT(rc, f, BODY, "probe_payload_bytes");
    }
    free(pkt);
  }
  size_t len;
  uint8_t *pkt =
      build_packet(NNRP_MSG_TRANSPORT_PROBE, 0, g_probe, filler, 1200, &len);
  nnrp_packet p[2];
  if (decode_both(pkt, len, 0, p))
    for (int i = 0; i < 2; i++) {
      CHECK(p[i].b.filler.ptr == pkt + 56);
      CHECK_EQ_U64(p[i].b.filler.len, 1200);
      CHECK_EQ_U64(p[i].m.transport_probe.probe_id, 7);
    }
  free(pkt);
  /* probe_payload_bytes 0 with an empty body is accepted on receipt */
  uint8_t meta[16];
  memcpy(meta, g_probe, 16);
  nnrp_put_u32le(meta + 4, 0);
  pkt = build_packet(NNRP_MSG_TRANSPORT_PROBE, 5, meta, NULL, 0, &len);
  if (decode_both(pkt, len, 0, p))
    CHECK_EQ_U64(p[0].b.filler.len, 0);
  free(pkt);
}

/* ---- TRANSPORT_PROBE_ACK ------------------------------------------------- */

/* reserved0: strict rejects; lenient ignores and keeps the value. */
TEST(probe_ack_reserved0) {
  static const uint32_t bad[] = {1, 0x80000000u};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    nnrp_meta m;
    memset(&m, 0, sizeof(m));
    nnrp_fault f;
    int rc = meta_dec_patched(NNRP_MSG_TRANSPORT_PROBE_ACK, g_probe_ack, 4, 4,
                              bad[i], 0, &m, &f);
    EXPECT_FAULT(rc, f, BODY, "reserved0", 4, "§4.10");
    CHECK_EQ_INT(meta_dec_patched(NNRP_MSG_TRANSPORT_PROBE_ACK, g_probe_ack, 4,
                                  4, bad[i], LENIENT, &m, &f),
                 0);
    CHECK_EQ_U64(m.transport_probe_ack.reserved0, bad[i]);
    uint8_t meta[16];
    memcpy(meta, g_probe_ack, 16);
    nnrp_put_u32le(meta + 4, bad[i]);
    size_t len;
    uint8_t *pkt =
        build_packet(NNRP_MSG_TRANSPORT_PROBE_ACK, 0, meta, NULL, 0, &len);
    nnrp_packet p;
    EXPECT_PKT_FAULT(pkt_decode(&p, pkt, len, 0, &f), f, BODY, "reserved0");
    CHECK_EQ_INT(pkt_decode(&p, pkt, len, LENIENT, &f), 0);
    free(pkt);
  }
}

TEST(probe_ack_body_must_be_empty) {
  static const uint8_t body[2] = {'P', 'P'};
  nnrp_packet p;
  nnrp_fault f;
  int rc = body_dec_direct(&p, NNRP_MSG_TRANSPORT_PROBE_ACK, g_probe_ack, 0,
                           body, 2, &f);
  EXPECT_FAULT(rc, f, BODY, "body_len", 0, "§4.10");
  size_t len;
  uint8_t *pkt =
      build_packet(NNRP_MSG_TRANSPORT_PROBE_ACK, 0, g_probe_ack, body, 2, &len);
  rc = pkt_decode(&p, pkt, len, LENIENT, &f);
  EXPECT_PKT_FAULT(rc, f, BODY, "body_len");
  free(pkt);
}

/* ---- SESSION_MIGRATE ----------------------------------------------------- */

/* old/new transport ids must be known and != 0, in both modes. */
TEST(migrate_transport_ids) {
  static const uint32_t bad[] = {NNRP_TRANSPORT_UNSPECIFIED, 3, 4, 0xFFFFFFFFu};
  static const struct {
    size_t off;
    const char *field;
  } fields[] = {{0, "old_transport_id"}, {4, "new_transport_id"}};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
    for (size_t k = 0; k < 2; k++) {
      uint8_t meta[24];
      memcpy(meta, g_mig, 24);
      nnrp_put_u32le(meta + fields[k].off, bad[i]);
      for (uint32_t mode = 0; mode <= LENIENT; mode++) {
        nnrp_meta m;
        memset(&m, 0, sizeof(m));
        nnrp_fault f;
        EXPECT_FAULT(meta_dec(NNRP_MSG_SESSION_MIGRATE, meta, mode, &m, &f), f,
                     BODY, fields[k].field, fields[k].off, "§4.11");
      }
      size_t len;
      uint8_t *pkt =
          build_packet(NNRP_MSG_SESSION_MIGRATE, 77, meta, NULL, 0, &len);
      nnrp_packet p;
      nnrp_fault f;
      EXPECT_PKT_FAULT(pkt_decode(&p, pkt, len, 0, &f), f, BODY,
                       fields[k].field);
      free(pkt);
    }
  /* every known pair, including new == old (same-binding reconnect) */
  for (uint32_t o = NNRP_TRANSPORT_QUIC; o <= NNRP_TRANSPORT_TCP; o++)
    for (uint32_t n = NNRP_TRANSPORT_QUIC; n <= NNRP_TRANSPORT_TCP; n++) {
      uint8_t meta[24];
      memcpy(meta, g_mig, 24);
      nnrp_put_u32le(meta, o);
      nnrp_put_u32le(meta + 4, n);
      nnrp_meta m;
      memset(&m, 0, sizeof(m));
      nnrp_fault f;
      CHECK_EQ_INT(meta_dec(NNRP_MSG_SESSION_MIGRATE, meta, 0, &m, &f), 0);
    }
}

/* The body is an optional opaque token of any length (zero-copy view). */
TEST(migrate_token_body) {
  static const uint8_t token[5] = {0xDE, 0xAD, 0x00, 0xBE, 0xEF};
  size_t len;
  uint8_t *pkt =
      build_packet(NNRP_MSG_SESSION_MIGRATE, 77, g_mig, token, 5, &len);
  nnrp_packet p[2];
  if (decode_both(pkt, len, 0, p))
    for (int i = 0; i < 2; i++) {
      CHECK(p[i].b.token.ptr == pkt + 64);
      CHECK_EQ_U64(p[i].b.token.len, 5);
      CHECK_EQ_U64(p[i].m.session_migrate.last_result_frame_id, 44);
    }
  free(pkt);
  pkt = build_packet(NNRP_MSG_SESSION_MIGRATE, 77, g_mig, NULL, 0, &len);
  if (decode_both(pkt, len, 0, p))
    CHECK_EQ_U64(p[0].b.token.len, 0);
  free(pkt);
}

/* ---- SESSION_MIGRATE_ACK ------------------------------------------------- */

/* Sent empty, but a received body is accepted and ignored; every field is
 * free here (resume_from_frame_id >= last_result_frame_id needs the request
 * and is the session's check). */
TEST(migrate_ack_body_ignored_fields_free) {
  static const uint8_t body[3] = {'x', 'y', 'z'};
  uint8_t meta[24];
  memcpy(meta, g_mig_ack, 24);
  nnrp_put_u32le(meta, 0xFFFFFFFFu); /* accept_code: any value */
  nnrp_put_u64le(meta + 4, 0);       /* resume_from_frame_id 0 */
  size_t len;
  uint8_t *pkt =
      build_packet(NNRP_MSG_SESSION_MIGRATE_ACK, 77, meta, body, 3, &len);
  nnrp_packet p[2];
  if (decode_both(pkt, len, 0, p))
    for (int i = 0; i < 2; i++) {
      CHECK(p[i].b.ignored.ptr == pkt + 64);
      CHECK_EQ_U64(p[i].b.ignored.len, 3);
      CHECK_EQ_U64(p[i].m.session_migrate_ack.accept_code, 0xFFFFFFFFu);
    }
  free(pkt);
}

int main(void) {
  g_vectors = nnrp_test_load_json("seed-line.json");
  load_meta("metadata.transport_probe", g_probe, 16);
  load_meta("metadata.transport_probe_ack", g_probe_ack, 16);
  load_meta("metadata.session_migrate.quic_to_tcp", g_mig, 24);
  load_meta("metadata.session_migrate_ack.accepted", g_mig_ack, 24);

  RUN(probe_migrate_vectors);
  RUN(probe_payload_bytes_rule);
  RUN(probe_ack_reserved0);
  RUN(probe_ack_body_must_be_empty);
  RUN(migrate_transport_ids);
  RUN(migrate_token_body);
  RUN(migrate_ack_body_ignored_fields_free);
  cJSON_Delete(g_vectors);
  TEST_MAIN_END();
}
