/* SPDX-License-Identifier: Apache-2.0 */
/*
 * flow.c - FLOW_UPDATE (0x17, wire.md §4.7) and RESULT_HINT (0x18, §4.8):
 * field validation, the FLOW_UPDATE routing/consistency table and the empty
 * body rule. Epoch ordering and pause state are session state
 * (session.md §8) and are not checked here.
 */
#include "wire_int.h"

static const char rule_flow[] = "wire.md §4.7";
static const char rule_flow_d9[] = "wire.md §4.7 D9";
static const char rule_flow_rsv[] = "wire.md §4.7 reserved";
static const char rule_flow_retry[] = "wire.md §4.7 retry_after_ms";
static const char rule_flow_route[] = "wire.md §4.7 routing";
static const char rule_hint[] = "wire.md §4.8";

/* Metadata offsets of the FLOW_UPDATE fields used in fault reports. */
enum {
  FU_SCOPE = 0,
  FU_REASON = 1,
  FU_LEVEL = 2,
  FU_RSV0 = 3,
  FU_CONN_CREDIT = 4,
  FU_SESS_CREDIT = 6,
  FU_OP_CREDIT = 8,
  FU_RSV1 = 10,
  FU_OP_ID = 12,
  FU_RETRY = 20,
  FU_FLAGS = 28
};

/* Step 15 for the messages of this file whose body must be empty. */
static int body_empty(const nnrp_packet *p, const char *rule, nnrp_fault *f) {
  if (p->hdr.body_len != 0 || p->body_raw.len != 0)
    return nnrp__fail(f, NNRP_ERR_MALFORMED_BODY, 0, rule, "body_len");
  return 0;
}

/* ---- FLOW_UPDATE (§4.7) ------------------------------------------------- */

/* The "must be zero" column of the routing table: the credits (and the
 * operation id) of the other scopes, and operation_id != 0 for OPERATION. */
static int flow_scope_fields(const nnrp_flow_update *u, nnrp_fault *f) {
  switch (u->scope_kind) {
  case NNRP_FLOW_SCOPE_CONNECTION:
    if (u->session_credit != 0)
      return nnrp__fail(f, NNRP_ERR_MALFORMED_BODY, FU_SESS_CREDIT,
                        rule_flow_route, "session_credit");
    if (u->operation_credit != 0)
      return nnrp__fail(f, NNRP_ERR_MALFORMED_BODY, FU_OP_CREDIT,
                        rule_flow_route, "operation_credit");
    if (u->operation_id != 0)
      return nnrp__fail(f, NNRP_ERR_MALFORMED_BODY, FU_OP_ID, rule_flow_route,
                        "operation_id");
    return 0;
  case NNRP_FLOW_SCOPE_SESSION:
    if (u->connection_credit != 0)
      return nnrp__fail(f, NNRP_ERR_MALFORMED_BODY, FU_CONN_CREDIT,
                        rule_flow_route, "connection_credit");
    if (u->operation_credit != 0)
      return nnrp__fail(f, NNRP_ERR_MALFORMED_BODY, FU_OP_CREDIT,
                        rule_flow_route, "operation_credit");
    if (u->operation_id != 0)
      return nnrp__fail(f, NNRP_ERR_MALFORMED_BODY, FU_OP_ID, rule_flow_route,
                        "operation_id");
    return 0;
  default: /* OPERATION; the enum was checked before */
    if (u->connection_credit != 0)
      return nnrp__fail(f, NNRP_ERR_MALFORMED_BODY, FU_CONN_CREDIT,
                        rule_flow_route, "connection_credit");
    if (u->session_credit != 0)
      return nnrp__fail(f, NNRP_ERR_MALFORMED_BODY, FU_SESS_CREDIT,
                        rule_flow_route, "session_credit");
    if (u->operation_id == 0)
      return nnrp__fail(f, NNRP_ERR_MALFORMED_BODY, FU_OP_ID, rule_flow_route,
                        "operation_id");
    return 0;
  }
}

/* Step 16, the parts that need no header: enums, reserved fields, the
 * flow_flags mask (both modes, §13), retry_after gating, routing columns. */
