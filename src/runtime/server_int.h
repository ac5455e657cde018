/* SPDX-License-Identifier: Apache-2.0 */
/*
 * server_int.h - the server objects shared by server.c (listener, accept,
 * server-wide receive), server_session.c (per-session API and events) and
 * held.c (held submits: the single receive copy of each accepted
 * FRAME_SUBMIT, bounded per session, buffers recycled through a pool),
 * server_flow.c (flow control, automatic overload signalling, counters)
 * and server_ext.c (patch policy, cache, submit objects).
 */
#ifndef NNRP_SERVER_INT_H
#define NNRP_SERVER_INT_H

#include "runtime/bpool.h"
#include "runtime/idmap.h"
#include "runtime/runtime_int.h"

/* A held submit: the public view, its decoded copy and bookkeeping. */
typedef struct nnrp__held {
  nnrp_received_submit pub; /* first */
  nnrp_packet pkt;
  nnrp__link q;            /* session queue of undelivered submits */
  nnrp__link gq;           /* server-wide queue of undelivered submits */
  struct nnrp__held *next; /* temporary lists */
  size_t cap;              /* bytes available in data */
  size_t bytes;            /* packet size (accounted) */
  uint32_t pending_sends;  /* results queued that may reference data */
  uint8_t delivered;       /* handed to the application */
  uint8_t answered;        /* final result or drop sent (or impossible) */
  uint8_t released;        /* release_submit() */
  uint8_t finished;        /* the library ended the frame (cancel, budget) */
  /* The packet's bytes: the connection's buffer of a large packet read
   * whole (nnrp__conn_adopt; an rt->rpool block of ext_cap bytes), or NULL:
   * the copy at the start of data. */
  uint8_t *ext;
  size_t ext_cap;
  uint8_t data[]; /* packet copy (unless ext), then resolved objects */
} nnrp__held;

struct nnrp_server_session {
  nnrp__conn conn;    /* first */
  nnrp__link node;    /* srv->sessions */
  nnrp__link acceptq; /* srv->acceptq until accepted */
  nnrp_server *srv;
  nnrp__idmap held;       /* frame_id -> nnrp__held */
  nnrp__link undelivered; /* nnrp__held.q */
  uint32_t held_count, max_held;
  uint64_t held_bytes, max_held_bytes;
  uint8_t owned; /* the application owns it (accept/on_session) */
  uint8_t deleted;
  uint8_t handshaken;
  uint8_t closed; /* NNRP_EV_CLOSED seen */
  uint8_t peer_error;
  int latched_err;
  nnrp_error_record err_rec;
  char err_diag[NNRP__DIAG_MAX];
  /* Issue 4 (server_flow.c): memory, peaks, overload state, counters. */
  nnrp__memcount memc;
  uint32_t held_peak;
  uint64_t held_bytes_peak;
  uint8_t app_over;  /* nnrp_server_session_set_overloaded(on) */
  uint8_t auto_over; /* auto_overload: above the high-water mark */
  uint8_t over_sent; /* the overload state last given to the session */
  uint32_t app_retry_ms;
  uint32_t high_water, low_water;
  uint64_t last_pause_at;    /* ns: the last overload PAUSE sent */
  uint64_t submits_at_pause; /* fstats.submits_received then */
  nnrp_server_flow_stats fstats;
};

struct nnrp_server {
  nnrp_runtime *rt;
  nnrp__link node; /* rt->servers */
  nnrp__listener *listener;
  nnrp_server_profile profile; /* pointers into owned */
  uint8_t *owned;
  nnrp_server_config cfg; /* host cleared */
  nnrp_session_settings settings;
  nnrp__link sessions; /* nnrp_server_session.node */
  uint32_t session_count;
  nnrp__link acceptq;     /* nnrp_server_session.acceptq */
  nnrp__link undelivered; /* nnrp__held.gq */
  nnrp__bpool pool;       /* recycled held buffers (held.c) */
  uint8_t closing;
  /* The application's own id_in_use hook, consulted after the server's
   * (session.md §3.4: ids unique among this process's sessions). */
  nnrp_session_id_in_use app_id_in_use;
  void *app_id_user;
};

/* held.c */
/* Copies the submit of ev into a held record (pool buffer), indexes it and
 * accounts it. @return the record, or NULL (NNRP_ERR_NOMEM). */
nnrp__held *nnrp__held_add(nnrp_server_session *ss, const nnrp_event *ev);
/* Removes h from the undelivered queues (if queued). */
void nnrp__held_unqueue(nnrp__held *h);
/* Frees h if nothing needs it any more (as below) without touching ss
 * otherwise. @return 1 if freed. */
int nnrp__held_release_if_done(nnrp_server_session *ss, nnrp__held *h);
/* Frees h if nothing needs it any more (answered, released or finished
 * undelivered, and no pending write references it). May free ss. */
void nnrp__held_maybe_release(nnrp_server_session *ss, nnrp__held *h);
/* Frees every record of ss (its connection is closed). */
void nnrp__held_free_all(nnrp_server_session *ss);
/* Collects ss's records into a list (h->next) for safe iteration. */
nnrp__held *nnrp__held_list(nnrp_server_session *ss);
/* Sets up the buffer pool of srv (empty). */
void nnrp__held_pool_init(nnrp_server *srv);
/* Frees the buffers kept in the pool of srv. */
void nnrp__held_pool_free(nnrp_server *srv);

/* server_session.c */
/* Creates a session for an accepted transport. @return 0 or an error (the
 * transport is then closed). */
int nnrp__ss_new(nnrp_server *srv, nnrp_transport *t);
/* Frees ss when its connection is closed and nobody needs it. */
void nnrp__ss_maybe_free(nnrp_server_session *ss);

/* server_flow.c */
/* Applies the server config to a new session (credit window, patch policy
 * and rate limit, water marks). @return 0 or NNRP_ERR_NOMEM. */
int nnrp__ss_flow_init(nnrp_server_session *ss, nnrp_session *s);
/* Counts one session event (submits, flow updates, cancels, errors,
 * patches). */
void nnrp__ss_flow_event(nnrp_server_session *ss, const nnrp_event *ev);
/* conn on_pumped hook: automatic overload signalling. */
void nnrp__ss_flow_pumped(nnrp_server_session *ss);

/* server.c */
/* Frees srv once it is closing and every session and the listener are
 * gone. */
void nnrp__server_maybe_free(nnrp_server *srv);

#endif /* NNRP_SERVER_INT_H */
