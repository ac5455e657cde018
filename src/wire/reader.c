/* SPDX-License-Identifier: Apache-2.0 */
/*
 * reader.c - streaming packet reassembly for byte streams (TCP, QUIC
 * streams), session.md §2.1 rule 4 and wire.md §15 steps 1-9: the header is
 * validated as soon as 40 bytes are in, before any body byte is buffered;
 * oversize bodies are skipped without buffering; whole packets inside one
 * input chunk are decoded in place (no copy). The reader never allocates:
 * the caller supplies the assembly buffer (NNRP_READ_NEED_BUFFER).
 */
#include <string.h>

#include "wire_int.h"

enum { ST_HEADER = 0, ST_NEED_BUFFER = 1, ST_BODY = 2, ST_SKIP = 3 };

void nnrp_reader_init(nnrp_reader *r, const nnrp_wire_opts *opts, uint8_t *buf,
                      size_t cap) {
  memset(r, 0, sizeof(*r));
  if (opts)
    r->opts = *opts;
  else
    nnrp_wire_opts_default(&r->opts);
  r->buf = buf;
  r->buf_cap = buf ? cap : 0;
  r->state = ST_HEADER;
}

size_t nnrp_reader_need(const nnrp_reader *r) { return (size_t)r->need; }

int nnrp_reader_at_boundary(const nnrp_reader *r) {
  return r->state == ST_HEADER && r->hdr_have == 0;
}

int nnrp_reader_set_buffer(nnrp_reader *r, uint8_t *buf, size_t cap) {
  if (buf == NULL || cap < r->need)
    return NNRP_ERR_BUFFER_TOO_SMALL;
  if (r->state == ST_BODY && r->buf != buf && r->have > 0)
    memmove(buf, r->buf, r->have);
  r->buf = buf;
  r->buf_cap = cap;
  return 0;
}

void nnrp_reader_set_raw(nnrp_reader *r, int raw) { r->raw = raw != 0; }

/* A whole packet is in [pkt, pkt + r->need): decode it, reset the state. */
static int finish(nnrp_reader *r, const uint8_t *pkt, nnrp_packet *out,
                  nnrp_fault *f) {
  size_t rest = (size_t)r->need - NNRP_HEADER_LEN;
  r->state = ST_HEADER;
  r->hdr_have = 0;
  r->have = 0;
  r->need = 0;
  if (r->raw) {
    /* Step 9 still belongs to the reader (it never buffers such bodies). */
    out->hdr = r->hdr;
    out->meta_raw.ptr = pkt + NNRP_HEADER_LEN;
    out->meta_raw.len = r->hdr.meta_len;
    out->body_raw.ptr = pkt + NNRP_HEADER_LEN + r->hdr.meta_len;
    out->body_raw.len = r->hdr.body_len;
    return NNRP_READ_PACKET;
  }
  int rc = nnrp_packet_decode_rest(out, &r->hdr, pkt + NNRP_HEADER_LEN, rest,
                                   &r->opts, f);
  return rc == 0 ? NNRP_READ_PACKET : rc;
}

/* The header is complete in hdr (bytes at raw): validate, then choose the
 * path. Returns < 0 on a (sticky) header fault, else a state hint. */
static int on_header(nnrp_reader *r, const uint8_t *raw, nnrp_packet *out,
                     nnrp_fault *f) {
  int rc = nnrp_header_decode(&r->hdr, raw, NNRP_HEADER_LEN, &r->opts, f);
  out->hdr = r->hdr;
  if (rc != 0) {
    r->failed = 1; /* D18: the stream cannot resynchronise */
    return rc;
  }
  r->need = (uint64_t)NNRP_HEADER_LEN + r->hdr.meta_len + r->hdr.body_len;
  if (r->hdr.body_len > r->opts.max_body_bytes) {
    /* Step 9: read and discard, never buffer. */
    r->skip = r->need;
    r->state = ST_SKIP;
    nnrp__fail(f, NNRP_ERR_BODY_TOO_LARGE, 16, "wire.md §15 step 9",
               "body_len");
    return NNRP_READ_SKIPPED;
  }
  return 0;
}

