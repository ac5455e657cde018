/* SPDX-License-Identifier: Apache-2.0 */
/*
 * nnrp_session.h - sans-I/O NNRP/1 client and server sessions
 * (shared/spec/session.md).
 *
 * A session is an opaque state machine: bytes in (nnrp_session_recv), bytes
 * out (nnrp_session_pending_output / nnrp_session_output_consumed), time in
 * (every call takes `now`, monotonic nanoseconds from the caller), events
 * pulled (nnrp_session_next_event). It performs no I/O, reads no clock,
 * starts no thread; randomness comes from a settings hook and memory from an
 * nnrp_mem allocator with a per-session ceiling.
 *
 * Ownership and lifetimes
 *  - Input: nnrp_session_recv() may return early, right after a packet that
 *    produced an event with views into the input (SUBMIT on a server, RESULT
 *    on a client). Those views stay valid until the next call into the
 *    session and as long as the caller keeps the input buffer; pull the
 *    events, then call nnrp_session_recv() again with the rest.
 *  - Output: submitted payloads (tiles, typed frames, objects) are never
 *    copied; the session keeps references to the caller's memory until an
 *    NNRP_EV_SENT event with the request's user_data says every byte of that
 *    packet was consumed by nnrp_session_output_consumed().
 *  - Events: pointers in an nnrp_event are borrowed until the next call into
 *    the session. Events that must not be lost (each frame's terminal event,
 *    NNRP_EV_SENT, NNRP_EV_CLOSED) have their queue slot reserved when the
 *    frame or packet is admitted: they are never dropped, even at the
 *    max_events limit or when memory runs out later.
 *
 * Thread safety: a session is not thread-safe; one thread at a time may call
 * into it. Different sessions are independent (no global state).
 */
#ifndef NNRP_SESSION_H
#define NNRP_SESSION_H

#include <stddef.h>
#include <stdint.h>

#include "nnrp_error.h"
#include "nnrp_version.h"
#include "nnrp_wire.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ======================================================================== */
/* Memory, settings, profiles                                               */
/* ======================================================================== */

/** Allocator. All three functions are required when a struct is given; NULL
 *  as the nnrp_mem pointer means libc malloc/realloc/free. */
typedef struct nnrp_mem {
  void *user;
  void *(*malloc_fn)(size_t size, void *user);
  void *(*realloc_fn)(void *ptr, size_t size, void *user);
  void (*free_fn)(void *ptr, void *user);
} nnrp_mem;

#define NNRP_SESSION_LENIENT 0x1u /**< wire.md §13 lenient validation */

/** Settings common to both roles. Fill with nnrp_session_settings_default();
 *  struct_size lets bindings check their mirror of this struct. Every
 *  peer-controlled quantity has a limit here; exceeding it is an error, not
 *  an allocation. Times are nanoseconds. */
typedef struct nnrp_session_settings {
  uint32_t struct_size;       /**< sizeof(nnrp_session_settings) */
  uint32_t flags;             /**< NNRP_SESSION_LENIENT */
  uint32_t transport_id;      /**< NNRP_TRANSPORT_TCP (default) or _QUIC */
  uint32_t ordered_delivery;  /**< 1 (TCP): frame ids strictly increasing;
                                   0 (QUIC per-frame streams): 1024-id window */
  uint32_t max_packet_bytes;  /**< default 64 MiB (cap) */
  uint32_t max_body_bytes;    /**< receive limit; default 32 MiB */
  uint16_t max_sections;      /**< default 16 */
  uint16_t max_lanes;         /**< server: max lanes granted; default 16 */
  uint32_t max_tracked_frames;/**< frames tracked at once (in flight, queued
                                   results); default 4096 */
  uint32_t max_events;        /**< undelivered events; default 4096 */
  uint64_t max_output_bytes;  /**< queued output above which recv stops
                                   consuming input; default 4 MiB */
  uint64_t max_memory_bytes;  /**< allocation ceiling; default 128 MiB */
  uint64_t handshake_timeout_ns;  /**< 10 s */
  uint64_t keepalive_interval_ns; /**< 10 s (0 = never PING) */
  uint64_t peer_dead_timeout_ns;  /**< 30 s (0 = never) */
  uint64_t drain_timeout_ns;      /**< 2 s */
  uint64_t client_grace_ns;       /**< 1 s */
  /** Random u32 source (session ids, requested ids). NULL: a deterministic
   *  xorshift seeded from rand_seed. */
  uint32_t (*rand32)(void *user);
  void *rand_user;
  uint64_t rand_seed;
} nnrp_session_settings;

/** Fills *s with the defaults above. */
NNRP_API void nnrp_session_settings_default(nnrp_session_settings *s);

/** Client profile (seed ClientProfile + ClientDialPolicy; session.md §3.2).
 *  Fill with nnrp_client_profile_default(). Pointers are borrowed only for
 *  the duration of nnrp_session_client_new() (the session copies them). */
typedef struct nnrp_client_profile {
  uint32_t struct_size;
  uint16_t max_views;              /**< 1 -> max_lane_count */
  uint8_t enable_cache;            /**< 1 */
  uint8_t transport_policy;        /**< nnrp_transport_policy; AUTO */
  uint32_t preferred_transport_id; /**< 0x0101 preferred id; 0 = none */
  uint8_t has_loss_tolerance;      /**< 0: no 0x0103 (session BEST_EFFORT) */
  uint8_t loss_tolerance;          /**< nnrp_loss_tolerance 0..3 */
  uint16_t cache_object_bitmap;    /**< 0x0007 */
  uint32_t max_cache_entries;      /**< 256 */
  uint32_t max_cache_bytes;        /**< 8 MiB */
  uint32_t profile_bitmap;         /**< 0x1 */
  uint32_t payload_kinds;          /**< NNRP_PAYLOAD_KIND_TENSOR */
  uint32_t codec_bitmap;           /**< 0x3 */
  uint32_t compression_bitmap;     /**< 0x3 */
  uint32_t dtype_bitmap;           /**< 0x1F */
  uint32_t layout_bitmap;          /**< 0x3 */
  uint16_t target_cadence_x100;    /**< 6000 */
  uint16_t latency_budget_ms;      /**< 50 */
  uint16_t quality_tier;           /**< 2 */
  uint16_t degrade_policy;         /**< 0 */
  uint32_t requested_session_id;   /**< 0: random non-zero */
  nnrp_bytes auth_block;           /**< opaque; copied */
  const nnrp_ext_entry *extra_ext; /**< appended TLV entries; copied */
  size_t extra_ext_count;
} nnrp_client_profile;

NNRP_API void nnrp_client_profile_default(nnrp_client_profile *p);

/** Application auth validator (session.md §3.5): runs synchronously in the
 *  handshake, must not do I/O. Return 1 to accept, 0 to reject. */
