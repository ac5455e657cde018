/* SPDX-License-Identifier: Apache-2.0 */
/*
 * idmap.h - a small open-addressing map from non-zero u32 ids (frame ids)
 * to pointers, used by the result router and the held-submit table. Linear
 * probing with backward-shift deletion (no tombstones); grows at 1/2 load.
 */
#ifndef NNRP_IDMAP_H
#define NNRP_IDMAP_H

#include <stddef.h>
#include <stdint.h>

typedef struct nnrp__idmap_slot {
  uint32_t key; /* 0 = empty */
  void *val;
} nnrp__idmap_slot;

typedef struct nnrp__idmap {
  nnrp__idmap_slot *slots;
  uint32_t cap; /* power of two, or 0 */
  uint32_t count;
} nnrp__idmap;

void nnrp__idmap_init(nnrp__idmap *m);
void nnrp__idmap_free(nnrp__idmap *m);
void *nnrp__idmap_get(const nnrp__idmap *m, uint32_t key);
/* Inserts or replaces. @return 0 or NNRP_ERR_NOMEM (key 0: INVALID_ARGUMENT) */
int nnrp__idmap_put(nnrp__idmap *m, uint32_t key, void *val);
/* Removes key; returns its value or NULL. */
void *nnrp__idmap_del(nnrp__idmap *m, uint32_t key);

#endif /* NNRP_IDMAP_H */
