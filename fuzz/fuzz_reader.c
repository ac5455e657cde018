/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fuzz_reader.c - libFuzzer target for the streaming reader (session.md §2.1
 * rule 4, wire.md §15 steps 1-9). The byte stream is cut into chunks whose
 * sizes come from the input and fed to nnrp_reader_next(); buffers are
 * supplied on NNRP_READ_NEED_BUFFER (exactly the size asked, sometimes a
 * too-small one first). What the reader yields must equal a non-streaming
 * model built from nnrp_header_decode() + nnrp_packet_decode() over the whole
 * stream, event for event; EOF state must match; memory stays bounded.
 *
 * Input: options byte, n, n chunk sizes (0 = an empty chunk), the stream.
 * Options: bit 0 lenient; bit 1 an initial 64-byte buffer; bit 2 offer a
 * too-small buffer first; bits 4-7 k: max_body_bytes = k ? 2^(k+1) : 512 KiB.
 */
#include <nnrp/nnrp_wire.h>

#include <stdlib.h>
#include <string.h>

#include "nnrp_fuzz.h"

#define FZ_CHECK(c)                                                            \
  do {                                                                         \
    if (!(c))                                                                  \
      abort();                                                                 \
  } while (0)

#define MAX_EVENTS 4096u
#define MAX_PACKET (1u << 20) /* bounds every buffer the reader asks for */

typedef struct event {
  int rc;       /* NNRP_READ_PACKET, NNRP_READ_SKIPPED or an error */
  size_t start; /* stream offset of the packet */
  size_t size;  /* its total length */
} event;

typedef struct model {
  event ev[MAX_EVENTS];
  size_t n;
  int clean_end; /* the stream ends on a packet boundary */
  nnrp_packet scratch;
} model;

/* The stream decoded packet by packet without the reader. */
static void build_model(model *m, const uint8_t *s, size_t len,
                        const nnrp_wire_opts *o) {
  size_t off = 0;
  m->n = 0;
  m->clean_end = 1;
  while (off < len && m->n < MAX_EVENTS) {
    event *e = &m->ev[m->n];
    e->start = off;
    if (len - off < NNRP_HEADER_LEN) {
      m->clean_end = 0;
      return;
    }
    nnrp_header h;
    int rc = nnrp_header_decode(&h, s + off, len - off, o, NULL);
    if (rc != 0) { /* sticky: the stream ends here */
      e->rc = rc;
      e->size = NNRP_HEADER_LEN;
      m->n++;
      m->clean_end = -1;
      return;
    }
    uint64_t size = (uint64_t)NNRP_HEADER_LEN + h.meta_len + h.body_len;
    e->size = (size_t)size;
    if (h.body_len > o->max_body_bytes) {
      e->rc = NNRP_READ_SKIPPED;
      m->n++;
      if (size > len - off) {
        m->clean_end = 0;
        return;
      }
      off += (size_t)size;
      continue;
    }
    if (size > len - off) {
      m->clean_end = 0;
      return;
    }
    rc = nnrp_packet_decode_rest(&m->scratch, &h, s + off + 40,
                                 (size_t)size - 40, o, NULL);
    e->rc = rc == 0 ? NNRP_READ_PACKET : rc;
    m->n++;
    off += (size_t)size;
  }
}

typedef struct run {
  nnrp_reader r;
  const model *m;
  const uint8_t *stream;
  size_t got;
  uint8_t *buf; /* the assembly buffer last supplied */
  int small_first;
  uint8_t init_buf[64];
} run;

static int inside(const uint8_t *p, size_t n, const uint8_t *b, size_t len) {
  uintptr_t x = (uintptr_t)p, y = (uintptr_t)b;
  return n == 0 || (p != NULL && b != NULL && x >= y && x - y <= len &&
                    n <= len - (x - y));
}

/* One event from the reader, checked against the model. */
static void on_event(run *u, int rc, const nnrp_packet *p, const nnrp_fault *f,
                     const uint8_t *chunk, size_t clen) {
  FZ_CHECK(u->got < u->m->n);
  const event *e = &u->m->ev[u->got++];
  FZ_CHECK(rc == e->rc);
  if (rc < 0 || rc == NNRP_READ_SKIPPED) {
    FZ_CHECK(f->err == (rc < 0 ? rc : NNRP_ERR_BODY_TOO_LARGE));
    FZ_CHECK(f->rule != NULL && f->field != NULL);
  }
  /* The header of the packet is reported (the ERROR's related ids). */
  uint8_t hb[NNRP_HEADER_LEN];
  nnrp_header_encode(&p->hdr, hb);
  FZ_CHECK(memcmp(hb + 12, u->stream + e->start + 12, 28) == 0);
  if (rc != NNRP_READ_PACKET)
    return;
  /* Views: in the chunk (zero copy) or in the assembly buffer, and the
   * bytes are the stream's. */
  size_t ml = p->meta_raw.len, bl = p->body_raw.len;
  FZ_CHECK(40 + ml + bl == e->size);
  FZ_CHECK((inside(p->meta_raw.ptr, ml, chunk, clen) &&
            inside(p->body_raw.ptr, bl, chunk, clen)) ||
           (inside(p->meta_raw.ptr, ml, u->r.buf, u->r.buf_cap) &&
            inside(p->body_raw.ptr, bl, u->r.buf, u->r.buf_cap)));
  FZ_CHECK(ml == 0 ||
           memcmp(p->meta_raw.ptr, u->stream + e->start + 40, ml) == 0);
  FZ_CHECK(bl == 0 ||
           memcmp(p->body_raw.ptr, u->stream + e->start + 40 + ml, bl) == 0);
}

