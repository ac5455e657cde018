/* SPDX-License-Identifier: Apache-2.0 */
/*
 * hs_server.c - the server side of the handshake: a CLIENT_HELLO already
 * validated by the wire layer (wire.md §4.1, §5, stateless step 17) is
 * negotiated (session.md §3.3 steps 4-9, §3.6 fixed fields, §3.7
 * extensions, §3.5 auth, §3.4 session id), answered with SERVER_HELLO_ACK
 * and the session enters ACTIVE. Failures return the NNRP_ERR_* that
 * dispatch() turns into ERROR (CONNECTION, fatal) + close (D6).
 */
#include <string.h>

#include "session_int.h"

static const char rule_window[] = "session.md §3.3 step 4";
static const char rule_caps[] = "session.md §3.6";
static const char rule_force[] = "session.md §3.7";

/* Tries this many random ids before giving up with SERVER_BUSY (an id
 * space that full means the process is overloaded). */
#define ID_ATTEMPTS 64

/* Step 4. The wire decoder already rejects these (stateless step 17); kept
 * so the handler does not depend on which decoder ran. */
static int check_version(nnrp_session *s, const nnrp_client_hello *c) {
  if (c->min_version_major > NNRP_PROTOCOL_VERSION_MAJOR)
    return nnrp__fault(s, NNRP_ERR_UNSUPPORTED_VERSION, 0, rule_window,
                "min_version_major");
  if (c->max_version_major < NNRP_PROTOCOL_VERSION_MAJOR)
    return nnrp__fault(s, NNRP_ERR_UNSUPPORTED_VERSION, 1, rule_window,
                "max_version_major");
  if ((c->supported_wire_format_bitmap & (1u << NNRP_WIRE_FORMAT_CURRENT)) == 0)
    return nnrp__fault(s, NNRP_ERR_UNSUPPORTED_VERSION, 2, rule_window,
                "supported_wire_format_bitmap");
  return 0;
}

static uint16_t min16(uint32_t a, uint32_t b) {
  return (uint16_t)(a < b ? a : b);
}

/* Step 5: the fixed fields of §3.6 (every bitmap is client ∩ server, D5). */
static int negotiate(nnrp_session *s, const nnrp_client_hello *c,
                     const nnrp_hello_exts *x, nnrp_server_hello_ack *a) {
  const nnrp_server_profile *sp = &s->sprof;
  memset(a, 0, sizeof(*a));
  a->selected_version_major = NNRP_PROTOCOL_VERSION_MAJOR;
  a->selected_wire_format = NNRP_WIRE_FORMAT_CURRENT;
  a->accepted_profile_bitmap = c->supported_profile_bitmap & sp->profile_bitmap;
  if (a->accepted_profile_bitmap == 0)
    return nnrp__fault(s, NNRP_ERR_UNSUPPORTED_CAPABILITY, 4, rule_caps,
                "supported_profile_bitmap");
  uint32_t kinds = c->supported_payload_kind_bitmap & sp->payload_kinds &
                   NNRP_PAYLOAD_KIND_KNOWN_MASK;
  if (x->present & NNRP_HELLO_EXT_PAYLOAD_CAPS)
    kinds &= x->payload_caps.payload_kind_bitmap;
  a->accepted_payload_kind_bitmap = kinds;
  if (kinds == 0)
    return nnrp__fault(s, NNRP_ERR_UNSUPPORTED_CAPABILITY, 8, rule_caps,
                "supported_payload_kind_bitmap");
  a->accepted_codec_bitmap = c->supported_codec_bitmap & sp->codec_bitmap;
  a->accepted_compression_bitmap =
      c->supported_compression_bitmap & sp->compression_bitmap;
  a->accepted_dtype_bitmap = c->supported_dtype_bitmap & sp->dtype_bitmap;
  a->accepted_layout_bitmap = c->supported_layout_bitmap & sp->layout_bitmap;
  /* The only digest id of this revision is bit 0 (wire.md §4.1). */
  a->cache_digest_bitmap = c->cache_digest_bitmap & 0x0001u;
  nnrp__cache_negotiate(s, c, a); /* quotas, object kinds, server_flags */
  uint32_t lanes = c->max_lane_count ? c->max_lane_count : 1u;
  a->max_lane_count = min16(lanes, s->st.max_lanes);
  a->max_concurrent_frames = sp->max_concurrent_frames;
  a->target_cadence_x100 = c->target_cadence_x100; /* echoes [R] */
  a->latency_budget_ms = c->latency_budget_ms;
  a->quality_tier = c->quality_tier;
  a->degrade_policy = c->degrade_policy;
  a->max_body_bytes = sp->max_body_bytes;
  a->token_ttl_ms = sp->token_ttl_ms;
  return 0;
}

