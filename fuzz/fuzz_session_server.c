/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fuzz_session_server.c - libFuzzer target: a server session (session.md
 * §3-§8) fed arbitrary client bytes in input-chosen chunks, with a fake
 * clock, expiry calls and application answers in between. Checks the
 * session's invariants after every call (memory accounting, bounded output,
 * in-flight bookkeeping, events, at most one terminal per frame, strictly
 * valid output) and aborts on a violation. The harness shared with the
 * client target is in session_fuzz_common.h.
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
#include "session_fuzz_common.h"

#define TERM_CAP 8192u
#define PEND_CAP 64u

/* ---- the harness state --------------------------------------------------- */

typedef struct fz {
  fz_core core; /* first: the hooks convert back (fz_of) */
  /* frames the application holds (SUBMIT pulled, not yet terminal) */
  uint32_t pend[PEND_CAP];
  uint32_t npend;
  /* every frame id met: SUBMIT seen, terminals written */
  uint32_t tkey[TERM_CAP];
  uint8_t tsub[TERM_CAP], tterm[TERM_CAP];
  uint32_t tcount;
  uint8_t answer, rclass;
} fz;

static fz *fz_of(fz_core *c) { return (fz *)(void *)c; }

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

/* One packet the server wrote (strictly decoded by fz_check_sent):
 * terminals counted. */
static void on_sent(fz_core *c, const nnrp_packet *pk) {
  fz *z = fz_of(c);
  uint8_t t = pk->hdr.msg_type;
  if (t == NNRP_MSG_RESULT_PUSH || t == NNRP_MSG_RESULT_DROP ||
      t == NNRP_MSG_RESULT_HINT)
    FZ_CHECK(pk->hdr.session_id != 0 &&
             pk->hdr.session_id == nnrp_session_id(c->s));
  int terminal = t == NNRP_MSG_RESULT_DROP ||
                 (t == NNRP_MSG_RESULT_PUSH && (pk->hdr.flags & NNRP_FLAG_EOS));
  if (t != NNRP_MSG_RESULT_PUSH && !terminal)
    return;
  size_t i;
  if (tslot(z, pk->hdr.frame_id, &i) == NULL)
    return;
  FZ_CHECK(z->tterm[i] == 0); /* nothing after a frame's terminal */
  if (t == NNRP_MSG_RESULT_PUSH)
    FZ_CHECK(z->tsub[i]); /* results only for delivered submits */
  if (terminal)
    z->tterm[i] = 1;
}

/* ---- application answers ------------------------------------------------- */

static void answer(fz *z, uint32_t id, int how, uint8_t cls) {
  fz_core *c = &z->core;
  int64_t rc;
  nnrp_result r;
  nnrp_tensor_data t;
  nnrp_section_data sec;
  nnrp_bytes tile;
  uint16_t tid;
  int ended = 0;
  if (how == 1) {
    rc = nnrp_session_send_result_drop(c->s, id, 0, c->now);
    FZ_CHECK(rc == NNRP_HEADER_LEN || rc == NNRP_ERR_NOMEM);
    ended = rc > 0;
  } else {
    int final = how == 0;
    make_result(&r, &t, &sec, &tile, &tid, final, cls);
    rc = nnrp_session_send_result(c->s, id, &r, c->now);
    FZ_CHECK(rc > 0 || rc == NNRP_ERR_NOMEM ||
             (cls != 0 && rc == NNRP_ERR_INCONSISTENT));
    ended = final && rc > 0;
  }
  if (ended)
    pend_remove(z, id);
  /* The application is the only one ending its frames (apart from the
   * CANCELLED events): a refused answer leaves the frame in flight. */
}

