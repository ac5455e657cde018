/* SPDX-License-Identifier: Apache-2.0 */
/*
 * session.c - the session object: defaults, lifecycle, the receive loop and
 * its dispatch in the validation order of wire.md §15 (header 2-9 in the
 * reader, then role/state 10-11, session id 12, metadata length 13, frame id
 * 14, then the wire decoder for 15-19 and the handlers for 20), output,
 * events and timers. The per-message behaviour lives in the module files
 * listed in session_int.h.
 */
#include <string.h>

#include "legality.h"
#include "session_int.h"

#define NS_PER_S 1000000000ull

void nnrp_session_settings_default(nnrp_session_settings *s) {
  memset(s, 0, sizeof(*s));
  s->struct_size = (uint32_t)sizeof(*s);
  s->transport_id = NNRP_TRANSPORT_TCP;
  s->ordered_delivery = 1;
  s->max_packet_bytes = NNRP_MAX_PACKET_BYTES;
  s->max_body_bytes = NNRP_DEFAULT_MAX_BODY_BYTES;
  s->max_sections = NNRP_DEFAULT_MAX_SECTIONS;
  s->max_lanes = 16;
  s->max_tracked_frames = 4096;
  s->max_events = 4096;
  s->max_output_bytes = 4u << 20;
  s->max_memory_bytes = 128u << 20;
  s->handshake_timeout_ns = 10 * NS_PER_S;
  s->keepalive_interval_ns = 10 * NS_PER_S;
  s->peer_dead_timeout_ns = 30 * NS_PER_S;
  s->drain_timeout_ns = 2 * NS_PER_S;
  s->client_grace_ns = 1 * NS_PER_S;
  s->rand_seed = 0x9E3779B97F4A7C15ull;
}

void nnrp_client_profile_default(nnrp_client_profile *p) {
  memset(p, 0, sizeof(*p));
  p->struct_size = (uint32_t)sizeof(*p);
  p->max_views = 1;
  p->enable_cache = 1;
  p->transport_policy = NNRP_TRANSPORT_POLICY_AUTO;
  p->cache_object_bitmap = 0x0007;
  p->max_cache_entries = 256;
  p->max_cache_bytes = 8u << 20;
  p->profile_bitmap = 0x1;
  p->payload_kinds = NNRP_PAYLOAD_KIND_TENSOR;
  p->codec_bitmap = 0x3;
  p->compression_bitmap = 0x3;
  p->dtype_bitmap = 0x1F;
  p->layout_bitmap = 0x3;
  p->target_cadence_x100 = 6000;
  p->latency_budget_ms = 50;
  p->quality_tier = 2;
}

void nnrp_server_profile_default(nnrp_server_profile *p) {
  memset(p, 0, sizeof(*p));
  p->struct_size = (uint32_t)sizeof(*p);
  p->max_concurrent_frames = 1;
  p->enable_cache = 1;
  p->auto_result_hints = 1;
  p->max_body_bytes = NNRP_DEFAULT_MAX_BODY_BYTES;
  p->max_cache_entries = 1024;
  p->max_cache_bytes = 32u << 20;
  p->profile_bitmap = 0x3;
  p->payload_kinds = NNRP_PAYLOAD_KIND_KNOWN_MASK;
  p->codec_bitmap = 0xFFFFFFFFu;
  p->compression_bitmap = 0xFFFFFFFFu;
  p->dtype_bitmap = 0xFF;
  p->layout_bitmap = 0x3;
  p->cache_object_bitmap = NNRP_CACHE_OBJECT_KNOWN_MASK;
}

/* ---- helpers shared by the modules ------------------------------------ */

uint32_t nnrp__rand32(nnrp_session *s) {
  if (s->st.rand32)
    return s->st.rand32(s->st.rand_user);
  /* xorshift64*: deterministic when no hook is given (tests). */
  uint64_t x = s->rand_state;
  x ^= x >> 12;
  x ^= x << 25;
  x ^= x >> 27;
  s->rand_state = x;
  return (uint32_t)((x * 0x2545F4914F6CDD1Dull) >> 32);
}

void nnrp__set_state(nnrp_session *s, nnrp_session_state st) {
  s->state = (uint8_t)st;
}