typedef int (*nnrp_auth_validator)(const uint8_t *auth, size_t len,
                                   void *user);

/** Returns 1 if a session id is taken in this server process (live or
 *  detached), so the server picks another (session.md §3.4). */
typedef int (*nnrp_session_id_in_use)(uint32_t id, void *user);

/** Server profile (seed ServerProfile; session.md §3.6, §13). Fill with
 *  nnrp_server_profile_default(). Pointers are borrowed only for the
 *  duration of nnrp_session_server_new(). */
typedef struct nnrp_server_profile {
  uint32_t struct_size;
  uint16_t max_concurrent_frames; /**< 1 (0 = no limit); advertised */
  uint8_t enable_cache;           /**< 1 */
  uint8_t enforce_concurrency_limit; /**< 0: soft limit (seed) */
  uint8_t auto_result_hints;      /**< 1 (D21) */
  uint8_t reserved[3];
  uint32_t max_body_bytes;        /**< 32 MiB, advertised */
  uint32_t max_cache_entries;     /**< 1024 */
  uint32_t max_cache_bytes;       /**< 32 MiB */
  uint32_t profile_bitmap;        /**< 0x3 */
  uint32_t payload_kinds;         /**< 0x7F */
  uint32_t codec_bitmap;          /**< 0xFFFFFFFF */
  uint32_t compression_bitmap;    /**< 0xFFFFFFFF */
  uint32_t dtype_bitmap;          /**< 0xFF */
  uint32_t layout_bitmap;         /**< 0x3 */
  uint16_t cache_object_bitmap;   /**< 0x1FF */
  uint16_t reserved2;
  uint32_t token_ttl_ms;          /**< 0 */
  nnrp_bytes model_name;          /**< 0x8001 ACTIVE_MODEL_NAME; copied */
  nnrp_auth_validator auth_validator; /**< NULL: accept every client */
  void *auth_user;
  nnrp_session_id_in_use id_in_use;   /**< NULL: every id is free */
  void *id_user;
  const nnrp_ext_entry *extra_ext;    /**< appended to the ack; copied */
  size_t extra_ext_count;
  /** Per-object cache ceiling (session.md §9.2 step 4); 0 (default) = the
   *  negotiated max_cache_bytes. Sent in every CACHE_ACK, capped at the
   *  negotiated max_cache_bytes. */
  uint32_t max_object_bytes;
} nnrp_server_profile;

NNRP_API void nnrp_server_profile_default(nnrp_server_profile *p);

/* ======================================================================== */
/* Lifecycle                                                                */
/* ======================================================================== */

typedef struct nnrp_session nnrp_session;

/** Session states (session.md §4.1). */
typedef enum nnrp_session_state {
  NNRP_STATE_INIT = 0,
  NNRP_STATE_NEGOTIATING = 1,
  NNRP_STATE_ACTIVE = 2,
  NNRP_STATE_DRAINING = 3,
  NNRP_STATE_CLOSED = 4
} nnrp_session_state;

/**
 * Creates a client session in INIT. Nothing is sent until
 * nnrp_session_connect().
 * @param settings, mem  may be NULL (defaults, libc)
 * @return 0; NNRP_ERR_INVALID_ARGUMENT (bad profile: no payload kind, policy
 *         out of range, ...); NNRP_ERR_NOMEM.
 */
NNRP_API int nnrp_session_client_new(nnrp_session **out,
                                     const nnrp_client_profile *profile,
                                     const nnrp_session_settings *settings,
                                     const nnrp_mem *mem);

/** Creates a server session in INIT, waiting for the first packet of a
 *  connection (session.md §3.3). Same returns. */
NNRP_API int nnrp_session_server_new(nnrp_session **out,
                                     const nnrp_server_profile *profile,
                                     const nnrp_session_settings *settings,
                                     const nnrp_mem *mem);

/** Frees the session and everything it owns. NULL is a no-op. Payloads
 *  still referenced by queued output are simply forgotten (the caller owns
 *  them). */
NNRP_API void nnrp_session_del(nnrp_session *s);

NNRP_API nnrp_session_state nnrp_session_get_state(const nnrp_session *s);
/** The negotiated session id (0 before the handshake). */
NNRP_API uint32_t nnrp_session_id(const nnrp_session *s);
/** 1 for a server session, 0 for a client session. */
NNRP_API int nnrp_session_is_server(const nnrp_session *s);

/* ======================================================================== */
/* Bytes in, bytes out, time                                                */
/* ======================================================================== */

/**
 * Feeds received bytes.
 * @return the number of bytes consumed (<= len); the caller calls again with
 *         the rest after pulling events (see "Ownership" above). 0 with
 *         len > 0 means the session cannot take input now (queued output
 *         over max_output_bytes, or undelivered events over max_events):
 *         flush output / pull events first. A negative value is a fatal
 *         error (NNRP_ERR_FATAL_PROTOCOL, NNRP_ERR_NOMEM, ...): the session
 *         is CLOSED; pending output (an ERROR) may still be flushed.
 */
NNRP_API int64_t nnrp_session_recv(nnrp_session *s, const uint8_t *in,
                                   size_t len, uint64_t now);

/** The transport reached end of stream. EOF inside a packet is a protocol
 *  failure (no ERROR is sent). In-flight frames fail (client) and the
 *  session becomes CLOSED. @return 0. */
NNRP_API int nnrp_session_recv_eof(nnrp_session *s, uint64_t now);

/**
 * Describes the queued output as at most iov_cap segments, in order, without
 * consuming it.
 * @return the number of segments written to iov (0: nothing to send).
 */
NNRP_API size_t nnrp_session_pending_output(const nnrp_session *s,
                                            nnrp_iov *iov, size_t iov_cap);

/** Bytes of queued output. */
NNRP_API uint64_t nnrp_session_output_bytes(const nnrp_session *s);

/** Marks n bytes of the queued output as written. Raises NNRP_EV_SENT for
 *  packets that referenced caller payloads and are now fully written.
 *  @return 0; NNRP_ERR_INVALID_ARGUMENT if n exceeds the queued bytes. */
NNRP_API int nnrp_session_output_consumed(nnrp_session *s, size_t n,
                                          uint64_t now);

/** 1 when the transport should be closed once the queued output is flushed
 *  (state CLOSED), else 0. */
NNRP_API int nnrp_session_want_close(const nnrp_session *s);

/** Earliest time at which nnrp_session_handle_expiry() must be called, or
 *  UINT64_MAX when no timer is armed. */
NNRP_API uint64_t nnrp_session_get_expiry(const nnrp_session *s);

/** Runs every timer due at `now` (handshake timeout, keep-alive, dead peer,
 *  drain, frame deadlines and budgets). @return 0 or a fatal error. */
