/* SPDX-License-Identifier: Apache-2.0 */
/*
 * wire_check.c - helpers shared by the wire tests: vector lookup, JSON
 * numbers, field-by-name comparison and wire encoding through the reflection
 * tables (nnrp_struct_fields), packet building and the per-message decode
 * paths, and the common checks of vectors and data bodies. See wire_check.h.
 */
#include "wire_check.h"

#include "guard.h"
#include "vectors.h"

#include "wire/wire_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DIE(msg) harness_die(__FILE__, __LINE__, (msg))

/* ---- seed-line.json ---------------------------------------------------- */

static cJSON *g_root;

const cJSON *wc_vectors(void) {
  if (g_root == NULL)
    g_root = nnrp_test_load_json("seed-line.json");
  return cJSON_GetObjectItemCaseSensitive(g_root, "vectors");
}

void wc_vectors_free(void) {
  cJSON_Delete(g_root);
  g_root = NULL;
}

const cJSON *wc_vec(const char *name) {
  const cJSON *v;
  cJSON_ArrayForEach(v, wc_vectors()) {
    const cJSON *n = cJSON_GetObjectItemCaseSensitive(v, "name");
    if (cJSON_IsString(n) && strcmp(n->valuestring, name) == 0)
      return v;
  }
  DIE(name);
}

const cJSON *wc_vec_fields(const char *name) {
  return wc_jget(wc_vec(name), "fields");
}

size_t wc_vec_hex(const char *name, uint8_t **out) {
  const cJSON *hex = wc_jget(wc_vec(name), "hex");
  if (!cJSON_IsString(hex))
    DIE(name);
  return nnrp_test_hex_decode(hex->valuestring, out);
}

void wc_vec_exact(const char *name, uint8_t *out, size_t len) {
  uint8_t *b = NULL;
  if (wc_vec_hex(name, &b) != len)
    DIE(name);
  memcpy(out, b, len);
  free(b);
}

void wc_vec_copy(const char *name, size_t off, uint8_t *out, size_t len) {
  uint8_t *b = NULL;
  if (wc_vec_hex(name, &b) < off + len)
    DIE(name);
  memcpy(out, b + off, len);
  free(b);
}

uint8_t *wc_case_hex(const char *relpath, const char *id, const char *param,
                     size_t *len) {
  cJSON *file = nnrp_test_load_json(relpath);
  const cJSON *c, *hex = NULL;
  cJSON_ArrayForEach(c, wc_jget(file, "cases")) {
    if (strcmp(wc_jget(c, "id")->valuestring, id) == 0)
      hex = wc_jget(wc_jget(c, "parameters"), param);
  }
  uint8_t *out = NULL;
  *len = 0;
  if (cJSON_IsString(hex))
    *len = nnrp_test_hex_decode(hex->valuestring, &out);
  cJSON_Delete(file);
  return out;
}

/* ---- JSON values ------------------------------------------------------- */

const cJSON *wc_jget(const cJSON *o, const char *key) {
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
  if (v == NULL)
    DIE(key);
  return v;
}

int wc_jnum(const cJSON *j, uint64_t *out) {
  if (cJSON_IsNumber(j)) {
    double d = j->valuedouble;
    if (!(d >= 0 && d < 18446744073709551616.0))
      return 0;
    *out = (uint64_t)d;
    return 1;
  }
  if (cJSON_IsString(j)) {
    char *end = NULL;
    *out = (uint64_t)strtoull(j->valuestring, &end, 0);
    return end != j->valuestring;
  }
  return 0;
}

uint64_t wc_jval(const cJSON *o, const char *key) {
  uint64_t v = 0;
  (void)wc_jnum(wc_jget(o, key), &v);
  return v;
}

int wc_json_eq(const cJSON *j, uint64_t v) {
  if (cJSON_IsNumber(j) && j->valuedouble >= 9007199254740992.0)
    return (double)v == j->valuedouble;
  uint64_t x = 0;
  return wc_jnum(j, &x) && x == v;
}

/* ---- Structs by field name --------------------------------------------- */

static int in_list(const char *const *list, const char *name) {
  for (size_t k = 0; list != NULL && list[k] != NULL; k++)
    if (strcmp(list[k], name) == 0)
      return 1;
  return 0;
}

