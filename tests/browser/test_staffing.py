"""Day one of a new campaign, in the browser: the admin creates it (the abandonment limit typed in
percent, a mistake summarised in words), staffs it on its own page by name, gives it a pause
code of its own on the Codes page and steers its dialer within the law; then the new agent,
with an audio leg from the carrier simulator, goes ready and pauses there with that code, and the
new supervisor finds the campaign on their wallboard."""
from __future__ import annotations

import re
import secrets

import pytest
from playwright.sync_api import expect

from tests.browser import seed
from tests.browser.conftest import shot, sign_in

pytestmark = [pytest.mark.slow, pytest.mark.browser]


def _person(app, role: str, name: str) -> dict:
    from app.extensions import db
    from app.users import services

    password = "pw-" + secrets.token_urlsafe(12)
    with app.app_context():
        user = services.create_user(f"{role}-{secrets.token_hex(3)}", password, role)
        user.full_name = name
        db.session.commit()
        return {"id": user.id, "username": user.username, "password": password, "role": role}


def _campaign(app, name: str):
    from sqlalchemy import select

    from app.campaigns.models import Campaign
    from app.extensions import db

    with app.app_context():
        campaign = db.session.scalar(select(Campaign).where(Campaign.name == name))
        db.session.expunge_all()
        return campaign


