/* SPDX-License-Identifier: Apache-2.0 */
/*
 * patch.c - session patch of session.md §10: the server's SESSION_PATCH
 * processing (§10.1 steps 2-7: sliding-window rate limit, profile switch,
 * per-field acceptance of §10.2 plus the application policy hook, partial
 * apply, effective state in the ACK), the client's
 * nnrp_session_patch_session() (§10.3, api-seed.md §5.1 patch_session,
 * contradictions #7 and #8) with FIFO matching of the ACKs, and the
 * effective state kept on both sides.
 */
#include <string.h>

#include "session_int.h"

#define NS_PER_MS 1000000ull

/* A SESSION_PATCH the client sent and whose ACK has not arrived yet. ACKs
 * arrive in order on the control stream (§10.3), so a FIFO matches them. */
typedef struct patch_pending {
  uint32_t mask; /* patch_mask as sent */
  void *user_data;
} patch_pending;

typedef struct nnrp_patch nnrp_patch;

struct nnrp_patch {
  nnrp_effective_profile eff; /* valid when eff_ready */
  uint8_t eff_ready;
  uint8_t has_last_ack;
  nnrp_session_patch_ack last_ack; /* sent (server) / received (client) */

  /* Server: application policy and rate limit (§10.1 step 2). */
  nnrp_patch_policy_fn policy;
  void *policy_user;
  uint32_t rate_count;     /* 0 = no limit */
  uint32_t rate_window_ms; /* 0 = no limit */
  uint64_t *stamps;        /* ring: arrival times of the counted patches */
  uint32_t stamps_cap, stamps_head, stamps_n;

  /* Client: outstanding patches, oldest first. */
  patch_pending pend[NNRP_PATCH_MAX_OUTSTANDING];
  uint32_t pend_head, pend_n;
};

/* ---- state and effective values --------------------------------------- */

/* A completed handshake leaves selected_version_major = 1 in s->ack on
 * both sides (it stays 0 until then). */
static int handshake_done(const nnrp_session *s) {
  return s->ack.selected_version_major != 0;
}

/* Bits 0 .. n-1 (every bit from 64 lanes on). */
static uint64_t lane_bits(uint32_t n) {
  return n >= 64 ? UINT64_MAX : ((uint64_t)1 << n) - 1u;
}

/* wire.md §1 rule 12: bit (id - 1) of a profile bitmap means profile id. */
static int profile_accepted(const nnrp_session *s, uint32_t id) {
  return id >= 1 && id <= 32 &&
         (s->ack.accepted_profile_bitmap & (1u << (id - 1u))) != 0;
}

/* §10.2 "Initial values in force", from the handshake result. */
static void eff_initial(const nnrp_session *s, nnrp_effective_profile *e) {
  const nnrp_server_hello_ack *a = &s->ack;
  memset(e, 0, sizeof(*e));
  e->target_cadence_x100 = a->target_cadence_x100;
  e->latency_budget_ms = a->latency_budget_ms;
  e->quality_tier = a->quality_tier;
  e->degrade_policy = a->degrade_policy;
  e->active_lane_mask = lane_bits(a->max_lane_count);
  e->codec_bitmap = a->accepted_codec_bitmap;
  e->compression_bitmap = a->accepted_compression_bitmap;
  for (uint32_t id = 1; id <= 32; id++) {
    if (profile_accepted(s, id)) {
      e->profile_id = (uint16_t)id; /* the lowest accepted profile id */
      break;
    }
  }
}

static int get_state(nnrp_session *s, nnrp_patch **out) {
  if (s->patch == NULL) {
    nnrp_patch *st = nnrp__scalloc(&s->mem, sizeof(*st));
    if (st == NULL)
      return NNRP_ERR_NOMEM;
    st->rate_count = NNRP_PATCH_RATE_LIMIT_DEFAULT;
    st->rate_window_ms = NNRP_PATCH_RATE_WINDOW_MS_DEFAULT;
    s->patch = st;
  }
  if (!s->patch->eff_ready && handshake_done(s)) {
    eff_initial(s, &s->patch->eff);
    s->patch->eff_ready = 1;
  }
  *out = s->patch;
  return 0;
}

