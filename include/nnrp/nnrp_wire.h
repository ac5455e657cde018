/* SPDX-License-Identifier: Apache-2.0 */
/*
 * nnrp_wire.h - the NNRP/1 (seed line) wire codec: every enum, the 40-byte
 * header, the fixed metadata of all 21 messages, control extension TLVs,
 * tensor and composed bodies, packet builders and a streaming reader.
 *
 * Spec: shared/spec/wire.md. Field names are the names of wire.md.
 *
 * Conventions of this header
 *  - Nothing here allocates, performs I/O or keeps global state.
 *  - Decoders never copy payload bytes: nnrp_bytes views and the pointers in
 *    decoded structs point into the caller's input buffer and stay valid as
 *    long as that buffer does (the caller owns it).
 *  - Decoders validate strictly unless NNRP_WIRE_LENIENT is set (wire.md §13),
 *    return 0 or a negative NNRP_ERR_* and, on failure, fill *fault when
 *    fault is not NULL. On failure the output struct is unspecified.
 *  - Encoders write bytes exactly as the struct says (reserved fields too:
 *    callers keep them 0). Builders (nnrp_build_*) derive every length, count
 *    and bitmap themselves and refuse inconsistent input with
 *    NNRP_ERR_INCONSISTENT.
 */
#ifndef NNRP_WIRE_H
#define NNRP_WIRE_H

#include <stddef.h>
#include <stdint.h>

#include "nnrp_error.h"
#include "nnrp_version.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ======================================================================== */
/* Constants and enums (wire.md §2, §11)                                    */
/* ======================================================================== */

#define NNRP_HEADER_LEN 40u
#define NNRP_MAGIC "NNRP"
/** Hard cap on a packet (decision D19). */
#define NNRP_MAX_PACKET_BYTES (64u * 1024u * 1024u)
#define NNRP_DEFAULT_MAX_BODY_BYTES (32u * 1024u * 1024u)
#define NNRP_DEFAULT_MAX_SECTIONS 16u
#define NNRP_ALPN "nnrp/1"
#define NNRP_TCP_TLS_ALPN "nnrp/1-tcp"

typedef enum nnrp_msg_type {
  NNRP_MSG_CLIENT_HELLO = 0x01,
  NNRP_MSG_SERVER_HELLO_ACK = 0x02,
  NNRP_MSG_SESSION_PATCH = 0x03,
  NNRP_MSG_SESSION_PATCH_ACK = 0x04,
  NNRP_MSG_CLOSE = 0x05,
  NNRP_MSG_ERROR = 0x06,
  NNRP_MSG_FRAME_SUBMIT = 0x10,
  NNRP_MSG_FRAME_CANCEL = 0x11,
  NNRP_MSG_RESULT_PUSH = 0x12,
  NNRP_MSG_RESULT_DROP = 0x13,
  NNRP_MSG_CACHE_PUT = 0x14,
  NNRP_MSG_CACHE_ACK = 0x15,
  NNRP_MSG_CACHE_INVALIDATE = 0x16,
  NNRP_MSG_FLOW_UPDATE = 0x17,
  NNRP_MSG_RESULT_HINT = 0x18,
  NNRP_MSG_TRANSPORT_PROBE = 0x19,
  NNRP_MSG_TRANSPORT_PROBE_ACK = 0x1A,
  NNRP_MSG_SESSION_MIGRATE = 0x1B,
  NNRP_MSG_SESSION_MIGRATE_ACK = 0x1C,
  NNRP_MSG_PING = 0x20,
  NNRP_MSG_PONG = 0x21
} nnrp_msg_type;

/** Header flags (u32 @8). */
#define NNRP_FLAG_ACK_REQUIRED 0x00000001u
#define NNRP_FLAG_CAN_DROP 0x00000002u
#define NNRP_FLAG_STALE 0x00000004u
#define NNRP_FLAG_EOS 0x00000008u
#define NNRP_FLAG_RETRANSMIT 0x00000010u
#define NNRP_FLAG_KEYFRAME 0x00000020u
#define NNRP_FLAG_KNOWN_MASK 0x0000003Fu

typedef enum nnrp_frame_class {
  NNRP_FRAME_CLASS_KEYFRAME = 0,
  NNRP_FRAME_CLASS_DELTA = 1,
  NNRP_FRAME_CLASS_RETRANSMIT = 2,
  NNRP_FRAME_CLASS_DISCARDABLE = 3
} nnrp_frame_class;

/** PayloadKind bits (u32 bitmaps; u8 single kind in typed descriptors). */
#define NNRP_PAYLOAD_KIND_TENSOR 0x01u
#define NNRP_PAYLOAD_KIND_TOKEN_CHUNK 0x02u
#define NNRP_PAYLOAD_KIND_AUDIO_CHUNK 0x04u
#define NNRP_PAYLOAD_KIND_VIDEO_CHUNK 0x08u
#define NNRP_PAYLOAD_KIND_STRUCTURED_EVENT 0x10u
#define NNRP_PAYLOAD_KIND_TOOL_DELTA 0x20u
#define NNRP_PAYLOAD_KIND_OPAQUE_BYTES 0x40u
#define NNRP_PAYLOAD_KIND_KNOWN_MASK 0x7Fu
#define NNRP_PAYLOAD_KIND_TYPED_MASK 0x7Eu

/** Profile ids (bit id-1 in profile bitmaps). */
#define NNRP_PROFILE_UNSPECIFIED 0u
#define NNRP_PROFILE_TENSOR 1u
#define NNRP_PROFILE_TOKEN 2u

typedef enum nnrp_input_profile {
  NNRP_INPUT_PROFILE_UNSPECIFIED = 0,
  NNRP_INPUT_PROFILE_CHANGED_TILES_LUMA = 1,
  NNRP_INPUT_PROFILE_DENSE_LUMA_FRAME = 2
} nnrp_input_profile;

typedef enum nnrp_tile_index_mode {
  NNRP_TILE_INDEX_DENSE_RANGE = 0,
  NNRP_TILE_INDEX_RAW_U16 = 1,
  NNRP_TILE_INDEX_DELTA_U16 = 2,
  NNRP_TILE_INDEX_BITSET = 3
} nnrp_tile_index_mode;

typedef enum nnrp_dtype {
  NNRP_DTYPE_FP16 = 0,
  NNRP_DTYPE_FP32 = 1,
  NNRP_DTYPE_FP8_E4M3 = 2,
  NNRP_DTYPE_FP8_E5M2 = 3,
  NNRP_DTYPE_INT8 = 4,
  NNRP_DTYPE_UINT8 = 5,
  NNRP_DTYPE_INT16 = 6,
  NNRP_DTYPE_UINT16 = 7
} nnrp_dtype;

typedef enum nnrp_layout {
  NNRP_LAYOUT_NHWC = 0,
  NNRP_LAYOUT_NCHW = 1
} nnrp_layout;

typedef enum nnrp_scale_policy {
  NNRP_SCALE_POLICY_NONE = 0,
  NNRP_SCALE_POLICY_LINEAR = 1,
  NNRP_SCALE_POLICY_ZERO_POINT = 2
} nnrp_scale_policy;

/** SectionFlags (u16). */
#define NNRP_SECTION_MIXED_CODEC 0x0001u
#define NNRP_SECTION_FIXED_STRIDE 0x0002u
#define NNRP_SECTION_KNOWN_MASK 0x0003u

typedef enum nnrp_submit_mode {
  NNRP_SUBMIT_MODE_INLINE = 0,
  NNRP_SUBMIT_MODE_REFERENCE = 1,
  NNRP_SUBMIT_MODE_MIXED = 2
} nnrp_submit_mode;

/** BudgetPolicy bits (u8 bitmask in FRAME_SUBMIT / RESULT_PUSH). */
#define NNRP_BUDGET_NONE 0x00u
#define NNRP_BUDGET_ALLOW_PARTIAL 0x01u
#define NNRP_BUDGET_ALLOW_STALE_REUSE 0x02u
#define NNRP_BUDGET_ALLOW_DEGRADED 0x04u
#define NNRP_BUDGET_ALLOW_DROP 0x08u
#define NNRP_BUDGET_KNOWN_MASK 0x0Fu

typedef enum nnrp_result_class {
  NNRP_RESULT_CLASS_COMPLETE = 0,
  NNRP_RESULT_CLASS_PARTIAL = 1,
  NNRP_RESULT_CLASS_STALE_REUSE = 2,
  NNRP_RESULT_CLASS_DEGRADED = 3
} nnrp_result_class;