int nnrp__flow_update_meta_dec(nnrp_meta *m, const uint8_t *in, uint32_t flags,
                               nnrp_fault *f) {
  nnrp_flow_update *u = &m->flow_update;
  const uint8_t *p = in;
  u->scope_kind = nnrp_get_u8(&p);
  u->update_reason = nnrp_get_u8(&p);
  u->backpressure_level = nnrp_get_u8(&p);
  u->reserved0 = nnrp_get_u8(&p);
  u->connection_credit = nnrp_get_u16le(&p);
  u->session_credit = nnrp_get_u16le(&p);
  u->operation_credit = nnrp_get_u16le(&p);
  u->reserved1 = nnrp_get_u16le(&p);
  u->operation_id = nnrp_get_u64le(&p); /* unaligned u64 at offset 12 */
  u->retry_after_ms = nnrp_get_u32le(&p);
  u->credit_epoch = nnrp_get_u32le(&p); /* free; ordering is session state */
  u->flow_flags = nnrp_get_u32le(&p);

  if (u->scope_kind > NNRP_FLOW_SCOPE_OPERATION)
    return nnrp__fail(f, NNRP_ERR_MALFORMED_BODY, FU_SCOPE, rule_flow,
                      "scope_kind");
  if (u->update_reason > NNRP_FLOW_REASON_CONGESTION)
    return nnrp__fail(f, NNRP_ERR_MALFORMED_BODY, FU_REASON, rule_flow,
                      "update_reason");
  if (u->backpressure_level > NNRP_BACKPRESSURE_HARD)
    return nnrp__fail(f, NNRP_ERR_MALFORMED_BODY, FU_LEVEL, rule_flow_d9,
                      "backpressure_level");
  /* Reserved fields: strict rejects, lenient keeps the value as read. */
  if (NNRP__STRICT(flags) && u->reserved0 != 0)
    return nnrp__fail(f, NNRP_ERR_MALFORMED_BODY, FU_RSV0, rule_flow_rsv,
                      "reserved0");
  if (NNRP__STRICT(flags) && u->reserved1 != 0)
    return nnrp__fail(f, NNRP_ERR_MALFORMED_BODY, FU_RSV1, rule_flow_rsv,
                      "reserved1");
  /* Bits 4-31 change the meaning: rejected in both modes (§13). */
  if (u->flow_flags & ~(uint32_t)NNRP_FLOW_KNOWN_MASK)
    return nnrp__fail(f, NNRP_ERR_MALFORMED_BODY, FU_FLAGS, rule_flow,
                      "flow_flags");
  if (u->retry_after_ms != 0 &&
      (u->flow_flags & NNRP_FLOW_RETRY_AFTER_VALID) == 0)
    return nnrp__fail(f, NNRP_ERR_MALFORMED_BODY, FU_RETRY, rule_flow_retry,
                      "retry_after_ms");
  return flow_scope_fields(u, f);
}

void nnrp__flow_update_meta_enc(const nnrp_meta *m, uint8_t *out) {
  const nnrp_flow_update *u = &m->flow_update;
  uint8_t *p = out;
  p = nnrp_put_u8(p, u->scope_kind);
  p = nnrp_put_u8(p, u->update_reason);
  p = nnrp_put_u8(p, u->backpressure_level);
  p = nnrp_put_u8(p, u->reserved0);
  p = nnrp_put_u16le(p, u->connection_credit);
  p = nnrp_put_u16le(p, u->session_credit);
  p = nnrp_put_u16le(p, u->operation_credit);
  p = nnrp_put_u16le(p, u->reserved1);
  p = nnrp_put_u64le(p, u->operation_id);
  p = nnrp_put_u32le(p, u->retry_after_ms);
  p = nnrp_put_u32le(p, u->credit_epoch);
  (void)nnrp_put_u32le(p, u->flow_flags);
}

/* Step 15 (body_len 0), then the header.session_id column of the routing
 * table (step 16, needs the header): CONNECTION scope travels with session
 * id 0, SESSION and OPERATION scopes with the session (≠ 0). The packet
 * decoder runs meta_dec (step 16) before this function; see packet.c. */
int nnrp__flow_update_body_dec(nnrp_packet *p, const nnrp_wire_opts *o,
                               nnrp_fault *f) {
  (void)o;
  int rc = body_empty(p, rule_flow, f);
  if (rc != 0)
    return rc;
  int connection = p->m.flow_update.scope_kind == NNRP_FLOW_SCOPE_CONNECTION;
  if (connection != (p->hdr.session_id == 0))
    return nnrp__fail(f, NNRP_ERR_MALFORMED_BODY, 0, rule_flow_route,
                      "session_id");
  return 0;
}

/* ---- RESULT_HINT (§4.8) ------------------------------------------------- */

int nnrp__result_hint_meta_dec(nnrp_meta *m, const uint8_t *in, uint32_t flags,
                               nnrp_fault *f) {
  (void)flags; /* three enums: rejected in both modes */
  nnrp_result_hint *h = &m->result_hint;
  const uint8_t *p = in;
  h->applied_budget_policy = nnrp_get_u32le(&p);
  h->congestion_state = nnrp_get_u32le(&p);
  h->reason = nnrp_get_u32le(&p);
  h->retry_after_ms = nnrp_get_u32le(&p); /* free */

  /* An enum here, not the BudgetPolicy bitmask of RESULT_PUSH, so the
   * strict-only "applied_budget_policy" row of §13 does not apply. */
  if (h->applied_budget_policy > NNRP_HINT_BUDGET_DROP)
    return nnrp__fail(f, NNRP_ERR_MALFORMED_BODY, 0, rule_hint,
                      "applied_budget_policy");
  if (h->congestion_state > NNRP_CONGESTION_SATURATED)
    return nnrp__fail(f, NNRP_ERR_MALFORMED_BODY, 4, rule_hint,
                      "congestion_state");
  if (h->reason > NNRP_HINT_REASON_SUPERSEDED)
    return nnrp__fail(f, NNRP_ERR_MALFORMED_BODY, 8, rule_hint, "reason");
  return 0;
}

void nnrp__result_hint_meta_enc(const nnrp_meta *m, uint8_t *out) {
  const nnrp_result_hint *h = &m->result_hint;
  uint8_t *p = out;
  p = nnrp_put_u32le(p, h->applied_budget_policy);
  p = nnrp_put_u32le(p, h->congestion_state);
  p = nnrp_put_u32le(p, h->reason);
  (void)nnrp_put_u32le(p, h->retry_after_ms);
}

int nnrp__result_hint_body_dec(nnrp_packet *p, const nnrp_wire_opts *o,
                               nnrp_fault *f) {
  (void)o;
  return body_empty(p, rule_hint, f);
}
