"""User administration (admins only; the routes check the role, these apply the rules)."""
from __future__ import annotations

from sqlalchemy import select

from app.agents.models import AgentProfile
from app.audit import services as audit
from app.auth import services as auth
from app.auth.models import ROLES, ApiToken, User
from app.auth.passwords import hash_password
from app.common.pagination import paginate
from app.common.timeutil import utcnow
from app.errors import ApiError
from app.extensions import db


def list_users(page: int, per_page: int, role: str | None = None, active: bool | None = None,
               q: str | None = None) -> dict:
    query = select(User).order_by(User.id)
    if role:
        query = query.where(User.role == role)
    if active is not None:
        query = query.where(User.active == active)
    if q:
        query = query.where(User.username.ilike(f"%{q.replace('%', '').replace('_', '')}%"))
    return paginate(query, page, per_page)


def create_user(username: str, password: str, role: str, *, full_name: str = "",
                email: str | None = None) -> User:
    """A new user of `role` (an agent with their profile), flushed, not committed: the one way
    a user comes to exist (the API, `flask users create`, the demo and the tests)."""
    username = username.strip()
    if role not in ROLES:
        raise ApiError(422, "Unknown role", fields={"role": [f"Must be one of: {', '.join(ROLES)}."]})
    if not username or len(username) > 64:
        raise ApiError(422, "Invalid username", fields={"username": ["Must be 1 to 64 characters."]})
    if auth.find_user(username) is not None:
        raise ApiError(409, "A user with that username already exists", "conflict",
                       {"username": ["Already taken."]})
    auth.validate_new_password(password, username)
    user = User(username=username, role=role, password_hash=hash_password(password),
                full_name=full_name, email=email, password_changed_at=utcnow())
    db.session.add(user)
    db.session.flush()
    if role == "agent":
        db.session.add(AgentProfile(user_id=user.id, client_identity=f"agent-{user.id}"))
    return user


def add_user(data: dict) -> User:
    """An admin creates a user through the API."""
    user = create_user(data["username"], data["password"], data["role"],
                       full_name=data.get("full_name", ""), email=data.get("email"))
    audit.record("user.create", target_type="user", target_id=user.id, role=user.role)
    db.session.commit()
    return user


def get_user(user_id: int) -> User:
    user = db.session.get(User, user_id)
    if user is None:
        raise ApiError(404, "No such user", "not_found")
    return user


def _drop_assignments_not_for(user: User) -> None:
    """An assignment is for the role a user holds: a changed role drops the others."""
    from sqlalchemy import delete

    from app.campaigns.models import CampaignAssignment

    keep = {"agent": "agent", "supervisor": "supervisor"}.get(user.role)
    query = delete(CampaignAssignment).where(CampaignAssignment.user_id == user.id)
    if keep:
        query = query.where(CampaignAssignment.role != keep)
    db.session.execute(query)


def _access_ended(user: User, reason: str, *, was_agent: bool) -> None:
    """After the commit that ended the user's sessions: close their open sockets and take an
    agent out of routing, at once and in every process."""
    from app.agents.services import sign_off
    from app.realtime import presence

    presence.close_user_sockets(user.id)
    if was_agent:
        sign_off(user.id, reason)


def update_user(actor: User, user_id: int, data: dict) -> User:
    """Edit a user. A new password or role signs them out everywhere."""
    user = get_user(user_id)
    was_agent = user.role == "agent"
    changed = {}
    if "username" in data and data["username"].strip() != user.username:
        name = data["username"].strip()
        other = auth.find_user(name)
        if other is not None and other.id != user.id:
            raise ApiError(409, "A user with that username already exists", "conflict",
                           {"username": ["Already taken."]})
        user.username = changed["username"] = name
    for key in ("full_name", "email"):
        if key in data and getattr(user, key) != data[key]:
            setattr(user, key, data[key])
            changed[key] = data[key]
    if "role" in data and data["role"] != user.role:
        if user.id == actor.id:
            raise ApiError(409, "You cannot change your own role", "conflict", {"role": ["Ask another admin."]})
        changed["role"] = f"{user.role}->{data['role']}"
        user.role = data["role"]
        if user.role == "agent" and user.agent_profile is None:
            db.session.add(AgentProfile(user_id=user.id, client_identity=f"agent-{user.id}"))
        _drop_assignments_not_for(user)
        auth.end_sessions(user)
    if data.get("password"):
        auth.validate_new_password(data["password"], user.username)
        user.password_hash = hash_password(data["password"])
        user.password_changed_at = utcnow()
        auth.end_sessions(user)
        changed["password"] = "changed"
    audit.record("user.update", target_type="user", target_id=user.id, changed=changed)
    db.session.commit()
    if "role" in changed or "password" in changed:
        _access_ended(user, "signed_out", was_agent=was_agent)
    return user


def set_active(actor: User, user_id: int, active: bool) -> User:
    """Deactivating signs the user out everywhere, revokes their API tokens, closes their open
    sockets and takes an agent out of routing."""
    user = get_user(user_id)
    if user.id == actor.id and not active:
        raise ApiError(409, "You cannot deactivate yourself", "conflict")
    if user.active != active:
        user.active = active
        if not active:
            auth.end_sessions(user)
            for token in db.session.scalars(select(ApiToken).where(ApiToken.user_id == user.id,
                                                                   ApiToken.revoked_at.is_(None))):
                token.revoked_at = utcnow()
        audit.record("user.activate" if active else "user.deactivate", target_type="user", target_id=user.id)
        db.session.commit()
    if not active:  # also when asked again: a retry redoes what a failure may have left undone
        _access_ended(user, "deactivated", was_agent=user.role == "agent")
    return user


def list_tokens(user_id: int, page: int, per_page: int) -> dict:
    user = get_user(user_id)
    return paginate(select(ApiToken).where(ApiToken.user_id == user.id).order_by(ApiToken.id), page, per_page)


def issue_token(actor: User, user_id: int, name: str) -> dict:
    """A new named token for the user; the raw value is in this answer only (the hash is kept)."""
    user = get_user(user_id)
    if not user.active:
        raise ApiError(409, "The user is deactivated", "conflict")
    token, raw = auth.issue_api_token(user, name, created_by=actor)
    audit.record("api_token.issue", target_type="api_token", target_id=token.id, user_id=user.id, name=name)
    db.session.commit()
    return {"token": raw, **{k: getattr(token, k) for k in ("id", "user_id", "name", "prefix", "created_at",
                                                             "created_by_id", "last_used_at", "revoked_at")}}


def revoke_token(user_id: int, token_id: int) -> ApiToken:
    token = db.session.get(ApiToken, token_id)
    if token is None or token.user_id != user_id:
        raise ApiError(404, "No such token", "not_found")
    if token.revoked_at is None:
        token.revoked_at = utcnow()
        audit.record("api_token.revoke", target_type="api_token", target_id=token.id, user_id=user_id)
        db.session.commit()
    return token
