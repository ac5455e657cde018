/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_build_control.c - nnrp_build_control(): byte-exactness against the
 * seed-line packet vectors of the control messages, a build -> decode round
 * trip for every non-data message, the wire.md §2.4 header send rules,
 * derived lengths, scatter-gather output (references, probe filler) and the
 * error returns.
 */
#include "guard.h"
#include "harness.h"
#include "wire_check.h"

#include <nnrp/nnrp_wire.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CH NNRP_MSG_CLIENT_HELLO
#define SHA NNRP_MSG_SERVER_HELLO_ACK

/* ---- header helper ---------------------------------------------------------
 */

static nnrp_header hdr(uint8_t type, uint32_t session, uint32_t frame,
                       uint16_t view) {
  nnrp_header h;
  nnrp_header_init(&h, type);
  h.session_id = session;
  h.frame_id = frame;
  h.view_id = view;
  return h;
}

/* ---- build + decode -------------------------------------------------------
 */

#define SCRATCH (64 * 1024 + 512)
static uint8_t g_scratch[SCRATCH];
static uint8_t g_flat[SCRATCH];
static nnrp_iov g_iov[64];

/* Builds contiguously into g_scratch and decodes the result strictly into
 * *p (views into g_scratch). Returns the packet length, 0 on failure. */
static size_t build_decode(const nnrp_header *h, nnrp_meta *m,
                           const nnrp_control_body *c, nnrp_packet *p) {
  nnrp_out out;
  nnrp_fault f;
  nnrp_out_init(&out, g_scratch, sizeof g_scratch, NULL, 0);
  memset(&f, 0, sizeof f);
  if (!CHECK_EQ_INT(nnrp_build_control(&out, h, m, c, &f), 0)) {
    fprintf(stderr, "  build 0x%02x: %s %s\n", h->msg_type, f.rule, f.field);
    return 0;
  }
  CHECK(nnrp_out_contiguous(&out) == g_scratch);
  size_t n = (size_t)out.total;
  memset(&f, 0, sizeof f);
  if (!CHECK_EQ_INT(nnrp_packet_decode(p, g_scratch, n, NULL, &f), 0)) {
    fprintf(stderr, "  decode 0x%02x: %s %s @%u\n", h->msg_type, f.rule,
            f.field, f.offset);
    return 0;
  }
  /* Metadata: the decoded struct re-encodes to the sent bytes, which are
   * the bytes of the (written-back) caller struct; the bare-metadata
   * decoder accepts them too. */
  CHECK_EQ_INT(p->hdr.msg_type, h->msg_type);
  CHECK_EQ_INT(p->hdr.meta_len, nnrp_msg_meta_len(h->msg_type));
  uint8_t a[80], b[80];
  int ml = nnrp_meta_encode(h->msg_type, &p->m, a, sizeof a);
  CHECK_EQ_INT(ml, (int)p->hdr.meta_len);
  CHECK_EQ_INT(nnrp_meta_encode(h->msg_type, m, b, sizeof b), ml);
  CHECK_EQ_MEM(a, b, (size_t)ml);
  CHECK_EQ_MEM(a, g_scratch + 40, (size_t)ml);
  nnrp_meta again;
  CHECK_EQ_INT(nnrp_meta_decode(h->msg_type, &again, g_scratch + 40, (size_t)ml,
                                0, NULL),
               0);
  CHECK_EQ_U64(n, 40u + p->hdr.meta_len + p->hdr.body_len);
  return n;
}

/* Builds with iovecs (copy_max as given) and flattens into g_flat. */
static size_t build_iov(const nnrp_header *h, nnrp_meta *m,
                        const nnrp_control_body *c, size_t copy_max,
                        nnrp_out *out) {
  nnrp_out_init(out, g_scratch, sizeof g_scratch, g_iov, 64);
  out->copy_max = copy_max;
  if (!CHECK_EQ_INT(nnrp_build_control(out, h, m, c, NULL), 0))
    return 0;
  int64_t n = nnrp_out_flatten(out, g_flat, sizeof g_flat);
  CHECK_EQ_U64((uint64_t)n, out->total);
  return n > 0 ? (size_t)n : 0;
}

/* ---- seed-line vectors, byte for byte --------------------------------------
 */

