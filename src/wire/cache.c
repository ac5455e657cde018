/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cache.c - the cache messages CACHE_PUT (0x14), CACHE_ACK (0x15) and
 * CACHE_INVALIDATE (0x16) (wire.md §10.1-10.3), and the byte-string cache key
 * mapping by 64-bit FNV-1a (wire.md §10.4, decision D16). Cache policy
 * (quota, LRU, REJECTED answers) belongs to the session, not here.
 */
#include "wire_int.h"

static const char rule_put[] = "wire.md §10.1";
static const char rule_ack[] = "wire.md §10.2";
static const char rule_inv[] = "wire.md §10.3";

/* ---- FNV-1a (§10.4) ----------------------------------------------------- */

#define FNV1A64_OFFSET_BASIS 0xcbf29ce484222325u
#define FNV1A64_PRIME 0x100000001b3u

uint64_t nnrp_fnv1a64(const uint8_t *key, size_t len) {
  uint64_t h = FNV1A64_OFFSET_BASIS;
  for (size_t i = 0; i < len; i++) {
    h ^= key[i];
    h *= FNV1A64_PRIME; /* mod 2^64 by unsigned wrap-around */
  }
  return h;
}

void nnrp_cache_key_from_bytes(const uint8_t *key, size_t len, uint32_t *key_hi,
                               uint32_t *key_lo) {
  uint64_t h = nnrp_fnv1a64(key, len);
  *key_hi = (uint32_t)(h >> 32);
  *key_lo = (uint32_t)(h & 0xFFFFFFFFu);
}

/* ---- shared -------------------------------------------------------------- */

/* Step 15 for the cache messages whose body must be empty. */
static int body_empty(const nnrp_packet *p, const char *rule, nnrp_fault *f) {
  if (p->hdr.body_len != 0 || p->body_raw.len != 0)
    return nnrp__fail(f, NNRP_ERR_MALFORMED_BODY, 0, rule, "body_len");
  return 0;
}

/* ---- CACHE_PUT (§10.1) -------------------------------------------------- */

int nnrp__cache_put_meta_dec(nnrp_meta *m, const uint8_t *in, uint32_t flags,
                             nnrp_fault *f) {
  nnrp_cache_put *c = &m->cache_put;
  const uint8_t *p = in;
  c->cache_namespace = nnrp_get_u32le(&p);
  c->cache_key_hi = nnrp_get_u32le(&p);
  c->cache_key_lo = nnrp_get_u32le(&p);
  c->object_kind = nnrp_get_u32le(&p);
  c->ttl_ms = nnrp_get_u32le(&p);
  c->object_bytes = nnrp_get_u32le(&p);
  c->codec_bitmap = nnrp_get_u32le(&p); /* informational, free */
  c->flags = nnrp_get_u32le(&p);

  if (c->object_kind < NNRP_OBJECT_CAMERA_BLOCK ||
      c->object_kind > NNRP_OBJECT_STRUCTURED_EVENT_SCHEMA)
    return nnrp__fail(f, NNRP_ERR_MALFORMED_BODY, 12, rule_put, "object_kind");
  /* CachePutFlags is in the strict-only list of §13: lenient clears. */
  if (c->flags & ~(uint32_t)NNRP_CACHE_PUT_KNOWN_MASK) {
    if (NNRP__STRICT(flags))
      return nnrp__fail(f, NNRP_ERR_MALFORMED_BODY, 28, rule_put, "flags");
    c->flags &= NNRP_CACHE_PUT_KNOWN_MASK;
  }
  return 0;
}

void nnrp__cache_put_meta_enc(const nnrp_meta *m, uint8_t *out) {
  const nnrp_cache_put *c = &m->cache_put;
  uint8_t *p = out;
  p = nnrp_put_u32le(p, c->cache_namespace);
  p = nnrp_put_u32le(p, c->cache_key_hi);
  p = nnrp_put_u32le(p, c->cache_key_lo);
  p = nnrp_put_u32le(p, c->object_kind);
  p = nnrp_put_u32le(p, c->ttl_ms);
  p = nnrp_put_u32le(p, c->object_bytes);
  p = nnrp_put_u32le(p, c->codec_bitmap);
  (void)nnrp_put_u32le(p, c->flags);
}

/* Step 15: object_bytes = body_len. Runs after meta_dec (step 16) in the
 * packet decoder (packet.c). The object itself is opaque here: its
 * structure is the session's business when it is referenced. */