int wc_check_fields_at(const char *file, int line, const cJSON *obj, int id,
                       const void *base, const char *const *skip,
                       unsigned flags) {
  char msg[256];
  int ok = 1;
  if (!cJSON_IsObject(obj)) {
    harness_fail(file, line, "vector fields: not a JSON object");
    return 0;
  }
  const cJSON *j;
  cJSON_ArrayForEach(j, obj) {
    if (in_list(skip, j->string))
      continue;
    const nnrp_field_desc *fd = nnrp_field_find(id, j->string);
    if (fd == NULL) {
      snprintf(msg, sizeof msg, "vector field %s: no such field in %s",
               j->string, nnrp_struct_name(id));
    } else if (!wc_json_eq(j, nnrp_field_get(base, fd))) {
      char *want = cJSON_PrintUnformatted(j);
      snprintf(msg, sizeof msg, "field %s: vector %s, decoded %llu", j->string,
               want ? want : "?", (unsigned long long)nnrp_field_get(base, fd));
      free(want);
    } else {
      continue;
    }
    harness_fail(file, line, msg);
    ok = 0;
  }
  size_t n = 0;
  const nnrp_field_desc *f = nnrp_struct_fields(id, &n);
  for (size_t i = 0; (flags & WC_EXACT) && i < n; i++) {
    if (cJSON_GetObjectItemCaseSensitive(obj, f[i].name) == NULL) {
      snprintf(msg, sizeof msg, "field %s of %s: not in the vector", f[i].name,
               nnrp_struct_name(id));
      harness_fail(file, line, msg);
      ok = 0;
    }
  }
  return ok;
}

static const nnrp_field_desc *field_or_die(int id, const char *name) {
  const nnrp_field_desc *fd = nnrp_field_find(id, name);
  if (fd == NULL)
    DIE(name);
  return fd;
}

uint64_t wc_field(int id, const void *base, const char *name) {
  return nnrp_field_get(base, field_or_die(id, name));
}

void wc_set_field(int id, void *base, const char *name, uint64_t v) {
  nnrp_field_set(base, field_or_die(id, name), v);
}

void wc_set_fields(int id, void *base, const cJSON *obj) {
  const cJSON *j;
  cJSON_ArrayForEach(j, obj) {
    uint64_t v = 0;
    (void)wc_jnum(j, &v);
    wc_set_field(id, base, j->string, v);
  }
}

static const nnrp_field_desc *fields_or_die(int id, size_t *n) {
  const nnrp_field_desc *f = nnrp_struct_fields(id, n);
  if (f == NULL)
    DIE("unknown struct id");
  return f;
}

size_t wc_struct_put(int id, const void *base, uint8_t *out) {
  size_t n, off = 0;
  const nnrp_field_desc *f = fields_or_die(id, &n);
  for (size_t i = 0; i < n; i++) {
    wc_put_le(out + off, f[i].size, nnrp_field_get(base, &f[i]));
    off += f[i].size;
  }
  return off;
}

size_t wc_struct_get(int id, void *base, const uint8_t *in) {
  size_t n, off = 0;
  const nnrp_field_desc *f = fields_or_die(id, &n);
  for (size_t i = 0; i < n; i++) {
    nnrp_field_set(base, &f[i], wc_get_le(in + off, f[i].size));
    off += f[i].size;
  }
  return off;
}

/* ---- Bytes ------------------------------------------------------------- */

void wc_put_le(uint8_t *p, unsigned width, uint64_t v) {
  for (unsigned i = 0; i < width; i++)
    p[i] = (uint8_t)(v >> (8 * i));
}

uint64_t wc_get_le(const uint8_t *p, unsigned width) {
  uint64_t v = 0;
  for (unsigned i = 0; i < width; i++)
    v |= (uint64_t)p[i] << (8 * i);
  return v;
}

size_t wc_span(const uint8_t *p, size_t n, uint8_t v) {
  size_t i = 0;
  while (i < n && p[i] == v)
    i++;
  return i;
}

int wc_all_eq(const uint8_t *p, size_t n, uint8_t v) {
  return wc_span(p, n, v) == n;
}

int wc_iov_has(const nnrp_out *o, const void *base, size_t len) {
  for (size_t i = 0; i < o->iov_len; i++)
    if (o->iov[i].base == base && o->iov[i].len == len)
      return 1;
  return 0;
}

/* ---- Faults ------------------------------------------------------------ */