TEST(vectors_byte_exact) {
  static const char *names[] = {
      "packet.ping",
      "packet.pong.echo",
      "packet.close",
      "packet.frame_cancel",
      "packet.result_drop",
      "packet.error.malformed_body",
      "packet.client_hello.defaults_prefer_quic_auth",
      "packet.server_hello_ack.with_transport_policy_ext"};
  for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
    uint8_t *want = NULL;
    size_t n = wc_vec_hex(names[i], &want);
    nnrp_packet p;
    nnrp_fault f;
    if (!CHECK_EQ_INT(nnrp_packet_decode(&p, want, n, NULL, &f), 0)) {
      free(want);
      continue;
    }
    const cJSON *fields = wc_vec_fields(names[i]);
    const cJSON *hj = cJSON_GetObjectItemCaseSensitive(fields, "header");
    wc_check_header(hj ? hj : fields, &p.hdr, NULL);

    /* Builder input: the decoded values with every derived field wiped
     * (lengths, header ids set by §2.4, ACK_REQUIRED). */
    nnrp_header h = p.hdr;
    nnrp_meta m = p.m;
    nnrp_control_body c;
    memset(&c, 0, sizeof c);
    h.meta_len = h.body_len = 0xDEAD;
    h.version_major = 9;
    h.header_len = 0;
    switch (h.msg_type) {
    case CH:
      h.flags = 0;
      h.session_id = 1234; /* forced to 0 */
      m.client_hello.auth_bytes = m.client_hello.control_extension_bytes = 77;
      c.ext = &p.b.client_hello.ext;
      c.bytes = p.b.client_hello.auth;
      break;
    case SHA:
      h.flags = 0;
      h.session_id = 0; /* = metadata.session_id */
      m.server_hello_ack.control_extension_bytes = 0;
      c.ext = &p.b.server_hello_ack.ext;
      break;
    case NNRP_MSG_ERROR:
      h.session_id = h.frame_id = 0; /* = related ids */
      m.error.diagnostic_bytes = 0;
      c.bytes = p.b.diagnostic;
      break;
    default:
      break;
    }
    nnrp_meta m2 = m;
    nnrp_out out;
    nnrp_out_init(&out, g_scratch, sizeof g_scratch, NULL, 0);
    if (CHECK_EQ_INT(nnrp_build_control(&out, &h, &m, &c, &f), 0) &&
        CHECK_EQ_U64(out.total, n)) {
      if (!CHECK_EQ_MEM(g_scratch, want, n))
        fprintf(stderr, "  %s\n", names[i]);
    }
    /* The derived fields were written back. */
    uint8_t a[80], b[80];
    int ml = nnrp_meta_encode(h.msg_type, &m, a, sizeof a);
    nnrp_meta_encode(h.msg_type, &p.m, b, sizeof b);
    CHECK_EQ_MEM(a, b, (size_t)ml);
    /* Scatter-gather with every payload referenced: same bytes. */
    size_t k = build_iov(&h, &m2, &c, 0, &out);
    CHECK_EQ_U64(k, n);
    CHECK_EQ_MEM(g_flat, want, n);
    if (h.msg_type == CH)
      CHECK(wc_iov_has(&out, p.b.client_hello.auth.ptr,
                       p.b.client_hello.auth.len));
    free(want);
  }
}

/* ---- every control message: build -> decode
 * ---------------------------------- */

TEST(roundtrip_hellos) {
  nnrp_packet p;
  nnrp_meta m;
  memset(&m, 0, sizeof m);
  nnrp_client_hello *ch = &m.client_hello;
  ch->min_version_major = ch->max_version_major = 1;
  ch->supported_wire_format_bitmap = 1;
  ch->supported_profile_bitmap = 3;
  ch->supported_payload_kind_bitmap = 0x21;
  ch->requested_session_id = 99;
  nnrp_hello_exts x;
  memset(&x, 0, sizeof x);
  x.present = NNRP_HELLO_EXT_TRANSPORT_POLICY | NNRP_HELLO_EXT_LOSS_TOLERANCE |
              NNRP_HELLO_EXT_PAYLOAD_CAPS;
  x.transport_policy.transport_policy = NNRP_TRANSPORT_POLICY_FORCE_QUIC;
  x.transport_policy.transport_id = NNRP_TRANSPORT_QUIC;
  x.loss_tolerance.loss_tolerance = NNRP_LOSS_TOLERANCE_LOW_LATENCY;
  x.payload_caps.payload_kind_bitmap = 0x21;
  nnrp_ext_entry extra = {0x4001, 0, {(const uint8_t *)"exp", 3}};
  nnrp_control_body c = {&x, &extra, 1, {(const uint8_t *)"secret", 6}, NULL};
  nnrp_header h = hdr(CH, 55, 3, 4);
  if (build_decode(&h, &m, &c, &p)) {
    CHECK_EQ_U64(ch->control_extension_bytes, 64);
    CHECK_EQ_U64(ch->auth_bytes, 6);
    CHECK_EQ_U64(p.hdr.body_len, 70);
    CHECK_EQ_U64(p.hdr.session_id, 0);
    CHECK_EQ_U64(p.hdr.frame_id, 0);
    CHECK_EQ_U64(p.hdr.view_id, 0);
    CHECK_EQ_U64(p.hdr.flags, NNRP_FLAG_ACK_REQUIRED);
    CHECK_EQ_U64(p.b.client_hello.ext.present, x.present);
    CHECK_EQ_INT(p.b.client_hello.ext.unknown_count, 1);
    CHECK_EQ_INT(p.b.client_hello.ext.loss_tolerance.loss_tolerance, 2);
    CHECK_EQ_MEM(p.b.client_hello.auth.ptr, "secret", 6);
  }

  memset(&m, 0, sizeof m);
  nnrp_server_hello_ack *a = &m.server_hello_ack;
  a->selected_version_major = 1;
  a->session_id = 42;
  a->server_flags = NNRP_SERVER_FLAG_CACHE_ENABLED;
  memset(&x, 0, sizeof x);
  x.present = NNRP_HELLO_EXT_TRANSPORT_POLICY | NNRP_HELLO_EXT_MODEL_NAME;
  x.transport_policy.transport_policy = 1;
  x.transport_policy.accepted_transport_policy = 1;
  x.transport_policy.transport_id = NNRP_TRANSPORT_TCP;
  x.model_name = (nnrp_bytes){(const uint8_t *)"sr-x4", 5};
  nnrp_control_body cs = {&x, NULL, 0, {NULL, 0}, NULL};
  h = hdr(SHA, 7, 1, 1);
  h.trace_id = 0xABCDEF;
  if (build_decode(&h, &m, &cs, &p)) {
    CHECK_EQ_U64(a->control_extension_bytes, 32);
    CHECK_EQ_U64(p.hdr.session_id, 42);
    CHECK_EQ_U64(p.hdr.flags, NNRP_FLAG_ACK_REQUIRED);
    CHECK_EQ_U64(p.hdr.trace_id, 0xABCDEF);
    CHECK_EQ_U64(p.b.server_hello_ack.ext.present, x.present);
    CHECK_EQ_MEM(p.b.server_hello_ack.ext.model_name.ptr, "sr-x4", 5);
  }
  /* The opaque SERVER_HELLO_ACK body (D5, as nnrp-py 1.0.0rc2 sends). */
  nnrp_control_body co = {NULL, NULL, 0, {(const uint8_t *)"model-a", 7}, NULL};
  a->control_extension_bytes = 99;
  if (build_decode(&h, &m, &co, &p)) {
    CHECK_EQ_U64(a->control_extension_bytes, 0);
    CHECK_EQ_MEM(p.b.server_hello_ack.opaque.ptr, "model-a", 7);
  }
}

