/* SPDX-License-Identifier: Apache-2.0 */
/*
 * model_upscale.c - the arithmetic of the `upscale` demo model: FP16 <->
 * float conversion, the shape of a tile, a bilinear 2x upscale and a
 * nearest-neighbour one (DEGRADED), and the rewrite of a result's tensor
 * sections (every FP16 tile replaced by its upscaled copy in one malloc'd
 * buffer; tiles past the covered ones emptied for PARTIAL).
 */
#include <stdlib.h>
#include <string.h>

#include "model.h"
#include "model_int.h"

float fp16_to_float(uint16_t h) {
  uint32_t sign = (uint32_t)(h & 0x8000u) << 16;
  uint32_t exp = (uint32_t)(h >> 10) & 0x1Fu;
  uint32_t man = h & 0x3FFu;
  uint32_t x;
  if (exp == 0 && man == 0) {
    x = sign;
  } else if (exp == 0) { /* subnormal: normalise */
    uint32_t e = 0;
    while ((man & 0x400u) == 0) {
      man <<= 1;
      e++;
    }
    x = sign | ((113u - e) << 23) | ((man & 0x3FFu) << 13);
  } else if (exp == 31) {
    x = sign | 0x7F800000u | (man << 13);
  } else {
    x = sign | ((exp + 112u) << 23) | (man << 13);
  }
  float f;
  memcpy(&f, &x, sizeof(f));
  return f;
}

/* Rounds man >> shift to nearest even. */
static uint32_t round_shift(uint32_t man, uint32_t shift) {
  uint32_t q = man >> shift;
  uint32_t rem = man & ((1u << shift) - 1u);
  uint32_t mid = 1u << (shift - 1u);
  if (rem > mid || (rem == mid && (q & 1u)))
    q++;
  return q;
}

uint16_t fp16_from_float(float f) {
  uint32_t x;
  memcpy(&x, &f, sizeof(x));
  uint16_t sign = (uint16_t)((x >> 16) & 0x8000u);
  int32_t exp = (int32_t)((x >> 23) & 0xFFu);
  uint32_t man = x & 0x7FFFFFu;
  if (exp == 0xFF) /* Inf, or NaN kept quiet */
    return (uint16_t)(sign | 0x7C00u | (man ? 0x200u : 0u));
  int32_t e = exp - 127 + 15;
  if (e >= 31)
    return (uint16_t)(sign | 0x7C00u);
  if (e <= 0) { /* subnormal half (or zero) */
    if (e < -10)
      return sign;
    return (uint16_t)(sign | round_shift(man | 0x800000u, (uint32_t)(14 - e)));
  }
  /* A carry out of the mantissa correctly bumps the exponent (to Inf at
   * the top). */
  uint32_t h = round_shift(((uint32_t)e << 23) | man, 13);
  return (uint16_t)(sign | h);
}

/* floor(sqrt(n)) by bisection. */
static uint32_t isqrt(uint32_t n) {
  uint32_t lo = 0, hi = 65536u;
  while (hi - lo > 1u) {
    uint32_t mid = lo + (hi - lo) / 2u;
    if ((uint64_t)mid * mid <= n)
      lo = mid;
    else
      hi = mid;
  }
  return lo;
}

int fp16_tile_shape(size_t len, uint32_t tw, uint32_t th, uint32_t *w,
                    uint32_t *h) {
  if (len == 0 || len % 2 != 0 || len / 2 > UINT32_MAX / 4)
    return 0;
  uint32_t n = (uint32_t)(len / 2);
  if (tw != 0 && th != 0 && (uint64_t)tw * th == n) {
    *w = tw;
    *h = th;
    return 1;
  }
  uint32_t s = isqrt(n);
  if (s == 0 || (uint64_t)s * s != n)
    return 0;
  *w = s;
  *h = s;
  return 1;
}

/* Source coordinate of output index o (half-pixel centres): the two
 * neighbours (clamped) and the weight of the second. */
static void src_coord(uint32_t o, uint32_t n, uint32_t *a, uint32_t *b,
                      float *t) {
  uint32_t i = o / 2u;
  if (o % 2u == 0) { /* i - 0.25 */
    *a = i == 0 ? 0 : i - 1u;
    *b = i;
    *t = 0.75f;
  } else { /* i + 0.25 */
    *a = i;
    *b = i + 1u < n ? i + 1u : n - 1u;
    *t = 0.25f;
  }
}

/* Input row y as floats. */
static void load_row(const uint8_t *in, uint32_t w, uint32_t y, float *row) {
  const uint8_t *p = in + (size_t)y * w * 2u;
  for (uint32_t x = 0; x < w; x++)
    row[x] = fp16_to_float((uint16_t)(p[2u * x] | p[2u * x + 1u] << 8));
}

static void put16(uint8_t *out, size_t i, float f) {
  uint16_t v = fp16_from_float(f);
  out[2u * i] = (uint8_t)(v & 0xFFu);
  out[2u * i + 1u] = (uint8_t)(v >> 8);
}

/* Output row: the two source rows blended (weight ty of r1) into v, then
 * 2x horizontally: output 2x is 1/4 v[x-1] + 3/4 v[x], output 2x+1 is
 * 3/4 v[x] + 1/4 v[x+1] (neighbours clamped at the edges). */
static void emit_row(const float *r0, const float *r1, float ty, uint32_t w,
                     float *v, uint8_t *out) {
  for (uint32_t x = 0; x < w; x++)
    v[x] = r0[x] * (1.0f - ty) + r1[x] * ty;
  for (uint32_t x = 0; x < w; x++) {
    float l = v[x == 0 ? 0 : x - 1u], r = v[x + 1u < w ? x + 1u : x];
    put16(out, 2u * x, l * 0.25f + v[x] * 0.75f);
    put16(out, 2u * x + 1u, v[x] * 0.75f + r * 0.25f);
  }
}

