/* SPDX-License-Identifier: Apache-2.0 */
/*
 * nnrp_runtime.h - the I/O runtime of libnnrp: NNRP/1 clients and servers
 * over TCP on a libuv event loop, driving the sans-I/O sessions of
 * nnrp_session.h. Names mirror api-seed.md §11 (ClientSession.submit ->
 * nnrp_client_session_submit, accept_server_session ->
 * nnrp_accept_server_session, ...). See docs/runtime.md.
 *
 * Two ways to use it
 *  - Blocking ("scripts"): every call that waits takes timeout_ms (-1 =
 *    forever, 0 = try once without waiting, > 0 = at most that many ms) and
 *    runs the runtime's event loop until its condition holds, so every other
 *    session of the same runtime keeps making progress meanwhile. A wait
 *    that runs out returns NNRP_ERR_TIMEOUT and changes nothing.
 *  - Event-driven: give callbacks in the configs and drive the loop with
 *    nnrp_runtime_run() / nnrp_runtime_run_once(), or poll
 *    nnrp_runtime_backend_fd() from your own loop, or hand the runtime your
 *    own libuv loop (nnrp_runtime_config.uv_loop). Inside a callback only
 *    non-waiting calls are allowed (timeout_ms 0; a positive or -1 timeout
 *    returns NNRP_ERR_INVALID_STATE there, since the loop cannot be
 *    re-entered).
 *
 * Thread safety: a runtime and everything created on it (client sessions,
 * servers, server sessions, results, received submits) belong to one thread
 * at a time: the thread that calls into it and runs its loop. Different
 * runtimes are independent and may run in different threads. No function
 * of this header may be called from another thread, not even to wake the
 * loop. Callbacks run on the runtime's thread, from inside the loop.
 *
 * Zero copy and its one exception
 *  - Sending: payloads of a submit or result are never copied. They are
 *    written with gathered writes straight from the caller's memory, which
 *    must stay valid and unchanged until the packet is written (see
 *    nnrp_client_session_submit_nowait() and
 *    nnrp_server_session_send_result() for when that is).
 *  - Receiving: bytes are read into one fixed buffer per runtime (256 KiB,
 *    shared by its connections). A received FRAME_SUBMIT (server) or
 *    RESULT_PUSH / RESULT_DROP (client) is copied once out of it, into a
 *    buffer the library owns, because the application keeps those views for
 *    an unbounded time while the read buffer must be reused for the next
 *    bytes. That single copy is the receive-side cost; every view handed out
 *    (tiles, typed frames, camera block, metadata) points into that copy,
 *    never copied again. A large packet (64 KiB and more) that does not
 *    arrive in one read is read straight into a buffer of its own, which
 *    the submit or result then keeps: no copy at all.
 *
 * Bounded memory: read buffers are fixed; queued results (client) and held
 * submits (server) are bounded in count and bytes (see the configs). When a
 * bound is reached the runtime stops reading the socket until the
 * application takes or answers something, and a session whose queued
 * output exceeds nnrp_session_settings.max_output_bytes also stops reading:
 * a slow peer cannot make this side buffer without limit (TCP backpressure).
 *
 * Clock: every time in this API is monotonic nanoseconds of
 * nnrp_runtime_now() (libuv's uv_hrtime()); nnrp_submit.deadline uses it.
 *
 * SIGPIPE: writing to a connection the peer reset raises SIGPIPE on POSIX
 * systems. nnrp_runtime_new() sets SIGPIPE to SIG_IGN if it is SIG_DFL
 * (process-wide) unless nnrp_runtime_config.keep_sigpipe is 1; then the
 * application must ignore or handle it.
 */
#ifndef NNRP_RUNTIME_H
#define NNRP_RUNTIME_H

#include <stddef.h>
#include <stdint.h>

#include "nnrp_error.h"
#include "nnrp_session.h"
#include "nnrp_version.h"
#include "nnrp_wire.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct nnrp_runtime nnrp_runtime;
typedef struct nnrp_client_session nnrp_client_session;
typedef struct nnrp_server nnrp_server;
typedef struct nnrp_server_session nnrp_server_session;

/* ======================================================================== */
/* Runtime: the event loop                                                  */
/* ======================================================================== */

typedef struct nnrp_runtime_config {
  uint32_t struct_size; /**< sizeof(nnrp_runtime_config) */
  /** NULL: the runtime creates and owns a loop. Otherwise a `uv_loop_t *`
   *  of the application (libuv 1.x, the one libnnrp links): the runtime
   *  adds its handles to it and the application runs it. */
  void *uv_loop;
  /** 0 (default): set SIGPIPE to SIG_IGN when it is SIG_DFL. 1: leave the
   *  signal disposition alone. */
  uint8_t keep_sigpipe;
  uint8_t reserved[7];
} nnrp_runtime_config;

/** Fills *c with the defaults (own loop, SIGPIPE ignored). */
NNRP_API void nnrp_runtime_config_default(nnrp_runtime_config *c);

/**
 * Creates a runtime.
 * @param cfg  may be NULL (defaults)
 * @return 0; NNRP_ERR_INVALID_ARGUMENT (out NULL, struct_size mismatch);
 *         NNRP_ERR_NOMEM; NNRP_ERR_INTERNAL (the loop could not be created).
 */
NNRP_API int nnrp_runtime_new(nnrp_runtime **out,
                              const nnrp_runtime_config *cfg);

/**
 * Frees the runtime and everything still open on it: client sessions,
 * servers and server sessions are closed at once (no drain) and freed;
 * results and received submits not yet freed/answered are freed too, so
 * every handle of this runtime becomes invalid. It runs the loop until the
 * runtime's handles are closed (with an application loop, that may run
 * other callbacks of that loop). Must not be called from a callback. NULL
 * is a no-op.
 */
NNRP_API void nnrp_runtime_del(nnrp_runtime *rt);

/**
 * Runs the loop for up to timeout_ms (-1: until nnrp_runtime_stop() is
 * called or nothing is left to wait for). Works on an application loop too
 * (when the application is not running it itself).
 * @return 0 (time up, stopped, or idle); NNRP_ERR_INVALID_STATE (called
 *         from a callback).
 */
NNRP_API int nnrp_runtime_run(nnrp_runtime *rt, int timeout_ms);

/**
 * Runs one loop iteration, waiting at most timeout_ms (-1: until something
 * happens; 0: only what is ready now).
 * @return 1 if the runtime still has active handles, 0 if none;
 *         NNRP_ERR_INVALID_STATE as nnrp_runtime_run().
 */
NNRP_API int nnrp_runtime_run_once(nnrp_runtime *rt, int timeout_ms);

/** Makes nnrp_runtime_run() return after the current iteration (callable
 *  from callbacks). */
