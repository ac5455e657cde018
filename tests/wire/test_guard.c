/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_guard.c - guard-page decoding (picohttpparser style): every vector of
 * seed-line.json and thousands of generated packets (gen_random.c) are
 * decoded from a buffer that ends exactly at a PROT_NONE page, whole and cut
 * at every length. A whole valid input decodes; a truncated packet is an
 * error with a consistent fault; no decoder ever reads past the end (that
 * would fault at once). wire.md §1 rule 5, §15.
 */
#include "gen_random.c"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "guard.h"
#include "harness.h"
#include "vectors.h"

static int fault_ok(int rc, const nnrp_fault *f) {
  return rc < 0 && f->err == rc && f->rule != NULL && f->field != NULL;
}

/* data placed so that it ends at the guard page of g (capacity cap). */
static const uint8_t *at_end(uint8_t *g, size_t cap, const uint8_t *data,
                             size_t len) {
  uint8_t *p = g + cap - len;
  if (len)
    memcpy(p, data, len);
  return p;
}

/* Whole packet: decodes (want 0 or an error); every shorter prefix:
 * NNRP_ERR_TRUNCATED with a complete fault. Also through the reader. */
static int packet_all_lengths(const uint8_t *pkt, size_t n, int want,
                              const char *name) {
  void *h;
  uint8_t *g = nnrp_test_guard_alloc(n, &h);
  nnrp_wire_opts o;
  nnrp_wire_opts_default(&o);
  int ok = 1;
  for (size_t len = 0; len <= n; len++) {
    const uint8_t *p = at_end(g, n, pkt, len);
    nnrp_packet d;
    nnrp_fault f = {1, 0, NULL, NULL};
    int rc = nnrp_packet_decode(&d, p, len, &o, &f);
    int exp = len == n ? want : NNRP_ERR_TRUNCATED;
    if (rc != exp || (rc != 0 && !fault_ok(rc, &f))) {
      printf("  %s: length %zu of %zu: %s, expected %s\n", name, len, n,
             nnrp_err_name(rc), nnrp_err_name(exp));
      ok = 0;
      break;
    }
    if (rc == 0 && !nnrp_rt_views_inside(&d, p, len, NULL, 0)) {
      printf("  %s: views outside the input\n", name);
      ok = 0;
    }
    /* The header decoder on the same prefix. */
    nnrp_header hd;
    rc = nnrp_header_decode(&hd, p, len, &o, &f);
    if (len < NNRP_HEADER_LEN ? rc != NNRP_ERR_TRUNCATED : rc != 0) {
      printf("  %s: header decode of %zu bytes: %s\n", name, len,
             nnrp_err_name(rc));
      ok = 0;
      break;
    }
    /* The reader fed this prefix as one chunk (zero-copy path). */
    nnrp_reader r;
    nnrp_reader_init(&r, &o, NULL, 0);
    size_t used;
    rc = nnrp_reader_next(&r, p, len, &used, &d, &f);
    int rexp = len < NNRP_HEADER_LEN   ? NNRP_READ_NEED_MORE
               : len == n && want == 0 ? NNRP_READ_PACKET
                                       : NNRP_READ_NEED_BUFFER;
    if (rc != rexp) {
      printf("  %s: reader on %zu bytes: %d\n", name, len, rc);
      ok = 0;
      break;
    }
  }
  nnrp_test_guard_free(h);
  return ok;
}

/* A structure decoder on a guarded input: the whole input gives want;
 * prefixes give anything but must not crash and must fill the fault. */
typedef int (*dec_fn)(const void *ctx, const uint8_t *in, size_t len,
                      nnrp_fault *f);

static int struct_all_lengths(dec_fn fn, const void *ctx, const uint8_t *in,
                              size_t n, int want, int prefixes_fail,
                              const char *name) {
  void *h;
  uint8_t *g = nnrp_test_guard_alloc(n, &h);
  int ok = 1;
  for (size_t len = 0; len <= n; len++) {
    const uint8_t *p = at_end(g, n, in, len);
    nnrp_fault f = {1, 0, NULL, NULL};
    int rc = fn(ctx, p, len, &f);
    if (rc != 0 && !fault_ok(rc, &f)) {
      printf("  %s: length %zu: inconsistent fault for %s\n", name, len,
             nnrp_err_name(rc));
      ok = 0;
    }
    if (len == n && rc != want) {
      printf("  %s: whole input: %s, expected %s\n", name, nnrp_err_name(rc),
             nnrp_err_name(want));
      ok = 0;
    }
    if (len < n && prefixes_fail && rc == 0) {
      printf("  %s: prefix of %zu bytes accepted\n", name, len);
      ok = 0;
    }
  }
  nnrp_test_guard_free(h);
  return ok;
}

static int dec_meta(const void *ctx, const uint8_t *in, size_t len,
                    nnrp_fault *f) {
  nnrp_meta m;
  return nnrp_meta_decode(*(const uint8_t *)ctx, &m, in, len, 0, f);
}

