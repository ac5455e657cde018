/* SPDX-License-Identifier: Apache-2.0 */
/*
 * patch.c - session patch of session.md §10. This revision rejects every
 * SESSION_PATCH (SESSION_PATCH_ACK REJECTED, UNSUPPORTED_FIELD, the whole
 * mask rejected, the values in force reported) and surfaces a received
 * SESSION_PATCH_ACK to the client application.
 */
#include <string.h>

#include "session_int.h"

int nnrp__patch_on_request(nnrp_session *s, const nnrp_packet *p) {
  nnrp_header h;
  nnrp_header_init(&h, NNRP_MSG_SESSION_PATCH_ACK);
  h.session_id = s->session_id;
  h.route_id = p->hdr.route_id;
  h.trace_id = p->hdr.trace_id;
  nnrp_meta m;
  memset(&m, 0, sizeof(m));
  nnrp_session_patch_ack *a = &m.session_patch_ack;
  a->ack_status = NNRP_PATCH_ACK_REJECTED;
  a->reject_reason = NNRP_PATCH_REJECT_UNSUPPORTED_FIELD;
  a->rejected_patch_mask = p->m.session_patch.patch_mask;
  a->effective_target_cadence_x100 = s->hello.target_cadence_x100;
  a->effective_quality_tier = s->hello.quality_tier;
  a->effective_degrade_policy = s->hello.degrade_policy;
  return nnrp__send_control(s, &h, &m, NULL);
}

int nnrp__patch_on_ack(nnrp_session *s, const nnrp_packet *p) {
  return nnrp__on_control_event(s, p, NNRP_EV_PATCH_ACK);
}

void nnrp__patch_free(nnrp_session *s) { (void)s; }
