/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_conformance_p4.c - the later revisions of the public conformance
 * suite on the seed line (shared/vectors/README.md §3, §4): preview4 cases
 * whose checked-in hex still applies decode and re-encode byte-exact, those
 * that do not are rejected by the strict decoder (MALFORMED_BODY, named
 * field); the preview4/preview3 FLOW_UPDATE and header recipes encode to
 * the seed-line golden hex; the preview3 header and FLOW_UPDATE behaviours
 * run on seed-line packets. Every case id of both suites is executed or
 * skipped with a reason. preview2: test_conformance.c; docs/conformance.md.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "vectors.h"
#include "wire/wire_int.h"

#define P3 "conformance/protocol/nnrp-1-preview3/"
#define P4 "conformance/protocol/nnrp-1-preview4/"
#define PKT_CAP 8192u
#define MB NNRP_ERR_MALFORMED_BODY
#define LENIENT NNRP_WIRE_LENIENT
#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

static cJSON *g_seed;        /* seed-line.json */
static cJSON *g_p4_baseline; /* nnrp1-baseline-core.json */

/* ---- Failure accounting (as in test_conformance.c) --------------------- */

static unsigned g_fails;
static int note(int ok) {
  if (!ok)
    g_fails++;
  return ok;
}
#define CK(c) note(CHECK(c))
#define CK_INT(a, b) note(CHECK_EQ_INT(a, b))
#define CK_U64(a, b) note(CHECK_EQ_U64(a, b))
#define CK_MEM(a, b, n) note(CHECK_EQ_MEM(a, b, n))
#define CK_STR(a, b) note(CHECK_EQ_STR(a, b))

static void fail_at(int line, const char *what, const char *name) {
  char msg[256];
  snprintf(msg, sizeof msg, "%s: %s", what, name ? name : "(null)");
  harness_fail(__FILE__, line, msg);
  g_fails++;
}
#define FAIL(what, name) fail_at(__LINE__, what, name)

/* ---- JSON with exact 64-bit integers ----------------------------------- */

/* Copies JSON text, quoting integer literals of 16 or more digits: cJSON
 * keeps numbers as doubles (exact below 2^53) and the recipes carry 64-bit
 * trace ids. json_u64() reads both forms. */
static void quote_big_ints(const char *in, size_t n, char *out) {
  size_t o = 0, i = 0;
  int str = 0, esc = 0;
  char prev = 0; /* last non-space character outside strings */
  while (i < n) {
    char c = in[i];
    if (str) {
      out[o++] = c;
      i++;
      esc = !esc && c == '\\';
      str = esc || c != '"';
      continue;
    }
    if (isdigit((unsigned char)c) &&
        (prev == ':' || prev == ',' || prev == '[')) {
      size_t j = i;
      while (j < n && isdigit((unsigned char)in[j]))
        j++;
      int q =
          j - i >= 16 && j < n && in[j] != '.' && in[j] != 'e' && in[j] != 'E';
      out[o] = '"';
      o += (size_t)q;
      memcpy(out + o, in + i, j - i);
      o += j - i;
      out[o] = '"';
      o += (size_t)q;
      i = j;
      prev = '0';
      continue;
    }
    str = c == '"';
    if (!isspace((unsigned char)c))
      prev = c;
    out[o++] = c;
    i++;
  }
  out[o] = '\0';
}

static cJSON *load_exact(const char *rel) {
  char path[4096];
  snprintf(path, sizeof path, "%s/%s", nnrp_test_vectors_dir(), rel);
  FILE *fp = fopen(path, "rb");
  char *text = NULL, *q = NULL;
  size_t n = 0, cap = 0, got = 1;
  while (fp != NULL && got != 0) {
    if (n + 4096 > cap && (text = realloc(text, cap = 2 * cap + 4096)) == NULL)
      harness_die(__FILE__, __LINE__, "out of memory");
    got = fread(text + n, 1, cap - n, fp);
    n += got;
  }
  if (fp == NULL || (q = malloc(2 * n + 1)) == NULL)
    harness_die(__FILE__, __LINE__, path);
  fclose(fp);
  quote_big_ints(text, n, q);
  cJSON *j = cJSON_Parse(q);
  free(text);
  free(q);
  if (j == NULL)
    harness_die(__FILE__, __LINE__, path);
  return j;
}

/* A JSON number (exact below 2^53) or a decimal / "0x" string. */
static int json_u64(const cJSON *it, uint64_t *out) {
  if (cJSON_IsNumber(it)) {
    double d = it->valuedouble;
    if (!(d >= 0.0 && d <= 9007199254740992.0) || d != (double)(uint64_t)d)
      return 0;
    *out = (uint64_t)d;
    return 1;
  }
  if (!cJSON_IsString(it))
    return 0;
  const char *s = it->valuestring;
  int base = s[0] == '0' && (s[1] == 'x' || s[1] == 'X') ? 16 : 10;
  s += base == 16 ? 2 : 0;
  char *end;
  errno = 0;
  unsigned long long v = strtoull(s, &end, base);
  if (!isxdigit((unsigned char)s[0]) || errno != 0 ||
      (*end != '\0' && *end != ' '))
    return 0;
  *out = (uint64_t)v;
  return 1;
}

static const char *jstr(const cJSON *o, const char *key) {
  const cJSON *it = cJSON_GetObjectItemCaseSensitive(o, key);
  return cJSON_IsString(it) ? it->valuestring : NULL;
}

static const cJSON *find_by(const cJSON *list, const char *key,
                            const char *val) {
  const cJSON *it;
  cJSON_ArrayForEach(it, list) {
    const char *s = jstr(it, key);
    if (s != NULL && strcmp(s, val) == 0)
      return it;
  }
  return NULL;
}

static const cJSON *seed_vec(const char *name) {
  const cJSON *v = find_by(cJSON_GetObjectItemCaseSensitive(g_seed, "vectors"),
                           "name", name);
  if (v == NULL)
    harness_die(__FILE__, __LINE__, name);
  return v;
}

static size_t vec_bytes(const char *name, uint8_t **out) {
  const char *hex = jstr(seed_vec(name), "hex");
  if (hex == NULL)
    harness_die(__FILE__, __LINE__, name);
  return nnrp_test_hex_decode(hex, out);
}

