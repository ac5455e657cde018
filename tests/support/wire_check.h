/* SPDX-License-Identifier: Apache-2.0 */
/*
 * wire_check.h - helpers shared by the wire tests (tests/wire/test_*.c):
 * seed-line vector lookup, JSON numbers, comparing a vector's "fields"
 * object with a decoded struct by field name (through the reflection API of
 * nnrp_wire.h), little-endian patching, building and decoding packets around
 * a metadata block, and the checks of tensor/composed bodies and hello
 * extension entries that several tests share.
 *
 * Functions are named wc_*; the WC_* macros call the wc_*_at() checks with
 * the caller's file and line. Every check reports through the harness
 * (harness.h) and lets the test go on; every setup helper (vector lookup,
 * allocation, an impossible argument) aborts with harness_die().
 */
#ifndef NNRP_TEST_WIRE_CHECK_H
#define NNRP_TEST_WIRE_CHECK_H

#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>
#include <nnrp/nnrp_wire.h>

#include "harness.h"

/* ---- seed-line.json ---------------------------------------------------- */

/** The "vectors" array of seed-line.json, loaded on first use. */
const cJSON *wc_vectors(void);

/** The vector called name; aborts when there is none. */
const cJSON *wc_vec(const char *name);

/** The "fields" object of the vector called name; aborts when missing. */
const cJSON *wc_vec_fields(const char *name);

/** The bytes of the vector called name in a new malloc'd buffer (*out,
 *  freed by the caller); returns their number. */
size_t wc_vec_hex(const char *name, uint8_t **out);

/** Copies the vector called name into out; aborts unless it is exactly len
 *  bytes long. */
void wc_vec_exact(const char *name, uint8_t *out, size_t len);

/** Copies len bytes at offset off of the vector called name into out;
 *  aborts when the vector is shorter than off + len. */
void wc_vec_copy(const char *name, size_t off, uint8_t *out, size_t len);

/** Frees seed-line.json (end of main; a later wc_vec() reloads it). */
void wc_vectors_free(void);

/** The bytes of parameter param of the case whose "id" is id in the
 *  conformance file relpath (below the vectors directory), as a new
 *  malloc'd buffer with *len set; NULL when no such case or parameter. */
uint8_t *wc_case_hex(const char *relpath, const char *id, const char *param,
                     size_t *len);

/* ---- JSON values ------------------------------------------------------- */

/** Member key of object o; aborts when missing. */
const cJSON *wc_jget(const cJSON *o, const char *key);

/** A JSON integer: a number, or a string that starts with a decimal or 0x
 *  number ("0x17 FLOW_UPDATE", "2 TCP"). Returns 1 with *out set, or 0. */
int wc_jnum(const cJSON *j, uint64_t *out);

/** wc_jnum() of member key of o (0 when it is not an integer); aborts when
 *  the member is missing. */
uint64_t wc_jval(const cJSON *o, const char *key);

/** 1 when JSON integer j equals v. Numbers from 2^53 up lost precision in
 *  cJSON's double and are compared as doubles. */
int wc_json_eq(const cJSON *j, uint64_t v);

/* ---- Structs by field name (nnrp_struct_fields / nnrp_field_*) ---------- */

/** Flag of wc_check_fields(): every field of the struct must also be a
 *  member of the JSON object (else only the members are checked). */
#define WC_EXACT 0x1u

/** Compares every member of JSON object obj, except the names in skip (a
 *  NULL-terminated list, or NULL), with the field of the same wire.md name
 *  of struct id (nnrp_struct_id) at base. A member that names no field, or
 *  differs, fails the test with its name and both values. Returns 1 when
 *  everything matched. Call it through WC_CHECK_FIELDS (caller's line). */
int wc_check_fields_at(const char *file, int line, const cJSON *obj, int id,
                       const void *base, const char *const *skip,
                       unsigned flags);
#define WC_CHECK_FIELDS(obj, id, base, skip, flags)                            \
  wc_check_fields_at(__FILE__, __LINE__, (obj), (id), (base), (skip), (flags))

/** Field name of struct id at base; aborts when the struct has no such
 *  field. */
uint64_t wc_field(int id, const void *base, const char *name);

/** Sets field name of struct id at base (truncated to its size); aborts
 *  when the struct has no such field. */
void wc_set_field(int id, void *base, const char *name, uint64_t v);

