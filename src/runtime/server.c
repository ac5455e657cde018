/* SPDX-License-Identifier: Apache-2.0 */
/*
 * server.c - the server half of nnrp_runtime.h: configuration defaults,
 * serve_tcp (listener + owned copy of the profile), accepting connections
 * into server sessions (server_session.c), accept_server_session, the
 * server-wide receive queue, and closing the whole server.
 */
#include <stdlib.h>
#include <string.h>

#include "runtime/server_int.h"

#define MS_NS 1000000ull

void nnrp_server_config_default(nnrp_server_config *c) {
  memset(c, 0, sizeof(*c));
  c->struct_size = (uint32_t)sizeof(*c);
  c->no_delay = 1;
  c->backlog = 128;
  c->handshake_timeout_ms = 10000;
  c->keepalive_interval_ms = 10000;
  c->peer_dead_timeout_ms = 30000;
  c->max_held_bytes = (uint64_t)64 << 20;
  c->overload_retry_after_ms = 100;
  c->patch_rate_limit = NNRP_PATCH_RATE_LIMIT_DEFAULT;
  c->patch_rate_window_ms = NNRP_PATCH_RATE_WINDOW_MS_DEFAULT;
}

nnrp_server *nnrp__server_of(nnrp__link *node) {
  return NNRP__CONTAINER(node, nnrp_server, node);
}

/* ---- accepting ------------------------------------------------------------
 */

static void on_accept(void *owner, nnrp_transport *t) {
  nnrp_server *srv = owner;
  nnrp__rt_enter(srv->rt);
  if (srv->closing ||
      (srv->cfg.max_sessions && srv->session_count >= srv->cfg.max_sessions) ||
      nnrp__ss_new(srv, t) != 0)
    t->vt->close(t, 0); /* not bound: no callback */
  nnrp__rt_leave(srv->rt);
}

/* Deep copy of the profile's borrowed bytes (model name, extensions): every
 * session created later reads them. */
static int own_profile(nnrp_server *srv, const nnrp_server_profile *p) {
  srv->profile = *p;
  size_t total =
      p->model_name.len + p->extra_ext_count * sizeof(nnrp_ext_entry);
  for (size_t i = 0; i < p->extra_ext_count; i++)
    total += p->extra_ext[i].payload.len;
  if (total == 0)
    return 0;
  uint8_t *blk = malloc(total);
  if (blk == NULL)
    return NNRP_ERR_NOMEM;
  srv->owned = blk;
  nnrp_ext_entry *e = (nnrp_ext_entry *)(void *)blk;
  uint8_t *q = blk + p->extra_ext_count * sizeof(nnrp_ext_entry);
  for (size_t i = 0; i < p->extra_ext_count; i++) {
    e[i] = p->extra_ext[i];
    if (e[i].payload.len)
      memcpy(q, e[i].payload.ptr, e[i].payload.len);
    e[i].payload.ptr = q;
    q += e[i].payload.len;
  }
  srv->profile.extra_ext = p->extra_ext_count ? e : NULL;
  if (p->model_name.len)
    memcpy(q, p->model_name.ptr, p->model_name.len);
  srv->profile.model_name.ptr = p->model_name.len ? q : NULL;
  return 0;
}

/* session.md §3.4: a requested id is granted only if no live session of
 * this server has it; the application's hook (if any) is asked too. */
static int id_in_use(uint32_t id, void *user) {
  nnrp_server *srv = user;
  for (nnrp__link *l = srv->sessions.next; l != &srv->sessions; l = l->next) {
    nnrp_server_session *ss = NNRP__CONTAINER(l, nnrp_server_session, node);
    if (nnrp_session_id(ss->conn.s) == id)
      return 1;
  }
  return srv->app_id_in_use ? srv->app_id_in_use(id, srv->app_id_user) : 0;
}

static void make_settings(nnrp_session_settings *st,
                          const nnrp_server_config *cfg) {
  if (cfg->settings)
    *st = *cfg->settings;
  else
    nnrp_session_settings_default(st);
  if (cfg->lenient)
    st->flags |= NNRP_SESSION_LENIENT;
  st->transport_id = NNRP_TRANSPORT_TCP;
  st->ordered_delivery = 1;
  st->handshake_timeout_ns = cfg->handshake_timeout_ms * MS_NS;
  st->keepalive_interval_ns = cfg->keepalive_interval_ms * MS_NS;
  st->peer_dead_timeout_ns = cfg->peer_dead_timeout_ms * MS_NS;
}

static int check_args(nnrp_runtime *rt, const nnrp_server_profile *profile,
                      const nnrp_server_config *cfg, nnrp_server **out) {
  if (rt == NULL || cfg == NULL || out == NULL ||
      cfg->struct_size != sizeof(*cfg) || cfg->max_held_bytes == 0 ||
      cfg->patch_rate_limit > NNRP_PATCH_RATE_LIMIT_MAX ||
      (profile && (profile->struct_size != sizeof(*profile) ||
                   profile->model_name.len > 255)) ||
      (cfg->settings &&
       cfg->settings->struct_size != sizeof(nnrp_session_settings)))
    return NNRP_ERR_INVALID_ARGUMENT;
  return rt->closing ? NNRP_ERR_INVALID_STATE : 0;
}

