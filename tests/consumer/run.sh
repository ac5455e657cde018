#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
#
# CTest install_consumer: install the build tree into a temporary prefix, then
#  1. configure and build tests/consumer with find_package(nnrp CONFIG) and
#     run it against the shared and the static library;
#  2. compile the same main.c with `pkg-config --cflags --libs libnnrp`;
#  3. check the SONAME and that libnnrp.so exports only nnrp_* symbols.
#
# usage: run.sh BUILD_DIR CONSUMER_SRC LIBDIR CC CFLAGS VERSION CMAKE
set -eu

build=$1
src=$2
libdir=$3
cc=$4
cflags=$5
version=$6
cmake=$7

tmp=$(mktemp -d "${TMPDIR:-/tmp}/nnrp-consumer.XXXXXX")
cleanup() {
  if [ "${NNRP_KEEP_TMP:-0}" = 1 ]; then
    echo "kept $tmp"
  else
    rm -rf "$tmp"
  fi
}
trap cleanup EXIT
prefix=$tmp/prefix

step() { printf '== %s\n' "$*"; }
fail() {
  printf 'FAIL: %s\n' "$*" >&2
  exit 1
}

step "install into $prefix"
"$cmake" --install "$build" --prefix "$prefix" >"$tmp/install.log" 2>&1 ||
  { cat "$tmp/install.log"; fail "cmake --install"; }

[ -f "$prefix/include/nnrp/nnrp.h" ] || fail "include/nnrp/nnrp.h not installed"
[ -f "$prefix/$libdir/libnnrp.a" ] || fail "$libdir/libnnrp.a not installed"
[ -f "$prefix/$libdir/cmake/nnrp/nnrpConfig.cmake" ] ||
  fail "nnrpConfig.cmake not installed"
[ -f "$prefix/$libdir/pkgconfig/libnnrp.pc" ] || fail "libnnrp.pc not installed"

LD_LIBRARY_PATH="$prefix/$libdir${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
export LD_LIBRARY_PATH

step "shared library: SONAME and exported symbols"
so="$prefix/$libdir/libnnrp.so.0"
[ -e "$so" ] || fail "libnnrp.so.0 not installed"
if command -v readelf >/dev/null 2>&1; then
  readelf -d "$so" | grep -q 'SONAME.*\[libnnrp\.so\.0\]' ||
    fail "SONAME of $so is not libnnrp.so.0"
fi
if command -v nm >/dev/null 2>&1; then
  # Every exported (defined, dynamic) symbol must be part of the API.
  # Names starting with '_' come from the toolchain or sanitizers.
  extra=$(nm -D --defined-only "$so" | awk '{ print $NF }' |
    grep -v -e '^nnrp_' -e '^_' || true)
  [ -z "$extra" ] || fail "libnnrp.so exports non-API symbols: $extra"
fi

step "find_package(nnrp CONFIG) consumer"
gen=""
if command -v ninja >/dev/null 2>&1; then gen="-GNinja"; fi
# shellcheck disable=SC2086 # $gen is empty or one word
"$cmake" -S "$src" -B "$tmp/build" $gen \
  -DCMAKE_PREFIX_PATH="$prefix" \
  -DCMAKE_C_COMPILER="$cc" \
  -DCMAKE_C_FLAGS="$cflags" >"$tmp/configure.log" 2>&1 ||
  { cat "$tmp/configure.log"; fail "configure consumer"; }
"$cmake" --build "$tmp/build" >"$tmp/build.log" 2>&1 ||
  { cat "$tmp/build.log"; fail "build consumer"; }

for exe in consumer consumer_static; do
  out=$("$tmp/build/$exe") || fail "$exe exited with $?"
  printf '%s\n' "$out"
  printf '%s\n' "$out" | grep -q -F "$version" ||
    fail "$exe: version string does not contain $version"
done
if command -v ldd >/dev/null 2>&1; then
  ldd "$tmp/build/consumer" | grep -q -F "$prefix/$libdir/libnnrp.so.0" ||
    fail "consumer is not linked against the installed libnnrp.so.0"
fi

step "pkg-config consumer"
PKG_CONFIG_PATH="$prefix/$libdir/pkgconfig"
export PKG_CONFIG_PATH
pkg-config --exists libnnrp || fail "pkg-config does not find libnnrp"
[ "$(pkg-config --modversion libnnrp)" = "$version" ] ||
  fail "pkg-config --modversion is not $version"
# shellcheck disable=SC2046,SC2086 # word splitting is intended
"$cc" $cflags -std=c11 -Wall -Wextra -Wpedantic -Werror \
  -o "$tmp/consumer_pc" "$src/main.c" $(pkg-config --cflags --libs libnnrp) ||
  fail "compile main.c with pkg-config flags"
"$tmp/consumer_pc" || fail "consumer_pc exited with $?"

echo "install_consumer: ok"
