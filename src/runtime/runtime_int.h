/* SPDX-License-Identifier: Apache-2.0 */
/*
 * runtime_int.h - internals shared by the runtime modules:
 *
 *   loop.c       nnrp_runtime: the libuv loop, blocking waits, last error
 *   conn.c       one connection: session <-> transport glue (read buffer,
 *                backpressure, gathered writes, timer, close)
 *   inframe.c    packet boundaries of the input (large packets read whole)
 *   pktcopy.c    the single receive-side copy of a packet (+ re-decode)
 *   router.c     client result router (session.md §7.9)
 *   bpool.c      size-class free lists for per-packet records
 *   client.c     the client API of nnrp_runtime.h
 *   held.c       server: held submits and their buffer pool
 *   server.c     server: listener, accept queue, server-wide receive
 *   server_session.c  server: per-session API
 *   memcount.c   a counting allocator for the sessions (memory stats)
 *   client_flow.c, client_cache.c, client_patch.c  client: flow control,
 *                result hints, cache puts and patches (issue 4)
 *   server_flow.c, server_ext.c  server: flow control, automatic
 *                overload signalling, stats, patch policy, submit objects
 *
 * Dependencies point one way: runtime -> transport -> session -> wire.
 */
#ifndef NNRP_RUNTIME_INT_H
#define NNRP_RUNTIME_INT_H

#include <stddef.h>

#include <uv.h>

#include <nnrp/nnrp_runtime.h>

#include "runtime/bpool.h"
#include "transport/tcp.h"
#include "transport/transport.h"

/* ---- intrusive doubly linked lists ------------------------------------- */

typedef struct nnrp__link {
  struct nnrp__link *prev, *next;
} nnrp__link;

#define NNRP__CONTAINER(ptr, type, member)                                     \
  ((type *)(void *)((char *)(ptr)-offsetof(type, member)))

static inline void nnrp__list_init(nnrp__link *l) { l->prev = l->next = l; }
static inline int nnrp__list_empty(const nnrp__link *l) { return l->next == l; }
/* A detached element is self-linked (after init or remove). */
static inline int nnrp__list_linked(const nnrp__link *e) {
  return e->next != e;
}
static inline void nnrp__list_push(nnrp__link *head, nnrp__link *e) {
  e->prev = head->prev;
  e->next = head;
  head->prev->next = e;
  head->prev = e;
}
static inline void nnrp__list_remove(nnrp__link *e) {
  e->prev->next = e->next;
  e->next->prev = e->prev;
  e->prev = e->next = e;
}

/* ---- the runtime (loop.c) ---------------------------------------------- */

#define NNRP__DIAG_MAX 256u

struct nnrp_runtime {
  uv_loop_t own;
  uv_loop_t *loop;
  uint8_t owns_loop;
  uint8_t stop;
  uint8_t closing; /* nnrp_runtime_del() in progress */
  int depth;       /* > 0: inside a libuv callback of the runtime */
  int running;     /* > 0: inside uv_run() started by the runtime */
  uv_timer_t wait_timer;
  nnrp__link clients; /* nnrp_client_session.node */
  nnrp__link servers; /* nnrp_server.node */
  uint32_t live;      /* objects not yet freed (sessions, servers) */
  /* The read buffer shared by every connection of the runtime (conn.c):
   * libuv reads one connection at a time and each read is fed to its
   * session before the callback returns; a tail the session cannot take
   * yet moves to that connection's spill buffer. */
  uint8_t *rbuf; /* NNRP__RBUF_SIZE bytes */
  /* Connections whose write completed inside write_iov, to be reported in
   * the next loop iteration (nnrp__conn.wq, conn.c). The idle handle runs
   * while the list is not empty, which also makes the loop's poll timeout
   * 0 (nnrp_runtime_backend_timeout() says so too). */
  nnrp__link wq;
  uv_idle_t flush;
  uint8_t flush_active;
  /* Client frame records and result blocks (router.c), recycled. */
  nnrp__bpool rpool;
  /* Results the application holds (nnrp__rres.arrival). */
  nnrp__link results;
  /* Last failure of a call that returned no handle. */
  int last_err;
  int last_os_err;
  nnrp_error_record last_rec;
  char last_diag[NNRP__DIAG_MAX];
};

/* Every libuv callback that may reach application code runs between these
 * (blocking calls are refused inside). */
static inline void nnrp__rt_enter(nnrp_runtime *rt) { rt->depth++; }
static inline void nnrp__rt_leave(nnrp_runtime *rt) { rt->depth--; }
static inline int nnrp__rt_in_loop(const nnrp_runtime *rt) {
  return rt->depth > 0 || rt->running > 0;
}

