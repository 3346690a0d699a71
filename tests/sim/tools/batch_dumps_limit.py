#!/usr/bin/env python3
"""Why p99 >= 40 % below keda-hpa on batch-dumps needs foresight (issue 18; docs/simulator.md).

Rebuilds every message's FIFO wait from two `simulate` timelines (batch-dumps has no noise, so
step k's arrivals are produced_per_second and its consumption is backlog[k-1] + arrivals -
backlog[k], done at t + 1, as the simulator counts it), then mixes them per dump: the first
dumps as a policy served them, the rest at the floor (all 16 pods ready all the time).

  build/src/kafka-autoscaler simulate --scenario scenarios/batch-dumps.yaml --policy wait --out A
  build/src/kafka-autoscaler simulate --scenario tests/sim/testdata/batch-dumps-floor.yaml \
      --policy wait --out B
  tests/sim/tools/batch_dumps_limit.py A/batch-dumps-timeline.csv B/batch-dumps-floor-timeline.csv
"""
import collections
import csv
import sys

TARGET = 0.6 * 63.0  # 40 % below keda-hpa's p99 on batch-dumps: 37.8 s
DUMPS = (1000, 1900, 2800)  # dump k+1 is produced before DUMPS[k] (onsets 100, 1000, 1900, 2800)


def waits(path, column="backlog_wait"):
    """[(produced at, wait, messages)] in FIFO order."""
    queue, out, prev = collections.deque(), [], 0
    for r in csv.DictReader(open(path)):
        t, a, b = float(r["t_seconds"]), int(float(r["produced_per_second"])), int(r[column])
        if a:
            queue.append([t, a])
        consumed, prev = prev + a - b, b
        while consumed > 0:
            at, n = queue[0]
            k = min(n, consumed)
            out.append((at, t + 1 - at, k))
            consumed -= k
            if k == n:
                queue.popleft()
            else:
                queue[0][1] -= k
    return out


def percentile(ws, p):
    need, seen = p * sum(k for *_, k in ws), 0
    for _, w, k in sorted(ws, key=lambda x: x[1]):
        seen += k
        if seen >= need:
            return w
    return 0.0


def dump(at):
    return sum(at >= d for d in DUMPS)


def main():
    policy, floor = waits(sys.argv[1]), waits(sys.argv[2])
    total = sum(k for *_, k in policy)
    print(f"p99 as served: {percentile(policy, 0.99)} s; at the floor: {percentile(floor, 0.99)} s")
    for d in range(4):
        mine = [x for x in policy if dump(x[0]) == d]
        above = sum(k for _, w, k in mine if w > TARGET)
        print(f"dump {d + 1}: max wait {max(w for _, w, _ in mine)} s, "
              f"{100 * above / total:.2f} % of the hour's messages above {TARGET:.1f} s")
    for first in (1, 2, 3):
        mix = [x for x in policy if dump(x[0]) < first] + [x for x in floor if dump(x[0]) >= first]
        print(f"first {first} dump(s) as served, the rest at the floor: "
              f"p99 {percentile(mix, 0.99)} s")


if __name__ == "__main__":
    main()