NNRP_API void nnrp_runtime_stop(nnrp_runtime *rt);

/** Integration with a foreign poll loop: the loop's backend descriptor
 *  (epoll fd on Linux; readable when nnrp_runtime_run_once(rt, 0) has
 *  work), or -1 where there is none. */
NNRP_API int nnrp_runtime_backend_fd(const nnrp_runtime *rt);

/** The longest a foreign loop may sleep before calling
 *  nnrp_runtime_run_once(rt, 0): ms, 0 = now, -1 = no timer pending. */
NNRP_API int nnrp_runtime_backend_timeout(const nnrp_runtime *rt);

/** The runtime clock: monotonic nanoseconds (uv_hrtime()). */
NNRP_API uint64_t nnrp_runtime_now(void);

/**
 * The last failure of a call that returned no handle (nnrp_dial_client()
 * and nnrp_serve_tcp()): library error, wire error record and, when the
 * system was involved, os_err (a negative errno as libuv reports it).
 * rec->diagnostic stays valid until the next failing call on rt.
 * @return the library error of that failure (0 if none yet).
 */
NNRP_API int nnrp_runtime_last_error(const nnrp_runtime *rt,
                                     nnrp_error_record *rec, int *os_err);

/* ======================================================================== */
/* Client                                                                   */
/* ======================================================================== */

/** Seed ClientDialPolicy (api-seed.md §4, session.md §11.1). Both ids 0:
 *  the profile's transport_policy decides. TCP is the only binding of this
 *  release: FORCE_QUIC (forced id or profile policy) fails with
 *  NNRP_ERR_UNSUPPORTED_CAPABILITY; AUTO and PREFER_QUIC dial TCP. */
typedef struct nnrp_client_dial_policy {
  uint32_t struct_size;
  uint32_t selected_transport_id; /**< nnrp_transport_id; -> PREFER_x */
  uint32_t forced_transport_id;   /**< nnrp_transport_id; -> FORCE_x */
} nnrp_client_dial_policy;

NNRP_API void nnrp_client_dial_policy_default(nnrp_client_dial_policy *p);

typedef struct nnrp_client_result nnrp_client_result;

/** Client configuration: where to dial, local limits, callbacks. */
typedef struct nnrp_client_config {
  uint32_t struct_size;
  const char *host; /**< host name or address literal (copied) */
  uint16_t port;    /**< e.g. 4434 */
  uint8_t no_delay; /**< 1: TCP_NODELAY (session.md §2.1 rule 3) */
  uint8_t lenient;  /**< 1: wire.md §13 lenient receive validation */
  uint32_t connect_timeout_ms;    /**< 5000 (0: none) */
  uint32_t handshake_timeout_ms;  /**< 10000 */
  uint32_t keepalive_interval_ms; /**< 10000 (0: never PING) */
  uint32_t peer_dead_timeout_ms;  /**< 30000 (0: never) */
  /** Session settings to start from (NULL: nnrp_session_settings_default).
   *  lenient and the three timers above override their fields. */
  const nnrp_session_settings *settings;
  /** Results queued and not yet taken: bytes and count. Above either the
   *  runtime stops reading from the server (failure records of frames
   *  ended by a closing session are always queued). */
  uint64_t max_result_bytes;   /**< 64 MiB */
  uint32_t max_queued_results; /**< 4096 */
  uint32_t reserved;

  /* Optional callbacks (event-driven form); all receive `user`. */
  /** nnrp_dial_client_start() finished: status 0 (ACTIVE) or the error
   *  nnrp_dial_client() would return. */
  void (*on_connected)(nnrp_client_session *cs, int status, void *user);
  /** A result, drop or frame failure for frame_id was queued; take it with
   *  nnrp_client_session_receive_result(cs, ..., 0, ...). */
  void (*on_result)(nnrp_client_session *cs, uint32_t frame_id, void *user);
  /** Every byte of the submit of frame_id was written: its payloads may be
   *  reused. frame_user_data is nnrp_submit.user_data. */
  void (*on_sent)(nnrp_client_session *cs, uint32_t frame_id,
                  void *frame_user_data, void *user);
  /** Every other session event, borrowed for the call: NNRP_EV_RESULT_HINT,
   *  FLOW_UPDATE, CACHE_ACK, PATCH_ACK, PONG, PROBE_ACK, PEER_ERROR,
   *  CLOSING, CLOSED (see nnrp_event_type). */
  void (*on_event)(nnrp_client_session *cs, const nnrp_event *ev, void *user);
  void *user;

  /* Issue 4 (flow control, hints): appended fields. */
  /** RESULT_HINTs kept for nnrp_client_session_next_hint(): the newest
   *  ones, oldest dropped first (counted). Default
   *  NNRP_CLIENT_HINT_QUEUE_DEFAULT; 0 = keep none (counters only); at
   *  most 65536. */
  uint32_t max_queued_hints;
  /** 1: nnrp_client_session_set_auto_pause(cs, 1) from the start (a
   *  SATURATED hint pauses submits, session.md §8.6). Default 0. */
  uint8_t auto_pause;
  uint8_t reserved2[3];
} nnrp_client_config;

/** RESULT_HINTs a client session keeps by default (max_queued_hints). */
#define NNRP_CLIENT_HINT_QUEUE_DEFAULT 256u

/** Fills *c with the defaults above (host NULL, port 0: set them). */
NNRP_API void nnrp_client_config_default(nnrp_client_config *c);

/**
 * Seed dial_client / connect_client_session: resolves host, connects (TCP,
 * connect timeout, TCP_NODELAY), sends CLIENT_HELLO and waits for
 * SERVER_HELLO_ACK. Runs the loop (blocking form).
 * @param profile  copied (NULL: nnrp_client_profile_default)
 * @param dial     may be NULL (no selected/forced transport)
 * @return 0 with *out ACTIVE; NNRP_ERR_INVALID_ARGUMENT (config, profile,
 *         both dial ids set and different); NNRP_ERR_UNSUPPORTED_CAPABILITY
 *         (QUIC forced); NNRP_ERR_TIMEOUT (connect or handshake timeout);
 *         NNRP_ERR_CONNECTION_LOST (name resolution or connection failed,
 *         or the server closed: os_err in nnrp_runtime_last_error());
 *         NNRP_ERR_AUTH_FAILED (server rejected the auth block);
 *         NNRP_ERR_PEER_ERROR (any other ERROR; the record is in
 *         nnrp_runtime_last_error()); another session error; NNRP_ERR_NOMEM;
 *         NNRP_ERR_INVALID_STATE (called from a callback). On failure *out
 *         is NULL and nothing stays open.
 */
NNRP_API int nnrp_dial_client(nnrp_runtime *rt,
                              const nnrp_client_profile *profile,
                              const nnrp_client_dial_policy *dial,
                              const nnrp_client_config *cfg,
                              nnrp_client_session **out);