/** ResultFlags (u16). */
#define NNRP_RESULT_FLAG_STALE 0x0001u
#define NNRP_RESULT_FLAG_FALLBACK 0x0002u
#define NNRP_RESULT_FLAG_PARTIAL 0x0004u
#define NNRP_RESULT_FLAG_KNOWN_MASK 0x0007u

typedef enum nnrp_loss_tolerance {
  NNRP_LOSS_TOLERANCE_STRICT = 0,
  NNRP_LOSS_TOLERANCE_BEST_EFFORT = 1,
  NNRP_LOSS_TOLERANCE_LOW_LATENCY = 2,
  NNRP_LOSS_TOLERANCE_FIRE_AND_FORGET = 3,
  NNRP_LOSS_TOLERANCE_INHERIT = 0xFF /**< FRAME_SUBMIT only */
} nnrp_loss_tolerance;

#define NNRP_EXT_FLAG_CRITICAL 0x0001u

typedef enum nnrp_transport_id {
  NNRP_TRANSPORT_UNSPECIFIED = 0,
  NNRP_TRANSPORT_QUIC = 1,
  NNRP_TRANSPORT_TCP = 2
} nnrp_transport_id;

typedef enum nnrp_transport_policy {
  NNRP_TRANSPORT_POLICY_AUTO = 0,
  NNRP_TRANSPORT_POLICY_PREFER_QUIC = 1,
  NNRP_TRANSPORT_POLICY_PREFER_TCP = 2,
  NNRP_TRANSPORT_POLICY_FORCE_QUIC = 3,
  NNRP_TRANSPORT_POLICY_FORCE_TCP = 4
} nnrp_transport_policy;

typedef enum nnrp_flow_scope {
  NNRP_FLOW_SCOPE_CONNECTION = 0,
  NNRP_FLOW_SCOPE_SESSION = 1,
  NNRP_FLOW_SCOPE_OPERATION = 2
} nnrp_flow_scope;

typedef enum nnrp_flow_reason {
  NNRP_FLOW_REASON_GRANT = 0,
  NNRP_FLOW_REASON_REDUCE = 1,
  NNRP_FLOW_REASON_PAUSE = 2,
  NNRP_FLOW_REASON_RESUME = 3,
  NNRP_FLOW_REASON_CONGESTION = 4
} nnrp_flow_reason;

typedef enum nnrp_backpressure {
  NNRP_BACKPRESSURE_NONE = 0,
  NNRP_BACKPRESSURE_SOFT = 1,
  NNRP_BACKPRESSURE_HARD = 2
} nnrp_backpressure;

/** FlowUpdateFlags (u32). */
#define NNRP_FLOW_CREDIT_VALID 0x1u
#define NNRP_FLOW_RETRY_AFTER_VALID 0x2u
#define NNRP_FLOW_BACKGROUND_ONLY 0x4u
#define NNRP_FLOW_DRAIN_IN_FLIGHT_ONLY 0x8u
#define NNRP_FLOW_KNOWN_MASK 0xFu

/** ResultHintBudgetPolicy: an enum, not the BudgetPolicy bitmask. */
typedef enum nnrp_hint_budget_policy {
  NNRP_HINT_BUDGET_NONE = 0,
  NNRP_HINT_BUDGET_FULL = 1,
  NNRP_HINT_BUDGET_PARTIAL = 2,
  NNRP_HINT_BUDGET_STALE_REUSE = 3,
  NNRP_HINT_BUDGET_DROP = 4
} nnrp_hint_budget_policy;

typedef enum nnrp_congestion {
  NNRP_CONGESTION_NONE = 0,
  NNRP_CONGESTION_STEADY = 1,
  NNRP_CONGESTION_ELEVATED = 2,
  NNRP_CONGESTION_SATURATED = 3
} nnrp_congestion;

typedef enum nnrp_hint_reason {
  NNRP_HINT_REASON_NONE = 0,
  NNRP_HINT_REASON_QUEUE_FULL = 1,
  NNRP_HINT_REASON_SERVER_BUSY = 2,
  NNRP_HINT_REASON_BUDGET_EXCEEDED = 3,
  NNRP_HINT_REASON_SUPERSEDED = 4
} nnrp_hint_reason;

typedef enum nnrp_object_kind {
  NNRP_OBJECT_CAMERA_BLOCK = 1,
  NNRP_OBJECT_TILE_INDEX_BLOCK = 2,
  NNRP_OBJECT_TENSOR_SECTION_TABLE = 3,
  NNRP_OBJECT_CODEC_TABLE = 4,
  NNRP_OBJECT_REUSABLE_RESULT_OBJECT = 5,
  NNRP_OBJECT_PAYLOAD_LAYOUT_TEMPLATE = 6,
  NNRP_OBJECT_PROMPT_SEGMENT = 7,
  NNRP_OBJECT_TOOL_SCHEMA = 8,
  NNRP_OBJECT_STRUCTURED_EVENT_SCHEMA = 9
} nnrp_object_kind;
#define NNRP_CACHE_OBJECT_KNOWN_MASK 0x01FFu

/** CachePutFlags (u32). */
#define NNRP_CACHE_PUT_PINNED 0x1u
#define NNRP_CACHE_PUT_REUSABLE 0x2u
#define NNRP_CACHE_PUT_KNOWN_MASK 0x3u

typedef enum nnrp_cache_ack_status {
  NNRP_CACHE_ACK_ACCEPTED = 0,
  NNRP_CACHE_ACK_REJECTED = 1,
  NNRP_CACHE_ACK_REPLACED = 2
} nnrp_cache_ack_status;

typedef enum nnrp_cache_invalidate_scope {
  NNRP_CACHE_INVALIDATE_WHOLE_SESSION = 0,
  NNRP_CACHE_INVALIDATE_NAMESPACE = 1,
  NNRP_CACHE_INVALIDATE_OBJECT_KIND = 2,
  NNRP_CACHE_INVALIDATE_OBJECT_KEY = 3
} nnrp_cache_invalidate_scope;

/** SessionPatchField bits (u32). */
#define NNRP_PATCH_TARGET_CADENCE 0x01u
#define NNRP_PATCH_QUALITY_TIER 0x02u
#define NNRP_PATCH_DEGRADE_POLICY 0x04u
#define NNRP_PATCH_ACTIVE_LANE_MASK 0x08u
#define NNRP_PATCH_PREFERRED_CODEC 0x10u
#define NNRP_PATCH_PREFERRED_COMPRESSION 0x20u
#define NNRP_PATCH_PROFILE_PATCH 0x40u
#define NNRP_PATCH_KNOWN_MASK 0x7Fu

typedef enum nnrp_patch_ack_status {
  NNRP_PATCH_ACK_ACCEPTED = 0,
  NNRP_PATCH_ACK_PARTIALLY_APPLIED = 1,
  NNRP_PATCH_ACK_REJECTED = 2
} nnrp_patch_ack_status;

typedef enum nnrp_patch_reject_reason {
  NNRP_PATCH_REJECT_NONE = 0,
  NNRP_PATCH_REJECT_UNSUPPORTED_FIELD = 1,
  NNRP_PATCH_REJECT_INVALID_RANGE = 2,
  NNRP_PATCH_REJECT_UNSUPPORTED_STRATEGY = 3,
  NNRP_PATCH_REJECT_INVALID_LANE_MASK = 4,
  NNRP_PATCH_REJECT_RATE_LIMITED = 5
} nnrp_patch_reject_reason;

/** server_flags (u32). Send only CACHE_ENABLED; accept 0x7 (decision D8). */
#define NNRP_SERVER_FLAG_CACHE_ENABLED 0x1u
#define NNRP_SERVER_FLAG_SESSION_RESUME_SUPPORTED 0x2u
#define NNRP_SERVER_FLAG_PROFILE_PATCH_REQUIRED 0x4u
#define NNRP_SERVER_FLAG_SEND_MASK 0x1u
#define NNRP_SERVER_FLAG_ACCEPT_MASK 0x7u

/** FRAME_SUBMIT object_ref_mask slots (wire.md §11.9). */
#define NNRP_SLOT_CAMERA 0x01u
#define NNRP_SLOT_TILE_INDEX 0x02u
#define NNRP_SLOT_SECTION_TABLE 0x04u
#define NNRP_SLOT_LAYOUT_TEMPLATE 0x08u
#define NNRP_SLOT_KNOWN_MASK 0x0Fu

