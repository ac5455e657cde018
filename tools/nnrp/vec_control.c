/* SPDX-License-Identifier: Apache-2.0 */
/*
 * vec_control.c - `nnrp vectors`: control extension entries and blocks
 * (nnrp_ext_block_encode, wire.md §5) and whole control packets
 * (nnrp_build_control: FLOW_UPDATE, RESULT_HINT, PING, PONG, CLOSE,
 * FRAME_CANCEL, RESULT_DROP, ERROR, CLIENT_HELLO, SERVER_HELLO_ACK).
 */
#include <stdlib.h>
#include <string.h>

#include "build.h"
#include "json_out.h"
#include "util.h"
#include "vectors.h"

#define G "golden"
#define D "derived"

typedef struct ext_vec {
  const char *name;
  uint8_t carrier;
  nnrp_hello_exts x; /* present + the standard payload values */
} ext_vec;

static const ext_vec exts[] = {
    {"extension.0x0101.prefer_tcp",
     NNRP_MSG_CLIENT_HELLO,
     {.present = NNRP_HELLO_EXT_TRANSPORT_POLICY,
      .transport_policy = {NNRP_TRANSPORT_POLICY_PREFER_TCP, 0, 0,
                           NNRP_TRANSPORT_TCP}}},
    {"extension.0x0102.prefer_quic_downgraded_force_tcp",
     NNRP_MSG_SERVER_HELLO_ACK,
     {.present = NNRP_HELLO_EXT_TRANSPORT_POLICY,
      .transport_policy = {NNRP_TRANSPORT_POLICY_PREFER_QUIC,
                           NNRP_TRANSPORT_POLICY_FORCE_TCP, 0,
                           NNRP_TRANSPORT_TCP}}},
    {"extension.0x0103.low_latency",
     NNRP_MSG_CLIENT_HELLO,
     {.present = NNRP_HELLO_EXT_LOSS_TOLERANCE,
      .loss_tolerance = {NNRP_LOSS_TOLERANCE_LOW_LATENCY, 0, 0, 0}}},
    {"extension.0x0104.best_effort",
     NNRP_MSG_SERVER_HELLO_ACK,
     {.present = NNRP_HELLO_EXT_LOSS_TOLERANCE,
      .loss_tolerance = {NNRP_LOSS_TOLERANCE_BEST_EFFORT, 0, 0, 0}}},
    {"extension.0x0105.tensor_tool_delta",
     NNRP_MSG_CLIENT_HELLO,
     {.present = NNRP_HELLO_EXT_PAYLOAD_CAPS,
      .payload_caps = {NNRP_PAYLOAD_KIND_TENSOR | NNRP_PAYLOAD_KIND_TOOL_DELTA,
                       0}}},
    {"extension.0x0106.tensor_token",
     NNRP_MSG_SERVER_HELLO_ACK,
     {.present = NNRP_HELLO_EXT_PAYLOAD_CAPS,
      .payload_caps = {NNRP_PAYLOAD_KIND_TENSOR | NNRP_PAYLOAD_KIND_TOKEN_CHUNK,
                       0}}},
};

/* One standard entry: encoded, then parsed back for the fields. */
static void emit_ext(vec_ctx *c, const ext_vec *e) {
  vec_info v = {e->name,
                "extension",
                nnrp_msg_type_name(e->carrier),
                D,
                "nnrp_ext_block_encode",
                NULL};
  uint8_t out[64];
  int n = nnrp_ext_block_encode(e->carrier, &e->x, NULL, 0, out, sizeof(out));
  if (n < 0) {
    vec_fail(c, e->name, "nnrp_ext_block_encode", n, NULL);
    return;
  }
  nnrp_hello_exts back;
  nnrp_fault f;
  memset(&f, 0, sizeof(f));
  cJSON *fields = NULL;
  int rc = nnrp_ext_block_decode(e->carrier, &back, out, (size_t)n, 0, &f);
  if (rc == 0) {
    cJSON *entries = jo_ext_block(e->carrier, &back);
    fields = cJSON_DetachItemFromArray(entries, 0);
    cJSON_Delete(entries);
  } else {
    vec_fail(c, e->name, "nnrp_ext_block_decode", rc, &f);
  }
  vec_emit(c, &v, out, (size_t)n, fields);
}

/* A block with an unknown non-critical and an unknown CRITICAL entry: its
 * structure is read back with the iterator (a real handshake rejects it). */
