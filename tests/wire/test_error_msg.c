/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_error_msg.c - the ERROR message (wire.md §4.6): its two vectors
 * through the packet decoder and the codec functions alone, and one negative
 * test per rule (error_scope enum, is_fatal <= 1, diagnostic_bytes =
 * body_len), plus the free fields (error_code is never range-checked).
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

/* ---- this file's message ------------------------------------------------- */

static const codec codecs[] = {
    {NNRP_MSG_ERROR, "ERROR", 32, nnrp__error_meta_dec, nnrp__error_meta_enc,
     nnrp__error_body_dec},
};

static const codec *codec_of(uint8_t type) {
  return type == NNRP_MSG_ERROR ? &codecs[0] : NULL;
}

static size_t meta_fields(uint8_t type, const nnrp_meta *m, field_val *t) {
  (void)type;
  const nnrp_error_meta *e = &m->error;
  const field_val x[] = {FV(e, error_code),         FV(e, error_scope),
                         FV(e, is_fatal),           FV(e, retry_after_ms),
                         FV(e, related_session_id), FV(e, related_frame_id),
                         FV(e, related_view_id),    FV(e, diagnostic_bytes)};
  memcpy(t, x, sizeof x);
  return sizeof x / sizeof x[0];
}

static nnrp_bytes body_view(const nnrp_packet *p) { return p->b.diagnostic; }

#define LENIENT NNRP_WIRE_LENIENT
#define BODY NNRP_ERR_MALFORMED_BODY

static uint8_t g_meta[32]; /* metadata.error.server_busy */

/* ---- vectors ------------------------------------------------------------- */

TEST(error_metadata_vector) {
  nnrp_meta m;
  memset(&m, 0, sizeof(m));
  check_meta_vector("metadata.error.server_busy", NULL, &m);
  CHECK_EQ_U64(m.error.error_code, NNRP_ERROR_CODE_SERVER_BUSY);
  CHECK_EQ_U64(m.error.error_scope, NNRP_ERROR_SCOPE_SESSION);
}

TEST(error_packet_vector) {
  check_packet_vector("packet.error.malformed_body");
  /* the diagnostic view is the body text, zero copy */
  const cJSON *v = vec("packet.error.malformed_body");
  const char *text = jget(jget(v, "fields"), "body_utf8")->valuestring;
  uint8_t *pkt = NULL;
  size_t len = vec_bytes(v, &pkt);
  for (int path = 0; path < 2; path++) {
    nnrp_packet p;
    nnrp_fault f;
    int rc = path == 0 ? pkt_decode(&p, pkt, len, 0, &f)
                       : direct_decode(&p, pkt, len, 0, &f);
    if (!CHECK_EQ_INT(rc, 0))
      continue;
    CHECK_EQ_U64(p.b.diagnostic.len, strlen(text));
    CHECK(p.b.diagnostic.ptr == pkt + 72);
    CHECK_EQ_MEM(p.b.diagnostic.ptr, text, strlen(text));
  }
  free(pkt);
}

/* ---- metadata rules ------------------------------------------------------ */

TEST(error_scope_enum) {
  static const uint32_t bad[] = {3, 4, 0x100, 0xFFFFFFFFu};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
    for (uint32_t mode = 0; mode <= LENIENT; mode++) {
      nnrp_meta m;
      memset(&m, 0, sizeof(m));
      nnrp_fault f;
      int rc =
          meta_dec_patched(NNRP_MSG_ERROR, g_meta, 4, 4, bad[i], mode, &m, &f);
      EXPECT_FAULT(rc, f, BODY, "error_scope", 4, "§4.6");
    }
  for (uint32_t s = 0; s <= NNRP_ERROR_SCOPE_FRAME; s++) {
    nnrp_meta m;
    memset(&m, 0, sizeof(m));
    nnrp_fault f;
    CHECK_EQ_INT(meta_dec_patched(NNRP_MSG_ERROR, g_meta, 4, 4, s, 0, &m, &f),
                 0);
    CHECK_EQ_U64(m.error.error_scope, s);
  }
}

TEST(error_is_fatal_max_1) {
  static const uint32_t bad[] = {2, 0x80000000u, 0xFFFFFFFFu};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
    for (uint32_t mode = 0; mode <= LENIENT; mode++) {
      nnrp_meta m;
      memset(&m, 0, sizeof(m));
      nnrp_fault f;
      int rc =
          meta_dec_patched(NNRP_MSG_ERROR, g_meta, 8, 4, bad[i], mode, &m, &f);
      EXPECT_FAULT(rc, f, BODY, "is_fatal", 8, "§4.6");
    }
  for (uint32_t v = 0; v <= 1; v++) {
    nnrp_meta m;
    memset(&m, 0, sizeof(m));
    nnrp_fault f;
    CHECK_EQ_INT(meta_dec_patched(NNRP_MSG_ERROR, g_meta, 8, 4, v, 0, &m, &f),
                 0);
    CHECK_EQ_U64(m.error.is_fatal, v);
  }
}

