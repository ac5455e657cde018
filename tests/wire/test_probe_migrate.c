/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_probe_migrate.c - TRANSPORT_PROBE / TRANSPORT_PROBE_ACK (wire.md
 * §4.9, §4.10) and SESSION_MIGRATE / SESSION_MIGRATE_ACK (§4.11, §4.12):
 * the four metadata vectors, whole packets with bodies through the packet
 * decoder, and one negative test per rule (probe_payload_bytes = body_len,
 * ACK reserved0 strict/lenient, empty ACK body, transport ids).
 */
#include "harness.h"
#include "wire_check.h"

#include "wire/wire_int.h"

#include <stdlib.h>
#include <string.h>

#define LENIENT NNRP_WIRE_LENIENT
#define BODY NNRP_ERR_MALFORMED_BODY

static uint8_t g_probe[16], g_probe_ack[16], g_mig[24], g_mig_ack[24];

/* Decodes a built packet with both decoders; both must succeed. */
static int decode_both(const uint8_t *pkt, size_t len, uint32_t flags,
                       nnrp_packet out[2]) {
  nnrp_fault f;
  int ok = CHECK_EQ_INT(wc_decode(&out[0], pkt, len, flags, &f), 0);
  ok &= CHECK_EQ_INT(wc_decode_direct(&out[1], pkt, len, flags, &f), 0);
  return ok;
}

/* ---- vectors ------------------------------------------------------------- */

TEST(probe_migrate_vectors) {
  wc_check_meta_vector("metadata.transport_probe", NULL, NULL);
  wc_check_meta_vector("metadata.transport_probe_ack", NULL, NULL);
  wc_check_meta_vector("metadata.session_migrate.quic_to_tcp", NULL, NULL);
  nnrp_meta m;
  memset(&m, 0, sizeof(m));
  wc_check_meta_vector("metadata.session_migrate_ack.accepted", NULL, &m);
  /* resume_from_frame_id is the unaligned u64 at offset 4 */
  uint8_t meta[24];
  memcpy(meta, g_mig_ack, 24);
  for (unsigned i = 0; i < 8; i++)
    meta[4 + i] = (uint8_t)(0xA1 + i);
  wc_meta_roundtrip(NNRP_MSG_SESSION_MIGRATE_ACK, meta, &m);
  CHECK_EQ_U64(m.session_migrate_ack.resume_from_frame_id, 0xA8A7A6A5A4A3A2A1u);
  CHECK_EQ_U64(m.session_migrate_ack.accept_code, 0);
  CHECK_EQ_U64(m.session_migrate_ack.grace_window_ms, 250);
}

/* ---- TRANSPORT_PROBE ----------------------------------------------------- */

/* probe_payload_bytes = body_len; the filler is a zero-copy view whose
 * content is not checked. */
TEST(probe_payload_bytes_rule) {
  static uint8_t filler[1201];
  memset(filler, 'P', sizeof filler);
  filler[17] = 0x00; /* content is not checked */
  static const uint32_t bad_lens[] = {0, 1199, 1201};
  for (size_t i = 0; i < sizeof bad_lens / sizeof bad_lens[0]; i++) {
    nnrp_packet p;
    nnrp_fault f;
    int rc = wc_body_dec(&p, NNRP_MSG_TRANSPORT_PROBE, g_probe, 0, filler,
                         bad_lens[i], &f); /* probe_payload_bytes 1200 */
    WC_FAULT_AT(rc, f, BODY, "probe_payload_bytes", 0, "§4.9");
    size_t len;
    uint8_t *pkt = wc_packet_new(NNRP_MSG_TRANSPORT_PROBE, 0, g_probe, filler,
                                 bad_lens[i], &len);
    for (uint32_t mode = 0; mode <= LENIENT; mode++) {
      rc = wc_decode(&p, pkt, len, mode, &f);
      WC_FAULT_FIELD(rc, f, BODY, "probe_payload_bytes");
    }
    free(pkt);
  }
  size_t len;
  uint8_t *pkt =
      wc_packet_new(NNRP_MSG_TRANSPORT_PROBE, 0, g_probe, filler, 1200, &len);
  nnrp_packet p[2];
  if (decode_both(pkt, len, 0, p))
    for (int i = 0; i < 2; i++) {
      CHECK(p[i].b.filler.ptr == pkt + 56);
      CHECK_EQ_U64(p[i].b.filler.len, 1200);
      CHECK_EQ_U64(p[i].m.transport_probe.probe_id, 7);
    }
  free(pkt);
  /* probe_payload_bytes 0 with an empty body is accepted on receipt */
  uint8_t meta[16];
  memcpy(meta, g_probe, 16);
  nnrp_put_u32le(meta + 4, 0);
  pkt = wc_packet_new(NNRP_MSG_TRANSPORT_PROBE, 5, meta, NULL, 0, &len);
  if (decode_both(pkt, len, 0, p))
    CHECK_EQ_U64(p[0].b.filler.len, 0);
  free(pkt);
}

