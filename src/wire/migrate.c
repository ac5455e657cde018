/* SPDX-License-Identifier: Apache-2.0 */
/*
 * migrate.c - SESSION_MIGRATE (0x1B, C->S, wire.md §4.11) and
 * SESSION_MIGRATE_ACK (0x1C, S->C, §4.12) [D10]. The checks that need the
 * request or the session (resume_from_frame_id >= last_result_frame_id, the
 * token compare, the accept codes) belong to the session (session.md §12).
 */
#include "wire_int.h"

static const char rule_migrate[] = "wire.md §4.11";

/* TransportId of the seed line: a known id other than UNSPECIFIED. */
static int transport_id_ok(uint32_t id) {
  return id == NNRP_TRANSPORT_QUIC || id == NNRP_TRANSPORT_TCP;
}

/* ---- SESSION_MIGRATE (§4.11) -------------------------------------------- */

int nnrp__session_migrate_meta_dec(nnrp_meta *m, const uint8_t *in,
                                   uint32_t flags, nnrp_fault *f) {
  (void)flags; /* enums: rejected in both modes */
  nnrp_session_migrate *s = &m->session_migrate;
  const uint8_t *p = in;
  s->old_transport_id = nnrp_get_u32le(&p);
  s->new_transport_id = nnrp_get_u32le(&p);
  s->last_result_frame_id = nnrp_get_u64le(&p);
  s->client_migrate_ts_us = nnrp_get_u64le(&p);

  if (!transport_id_ok(s->old_transport_id))
    return nnrp__fail(f, NNRP_ERR_MALFORMED_BODY, 0, rule_migrate,
                      "old_transport_id");
  /* new may equal old: a reconnect on the same binding [P]. */
  if (!transport_id_ok(s->new_transport_id))
    return nnrp__fail(f, NNRP_ERR_MALFORMED_BODY, 4, rule_migrate,
                      "new_transport_id");
  return 0;
}

void nnrp__session_migrate_meta_enc(const nnrp_meta *m, uint8_t *out) {
  const nnrp_session_migrate *s = &m->session_migrate;
  uint8_t *p = out;
  p = nnrp_put_u32le(p, s->old_transport_id);
  p = nnrp_put_u32le(p, s->new_transport_id);
  p = nnrp_put_u64le(p, s->last_result_frame_id);
  (void)nnrp_put_u64le(p, s->client_migrate_ts_us);
}

/* The body is an optional opaque token of any length (body_len is its
 * length; there is no length field to compare). Whether it must equal the
 * session's auth_block is decided by the session (session.md §12.3). */
int nnrp__session_migrate_body_dec(nnrp_packet *p, const nnrp_wire_opts *o,
                                   nnrp_fault *f) {
  (void)o;
  if (p->body_raw.len != p->hdr.body_len)
    return nnrp__fail(f, NNRP_ERR_MALFORMED_BODY, 0, rule_migrate, "body_len");
  p->b.token = p->body_raw;
  return 0;
}

/* ---- SESSION_MIGRATE_ACK (§4.12) ---------------------------------------- */

int nnrp__session_migrate_ack_meta_dec(nnrp_meta *m, const uint8_t *in,
                                       uint32_t flags, nnrp_fault *f) {
  (void)flags;
  (void)f; /* every field is free here (accept_code: only 0 / != 0) */
  nnrp_session_migrate_ack *s = &m->session_migrate_ack;
  const uint8_t *p = in;
  s->accept_code = nnrp_get_u32le(&p);
  s->resume_from_frame_id = nnrp_get_u64le(&p); /* unaligned u64 at 4 */
  s->grace_window_ms = nnrp_get_u32le(&p);
  s->server_migrate_ts_us = nnrp_get_u64le(&p);
  return 0;
}

void nnrp__session_migrate_ack_meta_enc(const nnrp_meta *m, uint8_t *out) {
  const nnrp_session_migrate_ack *s = &m->session_migrate_ack;
  uint8_t *p = out;
  p = nnrp_put_u32le(p, s->accept_code);
  p = nnrp_put_u64le(p, s->resume_from_frame_id);
  p = nnrp_put_u32le(p, s->grace_window_ms);
  (void)nnrp_put_u64le(p, s->server_migrate_ts_us);
}

/* Sent empty; a received body of any length is accepted and ignored [P]. */
int nnrp__session_migrate_ack_body_dec(nnrp_packet *p, const nnrp_wire_opts *o,
                                       nnrp_fault *f) {
  (void)o;
  (void)f;
  p->b.ignored = p->body_raw;
  return 0;
}
