/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_out.c - the scatter-gather output (src/wire/out.c): contiguous and
 * iovec modes, coalescing of scratch writes and adjacent references, zero
 * copy above copy_max, patchable reservations, flatten/contiguous, and
 * BUFFER_TOO_SMALL without writing past either capacity.
 */
#include <string.h>

#include "harness.h"
#include "wire/wire_int.h"
#include "wire_check.h"

#define CANARY 0xA5u

TEST(init_defaults) {
  uint8_t s[16];
  nnrp_iov iov[4];
  nnrp_out o;
  nnrp_out_init(&o, s, sizeof(s), iov, 4);
  CHECK(o.scratch == s);
  CHECK_EQ_U64(o.scratch_cap, 16);
  CHECK_EQ_U64(o.scratch_len, 0);
  CHECK(o.iov == iov);
  CHECK_EQ_U64(o.iov_cap, 4);
  CHECK_EQ_U64(o.iov_len, 0);
  CHECK_EQ_U64(o.copy_max, 64);
  CHECK_EQ_U64(o.total, 0);
  /* iov NULL: contiguous mode whatever the cap says. */
  nnrp_out_init(&o, s, sizeof(s), NULL, 4);
  CHECK_EQ_U64(o.iov_cap, 0);
}

TEST(contiguous_mode_copies_everything) {
  uint8_t s[256];
  uint8_t big[100];
  for (size_t i = 0; i < sizeof(big); i++)
    big[i] = (uint8_t)i;
  nnrp_out o;
  nnrp_out_init(&o, s, sizeof(s), NULL, 0);
  CHECK_EQ_INT(nnrp__out_bytes(&o, "abc", 3), 0);
  CHECK_EQ_INT(nnrp__out_ref(&o, big, sizeof(big)), 0); /* copied */
  uint8_t *r = nnrp__out_reserve(&o, 2);
  CHECK(r == s + 103);
  r[0] = 'x';
  r[1] = 'y';
  CHECK_EQ_U64(o.total, 105);
  CHECK_EQ_U64(o.scratch_len, 105);
  CHECK_EQ_U64(o.iov_len, 0);
  CHECK(nnrp_out_contiguous(&o) == s);
  CHECK_EQ_MEM(s, "abc", 3);
  CHECK_EQ_MEM(s + 3, big, sizeof(big));
  CHECK_EQ_MEM(s + 103, "xy", 2);
  uint8_t flat[105];
  CHECK_EQ_INT(nnrp_out_flatten(&o, flat, sizeof(flat)), 105);
  CHECK_EQ_MEM(flat, s, 105);
}

TEST(iov_mode_coalesces_and_references) {
  uint8_t s[64];
  nnrp_iov iov[8];
  uint8_t big[200], big2[300];
  memset(big, 1, sizeof(big));
  memset(big2, 2, sizeof(big2));
  nnrp_out o;
  nnrp_out_init(&o, s, sizeof(s), iov, 8);
  CHECK_EQ_INT(nnrp__out_bytes(&o, "head", 4), 0);
  CHECK_EQ_INT(nnrp__out_bytes(&o, "er", 2), 0);
  CHECK_EQ_U64(o.iov_len, 1); /* adjacent scratch writes: one segment */
  CHECK(iov[0].base == s);
  CHECK_EQ_U64(iov[0].len, 6);
  CHECK_EQ_INT(nnrp__out_ref(&o, "tiny", 4), 0); /* <= copy_max: copied */
  CHECK_EQ_U64(o.iov_len, 1);
  CHECK_EQ_U64(iov[0].len, 10);
  CHECK_EQ_INT(nnrp__out_ref(&o, big, sizeof(big)), 0);
  CHECK_EQ_U64(o.iov_len, 2);
  CHECK(iov[1].base == big); /* zero copy */
  CHECK_EQ_U64(iov[1].len, 200);
  uint8_t *r = nnrp__out_reserve(&o, 3); /* new scratch segment */
  CHECK(r == s + 10);
  memcpy(r, "pad", 3);
  CHECK_EQ_U64(o.iov_len, 3);
  CHECK(iov[2].base == s + 10);
  CHECK_EQ_U64(iov[2].len, 3);
  CHECK_EQ_INT(nnrp__out_ref(&o, big2, sizeof(big2)), 0);
  CHECK_EQ_U64(o.iov_len, 4);
  CHECK_EQ_U64(o.total, 10 + 200 + 3 + 300);
  CHECK_EQ_U64(o.scratch_len, 13);
  CHECK(nnrp_out_contiguous(&o) == NULL);
  uint8_t flat[513];
  CHECK_EQ_INT(nnrp_out_flatten(&o, flat, sizeof(flat)), 513);
  CHECK_EQ_MEM(flat, "headertiny", 10);
  CHECK_EQ_MEM(flat + 10, big, 200);
  CHECK_EQ_MEM(flat + 210, "pad", 3);
  CHECK_EQ_MEM(flat + 213, big2, 300);
}

