/* SPDX-License-Identifier: Apache-2.0 */
/*
 * wire.c - benchmarks of the wire codec (`scripts/bench wire`): header
 * round trips, zero-copy decoding of 64 KiB FRAME_SUBMIT / RESULT_PUSH
 * packets, RESULT_PUSH encoding with referenced payloads, heap allocations
 * per decoded packet (malloc interposed in this executable) and streaming
 * reader throughput. One JSON line per case on stdout; see
 * docs/benchmarks.md. Times are reported, never asserted.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <nnrp/nnrp_wire.h>

#include "bench_util.h"

#define BENCH "wire"

/* ======================================================================== */
/* Heap allocation counting                                                 */
/* ======================================================================== */

/* glibc lets a program replace malloc by defining it (the glibc manual,
 * "Replacing malloc"); the definitions below forward to the __libc_*
 * entry points and count calls while g_counting is set. libnnrp is linked
 * statically into this executable, so its calls land here too. Sanitizer
 * runtimes own malloc themselves: counting is off under them. */
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define BENCH_COUNT_ALLOCS 0
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(memory_sanitizer) ||     \
    __has_feature(thread_sanitizer)
#define BENCH_COUNT_ALLOCS 0
#endif
#endif
#if !defined(BENCH_COUNT_ALLOCS) && defined(__GLIBC__)
#define BENCH_COUNT_ALLOCS 1
#endif
#ifndef BENCH_COUNT_ALLOCS
#define BENCH_COUNT_ALLOCS 0
#endif

static uint64_t g_allocs; /* malloc-family calls while counting */
static int g_counting;

#if BENCH_COUNT_ALLOCS
extern void *__libc_malloc(size_t n);
extern void *__libc_calloc(size_t count, size_t n);
extern void *__libc_realloc(void *p, size_t n);
extern void *__libc_memalign(size_t align, size_t n);
extern void __libc_free(void *p);

void *malloc(size_t n) {
  if (g_counting)
    g_allocs++;
  return __libc_malloc(n);
}

void *calloc(size_t count, size_t n) {
  if (g_counting)
    g_allocs++;
  return __libc_calloc(count, n);
}

void *realloc(void *p, size_t n) {
  if (g_counting)
    g_allocs++;
  return __libc_realloc(p, n);
}

void free(void *p) { __libc_free(p); }

void *aligned_alloc(size_t align, size_t n) {
  if (g_counting)
    g_allocs++;
  return __libc_memalign(align, n);
}

int posix_memalign(void **out, size_t align, size_t n) {
  if (g_counting)
    g_allocs++;
  if (align < sizeof(void *) || (align & (align - 1)) != 0)
    return EINVAL;
  void *p = __libc_memalign(align, n);
  if (p == NULL)
    return ENOMEM;
  *out = p;
  return 0;
}
#endif

static void count_start(void) {
  g_allocs = 0;
  g_counting = 1;
}

static uint64_t count_stop(void) {
  g_counting = 0;
  return g_allocs;
}

/* ======================================================================== */
/* Test packets                                                             */
/* ======================================================================== */

#define BIG_TILES 16u
#define BIG_TILE_BYTES 4096u
#define BIG_PAYLOAD (BIG_TILES * BIG_TILE_BYTES) /* 64 KiB */
#define SMALL_TILES 4u
#define SMALL_TILE_BYTES 256u
#define SCRATCH_CAP (512u * 1024u)
#define IOV_CAP 64u
#define TYPED_BYTES 512u

/* One FRAME_SUBMIT or RESULT_PUSH: builder input and its contiguous
 * encoding. Holds pointers into itself: never moved after data_pkt_init. */
typedef struct data_pkt {
  const char *name;
  nnrp_header hdr;
  nnrp_meta meta;
  nnrp_section_data sec;
  nnrp_tensor_data tensor;
  nnrp_bytes tiles[BIG_TILES];
  uint16_t ids[BIG_TILES];
  nnrp_typed_frame typed;
  nnrp_body_data body;
  const uint8_t *payload; /* the tiles, back to back */
  size_t payload_len;
  uint8_t *bytes; /* contiguous encoding (malloc'd) */
  size_t len;
} data_pkt;

static uint8_t g_scratch[SCRATCH_CAP];
static uint8_t g_typed_data[TYPED_BYTES];

static void report_fault(const char *what, int rc, const nnrp_fault *f) {
  char line[256];
  if (f != NULL && f->rule != NULL)
    nnrp_fault_format(f, line, sizeof(line));
  else
    snprintf(line, sizeof(line), "(no fault details)");
  fprintf(stderr, "bench wire: %s failed: %s (%s): %s\n", what,
          nnrp_err_name(rc), nnrp_strerror(rc), line);
}

static int build_any(nnrp_out *o, const nnrp_header *h, nnrp_meta *m,
                     const nnrp_body_data *b, nnrp_fault *f) {
  if (h->msg_type == NNRP_MSG_FRAME_SUBMIT)
    return nnrp_build_frame_submit(o, h, &m->frame_submit, b, f);
  return nnrp_build_result_push(o, h, &m->result_push, b, f);
}

