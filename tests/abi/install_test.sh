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
# expect "what" command...: ok when the command succeeds, else a failure
expect() {
    local what=$1
    shift
    if "$@"; then ok "$what"; else fail "$what"; fi
}

echo "-- make install DESTDIR=$dest PREFIX=$prefix"
$make -C "$top" --no-print-directory B="$bdir" install DESTDIR="$dest" PREFIX="$prefix"

lib=$dest$prefix/lib
inc=$dest$prefix/include
echo "-- installed files"
expect "lib/libsipsess.so.$version (a regular file)" \
    test -f "$lib/libsipsess.so.$version" -a ! -L "$lib/libsipsess.so.$version"
expect "lib/libsipsess.so.$major -> libsipsess.so.$version" \
    test "$(readlink "$lib/libsipsess.so.$major")" = "libsipsess.so.$version"
expect "lib/libsipsess.so -> libsipsess.so.$major" \
    test "$(readlink "$lib/libsipsess.so")" = "libsipsess.so.$major"
expect "lib/libsipsess.a" test -f "$lib/libsipsess.a"
expect "lib/pkgconfig/sipsess.pc" test -f "$lib/pkgconfig/sipsess.pc"
for h in "$top"/libsipsess/include/sipsess/*.h; do
    cmp -s "$h" "$inc/sipsess/$(basename "$h")" || fail "include/sipsess/$(basename "$h") missing or different"
done
expect "include/sipsess/version.h" test -f "$inc/sipsess/version.h"
ok "$(ls "$inc"/sipsess/*.h | wc -l) headers in include/sipsess/"
if grep -rq -e "$top" -e "$dest" "$lib/pkgconfig/sipsess.pc"; then
    fail "sipsess.pc names the build tree or DESTDIR"
fi

echo "-- pkg-config"
export PKG_CONFIG_PATH=$lib/pkgconfig PKG_CONFIG_LIBDIR=$lib/pkgconfig PKG_CONFIG_SYSROOT_DIR=$dest
modversion=$(pkg-config --modversion sipsess)
expect "modversion '$modversion' is $version" test "$modversion" = "$version"
flags=$(pkg-config --cflags --libs sipsess)
echo "  pkg-config --cflags --libs sipsess: $flags"

echo "-- build and run tests/abi/pkgconfig_user.c against the installed library"
cc=${CC:-cc}
# shellcheck disable=SC2086  # pkg-config output is meant to be split
"$cc" -std=c11 -Wall -Wextra -Werror -o "$dest/pkgconfig_user" "$here/pkgconfig_user.c" $flags
resolved=$(LD_LIBRARY_PATH=$lib ldd "$dest/pkgconfig_user" | awk '/libsipsess/ {print $3}')
expect "the program loads the installed copy ($resolved)" \
    test "$resolved" = "$lib/libsipsess.so.$major"
if out=$(LD_LIBRARY_PATH=$lib "$dest/pkgconfig_user" 2>&1); then ok "$out"; else fail "pkgconfig_user: $out"; fi

echo "-- pip install --no-build-isolation ./python against the installed library"
py=${PYTHON:-/usr/bin/python3}
pysrc="$dest/pysrc"
# a copy of the sources pip needs (python/ and bindings/), so the build
# writes nothing into the checkout
mkdir -p "$pysrc"
cp -r "$top/python" "$top/bindings" "$pysrc/"
if SIPSESS_PREFIX=$dest$prefix "$py" -m pip install -q --no-build-isolation --no-deps \
        --target "$dest/site" "$pysrc/python" >"$dest/pip.log" 2>&1; then
    ok "pip install ./python"
    ext=$(ls "$dest"/site/sipsess/_core*.so)
    resolved=$(ldd "$ext" | awk '/libsipsess/ {print $3}')
    expect "the extension loads the installed copy ($resolved)" \
        test "$resolved" = "$lib/libsipsess.so.$major"
    if out=$(cd "$dest" && PYTHONPATH=$dest/site "$py" -c '
import sipsess
with sipsess.UA("udp:127.0.0.1:0") as a, sipsess.UA("udp:127.0.0.1:0") as b:
    o = a.request("OPTIONS", "sip:x@127.0.0.1:%d" % b.port())
    for _ in range(100):
        a.step(5); b.step(5)
        if o.done: break
    print("installed sipsess", sipsess.version(), "OPTIONS ->", o.result().status)
' 2>&1); then ok "$out"; else fail "import of the installed package: $out"; fi
else
    fail "pip install ./python: $(tail -n 5 "$dest/pip.log")"
fi

echo
if ((failures)); then
    echo "install test: $failures failure(s)"
    exit 1
fi
echo "install test: passed"
