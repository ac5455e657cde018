/* SPDX-License-Identifier: Apache-2.0 */
/*
 * result_check.h - checks the clients (`nnrp submit --class-check /
 * --verify`, `nnrp bench --verify`) apply to a frame's final RESULT_PUSH:
 * the result class against the submit's budget policy (session.md §7.7,
 * wire.md §6.3 sender conventions and R3-R6), and the tiles against what
 * the demo model must return for that class (model.h, model_plan).
 */
#ifndef NNRP_CLI_RESULT_CHECK_H
#define NNRP_CLI_RESULT_CHECK_H

#include "model.h"
#include "net_common.h"

/**
 * Class fields of a final result: the class needs its bit in the submit's
 * policy; flags and applied policy follow the class (PARTIAL flag +
 * ALLOW_PARTIAL, STALE + ALLOW_STALE_REUSE and a reused_frame_id of an
 * earlier frame, FALLBACK + ALLOW_DEGRADED, none for COMPLETE); applied
 * policy within the submit's; tensor results: covered + dropped =
 * tile_count, PARTIAL drops at least one tile, COMPLETE none.
 * @return NULL when consistent, else a short reason (static text).
 */
const char *check_result_class(const nnrp_result_push *m, uint8_t policy,
                               uint32_t frame_id);

/** What the demo model returns for a frame's tile. */
typedef struct check_expect {
  int model;     /**< MODEL_UPSCALE or MODEL_ECHO; -1 unknown */
  uint8_t *full; /**< bilinear 2x (upscale) or the tile (echo) */
  size_t full_len;
  uint8_t *nearest; /**< nearest-neighbour 2x (DEGRADED) */
  size_t nearest_len;
  uint32_t full_w; /**< row width of `full` (for dumps) */
  uint16_t tiles;  /**< tiles per frame */
} check_expect;

/** Computes the expected tiles of f (a frame with a tensor) for model.
 *  Exits on out of memory. */
void check_expect_init(check_expect *e, int model, const net_frame *f);
void check_expect_free(check_expect *e);

/**
 * Tiles of a final result per its class: COMPLETE and STALE_REUSE every
 * tile equals `full` (frames repeat the same tile, and the server reuses
 * its last COMPLETE result); PARTIAL the covered tiles equal `full`, the
 * dropped ones are empty; DEGRADED every tile equals `nearest`. One
 * section, `tiles` tiles.
 * @return NULL when they match, else a short reason (static text).
 */
const char *check_result_tiles(const check_expect *e, const nnrp_result_push *m,
                               const nnrp_data_body *b);

#endif /* NNRP_CLI_RESULT_CHECK_H */
