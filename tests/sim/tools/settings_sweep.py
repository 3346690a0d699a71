#!/usr/bin/env python3
"""The generated scenarios with one setting the generator never varies changed (issue 18).

`simulate --generate` varies the load, the pod's rate, start-up, partitions and noise, but
every scenario has rebalance 2-8 s, min_replicas 1, max_replicas = partitions and a 15 s
interval. This replays the same scenarios (medians over 3 noise seeds, as the report) with
one of those changed and prints, per variant, the share of scenarios where each policy beats
keda-hpa on all three measures, the median/worst ratio of each measure and the scenarios above
5 % of keda-hpa's pod-seconds (by family).

  build/src/kafka-autoscaler simulate --generate all --count 207 --seed 12 --out G
  tests/sim/tools/settings_sweep.py build/src/kafka-autoscaler G/scenarios OUT \\
      [--policies keda-hpa,wait] [--variants base,rebalance4x,...] [--jobs 2]

Extremes no generated scenario reaches: startup0, rebalance0, partitions1 (max_replicas kept),
noise0.6, podrate10x (one pod carries nearly everything), load10x (max_replicas caps it);
podnoise0.1 / 0.2 / 0.3: consumption that is not steady (pod.rate_noise σ, a factor shared by
all pods redrawn every 30 s), which no generated scenario has. noceiling: `wait` without its
cost ceiling (autoscaler.cost_ceiling 0), the wait rule alone; ceiling1: the ceiling at the
lag rule's replayed spend itself (1, no margin; the default is 0.9, narrowing with the pods'
noise). kedaphase5 / kedaphase10: the keda-hpa peer's HPA syncs 5 or 10 s after our ticks
(keda_hpa.phase_seconds; as generated it syncs on the same seconds, and the cost ceiling's replay
of the rule with it). Variants joined by + apply one after the other (noceiling+podnoise0.3).

Variants: base (as generated), rebalance4x (rebalance_seconds × 4: 8-32 s), min2
(min_replicas 2; scenarios whose max_replicas is 1 are left out), maxhalf (max_replicas =
ceil(partitions / 2)), interval5 / interval30 / interval60 (interval_seconds; keda-hpa keeps
its HPA's 15 s sync and KEDA's 30 s poll, so these compare our tick against theirs); and a
scenario's neighbourhood, one change at a time: load0.5 / load1.5 (every rate of an inline
`load:` list scaled), podrate2x / podrate0.5, startup0.5 / startup2x, partitions0.5 (max_replicas
kept), noise0.3, threshold0.5 / threshold2x (messages_per_pod: keda-hpa's lagThreshold; `wait`
does not use it once one pod's rate is known). `--variants neighbourhood` runs those with
rebalance4x, interval30 and min2 (for the shared five: tests/sim/tools/settings_sweep.py
BINARY scenarios OUT --variants neighbourhood --rows). Per-scenario medians go to
OUT/VARIANT.txt; --rows prints them too (p99/pod-seconds/events).
"""
import argparse
import concurrent.futures
import os
import re
import statistics
import subprocess


def set_number(text, key, value):
    return re.sub(r"(^\s*" + key + r":\s*)([0-9.]+)", lambda m: m.group(1) + str(value(float(m.group(2)))),
                  text, count=1, flags=re.M)


def scale_load(text, k):
    """Multiplies every rate of the inline `load:` list ([t, rate] rows) by k."""
    return re.sub(r"^(\s*- \[\s*[0-9.]+\s*,\s*)([0-9.eE+-]+)",
                  lambda m: m.group(1) + repr(float(m.group(2)) * k), text, flags=re.M)


def pod_noise(text, sigma):
    """Every pod's rate times a shared factor 1 + sigma N(0, 1), redrawn every 30 s (pod.rate_noise)."""
    return re.sub(r"^(pod:\s*\n)", lambda m: m.group(1) + "  rate_noise: " + str(sigma) + "\n",
                  text, count=1, flags=re.M)


def cost_ceiling(text, c):
    """autoscaler.cost_ceiling (COST_CEILING of `wait`) set to c, added when absent."""
    if re.search(r"^\s*cost_ceiling:", text, re.M):
        return set_number(text, "cost_ceiling", lambda v: c)
    return re.sub(r"^(autoscaler:\s*\n)", lambda m: m.group(1) + "  cost_ceiling: " + str(c) + "\n",
                  text, count=1, flags=re.M)