TEST(roundtrip_patch) {
  nnrp_packet p;
  nnrp_meta m;
  nnrp_profile_patch blk = {64, 48, 1920, 1080};
  memset(&m, 0, sizeof m);
  m.session_patch.patch_mask = NNRP_PATCH_TARGET_CADENCE;
  m.session_patch.target_cadence_x100 = 3000;
  nnrp_control_body c = {NULL, NULL, 0, {NULL, 0}, &blk};
  nnrp_header h = hdr(NNRP_MSG_SESSION_PATCH, 7, 5, 5);
  if (build_decode(&h, &m, &c, &p)) {
    CHECK_EQ_U64(m.session_patch.patch_mask, 0x41); /* PROFILE_PATCH set */
    CHECK_EQ_U64(m.session_patch.profile_patch_bytes, 16);
    CHECK_EQ_INT(p.b.patch.present, 1);
    CHECK_EQ_U64(p.b.patch.block.max_height, 1080);
    CHECK_EQ_U64(p.hdr.session_id, 7);
    CHECK_EQ_U64(p.hdr.frame_id, 0);
  }
  memset(&m, 0, sizeof m);
  m.session_patch.patch_mask = NNRP_PATCH_QUALITY_TIER;
  m.session_patch.profile_patch_bytes = 16; /* derived: back to 0 */
  if (build_decode(&h, &m, NULL, &p)) {
    CHECK_EQ_U64(m.session_patch.profile_patch_bytes, 0);
    CHECK_EQ_U64(m.session_patch.patch_mask, NNRP_PATCH_QUALITY_TIER);
    CHECK_EQ_INT(p.b.patch.present, 0);
  }
  memset(&m, 0, sizeof m);
  m.session_patch_ack.ack_status = NNRP_PATCH_ACK_PARTIALLY_APPLIED;
  m.session_patch_ack.applied_patch_mask = 0x41;
  m.session_patch_ack.rejected_patch_mask = 0x02;
  m.session_patch_ack.effective_lane_mask = 0x0102030405060708u;
  h = hdr(NNRP_MSG_SESSION_PATCH_ACK, 7, 0, 0);
  if (build_decode(&h, &m, &c, &p)) {
    CHECK_EQ_U64(m.session_patch_ack.profile_patch_ack_bytes, 16);
    CHECK_EQ_INT(p.b.patch.present, 1);
    CHECK_EQ_U64(p.b.patch.block.min_width, 64);
    CHECK_EQ_U64(p.m.session_patch_ack.effective_lane_mask,
                 0x0102030405060708u);
  }
  if (build_decode(&h, &m, NULL, &p))
    CHECK_EQ_U64(m.session_patch_ack.profile_patch_ack_bytes, 0);
}

