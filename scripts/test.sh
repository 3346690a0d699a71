#!/usr/bin/env bash
# README's test command: installs what is missing, builds with warnings as errors, and runs the
# whole default test suite (everything but the long `soak` label; `real_kafka` starts real Apache
# Kafka JVMs from the jars setup.sh fetched). --sanitize runs it in an AddressSanitizer +
# UndefinedBehaviorSanitizer build, without `real_kafka` (JVM start-up would dominate it; the
# mock-cluster tests cover the same code there). --tsan builds with ThreadSanitizer (build-tsan)
# and runs the unit, e2e and fault suites (not `soak`, `real_kafka`, nor what runs one thread
# and so cannot race: the `fuzz` replays and the `single_thread` simulator and policy tests);
# every report of every process (the test binaries and the daemons, mock servers and receivers
# they start) goes to build-tsan/tsan/, and any report fails the run.
# Extra arguments go to ctest.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
build_args=()
ctest_args=()
exclude='soak'
tsan=0
# Most tests wait on daemons, brokers and timers rather than compute (the default run kept two
# cores about half busy at -j 2), so three run at once; TSan's tests compute more: two.
# KA_TEST_JOBS overrides both.
jobs="${KA_TEST_JOBS:-3}"
for a in "$@"; do
  case "$a" in
    --sanitize) build_args+=(--sanitize); exclude='soak|real_kafka' ;;
    --tsan) build_args+=(--tsan); exclude='soak|real_kafka|fuzz|single_thread'; tsan=1; jobs="${KA_TEST_JOBS:-2}" ;;
    *) ctest_args+=("$a") ;;
  esac
done
"$root/scripts/setup.sh"
dir="$("$root/scripts/build.sh" "${build_args[@]}" | tail -n 1)"
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"
cd "$dir"
if [ "$tsan" = 1 ]; then
  reports="$dir/tsan"
  rm -rf "$reports" && mkdir -p "$reports"
  # scripts/tsan.supp: only documented false positives inside uninstrumented system libraries.
  export TSAN_OPTIONS="${TSAN_OPTIONS:-second_deadlock_stack=1:history_size=4:suppressions=$root/scripts/tsan.supp:log_path=$reports/report}"
  status=0
  # deploy_dockerfile maps the binary's shared libraries to Alpine packages: a TSan binary links
  # libtsan and the C11-threads shim, which no image has, so that packaging check is left out.
  ctest --output-on-failure --timeout 600 -j "$jobs" -LE "$exclude" -E '^deploy_dockerfile$' \
    "${ctest_args[@]}" || status=$?
  if compgen -G "$reports/report*" >/dev/null; then
    echo "test.sh --tsan: ThreadSanitizer reports (in $reports):" >&2
    cat "$reports"/report* >&2
    status=1
  fi
  exit "$status"
fi
ctest --output-on-failure --timeout 600 -j "$jobs" -LE "$exclude" "${ctest_args[@]}"
