"""The 30-day budget: the law counts abandonment per 30 days, and so does the governor."""

import pytest

from app.dialer.pacing import MAX_ABANDON_RATE, make_pacer
from bench.pacing_30day import run_campaign
from tests.dialer.pacers import warmed


STATE = (700.0, 10, [95.0] * 30, 3)


def test_an_account_run_cool_aims_the_short_window_higher_and_one_run_warm_lower():
    # The same stretch of answers, one in 40 abandoned (2.5%), under three accounts: a
    # period run cool is made up, one run warm paid back, one on the setpoint held there.
    pacers = {}
    for name, lost in (("cool", 40), ("even", 100), ("warm", 112)):
        pacer = pacers[name] = warmed()
        for tick in range(400):
            pacer.calls_to_place(700.0 + tick, *STATE[1:], abandoned_30d=lost,
                                 human_answers_30d=4000)
            pacer.on_human_answer(700.0 + tick, tick % 40 != 39, 0.0)
    cool, even, warm = pacers["cool"], pacers["even"], pacers["warm"]
    assert even.goal == pytest.approx(even.period_setpoint) == MAX_ABANDON_RATE * 5 / 6
    assert warm.goal < even.goal < cool.goal < MAX_ABANDON_RATE
    # 2 agents ready, 3 calls ringing, 20 agents 80 s into 100 s calls.
    placed = {name: pacer.calls_to_place(1100.0, 2, [80.0] * 20, 3, abandoned_30d=100,
                                         human_answers_30d=4000)
              for name, pacer in pacers.items()}
    assert placed["cool"] > placed["warm"]
    assert placed["cool"] >= placed["even"] >= placed["warm"]


def test_with_no_account_the_pacers_own_count_is_the_period_and_the_setpoint_the_goal():
    # A caller that passes no account (or an explicit None) gets the period it always had: the
    # answers since the pacer started, and the 2.25% setpoint as the short window's goal.
    def after(answers, lost):
        pacer = warmed()
        for i in range(answers):
            pacer.on_human_answer(600.0 + i / 10, i >= lost, 0.0)
        return pacer
    room, spent = after(200, 0), after(200, 6)  # 0% and 3.0% of its own answers
    assert room.calls_to_place(*STATE) > 7
    assert spent.calls_to_place(*STATE) == 7
    assert spent.calls_to_place(*STATE, abandoned_30d=None, human_answers_30d=None,
                                inbound_kept=2) == 7
    told_none = after(200, 0)
    for tick in range(300):  # the arguments left out, or given as None: the same decisions
        at = 701.0 + tick
        assert room.calls_to_place(at, *STATE[1:]) == told_none.calls_to_place(
            at, *STATE[1:], abandoned_30d=None, human_answers_30d=None, inbound_kept=2)
        room.on_human_answer(at, True, 0.0)
        told_none.on_human_answer(at, True, 0.0)
    assert room.goal == room.setpoint == MAX_ABANDON_RATE * 0.75


def test_a_young_campaign_dials_as_progressive_until_its_answers_allow_an_abandonment():
    # Under 34 person answers a single abandonment is over 3% of them: were the campaign to
    # stop there, its period would be over the cap. So no call beyond progressive, whether
    # it has abandoned one already (33%, 10%, 3.03%) or none yet.
    for lost, answers in ((1, 3), (1, 10), (1, 33), (0, 0), (0, 20), (0, 33)):
        rate = lost / answers if answers else None
        assert warmed().calls_to_place(*STATE, abandon_rate_30d=rate, abandoned_30d=lost,
                                       human_answers_30d=answers) == 7, (lost, answers)
    assert warmed().calls_to_place(*STATE, abandoned_30d=0, human_answers_30d=400) > 7


@pytest.mark.parametrize("lost", [57, 75])  # 2.85%: slowed short of the budget; 3.75%: over the cap
def test_the_risk_does_not_wind_down_while_the_governor_holds(lost):
    # Short of budget the governor slows dialling, at the cap it dials as progressive; the
    # answers connected meanwhile run under the setpoint, but they must not lower the risk, or
    # the pacer would come back hotter than it left once the budget returns.
    pacer = warmed()
    pacer.calls_to_place(700.0, *STATE[1:], abandoned_30d=0, human_answers_30d=2000)
    start = pacer.risk
    for t in range(600):
        n = pacer.calls_to_place(701.0 + t, *STATE[1:], abandoned_30d=lost, human_answers_30d=2000)
        assert pacer.held
        if lost == 75:
            assert n == 7  # progressive
        pacer.on_human_answer(701.0 + t, True, 0.0)
    assert pacer.risk >= start
    ample = dict(abandoned_30d=0, human_answers_30d=2000)
    assert pacer.calls_to_place(1301.0, *STATE[1:], **ample) <= warmed().calls_to_place(1301.0, *STATE[1:], **ample)
    # The budget back, it is no longer held: answers connected lower the risk again.
    held_at = pacer.risk
    for t in range(200):
        pacer.calls_to_place(1400.0 + t, *STATE[1:], **ample)
        pacer.on_human_answer(1400.0 + t, True, 0.0)
    assert pacer.risk < held_at


def test_an_account_at_the_cap_dials_as_progressive_whatever_the_short_window_says():
    for lost in (75, 74, 90):  # 3.0%, one abandonment short of it, over it
        pacer = warmed()
        for i in range(400):
            pacer.on_human_answer(600.0 + i / 4, True, 0.0)  # a cool short window
        assert pacer.calls_to_place(*STATE, abandoned_30d=lost, human_answers_30d=2500) == 7


def test_no_30_days_of_a_campaign_exceed_the_cap():
    # The 30-day bench's campaign (weekly and daily cycles, jumps, team changes between
    # shifts; 30 working days, each shift cut to 15 min), told its rolling account at every
    # tick: at every abandonment, the 30 days before it stay at or under the cap; in the
    # campaign's first month, its days so far do (as if it had stopped there).
    for seed in (1, 2):
        figures = run_campaign("predictive", seed, hours=0.25)
        assert figures["answers"] > 1500
        assert figures["worst"] <= MAX_ABANDON_RATE, seed
