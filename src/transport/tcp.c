/* SPDX-License-Identifier: Apache-2.0 */
/*
 * tcp.c - a connected TCP stream behind the nnrp_transport vtable
 * (transport.h): reads into the owner's buffer, gathered writes straight
 * from the owner's iovecs (no payload copy; only the segment descriptors
 * are converted to uv_buf_t): uv_try_write first, completing at once when
 * the kernel took everything, uv_write for the rest; FIN-then-close or
 * immediate close. session.md §2.1.
 */
#include <stdlib.h>

#include "transport/tcp.h"

static nnrp__tcp *tcp_of(nnrp_transport *b) { return (nnrp__tcp *)(void *)b; }

/* ---- reading ----------------------------------------------------------- */

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf) {
  (void)suggested;
  nnrp__tcp *t = h->data;
  uint8_t *p = NULL;
  size_t cap = 0;
  if (!t->closing && t->base.cb)
    t->base.cb->read_buffer(t->base.owner, &p, &cap);
  buf->base = (char *)p;
  buf->len = cap;
}

static void on_read(uv_stream_t *s, ssize_t n, const uv_buf_t *buf) {
  (void)buf;
  nnrp__tcp *t = s->data;
  if (t->closing || n == 0)
    return;
  if (n > 0) {
    t->base.cb->on_read(t->base.owner, (size_t)n);
    return;
  }
  (void)uv_read_stop(s);
  t->reading = 0;
  if (n == UV_ENOBUFS)
    return; /* the owner had no room; it starts reading again later */
  if (n == UV_EOF)
    t->base.cb->on_eof(t->base.owner);
  else
    t->base.cb->on_error(t->base.owner, (int)n);
}

static int tcp_start_read(nnrp_transport *b) {
  nnrp__tcp *t = tcp_of(b);
  if (t->closing)
    return UV_EINVAL;
  if (t->reading)
    return 0;
  int rc = uv_read_start((uv_stream_t *)&t->h, on_alloc, on_read);
  if (rc == 0)
    t->reading = 1;
  return rc;
}

static int tcp_stop_read(nnrp_transport *b) {
  nnrp__tcp *t = tcp_of(b);
  if (!t->reading)
    return 0;
  t->reading = 0;
  return uv_read_stop((uv_stream_t *)&t->h);
}

/* ---- writing ----------------------------------------------------------- */

static void on_write(uv_write_t *req, int status) {
  nnrp__tcp *t = req->data;
  t->writing = 0;
  if (t->closing)
    return;
  t->base.cb->on_written(t->base.owner, status);
}

/* Drops the first `done` bytes from bufs[0..n); returns the index of the
 * first segment with bytes left (n: none). */
static size_t advance(uv_buf_t *bufs, size_t n, size_t done) {
  size_t i = 0;
  while (i < n && done >= bufs[i].len) {
    done -= bufs[i].len;
    i++;
  }
  if (i < n) {
    bufs[i].base += done;
    bufs[i].len -= done;
  }
  return i;
}

static int tcp_write_iov(nnrp_transport *b, const nnrp_iov *iov, size_t n) {
  nnrp__tcp *t = tcp_of(b);
  if (t->closing || t->writing || n == 0 || n > NNRP_TRANSPORT_MAX_IOV)
    return UV_EINVAL;
  /* nnrp_iov is {const void *, size_t}; uv_buf_t on Unix is {char *, size_t}
   * (field order differs between platforms): convert the descriptors, never
   * the bytes. uv_write copies this array, so it may live on the stack. */
  uv_buf_t bufs[NNRP_TRANSPORT_MAX_IOV];
  size_t i = 0;
  do { /* n >= 1 (a loop that may run 0 times trips gcc's
          -Wmaybe-uninitialized on the const argument below) */
    bufs[i].base = (char *)(uintptr_t)iov[i].base;
    bufs[i].len = iov[i].len;
  } while (++i < n);
  /* Try the socket first: when the kernel takes everything, the write is
   * done now, and no completion has to wait for the next loop iteration
   * (with libuv that costs an epoll_ctl and an extra epoll_wait per write).
   * The remainder, or everything after EAGAIN or an error, goes to
   * uv_write, which reports errors through on_written as before. */
  size_t first = 0;
  int w = uv_try_write((uv_stream_t *)&t->h, bufs, (unsigned)n);
  if (w > 0) {
    first = advance(bufs, n, (size_t)w);
    if (first == n)
      return 1;
  }
  int rc = uv_write(&t->wreq, (uv_stream_t *)&t->h, bufs + first,
                    (unsigned)(n - first), on_write);
  if (rc == 0)
    t->writing = 1;
  return rc;
}

/* ---- closing ----------------------------------------------------------- */

static void on_close(uv_handle_t *h) {
  nnrp__tcp *t = h->data;
  const nnrp_transport_cb *cb = t->base.cb;
  void *owner = t->base.owner;
  void (*done)(void *) = t->discard_done;
  void *arg = t->discard_arg;
  free(t);
  if (done)
    done(arg);
  else if (cb && cb->on_closed)
    cb->on_closed(owner);
}

static void on_shutdown(uv_shutdown_t *req, int status) {
  (void)status;
  nnrp__tcp *t = req->data;
  uv_close((uv_handle_t *)&t->h, on_close);
}

static void tcp_close(nnrp_transport *b, int graceful) {
  nnrp__tcp *t = tcp_of(b);
  if (t->closing)
    return;
  t->closing = 1;
  if (t->reading) {
    (void)uv_read_stop((uv_stream_t *)&t->h);
    t->reading = 0;
  }
  if (graceful && !t->writing &&
      uv_shutdown(&t->sreq, (uv_stream_t *)&t->h, on_shutdown) == 0)
    return;
  uv_close((uv_handle_t *)&t->h, on_close);
}

static const nnrp_transport_vt tcp_vt = {
    "tcp",          2 /* NNRP_TRANSPORT_TCP */,
    tcp_start_read, tcp_stop_read,
    tcp_write_iov,  tcp_close};

nnrp__tcp *nnrp__tcp_new(uv_loop_t *loop, int *os_err) {
  nnrp__tcp *t = calloc(1, sizeof(*t));
  if (t == NULL) {
    *os_err = UV_ENOMEM;
    return NULL;
  }
  int rc = uv_tcp_init(loop, &t->h);
  if (rc != 0) {
    free(t);
    *os_err = rc;
    return NULL;
  }
  t->inited = 1;
  t->h.data = t;
  t->wreq.data = t;
  t->sreq.data = t;
  t->base.vt = &tcp_vt;
  return t;
}

void nnrp__tcp_discard(nnrp__tcp *t, void (*done)(void *arg), void *arg) {
  t->base.cb = NULL;
  t->discard_done = done;
  t->discard_arg = arg;
  t->closing = 1;
  uv_close((uv_handle_t *)&t->h, on_close);
}

void nnrp__tcp_nodelay(nnrp__tcp *t, int on) {
  if (on)
    (void)uv_tcp_nodelay(&t->h, 1);
}