/* Runs the loop until done(ctx) is non-zero or timeout_ms passes (-1:
 * forever; 0: one non-blocking iteration outside callbacks, none inside).
 * @return 0; NNRP_ERR_TIMEOUT; NNRP_ERR_INVALID_STATE (waiting inside a
 * callback); NNRP_ERR_CLOSED (the loop has nothing left that could make
 * done true). */
int nnrp__rt_wait(nnrp_runtime *rt, int (*done)(void *ctx), void *ctx,
                  int timeout_ms);
/* The objects on rt->clients / rt->servers (client.c, server.c). Deleting
 * or closing them unlinks them at once. */
nnrp_client_session *nnrp__client_of(nnrp__link *node);
nnrp_server *nnrp__server_of(nnrp__link *node);
/* Records the failure of a call that returns no handle. */
void nnrp__rt_set_error(nnrp_runtime *rt, int err, int os_err,
                        const nnrp_error_record *rec);
/* Copies rec into dst with its diagnostic into diag (NNRP__DIAG_MAX). */
void nnrp__copy_record(nnrp_error_record *dst, char *diag,
                       const nnrp_error_record *rec);
/* The runtime is going: results the application still holds are unlinked
 * from its pool (nnrp_client_result_free() then uses free()) (router.c). */
void nnrp__rt_results_detach(nnrp_runtime *rt);
/* A seed for a session's xorshift when the caller gave no rand32 hook. */
uint64_t nnrp__rt_seed(const void *salt);

/* ---- one connection (conn.c) ------------------------------------------- */

/* The runtime's shared read buffer (one per runtime, not per connection). */
#define NNRP__RBUF_SIZE ((size_t)256 * 1024)

typedef struct nnrp__conn nnrp__conn;

/* Packet boundaries of a connection's input (inframe.c). */
typedef struct nnrp__inframe {
  uint64_t skip;     /* bytes left of the current packet */
  uint64_t big_min;  /* packets of at least this size ... */
  uint64_t big_max;  /* ... and at most this size are read whole */
  uint32_t body_max; /* ... with a body the session accepts */
  uint8_t hdr[NNRP_HEADER_LEN]; /* a header cut by the end of a read */
  uint8_t hdr_n;
  uint8_t broken; /* not NNRP: tracking stopped */
} nnrp__inframe;

void nnrp__inframe_init(nnrp__inframe *f, uint64_t big_min, uint64_t big_max,
                        uint32_t body_max);
/* Follows the stream over the next n bytes p[0..n). @return n, or the
 * offset in p of a packet that the read cuts and that should be read whole
 * (*big_len = its size, > n - offset; the tracking resumes after it); then
 * the caller either reads it whole or calls nnrp__inframe_decline(). */
size_t nnrp__inframe_scan(nnrp__inframe *f, const uint8_t *p, size_t n,
                          uint64_t *big_len);
/* The packet reported by the scan is read normally; `have` of its bytes
 * were in the scanned read. */
void nnrp__inframe_decline(nnrp__inframe *f, uint64_t big_len, size_t have);

typedef struct nnrp__conn_ops {
  /* One session event; borrowed views are valid during the call only. */
  void (*on_event)(nnrp__conn *c, const nnrp_event *ev);
  /* Non-zero while the owner's queues are full (input is paused). */
  int (*input_blocked)(const nnrp__conn *c);
  /* Transport and timer are closed: no I/O or callback follows. */
  void (*on_closed)(nnrp__conn *c);
  /* Optional (NULL): after the events of a pump pass were delivered and
   * before output is written; may queue output (it goes out in the same
   * pass). Runs after every call into the session. */
  void (*on_pumped)(nnrp__conn *c);
} nnrp__conn_ops;

