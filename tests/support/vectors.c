/* SPDX-License-Identifier: Apache-2.0 */
/*
 * vectors.c - locate and load the shared test vectors; hex conversion.
 */
#include "vectors.h"

#include "harness.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define DIE(msg) harness_die(__FILE__, __LINE__, (msg))

const char *nnrp_test_vectors_dir(void) {
  const char *dir = getenv("NNRP_VECTORS_DIR");
  struct stat st;
  char msg[1024];
  if (dir == NULL || dir[0] == '\0') {
    DIE("NNRP_VECTORS_DIR is not set; run the tests through ctest, or set it "
        "to the shared vectors directory (../shared/vectors)");
  }
  if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode)) {
    snprintf(msg, sizeof msg, "NNRP_VECTORS_DIR=%s is not a directory", dir);
    DIE(msg);
  }
  return dir;
}

/* Reads a whole file into a malloc'd NUL-terminated buffer. */
static char *read_text_file(const char *path, size_t *len_out) {
  char msg[1024];
  FILE *f = fopen(path, "rb");
  if (f == NULL) {
    snprintf(msg, sizeof msg, "cannot open %s", path);
    DIE(msg);
  }
  size_t cap = 1 << 16;
  size_t len = 0;
  char *buf = malloc(cap);
  if (buf == NULL) {
    DIE("out of memory");
  }
  for (;;) {
    size_t n = fread(buf + len, 1, cap - len - 1, f);
    len += n;
    if (len + 1 < cap) {
      if (ferror(f)) {
        snprintf(msg, sizeof msg, "cannot read %s", path);
        DIE(msg);
      }
      if (feof(f)) {
        break;
      }
      continue;
    }
    cap *= 2;
    char *grown = realloc(buf, cap);
    if (grown == NULL) {
      DIE("out of memory");
    }
    buf = grown;
  }
  fclose(f);
  buf[len] = '\0';
  *len_out = len;
  return buf;
}

cJSON *nnrp_test_load_json(const char *relpath) {
  const char *dir = nnrp_test_vectors_dir();
  char msg[1024];
  size_t plen = strlen(dir) + 1 + strlen(relpath) + 1;
  char *path = malloc(plen);
  if (path == NULL) {
    DIE("out of memory");
  }
  snprintf(path, plen, "%s/%s", dir, relpath);

  size_t len = 0;
  char *text = read_text_file(path, &len);
  const char *end = NULL;
  cJSON *json = cJSON_ParseWithLengthOpts(text, len, &end, 0);
  if (json == NULL) {
    size_t at = end != NULL ? (size_t)(end - text) : 0;
    snprintf(msg, sizeof msg, "cannot parse JSON %s near byte %zu", path, at);
    DIE(msg);
  }
  free(text);
  free(path);
  return json;
}

static int hex_value(char c) {
  if (c >= '0' && c <= '9') {
    return c - '0';
  }
  if (c >= 'a' && c <= 'f') {
    return c - 'a' + 10;
  }
  if (c >= 'A' && c <= 'F') {
    return c - 'A' + 10;
  }
  return -1;
}

size_t nnrp_test_hex_decode(const char *hex, uint8_t **out) {
  char msg[128];
  size_t n = strlen(hex);
  if (n % 2 != 0) {
    snprintf(msg, sizeof msg, "hex string of odd length %zu", n);
    DIE(msg);
  }
  uint8_t *buf = malloc(n / 2 > 0 ? n / 2 : 1);
  if (buf == NULL) {
    DIE("out of memory");
  }
  for (size_t i = 0; i < n / 2; i++) {
    int hi = hex_value(hex[2 * i]);
    int lo = hex_value(hex[2 * i + 1]);
    if (hi < 0 || lo < 0) {
      snprintf(msg, sizeof msg, "non-hex character at offset %zu",
               hi < 0 ? 2 * i : 2 * i + 1);
      DIE(msg);
    }
    buf[i] = (uint8_t)(hi << 4 | lo);
  }
  *out = buf;
  return n / 2;
}

char *nnrp_test_hex_encode(const uint8_t *data, size_t len) {
  static const char digits[] = "0123456789abcdef";
  char *s = malloc(2 * len + 1);
  if (s == NULL) {
    DIE("out of memory");
  }
  for (size_t i = 0; i < len; i++) {
    s[2 * i] = digits[data[i] >> 4];
    s[2 * i + 1] = digits[data[i] & 0x0f];
  }
  s[2 * len] = '\0';
  return s;
}