/* The checked-in hex parameter key of a baseline-core case. */
static size_t case_hex(const cJSON *file, const char *id, const char *key,
                       uint8_t **out) {
  const cJSON *c =
      find_by(cJSON_GetObjectItemCaseSensitive(file, "cases"), "id", id);
  const char *hex =
      jstr(cJSON_GetObjectItemCaseSensitive(c, "parameters"), key);
  if (hex == NULL)
    harness_die(__FILE__, __LINE__, id);
  return nnrp_test_hex_decode(hex, out);
}

/* Published fields of a seed vector equal a struct (reflection). */
static void fields_compare(const cJSON *fields, int sid, const void *base) {
  const cJSON *it;
  cJSON_ArrayForEach(it, fields) {
    const nnrp_field_desc *fd = nnrp_field_find(sid, it->string);
    uint64_t v;
    if (fd == NULL || !json_u64(it, &v))
      FAIL("vector field not comparable", it->string);
    else if (!CK_U64(nnrp_field_get(base, fd), v))
      printf("  field %s\n", it->string);
  }
}

/* ---- Packet helpers ---------------------------------------------------- */

static void put_le(uint8_t *p, uint64_t v, unsigned width) {
  for (unsigned i = 0; i < width; i++)
    p[i] = (uint8_t)(v >> (8u * i));
}

static int pkt_decode(nnrp_packet *p, const uint8_t *b, size_t n,
                      uint32_t flags, nnrp_fault *f) {
  nnrp_wire_opts o;
  nnrp_wire_opts_default(&o);
  o.flags = flags;
  memset(f, 0, sizeof(*f));
  return nnrp_packet_decode(p, b, n, &o, f);
}

/* Decodes pkt with v (width bytes) at off; expects err and field. */
static int pkt_patch(const uint8_t *pkt, size_t n, size_t off, uint64_t v,
                     unsigned width, uint32_t flags, int err,
                     const char *field) {
  uint8_t buf[PKT_CAP];
  nnrp_packet p;
  nnrp_fault f;
  memcpy(buf, pkt, n);
  put_le(buf + off, v, width);
  int rc = pkt_decode(&p, buf, n, flags, &f);
  int ok = CK_INT(rc, err) && (err == 0 || CK_STR(f.field, field));
  if (!ok)
    printf("  patch @%zu = %llu (flags %u)\n", off, (unsigned long long)v,
           (unsigned)flags);
  return ok;
}

/* Decodes (strict) and rebuilds a control packet: same bytes. */
static int reemit_control(const uint8_t *pkt, size_t n) {
  nnrp_packet p;
  nnrp_fault f;
  uint8_t out[PKT_CAP];
  nnrp_out o;
  if (!CK_INT(pkt_decode(&p, pkt, n, 0, &f), 0))
    return 0;
  nnrp_meta m = p.m;
  nnrp_out_init(&o, out, sizeof out, NULL, 0);
  return CK_INT(nnrp_build_control(&o, &p.hdr, &m, NULL, &f), 0) &&
         CK_U64(o.total, n) && CK_MEM(out, pkt, n);
}

/* A FRAME_SUBMIT (session 7, frame 1) with the given metadata and a
 * composed body: a prelude with the six region lengths, then the regions
 * (hand-made input, not an oracle). out holds PKT_CAP bytes. Returns the
 * packet length. */
static size_t composed(nnrp_frame_submit *m, const nnrp_bytes r[6],
                       uint8_t *out) {
  nnrp_header h;
  nnrp_meta meta;
  size_t off = NNRP_HEADER_LEN + 72 + 32;
  nnrp_header_init(&h, NNRP_MSG_FRAME_SUBMIT);
  h.session_id = 7;
  h.frame_id = 1;
  memset(out + NNRP_HEADER_LEN + 72, 0, 32);
  for (int i = 0; i < NNRP_REGION_COUNT; i++)
    if ((off += r[i].len) > PKT_CAP)
      harness_die(__FILE__, __LINE__, "composed body too large");
  off = NNRP_HEADER_LEN + 72 + 32;
  for (int i = 0; i < NNRP_REGION_COUNT; i++) {
    put_le(out + NNRP_HEADER_LEN + 72 + 4 * i, r[i].len, 4);
    if (r[i].len != 0)
      memcpy(out + off, r[i].ptr, r[i].len);
    off += r[i].len;
  }
  h.body_len = (uint32_t)(off - NNRP_HEADER_LEN - 72);
  nnrp_header_encode(&h, out);
  meta.frame_submit = *m;
  nnrp_meta_encode(NNRP_MSG_FRAME_SUBMIT, &meta, out + NNRP_HEADER_LEN, 72);
  return off;
}

/* Decodes a typed-only FRAME_SUBMIT, rebuilds it from the decoded typed
 * frames and compares the bodies (the metadata is ours, not published). */
static void reemit_typed(const uint8_t *pkt, size_t n) {
  static uint8_t out[PKT_CAP];
  nnrp_typed_frame tf[8];
  nnrp_body_storage st = {.typed = tf, .typed_cap = COUNT(tf)};
  nnrp_body_data b;
  nnrp_packet p;
  nnrp_fault f = {0};
  nnrp_out o;
  if (!CK_INT(pkt_decode(&p, pkt, n, 0, &f), 0) ||
      !CK_INT(
          nnrp_body_data_from_view(p.hdr.msg_type, &p.m, &p.b.data, &b, &st),
          0))
    return;
  nnrp_meta m = p.m;
  nnrp_out_init(&o, out, sizeof out, NULL, 0);
  if (CK_INT(nnrp_build_frame_submit(&o, &p.hdr, &m.frame_submit, &b, &f), 0) &&
      CK_U64(o.total, n))
    CK_MEM(out + NNRP_HEADER_LEN + 72, pkt + NNRP_HEADER_LEN + 72,
           n - NNRP_HEADER_LEN - 72);
}

/* ---- preview4 cases that apply (README §3 "yes") ----------------------- */

static cJSON *g_p4_header; /* common-header-core.json */