TEST(roundtrip_header_only) {
  nnrp_packet p;
  /* CLOSE, PING, PONG: session kept, frame/view zeroed, flags copied. */
  static const uint8_t zeroed[] = {NNRP_MSG_CLOSE, NNRP_MSG_PING,
                                   NNRP_MSG_PONG};
  for (int i = 0; i < 3; i++) {
    nnrp_header h = hdr(zeroed[i], 7, 9, 9);
    h.route_id = 3;
    h.trace_id = 0x1122334455667788u;
    h.flags = NNRP_FLAG_RETRANSMIT;
    if (build_decode(&h, NULL, NULL, &p)) {
      CHECK_EQ_U64(p.hdr.session_id, 7);
      CHECK_EQ_U64(p.hdr.frame_id, 0);
      CHECK_EQ_U64(p.hdr.view_id, 0);
      CHECK_EQ_U64(p.hdr.route_id, 3);
      CHECK_EQ_U64(p.hdr.trace_id, 0x1122334455667788u);
      CHECK_EQ_U64(p.hdr.flags, NNRP_FLAG_RETRANSMIT);
      CHECK_EQ_U64(p.hdr.body_len, 0);
    }
  }
  /* FRAME_CANCEL and RESULT_DROP name the frame and its lane. */
  static const uint8_t framed[] = {NNRP_MSG_FRAME_CANCEL, NNRP_MSG_RESULT_DROP};
  for (int i = 0; i < 2; i++) {
    nnrp_header h = hdr(framed[i], 7, 101, 2);
    h.flags = NNRP_FLAG_CAN_DROP;
    if (build_decode(&h, NULL, NULL, &p)) {
      CHECK_EQ_U64(p.hdr.frame_id, 101);
      CHECK_EQ_U64(p.hdr.view_id, 2);
      CHECK_EQ_U64(p.hdr.flags, NNRP_FLAG_CAN_DROP);
    }
  }
}

TEST(roundtrip_error) {
  nnrp_packet p;
  nnrp_meta m;
  memset(&m, 0, sizeof m);
  m.error.error_code = NNRP_ERROR_CODE_CACHE_MISS;
  m.error.error_scope = NNRP_ERROR_SCOPE_FRAME;
  m.error.related_session_id = 7;
  m.error.related_frame_id = 102;
  m.error.related_view_id = 0x10003; /* header carries the low 16 bits */
  nnrp_control_body c = {NULL, NULL, 0, {(const uint8_t *)"miss", 4}, NULL};
  nnrp_header h = hdr(NNRP_MSG_ERROR, 1, 2, 9);
  h.route_id = 4;
  if (build_decode(&h, &m, &c, &p)) {
    CHECK_EQ_U64(m.error.diagnostic_bytes, 4);
    CHECK_EQ_U64(p.hdr.session_id, 7);
    CHECK_EQ_U64(p.hdr.frame_id, 102);
    CHECK_EQ_U64(p.hdr.view_id, 3);
    CHECK_EQ_U64(p.hdr.route_id, 4);
    CHECK_EQ_MEM(p.b.diagnostic.ptr, "miss", 4);
  }
  /* No diagnostic. */
  if (build_decode(&h, &m, NULL, &p))
    CHECK_EQ_U64(m.error.diagnostic_bytes, 0);
}

TEST(roundtrip_cache) {
  nnrp_packet p;
  nnrp_meta m;
  uint8_t obj[100];
  for (int i = 0; i < 100; i++)
    obj[i] = (uint8_t)i;
  memset(&m, 0, sizeof m);
  m.cache_put.cache_namespace = 1;
  nnrp_cache_key_from_bytes((const uint8_t *)"tst-v1", 6,
                            &m.cache_put.cache_key_hi,
                            &m.cache_put.cache_key_lo);
  m.cache_put.object_kind = NNRP_OBJECT_CAMERA_BLOCK;
  m.cache_put.flags = NNRP_CACHE_PUT_PINNED;
  nnrp_control_body c = {NULL, NULL, 0, {obj, sizeof obj}, NULL};
  nnrp_header h = hdr(NNRP_MSG_CACHE_PUT, 7, 1, 1);
  if (build_decode(&h, &m, &c, &p)) {
    CHECK_EQ_U64(m.cache_put.object_bytes, 100);
    CHECK_EQ_MEM(p.b.object.ptr, obj, 100);
    CHECK_EQ_U64(p.hdr.frame_id, 0);
  }
  /* Large object referenced, not copied. */
  nnrp_out out;
  if (build_iov(&h, &m, &c, 64, &out)) {
    CHECK(wc_iov_has(&out, obj, sizeof obj));
    CHECK_EQ_MEM(g_flat + 72, obj, 100);
  }
  memset(&m, 0, sizeof m);
  m.cache_ack.status = NNRP_CACHE_ACK_REPLACED;
  m.cache_ack.max_object_bytes = 1u << 20;
  h = hdr(NNRP_MSG_CACHE_ACK, 7, 0, 0);
  if (build_decode(&h, &m, NULL, &p))
    CHECK_EQ_U64(p.m.cache_ack.status, NNRP_CACHE_ACK_REPLACED);
  memset(&m, 0, sizeof m);
  m.cache_invalidate.invalidate_scope = NNRP_CACHE_INVALIDATE_OBJECT_KEY;
  m.cache_invalidate.cache_key_lo = 5;
  h = hdr(NNRP_MSG_CACHE_INVALIDATE, 7, 0, 0);
  if (build_decode(&h, &m, NULL, &p))
    CHECK_EQ_U64(p.m.cache_invalidate.cache_key_lo, 5);
}

