/* SPDX-License-Identifier: Apache-2.0 */
/*
 * session_fuzz_common.h - what the session fuzz targets (fuzz_session_client.c
 * and fuzz_session_server.c) share: a counting allocator with failure
 * injection, the input layout, the invariants of any session, the writer that
 * strictly decodes every output packet, and the driving loop (fake clock,
 * expiry calls, chunked recv, application actions). Header-only because each
 * target is built alone (fuzz/CMakeLists.txt); every helper is used by both.
 */
#ifndef NNRP_SESSION_FUZZ_COMMON_H
#define NNRP_SESSION_FUZZ_COMMON_H

#include <nnrp/nnrp_session.h>

#include <stdlib.h>
#include <string.h>

#include "nnrp_fuzz.h"
#include "session/session_int.h"

#define FZ_CHECK(c)                                                            \
  do {                                                                         \
    if (!(c))                                                                  \
      abort();                                                                 \
  } while (0)

#define MS 1000000ull
#define SEC 1000000000ull
/* Output one received packet may add on top of max_output_bytes (ERROR,
 * SERVER_HELLO_ACK, RESULT_DROP + two RESULT_HINTs, ...). */
#define OUT_SLACK 4096u

/* ---- counting allocator -------------------------------------------------- */

/* Counts live blocks and bytes (mem.used must match) and fails allocation
 * number fail_at (0: none). Each block carries its size in a 16-byte
 * prefix. */
typedef struct fz_alloc {
  uint64_t live_bytes, live_blocks, seq, fail_at;
} fz_alloc;

static int fa_fail(fz_alloc *a) {
  a->seq++;
  return a->fail_at != 0 && a->seq == a->fail_at;
}

static void *fa_malloc(size_t n, void *u) {
  fz_alloc *a = u;
  if (fa_fail(a) || n > SIZE_MAX - 16)
    return NULL;
  unsigned char *p = malloc(n + 16);
  if (p == NULL)
    return NULL;
  memcpy(p, &n, sizeof(n));
  a->live_bytes += n;
  a->live_blocks++;
  return p + 16;
}

static void *fa_realloc(void *ptr, size_t n, void *u) {
  fz_alloc *a = u;
  if (ptr == NULL)
    return fa_malloc(n, u);
  if (fa_fail(a) || n > SIZE_MAX - 16)
    return NULL;
  unsigned char *base = (unsigned char *)ptr - 16;
  size_t old;
  memcpy(&old, base, sizeof(old));
  unsigned char *p = realloc(base, n + 16);
  if (p == NULL)
    return NULL;
  memcpy(p, &n, sizeof(n));
  a->live_bytes = a->live_bytes - old + n;
  return p + 16;
}

static void fa_free(void *ptr, void *u) {
  fz_alloc *a = u;
  if (ptr == NULL)
    return;
  unsigned char *base = (unsigned char *)ptr - 16;
  size_t old;
  memcpy(&old, base, sizeof(old));
  FZ_CHECK(a->live_blocks > 0 && a->live_bytes >= old);
  a->live_bytes -= old;
  a->live_blocks--;
  free(base);
}

/* ---- the input ----------------------------------------------------------- */

/* cfg0 cfg1 n, then n % 17 schedule entries of 3 bytes (a b c), then the
 * peer's byte stream. The bits of cfg0, b and c are the target's; cfg1 is
 * read by fz_settings(), fz_mem() and the target's end of session. */
typedef struct fz_input {
  uint8_t c0, c1;
  const uint8_t *sched; /* n entries of 3 bytes */
  size_t n;
  const uint8_t *in; /* the stream */
  size_t len;
} fz_input;

/* Returns 0 when the input is too short for the schedule it announces (it is
 * then skipped). */
static int fz_input_parse(fz_input *fi, const uint8_t *data, size_t size) {
  if (size < 3)
    return 0;
  fi->n = data[2] % 17u;
  if (size < 3 + 3 * fi->n)
    return 0;
  fi->c0 = data[0];
  fi->c1 = data[1];
  fi->sched = data + 3;
  fi->in = fi->sched + 3 * fi->n;
  fi->len = size - 3 - 3 * fi->n;
  return 1;
}

/* ---- the harness state --------------------------------------------------- */

typedef struct fz_core fz_core;

/* What a target plugs into the shared driver. A target's state struct has
 * an fz_core as its first member, so the hooks may convert back to it. */
