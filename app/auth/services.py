"""Sign-in, lockout, users and API tokens: the rules, callable without HTTP."""
from __future__ import annotations

import hashlib
import secrets
import time

from flask import current_app
from sqlalchemy import func, select

from app.audit import services as audit
from app.auth.models import ApiToken, User, new_session_token
from app.auth.passwords import password_problems, verify_password
from app.common.redis import get_redis
from app.common.timeutil import utcnow
from app.errors import ApiError
from app.extensions import db

TOKEN_PREFIX = "omx_"


def find_user(username: str) -> User | None:
    return db.session.scalar(select(User).where(func.lower(User.username) == username.strip().lower()))


def _failure_key(username: str) -> str:
    return f"auth:failures:{username.strip().lower()}"


def _recent_failures(username: str) -> int:
    window = current_app.config["LOGIN_LOCKOUT_WINDOW"]
    key = _failure_key(username)
    r = get_redis()
    pipe = r.pipeline()
    pipe.zremrangebyscore(key, 0, time.time() - window)
    pipe.zcard(key)
    return pipe.execute()[1]


def _note_failure(username: str) -> None:
    window = current_app.config["LOGIN_LOCKOUT_WINDOW"]
    key = _failure_key(username)
    now = time.time()
    pipe = get_redis().pipeline()
    pipe.zadd(key, {f"{now}:{secrets.token_hex(4)}": now})
    pipe.expire(key, window)
    pipe.execute()


def authenticate(username: str, password: str) -> User | None:
    """The user if the password is right and the name is not locked out; None otherwise.

    A locked-out name is answered exactly like a wrong password, so nothing leaks, and the
    password is hashed either way so timing does not tell either.
    """
    user = find_user(username)
    locked = _recent_failures(username) >= current_app.config["LOGIN_LOCKOUT_FAILURES"]
    password_ok = verify_password(user.password_hash if user else None, password)
    if user is not None and user.active and password_ok and not locked:
        get_redis().delete(_failure_key(username))
        user.last_login_at = utcnow()
        audit.record("auth.login", actor=user, target_type="user", target_id=user.id)
        db.session.commit()
        return user
    _note_failure(username)
    reason = "locked" if locked else ("inactive" if user is not None and not user.active and password_ok
                                      else "bad_credentials")
    audit.record("auth.login_failed", actor=user, actor_username=username[:64], success=False,
                 target_type="user", target_id=user.id if user else None, reason=reason, commit=True)
    return None


def validate_new_password(password: str, username: str) -> None:
    problems = password_problems(password, username)
    if problems:
        raise ApiError(422, "The password does not meet the policy", fields={"password": problems})


# Each sign-in is a session of its own, named by a random id kept in the signed cookie and, while
# the session lasts, as a Redis key (sliding with the cookie's lifetime). Signing out deletes the
# key, so a copy of the cookie taken before is refused afterwards. The user's session_token
# (in the cookie too) ends every session of theirs at once: deactivation, role, password.
SESSION_ID = "session_id"


def _session_key(user_id: int | str, session_id: str) -> str:
    return f"auth:session:{user_id}:{session_id}"


def _session_seconds() -> int:
    return max(1, int(current_app.permanent_session_lifetime.total_seconds()))


def start_session(user: User) -> str:
    """A new server-side session for a sign-in; its id goes into the cookie."""
    session_id = secrets.token_urlsafe(24)
    get_redis().set(_session_key(user.id, session_id), 1, ex=_session_seconds())
    return session_id


def end_session(user_id: int, session_id: str | None) -> None:
    """Sign this one session out: its cookie, wherever a copy of it is, no longer signs in."""
    if session_id:
        get_redis().delete(_session_key(user_id, session_id))


def end_sessions(user: User) -> None:
    """Sign the user out everywhere: every session cookie carries the old token."""
    user.session_token = new_session_token()


def load_session_user(user_id: str, session_id: str | None = None) -> User | None:
    ident, _, token = user_id.partition(":")
    if not ident.isascii() or not ident.isdigit() or not token or not session_id:
        return None
    # One command checks that the session was not signed out and keeps it alive while used.
    if not get_redis().expire(_session_key(ident, session_id), _session_seconds()):
        return None
    user = db.session.get(User, int(ident))
    if user is None or not user.active or not secrets.compare_digest(
            user.session_token.encode(), token.encode()):
        return None
    return user


def _token_digest(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def issue_api_token(user: User, name: str, created_by: User | None = None) -> tuple[ApiToken, str]:
    """A new bearer token; the raw value is returned once and only its hash is kept."""
    raw = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(user_id=user.id, name=name, token_hash=_token_digest(raw), prefix=raw[:12],
                     created_by_id=created_by.id if created_by else None)
    db.session.add(token)
    db.session.flush()
    return token, raw


def load_token_user(raw: str) -> User | None:
    token = db.session.scalar(select(ApiToken).where(ApiToken.token_hash == _token_digest(raw)))
    if token is None or token.revoked_at is not None or not token.user.active:
        return None
    return token.user
