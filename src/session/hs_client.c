/* SPDX-License-Identifier: Apache-2.0 */
/*
 * hs_client.c - the client side of the handshake: nnrp_session_connect()
 * builds and queues CLIENT_HELLO (session.md §3.2, extension 0x0101 per
 * §11.1); SERVER_HELLO_ACK is checked against what was offered (§3.8 steps
 * 5-7: version window, auth_status, subset rule D5), adopted (step 8) and
 * the session enters ACTIVE (step 9).
 */
#include <string.h>

#include "session_int.h"

static const char rule_window[] = "session.md §3.8 step 5";
static const char rule_subset[] = "wire.md §4.2 D5";
static const char rule_common[] = "session.md §3.9";

/* ---- CLIENT_HELLO (§3.2) ------------------------------------------------ */

/*
 * Extension 0x0101 (session.md §11.1). The C profile merges ClientProfile
 * and ClientDialPolicy: transport_policy is the profile's policy and
 * preferred_transport_id the forced or selected binding. Chosen mapping:
 *  - AUTO, preferred 0: no 0x0101 ("neither set, policy AUTO: no
 *    extension");
 *  - AUTO, preferred x: the caller (or a probe) selected x, so
 *    (PREFER_x, x) ("selected x -> PREFER_x");
 *  - any other policy: sent as given with the preferred id as given
 *    (PREFER_QUIC + 1 is the seed default of the vectors; 0 = none);
 *  - FORCE_x with a preferred id that names the other binding contradicts
 *    itself ("both set and different is a local error"):
 *    NNRP_ERR_INVALID_ARGUMENT; so is a preferred id outside {0, 1, 2}.
 */
static int transport_ext(const nnrp_client_profile *cp, nnrp_hello_exts *x) {
  uint8_t pol = cp->transport_policy;
  uint32_t id = cp->preferred_transport_id;
  if (id > NNRP_TRANSPORT_TCP)
    return NNRP_ERR_INVALID_ARGUMENT;
  if ((pol == NNRP_TRANSPORT_POLICY_FORCE_QUIC && id == NNRP_TRANSPORT_TCP) ||
      (pol == NNRP_TRANSPORT_POLICY_FORCE_TCP && id == NNRP_TRANSPORT_QUIC))
    return NNRP_ERR_INVALID_ARGUMENT;
  if (pol == NNRP_TRANSPORT_POLICY_AUTO) {
    if (id == NNRP_TRANSPORT_UNSPECIFIED)
      return 0;
    pol = id == NNRP_TRANSPORT_QUIC ? NNRP_TRANSPORT_POLICY_PREFER_QUIC
                                    : NNRP_TRANSPORT_POLICY_PREFER_TCP;
  }
  x->present |= NNRP_HELLO_EXT_TRANSPORT_POLICY;
  x->transport_policy.transport_policy = pol;
  x->transport_policy.transport_id = id;
  return 0;
}

/* requested_session_id: the caller's, else a random non-zero id (nnrp-py
 * 1.0.0rc2 servers echo the request, so 0 is never sent). A rand hook that
 * keeps returning 0 ends in 1 rather than looping forever. */
static uint32_t requested_id(nnrp_session *s) {
  if (s->cprof.requested_session_id != 0)
    return s->cprof.requested_session_id;
  for (int i = 0; i < 16; i++) {
    uint32_t id = nnrp__rand32(s);
    if (id != 0)
      return id;
  }
  return 1;
}

static void hello_meta(nnrp_session *s, nnrp_client_hello *c) {
  const nnrp_client_profile *cp = &s->cprof;
  memset(c, 0, sizeof(*c));
  c->min_version_major = NNRP_PROTOCOL_VERSION_MAJOR;
  c->max_version_major = NNRP_PROTOCOL_VERSION_MAJOR;
  c->supported_wire_format_bitmap = 1u << NNRP_WIRE_FORMAT_CURRENT;
  c->supported_profile_bitmap = cp->profile_bitmap;
  c->supported_payload_kind_bitmap =
      cp->payload_kinds & NNRP_PAYLOAD_KIND_KNOWN_MASK;
  c->supported_codec_bitmap = cp->codec_bitmap;
  c->supported_compression_bitmap = cp->compression_bitmap;
  c->supported_dtype_bitmap = cp->dtype_bitmap;
  c->supported_layout_bitmap = cp->layout_bitmap;
  c->cache_digest_bitmap = 0x0001; /* wire.md §4.1: no ids defined */
  if (cp->enable_cache) {
    c->cache_object_bitmap = cp->cache_object_bitmap;
    c->cache_namespace_count = 1;
    c->max_cache_entries = cp->max_cache_entries;
    c->max_cache_bytes = cp->max_cache_bytes;
  }
  c->max_lane_count = cp->max_views;
  c->target_cadence_x100 = cp->target_cadence_x100;
  c->latency_budget_ms = cp->latency_budget_ms;
  c->quality_tier = cp->quality_tier;
  c->degrade_policy = cp->degrade_policy;
  c->requested_session_id = requested_id(s);
  /* auth_bytes and control_extension_bytes are derived by the builder. */
}

