/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_reader.c - the streaming reader (session.md §2.1 rule 4, wire.md §15
 * steps 1-9, D18, D19): need-more versus error, the header validated before
 * any body byte, sticky header faults, oversize bodies skipped without
 * buffering, the NEED_BUFFER flow, zero-copy packets, packet errors that
 * consume the packet, and EOF detection at packet boundaries.
 */
#include <nnrp/nnrp_wire.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"

/* ---- packets ------------------------------------------------------------ */

static size_t mk_header(uint8_t *b, uint8_t type, uint32_t meta, uint32_t body,
                        uint32_t session) {
  nnrp_header h;
  nnrp_header_init(&h, type);
  h.meta_len = meta;
  h.body_len = body;
  h.session_id = session;
  h.trace_id = 0x1122334455667788ull;
  nnrp_header_encode(&h, b);
  return NNRP_HEADER_LEN;
}

static size_t mk_ping(uint8_t *b, uint32_t session) {
  return mk_header(b, NNRP_MSG_PING, 0, 0, session);
}

/* ERROR with an n-byte diagnostic ('a' + i % 26). */
static size_t mk_error(uint8_t *b, uint32_t n) {
  mk_header(b, NNRP_MSG_ERROR, 32, n, 7);
  nnrp_meta m;
  memset(&m, 0, sizeof m);
  m.error.error_code = NNRP_ERROR_CODE_MALFORMED_BODY;
  m.error.error_scope = NNRP_ERROR_SCOPE_SESSION;
  m.error.diagnostic_bytes = n;
  nnrp_meta_encode(NNRP_MSG_ERROR, &m, b + 40, 32);
  for (uint32_t i = 0; i < n; i++)
    b[72 + i] = (uint8_t)('a' + i % 26);
  return 72u + n;
}

/* FLOW_UPDATE (SESSION scope); reserved0 = bad makes it malformed in
 * strict mode only. */
static size_t mk_flow(uint8_t *b, uint8_t bad) {
  mk_header(b, NNRP_MSG_FLOW_UPDATE, 32, 0, 42);
  nnrp_meta m;
  memset(&m, 0, sizeof m);
  m.flow_update.scope_kind = NNRP_FLOW_SCOPE_SESSION;
  m.flow_update.session_credit = 3;
  m.flow_update.flow_flags = NNRP_FLOW_CREDIT_VALID;
  m.flow_update.reserved0 = bad;
  nnrp_meta_encode(NNRP_MSG_FLOW_UPDATE, &m, b + 40, 32);
  return 72;
}

/* ---- a driver that records what the reader yields ----------------------- */

#define MAX_EV 64

typedef struct ev {
  int rc;
  int err; /* fault err for errors and SKIPPED */
  nnrp_header hdr;
  size_t len;        /* meta + body bytes (PACKET) */
  uint8_t data[600]; /* copy of meta + body */
} ev;

typedef struct drv {
  nnrp_reader r;
  ev ev[MAX_EV];
  size_t n;
  unsigned need_buffer;
  size_t max_need; /* largest buffer asked for */
  uint8_t *bufs[MAX_EV];
  size_t nbufs;
  const uint8_t *chunk; /* the chunk being fed */
  size_t chunk_len;
  unsigned zero_copy, copied;
} drv;

static void drv_init(drv *d, const nnrp_wire_opts *o) {
  memset(d, 0, sizeof(*d));
  nnrp_reader_init(&d->r, o, NULL, 0);
}

static void drv_free(drv *d) {
  for (size_t i = 0; i < d->nbufs; i++)
    free(d->bufs[i]);
}

static int in_range(const uint8_t *p, size_t n, const uint8_t *b, size_t len) {
  if (n == 0)
    return 1;
  if (p == NULL || b == NULL)
    return 0;
  uintptr_t x = (uintptr_t)p, y = (uintptr_t)b;
  return x >= y && x - y <= len && n <= len - (x - y);
}

