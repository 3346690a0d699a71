#!/usr/bin/env bash
# Configures and builds into a build folder. Usage: scripts/build.sh [--sanitize|--tsan] [--release]
# The default build treats warnings as errors; --sanitize adds ASan + UBSan (folder build-asan);
# --tsan adds ThreadSanitizer (folder build-tsan).
# Build output goes to stderr; the last line on stdout is the build folder.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
dir="$root/build"
# Debug info: line tables and function names (-g1), what backtraces and sanitizer reports use;
# full -g made the build a third slower. At -O2 -g, AddressSanitizer + UndefinedBehaviorSanitizer
# made the heaviest file compile in 159 s against 63 s at -O1 -g1 (35 s without sanitizers), and
# the ASan build dominated CI; at -Og it compiles in 34 s against 54 s at -O1 (2 cores, Dec 2026):
# the whole ASan build took 717 s against 1,006 s and its tests 378 s against 372 s. TSan stays
# at -O1: -Og cut its build by 15 % but made its tests slower by about as much.
optimize=(-O2 -g1 -DNDEBUG)
args=(-DKA_WERROR=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo)
for a in "$@"; do
  case "$a" in
    --sanitize) dir="$root/build-asan"; optimize=(-Og -g1 -DNDEBUG)
      args+=(-DKA_SANITIZE=ON -DKA_BUILD_BENCH=OFF) ;;
    --tsan) dir="$root/build-tsan"; optimize=(-O1 -g1 -DNDEBUG)
      args+=(-DKA_TSAN=ON -DKA_BUILD_BENCH=OFF) ;;
    --release) dir="$root/build-release"; args=(-DKA_WERROR=ON -DCMAKE_BUILD_TYPE=Release) ;;
    *) echo "build: unknown option $a" >&2; exit 2 ;;
  esac
done
if [ "$dir" != "$root/build-release" ]; then
  args+=("-DCMAKE_CXX_FLAGS_RELWITHDEBINFO=${optimize[*]}" "-DCMAKE_C_FLAGS_RELWITHDEBINFO=${optimize[*]}")
fi
# ccache, when installed, makes rebuilds in several checkouts cheap; nothing depends on it.
if command -v ccache >/dev/null 2>&1; then
  args+=(-DCMAKE_C_COMPILER_LAUNCHER=ccache -DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
fi
cmake -S "$root" -B "$dir" -G Ninja "${args[@]}" >&2
cmake --build "$dir" -j "$(nproc)" >&2
echo "$dir"