/** Control extension types (wire.md §5.3, §5.4). */
#define NNRP_EXT_CLIENT_TRANSPORT_POLICY 0x0101u
#define NNRP_EXT_SERVER_TRANSPORT_POLICY 0x0102u
#define NNRP_EXT_CLIENT_LOSS_TOLERANCE 0x0103u
#define NNRP_EXT_SERVER_LOSS_TOLERANCE 0x0104u
#define NNRP_EXT_CLIENT_PAYLOAD_CAPABILITIES 0x0105u
#define NNRP_EXT_SERVER_PAYLOAD_CAPABILITIES 0x0106u
#define NNRP_EXT_ACTIVE_MODEL_NAME 0x8001u

/** Returns the spec name of a message type ("FRAME_SUBMIT") or NULL. */
NNRP_API const char *nnrp_msg_type_name(uint8_t msg_type);

/** Parses a message type name ("FRAME_SUBMIT", case-insensitive) or a number
 *  ("0x10", "16"). @return the type (> 0) or NNRP_ERR_NOT_FOUND. */
NNRP_API int nnrp_msg_type_from_name(const char *name);

/** Returns the exact metadata length of a known type, or -1 if unknown. */
NNRP_API int nnrp_msg_meta_len(uint8_t msg_type);

/* ======================================================================== */
/* Views, options                                                           */
/* ======================================================================== */

/** A borrowed byte range. ptr may be NULL when len is 0. Owned by whoever
 *  owns the underlying buffer. */
typedef struct nnrp_bytes {
  const uint8_t *ptr;
  size_t len;
} nnrp_bytes;

/** Decode option flag: lenient mode of wire.md §13 (decision D2). */
#define NNRP_WIRE_LENIENT 0x1u

/**
 * Decoder options and local limits. Fill with nnrp_wire_opts_default().
 * Every peer-controlled quantity the decoder meets has a limit here.
 */
typedef struct nnrp_wire_opts {
  uint32_t flags;            /**< NNRP_WIRE_LENIENT or 0 */
  uint32_t max_packet_bytes; /**< <= NNRP_MAX_PACKET_BYTES (default) */
  uint32_t max_body_bytes;   /**< default NNRP_DEFAULT_MAX_BODY_BYTES */
  uint16_t max_sections;     /**< default 16; section_count above it is
                                  NNRP_ERR_LIMIT_EXCEEDED (wire.md §15 step 18) */
  uint16_t reserved;         /**< 0 */
  /** Negotiated capabilities (wire.md §15 step 17), checked on FRAME_SUBMIT:
   *  payload kinds outside payload_kinds, or references to object kinds
   *  outside cache_objects (bit kind-1; 0 = cache disabled) give
   *  NNRP_ERR_UNSUPPORTED_CAPABILITY. Defaults: all bits set (no session). */
  uint32_t payload_kinds;
  uint32_t cache_objects;
} nnrp_wire_opts;

/** Fills *o with the defaults: strict, 64 MiB, 32 MiB, 16 sections,
 *  everything negotiated. */
NNRP_API void nnrp_wire_opts_default(nnrp_wire_opts *o);

/* ======================================================================== */
/* Common header (wire.md §2)                                               */
/* ======================================================================== */

typedef struct nnrp_header {
  uint8_t version_major; /**< 1 */
  uint8_t wire_format;   /**< 0 */
  uint8_t msg_type;      /**< nnrp_msg_type */
  uint8_t header_len;    /**< 40 */
  uint32_t flags;        /**< NNRP_FLAG_* */
  uint32_t meta_len;
  uint32_t body_len;
  uint32_t session_id;
  uint32_t frame_id;
  uint16_t view_id;
  uint16_t route_id;
  uint64_t trace_id;
} nnrp_header;

/** Sets every field to 0 except version_major 1, header_len 40 and msg_type;
 *  meta_len is set to the fixed size of msg_type (0 if unknown). */
NNRP_API void nnrp_header_init(nnrp_header *h, uint8_t msg_type);

/**
 * Decodes and validates a header: wire.md §15 steps 2-8 in that order.
 * Does not check meta_len against the type (step 13 belongs to the packet).
 * @param in   at least len bytes; only the first 40 are read
 * @return 0; NNRP_ERR_TRUNCATED if len < 40; NNRP_ERR_MALFORMED_HEADER (magic,
 *         header_len, reserved flag bits in strict mode, unknown msg_type);
 *         NNRP_ERR_UNSUPPORTED_VERSION; NNRP_ERR_PACKET_TOO_LARGE (64-bit sum
 *         over opts->max_packet_bytes). In lenient mode unknown flag bits are
 *         cleared in h->flags.
 */
NNRP_API int nnrp_header_decode(nnrp_header *h, const uint8_t *in, size_t len,
                                const nnrp_wire_opts *opts, nnrp_fault *fault);

/** Writes the 40 header bytes (magic, then the struct's fields verbatim). */
NNRP_API void nnrp_header_encode(const nnrp_header *h, uint8_t *out);

/* ======================================================================== */
/* Fixed metadata of every message (wire.md §4, §6, §10)                    */
/* ======================================================================== */

typedef struct nnrp_client_hello {
  uint8_t min_version_major;
  uint8_t max_version_major;
  uint16_t supported_wire_format_bitmap;
  uint32_t supported_profile_bitmap;
  uint32_t supported_payload_kind_bitmap;
  uint32_t supported_codec_bitmap;
  uint32_t supported_compression_bitmap;
  uint32_t supported_dtype_bitmap;
  uint32_t supported_layout_bitmap;
  uint16_t cache_digest_bitmap;
  uint16_t cache_object_bitmap;
  uint16_t cache_namespace_count;
  uint16_t max_lane_count;
  uint32_t max_cache_entries;
  uint32_t max_cache_bytes;
  uint16_t target_cadence_x100;
  uint16_t latency_budget_ms;
  uint16_t quality_tier;
  uint16_t degrade_policy;
  uint32_t requested_session_id;
  uint32_t auth_bytes;
  uint32_t control_extension_bytes;
} nnrp_client_hello;

typedef struct nnrp_server_hello_ack {
  uint8_t selected_version_major;
  uint8_t selected_wire_format;
  uint8_t auth_status;
  uint8_t reserved0;
  uint32_t session_id;
  uint32_t accepted_profile_bitmap;
  uint32_t accepted_payload_kind_bitmap;
  uint32_t accepted_codec_bitmap;
  uint32_t accepted_compression_bitmap;
  uint32_t accepted_dtype_bitmap;
  uint32_t accepted_layout_bitmap;
  uint32_t cache_digest_bitmap;
  uint32_t cache_object_bitmap;
  uint32_t max_cache_entries;
  uint32_t max_cache_bytes;
  uint16_t max_lane_count;
  uint16_t max_concurrent_frames;
  uint16_t target_cadence_x100;
  uint16_t latency_budget_ms;
  uint16_t quality_tier;
  uint16_t degrade_policy;
  uint32_t max_body_bytes;
  uint32_t token_ttl_ms;
  uint32_t retry_after_ms;
  uint32_t control_extension_bytes;
  uint32_t server_flags;
} nnrp_server_hello_ack;

typedef struct nnrp_session_patch {
  uint16_t profile_id;
  uint16_t reserved0;
  uint32_t patch_mask;
  uint32_t target_cadence_x100;
  uint16_t quality_tier;
  uint16_t degrade_policy;
  uint64_t active_lane_mask;
  uint32_t preferred_codec_bitmap;
  uint32_t preferred_compression_bitmap;
  uint32_t profile_patch_bytes;
} nnrp_session_patch;

typedef struct nnrp_session_patch_ack {
  uint16_t ack_status;
  uint16_t reject_reason;
  uint32_t applied_patch_mask;
  uint32_t rejected_patch_mask;
  uint32_t retry_after_ms;
  uint16_t effective_profile_id;
  uint16_t reserved0;
  uint32_t effective_target_cadence_x100;
  uint16_t effective_quality_tier;
  uint16_t effective_degrade_policy;
  uint64_t effective_lane_mask;
  uint32_t effective_codec_bitmap;
  uint32_t effective_compression_bitmap;
  uint32_t profile_patch_ack_bytes;
} nnrp_session_patch_ack;

/** tensor_profile_patch_block / _ack_block (16 B body of the patch
 *  messages). */
typedef struct nnrp_profile_patch {
  uint32_t min_width;
  uint32_t min_height;
  uint32_t max_width;
  uint32_t max_height;
} nnrp_profile_patch;

typedef struct nnrp_error_meta {
  uint32_t error_code;
  uint32_t error_scope;
  uint32_t is_fatal;
  uint32_t retry_after_ms;
  uint32_t related_session_id;
  uint32_t related_frame_id;
  uint32_t related_view_id;
  uint32_t diagnostic_bytes;
} nnrp_error_meta;

