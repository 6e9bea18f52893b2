"""The call controls on a connected call, from the console against the real server and the
carrier simulator: the agents' audio legs and the person's call go through the simulator, the
person is answered into the agent's room, and hold and a warm transfer (a refusal in the API's
words, consulting, coming back, a number that does not answer, handing over) are driven from
the dialog. Who hears whom is read from the simulator's conferences."""
from __future__ import annotations

import pytest
import requests
from playwright.sync_api import expect

from tests.browser import seed
from tests.browser.conftest import PERSON, UNANSWERED, shot
from tests.dialer.on_air import wait_for

pytestmark = [pytest.mark.slow, pytest.mark.browser]


def room(sim_url: str, name: str) -> dict:
    rooms = requests.get(f"{sim_url}/_sim/conferences", params={"name": name}, timeout=5).json()["conferences"]
    live = [c for c in rooms if c["status"] != "completed"]
    return live[-1] if live else {"participants": []}


def hears(sim_url: str, name: str) -> dict[str, list[str]]:
    return {p["call_sid"]: sorted(p["hears"]) for p in room(sim_url, name)["participants"]}


def until_heard(sim_url: str, name: str, expected: dict) -> None:
    wait_for(lambda: hears(sim_url, name) == expected, f"{name} to be {expected}")


def test_hold_and_a_warm_transfer_from_the_dialog(browser, live_server, sim_url, floor, _app):
    person = seed.extra_agent(_app, floor, "Cory Closer")
    target = seed.extra_agent(_app, floor, "Avery Closer")
    ctx = browser.new_context(viewport={"width": 1440, "height": 900})
    page = ctx.new_page()
    try:
        target_leg = seed.connect_leg(_app, sim_url, live_server, target["id"])
        leg = seed.ready_on_air(page, _app, sim_url, live_server, person)

        call_id, callee = seed.place_person(_app, floor, sim_url, live_server, PERSON)
        expect(page.get_by_test_id("screen-pop")).to_be_visible()
        mine = f"agent-{person['id']}"
        until_heard(sim_url, mine, {leg: [callee], callee: [leg]})
        assert requests.get(f"{sim_url}/_sim/conferences", timeout=5).json()["alone"] == []

        hold = page.get_by_test_id("hold")
        hold.click()
        expect(hold).to_have_text("Resume")
        expect(hold).to_have_attribute("aria-pressed", "true")
        expect(page.get_by_test_id("call-flags")).to_have_text("On hold: the contact hears hold music")
        until_heard(sim_url, mine, {leg: [], callee: []})
        [held] = [p for p in room(sim_url, mine)["participants"] if p["call_sid"] == callee]
        assert held["hold"] and held["hold_url"] == f"{live_server}/twilio/hold"
        hold.click()
        expect(hold).to_have_text("Hold")
        expect(page.get_by_test_id("call-flags")).to_have_text("")
        until_heard(sim_url, mine, {leg: [callee], callee: [leg]})

        # The target goes ready now (the person's call was routed to `person` alone).
        with _app.app_context():
            from app.agents import services as agent_services
            from app.auth.models import User
            from app.extensions import db

            agent_services.set_own_state(db.session.get(User, target["id"]), "ready",
                                         campaign_id=floor["campaign_id"])

        # The dialog: the floor's agent (no audio) refused by the API, in its words, once.
        page.get_by_test_id("transfer").click()
        dialog = page.get_by_test_id("transfer-dialog")
        expect(dialog).to_be_visible()
        agents = page.get_by_test_id("transfer-agent")
        expect(agents).to_contain_text(f"{target['username']} (ready)")
        page.get_by_test_id("transfer-warm").check()
        agents.focus()
        agents.select_option(str(floor["agent"]["id"]))
        page.get_by_test_id("transfer-start").click()
        error = page.get_by_test_id("transfer-error")
        expect(error).to_have_text(f"{floor['agent']['username']} has no audio connected, so they cannot take "
                                   "the call. Choose an agent whose audio is connected.")

        # A warm transfer to the target: the person holds, the two agents hear each other.
        agents.select_option(str(target["id"]))
        page.get_by_test_id("transfer-start").click()
        expect(dialog).to_be_hidden()
        consult = page.get_by_test_id("consult")
        expect(consult).to_be_visible()
        expect(consult).to_contain_text(f"Warm transfer to {target['username']}")
        expect(consult).to_contain_text(f"You are talking to {target['username']}; the contact is on hold")
        expect(hold).to_be_disabled()
        until_heard(sim_url, mine, {leg: [target_leg], target_leg: [leg], callee: []})
        shot(page, "agent-call-controls")

        page.get_by_test_id("consult-cancel").click()  # "Come back"
        expect(consult).to_be_hidden()
        expect(hold).to_have_text("Hold")
        expect(page.get_by_test_id("transfer")).to_be_enabled()
        until_heard(sim_url, mine, {leg: [callee], callee: [leg]})
        until_heard(sim_url, f"agent-{target['id']}", {target_leg: []})

        # A number that does not answer: "Calling" until it gives up, then back with the person.
        page.get_by_test_id("transfer").click()
        page.get_by_test_id("transfer-warm").check()
        page.get_by_test_id("transfer-number").fill(UNANSWERED)
        page.get_by_test_id("transfer-start").click()
        expect(consult).to_contain_text(f"Calling {UNANSWERED}… The contact is on hold.")
        expect(consult).to_be_hidden()
        expect(page.locator(".toast-error").last).to_have_text("Nobody answered.")
        until_heard(sim_url, mine, {leg: [callee], callee: [leg]})

        # Warm again, and hand over: the person talks to the target in the target's room.
        page.get_by_test_id("transfer").click()
        page.get_by_test_id("transfer-warm").check()
        agents.focus()
        agents.select_option(str(target["id"]))
        page.get_by_test_id("transfer-start").click()
        expect(consult).to_be_visible()
        until_heard(sim_url, mine, {leg: [target_leg], target_leg: [leg], callee: []})
        page.get_by_test_id("consult-complete").click()  # "Hand over"
        expect(page.get_by_test_id("wrap-up")).to_be_visible()
        until_heard(sim_url, f"agent-{target['id']}", {target_leg: [callee], callee: [target_leg]})
        until_heard(sim_url, mine, {leg: []})
        assert requests.get(f"{sim_url}/_sim/conferences", timeout=5).json()["alone"] == []

        requests.post(f"{sim_url}/_sim/calls/{callee}/hangup", timeout=5)
        page.check('input[name="code"][value="NOT_INTERESTED"]')
        page.click("#save-pause")
        expect(page.get_by_test_id("agent-state")).to_have_text("Paused")
        page.locator("#go-offline").click()
        expect(page.get_by_test_id("agent-state")).to_have_text("Signed off")
    finally:
        ctx.close()
        for agent_id in (person["id"], target["id"]):
            requests.post(f"{sim_url}/_sim/clients/agent-{agent_id}/disconnect", timeout=5)