def test_an_admin_staffs_a_new_campaign_whose_agent_pauses_and_supervisor_watches(
        browser, live_server, floor, _app, sim_url):
    tag = secrets.token_hex(2)
    name = f"Heat Pumps {tag}"
    agent = _person(_app, "agent", f"Nia Newcomer {tag}")
    supervisor = _person(_app, "supervisor", f"Omar Overseer {tag}")
    contexts = [browser.new_context(viewport={"width": 1440, "height": 900}) for _ in range(3)]
    admin_page, agent_page, sup_page = (c.new_page() for c in contexts)
    try:
        # The admin creates the campaign; a limit of 5% is refused in words, 3 means 3%.
        page = admin_page
        sign_in(page, live_server, floor["admin"], "/admin/campaigns")
        page.locator("#new-campaign").click()
        page.fill("#f-name", name)
        page.fill("#f-caller_id", "+12025550100")
        page.fill("#f-seller_name", "Acme Heat")
        page.fill("#f-seller_phone", "+12025550101")
        page.fill("#f-safe_harbour_message", "This is Acme Heat, 202-555-0101. Sorry we missed you.")
        page.fill("#f-max_abandon_rate", "5")
        page.click("#campaign-form button[type=submit]")
        summary = page.locator("#form-error")
        expect(summary).to_have_text("Please correct: Maximum abandonment rate (%).")
        expect(page.locator("#campaign-form .field-error")).to_contain_text("at most 3%")
        assert "max_abandon_rate" not in page.locator("#campaign-form").inner_text()
        page.fill("#f-max_abandon_rate", "3")
        page.click("#campaign-form button[type=submit]")
        expect(page.locator(f"#campaign-list li:has-text('{name}')")).to_be_visible()
        campaign = _campaign(_app, name)
        assert float(campaign.max_abandon_rate) == 0.03
        expect(page.locator("#f-max_abandon_rate")).to_have_value("3")

        # Its own page, from the list: the team, picked by name.
        page.locator(f"#campaign-list li:has-text('{name}') a", has_text="Team and dialer").click()
        page.wait_for_url(f"{live_server}/admin/campaigns/{campaign.id}")
        expect(page.locator("#campaign-name")).to_have_text(name)
        expect(page.locator("#agents-list")).to_have_text("No agents yet.")
        page.locator("#agent-pick").select_option(label=f"Nia Newcomer {tag} ({agent['username']})")
        page.locator("#agent-add").click()
        page.locator("#supervisor-pick").select_option(label=f"Omar Overseer {tag} ({supervisor['username']})")
        page.locator("#supervisor-add").click()
        expect(page.locator("#team-dirty")).to_be_visible()
        page.locator("#team-save").click()
        expect(page.locator("#team-dirty")).to_be_hidden()
        expect(page.locator("#team-count")).to_have_text("1 agent, 1 supervisor")
        page.reload()
        expect(page.locator("#agents-list")).to_have_text(re.compile(f"Nia Newcomer {tag}"))
        expect(page.locator("#supervisors-list")).to_have_text(re.compile(f"Omar Overseer {tag}"))

        # The running dialer, as a pacing tick leaves it: held back, and why, in words.
        with _app.app_context():
            import time

            from app.campaigns import steering
            from app.common.redis import get_redis

            steering.record_decision(get_redis(), campaign.id, time.time() + 3600, mode="predictive",
                                     ready=3, dialing=3, wanted=3, decided=3, placed=0, how="automatic",
                                     target=0.03, rate_30d=0.03, why="spent")
        page.reload()
        expect(page.locator("#pacing-live")).to_contain_text(
            "Holding backHeld to one call per ready agent: the 30-day abandonment budget is spent")
        with _app.app_context():  # a draft campaign has no ticks: the page below shows it so
            get_redis().delete(steering.LIVE_KEY.format(campaign.id),
                               steering.RECENT_KEY.format(campaign.id))
        page.reload()
        expect(page.locator("#pacing-live")).to_contain_text("The campaign is draft")

        # The dialer: an abandonment target above the law is refused beside the field.
        expect(page.locator("#override-by")).to_have_text("Automatic pacing: no override.")
        page.fill("#pacing-form input[name=abandon_target]", "4")
        page.click("#pacing-form button[type=submit]")
        expect(page.locator("#pacing-error")).to_have_text("Please correct: Abandonment target (%).")
        expect(page.locator("#pacing-form .field-error")).to_contain_text("At most 3%: the law allows")
        page.fill("#pacing-form input[name=abandon_target]", "1.5")
        page.click("#pacing-form button[type=submit]")
        expect(page.locator("#override-by")).to_contain_text("Override set by Avery Admin")
        expect(page.locator("#pacing-live")).to_contain_text("1.5% (campaign limit 3%)")
        shot(page, "campaign-team")
        page.locator("#pacing-clear").click()
        expect(page.locator("#override-by")).to_have_text("Automatic pacing: no override.")

        # A pause code for this campaign only, and the Codes page says so.
        page.goto(f"{live_server}/admin/codes")
        page.fill("#pause-form input[name=code]", f"huddle{tag}")
        page.fill("#pause-form input[name=label]", "Team huddle")
        page.locator("#pause-scope").select_option(label=name)
        page.click("#pause-form button[type=submit]")
        row = page.locator(f"#pause-codes tr[data-code='HUDDLE{tag.upper()}']")
        expect(row.locator(".pause-scope")).to_have_text(name)
        expect(page.locator("#pause-codes tr[data-code='break'] .pause-scope")).to_have_text("Every campaign")
        # A code retired from the page is gone from it, and (below) from the agent's choices.
        page.fill("#pause-form input[name=code]", f"gone{tag}")
        page.fill("#pause-form input[name=label]", "Retired errand")
        page.locator("#pause-scope").select_option(label=name)
        page.click("#pause-form button[type=submit]")
        gone = page.locator(f"#pause-codes tr[data-code='GONE{tag.upper()}']")
        # Six columns in a card: no row's button lies under the disposition card beside it
        # (the table once spilt into it, and a click there landed on that card's form).
        expect(gone).to_have_count(1)
        for button in page.locator("#pause-codes button").all():
            button.scroll_into_view_if_needed()
            assert button.evaluate("""b => { const r = b.getBoundingClientRect();
                return document.elementFromPoint(r.x + r.width / 2, r.y + r.height / 2) === b; }""")
        gone.get_by_role("button", name="Retire").click()
        expect(gone).to_have_count(0)

        # The Users page says who works where.
        page.goto(f"{live_server}/admin/users")
        expect(page.locator(f"#users tr[data-user-id='{agent['id']}'] .user-campaigns")).to_have_text(name)
        expect(page.locator(f"#users tr[data-user-id='{supervisor['id']}'] .user-campaigns a")).to_have_attribute(
            "href", f"/admin/campaigns/{campaign.id}")

        # The agent, with an audio leg from the carrier simulator, goes ready there and pauses.
        seed.ready_on_air(agent_page, _app, sim_url, live_server, agent)
        expect(agent_page.locator("#campaign-select option:checked")).to_have_text(re.compile(name))
        expect(agent_page.locator("#pause-code option", has_text="Team huddle")).to_have_count(1)
        expect(agent_page.locator("#pause-code option", has_text="Retired errand")).to_have_count(0)
        agent_page.locator("#pause-code").select_option(label="Team huddle")
        agent_page.locator("#go-pause").click()
        expect(agent_page.get_by_test_id("agent-state")).to_have_text("Paused")

        # The supervisor sees the campaign on their wallboard.
        sign_in(sup_page, live_server, supervisor, "/supervisor")
        expect(sup_page.locator(f".board[data-campaign-id='{campaign.id}'] .board-name")).to_have_text(name)
    finally:
        for c in contexts:
            c.close()


