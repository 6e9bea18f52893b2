"""User administration (admins only; the routes check the role, these apply the rules)."""
from __future__ import annotations

from sqlalchemy import select

from app.audit import services as audit
from app.auth import services as auth
from app.auth.models import User
from app.common.pagination import paginate
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


def create_user(data: dict) -> User:
    user = auth.create_user(data["username"], data["password"], data["role"],
                            full_name=data.get("full_name", ""), email=data.get("email"))
    audit.record("user.create", target_type="user", target_id=user.id, role=user.role)
    db.session.commit()
    return user
