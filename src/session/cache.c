/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cache.c - the per-session object cache of session.md §9 (D16) on top of
 * cache_store.c: negotiation (§3.6), CACHE_PUT/ACK (§9.2), TTL (§9.3),
 * CACHE_INVALIDATE both ways (§9.4), reference resolution with CACHE_MISS
 * (§9.5), and the client mirror with its CACHE_MISS clean-up (§9.6).
 */
#include <string.h>

#include "cache_store.h"

#define NS_PER_MS 1000000ull
/* Client: finished frames whose references are remembered for a late
 * ERROR CACHE_MISS (session.md §7.2 note 2), besides the frames in flight. */
#define RECENT_REFS 64u

_Static_assert((int)NNRP_CS_ACCEPTED == (int)NNRP_CACHE_ACK_ACCEPTED &&
                   (int)NNRP_CS_REJECTED == (int)NNRP_CACHE_ACK_REJECTED &&
                   (int)NNRP_CS_REPLACED == (int)NNRP_CACHE_ACK_REPLACED,
               "store outcomes are CacheAckStatus values");
_Static_assert((int)NNRP_CS_SCOPE_ALL ==
                       (int)NNRP_CACHE_INVALIDATE_WHOLE_SESSION &&
                   (int)NNRP_CS_SCOPE_NAMESPACE ==
                       (int)NNRP_CACHE_INVALIDATE_NAMESPACE &&
                   (int)NNRP_CS_SCOPE_KIND ==
                       (int)NNRP_CACHE_INVALIDATE_OBJECT_KIND &&
                   (int)NNRP_CS_SCOPE_KEY == (int)NNRP_CACHE_INVALIDATE_OBJECT_KEY,
               "store scopes are CacheInvalidateScope values");

typedef struct nnrp_cache nnrp_cache;

/* Server: the entries one in-flight frame holds. */
typedef struct cache_hold {
  nnrp_centry *e[NNRP_MAX_RESOLVED_OBJECTS];
  uint32_t n;
  uint32_t next_free; /* index + 1 in the free list, 0 = end */
} cache_hold;

/* Client: a CACHE_PUT awaiting its ACK (the ACK echoes only the key). */
typedef struct pending_put {
  uint32_t ns, hi, lo, len, flags;
  uint16_t kind;
  void *user_data;
} pending_put;

/* Client: the references of one submitted frame. */
typedef struct ref_rec {
  uint32_t frame_id;
  uint32_t n;
  nnrp_object_ref refs[NNRP_MAX_RESOLVED_OBJECTS];
} ref_rec;

struct nnrp_cache {
  nnrp_cstore store; /* server: the objects; client: the mirror */
  /* server */
  cache_hold *holds;
  uint32_t holds_n, holds_cap, free_hold;
  /* client */
  pending_put pend[NNRP_CACHE_MAX_PENDING_PUTS];
  uint32_t pend_head, pend_n;
  ref_rec *recs; /* ring ordered by frame id */
  uint32_t rec_cap, rec_head, rec_n;
  /* counters */
  uint64_t puts_accepted, puts_rejected, invalidated, resolved, misses;
};

/* ---- state ------------------------------------------------------------- */

static int live_state(const nnrp_session *s) {
  return s->state == NNRP_STATE_ACTIVE || s->state == NNRP_STATE_DRAINING;
}

static void put_u32hex(char *d, size_t cap, size_t *n, uint32_t v) {
  static const char hex[] = "0123456789abcdef";
  if (*n + 10 > cap)
    return;
  d[(*n)++] = '0';
  d[(*n)++] = 'x';
  for (int sh = 28; sh >= 0; sh -= 4)
    d[(*n)++] = hex[(v >> sh) & 0xFu];
}

static void put_str(char *d, size_t cap, size_t *n, const char *src) {
  while (*src && *n + 1 < cap)
    d[(*n)++] = *src++;
}

/* "<what> kind 0x.. ns 0x.. key 0x..:0x..", NUL-terminated. */
static void describe(char *d, size_t cap, const char *what,
                     const nnrp_object_ref *r) {
  size_t n = 0;
  put_str(d, cap, &n, what);
  put_str(d, cap, &n, " kind ");
  put_u32hex(d, cap, &n, r->object_kind);
  put_str(d, cap, &n, " ns ");
  put_u32hex(d, cap, &n, r->cache_namespace);
  put_str(d, cap, &n, " key ");
  put_u32hex(d, cap, &n, r->cache_key_hi);
  put_str(d, cap, &n, ":");
  put_u32hex(d, cap, &n, r->cache_key_lo);
  d[n < cap ? n : cap - 1] = '\0';
}

