"""Every page names Omnivox's icon, and Omnivox serves it (issue 20: a 404 on every page)."""
import re

import pytest


@pytest.mark.parametrize("role, path", [(None, "/login"), ("agent", "/agent"), ("supervisor", "/supervisor"),
                                        ("admin", "/admin/campaigns"), ("admin", "/calls")])
def test_pages_link_the_icon_and_it_is_served(app, login_as, role, path):
    client = login_as(role).client if role else app.test_client()
    page = client.get(path)
    assert page.status_code == 200
    link = re.search(r'<link rel="icon" type="image/svg\+xml" href="([^"]+)">', page.get_data(as_text=True))
    assert link, f"{path} names no icon"
    icon = client.get(link.group(1))
    assert icon.status_code == 200 and icon.mimetype == "image/svg+xml"
    assert b"<svg" in icon.get_data() and b"Omnivox" in icon.get_data()


def test_the_conventional_address_leads_to_the_icon(app):
    """A browser asks /favicon.ico where no page names an icon (a JSON answer opened in a tab)."""
    client = app.test_client()
    answer = client.get("/favicon.ico")
    assert answer.status_code == 301
    icon = client.get(answer.headers["Location"])
    assert icon.status_code == 200 and icon.mimetype == "image/svg+xml"