static void emit_two_entries(vec_ctx *c) {
  static const char *payloads[2] = {"abc", "current"};
  nnrp_ext_entry extra[2] = {
      {0x0001, 0, vec_str(payloads[0])},
      {0x4001, NNRP_EXT_FLAG_CRITICAL, vec_str(payloads[1])}};
  vec_info v = {"extension.block.two_entries",
                "extension",
                "CLIENT_HELLO",
                G,
                "nnrp_ext_block_encode",
                "block structure only: 0x4001 is CRITICAL and unknown"};
  uint8_t out[64];
  int n = nnrp_ext_block_encode(NNRP_MSG_CLIENT_HELLO, NULL, extra, 2, out,
                                sizeof(out));
  if (n < 0) {
    vec_fail(c, v.name, "nnrp_ext_block_encode", n, NULL);
    return;
  }
  nnrp_hello_exts x;
  memset(&x, 0, sizeof(x));
  x.block.ptr = out;
  x.block.len = (size_t)n;
  cJSON *entries = jo_ext_block(NNRP_MSG_CLIENT_HELLO, &x);
  cJSON *e;
  int i = 0;
  cJSON_ArrayForEach(e, entries) {
    if (i < 2)
      cJSON_AddStringToObject(e, "payload_utf8", payloads[i]);
    i++;
  }
  cJSON *fields = cJSON_CreateObject();
  cJSON_AddItemToObject(fields, "entries", entries);
  jo_add_u64(fields, "block_bytes", (uint64_t)n);
  vec_emit(c, &v, out, (size_t)n, fields);
}

typedef struct ctl_vec {
  const char *name;
  const char *status;
  nnrp_header h; /* meta_len and body_len are derived by the builder */
  nnrp_meta m;
} ctl_vec;

#define HDR(type, sid, fid, route, trace)                                      \
  { 1, 0, type, 40, 0, 0, 0, sid, fid, 0, route, trace }

static const ctl_vec ctls[] = {
    {"packet.flow_update.session_congestion_hard",
     G,
     HDR(NNRP_MSG_FLOW_UPDATE, 21, 0, 6, 13),
     {.flow_update = {1, 4, 2, 0, 0, 1, 0, 0, 0, 40, 5, 3}}},
    {"packet.flow_update.session_hard",
     G,
     HDR(NNRP_MSG_FLOW_UPDATE, 42, 0, 9, 0x1122334455667788u),
     {.flow_update = {1, 4, 2, 0, 0, 2, 0, 0, 0, 120, 7, 3}}},
    {"packet.flow_update.connection_grant",
     G,
     HDR(NNRP_MSG_FLOW_UPDATE, 0, 0, 3, 0x0102030405060708u),
     {.flow_update = {0, 0, 1, 0, 6, 0, 0, 0, 0, 0, 11, 1}}},
    {"packet.flow_update.operation_pause",
     G,
     HDR(NNRP_MSG_FLOW_UPDATE, 42, 0, 9, 0x8877665544332211u),
     {.flow_update = {2, 2, 2, 0, 0, 0, 1, 0, 4660, 250, 12, 11}}},
    {"packet.result_hint",
     G,
     HDR(NNRP_MSG_RESULT_HINT, 21, 303, 7, 14),
     {.result_hint = {3, 3, 3, 60}}},
    {"packet.ping", D, HDR(NNRP_MSG_PING, 7, 0, 0, 0), {.error = {0}}},
    {"packet.pong.echo",
     D,
     HDR(NNRP_MSG_PONG, 7, 0, 3, 0x1122334455667788u),
     {.error = {0}}},
    {"packet.frame_cancel",
     D,
     HDR(NNRP_MSG_FRAME_CANCEL, 7, 101, 0, 0),
     {.error = {0}}},
    {"packet.result_drop",
     D,
     HDR(NNRP_MSG_RESULT_DROP, 7, 101, 0, 0),
     {.error = {0}}},
    {"packet.close", D, HDR(NNRP_MSG_CLOSE, 7, 0, 0, 0), {.error = {0}}},
};

/* Builds a control packet and emits it with fields {header, metadata} (or
 * the flat header for header-only messages) plus the members of extra. */
static void emit_ctl(vec_ctx *c, const char *name, const char *status,
                     const nnrp_header *h, const nnrp_meta *meta,
                     const nnrp_control_body *body, cJSON *extra) {
  vec_info v = {name,
                "packet",
                nnrp_msg_type_name(h->msg_type),
                status,
                "nnrp_build_control",
                NULL};
  nnrp_meta m = *meta;
  nnrp_control_body empty;
  nnrp_fault f;
  uint8_t *pkt = NULL;
  size_t len = 0;
  memset(&empty, 0, sizeof(empty));
  memset(&f, 0, sizeof(f));
  int rc = cli_build_control(h, &m, body ? body : &empty, &pkt, &len, &f);
  if (rc != 0) {
    vec_fail(c, name, "nnrp_build_control", rc, &f);
    cJSON_Delete(extra);
    return;
  }
  cJSON *fields = nnrp_msg_meta_len(h->msg_type) == 0
                      ? vec_header_fields(c, name, pkt)
                      : vec_packet_fields(c, name, pkt, len);
  cJSON *e;
  while (extra != NULL && (e = extra->child) != NULL)
    cJSON_AddItemToObject(fields, e->string,
                          cJSON_DetachItemViaPointer(extra, e));
  cJSON_Delete(extra);
  vec_emit(c, &v, pkt, len, fields);
  free(pkt);
}