/* ---- TRANSPORT_PROBE_ACK ------------------------------------------------- */

/* reserved0: strict rejects; lenient ignores and keeps the value. */
TEST(probe_ack_reserved0) {
  static const uint32_t bad[] = {1, 0x80000000u};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    WC_PATCH_FAULT(NNRP_MSG_TRANSPORT_PROBE_ACK, g_probe_ack, 4, 4, bad[i], 0,
                   "reserved0", 4, "§4.10");
    WC_PATCH_OK(NNRP_MSG_TRANSPORT_PROBE_ACK, g_probe_ack, 4, 4, bad[i],
                LENIENT, "reserved0", bad[i]);
    uint8_t meta[16];
    memcpy(meta, g_probe_ack, 16);
    nnrp_put_u32le(meta + 4, bad[i]);
    size_t len;
    uint8_t *pkt =
        wc_packet_new(NNRP_MSG_TRANSPORT_PROBE_ACK, 0, meta, NULL, 0, &len);
    nnrp_packet p;
    nnrp_fault f;
    WC_FAULT_FIELD(wc_decode(&p, pkt, len, 0, &f), f, BODY, "reserved0");
    CHECK_EQ_INT(wc_decode(&p, pkt, len, LENIENT, &f), 0);
    free(pkt);
  }
}

TEST(probe_ack_body_must_be_empty) {
  static const uint8_t body[2] = {'P', 'P'};
  nnrp_packet p;
  nnrp_fault f;
  int rc = wc_body_dec(&p, NNRP_MSG_TRANSPORT_PROBE_ACK, g_probe_ack, 0, body,
                       2, &f);
  WC_FAULT_AT(rc, f, BODY, "body_len", 0, "§4.10");
  size_t len;
  uint8_t *pkt = wc_packet_new(NNRP_MSG_TRANSPORT_PROBE_ACK, 0, g_probe_ack,
                               body, 2, &len);
  rc = wc_decode(&p, pkt, len, LENIENT, &f);
  WC_FAULT_FIELD(rc, f, BODY, "body_len");
  free(pkt);
}

/* ---- SESSION_MIGRATE ----------------------------------------------------- */

/* old/new transport ids must be known and != 0, in both modes. */
TEST(migrate_transport_ids) {
  static const uint32_t bad[] = {NNRP_TRANSPORT_UNSPECIFIED, 3, 4, 0xFFFFFFFFu};
  static const struct {
    size_t off;
    const char *field;
  } fields[] = {{0, "old_transport_id"}, {4, "new_transport_id"}};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
    for (size_t k = 0; k < 2; k++) {
      uint8_t meta[24];
      memcpy(meta, g_mig, 24);
      nnrp_put_u32le(meta + fields[k].off, bad[i]);
      for (uint32_t mode = 0; mode <= LENIENT; mode++) {
        nnrp_meta m;
        memset(&m, 0, sizeof(m));
        nnrp_fault f;
        WC_FAULT_AT(wc_meta_dec(NNRP_MSG_SESSION_MIGRATE, meta, mode, &m, &f),
                    f, BODY, fields[k].field, fields[k].off, "§4.11");
      }
      size_t len;
      uint8_t *pkt =
          wc_packet_new(NNRP_MSG_SESSION_MIGRATE, 77, meta, NULL, 0, &len);
      nnrp_packet p;
      nnrp_fault f;
      WC_FAULT_FIELD(wc_decode(&p, pkt, len, 0, &f), f, BODY, fields[k].field);
      free(pkt);
    }
  /* every known pair, including new == old (same-binding reconnect) */
  for (uint32_t o = NNRP_TRANSPORT_QUIC; o <= NNRP_TRANSPORT_TCP; o++)
    for (uint32_t n = NNRP_TRANSPORT_QUIC; n <= NNRP_TRANSPORT_TCP; n++) {
      uint8_t meta[24];
      memcpy(meta, g_mig, 24);
      nnrp_put_u32le(meta, o);
      nnrp_put_u32le(meta + 4, n);
      nnrp_meta m;
      memset(&m, 0, sizeof(m));
      nnrp_fault f;
      CHECK_EQ_INT(wc_meta_dec(NNRP_MSG_SESSION_MIGRATE, meta, 0, &m, &f), 0);
    }
}

