"""Every ticking process learns the same thing from the shared observation stream."""
from app.dialer.pacer_feed import (PacerRegistry, record_agent_free, record_dial_result,
                                   record_human_answer, state_key)


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
    assert set(handed) == {"v", "sig", "blob"}
    # Someone with write access to Redis but not the secret key plants a state of their own.
    redis_client.hset(state_key(51), "sig", "0" * 64)
    mine = second.pacer_for(redis_client, 51, "predictive", 0.03, SECRET)
    assert mine is not first.pacer_for(redis_client, 51, "predictive", 0.03)
    assert not redis_client.exists(state_key(51))  # dropped, so nobody else trips on it
    # A state signed with another deployment's key is refused the same way.
    first.hand_over(redis_client, 51, b"x" * 32)
    assert second.pacer_for(redis_client, 51, "predictive", 0.03, SECRET) is mine


def test_a_state_from_another_release_is_dropped_not_loaded(redis_client, monkeypatch):
    """After a deploy that changes the pacer's classes, what the old release handed over is
    signed but of another shape: the tick learns afresh from the stream instead of failing."""
    from app.dialer import pacer_feed

    first, second = PacerRegistry(), PacerRegistry()
    _feed_busy_hour(redis_client, 61, answer_every=5)
    first.pacer_for(redis_client, 61, "predictive", 0.03, SECRET)
    monkeypatch.setattr(pacer_feed, "STATE_SCHEMA", 0)  # the old release
    first.hand_over(redis_client, 61, SECRET)
    monkeypatch.setattr(pacer_feed, "STATE_SCHEMA", 1)
    fresh = second.pacer_for(redis_client, 61, "predictive", 0.03, SECRET)
    assert fresh is not first.pacer_for(redis_client, 61, "predictive", 0.03)
    assert not redis_client.exists(state_key(61))
    assert fresh.calls_to_place(3000.0, 5, [60.0] * 15, 0) >= 5  # and it decides soundly
