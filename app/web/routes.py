"""Page routes. Each page requires sign-in (else a redirect to /login) and a role (else a 403 page)."""
from __future__ import annotations

from functools import wraps
from urllib.parse import urlsplit

from flask import Blueprint, current_app, redirect, render_template, request, url_for
from flask_login import current_user

bp = Blueprint("web", __name__, template_folder="templates", static_folder="static",
               static_url_path="/web-static")

HOME_BY_ROLE = {"agent": "web.agent", "supervisor": "web.wallboard", "admin": "web.admin_campaigns"}


def page(*roles: str):
    """Sign-in and role checks for a page, answered the way a browser expects."""

    def decorator(view):
        @wraps(view)
        def wrapped(*args, **kwargs):
            if not current_user.is_authenticated:
                return redirect(url_for("web.login", next=request.full_path.rstrip("?")))
            if roles and current_user.role not in roles:
                return render_template("web/error.html", status=403,
                                       message="Your role may not open this page."), 403
            return view(*args, **kwargs)

        return wrapped

    return decorator


def safe_next(target: str | None) -> str:
    """Only a path on this site: never an absolute or scheme-relative URL (no open redirect)."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return url_for("web.home")
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return url_for("web.home")
    return target


@bp.route("/favicon.ico")
def favicon():
    """Browsers ask for /favicon.ico where no page names an icon (a JSON response, say)."""
    return redirect(url_for("web.static", filename="img/favicon.svg"), code=301)


@bp.route("/login")
def login():
    if current_user.is_authenticated:
        return redirect(safe_next(request.args.get("next")))
    return render_template("web/login.html", next_url=safe_next(request.args.get("next")))


@bp.route("/")
@page()
def home():
    return redirect(url_for(HOME_BY_ROLE.get(current_user.role, "web.login")))


@bp.route("/agent")
@page("agent")
def agent():
    from app.telephony.voice_token import browser_audio

    # The Voice SDK is loaded only where browser audio can work (the console's audio panel
    # offers "Use this browser" on the same condition, from GET /api/agents/me/audio).
    return render_template("web/agent.html", voice_enabled=browser_audio(current_app.config))


@bp.route("/supervisor")
@page("supervisor", "admin")
def wallboard():
    from app.telephony.voice_token import browser_audio

    # The supervisor's own audio (to listen, whisper, barge): the Voice SDK only where it can work.
    return render_template("web/wallboard.html", voice_enabled=browser_audio(current_app.config))


@bp.route("/admin")
@page("admin", "supervisor")
def admin():
    return redirect(url_for("web.admin_campaigns" if current_user.role == "admin" else "web.admin_contacts"))


@bp.route("/admin/users")
@page("admin")
def admin_users():
    return render_template("web/admin/users.html")


@bp.route("/admin/campaigns")
@page("admin")
def admin_campaigns():
    return render_template("web/admin/campaigns.html")


@bp.route("/admin/campaigns/<int:campaign_id>")
@page("admin", "supervisor")
def admin_campaign(campaign_id):
    """One campaign's team (admins staff it) and its dialer (admins and its supervisors steer
    it); the API answers 404 for a campaign outside the caller's scope, and the page says so."""
    return render_template("web/admin/campaign.html", campaign_id=campaign_id)


@bp.route("/admin/contacts")
@page("admin", "supervisor")
def admin_contacts():
    return render_template("web/admin/contacts.html")


@bp.route("/admin/dnc")
@page("admin", "supervisor")
def admin_dnc():
    return render_template("web/admin/dnc.html")


@bp.route("/admin/codes")
@page("admin")
def admin_codes():
    return render_template("web/admin/codes.html")


@bp.route("/admin/numbers")
@page("admin")
def admin_numbers():
    return render_template("web/admin/numbers.html")


@bp.route("/admin/rules")
@page("admin", "supervisor")
def admin_rules():
    return render_template("web/admin/rules.html")


@bp.route("/admin/webhooks")
@page("admin")
def admin_webhooks():
    """Webhooks out: CRM endpoints, their state and recent deliveries (admins only)."""
    return render_template("web/admin/webhooks.html")


@bp.route("/calls")
@page("agent", "supervisor", "admin")
def call_records():
    """Call records (agents: their own; supervisors: their campaigns'; admins: all), each with
    its recording played through Omnivox."""
    return render_template("web/calls.html")


@bp.route("/reports")
@page("supervisor", "admin")
def reports():
    """Campaign reports with charts and CSVs (supervisors: their campaigns; admins: all)."""
    return render_template("web/reports.html")
