"""GET /metrics: names, values from Redis and PostgreSQL, and who may read it."""
from __future__ import annotations

import re
import secrets

import pytest
import redis as redis_lib
from prometheus_client.parser import text_string_to_metric_families

from app.ops import metrics

NAMES = (
    "omnivox_calls_placed", "omnivox_calls_by_outcome", "omnivox_callbacks_processed",
    "omnivox_webhook_latency_seconds", "omnivox_queue_depth", "omnivox_pacing_decisions",
    "omnivox_pacing_calls_requested", "omnivox_abandon_rate", "omnivox_agents",
    "omnivox_celery_queue_length", "omnivox_callback_inbox_depth", "omnivox_metrics_source_up",
    "omnivox_carrier_unknown_calls", "omnivox_carrier_unknown_legs",
)
OUTSIDE = {"REMOTE_ADDR": "203.0.113.9"}


def scrape(client, **kwargs) -> dict[tuple[str, tuple], float]:
    response = client.get("/metrics", **kwargs)
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.content_type.startswith("text/plain")
    samples = {}
    for family in text_string_to_metric_families(response.get_data(as_text=True)):
        for sample in family.samples:
            samples[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return samples


def value(samples, name, **labels) -> float:
    return samples[(name, tuple(sorted((k, str(v)) for k, v in labels.items())))]


def test_metrics_exposes_every_name(client):
    body = client.get("/metrics").get_data(as_text=True)
    for name in NAMES:
        assert re.search(rf"^# TYPE {name}(_total)? ", body, re.M), name


def test_metrics_refuses_a_remote_caller_without_token(client):
    response = client.get("/metrics", environ_base=OUTSIDE)
    assert response.status_code == 403
    assert response.get_json()["error"]["code"] == "forbidden"
    assert "omnivox_" not in response.get_data(as_text=True)


def test_metrics_token_lets_a_remote_scraper_in(app, client, monkeypatch):
    token = secrets.token_urlsafe(32)
    monkeypatch.setitem(app.config, "METRICS_TOKEN", token)
    ok = client.get("/metrics", environ_base=OUTSIDE, headers={"Authorization": f"Bearer {token}"})
    assert ok.status_code == 200 and "omnivox_agents" in ok.get_data(as_text=True)
    wrong = client.get("/metrics", environ_base=OUTSIDE, headers={"Authorization": "Bearer " + "x" * 43})
    assert wrong.status_code == 403
    assert client.get("/metrics", environ_base=OUTSIDE).status_code == 403


def test_worker_counters_reach_the_scrape(app, client):
    with app.app_context():
        metrics.record_call_placed()
        metrics.record_call_placed()
        metrics.record_call_outcome("human")
        metrics.record_call_outcome("busy")
        metrics.record_call_outcome("made-up")
        metrics.record_callback_processed()
        metrics.record_pacing_decision(7, 3)
        metrics.record_pacing_decision(7, 0)
        metrics.record_pacing_decision(7, 5)
        metrics.record_carrier_unknown_call()
    samples = scrape(client)
    assert value(samples, "omnivox_carrier_unknown_calls_total") == 1
    assert value(samples, "omnivox_calls_placed_total") == 2
    assert value(samples, "omnivox_calls_by_outcome_total", outcome="human") == 1
    assert value(samples, "omnivox_calls_by_outcome_total", outcome="busy") == 1
    assert value(samples, "omnivox_calls_by_outcome_total", outcome="other") == 1
    assert value(samples, "omnivox_calls_by_outcome_total", outcome="machine") == 0
    assert value(samples, "omnivox_callbacks_processed_total") == 1
    assert value(samples, "omnivox_pacing_decisions_total", campaign=7) == 3
    assert value(samples, "omnivox_pacing_calls_requested_total", campaign=7) == 8
    assert value(samples, "omnivox_pacing_last_calls_requested", campaign=7) == 5


def test_recording_outside_an_app_is_a_no_op(redis_client):
    from flask import has_app_context

    assert not has_app_context()
    assert metrics.record_call_placed() is None  # no app context: nothing to write to, no error
    assert metrics.record_call_outcome("human") is None
    assert not redis_client.exists(metrics.COUNTERS_KEY)


def _campaign(name: str, status: str = "active"):
    from app.campaigns.models import Campaign

    return Campaign(name=name, status=status, caller_id="+15550100000", seller_name="Acme",
                    seller_phone="+15550100001", safe_harbour_message="Acme calling; press 9 to opt out.")


def test_gauges_come_from_postgresql_and_redis(app, client, users, redis_client):
    from app.agents.models import AgentProfile
    from app.calls.models import Call
    from app.extensions import db

    agents = [users.create("agent") for _ in range(3)]
    with app.app_context():
        live, stopped = _campaign("live-" + secrets.token_hex(3)), _campaign("old-" + secrets.token_hex(3), "stopped")
        db.session.add_all([live, stopped])
        db.session.flush()
        calls = [Call(campaign_id=live.id, to_number="+15550101000", from_number="+15550100000",
                      outcome="human", abandoned=(i == 0)) for i in range(20)]
        calls += [Call(campaign_id=live.id, to_number="+15550101000", from_number="+15550100000",
                       outcome="machine") for _ in range(5)]
        calls += [Call(campaign_id=stopped.id, to_number="+15550101000", from_number="+15550100000",
                       outcome="human", abandoned=True)]
        db.session.add_all(calls)
        for agent, state in zip(agents, ("ready", "ready", "on-call")):
            db.session.get(AgentProfile, agent.id).state = state
        db.session.commit()
        live_id, stopped_id = live.id, stopped.id
    with app.app_context():  # four real contacts queued by the dial queue's own code, one claimed
        from app.contacts.models import Contact
        from app.dialer.hopper import Hopper

        contacts = [Contact(campaign_id=live_id, phone_e164=f"+1202555{i:04d}") for i in range(4)]
        db.session.add_all(contacts)
        db.session.commit()
        hopper = Hopper(redis_client)
        hopper.add(live_id, [(c.id, float(i)) for i, c in enumerate(contacts)])
        assert len(hopper.claim(live_id, 1, lease_seconds=60)) == 1
    redis_client.rpush("telephony", "task-1", "task-2")
    redis_client.rpush("telephony:inbox", "41", "42", "43")

    samples = scrape(client)
    assert value(samples, "omnivox_agents", state="ready") == 2
    assert value(samples, "omnivox_agents", state="on-call") == 1
    assert value(samples, "omnivox_agents", state="paused") == 0
    for window in ("24h", "30d"):
        assert value(samples, "omnivox_abandon_rate", campaign=live_id, window=window) == pytest.approx(1 / 20)
        assert value(samples, "omnivox_calls_answered_human", campaign=live_id, window=window) == 20
    assert value(samples, "omnivox_queue_depth", campaign=live_id) == 3  # waiting, not claimed
    assert value(samples, "omnivox_celery_queue_length", queue="telephony") == 2
    assert value(samples, "omnivox_celery_queue_length", queue="dial") == 0
    assert value(samples, "omnivox_callback_inbox_depth") == 3
    # Stopped campaigns are not series any more: label cardinality stays bounded.
    assert not any(dict(labels).get("campaign") == str(stopped_id) for _, labels in samples)
    assert value(samples, "omnivox_metrics_source_up", source="postgres") == 1
    assert value(samples, "omnivox_metrics_source_up", source="redis") == 1


def test_a_pluggable_queue_depth_reader(app, client):
    with app.app_context():
        from app.extensions import db

        campaign = _campaign("plug-" + secrets.token_hex(3))
        db.session.add(campaign)
        db.session.commit()
        cid = campaign.id
    previous = metrics.set_queue_depth_reader(lambda r, ids: {i: 42 for i in ids})
    try:
        samples = scrape(client)
    finally:
        metrics.set_queue_depth_reader(previous)
    assert value(samples, "omnivox_queue_depth", campaign=cid) == 42


def test_redis_down_is_reported_not_fatal(app, client, monkeypatch):
    from devtools.services import free_port

    from redis.backoff import NoBackoff
    from redis.retry import Retry

    dead = redis_lib.Redis(port=free_port(), socket_connect_timeout=0.2, decode_responses=True,
                           retry=Retry(NoBackoff(), 0))
    monkeypatch.setitem(app.extensions, "redis", dead)
    with app.app_context():
        metrics.record_call_placed()  # swallowed and logged: a metric never breaks a call
    samples = scrape(client)
    assert value(samples, "omnivox_metrics_source_up", source="redis") == 0
    assert value(samples, "omnivox_metrics_source_up", source="postgres") == 1


def test_webhook_latency_histogram(client):
    def count():
        return scrape(client).get(("omnivox_webhook_latency_seconds_count", (("endpoint", "status"),)), 0)

    before = count()
    metrics.observe_webhook_latency(0.02, "status")
    metrics.observe_webhook_latency(0.3, "status")
    samples = scrape(client)
    assert samples[("omnivox_webhook_latency_seconds_count", (("endpoint", "status"),))] == before + 2
    assert ("omnivox_webhook_latency_seconds_bucket", (("endpoint", "status"), ("le", "0.025"))) in samples


def test_the_call_flow_itself_moves_the_counters(app, client, redis_client, placement_clock):
    """Placing a call (the real SDK against the simulator) and applying its callbacks bump the
    counters a scrape reads; not only the helper functions called by hand."""
    from carrier_sim import CarrierSimulator, SimConfig

    from app.calls import placement
    from app.telephony.twilio_carrier import TwilioCarrier
    from tests.calls.factories import make_call, make_campaign, post_signed, status_form
    from workers.telephony import drain_call_events

    sid, token = "AC" + "7" * 32, "sim-token-for-metrics"
    sim = CarrierSimulator(SimConfig(account_sid=sid, auth_token=token, time_scale=0.001,
                                     callback_max_attempts=1, seed=9)).start()
    app.extensions["carrier"] = TwilioCarrier(sid, token, api_base_url=sim.api_base_url)
    try:
        call_id = make_call(app, make_campaign(app))
        with app.app_context():
            placed = placement.place_call(call_id)
        assert placed.outcome == "placed"
    finally:
        app.extensions.pop("carrier", None)
        sim.stop()
    for status, seq in (("initiated", 0), ("ringing", 1), ("busy", 2)):
        form = status_form(placed.call_sid, status, seq)
        assert post_signed(client, app, f"/twilio/status?attempt={call_id}", form).status_code == 204
    with app.app_context():
        drain_call_events.run()
    samples = scrape(client)
    assert value(samples, "omnivox_calls_placed_total") == 1
    assert value(samples, "omnivox_callbacks_processed_total") == 3
    assert value(samples, "omnivox_calls_by_outcome_total", outcome="busy") == 1
    assert value(samples, "omnivox_calls_by_outcome_total", outcome="human") == 0