/**
 * Event-driven form of nnrp_dial_client(): returns at once with *out
 * connecting; cfg->on_connected (if any) reports the outcome. On a failed
 * connect the handle stays valid (state CLOSED) until
 * nnrp_client_session_del().
 * @return 0; NNRP_ERR_INVALID_ARGUMENT; NNRP_ERR_UNSUPPORTED_CAPABILITY;
 *         NNRP_ERR_NOMEM.
 */
NNRP_API int nnrp_dial_client_start(nnrp_runtime *rt,
                                    const nnrp_client_profile *profile,
                                    const nnrp_client_dial_policy *dial,
                                    const nnrp_client_config *cfg,
                                    nnrp_client_session **out);

/** A frame's outcome as delivered by the result router. */
typedef enum nnrp_result_kind {
  NNRP_RESULT_PUSH = 1,  /**< RESULT_PUSH: meta and body are set */
  NNRP_RESULT_DROP = 2,  /**< RESULT_DROP: not displayable, no metadata */
  NNRP_RESULT_FAILED = 3 /**< ended without a result; see error */
} nnrp_result_kind;

/**
 * One delivered result (seed Result). Owned by the application once
 * returned: free it with nnrp_client_result_free(); it stays valid until
 * then, whatever happens to its session or runtime. Every pointer points
 * into this result's own buffer (the single receive copy).
 */
struct nnrp_client_result {
  nnrp_result_kind kind;
  uint32_t frame_id;
  uint16_t view_id;
  uint8_t final;        /**< ends the frame (always 1 for DROP and FAILED; 0 for
                             a non-final chunk of a streaming frame) */
  uint8_t dropped;      /**< kind == NNRP_RESULT_DROP (seed Result.dropped) */
  void *user_data;      /**< nnrp_submit.user_data of the frame */
  uint64_t received_at; /**< runtime clock */
  /** PUSH and DROP: the decoded packet; FAILED: NULL. */
  const nnrp_packet *packet;
  const nnrp_result_push *meta; /**< PUSH: &packet->m.result_push */
  const nnrp_data_body *body;   /**< PUSH: &packet->b.data */
  /** FAILED: why (peer ERROR naming the frame, local FRAME_EXPIRED (lib_err
   *  NNRP_ERR_TIMEOUT), cancel (FRAME_CANCELLED), connection closed or lost
   *  (lib_err NNRP_ERR_CLOSED / CONNECTION_LOST / TRUNCATED / PEER_ERROR)).
   *  diagnostic points into this result. Zero for PUSH and DROP. */
  nnrp_error_record error;
};

/** Frees a result returned by this API. NULL is a no-op. */
NNRP_API void nnrp_client_result_free(nnrp_client_result *r);

/**
 * Seed ClientSession.submit_nowait (submit_frame): waits up to timeout_ms
 * for a flow-control slot (session.md §8.1), queues the FRAME_SUBMIT and
 * starts writing it; returns without waiting for the result (take it with
 * nnrp_client_session_receive_result()).
 *
 * Payload memory of req->body is not copied: it must stay valid and
 * unchanged until the submit is written, which is guaranteed once any of
 * these happened: on_sent for the frame; a result/drop/failure of the frame
 * was taken; nnrp_client_session_flush() returned 0;
 * nnrp_client_session_close() or _del() returned. nnrp_client_session_
 * discard_frame() does not end the obligation (the packet may be half
 * written).
 * @param frame_id  receives the id used (req->frame_id 0: next id); may
 *                  be NULL
 * A slot is what session.md §8.1 allows: the window, the FLOW_UPDATE
 * credit, no peer PAUSE (one with retry_after ends by itself), no
 * pause_submit, no auto-pause after a SATURATED hint ("Client: cache,
 * session patch, flow control and hints" below). timeout_ms 0 fails fast.
 * @return 0; NNRP_ERR_WOULD_BLOCK (no slot within timeout_ms: window full
 *         or paused); NNRP_ERR_CLOSED (session closed) or its latched close
 *         error; NNRP_ERR_INVALID_STATE (draining, or waiting inside a
 *         callback); NNRP_ERR_FRAME_ID; NNRP_ERR_TIMEOUT (req->deadline
 *         already passed: nothing sent); NNRP_ERR_INCONSISTENT (builder
 *         rule; nnrp_session_last_error() of the session has the fault);
 *         NNRP_ERR_NOMEM.
 */
NNRP_API int nnrp_client_session_submit_nowait(nnrp_client_session *cs,
                                               const nnrp_submit *req,
                                               int timeout_ms,
                                               uint32_t *frame_id);

/**
 * Seed ClientSession.submit: submit_nowait, then waits for the frame's
 * first result (its terminal event unless req->stream is 1; a streaming
 * frame's later chunks come from receive_result(frame_id)). timeout_ms
 * bounds the whole call.
 * @param frame_id  receives the id (also on NNRP_ERR_TIMEOUT); may be NULL
 * @param out       receives the result: kind PUSH, DROP or FAILED (a frame
 *                  failure is a delivered outcome, not an error return)
 * @return 0 with *out set; NNRP_ERR_TIMEOUT (the frame stays in flight and
 *         holds its slot until a terminal event or discard_frame, seed
 *         pitfall); the errors of submit_nowait (then nothing was sent,
 *         except NNRP_ERR_TIMEOUT which may come from either wait).
 */
NNRP_API int nnrp_client_session_submit(nnrp_client_session *cs,
                                        const nnrp_submit *req, int timeout_ms,
                                        uint32_t *frame_id,
                                        nnrp_client_result **out);

/**
 * Seed ClientSession.receive_result (session.md §7.9): the oldest
 * undelivered result of any frame (frame_id 0) or of frame_id. A result is
 * delivered once, whichever call takes it; a frame's queue disappears once
 * its terminal record is taken.
 * @return 0 with *out (PUSH, DROP or FAILED; free it); NNRP_ERR_TIMEOUT
 *         (nothing within timeout_ms; frames stay in flight);
 *         NNRP_ERR_NOT_FOUND (frame_id was never submitted on this session,
 *         was discarded, or its terminal record was already taken);
 *         NNRP_ERR_CLOSED or the latched close error (NNRP_ERR_PEER_ERROR,
 *         NNRP_ERR_CONNECTION_LOST, NNRP_ERR_TRUNCATED, ...) once the
 *         session is closed and nothing is queued; NNRP_ERR_INVALID_STATE
 *         (waiting inside a callback).
 */
NNRP_API int nnrp_client_session_receive_result(nnrp_client_session *cs,
                                                uint32_t frame_id,
                                                int timeout_ms,
                                                nnrp_client_result **out);

