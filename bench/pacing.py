"""Pacing benchmark: predictive vs progressive vs an oracle, by discrete-event simulation.

Every scenario runs the production pacer (`app.dialer.pacing`) through `bench.sim` for a
shift, several seeds each, side by side with bare progressive dialling (one call per ready
agent) and with the oracle: the hazard oracle (`bench.sim.oracle`), handed the true answer
rate, ring-time and handle-time distributions and reading each busy agent's time on its call
with the handle time's hazard and each ringing call's age. Its knobs (the risk z it takes
at every forecast edge, and the abandonments it may run ahead of the target) are tuned per
scenario by simulating every candidate first on separate seeds: the oracle is the candidate
with the most mean occupancy whose tuning runs all stay at or under ORACLE_CAP. Handle time
(talk + wrap-up) is lognormal, sigma 0.6 unless the scenario says otherwise; person answers
ring U(5, 25) s.

    python -m bench.pacing            # full grid (5 x 3 x 3 + extras)
    python -m bench.pacing --quick    # a smaller, shorter run
    python -m bench.pacing --off-grid # team sizes, answer rates, spreads not on the grid
    python -m bench.pacing --mid-period  # told a 30-day account of 29 earlier days at 2.5%
    python -m bench.pacing --seeds 48 --only '^5ag'  # many seeds for some scenarios
    python -m bench.pacing --seeds 48 --first-seed 49 --only '^5ag'  # seeds 49-96
"""

from __future__ import annotations

import argparse
import re
import statistics
import sys
import time
from multiprocessing import Pool

from app.dialer.pacing import make_pacer
from bench.sim import Scenario, make_policy, simulate
from bench.sim.campaign import Campaign

POLICIES = ("progressive", "predictive", "oracle")
# The oracle's candidates: the risk z at every forecast edge (mean + z sd of answers beyond
# agents at most 0). Its governor is the law's, strictly: beyond progressive only while one
# more abandonment keeps the run within 3% (a slack of -1 abandonment on the target share).
RISKS = (1.25, 1.5, 1.75, 2.0, 2.25, 2.5, 3.0)


def candidates(scenario) -> list[tuple]:
    return [(("slack", ORACLE_SLACK), ("z", z)) for z in RISKS]
# Seeds the candidates are tuned on (never the measured ones) and the abandonment every
# tuning run must stay at or under: the winner has the most mean occupancy among those. A
# small team's hour holds a few dozen answers, so one unlucky bunch decides its rate: it is
# tuned on twice the seeds, or the oracle "wins" with knobs that break the law on the next.
TUNING_SEEDS = (101, 102, 103, 104, 105, 106)
LARGE_TEAM_TUNING_SEEDS = TUNING_SEEDS[:3]
ORACLE_CAP = 0.029
ORACLE_SLACK = -1.0
# --mid-period: the campaign's earlier 29 days, (person answers, abandoned), at the period
# setpoint of 2.5%; the oracle is then tuned to the same mean abandonment as the pacer aims at.
ACCOUNT = (20000, 500)
# The fewest seeds whose spread is worth printing; and the default, as many: a 5-agent hour's
# ratio swings by a tenth from seed to seed, so two seeds (the old default) listed scenarios
# below the floor that 96 seeds put above it, and printed no error to say so.
SPREAD_SEEDS = 8
DEFAULT_SEEDS = 8
MID_PERIOD_GOAL = 0.025


def tuning_seeds(scenario) -> tuple:
    return TUNING_SEEDS if scenario.agents <= 25 else LARGE_TEAM_TUNING_SEEDS


def grid(quick: bool) -> list[Scenario]:
    teams, rates, means = ((5, 10, 20, 50, 200), (0.1, 0.3, 0.6), (60, 180, 420))
    if quick:
        teams, rates, means = (5, 20, 50), (0.1, 0.6), (60, 180)
    found = [Scenario(f"{a:>3}ag {int(r * 100):>2}% {m:>3}s", a, r, m)
             for a in teams for r in rates for m in means]
    found.append(Scenario(" 50ag 30>10>60% 180s", 50, 0.3, 180,
                          shifts=((1 / 3, 0.1), (2 / 3, 0.6))))
    found.append(Scenario(" 25ag 20% 120s s0.9", 25, 0.2, 120, handle_sigma=0.9))
    return found


