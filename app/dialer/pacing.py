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

    def __init__(self, prior: list[float], window: int, inverse=None, strong: int = 0,
                 fade: int = 1) -> None:
        self.prior = list(prior)
        # Optionally a heavier prior (`strong` quantile points of `inverse`) that fades out
        # linearly over the first `fade` samples: a few dozen answers give a ragged curve,
        # and reading a whole burst of calls in flight off it misjudges their answers.
        self.inverse, self.strong, self.fade = inverse, strong, max(1, fade)
        self.samples: deque[float] = deque(maxlen=window)
        self.fresh = self.seen = 0
        self.rebuild()

    def _prior(self) -> list[float]:
        if self.inverse is None:
            return self.prior
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


def _quantiles(inverse, count: int) -> list[float]:
    return [inverse((i + 0.5) / count) for i in range(count)]


class DialOutcomes:
    """Human answers per dial and ring times, counted by the second each call was placed.

    Results come back at delays that depend on the outcome (busy in 2 s, ring-out at 25 s),
    so the latest results over-represent the quick kinds and the quick answers; a second's
    results are learned from only once all its calls have had time to end. A recent stretch
    that differs beyond sampling noise from the long window wins, so a mid-shift change in
    who answers is picked up in minutes.
    """

    def __init__(self, prior: float, window: int, human_ring: Empirical,
                 other_ring: Empirical, prior_weight: float = 4.0) -> None:
        self.open: dict[int, list] = {}  # placed second -> [human answers, dials, rings...]
        self.human_ring, self.other_ring = human_ring, other_ring
        self.closed: deque[tuple[int, int, int]] = deque()
        self.humans = self.dials = 0
        self.prior, self.prior_weight, self.window = prior, prior_weight, window
        self.recent, self.max_age = 120, 1200.0  # dials to test for a shift; seconds kept
        # How unlikely (-log p) the answers of the calls still ringing must be at the known
        # rate to count as a jump: tested over every run of newest calls, so it must be
        # well past a single test's 3.5 sigma, or a steady rate flags a jump every minute.
        self.jump_surprise = -math.log(1e-4)
        # Settled calls are tested over up to a whole window of splits at every close, and
        # the calls ringing have already caught a real jump, so they need more still.
        self.settled_surprise = -math.log(1e-7)
        self.value, self.cv = prior, math.sqrt(prior * (1 - prior) / (prior_weight + 1)) / prior
        self.suspect = None  # (first, last) placed second of calls that showed a jump
        self.confirm_surprise = -math.log(1e-3)
        self.base, self.base_cv = self.value, self.cv

    def placed(self, at: float, count: int) -> None:
        self.open.setdefault(int(at), [0, 0, [], [], 0])[4] += count

    def observe(self, placed_at: float, human: bool, ring_seconds: float) -> None:
        cell = self.open.setdefault(int(placed_at), [0, 0, [], [], 0])
        cell[0] += human
        cell[1] += 1
        cell[2 if human else 3].append(ring_seconds)

    def settle(self, at: float, settle_seconds: float) -> None:
        done = sorted(k for k in self.open if k < at - settle_seconds)
        if done:
            self._close(at, done)
        self.value, self.cv = self.base, self.base_cv
        # Calls still ringing: answers so far against the answers due so far at that rate.
        # Only a rise is taken from them (it is the costly surprise, and a ring-time model
        # still being learned can fake a fall).
        # Counted as Poisson against the answers due, so that a jump (10% to 60%, say) shows
        # after a handful of answers rather than after fifteen calls' worth of exposure: a
        # false alarm only slows dialling for a moment, a late one abandons a bunch. The
        # test runs over the newest calls first and then ever older ones, so the calls
        # placed since a jump are not drowned by the many placed before it, and the rate
        # taken is theirs (the older calls would water it down).
        grid, humans, exposure = self.human_ring.grid, 0, 0.0
        p, best = self.base, 0.0
        for key in sorted(self.open, reverse=True):
            cell = self.open[key]
            age = int(at - key)
            humans += cell[0]
            exposure += max(cell[1], cell[4]) * (1.0 - grid[age] if age < len(grid) else 1.0)
            if humans < 3 or exposure < 3.0:
                continue
            due = p * exposure
            z = -math.log(max(_poisson_tail(humans, due), 1e-300))
            if best and z <= self.jump_surprise:
                break  # the newest jump, not an older stretch
            if z > self.jump_surprise and z > best:
                best, q, since = z, humans / exposure, key
                self.value = min(0.98, max(0.01, q))
                self.cv = math.sqrt(max(q * (1.0 - q), 0.01) / max(exposure, 1.0)) / max(q, 1e-3)
        if best:
            # Where the jump began, to be confirmed as its calls settle: one test at a
            # split chosen beforehand, so it needs far less surprise than a search.
            newest = max(self.open)
            if self.suspect is None or self.suspect[1] < since:
                self.suspect = (since, newest)
            else:
                self.suspect = (min(self.suspect[0], since), newest)

    def _confirm(self, found):
        """The settled calls since a suspected jump, if they bear it out, else None (and
        once they all have settled without doing so, the suspicion is dropped)."""
        since, until = self.suspect
        h = d = 0
        for humans, dials, key in reversed(self.closed):
            if key < since:
                break
            h, d = h + humans, d + dials
        old_h, old_d = self.humans - h, self.dials - d
        if found is not None and found[1] - d >= self.recent // 2:
            # Against the rate since the change the scan found, not a mix with before it.
            old_h, old_d = found[0] - h, found[1] - d
        if d and old_d >= self.recent // 2:
            q0 = old_h / old_d
            z = -math.log(max(_poisson_tail(h, q0 * d), 1e-300))
            if h >= 3 and z > self.confirm_surprise:
                if found is not None and found[1] < d:
                    return None  # a newer change found in the scan
                return h, d
        if not any(key <= until for key in self.open):
            self.suspect = None
        return None

    def _close(self, at: float, done: list[int]) -> None:
        for key in done:
            humans, dials, human_rings, other_rings, _ = self.open.pop(key)
            for ring in human_rings:
                self.human_ring.add(ring)
            for ring in other_rings:
                self.other_ring.add(ring)
            self.closed.append((humans, dials, key))
            self.humans += humans
            self.dials += dials
        while self.closed and (self.dials - self.closed[0][1] >= self.window or (
                at - self.closed[0][2] > self.max_age and self.dials - self.closed[0][1] >= 100)):
            humans, dials, _ = self.closed.popleft()
            self.humans -= humans
            self.dials -= dials
        weight = self.dials + self.prior_weight
        p = (self.humans + self.prior_weight * self.prior) / weight
        self.cv = math.sqrt(p * (1.0 - p) / (weight + 1.0)) / max(p, 1e-3)
        # A change in who answers: the newest settled calls against the older ones in the
        # window, split at every point from the newest back. The newest stretch of
        # significant splits wins, and in it the most significant split (so the rate after
        # a change is read off every call since it, not a noisy last handful, and an older
        # change deeper in the window does not outvote a fresh one). A rise counts from a few
        # answers (it is the costly surprise); a fall once `recent` dials are in.
        recent_h = recent_d = 0
        found, best, rising = None, 0.0, None
        for humans, dials, _ in reversed(self.closed):
            recent_h += humans
            recent_d += dials
            old_d = self.dials - recent_d
            if old_d < self.recent // 2:
                break
            q, q0 = recent_h / max(recent_d, 1), (self.humans - recent_h) / old_d
            z, up = 0.0, q > q0
            if up and recent_h >= 3:
                # As Poisson against the answers the older calls' rate says were due: a
                # handful of answers in a few dials is not yet a jump.
                z = -math.log(max(_poisson_tail(recent_h, q0 * recent_d), 1e-300))
                z = z if z > self.settled_surprise else 0.0
            elif not up and recent_d >= self.recent:
                z = (q0 - q) / math.sqrt(max(p * (1.0 - p), 0.01) *
                                         (1.0 / recent_d + 1.0 / old_d))
                z = z if z > 4.0 else 0.0
            if found is not None and (up != rising or z == 0.0):
                break
            if z > best:
                found, best, rising = (recent_h, recent_d), z, up
        if self.suspect is not None:
            found = self._confirm(found) or found
        if found is not None:
            p = found[0] / found[1]
            self.cv = math.sqrt(max(p * (1.0 - p), 0.01) / (found[1] + 1.0)) / max(p, 1e-3)
        self.base, self.base_cv = min(0.98, max(0.01, p)), self.cv