int wc_fault_at(const char *file, int line, int rc, const nnrp_fault *f,
                int err, const char *field, uint64_t off, const char *sec) {
  int ok = harness_check_int(rc, err, file, line, "rc", "err");
  ok &= harness_check_int(f->err, err, file, line, "f.err", "err");
  ok &= harness_check_str(f->field, field, file, line, "f.field", field);
  ok &= harness_check_u64(f->offset, off, file, line, "f.offset", "off");
  ok &= harness_check(f->rule != NULL && strstr(f->rule, sec) != NULL, file,
                      line, "f.rule contains the section");
  return ok;
}

/* ---- Packets ----------------------------------------------------------- */

/* The descriptor of a message with metadata; aborts for any other type. */
static const nnrp_msg_desc *desc_or_die(uint8_t type) {
  const nnrp_msg_desc *d = nnrp__msg_desc(type);
  if (d == NULL || d->meta_dec == NULL || d->meta_enc == NULL)
    DIE("not a message with metadata");
  return d;
}

void wc_header_put(uint8_t *out, const nnrp_header *h) {
  memcpy(out, NNRP_MAGIC, 4);
  (void)wc_struct_put(NNRP_STRUCT_HEADER, h, out + 4);
}

size_t wc_packet(uint8_t *out, size_t cap, uint8_t type, uint32_t session_id,
                 const uint8_t *meta, const uint8_t *body, uint32_t body_len) {
  int ml = nnrp_msg_meta_len(type);
  if (ml < 0)
    DIE("unknown message type");
  size_t len = NNRP_HEADER_LEN + (size_t)ml + body_len;
  if (len > cap)
    DIE("packet buffer too small");
  nnrp_header h;
  memset(&h, 0, sizeof h);
  h.version_major = 1;
  h.msg_type = type;
  h.header_len = NNRP_HEADER_LEN;
  h.meta_len = (uint32_t)ml;
  h.body_len = body_len;
  h.session_id = session_id;
  wc_header_put(out, &h);
  if (ml > 0)
    memcpy(out + NNRP_HEADER_LEN, meta, (size_t)ml);
  if (body != NULL && body_len > 0)
    memcpy(out + NNRP_HEADER_LEN + ml, body, body_len);
  else
    memset(out + NNRP_HEADER_LEN + ml, 0, body_len);
  return len;
}

uint8_t *wc_packet_new(uint8_t type, uint32_t session_id, const uint8_t *meta,
                       const uint8_t *body, uint32_t body_len, size_t *len) {
  int ml = nnrp_msg_meta_len(type);
  size_t cap = NNRP_HEADER_LEN + (size_t)(ml > 0 ? ml : 0) + body_len;
  uint8_t *pkt = malloc(cap);
  if (pkt == NULL)
    DIE("out of memory");
  *len = wc_packet(pkt, cap, type, session_id, meta, body, body_len);
  return pkt;
}

int wc_decode(nnrp_packet *p, const uint8_t *buf, size_t len, uint32_t flags,
              nnrp_fault *f) {
  nnrp_wire_opts o;
  nnrp_wire_opts_default(&o);
  o.flags = flags;
  memset(p, 0, sizeof *p);
  memset(f, 0, sizeof *f);
  return nnrp_packet_decode(p, buf, len, &o, f);
}

int wc_decode_direct(nnrp_packet *p, const uint8_t *buf, size_t len,
                     uint32_t flags, nnrp_fault *f) {
  nnrp_wire_opts o;
  nnrp_wire_opts_default(&o);
  o.flags = flags;
  memset(p, 0, sizeof *p);
  memset(f, 0, sizeof *f);
  if (len < NNRP_HEADER_LEN)
    return NNRP_ERR_TRUNCATED;
  (void)wc_struct_get(NNRP_STRUCT_HEADER, &p->hdr, buf + 4);
  const nnrp_msg_desc *c = nnrp__msg_desc(p->hdr.msg_type);
  if (c == NULL || c->meta_dec == NULL || p->hdr.meta_len != c->meta_len ||
      (uint64_t)len !=
          NNRP_HEADER_LEN + (uint64_t)p->hdr.meta_len + p->hdr.body_len)
    return NNRP_ERR_INVALID_ARGUMENT; /* not a case these tests build */
  p->meta_raw.ptr = buf + NNRP_HEADER_LEN;
  p->meta_raw.len = c->meta_len;
  p->body_raw.ptr = buf + NNRP_HEADER_LEN + c->meta_len;
  p->body_raw.len = p->hdr.body_len;
  int rc = c->meta_dec(&p->m, p->meta_raw.ptr, flags, f);
  return rc != 0 ? rc : c->body_dec(p, &o, f);
}

