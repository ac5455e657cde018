/* SPDX-License-Identifier: Apache-2.0 */
/*
 * session_int.h - the session object and the interfaces between the session
 * modules (session.md). Each module owns one concern:
 *
 *   session.c     lifecycle, recv loop, dispatch through the legality table
 *   legality.c    role/state/msg legality matrix (session.md §4.2, §4.3)
 *   mem.c         allocator wrapper with the per-session ceiling
 *   outq.c        output queue: owned control bytes + referenced payloads
 *   evq.c         event queue (bounded ring)
 *   timers.c      min-heap of frame timers
 *   ftable.c      frame table: frame_id -> frame record (open addressing)
 *   hs_client.c   CLIENT_HELLO building, SERVER_HELLO_ACK processing
 *   hs_server.c   CLIENT_HELLO processing, negotiation, SERVER_HELLO_ACK
 *   frames_client.c  submit, results, cancel, discard, local deadlines
 *   frames_server.c  accept submits, id ordering, results, drops, budgets
 *   control.c     ERROR send/receive, CLOSE/drain, keep-alive, PING/PONG,
 *                 probes, other control messages
 *
 * Every function returns 0 or a negative NNRP_ERR_*; fatal ones (<= -500)
 * end the session.
 */
#ifndef NNRP_SESSION_INT_H
#define NNRP_SESSION_INT_H

#include <nnrp/nnrp_session.h>

/* ---- mem.c ------------------------------------------------------------- */

typedef struct nnrp_smem {
  nnrp_mem mem;
  uint64_t used;  /* bytes currently allocated through this wrapper */
  uint64_t limit; /* settings.max_memory_bytes (0 = none) */
} nnrp_smem;

void nnrp__smem_init(nnrp_smem *m, const nnrp_mem *mem, uint64_t limit);
/* NULL when over the limit or out of memory. Sizes are tracked with a small
 * header so free needs no size; `used` counts each block's size plus its
 * 16-byte header. srealloc(NULL, n) = smalloc; on failure the old block is
 * kept (and still counted). sfree(NULL) does nothing. */
void *nnrp__smalloc(nnrp_smem *m, size_t n);
void *nnrp__scalloc(nnrp_smem *m, size_t n);
void *nnrp__srealloc(nnrp_smem *m, void *p, size_t n);
void nnrp__sfree(nnrp_smem *m, void *p);

/* ---- outq.c ------------------------------------------------------------ */

/* One queued packet: segments to write in order. Control packets are one
 * owned segment; data packets are owned structural bytes + references to
 * caller payloads. Entries are recycled through a free list so the hot path
 * does not allocate once warmed up. */
typedef struct nnrp_outq_entry nnrp_outq_entry;

typedef struct nnrp_outq {
  nnrp_outq_entry *head, *tail, *free_list;
  size_t head_off;     /* bytes of head already written */
  uint64_t bytes;      /* queued, unwritten bytes */
  uint32_t free_count;
  nnrp_outq_entry *open; /* begun, not yet committed or aborted */
} nnrp_outq;

void nnrp__outq_init(nnrp_outq *q);
void nnrp__outq_free(nnrp_outq *q, nnrp_smem *m);
/* Starts a packet: returns an nnrp_out the caller builds into (scratch of at
 * least scratch_need bytes, iovec room for iov_need segments), then
 * nnrp__outq_commit() or nnrp__outq_abort(). notify != 0: raise
 * NNRP_EV_SENT with user_data once written. iov_need = the number of
 * referenced payloads (the array gets 2*iov_need+2 entries); iov_need 0 =
 * contiguous mode. NNRP_ERR_NOMEM; NNRP_ERR_INVALID_STATE when a packet is
 * already begun. The nnrp_out stays valid until commit/abort. */
int nnrp__outq_begin(nnrp_outq *q, nnrp_smem *m, size_t scratch_need,
                     size_t iov_need, nnrp_out **out);
void nnrp__outq_commit(nnrp_outq *q, int notify, void *user_data,
                       uint32_t frame_id);
