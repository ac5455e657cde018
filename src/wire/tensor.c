/* SPDX-License-Identifier: Apache-2.0 */
/*
 * tensor.c - tensor bodies (wire.md §8): the four tile-index encodings and
 * their decoder rules (§8.4), the tensor body layout with its padding and
 * cross-checks (§8.3), TensorSectionDesc and the section rules S1-S8 (§8.5),
 * and the zero-copy iterators over tile ids, sections and tile bytes.
 */
#include <string.h>

#include "wire_int.h"

#define SECTION_DESC_LEN 32u

/* ---- Tile index (§8.4) ------------------------------------------------- */

static unsigned popcount8(uint8_t v) {
  unsigned n = 0;
  for (; v; v &= (uint8_t)(v - 1u))
    n++;
  return n;
}

int nnrp_tile_index_check(const nnrp_tile_index *ti, nnrp_fault *fault) {
  size_t len = ti->block.len;
  switch (ti->mode) {
  case NNRP_TILE_INDEX_DENSE_RANGE:
    if (len != 0)
      return nnrp__fail(fault, NNRP_ERR_MALFORMED_BODY, 0,
                        "wire.md §8.4 DENSE_RANGE", "tile_index_bytes");
    return 0;
  case NNRP_TILE_INDEX_RAW_U16:
  case NNRP_TILE_INDEX_DELTA_U16:
    if ((uint64_t)len != 2u * (uint64_t)ti->count)
      return nnrp__fail(fault, NNRP_ERR_MALFORMED_BODY, 0,
                        ti->mode == NNRP_TILE_INDEX_RAW_U16
                            ? "wire.md §8.4 RAW_U16"
                            : "wire.md §8.4 DELTA_U16",
                        "tile_index_bytes");
    return 0;
  case NNRP_TILE_INDEX_BITSET: {
    /* Trailing zero bytes are tolerated; tile_base_id is ignored. */
    uint64_t n = 0;
    for (size_t i = 0; i < len; i++)
      n += popcount8(ti->block.ptr[i]);
    if (n != ti->count)
      return nnrp__fail(fault, NNRP_ERR_MALFORMED_BODY, 0,
                        "wire.md §8.4 BITSET", "tile_count");
    return 0;
  }
  default:
    return nnrp__fail(fault, NNRP_ERR_MALFORMED_BODY, 0, "wire.md §11.2",
                      "tile_index_mode");
  }
}

void nnrp_tile_iter_init(nnrp_tile_iter *it, const nnrp_tile_index *ti) {
  it->ti = ti;
  it->i = 0;
  it->prev = 0;
  it->pos = 0;
}

/* Next set bit at or after bit it->pos (amortised over the block). */
static int bitset_next(nnrp_tile_iter *it, uint32_t *id) {
  const nnrp_bytes *b = &it->ti->block;
  size_t nbits = b->len * 8u;
  while (it->pos < nbits) {
    size_t byte = it->pos / 8u;
    unsigned bit = (unsigned)(it->pos % 8u);
    uint8_t rest = (uint8_t)(b->ptr[byte] >> bit);
    if (rest == 0) {
      it->pos = (byte + 1u) * 8u;
      continue;
    }
    while ((rest & 1u) == 0) {
      rest = (uint8_t)(rest >> 1);
      it->pos++;
    }
    *id = (uint32_t)it->pos;
    it->pos++;
    return 1;
  }
  return 0;
}

int nnrp_tile_iter_next(nnrp_tile_iter *it, uint32_t *id) {
  const nnrp_tile_index *ti = it->ti;
  if (it->i >= ti->count)
    return 0;
  switch (ti->mode) {
  case NNRP_TILE_INDEX_DENSE_RANGE:
    *id = ti->base_id + it->i; /* u32 arithmetic, wraps like the sender's */
    break;
  case NNRP_TILE_INDEX_RAW_U16:
  case NNRP_TILE_INDEX_DELTA_U16: {
    size_t off = (size_t)it->i * 2u;
    if (off + 2u > ti->block.len) /* unchecked index: stop, never overrun */
      return 0;
    uint32_t v = nnrp_rd16(ti->block.ptr + off);
    if (ti->mode == NNRP_TILE_INDEX_DELTA_U16 && it->i > 0)
      v += it->prev;
    it->prev = v;
    *id = v;
    break;
  }
  case NNRP_TILE_INDEX_BITSET:
    if (!bitset_next(it, id))
      return 0;
    break;
  default:
    return 0;
  }
  it->i++;
  return 1;
}

