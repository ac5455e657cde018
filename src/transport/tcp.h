/* SPDX-License-Identifier: Apache-2.0 */
/*
 * tcp.h - the TCP transport on libuv (session.md §2.1): connected streams
 * behind the nnrp_transport interface (tcp.c), dialing with name
 * resolution and a connect timeout (tcp_dial.c), and listening with accept
 * (tcp_listen.c). Internal: libuv types appear here, never in include/.
 */
#ifndef NNRP_TCP_H
#define NNRP_TCP_H

#include <uv.h>

#include "transport/transport.h"

/** A TCP stream; the transport base comes first. */
typedef struct nnrp__tcp {
  nnrp_transport base;
  uv_tcp_t h;
  uv_write_t wreq;
  uv_shutdown_t sreq;
  uint8_t closing; /* close() called: no callback but on_closed */
  uint8_t writing; /* a write_iov() is outstanding */
  uint8_t reading;
  uint8_t inited;                  /* h is initialised (needs uv_close) */
  void (*discard_done)(void *arg); /* nnrp__tcp_discard() */
  void *discard_arg;
} nnrp__tcp;

/** Allocates an nnrp__tcp with an initialised handle on loop.
 *  @return NULL on allocation or init failure (*os_err set). */
nnrp__tcp *nnrp__tcp_new(uv_loop_t *loop, int *os_err);
/** Closes and frees an nnrp__tcp that never became a bound transport
 *  (failed connect, refused accept). done(arg) runs once it is freed; may
 *  be NULL. */
void nnrp__tcp_discard(nnrp__tcp *t, void (*done)(void *arg), void *arg);
/** Applies TCP_NODELAY when on is 1 (failures are ignored: a hint). */
void nnrp__tcp_nodelay(nnrp__tcp *t, int on);

/* ---- dialing (tcp_dial.c) ---------------------------------------------- */

typedef struct nnrp__dial nnrp__dial;

/** Outcome of a dial, called exactly once when every resource of the dial
 *  except the returned transport is released: t != NULL on success (owner
 *  binds it); else err is NNRP_ERR_TIMEOUT, NNRP_ERR_CONNECTION_LOST (with
 *  os_err) or NNRP_ERR_CLOSED (cancelled). */
typedef void (*nnrp__dial_cb)(void *owner, nnrp_transport *t, int err,
                              int os_err);

/** Resolves host (name or literal) and connects to the first address that
 *  accepts, within timeout_ms (0: no timeout). @return 0 (cb follows) or a
 *  negative system error (no callback). */
int nnrp__tcp_dial(uv_loop_t *loop, const char *host, uint16_t port,
                   uint32_t timeout_ms, int no_delay, nnrp__dial_cb cb,
                   void *owner, nnrp__dial **out);
/** Aborts a dial; cb follows with NNRP_ERR_CLOSED (or a transport that was
 *  already connected, which the owner then closes). */
void nnrp__tcp_dial_cancel(nnrp__dial *d);

/* ---- listening (tcp_listen.c) ------------------------------------------- */

typedef struct nnrp__listener nnrp__listener;

/** A new connection: an unbound transport the owner must bind or close. */
typedef void (*nnrp__accept_cb)(void *owner, nnrp_transport *t);

/** Binds host:port (host NULL: 0.0.0.0; names resolved synchronously) and
 *  listens. @return 0 or a negative system error. */
int nnrp__tcp_listen(uv_loop_t *loop, const char *host, uint16_t port,
                     int backlog, int no_delay, nnrp__accept_cb cb, void *owner,
                     nnrp__listener **out);
/** The bound port. */
uint16_t nnrp__tcp_listener_port(const nnrp__listener *l);
/** Stops listening and frees; done(arg) runs once freed (may be NULL). */
void nnrp__tcp_listener_close(nnrp__listener *l, void (*done)(void *arg),
                              void *arg);

#endif /* NNRP_TCP_H */
