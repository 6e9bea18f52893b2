"""Contacts of a campaign: listed and created by admins and the campaign's supervisors."""
from __future__ import annotations

from sqlalchemy import func, or_, select

from app.audit import services as audit
from app.campaigns import access
from app.campaigns.models import Campaign
from app.common.pagination import paginate
from app.contacts import consents, lists
from app.contacts.models import Consent, Contact
from app.common.phones import check_state, contact_timezone, format_e164, normalize_phone, parse_phone, zones_agree
from app.dnc.services import is_dnc
from app.errors import ApiError
from app.extensions import db
from app.imports.models import ImportJob

# A contact's calls and callbacks live in higher packages (calls, interactions); their reader
# is plugged in at start-up (app._wire_features) so contacts does not import them.
def _history_reader(contact_id: int) -> dict:
    raise RuntimeError("contact history reader not wired: create the app with app.create_app")


def set_history_reader(reader) -> None:
    global _history_reader
    _history_reader = reader


def list_contacts(user, campaign_id: int, page: int, per_page: int, status: str | None = None,
                  q: str | None = None, timezone: str | None = None, import_job_id: int | None = None,
                  list: str | None = None) -> dict:
    """The campaign's contacts, filtered; `q` matches a name (first, last or both), an email, or
    some digits of the number; `list` is a list's id or "hand" (contacts added by hand)."""
    campaign = access.get_campaign(user, campaign_id, manage=True)
    query = select(Contact).where(Contact.campaign_id == campaign.id).order_by(Contact.id)
    if status:
        query = query.where(Contact.status == status)
    if timezone:
        query = query.where(Contact.timezone == timezone)
    if import_job_id is not None:
        query = query.where(Contact.import_job_id == import_job_id)
    if list == "hand":
        query = query.where(Contact.import_job_id.is_(None))
    elif list:
        query = query.where(Contact.import_job_id == int(list))
    if q:
        text = " ".join(q.replace("%", "").replace("_", "").replace("\\", "").split())
        digits = "".join(ch for ch in q if ch.isdigit())
        conditions = []
        if text:
            full_name = func.concat(Contact.first_name, " ", Contact.last_name)
            conditions += [full_name.ilike(f"%{text}%"), Contact.email.ilike(f"%{text}%")]
        if digits:
            conditions.append(Contact.phone_e164.like(f"%{digits}%"))
        query = query.where(or_(*conditions)) if conditions else query
    result = paginate(query, page, per_page)
    _describe(campaign.id, result["items"])
    return result


def _describe(campaign_id: int, contacts: list) -> None:
    """The words the browser shows beside each contact: its list, status and last outcome."""
    job_ids = {c.import_job_id for c in contacts if c.import_job_id is not None}
    jobs = {j.id: j for j in db.session.scalars(select(ImportJob).where(ImportJob.id.in_(job_ids)))} \
        if job_ids else {}
    words = lists.outcome_words(campaign_id)
    for contact in contacts:
        job = jobs.get(contact.import_job_id)
        contact.list_name = lists.list_name(job)
        contact.list_active = job.active if job else True
        contact.status_words = lists.STATUS_WORDS.get(contact.status, contact.status)
        contact.last_outcome_words = lists._words(words, contact.last_outcome)


def get_contact(user, campaign_id: int, contact_id: int) -> Contact:
    campaign = access.get_campaign(user, campaign_id, manage=True)
    contact = db.session.get(Contact, contact_id)
    if contact is None or contact.campaign_id != campaign.id:
        raise access.not_found("contact")
    return contact


def contact_detail(user, campaign_id: int, contact_id: int) -> Contact:
    """One contact with its list and its history in words (calls, callbacks)."""
    contact = get_contact(user, campaign_id, contact_id)
    _describe(contact.campaign_id, [contact])
    contact.history = _history_reader(contact.id)
    return contact


EDITABLE = ("first_name", "last_name", "email", "timezone", "region", "postal_code", "custom_fields")


def update_contact(user, campaign_id: int, contact_id: int, data: dict) -> Contact:
    """Edit a contact's details; a new number is checked as a new contact's is (E.164, not a
    duplicate, not on a do-not-call list) and the time zone derived again. Audited with the
    fields changed."""
    contact = get_contact(user, campaign_id, contact_id)
    campaign = db.session.get(Campaign, contact.campaign_id)
    problems: dict[str, list[str]] = {}
    phone = contact.phone_e164
    if "phone" in data:
        try:
            phone = format_e164(parse_phone(data["phone"], campaign.default_region))
        except ValueError as exc:
            problems["phone"] = [_sentence(str(exc))]
    if phone != contact.phone_e164 and not problems:
        if contact.status == "dialing":
            problems["phone"] = ["This contact is being dialled now: change the number after the call."]
        elif db.session.scalar(select(Contact.id).where(Contact.campaign_id == campaign.id,
                                                        Contact.phone_e164 == phone, Contact.id != contact.id)):
            problems["phone"] = ["Another contact of this campaign has this number."]
        elif is_dnc(phone, campaign.id):
            problems["phone"] = ["This number is on a do-not-call list."]
    values = {name: data[name] for name in EDITABLE if name in data}
    for name in ("timezone", "region", "postal_code", "email"):
        if name in values and isinstance(values[name], str):
            values[name] = values[name].strip() or None
    for name in ("first_name", "last_name"):
        if name in values:
            values[name] = values[name].strip()
    region = values.get("region", contact.region)
    postal = values.get("postal_code", contact.postal_code)
    stated_zone = values.get("timezone", contact.timezone)
    zone = contact.timezone
    if "region" in values and not problems.get("phone"):
        try:  # a state that exists (or a province of the number's country), as at import
            check_state(region, phone)
        except ValueError as exc:
            problems["region"] = [_sentence(str(exc))]
    if not problems.get("phone"):
        try:
            zone = contact_timezone(phone, stated_zone, region, postal)
        except ValueError as exc:
            problems["timezone"] = [_sentence(str(exc))]
    if problems:
        db.session.rollback()
        raise ApiError(422, "Some details need fixing", "validation_error", problems)
    changed = sorted(name for name, value in values.items() if getattr(contact, name) != value)
    for name in changed:
        setattr(contact, name, values[name])
    details = {}
    if phone != contact.phone_e164:
        details = {"old_phone": contact.phone_e164, "new_phone": phone}
        changed.append("phone")
        contact.phone_e164 = phone
    if zone != contact.timezone:
        contact.timezone = zone
        if "timezone" not in changed:
            changed.append("timezone")
    contact.zones_agree = zones_agree(zone, phone, contact.region, contact.postal_code)
    if changed:
        audit.record("contact.update", target_type="contact", target_id=contact.id,
                     campaign_id=contact.campaign_id, fields=sorted(changed), **details)
    db.session.commit()
    return contact_detail(user, campaign_id, contact.id)


def _sentence(text: str) -> str:
    text = text.strip()
    return (text[:1].upper() + text[1:]).rstrip(".") + "." if text else text


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
