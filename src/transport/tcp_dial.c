/* SPDX-License-Identifier: Apache-2.0 */
/*
 * tcp_dial.c - client side of the TCP transport: resolve a host name or
 * address literal, try each address in turn, enforce the connect timeout
 * (session.md §2.1 rule 8, default 5 s), set TCP_NODELAY (rule 3). The
 * outcome is reported once, after the dial released everything it held.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <nnrp/nnrp_error.h>

#include "transport/tcp.h"

struct nnrp__dial {
  uv_loop_t *loop;
  nnrp__dial_cb cb;
  void *owner;
  int no_delay;
  /* Name resolution. */
  uv_getaddrinfo_t gai;
  struct addrinfo *res, *cur;
  uint8_t gai_pending;
  /* Connect attempt. */
  uv_connect_t creq;
  nnrp__tcp *tcp;
  uint8_t connecting;
  uint32_t discards; /* nnrp__tcp_discard() calls not yet finished */
  /* Timeout. */
  uv_timer_t timer;
  uint8_t timer_open;
  /* Outcome. */
  uint8_t finished;
  int err, os_err;
  nnrp_transport *t;
};

static void deliver_if_idle(nnrp__dial *d) {
  if (!d->finished || d->gai_pending || d->connecting || d->discards ||
      d->timer_open)
    return;
  if (d->res)
    uv_freeaddrinfo(d->res);
  nnrp__dial_cb cb = d->cb;
  void *owner = d->owner;
  nnrp_transport *t = d->t;
  int err = d->err, os_err = d->os_err;
  free(d);
  cb(owner, t, err, os_err);
}

static void on_discarded(void *arg) {
  nnrp__dial *d = arg;
  d->discards--;
  deliver_if_idle(d);
}

static void on_timer_closed(uv_handle_t *h) {
  nnrp__dial *d = h->data;
  d->timer_open = 0;
  deliver_if_idle(d);
}

static void finish(nnrp__dial *d, nnrp_transport *t, int err, int os_err) {
  if (d->finished)
    return;
  d->finished = 1;
  d->t = t;
  d->err = err;
  d->os_err = os_err;
  if (d->timer_open)
    uv_close((uv_handle_t *)&d->timer, on_timer_closed);
  if (d->gai_pending)
    (void)uv_cancel((uv_req_t *)&d->gai); /* may fail if already running */
  if (d->connecting) {
    /* on_connect sees UV_ECANCELED and ignores it. */
    d->discards++;
    nnrp__tcp_discard(d->tcp, on_discarded, d);
    d->tcp = NULL;
  }
  deliver_if_idle(d);
}

static void try_next(nnrp__dial *d, int last_err);

static void on_connect(uv_connect_t *req, int status) {
  nnrp__dial *d = req->data;
  d->connecting = 0;
  if (d->finished) {
    deliver_if_idle(d); /* the handle is being discarded */
    return;
  }
  nnrp__tcp *tcp = d->tcp;
  d->tcp = NULL;
  if (status == 0) {
    nnrp__tcp_nodelay(tcp, d->no_delay);
    finish(d, &tcp->base, 0, 0);
    return;
  }
  d->discards++;
  nnrp__tcp_discard(tcp, on_discarded, d);
  if (d->cur)
    d->cur = d->cur->ai_next;
  try_next(d, status);
}

static int connect_to(nnrp__dial *d, const struct sockaddr *sa) {
  int os_err = 0;
  nnrp__tcp *tcp = nnrp__tcp_new(d->loop, &os_err);
  if (tcp == NULL)
    return os_err;
  d->creq.data = d;
  int rc = uv_tcp_connect(&d->creq, &tcp->h, sa, on_connect);
  if (rc != 0) {
    d->discards++;
    nnrp__tcp_discard(tcp, on_discarded, d);
    return rc;
  }
  d->tcp = tcp;
  d->connecting = 1;
  return 0;
}

/* Tries d->cur and the addresses after it. */
static void try_next(nnrp__dial *d, int last_err) {
  while (d->cur) {
    int rc = connect_to(d, d->cur->ai_addr);
    if (rc == 0)
      return;
    last_err = rc;
    d->cur = d->cur->ai_next;
  }
  finish(d, NULL, NNRP_ERR_CONNECTION_LOST,
         last_err ? last_err : UV_EAI_NONAME);
}

static void on_resolved(uv_getaddrinfo_t *req, int status,
                        struct addrinfo *res) {
  nnrp__dial *d = req->data;
  d->gai_pending = 0;
  d->res = res;
  if (d->finished) {
    deliver_if_idle(d);
    return;
  }
  if (status != 0) {
    finish(d, NULL, NNRP_ERR_CONNECTION_LOST, status);
    return;
  }
  d->cur = res;
  try_next(d, 0);
}

static void on_timeout(uv_timer_t *timer) {
  nnrp__dial *d = timer->data;
  finish(d, NULL, NNRP_ERR_TIMEOUT, UV_ETIMEDOUT);
}

/* Address literal: no resolver round trip. */
static int literal(const char *host, uint16_t port,
                   struct sockaddr_storage *ss) {
  memset(ss, 0, sizeof(*ss));
  if (uv_ip4_addr(host, port, (struct sockaddr_in *)(void *)ss) == 0)
    return 1;
  if (uv_ip6_addr(host, port, (struct sockaddr_in6 *)(void *)ss) == 0)
    return 1;
  return 0;
}

int nnrp__tcp_dial(uv_loop_t *loop, const char *host, uint16_t port,
                   uint32_t timeout_ms, int no_delay, nnrp__dial_cb cb,
                   void *owner, nnrp__dial **out) {
  nnrp__dial *d = calloc(1, sizeof(*d));
  if (d == NULL)
    return UV_ENOMEM;
  d->loop = loop;
  d->cb = cb;
  d->owner = owner;
  d->no_delay = no_delay;
  struct sockaddr_storage ss;
  int rc;
  if (literal(host, port, &ss)) {
    rc = connect_to(d, (const struct sockaddr *)&ss);
  } else {
    char port_str[8];
    snprintf(port_str, sizeof(port_str), "%u", (unsigned)port);
    struct addrinfo hints;
    memset(&hints, 0, sizeof(hints));
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_protocol = IPPROTO_TCP;
    d->gai.data = d;
    rc = uv_getaddrinfo(loop, &d->gai, on_resolved, host, port_str, &hints);
    if (rc == 0)
      d->gai_pending = 1;
  }
  if (rc != 0) {
    if (d->discards) {
      /* A handle is closing: the outcome is reported by the callback once
       * it is closed (never from inside this call). */
      finish(d, NULL, NNRP_ERR_CONNECTION_LOST, rc);
      *out = d;
      return 0;
    }
    free(d);
    return rc;
  }
  if (timeout_ms && uv_timer_init(loop, &d->timer) == 0) {
    d->timer.data = d;
    d->timer_open = 1;
    (void)uv_timer_start(&d->timer, on_timeout, timeout_ms, 0);
  }
  *out = d;
  return 0;
}

void nnrp__tcp_dial_cancel(nnrp__dial *d) {
  finish(d, NULL, NNRP_ERR_CLOSED, UV_ECANCELED);
}