int nnrp__cache_put_body_dec(nnrp_packet *p, const nnrp_wire_opts *o,
                             nnrp_fault *f) {
  (void)o;
  if (p->m.cache_put.object_bytes != p->hdr.body_len ||
      p->body_raw.len != p->hdr.body_len)
    return nnrp__fail(f, NNRP_ERR_MALFORMED_BODY, 0, rule_put, "object_bytes");
  p->b.object = p->body_raw;
  return 0;
}

/* ---- CACHE_ACK (§10.2) -------------------------------------------------- */

int nnrp__cache_ack_meta_dec(nnrp_meta *m, const uint8_t *in, uint32_t flags,
                             nnrp_fault *f) {
  (void)flags;
  nnrp_cache_ack *c = &m->cache_ack;
  const uint8_t *p = in;
  c->cache_namespace = nnrp_get_u32le(&p);
  c->cache_key_hi = nnrp_get_u32le(&p);
  c->cache_key_lo = nnrp_get_u32le(&p);
  c->status = nnrp_get_u32le(&p);
  c->accepted_ttl_ms = nnrp_get_u32le(&p);
  c->max_object_bytes = nnrp_get_u32le(&p);
  c->detail_code = nnrp_get_u32le(&p); /* free (§11.11) */

  if (c->status > NNRP_CACHE_ACK_REPLACED)
    return nnrp__fail(f, NNRP_ERR_MALFORMED_BODY, 12, rule_ack, "status");
  return 0;
}

void nnrp__cache_ack_meta_enc(const nnrp_meta *m, uint8_t *out) {
  const nnrp_cache_ack *c = &m->cache_ack;
  uint8_t *p = out;
  p = nnrp_put_u32le(p, c->cache_namespace);
  p = nnrp_put_u32le(p, c->cache_key_hi);
  p = nnrp_put_u32le(p, c->cache_key_lo);
  p = nnrp_put_u32le(p, c->status);
  p = nnrp_put_u32le(p, c->accepted_ttl_ms);
  p = nnrp_put_u32le(p, c->max_object_bytes);
  (void)nnrp_put_u32le(p, c->detail_code);
}

int nnrp__cache_ack_body_dec(nnrp_packet *p, const nnrp_wire_opts *o,
                             nnrp_fault *f) {
  (void)o;
  return body_empty(p, rule_ack, f);
}

/* ---- CACHE_INVALIDATE (§10.3) ------------------------------------------- */

int nnrp__cache_invalidate_meta_dec(nnrp_meta *m, const uint8_t *in,
                                    uint32_t flags, nnrp_fault *f) {
  (void)flags;
  nnrp_cache_invalidate *c = &m->cache_invalidate;
  const uint8_t *p = in;
  c->invalidate_scope = nnrp_get_u32le(&p);
  c->cache_namespace = nnrp_get_u32le(&p);
  c->cache_key_hi = nnrp_get_u32le(&p);
  c->cache_key_lo = nnrp_get_u32le(&p);
  c->reason_code = nnrp_get_u32le(&p); /* free (§11.11) */

  if (c->invalidate_scope > NNRP_CACHE_INVALIDATE_OBJECT_KEY)
    return nnrp__fail(f, NNRP_ERR_MALFORMED_BODY, 0, rule_inv,
                      "invalidate_scope");
  /* Fields the scope does not use are ignored, not validated (the golden
   * vector has scope 0 with a namespace and a key); in particular the
   * OBJECT_KIND value carried in cache_key_hi is not range-checked here. */
  return 0;
}

void nnrp__cache_invalidate_meta_enc(const nnrp_meta *m, uint8_t *out) {
  const nnrp_cache_invalidate *c = &m->cache_invalidate;
  uint8_t *p = out;
  p = nnrp_put_u32le(p, c->invalidate_scope);
  p = nnrp_put_u32le(p, c->cache_namespace);
  p = nnrp_put_u32le(p, c->cache_key_hi);
  p = nnrp_put_u32le(p, c->cache_key_lo);
  (void)nnrp_put_u32le(p, c->reason_code);
}

int nnrp__cache_invalidate_body_dec(nnrp_packet *p, const nnrp_wire_opts *o,
                                    nnrp_fault *f) {
  (void)o;
  return body_empty(p, rule_inv, f);
}
