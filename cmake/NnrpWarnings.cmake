# SPDX-License-Identifier: Apache-2.0
#
# Interface targets shared by every libnnrp target:
#   nnrp_warnings - the house warning set (STYLE.md "Source files"), plus
#                   -Werror unless NNRP_WERROR=OFF.
#   nnrp_posix    - _POSIX_C_SOURCE=200809L for code that may use POSIX
#                   (tools, tests, fuzz replay, bench, examples, runtime).
#                   The sans-I/O core (src/wire, src/session) does not get it:
#                   it needs nothing beyond ISO C11.

add_library(nnrp_warnings INTERFACE)
target_compile_options(nnrp_warnings INTERFACE
  -Wall
  -Wextra
  -Wconversion
  -Wsign-conversion
  -Wshadow
  -Wvla
  -Wmissing-prototypes
  -Wstrict-prototypes
  -Wcast-align
  -Wformat-security
  -Wpedantic)
if(NNRP_WERROR)
  target_compile_options(nnrp_warnings INTERFACE -Werror)
endif()

add_library(nnrp_posix INTERFACE)
target_compile_definitions(nnrp_posix INTERFACE _POSIX_C_SOURCE=200809L)