/* ---- Sections (§8.3, §8.5) --------------------------------------------- */

static void section_desc_read(const uint8_t *p, nnrp_section_desc *d) {
  d->role_id = nnrp_rd16(p);
  d->codec_id = p[2];
  d->dtype_id = p[3];
  d->layout_id = p[4];
  d->scale_policy = p[5];
  d->flags = nnrp_rd16(p + 6);
  d->element_count_per_tile = nnrp_rd32(p + 8);
  d->codec_table_bytes = nnrp_rd32(p + 12);
  d->length_table_bytes = nnrp_rd32(p + 16);
  d->payload_bytes = nnrp_rd32(p + 20);
  d->payload_stride_bytes = nnrp_rd32(p + 24);
  d->reserved = nnrp_rd32(p + 28);
}

/* Descriptor field rules of the §8.5 table (enums, flags, reserved). */
static int section_desc_fields(const nnrp_section_desc *d, size_t at,
                               uint32_t flags, nnrp_fault *f) {
  if (d->dtype_id > NNRP_DTYPE_UINT16)
    return nnrp__fail(f, NNRP_ERR_MALFORMED_BODY, at + 3, "wire.md §8.5",
                      "dtype_id");
  if (d->layout_id > NNRP_LAYOUT_NCHW)
    return nnrp__fail(f, NNRP_ERR_MALFORMED_BODY, at + 4, "wire.md §8.5",
                      "layout_id");
  if (d->scale_policy > NNRP_SCALE_POLICY_ZERO_POINT)
    return nnrp__fail(f, NNRP_ERR_MALFORMED_BODY, at + 5, "wire.md §8.5",
                      "scale_policy");
  if (NNRP__STRICT(flags) && (d->flags & ~NNRP_SECTION_KNOWN_MASK) != 0)
    return nnrp__fail(f, NNRP_ERR_MALFORMED_BODY, at + 6, "wire.md §8.5",
                      "flags");
  if (NNRP__STRICT(flags) && d->reserved != 0)
    return nnrp__fail(f, NNRP_ERR_MALFORMED_BODY, at + 28, "wire.md §1 rule 7",
                      "reserved");
  return 0;
}

/* S2, S8, S5, S4, S3: the declared sizes agree with each other. */
static int section_desc_sizes(const nnrp_section_desc *d, uint16_t tile_count,
                              size_t at, nnrp_fault *f) {
  uint16_t fl = d->flags;
  if (d->length_table_bytes % 4u != 0)
    return nnrp__fail(f, NNRP_ERR_MALFORMED_BODY, at + 16, "wire.md §8.5 S2",
                      "length_table_bytes");
  uint32_t entries = d->length_table_bytes / 4u;
  if (entries != tile_count)
    return nnrp__fail(f, NNRP_ERR_MALFORMED_BODY, at + 16, "wire.md §8.5 S8",
                      "length_table_bytes");
  if (d->codec_table_bytes != 0 && d->codec_table_bytes != entries)
    return nnrp__fail(f, NNRP_ERR_MALFORMED_BODY, at + 12, "wire.md §8.5 S5",
                      "codec_table_bytes");
  if (((fl & NNRP_SECTION_MIXED_CODEC) != 0) != (d->codec_table_bytes != 0))
    return nnrp__fail(f, NNRP_ERR_MALFORMED_BODY, at + 6, "wire.md §8.5 S4",
                      "flags");
  if (((fl & NNRP_SECTION_FIXED_STRIDE) != 0) != (d->payload_stride_bytes != 0))
    return nnrp__fail(f, NNRP_ERR_MALFORMED_BODY, at + 6, "wire.md §8.5 S3",
                      "flags");
  return 0;
}

/* S6 / S7: the length table against the payload blob of the section whose
 * descriptor is at body offset at. */