static void record(drv *d, int rc, const nnrp_packet *p, const nnrp_fault *f) {
  if (!CHECK(d->n < MAX_EV))
    return;
  ev *e = &d->ev[d->n++];
  e->rc = rc;
  e->err = (rc < 0 || rc == NNRP_READ_SKIPPED) ? f->err : 0;
  e->hdr = p->hdr;
  e->len = 0;
  if (rc == NNRP_READ_PACKET) {
    const nnrp_bytes *mr = &p->meta_raw, *br = &p->body_raw;
    /* Views: inside the chunk (zero copy) or inside the reader buffer. */
    int in_chunk = in_range(mr->ptr, mr->len, d->chunk, d->chunk_len) &&
                   in_range(br->ptr, br->len, d->chunk, d->chunk_len);
    int in_buf = in_range(mr->ptr, mr->len, d->r.buf, d->r.buf_cap) &&
                 in_range(br->ptr, br->len, d->r.buf, d->r.buf_cap);
    CHECK(in_chunk || in_buf);
    if (mr->len + br->len > 0) {
      if (in_chunk)
        d->zero_copy++;
      else
        d->copied++;
    }
    if (CHECK(mr->len + br->len <= sizeof e->data)) {
      if (mr->len)
        memcpy(e->data, mr->ptr, mr->len);
      if (br->len)
        memcpy(e->data + mr->len, br->ptr, br->len);
      e->len = mr->len + br->len;
    }
  }
}

/* Feeds one chunk completely (or until a sticky failure). */
static void drv_feed(drv *d, const uint8_t *in, size_t len) {
  size_t off = 0;
  d->chunk = in;
  d->chunk_len = len;
  for (int calls = 0; calls < 100000; calls++) {
    size_t used = 12345;
    nnrp_packet p;
    nnrp_fault f = {1, 0, NULL, NULL};
    int rc = nnrp_reader_next(&d->r, in + off, len - off, &used, &p, &f);
    if (!CHECK(used <= len - off))
      return;
    off += used;
    if (rc < 0 || rc == NNRP_READ_SKIPPED) {
      CHECK_EQ_INT(f.err, rc < 0 ? rc : NNRP_ERR_BODY_TOO_LARGE);
      CHECK(f.rule != NULL && f.field != NULL);
    }
    switch (rc) {
    case NNRP_READ_NEED_MORE:
      CHECK_EQ_U64(off, len); /* "all input consumed" */
      return;
    case NNRP_READ_NEED_BUFFER: {
      d->need_buffer++;
      size_t need = nnrp_reader_need(&d->r);
      CHECK(need > NNRP_HEADER_LEN - 1);
      if (need > d->max_need)
        d->max_need = need;
      uint8_t *b = malloc(need);
      if (!CHECK(b != NULL && d->nbufs < MAX_EV))
        return;
      d->bufs[d->nbufs++] = b;
      CHECK_EQ_INT(nnrp_reader_set_buffer(&d->r, b, need), 0);
      break;
    }
    default:
      record(d, rc, &p, &f);
      if (d->r.failed)
        return;
      if (off == len && rc != NNRP_READ_NEED_BUFFER)
        return;
      break;
    }
  }
  CHECK(0); /* no progress */
}

/* Feeds s in chunks of `step` bytes (0: one chunk). */
static void drv_stream(drv *d, const uint8_t *s, size_t len, size_t step) {
  if (step == 0 || step >= len) {
    drv_feed(d, s, len);
    return;
  }
  for (size_t off = 0; off < len && !d->r.failed; off += step)
    drv_feed(d, s + off, off + step <= len ? step : len - off);
}

static nnrp_wire_opts strict(void) {
  nnrp_wire_opts o;
  nnrp_wire_opts_default(&o);
  return o;
}

/* ---- tests -------------------------------------------------------------- */

/* A header-only packet (PING, PONG, CLOSE, FRAME_CANCEL, RESULT_DROP) that
 * arrives in pieces is complete in the reader's own 40-byte header buffer:
 * it must not need a caller buffer. */
TEST(header_only_packet_needs_no_buffer) {
  uint8_t b[40];
  mk_ping(b, 9);
  nnrp_wire_opts o = strict();
  nnrp_reader r;
  nnrp_reader_init(&r, &o, NULL, 0);
  size_t used;
  nnrp_packet p;
  nnrp_fault f;
  CHECK_EQ_INT(nnrp_reader_next(&r, b, 20, &used, &p, &f), NNRP_READ_NEED_MORE);
  CHECK_EQ_INT(nnrp_reader_next(&r, b + 20, 20, &used, &p, &f),
               NNRP_READ_PACKET);
  CHECK_EQ_U64(used, 20);
  CHECK_EQ_INT(p.hdr.msg_type, NNRP_MSG_PING);
  CHECK_EQ_INT(nnrp_reader_at_boundary(&r), 1);
}

