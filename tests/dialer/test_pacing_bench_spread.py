"""The pacing bench says how far its predictive-to-oracle ratio can be trusted.

A 5-agent hour holds 100-200 person answers, so one seed's occupancy ratio swings by a tenth:
a scenario read 0.966 on seeds 1-48 and 0.978 on seeds 49-96. The bench prints two standard
errors beside each ratio, says which readings near the floor it cannot tell from chance, and
measures any seed range apart from the oracle's tuning seeds.
"""

import math

import pytest

from bench.pacing import main, print_table, ratio_spread
from bench.sim import Scenario


def test_the_spread_is_two_standard_errors_of_the_paired_ratio():
    oracle = [0.5 + 0.01 * i for i in range(12)]
    assert ratio_spread([0.96 * o for o in oracle], oracle) == pytest.approx(0.0, abs=1e-12)
    # Residuals of +-d about 0.96 x oracle, alternating: their sd is d * sqrt(n / (n - 1)).
    d, n = 0.03, len(oracle)
    swinging = [0.96 * o + d * (-1) ** i for i, o in enumerate(oracle)]
    expected = 2 * d * math.sqrt(n / (n - 1)) / (math.sqrt(n) * (sum(oracle) / n))
    assert ratio_spread(swinging, oracle) == pytest.approx(expected, rel=1e-9)
    # Under eight seeds it does not pretend to know.
    assert ratio_spread(swinging[:7], oracle[:7]) is None


def _figures(seed, occupancy):
    return {"occupancy": occupancy, "talk": 30.0, "abandon": 0.01, "window": 0.01,
            "answers": 100, "seed": seed}


def test_the_table_pairs_runs_by_seed_and_names_readings_it_cannot_tell_from_chance(capsys):
    steady, swinging = Scenario("  5ag 30%  60s", 5, 0.3, 60), Scenario(" 10ag 30%  60s", 10, 0.3, 60)
    near = Scenario(" 20ag 30%  60s", 20, 0.3, 60)
    results = {}
    for s, ratio, swing in ((steady, 0.96, 0.0), (swinging, 0.96, 0.08), (near, 0.975, 0.08)):
        oracle = {seed: 0.6 + 0.02 * (seed % 5) for seed in range(1, 17)}
        # Runs come back from the pool in any order: the oracle's here in reverse.
        results[(s.name, "oracle")] = [_figures(seed, oracle[seed]) for seed in reversed(oracle)]
        results[(s.name, "progressive")] = [_figures(seed, 0.5) for seed in oracle]
        results[(s.name, "predictive")] = [_figures(seed, ratio * o + swing * (-1) ** seed)
                                           for seed, o in oracle.items()]
    chosen = {s.name: (("slack", -1.0), ("z", 2.0)) for s in (steady, swinging, near)}
    missed = print_table([steady, swinging, near], results, 1.0, range(1, 17), chosen)
    # What the bench's exit status reports: only the reading short beyond doubt.
    assert missed == ["5ag 30%  60s below its floor"]
    out = capsys.readouterr().out
    lines = out.splitlines()
    assert "16 seeds (1-16)" in out
    row = next(line for line in lines if line.startswith("  5ag"))
    assert row.split()[6:8] == ["0.960", "0.000"]  # pred/or and +-: paired by seed, no spread
    floor = next(line for line in lines if line.startswith("below the occupancy floor"))
    # Both read 0.960; the steady one is short beyond doubt, the swinging one may not be.
    assert "5ag 30%  60s (0.960 +- 0.000)" in floor and "10ag 30%  60s (0.960 +- 0.0" in floor
    within = next(line for line in lines if "within two standard errors (not told" in line)
    assert "10ag" in within and "5ag" not in within
    # 0.975 is above the floor, but not beyond doubt.
    above = next(line for line in lines if line.startswith("at or above the floor"))
    assert "20ag 30%  60s (0.975 +- 0.0" in above and "10ag" not in above


@pytest.mark.parametrize("args", [["--first-seed", "100", "--seeds", "2"],  # 101: tuning
                                  ["--seeds", "0"]])
def test_a_seed_range_the_bench_cannot_measure_is_refused_before_it_runs(args, capsys):
    with pytest.raises(SystemExit) as refused:
        main(args)
    assert refused.value.code == 2
    assert "seeds" in capsys.readouterr().err


def test_the_first_seed_sets_the_seeds_measured(capsys):
    # A 36-second shift of one long-call scenario: the tuning and three runs take a moment.
    main(["--only", "^5ag 60% 420s", "--hours", "0.01", "--seeds", "1", "--first-seed", "50"])
    assert "1 seed (50) per scenario" in capsys.readouterr().out


def test_a_run_above_3_percent_misses_the_floors_and_the_bench_says_so():
    scenario = Scenario(" 50ag 30%  60s", 50, 0.3, 60)
    results = {(scenario.name, "oracle"): [_figures(seed, 0.8) for seed in range(1, 9)],
               (scenario.name, "progressive"): [_figures(seed, 0.5) for seed in range(1, 9)],
               (scenario.name, "predictive"): [{**_figures(seed, 0.8), "abandon": 0.031 if seed == 3 else 0.01}
                                               for seed in range(1, 9)]}
    chosen = {scenario.name: (("slack", -1.0), ("z", 2.0))}
    assert print_table([scenario], results, 1.0, range(1, 9), chosen) == ["1 predictive run(s) above 3%"]
