/* SPDX-License-Identifier: Apache-2.0 */
/*
 * raw_tcp.h - header-only raw-TCP baseline of bench/session.c: a minimal
 * echo server thread (blocking socket, reads in large chunks, answers every
 * complete request of req_len bytes with rep_len bytes in one gathered
 * write) and clients for a blocking ping-pong and for W outstanding
 * requests (non-blocking socket + poll). No framing beyond fixed sizes.
 */
#ifndef NNRP_BENCH_RAW_TCP_H
#define NNRP_BENCH_RAW_TCP_H

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#define RAW_IOV_BATCH 512

/* Writes every byte of iov[0..n) (blocking fd); adjusts iov. 0 or -1. */
static inline int raw_writev_full(int fd, struct iovec *iov, int n) {
  while (n > 0) {
    ssize_t w = writev(fd, iov, n);
    if (w < 0) {
      if (errno == EINTR)
        continue;
      return -1;
    }
    size_t left = (size_t)w;
    while (n > 0 && left >= iov->iov_len) {
      left -= iov->iov_len;
      iov++;
      n--;
    }
    if (n > 0) {
      iov->iov_base = (uint8_t *)iov->iov_base + left;
      iov->iov_len -= left;
    }
  }
  return 0;
}

static inline int raw_write_full(int fd, const uint8_t *p, size_t len) {
  struct iovec iov = {(void *)(uintptr_t)p, len};
  return raw_writev_full(fd, &iov, 1);
}

/* Reads exactly len bytes (blocking fd). 0, or -1 on error / EOF. */
static inline int raw_read_full(int fd, uint8_t *p, size_t len) {
  while (len > 0) {
    ssize_t r = read(fd, p, len);
    if (r < 0 && errno == EINTR)
      continue;
    if (r <= 0)
      return -1;
    p += r;
    len -= (size_t)r;
  }
  return 0;
}

static inline void raw_nodelay(int fd) {
  int one = 1;
  (void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
}

static inline int raw_set_nonblock(int fd, int on) {
  int fl = fcntl(fd, F_GETFL);
  if (fl < 0)
    return -1;
  fl = on ? (fl | O_NONBLOCK) : (fl & ~O_NONBLOCK);
  return fcntl(fd, F_SETFL, fl);
}

/* ---- the echo server ----------------------------------------------------- */

typedef struct raw_srv {
  pthread_t th;
  int lfd;
  int cpu; /* -1: not pinned */
  size_t req_len, rep_len;
  uint16_t port;
  uint64_t served;
  int (*pin)(int cpu); /* pins the calling thread */
} raw_srv;

/* Serves one connection until EOF. The buffer is compacted only when the
 * room left cannot take a whole request, so partial requests are rarely
 * moved; replies are written straight from the buffer (the last rep_len
 * bytes of each request), all complete ones in one writev. */
static inline void raw_serve(raw_srv *s, int fd, uint8_t *buf, size_t cap) {
  size_t off = 0, end = 0;
  struct iovec iov[RAW_IOV_BATCH];
  for (;;) {
    if (cap - end < s->req_len) {
      memmove(buf, buf + off, end - off);
      end -= off;
      off = 0;
    }
    ssize_t n = read(fd, buf + end, cap - end);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0)
      return;
    end += (size_t)n;
    int k = 0;
    while (end - off >= s->req_len) {
      iov[k].iov_base = buf + off + (s->req_len - s->rep_len);
      iov[k].iov_len = s->rep_len;
      off += s->req_len;
      s->served++;
      if (++k == RAW_IOV_BATCH) {
        if (raw_writev_full(fd, iov, k) != 0)
          return;
        k = 0;
      }
    }
    if (k > 0 && raw_writev_full(fd, iov, k) != 0)
      return;
    if (off == end)
      off = end = 0;
  }
}