int nnrp__emit(nnrp_session *s, const nnrp_event *ev) {
  int rc = nnrp__evq_push(&s->evq, &s->mem, ev);
  if (rc == 0 && ev->packet != NULL)
    s->view_pending = 1;
  return rc;
}

int nnrp__emit_reserved(nnrp_session *s, const nnrp_event *ev) {
  int rc = nnrp__evq_push_reserved(&s->evq, ev);
  if (rc == 0 && ev->packet != NULL)
    s->view_pending = 1;
  return rc;
}

int nnrp__commit_notify(nnrp_session *s, void *user_data, uint32_t frame_id) {
  int rc = nnrp__evq_reserve(&s->evq, &s->mem);
  if (rc != 0) {
    nnrp__outq_abort(&s->outq);
    return rc;
  }
  nnrp__outq_commit(&s->outq, 1, user_data, frame_id);
  return 0;
}

int nnrp__send_control(nnrp_session *s, nnrp_header *h, nnrp_meta *meta,
                       const nnrp_control_body *body) {
  size_t need = NNRP_HEADER_LEN + 80;
  if (body) {
    need += body->bytes.len + 16;
    if (body->ext || body->extra_ext_count)
      need += nnrp_ext_block_size(h->msg_type, body->ext, body->extra_ext,
                                  body->extra_ext_count);
  }
  if (h->msg_type == NNRP_MSG_TRANSPORT_PROBE)
    need += meta->transport_probe.probe_payload_bytes;
  nnrp_out *out;
  int rc = nnrp__outq_begin(&s->outq, &s->mem, need, 0, &out);
  if (rc != 0)
    return rc;
  nnrp_fault f;
  rc = nnrp_build_control(out, h, meta, body, &f);
  if (rc != 0) {
    nnrp__outq_abort(&s->outq);
    s->last_err = rc;
    s->last_fault = f;
    return rc;
  }
  nnrp__outq_commit(&s->outq, 0, NULL, 0);
  return 0;
}

/* ---- lifecycle --------------------------------------------------------- */

static int session_new(nnrp_session **out, int is_server,
                       const nnrp_session_settings *settings,
                       const nnrp_mem *mem) {
  nnrp_session_settings st;
  if (settings == NULL) {
    nnrp_session_settings_default(&st);
    settings = &st;
  } else if (settings->struct_size != sizeof(nnrp_session_settings)) {
    return NNRP_ERR_INVALID_ARGUMENT;
  }
  nnrp_smem m;
  nnrp__smem_init(&m, mem, settings->max_memory_bytes);
  nnrp_session *s = nnrp__scalloc(&m, sizeof(*s));
  if (s == NULL)
    return NNRP_ERR_NOMEM;
  s->mem = m;
  s->st = *settings;
  s->is_server = (uint8_t)(is_server != 0);
  s->state = NNRP_STATE_INIT;
  s->first_packet = 1;
  s->loss_tolerance = NNRP_LOSS_TOLERANCE_BEST_EFFORT;
  s->rand_state = settings->rand_seed ? settings->rand_seed : 1;
  s->next_frame_id = 1;
  nnrp_wire_opts_default(&s->wopts);
  if (settings->flags & NNRP_SESSION_LENIENT)
    s->wopts.flags |= NNRP_WIRE_LENIENT;
  s->wopts.max_packet_bytes = settings->max_packet_bytes;
  s->wopts.max_body_bytes = settings->max_body_bytes;
  s->wopts.max_sections = settings->max_sections;
  nnrp_reader_init(&s->reader, &s->wopts, NULL, 0);
  nnrp_reader_set_raw(&s->reader, 1);
  nnrp__outq_init(&s->outq);
  nnrp__evq_init(&s->evq, settings->max_events);
  nnrp__ft_init(&s->frames, settings->max_tracked_frames);
  /* Frame ids come from the peer on a server: seed the table's hash so
   * they cannot be chosen to collide. */
  s->frames.seed = nnrp__rand32(s);
  nnrp__theap_init(&s->timers);
  *out = s;
  return 0;
}