/** Sets every field named by a member of obj to the member's integer. */
void wc_set_fields(int id, void *base, const cJSON *obj);

/** Writes the fields of struct id at base as they are on the wire (each
 *  little-endian, in table order, packed) and returns the byte count. */
size_t wc_struct_put(int id, const void *base, uint8_t *out);

/** Reads the fields of struct id from wire bytes in (the inverse of
 *  wc_struct_put()) and returns the byte count. */
size_t wc_struct_get(int id, void *base, const uint8_t *in);

/* ---- Bytes ------------------------------------------------------------- */

/** Writes the low width bytes (1..8) of v little-endian at p. */
void wc_put_le(uint8_t *p, unsigned width, uint64_t v);

/** Reads width bytes (1..8) little-endian at p. */
uint64_t wc_get_le(const uint8_t *p, unsigned width);

/** Number of leading bytes of p[0..n) equal to v. */
size_t wc_span(const uint8_t *p, size_t n, uint8_t v);

/** 1 when all n bytes at p equal v (canary checks). */
int wc_all_eq(const uint8_t *p, size_t n, uint8_t v);

/** 1 when an iovec entry of o is exactly {base, len}. */
int wc_iov_has(const nnrp_out *o, const void *base, size_t len);

/* ---- Faults (checks at the caller's line) ------------------------------- */

/** rc and f.err are err, f.rule is rule and f.field is field. */
#define WC_FAULT(rc, f, e, r, fld)                                             \
  do {                                                                         \
    CHECK_EQ_INT((rc), (e));                                                   \
    CHECK_EQ_INT((f).err, (e));                                                \
    CHECK_EQ_STR((f).rule, (r));                                               \
    CHECK_EQ_STR((f).field, (fld));                                            \
  } while (0)

/** rc and f->err are err, f->field is field, f->offset is off and f->rule
 *  contains sec (a spec section such as "§10.1"). Returns 1 when all hold.
 *  Call it through WC_FAULT_AT (caller's line). */
int wc_fault_at(const char *file, int line, int rc, const nnrp_fault *f,
                int err, const char *field, uint64_t off, const char *sec);
#define WC_FAULT_AT(rc, f, e, fld, off, sec)                                   \
  wc_fault_at(__FILE__, __LINE__, (rc), &(f), (e), (fld), (off), (sec))

/** rc and f.err are err and f.field is field (packet-decoder faults, whose
 *  offsets are packet-relative). */
#define WC_FAULT_FIELD(rc, f, e, fld)                                          \
  do {                                                                         \
    CHECK_EQ_INT((rc), (e));                                                   \
    CHECK_EQ_INT((f).err, (e));                                                \
    CHECK_EQ_STR((f).field, (fld));                                            \
  } while (0)

/* ---- Packets ----------------------------------------------------------- */

/** Writes the 40 header bytes of *h by hand (independent of header.c). */
void wc_header_put(uint8_t *out, const nnrp_header *h);

/** Writes a packet of type: a header with version 1, header_len 40,
 *  session_id, the fixed meta_len of type and body_len (everything else 0),
 *  then the metadata (meta_len bytes of meta) and the body (body_len bytes
 *  of body, or zeros when body is NULL) into out. Returns the length;
 *  aborts when cap is too small. */
size_t wc_packet(uint8_t *out, size_t cap, uint8_t type, uint32_t session_id,
                 const uint8_t *meta, const uint8_t *body, uint32_t body_len);

/** wc_packet() into a new malloc'd buffer of exactly the packet's length
 *  (*len); the caller frees it. */
uint8_t *wc_packet_new(uint8_t type, uint32_t session_id, const uint8_t *meta,
                       const uint8_t *body, uint32_t body_len, size_t *len);

/** nnrp_packet_decode() with default options and flags; *p and *f are
 *  zeroed first. */
int wc_decode(nnrp_packet *p, const uint8_t *buf, size_t len, uint32_t flags,
              nnrp_fault *f);

/** The same packet through the message's own functions only (wire_int.h
 *  descriptor table): header read by hand, then meta_dec on exactly
 *  meta_len bytes and body_dec, in the order the packet decoder calls them.
 *  NNRP_ERR_INVALID_ARGUMENT for an unknown type, a meta_len other than the
 *  type's or a length other than the header's. */
int wc_decode_direct(nnrp_packet *p, const uint8_t *buf, size_t len,
                     uint32_t flags, nnrp_fault *f);