TEST(need_more_is_not_an_error) {
  uint8_t b[40];
  mk_ping(b, 9);
  nnrp_wire_opts o = strict();
  nnrp_reader r;
  static uint8_t buf[64];
  nnrp_reader_init(&r, &o, buf, sizeof buf);
  CHECK_EQ_INT(nnrp_reader_at_boundary(&r), 1);
  size_t used = 99;
  nnrp_packet p;
  nnrp_fault f;
  /* An empty chunk: nothing consumed, need more. */
  CHECK_EQ_INT(nnrp_reader_next(&r, b, 0, &used, &p, &f), NNRP_READ_NEED_MORE);
  CHECK_EQ_U64(used, 0);
  CHECK_EQ_INT(nnrp_reader_next(&r, b, 39, &used, &p, &f), NNRP_READ_NEED_MORE);
  CHECK_EQ_U64(used, 39);
  CHECK_EQ_INT(nnrp_reader_at_boundary(&r), 0); /* EOF here: mid-packet */
  CHECK_EQ_INT(nnrp_reader_next(&r, b + 39, 1, &used, &p, &f),
               NNRP_READ_PACKET);
  CHECK_EQ_U64(used, 1);
  CHECK_EQ_INT(p.hdr.msg_type, NNRP_MSG_PING);
  CHECK_EQ_U64(p.hdr.session_id, 9);
  CHECK_EQ_U64(p.hdr.trace_id, 0x1122334455667788ull);
  CHECK_EQ_INT(nnrp_reader_at_boundary(&r), 1);

  /* A bad header: 39 bytes are still "need more", the 40th is an error. */
  b[0] = 'X';
  nnrp_reader_init(&r, &o, NULL, 0);
  CHECK_EQ_INT(nnrp_reader_next(&r, b, 39, &used, &p, &f), NNRP_READ_NEED_MORE);
  f.err = 1;
  int rc = nnrp_reader_next(&r, b + 39, 1, &used, &p, &f);
  CHECK_EQ_INT(rc, NNRP_ERR_MALFORMED_HEADER);
  CHECK(rc < 0 && NNRP_READ_NEED_MORE == 0);
  CHECK_EQ_INT(f.err, NNRP_ERR_MALFORMED_HEADER);
  CHECK_EQ_STR(f.field, "magic");
}

/* Header faults through the reader: each ends the stream (D18). */
TEST(header_faults_are_sticky) {
  static const struct {
    size_t at;
    uint8_t v;
    int err;
  } cases[] = {{0, 'X', NNRP_ERR_MALFORMED_HEADER},
               {4, 2, NNRP_ERR_UNSUPPORTED_VERSION},
               {5, 1, NNRP_ERR_UNSUPPORTED_VERSION},
               {6, 0x30, NNRP_ERR_MALFORMED_HEADER},
               {7, 41, NNRP_ERR_MALFORMED_HEADER},
               {11, 0x80, NNRP_ERR_MALFORMED_HEADER}};
  nnrp_wire_opts o = strict();
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    uint8_t s[80];
    mk_ping(s, 1);
    mk_ping(s + 40, 1);
    s[cases[i].at] = cases[i].v;
    for (size_t step = 0; step <= 1; step++) {
      drv d;
      drv_init(&d, &o);
      drv_stream(&d, s, sizeof s, step);
      if (CHECK_EQ_INT(d.n, 1)) {
        CHECK_EQ_INT(d.ev[0].rc, cases[i].err);
        CHECK_EQ_INT(d.ev[0].err, cases[i].err);
      }
      CHECK_EQ_INT(d.need_buffer, 0);
      /* Sticky: the valid PING after it is never decoded. */
      size_t used = 7;
      nnrp_packet p;
      nnrp_fault f = {1, 0, NULL, NULL};
      CHECK_EQ_INT(nnrp_reader_next(&d.r, s + 40, 40, &used, &p, &f),
                   NNRP_ERR_FATAL_PROTOCOL);
      CHECK_EQ_U64(used, 0);
      CHECK_EQ_INT(f.err, NNRP_ERR_FATAL_PROTOCOL);
      CHECK_EQ_INT(nnrp_reader_next(&d.r, s, 0, &used, &p, &f),
                   NNRP_ERR_FATAL_PROTOCOL);
      drv_free(&d);
    }
  }
}

