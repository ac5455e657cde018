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
 * inline objects and extension frames are not carried over. A tensor
 * given by reference is left out (*referenced = 1).
 * @return 0; NNRP_ERR_NOMEM; the error of nnrp_body_data_from_view().
 */
int model_body_export(const nnrp_received_submit *sub, model_body *mb,
                      int *referenced);
void model_body_free(model_body *mb);

/**
 * Replaces every FP16 tile of known shape in mb's sections by its 2x
 * upscale, written into one malloc'd buffer (*owned, NULL when none);
 * *status becomes MODEL_STATUS_PASSTHROUGH when an FP16 tile had no known
 * shape. @return 0; NNRP_ERR_NOMEM; NNRP_ERR_LIMIT_EXCEEDED.
 */
int model_upscale_tensor(model_body *mb, const nnrp_frame_submit *m,
                         void **owned, uint16_t *status, model_report *rep);

#endif /* NNRP_CLI_MODEL_INT_H */