int nnrp_serve_tcp(nnrp_runtime *rt, const nnrp_server_profile *profile,
                   const nnrp_server_config *cfg, nnrp_server **out) {
  int rc = check_args(rt, profile, cfg, out);
  if (rc != 0)
    return rc;
  nnrp_server_profile dflt;
  if (profile == NULL) {
    nnrp_server_profile_default(&dflt);
    profile = &dflt;
  }
  nnrp_server *srv = calloc(1, sizeof(*srv));
  if (srv == NULL || own_profile(srv, profile) != 0) {
    free(srv);
    nnrp__rt_set_error(rt, NNRP_ERR_NOMEM, 0, NULL);
    return NNRP_ERR_NOMEM;
  }
  srv->rt = rt;
  srv->app_id_in_use = srv->profile.id_in_use;
  srv->app_id_user = srv->profile.id_user;
  srv->profile.id_in_use = id_in_use;
  srv->profile.id_user = srv;
  srv->cfg = *cfg;
  srv->cfg.host = NULL;
  srv->cfg.settings = NULL;
  make_settings(&srv->settings, cfg);
  nnrp__list_init(&srv->sessions);
  nnrp__list_init(&srv->acceptq);
  nnrp__list_init(&srv->undelivered);
  nnrp__held_pool_init(srv);
  int os_err = nnrp__tcp_listen(rt->loop, cfg->host, cfg->port,
                                cfg->backlog > 0 ? cfg->backlog : 128,
                                cfg->no_delay, on_accept, srv, &srv->listener);
  if (os_err != 0) {
    free(srv->owned);
    free(srv);
    nnrp__rt_set_error(rt, NNRP_ERR_CONNECTION_LOST, os_err, NULL);
    return NNRP_ERR_CONNECTION_LOST;
  }
  nnrp__list_push(&rt->servers, &srv->node);
  rt->live++;
  *out = srv;
  return 0;
}

uint16_t nnrp_server_port(const nnrp_server *srv) {
  return srv->listener ? nnrp__tcp_listener_port(srv->listener) : 0;
}

uint32_t nnrp_server_session_count(const nnrp_server *srv) {
  return srv->session_count;
}

/* ---- accept and the server-wide receive -----------------------------------
 */

static int accept_ready(void *ctx) {
  const nnrp_server *srv = ctx;
  return !nnrp__list_empty(&srv->acceptq) || srv->closing;
}

int nnrp_accept_server_session(nnrp_server *srv, int timeout_ms,
                               nnrp_server_session **out) {
  if (srv == NULL || out == NULL)
    return NNRP_ERR_INVALID_ARGUMENT;
  *out = NULL;
  if (srv->cfg.on_session)
    return NNRP_ERR_INVALID_STATE;
  int rc = nnrp__rt_wait(srv->rt, accept_ready, srv, timeout_ms);
  if (rc != 0)
    return rc;
  if (srv->closing)
    return NNRP_ERR_CLOSED;
  nnrp_server_session *ss =
      NNRP__CONTAINER(srv->acceptq.next, nnrp_server_session, acceptq);
  nnrp__list_remove(&ss->acceptq);
  ss->owned = 1;
  *out = ss;
  return 0;
}

static int submit_ready(void *ctx) {
  const nnrp_server *srv = ctx;
  return !nnrp__list_empty(&srv->undelivered) || srv->closing;
}

int nnrp_server_receive_submit(nnrp_server *srv, int timeout_ms,
                               const nnrp_received_submit **out) {
  if (srv == NULL || out == NULL)
    return NNRP_ERR_INVALID_ARGUMENT;
  *out = NULL;
  int rc = nnrp__rt_wait(srv->rt, submit_ready, srv, timeout_ms);
  if (rc != 0)
    return rc;
  if (nnrp__list_empty(&srv->undelivered))
    return NNRP_ERR_CLOSED;
  nnrp__held *h = NNRP__CONTAINER(srv->undelivered.next, nnrp__held, gq);
  nnrp__held_unqueue(h);
  h->delivered = 1;
  *out = &h->pub;
  return 0;
}

/* ---- closing --------------------------------------------------------------
 */

void nnrp__server_maybe_free(nnrp_server *srv) {
  if (!srv->closing || srv->listener || !nnrp__list_empty(&srv->sessions))
    return;
  nnrp_runtime *rt = srv->rt;
  nnrp__held_pool_free(srv);
  free(srv->owned);
  free(srv);
  rt->live--;
}

static void on_listener_closed(void *arg) {
  nnrp_server *srv = arg;
  srv->listener = NULL;
  nnrp__server_maybe_free(srv);
}

void nnrp_server_close(nnrp_server *srv) {
  if (srv == NULL || srv->closing)
    return;
  srv->closing = 1;
  nnrp__list_remove(&srv->node);
  nnrp__held_pool_free(srv);
  /* Deleting may free a session at once (its connection already closed). */
  for (nnrp__link *l = srv->sessions.next, *n; l != &srv->sessions; l = n) {
    n = l->next;
    nnrp_server_session_del(NNRP__CONTAINER(l, nnrp_server_session, node));
  }
  nnrp__tcp_listener_close(srv->listener, on_listener_closed, srv);
}
