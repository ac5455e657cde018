/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fuzz_body.c - libFuzzer target for the body decoders (wire.md §7-§9):
 * nnrp_tile_index_check() against an exact model of the §8.4 decoder rules,
 * nnrp_tensor_body_decode() (§8.3, S1-S8), and composed or legacy bodies of
 * FRAME_SUBMIT / RESULT_PUSH through nnrp_data_body_decode() with metadata
 * derived from the first input bytes (made valid, so the body rules are
 * reached). Input: selector byte, parameters, body bytes (layouts below;
 * scripts/fuzz-seeds writes seeds in this format).
 */
#include <nnrp/nnrp_wire.h>

#include <stdlib.h>
#include <string.h>

#include "../tests/wire/gen_random.c"
#include "nnrp_fuzz.h"

#define FZ_CHECK(c)                                                            \
  do {                                                                         \
    if (!(c))                                                                  \
      abort();                                                                 \
  } while (0)

#define MAX_INPUT 65536u

/* Selector byte: bits 0-1 the decoder, bit 2 lenient, bit 3 restricted
 * limits (payload kinds TENSOR|TOKEN, cache objects 1-3, 2 sections). */
enum { OP_TENSOR = 0, OP_TILES = 1, OP_SUBMIT = 2, OP_RESULT = 3 };
/* Parameter bytes after the selector (little-endian):
 *  OP_TENSOR  mode u8, tile_count u16, base u32, tile_index_bytes u32,
 *             section_count u16                                   (13 B)
 *  OP_TILES   mode u8, tile_count u16, base u32                   (7 B)
 *  OP_SUBMIT  payload_kind_bitmap u8, submit_mode u8, object_ref_mask u8,
 *             payload_frame_count u8, tile_count u16, section_count u8,
 *             tile_index_mode u8, tile_base_id u32, camera_bytes u16,
 *             tile_index_bytes u16                                (16 B)
 *  OP_RESULT  payload_kind_bitmap u8, result_class u8, result_flags u8,
 *             payload_frame_count u8, tile_count u16, section_count u8,
 *             covered_tile_count u16, tile_base_id u32,
 *             tile_index_bytes u16, applied_budget_policy u8      (16 B) */
static const size_t param_len[4] = {13, 7, 16, 16};

static uint16_t rd16(const uint8_t *p) {
  return (uint16_t)(p[0] | (p[1] << 8));
}
static uint32_t rd32(const uint8_t *p) {
  return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) |
         ((uint32_t)p[3] << 24);
}

static void check_fault(int rc, const nnrp_fault *f) {
  FZ_CHECK(rc == NNRP_ERR_MALFORMED_BODY ||
           rc == NNRP_ERR_UNSUPPORTED_CAPABILITY ||
           rc == NNRP_ERR_LIMIT_EXCEEDED);
  FZ_CHECK(f->err == rc && f->rule != NULL && f->field != NULL);
}

/* ---- tile index: an exact model of the §8.4 decoder column -------------- */

static void op_tiles(const uint8_t *p, const uint8_t *blk, size_t len) {
  nnrp_tile_index ti = {
      (uint8_t)(p[0] % 4u), rd16(p + 1), rd32(p + 3), {blk, len}};
  uint32_t pop = 0;
  for (size_t i = 0; i < len; i++)
    for (uint8_t b = blk[i]; b; b &= (uint8_t)(b - 1u))
      pop++;
  int valid;
  switch (ti.mode) {
  case NNRP_TILE_INDEX_DENSE_RANGE:
    valid = len == 0;
    break;
  case NNRP_TILE_INDEX_BITSET:
    valid = pop == ti.count;
    break;
  default: /* RAW_U16, DELTA_U16 */
    valid = len == 2u * (size_t)ti.count;
    break;
  }
  nnrp_fault f = {1, 0, NULL, NULL};
  int rc = nnrp_tile_index_check(&ti, &f);
  FZ_CHECK(rc == (valid ? 0 : NNRP_ERR_MALFORMED_BODY));
  if (rc != 0) {
    check_fault(rc, &f);
    return;
  }
  nnrp_tile_iter it;
  nnrp_tile_iter_init(&it, &ti);
  uint32_t id = 0, prev = 0, n = 0;
  size_t bit = 0;
  while (n <= ti.count && nnrp_tile_iter_next(&it, &id)) {
    uint32_t want;
    switch (ti.mode) {
    case NNRP_TILE_INDEX_DENSE_RANGE:
      want = ti.base_id + n;
      break;
    case NNRP_TILE_INDEX_RAW_U16:
      want = rd16(blk + 2u * n);
      break;
    case NNRP_TILE_INDEX_DELTA_U16:
      want = rd16(blk + 2u * n) + (n ? prev : 0);
      break;
    default: /* BITSET: the next set bit, ascending */
      while (bit < 8u * len && !(blk[bit / 8u] & (1u << (bit % 8u))))
        bit++;
      want = (uint32_t)bit++;
      break;
    }
    FZ_CHECK(id == want);
    prev = id;
    n++;
  }
  FZ_CHECK(n == ti.count);
}