/* After the checks of fz_pull_events. */
static void on_event(fz_core *c, const nnrp_event *ev) {
  fz *z = fz_of(c);
  size_t i;
  switch (ev->type) {
  case NNRP_EV_HANDSHAKE:
    FZ_CHECK(ev->packet && ev->packet->hdr.msg_type == NNRP_MSG_CLIENT_HELLO);
    break;
  case NNRP_EV_SUBMIT:
    FZ_CHECK(ev->frame_id != 0 && ev->packet != NULL);
    FZ_CHECK(ev->packet->hdr.msg_type == NNRP_MSG_FRAME_SUBMIT);
    FZ_CHECK(ev->packet->hdr.frame_id == ev->frame_id);
    FZ_CHECK(pend_find(z, ev->frame_id) < 0);
    FZ_CHECK(z->npend < PEND_CAP && z->npend < c->s->frames.limit);
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

static void pull(fz_core *c) {
  fz_pull_events(c, on_event);
  fz_check_state(c);
  /* the application's view of the frames matches the library's */
  FZ_CHECK(nnrp_session_in_flight(c->s) == fz_of(c)->npend);
}

/* Flow-control calls of the server application (c bits 5-7). */
static void flow_action(fz_core *z, uint8_t c) {
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
  fz_check_flow_rc(rc);
}

static void app_action(fz_core *core, uint8_t c) {
  fz *z = fz_of(core);
  nnrp_session *s = core->s;
  uint8_t cls = (uint8_t)((c >> 3) & 3);
  switch (c & 7) {
  case 1:
    FZ_CHECK(nnrp_session_close(s, core->now) == 0 ||
             nnrp_session_get_state(s) == NNRP_STATE_ACTIVE);
    break;
  case 2: {
    nnrp_result_hint h;
    memset(&h, 0, sizeof(h));
    h.congestion_state = cls;
    (void)nnrp_session_send_result_hint(s, 0, &h, core->now);
    break;
  }
  case 3:
  case 4:
  case 6:
    if (z->npend)
      answer(z, z->pend[0], (c & 7) == 3 ? 0 : (c & 7) == 4 ? 1 : 2, cls);
    break;
  case 5:
    (void)nnrp_session_ping(s, core->now, core->now);
    break;
  case 7: /* frames the application never got */
    FZ_CHECK(nnrp_session_send_result_drop(s, 0, 0, core->now) ==
                 NNRP_ERR_NOT_FOUND ||
             nnrp_session_get_state(s) == NNRP_STATE_CLOSED);
    break;
  default:
    break;
  }
  flow_action(core, c);
  fz_check_state(core);
}

/* ---- driving ------------------------------------------------------------- */

/* The answer policy of this step: b bits3-4, result class c bits3-4. */
static void on_step(fz_core *c, uint8_t b, uint8_t cb) {
  fz *z = fz_of(c);
  z->answer = (uint8_t)((b >> 3) & 3);
  z->rclass = (uint8_t)((cb >> 3) & 3);
}

static const fz_hooks server_hooks = {
    .pull = pull,
    .on_sent = on_sent,
    .submit = NULL,
    .on_step = on_step,
    .action = app_action,
    .check_state = NULL,
    .check_overconsume = 1,
};

static void finish_session(fz_core *c, int eof) {
  fz_settle(c);
  if (eof) {
    FZ_CHECK(nnrp_session_recv_eof(c->s, c->now) == 0);
  } else {
    FZ_CHECK(nnrp_session_close(c->s, c->now) == 0 ||
             nnrp_session_get_state(c->s) == NNRP_STATE_ACTIVE);
    fz_drain(c);
  }
  fz_check_end(c);
}

static nnrp_session *make_server(fz_core *z, uint8_t c0, uint8_t c1) {
  nnrp_session_settings st;
  fz_settings(&st, c0, c1);
  st.ordered_delivery = (c0 & 2) ? 0 : 1;
  st.max_body_bytes = (c0 & 0x40) ? 4096u : 1u << 20;
  st.max_output_bytes = (c0 & 0x80) ? 1024u : 256u << 10;
  nnrp_server_profile sp;
  nnrp_server_profile_default(&sp);
  static const uint16_t conc[4] = {0, 1, 4, 64};
  sp.max_concurrent_frames = conc[(c0 >> 4) & 3];
  sp.enforce_concurrency_limit = (c0 & 4) ? 1 : 0;
  sp.auto_result_hints = (c0 & 8) ? 0 : 1;
  nnrp_mem mem = fz_mem(z, c1);
  nnrp_session *s = NULL;
  int rc = nnrp_session_server_new(&s, &sp, &st, &mem);
  return fz_made(rc, s);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  fz_input fi;
  if (!fz_input_parse(&fi, data, size))
    return 0;
  fz_core *c = fz_core_new(sizeof(fz), &server_hooks);
  c->s = make_server(c, fi.c0, fi.c1);
  if (c->s != NULL) {
    fz_check_state(c);
    fz_drive(c, &fi);
    finish_session(c, fi.c1 & 1);
    nnrp_session_del(c->s);
  }
  fz_core_free(c);
  return 0;
}
