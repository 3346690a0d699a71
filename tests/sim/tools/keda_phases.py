#!/usr/bin/env python3
"""A generated report against keda-hpa at each phase of its clocks (issue 18, forty-fifth round).

As generated, the keda-hpa model polls and syncs on the seconds our reconciler ticks on (0, 15,
30 ...); a real HPA syncs on the controller manager's clock, at a second nobody chose. Where the
lag sits near a threshold, that second decides whether the rule orders a pod, so keda-hpa's cost
on one scenario moves with it. This replays the generated scenarios once with the policies and
keda-hpa once per phase (`simulate --keda-phase P`, P = 0 .. 14 s: the HPA's 15 s sync), and
prints, for `wait` (or --policy), per phase: the share of scenarios where it beats keda-hpa on
all three measures and how many are more than 5 % above keda-hpa's pod-seconds (each scenario's
measures the median over its noise seeds, as the report); then the same against a keda-hpa whose
p99, pod-seconds and events are, per noise seed, the mean over the phases (what a user whose HPA
syncs at an unknown second can expect of it), with those rows listed; and how far keda-hpa's own
pod-seconds move between its cheapest and dearest phase.

  tests/sim/tools/keda_phases.py build/src/kafka-autoscaler OUT \\
      --generate all --count 207 --seed 244 [--policy wait] [--phases 15] [--jobs 2]
"""
import argparse
import concurrent.futures
import csv
import glob
import os
import statistics
import subprocess


def run(binary, out, generate, count, seed, policies, phase=None):
    cmd = [binary, "simulate", "--generate", generate, "--count", str(count), "--seed", str(seed),
           "--policy", *policies, "--out", out]
    if phase is not None:
        cmd += ["--keda-phase", str(phase)]
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
    return read(glob.glob(os.path.join(out, "generated-*.csv"))[0])


def read(path):
    """{policy: {scenario: {noise_seed: (p99, pod_seconds, events)}}}"""
    rows = {}
    with open(path) as f:
        for r in csv.DictReader(f):
            rows.setdefault(r["policy"], {}).setdefault(r["scenario"], {})[r["noise_seed"]] = (
                float(r["p99_wait_s"]), float(r["pod_seconds"]), float(r["scale_events"]))
    return rows


def medians(by_seed):
    return tuple(statistics.median(v[i] for v in by_seed.values()) for i in range(3))


def compare(ours, peer):
    """(scenarios, beaten on all three, rows above 5 % of the peer's pod-seconds, the rows)"""
    n = beats = 0
    rows = []
    for name, seeds in ours.items():
        mine, theirs = medians(seeds), medians(peer[name])
        n += 1
        beats += all(mine[i] < theirs[i] for i in range(3))
        if mine[1] > 1.05 * theirs[1]:
            rows.append((name, mine[1] / theirs[1]))
    return n, beats, rows


def main():
    a = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    a.add_argument("binary")
    a.add_argument("out")
    a.add_argument("--generate", required=True)
    a.add_argument("--count", type=int, required=True)
    a.add_argument("--seed", type=int, required=True)
    a.add_argument("--policy", default="wait")
    a.add_argument("--phases", type=int, default=15, help="phases 0 .. N-1 s (at most 30)")
    a.add_argument("--jobs", type=int, default=2)
    args = a.parse_args()
    if not 1 <= args.phases <= 30:
        a.error("--phases must be within 1..30")
    os.makedirs(args.out, exist_ok=True)
    both = run(args.binary, os.path.join(args.out, "p0"), args.generate, args.count, args.seed,
               ["keda-hpa", args.policy])
    ours = both[args.policy]
    peers = {0: both["keda-hpa"]}
    with concurrent.futures.ThreadPoolExecutor(args.jobs) as pool:
        done = pool.map(lambda p: (p, run(args.binary, os.path.join(args.out, f"p{p}"), args.generate,
                                          args.count, args.seed, ["keda-hpa"], p)["keda-hpa"]),
                        range(1, args.phases))
        peers.update(done)
    print(f"{args.generate} seed {args.seed}, {len(ours)} scenarios: {args.policy} against keda-hpa "
          f"at each phase of its clocks")
    for p in sorted(peers):
        n, beats, rows = compare(ours, peers[p])
        print(f"  phase {p:2d} s: beats {100 * beats / n:6.2f} %  pod_s>5% {len(rows)}")
    mean = {}
    spread = []
    for name, seeds in peers[0].items():
        mean[name] = {}
        for k in seeds:
            at = [peers[p][name][k] for p in peers]
            mean[name][k] = tuple(statistics.fmean(v[i] for v in at) for i in range(3))
            spread.append(max(v[1] for v in at) / min(v[1] for v in at))
    n, beats, rows = compare(ours, mean)
    print(f"  mean of the phases: beats {100 * beats / n:6.2f} %  pod_s>5% {len(rows)}")
    for name, ratio in rows:
        print(f"    {name} {ratio:.3f}")
    spread.sort()
    print(f"keda-hpa's pod-seconds, dearest over cheapest phase (per scenario and noise seed): "
          f"median {spread[len(spread) // 2]:.3f}, 90th percentile {spread[int(0.9 * len(spread))]:.3f}, "
          f"worst {spread[-1]:.3f}; above 1.05 on {100 * sum(x > 1.05 for x in spread) / len(spread):.1f} %")


if __name__ == "__main__":
    main()
