"""Each campaign rule that is law is refused with a field error that says why."""
import pytest

from tests.campaign_factory import campaign_payload


def _fields(response):
    assert response.status_code == 422, response.get_json()
    return response.get_json()["error"]["fields"]


@pytest.mark.parametrize("field, value, phrase", [
    ("ring_timeout_seconds", 14, "at least 15 seconds"),
    ("window_start", "07:59:00", "before 8 am"),
    ("window_end", "21:01:00", "after 9 pm"),
    ("max_abandon_rate", 0.031, "3%"),
    ("max_abandon_rate", 0, "3%"),
    ("caller_id", "", "caller ID must be transmitted"),
    ("caller_id", "202-555-0123", "E.164"),
    ("caller_id", "+1202555", "E.164"),
    ("safe_harbour_message", "Sorry we missed you.", "seller's name and a telephone number"),
    ("safe_harbour_message", "This is Acme Energy, goodbye.", "seller's name and a telephone number"),
])
def test_create_refuses_each_law_rule_with_the_reason(login_as, field, value, phrase):
    admin = login_as("admin")
    fields = _fields(admin.post("/api/campaigns", json=campaign_payload(**{field: value})))
    assert set(fields) == {field}
    assert any(phrase in message for message in fields[field]), fields


def test_the_boundaries_themselves_are_lawful(login_as):
    admin = login_as("admin")
    response = admin.post("/api/campaigns", json=campaign_payload(
        ring_timeout_seconds=15, window_start="08:00:00", window_end="21:00:00", max_abandon_rate=0.03))
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert (body["ring_timeout_seconds"], body["window_start"], body["window_end"], body["max_abandon_rate"]) == (
        15, "08:00:00", "21:00:00", 0.03)


def test_placeholders_name_the_seller_in_the_safe_harbour_message(login_as):
    admin = login_as("admin")
    response = admin.post("/api/campaigns", json=campaign_payload(
        safe_harbour_message="This is {seller_name}; call {seller_phone} or press 9."))
    assert response.status_code == 201, response.get_json()


def test_leaving_a_message_on_a_machine_must_identify_the_seller(login_as):
    admin = login_as("admin")
    fields = _fields(admin.post("/api/campaigns", json=campaign_payload(
        amd_enabled=True, machine_action="message", machine_message="Hi, call us!")))
    assert "identify the seller" in fields["machine_message"][0]


def test_patch_is_checked_against_the_merged_settings(login_as, campaigns):
    admin = login_as("admin")
    cid = campaigns.create(window_start="09:00:00", window_end="20:00:00")
    # Moving only the start past the existing end is refused even though 20:30 alone is lawful.
    fields = _fields(admin.patch(f"/api/campaigns/{cid}", json={"window_start": "20:30:00"}))
    assert "window_end" in fields
    fields = _fields(admin.patch(f"/api/campaigns/{cid}", json={"ring_timeout_seconds": 10}))
    assert "15 seconds" in fields["ring_timeout_seconds"][0]
    fields = _fields(admin.patch(f"/api/campaigns/{cid}", json={"seller_phone": "+12025550100"}))
    assert set(fields) == {"safe_harbour_message"}  # the message no longer gives the seller's number
    ok = admin.patch(f"/api/campaigns/{cid}", json={"max_abandon_rate": 0.025, "dial_mode": "predictive"})
    assert ok.status_code == 200 and ok.get_json()["dial_mode"] == "predictive"


def test_the_database_refuses_an_unlawful_campaign_too(ctx):
    from sqlalchemy.exc import IntegrityError

    from app.campaigns.models import Campaign
    from app.extensions import db

    db.session.add(Campaign(name="sneaky", caller_id="+12025550123", seller_name="x", seller_phone="+1",
                            safe_harbour_message="x", ring_timeout_seconds=5))
    with pytest.raises(IntegrityError):
        db.session.flush()
    db.session.rollback()


def test_disposition_flags_must_agree(login_as, campaigns):
    admin = login_as("admin")
    cid = campaigns.create()
    fields = _fields(admin.post(f"/api/campaigns/{cid}/disposition-codes",
                                json={"code": "OPTOUT", "label": "Opt out", "is_dnc": True}))
    assert "never be dialled again" in fields["is_final"][0]
    created = admin.post(f"/api/campaigns/{cid}/disposition-codes",
                         json={"code": "optout", "label": "Opt out", "is_dnc": True, "is_final": True})
    assert created.status_code == 201 and created.get_json()["code"] == "OPTOUT"
    again = admin.post(f"/api/campaigns/{cid}/disposition-codes", json={"code": "OPTOUT", "label": "x"})
    assert again.status_code == 409


def test_a_new_campaign_gets_standard_disposition_codes(login_as):
    admin = login_as("admin")
    body = admin.post("/api/campaigns", json=campaign_payload()).get_json()
    codes = {c["code"]: c for c in body["disposition_codes"]}
    assert {"SALE", "DNC", "CALLBACK"} <= set(codes)
    assert codes["DNC"]["is_dnc"] and codes["DNC"]["is_final"]


def test_status_moves_and_refuses_impossible_moves(login_as, campaigns):
    admin = login_as("admin")
    cid = campaigns.create()
    assert admin.post(f"/api/campaigns/{cid}/pause").status_code == 409  # a draft is not running
    assert admin.post(f"/api/campaigns/{cid}/start").get_json()["status"] == "active"
    assert admin.post(f"/api/campaigns/{cid}/pause").get_json()["status"] == "paused"
    assert admin.post(f"/api/campaigns/{cid}/start").get_json()["status"] == "active"
    assert admin.post(f"/api/campaigns/{cid}/stop").get_json()["status"] == "stopped"
    refused = admin.post(f"/api/campaigns/{cid}/start")
    assert refused.status_code == 409 and refused.get_json()["error"]["code"] == "invalid_state"
    assert admin.delete(f"/api/campaigns/{cid}").status_code == 409  # it ran: records are kept
