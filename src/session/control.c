/* SPDX-License-Identifier: Apache-2.0 */
/*
 * control.c - session control paths: sending and receiving ERROR
 * (session.md §6.3, §6.4), CLOSE and draining (§6.1), termination (§6.2),
 * keep-alive PING/PONG (§5), probe answers (§11.2), and the answers to
 * messages whose modules are not in this revision (patch, cache, migrate).
 */
#include <string.h>

#include "session_int.h"

/* ---- local failures ------------------------------------------------------ */

int nnrp__fault(nnrp_session *s, int err, uint32_t off, const char *rule,
                const char *field) {
  s->last_fault.err = err;
  s->last_fault.offset = off;
  s->last_fault.rule = rule;
  s->last_fault.field = field;
  return err;
}

int nnrp__local_fatal(nnrp_session *s, int rc, const nnrp_header *about) {
  int fatal = rc <= NNRP_ERR_FATAL_THRESHOLD ? rc : NNRP_ERR_INTERNAL;
  s->last_err = rc;
  (void)nnrp__send_error(s, fatal, NNRP_MAP_HANDSHAKE, about, NULL);
  nnrp_error_record e;
  memset(&e, 0, sizeof(e));
  e.local = 1;
  e.lib_err = rc;
  e.error_code = NNRP_ERROR_CODE_INTERNAL_ERROR;
  e.error_scope = NNRP_ERROR_SCOPE_CONNECTION;
  e.is_fatal = 1;
  nnrp__terminate(s, rc, &e);
  return fatal;
}

/* ---- ERROR ------------------------------------------------------------- */

/* Appends src to dst (capacity cap, current length *n), NUL-free. */
static void cat(char *dst, size_t cap, size_t *n, const char *src) {
  while (src && *src && *n < cap)
    dst[(*n)++] = *src++;
}

int nnrp__send_error(nnrp_session *s, int lib_err, unsigned phase,
                     const nnrp_header *about, const char *detail) {
  nnrp_wire_error we;
  if (!nnrp_error_map(lib_err, phase, &we) || s->fatal_error_sent)
    return 0;
  /* Diagnostic: "<message>: <rule>", at most 256 bytes (session.md §6.3). */
  char diag[256];
  size_t n = 0;
  cat(diag, sizeof(diag), &n, nnrp_strerror(lib_err));
  if (detail) {
    cat(diag, sizeof(diag), &n, ": ");
    cat(diag, sizeof(diag), &n, detail);
  }
  nnrp_header h;
  nnrp_header_init(&h, NNRP_MSG_ERROR);
  nnrp_meta m;
  memset(&m, 0, sizeof(m));
  m.error.error_code = we.error_code;
  m.error.error_scope = we.error_scope;
  m.error.is_fatal = we.is_fatal;
  if (about) {
    h.session_id = about->session_id;
    h.frame_id = about->frame_id;
    h.view_id = about->view_id;
    h.route_id = about->route_id;
    h.trace_id = about->trace_id;
    m.error.related_session_id = about->session_id;
    m.error.related_frame_id = about->frame_id;
    m.error.related_view_id = about->view_id;
  }
  nnrp_control_body body;
  memset(&body, 0, sizeof(body));
  body.bytes.ptr = (const uint8_t *)diag;
  body.bytes.len = n;
  int rc = nnrp__send_control(s, &h, &m, &body);
  if (rc == 0 && (we.is_fatal || we.error_scope == NNRP_ERROR_SCOPE_CONNECTION))
    s->fatal_error_sent = 1;
  return rc;
}

static void record_from(nnrp_error_record *e, const nnrp_packet *p) {
  memset(e, 0, sizeof(*e));
  const nnrp_error_meta *m = &p->m.error;
  e->error_code = m->error_code;
  e->error_scope = m->error_scope;
  e->is_fatal = m->is_fatal;
  e->retry_after_ms = m->retry_after_ms;
  e->related_session_id = m->related_session_id;
  e->related_frame_id = m->related_frame_id;
  e->related_view_id = m->related_view_id;
  e->lib_err = NNRP_ERR_PEER_ERROR;
  e->diagnostic = p->b.diagnostic;
}

int nnrp__on_error(nnrp_session *s, const nnrp_packet *p) {
  nnrp_error_record e;
  record_from(&e, p);
  /* session.md §6.4: CONNECTION scope is fatal whatever is_fatal says. */
  if (e.error_scope == NNRP_ERROR_SCOPE_CONNECTION || e.is_fatal) {
    nnrp__terminate(s, NNRP_ERR_PEER_ERROR, &e);
    return 0;
  }
  nnrp__cache_on_peer_error(s, &e); /* CACHE_MISS: mirror clean-up (§9.6) */
  if (!s->is_server && e.related_frame_id != 0) {
    nnrp_frame *f = nnrp__ft_get(&s->frames, e.related_frame_id);
    if (f && (f->flags & NNRP_FR_IN_FLIGHT))
      return nnrp__client_frame_fail(s, f, &e);
  }
  nnrp_event ev;
  memset(&ev, 0, sizeof(ev));
  ev.type = NNRP_EV_PEER_ERROR;
  ev.frame_id = e.related_frame_id;
  ev.packet = p;
  ev.error = e;
  ev.received_at = s->now;
  return nnrp__emit(s, &ev);
}