typedef struct fz_hooks {
  /* Pulls every queued event (fz_pull_events) and checks the invariants. */
  void (*pull)(fz_core *z);
  /* One whole packet the session wrote, already strictly decoded. */
  void (*on_sent)(fz_core *z, const nnrp_packet *pk);
  /* The application submits what it may: after each step's expiry call and
   * after every recv() that did not fail. NULL: nothing. */
  void (*submit)(fz_core *z);
  /* A schedule step starts (the clock just moved). NULL: nothing. */
  void (*on_step)(fz_core *z, uint8_t b, uint8_t c);
  /* The application's action for schedule byte c. */
  void (*action)(fz_core *z, uint8_t c);
  /* The target's own invariants, checked by fz_check_state() with the
   * session's state st. NULL: none. */
  void (*check_state)(fz_core *z, int st);
  /* 1: after each flush, also check that consuming a byte more than was
   * queued is refused. */
  int check_overconsume;
} fz_hooks;

struct fz_core {
  nnrp_session *s;
  const fz_hooks *h;
  fz_alloc alloc;
  uint64_t now;
  int prev_state;
  int closed_seen;    /* NNRP_EV_CLOSED pulled */
  int handshake_seen; /* NNRP_EV_HANDSHAKE pulled */
  int fatal_sent;     /* a fatal / CONNECTION ERROR was written */
  /* output not yet parsed (whole packets are parsed as they complete) */
  uint8_t *obuf;
  size_t olen, ocap;
};

/* A zeroed target state of `size` bytes that starts with an fz_core, the
 * clock at 1 s. Freed by fz_core_free(). */
static void *fz_core_new(size_t size, const fz_hooks *h) {
  fz_core *z = calloc(1, size);
  FZ_CHECK(z != NULL);
  z->h = h;
  z->now = SEC;
  return z;
}

/* The end of an input (the session already deleted): it freed everything
 * it allocated. Frees the whole target state. */
static void fz_core_free(fz_core *z) {
  FZ_CHECK(z->alloc.live_blocks == 0 && z->alloc.live_bytes == 0);
  free(z->obuf);
  free(z);
}

/* Settings both targets share: cfg0 bit0 lenient, cfg1 bit1 4 tracked
 * frames, bit2 8 events; 1 MiB packets and bodies, 256 KiB of output, 4 MiB
 * of memory. */
static void fz_settings(nnrp_session_settings *st, uint8_t c0, uint8_t c1) {
  nnrp_session_settings_default(st);
  st->flags = (c0 & 1) ? NNRP_SESSION_LENIENT : 0;
  st->max_packet_bytes = 1u << 20;
  st->max_body_bytes = 1u << 20;
  st->max_tracked_frames = (c1 & 2) ? 4 : 64;
  st->max_events = (c1 & 4) ? 8 : 256;
  st->max_output_bytes = 256u << 10;
  st->max_memory_bytes = 4u << 20;
}

/* The session's allocator: cfg1 bits4-7 f fail allocation number 3f. */
static nnrp_mem fz_mem(fz_core *z, uint8_t c1) {
  z->alloc.fail_at = (uint64_t)(c1 >> 4) * 3;
  nnrp_mem mem = {&z->alloc, fa_malloc, fa_realloc, fa_free};
  return mem;
}

/* The session a *_new call made (rc), or NULL when it ran out of memory. */
static nnrp_session *fz_made(int rc, nnrp_session *s) {
  FZ_CHECK(rc == 0 || rc == NNRP_ERR_NOMEM);
  return rc == 0 ? s : NULL;
}

/* ---- invariants ---------------------------------------------------------- */

/* Memory accounting, bounded tables, states only moving forward, the
 * target's invariants, and pending_output describing exactly output_bytes. */
static void fz_check_state(fz_core *z) {
  nnrp_session *s = z->s;
  int st = (int)nnrp_session_get_state(s);
  FZ_CHECK(st >= z->prev_state); /* INIT -> ... -> CLOSED, never back */
  z->prev_state = st;
  FZ_CHECK(s->mem.limit == 0 || s->mem.used <= s->mem.limit);
  FZ_CHECK(s->mem.used == z->alloc.live_bytes);
  FZ_CHECK(nnrp_session_in_flight(s) <= s->frames.count);
  FZ_CHECK(s->frames.count <= s->frames.limit);
  FZ_CHECK(s->evq.count <= s->evq.limit);
  if (st == NNRP_STATE_CLOSED)
    FZ_CHECK(nnrp_session_in_flight(s) == 0);
  if (z->h->check_state)
    z->h->check_state(z, st);
  nnrp_iov iov[128];
  size_t n = nnrp_session_pending_output(s, iov, 128);
  uint64_t sum = 0;
  for (size_t i = 0; i < n; i++)
    sum += iov[i].len;
  if (n < 128)
    FZ_CHECK(sum == nnrp_session_output_bytes(s));
}