/** The message's own body_dec alone on a packet filled by hand: header with
 *  session_id and body_len, metadata decoded (strictly, must pass) from
 *  meta, body = body_len bytes of body (zeros when NULL). *p is the packet;
 *  *f is zeroed before body_dec. */
int wc_body_dec(nnrp_packet *p, uint8_t type, const uint8_t *meta,
                uint32_t session_id, const uint8_t *body, uint32_t body_len,
                nnrp_fault *f);

/** The body view a decoder sets for p->hdr.msg_type: the diagnostic of an
 *  ERROR, the object of a CACHE_PUT, the filler of a TRANSPORT_PROBE, the
 *  token of a SESSION_MIGRATE, else the raw body. */
nnrp_bytes wc_body_view(const nnrp_packet *p);

/* ---- Metadata blocks --------------------------------------------------- */

/** nnrp_meta_decode() on exactly the fixed meta_len of type; *f is zeroed
 *  first. */
int wc_meta_decode(uint8_t type, const uint8_t *meta, uint32_t flags,
                   nnrp_meta *m, nnrp_fault *f);

/** The message's own meta_dec on a copy of exactly meta_len bytes placed
 *  against a guard page; *m and *f are zeroed first. */
int wc_meta_dec(uint8_t type, const uint8_t *meta, uint32_t flags, nnrp_meta *m,
                nnrp_fault *f);

/** wc_meta_dec() on a copy of base with the width-byte LE value val at
 *  off. */
int wc_meta_dec_patched(uint8_t type, const uint8_t *base, size_t off,
                        unsigned width, uint64_t val, uint32_t flags,
                        nnrp_meta *m, nnrp_fault *f);

/** The message's own meta_enc writes exactly the meta_len bytes of expect
 *  and nothing after them. */
void wc_check_meta_enc(uint8_t type, const nnrp_meta *m, const uint8_t *expect);

/** wc_meta_dec_patched() with flags succeeds and, unless name is NULL, the
 *  decoded field name (wire.md name) is expect. Returns 1 when it holds.
 *  Call it through WC_PATCH_OK (caller's line). */
int wc_patch_ok_at(const char *file, int line, uint8_t type,
                   const uint8_t *base, size_t off, unsigned width,
                   uint64_t val, uint32_t flags, const char *name,
                   uint64_t expect);
#define WC_PATCH_OK(type, base, off, width, val, flags, name, expect)          \
  wc_patch_ok_at(__FILE__, __LINE__, (type), (base), (off), (width), (val),    \
                 (flags), (name), (expect))

/** wc_meta_dec_patched() with flags fails with NNRP_ERR_MALFORMED_BODY as
 *  wc_fault_at() describes (field, fault offset fault_off, rule section
 *  sec). Call it through WC_PATCH_FAULT (caller's line). */
int wc_patch_fault_at(const char *file, int line, uint8_t type,
                      const uint8_t *base, size_t off, unsigned width,
                      uint64_t val, uint32_t flags, const char *field,
                      uint64_t fault_off, const char *sec);
#define WC_PATCH_FAULT(type, base, off, width, val, flags, fld, foff, sec)     \
  wc_patch_fault_at(__FILE__, __LINE__, (type), (base), (off), (width), (val), \
                    (flags), (fld), (foff), (sec))

/** wc_meta_dec() of meta succeeds and the message's own meta_enc gives the
 *  same bytes back (wc_check_meta_enc()); *out receives the metadata.
 *  Returns 1 when it holds. */
int wc_meta_roundtrip(uint8_t type, const uint8_t *meta, nnrp_meta *out);

/** wc_meta_decode() (public API) of meta with flags returns err and the
 *  fault names field at metadata offset off. Call it through WC_META_FAULT
 *  (caller's line). */
int wc_meta_fault_at(const char *file, int line, uint8_t type,
                     const uint8_t *meta, uint32_t flags, int err,
                     const char *field, uint32_t off);
#define WC_META_FAULT(type, meta, flags, err, fld, off)                        \
  wc_meta_fault_at(__FILE__, __LINE__, (type), (meta), (flags), (err), (fld),  \
                   (off))

/** A strict-only (reserved) field through nnrp_meta_decode(): base with the
 *  width-byte LE value val at off fails strictly with
 *  NNRP_ERR_MALFORMED_BODY, rule (exact), field and offset off, and decodes
 *  leniently with val kept in field. Call it through WC_RESERVED. */
