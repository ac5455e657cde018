/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fuzz_session_client.c - libFuzzer target: a connected client session
 * (session.md §3.8, §5-§8) fed arbitrary server bytes in input-chosen
 * chunks, submitting frames whenever nnrp_session_can_submit() allows, with
 * a fake clock, expiry calls and cancel/discard/close/ping in between.
 * Checks the invariants after every call and, once the session is CLOSED,
 * that every submitted frame got exactly one terminal event (D15). Aborts
 * on a violation.
 *
 * Input: cfg0 cfg1 n (n % 17 schedule entries of 3 bytes) stream...
 *   cfg0 bit0 lenient, bit1 odd frames stream (D14), bit2 deadline 200 ms,
 *        bit3 latency budget 50 ms, bits4-5 submits per step {64,1,2,0},
 *        bit6 max_output_bytes 1 KiB, bit7 loss tolerance extension
 *   cfg1 bit0 end with EOF (else close + drain), bit1 4 tracked frames,
 *        bit2 8 events, bits4-7 f: fail allocation number 3f (0: none)
 *   entry a: chunk (0 rest, 1-191 bytes, 192+ (a-191)*256 bytes)
 *   entry b: bits0-2 clock step, bit5 forced expiry call, bit6 output unread
 *   entry c: bits0-2 action (cancel/discard oldest, close, ping, discard/
 *            cancel newest, submit with a used frame id), bits5-7 flow
 *            call (pause/resume submits, auto-pause on/off, FLOW_UPDATE)
 */
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
#define OUT_SLACK 4096u
#define MAXF 4096u /* frames submitted per input at most */

enum { F_NONE = 0, F_LIVE, F_DONE, F_DISCARDED };

/* ---- counting allocator -------------------------------------------------- */

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

/* ---- the harness state --------------------------------------------------- */

typedef struct fz {
  nnrp_session *s;
  fz_alloc alloc;
  uint64_t now;
  uint8_t c0;
  int prev_state;
  int closed_seen, handshake_seen;
  int fatal_sent, close_sent; /* seen in the written output */
  uint32_t next_id;           /* frames 1..next_id-1 were submitted */
  uint32_t live;              /* frames in F_LIVE */
  uint8_t fst[MAXF + 1];      /* F_* per frame id; &fst[id] = user_data */
  uint8_t stream[MAXF + 1];
  uint8_t sent[MAXF + 1]; /* NNRP_EV_SENT seen */
  uint8_t *obuf;
  size_t olen, ocap;
  /* the submitted tile (payloads stay referenced until NNRP_EV_SENT) */
  uint8_t tile_bytes[4];
  nnrp_bytes tile;
  uint16_t tile_id;
  nnrp_section_data sec;
  nnrp_tensor_data tensor;
} fz;

static uint32_t frame_of(const fz *z, const void *user_data) {
  const uint8_t *p = user_data;
  FZ_CHECK(p >= &z->fst[1] && p <= &z->fst[MAXF]);
  return (uint32_t)(p - z->fst);
}

/* ---- invariants ---------------------------------------------------------- */

static void check_state(fz *z) {
  nnrp_session *s = z->s;
  int st = (int)nnrp_session_get_state(s);
  FZ_CHECK(st >= z->prev_state);
  z->prev_state = st;
  FZ_CHECK(s->mem.limit == 0 || s->mem.used <= s->mem.limit);
  FZ_CHECK(s->mem.used == z->alloc.live_bytes);
  FZ_CHECK(nnrp_session_in_flight(s) <= s->frames.count);
  FZ_CHECK(s->frames.count <= s->frames.limit);
  FZ_CHECK(s->evq.count <= s->evq.limit);
  if (st == NNRP_STATE_CLOSED) {
    FZ_CHECK(nnrp_session_in_flight(s) == 0);
    FZ_CHECK(nnrp_session_can_submit(s) == 0);
  }
  if (st != NNRP_STATE_ACTIVE)
    FZ_CHECK(nnrp_session_can_submit(s) == 0);
  FZ_CHECK(nnrp_session_can_submit(s) == (nnrp_session_submit_blocked(s) == 0));
  nnrp_iov iov[128];
  size_t n = nnrp_session_pending_output(s, iov, 128);
  uint64_t sum = 0;
  for (size_t i = 0; i < n; i++)
    sum += iov[i].len;
  if (n < 128)
    FZ_CHECK(sum == nnrp_session_output_bytes(s));
}