void nnrp__outq_abort(nnrp_outq *q);
/* Convenience: queue an already-encoded contiguous packet (copied). */
int nnrp__outq_push_copy(nnrp_outq *q, nnrp_smem *m, const uint8_t *p,
                         size_t n);
size_t nnrp__outq_pending(const nnrp_outq *q, nnrp_iov *iov, size_t cap);
/* Consumes n bytes; for each fully written entry with notify set, calls
 * sent(ctx, user_data, frame_id). Returns 0 or NNRP_ERR_INVALID_ARGUMENT. */
int nnrp__outq_consume(nnrp_outq *q, nnrp_smem *m, size_t n,
                       void (*sent)(void *ctx, void *user_data,
                                    uint32_t frame_id),
                       void *ctx);

/* ---- evq.c ------------------------------------------------------------- */

typedef struct nnrp_evq {
  nnrp_event *ring;
  uint32_t cap, head, count, limit;
  uint32_t reserved; /* slots promised to terminal and SENT events */
} nnrp_evq;

void nnrp__evq_init(nnrp_evq *q, uint32_t limit);
void nnrp__evq_free(nnrp_evq *q, nnrp_smem *m);
/* Appends a copy of *ev; NNRP_ERR_NOMEM when over the limit or memory.
 * limit is a hard cap (0: nothing can be queued). */
int nnrp__evq_push(nnrp_evq *q, nnrp_smem *m, const nnrp_event *ev);
int nnrp__evq_pop(nnrp_evq *q, nnrp_event *ev); /* 1 or 0 */
/* Reservations: an event that must never be lost (a frame's terminal
 * event, SENT for a packet that references caller memory) reserves its slot
 * when the frame or packet is admitted; the push then cannot fail and is
 * not refused by the limit. reserve: 0 or NNRP_ERR_NOMEM. */
int nnrp__evq_reserve(nnrp_evq *q, nnrp_smem *m);
void nnrp__evq_unreserve(nnrp_evq *q);
int nnrp__evq_push_reserved(nnrp_evq *q, const nnrp_event *ev);

/* ---- timers.c ---------------------------------------------------------- */

typedef struct nnrp_timer {
  uint64_t at;
  uint32_t frame_id;
  uint32_t gen; /* matches the frame record's generation, else stale */
} nnrp_timer;

typedef struct nnrp_theap {
  nnrp_timer *v;
  uint32_t n, cap;
} nnrp_theap;

void nnrp__theap_init(nnrp_theap *h);
void nnrp__theap_free(nnrp_theap *h, nnrp_smem *m);
int nnrp__theap_push(nnrp_theap *h, nnrp_smem *m, nnrp_timer t);
/* Earliest timer or NULL. Stale timers are skipped lazily by callers. */
const nnrp_timer *nnrp__theap_top(const nnrp_theap *h);
void nnrp__theap_pop(nnrp_theap *h);

/* ---- ftable.c ---------------------------------------------------------- */

#define NNRP_FR_IN_FLIGHT 0x01u /* no terminal yet */
#define NNRP_FR_STREAM 0x02u    /* client: streaming frame (D14) */
#define NNRP_FR_SENDING 0x04u   /* output referencing payloads queued */

typedef struct nnrp_frame {
  uint32_t id; /* 0 = empty slot */
  uint32_t gen;
  uint16_t view_id;
  uint16_t route_id;
  uint8_t flags;        /* NNRP_FR_* */
  uint8_t budget_policy;/* server: the submit's BudgetPolicy */
  uint8_t loss_tolerance;
  uint8_t reserved;
  uint64_t trace_id;
  uint64_t deadline;    /* client local timer / server budget; 0 = none */
  void *user_data;
  uint32_t cache_hold;  /* server, cache.c: hold slot + 1 (0 = none) */
} nnrp_frame;

typedef struct nnrp_ftable {
  nnrp_frame *slots;
  uint32_t cap;   /* power of two */
  uint32_t count; /* live records */
  uint32_t limit; /* settings.max_tracked_frames */
  uint32_t gen;
  uint32_t seed;  /* hash seed (0 after init); set before the first add */
} nnrp_ftable;

