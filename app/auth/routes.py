from flask import request, session
from flask_login import current_user, login_user, logout_user
from flask_smorest import Blueprint
from flask_wtf.csrf import generate_csrf

from app.auth import services
from app.realtime import presence
from app.auth.schemas import CsrfSchema, LoginSchema, MeSchema
from app.auth.security import login_required
from app.errors import ApiError
from app.extensions import limiter

blp = Blueprint("auth", __name__, url_prefix="/api/auth", description="Sign-in and sessions")


def _login_ip_limit():
    from flask import current_app

    return current_app.config["RATELIMIT_LOGIN_IP"]


def _login_user_limit():
    from flask import current_app

    return current_app.config["RATELIMIT_LOGIN_USER"]


def _login_username_key() -> str:
    body = request.get_json(silent=True) or {}
    name = body.get("username") if isinstance(body, dict) else None
    return f"login-user:{str(name or '').strip().lower()[:64]}"


@blp.route("/csrf")
@blp.response(200, CsrfSchema)
def csrf_token():
    """A CSRF token for this session; send it as X-CSRFToken on every write."""
    return {"csrf_token": generate_csrf()}


@blp.route("/login", methods=["POST"])
@limiter.limit(_login_ip_limit, key_func=lambda: f"login-ip:{request.remote_addr}")
@limiter.limit(_login_user_limit, key_func=_login_username_key)
@blp.arguments(LoginSchema)
@blp.response(200, MeSchema)
@blp.alt_response(401, description="Wrong username or password, or locked out (same answer)")
def login(credentials):
    """Sign in with a username and password; sets the session cookie."""
    user = services.authenticate(credentials["username"], credentials["password"])
    if user is None:
        raise ApiError(401, "Wrong username or password", "invalid_credentials")
    previous_user, previous_session = session.get("_user_id"), session.get(services.SESSION_ID)
    if previous_user and previous_session:  # signing in over a session ends that one, sockets too
        services.end_session(previous_user.partition(":")[0], previous_session)
        presence.close_session_sockets(previous_session)
    session.clear()  # a fresh session (and CSRF token) after sign-in
    login_user(user)
    session[services.SESSION_ID] = services.start_session(user)
    session.permanent = True
    return {"user": user, "csrf_token": generate_csrf()}


@blp.route("/logout", methods=["POST"])
@blp.response(204)
@login_required
def logout():
    """Sign out of this session: its cookie, and any copy of it, no longer signs in."""
    session_id = session.get(services.SESSION_ID)
    services.end_session(current_user.id, session_id)
    logout_user()
    session.clear()
    presence.close_session_sockets(session_id)


@blp.route("/me")
@blp.response(200, MeSchema)
@login_required
def me():
    """The signed-in user, and the CSRF token for writes."""
    return {"user": current_user, "csrf_token": generate_csrf()}
