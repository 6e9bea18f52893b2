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
