/* SPDX-License-Identifier: Apache-2.0 */
/*
 * hello.c - the handshake messages CLIENT_HELLO (0x01, wire.md §4.1) and
 * SERVER_HELLO_ACK (0x02, §4.2): metadata codecs and the body rules D3 and
 * D5. Checks that need the other side's hello (client window, subset rule)
 * belong to the session; only stateless negotiation rules live here.
 */
#include "wire_int.h"

static const char rule_ch[] = "wire.md §4.1";
static const char rule_ch_d3[] = "wire.md §4.1 D3";
static const char rule_sha[] = "wire.md §4.2";
static const char rule_sha_d5[] = "wire.md §4.2 D5";
static const char rule_sha_hdr[] = "wire.md §2.4 D5";

/* ---- CLIENT_HELLO (§4.1) ------------------------------------------------- */

/* Stateless step-17 rules of the server, in table order: version window,
 * wire-format bitmap, then the two capability bitmaps. */
static int client_hello_negotiate(const nnrp_client_hello *c, nnrp_fault *f) {
  if (c->min_version_major > NNRP_PROTOCOL_VERSION_MAJOR)
    return nnrp__fail(f, NNRP_ERR_UNSUPPORTED_VERSION, 0, rule_ch,
                      "min_version_major");
  if (c->max_version_major < NNRP_PROTOCOL_VERSION_MAJOR)
    return nnrp__fail(f, NNRP_ERR_UNSUPPORTED_VERSION, 1, rule_ch,
                      "max_version_major");
  if ((c->supported_wire_format_bitmap & (1u << NNRP_WIRE_FORMAT_CURRENT)) == 0)
    return nnrp__fail(f, NNRP_ERR_UNSUPPORTED_VERSION, 2, rule_ch,
                      "supported_wire_format_bitmap");
  if (c->supported_profile_bitmap == 0)
    return nnrp__fail(f, NNRP_ERR_UNSUPPORTED_CAPABILITY, 4, rule_ch,
                      "supported_profile_bitmap");
  if (c->supported_payload_kind_bitmap == 0)
    return nnrp__fail(f, NNRP_ERR_UNSUPPORTED_CAPABILITY, 8, rule_ch,
                      "supported_payload_kind_bitmap");
  return 0;
}

int nnrp__client_hello_meta_dec(nnrp_meta *m, const uint8_t *in, uint32_t flags,
                                nnrp_fault *f) {
  (void)flags; /* no reserved field, no strict-only mask */
  nnrp_client_hello *c = &m->client_hello;
  const uint8_t *p = in;
  c->min_version_major = nnrp_get_u8(&p);
  c->max_version_major = nnrp_get_u8(&p);
  c->supported_wire_format_bitmap = nnrp_get_u16le(&p);
  c->supported_profile_bitmap = nnrp_get_u32le(&p);
  c->supported_payload_kind_bitmap = nnrp_get_u32le(&p);
  /* Capability bitmaps are intersected, never rejected (§1 rule 11). */
  c->supported_codec_bitmap = nnrp_get_u32le(&p);
  c->supported_compression_bitmap = nnrp_get_u32le(&p);
  c->supported_dtype_bitmap = nnrp_get_u32le(&p);
  c->supported_layout_bitmap = nnrp_get_u32le(&p);
  c->cache_digest_bitmap = nnrp_get_u16le(&p);
  c->cache_object_bitmap = nnrp_get_u16le(&p);
  c->cache_namespace_count = nnrp_get_u16le(&p);
  c->max_lane_count = nnrp_get_u16le(&p);
  c->max_cache_entries = nnrp_get_u32le(&p);
  c->max_cache_bytes = nnrp_get_u32le(&p);
  c->target_cadence_x100 = nnrp_get_u16le(&p);
  c->latency_budget_ms = nnrp_get_u16le(&p);
  c->quality_tier = nnrp_get_u16le(&p);
  c->degrade_policy = nnrp_get_u16le(&p);
  c->requested_session_id = nnrp_get_u32le(&p);
  c->auth_bytes = nnrp_get_u32le(&p);
  c->control_extension_bytes = nnrp_get_u32le(&p);

  /* Step 16 before step 17 (§15): the TLV block length is a multiple of 8
   * (entry strides are). */
  if (c->control_extension_bytes % 8u != 0)
    return nnrp__fail(f, NNRP_ERR_MALFORMED_BODY, 60, rule_ch,
                      "control_extension_bytes");
  return client_hello_negotiate(c, f);
}