static void p4_header(void) {
  uint8_t *h, *g, enc[NNRP_HEADER_LEN];
  nnrp_header d;
  nnrp_wire_opts o;
  nnrp_fault f;
  size_t n =
      case_hex(g_p4_header, "l0.header.fixed_shape.golden", "header_hex", &h);
  size_t gn = vec_bytes("header.frame_submit_ack_required_keyframe", &g);
  nnrp_wire_opts_default(&o);
  if (CK_U64(n, gn) && CK_MEM(h, g, n) &&
      CK_INT(nnrp_header_decode(&d, h, n, &o, &f), 0)) {
    nnrp_header_encode(&d, enc);
    CK_MEM(enc, h, n);
    CK_U64(d.flags, NNRP_FLAG_ACK_REQUIRED | NNRP_FLAG_KEYFRAME);
  }
  free(h);
  free(g);
}

/* Metadata hex of a baseline case = the seed vector; decode, published
 * fields, re-encode. Returns the decoded metadata in *m. */
static void p4_meta(const char *id, const char *vec, nnrp_meta *m) {
  uint8_t *b, *g, enc[128];
  nnrp_fault f = {0};
  const cJSON *v = seed_vec(vec);
  int msg = nnrp_msg_type_from_name(jstr(v, "message_type"));
  size_t n = case_hex(g_p4_baseline, id, "metadata_hex", &b);
  size_t gn = vec_bytes(vec, &g);
  if (CK(msg > 0) && CK_U64(n, gn) && CK_MEM(b, g, n) &&
      CK_INT(nnrp_meta_decode((uint8_t)msg, m, b, n, 0, &f), 0)) {
    fields_compare(cJSON_GetObjectItemCaseSensitive(v, "fields"),
                   nnrp_meta_struct_id((uint8_t)msg), m);
    if (CK_INT(nnrp_meta_encode((uint8_t)msg, m, enc, sizeof enc), (int)n))
      CK_MEM(enc, b, n);
  }
  free(b);
  free(g);
}

static void p4_client_hello(void) {
  nnrp_meta m;
  p4_meta("l0.control.client_hello.golden", "metadata.client_hello.baseline",
          &m);
}

static void p4_patch_ack(void) {
  nnrp_meta m;
  p4_meta("l0.control.session_patch_ack.golden",
          "metadata.session_patch_ack.baseline", &m);
}

static void p4_packet(const char *id, const char *vec) {
  uint8_t *b, *g;
  size_t n = case_hex(g_p4_baseline, id, "packet_hex", &b);
  size_t gn = vec_bytes(vec, &g);
  if (CK_U64(n, gn) && CK_MEM(b, g, n))
    CK(reemit_control(b, n));
  free(b);
  free(g);
}

static void p4_flow(void) {
  p4_packet("l0.flow_update.packet.golden",
            "packet.flow_update.session_congestion_hard");
}

static void p4_hint(void) {
  p4_packet("l0.result_hint.packet.golden", "packet.result_hint");
}

/* The 16-byte descriptor as the second of two typed frames (its
 * payload_offset is covered by a first frame), decoded and re-emitted. */
static void p4_typed_desc(void) {
  static const uint8_t frames[64] = {'x'};
  uint8_t *d, *g, desc[32] = {0}, pkt[PKT_CAP];
  nnrp_frame_submit m = {0};
  nnrp_typed_frame t;
  nnrp_packet p;
  nnrp_fault f;
  size_t n = case_hex(g_p4_baseline, "l0.typed_payload.descriptor.golden",
                      "descriptor_hex", &d);
  const cJSON *v = seed_vec("descriptor.typed_payload.structured_event");
  size_t gn = vec_bytes("descriptor.typed_payload.structured_event", &g);
  uint32_t off = nnrp_rd32(d + 4), len = nnrp_rd32(d + 8);
  if (CK_U64(n, 16) && CK_U64(gn, n) && CK_MEM(d, g, n) &&
      CK(off != 0 && off + len <= sizeof frames)) {
    desc[0] = NNRP_PAYLOAD_KIND_TOKEN_CHUNK; /* frame 0: [0, off) */
    put_le(desc + 8, off, 4);
    memcpy(desc + 16, d, 16);
    m.payload_kind_bitmap = NNRP_PAYLOAD_KIND_TOKEN_CHUNK | d[0];
    m.payload_frame_count = 2;
    const nnrp_bytes r[6] = {{0}, {0}, {desc, 32}, {frames, off + len},
                             {0}, {0}};
    size_t k = composed(&m, r, pkt);
    if (CK_INT(pkt_decode(&p, pkt, k, 0, &f), 0) &&
        CK_INT(nnrp_data_body_typed(&p.b.data, 1, &t), 0))
      fields_compare(cJSON_GetObjectItemCaseSensitive(v, "fields"),
                     NNRP_STRUCT_TYPED_FRAME, &t);
    reemit_typed(pkt, k);
  }
  free(d);
  free(g);
}

/* Descriptor region + payload region as one typed-only composed body. */
static void p4_typed_regions(void) {
  uint8_t *d, *pl, *gd, *gp, pkt[PKT_CAP];
  nnrp_frame_submit m = {0};
  nnrp_packet p;
  nnrp_fault f;
  const char *id = "l0.typed_payload.frame_regions.golden";
  size_t nd = case_hex(g_p4_baseline, id, "descriptor_region_hex", &d);
  size_t np = case_hex(g_p4_baseline, id, "payload_hex", &pl);
  size_t ngd =
      vec_bytes("descriptor.typed_payload.region_token_audio_video_event", &gd);
  size_t ngp = vec_bytes("body.typed_payload.frame_region", &gp);
  if (CK_U64(nd, ngd) && CK_MEM(d, gd, nd) && CK_U64(np, ngp) &&
      CK_MEM(pl, gp, np) && CK(nd % 16 == 0)) {
    for (size_t i = 0; i < nd; i += 16)
      m.payload_kind_bitmap |= d[i];
    m.payload_frame_count = (uint16_t)(nd / 16);
    const nnrp_bytes r[6] = {{0}, {0}, {d, nd}, {pl, np}, {0}, {0}};
    size_t k = composed(&m, r, pkt);
    if (CK_INT(pkt_decode(&p, pkt, k, 0, &f), 0))
      CK_U64(p.b.data.typed_count, nd / 16);
    reemit_typed(pkt, k);
  }
  free(d);
  free(pl);
  free(gd);
  free(gp);
}

/* Same layout, other values: result_flags 0x0005 (STALE | PARTIAL); the
 * bytes differ from the seed-line golden only at result_flags. */
