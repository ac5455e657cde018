/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fuzz_session_server.c - libFuzzer target: a server session (session.md
 * §3-§8) fed arbitrary client bytes in input-chosen chunks, with a fake
 * clock, expiry calls and application answers in between. Checks the
 * session's invariants after every call (memory accounting, bounded output,
 * in-flight bookkeeping, events, at most one terminal per frame, strictly
 * valid output) and aborts on a violation.
 *
 * Input: cfg0 cfg1 n (n % 17 schedule entries of 3 bytes) stream...
 *   cfg0 bit0 lenient, bit1 QUIC id window, bit2 enforce concurrency,
 *        bit3 no auto hints, bits4-5 max_concurrent_frames {0,1,4,64},
 *        bit6 max_body_bytes 4 KiB, bit7 max_output_bytes 1 KiB
 *   cfg1 bit0 end with EOF (else close + drain), bit1 4 tracked frames,
 *        bit2 8 events, bits4-7 f: fail allocation number 3f (0: none)
 *   entry a: chunk (0 rest, 1-191 bytes, 192+ (a-191)*256 bytes)
 *   entry b: bits0-2 clock step, bits3-4 SUBMIT answer (final, drop, none,
 *            partial), bit5 forced expiry call, bit6 leave output unread
 *   entry c: bits0-2 application action, bits3-4 result class, bits5-7
 *            flow-control call (credit policy, overloaded on/off, update)
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
/* Output one received packet may add on top of max_output_bytes (ERROR,
 * SERVER_HELLO_ACK, RESULT_DROP + two RESULT_HINTs, ...). */
#define OUT_SLACK 4096u
#define TERM_CAP 8192u
#define PEND_CAP 64u

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
  int prev_state;
  int closed_seen; /* NNRP_EV_CLOSED pulled */
  int handshake_seen;
  int fatal_sent; /* a fatal / CONNECTION ERROR was written */
  /* frames the application holds (SUBMIT pulled, not yet terminal) */
  uint32_t pend[PEND_CAP];
  uint32_t npend;
  /* every frame id met: SUBMIT seen, terminals written */
  uint32_t tkey[TERM_CAP];
  uint8_t tsub[TERM_CAP], tterm[TERM_CAP];
  uint32_t tcount;
  /* output not yet parsed (whole packets are parsed as they complete) */
  uint8_t *obuf;
  size_t olen, ocap;
  uint8_t answer, rclass;
} fz;

static uint8_t tile_bytes[4] = {1, 2, 3, 4};

/* A small valid tensor result: one tile, one section. */
static void make_result(nnrp_result *r, nnrp_tensor_data *t,
                        nnrp_section_data *sec, nnrp_bytes *tile,
                        uint16_t *tile_id, int is_final, uint8_t cls) {
  tile->ptr = tile_bytes;
  tile->len = sizeof(tile_bytes);
  *tile_id = 0;
  memset(sec, 0, sizeof(*sec));
  sec->role_id = 1;
  sec->dtype_id = NNRP_DTYPE_UINT8;
  sec->tiles = tile;
  memset(t, 0, sizeof(*t));
  t->tile_index_mode = NNRP_TILE_INDEX_RAW_U16;
  t->tile_ids = tile_id;
  t->tile_count = 1;
  t->sections = sec;
  t->section_count = 1;
  memset(r, 0, sizeof(*r));
  r->body.tensor = t;
  r->final = (uint8_t)is_final;
  r->meta.result_class = cls;
  if (cls == NNRP_RESULT_CLASS_STALE_REUSE)
    r->meta.reused_frame_id = 1;
}

/* Slot of id in the frame-id table, or NULL when the table is full. */
static uint32_t *tslot(fz *z, uint32_t id, size_t *idx) {
  uint32_t h = (id * 2654435761u) & (TERM_CAP - 1);
  for (uint32_t i = 0; i < TERM_CAP; i++, h = (h + 1) & (TERM_CAP - 1)) {
    if (z->tkey[h] == id) {
      *idx = h;
      return &z->tkey[h];
    }
    if (z->tkey[h] == 0) {
      if (z->tcount >= TERM_CAP / 2)
        return NULL; /* stop tracking new ids */
      z->tkey[h] = id;
      z->tcount++;
      *idx = h;
      return &z->tkey[h];
    }
  }
  return NULL;
}