void nnrp__patch_free(nnrp_session *s) {
  if (s->patch == NULL)
    return;
  nnrp__sfree(&s->mem, s->patch->stamps);
  nnrp__sfree(&s->mem, s->patch);
  s->patch = NULL;
}

int nnrp_session_effective_profile(const nnrp_session *s,
                                   nnrp_effective_profile *out) {
  if (s == NULL || out == NULL)
    return NNRP_ERR_INVALID_ARGUMENT;
  if (!handshake_done(s))
    return NNRP_ERR_INVALID_STATE;
  if (s->patch != NULL && s->patch->eff_ready)
    *out = s->patch->eff;
  else
    eff_initial(s, out);
  return 0;
}

int nnrp_session_last_patch_ack(const nnrp_session *s,
                                nnrp_session_patch_ack *out) {
  if (s == NULL || out == NULL)
    return NNRP_ERR_INVALID_ARGUMENT;
  if (s->patch == NULL || !s->patch->has_last_ack)
    return NNRP_ERR_NOT_FOUND;
  *out = s->patch->last_ack;
  return 0;
}

/* ---- server: configuration -------------------------------------------- */

int nnrp_session_set_patch_policy(nnrp_session *s, nnrp_patch_policy_fn fn,
                                  void *user) {
  if (s == NULL || !s->is_server)
    return NNRP_ERR_INVALID_ARGUMENT;
  nnrp_patch *st;
  int rc = get_state(s, &st);
  if (rc != 0)
    return rc;
  st->policy = fn;
  st->policy_user = user;
  return 0;
}

/* Resizes the timestamp ring to `cap` entries, keeping the newest ones. */
static int stamps_resize(nnrp_session *s, nnrp_patch *st, uint32_t cap) {
  uint64_t *nv = NULL;
  if (cap != 0) {
    nv = nnrp__smalloc(&s->mem, (size_t)cap * sizeof(uint64_t));
    if (nv == NULL)
      return NNRP_ERR_NOMEM;
  }
  uint32_t keep = st->stamps_n < cap ? st->stamps_n : cap;
  uint32_t skip = st->stamps_n - keep;
  for (uint32_t i = 0; i < keep; i++)
    nv[i] = st->stamps[(st->stamps_head + skip + i) % st->stamps_cap];
  nnrp__sfree(&s->mem, st->stamps);
  st->stamps = nv;
  st->stamps_cap = cap;
  st->stamps_head = 0;
  st->stamps_n = keep;
  return 0;
}

int nnrp_session_set_patch_rate_limit(nnrp_session *s, uint32_t count,
                                      uint32_t window_ms) {
  if (s == NULL || !s->is_server || count > NNRP_PATCH_RATE_LIMIT_MAX)
    return NNRP_ERR_INVALID_ARGUMENT;
  nnrp_patch *st;
  int rc = get_state(s, &st);
  if (rc != 0)
    return rc;
  uint32_t cap = (count == 0 || window_ms == 0) ? 0 : count;
  if (cap != st->stamps_cap && st->stamps_cap != 0) {
    rc = stamps_resize(s, st, cap);
    if (rc != 0)
      return rc;
  }
  st->rate_count = count;
  st->rate_window_ms = window_ms;
  return 0;
}

/* ---- server: SESSION_PATCH (§10.1) ------------------------------------ */

/* Step 2: sliding window. Returns 1 when over the limit (retry_ms = time
 * until the oldest counted patch leaves the window, rounded up); otherwise
 * counts this patch and returns 0. NNRP_ERR_NOMEM if the ring cannot be
 * allocated. */