typedef struct nnrp_frame_submit {
  uint16_t src_width;
  uint16_t src_height;
  uint16_t tile_width;
  uint16_t tile_height;
  uint16_t tile_count;
  uint16_t section_count;
  uint8_t frame_class;
  uint8_t input_profile;
  uint8_t tile_index_mode;
  uint8_t reserved0;
  uint16_t latency_budget_ms;
  uint16_t target_fps_x100;
  uint32_t retry_of_frame;
  uint32_t tile_base_id;
  uint32_t camera_bytes;
  uint32_t tile_index_bytes;
  uint64_t reserved1;
  uint64_t reserved2;
  uint8_t submit_mode;
  uint8_t budget_policy;
  uint8_t loss_tolerance_policy;
  uint8_t reserved3;
  uint32_t object_ref_mask;
  uint32_t dependency_frame_id;
  uint32_t payload_kind_bitmap;
  uint16_t payload_frame_count;
  uint16_t reserved4;
} nnrp_frame_submit;

typedef struct nnrp_result_push {
  uint16_t status_code;
  uint16_t result_flags;
  uint16_t section_count;
  uint16_t tile_count;
  uint16_t active_profile_id;
  uint16_t reserved0;
  uint16_t inference_ms;
  uint16_t queue_ms;
  uint16_t server_total_ms;
  uint16_t reserved1;
  uint32_t tile_base_id;
  uint32_t tile_index_bytes;
  uint64_t reserved2;
  uint64_t reserved3;
  uint8_t result_class;
  uint8_t applied_budget_policy;
  uint16_t reserved4;
  uint32_t reused_frame_id;
  uint16_t covered_tile_count;
  uint16_t dropped_tile_count;
  uint32_t payload_kind_bitmap;
  uint16_t payload_frame_count;
  uint16_t reserved5;
} nnrp_result_push;

typedef struct nnrp_cache_put {
  uint32_t cache_namespace;
  uint32_t cache_key_hi;
  uint32_t cache_key_lo;
  uint32_t object_kind;
  uint32_t ttl_ms;
  uint32_t object_bytes;
  uint32_t codec_bitmap;
  uint32_t flags;
} nnrp_cache_put;

typedef struct nnrp_cache_ack {
  uint32_t cache_namespace;
  uint32_t cache_key_hi;
  uint32_t cache_key_lo;
  uint32_t status;
  uint32_t accepted_ttl_ms;
  uint32_t max_object_bytes;
  uint32_t detail_code;
} nnrp_cache_ack;

typedef struct nnrp_cache_invalidate {
  uint32_t invalidate_scope;
  uint32_t cache_namespace;
  uint32_t cache_key_hi;
  uint32_t cache_key_lo;
  uint32_t reason_code;
} nnrp_cache_invalidate;

typedef struct nnrp_flow_update {
  uint8_t scope_kind;
  uint8_t update_reason;
  uint8_t backpressure_level;
  uint8_t reserved0;
  uint16_t connection_credit;
  uint16_t session_credit;
  uint16_t operation_credit;
  uint16_t reserved1;
  uint64_t operation_id;
  uint32_t retry_after_ms;
  uint32_t credit_epoch;
  uint32_t flow_flags;
} nnrp_flow_update;

typedef struct nnrp_result_hint {
  uint32_t applied_budget_policy;
  uint32_t congestion_state;
  uint32_t reason;
  uint32_t retry_after_ms;
} nnrp_result_hint;

typedef struct nnrp_transport_probe {
  uint32_t probe_id;
  uint32_t probe_payload_bytes;
  uint64_t client_send_ts_us;
} nnrp_transport_probe;

typedef struct nnrp_transport_probe_ack {
  uint32_t probe_id;
  uint32_t reserved0;
  uint64_t server_recv_ts_us;
} nnrp_transport_probe_ack;

typedef struct nnrp_session_migrate {
  uint32_t old_transport_id;
  uint32_t new_transport_id;
  uint64_t last_result_frame_id;
  uint64_t client_migrate_ts_us;
} nnrp_session_migrate;

typedef struct nnrp_session_migrate_ack {
  uint32_t accept_code;
  uint64_t resume_from_frame_id;
  uint32_t grace_window_ms;
  uint64_t server_migrate_ts_us;
} nnrp_session_migrate_ack;

/** The metadata of any message; which member is valid follows msg_type.
 *  CLOSE, FRAME_CANCEL, RESULT_DROP, PING and PONG have none. */
typedef union nnrp_meta {
  nnrp_client_hello client_hello;
  nnrp_server_hello_ack server_hello_ack;
  nnrp_session_patch session_patch;
  nnrp_session_patch_ack session_patch_ack;
  nnrp_error_meta error;
  nnrp_frame_submit frame_submit;
  nnrp_result_push result_push;
  nnrp_cache_put cache_put;
  nnrp_cache_ack cache_ack;
  nnrp_cache_invalidate cache_invalidate;
  nnrp_flow_update flow_update;
  nnrp_result_hint result_hint;
  nnrp_transport_probe transport_probe;
  nnrp_transport_probe_ack transport_probe_ack;
  nnrp_session_migrate session_migrate;
  nnrp_session_migrate_ack session_migrate_ack;
} nnrp_meta;

/**
 * Decodes a bare metadata block of msg_type: exact length (step 13) and the
 * metadata-only rules of step 16 (reserved fields, enums, masks, M1-M4,
 * R1-R6, FLOW_UPDATE field consistency that does not need the header, the
 * CLIENT_HELLO version window and bitmap rules of step 17).
 * @param flags  NNRP_WIRE_LENIENT or 0
 * @return 0; NNRP_ERR_MALFORMED_HEADER for an unknown msg_type;
 *         NNRP_ERR_MALFORMED_BODY; NNRP_ERR_UNSUPPORTED_VERSION /
 *         NNRP_ERR_UNSUPPORTED_CAPABILITY (CLIENT_HELLO negotiation rules).
 */
NNRP_API int nnrp_meta_decode(uint8_t msg_type, nnrp_meta *m,
                              const uint8_t *in, size_t len, uint32_t flags,
                              nnrp_fault *fault);

/**
 * Encodes the metadata of msg_type verbatim from *m.
 * @return the number of bytes written (the fixed size; 0 for header-only
 *         messages); NNRP_ERR_BUFFER_TOO_SMALL; NNRP_ERR_INVALID_ARGUMENT for
 *         an unknown msg_type.
 */
NNRP_API int nnrp_meta_encode(uint8_t msg_type, const nnrp_meta *m,
                              uint8_t *out, size_t cap);

/* ======================================================================== */
/* Control extension block (wire.md §5)                                     */
/* ======================================================================== */

typedef struct nnrp_ext_entry {
  uint16_t ext_type;
  uint16_t ext_flags;
  nnrp_bytes payload; /**< ext_len bytes, padding excluded */
} nnrp_ext_entry;

/** 0x0101 (client) / 0x0102 (server). */
typedef struct nnrp_ext_transport_policy {
  uint8_t transport_policy;
  uint8_t accepted_transport_policy; /**< 0x0102 only; reserved (0) in 0x0101 */
  uint16_t reserved;
  uint32_t transport_id; /**< preferred (0x0101) or active (0x0102) */
} nnrp_ext_transport_policy;

/** 0x0103 (client) / 0x0104 (server). */
typedef struct nnrp_ext_loss_tolerance {
  uint8_t loss_tolerance;
  uint8_t reserved0;
  uint16_t reserved1;
  uint32_t reserved2;
} nnrp_ext_loss_tolerance;

/** 0x0105 (client) / 0x0106 (server). */
typedef struct nnrp_ext_payload_caps {
  uint32_t payload_kind_bitmap;
  uint32_t critical_extension_frame_bitmap;
} nnrp_ext_payload_caps;

#define NNRP_HELLO_EXT_TRANSPORT_POLICY 0x1u
#define NNRP_HELLO_EXT_LOSS_TOLERANCE 0x2u
#define NNRP_HELLO_EXT_PAYLOAD_CAPS 0x4u
#define NNRP_HELLO_EXT_MODEL_NAME 0x8u

/**
 * The control extension block of a CLIENT_HELLO or SERVER_HELLO_ACK: the
 * standard extensions of that message parsed (first occurrence wins), plus
 * the raw block for iterating over every entry.
 */
