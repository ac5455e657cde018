/* SPDX-License-Identifier: Apache-2.0 */
/*
 * flow.c - flow control and backpressure of session.md §8: FLOW_UPDATE and
 * RESULT_HINT received. This revision surfaces both to the application and
 * sets no window of its own (the advertised max_concurrent_frames still
 * applies, in frames_client.c).
 */
#include <string.h>

#include "session_int.h"

int nnrp__flow_on_update(nnrp_session *s, const nnrp_packet *p) {
  return nnrp__on_control_event(s, p, NNRP_EV_FLOW_UPDATE);
}

int nnrp__flow_on_hint(nnrp_session *s, const nnrp_packet *p) {
  return nnrp__on_control_event(s, p, NNRP_EV_RESULT_HINT);
}

uint32_t nnrp__flow_window(const nnrp_session *s) {
  (void)s;
  return UINT32_MAX;
}

uint64_t nnrp__flow_next_expiry(const nnrp_session *s) {
  (void)s;
  return UINT64_MAX;
}

int nnrp__flow_expiry(nnrp_session *s, uint64_t now) {
  (void)s;
  (void)now;
  return 0;
}

void nnrp__flow_free(nnrp_session *s) { (void)s; }
