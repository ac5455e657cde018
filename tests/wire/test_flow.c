/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_flow.c - FLOW_UPDATE (wire.md §4.7) and RESULT_HINT (§4.8): the
 * golden vectors through the packet decoder and through the codec functions
 * alone, and one negative test per rule (enums, D9, reserved fields in
 * strict and lenient mode, flow_flags in both modes, retry_after gating,
 * every row of the routing table, body_len).
 */
#include "harness.h"
#include "wire_check.h"

#include "wire/wire_int.h"

#include <stdlib.h>
#include <string.h>

/* ---- helpers for FLOW_UPDATE --------------------------------------------- */

#define LENIENT NNRP_WIRE_LENIENT
#define BODY NNRP_ERR_MALFORMED_BODY

/* Metadata (32 B) and header session_id of a golden FLOW_UPDATE packet. */
static void golden_flow(const char *name, uint8_t meta[32],
                        uint32_t *session_id) {
  uint8_t pkt[72];
  wc_vec_exact(name, pkt, sizeof pkt);
  memcpy(meta, pkt + 40, 32);
  *session_id = nnrp_rd32(pkt + 20);
}

static uint8_t g_conn[32], g_sess[32], g_op[32];
static uint32_t g_conn_sid, g_sess_sid, g_op_sid;

static void load_flow_bases(void) {
  golden_flow("packet.flow_update.connection_grant", g_conn, &g_conn_sid);
  golden_flow("packet.flow_update.session_congestion_hard", g_sess,
              &g_sess_sid);
  golden_flow("packet.flow_update.operation_pause", g_op, &g_op_sid);
}

/* A patched FLOW_UPDATE metadata must fail with field/off in both modes,
 * through meta_dec and through the packet decoder. */
static void expect_flow_reject(const uint8_t *base, uint32_t session_id,
                               size_t off, unsigned w, uint64_t val,
                               const char *field, size_t fault_off,
                               const char *rule) {
  for (uint32_t mode = 0; mode <= LENIENT; mode++)
    WC_PATCH_FAULT(NNRP_MSG_FLOW_UPDATE, base, off, w, val, mode, field,
                   fault_off, rule);
  uint8_t meta[32];
  memcpy(meta, base, 32);
  wc_put_le(meta + off, w, val);
  size_t len;
  uint8_t *pkt =
      wc_packet_new(NNRP_MSG_FLOW_UPDATE, session_id, meta, NULL, 0, &len);
  nnrp_packet p;
  nnrp_fault f;
  int rc = wc_decode(&p, pkt, len, 0, &f);
  WC_FAULT_FIELD(rc, f, BODY, field);
  free(pkt);
}

/* A patched FLOW_UPDATE metadata is accepted in both modes. */
static void expect_flow_accept(const uint8_t *base, size_t off, unsigned w,
                               uint64_t val) {
  for (uint32_t mode = 0; mode <= LENIENT; mode++)
    WC_PATCH_OK(NNRP_MSG_FLOW_UPDATE, base, off, w, val, mode, NULL, 0);
}

/* ---- golden vectors ------------------------------------------------------ */

TEST(flow_update_golden_packets) {
  wc_check_packet_vector("packet.flow_update.session_congestion_hard");
  wc_check_packet_vector("packet.flow_update.session_hard");
  wc_check_packet_vector("packet.flow_update.connection_grant");
  wc_check_packet_vector("packet.flow_update.operation_pause");
}

TEST(result_hint_golden) {
  wc_check_packet_vector("packet.result_hint");
  nnrp_meta m;
  memset(&m, 0, sizeof(m));
  wc_check_meta_vector("metadata.result_hint.partial_elevated_server_busy",
                       NULL, &m);
  CHECK_EQ_U64(m.result_hint.reason, NNRP_HINT_REASON_SERVER_BUSY);
}

/* The operation_pause vector: unaligned u64 operation_id at offset 12. */
TEST(flow_update_operation_id_unaligned) {
  nnrp_meta m;
  uint8_t meta[32];
  memcpy(meta, g_op, 32);
  for (unsigned i = 0; i < 8; i++)
    meta[12 + i] = (uint8_t)(0x11 * (i + 1)); /* 0x8877665544332211 */
  wc_meta_roundtrip(NNRP_MSG_FLOW_UPDATE, meta, &m);
  CHECK_EQ_U64(m.flow_update.operation_id, 0x8877665544332211u);
  CHECK_EQ_U64(m.flow_update.retry_after_ms, 250);
}

/* ---- field rules --------------------------------------------------------- */

