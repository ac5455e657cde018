/* SPDX-License-Identifier: Apache-2.0 */
/*
 * client.c - the client half of nnrp_runtime.h: configuration defaults,
 * dial policy (session.md §11.1), connect + handshake (dial_client), and
 * the session object that ties a connection (conn.c) to the result router
 * (router.c). The calls that wait are in client_ops.c.
 */
#include <stdlib.h>
#include <string.h>

#include "runtime/client_int.h"

#define MS_NS 1000000ull

void nnrp_client_dial_policy_default(nnrp_client_dial_policy *p) {
  memset(p, 0, sizeof(*p));
  p->struct_size = (uint32_t)sizeof(*p);
}

void nnrp_client_config_default(nnrp_client_config *c) {
  memset(c, 0, sizeof(*c));
  c->struct_size = (uint32_t)sizeof(*c);
  c->no_delay = 1;
  c->connect_timeout_ms = 5000;
  c->handshake_timeout_ms = 10000;
  c->keepalive_interval_ms = 10000;
  c->peer_dead_timeout_ms = 30000;
  c->max_result_bytes = (uint64_t)64 << 20;
  c->max_queued_results = 4096;
  c->max_queued_hints = NNRP_CLIENT_HINT_QUEUE_DEFAULT;
}

nnrp_client_session *nnrp__client_of(nnrp__link *node) {
  return NNRP__CONTAINER(node, nnrp_client_session, node);
}

/* ---- lifetime ------------------------------------------------------------ */

static void maybe_free(nnrp_client_session *cs) {
  if (!cs->deleted || !cs->conn.closed || cs->dial != NULL)
    return;
  nnrp_runtime *rt = cs->conn.rt;
  nnrp__router_free(&cs->router);
  nnrp__conn_fini(&cs->conn);
  nnrp__crec_free_all(cs);
  nnrp__cflow_free(cs);
  free(cs->host);
  free(cs);
  rt->live--;
}

void nnrp_client_session_del(nnrp_client_session *cs) {
  if (cs == NULL || cs->deleted)
    return;
  cs->deleted = 1;
  nnrp__list_remove(&cs->node);
  if (cs->dial)
    nnrp__tcp_dial_cancel(cs->dial);
  nnrp__conn_abort(&cs->conn);
  nnrp__router_free(&cs->router);
  maybe_free(cs);
}

/* ---- events -------------------------------------------------------------- */

static void latch_close(nnrp_client_session *cs, const nnrp_event *ev) {
  cs->closed = 1;
  int err = ev->error.lib_err;
  if (err == NNRP_ERR_PEER_ERROR &&
      ev->error.error_code == NNRP_ERROR_CODE_AUTH_FAILED)
    err = NNRP_ERR_AUTH_FAILED;
  nnrp__copy_record(&cs->err_rec, cs->err_diag, &ev->error);
  cs->latched_err = err;
  if (cs->connect_status == NNRP__PENDING)
    nnrp__client_connected(cs, err ? err : NNRP_ERR_CLOSED);
}

static void on_handshake(nnrp_client_session *cs, const nnrp_event *ev) {
  const nnrp_packet *p = ev->packet;
  nnrp_bytes name = p->b.server_hello_ack.ext.model_name;
  if (name.len == 0)
    name = p->b.server_hello_ack.opaque; /* D5: opaque ack body */
  if (name.len > sizeof(cs->model_name))
    name.len = sizeof(cs->model_name);
  if (name.len)
    memcpy(cs->model_name, name.ptr, name.len);
  cs->model_len = name.len;
  nnrp__client_connected(cs, 0);
}

static void on_event(nnrp__conn *c, const nnrp_event *in) {
  nnrp_client_session *cs = NNRP__CONTAINER(c, nnrp_client_session, conn);
  if (cs->deleted)
    return;
  nnrp_event tmp;
  const nnrp_event *ev = nnrp__cflow_event(cs, in, &tmp);
  const nnrp_client_config *cfg = &cs->cfg;
  switch (ev->type) {
  case NNRP_EV_HANDSHAKE:
    on_handshake(cs, ev);
    return;
  case NNRP_EV_RESULT:
  case NNRP_EV_DROP:
  case NNRP_EV_FRAME_FAILED:
    if (nnrp__router_file(&cs->router, ev, c) == 1 && cfg->on_result)
      cfg->on_result(cs, ev->frame_id, cfg->user);
    return;
  case NNRP_EV_SENT:
    if (cfg->on_sent)
      cfg->on_sent(cs, ev->frame_id, ev->user_data, cfg->user);
    return;
  case NNRP_EV_PONG:
    if (cs->ping_wait && ev->packet->hdr.trace_id == cs->ping_trace) {
      cs->ping_wait = 0;
      cs->pong_at = ev->received_at;
    }
    break;
  case NNRP_EV_PEER_ERROR:
    if (!cs->closed) {
      nnrp__copy_record(&cs->err_rec, cs->err_diag, &ev->error);
      cs->peer_error = 1;
    }
    break;
  case NNRP_EV_CLOSED:
    latch_close(cs, ev);
    break;
  default:
    break;
  }
  if (cfg->on_event && !cs->deleted)
    cfg->on_event(cs, ev, cfg->user);
}

