/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_patch_session.c - session patch of session.md §10 on an in-memory
 * client/server pair: every field accepted and rejected by its §10.2 rule,
 * partial application, the profile switch, the application policy (clamp,
 * reject), the ACK block, the sliding-window rate limit, the client API of
 * api-seed.md §5.1 (#7, #8) and the effective state, equal on both sides.
 * Every SESSION_PATCH_ACK sent is decoded and checked against its request.
 */
#include "harness.h"
#include "session_pair.h"

#include <nnrp/nnrp_session.h>

#include <stdlib.h>
#include <string.h>

#define MS 1000000ull
#define C NNRP_PAIR_CLIENT
#define S NNRP_PAIR_SERVER

#define F_CAD NNRP_PATCH_TARGET_CADENCE
#define F_TIER NNRP_PATCH_QUALITY_TIER
#define F_DEG NNRP_PATCH_DEGRADE_POLICY
#define F_LANE NNRP_PATCH_ACTIVE_LANE_MASK
#define F_CODEC NNRP_PATCH_PREFERRED_CODEC
#define F_COMP NNRP_PATCH_PREFERRED_COMPRESSION
#define F_PROF NNRP_PATCH_PROFILE_PATCH

/* ---- pair, events ------------------------------------------------------ */

#define MAXREC 64

typedef struct ctx {
  size_t server_events; /* NNRP_EV_PATCH */
  nnrp_session_patch_ack at_event[MAXREC];
  size_t client_events; /* NNRP_EV_PATCH_ACK */
  void *user[MAXREC];
} ctx;

static void on_event(nnrp_pair *p, int side, const nnrp_event *ev,
                     void *user) {
  ctx *c = user;
  if (side == S && ev->type == NNRP_EV_PATCH) {
    CHECK(ev->packet != NULL &&
          ev->packet->hdr.msg_type == NNRP_MSG_SESSION_PATCH);
    if (c->server_events < MAXREC)
      CHECK_EQ_INT(nnrp_session_last_patch_ack(p->side[S],
                                               &c->at_event[c->server_events]),
                   0);
    c->server_events++;
  }
  if (side == C && ev->type == NNRP_EV_PATCH_ACK) {
    CHECK(ev->packet != NULL &&
          ev->packet->hdr.msg_type == NNRP_MSG_SESSION_PATCH_ACK);
    if (c->client_events < MAXREC)
      c->user[c->client_events] = ev->user_data;
    c->client_events++;
  }
}

/* Client: 4 views, profiles {1, 2}, codecs 0x7, compressions 0x3; the
 * server keeps its defaults (16 lanes, every bitmap). */
static int setup_with(nnrp_pair *p, ctx *c, uint16_t views,
                      const nnrp_session_settings *ss) {
  memset(c, 0, sizeof(*c));
  nnrp_client_profile cp;
  nnrp_client_profile_default(&cp);
  cp.max_views = views;
  cp.profile_bitmap = 0x3;
  cp.codec_bitmap = 0x7;
  cp.compression_bitmap = 0x3;
  if (!CHECK_EQ_INT(nnrp_pair_init(p, &cp, NULL, NULL, ss), 0))
    return 0;
  p->cb = on_event;
  p->user = c;
  return CHECK_EQ_INT(nnrp_pair_handshake(p), 0);
}

static int setup(nnrp_pair *p, ctx *c) { return setup_with(p, c, 4, NULL); }

static nnrp_patch_req req_of(uint32_t fields) {
  nnrp_patch_req r;
  memset(&r, 0, sizeof(r));
  r.patch_fields = fields;
  return r;
}

static nnrp_effective_profile eff_of(nnrp_pair *p, int side) {
  nnrp_effective_profile e;
  memset(&e, 0xEE, sizeof(e));
  CHECK_EQ_INT(nnrp_session_effective_profile(p->side[side], &e), 0);
  return e;
}

/* The effective state is the same on both sides and is what the last ACK
 * reported (every effective_* field, and the block when present). */
static void check_in_sync(nnrp_pair *p) {
  nnrp_effective_profile ce = eff_of(p, C), se = eff_of(p, S);
  CHECK_EQ_MEM(&ce, &se, sizeof(ce));
  nnrp_packet ack;
  size_t n = nnrp_pair_sent_count(p, S, NNRP_MSG_SESSION_PATCH_ACK);
  if (n == 0 || !CHECK(nnrp_pair_sent(p, S, NNRP_MSG_SESSION_PATCH_ACK,
                                      n - 1, &ack)))
    return;
  const nnrp_session_patch_ack *a = &ack.m.session_patch_ack;
  CHECK_EQ_INT(a->effective_profile_id, se.profile_id);
  CHECK_EQ_INT(a->effective_target_cadence_x100, se.target_cadence_x100);
  CHECK_EQ_INT(a->effective_quality_tier, se.quality_tier);
  CHECK_EQ_INT(a->effective_degrade_policy, se.degrade_policy);
  CHECK_EQ_U64(a->effective_lane_mask, se.active_lane_mask);
  CHECK_EQ_INT(a->effective_codec_bitmap, se.codec_bitmap);
  CHECK_EQ_INT(a->effective_compression_bitmap, se.compression_bitmap);
  if (ack.b.patch.present)
    CHECK_EQ_MEM(&ack.b.patch.block, &se.clamp, sizeof(se.clamp));
}

/* Sends one patch dt after the previous step, pumps, returns the ACK the
 * server sent for it (0 if none) and checks both sides are in sync. */
static int exchange_dt(nnrp_pair *p, const nnrp_patch_req *r, uint64_t dt,
                       nnrp_packet *ack) {
  p->now += dt;
  size_t before = nnrp_pair_sent_count(p, S, NNRP_MSG_SESSION_PATCH_ACK);
  if (!CHECK_EQ_INT(nnrp_session_patch_session(p->side[C], r, p->now), 0))
    return 0;
  nnrp_pair_pump(p);
  CHECK_EQ_INT(nnrp_session_patches_outstanding(p->side[C]), 0);
  if (!CHECK(nnrp_pair_sent(p, S, NNRP_MSG_SESSION_PATCH_ACK, before, ack)))
    return 0;
  check_in_sync(p);
  return 1;
}

/* 101 ms apart: never more than 10 in a second (default rate limit). */
static int exchange(nnrp_pair *p, const nnrp_patch_req *r, nnrp_packet *ack) {
  return exchange_dt(p, r, 101 * MS, ack);
}

/* Every ACK against its request (the n-th client SESSION_PATCH is answered
 * by the n-th server ACK): applied ∪ rejected = mask, applied ∩ rejected =
 * 0, the block exactly when the request carried PROFILE_PATCH, the status
 * and reason consistent with the masks, route/trace echoed. */
static void check_all_acks(nnrp_pair *p) {
  size_t n = nnrp_pair_sent_count(p, C, NNRP_MSG_SESSION_PATCH);
  CHECK_EQ_INT(nnrp_pair_sent_count(p, S, NNRP_MSG_SESSION_PATCH_ACK), n);
  for (size_t i = 0; i < n; i++) {
    nnrp_packet rq, ak;
    if (!CHECK(nnrp_pair_sent(p, C, NNRP_MSG_SESSION_PATCH, i, &rq)) ||
        !CHECK(nnrp_pair_sent(p, S, NNRP_MSG_SESSION_PATCH_ACK, i, &ak)))
      return;
    uint32_t mask = rq.m.session_patch.patch_mask;
    const nnrp_session_patch_ack *a = &ak.m.session_patch_ack;
    CHECK_EQ_INT(a->applied_patch_mask | a->rejected_patch_mask, mask);
    CHECK_EQ_INT(a->applied_patch_mask & a->rejected_patch_mask, 0);
    int carried = (mask & F_PROF) != 0;
    CHECK_EQ_INT(ak.b.patch.present, carried);
    CHECK_EQ_INT(ak.hdr.body_len, carried ? 16 : 0);
    CHECK_EQ_INT(a->profile_patch_ack_bytes, carried ? 16 : 0);
    CHECK_EQ_INT(ak.hdr.session_id, nnrp_session_id(p->side[S]));
    CHECK_EQ_INT(ak.hdr.route_id, rq.hdr.route_id);
    CHECK_EQ_U64(ak.hdr.trace_id, rq.hdr.trace_id);
    if (a->ack_status == NNRP_PATCH_ACK_ACCEPTED) {
      CHECK_EQ_INT(a->rejected_patch_mask, 0);
      CHECK_EQ_INT(a->reject_reason, NNRP_PATCH_REJECT_NONE);
    } else if (a->ack_status == NNRP_PATCH_ACK_PARTIALLY_APPLIED) {
      CHECK(a->applied_patch_mask != 0 && a->rejected_patch_mask != 0);
      CHECK(a->reject_reason != NNRP_PATCH_REJECT_NONE);
    } else {
      CHECK_EQ_INT(a->ack_status, NNRP_PATCH_ACK_REJECTED);
      CHECK_EQ_INT(a->applied_patch_mask, 0);
      CHECK(a->reject_reason != NNRP_PATCH_REJECT_NONE);
    }
    if (a->reject_reason != NNRP_PATCH_REJECT_RATE_LIMITED)
      CHECK_EQ_INT(a->retry_after_ms, 0);
  }
  CHECK_EQ_INT(nnrp_pair_sent_count(p, S, NNRP_MSG_ERROR), 0);
}

static void check_ack(const nnrp_packet *ak, uint16_t status, uint16_t reason,
                      uint32_t applied, uint32_t rejected) {
  const nnrp_session_patch_ack *a = &ak->m.session_patch_ack;
  CHECK_EQ_INT(a->ack_status, status);
  CHECK_EQ_INT(a->reject_reason, reason);
  CHECK_EQ_INT(a->applied_patch_mask, applied);
  CHECK_EQ_INT(a->rejected_patch_mask, rejected);
}

/* A raw SESSION_PATCH (for requests the client API refuses to build). */
static size_t raw_patch(uint8_t *buf, size_t cap, uint32_t sid,
                        const nnrp_session_patch *m,
                        const nnrp_profile_patch *blk) {
  nnrp_header h;
  nnrp_header_init(&h, NNRP_MSG_SESSION_PATCH);
  h.session_id = sid;
  nnrp_meta meta;
  memset(&meta, 0, sizeof(meta));
  meta.session_patch = *m;
  nnrp_control_body b;
  memset(&b, 0, sizeof(b));
  b.patch = blk;
  nnrp_out o;
  nnrp_out_init(&o, buf, cap, NULL, 0);
  nnrp_fault f;
  if (!CHECK_EQ_INT(nnrp_build_control(&o, &h, &meta, &b, &f), 0))
    return 0;
  return (size_t)o.total;
}

/* ---- tests ------------------------------------------------------------- */

TEST(initial_effective_state) {
  nnrp_pair p;
  ctx c;
  memset(&c, 0, sizeof(c));
  nnrp_client_profile cp;
  nnrp_client_profile_default(&cp);
  cp.max_views = 4;
  cp.profile_bitmap = 0x3;
  cp.codec_bitmap = 0x7;
  cp.compression_bitmap = 0x3;
  if (!CHECK_EQ_INT(nnrp_pair_init(&p, &cp, NULL, NULL, NULL), 0))
    return;
  nnrp_effective_profile e;
  nnrp_patch_req r = req_of(F_TIER);
  /* Before the handshake: no state, no patch. */
  CHECK_EQ_INT(nnrp_session_effective_profile(p.side[C], &e),
               NNRP_ERR_INVALID_STATE);
  CHECK_EQ_INT(nnrp_session_effective_profile(p.side[S], &e),
               NNRP_ERR_INVALID_STATE);
  CHECK_EQ_INT(nnrp_session_patch_session(p.side[C], &r, p.now),
               NNRP_ERR_INVALID_STATE);
  CHECK_EQ_INT(nnrp_session_effective_profile(p.side[C], NULL),
               NNRP_ERR_INVALID_ARGUMENT);
  /* The server may be configured before the handshake. */
  CHECK_EQ_INT(nnrp_session_set_patch_rate_limit(p.side[S], 10, 1000), 0);
  p.cb = on_event;
  p.user = &c;
  if (!CHECK_EQ_INT(nnrp_pair_handshake(&p), 0)) {
    nnrp_pair_free(&p);
    return;
  }
  /* §10.2 initial values: handshake values, lanes 0..3, accepted bitmaps,
   * lowest accepted profile, no clamp. */
  e = eff_of(&p, C);
  CHECK_EQ_INT(e.target_cadence_x100, 6000);
  CHECK_EQ_INT(e.latency_budget_ms, 50);
  CHECK_EQ_INT(e.quality_tier, 2);
  CHECK_EQ_INT(e.degrade_policy, 0);
  CHECK_EQ_U64(e.active_lane_mask, 0xF);
  CHECK_EQ_INT(e.codec_bitmap, 0x7);
  CHECK_EQ_INT(e.compression_bitmap, 0x3);
  CHECK_EQ_INT(e.profile_id, 1);
  CHECK_EQ_INT(e.clamp_present, 0);
  CHECK_EQ_INT(e.clamp.max_width, 0);
  nnrp_effective_profile se = eff_of(&p, S);
  CHECK_EQ_MEM(&e, &se, sizeof(e));
  nnrp_session_patch_ack a;
  CHECK_EQ_INT(nnrp_session_last_patch_ack(p.side[C], &a),
               NNRP_ERR_NOT_FOUND);
  CHECK_EQ_INT(nnrp_session_last_patch_ack(p.side[S], &a),
               NNRP_ERR_NOT_FOUND);
  nnrp_pair_free(&p);
}

TEST(each_field_accepted) {
  nnrp_pair p;
  ctx c;
  if (!setup(&p, &c))
    return;
  nnrp_packet ak;
  nnrp_patch_req r = req_of(F_CAD);
  r.target_cadence = 30;
  if (exchange(&p, &r, &ak)) {
    check_ack(&ak, NNRP_PATCH_ACK_ACCEPTED, 0, F_CAD, 0);
    CHECK_EQ_INT(eff_of(&p, C).target_cadence_x100, 3000);
  }
  r = req_of(F_TIER);
  r.quality_tier = 200;
  if (exchange(&p, &r, &ak)) {
    check_ack(&ak, NNRP_PATCH_ACK_ACCEPTED, 0, F_TIER, 0);
    CHECK_EQ_INT(eff_of(&p, C).quality_tier, 200);
  }
  r = req_of(F_DEG);
  r.degrade_policy = 3;
  if (exchange(&p, &r, &ak)) {
    check_ack(&ak, NNRP_PATCH_ACK_ACCEPTED, 0, F_DEG, 0);
    CHECK_EQ_INT(eff_of(&p, C).degrade_policy, 3);
  }
  r = req_of(F_LANE);
  r.active_lane_mask = 0x5;
  if (exchange(&p, &r, &ak)) {
    check_ack(&ak, NNRP_PATCH_ACK_ACCEPTED, 0, F_LANE, 0);
    CHECK_EQ_U64(eff_of(&p, C).active_lane_mask, 0x5);
  }
  r = req_of(F_CODEC);
  r.preferred_codec = 0x6;
  if (exchange(&p, &r, &ak)) {
    check_ack(&ak, NNRP_PATCH_ACK_ACCEPTED, 0, F_CODEC, 0);
    CHECK_EQ_INT(eff_of(&p, C).codec_bitmap, 0x6);
  }
  r = req_of(F_COMP);
  r.preferred_compression = 0x2;
  if (exchange(&p, &r, &ak)) {
    check_ack(&ak, NNRP_PATCH_ACK_ACCEPTED, 0, F_COMP, 0);
    CHECK_EQ_INT(eff_of(&p, C).compression_bitmap, 0x2);
  }
  nnrp_profile_patch blk = {64, 48, 1920, 1080};
  r = req_of(F_PROF);
  r.profile_patch = &blk;
  if (exchange(&p, &r, &ak)) {
    check_ack(&ak, NNRP_PATCH_ACK_ACCEPTED, 0, F_PROF, 0);
    CHECK_EQ_MEM(&ak.b.patch.block, &blk, sizeof(blk));
    nnrp_effective_profile e = eff_of(&p, C);
    CHECK_EQ_INT(e.clamp_present, 1);
    CHECK_EQ_MEM(&e.clamp, &blk, sizeof(blk));
  }
  r = req_of(0); /* profile switch alone: no field bit */
  r.profile_id = 2;
  if (exchange(&p, &r, &ak)) {
    check_ack(&ak, NNRP_PATCH_ACK_ACCEPTED, 0, 0, 0);
    CHECK_EQ_INT(ak.m.session_patch_ack.effective_profile_id, 2);
    CHECK_EQ_INT(eff_of(&p, C).profile_id, 2);
  }
  /* Everything accumulated; an event per patch on each side. */
  nnrp_effective_profile e = eff_of(&p, S);
  CHECK_EQ_INT(e.target_cadence_x100, 3000);
  CHECK_EQ_INT(e.quality_tier, 200);
  CHECK_EQ_INT(e.degrade_policy, 3);
  CHECK_EQ_U64(e.active_lane_mask, 0x5);
  CHECK_EQ_INT(e.codec_bitmap, 0x6);
  CHECK_EQ_INT(e.compression_bitmap, 0x2);
  CHECK_EQ_INT(e.profile_id, 2);
  CHECK_EQ_INT(e.latency_budget_ms, 50);
  CHECK_EQ_INT(c.server_events, 8);
  CHECK_EQ_INT(c.client_events, 8);
  CHECK_EQ_INT(c.at_event[7].effective_profile_id, 2);
  check_all_acks(&p);
  nnrp_pair_free(&p);
}

/* One field rejected by its rule: REJECTED with `reason`, nothing changes. */
static void expect_reject(nnrp_pair *p, const nnrp_patch_req *r, uint32_t bit,
                          uint16_t reason) {
  nnrp_effective_profile before = eff_of(p, S);
  nnrp_packet ak;
  if (!exchange(p, r, &ak))
    return;
  check_ack(&ak, NNRP_PATCH_ACK_REJECTED, reason, 0, bit);
  nnrp_effective_profile after = eff_of(p, S);
  CHECK_EQ_MEM(&before, &after, sizeof(before));
}

TEST(each_field_rejected) {
  nnrp_pair p;
  ctx c;
  if (!setup(&p, &c))
    return;
  nnrp_patch_req r = req_of(F_LANE);
  r.active_lane_mask = 0; /* empty */
  expect_reject(&p, &r, F_LANE, NNRP_PATCH_REJECT_INVALID_LANE_MASK);
  r.active_lane_mask = 0x10; /* lane 4 of 4 negotiated */
  expect_reject(&p, &r, F_LANE, NNRP_PATCH_REJECT_INVALID_LANE_MASK);
  r.active_lane_mask = 0x8000000000000001ull;
  expect_reject(&p, &r, F_LANE, NNRP_PATCH_REJECT_INVALID_LANE_MASK);
  r = req_of(F_CODEC);
  r.preferred_codec = 0; /* empty */
  expect_reject(&p, &r, F_CODEC, NNRP_PATCH_REJECT_INVALID_RANGE);
  r.preferred_codec = 0x9; /* bit 3 not accepted */
  expect_reject(&p, &r, F_CODEC, NNRP_PATCH_REJECT_INVALID_RANGE);
  r = req_of(F_COMP);
  r.preferred_compression = 0;
  expect_reject(&p, &r, F_COMP, NNRP_PATCH_REJECT_INVALID_RANGE);
  r.preferred_compression = 0x4;
  expect_reject(&p, &r, F_COMP, NNRP_PATCH_REJECT_INVALID_RANGE);
  nnrp_profile_patch wide = {641, 0, 640, 480}; /* min_width > max_width */
  r = req_of(F_PROF);
  r.profile_patch = &wide;
  expect_reject(&p, &r, F_PROF, NNRP_PATCH_REJECT_INVALID_RANGE);
  nnrp_profile_patch tall = {0, 481, 640, 480}; /* min_height > max_height */
  r.profile_patch = &tall;
  expect_reject(&p, &r, F_PROF, NNRP_PATCH_REJECT_INVALID_RANGE);
  nnrp_packet ak;
  /* The ACK block of a rejected PROFILE_PATCH holds the clamp in force. */
  if (CHECK(nnrp_pair_sent(&p, S, NNRP_MSG_SESSION_PATCH_ACK, 8, &ak))) {
    CHECK_EQ_INT(ak.b.patch.present, 1);
    CHECK_EQ_INT(ak.b.patch.block.max_width, 0);
  }
  CHECK_EQ_INT(eff_of(&p, C).clamp_present, 0);
  /* §10.1 step 3: profile not accepted -> the whole patch is rejected. */
  r = req_of(F_CAD | F_TIER);
  r.target_cadence = 15;
  r.quality_tier = 1;
  r.profile_id = 3;
  expect_reject(&p, &r, F_CAD | F_TIER,
                NNRP_PATCH_REJECT_UNSUPPORTED_STRATEGY);
  r = req_of(0);
  r.profile_id = 40; /* beyond any bitmap */
  expect_reject(&p, &r, 0, NNRP_PATCH_REJECT_UNSUPPORTED_STRATEGY);
  CHECK_EQ_INT(eff_of(&p, C).profile_id, 1);
  CHECK_EQ_INT(c.server_events, 11); /* evaluated, so surfaced */
  CHECK_EQ_INT(c.client_events, 11);
  check_all_acks(&p);
  nnrp_pair_free(&p);
}

TEST(mixed_request_partially_applied) {
  nnrp_pair p;
  ctx c;
  if (!setup(&p, &c))
    return;
  nnrp_packet ak;
  nnrp_profile_patch first = {0, 0, 1280, 720};
  nnrp_patch_req r = req_of(0);
  r.profile_patch = &first; /* the block sets PROFILE_PATCH by itself */
  if (exchange(&p, &r, &ak))
    check_ack(&ak, NNRP_PATCH_ACK_ACCEPTED, 0, F_PROF, 0);

  nnrp_profile_patch second = {10, 10, 640, 480};
  r = req_of(F_CAD | F_TIER | F_LANE | F_CODEC | F_COMP | F_PROF);
  r.target_cadence = 25;
  r.quality_tier = 7;
  r.active_lane_mask = 0x30;     /* lanes 4, 5: rejected */
  r.preferred_codec = 0x1;       /* accepted */
  r.preferred_compression = 0x8; /* not negotiated: rejected */
  r.profile_patch = &second;
  if (exchange(&p, &r, &ak)) {
    check_ack(&ak, NNRP_PATCH_ACK_PARTIALLY_APPLIED,
              NNRP_PATCH_REJECT_INVALID_LANE_MASK,
              F_CAD | F_TIER | F_CODEC | F_PROF, F_LANE | F_COMP);
    CHECK_EQ_MEM(&ak.b.patch.block, &second, sizeof(second));
  }
  nnrp_effective_profile e = eff_of(&p, C);
  CHECK_EQ_INT(e.target_cadence_x100, 2500);
  CHECK_EQ_INT(e.quality_tier, 7);
  CHECK_EQ_U64(e.active_lane_mask, 0xF); /* unchanged */
  CHECK_EQ_INT(e.codec_bitmap, 0x1);
  CHECK_EQ_INT(e.compression_bitmap, 0x3); /* unchanged */
  CHECK_EQ_MEM(&e.clamp, &second, sizeof(second));

  /* The reason is the lowest rejected bit's: codec (INVALID_RANGE) before
   * the clamp; the rejected clamp leaves the previous one in force. */
  nnrp_profile_patch bad = {700, 0, 600, 0};
  r = req_of(F_DEG | F_CODEC | F_PROF);
  r.degrade_policy = 1;
  r.preferred_codec = 0x10;
  r.profile_patch = &bad;
  if (exchange(&p, &r, &ak)) {
    check_ack(&ak, NNRP_PATCH_ACK_PARTIALLY_APPLIED,
              NNRP_PATCH_REJECT_INVALID_RANGE, F_DEG, F_CODEC | F_PROF);
    CHECK_EQ_MEM(&ak.b.patch.block, &second, sizeof(second));
  }
  e = eff_of(&p, C);
  CHECK_EQ_INT(e.degrade_policy, 1);
  CHECK_EQ_INT(e.codec_bitmap, 0x1);
  CHECK_EQ_MEM(&e.clamp, &second, sizeof(second));

  /* Step 3 switches the profile even when every field is then rejected;
   * the client takes the profile id from the ACK. */
  r = req_of(F_LANE);
  r.active_lane_mask = 0;
  r.profile_id = 2;
  if (exchange(&p, &r, &ak))
    check_ack(&ak, NNRP_PATCH_ACK_REJECTED,
              NNRP_PATCH_REJECT_INVALID_LANE_MASK, 0, F_LANE);
  CHECK_EQ_INT(eff_of(&p, C).profile_id, 2);
  CHECK_EQ_INT(eff_of(&p, S).profile_id, 2);
  check_all_acks(&p);
  nnrp_pair_free(&p);
}

/* ---- policy hook ------------------------------------------------------- */

typedef struct policy_ctx {
  uint32_t calls[16];
  int ncalls;
  int garbage;              /* return an undefined verdict for cadence */
  uint32_t cadence_at_lane; /* effective cadence seen from the lane call */
} policy_ctx;

static int policy(const nnrp_session *s, uint32_t field, nnrp_patch_values *v,
                  uint16_t *reason, void *user) {
  policy_ctx *pc = user;
  if (pc->ncalls < 16)
    pc->calls[pc->ncalls++] = field;
  CHECK_EQ_INT(*reason, NNRP_PATCH_REJECT_UNSUPPORTED_FIELD); /* preset */
  nnrp_effective_profile e;
  switch (field) {
  case NNRP_PATCH_TARGET_CADENCE:
    if (pc->garbage)
      return 42;
    if (v->target_cadence_x100 <= 3000)
      return NNRP_PATCH_POLICY_ACCEPT;
    v->target_cadence_x100 = 3000;
    return NNRP_PATCH_POLICY_CLAMP;
  case NNRP_PATCH_QUALITY_TIER:
    *reason = NNRP_PATCH_REJECT_INVALID_RANGE;
    return NNRP_PATCH_POLICY_REJECT;
  case NNRP_PATCH_DEGRADE_POLICY:
    return NNRP_PATCH_POLICY_REJECT; /* keeps the preset veto reason */
  case NNRP_PATCH_ACTIVE_LANE_MASK:
    if (nnrp_session_effective_profile(s, &e) == 0)
      pc->cadence_at_lane = e.target_cadence_x100;
    return NNRP_PATCH_POLICY_ACCEPT;
  case NNRP_PATCH_PREFERRED_CODEC:
    *reason = NNRP_PATCH_REJECT_RATE_LIMITED; /* not a veto reason */
    return NNRP_PATCH_POLICY_REJECT;
  case NNRP_PATCH_PREFERRED_COMPRESSION:
    v->compression_bitmap = 0; /* a clamp that breaks §10.2 */
    return NNRP_PATCH_POLICY_CLAMP;
  default:
    if (v->clamp.max_width > 1280)
      v->clamp.max_width = 1280;
    return NNRP_PATCH_POLICY_CLAMP;
  }
}

TEST(policy_hook_clamps_and_rejects) {
  nnrp_pair p;
  ctx c;
  if (!setup(&p, &c))
    return;
  policy_ctx pc;
  memset(&pc, 0, sizeof(pc));
  CHECK_EQ_INT(nnrp_session_set_patch_policy(p.side[C], policy, &pc),
               NNRP_ERR_INVALID_ARGUMENT); /* server only */
  CHECK_EQ_INT(nnrp_session_set_patch_policy(p.side[S], policy, &pc), 0);

  nnrp_profile_patch blk = {0, 0, 1920, 1080};
  nnrp_patch_req r = req_of(NNRP_PATCH_KNOWN_MASK);
  r.target_cadence = 60;
  r.quality_tier = 5;
  r.degrade_policy = 2;
  r.active_lane_mask = 0x3;
  r.preferred_codec = 0x1;
  r.preferred_compression = 0x1;
  r.profile_patch = &blk;
  nnrp_packet ak;
  if (exchange(&p, &r, &ak)) {
    check_ack(&ak, NNRP_PATCH_ACK_PARTIALLY_APPLIED,
              NNRP_PATCH_REJECT_INVALID_RANGE, /* quality tier's */
              F_CAD | F_LANE | F_PROF, F_TIER | F_DEG | F_CODEC | F_COMP);
    CHECK_EQ_INT(ak.m.session_patch_ack.effective_target_cadence_x100, 3000);
    CHECK_EQ_INT(ak.b.patch.block.max_width, 1280);
    CHECK_EQ_INT(ak.b.patch.block.max_height, 1080);
  }
  CHECK_EQ_INT(pc.ncalls, 7); /* every field, ascending */
  for (int i = 0; i < pc.ncalls && i < 7; i++)
    CHECK_EQ_INT(pc.calls[i], 1u << i);
  CHECK_EQ_INT(pc.cadence_at_lane, 3000); /* earlier fields already applied */
  nnrp_effective_profile e = eff_of(&p, C);
  CHECK_EQ_INT(e.target_cadence_x100, 3000);
  CHECK_EQ_INT(e.quality_tier, 2);
  CHECK_EQ_INT(e.degrade_policy, 0);
  CHECK_EQ_U64(e.active_lane_mask, 0x3);
  CHECK_EQ_INT(e.codec_bitmap, 0x7);
  CHECK_EQ_INT(e.compression_bitmap, 0x3);
  CHECK_EQ_INT(e.clamp.max_width, 1280);

  /* The policy only sees fields that passed §10.2; the veto's reason
   * (UNSUPPORTED_FIELD, degrade = bit 2) is the lowest rejected bit's. */
  pc.ncalls = 0;
  r = req_of(F_DEG | F_LANE);
  r.degrade_policy = 1;
  r.active_lane_mask = 0;
  if (exchange(&p, &r, &ak))
    check_ack(&ak, NNRP_PATCH_ACK_REJECTED,
              NNRP_PATCH_REJECT_UNSUPPORTED_FIELD, 0, F_DEG | F_LANE);
  CHECK_EQ_INT(pc.ncalls, 1);
  CHECK_EQ_INT(pc.calls[0], F_DEG);

  /* An undefined verdict rejects with UNSUPPORTED_FIELD. */
  pc.garbage = 1;
  r = req_of(F_CAD);
  r.target_cadence = 10;
  if (exchange(&p, &r, &ak))
    check_ack(&ak, NNRP_PATCH_ACK_REJECTED,
              NNRP_PATCH_REJECT_UNSUPPORTED_FIELD, 0, F_CAD);
  CHECK_EQ_INT(eff_of(&p, C).target_cadence_x100, 3000);

  /* Removed: everything valid is accepted again. */
  CHECK_EQ_INT(nnrp_session_set_patch_policy(p.side[S], NULL, NULL), 0);
  pc.ncalls = 0;
  r = req_of(F_TIER | F_CAD);
  r.quality_tier = 9;
  r.target_cadence = 90;
  if (exchange(&p, &r, &ak))
    check_ack(&ak, NNRP_PATCH_ACK_ACCEPTED, 0, F_TIER | F_CAD, 0);
  CHECK_EQ_INT(pc.ncalls, 0);
  CHECK_EQ_INT(eff_of(&p, C).target_cadence_x100, 9000);
  check_all_acks(&p);
  nnrp_pair_free(&p);
}

/* ---- ACK block, raw requests ------------------------------------------ */

TEST(profile_block_in_ack) {
  nnrp_pair p;
  ctx c;
  if (!setup(&p, &c))
    return;
  nnrp_packet ak;
  nnrp_patch_req r = req_of(F_TIER);
  r.quality_tier = 4;
  if (exchange(&p, &r, &ak)) { /* no PROFILE_PATCH: no block */
    CHECK_EQ_INT(ak.hdr.body_len, 0);
    CHECK_EQ_INT(ak.b.patch.present, 0);
  }
  nnrp_profile_patch blk = {32, 32, 800, 600};
  r = req_of(F_PROF);
  r.profile_patch = &blk;
  if (exchange(&p, &r, &ak)) {
    CHECK_EQ_INT(ak.hdr.body_len, 16);
    CHECK_EQ_MEM(&ak.b.patch.block, &blk, sizeof(blk));
  }
  check_all_acks(&p);
  uint32_t sid = nnrp_session_id(p.side[S]);
  size_t acks = nnrp_pair_sent_count(&p, S, NNRP_MSG_SESSION_PATCH_ACK);
  size_t cev = c.client_events;
  nnrp_effective_profile ce = eff_of(&p, C);

  /* PROFILE_PATCH without the block (the API refuses to send it): the
   * field is rejected (§10.2) and the ACK still carries the clamp in
   * force. The client has nothing outstanding: it ignores the ACK. */
  uint8_t buf[256];
  nnrp_session_patch m;
  memset(&m, 0, sizeof(m));
  m.patch_mask = F_TIER;
  m.quality_tier = 6;
  size_t n = raw_patch(buf, sizeof(buf), sid, &m, NULL);
  buf[40 + 4] |= (uint8_t)F_PROF; /* the builder refuses the bit alone */
  p.now += 101 * MS;
  CHECK_EQ_INT(nnrp_pair_inject(&p, S, buf, n), (int64_t)n);
  if (CHECK(nnrp_pair_sent(&p, S, NNRP_MSG_SESSION_PATCH_ACK, acks, &ak))) {
    check_ack(&ak, NNRP_PATCH_ACK_PARTIALLY_APPLIED,
              NNRP_PATCH_REJECT_INVALID_RANGE, F_TIER, F_PROF);
    CHECK_EQ_INT(ak.b.patch.present, 1);
    CHECK_EQ_MEM(&ak.b.patch.block, &blk, sizeof(blk));
  }
  CHECK_EQ_INT(eff_of(&p, S).quality_tier, 6);
  CHECK_EQ_INT(c.client_events, cev); /* unsolicited: no event */
  nnrp_effective_profile ce2 = eff_of(&p, C);
  CHECK_EQ_MEM(&ce, &ce2, sizeof(ce)); /* and no state change */

  /* A block without the PROFILE_PATCH bit is ignored: no block back. */
  nnrp_profile_patch other = {1, 1, 2, 2};
  memset(&m, 0, sizeof(m));
  m.patch_mask = F_DEG;
  m.degrade_policy = 2;
  n = raw_patch(buf, sizeof(buf), sid, &m, &other);
  buf[40 + 4] &= (uint8_t)~F_PROF; /* the builder sets the bit: clear it */
  p.now += 101 * MS;
  CHECK_EQ_INT(nnrp_pair_inject(&p, S, buf, n), (int64_t)n);
  if (CHECK(nnrp_pair_sent(&p, S, NNRP_MSG_SESSION_PATCH_ACK, acks + 1,
                           &ak))) {
    check_ack(&ak, NNRP_PATCH_ACK_ACCEPTED, 0, F_DEG, 0);
    CHECK_EQ_INT(ak.hdr.body_len, 0);
  }
  nnrp_effective_profile se = eff_of(&p, S);
  CHECK_EQ_MEM(&se.clamp, &blk, sizeof(blk));
  CHECK_EQ_INT(nnrp_pair_sent_count(&p, S, NNRP_MSG_ERROR), 0);
  nnrp_pair_free(&p);
}

/* §10.1 step 1: a SESSION_PATCH while the server drains is INVALID_STATE. */
TEST(patch_while_draining_is_invalid_state) {
  nnrp_pair p;
  ctx c;
  if (!setup(&p, &c))
    return;
  p.cut[S] = 1; /* keep the client from answering the CLOSE */
  CHECK_EQ_INT(nnrp_session_close(p.side[S], p.now), 0);
  nnrp_pair_pump(&p);
  CHECK_EQ_INT(nnrp_session_get_state(p.side[S]), NNRP_STATE_DRAINING);
  uint8_t buf[128];
  nnrp_session_patch m;
  memset(&m, 0, sizeof(m));
  m.patch_mask = F_TIER;
  size_t n = raw_patch(buf, sizeof(buf), nnrp_session_id(p.side[S]), &m, NULL);
  nnrp_pair_inject(&p, S, buf, n);
  nnrp_packet er;
  if (CHECK(nnrp_pair_sent(&p, S, NNRP_MSG_ERROR, 0, &er)))
    CHECK_EQ_INT(er.m.error.error_code, NNRP_ERROR_CODE_INVALID_STATE);
  CHECK_EQ_INT(nnrp_pair_sent_count(&p, S, NNRP_MSG_SESSION_PATCH_ACK), 0);
  CHECK_EQ_INT(c.server_events, 0);
  nnrp_pair_free(&p);
}

/* ---- rate limit -------------------------------------------------------- */

TEST(rate_limit_sliding_window) {
  nnrp_pair p;
  ctx c;
  if (!setup(&p, &c))
    return;
  nnrp_packet ak;
  nnrp_patch_req r = req_of(F_CAD | F_TIER);
  r.quality_tier = 1;
  /* Ten patches 50 ms apart (t0 .. t0+450 ms): all accepted. */
  for (uint32_t i = 0; i < 10; i++) {
    r.target_cadence = 10 + i;
    if (exchange_dt(&p, &r, i == 0 ? 0 : 50 * MS, &ak))
      check_ack(&ak, NNRP_PATCH_ACK_ACCEPTED, 0, F_CAD | F_TIER, 0);
  }
  /* The 11th within the second (t0+500): REJECTED, RATE_LIMITED, until the
   * patch of t0 leaves the window at t0+1000. */
  r.target_cadence = 99;
  if (exchange_dt(&p, &r, 50 * MS, &ak)) {
    check_ack(&ak, NNRP_PATCH_ACK_REJECTED, NNRP_PATCH_REJECT_RATE_LIMITED, 0,
              F_CAD | F_TIER);
    CHECK_EQ_INT(ak.m.session_patch_ack.retry_after_ms, 500);
  }
  CHECK_EQ_INT(eff_of(&p, S).target_cadence_x100, 1900);
  CHECK_EQ_INT(c.server_events, 10); /* the limited one is not surfaced */
  CHECK_EQ_INT(c.client_events, 11);
  /* t0+999.5 ms: still limited; the half millisecond rounds up. */
  if (exchange_dt(&p, &r, 499 * MS + MS / 2, &ak)) {
    check_ack(&ak, NNRP_PATCH_ACK_REJECTED, NNRP_PATCH_REJECT_RATE_LIMITED, 0,
              F_CAD | F_TIER);
    CHECK_EQ_INT(ak.m.session_patch_ack.retry_after_ms, 1);
  }
  /* t0+1000: allowed (limited patches did not count). */
  if (exchange_dt(&p, &r, MS / 2, &ak))
    check_ack(&ak, NNRP_PATCH_ACK_ACCEPTED, 0, F_CAD | F_TIER, 0);
  CHECK_EQ_INT(eff_of(&p, C).target_cadence_x100, 9900);
  /* Full again: the next slot frees when t0+50 leaves, 50 ms from now. */
  r.target_cadence = 77;
  if (exchange_dt(&p, &r, 0, &ak)) {
    check_ack(&ak, NNRP_PATCH_ACK_REJECTED, NNRP_PATCH_REJECT_RATE_LIMITED, 0,
              F_CAD | F_TIER);
    CHECK_EQ_INT(ak.m.session_patch_ack.retry_after_ms, 50);
  }
  if (exchange_dt(&p, &r, 50 * MS, &ak))
    check_ack(&ak, NNRP_PATCH_ACK_ACCEPTED, 0, F_CAD | F_TIER, 0);
  CHECK_EQ_INT(eff_of(&p, C).target_cadence_x100, 7700);
  check_all_acks(&p); /* includes: never an ERROR */
  nnrp_pair_free(&p);
}

TEST(rate_limit_configurable) {
  nnrp_pair p;
  ctx c;
  if (!setup(&p, &c))
    return;
  CHECK_EQ_INT(nnrp_session_set_patch_rate_limit(p.side[C], 5, 100),
               NNRP_ERR_INVALID_ARGUMENT);
  CHECK_EQ_INT(nnrp_session_set_patch_rate_limit(
                   p.side[S], NNRP_PATCH_RATE_LIMIT_MAX + 1u, 100),
               NNRP_ERR_INVALID_ARGUMENT);
  CHECK_EQ_INT(nnrp_session_set_patch_rate_limit(p.side[S], 2, 100), 0);
  nnrp_packet ak;
  nnrp_patch_req r = req_of(F_TIER);
  r.quality_tier = 3;
  CHECK(exchange_dt(&p, &r, 0, &ak));
  CHECK(exchange_dt(&p, &r, 10 * MS, &ak));
  if (exchange_dt(&p, &r, 10 * MS, &ak)) {
    check_ack(&ak, NNRP_PATCH_ACK_REJECTED, NNRP_PATCH_REJECT_RATE_LIMITED, 0,
              F_TIER);
    CHECK_EQ_INT(ak.m.session_patch_ack.retry_after_ms, 80);
  }
  if (exchange_dt(&p, &r, 80 * MS, &ak))
    check_ack(&ak, NNRP_PATCH_ACK_ACCEPTED, 0, F_TIER, 0);

  /* No limit: 30 patches at the same instant. */
  CHECK_EQ_INT(nnrp_session_set_patch_rate_limit(p.side[S], 0, 0), 0);
  for (int i = 0; i < 30; i++)
    if (exchange_dt(&p, &r, 0, &ak))
      check_ack(&ak, NNRP_PATCH_ACK_ACCEPTED, 0, F_TIER, 0);

  /* Shrinking keeps the newest counted patches. */
  CHECK_EQ_INT(nnrp_session_set_patch_rate_limit(p.side[S], 5, 1000), 0);
  for (int i = 0; i < 4; i++)
    CHECK(exchange_dt(&p, &r, MS, &ak)); /* T+1 .. T+4 ms */
  CHECK_EQ_INT(nnrp_session_set_patch_rate_limit(p.side[S], 2, 1000), 0);
  if (exchange_dt(&p, &r, 0, &ak)) {
    check_ack(&ak, NNRP_PATCH_ACK_REJECTED, NNRP_PATCH_REJECT_RATE_LIMITED, 0,
              F_TIER);
    CHECK_EQ_INT(ak.m.session_patch_ack.retry_after_ms, 999); /* T+3 */
  }
  /* Growing keeps them too: 3 more fit, the 4th does not. */
  CHECK_EQ_INT(nnrp_session_set_patch_rate_limit(p.side[S], 5, 1000), 0);
  for (int i = 0; i < 3; i++)
    if (exchange_dt(&p, &r, 0, &ak))
      check_ack(&ak, NNRP_PATCH_ACK_ACCEPTED, 0, F_TIER, 0);
  if (exchange_dt(&p, &r, 0, &ak))
    check_ack(&ak, NNRP_PATCH_ACK_REJECTED, NNRP_PATCH_REJECT_RATE_LIMITED, 0,
              F_TIER);
  check_all_acks(&p);
  nnrp_pair_free(&p);
}

/* ---- client API -------------------------------------------------------- */

/* The last SESSION_PATCH the client queued, decoded from its output. */
static int last_request(nnrp_pair *p, nnrp_packet *out) {
  nnrp_pair_pump(p);
  size_t n = nnrp_pair_sent_count(p, C, NNRP_MSG_SESSION_PATCH);
  return n != 0 && nnrp_pair_sent(p, C, NNRP_MSG_SESSION_PATCH, n - 1, out);
}

TEST(client_api_validation) {
  nnrp_pair p;
  ctx c;
  if (!setup(&p, &c))
    return;
  nnrp_session *cl = p.side[C];
  nnrp_patch_req r = req_of(F_TIER);
  CHECK_EQ_INT(nnrp_session_patch_session(p.side[S], &r, p.now),
               NNRP_ERR_INVALID_STATE);
  CHECK_EQ_INT(nnrp_session_patch_session(cl, NULL, p.now),
               NNRP_ERR_INVALID_ARGUMENT);
  r = req_of(0x80); /* unknown bit */
  CHECK_EQ_INT(nnrp_session_patch_session(cl, &r, p.now),
               NNRP_ERR_INVALID_ARGUMENT);
  r = req_of(F_PROF); /* the bit without a block */
  CHECK_EQ_INT(nnrp_session_patch_session(cl, &r, p.now),
               NNRP_ERR_INVALID_ARGUMENT);
  r = req_of(F_TIER); /* #8: 0..255 at the API */
  r.quality_tier = 256;
  CHECK_EQ_INT(nnrp_session_patch_session(cl, &r, p.now),
               NNRP_ERR_INVALID_ARGUMENT);
  r = req_of(F_CAD); /* FPS x100 must fit the u32 */
  r.target_cadence = UINT32_MAX / 100u + 1u;
  CHECK_EQ_INT(nnrp_session_patch_session(cl, &r, p.now),
               NNRP_ERR_INVALID_ARGUMENT);
  CHECK_EQ_U64(nnrp_session_output_bytes(cl), 0); /* nothing queued */
  CHECK_EQ_INT(nnrp_session_patches_outstanding(cl), 0);

  nnrp_packet rq;
  /* #7: FPS sent x100. */
  r = req_of(F_CAD);
  r.target_cadence = 30;
  CHECK_EQ_INT(nnrp_session_patch_session(cl, &r, p.now), 0);
  if (CHECK(last_request(&p, &rq))) {
    CHECK_EQ_INT(rq.m.session_patch.patch_mask, F_CAD);
    CHECK_EQ_INT(rq.m.session_patch.target_cadence_x100, 3000);
    CHECK_EQ_INT(rq.hdr.session_id, nnrp_session_id(cl));
    CHECK_EQ_INT(rq.hdr.body_len, 0);
  }
  /* #7: cadence 0 = unchanged: the bit is dropped. */
  r = req_of(F_CAD | F_TIER);
  r.quality_tier = 255;
  p.now += 101 * MS;
  CHECK_EQ_INT(nnrp_session_patch_session(cl, &r, p.now), 0);
  if (CHECK(last_request(&p, &rq))) {
    CHECK_EQ_INT(rq.m.session_patch.patch_mask, F_TIER);
    CHECK_EQ_INT(rq.m.session_patch.target_cadence_x100, 0);
    CHECK_EQ_INT(rq.m.session_patch.quality_tier, 255);
  }
  CHECK_EQ_INT(eff_of(&p, C).target_cadence_x100, 3000);
  CHECK_EQ_INT(eff_of(&p, C).quality_tier, 255);
  /* Values whose bit is clear are not range-checked and go out as 0; a
   * block sets PROFILE_PATCH; route/trace come back in the ACK. */
  nnrp_profile_patch blk = {1, 2, 3, 4};
  r = req_of(F_DEG);
  r.degrade_policy = 3;
  r.quality_tier = 1000;
  r.target_cadence = 50;
  r.active_lane_mask = 0xFF;
  r.preferred_codec = 0xFF;
  r.preferred_compression = 0xFF;
  r.profile_patch = &blk;
  r.route_id = 0x1234;
  r.trace_id = 0xABCDEF0123456789ull;
  p.now += 101 * MS;
  CHECK_EQ_INT(nnrp_session_patch_session(cl, &r, p.now), 0);
  if (CHECK(last_request(&p, &rq))) {
    const nnrp_session_patch *m = &rq.m.session_patch;
    CHECK_EQ_INT(m->patch_mask, F_DEG | F_PROF);
    CHECK_EQ_INT(m->degrade_policy, 3);
    CHECK_EQ_INT(m->quality_tier, 0);
    CHECK_EQ_INT(m->target_cadence_x100, 0);
    CHECK_EQ_U64(m->active_lane_mask, 0);
    CHECK_EQ_INT(m->preferred_codec_bitmap, 0);
    CHECK_EQ_INT(m->preferred_compression_bitmap, 0);
    CHECK_EQ_INT(m->profile_patch_bytes, 16);
    CHECK_EQ_MEM(&rq.b.patch.block, &blk, sizeof(blk));
    CHECK_EQ_INT(rq.hdr.route_id, 0x1234);
  }
  check_in_sync(&p);
  check_all_acks(&p); /* route and trace echoed */

  /* Not ACTIVE: DRAINING after close. */
  CHECK_EQ_INT(nnrp_session_close(cl, p.now), 0);
  r = req_of(F_TIER);
  CHECK_EQ_INT(nnrp_session_patch_session(cl, &r, p.now),
               NNRP_ERR_INVALID_STATE);
  nnrp_pair_free(&p);
}

TEST(client_acks_matched_fifo) {
  nnrp_pair p;
  ctx c;
  if (!setup(&p, &c))
    return;
  CHECK_EQ_INT(nnrp_session_set_patch_rate_limit(p.side[S], 0, 0), 0);
  int tags[NNRP_PATCH_MAX_OUTSTANDING];
  nnrp_patch_req r = req_of(F_TIER);
  for (uint32_t i = 0; i < NNRP_PATCH_MAX_OUTSTANDING; i++) {
    r.quality_tier = 10 + i;
    r.user_data = &tags[i];
    CHECK_EQ_INT(nnrp_session_patch_session(p.side[C], &r, p.now), 0);
  }
  CHECK_EQ_INT(nnrp_session_patches_outstanding(p.side[C]),
               NNRP_PATCH_MAX_OUTSTANDING);
  CHECK_EQ_INT(nnrp_session_patch_session(p.side[C], &r, p.now),
               NNRP_ERR_WOULD_BLOCK);
  nnrp_pair_pump(&p);
  CHECK_EQ_INT(nnrp_session_patches_outstanding(p.side[C]), 0);
  CHECK_EQ_INT(c.client_events, NNRP_PATCH_MAX_OUTSTANDING);
  for (uint32_t i = 0; i < NNRP_PATCH_MAX_OUTSTANDING; i++)
    CHECK(c.user[i] == &tags[i]);
  CHECK_EQ_INT(c.server_events, NNRP_PATCH_MAX_OUTSTANDING);
  CHECK_EQ_INT(c.at_event[3].effective_quality_tier, 13);
  nnrp_session_patch_ack a;
  CHECK_EQ_INT(nnrp_session_last_patch_ack(p.side[C], &a), 0);
  CHECK_EQ_INT(a.effective_quality_tier, 10 + NNRP_PATCH_MAX_OUTSTANDING - 1);
  check_in_sync(&p);
  check_all_acks(&p);
  nnrp_pair_free(&p);
}

/* The client takes only what its request asked and the ACK applied, from a
 * server that breaks the sender rules of wire.md §4.4: a bit it did not
 * ask, effective values of rejected fields, PROFILE_PATCH applied without
 * the block. The profile id is always taken. */
TEST(client_adopts_only_applied_fields) {
  nnrp_pair p;
  ctx c;
  if (!setup(&p, &c))
    return;
  nnrp_effective_profile before = eff_of(&p, C);
  p.cut[C] = 1; /* the request never reaches the server */
  nnrp_profile_patch blk = {1, 1, 100, 100};
  nnrp_patch_req r = req_of(F_TIER | F_LANE);
  r.quality_tier = 77;
  r.active_lane_mask = 0x1;
  r.profile_patch = &blk;
  CHECK_EQ_INT(nnrp_session_patch_session(p.side[C], &r, p.now), 0);
  nnrp_pair_pump(&p);
  CHECK_EQ_INT(nnrp_session_patches_outstanding(p.side[C]), 1);

  nnrp_header h;
  nnrp_header_init(&h, NNRP_MSG_SESSION_PATCH_ACK);
  h.session_id = nnrp_session_id(p.side[C]);
  nnrp_meta m;
  memset(&m, 0, sizeof(m));
  nnrp_session_patch_ack *a = &m.session_patch_ack;
  a->ack_status = NNRP_PATCH_ACK_PARTIALLY_APPLIED;
  a->reject_reason = NNRP_PATCH_REJECT_INVALID_LANE_MASK;
  a->applied_patch_mask = F_TIER | F_PROF | F_CODEC; /* codec not asked */
  a->rejected_patch_mask = F_LANE;
  a->effective_profile_id = 2;
  a->effective_quality_tier = 77;
  a->effective_lane_mask = 0x2;    /* rejected field: not taken */
  a->effective_codec_bitmap = 0x4; /* not asked: not taken */
  a->effective_target_cadence_x100 = 1; /* not asked: not taken */
  uint8_t buf[128];
  nnrp_out o;
  nnrp_out_init(&o, buf, sizeof(buf), NULL, 0);
  nnrp_fault f;
  if (!CHECK_EQ_INT(nnrp_build_control(&o, &h, &m, NULL, &f), 0)) {
    nnrp_pair_free(&p);
    return;
  }
  CHECK_EQ_INT(nnrp_pair_inject(&p, C, buf, (size_t)o.total),
               (int64_t)o.total);
  CHECK_EQ_INT(c.client_events, 1);
  CHECK_EQ_INT(nnrp_session_patches_outstanding(p.side[C]), 0);
  nnrp_effective_profile e = eff_of(&p, C);
  CHECK_EQ_INT(e.quality_tier, 77);
  CHECK_EQ_INT(e.profile_id, 2);
  CHECK_EQ_U64(e.active_lane_mask, before.active_lane_mask);
  CHECK_EQ_INT(e.codec_bitmap, before.codec_bitmap);
  CHECK_EQ_INT(e.target_cadence_x100, before.target_cadence_x100);
  CHECK_EQ_INT(e.clamp_present, 0); /* no block came back */
  CHECK_EQ_INT(e.clamp.max_width, 0);
  nnrp_pair_free(&p);
}

/* Lane masks against the negotiated count: 1 lane, and 64+ lanes. */
TEST(lane_mask_bounds) {
  nnrp_pair p;
  ctx c;
  if (!setup_with(&p, &c, 1, NULL))
    return;
  CHECK_EQ_U64(eff_of(&p, C).active_lane_mask, 0x1);
  nnrp_patch_req r = req_of(F_LANE);
  r.active_lane_mask = 0x2;
  expect_reject(&p, &r, F_LANE, NNRP_PATCH_REJECT_INVALID_LANE_MASK);
  r.active_lane_mask = 0x1;
  nnrp_packet ak;
  if (exchange(&p, &r, &ak))
    check_ack(&ak, NNRP_PATCH_ACK_ACCEPTED, 0, F_LANE, 0);
  check_all_acks(&p);
  nnrp_pair_free(&p);

  nnrp_session_settings ss;
  nnrp_session_settings_default(&ss);
  ss.max_lanes = 70;
  if (!setup_with(&p, &c, 100, &ss))
    return;
  CHECK_EQ_U64(eff_of(&p, C).active_lane_mask, UINT64_MAX);
  r.active_lane_mask = 0x8000000000000000ull;
  if (exchange(&p, &r, &ak))
    check_ack(&ak, NNRP_PATCH_ACK_ACCEPTED, 0, F_LANE, 0);
  CHECK_EQ_U64(eff_of(&p, C).active_lane_mask, 0x8000000000000000ull);
  check_all_acks(&p);
  nnrp_pair_free(&p);
}

/* ---- allocation failures ---------------------------------------------- */

typedef struct failing_alloc {
  size_t count;   /* allocations so far (malloc and realloc) */
  size_t fail_at; /* this one fails (SIZE_MAX: none) */
} failing_alloc;

static void *fa_malloc(size_t n, void *user) {
  failing_alloc *fa = user;
  return fa->count++ == fa->fail_at ? NULL : malloc(n);
}
static void *fa_realloc(void *ptr, size_t n, void *user) {
  failing_alloc *fa = user;
  return fa->count++ == fa->fail_at ? NULL : realloc(ptr, n);
}
static void fa_free(void *ptr, void *user) {
  (void)user;
  free(ptr);
}

/* Fails the k-th allocation of a patch exchange, for every k: the client
 * API reports NNRP_ERR_NOMEM with nothing outstanding, or a side ends with
 * NOMEM; never a crash, never a leak (ASan run). */
TEST(allocation_failure_every_step) {
  int completed = 0;
  for (size_t k = 0; k < 64 && !completed; k++) {
    failing_alloc fa = {0, SIZE_MAX};
    nnrp_mem mem = {&fa, fa_malloc, fa_realloc, fa_free};
    nnrp_client_profile cp;
    nnrp_client_profile_default(&cp);
    nnrp_server_profile sp;
    nnrp_server_profile_default(&sp);
    nnrp_pair p;
    if (!CHECK_EQ_INT(nnrp_pair_init(&p, &cp, &sp, NULL, NULL), 0))
      return;
    nnrp_session_del(p.side[C]);
    nnrp_session_del(p.side[S]);
    p.side[C] = p.side[S] = NULL;
    if (!CHECK_EQ_INT(nnrp_session_client_new(&p.side[C], &cp, NULL, &mem),
                      0) ||
        !CHECK_EQ_INT(nnrp_session_server_new(&p.side[S], &sp, NULL, &mem),
                      0) ||
        !CHECK_EQ_INT(nnrp_pair_handshake(&p), 0)) {
      nnrp_pair_free(&p);
      return;
    }
    fa.fail_at = fa.count + k;
    nnrp_profile_patch blk = {0, 0, 640, 480};
    nnrp_patch_req r = req_of(F_TIER);
    r.quality_tier = 9;
    r.profile_patch = &blk;
    int rc = nnrp_session_patch_session(p.side[C], &r, p.now);
    if (rc != 0) {
      CHECK_EQ_INT(rc, NNRP_ERR_NOMEM);
      CHECK_EQ_INT(nnrp_session_patches_outstanding(p.side[C]), 0);
    } else {
      nnrp_pair_pump(&p);
      int cl = nnrp_session_get_state(p.side[C]) == NNRP_STATE_CLOSED;
      int sv = nnrp_session_get_state(p.side[S]) == NNRP_STATE_CLOSED;
      if (cl || sv) {
        CHECK(fa.count > fa.fail_at); /* only because of the failure */
      } else {
        CHECK_EQ_INT(eff_of(&p, C).quality_tier, 9);
        check_in_sync(&p);
        completed = fa.count <= fa.fail_at; /* nothing failed: done */
      }
    }
    nnrp_pair_free(&p);
  }
  CHECK(completed);
}

int main(void) {
  RUN(initial_effective_state);
  RUN(each_field_accepted);
  RUN(each_field_rejected);
  RUN(mixed_request_partially_applied);
  RUN(policy_hook_clamps_and_rejects);
  RUN(profile_block_in_ack);
  RUN(patch_while_draining_is_invalid_state);
  RUN(rate_limit_sliding_window);
  RUN(rate_limit_configurable);
  RUN(client_api_validation);
  RUN(client_acks_matched_fifo);
  RUN(client_adopts_only_applied_fields);
  RUN(lane_mask_bounds);
  RUN(allocation_failure_every_step);
  TEST_MAIN_END();
}
