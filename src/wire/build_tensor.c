/* SPDX-License-Identifier: Apache-2.0 */
/*
 * build_tensor.c - encoder side of the tensor body (wire.md §8.3-§8.5): the
 * four tile-index encodings with their encoder rules, and the section
 * writer (tiles in order, codec table only when a tile codec differs,
 * fixed-stride zero fill, length table, padding between sections).
 * Used by build_data.c for legacy bodies and for inline tensor objects.
 */
#include <string.h>

#include "wire_int.h"

#define SECTION_DESC_LEN 32u

static const char rule_ti[] = "wire.md §8.4";

int nnrp__out_zeros(nnrp_out *o, size_t n) {
  uint8_t *d = nnrp__out_reserve(o, n);
  if (d == NULL)
    return NNRP_ERR_BUFFER_TOO_SMALL;
  if (n != 0)
    memset(d, 0, n);
  return 0;
}

static uint32_t tile_id(uint32_t base, const uint16_t *ids, uint32_t i) {
  return ids ? ids[i] : base + i;
}

int nnrp__tile_ids_dense(uint32_t base, const uint16_t *ids, uint16_t n) {
  if (n == 0)
    return 1;
  if ((uint64_t)base + n - 1u > UINT32_MAX)
    return 0;
  if (ids == NULL)
    return 1;
  for (uint32_t i = 0; i < n; i++)
    if ((uint32_t)ids[i] != base + i)
      return 0;
  return 1;
}

/* RAW_U16 / DELTA_U16 / BITSET: every id a u16; DELTA and BITSET need
 * strictly increasing ids. Returns the largest id in *max. */
static int ids_check_u16(uint8_t mode, uint32_t base, const uint16_t *ids,
                         uint16_t n, uint32_t *max, nnrp_fault *f) {
  uint32_t prev = 0;
  *max = 0;
  if (ids == NULL && n != 0 && (uint64_t)base + n - 1u > 0xFFFFu)
    return nnrp__fail(f, NNRP_ERR_INCONSISTENT, 0, rule_ti, "tile_base_id");
  int increasing = mode != NNRP_TILE_INDEX_RAW_U16;
  for (uint32_t i = 0; i < n; i++) {
    uint32_t id = tile_id(base, ids, i);
    if (increasing && i > 0 && id <= prev)
      return nnrp__fail(f, NNRP_ERR_INCONSISTENT, i,
                        mode == NNRP_TILE_INDEX_BITSET
                            ? "wire.md §8.4 BITSET"
                            : "wire.md §8.4 DELTA_U16",
                        "tile_ids");
    if (id > *max)
      *max = id;
    prev = id;
  }
  return 0;
}

int nnrp__tile_index_plan(uint8_t mode, uint32_t base, const uint16_t *ids,
                          uint16_t n, uint32_t *bytes, nnrp_fault *f) {
  uint32_t max = 0;
  int rc;
  *bytes = 0;
  switch (mode) {
  case NNRP_TILE_INDEX_DENSE_RANGE:
    if (!nnrp__tile_ids_dense(base, ids, n))
      return nnrp__fail(f, NNRP_ERR_INCONSISTENT, 0, "wire.md §8.4 DENSE_RANGE",
                        "tile_ids");
    return 0;
  case NNRP_TILE_INDEX_RAW_U16:
  case NNRP_TILE_INDEX_DELTA_U16:
    rc = ids_check_u16(mode, base, ids, n, &max, f);
    if (rc == 0)
      *bytes = 2u * (uint32_t)n;
    return rc;
  case NNRP_TILE_INDEX_BITSET:
    rc = ids_check_u16(mode, base, ids, n, &max, f);
    if (rc == 0 && n != 0)
      *bytes = max / 8u + 1u;
    return rc;
  default:
    return nnrp__fail(f, NNRP_ERR_INCONSISTENT, 0, "wire.md §6.1 M1",
                      "tile_index_mode");
  }
}

