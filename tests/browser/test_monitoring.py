"""The wallboard's monitoring controls against the real server and the carrier simulator: an
agent on a real call (their leg and the person's call through the simulator, the person
answered into the agent's room), the supervisor's own leg connected through the simulator the
same way, and listen, whisper, barge and leave clicked on the wallboard. What each gives is read
from the simulator's who-hears-whom; another supervisor's session appears live; leaving leaves
the agent and the person talking."""
from __future__ import annotations

import re

import pytest
import requests
from playwright.sync_api import expect

from tests.browser import seed
from tests.browser.conftest import PERSON, shot, sign_in
from tests.browser.test_call_controls import hears, until_heard

pytestmark = [pytest.mark.slow, pytest.mark.browser]


def test_a_supervisor_listens_whispers_barges_and_leaves_from_the_wallboard(browser, live_server, sim_url,
                                                                             floor, _app):
    sup = floor["supervisor"]
    other = seed.extra_supervisor(_app, floor, "Sam Coach")
    # A campaign of their own: no other test's ready agent takes the person's call.
    solo = seed.solo_floor(_app, "Mona Monitored", record=False, supervisors=(sup["id"], other["id"]))
    agent = solo["agent"]
    ctx = browser.new_context(viewport={"width": 1440, "height": 900})
    page = ctx.new_page()
    other_ctx = browser.new_context(viewport={"width": 1440, "height": 900})
    callee = None
    try:
        staff = seed.connect_leg(_app, sim_url, live_server, agent["id"])
        with _app.app_context():
            from app.agents import services as agent_services
            from app.auth.models import User
            from app.extensions import db

            agent_services.set_own_state(db.session.get(User, agent["id"]), "ready",
                                         campaign_id=solo["campaign_id"])
        _, callee = seed.place_person(_app, solo, sim_url, live_server, PERSON)
        room = f"agent-{agent['id']}"
        until_heard(sim_url, room, {staff: [callee], callee: [staff]})

        sign_in(page, live_server, sup, "/supervisor")
        expect(page.locator("#live-badge")).to_have_text(re.compile("Live"))
        status = page.get_by_test_id("sup-audio-status")
        expect(status).to_have_text(re.compile("not connected"))
        expect(page.locator("#sup-audio-disconnect")).to_be_hidden()
        listen = page.get_by_test_id(f"monitor-listen-{agent['id']}")
        expect(listen).to_be_disabled()  # no audio of their own yet

        # Their browser connects its audio through the carrier: the wallboard hears of it live.
        leg = seed.connect_leg(_app, sim_url, live_server, sup["id"])
        expect(status).to_have_text("Your audio is connected (browser).")
        expect(page.locator("#sup-audio-phone-form")).to_be_hidden()
        until_heard(sim_url, f"agent-{sup['id']}", {leg: []})

        expect(listen).to_be_enabled()
        listen.click()
        panel = page.get_by_test_id("monitor-session")
        expect(panel).to_contain_text(f"You are listening to {agent['username']}.")
        cell = page.get_by_test_id(f"monitor-cell-{agent['id']}")
        expect(cell).to_contain_text(f"{sup['username']} · listen")
        # Listen: the supervisor hears both; neither hears the supervisor.
        until_heard(sim_url, room, {leg: sorted([staff, callee]), staff: [callee], callee: [staff]})

        panel.get_by_role("button", name="Whisper").click()
        expect(panel).to_contain_text(f"You are whispering to {agent['username']}.")
        expect(panel.get_by_role("button", name="Whisper")).to_be_disabled()
        expect(cell).to_contain_text(f"{sup['username']} · whisper")
        # Whisper: the agent hears the supervisor, the person never does.
        until_heard(sim_url, room, {leg: sorted([staff, callee]), staff: sorted([callee, leg]), callee: [staff]})
        shot(page, "wallboard-monitoring")

        panel.get_by_role("button", name="Barge").click()
        expect(panel).to_contain_text(f"You are in the call with {agent['username']}.")
        expect(cell).to_contain_text(f"{sup['username']} · barge")
        # Barge: both hear the supervisor. Three modes, one leg: never reconnected.
        until_heard(sim_url, room, {leg: sorted([staff, callee]), staff: sorted([callee, leg]),
                                    callee: sorted([staff, leg])})

        # Another supervisor listens in from their own wallboard: this one shows it live.
        other_leg = seed.connect_leg(_app, sim_url, live_server, other["id"])
        other_page = other_ctx.new_page()
        sign_in(other_page, live_server, other, "/supervisor")
        other_page.get_by_test_id(f"monitor-listen-{agent['id']}").click()
        expect(other_page.get_by_test_id("monitor-session")).to_contain_text(
            f"You are listening to {agent['username']}.")
        expect(cell).to_contain_text(f"{other['username']} · listen")
        until_heard(sim_url, room, {leg: sorted([staff, callee]), staff: sorted([callee, leg]),
                                    callee: sorted([staff, leg]), other_leg: sorted([staff, callee, leg])})
        other_page.get_by_role("button", name="Leave").click()
        expect(cell).not_to_contain_text(other["username"])
        until_heard(sim_url, f"agent-{other['id']}", {other_leg: []})

        page.get_by_role("button", name="Leave").click()
        expect(panel).to_be_hidden()
        expect(cell).not_to_contain_text(sup["username"])
        # The agent and the person go on talking; the supervisor's leg is back in their own room.
        until_heard(sim_url, room, {staff: [callee], callee: [staff]})
        until_heard(sim_url, f"agent-{sup['id']}", {leg: []})
        assert requests.get(f"{sim_url}/_sim/conferences", timeout=5).json()["alone"] == []
        assert hears(sim_url, room) == {staff: [callee], callee: [staff]}
    finally:
        ctx.close()
        other_ctx.close()
        if callee:
            requests.post(f"{sim_url}/_sim/calls/{callee}/hangup", timeout=5)
        for user_id in (sup["id"], other["id"], agent["id"]):
            requests.post(f"{sim_url}/_sim/clients/agent-{user_id}/disconnect", timeout=5)