/* D19: a header over the cap fails as soon as its 40th byte arrives,
 * before any body byte and without asking for a buffer. */
TEST(oversize_header_rejected_after_40_bytes) {
  uint8_t s[200];
  memset(s, 0xAB, sizeof s);
  mk_header(s, NNRP_MSG_ERROR, 32, 0xFFFFFFF0u, 1);
  nnrp_wire_opts o = strict();
  nnrp_reader r;
  nnrp_reader_init(&r, &o, NULL, 0);
  size_t used;
  nnrp_packet p;
  nnrp_fault f;
  for (size_t i = 0; i < 39; i++) {
    CHECK_EQ_INT(nnrp_reader_next(&r, s + i, 1, &used, &p, &f),
                 NNRP_READ_NEED_MORE);
    CHECK_EQ_U64(used, 1);
  }
  f.err = 1;
  CHECK_EQ_INT(nnrp_reader_next(&r, s + 39, 1, &used, &p, &f),
               NNRP_ERR_PACKET_TOO_LARGE);
  CHECK_EQ_INT(f.err, NNRP_ERR_PACKET_TOO_LARGE);
  /* The offending header is reported for the ERROR's related ids. */
  CHECK_EQ_INT(p.hdr.msg_type, NNRP_MSG_ERROR);
  CHECK_EQ_U64(p.hdr.body_len, 0xFFFFFFF0u);
  CHECK_EQ_U64(nnrp_reader_need(&r) <= NNRP_MAX_PACKET_BYTES, 1);
  CHECK_EQ_INT(nnrp_reader_next(&r, s + 40, 100, &used, &p, &f),
               NNRP_ERR_FATAL_PROTOCOL);

  /* Same in one chunk that holds body bytes too; a smaller configured
   * cap applies the same way. */
  o.max_packet_bytes = 1000;
  mk_header(s, NNRP_MSG_ERROR, 32, 1000 - 72 + 1, 1);
  nnrp_reader_init(&r, &o, NULL, 0);
  CHECK_EQ_INT(nnrp_reader_next(&r, s, sizeof s, &used, &p, &f),
               NNRP_ERR_PACKET_TOO_LARGE);
  CHECK_EQ_INT(nnrp_reader_next(&r, s, sizeof s, &used, &p, &f),
               NNRP_ERR_FATAL_PROTOCOL);
}

/* Step 9: body over max_body_bytes but under the cap: skipped, never
 * buffered, and the next packet decodes. */
TEST(oversize_body_skipped) {
  uint8_t s[300];
  size_t n = mk_error(s, 100);
  size_t n2 = n + mk_ping(s + n, 5);
  size_t n3 = n2 + mk_error(s + n2, 16); /* exactly at the limit */
  nnrp_wire_opts o = strict();
  o.max_body_bytes = 16;
  for (size_t step = 0; step <= 7; step++) {
    drv d;
    drv_init(&d, &o);
    drv_stream(&d, s, n3, step);
    if (CHECK_EQ_INT(d.n, 3)) {
      CHECK_EQ_INT(d.ev[0].rc, NNRP_READ_SKIPPED);
      CHECK_EQ_INT(d.ev[0].err, NNRP_ERR_BODY_TOO_LARGE);
      CHECK_EQ_INT(d.ev[0].hdr.msg_type, NNRP_MSG_ERROR);
      CHECK_EQ_U64(d.ev[0].hdr.body_len, 100);
      CHECK_EQ_INT(d.ev[1].rc, NNRP_READ_PACKET);
      CHECK_EQ_INT(d.ev[1].hdr.msg_type, NNRP_MSG_PING);
      CHECK_EQ_U64(d.ev[1].hdr.session_id, 5);
      CHECK_EQ_INT(d.ev[2].rc, NNRP_READ_PACKET);
      CHECK_EQ_U64(d.ev[2].hdr.body_len, 16);
      CHECK_EQ_MEM(d.ev[2].data, s + n2 + 40, 32 + 16);
    }
    /* The skipped body was never buffered: no buffer was asked for it. */
    CHECK(d.max_need <= 72 + 16);
    CHECK_EQ_INT(nnrp_reader_at_boundary(&d.r), 1);
    drv_free(&d);
  }

  /* Mid-skip the reader is not at a boundary (EOF there is an error). */
  nnrp_reader r;
  nnrp_reader_init(&r, &o, NULL, 0);
  size_t used;
  nnrp_packet p;
  nnrp_fault f;
  CHECK_EQ_INT(nnrp_reader_next(&r, s, 50, &used, &p, &f), NNRP_READ_SKIPPED);
  size_t total = used;
  while (total < 50) {
    int rc = nnrp_reader_next(&r, s + total, 50 - total, &used, &p, &f);
    CHECK_EQ_INT(rc, NNRP_READ_NEED_MORE);
    total += used;
    if (used == 0)
      break;
  }
  CHECK_EQ_U64(total, 50);
  CHECK_EQ_INT(nnrp_reader_at_boundary(&r), 0);
  CHECK_EQ_INT(nnrp_reader_next(&r, s + 50, n - 50, &used, &p, &f),
               NNRP_READ_NEED_MORE);
  CHECK_EQ_U64(used, n - 50);
  CHECK_EQ_INT(nnrp_reader_at_boundary(&r), 1);
}