/* Fills dp: one tensor section of ntiles x tile_bytes (RAW_U16 ids), plus
 * one STRUCTURED_EVENT typed frame when typed is set (composed form). */
static void data_pkt_init(data_pkt *dp, const char *name, uint8_t msg_type,
                          const uint8_t *payload, uint32_t ntiles,
                          uint32_t tile_bytes, int typed) {
  memset(dp, 0, sizeof(*dp));
  dp->name = name;
  dp->payload = payload;
  dp->payload_len = (size_t)ntiles * tile_bytes;
  nnrp_header_init(&dp->hdr, msg_type);
  dp->hdr.session_id = 7;
  dp->hdr.frame_id = 11;
  dp->hdr.view_id = 1;
  dp->hdr.trace_id = 0x0123456789ABCDEFu;
  for (uint32_t i = 0; i < ntiles; i++) {
    dp->tiles[i].ptr = payload + (size_t)i * tile_bytes;
    dp->tiles[i].len = tile_bytes;
    dp->ids[i] = (uint16_t)(5u + 3u * i); /* not consecutive: RAW_U16 */
  }
  dp->sec.role_id = 1;
  dp->sec.codec_id = 0;
  dp->sec.layout_id = NNRP_LAYOUT_NHWC;
  dp->sec.scale_policy = NNRP_SCALE_POLICY_NONE;
  dp->sec.tiles = dp->tiles;
  dp->tensor.tile_index_mode = NNRP_TILE_INDEX_RAW_U16;
  dp->tensor.tile_ids = dp->ids;
  dp->tensor.tile_count = (uint16_t)ntiles;
  dp->tensor.sections = &dp->sec;
  dp->tensor.section_count = 1;
  dp->body.tensor = &dp->tensor;
  if (typed) {
    nnrp_bytes ev = {g_typed_data, sizeof(g_typed_data)};
    nnrp_structured_event_frame(&dp->typed, ev, 0);
    dp->body.typed = &dp->typed;
    dp->body.typed_count = 1;
  }
  if (msg_type == NNRP_MSG_FRAME_SUBMIT) {
    nnrp_frame_submit *s = &dp->meta.frame_submit;
    dp->hdr.flags = NNRP_FLAG_KEYFRAME;
    dp->sec.dtype_id = NNRP_DTYPE_UINT8;
    dp->sec.element_count_per_tile = tile_bytes;
    s->src_width = 256;
    s->src_height = (uint16_t)(ntiles * 16u);
    s->tile_width = 64;
    s->tile_height = 64;
    s->frame_class = NNRP_FRAME_CLASS_KEYFRAME;
    s->input_profile = NNRP_INPUT_PROFILE_CHANGED_TILES_LUMA;
    s->latency_budget_ms = 33;
    s->target_fps_x100 = 3000;
    s->submit_mode = NNRP_SUBMIT_MODE_INLINE;
    s->loss_tolerance_policy = NNRP_LOSS_TOLERANCE_BEST_EFFORT;
  } else {
    nnrp_result_push *r = &dp->meta.result_push;
    dp->hdr.flags = NNRP_FLAG_EOS;
    dp->sec.dtype_id = NNRP_DTYPE_FP16;
    dp->sec.element_count_per_tile = tile_bytes / 2u;
    r->active_profile_id = NNRP_PROFILE_TENSOR;
    r->inference_ms = 4;
    r->queue_ms = 1;
    r->server_total_ms = 6;
    r->result_class = NNRP_RESULT_CLASS_COMPLETE;
  }
}

/* Builds dp contiguously into dp->bytes and checks that it decodes. */
static int data_pkt_encode(data_pkt *dp, const nnrp_wire_opts *opts) {
  nnrp_out o;
  nnrp_fault f;
  memset(&f, 0, sizeof(f));
  nnrp_out_init(&o, g_scratch, sizeof(g_scratch), NULL, 0);
  nnrp_meta m = dp->meta;
  int rc = build_any(&o, &dp->hdr, &m, &dp->body, &f);
  if (rc != 0) {
    report_fault(dp->name, rc, &f);
    return rc;
  }
  dp->len = (size_t)o.total;
  dp->bytes = malloc(dp->len);
  if (dp->bytes == NULL)
    return NNRP_ERR_NOMEM;
  int64_t n = nnrp_out_flatten(&o, dp->bytes, dp->len);
  if (n != (int64_t)dp->len)
    return n < 0 ? (int)n : NNRP_ERR_INTERNAL;
  nnrp_packet p;
  rc = nnrp_packet_decode(&p, dp->bytes, dp->len, opts, &f);
  if (rc != 0)
    report_fault(dp->name, rc, &f);
  return rc;
}

/* Everything the decoded packet offers through the view iterators: tile
 * ids, every section, every tile's view and codec, typed frames and
 * references. Payload bytes themselves are not read (zero copy). */
