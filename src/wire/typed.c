/* SPDX-License-Identifier: Apache-2.0 */
/*
 * typed.c - the typed-frame helpers (seed build_*_frame, api-seed.md §3.3):
 * fill an nnrp_typed_frame with one PayloadKind (wire.md §9.4), a profile id
 * and a borrowed view of the frame bytes. Offsets and lengths are derived by
 * the builders.
 */
#include <string.h>

#include "wire_int.h"

static void typed_fill(nnrp_typed_frame *f, uint8_t kind, nnrp_bytes data,
                       uint16_t profile_id) {
  memset(f, 0, sizeof(*f));
  f->payload_kind = kind;
  f->profile_id = profile_id;
  f->payload_length = (uint32_t)data.len; /* informational; builders derive */
  f->data = data;
}

void nnrp_token_chunk_frame(nnrp_typed_frame *f, nnrp_bytes data,
                            uint16_t profile_id) {
  typed_fill(f, NNRP_PAYLOAD_KIND_TOKEN_CHUNK, data, profile_id);
}

void nnrp_audio_chunk_frame(nnrp_typed_frame *f, nnrp_bytes data,
                            uint16_t profile_id) {
  typed_fill(f, NNRP_PAYLOAD_KIND_AUDIO_CHUNK, data, profile_id);
}

void nnrp_video_chunk_frame(nnrp_typed_frame *f, nnrp_bytes data,
                            uint16_t profile_id) {
  typed_fill(f, NNRP_PAYLOAD_KIND_VIDEO_CHUNK, data, profile_id);
}

void nnrp_structured_event_frame(nnrp_typed_frame *f, nnrp_bytes data,
                                 uint16_t profile_id) {
  typed_fill(f, NNRP_PAYLOAD_KIND_STRUCTURED_EVENT, data, profile_id);
}

void nnrp_tool_delta_frame(nnrp_typed_frame *f, nnrp_bytes data,
                           uint16_t profile_id) {
  typed_fill(f, NNRP_PAYLOAD_KIND_TOOL_DELTA, data, profile_id);
}

void nnrp_opaque_bytes_frame(nnrp_typed_frame *f, nnrp_bytes data,
                             uint16_t profile_id) {
  typed_fill(f, NNRP_PAYLOAD_KIND_OPAQUE_BYTES, data, profile_id);
}
