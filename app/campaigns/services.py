"""Campaign rules: settings the law bounds, the run state, and who works each campaign."""
from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from app.audit import services as audit
from app.auth.models import User
from app.campaigns import access, rules
from app.campaigns.signals import assignment_ended
from app.campaigns.models import Campaign, CampaignAssignment
from app.common.pagination import paginate
from app.common.timeutil import utcnow
from app.errors import ApiError
from app.extensions import db

SETTINGS = (
    "name", "description", "dial_mode", "caller_id", "timezone", "default_region",
    "ring_timeout_seconds", "window_start", "window_end", "max_abandon_rate", "max_attempts",
    "retry_busy_seconds", "retry_no_answer_seconds", "retry_machine_seconds", "retry_failed_seconds",
    "amd_enabled", "machine_action", "machine_message", "recording_enabled", "recording_retention_days", "seller_name",
    "seller_phone", "safe_harbour_message", "script", "scrub_national_registry",
    "inbound_max_wait_seconds", "inbound_hold_message", "inbound_keep_agents",
)
# What a new campaign gets unless told otherwise (the same as the database defaults).
DEFAULTS = {
    "description": "", "dial_mode": "progressive", "timezone": "America/New_York",
    "default_region": "US", "ring_timeout_seconds": 25, "window_start": rules.time(9, 0),
    "window_end": rules.time(20, 0), "max_abandon_rate": rules.Decimal("0.03"), "max_attempts": 3,
    "retry_busy_seconds": 900, "retry_no_answer_seconds": 3600, "retry_machine_seconds": 14400,
    "retry_failed_seconds": 1800, "amd_enabled": False, "machine_action": "hangup",
    "machine_message": "", "recording_enabled": False, "script": "", "scrub_national_registry": True,
    "inbound_max_wait_seconds": 120, "inbound_keep_agents": 0,
}
STANDARD_DISPOSITIONS = [
    dict(code="SALE", label="Sale", is_contact=True, is_sale=True, is_final=True, sort_order=10),
    dict(code="NOT_INTERESTED", label="Not interested", is_contact=True, is_final=True, sort_order=20),
    dict(code="CALLBACK", label="Call back later", is_contact=True, is_callback=True, sort_order=30),
    dict(code="DNC", label="Do not call", is_contact=True, is_dnc=True, is_final=True, sort_order=40),
    dict(code="WRONG_NUMBER", label="Wrong number", is_contact=False, is_final=True, sort_order=50),
]
# action -> (statuses it may start from, status it leads to)
TRANSITIONS = {
    "start": ({"draft", "paused"}, "active"),
    "pause": ({"active"}, "paused"),
    "stop": ({"draft", "active", "paused"}, "stopped"),
}


def list_campaigns(user, page: int, per_page: int, status: str | None = None,
                   dial_mode: str | None = None, q: str | None = None) -> dict:
    query = access.scope_campaigns(select(Campaign).order_by(Campaign.id), user)
    if status:
        query = query.where(Campaign.status == status)
    if dial_mode:
        query = query.where(Campaign.dial_mode == dial_mode)
    if q:
        query = query.where(Campaign.name.ilike(f"%{_like(q)}%"))
    return paginate(query, page, per_page)


def _like(text: str) -> str:
    return text.replace("\\", "").replace("%", "").replace("_", "")


def campaign_detail(user, campaign_id: int) -> Campaign:
    """The campaign with its active disposition and pause codes (what an agent's console needs)."""
    from app.campaigns.codes import pause_codes_for_campaign

    campaign = access.get_campaign(user, campaign_id)
    # Transient attributes the detail schema reads; agents see only the codes they may use.
    campaign.pause_codes_shown = pause_codes_for_campaign(campaign.id)
    codes = sorted(campaign.disposition_codes, key=lambda c: (c.sort_order, c.id))
    campaign.disposition_codes_shown = codes if user.role == "admin" else [c for c in codes if c.active]
    return campaign


def _check_rules(values: dict) -> None:
    problems = rules.campaign_problems(values)
    if problems:
        raise ApiError(422, "Please correct: " + rules.in_words(problems) + ".",
                       "validation_error", problems)


def _name_taken(name: str, exclude_id: int | None = None) -> bool:
    query = select(Campaign.id).where(Campaign.name == name)
    if exclude_id is not None:
        query = query.where(Campaign.id != exclude_id)
    return db.session.scalar(query) is not None


def create_campaign(user, data: dict) -> Campaign:
    values = {**DEFAULTS, **{k: v for k, v in data.items() if k in SETTINGS}}
    if values.get("default_region"):
        values["default_region"] = values["default_region"].upper()
    _check_rules(values)
    if _name_taken(values["name"]):
        raise ApiError(409, "A campaign with that name exists", "conflict", {"name": ["Already taken."]})
    campaign = Campaign(**values, created_by_id=user.id)
    db.session.add(campaign)
    db.session.flush()
    from app.campaigns.codes import add_disposition_code

    for code in data.get("disposition_codes") or STANDARD_DISPOSITIONS:
        add_disposition_code(campaign, code, audit_it=False)
    _replace_assignments(campaign, data.get("agent_ids"), data.get("supervisor_ids"))
    audit.record("campaign.create", target_type="campaign", target_id=campaign.id, name=campaign.name)
    _commit()
    return campaign


def update_campaign(user, campaign_id: int, data: dict) -> Campaign:
    campaign = access.get_campaign(user, campaign_id)
    if "default_region" in data:
        data["default_region"] = data["default_region"].upper()
    merged = {k: getattr(campaign, k) for k in SETTINGS}
    merged.update({k: v for k, v in data.items() if k in SETTINGS})
    _check_rules(merged)
    if "name" in data and _name_taken(data["name"], campaign.id):
        raise ApiError(409, "A campaign with that name exists", "conflict", {"name": ["Already taken."]})
    changed = {}
    for key, value in data.items():
        if key in SETTINGS and getattr(campaign, key) != value:
            changed[key] = str(value)
            setattr(campaign, key, value)
    audit.record("campaign.update", target_type="campaign", target_id=campaign.id, changed=changed)
    _commit()
    if "dial_mode" in changed:
        _pacing_line_ended(campaign.id)
    return campaign