TEST(adjacent_references_share_an_entry) {
  uint8_t s[16];
  nnrp_iov iov[4];
  uint8_t buf[400];
  nnrp_out o;
  nnrp_out_init(&o, s, sizeof(s), iov, 4);
  CHECK_EQ_INT(nnrp__out_bytes(&o, "h", 1), 0);
  CHECK_EQ_INT(nnrp__out_ref(&o, buf, 100), 0);
  CHECK_EQ_INT(nnrp__out_ref(&o, buf + 100, 150), 0);
  CHECK_EQ_U64(o.iov_len, 2);
  CHECK(iov[1].base == buf);
  CHECK_EQ_U64(iov[1].len, 250);
  CHECK_EQ_INT(nnrp__out_ref(&o, buf + 300, 100), 0); /* gap: new entry */
  CHECK_EQ_U64(o.iov_len, 3);
  CHECK_EQ_U64(o.total, 351);
}

TEST(only_reference_is_contiguous) {
  uint8_t mem[108];
  uint8_t *buf = mem, *s = mem + 100; /* payload right before scratch */
  nnrp_iov iov[2];
  memset(mem, 1, sizeof(mem));
  nnrp_out o;
  nnrp_out_init(&o, s, 8, iov, 2);
  CHECK(nnrp_out_contiguous(&o) == NULL); /* nothing described yet */
  CHECK_EQ_INT(nnrp__out_ref(&o, buf, 100), 0);
  CHECK(nnrp_out_contiguous(&o) == buf);
  /* The scratch segment after a reference starts at scratch[0]: a payload
   * ending exactly where scratch begins must not be taken for it. */
  CHECK_EQ_INT(nnrp__out_bytes(&o, "z", 1), 0);
  CHECK_EQ_U64(o.iov_len, 2);
  CHECK(iov[1].base == s);
}

TEST(reserve_is_patchable_and_stable) {
  uint8_t s[32];
  nnrp_iov iov[4];
  uint8_t big[128];
  memset(big, 7, sizeof(big));
  nnrp_out o;
  nnrp_out_init(&o, s, sizeof(s), iov, 4);
  uint8_t *len_field = nnrp__out_reserve(&o, 4);
  CHECK(len_field != NULL);
  CHECK_EQ_INT(nnrp__out_ref(&o, big, sizeof(big)), 0);
  CHECK_EQ_INT(nnrp__out_bytes(&o, "end", 3), 0);
  (void)nnrp_put_u32le(len_field, 0xDEADBEEFu); /* patched at the end */
  uint8_t flat[135];
  CHECK_EQ_INT(nnrp_out_flatten(&o, flat, sizeof(flat)), 135);
  CHECK_EQ_U64(nnrp_rd32(flat), 0xDEADBEEFu);
  /* Zero-length reservation: valid pointer, no segment. */
  size_t n = o.iov_len;
  CHECK(nnrp__out_reserve(&o, 0) != NULL);
  CHECK_EQ_U64(o.iov_len, n);
}

TEST(copy_max_zero_references_everything) {
  uint8_t s[8];
  nnrp_iov iov[4];
  nnrp_out o;
  nnrp_out_init(&o, s, sizeof(s), iov, 4);
  o.copy_max = 0;
  static const uint8_t one[1] = {9};
  CHECK_EQ_INT(nnrp__out_ref(&o, one, 1), 0);
  CHECK_EQ_U64(o.iov_len, 1);
  CHECK(iov[0].base == one);
  CHECK_EQ_U64(o.scratch_len, 0);
  CHECK_EQ_INT(nnrp__out_ref(&o, one, 0), 0); /* empty: nothing added */
  CHECK_EQ_U64(o.iov_len, 1);
  CHECK_EQ_U64(o.total, 1);
}