/* Copies the profile's borrowed bytes into one owned block. */
static int own_bytes(nnrp_session *s, nnrp_bytes *dst_list[], size_t n,
                     const nnrp_ext_entry *ext, size_t next,
                     nnrp_ext_entry **ext_out) {
  size_t total = next * sizeof(nnrp_ext_entry);
  for (size_t i = 0; i < n; i++)
    total += dst_list[i]->len;
  for (size_t i = 0; i < next; i++)
    total += ext[i].payload.len;
  if (total == 0)
    return 0;
  uint8_t *blk = nnrp__smalloc(&s->mem, total);
  if (blk == NULL)
    return NNRP_ERR_NOMEM;
  s->owned = blk;
  nnrp_ext_entry *e = (nnrp_ext_entry *)(void *)blk;
  uint8_t *p = blk + next * sizeof(nnrp_ext_entry);
  for (size_t i = 0; i < next; i++) {
    e[i] = ext[i];
    if (ext[i].payload.len)
      memcpy(p, ext[i].payload.ptr, ext[i].payload.len);
    e[i].payload.ptr = p;
    p += ext[i].payload.len;
  }
  for (size_t i = 0; i < n; i++) {
    if (dst_list[i]->len)
      memcpy(p, dst_list[i]->ptr, dst_list[i]->len);
    dst_list[i]->ptr = p;
    p += dst_list[i]->len;
  }
  *ext_out = next ? e : NULL;
  return 0;
}

int nnrp_session_client_new(nnrp_session **out,
                            const nnrp_client_profile *profile,
                            const nnrp_session_settings *settings,
                            const nnrp_mem *mem) {
  if (out == NULL || profile == NULL ||
      profile->struct_size != sizeof(*profile) ||
      (profile->payload_kinds & NNRP_PAYLOAD_KIND_KNOWN_MASK) == 0 ||
      profile->transport_policy > NNRP_TRANSPORT_POLICY_FORCE_TCP ||
      (profile->has_loss_tolerance &&
       profile->loss_tolerance > NNRP_LOSS_TOLERANCE_FIRE_AND_FORGET))
    return NNRP_ERR_INVALID_ARGUMENT;
  nnrp_session *s;
  int rc = session_new(&s, 0, settings, mem);
  if (rc != 0)
    return rc;
  s->cprof = *profile;
  nnrp_bytes *list[] = {&s->cprof.auth_block};
  nnrp_ext_entry *ext = NULL;
  rc = own_bytes(s, list, 1, profile->extra_ext, profile->extra_ext_count,
                 &ext);
  if (rc != 0) {
    nnrp_session_del(s);
    return rc;
  }
  s->cprof.extra_ext = ext;
  *out = s;
  return 0;
}

int nnrp_session_server_new(nnrp_session **out,
                            const nnrp_server_profile *profile,
                            const nnrp_session_settings *settings,
                            const nnrp_mem *mem) {
  if (out == NULL || profile == NULL ||
      profile->struct_size != sizeof(*profile) ||
      profile->model_name.len > 255)
    return NNRP_ERR_INVALID_ARGUMENT;
  nnrp_session *s;
  int rc = session_new(&s, 1, settings, mem);
  if (rc != 0)
    return rc;
  s->sprof = *profile;
  nnrp_bytes *list[] = {&s->sprof.model_name};
  nnrp_ext_entry *ext = NULL;
  rc = own_bytes(s, list, 1, profile->extra_ext, profile->extra_ext_count,
                 &ext);
  if (rc != 0) {
    nnrp_session_del(s);
    return rc;
  }
  s->sprof.extra_ext = ext;
  /* The body limit the server advertises is also what it accepts. */
  if (profile->max_body_bytes < s->wopts.max_body_bytes)
    s->wopts.max_body_bytes = profile->max_body_bytes;
  s->reader.opts = s->wopts;
  s->handshake_deadline = 0; /* armed by the first recv/expiry call */
  *out = s;
  return 0;
}

void nnrp_session_del(nnrp_session *s) {
  if (s == NULL)
    return;
  nnrp__flow_free(s);
  nnrp__cache_free(s);
  nnrp__patch_free(s);
  nnrp_smem m = s->mem;
  nnrp__outq_free(&s->outq, &s->mem);
  nnrp__evq_free(&s->evq, &s->mem);
  nnrp__ft_free(&s->frames, &s->mem);
  nnrp__theap_free(&s->timers, &s->mem);
  nnrp__sfree(&s->mem, s->rbuf);
  nnrp__sfree(&s->mem, s->owned);
  nnrp__sfree(&s->mem, s->auth.ptr ? (void *)(uintptr_t)s->auth.ptr : NULL);
  m.used = s->mem.used;
  nnrp__sfree(&m, s);
}