TEST(roundtrip_flow_update_scopes) {
  nnrp_packet p;
  nnrp_meta m;
  /* CONNECTION scope forces header session_id 0 (§2.4, §4.7). */
  memset(&m, 0, sizeof m);
  m.flow_update.scope_kind = NNRP_FLOW_SCOPE_CONNECTION;
  m.flow_update.connection_credit = 8;
  m.flow_update.flow_flags = NNRP_FLOW_CREDIT_VALID;
  nnrp_header h = hdr(NNRP_MSG_FLOW_UPDATE, 7, 3, 3);
  if (build_decode(&h, &m, NULL, &p)) {
    CHECK_EQ_U64(p.hdr.session_id, 0);
    CHECK_EQ_U64(p.hdr.frame_id, 0);
    CHECK_EQ_U64(p.m.flow_update.connection_credit, 8);
  }
  /* SESSION and OPERATION scopes keep the session. */
  memset(&m, 0, sizeof m);
  m.flow_update.scope_kind = NNRP_FLOW_SCOPE_SESSION;
  m.flow_update.session_credit = 4;
  m.flow_update.retry_after_ms = 50;
  m.flow_update.update_reason = NNRP_FLOW_REASON_PAUSE;
  m.flow_update.flow_flags =
      NNRP_FLOW_CREDIT_VALID | NNRP_FLOW_RETRY_AFTER_VALID;
  if (build_decode(&h, &m, NULL, &p))
    CHECK_EQ_U64(p.hdr.session_id, 7);
  memset(&m, 0, sizeof m);
  m.flow_update.scope_kind = NNRP_FLOW_SCOPE_OPERATION;
  m.flow_update.operation_credit = 1;
  m.flow_update.operation_id = 101;
  if (build_decode(&h, &m, NULL, &p)) {
    CHECK_EQ_U64(p.hdr.session_id, 7);
    CHECK_EQ_U64(p.m.flow_update.operation_id, 101);
  }
}

TEST(roundtrip_hint_probe_migrate) {
  nnrp_packet p;
  nnrp_meta m;
  memset(&m, 0, sizeof m);
  m.result_hint.applied_budget_policy = NNRP_HINT_BUDGET_PARTIAL;
  m.result_hint.congestion_state = NNRP_CONGESTION_ELEVATED;
  m.result_hint.reason = NNRP_HINT_REASON_SERVER_BUSY;
  nnrp_header h = hdr(NNRP_MSG_RESULT_HINT, 7, 5, 3);
  if (build_decode(&h, &m, NULL, &p)) {
    CHECK_EQ_U64(p.hdr.frame_id, 5); /* the frame concerned */
    CHECK_EQ_U64(p.hdr.view_id, 0);
  }
  /* TRANSPORT_PROBE: the filler is probe_payload_bytes of 'P'. */
  memset(&m, 0, sizeof m);
  m.transport_probe.probe_id = 9;
  m.transport_probe.probe_payload_bytes = 32768;
  m.transport_probe.client_send_ts_us = 123456789;
  h = hdr(NNRP_MSG_TRANSPORT_PROBE, 0, 1, 1);
  if (build_decode(&h, &m, NULL, &p)) {
    CHECK_EQ_U64(p.b.filler.len, 32768);
    uint8_t want[32768];
    memset(want, 0x50, sizeof want);
    CHECK_EQ_MEM(p.b.filler.ptr, want, sizeof want);
    CHECK_EQ_U64(p.hdr.session_id, 0);
  }
  memset(&m, 0, sizeof m);
  m.transport_probe_ack.probe_id = 9;
  m.transport_probe_ack.server_recv_ts_us = 1700000000000000u;
  h = hdr(NNRP_MSG_TRANSPORT_PROBE_ACK, 0, 0, 0);
  if (build_decode(&h, &m, NULL, &p))
    CHECK_EQ_U64(p.m.transport_probe_ack.server_recv_ts_us, 1700000000000000u);
  /* SESSION_MIGRATE carries the token; MIGRATE_ACK is empty. */
  memset(&m, 0, sizeof m);
  m.session_migrate.old_transport_id = NNRP_TRANSPORT_QUIC;
  m.session_migrate.new_transport_id = NNRP_TRANSPORT_TCP;
  m.session_migrate.last_result_frame_id = 100;
  nnrp_control_body c = {NULL, NULL, 0, {(const uint8_t *)"tok!", 4}, NULL};
  h = hdr(NNRP_MSG_SESSION_MIGRATE, 7, 0, 0);
  if (build_decode(&h, &m, &c, &p)) {
    CHECK_EQ_MEM(p.b.token.ptr, "tok!", 4);
    CHECK_EQ_U64(p.hdr.body_len, 4);
  }
  memset(&m, 0, sizeof m);
  m.session_migrate_ack.resume_from_frame_id = 101;
  m.session_migrate_ack.grace_window_ms = 5000;
  h = hdr(NNRP_MSG_SESSION_MIGRATE_ACK, 7, 0, 0);
  if (build_decode(&h, &m, NULL, &p))
    CHECK_EQ_U64(p.m.session_migrate_ack.resume_from_frame_id, 101);
}

