"""Who answers: the answer rate per dial, learned from settled calls and from calls still
ringing, with a mid-shift change in who answers picked up in minutes."""

from __future__ import annotations

import math
from collections import deque

from app.dialer.pacing.distributions import Empirical, _poisson_tail


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

    def to_state(self) -> dict:
        """What was counted, by placed second; the ring curves belong to the model."""
        return {"prior": self.prior, "prior_weight": self.prior_weight, "window": self.window,
                "open": [[key, *cell] for key, cell in self.open.items()],
                "closed": [list(row) for row in self.closed],
                "humans": self.humans, "dials": self.dials, "value": self.value, "cv": self.cv,
                "base": self.base, "base_cv": self.base_cv,
                "suspect": None if self.suspect is None else list(self.suspect)}

    @classmethod
    def from_state(cls, state: dict, human_ring: Empirical, other_ring: Empirical) -> DialOutcomes:
        # Through __init__, so the thresholds are this release's, not the one that saved it.
        outcomes = cls(state["prior"], state["window"], human_ring, other_ring,
                       prior_weight=state["prior_weight"])
        outcomes.open = {key: [humans, dials, list(human_rings), list(other_rings), placed]
                         for key, humans, dials, human_rings, other_rings, placed in state["open"]}
        outcomes.closed = deque(tuple(row) for row in state["closed"])
        outcomes.humans, outcomes.dials = state["humans"], state["dials"]
        outcomes.value, outcomes.cv = state["value"], state["cv"]
        outcomes.base, outcomes.base_cv = state["base"], state["base_cv"]
        suspect = state["suspect"]
        outcomes.suspect = None if suspect is None else tuple(suspect)
        return outcomes