static uint64_t walk_packet(const nnrp_packet *p) {
  uint64_t acc = p->hdr.frame_id + p->hdr.msg_type;
  if (p->hdr.msg_type != NNRP_MSG_FRAME_SUBMIT &&
      p->hdr.msg_type != NNRP_MSG_RESULT_PUSH)
    return acc + p->body_raw.len + p->meta_raw.len;
  const nnrp_data_body *b = &p->b.data;
  if (b->has_tensor) {
    nnrp_tile_iter ti;
    uint32_t id;
    nnrp_tile_iter_init(&ti, &b->tensor.tiles);
    while (nnrp_tile_iter_next(&ti, &id))
      acc += id;
    nnrp_section_iter si;
    nnrp_section_view sv;
    nnrp_section_iter_init(&si, &b->tensor);
    while (nnrp_section_iter_next(&si, &sv)) {
      nnrp_tile_data_iter di;
      nnrp_bytes tile;
      uint8_t codec;
      acc += sv.desc.role_id + sv.desc.payload_bytes;
      nnrp_tile_data_iter_init(&di, &sv);
      while (nnrp_tile_data_iter_next(&di, &tile, &codec))
        acc += tile.len + codec + (uintptr_t)tile.ptr;
    }
  }
  for (uint32_t i = 0; i < b->typed_count; i++) {
    nnrp_typed_frame tf;
    if (nnrp_data_body_typed(b, i, &tf) == 0)
      acc += tf.payload_kind + tf.data.len + (uintptr_t)tf.data.ptr;
  }
  for (uint32_t i = 0; i < b->ref_count; i++) {
    nnrp_object_ref r;
    if (nnrp_data_body_ref(b, i, &r) == 0)
      acc += r.cache_key_lo;
  }
  return acc;
}

/* ======================================================================== */
/* Case 1: header_pack_unpack                                               */
/* ======================================================================== */

_Static_assert(sizeof(nnrp_header) >= NNRP_HEADER_LEN,
               "the memcpy baseline copies 40 bytes of the struct");

/* Both loops read their input from a ring of prebuilt headers rather than
 * patching one field per iteration: a narrow store followed by memcpy's
 * wide loads of the same bytes would stall store forwarding and slow the
 * baseline artificially. */
#define HDR_RING 64u

typedef struct hdr_ctx {
  nnrp_header h[HDR_RING];
  nnrp_wire_opts opts;
  uint8_t buf[NNRP_HEADER_LEN];
} hdr_ctx;

static int run_hdr_roundtrip(void *vc, uint64_t n) {
  hdr_ctx *c = vc;
  nnrp_header out;
  uint64_t acc = 0;
  for (uint64_t i = 0; i < n; i++) {
    nnrp_header_encode(&c->h[i % HDR_RING], c->buf);
    if (nnrp_header_decode(&out, c->buf, sizeof(c->buf), &c->opts, NULL))
      return -1;
    acc += out.frame_id;
  }
  bench_sink = acc;
  return 0;
}

static int run_hdr_memcpy(void *vc, uint64_t n) {
  hdr_ctx *c = vc;
  nnrp_header out;
  uint64_t acc = 0;
  for (uint64_t i = 0; i < n; i++) {
    memcpy(c->buf, &c->h[i % HDR_RING], NNRP_HEADER_LEN);
    bench_barrier(c->buf);
    memcpy(&out, c->buf, NNRP_HEADER_LEN);
    bench_barrier(&out);
    acc += out.frame_id;
  }
  bench_sink = acc;
  return 0;
}

static int case_header(const bench_cfg *cfg) {
  hdr_ctx c;
  memset(&c, 0, sizeof(c));
  for (uint32_t i = 0; i < HDR_RING; i++) {
    nnrp_header *h = &c.h[i];
    nnrp_header_init(h, NNRP_MSG_FRAME_SUBMIT);
    h->flags = NNRP_FLAG_ACK_REQUIRED | NNRP_FLAG_KEYFRAME;
    h->body_len = 4096u + i;
    h->session_id = 7;
    h->frame_id = 11u + i;
    h->view_id = 2;
    h->trace_id = 123456789u * (i + 1u);
  }
  nnrp_wire_opts_default(&c.opts);
  double ns = bench_measure(cfg, run_hdr_roundtrip, &c);
  double base = bench_measure(cfg, run_hdr_memcpy, &c);
  if (ns <= 0.0 || base <= 0.0) {
    fprintf(stderr, "bench wire: header_pack_unpack: decode failed\n");
    return 1;
  }
  bench_emit(BENCH, "header_pack_unpack", 1e9 / ns, "ops/s", 1e9 / base);
  fprintf(stderr,
          "header_pack_unpack: %.2f ns per encode+decode; 40-byte memcpy "
          "pair %.2f ns\n",
          ns, base);
  return 0;
}

/* ======================================================================== */
/* Case 2: decode_* (nnrp_packet_decode + view iteration)                    */
/* ======================================================================== */

/* The cold variant cycles through RING_BYTES of packet copies, more than
 * the last-level cache holds, so every packet comes from DRAM as on a
 * receive path that reads fresh buffers. */
#define RING_BYTES (128u * 1024u * 1024u)

typedef struct dec_ctx {
  const uint8_t *pkt;
  size_t len;
  uint8_t *ring; /* NULL, or nring copies of pkt stride bytes apart */
  size_t stride, nring, next;
  uint8_t *dst; /* memcpy baseline destination */
  nnrp_wire_opts opts;
  nnrp_fault fault;
  int rc;
} dec_ctx;