/* ---- scatter-gather output --------------------------------------------------
 */

TEST(iov_references_large_payloads) {
  uint8_t auth[200], extp[100];
  memset(auth, 'a', sizeof auth);
  memset(extp, 'e', sizeof extp);
  nnrp_meta m;
  memset(&m, 0, sizeof m);
  m.client_hello.min_version_major = m.client_hello.max_version_major = 1;
  m.client_hello.supported_wire_format_bitmap = 1;
  m.client_hello.supported_profile_bitmap = 1;
  m.client_hello.supported_payload_kind_bitmap = 1;
  nnrp_ext_entry extra[2] = {{0x9001, 0, {extp, 100}}, {0x9002, 0, {extp, 5}}};
  nnrp_control_body c = {NULL, extra, 2, {auth, sizeof auth}, NULL};
  nnrp_header h = hdr(CH, 0, 0, 0);
  nnrp_out out;
  size_t n = build_iov(&h, &m, &c, 64, &out);
  CHECK(wc_iov_has(&out, auth, sizeof auth));
  CHECK(wc_iov_has(&out, extp, 100));
  CHECK(!wc_iov_has(&out, extp, 5)); /* small: copied */
  CHECK(nnrp_out_contiguous(&out) == NULL);
  nnrp_packet p;
  CHECK_EQ_INT(nnrp_packet_decode(&p, g_flat, n, NULL, NULL), 0);
  CHECK_EQ_U64(p.m.client_hello.control_extension_bytes, 8 + 104 + 16);
  CHECK_EQ_INT(p.b.client_hello.ext.unknown_count, 2);
  /* Contiguous mode copies everything: same bytes. */
  nnrp_packet q;
  uint8_t copy[512];
  memcpy(copy, g_flat, n);
  CHECK_EQ_U64(build_decode(&h, &m, &c, &q), n);
  CHECK_EQ_MEM(g_scratch, copy, n);
}

TEST(iov_probe_filler) {
  nnrp_meta m;
  memset(&m, 0, sizeof m);
  m.transport_probe.probe_payload_bytes = 32768 + 10;
  nnrp_header h = hdr(NNRP_MSG_TRANSPORT_PROBE, 0, 0, 0);
  nnrp_out out;
  size_t n = build_iov(&h, &m, NULL, 64, &out);
  CHECK_EQ_U64(n, 40 + 16 + 32768 + 10);
  /* Header+meta in scratch, then static 4 KiB filler references (the
   * 10-byte tail is copied), no caller memory involved. */
  CHECK_EQ_U64(out.scratch_len, 56 + 10);
  CHECK_EQ_U64(out.iov_len, 1 + 8 + 1);
  for (size_t i = 1; i < 9; i++) {
    CHECK_EQ_U64(out.iov[i].len, 4096);
    CHECK(out.iov[i].base == out.iov[1].base);
  }
  for (size_t i = 56; i < n; i++)
    if (!CHECK_EQ_U64(g_flat[i], 0x50))
      break;
  nnrp_packet p;
  CHECK_EQ_INT(nnrp_packet_decode(&p, g_flat, n, NULL, NULL), 0);
  /* A small probe is copied into scratch. */
  m.transport_probe.probe_payload_bytes = 16;
  n = build_iov(&h, &m, NULL, 64, &out);
  CHECK_EQ_U64(out.iov_len, 1);
  CHECK_EQ_U64(n, 72);
  CHECK_EQ_MEM(g_flat + 56, "PPPPPPPPPPPPPPPP", 16);
  /* Zero filler is valid too. */
  m.transport_probe.probe_payload_bytes = 0;
  CHECK_EQ_U64(build_decode(&h, &m, NULL, &p), 56);
}

/* ---- errors -----------------------------------------------------------------
 */

