/* SPDX-License-Identifier: Apache-2.0 */
/*
 * client_patch.c - seed ClientSession.patch_session / patch on the runtime
 * (api-seed.md §5.1, session.md §10.3): the SESSION_PATCH is queued with a
 * record as its user_data; the session matches ACKs first in, first out
 * and hands the record back with NNRP_EV_PATCH_ACK, where the blocking
 * call finds its ACK. The effective state is the session's.
 */
#include <stdlib.h>
#include <string.h>

#include "runtime/client_int.h"

nnrp__cpatch *nnrp__cpatch_find(nnrp_client_session *cs, const void *ud) {
  for (nnrp__link *l = cs->patches.next; l != &cs->patches; l = l->next) {
    nnrp__cpatch *p = NNRP__CONTAINER(l, nnrp__cpatch, node);
    if ((const void *)p == ud)
      return p;
  }
  return NULL;
}

static void patch_free(nnrp__cpatch *p) {
  nnrp__list_remove(&p->node);
  free(p);
}

void nnrp__cpatch_event(nnrp_client_session *cs, nnrp__cpatch *p,
                        const nnrp_event *ev) {
  (void)cs;
  p->acked = 1;
  p->ack = ev->packet->m.session_patch_ack;
  if (!p->waiting)
    patch_free(p);
}

static int patch_room(void *ctx) {
  const nnrp_client_session *cs = ctx;
  return nnrp_session_get_state(cs->conn.s) != NNRP_STATE_ACTIVE ||
         nnrp_session_patches_outstanding(cs->conn.s) <
             NNRP_PATCH_MAX_OUTSTANDING;
}

typedef struct patch_wait {
  const nnrp_client_session *cs;
  const nnrp__cpatch *p;
} patch_wait;

static int patch_done(void *ctx) {
  const patch_wait *w = ctx;
  return w->p->acked || w->cs->closed;
}

int nnrp_client_session_patch_session(nnrp_client_session *cs,
                                      const nnrp_patch_req *req, int timeout_ms,
                                      nnrp_session_patch_ack *ack_out) {
  if (cs == NULL || req == NULL || cs->deleted)
    return NNRP_ERR_INVALID_ARGUMENT;
  if (timeout_ms != 0 && nnrp__rt_in_loop(cs->conn.rt))
    return NNRP_ERR_INVALID_STATE; /* would send, then fail to wait */
  uint64_t deadline = nnrp__deadline(timeout_ms);
  int rc = nnrp__rt_wait(cs->conn.rt, patch_room, cs, timeout_ms);
  if (rc == NNRP_ERR_TIMEOUT)
    return NNRP_ERR_WOULD_BLOCK;
  if (rc != 0)
    return rc;
  nnrp__cpatch *p = calloc(1, sizeof(*p));
  if (p == NULL)
    return NNRP_ERR_NOMEM;
  p->app_ud = req->user_data;
  nnrp_patch_req r = *req;
  r.user_data = p;
  rc = nnrp_session_patch_session(cs->conn.s, &r, uv_hrtime());
  if (rc != 0) {
    free(p);
    return nnrp_session_get_state(cs->conn.s) == NNRP_STATE_CLOSED
               ? nnrp__client_closed_err(cs)
               : rc;
  }
  nnrp__list_push(&cs->patches, &p->node);
  nnrp__conn_pump(&cs->conn);
  p->waiting = 1;
  patch_wait w = {cs, p};
  rc = nnrp__rt_wait(cs->conn.rt, patch_done, &w,
                     nnrp__left_ms(timeout_ms, deadline));
  p->waiting = 0;
  if (rc == 0 && !p->acked)
    rc = nnrp__client_closed_err(cs);
  if (rc == 0 && ack_out)
    *ack_out = p->ack;
  if (p->acked || cs->closed)
    patch_free(p); /* else the ACK frees it when it comes */
  return rc;
}

int nnrp_client_session_patch(nnrp_client_session *cs,
                              const nnrp_patch_req *req, int timeout_ms,
                              nnrp_session_patch_ack *ack_out) {
  return nnrp_client_session_patch_session(cs, req, timeout_ms, ack_out);
}

int nnrp_client_session_effective_profile(const nnrp_client_session *cs,
                                          nnrp_effective_profile *out) {
  if (cs == NULL)
    return NNRP_ERR_INVALID_ARGUMENT;
  return nnrp_session_effective_profile(cs->conn.s, out);
}