static const uint8_t *dec_next(dec_ctx *c) {
  if (c->ring == NULL)
    return c->pkt;
  const uint8_t *p = c->ring + c->next * c->stride;
  c->next = c->next + 1 == c->nring ? 0 : c->next + 1;
  return p;
}

static int run_decode(void *vc, uint64_t n) {
  dec_ctx *c = vc;
  nnrp_packet p;
  uint64_t acc = 0;
  for (uint64_t i = 0; i < n; i++) {
    c->rc = nnrp_packet_decode(&p, dec_next(c), c->len, &c->opts, &c->fault);
    if (c->rc != 0)
      return -1;
    acc += walk_packet(&p);
  }
  bench_sink = acc;
  return 0;
}

static int run_copy(void *vc, uint64_t n) {
  dec_ctx *c = vc;
  for (uint64_t i = 0; i < n; i++) {
    memcpy(c->dst, dec_next(c), c->len);
    bench_barrier(c->dst);
  }
  return 0;
}

/* Measures decode+walk and memcpy of dp's packet; cold: from the ring. */
static int case_decode(const bench_cfg *cfg, const char *name,
                       const data_pkt *dp, const nnrp_wire_opts *opts,
                       int cold) {
  dec_ctx c;
  memset(&c, 0, sizeof(c));
  c.pkt = dp->bytes;
  c.len = dp->len;
  c.opts = *opts;
  c.dst = malloc(dp->len);
  if (cold) {
    c.stride = (dp->len + 4095u) & ~(size_t)4095u;
    c.nring = RING_BYTES / c.stride;
    c.ring = malloc(c.nring * c.stride);
    if (c.ring != NULL)
      for (size_t i = 0; i < c.nring; i++)
        memcpy(c.ring + i * c.stride, dp->bytes, dp->len);
  }
  if (c.dst == NULL || (cold && c.ring == NULL)) {
    free(c.dst);
    free(c.ring);
    return 1;
  }
  memset(c.dst, 0, dp->len);
  double ns = bench_measure(cfg, run_decode, &c);
  double base = bench_measure(cfg, run_copy, &c);
  free(c.dst);
  free(c.ring);
  if (ns <= 0.0) {
    report_fault(name, c.rc, &c.fault);
    return 1;
  }
  bench_emit(BENCH, name, ns, "ns", base);
  fprintf(stderr,
          "%s: %zu-byte packet%s: decode+walk %.1f ns, memcpy %.1f ns\n", name,
          dp->len, cold ? " (cold, 128 MiB ring)" : "", ns, base);
  return 0;
}

/* ======================================================================== */
/* Case 3: encode_result_push_64k_* (builders)                               */
/* ======================================================================== */

typedef struct enc_ctx {
  const data_pkt *dp;
  nnrp_meta meta;
  nnrp_out out;
  nnrp_iov iov[IOV_CAP];
  uint8_t *dst; /* memcpy baseline destination */
  nnrp_fault fault;
  int rc;
} enc_ctx;

static int run_encode(void *vc, uint64_t n) {
  enc_ctx *c = vc;
  uint64_t acc = 0;
  for (uint64_t i = 0; i < n; i++) {
    nnrp_out_reset(&c->out);
    c->rc = build_any(&c->out, &c->dp->hdr, &c->meta, &c->dp->body, &c->fault);
    if (c->rc != 0)
      return -1;
    bench_barrier(c->out.scratch);
    acc += c->out.total;
  }
  bench_sink = acc;
  return 0;
}

static int run_payload_copy(void *vc, uint64_t n) {
  enc_ctx *c = vc;
  for (uint64_t i = 0; i < n; i++) {
    memcpy(c->dst, c->dp->payload, c->dp->payload_len);
    bench_barrier(c->dst);
  }
  return 0;
}

/* Encodes once in iovec mode and checks the flattened bytes against the
 * contiguous encoding; returns the payload bytes copied into scratch. */
static int check_iov_encoding(enc_ctx *c, uint64_t *copied) {
  nnrp_out_reset(&c->out);
  int rc = build_any(&c->out, &c->dp->hdr, &c->meta, &c->dp->body, &c->fault);
  if (rc != 0) {
    report_fault("encode_result_push_64k_ref", rc, &c->fault);
    return 1;
  }
  const data_pkt *dp = c->dp;
  if (c->out.total != dp->len) {
    fprintf(stderr,
            "bench wire: iovec encoding is %llu bytes, contiguous "
            "%zu\n",
            (unsigned long long)c->out.total, dp->len);
    return 1;
  }
  uint8_t *flat = malloc(dp->len);
  if (flat == NULL)
    return 1;
  int64_t n = nnrp_out_flatten(&c->out, flat, dp->len);
  int same = n == (int64_t)dp->len && memcmp(flat, dp->bytes, dp->len) == 0;
  free(flat);
  if (!same) {
    fprintf(stderr, "bench wire: iovec and contiguous encodings differ\n");
    return 1;
  }
  /* Everything that is not tile payload is structure; scratch holding
   * more than that means payload bytes were copied. */
  uint64_t referenced = c->out.total - c->out.scratch_len;
  *copied = dp->payload_len > referenced ? dp->payload_len - referenced : 0;
  fprintf(stderr,
          "encode_result_push_64k_ref: %llu-byte packet = %zu scratch bytes "
          "+ %llu referenced, %zu iovec entries\n",
          (unsigned long long)c->out.total, c->out.scratch_len,
          (unsigned long long)referenced, c->out.iov_len);
  return 0;
}