def off_grid() -> list[Scenario]:
    """Scenarios outside the public grid: other team sizes, answer rates, handle spreads."""
    return [Scenario("  5ag 20%  90s", 5, 0.2, 90),
            Scenario(" 15ag 20%  60s s1.0", 15, 0.2, 60, handle_sigma=1.0),
            Scenario(" 25ag  5% 120s", 25, 0.05, 120),
            Scenario(" 25ag 60>15% 150s", 25, 0.6, 150, shifts=((0.5, 0.15),)),
            Scenario(" 25ag 10>50% 120s", 25, 0.1, 120, shifts=((0.5, 0.5),)),
            Scenario("100ag 45% 240s s0.3", 100, 0.45, 240, handle_sigma=0.3),
            Scenario("100ag 60>15%  90s", 100, 0.6, 90, shifts=((0.5, 0.15),)),
            Scenario("200ag 15>45% 300s", 200, 0.15, 300, shifts=((0.4, 0.45),)),
            Scenario("300ag 20% 300s s1.0", 300, 0.2, 300, handle_sigma=1.0)]


def run_one(job):
    scenario, policy, seed, hours, settings = job
    settings = dict(settings)
    mid_period = settings.pop("mid_period", False)
    pacer = make_policy(policy, scenario, hours * 3600, **settings)
    if mid_period and policy == "predictive":
        pacer = Campaign(pacer, earlier=ACCOUNT)  # told ACCOUNT's days and its own
    elif mid_period and policy == "oracle-hazard":
        pacer.answers, pacer.abandoned = ACCOUNT  # its budget governor reads the account
    result = simulate(scenario, pacer, seed, hours)
    knobs = tuple(sorted(settings.items()))
    return scenario.name, policy, seed, knobs, {
        "occupancy": result.occupancy,
        "talk": result.talk_minutes_per_agent_hour,
        "abandon": result.abandon_rate,
        "window": result.worst_window_rate(min(3600.0, hours * 3600)),
        "answers": result.human_answers,
        "seed": seed,
    }


