#!/usr/bin/env bash
# README's test command: installs what is missing, builds with warnings as errors, and runs the
# whole default test suite (everything but the long `soak` label; `real_kafka` starts real Apache
# Kafka JVMs from the jars setup.sh fetched). --sanitize runs it in an AddressSanitizer +
# UndefinedBehaviorSanitizer build, without `real_kafka` (JVM start-up would dominate it; the
# mock-cluster tests cover the same code there). Extra arguments go to ctest.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
build_args=()
ctest_args=()
exclude='soak'
for a in "$@"; do
  case "$a" in
    --sanitize) build_args+=(--sanitize); exclude='soak|real_kafka' ;;
    *) ctest_args+=("$a") ;;
  esac
done
"$root/scripts/setup.sh"
dir="$("$root/scripts/build.sh" "${build_args[@]}" | tail -n 1)"
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"
cd "$dir"
ctest --output-on-failure --timeout 600 -j 2 -LE "$exclude" "${ctest_args[@]}"
