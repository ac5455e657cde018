/* SPDX-License-Identifier: Apache-2.0 */
/*
 * model_tokens.c - how the upscale demo model cuts a TOKEN_CHUNK payload
 * into the chunks it streams back (one per word of text, 4-byte pieces of
 * anything else; see model.h). Shared with `nnrp submit --verify`.
 */
#include "model.h"

static int is_blank(uint8_t c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

static int is_text(nnrp_bytes d) {
  for (size_t i = 0; i < d.len; i++)
    if ((d.ptr[i] < 0x20 || d.ptr[i] > 0x7E) && !is_blank(d.ptr[i]))
      return 0;
  return 1;
}

/* One chunk per word: the word and the blanks after it. */
static size_t split_words(nnrp_bytes d, nnrp_bytes *out, size_t cap) {
  size_t n = 0, start = 0, i = 0;
  while (i < d.len) {
    while (i < d.len && !is_blank(d.ptr[i]))
      i++;
    while (i < d.len && is_blank(d.ptr[i]))
      i++;
    if (n + 1 == cap)
      i = d.len; /* the last chunk takes the rest */
    out[n].ptr = d.ptr + start;
    out[n].len = i - start;
    n++;
    start = i;
  }
  return n;
}

/* Pieces of 4 bytes, or bigger ones when cap would be exceeded. */
static size_t split_bytes(nnrp_bytes d, nnrp_bytes *out, size_t cap) {
  size_t piece = 4;
  if ((d.len + piece - 1) / piece > cap)
    piece = (d.len + cap - 1) / cap;
  size_t n = 0;
  for (size_t off = 0; off < d.len; off += piece) {
    out[n].ptr = d.ptr + off;
    out[n].len = d.len - off < piece ? d.len - off : piece;
    n++;
  }
  return n;
}

size_t model_token_chunks(nnrp_bytes data, nnrp_bytes *out, size_t cap) {
  if (cap == 0)
    return 0;
  if (data.len == 0) {
    out[0] = data;
    return 1;
  }
  return is_text(data) ? split_words(data, out, cap)
                       : split_bytes(data, out, cap);
}
