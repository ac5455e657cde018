/* SPDX-License-Identifier: Apache-2.0 */
/*
 * patch.c - SESSION_PATCH (0x03, wire.md §4.3) and SESSION_PATCH_ACK (0x04,
 * §4.4) with their optional 16-byte tensor profile (ack) block. Whether a
 * patch is acceptable is the session's business (session.md §10); this file
 * only checks reserved fields, enums, masks and lengths.
 */
#include "wire_int.h"

static const char rule_patch[] = "wire.md §4.3";
static const char rule_ack[] = "wire.md §4.4";
static const char rule_masks[] = "wire.md §13";

#define PROFILE_BLOCK_BYTES 16u

static int block_len_ok(uint32_t n) {
  return n == 0 || n == PROFILE_BLOCK_BYTES;
}

/* Patch masks reject unknown bits in both modes (§13 "both modes" row). */
static int mask_ok(uint32_t mask) {
  return (mask & ~(uint32_t)NNRP_PATCH_KNOWN_MASK) == 0;
}

/* Step 15: the block length field equals body_len; reads the block. */
static int block_dec(nnrp_packet *p, uint32_t block_bytes, const char *rule,
                     const char *field, nnrp_fault *f) {
  if (block_bytes != p->hdr.body_len || p->body_raw.len != p->hdr.body_len)
    return nnrp__fail(f, NNRP_ERR_MALFORMED_BODY, 0, rule, field);
  if (block_bytes == 0)
    return 0;
  const uint8_t *q = p->body_raw.ptr;
  nnrp_profile_patch *b = &p->b.patch.block;
  b->min_width = nnrp_get_u32le(&q);
  b->min_height = nnrp_get_u32le(&q);
  b->max_width = nnrp_get_u32le(&q);
  b->max_height = nnrp_get_u32le(&q);
  p->b.patch.present = 1;
  return 0;
}

/* ---- SESSION_PATCH (§4.3) ------------------------------------------------ */

int nnrp__session_patch_meta_dec(nnrp_meta *m, const uint8_t *in,
                                 uint32_t flags, nnrp_fault *f) {
  nnrp_session_patch *s = &m->session_patch;
  const uint8_t *p = in;
  s->profile_id = nnrp_get_u16le(&p);
  s->reserved0 = nnrp_get_u16le(&p);
  s->patch_mask = nnrp_get_u32le(&p);
  s->target_cadence_x100 = nnrp_get_u32le(&p);
  s->quality_tier = nnrp_get_u16le(&p);
  s->degrade_policy = nnrp_get_u16le(&p);
  s->active_lane_mask = nnrp_get_u64le(&p);
  s->preferred_codec_bitmap = nnrp_get_u32le(&p);
  s->preferred_compression_bitmap = nnrp_get_u32le(&p);
  s->profile_patch_bytes = nnrp_get_u32le(&p);

  if (s->reserved0 != 0 && NNRP__STRICT(flags))
    return nnrp__fail(f, NNRP_ERR_MALFORMED_BODY, 2, rule_patch, "reserved0");
  if (!mask_ok(s->patch_mask))
    return nnrp__fail(f, NNRP_ERR_MALFORMED_BODY, 4, rule_masks, "patch_mask");
  if (!block_len_ok(s->profile_patch_bytes))
    return nnrp__fail(f, NNRP_ERR_MALFORMED_BODY, 32, rule_patch,
                      "profile_patch_bytes");
  return 0;
}

void nnrp__session_patch_meta_enc(const nnrp_meta *m, uint8_t *out) {
  const nnrp_session_patch *s = &m->session_patch;
  uint8_t *p = out;
  p = nnrp_put_u16le(p, s->profile_id);
  p = nnrp_put_u16le(p, s->reserved0);
  p = nnrp_put_u32le(p, s->patch_mask);
  p = nnrp_put_u32le(p, s->target_cadence_x100);
  p = nnrp_put_u16le(p, s->quality_tier);
  p = nnrp_put_u16le(p, s->degrade_policy);
  p = nnrp_put_u64le(p, s->active_lane_mask);
  p = nnrp_put_u32le(p, s->preferred_codec_bitmap);
  p = nnrp_put_u32le(p, s->preferred_compression_bitmap);
  (void)nnrp_put_u32le(p, s->profile_patch_bytes);
}

