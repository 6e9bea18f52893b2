"""Declared blackout days: admins declare and lift them (audited), supervisors read them, and
the check and the placement refuse a call to that state on those dates and not the day after.
Also the rule table as the Calling rules page reads it. Blackouts may not end in the past, so
the instants here are days from today, in the callee's own zone."""
from __future__ import annotations

from datetime import UTC, date, datetime, time as dtime, timedelta
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from app.extensions import db
from tests.compliance.test_placement_gates import _attempt, _campaign, _contact, sim  # noqa: F401

NEW_YORK = ZoneInfo("America/New_York")
BLACKOUTS = "/api/compliance/blackouts"


def _in(days: int) -> date:
    return datetime.now(UTC).date() + timedelta(days=days)


def _at(day: date, hour: int = 12) -> str:
    return datetime.combine(day, dtime(hour), tzinfo=NEW_YORK).isoformat()


def _declare(client, jurisdiction="US-FL", date_from=None, date_to=None, reason="Hurricane: state of emergency"):
    date_from = date_from or _in(10)
    body = {"jurisdiction": jurisdiction, "date_from": str(date_from), "date_to": str(date_to or date_from),
            "reason": reason}
    return client.post(BLACKOUTS, json=body)


def _audit(app, action):
    from app.audit.models import AuditEntry

    with app.app_context():
        return db.session.scalars(select(AuditEntry).where(AuditEntry.action == action)).all()


@pytest.fixture
def campaign_id(app):
    """A running preview campaign (agents dial by hand: no written-consent rule applies)."""
    from app.campaigns.models import Campaign

    with app.app_context():
        campaign = Campaign(name="Storm season", status="active", dial_mode="preview", caller_id="+12025550100",
                            seller_name="Sunshine Solar", seller_phone="+12025550199",
                            safe_harbour_message="Sunshine Solar, 202 555 0199.", ring_timeout_seconds=20,
                            window_start=dtime(8), window_end=dtime(21))
        db.session.add(campaign)
        db.session.commit()
        return campaign.id


def _check(client, phone, campaign_id, at):
    return client.get("/api/compliance/check?" + urlencode({"phone": phone, "campaign_id": campaign_id, "at": at}))


def test_an_admin_declares_lists_and_lifts_a_blackout_and_each_change_is_audited(app, login_as):
    admin = login_as("admin")
    first, last = _in(10), _in(12)
    created = _declare(admin, "us-fl ", first, last, "  Hurricane Zeta: state of emergency  ")
    assert created.status_code == 201, created.get_json()
    body = created.get_json()
    assert (body["jurisdiction"], body["place"], body["date_from"], body["date_to"]) == (
        "US-FL", "Florida", str(first), str(last))
    assert body["reason"] == "Hurricane Zeta: state of emergency" and body["created_by"] == admin.user.username
    everywhere = _declare(admin, "US", _in(20), reason="National day of mourning").get_json()
    assert everywhere["place"] == "Every state"

    listed = admin.get(BLACKOUTS + "?upcoming=true").get_json()
    assert [b["id"] for b in listed["items"]] == [body["id"], everywhere["id"]]  # by first day
    assert listed["meta"]["total"] == 2
    [added] = [e for e in _audit(app, "blackout.add") if e.target_id == str(body["id"])]
    assert added.actor_id == admin.user.id and added.details["jurisdiction"] == "US-FL"
    assert added.details["date_to"] == str(last)

    assert admin.delete(f"{BLACKOUTS}/{body['id']}").status_code == 204
    assert [b["id"] for b in admin.get(BLACKOUTS).get_json()["items"]] == [everywhere["id"]]
    [removed] = _audit(app, "blackout.remove")
    assert removed.target_id == str(body["id"]) and removed.details["reason"] == body["reason"]
    gone = admin.delete(f"{BLACKOUTS}/{body['id']}")
    assert gone.status_code == 404 and gone.get_json()["error"]["code"] == "not_found"


def test_only_blackouts_not_yet_over_are_upcoming(app, login_as):
    from app.compliance.models import BlackoutDay

    admin = login_as("admin")
    current = _declare(admin, "US-GA", _in(0), _in(1)).get_json()
    with app.app_context():  # declared long ago (the API refuses a past one)
        db.session.add(BlackoutDay(jurisdiction="US-GA", date_from=_in(-30), date_to=_in(-29), reason="Old storm"))
        db.session.commit()
    assert admin.get(BLACKOUTS).get_json()["meta"]["total"] == 2
    assert [b["id"] for b in admin.get(BLACKOUTS + "?upcoming=true").get_json()["items"]] == [current["id"]]