static int section_payload(const nnrp_section_desc *d, const uint8_t *body,
                           size_t at, nnrp_fault *f) {
  size_t lt_at = at + SECTION_DESC_LEN + d->codec_table_bytes;
  size_t pl_at = lt_at + d->length_table_bytes;
  const uint8_t *lt = body + lt_at;
  const uint8_t *pl = body + pl_at;
  uint32_t entries = d->length_table_bytes / 4u;
  uint64_t stride = d->payload_stride_bytes;
  if (stride != 0) {
    if ((uint64_t)d->payload_bytes != stride * entries)
      return nnrp__fail(f, NNRP_ERR_MALFORMED_BODY, at + 20, "wire.md §8.5 S6",
                        "payload_bytes");
    for (uint32_t i = 0; i < entries; i++) {
      uint32_t n = nnrp_rd32(lt + 4u * (size_t)i);
      size_t slot = (size_t)(stride * i);
      if (n > stride)
        return nnrp__fail(f, NNRP_ERR_MALFORMED_BODY, lt_at + 4u * (size_t)i,
                          "wire.md §8.5 S6", "length_table");
      if (!nnrp__all_zero(pl + slot + n, (size_t)stride - n))
        return nnrp__fail(f, NNRP_ERR_MALFORMED_BODY, pl_at + slot + n,
                          "wire.md §8.5 S6", "payload_blob");
    }
    return 0;
  }
  uint64_t sum = 0;
  for (uint32_t i = 0; i < entries; i++)
    sum += nnrp_rd32(lt + 4u * (size_t)i);
  if (sum != d->payload_bytes)
    return nnrp__fail(f, NNRP_ERR_MALFORMED_BODY, lt_at, "wire.md §8.5 S7",
                      "length_table");
  return 0;
}

/* Validates the section at body[at..len); on success *end is the offset
 * just past its payload blob. */
static int section_decode(const uint8_t *body, size_t len, size_t at,
                          uint16_t tile_count, uint32_t flags,
                          nnrp_section_desc *d, size_t *end, nnrp_fault *f) {
  if (len - at < SECTION_DESC_LEN)
    return nnrp__fail(f, NNRP_ERR_MALFORMED_BODY, at, "wire.md §8.3 rule 3",
                      "section_count");
  section_desc_read(body + at, d);
  int rc = section_desc_fields(d, at, flags, f);
  if (rc == 0)
    rc = section_desc_sizes(d, tile_count, at, f);
  if (rc != 0)
    return rc;
  uint64_t need = (uint64_t)SECTION_DESC_LEN + d->codec_table_bytes +
                  d->length_table_bytes + d->payload_bytes;
  if (need > (uint64_t)(len - at))
    return nnrp__fail(f, NNRP_ERR_MALFORMED_BODY, at + 20, "wire.md §8.5 S1",
                      "payload_bytes");
  rc = section_payload(d, body, at, f);
  if (rc != 0)
    return rc;
  *end = at + (size_t)need;
  return 0;
}

/* Zero padding from pos up to the next multiple of 8 (both modes). */
static int pad_check(const uint8_t *body, size_t len, size_t pos,
                     const char *rule, nnrp_fault *f) {
  uint64_t to = nnrp_align8(pos);
  if (to > len)
    return nnrp__fail(f, NNRP_ERR_MALFORMED_BODY, pos, rule, "padding");
  if (!nnrp__all_zero(body + pos, (size_t)to - pos))
    return nnrp__fail(f, NNRP_ERR_MALFORMED_BODY, pos, rule, "padding");
  return 0;
}

static int sections_decode(nnrp_tensor_view *tv, const uint8_t *body,
                           size_t len, size_t pos, uint32_t flags,
                           nnrp_fault *f) {
  uint32_t prev_role = 0;
  for (uint16_t i = 0; i < tv->section_count; i++) {
    nnrp_section_desc d;
    size_t end = 0;
    int rc =
        section_decode(body, len, pos, tv->tiles.count, flags, &d, &end, f);
    if (rc != 0)
      return rc;
    if (i > 0 && d.role_id <= prev_role)
      return nnrp__fail(f, NNRP_ERR_MALFORMED_BODY, pos, "wire.md §8.3",
                        "role_id");
    prev_role = d.role_id;
    pos = end;
    if (i + 1 < tv->section_count) {
      rc = pad_check(body, len, pos, "wire.md §8.3 rule 4", f);
      if (rc != 0)
        return rc;
      pos = (size_t)nnrp_align8(pos);
    }
  }
  if (pos != len)
    return nnrp__fail(f, NNRP_ERR_MALFORMED_BODY, pos, "wire.md §8.3 rule 5",
                      "body_len");
  return 0;
}

