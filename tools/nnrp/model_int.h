/* SPDX-License-Identifier: Apache-2.0 */
/*
 * model_int.h - internals shared by the model_*.c files: a received
 * submit's body exported as builder input (result = submit body, payload
 * views into the held copy) and the tensor rewrite of the upscale model.
 */
#ifndef NNRP_CLI_MODEL_INT_H
#define NNRP_CLI_MODEL_INT_H

#include "model.h"

/** A submit body as builder input; the storage arrays are malloc'd. */
typedef struct model_body {
  nnrp_body_storage st;
  nnrp_body_data body;
} model_body;

/**
 * Exports sub's body for a RESULT_PUSH: the tensor without its camera
 * block (a result has none), every typed payload; references, non-slot
 * inline objects and extension frames are not carried over. A tile index
 * or section table given by reference is read from the resolved cache
 * object (nnrp_received_submit_tensor()); when that fails the tensor is
 * left out (*referenced = 1).
 * @return 0; NNRP_ERR_NOMEM; the error of nnrp_body_data_from_view().
 */
int model_body_export(const nnrp_received_submit *sub, model_body *mb,
                      int *referenced);
void model_body_free(model_body *mb);

/** How model_upscale_tensor() treats the tiles. */
typedef struct model_up_mode {
  int nearest;      /**< 1: nearest neighbour (DEGRADED), 0: bilinear */
  uint32_t covered; /**< tiles upscaled; tiles from this index on are
                         dropped (zero-length, PARTIAL) */
} model_up_mode;

/**
 * Replaces every FP16 tile of known shape in mb's sections by its 2x
 * upscale, written into one malloc'd buffer (*owned, NULL when none);
 * tiles at index >= mode->covered become zero-length (dropped) in every
 * section. *status becomes MODEL_STATUS_PASSTHROUGH when an FP16 tile had
 * no known shape. @return 0; NNRP_ERR_NOMEM; NNRP_ERR_LIMIT_EXCEEDED.
 */
int model_upscale_tensor(model_body *mb, const nnrp_frame_submit *m,
                         const model_up_mode *mode, void **owned,
                         uint16_t *status, model_report *rep);

/**
 * The tensor of the final result of one frame per plan (model_plan):
 * upscaled (bilinear, nearest neighbour, or the first half of the tiles)
 * for the upscale model, unchanged for echo; fin->meta gets the class,
 * covered / dropped counts and reused_frame_id; fin->body.tensor may be
 * replaced (STALE_REUSE). *owned receives a malloc'd buffer the result
 * points into (or NULL). rep->result_class is set.
 * @return 0; NNRP_ERR_NOMEM; NNRP_ERR_LIMIT_EXCEEDED.
 */
int model_tensor_result(model_kind kind, const nnrp_received_submit *sub,
                        const model_plan *plan, model_body *mb,
                        nnrp_result *fin, void **owned, model_report *rep);

#endif /* NNRP_CLI_MODEL_INT_H */
