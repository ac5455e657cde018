/* SPDX-License-Identifier: Apache-2.0 */
/*
 * vec_meta.c - `nnrp vectors`: the two header vectors (nnrp_header_encode)
 * and every metadata vector (nnrp_meta_encode) of seed-line.json, rebuilt
 * from their field values. The values below are the seed file's "fields";
 * the bytes come from the library.
 */
#include <inttypes.h>
#include <stdio.h>

#include "json_out.h"
#include "vectors.h"

#define G "golden"
#define D "derived"

typedef struct header_vec {
  const char *name;
  nnrp_header h;
} header_vec;

static const header_vec headers[] = {
    {"header.frame_submit_ack_required_keyframe",
     {1, 0, NNRP_MSG_FRAME_SUBMIT, 40, 0x21, 48, 4096, 7, 11, 2, 0, 123456789}},
    {"header.all_caller_controlled_fields",
     {1, 0, NNRP_MSG_FRAME_SUBMIT, 40, 0x21, 0x00010203, 0x00040506, 0x11223344,
      0x55667788, 0x99AA, 0xBBCC, 0x0102030405060708}},
};

typedef struct meta_vec {
  const char *name;
  uint8_t type;
  const char *status;
  const char *note;
  nnrp_meta m;
} meta_vec;

static const meta_vec metas[] = {
    {"metadata.client_hello.preview2",
     NNRP_MSG_CLIENT_HELLO,
     G,
     NULL,
     {.client_hello = {1, 1, 1,   1,       1,    7,   3, 31, 3, 1,  7,
                       4, 2, 256, 8388608, 6000, 100, 2, 2,  0, 96, 0}}},
    {"metadata.client_hello.baseline",
     NNRP_MSG_CLIENT_HELLO,
     G,
     NULL,
     {.client_hello = {1, 1, 1,  1,     1,    3,   3, 33, 3, 1,  7,
                       1, 2, 64, 65536, 6000, 100, 2, 0,  0, 96, 0}}},
    {"metadata.session_patch_ack.preview2",
     NNRP_MSG_SESSION_PATCH_ACK,
     G,
     NULL,
     {.session_patch_ack = {1, 3, 11, 16, 0, 1, 0, 9000, 2, 2, 3, 1, 3, 0}}},
    {"metadata.session_patch_ack.baseline",
     NNRP_MSG_SESSION_PATCH_ACK,
     G,
     "quality_tier 360 and degrade_policy 5: free fields, never "
     "range-checked",
     {.session_patch_ack = {1, 3, 17, 68, 0, 2, 0, 9000, 360, 5, 3, 1, 3, 16}}},
    {"metadata.session_patch",
     NNRP_MSG_SESSION_PATCH,
     G,
     "metadata only; a packet would carry the 16-byte profile patch block",
     {.session_patch = {29, 0, 93, 9000, 360, 5, 3, 5, 0, 16}}},
    {"metadata.result_hint.partial_elevated_server_busy",
     NNRP_MSG_RESULT_HINT,
     G,
     NULL,
     {.result_hint = {2, 2, 2, 20}}},
    {"metadata.frame_submit.mixed",
     NNRP_MSG_FRAME_SUBMIT,
     G,
     "metadata-only vector: camera_bytes 192 with the camera slot referenced "
     "cannot accompany a valid body (rule F8)",
     {.frame_submit = {640, 360, 32, 32, 84, 2, 1,   2, 0, 0,  100, 6000, 7, 0,
                       192, 0,   0,  0,  2,  5, 255, 0, 3, 41, 17,  2,    0}}},
    {"metadata.result_push.partial_stale",
     NNRP_MSG_RESULT_PUSH,
     G,
     NULL,
     {.result_push = {0, 4, 1, 84, 2, 0,  843, 2,  846, 0, 0, 16,
                      0, 0, 1, 1,  0, 41, 53,  31, 3,   3, 0}}},
    {"metadata.cache_put.camera_block",
     NNRP_MSG_CACHE_PUT,
     G,
     NULL,
     {.cache_put = {1, 16909060, 84281096, 1, 15000, 2048, 3, 3}}},
    {"metadata.cache_ack.accepted",
     NNRP_MSG_CACHE_ACK,
     G,
     NULL,
     {.cache_ack = {1, 16909060, 84281096, 0, 15000, 8192, 0}}},
    {"metadata.cache_invalidate.whole_session",
     NNRP_MSG_CACHE_INVALIDATE,
     G,
     "scope 0 with non-zero namespace/keys: unused fields are not validated",
     {.cache_invalidate = {0, 1, 16909060, 84281096, 2}}},
    {"metadata.server_hello_ack",
     NNRP_MSG_SERVER_HELLO_ACK,
     D,
     NULL,
     {.server_hello_ack = {1,   0, 0, 0,        42,     1,        1, 3, 3,
                           7,   1, 1, 7,        512,    16777216, 2, 2, 6000,
                           100, 2, 2, 33554432, 300000, 0,        0, 1}}},
    {"metadata.transport_probe",
     NNRP_MSG_TRANSPORT_PROBE,
     D,
     NULL,
     {.transport_probe = {7, 1200, 100000}}},
    {"metadata.transport_probe_ack",
     NNRP_MSG_TRANSPORT_PROBE_ACK,
     D,
     NULL,
     {.transport_probe_ack = {7, 0, 100800}}},
    {"metadata.session_migrate.quic_to_tcp",
     NNRP_MSG_SESSION_MIGRATE,
     D,
     NULL,
     {.session_migrate = {1, 2, 44, 3000}}},
    {"metadata.session_migrate_ack.accepted",
     NNRP_MSG_SESSION_MIGRATE_ACK,
     D,
     "resume_from_frame_id is an unaligned u64 at offset 4",
     {.session_migrate_ack = {0, 45, 250, 4000}}},
    {"metadata.error.server_busy",
     NNRP_MSG_ERROR,
     D,
     NULL,
     {.error = {11, 1, 0, 500, 42, 0, 0, 24}}},
};