nnrp_session_state nnrp_session_get_state(const nnrp_session *s) {
  return (nnrp_session_state)s->state;
}
uint32_t nnrp_session_id(const nnrp_session *s) { return s->session_id; }
int nnrp_session_is_server(const nnrp_session *s) { return s->is_server; }
uint32_t nnrp_session_in_flight(const nnrp_session *s) { return s->in_flight; }

int nnrp_session_last_error(const nnrp_session *s, nnrp_fault *fault) {
  if (fault)
    *fault = s->last_fault;
  return s->last_err;
}

const nnrp_server_hello_ack *nnrp_session_server_hello(const nnrp_session *s) {
  return (!s->is_server && s->session_id) ? &s->ack : NULL;
}

const nnrp_client_hello *nnrp_session_client_hello(const nnrp_session *s) {
  return (s->is_server && s->session_id) ? &s->hello : NULL;
}

/* ---- receive ----------------------------------------------------------- */

/* wire.md §16: the handshake phase. */
static unsigned phase_of(const nnrp_session *s, const nnrp_header *h) {
  if (h->msg_type == NNRP_MSG_CLIENT_HELLO ||
      h->msg_type == NNRP_MSG_SERVER_HELLO_ACK)
    return NNRP_MAP_HANDSHAKE;
  if (s->state == NNRP_STATE_INIT || s->state == NNRP_STATE_NEGOTIATING)
    return NNRP_MAP_HANDSHAKE;
  return 0;
}

/* Sends the ERROR for a failed packet; a fatal one ends the session.
 * Returns 0 (session continues) or NNRP_ERR_FATAL_PROTOCOL. */
static int reject(nnrp_session *s, int err, const nnrp_header *h,
                  const nnrp_fault *f, unsigned phase) {
  s->last_err = err;
  if (f)
    s->last_fault = *f;
  if (h->msg_type == NNRP_MSG_ERROR) {
    /* A malformed ERROR is dropped silently and never answered; but a
     * header fault ends the stream even when the header says ERROR. */
    if (!s->reader.failed)
      return 0;
    nnrp__terminate(s, err, NULL);
    return NNRP_ERR_FATAL_PROTOCOL;
  }
  nnrp_wire_error we;
  int send = nnrp_error_map(err, phase, &we);
  if (send)
    (void)nnrp__send_error(s, err, phase, h, f ? f->rule : NULL);
  if (send && !we.is_fatal && we.error_scope != NNRP_ERROR_SCOPE_CONNECTION)
    return 0;
  nnrp_error_record e;
  memset(&e, 0, sizeof(e));
  e.local = 1;
  e.lib_err = err;
  if (send) {
    e.error_code = we.error_code;
    e.error_scope = we.error_scope;
    e.is_fatal = 1;
  }
  nnrp__terminate(s, err, &e);
  return NNRP_ERR_FATAL_PROTOCOL;
}

/* Step 12: the header session_id rule of wire.md §2.4 / session.md §4.4. */
static int session_id_ok(const nnrp_session *s, const nnrp_header *h) {
  if (s->state != NNRP_STATE_ACTIVE && s->state != NNRP_STATE_DRAINING)
    return 1;
  switch (h->msg_type) {
  case NNRP_MSG_CLOSE:
  case NNRP_MSG_FLOW_UPDATE: /* 0 for CONNECTION scope (checked by wire) */
    return h->session_id == 0 || h->session_id == s->session_id;
  case NNRP_MSG_SESSION_PATCH:
  case NNRP_MSG_SESSION_PATCH_ACK:
  case NNRP_MSG_FRAME_SUBMIT:
  case NNRP_MSG_FRAME_CANCEL:
  case NNRP_MSG_RESULT_PUSH:
  case NNRP_MSG_RESULT_DROP:
  case NNRP_MSG_CACHE_PUT:
  case NNRP_MSG_CACHE_ACK:
  case NNRP_MSG_CACHE_INVALIDATE:
  case NNRP_MSG_RESULT_HINT:
    return h->session_id == s->session_id;
  default:
    return 1;
  }
}