int wc_body_dec(nnrp_packet *p, uint8_t type, const uint8_t *meta,
                uint32_t session_id, const uint8_t *body, uint32_t body_len,
                nnrp_fault *f) {
  static const uint8_t zeros[64];
  const nnrp_msg_desc *c = desc_or_die(type);
  if (body == NULL && body_len > sizeof zeros)
    DIE("body too long for the zero body");
  nnrp_wire_opts o;
  nnrp_wire_opts_default(&o);
  memset(p, 0, sizeof *p);
  p->hdr.version_major = 1;
  p->hdr.msg_type = type;
  p->hdr.header_len = NNRP_HEADER_LEN;
  p->hdr.meta_len = c->meta_len;
  p->hdr.body_len = body_len;
  p->hdr.session_id = session_id;
  p->meta_raw.ptr = meta;
  p->meta_raw.len = c->meta_len;
  p->body_raw.ptr = body ? body : zeros;
  p->body_raw.len = body_len;
  if (!CHECK_EQ_INT(wc_meta_dec(type, meta, 0, &p->m, f), 0))
    return NNRP_ERR_INTERNAL;
  memset(f, 0, sizeof *f);
  return c->body_dec(p, &o, f);
}

nnrp_bytes wc_body_view(const nnrp_packet *p) {
  switch (p->hdr.msg_type) {
  case NNRP_MSG_ERROR:
    return p->b.diagnostic;
  case NNRP_MSG_CACHE_PUT:
    return p->b.object;
  case NNRP_MSG_TRANSPORT_PROBE:
    return p->b.filler;
  case NNRP_MSG_SESSION_MIGRATE:
    return p->b.token;
  default:
    return p->body_raw;
  }
}

/* ---- Metadata blocks --------------------------------------------------- */

int wc_meta_decode(uint8_t type, const uint8_t *meta, uint32_t flags,
                   nnrp_meta *m, nnrp_fault *f) {
  int ml = nnrp_msg_meta_len(type);
  memset(f, 0, sizeof *f);
  return nnrp_meta_decode(type, m, meta, ml > 0 ? (size_t)ml : 0, flags, f);
}

int wc_meta_dec(uint8_t type, const uint8_t *meta, uint32_t flags, nnrp_meta *m,
                nnrp_fault *f) {
  const nnrp_msg_desc *c = desc_or_die(type);
  void *h = NULL;
  uint8_t *g = nnrp_test_guard_copy(meta, c->meta_len, &h);
  memset(m, 0, sizeof *m);
  memset(f, 0, sizeof *f);
  int rc = c->meta_dec(m, g, flags, f);
  nnrp_test_guard_free(h);
  return rc;
}

/* Copies the metadata of type at base into buf (128 bytes) with the
 * width-byte LE value val at off; returns meta_len. */
static size_t patched_copy(uint8_t type, uint8_t buf[128], const uint8_t *base,
                           size_t off, unsigned width, uint64_t val) {
  size_t ml = desc_or_die(type)->meta_len;
  if (ml > 128 || off + width > ml)
    DIE("patch outside the metadata");
  memcpy(buf, base, ml);
  wc_put_le(buf + off, width, val);
  return ml;
}

int wc_meta_dec_patched(uint8_t type, const uint8_t *base, size_t off,
                        unsigned width, uint64_t val, uint32_t flags,
                        nnrp_meta *m, nnrp_fault *f) {
  uint8_t buf[128];
  patched_copy(type, buf, base, off, width, val);
  return wc_meta_dec(type, buf, flags, m, f);
}

void wc_check_meta_enc(uint8_t type, const nnrp_meta *m,
                       const uint8_t *expect) {
  const nnrp_msg_desc *c = desc_or_die(type);
  uint8_t out[128 + 8];
  memset(out, 0xA5, sizeof out);
  c->meta_enc(m, out);
  CHECK_EQ_MEM(out, expect, c->meta_len);
  for (size_t i = c->meta_len; i < c->meta_len + 8u; i++)
    CHECK_EQ_U64(out[i], 0xA5);
}

int wc_patch_ok_at(const char *file, int line, uint8_t type,
                   const uint8_t *base, size_t off, unsigned width,
                   uint64_t val, uint32_t flags, const char *name,
                   uint64_t expect) {
  nnrp_meta m;
  nnrp_fault f;
  int rc = wc_meta_dec_patched(type, base, off, width, val, flags, &m, &f);
  int ok = harness_check_int(rc, 0, file, line, "patched decode", "0");
  if (name != NULL)
    ok &= harness_check_u64(wc_field(nnrp_meta_struct_id(type), &m, name),
                            expect, file, line, name, "expected");
  return ok;
}

