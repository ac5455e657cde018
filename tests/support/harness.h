/* SPDX-License-Identifier: Apache-2.0 */
/*
 * harness.h - the in-tree test harness (libuv test/task.h style).
 *
 *   TEST(decode_ping) { CHECK_EQ_INT(nnrp_foo(), 0); }
 *   int main(void) { RUN(decode_ping); TEST_MAIN_END(); }
 *
 * A failing check prints "file:line: message", marks the running test failed
 * and lets the test go on; the binary runs every test. Each test prints
 * "ok - name" or "not ok - name"; the closing line is exactly
 * "N passed, N failed" and the exit status is non-zero if any test failed.
 * Every CHECK* is an expression whose value is 1 on success and 0 on failure,
 * so a test can stop early: `if (!CHECK(p != NULL)) return;`.
 */
#ifndef NNRP_TEST_HARNESS_H
#define NNRP_TEST_HARNESS_H

#include <stddef.h>
#include <stdint.h>

/** Defines a test case: a static void function without arguments. */
#define TEST(name) static void name(void)

/** Runs one test case from main(). */
#define RUN(name) harness_run(#name, name)

/** Ends main(): prints "N passed, N failed" and returns the exit status. */
#define TEST_MAIN_END() return harness_finish()

#define CHECK(cond) harness_check((cond) ? 1 : 0, __FILE__, __LINE__, #cond)

/** Integer equality, compared and printed as intmax_t. */
#define CHECK_EQ_INT(a, b)                                                     \
  harness_check_int((intmax_t)(a), (intmax_t)(b), __FILE__, __LINE__, #a, #b)

/** Unsigned 64-bit equality, printed in decimal and hex. */
#define CHECK_EQ_U64(a, b)                                                     \
  harness_check_u64((uint64_t)(a), (uint64_t)(b), __FILE__, __LINE__, #a, #b)

/** Byte equality of len bytes; prints the first differing offset and the
 *  bytes around it. */
#define CHECK_EQ_MEM(a, b, len)                                                \
  harness_check_mem((a), (b), (size_t)(len), __FILE__, __LINE__, #a, #b)

/** NUL-terminated string equality (NULL equals only NULL). */
#define CHECK_EQ_STR(a, b)                                                     \
  harness_check_str((a), (b), __FILE__, __LINE__, #a, #b)

void harness_run(const char *name, void (*fn)(void));
int harness_finish(void);

/** Marks the running test failed and prints "file:line: message". */
void harness_fail(const char *file, int line, const char *message);

int harness_check(int ok, const char *file, int line, const char *expr);
int harness_check_int(intmax_t a, intmax_t b, const char *file, int line,
                      const char *ea, const char *eb);
int harness_check_u64(uint64_t a, uint64_t b, const char *file, int line,
                      const char *ea, const char *eb);
int harness_check_mem(const void *a, const void *b, size_t len,
                      const char *file, int line, const char *ea,
                      const char *eb);
int harness_check_str(const char *a, const char *b, const char *file, int line,
                      const char *ea, const char *eb);

/** Prints "file:line: message" and aborts the binary (setup failures that
 *  make going on meaningless: missing vectors, out of memory). */
_Noreturn void harness_die(const char *file, int line, const char *message);

#endif /* NNRP_TEST_HARNESS_H */