static int rate_limited(nnrp_session *s, nnrp_patch *st, uint32_t *retry_ms) {
  if (st->rate_count == 0 || st->rate_window_ms == 0)
    return 0;
  if (st->stamps_cap != st->rate_count) {
    int rc = stamps_resize(s, st, st->rate_count);
    if (rc != 0)
      return rc;
  }
  uint64_t now = s->now, win = (uint64_t)st->rate_window_ms * NS_PER_MS;
  while (st->stamps_n != 0) {
    uint64_t t = st->stamps[st->stamps_head];
    if (now < t || now - t < win)
      break; /* still inside the window */
    st->stamps_head = (st->stamps_head + 1u) % st->stamps_cap;
    st->stamps_n--;
  }
  if (st->stamps_n >= st->rate_count) {
    uint64_t t = st->stamps[st->stamps_head];
    uint64_t left = now < t ? win : win - (now - t);
    uint64_t ms = (left + NS_PER_MS - 1u) / NS_PER_MS;
    *retry_ms = ms > UINT32_MAX ? UINT32_MAX : (uint32_t)ms;
    return 1; /* a rate-limited patch does not count */
  }
  st->stamps[(st->stamps_head + st->stamps_n) % st->stamps_cap] = now;
  st->stamps_n++;
  return 0;
}

/* The §10.2 rule of one field; 0 or the reject reason. */
static uint16_t field_rule(const nnrp_session *s, uint32_t bit,
                           const nnrp_patch_values *v) {
  const nnrp_server_hello_ack *a = &s->ack;
  switch (bit) {
  case NNRP_PATCH_ACTIVE_LANE_MASK:
    if (v->active_lane_mask == 0 ||
        (v->active_lane_mask & ~lane_bits(a->max_lane_count)) != 0)
      return NNRP_PATCH_REJECT_INVALID_LANE_MASK;
    return 0;
  case NNRP_PATCH_PREFERRED_CODEC:
    if (v->codec_bitmap == 0 ||
        (v->codec_bitmap & ~a->accepted_codec_bitmap) != 0)
      return NNRP_PATCH_REJECT_INVALID_RANGE;
    return 0;
  case NNRP_PATCH_PREFERRED_COMPRESSION:
    if (v->compression_bitmap == 0 ||
        (v->compression_bitmap & ~a->accepted_compression_bitmap) != 0)
      return NNRP_PATCH_REJECT_INVALID_RANGE;
    return 0;
  case NNRP_PATCH_PROFILE_PATCH:
    if (v->clamp.min_width > v->clamp.max_width ||
        v->clamp.min_height > v->clamp.max_height)
      return NNRP_PATCH_REJECT_INVALID_RANGE;
    return 0;
  default: /* cadence, quality tier, degrade policy: always (values free) */
    return 0;
  }
}

/* The application's veto (§10.1 step 4). A clamped value is checked again
 * against §10.2; a reject reason outside 1..4 becomes UNSUPPORTED_FIELD. */
static uint16_t field_policy(nnrp_session *s, nnrp_patch *st, uint32_t bit,
                             nnrp_patch_values *v) {
  if (st->policy == NULL)
    return 0;
  uint16_t reason = NNRP_PATCH_REJECT_UNSUPPORTED_FIELD;
  int verdict = st->policy(s, bit, v, &reason, st->policy_user);
  if (verdict == NNRP_PATCH_POLICY_ACCEPT)
    return 0;
  if (verdict == NNRP_PATCH_POLICY_CLAMP)
    return field_rule(s, bit, v);
  if (verdict == NNRP_PATCH_POLICY_REJECT &&
      reason >= NNRP_PATCH_REJECT_UNSUPPORTED_FIELD &&
      reason <= NNRP_PATCH_REJECT_INVALID_LANE_MASK)
    return reason;
  return NNRP_PATCH_REJECT_UNSUPPORTED_FIELD;
}

/* Step 5: an accepted field takes effect at once. */
static void field_apply(nnrp_effective_profile *e, uint32_t bit,
                        const nnrp_patch_values *v) {
  switch (bit) {
  case NNRP_PATCH_TARGET_CADENCE:
    e->target_cadence_x100 = v->target_cadence_x100;
    break;
  case NNRP_PATCH_QUALITY_TIER:
    e->quality_tier = v->quality_tier;
    break;
  case NNRP_PATCH_DEGRADE_POLICY:
    e->degrade_policy = v->degrade_policy;
    break;
  case NNRP_PATCH_ACTIVE_LANE_MASK:
    e->active_lane_mask = v->active_lane_mask;
    break;
  case NNRP_PATCH_PREFERRED_CODEC:
    e->codec_bitmap = v->codec_bitmap;
    break;
  case NNRP_PATCH_PREFERRED_COMPRESSION:
    e->compression_bitmap = v->compression_bitmap;
    break;
  default: /* NNRP_PATCH_PROFILE_PATCH */
    e->clamp = v->clamp;
    e->clamp_present = 1;
    break;
  }
}

