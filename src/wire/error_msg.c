/* SPDX-License-Identifier: Apache-2.0 */
/*
 * error_msg.c - the ERROR message (0x06): 32-byte metadata and the
 * diagnostic-text body (wire.md §4.6). The wire ErrorCode/ErrorScope names
 * and the library-error mapping live in err.c; this file only codes bytes.
 */
#include "wire_int.h"

static const char rule_error[] = "wire.md §4.6";

int nnrp__error_meta_dec(nnrp_meta *m, const uint8_t *in, uint32_t flags,
                         nnrp_fault *f) {
  (void)flags; /* ERROR has no reserved field and no flag mask */
  nnrp_error_meta *e = &m->error;
  const uint8_t *p = in;
  e->error_code = nnrp_get_u32le(&p);
  e->error_scope = nnrp_get_u32le(&p);
  e->is_fatal = nnrp_get_u32le(&p);
  e->retry_after_ms = nnrp_get_u32le(&p);
  e->related_session_id = nnrp_get_u32le(&p);
  e->related_frame_id = nnrp_get_u32le(&p);
  e->related_view_id = nnrp_get_u32le(&p);
  e->diagnostic_bytes = nnrp_get_u32le(&p);

  /* error_code is free (§1 rule 10, D2): unknown codes are surfaced as-is. */
  if (e->error_scope > NNRP_ERROR_SCOPE_FRAME)
    return nnrp__fail(f, NNRP_ERR_MALFORMED_BODY, 4, rule_error, "error_scope");
  if (e->is_fatal > 1)
    return nnrp__fail(f, NNRP_ERR_MALFORMED_BODY, 8, rule_error, "is_fatal");
  return 0;
}

void nnrp__error_meta_enc(const nnrp_meta *m, uint8_t *out) {
  const nnrp_error_meta *e = &m->error;
  uint8_t *p = out;
  p = nnrp_put_u32le(p, e->error_code);
  p = nnrp_put_u32le(p, e->error_scope);
  p = nnrp_put_u32le(p, e->is_fatal);
  p = nnrp_put_u32le(p, e->retry_after_ms);
  p = nnrp_put_u32le(p, e->related_session_id);
  p = nnrp_put_u32le(p, e->related_frame_id);
  p = nnrp_put_u32le(p, e->related_view_id);
  (void)nnrp_put_u32le(p, e->diagnostic_bytes);
}

/* Step 15 (body_len rule): diagnostic_bytes = body_len. The packet decoder
 * runs meta_dec (step 16) before this function, so a packet that breaks both
 * a metadata rule and this length rule reports the metadata rule. The body
 * text is never interpreted (not even checked as UTF-8). */
int nnrp__error_body_dec(nnrp_packet *p, const nnrp_wire_opts *o,
                         nnrp_fault *f) {
  (void)o;
  if (p->m.error.diagnostic_bytes != p->hdr.body_len ||
      p->body_raw.len != p->hdr.body_len)
    return nnrp__fail(f, NNRP_ERR_MALFORMED_BODY, 0, rule_error,
                      "diagnostic_bytes");
  p->b.diagnostic = p->body_raw;
  return 0;
}