int wc_patch_fault_at(const char *file, int line, uint8_t type,
                      const uint8_t *base, size_t off, unsigned width,
                      uint64_t val, uint32_t flags, const char *field,
                      uint64_t fault_off, const char *sec) {
  nnrp_meta m;
  nnrp_fault f;
  int rc = wc_meta_dec_patched(type, base, off, width, val, flags, &m, &f);
  return wc_fault_at(file, line, rc, &f, NNRP_ERR_MALFORMED_BODY, field,
                     fault_off, sec);
}

int wc_meta_roundtrip(uint8_t type, const uint8_t *meta, nnrp_meta *out) {
  nnrp_fault f;
  int ok = CHECK_EQ_INT(wc_meta_dec(type, meta, 0, out, &f), 0);
  wc_check_meta_enc(type, out, meta);
  return ok;
}

int wc_meta_fault_at(const char *file, int line, uint8_t type,
                     const uint8_t *meta, uint32_t flags, int err,
                     const char *field, uint32_t off) {
  nnrp_meta m;
  nnrp_fault f;
  int rc = wc_meta_decode(type, meta, flags, &m, &f);
  int ok = harness_check_int(rc, err, file, line, "meta decode rc", field);
  ok &= harness_check_str(f.field, field, file, line, "f.field", field);
  ok &= harness_check_int(f.offset, off, file, line, "f.offset", "off");
  return ok;
}

int wc_reserved_at(const char *file, int line, uint8_t type,
                   const uint8_t *base, size_t off, unsigned width,
                   uint64_t val, const char *rule, const char *field) {
  uint8_t buf[128];
  size_t ml = patched_copy(type, buf, base, off, width, val);
  nnrp_meta m;
  nnrp_fault f = {0};
  int rc = nnrp_meta_decode(type, &m, buf, ml, 0, &f);
  int ok = harness_check_int(rc, NNRP_ERR_MALFORMED_BODY, file, line, "strict",
                             "NNRP_ERR_MALFORMED_BODY");
  ok &= harness_check_int(f.err, NNRP_ERR_MALFORMED_BODY, file, line, "f.err",
                          "NNRP_ERR_MALFORMED_BODY");
  ok &= harness_check_str(f.rule, rule, file, line, "f.rule", rule);
  ok &= harness_check_str(f.field, field, file, line, "f.field", field);
  ok &= harness_check_u64(f.offset, off, file, line, "f.offset", "off");
  rc = nnrp_meta_decode(type, &m, buf, ml, NNRP_WIRE_LENIENT, &f);
  ok &= harness_check_int(rc, 0, file, line, "lenient", "0");
  ok &= harness_check_u64(wc_field(nnrp_meta_struct_id(type), &m, field), val,
                          file, line, field, "val");
  return ok;
}

/* ---- Vector checks ----------------------------------------------------- */

void wc_check_header(const cJSON *obj, const nnrp_header *h,
                     const uint8_t *pkt) {
  static const char *const skip[] = {"magic", NULL};
  WC_CHECK_FIELDS(obj, NNRP_STRUCT_HEADER, h, skip, 0);
  if (pkt != NULL) {
    CHECK_EQ_MEM(pkt, wc_jget(obj, "magic")->valuestring, 4);
  } else {
    const cJSON *magic = cJSON_GetObjectItemCaseSensitive(obj, "magic");
    if (magic != NULL)
      CHECK_EQ_STR(cJSON_GetStringValue(magic), NNRP_MAGIC);
  }
}

void wc_check_meta_vector(const char *name, const char *const *skip,
                          nnrp_meta *out) {
  const cJSON *v = wc_vec(name);
  uint8_t *bytes = NULL;
  size_t len = wc_vec_hex(name, &bytes);
  int t = nnrp_msg_type_from_name(wc_jget(v, "message_type")->valuestring);
  const nnrp_msg_desc *c = t > 0 ? nnrp__msg_desc((uint8_t)t) : NULL;
  if (!CHECK(c != NULL && c->meta_dec != NULL) ||
      !CHECK_EQ_U64(len, c->meta_len)) {
    free(bytes);
    return;
  }
  for (uint32_t mode = 0; mode <= NNRP_WIRE_LENIENT; mode++) {
    nnrp_meta m;
    nnrp_fault f;
    CHECK_EQ_INT(wc_meta_dec(c->type, bytes, mode, &m, &f), 0);
    WC_CHECK_FIELDS(wc_jget(v, "fields"), nnrp_meta_struct_id(c->type), &m,
                    skip, 0);
    wc_check_meta_enc(c->type, &m, bytes);
    if (out)
      *out = m;
  }
  free(bytes);
}

