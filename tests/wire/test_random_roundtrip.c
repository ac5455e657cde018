/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_random_roundtrip.c - seeded random valid packets of all 21 message
 * types and every body shape (gen_random.c), built with the public builders:
 * each must decode (strict and lenient) to exactly the generated values,
 * re-encode byte for byte (verbatim and through the builders, contiguous
 * and scatter-gather), and mutating one byte must give either a packet that
 * round-trips stably or an error with a consistent fault (wire.md §15-§16).
 *
 * NNRP_SEED=<n> overrides the fixed seed; NNRP_RT_COUNT=<n> the count.
 */
#include "gen_random.c"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"

#define BUF_CAP 16384u
#define MAX_REPORTS 10

static uint64_t g_seed = 0x6E6E7270u; /* "nnrp" */
static unsigned long g_count = 100000;
static unsigned g_reports;

static uint8_t buf[BUF_CAP], buf2[BUF_CAP], flat[BUF_CAP];

/* Prints one failure with everything needed to reproduce it. */
static void report(unsigned long i, const nnrp_gen *g, const char *what,
                   const char *why) {
  if (g_reports++ >= MAX_REPORTS)
    return;
  printf("  packet %lu (NNRP_SEED=%" PRIu64 "): type 0x%02x shape %u: %s: %s\n",
         i, g_seed, g->msg_type, g->shape, what, why ? why : "");
}

static void report_fault(unsigned long i, const nnrp_gen *g, const char *what,
                         int rc, const nnrp_fault *f) {
  char line[256];
  if (f->rule != NULL)
    nnrp_fault_format(f, line, sizeof line);
  else
    snprintf(line, sizeof line, "%s (no fault)", nnrp_err_name(rc));
  report(i, g, what, line);
}

/* Features seen in decoded packets, to show every shape is generated. */
enum {
  F_LEGACY_SUBMIT,
  F_LEGACY_RESULT,
  F_TI_DENSE,
  F_TI_RAW,
  F_TI_DELTA,
  F_TI_BITSET,
  F_SECTIONS,
  F_CODEC_TABLE,
  F_FIXED_STRIDE,
  F_VARIABLE,
  F_TYPED_FIRST, /* + 6 kinds */
  F_INLINE_OBJECTS = F_TYPED_FIRST + 6,
  F_REF_REFERENCE,
  F_REF_MIXED,
  F_REF_RESULT,
  F_EXT_FRAMES,
  F_CAMERA,
  F_TLV_STANDARD,
  F_TLV_UNKNOWN,
  F_MODEL_NAME,
  F_OPAQUE_ACK,
  F_PATCH_BLOCK,
  F_PATCH_ACK_BLOCK,
  F_RESULT_PARTIAL,
  F_COUNT
};
static const char *const feature_names[F_COUNT] = {
    "legacy submit",    "legacy result",    "DENSE_RANGE",  "RAW_U16",
    "DELTA_U16",        "BITSET",           "sections",     "codec table",
    "fixed stride",     "variable",         "TOKEN_CHUNK",  "AUDIO_CHUNK",
    "VIDEO_CHUNK",      "STRUCTURED_EVENT", "TOOL_DELTA",   "OPAQUE_BYTES",
    "inline objects",   "REFERENCE refs",   "MIXED refs",   "result refs",
    "extension frames", "camera",           "standard TLV", "unknown TLV",
    "model name",       "opaque ack body",  "patch block",  "patch ack block",
    "partial result"};
static unsigned long features[F_COUNT];
static unsigned long type_shape[0x22][NNRP_GEN_SHAPES];

/* Enum coverage: every value of every enum field appears in some decoded
 * packet (values as a bitmask; 0xFF INHERIT counted as bit 63). */