TEST(need_buffer_flow) {
  uint8_t s[300];
  size_t n = mk_error(s, 100);
  nnrp_wire_opts o = strict();
  nnrp_reader r;
  nnrp_reader_init(&r, &o, NULL, 0);
  size_t used;
  nnrp_packet p;
  nnrp_fault f;
  /* The packet spans two chunks: the reader asks for a buffer. */
  int rc = nnrp_reader_next(&r, s, 60, &used, &p, &f);
  CHECK_EQ_INT(rc, NNRP_READ_NEED_BUFFER);
  CHECK(used <= 60);
  CHECK_EQ_U64(nnrp_reader_need(&r), n);
  static uint8_t small[100], big1[200], big2[200];
  CHECK_EQ_INT(nnrp_reader_set_buffer(&r, small, sizeof small),
               NNRP_ERR_BUFFER_TOO_SMALL);
  CHECK_EQ_INT(nnrp_reader_set_buffer(&r, NULL, 500),
               NNRP_ERR_BUFFER_TOO_SMALL);
  CHECK_EQ_INT(nnrp_reader_set_buffer(&r, big1, sizeof big1), 0);
  size_t off = used;
  CHECK_EQ_INT(nnrp_reader_next(&r, s + off, 60 - off, &used, &p, &f),
               NNRP_READ_NEED_MORE);
  CHECK_EQ_U64(used, 60 - off);
  /* Replacing the buffer mid-packet moves what it holds. */
  CHECK_EQ_INT(nnrp_reader_set_buffer(&r, big2, sizeof big2), 0);
  memset(big1, 0xEE, sizeof big1);
  CHECK_EQ_INT(nnrp_reader_next(&r, s + 60, n - 60, &used, &p, &f),
               NNRP_READ_PACKET);
  CHECK_EQ_U64(used, n - 60);
  CHECK(p.meta_raw.ptr == big2 + 40);
  CHECK(p.body_raw.ptr == big2 + 72);
  CHECK_EQ_U64(p.b.diagnostic.len, 100);
  CHECK_EQ_MEM(p.b.diagnostic.ptr, s + 72, 100);
  CHECK_EQ_U64(p.m.error.diagnostic_bytes, 100);
  CHECK_EQ_INT(nnrp_reader_at_boundary(&r), 1);

  /* A buffer given at init that is large enough: no NEED_BUFFER. */
  nnrp_reader_init(&r, &o, big1, sizeof big1);
  CHECK_EQ_INT(nnrp_reader_next(&r, s, 1, &used, &p, &f), NNRP_READ_NEED_MORE);
  CHECK_EQ_INT(nnrp_reader_next(&r, s + 1, n - 1, &used, &p, &f),
               NNRP_READ_PACKET);
  CHECK(p.body_raw.ptr == big1 + 72);
}