/* Steps 4-6 for every set bit of the mask, in ascending bit order. */
static void evaluate_fields(nnrp_session *s, nnrp_patch *st,
                            const nnrp_packet *p, nnrp_session_patch_ack *a) {
  const nnrp_session_patch *rq = &p->m.session_patch;
  nnrp_patch_values req;
  memset(&req, 0, sizeof(req));
  req.target_cadence_x100 = rq->target_cadence_x100;
  req.quality_tier = rq->quality_tier;
  req.degrade_policy = rq->degrade_policy;
  req.active_lane_mask = rq->active_lane_mask;
  req.codec_bitmap = rq->preferred_codec_bitmap;
  req.compression_bitmap = rq->preferred_compression_bitmap;
  req.clamp = p->b.patch.block; /* zero when absent */
  for (uint32_t bit = 1; bit <= NNRP_PATCH_PROFILE_PATCH; bit <<= 1) {
    if ((rq->patch_mask & bit) == 0)
      continue;
    nnrp_patch_values v = req; /* the hook may clamp its own copy */
    uint16_t reason = 0;
    if (bit == NNRP_PATCH_PROFILE_PATCH && !p->b.patch.present)
      reason = NNRP_PATCH_REJECT_INVALID_RANGE; /* §10.2: block required */
    if (reason == 0)
      reason = field_rule(s, bit, &v);
    if (reason == 0)
      reason = field_policy(s, st, bit, &v);
    if (reason == 0) {
      field_apply(&st->eff, bit, &v);
      a->applied_patch_mask |= bit;
    } else {
      if (a->rejected_patch_mask == 0)
        a->reject_reason = reason; /* the lowest rejected bit's reason */
      a->rejected_patch_mask |= bit;
    }
  }
  if (a->rejected_patch_mask == 0)
    a->ack_status = NNRP_PATCH_ACK_ACCEPTED;
  else if (a->applied_patch_mask != 0)
    a->ack_status = NNRP_PATCH_ACK_PARTIALLY_APPLIED;
  else
    a->ack_status = NNRP_PATCH_ACK_REJECTED;
}

/* Step 7: every effective_* field reports the value in force. */
static void fill_effective(const nnrp_effective_profile *e,
                           nnrp_session_patch_ack *a) {
  a->effective_profile_id = e->profile_id;
  a->effective_target_cadence_x100 = e->target_cadence_x100;
  a->effective_quality_tier = e->quality_tier;
  a->effective_degrade_policy = e->degrade_policy;
  a->effective_lane_mask = e->active_lane_mask;
  a->effective_codec_bitmap = e->codec_bitmap;
  a->effective_compression_bitmap = e->compression_bitmap;
}

/* Queues the ACK: header ids echo the request (wire.md §2.4); the block is
 * present exactly when the request carried PROFILE_PATCH. */
static int send_ack(nnrp_session *s, nnrp_patch *st, const nnrp_packet *p,
                    nnrp_meta *m) {
  nnrp_header h;
  nnrp_header_init(&h, NNRP_MSG_SESSION_PATCH_ACK);
  h.session_id = s->session_id;
  h.route_id = p->hdr.route_id;
  h.trace_id = p->hdr.trace_id;
  nnrp_control_body body;
  memset(&body, 0, sizeof(body));
  if (p->m.session_patch.patch_mask & NNRP_PATCH_PROFILE_PATCH)
    body.patch = &st->eff.clamp;
  int rc = nnrp__send_control(s, &h, m, &body);
  if (rc != 0)
    return rc;
  st->last_ack = m->session_patch_ack; /* with the derived block length */
  st->has_last_ack = 1;
  return 0;
}

