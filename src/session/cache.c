/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cache.c - the per-session object cache of session.md §9. This revision
 * negotiates the cache as disabled (cache_object_bitmap 0, quotas 0,
 * server_flags 0), answers CACHE_PUT with CACHE_ACK REJECTED (detail 4,
 * cache disabled, wire.md §11.11), ignores CACHE_INVALIDATE (nothing is
 * cached) and surfaces CACHE_ACK to the client application. References in a
 * submit are already refused by the wire decoder (step 17: cache disabled).
 */
#include <string.h>

#include "session_int.h"

void nnrp__cache_negotiate(nnrp_session *s, const nnrp_client_hello *c,
                           nnrp_server_hello_ack *a) {
  (void)s;
  (void)c;
  a->cache_object_bitmap = 0;
  a->max_cache_entries = 0;
  a->max_cache_bytes = 0;
  a->server_flags = 0;
}

int nnrp__cache_on_put(nnrp_session *s, const nnrp_packet *p) {
  nnrp_header h;
  nnrp_header_init(&h, NNRP_MSG_CACHE_ACK);
  h.session_id = s->session_id;
  h.route_id = p->hdr.route_id;
  h.trace_id = p->hdr.trace_id;
  nnrp_meta m;
  memset(&m, 0, sizeof(m));
  m.cache_ack.cache_namespace = p->m.cache_put.cache_namespace;
  m.cache_ack.cache_key_hi = p->m.cache_put.cache_key_hi;
  m.cache_ack.cache_key_lo = p->m.cache_put.cache_key_lo;
  m.cache_ack.status = NNRP_CACHE_ACK_REJECTED;
  m.cache_ack.detail_code = 4; /* wire.md §11.11: cache disabled */
  return nnrp__send_control(s, &h, &m, NULL);
}

int nnrp__cache_on_invalidate(nnrp_session *s, const nnrp_packet *p) {
  (void)s;
  (void)p;
  return 0;
}

int nnrp__cache_on_ack(nnrp_session *s, const nnrp_packet *p) {
  return nnrp__on_control_event(s, p, NNRP_EV_CACHE_ACK);
}

int nnrp__cache_resolve_submit(nnrp_session *s, const nnrp_packet *p,
                               nnrp_frame *f) {
  (void)s;
  (void)p;
  (void)f;
  return 0;
}

uint64_t nnrp__cache_next_expiry(const nnrp_session *s) {
  (void)s;
  return UINT64_MAX;
}

int nnrp__cache_expiry(nnrp_session *s, uint64_t now) {
  (void)s;
  (void)now;
  return 0;
}

void nnrp__cache_free(nnrp_session *s) { (void)s; }
