#!/usr/bin/env python3
"""The rows of a generated report above 5 % of keda-hpa's pod-seconds, against both references
(issue 18).

For each scenario where a policy's median pod-seconds (over the report's noise seeds) exceed
1.05 × keda-hpa's, prints the medians of keda-hpa, the policy and reactive-bound (when the report
has it), then replays noise seed 0 (`simulate --scenario`) and runs `whole_pod_bound` on it with
keda-hpa's scale events on that seed: the least any schedule holding p99 under W with no more
changes can cost (clairvoyant; a lower bound). Where that bound is above 1.05 × keda-hpa, no
policy holds W within 5 % of keda-hpa's cost with its changes; where it is below, the bound
leaves room (which a policy that knows only the past may not reach).

  build/src/kafka-autoscaler simulate --generate all --count 207 --seed 54 \\
      --policy keda-hpa wait reactive-bound --out G
  tests/sim/tools/cost_rows.py build/src/kafka-autoscaler build/tests/sim/whole_pod_bound \\
      G/generated-all.csv G/scenarios OUT [--policy wait] [--wait 20] [--jobs 2]

Each bound takes 20 s to 2 minutes.
"""
import argparse
import collections
import concurrent.futures
import csv
import os
import re
import statistics
import subprocess


def medians(report):
    """scenario -> policy -> (p99, pod-seconds, events), medians over the noise seeds."""
    seen = collections.defaultdict(lambda: collections.defaultdict(list))
    with open(report) as f:
        for r in csv.DictReader(f):
            seen[r["scenario"]][r["policy"]].append(
                (float(r["p99_wait_s"]), float(r["pod_seconds"]), float(r["scale_events"])))
    return {s: {p: tuple(statistics.median(v) for v in zip(*rows)) for p, rows in by.items()}
            for s, by in seen.items()}


def bound(args, name):
    """Replays noise seed 0 and returns (keda-hpa's pod-seconds, the bound) on it."""
    folder = os.path.join(args.out, name)
    scenario = os.path.join(args.scenarios, name + ".yaml")
    subprocess.run([args.binary, "simulate", "--scenario", scenario, "--out", folder, "--policy",
                    "keda-hpa", args.policy], check=True, capture_output=True)
    with open(os.path.join(folder, name + ".csv")) as f:
        keda = next(r for r in csv.DictReader(f) if r["policy"] == "keda-hpa")
    run = subprocess.run([args.bound, scenario, os.path.join(folder, name + "-timeline.csv"),
                          str(args.wait), "--events", keda["scale_events"]],
                         check=True, capture_output=True, text=True)
    m = re.search(r"with at most \d+ changes: (\d+) pod-seconds", run.stdout)
    if not m:
        raise RuntimeError(f"{name}: no bound in whole_pod_bound's output:\n{run.stdout}")
    return float(keda["pod_seconds"]), float(m.group(1))


def main():
    a = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    a.add_argument("binary", help="kafka-autoscaler")
    a.add_argument("bound", help="whole_pod_bound")
    a.add_argument("report", help="generated-FAMILY.csv of simulate --generate")
    a.add_argument("scenarios", help="the report's scenarios folder")
    a.add_argument("out")
    a.add_argument("--policy", default="wait")
    a.add_argument("--wait", type=float, default=20, help="W of the bound (s)")
    a.add_argument("--jobs", type=int, default=2)
    args = a.parse_args()
    rows = medians(args.report)
    if not any(args.policy in by for by in rows.values()):
        a.error(f"{args.report} has no rows of {args.policy}")
    over = [s for s, by in rows.items() if by[args.policy][1] > 1.05 * by["keda-hpa"][1]]
    os.makedirs(args.out, exist_ok=True)
    with concurrent.futures.ThreadPoolExecutor(args.jobs) as pool:
        bounds = list(pool.map(lambda s: bound(args, s), over))
    print(f"{'row':22s} {'keda-hpa p99/pod-s/ev':>22s} {args.policy + ' p99/pod-s/ev':>22s} "
          f"{'reactive-bound':>20s} {'x keda':>7s} | seed 0: {'keda-hpa':>8s} {'bound':>7s} {'x keda':>7s}")
    cell = lambda v: f"{v[0]:.0f} / {v[1]:,.0f} / {v[2]:.0f}"
    impossible = 0
    for name, (keda_s, least) in zip(over, bounds):
        by = rows[name]
        k, p = by["keda-hpa"], by[args.policy]
        r = by.get("reactive-bound")
        impossible += least > 1.05 * keda_s
        print(f"{name:22s} {cell(k):>22s} {cell(p):>22s} {cell(r) if r else '-':>20s} {p[1] / k[1]:7.2f} | "
              f"{keda_s:16,.0f} {least:7,.0f} {least / keda_s:7.2f}")
    print(f"{len(over)} of {len(rows)} above 5 % of keda-hpa's pod-seconds; on {impossible} the bound for "
          f"p99 <= {args.wait:g} s with keda-hpa's changes is above 1.05 x its pod-seconds")


if __name__ == "__main__":
    main()