/* Server: LRU evictions and TTL expiries are announced (§9.4 rule 3). */
static void server_gone(void *ctx, const nnrp_centry *e, unsigned reason) {
  nnrp_session *s = ctx;
  if ((reason != NNRP_CS_GONE_EVICTED && reason != NNRP_CS_GONE_EXPIRED) ||
      !live_state(s))
    return;
  nnrp_header h;
  nnrp_header_init(&h, NNRP_MSG_CACHE_INVALIDATE);
  h.session_id = s->session_id;
  nnrp_meta m;
  memset(&m, 0, sizeof(m));
  m.cache_invalidate.invalidate_scope = NNRP_CACHE_INVALIDATE_OBJECT_KEY;
  m.cache_invalidate.cache_namespace = e->ns;
  m.cache_invalidate.cache_key_hi = e->hi;
  m.cache_invalidate.cache_key_lo = e->lo;
  m.cache_invalidate.reason_code = reason;
  (void)nnrp__send_control(s, &h, &m, NULL); /* SHOULD: best effort */
}

static nnrp_cache *cache_new(nnrp_session *s, const nnrp_cstore_limits *lim) {
  nnrp_cache *c = nnrp__scalloc(&s->mem, sizeof(*c));
  if (c == NULL)
    return NULL;
  /* The hash seed derives from the frame table's random seed, so that the
   * cache draws nothing from the session's random sequence (which also
   * picks session ids). */
  nnrp__cs_init(&c->store, &s->mem, lim,
                (s->frames.seed ^ 0x5BD1E995u) * 0x9E3779B1u);
  if (s->is_server) {
    c->store.gone = server_gone;
    c->store.gone_ctx = s;
  }
  s->cache = c;
  return c;
}

/* Client: the mirror, created on first use once the ack is known. */
static nnrp_cache *client_cache(nnrp_session *s) {
  if (s->cache != NULL || s->is_server || s->session_id == 0)
    return s->cache;
  const nnrp_server_hello_ack *a = &s->ack;
  nnrp_cstore_limits lim;
  memset(&lim, 0, sizeof(lim));
  if (s->cprof.enable_cache &&
      (a->server_flags & NNRP_SERVER_FLAG_CACHE_ENABLED)) {
    lim.max_entries = a->max_cache_entries;
    lim.max_bytes = a->max_cache_bytes;
    lim.kinds = NNRP_CACHE_OBJECT_KNOWN_MASK; /* the server decided */
  }
  lim.force = 1; /* the ACK is authoritative: make room, never refuse */
  return cache_new(s, &lim);
}

void nnrp__cache_free(nnrp_session *s) {
  nnrp_cache *c = s->cache;
  if (c == NULL)
    return;
  nnrp__cs_free(&c->store);
  nnrp__sfree(&s->mem, c->holds);
  nnrp__sfree(&s->mem, c->recs);
  nnrp__sfree(&s->mem, c);
  s->cache = NULL;
}

/* ---- negotiation (session.md §3.6) ------------------------------------- */

static uint32_t min32(uint32_t a, uint32_t b) { return a < b ? a : b; }

void nnrp__cache_negotiate(nnrp_session *s, const nnrp_client_hello *c,
                           nnrp_server_hello_ack *a) {
  const nnrp_server_profile *sp = &s->sprof;
  uint32_t kinds = (uint32_t)c->cache_object_bitmap & sp->cache_object_bitmap &
                   NNRP_CACHE_OBJECT_KNOWN_MASK;
  uint32_t entries = min32(c->max_cache_entries, sp->max_cache_entries);
  uint32_t bytes = min32(c->max_cache_bytes, sp->max_cache_bytes);
  int on = sp->enable_cache && kinds != 0 && entries != 0 && bytes != 0;
  nnrp_cstore_limits lim;
  memset(&lim, 0, sizeof(lim));
  if (on) {
    lim.max_entries = entries;
    lim.max_bytes = bytes;
    lim.max_object_bytes = sp->max_object_bytes;
    lim.kinds = kinds;
    lim.keep_bytes = 1;
  }
  nnrp__cache_free(s); /* a session negotiates once; be safe anyway */
  if (on && cache_new(s, &lim) == NULL)
    on = 0; /* no memory for the cache state: offer no cache */
  if (!on)
    memset(&lim, 0, sizeof(lim));
  /* Disabled: every cache field is 0, so no peer sees kinds without a
   * quota (and references fail step 17). */
  a->cache_object_bitmap = lim.kinds;
  a->max_cache_entries = lim.max_entries;
  a->max_cache_bytes = lim.max_bytes;
  a->server_flags = on ? NNRP_SERVER_FLAG_CACHE_ENABLED : 0u;
}

/* ---- server: CACHE_PUT (session.md §9.2) ------------------------------- */

