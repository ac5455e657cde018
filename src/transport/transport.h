/* SPDX-License-Identifier: Apache-2.0 */
/*
 * transport.h - the byte-stream transport interface of the runtime (STYLE
 * "Transports are a small interface with no protocol knowledge"): start and
 * stop reading into a buffer the owner supplies, one gathered write at a
 * time, graceful or immediate close, with callbacks for bytes, EOF, errors,
 * write completion and close. TCP (tcp.c) implements it today; TLS and QUIC
 * streams are meant to fit the same vtable.
 */
#ifndef NNRP_TRANSPORT_H
#define NNRP_TRANSPORT_H

#include <stddef.h>
#include <stdint.h>

#include <nnrp/nnrp_wire.h>

typedef struct nnrp_transport nnrp_transport;

/** Most segments one write_iov() call takes. */
#define NNRP_TRANSPORT_MAX_IOV 128u

/** Callbacks into the owner. After close() only on_closed is called. */
typedef struct nnrp_transport_cb {
  /** Where the next received bytes go: *buf with room for *cap bytes
   *  (cap 0: no room; the transport stops reading). */
  void (*read_buffer)(void *owner, uint8_t **buf, size_t *cap);
  /** n > 0 bytes were stored at the start of the last buffer handed out. */
  void (*on_read)(void *owner, size_t n);
  /** The peer ended its byte stream. */
  void (*on_eof)(void *owner);
  /** The transport failed (reset, read error); os_err is the system error
   *  (negative errno). No more reads or writes will succeed. */
  void (*on_error)(void *owner, int os_err);
  /** The write started by write_iov() finished: 0, or a negative system
   *  error (then every byte of it counts as unwritten). */
  void (*on_written)(void *owner, int os_err);
  /** The transport is closed and freed; nothing else follows. */
  void (*on_closed)(void *owner);
} nnrp_transport_cb;

typedef struct nnrp_transport_vt {
  const char *name;      /**< "tcp" */
  uint32_t transport_id; /**< nnrp_transport_id of the binding */
  /** Starts (or resumes) delivering bytes. @return 0 or a system error. */
  int (*start_read)(nnrp_transport *t);
  /** Stops delivering bytes (backpressure). @return 0 or a system error. */
  int (*stop_read)(nnrp_transport *t);
  /** Writes n <= NNRP_TRANSPORT_MAX_IOV segments; at most one write is
   *  outstanding. A transport may complete the write inside the call (every
   *  byte taken by the kernel): it returns 1 and no on_written follows.
   *  Otherwise the bytes must stay valid until on_written; the segment
   *  array itself may be reused at once.
   *  @return 1 (written, no callback); 0 (started, on_written follows); or
   *  a system error (no callback). */
  int (*write_iov)(nnrp_transport *t, const nnrp_iov *iov, size_t n);
  /** Closes. graceful = 1: end the byte stream (FIN) first; only when no
   *  write is outstanding. on_closed follows asynchronously. */
  void (*close)(nnrp_transport *t, int graceful);
} nnrp_transport_vt;

/** Every transport starts with this. */
struct nnrp_transport {
  const nnrp_transport_vt *vt;
  const nnrp_transport_cb *cb;
  void *owner;
};

/** Binds a transport to its owner (before start_read). */
static inline void nnrp__transport_bind(nnrp_transport *t,
                                        const nnrp_transport_cb *cb,
                                        void *owner) {
  t->cb = cb;
  t->owner = owner;
}

#endif /* NNRP_TRANSPORT_H */