static void emit_headers(vec_ctx *c) {
  for (size_t i = 0; i < sizeof(headers) / sizeof(headers[0]); i++) {
    const header_vec *hv = &headers[i];
    vec_info v = {hv->name,
                  "packet",
                  "FRAME_SUBMIT",
                  G,
                  "nnrp_header_encode",
                  "40-byte common header only"};
    uint8_t out[NNRP_HEADER_LEN];
    nnrp_header_encode(&hv->h, out);
    vec_emit(c, &v, out, sizeof(out), vec_header_fields(c, hv->name, out));
  }
}

static void emit_meta(vec_ctx *c, const char *name, uint8_t type,
                      const char *status, const char *note, const nnrp_meta *m,
                      cJSON *extra) {
  vec_info v = {name,   "metadata",         nnrp_msg_type_name(type),
                status, "nnrp_meta_encode", note};
  uint8_t out[128];
  int n = nnrp_meta_encode(type, m, out, sizeof(out));
  if (n < 0) {
    vec_fail(c, name, "nnrp_meta_encode", n, NULL);
    cJSON_Delete(extra);
    return;
  }
  cJSON *fields = jo_meta(type, m);
  cJSON *e;
  while (extra != NULL && (e = extra->child) != NULL)
    cJSON_AddItemToObject(fields, e->string,
                          cJSON_DetachItemViaPointer(extra, e));
  cJSON_Delete(extra);
  vec_emit(c, &v, out, (size_t)n, fields);
}

/* Decision D16: a byte-string key goes through 64-bit FNV-1a. */
static void emit_key_bytes(vec_ctx *c) {
  nnrp_meta m = {
      .cache_put = {0, 0, 0, NNRP_OBJECT_TENSOR_SECTION_TABLE, 0, 0, 0, 3}};
  const char *key = "tst-v1";
  nnrp_bytes kb = vec_str(key);
  nnrp_cache_key_from_bytes(kb.ptr, kb.len, &m.cache_put.cache_key_hi,
                            &m.cache_put.cache_key_lo);
  char fnv[32];
  snprintf(fnv, sizeof(fnv), "0x%016" PRIx64, nnrp_fnv1a64(kb.ptr, kb.len));
  cJSON *extra = cJSON_CreateObject();
  cJSON_AddStringToObject(extra, "key_bytes_utf8", key);
  cJSON_AddStringToObject(extra, "fnv1a64", fnv);
  emit_meta(c, "metadata.cache_put.key_bytes_tst-v1", NNRP_MSG_CACHE_PUT, D,
            "decision D16: key_hi/key_lo = halves of FNV-1a64(key bytes)", &m,
            extra);
}

void vec_group_meta(vec_ctx *c) {
  emit_headers(c);
  for (size_t i = 0; i < sizeof(metas) / sizeof(metas[0]); i++)
    emit_meta(c, metas[i].name, metas[i].type, metas[i].status, metas[i].note,
              &metas[i].m, NULL);
  emit_key_bytes(c);
}
