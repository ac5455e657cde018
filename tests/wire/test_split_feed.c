/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_split_feed.c - split-feed (STYLE "Tests"): every whole-packet vector
 * of seed-line.json, and the concatenation of all of them, is fed through
 * the streaming reader (session.md §2.1 rule 4) split at every offset and
 * one byte at a time. The reader must yield exactly the packets that
 * nnrp_packet_decode() gives for the whole input - field for field and
 * re-encoding byte for byte - and nothing else.
 */
#include <nnrp/nnrp_wire.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "vectors.h"

#define MAX_PKTS 128

typedef struct stream {
  const char *name;
  uint8_t *bytes;
  size_t len;
  size_t n;               /* packets */
  size_t start[MAX_PKTS]; /* offset of each packet */
  size_t size[MAX_PKTS];  /* its length */
  nnrp_packet ref[MAX_PKTS];
} stream;

static stream *streams;
static size_t n_streams;

/* Reference decode of a stream: packet after packet with the whole-packet
 * decoder. */
static int reference(stream *s) {
  nnrp_wire_opts o;
  nnrp_wire_opts_default(&o);
  size_t off = 0;
  s->n = 0;
  while (off < s->len) {
    nnrp_header h;
    if (s->n >= MAX_PKTS || s->len - off < NNRP_HEADER_LEN ||
        nnrp_header_decode(&h, s->bytes + off, s->len - off, &o, NULL) != 0)
      return 0;
    size_t size = NNRP_HEADER_LEN + (size_t)h.meta_len + h.body_len;
    if (size > s->len - off ||
        nnrp_packet_decode(&s->ref[s->n], s->bytes + off, size, &o, NULL) != 0)
      return 0;
    s->start[s->n] = off;
    s->size[s->n] = size;
    s->n++;
    off += size;
  }
  return 1;
}

static void load(void) {
  cJSON *root = nnrp_test_load_json("seed-line.json");
  const cJSON *v;
  size_t cap = 0;
  cJSON_ArrayForEach(v, cJSON_GetObjectItemCaseSensitive(root, "vectors")) {
    (void)v;
    cap++;
  }
  streams = calloc(cap + 1, sizeof(stream));
  if (streams == NULL)
    harness_die(__FILE__, __LINE__, "out of memory");
  size_t total = 0;
  cJSON_ArrayForEach(v, cJSON_GetObjectItemCaseSensitive(root, "vectors")) {
    const cJSON *kind = cJSON_GetObjectItemCaseSensitive(v, "kind");
    if (!cJSON_IsString(kind) || strcmp(kind->valuestring, "packet") != 0)
      continue;
    stream *s = &streams[n_streams];
    s->len = nnrp_test_hex_decode(
        cJSON_GetObjectItemCaseSensitive(v, "hex")->valuestring, &s->bytes);
    /* The two header-only vectors are not whole packets: skip them. */
    if (s->len < NNRP_HEADER_LEN ||
        (uint64_t)NNRP_HEADER_LEN +
                ((uint32_t)s->bytes[12] | (uint32_t)s->bytes[13] << 8 |
                 (uint32_t)s->bytes[14] << 16 | (uint32_t)s->bytes[15] << 24) +
                ((uint32_t)s->bytes[16] | (uint32_t)s->bytes[17] << 8 |
                 (uint32_t)s->bytes[18] << 16 | (uint32_t)s->bytes[19] << 24) !=
            s->len) {
      free(s->bytes);
      continue;
    }
    s->name = strdup(cJSON_GetObjectItemCaseSensitive(v, "name")->valuestring);
    total += s->len;
    n_streams++;
  }
  cJSON_Delete(root);
  /* The concatenation of every whole-packet vector. */
  stream *all = &streams[n_streams];
  all->name = strdup("all packet vectors, back to back");
  all->bytes = malloc(total);
  if (all->bytes == NULL || all->name == NULL)
    harness_die(__FILE__, __LINE__, "out of memory");
  for (size_t i = 0; i < n_streams; i++) {
    memcpy(all->bytes + all->len, streams[i].bytes, streams[i].len);
    all->len += streams[i].len;
  }
  n_streams++;
  for (size_t i = 0; i < n_streams; i++)
    if (!reference(&streams[i]))
      harness_die(__FILE__, __LINE__, "a packet vector does not decode");
}