static int dec_ext(const void *ctx, const uint8_t *in, size_t len,
                   nnrp_fault *f) {
  nnrp_hello_exts x;
  return nnrp_ext_block_decode(*(const uint8_t *)ctx, &x, in, len, 0, f);
}

static int dec_tiles(const void *ctx, const uint8_t *in, size_t len,
                     nnrp_fault *f) {
  nnrp_tile_index ti = *(const nnrp_tile_index *)ctx;
  ti.block.ptr = in;
  ti.block.len = len;
  int rc = nnrp_tile_index_check(&ti, f);
  if (rc == 0) { /* iterate every id: reads the block up to its end */
    nnrp_tile_iter it;
    uint32_t id, n = 0;
    nnrp_tile_iter_init(&it, &ti);
    while (nnrp_tile_iter_next(&it, &id))
      n++;
    if (n != ti.count) {
      f->err = NNRP_ERR_INTERNAL;
      f->rule = "nnrp_tile_iter_next";
      f->field = "tile_count";
      return NNRP_ERR_INTERNAL;
    }
  }
  return rc;
}

typedef struct tensor_ctx {
  nnrp_tile_index ti;
  uint32_t tile_index_bytes;
  uint16_t section_count;
} tensor_ctx;

static int dec_tensor(const void *ctx, const uint8_t *in, size_t len,
                      nnrp_fault *f) {
  const tensor_ctx *c = ctx;
  nnrp_tensor_view tv;
  return nnrp_tensor_body_decode(&tv, &c->ti, c->tile_index_bytes,
                                 c->section_count, in, len, 0, f);
}

typedef struct data_ctx {
  uint8_t type;
  nnrp_meta meta;
} data_ctx;

static int dec_data(const void *ctx, const uint8_t *in, size_t len,
                    nnrp_fault *f) {
  const data_ctx *c = ctx;
  nnrp_data_body b;
  nnrp_wire_opts o;
  nnrp_wire_opts_default(&o);
  return nnrp_data_body_decode(c->type, &c->meta, &b, in, len, &o, f);
}

/* ---- vectors ------------------------------------------------------------ */

static uint8_t type_of(const char *name) {
  int t = nnrp_msg_type_from_name(name);
  if (t <= 0)
    harness_die(__FILE__, __LINE__, "unknown message type in a vector");
  return (uint8_t)t;
}

static uint64_t num(const cJSON *it) {
  if (cJSON_IsNumber(it))
    return (uint64_t)it->valuedouble;
  return strtoull(it->valuestring, NULL, 0);
}

/* Metadata of a body vector: every field of metadata_context set by name. */
static void meta_from_context(uint8_t type, const cJSON *ctx, nnrp_meta *m) {
  memset(m, 0, sizeof(*m));
  int id = nnrp_meta_struct_id(type);
  const cJSON *it;
  cJSON_ArrayForEach(it, ctx) {
    const nnrp_field_desc *fd = nnrp_field_find(id, it->string);
    if (fd == NULL)
      harness_die(__FILE__, __LINE__, "unknown metadata_context field");
    nnrp_field_set(m, fd, num(it));
  }
}

static void body_vector(const char *name, const cJSON *fields, const uint8_t *b,
                        size_t n, uint8_t type) {
  const cJSON *ctx =
      cJSON_GetObjectItemCaseSensitive(fields, "metadata_context");
  if (strncmp(name, "body.tile_index.", 16) == 0) {
    const cJSON *ids = cJSON_GetObjectItemCaseSensitive(fields, "tile_ids");
    nnrp_tile_index ti = {(uint8_t)num(cJSON_GetObjectItemCaseSensitive(
                              fields, "tile_index_mode")),
                          (uint16_t)cJSON_GetArraySize(ids),
                          0,
                          {NULL, 0}};
    CHECK(struct_all_lengths(dec_tiles, &ti, b, n, 0, 1, name));
  } else if (strcmp(name, "body.tensor_section.mixed_codec_fixed_stride") ==
             0) {
    tensor_ctx c = {{NNRP_TILE_INDEX_DENSE_RANGE, 2, 0, {NULL, 0}}, 0, 1};
    CHECK(struct_all_lengths(dec_tensor, &c, b, n, 0, 1, name));
  } else if (strcmp(name, "body.result_push.legacy_tensor") == 0) {
    tensor_ctx c = {{NNRP_TILE_INDEX_RAW_U16, 3, 0, {NULL, 0}}, 6, 1};
    CHECK(struct_all_lengths(dec_tensor, &c, b, n, 0, 1, name));
    data_ctx d;
    memset(&d, 0, sizeof d);
    d.type = type;
    d.meta.result_push.payload_kind_bitmap = NNRP_PAYLOAD_KIND_TENSOR;
    d.meta.result_push.tile_count = 3;
    d.meta.result_push.covered_tile_count = 3;
    d.meta.result_push.section_count = 1;
    d.meta.result_push.tile_index_bytes = 6;
    CHECK(struct_all_lengths(dec_data, &d, b, n, 0, 1, name));
  } else if (ctx != NULL) {
    data_ctx d;
    d.type = type;
    meta_from_context(type, ctx, &d.meta);
    CHECK(struct_all_lengths(dec_data, &d, b, n, 0, 1, name));
  }
  /* body.prelude and body.typed_payload.frame_region are single regions
   * with no standalone decoder; the generated packets cover them. */
}