TEST(errors_invalid_argument) {
  nnrp_out out;
  nnrp_fault f;
  nnrp_meta m;
  memset(&m, 0, sizeof m);
  nnrp_out_init(&out, g_scratch, sizeof g_scratch, NULL, 0);
  /* Data messages and unknown types. */
  static const uint8_t bad[] = {
      NNRP_MSG_FRAME_SUBMIT, NNRP_MSG_RESULT_PUSH, 0x00, 0x07, 0x30, 0xFF};
  for (size_t i = 0; i < sizeof bad; i++) {
    nnrp_header h = hdr(bad[i], 7, 0, 0);
    h.msg_type = bad[i];
    CHECK_EQ_INT(nnrp_build_control(&out, &h, &m, NULL, &f),
                 NNRP_ERR_INVALID_ARGUMENT);
    CHECK_EQ_STR(f.field, "msg_type");
  }
  CHECK_EQ_U64(out.total, 0);
  nnrp_header h = hdr(CH, 0, 0, 0);
  CHECK_EQ_INT(nnrp_build_control(&out, &h, NULL, NULL, &f),
               NNRP_ERR_INVALID_ARGUMENT);
  CHECK_EQ_INT(nnrp_build_control(NULL, &h, &m, NULL, &f),
               NNRP_ERR_INVALID_ARGUMENT);
  CHECK_EQ_INT(nnrp_build_control(&out, NULL, &m, NULL, &f),
               NNRP_ERR_INVALID_ARGUMENT);
  /* A length without bytes; extra entries without the array. */
  nnrp_control_body c;
  memset(&c, 0, sizeof c);
  c.bytes.len = 4;
  CHECK_EQ_INT(nnrp_build_control(&out, &h, &m, &c, &f),
               NNRP_ERR_INVALID_ARGUMENT);
  memset(&c, 0, sizeof c);
  c.extra_ext_count = 1;
  CHECK_EQ_INT(nnrp_build_control(&out, &h, &m, &c, &f),
               NNRP_ERR_INVALID_ARGUMENT);
  /* Over the 64 MiB packet cap (D19): refused before anything is read. */
  h = hdr(NNRP_MSG_TRANSPORT_PROBE, 0, 0, 0);
  m.transport_probe.probe_payload_bytes = NNRP_MAX_PACKET_BYTES - 56 + 1;
  CHECK_EQ_INT(nnrp_build_control(&out, &h, &m, NULL, &f),
               NNRP_ERR_INVALID_ARGUMENT);
  CHECK_EQ_STR(f.field, "body_len");
  memset(&m, 0, sizeof m);
  uint8_t one = 0;
  c.extra_ext_count = 0;
  c.bytes = (nnrp_bytes){&one, (size_t)NNRP_MAX_PACKET_BYTES};
  h = hdr(NNRP_MSG_CACHE_PUT, 7, 0, 0);
  CHECK_EQ_INT(nnrp_build_control(&out, &h, &m, &c, &f),
               NNRP_ERR_INVALID_ARGUMENT);
  CHECK_EQ_U64(m.cache_put.object_bytes, 0); /* *meta untouched */
  /* A length near SIZE_MAX must not wrap the 64-bit sums. */
  c.bytes.len = SIZE_MAX - 8;
  h = hdr(CH, 0, 0, 0);
  CHECK_EQ_INT(nnrp_build_control(&out, &h, &m, &c, &f),
               NNRP_ERR_INVALID_ARGUMENT);
  CHECK_EQ_STR(f.field, "body_len");
  h = hdr(NNRP_MSG_ERROR, 0, 0, 0);
  CHECK_EQ_INT(nnrp_build_control(&out, &h, &m, &c, &f),
               NNRP_ERR_INVALID_ARGUMENT);
  CHECK_EQ_U64(out.total, 0);
  /* Header-only messages need no metadata. */
  h = hdr(NNRP_MSG_PING, 0, 0, 0);
  CHECK_EQ_INT(nnrp_build_control(&out, &h, NULL, NULL, &f), 0);
  CHECK_EQ_U64(out.total, 40);
}

