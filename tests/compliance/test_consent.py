"""Consent to be called: required by a campaign or by a state for autodialled calls, recorded
per contact, and revoked by any reasonable means at once across every campaign of the seller."""
from __future__ import annotations

from datetime import datetime, time as dtime, timezone
from urllib.parse import urlencode

from sqlalchemy import select

from app.extensions import db
from tests.calls.factories import post_signed, status_form
from tests.dialer.test_disposition import connected  # noqa: F401 - fixture: an agent talking to a contact

ELEVEN_ET = "2026-12-02T11:00:00-05:00"  # a Wednesday


def _campaign(name: str, mode: str = "predictive", required: str = "none", seller: str = "Acme Solar") -> int:
    from app.campaigns.models import Campaign

    campaign = Campaign(name=name, status="active", dial_mode=mode, caller_id="+12025550100",
                        seller_name=seller, seller_phone="+12025550101", safe_harbour_message="Acme Solar.",
                        window_start=dtime(8), window_end=dtime(21), required_consent=required,
                        scrub_national_registry=False)  # the registry is tests/dnc/test_registry.py's subject
    db.session.add(campaign)
    db.session.commit()
    return campaign.id


def _contact(campaign_id: int, phone: str) -> int:
    from app.contacts.models import Contact

    contact = Contact(campaign_id=campaign_id, phone_e164=phone, timezone="America/New_York")
    db.session.add(contact)
    db.session.commit()
    return contact.id


def _check(client, phone, campaign_id, at=ELEVEN_ET):
    return client.get("/api/compliance/check?" + urlencode({"phone": phone, "campaign_id": campaign_id, "at": at})).get_json()


def _consent(client, campaign_id, contact_id, kind="prior_express_written"):
    response = client.post(f"/api/campaigns/{campaign_id}/contacts/{contact_id}/consents", json={
        "kind": kind, "given_at": "2026-11-01T10:00:00-05:00", "source": "https://acme.example/quote form",
        "evidence": "I agree to be called by Acme Solar at the number above, including by autodialer."})
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def test_a_campaign_that_requires_consent_waits_for_it_with_its_reason(app, login_as):
    with app.app_context():
        campaign_id = _campaign("needs consent", mode="preview", required="prior_express")
        contact_id = _contact(campaign_id, "+12125550201")
    admin = login_as("admin")
    before = _check(admin, "+12125550201", campaign_id)
    assert before["callable"] is False and before["next_callable_at"] is None
    assert [r["code"] for r in before["reasons"]] == ["consent_required"]
    consent = _consent(admin, campaign_id, contact_id, kind="prior_express")
    assert consent["evidence_sha256"] and len(consent["evidence_sha256"]) == 64 and "evidence" not in consent
    assert _check(admin, "+12125550201", campaign_id)["callable"] is True


def test_an_autodialled_florida_call_needs_written_consent_and_goes_with_it(app, login_as):
    with app.app_context():
        campaign_id = _campaign("florida auto")
        contact_id = _contact(campaign_id, "+13055550202")
    admin = login_as("admin")
    assert "written_consent_required" in [r["code"] for r in _check(admin, "+13055550202", campaign_id)["reasons"]]
    _consent(admin, campaign_id, contact_id, kind="prior_express")  # not written: still not enough
    assert _check(admin, "+13055550202", campaign_id)["callable"] is False
    _consent(admin, campaign_id, contact_id)
    assert _check(admin, "+13055550202", campaign_id)["callable"] is True


def _two_campaigns_with_consent(app, admin, phone: str, first: int | None = None):
    """The seller's first campaign (given, or new) and a second one, the person a contact of
    both with written consent, and a third campaign of another seller."""
    with app.app_context():
        made = [] if first else [_campaign(f"first {phone}", mode="preview")]
        made += [_campaign(f"second {phone}", mode="preview"),
                 _campaign(f"other seller {phone}", mode="preview", seller="Other Co")]
        ids = [(c, _contact(c, phone)) for c in made]
    for campaign_id, contact_id in ids:
        _consent(admin, campaign_id, contact_id)
    first = first or made[0]
    second, other = made[-2], made[-1]
    return first, second, other


def _consents_of(app, phone):
    from app.contacts.models import Consent

    with app.app_context():
        return db.session.scalars(select(Consent).where(Consent.phone_e164 == phone).order_by(Consent.id)).all()


def test_revoking_through_the_api_stops_every_campaign_of_the_seller_at_once(app, login_as):
    admin = login_as("admin")
    phone = "+12125550203"
    first, second, _ = _two_campaigns_with_consent(app, admin, phone)
    assert _check(admin, phone, second)["callable"] is True
    response = admin.post("/api/consents/revoke", json={"phone": "(212) 555-0203", "campaign_id": first,
                                                        "note": "asked by email"})
    assert response.status_code == 200 and response.get_json()["consents_revoked"] == 2
    for campaign_id in (first, second):
        body = _check(admin, phone, campaign_id)
        assert body["callable"] is False and "do_not_call" in [r["code"] for r in body["reasons"]]
    revoked = [c for c in _consents_of(app, phone) if c.revoked_at is not None]
    assert {(c.revoked_via, c.revoked_by_id) for c in revoked} == {("api", admin.user.id)}
    assert len(_consents_of(app, phone)) == 3  # another seller's consent is the other seller's (kept)


