/* SPDX-License-Identifier: Apache-2.0 */
/*
 * session_pair.c - in-memory client/server pair for session tests.
 */
#include "session_pair.h"

#include <stdlib.h>
#include <string.h>

#define NS_PER_S 1000000000ull

int nnrp_pair_init(nnrp_pair *p, const nnrp_client_profile *cp,
                   const nnrp_server_profile *sp,
                   const nnrp_session_settings *cs,
                   const nnrp_session_settings *ss) {
  return nnrp_pair_init_mem(p, cp, sp, cs, ss, NULL, NULL);
}

int nnrp_pair_init_mem(nnrp_pair *p, const nnrp_client_profile *cp,
                       const nnrp_server_profile *sp,
                       const nnrp_session_settings *cs,
                       const nnrp_session_settings *ss, const nnrp_mem *cmem,
                       const nnrp_mem *smem) {
  memset(p, 0, sizeof(*p));
  p->now = NS_PER_S;
  nnrp_client_profile cdef;
  nnrp_server_profile sdef;
  if (cp == NULL) {
    nnrp_client_profile_default(&cdef);
    cp = &cdef;
  }
  if (sp == NULL) {
    nnrp_server_profile_default(&sdef);
    sp = &sdef;
  }
  p->log = calloc(NNRP_PAIR_LOG_MAX, sizeof(*p->log));
  if (p->log == NULL)
    return NNRP_ERR_NOMEM;
  int rc = nnrp_session_client_new(&p->side[0], cp, cs, cmem);
  if (rc == 0)
    rc = nnrp_session_server_new(&p->side[1], sp, ss, smem);
  return rc;
}

void nnrp_pair_free(nnrp_pair *p) {
  nnrp_session_del(p->side[0]);
  nnrp_session_del(p->side[1]);
  free(p->tap[0]);
  free(p->tap[1]);
  free(p->log);
  memset(p, 0, sizeof(*p));
}

static void record(nnrp_pair *p, int side, const nnrp_event *ev) {
  if (p->nlog >= NNRP_PAIR_LOG_MAX)
    return;
  nnrp_pair_log *l = &p->log[p->nlog++];
  l->side = side;
  l->type = ev->type;
  l->frame_id = ev->frame_id;
  l->final = ev->final;
  l->msg_type = ev->packet ? ev->packet->hdr.msg_type : 0;
  l->error_code = ev->error.error_code;
  l->error_scope = ev->error.error_scope;
  l->lib_err = ev->error.lib_err;
  l->is_fatal = ev->error.is_fatal;
  l->local = ev->error.local;
  l->received_at = ev->received_at;
}

static void drain_events(nnrp_pair *p, int side) {
  nnrp_event ev;
  while (nnrp_session_next_event(p->side[side], &ev) == 1) {
    record(p, side, &ev);
    if (p->cb)
      p->cb(p, side, &ev, p->user);
  }
}

static void tap_append(nnrp_pair *p, int side, const uint8_t *b, size_t n) {
  if (p->tap_len[side] + n > p->tap_cap[side]) {
    size_t cap = p->tap_cap[side] ? p->tap_cap[side] : 4096;
    while (cap < p->tap_len[side] + n)
      cap *= 2;
    uint8_t *nt = realloc(p->tap[side], cap);
    if (nt == NULL)
      abort();
    p->tap[side] = nt;
    p->tap_cap[side] = cap;
  }
  memcpy(p->tap[side] + p->tap_len[side], b, n);
  p->tap_len[side] += n;
}

/* Feeds bytes into a side, honouring early returns. */
static int64_t feed(nnrp_pair *p, int side, const uint8_t *b, size_t n) {
  size_t used = 0;
  int stalls = 0;
  while (used < n) {
    size_t len = n - used;
    if (p->chunk && len > p->chunk)
      len = p->chunk;
    int64_t rc = nnrp_session_recv(p->side[side], b + used, len, p->now);
    if (rc < 0) {
      p->recv_err[side] = rc;
      drain_events(p, side);
      return rc;
    }
    used += (size_t)rc;
    drain_events(p, side);
    if (rc == 0 && ++stalls > 1000)
      break; /* blocked on output: the caller pumps the other way */
  }
  return (int64_t)used;
}

/* Moves one side's pending output to the other side. */
static int64_t move(nnrp_pair *p, int from) {
  nnrp_iov iov[64];
  size_t n = nnrp_session_pending_output(p->side[from], iov, 64);
  if (n == 0)
    return 0;
  size_t total = 0;
  for (size_t i = 0; i < n; i++)
    total += iov[i].len;
  uint8_t *buf = malloc(total ? total : 1);
  if (buf == NULL)
    abort();
  size_t off = 0;
  for (size_t i = 0; i < n; i++) {
    memcpy(buf + off, iov[i].base, iov[i].len);
    off += iov[i].len;
  }
  int crc = nnrp_session_output_consumed(p->side[from], total, p->now);
  if (crc != 0 && p->consume_err[from] == 0)
    p->consume_err[from] = crc;
  drain_events(p, from); /* SENT events */
  tap_append(p, from, buf, total);
  int64_t rc = (int64_t)total;
  if (!p->cut[from]) {
    int64_t r = feed(p, 1 - from, buf, total);
    if (r < 0)
      rc = r;
  }
  free(buf);
  return rc;
}