typedef struct enum_want {
  uint8_t type; /* message type, or 0 for section/TLV fields below */
  const char *field;
  uint64_t mask;
} enum_want;
static const enum_want enum_table[] = {
    {0x10, "frame_class", 0xF},
    {0x10, "input_profile", 0x7},
    {0x10, "tile_index_mode", 0xF},
    {0x10, "submit_mode", 0x7},
    {0x10, "loss_tolerance_policy", 0x800000000000000Full},
    {0x10, "budget_policy", 0xFFFF},
    {0x12, "result_class", 0xF},
    {0x12, "result_flags", 0xFF},
    {0x12, "applied_budget_policy", 0xFFFF},
    {0x06, "error_scope", 0x7},
    {0x06, "is_fatal", 0x3},
    {0x04, "ack_status", 0x7},
    {0x04, "reject_reason", 0x3F},
    {0x14, "object_kind", 0x3FE},
    {0x14, "flags", 0xF},
    {0x15, "status", 0x7},
    {0x16, "invalidate_scope", 0xF},
    {0x17, "scope_kind", 0x7},
    {0x17, "update_reason", 0x1F},
    {0x17, "backpressure_level", 0x7},
    {0x17, "flow_flags", 0xFFFF},
    {0x18, "applied_budget_policy", 0x1F},
    {0x18, "congestion_state", 0xF},
    {0x18, "reason", 0x1F},
    {0x1B, "old_transport_id", 0x6},
    {0x1B, "new_transport_id", 0x6},
    {0x02, "server_flags", 0xFF},
    {0, "dtype_id", 0xFF},
    {0, "layout_id", 0x3},
    {0, "scale_policy", 0x7},
    {0, "transport_policy", 0x1F},
    {0, "loss_tolerance", 0xF},
};
#define N_ENUMS (sizeof enum_table / sizeof enum_table[0])
static uint64_t enum_seen[N_ENUMS];

static void see_enum(uint8_t type, const char *field, uint64_t v) {
  for (size_t i = 0; i < N_ENUMS; i++)
    if (enum_table[i].type == type && strcmp(enum_table[i].field, field) == 0)
      enum_seen[i] |= v == 0xFF && strcmp(field, "loss_tolerance_policy") == 0
                          ? 1ull << 63
                      : v < 63 ? 1ull << v
                               : 0;
}

static void count_enums(const nnrp_packet *p) {
  int id = nnrp_meta_struct_id(p->hdr.msg_type);
  size_t n = 0;
  const nnrp_field_desc *fd = id >= 0 ? nnrp_struct_fields(id, &n) : NULL;
  for (size_t i = 0; i < n; i++)
    see_enum(p->hdr.msg_type, fd[i].name, nnrp_field_get(&p->m, &fd[i]));
  const nnrp_hello_exts *x = NULL;
  if (p->hdr.msg_type == NNRP_MSG_CLIENT_HELLO)
    x = &p->b.client_hello.ext;
  if (p->hdr.msg_type == NNRP_MSG_SERVER_HELLO_ACK)
    x = &p->b.server_hello_ack.ext;
  if (x && (x->present & NNRP_HELLO_EXT_TRANSPORT_POLICY))
    see_enum(0, "transport_policy", x->transport_policy.transport_policy);
  if (x && (x->present & NNRP_HELLO_EXT_LOSS_TOLERANCE))
    see_enum(0, "loss_tolerance", x->loss_tolerance.loss_tolerance);
}

static void count_sections(const nnrp_tensor_view *tv) {
  nnrp_section_iter it;
  nnrp_section_view s;
  nnrp_section_iter_init(&it, tv);
  while (nnrp_section_iter_next(&it, &s)) {
    features[F_SECTIONS]++;
    see_enum(0, "dtype_id", s.desc.dtype_id);
    see_enum(0, "layout_id", s.desc.layout_id);
    see_enum(0, "scale_policy", s.desc.scale_policy);
    if (s.desc.codec_table_bytes)
      features[F_CODEC_TABLE]++;
    features[s.desc.payload_stride_bytes ? F_FIXED_STRIDE : F_VARIABLE]++;
  }
}