int nnrp__patch_on_request(nnrp_session *s, const nnrp_packet *p) {
  nnrp_patch *st;
  int rc = get_state(s, &st);
  if (rc != 0)
    return rc;
  const nnrp_session_patch *rq = &p->m.session_patch;
  nnrp_meta m;
  memset(&m, 0, sizeof(m));
  nnrp_session_patch_ack *a = &m.session_patch_ack;
  uint32_t retry_ms = 0;
  int limited = rate_limited(s, st, &retry_ms);
  if (limited < 0)
    return limited;
  if (limited) {
    a->ack_status = NNRP_PATCH_ACK_REJECTED;
    a->reject_reason = NNRP_PATCH_REJECT_RATE_LIMITED;
    a->rejected_patch_mask = rq->patch_mask;
    a->retry_after_ms = retry_ms;
  } else if (rq->profile_id != 0 && !profile_accepted(s, rq->profile_id)) {
    a->ack_status = NNRP_PATCH_ACK_REJECTED; /* step 3: nothing applied */
    a->reject_reason = NNRP_PATCH_REJECT_UNSUPPORTED_STRATEGY;
    a->rejected_patch_mask = rq->patch_mask;
  } else {
    if (rq->profile_id != 0)
      st->eff.profile_id = rq->profile_id;
    evaluate_fields(s, st, p, a);
  }
  fill_effective(&st->eff, a);
  rc = send_ack(s, st, p, &m);
  if (rc != 0)
    return rc;
  if (limited)
    return 0; /* changes nothing; not surfaced (see nnrp_session.h) */
  nnrp_event ev;
  memset(&ev, 0, sizeof(ev));
  ev.type = NNRP_EV_PATCH;
  ev.packet = p;
  ev.received_at = s->now;
  return nnrp__emit(s, &ev);
}

/* ---- client (§10.3) ---------------------------------------------------- */

/* api-seed.md §5.1 and §12 #7/#8: the mask to send, or a negative error. */
static int64_t request_mask(const nnrp_patch_req *req) {
  uint32_t mask = req->patch_fields;
  if ((mask & ~(uint32_t)NNRP_PATCH_KNOWN_MASK) != 0)
    return NNRP_ERR_INVALID_ARGUMENT;
  if ((mask & NNRP_PATCH_PROFILE_PATCH) && req->profile_patch == NULL)
    return NNRP_ERR_INVALID_ARGUMENT; /* the bit needs the block (§4.3) */
  if (mask & NNRP_PATCH_TARGET_CADENCE) {
    if (req->target_cadence == 0)
      mask &= ~(uint32_t)NNRP_PATCH_TARGET_CADENCE; /* 0 = unchanged */
    else if (req->target_cadence > UINT32_MAX / 100u)
      return NNRP_ERR_INVALID_ARGUMENT; /* x100 does not fit the u32 */
  }
  if ((mask & NNRP_PATCH_QUALITY_TIER) && req->quality_tier > 255u)
    return NNRP_ERR_INVALID_ARGUMENT;
  if (req->profile_patch != NULL)
    mask |= NNRP_PATCH_PROFILE_PATCH; /* set exactly when the block is sent */
  return (int64_t)mask;
}

/* Metadata with only the fields of the mask (the others are sent as 0). */
static void request_meta(const nnrp_patch_req *req, uint32_t mask,
                         nnrp_session_patch *m) {
  memset(m, 0, sizeof(*m));
  m->profile_id = req->profile_id;
  m->patch_mask = mask;
  if (mask & NNRP_PATCH_TARGET_CADENCE)
    m->target_cadence_x100 = req->target_cadence * 100u;
  if (mask & NNRP_PATCH_QUALITY_TIER)
    m->quality_tier = (uint16_t)req->quality_tier;
  if (mask & NNRP_PATCH_DEGRADE_POLICY)
    m->degrade_policy = req->degrade_policy;
  if (mask & NNRP_PATCH_ACTIVE_LANE_MASK)
    m->active_lane_mask = req->active_lane_mask;
  if (mask & NNRP_PATCH_PREFERRED_CODEC)
    m->preferred_codec_bitmap = req->preferred_codec;
  if (mask & NNRP_PATCH_PREFERRED_COMPRESSION)
    m->preferred_compression_bitmap = req->preferred_compression;
}

