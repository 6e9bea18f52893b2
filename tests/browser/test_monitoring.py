"""The wallboard's monitoring controls: the supervisor's own audio shown connected (the seed
joins their leg as the carrier's participant-join would), listen on an agent's call, whisper,
another supervisor's session appearing live, and leave.

The browser tests' server has no carrier simulator, so the three writes that move a leg at the
carrier (POST /api/monitoring, PATCH and DELETE /api/monitoring/<id>) are answered by stand-ins
for their contract (proven end to end in tests/dialer/test_monitoring.py); the audio status,
the agent on a call and the live events are the server's own."""
from __future__ import annotations

import json
import re

import pytest
from playwright.sync_api import expect

from tests.browser import seed
from tests.browser.conftest import shot, sign_in

pytestmark = [pytest.mark.slow, pytest.mark.browser]

SESSION_ID = 77


def _on_a_call(app, floor, agent: dict) -> int:
    """The agent, with audio, ready, then reserved and connected on a ringing call of the floor."""
    from app.agents import services as agent_services
    from app.agents.reservations import confirm_reservation
    from app.agents.transitions import apply
    from app.auth.models import User
    from app.calls.models import Call
    from app.common.timeutil import utcnow
    from app.extensions import db

    seed.connect_audio(app, agent["id"], via="phone")
    call_id = seed.ring(app, floor)
    with app.app_context():
        agent_services.set_own_state(db.session.get(User, agent["id"]), "ready", campaign_id=floor["campaign_id"])
        apply(agent["id"], ("ready",), "reserved", call_id=call_id, reason="test")
        call = db.session.get(Call, call_id)
        call.status, call.answered_at, call.outcome = "in-progress", utcnow(), "human"
        call.agent_id, call.connected_at = agent["id"], utcnow()
        db.session.commit()
        assert confirm_reservation(agent["id"], call_id)
    return call_id


def _publish_monitor(app, campaign_id: int, payload: dict) -> None:
    from app.realtime.publish import campaign_room, publish

    with app.app_context():
        publish("monitor.state", payload, room=campaign_room(campaign_id))


def test_a_supervisor_listens_whispers_and_leaves_from_the_wallboard(browser, live_server, floor, _app):
    agent = seed.extra_agent(_app, floor, "Mona Monitored")
    sup = floor["supervisor"]
    ctx = browser.new_context(viewport={"width": 1440, "height": 900})
    page = ctx.new_page()
    received: list[tuple[str, dict | None]] = []

    def session(mode: str) -> dict:
        return {"id": SESSION_ID, "session_id": SESSION_ID, "supervisor_id": sup["id"], "supervisor": sup["username"],
                "agent_id": agent["id"], "agent": agent["username"], "campaign_id": floor["campaign_id"],
                "mode": mode, "call_id": call_id, "first_call_id": call_id, "agent_state": "on-call",
                "leg_sid": "CA" + "5" * 32, "started_at": "2026-01-01T00:00:00+00:00", "active": True, "reason": None}

    def sessions_route(route):
        if route.request.method != "POST":
            return route.continue_()
        received.append(("POST", route.request.post_data_json))
        route.fulfill(status=201, content_type="application/json", body=json.dumps(session("listen")))

    def one_route(route):
        method = route.request.method
        received.append((method, route.request.post_data_json if method != "DELETE" else None))
        if method == "DELETE":
            return route.fulfill(status=204, body="")
        route.fulfill(status=200, content_type="application/json",
                      body=json.dumps(session(route.request.post_data_json["mode"])))

    sup_leg = None
    try:
        call_id = _on_a_call(_app, floor, agent)
        page.route("**/api/monitoring", sessions_route)
        page.route(f"**/api/monitoring/{SESSION_ID}", one_route)
        sign_in(page, live_server, sup, "/supervisor")
        expect(page.locator("#live-badge")).to_have_text(re.compile("Live"))
        status = page.get_by_test_id("sup-audio-status")
        expect(status).to_have_text(re.compile("not connected"))
        expect(page.locator("#sup-audio-disconnect")).to_be_hidden()
        listen = page.get_by_test_id(f"monitor-listen-{agent['id']}")
        expect(listen).to_be_disabled()  # no audio of their own yet

        sup_leg = seed.connect_audio(_app, sup["id"], via="phone")  # they pressed 1 on their phone
        expect(status).to_have_text("Your audio is connected (phone).")
        expect(page.locator("#sup-audio-phone-form")).to_be_hidden()
        expect(page.locator("#sup-audio-browser")).to_be_hidden()  # browser audio is not set up here
        expect(listen).to_be_enabled()
        listen.click()
        panel = page.get_by_test_id("monitor-session")
        expect(panel).to_be_visible()
        expect(panel).to_contain_text(f"You are listening to {agent['username']}.")
        cell = page.get_by_test_id(f"monitor-cell-{agent['id']}")
        expect(cell).to_contain_text(f"{sup['username']} · listen")

        panel.get_by_role("button", name="Whisper").click()
        expect(panel).to_contain_text(f"You are whispering to {agent['username']}.")
        expect(panel.get_by_role("button", name="Whisper")).to_be_disabled()
        expect(cell).to_contain_text(f"{sup['username']} · whisper")
        shot(page, "wallboard-monitoring")

        # Another supervisor barges on the same agent: the wallboard shows it live.
        other = {**session("barge"), "id": 78, "session_id": 78, "supervisor_id": 99002, "supervisor": "sam-coach"}
        _publish_monitor(_app, floor["campaign_id"], other)
        expect(cell).to_contain_text("sam-coach · barge")
        _publish_monitor(_app, floor["campaign_id"], {**other, "active": False, "reason": "The supervisor left."})
        expect(cell).not_to_contain_text("sam-coach")

        page.get_by_role("button", name="Leave").click()
        expect(panel).to_be_hidden()
        expect(cell).not_to_contain_text(sup["username"])
        assert received == [("POST", {"agent_id": agent["id"], "mode": "listen"}),
                            ("PATCH", {"mode": "whisper"}), ("DELETE", None)]
    finally:
        ctx.close()
        if sup_leg:
            seed.end_audio(_app, sup["id"], sup_leg)
