"""A page load asks for nothing Omnivox does not serve: no 404 (the favicon was one, on every
page; issue 20) and no error in the browser console."""
from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import sign_in

pytestmark = [pytest.mark.slow, pytest.mark.browser]


def test_pages_load_without_a_missing_file(page, live_server, floor):
    missing, errors = [], []
    page.on("response", lambda r: missing.append(r.url) if r.status >= 400 else None)
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.goto(f"{live_server}/login")
    icon = page.locator('link[rel="icon"]')
    expect(icon).to_have_attribute("href", re.compile(r"favicon\.svg$"))
    # The icon the page names is served (headless Chromium does not fetch icons by itself).
    response = page.request.get(f"{live_server}{icon.get_attribute('href')}")
    assert response.status == 200 and response.headers["content-type"].startswith("image/svg+xml")
    sign_in(page, live_server, floor["supervisor"], "/supervisor")
    expect(page.get_by_test_id("live-badge")).to_have_text(re.compile("Live"))
    page.goto(f"{live_server}/calls")
    page.wait_for_load_state("networkidle")
    assert not missing, missing
    assert not errors, errors
