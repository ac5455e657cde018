/* SPDX-License-Identifier: Apache-2.0 */
/*
 * guard.h - guard-page buffers (picohttpparser style): the byte just past the
 * buffer is the first byte of a PROT_NONE page, so a decoder that reads one
 * byte too far faults at once instead of reading neighbouring heap.
 */
#ifndef NNRP_TEST_GUARD_H
#define NNRP_TEST_GUARD_H

#include <stddef.h>
#include <stdint.h>

/** Returns a writable buffer of len bytes (len may be 0) whose end,
 *  ptr + len, is exactly the start of an inaccessible page. *handle receives
 *  what nnrp_test_guard_free() needs. Aborts if the mapping fails. */
uint8_t *nnrp_test_guard_alloc(size_t len, void **handle);

/** Like nnrp_test_guard_alloc() and copies len bytes of data into it. */
uint8_t *nnrp_test_guard_copy(const uint8_t *data, size_t len, void **handle);

/** Unmaps a buffer from nnrp_test_guard_alloc(); NULL is ignored. */
void nnrp_test_guard_free(void *handle);

#endif /* NNRP_TEST_GUARD_H */
