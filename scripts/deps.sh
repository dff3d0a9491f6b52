#!/usr/bin/env bash
# Install the Debian packages that building and testing libsipsess need.
# Only missing packages are installed; `apt-get update` runs only when at
# least one is missing. Works as root, or through sudo for other users.
#
#   scripts/deps.sh            install what is missing
#   scripts/deps.sh --check    list what is missing, install nothing (exit 1 if any)
set -euo pipefail

packages=(
    # build: compilers for the gcc and clang builds, ar/nm/readelf, pkg-config
    gcc g++ make binutils pkg-config clang
    # sanitizers, libFuzzer, llvm-symbolizer for readable ASan/UBSan stacks
    llvm libclang-rt-14-dev libfuzzer-14-dev
    # C test suite
    libcriterion-dev valgrind
    # later layers: SIPp interop, SWIG bindings for Python and Lua
    sip-tester swig python3-dev python3-pytest lua5.4 liblua5.4-dev lua-busted
    # pip install ./python (no PyPI: setuptools from Debian, --no-build-isolation)
    python3-pip python3-setuptools
)

check_only=0
[[ "${1:-}" == "--check" ]] && check_only=1

if ! command -v dpkg-query >/dev/null 2>&1 || ! command -v apt-get >/dev/null 2>&1; then
    echo "deps: not a Debian-like system (no dpkg-query/apt-get); install by hand:" >&2
    echo "      ${packages[*]}" >&2
    exit 0
fi

missing=()
for p in "${packages[@]}"; do
    status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
    [[ "$status" == "install ok installed" ]] || missing+=("$p")
done

if ((${#missing[@]} == 0)); then
    echo "deps: all ${#packages[@]} packages present"
    exit 0
fi

echo "deps: missing: ${missing[*]}"
((check_only)) && exit 1

if ((EUID == 0)); then
    as_root=(env DEBIAN_FRONTEND=noninteractive)
elif command -v sudo >/dev/null 2>&1; then
    as_root=(sudo env DEBIAN_FRONTEND=noninteractive)
else
    echo "deps: not root and no sudo; run as root:" >&2
    echo "      apt-get update && apt-get install -y ${missing[*]}" >&2
    exit 1
fi

"${as_root[@]}" apt-get update
"${as_root[@]}" apt-get install -y --no-install-recommends "${missing[@]}"
echo "deps: installed ${#missing[@]} package(s)"