/* ---- termination, CLOSE and draining ----------------------------------- */

void nnrp__terminate(nnrp_session *s, int lib_err,
                     const nnrp_error_record *e) {
  if (s->state == NNRP_STATE_CLOSED)
    return;
  nnrp_error_record rec;
  if (e == NULL) {
    memset(&rec, 0, sizeof(rec));
    rec.local = 1;
    rec.lib_err = lib_err;
    rec.error_scope = NNRP_ERROR_SCOPE_CONNECTION;
    rec.is_fatal = lib_err != 0;
    e = &rec;
  }
  /* CLOSED first, so that the frames ending below cannot finish a drain and
   * terminate again. */
  nnrp__set_state(s, NNRP_STATE_CLOSED);
  s->handshake_deadline = 0;
  s->drain_deadline = 0;
  if (!s->is_server)
    nnrp__client_fail_all(s, e); /* reserved slots: never lost */
  else
    nnrp__server_forget_all(s);
  /* Delivered by nnrp_session_next_event() after every queued event; it
   * needs no queue slot, so it cannot be lost either. */
  memset(&s->closed_ev, 0, sizeof(s->closed_ev));
  s->closed_ev.type = NNRP_EV_CLOSED;
  s->closed_ev.error = *e;
  s->closed_ev.error.diagnostic.ptr = NULL; /* the packet is gone by then */
  s->closed_ev.error.diagnostic.len = 0;
  s->closed_ev.received_at = s->now;
  s->closed_pending = 1;
}

static int send_close(nnrp_session *s) {
  if (s->close_sent)
    return 0;
  nnrp_header h;
  nnrp_header_init(&h, NNRP_MSG_CLOSE);
  h.session_id = s->session_id;
  nnrp_meta m;
  memset(&m, 0, sizeof(m));
  int rc = nnrp__send_control(s, &h, &m, NULL);
  if (rc == 0)
    s->close_sent = 1;
  return rc;
}

void nnrp__maybe_finish_drain(nnrp_session *s) {
  if (s->state != NNRP_STATE_DRAINING || s->in_flight != 0)
    return;
  if (s->close_received && !s->close_sent)
    (void)send_close(s); /* the receiver answers once its frames are done */
  if (s->close_sent && s->close_received)
    nnrp__terminate(s, 0, NULL);
}

int nnrp__on_close(nnrp_session *s, const nnrp_packet *p) {
  (void)p;
  s->close_received = 1;
  if (s->state == NNRP_STATE_INIT || s->state == NNRP_STATE_NEGOTIATING) {
    nnrp__terminate(s, NNRP_ERR_CLOSED, NULL); /* no drain before ACTIVE */
    return 0;
  }
  if (s->state == NNRP_STATE_ACTIVE) {
    nnrp__set_state(s, NNRP_STATE_DRAINING);
    s->drain_deadline = s->now + s->st.drain_timeout_ns;
    nnrp_event ev;
    memset(&ev, 0, sizeof(ev));
    ev.type = NNRP_EV_CLOSING;
    ev.received_at = s->now;
    int rc = nnrp__emit(s, &ev);
    if (rc != 0)
      return rc;
  }
  nnrp__maybe_finish_drain(s);
  return 0;
}

void nnrp__drain_expired(nnrp_session *s) {
  if (s->state != NNRP_STATE_DRAINING)
    return;
  if (s->is_server)
    nnrp__server_drop_all(s); /* every frame still in flight: RESULT_DROP */
  (void)send_close(s);
  nnrp_error_record e;
  memset(&e, 0, sizeof(e));
  e.local = 1;
  e.lib_err = NNRP_ERR_CLOSED;
  e.error_scope = NNRP_ERROR_SCOPE_CONNECTION;
  nnrp__terminate(s, NNRP_ERR_CLOSED, &e);
}

int nnrp_session_close(nnrp_session *s, uint64_t now) {
  s->now = now;
  switch (s->state) {
  case NNRP_STATE_INIT:
  case NNRP_STATE_NEGOTIATING:
    nnrp__terminate(s, NNRP_ERR_CLOSED, NULL);
    return 0;
  case NNRP_STATE_ACTIVE: {
    int rc = send_close(s);
    if (rc != 0)
      return rc;
    nnrp__set_state(s, NNRP_STATE_DRAINING);
    s->drain_deadline = now + s->st.drain_timeout_ns;
    nnrp__maybe_finish_drain(s);
    return 0;
  }
  default:
    return 0;
  }
}

/* ---- keep-alive (session.md §5) ---------------------------------------- */

static int keepalive_on(const nnrp_session *s) {
  return s->state == NNRP_STATE_ACTIVE || s->state == NNRP_STATE_DRAINING;
}

