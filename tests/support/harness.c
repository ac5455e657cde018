/* SPDX-License-Identifier: Apache-2.0 */
/*
 * harness.c - the in-tree test harness: runs test cases, counts them and
 * prints TAP-like "ok"/"not ok" lines and the closing "N passed, N failed".
 * Everything goes to stdout, flushed per line, so that failure messages and
 * results stay in order in CTest logs.
 */
#include "harness.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int current_failed;
static unsigned passed_count;
static unsigned failed_count;

void harness_run(const char *name, void (*fn)(void)) {
  current_failed = 0;
  fn();
  if (current_failed) {
    failed_count++;
    printf("not ok - %s\n", name);
  } else {
    passed_count++;
    printf("ok - %s\n", name);
  }
  fflush(stdout);
}

int harness_finish(void) {
  printf("%u passed, %u failed\n", passed_count, failed_count);
  fflush(stdout);
  /* A binary that ran no test at all is a mistake, not a success. */
  return failed_count == 0 && passed_count > 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}

void harness_fail(const char *file, int line, const char *message) {
  current_failed = 1;
  printf("%s:%d: %s\n", file, line, message);
  fflush(stdout);
}

_Noreturn void harness_die(const char *file, int line, const char *message) {
  fflush(stdout);
  fprintf(stderr, "%s:%d: fatal: %s\n", file, line, message);
  fflush(stderr);
  abort();
}

int harness_check(int ok, const char *file, int line, const char *expr) {
  if (!ok) {
    char msg[512];
    snprintf(msg, sizeof msg, "CHECK(%s) failed", expr);
    harness_fail(file, line, msg);
  }
  return ok;
}

int harness_check_int(intmax_t a, intmax_t b, const char *file, int line,
                      const char *ea, const char *eb) {
  if (a == b) {
    return 1;
  }
  char msg[512];
  snprintf(msg, sizeof msg,
           "CHECK_EQ_INT(%s, %s) failed: %" PRIdMAX " != %" PRIdMAX, ea, eb, a,
           b);
  harness_fail(file, line, msg);
  return 0;
}

int harness_check_u64(uint64_t a, uint64_t b, const char *file, int line,
                      const char *ea, const char *eb) {
  if (a == b) {
    return 1;
  }
  char msg[512];
  snprintf(msg, sizeof msg,
           "CHECK_EQ_U64(%s, %s) failed: %" PRIu64 " (0x%" PRIx64
           ") != %" PRIu64 " (0x%" PRIx64 ")",
           ea, eb, a, a, b, b);
  harness_fail(file, line, msg);
  return 0;
}

/* Prints up to 8 bytes either side of offset `at`, marking that byte. */
static void dump_around(const char *label, const uint8_t *p, size_t len,
                        size_t at) {
  size_t from = at >= 8 ? at - 8 : 0;
  size_t to = len - at > 8 ? at + 9 : len;
  printf("  %s @%zu:", label, from);
  for (size_t i = from; i < to; i++) {
    if (i == at) {
      printf(" [%02x]", (unsigned)p[i]);
    } else {
      printf(" %02x", (unsigned)p[i]);
    }
  }
  printf("\n");
  fflush(stdout);
}

int harness_check_mem(const void *a, const void *b, size_t len,
                      const char *file, int line, const char *ea,
                      const char *eb) {
  char msg[512];
  if (len == 0) {
    return 1;
  }
  if (a == NULL || b == NULL) {
    snprintf(msg, sizeof msg, "CHECK_EQ_MEM(%s, %s, %zu) failed: NULL pointer",
             ea, eb, len);
    harness_fail(file, line, msg);
    return 0;
  }
  const uint8_t *pa = a;
  const uint8_t *pb = b;
  size_t at = 0;
  while (at < len && pa[at] == pb[at]) {
    at++;
  }
  if (at == len) {
    return 1;
  }
  snprintf(msg, sizeof msg,
           "CHECK_EQ_MEM(%s, %s, %zu) failed: first difference at offset %zu "
           "(0x%02x != 0x%02x)",
           ea, eb, len, at, (unsigned)pa[at], (unsigned)pb[at]);
  harness_fail(file, line, msg);
  dump_around(ea, pa, len, at);
  dump_around(eb, pb, len, at);
  return 0;
}

int harness_check_str(const char *a, const char *b, const char *file, int line,
                      const char *ea, const char *eb) {
  if (a == b || (a != NULL && b != NULL && strcmp(a, b) == 0)) {
    return 1;
  }
  char msg[1024];
  snprintf(msg, sizeof msg, "CHECK_EQ_STR(%s, %s) failed: %s%s%s != %s%s%s", ea,
           eb, a ? "\"" : "", a ? a : "NULL", a ? "\"" : "", b ? "\"" : "",
           b ? b : "NULL", b ? "\"" : "");
  harness_fail(file, line, msg);
  return 0;
}