static int case_encode(const bench_cfg *cfg, const data_pkt *dp) {
  static enc_ctx c; /* the iovec array makes it large-ish */
  memset(&c, 0, sizeof(c));
  c.dp = dp;
  c.meta = dp->meta;
  c.dst = malloc(dp->payload_len);
  if (c.dst == NULL)
    return 1;
  memset(c.dst, 0, dp->payload_len);
  uint64_t copied = 0;
  nnrp_out_init(&c.out, g_scratch, sizeof(g_scratch), c.iov, IOV_CAP);
  int failed = check_iov_encoding(&c, &copied);
  double base = bench_measure(cfg, run_payload_copy, &c);
  if (!failed) {
    double ns = bench_measure(cfg, run_encode, &c);
    if (ns > 0.0) {
      bench_emit(BENCH, "encode_result_push_64k_ref", ns, "ns", base);
      bench_emit(BENCH, "encode_result_push_64k_payload_copied_bytes",
                 (double)copied, "bytes", (double)dp->payload_len);
      fprintf(stderr,
              "encode_result_push_64k_ref: %.1f ns; memcpy of the "
              "64 KiB payload %.1f ns; payload bytes copied: %llu\n",
              ns, base, (unsigned long long)copied);
    } else {
      report_fault("encode_result_push_64k_ref", c.rc, &c.fault);
      failed = 1;
    }
  }
  nnrp_out_init(&c.out, g_scratch, sizeof(g_scratch), NULL, 0);
  double ns = bench_measure(cfg, run_encode, &c);
  if (ns > 0.0) {
    bench_emit(BENCH, "encode_result_push_64k_contiguous", ns, "ns", base);
    fprintf(stderr,
            "encode_result_push_64k_contiguous: %.1f ns (copies "
            "the payload into scratch)\n",
            ns);
  } else {
    report_fault("encode_result_push_64k_contiguous", c.rc, &c.fault);
    failed = 1;
  }
  free(c.dst);
  return failed;
}

/* ======================================================================== */
/* Case 5: reader_stream_1500 (streaming reader over a mixed stream)        */
/* ======================================================================== */

#define STREAM_MIN (1024u * 1024u)
#define CHUNK 1500u

typedef struct reader_ctx {
  uint8_t *stream;
  size_t len;
  uint64_t packets; /* packets in the stream */
  uint8_t *buf;     /* the reader's assembly buffer */
  size_t cap;
  uint8_t *dst; /* memcpy baseline destination */
  nnrp_wire_opts opts;
  nnrp_fault fault;
  int rc;
} reader_ctx;

/* Feeds the whole stream in CHUNK-byte pieces; checks every packet came
 * out and the reader ended on a packet boundary. */
static int reader_pass(reader_ctx *c, uint64_t *acc) {
  nnrp_reader r;
  nnrp_packet p;
  uint64_t got = 0;
  nnrp_reader_init(&r, &c->opts, c->buf, c->cap);
  for (size_t off = 0; off < c->len;) {
    size_t n = c->len - off < CHUNK ? c->len - off : CHUNK;
    size_t used = 0;
    while (used < n) {
      size_t consumed = 0;
      c->rc = nnrp_reader_next(&r, c->stream + off + used, n - used, &consumed,
                               &p, &c->fault);
      used += consumed;
      if (c->rc == NNRP_READ_PACKET) {
        got++;
        *acc += walk_packet(&p);
      } else if (c->rc == NNRP_READ_NEED_MORE) {
        break;
      } else {
        if (c->rc >= 0)
          c->fault.rule = NULL; /* NEED_BUFFER / SKIPPED: no fault */
        return -1;
      }
    }
    off += n;
  }
  if (got != c->packets || !nnrp_reader_at_boundary(&r)) {
    c->rc = NNRP_ERR_INTERNAL;
    c->fault.rule = NULL;
    return -1;
  }
  return 0;
}

static int run_reader(void *vc, uint64_t n) {
  reader_ctx *c = vc;
  uint64_t acc = 0;
  for (uint64_t i = 0; i < n; i++)
    if (reader_pass(c, &acc) != 0)
      return -1;
  bench_sink = acc;
  return 0;
}

static int run_stream_copy(void *vc, uint64_t n) {
  reader_ctx *c = vc;
  for (uint64_t i = 0; i < n; i++) {
    memcpy(c->dst, c->stream, c->len);
    bench_barrier(c->dst);
  }
  return 0;
}

/* A header-only packet (PING / PONG). */
static void put_header_only(uint8_t *out, uint8_t type, uint32_t seq) {
  nnrp_header h;
  nnrp_header_init(&h, type);
  h.session_id = 7;
  h.frame_id = seq;
  nnrp_header_encode(&h, out);
}

static size_t append(reader_ctx *c, size_t at, const uint8_t *p, size_t n) {
  memcpy(c->stream + at, p, n);
  c->packets++;
  return at + n;
}