uint64_t nnrp__keepalive_next(const nnrp_session *s) {
  if (!keepalive_on(s))
    return UINT64_MAX;
  uint64_t t = UINT64_MAX;
  if (s->st.peer_dead_timeout_ns)
    t = s->last_rx + s->st.peer_dead_timeout_ns;
  if (s->st.keepalive_interval_ns) {
    uint64_t base = s->last_ping > s->last_rx ? s->last_ping : s->last_rx;
    uint64_t ping = base + s->st.keepalive_interval_ns;
    if (ping < t)
      t = ping;
  }
  return t;
}

static int send_ping(nnrp_session *s, uint64_t trace_id) {
  nnrp_header h;
  nnrp_header_init(&h, NNRP_MSG_PING);
  h.session_id = s->session_id;
  h.trace_id = trace_id;
  nnrp_meta m;
  memset(&m, 0, sizeof(m));
  return nnrp__send_control(s, &h, &m, NULL);
}

int nnrp__keepalive_expiry(nnrp_session *s, uint64_t now) {
  if (!keepalive_on(s))
    return 0;
  if (s->st.peer_dead_timeout_ns &&
      now >= s->last_rx + s->st.peer_dead_timeout_ns) {
    /* Dead peer: close without ERROR; frames fail with connection lost. */
    nnrp__terminate(s, NNRP_ERR_CONNECTION_LOST, NULL);
    return 0;
  }
  if (s->st.keepalive_interval_ns) {
    uint64_t base = s->last_ping > s->last_rx ? s->last_ping : s->last_rx;
    if (now >= base + s->st.keepalive_interval_ns) {
      s->last_ping = now;
      return send_ping(s, now / 1000u); /* trace_id: send time in µs */
    }
  }
  return 0;
}

int nnrp_session_ping(nnrp_session *s, uint64_t trace_id, uint64_t now) {
  s->now = now;
  if (s->state == NNRP_STATE_CLOSED)
    return NNRP_ERR_CLOSED;
  return send_ping(s, trace_id);
}

int nnrp__on_ping(nnrp_session *s, const nnrp_packet *p) {
  nnrp_header h;
  nnrp_header_init(&h, NNRP_MSG_PONG); /* D13: copy the PING's ids */
  h.session_id = p->hdr.session_id;
  h.route_id = p->hdr.route_id;
  h.trace_id = p->hdr.trace_id;
  nnrp_meta m;
  memset(&m, 0, sizeof(m));
  return nnrp__send_control(s, &h, &m, NULL);
}

int nnrp__on_probe(nnrp_session *s, const nnrp_packet *p) {
  nnrp_header h;
  nnrp_header_init(&h, NNRP_MSG_TRANSPORT_PROBE_ACK);
  h.session_id = p->hdr.session_id;
  h.route_id = p->hdr.route_id;
  h.trace_id = p->hdr.trace_id;
  nnrp_meta m;
  memset(&m, 0, sizeof(m));
  m.transport_probe_ack.probe_id = p->m.transport_probe.probe_id;
  /* Informational receive time; the core has only the caller's monotonic
   * clock (session.md §11.2 uses it for nothing but display). */
  m.transport_probe_ack.server_recv_ts_us = s->now / 1000u;
  return nnrp__send_control(s, &h, &m, NULL);
}

int nnrp__on_control_event(nnrp_session *s, const nnrp_packet *p,
                           nnrp_event_type type) {
  nnrp_event ev;
  memset(&ev, 0, sizeof(ev));
  ev.type = type;
  ev.frame_id = p->hdr.frame_id;
  ev.view_id = p->hdr.view_id;
  ev.packet = p;
  ev.received_at = s->now;
  return nnrp__emit(s, &ev);
}

/* ---- messages of later issues ------------------------------------------ */

static void answer_header(nnrp_header *h, uint8_t type, const nnrp_packet *p,
                          uint32_t session_id) {
  nnrp_header_init(h, type);
  h->session_id = session_id;
  h->route_id = p->hdr.route_id;
  h->trace_id = p->hdr.trace_id;
}

int nnrp__on_unsupported(nnrp_session *s, const nnrp_packet *p) {
  nnrp_header h;
  nnrp_meta m;
  memset(&m, 0, sizeof(m));
  switch (p->hdr.msg_type) {
  case NNRP_MSG_SESSION_MIGRATE:
    answer_header(&h, NNRP_MSG_SESSION_MIGRATE_ACK, p, p->hdr.session_id);
    m.session_migrate_ack.accept_code = 4; /* §11.11: migration disabled */
    if (nnrp__send_control(s, &h, &m, NULL) == 0 &&
        s->state == NNRP_STATE_INIT)
      nnrp__terminate(s, NNRP_ERR_CLOSED, NULL); /* then close (§16) */
    return 0;
  default: /* SESSION_MIGRATE_ACK: unsolicited, ignored */
    return 0;
  }
}
