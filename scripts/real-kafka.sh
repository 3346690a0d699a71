#!/usr/bin/env bash
# A real Apache Kafka on loopback for people (the same fixture as the real_kafka tests,
# tests/kafka/real/real_kafka.h), from the jars scripts/setup.sh fetched.
#   scripts/real-kafka.sh start [--brokers N] [--secure]   starts it in the background, prints
#                                                          its bootstrap servers and start-up time
#   scripts/real-kafka.sh stop                             stops it (JVMs killed, data removed)
#   scripts/real-kafka.sh lib [POM]                        prints the folder of the Kafka jars
#                                                          of POM (default tests/kafka/real/pom.xml)
# --brokers 1 (default) is one combined KRaft node; N > 1 is N brokers plus one controller.
# --version 3.9.1 runs Kafka 3.9.1 instead of the default (pom.xml's).
# --secure adds a SASL_SSL listener (SCRAM-SHA-512 users admin/admin-secret and
# scaler/scaler-secret, CA file printed) and the StandardAuthorizer.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
state="${TMPDIR:-/tmp}/ka-real-kafka-$(id -u)"
case "${1:-}" in
  lib)
    version="$(sed -n '/<artifactId>kafka_2.13<\/artifactId>/{n;s/.*<version>\(.*\)<\/version>.*/\1/p}' \
      "${2:-$root/tests/kafka/real/pom.xml}")"
    echo "${XDG_CACHE_HOME:-$HOME/.cache}/kafka-autoscaler/kafka-$version/lib"
    ;;
  start)
    shift
    bin="$root/build/tests/kafka/real/real-kafka"
    [ -x "$bin" ] || { echo "real-kafka: build first (scripts/build.sh)" >&2; exit 1; }
    if [ -f "$state/pid" ] && kill -0 "$(cat "$state/pid")" 2>/dev/null; then
      echo "real-kafka: already running (pid $(cat "$state/pid")); stop it first" >&2
      exit 1
    fi
    mkdir -p "$state"
    nohup "$bin" "$@" >"$state/log" 2>&1 </dev/null &
    echo $! >"$state/pid"
    while ! grep -q '^ready' "$state/log" 2>/dev/null; do
      if ! kill -0 "$(cat "$state/pid")" 2>/dev/null; then
        cat "$state/log" >&2
        exit 1
      fi
      sleep 0.5
    done
    cat "$state/log"
    ;;
  stop)
    if [ -f "$state/pid" ]; then
      pid="$(cat "$state/pid")"
      kill "$pid" 2>/dev/null || true
      while kill -0 "$pid" 2>/dev/null; do sleep 0.2; done
      rm -f "$state/pid"
    fi
    ;;
  *)
    sed -n '2,12p' "$0" >&2
    exit 2
    ;;
esac
