"""A pacer driven as a campaign is: told its rolling 30-day account at every tick."""

from __future__ import annotations

DAY = 86400.0
PERIOD = 30 * DAY


class Campaign:
    """Wraps a pacer for `bench.sim.simulate`. The simulator's clock restarts every shift, so
    times are moved to the calendar by `offset`; the person answers and abandonments seen are
    kept, and with `account` the rolling 30-day counts (plus `earlier`, the (person answers,
    abandoned) of days before the first simulated one) are passed on as the production tick
    passes them."""

    def __init__(self, pacer, account: bool = True, earlier: tuple[int, int] = (0, 0)) -> None:
        self.pacer, self.account = pacer, account
        self.earlier = earlier
        self.offset = 0.0
        self.answers: list[float] = []
        self.lost: list[float] = []
        self.first = [0, 0]  # index of the oldest answer, abandonment within 30 days

    def on_dial_result(self, at, outcome, ring_seconds):
        self.pacer.on_dial_result(at + self.offset, outcome, ring_seconds)

    def on_human_answer(self, at, connected, wait_seconds):
        self.answers.append(at + self.offset)
        if not connected:
            self.lost.append(at + self.offset)
        self.pacer.on_human_answer(at + self.offset, connected, wait_seconds)

    def on_agent_free(self, at, handle_seconds):
        self.pacer.on_agent_free(at + self.offset, handle_seconds)

    def calls_to_place(self, at, agents_ready, busy_elapsed, calls_dialing):
        at += self.offset
        extra = {}
        if self.account:
            for i, times in enumerate((self.answers, self.lost)):
                while self.first[i] < len(times) and times[self.first[i]] <= at - PERIOD:
                    self.first[i] += 1
            answers, lost = self.earlier
            extra = {"abandoned_30d": lost + len(self.lost) - self.first[1],
                     "human_answers_30d": answers + len(self.answers) - self.first[0]}
        return self.pacer.calls_to_place(at, agents_ready, busy_elapsed, calls_dialing, **extra)