int nnrp_reader_next(nnrp_reader *r, const uint8_t *in, size_t len,
                     size_t *consumed, nnrp_packet *out, nnrp_fault *f) {
  size_t used = 0;
  *consumed = 0;
  if (r->failed)
    return nnrp__fail(f, NNRP_ERR_FATAL_PROTOCOL, 0, "wire.md §16 D18",
                      "stream");
  for (;;) {
    size_t avail = len - used;
    switch (r->state) {
    case ST_SKIP: {
      size_t n = (uint64_t)avail < r->skip ? avail : (size_t)r->skip;
      r->skip -= n;
      used += n;
      if (r->skip == 0) {
        r->state = ST_HEADER;
        r->hdr_have = 0;
        r->need = 0;
      }
      if (r->skip > 0 || used == len) {
        *consumed = used;
        return NNRP_READ_NEED_MORE;
      }
      continue;
    }
    case ST_HEADER: {
      if (r->hdr_have == 0 && avail >= NNRP_HEADER_LEN) {
        /* Fast path: the header is in the caller's chunk. */
        int rc = on_header(r, in + used, out, f);
        if (rc < 0) {
          *consumed = used;
          return rc;
        }
        if (rc == NNRP_READ_SKIPPED) {
          size_t n = avail < r->skip ? avail : (size_t)r->skip;
          r->skip -= n;
          *consumed = used + n;
          if (r->skip == 0)
            r->state = ST_HEADER, r->need = 0;
          return NNRP_READ_SKIPPED;
        }
        if ((uint64_t)avail >= r->need) {
          /* Whole packet in the chunk: decode in place, zero copy. */
          *consumed = used + (size_t)r->need;
          return finish(r, in + used, out, f);
        }
        memcpy(r->hdr_buf, in + used, NNRP_HEADER_LEN);
        r->hdr_have = NNRP_HEADER_LEN;
        used += NNRP_HEADER_LEN;
        r->state = ST_NEED_BUFFER;
        continue;
      }
      size_t n = NNRP_HEADER_LEN - r->hdr_have;
      if (n > avail)
        n = avail;
      if (n > 0)
        memcpy(r->hdr_buf + r->hdr_have, in + used, n);
      r->hdr_have += n;
      used += n;
      if (r->hdr_have < NNRP_HEADER_LEN) {
        *consumed = used;
        return NNRP_READ_NEED_MORE;
      }
      int rc = on_header(r, r->hdr_buf, out, f);
      if (rc < 0) {
        *consumed = used;
        return rc;
      }
      if (rc == NNRP_READ_SKIPPED) {
        r->skip -= NNRP_HEADER_LEN;
        if (r->skip == 0)
          r->state = ST_HEADER, r->hdr_have = 0, r->need = 0;
        *consumed = used;
        return NNRP_READ_SKIPPED;
      }
      if (r->need == NNRP_HEADER_LEN) {
        /* Header-only packet (PING, CLOSE, ...): complete, no buffer. */
        *consumed = used;
        return finish(r, r->hdr_buf, out, f);
      }
      r->state = ST_NEED_BUFFER;
      continue;
    }
    case ST_NEED_BUFFER:
      if (r->buf == NULL || r->buf_cap < r->need) {
        *consumed = used;
        return NNRP_READ_NEED_BUFFER;
      }
      memcpy(r->buf, r->hdr_buf, NNRP_HEADER_LEN);
      r->have = NNRP_HEADER_LEN;
      r->state = ST_BODY;
      continue;
    case ST_BODY: {
      size_t want = (size_t)r->need - r->have;
      size_t n = want < avail ? want : avail;
      if (n > 0)
        memcpy(r->buf + r->have, in + used, n);
      r->have += n;
      used += n;
      *consumed = used;
      if (r->have < r->need)
        return NNRP_READ_NEED_MORE;
      return finish(r, r->buf, out, f);
    }
    default:
      return nnrp__fail(f, NNRP_ERR_INTERNAL, 0, "reader", "state");
    }
  }
}
