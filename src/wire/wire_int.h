/* SPDX-License-Identifier: Apache-2.0 */
/*
 * wire_int.h - internals shared by the wire codec files: the fault helper
 * and the per-message descriptor table (STYLE "Wire codec": one table indexed
 * by message type drives dispatch).
 *
 * Each message family file (hello.c, patch.c, flow.c, ...) defines the three
 * functions of its messages; msgtab.c lists them.
 */
#ifndef NNRP_WIRE_INT_H
#define NNRP_WIRE_INT_H

#include <nnrp/nnrp_wire.h>

#include "conv.h"

/* Records a validation failure and returns err. f may be NULL. Offsets are
 * relative to the structure being decoded (metadata or body); the packet
 * decoder rebases them to packet offsets. */
static inline int nnrp__fail(nnrp_fault *f, int err, size_t offset,
                             const char *rule, const char *field) {
  if (f) {
    f->err = err;
    f->offset = (uint32_t)offset;
    f->rule = rule;
    f->field = field;
  }
  return err;
}

#define NNRP__STRICT(flags) (((flags)&NNRP_WIRE_LENIENT) == 0)

/* Direction bits. */
#define NNRP_DIR_C2S 0x1u
#define NNRP_DIR_S2C 0x2u
#define NNRP_DIR_BOTH 0x3u

/* Decodes exactly desc->meta_len bytes at in (length already checked):
 * wire.md §15 step 16 for the metadata alone (plus the stateless step-17
 * rules of CLIENT_HELLO). Returns 0 or NNRP_ERR_*; fault offsets relative to
 * the metadata. */
typedef int (*nnrp_meta_dec_fn)(nnrp_meta *m, const uint8_t *in,
                                uint32_t flags, nnrp_fault *f);
/* Writes exactly desc->meta_len bytes. */
typedef void (*nnrp_meta_enc_fn)(const nnrp_meta *m, uint8_t *out);
/* Checks the body rule (step 15), header/metadata cross rules (step 16),
 * negotiation, limits and body structure (steps 17-19) of a packet whose
 * p->hdr, p->m, p->meta_raw and p->body_raw are set; fills p->b. Fault
 * offsets relative to the body. NULL means "body must be empty". */
typedef int (*nnrp_body_dec_fn)(nnrp_packet *p, const nnrp_wire_opts *o,
                                nnrp_fault *f);

typedef struct nnrp_msg_desc {
  uint8_t type;
  uint8_t dir;      /* NNRP_DIR_* (for the session's step 10) */
  uint16_t meta_len;
  const char *name; /* spec name, "FRAME_SUBMIT" */
  nnrp_meta_dec_fn meta_dec; /* NULL for meta_len 0 */
  nnrp_meta_enc_fn meta_enc; /* NULL for meta_len 0 */
  nnrp_body_dec_fn body_dec;
} nnrp_msg_desc;

/* Returns the descriptor of a known message type, or NULL. */
const nnrp_msg_desc *nnrp__msg_desc(uint8_t type);

/* Per-message functions (defined in the family files). */
#define NNRP__MSG_FUNCS(name)                                                  \
  int nnrp__##name##_meta_dec(nnrp_meta *m, const uint8_t *in, uint32_t flags, \
                              nnrp_fault *f);                                  \
  void nnrp__##name##_meta_enc(const nnrp_meta *m, uint8_t *out);              \
  int nnrp__##name##_body_dec(nnrp_packet *p, const nnrp_wire_opts *o,         \
                              nnrp_fault *f);

NNRP__MSG_FUNCS(client_hello)       /* hello.c */
NNRP__MSG_FUNCS(server_hello_ack)   /* hello.c */
NNRP__MSG_FUNCS(session_patch)      /* patch.c */
NNRP__MSG_FUNCS(session_patch_ack)  /* patch.c */
NNRP__MSG_FUNCS(error)              /* error_msg.c */
NNRP__MSG_FUNCS(frame_submit)       /* submit.c */
NNRP__MSG_FUNCS(result_push)        /* result.c */
NNRP__MSG_FUNCS(cache_put)          /* cache.c */
NNRP__MSG_FUNCS(cache_ack)          /* cache.c */
NNRP__MSG_FUNCS(cache_invalidate)   /* cache.c */
NNRP__MSG_FUNCS(flow_update)        /* flow.c */
NNRP__MSG_FUNCS(result_hint)        /* flow.c */
NNRP__MSG_FUNCS(transport_probe)    /* probe.c */
NNRP__MSG_FUNCS(transport_probe_ack)/* probe.c */
NNRP__MSG_FUNCS(session_migrate)    /* migrate.c */
NNRP__MSG_FUNCS(session_migrate_ack)/* migrate.c */

/* Body decoders of the header-only and ignored-body messages (msgtab.c). */
int nnrp__empty_body_dec(nnrp_packet *p, const nnrp_wire_opts *o,
                         nnrp_fault *f);
int nnrp__ignored_body_dec(nnrp_packet *p, const nnrp_wire_opts *o,
                           nnrp_fault *f);

/* True when every byte of [p, p+n) is zero. */
static inline int nnrp__all_zero(const uint8_t *p, size_t n) {
  uint8_t acc = 0;
  for (size_t i = 0; i < n; i++)
    acc |= p[i];
  return acc == 0;
}