NNRP_API int nnrp_session_handle_expiry(nnrp_session *s, uint64_t now);

/* ======================================================================== */
/* Events                                                                   */
/* ======================================================================== */

typedef enum nnrp_event_type {
  NNRP_EV_NONE = 0,
  /** Handshake complete; state ACTIVE. packet = the SERVER_HELLO_ACK
   *  (client) or the CLIENT_HELLO (server). */
  NNRP_EV_HANDSHAKE = 1,
  /** Server: an accepted FRAME_SUBMIT (packet, loss_tolerance). The frame
   *  is in flight until send_result(final) / send_result_drop. */
  NNRP_EV_SUBMIT = 2,
  /** Client: a RESULT_PUSH for a tracked frame (packet; final = 1 when it
   *  ends the frame). */
  NNRP_EV_RESULT = 3,
  /** Client: RESULT_DROP ended the frame (dropped = 1). */
  NNRP_EV_DROP = 4,
  /** Client: a frame ended without a result: error says why (peer ERROR
   *  naming it, local expiry FRAME_EXPIRED, cancel FRAME_CANCELLED,
   *  connection lost / closed). */
  NNRP_EV_FRAME_FAILED = 5,
  /** Server: FRAME_CANCEL for an in-flight frame; the library already sent
   *  RESULT_DROP (stop working on it). */
  NNRP_EV_CANCELLED = 6,
  /** An ERROR received that names no tracked frame (error). */
  NNRP_EV_PEER_ERROR = 7,
  NNRP_EV_RESULT_HINT = 8,  /**< client: packet = RESULT_HINT */
  NNRP_EV_FLOW_UPDATE = 9,  /**< packet = FLOW_UPDATE */
  NNRP_EV_CACHE_ACK = 10,   /**< client: packet = CACHE_ACK */
  NNRP_EV_PATCH_ACK = 11,   /**< client: packet = SESSION_PATCH_ACK,
                                 user_data = the request's */
  NNRP_EV_PONG = 12,        /**< packet = PONG (trace_id: PING's) */
  NNRP_EV_PROBE_ACK = 13,   /**< client: packet = TRANSPORT_PROBE_ACK */
  /** Every byte of a packet that referenced caller payloads was consumed;
   *  user_data is the request's. */
  NNRP_EV_SENT = 14,
  /** The session is CLOSED (error.lib_err: 0 for a clean close). Always
   *  delivered, after every other queued event (the terminal event of each
   *  frame comes first); only NNRP_EV_SENT may follow it, for output written
   *  after the close. */
  NNRP_EV_CLOSED = 15,
  /** The peer started a graceful close (CLOSE received; DRAINING). */
  NNRP_EV_CLOSING = 16,
  /** Server: a SESSION_PATCH was evaluated and answered (session.md §10.1;
   *  packet = the SESSION_PATCH). Emitted after the SESSION_PATCH_ACK is
   *  queued; nnrp_session_last_patch_ack() gives its outcome and
   *  nnrp_session_effective_profile() the values now in force. Patches
   *  refused by the rate limit change nothing and raise no event. */
  NNRP_EV_PATCH = 17
} nnrp_event_type;

/** An error attached to an event: a received ERROR (local = 0) or a locally
 *  detected failure (local = 1, lib_err set; code/scope from
 *  nnrp_error_map or the spec's local outcome, e.g. FRAME_EXPIRED). */
typedef struct nnrp_error_record {
  uint32_t error_code;
  uint32_t error_scope;
  uint32_t is_fatal;
  uint32_t retry_after_ms;
  uint32_t related_session_id;
  uint32_t related_frame_id;
  uint32_t related_view_id;
  int local;
  int lib_err;           /**< NNRP_ERR_* (0 for a received ERROR) */
  nnrp_bytes diagnostic; /**< borrowed */
} nnrp_error_record;

/** A cache object a server-side FRAME_SUBMIT referenced, as resolved
 *  (session.md §9.5; see "Object cache" for the lifetime of data). */
typedef struct nnrp_resolved_object {
  uint16_t object_kind;     /**< nnrp_object_kind */
  uint32_t cache_namespace;
  uint32_t cache_key_hi;
  uint32_t cache_key_lo;
  nnrp_bytes data;          /**< the object bytes, held by the cache */
} nnrp_resolved_object;

/** At most one reference per slot (wire.md §11.9): 4. */
#define NNRP_MAX_RESOLVED_OBJECTS 4

typedef struct nnrp_event {
  nnrp_event_type type;
  uint32_t frame_id;
  uint16_t view_id;
  uint8_t final;          /**< RESULT: ends the frame */
  uint8_t loss_tolerance; /**< SUBMIT: effective value (INHERIT resolved) */
  const nnrp_packet *packet; /**< borrowed, see event type */
  void *user_data;        /**< client frame events, SENT */
  uint64_t received_at;   /**< `now` of the recv call that produced it */
  nnrp_error_record error;
  /** SUBMIT (server): the referenced objects of a REFERENCE/MIXED submit,
   *  resolved from the session cache, in slot order. */
  nnrp_resolved_object resolved[NNRP_MAX_RESOLVED_OBJECTS];
  uint8_t resolved_count;
} nnrp_event;

/** Pulls the next event. @return 1 with *ev filled, 0 when none is queued,
 *  or a negative error. */
NNRP_API int nnrp_session_next_event(nnrp_session *s, nnrp_event *ev);

/* ======================================================================== */
/* Client operations                                                        */
/* ======================================================================== */

/** Queues CLIENT_HELLO (INIT -> NEGOTIATING) and arms the handshake timer.
 *  AUTO with no preferred transport sends no 0x0101 extension; AUTO with a
 *  preferred transport x sends PREFER_x.
 *  @return 0; NNRP_ERR_INVALID_STATE (not a client in INIT);
 *          NNRP_ERR_INVALID_ARGUMENT (FORCE_x with a preferred id naming the
 *          other transport, or a preferred id above 2); NNRP_ERR_NOMEM. */
NNRP_API int nnrp_session_connect(nnrp_session *s, uint64_t now);

/** One frame to submit (seed SubmitRequest). meta carries the caller fields
 *  of nnrp_build_frame_submit(); body the content (views into caller memory,
 *  kept until NNRP_EV_SENT). */
typedef struct nnrp_submit {
  uint32_t frame_id;   /**< 0: the session allocates the next id */
  uint16_t view_id;
  uint16_t route_id;
  uint32_t flags;      /**< header flags, copied verbatim */
  uint64_t trace_id;
  nnrp_frame_submit meta;
  nnrp_body_data body;
  uint8_t stream;      /**< 1: several RESULT_PUSH, ends on EOS (D14) */
  uint64_t deadline;   /**< absolute monotonic ns; 0 = none (§7.5) */
  void *user_data;     /**< returned in this frame's events */
} nnrp_submit;

