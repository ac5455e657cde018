/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_cache.c - CACHE_PUT, CACHE_ACK, CACHE_INVALIDATE (wire.md §10.1-10.3)
 * and the FNV-1a byte-key mapping (§10.4, D16): the four vectors, the §10.4
 * check values, and one negative test per rule (object_kind, CachePutFlags
 * strict/lenient, object_bytes = body_len, status, invalidate_scope, empty
 * bodies) plus the "unused scope fields are ignored" rule.
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
    {NNRP_MSG_CACHE_PUT, "CACHE_PUT", 32, nnrp__cache_put_meta_dec,
     nnrp__cache_put_meta_enc, nnrp__cache_put_body_dec},
    {NNRP_MSG_CACHE_ACK, "CACHE_ACK", 28, nnrp__cache_ack_meta_dec,
     nnrp__cache_ack_meta_enc, nnrp__cache_ack_body_dec},
    {NNRP_MSG_CACHE_INVALIDATE, "CACHE_INVALIDATE", 20,
     nnrp__cache_invalidate_meta_dec, nnrp__cache_invalidate_meta_enc,
     nnrp__cache_invalidate_body_dec},
};

static const codec *codec_of(uint8_t type) {
  for (size_t i = 0; i < sizeof codecs / sizeof codecs[0]; i++)
    if (codecs[i].type == type)
      return &codecs[i];
  return NULL;
}

static size_t meta_fields(uint8_t type, const nnrp_meta *m, field_val *t) {
  if (type == NNRP_MSG_CACHE_PUT) {
    const nnrp_cache_put *c = &m->cache_put;
    const field_val x[] = {FV(c, cache_namespace), FV(c, cache_key_hi),
                           FV(c, cache_key_lo),    FV(c, object_kind),
                           FV(c, ttl_ms),          FV(c, object_bytes),
                           FV(c, codec_bitmap),    FV(c, flags)};
    memcpy(t, x, sizeof x);
    return sizeof x / sizeof x[0];
  }
  if (type == NNRP_MSG_CACHE_ACK) {
    const nnrp_cache_ack *c = &m->cache_ack;
    const field_val x[] = {FV(c, cache_namespace), FV(c, cache_key_hi),
                           FV(c, cache_key_lo),    FV(c, status),
                           FV(c, accepted_ttl_ms), FV(c, max_object_bytes),
                           FV(c, detail_code)};
    memcpy(t, x, sizeof x);
    return sizeof x / sizeof x[0];
  }
  const nnrp_cache_invalidate *c = &m->cache_invalidate;
  const field_val x[] = {FV(c, invalidate_scope), FV(c, cache_namespace),
                         FV(c, cache_key_hi), FV(c, cache_key_lo),
                         FV(c, reason_code)};
  memcpy(t, x, sizeof x);
  return sizeof x / sizeof x[0];
}

/* The body view body_dec sets: the object of a CACHE_PUT. */
static nnrp_bytes body_view(const nnrp_packet *p) {
  return p->hdr.msg_type == NNRP_MSG_CACHE_PUT ? p->b.object : p->body_raw;
}

#define LENIENT NNRP_WIRE_LENIENT
#define BODY NNRP_ERR_MALFORMED_BODY

static uint8_t g_put[32], g_ack[28], g_inv[20];

static void load_meta(const char *name, uint8_t *out, size_t len) {
  uint8_t *b = NULL;
  if (vec_bytes(vec(name), &b) != len)
    harness_die(__FILE__, __LINE__, name);
  memcpy(out, b, len);
  free(b);
}

/* A patched metadata is rejected in the given modes with field at off,
 * through meta_dec and through the packet decoder. */
static void expect_reject(uint8_t type, const uint8_t *base, size_t off,
                          uint32_t val, uint32_t modes_mask, const char *field,
                          const char *sec) {
  uint8_t meta[32];
  memcpy(meta, base, codec_of(type)->meta_len);
  nnrp_put_u32le(meta + off, val);
  for (uint32_t mode = 0; mode <= LENIENT; mode++) {
    if ((modes_mask & (1u << mode)) == 0)
      continue;
    nnrp_meta m;
    memset(&m, 0, sizeof(m));
    nnrp_fault f;
    EXPECT_FAULT(meta_dec(type, meta, mode, &m, &f), f, BODY, field, off, sec);
    nnrp_packet p;
    size_t len;
    uint32_t blen = type == NNRP_MSG_CACHE_PUT ? nnrp_rd32(meta + 20) : 0;
    static const uint8_t body[4096];
    if (blen > sizeof body)
      harness_die(__FILE__, __LINE__, "test body too large");
    uint8_t *pkt = build_packet(type, 9, meta, body, blen, &len);
    EXPECT_PKT_FAULT(pkt_decode(&p, pkt, len, mode, &f), f, BODY, field);
    free(pkt);
  }
}
#define STRICT_ONLY 0x1u
#define BOTH_MODES 0x3u