static int input_blocked(const nnrp__conn *c) {
  const nnrp_client_session *cs =
      NNRP__CONTAINER(c, const nnrp_client_session, conn);
  return nnrp__router_full(&cs->router);
}

static void on_closed(nnrp__conn *c) {
  nnrp_client_session *cs = NNRP__CONTAINER(c, nnrp_client_session, conn);
  if (cs->connect_status == NNRP__PENDING && !cs->deleted)
    nnrp__client_connected(cs, cs->latched_err ? cs->latched_err
                                               : NNRP_ERR_CONNECTION_LOST);
  maybe_free(cs);
}

static void on_pumped(nnrp__conn *c) {
  nnrp_client_session *cs = NNRP__CONTAINER(c, nnrp_client_session, conn);
  if (!cs->deleted)
    nnrp__cflow_pumped(cs);
}

static const nnrp__conn_ops client_ops = {on_event, input_blocked, on_closed,
                                          on_pumped};

/* ---- connect ------------------------------------------------------------- */

void nnrp__client_connected(nnrp_client_session *cs, int status) {
  if (cs->connect_status != NNRP__PENDING)
    return;
  cs->connect_status = status;
  if (status != 0 && cs->latched_err == 0)
    cs->latched_err = status;
  if (cs->cfg.on_connected && !cs->deleted)
    cs->cfg.on_connected(cs, status, cs->cfg.user);
}

static void on_dialed(void *owner, nnrp_transport *t, int err, int os_err) {
  nnrp_client_session *cs = owner;
  nnrp_runtime *rt = cs->conn.rt;
  nnrp__rt_enter(rt);
  cs->dial = NULL;
  if (cs->deleted || err != 0) {
    if (t)
      t->vt->close(t, 0);
    if (!cs->deleted) {
      cs->conn.os_err = os_err;
      cs->closed = 1;
      nnrp__client_connected(cs, err);
      nnrp__conn_abort(&cs->conn);
    }
    maybe_free(cs);
    nnrp__rt_leave(rt);
    return;
  }
  nnrp__conn_attach(&cs->conn, t);
  int rc = nnrp_session_connect(cs->conn.s, uv_hrtime());
  if (rc != 0)
    nnrp__client_connected(cs, rc);
  nnrp__conn_pump(&cs->conn);
  nnrp__rt_leave(rt);
}

/* session.md §11.1: dial policy -> 0x0101 fields of the profile. */
static int apply_dial_policy(nnrp_client_profile *p,
                             const nnrp_client_dial_policy *d) {
  if (d == NULL)
    return 0;
  if (d->struct_size != sizeof(*d) ||
      d->selected_transport_id > NNRP_TRANSPORT_TCP ||
      d->forced_transport_id > NNRP_TRANSPORT_TCP ||
      (d->forced_transport_id && d->selected_transport_id &&
       d->forced_transport_id != d->selected_transport_id))
    return NNRP_ERR_INVALID_ARGUMENT;
  if (d->forced_transport_id) {
    p->transport_policy = d->forced_transport_id == NNRP_TRANSPORT_QUIC
                              ? NNRP_TRANSPORT_POLICY_FORCE_QUIC
                              : NNRP_TRANSPORT_POLICY_FORCE_TCP;
    p->preferred_transport_id = d->forced_transport_id;
  } else if (d->selected_transport_id) {
    p->transport_policy = d->selected_transport_id == NNRP_TRANSPORT_QUIC
                              ? NNRP_TRANSPORT_POLICY_PREFER_QUIC
                              : NNRP_TRANSPORT_POLICY_PREFER_TCP;
    p->preferred_transport_id = d->selected_transport_id;
  }
  return 0;
}

static void make_settings(nnrp_session_settings *st,
                          const nnrp_client_config *cfg, const void *salt) {
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
  if (st->rand32 == NULL)
    st->rand_seed = nnrp__rt_seed(salt);
}

static int check_args(nnrp_runtime *rt, const nnrp_client_config *cfg,
                      nnrp_client_session **out) {
  if (rt == NULL || cfg == NULL || out == NULL ||
      cfg->struct_size != sizeof(*cfg) || cfg->host == NULL ||
      cfg->host[0] == '\0' || cfg->port == 0 || cfg->max_result_bytes == 0 ||
      cfg->max_queued_results == 0 ||
      cfg->max_queued_hints > NNRP__MAX_HINT_QUEUE ||
      (cfg->settings &&
       cfg->settings->struct_size != sizeof(nnrp_session_settings)))
    return NNRP_ERR_INVALID_ARGUMENT;
  return rt->closing ? NNRP_ERR_INVALID_STATE : 0;
}

