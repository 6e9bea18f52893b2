"""Distributions the pacer learns and forecasts with: a survival curve learned from samples,
and the normal and Poisson tails."""

from __future__ import annotations

import bisect
import math
from collections import deque


def _normal_cdf(x: float) -> float:
    return 0.5 * math.erfc(-x * 0.7071067811865476)


def _poisson_tail(k: int, mu: float) -> float:
    """P(X >= k) for X ~ Poisson(mu)."""
    if k <= 0:
        return 1.0
    if mu > 30.0:
        return 1.0 - _normal_cdf((k - 0.5 - mu) / math.sqrt(mu))
    term = total = math.exp(-mu)
    for i in range(1, k):
        term *= mu / i
        total += term
    return max(0.0, 1.0 - total)


class Empirical:
    """A distribution learned from a bounded window of samples plus a few prior pseudo-samples.

    The survival curve is rebuilt only when enough new samples arrived, so lookups stay
    cheap. It is a Kaplan-Meier curve, so observations still running (an agent 300 s into a
    call) count as censored: early in a campaign the first completions are the short calls,
    and ignoring the long ones still in progress would make agents look about to free up.
    Between points it is linear; past the last tenth the tail is exponential, so an agent
    longer on a call than any sample still gets a sensible hazard.
    """

    def __init__(self, prior: list[float], window: int, inverse=None, strong: int = 0,
                 fade: int = 1, keep: int | None = None) -> None:
        self.prior = list(prior)
        # A prior of plain pseudo-samples may be dropped once `keep` samples are seen: a
        # few cautious guesses of 600-2400 s handle time, kept for ever, stretch a learned
        # curve of one-minute calls into a tail that says no long call ever ends.
        self.keep = keep
        # Optionally a heavier prior (`strong` quantile points of `inverse`) that fades out
        # linearly over the first `fade` samples: a few dozen answers give a ragged curve,
        # and reading a whole burst of calls in flight off it misjudges their answers.
        self.inverse, self.strong, self.fade = inverse, strong, max(1, fade)
        self.samples: deque[float] = deque(maxlen=window)
        self.fresh = self.seen = 0
        self.rebuild()

    def _prior(self) -> list[float]:
        if self.inverse is None:
            return self.prior if self.keep is None or self.seen < self.keep else []
        count = int(round(self.strong * (1.0 - self.seen / self.fade)))
        return self.prior if count <= len(self.prior) else _quantiles(self.inverse, count)

    def add(self, value: float) -> None:
        self.samples.append(max(0.0, float(value)))
        self.fresh += 1
        self.seen += 1

    def stale(self) -> bool:
        return self.fresh >= max(4, len(self.samples) // 6)

    def rebuild(self, censored=()) -> None:
        done = self._prior() + list(self.samples)
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
        self._build_grid()

    def _build_grid(self) -> None:
        # Survival at whole seconds, for the hot path: forecasts look up integer offsets.
        top = int(min(self.tail_x + 5.0 * self.tail_mean, 20000.0)) + 64
        self.grid = [self.survival(float(x)) for x in range(top)]

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

    def to_state(self) -> dict:
        """The samples and the curve last built, which the samples alone cannot give back:
        it was built before the newest samples came, counting the calls then running.
        `inverse` is left to the owner to name."""
        return {"prior": list(self.prior), "strong": self.strong, "fade": self.fade,
                "keep": self.keep,
                "window": self.samples.maxlen, "samples": list(self.samples),
                "fresh": self.fresh, "seen": self.seen, "xs": list(self.xs),
                "ss": list(self.ss), "tail_x": self.tail_x, "tail_s": self.tail_s,
                "tail_mean": self.tail_mean}

    @classmethod
    def from_state(cls, state: dict, inverse=None) -> Empirical:
        curve = cls.__new__(cls)
        curve.prior = list(state["prior"])
        curve.inverse, curve.strong, curve.fade = inverse, state["strong"], state["fade"]
        curve.keep = state["keep"]
        curve.samples = deque(state["samples"], maxlen=state["window"])
        curve.fresh, curve.seen = state["fresh"], state["seen"]
        curve.xs, curve.ss = list(state["xs"]), list(state["ss"])
        curve.tail_x, curve.tail_s = state["tail_x"], state["tail_s"]
        curve.tail_mean = state["tail_mean"]
        curve._build_grid()
        return curve


def _quantiles(inverse, count: int) -> list[float]:
    return [inverse((i + 0.5) / count) for i in range(count)]
