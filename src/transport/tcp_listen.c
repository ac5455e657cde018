/* SPDX-License-Identifier: Apache-2.0 */
/*
 * tcp_listen.c - server side of the TCP transport: bind (address literal or
 * name resolved once at start), listen, and hand every accepted connection
 * to the owner as an unbound transport with TCP_NODELAY set (session.md
 * §2.1 rules 3 and 7: port 0 binds an ephemeral port).
 */
#include <stdlib.h>
#include <string.h>

#include "transport/tcp.h"

struct nnrp__listener {
  uv_tcp_t h;
  uv_loop_t *loop;
  nnrp__accept_cb cb;
  void *owner;
  int no_delay;
  uint16_t port;
  void (*done)(void *arg);
  void *done_arg;
};

static void on_connection(uv_stream_t *server, int status) {
  nnrp__listener *l = server->data;
  if (status < 0)
    return; /* transient accept failure (EMFILE, ...): keep listening */
  int os_err = 0;
  nnrp__tcp *t = nnrp__tcp_new(l->loop, &os_err);
  if (t == NULL)
    return;
  if (uv_accept(server, (uv_stream_t *)&t->h) != 0) {
    nnrp__tcp_discard(t, NULL, NULL);
    return;
  }
  nnrp__tcp_nodelay(t, l->no_delay);
  l->cb(l->owner, &t->base);
}

static void on_closed(uv_handle_t *h) {
  nnrp__listener *l = h->data;
  void (*done)(void *) = l->done;
  void *arg = l->done_arg;
  free(l);
  if (done)
    done(arg);
}

/* host -> socket address (literal first, then the resolver, synchronously:
 * this runs once when the server starts). */
static int resolve(uv_loop_t *loop, const char *host, uint16_t port,
                   struct sockaddr_storage *ss) {
  memset(ss, 0, sizeof(*ss));
  if (host == NULL)
    host = "0.0.0.0";
  if (uv_ip4_addr(host, port, (struct sockaddr_in *)(void *)ss) == 0 ||
      uv_ip6_addr(host, port, (struct sockaddr_in6 *)(void *)ss) == 0)
    return 0;
  uv_getaddrinfo_t req;
  struct addrinfo hints;
  memset(&hints, 0, sizeof(hints));
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE;
  int rc = uv_getaddrinfo(loop, &req, NULL, host, NULL, &hints);
  if (rc != 0)
    return rc;
  if (req.addrinfo == NULL || req.addrinfo->ai_addrlen > sizeof(*ss)) {
    uv_freeaddrinfo(req.addrinfo);
    return UV_EAI_NONAME;
  }
  memcpy(ss, req.addrinfo->ai_addr, req.addrinfo->ai_addrlen);
  uv_freeaddrinfo(req.addrinfo);
  if (ss->ss_family == AF_INET)
    ((struct sockaddr_in *)(void *)ss)->sin_port = htons(port);
  else
    ((struct sockaddr_in6 *)(void *)ss)->sin6_port = htons(port);
  return 0;
}

static uint16_t bound_port(uv_tcp_t *h) {
  struct sockaddr_storage ss;
  int len = (int)sizeof(ss);
  if (uv_tcp_getsockname(h, (struct sockaddr *)&ss, &len) != 0)
    return 0;
  if (ss.ss_family == AF_INET)
    return ntohs(((struct sockaddr_in *)(void *)&ss)->sin_port);
  return ntohs(((struct sockaddr_in6 *)(void *)&ss)->sin6_port);
}

int nnrp__tcp_listen(uv_loop_t *loop, const char *host, uint16_t port,
                     int backlog, int no_delay, nnrp__accept_cb cb, void *owner,
                     nnrp__listener **out) {
  struct sockaddr_storage ss;
  int rc = resolve(loop, host, port, &ss);
  if (rc != 0)
    return rc;
  nnrp__listener *l = calloc(1, sizeof(*l));
  if (l == NULL)
    return UV_ENOMEM;
  l->loop = loop;
  l->cb = cb;
  l->owner = owner;
  l->no_delay = no_delay;
  rc = uv_tcp_init(loop, &l->h);
  if (rc != 0) {
    free(l);
    return rc;
  }
  l->h.data = l;
  rc = uv_tcp_bind(&l->h, (const struct sockaddr *)&ss, 0);
  if (rc == 0)
    rc = uv_listen((uv_stream_t *)&l->h, backlog, on_connection);
  if (rc != 0) {
    uv_close((uv_handle_t *)&l->h, on_closed); /* frees l */
    return rc;
  }
  l->port = bound_port(&l->h);
  *out = l;
  return 0;
}

uint16_t nnrp__tcp_listener_port(const nnrp__listener *l) { return l->port; }

void nnrp__tcp_listener_close(nnrp__listener *l, void (*done)(void *arg),
                              void *arg) {
  l->done = done;
  l->done_arg = arg;
  uv_close((uv_handle_t *)&l->h, on_closed);
}