/* out.c internals ------------------------------------------------------- */
/* Scatter-gather output helpers used by every builder (out.c). Each returns
 * 0 or NNRP_ERR_BUFFER_TOO_SMALL; on failure nothing is written past the
 * scratch or iovec capacity (the nnrp_out is then unusable until reset).
 * Scratch bytes never move (scratch is caller memory), so a pointer from
 * nnrp__out_reserve() stays valid for patching until the next reset.
 * Adjacent scratch writes coalesce into one segment; o->total counts every
 * byte described. */
/* Copies n bytes into scratch (appended to the current scratch segment). */
int nnrp__out_bytes(nnrp_out *o, const void *p, size_t n);
/* References caller memory: copies when n <= o->copy_max or o->iov_cap == 0,
 * else closes the current scratch segment and adds an iovec {p, n}. */
int nnrp__out_ref(nnrp_out *o, const void *p, size_t n);
/* Reserves n bytes of scratch in the current segment; returns where to write
 * them, or NULL (BUFFER_TOO_SMALL) when scratch or the iovec array is too
 * small. The bytes are not initialised. */
uint8_t *nnrp__out_reserve(nnrp_out *o, size_t n);
/* end of out.c internals ------------------------------------------------ */

/* ---- Data-plane bodies (tensor.c, composed.c, submit.c, result.c) ------ */

/* Census of the inline-object and reference regions of a composed body,
 * indexed by CacheObjectKind (1..9; index 0 unused). Filled by
 * nnrp__composed_decode() for the F- and P-rules. */
#define NNRP__KIND_SLOTS 10
typedef struct nnrp__obj_census {
  uint32_t inline_n[NNRP__KIND_SLOTS]; /* inline blocks per kind */
  uint32_t ref_n[NNRP__KIND_SLOTS];    /* reference blocks per kind */
  nnrp_inline_object first[NNRP__KIND_SLOTS]; /* first inline block */
  size_t first_off[NNRP__KIND_SLOTS]; /* body offset of its payload */
} nnrp__obj_census;

/* wire.md §9.1-9.5 in order (prelude and regions, inline blocks, reference
 * blocks, T1-T4, extension frames) on a composed body of len bytes; fills
 * b->composed, prelude, regions and the four counts, and *c. Fault offsets
 * relative to the body. Returns 0, NNRP_ERR_MALFORMED_BODY or
 * NNRP_ERR_UNSUPPORTED_CAPABILITY (CRITICAL extension frame). */
int nnrp__composed_decode(nnrp_data_body *b, nnrp__obj_census *c,
                          const uint8_t *body, size_t len,
                          uint32_t payload_kind_bitmap,
                          uint16_t payload_frame_count, uint32_t flags,
                          nnrp_fault *f);

/* Reads the 16-byte reference block at p (no validation). */
void nnrp__ref_read(const uint8_t *p, nnrp_object_ref *r);

/* Body decoders behind nnrp_data_body_decode() (b already zeroed, opts not
 * NULL): steps 17-19 of FRAME_SUBMIT (submit.c) and RESULT_PUSH (result.c). */
int nnrp__submit_body_decode(const nnrp_frame_submit *m, nnrp_data_body *b,
                             const uint8_t *body, size_t len,
                             const nnrp_wire_opts *o, nnrp_fault *f);
int nnrp__result_body_decode(const nnrp_result_push *m, nnrp_data_body *b,
                             const uint8_t *body, size_t len,
                             const nnrp_wire_opts *o, nnrp_fault *f);

/* build_tensor.c internals (used by build_data.c) ---------------------- */
/* Checks the encoder rules of wire.md §8.4 for tile ids (ids NULL means
 * base+i) and sets *bytes to the block size. 0 or NNRP_ERR_INCONSISTENT. */
int nnrp__tile_index_plan(uint8_t mode, uint32_t base, const uint16_t *ids,
                          uint16_t n, uint32_t *bytes, nnrp_fault *f);
/* 1 when ids (or base+i) are exactly base .. base+n-1. */
int nnrp__tile_ids_dense(uint32_t base, const uint16_t *ids, uint16_t n);
/* Writes a tile-index block planned by nnrp__tile_index_plan(). */
int nnrp__tile_index_write(nnrp_out *o, uint8_t mode, uint32_t base,
                           const uint16_t *ids, uint16_t n, uint32_t bytes);
/* Checks sections against wire.md §8.3/§8.5 (S1-S8, role order, enums) and
 * sets *bytes to the size of the section sequence with the first section at
 * an 8-aligned offset (pads between sections included, none after the
 * last). 0 or NNRP_ERR_INCONSISTENT. */
int nnrp__sections_plan(const nnrp_section_data *s, uint16_t sc, uint16_t tc,
                        uint64_t *bytes, nnrp_fault *f);
/* Writes sections planned by nnrp__sections_plan(). */
int nnrp__sections_write(nnrp_out *o, const nnrp_section_data *s,
                         uint16_t sc, uint16_t tc);
/* Appends n zero bytes to scratch. */
int nnrp__out_zeros(nnrp_out *o, size_t n);
/* end of build_tensor.c internals ------------------------------------- */

#endif /* NNRP_WIRE_INT_H */