int fp16_upscale2x(const uint8_t *in, uint32_t w, uint32_t h, uint8_t *out) {
  /* Every input row is converted once; rows are reused by two output
   * rows on each side. */
  float *rows = malloc(((size_t)w * h + w) * sizeof(float));
  if (rows == NULL)
    return NNRP_ERR_NOMEM;
  float *v = rows + (size_t)w * h; /* the blended row */
  for (uint32_t y = 0; y < h; y++)
    load_row(in, w, y, rows + (size_t)y * w);
  for (uint32_t oy = 0; oy < 2u * h; oy++) {
    uint32_t y0, y1;
    float ty;
    src_coord(oy, h, &y0, &y1, &ty);
    emit_row(rows + (size_t)y0 * w, rows + (size_t)y1 * w, ty, w, v,
             out + (size_t)oy * 4u * w);
  }
  free(rows);
  return 0;
}

void fp16_upscale2x_nearest(const uint8_t *in, uint32_t w, uint32_t h,
                            uint8_t *out) {
  for (uint32_t oy = 0; oy < 2u * h; oy++) {
    const uint8_t *src = in + (size_t)(oy / 2u) * w * 2u;
    uint8_t *dst = out + (size_t)oy * 4u * w;
    for (uint32_t x = 0; x < w; x++) {
      dst[4u * x] = dst[4u * x + 2u] = src[2u * x];
      dst[4u * x + 1u] = dst[4u * x + 3u] = src[2u * x + 1u];
    }
  }
}

/* Output bytes of one section's FP16 tiles with a known shape, of the
 * first `covered` tiles. */
static uint64_t section_out_bytes(const nnrp_section_data *sd, uint16_t tc,
                                  uint32_t covered,
                                  const nnrp_frame_submit *m) {
  uint64_t n = 0;
  uint32_t w, h;
  if (sd->dtype_id != NNRP_DTYPE_FP16)
    return 0;
  for (uint16_t j = 0; j < tc && j < covered; j++)
    if (fp16_tile_shape(sd->tiles[j].len, m->tile_width, m->tile_height, &w,
                        &h))
      n += 4u * (uint64_t)sd->tiles[j].len;
  return n;
}

/* Upscales the first mode->covered tiles of one FP16 section into buf at
 * *off; the tiles after them were emptied by the caller. */
static void section_upscale(nnrp_section_data *sd, nnrp_bytes *tiles,
                            uint16_t tc, const nnrp_frame_submit *m,
                            const model_up_mode *mode, uint8_t *buf,
                            size_t *off, model_report *rep) {
  uint32_t w, h, done = 0;
  for (uint16_t j = 0; j < tc; j++) {
    if (tiles[j].len == 0) { /* a dropped tile stays empty */
      done++;
      continue;
    }
    if (!fp16_tile_shape(tiles[j].len, m->tile_width, m->tile_height, &w, &h)) {
      rep->tiles_passed++;
      continue;
    }
    if (mode->nearest) {
      fp16_upscale2x_nearest(tiles[j].ptr, w, h, buf + *off);
    } else if (fp16_upscale2x(tiles[j].ptr, w, h, buf + *off) != 0) {
      rep->tiles_passed++; /* out of memory: the tile goes back as is */
      continue;
    }
    tiles[j].ptr = buf + *off;
    tiles[j].len *= 4u;
    *off += tiles[j].len;
    rep->tiles_upscaled++;
    done++;
  }
  if (sd->payload_stride_bytes != 0)
    sd->payload_stride_bytes *= 4u; /* upscaled tiles are 4x longer */
  if (done == tc && sd->element_count_per_tile <= UINT32_MAX / 4u)
    sd->element_count_per_tile *= 4u;
}

/* PARTIAL: tiles from index `covered` on carry no content in any section
 * (zero-length entries, wire.md §6.3). */
static void drop_tiles(model_body *mb, uint32_t covered) {
  nnrp_tensor_data *t = &mb->st.tensor;
  for (uint16_t i = 0; i < t->section_count; i++) {
    nnrp_bytes *tiles = mb->st.tiles + (size_t)i * t->tile_count;
    for (uint32_t j = covered; j < t->tile_count; j++)
      tiles[j].len = 0;
  }
}

int model_upscale_tensor(model_body *mb, const nnrp_frame_submit *m,
                         const model_up_mode *mode, void **owned,
                         uint16_t *status, model_report *rep) {
  nnrp_tensor_data *t = &mb->st.tensor;
  uint64_t total = 0;
  *owned = NULL;
  if (mode->covered < t->tile_count)
    drop_tiles(mb, mode->covered);
  for (uint16_t i = 0; i < t->section_count; i++)
    total +=
        section_out_bytes(&mb->st.sections[i], t->tile_count, mode->covered, m);
  if (total > MODEL_MAX_RESULT_BYTES)
    return NNRP_ERR_LIMIT_EXCEEDED;
  uint8_t *buf = NULL;
  if (total != 0 && (buf = malloc((size_t)total)) == NULL)
    return NNRP_ERR_NOMEM;
  size_t off = 0;
  uint32_t passed = rep->tiles_passed;
  for (uint16_t i = 0; i < t->section_count; i++) {
    nnrp_section_data *sd = &mb->st.sections[i];
    nnrp_bytes *tiles = mb->st.tiles + (size_t)i * t->tile_count;
    if (sd->dtype_id == NNRP_DTYPE_FP16)
      section_upscale(sd, tiles, t->tile_count, m, mode, buf, &off, rep);
  }
  if (rep->tiles_passed != passed)
    *status = MODEL_STATUS_PASSTHROUGH;
  *owned = buf;
  return 0;
}
