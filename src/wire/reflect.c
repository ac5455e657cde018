/* SPDX-License-Identifier: Apache-2.0 */
/*
 * reflect.c - field tables of the public wire structs (names exactly as in
 * wire.md) in wire order; offsets and sizes come from offsetof/sizeof so they
 * cannot drift from the structs. Used by the
 * CLI's JSON output, the Python binding and the vector tests.
 */
#include <stddef.h>
#include <string.h>

#include "wire_int.h"

#define F(s, f)                                                                \
  { #f, (uint16_t)offsetof(s, f), (uint8_t)sizeof(((s *)0)->f) }

static const nnrp_field_desc f_header[] = {
    F(nnrp_header, version_major), F(nnrp_header, wire_format),
    F(nnrp_header, msg_type),      F(nnrp_header, header_len),
    F(nnrp_header, flags),         F(nnrp_header, meta_len),
    F(nnrp_header, body_len),      F(nnrp_header, session_id),
    F(nnrp_header, frame_id),      F(nnrp_header, view_id),
    F(nnrp_header, route_id),      F(nnrp_header, trace_id),
};
static const nnrp_field_desc f_client_hello[] = {
    F(nnrp_client_hello, min_version_major),
    F(nnrp_client_hello, max_version_major),
    F(nnrp_client_hello, supported_wire_format_bitmap),
    F(nnrp_client_hello, supported_profile_bitmap),
    F(nnrp_client_hello, supported_payload_kind_bitmap),
    F(nnrp_client_hello, supported_codec_bitmap),
    F(nnrp_client_hello, supported_compression_bitmap),
    F(nnrp_client_hello, supported_dtype_bitmap),
    F(nnrp_client_hello, supported_layout_bitmap),
    F(nnrp_client_hello, cache_digest_bitmap),
    F(nnrp_client_hello, cache_object_bitmap),
    F(nnrp_client_hello, cache_namespace_count),
    F(nnrp_client_hello, max_lane_count),
    F(nnrp_client_hello, max_cache_entries),
    F(nnrp_client_hello, max_cache_bytes),
    F(nnrp_client_hello, target_cadence_x100),
    F(nnrp_client_hello, latency_budget_ms),
    F(nnrp_client_hello, quality_tier),
    F(nnrp_client_hello, degrade_policy),
    F(nnrp_client_hello, requested_session_id),
    F(nnrp_client_hello, auth_bytes),
    F(nnrp_client_hello, control_extension_bytes),
};
static const nnrp_field_desc f_server_hello_ack[] = {
    F(nnrp_server_hello_ack, selected_version_major),
    F(nnrp_server_hello_ack, selected_wire_format),
    F(nnrp_server_hello_ack, auth_status),
    F(nnrp_server_hello_ack, reserved0),
    F(nnrp_server_hello_ack, session_id),
    F(nnrp_server_hello_ack, accepted_profile_bitmap),
    F(nnrp_server_hello_ack, accepted_payload_kind_bitmap),
    F(nnrp_server_hello_ack, accepted_codec_bitmap),
    F(nnrp_server_hello_ack, accepted_compression_bitmap),
    F(nnrp_server_hello_ack, accepted_dtype_bitmap),
    F(nnrp_server_hello_ack, accepted_layout_bitmap),
    F(nnrp_server_hello_ack, cache_digest_bitmap),
    F(nnrp_server_hello_ack, cache_object_bitmap),
    F(nnrp_server_hello_ack, max_cache_entries),
    F(nnrp_server_hello_ack, max_cache_bytes),
    F(nnrp_server_hello_ack, max_lane_count),
    F(nnrp_server_hello_ack, max_concurrent_frames),
    F(nnrp_server_hello_ack, target_cadence_x100),
    F(nnrp_server_hello_ack, latency_budget_ms),
    F(nnrp_server_hello_ack, quality_tier),
    F(nnrp_server_hello_ack, degrade_policy),
    F(nnrp_server_hello_ack, max_body_bytes),
    F(nnrp_server_hello_ack, token_ttl_ms),
    F(nnrp_server_hello_ack, retry_after_ms),
    F(nnrp_server_hello_ack, control_extension_bytes),
    F(nnrp_server_hello_ack, server_flags),
};
static const nnrp_field_desc f_session_patch[] = {
    F(nnrp_session_patch, profile_id),
    F(nnrp_session_patch, reserved0),
    F(nnrp_session_patch, patch_mask),
    F(nnrp_session_patch, target_cadence_x100),
    F(nnrp_session_patch, quality_tier),
    F(nnrp_session_patch, degrade_policy),
    F(nnrp_session_patch, active_lane_mask),
    F(nnrp_session_patch, preferred_codec_bitmap),
    F(nnrp_session_patch, preferred_compression_bitmap),
    F(nnrp_session_patch, profile_patch_bytes),
};
static const nnrp_field_desc f_session_patch_ack[] = {
    F(nnrp_session_patch_ack, ack_status),
    F(nnrp_session_patch_ack, reject_reason),
    F(nnrp_session_patch_ack, applied_patch_mask),
    F(nnrp_session_patch_ack, rejected_patch_mask),
    F(nnrp_session_patch_ack, retry_after_ms),
    F(nnrp_session_patch_ack, effective_profile_id),
    F(nnrp_session_patch_ack, reserved0),
    F(nnrp_session_patch_ack, effective_target_cadence_x100),
    F(nnrp_session_patch_ack, effective_quality_tier),
    F(nnrp_session_patch_ack, effective_degrade_policy),
    F(nnrp_session_patch_ack, effective_lane_mask),
    F(nnrp_session_patch_ack, effective_codec_bitmap),
    F(nnrp_session_patch_ack, effective_compression_bitmap),
    F(nnrp_session_patch_ack, profile_patch_ack_bytes),
};
static const nnrp_field_desc f_profile_patch[] = {
    F(nnrp_profile_patch, min_width),
    F(nnrp_profile_patch, min_height),
    F(nnrp_profile_patch, max_width),
    F(nnrp_profile_patch, max_height),
};
static const nnrp_field_desc f_error_meta[] = {
    F(nnrp_error_meta, error_code),
    F(nnrp_error_meta, error_scope),
    F(nnrp_error_meta, is_fatal),
    F(nnrp_error_meta, retry_after_ms),
    F(nnrp_error_meta, related_session_id),
    F(nnrp_error_meta, related_frame_id),
    F(nnrp_error_meta, related_view_id),
    F(nnrp_error_meta, diagnostic_bytes),
};
static const nnrp_field_desc f_frame_submit[] = {
    F(nnrp_frame_submit, src_width),
    F(nnrp_frame_submit, src_height),
    F(nnrp_frame_submit, tile_width),
    F(nnrp_frame_submit, tile_height),
    F(nnrp_frame_submit, tile_count),
    F(nnrp_frame_submit, section_count),
    F(nnrp_frame_submit, frame_class),
    F(nnrp_frame_submit, input_profile),
    F(nnrp_frame_submit, tile_index_mode),
    F(nnrp_frame_submit, reserved0),
    F(nnrp_frame_submit, latency_budget_ms),
    F(nnrp_frame_submit, target_fps_x100),
    F(nnrp_frame_submit, retry_of_frame),
    F(nnrp_frame_submit, tile_base_id),
    F(nnrp_frame_submit, camera_bytes),
    F(nnrp_frame_submit, tile_index_bytes),
    F(nnrp_frame_submit, reserved1),
    F(nnrp_frame_submit, reserved2),
    F(nnrp_frame_submit, submit_mode),
    F(nnrp_frame_submit, budget_policy),
    F(nnrp_frame_submit, loss_tolerance_policy),
    F(nnrp_frame_submit, reserved3),
    F(nnrp_frame_submit, object_ref_mask),
    F(nnrp_frame_submit, dependency_frame_id),
    F(nnrp_frame_submit, payload_kind_bitmap),
    F(nnrp_frame_submit, payload_frame_count),
    F(nnrp_frame_submit, reserved4),
};
static const nnrp_field_desc f_result_push[] = {
    F(nnrp_result_push, status_code),
    F(nnrp_result_push, result_flags),
    F(nnrp_result_push, section_count),
    F(nnrp_result_push, tile_count),
    F(nnrp_result_push, active_profile_id),
    F(nnrp_result_push, reserved0),
    F(nnrp_result_push, inference_ms),
    F(nnrp_result_push, queue_ms),
    F(nnrp_result_push, server_total_ms),
    F(nnrp_result_push, reserved1),
    F(nnrp_result_push, tile_base_id),
    F(nnrp_result_push, tile_index_bytes),
    F(nnrp_result_push, reserved2),
    F(nnrp_result_push, reserved3),
    F(nnrp_result_push, result_class),
    F(nnrp_result_push, applied_budget_policy),
    F(nnrp_result_push, reserved4),
    F(nnrp_result_push, reused_frame_id),
    F(nnrp_result_push, covered_tile_count),
    F(nnrp_result_push, dropped_tile_count),
    F(nnrp_result_push, payload_kind_bitmap),
    F(nnrp_result_push, payload_frame_count),
    F(nnrp_result_push, reserved5),
};
static const nnrp_field_desc f_cache_put[] = {
    F(nnrp_cache_put, cache_namespace), F(nnrp_cache_put, cache_key_hi),
    F(nnrp_cache_put, cache_key_lo),    F(nnrp_cache_put, object_kind),
    F(nnrp_cache_put, ttl_ms),          F(nnrp_cache_put, object_bytes),
    F(nnrp_cache_put, codec_bitmap),    F(nnrp_cache_put, flags),
};
static const nnrp_field_desc f_cache_ack[] = {
    F(nnrp_cache_ack, cache_namespace), F(nnrp_cache_ack, cache_key_hi),
    F(nnrp_cache_ack, cache_key_lo),    F(nnrp_cache_ack, status),
    F(nnrp_cache_ack, accepted_ttl_ms), F(nnrp_cache_ack, max_object_bytes),
    F(nnrp_cache_ack, detail_code),
};
static const nnrp_field_desc f_cache_invalidate[] = {
    F(nnrp_cache_invalidate, invalidate_scope),
    F(nnrp_cache_invalidate, cache_namespace),
    F(nnrp_cache_invalidate, cache_key_hi),
    F(nnrp_cache_invalidate, cache_key_lo),
    F(nnrp_cache_invalidate, reason_code),
};
static const nnrp_field_desc f_flow_update[] = {
    F(nnrp_flow_update, scope_kind),
    F(nnrp_flow_update, update_reason),
    F(nnrp_flow_update, backpressure_level),
    F(nnrp_flow_update, reserved0),
    F(nnrp_flow_update, connection_credit),
    F(nnrp_flow_update, session_credit),
    F(nnrp_flow_update, operation_credit),
    F(nnrp_flow_update, reserved1),
    F(nnrp_flow_update, operation_id),
    F(nnrp_flow_update, retry_after_ms),
    F(nnrp_flow_update, credit_epoch),
    F(nnrp_flow_update, flow_flags),
};
static const nnrp_field_desc f_result_hint[] = {
    F(nnrp_result_hint, applied_budget_policy),
    F(nnrp_result_hint, congestion_state),
    F(nnrp_result_hint, reason),
    F(nnrp_result_hint, retry_after_ms),
};
static const nnrp_field_desc f_transport_probe[] = {
    F(nnrp_transport_probe, probe_id),
    F(nnrp_transport_probe, probe_payload_bytes),
    F(nnrp_transport_probe, client_send_ts_us),
};
static const nnrp_field_desc f_transport_probe_ack[] = {
    F(nnrp_transport_probe_ack, probe_id),
    F(nnrp_transport_probe_ack, reserved0),
    F(nnrp_transport_probe_ack, server_recv_ts_us),
};
static const nnrp_field_desc f_session_migrate[] = {
    F(nnrp_session_migrate, old_transport_id),
    F(nnrp_session_migrate, new_transport_id),
    F(nnrp_session_migrate, last_result_frame_id),
    F(nnrp_session_migrate, client_migrate_ts_us),
};
static const nnrp_field_desc f_session_migrate_ack[] = {
    F(nnrp_session_migrate_ack, accept_code),
    F(nnrp_session_migrate_ack, resume_from_frame_id),
    F(nnrp_session_migrate_ack, grace_window_ms),
    F(nnrp_session_migrate_ack, server_migrate_ts_us),
};
static const nnrp_field_desc f_ext_transport_policy[] = {
    F(nnrp_ext_transport_policy, transport_policy),
    F(nnrp_ext_transport_policy, accepted_transport_policy),
    F(nnrp_ext_transport_policy, reserved),
    F(nnrp_ext_transport_policy, transport_id),
};
static const nnrp_field_desc f_ext_loss_tolerance[] = {
    F(nnrp_ext_loss_tolerance, loss_tolerance),
    F(nnrp_ext_loss_tolerance, reserved0),
    F(nnrp_ext_loss_tolerance, reserved1),
    F(nnrp_ext_loss_tolerance, reserved2),
};
static const nnrp_field_desc f_ext_payload_caps[] = {
    F(nnrp_ext_payload_caps, payload_kind_bitmap),
    F(nnrp_ext_payload_caps, critical_extension_frame_bitmap),
};
static const nnrp_field_desc f_section_desc[] = {
    F(nnrp_section_desc, role_id),
    F(nnrp_section_desc, codec_id),
    F(nnrp_section_desc, dtype_id),
    F(nnrp_section_desc, layout_id),
    F(nnrp_section_desc, scale_policy),
    F(nnrp_section_desc, flags),
    F(nnrp_section_desc, element_count_per_tile),
    F(nnrp_section_desc, codec_table_bytes),
    F(nnrp_section_desc, length_table_bytes),
    F(nnrp_section_desc, payload_bytes),
    F(nnrp_section_desc, payload_stride_bytes),
    F(nnrp_section_desc, reserved),
};
static const nnrp_field_desc f_prelude[] = {
    F(nnrp_prelude, inline_object_bytes),
    F(nnrp_prelude, object_reference_bytes),
    F(nnrp_prelude, typed_payload_descriptor_bytes),
    F(nnrp_prelude, typed_payload_frame_bytes),
    F(nnrp_prelude, extension_descriptor_bytes),
    F(nnrp_prelude, extension_payload_bytes),
    F(nnrp_prelude, body_flags),
    F(nnrp_prelude, reserved),
};
static const nnrp_field_desc f_inline_object[] = {
    F(nnrp_inline_object, object_kind),  F(nnrp_inline_object, object_flags),
    F(nnrp_inline_object, profile_id),   F(nnrp_inline_object, reserved0),
    F(nnrp_inline_object, object_bytes), F(nnrp_inline_object, reserved1),
};
static const nnrp_field_desc f_object_ref[] = {
    F(nnrp_object_ref, object_kind),     F(nnrp_object_ref, ref_flags),
    F(nnrp_object_ref, cache_namespace), F(nnrp_object_ref, cache_key_hi),
    F(nnrp_object_ref, cache_key_lo),
};
static const nnrp_field_desc f_typed_frame[] = {
    F(nnrp_typed_frame, payload_kind),   F(nnrp_typed_frame, descriptor_flags),
    F(nnrp_typed_frame, profile_id),     F(nnrp_typed_frame, payload_offset),
    F(nnrp_typed_frame, payload_length), F(nnrp_typed_frame, reserved),
};
static const nnrp_field_desc f_ext_frame[] = {
    F(nnrp_ext_frame, extension_kind), F(nnrp_ext_frame, extension_flags),
    F(nnrp_ext_frame, profile_id),     F(nnrp_ext_frame, reserved0),
    F(nnrp_ext_frame, payload_offset), F(nnrp_ext_frame, payload_length),
};

static const struct {
  const nnrp_field_desc *f;
  size_t n;
  const char *name;
} tables[] = {
    [NNRP_STRUCT_HEADER] = {f_header, sizeof(f_header) / sizeof(f_header[0]),
                            "header"},
    [NNRP_STRUCT_CLIENT_HELLO] = {f_client_hello,
                                  sizeof(f_client_hello) /
                                      sizeof(f_client_hello[0]),
                                  "client_hello"},
    [NNRP_STRUCT_SERVER_HELLO_ACK] = {f_server_hello_ack,
                                      sizeof(f_server_hello_ack) /
                                          sizeof(f_server_hello_ack[0]),
                                      "server_hello_ack"},
    [NNRP_STRUCT_SESSION_PATCH] = {f_session_patch,
                                   sizeof(f_session_patch) /
                                       sizeof(f_session_patch[0]),
                                   "session_patch"},
    [NNRP_STRUCT_SESSION_PATCH_ACK] = {f_session_patch_ack,
                                       sizeof(f_session_patch_ack) /
                                           sizeof(f_session_patch_ack[0]),
                                       "session_patch_ack"},
    [NNRP_STRUCT_PROFILE_PATCH] = {f_profile_patch,
                                   sizeof(f_profile_patch) /
                                       sizeof(f_profile_patch[0]),
                                   "profile_patch"},
    [NNRP_STRUCT_ERROR_META] = {f_error_meta,
                                sizeof(f_error_meta) / sizeof(f_error_meta[0]),
                                "error_meta"},
    [NNRP_STRUCT_FRAME_SUBMIT] = {f_frame_submit,
                                  sizeof(f_frame_submit) /
                                      sizeof(f_frame_submit[0]),
                                  "frame_submit"},
    [NNRP_STRUCT_RESULT_PUSH] = {f_result_push,
                                 sizeof(f_result_push) /
                                     sizeof(f_result_push[0]),
                                 "result_push"},
    [NNRP_STRUCT_CACHE_PUT] = {f_cache_put,
                               sizeof(f_cache_put) / sizeof(f_cache_put[0]),
                               "cache_put"},
    [NNRP_STRUCT_CACHE_ACK] = {f_cache_ack,
                               sizeof(f_cache_ack) / sizeof(f_cache_ack[0]),
                               "cache_ack"},
    [NNRP_STRUCT_CACHE_INVALIDATE] = {f_cache_invalidate,
                                      sizeof(f_cache_invalidate) /
                                          sizeof(f_cache_invalidate[0]),
                                      "cache_invalidate"},
    [NNRP_STRUCT_FLOW_UPDATE] = {f_flow_update,
                                 sizeof(f_flow_update) /
                                     sizeof(f_flow_update[0]),
                                 "flow_update"},
    [NNRP_STRUCT_RESULT_HINT] = {f_result_hint,
                                 sizeof(f_result_hint) /
                                     sizeof(f_result_hint[0]),
                                 "result_hint"},
    [NNRP_STRUCT_TRANSPORT_PROBE] = {f_transport_probe,
                                     sizeof(f_transport_probe) /
                                         sizeof(f_transport_probe[0]),
                                     "transport_probe"},
    [NNRP_STRUCT_TRANSPORT_PROBE_ACK] = {f_transport_probe_ack,
                                         sizeof(f_transport_probe_ack) /
                                             sizeof(f_transport_probe_ack[0]),
                                         "transport_probe_ack"},
    [NNRP_STRUCT_SESSION_MIGRATE] = {f_session_migrate,
                                     sizeof(f_session_migrate) /
                                         sizeof(f_session_migrate[0]),
                                     "session_migrate"},
    [NNRP_STRUCT_SESSION_MIGRATE_ACK] = {f_session_migrate_ack,
                                         sizeof(f_session_migrate_ack) /
                                             sizeof(f_session_migrate_ack[0]),
                                         "session_migrate_ack"},
    [NNRP_STRUCT_EXT_TRANSPORT_POLICY] = {f_ext_transport_policy,
                                          sizeof(f_ext_transport_policy) /
                                              sizeof(f_ext_transport_policy[0]),
                                          "ext_transport_policy"},
    [NNRP_STRUCT_EXT_LOSS_TOLERANCE] = {f_ext_loss_tolerance,
                                        sizeof(f_ext_loss_tolerance) /
                                            sizeof(f_ext_loss_tolerance[0]),
                                        "ext_loss_tolerance"},
    [NNRP_STRUCT_EXT_PAYLOAD_CAPS] = {f_ext_payload_caps,
                                      sizeof(f_ext_payload_caps) /
                                          sizeof(f_ext_payload_caps[0]),
                                      "ext_payload_caps"},
    [NNRP_STRUCT_SECTION_DESC] = {f_section_desc,
                                  sizeof(f_section_desc) /
                                      sizeof(f_section_desc[0]),
                                  "section_desc"},
    [NNRP_STRUCT_PRELUDE] = {f_prelude,
                             sizeof(f_prelude) / sizeof(f_prelude[0]),
                             "prelude"},
    [NNRP_STRUCT_INLINE_OBJECT] = {f_inline_object,
                                   sizeof(f_inline_object) /
                                       sizeof(f_inline_object[0]),
                                   "inline_object"},
    [NNRP_STRUCT_OBJECT_REF] = {f_object_ref,
                                sizeof(f_object_ref) / sizeof(f_object_ref[0]),
                                "object_ref"},
    [NNRP_STRUCT_TYPED_FRAME] = {f_typed_frame,
                                 sizeof(f_typed_frame) /
                                     sizeof(f_typed_frame[0]),
                                 "typed_frame"},
    [NNRP_STRUCT_EXT_FRAME] = {f_ext_frame,
                               sizeof(f_ext_frame) / sizeof(f_ext_frame[0]),
                               "ext_frame"},
};

const nnrp_field_desc *nnrp_struct_fields(int id, size_t *count) {
  if (id < 0 || (size_t)id >= sizeof(tables) / sizeof(tables[0])) {
    *count = 0;
    return NULL;
  }
  *count = tables[id].n;
  return tables[id].f;
}

const char *nnrp_struct_name(int id) {
  if (id < 0 || (size_t)id >= sizeof(tables) / sizeof(tables[0]))
    return NULL;
  return tables[id].name;
}

int nnrp_meta_struct_id(uint8_t msg_type) {
  switch (msg_type) {
  case NNRP_MSG_CLIENT_HELLO:
    return NNRP_STRUCT_CLIENT_HELLO;
  case NNRP_MSG_SERVER_HELLO_ACK:
    return NNRP_STRUCT_SERVER_HELLO_ACK;
  case NNRP_MSG_SESSION_PATCH:
    return NNRP_STRUCT_SESSION_PATCH;
  case NNRP_MSG_SESSION_PATCH_ACK:
    return NNRP_STRUCT_SESSION_PATCH_ACK;
  case NNRP_MSG_ERROR:
    return NNRP_STRUCT_ERROR_META;
  case NNRP_MSG_FRAME_SUBMIT:
    return NNRP_STRUCT_FRAME_SUBMIT;
  case NNRP_MSG_RESULT_PUSH:
    return NNRP_STRUCT_RESULT_PUSH;
  case NNRP_MSG_CACHE_PUT:
    return NNRP_STRUCT_CACHE_PUT;
  case NNRP_MSG_CACHE_ACK:
    return NNRP_STRUCT_CACHE_ACK;
  case NNRP_MSG_CACHE_INVALIDATE:
    return NNRP_STRUCT_CACHE_INVALIDATE;
  case NNRP_MSG_FLOW_UPDATE:
    return NNRP_STRUCT_FLOW_UPDATE;
  case NNRP_MSG_RESULT_HINT:
    return NNRP_STRUCT_RESULT_HINT;
  case NNRP_MSG_TRANSPORT_PROBE:
    return NNRP_STRUCT_TRANSPORT_PROBE;
  case NNRP_MSG_TRANSPORT_PROBE_ACK:
    return NNRP_STRUCT_TRANSPORT_PROBE_ACK;
  case NNRP_MSG_SESSION_MIGRATE:
    return NNRP_STRUCT_SESSION_MIGRATE;
  case NNRP_MSG_SESSION_MIGRATE_ACK:
    return NNRP_STRUCT_SESSION_MIGRATE_ACK;
  default:
    return -1;
  }
}

uint64_t nnrp_field_get(const void *base, const nnrp_field_desc *fd) {
  const uint8_t *p = (const uint8_t *)base + fd->offset;
  switch (fd->size) {
  case 1:
    return *p;
  case 2: {
    uint16_t v;
    memcpy(&v, p, 2);
    return v;
  }
  case 4: {
    uint32_t v;
    memcpy(&v, p, 4);
    return v;
  }
  default: {
    uint64_t v;
    memcpy(&v, p, 8);
    return v;
  }
  }
}

void nnrp_field_set(void *base, const nnrp_field_desc *fd, uint64_t v) {
  uint8_t *p = (uint8_t *)base + fd->offset;
  switch (fd->size) {
  case 1:
    *p = (uint8_t)v;
    break;
  case 2: {
    uint16_t x = (uint16_t)v;
    memcpy(p, &x, 2);
    break;
  }
  case 4: {
    uint32_t x = (uint32_t)v;
    memcpy(p, &x, 4);
    break;
  }
  default:
    memcpy(p, &v, 8);
    break;
  }
}

const nnrp_field_desc *nnrp_field_find(int id, const char *name) {
  size_t n;
  const nnrp_field_desc *f = nnrp_struct_fields(id, &n);
  for (size_t i = 0; i < n; i++)
    if (strcmp(f[i].name, name) == 0)
      return &f[i];
  return NULL;
}
