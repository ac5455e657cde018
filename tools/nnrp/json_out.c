/* SPDX-License-Identifier: Apache-2.0 */
/*
 * json_out.c - generic JSON rendering for the CLI (see json_out.h): every
 * header, metadata, descriptor and extension field is printed through the
 * library's reflection tables, so names always follow wire.md.
 */
#include "json_out.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

#define JO_MAX_EXACT ((uint64_t)1 << 53)

cJSON *jo_u64(uint64_t v) {
  if (v <= JO_MAX_EXACT)
    return cJSON_CreateNumber((double)v);
  char buf[32];
  snprintf(buf, sizeof(buf), "%" PRIu64, v);
  return cJSON_CreateRaw(buf);
}

void jo_add_u64(cJSON *o, const char *key, uint64_t v) {
  cJSON_AddItemToObject(o, key, jo_u64(v));
}

cJSON *jo_hex(const uint8_t *p, size_t n) {
  char *hex = cli_hex_encode(p, n);
  cJSON *s = cJSON_CreateString(hex);
  free(hex);
  return s;
}

void jo_add_hex(cJSON *o, const char *key, const uint8_t *p, size_t n) {
  cJSON_AddItemToObject(o, key, jo_hex(p, n));
}

void jo_add_text_or_hex(cJSON *o, const char *key_text, const char *key_hex,
                        nnrp_bytes b) {
  if (cli_utf8_valid(b.ptr, b.len)) {
    char *s = cli_xmalloc(b.len + 1);
    for (size_t i = 0; i < b.len; i++)
      s[i] = (char)b.ptr[i];
    s[b.len] = '\0';
    cJSON_AddStringToObject(o, key_text, s);
    free(s);
  } else {
    jo_add_hex(o, key_hex, b.ptr, b.len);
  }
}

void jo_struct_into(cJSON *o, int struct_id, const void *base) {
  size_t n = 0;
  const nnrp_field_desc *f = nnrp_struct_fields(struct_id, &n);
  for (size_t i = 0; i < n; i++)
    jo_add_u64(o, f[i].name, nnrp_field_get(base, &f[i]));
}

cJSON *jo_struct(int struct_id, const void *base) {
  cJSON *o = cJSON_CreateObject();
  jo_struct_into(o, struct_id, base);
  return o;
}

cJSON *jo_header(const nnrp_header *h) {
  return jo_struct(NNRP_STRUCT_HEADER, h);
}

cJSON *jo_meta(uint8_t msg_type, const nnrp_meta *m) {
  int id = nnrp_meta_struct_id(msg_type);
  return id < 0 ? cJSON_CreateNull() : jo_struct(id, m);
}

cJSON *jo_error(int err, unsigned phase, const nnrp_fault *f) {
  cJSON *o = cJSON_CreateObject();
  nnrp_wire_error we = {0, 0, 0};
  if (nnrp_error_map(err, phase, &we) == 1) {
    const char *code = nnrp_error_code_name(we.error_code);
    const char *scope = nnrp_error_scope_name(we.error_scope);
    cJSON_AddItemToObject(
        o, "code", code ? cJSON_CreateString(code) : jo_u64(we.error_code));
    cJSON_AddItemToObject(
        o, "scope", scope ? cJSON_CreateString(scope) : jo_u64(we.error_scope));
    cJSON_AddBoolToObject(o, "fatal", we.is_fatal != 0);
  } else {
    /* Nothing is sent on the wire for this error (e.g. TRUNCATED). */
    cJSON_AddNullToObject(o, "code");
    cJSON_AddNullToObject(o, "scope");
    cJSON_AddBoolToObject(o, "fatal", nnrp_err_is_fatal(err) != 0);
  }
  char detail[256];
  if (f != NULL && f->err == err && f->rule != NULL && f->field != NULL)
    nnrp_fault_format(f, detail, sizeof(detail));
  else
    snprintf(detail, sizeof(detail), "%s", nnrp_strerror(err));
  cJSON_AddStringToObject(o, "detail", detail);
  cJSON_AddStringToObject(o, "lib_error", nnrp_err_name(err));
  return o;
}

uint32_t cli_ext_std_bit(uint8_t msg_type, uint16_t ext_type) {
  if (msg_type == NNRP_MSG_CLIENT_HELLO) {
    switch (ext_type) {
    case NNRP_EXT_CLIENT_TRANSPORT_POLICY:
      return NNRP_HELLO_EXT_TRANSPORT_POLICY;
    case NNRP_EXT_CLIENT_LOSS_TOLERANCE:
      return NNRP_HELLO_EXT_LOSS_TOLERANCE;
    case NNRP_EXT_CLIENT_PAYLOAD_CAPABILITIES:
      return NNRP_HELLO_EXT_PAYLOAD_CAPS;
    default:
      return 0;
    }
  }
  if (msg_type == NNRP_MSG_SERVER_HELLO_ACK) {
    switch (ext_type) {
    case NNRP_EXT_SERVER_TRANSPORT_POLICY:
      return NNRP_HELLO_EXT_TRANSPORT_POLICY;
    case NNRP_EXT_SERVER_LOSS_TOLERANCE:
      return NNRP_HELLO_EXT_LOSS_TOLERANCE;
    case NNRP_EXT_SERVER_PAYLOAD_CAPABILITIES:
      return NNRP_HELLO_EXT_PAYLOAD_CAPS;
    case NNRP_EXT_ACTIVE_MODEL_NAME:
      return NNRP_HELLO_EXT_MODEL_NAME;
    default:
      return 0;
    }
  }
  return 0;
}