int nnrp_session_patch_session(nnrp_session *s, const nnrp_patch_req *req,
                               uint64_t now) {
  if (s == NULL || req == NULL)
    return NNRP_ERR_INVALID_ARGUMENT;
  s->now = now;
  if (s->is_server || s->state != NNRP_STATE_ACTIVE)
    return NNRP_ERR_INVALID_STATE;
  int64_t mask = request_mask(req);
  if (mask < 0)
    return (int)mask;
  nnrp_patch *st;
  int rc = get_state(s, &st);
  if (rc != 0)
    return rc;
  if (st->pend_n >= NNRP_PATCH_MAX_OUTSTANDING)
    return NNRP_ERR_WOULD_BLOCK;
  nnrp_header h;
  nnrp_header_init(&h, NNRP_MSG_SESSION_PATCH);
  h.session_id = s->session_id;
  h.route_id = req->route_id;
  h.trace_id = req->trace_id;
  nnrp_meta m;
  memset(&m, 0, sizeof(m));
  request_meta(req, (uint32_t)mask, &m.session_patch);
  nnrp_control_body body;
  memset(&body, 0, sizeof(body));
  body.patch = req->profile_patch;
  rc = nnrp__send_control(s, &h, &m, &body);
  if (rc != 0)
    return rc;
  patch_pending *pd =
      &st->pend[(st->pend_head + st->pend_n) % NNRP_PATCH_MAX_OUTSTANDING];
  pd->mask = (uint32_t)mask;
  pd->user_data = req->user_data;
  st->pend_n++;
  return 0;
}

uint32_t nnrp_session_patches_outstanding(const nnrp_session *s) {
  return (s != NULL && s->patch != NULL) ? s->patch->pend_n : 0;
}

/* Applied fields take the ACK's effective values; the profile id always
 * (a profile switch has no mask bit); the clamp when PROFILE_PATCH was
 * applied and the block came back. */
static void adopt_ack(nnrp_effective_profile *e, const nnrp_packet *p,
                      uint32_t asked) {
  const nnrp_session_patch_ack *a = &p->m.session_patch_ack;
  uint32_t applied = a->applied_patch_mask & asked;
  nnrp_patch_values v;
  memset(&v, 0, sizeof(v));
  v.target_cadence_x100 = a->effective_target_cadence_x100;
  v.quality_tier = a->effective_quality_tier;
  v.degrade_policy = a->effective_degrade_policy;
  v.active_lane_mask = a->effective_lane_mask;
  v.codec_bitmap = a->effective_codec_bitmap;
  v.compression_bitmap = a->effective_compression_bitmap;
  v.clamp = p->b.patch.block;
  if (!p->b.patch.present)
    applied &= ~(uint32_t)NNRP_PATCH_PROFILE_PATCH;
  for (uint32_t bit = 1; bit <= NNRP_PATCH_PROFILE_PATCH; bit <<= 1)
    if (applied & bit)
      field_apply(e, bit, &v);
  e->profile_id = a->effective_profile_id;
}

int nnrp__patch_on_ack(nnrp_session *s, const nnrp_packet *p) {
  nnrp_patch *st = s->patch;
  if (s->is_server || st == NULL || st->pend_n == 0)
    return 0; /* unsolicited: ignored, like the other ACKs (wire.md §16) */
  patch_pending pd = st->pend[st->pend_head];
  st->pend_head = (st->pend_head + 1u) % NNRP_PATCH_MAX_OUTSTANDING;
  st->pend_n--;
  if (!st->eff_ready) { /* cannot happen: a patch was sent when ACTIVE */
    eff_initial(s, &st->eff);
    st->eff_ready = 1;
  }
  adopt_ack(&st->eff, p, pd.mask);
  st->last_ack = p->m.session_patch_ack;
  st->has_last_ack = 1;
  nnrp_event ev;
  memset(&ev, 0, sizeof(ev));
  ev.type = NNRP_EV_PATCH_ACK;
  ev.packet = p;
  ev.user_data = pd.user_data;
  ev.received_at = s->now;
  return nnrp__emit(s, &ev);
}
