"""An agent connects their audio, takes a simulated call from ready to disposition while a
supervisor's wallboard follows the agent's state and the call live, in two browser contexts at
once."""
from __future__ import annotations

import re

import pytest
import requests
from playwright.sync_api import expect
from sqlalchemy import text

from tests.browser import seed
from tests.browser.conftest import shot, sign_in

pytestmark = [pytest.mark.slow, pytest.mark.browser]


def offered(base: str, suffix: str) -> bool:
    """The server offers an endpoint (call controls arrive separately from the console)."""
    return any(p.endswith(suffix) for p in requests.get(f"{base}/api/openapi.json", timeout=5).json()["paths"])


def test_agent_takes_a_call_while_the_wallboard_follows_live(browser, live_server, floor, _app):
    seed.history(_app, floor)
    agent_ctx, sup_ctx = browser.new_context(viewport={"width": 1440, "height": 900}), \
        browser.new_context(viewport={"width": 1440, "height": 900})
    agent, sup = agent_ctx.new_page(), sup_ctx.new_page()
    try:
        sign_in(agent, live_server, floor["agent"], "/agent")
        sign_in(sup, live_server, floor["supervisor"], "/supervisor")
        expect(agent.locator("#live-badge")).to_have_text(re.compile("Live"))
        expect(sup.get_by_test_id("live-badge")).to_have_text(re.compile("Live"))
        board = sup.locator(f'section.board[data-campaign-id="{floor["campaign_id"]}"]')
        expect(board.locator(".board-name")).to_have_text("Solar Savings Q4")

        # No audio, no ready: the agent's leg joins their room first (the carrier's join event;
        # this server has no carrier to place it), and the console shows it live.
        go_ready = agent.get_by_test_id("go-ready")
        expect(go_ready).to_be_disabled()
        seed.connect_audio(_app, floor["agent"]["id"])
        expect(agent.get_by_test_id("audio-status")).to_have_text("Connected")
        expect(agent.get_by_test_id("audio-detail")).to_contain_text("Through this browser since")
        expect(go_ready).to_be_enabled()
        go_ready.click()
        expect(agent.get_by_test_id("agent-state")).to_have_text("Ready")
        row = board.get_by_test_id(f"agent-row-{floor['agent']['id']}")
        expect(row.locator(".state-pill")).to_have_text("ready")  # live, no refresh

        call_id = seed.ring(_app, floor)
        expect(board.locator('[data-tile="ringing"] .tile-value')).to_have_text("1")

        seed.answer_and_bridge(_app, floor, call_id)
        pop = agent.get_by_test_id("screen-pop")
        expect(pop).to_be_visible()
        expect(agent.locator("#contact-name")).to_have_text("Ada Lovelace")
        expect(agent.locator("#custom-fields")).to_contain_text("A-10293")
        expect(agent.locator("#script")).to_contain_text("Hi Ada, this is Sam calling for Acme Solar")
        expect(agent.get_by_test_id("agent-state")).to_have_text("On call")
        expect(agent.get_by_test_id("call-timer")).to_have_text(re.compile(r"00:0[1-9]"))
        expect(row.locator(".state-pill")).to_have_text("on-call")
        expect(board.locator('[data-tile="connected"] .tile-value')).to_have_text("1")
        expect(board.locator('[data-tile="ringing"] .tile-value')).to_have_text("0")
        for control, suffix in (("hold", "/hold"), ("mute", "/mute"), ("transfer", "/transfers")):
            button = agent.get_by_test_id(control)
            expect(button).to_be_visible()
            if offered(live_server, suffix):
                expect(button).to_be_enabled()
            else:  # not on this server yet: disabled, and says so
                expect(button).to_be_disabled()
                expect(button).to_have_attribute("title", re.compile("not available on this server yet"))
        shot(agent, "agent-console")
        sup.wait_for_timeout(300)  # let the charts finish their first layout
        shot(sup, "wallboard")

        agent.get_by_test_id("hang-up").click()
        expect(agent.get_by_test_id("wrap-up")).to_be_visible()
        expect(row.locator(".state-pill")).to_have_text("wrap-up")
        seed.complete(_app, call_id)
        expect(board.locator('[data-tile="connected"] .tile-value')).to_have_text("0")

        # A callback offers only times inside the contact's calling hours.
        agent.check('input[name="code"][value="CALLBACK"]')
        expect(agent.locator("#callback-box")).to_be_visible()
        expect(agent.locator("#callback-at option").nth(1)).to_be_attached()
        assert agent.locator("#callback-at option").count() > 10

        agent.check('input[name="code"][value="SALE"]')
        agent.fill("#notes", "Signed up for Premium.")
        agent.click("#save-ready")
        expect(agent.get_by_test_id("agent-state")).to_have_text("Ready")
        expect(row.locator(".state-pill")).to_have_text("ready")
        expect(agent.locator("#recent-calls tbody")).to_contain_text("+12125550142")
        expect(agent.get_by_test_id("my-callbacks")).to_contain_text("No callbacks promised.")
    finally:
        agent_ctx.close()
        sup_ctx.close()

    from app.extensions import db
    with _app.app_context():
        row = db.session.execute(text(
            "SELECT d.code, i.notes FROM interactions i JOIN disposition_codes d ON d.id = i.disposition_code_id "
            "WHERE i.call_id = :cid"), {"cid": call_id}).one()
        assert tuple(row) == ("SALE", "Signed up for Premium.")
