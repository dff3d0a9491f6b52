#!/usr/bin/env bash
# Install into a scratch DESTDIR and build a program against the installed
# copy the way a user would: through pkg-config.
#
#   MAKE=make tests/abi/install_test.sh BUILD_DIR VERSION
set -euo pipefail

(($# == 2)) || { echo "usage: $0 BUILD_DIR VERSION" >&2; exit 2; }
bdir=$1 version=$2
major=${version%%.*}
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
top=$(cd "$here/../.." && pwd)
make=${MAKE:-make}
prefix=/usr/local

dest=$(mktemp -d)
trap 'rm -rf "$dest"' EXIT
failures=0
fail() { echo "  FAIL: $*"; failures=$((failures + 1)); }
ok() { echo "  ok: $*"; }

echo "-- make install DESTDIR=$dest PREFIX=$prefix"
$make -C "$top" --no-print-directory B="$bdir" install DESTDIR="$dest" PREFIX="$prefix"

lib=$dest$prefix/lib
inc=$dest$prefix/include
echo "-- installed files"
[[ -f "$lib/libsipsess.so.$version" && ! -L "$lib/libsipsess.so.$version" ]] &&
    ok "lib/libsipsess.so.$version" || fail "lib/libsipsess.so.$version missing"
[[ "$(readlink "$lib/libsipsess.so.$major" 2>/dev/null)" == "libsipsess.so.$version" ]] &&
    ok "lib/libsipsess.so.$major -> libsipsess.so.$version" || fail "lib/libsipsess.so.$major link"
[[ "$(readlink "$lib/libsipsess.so" 2>/dev/null)" == "libsipsess.so.$major" ]] &&
    ok "lib/libsipsess.so -> libsipsess.so.$major" || fail "lib/libsipsess.so link"
[[ -f "$lib/libsipsess.a" ]] && ok "lib/libsipsess.a" || fail "lib/libsipsess.a missing"
[[ -f "$lib/pkgconfig/sipsess.pc" ]] && ok "lib/pkgconfig/sipsess.pc" || fail "sipsess.pc missing"
for h in "$top"/libsipsess/include/sipsess/*.h; do
    cmp -s "$h" "$inc/sipsess/$(basename "$h")" || fail "include/sipsess/$(basename "$h") missing or different"
done
[[ -f "$inc/sipsess/version.h" ]] || fail "include/sipsess/version.h missing"
ok "$(ls "$inc"/sipsess/*.h | wc -l) headers in include/sipsess/"
if grep -rq -e "$top" -e "$dest" "$lib/pkgconfig/sipsess.pc"; then
    fail "sipsess.pc names the build tree or DESTDIR"
fi

echo "-- pkg-config"
export PKG_CONFIG_PATH=$lib/pkgconfig PKG_CONFIG_LIBDIR=$lib/pkgconfig PKG_CONFIG_SYSROOT_DIR=$dest
modversion=$(pkg-config --modversion sipsess)
[[ "$modversion" == "$version" ]] && ok "modversion $modversion" || fail "modversion '$modversion' != $version"
flags=$(pkg-config --cflags --libs sipsess)
echo "  pkg-config --cflags --libs sipsess: $flags"

echo "-- build and run tests/abi/pkgconfig_user.c against the installed library"
cc=${CC:-cc}
# shellcheck disable=SC2086  # pkg-config output is meant to be split
"$cc" -std=c11 -Wall -Wextra -Werror -o "$dest/pkgconfig_user" "$here/pkgconfig_user.c" $flags
resolved=$(LD_LIBRARY_PATH=$lib ldd "$dest/pkgconfig_user" | awk '/libsipsess/ {print $3}')
[[ "$resolved" == "$lib/libsipsess.so.$major" ]] && ok "loads $resolved" ||
    fail "program resolves libsipsess to '$resolved', not the installed copy"
if out=$(LD_LIBRARY_PATH=$lib "$dest/pkgconfig_user"); then ok "$out"; else fail "pkgconfig_user: $out"; fi

echo
if ((failures)); then
    echo "install test: $failures failure(s)"
    exit 1
fi
echo "install test: passed"