TEST(every_vector_at_the_guard) {
  cJSON *root = nnrp_test_load_json("seed-line.json");
  const cJSON *v;
  unsigned counted = 0;
  cJSON_ArrayForEach(v, cJSON_GetObjectItemCaseSensitive(root, "vectors")) {
    const char *name = cJSON_GetObjectItemCaseSensitive(v, "name")->valuestring;
    const char *kind = cJSON_GetObjectItemCaseSensitive(v, "kind")->valuestring;
    uint8_t type = type_of(
        cJSON_GetObjectItemCaseSensitive(v, "message_type")->valuestring);
    const cJSON *fields = cJSON_GetObjectItemCaseSensitive(v, "fields");
    uint8_t *b = NULL;
    size_t n = nnrp_test_hex_decode(
        cJSON_GetObjectItemCaseSensitive(v, "hex")->valuestring, &b);
    counted++;
    if (strcmp(kind, "packet") == 0) {
      nnrp_header h;
      nnrp_wire_opts o;
      nnrp_wire_opts_default(&o);
      CHECK_EQ_INT(nnrp_header_decode(&h, b, n, &o, NULL), 0);
      if (40u + (uint64_t)h.meta_len + h.body_len == n)
        CHECK(packet_all_lengths(b, n, 0, name));
      else /* header-only vector: the packet is truncated at every length */
        CHECK(packet_all_lengths(b, n, NNRP_ERR_TRUNCATED, name));
    } else if (strcmp(kind, "metadata") == 0) {
      CHECK(struct_all_lengths(dec_meta, &type, b, n, 0, 1, name));
    } else if (strcmp(kind, "extension") == 0) {
      /* 0x4001 CRITICAL in two_entries: UNSUPPORTED_CAPABILITY. */
      int want = strcmp(name, "extension.block.two_entries") == 0
                     ? NNRP_ERR_UNSUPPORTED_CAPABILITY
                     : 0;
      CHECK(struct_all_lengths(dec_ext, &type, b, n, want, 0, name));
    } else if (strcmp(kind, "body") == 0) {
      body_vector(name, fields, b, n, type);
    }
    free(b);
  }
  CHECK(counted >= 54);
  cJSON_Delete(root);
}

/* ---- generated packets -------------------------------------------------- */

TEST(generated_packets_at_the_guard) {
  nnrp_rng r;
  nnrp_rng_seed(&r, 0x67756172u);
  static nnrp_gen g;
  static uint8_t buf[16384];
  unsigned long decodes = 0;
  for (unsigned long i = 0; i < 2100; i++) {
    nnrp_gen_make(&g, &r, nnrp_gen_types[i % 21],
                  (unsigned)((i / 21) % NNRP_GEN_SHAPES));
    nnrp_out o;
    nnrp_fault f;
    nnrp_out_init(&o, buf, sizeof buf, NULL, 0);
    if (nnrp_gen_build(&g, &o, &f) != 0)
      continue; /* reported by test_random_roundtrip */
    char name[64];
    snprintf(name, sizeof name, "generated packet %lu (type 0x%02x)", i,
             g.msg_type);
    if (!CHECK(packet_all_lengths(buf, o.scratch_len, 0, name)))
      break;
    decodes += o.scratch_len + 1;
  }
  printf("  %lu guarded decodes\n", decodes);
}

/* Metadata of every type at the guard, whole and cut: exact length only. */
TEST(metadata_lengths_at_the_guard) {
  nnrp_rng r;
  nnrp_rng_seed(&r, 0x6D657461u);
  static nnrp_gen g;
  static uint8_t buf[16384];
  for (size_t k = 0; k < 21; k++) {
    uint8_t t = nnrp_gen_types[k];
    int ml = nnrp_msg_meta_len(t);
    if (ml == 0)
      continue;
    nnrp_gen_make(&g, &r, t, 0);
    nnrp_out o;
    nnrp_fault f;
    nnrp_out_init(&o, buf, sizeof buf, NULL, 0);
    if (!CHECK_EQ_INT(nnrp_gen_build(&g, &o, &f), 0))
      continue;
    CHECK(struct_all_lengths(dec_meta, &t, buf + 40, (size_t)ml, 0, 1,
                             nnrp_msg_type_name(t)));
  }
}

int main(void) {
  RUN(every_vector_at_the_guard);
  RUN(generated_packets_at_the_guard);
  RUN(metadata_lengths_at_the_guard);
  TEST_MAIN_END();
}