int nnrp__client_hello_send(nnrp_session *s) {
  const nnrp_client_profile *cp = &s->cprof;
  nnrp_hello_exts x;
  memset(&x, 0, sizeof(x));
  int rc = transport_ext(cp, &x);
  if (rc != 0)
    return rc;
  if (cp->has_loss_tolerance) {
    x.present |= NNRP_HELLO_EXT_LOSS_TOLERANCE;
    x.loss_tolerance.loss_tolerance = cp->loss_tolerance;
  }
  uint32_t kinds = cp->payload_kinds & NNRP_PAYLOAD_KIND_KNOWN_MASK;
  if (kinds & ~(uint32_t)NNRP_PAYLOAD_KIND_TENSOR) {
    x.present |= NNRP_HELLO_EXT_PAYLOAD_CAPS;
    x.payload_caps.payload_kind_bitmap = kinds; /* critical bitmap 0 */
  }
  nnrp_header h;
  nnrp_header_init(&h, NNRP_MSG_CLIENT_HELLO);
  h.flags = NNRP_FLAG_ACK_REQUIRED; /* session_id 0: set by the builder */
  nnrp_meta m;
  hello_meta(s, &m.client_hello);
  nnrp_control_body body;
  memset(&body, 0, sizeof(body));
  body.ext = &x; /* D3: extension block first, then the auth block */
  body.extra_ext = cp->extra_ext;
  body.extra_ext_count = cp->extra_ext_count;
  body.bytes = cp->auth_block;
  rc = nnrp__send_control(s, &h, &m, &body);
  if (rc != 0)
    return rc;
  s->hello = m.client_hello; /* with the derived lengths */
  nnrp__set_state(s, NNRP_STATE_NEGOTIATING);
  s->handshake_deadline =
      s->st.handshake_timeout_ns ? s->now + s->st.handshake_timeout_ns : 0;
  return 0;
}

int nnrp_session_connect(nnrp_session *s, uint64_t now) {
  if (s == NULL || s->is_server || s->state != NNRP_STATE_INIT)
    return NNRP_ERR_INVALID_STATE;
  s->now = now;
  if (s->last_rx == 0)
    s->last_rx = now;
  return nnrp__client_hello_send(s);
}

/* ---- SERVER_HELLO_ACK (§3.8) -------------------------------------------- */

/* Step 5: the selected version and wire format must be inside what the
 * client offered (the wire decoder already required 1 / 0). */
static int check_window(nnrp_session *s, const nnrp_server_hello_ack *a) {
  if (a->selected_version_major < s->hello.min_version_major ||
      a->selected_version_major > s->hello.max_version_major)
    return nnrp__fault(s, NNRP_ERR_UNSUPPORTED_VERSION, 0, rule_window,
                "selected_version_major");
  uint32_t bit = a->selected_wire_format < 16 ? 1u << a->selected_wire_format
                                              : 0u; /* the bitmap is a u16 */
  if ((s->hello.supported_wire_format_bitmap & bit) == 0)
    return nnrp__fault(s, NNRP_ERR_UNSUPPORTED_VERSION, 1, rule_window,
                "selected_wire_format");
  return 0;
}

/* Step 6: auth_status != 0 ends the handshake without an ERROR (the server
 * refused us; nothing to tell it). */
static void auth_refused(nnrp_session *s) {
  nnrp_error_record e;
  memset(&e, 0, sizeof(e));
  e.local = 1;
  e.lib_err = NNRP_ERR_AUTH_FAILED;
  e.error_code = NNRP_ERROR_CODE_AUTH_FAILED;
  e.error_scope = NNRP_ERROR_SCOPE_CONNECTION;
  e.is_fatal = 1;
  s->last_err = NNRP_ERR_AUTH_FAILED;
  (void)nnrp__fault(s, NNRP_ERR_AUTH_FAILED, 2, "session.md §3.8 step 6",
             "auth_status");
  nnrp__terminate(s, NNRP_ERR_AUTH_FAILED, &e);
}

