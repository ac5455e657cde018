/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_hello.c - CLIENT_HELLO and SERVER_HELLO_ACK (wire.md §4.1, §4.2):
 * the seed-line metadata and packet vectors (decode, compare every field,
 * re-encode), and one negative test per metadata, negotiation and body rule
 * (D3, D5, header session id), with lenient-mode acceptance where §13 says
 * lenient accepts.
 */
#include "harness.h"
#include "vectors.h"

#include <nnrp/nnrp_wire.h>

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CH NNRP_MSG_CLIENT_HELLO
#define SHA NNRP_MSG_SERVER_HELLO_ACK
#define LENIENT NNRP_WIRE_LENIENT

static cJSON *g_root;

/* ---- JSON helpers ---------------------------------------------------------
 */

static const cJSON *vector(const char *name) {
  const cJSON *v;
  cJSON_ArrayForEach(v, cJSON_GetObjectItemCaseSensitive(g_root, "vectors")) {
    const cJSON *n = cJSON_GetObjectItemCaseSensitive(v, "name");
    if (cJSON_IsString(n) && strcmp(n->valuestring, name) == 0)
      return v;
  }
  harness_die(__FILE__, __LINE__, name);
}

static const char *vstr(const cJSON *v, const char *key) {
  const cJSON *s = cJSON_GetObjectItemCaseSensitive(v, key);
  return cJSON_IsString(s) ? s->valuestring : NULL;
}

static const cJSON *vobj(const cJSON *v, const char *key) {
  return cJSON_GetObjectItemCaseSensitive(v, key);
}

/* Bytes of a vector; the caller frees them. */
static size_t vhex(const char *name, uint8_t **out) {
  return nnrp_test_hex_decode(vstr(vector(name), "hex"), out);
}

/* A JSON integer: a number, or a string starting with a decimal or 0x
 * number ("0x01 CLIENT_HELLO", "1 QUIC"). */
static int json_u64(const cJSON *v, uint64_t *out) {
  if (cJSON_IsNumber(v)) {
    *out = (uint64_t)v->valuedouble;
    return v->valuedouble >= 0;
  }
  if (cJSON_IsString(v)) {
    char *end = NULL;
    *out = (uint64_t)strtoull(v->valuestring, &end, 0);
    return end != v->valuestring;
  }
  return 0;
}

/* ---- field tables: JSON name -> struct member ------------------------------
 */

typedef struct fdesc {
  const char *name;
  size_t off;
  size_t size;
} fdesc;