/** 1 when a FRAME_SUBMIT may be sent now (ACTIVE, window not full, not
 *  paused: session.md §8.1), else 0. */
NNRP_API int nnrp_session_can_submit(const nnrp_session *s);

/**
 * Queues a FRAME_SUBMIT.
 * @param frame_id  receives the frame id used (may be NULL)
 * @return 0; NNRP_ERR_WOULD_BLOCK (in-flight window full or paused: wait for
 *         a terminal event); NNRP_ERR_INVALID_STATE (not ACTIVE, or
 *         DRAINING); NNRP_ERR_FRAME_ID (explicit id not above every id
 *         used); NNRP_ERR_TIMEOUT (deadline already passed: nothing sent);
 *         NNRP_ERR_INCONSISTENT (builder, see fault in the session's last
 *         error); NNRP_ERR_NOMEM.
 */
NNRP_API int nnrp_session_submit(nnrp_session *s, const nnrp_submit *req,
                                 uint32_t *frame_id, uint64_t now);

/** Cancels an in-flight frame: FRAME_CANCEL is sent and the frame ends at
 *  once with NNRP_EV_FRAME_FAILED (FRAME_CANCELLED). @return 0 or
 *  NNRP_ERR_NOT_FOUND. */
NNRP_API int nnrp_session_cancel(nnrp_session *s, uint32_t frame_id,
                                 uint64_t now);

/** Forgets a frame (session.md §7.9 rule 4): no further event for it; sends
 *  FRAME_CANCEL if it was in flight; frees its slot. @return 0 or
 *  NNRP_ERR_NOT_FOUND. */
NNRP_API int nnrp_session_discard(nnrp_session *s, uint32_t frame_id,
                                  uint64_t now);

/** Frames sent and not yet terminal (client) / accepted and not yet
 *  answered (server). */
NNRP_API uint32_t nnrp_session_in_flight(const nnrp_session *s);

/** Queues PING with trace_id as given (e.g. a send timestamp). */
NNRP_API int nnrp_session_ping(nnrp_session *s, uint64_t trace_id,
                               uint64_t now);

/** Starts a graceful close (session.md §6.1): CLOSE, DRAINING, then CLOSED
 *  when in-flight frames are done and the peer answered, or at the drain
 *  timeout. In INIT/NEGOTIATING it closes at once. @return 0. */
NNRP_API int nnrp_session_close(nnrp_session *s, uint64_t now);

/** The client view of the handshake result (valid in ACTIVE/DRAINING). */
NNRP_API const nnrp_server_hello_ack *
nnrp_session_server_hello(const nnrp_session *s);

/* ======================================================================== */
/* Server operations                                                        */
/* ======================================================================== */

/** A result to send (seed send_result). meta: caller fields of
 *  nnrp_build_result_push(); body: content (views kept until NNRP_EV_SENT).
 *  final = 1 sets EOS and ends the frame. view_id/route_id/trace_id 0: taken
 *  from the submit. */
typedef struct nnrp_result {
  nnrp_result_push meta;
  nnrp_body_data body;
  uint32_t flags; /**< extra header flags (EOS is managed by `final`) */
  uint8_t final;
  void *user_data;
} nnrp_result;

/**
 * Queues a RESULT_PUSH for an in-flight frame. Applies session.md §7.7:
 * result_flags / applied_budget_policy derived from result_class when left
 * 0; a class whose budget bit is not in the submit's policy is refused.
 * @return the packet size queued (> 0); 0 if the frame is already finished
 *         (no-op, §7.2); NNRP_ERR_NOT_FOUND (never seen);
 *         NNRP_ERR_INCONSISTENT (class vs budget policy, builder rules);
 *         NNRP_ERR_NOMEM.
 */
NNRP_API int64_t nnrp_session_send_result(nnrp_session *s, uint32_t frame_id,
                                          const nnrp_result *r, uint64_t now);

/** Queues RESULT_DROP and ends the frame. @return bytes queued (40), 0 if
 *  already finished, NNRP_ERR_NOT_FOUND. */
NNRP_API int64_t nnrp_session_send_result_drop(nnrp_session *s,
                                               uint32_t frame_id,
                                               uint32_t flags, uint64_t now);

/** Queues RESULT_HINT (frame_id 0: session-wide). @return bytes queued. */
NNRP_API int64_t nnrp_session_send_result_hint(nnrp_session *s,
                                               uint32_t frame_id,
                                               const nnrp_result_hint *h,
                                               uint64_t now);

/** The server view of the handshake: the client's hello metadata and auth
 *  block (valid in ACTIVE/DRAINING). */
NNRP_API const nnrp_client_hello *
nnrp_session_client_hello(const nnrp_session *s);

/* ======================================================================== */
/* Flow control and backpressure (session.md §8) - flow.c                   */
/* ======================================================================== */

/* (flow control API: section owned by flow.c) */

/*
 * Client window (session.md §8.1, D20). A FRAME_SUBMIT may be sent while
 *   in_flight < min(max_concurrent_frames of the ack (if != 0),
 *                   SESSION credit (if a CREDIT_VALID update was applied),
 *                   CONNECTION credit (likewise))
 * and no CONNECTION or SESSION scope is paused, the application has not
 * paused submits, and (with auto-pause on) no SATURATED hint is pending.
 * nnrp_session_submit() never waits: beyond the window it fails fast with
 * NNRP_ERR_WOULD_BLOCK and sends nothing. Waiting is the caller's job: the
 * runtime's blocking submit (nnrp_client_session_submit*) waits for a slot;
 * a sans-I/O caller retries after a terminal event, a FLOW_UPDATE or
 * RESULT_HINT event, or nnrp_session_handle_expiry() at
 * nnrp_session_get_expiry() (a timed pause ends there). Credit 0 is a
 * normal wait, not an error. Frames already in flight are never cancelled
 * by a smaller credit or a pause.
 */

/** OPERATION-scope updates kept (the most recently updated operations). */
#define NNRP_FLOW_MAX_OPERATIONS 64

/** Flow-control state of one scope as received from the peer (session.md
 *  §8.2). Epochs: the first update of a scope is applied whatever its
 *  epoch; later, an older epoch is ignored entirely, an equal or greater one
 *  is applied (plain unsigned compare). A received update was applied iff
 *  its credit_epoch equals `epoch` after the NNRP_EV_FLOW_UPDATE event. */
