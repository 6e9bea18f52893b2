"""The account's numbers read through the real SDK from the simulator's IncomingPhoneNumbers,
campaign pools, and local presence when calls are placed (in-process, against the simulator)."""
from __future__ import annotations

from datetime import datetime, time, timezone

import pytest
from sqlalchemy import select

from app.audit.models import AuditEntry
from app.calls.models import Call
from app.calls.placement import place_call
from app.campaigns.models import Campaign
from app.contacts.models import Contact
from app.extensions import db

# A Wednesday, 13:00 in New York, 12:00 in Chicago, 10:00 in Los Angeles: every window is open.
NOW = datetime(2026, 12, 2, 18, 0, tzinfo=timezone.utc)
NYC, CHICAGO, SF, LA = "+12125550102", "+13125550104", "+14155550105", "+12135550106"
NUMBERS = {NYC: "New York City", CHICAGO: "Chicago", SF: "San Francisco", LA: "Los Angeles",
           "+13125550114": "Chicago two"}
DEFAULT = "+12025550199"


@pytest.fixture
def sim(placing_sim):
    placing_sim.configure(incoming_numbers=NUMBERS)
    return placing_sim


@pytest.fixture
def admin(login_as):
    return login_as("admin")


@pytest.fixture
def campaign(ctx):
    c = Campaign(name="Local presence", status="active", dial_mode="progressive", caller_id=DEFAULT,
                 seller_name="Acme Solar", seller_phone=DEFAULT, safe_harbour_message="Acme Solar, 202 555 0199.",
                 window_start=time(8, 0), window_end=time(21, 0), max_attempts=3, scrub_national_registry=False)
    db.session.add(c)
    db.session.commit()
    return c


def _pool(admin, campaign_id, numbers):
    return admin.put(f"/api/numbers/pools/{campaign_id}", json={"numbers": numbers})


def _place(sim, campaign, to, **contact_fields):
    """Place a call to `to`; returns the number shown as stored on the call and as the carrier got it."""
    contact = Contact(campaign_id=campaign.id, phone_e164=to, **contact_fields)
    db.session.add(contact)
    db.session.flush()
    call = Call(campaign_id=campaign.id, contact_id=contact.id, to_number=to, from_number=campaign.caller_id)
    db.session.add(call)
    db.session.commit()
    result = place_call(call.id, NOW)
    assert result.outcome == "placed", result
    call = db.session.get(Call, call.id)
    carrier_side = [c for c in sim.calls() if c["sid"] == result.call_sid]
    return call.from_number, carrier_side[0]["from"]


def test_the_numbers_are_read_from_the_carrier_with_the_sdk(sim, admin):
    response = admin.get("/api/numbers")
    assert response.status_code == 200, response.get_json()
    items = {n["phone_number"]: n for n in response.get_json()["items"]}
    assert set(items) == set(NUMBERS)
    assert items[CHICAGO]["friendly_name"] == "Chicago" and items[CHICAGO]["state"] == "IL"
    assert items[LA]["state"] == "CA" and items[LA]["in_account"] is True

    sim.configure(incoming_numbers={n: v for n, v in NUMBERS.items() if n != LA})  # released at the carrier
    items = {n["phone_number"]: n for n in admin.get("/api/numbers").get_json()["items"]}
    assert items[LA]["in_account"] is False


def test_only_admins_see_the_numbers(sim, login_as):
    assert login_as("supervisor").get("/api/numbers").status_code == 403


def test_a_number_outside_the_account_is_refused_with_a_field_error(sim, admin, campaign):
    admin.get("/api/numbers")
    response = _pool(admin, campaign.id, [CHICAGO, "+13125550177"])
    assert response.status_code == 422
    error = response.get_json()["error"]
    assert error["fields"]["numbers"] == ["+13125550177 is not one of the account's numbers."]
    pools = {p["campaign_id"]: p for p in admin.get("/api/numbers").get_json()["pools"]}
    assert pools[campaign.id]["numbers"] == []  # nothing half-saved


def test_a_pool_is_saved_and_audited(sim, admin, campaign):
    response = _pool(admin, campaign.id, [CHICAGO, NYC])  # never listed before: read on demand
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["numbers"] == sorted([CHICAGO, NYC])
    entry = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "number_pool.updated")).one()
    assert entry.details["after"] == sorted([CHICAGO, NYC])