def keda_phase(text, seconds):
    """The keda-hpa peer's poll and sync `seconds` after each multiple of their periods (keda_hpa.phase_seconds)."""
    text = re.sub(r"^keda_hpa:.*\n", "", text, flags=re.M)
    return text.rstrip("\n") + "\nkeda_hpa: {phase_seconds: " + str(seconds) + "}\n"


def partitions(text):
    return int(re.search(r"^partitions:\s*(\d+)", text, re.M).group(1))


VARIANTS = {
    "base": lambda t: t,
    "rebalance4x": lambda t: set_number(t, "rebalance_seconds", lambda v: int(v * 4)),
    "min2": lambda t: set_number(t, "min_replicas", lambda v: 2),
    "maxhalf": lambda t: set_number(t, "max_replicas", lambda v: max(1, (partitions(t) + 1) // 2)),
    "interval5": lambda t: set_number(t, "interval_seconds", lambda v: 5),
    "interval30": lambda t: set_number(t, "interval_seconds", lambda v: 30),
    "interval60": lambda t: set_number(t, "interval_seconds", lambda v: 60),
    # The neighbourhood of a scenario: its load, pod and threshold scaled one at a time.
    "load0.5": lambda t: scale_load(t, 0.5),
    "load1.5": lambda t: scale_load(t, 1.5),
    "podrate2x": lambda t: set_number(t, "messages_per_second", lambda v: v * 2),
    "podrate0.5": lambda t: set_number(t, "messages_per_second", lambda v: max(1.0, v / 2)),
    "startup0.5": lambda t: set_number(t, "startup_seconds", lambda v: int(v / 2)),
    "startup2x": lambda t: set_number(t, "startup_seconds", lambda v: int(v * 2)),
    "partitions0.5": lambda t: set_number(t, "partitions", lambda v: max(1, int(v / 2))),
    "noise0.3": lambda t: set_number(t, "noise", lambda v: 0.3),
    "threshold0.5": lambda t: set_number(t, "messages_per_pod", lambda v: max(1, int(v / 2))),
    "threshold2x": lambda t: set_number(t, "messages_per_pod", lambda v: int(v * 2)),
    # Extremes no generated scenario reaches.
    "startup0": lambda t: set_number(t, "startup_seconds", lambda v: 0),
    "rebalance0": lambda t: set_number(t, "rebalance_seconds", lambda v: 0),
    "partitions1": lambda t: set_number(t, "partitions", lambda v: 1),
    "noise0.6": lambda t: set_number(t, "noise", lambda v: 0.6),
    "podrate10x": lambda t: set_number(t, "messages_per_second", lambda v: v * 10),
    # What consumption does in a real group: the pods' rate moves (pod.rate_noise).
    "podnoise0.1": lambda t: pod_noise(t, 0.1),
    "podnoise0.2": lambda t: pod_noise(t, 0.2),
    "podnoise0.3": lambda t: pod_noise(t, 0.3),
    "load10x": lambda t: scale_load(t, 10),
    # `wait` without its cost ceiling (COST_CEILING=0): the wait rule alone.
    "noceiling": lambda t: cost_ceiling(t, 0),
    "ceiling1": lambda t: cost_ceiling(t, 1),
    # The peer's HPA syncing 5 / 10 s after our 15 s ticks rather than with them.
    "kedaphase5": lambda t: keda_phase(t, 5),
    "kedaphase10": lambda t: keda_phase(t, 10),
}
NEIGHBOURHOOD = ["load0.5", "load1.5", "podrate2x", "podrate0.5", "startup0.5", "startup2x",
                 "partitions0.5", "noise0.3", "rebalance4x", "threshold0.5", "threshold2x",
                 "interval30", "min2"]
ROW = re.compile(r"(\S+)\s+([\d.]+)/([\d.]+)\s+([\d.]+)/([\d.]+)\s+([\d.]+)/([\d.]+)")


def replay(binary, policies, out, variant, path):
    name = os.path.basename(path)[:-len(".yaml")]
    text = open(path).read()
    for part in variant.split("+"):  # "noceiling+podnoise0.3": one after the other
        text = VARIANTS[part](text)
    folder = os.path.join(out, variant)
    os.makedirs(folder, exist_ok=True)
    changed = os.path.join(folder, name + ".yaml")
    with open(changed, "w") as f:
        f.write(text)
    run = subprocess.run([binary, "simulate", "--scenario", changed, "--seeds", "3", "--out",
                          os.path.join(folder, "out"), "--policy"] + policies,
                         capture_output=True, text=True)
    if run.returncode != 0:
        return name, None, run.stderr.strip().splitlines()[-1] if run.stderr else "failed"
    medians = {}
    for line in run.stdout.split("noise seeds")[-1].splitlines():
        m = ROW.match(line)
        if m and m.group(1) in policies:
            medians[m.group(1)] = (float(m.group(2)), float(m.group(4)), float(m.group(6)))
    return name, medians, ""


def main():
    a = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    a.add_argument("binary")
    a.add_argument("scenarios", help="a folder of scenario YAML files (simulate --generate writes one)")
    a.add_argument("out")
    a.add_argument("--policies", default="keda-hpa,wait")
    a.add_argument("--variants", default=",".join(VARIANTS))
    a.add_argument("--jobs", type=int, default=2)
    a.add_argument("--rows", action="store_true", help="print every scenario's medians and whether it beats keda-hpa")
    args = a.parse_args()
    variants = [v for name in args.variants.split(",") for v in (NEIGHBOURHOOD if name == "neighbourhood" else [name])]
    policies = args.policies.split(",")
    if "keda-hpa" not in policies:
        policies.insert(0, "keda-hpa")
    paths = sorted(os.path.join(args.scenarios, f) for f in os.listdir(args.scenarios) if f.endswith(".yaml"))
    for variant in variants:
        if any(part not in VARIANTS for part in variant.split("+")):
            a.error(f"unknown variant {variant}; known: {', '.join(VARIANTS)}")
        rows, skipped = [], 0
        with concurrent.futures.ThreadPoolExecutor(args.jobs) as pool:
            for name, medians, err in pool.map(lambda p: replay(args.binary, policies, args.out, variant, p), paths):
                if medians is None:
                    skipped += 1  # e.g. min2 on a scenario whose max_replicas is 1
                    continue
                rows.append((name, medians))
        with open(os.path.join(args.out, variant + ".txt"), "w") as f:
            for name, m in rows:
                f.write(name + " " + " ".join(f"{p}:{v[0]}/{v[1]:.0f}/{v[2]:.0f}" for p, v in m.items()) + "\n")
        if args.rows:
            for name, m in rows:
                k = m["keda-hpa"]
                cells = []
                for p in policies:
                    v = m[p]
                    won = p != "keda-hpa" and v[0] < k[0] and v[1] < k[1] and v[2] < k[2]
                    cells.append(f"{p} {v[0]:g}/{v[1]:.0f}/{v[2]:.0f}" + (" beats" if won else ""))
                print(f"{variant:12s} {name:24s} " + "  ".join(cells))
        for p in policies:
            if p == "keda-hpa":
                continue
            wins, over, p99, cost, events, families = 0, 0, [], [], [], {}
            for name, m in rows:
                k, w = m["keda-hpa"], m[p]
                wins += w[0] < k[0] and w[1] < k[1] and w[2] < k[2]
                if w[1] > 1.05 * k[1]:
                    over += 1
                    family = name.rsplit("-", 1)[0]
                    families[family] = families.get(family, 0) + 1
                p99.append(w[0] / k[0] if k[0] > 0 else 1)
                cost.append(w[1] / k[1] if k[1] > 0 else 1)
                events.append((w[2] + 1) / (k[2] + 1))
            n = len(rows)
            print(f"{variant:12s} {p:15s} {n:4d} scenarios ({skipped} left out)  beats {100 * wins / n:5.1f}%  "
                  f"p99 {statistics.median(p99):.2f}/{max(p99):.2f}  pod_s {statistics.median(cost):.2f}/{max(cost):.2f}  "
                  f"events {statistics.median(events):.2f}/{max(events):.2f}  pod_s>5% {over} "
                  + " ".join(f"{k} {v}" for k, v in sorted(families.items())), flush=True)


if __name__ == "__main__":
    main()
