"""Every unsafe /api operation in the OpenAPI document refuses a cookie-authenticated write
without the CSRF token (sign-in included). Grows with the document as routes merge."""
from __future__ import annotations

import re

import pytest

from tests.security.conftest import UNSAFE, operations


def _concrete(path: str) -> str:
    return re.sub(r"\{[^}]+\}", "1", path)


def test_every_unsafe_operation_needs_the_csrf_token(login_as, spec, roomy_limits):
    admin = login_as("admin")
    unsafe = list(operations(spec, UNSAFE))
    assert unsafe, "no unsafe operation in the OpenAPI document"
    refused = []
    for method, path, _ in unsafe:
        response = getattr(admin.client, method)(_concrete(path), json={}, headers={"X-CSRFToken": ""})
        if response.status_code != 403 or response.get_json()["error"]["code"] != "csrf_failed":
            refused.append(f"{method.upper()} {path}: {response.status_code} {response.get_data(as_text=True)[:200]}")
    assert not refused, "writes accepted without the CSRF token:\n" + "\n".join(refused)


def test_a_token_from_another_session_is_refused(login_as, spec, roomy_limits):
    admin, other = login_as("admin"), login_as("admin")
    for method, path, _ in operations(spec, UNSAFE):
        response = getattr(admin.client, method)(_concrete(path), json={},
                                                 headers={"X-CSRFToken": other.csrf_token})
        assert response.status_code == 403, f"{method.upper()} {path} took another session's token"
        assert response.get_json()["error"]["code"] == "csrf_failed"


def test_sign_in_itself_needs_the_token(client, users):
    user = users.create("agent")
    response = client.post("/api/auth/login", json={"username": user.username, "password": user.password})
    assert response.status_code == 403 and response.get_json()["error"]["code"] == "csrf_failed"


def test_the_guard_lets_a_write_with_the_token_through(login_as):
    """The control: with the session's token the same kind of write is served."""
    admin = login_as("admin")
    assert admin.post("/api/auth/logout").status_code == 204


@pytest.mark.parametrize("origin_header", [{}, {"Origin": "https://evil.example"}])
def test_a_cross_site_form_post_is_refused(login_as, origin_header):
    admin = login_as("admin")
    response = admin.client.post("/api/users", data={"username": "x", "password": "y", "role": "admin"},
                                 headers=origin_header)
    assert response.status_code == 403 and response.get_json()["error"]["code"] == "csrf_failed"