int64_t nnrp_pair_pump(nnrp_pair *p) {
  int64_t moved = 0;
  for (int round = 0; round < 100000; round++) {
    drain_events(p, 0);
    drain_events(p, 1);
    int64_t a = move(p, 0);
    int64_t b = move(p, 1);
    if (a < 0)
      return a;
    if (b < 0)
      return b;
    moved += a + b;
    if (a == 0 && b == 0)
      break;
  }
  return moved;
}

void nnrp_pair_advance(nnrp_pair *p, uint64_t ns) {
  p->now += ns;
  (void)nnrp_session_handle_expiry(p->side[0], p->now);
  (void)nnrp_session_handle_expiry(p->side[1], p->now);
  (void)nnrp_pair_pump(p);
}

int nnrp_pair_handshake(nnrp_pair *p) {
  int rc = nnrp_session_connect(p->side[0], p->now);
  if (rc != 0)
    return rc;
  int64_t m = nnrp_pair_pump(p);
  if (m < 0)
    return (int)m;
  if (nnrp_session_get_state(p->side[0]) != NNRP_STATE_ACTIVE ||
      nnrp_session_get_state(p->side[1]) != NNRP_STATE_ACTIVE)
    return NNRP_ERR_INVALID_STATE;
  return 0;
}

int64_t nnrp_pair_inject(nnrp_pair *p, int to_side, const uint8_t *bytes,
                         size_t len) {
  int64_t rc = feed(p, to_side, bytes, len);
  (void)nnrp_pair_pump(p); /* flush what the side answered, even an ERROR */
  return rc;
}

size_t nnrp_pair_count(const nnrp_pair *p, int side, nnrp_event_type type,
                       uint32_t frame_id) {
  size_t n = 0;
  for (size_t i = 0; i < p->nlog; i++)
    if (p->log[i].side == side && p->log[i].type == type &&
        (frame_id == 0 || p->log[i].frame_id == frame_id))
      n++;
  return n;
}

size_t nnrp_pair_events(const nnrp_pair *p, int side) {
  size_t n = 0;
  for (size_t i = 0; i < p->nlog; i++)
    if (p->log[i].side == side)
      n++;
  return n;
}

const nnrp_pair_log *nnrp_pair_event(const nnrp_pair *p, int side, size_t n) {
  for (size_t i = 0; i < p->nlog; i++)
    if (p->log[i].side == side && n-- == 0)
      return &p->log[i];
  return NULL;
}

static void lenient_opts(nnrp_wire_opts *o) {
  nnrp_wire_opts_default(o);
  o->flags = NNRP_WIRE_LENIENT;
}

/* Walks the tap of a side packet by packet with the (lenient) header
 * decoder: the whole packet at *off, whose header goes to *h; advances
 * *off. Returns 0 at the end, at a partial packet or at bytes that do not
 * decode. */
static int tap_next(const nnrp_pair *p, int side, size_t *off, nnrp_header *h,
                    const uint8_t **bytes, size_t *total) {
  const uint8_t *b = p->tap[side];
  size_t len = p->tap_len[side];
  if (*off + NNRP_HEADER_LEN > len)
    return 0;
  nnrp_wire_opts o;
  lenient_opts(&o);
  if (nnrp_header_decode(h, b + *off, len - *off, &o, NULL) != 0)
    return 0;
  size_t n = NNRP_HEADER_LEN + (size_t)h->meta_len + h->body_len;
  if (*off + n > len)
    return 0;
  *bytes = b + *off;
  *total = n;
  *off += n;
  return 1;
}

int nnrp_pair_sent(nnrp_pair *p, int from_side, uint8_t msg_type, size_t n,
                   nnrp_packet *out) {
  size_t off = 0, seen = 0, total;
  nnrp_header h;
  const uint8_t *b;
  while (tap_next(p, from_side, &off, &h, &b, &total)) {
    if (h.msg_type == msg_type && seen++ == n) {
      nnrp_wire_opts o;
      lenient_opts(&o);
      return nnrp_packet_decode(out, b, total, &o, NULL) == 0;
    }
  }
  return 0;
}

size_t nnrp_pair_sent_count(nnrp_pair *p, int from_side, uint8_t msg_type) {
  size_t n = 0;
  nnrp_packet pk;
  while (nnrp_pair_sent(p, from_side, msg_type, n, &pk))
    n++;
  return n;
}

int nnrp_pair_packet(const nnrp_pair *p, int from_side, size_t n,
                     const uint8_t **bytes, size_t *len) {
  size_t off = 0, total;
  nnrp_header h;
  const uint8_t *b;
  for (size_t seen = 0; tap_next(p, from_side, &off, &h, &b, &total); seen++) {
    if (seen == n) {
      *bytes = b;
      *len = total;
      return 1;
    }
  }
  return 0;
}

size_t nnrp_pair_packet_count(const nnrp_pair *p, int from_side) {
  size_t off = 0, n = 0, len;
  nnrp_header h;
  const uint8_t *b;
  while (tap_next(p, from_side, &off, &h, &b, &len))
    n++;
  return n;
}