int nnrp_tensor_body_decode(nnrp_tensor_view *tv, const nnrp_tile_index *ti,
                            uint32_t tile_index_bytes, uint16_t section_count,
                            const uint8_t *body, size_t len, uint32_t flags,
                            nnrp_fault *fault) {
  static const uint8_t empty[1] = {0}; /* never NULL + 0 */
  if (body == NULL && len != 0)
    return NNRP_ERR_INVALID_ARGUMENT;
  if (body == NULL)
    body = empty;
  memset(tv, 0, sizeof(*tv));
  tv->tiles = *ti;
  tv->section_count = section_count;
  if ((uint64_t)tile_index_bytes > len)
    return nnrp__fail(fault, NNRP_ERR_MALFORMED_BODY, len,
                      "wire.md §8.3 rule 1", "tile_index_bytes");
  tv->tiles.block.ptr = body;
  tv->tiles.block.len = tile_index_bytes;
  int rc = nnrp_tile_index_check(&tv->tiles, fault);
  if (rc != 0)
    return rc;
  size_t pos = tile_index_bytes;
  if (section_count == 0) {
    if (pos != len)
      return nnrp__fail(fault, NNRP_ERR_MALFORMED_BODY, pos,
                        "wire.md §8.3 rule 5", "body_len");
    tv->sections.ptr = body + pos;
    return 0;
  }
  rc = pad_check(body, len, pos, "wire.md §8.3 rule 2", fault);
  if (rc != 0)
    return rc;
  pos = (size_t)nnrp_align8(pos);
  tv->sections.ptr = body + pos;
  tv->sections.len = len - pos;
  return sections_decode(tv, body, len, pos, flags, fault);
}

void nnrp_section_iter_init(nnrp_section_iter *it, const nnrp_tensor_view *tv) {
  it->tv = tv;
  it->i = 0;
  it->off = 0;
}

int nnrp_section_iter_next(nnrp_section_iter *it, nnrp_section_view *s) {
  const nnrp_tensor_view *tv = it->tv;
  const nnrp_bytes *r = &tv->sections;
  if (it->i >= tv->section_count || it->off > r->len ||
      r->len - it->off < SECTION_DESC_LEN)
    return 0;
  const uint8_t *p = r->ptr + it->off;
  section_desc_read(p, &s->desc);
  s->desc.flags &= NNRP_SECTION_KNOWN_MASK; /* lenient: unknown bits cleared */
  uint64_t need = (uint64_t)SECTION_DESC_LEN + s->desc.codec_table_bytes +
                  s->desc.length_table_bytes + s->desc.payload_bytes;
  if (need > r->len - it->off) /* not a decoded view: stop */
    return 0;
  s->codec_table = s->desc.codec_table_bytes ? p + SECTION_DESC_LEN : NULL;
  s->length_table = p + SECTION_DESC_LEN + s->desc.codec_table_bytes;
  s->payload = s->length_table + s->desc.length_table_bytes;
  s->tile_count = (uint16_t)(s->desc.length_table_bytes / 4u);
  it->off = (size_t)nnrp_align8(it->off + need);
  it->i++;
  return 1;
}

void nnrp_tile_data_iter_init(nnrp_tile_data_iter *it,
                              const nnrp_section_view *s) {
  it->s = s;
  it->i = 0;
  it->off = 0;
}

int nnrp_tile_data_iter_next(nnrp_tile_data_iter *it, nnrp_bytes *tile,
                             uint8_t *codec) {
  const nnrp_section_view *s = it->s;
  if (it->i >= s->tile_count ||
      (uint64_t)it->i * 4u + 4u > s->desc.length_table_bytes)
    return 0;
  uint32_t n = nnrp_rd32(s->length_table + 4u * (size_t)it->i);
  uint64_t stride = s->desc.payload_stride_bytes;
  uint64_t start = stride ? stride * it->i : (uint64_t)it->off;
  if (start + n > s->desc.payload_bytes) /* not a decoded view: stop */
    return 0;
  tile->ptr = s->payload + (size_t)start;
  tile->len = n;
  if (codec)
    *codec = (s->codec_table && it->i < s->desc.codec_table_bytes)
                 ? s->codec_table[it->i]
                 : s->desc.codec_id;
  it->off = (size_t)(start + n);
  it->i++;
  return 1;
}