/* ---- tensor body -------------------------------------------------------- */

static void check_tensor_view(const nnrp_tensor_view *tv, const uint8_t *body,
                              size_t len) {
  FZ_CHECK(inside(tv->tiles.block.ptr, tv->tiles.block.len, body, len));
  FZ_CHECK(inside(tv->sections.ptr, tv->sections.len, body, len));
  FZ_CHECK(nnrp_tile_index_check(&tv->tiles, NULL) == 0);
  nnrp_section_iter it;
  nnrp_section_view s;
  nnrp_section_iter_init(&it, tv);
  uint32_t k = 0, prev_role = 0;
  while (k <= tv->section_count && nnrp_section_iter_next(&it, &s)) {
    FZ_CHECK(k == 0 || s.desc.role_id > prev_role); /* strictly increasing */
    prev_role = s.desc.role_id;
    FZ_CHECK(s.tile_count == tv->tiles.count);
    FZ_CHECK(s.desc.length_table_bytes == 4u * (uint32_t)s.tile_count);
    FZ_CHECK(s.desc.codec_table_bytes == 0 ||
             s.desc.codec_table_bytes == s.tile_count);
    FZ_CHECK(((s.desc.flags & NNRP_SECTION_FIXED_STRIDE) != 0) ==
             (s.desc.payload_stride_bytes != 0));
    nnrp_tile_data_iter td;
    nnrp_bytes tile;
    uint8_t codec;
    uint64_t sum = 0;
    uint32_t j = 0;
    nnrp_tile_data_iter_init(&td, &s);
    while (j <= s.tile_count && nnrp_tile_data_iter_next(&td, &tile, &codec)) {
      uint32_t declared = rd32(s.length_table + 4u * j);
      FZ_CHECK(tile.len == declared);
      FZ_CHECK(codec == (s.codec_table ? s.codec_table[j] : s.desc.codec_id));
      if (s.desc.payload_stride_bytes) {
        FZ_CHECK(tile.len <= s.desc.payload_stride_bytes);
        FZ_CHECK(tile.len == 0 ||
                 tile.ptr ==
                     s.payload + (size_t)j * s.desc.payload_stride_bytes);
      } else {
        FZ_CHECK(tile.len == 0 || tile.ptr == s.payload + sum);
      }
      sum += tile.len;
      j++;
    }
    FZ_CHECK(j == s.tile_count);
    if (s.desc.payload_stride_bytes == 0)
      FZ_CHECK(sum == s.desc.payload_bytes);
    else
      FZ_CHECK((uint64_t)s.desc.payload_stride_bytes * s.tile_count ==
               s.desc.payload_bytes);
    k++;
  }
  FZ_CHECK(k == tv->section_count);
}