def governor_check() -> bool:
    """At or over the 30-day cap the predictive pacer dials exactly as progressive does, told
    the rate and the counts as the production tick tells it, or the rate alone; and so does a
    young campaign whose answers do not yet allow one abandonment within 3%."""
    ok = True
    for rate, lost, answers in ((0.03, 30, 1000), (0.031, 31, 1000), (0.2, 200, 1000),
                                (1 / 3, 1, 3), (1 / 33, 1, 33), (None, 0, 20)):
        for told in ({"abandon_rate_30d": rate, "abandoned_30d": lost,
                      "human_answers_30d": answers}, {"abandon_rate_30d": rate}):
            if rate is None and len(told) == 1:
                continue
            pacer = make_pacer("predictive")
            for _ in range(50):
                pacer.on_agent_free(0.0, 90.0)
            state = (100.0, 6, [85.0] * 20, 2)
            ok &= pacer.calls_to_place(*state, **told) == 4
    # Far from the cap it does dial beyond progressive, told either way (else the above
    # would pass for a pacer that never did).
    for told in ({"abandon_rate_30d": 0.0, "abandoned_30d": 0, "human_answers_30d": 1000},
                 {"abandon_rate_30d": 0.0}):
        pacer = make_pacer("predictive")
        for _ in range(50):
            pacer.on_agent_free(0.0, 90.0)
        ok &= pacer.calls_to_place(100.0, 6, [85.0] * 20, 2, **told) > 4
    return ok


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer scenarios, shorter shift")
    parser.add_argument("--hours", type=float, help="simulated shift length (default 1; quick 0.5)")
    parser.add_argument("--seeds", type=int,
                        help="runs per scenario and policy (default 8: the fewest that print "
                             "each ratio's error; quick 1)")
    parser.add_argument("--first-seed", type=int, default=1,
                        help="the first measured seed (default 1): --first-seed 49 --seeds 48 "
                             "measures seeds 49-96")
    parser.add_argument("--jobs", type=int, default=1, help="worker processes")
    parser.add_argument("--off-grid", action="store_true",
                        help="run the off-grid scenarios instead of the grid")
    parser.add_argument("--only", metavar="REGEX", type=_pattern,
                        help="only the scenarios whose name matches, read with single spaces "
                             "(e.g. '^5ag|^10ag 10%% 60s')")
    parser.add_argument("--mid-period", action="store_true",
                        help="a campaign mid-way through its 30 days: predictive and the oracle "
                             "are told an account of 29 earlier days at 2.5%%")
    args = parser.parse_args(argv)
    extra = {"mid_period": True} if args.mid_period else {}
    hours = args.hours or (0.5 if args.quick else 1.0)
    seeds = (1 if args.quick else DEFAULT_SEEDS) if args.seeds is None else args.seeds
    if seeds < 1:
        parser.error("--seeds must be 1 or more")
    scenarios = off_grid() if args.off_grid else grid(args.quick)
    if args.only:
        scenarios = [s for s in scenarios if args.only.search(" ".join(s.name.split()))]
        if not scenarios:
            parser.error(f"no scenario's name matches {args.only.pattern!r}")
    started = time.time()
    measured = range(args.first_seed, args.first_seed + seeds)
    if set(measured) & set(TUNING_SEEDS):
        parser.error(f"the measured seeds must not include the oracle's tuning seeds "
                     f"{TUNING_SEEDS[0]}-{TUNING_SEEDS[-1]}")
    tuning = [(s, "oracle-hazard", seed, hours, {**dict(knobs), **extra}) for s in scenarios
              for knobs in candidates(s) for seed in tuning_seeds(s)]
    with Pool(args.jobs) as pool:
        # The long runs first, for even load.
        runs: dict = {}  # (scenario, knobs) -> tuning figures
        for name, _, _, knobs, figures in pool.imap_unordered(run_one, by_size(tuning)):
            runs.setdefault((name, knobs), []).append(figures)
        chosen = choose_oracle(scenarios, runs, args.mid_period)
        plain = [(s, p, seed, hours, extra) for s in scenarios for seed in measured
                 for p in ("progressive", "predictive")]
        plain += [(s, "oracle-hazard", seed, hours, {**dict(chosen[s.name]), **extra})
                  for s in scenarios for seed in measured]
        results: dict = {}
        for name, policy, _, _, figures in pool.imap_unordered(run_one, by_size(plain)):
            key = "oracle" if policy.startswith("oracle") else policy
            results.setdefault((name, key), []).append(figures)
    missed = print_table(scenarios, results, hours, measured, chosen, args.mid_period)
    check = governor_check()
    print(f"\n30-day governor: at/over the cap, or too few answers for one abandonment "
          f"within 3% -> exactly the progressive count: {'PASS' if check else 'FAIL'}")
    if not check:
        missed.append("the 30-day governor's check")
    print(f"{len(tuning) + len(plain)} runs ({len(tuning)} tuning the oracle) in "
          f"{time.time() - started:.0f} s wall")
    # The exit status says whether the floors were met, for a script or a scheduled run.
    # A reading below its floor but within two standard errors of it is not told from chance:
    # named above ("below the occupancy floor"), not counted as a miss here.
    print("floors: none missed beyond two standard errors" if not missed
          else "floors missed: " + "; ".join(missed))
    return 1 if missed else 0


def _pattern(text: str) -> re.Pattern:
    try:
        return re.compile(text)
    except re.error as exc:
        raise argparse.ArgumentTypeError(f"not a regular expression ({exc}): {text!r}") from None


def by_size(jobs: list) -> list:
    return sorted(jobs, key=lambda j: -j[0].agents)


def choose_oracle(scenarios, runs, mid_period: bool = False) -> dict:
    """Per scenario, the candidate with the most mean occupancy over the tuning seeds among
    those whose every tuning run keeps abandonment at or under ORACLE_CAP (else the one
    with the lowest worst tuning run). Mid-period, an hour is not the period: among those
    whose mean tuning abandonment is at or under the period setpoint the pacer aims at."""
    chosen = {}
    for s in scenarios:
        best = fallback = None
        for knobs in candidates(s):
            figs = runs[(s.name, knobs)]
            if mid_period:
                worst = statistics.fmean(f["abandon"] for f in figs)
                cap = MID_PERIOD_GOAL
            else:
                worst, cap = max(f["abandon"] for f in figs), ORACLE_CAP
            if fallback is None or worst < fallback[0]:
                fallback = (worst, knobs)
            if worst > cap:
                continue
            occ = statistics.fmean(f["occupancy"] for f in figs)
            if best is None or occ > best[0]:
                best = (occ, knobs)
        chosen[s.name] = (best or fallback)[1]
    return chosen