static inline void *raw_srv_main(void *arg) {
  raw_srv *s = arg;
  if (s->cpu >= 0 && s->pin)
    (void)s->pin(s->cpu);
  int fd = accept(s->lfd, NULL, NULL);
  if (fd < 0)
    return NULL;
  raw_nodelay(fd);
  size_t cap = (size_t)4 << 20;
  if (cap < 4 * s->req_len)
    cap = 4 * s->req_len;
  uint8_t *buf = malloc(cap);
  if (buf != NULL)
    raw_serve(s, fd, buf, cap);
  free(buf);
  close(fd);
  return NULL;
}

/* Listens on 127.0.0.1 (ephemeral port) and starts the thread, which
 * accepts one connection. @return 0 or -1. */
static inline int raw_srv_start(raw_srv *s) {
  s->lfd = socket(AF_INET, SOCK_STREAM, 0);
  if (s->lfd < 0)
    return -1;
  struct sockaddr_in a;
  memset(&a, 0, sizeof(a));
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t alen = sizeof(a);
  if (bind(s->lfd, (struct sockaddr *)&a, sizeof(a)) != 0 ||
      listen(s->lfd, 4) != 0 ||
      getsockname(s->lfd, (struct sockaddr *)&a, &alen) != 0 ||
      pthread_create(&s->th, NULL, raw_srv_main, s) != 0) {
    close(s->lfd);
    return -1;
  }
  s->port = ntohs(a.sin_port);
  return 0;
}

/* After the client closed its connection. */
static inline void raw_srv_join(raw_srv *s) {
  (void)pthread_join(s->th, NULL);
  close(s->lfd);
}

static inline int raw_connect(uint16_t port) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0)
    return -1;
  struct sockaddr_in a;
  memset(&a, 0, sizeof(a));
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = htons(port);
  if (connect(fd, (struct sockaddr *)&a, sizeof(a)) != 0) {
    close(fd);
    return -1;
  }
  raw_nodelay(fd);
  return fd;
}

/* ---- the clients --------------------------------------------------------- */

/* One blocking round trip: req_len bytes out, rep_len bytes back. */
static inline int raw_round_trip(int fd, const uint8_t *req, size_t req_len,
                                 uint8_t *rep, size_t rep_len) {
  if (raw_write_full(fd, req, req_len) != 0)
    return -1;
  return raw_read_full(fd, rep, rep_len);
}

/* n requests with at most `window` outstanding on a non-blocking fd: the
 * requests the window allows go out in one writev (the same request bytes
 * each time), replies are read in large chunks and only counted.
 * @return 0 or -1. */
static inline int raw_pipeline(int fd, const uint8_t *req, size_t req_len,
                               size_t rep_len, uint32_t window, uint64_t n,
                               uint8_t *rbuf, size_t rcap) {
  uint64_t sent = 0, done = 0, rbytes = 0;
  size_t part = 0; /* bytes of request `sent` already written */
  struct iovec iov[RAW_IOV_BATCH];
  while (done < n) {
    int progress = 0;
    uint64_t lim = done + window < n ? done + window : n;
    if (sent < lim) {
      int k = 0;
      for (uint64_t i = sent; i < lim && k < RAW_IOV_BATCH; i++, k++) {
        size_t skip = i == sent ? part : 0;
        iov[k].iov_base = (void *)(uintptr_t)(req + skip);
        iov[k].iov_len = req_len - skip;
      }
      ssize_t w = writev(fd, iov, k);
      if (w < 0 && errno != EAGAIN && errno != EINTR)
        return -1;
      if (w > 0) {
        size_t total = part + (size_t)w;
        sent += total / req_len;
        part = total % req_len;
        progress = 1;
      }
    }
    ssize_t r = read(fd, rbuf, rcap);
    if (r == 0 || (r < 0 && errno != EAGAIN && errno != EINTR))
      return -1;
    if (r > 0) {
      rbytes += (uint64_t)r;
      done = rbytes / rep_len;
      progress = 1;
    }
    if (!progress) {
      struct pollfd p = {fd, (short)(POLLIN | (sent < lim ? POLLOUT : 0)), 0};
      if (poll(&p, 1, 10000) <= 0)
        return -1;
    }
  }
  return rbytes == n * rep_len ? 0 : -1;
}

#endif /* NNRP_BENCH_RAW_TCP_H */
