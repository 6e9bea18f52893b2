"""Heap-driven simulation of one shift: dials, answers, the 2 s grace, agents, wrap-up.

The pacer is asked every simulated second (as the production tick does) with the ready
agents, each busy agent's seconds since connect, and the calls still dialling. A person who
answers takes a ready agent at once; otherwise waits up to 2 s for an agent freeing up
(first come, first served) and is abandoned after that.
"""

from __future__ import annotations

import bisect
import heapq
import random
from dataclasses import dataclass

from bench.sim.scenario import Scenario, sample_dial, sample_handle

GRACE = 2.0
RESULT, FREE, GIVE_UP = 0, 1, 2


@dataclass
class RunResult:
    agents: int
    seconds: float
    busy_seconds: float
    talk_seconds: float
    dials: int
    human_answers: int
    abandoned: int
    answer_times: list
    abandon_times: list
    dialing_seconds: float = 0.0  # calls dialling, integrated over the run (per tick)

    @property
    def dial_level(self) -> float:
        """Calls dialling (placed, no result yet) per agent, averaged over the run."""
        return self.dialing_seconds / (self.agents * self.seconds)

    @property
    def occupancy(self) -> float:
        return self.busy_seconds / (self.agents * self.seconds)

    @property
    def talk_minutes_per_agent_hour(self) -> float:
        return self.talk_seconds / 60 / (self.agents * self.seconds / 3600)

    @property
    def abandon_rate(self) -> float:
        return self.abandoned / self.human_answers if self.human_answers else 0.0

    def worst_window_rate(self, window: float = 3600.0, filling: bool = False) -> float:
        """Worst abandonment rate over any `window` s stretch (ending at an abandonment).
        With `filling`, a stretch that began before the run did counts as it stands (the
        law's period of a campaign younger than it: the stricter reading); without, the
        first full window stands for those."""
        worst = 0.0
        answers, lost = self.answer_times, self.abandon_times
        for i, end in enumerate(lost):
            if not filling:
                end = min(self.seconds, max(end, window))
            a = bisect.bisect_right(answers, end) - bisect.bisect_right(answers, end - window)
            b = bisect.bisect_right(lost, end) - bisect.bisect_right(lost, end - window)
            if a:
                worst = max(worst, b / a)
        return worst


def simulate(scenario: Scenario, pacer, seed: int, hours: float, *, dial_sampler=None,
             handle_sampler=None) -> RunResult:
    """`dial_sampler(rng, rate)` -> (outcome, seconds to the result) and
    `handle_sampler(rng, scenario)` -> (handle, talk) replace the scenario's own draws (a
    scenario defined by another model's distributions, the live simulator's, say)."""
    draw_dial = dial_sampler or sample_dial
    draw_handle = handle_sampler or sample_handle
    # Common random numbers: the n-th call dialled and the n-th call connected draw the same
    # outcome and handle time under every policy, so policies compared on one seed differ
    # by their decisions, not by which calls the dice gave them.
    dial_rng = random.Random(f"{seed}/dial")
    handle_rng = random.Random(f"{seed}/handle")
    duration = hours * 3600.0
    events: list = []
    seq = 0
    ready, dialing = scenario.agents, 0
    connected_at: dict[int, float] = {}  # agent -> connect time
    waiting: dict[int, float] = {}  # call -> answer time, oldest first
    busy = talk = 0.0
    dials = answers = lost = 0
    answer_times: list[float] = []
    abandon_times: list[float] = []
    next_agent = 0
    dialing_seconds = 0.0

    def connect(now: float, answered: float, agent: int) -> None:
        nonlocal seq, busy, talk
        connected_at[agent] = now
        handle, talk_part = draw_handle(handle_rng, scenario)
        busy += min(now + handle, duration) - now
        talk += min(now + talk_part, duration) - now
        seq += 1
        heapq.heappush(events, (now + handle, seq, FREE, (agent, handle)))
        pacer.on_human_answer(now, True, now - answered)

    tick = 0.0
    while tick < duration:
        while events and events[0][0] <= tick:
            now, _, kind, data = heapq.heappop(events)
            if kind == RESULT:
                outcome, ring, call = data
                dialing -= 1
                pacer.on_dial_result(now, outcome, ring)
                if outcome != "human":
                    continue
                answers += 1
                answer_times.append(now)
                if ready:
                    ready -= 1
                    next_agent += 1
                    connect(now, now, next_agent)
                else:
                    waiting[call] = now
                    seq += 1
                    heapq.heappush(events, (now + GRACE, seq, GIVE_UP, call))
            elif kind == FREE:
                agent, handle = data
                del connected_at[agent]
                pacer.on_agent_free(now, handle)
                if waiting:
                    call = next(iter(waiting))
                    connect(now, waiting.pop(call), agent)
                else:
                    ready += 1
            elif data in waiting:
                del waiting[data]
                lost += 1
                abandon_times.append(now)
                pacer.on_human_answer(now, False, GRACE)
        elapsed = [tick - c for c in connected_at.values()]
        n = pacer.calls_to_place(tick, ready, elapsed, dialing)
        rate = scenario.rate_at(tick, duration)
        for _ in range(n):
            outcome, ring = draw_dial(dial_rng, rate)
            seq += 1
            heapq.heappush(events, (tick + ring, seq, RESULT, (outcome, ring, seq)))
        dialing += n
        dials += n
        dialing_seconds += dialing
        tick += 1.0
    return RunResult(scenario.agents, duration, busy, talk, dials, answers, lost,
                     answer_times, abandon_times, dialing_seconds)