typedef struct nnrp_flow_state {
  uint8_t known;        /**< 1 once an update for the scope was applied */
  uint8_t credit_valid; /**< 1 once an update with CREDIT_VALID applied */
  uint8_t paused;       /**< paused at the session's current time */
  uint8_t level;        /**< nnrp_backpressure of the last update (SOFT:
                             advisory slow-down) */
  uint8_t last_reason;  /**< nnrp_flow_reason of the last update */
  uint8_t reserved[3];
  uint16_t credit;       /**< absolute credit (meaningful if credit_valid) */
  uint32_t epoch;        /**< credit_epoch of the last applied update */
  uint32_t flow_flags;   /**< NNRP_FLOW_* of the last applied update */
  uint64_t pause_until;  /**< paused with RETRY_AFTER_VALID: the monotonic ns
                              at which it resumes by itself; 0 = until
                              RESUME/GRANT (or not paused) */
  uint64_t operation_id; /**< OPERATION scope: the operation (frame id) */
  uint64_t updated_at;   /**< `now` when the last update was applied */
} nnrp_flow_state;

/** The received state of the CONNECTION or SESSION scope (all zero before
 *  the first update). On a server this is what the client sent: it is
 *  recorded and surfaced only (§8.4).
 *  @return 0; NNRP_ERR_INVALID_ARGUMENT (scope not CONNECTION/SESSION). */
NNRP_API int nnrp_session_flow_state(const nnrp_session *s, uint8_t scope,
                                     nnrp_flow_state *out);

/** The received state of one OPERATION (operation_id = the frame id). Only
 *  the last NNRP_FLOW_MAX_OPERATIONS operations updated are kept; OPERATION
 *  updates never gate submits on this revision (§8.3).
 *  @return 0; NNRP_ERR_NOT_FOUND; NNRP_ERR_INVALID_ARGUMENT (id 0). */
NNRP_API int nnrp_session_flow_operation_state(const nnrp_session *s,
                                               uint64_t operation_id,
                                               nnrp_flow_state *out);

/** Client, seed pause_submit / resume_submit: a local gate; while paused
 *  nnrp_session_can_submit() is 0 and nnrp_session_submit() returns
 *  NNRP_ERR_WOULD_BLOCK. Frames in flight continue.
 *  @return 0; NNRP_ERR_INVALID_ARGUMENT (server); NNRP_ERR_NOMEM. */
NNRP_API int nnrp_session_pause_submit(nnrp_session *s);
NNRP_API int nnrp_session_resume_submit(nnrp_session *s);

/** Client: automatic response to RESULT_HINT (seed "responding to
 *  backpressure", §8.6). When on, a hint with congestion SATURATED pauses
 *  submits until a hint with a lower state arrives or, if the hint carries
 *  retry_after_ms != 0, until that time has passed. Off (the default): hints
 *  are only surfaced (NNRP_EV_RESULT_HINT); switching off lifts a pending
 *  hint pause. @return 0; NNRP_ERR_INVALID_ARGUMENT (server);
 *  NNRP_ERR_NOMEM. */
NNRP_API int nnrp_session_set_auto_pause(nnrp_session *s, int on);

/** Why nnrp_session_can_submit() is 0: a mask of the bits below (0 = a
 *  submit may go now). STATE: a server session, or not ACTIVE;
 *  CONCURRENCY: max_concurrent_frames (or max_tracked_frames) reached;
 *  CREDIT: in_flight >= the SESSION or CONNECTION credit; PEER_PAUSE: the
 *  CONNECTION or SESSION scope is paused; APP_PAUSE: pause_submit;
 *  HINT_PAUSE: auto-pause after a SATURATED hint. */
#define NNRP_SUBMIT_BLOCKED_STATE 0x01u
#define NNRP_SUBMIT_BLOCKED_CONCURRENCY 0x02u
#define NNRP_SUBMIT_BLOCKED_CREDIT 0x04u
#define NNRP_SUBMIT_BLOCKED_PEER_PAUSE 0x08u
#define NNRP_SUBMIT_BLOCKED_APP_PAUSE 0x10u
#define NNRP_SUBMIT_BLOCKED_HINT_PAUSE 0x20u
NNRP_API uint32_t nnrp_session_submit_blocked(const nnrp_session *s);

/** Arguments of send_flow_update (api-seed.md §8). Fill with
 *  nnrp_flow_update_req_default() (GRANT, SESSION scope, level NONE,
 *  nothing given, auto epoch). */
typedef struct nnrp_flow_update_req {
  uint8_t update_reason;         /**< nnrp_flow_reason */
  uint8_t scope_kind;            /**< nnrp_flow_scope; default SESSION */
  uint8_t backpressure_level;    /**< nnrp_backpressure 0..2 */
  uint8_t has_connection_credit; /**< "given": only with CONNECTION scope */
  uint8_t has_session_credit;    /**< only with SESSION scope */
  uint8_t has_operation_credit;  /**< only with OPERATION scope */
  uint8_t has_retry_after;       /**< sets RETRY_AFTER_VALID */
  uint8_t reserved;
  uint16_t connection_credit;
  uint16_t session_credit;
  uint16_t operation_credit;
  uint16_t reserved2;
  uint32_t retry_after_ms; /**< sent only when has_retry_after */
  uint32_t credit_epoch;   /**< 0: auto = previous epoch sent in this
                                scope + 1 (the first auto epoch is 1) */
  uint32_t extra_flags;    /**< NNRP_FLOW_BACKGROUND_ONLY and/or
                                NNRP_FLOW_DRAIN_IN_FLIGHT_ONLY */
  uint64_t operation_id;   /**< OPERATION scope: != 0; else 0 */
} nnrp_flow_update_req;

NNRP_API void nnrp_flow_update_req_default(nnrp_flow_update_req *r);

/**
 * Queues a FLOW_UPDATE (either role; a client's is only recorded by the
 * server, §8.4). CREDIT_VALID is set iff a credit is given;
 * RETRY_AFTER_VALID iff has_retry_after; credits and retry_after not given
 * are sent as 0. Header session_id: the session, 0 for CONNECTION scope.
 * @return bytes queued (72); NNRP_ERR_INVALID_ARGUMENT (enum out of range,
 *         a credit given for another scope, operation_id vs scope, other
 *         extra_flags); NNRP_ERR_INVALID_STATE (not ACTIVE/DRAINING);
 *         NNRP_ERR_CLOSED; NNRP_ERR_NOMEM.
 */
NNRP_API int64_t nnrp_session_send_flow_update(nnrp_session *s,
                                               const nnrp_flow_update_req *req,
                                               uint64_t now);

/**
 * Server credit policy (docs/flow-control.md): the session grants the
 * client a SESSION-scope credit of `window` frames (absolute, D20), so the
 * client keeps at most `window` frames in flight. Set before the handshake
 * completes, the GRANT is sent right after SERVER_HELLO_ACK; set while
 * ACTIVE, a GRANT (larger window) or REDUCE (smaller) is sent at once with
 * a new epoch. window 0 switches the policy off (nothing is sent; the last
 * credit stays with the client).
 * @return bytes queued (0 if nothing was sent now); NNRP_ERR_INVALID_ARGUMENT
 *         (client); NNRP_ERR_CLOSED; NNRP_ERR_NOMEM.
 */
