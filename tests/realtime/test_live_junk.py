"""Every /live event gets an answer: junk payloads are refused in the error shape, never crash."""
from __future__ import annotations

import logging

import pytest

from app.realtime.publish import campaign_room, publish

pytestmark = pytest.mark.slow

JUNK = [
    None,                                    # no payload at all
    "campaigns please",                      # wrong type
    42,
    [1, 2],
    {"campaign_ids": "1,2"},
    {"campaign_ids": None},
    {"campaign_ids": [10**30]},              # past PostgreSQL's integer
    {"campaign_ids": [-1]},
    {"campaign_ids": [0]},
    {"campaign_ids": [True]},
    {"campaign_ids": [1.5]},
    {"campaign_ids": ["²"]},                 # a digit to str.isdigit, not to int()
    {"campaign_ids": [{"id": 1}]},
    {"campaign_ids": list(range(1, 1002))},  # more than anyone watches
]


def _tracebacks(caplog) -> list[str]:
    """Failures the server logged (the dev server's own noise about closed websockets aside)."""
    return [f"{r.name}: {r.getMessage()}" for r in caplog.records
            if r.exc_info or (r.levelno >= logging.ERROR and r.name != "werkzeug")]


@pytest.mark.parametrize("role", ["admin", "supervisor"])
def test_junk_watch_and_unwatch_events_are_answered_with_an_error(_app, committed, live_clients, caplog, role):
    user = committed.user(role)
    campaign = committed.campaign(*([user] if role == "supervisor" else []))
    client = live_clients(user)
    caplog.set_level(logging.INFO)
    for event in ("watch", "unwatch"):
        for payload in JUNK:
            answer = client.call(event, payload)
            assert isinstance(answer, dict) and set(answer) == {"error"}, (event, payload, answer)
            error = answer["error"]
            assert error["code"] == "validation_error" and error["message"], (event, payload, answer)
            assert "campaign_ids" in error.get("fields", {}) or payload is None or not isinstance(payload, dict)
    assert _tracebacks(caplog) == []
    # the socket is still there and still works
    assert client.call("watch", {"campaign_ids": [campaign]}) == {"watching": [campaign], "refused": []}
    with _app.app_context():
        publish("campaign.figures", {"marker": "after-junk"}, room=campaign_room(campaign))
    assert client.next() == ("campaign.figures", {"marker": "after-junk"})
    assert client.call("unwatch", {"campaign_ids": [campaign]}) == {"watching": []}


def test_more_than_one_argument_or_an_unknown_shape_is_answered_too(committed, live_clients, caplog):
    client = live_clients(committed.user("admin"))
    caplog.set_level(logging.INFO)
    for event in ("watch", "unwatch", "heartbeat"):
        answer = client.sio.call(event, ({"campaign_ids": [1]}, "extra"), namespace="/live", timeout=10)
        assert isinstance(answer, dict), (event, answer)
    assert client.call("heartbeat") == {"ok": False}  # an admin has no agent state to keep alive
    assert _tracebacks(caplog) == []
