/* SPDX-License-Identifier: Apache-2.0 */
/*
 * version.c - runtime version queries (nnrp_version.h).
 */
#include <nnrp/nnrp_version.h>

const char *nnrp_version_string(void) { return NNRP_VERSION_STRING; }

unsigned nnrp_version_num(void) { return NNRP_VERSION_NUM; }
