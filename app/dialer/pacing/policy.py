"""Pacers decide how many calls a campaign launches now.

Pure: the caller supplies the time and every observation, so the production tick and any
discrete-event simulator drive the same code. The predictive pacer forecasts, over the
ring-time horizon, how many human answers will arrive and how many agents will be free to
take them, and places the most calls they can take at a risk steered to the target.
"""

from __future__ import annotations

import bisect
import math
from collections import deque

from app.dialer.pacing.distributions import _poisson_tail
from app.dialer.pacing.forecast import expected_abandonments
from app.dialer.pacing.model import STEP, LearnedModel

MAX_ABANDON_RATE = 0.03  # FTC TSR: abandoned / answered by a person, per 30 days
GRACE_SECONDS = 2.0  # an answered call not connected within this is abandoned
START_RISK, MIN_RISK, MAX_RISK = 2.0, 0.5, 5.0  # standard deviations of answers beyond agents
RISK_STEP = 0.05  # risk moved by each abandonment (and by 1/goal answers connected)
# Below this many agents the step grows as the team shrinks (x2 at 10 agents, x4 at 5, and
# no more below: no bench runs a team under 5, and at x20 one abandonment would add a whole
# standard deviation): a team's hour holds answers in proportion to its size, and at 5
# agents and 60% the risk, moved 0.001 per answer connected, hardly left its start in an hour
# (it closed 0.09 of the gap from progressive to the oracle; 0.34 at x4, docs/benchmarks.md
# "A faster step at small teams").
STEER_TEAM, STEER_MOST = 20, 4.0
BATCH_TEAM = 4  # the batch a tick may add grows by one call per this many agents
STEER_RATIO = 0.75  # share of the target the short window aims at, with no 30-day account
BUNCH = 1e-3  # chance at the cap below which the last half minute's abandonments are a bunch
# A bunch, the budget not thin, brakes as if this share of the cushion were left: the margin
# every call must keep (the risk) grows by 2 x (1 - BUNCH_ROOM) = 0.8 standard deviations.
BUNCH_ROOM = 0.6
# With the 30-day account: the share of the target the period aims at, how strongly the
# short window makes up the account's gap from it, and the short window's highest goal.
PERIOD_RATIO, PERIOD_GAIN, PERIOD_TOP = 5.0 / 6.0, 1.0, 0.95
OUTCOMES = ("human", "machine", "no-answer", "busy", "failed")


# Why the governor held a tick to progressive or slowed it (Predictive.why; None: it did not).
# Held: "young" (no abandonment yet, and too few person answers in the period for one within
# the target beyond the reserve), "spent" (the budget less the reserve is gone), "ringing"
# (budget left, but the calls in flight are expected to spend it), "bunch" (a bunch of
# abandonments on a budget already thin). Slowed: "small" (none spent, but few answers yet),
# "slowing" (the budget itself nearly spent), "ringing-slowing" (the calls in flight would
# spend much of a budget that has room), "bunch-slowing" (a bunch, the budget not thin).
# The words people read are app.campaigns.steering's HELD_IN_WORDS.
HELD_REASONS = ("young", "spent", "ringing", "bunch", "small", "slowing", "ringing-slowing",
                "bunch-slowing")


def _why_short(room: float, spare: float, cushion: float, lost: float) -> str | None:
    """Why a room under 1 holds or slows the pace: `spare` is the budget less the reserve,
    `cushion` the spare at which the calls in flight aside it would run at full pace, `lost`
    the abandonments already counted in the period."""
    if room >= 1.0:
        return None
    if room > 0:
        if spare >= cushion:
            return "ringing-slowing"
        return "small" if lost <= 0 else "slowing"
    if spare > 0:
        return "ringing"
    return "young" if lost <= 0 else "spent"