struct nnrp__conn {
  nnrp_runtime *rt;
  const nnrp__conn_ops *ops;
  nnrp_session *s;
  nnrp_transport *t;
  uv_timer_t timer;
  uint64_t max_output; /* settings.max_output_bytes */
  /* Input being fed: in[rpos..rend). `in` is the runtime's read buffer
   * during a read callback, else `spill` (a tail the session could not
   * take yet: input is paused then), else NULL. */
  const uint8_t *in;
  size_t rpos, rend;
  uint8_t *spill;       /* rt->rpool block; only while input is pending */
  size_t spill_cap;
  uint8_t spill_whole;  /* spill is exactly one packet read whole */
  /* A large packet being read whole (inframe.c): big[0..big_fill) of
   * big_len bytes; reads go straight into it. */
  nnrp__inframe fr;
  uint8_t *big; /* rt->rpool block of big_cap bytes, or NULL */
  size_t big_len, big_fill, big_cap;
  uint64_t timer_due;   /* session expiry the timer is armed for, or
                           UINT64_MAX (not armed) */
  size_t wbytes;        /* bytes of the outstanding write */
  uint8_t writing, paused, feeding, pumping, repump;
  uint8_t wcomplete; /* the write completed inside write_iov: reported by
                        the flush hook (rt->wq) */
  nnrp__link wq;     /* rt->wq */
  uint8_t eof, t_failed, t_closing, timer_open, closed, linger;
  int os_err;            /* first system error of the transport */
  uint64_t input_stalls; /* reads stopped because the owner was full */
};

/* Initialises c around an existing session (c->s owned from now on)
 * created with settings *st. @return 0 or NNRP_ERR_INTERNAL (timer). */
int nnrp__conn_init(nnrp__conn *c, nnrp_runtime *rt, const nnrp__conn_ops *ops,
                    nnrp_session *s, const nnrp_session_settings *st);
/* Binds a connected transport and starts reading and writing. */
void nnrp__conn_attach(nnrp__conn *c, nnrp_transport *t);
/* After the owner called into the session: deliver events, write, re-arm
 * the timer, close the transport when the session is done. */
void nnrp__conn_pump(nnrp__conn *c);
/* The owner freed queue space: feed buffered input, resume reading. */
void nnrp__conn_resume(nnrp__conn *c);
/* Closes transport and timer now (no flush); ops->on_closed follows. */
void nnrp__conn_abort(nnrp__conn *c);
/* 1 while the transport may still write queued output. */
int nnrp__conn_can_write(const nnrp__conn *c);
/* 1 while a write is outstanding or output is queued. */
int nnrp__conn_output_pending(const nnrp__conn *c);
/* During the event of a packet the connection read whole (a large
 * FRAME_SUBMIT or RESULT_PUSH whose views point into that buffer): hands
 * the buffer over (an rt->rpool block of *cap bytes, to be returned there)
 * so the packet need not be copied. @return the buffer (p's bytes start at
 * its first byte), or NULL: copy the packet. */
uint8_t *nnrp__conn_adopt(nnrp__conn *c, const nnrp_packet *p, size_t *cap);
/* Frees the session and any pending input (after on_closed). */
void nnrp__conn_fini(nnrp__conn *c);
/* The runtime's flush hook (idle callback), once per loop iteration while
 * rt->wq is not empty: reports the writes completed inside write_iov. */
void nnrp__rt_flush(nnrp_runtime *rt);
void nnrp__rt_flush_cb(uv_idle_t *h);
/* Runs the session's timers now if they are due (the loop timer may not
 * have fired yet: it has ms granularity) and pumps. Lets a caller re-check
 * a condition that a timer ends, e.g. a pause with retry_after. */
void nnrp__conn_refresh(nnrp__conn *c);

/* ---- counting allocator for sessions (memcount.c) ---------------------- */

/* Bytes a session holds through its nnrp_mem (headers included), and the
 * most it ever held. Lives in the object that owns the session. */
typedef struct nnrp__memcount {
  uint64_t used;
  uint64_t peak;
} nnrp__memcount;

/* An nnrp_mem over libc that counts into *mc. */
void nnrp__memcount_init(nnrp__memcount *mc, nnrp_mem *mem);

/* ---- the single receive copy (pktcopy.c) ------------------------------- */

/* Bytes a copy of *p needs. */
size_t nnrp__pkt_size(const nnrp_packet *p);
/* Copies *p into dst (nnrp__pkt_size bytes) and decodes the copy into *out,
 * whose views then point into dst. wire_flags: NNRP_WIRE_LENIENT or 0.
 * @return 0 or the decoder's error (not expected: the session already
 * accepted the packet). */
int nnrp__pkt_copy(nnrp_packet *out, uint8_t *dst, const nnrp_packet *p,
                   uint32_t wire_flags);
/* As nnrp__pkt_copy() for a packet whose bytes already are in buf (the
 * buffer given by nnrp__conn_adopt()): decodes in place, copies nothing. */
int nnrp__pkt_adopt(nnrp_packet *out, const uint8_t *buf, const nnrp_packet *p,
                    uint32_t wire_flags);

#endif /* NNRP_RUNTIME_INT_H */