/* The body is an optional opaque token of any length (zero-copy view). */
TEST(migrate_token_body) {
  static const uint8_t token[5] = {0xDE, 0xAD, 0x00, 0xBE, 0xEF};
  size_t len;
  uint8_t *pkt =
      wc_packet_new(NNRP_MSG_SESSION_MIGRATE, 77, g_mig, token, 5, &len);
  nnrp_packet p[2];
  if (decode_both(pkt, len, 0, p))
    for (int i = 0; i < 2; i++) {
      CHECK(p[i].b.token.ptr == pkt + 64);
      CHECK_EQ_U64(p[i].b.token.len, 5);
      CHECK_EQ_U64(p[i].m.session_migrate.last_result_frame_id, 44);
    }
  free(pkt);
  pkt = wc_packet_new(NNRP_MSG_SESSION_MIGRATE, 77, g_mig, NULL, 0, &len);
  if (decode_both(pkt, len, 0, p))
    CHECK_EQ_U64(p[0].b.token.len, 0);
  free(pkt);
}

/* ---- SESSION_MIGRATE_ACK ------------------------------------------------- */

/* Sent empty, but a received body is accepted and ignored; every field is
 * free here (resume_from_frame_id >= last_result_frame_id needs the request
 * and is the session's check). */
TEST(migrate_ack_body_ignored_fields_free) {
  static const uint8_t body[3] = {'x', 'y', 'z'};
  uint8_t meta[24];
  memcpy(meta, g_mig_ack, 24);
  nnrp_put_u32le(meta, 0xFFFFFFFFu); /* accept_code: any value */
  nnrp_put_u64le(meta + 4, 0);       /* resume_from_frame_id 0 */
  size_t len;
  uint8_t *pkt =
      wc_packet_new(NNRP_MSG_SESSION_MIGRATE_ACK, 77, meta, body, 3, &len);
  nnrp_packet p[2];
  if (decode_both(pkt, len, 0, p))
    for (int i = 0; i < 2; i++) {
      CHECK(p[i].b.ignored.ptr == pkt + 64);
      CHECK_EQ_U64(p[i].b.ignored.len, 3);
      CHECK_EQ_U64(p[i].m.session_migrate_ack.accept_code, 0xFFFFFFFFu);
    }
  free(pkt);
}

int main(void) {
  wc_vec_exact("metadata.transport_probe", g_probe, 16);
  wc_vec_exact("metadata.transport_probe_ack", g_probe_ack, 16);
  wc_vec_exact("metadata.session_migrate.quic_to_tcp", g_mig, 24);
  wc_vec_exact("metadata.session_migrate_ack.accepted", g_mig_ack, 24);

  RUN(probe_migrate_vectors);
  RUN(probe_payload_bytes_rule);
  RUN(probe_ack_reserved0);
  RUN(probe_ack_body_must_be_empty);
  RUN(migrate_transport_ids);
  RUN(migrate_token_body);
  RUN(migrate_ack_body_ignored_fields_free);
  wc_vectors_free();
  TEST_MAIN_END();
}
