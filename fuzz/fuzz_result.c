/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fuzz_result.c - libFuzzer target for RESULT_PUSH (wire.md §6.3, §7-§9):
 * the input is the 64-byte metadata followed by the body. The checks are
 * those of fuzz_submit.c, which this file compiles for RESULT_PUSH.
 */
#define FZ_DATA_TYPE NNRP_MSG_RESULT_PUSH
#include "fuzz_submit.c"