typedef struct nnrp_hello_exts {
  uint32_t present; /**< NNRP_HELLO_EXT_* bits */
  nnrp_ext_transport_policy transport_policy;
  nnrp_ext_loss_tolerance loss_tolerance;
  nnrp_ext_payload_caps payload_caps;
  nnrp_bytes model_name; /**< 0x8001, SERVER_HELLO_ACK only */
  nnrp_bytes block;      /**< the whole TLV block (view) */
  uint32_t entry_count;  /**< entries in the block */
  uint32_t unknown_count;/**< entries skipped as unknown (non-critical) */
} nnrp_hello_exts;

/**
 * Parses and validates a TLV block carried by msg_type (CLIENT_HELLO or
 * SERVER_HELLO_ACK): rules 1-10 of wire.md §5.2 and the value rules of
 * §5.3/§5.4. A known type carried by the wrong message is unknown.
 * @return 0; NNRP_ERR_MALFORMED_BODY; NNRP_ERR_UNSUPPORTED_CAPABILITY
 *         (unknown CRITICAL entry).
 */
NNRP_API int nnrp_ext_block_decode(uint8_t msg_type, nnrp_hello_exts *x,
                                   const uint8_t *in, size_t len,
                                   uint32_t flags, nnrp_fault *fault);

/** Iterator over the entries of a block already accepted by
 *  nnrp_ext_block_decode(). */
typedef struct nnrp_ext_iter {
  nnrp_bytes block;
  size_t off;
} nnrp_ext_iter;

NNRP_API void nnrp_ext_iter_init(nnrp_ext_iter *it, nnrp_bytes block);
/** @return 1 with *e filled, 0 at the end. */
NNRP_API int nnrp_ext_iter_next(nnrp_ext_iter *it, nnrp_ext_entry *e);

/**
 * Encodes a TLV block for msg_type: the standard entries named by
 * x->present, in ascending ext_type order (0x0101/0x0103/0x0105 for
 * CLIENT_HELLO; 0x0102/0x0104/0x0106/0x8001 for SERVER_HELLO_ACK), then the
 * extra entries in the given order, each zero-padded to 8.
 * @param x      may be NULL (no standard entries)
 * @param extra  may be NULL when n_extra is 0
 * @return bytes written; NNRP_ERR_BUFFER_TOO_SMALL;
 *         NNRP_ERR_INVALID_ARGUMENT (msg_type not a hello).
 */
NNRP_API int nnrp_ext_block_encode(uint8_t msg_type, const nnrp_hello_exts *x,
                                   const nnrp_ext_entry *extra,
                                   size_t n_extra, uint8_t *out, size_t cap);

/** Size nnrp_ext_block_encode() needs for the same arguments. */
NNRP_API size_t nnrp_ext_block_size(uint8_t msg_type,
                                    const nnrp_hello_exts *x,
                                    const nnrp_ext_entry *extra,
                                    size_t n_extra);

/* ======================================================================== */
/* Tensor bodies (wire.md §8)                                               */
/* ======================================================================== */

/** A tile index as on the wire: ids are produced on demand. */
typedef struct nnrp_tile_index {
  uint8_t mode;      /**< nnrp_tile_index_mode */
  uint16_t count;    /**< tile_count */
  uint32_t base_id;  /**< tile_base_id (DENSE_RANGE) */
  nnrp_bytes block;  /**< tile-index block (view) */
} nnrp_tile_index;

/** Validates a tile index per the decoder rules of wire.md §8.4.
 *  @return 0 or NNRP_ERR_MALFORMED_BODY. */
NNRP_API int nnrp_tile_index_check(const nnrp_tile_index *ti,
                                   nnrp_fault *fault);

typedef struct nnrp_tile_iter {
  const nnrp_tile_index *ti;
  uint32_t i;
  uint32_t prev;
  size_t pos;
} nnrp_tile_iter;

/** Iterates the ids of a checked tile index in order (O(1) per id). */
NNRP_API void nnrp_tile_iter_init(nnrp_tile_iter *it,
                                  const nnrp_tile_index *ti);
/** @return 1 with *id set, 0 when all tile_count ids were produced. */
NNRP_API int nnrp_tile_iter_next(nnrp_tile_iter *it, uint32_t *id);

/** The 32-byte TensorSectionDesc (wire.md §8.5). */
typedef struct nnrp_section_desc {
  uint16_t role_id;
  uint8_t codec_id;
  uint8_t dtype_id;
  uint8_t layout_id;
  uint8_t scale_policy;
  uint16_t flags;
  uint32_t element_count_per_tile;
  uint32_t codec_table_bytes;
  uint32_t length_table_bytes;
  uint32_t payload_bytes;
  uint32_t payload_stride_bytes;
  uint32_t reserved;
} nnrp_section_desc;

/** A decoded section: its descriptor and views of its three tables. */
typedef struct nnrp_section_view {
  nnrp_section_desc desc;
  const uint8_t *codec_table;  /**< NULL when codec_table_bytes is 0 */
  const uint8_t *length_table; /**< tile_count u32le lengths */
  const uint8_t *payload;      /**< payload_bytes */
  uint16_t tile_count;
} nnrp_section_view;

/** A tensor body: tile index + sections (wire.md §8.3). */
typedef struct nnrp_tensor_view {
  nnrp_tile_index tiles;
  nnrp_bytes sections;    /**< from the first section to the body end */
  uint16_t section_count;
} nnrp_tensor_view;

/**
 * Parses and validates a tensor body (wire.md §8.3, S1-S8, padding, role_id
 * order). body starts at the tile-index block; tile_index_bytes of it are
 * the block. Used for legacy bodies (after the camera block and its pad),
 * and, with tile_index_bytes 0, for TENSOR_SECTION_TABLE objects.
 * @param ti  mode/count/base of the tile index; ti->block is set by this
 *            function from body
 * @return 0; NNRP_ERR_MALFORMED_BODY.
 */
NNRP_API int nnrp_tensor_body_decode(nnrp_tensor_view *tv,
                                     const nnrp_tile_index *ti,
                                     uint32_t tile_index_bytes,
                                     uint16_t section_count,
                                     const uint8_t *body, size_t len,
                                     uint32_t flags, nnrp_fault *fault);

typedef struct nnrp_section_iter {
  const nnrp_tensor_view *tv;
  uint16_t i;
  size_t off;
} nnrp_section_iter;

/** Iterates the sections of a decoded tensor view (no re-validation). */
NNRP_API void nnrp_section_iter_init(nnrp_section_iter *it,
                                     const nnrp_tensor_view *tv);
/** @return 1 with *s filled, 0 after the last section. */
NNRP_API int nnrp_section_iter_next(nnrp_section_iter *it,
                                    nnrp_section_view *s);

/** Iterator over the tiles of one section: view of each tile's bytes and
 *  its codec (codec_table[i] when present, else codec_id). */
typedef struct nnrp_tile_data_iter {
  const nnrp_section_view *s;
  uint32_t i;
  size_t off;
} nnrp_tile_data_iter;

NNRP_API void nnrp_tile_data_iter_init(nnrp_tile_data_iter *it,
                                       const nnrp_section_view *s);
/** @return 1 with *tile (view into the packet) and *codec set, 0 at the
 *  end. codec may be NULL. */
NNRP_API int nnrp_tile_data_iter_next(nnrp_tile_data_iter *it,
                                      nnrp_bytes *tile, uint8_t *codec);

/* ======================================================================== */
/* Composed bodies (wire.md §9)                                             */
/* ======================================================================== */

typedef struct nnrp_prelude {
  uint32_t inline_object_bytes;
  uint32_t object_reference_bytes;
  uint32_t typed_payload_descriptor_bytes;
  uint32_t typed_payload_frame_bytes;
  uint32_t extension_descriptor_bytes;
  uint32_t extension_payload_bytes;
  uint32_t body_flags;
  uint32_t reserved;
} nnrp_prelude;

/** Inline object block (16-byte header + payload view). */
typedef struct nnrp_inline_object {
  uint16_t object_kind;
  uint16_t object_flags;
  uint16_t profile_id;
  uint16_t reserved0;
  uint32_t object_bytes; /**< decoder: as read; builders: ignored (derived) */
  uint32_t reserved1;
  nnrp_bytes data;
} nnrp_inline_object;

/** Object reference block (16 B). */
typedef struct nnrp_object_ref {
  uint16_t object_kind;
  uint16_t ref_flags;
  uint32_t cache_namespace;
  uint32_t cache_key_hi;
  uint32_t cache_key_lo;
} nnrp_object_ref;

