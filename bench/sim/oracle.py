"""The hazard oracle: the pacing bench's reference, a policy handed the scenario's truth.

It sees only what the pacer contract gives (ready agents, each busy agent's seconds on its
call, the calls it has placed and how long each has rung, answers and abandonments as they
happen) but reads them with the true distributions: the answer rate at every moment, the
ring-time curves and the handle-time hazard. At every 2-second edge t of the ring horizon
it forecasts the person-answers to come from the calls ringing (each conditioned on its age)
and from n new ones, against the agents free by t + 2 s (ready ones, plus each busy agent's
chance of finishing given how long it has been on its call), and places the most calls for
which, at every edge, mean(answers - agents) + z * sd <= 0. Averages hide what a small team
turns on (which agent is about to finish); this reads each agent.

Its risk z is tuned by search per scenario on seeds never measured. Its governor is the law's,
read strictly: it places beyond progressive only while one more abandonment would keep the run
(which stands for the 30-day period) within 3% of its person answers (`slack` -1: the
abandonments it may run ahead of the target share). A larger slack buys occupancy by breaking
the cap on the unlucky runs; tuned with slacks of 0.5 to 2 on six seeds, it still went over 3%
on the measured ones (up to 5.88%), so it is no longer a candidate.
"""

from __future__ import annotations

import bisect
import math
from itertools import groupby

from bench.sim.scenario import RING_TIMEOUT, Scenario, TrueModel

STEP = 2  # seconds between forecast edges
GRACE = 2  # an answered call waits this long for an agent
EDGES = int(RING_TIMEOUT // STEP) + 2


class HazardOracle:
    """Knows the truth; see the module docstring. `z` < 0 dials hotter than the mean."""

    mode = "oracle-hazard"

    def __init__(self, scenario: Scenario, duration: float, z: float = 0.0,
                 slack: float = -1.0, abandon_target: float = 0.03, rate_at=None) -> None:
        self.scenario, self.duration = scenario, duration
        self.rate_at = rate_at or (lambda t: scenario.rate_at(t, duration))
        self.z, self.slack, self.abandon_target = z, slack, abandon_target
        self.placed: list[float] = []  # placement times of calls still ringing, sorted
        self.waiting = 0  # answered, not yet connected or abandoned
        self.answers = self.abandoned = 0
        truth = TrueModel(scenario, duration)  # the scenario's own distributions
        self._human_cdf, self._other_cdf = truth.human_cdf, truth.other_cdf
        top = int(scenario.handle_mean * 40) + 64
        self._survival = [truth.handle_survival(x) for x in range(top)]
        self._agent_rows: dict[int, tuple] = {}
        self._call_rows: dict[tuple, tuple] = {}
        self._fresh = [self._human_cdf(STEP * j) for j in range(EDGES)]

    # observations ----------------------------------------------------------------
    def on_dial_result(self, at: float, outcome: str, ring_seconds: float) -> None:
        placed = self.placed
        if placed:
            i = min(bisect.bisect_left(placed, at - ring_seconds - 1e-6), len(placed) - 1)
            placed.pop(i)
        if outcome == "human":
            self.waiting += 1

    def on_human_answer(self, at: float, connected: bool, wait_seconds: float) -> None:
        self.waiting = max(0, self.waiting - 1)
        self.answers += 1
        self.abandoned += not connected

    def on_agent_free(self, at: float, handle_seconds: float) -> None:
        pass

    # decision --------------------------------------------------------------------
    def calls_to_place(self, at, agents_ready, busy_elapsed, calls_dialing, **_ignored) -> int:
        floor = max(0, int(agents_ready) - int(calls_dialing))
        allowed = self.abandon_target * self.answers + self.slack
        n = floor if self.abandoned >= allowed else max(floor, self._most(at, agents_ready,
                                                                          busy_elapsed))
        self.placed.extend([float(at)] * n)
        return n

    def _most(self, at: float, ready: int, busy_elapsed) -> int:
        p = self.rate_at(at)
        mean = [self.waiting - ready] * EDGES
        var = [0.0] * EDGES
        for e in busy_elapsed:
            qs, vs = self._agent_row(int(e))
            mean = [m - q for m, q in zip(mean, qs)]
            var = [v + w for v, w in zip(var, vs)]
        for placed, calls in groupby(self.placed):
            count = len(list(calls))
            qs, vs = self._call_row(int(round(at - placed)), p)
            mean = [m + count * q for m, q in zip(mean, qs)]
            var = [v + count * w for v, w in zip(var, vs)]
        fresh = [p * f for f in self._fresh]

        def fits(n: int) -> bool:
            return all(m + n * f + self.z * math.sqrt(max(v + n * f * (1.0 - f), 0.0)) <= 0.0
                       for m, v, f in zip(mean, var, fresh))

        if not fits(1):
            return 0
        lo, hi = 1, 2
        while fits(hi):
            lo, hi = hi, hi * 2
        while hi - lo > 1:
            mid = (lo + hi) // 2
            lo, hi = (mid, hi) if fits(mid) else (lo, mid)
        return lo

    def _call_row(self, age: int, p: float) -> tuple:
        """For a call that has rung `age` s with no result: its chance of a person
        answering by each edge (then that chance's Bernoulli variance)."""
        row = self._call_rows.get((age, p))
        if row is None:
            h0 = self._human_cdf(age)
            alive = p * (1.0 - h0) + (1.0 - p) * (1.0 - self._other_cdf(age))
            qs = [p * (self._human_cdf(age + STEP * j) - h0) / alive if alive > 1e-9 else 0.0
                  for j in range(EDGES)]
            row = (qs, [q * (1.0 - q) for q in qs])
            self._call_rows[(age, p)] = row
        return row

    def _agent_row(self, elapsed: int) -> tuple:
        row = self._agent_rows.get(elapsed)
        if row is None:
            s = self._survival
            alive = s[elapsed] if elapsed < len(s) else 0.0
            qs = []
            for j in range(EDGES):
                x = elapsed + STEP * j + GRACE
                later = s[x] if x < len(s) else 0.0
                qs.append(1.0 - later / alive if alive > 1e-12 else 1.0)
            row = (qs, [q * (1.0 - q) for q in qs])
            self._agent_rows[elapsed] = row
        return row