static void p4_result(void) {
  nnrp_meta m;
  uint8_t *b, *g, enc[64];
  nnrp_fault f = {0};
  size_t n = case_hex(g_p4_baseline, "l0.result_push.metadata.golden",
                      "metadata_hex", &b);
  size_t gn = vec_bytes("metadata.result_push.partial_stale", &g);
  if (CK_U64(n, 64) && CK_U64(gn, n) &&
      CK_INT(nnrp_meta_decode(NNRP_MSG_RESULT_PUSH, &m, b, n, 0, &f), 0)) {
    CK_U64(m.result_push.result_flags,
           NNRP_RESULT_FLAG_STALE | NNRP_RESULT_FLAG_PARTIAL);
    CK_INT(nnrp_meta_encode(NNRP_MSG_RESULT_PUSH, &m, enc, sizeof enc), 64);
    CK_MEM(enc, b, n);
    CK_MEM(b, g, 2);
    CK_MEM(b + 4, g + 4, n - 4);
    CK(b[2] != g[2]);
  }
  free(b);
  free(g);
}

/* ---- preview4 cases that MUST be rejected (README §3 "no") ------------- */

/* operation_id at bytes 40-47 lands in reserved1/reserved2: strict rejects
 * (reserved1 first), lenient ignores reserved fields; the rest of the bytes
 * are the seed-line golden. */
static void p4_no_submit_meta(void) {
  nnrp_meta m;
  nnrp_fault f = {0};
  uint8_t *b, *g;
  size_t n = case_hex(g_p4_baseline, "l0.frame_submit.metadata.golden",
                      "metadata_hex", &b);
  size_t gn = vec_bytes("metadata.frame_submit.mixed", &g);
  if (CK_U64(n, 72) && CK_U64(gn, n)) {
    CK_INT(nnrp_meta_decode(NNRP_MSG_FRAME_SUBMIT, &m, b, n, 0, &f), MB);
    CK_STR(f.field, "reserved1");
    CK_INT(nnrp_meta_decode(NNRP_MSG_FRAME_SUBMIT, &m, b, n, LENIENT, &f), 0);
    CK_MEM(b, g, 40);
    CK_MEM(b + 48, g + 48, n - 48);
  }
  free(b);
  free(g);
}

/* A composed FRAME_SUBMIT with the preview4 prelude (24-byte reference and
 * descriptor regions) and zero-filled regions of the declared sizes. */
static void p4_no_prelude(void) {
  static const uint8_t zeros[512];
  uint8_t *b, pkt[PKT_CAP];
  nnrp_frame_submit m = {0};
  nnrp_packet p;
  nnrp_fault f;
  size_t n = case_hex(g_p4_baseline, "l0.body_region.prelude.golden",
                      "metadata_hex", &b);
  nnrp_bytes r[6];
  for (int i = 0; CK_U64(n, 32) && i < NNRP_REGION_COUNT; i++)
    r[i] = (nnrp_bytes){zeros, nnrp_rd32(b + 4 * i)};
  m.payload_kind_bitmap = NNRP_PAYLOAD_KIND_TOKEN_CHUNK;
  m.payload_frame_count = 1;
  size_t k = composed(&m, r, pkt);
  CK_MEM(pkt + NNRP_HEADER_LEN + 72, b, 32); /* the published prelude */
  for (int i = 0; i < 2; i++) {
    if (CK_INT(pkt_decode(&p, pkt, k, i ? LENIENT : 0, &f), MB))
      CK_STR(f.field, "object_reference_bytes");
  }
  free(b);
}

/* The 24-byte reference in the reference region of a MIXED submit. */
static void p4_no_ref(void) {
  uint8_t *b, *g, pkt[PKT_CAP];
  nnrp_frame_submit m = {0};
  nnrp_packet p;
  nnrp_fault f;
  size_t n = case_hex(g_p4_baseline, "l0.object_reference.block.golden",
                      "metadata_hex", &b);
  size_t gn = vec_bytes("descriptor.object_reference.tile_index_block", &g);
  m.submit_mode = NNRP_SUBMIT_MODE_MIXED;
  m.object_ref_mask = NNRP_SLOT_TILE_INDEX;
  const nnrp_bytes r[6] = {{0}, {b, n}, {0}, {0}, {0}, {0}};
  size_t k = composed(&m, r, pkt);
  if (CK_U64(n, 24) && CK_INT(pkt_decode(&p, pkt, k, 0, &f), MB))
    CK_STR(f.field, "object_reference_bytes");
  /* Read as 16 bytes it would name another key (u64 halves): never equal
   * to the seed-line reference of the same recipe. */
  CK(gn == 16 && memcmp(b, g, 16) != 0);
  free(b);
  free(g);
}

/* The 24-byte "current" typed descriptor in a typed-only submit. */
static void p4_no_typed_current(void) {
  static const uint8_t frames[64];
  cJSON *file = nnrp_test_load_json(P4 "cases/typed-payload-core.json");
  uint8_t *b, pkt[PKT_CAP];
  nnrp_frame_submit m = {0};
  nnrp_packet p;
  nnrp_fault f;
  size_t n = case_hex(file, "l0.typed_payload.descriptor.current.golden",
                      "descriptor_hex", &b);
  m.payload_kind_bitmap = b[0];
  m.payload_frame_count = 1;
  const nnrp_bytes r[6] = {{0}, {0}, {b, n}, {frames, sizeof frames}, {0}, {0}};
  size_t k = composed(&m, r, pkt);
  if (CK_U64(n, 24) && CK_INT(pkt_decode(&p, pkt, k, 0, &f), MB))
    CK_STR(f.field, "typed_payload_descriptor_bytes");
  free(b);
  cJSON_Delete(file);
}

/* ---- preview4 nnrp1-baseline L1 behaviours the seed line shares -------- */

static void p4_l1_flow(void) {
  uint8_t *g;
  size_t n = vec_bytes("packet.flow_update.session_congestion_hard", &g);
  CK(reemit_control(g, n));
  pkt_patch(g, n, 40 + 28, 0x1, 4, 0, MB, "retry_after_ms");
  pkt_patch(g, n, 40 + 28, 0x13, 4, LENIENT, MB, "flow_flags");
  pkt_patch(g, n, 40 + 4, 1, 2, 0, MB, "connection_credit"); /* SESSION */
  free(g);
}