/* Pulls every queued event into on_event, after the checks every session
 * shares: nothing follows NNRP_EV_CLOSED but NNRP_EV_SENT (output queued
 * before the end may still be written, which releases its payloads), one
 * NNRP_EV_HANDSHAKE at most, CLOSED only in NNRP_STATE_CLOSED. */
static void fz_pull_events(fz_core *z,
                           void (*on_event)(fz_core *, const nnrp_event *)) {
  nnrp_event ev;
  int rc;
  while ((rc = nnrp_session_next_event(z->s, &ev)) == 1) {
    FZ_CHECK(!z->closed_seen || ev.type == NNRP_EV_SENT);
    if (ev.type == NNRP_EV_HANDSHAKE) {
      FZ_CHECK(!z->handshake_seen);
      z->handshake_seen = 1;
    } else if (ev.type == NNRP_EV_CLOSED) {
      z->closed_seen = 1;
      FZ_CHECK(nnrp_session_get_state(z->s) == NNRP_STATE_CLOSED);
    }
    on_event(z, &ev);
  }
  FZ_CHECK(rc == 0);
}

/* The return of a flow-control call: done, or refused for a reason the
 * schedule may cause (no memory, closed, not in the right state). */
static void fz_check_flow_rc(int64_t rc) {
  FZ_CHECK(rc >= 0 || rc == NNRP_ERR_NOMEM || rc == NNRP_ERR_CLOSED ||
           rc == NNRP_ERR_INVALID_STATE);
}

/* ---- output -------------------------------------------------------------- */

/* One packet the session wrote: strictly valid, nothing after a fatal
 * ERROR; then the target's checks. */
static void fz_check_sent(fz_core *z, const uint8_t *p, size_t len) {
  nnrp_wire_opts o;
  nnrp_wire_opts_default(&o);
  nnrp_packet pk;
  nnrp_fault f;
  FZ_CHECK(nnrp_packet_decode(&pk, p, len, &o, &f) == 0);
  FZ_CHECK(!z->fatal_sent); /* a fatal ERROR is the last packet */
  if (pk.hdr.msg_type == NNRP_MSG_ERROR &&
      (pk.m.error.is_fatal ||
       pk.m.error.error_scope == NNRP_ERROR_SCOPE_CONNECTION))
    z->fatal_sent = 1;
  z->h->on_sent(z, &pk);
}

static void fz_parse_output(fz_core *z) {
  size_t off = 0;
  while (z->olen - off >= NNRP_HEADER_LEN) {
    nnrp_header h;
    nnrp_wire_opts o;
    nnrp_wire_opts_default(&o);
    FZ_CHECK(nnrp_header_decode(&h, z->obuf + off, z->olen - off, &o, NULL) ==
             0);
    uint64_t total = NNRP_HEADER_LEN + (uint64_t)h.meta_len + h.body_len;
    if (z->olen - off < total)
      break;
    fz_check_sent(z, z->obuf + off, (size_t)total);
    off += (size_t)total;
  }
  memmove(z->obuf, z->obuf + off, z->olen - off);
  z->olen -= off;
}

/* Writes every queued byte, as a transport would, and checks it. */
static void fz_write_out(fz_core *z) {
  nnrp_iov iov[64];
  for (;;) {
    size_t n = nnrp_session_pending_output(z->s, iov, 64);
    if (n == 0)
      break;
    size_t total = 0;
    for (size_t i = 0; i < n; i++)
      total += iov[i].len;
    if (z->olen + total > z->ocap) {
      size_t cap = z->ocap ? z->ocap : 4096;
      while (cap < z->olen + total)
        cap *= 2;
      uint8_t *nb = realloc(z->obuf, cap);
      FZ_CHECK(nb != NULL);
      z->obuf = nb;
      z->ocap = cap;
    }
    for (size_t i = 0; i < n; i++) {
      memcpy(z->obuf + z->olen, iov[i].base, iov[i].len);
      z->olen += iov[i].len;
    }
    FZ_CHECK(nnrp_session_output_consumed(z->s, total, z->now) == 0);
    fz_parse_output(z);
  }
}

/* Writes everything, pulling the events that writing raises (NNRP_EV_SENT)
 * and writing what handling them queued, until nothing is left. */
static void fz_flush(fz_core *z) {
  do {
    fz_write_out(z);
    z->h->pull(z);
  } while (nnrp_session_output_bytes(z->s) != 0);
  if (z->h->check_overconsume)
    FZ_CHECK(nnrp_session_output_consumed(z->s, 1, z->now) ==
             NNRP_ERR_INVALID_ARGUMENT);
}

/* ---- driving ------------------------------------------------------------- */