NNRP_API int64_t nnrp_session_set_credit_policy(nnrp_session *s,
                                                uint16_t window, uint64_t now);

/**
 * Server: the application's queue is full (on = 1) or has room again
 * (on = 0). On: SESSION PAUSE, level HARD, RETRY_AFTER_VALID with
 * retry_after_ms when it is != 0 (the client then resumes by itself after
 * that time: call again to extend the pause), plus the policy's credit.
 * Off (only after on): SESSION RESUME, level NONE, plus the policy's credit.
 * Before the handshake completes the state is recorded and announced right
 * after SERVER_HELLO_ACK.
 * @return bytes queued (0 if nothing was sent now); as
 *         nnrp_session_set_credit_policy().
 */
NNRP_API int64_t nnrp_session_set_overloaded(nnrp_session *s, int on,
                                             uint32_t retry_after_ms,
                                             uint64_t now);

/* ======================================================================== */
/* Object cache (session.md §9) - cache.c                                   */
/* ======================================================================== */

/* (cache API: section owned by cache.c) */

/*
 * The cache belongs to one session and lives in the server (session.md §9,
 * D16). It is enabled iff SERVER_HELLO_ACK has server_flags CACHE_ENABLED
 * (the server sets it when both sides enable the cache, the kind
 * intersection is non-empty and both negotiated quotas are non-zero; the
 * ack's cache fields are all 0 otherwise).
 *
 * Server: CACHE_PUT is answered by the library with CACHE_ACK (ACCEPTED,
 * REPLACED, or REJECTED with detail_code 1 quota, 2 too large, 3 kind not
 * negotiated, 4 cache disabled; wire.md §11.11). Entries are evicted LRU
 * (pinned entries never, but they count against both quotas); LRU
 * evictions and TTL expiries are announced to the client with
 * CACHE_INVALIDATE (OBJECT_KEY, reason 1 / 2). References of a REFERENCE or
 * MIXED FRAME_SUBMIT are resolved before NNRP_EV_SUBMIT; a missing object
 * gives ERROR CACHE_MISS (FRAME) + RESULT_DROP, a cached object that does
 * not decode for the frame gives ERROR MALFORMED_BODY (SESSION, related
 * frame) + RESULT_DROP (§9.5 rules 2-3); the application never sees such a
 * frame. Otherwise ev.resolved[] lists the objects in slot order.
 *
 * Lifetime of ev.resolved[i].data: the frame holds its entries from the
 * SUBMIT event until the frame's terminal event (final send_result,
 * send_result_drop, cancel, budget expiry, drain, session end). During
 * that time the bytes stay valid even if the entry is invalidated, expires
 * or is replaced (§9.4 rule 1: frames keep what they resolved); held
 * entries count against the quotas. After the terminal call they may be
 * freed at once: copy them first if a result must carry them (a result's
 * payloads are referenced until NNRP_EV_SENT).
 *
 * Client: a mirror of what the server holds (keys, kinds, sizes, pinned,
 * expiry; not the bytes) bounded by the negotiated quotas: an ACCEPTED or
 * REPLACED CACHE_ACK adds (evicting like the server when full), REJECTED
 * does not; CACHE_INVALIDATE (sent or received) removes; the client clock
 * expires entries with accepted_ttl_ms; an ERROR CACHE_MISS naming a frame
 * removes every key that frame referenced (§9.6, also when the frame had
 * already ended). Reference an object only while nnrp_session_cache_has()
 * says so. RESULT_PUSH references are delivered unresolved (the mirror
 * keeps no bytes; §9.6 rule 4).
 */

/** Arguments of nnrp_session_put_cache() (seed put_cache). */
typedef struct nnrp_cache_put_req {
  uint32_t object_kind;     /**< nnrp_object_kind 1..9 */
  uint32_t cache_namespace; /**< any u32 (seed default 0) */
  /** Byte key (D16: 64-bit FNV-1a, nnrp_cache_key_from_bytes); key_len 0
   *  is the empty key. NULL: the numeric key_hi/key_lo are used as given. */
  const uint8_t *key_bytes;
  size_t key_len;
  uint32_t key_hi;
  uint32_t key_lo;
  nnrp_bytes data;          /**< the object; referenced (not copied) by the
                                 output queue until NNRP_EV_SENT */
  uint32_t flags;           /**< NNRP_CACHE_PUT_PINNED / _REUSABLE */
  uint32_t ttl_ms;          /**< 0 = no expiry */
  uint32_t codec_bitmap;    /**< informational */
  uint16_t route_id;
  uint64_t trace_id;
  void *user_data;          /**< returned in NNRP_EV_SENT and
                                 NNRP_EV_CACHE_ACK */
} nnrp_cache_put_req;

/** Puts that may await their CACHE_ACK at once. */
#define NNRP_CACHE_MAX_PENDING_PUTS 64

/**
 * Client: queues CACHE_PUT (session.md §9.2). The CACHE_ACK is surfaced as
 * NNRP_EV_CACHE_ACK (packet = the ACK, user_data = the request's) and
 * updates the mirror; an ACK matching no pending put is ignored (§9.4 rule
 * 4). Sent whatever was negotiated: a disabled cache gets REJECTED
 * detail 4 from the server. The wire key of a byte key is
 * nnrp_cache_key_from_bytes(key_bytes, key_len) (what the references and
 * nnrp_session_cache_has() use).
 * @return 0; NNRP_ERR_INVALID_ARGUMENT (server session, kind outside 1..9,
 *         unknown flags, data larger than the negotiated max_body_bytes or
 *         data.ptr NULL with len > 0); NNRP_ERR_INVALID_STATE (not ACTIVE);
 *         NNRP_ERR_CLOSED; NNRP_ERR_WOULD_BLOCK (NNRP_CACHE_MAX_PENDING_PUTS
 *         puts await their ACK); NNRP_ERR_NOMEM.
 */
NNRP_API int nnrp_session_put_cache(nnrp_session *s,
                                    const nnrp_cache_put_req *req,
                                    uint64_t now);

/** Arguments of nnrp_session_invalidate_cache() (seed invalidate_cache). */
typedef struct nnrp_cache_invalidate_req {
  uint32_t scope;           /**< nnrp_cache_invalidate_scope */
  uint32_t cache_namespace; /**< NAMESPACE, OBJECT_KIND, OBJECT_KEY */
  const uint8_t *key_bytes; /**< OBJECT_KEY: byte key, or NULL: key_hi/lo */
  size_t key_len;
  uint32_t key_hi;
  uint32_t key_lo;
  uint32_t object_kind;     /**< OBJECT_KIND: 1..9 (sent in cache_key_hi) */
  uint32_t reason_code;     /**< 3 = application request (seed default) */
} nnrp_cache_invalidate_req;