TEST(zero_copy_whole_packet) {
  uint8_t s[400];
  size_t a = mk_error(s, 20);
  size_t b = a + mk_flow(s + a, 0);
  size_t c = b + mk_ping(s + b, 3);
  nnrp_wire_opts o = strict();
  static uint8_t buf[512];
  nnrp_reader r;
  nnrp_reader_init(&r, &o, buf, sizeof buf);
  size_t used;
  nnrp_packet p;
  nnrp_fault f;
  /* Three packets in one chunk: one per call, each a view of the chunk. */
  CHECK_EQ_INT(nnrp_reader_next(&r, s, c, &used, &p, &f), NNRP_READ_PACKET);
  CHECK_EQ_U64(used, a);
  CHECK(p.meta_raw.ptr == s + 40);
  CHECK(p.b.diagnostic.ptr == s + 72);
  CHECK_EQ_INT(nnrp_reader_next(&r, s + a, c - a, &used, &p, &f),
               NNRP_READ_PACKET);
  CHECK_EQ_U64(used, b - a);
  CHECK(p.meta_raw.ptr == s + a + 40);
  CHECK_EQ_INT(p.m.flow_update.session_credit, 3);
  CHECK_EQ_INT(nnrp_reader_next(&r, s + b, c - b, &used, &p, &f),
               NNRP_READ_PACKET);
  CHECK_EQ_U64(used, c - b);
  CHECK_EQ_INT(p.hdr.msg_type, NNRP_MSG_PING);
  CHECK_EQ_INT(nnrp_reader_next(&r, s + c, 0, &used, &p, &f),
               NNRP_READ_NEED_MORE);

  /* After a packet assembled in the buffer, a whole one is zero-copy
   * again. */
  CHECK_EQ_INT(nnrp_reader_next(&r, s, 10, &used, &p, &f), NNRP_READ_NEED_MORE);
  CHECK_EQ_INT(nnrp_reader_next(&r, s + 10, c - 10, &used, &p, &f),
               NNRP_READ_PACKET);
  CHECK(p.b.diagnostic.ptr == buf + 72);
  CHECK_EQ_MEM(p.b.diagnostic.ptr, s + 72, 20);
  size_t off = 10 + used;
  CHECK_EQ_INT(nnrp_reader_next(&r, s + off, c - off, &used, &p, &f),
               NNRP_READ_PACKET);
  CHECK(p.meta_raw.ptr == s + off + 40);
}

/* A packet that fails validation is consumed; reading goes on. */
TEST(packet_error_consumes_packet) {
  uint8_t s[200];
  size_t a = mk_flow(s, 1); /* reserved0 = 1 */
  size_t b = a + mk_ping(s + a, 8);
  size_t c = b + mk_flow(s + b, 0);
  nnrp_wire_opts o = strict();
  for (size_t step = 0; step <= 40; step += (step < 3 ? 1 : 37)) {
    drv d;
    drv_init(&d, &o);
    drv_stream(&d, s, c, step);
    if (CHECK_EQ_INT(d.n, 3)) {
      CHECK_EQ_INT(d.ev[0].rc, NNRP_ERR_MALFORMED_BODY);
      CHECK_EQ_INT(d.ev[0].err, NNRP_ERR_MALFORMED_BODY);
      CHECK_EQ_INT(d.ev[0].hdr.msg_type, NNRP_MSG_FLOW_UPDATE);
      CHECK_EQ_U64(d.ev[0].hdr.session_id, 42);
      CHECK_EQ_INT(d.ev[1].rc, NNRP_READ_PACKET);
      CHECK_EQ_U64(d.ev[1].hdr.session_id, 8);
      CHECK_EQ_INT(d.ev[2].rc, NNRP_READ_PACKET);
      CHECK_EQ_MEM(d.ev[2].data, s + b + 40, 32);
    }
    CHECK_EQ_INT(d.r.failed, 0);
    CHECK_EQ_INT(nnrp_reader_at_boundary(&d.r), 1);
    drv_free(&d);
  }
  /* The exact consumed count in one chunk. */
  nnrp_reader r;
  nnrp_reader_init(&r, &o, NULL, 0);
  size_t used;
  nnrp_packet p;
  nnrp_fault f;
  CHECK_EQ_INT(nnrp_reader_next(&r, s, c, &used, &p, &f),
               NNRP_ERR_MALFORMED_BODY);
  CHECK_EQ_U64(used, a);
  CHECK_EQ_STR(f.field, "reserved0");
  /* Lenient mode ignores the reserved field. */
  nnrp_wire_opts l = strict();
  l.flags = NNRP_WIRE_LENIENT;
  nnrp_reader_init(&r, &l, NULL, 0);
  CHECK_EQ_INT(nnrp_reader_next(&r, s, c, &used, &p, &f), NNRP_READ_PACKET);
  CHECK_EQ_INT(p.m.flow_update.reserved0, 1);
  /* A truncated-in-place packet: meta_len wrong for the type. */
  uint8_t t[120];
  size_t n = mk_header(t, NNRP_MSG_RESULT_HINT, 20, 0, 1);
  memset(t + n, 0, 20);
  n += 20;
  n += mk_ping(t + n, 2);
  drv d;
  drv_init(&d, &o);
  drv_stream(&d, t, n, 0);
  if (CHECK_EQ_INT(d.n, 2)) {
    CHECK_EQ_INT(d.ev[0].rc, NNRP_ERR_MALFORMED_BODY);
    CHECK_EQ_INT(d.ev[1].rc, NNRP_READ_PACKET);
  }
  drv_free(&d);
}