static void check_sent(fz *z, const uint8_t *p, size_t len) {
  nnrp_wire_opts o;
  nnrp_wire_opts_default(&o);
  nnrp_packet pk;
  nnrp_fault f;
  FZ_CHECK(nnrp_packet_decode(&pk, p, len, &o, &f) == 0);
  FZ_CHECK(!z->fatal_sent); /* a fatal ERROR is the last packet */
  uint8_t t = pk.hdr.msg_type;
  uint32_t id = pk.hdr.frame_id;
  switch (t) {
  case NNRP_MSG_ERROR:
    if (pk.m.error.is_fatal ||
        pk.m.error.error_scope == NNRP_ERROR_SCOPE_CONNECTION)
      z->fatal_sent = 1;
    break;
  case NNRP_MSG_CLOSE:
    z->close_sent = 1;
    break;
  case NNRP_MSG_FRAME_SUBMIT:
    FZ_CHECK(!z->close_sent); /* no new frames once draining */
    FZ_CHECK(pk.hdr.session_id != 0 &&
             pk.hdr.session_id == nnrp_session_id(z->s));
    FZ_CHECK(id >= 1 && id < z->next_id && z->fst[id] != F_NONE);
    break;
  case NNRP_MSG_FRAME_CANCEL:
    FZ_CHECK(id >= 1 && id < z->next_id && z->fst[id] != F_NONE);
    break;
  case NNRP_MSG_CLIENT_HELLO:
  case NNRP_MSG_PING:
  case NNRP_MSG_PONG:
  case NNRP_MSG_TRANSPORT_PROBE_ACK:
  case NNRP_MSG_FLOW_UPDATE:
  case NNRP_MSG_SESSION_PATCH:
  case NNRP_MSG_CACHE_PUT:
  case NNRP_MSG_CACHE_INVALIDATE:
    break;
  default:
    abort(); /* a server-only message */
  }
}

static void parse_output(fz *z) {
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
    check_sent(z, z->obuf + off, (size_t)total);
    off += (size_t)total;
  }
  memmove(z->obuf, z->obuf + off, z->olen - off);
  z->olen -= off;
}

static void write_out(fz *z) {
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
    parse_output(z);
  }
}

static void pull(fz *z);

/* Writes everything and pulls the events that writing raises
 * (NNRP_EV_SENT). */
static void flush(fz *z) {
  do {
    write_out(z);
    pull(z);
  } while (nnrp_session_output_bytes(z->s) != 0);
}

/* ---- events -------------------------------------------------------------- */

/* A terminal event for id: exactly one per submitted frame. */
static void terminal(fz *z, uint32_t id) {
  FZ_CHECK(id >= 1 && id < z->next_id);
  FZ_CHECK(z->fst[id] == F_LIVE);
  z->fst[id] = F_DONE;
  z->live--;
}

static void on_frame_event(fz *z, const nnrp_event *ev) {
  uint32_t id = ev->frame_id;
  FZ_CHECK(frame_of(z, ev->user_data) == id);
  switch (ev->type) {
  case NNRP_EV_RESULT:
    FZ_CHECK(ev->packet != NULL && ev->packet->hdr.frame_id == id);
    FZ_CHECK(ev->packet->hdr.msg_type == NNRP_MSG_RESULT_PUSH);
    FZ_CHECK(z->fst[id] == F_LIVE);
    if (!z->stream[id])
      FZ_CHECK(ev->final); /* the first push ends a normal frame */
    if (ev->final)
      terminal(z, id);
    break;
  case NNRP_EV_DROP:
    FZ_CHECK(ev->final && ev->packet != NULL &&
             ev->packet->hdr.msg_type == NNRP_MSG_RESULT_DROP);
    terminal(z, id);
    break;
  default: /* NNRP_EV_FRAME_FAILED */
    FZ_CHECK(ev->error.error_code != 0 || ev->error.lib_err != 0);
    terminal(z, id);
    break;
  }
}

