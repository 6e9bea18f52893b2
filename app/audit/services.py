"""Audit trail: one entry per sign-in attempt and per admin action."""
from __future__ import annotations

from flask import has_request_context, request
from flask_login import current_user

from app.audit.models import AuditEntry
from app.extensions import db


def record(action: str, *, target_type: str | None = None, target_id=None, success: bool = True,
           actor=None, actor_username: str | None = None, commit: bool = False, **details) -> AuditEntry:
    """Add an audit entry to the current unit of work (or commit it alone with commit=True)."""
    if actor is None and has_request_context() and current_user and current_user.is_authenticated:
        actor = current_user
    entry = AuditEntry(
        action=action,
        actor_id=getattr(actor, "id", None),
        actor_username=actor_username or getattr(actor, "username", None),
        target_type=target_type,
        target_id=None if target_id is None else str(target_id),
        success=success,
        ip=request.remote_addr if has_request_context() else None,
        details=details,
    )
    db.session.add(entry)
    if commit:
        db.session.commit()
    return entry