# Before any ring is seen (module-level, so a pacer can be pickled and handed to another process).
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
        self.handle = Empirical(handle_samples or [handle_prior * (1 + q) for q in range(4)],
                                handle_window)
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


class Predictive(Progressive):
    """Queueing pacer: the most calls whose added abandonment is worth the agent time.

    Over the next ring horizon, at STEP-second edges, it forecasts human answers (from the
    calls in flight, conditioned on how long each has rung, plus n new ones) and agents free
    to take them (ready agents, plus each busy agent's chance of finishing by then given how
    long it has been on its call, plus the 2 s grace), as Poisson-binomial counts: mean,
    variance (widened by the answer rate's own uncertainty) and skew. Expected abandonments
    are the expected running maximum of answers beyond agents, folded edge by edge (Clark's
    method) with an Edgeworth term for the skew. It places calls while the last one adds no
    more than a price in abandonments per answer; the price is steered so the forecast rate,
    corrected by realised/forecast abandonments over the last half hour, meets the setpoint.
    The period's abandonment budget is a hard governor: near the cap it slows, at the cap
    (or with no budget left for the calls in flight) it dials exactly as progressive does.
    A wide gap between the calls wanted and those dialling is closed over a few ticks, so a
    jump in the answer rate shows in the first answers before the whole batch is out.
    """

    def __init__(self, abandon_target: float = MAX_ABANDON_RATE, model=None,
                 steer_ratio: float = 0.75, calibration: float = 2.0, memory: float = 1800.0,
                 reserve: float = 1.0, cushion: float = 3.0, batch_share: float = 0.3,
                 batch_floor: int = 4, **settings) -> None:
        super().__init__(abandon_target)
        self.model = model if model is not None else LearnedModel(**settings)
        self.setpoint = self.abandon_target * steer_ratio
        self.log_price = math.log(self.setpoint)  # abandonments per answer the last call may add
        self.forecast_loss = self.forecast_answers = 0.0  # recent, from the model
        # Realised over forecast abandonments, recently. It starts pessimistic (2x): the
        # model is still rough, and early abandonments spend a budget that is still tiny,
        # after which the governor holds the campaign to progressive; a pacer that
        # under-forecasts early loses more agent time to that than it gains. (With the true
        # model it settles near 1 to 2: the forecast prices the bunching itself.)
        self.realised = 5.0 * calibration
        self.expected = 5.0
        self.memory = memory
        # Budget governor: abandonments kept back, and how many more before full pace (a
        # small team at a low answer rate loses several in one unlucky bunch).
        self.reserve, self.cushion = reserve, cushion
        self.batch_share, self.batch_floor = batch_share, batch_floor
        self.last_at = None
        self.place_times: list[float] = []  # in-flight calls, grouped by when they were placed
        self.place_counts: dict[float, int] = {}
        self.tracked = 0
        self.waiting: deque[float] = deque()  # answered, not yet connected or abandoned
        self.recent: deque[tuple[float, bool]] = deque()  # last 30 s of human answers
        self.human_answers = self.abandoned = 0
        self._agent_rows: dict[int, list[float]] = {}
        self._call_rows: dict[int, tuple] = {}
        self._row_keys = (None, None)

    # observations -------------------------------------------------------------------
    def on_dial_result(self, at: float, outcome: str, ring_seconds: float) -> None:
        self.model.observe_dial(at, outcome, ring_seconds)
        self._forget_call(at - ring_seconds)
        if outcome == "human":
            self.waiting.append(at)

    def on_human_answer(self, at: float, connected: bool, wait_seconds: float) -> None:
        if self.waiting:
            self.waiting.popleft()
        self.human_answers += 1
        self.recent.append((at, not connected))
        if not connected:
            self.abandoned += 1
            self.realised += 1.0
            # A run of abandonments brakes at once, before the slower loops catch up.
            self.log_price = max(math.log(0.05 * self.setpoint), self.log_price - 0.05)

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
        pending = self._loss(bins, 0)
        if abandon_rate_30d is None or abandoned_30d is not None:
            answers = self.human_answers if human_answers_30d is None else human_answers_30d
            lost = self.abandoned if abandoned_30d is None else abandoned_30d
            # Abandonments the period can still absorb, less a reserve for calls in flight.
            budget = self.abandon_target * answers - lost
            owed = pending * self.calibration()
            room = (budget - self.reserve - 2.0 * owed) / (self.cushion + 4.0 * owed)
        self._decay(at)
        while self.recent and at - self.recent[0][0] > 30.0:
            self.recent.popleft()
        lost_now = sum(1 for _, lost in self.recent if lost)
        if lost_now >= 3 and lost_now > 2.0 * self.abandon_target * len(self.recent):
            room = 0.0  # abandonments are bunching: the model is off, stop over-dialling now
        if room <= 0:
            return self._placed(at, floor)
        # Nearing the cap, every call's allowed risk shrinks with the room left.
        n = max(self._most_calls(bins, math.exp(self.log_price) * min(1.0, room)), floor)
        # Close a wide gap over a few ticks rather than in one: a batch placed at once would
        # all ring at an answer rate that may just have jumped, before any answer can say so.
        extra = n - floor
        if extra > self.batch_floor:
            n = floor + self.batch_floor + int(math.ceil(self.batch_share * (extra - self.batch_floor)))
        added = self._loss(bins, n) - pending
        self._steer(added, n * self._per_call, room)
        return self._placed(at, n)

    def _decay(self, at: float) -> None:
        if self.last_at is not None and at > self.last_at:
            fade = math.exp(-(at - self.last_at) / self.memory)
            self.realised, self.expected = self.realised * fade, self.expected * fade
            fade = math.exp(-(at - self.last_at) / 300.0)
            self.forecast_loss *= fade
            self.forecast_answers *= fade
        self.last_at = at

    def _steer(self, added_loss: float, added_answers: float, room: float) -> None:
        """Move the price of the last call so the forecast rate, scaled by how far realised
        abandonments have run from forecasts, meets the setpoint; short of budget, half the
        cap, so the budget grows back."""
        self.expected += added_loss
        self.forecast_loss += added_loss
        self.forecast_answers += added_answers
        goal = self.setpoint
        if room < 1.0:
            goal = 0.5 * self.abandon_target + room * (goal - 0.5 * self.abandon_target)
        if self.forecast_answers > 1.0:
            rate = self.calibration() * self.forecast_loss / self.forecast_answers
            step = max(-0.5, min(0.5, (goal - rate) / goal))
            if room < 1.0:
                # The governor is holding the pace down, not the price: raising the price
                # now would only wind it up, to overshoot once the budget is back.
                step = min(step, 0.0)
            self.log_price = min(math.log(50 * self.setpoint),
                                 max(math.log(0.05 * self.setpoint), self.log_price + 0.02 * step))

    def calibration(self) -> float:
        # Never below 1: realised abandonments running under the forecast is read off a
        # handful of events, and believing it makes the pacer dial hotter exactly where a
        # rise in the answer rate costs most (low rates, many calls ringing). Measured over
        # 660 simulated hours of such rises (bench/jumps.py and others), a floor of 1 rather
        # than 0.5 cut the runs over the cap from 34 to 25 for no occupancy on those
        # scenarios, and 0.3-0.9% on steady small teams.
        return min(8.0, max(1.0, self.realised / self.expected))

    def _most_calls(self, bins, limit: float) -> int:
        """Largest n whose last call adds at most `limit` abandonments per answer it adds:
        its own risk plus the agent it may take from a call answered after it."""
        budget = limit * self._per_call
        if budget <= 0 or self._added_loss(bins, 1) > budget:
            return 0
        lo, hi = 1, 2
        while self._added_loss(bins, hi) <= budget:
            lo, hi = hi, hi * 2
            if hi > 100000:
                return lo
        while hi - lo > 1:
            mid = (lo + hi) // 2
            if self._added_loss(bins, mid) <= budget:
                lo = mid
            else:
                hi = mid
        return lo

    def _added_loss(self, bins, n: int) -> float:
        """Abandonments the n-th new call adds."""
        return self._loss(bins, n) - self._loss(bins, n - 1)

    def _loss(self, bins, n: float) -> float:
        """Expected abandonments over the horizon with n more calls placed now.

        Abandonments by the horizon are the highest (answers by t) - (agents free by
        t + 2 s) reaches over its edges t, beyond where it stands now: answered calls
        beyond the agents are lost once, not again at every later answer. The expected
        maximum of that random path is folded bin by bin (Clark's method: the maximum so
        far and the next edge as correlated normals; the edges share their earlier
        answers and agents, and all share the answer rate's own uncertainty). Taking the
        maximum of the expected path instead misses most of the risk when answers and free
        agents run level: each path peaks at a different edge. The last step adds an
        Edgeworth term for skew: answers are a sum of rare events, so their upper tail
        (the bunch that abandons) is longer than a normal's.
        """
        cv2 = self._cv2
        first = True
        for mu, dmu, var, dvar, demand, k3, dk3 in bins:
            d = demand + n * dmu
            m = mu + n * dmu
            v = var + n * dvar
            total = v + cv2 * d * d
            lean = k3 + n * dk3 + 2.0 * cv2 * cv2 * d * d * d
            if first:
                first = False
                now = m
                top, spread, shared, level, skew = m, total, v, d, lean
                continue
            cov = shared + cv2 * d * level
            theta2 = spread + total - 2.0 * cov
            if theta2 <= 1e-9:
                if m > top:
                    top, spread, shared, level, skew = m, total, v, d, lean
                continue
            theta = math.sqrt(theta2)
            alpha = (m - top) / theta
            pa = _normal_cdf(alpha)
            da = 0.3989422804014327 * math.exp(-0.5 * alpha * alpha)
            mean = m * pa + top * (1.0 - pa) + theta * da
            second = ((m * m + total) * pa + (top * top + spread) * (1.0 - pa)
                      + (m + top) * theta * da)
            top, spread = mean, max(second - mean * mean, 1e-9)
            shared = v * pa + shared * (1.0 - pa)
            level = d * pa + level * (1.0 - pa)
            skew = lean * pa + skew * (1.0 - pa)
        sigma = math.sqrt(spread)
        z = top / sigma
        density = 0.3989422804014327 * math.exp(-0.5 * z * z)
        excess = sigma * density + top * _normal_cdf(z) - skew / (6.0 * spread) * z * density
        return max(excess, top, 0.0) - max(now, 0.0)

    def _forecast(self, at: float, ready: int, busy_elapsed) -> list[tuple]:
        """Per STEP-second edge t: (answers by t) - (agents free by t + 2 s), mean, variance
        and third cumulant, with how each n adds to them."""
        model = self.model
        model.refresh(at, busy_elapsed)
        p = model.answer_prob()
        self._cv2 = model.answer_cv() ** 2
        horizon = int(math.ceil(model.ring_horizon() / STEP))
        keys = (model.ring_version, horizon), (model.handle_version, horizon)
        if keys[0] != self._row_keys[0]:
            self._call_rows = {}
        if keys[1] != self._row_keys[1]:
            self._agent_rows = {}
        self._row_keys = keys
        # A call that has rung `age` s without a result answers with its odds rescaled.
        first = [0.0] * (horizon + 1)
        second = [0.0] * (horizon + 1)
        third = [0.0] * (horizon + 1)
        for placed in self.place_times:
            h0, o0, row = self._call_row(max(0, int(at - placed)), horizon)
            alive = p * (1.0 - h0) + (1.0 - p) * (1.0 - o0)
            if alive <= 1e-6 or h0 >= 1.0:
                continue
            scale = min(p / alive, 1.0 / (1.0 - h0))
            w = self.place_counts[placed] * scale
            first = [a + w * v for a, v in zip(first, row)]
            w *= scale
            second = [a + w * v * v for a, v in zip(second, row)]
            w *= scale
            third = [a + w * v * v * v for a, v in zip(third, row)]
        points = horizon // 2 + 2
        sums = [0.0] * (3 * points)
        if busy_elapsed:
            rows = self._agent_rows
            keyed = [rows.get(int(e)) or self._agent_row(max(0, int(e)), points)
                     for e in busy_elapsed]
            sums = [sum(col) for col in zip(*keyed)]
        fresh = self._call_row(0, horizon)[2]
        base = len(self.waiting) - ready
        bins = []
        for j in range(horizon + 1):
            k, odd = divmod(j, 2)
            free, spread, lean = sums[k], sums[points + k], sums[2 * points + k]
            if odd:
                free = (free + sums[k + 1]) / 2
                spread = (spread + sums[points + k + 1]) / 2
                lean = (lean + sums[2 * points + k + 1]) / 2
            fm, demand = p * fresh[j], first[j]
            # Third cumulants: of the answers (Bernoulli sums), less that of agents freeing.
            k3 = demand - 3.0 * second[j] + 2.0 * third[j] - lean
            bins.append((base + demand - free, fm, demand - second[j] + spread + 0.05,
                         fm * (1.0 - fm), demand, k3, fm * (1.0 - fm) * (1.0 - 2.0 * fm)))
        self._per_call = p * fresh[horizon]
        return bins

    def _call_row(self, age: int, horizon: int) -> tuple[float, float, list[float]]:
        """Human-answer CDF at `age`, other-result CDF, then the share of human answers
        still to come by each edge, not yet scaled by the answer rate."""
        cached = self._call_rows.get(age)
        if cached is None:
            model, grid = self.model, self.model.human_grid()
            reach = [age + STEP * j for j in range(horizon + 1)]
            if reach[-1] < len(grid):
                cdf = [1.0 - grid[x] for x in reach]
            else:
                cdf = [model.human_cdf(x) for x in reach]
            h0 = cdf[0]
            cached = (h0, model.other_cdf(age), [c - h0 for c in cdf])
            self._call_rows[age] = cached
        return cached

    def _agent_row(self, elapsed: int, points: int) -> list[float]:
        """For an agent `elapsed` s into a call: chance of being free (then its variance and
        third cumulant) by every other edge + 2 s; the sum over agents is smooth, so odd
        edges interpolate."""
        grid = self.model.handle_grid()
        reach = [elapsed + 2 * STEP * k + int(GRACE_SECONDS) for k in range(points)]
        if reach[-1] < len(grid):
            alive, later = grid[elapsed], [grid[x] for x in reach]
        else:
            survival = self.model.handle_survival
            alive, later = survival(elapsed), [survival(x) for x in reach]
        qs = [1.0 - s / alive for s in later] if alive > 1e-12 else [1.0] * points
        row = qs + [q * (1.0 - q) for q in qs] + [q * (1.0 - q) * (1.0 - 2.0 * q) for q in qs]
        self._agent_rows[elapsed] = row
        return row

    # in-flight bookkeeping ------------------------------------------------------------
    def _placed(self, at: float, n: int) -> int:
        if n > 0:
            self.model.observe_placed(at, n)
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