/* The payload structs are shared by the client and server variants; wire.md
 * §5.3 names their fields per extension type. */
static const struct {
  uint16_t ext_type;
  const char *field;
  const char *wire_name;
} ext_names[] = {
    {0x0101, "accepted_transport_policy", "reserved_u8"},
    {0x0101, "reserved", "reserved_u16"},
    {0x0101, "transport_id", "preferred_transport_id"},
    {0x0102, "reserved", "reserved_u16"},
    {0x0102, "transport_id", "active_transport_id"},
    {0x0103, "loss_tolerance", "session_loss_tolerance"},
    {0x0104, "loss_tolerance", "accepted_loss_tolerance"},
    {0x0103, "reserved0", "reserved_u8"},
    {0x0104, "reserved0", "reserved_u8"},
    {0x0103, "reserved1", "reserved_u16"},
    {0x0104, "reserved1", "reserved_u16"},
    {0x0103, "reserved2", "reserved_u32"},
    {0x0104, "reserved2", "reserved_u32"},
    {0x0106, "payload_kind_bitmap", "accepted_payload_kind_bitmap"},
    {0x0106, "critical_extension_frame_bitmap",
     "accepted_critical_extension_frame_bitmap"},
};

static const char *ext_field_name(uint16_t ext_type, const char *field) {
  for (size_t i = 0; i < sizeof(ext_names) / sizeof(ext_names[0]); i++)
    if (ext_names[i].ext_type == ext_type &&
        strcmp(ext_names[i].field, field) == 0)
      return ext_names[i].wire_name;
  return field;
}

/* Adds the reflected fields of one parsed standard extension. */
static void ext_std_fields(cJSON *o, uint16_t ext_type, uint32_t bit,
                           const nnrp_hello_exts *x) {
  int id;
  const void *base;
  if (bit == NNRP_HELLO_EXT_TRANSPORT_POLICY) {
    id = NNRP_STRUCT_EXT_TRANSPORT_POLICY;
    base = &x->transport_policy;
  } else if (bit == NNRP_HELLO_EXT_LOSS_TOLERANCE) {
    id = NNRP_STRUCT_EXT_LOSS_TOLERANCE;
    base = &x->loss_tolerance;
  } else if (bit == NNRP_HELLO_EXT_PAYLOAD_CAPS) {
    id = NNRP_STRUCT_EXT_PAYLOAD_CAPS;
    base = &x->payload_caps;
  } else {
    jo_add_text_or_hex(o, "model_name", "model_name_hex", x->model_name);
    return;
  }
  size_t n = 0;
  const nnrp_field_desc *f = nnrp_struct_fields(id, &n);
  for (size_t i = 0; i < n; i++)
    jo_add_u64(o, ext_field_name(ext_type, f[i].name),
               nnrp_field_get(base, &f[i]));
}

cJSON *jo_ext_entry(uint8_t msg_type, const nnrp_ext_entry *e,
                    const nnrp_hello_exts *std) {
  cJSON *o = cJSON_CreateObject();
  jo_add_u64(o, "ext_type", e->ext_type);
  jo_add_u64(o, "ext_flags", e->ext_flags);
  jo_add_u64(o, "ext_len", e->payload.len);
  jo_add_u64(o, "padding", cli_align8(e->payload.len) - e->payload.len);
  jo_add_hex(o, "payload_hex", e->payload.ptr, e->payload.len);
  uint32_t bit = cli_ext_std_bit(msg_type, e->ext_type);
  if (std != NULL && bit != 0 && (std->present & bit) != 0)
    ext_std_fields(o, e->ext_type, bit, std);
  return o;
}

cJSON *jo_ext_block(uint8_t msg_type, const nnrp_hello_exts *x) {
  cJSON *a = cJSON_CreateArray();
  nnrp_ext_iter it;
  nnrp_ext_entry e;
  uint32_t seen = 0;
  nnrp_ext_iter_init(&it, x->block);
  while (nnrp_ext_iter_next(&it, &e) == 1) {
    uint32_t bit = cli_ext_std_bit(msg_type, e.ext_type);
    int first = bit != 0 && (seen & bit) == 0;
    seen |= bit;
    cJSON_AddItemToArray(a, jo_ext_entry(msg_type, &e, first ? x : NULL));
  }
  return a;
}