class Preview:
    """Agents pick their own calls: the pacer never dials."""

    mode = "preview"

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

    def to_state(self) -> dict:
        """What this pacer has learned and decided so far, as plain JSON types."""
        return {"mode": self.mode, "abandon_target": self.abandon_target}

    @classmethod
    def from_state(cls, state: dict):
        return cls(abandon_target=state["abandon_target"])


class Progressive(Preview):
    """One call per ready agent not already covered by a call dialling: never abandons."""

    mode = "progressive"

    def calls_to_place(self, at, agents_ready, busy_elapsed, calls_dialing, **governor) -> int:
        return max(0, int(agents_ready) - int(calls_dialing))


class Predictive(Progressive):
    """Queueing pacer: the most calls the agents freeing up can take, at a steered risk.

    Over the next ring horizon, at STEP-second edges, it forecasts human answers (from the
    calls in flight, conditioned on how long each has rung, plus n new ones) and agents free
    to take them (ready agents, plus each busy agent's chance of finishing by then given how
    long it has been on its call - the handle time's hazard - plus the 2 s grace), as
    Poisson-binomial counts: mean and variance (widened by the answer rate's own
    uncertainty). It places the most calls for which, at every edge, answers beyond agents
    stay at or under 0 by `risk` standard deviations. Reading each agent, not an average, is
    what a small team turns on. The risk is steered by what happens: every abandonment
    raises it, every answer connected lowers it a little, so the realised rate settles at
    the goal. The goal is the setpoint; given the rolling 30-day account, it is the period
    setpoint plus the gap the account runs from it, so the period spends its budget rather
    than hoarding half of it. The period's abandonment budget is a hard governor: near the
    cap it slows, at the cap (or with no budget left for the calls in flight) it dials
    exactly as progressive does. A wide gap between the calls wanted and those dialling is
    closed over a few ticks, so a jump in the answer rate shows in the first answers before
    the whole batch is out. Expected abandonments (`forecast.expected_abandonments`) price the
    calls in flight for the governor.
    """

    mode = "predictive"

    def __init__(self, abandon_target: float = MAX_ABANDON_RATE, model=None,
                 steer_ratio: float = STEER_RATIO, calibration: float = 2.0, memory: float = 1800.0,
                 reserve: float = 1.0, cushion: float = 3.0, cushion_team: float = 10.0,
                 cushion_floor: float = 0.5,
                 batch_share: float = 0.1,
                 batch_floor: int = 4,
                 risk: float = START_RISK,
                 period_ratio: float = PERIOD_RATIO, **settings) -> None:
        super().__init__(abandon_target)
        self.model = model if model is not None else LearnedModel(**settings)
        self.setpoint = self.abandon_target * steer_ratio
        self.period_setpoint = self.abandon_target * period_ratio
        # The risk taken at every forecast edge: answers beyond agents, mean + risk * sd, at
        # most 0. Lower is hotter; steered so the realised rate meets the goal.
        self.risk = risk
        self.goal, self.held = self.setpoint, False  # as the governor last set them
        # Realised over forecast abandonments, recently. It starts pessimistic (2x): the
        # model is still rough, and early abandonments spend a budget that is still tiny,
        # after which the governor holds the campaign to progressive; a pacer that
        # under-forecasts early loses more agent time to that than it gains. (With the true
        # model it settles near 1 to 2: the forecast prices the bunching itself.)
        self.realised = 5.0 * calibration
        self.expected = 5.0
        self.memory = memory
        # Budget governor: abandonments kept back, and how many more before full pace (a
        # large team at a low answer rate loses several in one unlucky bunch, or to a rise in
        # the answer rate before its first answers show it). The cushion is one abandonment
        # per `cushion_team` agents, at least `cushion_floor` and at most `cushion`: a bunch's
        # size grows with the calls in flight, so with the team. Ramping up over three, a
        # 5-agent team whose hour holds a budget of two or three abandonments never reached
        # full pace (0a93e49 scaled it to the team, from one; teams of 30 and more were
        # unchanged). From one, a 5-agent team reached full pace only at its 67th person
        # answer, 30 minutes into an hour, where the oracle starts at its 34th; so the floor
        # is now a half, and teams of 5 to 9 agents ramp up over 0.5 to 0.9. On 48 seeds of
        # the grid's nine 5-agent scenarios, that took the worst from 0.948 of the oracle to
        # 0.966 and the mean from 0.982 to 0.986, for one more run above 3% (3 of 432, not
        # 2; the oracle had 4 in its 96 runs at 10% and 60 or 180 s alone). A cushion of a
        # quarter at 5 agents put 10 runs of 432 above 3%.
        self.reserve, self.cushion, self.cushion_team = reserve, cushion, cushion_team
        self.cushion_floor = cushion_floor
        self.batch_share, self.batch_floor = batch_share, batch_floor
        self.last_at = None
        self.place_times: list[float] = []  # in-flight calls, grouped by when they were placed
        self.place_counts: dict[float, int] = {}
        self.tracked = 0
        self.waiting: deque[float] = deque()  # answered, not yet connected or abandoned
        self.recent: deque[tuple[float, bool]] = deque()  # last 30 s of human answers
        self.human_answers = self.abandoned = 0
        self.team = None  # agents signed on at the last tick: sizes the risk's step
        self.why = None  # why the last tick's governor held or slowed it: HELD_REASONS
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
        self._steer(not connected)

    def on_agent_free(self, at: float, handle_seconds: float) -> None:
        self.model.observe_handle(handle_seconds)

    # hand-over ----------------------------------------------------------------------
    def to_state(self) -> dict:
        if not isinstance(self.model, LearnedModel):
            raise TypeError("only a pacer with a learned model has a state to hand over")
        return {
            **super().to_state(),
            "model": self.model.to_state(),
            "risk": self.risk,
            "goal": self.goal, "held": self.held,
            "realised": self.realised, "expected": self.expected,
            "last_at": self.last_at,
            "place_times": list(self.place_times),
            "place_counts": [[at, count] for at, count in self.place_counts.items()],
            "tracked": self.tracked,
            "waiting": list(self.waiting),
            "recent": [[at, lost] for at, lost in self.recent],
            "human_answers": self.human_answers, "abandoned": self.abandoned,
            "team": self.team, "why": self.why,
        }

    @classmethod
    def from_state(cls, state: dict) -> Predictive:
        # What it learned and decided comes back; its settings (setpoints, reserve, cushion,
        # batch, memory) are this release's, so a changed default reaches a running campaign.
        # The forecast caches start empty: they are rebuilt, to the same figures, on first use.
        pacer = cls(abandon_target=state["abandon_target"],
                    model=LearnedModel.from_state(state["model"]))
        pacer.risk, pacer.goal, pacer.held = state["risk"], state["goal"], state["held"]
        pacer.realised, pacer.expected = state["realised"], state["expected"]
        pacer.last_at = state["last_at"]
        pacer.place_times = list(state["place_times"])
        pacer.place_counts = {at: count for at, count in state["place_counts"]}
        pacer.tracked = state["tracked"]
        pacer.waiting = deque(state["waiting"])
        pacer.recent = deque((at, lost) for at, lost in state["recent"])
        pacer.human_answers, pacer.abandoned = state["human_answers"], state["abandoned"]
        # An older release's state has neither: the next tick sets both.
        pacer.team, pacer.why = state.get("team"), state.get("why")
        return pacer

    # decision ------------------------------------------------------------------------
    def calls_to_place(self, at, agents_ready, busy_elapsed, calls_dialing,
                       abandon_rate_30d=None, abandoned_30d=None, human_answers_30d=None,
                       inbound_kept=0) -> int:
        """`abandoned_30d` and `human_answers_30d`: the campaign's rolling 30-day account;
        given, it is the governor's budget and the short window aims to bring its rate to
        the period setpoint. `inbound_kept`: agents held back for inbound calls, already
        left out of `agents_ready` (taken, not needed)."""
        floor = max(0, int(agents_ready) - int(calls_dialing))
        team = self.team = int(agents_ready) + len(busy_elapsed)
        self._sync(at, int(calls_dialing))
        if abandon_rate_30d is not None and abandoned_30d is None:
            room = (self.abandon_target - abandon_rate_30d) / (0.25 * self.abandon_target)
            self.why = _why_short(room, room, 1.0, lost=1)  # the rate alone: no count to read
            if room <= 0:
                return self._hold(at, floor, abandoned_30d, human_answers_30d)
        bins = self._forecast(at, int(agents_ready), busy_elapsed)
        pending = self._loss(bins, 0)
        if abandon_rate_30d is None or abandoned_30d is not None:
            answers = self.human_answers if human_answers_30d is None else human_answers_30d
            lost = self.abandoned if abandoned_30d is None else abandoned_30d
            # Abandonments the period can still absorb, less a reserve for calls in flight. A
            # young period has none: its first abandonment before its 34th person answer
            # would put the campaign over 3% were it to stop there (the stricter reading).
            budget = self.abandon_target * answers - lost
            owed = pending * self.calibration()
            cushion = min(self.cushion, max(self.cushion_floor, team / self.cushion_team))
            room = (budget - self.reserve - 2.0 * owed) / (cushion + 4.0 * owed)
            self.why = _why_short(room, budget - self.reserve, cushion, lost)
        self._decay(at)
        while self.recent and at - self.recent[0][0] > 30.0:
            self.recent.popleft()
        lost_now = sum(1 for _, lost in self.recent if lost)
        at_cap = self.abandon_target * len(self.recent)
        if lost_now >= 3 and _poisson_tail(lost_now, at_cap) < BUNCH:
            # Abandonments are bunching beyond chance, even at the cap: the model may be off.
            # (A plain share would brake a large team, whose half minute holds a hundred
            # answers, every time chance brings six.) Until the bunch leaves the half minute:
            # with the budget already thin (room under 1) it holds at progressive, as a rise
            # in the answer rate is the likeliest cause and the next bunch would cross the
            # cap; with room, it brakes as a thin budget does rather than holding, as
            # abandonments cluster and holding cost a 200-agent team on 60 s calls 0.008-0.018
            # of its occupancy to chance bunches (docs/benchmarks.md, "The bunching brake").
            if room > 0:
                self.why = "bunch-slowing" if room >= 1.0 else "bunch"
            room = BUNCH_ROOM if room >= 1.0 else 0.0
        if room <= 0:
            return self._hold(at, floor, abandoned_30d, human_answers_30d)
        # Nearing the cap, every call's allowed risk shrinks with the room left.
        n = max(self._most_calls(bins, self.risk + 2.0 * max(0.0, 1.0 - room)), floor)
        # Close a wide gap over ten ticks or so rather than in one: a batch placed at once
        # would all ring at an answer rate that may just have jumped, before any answer (the
        # first come 5 s after placing) can say so. The gap is widest just after the governor
        # held a team at a low answer rate: closing 0.3 of it a tick, a 50-agent team placed
        # 108 calls in 3 s and lost 42 people, the rate having risen sixfold meanwhile.
        extra, batch = n - floor, self.batch_floor + team // BATCH_TEAM
        if extra > batch:
            n = floor + batch + int(math.ceil(self.batch_share * (extra - batch)))
        self.expected += self._loss(bins, n) - pending
        self._set_goal(room, self._period_goal(abandoned_30d, human_answers_30d))
        return self._placed(at, n)

    def _hold(self, at: float, floor: int, abandoned_30d, human_answers_30d) -> int:
        """Dial exactly as progressive does, the governor holding: answers connected meanwhile
        must not lower the risk, or it would be wound down to overshoot once the budget is back."""
        self._set_goal(0.0, self._period_goal(abandoned_30d, human_answers_30d))
        return self._placed(at, floor)

    def _decay(self, at: float) -> None:
        if self.last_at is not None and at > self.last_at:
            fade = math.exp(-(at - self.last_at) / self.memory)
            self.realised, self.expected = self.realised * fade, self.expected * fade
        self.last_at = at

    def _period_goal(self, abandoned_30d, human_answers_30d) -> float:
        """The short window's goal: the setpoint; with the 30-day account, the period
        setpoint plus the gap the account's rate runs from it (a period run cool, by a team
        whose calls could not spend it, is spent later; one run warm is paid back), within
        half the cap and the cap less a margin."""
        if abandoned_30d is None or human_answers_30d is None or human_answers_30d <= 0:
            return self.setpoint
        gap = self.period_setpoint - abandoned_30d / human_answers_30d
        return min(PERIOD_TOP * self.abandon_target,
                   max(0.5 * self.abandon_target, self.period_setpoint + PERIOD_GAIN * gap))

    def _set_goal(self, room: float, goal: float) -> None:
        """The rate to steer to: `goal`, or short of budget (room under 1) less, down to half
        the cap. Short of budget the pacer is held too, so connected answers leave the risk
        alone and the goal only sizes the step an abandonment adds: the governor's shrinking
        of every call's allowed risk is what lets the budget grow back."""
        self.goal, self.held = goal, room < 1.0
        if self.held:
            self.goal = 0.5 * self.abandon_target + room * (goal - 0.5 * self.abandon_target)

    def _steer(self, lost: bool) -> None:
        """Every person answered moves the risk: up by (1 - goal) steps if abandoned, down by
        goal steps if connected, so it settles where the realised rate meets the goal. An
        abandonment brakes at once; the answers that bring the risk back down are many. The
        step is RISK_STEP from STEER_TEAM agents up, larger below (in proportion to 1/team, at
        most STEER_MOST times), so a small team's risk can settle within its hour."""
        step = RISK_STEP * min(STEER_MOST, max(1.0, STEER_TEAM / self.team)) if self.team \
            else RISK_STEP  # no tick yet (or nobody signed on): the base step
        if lost:
            self.risk = min(MAX_RISK, self.risk + step * (1.0 - self.goal))
        elif not self.held:
            # The governor is holding the pace down, not the risk: lowering the risk now
            # would only wind it up, to overshoot once the budget is back.
            self.risk = max(MIN_RISK, self.risk - step * self.goal)

    def calibration(self) -> float:
        # Never below 1: realised abandonments running under the forecast is read off a
        # handful of events, and believing it makes the pacer dial hotter exactly where a
        # rise in the answer rate costs most (low rates, many calls ringing). Measured over
        # 660 simulated hours of such rises (bench/jumps.py and others), a floor of 1 rather
        # than 0.5 cut the runs over the cap from 34 to 25 for no occupancy on those
        # scenarios, and 0.3-0.9% on steady small teams.
        return min(8.0, max(1.0, self.realised / self.expected))

    def _most_calls(self, bins, risk: float) -> int:
        """Largest n for which, at every edge, answers beyond agents stay at or under 0 by
        `risk` standard deviations (the answer rate's own uncertainty included)."""
        cv2 = self._cv2

        def fits(n: int) -> bool:
            for mu, dmu, var, dvar, demand, _, _ in bins:
                d = demand + n * dmu
                if mu + n * dmu + risk * math.sqrt(max(var + n * dvar + cv2 * d * d, 0.0)) > 0:
                    return False
            return True

        if not fits(1):
            return 0
        lo, hi = 1, 2
        while fits(hi):
            lo, hi = hi, hi * 2
            if hi > 100000:
                return lo
        while hi - lo > 1:
            mid = (lo + hi) // 2
            lo, hi = (mid, hi) if fits(mid) else (lo, mid)
        return lo

    def _loss(self, bins, n: float) -> float:
        """Expected abandonments over the horizon with n more calls placed now."""
        return expected_abandonments(bins, n, self._cv2)

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
