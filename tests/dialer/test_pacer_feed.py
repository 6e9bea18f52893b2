"""Every ticking process learns the same thing from the shared observation stream."""
import json
import logging

from app.dialer.pacer_feed import (PacerRegistry, _sign, record_agent_free, record_dial_result,
                                   record_human_answer, state_key)
from app.dialer.pacing import dump_state


def _feed_busy_hour(redis, campaign_id, answer_every):
    at = 1000.0
    for i in range(400):
        outcome = "human" if i % answer_every == 0 else "no-answer"
        record_dial_result(redis, campaign_id, at, outcome, 8.0 if outcome == "human" else 25.0)
        if outcome == "human":
            record_human_answer(redis, campaign_id, at, True, 0.3)
            record_agent_free(redis, campaign_id, at + 120, 120.0)
        at += 2
    return at


def _decide(registry, redis, campaign_id, at):
    pacer = registry.pacer_for(redis, campaign_id, "predictive", 0.03)
    return pacer.calls_to_place(at, 5, [60.0] * 15, 0)


def test_two_processes_replaying_the_stream_decide_alike(redis_client):
    at = _feed_busy_hour(redis_client, 11, answer_every=5)
    first, second = PacerRegistry(), PacerRegistry()
    assert _decide(first, redis_client, 11, at) == _decide(second, redis_client, 11, at)


def test_learned_answer_rate_changes_the_decision(redis_client):
    at_low = _feed_busy_hour(redis_client, 21, answer_every=10)   # 10% answer
    at_high = _feed_busy_hour(redis_client, 22, answer_every=2)   # 50% answer
    registry = PacerRegistry()
    low = _decide(registry, redis_client, 21, at_low)
    high = _decide(registry, redis_client, 22, at_high)
    assert low > high >= 5  # never below progressive; rarer answers need more lines


def test_a_mode_change_rebuilds_the_pacer(redis_client):
    registry = PacerRegistry()
    first = registry.pacer_for(redis_client, 31, "predictive", 0.03)
    assert registry.pacer_for(redis_client, 31, "predictive", 0.03) is first
    assert registry.pacer_for(redis_client, 31, "progressive", 0.03) is not first
    assert registry.pacer_for(redis_client, 31, "progressive", 0.02) is not first


SECRET = b"k" * 32


def _shift(redis, campaign_id, registries, secret):
    """Ten minutes of ticks, one a second, taken in turn by `registries` (the `dial` processes),
    with the observations of a 20%-answer campaign that abandons now and then."""
    at, decisions = _feed_busy_hour(redis, campaign_id, answer_every=5), []
    for tick in range(600):
        if tick % 3 == 0:
            human = tick % 15 == 0
            record_dial_result(redis, campaign_id, at, "human" if human else "no-answer", 9.0)
            if human:
                record_human_answer(redis, campaign_id, at, tick not in (300, 510), 0.4)
        if tick % 20 == 0:
            record_agent_free(redis, campaign_id, at, 100.0 + tick % 40)
        registry = registries[tick % len(registries)]
        pacer = registry.pacer_for(redis, campaign_id, "predictive", 0.03, secret)
        decisions.append(pacer.calls_to_place(at, 2 + tick % 4, [float(30 + tick % 50)] * 12, 2 + tick % 5))
        if secret is not None:
            registry.hand_over(redis, campaign_id, secret)
        at += 1.0
    return decisions


def test_ticks_spread_over_processes_decide_as_one_pacer_would(redis_client):
    alone = _shift(redis_client, 41, [PacerRegistry()], SECRET)
    spread = _shift(redis_client, 42, [PacerRegistry() for _ in range(4)], SECRET)
    assert spread == alone and sum(alone) > 0
    # Without the hand-over each process learns from its own quarter of the decisions only.
    assert _shift(redis_client, 43, [PacerRegistry() for _ in range(4)], None) != alone


def test_a_handed_over_pacer_with_a_bad_signature_is_never_loaded(redis_client):
    first, second = PacerRegistry(), PacerRegistry()
    _decide(first, redis_client, 51, _feed_busy_hour(redis_client, 51, answer_every=5))
    first.pacer_for(redis_client, 51, "predictive", 0.03, SECRET)
    first.hand_over(redis_client, 51, SECRET)
    handed = redis_client.hgetall(state_key(51))
    assert set(handed) == {"token", "sig", "state"}
    # Someone with write access to Redis but not the secret key plants a state of their own.
    redis_client.hset(state_key(51), "sig", "0" * 64)
    mine = second.pacer_for(redis_client, 51, "predictive", 0.03, SECRET)
    assert mine is not first.pacer_for(redis_client, 51, "predictive", 0.03)
    assert not redis_client.exists(state_key(51))  # dropped, so nobody else trips on it
    # A state signed with another deployment's key is refused the same way.
    first.hand_over(redis_client, 51, b"x" * 32)
    assert second.pacer_for(redis_client, 51, "predictive", 0.03, SECRET) is mine