/** A typed payload: descriptor fields + view of its frame. Builders use
 *  payload_kind, profile_id and data and derive offset/length. */
typedef struct nnrp_typed_frame {
  uint8_t payload_kind; /**< exactly one bit of NNRP_PAYLOAD_KIND_TYPED_MASK */
  uint8_t descriptor_flags;
  uint16_t profile_id;
  uint32_t payload_offset;
  uint32_t payload_length;
  uint32_t reserved;
  nnrp_bytes data;
} nnrp_typed_frame;

/** An extension frame: descriptor fields + view of its payload. */
typedef struct nnrp_ext_frame {
  uint16_t extension_kind;
  uint16_t extension_flags;
  uint16_t profile_id;
  uint16_t reserved0;
  uint32_t payload_offset;
  uint32_t payload_length;
  nnrp_bytes data;
} nnrp_ext_frame;

/** Region indices of a composed body, in wire order. */
enum {
  NNRP_REGION_INLINE = 0,
  NNRP_REGION_REFS = 1,
  NNRP_REGION_TYPED_DESC = 2,
  NNRP_REGION_TYPED_FRAMES = 3,
  NNRP_REGION_EXT_DESC = 4,
  NNRP_REGION_EXT_PAYLOAD = 5,
  NNRP_REGION_COUNT = 6
};

/**
 * The decoded body of FRAME_SUBMIT or RESULT_PUSH, legacy or composed.
 * Everything is a view into the packet; typed frames, references, extension
 * frames and inline objects are read on demand with the accessors below.
 */
typedef struct nnrp_data_body {
  uint8_t composed;  /**< 0 legacy tensor body, 1 composed body */
  uint8_t has_tensor;/**< a tile index and/or section table is present
                          inline (tensor is then valid) */
  uint8_t slots_inline;     /**< NNRP_SLOT_* present as inline objects */
  uint8_t slots_referenced; /**< NNRP_SLOT_* present as references */
  nnrp_prelude prelude;     /**< composed only */
  nnrp_bytes regions[NNRP_REGION_COUNT]; /**< composed only */
  nnrp_bytes camera;        /**< inline camera block (may be empty) */
  nnrp_tensor_view tensor;  /**< inline tile index + sections */
  uint32_t inline_count;    /**< inline object blocks */
  uint32_t ref_count;       /**< reference blocks */
  uint32_t typed_count;     /**< typed payload descriptors */
  uint32_t ext_count;       /**< extension frame descriptors */
} nnrp_data_body;

/** i-th reference block (i < ref_count). @return 0 or NNRP_ERR_NOT_FOUND. */
NNRP_API int nnrp_data_body_ref(const nnrp_data_body *b, uint32_t i,
                                nnrp_object_ref *out);
/** i-th typed payload with a view of its frame. @return 0 or
 *  NNRP_ERR_NOT_FOUND. */
NNRP_API int nnrp_data_body_typed(const nnrp_data_body *b, uint32_t i,
                                  nnrp_typed_frame *out);
/** i-th extension frame. @return 0 or NNRP_ERR_NOT_FOUND. */
NNRP_API int nnrp_data_body_ext(const nnrp_data_body *b, uint32_t i,
                                nnrp_ext_frame *out);

typedef struct nnrp_inline_iter {
  nnrp_bytes region;
  size_t off;
} nnrp_inline_iter;
NNRP_API void nnrp_inline_iter_init(nnrp_inline_iter *it,
                                    const nnrp_data_body *b);
/** @return 1 with *o filled, 0 at the end of the inline region. */
NNRP_API int nnrp_inline_iter_next(nnrp_inline_iter *it,
                                   nnrp_inline_object *o);

/**
 * Decodes the body of a FRAME_SUBMIT (msg_type 0x10) or RESULT_PUSH (0x12)
 * whose metadata is already decoded: wire.md §7 (form selection), §8
 * (legacy), §9 (prelude, regions, T-rules, extension frames, F- or P-rules),
 * plus step 17 (negotiated payload / object kinds from opts) and step 18
 * (max_sections), in spec order.
 * @param meta  the decoded nnrp_frame_submit or nnrp_result_push
 * @return 0; NNRP_ERR_MALFORMED_BODY; NNRP_ERR_UNSUPPORTED_CAPABILITY;
 *         NNRP_ERR_LIMIT_EXCEEDED.
 */
NNRP_API int nnrp_data_body_decode(uint8_t msg_type, const nnrp_meta *meta,
                                   nnrp_data_body *b, const uint8_t *body,
                                   size_t len, const nnrp_wire_opts *opts,
                                   nnrp_fault *fault);

/* ======================================================================== */
/* Whole packets                                                            */
/* ======================================================================== */

/** A decoded packet. Every pointer is a view into the decoded buffer. */
typedef struct nnrp_packet {
  nnrp_header hdr;
  nnrp_bytes meta_raw; /**< the metadata bytes */
  nnrp_bytes body_raw; /**< the body bytes */
  nnrp_meta m;         /**< decoded metadata (member per msg_type) */
  union {
    /** CLIENT_HELLO: extension block then auth block. */
    struct {
      nnrp_hello_exts ext;
      nnrp_bytes auth;
    } client_hello;
    /** SERVER_HELLO_ACK: TLV block, or opaque bytes when
     *  control_extension_bytes is 0 and body_len > 0 (model name, D5). */
    struct {
      nnrp_hello_exts ext;
      nnrp_bytes opaque;
    } server_hello_ack;
    /** SESSION_PATCH / SESSION_PATCH_ACK. */
    struct {
      uint8_t present; /**< 1 when the 16-byte block is there */
      nnrp_profile_patch block;
    } patch;
    nnrp_bytes diagnostic; /**< ERROR */
    nnrp_data_body data;   /**< FRAME_SUBMIT, RESULT_PUSH */
    nnrp_bytes object;     /**< CACHE_PUT */
    nnrp_bytes filler;     /**< TRANSPORT_PROBE */
    nnrp_bytes token;      /**< SESSION_MIGRATE */
    nnrp_bytes ignored;    /**< CLOSE, SESSION_MIGRATE_ACK: received body */
  } b;
} nnrp_packet;

/**
 * Decodes and validates one whole packet: wire.md §15 steps 2-9, 13, 15, 16,
 * the stateless parts of 17, 18 and 19 (the session checks role, state,
 * session id and frame order: steps 10-12, 14, 20).
 * @param in   exactly one packet (len = 40 + meta_len + body_len)
 * @return 0; NNRP_ERR_TRUNCATED (len shorter than the header says);
 *         NNRP_ERR_TRAILING_DATA (longer); every validation error of the
 *         steps above.
 */
NNRP_API int nnrp_packet_decode(nnrp_packet *p, const uint8_t *in, size_t len,
                                const nnrp_wire_opts *opts,
                                nnrp_fault *fault);

/**
 * Decodes meta + body of a packet whose header was already decoded with
 * nnrp_header_decode() (the streaming path). in points at the metadata.
 * Same checks and returns as nnrp_packet_decode() from step 9 on.
 */
NNRP_API int nnrp_packet_decode_rest(nnrp_packet *p, const nnrp_header *h,
                                     const uint8_t *in, size_t len,
                                     const nnrp_wire_opts *opts,
                                     nnrp_fault *fault);

/* ======================================================================== */
/* Output: scatter-gather encoding                                          */
/* ======================================================================== */

/** One output segment; layout-compatible with struct iovec's two fields. */
typedef struct nnrp_iov {
  const void *base;
  size_t len;
} nnrp_iov;

/**
 * Output of the builders: structural bytes (headers, descriptors, length
 * tables) go into a caller-owned scratch buffer; payload bytes of at least
 * copy_max+1 bytes are referenced from the caller's memory as iovec entries
 * and never copied. With iov_cap 0 everything is copied into scratch (a
 * contiguous packet). The caller owns scratch, iov and every referenced
 * payload, which must stay valid until the iovecs are written.
 */
typedef struct nnrp_out {
  uint8_t *scratch;
  size_t scratch_cap;
  size_t scratch_len;
  nnrp_iov *iov;
  size_t iov_cap;
  size_t iov_len;
  size_t copy_max; /**< payloads up to this size are copied (default 64) */
  uint64_t total;  /**< bytes described so far */
} nnrp_out;

/** Initialises *o. scratch must be non-NULL; iov may be NULL with
 *  iov_cap 0 (contiguous mode). */
NNRP_API void nnrp_out_init(nnrp_out *o, uint8_t *scratch, size_t scratch_cap,
                            nnrp_iov *iov, size_t iov_cap);