/* Repeats one cycle (big submit; 8 x small submit + small result; PING;
 * PONG; composed submit; big result) until the stream holds >= 1 MiB. */
static int stream_build(reader_ctx *c, data_pkt *const *big, size_t nbig,
                        const data_pkt *ssub, const data_pkt *sres) {
  size_t cycle = 2u * NNRP_HEADER_LEN + 8u * (ssub->len + sres->len);
  size_t maxpkt = 0;
  for (size_t i = 0; i < nbig; i++) {
    cycle += big[i]->len;
    maxpkt = big[i]->len > maxpkt ? big[i]->len : maxpkt;
  }
  size_t cap = STREAM_MIN + cycle;
  c->stream = malloc(cap);
  c->dst = malloc(cap);
  c->cap = maxpkt;
  c->buf = malloc(maxpkt);
  if (c->stream == NULL || c->dst == NULL || c->buf == NULL)
    return 1;
  memset(c->dst, 0, cap);
  size_t at = 0;
  uint8_t hdr[NNRP_HEADER_LEN];
  for (uint32_t seq = 1; at < STREAM_MIN; seq++) {
    at = append(c, at, big[0]->bytes, big[0]->len);
    for (unsigned k = 0; k < 8; k++) {
      at = append(c, at, ssub->bytes, ssub->len);
      at = append(c, at, sres->bytes, sres->len);
    }
    put_header_only(hdr, NNRP_MSG_PING, seq);
    at = append(c, at, hdr, sizeof(hdr));
    put_header_only(hdr, NNRP_MSG_PONG, seq);
    at = append(c, at, hdr, sizeof(hdr));
    for (size_t i = 1; i < nbig; i++)
      at = append(c, at, big[i]->bytes, big[i]->len);
  }
  c->len = at;
  return 0;
}

static void reader_free(reader_ctx *c) {
  free(c->stream);
  free(c->dst);
  free(c->buf);
}

static int case_reader(const bench_cfg *cfg, reader_ctx *c) {
  double ns = bench_measure(cfg, run_reader, c);
  double base = bench_measure(cfg, run_stream_copy, c);
  if (ns <= 0.0) {
    report_fault("reader_stream_1500", c->rc, &c->fault);
    return 1;
  }
  double mbs = (double)c->len / ns * 1e3; /* bytes/ns -> MB/s (1e6) */
  double base_mbs = (double)c->len / base * 1e3;
  bench_emit(BENCH, "reader_stream_1500", mbs, "MB/s", base_mbs);
  fprintf(stderr,
          "reader_stream_1500: %zu bytes, %llu packets in %u-byte chunks: "
          "%.0f MB/s (%.1f ns/packet); memcpy of the stream %.0f MB/s\n",
          c->len, (unsigned long long)c->packets, CHUNK, mbs,
          ns / (double)c->packets, base_mbs);
  return 0;
}

/* ======================================================================== */
/* Case 4: allocs_per_* (heap allocations inside the library)               */
/* ======================================================================== */

#define MAX_VECTORS 64u
#define ALLOC_ROUNDS 1000u

typedef struct vec_pkt {
  char name[96];
  uint8_t *bytes;
  size_t len;
} vec_pkt;

static const char *find_str(const char *s, const char *end, const char *pat) {
  size_t m = strlen(pat);
  for (; s + m <= end; s++)
    if (memcmp(s, pat, m) == 0)
      return s;
  return NULL;
}

static int hex_val(char ch) {
  if (ch >= '0' && ch <= '9')
    return ch - '0';
  if (ch >= 'a' && ch <= 'f')
    return ch - 'a' + 10;
  if (ch >= 'A' && ch <= 'F')
    return ch - 'A' + 10;
  return -1;
}

/* Reads a whole file (NULL if absent). */
static char *slurp(const char *path, size_t *len) {
  FILE *fp = fopen(path, "rb");
  if (fp == NULL)
    return NULL;
  char *buf = NULL;
  size_t cap = 0, n = 0;
  for (;;) {
    if (n == cap) {
      cap = cap ? 2 * cap : 65536;
      char *nb = realloc(buf, cap + 1);
      if (nb == NULL)
        break;
      buf = nb;
    }
    size_t k = fread(buf + n, 1, cap - n, fp);
    n += k;
    if (k == 0)
      break;
  }
  fclose(fp);
  if (buf != NULL)
    buf[n] = '\0';
  *len = n;
  return buf;
}

/* Takes one vector object [s, end) of seed-line.json: keeps it when kind
 * is "packet" and the hex decodes as a whole valid packet. */
