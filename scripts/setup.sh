#!/usr/bin/env bash
# Installs everything kafka-autoscaler needs to build, run and test on Debian 12 (as root), and
# nothing that is already there. Safe to run again. Used by scripts/demo.sh and scripts/test.sh.
set -euo pipefail

APT_PACKAGES=(
  build-essential cmake ninja-build pkg-config git ca-certificates curl openssl
  librdkafka-dev libcurl4-openssl-dev libcpp-httplib-dev nlohmann-json3-dev libyaml-cpp-dev
  libcli11-dev libexpected-dev prometheus-cpp-dev libprotobuf-dev protobuf-compiler
  libgtest-dev libgmock-dev libbenchmark-dev
  prometheus            # promtool, for the /metrics test
  clang libclang-rt-14-dev  # libFuzzer targets
  python3-confluent-kafka python3-kubernetes  # the seed-design peer in bench/peer
  chromium              # headless, for the status page's browser test (tests/http/ui)
)

missing=()
for p in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
# kubectl: any kubectl on PATH will do; otherwise Debian's kubernetes-client provides one.
command -v kubectl >/dev/null 2>&1 || missing+=(kubernetes-client)
# Node.js and npm run the independent OTLP decoder of the telemetry tests; any install will do.
command -v node >/dev/null 2>&1 || missing+=(nodejs)
command -v npm >/dev/null 2>&1 || missing+=(npm)
# Java 17+ runs the real Apache Kafka of the real_kafka tests; Maven fetches its jars (below).
command -v java >/dev/null 2>&1 || missing+=(openjdk-17-jre-headless)
command -v mvn >/dev/null 2>&1 || missing+=(maven)

if ((${#missing[@]})); then
  echo "setup: installing ${missing[*]}"
  if [ "$(id -u)" -ne 0 ]; then
    echo "setup: missing packages and not root; run as root (or with sudo)" >&2
    exit 1
  fi
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# Node packages for the independent OTLP decoder (tests/telemetry/decoder), pinned by its lockfile.
root="$(cd "$(dirname "$0")/.." && pwd)"
if [ -f "$root/tests/telemetry/decoder/package.json" ] &&
   [ ! -d "$root/tests/telemetry/decoder/node_modules" ]; then
  (cd "$root/tests/telemetry/decoder" && npm ci --no-audit --no-fund --loglevel=error)
fi
# playwright-core drives Debian's chromium in the status page's browser test: tests/http/ui.
if [ -f "$root/tests/http/ui/package.json" ] && [ ! -d "$root/tests/http/ui/node_modules" ]; then
  (cd "$root/tests/http/ui" && npm ci --no-audit --no-fund --loglevel=error)
fi
# Dockerfile linters (no Docker engine here): tests/deploy/lint.
if [ -f "$root/tests/deploy/lint/package.json" ] && [ ! -d "$root/tests/deploy/lint/node_modules" ]; then
  (cd "$root/tests/deploy/lint" && npm ci --no-audit --no-fund --loglevel=error)
fi
# Apache Kafka's jars for the real_kafka tests, pinned by tests/kafka/real/pom*.xml (one per
# version), fetched once into the cache folder `scripts/real-kafka.sh lib` prints (no network at
# test time).
for kafka_pom in "$root"/tests/kafka/real/pom*.xml; do
  [ -f "$kafka_pom" ] || continue
  kafka_lib="$("$root/scripts/real-kafka.sh" lib "$kafka_pom")"
  if [ ! -f "$kafka_lib/.complete" ]; then
    echo "setup: fetching Apache Kafka jars into $kafka_lib"
    rm -rf "$kafka_lib.tmp" && mkdir -p "$kafka_lib.tmp"
    mvn -B -q -Dstyle.color=never -f "$kafka_pom" \
      -Dmaven.repo.local="$kafka_lib.m2" \
      org.apache.maven.plugins:maven-dependency-plugin:3.8.1:copy-dependencies \
      -DincludeScope=runtime -DoutputDirectory="$kafka_lib.tmp" >&2
    touch "$kafka_lib.tmp/.complete"
    rm -rf "$kafka_lib" "$kafka_lib.m2" && mv "$kafka_lib.tmp" "$kafka_lib"
  fi
done
echo "setup: ok"