static void supply(run *u) {
  size_t need = nnrp_reader_need(&u->r);
  FZ_CHECK(need >= NNRP_HEADER_LEN && need <= MAX_PACKET);
  if (u->small_first) {
    uint8_t tiny[8];
    FZ_CHECK(nnrp_reader_set_buffer(&u->r, tiny,
                                    need - 1 < sizeof tiny ? need - 1
                                                           : sizeof tiny) ==
             NNRP_ERR_BUFFER_TOO_SMALL);
  }
  uint8_t *b = malloc(need); /* exactly: ASan sees any overrun */
  FZ_CHECK(b != NULL);
  FZ_CHECK(nnrp_reader_set_buffer(&u->r, b, need) == 0);
  /* The reader moved what it held; earlier views are dead (they live only
   * until the next call), so the old buffer can go. */
  free(u->buf);
  u->buf = b;
}

/* Feeds one chunk; returns 0 once the reader has failed for good. */
static int feed(run *u, const uint8_t *chunk, size_t len) {
  size_t off = 0;
  for (unsigned calls = 0;; calls++) {
    FZ_CHECK(calls < 4 * MAX_EVENTS);
    size_t used = (size_t)-1;
    nnrp_packet p;
    nnrp_fault f = {1, 0, NULL, NULL};
    int rc = nnrp_reader_next(&u->r, chunk + off, len - off, &used, &p, &f);
    FZ_CHECK(used <= len - off);
    off += used;
    if (rc == NNRP_READ_NEED_MORE) {
      FZ_CHECK(off == len); /* all input consumed */
      return 1;
    }
    if (rc == NNRP_READ_NEED_BUFFER) {
      supply(u);
      continue;
    }
    if (rc == NNRP_ERR_FATAL_PROTOCOL) {
      FZ_CHECK(u->r.failed && f.err == rc);
      return 0;
    }
    FZ_CHECK(rc == NNRP_READ_PACKET || rc == NNRP_READ_SKIPPED || rc < 0);
    on_event(u, rc, &p, &f, chunk + off - used, used);
    if (u->r.failed)
      return 0;
    if (off == len)
      return 1;
  }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size < 2)
    return 0;
  uint8_t opt = data[0];
  size_t nsz = data[1];
  if (size < 2 + nsz)
    return 0;
  const uint8_t *sizes = data + 2;
  size_t len = size - 2 - nsz;
  uint8_t *stream = malloc(len ? len : 1);
  FZ_CHECK(stream != NULL);
  if (len)
    memcpy(stream, data + 2 + nsz, len);

  nnrp_wire_opts o;
  nnrp_wire_opts_default(&o);
  o.flags = (opt & 1u) ? NNRP_WIRE_LENIENT : 0;
  o.max_packet_bytes = MAX_PACKET;
  unsigned k = opt >> 4;
  o.max_body_bytes = k ? 1u << (k + 1u) : 512u * 1024u;

  /* No global state: both big structs live on the heap per input. */
  model *mp = malloc(sizeof *mp);
  run *up = calloc(1, sizeof *up);
  FZ_CHECK(mp != NULL && up != NULL);
  build_model(mp, stream, len, &o);
  up->m = mp;
  up->stream = stream;
  up->small_first = (opt & 4u) != 0;
  nnrp_reader_init(&up->r, &o, (opt & 2u) ? up->init_buf : NULL,
                   (opt & 2u) ? sizeof up->init_buf : 0);
  FZ_CHECK(nnrp_reader_at_boundary(&up->r));

  int all_zero = 1;
  for (size_t i = 0; i < nsz; i++)
    all_zero &= sizes[i] == 0;
  size_t off = 0, i = 0;
  int alive = 1;
  while (alive && off < len) {
    size_t c = len - off;
    if (nsz && !all_zero) {
      c = sizes[i++ % nsz];
      if (c > len - off)
        c = len - off;
    }
    /* Each chunk in its own exact-size allocation. */
    uint8_t *chunk = malloc(c ? c : 1);
    FZ_CHECK(chunk != NULL);
    if (c)
      memcpy(chunk, stream + off, c);
    alive = feed(up, chunk, c);
    free(chunk);
    off += c;
  }
  if (alive) {
    /* Every modelled event happened, and EOF is clean exactly when the
     * stream ended on a packet boundary. */
    FZ_CHECK(up->got == mp->n || (mp->n == MAX_EVENTS && up->got <= mp->n));
    if (mp->n < MAX_EVENTS)
      FZ_CHECK(nnrp_reader_at_boundary(&up->r) == (mp->clean_end == 1));
  } else {
    FZ_CHECK(mp->clean_end == -1 && up->got == mp->n);
  }
  free(up->buf);
  free(up);
  free(mp);
  free(stream);
  return 0;
}