/**
 * Queues CACHE_INVALIDATE (not acknowledged, D16) and applies it locally at
 * once: to the client's mirror, or (server, session.md §9.4 rule 3) to the
 * server's store, the client being told. Frames already accepted keep the
 * objects they resolved. Scope rules of §9.4 rule 2.
 * @return 0; NNRP_ERR_INVALID_ARGUMENT (scope > 3, OBJECT_KIND kind outside
 *         1..9); NNRP_ERR_INVALID_STATE (not ACTIVE/DRAINING);
 *         NNRP_ERR_CLOSED; NNRP_ERR_NOMEM.
 */
NNRP_API int nnrp_session_invalidate_cache(
    nnrp_session *s, const nnrp_cache_invalidate_req *req, uint64_t now);

/** 1 if the cache holds (server) / the mirror lists (client) the key and it
 *  has not expired at the session's last `now`, else 0. A client should
 *  reference an object only while this is 1 (session.md §9.6 rule 2). */
NNRP_API int nnrp_session_cache_has(const nnrp_session *s,
                                    uint32_t cache_namespace, uint32_t key_hi,
                                    uint32_t key_lo);

/** Cache counters (server: the store; client: the mirror). */
typedef struct nnrp_cache_stats {
  uint8_t enabled;          /**< negotiated on */
  uint8_t reserved[3];
  uint32_t max_entries;     /**< negotiated quotas (0 when disabled) */
  uint32_t max_bytes;
  uint32_t max_object_bytes;/**< server: the ceiling sent in CACHE_ACK */
  uint32_t entries;         /**< indexed entries, pinned included */
  uint32_t pinned_entries;
  uint64_t bytes;           /**< their object bytes */
  uint64_t pinned_bytes;
  uint32_t held_entries;    /**< server: removed but still held by frames */
  uint32_t pending_puts;    /**< client: puts awaiting their ACK */
  uint64_t held_bytes;
  uint64_t puts_accepted;   /**< ACCEPTED + REPLACED (server sent / client
                                 received) */
  uint64_t puts_rejected;
  uint64_t evicted;         /**< LRU evictions */
  uint64_t expired;         /**< TTL expiries */
  uint64_t invalidated;     /**< entries removed by CACHE_INVALIDATE or a
                                 CACHE_MISS clean-up */
  uint64_t resolved_frames; /**< server: submits whose references resolved */
  uint64_t misses;          /**< server: CACHE_MISS sent; client: received */
} nnrp_cache_stats;

/** Fills *out. @return 0. */
NNRP_API int nnrp_session_cache_stats(const nnrp_session *s,
                                      nnrp_cache_stats *out);

/**
 * Server: one slot object of an NNRP_EV_SUBMIT, inline or resolved
 * (session.md §9.5 rule 4): CAMERA_BLOCK, TILE_INDEX_BLOCK,
 * TENSOR_SECTION_TABLE, PAYLOAD_LAYOUT_TEMPLATE, or any other inline kind.
 * For a legacy body, CAMERA_BLOCK is the camera block, TILE_INDEX_BLOCK the
 * tile-index block and TENSOR_SECTION_TABLE the bytes from the first
 * section on.
 * @return 0 with *out set (views valid as the event's); NNRP_ERR_NOT_FOUND;
 *         NNRP_ERR_INVALID_ARGUMENT (not a SUBMIT event).
 */
NNRP_API int nnrp_session_submit_object(const nnrp_event *ev,
                                        uint16_t object_kind,
                                        nnrp_bytes *out);

/**
 * Server: the tensor view of an NNRP_EV_SUBMIT, combining inline and
 * resolved slots: the tile index from the inline block or the resolved
 * TILE_INDEX_BLOCK (mode, count and base from the metadata), the sections
 * from the inline or the resolved TENSOR_SECTION_TABLE. Iterate it with
 * nnrp_tile_iter / nnrp_section_iter. Both were validated for the frame
 * before the event was raised.
 * @return 0; NNRP_ERR_NOT_FOUND (no TENSOR payload kind);
 *         NNRP_ERR_INVALID_ARGUMENT (not a SUBMIT event);
 *         NNRP_ERR_MALFORMED_BODY (cannot happen for a library event).
 */
NNRP_API int nnrp_session_submit_tensor(const nnrp_event *ev,
                                        nnrp_tensor_view *out);

/* ======================================================================== */
/* Session patch (session.md §10) - patch.c                                 */
/* ======================================================================== */

/* (patch API: section owned by patch.c) */

/** Server patch rate limit defaults (session.md §10.1 step 2, §13): at most
 *  10 SESSION_PATCH per sliding 1000 ms window. */
#define NNRP_PATCH_RATE_LIMIT_DEFAULT 10u
#define NNRP_PATCH_RATE_WINDOW_MS_DEFAULT 1000u
/** Largest configurable count (the server keeps one 8-byte timestamp per
 *  counted patch). */
#define NNRP_PATCH_RATE_LIMIT_MAX 65535u
/** Client: SESSION_PATCHes sent and not yet acknowledged, at most. */
#define NNRP_PATCH_MAX_OUTSTANDING 16u

/** The patchable state in force (session.md §10.2 "Initial values", §10.1
 *  step 7). Before any patch: the handshake's accepted cadence, latency,
 *  quality and degrade policy, lane mask = bits 0 .. max_lane_count-1,
 *  codec/compression = the accepted bitmaps, profile = the lowest accepted
 *  profile id, no clamp. */
typedef struct nnrp_effective_profile {
  uint32_t target_cadence_x100;
  uint16_t latency_budget_ms; /**< from the handshake (not patchable) */
  uint16_t quality_tier;
  uint16_t degrade_policy;
  uint16_t profile_id;        /**< active profile */
  uint32_t codec_bitmap;
  uint64_t active_lane_mask;  /**< bit n = lane n */
  uint32_t compression_bitmap;
  uint8_t clamp_present;      /**< 1 once a PROFILE_PATCH was applied */
  uint8_t reserved[3];
  nnrp_profile_patch clamp;   /**< resolution clamp (all 0 when absent) */
} nnrp_effective_profile;

/**
 * The patchable state in force, on either side: the server's own, or the
 * client's view built from the ACKs (applied fields take the ACK's
 * effective values; the profile id is always taken from the ACK).
 * @return 0; NNRP_ERR_INVALID_STATE before the handshake completed;
 *         NNRP_ERR_INVALID_ARGUMENT (NULL).
 */
NNRP_API int nnrp_session_effective_profile(const nnrp_session *s,
                                            nnrp_effective_profile *out);

/** The last SESSION_PATCH_ACK sent (server) or received and matched
 *  (client), as on the wire (profile_patch_ack_bytes = 16 when the block
 *  was present). @return 0; NNRP_ERR_NOT_FOUND (none yet);
 *  NNRP_ERR_INVALID_ARGUMENT (NULL). */