TEST(flow_update_enums) {
  expect_flow_reject(g_sess, g_sess_sid, 0, 1, 3, "scope_kind", 0, "§4.7");
  expect_flow_reject(g_sess, g_sess_sid, 0, 1, 0xFF, "scope_kind", 0, "§4.7");
  expect_flow_reject(g_sess, g_sess_sid, 1, 1, 5, "update_reason", 1, "§4.7");
  expect_flow_reject(g_sess, g_sess_sid, 1, 1, 0xFF, "update_reason", 1,
                     "§4.7");
  for (uint64_t r = 0; r <= NNRP_FLOW_REASON_CONGESTION; r++)
    expect_flow_accept(g_sess, 1, 1, r);
}

/* D9: backpressure_level 0..2; 3 is rejected in both modes. */
TEST(flow_update_backpressure_d9) {
  expect_flow_reject(g_sess, g_sess_sid, 2, 1, 3, "backpressure_level", 2,
                     "D9");
  expect_flow_reject(g_sess, g_sess_sid, 2, 1, 0x80, "backpressure_level", 2,
                     "D9");
  for (uint64_t l = 0; l <= NNRP_BACKPRESSURE_HARD; l++)
    expect_flow_accept(g_sess, 2, 1, l);
}

/* reserved0 (u8 @3) and reserved1 (u16 @10): strict rejects; lenient
 * ignores and keeps the value as read. */
TEST(flow_update_reserved_fields) {
  static const struct {
    size_t off;
    unsigned w;
    uint64_t val;
    const char *field;
  } rows[] = {{3, 1, 0x01, "reserved0"},
              {3, 1, 0x80, "reserved0"},
              {10, 2, 0x0001, "reserved1"},
              {10, 2, 0x8000, "reserved1"}};
  for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
    WC_PATCH_FAULT(NNRP_MSG_FLOW_UPDATE, g_sess, rows[i].off, rows[i].w,
                   rows[i].val, 0, rows[i].field, rows[i].off, "§4.7");
    WC_PATCH_OK(NNRP_MSG_FLOW_UPDATE, g_sess, rows[i].off, rows[i].w,
                rows[i].val, LENIENT, rows[i].field, rows[i].val);
    /* the packet decoder: strict rejects, lenient accepts */
    uint8_t meta[32];
    memcpy(meta, g_sess, 32);
    wc_put_le(meta + rows[i].off, rows[i].w, rows[i].val);
    size_t len;
    uint8_t *pkt =
        wc_packet_new(NNRP_MSG_FLOW_UPDATE, g_sess_sid, meta, NULL, 0, &len);
    nnrp_packet p;
    nnrp_fault f;
    WC_FAULT_FIELD(wc_decode(&p, pkt, len, 0, &f), f, BODY, rows[i].field);
    CHECK_EQ_INT(wc_decode(&p, pkt, len, LENIENT, &f), 0);
    free(pkt);
  }
}

/* flow_flags bits 4-31 are rejected in BOTH modes (§13; preview3 case
 * l0.flow_update.reserved_flags.reject); bits 0-3 in any combination are
 * accepted. */
TEST(flow_update_flow_flags_both_modes) {
  for (unsigned bit = 4; bit < 32; bit++)
    expect_flow_reject(g_conn, g_conn_sid, 28, 4, (uint64_t)1 << bit,
                       "flow_flags", 28, "§4.7");
  expect_flow_reject(g_conn, g_conn_sid, 28, 4, 0xFFFFFFFFu, "flow_flags", 28,
                     "§4.7");
  for (uint64_t v = 0; v <= NNRP_FLOW_KNOWN_MASK; v++)
    expect_flow_accept(g_conn, 28, 4, v); /* retry_after_ms is 0 here */
}

/* retry_after_ms != 0 requires RETRY_AFTER_VALID (both modes); conformance
 * l1.flow_update.metadata.validation. */
TEST(flow_update_retry_after_gating) {
  /* session vector: retry_after_ms 40, flags CREDIT_VALID|RETRY_AFTER_VALID */
  expect_flow_reject(g_sess, g_sess_sid, 28, 4, NNRP_FLOW_CREDIT_VALID,
                     "retry_after_ms", 20, "§4.7");
  expect_flow_reject(g_sess, g_sess_sid, 28, 4, 0, "retry_after_ms", 20,
                     "§4.7");
  expect_flow_accept(g_sess, 28, 4, NNRP_FLOW_RETRY_AFTER_VALID);
  /* connection vector: retry_after_ms 0 with or without the flag */
  expect_flow_accept(g_conn, 28, 4, 0);
  expect_flow_accept(g_conn, 28, 4, NNRP_FLOW_RETRY_AFTER_VALID);
  expect_flow_reject(g_conn, g_conn_sid, 20, 4, 1, "retry_after_ms", 20,
                     "§4.7");
}