static void count_features(const nnrp_packet *p) {
  const nnrp_data_body *b = &p->b.data;
  switch (p->hdr.msg_type) {
  case NNRP_MSG_FRAME_SUBMIT:
  case NNRP_MSG_RESULT_PUSH: {
    int submit = p->hdr.msg_type == NNRP_MSG_FRAME_SUBMIT;
    if (!b->composed)
      features[submit ? F_LEGACY_SUBMIT : F_LEGACY_RESULT]++;
    if (submit && (p->m.frame_submit.payload_kind_bitmap & 1) &&
        p->m.frame_submit.tile_count && b->has_tensor)
      features[F_TI_DENSE + p->m.frame_submit.tile_index_mode]++;
    if (b->has_tensor)
      count_sections(&b->tensor);
    for (uint32_t i = 0; i < b->typed_count; i++) {
      nnrp_typed_frame t;
      nnrp_data_body_typed(b, i, &t);
      for (unsigned k = 0; k < 6; k++)
        if (t.payload_kind == (2u << k))
          features[F_TYPED_FIRST + k]++;
    }
    if (b->inline_count)
      features[F_INLINE_OBJECTS]++;
    if (b->ref_count)
      features[!submit ? F_REF_RESULT
               : p->m.frame_submit.submit_mode == NNRP_SUBMIT_MODE_REFERENCE
                   ? F_REF_REFERENCE
                   : F_REF_MIXED]++;
    if (b->ext_count)
      features[F_EXT_FRAMES]++;
    if (b->camera.len)
      features[F_CAMERA]++;
    if (!submit && p->m.result_push.dropped_tile_count)
      features[F_RESULT_PARTIAL]++;
    break;
  }
  case NNRP_MSG_CLIENT_HELLO:
  case NNRP_MSG_SERVER_HELLO_ACK: {
    const nnrp_hello_exts *x = p->hdr.msg_type == NNRP_MSG_CLIENT_HELLO
                                   ? &p->b.client_hello.ext
                                   : &p->b.server_hello_ack.ext;
    if (x->present)
      features[F_TLV_STANDARD]++;
    if (x->unknown_count)
      features[F_TLV_UNKNOWN]++;
    if (x->present & NNRP_HELLO_EXT_MODEL_NAME)
      features[F_MODEL_NAME]++;
    if (p->hdr.msg_type == NNRP_MSG_SERVER_HELLO_ACK &&
        p->b.server_hello_ack.opaque.len)
      features[F_OPAQUE_ACK]++;
    break;
  }
  case NNRP_MSG_SESSION_PATCH:
  case NNRP_MSG_SESSION_PATCH_ACK:
    if (p->b.patch.present)
      features[p->hdr.msg_type == NNRP_MSG_SESSION_PATCH ? F_PATCH_BLOCK
                                                         : F_PATCH_ACK_BLOCK]++;
    break;
  default:
    break;
  }
}

/* Builds g once more in scatter-gather mode (small payloads copied, the
 * rest referenced) and checks the flattened bytes equal want. */
static int build_iov_equal(nnrp_gen *g, const uint8_t *want, size_t len) {
  uint8_t scratch[BUF_CAP];
  nnrp_iov iov[256];
  nnrp_out o;
  nnrp_out_init(&o, scratch, sizeof scratch, iov, 256);
  o.copy_max = 3;
  nnrp_meta saved = g->meta;
  nnrp_fault f;
  int rc = nnrp_gen_build(g, &o, &f);
  g->meta = saved;
  if (rc != 0 || o.total != len)
    return 0;
  int64_t n = nnrp_out_flatten(&o, flat, sizeof flat);
  return n == (int64_t)len && memcmp(flat, want, len) == 0;
}

/* One generated packet through every check. */
static int one_packet(unsigned long i, nnrp_gen *g, nnrp_wire_opts *strict,
                      nnrp_wire_opts *lenient) {
  nnrp_out o;
  nnrp_fault f = {0, 0, NULL, NULL};
  char why[256] = "";
  nnrp_out_init(&o, buf, sizeof buf, NULL, 0);
  int rc = nnrp_gen_build(g, &o, &f);
  if (rc != 0) {
    report_fault(i, g, "build", rc, &f);
    return 0;
  }
  size_t len = o.scratch_len;
  if (o.total != len || nnrp_out_contiguous(&o) != buf) {
    report(i, g, "contiguous build", "not one segment");
    return 0;
  }
  nnrp_packet p, q, l;
  rc = nnrp_packet_decode(&p, buf, len, strict, &f);
  if (rc != 0) {
    report_fault(i, g, "strict decode", rc, &f);
    return 0;
  }
  count_features(&p);
  count_enums(&p);
  if (!nnrp_rt_views_inside(&p, buf, len, why, sizeof why)) {
    report(i, g, "views", why);
    return 0;
  }
  if (!nnrp_gen_verify(g, &p, why, sizeof why)) {
    report(i, g, "decoded values", why);
    return 0;
  }
  rc = nnrp_packet_decode(&l, buf, len, lenient, &f);
  if (rc != 0 || !nnrp_rt_compare(&p, &l, NNRP_RT_EXACT, why, sizeof why)) {
    report(i, g, "lenient decode", rc ? nnrp_err_name(rc) : why);
    return 0;
  }
  long n = nnrp_rt_raw_encode(&p, buf2, sizeof buf2);
  if (n != (long)len || memcmp(buf2, buf, len) != 0) {
    report(i, g, "verbatim re-encode", "bytes differ");
    return 0;
  }
  n = nnrp_rt_rebuild(&p, buf2, sizeof buf2, &f);
  if (n < 0) {
    report_fault(i, g, "builder re-encode", (int)n, &f);
    return 0;
  }
  if ((size_t)n != len || memcmp(buf2, buf, len) != 0) {
    report(i, g, "builder re-encode", "bytes differ");
    return 0;
  }
  rc = nnrp_packet_decode(&q, buf2, len, strict, &f);
  if (rc != 0 || !nnrp_rt_compare(&p, &q, NNRP_RT_EXACT, why, sizeof why)) {
    report(i, g, "second decode", rc ? nnrp_err_name(rc) : why);
    return 0;
  }
  if (i % 5 == 0 && !build_iov_equal(g, buf, len)) {
    report(i, g, "scatter-gather build", "bytes differ");
    return 0;
  }
  return 1;
}