static void on_event(fz *z, const nnrp_event *ev) {
  /* Nothing follows NNRP_EV_CLOSED but NNRP_EV_SENT: output queued before
   * the end may still be written, which releases its payloads. */
  FZ_CHECK(!z->closed_seen || ev->type == NNRP_EV_SENT);
  switch (ev->type) {
  case NNRP_EV_HANDSHAKE:
    FZ_CHECK(!z->handshake_seen);
    z->handshake_seen = 1;
    FZ_CHECK(ev->packet &&
             ev->packet->hdr.msg_type == NNRP_MSG_SERVER_HELLO_ACK);
    FZ_CHECK(nnrp_session_server_hello(z->s) != NULL);
    break;
  case NNRP_EV_RESULT:
  case NNRP_EV_DROP:
  case NNRP_EV_FRAME_FAILED:
    on_frame_event(z, ev);
    break;
  case NNRP_EV_SENT: {
    uint32_t id = frame_of(z, ev->user_data);
    FZ_CHECK(id == ev->frame_id && z->fst[id] != F_NONE && !z->sent[id]);
    z->sent[id] = 1;
    break;
  }
  case NNRP_EV_CLOSED:
    z->closed_seen = 1;
    FZ_CHECK(nnrp_session_get_state(z->s) == NNRP_STATE_CLOSED);
    FZ_CHECK(z->live == 0); /* every frame failed before CLOSED */
    break;
  case NNRP_EV_SUBMIT:
  case NNRP_EV_CANCELLED:
    abort(); /* server-only events */
  default:
    break;
  }
}

static void pull(fz *z) {
  nnrp_event ev;
  int rc;
  while ((rc = nnrp_session_next_event(z->s, &ev)) == 1)
    on_event(z, &ev);
  FZ_CHECK(rc == 0);
  check_state(z);
  FZ_CHECK(nnrp_session_in_flight(z->s) == z->live);
}

/* ---- application --------------------------------------------------------- */

static void make_submit(fz *z, nnrp_submit *r, uint32_t id) {
  z->tile.ptr = z->tile_bytes;
  z->tile.len = sizeof(z->tile_bytes);
  memset(&z->sec, 0, sizeof(z->sec));
  z->sec.role_id = 1;
  z->sec.dtype_id = NNRP_DTYPE_UINT8;
  z->sec.tiles = &z->tile;
  memset(&z->tensor, 0, sizeof(z->tensor));
  z->tensor.tile_index_mode = NNRP_TILE_INDEX_RAW_U16;
  z->tensor.tile_ids = &z->tile_id;
  z->tensor.tile_count = 1;
  z->tensor.sections = &z->sec;
  z->tensor.section_count = 1;
  memset(r, 0, sizeof(*r));
  r->meta.src_width = 32;
  r->meta.src_height = 32;
  r->meta.tile_width = 32;
  r->meta.tile_height = 32;
  r->meta.loss_tolerance_policy = NNRP_LOSS_TOLERANCE_INHERIT;
  r->meta.budget_policy = (uint8_t)(id & NNRP_BUDGET_KNOWN_MASK);
  r->meta.latency_budget_ms = (z->c0 & 8) ? 50 : 0;
  r->deadline = (z->c0 & 4) ? z->now + 200 * MS : 0;
  r->stream = (uint8_t)((z->c0 & 2) && (id & 1));
  r->body.tensor = &z->tensor;
  r->user_data = &z->fst[id];
}

static void auto_submit(fz *z) {
  static const unsigned burst_of[4] = {64, 1, 2, 0};
  unsigned burst = burst_of[(z->c0 >> 4) & 3];
  for (unsigned i = 0; i < burst && z->next_id <= MAXF; i++) {
    if (!nnrp_session_can_submit(z->s))
      break;
    nnrp_submit r;
    uint32_t want = z->next_id, got = 0;
    make_submit(z, &r, want);
    int rc = nnrp_session_submit(z->s, &r, &got, z->now);
    FZ_CHECK(rc == 0 || rc == NNRP_ERR_NOMEM);
    if (rc != 0)
      break;
    FZ_CHECK(got == want);
    z->fst[want] = F_LIVE;
    z->stream[want] = r.stream;
    z->live++;
    z->next_id++;
  }
  check_state(z);
  FZ_CHECK(nnrp_session_in_flight(z->s) == z->live);
}

/* Oldest (newest = 0) or newest (newest = 1) live frame, 0 if none. */
static uint32_t pick_live(const fz *z, int newest) {
  for (uint32_t k = 1; k < z->next_id; k++) {
    uint32_t id = newest ? z->next_id - k : k;
    if (z->fst[id] == F_LIVE)
      return id;
  }
  return 0;
}

static void cancel(fz *z, uint32_t id) {
  if (id == 0)
    return;
  int rc = nnrp_session_cancel(z->s, id, z->now);
  FZ_CHECK(rc == 0 || rc == NNRP_ERR_NOMEM);
  if (rc == 0) {
    FZ_CHECK(z->fst[id] == F_LIVE);
    pull(z); /* FRAME_FAILED (FRAME_CANCELLED) ends it */
    FZ_CHECK(z->fst[id] == F_DONE);
  }
}