/* ---- routing and consistency table (§4.7) ------------------------------- */

/* The "must be zero" column, row by row (preview3 cases
 * l1.flow_update.{connection,session,operation}.scope.validation). */
TEST(flow_update_routing_zero_fields) {
  /* CONNECTION: session_credit, operation_credit, operation_id */
  expect_flow_reject(g_conn, g_conn_sid, 6, 2, 1, "session_credit", 6,
                     "routing");
  expect_flow_reject(g_conn, g_conn_sid, 8, 2, 1, "operation_credit", 8,
                     "routing");
  expect_flow_reject(g_conn, g_conn_sid, 12, 8, 1, "operation_id", 12,
                     "routing");
  expect_flow_reject(g_conn, g_conn_sid, 12, 8, (uint64_t)1 << 63,
                     "operation_id", 12, "routing");
  expect_flow_accept(g_conn, 4, 2, 0xFFFF); /* its own credit is free */
  /* SESSION: connection_credit, operation_credit, operation_id */
  expect_flow_reject(g_sess, g_sess_sid, 4, 2, 1, "connection_credit", 4,
                     "routing");
  expect_flow_reject(g_sess, g_sess_sid, 8, 2, 1, "operation_credit", 8,
                     "routing");
  expect_flow_reject(g_sess, g_sess_sid, 12, 8, 0x1234, "operation_id", 12,
                     "routing");
  expect_flow_accept(g_sess, 6, 2, 0xFFFF);
  expect_flow_accept(g_sess, 6, 2, 0); /* credit 0 = normal backpressure */
  /* OPERATION: connection_credit, session_credit; operation_id != 0 */
  expect_flow_reject(g_op, g_op_sid, 4, 2, 1, "connection_credit", 4,
                     "routing");
  expect_flow_reject(g_op, g_op_sid, 6, 2, 1, "session_credit", 6, "routing");
  expect_flow_reject(g_op, g_op_sid, 12, 8, 0, "operation_id", 12, "routing");
  expect_flow_accept(g_op, 8, 2, 0);
  expect_flow_accept(g_op, 12, 8, UINT64_MAX);
}

/* The header.session_id column: 0 for CONNECTION, != 0 for SESSION and
 * OPERATION. Checked by body_dec (needs the header). */
TEST(flow_update_routing_session_id) {
  static const struct {
    const uint8_t *meta;
    uint32_t sid;
  } bad[] = {{g_conn, 42}, {g_conn, 1}, {g_sess, 0}, {g_op, 0}};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    nnrp_packet p;
    nnrp_fault f;
    int rc = wc_body_dec(&p, NNRP_MSG_FLOW_UPDATE, bad[i].meta, bad[i].sid,
                         NULL, 0, &f);
    WC_FAULT_AT(rc, f, BODY, "session_id", 0, "routing");
    size_t len;
    uint8_t *pkt = wc_packet_new(NNRP_MSG_FLOW_UPDATE, bad[i].sid, bad[i].meta,
                                 NULL, 0, &len);
    for (uint32_t mode = 0; mode <= LENIENT; mode++) {
      rc = wc_decode(&p, pkt, len, mode, &f);
      WC_FAULT_FIELD(rc, f, BODY, "session_id");
    }
    free(pkt);
  }
  static const struct {
    const uint8_t *meta;
    uint32_t sid;
  } good[] = {{g_conn, 0}, {g_sess, 7}, {g_op, 0xFFFFFFFFu}};
  for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
    nnrp_packet p;
    nnrp_fault f;
    CHECK_EQ_INT(wc_body_dec(&p, NNRP_MSG_FLOW_UPDATE, good[i].meta,
                             good[i].sid, NULL, 0, &f),
                 0);
  }
}

/* ---- body_len 0 ---------------------------------------------------------- */

TEST(flow_update_body_must_be_empty) {
  static const uint8_t one[1] = {0};
  nnrp_packet p;
  nnrp_fault f;
  int rc =
      wc_body_dec(&p, NNRP_MSG_FLOW_UPDATE, g_sess, g_sess_sid, one, 1, &f);
  WC_FAULT_AT(rc, f, BODY, "body_len", 0, "§4.7");
  size_t len;
  uint8_t *pkt =
      wc_packet_new(NNRP_MSG_FLOW_UPDATE, g_sess_sid, g_sess, one, 1, &len);
  rc = wc_decode(&p, pkt, len, LENIENT, &f);
  WC_FAULT_FIELD(rc, f, BODY, "body_len");
  free(pkt);
}

