/* SPDX-License-Identifier: Apache-2.0 */
/*
 * util.c - helpers of the nnrp CLI (see util.h): hex conversion, whole-stream
 * reads, UTF-8 validation, allocation that exits on failure.
 */
#include "util.h"

#include <stdlib.h>
#include <string.h>

void *cli_xmalloc(size_t n) {
  void *p = malloc(n ? n : 1);
  if (p == NULL) {
    fputs("nnrp: out of memory\n", stderr);
    exit(CLI_EXIT_INVALID);
  }
  return p;
}

void *cli_xcalloc(size_t n, size_t size) {
  void *p = calloc(n ? n : 1, size ? size : 1);
  if (p == NULL) {
    fputs("nnrp: out of memory\n", stderr);
    exit(CLI_EXIT_INVALID);
  }
  return p;
}

static int hex_val(int c) {
  if (c >= '0' && c <= '9')
    return c - '0';
  if (c >= 'a' && c <= 'f')
    return c - 'a' + 10;
  if (c >= 'A' && c <= 'F')
    return c - 'A' + 10;
  return -1;
}

static int is_space(int c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' ||
         c == '\f';
}

int cli_hex_decode(const char *text, uint8_t **out, size_t *len) {
  while (is_space((unsigned char)*text))
    text++;
  if (text[0] == '0' && (text[1] == 'x' || text[1] == 'X'))
    text += 2;
  uint8_t *buf = cli_xmalloc(strlen(text) / 2 + 1);
  size_t n = 0;
  int hi = -1;
  for (const char *s = text; *s; s++) {
    int c = (unsigned char)*s;
    if (is_space(c))
      continue;
    int v = hex_val(c);
    if (v < 0) {
      free(buf);
      return -1;
    }
    if (hi < 0) {
      hi = v;
    } else {
      buf[n++] = (uint8_t)(hi << 4 | v);
      hi = -1;
    }
  }
  if (hi >= 0) {
    free(buf);
    return -1;
  }
  *out = buf;
  *len = n;
  return 0;
}

char *cli_hex_encode(const uint8_t *p, size_t n) {
  static const char digits[] = "0123456789abcdef";
  char *s = cli_xmalloc(2 * n + 1);
  for (size_t i = 0; i < n; i++) {
    s[2 * i] = digits[p[i] >> 4];
    s[2 * i + 1] = digits[p[i] & 0xF];
  }
  s[2 * n] = '\0';
  return s;
}

int cli_read_all(FILE *f, uint8_t **out, size_t *len) {
  size_t cap = 65536, n = 0;
  uint8_t *buf = cli_xmalloc(cap);
  for (;;) {
    if (n == cap) {
      uint8_t *nb = realloc(buf, cap * 2);
      if (nb == NULL) {
        free(buf);
        return -1;
      }
      buf = nb;
      cap *= 2;
    }
    size_t got = fread(buf + n, 1, cap - n, f);
    n += got;
    if (got == 0)
      break;
  }
  if (ferror(f)) {
    free(buf);
    return -1;
  }
  *out = buf;
  *len = n;
  return 0;
}

/* Length of the UTF-8 sequence starting with byte c, 0 if c cannot start
 * one. */
static size_t utf8_seq_len(uint8_t c) {
  if (c < 0x80)
    return 1;
  if (c >= 0xC2 && c <= 0xDF)
    return 2;
  if (c >= 0xE0 && c <= 0xEF)
    return 3;
  if (c >= 0xF0 && c <= 0xF4)
    return 4;
  return 0;
}

int cli_utf8_valid(const uint8_t *p, size_t n) {
  size_t i = 0;
  while (i < n) {
    size_t k = utf8_seq_len(p[i]);
    if (k == 0 || p[i] == 0 || k > n - i)
      return 0;
    for (size_t j = 1; j < k; j++)
      if ((p[i + j] & 0xC0) != 0x80)
        return 0;
    if (k == 3) { /* overlongs and surrogates */
      if ((p[i] == 0xE0 && p[i + 1] < 0xA0) ||
          (p[i] == 0xED && p[i + 1] >= 0xA0))
        return 0;
    } else if (k == 4) {
      if ((p[i] == 0xF0 && p[i + 1] < 0x90) ||
          (p[i] == 0xF4 && p[i + 1] >= 0x90))
        return 0;
    }
    i += k;
  }
  return 1;
}
