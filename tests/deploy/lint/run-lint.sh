#!/bin/sh
# Runs one Dockerfile linter from tests/deploy/lint/node_modules (installed by scripts/setup.sh
# with `npm ci`, pinned by package-lock.json) and fails on any finding.
#
#   run-lint.sh dockerfile-utils|dockerfilelint DOCKERFILE [--expect-findings]
#
# dockerfile-utils exits 0 even when it warns, so any output counts as a finding. With
# --expect-findings the meaning flips (the linter must run and report something): the test of a
# known-bad Dockerfile uses it to prove the linter and this wrapper really bite.
set -u
linter=$1
dockerfile=$2
expect_findings=${3:-}
here=$(cd "$(dirname "$0")" && pwd)
bin="$here/node_modules/.bin/$linter"
if [ ! -x "$bin" ]; then
  echo "run-lint: $bin not found; run scripts/setup.sh (npm ci in tests/deploy/lint)" >&2
  exit 2
fi
if [ ! -f "$dockerfile" ]; then
  echo "run-lint: no such Dockerfile: $dockerfile" >&2
  exit 2
fi
case "$linter" in
  dockerfile-utils) out=$("$bin" lint "$dockerfile" 2>&1); rc=$? ;;
  dockerfilelint) out=$("$bin" "$dockerfile" 2>&1); rc=$?
    # Its report ends with "Issues: None found" when clean.
    if [ $rc -eq 0 ] && echo "$out" | grep -q "None found"; then out=""; fi ;;
  *) echo "run-lint: unknown linter $linter" >&2; exit 2 ;;
esac
if [ -n "$expect_findings" ]; then
  if [ -n "$out" ]; then
    echo "$linter found problems in $dockerfile, as expected:"
    echo "$out"
    exit 0
  fi
  echo "$linter reported nothing for $dockerfile, which has known problems" >&2
  exit 1
fi
if [ -n "$out" ] || [ $rc -ne 0 ]; then
  echo "$linter: $dockerfile (exit $rc):" >&2
  echo "$out" >&2
  exit 1
fi
echo "$linter: $dockerfile: clean"