/* ---- feeding ------------------------------------------------------------ */

/* Compares packet p yielded by the reader with reference packet k. */
static int same_packet(const stream *s, size_t k, const nnrp_packet *p) {
  const nnrp_packet *r = &s->ref[k];
  size_t nf = 0;
  const nnrp_field_desc *fd = nnrp_struct_fields(NNRP_STRUCT_HEADER, &nf);
  for (size_t i = 0; i < nf; i++)
    if (nnrp_field_get(&p->hdr, &fd[i]) != nnrp_field_get(&r->hdr, &fd[i]))
      return 0;
  int id = nnrp_meta_struct_id(p->hdr.msg_type);
  if (id >= 0) {
    fd = nnrp_struct_fields(id, &nf);
    for (size_t i = 0; i < nf; i++)
      if (nnrp_field_get(&p->m, &fd[i]) != nnrp_field_get(&r->m, &fd[i]))
        return 0;
  }
  if (p->meta_raw.len != r->meta_raw.len || p->body_raw.len != r->body_raw.len)
    return 0;
  /* Re-encoded verbatim, the packet is the original bytes. */
  uint8_t out[4096];
  size_t size = s->size[k];
  if (size > sizeof out)
    return 0;
  nnrp_header_encode(&p->hdr, out);
  if (nnrp_meta_encode(p->hdr.msg_type, &p->m, out + 40, sizeof out - 40) !=
      (int)p->meta_raw.len)
    return 0;
  if (p->body_raw.len)
    memcpy(out + 40 + p->meta_raw.len, p->body_raw.ptr, p->body_raw.len);
  return memcmp(out, s->bytes + s->start[k], size) == 0;
}

typedef struct feed {
  const stream *s;
  nnrp_reader r;
  size_t got; /* packets yielded so far */
  int bad;    /* something other than the expected packet */
  uint8_t *bufs[MAX_PKTS * 2];
  size_t nbufs;
} feed;

static void feed_chunk(feed *fd, const uint8_t *in, size_t len) {
  size_t off = 0;
  for (int guard = 0; guard < 1000 && !fd->bad; guard++) {
    size_t used = 0;
    nnrp_packet p;
    nnrp_fault f;
    int rc = nnrp_reader_next(&fd->r, in + off, len - off, &used, &p, &f);
    if (used > len - off) {
      fd->bad = 1;
      return;
    }
    off += used;
    if (rc == NNRP_READ_NEED_MORE) {
      fd->bad |= off != len;
      return;
    }
    if (rc == NNRP_READ_NEED_BUFFER) {
      size_t need = nnrp_reader_need(&fd->r);
      uint8_t *b = malloc(need); /* exactly: ASan sees any overrun */
      if (b == NULL || fd->nbufs == sizeof fd->bufs / sizeof fd->bufs[0] ||
          nnrp_reader_set_buffer(&fd->r, b, need) != 0) {
        free(b);
        fd->bad = 1;
        return;
      }
      fd->bufs[fd->nbufs++] = b;
      continue;
    }
    if (rc != NNRP_READ_PACKET || fd->got >= fd->s->n ||
        !same_packet(fd->s, fd->got, &p)) {
      fd->bad = 1;
      return;
    }
    fd->got++;
    if (off == len)
      return;
  }
  fd->bad = 1;
}