TEST(random_valid_packets) {
  nnrp_rng r;
  nnrp_rng_seed(&r, g_seed);
  nnrp_wire_opts strict, lenient;
  nnrp_wire_opts_default(&strict);
  nnrp_wire_opts_default(&lenient);
  lenient.flags = NNRP_WIRE_LENIENT;
  static nnrp_gen g;
  unsigned long ok = 0, bytes = 0;
  for (unsigned long i = 0; i < g_count; i++) {
    uint8_t t = nnrp_gen_types[i % 21];
    unsigned shape = (unsigned)((i / 21) % NNRP_GEN_SHAPES);
    nnrp_gen_make(&g, &r, t, shape);
    if (one_packet(i, &g, &strict, &lenient)) {
      ok++;
      type_shape[t][g.shape]++;
    }
    bytes += 0;
  }
  (void)bytes;
  printf("  %lu of %lu random packets round-tripped\n", ok, g_count);
  CHECK_EQ_U64(ok, g_count);
  /* Every message type and every body shape was produced and passed. */
  for (size_t k = 0; k < 21; k++) {
    uint8_t t = nnrp_gen_types[k];
    unsigned shapes = t == NNRP_MSG_FRAME_SUBMIT  ? 6
                      : t == NNRP_MSG_RESULT_PUSH ? 3
                                                  : 1;
    for (unsigned s = 0; s < shapes; s++)
      if (!CHECK(type_shape[t][s] > 0))
        printf("  type 0x%02x shape %u never passed\n", t, s);
  }
  for (int k = 0; k < F_COUNT; k++)
    if (!CHECK(features[k] > 0))
      printf("  feature never generated: %s\n", feature_names[k]);
  for (size_t k = 0; k < N_ENUMS; k++)
    if (!CHECK_EQ_U64(enum_seen[k], enum_table[k].mask))
      printf("  values of %s (type 0x%02x) not all generated\n",
             enum_table[k].field, enum_table[k].type);
}

/* ---- negative half: one mutated byte ------------------------------------ */

static int validation_error(int rc) {
  switch (rc) {
  case NNRP_ERR_TRUNCATED:
  case NNRP_ERR_TRAILING_DATA:
  case NNRP_ERR_MALFORMED_HEADER:
  case NNRP_ERR_UNSUPPORTED_VERSION:
  case NNRP_ERR_PACKET_TOO_LARGE:
  case NNRP_ERR_BODY_TOO_LARGE:
  case NNRP_ERR_MALFORMED_BODY:
  case NNRP_ERR_UNSUPPORTED_CAPABILITY:
  case NNRP_ERR_LIMIT_EXCEEDED:
    return 1;
  default:
    return 0;
  }
}

/* A decoder error must come with a matching, complete fault. */
static int fault_consistent(int rc, const nnrp_fault *f, size_t len) {
  return validation_error(rc) && f->err == rc && f->rule != NULL &&
         f->field != NULL && f->offset <= len;
}