static int vector_take(const char *s, const char *end, vec_pkt *v,
                       const nnrp_wire_opts *opts) {
  const char *name = s + strlen("\"name\": \"");
  const char *name_end = find_str(name, end, "\"");
  const char *kind = find_str(s, end, "\"kind\": \"packet\"");
  const char *hex = find_str(s, end, "\"hex\": \"");
  if (name_end == NULL || kind == NULL || hex == NULL)
    return 0;
  hex += strlen("\"hex\": \"");
  const char *hex_end = find_str(hex, end, "\"");
  if (hex_end == NULL || (hex_end - hex) % 2 != 0)
    return 0;
  size_t n = (size_t)(hex_end - hex) / 2u, nl = (size_t)(name_end - name);
  if (nl >= sizeof(v->name))
    nl = sizeof(v->name) - 1;
  memcpy(v->name, name, nl);
  v->name[nl] = '\0';
  v->bytes = malloc(n ? n : 1);
  if (v->bytes == NULL)
    return 0;
  for (size_t i = 0; i < n; i++) {
    int hi = hex_val(hex[2 * i]), lo = hex_val(hex[2 * i + 1]);
    if (hi < 0 || lo < 0) {
      free(v->bytes);
      return 0;
    }
    v->bytes[i] = (uint8_t)(hi << 4 | lo);
  }
  v->len = n;
  nnrp_packet p;
  nnrp_fault f;
  int rc = nnrp_packet_decode(&p, v->bytes, v->len, opts, &f);
  if (rc != 0) {
    fprintf(stderr, "allocs: vector %s not used (%s, e.g. header-only)\n",
            v->name, nnrp_err_name(rc));
    free(v->bytes);
    return 0;
  }
  return 1;
}

/* The packet vectors of seed-line.json ($NNRP_VECTORS_DIR, else
 * ../shared/vectors from the repository root where scripts/bench runs). */
static size_t load_vectors(vec_pkt *vs, size_t max,
                           const nnrp_wire_opts *opts) {
  const char *dirs[3] = {getenv("NNRP_VECTORS_DIR"), "../shared/vectors",
                         "../../../shared/vectors"};
  char path[1024];
  char *json = NULL;
  size_t len = 0;
  for (size_t i = 0; i < 3 && json == NULL; i++) {
    if (dirs[i] == NULL || *dirs[i] == '\0')
      continue;
    snprintf(path, sizeof(path), "%s/seed-line.json", dirs[i]);
    json = slurp(path, &len);
  }
  if (json == NULL) {
    fprintf(stderr, "allocs: seed-line.json not found (set "
                    "NNRP_VECTORS_DIR); counting built packets only\n");
    return 0;
  }
  const char *end = json + len;
  size_t count = 0;
  const char *s = find_str(json, end, "\"name\": \"");
  while (s != NULL && count < max) {
    const char *next = find_str(s + 1, end, "\"name\": \"");
    if (vector_take(s, next ? next : end, &vs[count], opts))
      count++;
    s = next;
  }
  free(json);
  return count;
}

/* Decodes pkt ALLOC_ROUNDS times (plus the walk); returns the number of
 * allocations, or UINT64_MAX when a decode failed. */
static uint64_t allocs_decoding(const uint8_t *pkt, size_t len,
                                const nnrp_wire_opts *opts) {
  nnrp_packet p;
  nnrp_fault f;
  uint64_t acc = 0;
  count_start();
  for (unsigned i = 0; i < ALLOC_ROUNDS; i++) {
    if (nnrp_packet_decode(&p, pkt, len, opts, &f) != 0) {
      count_stop();
      return UINT64_MAX;
    }
    acc += walk_packet(&p);
  }
  bench_sink = acc;
  return count_stop();
}

static int allocs_decode_all(data_pkt *const *pkts, size_t npkts,
                             const nnrp_wire_opts *opts) {
  static vec_pkt vs[MAX_VECTORS];
  size_t nv = load_vectors(vs, MAX_VECTORS, opts);
  uint64_t total = 0, decodes = 0;
  int failed = 0;
  for (size_t i = 0; i < npkts + nv; i++) {
    const char *name = i < npkts ? pkts[i]->name : vs[i - npkts].name;
    const uint8_t *b = i < npkts ? pkts[i]->bytes : vs[i - npkts].bytes;
    size_t len = i < npkts ? pkts[i]->len : vs[i - npkts].len;
    uint64_t a = allocs_decoding(b, len, opts);
    if (a == UINT64_MAX) {
      fprintf(stderr, "allocs: decoding %s failed\n", name);
      failed = 1;
      continue;
    }
    if (a != 0)
      fprintf(stderr, "allocs: %s: %llu allocations in %u decodes\n", name,
              (unsigned long long)a, ALLOC_ROUNDS);
    total += a;
    decodes += ALLOC_ROUNDS;
  }
  for (size_t i = 0; i < nv; i++)
    free(vs[i].bytes);
  if (decodes > 0)
    bench_emit(BENCH, "allocs_per_decoded_packet",
               (double)total / (double)decodes, "allocs/packet", NAN);
  fprintf(stderr,
          "allocs_per_decoded_packet: %llu allocations in %llu "
          "decodes of %zu shapes (%zu built, %zu seed-line packet "
          "vectors)\n",
          (unsigned long long)total, (unsigned long long)decodes, npkts + nv,
          npkts, nv);
  return failed;
}

