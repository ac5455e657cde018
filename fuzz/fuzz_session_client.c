/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fuzz_session_client.c - libFuzzer target: a connected client session
 * (session.md §3.8, §5-§8) fed arbitrary server bytes in input-chosen
 * chunks, submitting frames whenever nnrp_session_can_submit() allows, with
 * a fake clock, expiry calls and cancel/discard/close/ping in between.
 * Checks the invariants after every call and, once the session is CLOSED,
 * that every submitted frame got exactly one terminal event (D15). Aborts
 * on a violation. The harness shared with the server target is in
 * session_fuzz_common.h.
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
#include "session_fuzz_common.h"

#define MAXF 4096u /* frames submitted per input at most */

enum { F_NONE = 0, F_LIVE, F_DONE, F_DISCARDED };

/* ---- the harness state --------------------------------------------------- */

typedef struct fz {
  fz_core core; /* first: the hooks convert back (fz_of) */
  uint8_t c0;
  int close_sent;        /* CLOSE seen in the written output */
  uint32_t next_id;      /* frames 1..next_id-1 were submitted */
  uint32_t live;         /* frames in F_LIVE */
  uint8_t fst[MAXF + 1]; /* F_* per frame id; &fst[id] = user_data */
  uint8_t stream[MAXF + 1];
  uint8_t sent[MAXF + 1]; /* NNRP_EV_SENT seen */
  /* the submitted tile (payloads stay referenced until NNRP_EV_SENT) */
  uint8_t tile_bytes[4];
  nnrp_bytes tile;
  uint16_t tile_id;
  nnrp_section_data sec;
  nnrp_tensor_data tensor;
} fz;

static fz *fz_of(fz_core *c) { return (fz *)(void *)c; }

static uint32_t frame_of(const fz *z, const void *user_data) {
  const uint8_t *p = user_data;
  FZ_CHECK(p >= &z->fst[1] && p <= &z->fst[MAXF]);
  return (uint32_t)(p - z->fst);
}

/* ---- invariants ---------------------------------------------------------- */

/* Checked by fz_check_state(): submitting is possible exactly when nothing
 * blocks it, and only when ACTIVE. */
static void check_state(fz_core *c, int st) {
  nnrp_session *s = c->s;
  if (st == NNRP_STATE_CLOSED)
    FZ_CHECK(nnrp_session_can_submit(s) == 0);
  if (st != NNRP_STATE_ACTIVE)
    FZ_CHECK(nnrp_session_can_submit(s) == 0);
  FZ_CHECK(nnrp_session_can_submit(s) == (nnrp_session_submit_blocked(s) == 0));
}