/** Resets *o to empty, keeping its buffers. */
NNRP_API void nnrp_out_reset(nnrp_out *o);

/** Copies everything *o describes into dst. @return o->total, or
 *  NNRP_ERR_BUFFER_TOO_SMALL (nothing written past cap). */
NNRP_API int64_t nnrp_out_flatten(const nnrp_out *o, uint8_t *dst,
                                  size_t cap);

/** Returns a pointer to the contiguous packet when *o holds exactly one
 *  segment (always true in contiguous mode), else NULL. */
NNRP_API const uint8_t *nnrp_out_contiguous(const nnrp_out *o);

/* ======================================================================== */
/* Builders (api-seed.md §3)                                                */
/* ======================================================================== */

/** The byte-key mapping of decision D16 (64-bit FNV-1a, split in halves). */
NNRP_API uint64_t nnrp_fnv1a64(const uint8_t *key, size_t len);
NNRP_API void nnrp_cache_key_from_bytes(const uint8_t *key, size_t len,
                                        uint32_t *key_hi, uint32_t *key_lo);

/** Section content to encode (seed TensorSectionData). The builder writes
 *  tiles in order, emits a codec table only if some tile codec differs from
 *  codec_id (setting MIXED_CODEC) and zero-fills fixed-stride slots. */
typedef struct nnrp_section_data {
  uint16_t role_id;
  uint8_t codec_id; /**< default codec */
  uint8_t dtype_id;
  uint8_t layout_id;
  uint8_t scale_policy;
  uint32_t element_count_per_tile;
  uint32_t payload_stride_bytes; /**< 0 = variable length */
  const nnrp_bytes *tiles;       /**< tile_count views (caller-owned) */
  const uint8_t *tile_codec_ids; /**< NULL, or tile_count codec ids */
} nnrp_section_data;

/** Tensor content to encode: camera block, tile ids, sections. */
typedef struct nnrp_tensor_data {
  nnrp_bytes camera;       /**< inline camera block; empty for none */
  uint8_t tile_index_mode; /**< for FRAME_SUBMIT; RESULT_PUSH derives RAW_U16
                                or DENSE_RANGE (see nnrp_build_result_push) */
  uint32_t tile_base_id;
  const uint16_t *tile_ids; /**< tile_count ids; may be NULL for DENSE_RANGE */
  uint16_t tile_count;
  const nnrp_section_data *sections;
  uint16_t section_count;
} nnrp_tensor_data;

/** Everything a FRAME_SUBMIT or RESULT_PUSH body may carry. */
typedef struct nnrp_body_data {
  const nnrp_tensor_data *tensor; /**< NULL: no tensor payload */
  const nnrp_typed_frame *typed;
  uint16_t typed_count;
  const nnrp_object_ref *refs; /**< submit: slot kinds, in slot order */
  uint32_t ref_count;
  const nnrp_inline_object *extra_inline; /**< non-slot inline objects */
  uint32_t extra_inline_count;
  const nnrp_ext_frame *ext; /**< application extension frames */
  uint32_t ext_count;
} nnrp_body_data;

/**
 * Builds a FRAME_SUBMIT. From *hdr the builder uses session_id, frame_id,
 * view_id, flags, route_id and trace_id. From *meta the caller's fields are
 * used (dimensions, frame_class, input_profile, budgets, submit_mode,
 * budget_policy, loss_tolerance_policy, retry_of_frame,
 * dependency_frame_id); the builder overwrites the derived ones
 * (tile_count, section_count, tile_index_mode, tile_base_id, camera_bytes,
 * tile_index_bytes, object_ref_mask, payload_kind_bitmap,
 * payload_frame_count, reserved fields) and *meta holds the sent values on
 * return. Legacy or composed form per wire.md §7.
 * @return 0; NNRP_ERR_INCONSISTENT (rule named in *fault: e.g. DENSE_RANGE
 *         ids not consecutive, tile count mismatch, references in INLINE
 *         mode, non-slot reference kinds); NNRP_ERR_BUFFER_TOO_SMALL.
 */
NNRP_API int nnrp_build_frame_submit(nnrp_out *out, const nnrp_header *hdr,
                                     nnrp_frame_submit *meta,
                                     const nnrp_body_data *body,
                                     nnrp_fault *fault);

/**
 * Builds a RESULT_PUSH. Caller fields of *meta: status_code, result_flags,
 * active_profile_id, timings, result_class, applied_budget_policy,
 * reused_frame_id, covered/dropped_tile_count (both 0 = all tiles covered).
 * Derived: section_count, tile_count, tile_base_id, tile_index_bytes
 * (RAW_U16 unless the ids are consecutive from tile_base_id and
 * tile_index_mode says DENSE_RANGE), payload_kind_bitmap,
 * payload_frame_count. Coverage rules R2-R6 and P-rules are enforced.
 * @return as nnrp_build_frame_submit().
 */
NNRP_API int nnrp_build_result_push(nnrp_out *out, const nnrp_header *hdr,
                                    nnrp_result_push *meta,
                                    const nnrp_body_data *body,
                                    nnrp_fault *fault);

/** Body pieces of a control message for nnrp_build_control(); every
 *  pointer is caller-owned and may be NULL when unused. */
typedef struct nnrp_control_body {
  const nnrp_hello_exts *ext; /**< hellos: standard extensions, or NULL */
  const nnrp_ext_entry *extra_ext;
  size_t extra_ext_count;
  nnrp_bytes bytes; /**< auth block, diagnostic, object, token, opaque */
  const nnrp_profile_patch *patch; /**< patch messages: block or NULL */
} nnrp_control_body;

/**
 * Builds any message whose body is not a data body, from a header, the
 * metadata and the body pieces: CLIENT_HELLO (ext block from ext/extra and
 * the auth bytes; auth_bytes and control_extension_bytes are derived),
 * SERVER_HELLO_ACK (ext block; control_extension_bytes derived), patch
 * messages (block when present), ERROR (diagnostic), CACHE_PUT (object),
 * TRANSPORT_PROBE (filler: probe_payload_bytes of 0x50), SESSION_MIGRATE
 * (token), and the header-only messages. meta_len/body_len are derived.
 * @return 0; NNRP_ERR_INVALID_ARGUMENT (data message or unknown type);
 *         NNRP_ERR_BUFFER_TOO_SMALL.
 */
NNRP_API int nnrp_build_control(nnrp_out *out, const nnrp_header *hdr,
                                nnrp_meta *meta, const nnrp_control_body *ctl,
                                nnrp_fault *fault);

/**
 * Caller-owned arrays for nnrp_body_data_from_view(). Each cap is a count of
 * elements. tiles needs section_count x tile_count entries and codecs the
 * same; tile_ids needs tile_count.
 */
typedef struct nnrp_body_storage {
  nnrp_tensor_data tensor;
  nnrp_section_data *sections;
  size_t sections_cap;
  nnrp_bytes *tiles;
  size_t tiles_cap;
  uint8_t *codecs;
  size_t codecs_cap;
  uint16_t *tile_ids;
  size_t tile_ids_cap;
  nnrp_typed_frame *typed;
  size_t typed_cap;
  nnrp_object_ref *refs;
  size_t refs_cap;
  nnrp_inline_object *extra_inline;
  size_t extra_inline_cap;
  nnrp_ext_frame *ext;
  size_t ext_cap;
} nnrp_body_storage;

/**
 * Turns a decoded data body back into builder input (for re-encoding): the
 * payload views still point into the decoded packet; only descriptors are
 * written to the storage arrays. Non-slot inline objects (and inline
 * PAYLOAD_LAYOUT_TEMPLATE / CODEC_TABLE blocks) become extra_inline.
 * @param meta  the decoded metadata of the packet
 * @return 0; NNRP_ERR_BUFFER_TOO_SMALL when an array is too small.
 */
NNRP_API int nnrp_body_data_from_view(uint8_t msg_type, const nnrp_meta *meta,
                                      const nnrp_data_body *v,
                                      nnrp_body_data *out,
                                      nnrp_body_storage *st);

/** Typed-frame helpers (seed build_*_frame): fill *f with the kind, the
 *  profile id and a view of data (not copied). */
NNRP_API void nnrp_token_chunk_frame(nnrp_typed_frame *f, nnrp_bytes data,
                                     uint16_t profile_id);
NNRP_API void nnrp_audio_chunk_frame(nnrp_typed_frame *f, nnrp_bytes data,
                                     uint16_t profile_id);
NNRP_API void nnrp_video_chunk_frame(nnrp_typed_frame *f, nnrp_bytes data,
                                     uint16_t profile_id);