TEST(errors_inconsistent) {
  nnrp_out out;
  nnrp_fault f;
  nnrp_meta m;
  nnrp_hello_exts x;
  nnrp_profile_patch blk = {1, 1, 2, 2};
  nnrp_ext_entry e = {0x9000, 0, {(const uint8_t *)"x", 1}};
  memset(&x, 0, sizeof x);
  nnrp_out_init(&out, g_scratch, sizeof g_scratch, NULL, 0);
  static const struct {
    uint8_t type;
    int piece; /* 0 bytes, 1 ext, 2 extra, 3 patch */
    const char *field;
  } c[] = {{NNRP_MSG_CLOSE, 0, "bytes"},
           {NNRP_MSG_PING, 0, "bytes"},
           {NNRP_MSG_FLOW_UPDATE, 0, "bytes"},
           {NNRP_MSG_TRANSPORT_PROBE, 0, "bytes"},
           {NNRP_MSG_SESSION_PATCH, 0, "bytes"},
           {NNRP_MSG_ERROR, 1, "ext"},
           {NNRP_MSG_PONG, 2, "ext"},
           {NNRP_MSG_CACHE_PUT, 3, "patch"},
           {CH, 3, "patch"}};
  for (size_t i = 0; i < sizeof c / sizeof c[0]; i++) {
    nnrp_control_body b;
    memset(&b, 0, sizeof b);
    memset(&m, 0, sizeof m);
    if (c[i].piece == 0)
      b.bytes = (nnrp_bytes){(const uint8_t *)"zz", 2};
    else if (c[i].piece == 1)
      b.ext = &x;
    else if (c[i].piece == 2) {
      b.extra_ext = &e;
      b.extra_ext_count = 1;
    } else
      b.patch = &blk;
    nnrp_header h = hdr(c[i].type, 7, 0, 0);
    if (!CHECK_EQ_INT(nnrp_build_control(&out, &h, &m, &b, &f),
                      NNRP_ERR_INCONSISTENT))
      fprintf(stderr, "  case %zu\n", i);
    CHECK_EQ_STR(f.field, c[i].field);
  }
  /* SERVER_HELLO_ACK: TLV entries and opaque bytes are exclusive. */
  memset(&m, 0, sizeof m);
  x.present = NNRP_HELLO_EXT_LOSS_TOLERANCE;
  nnrp_control_body b = {&x, NULL, 0, {(const uint8_t *)"m", 1}, NULL};
  nnrp_header h = hdr(SHA, 0, 0, 0);
  CHECK_EQ_INT(nnrp_build_control(&out, &h, &m, &b, &f), NNRP_ERR_INCONSISTENT);
  CHECK_EQ_U64(m.server_hello_ack.control_extension_bytes, 0);
  /* SESSION_PATCH: PROFILE_PATCH without a block. */
  m.session_patch.patch_mask = NNRP_PATCH_PROFILE_PATCH;
  h = hdr(NNRP_MSG_SESSION_PATCH, 7, 0, 0);
  CHECK_EQ_INT(nnrp_build_control(&out, &h, &m, NULL, &f),
               NNRP_ERR_INCONSISTENT);
  CHECK_EQ_STR(f.field, "patch_mask");
  CHECK_EQ_U64(out.total, 0); /* nothing emitted on refusal */
}

TEST(errors_buffer_too_small) {
  /* Every scratch size below the packet fails cleanly; guard pages catch
   * a write past the end. */
  uint8_t auth[8] = "abcdefgh";
  nnrp_ext_entry e = {0x9000, 0, {(const uint8_t *)"xyz", 3}};
  nnrp_hello_exts x;
  memset(&x, 0, sizeof x);
  x.present = NNRP_HELLO_EXT_TRANSPORT_POLICY;
  x.transport_policy.transport_policy = 1;
  nnrp_control_body c = {&x, &e, 1, {auth, sizeof auth}, NULL};
  nnrp_meta m;
  memset(&m, 0, sizeof m);
  nnrp_header h = hdr(CH, 0, 0, 0);
  size_t full = 40 + 64 + 16 + 16 + 8;
  for (size_t cap = 0; cap < full; cap++) {
    void *handle = NULL;
    uint8_t *buf = nnrp_test_guard_alloc(cap, &handle);
    nnrp_out out;
    nnrp_fault f;
    nnrp_out_init(&out, buf, cap, NULL, 0);
    if (!CHECK_EQ_INT(nnrp_build_control(&out, &h, &m, &c, &f),
                      NNRP_ERR_BUFFER_TOO_SMALL))
      fprintf(stderr, "  cap %zu\n", cap);
    nnrp_test_guard_free(handle);
  }
  void *handle = NULL;
  uint8_t *buf = nnrp_test_guard_alloc(full, &handle);
  nnrp_out out;
  nnrp_out_init(&out, buf, full, NULL, 0);
  CHECK_EQ_INT(nnrp_build_control(&out, &h, &m, &c, NULL), 0);
  CHECK_EQ_U64(out.total, full);
  nnrp_test_guard_free(handle);
  /* Too few iovec entries. */
  nnrp_meta pm;
  memset(&pm, 0, sizeof pm);
  pm.transport_probe.probe_payload_bytes = 32768;
  nnrp_header ph = hdr(NNRP_MSG_TRANSPORT_PROBE, 0, 0, 0);
  nnrp_iov iov[4];
  nnrp_out_init(&out, g_scratch, sizeof g_scratch, iov, 4);
  CHECK_EQ_INT(nnrp_build_control(&out, &ph, &pm, NULL, NULL),
               NNRP_ERR_BUFFER_TOO_SMALL);
}

int main(void) {
  RUN(vectors_byte_exact);
  RUN(roundtrip_hellos);
  RUN(roundtrip_patch);
  RUN(roundtrip_header_only);
  RUN(roundtrip_error);
  RUN(roundtrip_cache);
  RUN(roundtrip_flow_update_scopes);
  RUN(roundtrip_hint_probe_migrate);
  RUN(iov_references_large_payloads);
  RUN(iov_probe_filler);
  RUN(errors_invalid_argument);
  RUN(errors_inconsistent);
  RUN(errors_buffer_too_small);
  wc_vectors_free();
  TEST_MAIN_END();
}
