"""Pacers decide how many calls a campaign launches now.

Pure: the caller supplies the time and every observation, so the production tick and any
discrete-event simulator drive the same code. The predictive pacer forecasts, over the
ring-time horizon, how many human answers will arrive and how many agents will be free to
take them, and places the most calls whose expected abandonment stays under the target.
"""

from __future__ import annotations

import bisect
import math
from collections import deque

MAX_ABANDON_RATE = 0.03  # FTC TSR: abandoned / answered by a person, per 30 days
GRACE_SECONDS = 2.0  # an answered call not connected within this is abandoned
OUTCOMES = ("human", "machine", "no-answer", "busy", "failed")
STEP = 2  # seconds per forecast bin


def _normal_cdf(x: float) -> float:
    return 0.5 * math.erfc(-x * 0.7071067811865476)


class Preview:
    """Agents pick their own calls: the pacer never dials."""

    def __init__(self, abandon_target: float = MAX_ABANDON_RATE, **settings) -> None:
        self.abandon_target = min(abandon_target, MAX_ABANDON_RATE)

    def on_dial_result(self, at: float, outcome: str, ring_seconds: float) -> None:
        pass

    def on_human_answer(self, at: float, connected: bool, wait_seconds: float) -> None:
        pass

    def on_agent_free(self, at: float, handle_seconds: float) -> None:
        pass

    def calls_to_place(self, at, agents_ready, busy_elapsed, calls_dialing, **governor) -> int:
        return 0


class Progressive(Preview):
    """One call per ready agent not already covered by a call dialling: never abandons."""

    def calls_to_place(self, at, agents_ready, busy_elapsed, calls_dialing, **governor) -> int:
        return max(0, int(agents_ready) - int(calls_dialing))


