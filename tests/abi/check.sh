#!/usr/bin/env bash
# ABI hygiene of the built shared library and the public headers.
#
#   tests/abi/check.sh BUILD_DIR VERSION
#
# Checks, each printed with its result:
#   symbols   every dynamic symbol is sipsess_* in version node LIBSIPSESS_0,
#             and none has the name of a libre sipsess_* function
#   soname    SONAME libsipsess.so.MAJOR; .so -> .so.MAJOR -> .so.VERSION (a file)
#   needed    NEEDED holds libc only (libm/libpthread tolerated)
#   headers   every public header compiles alone (and twice) with gcc, clang
#             and, when present, g++ / clang++
#   version   sipsess_version() of the .so == version.h == the Makefile
set -euo pipefail

(($# == 2)) || { echo "usage: $0 BUILD_DIR VERSION" >&2; exit 2; }
bdir=$1 version=$2
major=${version%%.*}
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
top=$(cd "$here/../.." && pwd)
incdir=$top/libsipsess/include
so=$bdir/lib/libsipsess.so
failures=0

fail() { echo "  FAIL: $*"; failures=$((failures + 1)); }
ok() { echo "  ok: $*"; }
# expect "what" command...: ok when the command succeeds, else a failure
expect() {
    local what=$1
    shift
    if "$@"; then ok "$what"; else fail "$what"; fi
}
indent() { sed 's/^/        /'; }

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# ---- symbols ---------------------------------------------------------
echo "-- exported symbols ($so)"
[[ -e "$so" ]] || { echo "  FAIL: $so missing (make lib)"; exit 1; }
# "name@@LIBSIPSESS_0" per defined symbol; the version node itself is an
# absolute symbol named LIBSIPSESS_0.
nm -D --defined-only "$so" | awk '{print $NF}' | sort -u > "$tmp/syms"
grep -v -x 'LIBSIPSESS_0' "$tmp/syms" > "$tmp/funcs" || true
nsyms=$(wc -l < "$tmp/funcs")
((nsyms > 0)) || fail "no exported symbol at all"
bad=$(grep -v -E '^sipsess_[A-Za-z0-9_]+@@LIBSIPSESS_0$' "$tmp/funcs" || true)
if [[ -n "$bad" ]]; then
    fail "symbols outside sipsess_*@@LIBSIPSESS_0:"
    indent <<< "$bad"
else
    ok "$nsyms symbols, all sipsess_* in LIBSIPSESS_0"
fi
priv=$(grep -E '^sipsess__' "$tmp/funcs" || true)
if [[ -z "$priv" ]]; then
    ok "no private sipsess__* symbol exported"
else
    fail "private symbols exported:"
    indent <<< "$priv"
fi
sed 's/@.*//' "$tmp/funcs" | sort -u > "$tmp/names"
grep -v -E '^(#|$)' "$here/libre_names.txt" | sort -u > "$tmp/libre"
clash=$(comm -12 "$tmp/names" "$tmp/libre")
if [[ -n "$clash" ]]; then
    fail "names equal to libre's sipsess_* functions:"
    indent <<< "$clash"
else
    ok "no name equal to any of $(wc -l < "$tmp/libre") libre sipsess_* functions"
fi

# ---- soname and file names ------------------------------------------
echo "-- SONAME and file names"
real=$(readlink -f "$so")
soname=$(readelf -d "$real" | sed -n 's/.*(SONAME).*\[\(.*\)\].*/\1/p')
expect "SONAME '$soname' is libsipsess.so.$major" test "$soname" = "libsipsess.so.$major"
expect "libsipsess.so -> libsipsess.so.$major" \
    test "$(readlink "$so")" = "libsipsess.so.$major"
expect "libsipsess.so.$major -> libsipsess.so.$version" \
    test "$(readlink "$bdir/lib/libsipsess.so.$major")" = "libsipsess.so.$version"
expect "libsipsess.so.$version is a regular file" \
    test -f "$bdir/lib/libsipsess.so.$version" -a ! -L "$bdir/lib/libsipsess.so.$version"

# ---- NEEDED ----------------------------------------------------------
echo "-- NEEDED"
needed=$(readelf -d "$real" | sed -n 's/.*(NEEDED).*\[\(.*\)\].*/\1/p' | tr '\n' ' ')
extra=$(tr ' ' '\n' <<< "$needed" | grep -v -E '^(|libc\.so\.6|libm\.so\.6|libpthread\.so\.0)$' || true)
expect "NEEDED: ${needed:-none} (libc only; libm/libpthread allowed)" test -z "$extra"
expect "libc.so.6 is NEEDED" grep -q 'libc\.so\.6' <<< "$needed"

# ---- headers ---------------------------------------------------------
echo "-- public headers compile on their own"
before=$failures
compilers=()
for c in gcc clang; do command -v "$c" >/dev/null && compilers+=("$c:c"); done
for c in g++ clang++; do command -v "$c" >/dev/null && compilers+=("$c:c++"); done
for h in "$incdir"/sipsess/*.h; do
    name=sipsess/$(basename "$h")
    printf '#include <%s>\n#include <%s>\nint sipsess_abi_check_dummy;\n' "$name" "$name" > "$tmp/h.c"
    for cl in "${compilers[@]}"; do
        c=${cl%%:*} lang=${cl##*:}
        if [[ $lang == c ]]; then std=(-std=c11 -x c); else std=(-std=c++11 -x c++); fi
        if ! "$c" "${std[@]}" -Wall -Wextra -Werror -pedantic -fsyntax-only -I"$incdir" "$tmp/h.c" 2> "$tmp/err"; then
            fail "$name with $c ($lang)"
            indent < "$tmp/err"
        fi
    done
done
((failures > before)) || ok "$(ls "$incdir"/sipsess/*.h | wc -l) headers x ${#compilers[@]} compilers (${compilers[*]})"

# ---- version -----------------------------------------------------------
echo "-- version"
cc=${CC:-cc}
"$cc" -std=c11 -Wall -Wextra -Werror -I"$incdir" -DEXPECT_VERSION="\"$version\"" \
    "$here/version_check.c" -L"$bdir/lib" -lsipsess -o "$tmp/version_check"
if out=$(LD_LIBRARY_PATH="$bdir/lib" "$tmp/version_check" 2>&1); then ok "$out"; else fail "$out"; fi

echo
if ((failures)); then
    echo "ABI checks: $failures failure(s)"
    exit 1
fi
echo "ABI checks: all passed"
