/* SPDX-License-Identifier: Apache-2.0 */
/*
 * gen_random.h - a seeded generator of random VALID packets of all 21 message
 * types (built with the public builders), and helpers to check, re-encode
 * and compare decoded packets (wire.md §2-§10; those live in gen_check.c).
 * Shared by the round-trip and guard-page tests and by the fuzz targets,
 * which all compile gen_random.c (which includes gen_check.c) into
 * themselves with #include "gen_random.c": files of tests/wire other than
 * test_*.c are not built on their own.
 *
 * Pure C11, no I/O, no global state; every result is a return value plus an
 * optional "why" message written into a caller buffer.
 */
#ifndef NNRP_TEST_GEN_RANDOM_H
#define NNRP_TEST_GEN_RANDOM_H

#include <stddef.h>
#include <stdint.h>

#include <nnrp/nnrp_wire.h>

/* ---- Deterministic random numbers (splitmix64) -------------------------- */

typedef struct nnrp_rng {
  uint64_t s;
} nnrp_rng;

void nnrp_rng_seed(nnrp_rng *r, uint64_t seed);
uint64_t nnrp_rng_u64(nnrp_rng *r);
/** Uniform in [0, n); n > 0. */
uint32_t nnrp_rng_below(nnrp_rng *r, uint32_t n);
/** 1 with probability pct/100. */
int nnrp_rng_chance(nnrp_rng *r, unsigned pct);

/* ---- Generator ---------------------------------------------------------- */

enum {
  NNRP_GEN_TILES = 8,    /* tiles per packet (tile_count) */
  NNRP_GEN_SECTIONS = 3, /* inline sections */
  NNRP_GEN_TYPED = 6,    /* typed payloads */
  NNRP_GEN_REFS = 5,     /* object references */
  NNRP_GEN_INLINE = 4,   /* extra inline objects */
  NNRP_GEN_EXT = 3,      /* extension frames */
  NNRP_GEN_TLV = 6,      /* extra control extension entries */
  NNRP_GEN_POOL = 3072   /* payload bytes of one packet */
};

/** Body shapes of the data messages (nnrp_gen.shape). */
enum {
  NNRP_GEN_SUBMIT_LEGACY = 0,
  NNRP_GEN_SUBMIT_INLINE = 1,    /* composed, INLINE mode */
  NNRP_GEN_SUBMIT_REFERENCE = 2, /* composed, REFERENCE mode */
  NNRP_GEN_SUBMIT_MIXED = 3,     /* composed, MIXED mode */
  NNRP_GEN_SUBMIT_TYPED = 4,     /* composed, no tensor */
  NNRP_GEN_SUBMIT_EMPTY = 5,     /* composed, nothing in it */
  NNRP_GEN_RESULT_LEGACY = 0,
  NNRP_GEN_RESULT_EMPTY = 1,    /* legacy form, bitmap 0, no body */
  NNRP_GEN_RESULT_COMPOSED = 2, /* typed + optional tensor + refs ... */
  NNRP_GEN_SHAPES = 6
};

/** One generated packet: the builder input and the storage behind it. */
typedef struct nnrp_gen {
  uint8_t msg_type;
  unsigned shape;
  nnrp_header hdr;
  nnrp_meta meta; /* builder input; derived fields as sent after build */
  /* FRAME_SUBMIT / RESULT_PUSH */
  nnrp_body_data body;
  nnrp_tensor_data tensor;
  nnrp_section_data sections[NNRP_GEN_SECTIONS];
  nnrp_bytes tiles[NNRP_GEN_SECTIONS][NNRP_GEN_TILES];
  uint8_t codecs[NNRP_GEN_SECTIONS][NNRP_GEN_TILES];
  uint16_t tile_ids[NNRP_GEN_TILES];
  nnrp_typed_frame typed[NNRP_GEN_TYPED];
  nnrp_object_ref refs[NNRP_GEN_REFS];
  nnrp_inline_object extra[NNRP_GEN_INLINE];
  nnrp_ext_frame ext[NNRP_GEN_EXT];
  /* every other message */
  nnrp_control_body ctl;
  nnrp_hello_exts exts;
  nnrp_ext_entry tlv[NNRP_GEN_TLV];
  nnrp_profile_patch patch;
  uint8_t pool[NNRP_GEN_POOL];
  size_t pool_used;
} nnrp_gen;

/** The 21 message types, in wire.md §3 order. */
extern const uint8_t nnrp_gen_types[21];

/** Fills *g with a random valid packet description of msg_type (every
 *  enum value, flag and body shape is reachable). shape < NNRP_GEN_SHAPES
 *  picks the body shape of a data message (taken modulo the shapes of that
 *  message); other messages ignore it. */
void nnrp_gen_make(nnrp_gen *g, nnrp_rng *r, uint8_t msg_type, unsigned shape);

/** Builds *g into o with nnrp_build_control / _frame_submit /
 *  _result_push; g->meta then holds the sent metadata. */
int nnrp_gen_build(nnrp_gen *g, nnrp_out *o, nnrp_fault *f);

/** Checks that p (the decoded packet built from g) carries every generated
 *  value. @return 1 if so; 0 and a message in why otherwise. */
int nnrp_gen_verify(const nnrp_gen *g, const nnrp_packet *p, char *why,
                    size_t cap);

/* ---- Decoded packets ---------------------------------------------------- */

/** 1 when every view of an accepted packet p (metadata, body, every region,
 *  object, frame, section and tile) lies inside [buf, buf + len); else 0
 *  with a message. Iteration is bounded by the packet. */
int nnrp_rt_views_inside(const nnrp_packet *p, const uint8_t *buf, size_t len,
                         char *why, size_t cap);

/** Re-encodes p verbatim: nnrp_header_encode + nnrp_meta_encode + the body
 *  bytes. @return the length, or -1 when cap is too small. */
long nnrp_rt_raw_encode(const nnrp_packet *p, uint8_t *out, size_t cap);

/**
 * Re-encodes p with the builders: nnrp_build_control (hello extension
 * entries passed verbatim as extra entries), or nnrp_body_data_from_view +
 * nnrp_build_frame_submit / nnrp_build_result_push.
 * @return the packet length in out; a negative NNRP_ERR_* when the builder or
 *         the export refuses (*f says why) or out is too small.
 */
long nnrp_rt_rebuild(const nnrp_packet *p, uint8_t *out, size_t cap,
                     nnrp_fault *f);

/** Comparison modes of nnrp_rt_compare(). */
#define NNRP_RT_EXACT 0u /**< every field, every view's bytes */
#define NNRP_RT_SEMANTIC                                                       \
  1u /**< b was rebuilt from a: header send rules of                           \
          §2.4 applied to a, derived lengths, bitmaps                         \
          and reserved fields not compared, bodies                             \
          compared as builder input */

/** Field-by-field comparison of two decoded packets (reflection for the
 *  header and metadata, accessors for the bodies). @return 1 if equal; 0
 *  with a message naming the first difference. */
int nnrp_rt_compare(const nnrp_packet *a, const nnrp_packet *b, unsigned how,
                    char *why, size_t cap);

#endif /* NNRP_TEST_GEN_RANDOM_H */