void nnrp__client_hello_meta_enc(const nnrp_meta *m, uint8_t *out) {
  const nnrp_client_hello *c = &m->client_hello;
  uint8_t *p = out;
  p = nnrp_put_u8(p, c->min_version_major);
  p = nnrp_put_u8(p, c->max_version_major);
  p = nnrp_put_u16le(p, c->supported_wire_format_bitmap);
  p = nnrp_put_u32le(p, c->supported_profile_bitmap);
  p = nnrp_put_u32le(p, c->supported_payload_kind_bitmap);
  p = nnrp_put_u32le(p, c->supported_codec_bitmap);
  p = nnrp_put_u32le(p, c->supported_compression_bitmap);
  p = nnrp_put_u32le(p, c->supported_dtype_bitmap);
  p = nnrp_put_u32le(p, c->supported_layout_bitmap);
  p = nnrp_put_u16le(p, c->cache_digest_bitmap);
  p = nnrp_put_u16le(p, c->cache_object_bitmap);
  p = nnrp_put_u16le(p, c->cache_namespace_count);
  p = nnrp_put_u16le(p, c->max_lane_count);
  p = nnrp_put_u32le(p, c->max_cache_entries);
  p = nnrp_put_u32le(p, c->max_cache_bytes);
  p = nnrp_put_u16le(p, c->target_cadence_x100);
  p = nnrp_put_u16le(p, c->latency_budget_ms);
  p = nnrp_put_u16le(p, c->quality_tier);
  p = nnrp_put_u16le(p, c->degrade_policy);
  p = nnrp_put_u32le(p, c->requested_session_id);
  p = nnrp_put_u32le(p, c->auth_bytes);
  (void)nnrp_put_u32le(p, c->control_extension_bytes);
}

/* Body (D3): control_extension_block ‖ auth_block, body_len = the 64-bit
 * sum of both lengths. The header session_id of a CLIENT_HELLO is ignored
 * (§2.4). */
int nnrp__client_hello_body_dec(nnrp_packet *p, const nnrp_wire_opts *o,
                                nnrp_fault *f) {
  const nnrp_client_hello *c = &p->m.client_hello;
  uint64_t want = (uint64_t)c->control_extension_bytes + c->auth_bytes;
  if (want != p->hdr.body_len || p->body_raw.len != p->hdr.body_len)
    return nnrp__fail(f, NNRP_ERR_MALFORMED_BODY, 0, rule_ch_d3, "body_len");
  const uint8_t *body = p->body_raw.ptr;
  int rc =
      nnrp_ext_block_decode(NNRP_MSG_CLIENT_HELLO, &p->b.client_hello.ext, body,
                            c->control_extension_bytes, o ? o->flags : 0, f);
  if (rc != 0)
    return rc;
  p->b.client_hello.auth.ptr =
      c->auth_bytes ? body + c->control_extension_bytes : NULL;
  p->b.client_hello.auth.len = c->auth_bytes;
  return 0;
}

/* ---- SERVER_HELLO_ACK (§4.2) --------------------------------------------- */

int nnrp__server_hello_ack_meta_dec(nnrp_meta *m, const uint8_t *in,
                                    uint32_t flags, nnrp_fault *f) {
  nnrp_server_hello_ack *a = &m->server_hello_ack;
  const uint8_t *p = in;
  a->selected_version_major = nnrp_get_u8(&p);
  a->selected_wire_format = nnrp_get_u8(&p);
  a->auth_status = nnrp_get_u8(&p); /* != 0 is a session decision */
  a->reserved0 = nnrp_get_u8(&p);
  a->session_id = nnrp_get_u32le(&p);
  a->accepted_profile_bitmap = nnrp_get_u32le(&p);
  a->accepted_payload_kind_bitmap = nnrp_get_u32le(&p);
  a->accepted_codec_bitmap = nnrp_get_u32le(&p);
  a->accepted_compression_bitmap = nnrp_get_u32le(&p);
  a->accepted_dtype_bitmap = nnrp_get_u32le(&p);
  a->accepted_layout_bitmap = nnrp_get_u32le(&p);
  a->cache_digest_bitmap = nnrp_get_u32le(&p);
  a->cache_object_bitmap = nnrp_get_u32le(&p);
  a->max_cache_entries = nnrp_get_u32le(&p);
  a->max_cache_bytes = nnrp_get_u32le(&p);
  a->max_lane_count = nnrp_get_u16le(&p);
  a->max_concurrent_frames = nnrp_get_u16le(&p);
  a->target_cadence_x100 = nnrp_get_u16le(&p);
  a->latency_budget_ms = nnrp_get_u16le(&p);
  a->quality_tier = nnrp_get_u16le(&p);
  a->degrade_policy = nnrp_get_u16le(&p);
  a->max_body_bytes = nnrp_get_u32le(&p);
  a->token_ttl_ms = nnrp_get_u32le(&p);
  a->retry_after_ms = nnrp_get_u32le(&p);
  a->control_extension_bytes = nnrp_get_u32le(&p);
  a->server_flags = nnrp_get_u32le(&p);

  /* Step 16, in field order. */
  if (a->reserved0 != 0 && NNRP__STRICT(flags))
    return nnrp__fail(f, NNRP_ERR_MALFORMED_BODY, 3, rule_sha, "reserved0");
  if (a->session_id == 0 && NNRP__STRICT(flags))
    return nnrp__fail(f, NNRP_ERR_MALFORMED_BODY, 4, rule_sha, "session_id");
  if (a->server_flags & ~(uint32_t)NNRP_SERVER_FLAG_ACCEPT_MASK) {
    if (NNRP__STRICT(flags))
      return nnrp__fail(f, NNRP_ERR_MALFORMED_BODY, 76, "wire.md §4.2 D8",
                        "server_flags");
    a->server_flags &= NNRP_SERVER_FLAG_ACCEPT_MASK; /* lenient: clear */
  }
  /* Step 17, the stateless part: the client window and the subset rule
   * need the client's hello and are checked by the session. */
  if (a->selected_version_major != NNRP_PROTOCOL_VERSION_MAJOR)
    return nnrp__fail(f, NNRP_ERR_UNSUPPORTED_VERSION, 0, rule_sha,
                      "selected_version_major");
  if (a->selected_wire_format != NNRP_WIRE_FORMAT_CURRENT)
    return nnrp__fail(f, NNRP_ERR_UNSUPPORTED_VERSION, 1, rule_sha,
                      "selected_wire_format");
  return 0;
}