void nnrp__ft_init(nnrp_ftable *t, uint32_t limit);
void nnrp__ft_free(nnrp_ftable *t, nnrp_smem *m);
/* Record pointers stay valid until the next add or del (both may move
 * records). */
nnrp_frame *nnrp__ft_get(nnrp_ftable *t, uint32_t id);
/* New record zeroed except id and gen (= ++gen, never 0).
 * NNRP_ERR_INVALID_ARGUMENT for id 0 or an id already present,
 * NNRP_ERR_LIMIT_EXCEEDED with `limit` records live (0: always),
 * NNRP_ERR_NOMEM. */
int nnrp__ft_add(nnrp_ftable *t, nnrp_smem *m, uint32_t id, nnrp_frame **out);
void nnrp__ft_del(nnrp_ftable *t, uint32_t id);
/* Calls fn for every live record once (restart-safe scan, no snapshot):
 * fn may delete the visited record or records not yet visited; it must not
 * add records nor delete already visited ones. */
void nnrp__ft_each(nnrp_ftable *t, void (*fn)(nnrp_frame *f, void *ctx),
                   void *ctx);

/* ---- the session ------------------------------------------------------- */

struct nnrp_flow;  /* flow.c: FLOW_UPDATE state, pause, client hint gate */
struct nnrp_cache; /* cache.c: per-session object store / client mirror */
struct nnrp_patch; /* patch.c: session patch state and rate limit */

struct nnrp_session {
  nnrp_smem mem;
  nnrp_session_settings st;
  nnrp_wire_opts wopts; /* receive options; negotiated caps after hello */
  uint8_t is_server;
  uint8_t state;        /* nnrp_session_state */
  uint8_t view_pending; /* an undelivered event points into the input */
  uint8_t first_packet; /* server: next packet is the first of the conn */
  uint8_t close_sent;
  uint8_t close_received;
  uint8_t fatal_error_sent;
  uint8_t loss_tolerance; /* session value (BEST_EFFORT unless 0x0103) */
  uint8_t closed_pending;  /* CLOSED is delivered after every queued event */
  nnrp_event closed_ev;
  uint32_t session_id;
  uint64_t rand_state;

  /* Input */
  nnrp_reader reader;
  uint8_t *rbuf; /* assembly buffer for packets spanning recv calls */
  size_t rbuf_cap;
  nnrp_packet pkt; /* the packet the pending view event points to */
  uint64_t now;    /* `now` of the current call */

  /* Output, events, frames, timers */
  nnrp_outq outq;
  nnrp_evq evq;
  nnrp_ftable frames;
  nnrp_theap timers;
  uint32_t in_flight;
  uint32_t next_frame_id;  /* client: next id to allocate */
  uint32_t highest_seen;   /* server: highest accepted frame id */
  uint32_t congestion;     /* server: ResultHintCongestionState (D21) */
  uint64_t seen_window[1024 / 64]; /* server, QUIC: ids highest-1023..highest */

  /* Time keeping */
  uint64_t last_rx;
  uint64_t last_ping;
  uint64_t handshake_deadline; /* 0 = none */
  uint64_t drain_deadline;     /* 0 = none */

  /* Handshake state */
  nnrp_client_profile cprof; /* client: copy (pointers to owned copies) */
  nnrp_server_profile sprof; /* server: copy */
  uint8_t *owned;            /* owned copies of auth/model name/extras */
  nnrp_client_hello hello;   /* sent (client) or received (server) */
  nnrp_server_hello_ack ack; /* received (client) or sent (server) */
  nnrp_bytes auth;           /* server: the session's auth block (owned) */
  uint32_t max_in_flight;    /* client: from ack.max_concurrent_frames */

  /* Modules of session.md §8-§10 (NULL until first used). */
  struct nnrp_flow *flow;
  struct nnrp_cache *cache;
  struct nnrp_patch *patch;

  /* Errors */
  int last_err;
  nnrp_fault last_fault;
};

/* session.c */
uint32_t nnrp__rand32(nnrp_session *s);
/* Queues a contiguous control packet built with nnrp_build_control(). */
int nnrp__send_control(nnrp_session *s, nnrp_header *h, nnrp_meta *meta,
                       const nnrp_control_body *body);
