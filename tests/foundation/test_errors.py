"""Every API error has one shape; a 500 never leaks internals; the OpenAPI document is served."""


def _error(response):
    body = response.get_json()
    assert set(body) == {"error"} and set(body["error"]) == {"code", "message", "fields"}
    return body["error"]


def test_unknown_api_path_is_a_json_404(client):
    response = client.get("/api/no-such-thing")
    assert response.status_code == 404 and _error(response)["code"] == "not_found"


def test_wrong_method_is_a_json_405(client):
    response = client.delete("/api/auth/csrf")
    assert response.status_code == 405 and _error(response)["code"] == "method_not_allowed"


def test_validation_errors_name_each_field(login_as):
    admin = login_as("admin")
    response = admin.post("/api/users", json={"username": "", "role": "pilot"})
    assert response.status_code == 422
    error = _error(response)
    assert error["code"] == "validation_error"
    assert set(error["fields"]) == {"username", "password", "role"}


def test_password_policy_is_reported_on_the_password_field(login_as):
    admin = login_as("admin")
    for password, phrase in [("short", "at least 12"), ("password1234", "too common"),
                             ("xx-newhire-2026-xx", "username")]:
        response = admin.post("/api/users", json={"username": "newhire", "password": password, "role": "agent"})
        assert response.status_code == 422
        assert any(phrase in m for m in _error(response)["fields"]["password"]), response.get_json()


def test_duplicate_username_is_a_conflict(login_as, users):
    admin = login_as("admin")
    existing = users.create("agent")
    response = admin.post("/api/users", json={"username": existing.username.upper(),
                                              "password": "Quite-unusual-pw-42", "role": "agent"})
    assert response.status_code == 409 and _error(response)["fields"]["username"]


def test_malformed_json_is_a_400(api):
    api.fetch_csrf()
    response = api.post("/api/auth/login", data="{not json", content_type="application/json")
    assert response.status_code in (400, 422)
    _error(response)


def test_unexpected_failure_is_a_500_without_internals(api, monkeypatch):
    from app.auth import services

    def broken(username):
        raise RuntimeError("secret internal detail /etc/passwd")

    monkeypatch.setattr(services, "find_user", broken)
    response = api.login("someone", "some-password")
    assert response.status_code == 500
    error = _error(response)
    assert error["code"] == "internal_error"
    assert "secret" not in response.get_data(as_text=True) and "Traceback" not in response.get_data(as_text=True)


def test_openapi_document_describes_the_api(client):
    spec = client.get("/api/openapi.json").get_json()
    assert spec["openapi"].startswith("3.")
    assert {"/api/auth/login", "/api/auth/me", "/api/users", "/api/audit"} <= set(spec["paths"])
    login = spec["paths"]["/api/auth/login"]["post"]
    assert "requestBody" in login
    assert "Error" in spec["components"]["schemas"]


def _deep(levels: int) -> str:
    return '{"phone": ' + "[" * levels + "]" * levels + "}"


def test_json_nested_past_what_the_parser_takes_is_a_400(login_as):
    supervisor = login_as("supervisor")
    for levels in (1_000, 100_000):
        response = supervisor.post("/api/dnc", data=_deep(levels), content_type="application/json")
        assert response.status_code == 400, (levels, response.get_data(as_text=True)[:200])
        error = _error(response)
        assert error["code"] == "invalid_json" and "JSON" in error["message"]


def test_every_route_refuses_unreadable_json_with_a_400_before_anything_else(api, login_as):
    api.fetch_csrf()
    for body in ("[" * 5_000, _deep(5_000), "{not json", '{"username": "x", "password": "lone \\ud800 surrogate"}'):
        response = api.post("/api/auth/login", data=body, content_type="application/json")
        assert response.status_code == 400, (body[:20], response.get_data(as_text=True)[:200])
        assert _error(response)["code"] == "invalid_json"
    admin = login_as("admin")
    bad_utf8 = admin.patch("/api/users/1", data=b'{"full_name": "\xff\xfe"}', content_type="application/json")
    assert bad_utf8.status_code == 400 and _error(bad_utf8)["code"] == "invalid_json"


def test_reasonable_nesting_and_empty_bodies_still_pass(login_as):
    admin = login_as("admin")
    emoji = admin.post("/api/dnc", data='{"phone": "2125550188", "reason": "ok \\ud83d\\ude00"}',
                       content_type="application/json")  # a surrogate pair is fine
    assert emoji.status_code == 201 and emoji.get_json()["reason"] == "ok \U0001F600"
    empty = admin.post("/api/auth/logout", data=b"", content_type="application/json")
    assert empty.status_code == 204


def test_json_in_a_form_field_nested_too_deeply_is_refused_too(login_as, campaigns, upload_dir):
    import io

    admin = login_as("admin")
    cid = campaigns.create()
    response = admin.post(f"/api/campaigns/{cid}/contacts/import", content_type="multipart/form-data", data={
        "file": (io.BytesIO(b"phone\n2125550101\n"), "list.csv"), "column_map": "[" * 100_000})
    assert response.status_code == 422 and "column_map" in _error(response)["fields"]


def test_a_multipart_part_whose_name_cannot_be_read_is_a_4xx_not_a_500(app, login_as, campaigns):
    """Found by the API fuzz: a part named `"\\` arrives with no name, which broke the CSRF
    token lookup (cookie callers) and the writing of the field errors (token callers)."""
    campaign_id = campaigns.create()
    body = ('--b\r\nContent-Disposition: form-data; name="\\"\r\n\r\n{}\r\n'
            '--b\r\nContent-Disposition: form-data; name="x"\r\n\r\n1\r\n--b--\r\n')
    headers = {"Content-Type": "multipart/form-data; boundary=b"}
    admin = login_as("admin")
    cookie = admin.client.post(f"/api/campaigns/{campaign_id}/contacts/import", data=body, headers=headers)
    assert cookie.status_code == 400 and cookie.get_json()["error"]["code"] == "invalid_form"
    anonymous = app.test_client().post(f"/api/campaigns/{campaign_id}/contacts/import", data=body,
                                       headers=headers)
    assert anonymous.status_code in (400, 401) and "error" in anonymous.get_json()
    from app.auth.models import User
    from app.auth.services import issue_api_token
    from app.extensions import db

    with app.app_context():
        _, raw = issue_api_token(db.session.get(User, admin.user.id), "fuzz")
        db.session.commit()
    token = app.test_client().post(f"/api/campaigns/{campaign_id}/contacts/import", data=body,
                                   headers={**headers, "Authorization": f"Bearer {raw}"})
    assert token.status_code == 422, token.get_data(as_text=True)
    assert "(unnamed field)" in token.get_json()["error"]["fields"]
