#!/usr/bin/env bash
# README's first command: installs what is missing, builds, and runs the embedded demo.
# Arguments go to `kafka-autoscaler demo` (e.g. --duration 60 --speed 2).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
"$root/scripts/setup.sh"
dir="$("$root/scripts/build.sh" | tail -n 1)"
if "$dir/kafka-autoscaler" demo --help >/dev/null 2>&1; then
  exec "$dir/kafka-autoscaler" demo "$@"
fi
exec "$dir/kafka-autoscaler" check
