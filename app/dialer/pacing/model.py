"""What a campaign's pacer learns from the stream: answer rate, ring times, handle times."""

from __future__ import annotations

import math

from app.dialer.pacing.answers import DialOutcomes
from app.dialer.pacing.distributions import Empirical, _quantiles

STEP = 2  # seconds per forecast bin


# Before any ring is seen.
def _human_ring_prior(q: float) -> float:
    return 4 + 20 * q


def _other_ring_prior(q: float) -> float:
    return 25 * q ** 0.5


class LearnedModel:
    """Answer rate, ring times and handle times learned from a campaign's recent results."""

    def __init__(self, answer_prior=0.5, answer_window=2000, ring_window=300,
                 handle_window=400, handle_prior=600.0, answer_prior_weight=4.0,
                 human_ring_prior=None, other_ring_prior=None, handle_samples=None,
                 **_ignored) -> None:
        # Warm start: a campaign that knows its list (a re-run, a sister campaign) may seed
        # the answer rate with a weight in dials, and the ring and handle times with
        # pseudo-samples that count as that many observations. Without them the priors are
        # weak and cautious.
        if human_ring_prior:
            self.human_ring = Empirical(human_ring_prior, ring_window)
        else:
            self.human_ring = Empirical(_quantiles(_human_ring_prior, 6), ring_window,
                                        inverse=_human_ring_prior, strong=40, fade=240)
        self.other_ring = Empirical(other_ring_prior or _quantiles(_other_ring_prior, 6),
                                    ring_window)
        self.answers = DialOutcomes(answer_prior, answer_window, self.human_ring,
                                    self.other_ring, prior_weight=float(answer_prior_weight))
        self.settle_seconds, self.horizon = 30.0, 25.0
        if human_ring_prior:
            self.horizon = min(60.0, max(float(STEP), self.human_ring.quantile(0.98)))
        if other_ring_prior:
            self.settle_seconds = min(120.0, max(10.0, self.other_ring.quantile(0.995) + 2.0))
        # Until its own calls end, assume long calls: no agent is counted on to free up
        # soon on the strength of the prior alone (the first calls to end are the short ones).
        # Once a window of its own calls has ended, the guesses go.
        self.handle = Empirical(handle_samples or [handle_prior * (1 + q) for q in range(4)],
                                handle_window, keep=None if handle_samples else handle_window)
        self.ring_version = self.handle_version = 0
        self.handle_built, self.ring_built = -math.inf, -math.inf

    def observe_dial(self, at: float, outcome: str, ring_seconds: float) -> None:
        human = outcome == "human"
        self.answers.observe(at - ring_seconds, human, ring_seconds)

    def observe_handle(self, handle_seconds: float) -> None:
        self.handle.add(handle_seconds)

    def observe_placed(self, at: float, count: int) -> None:
        self.answers.placed(at, count)

    def refresh(self, at: float, busy_elapsed=()) -> None:
        self.answers.settle(at, self.settle_seconds)
        if (self.human_ring.stale() or self.other_ring.stale()) and at - self.ring_built >= 30:
            self.ring_built = at
            self.human_ring.rebuild()
            self.other_ring.rebuild()
            self.horizon = min(60.0, max(float(STEP), self.human_ring.quantile(0.98)))
            self.settle_seconds = min(120.0, max(10.0, self.other_ring.quantile(0.995) + 2.0))
            self.ring_version += 1
        handle = self.handle
        young = handle.seen < handle.samples.maxlen  # the calls still running matter most
        if at - self.handle_built >= (10.0 if young else 30.0) and (young or handle.stale()):
            handle.rebuild(busy_elapsed if young else ())
            self.handle_built = at
            self.handle_version += 1

    def answer_prob(self) -> float:
        return self.answers.value

    def answer_cv(self) -> float:
        """Relative uncertainty of the answers to come: the answer rate's own, plus that of
        the ring-time curve they are read off (a few dozen answers learn it only roughly)."""
        shape = 1.0 / (self.human_ring.seen + max(6.0, len(self.human_ring.prior)))
        return math.sqrt(self.answers.cv ** 2 + shape)

    def ring_horizon(self) -> float:
        """Seconds by which nearly every human answer has come."""
        return self.horizon

    def human_cdf(self, t: float) -> float:
        return 1.0 - self.human_ring.survival(t)

    def other_cdf(self, t: float) -> float:
        return 1.0 - self.other_ring.survival(t)

    def handle_survival(self, x: float) -> float:
        return self.handle.survival(x)

    def handle_grid(self) -> list[float]:
        return self.handle.grid

    def human_grid(self) -> list[float]:
        return self.human_ring.grid

    def to_state(self) -> dict:
        return {
            "human_ring": self.human_ring.to_state(),
            # Whether the ring prior is the built-in curve that fades as answers come (not a
            # function's name: the curve is this release's, whatever it is called).
            "human_ring_fades": self.human_ring.inverse is not None,
            "other_ring": self.other_ring.to_state(),
            "handle": self.handle.to_state(),
            "answers": self.answers.to_state(),
            "settle_seconds": self.settle_seconds, "horizon": self.horizon,
            "ring_version": self.ring_version, "handle_version": self.handle_version,
            # Never built is -inf, which JSON has no word for.
            "ring_built": _finite_or_none(self.ring_built),
            "handle_built": _finite_or_none(self.handle_built),
        }

    @classmethod
    def from_state(cls, state: dict) -> LearnedModel:
        model = cls.__new__(cls)
        fades = _human_ring_prior if state["human_ring_fades"] else None
        model.human_ring = Empirical.from_state(state["human_ring"], inverse=fades)
        model.other_ring = Empirical.from_state(state["other_ring"])
        model.handle = Empirical.from_state(state["handle"])
        # The answer counts read their ring curves: the same objects, as when first built.
        model.answers = DialOutcomes.from_state(state["answers"], model.human_ring,
                                                model.other_ring)
        model.settle_seconds, model.horizon = state["settle_seconds"], state["horizon"]
        model.ring_version, model.handle_version = state["ring_version"], state["handle_version"]
        model.ring_built = _none_as_never(state["ring_built"])
        model.handle_built = _none_as_never(state["handle_built"])
        return model


def _finite_or_none(at: float) -> float | None:
    return None if at == -math.inf else at


def _none_as_never(at: float | None) -> float:
    return -math.inf if at is None else at
