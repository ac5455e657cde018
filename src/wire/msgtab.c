/* SPDX-License-Identifier: Apache-2.0 */
/*
 * msgtab.c - the message descriptor table (wire.md §3): one row per message
 * type with its name, direction, fixed metadata length and codec functions.
 * Every dispatch by msg_type in the library goes through this table.
 */
#include <stdlib.h>
#include <string.h>

#include "wire_int.h"

#define ROW(t, d, len, nm, fn)                                                 \
  [t] = {t, d, len, #nm, nnrp__##fn##_meta_dec, nnrp__##fn##_meta_enc,       \
         nnrp__##fn##_body_dec}
#define ROW0(t, d, nm, body)                                                   \
  [t] = {t, d, 0, #nm, NULL, NULL, body}

static const nnrp_msg_desc table[0x22] = {
    ROW(0x01, NNRP_DIR_C2S, 64, CLIENT_HELLO, client_hello),
    ROW(0x02, NNRP_DIR_S2C, 80, SERVER_HELLO_ACK, server_hello_ack),
    ROW(0x03, NNRP_DIR_C2S, 36, SESSION_PATCH, session_patch),
    ROW(0x04, NNRP_DIR_S2C, 48, SESSION_PATCH_ACK, session_patch_ack),
    ROW0(0x05, NNRP_DIR_BOTH, CLOSE, nnrp__ignored_body_dec),
    ROW(0x06, NNRP_DIR_BOTH, 32, ERROR, error),
    ROW(0x10, NNRP_DIR_C2S, 72, FRAME_SUBMIT, frame_submit),
    ROW0(0x11, NNRP_DIR_C2S, FRAME_CANCEL, nnrp__empty_body_dec),
    ROW(0x12, NNRP_DIR_S2C, 64, RESULT_PUSH, result_push),
    ROW0(0x13, NNRP_DIR_S2C, RESULT_DROP, nnrp__empty_body_dec),
    ROW(0x14, NNRP_DIR_C2S, 32, CACHE_PUT, cache_put),
    ROW(0x15, NNRP_DIR_S2C, 28, CACHE_ACK, cache_ack),
    ROW(0x16, NNRP_DIR_BOTH, 20, CACHE_INVALIDATE, cache_invalidate),
    ROW(0x17, NNRP_DIR_BOTH, 32, FLOW_UPDATE, flow_update),
    ROW(0x18, NNRP_DIR_S2C, 16, RESULT_HINT, result_hint),
    ROW(0x19, NNRP_DIR_BOTH, 16, TRANSPORT_PROBE, transport_probe),
    ROW(0x1A, NNRP_DIR_BOTH, 16, TRANSPORT_PROBE_ACK, transport_probe_ack),
    ROW(0x1B, NNRP_DIR_C2S, 24, SESSION_MIGRATE, session_migrate),
    ROW(0x1C, NNRP_DIR_S2C, 24, SESSION_MIGRATE_ACK, session_migrate_ack),
    ROW0(0x20, NNRP_DIR_BOTH, PING, nnrp__empty_body_dec),
    ROW0(0x21, NNRP_DIR_BOTH, PONG, nnrp__empty_body_dec),
};

const nnrp_msg_desc *nnrp__msg_desc(uint8_t type) {
  if (type >= sizeof(table) / sizeof(table[0]) || table[type].name == NULL)
    return NULL;
  return &table[type];
}

const char *nnrp_msg_type_name(uint8_t msg_type) {
  const nnrp_msg_desc *d = nnrp__msg_desc(msg_type);
  return d ? d->name : NULL;
}

int nnrp_msg_meta_len(uint8_t msg_type) {
  const nnrp_msg_desc *d = nnrp__msg_desc(msg_type);
  return d ? (int)d->meta_len : -1;
}

static int ieq(const char *a, const char *b) {
  for (; *a && *b; a++, b++) {
    int x = (*a >= 'a' && *a <= 'z') ? *a - 32 : *a;
    int y = (*b >= 'a' && *b <= 'z') ? *b - 32 : *b;
    if (x != y)
      return 0;
  }
  return *a == *b;
}

int nnrp_msg_type_from_name(const char *name) {
  if (name == NULL || *name == '\0')
    return NNRP_ERR_NOT_FOUND;
  for (size_t t = 0; t < sizeof(table) / sizeof(table[0]); t++) {
    if (table[t].name && ieq(table[t].name, name))
      return (int)t;
  }
  char *end = NULL;
  unsigned long v = strtoul(name, &end, 0);
  if (end && *end == '\0' && v <= 0xFF && nnrp__msg_desc((uint8_t)v))
    return (int)v;
  return NNRP_ERR_NOT_FOUND;
}

int nnrp_meta_decode(uint8_t msg_type, nnrp_meta *m, const uint8_t *in,
                     size_t len, uint32_t flags, nnrp_fault *f) {
  const nnrp_msg_desc *d = nnrp__msg_desc(msg_type);
  if (d == NULL)
    return nnrp__fail(f, NNRP_ERR_MALFORMED_HEADER, 0, "wire.md §3",
                      "msg_type");
  if (len != d->meta_len)
    return nnrp__fail(f, NNRP_ERR_MALFORMED_BODY, 0, "wire.md §15 step 13",
                      "meta_len");
  memset(m, 0, sizeof(*m));
  return d->meta_dec ? d->meta_dec(m, in, flags, f) : 0;
}

int nnrp_meta_encode(uint8_t msg_type, const nnrp_meta *m, uint8_t *out,
                     size_t cap) {
  const nnrp_msg_desc *d = nnrp__msg_desc(msg_type);
  if (d == NULL)
    return NNRP_ERR_INVALID_ARGUMENT;
  if (cap < d->meta_len)
    return NNRP_ERR_BUFFER_TOO_SMALL;
  if (d->meta_enc)
    d->meta_enc(m, out);
  return (int)d->meta_len;
}

/* FRAME_CANCEL, RESULT_DROP, PING, PONG: meta_len 0 (checked by the table)
 * and body_len 0 (wire.md §4.13, §6.2, §6.4). */
int nnrp__empty_body_dec(nnrp_packet *p, const nnrp_wire_opts *o,
                         nnrp_fault *f) {
  (void)o;
  if (p->hdr.body_len != 0)
    return nnrp__fail(f, NNRP_ERR_MALFORMED_BODY, 0, "wire.md §3 body rule",
                      "body_len");
  return 0;
}

/* CLOSE: any received body is accepted and ignored (D7). */
int nnrp__ignored_body_dec(nnrp_packet *p, const nnrp_wire_opts *o,
                           nnrp_fault *f) {
  (void)o;
  (void)f;
  p->b.ignored = p->body_raw;
  return 0;
}