/** Seed discard_frame (session.md §7.9 rule 4): forgets the frame and its
 *  queued results; sends FRAME_CANCEL if it is still in flight and frees
 *  its slot; no further record for it is delivered.
 *  @return 0; NNRP_ERR_NOT_FOUND (unknown to the router). */
NNRP_API int nnrp_client_session_discard_frame(nnrp_client_session *cs,
                                               uint32_t frame_id);

/** Seed cancel_frame: FRAME_CANCEL; the frame ends at once with a FAILED
 *  record (FRAME_CANCELLED) that receive_result delivers.
 *  @return 0; NNRP_ERR_NOT_FOUND (not in flight). */
NNRP_API int nnrp_client_session_cancel_frame(nnrp_client_session *cs,
                                              uint32_t frame_id);

/** Sends PING and waits for the PONG. @param rtt_ns receives the round
 *  trip (may be NULL). @return 0; NNRP_ERR_TIMEOUT; NNRP_ERR_CLOSED or the
 *  latched close error; NNRP_ERR_INVALID_STATE. */
NNRP_API int nnrp_client_session_ping(nnrp_client_session *cs, int timeout_ms,
                                      uint64_t *rtt_ns);

/** Runs the loop until every queued byte of this session is written.
 *  @return 0; NNRP_ERR_TIMEOUT; NNRP_ERR_CLOSED (the connection is gone:
 *  nothing more will be written, payloads are free);
 *  NNRP_ERR_INVALID_STATE. */
NNRP_API int nnrp_client_session_flush(nnrp_client_session *cs, int timeout_ms);

/**
 * Seed ClientSession.close (session.md §6.1, D7): sends CLOSE, stops new
 * submits, keeps receiving until the in-flight frames end (results, drops,
 * or failures at the drain timeout) and the server answered, then closes
 * the connection. Waits up to timeout_ms (0: start and return; -1: bounded
 * by the session's drain timeout). When the wait runs out the connection
 * is cut at once and the frames still open fail (FAILED records, lib_err
 * NNRP_ERR_CONNECTION_LOST). Either way every frame gets exactly one
 * terminal record, which receive_result still delivers after close; the
 * handle stays valid until nnrp_client_session_del().
 * @return 0 (closed); NNRP_ERR_TIMEOUT (closed, but cut at the end of the
 *         wait); NNRP_ERR_WOULD_BLOCK (timeout_ms 0: the close goes on in
 *         the background); NNRP_ERR_INVALID_STATE (waiting inside a
 *         callback; the close goes on in the background).
 */
NNRP_API int nnrp_client_session_close(nnrp_client_session *cs, int timeout_ms);

/** Frees the session (closing the connection at once if it is still
 *  open) and every queued result; results already taken stay valid. May
 *  be called from callbacks (the memory is released later by the loop).
 *  NULL is a no-op. */
NNRP_API void nnrp_client_session_del(nnrp_client_session *cs);

/** State of the underlying session (NNRP_STATE_INIT while connecting). */
NNRP_API nnrp_session_state
nnrp_client_session_state(const nnrp_client_session *cs);
/** Negotiated session id (0 before the handshake). */
NNRP_API uint32_t nnrp_client_session_id(const nnrp_client_session *cs);
/** The server's SERVER_HELLO_ACK (NULL before the handshake). */
NNRP_API const nnrp_server_hello_ack *
nnrp_client_session_server_hello(const nnrp_client_session *cs);
/** The server's ACTIVE_MODEL_NAME (0x8001, or the opaque ack body of D5);
 *  empty when none. Valid while cs lives. */
NNRP_API nnrp_bytes
nnrp_client_session_model_name(const nnrp_client_session *cs);
/** Frames sent and not yet terminal. */
NNRP_API uint32_t nnrp_client_session_in_flight(const nnrp_client_session *cs);
/** 1 when submit_nowait(timeout 0) would not return WOULD_BLOCK. */
NNRP_API int nnrp_client_session_can_submit(const nnrp_client_session *cs);
/** Results queued and not yet taken. */
NNRP_API uint32_t
nnrp_client_session_queued_results(const nnrp_client_session *cs);
/**
 * Why the session closed (or the last peer ERROR naming no frame while it
 * is open). rec->diagnostic points into cs. os_err: the system error when
 * the transport failed (negative errno), else 0. Both may be NULL.
 * @return the latched library error: 0 while open with no error, 0 after a
 *         clean close, else NNRP_ERR_*.
 */
NNRP_API int nnrp_client_session_last_error(const nnrp_client_session *cs,
                                            nnrp_error_record *rec,
                                            int *os_err);
/** The sans-I/O session inside (read-only queries of nnrp_session.h, e.g.
 *  nnrp_session_last_error() for a builder fault). Never NULL. */
NNRP_API const nnrp_session *
nnrp_client_session_session(const nnrp_client_session *cs);

/* ======================================================================== */
/* Client: cache, session patch, flow control and hints (issue 4)           */
/* ======================================================================== */
/*
 * Seed ClientSession.put_cache, invalidate_cache, patch_session / patch,
 * pause_submit / resume_submit, flow_state, send_flow_update and
 * result_hints (api-seed.md §5.1; session.md §8-§10). The waiting calls
 * follow the rules at the top of this file (timeout_ms -1 / 0 / > 0).
 *
 * Flow control and submits: submit_nowait and submit wait for a slot
 * (session.md §8.1) whatever blocks it: the window (max_concurrent_frames),
 * the credit of the last FLOW_UPDATE, a peer PAUSE (one with retry_after
 * ends by itself when that time has passed: the waiting call notices it at
 * once), pause_submit, or a SATURATED hint with auto-pause on. "A submit
 * beyond credit waits or fails fast" is the timeout argument: timeout_ms 0
 * fails fast with NNRP_ERR_WOULD_BLOCK, anything else waits (and returns
 * NNRP_ERR_WOULD_BLOCK if no slot came within the time).
 */

/**
 * Seed put_cache: queues CACHE_PUT and waits for its CACHE_ACK (matched by
 * cache_namespace / key, session.md §9.2). When the PUT cannot be queued
 * because NNRP_CACHE_MAX_PENDING_PUTS puts await their ACK, it first waits
 * for one to be answered (same timeout).
 * req->data is not copied: it must stay valid until the packet is written.
 * A return of 0 guarantees that; after NNRP_ERR_TIMEOUT the put is still
 * under way: keep the data until on_sent (frame_id 0, frame_user_data =
 * req->user_data), nnrp_client_session_flush() returned 0, or the session
 * is closed. Its ACK then still arrives as NNRP_EV_CACHE_ACK (on_event,
 * user_data = req->user_data) and updates the mirror.
 * @param ack_out  receives the ACK (may be NULL). REJECTED is a delivered
 *                 outcome (return 0): keep sending that object inline.
 * @return 0; NNRP_ERR_TIMEOUT (sent, no ACK within timeout_ms; timeout_ms 0
 *         always ends here unless the ACK is already there);
 *         NNRP_ERR_WOULD_BLOCK (nothing sent: no room for another pending
 *         put within timeout_ms); NNRP_ERR_INVALID_ARGUMENT (as
 *         nnrp_session_put_cache()); NNRP_ERR_INVALID_STATE (not ACTIVE, or
 *         waiting inside a callback); NNRP_ERR_CLOSED or the latched close
 *         error (closed before the ACK); NNRP_ERR_NOMEM.
 */