int nnrp__cache_on_put(nnrp_session *s, const nnrp_packet *p) {
  const nnrp_cache_put *m = &p->m.cache_put;
  nnrp_cache *c = s->cache;
  uint32_t detail = NNRP_CS_DETAIL_DISABLED;
  int st = NNRP_CS_REJECTED;
  if (c != NULL) {
    nnrp_cstore_put put;
    memset(&put, 0, sizeof(put));
    put.ns = m->cache_namespace;
    put.hi = m->cache_key_hi;
    put.lo = m->cache_key_lo;
    put.kind = (uint16_t)m->object_kind; /* 1..9 (wire enum check) */
    put.flags = m->flags;
    put.expiry = m->ttl_ms ? s->now + (uint64_t)m->ttl_ms * NS_PER_MS : 0;
    put.data = p->b.object.ptr;
    put.len = (uint32_t)p->b.object.len;
    st = nnrp__cs_put(&c->store, &put, &detail);
    if (st == NNRP_CS_REJECTED)
      c->puts_rejected++;
    else
      c->puts_accepted++;
  }
  nnrp_header h;
  nnrp_header_init(&h, NNRP_MSG_CACHE_ACK);
  h.session_id = s->session_id;
  h.route_id = p->hdr.route_id;
  h.trace_id = p->hdr.trace_id;
  nnrp_meta am;
  memset(&am, 0, sizeof(am));
  nnrp_cache_ack *a = &am.cache_ack;
  a->cache_namespace = m->cache_namespace;
  a->cache_key_hi = m->cache_key_hi;
  a->cache_key_lo = m->cache_key_lo;
  a->status = (uint32_t)st;
  a->accepted_ttl_ms = st == NNRP_CS_REJECTED ? 0 : m->ttl_ms;
  a->max_object_bytes = c ? nnrp__cs_max_object(&c->store) : 0;
  a->detail_code = detail;
  return nnrp__send_control(s, &h, &am, NULL);
}

/* ---- both sides: CACHE_INVALIDATE (session.md §9.4) -------------------- */

int nnrp__cache_on_invalidate(nnrp_session *s, const nnrp_packet *p) {
  const nnrp_cache_invalidate *m = &p->m.cache_invalidate;
  nnrp_cache *c = s->is_server ? s->cache : client_cache(s);
  if (c == NULL)
    return 0; /* nothing cached (or no mirror): no match is not an error */
  c->invalidated += nnrp__cs_invalidate(&c->store, m->invalidate_scope,
                                        m->cache_namespace, m->cache_key_hi,
                                        m->cache_key_lo);
  return 0;
}

/* ---- client: CACHE_ACK ------------------------------------------------- */

static pending_put *pend_at(nnrp_cache *c, uint32_t i) {
  return &c->pend[(c->pend_head + i) % NNRP_CACHE_MAX_PENDING_PUTS];
}

/* Takes the oldest pending put of the key out of the ring. */
static int pend_take(nnrp_cache *c, const nnrp_cache_ack *a, pending_put *out) {
  for (uint32_t i = 0; i < c->pend_n; i++) {
    pending_put *q = pend_at(c, i);
    if (q->ns != a->cache_namespace || q->hi != a->cache_key_hi ||
        q->lo != a->cache_key_lo)
      continue;
    *out = *q;
    for (uint32_t j = i; j + 1 < c->pend_n; j++)
      *pend_at(c, j) = *pend_at(c, j + 1);
    c->pend_n--;
    return 1;
  }
  return 0;
}

int nnrp__cache_on_ack(nnrp_session *s, const nnrp_packet *p) {
  const nnrp_cache_ack *a = &p->m.cache_ack;
  nnrp_cache *c = client_cache(s);
  pending_put q;
  if (c == NULL || !pend_take(c, a, &q))
    return 0; /* unsolicited CACHE_ACK: ignored (§9.4 rule 4) */
  if (a->status == NNRP_CACHE_ACK_REJECTED) {
    c->puts_rejected++;
  } else {
    c->puts_accepted++;
    nnrp_cstore_put put;
    memset(&put, 0, sizeof(put));
    put.ns = q.ns;
    put.hi = q.hi;
    put.lo = q.lo;
    put.kind = q.kind;
    put.flags = q.flags;
    put.len = q.len;
    put.expiry = a->accepted_ttl_ms
                     ? s->now + (uint64_t)a->accepted_ttl_ms * NS_PER_MS
                     : 0;
    uint32_t detail;
    (void)nnrp__cs_put(&c->store, &put, &detail); /* disabled: not kept */
  }
  nnrp_event ev;
  memset(&ev, 0, sizeof(ev));
  ev.type = NNRP_EV_CACHE_ACK;
  ev.packet = p;
  ev.user_data = q.user_data;
  ev.received_at = s->now;
  return nnrp__emit(s, &ev);
}

