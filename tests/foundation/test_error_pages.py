"""A page address that does not exist answers a page in words (web/error.html), not the
framework's JSON ("The requested URL was not found on the server..."); API paths keep JSON."""


def test_an_unknown_page_is_a_page_in_words_not_framework_json(app, login_as):
    client = login_as("admin")
    got = client.get("/admin/campaign/99999999/nothing-here")
    assert got.status_code == 404
    assert got.mimetype == "text/html", (got.mimetype, got.get_data(as_text=True)[:160])
    assert "requested URL" not in got.get_data(as_text=True)


def test_an_unknown_api_path_keeps_the_json_error_shape(app, login_as):
    got = login_as("admin").get("/api/no-such-thing")
    assert got.status_code == 404 and got.get_json()["error"]["code"] == "not_found"