NNRP_API int nnrp_session_last_patch_ack(const nnrp_session *s,
                                         nnrp_session_patch_ack *out);

/** One patch (seed ClientSession.patch_session / patch, api-seed.md §5.1,
 *  §12 #6-#8). Only the fields whose bit is in patch_fields are sent;
 *  the others go out as 0. */
typedef struct nnrp_patch_req {
  uint32_t patch_fields;   /**< NNRP_PATCH_* bits, combined with | */
  uint32_t target_cadence; /**< FPS; sent x100; 0 = unchanged (the
                                TARGET_CADENCE bit is dropped) */
  uint32_t quality_tier;   /**< 0..255 at the API (free u16 on the wire) */
  uint16_t degrade_policy;
  uint16_t profile_id;     /**< 0 = keep the active profile */
  uint64_t active_lane_mask;
  uint32_t preferred_codec;       /**< bitmap */
  uint32_t preferred_compression; /**< bitmap */
  /** The tensor profile patch block (resolution clamp), or NULL. Given: it
   *  is sent and PROFILE_PATCH is set; NULL: PROFILE_PATCH must not be in
   *  patch_fields. Copied into the packet. */
  const nnrp_profile_patch *profile_patch;
  uint16_t route_id;       /**< header tag, echoed by the ACK */
  uint64_t trace_id;       /**< header tag, echoed by the ACK */
  void *user_data;         /**< returned in the NNRP_EV_PATCH_ACK event */
} nnrp_patch_req;

/**
 * Client: queues a SESSION_PATCH (session.md §10.3). Several patches may be
 * outstanding (up to NNRP_PATCH_MAX_OUTSTANDING); their ACKs arrive in order
 * and are matched first in, first out. Each ACK updates the effective state
 * and raises NNRP_EV_PATCH_ACK (packet = the ACK, user_data = the
 * request's). An ACK with nothing outstanding is ignored. Every patch counts
 * against the server's rate limit: combine the fields of one change set.
 * @return 0; NNRP_ERR_INVALID_STATE (server session, or not ACTIVE);
 *         NNRP_ERR_INVALID_ARGUMENT (unknown bits, quality_tier > 255 with
 *         QUALITY_TIER, target_cadence x100 over u32, PROFILE_PATCH without
 *         a block); NNRP_ERR_WOULD_BLOCK (NNRP_PATCH_MAX_OUTSTANDING
 *         outstanding); NNRP_ERR_NOMEM.
 */
NNRP_API int nnrp_session_patch_session(nnrp_session *s,
                                        const nnrp_patch_req *req,
                                        uint64_t now);

/** Client: SESSION_PATCHes sent and not yet acknowledged. */
NNRP_API uint32_t nnrp_session_patches_outstanding(const nnrp_session *s);

/** Verdicts of an nnrp_patch_policy_fn. */
typedef enum nnrp_patch_verdict {
  NNRP_PATCH_POLICY_ACCEPT = 0, /**< apply the requested value */
  NNRP_PATCH_POLICY_CLAMP = 1,  /**< apply the value written back */
  NNRP_PATCH_POLICY_REJECT = 2  /**< reject the field with *reject_reason */
} nnrp_patch_verdict;

/** Values of one SESSION_PATCH as the policy sees them; only the member of
 *  the field being decided is meaningful (and may be changed for CLAMP). */
typedef struct nnrp_patch_values {
  uint32_t target_cadence_x100; /**< TARGET_CADENCE */
  uint16_t quality_tier;        /**< QUALITY_TIER */
  uint16_t degrade_policy;      /**< DEGRADE_POLICY */
  uint64_t active_lane_mask;    /**< ACTIVE_LANE_MASK */
  uint32_t codec_bitmap;        /**< PREFERRED_CODEC */
  uint32_t compression_bitmap;  /**< PREFERRED_COMPRESSION */
  nnrp_profile_patch clamp;     /**< PROFILE_PATCH */
} nnrp_patch_values;

/**
 * Server application policy (session.md §10.1 step 4). Called once per set
 * bit of a SESSION_PATCH, in ascending bit order, only for fields that
 * already passed the rules of §10.2 (and after the rate limit and the
 * profile check); `s` shows the fields of the same patch applied so far.
 * Returns an nnrp_patch_verdict:
 *  - NNRP_PATCH_POLICY_ACCEPT: the requested value takes effect;
 *  - NNRP_PATCH_POLICY_CLAMP: the value the callback wrote into the field's
 *    member of *v takes effect (checked again against §10.2; failing that,
 *    the field is rejected with the §10.2 reason);
 *  - NNRP_PATCH_POLICY_REJECT: the field is rejected with *reject_reason
 *    (preset to UNSUPPORTED_FIELD, the spec's veto reason; values outside
 *    UNSUPPORTED_FIELD..INVALID_LANE_MASK become UNSUPPORTED_FIELD).
 * Any other return value rejects with UNSUPPORTED_FIELD. Runs inside
 * nnrp_session_recv(): no I/O, no call back into the session except
 * read-only getters.
 */
typedef int (*nnrp_patch_policy_fn)(const nnrp_session *s, uint32_t field,
                                    nnrp_patch_values *v,
                                    uint16_t *reject_reason, void *user);

/** Server: installs (fn != NULL) or removes the patch policy. @return 0;
 *  NNRP_ERR_INVALID_ARGUMENT (client session); NNRP_ERR_NOMEM. */
NNRP_API int nnrp_session_set_patch_policy(nnrp_session *s,
                                           nnrp_patch_policy_fn fn,
                                           void *user);

/** Server: at most `count` SESSION_PATCH per sliding window of window_ms
 *  (default 10 per 1000 ms); count 0 or window_ms 0 = no limit. Patches
 *  already counted stay counted (the newest `count` of them).
 *  Over the limit: SESSION_PATCH_ACK REJECTED / RATE_LIMITED with
 *  retry_after_ms = time until the oldest counted patch leaves the window
 *  (rounded up), never an ERROR. @return 0; NNRP_ERR_INVALID_ARGUMENT
 *  (client session, count > NNRP_PATCH_RATE_LIMIT_MAX); NNRP_ERR_NOMEM. */
NNRP_API int nnrp_session_set_patch_rate_limit(nnrp_session *s,
                                               uint32_t count,
                                               uint32_t window_ms);

/* ======================================================================== */
/* Errors                                                                   */
/* ======================================================================== */

/** The last error the session recorded (library error and fault). */
NNRP_API int nnrp_session_last_error(const nnrp_session *s,
                                     nnrp_fault *fault);

#ifdef __cplusplus
}
#endif
#endif /* NNRP_SESSION_H */