int nnrp__emit(nnrp_session *s, const nnrp_event *ev);
/* Emits an event into a slot reserved earlier (cannot fail). */
int nnrp__emit_reserved(nnrp_session *s, const nnrp_event *ev);
/* Commits the open output packet with notify set, reserving the slot of its
 * NNRP_EV_SENT first; on NNRP_ERR_NOMEM the packet is aborted. */
int nnrp__commit_notify(nnrp_session *s, void *user_data, uint32_t frame_id);
void nnrp__set_state(nnrp_session *s, nnrp_session_state st);

/* control.c: records a peer fault's rule for nnrp_session_last_error() and
 * returns err (dispatch() then sends the ERROR). */
int nnrp__fault(nnrp_session *s, int err, uint32_t off, const char *rule,
                const char *field);
/* control.c: a local failure (memory, builder) while handling a handshake
 * packet: best-effort ERROR INTERNAL_ERROR (CONNECTION, fatal), then the
 * session ends. Returns a fatal error for dispatch(). */
int nnrp__local_fatal(nnrp_session *s, int rc, const nnrp_header *about);

/* control.c: ERROR send (at most one per received packet, never in reply
 * to an ERROR), receive, close/drain, keep-alive, PING/PONG, probes. */
int nnrp__send_error(nnrp_session *s, int lib_err, unsigned phase,
                     const nnrp_header *about, const char *diagnostic);
int nnrp__on_error(nnrp_session *s, const nnrp_packet *p);
int nnrp__on_close(nnrp_session *s, const nnrp_packet *p);
int nnrp__on_ping(nnrp_session *s, const nnrp_packet *p);
int nnrp__on_probe(nnrp_session *s, const nnrp_packet *p);
int nnrp__on_control_event(nnrp_session *s, const nnrp_packet *p,
                           nnrp_event_type type);
/* SESSION_MIGRATE(_ACK) until migration lands: SESSION_MIGRATE ->
 * SESSION_MIGRATE_ACK accept_code 4 (migration disabled), then close;
 * an unsolicited SESSION_MIGRATE_ACK is ignored. */
int nnrp__on_unsupported(nnrp_session *s, const nnrp_packet *p);
/* Drain timeout reached (session.md §6.1): server drops every frame still in
 * flight, client fails them; CLOSE sent if not yet; state CLOSED. */
void nnrp__drain_expired(nnrp_session *s);
/* Called whenever in_flight decreases: in DRAINING with nothing in flight,
 * answer the peer's CLOSE and/or finish the close (session.md §6.1). */
void nnrp__maybe_finish_drain(nnrp_session *s);
/* Ends the session: fail in-flight frames with err (client), emit CLOSED. */
void nnrp__terminate(nnrp_session *s, int lib_err, const nnrp_error_record *e);
int nnrp__keepalive_expiry(nnrp_session *s, uint64_t now);
uint64_t nnrp__keepalive_next(const nnrp_session *s);

/* hs_client.c / hs_server.c */
int nnrp__client_hello_send(nnrp_session *s);
int nnrp__on_server_hello_ack(nnrp_session *s, const nnrp_packet *p);
int nnrp__on_client_hello(nnrp_session *s, const nnrp_packet *p);

/* frames_client.c */
int nnrp__on_result(nnrp_session *s, const nnrp_packet *p);
int nnrp__on_drop(nnrp_session *s, const nnrp_packet *p);
/* A frame ended with an error record (ERROR naming it, expiry, loss). */
int nnrp__client_frame_fail(nnrp_session *s, nnrp_frame *f,
                            const nnrp_error_record *e);
void nnrp__client_fail_all(nnrp_session *s, const nnrp_error_record *e);
int nnrp__client_frame_expiry(nnrp_session *s, uint64_t now);