NNRP_API void nnrp_structured_event_frame(nnrp_typed_frame *f, nnrp_bytes data,
                                          uint16_t profile_id);
NNRP_API void nnrp_tool_delta_frame(nnrp_typed_frame *f, nnrp_bytes data,
                                    uint16_t profile_id);
NNRP_API void nnrp_opaque_bytes_frame(nnrp_typed_frame *f, nnrp_bytes data,
                                      uint16_t profile_id);

/** Upper bound of the scratch bytes a data-message builder needs for body
 *  (header, metadata, prelude, descriptors, section tables), assuming every
 *  payload is referenced. Add the payload sizes for contiguous mode. */
NNRP_API size_t nnrp_build_scratch_bound(const nnrp_body_data *body);

/* ======================================================================== */
/* Reflection: field tables of the public structs                           */
/* ======================================================================== */

/** Identifiers of the reflected structs (nnrp_struct_fields()). */
typedef enum nnrp_struct_id {
  NNRP_STRUCT_HEADER = 0,
  NNRP_STRUCT_CLIENT_HELLO = 1,
  NNRP_STRUCT_SERVER_HELLO_ACK = 2,
  NNRP_STRUCT_SESSION_PATCH = 3,
  NNRP_STRUCT_SESSION_PATCH_ACK = 4,
  NNRP_STRUCT_PROFILE_PATCH = 5,
  NNRP_STRUCT_ERROR_META = 6,
  NNRP_STRUCT_FRAME_SUBMIT = 7,
  NNRP_STRUCT_RESULT_PUSH = 8,
  NNRP_STRUCT_CACHE_PUT = 9,
  NNRP_STRUCT_CACHE_ACK = 10,
  NNRP_STRUCT_CACHE_INVALIDATE = 11,
  NNRP_STRUCT_FLOW_UPDATE = 12,
  NNRP_STRUCT_RESULT_HINT = 13,
  NNRP_STRUCT_TRANSPORT_PROBE = 14,
  NNRP_STRUCT_TRANSPORT_PROBE_ACK = 15,
  NNRP_STRUCT_SESSION_MIGRATE = 16,
  NNRP_STRUCT_SESSION_MIGRATE_ACK = 17,
  NNRP_STRUCT_EXT_TRANSPORT_POLICY = 18,
  NNRP_STRUCT_EXT_LOSS_TOLERANCE = 19,
  NNRP_STRUCT_EXT_PAYLOAD_CAPS = 20,
  NNRP_STRUCT_SECTION_DESC = 21,
  NNRP_STRUCT_PRELUDE = 22,
  NNRP_STRUCT_INLINE_OBJECT = 23,
  NNRP_STRUCT_OBJECT_REF = 24,
  NNRP_STRUCT_TYPED_FRAME = 25,
  NNRP_STRUCT_EXT_FRAME = 26,
  NNRP_STRUCT_COUNT = 27
} nnrp_struct_id;

/** One integer field of a public struct: its wire.md name, its offset in
 *  the C struct and its size in bytes (1, 2, 4 or 8). */
typedef struct nnrp_field_desc {
  const char *name;
  uint16_t offset;
  uint8_t size;
} nnrp_field_desc;

/** Returns the field table of struct id (wire order) and its length in
 *  *count; NULL and 0 for an unknown id. Static storage. View fields
 *  (nnrp_bytes) are not listed. */
NNRP_API const nnrp_field_desc *nnrp_struct_fields(int id, size_t *count);
/** Returns the struct's name without the "nnrp_" prefix, or NULL. */
NNRP_API const char *nnrp_struct_name(int id);
/** Returns the nnrp_struct_id of msg_type's metadata, or -1 (no metadata or
 *  unknown type). */
NNRP_API int nnrp_meta_struct_id(uint8_t msg_type);
/** Looks a field up by wire.md name; NULL if absent. */
NNRP_API const nnrp_field_desc *nnrp_field_find(int id, const char *name);
/** Reads / writes a field of the struct at base (zero-extended). */
NNRP_API uint64_t nnrp_field_get(const void *base, const nnrp_field_desc *fd);
NNRP_API void nnrp_field_set(void *base, const nnrp_field_desc *fd,
                             uint64_t v);

/* ======================================================================== */
/* Streaming reader (session.md §2.1 rule 4)                                */
/* ======================================================================== */

/** Return values of nnrp_reader_next() besides errors. */
#define NNRP_READ_NEED_MORE 0    /**< all input consumed; feed more */
#define NNRP_READ_PACKET 1       /**< *pkt holds a whole packet */
#define NNRP_READ_NEED_BUFFER 2  /**< call nnrp_reader_set_buffer() with at
                                      least nnrp_reader_need() bytes */
#define NNRP_READ_SKIPPED 3      /**< an over-max_body_bytes packet was read
                                      and discarded; *fault says why
                                      (NNRP_ERR_BODY_TOO_LARGE) and *pkt->hdr
                                      holds its header */

/**
 * Reassembles packets from byte chunks of any size. The header is validated
 * (steps 2-8) as soon as its 40 bytes are in, before any body byte is
 * buffered; a packet whose body exceeds max_body_bytes is skipped without
 * buffering. A packet complete in the caller's chunk is returned as a view
 * of that chunk (no copy); otherwise it is assembled in the buffer the
 * caller supplies. The reader never allocates.
 */
typedef struct nnrp_reader {
  nnrp_wire_opts opts;
  uint8_t hdr_buf[NNRP_HEADER_LEN];
  size_t hdr_have;
  nnrp_header hdr;   /**< header of the packet being read */
  uint8_t *buf;      /**< caller-owned assembly buffer */
  size_t buf_cap;
  size_t have;       /**< bytes of the current packet in buf */
  uint64_t need;     /**< total size of the current packet (0: none) */
  uint64_t skip;     /**< bytes still to discard */
  uint32_t state;
  int failed;        /**< sticky: a header fault ends the stream */
  int raw;           /**< see nnrp_reader_set_raw() */
} nnrp_reader;

/** Initialises *r. buf may be NULL (cap 0): the reader then asks for a
 *  buffer with NNRP_READ_NEED_BUFFER when a packet spans chunks. */
NNRP_API void nnrp_reader_init(nnrp_reader *r, const nnrp_wire_opts *opts,
                               uint8_t *buf, size_t cap);

/** Supplies (or replaces) the assembly buffer; the reader moves the bytes
 *  it holds. @return 0; NNRP_ERR_BUFFER_TOO_SMALL if cap is still below
 *  nnrp_reader_need(). */
NNRP_API int nnrp_reader_set_buffer(nnrp_reader *r, uint8_t *buf, size_t cap);

/** Bytes the assembly buffer must hold for the packet in progress. */
NNRP_API size_t nnrp_reader_need(const nnrp_reader *r);

/**
 * Consumes input and yields at most one packet.
 * @param consumed  receives the number of input bytes consumed; call again
 *                  with the rest
 * @param pkt       on NNRP_READ_PACKET, the decoded packet (views valid until
 *                  the next call and while the input chunk lives)
 * @return NNRP_READ_NEED_MORE, NNRP_READ_PACKET, NNRP_READ_NEED_BUFFER,
 *         NNRP_READ_SKIPPED, or a negative error: header faults (sticky:
 *         every later call returns NNRP_ERR_FATAL_PROTOCOL) or a packet
 *         validation error (the packet is consumed and dropped; reading
 *         continues after it). On every error except NNRP_ERR_FATAL_PROTOCOL
 *         pkt->hdr holds the offending header when it could be read (for the
 *         ERROR's related ids); *fault says what failed.
 */
NNRP_API int nnrp_reader_next(nnrp_reader *r, const uint8_t *in, size_t len,
                              size_t *consumed, nnrp_packet *pkt,
                              nnrp_fault *fault);

/**
 * Raw mode (raw = 1): NNRP_READ_PACKET then delivers only the validated
 * header (steps 1-9) with pkt->meta_raw and pkt->body_raw set; the caller
 * runs its own checks (the session's steps 10-14) and then
 * nnrp_packet_decode_rest(pkt, &pkt->hdr, pkt->meta_raw.ptr, meta+body
 * length, ...). Default 0 (full decode).
 */
NNRP_API void nnrp_reader_set_raw(nnrp_reader *r, int raw);

/** 1 when no partial packet is buffered (EOF here is clean), else 0. */
NNRP_API int nnrp_reader_at_boundary(const nnrp_reader *r);

#ifdef __cplusplus
}
#endif
#endif /* NNRP_WIRE_H */