/* Creates the object and its session; no I/O yet. */
static int client_new(nnrp_runtime *rt, const nnrp_client_profile *profile,
                      const nnrp_client_config *cfg,
                      nnrp_client_session **out) {
  nnrp_client_session *cs = calloc(1, sizeof(*cs));
  size_t hl = strlen(cfg->host) + 1;
  char *host = malloc(hl);
  if (cs == NULL || host == NULL ||
      nnrp__cflow_init(cs, cfg->max_queued_hints) != 0) {
    if (cs)
      nnrp__cflow_free(cs);
    free(cs);
    free(host);
    return NNRP_ERR_NOMEM;
  }
  memcpy(host, cfg->host, hl);
  nnrp_session_settings st;
  make_settings(&st, cfg, cs);
  nnrp_mem mem;
  nnrp__memcount_init(&cs->memc, &mem);
  nnrp_session *s = NULL;
  int rc = nnrp_session_client_new(&s, profile, &st, &mem);
  if (rc == 0 && cfg->auto_pause)
    rc = nnrp_session_set_auto_pause(s, 1);
  if (rc == 0)
    rc = nnrp__conn_init(&cs->conn, rt, &client_ops, s, &st);
  if (rc != 0) {
    nnrp_session_del(s); /* NULL: no-op */
    nnrp__cflow_free(cs);
    free(host);
    free(cs);
    return rc;
  }
  cs->cfg = *cfg;
  cs->cfg.host = host;
  cs->host = host;
  nnrp__list_init(&cs->puts);
  nnrp__list_init(&cs->patches);
  cs->connect_status = NNRP__PENDING;
  nnrp__router_init(&cs->router, rt, cfg->max_result_bytes,
                    cfg->max_queued_results,
                    cfg->lenient ? NNRP_WIRE_LENIENT : 0);
  nnrp__list_push(&rt->clients, &cs->node);
  rt->live++;
  *out = cs;
  return 0;
}

int nnrp_dial_client_start(nnrp_runtime *rt, const nnrp_client_profile *profile,
                           const nnrp_client_dial_policy *dial,
                           const nnrp_client_config *cfg,
                           nnrp_client_session **out) {
  int rc = check_args(rt, cfg, out);
  if (rc != 0)
    return rc;
  nnrp_client_profile p;
  if (profile)
    p = *profile;
  else
    nnrp_client_profile_default(&p);
  rc = apply_dial_policy(&p, dial);
  if (rc != 0)
    return rc;
  if (p.transport_policy == NNRP_TRANSPORT_POLICY_FORCE_QUIC)
    return NNRP_ERR_UNSUPPORTED_CAPABILITY; /* TCP is the only binding */
  nnrp_client_session *cs;
  rc = client_new(rt, &p, cfg, &cs);
  if (rc != 0)
    return rc;
  int os_err =
      nnrp__tcp_dial(rt->loop, cs->host, cfg->port, cfg->connect_timeout_ms,
                     cfg->no_delay, on_dialed, cs, &cs->dial);
  if (os_err != 0) {
    cs->dial = NULL;
    cs->conn.os_err = os_err;
    cs->connect_status = NNRP_ERR_CONNECTION_LOST;
    nnrp__rt_set_error(rt, NNRP_ERR_CONNECTION_LOST, os_err, NULL);
    nnrp_client_session_del(cs);
    return NNRP_ERR_CONNECTION_LOST;
  }
  *out = cs;
  return 0;
}

static int connect_done(void *ctx) {
  const nnrp_client_session *cs = ctx;
  return cs->connect_status != NNRP__PENDING;
}

int nnrp_dial_client(nnrp_runtime *rt, const nnrp_client_profile *profile,
                     const nnrp_client_dial_policy *dial,
                     const nnrp_client_config *cfg, nnrp_client_session **out) {
  if (out)
    *out = NULL;
  if (rt == NULL)
    return NNRP_ERR_INVALID_ARGUMENT;
  if (nnrp__rt_in_loop(rt))
    return NNRP_ERR_INVALID_STATE;
  nnrp_client_session *cs;
  int rc = nnrp_dial_client_start(rt, profile, dial, cfg, &cs);
  if (rc != 0) {
    if (rc != NNRP_ERR_CONNECTION_LOST) /* that one recorded its os_err */
      nnrp__rt_set_error(rt, rc, 0, NULL);
    return rc;
  }
  rc = nnrp__rt_wait(rt, connect_done, cs, -1);
  if (rc == 0)
    rc = cs->connect_status;
  if (rc != 0) {
    nnrp__rt_set_error(rt, rc, cs->conn.os_err,
                       cs->closed ? &cs->err_rec : NULL);
    nnrp_client_session_del(cs);
    return rc;
  }
  *out = cs;
  return 0;
}