static void op_tensor(const uint8_t *p, uint32_t flags, const uint8_t *body,
                      size_t len) {
  nnrp_tile_index ti = {
      (uint8_t)(p[0] % 4u), rd16(p + 1), rd32(p + 3), {NULL, 0}};
  uint32_t tib = rd32(p + 7);
  uint16_t sc = rd16(p + 11);
  nnrp_tensor_view tv;
  nnrp_fault f = {1, 0, NULL, NULL};
  int rc = nnrp_tensor_body_decode(&tv, &ti, tib, sc, body, len, flags, &f);
  if (rc != 0) {
    FZ_CHECK(rc == NNRP_ERR_MALFORMED_BODY);
    check_fault(rc, &f);
  } else {
    FZ_CHECK(tv.section_count == sc && tv.tiles.count == ti.count &&
             tv.tiles.mode == ti.mode && tv.tiles.block.len == tib);
    FZ_CHECK(tib == 0 || tv.tiles.block.ptr == body);
    check_tensor_view(&tv, body, len);
  }
  if (flags == 0 && rc == 0)
    FZ_CHECK(nnrp_tensor_body_decode(&tv, &ti, tib, sc, body, len,
                                     NNRP_WIRE_LENIENT, NULL) == 0);
}

/* ---- data bodies with derived metadata ---------------------------------- */

/* Valid-looking metadata from the parameters (M3, M4, R2-R6 respected). */
static void derive_submit(const uint8_t *p, nnrp_frame_submit *m) {
  memset(m, 0, sizeof(*m));
  m->payload_kind_bitmap = p[0] & NNRP_PAYLOAD_KIND_KNOWN_MASK;
  m->submit_mode = (uint8_t)(p[1] % 3u);
  m->object_ref_mask = p[2] & NNRP_SLOT_KNOWN_MASK;
  if (m->submit_mode == NNRP_SUBMIT_MODE_INLINE)
    m->object_ref_mask = 0;
  else if (m->object_ref_mask == 0)
    m->object_ref_mask = NNRP_SLOT_CAMERA;
  m->payload_frame_count = p[3];
  if (m->payload_kind_bitmap & NNRP_PAYLOAD_KIND_TENSOR) {
    m->tile_count = rd16(p + 4);
    m->section_count = p[6];
    m->tile_index_mode = (uint8_t)(p[7] % 4u);
    m->tile_base_id = rd32(p + 8);
    m->camera_bytes = rd16(p + 12);
    m->tile_index_bytes = rd16(p + 14);
    m->src_width = 64;
    m->src_height = 64;
    m->tile_width = 8;
    m->tile_height = 8;
  }
}

static void derive_result(const uint8_t *p, nnrp_result_push *m) {
  memset(m, 0, sizeof(*m));
  m->payload_kind_bitmap = p[0] & NNRP_PAYLOAD_KIND_KNOWN_MASK;
  m->result_class = (uint8_t)(p[1] % 4u);
  m->result_flags = (uint16_t)(p[2] & NNRP_RESULT_FLAG_KNOWN_MASK);
  m->payload_frame_count = p[3];
  m->applied_budget_policy = p[15] & NNRP_BUDGET_KNOWN_MASK;
  if (m->payload_kind_bitmap & NNRP_PAYLOAD_KIND_TENSOR) {
    m->tile_count = rd16(p + 4);
    m->section_count = p[6];
    uint16_t covered = rd16(p + 7);
    m->covered_tile_count = covered < m->tile_count ? covered : m->tile_count;
    m->dropped_tile_count = (uint16_t)(m->tile_count - m->covered_tile_count);
    m->tile_base_id = rd32(p + 9);
    m->tile_index_bytes = rd16(p + 13);
  }
  int partial = m->result_class == NNRP_RESULT_CLASS_PARTIAL ||
                (m->result_flags & NNRP_RESULT_FLAG_PARTIAL);
  if (partial && m->dropped_tile_count == 0 && m->covered_tile_count > 0) {
    m->covered_tile_count--;
    m->dropped_tile_count++;
  } else if (partial && m->dropped_tile_count == 0) {
    m->result_class = NNRP_RESULT_CLASS_COMPLETE;
    m->result_flags &= (uint16_t)~NNRP_RESULT_FLAG_PARTIAL;
  }
}