/* ---- client API -------------------------------------------------------- */

static int api_state(const nnrp_session *s, int active_only) {
  if (s->state == NNRP_STATE_CLOSED)
    return NNRP_ERR_CLOSED;
  if (s->state == NNRP_STATE_ACTIVE ||
      (!active_only && s->state == NNRP_STATE_DRAINING))
    return 0;
  return NNRP_ERR_INVALID_STATE;
}

static int put_args_ok(const nnrp_session *s, const nnrp_cache_put_req *r) {
  if (r->object_kind < NNRP_OBJECT_CAMERA_BLOCK ||
      r->object_kind > NNRP_OBJECT_STRUCTURED_EVENT_SCHEMA ||
      (r->flags & ~NNRP_CACHE_PUT_KNOWN_MASK) != 0 ||
      (r->data.len != 0 && r->data.ptr == NULL))
    return 0;
  uint64_t cap = s->ack.max_body_bytes ? s->ack.max_body_bytes : UINT32_MAX;
  return (uint64_t)r->data.len <= cap;
}

int nnrp_session_put_cache(nnrp_session *s, const nnrp_cache_put_req *req,
                           uint64_t now) {
  s->now = now;
  if (s->is_server || req == NULL)
    return NNRP_ERR_INVALID_ARGUMENT;
  int rc = api_state(s, 1);
  if (rc != 0)
    return rc;
  if (!put_args_ok(s, req))
    return NNRP_ERR_INVALID_ARGUMENT;
  nnrp_cache *c = client_cache(s);
  if (c == NULL)
    return NNRP_ERR_NOMEM;
  if (c->pend_n >= NNRP_CACHE_MAX_PENDING_PUTS)
    return NNRP_ERR_WOULD_BLOCK;
  nnrp_header h;
  nnrp_header_init(&h, NNRP_MSG_CACHE_PUT);
  h.session_id = s->session_id;
  h.route_id = req->route_id;
  h.trace_id = req->trace_id;
  nnrp_meta m;
  memset(&m, 0, sizeof(m));
  nnrp_cache_put *cp = &m.cache_put;
  cp->cache_namespace = req->cache_namespace;
  cp->cache_key_hi = req->key_hi;
  cp->cache_key_lo = req->key_lo;
  if (req->key_bytes != NULL)
    nnrp_cache_key_from_bytes(req->key_bytes, req->key_len, &cp->cache_key_hi,
                              &cp->cache_key_lo);
  cp->object_kind = req->object_kind;
  cp->ttl_ms = req->ttl_ms;
  cp->codec_bitmap = req->codec_bitmap;
  cp->flags = req->flags;
  nnrp_control_body body;
  memset(&body, 0, sizeof(body));
  body.bytes = req->data;
  nnrp_out *out;
  rc = nnrp__outq_begin(&s->outq, &s->mem, 256, 1, &out);
  if (rc != 0)
    return rc;
  nnrp_fault f;
  rc = nnrp_build_control(out, &h, &m, &body, &f);
  if (rc != 0) {
    nnrp__outq_abort(&s->outq);
    s->last_err = rc;
    s->last_fault = f;
    return rc;
  }
  /* The object is referenced, not copied: NNRP_EV_SENT says when the
   * caller may reuse it. */
  rc = nnrp__commit_notify(s, req->user_data, 0);
  if (rc != 0)
    return rc;
  pending_put *q = pend_at(c, c->pend_n++);
  q->ns = cp->cache_namespace;
  q->hi = cp->cache_key_hi;
  q->lo = cp->cache_key_lo;
  q->kind = (uint16_t)cp->object_kind;
  q->len = (uint32_t)req->data.len;
  q->flags = cp->flags;
  q->user_data = req->user_data;
  return 0;
}