static void p4_l1_hint(void) {
  uint8_t *g;
  size_t n = vec_bytes("packet.result_hint", &g);
  CK(reemit_control(g, n));
  pkt_patch(g, n, 40 + 8, 99, 4, 0, MB, "reason");
  pkt_patch(g, n, 40 + 8, 99, 4, LENIENT, MB, "reason");
  free(g);
}

/* TRANSPORT_PROBE / _ACK metadata (derived vectors) in packets. */
static void p4_l1_probe(void) {
  static const char *const names[] = {"metadata.transport_probe",
                                      "metadata.transport_probe_ack"};
  for (size_t i = 0; i < COUNT(names); i++) {
    uint8_t *g, pkt[PKT_CAP];
    nnrp_meta m;
    nnrp_fault f = {0};
    nnrp_header h;
    nnrp_out o;
    nnrp_packet p;
    const cJSON *v = seed_vec(names[i]);
    int msg = nnrp_msg_type_from_name(jstr(v, "message_type"));
    size_t n = vec_bytes(names[i], &g);
    if (CK(msg > 0) &&
        CK_INT(nnrp_meta_decode((uint8_t)msg, &m, g, n, 0, &f), 0)) {
      nnrp_header_init(&h, (uint8_t)msg);
      nnrp_out_init(&o, pkt, sizeof pkt, NULL, 0);
      if (CK_INT(nnrp_build_control(&o, &h, &m, NULL, &f), 0) &&
          CK_INT(pkt_decode(&p, pkt, (size_t)o.total, 0, &f), 0) &&
          CK_U64(p.meta_raw.len, n))
        CK_MEM(p.meta_raw.ptr, g, n);
      CK(reemit_control(pkt, (size_t)o.total));
    }
    free(g);
  }
}

/* ---- preview3 behaviours on seed-line packets (README §4) -------------- */

/* One packet patch; see pkt_patch(). */
typedef struct patch {
  size_t off;
  uint64_t v;
  unsigned width;
  uint32_t flags;
  int err;
  const char *field;
} patch;

static void pkt_patches(const char *vec, const patch *pt, size_t n) {
  uint8_t *g;
  size_t gn = vec_bytes(vec, &g);
  CK(reemit_control(g, gn));
  for (size_t i = 0; i < n; i++)
    pkt_patch(g, gn, pt[i].off, pt[i].v, pt[i].width, pt[i].flags, pt[i].err,
              pt[i].field);
  free(g);
}

/* Every caller-controlled header field distinct: decode, fields, encode. */
static void p3_header_roundtrip(void) {
  const cJSON *v = seed_vec("header.all_caller_controlled_fields"), *it;
  uint8_t *g, enc[NNRP_HEADER_LEN];
  nnrp_header h;
  nnrp_wire_opts o;
  nnrp_fault f;
  size_t n = vec_bytes("header.all_caller_controlled_fields", &g);
  nnrp_wire_opts_default(&o);
  if (CK_U64(n, NNRP_HEADER_LEN) &&
      CK_INT(nnrp_header_decode(&h, g, n, &o, &f), 0)) {
    cJSON_ArrayForEach(it, cJSON_GetObjectItemCaseSensitive(v, "fields")) {
      const nnrp_field_desc *fd =
          nnrp_field_find(NNRP_STRUCT_HEADER, it->string);
      uint64_t x;
      if (strcmp(it->string, "magic") == 0)
        CK_STR(jstr(cJSON_GetObjectItemCaseSensitive(v, "fields"), "magic"),
               NNRP_MAGIC);
      else if (CK(fd != NULL && json_u64(it, &x)))
        CK_U64(nnrp_field_get(&h, fd), x);
    }
    nnrp_header_encode(&h, enc);
    CK_MEM(enc, g, n);
  }
  free(g);
}

/* Declared lengths against the bytes: fewer bytes, more bytes, a body_len
 * the bytes do not have, and meta_len + body_len = the bytes but meta_len
 * wrong for the type. */
static void p3_length_mismatch(void) {
  static const patch pt[] = {
      {16, 4, 4, 0, NNRP_ERR_TRUNCATED, "packet"},
      {12, 12u | (4ull << 32), 8, 0, MB, "meta_len"}, /* meta 12, body 4 */
  };
  uint8_t *g, buf[PKT_CAP];
  nnrp_packet p;
  nnrp_fault f;
  size_t n = vec_bytes("packet.result_hint", &g);
  memcpy(buf, g, n);
  buf[n] = 0;
  CK_INT(pkt_decode(&p, buf, n - 1, 0, &f), NNRP_ERR_TRUNCATED);
  CK_INT(pkt_decode(&p, buf, n + 1, 0, &f), NNRP_ERR_TRAILING_DATA);
  free(g);
  pkt_patches("packet.result_hint", pt, COUNT(pt));
}

/* Declared lengths against the rules: body_len of an empty-body type,
 * header_len, a 64-bit total over the packet cap. */
static void p3_invalid_length(void) {
  static const patch pt[] = {
      {7, 41, 1, 0, NNRP_ERR_MALFORMED_HEADER, "header_len"},
      {12, 0xFFFFFFF0u, 4, 0, NNRP_ERR_PACKET_TOO_LARGE, "body_len"},
      {16, 0xFFFFFFFFu, 4, 0, NNRP_ERR_PACKET_TOO_LARGE, "body_len"},
  };
  uint8_t *g, buf[PKT_CAP] = {0};
  nnrp_packet p;
  nnrp_fault f;
  size_t n = vec_bytes("packet.result_hint", &g);
  memcpy(buf, g, n);
  put_le(buf + 16, 4, 4); /* RESULT_HINT with a 4-byte body */
  if (CK_INT(pkt_decode(&p, buf, n + 4, 0, &f), MB))
    CK_STR(f.field, "body_len");
  free(g);
  pkt_patches("packet.result_hint", pt, COUNT(pt));
}

/* flow_flags bits 4-31: rejected in both modes. */
static void p3_reserved_flags(void) {
  uint8_t *g;
  size_t n = vec_bytes("packet.flow_update.session_hard", &g);
  uint32_t flags = nnrp_rd32(g + 40 + 28);
  for (unsigned bit = 4; bit < 32; bit++)
    for (uint32_t mode = 0; mode <= LENIENT; mode += LENIENT)
      pkt_patch(g, n, 40 + 28, flags | (1u << bit), 4, mode, MB, "flow_flags");
  pkt_patch(g, n, 40 + 28, flags | 0xCu, 4, 0, 0, NULL); /* bits 2, 3 ok */
  free(g);
}

