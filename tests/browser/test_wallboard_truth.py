"""The wallboard agrees with `GET /api/wallboard` at every moment, not only after its 20-second
full read (issue 20, bugs 1 and 2).

Bug 1: a call bridged to an agent stayed on the "Waiting" tile (page: 2 connected, 2 waiting;
the API: 4 and 0) because routing published nothing when it connected the call. Bug 2: the "Dial
level" tile kept the value of the last full read (0.00 with four calls ringing and three agents
ready). Here the page's periodic full read is switched off, so only live events move it: calls
ring and are answered as the carrier's callbacks publish them, and the real routing
(`route_answered_call`) reserves and bridges agents; after each step every tile must show what
the API says at that moment.
"""
from __future__ import annotations

import re
import secrets

import pytest
from playwright.sync_api import expect

from tests.browser import seed
from tests.browser.conftest import sign_in

pytestmark = [pytest.mark.slow, pytest.mark.browser]

STAGES = ("dialling", "ringing", "connected", "waiting")
# Only live events move the page: its 20-second full read never runs during the test.
NO_FULL_READ = """
const setIntervalAsBuilt = window.setInterval;
window.setInterval = (fn, ms, ...rest) => (ms >= 20000 ? 0 : setIntervalAsBuilt(fn, ms, ...rest));
"""


def _agent(app, campaign_id: int, name: str) -> dict:
    from app.campaigns.models import CampaignAssignment
    from app.extensions import db
    from app.users import services

    with app.app_context():
        user = services.create_user(f"agent-{secrets.token_hex(3)}", "pw-" + secrets.token_urlsafe(12), "agent",
                                    full_name=name)
        db.session.add(CampaignAssignment(campaign_id=campaign_id, user_id=user.id, role="agent"))
        db.session.commit()
        return {"id": user.id}


def _ready(app, agent_id: int, campaign_id: int) -> None:
    from app.agents import services as agent_services
    from app.auth.models import User
    from app.extensions import db

    seed.connect_audio(app, agent_id)
    with app.app_context():
        agent_services.set_own_state(db.session.get(User, agent_id), "ready", campaign_id=campaign_id)


def _ring(app, campaign_id: int) -> int:
    """The dialer places a call and the carrier says it rings (each change published, as the
    telephony worker publishes it)."""
    from app.calls.models import Call
    from app.calls.services import publish_call_state
    from app.common.timeutil import utcnow
    from app.extensions import db

    with app.app_context():
        call = Call(campaign_id=campaign_id, to_number="+12125550171", from_number="+12025550100",
                    status="initiated", initiated_at=utcnow(), call_sid="CA" + secrets.token_hex(16))
        db.session.add(call)
        db.session.commit()
        publish_call_state(call)
        call.status, call.ringing_at = "ringing", utcnow()
        db.session.commit()
        publish_call_state(call)
        return call.id


def _answered(app, call_id: int) -> None:
    """The carrier's answer: a person, no agent yet."""
    from app.calls.models import Call
    from app.calls.services import publish_call_state
    from app.common.timeutil import utcnow
    from app.extensions import db

    with app.app_context():
        call = db.session.get(Call, call_id)
        call.status, call.answered_at, call.outcome, call.answered_by = "in-progress", utcnow(), "human", "human"
        db.session.commit()
        publish_call_state(call)


def _route(app, call_id: int) -> int | None:
    """The real 2-second routing: reserve the longest-idle ready agent and bridge the person."""
    from app.calls.models import Call
    from app.dialer.routing import route_answered_call
    from app.extensions import db

    with app.app_context():
        decision = route_answered_call(db.session.get(Call, call_id), "human", opt_out_url="http://127.0.0.1/opt-out",
                                       deadline_seconds=0.5)
        return decision.agent_id


def _paced(campaign_id: int, why: str | None, later: float = 0.0) -> None:
    """The campaign dials predictively, and a pacing tick records its decision and publishes
    the wallboard's line when it changes, as the tick does (no dialer runs here to tick).
    Stamped an hour ahead (`later` s more): the board shows only a record under 15 s old, and
    this one must still be fresh when the page reads the board, however slow the machine."""
    import time

    from app.campaigns import steering
    from app.campaigns.models import Campaign
    from app.common.redis import get_redis
    from app.extensions import db
    from app.realtime.publish import campaign_room, publish

    db.session.get(Campaign, campaign_id).dial_mode = "predictive"
    db.session.commit()
    changed, shown = steering.record_decision(
        get_redis(), campaign_id, time.time() + 3600 + later, mode="predictive", ready=2,
        dialing=2, wanted=0, decided=0, placed=0, how="automatic", target=0.03, rate_30d=0.021,
        why=why)
    if changed:
        publish("campaign.figures", {"campaign_id": campaign_id, "pacing": shown},
                room=campaign_room(campaign_id))


def _publish_rollup(app, campaign_id: int, abandoned: int, human: int) -> None:
    """What a KPI rollup publishes (the 30-day figures alone)."""
    from app.realtime.publish import campaign_room, publish

    with app.app_context():
        publish("campaign.figures", {"campaign_id": campaign_id, "today": {},
                                     "abandonment_30d": {"abandoned": abandoned, "human_answered": human,
                                                         "rate": abandoned / human}},
                room=campaign_room(campaign_id))