/* ---- vectors ------------------------------------------------------------- */

TEST(cache_golden_vectors) {
  check_meta_vector("metadata.cache_put.camera_block", NULL, NULL);
  check_meta_vector("metadata.cache_ack.accepted", NULL, NULL);
  /* scope 0 with non-zero namespace/keys: ignored, not rejected */
  check_meta_vector("metadata.cache_invalidate.whole_session", NULL, NULL);
}

/* §10.4 check values and the tst-v1 vector (D16). */
TEST(cache_fnv1a_key_mapping) {
  CHECK_EQ_U64(nnrp_fnv1a64(NULL, 0), 0xcbf29ce484222325u);
  CHECK_EQ_U64(nnrp_fnv1a64((const uint8_t *)"", 0), 0xcbf29ce484222325u);
  CHECK_EQ_U64(nnrp_fnv1a64((const uint8_t *)"a", 1), 0xaf63dc4c8601ec8cu);

  static const char *const skip[] = {"key_bytes_utf8", "fnv1a64", NULL};
  nnrp_meta m;
  memset(&m, 0, sizeof(m));
  check_meta_vector("metadata.cache_put.key_bytes_tst-v1", skip, &m);
  const cJSON *fields =
      jget(vec("metadata.cache_put.key_bytes_tst-v1"), "fields");
  const char *key = jget(fields, "key_bytes_utf8")->valuestring;
  CHECK_EQ_STR(key, "tst-v1");
  uint64_t h = nnrp_fnv1a64((const uint8_t *)key, strlen(key));
  CHECK(json_eq(jget(fields, "fnv1a64"), h));
  CHECK_EQ_U64(h, 0x340662af1df8d56au);
  uint32_t hi = 0, lo = 0;
  nnrp_cache_key_from_bytes((const uint8_t *)key, strlen(key), &hi, &lo);
  CHECK_EQ_U64(hi, m.cache_put.cache_key_hi);
  CHECK_EQ_U64(lo, m.cache_put.cache_key_lo);
  CHECK_EQ_U64(hi, 0x340662afu);
  CHECK_EQ_U64(lo, 0x1df8d56au);
  nnrp_cache_key_from_bytes((const uint8_t *)"a", 1, &hi, &lo);
  CHECK_EQ_U64(hi, 0xaf63dc4cu);
  CHECK_EQ_U64(lo, 0x8601ec8cu);
}

/* ---- CACHE_PUT ----------------------------------------------------------- */

TEST(cache_put_object_kind_enum) {
  static const uint32_t bad[] = {0, 10, 0x100, 0xFFFFFFFFu};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
    expect_reject(NNRP_MSG_CACHE_PUT, g_put, 12, bad[i], BOTH_MODES,
                  "object_kind", "§10.1");
  for (uint32_t k = NNRP_OBJECT_CAMERA_BLOCK;
       k <= NNRP_OBJECT_STRUCTURED_EVENT_SCHEMA; k++) {
    nnrp_meta m;
    memset(&m, 0, sizeof(m));
    nnrp_fault f;
    CHECK_EQ_INT(
        meta_dec_patched(NNRP_MSG_CACHE_PUT, g_put, 12, 4, k, 0, &m, &f), 0);
    CHECK_EQ_U64(m.cache_put.object_kind, k);
  }
}

/* CachePutFlags is a strict-only mask (§13): strict rejects unknown bits,
 * lenient clears them and continues. */