def _handed_over(redis, campaign_id):
    """A campaign whose predictive pacer one process ticked and handed over."""
    first = PacerRegistry()
    _feed_busy_hour(redis, campaign_id, answer_every=5)
    first.pacer_for(redis, campaign_id, "predictive", 0.03, SECRET).calls_to_place(
        1900.0, 5, [60.0] * 15, 3)
    first.hand_over(redis, campaign_id, SECRET)
    return first


def _rewrite(redis, campaign_id, change, secret=SECRET):
    """Change the handed-over state and sign it again, as `secret`'s holder could."""
    token, state = redis.hmget(state_key(campaign_id), "token", "state")
    handed = json.loads(state)
    change(handed["pacer"])
    state = json.dumps(handed)
    redis.hset(state_key(campaign_id), mapping={"state": state, "sig": _sign(secret, token, state)})


def test_a_tampered_state_is_refused(redis_client, caplog):
    first, second = _handed_over(redis_client, 52), PacerRegistry()
    # A figure changed in the state, its signature left as it was: never taken up.
    handed = json.loads(redis_client.hget(state_key(52), "state"))
    handed["pacer"]["abandoned"] += 9
    redis_client.hset(state_key(52), "state", json.dumps(handed))
    with caplog.at_level(logging.ERROR, logger="app.dialer.pacer_feed"):
        mine = second.pacer_for(redis_client, 52, "predictive", 0.03, SECRET)
    assert "bad signature" in caplog.text
    assert mine is not first.pacer_for(redis_client, 52, "predictive", 0.03) and mine.abandoned == 0
    assert not redis_client.exists(state_key(52))


def test_a_state_of_another_schema_version_is_dropped_not_loaded(redis_client, caplog):
    """After a deploy that changes the state's layout, what the other release handed over is
    signed but of another version: the tick learns afresh from the stream instead of failing
    or misreading it."""
    first, second = _handed_over(redis_client, 61), PacerRegistry()
    _rewrite(redis_client, 61, lambda pacer: pacer.update(v=pacer["v"] + 1))
    with caplog.at_level(logging.WARNING, logger="app.dialer.pacer_feed"):
        fresh = second.pacer_for(redis_client, 61, "predictive", 0.03, SECRET)
    assert "dropped" in caplog.text and "version" in caplog.text
    assert first.pacer_for(redis_client, 61, "predictive", 0.03).tracked > 0
    assert fresh.tracked == 0  # none of the other process's calls in flight: learned afresh
    assert not redis_client.exists(state_key(61))
    assert fresh.calls_to_place(3000.0, 5, [60.0] * 15, 0) >= 5  # and it decides soundly


def test_a_state_for_another_mode_or_target_is_dropped(redis_client, caplog):
    """A supervisor switches the campaign to progressive, or to a stricter target: the next
    tick, in whichever process, starts that pacer afresh rather than take up the old one."""
    _handed_over(redis_client, 71)
    with caplog.at_level(logging.WARNING, logger="app.dialer.pacer_feed"):
        progressive = PacerRegistry().pacer_for(redis_client, 71, "progressive", 0.03, SECRET)
    assert progressive.mode == "progressive" and "mode" in caplog.text
    assert not redis_client.exists(state_key(71))

    _handed_over(redis_client, 72)
    stricter = PacerRegistry().pacer_for(redis_client, 72, "predictive", 0.02, SECRET)
    assert stricter.abandon_target == 0.02 and stricter.tracked == 0
    assert not redis_client.exists(state_key(72))


def test_a_handed_over_state_is_taken_up_whole(redis_client):
    first, second = _handed_over(redis_client, 81), PacerRegistry()
    theirs = first.pacer_for(redis_client, 81, "predictive", 0.03)
    mine = second.pacer_for(redis_client, 81, "predictive", 0.03, SECRET)
    assert mine is not theirs and mine.tracked == theirs.tracked > 3  # its own calls too
    assert dump_state(mine) == dump_state(theirs)
    args = (1901.0, 4, [61.0] * 15, 3)
    assert mine.calls_to_place(*args) == theirs.calls_to_place(*args)


def _feed_scaled(redis, campaign_id, scale):
    """The busy hour as a simulator at `scale` wall seconds per carrier second plays it."""
    at = 1000.0
    for i in range(400):
        human = i % 4 == 0
        record_dial_result(redis, campaign_id, at * scale, "human" if human else "no-answer",
                           (8.0 if human else 25.0) * scale)
        if human:
            record_human_answer(redis, campaign_id, at * scale, True, 0.3 * scale)
            record_agent_free(redis, campaign_id, (at + 120) * scale, 120.0 * scale)
        at += 2
    return at


