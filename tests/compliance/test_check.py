"""GET /api/compliance/check and `flask compliance check`: the gates' own answer, with the state
rules of the rule table (the instants are frozen through `at`), and the proof a placed call keeps."""
from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from urllib.parse import urlencode

import pytest

from app.extensions import db


@pytest.fixture
def seller(app):
    """Two running campaigns of one seller (preview: agents dial by hand, so state rules on
    autodialled calls do not apply), and a predictive one."""
    from app.campaigns.models import Campaign

    def campaign(name, mode="preview"):
        return Campaign(name=name, status="active", dial_mode=mode, caller_id="+12025550100",
                        seller_name="Sunshine Solar", seller_phone="+12025550199",
                        safe_harbour_message="Sunshine Solar, 202 555 0199.", ring_timeout_seconds=20,
                        window_start=datetime(2000, 1, 1, 8).time(), window_end=datetime(2000, 1, 1, 21).time())

    with app.app_context():
        first, second, auto = campaign("FL leads"), campaign("FL renewals"), campaign("FL auto", "predictive")
        db.session.add_all([first, second, auto])
        db.session.commit()
        return first.id, second.id, auto.id


def _check(client, **params):
    return client.get("/api/compliance/check?" + urlencode(params))


def test_florida_at_20_30_local_is_refused_until_08_00_next_day(login_as, seller):
    admin = login_as("admin")
    body = _check(admin, phone="+13055550100", campaign_id=seller[0], at="2026-12-02T20:30:00-05:00").get_json()
    assert body["callable"] is False and body["jurisdiction"] == "US-FL"
    assert "state_calling_hours" in [r["code"] for r in body["reasons"]]
    reason = next(r for r in body["reasons"] if r["code"] == "state_calling_hours")
    assert reason["source"] and "Florida" in reason["message"]
    assert body["next_callable_at"] == "2026-12-03T13:00:00+00:00"  # 08:00 in Miami
    assert body["zones"] == ["America/New_York"]
    ok = _check(admin, phone="+13055550100", campaign_id=seller[0], at="2026-12-02T19:30:00-05:00").get_json()
    assert ok["callable"] is True and ok["reasons"] == []


def test_a_fourth_call_in_24_hours_to_a_florida_person_is_refused_across_the_seller_s_campaigns(
        app, login_as, seller):
    from app.calls.models import Call

    first, second, _ = seller
    at = datetime(2026, 12, 2, 18, 0, tzinfo=timezone.utc)  # 13:00 in Miami
    with app.app_context():
        for i, (campaign_id, hours_ago) in enumerate(((first, 20), (second, 9), (first, 2))):
            db.session.add(Call(campaign_id=campaign_id, to_number="+13055550101", from_number="+12025550100",
                                call_sid=f"CA{i:032d}", status="completed",
                                queued_at=at - timedelta(hours=hours_ago)))
        db.session.commit()
    admin = login_as("admin")
    body = _check(admin, phone="+13055550101", campaign_id=second, at=at.isoformat()).get_json()
    assert body["callable"] is False
    assert [r["code"] for r in body["reasons"]] == ["state_frequency_cap"]
    # The oldest of the three leaves the 24 hours at 22:00 UTC.
    assert body["next_callable_at"] == "2026-12-02T22:00:00+00:00"
    later = _check(admin, phone="+13055550101", campaign_id=second, at=(at + timedelta(hours=4, minutes=1)).isoformat())
    assert later.get_json()["callable"] is True


def test_alabama_on_a_sunday_is_refused(login_as, seller):
    body = _check(login_as("admin"), phone="+12055550100", campaign_id=seller[0],
                  at="2026-12-06T14:00:00-06:00").get_json()
    assert body["callable"] is False and body["jurisdiction"] == "US-AL"
    assert "state_sunday_ban" in [r["code"] for r in body["reasons"]]
    assert body["next_callable_at"] == "2026-12-07T14:00:00+00:00"  # Monday 08:00 in Birmingham


def test_texas_on_a_sunday_is_refused_at_11_00_and_allowed_at_12_30(login_as, seller):
    admin = login_as("admin")
    early = _check(admin, phone="+12145550100", campaign_id=seller[0], at="2026-12-06T11:00:00-06:00").get_json()
    assert early["callable"] is False and early["jurisdiction"] == "US-TX"
    assert early["next_callable_at"] == "2026-12-06T18:00:00+00:00"  # 12:00 in Dallas
    late = _check(admin, phone="+12145550100", campaign_id=seller[0], at="2026-12-06T12:30:00-06:00").get_json()
    assert late["callable"] is True