TEST(cache_put_flags_strict_only) {
  static const uint32_t bad[] = {0x4, 0x7, 0x80000000u, 0xFFFFFFFFu};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    expect_reject(NNRP_MSG_CACHE_PUT, g_put, 28, bad[i], STRICT_ONLY, "flags",
                  "§10.1");
    nnrp_meta m;
    memset(&m, 0, sizeof(m));
    nnrp_fault f;
    CHECK_EQ_INT(meta_dec_patched(NNRP_MSG_CACHE_PUT, g_put, 28, 4, bad[i],
                                  LENIENT, &m, &f),
                 0);
    CHECK_EQ_U64(m.cache_put.flags, bad[i] & NNRP_CACHE_PUT_KNOWN_MASK);
  }
  for (uint32_t v = 0; v <= NNRP_CACHE_PUT_KNOWN_MASK; v++) {
    nnrp_meta m;
    memset(&m, 0, sizeof(m));
    nnrp_fault f;
    CHECK_EQ_INT(
        meta_dec_patched(NNRP_MSG_CACHE_PUT, g_put, 28, 4, v, 0, &m, &f), 0);
    CHECK_EQ_U64(m.cache_put.flags, v);
  }
  /* the packet decoder accepts the lenient case too */
  uint8_t meta[32];
  memcpy(meta, g_put, 32);
  nnrp_put_u32le(meta + 28, 0x7);
  nnrp_put_u32le(meta + 20, 0);
  size_t len;
  uint8_t *pkt = build_packet(NNRP_MSG_CACHE_PUT, 9, meta, NULL, 0, &len);
  nnrp_packet p;
  nnrp_fault f;
  CHECK_EQ_INT(pkt_decode(&p, pkt, len, LENIENT, &f), 0);
  CHECK_EQ_U64(p.m.cache_put.flags, 0x3);
  free(pkt);
}

/* ttl_ms, codec_bitmap and the key are free. */
TEST(cache_put_free_fields) {
  uint8_t meta[32];
  memcpy(meta, g_put, 32);
  memset(meta, 0xFF, 12);     /* namespace, key_hi, key_lo */
  memset(meta + 16, 0xFF, 4); /* ttl_ms */
  memset(meta + 24, 0xFF, 4); /* codec_bitmap */
  nnrp_meta m;
  memset(&m, 0, sizeof(m));
  nnrp_fault f;
  CHECK_EQ_INT(meta_dec(NNRP_MSG_CACHE_PUT, meta, 0, &m, &f), 0);
  check_meta_enc(NNRP_MSG_CACHE_PUT, &m, meta);
}

/* object_bytes = body_len (step 15); the object is a zero-copy view. */
TEST(cache_put_object_bytes) {
  static uint8_t object[2049];
  for (size_t i = 0; i < sizeof object; i++)
    object[i] = (uint8_t)(i * 7u);
  static const uint32_t bad_lens[] = {0, 2047, 2049};
  for (size_t i = 0; i < sizeof bad_lens / sizeof bad_lens[0]; i++) {
    nnrp_packet p;
    nnrp_fault f;
    int rc = body_dec_direct(&p, NNRP_MSG_CACHE_PUT, g_put, 9, object,
                             bad_lens[i], &f); /* object_bytes = 2048 */
    EXPECT_FAULT(rc, f, BODY, "object_bytes", 0, "§10.1");
    size_t len;
    uint8_t *pkt =
        build_packet(NNRP_MSG_CACHE_PUT, 9, g_put, object, bad_lens[i], &len);
    for (uint32_t mode = 0; mode <= LENIENT; mode++) {
      rc = pkt_decode(&p, pkt, len, mode, &f);
      EXPECT_PKT_FAULT(rc, f, BODY, "object_bytes");
    }
    free(pkt);
  }
  size_t len;
  uint8_t *pkt = build_packet(NNRP_MSG_CACHE_PUT, 9, g_put, object, 2048, &len);
  for (int path = 0; path < 2; path++) {
    nnrp_packet p;
    nnrp_fault f;
    int rc = path == 0 ? pkt_decode(&p, pkt, len, 0, &f)
                       : direct_decode(&p, pkt, len, 0, &f);
    if (!CHECK_EQ_INT(rc, 0))
      continue;
    nnrp_bytes obj = body_view(&p);
    CHECK(obj.ptr == pkt + 72);
    CHECK_EQ_U64(obj.len, 2048);
    CHECK_EQ_MEM(obj.ptr, object, 2048);
  }
  free(pkt);
}

/* ---- CACHE_ACK ----------------------------------------------------------- */

