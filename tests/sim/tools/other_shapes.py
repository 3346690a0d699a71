#!/usr/bin/env python3
"""Eight load shapes that `simulate --generate` does not produce (docs/simulator-rounds.md, "Eighth
round"): a slow ramp ending in a cliff, a square wave, a spike that decays, heavy noise, a
staircase down, a one-minute sine, a burst while pods take two minutes to start, and many
partitions of slow pods. Writes one scenario YAML per shape into OUT_DIR; run them with

  tests/sim/tools/other_shapes.py /tmp/shapes
  for f in /tmp/shapes/*.yaml; do
    build/src/kafka-autoscaler simulate --scenario "$f" --policy keda-hpa wait reactive-bound \\
        --out /tmp/shapes/out
  done

Fixed before `wait` was run on them; nothing in the policy was changed after.
"""
import math
import os
import sys


def write(out_dir, name, load, partitions=12, rate=100, startup=20, rebalance=5,
          messages_per_pod=1500, noise=0.05, duration=3600, extra_pod="", min_replicas=1,
          max_replicas=None, interval=15, seed=7):
    """One scenario YAML; `extra_pod` is more `pod:` lines (rate_changes, rate_noise)."""
    max_replicas = max_replicas or partitions
    with open(os.path.join(out_dir, name + ".yaml"), "w") as f:
        f.write(f"name: {name}\nduration_seconds: {duration}\ntick_seconds: 1\n"
                f"partitions: {partitions}\ninitial_replicas: {min_replicas}\n"
                f"pod:\n  messages_per_second: {rate}\n  startup_seconds: {startup}\n"
                f"  rebalance_seconds: {rebalance}\n{extra_pod}load:\n")
        for t, v in load:
            f.write(f"  - [{t}, {v:.1f}]\n")
        f.write(f"noise: {noise}\nseed: {seed}\nautoscaler:\n"
                f"  messages_per_pod: {messages_per_pod}\n"
                f"  min_replicas: {min_replicas}\n  max_replicas: {max_replicas}\n"
                f"  interval_seconds: {interval}\n")


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: other_shapes.py OUT_DIR")
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    write(out, "ramp-cliff", [(0, 50), (3000, 900), (3001, 50), (3600, 50)])
    square = []
    for k in range(12):  # 600 and 100 msg/s, five minutes each
        v = 600 if k % 2 == 0 else 100
        square += [(k * 300, v), (k * 300 + 299, v)]
    write(out, "square-300", square)
    decay = [(0, 100), (600, 100)]
    decay += [(601 + s, 100 + 1000 * math.exp(-s / 300)) for s in range(0, 1800, 30)]
    write(out, "spike-decay", decay + [(3600, 100)])
    write(out, "very-noisy", [(0, 400), (3600, 400)], noise=0.5)
    write(out, "stairs-down", [(0, 1000), (900, 1000), (901, 700), (1800, 700), (1801, 400),
                               (2700, 400), (2701, 100), (3600, 100)])
    write(out, "fast-sine-60",
          [(t, 400 + 300 * math.sin(2 * math.pi * t / 60)) for t in range(0, 3601, 5)])
    write(out, "slow-pods-burst",
          [(0, 100), (1000, 100), (1001, 800), (1300, 800), (1301, 100), (3600, 100)],
          startup=120)
    write(out, "many-small",
          [(0, 200), (1200, 200), (1201, 1500), (2400, 1500), (2401, 200), (3600, 200)],
          partitions=64, rate=30, messages_per_pod=600)


if __name__ == "__main__":
    main()