def test_an_autodialled_florida_call_waits_for_written_consent(login_as, seller):
    body = _check(login_as("admin"), phone="+13055550102", campaign_id=seller[2],
                  at="2026-12-02T11:00:00-05:00").get_json()
    assert body["callable"] is False and body["next_callable_at"] is None  # waiting will not help
    assert "written_consent_required" in [r["code"] for r in body["reasons"]]


def test_a_contact_s_own_data_is_used_and_a_bare_number_takes_state_and_zip(app, login_as, seller):
    from app.contacts.models import Contact

    with app.app_context():
        db.session.add(Contact(campaign_id=seller[0], phone_e164="+12125550103", timezone="Europe/London"))
        db.session.commit()
    admin = login_as("admin")
    contact = _check(admin, phone="+12125550103", campaign_id=seller[0], at="2026-12-02T11:55:00+00:00").get_json()
    assert contact["callable"] is False and contact["zones"] == ["America/New_York", "Europe/London"]
    assert contact["contact_id"] is not None
    bare = _check(admin, phone="+12125550104", campaign_id=seller[0], state="TX",
                  at="2026-12-02T14:30:00+00:00").get_json()  # 08:30 in Chicago, 07:30 in El Paso
    assert bare["callable"] is False and "US-TX" in bare["jurisdictions"]
    assert bare["zones"] == ["America/Chicago", "America/Denver", "America/New_York"]


def test_bad_input_and_who_may_ask(login_as, seller, users, app):
    from app.campaigns.models import CampaignAssignment

    admin = login_as("admin")
    bad_at = _check(admin, phone="+13055550100", campaign_id=seller[0], at="tomorrow at noon")
    assert bad_at.status_code == 422 and "at" in bad_at.get_json()["error"]["fields"]
    bad_phone = _check(admin, phone="12", campaign_id=seller[0])
    assert bad_phone.status_code == 422 and "phone" in bad_phone.get_json()["error"]["fields"]
    assert _check(login_as("agent"), phone="+13055550100", campaign_id=seller[0]).status_code == 403
    outsider = login_as("supervisor")
    assert _check(outsider, phone="+13055550100", campaign_id=seller[0]).status_code == 404
    with app.app_context():
        db.session.add(CampaignAssignment(campaign_id=seller[0], user_id=outsider.user.id, role="supervisor"))
        db.session.commit()
    assert _check(outsider, phone="+13055550100", campaign_id=seller[0]).status_code == 200


def test_the_cli_gives_the_same_answer(app, seller):
    runner = app.test_cli_runner()
    result = runner.invoke(args=["compliance", "check", "+13055550100", "--campaign", str(seller[0]),
                                 "--at", "2026-12-02T20:30:00-05:00"])
    assert result.exit_code == 0, result.output
    body = json.loads(result.output)
    assert body["callable"] is False and body["next_callable_at"] == "2026-12-03T13:00:00+00:00"
    bad = runner.invoke(args=["compliance", "check", "+13055550100", "--campaign", str(seller[0]), "--at", "noon"])
    assert bad.exit_code != 0 and "ISO 8601" in bad.output


def test_a_placed_call_keeps_its_proof_in_the_call_record_and_its_export(app, login_as, placement_clock,
                                                                          placing_sim):
    from app.calls import placement
    from tests.calls.factories import make_call, make_campaign

    call_id = make_call(app, make_campaign(app), to_number="+12025550186")
    with app.app_context():
        assert placement.place_call(call_id).outcome == "placed"
    admin = login_as("admin")
    proof = admin.get(f"/api/call-records/{call_id}").get_json()["call"]["compliance"]
    assert proof["checked_at"] == placement_clock.isoformat(timespec="seconds")
    assert proof["zones"] == [{"zone": "America/New_York", "local_time": "2026-12-02T10:00:00-05:00"}]
    assert proof["ruleset_version"] and proof["on_do_not_call_list"] is False
    assert "internal" in proof["lists_checked"]
    csv_text = admin.get("/api/call-records/export").get_data(as_text=True)
    assert "ruleset_version" in csv_text
