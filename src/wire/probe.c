/* SPDX-License-Identifier: Apache-2.0 */
/*
 * probe.c - TRANSPORT_PROBE (0x19, wire.md §4.9) and TRANSPORT_PROBE_ACK
 * (0x1A, §4.10). The RTT/throughput sample and the probe plan are session
 * logic (session.md §11); this file only codes and checks the bytes.
 */
#include "wire_int.h"

static const char rule_probe[] = "wire.md §4.9";
static const char rule_probe_ack[] = "wire.md §4.10";
static const char rule_probe_ack_rsv[] = "wire.md §4.10 reserved";

/* ---- TRANSPORT_PROBE (§4.9) --------------------------------------------- */

int nnrp__transport_probe_meta_dec(nnrp_meta *m, const uint8_t *in,
                                   uint32_t flags, nnrp_fault *f) {
  (void)flags;
  (void)f; /* every field is free; probe_payload_bytes is a body rule */
  nnrp_transport_probe *t = &m->transport_probe;
  const uint8_t *p = in;
  t->probe_id = nnrp_get_u32le(&p);
  t->probe_payload_bytes = nnrp_get_u32le(&p);
  t->client_send_ts_us = nnrp_get_u64le(&p);
  return 0;
}

void nnrp__transport_probe_meta_enc(const nnrp_meta *m, uint8_t *out) {
  const nnrp_transport_probe *t = &m->transport_probe;
  uint8_t *p = out;
  p = nnrp_put_u32le(p, t->probe_id);
  p = nnrp_put_u32le(p, t->probe_payload_bytes);
  (void)nnrp_put_u64le(p, t->client_send_ts_us);
}

/* Step 15: probe_payload_bytes = body_len (0 is allowed on receipt; senders
 * use > 0). The filler content is not checked. Runs after meta_dec in the
 * packet decoder (packet.c). */
int nnrp__transport_probe_body_dec(nnrp_packet *p, const nnrp_wire_opts *o,
                                   nnrp_fault *f) {
  (void)o;
  if (p->m.transport_probe.probe_payload_bytes != p->hdr.body_len ||
      p->body_raw.len != p->hdr.body_len)
    return nnrp__fail(f, NNRP_ERR_MALFORMED_BODY, 0, rule_probe,
                      "probe_payload_bytes");
  p->b.filler = p->body_raw;
  return 0;
}

/* ---- TRANSPORT_PROBE_ACK (§4.10) ---------------------------------------- */

int nnrp__transport_probe_ack_meta_dec(nnrp_meta *m, const uint8_t *in,
                                       uint32_t flags, nnrp_fault *f) {
  nnrp_transport_probe_ack *t = &m->transport_probe_ack;
  const uint8_t *p = in;
  t->probe_id = nnrp_get_u32le(&p);
  t->reserved0 = nnrp_get_u32le(&p);
  t->server_recv_ts_us = nnrp_get_u64le(&p);

  /* Reserved: strict rejects, lenient keeps the value as read. */
  if (NNRP__STRICT(flags) && t->reserved0 != 0)
    return nnrp__fail(f, NNRP_ERR_MALFORMED_BODY, 4, rule_probe_ack_rsv,
                      "reserved0");
  return 0;
}

void nnrp__transport_probe_ack_meta_enc(const nnrp_meta *m, uint8_t *out) {
  const nnrp_transport_probe_ack *t = &m->transport_probe_ack;
  uint8_t *p = out;
  p = nnrp_put_u32le(p, t->probe_id);
  p = nnrp_put_u32le(p, t->reserved0);
  (void)nnrp_put_u64le(p, t->server_recv_ts_us);
}

int nnrp__transport_probe_ack_body_dec(nnrp_packet *p, const nnrp_wire_opts *o,
                                       nnrp_fault *f) {
  (void)o;
  if (p->hdr.body_len != 0 || p->body_raw.len != 0)
    return nnrp__fail(f, NNRP_ERR_MALFORMED_BODY, 0, rule_probe_ack,
                      "body_len");
  return 0;
}