def _board(page, base: str, campaign_id: int) -> dict:
    return next(c for c in page.request.get(f"{base}/api/wallboard").json()["campaigns"]
                if c["id"] == campaign_id)


def _agrees(page, base: str, campaign_id: int) -> dict:
    """Every call tile and the dial level show what the API says now; returns the API's board."""
    api = next(c for c in page.request.get(f"{base}/api/wallboard").json()["campaigns"] if c["id"] == campaign_id)
    board = page.locator(f'section.board[data-campaign-id="{campaign_id}"]')
    for stage in STAGES:
        expect(board.locator(f'[data-tile="{stage}"] .tile-value')).to_have_text(str(api["stages"][stage]))
    level = "—" if api["dial_level"] is None else f"{api['dial_level']:.2f}"
    expect(board.locator('[data-tile="dial-level"] .tile-value')).to_have_text(level)
    expect(board.locator('[data-tile="dial-level"] .tile-note')).to_contain_text(
        "per agent ready or reserved" if api["agent_counts"].get("ready", 0) + api["agent_counts"].get("reserved", 0)
        else "no agent ready or reserved")
    expect(board.locator('[data-tile="dial-level"]')).to_have_attribute(
        "title", re.compile("^Calls dialling, ringing or waiting .* per agent ready or reserved"))
    return api


def test_tiles_follow_the_live_calls_and_agents_as_the_api_does(browser, live_server, floor, _app):
    solo = seed.solo_floor(_app, "Wall Agent One", record=False, supervisors=(floor["supervisor"]["id"],))
    cid = solo["campaign_id"]
    second = _agent(_app, cid, "Wall Agent Two")
    from app.web.wallboard import set_notice

    with _app.app_context():  # as the demo says when no contact may legally be called
        set_notice(cid, "No demo contact may be called now. Calls resume at 13:00 UTC.")
        _paced(cid, "bunch")
    context = browser.new_context(viewport={"width": 1440, "height": 900})
    context.add_init_script(NO_FULL_READ)
    page = context.new_page()
    try:
        sign_in(page, live_server, floor["supervisor"], "/supervisor")
        board = page.locator(f'section.board[data-campaign-id="{cid}"]')
        expect(page.get_by_test_id("live-badge")).to_have_text("● Live")
        expect(board.locator(".board-name")).to_be_visible()
        expect(board.get_by_test_id("board-notice")).to_have_text(
            "No demo contact may be called now. Calls resume at 13:00 UTC.")
        # Why the pacer holds back, in words, as the API says (the board's full read shows it).
        words = _board(page, live_server, cid)["pacing"]["in_words"]
        assert words.startswith("Held to one call per ready agent: abandoned calls bunched")
        expect(board.get_by_test_id("board-pacing")).to_contain_text(words)
        # A later tick's change reaches the open board live (its 20-second read is off here),
        # and leaves the figures the same event carries from the KPI rollups as they were.
        abandon_30d = board.locator('[data-tile="abandon-30d"]')
        _publish_rollup(_app, cid, abandoned=3, human=200)
        expect(abandon_30d.locator(".tile-note")).to_contain_text("3 of 200")
        before = abandon_30d.text_content()
        with _app.app_context():
            _paced(cid, None, later=6)
        expect(board.get_by_test_id("board-pacing")).to_be_hidden()
        assert _board(page, live_server, cid)["pacing"] is None
        with _app.app_context():
            _paced(cid, "spent", later=12)
        expect(board.get_by_test_id("board-pacing")).to_have_text(
            _board(page, live_server, cid)["pacing"]["in_words"])
        expect(abandon_30d).to_have_text(before)

        for agent_id in (solo["agent"]["id"], second["id"]):
            _ready(_app, agent_id, cid)
            expect(board.get_by_test_id(f"agent-row-{agent_id}").locator(".state-pill")).to_have_text("ready")
        api = _agrees(page, live_server, cid)
        assert api["dial_level"] == 0 and api["agent_counts"].get("ready") == 2

        calls = [_ring(_app, cid) for _ in range(4)]
        api = _agrees(page, live_server, cid)  # four lines ringing for two ready agents: 2.00, not 0.00
        assert api["stages"]["ringing"] == 4 and api["dial_level"] == 2

        for call_id in calls:
            _answered(_app, call_id)
        api = _agrees(page, live_server, cid)
        assert api["stages"]["waiting"] == 4

        bridged = [_route(_app, call_id) for call_id in calls[:2]]
        assert sorted(bridged) == sorted([solo["agent"]["id"], second["id"]])
        api = _agrees(page, live_server, cid)  # two connected, two still waiting: as the API says
        assert (api["stages"]["connected"], api["stages"]["waiting"]) == (2, 2)
        for agent_id in bridged:
            expect(board.get_by_test_id(f"agent-row-{agent_id}").locator(".state-pill")).to_have_text("on-call")
        _agrees(page, live_server, cid)
    finally:
        context.close()