#define FD(type, member)                                                       \
  { #member, offsetof(type, member), sizeof(((type *)0)->member) }
#define FDN(type, json, member)                                                \
  { json, offsetof(type, member), sizeof(((type *)0)->member) }
#define END                                                                    \
  { NULL, 0, 0 }

static const fdesc hdr_fields[] = {FD(nnrp_header, version_major),
                                   FD(nnrp_header, wire_format),
                                   FD(nnrp_header, msg_type),
                                   FD(nnrp_header, header_len),
                                   FD(nnrp_header, flags),
                                   FD(nnrp_header, meta_len),
                                   FD(nnrp_header, body_len),
                                   FD(nnrp_header, session_id),
                                   FD(nnrp_header, frame_id),
                                   FD(nnrp_header, view_id),
                                   FD(nnrp_header, route_id),
                                   FD(nnrp_header, trace_id),
                                   END};

#define CHF(m) FD(nnrp_client_hello, m)
static const fdesc ch_fields[] = {CHF(min_version_major),
                                  CHF(max_version_major),
                                  CHF(supported_wire_format_bitmap),
                                  CHF(supported_profile_bitmap),
                                  CHF(supported_payload_kind_bitmap),
                                  CHF(supported_codec_bitmap),
                                  CHF(supported_compression_bitmap),
                                  CHF(supported_dtype_bitmap),
                                  CHF(supported_layout_bitmap),
                                  CHF(cache_digest_bitmap),
                                  CHF(cache_object_bitmap),
                                  CHF(cache_namespace_count),
                                  CHF(max_lane_count),
                                  CHF(max_cache_entries),
                                  CHF(max_cache_bytes),
                                  CHF(target_cadence_x100),
                                  CHF(latency_budget_ms),
                                  CHF(quality_tier),
                                  CHF(degrade_policy),
                                  CHF(requested_session_id),
                                  CHF(auth_bytes),
                                  CHF(control_extension_bytes),
                                  END};

#define SHF(m) FD(nnrp_server_hello_ack, m)
static const fdesc sha_fields[] = {SHF(selected_version_major),
                                   SHF(selected_wire_format),
                                   SHF(auth_status),
                                   SHF(reserved0),
                                   SHF(session_id),
                                   SHF(accepted_profile_bitmap),
                                   SHF(accepted_payload_kind_bitmap),
                                   SHF(accepted_codec_bitmap),
                                   SHF(accepted_compression_bitmap),
                                   SHF(accepted_dtype_bitmap),
                                   SHF(accepted_layout_bitmap),
                                   SHF(cache_digest_bitmap),
                                   SHF(cache_object_bitmap),
                                   SHF(max_cache_entries),
                                   SHF(max_cache_bytes),
                                   SHF(max_lane_count),
                                   SHF(max_concurrent_frames),
                                   SHF(target_cadence_x100),
                                   SHF(latency_budget_ms),
                                   SHF(quality_tier),
                                   SHF(degrade_policy),
                                   SHF(max_body_bytes),
                                   SHF(token_ttl_ms),
                                   SHF(retry_after_ms),
                                   SHF(control_extension_bytes),
                                   SHF(server_flags),
                                   END};

#define XF(json, m) FDN(nnrp_hello_exts, json, m)
static const fdesc ext_fields[] = {
    XF("transport_policy", transport_policy.transport_policy),
    XF("accepted_transport_policy", transport_policy.accepted_transport_policy),
    XF("preferred_transport_id", transport_policy.transport_id),
    XF("active_transport_id", transport_policy.transport_id),
    XF("session_loss_tolerance", loss_tolerance.loss_tolerance),
    XF("accepted_loss_tolerance", loss_tolerance.loss_tolerance),
    XF("payload_kind_bitmap", payload_caps.payload_kind_bitmap),
    XF("accepted_payload_kind_bitmap", payload_caps.payload_kind_bitmap),
    END};

static uint64_t fget(const void *base, const fdesc *d) {
  const uint8_t *p = (const uint8_t *)base + d->off;
  uint8_t v8;
  uint16_t v16;
  uint32_t v32;
  uint64_t v64;
  switch (d->size) {
  case 1:
    memcpy(&v8, p, 1);
    return v8;
  case 2:
    memcpy(&v16, p, 2);
    return v16;
  case 4:
    memcpy(&v32, p, 4);
    return v32;
  default:
    memcpy(&v64, p, 8);
    return v64;
  }
}

static const fdesc *lookup(const fdesc *t, const char *name) {
  for (; t->name; t++)
    if (strcmp(t->name, name) == 0)
      return t;
  return NULL;
}

/* Compares every field of a JSON object with the struct at base; a field
 * without a mapping fails (so no field goes unchecked). Numbers above 2^53
 * (a double's exact range) are compared as doubles. */
static void compare_fields(const char *vec, const cJSON *obj, const fdesc *t,
                           const void *base) {
  const cJSON *fv;
  cJSON_ArrayForEach(fv, obj) {
    const fdesc *d = lookup(t, fv->string);
    if (strcmp(fv->string, "magic") == 0) {
      CHECK_EQ_STR(fv->valuestring, "NNRP");
      continue;
    }
    if (!CHECK(d != NULL)) {
      fprintf(stderr, "  %s: no mapping for field %s\n", vec, fv->string);
      continue;
    }
    uint64_t want = 0, got = fget(base, d);
    if (!CHECK(json_u64(fv, &want)))
      continue;
    int ok = (cJSON_IsNumber(fv) && fv->valuedouble >= 9007199254740992.0)
                 ? CHECK((double)got == fv->valuedouble)
                 : CHECK_EQ_U64(got, want);
    if (!ok)
      fprintf(stderr, "  %s: field %s\n", vec, fv->string);
  }
}

/* ---- byte helpers ----------------------------------------------------------
 */

static void put16(uint8_t *p, uint16_t v) {
  p[0] = (uint8_t)v;
  p[1] = (uint8_t)(v >> 8);
}
static void put32(uint8_t *p, uint32_t v) {
  put16(p, (uint16_t)v);
  put16(p + 2, (uint16_t)(v >> 16));
}

/* Assembles header ‖ meta ‖ body into buf; returns the packet length. */
static size_t make_packet(uint8_t *buf, uint8_t type, uint32_t session_id,
                          const uint8_t *meta, uint32_t meta_len,
                          const uint8_t *body, uint32_t body_len) {
  nnrp_header h;
  nnrp_header_init(&h, type);
  h.meta_len = meta_len;
  h.body_len = body_len;
  h.session_id = session_id;
  nnrp_header_encode(&h, buf);
  memcpy(buf + 40, meta, meta_len);
  if (body_len)
    memcpy(buf + 40 + meta_len, body, body_len);
  return 40u + meta_len + body_len;
}

static int decode(nnrp_packet *p, const uint8_t *buf, size_t len,
                  uint32_t flags, nnrp_fault *f) {
  nnrp_wire_opts o;
  nnrp_wire_opts_default(&o);
  o.flags = flags;
  memset(f, 0, sizeof(*f));
  return nnrp_packet_decode(p, buf, len, &o, f);
}

/* One TLV entry with an 8-byte payload. */
static void entry8(uint8_t *p, uint16_t type, uint16_t flags,
                   const uint8_t pl[8]) {
  put16(p, type);
  put16(p + 2, flags);
  put32(p + 4, 8);
  memcpy(p + 8, pl, 8);
}

/* The metadata of packet.client_hello.defaults_prefer_quic_auth, a valid
 * base for the negative tests. */
static uint8_t g_ch[64];
static uint8_t g_sha[80];

static int ch_meta(const uint8_t *m, uint32_t flags, nnrp_fault *f,
                   nnrp_meta *out) {
  memset(f, 0, sizeof(*f));
  return nnrp_meta_decode(CH, out, m, 64, flags, f);
}

static int sha_meta(const uint8_t *m, uint32_t flags, nnrp_fault *f,
                    nnrp_meta *out) {
  memset(f, 0, sizeof(*f));
  return nnrp_meta_decode(SHA, out, m, 80, flags, f);
}

/* ---- vectors --------------------------------------------------------------
 */

TEST(vectors_metadata) {
  int seen = 0;
  const cJSON *v;
  cJSON_ArrayForEach(v, vobj(g_root, "vectors")) {
    const char *mt = vstr(v, "message_type");
    const char *name = vstr(v, "name");
    if (strcmp(vstr(v, "kind"), "metadata") != 0 ||
        (strcmp(mt, "CLIENT_HELLO") != 0 &&
         strcmp(mt, "SERVER_HELLO_ACK") != 0))
      continue;
    seen++;
    uint8_t type = (uint8_t)nnrp_msg_type_from_name(mt);
    const fdesc *t = type == CH ? ch_fields : sha_fields;
    uint8_t *bytes = NULL;
    size_t n = nnrp_test_hex_decode(vstr(v, "hex"), &bytes);
    CHECK_EQ_INT(n, nnrp_msg_meta_len(type));
    nnrp_meta m;
    nnrp_fault f;
    if (CHECK_EQ_INT(nnrp_meta_decode(type, &m, bytes, n, 0, &f), 0)) {
      compare_fields(name, vobj(v, "fields"), t, &m);
      uint8_t out[80];
      CHECK_EQ_INT(nnrp_meta_encode(type, &m, out, sizeof out), (int)n);
      CHECK_EQ_MEM(out, bytes, n);
    } else {
      fprintf(stderr, "  %s: %s %s\n", name, f.rule, f.field);
    }
    free(bytes);
  }
  CHECK_EQ_INT(seen, 3);
}

/* Compares the "control_extension_block" list of a packet vector with the
 * decoded block x. */
static void compare_block(const char *vec, const cJSON *list,
                          const nnrp_hello_exts *x) {
  nnrp_ext_iter it;
  nnrp_ext_entry e;
  nnrp_ext_iter_init(&it, x->block);
  const cJSON *je;
  cJSON_ArrayForEach(je, list) {
    if (!CHECK_EQ_INT(nnrp_ext_iter_next(&it, &e), 1))
      return;
    uint64_t t = 0;
    CHECK(json_u64(vobj(je, "ext_type"), &t));
    CHECK_EQ_U64(e.ext_type, t);
    cJSON *rest = cJSON_Duplicate(je, 1);
    cJSON_DeleteItemFromObjectCaseSensitive(rest, "ext_type");
    compare_fields(vec, rest, ext_fields, x);
    cJSON_Delete(rest);
  }
  CHECK_EQ_INT(nnrp_ext_iter_next(&it, &e), 0);
}

TEST(vectors_packets) {
  static const char *names[] = {
      "packet.client_hello.defaults_prefer_quic_auth",
      "packet.server_hello_ack.with_transport_policy_ext"};
  for (int i = 0; i < 2; i++) {
    const cJSON *v = vector(names[i]);
    const cJSON *fields = vobj(v, "fields");
    uint8_t *bytes = NULL;
    size_t n = nnrp_test_hex_decode(vstr(v, "hex"), &bytes);
    nnrp_packet p;
    nnrp_fault f;
    if (!CHECK_EQ_INT(decode(&p, bytes, n, 0, &f), 0)) {
      fprintf(stderr, "  %s: %s %s @%u\n", names[i], f.rule, f.field, f.offset);
      free(bytes);
      continue;
    }
    uint8_t type = p.hdr.msg_type;
    compare_fields(names[i], vobj(fields, "header"), hdr_fields, &p.hdr);
    compare_fields(names[i], vobj(fields, "metadata"),
                   type == CH ? ch_fields : sha_fields, &p.m);
    const cJSON *body = vobj(fields, "body");
    const nnrp_hello_exts *x =
        type == CH ? &p.b.client_hello.ext : &p.b.server_hello_ack.ext;
    compare_block(names[i], vobj(body, "control_extension_block"), x);
    CHECK(x->block.ptr == bytes + 40 + p.hdr.meta_len);
    if (type == CH) {
      const char *auth = vstr(body, "auth_block_utf8");
      CHECK_EQ_U64(p.b.client_hello.auth.len, strlen(auth));
      CHECK_EQ_MEM(p.b.client_hello.auth.ptr, auth, strlen(auth));
      CHECK_EQ_U64(x->present, NNRP_HELLO_EXT_TRANSPORT_POLICY);
    } else {
      CHECK_EQ_U64(p.b.server_hello_ack.opaque.len, 0);
    }
    /* Re-encode: header, metadata and the block from the parsed struct. */
    uint8_t out[256];
    nnrp_header_encode(&p.hdr, out);
    CHECK_EQ_INT(nnrp_meta_encode(type, &p.m, out + 40, sizeof out - 40),
                 (int)p.hdr.meta_len);
    size_t off = 40 + p.hdr.meta_len;
    int w =
        nnrp_ext_block_encode(type, x, NULL, 0, out + off, sizeof out - off);
    CHECK_EQ_INT(w, (int)x->block.len);
    off += (size_t)w;
    if (type == CH) {
      memcpy(out + off, p.b.client_hello.auth.ptr, p.b.client_hello.auth.len);
      off += p.b.client_hello.auth.len;
    }
    CHECK_EQ_U64(off, n);
    CHECK_EQ_MEM(out, bytes, n);
    free(bytes);
  }
}

/* ---- CLIENT_HELLO metadata (§4.1, step 16 then step 17)
 * ---------------------- */

TEST(client_hello_extension_bytes_multiple_of_8) {
  uint8_t m[64];
  nnrp_meta d;
  nnrp_fault f;
  for (uint32_t bad = 1; bad < 8; bad++) {
    memcpy(m, g_ch, 64);
    put32(m + 60, 16 + bad);
    for (uint32_t fl = 0; fl <= LENIENT; fl++) {
      CHECK_EQ_INT(ch_meta(m, fl, &f, &d), NNRP_ERR_MALFORMED_BODY);
      CHECK_EQ_STR(f.field, "control_extension_bytes");
      CHECK_EQ_INT(f.offset, 60);
    }
  }
  /* Step 16 comes before the version window (step 17). */
  m[0] = 2;
  m[1] = 2;
  CHECK_EQ_INT(ch_meta(m, 0, &f, &d), NNRP_ERR_MALFORMED_BODY);
  memcpy(m, g_ch, 64);
  put32(m + 60, 0xFFFFFFF8u);
  CHECK_EQ_INT(ch_meta(m, 0, &f, &d), 0);
}

TEST(client_hello_version_window) {
  static const struct {
    uint8_t min, max;
    int rc;
    const char *field;
  } c[] = {{1, 1, 0, NULL},
           {0, 1, 0, NULL},
           {1, 3, 0, NULL},
           {0, 255, 0, NULL},
           {2, 2, NNRP_ERR_UNSUPPORTED_VERSION, "min_version_major"},
           {2, 5, NNRP_ERR_UNSUPPORTED_VERSION, "min_version_major"},
           {0, 0, NNRP_ERR_UNSUPPORTED_VERSION, "max_version_major"},
           {2, 1, NNRP_ERR_UNSUPPORTED_VERSION, "min_version_major"},
           {1, 0, NNRP_ERR_UNSUPPORTED_VERSION, "max_version_major"}};
  for (size_t i = 0; i < sizeof c / sizeof c[0]; i++) {
    uint8_t m[64];
    nnrp_meta d;
    nnrp_fault f;
    memcpy(m, g_ch, 64);
    m[0] = c[i].min;
    m[1] = c[i].max;
    for (uint32_t fl = 0; fl <= LENIENT; fl++) {
      if (!CHECK_EQ_INT(ch_meta(m, fl, &f, &d), c[i].rc))
        fprintf(stderr, "  window [%u, %u]\n", c[i].min, c[i].max);
      if (c[i].field) {
        CHECK_EQ_STR(f.field, c[i].field);
        CHECK_EQ_STR(f.rule, "wire.md §4.1");
      }
    }
  }
}

TEST(client_hello_wire_format_bitmap) {
  uint8_t m[64];
  nnrp_meta d;
  nnrp_fault f;
  memcpy(m, g_ch, 64);
  put16(m + 2, 0x0002);
  for (uint32_t fl = 0; fl <= LENIENT; fl++) {
    CHECK_EQ_INT(ch_meta(m, fl, &f, &d), NNRP_ERR_UNSUPPORTED_VERSION);
    CHECK_EQ_STR(f.field, "supported_wire_format_bitmap");
    CHECK_EQ_INT(f.offset, 2);
  }
  put16(m + 2, 0);
  CHECK_EQ_INT(ch_meta(m, 0, &f, &d), NNRP_ERR_UNSUPPORTED_VERSION);
  /* Extra (future) wire formats are fine next to bit 0. */
  put16(m + 2, 0xFFFF);
  CHECK_EQ_INT(ch_meta(m, 0, &f, &d), 0);
}

TEST(client_hello_capability_bitmaps) {
  uint8_t m[64];
  nnrp_meta d;
  nnrp_fault f;
  memcpy(m, g_ch, 64);
  put32(m + 4, 0);
  for (uint32_t fl = 0; fl <= LENIENT; fl++) {
    CHECK_EQ_INT(ch_meta(m, fl, &f, &d), NNRP_ERR_UNSUPPORTED_CAPABILITY);
    CHECK_EQ_STR(f.field, "supported_profile_bitmap");
    CHECK_EQ_INT(f.offset, 4);
  }
  memcpy(m, g_ch, 64);
  put32(m + 8, 0);
  for (uint32_t fl = 0; fl <= LENIENT; fl++) {
    CHECK_EQ_INT(ch_meta(m, fl, &f, &d), NNRP_ERR_UNSUPPORTED_CAPABILITY);
    CHECK_EQ_STR(f.field, "supported_payload_kind_bitmap");
    CHECK_EQ_INT(f.offset, 8);
  }
  /* Version (first in step 17) before the capability bitmaps. */
  m[0] = 3;
  m[1] = 3;
  CHECK_EQ_INT(ch_meta(m, 0, &f, &d), NNRP_ERR_UNSUPPORTED_VERSION);
  /* Advertisement bitmaps are intersected, never rejected for unknown
   * bits (§1 rule 11); free fields are not range-checked (D2). */
  memcpy(m, g_ch, 64);
  memset(m + 4, 0xFF, 28);  /* profile .. layout bitmaps */
  memset(m + 28, 0xFF, 24); /* digest .. degrade_policy */
  CHECK_EQ_INT(ch_meta(m, 0, &f, &d), 0);
  CHECK_EQ_U64(d.client_hello.supported_payload_kind_bitmap, 0xFFFFFFFFu);
  CHECK_EQ_U64(d.client_hello.quality_tier, 0xFFFF);
}

/* ---- CLIENT_HELLO body (D3) ------------------------------------------------
 */

/* A CLIENT_HELLO packet with ceb/auth fields and a body of body_len. */
static size_t ch_packet(uint8_t *buf, uint32_t ceb, uint32_t auth,
                        const uint8_t *body, uint32_t body_len) {
  uint8_t m[64];
  memcpy(m, g_ch, 64);
  put32(m + 56, auth);
  put32(m + 60, ceb);
  return make_packet(buf, CH, 0, m, 64, body, body_len);
}

TEST(client_hello_body_d3) {
  uint8_t body[64];
  uint8_t buf[256];
  nnrp_packet p;
  nnrp_fault f;
  static const uint8_t pol[8] = {1, 0, 0, 0, 1, 0, 0, 0};
  entry8(body, 0x0101, 0, pol);
  memcpy(body + 16, "tok!", 4);
  /* Valid: 16 + 4. */
  size_t n = ch_packet(buf, 16, 4, body, 20);
  CHECK_EQ_INT(decode(&p, buf, n, 0, &f), 0);
  CHECK(p.b.client_hello.auth.ptr == buf + 104 + 16);
  CHECK_EQ_U64(p.b.client_hello.auth.len, 4);
  CHECK_EQ_U64(p.b.client_hello.ext.block.len, 16);
  /* body_len one more / one less than the sum, both modes. */
  uint32_t lens[] = {21, 19, 0, 16};
  for (int i = 0; i < 4; i++) {
    n = ch_packet(buf, 16, 4, body, lens[i]);
    for (uint32_t fl = 0; fl <= LENIENT; fl++) {
      CHECK_EQ_INT(decode(&p, buf, n, fl, &f), NNRP_ERR_MALFORMED_BODY);
      CHECK_EQ_STR(f.rule, "wire.md §4.1 D3");
      CHECK_EQ_STR(f.field, "body_len");
      CHECK_EQ_INT(f.offset, 104);
    }
  }
  /* The sum is 64-bit: 0xFFFFFFF8 + 0x10 wraps to 8 in 32 bits. */
  n = ch_packet(buf, 0xFFFFFFF8u, 0x10, body, 8);
  CHECK_EQ_INT(decode(&p, buf, n, 0, &f), NNRP_ERR_MALFORMED_BODY);
  CHECK_EQ_STR(f.rule, "wire.md §4.1 D3");
  /* Empty body; auth only; extensions only. */
  n = ch_packet(buf, 0, 0, NULL, 0);
  CHECK_EQ_INT(decode(&p, buf, n, 0, &f), 0);
  CHECK_EQ_U64(p.b.client_hello.auth.len, 0);
  CHECK_EQ_U64(p.b.client_hello.ext.entry_count, 0);
  n = ch_packet(buf, 0, 4, body + 16, 4);
  CHECK_EQ_INT(decode(&p, buf, n, 0, &f), 0);
  CHECK_EQ_MEM(p.b.client_hello.auth.ptr, "tok!", 4);
  n = ch_packet(buf, 16, 0, body, 16);
  CHECK_EQ_INT(decode(&p, buf, n, 0, &f), 0);
  CHECK_EQ_INT(p.b.client_hello.ext.transport_policy.transport_id, 1);
}

TEST(client_hello_body_tlv) {
  uint8_t body[64];
  uint8_t buf[256];
  nnrp_packet p;
  nnrp_fault f;
  static const uint8_t pol[8] = {1, 0, 0, 0, 1, 0, 0, 0};
  /* Unknown CRITICAL entry: UNSUPPORTED_CAPABILITY at its body offset. */
  entry8(body, 0x0101, 0, pol);
  entry8(body + 16, 0x4001, NNRP_EXT_FLAG_CRITICAL, pol);
  size_t n = ch_packet(buf, 32, 0, body, 32);
  CHECK_EQ_INT(decode(&p, buf, n, 0, &f), NNRP_ERR_UNSUPPORTED_CAPABILITY);
  CHECK_EQ_INT(f.offset, 104 + 16);
  CHECK_EQ_STR(f.field, "ext_type");
  /* Structure fault: MALFORMED_BODY at its packet offset. */
  entry8(body + 16, 0x0103, 0, pol);
  put32(body + 20, 9);
  n = ch_packet(buf, 32, 0, body, 32);
  CHECK_EQ_INT(decode(&p, buf, n, 0, &f), NNRP_ERR_MALFORMED_BODY);
  CHECK_EQ_INT(f.offset, 104 + 20);
  CHECK_EQ_STR(f.rule, "wire.md §5.2 rule 2");
  /* The auth block is not TLV: bytes after ceb are never parsed. */
  memset(body + 16, 0xFF, 16);
  n = ch_packet(buf, 16, 16, body, 32);
  CHECK_EQ_INT(decode(&p, buf, n, 0, &f), 0);
  /* Reserved byte in 0x0101: strict rejects, lenient accepts. */
  entry8(body, 0x0101, 0, (const uint8_t[8]){1, 1, 0, 0, 1, 0, 0, 0});
  n = ch_packet(buf, 16, 0, body, 16);
  CHECK_EQ_INT(decode(&p, buf, n, 0, &f), NNRP_ERR_MALFORMED_BODY);
  CHECK_EQ_INT(f.offset, 104 + 9);
  CHECK_EQ_INT(decode(&p, buf, n, LENIENT, &f), 0);
  /* The header session_id of a CLIENT_HELLO is ignored (§2.4). */
  n = ch_packet(buf, 0, 0, NULL, 0);
  put32(buf + 20, 77);
  CHECK_EQ_INT(decode(&p, buf, n, 0, &f), 0);
}

/* ---- SERVER_HELLO_ACK metadata (§4.2) --------------------------------------
 */

TEST(server_hello_ack_reserved0) {
  uint8_t m[80];
  nnrp_meta d;
  nnrp_fault f;
  memcpy(m, g_sha, 80);
  m[3] = 0x80;
  CHECK_EQ_INT(sha_meta(m, 0, &f, &d), NNRP_ERR_MALFORMED_BODY);
  CHECK_EQ_STR(f.field, "reserved0");
  CHECK_EQ_INT(f.offset, 3);
  CHECK_EQ_INT(sha_meta(m, LENIENT, &f, &d), 0);
  CHECK_EQ_INT(d.server_hello_ack.reserved0, 0x80); /* kept as read */
}

TEST(server_hello_ack_session_id_zero) {
  uint8_t m[80];
  nnrp_meta d;
  nnrp_fault f;
  memcpy(m, g_sha, 80);
  put32(m + 4, 0);
  CHECK_EQ_INT(sha_meta(m, 0, &f, &d), NNRP_ERR_MALFORMED_BODY);
  CHECK_EQ_STR(f.field, "session_id");
  CHECK_EQ_INT(f.offset, 4);
  CHECK_EQ_INT(sha_meta(m, LENIENT, &f, &d), 0);
  CHECK_EQ_INT(d.server_hello_ack.session_id, 0);
}

TEST(server_hello_ack_server_flags) {
  uint8_t m[80];
  nnrp_meta d;
  nnrp_fault f;
  memcpy(m, g_sha, 80);
  /* Accept mask 0x7 (D8) in both modes. */
  for (uint32_t v = 0; v <= 7; v++) {
    put32(m + 76, v);
    CHECK_EQ_INT(sha_meta(m, 0, &f, &d), 0);
    CHECK_EQ_U64(d.server_hello_ack.server_flags, v);
  }
  uint32_t bad[] = {0x8, 0x9, 0x80000000u, 0xFFFFFFFFu};
  for (int i = 0; i < 4; i++) {
    put32(m + 76, bad[i]);
    CHECK_EQ_INT(sha_meta(m, 0, &f, &d), NNRP_ERR_MALFORMED_BODY);
    CHECK_EQ_STR(f.field, "server_flags");
    CHECK_EQ_INT(f.offset, 76);
    CHECK_EQ_INT(sha_meta(m, LENIENT, &f, &d), 0);
    CHECK_EQ_U64(d.server_hello_ack.server_flags, bad[i] & 0x7u); /* cleared */
  }
}

TEST(server_hello_ack_selected_version) {
  uint8_t m[80];
  nnrp_meta d;
  nnrp_fault f;
  uint8_t versions[] = {0, 2, 255};
  for (int i = 0; i < 3; i++) {
    memcpy(m, g_sha, 80);
    m[0] = versions[i];
    for (uint32_t fl = 0; fl <= LENIENT; fl++) {
      CHECK_EQ_INT(sha_meta(m, fl, &f, &d), NNRP_ERR_UNSUPPORTED_VERSION);
      CHECK_EQ_STR(f.field, "selected_version_major");
      CHECK_EQ_INT(f.offset, 0);
    }
  }
  memcpy(m, g_sha, 80);
  m[1] = 1;
  for (uint32_t fl = 0; fl <= LENIENT; fl++) {
    CHECK_EQ_INT(sha_meta(m, fl, &f, &d), NNRP_ERR_UNSUPPORTED_VERSION);
    CHECK_EQ_STR(f.field, "selected_wire_format");
    CHECK_EQ_INT(f.offset, 1);
  }
  /* Step 16 (reserved0) is reported before step 17 in strict mode. */
  m[3] = 1;
  CHECK_EQ_INT(sha_meta(m, 0, &f, &d), NNRP_ERR_MALFORMED_BODY);
  CHECK_EQ_INT(sha_meta(m, LENIENT, &f, &d), NNRP_ERR_UNSUPPORTED_VERSION);
}

TEST(server_hello_ack_subset_free_fields) {
  /* No client context here: over-wide accepted bitmaps, a non-zero
   * auth_status and any free values decode (the session checks D5). */
  uint8_t m[80];
  nnrp_meta d;
  nnrp_fault f;
  memcpy(m, g_sha, 80);
  m[2] = 1;                 /* auth_status: rejected */
  memset(m + 8, 0xFF, 32);  /* every accepted bitmap */
  memset(m + 40, 0xFF, 32); /* quotas, lanes, timings, limits */
  CHECK_EQ_INT(sha_meta(m, 0, &f, &d), 0);
  CHECK_EQ_INT(d.server_hello_ack.auth_status, 1);
  CHECK_EQ_U64(d.server_hello_ack.accepted_payload_kind_bitmap, 0xFFFFFFFFu);
  CHECK_EQ_U64(d.server_hello_ack.retry_after_ms, 0xFFFFFFFFu);
}

/* ---- SERVER_HELLO_ACK body (D5) and header session id
 * ------------------------- */

static size_t sha_packet(uint8_t *buf, uint32_t hdr_session, uint32_t ceb,
                         const uint8_t *body, uint32_t body_len) {
  uint8_t m[80];
  memcpy(m, g_sha, 80);
  put32(m + 72, ceb);
  return make_packet(buf, SHA, hdr_session, m, 80, body, body_len);
}

TEST(server_hello_ack_body_d5) {
  uint8_t body[300];
  uint8_t buf[512];
  nnrp_packet p;
  nnrp_fault f;
  static const uint8_t pol[8] = {1, 1, 0, 0, 1, 0, 0, 0};
  entry8(body, 0x0102, 0, pol);
  /* TLV form: control_extension_bytes = body_len. */
  size_t n = sha_packet(buf, 1, 16, body, 16);
  CHECK_EQ_INT(decode(&p, buf, n, 0, &f), 0);
  CHECK_EQ_U64(p.b.server_hello_ack.ext.present,
               NNRP_HELLO_EXT_TRANSPORT_POLICY);
  CHECK_EQ_U64(p.b.server_hello_ack.opaque.len, 0);
  /* Empty body, empty block. */
  n = sha_packet(buf, 1, 0, NULL, 0);
  CHECK_EQ_INT(decode(&p, buf, n, 0, &f), 0);
  CHECK_EQ_U64(p.b.server_hello_ack.opaque.len, 0);
  CHECK_EQ_U64(p.b.server_hello_ack.ext.entry_count, 0);
  /* Opaque form (nnrp-py 1.0.0rc2 model name): kept, not parsed. */
  n = sha_packet(buf, 1, 0, (const uint8_t *)"sr-model", 8);
  CHECK_EQ_INT(decode(&p, buf, n, 0, &f), 0);
  CHECK(p.b.server_hello_ack.opaque.ptr == buf + 120);
  CHECK_EQ_U64(p.b.server_hello_ack.opaque.len, 8);
  CHECK_EQ_U64(p.b.server_hello_ack.ext.present, 0);
  /* Opaque bytes that are not a valid TLV block (odd length). */
  n = sha_packet(buf, 1, 0, (const uint8_t *)"abc", 3);
  CHECK_EQ_INT(decode(&p, buf, n, 0, &f), 0);
  /* Anything else: MALFORMED_BODY in both modes. */
  static const struct {
    uint32_t ceb, body_len;
  } bad[] = {{8, 16}, {16, 0}, {24, 16}, {16, 8}};
  for (int i = 0; i < 4; i++) {
    n = sha_packet(buf, 1, bad[i].ceb, body, bad[i].body_len);
    for (uint32_t fl = 0; fl <= LENIENT; fl++) {
      CHECK_EQ_INT(decode(&p, buf, n, fl, &f), NNRP_ERR_MALFORMED_BODY);
      CHECK_EQ_STR(f.rule, "wire.md §4.2 D5");
      CHECK_EQ_STR(f.field, "control_extension_bytes");
      CHECK_EQ_INT(f.offset, 120);
    }
  }
}

TEST(server_hello_ack_header_session_id) {
  uint8_t buf[256];
  nnrp_packet p;
  nnrp_fault f;
  uint32_t sid = (uint32_t)g_sha[4] | (uint32_t)g_sha[5] << 8 |
                 (uint32_t)g_sha[6] << 16 | (uint32_t)g_sha[7] << 24;
  /* 0 or the assigned id. */
  size_t n = sha_packet(buf, 0, 0, NULL, 0);
  CHECK_EQ_INT(decode(&p, buf, n, 0, &f), 0);
  n = sha_packet(buf, sid, 0, NULL, 0);
  CHECK_EQ_INT(decode(&p, buf, n, 0, &f), 0);
  /* Any other id: MALFORMED_BODY in both modes. */
  n = sha_packet(buf, sid + 1, 0, NULL, 0);
  for (uint32_t fl = 0; fl <= LENIENT; fl++) {
    CHECK_EQ_INT(decode(&p, buf, n, fl, &f), NNRP_ERR_MALFORMED_BODY);
    CHECK_EQ_STR(f.field, "session_id");
    CHECK_EQ_STR(f.rule, "wire.md §2.4 D5");
  }
  /* Lenient metadata session_id 0 with header 0 is fine; with a header id
   * it is a mismatch. */
  uint8_t m[80];
  memcpy(m, g_sha, 80);
  put32(m + 4, 0);
  put32(m + 72, 0); /* control_extension_bytes: empty body */
  n = make_packet(buf, SHA, 0, m, 80, NULL, 0);
  CHECK_EQ_INT(decode(&p, buf, n, LENIENT, &f), 0);
  n = make_packet(buf, SHA, 5, m, 80, NULL, 0);
  CHECK_EQ_INT(decode(&p, buf, n, LENIENT, &f), NNRP_ERR_MALFORMED_BODY);
  /* Body form (step 15) is decided before the header cross rule. */
  n = sha_packet(buf, sid + 1, 8, (const uint8_t *)"abcdefghabcdefgh", 16);
  CHECK_EQ_INT(decode(&p, buf, n, 0, &f), NNRP_ERR_MALFORMED_BODY);
  CHECK_EQ_STR(f.rule, "wire.md §4.2 D5");
}

TEST(server_hello_ack_body_tlv) {
  uint8_t body[300];
  uint8_t buf[512];
  nnrp_packet p;
  nnrp_fault f;
  /* active_transport_id 0: strict rejects, lenient tolerates (§13). */
  entry8(body, 0x0102, 0, (const uint8_t[8]){1, 1, 0, 0, 0, 0, 0, 0});
  size_t n = sha_packet(buf, 1, 16, body, 16);
  CHECK_EQ_INT(decode(&p, buf, n, 0, &f), NNRP_ERR_MALFORMED_BODY);
  CHECK_EQ_STR(f.field, "active_transport_id");
  CHECK_EQ_INT(f.offset, 120 + 12);
  CHECK_EQ_INT(decode(&p, buf, n, LENIENT, &f), 0);
  /* A client type in SERVER_HELLO_ACK is unknown: skipped, or fatal when
   * critical. */
  entry8(body, 0x0101, 0, (const uint8_t[8]){9, 9, 9, 9, 9, 9, 9, 9});
  n = sha_packet(buf, 1, 16, body, 16);
  CHECK_EQ_INT(decode(&p, buf, n, 0, &f), 0);
  CHECK_EQ_INT(p.b.server_hello_ack.ext.unknown_count, 1);
  entry8(body, 0x0101, NNRP_EXT_FLAG_CRITICAL,
         (const uint8_t[8]){1, 0, 0, 0, 1, 0, 0, 0});
  n = sha_packet(buf, 1, 16, body, 16);
  CHECK_EQ_INT(decode(&p, buf, n, 0, &f), NNRP_ERR_UNSUPPORTED_CAPABILITY);
  CHECK_EQ_INT(f.offset, 120);
  /* 0x8001 ACTIVE_MODEL_NAME. */
  put16(body, 0x8001);
  put16(body + 2, 0);
  put32(body + 4, 5);
  memcpy(body + 8, "model\0\0\0", 8);
  n = sha_packet(buf, 1, 16, body, 16);
  CHECK_EQ_INT(decode(&p, buf, n, 0, &f), 0);
  CHECK_EQ_U64(p.b.server_hello_ack.ext.present, NNRP_HELLO_EXT_MODEL_NAME);
  CHECK_EQ_MEM(p.b.server_hello_ack.ext.model_name.ptr, "model", 5);
  /* Version faults (step 17) of the metadata still surface in a packet. */
  uint8_t m[80];
  memcpy(m, g_sha, 80);
  m[0] = 2;
  put32(m + 72, 0);
  n = make_packet(buf, SHA, 1, m, 80, NULL, 0);
  CHECK_EQ_INT(decode(&p, buf, n, 0, &f), NNRP_ERR_UNSUPPORTED_VERSION);
  CHECK_EQ_INT(f.offset, 40);
}

int main(void) {
  g_root = nnrp_test_load_json("seed-line.json");
  uint8_t *b = NULL;
  size_t n = vhex("packet.client_hello.defaults_prefer_quic_auth", &b);
  if (n < 104)
    harness_die(__FILE__, __LINE__, "short CLIENT_HELLO vector");
  memcpy(g_ch, b + 40, 64);
  free(b);
  n = vhex("packet.server_hello_ack.with_transport_policy_ext", &b);
  if (n < 120)
    harness_die(__FILE__, __LINE__, "short SERVER_HELLO_ACK vector");
  memcpy(g_sha, b + 40, 80);
  free(b);

  RUN(vectors_metadata);
  RUN(vectors_packets);
  RUN(client_hello_extension_bytes_multiple_of_8);
  RUN(client_hello_version_window);
  RUN(client_hello_wire_format_bitmap);
  RUN(client_hello_capability_bitmaps);
  RUN(client_hello_body_d3);
  RUN(client_hello_body_tlv);
  RUN(server_hello_ack_reserved0);
  RUN(server_hello_ack_session_id_zero);
  RUN(server_hello_ack_server_flags);
  RUN(server_hello_ack_selected_version);
  RUN(server_hello_ack_subset_free_fields);
  RUN(server_hello_ack_body_d5);
  RUN(server_hello_ack_header_session_id);
  RUN(server_hello_ack_body_tlv);
  cJSON_Delete(g_root);
  TEST_MAIN_END();
}