static int handle(nnrp_session *s, const nnrp_packet *p) {
  switch (p->hdr.msg_type) {
  case NNRP_MSG_CLIENT_HELLO:
    return nnrp__on_client_hello(s, p);
  case NNRP_MSG_SERVER_HELLO_ACK:
    return nnrp__on_server_hello_ack(s, p);
  case NNRP_MSG_ERROR:
    return nnrp__on_error(s, p);
  case NNRP_MSG_CLOSE:
    return nnrp__on_close(s, p);
  case NNRP_MSG_FRAME_SUBMIT:
    return nnrp__on_submit(s, p);
  case NNRP_MSG_FRAME_CANCEL:
    return nnrp__on_cancel(s, p);
  case NNRP_MSG_RESULT_PUSH:
    return nnrp__on_result(s, p);
  case NNRP_MSG_RESULT_DROP:
    return nnrp__on_drop(s, p);
  case NNRP_MSG_PING:
    return nnrp__on_ping(s, p);
  case NNRP_MSG_TRANSPORT_PROBE:
    return nnrp__on_probe(s, p);
  case NNRP_MSG_PONG:
    return nnrp__on_control_event(s, p, NNRP_EV_PONG);
  case NNRP_MSG_TRANSPORT_PROBE_ACK:
    return s->is_server ? 0
                        : nnrp__on_control_event(s, p, NNRP_EV_PROBE_ACK);
  case NNRP_MSG_FLOW_UPDATE:
    return nnrp__flow_on_update(s, p);
  case NNRP_MSG_RESULT_HINT:
    return nnrp__flow_on_hint(s, p);
  case NNRP_MSG_CACHE_PUT:
    return nnrp__cache_on_put(s, p);
  case NNRP_MSG_CACHE_ACK:
    return nnrp__cache_on_ack(s, p);
  case NNRP_MSG_CACHE_INVALIDATE:
    return nnrp__cache_on_invalidate(s, p);
  case NNRP_MSG_SESSION_PATCH:
    return nnrp__patch_on_request(s, p);
  case NNRP_MSG_SESSION_PATCH_ACK:
    return nnrp__patch_on_ack(s, p);
  default:
    /* SESSION_MIGRATE(_ACK): answered by control.c until migration lands. */
    return nnrp__on_unsupported(s, p);
  }
}

/* One raw packet from the reader: steps 10-20. */
static int dispatch(nnrp_session *s, nnrp_packet *p) {
  const nnrp_header *h = &p->hdr;
  unsigned phase = phase_of(s, h);
  int first = s->first_packet;
  s->first_packet = 0;
  if (first && s->is_server)
    phase = NNRP_MAP_HANDSHAKE;
  switch (nnrp__legality(s->is_server, s->state, h->msg_type)) {
  case NNRP_L_IGNORE:
    return 0;
  case NNRP_L_FATAL:
    return reject(s, NNRP_ERR_HANDSHAKE_ORDER, h, NULL, NNRP_MAP_HANDSHAKE);
  case NNRP_L_ERR:
    return reject(s, NNRP_ERR_UNEXPECTED_MESSAGE, h, NULL, phase);
  case NNRP_L_DRAINING:
    return reject(s, NNRP_ERR_DRAINING, h, NULL, 0);
  default:
    break;
  }
  if (!session_id_ok(s, h))
    return reject(s, NNRP_ERR_FOREIGN_SESSION, h, NULL, phase);
  nnrp_fault f;
  memset(&f, 0, sizeof(f));
  if ((int)h->meta_len != nnrp_msg_meta_len(h->msg_type)) {
    f.err = NNRP_ERR_MALFORMED_BODY;
    f.offset = 12;
    f.rule = "wire.md §15 step 13";
    f.field = "meta_len";
    return reject(s, f.err, h, &f, phase);
  }
  if (h->msg_type == NNRP_MSG_FRAME_SUBMIT) {
    int rc = nnrp__server_check_frame_id(s, h);
    if (rc != 0)
      return reject(s, rc, h, NULL, phase);
  }
  int rc = nnrp_packet_decode_rest(p, h, p->meta_raw.ptr,
                                   (size_t)h->meta_len + h->body_len,
                                   &s->wopts, &f);
  if (rc != 0)
    return reject(s, rc, h, &f, phase);
  rc = handle(s, p);
  if (rc >= 0)
    return 0;
  /* A peer fault found by a handler (-1xx) gets its ERROR; a fatal library
   * error (NOMEM, ...) gets INTERNAL_ERROR and ends the session. Local
   * conditions (e.g. a full event queue) only drop the packet. */
  if (rc <= NNRP_ERR_FATAL_THRESHOLD) {
    (void)reject(s, rc, h, NULL, phase);
    return rc;
  }
  if (rc <= -100 && rc >= -199)
    return reject(s, rc, h, NULL, phase);
  s->last_err = rc;
  return 0;
}