def test_an_agent_with_no_campaign_is_told_to_ask_their_admin(browser, live_server, floor, _app):
    agent = _person(_app, "agent", "Lone Agent")
    ctx = browser.new_context(viewport={"width": 1440, "height": 900})
    page = ctx.new_page()
    try:
        sign_in(page, live_server, agent, "/agent")
        expect(page.locator("#campaign-select")).to_have_text("No campaign yet: ask your admin")
        expect(page.locator("#idle-text")).to_have_text(
            "You are not on any campaign yet: ask your admin to assign you to one, then reload this page.")
    finally:
        ctx.close()


def test_new_campaign_clicked_while_the_first_one_loads_is_saved_as_a_new_one(browser, live_server, floor, _app):
    """The page opens the first campaign by itself; an admin who clicks "New campaign" before
    that campaign has arrived must not have it land over their typing (their new campaign
    would then be saved over the existing one, renaming it)."""
    tag = secrets.token_hex(2)
    name = f"Attic Insulation {tag}"
    before = _campaign(_app, "Solar Savings Q4")
    ctx = browser.new_context(viewport={"width": 1440, "height": 900})
    page = ctx.new_page()
    held = []
    one_campaign = re.compile(r".*/api/campaigns/\d+$")
    try:
        page.route(one_campaign, lambda route: held.append(route))
        sign_in(page, live_server, floor["admin"], "/admin/campaigns")
        while not held:  # the first campaign's details, asked for by the page, held back
            page.wait_for_timeout(50)
        page.locator("#new-campaign").click()
        page.fill("#f-name", name)
        # Only now do the first campaign's details arrive.
        with page.expect_response(one_campaign):
            held[0].continue_()
        page.unroute(one_campaign)
        expect(page.locator("#form-title")).to_have_text("New campaign")
        expect(page.locator("#f-name")).to_have_value(name)
        page.fill("#f-caller_id", "+12025550100")
        page.fill("#f-seller_name", "Acme Attics")
        page.fill("#f-seller_phone", "+12025550101")
        page.fill("#f-safe_harbour_message", "This is Acme Attics, 202-555-0101. Sorry we missed you.")
        page.click("#campaign-form button[type=submit]")
        expect(page.locator(f"#campaign-list li:has-text('{name}')")).to_be_visible()
        created = _campaign(_app, name)
        assert created.id != before.id
        assert _campaign(_app, "Solar Savings Q4").id == before.id
    finally:
        ctx.close()