static void discard(fz *z, uint32_t id) {
  if (id == 0)
    return;
  int rc = nnrp_session_discard(z->s, id, z->now);
  FZ_CHECK(rc == 0 || rc == NNRP_ERR_NOMEM);
  if (rc == 0) {
    z->fst[id] = F_DISCARDED; /* forgotten: no event from now on */
    z->live--;
  }
}

/* Flow-control calls of the client application (c bits 5-7). */
static void flow_action(fz *z, uint8_t c) {
  int64_t rc = 0;
  switch (c >> 5) {
  case 1:
    rc = nnrp_session_pause_submit(z->s);
    break;
  case 2:
    rc = nnrp_session_resume_submit(z->s);
    break;
  case 3:
  case 4:
    rc = nnrp_session_set_auto_pause(z->s, (c >> 5) == 3);
    break;
  case 5: {
    nnrp_flow_update_req r;
    nnrp_flow_update_req_default(&r);
    r.backpressure_level = (uint8_t)((c >> 3) & 1);
    rc = nnrp_session_send_flow_update(z->s, &r, z->now);
    break;
  }
  default:
    break;
  }
  FZ_CHECK(rc >= 0 || rc == NNRP_ERR_NOMEM || rc == NNRP_ERR_CLOSED ||
           rc == NNRP_ERR_INVALID_STATE);
}

static void app_action(fz *z, uint8_t c) {
  nnrp_session *s = z->s;
  switch (c & 7) {
  case 1:
    cancel(z, pick_live(z, 0));
    break;
  case 2:
    discard(z, pick_live(z, 0));
    break;
  case 3: {
    int rc = nnrp_session_close(s, z->now);
    FZ_CHECK(rc == 0 || rc == NNRP_ERR_NOMEM);
    break;
  }
  case 4:
    (void)nnrp_session_ping(s, z->now, z->now);
    break;
  case 5:
    discard(z, pick_live(z, 1));
    break;
  case 6:
    cancel(z, pick_live(z, 1));
    break;
  case 7:
    if (z->next_id > 1 && nnrp_session_get_state(s) == NNRP_STATE_ACTIVE) {
      nnrp_submit r;
      make_submit(z, &r, z->next_id - 1);
      r.frame_id = z->next_id - 1; /* ids strictly increase (D17) */
      FZ_CHECK(nnrp_session_submit(s, &r, NULL, z->now) == NNRP_ERR_FRAME_ID);
    }
    break;
  default:
    break;
  }
  flow_action(z, c);
  pull(z);
}

/* ---- driving ------------------------------------------------------------- */

static const uint64_t clock_steps[8] = {
    0, MS, 20 * MS, 100 * MS, 1 * SEC, 2500 * MS, 10500 * MS, 31 * SEC};

static size_t chunk_of(uint8_t a, size_t left) {
  size_t n = a == 0 ? left : a < 192 ? a : (size_t)(a - 191) * 256;
  return n < left ? n : left;
}

static void feed(fz *z, const uint8_t *in, size_t len, int unread) {
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
      pull(z);
      flush(z);
      return;
    }
    off += (size_t)rc;
    pull(z);
    auto_submit(z); /* before the flush: its output goes out too */
    if (!unread || rc == 0)
      flush(z);
    if (rc == 0) {
      FZ_CHECK(++stalls < 2);
    } else {
      stalls = 0;
    }
  }
}

static void run_expiry(fz *z, int forced) {
  if (!forced && z->now < nnrp_session_get_expiry(z->s))
    return;
  int rc = nnrp_session_handle_expiry(z->s, z->now);
  FZ_CHECK(rc == 0 || rc <= NNRP_ERR_FATAL_THRESHOLD);
  if (rc != 0)
    FZ_CHECK(nnrp_session_get_state(z->s) == NNRP_STATE_CLOSED);
  pull(z);
}

