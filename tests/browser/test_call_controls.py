"""The call controls on a connected call: hold, and a warm transfer through the dialog (an error
shown in the API's words, consulting, coming back), and a transfer that fails, live.

The call, its screen pop, hang-up and wrap-up are the server's own. The hold and transfer
endpoints are answered by stand-ins for their contracts (POST .../hold, .../transfers,
.../transfers/<id>/cancel, GET /api/console/transfer-targets), so the console's side is proven
whether or not this server offers them yet; the OpenAPI document is made to list them."""
from __future__ import annotations

import json
import re

import pytest
from playwright.sync_api import expect

from tests.browser import seed
from tests.browser.conftest import shot, sign_in

pytestmark = [pytest.mark.slow, pytest.mark.browser]

REFUSED = {"error": {"code": "target_busy", "fields": {},
                     "message": "That agent is not ready for a transfer; choose another or a campaign."}}


def offer_controls(page, call_id: int, campaign_id: int) -> list:
    """Stand-ins for the call-control endpoints; returns the transfer requests received."""
    received = []

    def openapi(route):
        response = route.fetch()
        doc = response.json()
        for suffix in ("hold", "mute", "transfers"):
            doc["paths"][f"/api/console/calls/{{call_id}}/{suffix}"] = {"post": {}}
        doc["paths"]["/api/console/transfer-targets"] = {"get": {}}
        route.fulfill(response=response, json=doc)

    def answer(status, body):
        return lambda route: route.fulfill(status=status, content_type="application/json", body=json.dumps(body))

    def transfers(route):
        body = route.request.post_data_json
        received.append(body)
        if len(received) == 1:
            return answer(409, REFUSED)(route)
        return answer(201, {"id": 41, "call_id": call_id, "kind": body["kind"], "status": "consulting",
                            "to_campaign_id": body.get("to_campaign_id")})(route)

    page.route("**/api/openapi.json", openapi)
    page.route(f"**/api/console/calls/{call_id}/hold", lambda route: answer(200, {
        "call_id": call_id, "hold": route.request.post_data_json["hold"], "muted": False})(route))
    page.route("**/api/console/transfer-targets", answer(200, {
        "agents": [{"id": 99001, "username": "avery-closer", "state": "ready"}],
        "campaigns": [{"id": campaign_id, "name": "Solar Savings Q4", "ready_agents": 2}]}))
    page.route(f"**/api/console/calls/{call_id}/transfers", transfers)
    page.route(f"**/api/console/calls/{call_id}/transfers/41/cancel", answer(200, {
        "id": 41, "call_id": call_id, "kind": "warm", "status": "cancelled"}))
    return received


def test_hold_and_a_warm_transfer_from_the_dialog(browser, live_server, floor, _app):
    person = seed.extra_agent(_app, floor, "Cory Closer")
    ctx = browser.new_context(viewport={"width": 1440, "height": 900})
    page = ctx.new_page()
    call_id = None
    try:
        call_id = seed.ring(_app, floor)
        received = offer_controls(page, call_id, floor["campaign_id"])
        sign_in(page, live_server, person, "/agent")
        expect(page.locator("#live-badge")).to_have_text(re.compile("Live"))
        seed.connect_audio(_app, person["id"], via="phone")
        expect(page.get_by_test_id("audio-status")).to_have_text("Connected")
        page.get_by_test_id("go-ready").click()
        expect(page.get_by_test_id("agent-state")).to_have_text("Ready")
        seed.answer_and_bridge(_app, floor, call_id, agent_id=person["id"])
        expect(page.get_by_test_id("screen-pop")).to_be_visible()

        hold = page.get_by_test_id("hold")
        hold.click()
        expect(hold).to_have_text("Resume")
        expect(hold).to_have_attribute("aria-pressed", "true")
        expect(page.get_by_test_id("call-flags")).to_have_text("On hold: the contact hears hold music")
        hold.click()
        expect(hold).to_have_text("Hold")
        expect(page.get_by_test_id("call-flags")).to_have_text("")

        # The dialog: an agent refused by the API, in its words; then a warm transfer to a campaign.
        page.get_by_test_id("transfer").click()
        dialog = page.get_by_test_id("transfer-dialog")
        expect(dialog).to_be_visible()
        expect(page.get_by_test_id("transfer-agent")).to_contain_text("avery-closer (ready)")
        expect(page.get_by_test_id("transfer-campaign")).to_contain_text("Solar Savings Q4 (2 ready agents now)")
        page.get_by_test_id("transfer-warm").check()
        page.get_by_test_id("transfer-start").click()
        expect(page.get_by_test_id("transfer-error")).to_have_text(REFUSED["error"]["message"])
        page.get_by_test_id("transfer-campaign").focus()  # choosing the list chooses "a campaign"
        page.get_by_test_id("transfer-start").click()
        expect(dialog).to_be_hidden()
        assert received == [{"kind": "warm", "to_agent_id": 99001},
                            {"kind": "warm", "to_campaign_id": floor["campaign_id"]}]
        consult = page.get_by_test_id("consult")
        expect(consult).to_be_visible()
        expect(consult).to_contain_text("Warm transfer to an agent of Solar Savings Q4")
        expect(consult).to_contain_text("the contact is on hold")
        expect(page.get_by_test_id("consult-complete")).to_have_text("Hand over")
        expect(hold).to_be_disabled()
        shot(page, "agent-call-controls")

        page.get_by_test_id("consult-cancel").click()  # "Come back"
        expect(consult).to_be_hidden()
        expect(hold).to_have_text("Hold")
        expect(page.get_by_test_id("transfer")).to_be_enabled()

        # A warm transfer whose other party does not answer: the live event says so.
        page.get_by_test_id("transfer").click()
        page.get_by_test_id("transfer-warm").check()
        page.get_by_test_id("transfer-campaign").focus()
        page.get_by_test_id("transfer-start").click()
        expect(consult).to_be_visible()
        seed.publish_to_agent(_app, person["id"], "call.transfer", {
            "call_id": call_id, "transfer_id": 41, "id": 41, "kind": "warm", "status": "failed",
            "reason": "Nobody answered."})
        expect(consult).to_be_hidden()
        expect(page.locator(".toast-error").last).to_have_text("Nobody answered.")

        page.get_by_test_id("hang-up").click()
        expect(page.get_by_test_id("wrap-up")).to_be_visible()
        seed.complete(_app, call_id)
        page.check('input[name="code"][value="NOT_INTERESTED"]')
        page.click("#save-pause")
        expect(page.get_by_test_id("agent-state")).to_have_text("Paused")
        page.locator("#go-offline").click()
        expect(page.get_by_test_id("agent-state")).to_have_text("Signed off")
    finally:
        ctx.close()