NNRP_API int nnrp_client_session_put_cache(nnrp_client_session *cs,
                                           const nnrp_cache_put_req *req,
                                           int timeout_ms,
                                           nnrp_cache_ack *ack_out);

/** Seed invalidate_cache: CACHE_INVALIDATE (not acknowledged), applied to
 *  the mirror at once. @return as nnrp_session_invalidate_cache(). */
NNRP_API int
nnrp_client_session_invalidate_cache(nnrp_client_session *cs,
                                     const nnrp_cache_invalidate_req *req);

/** 1 while the mirror lists the key (reference it only then). */
NNRP_API int nnrp_client_session_cache_has(const nnrp_client_session *cs,
                                           uint32_t cache_namespace,
                                           uint32_t key_hi, uint32_t key_lo);

/** The mirror's counters (nnrp_session_cache_stats()). @return 0. */
NNRP_API int nnrp_client_session_cache_stats(const nnrp_client_session *cs,
                                             nnrp_cache_stats *out);

/**
 * Seed patch_session: queues SESSION_PATCH and waits for its ACK (ACKs are
 * matched first in, first out, session.md §10.3). With
 * NNRP_PATCH_MAX_OUTSTANDING patches unanswered it first waits for room.
 * The request (and its profile_patch block) is copied at once.
 * @param ack_out  receives the ACK (may be NULL). REJECTED (including
 *                 RATE_LIMITED with retry_after_ms) and PARTIALLY_APPLIED
 *                 are delivered outcomes (return 0). The state in force is
 *                 nnrp_client_session_effective_profile().
 * @return 0; NNRP_ERR_TIMEOUT (sent, no ACK in time: it still arrives as
 *         NNRP_EV_PATCH_ACK and updates the effective state);
 *         NNRP_ERR_WOULD_BLOCK (nothing sent: no room in time);
 *         NNRP_ERR_INVALID_ARGUMENT (as nnrp_session_patch_session());
 *         NNRP_ERR_INVALID_STATE (not ACTIVE, or waiting in a callback);
 *         NNRP_ERR_CLOSED or the latched close error; NNRP_ERR_NOMEM.
 */
NNRP_API int nnrp_client_session_patch_session(nnrp_client_session *cs,
                                               const nnrp_patch_req *req,
                                               int timeout_ms,
                                               nnrp_session_patch_ack *ack_out);

/** Seed patch (alias of patch_session, api-seed.md §12 #6). */
NNRP_API int nnrp_client_session_patch(nnrp_client_session *cs,
                                       const nnrp_patch_req *req,
                                       int timeout_ms,
                                       nnrp_session_patch_ack *ack_out);

/** The patchable state in force as the ACKs told it
 *  (nnrp_session_effective_profile()). */
NNRP_API int
nnrp_client_session_effective_profile(const nnrp_client_session *cs,
                                      nnrp_effective_profile *out);

/** Seed pause_submit / resume_submit: a local gate; while paused, submits
 *  wait (or fail fast with timeout 0). Frames in flight continue.
 *  @return 0; NNRP_ERR_INVALID_ARGUMENT; NNRP_ERR_NOMEM. */
NNRP_API int nnrp_client_session_pause_submit(nnrp_client_session *cs);
NNRP_API int nnrp_client_session_resume_submit(nnrp_client_session *cs);

/** Automatic response to RESULT_HINT (nnrp_session_set_auto_pause()): on,
 *  a SATURATED hint pauses submits until a lower hint arrives or its
 *  retry_after_ms has passed. @return 0; NNRP_ERR_INVALID_ARGUMENT. */
NNRP_API int nnrp_client_session_set_auto_pause(nnrp_client_session *cs,
                                                int on);

/** Seed flow_state: the received FLOW_UPDATE state of the CONNECTION or
 *  SESSION scope (nnrp_session_flow_state()), with timers due now applied
 *  first (a timed pause that ended reads as not paused).
 *  @return 0; NNRP_ERR_INVALID_ARGUMENT. */
NNRP_API int nnrp_client_session_flow_state(nnrp_client_session *cs,
                                            uint8_t scope,
                                            nnrp_flow_state *out);

/** Why a submit would wait now: NNRP_SUBMIT_BLOCKED_* bits (0 = a slot is
 *  free), with due timers applied first. */
NNRP_API uint32_t nnrp_client_session_submit_blocked(nnrp_client_session *cs);

/** Seed send_flow_update (client-sent FLOW_UPDATE; the server records and
 *  surfaces it, session.md §8.4). Starts writing at once.
 *  @return bytes queued; the errors of nnrp_session_send_flow_update(). */
NNRP_API int64_t nnrp_client_session_send_flow_update(
    nnrp_client_session *cs, const nnrp_flow_update_req *req);

/**
 * Seed result_hints(): the oldest RESULT_HINT not yet taken, in arrival
 * order. The session keeps the newest max_queued_hints of them (oldest
 * dropped first, counted in hints_dropped).
 * @param out       receives the hint metadata
 * @param frame_id  receives the hint's header frame_id (0: session-wide);
 *                  may be NULL
 * @return 0; NNRP_ERR_TIMEOUT; NNRP_ERR_CLOSED or the latched close error
 *         (closed and no hint left); NNRP_ERR_INVALID_STATE (waiting inside
 *         a callback); NNRP_ERR_INVALID_ARGUMENT.
 */
NNRP_API int nnrp_client_session_next_hint(nnrp_client_session *cs,
                                           int timeout_ms,
                                           nnrp_result_hint *out,
                                           uint32_t *frame_id);

/** Flow-control counters of a client session (for benchmarks). */
typedef struct nnrp_client_flow_stats {
  uint32_t struct_size;     /**< set by the call */
  uint32_t queued_hints;    /**< hints waiting for next_hint */
  uint64_t hints_received;  /**< RESULT_HINTs received */
  uint64_t hints_dropped;   /**< dropped from the full hint queue */
  uint64_t hints_saturated; /**< of them with congestion SATURATED */
  uint64_t flow_updates_received;
  /** Transitions into "paused" (not counting pause_submit): by a peer
   *  PAUSE / HARD / pause flag, and by auto-pause on a SATURATED hint. */
  uint64_t pauses_observed;
  uint64_t peer_pauses;
  uint64_t hint_pauses;
  uint64_t drops_received;    /**< RESULT_DROP records */
  uint64_t submit_waits;      /**< submits that found no slot at first */
  uint64_t session_mem_bytes; /**< memory the session holds now */
  uint64_t session_mem_peak;
} nnrp_client_flow_stats;