void wc_check_meta_golden(const char *name, nnrp_meta *out) {
  uint8_t *b = NULL, enc[128];
  size_t n = wc_vec_hex(name, &b);
  int t = nnrp_msg_type_from_name(
      wc_jget(wc_vec(name), "message_type")->valuestring);
  const nnrp_msg_desc *c = desc_or_die((uint8_t)t);
  size_t ml = c->meta_len;
  CHECK_EQ_INT(n, ml);
  void *h = NULL;
  uint8_t *g = nnrp_test_guard_copy(b, ml, &h);
  nnrp_meta m;
  nnrp_fault f = {0};
  CHECK_EQ_INT(nnrp_meta_decode(c->type, &m, g, ml, 0, &f), 0);
  WC_CHECK_FIELDS(wc_vec_fields(name), nnrp_meta_struct_id(c->type), &m, NULL,
                  WC_EXACT);
  memset(enc, 0xAA, sizeof enc);
  CHECK_EQ_INT(nnrp_meta_encode(c->type, &m, enc, ml), (int)ml);
  CHECK_EQ_MEM(enc, b, ml);
  memset(enc, 0xAA, sizeof enc);
  c->meta_enc(&m, enc);
  CHECK_EQ_MEM(enc, b, ml);
  memset(&m, 0, sizeof m);
  CHECK_EQ_INT(c->meta_dec(&m, g, 0, &f), 0);
  if (out != NULL)
    *out = m;
  WC_FAULT(nnrp_meta_decode(c->type, &m, g, ml - 1, 0, &f), f,
           NNRP_ERR_MALFORMED_BODY, "wire.md §15 step 13", "meta_len");
  nnrp_test_guard_free(h);
  free(b);
}

/* Header, metadata and body view of p re-encoded equal buf (len bytes). */
static void check_reencode(const nnrp_packet *p, int by_hand,
                           const uint8_t *buf, size_t len) {
  const nnrp_msg_desc *c = desc_or_die(p->hdr.msg_type);
  nnrp_bytes body = wc_body_view(p);
  uint8_t *out = malloc(len);
  if (out == NULL)
    DIE("out of memory");
  if (by_hand)
    wc_header_put(out, &p->hdr);
  else
    nnrp_header_encode(&p->hdr, out);
  c->meta_enc(&p->m, out + NNRP_HEADER_LEN);
  if (body.len)
    memcpy(out + NNRP_HEADER_LEN + c->meta_len, body.ptr, body.len);
  CHECK_EQ_MEM(out, buf, len);
  free(out);
}

void wc_check_packet_vector(const char *name) {
  const cJSON *fields = wc_vec_fields(name);
  uint8_t *buf = NULL;
  size_t len = wc_vec_hex(name, &buf);
  for (int path = 0; path < 2; path++) {
    nnrp_packet p;
    nnrp_fault f;
    int rc = path == 0 ? wc_decode(&p, buf, len, 0, &f)
                       : wc_decode_direct(&p, buf, len, 0, &f);
    if (!CHECK_EQ_INT(rc, 0))
      continue;
    wc_check_header(wc_jget(fields, "header"), &p.hdr, buf);
    WC_CHECK_FIELDS(wc_jget(fields, "metadata"),
                    nnrp_meta_struct_id(p.hdr.msg_type), &p.m, NULL, 0);
    const nnrp_msg_desc *c = desc_or_die(p.hdr.msg_type);
    CHECK(p.meta_raw.ptr == buf + NNRP_HEADER_LEN);
    CHECK_EQ_U64(p.meta_raw.len, c->meta_len);
    nnrp_bytes body = wc_body_view(&p);
    CHECK_EQ_U64(body.len, p.hdr.body_len);
    if (body.len) /* zero copy */
      CHECK(body.ptr == buf + NNRP_HEADER_LEN + c->meta_len);
    check_reencode(&p, path == 1, buf, len);
  }
  free(buf);
}

