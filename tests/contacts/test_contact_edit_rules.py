"""a contact edit must refuse what adding the contact refuses (issue 20: "a state
of ZZ ... accepted"): every path that creates or changes a contact."""
from tests.contacts.test_import_reading import cid  # noqa: F401  (fixture)


def test_editing_a_contact_refuses_a_state_that_is_not_one(app, login_as, cid):  # noqa: F811
    client = login_as("admin")
    path = f"/api/campaigns/{cid}/contacts"
    made = client.post(path, json={"phone": "2125550194", "region": "NY"})
    assert made.status_code == 201, made.get_json()
    contact_id = made.get_json()["id"]
    edited = client.patch(f"{path}/{contact_id}", json={"region": "ZZ"})
    assert edited.status_code == 422, (edited.status_code, client.get(f"{path}/{contact_id}").get_json()["region"])
    assert "not a US state" in edited.get_json()["error"]["fields"]["region"][0]


def test_editing_a_contact_refuses_a_premium_rate_number(app, login_as, cid):  # noqa: F811
    client = login_as("admin")
    path = f"/api/campaigns/{cid}/contacts"
    contact_id = client.post(path, json={"phone": "2125550195"}).get_json()["id"]
    edited = client.patch(f"{path}/{contact_id}", json={"phone": "+1 900 555 0195"})
    assert edited.status_code == 422
    assert "premium-rate" in edited.get_json()["error"]["fields"]["phone"][0].lower()