/* One packet the client wrote (strictly decoded by fz_check_sent). */
static void on_sent(fz_core *c, const nnrp_packet *pk) {
  fz *z = fz_of(c);
  uint32_t id = pk->hdr.frame_id;
  switch (pk->hdr.msg_type) {
  case NNRP_MSG_CLOSE:
    z->close_sent = 1;
    break;
  case NNRP_MSG_FRAME_SUBMIT:
    FZ_CHECK(!z->close_sent); /* no new frames once draining */
    FZ_CHECK(pk->hdr.session_id != 0 &&
             pk->hdr.session_id == nnrp_session_id(c->s));
    FZ_CHECK(id >= 1 && id < z->next_id && z->fst[id] != F_NONE);
    break;
  case NNRP_MSG_FRAME_CANCEL:
    FZ_CHECK(id >= 1 && id < z->next_id && z->fst[id] != F_NONE);
    break;
  case NNRP_MSG_ERROR:
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

/* After the checks of fz_pull_events. */
static void on_event(fz_core *c, const nnrp_event *ev) {
  fz *z = fz_of(c);
  switch (ev->type) {
  case NNRP_EV_HANDSHAKE:
    FZ_CHECK(ev->packet &&
             ev->packet->hdr.msg_type == NNRP_MSG_SERVER_HELLO_ACK);
    FZ_CHECK(nnrp_session_server_hello(c->s) != NULL);
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
    FZ_CHECK(z->live == 0); /* every frame failed before CLOSED */
    break;
  case NNRP_EV_SUBMIT:
  case NNRP_EV_CANCELLED:
    abort(); /* server-only events */
  default:
    break;
  }
}

static void pull(fz_core *c) {
  fz *z = fz_of(c);
  fz_pull_events(c, on_event);
  fz_check_state(c);
  FZ_CHECK(nnrp_session_in_flight(c->s) == z->live);
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
  r->deadline = (z->c0 & 4) ? z->core.now + 200 * MS : 0;
  r->stream = (uint8_t)((z->c0 & 2) && (id & 1));
  r->body.tensor = &z->tensor;
  r->user_data = &z->fst[id];
}

static void auto_submit(fz_core *c) {
  static const unsigned burst_of[4] = {64, 1, 2, 0};
  fz *z = fz_of(c);
  unsigned burst = burst_of[(z->c0 >> 4) & 3];
  for (unsigned i = 0; i < burst && z->next_id <= MAXF; i++) {
    if (!nnrp_session_can_submit(c->s))
      break;
    nnrp_submit r;
    uint32_t want = z->next_id, got = 0;
    make_submit(z, &r, want);
    int rc = nnrp_session_submit(c->s, &r, &got, c->now);
    FZ_CHECK(rc == 0 || rc == NNRP_ERR_NOMEM);
    if (rc != 0)
      break;
    FZ_CHECK(got == want);
    z->fst[want] = F_LIVE;
    z->stream[want] = r.stream;
    z->live++;
    z->next_id++;
  }
  fz_check_state(c);
  FZ_CHECK(nnrp_session_in_flight(c->s) == z->live);
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
  int rc = nnrp_session_cancel(z->core.s, id, z->core.now);
  FZ_CHECK(rc == 0 || rc == NNRP_ERR_NOMEM);
  if (rc == 0) {
    FZ_CHECK(z->fst[id] == F_LIVE);
    pull(&z->core); /* FRAME_FAILED (FRAME_CANCELLED) ends it */
    FZ_CHECK(z->fst[id] == F_DONE);
  }
}

static void discard(fz *z, uint32_t id) {
  if (id == 0)
    return;
  int rc = nnrp_session_discard(z->core.s, id, z->core.now);
  FZ_CHECK(rc == 0 || rc == NNRP_ERR_NOMEM);
  if (rc == 0) {
    z->fst[id] = F_DISCARDED; /* forgotten: no event from now on */
    z->live--;
  }
}

/* Flow-control calls of the client application (c bits 5-7). */
static void flow_action(fz_core *z, uint8_t c) {
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
  fz_check_flow_rc(rc);
}

static void app_action(fz_core *core, uint8_t c) {
  fz *z = fz_of(core);
  nnrp_session *s = core->s;
  switch (c & 7) {
  case 1:
    cancel(z, pick_live(z, 0));
    break;
  case 2:
    discard(z, pick_live(z, 0));
    break;
  case 3: {
    int rc = nnrp_session_close(s, core->now);
    FZ_CHECK(rc == 0 || rc == NNRP_ERR_NOMEM);
    break;
  }
  case 4:
    (void)nnrp_session_ping(s, core->now, core->now);
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
      FZ_CHECK(nnrp_session_submit(s, &r, NULL, core->now) ==
               NNRP_ERR_FRAME_ID);
    }
    break;
  default:
    break;
  }
  flow_action(core, c);
  pull(core);
}

/* ---- driving ------------------------------------------------------------- */

static const fz_hooks client_hooks = {
    .pull = pull,
    .on_sent = on_sent,
    .submit = auto_submit,
    .on_step = NULL,
    .action = app_action,
    .check_state = check_state,
    .check_overconsume = 0,
};

static void finish_session(fz *z, int eof) {
  fz_core *c = &z->core;
  fz_settle(c);
  if (eof) {
    FZ_CHECK(nnrp_session_recv_eof(c->s, c->now) == 0);
  } else {
    int rc = nnrp_session_close(c->s, c->now);
    FZ_CHECK(rc == 0 || rc == NNRP_ERR_NOMEM);
    fz_drain(c);
    if (rc != 0) { /* CLOSE could not be queued: the peer goes away */
      c->now += c->s->st.peer_dead_timeout_ns + 1;
      fz_run_expiry(c, 1);
    }
  }
  fz_check_end(c);
  FZ_CHECK(z->live == 0);
  /* D15: every submitted frame ended exactly once (or was discarded). */
  for (uint32_t id = 1; id < z->next_id; id++)
    FZ_CHECK(z->fst[id] == F_DONE || z->fst[id] == F_DISCARDED);
  /* Every FRAME_SUBMIT was written: each one's payloads were released. */
  for (uint32_t id = 1; id < z->next_id; id++)
    FZ_CHECK(z->sent[id]);
}

static nnrp_session *make_client(fz *z, uint8_t c0, uint8_t c1) {
  nnrp_session_settings st;
  fz_settings(&st, c0, c1);
  st.max_output_bytes = (c0 & 0x40) ? 1024u : 256u << 10;
  nnrp_client_profile cp;
  nnrp_client_profile_default(&cp);
  if (c0 & 0x80) {
    cp.has_loss_tolerance = 1;
    cp.loss_tolerance = NNRP_LOSS_TOLERANCE_LOW_LATENCY;
  }
  nnrp_mem mem = fz_mem(&z->core, c1);
  nnrp_session *s = NULL;
  int rc = nnrp_session_client_new(&s, &cp, &st, &mem);
  return fz_made(rc, s);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  fz_input fi;
  if (!fz_input_parse(&fi, data, size))
    return 0;
  fz *z = fz_core_new(sizeof(*z), &client_hooks);
  fz_core *c = &z->core;
  z->c0 = fi.c0;
  z->next_id = 1;
  z->tile_bytes[0] = 1;
  c->s = make_client(z, fi.c0, fi.c1);
  if (c->s != NULL) {
    int rc = nnrp_session_connect(c->s, c->now);
    FZ_CHECK(rc == 0 || rc == NNRP_ERR_NOMEM);
    if (rc == 0) {
      FZ_CHECK(nnrp_session_get_state(c->s) == NNRP_STATE_NEGOTIATING);
      fz_flush(c); /* the CLIENT_HELLO */
      FZ_CHECK(nnrp_session_connect(c->s, c->now) == NNRP_ERR_INVALID_STATE);
    }
    fz_check_state(c);
    fz_drive(c, &fi);
    finish_session(z, fi.c1 & 1);
    nnrp_session_del(c->s);
  }
  fz_core_free(c);
  return 0;
}
