/* SPDX-License-Identifier: Apache-2.0 */
/*
 * text_out.c - generic text printer of the decode JSON tree (text_out.h).
 * The tree is the single source of what `nnrp decode` shows; this file only
 * decides presentation.
 */
#include "text_out.h"

#include <inttypes.h>
#include <nnrp/nnrp.h>
#include <stdint.h>
#include <string.h>

static int ends_with(const char *s, const char *suffix) {
  size_t n = strlen(s), k = strlen(suffix);
  return n >= k && strcmp(s + n - k, suffix) == 0;
}

/* Numbers under these names are bit sets: print them in hex. */
static int is_bits_name(const char *key) {
  return key != NULL &&
         (strstr(key, "flags") != NULL || strstr(key, "bitmap") != NULL ||
          strstr(key, "mask") != NULL || strstr(key, "slots_") != NULL);
}

/* Type codes shown in hex, as wire.md writes them (0x0101, 0x8001). */
static int is_code_name(const char *key) {
  return key != NULL &&
         (strcmp(key, "ext_type") == 0 || strcmp(key, "extension_kind") == 0);
}

static int is_hex_name(const char *key) {
  return key != NULL && (ends_with(key, "_hex") || strcmp(key, "tiles") == 0);
}

static void print_hex_string(FILE *out, const char *hex) {
  size_t n = strlen(hex);
  if (n <= 2u * TEXT_MAX_HEX_BYTES) {
    fputs(n ? hex : "(empty)", out);
    return;
  }
  fprintf(out, "%.*s\xE2\x80\xA6(%zu bytes)", (int)(2u * TEXT_MAX_HEX_BYTES),
          hex, n / 2);
}

/* Plain text unless quoting is needed to see it (empty, control bytes,
 * leading or trailing blanks). */
static int needs_quotes(const char *s) {
  size_t n = strlen(s);
  if (n == 0 || s[0] == ' ' || s[n - 1] == ' ')
    return 1;
  for (; *s; s++)
    if ((unsigned char)*s < 0x20 || *s == 0x7F)
      return 1;
  return 0;
}

static void print_quoted(FILE *out, const char *s) {
  if (!needs_quotes(s)) {
    fputs(s, out);
    return;
  }
  fputc('"', out);
  for (; *s; s++) {
    unsigned char c = (unsigned char)*s;
    if (c == '"' || c == '\\')
      fprintf(out, "\\%c", c);
    else if (c < 0x20 || c == 0x7F)
      fprintf(out, "\\x%02x", c);
    else
      fputc(c, out);
  }
  fputc('"', out);
}

/* A scalar: number, raw number, string, bool or null. key decides hex. */
static void print_scalar(FILE *out, const char *key, const cJSON *v) {
  if (cJSON_IsRaw(v)) {
    fputs(v->valuestring, out);
  } else if (cJSON_IsNumber(v)) {
    uint64_t u = (uint64_t)v->valuedouble;
    const char *type = NULL;
    if (key != NULL && strcmp(key, "msg_type") == 0 && u <= 0xFF)
      type = nnrp_msg_type_name((uint8_t)u);
    if (type != NULL)
      fprintf(out, "0x%02" PRIx64 " (%s)", u, type);
    else if (is_code_name(key))
      fprintf(out, "0x%04" PRIx64, u);
    else if (is_bits_name(key))
      fprintf(out, "0x%" PRIx64, u);
    else
      fprintf(out, "%" PRIu64, u);
  } else if (cJSON_IsString(v)) {
    if (is_hex_name(key))
      print_hex_string(out, v->valuestring);
    else
      print_quoted(out, v->valuestring);
  } else if (cJSON_IsBool(v)) {
    fputs(cJSON_IsTrue(v) ? "yes" : "no", out);
  } else {
    fputs("-", out);
  }
}

static int array_is_scalar(const cJSON *a) {
  const cJSON *e;
  cJSON_ArrayForEach(e, a) {
    if (cJSON_IsObject(e) || cJSON_IsArray(e))
      return 0;
  }
  return 1;
}

static void print_array(FILE *out, const char *key, const cJSON *a,
                        int indent) {
  int n = cJSON_GetArraySize(a);
  if (array_is_scalar(a)) {
    fprintf(out, "%*s%s: [", indent, "", key);
    int i = 0;
    const cJSON *e;
    cJSON_ArrayForEach(e, a) {
      if (i == TEXT_MAX_ARRAY_ITEMS) {
        fprintf(out, ", \xE2\x80\xA6(%d items)", n);
        break;
      }
      fputs(i ? ", " : "", out);
      print_scalar(out, key, e);
      i++;
    }
    fputs("]\n", out);
    return;
  }
  fprintf(out, "%*s%s: %d item%s\n", indent, "", key, n, n == 1 ? "" : "s");
  int i = 0;
  const cJSON *e;
  cJSON_ArrayForEach(e, a) {
    fprintf(out, "%*s%s[%d]:\n", indent + 2, "", key, i++);
    text_print_members(out, e, indent + 4);
  }
}

void text_print_members(FILE *out, const cJSON *obj, int indent) {
  const cJSON *v;
  cJSON_ArrayForEach(v, obj) {
    const char *key = v->string ? v->string : "?";
    if (cJSON_IsObject(v)) {
      text_print_group(out, key, v, indent);
    } else if (cJSON_IsArray(v)) {
      print_array(out, key, v, indent);
    } else {
      fprintf(out, "%*s%s: ", indent, "", key);
      print_scalar(out, key, v);
      fputc('\n', out);
    }
  }
}

void text_print_group(FILE *out, const char *name, const cJSON *obj,
                      int indent) {
  if (obj == NULL || cJSON_IsNull(obj)) {
    fprintf(out, "%*s%s: -\n", indent, "", name);
    return;
  }
  fprintf(out, "%*s%s:\n", indent, "", name);
  text_print_members(out, obj, indent + 2);
}
