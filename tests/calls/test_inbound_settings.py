"""A campaign's settings for calls to our numbers: the longest wait, the hold message and the
agents kept back, with their defaults, and a field error for each value out of bounds."""
import pytest

from tests.campaign_factory import campaign_payload


def test_a_new_campaign_waits_two_minutes_and_keeps_nobody_back(login_as):
    body = login_as("admin").post("/api/campaigns", json=campaign_payload()).get_json()
    assert (body["inbound_max_wait_seconds"], body["inbound_keep_agents"]) == (120, 0)
    assert "please stay on the line" in body["inbound_hold_message"]


def test_an_admin_changes_them(login_as, campaigns):
    admin = login_as("admin")
    cid = campaigns.create()
    changed = admin.patch(f"/api/campaigns/{cid}", json={
        "inbound_max_wait_seconds": 300, "inbound_keep_agents": 2,
        "inbound_hold_message": "Acme Solar will be with you shortly."})
    assert changed.status_code == 200, changed.get_json()
    assert admin.get(f"/api/campaigns/{cid}").get_json()["inbound_keep_agents"] == 2


@pytest.mark.parametrize("field, value, words", [
    ("inbound_max_wait_seconds", 5, "Between 10 and 3600 seconds."),
    ("inbound_max_wait_seconds", 7200, "Between 10 and 3600 seconds."),
    ("inbound_keep_agents", -1, "Between 0 and 500 agents."),
    ("inbound_hold_message", "", "Write the message (at most 1000 characters)."),
])
def test_values_out_of_bounds_are_refused_with_a_field_error(login_as, campaigns, field, value, words):
    admin = login_as("admin")
    cid = campaigns.create()
    refused = admin.patch(f"/api/campaigns/{cid}", json={field: value})
    assert refused.status_code == 422
    assert refused.get_json()["error"]["fields"] == {field: [words]}