@pytest.mark.parametrize(("change", "field"), [
    ({"jurisdiction": "US-ZZ"}, "jurisdiction"),
    ({"jurisdiction": "FL"}, "jurisdiction"),
    ({"jurisdiction": ""}, "jurisdiction"),
    ({"date_from": "12/10/2026"}, "date_from"),
    ({"date_to": "2026-02-30"}, "date_to"),
    ({"date_from": str(_in(12)), "date_to": str(_in(11))}, "date_to"),
    ({"date_from": str(_in(-5)), "date_to": str(_in(-3))}, "date_to"),
    ({"reason": ""}, "reason"),
    ({"reason": "   "}, "reason"),
    ({"reason": "x" * 501}, "reason"),
    ({"reason": "storm\x00"}, "reason"),
    ({"reason": None}, "reason"),
])
def test_an_invalid_blackout_is_refused_naming_the_field(app, login_as, change, field):
    admin = login_as("admin")
    body = {"jurisdiction": "US-FL", "date_from": str(_in(10)), "date_to": str(_in(10)), "reason": "Storm",
            **change}
    response = admin.post(BLACKOUTS, json=body)
    assert response.status_code == 422, response.get_json()
    error = response.get_json()["error"]
    assert error["code"] == "validation_error" and list(error["fields"]) == [field]
    assert admin.get(BLACKOUTS).get_json()["meta"]["total"] == 0


def test_a_missing_field_is_named_too(login_as):
    response = login_as("admin").post(BLACKOUTS, json={"jurisdiction": "US-FL"})
    assert response.status_code == 422
    assert set(response.get_json()["error"]["fields"]) == {"date_from", "date_to", "reason"}


def test_supervisors_read_but_only_admins_write_and_agents_see_nothing(app, login_as):
    admin, supervisor, agent = login_as("admin"), login_as("supervisor"), login_as("agent")
    blackout_id = _declare(admin).get_json()["id"]
    assert supervisor.get(BLACKOUTS).status_code == 200
    assert supervisor.get("/api/compliance/rules").status_code == 200
    refused = _declare(supervisor)
    assert refused.status_code == 403 and refused.get_json()["error"]["code"] == "forbidden"
    assert supervisor.delete(f"{BLACKOUTS}/{blackout_id}").status_code == 403
    for path in (BLACKOUTS, "/api/compliance/rules"):
        assert agent.get(path).status_code == 403
        assert app.test_client().get(path).status_code == 401
    assert _declare(agent).status_code == 403
    assert agent.delete(f"{BLACKOUTS}/{blackout_id}").status_code == 403
    assert admin.get(BLACKOUTS).get_json()["meta"]["total"] == 1
    assert _audit(app, "blackout.remove") == []


def test_a_declared_blackout_refuses_that_state_on_those_days_and_not_the_day_after(login_as, campaign_id):
    admin = login_as("admin")
    storm = _in(10)
    assert _check(admin, "+13055550100", campaign_id, _at(storm)).get_json()["callable"] is True
    assert _declare(admin, "US-FL", storm, storm, "Hurricane Zeta").status_code == 201

    refused = _check(admin, "+13055550100", campaign_id, _at(storm)).get_json()  # Miami, noon
    assert refused["callable"] is False and refused["jurisdiction"] == "US-FL"
    [reason] = refused["reasons"]
    assert reason["code"] == "declared_blackout"
    assert "Florida" in reason["message"] and "Hurricane Zeta" in reason["message"]
    next_morning = datetime.combine(storm + timedelta(days=1), dtime(8), tzinfo=NEW_YORK)
    assert datetime.fromisoformat(refused["next_callable_at"]) == next_morning
    assert _check(admin, "+13055550100", campaign_id, _at(storm, 8)).get_json()["callable"] is False  # all day
    day_after = _check(admin, "+13055550100", campaign_id, _at(storm + timedelta(days=1))).get_json()
    assert day_after["callable"] is True
    atlanta = _check(admin, "+14045550100", campaign_id, _at(storm)).get_json()  # another state
    assert atlanta["callable"] is True and atlanta["jurisdiction"] == "US-GA"


def test_an_every_state_blackout_closes_each_state_but_not_a_number_abroad(login_as, campaign_id):
    admin = login_as("admin")
    day = _in(15)
    assert _declare(admin, "US", day, day, "National day of mourning").status_code == 201
    for phone in ("+13055550100", "+14045550100", "+12125550100"):
        body = _check(admin, phone, campaign_id, _at(day)).get_json()
        assert body["callable"] is False and [r["code"] for r in body["reasons"]] == ["declared_blackout"], phone
        assert "every state" in body["reasons"][0]["message"]
    london = _check(admin, "+442079460100", campaign_id, _at(day)).get_json()  # 17:00 in London
    assert london["callable"] is True


