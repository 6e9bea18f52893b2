"""Contacts of a campaign: listed and created by admins and the campaign's supervisors."""
from __future__ import annotations

from sqlalchemy import or_, select

from app.audit import services as audit
from app.campaigns import access
from app.common.pagination import paginate
from app.contacts import consents
from app.contacts.models import Consent, Contact
from app.common.phones import check_state, contact_timezone, format_e164, normalize_phone, parse_phone, zones_agree
from app.dnc.services import is_dnc
from app.errors import ApiError
from app.extensions import db


def list_contacts(user, campaign_id: int, page: int, per_page: int, status: str | None = None,
                  q: str | None = None, timezone: str | None = None, import_job_id: int | None = None) -> dict:
    campaign = access.get_campaign(user, campaign_id, manage=True)
    query = select(Contact).where(Contact.campaign_id == campaign.id).order_by(Contact.id)
    if status:
        query = query.where(Contact.status == status)
    if timezone:
        query = query.where(Contact.timezone == timezone)
    if import_job_id is not None:
        query = query.where(Contact.import_job_id == import_job_id)
    if q:
        text = q.replace("%", "").replace("_", "").replace("\\", "")
        digits = "".join(ch for ch in q if ch.isdigit())
        conditions = [Contact.first_name.ilike(f"%{text}%"), Contact.last_name.ilike(f"%{text}%"),
                      Contact.email.ilike(f"%{text}%")]
        if digits:
            conditions.append(Contact.phone_e164.like(f"%{digits}%"))
        query = query.where(or_(*conditions))
    return paginate(query, page, per_page)


def get_contact(user, campaign_id: int, contact_id: int) -> Contact:
    campaign = access.get_campaign(user, campaign_id, manage=True)
    contact = db.session.get(Contact, contact_id)
    if contact is None or contact.campaign_id != campaign.id:
        raise access.not_found("contact")
    return contact


def create_contact(user, campaign_id: int, data: dict) -> Contact:
    campaign = access.get_campaign(user, campaign_id, manage=True)
    region = campaign.default_region
    problems: dict[str, list[str]] = {}
    try:
        number = parse_phone(data["phone"], region)
    except ValueError as exc:
        raise ApiError(422, "Not a phone number", "validation_error", {"phone": [str(exc)]}) from None
    phone = format_e164(number)
    alt = []
    for raw in data.get("alt_phones") or []:
        try:
            alt.append(normalize_phone(raw, region, callable_only=True))
        except ValueError as exc:
            problems.setdefault("alt_phones", []).append(str(exc))
    try:
        check_state(data.get("region"), phone)
    except ValueError as exc:
        problems["region"] = [str(exc)]
    try:
        zone = contact_timezone(phone, data.get("timezone"), data.get("region"), data.get("postal_code"))
    except ValueError as exc:
        problems["timezone"] = [str(exc)]
    if problems:
        raise ApiError(422, "The contact has invalid fields", "validation_error", problems)
    if db.session.scalar(select(Contact.id).where(Contact.campaign_id == campaign.id,
                                                  Contact.phone_e164 == phone)) is not None:
        raise ApiError(409, "The number is already in the campaign", "conflict", {"phone": ["Duplicate."]})
    if is_dnc(phone, campaign.id):
        raise ApiError(409, "The number is on a do-not-call list", "on_dnc_list", {"phone": ["On a do-not-call list."]})
    contact = Contact(campaign_id=campaign.id, phone_e164=phone, alt_phones=alt, timezone=zone,
                      zones_agree=zones_agree(zone, phone, data.get("region"), data.get("postal_code")),
                      first_name=data.get("first_name", ""), last_name=data.get("last_name", ""),
                      email=data.get("email"), custom_fields=data.get("custom_fields") or {},
                      region=data.get("region"), postal_code=data.get("postal_code"))
    db.session.add(contact)
    db.session.flush()
    audit.record("contact.create", target_type="contact", target_id=contact.id, campaign_id=campaign.id)
    db.session.commit()
    return contact


def list_consents(user, campaign_id: int, contact_id: int) -> list:
    contact = get_contact(user, campaign_id, contact_id)
    return list(db.session.scalars(select(Consent).where(Consent.contact_id == contact.id)
                                   .order_by(Consent.given_at.desc(), Consent.id.desc())))


def add_consent(user, campaign_id: int, contact_id: int, data: dict) -> Consent:
    contact = get_contact(user, campaign_id, contact_id)
    consent = consents.record_consent(contact, data["kind"], data["given_at"], data["source"],
                                      evidence=data.get("evidence"), evidence_sha256=data.get("evidence_sha256"),
                                      created_by_id=user.id)
    db.session.flush()
    audit.record("consent.add", target_type="contact", target_id=contact.id, kind=consent.kind,
                 campaign_id=campaign_id)
    db.session.commit()
    return consent


def revoke_consent(user, data: dict) -> dict:
    campaign = access.get_campaign(user, data["campaign_id"], manage=True)
    try:
        phone = normalize_phone(data["phone"], campaign.default_region)
    except ValueError as exc:
        raise ApiError(422, "Not a phone number", fields={"phone": [str(exc)]}) from None
    revoked = consents.revoke(phone, campaign.seller_name, "api", by_user_id=user.id,
                              note=data.get("note") or "consent revoked through the API")
    db.session.commit()
    return {"phone": phone, "seller": campaign.seller_name, "consents_revoked": revoked}