/** Fills *out. @return 0; NNRP_ERR_INVALID_ARGUMENT. */
NNRP_API int nnrp_client_session_flow_stats(const nnrp_client_session *cs,
                                            nnrp_client_flow_stats *out);

/* ======================================================================== */
/* Server                                                                   */
/* ======================================================================== */

/** A FRAME_SUBMIT accepted by the session and held for the application
 *  (seed ReceivedSubmit). Read-only. Every pointer points into the held
 *  copy and stays valid until the frame is answered
 *  (nnrp_server_session_send_result() with final = 1, send_result_drop())
 *  or released (nnrp_server_session_release_submit()), or the session is
 *  freed - and, when a result references these bytes (echo), until that
 *  result is written (the library keeps the copy alive for it). */
typedef struct nnrp_received_submit {
  nnrp_server_session *session;
  uint32_t frame_id;
  uint16_t view_id;
  uint8_t loss_tolerance; /**< effective value (INHERIT resolved) */
  uint8_t reserved;
  uint64_t received_at;          /**< runtime clock */
  const nnrp_packet *packet;     /**< decoded FRAME_SUBMIT */
  const nnrp_frame_submit *meta; /**< &packet->m.frame_submit */
  const nnrp_data_body *body;    /**< &packet->b.data: tensor view, typed
                                      payloads, refs (zero-copy views) */
  /** REFERENCE / MIXED submits: the referenced objects resolved from the
   *  session cache (session.md §9.5), in slot order; data is copied with
   *  the packet and lives as long as the views above. */
  nnrp_resolved_object resolved[NNRP_MAX_RESOLVED_OBJECTS];
  uint8_t resolved_count;
} nnrp_received_submit;

/** Server configuration: where to listen, limits, callbacks. The auth
 *  validator and the model name are fields of nnrp_server_profile. */
typedef struct nnrp_server_config {
  uint32_t struct_size;
  const char *host;      /**< bind address or name; NULL: "0.0.0.0" */
  uint16_t port;         /**< 0: an ephemeral port (nnrp_server_port()) */
  uint8_t no_delay;      /**< 1 */
  uint8_t lenient;       /**< 0 */
  int32_t backlog;       /**< 128 */
  uint32_t max_sessions; /**< connections at once, 0 = no limit; more are
                              closed on accept */
  uint32_t handshake_timeout_ms;  /**< 10000 */
  uint32_t keepalive_interval_ms; /**< 10000 */
  uint32_t peer_dead_timeout_ms;  /**< 30000 */
  /** NULL: nnrp_session_settings_default; lenient and the timers above
   *  override their fields. */
  const nnrp_session_settings *settings;
  /** Submits held per session (queued or being answered): count (0: the
   *  session's max_tracked_frames) and bytes. Above either the session
   *  stops reading until the application answers or releases frames. */
  uint32_t max_held_submits;
  uint32_t reserved;
  uint64_t max_held_bytes; /**< 64 MiB */

  /* Optional callbacks (event-driven form); all receive `user`. */
  /** A session completed its handshake. Giving this callback makes the
   *  application the owner of every session (see nnrp_server_session_del);
   *  nnrp_accept_server_session() then returns NNRP_ERR_INVALID_STATE. */
  void (*on_session)(nnrp_server *srv, nnrp_server_session *ss, void *user);
  /** A submit was accepted; when set, submits are delivered here instead of
   *  the receive queues. Answer or release every one. */
  void (*on_submit)(nnrp_server_session *ss, const nnrp_received_submit *sub,
                    void *user);
  /** A result of frame_id was written (its payloads may be reused);
   *  result_user_data is nnrp_result.user_data. */
  void (*on_sent)(nnrp_server_session *ss, uint32_t frame_id,
                  void *result_user_data, void *user);
  /** Every other event of any session of the server, borrowed:
   *  NNRP_EV_CANCELLED (FRAME_CANCEL or budget expiry: the library already
   *  sent RESULT_DROP; answering the frame is now a no-op), FLOW_UPDATE,
   *  PATCH (a SESSION_PATCH was answered), PONG, PEER_ERROR, CLOSING,
   *  CLOSED. */
  void (*on_event)(nnrp_server_session *ss, const nnrp_event *ev, void *user);
  void *user;

  /* Issue 4 (flow control, patch): appended fields, applied to every
   * accepted session (each can be changed per session later). */
  /** Credit policy (nnrp_server_session_set_credit_policy()): every session
   *  grants the client a SESSION credit of this many frames, sent right
   *  after SERVER_HELLO_ACK. 0 (default): no credit policy. */
  uint16_t credit_window;
  /** 1: automatic overload signalling. When a session's unanswered
   *  submits (accepted, no final result or drop yet) reach
   *  overload_high_water, the library sends PAUSE (HARD, retry_after =
   *  overload_retry_after_ms, plus the credit); when they fall below
   *  overload_low_water, RESUME. While paused with retry_after, a submit
   *  that arrives after the retry time renews the PAUSE. Default 0. */
  uint8_t auto_overload;
  uint8_t reserved2;
  /** 0: 3/4 of the held-submit bound (max_held_submits, else the session's
   *  max_tracked_frames), at least 1. */
  uint32_t overload_high_water;
  /** 0: overload_high_water / 2. Clamped to overload_high_water. */
  uint32_t overload_low_water;
  /** retry_after_ms of the automatic PAUSE; default 100; 0 = paused until
   *  the RESUME. */
  uint32_t overload_retry_after_ms;
  /** Patch policy installed on every session (NULL: none); see
   *  nnrp_server_session_set_patch_policy(). */
  nnrp_patch_policy_fn patch_policy;
  void *patch_user;
  /** Patch rate limit of every session (nnrp_session_set_patch_rate_limit
   *  semantics): default NNRP_PATCH_RATE_LIMIT_DEFAULT per
   *  NNRP_PATCH_RATE_WINDOW_MS_DEFAULT ms; either 0 = no limit. */
  uint32_t patch_rate_limit;
  uint32_t patch_rate_window_ms;
} nnrp_server_config;

NNRP_API void nnrp_server_config_default(nnrp_server_config *c);

/**
 * Seed serve_tcp: binds and listens; connections are accepted and their
 * handshakes run in the background (auth_validator and model_name of the
 * profile apply; the validator runs synchronously inside the loop and must
 * not block).
 * @param profile  copied, with its model name and extensions (NULL:
 *                 nnrp_server_profile_default); auth_user / id_user must
 *                 stay valid while the server lives
 * @return 0; NNRP_ERR_INVALID_ARGUMENT; NNRP_ERR_CONNECTION_LOST (bind or
 *         listen failed; os_err in nnrp_runtime_last_error());
 *         NNRP_ERR_NOMEM.
 */
