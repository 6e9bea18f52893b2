"""Scenario: who answers, after how long, and how long agents spend on each call.

Handle time (talk + wrap-up) is lognormal with the scenario's mean and sigma; wrap-up is the
last 5-15 s of it (never more than half). A dial ends as: a person answering after
U(5, 25) s; an answering machine picked up after U(5, 25) s and detected 3 s later; busy after
U(1, 4) s; a failed dial after U(0.5, 2) s; or no answer at the 25 s ring timeout (+ up to 1 s
of carrier delay). Of the dials not answered by a person, 30% reach a machine, 8% busy,
4% fail and 58% ring out.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from app.dialer.pacing import STEP, Predictive, make_pacer

RING_TIMEOUT = 25.0
OTHER_MIX = (("machine", 0.30), ("busy", 0.08), ("failed", 0.04), ("no-answer", 0.58))


@dataclass(frozen=True)
class Scenario:
    name: str
    agents: int
    answer_rate: float
    handle_mean: float
    handle_sigma: float = 0.6
    shifts: tuple = field(default=())  # ((fraction_of_run, answer_rate), ...) later in the run

    def rate_at(self, t: float, duration: float) -> float:
        rate = self.answer_rate
        for start, later in self.shifts:
            if t >= start * duration:
                rate = later
        return rate

    def handle_mu(self) -> float:
        return math.log(self.handle_mean) - self.handle_sigma ** 2 / 2


def sample_dial(rng, rate: float) -> tuple[str, float]:
    """One dial's outcome and seconds from placing it to the result."""
    u = rng.random()
    if u < rate:
        return "human", rng.uniform(5.0, 25.0)
    u = (u - rate) / (1.0 - rate)
    for outcome, share in OTHER_MIX:
        if u < share:
            break
        u -= share
    if outcome == "machine":
        return outcome, rng.uniform(5.0, 25.0) + 3.0
    if outcome == "busy":
        return outcome, rng.uniform(1.0, 4.0)
    if outcome == "failed":
        return outcome, rng.uniform(0.5, 2.0)
    return "no-answer", RING_TIMEOUT + rng.random()


def sample_handle(rng, scenario: Scenario) -> tuple[float, float]:
    """(handle seconds, talk seconds)."""
    handle = rng.lognormvariate(scenario.handle_mu(), scenario.handle_sigma)
    wrap = min(rng.uniform(5.0, 15.0), handle / 2)
    return handle, handle - wrap


def _uniform_cdf(t, lo, hi):
    return min(1.0, max(0.0, (t - lo) / (hi - lo)))


class TrueModel:
    """The oracle's model: the scenario's real distributions and current answer rate (or,
    with a `lag`, the rate as it was that many seconds ago: an oracle told of a change late)."""

    ring_version = handle_version = 0

    def __init__(self, scenario: Scenario, duration: float, lag: float = 0.0) -> None:
        self.scenario, self.duration, self.at, self.lag = scenario, duration, 0.0, lag

    def observe_dial(self, at, outcome, ring_seconds):
        pass

    def observe_handle(self, handle_seconds):
        pass

    def observe_placed(self, at, count):
        pass

    def refresh(self, at, busy_elapsed=()):
        self.at = at

    def answer_prob(self):
        return self.scenario.rate_at(max(0.0, self.at - self.lag), self.duration)

    def answer_cv(self):
        return 0.0

    def ring_horizon(self):
        return 25.0

    def human_cdf(self, t):
        return _uniform_cdf(t, 5.0, 25.0)

    def other_cdf(self, t):
        m, b, f, n = (share for _, share in OTHER_MIX)
        return (m * _uniform_cdf(t, 8.0, 28.0) + b * _uniform_cdf(t, 1.0, 4.0)
                + f * _uniform_cdf(t, 0.5, 2.0) + n * _uniform_cdf(t, RING_TIMEOUT, 26.0))

    def handle_grid(self):
        if not hasattr(self, "_handle_grid"):
            top = int(self.scenario.handle_mean * 30)
            self._handle_grid = [self.handle_survival(x) for x in range(top)]
        return self._handle_grid

    def human_grid(self):
        return [1.0 - self.human_cdf(x) for x in range(128)]

    def handle_survival(self, x):
        if x <= 0:
            return 1.0
        z = (math.log(x) - self.scenario.handle_mu()) / self.scenario.handle_sigma
        return 0.5 * math.erfc(z / math.sqrt(2))


def make_policy(policy: str, scenario: Scenario, duration: float, **settings):
    """progressive | predictive (learns) | oracle-queue (the same queueing pacer, its model
    replaced by the true distributions, the answer rate known at every moment, or `lag`
    seconds late) |
    oracle-hazard (the bench's reference: `bench.sim.oracle.HazardOracle`)."""
    if policy == "oracle-hazard":
        from bench.sim.oracle import HazardOracle
        return HazardOracle(scenario, duration, **settings)
    if policy == "oracle-queue":
        lag = settings.pop("lag", 0.0)
        return Predictive(model=TrueModel(scenario, duration, lag), **settings)
    return make_pacer(policy, **settings)


__all__ = ["STEP", "Scenario", "TrueModel", "make_policy", "sample_dial", "sample_handle"]