static int ensure_rbuf(nnrp_session *s) {
  size_t need = nnrp_reader_need(&s->reader);
  if (need <= s->rbuf_cap)
    return nnrp_reader_set_buffer(&s->reader, s->rbuf, s->rbuf_cap);
  size_t cap = s->rbuf_cap ? s->rbuf_cap : 4096;
  while (cap < need)
    cap *= 2;
  uint8_t *nb = nnrp__srealloc(&s->mem, s->rbuf, cap);
  if (nb == NULL)
    return NNRP_ERR_NOMEM;
  s->rbuf = nb;
  s->rbuf_cap = cap;
  /* The reader moves what it holds (only the header bytes, which it keeps
   * in its own array, at this point). */
  return nnrp_reader_set_buffer(&s->reader, nb, cap);
}

static int input_blocked(const nnrp_session *s) {
  return s->view_pending || s->outq.bytes > s->st.max_output_bytes ||
         s->evq.count >= s->evq.limit;
}

static void arm_handshake_timer(nnrp_session *s, uint64_t now) {
  if (s->state == NNRP_STATE_INIT && s->is_server &&
      s->handshake_deadline == 0 && s->st.handshake_timeout_ns)
    s->handshake_deadline = now + s->st.handshake_timeout_ns;
  if (s->last_rx == 0)
    s->last_rx = now;
}

int64_t nnrp_session_recv(nnrp_session *s, const uint8_t *in, size_t len,
                          uint64_t now) {
  s->now = now;
  arm_handshake_timer(s, now);
  if (s->state == NNRP_STATE_CLOSED)
    return (int64_t)len; /* discarded */
  size_t used = 0;
  while (used < len && !input_blocked(s) && s->state != NNRP_STATE_CLOSED) {
    size_t c = 0;
    nnrp_fault f;
    int rc = nnrp_reader_next(&s->reader, in + used, len - used, &c, &s->pkt,
                              &f);
    used += c;
    if (rc == NNRP_READ_NEED_MORE)
      break;
    if (rc == NNRP_READ_NEED_BUFFER) {
      int r2 = ensure_rbuf(s);
      if (r2 != 0) {
        nnrp__terminate(s, r2, NULL);
        return r2;
      }
      continue;
    }
    s->last_rx = now;
    if (rc == NNRP_READ_SKIPPED) {
      rc = reject(s, NNRP_ERR_BODY_TOO_LARGE, &s->pkt.hdr, &f,
                  phase_of(s, &s->pkt.hdr));
    } else if (rc == NNRP_READ_PACKET) {
      rc = dispatch(s, &s->pkt);
    } else {
      /* Header faults (sticky in the reader): connection-fatal. */
      rc = reject(s, rc, &s->pkt.hdr, &f, phase_of(s, &s->pkt.hdr));
    }
    if (rc < 0)
      return rc;
  }
  return (int64_t)used;
}

int nnrp_session_recv_eof(nnrp_session *s, uint64_t now) {
  s->now = now;
  if (s->state == NNRP_STATE_CLOSED)
    return 0;
  nnrp_error_record e;
  memset(&e, 0, sizeof(e));
  e.local = 1;
  e.lib_err = nnrp_reader_at_boundary(&s->reader) ? NNRP_ERR_CONNECTION_LOST
                                                  : NNRP_ERR_TRUNCATED;
  e.error_scope = NNRP_ERROR_SCOPE_CONNECTION;
  e.is_fatal = 1;
  nnrp__terminate(s, e.lib_err, &e);
  return 0;
}

