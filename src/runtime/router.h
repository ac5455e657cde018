/* SPDX-License-Identifier: Apache-2.0 */
/*
 * router.h - the client's result router (session.md §7.9): per-frame
 * queues plus one arrival queue, both in arrival order; a result is copied
 * once out of the read buffer into a block owned by the router (from the
 * runtime's pool) and handed to the application when taken. Memory is
 * bounded (queued bytes and count);
 * every tracked frame owns a pre-allocated failure record, so its terminal
 * outcome is never lost to an allocation failure.
 */
#ifndef NNRP_ROUTER_H
#define NNRP_ROUTER_H

#include "runtime/idmap.h"
#include "runtime/runtime_int.h"

typedef struct nnrp__rres nnrp__rres;

typedef struct nnrp__router {
  nnrp_runtime *rt;   /* its pool and results list */
  nnrp__idmap frames; /* frame_id -> nnrp__rframe */
  nnrp__link arrival; /* nnrp__rres.arrival, oldest first */
  uint64_t bytes, max_bytes;
  uint32_t count, max_count;
  uint32_t wire_flags; /* NNRP_WIRE_LENIENT for the re-decode */
} nnrp__router;

void nnrp__router_init(nnrp__router *r, nnrp_runtime *rt, uint64_t max_bytes,
                       uint32_t max_count, uint32_t wire_flags);
/* Frees every frame and queued result. */
void nnrp__router_free(nnrp__router *r);
/* Starts tracking a submitted frame. @return 0 or NNRP_ERR_NOMEM. */
int nnrp__router_track(nnrp__router *r, uint32_t frame_id);
/* Files NNRP_EV_RESULT / _DROP / _FRAME_FAILED delivered by connection c
 * (whose buffer a large packet may keep, nnrp__conn_adopt; c may be NULL).
 * @return 1 queued, 0 ignored (frame not tracked: discarded),
 * NNRP_ERR_NOMEM (a non-final chunk lost). */
int nnrp__router_file(nnrp__router *r, const nnrp_event *ev, nnrp__conn *c);
/* 1 when queued results reach a bound (stop reading). */
int nnrp__router_full(const nnrp__router *r);
/* 1: a record can be taken for frame_id (0: any frame); 0: not yet;
 * NNRP_ERR_NOT_FOUND: frame_id is not tracked. */
int nnrp__router_ready(const nnrp__router *r, uint32_t frame_id);
/* Takes the oldest record (ownership passes to the caller), or NULL. */
nnrp_client_result *nnrp__router_take(nnrp__router *r, uint32_t frame_id);
/* Forgets a frame and its queued records. @return 0 or NNRP_ERR_NOT_FOUND. */
int nnrp__router_discard(nnrp__router *r, uint32_t frame_id);

#endif /* NNRP_ROUTER_H */