def test_local_presence_shows_the_callee_area_code_else_state_else_the_default(sim, admin, campaign):
    assert _pool(admin, campaign.id, [NYC, CHICAGO, SF]).status_code == 200
    # Same area code: the 312 number, on our record and at the carrier.
    assert _place(sim, campaign, "+13125550150") == (CHICAGO, CHICAGO)
    # No 213 number in the pool, but San Francisco is in the callee's state.
    assert _place(sim, campaign, "+12135550150") == (SF, SF)
    # The address puts the callee in New York although the number is a Boston one.
    assert _place(sim, campaign, "+16175550150", region="NY")[0] == NYC
    # Nothing in Massachusetts: the campaign's own caller ID.
    assert _place(sim, campaign, "+16175550151") == (DEFAULT, DEFAULT)


def test_a_number_at_its_daily_cap_is_passed_over(sim, admin, campaign):
    admin.get("/api/numbers")
    assert _pool(admin, campaign.id, [CHICAGO, "+13125550114"]).status_code == 200
    numbers = {n["phone_number"]: n["id"] for n in admin.get("/api/numbers").get_json()["items"]}
    for number in (CHICAGO, "+13125550114"):
        assert admin.patch(f"/api/numbers/{numbers[number]}", json={"daily_cap": 1}).status_code == 200
    first = _place(sim, campaign, "+13125550160")[0]
    second = _place(sim, campaign, "+13125550161")[0]
    assert {first, second} == {CHICAGO, "+13125550114"}  # one each
    assert _place(sim, campaign, "+13125550162")[0] == DEFAULT  # both at their cap
    shown = {n["phone_number"]: n["calls_today"] for n in admin.get("/api/numbers").get_json()["items"]}
    assert shown[CHICAGO] == 0  # counted per UTC day: the test's day is not today


def test_a_rested_number_is_passed_over(sim, admin, campaign):
    from app.numbers.models import PhoneNumber

    assert _pool(admin, campaign.id, [CHICAGO]).status_code == 200
    number = db.session.scalars(select(PhoneNumber).where(PhoneNumber.phone_e164 == CHICAGO)).one()
    number.rested_until = datetime(2026, 12, 5, tzinfo=timezone.utc)
    db.session.commit()
    assert _place(sim, campaign, "+13125550170")[0] == DEFAULT
    assert admin.patch(f"/api/numbers/{number.id}", json={"back_in_service": True}).status_code == 200
    assert _place(sim, campaign, "+13125550171")[0] == CHICAGO


def test_a_bad_cap_is_a_field_error(sim, admin, campaign):
    admin.get("/api/numbers")
    number_id = admin.get("/api/numbers").get_json()["items"][0]["id"]
    response = admin.patch(f"/api/numbers/{number_id}", json={"daily_cap": 0})
    assert response.status_code == 422
    assert "daily_cap" in response.get_json()["error"]["fields"]


def test_the_numbers_page_is_for_admins(login_as):
    admin = login_as("admin")
    page = admin.get("/admin/numbers")
    assert page.status_code == 200
    assert b"Answers per 100 dials" in page.data and b"js/admin-numbers.js" in page.data
    assert b'href="/admin/numbers"' in admin.get("/admin/codes").data  # in the admin's navigation
    assert login_as("supervisor").get("/admin/numbers").status_code in (302, 403, 404)


def test_the_openapi_document_describes_the_numbers_routes(api):
    paths = api.get("/api/openapi.json").get_json()["paths"]
    assert {"get"} <= set(paths["/api/numbers"]) and "put" in paths["/api/numbers/pools/{campaign_id}"]
    assert "patch" in paths["/api/numbers/{number_id}"]


def test_the_numbers_our_calls_show_send_their_callers_to_omnivox(sim, admin, campaign):
    """A person who calls back the number a call showed must reach the seller (FTC TSR
    310.4(a)(8)): a number joining a pool is pointed at /twilio/inbound at the carrier, and so is
    a campaign's own caller ID at the next check; a number no call shows is left as it was."""
    from app.numbers.services import answer_calls_here, inbound_url
    from app.telephony.factory import get_carrier

    def at_carrier():
        return {n.phone_number: n.voice_url for n in get_carrier().list_numbers()}

    saved = _pool(admin, campaign.id, [CHICAGO]).get_json()
    assert saved["carrier_warning"] is None
    assert at_carrier()[CHICAGO] == inbound_url()
    assert at_carrier()[NYC] is None and at_carrier()[LA] is None

    campaign.caller_id = NYC  # a campaign's own number is shown too, when no pool number fits
    db.session.commit()
    assert answer_calls_here() is None
    assert at_carrier()[NYC] == inbound_url() and at_carrier()[LA] is None

    rows = {n["phone_number"]: n for n in admin.get("/api/numbers").get_json()["items"]}
    assert rows[CHICAGO]["answered_by_omnivox"] and rows[CHICAGO]["calls_go"].startswith("Omnivox answers")
    assert not rows[LA]["answered_by_omnivox"]
    assert rows[LA]["calls_go"] == "Nowhere: the carrier has no address for calls to it"