/* credit_epoch is free on the wire: its monotonicity (preview3 case
 * l1.flow_update.credit_epoch.monotonicity.validation) is session state
 * (session.md §8.2) and is NOT tested here. */
TEST(flow_update_credit_epoch_free) {
  expect_flow_accept(g_sess, 24, 4, 0);
  expect_flow_accept(g_sess, 24, 4, 0xFFFFFFFFu);
}

/* ---- RESULT_HINT --------------------------------------------------------- */

static uint8_t g_hint[16];

TEST(result_hint_enums) {
  static const struct {
    size_t off;
    uint32_t val;
    const char *field;
  } bad[] = {{0, 5, "applied_budget_policy"},
             {0, 0xFFFFFFFFu, "applied_budget_policy"},
             {4, 4, "congestion_state"},
             {4, 0x100, "congestion_state"},
             {8, 99, "reason"}, /* conformance: reason 99 must fail */
             {8, 5, "reason"}};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    /* enums: rejected in both modes. applied_budget_policy is an enum here,
     * not the strict-only BudgetPolicy bitmask of RESULT_PUSH. */
    for (uint32_t mode = 0; mode <= LENIENT; mode++)
      WC_PATCH_FAULT(NNRP_MSG_RESULT_HINT, g_hint, bad[i].off, 4, bad[i].val,
                     mode, bad[i].field, bad[i].off, "§4.8");
    uint8_t meta[16];
    memcpy(meta, g_hint, 16);
    wc_put_le(meta + bad[i].off, 4, bad[i].val);
    size_t len;
    uint8_t *pkt = wc_packet_new(NNRP_MSG_RESULT_HINT, 21, meta, NULL, 0, &len);
    nnrp_packet p;
    nnrp_fault f;
    int rc = wc_decode(&p, pkt, len, 0, &f);
    WC_FAULT_FIELD(rc, f, BODY, bad[i].field);
    free(pkt);
  }
  /* every defined combination decodes; retry_after_ms is free */
  for (uint32_t a = 0; a <= NNRP_HINT_BUDGET_DROP; a++)
    for (uint32_t c = 0; c <= NNRP_CONGESTION_SATURATED; c++)
      for (uint32_t r = 0; r <= NNRP_HINT_REASON_SUPERSEDED; r++) {
        uint8_t meta[16];
        nnrp_put_u32le(meta, a);
        nnrp_put_u32le(meta + 4, c);
        nnrp_put_u32le(meta + 8, r);
        nnrp_put_u32le(meta + 12, 0xFFFFFFFFu);
        nnrp_meta m;
        memset(&m, 0, sizeof(m));
        nnrp_fault f;
        CHECK_EQ_INT(wc_meta_dec(NNRP_MSG_RESULT_HINT, meta, 0, &m, &f), 0);
      }
}

TEST(result_hint_body_must_be_empty) {
  static const uint8_t body[3] = {1, 2, 3};
  nnrp_packet p;
  nnrp_fault f;
  int rc = wc_body_dec(&p, NNRP_MSG_RESULT_HINT, g_hint, 21, body, 3, &f);
  WC_FAULT_AT(rc, f, BODY, "body_len", 0, "§4.8");
  size_t len;
  uint8_t *pkt = wc_packet_new(NNRP_MSG_RESULT_HINT, 21, g_hint, body, 3, &len);
  rc = wc_decode(&p, pkt, len, 0, &f);
  WC_FAULT_FIELD(rc, f, BODY, "body_len");
  free(pkt);
}

int main(void) {
  load_flow_bases();
  wc_vec_exact("metadata.result_hint.partial_elevated_server_busy", g_hint, 16);

  RUN(flow_update_golden_packets);
  RUN(result_hint_golden);
  RUN(flow_update_operation_id_unaligned);
  RUN(flow_update_enums);
  RUN(flow_update_backpressure_d9);
  RUN(flow_update_reserved_fields);
  RUN(flow_update_flow_flags_both_modes);
  RUN(flow_update_retry_after_gating);
  RUN(flow_update_routing_zero_fields);
  RUN(flow_update_routing_session_id);
  RUN(flow_update_body_must_be_empty);
  RUN(flow_update_credit_epoch_free);
  RUN(result_hint_enums);
  RUN(result_hint_body_must_be_empty);
  wc_vectors_free();
  TEST_MAIN_END();
}
