"""A field the import accepts (up to 1,000 characters) must not widen the agent's
console either (issue 20: "A 5,000-character field makes the page 18,000 px wide")."""
from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser.test_console_fixes import _campaign, _console, _ring_and_bridge

pytestmark = [pytest.mark.slow, pytest.mark.browser]


def test_a_long_imported_field_does_not_widen_the_console(browser, live_server, _app):
    camp = _campaign(_app, "progressive", script="Hi {first_name}.", contacts=(
        {"phone_e164": "+12125550143", "first_name": "Lee", "last_name": "Long", "timezone": "America/New_York",
         "custom_fields": {"notes": "x" * 1000}},))
    context, page = _console(browser, live_server, camp)
    try:
        page.get_by_test_id("go-ready").click()
        expect(page.get_by_test_id("agent-state")).to_have_text("Ready")
        _ring_and_bridge(_app, camp, camp["contact_ids"][0])
        expect(page.get_by_test_id("screen-pop")).to_be_visible()
        expect(page.locator("#custom-fields")).to_contain_text("xxxx")
        widths = page.evaluate("() => [document.documentElement.scrollWidth, window.innerWidth]")
        assert widths[0] <= widths[1], f"the console is {widths[0]} px wide in a {widths[1]} px window"
    finally:
        context.close()