/* frames_server.c */
/* Step 14 (frame id) before the body is decoded; consumes the id. */
int nnrp__server_check_frame_id(nnrp_session *s, const nnrp_header *h);
int nnrp__on_submit(nnrp_session *s, const nnrp_packet *p);
int nnrp__on_cancel(nnrp_session *s, const nnrp_packet *p);
void nnrp__server_drop_all(nnrp_session *s);
/* Connection gone: forget every frame without sending (nothing can be). */
void nnrp__server_forget_all(nnrp_session *s);
int nnrp__server_frame_expiry(nnrp_session *s, uint64_t now);
/* Library RESULT_DROP for an in-flight frame and its end (no hint); used by
 * cache.c for CACHE_MISS (D16). f is invalid afterwards. */
int nnrp__server_drop_frame(nnrp_session *s, nnrp_frame *f);

/* flow.c (session.md §8): FLOW_UPDATE and RESULT_HINT received. */
int nnrp__flow_on_update(nnrp_session *s, const nnrp_packet *p);
int nnrp__flow_on_hint(nnrp_session *s, const nnrp_packet *p);
/* Client: frames that may be in flight now by flow state (credits, pauses);
 * UINT32_MAX when flow control sets no limit, 0 when paused. */
uint32_t nnrp__flow_window(const nnrp_session *s);
uint64_t nnrp__flow_next_expiry(const nnrp_session *s);
int nnrp__flow_expiry(nnrp_session *s, uint64_t now);
/* Server, right after SERVER_HELLO_ACK is queued (state ACTIVE): sends the
 * credit policy's GRANT / the recorded overload PAUSE, if any. */
int nnrp__flow_on_active(nnrp_session *s);
void nnrp__flow_free(nnrp_session *s);

/* cache.c (session.md §9). */
/* Server: fills the cache fields of the ack from the hello and the profile
 * (cache_object_bitmap, quotas, server_flags). */
void nnrp__cache_negotiate(nnrp_session *s, const nnrp_client_hello *c,
                           nnrp_server_hello_ack *a);
int nnrp__cache_on_put(nnrp_session *s, const nnrp_packet *p);
int nnrp__cache_on_invalidate(nnrp_session *s, const nnrp_packet *p);
int nnrp__cache_on_ack(nnrp_session *s, const nnrp_packet *p);
/* Server: resolves the object references of an accepted FRAME_SUBMIT before
 * NNRP_EV_SUBMIT is emitted and makes the frame hold the entries. Returns 0
 * (resolved, or no references), or NNRP_ERR_CACHE_MISS after it sent ERROR
 * (CACHE_MISS for a missing object, MALFORMED_BODY for a cached object that
 * does not decode for the frame, session.md §9.5) and RESULT_DROP and
 * finished the frame (D16); a fatal error (NOMEM) otherwise. */
int nnrp__cache_resolve_submit(nnrp_session *s, const nnrp_packet *p,
                               nnrp_frame *f);
/* Server: fills ev->resolved[] from the frame's holds. */
void nnrp__cache_submit_event(const nnrp_session *s, const nnrp_frame *f,
                              nnrp_event *ev);
/* Server: the frame ends (terminal sent, or forgotten): drops its holds. */
void nnrp__cache_release_frame(nnrp_session *s, nnrp_frame *f);
/* Client: a FRAME_SUBMIT was queued; remembers its references so that an
 * ERROR CACHE_MISS naming the frame can clean the mirror (§9.6 rule 3). */
void nnrp__cache_note_submit(nnrp_session *s, uint32_t frame_id,
                             const nnrp_body_data *body);
/* Client: a received non-fatal ERROR (before it is routed to its frame). */
void nnrp__cache_on_peer_error(nnrp_session *s, const nnrp_error_record *e);
uint64_t nnrp__cache_next_expiry(const nnrp_session *s);
int nnrp__cache_expiry(nnrp_session *s, uint64_t now);
void nnrp__cache_free(nnrp_session *s);

/* patch.c (session.md §10). */
int nnrp__patch_on_request(nnrp_session *s, const nnrp_packet *p);
int nnrp__patch_on_ack(nnrp_session *s, const nnrp_packet *p);
void nnrp__patch_free(nnrp_session *s);

/* timers: earliest frame timer (stale entries popped lazily). */
uint64_t nnrp__frames_next_expiry(const nnrp_session *s);

#endif /* NNRP_SESSION_INT_H */