NNRP_API int nnrp_serve_tcp(nnrp_runtime *rt,
                            const nnrp_server_profile *profile,
                            const nnrp_server_config *cfg, nnrp_server **out);

/** The bound port (useful with port 0). */
NNRP_API uint16_t nnrp_server_port(const nnrp_server *srv);

/** Sessions (connections) currently open on the server, handshaking or
 *  not. */
NNRP_API uint32_t nnrp_server_session_count(const nnrp_server *srv);

/**
 * Seed accept_server_session: the next session whose handshake completed.
 * The application owns it from then on (nnrp_server_session_del()).
 * @return 0 with *out; NNRP_ERR_TIMEOUT; NNRP_ERR_CLOSED (server closing);
 *         NNRP_ERR_INVALID_STATE (waiting inside a callback, or on_session
 *         is set).
 */
NNRP_API int nnrp_accept_server_session(nnrp_server *srv, int timeout_ms,
                                        nnrp_server_session **out);

/**
 * Receive loop over every session of the server: the oldest undelivered
 * submit of any session (sub->session says which). A session reached this
 * way without being accepted is freed by the library once it is closed and
 * none of its submits is held any more; an accepted one is the
 * application's to free.
 * @return 0 with *out; NNRP_ERR_TIMEOUT; NNRP_ERR_INVALID_STATE.
 */
NNRP_API int nnrp_server_receive_submit(nnrp_server *srv, int timeout_ms,
                                        const nnrp_received_submit **out);

/** Stops listening and frees the server and every session on it (closed at
 *  once, no drain: clients see the connection end). Every handle of the
 *  server becomes invalid. May be called from callbacks (memory is released
 *  later by the loop). NULL is a no-op. */
NNRP_API void nnrp_server_close(nnrp_server *srv);

/**
 * Seed ServerSession.receive_submit: the oldest undelivered submit of this
 * session. Control traffic (PING, FLOW_UPDATE, CANCEL, ...) is handled by
 * the library meanwhile.
 * @return 0 with *out; NNRP_ERR_TIMEOUT; NNRP_ERR_CLOSED or the latched
 *         close error (e.g. NNRP_ERR_TRUNCATED, NNRP_ERR_CONNECTION_LOST)
 *         once the session is closed; NNRP_ERR_INVALID_STATE.
 */
NNRP_API int
nnrp_server_session_receive_submit(nnrp_server_session *ss, int timeout_ms,
                                   const nnrp_received_submit **out);

/**
 * Seed ServerSession.send_result: queues a RESULT_PUSH (every RESULT_PUSH
 * field via r->meta; class/flag derivation of session.md §7.7; r->final
 * sets EOS and ends the frame) and starts writing it. Payloads of r->body
 * are not copied: keep them valid until on_sent for the frame, or
 * nnrp_server_session_flush() returned 0, or the session is closed or
 * freed. Payloads that point into the frame's received submit need no care
 * (the copy lives until the result is written).
 * A final result releases the held submit (its views must not be used
 * after this call).
 * @return bytes queued (> 0); 0 if the frame already ended (cancelled,
 *         budget expired: no-op; the submit is released if final);
 *         NNRP_ERR_NOT_FOUND; NNRP_ERR_INCONSISTENT (§7.7 or builder rule;
 *         the submit stays held); NNRP_ERR_CLOSED (connection gone; the
 *         submit is released); NNRP_ERR_NOMEM.
 */
NNRP_API int64_t nnrp_server_session_send_result(nnrp_server_session *ss,
                                                 uint32_t frame_id,
                                                 const nnrp_result *r);

/** Seed send_result_drop: RESULT_DROP, ends the frame, releases its submit.
 *  @return 40; 0 if the frame already ended; NNRP_ERR_NOT_FOUND;
 *  NNRP_ERR_CLOSED. */
NNRP_API int64_t nnrp_server_session_send_result_drop(nnrp_server_session *ss,
                                                      uint32_t frame_id,
                                                      uint32_t flags);

/** Seed send_result_hint: RESULT_HINT (frame_id 0: session-wide).
 *  @return bytes queued; NNRP_ERR_CLOSED; NNRP_ERR_INVALID_STATE. */
NNRP_API int64_t nnrp_server_session_send_result_hint(
    nnrp_server_session *ss, uint32_t frame_id, const nnrp_result_hint *h);

/** Releases a held submit without answering (the application copied what
 *  it needs): the frame stays in flight and must still be answered by id.
 *  Undelivered submits can be released too. @return 0;
 *  NNRP_ERR_NOT_FOUND. */
NNRP_API int nnrp_server_session_release_submit(nnrp_server_session *ss,
                                                uint32_t frame_id);

/** As nnrp_client_session_flush(). */
NNRP_API int nnrp_server_session_flush(nnrp_server_session *ss, int timeout_ms);

/**
 * Seed ServerSession.close (drain): answers every frame the application
 * still holds with RESULT_DROP (their views become invalid), sends CLOSE
 * and closes the connection once the client answered, waiting up to
 * timeout_ms (0: start and return; at the end of the wait the connection
 * is cut). The handle stays valid until nnrp_server_session_del(); receive
 * calls then return NNRP_ERR_CLOSED.
 * @return 0 (closed); NNRP_ERR_TIMEOUT (closed, cut at the end of the
 *         wait); NNRP_ERR_WOULD_BLOCK (timeout_ms 0);
 *         NNRP_ERR_INVALID_STATE (waiting inside a callback).
 */
NNRP_API int nnrp_server_session_close(nnrp_server_session *ss, int timeout_ms);

/** Frees a session the application owns (accepted or given to on_session;
 *  also allowed for one only reached through nnrp_server_receive_submit),
 *  closing the connection at once if it is open; held submits are freed
 *  and their views become invalid. May be called from callbacks (memory is
 *  released later by the loop). NULL is a no-op. */
NNRP_API void nnrp_server_session_del(nnrp_server_session *ss);

NNRP_API nnrp_session_state
nnrp_server_session_state(const nnrp_server_session *ss);
NNRP_API uint32_t nnrp_server_session_id(const nnrp_server_session *ss);
/** The client's hello (NULL before the handshake). */
NNRP_API const nnrp_client_hello *
nnrp_server_session_client_hello(const nnrp_server_session *ss);
/** Frames accepted and not yet answered (nnrp_session_in_flight()). */
NNRP_API uint32_t nnrp_server_session_in_flight(const nnrp_server_session *ss);
/** As nnrp_client_session_last_error(). */
NNRP_API int nnrp_server_session_last_error(const nnrp_server_session *ss,
                                            nnrp_error_record *rec,
                                            int *os_err);
