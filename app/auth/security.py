"""Who is calling: sessions, bearer tokens, roles, CSRF and security headers."""
from __future__ import annotations

from functools import wraps

from flask import Flask, current_app, g, request, session
from flask_login import current_user

from app.auth import services
from app.errors import ApiError
from app.extensions import csrf, login_manager

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})
# Blueprints whose writes are not cookie-authenticated (Twilio signs its webhooks instead).
CSRF_EXEMPT_BLUEPRINTS = frozenset({"twilio"})


def bearer_token() -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return value.strip()
    return None


@login_manager.user_loader
def _load_session_user(user_id: str):
    # A request that presents a bearer token is judged by the token alone, never by a cookie.
    if bearer_token() is not None:
        return None
    return services.load_session_user(user_id, session.get(services.SESSION_ID))


@login_manager.request_loader
def _load_token_user(req):
    raw = bearer_token()
    if raw is None:
        return None
    user = services.load_token_user(raw)
    if user is not None:
        g.auth_via_token = True
    return user


@login_manager.unauthorized_handler
def _unauthorized():
    raise ApiError(401, "Sign-in required", "unauthorized")


def roles_required(*roles: str):
    """Allow the view only to signed-in users holding one of `roles` (401 / 403 otherwise)."""

    def decorator(view):
        @wraps(view)
        def wrapped(*args, **kwargs):
            if not current_user.is_authenticated:
                raise ApiError(401, "Sign-in required", "unauthorized")
            if roles and current_user.role not in roles:
                raise ApiError(403, "Your role may not do this", "forbidden")
            return view(*args, **kwargs)

        wrapped.required_roles = roles
        return wrapped

    return decorator


login_required = roles_required()


def refuse_callers_without_access():
    """Sign-in is checked before the view reads its input (before_request).

    A caller whose access was taken away (signed out, deactivated, token revoked) hears 401 at
    once, whatever its body holds, rather than a validation error about a body it may not send.
    The role is left to the view's own `roles_required`, which runs inside the route's rate-limit
    tiers, so a refused role still counts against them.
    """
    if request.routing_exception is not None or request.endpoint is None:
        return None
    view = current_app.view_functions.get(request.endpoint)
    if getattr(view, "required_roles", None) is None:
        return None
    if not current_user.is_authenticated:
        raise ApiError(401, "Sign-in required", "unauthorized")
    return None


def reload_caller():
    """The caller as the database and Redis say now, or None: for a check after the fact.

    (A socket's connection re-checks this once it is registered, so that access taken away
    while it connected cannot slip through.)
    """
    raw = bearer_token()
    if raw is not None:
        return services.load_token_user(raw)
    user_id = session.get("_user_id")
    return services.load_session_user(user_id, session.get(services.SESSION_ID)) if user_id else None


def _csrf_guard():
    """Every cookie-authenticated write carries the session's CSRF token."""
    if request.method in SAFE_METHODS or request.blueprint in CSRF_EXEMPT_BLUEPRINTS:
        return None
    if request.routing_exception is not None:
        return None  # 404/405 follows; there is no view to protect
    if bearer_token() is not None:
        return None
    if any(not isinstance(name, str) for name in request.form.keys()):
        # A part whose name cannot be read (Flask-WTF's token lookup fails on it with a 500).
        raise ApiError(400, "The form has a field whose name cannot be read", "invalid_form")
    csrf.protect()
    return None


def _security_headers(response):
    headers = response.headers
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("X-Frame-Options", "DENY")
    headers.setdefault("Referrer-Policy", "same-origin")
    headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
    headers.setdefault(
        "Content-Security-Policy",
        "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; "
        "connect-src 'self' ws: wss:; frame-ancestors 'none'; base-uri 'self'; form-action 'self'",
    )
    if request.is_secure:
        headers.setdefault("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
    if request.path.startswith("/api/"):
        headers.setdefault("Cache-Control", "no-store")
    return response


def init_security(app: Flask) -> None:
    login_manager.init_app(app)
    login_manager.session_protection = "basic"
    csrf.init_app(app)
    app.before_request(_csrf_guard)
    app.after_request(_security_headers)