static void p3_flow_session(void) {
  pkt_patches("packet.flow_update.session_hard", NULL, 0);
}
static void p3_flow_connection(void) {
  pkt_patches("packet.flow_update.connection_grant", NULL, 0);
}
static void p3_flow_operation(void) {
  pkt_patches("packet.flow_update.operation_pause", NULL, 0);
}

/* The routing table of wire.md §4.7, one golden packet per scope. */
static void p3_scope_connection(void) {
  static const patch pt[] = {
      {20, 42, 4, 0, MB, "session_id"},
      {40 + 6, 1, 2, 0, MB, "session_credit"},
      {40 + 8, 1, 2, 0, MB, "operation_credit"},
      {40 + 12, 1, 8, 0, MB, "operation_id"},
  };
  pkt_patches("packet.flow_update.connection_grant", pt, COUNT(pt));
}
static void p3_scope_session(void) {
  static const patch pt[] = {
      {20, 0, 4, 0, MB, "session_id"},
      {40 + 4, 1, 2, 0, MB, "connection_credit"},
      {40 + 8, 1, 2, 0, MB, "operation_credit"},
      {40 + 12, 1, 8, 0, MB, "operation_id"},
  };
  pkt_patches("packet.flow_update.session_hard", pt, COUNT(pt));
}
static void p3_scope_operation(void) {
  static const patch pt[] = {
      {20, 0, 4, 0, MB, "session_id"},
      {40 + 4, 1, 2, 0, MB, "connection_credit"},
      {40 + 6, 1, 2, 0, MB, "session_credit"},
      {40 + 12, 0, 8, 0, MB, "operation_id"},
  };
  pkt_patches("packet.flow_update.operation_pause", pt, COUNT(pt));
}

/* ---- Recipes: preview4 nnrp1 FLOW_UPDATE + header, preview3 FLOW_UPDATE -- */

/* Symbolic values (words: enum 0, 1, ... or bits 0, 1, ...) and the two
 * recipe keys named differently from wire.md (docs/conformance.md). */
static const struct {
  int sid;
  const char *field;
  char kind;
  const char *words;
} k_syms[] = {
    {NNRP_STRUCT_HEADER, "flags", 'b',
     "ack_required can_drop stale eos retransmit keyframe"},
    {NNRP_STRUCT_FLOW_UPDATE, "scope_kind", 'e',
     "connection session operation"},
    {NNRP_STRUCT_FLOW_UPDATE, "update_reason", 'e',
     "grant reduce pause resume congestion"},
    {NNRP_STRUCT_FLOW_UPDATE, "backpressure_level", 'e', "none soft hard"},
    {NNRP_STRUCT_FLOW_UPDATE, "flow_flags", 'b',
     "credit_valid retry_after_valid background_only drain_in_flight_only"},
};

static const char *wire_name(const char *key) {
  if (strcmp(key, "message_type") == 0)
    return "msg_type";
  return strcmp(key, "flow_update_flags") == 0 ? "flow_flags" : key;
}

static int sym_value(int sid, const char *field, const char *w, uint64_t *v) {
  if (sid == NNRP_STRUCT_HEADER && strcmp(field, "msg_type") == 0) {
    int t = nnrp_msg_type_from_name(w);
    *v = (uint64_t)(t > 0 ? t : 0);
    return t > 0;
  }
  for (size_t i = 0; i < COUNT(k_syms); i++) {
    const char *l = k_syms[i].words;
    if (k_syms[i].sid != sid || strcmp(k_syms[i].field, field) != 0)
      continue;
    for (unsigned k = 0; *l != '\0'; k++) {
      size_t n = strcspn(l, " ");
      if (n == strlen(w) && strncmp(l, w, n) == 0)
        return (*v = k_syms[i].kind == 'b' ? (uint64_t)1 << k : k), 1;
      l += n + (l[n] == ' ');
    }
  }
  return 0;
}

/* Sets (compare 0) or compares every recipe key: metadata field first,
 * then header field; an integer, a word or a list of words (ORed). */
static void recipe_fields(const cJSON *r, nnrp_meta *m, nnrp_header *h,
                          int compare) {
  const cJSON *it, *e;
  cJSON_ArrayForEach(it, r) {
    const char *k = it->string;
    if (!strcmp(k, "recipe_type") || !strcmp(k, "name") ||
        !strcmp(k, "description"))
      continue;
    int sid = NNRP_STRUCT_FLOW_UPDATE;
    void *base = m;
    const nnrp_field_desc *fd = m ? nnrp_field_find(sid, wire_name(k)) : NULL;
    if (fd == NULL) {
      sid = NNRP_STRUCT_HEADER;
      base = h;
      fd = nnrp_field_find(sid, wire_name(k));
    }
    uint64_t v = 0, x;
    int ok = fd != NULL;
    if (ok && cJSON_IsArray(it)) {
      cJSON_ArrayForEach(e, it) {
        ok = ok && cJSON_IsString(e) &&
             sym_value(sid, fd->name, e->valuestring, &x);
        v |= ok ? x : 0;
      }
    } else if (ok) {
      ok = (cJSON_IsString(it) &&
            sym_value(sid, fd->name, it->valuestring, &v)) ||
           json_u64(it, &v);
    }
    if (!ok)
      FAIL("recipe key not resolvable", k);
    else if (!compare)
      nnrp_field_set(base, fd, v);
    else if (!CK_U64(nnrp_field_get(base, fd), v))
      printf("  field %s of %s\n", fd->name, jstr(r, "name"));
  }
}

/* Recipe -> builder (or header codec) -> the golden vector's bytes; the
 * golden bytes decode to the recipe's values. */
