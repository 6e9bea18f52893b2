"""A report's tab switch offers that report's CSV at once, and a campaign's supervisors reach its
team and dialer page from their wallboard."""
from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import sign_in
from tests.browser.test_lists import spring  # noqa: F401 - module fixtures reused
from tests.browser.test_records_reports import desk  # noqa: F401

pytestmark = [pytest.mark.slow, pytest.mark.browser]


def _download(page, selector):
    with page.expect_download() as info:
        page.click(selector)
    return list(csv.DictReader(io.StringIO(Path(info.value.path()).read_text(encoding="utf-8"), newline="")))


def test_the_csv_after_switching_to_daily_is_the_daily_one(browser, live_server, desk):  # noqa: F811
    """While the daily figures are on their way (held here until after the download), the page
    shows no hourly figures and its CSV link is already the daily report's."""
    page = browser.new_context(accept_downloads=True).new_page()
    held = []

    def hold(route):
        held.append(route)  # answered only after the download

    try:
        sign_in(page, live_server, desk["sup"], "/reports")
        page.get_by_test_id("report-range").select_option("last_7_days")
        page.get_by_test_id("tab-hourly").click()
        expect(page.locator("#report-title")).to_have_text("Hourly figures")
        expect(page.get_by_test_id("report-table").locator("tfoot td").nth(0)).to_have_text("Whole range")
        page.route(lambda url: "/api/reports/daily?" in url, hold)
        page.get_by_test_id("tab-daily").click()
        expect(page.locator("#report-title")).to_have_text("Daily figures")
        table = page.get_by_test_id("report-table")
        expect(table.locator("tbody")).to_have_text("Loading…")
        expect(table.locator("tfoot td")).to_have_count(0)
        rows = _download(page, "#report-csv")
        assert held, "the daily request was not held"
        assert "Day (America/New_York)" in rows[0], list(rows[0])
        for route in held:
            route.continue_()
        expect(table.locator("tfoot td").nth(0)).to_have_text("Whole range")
    finally:
        page.context.close()


def test_a_supervisor_reaches_their_campaigns_team_and_dialer_from_the_wallboard(browser, live_server, spring):  # noqa: F811,E501
    page = browser.new_context(viewport={"width": 1440, "height": 900}).new_page()
    try:
        sign_in(page, live_server, spring["supervisor"], "/supervisor")
        link = page.locator(f'a[href="/admin/campaigns/{spring["campaign_id"]}"]')
        expect(link).to_have_text("Team and dialer")
        link.click()
        expect(page).to_have_url(f"{live_server}/admin/campaigns/{spring['campaign_id']}")
        expect(page.locator("h1")).to_contain_text("Spring Renewals")
    finally:
        page.context.close()