TEST(cache_ack_status_enum) {
  static const uint32_t bad[] = {3, 0xFFFFFFFFu};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
    expect_reject(NNRP_MSG_CACHE_ACK, g_ack, 12, bad[i], BOTH_MODES, "status",
                  "§10.2");
  for (uint32_t s = 0; s <= NNRP_CACHE_ACK_REPLACED; s++) {
    nnrp_meta m;
    memset(&m, 0, sizeof(m));
    nnrp_fault f;
    CHECK_EQ_INT(
        meta_dec_patched(NNRP_MSG_CACHE_ACK, g_ack, 12, 4, s, 0, &m, &f), 0);
    CHECK_EQ_U64(m.cache_ack.status, s);
  }
  /* detail_code is free (project values are informative only) */
  nnrp_meta m;
  memset(&m, 0, sizeof(m));
  nnrp_fault f;
  CHECK_EQ_INT(meta_dec_patched(NNRP_MSG_CACHE_ACK, g_ack, 24, 4, 0xFFFFFFFFu,
                                0, &m, &f),
               0);
}

/* ---- CACHE_INVALIDATE ---------------------------------------------------- */

TEST(cache_invalidate_scope_enum) {
  static const uint32_t bad[] = {4, 0xFFFFFFFFu};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
    expect_reject(NNRP_MSG_CACHE_INVALIDATE, g_inv, 0, bad[i], BOTH_MODES,
                  "invalidate_scope", "§10.3");
  for (uint32_t s = 0; s <= NNRP_CACHE_INVALIDATE_OBJECT_KEY; s++) {
    nnrp_meta m;
    memset(&m, 0, sizeof(m));
    nnrp_fault f;
    CHECK_EQ_INT(
        meta_dec_patched(NNRP_MSG_CACHE_INVALIDATE, g_inv, 0, 4, s, 0, &m, &f),
        0);
  }
}

/* Fields a scope does not use are ignored, not validated; the OBJECT_KIND
 * value carried in cache_key_hi is not range-checked either (see cache.c). */
TEST(cache_invalidate_unused_fields_ignored) {
  for (uint32_t s = 0; s <= NNRP_CACHE_INVALIDATE_OBJECT_KEY; s++) {
    uint8_t meta[20];
    nnrp_put_u32le(meta, s);
    memset(meta + 4, 0xFF, 16); /* namespace, key halves, reason_code */
    nnrp_meta m;
    memset(&m, 0, sizeof(m));
    nnrp_fault f;
    CHECK_EQ_INT(meta_dec(NNRP_MSG_CACHE_INVALIDATE, meta, 0, &m, &f), 0);
    CHECK_EQ_U64(m.cache_invalidate.cache_key_lo, 0xFFFFFFFFu);
    check_meta_enc(NNRP_MSG_CACHE_INVALIDATE, &m, meta);
  }
}

/* ---- empty bodies -------------------------------------------------------- */

TEST(cache_ack_invalidate_body_must_be_empty) {
  static const uint8_t body[8] = {1};
  static const struct {
    uint8_t type;
    const uint8_t *meta;
    const char *sec;
  } rows[] = {{NNRP_MSG_CACHE_ACK, g_ack, "§10.2"},
              {NNRP_MSG_CACHE_INVALIDATE, g_inv, "§10.3"}};
  for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
    nnrp_packet p;
    nnrp_fault f;
    int rc = body_dec_direct(&p, rows[i].type, rows[i].meta, 9, body, 8, &f);
    EXPECT_FAULT(rc, f, BODY, "body_len", 0, rows[i].sec);
    CHECK_EQ_INT(
        body_dec_direct(&p, rows[i].type, rows[i].meta, 9, NULL, 0, &f), 0);
    size_t len;
    uint8_t *pkt = build_packet(rows[i].type, 9, rows[i].meta, body, 1, &len);
    rc = pkt_decode(&p, pkt, len, LENIENT, &f);
    EXPECT_PKT_FAULT(rc, f, BODY, "body_len");
    free(pkt);
  }
}

int main(void) {
  g_vectors = nnrp_test_load_json("seed-line.json");
  load_meta("metadata.cache_put.camera_block", g_put, 32);
  load_meta("metadata.cache_ack.accepted", g_ack, 28);
  load_meta("metadata.cache_invalidate.whole_session", g_inv, 20);

  RUN(cache_golden_vectors);
  RUN(cache_fnv1a_key_mapping);
  RUN(cache_put_object_kind_enum);
  RUN(cache_put_flags_strict_only);
  RUN(cache_put_free_fields);
  RUN(cache_put_object_bytes);
  RUN(cache_ack_status_enum);
  RUN(cache_invalidate_scope_enum);
  RUN(cache_invalidate_unused_fields_ignored);
  RUN(cache_ack_invalidate_body_must_be_empty);
  cJSON_Delete(g_vectors);
  TEST_MAIN_END();
}