/* The entries of the block that x encodes to, parsed back. */
static cJSON *ext_fields(vec_ctx *c, const char *name, uint8_t carrier,
                         const nnrp_hello_exts *x) {
  uint8_t out[128];
  nnrp_hello_exts back;
  nnrp_fault f;
  memset(&f, 0, sizeof(f));
  int n = nnrp_ext_block_encode(carrier, x, NULL, 0, out, sizeof(out));
  int rc =
      n < 0 ? n : nnrp_ext_block_decode(carrier, &back, out, (size_t)n, 0, &f);
  if (rc != 0) {
    vec_fail(c, name, "extension block round trip", rc, &f);
    return cJSON_CreateArray();
  }
  return jo_ext_block(carrier, &back);
}

static void emit_client_hello(vec_ctx *c) {
  const char *name = "packet.client_hello.defaults_prefer_quic_auth";
  nnrp_header h = HDR(NNRP_MSG_CLIENT_HELLO, 0, 0, 0, 0);
  nnrp_meta m = {.client_hello = {1,  1, 1, 1, 1, 3,   3,       31,
                                  3,  1, 7, 1, 1, 256, 8388608, 6000,
                                  50, 2, 0, 1, 0, 0}};
  nnrp_hello_exts x = {.present = NNRP_HELLO_EXT_TRANSPORT_POLICY,
                       .transport_policy = {NNRP_TRANSPORT_POLICY_PREFER_QUIC,
                                            0, 0, NNRP_TRANSPORT_QUIC}};
  nnrp_control_body body = {&x, NULL, 0, vec_str("tok!"), NULL};
  h.flags = NNRP_FLAG_ACK_REQUIRED;
  cJSON *extra = cJSON_CreateObject();
  cJSON *b = cJSON_AddObjectToObject(extra, "body");
  cJSON_AddItemToObject(b, "control_extension_block",
                        ext_fields(c, name, NNRP_MSG_CLIENT_HELLO, &x));
  cJSON_AddItemToObject(b, "auth_block_utf8", vec_text(body.bytes));
  emit_ctl(c, name, D, &h, &m, &body, extra);
}

static void emit_server_hello(vec_ctx *c) {
  const char *name = "packet.server_hello_ack.with_transport_policy_ext";
  nnrp_header h = HDR(NNRP_MSG_SERVER_HELLO_ACK, 1, 0, 0, 0);
  nnrp_meta m = {.server_hello_ack = {1,        0, 0,  0,    1,  1, 1,
                                      3,        3, 31, 3,    1,  7, 256,
                                      8388608,  1, 1,  6000, 50, 2, 0,
                                      33554432, 0, 0,  0,    1}};
  nnrp_hello_exts x = {.present = NNRP_HELLO_EXT_TRANSPORT_POLICY,
                       .transport_policy = {NNRP_TRANSPORT_POLICY_PREFER_QUIC,
                                            NNRP_TRANSPORT_POLICY_PREFER_QUIC,
                                            0, NNRP_TRANSPORT_QUIC}};
  nnrp_control_body body = {&x, NULL, 0, {NULL, 0}, NULL};
  h.flags = NNRP_FLAG_ACK_REQUIRED;
  cJSON *extra = cJSON_CreateObject();
  cJSON *b = cJSON_AddObjectToObject(extra, "body");
  cJSON_AddItemToObject(b, "control_extension_block",
                        ext_fields(c, name, NNRP_MSG_SERVER_HELLO_ACK, &x));
  emit_ctl(c, name, D, &h, &m, &body, extra);
}

static void emit_error(vec_ctx *c) {
  nnrp_header h = HDR(NNRP_MSG_ERROR, 7, 102, 0, 0);
  nnrp_meta m = {.error = {NNRP_ERROR_CODE_MALFORMED_BODY,
                           NNRP_ERROR_SCOPE_SESSION, 0, 0, 7, 102, 0, 0}};
  nnrp_control_body body = {NULL, NULL, 0, vec_str("malformed FRAME_SUBMIT"),
                            NULL};
  cJSON *extra = cJSON_CreateObject();
  cJSON_AddItemToObject(extra, "body_utf8", vec_text(body.bytes));
  emit_ctl(c, "packet.error.malformed_body", D, &h, &m, &body, extra);
}

void vec_group_control(vec_ctx *c) {
  emit_two_entries(c);
  for (size_t i = 0; i < sizeof(exts) / sizeof(exts[0]); i++)
    emit_ext(c, &exts[i]);
  for (size_t i = 0; i < sizeof(ctls) / sizeof(ctls[0]); i++)
    emit_ctl(c, ctls[i].name, ctls[i].status, &ctls[i].h, &ctls[i].m, NULL,
             NULL);
  emit_client_hello(c);
  emit_server_hello(c);
  emit_error(c);
}
