/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_support.c - self-test of tests/support: hex round trip, guard-page
 * buffers, the vectors directory and the harness checks on passing values.
 */
#include "guard.h"
#include "harness.h"
#include "vectors.h"

#include <stdlib.h>
#include <string.h>

TEST(hex_round_trip) {
  static const uint8_t bytes[] = {0x4e, 0x4e, 0x52, 0x50, 0x01, 0x00,
                                  0x20, 0x28, 0xff, 0x0a, 0xa0};
  char *hex = nnrp_test_hex_encode(bytes, sizeof bytes);
  CHECK_EQ_STR(hex, "4e4e525001002028ff0aa0");

  uint8_t *back = NULL;
  size_t n = nnrp_test_hex_decode(hex, &back);
  CHECK_EQ_INT(n, sizeof bytes);
  CHECK_EQ_MEM(back, bytes, sizeof bytes);
  free(back);
  free(hex);

  n = nnrp_test_hex_decode("ABcd", &back);
  CHECK_EQ_INT(n, 2);
  CHECK_EQ_U64(back[0], 0xab);
  CHECK_EQ_U64(back[1], 0xcd);
  free(back);
}

TEST(hex_empty) {
  uint8_t *back = NULL;
  size_t n = nnrp_test_hex_decode("", &back);
  CHECK_EQ_INT(n, 0);
  CHECK(back != NULL);
  free(back);
  char *hex = nnrp_test_hex_encode(NULL, 0);
  CHECK_EQ_STR(hex, "");
  free(hex);
}

/* Every byte up to ptr[len - 1] is usable for several sizes around a page. */
TEST(guard_page_buffer) {
  static const size_t sizes[] = {0, 1, 40, 4095, 4096, 4097, 65536 + 3};
  for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
    void *handle = NULL;
    size_t len = sizes[i];
    uint8_t *p = nnrp_test_guard_alloc(len, &handle);
    CHECK(p != NULL);
    CHECK(handle != NULL);
    for (size_t j = 0; j < len; j++) {
      p[j] = (uint8_t)j;
    }
    if (len > 0) {
      CHECK_EQ_U64(p[len - 1], (uint8_t)(len - 1));
    }
    nnrp_test_guard_free(handle);
  }
}

TEST(guard_page_copy) {
  static const uint8_t bytes[] = {1, 2, 3, 4, 5};
  void *handle = NULL;
  uint8_t *p = nnrp_test_guard_copy(bytes, sizeof bytes, &handle);
  CHECK_EQ_MEM(p, bytes, sizeof bytes);
  nnrp_test_guard_free(handle);
  nnrp_test_guard_free(NULL);
}

TEST(vectors_seed_line) {
  CHECK(strlen(nnrp_test_vectors_dir()) > 0);
  cJSON *root = nnrp_test_load_json("seed-line.json");
  const cJSON *vectors = cJSON_GetObjectItemCaseSensitive(root, "vectors");
  if (CHECK(cJSON_IsArray(vectors))) {
    CHECK(cJSON_GetArraySize(vectors) > 0);
    const cJSON *first = cJSON_GetArrayItem(vectors, 0);
    const cJSON *hex = cJSON_GetObjectItemCaseSensitive(first, "hex");
    CHECK(cJSON_IsString(hex));
  }
  cJSON_Delete(root);
}

TEST(checks_pass) {
  CHECK(1 + 1 == 2);
  CHECK_EQ_INT(-5, -5);
  CHECK_EQ_INT((size_t)7, 7);
  CHECK_EQ_U64(UINT64_MAX, 0xffffffffffffffffu);
  CHECK_EQ_STR(NULL, NULL);
  CHECK_EQ_STR("nnrp", "nnrp");
  CHECK_EQ_MEM("abc", "abc", 0);
}

int main(void) {
  RUN(hex_round_trip);
  RUN(hex_empty);
  RUN(guard_page_buffer);
  RUN(guard_page_copy);
  RUN(vectors_seed_line);
  RUN(checks_pass);
  TEST_MAIN_END();
}
