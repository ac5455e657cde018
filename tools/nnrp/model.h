/* SPDX-License-Identifier: Apache-2.0 */
/*
 * model.h - the demo models of `nnrp serve` (model_*.c): `upscale` (FP16
 * tiles upscaled 2x, token chunks streamed back word by word; PARTIAL,
 * STALE_REUSE and DEGRADED answers on request, session.md §7.7) and `echo`
 * (everything back unchanged), plus the FP16 and token-chunking helpers
 * that `nnrp submit --verify` reuses to recompute the expected output.
 */
#ifndef NNRP_CLI_MODEL_H
#define NNRP_CLI_MODEL_H

#include <nnrp/nnrp.h>
#include <nnrp/nnrp_runtime.h>

typedef enum model_kind { MODEL_UPSCALE = 0, MODEL_ECHO = 1 } model_kind;

/** Model name (ACTIVE_MODEL_NAME of the server) -> kind; -1 if unknown. */
int model_kind_from_name(const char *name, size_t len);
const char *model_kind_name(model_kind k);

/** status_code of the upscale model's results (docs/cli.md). */
#define MODEL_STATUS_OK 0
#define MODEL_STATUS_PASSTHROUGH 1 /* some FP16 tile had no known shape */
#define MODEL_STATUS_REFERENCED 2  /* referenced tensor unreadable */

/** Upscaled tile bytes per result at most: results must stay below the
 *  default receive limit of clients (max_body_bytes, 32 MiB); a frame
 *  that would need more is dropped. */
#define MODEL_MAX_RESULT_BYTES (24u << 20)

/** Token chunks per token payload at most (the last takes the rest). */
#define MODEL_MAX_CHUNKS 16

/**
 * Where a model's results go (cmd_serve.c). send() queues r for the
 * frame being answered. `owned` is NULL or a malloc'd buffer that r's
 * payloads point into; send() takes it over in every case and frees it
 * once the result is written (or can no longer be).
 * @return as nnrp_server_session_send_result().
 */
typedef struct model_sink {
  int64_t (*send)(void *ctx, const nnrp_result *r, void *owned);
  void *ctx;
} model_sink;

/** A flat copy of a result's tensor (sections, tiles, ids, bytes in one
 *  malloc'd block): the last result of a session kept for STALE_REUSE
 *  answers (model_snap.c). Free with free(). */
typedef struct model_snap {
  uint32_t frame_id;       /**< the frame the result answered */
  nnrp_tensor_data tensor; /**< views into this block; no camera */
} model_snap;

/** Copies t (every section, tile view and tile byte) into one block.
 *  @return the copy, or NULL when out of memory or too large. */
model_snap *model_snap_take(const nnrp_tensor_data *t, uint32_t frame_id);

/**
 * How the model answers one frame (session.md §7.7; `nnrp serve
 * --budget-mode` picks it, cmd_serve.c). Applies to the tensor of the
 * upscale model; the echo model and frames without tiles always answer
 * COMPLETE.
 *  - COMPLETE: every tile upscaled (bilinear).
 *  - PARTIAL: the first tile_count / 2 tiles upscaled, the others dropped
 *    (zero-length in every section, wire.md §6.3); covered / dropped counts
 *    set.
 *  - STALE_REUSE: the tensor of `stale` sent again, reused_frame_id =
 *    stale->frame_id.
 *  - DEGRADED: nearest-neighbour 2x upscale (cheaper), flag FALLBACK.
 * Flags and the applied budget policy are derived by the library.
 */
typedef struct model_plan {
  uint8_t result_class;    /**< NNRP_RESULT_CLASS_* */
  const model_snap *stale; /**< STALE_REUSE: the result to reuse */
  /** Non-NULL: a COMPLETE tensor result is also copied here (the
   *  previous copy is freed), for later STALE_REUSE answers. */
  model_snap **keep;
} model_plan;

/** What a model did with one frame (for the server's counters). */
typedef struct model_report {
  uint32_t packets;        /* RESULT_PUSH packets sent */
  uint32_t tiles_upscaled; /* FP16 tiles upscaled */
  uint32_t tiles_passed;   /* tiles returned unchanged */
  uint8_t result_class;    /* class of the final result */
} model_report;

/**
 * Answers one received submit: every RESULT_PUSH of the frame, the last
 * one final (EOS). Token chunks are streamed first (non-final pushes) by
 * the upscale model. queue_ms is written into the results' timing fields.
 * A tensor given by reference (REFERENCE / MIXED submit) is read through
 * nnrp_received_submit_tensor(), with the objects resolved from the cache.
 * @param plan  NULL: COMPLETE
 * @return 0 when the final result was queued (or the frame had already
 *         ended); a negative NNRP_ERR_* otherwise (the caller drops the
 *         frame).
 */
int model_answer(model_kind kind, const nnrp_received_submit *sub,
                 const model_plan *plan, const model_sink *sink,
                 model_report *rep);

/* ---- FP16 and upscaling (model_upscale.c) ------------------------------ */

/** IEEE 754 binary16 <-> binary32 (round to nearest even; NaN stays NaN). */
float fp16_to_float(uint16_t h);
uint16_t fp16_from_float(float f);

/**
 * Shape of an FP16 tile of len bytes: tw x th when they match, else a
 * square when len / 2 is a perfect square.
 * @return 1 with *w, *h set; 0 when the shape is unknown (odd length,
 *         empty tile, no match).
 */
int fp16_tile_shape(size_t len, uint32_t tw, uint32_t th, uint32_t *w,
                    uint32_t *h);

/** Bilinear 2x upscale (half-pixel centres, edges clamped) of a w x h FP16
 *  little-endian row-major tile into out (4 * w * h * 2 bytes); the
 *  arithmetic is done in float (vertical blend, then horizontal).
 *  @return 0; NNRP_ERR_NOMEM (w * h floats of scratch). */
int fp16_upscale2x(const uint8_t *in, uint32_t w, uint32_t h, uint8_t *out);

/** Nearest-neighbour 2x upscale (each value copied into a 2x2 block): the
 *  cheap DEGRADED answer of the upscale model. */
void fp16_upscale2x_nearest(const uint8_t *in, uint32_t w, uint32_t h,
                            uint8_t *out);

/* ---- token chunks (model_tokens.c) ------------------------------------- */

/**
 * Splits a token payload into the chunks the upscale model streams back:
 * printable text gives one chunk per word (the word and the blanks after
 * it), other bytes give 4-byte pieces; at most cap chunks, the last taking
 * the rest (bigger pieces for binary data). An empty payload is one empty
 * chunk. Views point into data.
 * @return the chunk count (>= 1 when cap >= 1).
 */
size_t model_token_chunks(nnrp_bytes data, nnrp_bytes *out, size_t cap);

#endif /* NNRP_CLI_MODEL_H */
