"""Disposition codes (per campaign) and pause codes (global or per campaign)."""
from __future__ import annotations

from sqlalchemy import or_, select

from app.audit import services as audit
from app.campaigns import access, rules
from app.campaigns.models import Campaign, DispositionCode, PauseCode
from app.common.pagination import paginate
from app.errors import ApiError
from app.extensions import db

FLAGS = ("is_contact", "is_sale", "is_dnc", "is_callback", "is_final")


def _check_flags(values: dict) -> None:
    problems = rules.disposition_problems(values)
    if problems:
        raise ApiError(422, "The disposition code's flags contradict each other", "validation_error", problems)


def list_disposition_codes(user, campaign_id: int) -> list[DispositionCode]:
    campaign = access.get_campaign(user, campaign_id)
    query = select(DispositionCode).where(DispositionCode.campaign_id == campaign.id)
    if user.role != "admin":
        query = query.where(DispositionCode.active.is_(True))
    return db.session.scalars(query.order_by(DispositionCode.sort_order, DispositionCode.id)).all()


def add_disposition_code(campaign: Campaign, data: dict, *, audit_it: bool = True) -> DispositionCode:
    values = {"is_contact": True, **data}
    _check_flags(values)
    code = values["code"].upper()
    if any(c.code == code for c in campaign.disposition_codes):
        raise ApiError(409, f"The campaign already has the code {code}", "conflict", {"code": ["Already used."]})
    item = DispositionCode(campaign=campaign, **{**values, "code": code})
    db.session.add(item)
    db.session.flush()
    if audit_it:
        audit.record("disposition_code.create", target_type="campaign", target_id=campaign.id, code=code)
    return item


def create_disposition_code(user, campaign_id: int, data: dict) -> DispositionCode:
    campaign = access.get_campaign(user, campaign_id)
    item = add_disposition_code(campaign, data)
    db.session.commit()
    return item


def _get_code(user, campaign_id: int, code_id: int) -> DispositionCode:
    campaign = access.get_campaign(user, campaign_id)
    item = db.session.get(DispositionCode, code_id)
    if item is None or item.campaign_id != campaign.id:
        raise access.not_found("disposition code")
    return item


def update_disposition_code(user, campaign_id: int, code_id: int, data: dict) -> DispositionCode:
    item = _get_code(user, campaign_id, code_id)
    merged = {f: getattr(item, f) for f in FLAGS} | data
    _check_flags(merged)
    for key, value in data.items():
        setattr(item, key, value)
    audit.record("disposition_code.update", target_type="campaign", target_id=campaign_id,
                 code=item.code, changed={k: str(v) for k, v in data.items()})
    db.session.commit()
    return item


def deactivate_disposition_code(user, campaign_id: int, code_id: int) -> DispositionCode:
    """Codes are retired, not deleted: past interactions keep pointing at them."""
    item = _get_code(user, campaign_id, code_id)
    item.active = False
    audit.record("disposition_code.deactivate", target_type="campaign", target_id=campaign_id, code=item.code)
    db.session.commit()
    return item


def pause_codes_for_campaign(campaign_id: int) -> list[PauseCode]:
    return db.session.scalars(
        select(PauseCode)
        .where(or_(PauseCode.campaign_id.is_(None), PauseCode.campaign_id == campaign_id),
               PauseCode.active.is_(True))
        .order_by(PauseCode.campaign_id.nulls_first(), PauseCode.code)
    ).all()


def list_pause_codes(user, page: int, per_page: int, campaign_id: int | None = None,
                     active: bool | None = None) -> dict:
    """Global codes plus those of the campaigns the caller may see (or of one campaign)."""
    query = select(PauseCode).order_by(PauseCode.id)
    if campaign_id is not None:
        access.get_campaign(user, campaign_id)
        query = query.where(or_(PauseCode.campaign_id.is_(None), PauseCode.campaign_id == campaign_id))
    elif user.role != "admin":
        query = query.where(or_(PauseCode.campaign_id.is_(None),
                                PauseCode.campaign_id.in_(access.assigned_campaign_ids(user))))
    if user.role != "admin":
        active = True
    if active is not None:
        query = query.where(PauseCode.active.is_(active))
    return paginate(query, page, per_page)


def create_pause_code(user, data: dict) -> PauseCode:
    if data.get("campaign_id") is not None and not access.can_see_campaign(user, data["campaign_id"]):
        raise ApiError(422, "No such campaign", "validation_error",
                       {"campaign_id": ["Choose a campaign from the list, or every campaign."]})
    code = data["code"].upper()
    exists = select(PauseCode.id).where(PauseCode.code == code)
    exists = exists.where(PauseCode.campaign_id.is_(None) if data.get("campaign_id") is None
                          else PauseCode.campaign_id == data["campaign_id"])
    if db.session.scalar(exists) is not None:
        raise ApiError(409, f"The pause code {code} exists", "conflict",
                       {"code": ["Already used where this code would be available."]})
    item = PauseCode(**{**data, "code": code})
    db.session.add(item)
    db.session.flush()
    audit.record("pause_code.create", target_type="pause_code", target_id=item.id, code=code,
                 campaign_id=item.campaign_id)
    db.session.commit()
    return item


def _get_pause_code(user, code_id: int) -> PauseCode:
    item = db.session.get(PauseCode, code_id)
    if item is None:
        raise access.not_found("pause code")
    if item.campaign_id is not None:
        access.get_campaign(user, item.campaign_id)
    return item


def update_pause_code(user, code_id: int, data: dict) -> PauseCode:
    item = _get_pause_code(user, code_id)
    for key, value in data.items():
        setattr(item, key, value)
    audit.record("pause_code.update", target_type="pause_code", target_id=item.id,
                 changed={k: str(v) for k, v in data.items()})
    db.session.commit()
    return item


def deactivate_pause_code(user, code_id: int) -> PauseCode:
    item = _get_pause_code(user, code_id)
    item.active = False
    audit.record("pause_code.deactivate", target_type="pause_code", target_id=item.id, code=item.code)
    db.session.commit()
    return item
