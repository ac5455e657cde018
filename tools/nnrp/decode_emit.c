/* SPDX-License-Identifier: Apache-2.0 */
/*
 * decode_emit.c - output records of `nnrp decode` (decode.h): building the
 * record of a decoded or failed packet, and printing it as one JSON line or
 * as a readable text block.
 */
#include <stdlib.h>
#include <string.h>

#include "body_json.h"
#include "build.h"
#include "decode.h"
#include "json_out.h"
#include "text_out.h"
#include "util.h"

unsigned decode_phase(int msg_type, int first) {
  if (first || msg_type == NNRP_MSG_CLIENT_HELLO ||
      msg_type == NNRP_MSG_SERVER_HELLO_ACK)
    return NNRP_MAP_HANDSHAKE;
  return 0;
}

static cJSON *or_null(cJSON *v) { return v ? v : cJSON_CreateNull(); }

static cJSON *type_item(int msg_type) {
  if (msg_type < 0)
    return cJSON_CreateNull();
  const char *name = nnrp_msg_type_name((uint8_t)msg_type);
  return name ? cJSON_CreateString(name) : jo_u64((uint64_t)msg_type);
}

static void print_text(decode_ctx *c, const decode_rec *r, cJSON *obj) {
  const char *name =
      r->msg_type >= 0 ? nnrp_msg_type_name((uint8_t)r->msg_type) : NULL;
  if (c->seen > 0)
    fputc('\n', stdout);
  printf("%s %lu: ", r->label, c->seen + 1);
  if (r->msg_type >= 0)
    printf("%s (0x%02x)", name ? name : "unknown", (unsigned)r->msg_type);
  else
    fputs("(type unknown)", stdout);
  puts(r->ok ? " ok" : " INVALID");
  const char *groups[] = {"header", "metadata", "body", "error"};
  for (size_t i = 0; i < sizeof(groups) / sizeof(groups[0]); i++) {
    const cJSON *g = cJSON_GetObjectItemCaseSensitive(obj, groups[i]);
    if (g != NULL && !cJSON_IsNull(g))
      text_print_group(stdout, groups[i], g, 0);
  }
  if (r->reencoded_hex != NULL) {
    if (r->reencoded_same)
      printf("reencoded: identical to the input (%zu bytes)\n",
             strlen(r->reencoded_hex) / 2);
    else
      printf("reencoded: DIFFERS from the input: %s\n", r->reencoded_hex);
  }
}

void decode_emit(decode_ctx *c, decode_rec *r) {
  cJSON *o = cJSON_CreateObject();
  cJSON_AddBoolToObject(o, "ok", r->ok != 0);
  cJSON_AddItemToObject(o, "message_type", type_item(r->msg_type));
  cJSON_AddItemToObject(o, "header", or_null(r->header));
  cJSON_AddItemToObject(o, "metadata", or_null(r->metadata));
  cJSON_AddItemToObject(o, "body", or_null(r->body));
  cJSON_AddItemToObject(o, "error", or_null(r->error));
  cJSON_AddItemToObject(o, "reencoded_hex",
                        r->reencoded_hex ? cJSON_CreateString(r->reencoded_hex)
                                         : cJSON_CreateNull());
  if (c->json) {
    char *line = cJSON_PrintUnformatted(o);
    if (line != NULL) {
      puts(line);
      cJSON_free(line);
    }
  } else {
    print_text(c, r, o);
  }
  if (!r->ok)
    c->invalid = 1;
  c->seen++;
  cJSON_Delete(o);
  free(r->reencoded_hex);
  memset(r, 0, sizeof(*r));
}

/* The packet bytes as received, rebuilt from the decoded views. */
static uint8_t *packet_bytes(const nnrp_packet *p, size_t *len) {
  size_t n = NNRP_HEADER_LEN + p->meta_raw.len + p->body_raw.len;
  uint8_t *b = cli_xmalloc(n);
  nnrp_header_encode(&p->hdr, b);
  if (p->meta_raw.len > 0)
    memcpy(b + NNRP_HEADER_LEN, p->meta_raw.ptr, p->meta_raw.len);
  if (p->body_raw.len > 0)
    memcpy(b + NNRP_HEADER_LEN + p->meta_raw.len, p->body_raw.ptr,
           p->body_raw.len);
  *len = n;
  return b;
}

void decode_emit_packet(decode_ctx *c, const nnrp_packet *p,
                        const uint8_t *orig, size_t orig_len) {
  decode_rec r;
  memset(&r, 0, sizeof(r));
  r.label = "packet";
  r.ok = 1;
  r.msg_type = p->hdr.msg_type;
  r.header = jo_header(&p->hdr);
  r.metadata = jo_meta(p->hdr.msg_type, &p->m);
  r.body = jo_body(p);
  uint8_t *re = NULL;
  size_t re_len = 0;
  nnrp_fault f;
  memset(&f, 0, sizeof(f));
  int rc = cli_reencode(p, &re, &re_len, &f);
  if (rc == 0) {
    uint8_t *rebuilt = NULL;
    if (orig == NULL)
      orig = rebuilt = packet_bytes(p, &orig_len);
    r.reencoded_hex = cli_hex_encode(re, re_len);
    r.reencoded_same = re_len == orig_len && memcmp(re, orig, re_len) == 0;
    free(rebuilt);
    free(re);
  } else {
    char detail[256];
    if (f.rule != NULL && f.field != NULL && f.err == rc)
      nnrp_fault_format(&f, detail, sizeof(detail));
    else
      snprintf(detail, sizeof(detail), "%s", nnrp_err_name(rc));
    fprintf(stderr, "nnrp: warning: re-encoding %s failed: %s\n",
            nnrp_msg_type_name(p->hdr.msg_type), detail);
  }
  decode_emit(c, &r);
}

void decode_emit_failure(decode_ctx *c, const nnrp_header *h, int msg_type,
                         int err, unsigned phase, const nnrp_fault *f) {
  decode_rec r;
  memset(&r, 0, sizeof(r));
  r.label = "packet";
  r.msg_type = h ? h->msg_type : msg_type;
  r.header = h ? jo_header(h) : NULL;
  r.error = jo_error(err, phase, f);
  decode_emit(c, &r);
}
