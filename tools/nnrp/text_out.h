/* SPDX-License-Identifier: Apache-2.0 */
/*
 * text_out.h - the readable text form of `nnrp decode`: prints the JSON tree
 * built for --json as indented `name: value` lines (flags, bitmaps and masks
 * in hex; long hex strings and arrays cut with a byte/item count).
 */
#ifndef NNRP_CLI_TEXT_OUT_H
#define NNRP_CLI_TEXT_OUT_H

#include <cjson/cJSON.h>
#include <stdio.h>

/** Bytes of a hex string printed in text mode before it is cut. */
#define TEXT_MAX_HEX_BYTES 256u
/** Items of a scalar array printed in text mode before it is cut. */
#define TEXT_MAX_ARRAY_ITEMS 64

/** Prints every member of object obj, indented by indent spaces. */
void text_print_members(FILE *out, const cJSON *obj, int indent);

/** Prints one group: "name:" then its members (or "name: -" for null). */
void text_print_group(FILE *out, const char *name, const cJSON *obj,
                      int indent);

#endif /* NNRP_CLI_TEXT_OUT_H */