int nnrp_session_invalidate_cache(nnrp_session *s,
                                  const nnrp_cache_invalidate_req *req,
                                  uint64_t now) {
  s->now = now;
  if (req == NULL || req->scope > NNRP_CACHE_INVALIDATE_OBJECT_KEY ||
      (req->scope == NNRP_CACHE_INVALIDATE_OBJECT_KIND &&
       (req->object_kind < NNRP_OBJECT_CAMERA_BLOCK ||
        req->object_kind > NNRP_OBJECT_STRUCTURED_EVENT_SCHEMA)))
    return NNRP_ERR_INVALID_ARGUMENT;
  int rc = api_state(s, 0);
  if (rc != 0)
    return rc;
  nnrp_header h;
  nnrp_header_init(&h, NNRP_MSG_CACHE_INVALIDATE);
  h.session_id = s->session_id;
  nnrp_meta m;
  memset(&m, 0, sizeof(m));
  nnrp_cache_invalidate *ci = &m.cache_invalidate;
  ci->invalidate_scope = req->scope;
  ci->reason_code = req->reason_code;
  if (req->scope != NNRP_CACHE_INVALIDATE_WHOLE_SESSION)
    ci->cache_namespace = req->cache_namespace;
  if (req->scope == NNRP_CACHE_INVALIDATE_OBJECT_KIND) {
    ci->cache_key_hi = req->object_kind; /* wire.md §10.3 */
  } else if (req->scope == NNRP_CACHE_INVALIDATE_OBJECT_KEY) {
    ci->cache_key_hi = req->key_hi;
    ci->cache_key_lo = req->key_lo;
    if (req->key_bytes != NULL)
      nnrp_cache_key_from_bytes(req->key_bytes, req->key_len,
                                &ci->cache_key_hi, &ci->cache_key_lo);
  }
  rc = nnrp__send_control(s, &h, &m, NULL);
  if (rc != 0)
    return rc;
  nnrp_cache *c = s->is_server ? s->cache : client_cache(s);
  if (c != NULL)
    c->invalidated +=
        nnrp__cs_invalidate(&c->store, ci->invalidate_scope,
                            ci->cache_namespace, ci->cache_key_hi,
                            ci->cache_key_lo);
  return 0;
}

int nnrp_session_cache_has(const nnrp_session *s, uint32_t cache_namespace,
                           uint32_t key_hi, uint32_t key_lo) {
  const nnrp_cache *c = s->cache;
  if (c == NULL)
    return 0;
  const nnrp_centry *e = nnrp__cs_find(&c->store, cache_namespace, key_hi,
                                       key_lo);
  return e != NULL && (e->expiry == 0 || e->expiry > s->now);
}

int nnrp_session_cache_stats(const nnrp_session *s, nnrp_cache_stats *out) {
  memset(out, 0, sizeof(*out));
  const nnrp_cache *c = s->cache;
  if (c == NULL) {
    /* Client before its first cache operation: what was negotiated. */
    const nnrp_server_hello_ack *a = &s->ack;
    if (!s->is_server && s->session_id != 0 && s->cprof.enable_cache &&
        (a->server_flags & NNRP_SERVER_FLAG_CACHE_ENABLED) &&
        a->max_cache_entries != 0 && a->max_cache_bytes != 0) {
      out->enabled = 1;
      out->max_entries = a->max_cache_entries;
      out->max_bytes = a->max_cache_bytes;
    }
    return 0;
  }
  const nnrp_cstore *cs = &c->store;
  out->enabled = (uint8_t)nnrp__cs_enabled(cs);
  out->max_entries = cs->lim.max_entries;
  out->max_bytes = cs->lim.max_bytes;
  out->max_object_bytes = s->is_server ? nnrp__cs_max_object(cs) : 0;
  out->entries = cs->count;
  out->pinned_entries = cs->pinned_n;
  out->bytes = cs->bytes;
  out->pinned_bytes = cs->pinned_bytes;
  out->held_entries = cs->detached.n;
  out->held_bytes = cs->detached.bytes;
  out->pending_puts = c->pend_n;
  out->puts_accepted = c->puts_accepted;
  out->puts_rejected = c->puts_rejected;
  out->evicted = cs->evicted;
  out->expired = cs->expired;
  out->invalidated = c->invalidated;
  out->resolved_frames = c->resolved;
  out->misses = c->misses;
  return 0;
}

/* ---- timers ------------------------------------------------------------ */

uint64_t nnrp__cache_next_expiry(const nnrp_session *s) {
  return s->cache ? nnrp__cs_next_expiry(&s->cache->store) : UINT64_MAX;
}

int nnrp__cache_expiry(nnrp_session *s, uint64_t now) {
  if (s->cache != NULL)
    (void)nnrp__cs_expire(&s->cache->store, now); /* server announces */
  return 0;
}

/* ---- server: references (session.md §9.5) ------------------------------ */

/* Ends the frame after the ERROR: RESULT_DROP (D16). */
static int fail_frame(nnrp_session *s, const nnrp_packet *p, nnrp_frame *f,
                      int err, const char *detail) {
  s->last_err = err;
  (void)nnrp__send_error(s, err, 0, &p->hdr, detail);
  int rc = nnrp__server_drop_frame(s, f);
  return rc <= NNRP_ERR_FATAL_THRESHOLD ? rc : NNRP_ERR_CACHE_MISS;
}