static int pend_find(const fz *z, uint32_t id) {
  for (uint32_t i = 0; i < z->npend; i++)
    if (z->pend[i] == id)
      return (int)i;
  return -1;
}

static void pend_remove(fz *z, uint32_t id) {
  int i = pend_find(z, id);
  FZ_CHECK(i >= 0);
  z->pend[i] = z->pend[--z->npend];
}

/* ---- invariants ---------------------------------------------------------- */

static void check_state(fz *z) {
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
  /* pending_output describes exactly output_bytes */
  nnrp_iov iov[128];
  size_t n = nnrp_session_pending_output(s, iov, 128);
  uint64_t sum = 0;
  for (size_t i = 0; i < n; i++)
    sum += iov[i].len;
  if (n < 128)
    FZ_CHECK(sum == nnrp_session_output_bytes(s));
}

/* One packet the server wrote: strictly valid, terminals counted. */
static void check_sent(fz *z, const uint8_t *p, size_t len) {
  nnrp_wire_opts o;
  nnrp_wire_opts_default(&o);
  nnrp_packet pk;
  nnrp_fault f;
  FZ_CHECK(nnrp_packet_decode(&pk, p, len, &o, &f) == 0);
  FZ_CHECK(!z->fatal_sent); /* a fatal ERROR is the last packet */
  uint8_t t = pk.hdr.msg_type;
  if (t == NNRP_MSG_ERROR &&
      (pk.m.error.is_fatal ||
       pk.m.error.error_scope == NNRP_ERROR_SCOPE_CONNECTION))
    z->fatal_sent = 1;
  if (t == NNRP_MSG_RESULT_PUSH || t == NNRP_MSG_RESULT_DROP ||
      t == NNRP_MSG_RESULT_HINT)
    FZ_CHECK(pk.hdr.session_id != 0 &&
             pk.hdr.session_id == nnrp_session_id(z->s));
  int terminal = t == NNRP_MSG_RESULT_DROP ||
                 (t == NNRP_MSG_RESULT_PUSH && (pk.hdr.flags & NNRP_FLAG_EOS));
  if (t != NNRP_MSG_RESULT_PUSH && !terminal)
    return;
  size_t i;
  if (tslot(z, pk.hdr.frame_id, &i) == NULL)
    return;
  FZ_CHECK(z->tterm[i] == 0); /* nothing after a frame's terminal */
  if (t == NNRP_MSG_RESULT_PUSH)
    FZ_CHECK(z->tsub[i]); /* results only for delivered submits */
  if (terminal)
    z->tterm[i] = 1;
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

/* Writes every queued byte, as a transport would, and checks it. */
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

/* Writes everything, pulling the events that writing raises (NNRP_EV_SENT)
 * and writing what answering them queued, until nothing is left. */
static void flush(fz *z) {
  do {
    write_out(z);
    pull(z);
  } while (nnrp_session_output_bytes(z->s) != 0);
  FZ_CHECK(nnrp_session_output_consumed(z->s, 1, z->now) ==
           NNRP_ERR_INVALID_ARGUMENT);
}

/* ---- application answers ------------------------------------------------- */

static void answer(fz *z, uint32_t id, int how, uint8_t cls) {
  int64_t rc;
  nnrp_result r;
  nnrp_tensor_data t;
  nnrp_section_data sec;
  nnrp_bytes tile;
  uint16_t tid;
  int ended = 0;
  if (how == 1) {
    rc = nnrp_session_send_result_drop(z->s, id, 0, z->now);
    FZ_CHECK(rc == NNRP_HEADER_LEN || rc == NNRP_ERR_NOMEM);
    ended = rc > 0;
  } else {
    int final = how == 0;
    make_result(&r, &t, &sec, &tile, &tid, final, cls);
    rc = nnrp_session_send_result(z->s, id, &r, z->now);
    FZ_CHECK(rc > 0 || rc == NNRP_ERR_NOMEM ||
             (cls != 0 && rc == NNRP_ERR_INCONSISTENT));
    ended = final && rc > 0;
  }
  if (ended)
    pend_remove(z, id);
  /* The application is the only one ending its frames (apart from the
   * CANCELLED events): a refused answer leaves the frame in flight. */
}

static void on_event(fz *z, const nnrp_event *ev) {
  /* Nothing follows NNRP_EV_CLOSED but NNRP_EV_SENT: output queued before
   * the end may still be written, which releases its payloads. */
  FZ_CHECK(!z->closed_seen || ev->type == NNRP_EV_SENT);
  size_t i;
  switch (ev->type) {
  case NNRP_EV_HANDSHAKE:
    FZ_CHECK(!z->handshake_seen);
    z->handshake_seen = 1;
    FZ_CHECK(ev->packet && ev->packet->hdr.msg_type == NNRP_MSG_CLIENT_HELLO);
    break;
  case NNRP_EV_SUBMIT:
    FZ_CHECK(ev->frame_id != 0 && ev->packet != NULL);
    FZ_CHECK(ev->packet->hdr.msg_type == NNRP_MSG_FRAME_SUBMIT);
    FZ_CHECK(ev->packet->hdr.frame_id == ev->frame_id);
    FZ_CHECK(pend_find(z, ev->frame_id) < 0);
    FZ_CHECK(z->npend < PEND_CAP && z->npend < z->s->frames.limit);
    z->pend[z->npend++] = ev->frame_id;
    if (tslot(z, ev->frame_id, &i) != NULL) {
      FZ_CHECK(!z->tsub[i] && !z->tterm[i]); /* each id delivered once */
      z->tsub[i] = 1;
    }
    if (z->answer != 2)
      answer(z, ev->frame_id, z->answer == 3 ? 2 : z->answer, z->rclass);
    break;
  case NNRP_EV_CANCELLED:
    pend_remove(z, ev->frame_id); /* the library already sent RESULT_DROP */
    break;
  case NNRP_EV_CLOSED:
    z->closed_seen = 1;
    FZ_CHECK(nnrp_session_get_state(z->s) == NNRP_STATE_CLOSED);
    z->npend = 0; /* frames are forgotten with the connection */
    break;
  case NNRP_EV_RESULT:
  case NNRP_EV_DROP:
  case NNRP_EV_FRAME_FAILED:
  case NNRP_EV_RESULT_HINT:
  case NNRP_EV_CACHE_ACK:
  case NNRP_EV_PATCH_ACK:
  case NNRP_EV_PROBE_ACK:
    abort(); /* client-only events */
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
  /* the application's view of the frames matches the library's */
  FZ_CHECK(nnrp_session_in_flight(z->s) == z->npend);
}

/* Flow-control calls of the server application (c bits 5-7). */
static void flow_action(fz *z, uint8_t c) {
  static const uint16_t windows[4] = {0, 1, 2, 8};
  int64_t rc = 0;
  switch (c >> 5) {
  case 1:
    rc = nnrp_session_set_credit_policy(z->s, windows[(c >> 3) & 3], z->now);
    break;
  case 2:
    rc = nnrp_session_set_overloaded(z->s, 1, (c & 8) ? 50 : 0, z->now);
    break;
  case 3:
    rc = nnrp_session_set_overloaded(z->s, 0, 0, z->now);
    break;
  case 4: {
    nnrp_flow_update_req r;
    nnrp_flow_update_req_default(&r);
    r.update_reason = (uint8_t)((c >> 3) & 3);
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
  uint8_t cls = (uint8_t)((c >> 3) & 3);
  switch (c & 7) {
  case 1:
    FZ_CHECK(nnrp_session_close(s, z->now) == 0 ||
             nnrp_session_get_state(s) == NNRP_STATE_ACTIVE);
    break;
  case 2: {
    nnrp_result_hint h;
    memset(&h, 0, sizeof(h));
    h.congestion_state = cls;
    (void)nnrp_session_send_result_hint(s, 0, &h, z->now);
    break;
  }
  case 3:
  case 4:
  case 6:
    if (z->npend)
      answer(z, z->pend[0], (c & 7) == 3 ? 0 : (c & 7) == 4 ? 1 : 2, cls);
    break;
  case 5:
    (void)nnrp_session_ping(s, z->now, z->now);
    break;
  case 7: /* frames the application never got */
    FZ_CHECK(nnrp_session_send_result_drop(s, 0, 0, z->now) ==
                 NNRP_ERR_NOT_FOUND ||
             nnrp_session_get_state(s) == NNRP_STATE_CLOSED);
    break;
  default:
    break;
  }
  flow_action(z, c);
  check_state(z);
}

/* ---- driving ------------------------------------------------------------- */

static const uint64_t clock_steps[8] = {
    0, MS, 20 * MS, 100 * MS, 1 * SEC, 2500 * MS, 10500 * MS, 31 * SEC};

static size_t chunk_of(uint8_t a, size_t left) {
  size_t n = a == 0 ? left : a < 192 ? a : (size_t)(a - 191) * 256;
  return n < left ? n : left;
}

/* Feeds one chunk; every byte is eventually taken once events are pulled
 * and output is written. */
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
    if (!unread || rc == 0)
      flush(z);
    if (rc == 0) {
      /* Events pulled and output written: the session must take input. */
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
    FZ_CHECK(nnrp_session_close(z->s, z->now) == 0 ||
             nnrp_session_get_state(z->s) == NNRP_STATE_ACTIVE);
    pull(z);
    flush(z);
    z->now += z->s->st.drain_timeout_ns + 1;
    run_expiry(z, 1);
  }
  pull(z);
  flush(z);
  FZ_CHECK(nnrp_session_get_state(z->s) == NNRP_STATE_CLOSED);
  FZ_CHECK(z->closed_seen);
  FZ_CHECK(nnrp_session_get_expiry(z->s) == UINT64_MAX);
  FZ_CHECK(z->olen == 0); /* the output ended on a packet boundary */
}

static nnrp_session *make_server(fz *z, uint8_t c0, uint8_t c1) {
  nnrp_session_settings st;
  nnrp_session_settings_default(&st);
  st.flags = (c0 & 1) ? NNRP_SESSION_LENIENT : 0;
  st.ordered_delivery = (c0 & 2) ? 0 : 1;
  st.max_packet_bytes = 1u << 20;
  st.max_body_bytes = (c0 & 0x40) ? 4096u : 1u << 20;
  st.max_tracked_frames = (c1 & 2) ? 4 : 64;
  st.max_events = (c1 & 4) ? 8 : 256;
  st.max_output_bytes = (c0 & 0x80) ? 1024u : 256u << 10;
  st.max_memory_bytes = 4u << 20;
  nnrp_server_profile sp;
  nnrp_server_profile_default(&sp);
  static const uint16_t conc[4] = {0, 1, 4, 64};
  sp.max_concurrent_frames = conc[(c0 >> 4) & 3];
  sp.enforce_concurrency_limit = (c0 & 4) ? 1 : 0;
  sp.auto_result_hints = (c0 & 8) ? 0 : 1;
  z->alloc.fail_at = (uint64_t)(c1 >> 4) * 3;
  nnrp_mem mem = {&z->alloc, fa_malloc, fa_realloc, fa_free};
  nnrp_session *s = NULL;
  int rc = nnrp_session_server_new(&s, &sp, &st, &mem);
  FZ_CHECK(rc == 0 || rc == NNRP_ERR_NOMEM);
  return rc == 0 ? s : NULL;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size < 3)
    return 0;
  fz *z = calloc(1, sizeof(*z));
  FZ_CHECK(z != NULL);
  uint8_t c0 = data[0], c1 = data[1];
  size_t n = data[2] % 17u;
  if (size < 3 + 3 * n) {
    free(z);
    return 0;
  }
  const uint8_t *sched = data + 3;
  const uint8_t *in = sched + 3 * n;
  size_t len = size - 3 - 3 * n;
  z->now = SEC;
  z->s = make_server(z, c0, c1);
  if (z->s != NULL) {
    check_state(z);
    size_t off = 0;
    for (size_t step = 0; off < len && step < 100000; step++) {
      const uint8_t *e = n ? sched + 3 * (step % n) : NULL;
      uint8_t a = e ? e[0] : 0, b = e ? e[1] : 0, c = e ? e[2] : 0;
      z->now += clock_steps[b & 7];
      z->answer = (uint8_t)((b >> 3) & 3);
      z->rclass = (uint8_t)((c >> 3) & 3);
      run_expiry(z, (b & 0x20) != 0);
      size_t k = chunk_of(a, len - off);
      feed(z, in + off, k, (b & 0x40) != 0);
      off += k;
      app_action(z, c);
      if (!(b & 0x40))
        flush(z);
    }
    finish_session(z, c1 & 1);
    nnrp_session_del(z->s);
  }
  FZ_CHECK(z->alloc.live_blocks == 0 && z->alloc.live_bytes == 0);
  free(z->obuf);
  free(z);
  return 0;
}