/* Schedule byte b bits0-2. */
static const uint64_t fz_clock_steps[8] = {
    0, MS, 20 * MS, 100 * MS, 1 * SEC, 2500 * MS, 10500 * MS, 31 * SEC};

/* Schedule byte a: 0 the rest, 1-191 bytes, 192+ (a-191)*256 bytes. */
static size_t fz_chunk_of(uint8_t a, size_t left) {
  size_t n = a == 0 ? left : a < 192 ? a : (size_t)(a - 191) * 256;
  return n < left ? n : left;
}

/* Feeds one chunk; every byte is eventually taken once events are pulled
 * and output is written (unread: output is left queued while the session
 * keeps taking input). */
static void fz_feed(fz_core *z, const uint8_t *in, size_t len, int unread) {
  size_t off = 0;
  int stalls = 0;
  while (off < len) {
    uint64_t before = nnrp_session_output_bytes(z->s);
    int was_closed = nnrp_session_get_state(z->s) == NNRP_STATE_CLOSED;
    int64_t rc = nnrp_session_recv(z->s, in + off, len - off, z->now);
    FZ_CHECK(rc <= (int64_t)(len - off));
    uint64_t after = nnrp_session_output_bytes(z->s);
    uint64_t cap = z->s->st.max_output_bytes;
    FZ_CHECK(after <= (before > cap ? before : cap) + OUT_SLACK);
    if (was_closed)
      FZ_CHECK(rc == (int64_t)(len - off) && after == before);
    if (rc < 0) {
      FZ_CHECK(nnrp_session_get_state(z->s) == NNRP_STATE_CLOSED);
      FZ_CHECK(rc <= NNRP_ERR_FATAL_THRESHOLD);
      z->h->pull(z);
      fz_flush(z);
      return;
    }
    off += (size_t)rc;
    z->h->pull(z);
    if (z->h->submit)
      z->h->submit(z); /* before the flush: its output goes out too */
    if (!unread || rc == 0)
      fz_flush(z);
    if (rc == 0) {
      /* Events pulled and output written: the session must take input. */
      FZ_CHECK(++stalls < 2);
    } else {
      stalls = 0;
    }
  }
}

/* Calls handle_expiry when the timer is due (or always when forced). */
static void fz_run_expiry(fz_core *z, int forced) {
  if (!forced && z->now < nnrp_session_get_expiry(z->s))
    return;
  int rc = nnrp_session_handle_expiry(z->s, z->now);
  FZ_CHECK(rc == 0 || rc <= NNRP_ERR_FATAL_THRESHOLD);
  if (rc != 0)
    FZ_CHECK(nnrp_session_get_state(z->s) == NNRP_STATE_CLOSED);
  z->h->pull(z);
}

/* Runs the schedule over the stream, one step per entry (cyclically):
 * b bits0-2 clock step, bit5 forced expiry call, bit6 output left unread;
 * a the chunk fed; c the application action. */
static void fz_drive(fz_core *z, const fz_input *fi) {
  size_t off = 0;
  for (size_t step = 0; off < fi->len && step < 100000; step++) {
    const uint8_t *e = fi->n ? fi->sched + 3 * (step % fi->n) : NULL;
    uint8_t a = e ? e[0] : 0, b = e ? e[1] : 0, c = e ? e[2] : 0;
    z->now += fz_clock_steps[b & 7];
    if (z->h->on_step)
      z->h->on_step(z, b, c);
    fz_run_expiry(z, (b & 0x20) != 0);
    if (z->h->submit)
      z->h->submit(z);
    size_t k = fz_chunk_of(a, fi->len - off);
    fz_feed(z, fi->in + off, k, (b & 0x40) != 0);
    off += k;
    z->h->action(z, c);
    if (!(b & 0x40))
      fz_flush(z);
  }
}

/* Pulls and writes everything (before and after the end of a session). */
static void fz_settle(fz_core *z) {
  z->h->pull(z);
  fz_flush(z);
}

/* After a close: writes the CLOSE, waits out the drain timeout. */
static void fz_drain(fz_core *z) {
  fz_settle(z);
  z->now += z->s->st.drain_timeout_ns + 1;
  fz_run_expiry(z, 1);
}

/* The session ended: CLOSED, reported, no timer left, and the output ended
 * on a packet boundary. */
static void fz_check_end(fz_core *z) {
  fz_settle(z);
  FZ_CHECK(nnrp_session_get_state(z->s) == NNRP_STATE_CLOSED);
  FZ_CHECK(z->closed_seen);
  FZ_CHECK(nnrp_session_get_expiry(z->s) == UINT64_MAX);
  FZ_CHECK(z->olen == 0);
}

#endif /* NNRP_SESSION_FUZZ_COMMON_H */
