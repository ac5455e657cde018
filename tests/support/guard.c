/* SPDX-License-Identifier: Apache-2.0 */
/*
 * guard.c - guard-page buffers: one anonymous mapping of the data pages plus
 * one more page, the last made PROT_NONE with mprotect().
 */
/* MAP_ANONYMOUS is not in POSIX.1-2008; glibc shows it with _DEFAULT_SOURCE. */
#define _DEFAULT_SOURCE 1

#include "guard.h"

#include "harness.h"

#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

struct guard_handle {
  void *base;
  size_t size;
};

uint8_t *nnrp_test_guard_alloc(size_t len, void **handle) {
  long ps = sysconf(_SC_PAGESIZE);
  if (ps <= 0) {
    harness_die(__FILE__, __LINE__, "sysconf(_SC_PAGESIZE) failed");
  }
  size_t page = (size_t)ps;
  size_t data_pages = len / page + (len % page != 0 ? 1 : 0);
  if (data_pages == 0) {
    data_pages = 1;
  }
  size_t size = (data_pages + 1) * page;
  void *base = mmap(NULL, size, PROT_READ | PROT_WRITE,
                    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (base == MAP_FAILED) {
    harness_die(__FILE__, __LINE__, "mmap failed");
  }
  uint8_t *guard = (uint8_t *)base + data_pages * page;
  if (mprotect(guard, page, PROT_NONE) != 0) {
    harness_die(__FILE__, __LINE__, "mprotect failed");
  }
  struct guard_handle *h = malloc(sizeof *h);
  if (h == NULL) {
    harness_die(__FILE__, __LINE__, "out of memory");
  }
  h->base = base;
  h->size = size;
  *handle = h;
  return guard - len;
}

uint8_t *nnrp_test_guard_copy(const uint8_t *data, size_t len, void **handle) {
  uint8_t *p = nnrp_test_guard_alloc(len, handle);
  if (len > 0) {
    memcpy(p, data, len);
  }
  return p;
}

void nnrp_test_guard_free(void *handle) {
  struct guard_handle *h = handle;
  if (h == NULL) {
    return;
  }
  munmap(h->base, h->size);
  free(h);
}