NNRP_API const nnrp_session *
nnrp_server_session_session(const nnrp_server_session *ss);
/** The server a session belongs to. */
NNRP_API nnrp_server *nnrp_server_session_server(const nnrp_server_session *ss);

/* ======================================================================== */
/* Server: flow control, overload, patch policy, cache (issue 4)            */
/* ======================================================================== */
/*
 * Seed ServerSession.send_flow_update and the server side of session.md
 * §8-§10. The cache and the patch are handled by the library (CACHE_PUT ->
 * CACHE_ACK, references resolved before a submit is delivered, misses
 * answered with ERROR CACHE_MISS + RESULT_DROP, SESSION_PATCH -> ACK); the
 * profile's enable_cache / max_cache_* / max_object_bytes configure it.
 * The events (FLOW_UPDATE, CANCELLED, PEER_ERROR, PATCH) reach on_event and
 * are counted in nnrp_server_flow_stats.
 *
 * Bounded queues under overload: a session holds at most max_held_submits
 * / max_held_bytes submits; at the bound the runtime stops reading that
 * connection (TCP backpressure) until the application answers or releases
 * a frame, so a client that keeps pushing is held back by TCP, not
 * buffered. Nothing is dropped by the runtime for that (a frame is answered
 * with RESULT_DROP only if its copy cannot be allocated); a server that
 * prefers explicit drops sets enforce_concurrency_limit in the profile
 * (RESULT_DROP + RESULT_HINT QUEUE_FULL over max_concurrent_frames, by the
 * session) and/or a credit window and automatic overload signalling.
 */

/** Seed send_flow_update: queues FLOW_UPDATE and starts writing it.
 *  @return bytes queued (72); the errors of
 *  nnrp_session_send_flow_update() (NNRP_ERR_CLOSED: the latched error). */
NNRP_API int64_t nnrp_server_session_send_flow_update(
    nnrp_server_session *ss, const nnrp_flow_update_req *req);

/** Credit policy of this session (nnrp_session_set_credit_policy()):
 *  window frames of SESSION credit, GRANT / REDUCE sent at once; 0 = off.
 *  @return bytes queued (0: nothing sent now); NNRP_ERR_CLOSED. */
NNRP_API int64_t nnrp_server_session_set_credit_policy(nnrp_server_session *ss,
                                                       uint16_t window);

/** The application's overload switch (nnrp_session_set_overloaded()): on =
 *  1 sends PAUSE (HARD, retry_after_ms if != 0), on = 0 RESUME. With
 *  auto_overload the session stays paused while either the application or
 *  the automatic rule says so. @return bytes queued; NNRP_ERR_CLOSED. */
NNRP_API int64_t nnrp_server_session_set_overloaded(nnrp_server_session *ss,
                                                    int on,
                                                    uint32_t retry_after_ms);

/** Installs (fn != NULL) or removes the patch policy of this session
 *  (nnrp_session_set_patch_policy(); the callback gets the sans-I/O
 *  session, nnrp_server_session_session(ss)). @return 0;
 *  NNRP_ERR_NOMEM. */
NNRP_API int nnrp_server_session_set_patch_policy(nnrp_server_session *ss,
                                                  nnrp_patch_policy_fn fn,
                                                  void *user);

/** Patch rate limit of this session (nnrp_session_set_patch_rate_limit()).
 *  @return 0; NNRP_ERR_INVALID_ARGUMENT; NNRP_ERR_NOMEM. */
NNRP_API int nnrp_server_session_set_patch_rate_limit(nnrp_server_session *ss,
                                                      uint32_t count,
                                                      uint32_t window_ms);

/** The patchable state in force on the server
 *  (nnrp_session_effective_profile()). */
NNRP_API int
nnrp_server_session_effective_profile(const nnrp_server_session *ss,
                                      nnrp_effective_profile *out);

/** The session cache's counters (nnrp_session_cache_stats()). */
NNRP_API int nnrp_server_session_cache_stats(const nnrp_server_session *ss,
                                             nnrp_cache_stats *out);

/** Server-side CACHE_INVALIDATE: removes from this session's cache and
 *  tells the client (nnrp_session_invalidate_cache()). */
NNRP_API int
nnrp_server_session_invalidate_cache(nnrp_server_session *ss,
                                     const nnrp_cache_invalidate_req *req);

/** One slot object of a received submit, inline or resolved from the cache
 *  (as nnrp_session_submit_object()); views live as the submit's.
 *  @return 0; NNRP_ERR_NOT_FOUND; NNRP_ERR_INVALID_ARGUMENT. */
NNRP_API int nnrp_received_submit_object(const nnrp_received_submit *sub,
                                         uint16_t object_kind, nnrp_bytes *out);

/** The tensor view of a received submit with resolved slots filled in (as
 *  nnrp_session_submit_tensor()); views live as the submit's. */
NNRP_API int nnrp_received_submit_tensor(const nnrp_received_submit *sub,
                                         nnrp_tensor_view *out);

/** Flow-control and memory counters of a server session. */
typedef struct nnrp_server_flow_stats {
  uint32_t struct_size;  /**< set by the call */
  uint32_t in_flight;    /**< unanswered submits (nnrp_session_in_flight) */
  uint32_t held_submits; /**< held copies now (answered ones included until
                              their result is written) */
  uint32_t held_peak;    /**< most held at once */
  uint64_t held_bytes;
  uint64_t held_bytes_peak;
  uint64_t session_mem_bytes; /**< memory the sans-I/O session holds now
                                   (queues, frame table, cache) */
  uint64_t session_mem_peak;
  uint64_t submits_received; /**< accepted FRAME_SUBMITs */
  uint64_t input_stalls;     /**< reads stopped at the held-submit bound */
  uint8_t overloaded;        /**< a PAUSE is in force (application or auto) */
  uint8_t auto_overloaded;
  uint8_t reserved[6];
  uint64_t pauses_sent; /**< overload PAUSEs sent (renewals included) */
  uint64_t resumes_sent;
  uint64_t flow_updates_received;
  uint64_t cancelled_frames; /**< NNRP_EV_CANCELLED */
  uint64_t peer_errors;      /**< NNRP_EV_PEER_ERROR */
  uint64_t patches;          /**< NNRP_EV_PATCH (patches evaluated) */
} nnrp_server_flow_stats;

/** Fills *out. @return 0; NNRP_ERR_INVALID_ARGUMENT. */
NNRP_API int nnrp_server_session_flow_stats(const nnrp_server_session *ss,
                                            nnrp_server_flow_stats *out);

#ifdef __cplusplus
}
#endif
#endif /* NNRP_RUNTIME_H */