def delete_campaign(user, campaign_id: int) -> None:
    campaign = access.get_campaign(user, campaign_id)
    if campaign.started_at is not None:
        raise ApiError(409, "A campaign that has run keeps its records; stop it instead", "conflict")
    audit.record("campaign.delete", target_type="campaign", target_id=campaign.id, name=campaign.name)
    db.session.delete(campaign)
    db.session.commit()


def change_status(user, campaign_id: int, action: str) -> Campaign:
    """start / pause / stop, for admins and the campaign's own supervisors."""
    campaign = access.get_campaign(user, campaign_id, manage=True)
    allowed_from, to_status = TRANSITIONS[action]
    if campaign.status not in allowed_from:
        raise ApiError(409, f"A {campaign.status} campaign cannot {action}", "invalid_state")
    if action == "start" and not any(c.active for c in campaign.disposition_codes):
        raise ApiError(409, "The campaign needs at least one active disposition code to start",
                       "invalid_state")
    previous = campaign.status
    campaign.status = to_status
    if action == "start" and campaign.started_at is None:
        campaign.started_at = utcnow()
    audit.record(f"campaign.{action}", target_type="campaign", target_id=campaign.id,
                 from_status=previous, to_status=to_status)
    db.session.commit()
    if previous == "active" and to_status != "active":
        _pacing_line_ended(campaign.id)
    return campaign


def _pacing_line_ended(campaign_id: int) -> None:
    """A campaign paused, stopped or switched to another mode is no longer paced by the pacer's
    last reasons: the wallboard's line on why the dialer holds back goes at once, not at the
    board's next read (up to 20 s). A campaign started again, or switched back to predictive,
    has its line published by its next pacing tick."""
    from app.campaigns import steering
    from app.common.redis import get_redis
    from app.realtime.publish import campaign_room, publish

    steering.forget_shown(get_redis(), campaign_id)
    publish("campaign.figures", {"campaign_id": campaign_id, "pacing": None}, room=campaign_room(campaign_id))


def assignments(user, campaign_id: int) -> dict:
    campaign = access.get_campaign(user, campaign_id, manage=True)
    ids = {a.user_id: a.role for a in campaign.assignments}
    people = db.session.scalars(select(User).where(User.id.in_(ids)).order_by(User.id)).all() if ids else []
    by_role: dict[str, list] = {"agents": [], "supervisors": []}
    for assignment in sorted(campaign.assignments, key=lambda a: a.user_id):
        person = next(p for p in people if p.id == assignment.user_id)
        by_role["agents" if assignment.role == "agent" else "supervisors"].append(person)
    return by_role


def set_assignments(user, campaign_id: int, agent_ids: list[int] | None,
                    supervisor_ids: list[int] | None) -> dict:
    campaign = access.get_campaign(user, campaign_id)
    before = {(a.user_id, a.role) for a in campaign.assignments}
    _replace_assignments(campaign, agent_ids, supervisor_ids)
    removed = before - {(a.user_id, a.role) for a in campaign.assignments}
    audit.record("campaign.assignments", target_type="campaign", target_id=campaign.id,
                 agent_ids=agent_ids, supervisor_ids=supervisor_ids)
    db.session.commit()
    _assignments_ended(campaign.id, removed)
    db.session.refresh(campaign)
    return assignments(user, campaign_id)


def _assignments_ended(campaign_id: int, removed: set[tuple[int, str]]) -> None:
    """People taken off the campaign lose it at once: a supervisor's open sockets stop hearing
    it, an agent working it stops taking its calls."""
    from app.realtime import presence

    for user_id, role in sorted(removed):
        if role == "supervisor":
            presence.stop_hearing_campaign(user_id, campaign_id)
        assignment_ended.send(campaign_id, user_id=user_id, role=role)


def _replace_assignments(campaign: Campaign, agent_ids, supervisor_ids) -> None:
    problems = {}
    for field, role, ids in (("agent_ids", "agent", agent_ids), ("supervisor_ids", "supervisor", supervisor_ids)):
        if ids is None:
            continue
        ids = sorted(set(ids))
        found = set(db.session.scalars(
            select(User.id).where(User.id.in_(ids), User.role == role, User.active.is_(True))
        )) if ids else set()
        missing = [i for i in ids if i not in found]
        if missing:
            named = db.session.scalars(select(User).where(User.id.in_(missing)).order_by(User.id)).all()
            who = ", ".join(u.full_name or u.username for u in named) or "someone who no longer exists"
            problems[field] = [f"Only active {role}s can be assigned as {role}s: {who} cannot."]
            continue
        for assignment in [a for a in campaign.assignments if a.role == role]:
            if assignment.user_id not in found:
                campaign.assignments.remove(assignment)
        have = {a.user_id for a in campaign.assignments if a.role == role}
        for user_id in ids:
            if user_id not in have:
                campaign.assignments.append(CampaignAssignment(user_id=user_id, role=role))
    if problems:
        raise ApiError(422, "Some people chosen cannot work this campaign in that role",
                       "validation_error", problems)
    db.session.flush()


def _commit() -> None:
    try:
        db.session.commit()
    except IntegrityError as exc:  # the database's own law constraints, as a last line
        db.session.rollback()
        raise ApiError(422, "The campaign settings break a rule the database keeps (the law's "
                            "limits)", "validation_error") from exc

