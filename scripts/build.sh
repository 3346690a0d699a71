#!/usr/bin/env bash
# Configures and builds into a build folder. Usage: scripts/build.sh [--sanitize] [--release]
# The default build treats warnings as errors; --sanitize adds ASan + UBSan (folder build-asan).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
dir="$root/build"
args=(-DKA_WERROR=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo)
for a in "$@"; do
  case "$a" in
    --sanitize) dir="$root/build-asan"; args+=(-DKA_SANITIZE=ON -DKA_BUILD_BENCH=OFF) ;;
    --release) dir="$root/build-release"; args=(-DKA_WERROR=ON -DCMAKE_BUILD_TYPE=Release) ;;
    *) echo "build: unknown option $a" >&2; exit 2 ;;
  esac
done
cmake -S "$root" -B "$dir" -G Ninja "${args[@]}" >/dev/null
cmake --build "$dir" -j "$(nproc)"
echo "$dir"