/* Step 6: FORCE_x while this connection is not x. Unknown CRITICAL entries
 * were already refused by the wire decoder (wire.md §5.2 rule 8). */
static int check_transport(nnrp_session *s, const nnrp_hello_exts *x) {
  if ((x->present & NNRP_HELLO_EXT_TRANSPORT_POLICY) == 0)
    return 0;
  uint8_t pol = x->transport_policy.transport_policy;
  if ((pol == NNRP_TRANSPORT_POLICY_FORCE_QUIC &&
       s->st.transport_id != NNRP_TRANSPORT_QUIC) ||
      (pol == NNRP_TRANSPORT_POLICY_FORCE_TCP &&
       s->st.transport_id != NNRP_TRANSPORT_TCP))
    return nnrp__fault(s, NNRP_ERR_UNSUPPORTED_CAPABILITY, 0, rule_force,
                "transport_policy");
  return 0;
}

/* Step 7 (§3.5): the application decides; no validator accepts all. */
static int check_auth(nnrp_session *s, nnrp_bytes auth) {
  const nnrp_server_profile *sp = &s->sprof;
  if (sp->auth_validator == NULL ||
      sp->auth_validator(auth.ptr, auth.len, sp->auth_user))
    return 0;
  return nnrp__fault(s, NNRP_ERR_AUTH_FAILED, 56, "session.md §3.5 rule 4",
              "auth_block");
}

static int id_taken(const nnrp_session *s, uint32_t id) {
  return s->sprof.id_in_use != NULL && s->sprof.id_in_use(id, s->sprof.id_user);
}

/* Step 9, §3.4: the requested id if free, else a random free one; 0 when
 * none was found (the caller answers SERVER_BUSY). */
static uint32_t assign_id(nnrp_session *s, uint32_t requested) {
  if (requested != 0 && !id_taken(s, requested))
    return requested;
  for (int i = 0; i < ID_ATTEMPTS; i++) {
    uint32_t id = nnrp__rand32(s);
    if (id != 0 && !id_taken(s, id))
      return id;
  }
  return 0;
}

/* The ack's extension answers of §3.7, in the order of the table. */
static void answer_exts(nnrp_session *s, const nnrp_hello_exts *x,
                        const nnrp_server_hello_ack *a, nnrp_hello_exts *ax) {
  memset(ax, 0, sizeof(*ax));
  if (x->present & NNRP_HELLO_EXT_TRANSPORT_POLICY) {
    uint8_t pol = x->transport_policy.transport_policy;
    ax->present |= NNRP_HELLO_EXT_TRANSPORT_POLICY;
    ax->transport_policy.transport_policy = pol;
    ax->transport_policy.accepted_transport_policy = pol;
    ax->transport_policy.transport_id = s->st.transport_id;
  }
  if (x->present & NNRP_HELLO_EXT_LOSS_TOLERANCE) {
    ax->present |= NNRP_HELLO_EXT_LOSS_TOLERANCE; /* accepted as is */
    ax->loss_tolerance.loss_tolerance = x->loss_tolerance.loss_tolerance;
  }
  if (x->present & NNRP_HELLO_EXT_PAYLOAD_CAPS) {
    ax->present |= NNRP_HELLO_EXT_PAYLOAD_CAPS;
    ax->payload_caps.payload_kind_bitmap = a->accepted_payload_kind_bitmap;
  }
  if (s->sprof.model_name.len != 0) {
    ax->present |= NNRP_HELLO_EXT_MODEL_NAME;
    ax->model_name = s->sprof.model_name;
  }
}

/* §3.5 rule 5: the session keeps its auth block (migration token check). */
static int keep_auth(nnrp_session *s, nnrp_bytes auth) {
  if (auth.len == 0)
    return 0;
  uint8_t *copy = nnrp__smalloc(&s->mem, auth.len);
  if (copy == NULL)
    return NNRP_ERR_NOMEM;
  memcpy(copy, auth.ptr, auth.len);
  nnrp__sfree(&s->mem, s->auth.ptr ? (void *)(uintptr_t)s->auth.ptr : NULL);
  s->auth.ptr = copy;
  s->auth.len = auth.len;
  return 0;
}