static void run_recipe(const cJSON *r, const char *vec) {
  uint8_t *g, out[PKT_CAP];
  nnrp_header h;
  nnrp_meta m;
  nnrp_packet p;
  nnrp_fault f = {0};
  nnrp_out o;
  size_t gn = vec_bytes(vec, &g);
  int flow = strcmp(jstr(r, "recipe_type"), "flow_update_packet") == 0;
  CK(flow || strcmp(jstr(r, "recipe_type"), "header") == 0);
  nnrp_header_init(&h, flow ? NNRP_MSG_FLOW_UPDATE : 0);
  memset(&m, 0, sizeof m);
  recipe_fields(r, flow ? &m : NULL, &h, 0);
  if (flow) {
    nnrp_out_init(&o, out, sizeof out, NULL, 0);
    if (CK_INT(nnrp_build_control(&o, &h, &m, NULL, &f), 0) &&
        CK_U64(o.total, gn))
      CK_MEM(out, g, gn);
    if (CK_INT(pkt_decode(&p, g, gn, 0, &f), 0))
      recipe_fields(r, &p.m, &p.hdr, 1);
  } else {
    nnrp_wire_opts opts;
    nnrp_wire_opts_default(&opts);
    nnrp_header_encode(&h, out);
    CK_MEM(out, g, NNRP_HEADER_LEN);
    if (CK_INT(nnrp_header_decode(&p.hdr, g, gn, &opts, &f), 0))
      recipe_fields(r, NULL, &p.hdr, 1);
  }
  free(g);
}

static const struct {
  const char *file, *recipe, *vec;
} k_recipes[] = {
    {P4 "vectors/nnrp1-baseline-semantic-vectors.json",
     "nnrp1.packet.flow_update.session_hard",
     "packet.flow_update.session_hard"},
    {P4 "vectors/nnrp1-baseline-semantic-vectors.json",
     "nnrp1.packet.flow_update.connection_grant",
     "packet.flow_update.connection_grant"},
    {P4 "vectors/nnrp1-baseline-semantic-vectors.json",
     "nnrp1.packet.flow_update.operation_pause",
     "packet.flow_update.operation_pause"},
    {P4 "vectors/semantic-vectors.json",
     "preview4.header.all_caller_controlled_fields",
     "header.all_caller_controlled_fields"},
    {P3 "vectors/semantic-vectors.json",
     "preview3.packet.flow_update.session_hard",
     "packet.flow_update.session_hard"},
    {P3 "vectors/semantic-vectors.json",
     "preview3.packet.flow_update.connection_grant",
     "packet.flow_update.connection_grant"},
    {P3 "vectors/semantic-vectors.json",
     "preview3.packet.flow_update.operation_pause",
     "packet.flow_update.operation_pause"},
};

/* The preview4 recipes are named in the golden vector's source. */
TEST(later_recipes) {
  for (size_t i = 0; i < COUNT(k_recipes); i++) {
    cJSON *file = load_exact(k_recipes[i].file);
    const cJSON *r = find_by(cJSON_GetObjectItemCaseSensitive(file, "vectors"),
                             "name", k_recipes[i].recipe);
    const char *src = jstr(seed_vec(k_recipes[i].vec), "source");
    if (CHECK(r != NULL) &&
        CHECK_EQ_STR(jstr(seed_vec(k_recipes[i].vec), "status"), "golden"))
      run_recipe(r, k_recipes[i].vec);
    if (strncmp(k_recipes[i].file, P4, strlen(P4)) == 0)
      CHECK(src != NULL && strstr(src, k_recipes[i].recipe) != NULL);
    cJSON_Delete(file);
  }
}

/* ---- Cases: registry, skip rules, run, coverage ------------------------ */

typedef struct xcase {
  const char *suite, *id;
  void (*run)(void);
  const char *skip;
} xcase;

static const char k_p4_layouts[] =
    "preview4 data-plane layouts (composed inline tensor submits, 24-byte "
    "descriptors and references, 40-byte cache metadata; README §3)";
static const char k_transport[] = "needs transports (live sessions)";

static const xcase k_cases[] = {
    {"preview4", "l0.header.fixed_shape.golden", p4_header, NULL},
    {"preview4", "l0.control.client_hello.golden", p4_client_hello, NULL},
    {"preview4", "l0.control.session_patch_ack.golden", p4_patch_ack, NULL},
    {"preview4", "l0.flow_update.packet.golden", p4_flow, NULL},
    {"preview4", "l0.result_hint.packet.golden", p4_hint, NULL},
    {"preview4", "l0.typed_payload.descriptor.golden", p4_typed_desc, NULL},
    {"preview4", "l0.typed_payload.frame_regions.golden", p4_typed_regions,
     NULL},
    {"preview4", "l0.result_push.metadata.golden", p4_result, NULL},
    {"preview4", "l0.frame_submit.metadata.golden", p4_no_submit_meta, NULL},
    {"preview4", "l0.body_region.prelude.golden", p4_no_prelude, NULL},
    {"preview4", "l0.object_reference.block.golden", p4_no_ref, NULL},
    {"preview4", "l0.typed_payload.descriptor.current.golden",
     p4_no_typed_current, NULL},
    {"preview4", "l1.flow_update.metadata.validation", p4_l1_flow, NULL},
    {"preview4", "l1.result_hint.metadata.validation", p4_l1_hint, NULL},
    {"preview4", "l1.transport_probe.metadata.roundtrip", p4_l1_probe, NULL},
    {"preview4", "l1.cache.lifecycle.roundtrip", NULL, k_p4_layouts},
    {"preview4", "l1.frame_submit.message.parse_emit", NULL, k_p4_layouts},
    {"preview4", "l1.result_push.message.parse_emit", NULL, k_p4_layouts},
    {"preview4", "l1.typed_payload.region.pack", NULL, k_p4_layouts},
    {"preview4", "l1.result_push.object_reference.resolve", NULL,
     "needs a session cache (session.md §9.6)"},
    {"preview4", "l3.transport.probe.selection", NULL, k_transport},
    {"preview4", "l3.transport.tcp.session_smoke", NULL, k_transport},
    {"preview4", "l3.transport.quic.session_smoke", NULL, k_transport},
    {"preview3", "l0.header.roundtrip.basic", p3_header_roundtrip, NULL},
    {"preview3", "l0.header.length_mismatch.reject", p3_length_mismatch, NULL},
    {"preview3", "l0.header.invalid_length.reject", p3_invalid_length, NULL},
    {"preview3", "l0.flow_update.reserved_flags.reject", p3_reserved_flags,
     NULL},
    {"preview3", "l0.flow_update.packet.golden", p3_flow_session, NULL},
    {"preview3", "l0.flow_update.connection.packet.golden", p3_flow_connection,
     NULL},
    {"preview3", "l0.flow_update.operation.packet.golden", p3_flow_operation,
     NULL},
    {"preview3", "l1.flow_update.connection.scope.validation",
     p3_scope_connection, NULL},
    {"preview3", "l1.flow_update.session.scope.validation", p3_scope_session,
     NULL},
    {"preview3", "l1.flow_update.operation.scope.validation",
     p3_scope_operation, NULL},
    {"preview3", "l1.flow_update.credit_epoch.monotonicity.validation", NULL,
     "session state: credit_epoch ordering per scope (session.md §8)"},
    {"preview3", "l1.flow_update.preview3", NULL,
     "experimental tracking case; its behaviours run as the cases above"},
};

