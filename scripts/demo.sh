#!/usr/bin/env bash
# README's first command: installs what is missing, builds, and runs the embedded demo.
# Arguments go to `kafka-autoscaler demo` (e.g. --duration 60 --speed 2 --policy rate).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
"$root/scripts/setup.sh"
dir="$("$root/scripts/build.sh" | tail -n 1)"
exec "$dir/src/kafka-autoscaler" demo "$@"
