"""Every ticking process learns the same thing from the shared observation stream."""
from app.dialer.pacer_feed import PacerRegistry, record_agent_free, record_dial_result, record_human_answer


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
