"""Jump benchmark: how often a sudden rise in the answer rate pushes a run over the 3% cap.

A rise is the costly surprise: every call placed before the first answers can show it rings
out at the new rate. This runs the production pacer over many seeds of scenarios whose
answer rate rises mid-shift, side by side with progressive dialling and with the queueing
pacer handed the true distributions and told the answer rate at once (lag 0 s) or 10 or 15 s
late, which is about when the first answers of calls placed after a jump can be told from
chance (a person answers 5-25 s into the ring). The lagged oracles show what no pacer that
learns from answers can avoid; the gap between them and predictive is what is left to win.

    python -m bench.jumps              # 24 seeds per scenario and policy
    python -m bench.jumps --seeds 60
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from multiprocessing import Pool

from bench.pacing import run_one
from bench.sim import Scenario

CAP = 0.03
# The grid's and the off-grid set's rises, and two used for neither: a small team, and a
# late rise that leaves little of the run to dilute it.
SCENARIOS = (
    Scenario(" 50ag 30>10>60% 180s", 50, 0.3, 180, shifts=((1 / 3, 0.1), (2 / 3, 0.6))),
    Scenario(" 25ag 10>50% 120s", 25, 0.1, 120, shifts=((0.5, 0.5),)),
    Scenario("200ag 15>45% 300s", 200, 0.15, 300, shifts=((0.4, 0.45),)),
    Scenario(" 10ag 10>40%  60s", 10, 0.1, 60, shifts=((0.6, 0.4),)),
    Scenario("100ag 20>60% 120s late", 100, 0.2, 120, shifts=((0.85, 0.6),)),
)
# (label, policy, settings): the oracles steer to the production pacer's default setpoint.
POLICIES = (
    ("progressive", "progressive", {}),
    ("predictive", "predictive", {}),
    ("oracle lag 0", "oracle-queue", {"lag": 0.0, "calibration": 1.5}),
    ("oracle lag 10", "oracle-queue", {"lag": 10.0, "calibration": 1.5}),
    ("oracle lag 15", "oracle-queue", {"lag": 15.0, "calibration": 1.5}),
)
FIRST_SEED = 201  # apart from the pacing bench's measured and tuning seeds


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=24, help="runs per scenario and policy")
    parser.add_argument("--jobs", type=int, default=2, help="worker processes")
    args = parser.parse_args(argv)
    started = time.time()
    labelled = [(label, (s, policy, seed, 1.0, dict(settings))) for s in SCENARIOS
                for label, policy, settings in POLICIES
                for seed in range(FIRST_SEED, FIRST_SEED + args.seeds)]
    jobs = [job for _, job in labelled]
    figures: dict = {}
    with Pool(args.jobs) as pool:
        # The pacing bench's own run, in order, so each result keeps its policy's label.
        for (label, _), (name, _, _, _, fig) in zip(labelled, pool.imap(run_one, jobs, chunksize=4)):
            figures.setdefault((name, label), []).append((fig["occupancy"], fig["abandon"]))
    print(f"1 h shift x {args.seeds} seeds (from {FIRST_SEED}) per scenario and policy; occ = "
          f"mean occupancy, aband = mean and worst run abandonment,\nover = runs above "
          f"{CAP:.0%}. The oracles: the queueing pacer with the true model, told the answer "
          f"rate at once or 10/15 s late.\n")
    head = f"{'scenario':<24}{'policy':<15}{'occ':>7}{'aband':>8}{'worst':>8}{'over':>8}"
    print(head)
    print("-" * len(head))
    totals: dict = {}
    for s in SCENARIOS:
        for label, _, _ in POLICIES:
            rows = figures[(s.name, label)]
            over = sum(1 for _, a in rows if a > CAP)
            totals[label] = totals.get(label, 0) + over
            print(f"{s.name:<24}{label:<15}{statistics.fmean(o for o, _ in rows):>7.3f}"
                  f"{statistics.fmean(a for _, a in rows):>8.2%}{max(a for _, a in rows):>8.2%}"
                  f"{f'{over}/{len(rows)}':>8}")
        print()
    runs = args.seeds * len(SCENARIOS)
    print("runs over the cap: " + ", ".join(f"{label} {n}/{runs}" for label, n in totals.items()))
    print(f"{len(jobs)} runs in {time.time() - started:.0f} s wall")
    return 0


if __name__ == "__main__":
    sys.exit(main())