/* Rule 3: a resolved object must decode for this frame. */
static int object_fits_frame(const nnrp_session *s, const nnrp_frame_submit *m,
                             const nnrp_centry *e, nnrp_fault *fault) {
  if (e->kind == NNRP_OBJECT_TILE_INDEX_BLOCK) {
    nnrp_tile_index ti = {m->tile_index_mode, m->tile_count, m->tile_base_id,
                          {e->data, e->len}};
    return nnrp_tile_index_check(&ti, fault);
  }
  if (e->kind == NNRP_OBJECT_TENSOR_SECTION_TABLE) {
    nnrp_tile_index dense = {NNRP_TILE_INDEX_DENSE_RANGE, m->tile_count, 0,
                             {NULL, 0}};
    nnrp_tensor_view tv;
    return nnrp_tensor_body_decode(&tv, &dense, 0, m->section_count, e->data,
                                   e->len, s->wopts.flags, fault);
  }
  return 0; /* camera, layout template: opaque */
}

static int hold_new(nnrp_session *s, nnrp_cache *c, uint32_t *idx) {
  if (c->free_hold != 0) {
    *idx = c->free_hold - 1;
    c->free_hold = c->holds[*idx].next_free;
    return 0;
  }
  if (c->holds_n == c->holds_cap) {
    uint64_t cap = c->holds_cap ? (uint64_t)c->holds_cap * 2 : 8;
    if (cap > UINT32_MAX || cap > SIZE_MAX / sizeof(cache_hold))
      return NNRP_ERR_NOMEM;
    cache_hold *h =
        nnrp__srealloc(&s->mem, c->holds, (size_t)cap * sizeof(cache_hold));
    if (h == NULL)
      return NNRP_ERR_NOMEM;
    c->holds = h;
    c->holds_cap = (uint32_t)cap;
  }
  *idx = c->holds_n++;
  return 0;
}

int nnrp__cache_resolve_submit(nnrp_session *s, const nnrp_packet *p,
                               nnrp_frame *f) {
  const nnrp_data_body *b = &p->b.data;
  if (b->ref_count == 0)
    return 0;
  nnrp_cache *c = s->cache;
  nnrp_centry *got[NNRP_MAX_RESOLVED_OBJECTS];
  nnrp_object_ref r;
  memset(&r, 0, sizeof(r));
  char diag[160];
  uint32_t n = b->ref_count;
  for (uint32_t i = 0; i < n; i++) {
    nnrp_centry *e = NULL;
    if (i < NNRP_MAX_RESOLVED_OBJECTS && nnrp_data_body_ref(b, i, &r) == 0 &&
        c != NULL)
      e = nnrp__cs_lookup(&c->store, r.cache_namespace, r.cache_key_hi,
                          r.cache_key_lo, r.object_kind, s->now);
    if (e == NULL) {
      if (c != NULL)
        c->misses++;
      describe(diag, sizeof(diag), "session.md §9.5 rule 2: no", &r);
      return fail_frame(s, p, f, NNRP_ERR_CACHE_MISS, diag);
    }
    got[i] = e;
  }
  for (uint32_t i = 0; i < n; i++) {
    nnrp_fault fault;
    if (object_fits_frame(s, &p->m.frame_submit, got[i], &fault) != 0) {
      (void)nnrp_data_body_ref(b, i, &r);
      describe(diag, sizeof(diag),
               "session.md §9.5 rule 3: cached object does not decode:", &r);
      s->last_fault = fault;
      return fail_frame(s, p, f, NNRP_ERR_MALFORMED_BODY, diag);
    }
  }
  uint32_t idx;
  int rc = hold_new(s, c, &idx);
  if (rc != 0)
    return rc;
  cache_hold *h = &c->holds[idx];
  h->n = n;
  h->next_free = 0;
  for (uint32_t i = 0; i < n; i++) {
    nnrp__cs_touch(&c->store, got[i]); /* a use, for LRU (§9.2) */
    nnrp__cs_hold(&c->store, got[i]);
    h->e[i] = got[i];
  }
  f->cache_hold = idx + 1;
  c->resolved++;
  return 0;
}

void nnrp__cache_submit_event(const nnrp_session *s, const nnrp_frame *f,
                              nnrp_event *ev) {
  const nnrp_cache *c = s->cache;
  if (c == NULL || f->cache_hold == 0)
    return;
  const cache_hold *h = &c->holds[f->cache_hold - 1];
  for (uint32_t i = 0; i < h->n; i++) {
    const nnrp_centry *e = h->e[i];
    nnrp_resolved_object *o = &ev->resolved[i];
    o->object_kind = e->kind;
    o->cache_namespace = e->ns;
    o->cache_key_hi = e->hi;
    o->cache_key_lo = e->lo;
    o->data.ptr = e->data;
    o->data.len = e->len;
  }
  ev->resolved_count = (uint8_t)h->n;
}

void nnrp__cache_release_frame(nnrp_session *s, nnrp_frame *f) {
  nnrp_cache *c = s->cache;
  if (c == NULL || f->cache_hold == 0)
    return;
  uint32_t idx = f->cache_hold - 1;
  cache_hold *h = &c->holds[idx];
  for (uint32_t i = 0; i < h->n; i++)
    nnrp__cs_release(&c->store, h->e[i]);
  h->n = 0;
  h->next_free = c->free_hold;
  c->free_hold = idx + 1;
  f->cache_hold = 0;
}

