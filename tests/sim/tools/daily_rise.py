#!/usr/bin/env python3
"""Waits of the messages produced around each day's 08:00 rise (issue 18, daily profile).

Rebuilds every message's FIFO wait from a `simulate` timeline (step k's arrivals are
produced_per_second, its consumption backlog[k-1] + arrivals - backlog[k], done at t + 1, as
the simulator counts it) and prints, per day and policy, the p99 and max wait of the messages
produced from 07:55 to 09:00, and the pod-seconds from 07:30 to 09:00.

  build/src/kafka-autoscaler simulate --scenario tests/sim/testdata/daily-4d.yaml --out A
  tests/sim/tools/daily_rise.py A/daily-4d-timeline.csv
"""
import collections
import csv
import sys

DAY = 86400
RISE = 8 * 3600


def main(path):
    rows = list(csv.DictReader(open(path)))
    policies = [c[len("backlog_"):] for c in rows[0] if c.startswith("backlog_")]
    days = int(float(rows[-1]["t_seconds"]) // DAY) + 1
    print("day policy p99_wait_s max_wait_s pod_s_0730_0900")
    for p in policies:
        queue, prev = collections.deque(), 0
        per_day = collections.defaultdict(list)
        pods = collections.Counter()
        for r in rows:
            t = float(r["t_seconds"])
            a, b = int(round(float(r["produced_per_second"]))), int(r["backlog_" + p])
            d, s = int(t // DAY), t % DAY
            if RISE - 1800 <= s < RISE + 3600:
                pods[d] += int(r["replicas_" + p])
            if a:
                queue.append([t, a])
            consumed, prev = max(0, prev + a - b), b
            while consumed > 0 and queue:
                take = min(consumed, queue[0][1])
                t0 = queue[0][0]
                if RISE - 300 <= t0 % DAY < RISE + 3600:
                    per_day[int(t0 // DAY)].append((t + 1 - t0, take))
                queue[0][1] -= take
                consumed -= take
                if not queue[0][1]:
                    queue.popleft()
        for d in range(days):
            w = sorted(per_day[d])
            total = sum(n for _, n in w)
            acc, p99 = 0, 0.0
            for wait, n in w:
                acc += n
                if acc >= 0.99 * total:
                    p99 = wait
                    break
            print(d + 1, p, f"{p99:.0f}", f"{w[-1][0]:.0f}" if w else "-", pods[d])


if __name__ == "__main__":
    main(sys.argv[1])