void nnrp__server_hello_ack_meta_enc(const nnrp_meta *m, uint8_t *out) {
  const nnrp_server_hello_ack *a = &m->server_hello_ack;
  uint8_t *p = out;
  p = nnrp_put_u8(p, a->selected_version_major);
  p = nnrp_put_u8(p, a->selected_wire_format);
  p = nnrp_put_u8(p, a->auth_status);
  p = nnrp_put_u8(p, a->reserved0);
  p = nnrp_put_u32le(p, a->session_id);
  p = nnrp_put_u32le(p, a->accepted_profile_bitmap);
  p = nnrp_put_u32le(p, a->accepted_payload_kind_bitmap);
  p = nnrp_put_u32le(p, a->accepted_codec_bitmap);
  p = nnrp_put_u32le(p, a->accepted_compression_bitmap);
  p = nnrp_put_u32le(p, a->accepted_dtype_bitmap);
  p = nnrp_put_u32le(p, a->accepted_layout_bitmap);
  p = nnrp_put_u32le(p, a->cache_digest_bitmap);
  p = nnrp_put_u32le(p, a->cache_object_bitmap);
  p = nnrp_put_u32le(p, a->max_cache_entries);
  p = nnrp_put_u32le(p, a->max_cache_bytes);
  p = nnrp_put_u16le(p, a->max_lane_count);
  p = nnrp_put_u16le(p, a->max_concurrent_frames);
  p = nnrp_put_u16le(p, a->target_cadence_x100);
  p = nnrp_put_u16le(p, a->latency_budget_ms);
  p = nnrp_put_u16le(p, a->quality_tier);
  p = nnrp_put_u16le(p, a->degrade_policy);
  p = nnrp_put_u32le(p, a->max_body_bytes);
  p = nnrp_put_u32le(p, a->token_ttl_ms);
  p = nnrp_put_u32le(p, a->retry_after_ms);
  p = nnrp_put_u32le(p, a->control_extension_bytes);
  (void)nnrp_put_u32le(p, a->server_flags);
}

/* Body (D5): a TLV block of control_extension_bytes = body_len, or opaque
 * bytes (nnrp-py 1.0.0rc2 model name) when control_extension_bytes is 0;
 * anything else is malformed. Then the header cross rule of §2.4. */
int nnrp__server_hello_ack_body_dec(nnrp_packet *p, const nnrp_wire_opts *o,
                                    nnrp_fault *f) {
  const nnrp_server_hello_ack *a = &p->m.server_hello_ack;
  uint32_t body_len = p->hdr.body_len;
  int tlv = a->control_extension_bytes == body_len;
  if (p->body_raw.len != body_len || (!tlv && a->control_extension_bytes != 0))
    return nnrp__fail(f, NNRP_ERR_MALFORMED_BODY, 0, rule_sha_d5,
                      "control_extension_bytes");
  /* Header session_id: 0 or the assigned id, in both modes. */
  if (p->hdr.session_id != 0 && p->hdr.session_id != a->session_id)
    return nnrp__fail(f, NNRP_ERR_MALFORMED_BODY, 0, rule_sha_hdr,
                      "session_id");
  if (!tlv) {
    p->b.server_hello_ack.opaque = p->body_raw;
    return 0;
  }
  return nnrp_ext_block_decode(NNRP_MSG_SERVER_HELLO_ACK,
                               &p->b.server_hello_ack.ext, p->body_raw.ptr,
                               body_len, o ? o->flags : 0, f);
}
