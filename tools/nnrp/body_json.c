/* SPDX-License-Identifier: Apache-2.0 */
/*
 * body_json.c - JSON rendering of every message body except the data bodies
 * (data_json.c): hello extension blocks and auth block (wire.md §4.1, §4.2,
 * §5), patch blocks (§4.3, §4.4), ERROR diagnostic (§4.6), CACHE_PUT object
 * (§10.1), probe filler (§4.9), migration token (§4.11).
 */
#include "body_json.h"
#include "json_out.h"

static void patch_body(cJSON *o, const nnrp_packet *p, const char *key) {
  if (p->b.patch.present)
    cJSON_AddItemToObject(
        o, key, jo_struct(NNRP_STRUCT_PROFILE_PATCH, &p->b.patch.block));
  else
    cJSON_AddNullToObject(o, key);
}

static void server_hello_body(cJSON *o, const nnrp_packet *p) {
  const nnrp_hello_exts *x = &p->b.server_hello_ack.ext;
  cJSON_AddItemToObject(o, "control_extension_block",
                        jo_ext_block(NNRP_MSG_SERVER_HELLO_ACK, x));
  nnrp_bytes opaque = p->b.server_hello_ack.opaque;
  if (opaque.len > 0) {
    /* decision D5: an rc2 server sends its model name as a raw body */
    jo_add_hex(o, "opaque_hex", opaque.ptr, opaque.len);
    jo_add_text_or_hex(o, "active_model_name", "active_model_name_hex", opaque);
  }
}

cJSON *jo_body(const nnrp_packet *p) {
  cJSON *o = cJSON_CreateObject();
  switch (p->hdr.msg_type) {
  case NNRP_MSG_CLIENT_HELLO:
    cJSON_AddItemToObject(
        o, "control_extension_block",
        jo_ext_block(NNRP_MSG_CLIENT_HELLO, &p->b.client_hello.ext));
    jo_add_hex(o, "auth_hex", p->b.client_hello.auth.ptr,
               p->b.client_hello.auth.len);
    break;
  case NNRP_MSG_SERVER_HELLO_ACK:
    server_hello_body(o, p);
    break;
  case NNRP_MSG_SESSION_PATCH:
    patch_body(o, p, "profile_patch_block");
    break;
  case NNRP_MSG_SESSION_PATCH_ACK:
    patch_body(o, p, "profile_patch_ack_block");
    break;
  case NNRP_MSG_ERROR:
    jo_add_text_or_hex(o, "diagnostic", "diagnostic_hex", p->b.diagnostic);
    break;
  case NNRP_MSG_FRAME_SUBMIT:
  case NNRP_MSG_RESULT_PUSH:
    cJSON_Delete(o);
    return jo_data_body(&p->b.data);
  case NNRP_MSG_CACHE_PUT:
    jo_add_hex(o, "object_hex", p->b.object.ptr, p->b.object.len);
    break;
  case NNRP_MSG_TRANSPORT_PROBE:
    jo_add_u64(o, "filler_bytes", p->b.filler.len);
    break;
  case NNRP_MSG_SESSION_MIGRATE:
    jo_add_hex(o, "token_hex", p->b.token.ptr, p->b.token.len);
    break;
  case NNRP_MSG_CLOSE:
  case NNRP_MSG_SESSION_MIGRATE_ACK:
    if (p->body_raw.len > 0) /* accepted and ignored (D7, §4.12) */
      jo_add_u64(o, "ignored_bytes", p->body_raw.len);
    break;
  default: /* header-only messages and empty bodies */
    break;
  }
  return o;
}
