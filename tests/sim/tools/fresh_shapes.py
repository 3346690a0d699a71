#!/usr/bin/env python3
"""Fourteen load shapes written in the fortieth round (docs/simulator-rounds.md), before `wait` was
run on them, as a judge the policy was not tuned on: two humps, a step down and up, a slow
sawtooth, a random walk, a spike train, pods that slow down, noisy pods, an idle half-hour and a
flood, a large deployment, a tiny one, min_replicas 3, a 30 s interval, four hours, exponential
growth. Writes one scenario YAML per shape into OUT_DIR; run them with

  tests/sim/tools/fresh_shapes.py /tmp/fresh
  for f in /tmp/fresh/*.yaml; do
    build/src/kafka-autoscaler simulate --scenario "$f" --seeds 3 \\
        --policy keda-hpa wait reactive-bound --out /tmp/fresh/out
  done

With --bursts, writes instead the grid of repeating bursts the round measured: a burst every
P in {60, 90, 120, 180, 240, 300, 450} s of 3,000 msg/s for 5 s, 1,500 for 20 s or 800 for
60 s on 100 msg/s (20 partitions, one pod 120 msg/s, start-up 10 s, rebalance 3 s).
"""
import math
import os
import random
import sys

import other_shapes


def write(out, name, load, mpp=1500, seed=11, **knobs):
    other_shapes.write(out, name, load, messages_per_pod=mpp, seed=seed, **knobs)


def hump(t, centre, width):
    return math.exp(-((t - centre) / width) ** 2 / 2)


def shapes(out):
    write(out, "double-hump",
          [(t, 100 + 700 * (hump(t, 900, 300) + hump(t, 2700, 300))) for t in range(0, 3601, 60)],
          partitions=24, rate=80, startup=30, rebalance=6, mpp=2000)
    write(out, "step-down-up", [(0, 600), (1200, 600), (1201, 150), (2400, 150), (2401, 600),
                                (3600, 600)])
    saw = []
    for k in range(6):
        saw += [(k * 600, 100), (k * 600 + 599, 700)]
    write(out, "sawtooth-slow", saw + [(3600, 100)], partitions=16)
    rng = random.Random(42)
    level, walk = 400.0, []
    for t in range(0, 3601, 60):
        walk.append((t, level))
        level = min(1500.0, max(50.0, level * math.exp(rng.gauss(0, 0.25))))
    write(out, "random-walk", walk, partitions=32, rate=50, mpp=1000)
    spikes = [(0, 100)]
    for t in range(120, 3600, 120):
        spikes += [(t, 100), (t + 1, 3000), (t + 5, 3000), (t + 6, 100)]
    write(out, "spike-train", spikes + [(3600, 100)], partitions=20, rate=120, startup=10,
          rebalance=3)
    write(out, "pods-slower", [(0, 500), (3600, 500)], partitions=16,
          extra_pod="  rate_changes: [[1800, 60]]\n")
    write(out, "noisy-pods",
          [(t, 300 + 250 * math.sin(2 * math.pi * t / 3600)) for t in range(0, 3601, 60)],
          partitions=16, extra_pod="  rate_noise: 0.15\n")
    write(out, "idle-then-flood", [(0, 0), (1800, 0), (1801, 1500), (2400, 1500), (2401, 200),
                                   (3600, 200)], partitions=24, startup=40, rebalance=8)
    write(out, "high-scale",
          [(t, 20000 + 4000 * math.sin(2 * math.pi * t / 1800)) for t in range(0, 3601, 60)],
          partitions=100, rate=400, mpp=20000, startup=25, rebalance=10)
    write(out, "tiny", [(t, 5 + 3 * math.sin(2 * math.pi * t / 900)) for t in range(0, 3601, 60)],
          partitions=3, rate=10, mpp=100, noise=0.2)
    write(out, "min3", [(0, 300), (3600, 300)], min_replicas=3, max_replicas=10, noise=0.1)
    write(out, "interval30", [(t, 200 + 600 * hump(t, 1800, 600)) for t in range(0, 3601, 60)],
          interval=30)
    write(out, "four-hours",
          [(t, 100 + 900 * math.sin(math.pi * t / 14400)) for t in range(0, 14401, 300)],
          duration=14400, partitions=16)
    write(out, "exp-growth", [(t, 20 * math.exp(math.log(100) * t / 3600))
                              for t in range(0, 3601, 60)], partitions=24)


def bursts(out):
    for period in (60, 90, 120, 180, 240, 300, 450):
        for lasts, peak in ((5, 3000), (20, 1500), (60, 800)):
            if lasts >= period:
                continue
            load = [(0, 100)]
            t = period
            while t < 3600 - lasts - 1:
                load += [(t, 100), (t + 1, peak), (t + lasts, peak), (t + lasts + 1, 100)]
                t += period
            write(out, f"p{period}-d{lasts}", load + [(3600, 100)], partitions=20, rate=120,
                  startup=10, rebalance=3, seed=3)


def main():
    args = [a for a in sys.argv[1:] if a != "--bursts"]
    if len(args) != 1:
        sys.exit("usage: fresh_shapes.py [--bursts] OUT_DIR")
    os.makedirs(args[0], exist_ok=True)
    (bursts if "--bursts" in sys.argv else shapes)(args[0])


if __name__ == "__main__":
    main()
