/* SPDX-License-Identifier: Apache-2.0 */
/*
 * nnrp_fuzz.h - the libFuzzer entry point every fuzz/fuzz_<name>.c defines.
 * The build force-includes this header into each target (-include), so the
 * definition always has a prototype (-Wmissing-prototypes); including it
 * explicitly as well is harmless.
 */
#ifndef NNRP_FUZZ_H
#define NNRP_FUZZ_H

#include <stddef.h>
#include <stdint.h>

/** Called once per input; must return 0 and must not keep `data`. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#endif /* NNRP_FUZZ_H */