/* Feeds s cut at the given offsets (sorted, may repeat: empty chunks). */
static int feed_cuts(const stream *s, const size_t *cuts, size_t ncuts) {
  feed fd;
  memset(&fd, 0, sizeof fd);
  fd.s = s;
  nnrp_wire_opts o;
  nnrp_wire_opts_default(&o);
  nnrp_reader_init(&fd.r, &o, NULL, 0);
  size_t prev = 0;
  for (size_t i = 0; i <= ncuts && !fd.bad; i++) {
    size_t end = i < ncuts ? cuts[i] : s->len;
    feed_chunk(&fd, s->bytes + prev, end - prev);
    prev = end;
  }
  int ok = !fd.bad && fd.got == s->n && nnrp_reader_at_boundary(&fd.r);
  for (size_t i = 0; i < fd.nbufs; i++)
    free(fd.bufs[i]);
  return ok;
}

/* ---- tests -------------------------------------------------------------- */

TEST(whole_stream_one_chunk) {
  for (size_t i = 0; i < n_streams; i++)
    if (!CHECK(feed_cuts(&streams[i], NULL, 0)))
      printf("  %s\n", streams[i].name);
}

TEST(split_at_every_offset) {
  size_t runs = 0;
  for (size_t i = 0; i < n_streams; i++) {
    const stream *s = &streams[i];
    for (size_t k = 0; k <= s->len; k++) {
      runs++;
      if (!CHECK(feed_cuts(s, &k, 1))) {
        printf("  %s split at %zu\n", s->name, k);
        break;
      }
    }
  }
  printf("  %zu split feeds\n", runs);
}

TEST(one_byte_at_a_time) {
  for (size_t i = 0; i < n_streams; i++) {
    const stream *s = &streams[i];
    size_t *cuts = malloc((s->len + 1) * sizeof(size_t));
    if (!CHECK(cuts != NULL))
      return;
    for (size_t k = 0; k < s->len; k++)
      cuts[k] = k + 1;
    if (!CHECK(feed_cuts(s, cuts, s->len ? s->len - 1 : 0)))
      printf("  %s\n", s->name);
    free(cuts);
  }
}

/* Three-way splits around every packet boundary of the concatenation, and
 * seeded random multi-splits including empty chunks. */
TEST(multi_splits) {
  const stream *s = &streams[n_streams - 1];
  for (size_t k = 0; k < s->n; k++) {
    size_t b = s->start[k];
    for (size_t d1 = 0; d1 < 3; d1++)
      for (size_t d2 = 0; d2 < 45 && b + d1 + d2 <= s->len; d2 += 4) {
        size_t cuts[3] = {b >= 1 ? b - 1 + d1 : d1, b + d1 + d2, b + d1 + d2};
        if (cuts[0] > cuts[1])
          cuts[0] = cuts[1];
        if (!CHECK(feed_cuts(s, cuts, 3)))
          printf("  cuts %zu %zu %zu\n", cuts[0], cuts[1], cuts[2]);
      }
  }
  uint64_t x = 0x243F6A8885A308D3ull;
  for (int run = 0; run < 500; run++) {
    size_t cuts[24];
    size_t n = 0, at = 0;
    while (n < 24) {
      x ^= x << 13, x ^= x >> 7, x ^= x << 17;
      at += (size_t)(x % 97);
      if (at > s->len)
        break;
      cuts[n++] = at;
    }
    if (!CHECK(feed_cuts(s, cuts, n)))
      printf("  random run %d\n", run);
  }
}

int main(void) {
  load();
  printf("# %zu streams (%zu packet vectors + their concatenation of %zu "
         "packets)\n",
         n_streams, n_streams - 1, streams[n_streams - 1].n);
  RUN(whole_stream_one_chunk);
  RUN(split_at_every_offset);
  RUN(one_byte_at_a_time);
  RUN(multi_splits);
  for (size_t i = 0; i < n_streams; i++) {
    free(streams[i].bytes);
    free((void *)streams[i].name);
  }
  free(streams);
  TEST_MAIN_END();
}
