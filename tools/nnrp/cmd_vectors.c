/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cmd_vectors.c - `nnrp vectors`: prints the library's own vectors in the
 * format of shared/vectors/seed-line.json ({"description", "kinds",
 * "vectors": [...]}). Every hex string is produced by the library's encoders
 * and builders from field values; nothing is read from the shared file.
 */
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "json_out.h"
#include "util.h"
#include "vectors.h"

void cli_usage_vectors(FILE *out) {
  fputs("usage: nnrp vectors [--compact]\n"
        "\n"
        "Prints the seed-line vectors rebuilt by this library's encoders\n"
        "and builders as JSON (the format of shared/vectors/seed-line.json).\n"
        "  --compact  one line instead of indented JSON\n"
        "\n"
        "Exit status: 0 every vector built, 1 some vector failed, 2 usage.\n",
        out);
}

void vec_emit(vec_ctx *c, const vec_info *v, const uint8_t *bytes, size_t len,
              cJSON *fields) {
  cJSON *o = cJSON_CreateObject();
  cJSON_AddStringToObject(o, "name", v->name);
  cJSON_AddStringToObject(o, "kind", v->kind);
  cJSON_AddStringToObject(o, "message_type", v->msg);
  jo_add_hex(o, "hex", bytes, len);
  cJSON_AddItemToObject(o, "fields", fields ? fields : cJSON_CreateObject());
  cJSON_AddStringToObject(o, "source", v->source);
  cJSON_AddStringToObject(o, "status", v->status);
  if (v->note != NULL)
    cJSON_AddStringToObject(o, "note", v->note);
  cJSON_AddItemToArray(c->list, o);
}

void vec_fail(vec_ctx *c, const char *name, const char *what, int err,
              const nnrp_fault *f) {
  char detail[256];
  if (f != NULL && f->err == err && f->rule != NULL && f->field != NULL)
    nnrp_fault_format(f, detail, sizeof(detail));
  else
    snprintf(detail, sizeof(detail), "%s", nnrp_err_name(err));
  fprintf(stderr, "nnrp vectors: %s: %s failed: %s\n", name, what, detail);
  c->failures++;
}

cJSON *vec_text(nnrp_bytes b) {
  char *s = cli_xmalloc(b.len + 1);
  if (b.len > 0)
    memcpy(s, b.ptr, b.len);
  s[b.len] = '\0';
  cJSON *item = cJSON_CreateString(s);
  free(s);
  return item;
}

nnrp_bytes vec_str(const char *s) {
  nnrp_bytes b = {(const uint8_t *)s, strlen(s)};
  return b;
}

cJSON *vec_header_fields(vec_ctx *c, const char *name, const uint8_t *pkt) {
  nnrp_header h;
  nnrp_fault f;
  nnrp_wire_opts wo;
  memset(&f, 0, sizeof(f));
  nnrp_wire_opts_default(&wo);
  int rc = nnrp_header_decode(&h, pkt, NNRP_HEADER_LEN, &wo, &f);
  cJSON *o = cJSON_CreateObject();
  cJSON_AddStringToObject(o, "magic", NNRP_MAGIC);
  if (rc != 0) {
    vec_fail(c, name, "nnrp_header_decode", rc, &f);
    return o;
  }
  jo_struct_into(o, NNRP_STRUCT_HEADER, &h);
  return o;
}

cJSON *vec_packet_fields(vec_ctx *c, const char *name, const uint8_t *pkt,
                         size_t len) {
  cJSON *o = cJSON_CreateObject();
  cJSON_AddItemToObject(o, "header", vec_header_fields(c, name, pkt));
  uint32_t meta_len = cli_rd32(pkt + 12);
  nnrp_meta m;
  nnrp_fault f;
  memset(&f, 0, sizeof(f));
  int rc = NNRP_ERR_TRUNCATED;
  if ((uint64_t)NNRP_HEADER_LEN + meta_len <= len)
    rc = nnrp_meta_decode(pkt[6], &m, pkt + NNRP_HEADER_LEN, meta_len, 0, &f);
  if (rc == 0)
    cJSON_AddItemToObject(o, "metadata", jo_meta(pkt[6], &m));
  else
    vec_fail(c, name, "nnrp_meta_decode", rc, &f);
  return o;
}

static cJSON *kinds(void) {
  cJSON *k = cJSON_CreateObject();
  cJSON_AddStringToObject(k, "packet",
                          "whole packet (or a 40-byte header "
                          "when the entry's note says so)");
  cJSON_AddStringToObject(k, "metadata",
                          "fixed metadata block of message_type only");
  cJSON_AddStringToObject(k, "body",
                          "a body or a body region of "
                          "message_type");
  cJSON_AddStringToObject(k, "extension",
                          "control extension TLV entry or block");
  cJSON_AddStringToObject(k, "descriptor",
                          "a descriptor or reference block "
                          "inside a composed body");
  return k;
}

int cli_cmd_vectors(int argc, char **argv) {
  int compact = 0;
  for (int i = 0; i < argc; i++) {
    if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
      cli_usage_vectors(stdout);
      return CLI_EXIT_OK;
    }
    if (strcmp(argv[i], "--compact") != 0) {
      fprintf(stderr, "nnrp vectors: unknown argument: %s\n\n", argv[i]);
      cli_usage_vectors(stderr);
      return CLI_EXIT_USAGE;
    }
    compact = 1;
  }
  vec_ctx c = {cJSON_CreateArray(), 0};
  vec_group_meta(&c);
  vec_group_control(&c);
  vec_group_data(&c);
  vec_group_data2(&c);
  cJSON *root = cJSON_CreateObject();
  char desc[256];
  snprintf(desc, sizeof(desc),
           "Seed-line vectors rebuilt by libnnrp %s from their field values "
           "(nnrp vectors); compare with shared/vectors/seed-line.json.",
           nnrp_version_string());
  cJSON_AddStringToObject(root, "description", desc);
  cJSON_AddItemToObject(root, "kinds", kinds());
  cJSON_AddItemToObject(root, "vectors", c.list);
  char *text = compact ? cJSON_PrintUnformatted(root) : cJSON_Print(root);
  if (text != NULL) {
    puts(text);
    cJSON_free(text);
  }
  cJSON_Delete(root);
  if (c.failures > 0)
    fprintf(stderr, "nnrp vectors: %d vector(s) failed\n", c.failures);
  return c.failures > 0 ? CLI_EXIT_INVALID : CLI_EXIT_OK;
}