int wc_check_meta_vectors(uint8_t t1, uint8_t t2) {
  int seen = 0;
  const cJSON *v;
  cJSON_ArrayForEach(v, wc_vectors()) {
    const char *mt = wc_jget(v, "message_type")->valuestring;
    const char *name = wc_jget(v, "name")->valuestring;
    if (strcmp(wc_jget(v, "kind")->valuestring, "metadata") != 0 ||
        (strcmp(mt, nnrp_msg_type_name(t1)) != 0 &&
         strcmp(mt, nnrp_msg_type_name(t2)) != 0))
      continue;
    seen++;
    uint8_t type = (uint8_t)nnrp_msg_type_from_name(mt);
    uint8_t *bytes = NULL;
    size_t n = wc_vec_hex(name, &bytes);
    CHECK_EQ_INT(n, nnrp_msg_meta_len(type));
    nnrp_meta m;
    nnrp_fault f;
    if (CHECK_EQ_INT(nnrp_meta_decode(type, &m, bytes, n, 0, &f), 0)) {
      WC_CHECK_FIELDS(wc_jget(v, "fields"), nnrp_meta_struct_id(type), &m, NULL,
                      0);
      uint8_t out[128];
      CHECK_EQ_INT(nnrp_meta_encode(type, &m, out, sizeof out), (int)n);
      CHECK_EQ_MEM(out, bytes, n);
    } else {
      fprintf(stderr, "  %s: %s %s\n", name, f.rule, f.field);
    }
    free(bytes);
  }
  return seen;
}

/* Vector names of the extension payload fields that differ from the
 * wire.md field names of nnrp_ext_transport_policy, nnrp_ext_loss_tolerance
 * and nnrp_ext_payload_caps. */
static const char *ext_wire_name(const char *name) {
  static const char *const alias[][2] = {
      {"reserved_u8", "accepted_transport_policy"},
      {"reserved_u16", "reserved"},
      {"preferred_transport_id", "transport_id"},
      {"active_transport_id", "transport_id"},
      {"session_loss_tolerance", "loss_tolerance"},
      {"accepted_loss_tolerance", "loss_tolerance"},
      {"accepted_payload_kind_bitmap", "payload_kind_bitmap"},
      {"accepted_critical_extension_frame_bitmap",
       "critical_extension_frame_bitmap"}};
  for (size_t i = 0; i < sizeof alias / sizeof alias[0]; i++)
    if (strcmp(alias[i][0], name) == 0)
      return alias[i][1];
  return name;
}

/* The value of extension payload field name (vector naming) in x; 0 when
 * no standard extension struct has it. */
static int ext_field(const nnrp_hello_exts *x, const char *name, uint64_t *v) {
  const struct {
    int id;
    const void *base;
  } s[] = {{NNRP_STRUCT_EXT_TRANSPORT_POLICY, &x->transport_policy},
           {NNRP_STRUCT_EXT_LOSS_TOLERANCE, &x->loss_tolerance},
           {NNRP_STRUCT_EXT_PAYLOAD_CAPS, &x->payload_caps}};
  for (size_t i = 0; i < sizeof s / sizeof s[0]; i++) {
    const nnrp_field_desc *fd = nnrp_field_find(s[i].id, ext_wire_name(name));
    if (fd != NULL) {
      *v = nnrp_field_get(s[i].base, fd);
      return 1;
    }
  }
  return 0;
}

void wc_check_ext_entry(const cJSON *obj, const nnrp_ext_entry *e,
                        const nnrp_hello_exts *x) {
  char msg[160];
  const cJSON *j;
  cJSON_ArrayForEach(j, obj) {
    const char *k = j->string;
    uint64_t got = 0;
    if (strcmp(k, "ext_type") == 0)
      got = e->ext_type;
    else if (strcmp(k, "ext_flags") == 0)
      got = e->ext_flags;
    else if (strcmp(k, "ext_len") == 0)
      got = e->payload.len;
    else if (!ext_field(x, k, &got)) {
      snprintf(msg, sizeof msg, "extension field %s: no mapping", k);
      harness_fail(__FILE__, __LINE__, msg);
      continue;
    }
    if (!wc_json_eq(j, got)) {
      snprintf(msg, sizeof msg, "extension field %s: decoded %llu", k,
               (unsigned long long)got);
      harness_fail(__FILE__, __LINE__, msg);
    }
  }
}

/* ---- Tensor and composed bodies ---------------------------------------- */

