"""The Calling rules page: an admin reads the state rules in words and declares a blackout day;
a supervisor reads them without the means to change them."""
from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import sign_in
from tests.browser.test_call_flow import shot

pytestmark = [pytest.mark.slow, pytest.mark.browser]


def test_admin_reads_florida_s_hours_and_declares_a_blackout_day(browser, live_server, floor):
    ctx = browser.new_context(viewport={"width": 1440, "height": 900})
    page = ctx.new_page()
    try:
        sign_in(page, live_server, floor["admin"], "/admin/rules")
        expect(page.get_by_test_id("ruleset-version")).to_have_text(re.compile(r"^Rule set \S+"))
        expect(page.locator("nav a.active")).to_have_text("Calling rules")
        florida = page.locator('.rule-group[data-place="Florida"]')
        expect(florida).to_contain_text("Calls 8:00–20:00 local time, every day")
        expect(florida).to_contain_text("At most 3 calls in 24 hours to one person from one seller")
        expect(florida).to_contain_text("Fla. Stat. § 501.616")
        alabama = page.locator('.rule-group[data-place="Alabama"]')
        expect(alabama).to_contain_text("No calls on Sundays")
        expect(alabama).to_contain_text(f"Dates in {date.today().year}:")
        expect(alabama).to_contain_text("Christmas Day")
        expect(page.locator("#blackouts tbody")).to_contain_text("No blackout days declared")

        first = date.today() + timedelta(days=7)
        page.select_option("#b-jurisdiction", label="Georgia")
        page.fill("#b-date_from", first.isoformat())
        page.fill("#b-date_to", (first - timedelta(days=1)).isoformat())
        page.fill("#b-reason", "Hurricane Zeta: state of emergency")
        page.click("#blackout-form button[type=submit]")
        expect(page.locator("#blackout-form .field-error")).to_have_text("The last day must be on or after the first day.")

        page.fill("#b-date_to", (first + timedelta(days=1)).isoformat())
        page.click("#blackout-form button[type=submit]")
        row = page.locator("#blackouts tbody tr", has_text="Georgia")
        expect(row).to_contain_text("Hurricane Zeta: state of emergency")
        expect(row).to_contain_text(str(first.year))
        expect(page.locator("#blackout-form .field-error")).to_have_count(0)
        text = page.locator("main").inner_text()
        assert not re.search(r"\bUS-[A-Z]{2}\b|calling_hours|holiday_ban|fl-hours", text), "internal codes on screen"
        page.select_option("#rules-filter", label="Florida")
        expect(alabama).to_be_hidden()
        page.select_option("#rules-filter", label="Every state")
        page.evaluate("document.getElementById('toasts').replaceChildren()")  # not in the picture
        shot(page, "calling-rules")

        supervisor = browser.new_context(viewport={"width": 1440, "height": 900}).new_page()
        sign_in(supervisor, live_server, floor["supervisor"], "/admin/rules")
        expect(supervisor.locator("#blackouts tbody tr", has_text="Georgia")).to_contain_text("Hurricane Zeta")
        expect(supervisor.locator("#blackout-form")).to_have_count(0)
        expect(supervisor.get_by_role("button", name="Remove")).to_have_count(0)
        supervisor.context.close()
        agent = browser.new_context().new_page()
        sign_in(agent, live_server, floor["agent"], "/agent")
        assert agent.goto(f"{live_server}/admin/rules").status == 403
        agent.context.close()

        page.once("dialog", lambda dialog: dialog.accept())
        row.get_by_role("button", name="Remove").click()
        expect(row).to_have_count(0)
        expect(page.locator("#blackouts tbody")).to_contain_text("No blackout days declared")
    finally:
        ctx.close()
