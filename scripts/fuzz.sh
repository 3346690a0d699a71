#!/usr/bin/env bash
# Builds the libFuzzer targets (fuzz/, clang + ASan + UBSan) and runs each for SECONDS
# (default 20) from the committed seed corpus fuzz/corpus/<target>/, KA_FUZZ_JOBS (default 2) at
# a time, after replaying the crash regressions in fuzz/regressions/<target>/. Exits non-zero
# when any target crashes, leaks, times out or fails to build; a crashing input is left in
# build-fuzz/artifacts/.
#   scripts/fuzz.sh            # 20 s per target (CI)
#   scripts/fuzz.sh 600        # longer, on demand
# Needs clang and libclang-rt-14-dev (scripts/setup.sh installs them).
set -euo pipefail
seconds="${1:-20}"
root="$(cd "$(dirname "$0")/.." && pwd)"
build="${KA_FUZZ_BUILD_DIR:-$root/build-fuzz}"
jobs="${KA_FUZZ_JOBS:-2}"
targets=(config_fuzz kubeconfig_fuzz api_response_fuzz scenario_fuzz)

if ! command -v clang++ >/dev/null; then
  echo "fuzz.sh: clang++ not found (apt-get install clang libclang-rt-14-dev)" >&2
  exit 2
fi
cmake -S "$root/fuzz" -B "$build" -G Ninja -DCMAKE_C_COMPILER=clang -DCMAKE_CXX_COMPILER=clang++ \
  -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
ninja -C "$build" -j "$jobs" "${targets[@]}"

mkdir -p "$build/artifacts"
# One target: replays its regressions, then fuzzes; writes its summary line to $build/<t>.result
# and fails when it crashes.
fuzz_one() {
  local t="$1" work="$build/corpus/$1" regressions="$root/fuzz/regressions/$1" log="$build/$1.log"
  mkdir -p "$work"
  if [[ -d "$regressions" ]] && compgen -G "$regressions/*" >/dev/null; then
    if ! "$build/$t" "$regressions"/* >"$build/$t.replay.log" 2>&1; then
      echo "fuzz.sh: $t: a regression input crashes again:" >&2
      tail -30 "$build/$t.replay.log" >&2
      echo "$t: FAILED (a regression input crashes again)" >"$build/$t.result"
      return 1
    fi
  fi
  # New inputs go to the work corpus; the committed seeds are only read.
  if "$build/$t" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -max_len=65536 \
      -print_final_stats=1 -artifact_prefix="$build/artifacts/$t-" \
      "$work" "$root/fuzz/corpus/$t" >"$log" 2>&1; then
    local execs
    execs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' || echo "?")
    echo "$t: ok, ${execs} runs in ${seconds} s" >"$build/$t.result"
  else
    echo "fuzz.sh: $t FAILED; see $log" >&2
    grep -A40 'ERROR: \|SUMMARY\|==ERROR' "$log" | head -60 >&2 || tail -40 "$log" >&2
    echo "$t: FAILED (artifacts in $build/artifacts)" >"$build/$t.result"
    return 1
  fi
}

# Each libFuzzer run is one process on one core: KA_FUZZ_JOBS of them at a time.
status=0
running=0
for t in "${targets[@]}"; do
  rm -f "$build/$t.result"
  if (( running >= jobs )); then
    wait -n || status=1
    running=$((running - 1))
  fi
  fuzz_one "$t" &
  running=$((running + 1))
done
while (( running > 0 )); do
  wait -n || status=1
  running=$((running - 1))
done
for t in "${targets[@]}"; do
  cat "$build/$t.result" 2>/dev/null || echo "$t: FAILED (no result)"
done
exit "$status"