/* ---- client: references of submits, CACHE_MISS clean-up (§9.6) --------- */

static ref_rec *rec_at(nnrp_cache *c, uint32_t i) {
  return &c->recs[(c->rec_head + i) % c->rec_cap];
}

static int frame_live(nnrp_session *s, uint32_t id) {
  const nnrp_frame *f = nnrp__ft_get(&s->frames, id);
  return f != NULL && (f->flags & NNRP_FR_IN_FLIGHT);
}

/* Keeps the records of frames in flight and of the RECENT_REFS most recent
 * ones; the ring stays ordered. */
static void rec_compact(nnrp_session *s, nnrp_cache *c) {
  uint32_t keep = 0;
  for (uint32_t i = 0; i < c->rec_n; i++) {
    ref_rec *r = rec_at(c, i);
    int recent = i + RECENT_REFS >= c->rec_n;
    if (r->n != 0 && (recent || frame_live(s, r->frame_id)))
      *rec_at(c, keep++) = *r;
  }
  c->rec_n = keep;
}

/* Room for one more record: grow up to max_tracked_frames + RECENT_REFS,
 * then compact, then forget the oldest. */
static void rec_make_room(nnrp_session *s, nnrp_cache *c) {
  uint64_t limit = (uint64_t)s->frames.limit + RECENT_REFS;
  if (c->rec_n < c->rec_cap)
    return;
  if (c->rec_cap < limit) {
    uint64_t cap = c->rec_cap ? (uint64_t)c->rec_cap * 2 : 16;
    if (cap > limit)
      cap = limit;
    ref_rec *nr = nnrp__smalloc(&s->mem, (size_t)cap * sizeof(ref_rec));
    if (nr != NULL) {
      for (uint32_t i = 0; i < c->rec_n; i++)
        nr[i] = *rec_at(c, i);
      nnrp__sfree(&s->mem, c->recs);
      c->recs = nr;
      c->rec_cap = (uint32_t)cap;
      c->rec_head = 0;
      return;
    }
  }
  if (c->rec_cap == 0)
    return;
  rec_compact(s, c);
  if (c->rec_n == c->rec_cap) {
    c->rec_head = (c->rec_head + 1) % c->rec_cap; /* oldest forgotten */
    c->rec_n--;
  }
}

void nnrp__cache_note_submit(nnrp_session *s, uint32_t frame_id,
                             const nnrp_body_data *body) {
  if (body->ref_count == 0 || body->refs == NULL)
    return;
  nnrp_cache *c = client_cache(s);
  if (c == NULL)
    return;
  rec_make_room(s, c);
  if (c->rec_n == c->rec_cap)
    return; /* no memory: this frame's clean-up is skipped (best effort) */
  ref_rec *r = rec_at(c, c->rec_n++);
  r->frame_id = frame_id;
  r->n = body->ref_count < NNRP_MAX_RESOLVED_OBJECTS
             ? body->ref_count
             : NNRP_MAX_RESOLVED_OBJECTS;
  for (uint32_t i = 0; i < r->n; i++) {
    r->refs[i] = body->refs[i];
    /* The server will count this as a use (§9.2): keep the mirror's LRU
     * order close to the server's. */
    nnrp_centry *e = nnrp__cs_find(&c->store, r->refs[i].cache_namespace,
                                   r->refs[i].cache_key_hi,
                                   r->refs[i].cache_key_lo);
    if (e != NULL)
      nnrp__cs_touch(&c->store, e);
  }
}

/* Binary search: frame ids increase along the ring. */
static ref_rec *rec_find(nnrp_cache *c, uint32_t frame_id) {
  uint32_t lo = 0, hi = c->rec_n;
  while (lo < hi) {
    uint32_t mid = lo + (hi - lo) / 2;
    ref_rec *r = rec_at(c, mid);
    if (r->frame_id == frame_id)
      return r;
    if (r->frame_id < frame_id)
      lo = mid + 1;
    else
      hi = mid;
  }
  return NULL;
}

void nnrp__cache_on_peer_error(nnrp_session *s, const nnrp_error_record *e) {
  nnrp_cache *c = s->cache;
  if (s->is_server || c == NULL ||
      e->error_code != NNRP_ERROR_CODE_CACHE_MISS || e->related_frame_id == 0)
    return;
  c->misses++;
  ref_rec *r = c->rec_n ? rec_find(c, e->related_frame_id) : NULL;
  if (r == NULL)
    return;
  for (uint32_t i = 0; i < r->n; i++)
    c->invalidated += nnrp__cs_invalidate(
        &c->store, NNRP_CS_SCOPE_KEY, r->refs[i].cache_namespace,
        r->refs[i].cache_key_hi, r->refs[i].cache_key_lo);
  r->n = 0; /* done; compacted away later */
}