static int mutated(unsigned long i, nnrp_gen *g, nnrp_rng *r,
                   const nnrp_wire_opts *strict, const nnrp_wire_opts *lenient,
                   unsigned long *accepted) {
  nnrp_out o;
  nnrp_fault f = {0, 0, NULL, NULL};
  char why[256] = "";
  nnrp_out_init(&o, buf, sizeof buf, NULL, 0);
  if (nnrp_gen_build(g, &o, &f) != 0)
    return 1; /* counted by the positive test */
  size_t len = o.scratch_len;
  size_t at = nnrp_rng_below(r, (uint32_t)len);
  buf[at] ^= (uint8_t)(1u + nnrp_rng_below(r, 255));
  nnrp_packet p, q, l;
  f = (nnrp_fault){12345, 0, NULL, NULL};
  int rc = nnrp_packet_decode(&p, buf, len, strict, &f);
  nnrp_fault lf = {12345, 0, NULL, NULL};
  int lrc = nnrp_packet_decode(&l, buf, len, lenient, &lf);
  if (lrc != 0 && !fault_consistent(lrc, &lf, len)) {
    report_fault(i, g, "lenient fault after mutation", lrc, &lf);
    return 0;
  }
  if (rc != 0) {
    if (!fault_consistent(rc, &f, len)) {
      report_fault(i, g, "fault after mutation", rc, &f);
      return 0;
    }
    return 1;
  }
  (*accepted)++;
  /* Accepted: lenient accepts too, views are inside, re-encoding is
   * stable. */
  if (lrc != 0) {
    report_fault(i, g, "strict accepts, lenient rejects", lrc, &lf);
    return 0;
  }
  if (!nnrp_rt_views_inside(&p, buf, len, why, sizeof why)) {
    report(i, g, "views after mutation", why);
    return 0;
  }
  long n = nnrp_rt_raw_encode(&p, buf2, sizeof buf2);
  if (n != (long)len || memcmp(buf2, buf, len) != 0) {
    report(i, g, "verbatim re-encode after mutation", "bytes differ");
    return 0;
  }
  n = nnrp_rt_rebuild(&p, buf2, sizeof buf2, &f);
  if (n < 0)
    return 1; /* the builders may refuse a non-canonical packet */
  rc = nnrp_packet_decode(&q, buf2, (size_t)n, strict, &f);
  if (rc != 0) {
    report_fault(i, g, "decode of the rebuilt mutation", rc, &f);
    return 0;
  }
  if (!nnrp_rt_compare(&p, &q, NNRP_RT_SEMANTIC, why, sizeof why)) {
    report(i, g, "rebuilt mutation differs", why);
    return 0;
  }
  long n2 = nnrp_rt_rebuild(&q, flat, sizeof flat, &f);
  if (n2 != n || memcmp(flat, buf2, (size_t)n) != 0) {
    report(i, g, "second rebuild of the mutation", "bytes differ");
    return 0;
  }
  return 1;
}

TEST(random_mutations) {
  nnrp_rng r;
  nnrp_rng_seed(&r, g_seed ^ 0xA5A5A5A5A5A5A5A5ull);
  nnrp_wire_opts strict, lenient;
  nnrp_wire_opts_default(&strict);
  nnrp_wire_opts_default(&lenient);
  lenient.flags = NNRP_WIRE_LENIENT;
  static nnrp_gen g;
  g_reports = 0;
  unsigned long n = g_count / 2, ok = 0, accepted = 0;
  for (unsigned long i = 0; i < n; i++) {
    nnrp_gen_make(&g, &r, nnrp_gen_types[i % 21],
                  (unsigned)((i / 21) % NNRP_GEN_SHAPES));
    ok += (unsigned long)mutated(i, &g, &r, &strict, &lenient, &accepted);
  }
  printf("  %lu mutated packets, %lu still valid\n", n, accepted);
  CHECK_EQ_U64(ok, n);
  /* Both outcomes occur (free fields accept any value). */
  CHECK(accepted > 0 && accepted < n);
}

int main(void) {
  const char *s = getenv("NNRP_SEED");
  if (s != NULL && *s != '\0')
    g_seed = strtoull(s, NULL, 0);
  const char *c = getenv("NNRP_RT_COUNT");
  if (c != NULL && *c != '\0')
    g_count = strtoul(c, NULL, 0);
  printf("# NNRP_SEED=%" PRIu64 " count=%lu\n", g_seed, g_count);
  RUN(random_valid_packets);
  RUN(random_mutations);
  TEST_MAIN_END();
}
