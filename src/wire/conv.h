/* SPDX-License-Identifier: Apache-2.0 */
/*
 * conv.h - little-endian load/store helpers (wire.md §1 rules 1-3).
 *
 * NNRP fields are packed and often unaligned: every access goes through
 * these helpers (memcpy-free byte assembly the compiler turns into single
 * loads/stores). Never cast packet memory to a struct.
 */
#ifndef NNRP_WIRE_CONV_H
#define NNRP_WIRE_CONV_H

#include <stddef.h>
#include <stdint.h>

static inline uint16_t nnrp_rd16(const uint8_t *p) {
  return (uint16_t)(p[0] | (uint16_t)(p[1] << 8));
}
static inline uint32_t nnrp_rd32(const uint8_t *p) {
  return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) |
         ((uint32_t)p[3] << 24);
}
static inline uint64_t nnrp_rd64(const uint8_t *p) {
  return (uint64_t)nnrp_rd32(p) | ((uint64_t)nnrp_rd32(p + 4) << 32);
}

/* Advancing readers: *pp moves past the field. */
static inline uint8_t nnrp_get_u8(const uint8_t **pp) { return *(*pp)++; }
static inline uint16_t nnrp_get_u16le(const uint8_t **pp) {
  uint16_t v = nnrp_rd16(*pp);
  *pp += 2;
  return v;
}
static inline uint32_t nnrp_get_u32le(const uint8_t **pp) {
  uint32_t v = nnrp_rd32(*pp);
  *pp += 4;
  return v;
}
static inline uint64_t nnrp_get_u64le(const uint8_t **pp) {
  uint64_t v = nnrp_rd64(*pp);
  *pp += 8;
  return v;
}

/* Writers return the position after the field. */
static inline uint8_t *nnrp_put_u8(uint8_t *p, uint8_t v) {
  *p = v;
  return p + 1;
}
static inline uint8_t *nnrp_put_u16le(uint8_t *p, uint16_t v) {
  p[0] = (uint8_t)v;
  p[1] = (uint8_t)(v >> 8);
  return p + 2;
}
static inline uint8_t *nnrp_put_u32le(uint8_t *p, uint32_t v) {
  p[0] = (uint8_t)v;
  p[1] = (uint8_t)(v >> 8);
  p[2] = (uint8_t)(v >> 16);
  p[3] = (uint8_t)(v >> 24);
  return p + 4;
}
static inline uint8_t *nnrp_put_u64le(uint8_t *p, uint64_t v) {
  p = nnrp_put_u32le(p, (uint32_t)v);
  return nnrp_put_u32le(p, (uint32_t)(v >> 32));
}

/* align8(n) of wire.md §1 rule 6, in 64-bit arithmetic. */
static inline uint64_t nnrp_align8(uint64_t n) { return (n + 7u) & ~(uint64_t)7u; }

#endif /* NNRP_WIRE_CONV_H */