def test_a_blackout_declared_while_a_placement_waits_stops_it_at_the_carrier_s_door(ctx, sim):  # noqa: F811
    from app.calls import placement
    from app.calls.models import Call
    from app.compliance import blackouts
    from app.contacts.models import Contact

    storm = _in(8)
    at = datetime.combine(storm, dtime(10), tzinfo=NEW_YORK)
    campaign_id = _campaign()
    contact_id = _contact(campaign_id, "+12025550187")  # Washington, DC
    call_id = _attempt(campaign_id, contact_id, at)
    sim.engine.update_config({"rate_limit_probability": 1.0})
    assert placement.place_call(call_id, now=at).outcome == "rate_limited"
    blackouts.declare(None, "US-DC", storm, storm, "Inauguration: the District is closed")
    sim.engine.update_config({"rate_limit_probability": 0.0})  # the carrier would take it now
    result = placement.place_call(call_id, now=at + timedelta(seconds=3))
    assert (result.outcome, result.error) == ("held", "declared_blackout")
    assert sim.calls("+12025550187") == []
    db.session.rollback()
    contact = db.session.get(Contact, contact_id)
    assert db.session.get(Call, call_id) is None and contact.attempts == 0
    assert contact.next_due_at == datetime.combine(storm + timedelta(days=1), dtime(8), tzinfo=NEW_YORK)


def test_another_process_s_change_is_seen_at_the_next_check_through_redis(ctx, redis_client, monkeypatch):
    """The table is held for a few seconds per process; a change made by another process (it
    stores a fresh token in Redis) is read at once, and without one the copy is kept."""
    from flask import current_app

    from app.compliance import blackouts
    from app.compliance.models import BlackoutDay

    current_app.extensions.pop("compliance.blackouts", None)  # whatever an earlier test left
    assert blackouts.declared() == ()
    db.session.add(BlackoutDay(jurisdiction="US-FL", date_from=_in(3), date_to=_in(3), reason="Flooding"))
    db.session.flush()  # as if another process committed it, leaving this one's copy alone
    assert blackouts.declared() == ()  # held: no query per placement
    redis_client.set(blackouts.CHANGED_KEY, "changed-by-another-process")
    [seen] = blackouts.declared()
    assert (seen.jurisdiction, seen.reason) == ("US-FL", "Flooding")

    db.session.add(BlackoutDay(jurisdiction="US-GA", date_from=_in(3), date_to=_in(3), reason="Flooding"))
    db.session.flush()
    clock = blackouts.time.monotonic() + blackouts.CACHE_SECONDS + 1
    monkeypatch.setattr(blackouts.time, "monotonic", lambda: clock)
    assert {b.jurisdiction for b in blackouts.declared()} == {"US-FL", "US-GA"}  # and after a few seconds
    current_app.extensions.pop("compliance.blackouts", None)  # read at the patched clock


def test_the_rule_table_in_words(login_as):
    from app.compliance.jurisdictions import default_ruleset

    table = login_as("supervisor").get("/api/compliance/rules?year=2027").get_json()
    assert table["version"] == default_ruleset().version and table["year"] == 2027 and table["problems"] == []
    rules = {r["id"]: r for r in table["rules"]}
    assert table["rules"][0]["place"] == "Federal law (every state)"
    florida = rules["fl-hours"]
    assert (florida["place"], florida["summary"]) == ("Florida", "Calls 8:00–20:00 local time, every day")
    assert florida["kind_name"] == "Calling hours" and florida["in_force"] is True
    assert florida["effective_from"] == "2021-07-01" and "501.616" in florida["source"]["citation"]
    assert florida["note"]
    assert rules["al-sunday"]["summary"] == "No calls on Sundays"
    assert rules["fl-frequency"]["summary"] == "At most 3 calls in 24 hours to one person from one seller"
    assert rules["tx-hours"]["summary"] == "Calls 9:00–21:00 local time, Monday to Saturday; 12:00–21:00 on Sundays"
    assert rules["me-autodial-weekend"]["summary"] == (
        "No calls on Saturdays or Sundays (automatically dialled calls only)")
    holidays = {h["date"]: h["name"] for h in rules["al-holidays"]["holidays"]}
    # Christmas 2027 is a Saturday: Alabama keeps it on the Friday before as well.
    assert holidays["2027-12-25"] == "Christmas Day" and holidays["2027-12-24"] == "Christmas Day (observed)"
    places = {p["jurisdiction"]: p["name"] for p in table["places"]}
    assert places["US"] == "Every state" and places["US-FL"] == "Florida" and places["US-VI"] == "U.S. Virgin Islands"
