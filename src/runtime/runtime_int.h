/* SPDX-License-Identifier: Apache-2.0 */
/*
 * runtime_int.h - internals shared by the runtime modules:
 *
 *   loop.c       nnrp_runtime: the libuv loop, blocking waits, last error
 *   conn.c       one connection: session <-> transport glue (read buffer,
 *                backpressure, gathered writes, timer, close)
 *   pktcopy.c    the single receive-side copy of a packet (+ re-decode)
 *   router.c     client result router (session.md §7.9)
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
/* A seed for a session's xorshift when the caller gave no rand32 hook. */
uint64_t nnrp__rt_seed(const void *salt);

/* ---- one connection (conn.c) ------------------------------------------- */

#define NNRP__RBUF_SIZE ((size_t)64 * 1024)

typedef struct nnrp__conn nnrp__conn;

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
  uint8_t *rbuf;       /* NNRP__RBUF_SIZE bytes */
  size_t rpos, rend;   /* unconsumed input: rbuf[rpos..rend) */
  size_t wbytes;       /* bytes of the outstanding write */
  uint8_t writing, paused, feeding, pumping, repump;
  uint8_t eof, t_failed, t_closing, timer_open, closed, linger;
  int os_err;            /* first system error of the transport */
  uint64_t input_stalls; /* reads stopped because the owner was full */
  nnrp_iov wiov[NNRP_TRANSPORT_MAX_IOV];
};

/* Initialises c around an existing session (c->s owned from now on). The
 * read buffer is allocated here. @return 0 or NNRP_ERR_NOMEM. */
int nnrp__conn_init(nnrp__conn *c, nnrp_runtime *rt, const nnrp__conn_ops *ops,
                    nnrp_session *s, uint64_t max_output);
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
/* Frees the session and the read buffer (after on_closed). */
void nnrp__conn_fini(nnrp__conn *c);
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

#endif /* NNRP_RUNTIME_INT_H */