static int allocs_build(data_pkt *const *pkts, size_t npkts) {
  static nnrp_iov iov[IOV_CAP];
  nnrp_out o;
  nnrp_fault f;
  uint64_t builds = 0;
  count_start();
  for (unsigned r = 0; r < ALLOC_ROUNDS; r++) {
    for (size_t i = 0; i < npkts; i++) {
      nnrp_meta m = pkts[i]->meta;
      nnrp_out_init(&o, g_scratch, sizeof(g_scratch), r % 2 ? iov : NULL,
                    r % 2 ? IOV_CAP : 0);
      if (build_any(&o, &pkts[i]->hdr, &m, &pkts[i]->body, &f) != 0) {
        count_stop();
        return 1;
      }
      builds++;
    }
  }
  uint64_t a = count_stop();
  bench_emit(BENCH, "allocs_per_built_packet", (double)a / (double)builds,
             "allocs/packet", NAN);
  return 0;
}

static int case_allocs(data_pkt *const *pkts, size_t npkts, reader_ctx *rc,
                       const nnrp_wire_opts *opts) {
  if (!BENCH_COUNT_ALLOCS) {
    fprintf(stderr, "allocs_*: skipped (sanitizer build or not glibc: "
                    "malloc cannot be interposed)\n");
    return 0;
  }
  /* Self-check: the interposition sees this executable's own calls. */
  count_start();
  void *volatile probe = malloc(16);
  free(probe);
  if (count_stop() != 1) {
    fprintf(stderr, "allocs_*: malloc interposition not effective; "
                    "skipped\n");
    return 0;
  }
  int failed = allocs_decode_all(pkts, npkts, opts);
  uint64_t acc = 0;
  count_start();
  int bad = reader_pass(rc, &acc);
  uint64_t a = count_stop();
  if (bad) {
    report_fault("allocs_per_reader_packet", rc->rc, &rc->fault);
    failed = 1;
  } else {
    bench_emit(BENCH, "allocs_per_reader_packet",
               (double)a / (double)rc->packets, "allocs/packet", NAN);
  }
  if (allocs_build(pkts, npkts) != 0) {
    fprintf(stderr, "allocs_per_built_packet: a build failed\n");
    failed = 1;
  }
  return failed;
}

/* ======================================================================== */
/* main                                                                     */
/* ======================================================================== */

static data_pkt g_submit, g_composed, g_result, g_small_submit, g_small_result;

int main(void) {
  bench_cfg cfg = bench_cfg_from_env();
  nnrp_wire_opts opts;
  nnrp_wire_opts_default(&opts);
  uint8_t *payload = malloc(BIG_PAYLOAD);
  if (payload == NULL)
    return 1;
  for (size_t i = 0; i < BIG_PAYLOAD; i++)
    payload[i] = (uint8_t)(i * 131u + 7u);
  static const char ev[] = "{\"event\":\"tick\",\"n\":1} ";
  for (size_t i = 0; i < TYPED_BYTES; i++)
    g_typed_data[i] = (uint8_t)ev[i % (sizeof(ev) - 1)];

  data_pkt_init(&g_submit, "frame_submit_64k", NNRP_MSG_FRAME_SUBMIT, payload,
                BIG_TILES, BIG_TILE_BYTES, 0);
  data_pkt_init(&g_composed, "frame_submit_64k_composed", NNRP_MSG_FRAME_SUBMIT,
                payload, BIG_TILES, BIG_TILE_BYTES, 1);
  data_pkt_init(&g_result, "result_push_64k", NNRP_MSG_RESULT_PUSH, payload,
                BIG_TILES, BIG_TILE_BYTES, 0);
  data_pkt_init(&g_small_submit, "frame_submit_1k", NNRP_MSG_FRAME_SUBMIT,
                payload, SMALL_TILES, SMALL_TILE_BYTES, 0);
  data_pkt_init(&g_small_result, "result_push_1k", NNRP_MSG_RESULT_PUSH,
                payload, SMALL_TILES, SMALL_TILE_BYTES, 0);
  data_pkt *all[] = {&g_submit, &g_composed, &g_result, &g_small_submit,
                     &g_small_result};
  const size_t nall = sizeof(all) / sizeof(all[0]);
  for (size_t i = 0; i < nall; i++)
    if (data_pkt_encode(all[i], &opts) != 0)
      return 1;
  fprintf(stderr,
          "bench wire: %u ms x %u runs per measurement, best run "
          "reported\n",
          (unsigned)(cfg.min_run_ns / 1000000u), cfg.reps);

  int failed = 0;
  failed |= case_header(&cfg);
  failed |= case_decode(&cfg, "decode_frame_submit_64k", &g_submit, &opts, 0);
  failed |= case_decode(&cfg, "decode_frame_submit_64k_composed", &g_composed,
                        &opts, 0);
  failed |= case_decode(&cfg, "decode_result_push_64k", &g_result, &opts, 0);
  failed |=
      case_decode(&cfg, "decode_frame_submit_64k_cold", &g_submit, &opts, 1);
  failed |= case_encode(&cfg, &g_result);

  static reader_ctx rc;
  rc.opts = opts;
  data_pkt *big[] = {&g_submit, &g_composed, &g_result};
  if (stream_build(&rc, big, 3, &g_small_submit, &g_small_result) != 0)
    return 1;
  failed |= case_allocs(all, nall, &rc, &opts);
  failed |= case_reader(&cfg, &rc);
  reader_free(&rc);
  for (size_t i = 0; i < nall; i++)
    free(all[i]->bytes);
  free(payload);
  return failed ? 1 : 0;
}