/* ---- output ------------------------------------------------------------ */

size_t nnrp_session_pending_output(const nnrp_session *s, nnrp_iov *iov,
                                   size_t iov_cap) {
  return nnrp__outq_pending(&s->outq, iov, iov_cap);
}

uint64_t nnrp_session_output_bytes(const nnrp_session *s) {
  return s->outq.bytes;
}

static void on_sent(void *ctx, void *user_data, uint32_t frame_id) {
  nnrp_session *s = ctx;
  nnrp_event ev;
  memset(&ev, 0, sizeof(ev));
  ev.type = NNRP_EV_SENT;
  ev.frame_id = frame_id;
  ev.user_data = user_data;
  ev.received_at = s->now;
  (void)nnrp__emit_reserved(s, &ev); /* reserved by nnrp__commit_notify */
}

int nnrp_session_output_consumed(nnrp_session *s, size_t n, uint64_t now) {
  s->now = now;
  return nnrp__outq_consume(&s->outq, &s->mem, n, on_sent, s);
}

int nnrp_session_want_close(const nnrp_session *s) {
  return s->state == NNRP_STATE_CLOSED;
}

/* ---- events ------------------------------------------------------------ */

int nnrp_session_next_event(nnrp_session *s, nnrp_event *ev) {
  int got = nnrp__evq_pop(&s->evq, ev);
  if (got && ev->packet != NULL)
    s->view_pending = 0;
  if (!got && s->closed_pending) {
    /* CLOSED comes after every other event and needs no queue slot. */
    *ev = s->closed_ev;
    s->closed_pending = 0;
    got = 1;
  }
  return got;
}

/* ---- timers ------------------------------------------------------------ */

static uint64_t min64(uint64_t a, uint64_t b) { return a < b ? a : b; }

uint64_t nnrp_session_get_expiry(const nnrp_session *s) {
  if (s->state == NNRP_STATE_CLOSED)
    return UINT64_MAX;
  uint64_t t = UINT64_MAX;
  if (s->handshake_deadline)
    t = min64(t, s->handshake_deadline);
  if (s->drain_deadline)
    t = min64(t, s->drain_deadline);
  t = min64(t, nnrp__keepalive_next(s));
  t = min64(t, nnrp__flow_next_expiry(s));
  t = min64(t, nnrp__cache_next_expiry(s));
  t = min64(t, nnrp__frames_next_expiry(s));
  return t;
}

int nnrp_session_handle_expiry(nnrp_session *s, uint64_t now) {
  s->now = now;
  arm_handshake_timer(s, now);
  if (s->state == NNRP_STATE_CLOSED)
    return 0;
  if (s->handshake_deadline && now >= s->handshake_deadline &&
      (s->state == NNRP_STATE_INIT || s->state == NNRP_STATE_NEGOTIATING)) {
    nnrp_error_record e;
    memset(&e, 0, sizeof(e));
    e.local = 1;
    e.lib_err = NNRP_ERR_TIMEOUT;
    nnrp__terminate(s, NNRP_ERR_TIMEOUT, &e); /* close without ERROR */
    return 0;
  }
  int rc = s->is_server ? nnrp__server_frame_expiry(s, now)
                        : nnrp__client_frame_expiry(s, now);
  if (rc > NNRP_ERR_FATAL_THRESHOLD)
    rc = nnrp__flow_expiry(s, now);
  if (rc > NNRP_ERR_FATAL_THRESHOLD)
    rc = nnrp__cache_expiry(s, now);
  if (rc > NNRP_ERR_FATAL_THRESHOLD && s->drain_deadline &&
      now >= s->drain_deadline) {
    s->drain_deadline = 0;
    nnrp__drain_expired(s);
  }
  if (rc > NNRP_ERR_FATAL_THRESHOLD)
    rc = nnrp__keepalive_expiry(s, now);
  if (rc <= NNRP_ERR_FATAL_THRESHOLD) {
    /* A fatal failure (memory) in a timer ends the session like one in
     * recv: frames fail, CLOSED follows. */
    nnrp__terminate(s, rc, NULL);
    return rc;
  }
  return 0;
}