/* Receivers do not cross-check PROFILE_PATCH against the block (§4.3). */
int nnrp__session_patch_body_dec(nnrp_packet *p, const nnrp_wire_opts *o,
                                 nnrp_fault *f) {
  (void)o;
  return block_dec(p, p->m.session_patch.profile_patch_bytes, rule_patch,
                   "profile_patch_bytes", f);
}

/* ---- SESSION_PATCH_ACK (§4.4) -------------------------------------------- */

int nnrp__session_patch_ack_meta_dec(nnrp_meta *m, const uint8_t *in,
                                     uint32_t flags, nnrp_fault *f) {
  nnrp_session_patch_ack *a = &m->session_patch_ack;
  const uint8_t *p = in;
  a->ack_status = nnrp_get_u16le(&p);
  a->reject_reason = nnrp_get_u16le(&p);
  a->applied_patch_mask = nnrp_get_u32le(&p);
  a->rejected_patch_mask = nnrp_get_u32le(&p);
  a->retry_after_ms = nnrp_get_u32le(&p);
  a->effective_profile_id = nnrp_get_u16le(&p);
  a->reserved0 = nnrp_get_u16le(&p);
  a->effective_target_cadence_x100 = nnrp_get_u32le(&p);
  a->effective_quality_tier = nnrp_get_u16le(&p);
  a->effective_degrade_policy = nnrp_get_u16le(&p);
  a->effective_lane_mask = nnrp_get_u64le(&p); /* unaligned u64 @28 */
  a->effective_codec_bitmap = nnrp_get_u32le(&p);
  a->effective_compression_bitmap = nnrp_get_u32le(&p);
  a->profile_patch_ack_bytes = nnrp_get_u32le(&p);

  if (a->ack_status > NNRP_PATCH_ACK_REJECTED)
    return nnrp__fail(f, NNRP_ERR_MALFORMED_BODY, 0, rule_ack, "ack_status");
  if (a->reject_reason > NNRP_PATCH_REJECT_RATE_LIMITED)
    return nnrp__fail(f, NNRP_ERR_MALFORMED_BODY, 2, rule_ack, "reject_reason");
  if (!mask_ok(a->applied_patch_mask))
    return nnrp__fail(f, NNRP_ERR_MALFORMED_BODY, 4, rule_masks,
                      "applied_patch_mask");
  if (!mask_ok(a->rejected_patch_mask))
    return nnrp__fail(f, NNRP_ERR_MALFORMED_BODY, 8, rule_masks,
                      "rejected_patch_mask");
  if (a->reserved0 != 0 && NNRP__STRICT(flags))
    return nnrp__fail(f, NNRP_ERR_MALFORMED_BODY, 18, rule_ack, "reserved0");
  if (!block_len_ok(a->profile_patch_ack_bytes))
    return nnrp__fail(f, NNRP_ERR_MALFORMED_BODY, 44, rule_ack,
                      "profile_patch_ack_bytes");
  return 0;
}

void nnrp__session_patch_ack_meta_enc(const nnrp_meta *m, uint8_t *out) {
  const nnrp_session_patch_ack *a = &m->session_patch_ack;
  uint8_t *p = out;
  p = nnrp_put_u16le(p, a->ack_status);
  p = nnrp_put_u16le(p, a->reject_reason);
  p = nnrp_put_u32le(p, a->applied_patch_mask);
  p = nnrp_put_u32le(p, a->rejected_patch_mask);
  p = nnrp_put_u32le(p, a->retry_after_ms);
  p = nnrp_put_u16le(p, a->effective_profile_id);
  p = nnrp_put_u16le(p, a->reserved0);
  p = nnrp_put_u32le(p, a->effective_target_cadence_x100);
  p = nnrp_put_u16le(p, a->effective_quality_tier);
  p = nnrp_put_u16le(p, a->effective_degrade_policy);
  p = nnrp_put_u64le(p, a->effective_lane_mask);
  p = nnrp_put_u32le(p, a->effective_codec_bitmap);
  p = nnrp_put_u32le(p, a->effective_compression_bitmap);
  (void)nnrp_put_u32le(p, a->profile_patch_ack_bytes);
}

/* Sender rules of §4.4 (applied/rejected partition, block presence) are
 * not cross-checked by receivers. */
int nnrp__session_patch_ack_body_dec(nnrp_packet *p, const nnrp_wire_opts *o,
                                     nnrp_fault *f) {
  (void)o;
  return block_dec(p, p->m.session_patch_ack.profile_patch_ack_bytes, rule_ack,
                   "profile_patch_ack_bytes", f);
}
