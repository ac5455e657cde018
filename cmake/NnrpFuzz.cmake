# SPDX-License-Identifier: Apache-2.0
#
# NNRP_FUZZ=ON (clang only): every target in the project is compiled with
# sanitizer coverage (-fsanitize=fuzzer-no-link) plus ASan and UBSan, so the
# libFuzzer targets fuzz_<name> (see fuzz/CMakeLists.txt) get coverage
# feedback from inside the library. UBSan findings abort (no recovery) so the
# fuzzer reports them as crashes.
#
# NNRP_SANITIZER_FLAGS is what an out-of-tree consumer of this build must also
# compile and link with (used by the install_consumer test).

set(NNRP_SANITIZER_FLAGS "")
if(NNRP_FUZZ)
  if(NOT CMAKE_C_COMPILER_ID MATCHES "Clang")
    message(FATAL_ERROR
      "NNRP_FUZZ=ON needs clang (libFuzzer); got ${CMAKE_C_COMPILER_ID}. "
      "Use the `fuzz` preset or -DCMAKE_C_COMPILER=clang.")
  endif()
  add_compile_options(
    -fsanitize=fuzzer-no-link,address,undefined
    -fno-sanitize-recover=all
    -fno-omit-frame-pointer)
  add_link_options(-fsanitize=address,undefined)
  set(NNRP_SANITIZER_FLAGS "-fsanitize=address,undefined")
endif()