static void op_data(uint8_t t, const uint8_t *p, const nnrp_wire_opts *o,
                    const uint8_t *body, size_t len) {
  nnrp_meta m;
  if (t == NNRP_MSG_FRAME_SUBMIT)
    derive_submit(p, &m.frame_submit);
  else
    derive_result(p, &m.result_push);
  size_t ml = (size_t)nnrp_msg_meta_len(t);
  size_t plen = 40 + ml + len;
  uint8_t *pkt = malloc(plen);
  FZ_CHECK(pkt != NULL);
  nnrp_header h;
  nnrp_header_init(&h, t);
  h.session_id = 1;
  h.frame_id = 1;
  h.body_len = (uint32_t)len;
  nnrp_header_encode(&h, pkt);
  FZ_CHECK(nnrp_meta_encode(t, &m, pkt + 40, ml) == (int)ml);
  if (len)
    memcpy(pkt + 40 + ml, body, len);
  nnrp_meta d;
  nnrp_fault f = {1, 0, NULL, NULL};
  int rc = nnrp_meta_decode(t, &d, pkt + 40, ml, o->flags, &f);
  if (rc != 0) {
    check_fault(rc, &f);
  } else {
    nnrp_data_body b;
    f.err = 1;
    rc = nnrp_data_body_decode(t, &d, &b, body, len, o, &f);
    if (rc != 0)
      check_fault(rc, &f);
    else if (b.has_tensor && !(b.slots_referenced & NNRP_SLOT_TILE_INDEX))
      check_tensor_view(&b.tensor, body, len);
  }
  /* Same verdict through the packet decoder; accepted packets re-encode
   * stably through the builders. */
  nnrp_packet pk, q;
  f.err = 1;
  int prc = nnrp_packet_decode(&pk, pkt, plen, o, &f);
  FZ_CHECK(prc == rc);
  if (prc == 0) {
    FZ_CHECK(nnrp_rt_views_inside(&pk, pkt, plen, NULL, 0));
    size_t cap = 2 * plen + 4096;
    uint8_t *a = malloc(cap), *c = malloc(cap);
    FZ_CHECK(a != NULL && c != NULL);
    long n = nnrp_rt_rebuild(&pk, a, cap, &f);
    FZ_CHECK(n >= 0 || n == NNRP_ERR_INCONSISTENT);
    if (n >= 0) {
      FZ_CHECK(nnrp_packet_decode(&q, a, (size_t)n, o, NULL) == 0);
      FZ_CHECK(nnrp_rt_compare(&pk, &q, NNRP_RT_SEMANTIC, NULL, 0));
      FZ_CHECK(nnrp_rt_rebuild(&q, c, cap, &f) == n);
      FZ_CHECK(memcmp(a, c, (size_t)n) == 0);
    }
    free(a);
    free(c);
  }
  free(pkt);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size == 0 || size > MAX_INPUT)
    return 0;
  unsigned op = data[0] & 3u;
  if (size < 1 + param_len[op])
    return 0;
  size_t len = size - 1 - param_len[op];
  /* The body in an exact-size buffer: ASan sees any read past it. */
  uint8_t *body = malloc(len ? len : 1);
  FZ_CHECK(body != NULL);
  if (len)
    memcpy(body, data + 1 + param_len[op], len);
  const uint8_t *p = data + 1;
  nnrp_wire_opts o;
  nnrp_wire_opts_default(&o);
  o.flags = (data[0] & 4u) ? NNRP_WIRE_LENIENT : 0;
  if (data[0] & 8u) {
    o.payload_kinds = NNRP_PAYLOAD_KIND_TENSOR | NNRP_PAYLOAD_KIND_TOKEN_CHUNK;
    o.cache_objects = 0x07;
    o.max_sections = 2;
  }
  switch (op) {
  case OP_TILES:
    op_tiles(p, body, len);
    break;
  case OP_TENSOR:
    op_tensor(p, o.flags, body, len);
    break;
  case OP_SUBMIT:
    op_data(NNRP_MSG_FRAME_SUBMIT, p, &o, body, len);
    break;
  default:
    op_data(NNRP_MSG_RESULT_PUSH, p, &o, body, len);
    break;
  }
  free(body);
  return 0;
}