TEST(scratch_too_small_writes_nothing) {
  uint8_t mem[32];
  memset(mem, CANARY, sizeof(mem));
  nnrp_iov iov[4];
  nnrp_out o;
  nnrp_out_init(&o, mem, 8, iov, 4);
  CHECK_EQ_INT(nnrp__out_bytes(&o, "12345", 5), 0);
  CHECK_EQ_INT(nnrp__out_bytes(&o, "6789", 4), NNRP_ERR_BUFFER_TOO_SMALL);
  CHECK(nnrp__out_reserve(&o, 4) == NULL);
  CHECK_EQ_U64(o.scratch_len, 5); /* unchanged by the failures */
  CHECK_EQ_U64(o.total, 5);
  CHECK_EQ_U64(o.iov_len, 1);
  CHECK(wc_all_eq(mem + 5, sizeof(mem) - 5, CANARY));
  CHECK_EQ_INT(nnrp__out_bytes(&o, "678", 3), 0); /* exactly full */
  CHECK(nnrp__out_reserve(&o, 1) == NULL);
  CHECK(wc_all_eq(mem + 8, sizeof(mem) - 8, CANARY));
  /* Contiguous mode: a large "reference" is a copy and fails the same. */
  uint8_t big[100] = {0};
  nnrp_out_init(&o, mem, 8, NULL, 0);
  memset(mem, CANARY, sizeof(mem));
  CHECK_EQ_INT(nnrp__out_ref(&o, big, sizeof(big)), NNRP_ERR_BUFFER_TOO_SMALL);
  CHECK(wc_all_eq(mem, sizeof(mem), CANARY));
  CHECK_EQ_U64(o.total, 0);
}

TEST(iov_array_too_small_writes_nothing) {
  uint8_t s[32];
  nnrp_iov iov[3];
  memset(iov, CANARY, sizeof(iov));
  uint8_t big[100], big2[100];
  memset(big, 1, sizeof(big));
  memset(big2, 2, sizeof(big2));
  nnrp_out o;
  nnrp_out_init(&o, s, sizeof(s), iov, 2);
  CHECK_EQ_INT(nnrp__out_bytes(&o, "a", 1), 0);
  CHECK_EQ_INT(nnrp__out_ref(&o, big, sizeof(big)), 0);
  CHECK_EQ_U64(o.iov_len, 2);
  /* A new scratch segment or another reference needs a third entry. */
  CHECK_EQ_INT(nnrp__out_bytes(&o, "b", 1), NNRP_ERR_BUFFER_TOO_SMALL);
  CHECK(nnrp__out_reserve(&o, 1) == NULL);
  CHECK_EQ_INT(nnrp__out_ref(&o, big2, sizeof(big2)),
               NNRP_ERR_BUFFER_TOO_SMALL);
  CHECK_EQ_U64(o.iov_len, 2);
  CHECK_EQ_U64(o.scratch_len, 1);
  CHECK_EQ_U64(o.total, 101);
  CHECK(wc_all_eq((const uint8_t *)&iov[2], sizeof(iov[2]), CANARY));
  /* Extending the referenced run still works without a new entry. */
  uint8_t run[300];
  nnrp_out_reset(&o);
  CHECK_EQ_INT(nnrp__out_ref(&o, run, 100), 0);
  CHECK_EQ_INT(nnrp__out_ref(&o, run + 100, 100), 0);
  CHECK_EQ_INT(nnrp__out_bytes(&o, "c", 1), 0);
  CHECK_EQ_U64(o.iov_len, 2);
}

TEST(flatten_checks_cap) {
  uint8_t s[16];
  nnrp_iov iov[4];
  uint8_t big[80];
  memset(big, 3, sizeof(big));
  nnrp_out o;
  nnrp_out_init(&o, s, sizeof(s), iov, 4);
  CHECK_EQ_INT(nnrp__out_bytes(&o, "xy", 2), 0);
  CHECK_EQ_INT(nnrp__out_ref(&o, big, sizeof(big)), 0);
  uint8_t dst[128];
  memset(dst, CANARY, sizeof(dst));
  CHECK_EQ_INT(nnrp_out_flatten(&o, dst, 81), NNRP_ERR_BUFFER_TOO_SMALL);
  CHECK(wc_all_eq(dst, sizeof(dst), CANARY));
  CHECK_EQ_INT(nnrp_out_flatten(&o, dst, 82), 82);
  CHECK(wc_all_eq(dst + 82, sizeof(dst) - 82, CANARY));
  /* Empty output flattens to nothing, even into NULL. */
  nnrp_out_reset(&o);
  CHECK_EQ_INT(nnrp_out_flatten(&o, NULL, 0), 0);
  CHECK_EQ_U64(o.scratch_len, 0);
  CHECK_EQ_U64(o.iov_len, 0);
}

int main(void) {
  RUN(init_defaults);
  RUN(contiguous_mode_copies_everything);
  RUN(iov_mode_coalesces_and_references);
  RUN(adjacent_references_share_an_entry);
  RUN(only_reference_is_contiguous);
  RUN(reserve_is_patchable_and_stable);
  RUN(copy_max_zero_references_everything);
  RUN(scratch_too_small_writes_nothing);
  RUN(iov_array_too_small_writes_nothing);
  RUN(flatten_checks_cap);
  TEST_MAIN_END();
}