/* Queues SERVER_HELLO_ACK (header session_id = the assigned id, D5;
 * route_id and trace_id echo the hello, wire.md §2.4). */
static int send_ack(nnrp_session *s, const nnrp_packet *p, nnrp_meta *m,
                    const nnrp_hello_exts *ax) {
  nnrp_header h;
  nnrp_header_init(&h, NNRP_MSG_SERVER_HELLO_ACK);
  h.flags = NNRP_FLAG_ACK_REQUIRED;
  h.session_id = m->server_hello_ack.session_id;
  h.route_id = p->hdr.route_id;
  h.trace_id = p->hdr.trace_id;
  nnrp_control_body body;
  memset(&body, 0, sizeof(body));
  body.ext = ax;
  body.extra_ext = s->sprof.extra_ext;
  body.extra_ext_count = s->sprof.extra_ext_count;
  return nnrp__send_control(s, &h, m, &body);
}

/* Steps 4-8; 0 or the NNRP_ERR_* of the first failing step. */
static int evaluate(nnrp_session *s, const nnrp_packet *p, nnrp_meta *m) {
  const nnrp_client_hello *c = &p->m.client_hello;
  const nnrp_hello_exts *x = &p->b.client_hello.ext;
  int rc = check_version(s, c);
  if (rc == 0)
    rc = negotiate(s, c, x, &m->server_hello_ack);
  if (rc == 0)
    rc = check_transport(s, x);
  if (rc == 0)
    rc = check_auth(s, p->b.client_hello.auth);
  /* Step 8 (session limit, SERVER_BUSY) belongs to whoever owns the
   * process's sessions (the runtime); the sans-I/O session has no count. */
  return rc;
}

int nnrp__on_client_hello(nnrp_session *s, const nnrp_packet *p) {
  if (!s->is_server || s->state != NNRP_STATE_INIT)
    return NNRP_ERR_HANDSHAKE_ORDER; /* legality already excludes this */
  nnrp__set_state(s, NNRP_STATE_NEGOTIATING);
  nnrp_meta m;
  int rc = evaluate(s, p, &m);
  if (rc != 0)
    return rc;
  nnrp_server_hello_ack *a = &m.server_hello_ack;
  a->session_id = assign_id(s, p->m.client_hello.requested_session_id);
  if (a->session_id == 0)
    return nnrp__fault(s, NNRP_ERR_SERVER_BUSY, 52, "session.md §3.4",
                "requested_session_id");
  nnrp_hello_exts ax;
  answer_exts(s, &p->b.client_hello.ext, a, &ax);
  rc = keep_auth(s, p->b.client_hello.auth);
  if (rc == 0)
    rc = send_ack(s, p, &m, &ax);
  if (rc != 0)
    return nnrp__local_fatal(s, rc, &p->hdr);

  s->hello = p->m.client_hello;
  s->ack = *a; /* as sent (control_extension_bytes derived) */
  s->session_id = a->session_id;
  s->loss_tolerance = (ax.present & NNRP_HELLO_EXT_LOSS_TOLERANCE)
                          ? ax.loss_tolerance.loss_tolerance
                          : (uint8_t)NNRP_LOSS_TOLERANCE_BEST_EFFORT;
  s->wopts.payload_kinds = a->accepted_payload_kind_bitmap;
  s->wopts.cache_objects = a->cache_object_bitmap; /* 0: cache disabled */
  s->reader.opts = s->wopts;
  s->handshake_deadline = 0;
  nnrp__set_state(s, NNRP_STATE_ACTIVE);
  rc = nnrp__flow_on_active(s); /* credit policy GRANT after the ack */
  if (rc != 0)
    return nnrp__local_fatal(s, rc, &p->hdr);

  nnrp_event ev;
  memset(&ev, 0, sizeof(ev));
  ev.type = NNRP_EV_HANDSHAKE;
  ev.packet = p;
  ev.received_at = s->now;
  rc = nnrp__emit(s, &ev);
  if (rc != 0)
    return nnrp__local_fatal(s, rc, &p->hdr);
  return 0;
}