/* ---- server: the submit's objects for the application ------------------ */

static const nnrp_resolved_object *resolved_of(const nnrp_event *ev,
                                               uint16_t kind) {
  for (uint8_t i = 0; i < ev->resolved_count && i < NNRP_MAX_RESOLVED_OBJECTS;
       i++)
    if (ev->resolved[i].object_kind == kind)
      return &ev->resolved[i];
  return NULL;
}

static const nnrp_packet *submit_packet(const nnrp_event *ev) {
  if (ev == NULL || ev->type != NNRP_EV_SUBMIT || ev->packet == NULL ||
      ev->packet->hdr.msg_type != NNRP_MSG_FRAME_SUBMIT)
    return NULL;
  return ev->packet;
}

/* A legacy body's slots (slots_inline says which are present). */
static int legacy_object(const nnrp_data_body *b, uint16_t kind,
                         nnrp_bytes *out) {
  if (kind == NNRP_OBJECT_CAMERA_BLOCK && (b->slots_inline & NNRP_SLOT_CAMERA))
    *out = b->camera;
  else if (kind == NNRP_OBJECT_TILE_INDEX_BLOCK &&
           (b->slots_inline & NNRP_SLOT_TILE_INDEX))
    *out = b->tensor.tiles.block;
  else if (kind == NNRP_OBJECT_TENSOR_SECTION_TABLE &&
           (b->slots_inline & NNRP_SLOT_SECTION_TABLE))
    *out = b->tensor.sections;
  else
    return NNRP_ERR_NOT_FOUND;
  return 0;
}

int nnrp_session_submit_object(const nnrp_event *ev, uint16_t object_kind,
                               nnrp_bytes *out) {
  const nnrp_packet *p = submit_packet(ev);
  if (p == NULL || out == NULL)
    return NNRP_ERR_INVALID_ARGUMENT;
  const nnrp_resolved_object *r = resolved_of(ev, object_kind);
  if (r != NULL) {
    *out = r->data;
    return 0;
  }
  const nnrp_data_body *b = &p->b.data;
  if (!b->composed)
    return legacy_object(b, object_kind, out);
  nnrp_inline_iter it;
  nnrp_inline_object o;
  nnrp_inline_iter_init(&it, b);
  while (nnrp_inline_iter_next(&it, &o) == 1) {
    if (o.object_kind == object_kind) {
      *out = o.data;
      return 0;
    }
  }
  return NNRP_ERR_NOT_FOUND;
}

int nnrp_session_submit_tensor(const nnrp_event *ev, nnrp_tensor_view *out) {
  const nnrp_packet *p = submit_packet(ev);
  if (p == NULL || out == NULL)
    return NNRP_ERR_INVALID_ARGUMENT;
  const nnrp_frame_submit *m = &p->m.frame_submit;
  const nnrp_data_body *b = &p->b.data;
  if ((m->payload_kind_bitmap & NNRP_PAYLOAD_KIND_TENSOR) == 0)
    return NNRP_ERR_NOT_FOUND;
  if (!b->composed) {
    *out = b->tensor;
    return 0;
  }
  memset(out, 0, sizeof(*out));
  out->tiles.mode = m->tile_index_mode;
  out->tiles.count = m->tile_count;
  out->tiles.base_id = m->tile_base_id;
  const nnrp_resolved_object *r;
  if (b->slots_inline & NNRP_SLOT_TILE_INDEX)
    out->tiles.block = b->tensor.tiles.block;
  else if ((r = resolved_of(ev, NNRP_OBJECT_TILE_INDEX_BLOCK)) != NULL)
    out->tiles.block = r->data;
  if (b->slots_inline & NNRP_SLOT_SECTION_TABLE) {
    out->sections = b->tensor.sections;
    out->section_count = b->tensor.section_count;
  } else if ((r = resolved_of(ev, NNRP_OBJECT_TENSOR_SECTION_TABLE)) != NULL) {
    /* Validated at resolution; re-read leniently (the view only). */
    nnrp_tile_index dense = {NNRP_TILE_INDEX_DENSE_RANGE, m->tile_count, 0,
                             {NULL, 0}};
    nnrp_tensor_view tv;
    int rc = nnrp_tensor_body_decode(&tv, &dense, 0, m->section_count,
                                     r->data.ptr, r->data.len,
                                     NNRP_WIRE_LENIENT, NULL);
    if (rc != 0)
      return rc;
    out->sections = tv.sections;
    out->section_count = tv.section_count;
  }
  return 0;
}
