/* SPDX-License-Identifier: Apache-2.0 */
/*
 * client_cache.c - seed ClientSession.put_cache / invalidate_cache on the
 * runtime (api-seed.md §5.1, session.md §9.2, §9.6): a put is tracked by a
 * small record whose address is the session-level user_data, so its
 * CACHE_ACK (matched to the put by namespace and key inside the session)
 * and its SENT event find it; the blocking call waits for both. Also the
 * record lifetime rules shared with client_patch.c.
 */
#include <stdlib.h>
#include <string.h>

#include "runtime/client_int.h"

static nnrp__cput *put_of(nnrp__link *l) {
  return NNRP__CONTAINER(l, nnrp__cput, node);
}

static nnrp__cpatch *patch_of(nnrp__link *l) {
  return NNRP__CONTAINER(l, nnrp__cpatch, node);
}

nnrp__cput *nnrp__cput_find(nnrp_client_session *cs, const void *ud) {
  for (nnrp__link *l = cs->puts.next; l != &cs->puts; l = l->next)
    if ((const void *)put_of(l) == ud)
      return put_of(l);
  return NULL;
}

static void put_free(nnrp__cput *p) {
  nnrp__list_remove(&p->node);
  free(p);
}

/* Done when nobody waits and nothing more will come for it. */
static void put_maybe_free(const nnrp_client_session *cs, nnrp__cput *p) {
  if (!p->waiting && p->sent && (p->acked || cs->closed))
    put_free(p);
}

void nnrp__cput_event(nnrp_client_session *cs, nnrp__cput *p,
                      const nnrp_event *ev) {
  if (ev->type == NNRP_EV_SENT) {
    p->sent = 1;
  } else {
    p->acked = 1;
    p->ack = ev->packet->m.cache_ack;
  }
  put_maybe_free(cs, p);
}

void nnrp__crec_closed(nnrp_client_session *cs) {
  for (nnrp__link *l = cs->puts.next, *n; l != &cs->puts; l = n) {
    n = l->next;
    put_maybe_free(cs, put_of(l)); /* unsent ones wait for SENT or del */
  }
  for (nnrp__link *l = cs->patches.next, *n; l != &cs->patches; l = n) {
    n = l->next;
    if (!patch_of(l)->waiting) {
      nnrp__list_remove(l);
      free(patch_of(l));
    }
  }
}

void nnrp__crec_free_all(nnrp_client_session *cs) {
  while (!nnrp__list_empty(&cs->puts))
    put_free(put_of(cs->puts.next));
  while (!nnrp__list_empty(&cs->patches)) {
    nnrp__cpatch *p = patch_of(cs->patches.next);
    nnrp__list_remove(&p->node);
    free(p);
  }
}

/* ---- put_cache --------------------------------------------------------- */

static int put_room(void *ctx) {
  const nnrp_client_session *cs = ctx;
  nnrp_cache_stats st;
  if (nnrp_session_get_state(cs->conn.s) != NNRP_STATE_ACTIVE)
    return 1;
  (void)nnrp_session_cache_stats(cs->conn.s, &st);
  return st.pending_puts < NNRP_CACHE_MAX_PENDING_PUTS;
}

typedef struct put_wait {
  const nnrp_client_session *cs;
  const nnrp__cput *p;
} put_wait;

/* The ACK is here and the object written (so the caller may reuse it), or
 * the connection is gone. */
static int put_done(void *ctx) {
  const put_wait *w = ctx;
  return (w->p->acked && w->p->sent) || w->cs->conn.closed ||
         (w->cs->closed && !w->p->acked);
}

/* Queues the put with a new record as its user_data. */
static int put_start(nnrp_client_session *cs, const nnrp_cache_put_req *req,
                     nnrp__cput **out) {
  nnrp__cput *p = calloc(1, sizeof(*p));
  if (p == NULL)
    return NNRP_ERR_NOMEM;
  p->app_ud = req->user_data;
  nnrp_cache_put_req r = *req;
  r.user_data = p;
  int rc = nnrp_session_put_cache(cs->conn.s, &r, uv_hrtime());
  if (rc != 0) {
    free(p);
    return rc == NNRP_ERR_CLOSED ? nnrp__client_closed_err(cs) : rc;
  }
  nnrp__list_push(&cs->puts, &p->node);
  nnrp__conn_pump(&cs->conn); /* starts the write */
  *out = p;
  return 0;
}

int nnrp_client_session_put_cache(nnrp_client_session *cs,
                                  const nnrp_cache_put_req *req, int timeout_ms,
                                  nnrp_cache_ack *ack_out) {
  if (cs == NULL || req == NULL || cs->deleted)
    return NNRP_ERR_INVALID_ARGUMENT;
  if (timeout_ms != 0 && nnrp__rt_in_loop(cs->conn.rt))
    return NNRP_ERR_INVALID_STATE; /* would send, then fail to wait */
  uint64_t deadline = nnrp__deadline(timeout_ms);
  int rc = nnrp__rt_wait(cs->conn.rt, put_room, cs, timeout_ms);
  if (rc == NNRP_ERR_TIMEOUT)
    return NNRP_ERR_WOULD_BLOCK;
  if (rc != 0)
    return rc;
  nnrp__cput *p = NULL;
  rc = put_start(cs, req, &p);
  if (rc != 0)
    return rc;
  p->waiting = 1;
  put_wait w = {cs, p};
  rc = nnrp__rt_wait(cs->conn.rt, put_done, &w,
                     nnrp__left_ms(timeout_ms, deadline));
  p->waiting = 0;
  if (rc == 0 && !p->acked)
    rc = nnrp__client_closed_err(cs);
  if (rc == 0 && ack_out)
    *ack_out = p->ack;
  if (rc == 0 || cs->conn.closed)
    put_free(p); /* acked and written, or nothing more will come */
  else
    put_maybe_free(cs, p);
  return rc;
}

int nnrp_client_session_invalidate_cache(nnrp_client_session *cs,
                                         const nnrp_cache_invalidate_req *req) {
  if (cs == NULL || req == NULL || cs->deleted)
    return NNRP_ERR_INVALID_ARGUMENT;
  int rc = nnrp_session_invalidate_cache(cs->conn.s, req, uv_hrtime());
  nnrp__conn_pump(&cs->conn);
  return rc == NNRP_ERR_CLOSED ? nnrp__client_closed_err(cs) : rc;
}

int nnrp_client_session_cache_has(const nnrp_client_session *cs,
                                  uint32_t cache_namespace, uint32_t key_hi,
                                  uint32_t key_lo) {
  return nnrp_session_cache_has(cs->conn.s, cache_namespace, key_hi, key_lo);
}

int nnrp_client_session_cache_stats(const nnrp_client_session *cs,
                                    nnrp_cache_stats *out) {
  if (cs == NULL || out == NULL)
    return NNRP_ERR_INVALID_ARGUMENT;
  return nnrp_session_cache_stats(cs->conn.s, out);
}