int wc_reserved_at(const char *file, int line, uint8_t type,
                   const uint8_t *base, size_t off, unsigned width,
                   uint64_t val, const char *rule, const char *field);
#define WC_RESERVED(type, base, off, width, val, rule, fld)                    \
  wc_reserved_at(__FILE__, __LINE__, (type), (base), (off), (width), (val),    \
                 (rule), (fld))

/* ---- Vector checks ----------------------------------------------------- */

/** Compares a JSON "header" object with *h field by field. "magic" is
 *  compared with the first four bytes of pkt, or with "NNRP" when pkt is
 *  NULL. */
void wc_check_header(const cJSON *obj, const nnrp_header *h,
                     const uint8_t *pkt);

/** A metadata vector through the message's own functions: decode (strict,
 *  then lenient) on a guard page, every field by name (skip: members
 *  checked by the caller), byte-exact re-encode. *out (may be NULL)
 *  receives the decoded metadata. */
void wc_check_meta_vector(const char *name, const char *const *skip,
                          nnrp_meta *out);

/** A packet vector through wc_decode() and wc_decode_direct(): header and
 *  metadata fields by name, the zero-copy body view, then header, metadata
 *  and body view re-encoded byte-exact. */
void wc_check_packet_vector(const char *name);

/** A golden metadata vector on a guard page: its length is meta_len,
 *  nnrp_meta_decode() (strict), every field of the struct by name, both
 *  directions (WC_EXACT), nnrp_meta_encode() byte-exact; the message's own
 *  meta_enc and meta_dec agree; one byte short is NNRP_ERR_MALFORMED_BODY
 *  ("wire.md §15 step 13", "meta_len"). *out (may be NULL) receives what
 *  the message's own meta_dec decoded. */
void wc_check_meta_golden(const char *name, nnrp_meta *out);

/** Every "metadata" vector whose message_type is t1 or t2 through the
 *  public API: length, nnrp_meta_decode() (strict), every field by name,
 *  nnrp_meta_encode() byte-exact. Returns the number of such vectors. */
int wc_check_meta_vectors(uint8_t t1, uint8_t t2);

/** One control-extension entry object of a vector (ext_type, ext_flags,
 *  ext_len and payload fields under their vector names) against entry e
 *  and the block x it was decoded into. A name with no mapping fails. */
void wc_check_ext_entry(const cJSON *obj, const nnrp_ext_entry *e,
                        const nnrp_hello_exts *x);

/* ---- Tensor and composed bodies ---------------------------------------- */

/** nnrp_data_body_decode() of a body of message type (FRAME_SUBMIT or
 *  RESULT_PUSH) with metadata *m and default options but flags. */
int wc_data_decode(uint8_t type, const nnrp_meta *m, const uint8_t *body,
                   size_t len, uint32_t flags, nnrp_data_body *b,
                   nnrp_fault *f);

/** The tile iterator of ti yields exactly the ids of JSON array ids, and
 *  ti->count of them. */
void wc_check_tile_ids(const nnrp_tile_index *ti, const cJSON *ids);

/** A decoded section against a JSON section object: every descriptor field
 *  by name, the tile count, each tile's bytes ("tiles", hex) and codec
 *  ("codec_ids", or codec_id when null), and nothing more. */
void wc_check_section(const nnrp_section_view *s, const cJSON *js);

/** The sections of tv against a JSON array of section objects. */
void wc_check_sections(const nnrp_tensor_view *tv, const cJSON *secs);

/** Writes a composed body: the 32-byte prelude (the six region lengths,
 *  body_flags and reserved 0) then the regions r[0..5] in order. Returns the
 *  body length. */
size_t wc_compose(uint8_t *out, const nnrp_bytes r[NNRP_REGION_COUNT]);

/** Writes an inline object block (kind, object_bytes n, data, zero pad to
 *  8; other header fields 0). Returns its length. */
size_t wc_inline_block(uint8_t *out, uint16_t kind, const void *data,
                       uint32_t n);

/** Writes a 16-byte reference block (ref_flags 0). Returns 16. */
size_t wc_ref_block(uint8_t *out, uint16_t kind, uint32_t ns, uint32_t hi,
                    uint32_t lo);

#endif /* NNRP_TEST_WIRE_CHECK_H */