/* Step 7, the subset rule of D5: every accepted bitmap within the client's.
 * Strict: the first violation (in metadata order) fails; lenient: every
 * bitmap is intersected. An empty profile or payload-kind set after that is
 * "no common profile / payload kind" (§3.9). */
static int check_subset(nnrp_session *s, nnrp_server_hello_ack *a) {
  const nnrp_client_hello *c = &s->hello;
  struct {
    uint32_t *acc;
    uint32_t offered;
    uint32_t off;
    const char *field;
  } t[] = {
      {&a->accepted_profile_bitmap, c->supported_profile_bitmap, 8,
       "accepted_profile_bitmap"},
      {&a->accepted_payload_kind_bitmap, c->supported_payload_kind_bitmap, 12,
       "accepted_payload_kind_bitmap"},
      {&a->accepted_codec_bitmap, c->supported_codec_bitmap, 16,
       "accepted_codec_bitmap"},
      {&a->accepted_compression_bitmap, c->supported_compression_bitmap, 20,
       "accepted_compression_bitmap"},
      {&a->accepted_dtype_bitmap, c->supported_dtype_bitmap, 24,
       "accepted_dtype_bitmap"},
      {&a->accepted_layout_bitmap, c->supported_layout_bitmap, 28,
       "accepted_layout_bitmap"},
      {&a->cache_digest_bitmap, c->cache_digest_bitmap, 32,
       "cache_digest_bitmap"},
      {&a->cache_object_bitmap, c->cache_object_bitmap, 36,
       "cache_object_bitmap"},
  };
  int lenient = (s->wopts.flags & NNRP_WIRE_LENIENT) != 0;
  for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
    if ((*t[i].acc & ~t[i].offered) == 0)
      continue;
    if (!lenient)
      return nnrp__fault(s, NNRP_ERR_UNSUPPORTED_CAPABILITY, t[i].off, rule_subset,
                  t[i].field);
    *t[i].acc &= t[i].offered;
  }
  if (a->accepted_profile_bitmap == 0)
    return nnrp__fault(s, NNRP_ERR_UNSUPPORTED_CAPABILITY, 8, rule_common,
                "accepted_profile_bitmap");
  if (a->accepted_payload_kind_bitmap == 0)
    return nnrp__fault(s, NNRP_ERR_UNSUPPORTED_CAPABILITY, 12, rule_common,
                "accepted_payload_kind_bitmap");
  return 0;
}

/* Step 8: adopt the session id and the negotiated values. Later packets are
 * checked against them (wire.md §15 step 17). */
static void adopt(nnrp_session *s, const nnrp_packet *p,
                  const nnrp_server_hello_ack *a) {
  const nnrp_hello_exts *x = &p->b.server_hello_ack.ext; /* zeroed if opaque */
  s->session_id = a->session_id;
  s->ack = *a;
  s->loss_tolerance = (x->present & NNRP_HELLO_EXT_LOSS_TOLERANCE)
                          ? x->loss_tolerance.loss_tolerance
                          : (uint8_t)NNRP_LOSS_TOLERANCE_BEST_EFFORT;
  s->max_in_flight = a->max_concurrent_frames;
  int cache_on = s->cprof.enable_cache &&
                 (a->server_flags & NNRP_SERVER_FLAG_CACHE_ENABLED) != 0;
  s->wopts.payload_kinds = a->accepted_payload_kind_bitmap;
  s->wopts.cache_objects = cache_on ? a->cache_object_bitmap : 0;
  s->reader.opts = s->wopts;
}

int nnrp__on_server_hello_ack(nnrp_session *s, const nnrp_packet *p) {
  if (s->is_server || s->state != NNRP_STATE_NEGOTIATING)
    return NNRP_ERR_HANDSHAKE_ORDER; /* legality already excludes this */
  nnrp_server_hello_ack a = p->m.server_hello_ack;
  int rc = check_window(s, &a);
  if (rc != 0)
    return rc;
  if (a.auth_status != 0) {
    auth_refused(s);
    return 0;
  }
  rc = check_subset(s, &a);
  if (rc != 0)
    return rc;
  adopt(s, p, &a);
  s->handshake_deadline = 0;
  s->last_rx = s->now;
  nnrp__set_state(s, NNRP_STATE_ACTIVE); /* step 9; keep-alive runs now */
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