def test_a_time_scaled_stream_is_read_in_carrier_seconds(redis_client):
    """Against a simulator at 0.1, times and durations on the stream are a tenth of the carrier's:
    the pacer reads them at that scale and decides as it would at full time (issue 18: fed
    wall seconds, it saw 0.8-2.5 s rings on a 2 s forecast grid and 12 s calls)."""
    at = _feed_scaled(redis_client, 61, 1.0)
    _feed_scaled(redis_client, 62, 0.1)
    full = PacerRegistry().pacer_for(redis_client, 61, "predictive", 0.03)
    scaled = PacerRegistry().pacer_for(redis_client, 62, "predictive", 0.03, time_scale=0.1)
    state = (5, [60.0] * 15, 4)
    assert dump_state(scaled)["model"]["handle"] == dump_state(full)["model"]["handle"]
    assert scaled.calls_to_place(at, *state) == full.calls_to_place(at, *state) >= 1


def _person_answered_calls(redis, campaign_id, *, ring_at_answer):
    """Two minutes of a campaign whose people talk 150 s: each answered call's result reaches
    the stream at its end, and its answer (from routing) at the answer, with the ring time
    when `ring_at_answer`."""
    events = []
    for i in range(60):
        placed = 1000.0 + 2 * i
        if i % 3 == 0:
            answered = placed + 10.0
            events.append((answered, "answer", 10.0))
            events.append((answered + 150.0, "end", 10.0))
        else:
            events.append((placed + 25.0, "ring-out", 25.0))
    for at, kind, ring in sorted(events):
        if kind == "answer":
            record_human_answer(redis, campaign_id, at, True, 0.2,
                                ring_seconds=ring if ring_at_answer else None)
        elif kind == "end":
            record_dial_result(redis, campaign_id, at, "human", ring)
        else:
            record_dial_result(redis, campaign_id, at, "no-answer", ring)


def test_a_persons_answer_is_their_dial_result_at_once_and_counted_once(redis_client):
    """Issue 18: a person's dial result came at the end of the call, a talk time after the
    answer, when the second it was placed in had long been counted without it: the pacer read
    the answer rate low and saw a phantom person waiting at every call's end. Carried by the
    answer, it is heard at once, in the order a simulation gives it, and once."""
    from app.dialer.pacing import make_pacer

    _person_answered_calls(redis_client, 71, ring_at_answer=True)
    live = PacerRegistry().pacer_for(redis_client, 71, "predictive", 0.03)
    simulated = make_pacer("predictive", abandon_target=0.03)
    for i in range(60):  # the same calls, each result heard when it happened
        placed = 1000.0 + 2 * i
        if i % 3 == 0:
            simulated.on_dial_result(placed + 10.0, "human", 10.0)
            simulated.on_human_answer(placed + 10.0, True, 0.2)
        else:
            simulated.on_dial_result(placed + 25.0, "no-answer", 25.0)
    at = 1000.0 + 2 * 60 + 40.0
    for pacer in (live, simulated):
        pacer.model.refresh(at)
    assert live.model.answers.humans == simulated.model.answers.humans == 20
    assert live.model.answers.dials == simulated.model.answers.dials == 60
    assert live.calls_to_place(at, 3, [30.0] * 10, 0) == simulated.calls_to_place(at, 3, [30.0] * 10, 0)


def test_an_answer_without_its_ring_time_leaves_the_result_to_the_calls_end(redis_client):
    _person_answered_calls(redis_client, 72, ring_at_answer=False)
    pacer = PacerRegistry().pacer_for(redis_client, 72, "predictive", 0.03)
    pacer.model.refresh(1000.0 + 2 * 60 + 40.0 + 150.0 + 200.0)
    assert pacer.model.answers.humans == 20 and pacer.model.answers.dials == 60


def test_the_count_of_answers_heard_ahead_is_handed_over(redis_client):
    record_human_answer(redis_client, 73, 1000.0, True, 0.2, ring_seconds=9.0)
    first = PacerRegistry()
    first.pacer_for(redis_client, 73, "predictive", 0.03, SECRET)
    first.hand_over(redis_client, 73, SECRET)
    record_dial_result(redis_client, 73, 1150.0, "human", 9.0)  # that call's end
    second = PacerRegistry().pacer_for(redis_client, 73, "predictive", 0.03, SECRET)
    second.model.refresh(1400.0)
    assert second.model.answers.humans == 1 and second.model.answers.dials == 1