static void finish_session(fz *z, int eof) {
  pull(z);
  flush(z);
  if (eof) {
    FZ_CHECK(nnrp_session_recv_eof(z->s, z->now) == 0);
  } else {
    int rc = nnrp_session_close(z->s, z->now);
    FZ_CHECK(rc == 0 || rc == NNRP_ERR_NOMEM);
    pull(z);
    flush(z);
    z->now += z->s->st.drain_timeout_ns + 1;
    run_expiry(z, 1);
    if (rc != 0) { /* CLOSE could not be queued: the peer goes away */
      z->now += z->s->st.peer_dead_timeout_ns + 1;
      run_expiry(z, 1);
    }
  }
  pull(z);
  flush(z);
  FZ_CHECK(nnrp_session_get_state(z->s) == NNRP_STATE_CLOSED);
  FZ_CHECK(z->closed_seen);
  FZ_CHECK(z->live == 0);
  /* D15: every submitted frame ended exactly once (or was discarded). */
  for (uint32_t id = 1; id < z->next_id; id++)
    FZ_CHECK(z->fst[id] == F_DONE || z->fst[id] == F_DISCARDED);
  FZ_CHECK(nnrp_session_get_expiry(z->s) == UINT64_MAX);
  FZ_CHECK(z->olen == 0);
  /* Every FRAME_SUBMIT was written: each one's payloads were released. */
  for (uint32_t id = 1; id < z->next_id; id++)
    FZ_CHECK(z->sent[id]);
}

static nnrp_session *make_client(fz *z, uint8_t c0, uint8_t c1) {
  nnrp_session_settings st;
  nnrp_session_settings_default(&st);
  st.flags = (c0 & 1) ? NNRP_SESSION_LENIENT : 0;
  st.max_packet_bytes = 1u << 20;
  st.max_body_bytes = 1u << 20;
  st.max_tracked_frames = (c1 & 2) ? 4 : 64;
  st.max_events = (c1 & 4) ? 8 : 256;
  st.max_output_bytes = (c0 & 0x40) ? 1024u : 256u << 10;
  st.max_memory_bytes = 4u << 20;
  nnrp_client_profile cp;
  nnrp_client_profile_default(&cp);
  if (c0 & 0x80) {
    cp.has_loss_tolerance = 1;
    cp.loss_tolerance = NNRP_LOSS_TOLERANCE_LOW_LATENCY;
  }
  z->alloc.fail_at = (uint64_t)(c1 >> 4) * 3;
  nnrp_mem mem = {&z->alloc, fa_malloc, fa_realloc, fa_free};
  nnrp_session *s = NULL;
  int rc = nnrp_session_client_new(&s, &cp, &st, &mem);
  FZ_CHECK(rc == 0 || rc == NNRP_ERR_NOMEM);
  return rc == 0 ? s : NULL;
}

static void drive(fz *z, const uint8_t *sched, size_t n, const uint8_t *in,
                  size_t len) {
  size_t off = 0;
  for (size_t step = 0; off < len && step < 100000; step++) {
    const uint8_t *e = n ? sched + 3 * (step % n) : NULL;
    uint8_t a = e ? e[0] : 0, b = e ? e[1] : 0, c = e ? e[2] : 0;
    z->now += clock_steps[b & 7];
    run_expiry(z, (b & 0x20) != 0);
    auto_submit(z);
    size_t k = chunk_of(a, len - off);
    feed(z, in + off, k, (b & 0x40) != 0);
    off += k;
    app_action(z, c);
    if (!(b & 0x40))
      flush(z);
  }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size < 3)
    return 0;
  size_t n = data[2] % 17u;
  if (size < 3 + 3 * n)
    return 0;
  fz *z = calloc(1, sizeof(*z));
  FZ_CHECK(z != NULL);
  z->c0 = data[0];
  z->next_id = 1;
  z->tile_bytes[0] = 1;
  z->now = SEC;
  z->s = make_client(z, data[0], data[1]);
  if (z->s != NULL) {
    int rc = nnrp_session_connect(z->s, z->now);
    FZ_CHECK(rc == 0 || rc == NNRP_ERR_NOMEM);
    if (rc == 0) {
      FZ_CHECK(nnrp_session_get_state(z->s) == NNRP_STATE_NEGOTIATING);
      flush(z); /* the CLIENT_HELLO */
      FZ_CHECK(nnrp_session_connect(z->s, z->now) == NNRP_ERR_INVALID_STATE);
    }
    check_state(z);
    drive(z, data + 3, n, data + 3 + 3 * n, size - 3 - 3 * n);
    finish_session(z, data[1] & 1);
    nnrp_session_del(z->s);
  }
  FZ_CHECK(z->alloc.live_blocks == 0 && z->alloc.live_bytes == 0);
  free(z->obuf);
  free(z);
  return 0;
}