TEST(eof_detection) {
  uint8_t s[200];
  size_t a = mk_flow(s, 0);
  size_t b = a + mk_error(s + a, 30);
  nnrp_wire_opts o = strict();
  nnrp_reader r;
  static uint8_t buf[256];
  nnrp_reader_init(&r, &o, buf, sizeof buf);
  CHECK_EQ_INT(nnrp_reader_at_boundary(&r), 1);
  size_t used, off = 0;
  nnrp_packet p;
  nnrp_fault f;
  /* Byte by byte: at a boundary exactly after each whole packet. */
  int packets = 0;
  while (off < b) {
    int rc = nnrp_reader_next(&r, s + off, 1, &used, &p, &f);
    CHECK(rc == NNRP_READ_NEED_MORE || rc == NNRP_READ_PACKET);
    CHECK_EQ_U64(used, 1);
    off += used;
    packets += rc == NNRP_READ_PACKET;
    int boundary = off == a || off == b;
    if (!CHECK_EQ_INT(nnrp_reader_at_boundary(&r), boundary))
      printf("  after %zu bytes\n", off);
  }
  CHECK_EQ_INT(packets, 2);
}

/* Feeding the same stream with every chunk size gives the same events. */
TEST(chunk_sizes_agree) {
  uint8_t s[600];
  size_t n = mk_flow(s, 0);
  n += mk_error(s + n, 77);
  n += mk_ping(s + n, 4);
  n += mk_flow(s + n, 1);
  n += mk_error(s + n, 0);
  nnrp_wire_opts o = strict();
  drv ref;
  drv_init(&ref, &o);
  drv_stream(&ref, s, n, 0);
  CHECK_EQ_INT(ref.n, 5);
  CHECK(ref.zero_copy > 0);
  for (size_t step = 1; step <= n; step++) {
    drv d;
    drv_init(&d, &o);
    drv_stream(&d, s, n, step);
    int same = d.n == ref.n;
    for (size_t i = 0; same && i < d.n; i++)
      same = d.ev[i].rc == ref.ev[i].rc && d.ev[i].err == ref.ev[i].err &&
             d.ev[i].len == ref.ev[i].len &&
             memcmp(d.ev[i].data, ref.ev[i].data, d.ev[i].len) == 0 &&
             memcmp(&d.ev[i].hdr.trace_id, &ref.ev[i].hdr.trace_id, 8) == 0;
    if (!CHECK(same))
      printf("  chunk size %zu\n", step);
    CHECK_EQ_INT(nnrp_reader_at_boundary(&d.r), 1);
    drv_free(&d);
  }
  drv_free(&ref);
}

int main(void) {
  RUN(need_more_is_not_an_error);
  RUN(header_only_packet_needs_no_buffer);
  RUN(header_faults_are_sticky);
  RUN(oversize_header_rejected_after_40_bytes);
  RUN(oversize_body_skipped);
  RUN(need_buffer_flow);
  RUN(zero_copy_whole_packet);
  RUN(packet_error_consumes_packet);
  RUN(eof_detection);
  RUN(chunk_sizes_agree);
  TEST_MAIN_END();
}