def floor_for(scenario) -> float:
    """Issue 22: predictive at least 0.97 of the oracle's occupancy up to 20 agents, 0.99
    from 50."""
    return 0.97 if scenario.agents <= 20 else 0.99


def ratio_spread(predictive: list, oracle: list) -> float | None:
    """Two standard errors of mean(predictive) / mean(oracle) over runs paired by seed (the
    delta method), or None under SPREAD_SEEDS seeds. (Simulated, the ratio +- this covered
    the true ratio about 95% of the time at 48-96 seeds and about 92% at 8-12.)"""
    if len(predictive) < SPREAD_SEEDS:
        return None
    ratio = statistics.fmean(predictive) / statistics.fmean(oracle)
    residuals = [p - ratio * o for p, o in zip(predictive, oracle)]
    return 2 * statistics.stdev(residuals) / (len(residuals) ** 0.5 * statistics.fmean(oracle))


def print_table(scenarios, results, hours: float, measured: range, chosen: dict,
                mid_period: bool = False) -> list[str]:
    """The table and its summary; returns what missed the issue's floors: scenarios below their
    occupancy floor beyond two standard errors (or on too few seeds to say), and, the hour
    standing for the period, predictive runs above 3%."""
    window = "1 h" if hours >= 1 else f"{hours * 60:.0f} min"
    if mid_period:
        answers, lost = ACCOUNT
        print(f"Mid-period: predictive and the oracle are told a 30-day account of "
              f"{answers} earlier person answers, {lost} abandoned ({lost / answers:.1%}); "
              f"the oracle is tuned to a mean\nabandonment at or under "
              f"{MID_PERIOD_GOAL:.1%}. An hour's rate may pass 3% here: the period's is the "
              f"account's, which one hour moves by hundredths of a point.\n")
    seeds = len(measured)
    seed_span = f"{measured[0]}-{measured[-1]}" if seeds > 1 else f"{measured[0]}"
    print(f"{hours:g} h shift x {seeds} seed{'s' if seeds > 1 else ''} ({seed_span}) per "
          f"scenario and policy (oracle tuned first on {len(TUNING_SEEDS)} other seeds, {len(LARGE_TEAM_TUNING_SEEDS)} above 25 agents). occ = time on calls and "
          f"wrap-up / time signed in;\ntalk = talk minutes per agent hour; aband = abandoned / "
          f"person-answered over the run (mean, worst run) -\nthe run stands for the 30-day "
          f"period, being shorter; worst {window} = worst rolling {window} window of any "
          f"predictive run (stress figure);\noracle = the hazard oracle with the true "
          f"parameters, its risk z at every forecast edge chosen by tuning (it dials beyond "
          f"progressive only while one more abandonment keeps the run within 3%);\n+- = two "
          f"standard errors of pred/or over the {seeds} seeds (runs paired by seed; printed from "
          f"{SPREAD_SEEDS} seeds up); gap = the "
          f"share of the progressive-to-oracle occupancy gap predictive closes.\n")
    head = (f"{'scenario':<22}{'occ prog':>9}{'pred':>7}{'oracle':>7}{'pred/or':>8}{'+-':>6}{'gap':>6}"
            f"{'talk prog':>10}{'pred':>6}{'oracle':>7}{'aband pred':>12}{'worst':>7}"
            f"{'worst ' + window:>13}{'aband or':>10}{'worst':>7}{'oracle z':>11}")
    print(head)
    print("-" * len(head))
    ratios, short, noisy, near, below_prog, gaps, missed = [], [], [], [], [], [], []
    for s in scenarios:
        fig = {p: results[(s.name, p)] for p in POLICIES}

        def mean(p, key):
            return statistics.fmean(r[key] for r in fig[p])

        ratio = mean("predictive", "occupancy") / mean("oracle", "occupancy")
        ratios.append(ratio)
        by_seed = {r["seed"]: r["occupancy"] for r in fig["oracle"]}
        spread = ratio_spread([r["occupancy"] for r in fig["predictive"]],
                              [by_seed[r["seed"]] for r in fig["predictive"]])
        if ratio < floor_for(s):
            short.append(f"{s.name.strip()} ({ratio:.3f}"
                         + ("" if spread is None else f" +- {spread:.3f}") + ")")
            if spread is not None and ratio + spread >= floor_for(s):
                noisy.append(s.name.strip())
            else:
                missed.append(f"{s.name.strip()} below its floor")
        elif spread is not None and ratio - spread < floor_for(s):
            near.append(f"{s.name.strip()} ({ratio:.3f} +- {spread:.3f})")
        prog = {r["seed"]: r["occupancy"] for r in fig["progressive"]}
        if any(r["occupancy"] < prog[r["seed"]] for r in fig["predictive"]):
            below_prog.append(s.name.strip())
        knobs = dict(chosen[s.name])
        label = f"z {knobs['z']:g}"
        span = mean("oracle", "occupancy") - mean("progressive", "occupancy")
        gap = ((mean("predictive", "occupancy") - mean("progressive", "occupancy")) / span
               if span >= 0.005 else None)
        if gap is not None:
            gaps.append(gap)
        print(f"{s.name:<22}{mean('progressive', 'occupancy'):>9.3f}"
              f"{mean('predictive', 'occupancy'):>7.3f}{mean('oracle', 'occupancy'):>7.3f}"
              f"{ratio:>8.3f}{'-' if spread is None else f'{spread:.3f}':>6}"
              f"{'-' if gap is None else f'{gap:.2f}':>6}"
              f"{mean('progressive', 'talk'):>10.1f}{mean('predictive', 'talk'):>6.1f}"
              f"{mean('oracle', 'talk'):>7.1f}"
              f"{mean('predictive', 'abandon'):>11.2%} "
              f"{max(r['abandon'] for r in fig['predictive']):>6.2%}"
              f"{max(r['window'] for r in fig['predictive']):>13.2%}"
              f"{mean('oracle', 'abandon'):>10.2%}"
              f"{max(r['abandon'] for r in fig['oracle']):>7.2%}{label:>11}")

    def abandon(policy):
        return [r["abandon"] for key, runs in results.items() if key[1] == policy for r in runs]

    print(f"\npredictive/oracle occupancy: mean {statistics.fmean(ratios):.3f}, "
          f"min {min(ratios):.3f}, max {max(ratios):.3f}; worst run abandonment: predictive "
          f"{max(abandon('predictive')):.2%}, oracle {max(abandon('oracle')):.2%}")
    if not mid_period:
        # How often the law's line is crossed, beside the reference: on enough seeds a small
        # team's hour, a budget of two or three abandonments, meets a cluster of answers that
        # no pacer placing beyond progressive can absorb.
        over = {p: sum(rate > 0.03 for rate in abandon(p)) for p in ("predictive", "oracle")}
        print(f"runs above 3%: predictive {over['predictive']}, oracle {over['oracle']}, "
              f"of {len(abandon('predictive'))} each")
        if over["predictive"]:
            missed.append(f"{over['predictive']} predictive run(s) above 3%")
    closed = f"mean {statistics.fmean(gaps):.2f}, min {min(gaps):.2f}" if gaps else "-"
    print(f"share of the progressive-to-oracle occupancy gap closed (where the oracle is 0.005 or "
          f"more above progressive): {closed}")
    print(f"below the occupancy floor (0.97 of oracle up to 20 agents, 0.99 from 50): "
          f"{', '.join(short) or 'none'}")
    if noisy:
        print(f"  of which the floor is within two standard errors (not told from chance on "
              f"these seeds): {', '.join(noisy)}")
    if near:
        print(f"at or above the floor, but within two standard errors of it: {', '.join(near)}")
    print(f"predictive below progressive in a run (same seed): {', '.join(below_prog) or 'none'}")
    return missed


if __name__ == "__main__":
    sys.exit(main())
