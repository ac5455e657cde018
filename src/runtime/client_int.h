/* SPDX-License-Identifier: Apache-2.0 */
/*
 * client_int.h - the client session object shared by client.c (creation,
 * connect, events) and client_ops.c (the calls that submit and wait).
 */
#ifndef NNRP_CLIENT_INT_H
#define NNRP_CLIENT_INT_H

#include "runtime/router.h"
#include "runtime/runtime_int.h"

/* connect_status while the connect or handshake is under way. */
#define NNRP__PENDING 1

/* Largest max_queued_hints accepted. */
#define NNRP__MAX_HINT_QUEUE 65536u

/* One RESULT_HINT kept for next_hint (client_flow.c). */
typedef struct nnrp__hint_rec {
  nnrp_result_hint hint;
  uint32_t frame_id;
} nnrp__hint_rec;

/* A CACHE_PUT made through the runtime (client_cache.c): its address is the
 * session-level user_data, so CACHE_ACK and SENT find it. */
typedef struct nnrp__cput {
  nnrp__link node; /* cs->puts */
  void *app_ud;    /* the application's user_data */
  uint8_t acked, sent, waiting;
  nnrp_cache_ack ack;
} nnrp__cput;

/* A SESSION_PATCH made through the runtime (client_patch.c). */
typedef struct nnrp__cpatch {
  nnrp__link node; /* cs->patches */
  void *app_ud;
  uint8_t acked, waiting;
  nnrp_session_patch_ack ack;
} nnrp__cpatch;

struct nnrp_client_session {
  nnrp__conn conn; /* first */
  nnrp__link node; /* rt->clients */
  nnrp__router router;
  nnrp_client_config cfg; /* cfg.host points to host */
  char *host;
  nnrp__dial *dial;   /* non-NULL while dialing */
  int connect_status; /* NNRP__PENDING, 0, or the failure */
  uint8_t deleted;
  uint8_t closed;     /* NNRP_EV_CLOSED seen (or the dial failed) */
  uint8_t peer_error; /* err_rec holds a non-fatal peer ERROR */
  uint8_t ping_wait;
  int latched_err; /* close reason (0: clean) */
  nnrp_error_record err_rec;
  char err_diag[NNRP__DIAG_MAX];
  uint64_t ping_trace, pong_at;
  size_t model_len;
  uint8_t model_name[255];
  /* Issue 4: session memory, hints, flow counters, puts and patches. */
  nnrp__memcount memc;
  nnrp__hint_rec *hints; /* ring of hint_cap */
  uint32_t hint_cap, hint_head, hint_n;
  uint8_t was_peer_paused, was_hint_paused;
  nnrp_client_flow_stats fstats;
  nnrp__link puts;    /* nnrp__cput.node */
  nnrp__link patches; /* nnrp__cpatch.node */
};

/* Records the outcome of the connect (once) and reports on_connected. */
void nnrp__client_connected(nnrp_client_session *cs, int status);
/* The latched close error, or NNRP_ERR_CLOSED (client_ops.c). */
int nnrp__client_closed_err(const nnrp_client_session *cs);
/* Milliseconds left until deadline (ns) for a call given timeout_ms. */
int nnrp__left_ms(int timeout_ms, uint64_t deadline);
/* Absolute deadline (ns) of a call given timeout_ms (UINT64_MAX: -1). */
uint64_t nnrp__deadline(int timeout_ms);

/* client_flow.c */
/* Allocates the hint ring of cap entries. @return 0 or NNRP_ERR_NOMEM. */
int nnrp__cflow_init(nnrp_client_session *cs, uint32_t cap);
void nnrp__cflow_free(nnrp_client_session *cs);
/* Bookkeeping of one session event (hints, flow updates, drops, pause
 * transitions, cache / patch records). Returns the event to hand to the
 * application: ev itself, or *tmp with the application's user_data. */
const nnrp_event *nnrp__cflow_event(nnrp_client_session *cs,
                                    const nnrp_event *ev, nnrp_event *tmp);
/* conn on_pumped hook: pause transitions ended or started by timers. */
void nnrp__cflow_pumped(nnrp_client_session *cs);

/* client_cache.c / client_patch.c: records of puts and patches. */
nnrp__cput *nnrp__cput_find(nnrp_client_session *cs, const void *ud);
void nnrp__cput_event(nnrp_client_session *cs, nnrp__cput *p,
                      const nnrp_event *ev);
nnrp__cpatch *nnrp__cpatch_find(nnrp_client_session *cs, const void *ud);
void nnrp__cpatch_event(nnrp_client_session *cs, nnrp__cpatch *p,
                        const nnrp_event *ev);
/* The session closed: records nobody waits for are freed. */
void nnrp__crec_closed(nnrp_client_session *cs);
/* Frees every record (del). */
void nnrp__crec_free_all(nnrp_client_session *cs);

#endif /* NNRP_CLIENT_INT_H */