/* Skip rules for the cases of a revision that are not listed above:
 * preview4 runtime manifests; preview3 by layer or capability token. */
static const char *rule_skip(const char *suite, const char *manifest,
                             const cJSON *c) {
  static const struct {
    const char *token, *why;
  } p3[] = {
      {"session.open_close", "session container 0x07-0x0A is preview3 only"},
      {"session.multi_session", "session container is preview3 only"},
      {"schema.registry", "schemas are preview3 only"},
      {"operation.lifecycle", "operations are preview3 only"},
      {"operation.cancel_scope", "operations are preview3 only"},
      {"cache.lifecycle", "cache leases and error families are preview3 only"},
      {"handshake.basic", "preview3 handshake (session id 0, SESSION_OPEN)"},
      {"frame_submit.tensor.inline", "preview3 routes submits by operation"},
      {"payload.typed", "preview3 typed descriptor layout (v3)"},
  };
  const char *layer = jstr(c, "layer");
  const cJSON *t;
  if (strcmp(suite, "preview4") == 0)
    return strncmp(manifest, "runtime-", 8) == 0
               ? "runtime frames 0x30-0x49 do not exist on the seed line"
               : NULL;
  if (layer != NULL && strcmp(layer, "L2") == 0)
    return "L2 cases test host bindings, not the wire";
  if (layer != NULL && strcmp(layer, "L3") == 0)
    return k_transport;
  for (size_t i = 0; i < COUNT(p3); i++)
    cJSON_ArrayForEach(
        t, cJSON_GetObjectItemCaseSensitive(c, "required_capabilities")) {
      if (strcmp(t->valuestring, p3[i].token) == 0)
        return p3[i].why;
    }
  return NULL;
}

static unsigned g_count[2][3]; /* [preview4, preview3][pass, fail, skip] */
static unsigned g_undecided;   /* suite cases without a decision, or
                                  listed cases the suite does not have */

/* Runs or skips every case of a revision (manifest.json -> case_manifests);
 * each id gets exactly one decision and every listed entry is used. */
static void run_suite(const char *suite, const char *dir) {
  static char names[64][96];
  static size_t nn;
  char rel[256];
  const cJSON *m, *c;
  size_t used[COUNT(k_cases)] = {0};
  unsigned *cnt = g_count[strcmp(suite, "preview3") == 0];
  snprintf(rel, sizeof rel, "%smanifest.json", dir);
  cJSON *man = nnrp_test_load_json(rel);
  cJSON_ArrayForEach(m,
                     cJSON_GetObjectItemCaseSensitive(man, "case_manifests")) {
    snprintf(rel, sizeof rel, "%s%s", dir, m->valuestring);
    cJSON *file = nnrp_test_load_json(rel);
    const char *mname = jstr(file, "manifest_name");
    cJSON_ArrayForEach(c, cJSON_GetObjectItemCaseSensitive(file, "cases")) {
      const char *id = jstr(c, "id"), *why = NULL;
      const xcase *x = NULL;
      for (size_t i = 0; i < COUNT(k_cases); i++)
        if (strcmp(k_cases[i].suite, suite) == 0 &&
            strcmp(k_cases[i].id, id) == 0)
          x = &k_cases[i], used[i]++;
      why = x ? x->skip : rule_skip(suite, mname ? mname : "", c);
      if (x != NULL && x->run != NULL && nn < COUNT(names)) {
        unsigned before = g_fails;
        snprintf(names[nn], sizeof names[nn], "%s %s", suite, id);
        harness_run(names[nn++], x->run);
        cnt[g_fails == before ? 0 : 1]++;
      } else if (why != NULL) {
        printf("skip - %s %s: %s\n", suite, id, why);
        cnt[2]++;
      } else {
        printf("  %s %s: neither executed nor skipped\n", suite, id);
        g_undecided++;
      }
    }
    cJSON_Delete(file);
  }
  for (size_t i = 0; i < COUNT(k_cases); i++)
    if (strcmp(k_cases[i].suite, suite) == 0 && used[i] != 1) {
      printf("  %s %s: listed, not in the suite once\n", suite, k_cases[i].id);
      g_undecided++;
    }
  cJSON_Delete(man);
}

/* executed ∪ skipped = every case id of both revisions. */
TEST(case_coverage) {
  CHECK_EQ_U64(g_undecided, 0);
  size_t listed = 0;
  for (size_t i = 0; i < COUNT(k_cases); i++)
    listed += k_cases[i].run != NULL;
  CHECK_EQ_U64(g_count[0][0] + g_count[0][1] + g_count[1][0] + g_count[1][1],
               listed);
}

int main(void) {
  g_seed = load_exact("seed-line.json");
  g_p4_baseline = nnrp_test_load_json(P4 "cases/nnrp1-baseline-core.json");
  g_p4_header = nnrp_test_load_json(P4 "cases/common-header-core.json");
  run_suite("preview4", P4);
  run_suite("preview3", P3);
  RUN(case_coverage);
  RUN(later_recipes);
  printf("preview4 cases: %u pass, %u fail, %u skip\n", g_count[0][0],
         g_count[0][1], g_count[0][2]);
  printf("preview3 cases: %u pass, %u fail, %u skip\n", g_count[1][0],
         g_count[1][1], g_count[1][2]);
  cJSON_Delete(g_p4_header);
  cJSON_Delete(g_p4_baseline);
  cJSON_Delete(g_seed);
  TEST_MAIN_END();
}
