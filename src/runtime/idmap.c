/* SPDX-License-Identifier: Apache-2.0 */
/*
 * idmap.c - u32 id -> pointer map (idmap.h): linear probing, backward-shift
 * deletion, multiplicative hashing.
 */
#include <stdlib.h>

#include <nnrp/nnrp_error.h>

#include "runtime/idmap.h"

static uint32_t slot_of(uint32_t key, uint32_t cap) {
  return (uint32_t)((key * 2654435761u) & (cap - 1u));
}

void nnrp__idmap_init(nnrp__idmap *m) {
  m->slots = NULL;
  m->cap = 0;
  m->count = 0;
}

void nnrp__idmap_free(nnrp__idmap *m) {
  free(m->slots);
  nnrp__idmap_init(m);
}

void *nnrp__idmap_get(const nnrp__idmap *m, uint32_t key) {
  if (m->cap == 0 || key == 0)
    return NULL;
  for (uint32_t i = slot_of(key, m->cap);; i = (i + 1u) & (m->cap - 1u)) {
    if (m->slots[i].key == key)
      return m->slots[i].val;
    if (m->slots[i].key == 0)
      return NULL;
  }
}

static void insert(nnrp__idmap_slot *slots, uint32_t cap, uint32_t key,
                   void *val) {
  uint32_t i = slot_of(key, cap);
  while (slots[i].key != 0 && slots[i].key != key)
    i = (i + 1u) & (cap - 1u);
  slots[i].key = key;
  slots[i].val = val;
}

static int grow(nnrp__idmap *m) {
  uint32_t cap = m->cap ? m->cap * 2u : 16u;
  if (cap == 0)
    return NNRP_ERR_NOMEM;
  nnrp__idmap_slot *s = calloc(cap, sizeof(*s));
  if (s == NULL)
    return NNRP_ERR_NOMEM;
  for (uint32_t i = 0; i < m->cap; i++)
    if (m->slots[i].key)
      insert(s, cap, m->slots[i].key, m->slots[i].val);
  free(m->slots);
  m->slots = s;
  m->cap = cap;
  return 0;
}

int nnrp__idmap_put(nnrp__idmap *m, uint32_t key, void *val) {
  if (key == 0)
    return NNRP_ERR_INVALID_ARGUMENT;
  if ((m->count + 1u) * 2u > m->cap) {
    int rc = grow(m);
    if (rc != 0)
      return rc;
  }
  if (nnrp__idmap_get(m, key) == NULL)
    m->count++;
  insert(m->slots, m->cap, key, val);
  return 0;
}

void *nnrp__idmap_del(nnrp__idmap *m, uint32_t key) {
  if (m->cap == 0 || key == 0)
    return NULL;
  uint32_t mask = m->cap - 1u;
  uint32_t i = slot_of(key, m->cap);
  while (m->slots[i].key != key) {
    if (m->slots[i].key == 0)
      return NULL;
    i = (i + 1u) & mask;
  }
  void *val = m->slots[i].val;
  /* Backward shift: move later entries of the cluster into the hole when
   * their home slot is not between the hole and them. */
  uint32_t hole = i;
  for (uint32_t j = (i + 1u) & mask; m->slots[j].key != 0;
       j = (j + 1u) & mask) {
    uint32_t home = slot_of(m->slots[j].key, m->cap);
    int between =
        hole <= j ? (hole < home && home <= j) : (hole < home || home <= j);
    if (!between) {
      m->slots[hole] = m->slots[j];
      hole = j;
    }
  }
  m->slots[hole].key = 0;
  m->slots[hole].val = NULL;
  m->count--;
  return val;
}
