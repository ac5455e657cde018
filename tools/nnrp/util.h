/* SPDX-License-Identifier: Apache-2.0 */
/*
 * util.h - small helpers of the nnrp CLI: hex text <-> bytes, reading a whole
 * file or stdin, UTF-8 checks and allocation that exits on failure. Nothing
 * here knows the protocol.
 */
#ifndef NNRP_CLI_UTIL_H
#define NNRP_CLI_UTIL_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/** Exit statuses of every subcommand. */
#define CLI_EXIT_OK 0
#define CLI_EXIT_INVALID 1 /* some input was not valid (or I/O failed) */
#define CLI_EXIT_USAGE 2

/** malloc/calloc that print a message and exit(1) on failure; n may be 0. */
void *cli_xmalloc(size_t n);
void *cli_xcalloc(size_t n, size_t size);

/**
 * Parses hex text: pairs of hex digits, any ASCII whitespace anywhere, an
 * optional leading "0x". @return 0 with *out malloc'd (never NULL) and *len
 * set; -1 on an odd digit count or a non-hex character.
 */
int cli_hex_decode(const char *text, uint8_t **out, size_t *len);

/** Returns n bytes as lowercase hex in a malloc'd NUL-terminated string. */
char *cli_hex_encode(const uint8_t *p, size_t n);

/** Reads the whole stream f. @return 0 with *out malloc'd, -1 on error. */
int cli_read_all(FILE *f, uint8_t **out, size_t *len);

/** 1 when [p, p+n) is well-formed UTF-8 without NUL bytes, else 0. */
int cli_utf8_valid(const uint8_t *p, size_t n);

/** align8(n) of wire.md §1 rule 6. */
static inline uint64_t cli_align8(uint64_t n) {
  return (n + 7u) & ~(uint64_t)7;
}

/** Little-endian u32 at p (tools-side; the library has its own helpers). */
static inline uint32_t cli_rd32(const uint8_t *p) {
  return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
         (uint32_t)p[3] << 24;
}

#endif /* NNRP_CLI_UTIL_H */