int nnrp__tile_index_write(nnrp_out *o, uint8_t mode, uint32_t base,
                           const uint16_t *ids, uint16_t n, uint32_t bytes) {
  if (bytes == 0)
    return 0;
  uint8_t *d = nnrp__out_reserve(o, bytes);
  if (d == NULL)
    return NNRP_ERR_BUFFER_TOO_SMALL;
  if (mode == NNRP_TILE_INDEX_BITSET) {
    memset(d, 0, bytes);
    for (uint32_t i = 0; i < n; i++) {
      uint32_t id = tile_id(base, ids, i);
      d[id / 8u] = (uint8_t)(d[id / 8u] | (1u << (id % 8u)));
    }
    return 0;
  }
  uint32_t prev = 0;
  for (uint32_t i = 0; i < n; i++) {
    uint32_t id = tile_id(base, ids, i);
    uint32_t v = (mode == NNRP_TILE_INDEX_DELTA_U16 && i > 0) ? id - prev : id;
    d = nnrp_put_u16le(d, (uint16_t)v);
    prev = id;
  }
  return 0;
}

/* ---- Sections ------------------------------------------------------------ */

/* 1 when some tile codec differs from the section default (then a codec
 * table is written and MIXED_CODEC set). */
static int section_mixed(const nnrp_section_data *s, uint16_t tc) {
  if (s->tile_codec_ids == NULL)
    return 0;
  for (uint32_t i = 0; i < tc; i++)
    if (s->tile_codec_ids[i] != s->codec_id)
      return 1;
  return 0;
}

/* Field and tile checks of one section; sets its encoded size. */
static int section_plan(const nnrp_section_data *s, uint16_t tc, size_t at,
                        uint64_t *size, nnrp_fault *f) {
  static const char r85[] = "wire.md §8.5";
  if (s->dtype_id > NNRP_DTYPE_UINT16)
    return nnrp__fail(f, NNRP_ERR_INCONSISTENT, at, r85, "dtype_id");
  if (s->layout_id > NNRP_LAYOUT_NCHW)
    return nnrp__fail(f, NNRP_ERR_INCONSISTENT, at, r85, "layout_id");
  if (s->scale_policy > NNRP_SCALE_POLICY_ZERO_POINT)
    return nnrp__fail(f, NNRP_ERR_INCONSISTENT, at, r85, "scale_policy");
  if (tc != 0 && s->tiles == NULL)
    return nnrp__fail(f, NNRP_ERR_INCONSISTENT, at, "wire.md §8.5 S8", "tiles");
  uint64_t stride = s->payload_stride_bytes;
  uint64_t payload = 0;
  for (uint32_t i = 0; i < tc; i++) {
    size_t n = s->tiles[i].len;
    if (n != 0 && s->tiles[i].ptr == NULL)
      return nnrp__fail(f, NNRP_ERR_INCONSISTENT, at, "wire.md §8.5 S1",
                        "tiles");
    if (stride != 0 && (uint64_t)n > stride)
      return nnrp__fail(f, NNRP_ERR_INCONSISTENT, at, "wire.md §8.5 S6",
                        "payload_stride_bytes");
    if ((uint64_t)n > NNRP_MAX_PACKET_BYTES)
      return nnrp__fail(f, NNRP_ERR_INCONSISTENT, at, "wire.md §2.1 D19",
                        "tiles");
    payload += n;
  }
  if (stride != 0)
    payload = stride * tc;
  uint64_t codec = section_mixed(s, tc) ? tc : 0;
  *size = SECTION_DESC_LEN + codec + 4u * (uint64_t)tc + payload;
  return 0;
}

