"""The pacing bench says how far its predictive-to-oracle ratio can be trusted.

A 5-agent hour holds a hundred-odd person answers, so one seed's occupancy ratio swings by a
tenth: a scenario read as 0.966 on 48 seeds and 0.978 on the next 48. The bench prints two
standard errors beside each ratio and says which shortfalls it cannot tell from chance.
"""

import random

from bench.pacing import print_table, ratio_spread
from bench.sim import Scenario


def test_runs_in_a_fixed_proportion_have_no_spread_and_noisy_runs_a_wide_one():
    oracle = [0.5 + 0.01 * i for i in range(12)]
    assert ratio_spread([0.96 * o for o in oracle], oracle) == 0.0
    rng = random.Random(3)
    noisy = [0.96 * o + rng.gauss(0, 0.05) for o in oracle]
    assert 0.02 < ratio_spread(noisy, oracle) < 0.1
    # Under eight seeds it does not pretend to know.
    assert ratio_spread(noisy[:7], oracle[:7]) is None


def _figures(seed, occupancy):
    return {"occupancy": occupancy, "talk": 30.0, "abandon": 0.01, "window": 0.01,
            "answers": 100, "seed": seed}


def test_a_shortfall_within_two_standard_errors_is_named_as_such(capsys):
    steady, noisy = Scenario("  5ag 30%  60s", 5, 0.3, 60), Scenario(" 10ag 30%  60s", 10, 0.3, 60)
    results = {}
    for s, swing in ((steady, 0.0), (noisy, 0.08)):
        oracle = [0.6 + 0.02 * (seed % 5) for seed in range(1, 17)]
        results[(s.name, "oracle")] = [_figures(i + 1, o) for i, o in enumerate(oracle)]
        results[(s.name, "progressive")] = [_figures(i + 1, 0.5) for i in range(16)]
        results[(s.name, "predictive")] = [_figures(i + 1, 0.96 * o + swing * (-1) ** i)
                                           for i, o in enumerate(oracle)]
    chosen = {s.name: (("slack", -1.0), ("z", 2.0)) for s in (steady, noisy)}
    print_table([steady, noisy], results, 1.0, range(1, 17), chosen)
    out = capsys.readouterr().out
    assert "16 seeds (1-16)" in out
    floor = next(line for line in out.splitlines() if line.startswith("below the occupancy floor"))
    # Both read 0.960; the steady one is short beyond doubt, the swinging one may not be.
    assert "5ag 30%  60s (0.960 +- 0.000)" in floor and "10ag 30%  60s (0.960 +- 0.0" in floor
    within = next(line for line in out.splitlines() if "within two standard errors" in line)
    assert "10ag" in within and "5ag" not in within
