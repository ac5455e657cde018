/* SPDX-License-Identifier: Apache-2.0 */
/*
 * vectors.h - access to the shared test vectors (../shared/vectors) and hex
 * helpers. The vectors are read in place from NNRP_VECTORS_DIR (set by CTest
 * for every test); they are never copied into the repository.
 *
 * Every function here aborts the test binary with a message on failure: a
 * missing vector is a broken setup, not a test result.
 */
#ifndef NNRP_TEST_VECTORS_H
#define NNRP_TEST_VECTORS_H

#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

/** The vectors directory from the environment variable NNRP_VECTORS_DIR.
 *  Aborts if it is unset, empty or not a directory. */
const char *nnrp_test_vectors_dir(void);

/** Parses the JSON file at relpath below the vectors directory (e.g.
 *  "seed-line.json"). The caller frees the result with cJSON_Delete().
 *  Aborts if the file cannot be read or parsed. */
cJSON *nnrp_test_load_json(const char *relpath);

/** Decodes a hex string (upper or lower case, no separators) into a new
 *  malloc'd buffer stored in *out (never NULL, even for ""); the caller
 *  frees it. Returns the number of bytes. Aborts on odd length or a
 *  non-hex character. */
size_t nnrp_test_hex_decode(const char *hex, uint8_t **out);

/** Encodes len bytes as lowercase hex into a new malloc'd NUL-terminated
 *  string; the caller frees it. */
char *nnrp_test_hex_encode(const uint8_t *data, size_t len);

#endif /* NNRP_TEST_VECTORS_H */
