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
 *    the session.
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
  NNRP_EV_PATCH_ACK = 11,   /**< client: packet = SESSION_PATCH_ACK */
  NNRP_EV_PONG = 12,        /**< packet = PONG (trace_id: PING's) */
  NNRP_EV_PROBE_ACK = 13,   /**< client: packet = TRANSPORT_PROBE_ACK */
  /** Every byte of a packet that referenced caller payloads was consumed;
   *  user_data is the request's. */
  NNRP_EV_SENT = 14,
  /** The session is CLOSED (error.lib_err: 0 for a clean close). */
  NNRP_EV_CLOSED = 15,
  /** The peer started a graceful close (CLOSE received; DRAINING). */
  NNRP_EV_CLOSING = 16
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

/* ======================================================================== */
/* Object cache (session.md §9) - cache.c                                   */
/* ======================================================================== */

/* (cache API: section owned by cache.c) */

/* ======================================================================== */
/* Session patch (session.md §10) - patch.c                                 */
/* ======================================================================== */

/* (patch API: section owned by patch.c) */

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