class Empirical:
    """A distribution learned from a bounded window of samples plus a few prior pseudo-samples.

    The survival curve is rebuilt only when enough new samples arrived, so lookups stay
    cheap. It is a Kaplan-Meier curve, so observations still running (an agent 300 s into a
    call) count as censored: early in a campaign the first completions are the short calls,
    and ignoring the long ones still in progress would make agents look about to free up.
    Between points it is linear; past the last tenth the tail is exponential, so an agent
    longer on a call than any sample still gets a sensible hazard.
    """

    def __init__(self, prior: list[float], window: int) -> None:
        self.prior = list(prior)
        self.samples: deque[float] = deque(maxlen=window)
        self.fresh = self.seen = 0
        self.rebuild()

    def add(self, value: float) -> None:
        self.samples.append(max(0.0, float(value)))
        self.fresh += 1
        self.seen += 1

    def stale(self) -> bool:
        return self.fresh >= max(4, len(self.samples) // 6)

    def rebuild(self, censored=()) -> None:
        done = self.prior + list(self.samples)
        obs = sorted([(x, 1) for x in done] + [(max(0.0, c), 0) for c in censored])
        at_risk, surv = len(obs), 1.0
        xs, ss = [0.0], [1.0]
        for x, completed in obs:
            if completed:
                surv *= 1.0 - 1.0 / at_risk
                xs.append(x)
                ss.append(surv)
            at_risk -= 1
        tail = len(ss) - 1
        while tail > 1 and ss[tail - 1] < 0.1:
            tail -= 1
        self.xs, self.ss, self.fresh = xs[:tail + 1], ss[:tail + 1], 0
        self.tail_x, self.tail_s = xs[tail], max(ss[tail], 1e-9)
        beyond = [x - self.tail_x for x, _ in obs if x > self.tail_x]
        ended = sum(1 for x, completed in obs if x > self.tail_x and completed)
        self.tail_mean = max(1.0, sum(beyond) / max(1, ended))

    def survival(self, x: float) -> float:
        if x >= self.tail_x:
            return self.tail_s * math.exp(-(x - self.tail_x) / self.tail_mean)
        xs, ss = self.xs, self.ss
        j = bisect.bisect_right(xs, x)
        x0, x1 = xs[j - 1], xs[j]
        frac = (x - x0) / (x1 - x0) if x1 > x0 else 1.0
        return ss[j - 1] + frac * (ss[j] - ss[j - 1])

    def quantile(self, q: float) -> float:
        """Time by which a share q has ended."""
        left = 1.0 - q
        if left < self.tail_s:
            return self.tail_x + self.tail_mean * math.log(self.tail_s / left)
        return next(x for x, s in zip(self.xs, self.ss) if s <= left)


def _quantiles(inverse, count: int) -> list[float]:
    return [inverse((i + 0.5) / count) for i in range(count)]


class LearnedModel:
    """Answer rate, ring times and handle times learned from a campaign's recent results."""

    def __init__(self, answer_prior=0.3, answer_window=300, ring_window=300,
                 handle_window=400, handle_prior_median=300.0, **_ignored) -> None:
        self.outcomes: deque[int] = deque(maxlen=answer_window)
        self.recent: deque[int] = deque(maxlen=max(20, answer_window // 5))
        self.prior_weight, self.prior_p = 8.0, answer_prior
        self.human_ring = Empirical(_quantiles(lambda q: 4 + 20 * q, 6), ring_window)
        self.other_ring = Empirical(_quantiles(lambda q: 25 * q ** 0.5, 6), ring_window)
        # Until its own calls end, assume long, widely spread calls: agents look busy.
        sigma, mu = 1.0, math.log(handle_prior_median)
        self.handle = Empirical(
            _quantiles(lambda q: math.exp(mu + sigma * _probit(q)), 6), handle_window)
        self.ring_version = self.handle_version = 0
        self.horizon, self.handle_built = 25.0, -math.inf

    def observe_dial(self, outcome: str, ring_seconds: float) -> None:
        human = 1 if outcome == "human" else 0
        self.outcomes.append(human)
        self.recent.append(human)
        (self.human_ring if human else self.other_ring).add(ring_seconds)

    def observe_handle(self, handle_seconds: float) -> None:
        self.handle.add(handle_seconds)

    def refresh(self, at: float, busy_elapsed=()) -> None:
        if self.human_ring.stale() or self.other_ring.stale():
            self.human_ring.rebuild()
            self.other_ring.rebuild()
            self.horizon = min(60.0, max(float(STEP), self.human_ring.quantile(0.98)))
            self.ring_version += 1
        handle = self.handle
        young = handle.seen < handle.samples.maxlen  # the calls still running matter most
        if handle.stale() or (young and at - self.handle_built >= 10.0):
            handle.rebuild(busy_elapsed if young else ())
            self.handle_built = at
            self.handle_version += 1

    def answer_prob(self) -> float:
        """Human answers per dial; a recent shift beyond sampling noise wins over the long window."""
        n = len(self.outcomes)
        p = (sum(self.outcomes) + self.prior_weight * self.prior_p) / (n + self.prior_weight)
        m = len(self.recent)
        if m >= self.recent.maxlen and n > m:
            q = sum(self.recent) / m
            if abs(q - p) > 3.0 * math.sqrt(max(p * (1 - p), 0.01) / m):
                p = q
        return min(0.98, max(0.01, p))

    def ring_horizon(self) -> float:
        """Seconds by which nearly every human answer has come."""
        return self.horizon

    def human_cdf(self, t: float) -> float:
        return 1.0 - self.human_ring.survival(t)

    def other_cdf(self, t: float) -> float:
        return 1.0 - self.other_ring.survival(t)

    def handle_survival(self, x: float) -> float:
        return self.handle.survival(x)


def _probit(q: float) -> float:
    """Inverse normal CDF (Acklam's rational approximation is overkill for priors)."""
    lo, hi = -8.0, 8.0
    for _ in range(60):
        mid = (lo + hi) / 2
        if _normal_cdf(mid) < q:
            lo = mid
        else:
            hi = mid
    return (lo + hi) / 2


class Predictive(Progressive):
    """Queueing pacer: the most calls whose forecast abandonment stays under the target.

    Over the next ring horizon, in STEP-second bins, it forecasts human answers (from the
    calls in flight, conditioned on how long each has rung, plus the n candidates) and agents
    free to take them (ready agents, plus each busy agent's chance of finishing by then given
    how long it has been on its call, plus the 2 s grace). A call answered in a bin is
    abandoned when the answers before it use up the agents free by then; with Poisson-binomial
    counts in a normal approximation, summing over bins gives expected abandonments. A
    Robbins-Monro gain steers by recent abandonments, and the period's abandonment budget is a
    hard governor: near the cap it slows, at the cap it is progressive.
    """

    def __init__(self, abandon_target: float = MAX_ABANDON_RATE, model=None,
                 steer_ratio: float = 0.8, steer_step: float = 0.004, **settings) -> None:
        super().__init__(abandon_target)
        self.model = model if model is not None else LearnedModel(**settings)
        self.setpoint = self.abandon_target * steer_ratio
        self.steer_step = steer_step
        self.log_gain = 0.0
        self.place_times: list[float] = []  # in-flight calls, grouped by when they were placed
        self.place_counts: dict[float, int] = {}
        self.tracked = 0
        self.waiting: deque[float] = deque()  # answered, not yet connected or abandoned
        self.human_answers = self.abandoned = 0
        self._agent_rows: dict[int, list[float]] = {}
        self._call_rows: dict[int, list[float]] = {}
        self._row_keys = (None, None)

    # observations -------------------------------------------------------------------
    def on_dial_result(self, at: float, outcome: str, ring_seconds: float) -> None:
        self.model.observe_dial(outcome, ring_seconds)
        self._forget_call(at - ring_seconds)
        if outcome == "human":
            self.waiting.append(at)

    def on_human_answer(self, at: float, connected: bool, wait_seconds: float) -> None:
        if self.waiting:
            self.waiting.popleft()
        self.human_answers += 1
        self.abandoned += 0 if connected else 1
        miss = (0.0 if connected else 1.0) / self.setpoint
        self.log_gain = min(1.2, max(-1.6, self.log_gain + self.steer_step * (1.0 - miss)))

    def on_agent_free(self, at: float, handle_seconds: float) -> None:
        self.model.observe_handle(handle_seconds)

    # decision ------------------------------------------------------------------------
    def calls_to_place(self, at, agents_ready, busy_elapsed, calls_dialing,
                       abandon_rate_30d=None, abandoned_30d=None, human_answers_30d=None) -> int:
        floor = max(0, int(agents_ready) - int(calls_dialing))
        self._sync(at, int(calls_dialing))
        if abandon_rate_30d is not None and abandoned_30d is None:
            room = (self.abandon_target - abandon_rate_30d) / (0.25 * self.abandon_target)
            if room <= 0:
                return self._placed(at, floor)
        bins = self._forecast(at, int(agents_ready), busy_elapsed)
        pending = self._loss(bins, 0)[0]
        if abandon_rate_30d is None or abandoned_30d is not None:
            answers = self.human_answers if human_answers_30d is None else human_answers_30d
            lost = self.abandoned if abandoned_30d is None else abandoned_30d
            budget = self.abandon_target * answers - lost
            room = (budget - 0.5 - 1.5 * pending) / (1.0 + 1.5 * pending)
        if room <= 0:
            return self._placed(at, floor)
        limit = self.setpoint * math.exp(self.log_gain) * min(1.0, room)
        n = self._most_calls(bins, limit)
        return self._placed(at, max(n, floor))

    def _most_calls(self, bins, limit: float) -> int:
        def ok(n):
            loss, answers = self._loss(bins, n)
            return loss <= limit * answers
        if not ok(1):
            return 0
        lo, hi = 1, 2
        while ok(hi):
            lo, hi = hi, hi * 2
            if hi > 100000:
                return lo
        while hi - lo > 1:
            mid = (lo + hi) // 2
            lo, hi = (mid, hi) if ok(mid) else (lo, mid)
        return lo

    @staticmethod
    def _loss(bins, n: int) -> tuple[float, float]:
        loss = answers = 0.0
        for mass, dmass, mu, dmu, var, dvar in bins:
            m = mass + n * dmass
            if m > 1e-9:
                loss += m * _normal_cdf((mu + n * dmu + 0.5) / math.sqrt(var + n * dvar))
                answers += m
        return loss, answers

    def _forecast(self, at: float, ready: int, busy_elapsed) -> list[tuple]:
        """Per bin: answer mass, demand before it, agents free by it (means and variances)."""
        model = self.model
        model.refresh(at, busy_elapsed)
        p = model.answer_prob()
        bucket = round(math.log(p) * 40)
        horizon = int(math.ceil(model.ring_horizon() / STEP))
        keys = (model.ring_version, bucket, horizon), (model.handle_version, horizon)
        if keys[0] != self._row_keys[0]:
            self._call_rows = {}
        if keys[1] != self._row_keys[1]:
            self._agent_rows = {}
        self._row_keys = keys
        p = math.exp(bucket / 40)
        width = 3 * horizon
        demand = [0.0] * width
        for placed in self.place_times:
            row = self._call_row(int(at - placed), p, horizon)
            count = self.place_counts[placed]
            demand = [d + count * r for d, r in zip(demand, row)] if count != 1 else \
                [d + r for d, r in zip(demand, row)]
        rows = self._agent_rows
        supply = [0.0] * (2 * horizon)
        if busy_elapsed:
            keyed = [rows.get(int(e)) or self._agent_row(int(e), horizon) for e in busy_elapsed]
            supply = [sum(col) for col in zip(*keyed)]
        fresh = self._call_row(0, p, horizon)
        base = len(self.waiting) - ready
        bins = []
        for j in range(horizon):
            fm = fresh[horizon + j]
            bins.append((demand[j], fresh[j], base + demand[horizon + j] - supply[j], fm,
                         demand[2 * horizon + j] + supply[horizon + j] + 0.05,
                         fm * (1.0 - fm)))
        return bins

    def _call_row(self, age: int, p: float, horizon: int) -> list[float]:
        """For a call that has rung `age` s: answer mass per bin, answered by mid-bin, variance."""
        row = self._call_rows.get(age)
        if row is None:
            model = self.model
            h0, o0 = model.human_cdf(age), model.other_cdf(age)
            alive = p * (1.0 - h0) + (1.0 - p) * (1.0 - o0)
            scale = p / alive if alive > 1e-6 else 0.0

            def by(t):
                return min(1.0, scale * max(0.0, model.human_cdf(age + t) - h0))

            edges = [by(STEP * j) for j in range(horizon + 1)]
            mids = [by(STEP * j + STEP / 2) for j in range(horizon)]
            row = [edges[j + 1] - edges[j] for j in range(horizon)] + mids + \
                [m * (1.0 - m) for m in mids]
            self._call_rows[age] = row
        return row

    def _agent_row(self, elapsed: int, horizon: int) -> list[float]:
        """For an agent `elapsed` s into a call: chance of being free by each bin's answers."""
        model = self.model
        alive = model.handle_survival(max(0, elapsed))
        qs = []
        for j in range(horizon):
            later = model.handle_survival(max(0, elapsed) + STEP * j + STEP / 2 + GRACE_SECONDS)
            qs.append(1.0 - later / alive if alive > 1e-12 else 1.0)
        row = qs + [q * (1.0 - q) for q in qs]
        self._agent_rows[elapsed] = row
        return row

    # in-flight bookkeeping ------------------------------------------------------------
    def _placed(self, at: float, n: int) -> int:
        if n > 0:
            if self.place_times and self.place_times[-1] == at:
                self.place_counts[at] += n
            else:
                self.place_times.append(at)
                self.place_counts[at] = n
            self.tracked += n
        return n

    def _forget_call(self, placed_at: float) -> None:
        times = self.place_times
        if not times:
            return
        i = bisect.bisect_left(times, placed_at)
        if i == len(times) or (i > 0 and placed_at - times[i - 1] < times[i] - placed_at):
            i -= 1
        self._drop(i, 1)

    def _drop(self, i: int, count: int) -> None:
        at = self.place_times[i]
        left = self.place_counts[at] - count
        self.tracked -= min(count, self.place_counts[at])
        if left > 0:
            self.place_counts[at] = left
        else:
            del self.place_counts[at]
            self.place_times.pop(i)

    def _sync(self, at: float, calls_dialing: int) -> None:
        """Trust the caller's count: forget the oldest calls, or add unseen ones as new."""
        while self.tracked > calls_dialing and self.place_times:
            self._drop(0, self.tracked - calls_dialing)
        if self.tracked < calls_dialing:
            self._placed(at, calls_dialing - self.tracked)
        while self.waiting and at - self.waiting[0] > GRACE_SECONDS + 1.0:
            self.waiting.popleft()


def make_pacer(mode: str, abandon_target: float = MAX_ABANDON_RATE, **settings):
    """Build the pacer for a campaign's dialling mode; the target is capped at the legal 3%."""
    kinds = {"preview": Preview, "progressive": Progressive, "predictive": Predictive}
    if mode not in kinds:
        raise ValueError(f"unknown dialling mode {mode!r}; expected one of {sorted(kinds)}")
    return kinds[mode](abandon_target=min(float(abandon_target), MAX_ABANDON_RATE), **settings)