int wc_data_decode(uint8_t type, const nnrp_meta *m, const uint8_t *body,
                   size_t len, uint32_t flags, nnrp_data_body *b,
                   nnrp_fault *f) {
  nnrp_wire_opts o;
  nnrp_wire_opts_default(&o);
  o.flags = flags;
  return nnrp_data_body_decode(type, m, b, body, len, &o, f);
}

void wc_check_tile_ids(const nnrp_tile_index *ti, const cJSON *ids) {
  nnrp_tile_iter it;
  uint32_t id = 0;
  int n = 0;
  nnrp_tile_iter_init(&it, ti);
  const cJSON *e;
  cJSON_ArrayForEach(e, ids) {
    uint64_t want = 0;
    if (!CHECK(nnrp_tile_iter_next(&it, &id) == 1))
      return;
    (void)wc_jnum(e, &want);
    CHECK_EQ_U64(id, want);
    n++;
  }
  CHECK_EQ_INT(nnrp_tile_iter_next(&it, &id), 0);
  CHECK_EQ_INT(n, ti->count);
}

/* Tile i of the "tiles" hex array equals the tile view t. */
static void check_tile(nnrp_bytes t, const cJSON *tiles, int i) {
  uint8_t *want = NULL;
  size_t n =
      nnrp_test_hex_decode(cJSON_GetArrayItem(tiles, i)->valuestring, &want);
  CHECK_EQ_INT(t.len, n);
  if (t.len == n)
    CHECK_EQ_MEM(t.ptr, want, n);
  free(want);
}

void wc_check_section(const nnrp_section_view *s, const cJSON *js) {
  static const char *const skip[] = {"codec_ids", "tiles", NULL};
  WC_CHECK_FIELDS(js, NNRP_STRUCT_SECTION_DESC, &s->desc, skip, WC_EXACT);
  const cJSON *codecs = wc_jget(js, "codec_ids");
  const cJSON *tiles = wc_jget(js, "tiles");
  CHECK_EQ_INT(s->tile_count, cJSON_GetArraySize(tiles));
  nnrp_tile_data_iter it;
  nnrp_tile_data_iter_init(&it, s);
  for (int i = 0; i < cJSON_GetArraySize(tiles); i++) {
    nnrp_bytes t;
    uint8_t codec = 0xEE;
    if (!CHECK(nnrp_tile_data_iter_next(&it, &t, &codec) == 1))
      return;
    check_tile(t, tiles, i);
    uint64_t wc = s->desc.codec_id;
    if (cJSON_IsArray(codecs))
      (void)wc_jnum(cJSON_GetArrayItem(codecs, i), &wc);
    CHECK_EQ_INT(codec, wc);
  }
  nnrp_bytes t;
  CHECK_EQ_INT(nnrp_tile_data_iter_next(&it, &t, NULL), 0);
}

void wc_check_sections(const nnrp_tensor_view *tv, const cJSON *secs) {
  nnrp_section_iter it;
  nnrp_section_view s;
  nnrp_section_iter_init(&it, tv);
  CHECK_EQ_INT(tv->section_count, cJSON_GetArraySize(secs));
  const cJSON *js;
  cJSON_ArrayForEach(js, secs) {
    if (!CHECK(nnrp_section_iter_next(&it, &s) == 1))
      return;
    wc_check_section(&s, js);
  }
  CHECK_EQ_INT(nnrp_section_iter_next(&it, &s), 0);
}

size_t wc_compose(uint8_t *out, const nnrp_bytes r[NNRP_REGION_COUNT]) {
  size_t off = 32;
  memset(out, 0, 32);
  for (int i = 0; i < NNRP_REGION_COUNT; i++) {
    wc_put_le(out + 4 * i, 4, r[i].len);
    if (r[i].len)
      memcpy(out + off, r[i].ptr, r[i].len);
    off += r[i].len;
  }
  return off;
}

size_t wc_inline_block(uint8_t *out, uint16_t kind, const void *data,
                       uint32_t n) {
  size_t total = (16u + n + 7u) & ~(size_t)7u;
  memset(out, 0, total);
  wc_put_le(out, 2, kind);
  wc_put_le(out + 8, 4, n);
  if (n)
    memcpy(out + 16, data, n);
  return total;
}

size_t wc_ref_block(uint8_t *out, uint16_t kind, uint32_t ns, uint32_t hi,
                    uint32_t lo) {
  memset(out, 0, 16);
  wc_put_le(out, 2, kind);
  wc_put_le(out + 4, 4, ns);
  wc_put_le(out + 8, 4, hi);
  wc_put_le(out + 12, 4, lo);
  return 16;
}