def test_the_opt_out_key_revokes_consent_across_the_seller_s_campaigns(app, client, login_as):
    from app.calls.models import Call

    admin = login_as("admin")
    phone = "+12125550204"
    first, second, _ = _two_campaigns_with_consent(app, admin, phone)
    with app.app_context():
        call = Call(campaign_id=first, to_number=phone, from_number="+12025550100", call_sid="CA" + "4" * 32,
                    status="in-progress")
        db.session.add(call)
        db.session.commit()
        call_id = call.id
    form = {**status_form("CA" + "4" * 32, "in-progress", 2), "Digits": "9"}
    assert post_signed(client, app, f"/twilio/opt-out?attempt={call_id}", form).status_code == 200
    for campaign_id in (first, second):
        assert _check(admin, phone, campaign_id)["callable"] is False
    assert {c.revoked_via for c in _consents_of(app, phone) if c.revoked_at} == {"opt_out_key"}


def test_a_do_not_call_disposition_revokes_consent_across_the_seller_s_campaigns(app, client, login_as, connected):  # noqa: F811
    from app.calls.models import Call
    from app.contacts.models import Contact

    console, campaign_id, call_id, sid, interaction_id = connected
    admin = login_as("admin")
    with app.app_context():
        contact = db.session.get(Contact, db.session.get(Call, call_id).contact_id)
        phone, contact_id = contact.phone_e164, contact.id
    _consent(admin, campaign_id, contact_id)
    first, second, _ = _two_campaigns_with_consent(app, admin, phone, first=campaign_id)
    form = status_form(sid, "completed", 3, CallDuration=42)
    assert post_signed(client, app, f"/twilio/status?attempt={call_id}", form).status_code == 204
    response = console.post(f"/api/interactions/{interaction_id}/disposition", json={"code": "DNC", "then": "ready"})
    assert response.status_code == 200, response.get_json()
    for other in (first, second):
        assert _check(admin, phone, other)["callable"] is False
    revoked = [c for c in _consents_of(app, phone) if c.revoked_at is not None]
    assert len(revoked) == 2 and {(c.revoked_via, c.revoked_by_id) for c in revoked} == {
        ("dnc_disposition", console.user.id)}
    assert len(_consents_of(app, phone)) == 3  # the other seller's consent is not theirs to revoke


def test_consent_is_for_admins_and_the_campaign_s_supervisors(app, login_as):
    with app.app_context():
        campaign_id = _campaign("scoped", mode="preview")
        contact_id = _contact(campaign_id, "+12125550205")
    body = {"kind": "prior_express", "given_at": "2026-11-01T10:00:00Z", "source": "call"}
    assert login_as("supervisor").post(f"/api/campaigns/{campaign_id}/contacts/{contact_id}/consents",
                                       json=body).status_code == 404
    assert login_as("agent").post(f"/api/campaigns/{campaign_id}/contacts/{contact_id}/consents",
                                  json=body).status_code == 403
    bad = login_as("admin").post(f"/api/campaigns/{campaign_id}/contacts/{contact_id}/consents",
                                 json={**body, "kind": "verbal", "given_at": "yesterday"})
    assert bad.status_code == 422 and {"kind", "given_at"} <= set(bad.get_json()["error"]["fields"])


def test_consent_comes_in_with_the_contact_list_and_bad_consent_lines_are_reported(app, login_as, campaigns,
                                                                                     upload_dir):
    import io

    from app.contacts.importer import run_contact_import
    from app.contacts.models import Consent, Contact
    from app.imports.models import ImportRejection

    campaign_id = campaigns.create()
    admin = login_as("admin")
    text = ("phone,first_name,consent,consent_date,consent_url,consent_text\n"
            "2125550301,Ann,written,2026-11-01T10:00:00-05:00,https://acme.example/form,I agree\n"
            "2125550302,Ben,,,,\n"
            "2125550303,Cat,verbal,2026-11-01T10:00:00-05:00,call,\n"
            "2125550304,Dan,express,yesterday,call,\n"
            "2125550305,Eve,written,2026-11-01T10:00:00Z,,\n")
    response = admin.post(f"/api/campaigns/{campaign_id}/contacts/import",
                          data={"file": (io.BytesIO(text.encode()), "leads.csv")}, content_type="multipart/form-data")
    assert response.status_code == 202, response.get_json()
    job_id = response.get_json()["id"]
    with app.app_context():
        run_contact_import(job_id)
        rejected = {r.line: r.reason for r in db.session.scalars(
            select(ImportRejection).where(ImportRejection.import_job_id == job_id))}
        assert set(rejected) == {4, 5, 6}
        assert rejected[4].startswith("consent_kind") and rejected[5].startswith("consent_at")
        assert rejected[6].startswith("consent_source")
        imported = {c.first_name: c.id for c in db.session.scalars(
            select(Contact).where(Contact.campaign_id == campaign_id))}
        assert set(imported) == {"Ann", "Ben"}
        [consent] = db.session.scalars(select(Consent).where(Consent.contact_id.in_(imported.values()))).all()
        assert (consent.contact_id, consent.kind, consent.source) == (
            imported["Ann"], "prior_express_written", "https://acme.example/form")
        assert consent.given_at == datetime(2026, 11, 1, 15, 0, tzinfo=timezone.utc)
        assert consent.evidence_sha256 is not None and len(consent.evidence_sha256) == 64