int nnrp__sections_plan(const nnrp_section_data *s, uint16_t sc, uint16_t tc,
                        uint64_t *bytes, nnrp_fault *f) {
  uint64_t total = 0;
  *bytes = 0;
  if (sc != 0 && s == NULL)
    return nnrp__fail(f, NNRP_ERR_INCONSISTENT, 0, "wire.md §8.3", "sections");
  for (uint32_t i = 0; i < sc; i++) {
    if (i > 0 && s[i].role_id <= s[i - 1].role_id)
      return nnrp__fail(f, NNRP_ERR_INCONSISTENT, i, "wire.md §8.3", "role_id");
    uint64_t size = 0;
    int rc = section_plan(&s[i], tc, i, &size, f);
    if (rc != 0)
      return rc;
    if (total > NNRP_MAX_PACKET_BYTES) /* keeps the sums far from 2^64 */
      return nnrp__fail(f, NNRP_ERR_INCONSISTENT, i, "wire.md §2.1 D19",
                        "sections");
    total = (i + 1u < sc) ? nnrp_align8(total + size) : total + size;
  }
  *bytes = total;
  return 0;
}

/* Writes one section: descriptor, codec table, length table, payload. The
 * descriptor is reserved first and filled once the sums are known (scratch
 * never moves). Returns the section size in *size. */
static int section_write(nnrp_out *o, const nnrp_section_data *s, uint16_t tc,
                         uint64_t *size) {
  uint8_t *desc = nnrp__out_reserve(o, SECTION_DESC_LEN);
  if (desc == NULL)
    return NNRP_ERR_BUFFER_TOO_SMALL;
  uint32_t codec = section_mixed(s, tc) ? tc : 0;
  if (codec != 0 && nnrp__out_bytes(o, s->tile_codec_ids, codec) != 0)
    return NNRP_ERR_BUFFER_TOO_SMALL;
  uint8_t *lt = nnrp__out_reserve(o, 4u * (size_t)tc);
  if (lt == NULL)
    return NNRP_ERR_BUFFER_TOO_SMALL;
  uint32_t stride = s->payload_stride_bytes;
  uint64_t payload = 0;
  for (uint32_t i = 0; i < tc; i++) {
    lt = nnrp_put_u32le(lt, (uint32_t)s->tiles[i].len);
    payload += s->tiles[i].len;
  }
  for (uint32_t i = 0; i < tc; i++) {
    size_t n = s->tiles[i].len;
    if (nnrp__out_ref(o, s->tiles[i].ptr, n) != 0)
      return NNRP_ERR_BUFFER_TOO_SMALL;
    if (stride != 0 && nnrp__out_zeros(o, stride - n) != 0)
      return NNRP_ERR_BUFFER_TOO_SMALL;
  }
  if (stride != 0)
    payload = (uint64_t)stride * tc;
  uint16_t flags = (uint16_t)((codec ? NNRP_SECTION_MIXED_CODEC : 0u) |
                              (stride ? NNRP_SECTION_FIXED_STRIDE : 0u));
  uint8_t *p = nnrp_put_u16le(desc, s->role_id);
  p = nnrp_put_u8(p, s->codec_id);
  p = nnrp_put_u8(p, s->dtype_id);
  p = nnrp_put_u8(p, s->layout_id);
  p = nnrp_put_u8(p, s->scale_policy);
  p = nnrp_put_u16le(p, flags);
  p = nnrp_put_u32le(p, s->element_count_per_tile);
  p = nnrp_put_u32le(p, codec);
  p = nnrp_put_u32le(p, 4u * (uint32_t)tc);
  p = nnrp_put_u32le(p, (uint32_t)payload);
  p = nnrp_put_u32le(p, stride);
  (void)nnrp_put_u32le(p, 0);
  *size = SECTION_DESC_LEN + codec + 4u * (uint64_t)tc + payload;
  return 0;
}

int nnrp__sections_write(nnrp_out *o, const nnrp_section_data *s, uint16_t sc,
                         uint16_t tc) {
  for (uint32_t i = 0; i < sc; i++) {
    uint64_t size = 0;
    int rc = section_write(o, &s[i], tc, &size);
    if (rc != 0)
      return rc;
    if (i + 1u < sc) {
      rc = nnrp__out_zeros(o, (size_t)(nnrp_align8(size) - size));
      if (rc != 0)
        return rc;
    }
  }
  return 0;
}