/* error_code and the related ids are free (wire.md §1 rule 10, D2): unknown
 * codes are surfaced as-is. */
TEST(error_free_fields) {
  static const uint32_t codes[] = {0, 0x000C, 0x000D, 0x00030001u, 0xFFFFFFFFu};
  for (size_t i = 0; i < sizeof codes / sizeof codes[0]; i++) {
    nnrp_meta m;
    memset(&m, 0, sizeof(m));
    nnrp_fault f;
    CHECK_EQ_INT(
        meta_dec_patched(NNRP_MSG_ERROR, g_meta, 0, 4, codes[i], 0, &m, &f), 0);
    CHECK_EQ_U64(m.error.error_code, codes[i]);
  }
  uint8_t meta[32];
  memcpy(meta, g_meta, 32);
  memset(meta + 12, 0xFF, 16); /* retry_after_ms and the three related ids */
  nnrp_meta m;
  memset(&m, 0, sizeof(m));
  nnrp_fault f;
  CHECK_EQ_INT(meta_dec(NNRP_MSG_ERROR, meta, 0, &m, &f), 0);
  CHECK_EQ_U64(m.error.related_view_id, 0xFFFFFFFFu);
  check_meta_enc(NNRP_MSG_ERROR, &m, meta);
}

/* ---- body rule: diagnostic_bytes = body_len ------------------------------ */

TEST(error_diagnostic_bytes_mismatch) {
  static const char text[] = "server busy, retry later."; /* 25 bytes */
  uint8_t meta[32];
  memcpy(meta, g_meta, 32); /* diagnostic_bytes = 24 */
  static const uint32_t body_lens[] = {0, 23, 25};
  for (size_t i = 0; i < sizeof body_lens / sizeof body_lens[0]; i++) {
    nnrp_packet p;
    nnrp_fault f;
    int rc = body_dec_direct(&p, NNRP_MSG_ERROR, meta, 42,
                             (const uint8_t *)text, body_lens[i], &f);
    EXPECT_FAULT(rc, f, BODY, "diagnostic_bytes", 0, "§4.6");
    size_t len;
    uint8_t *pkt = build_packet(NNRP_MSG_ERROR, 42, meta, (const uint8_t *)text,
                                body_lens[i], &len);
    for (uint32_t mode = 0; mode <= LENIENT; mode++) {
      rc = pkt_decode(&p, pkt, len, mode, &f);
      EXPECT_PKT_FAULT(rc, f, BODY, "diagnostic_bytes");
    }
    free(pkt);
  }
  /* matching lengths: the view covers exactly the body */
  nnrp_packet p;
  nnrp_fault f;
  CHECK_EQ_INT(body_dec_direct(&p, NNRP_MSG_ERROR, meta, 42,
                               (const uint8_t *)text, 24, &f),
               0);
  CHECK(p.b.diagnostic.ptr == (const uint8_t *)text);
  CHECK_EQ_U64(p.b.diagnostic.len, 24);
}

/* An empty diagnostic is fine; the text is never interpreted (not even as
 * UTF-8). */
TEST(error_diagnostic_empty_and_binary) {
  nnrp_meta m;
  memset(&m, 0, sizeof(m));
  nnrp_fault f;
  uint8_t meta[32];
  memcpy(meta, g_meta, 32);
  nnrp_put_u32le(meta + 28, 0);
  CHECK_EQ_INT(meta_dec(NNRP_MSG_ERROR, meta, 0, &m, &f), 0);
  nnrp_packet p;
  CHECK_EQ_INT(body_dec_direct(&p, NNRP_MSG_ERROR, meta, 0, NULL, 0, &f), 0);
  CHECK_EQ_U64(p.b.diagnostic.len, 0);

  static const uint8_t junk[4] = {0xFF, 0xFE, 0x00, 0xC0}; /* not UTF-8 */
  nnrp_put_u32le(meta + 28, 4);
  size_t len;
  uint8_t *pkt = build_packet(NNRP_MSG_ERROR, 0, meta, junk, 4, &len);
  CHECK_EQ_INT(pkt_decode(&p, pkt, len, 0, &f), 0);
  CHECK_EQ_U64(p.b.diagnostic.len, 4);
  CHECK(p.b.diagnostic.ptr == pkt + 72);
  free(pkt);
}

int main(void) {
  g_vectors = nnrp_test_load_json("seed-line.json");
  uint8_t *meta = NULL;
  if (vec_bytes(vec("metadata.error.server_busy"), &meta) != 32)
    harness_die(__FILE__, __LINE__, "ERROR vector is not 32 bytes");
  memcpy(g_meta, meta, 32);
  free(meta);

  RUN(error_metadata_vector);
  RUN(error_packet_vector);
  RUN(error_scope_enum);
  RUN(error_is_fatal_max_1);
  RUN(error_free_fields);
  RUN(error_diagnostic_bytes_mismatch);
  RUN(error_diagnostic_empty_and_binary);
  cJSON_Delete(g_vectors);
  TEST_MAIN_END();
}
