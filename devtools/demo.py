"""The live demo that `make run` sets up: one predictive campaign, fictional contacts, bot agents.

`seed_demo()` is idempotent: the first start creates the campaign, its codes, a few hundred
contacts, the bot agents and a supervisor and an agent for the newcomer (their passwords are
returned once, to be printed once); later starts find them and create nothing new.

Every number is in a range reserved for fiction, so a demo can never ring a real phone:
US 555-0100..0199 (NANPA, any area code), UK Ofcom drama ranges (020 7946 0xxx,
07700 900xxx) and Australian ACMA ranges (02 5550 xxxx, 0491 570 xxx). Contacts carry the
time zone their number belongs to, spread round the globe, so whatever the hour some of them
are inside 08:00-21:00 local time and the wallboard moves within a minute of starting.

`python -m devtools.demo agents` runs the bot agents (the `demo-agents` process of `make run`).
"""
from __future__ import annotations

import logging
import re
import secrets
import signal
import sys
import threading
from datetime import datetime, time

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert

DEMO_CAMPAIGN = "Omnivox demo"
SUPERVISOR = "demo-supervisor"
AGENT = "demo-agent"
BOT_PREFIX = "demo-bot-"
BOT_COUNT = 5
CALLER_ID = "+12125550199"  # fictional too: a demo never presents a real caller ID
# The newcomer agent's phone, which the simulator answers as an agent's (pressing 1): "Call my
# phone" on the console connects their audio in the demo, as it would a remote agent's.
AGENT_PHONE = "+12125550198"

PAUSE_CODE = dict(code="BREAK", label="Break", paid=True, max_minutes=15)

# (number prefix, first suffix, how many, digits in the suffix, time zone of the number)
NUMBER_PLAN = [
    ("+1212555", 100, 40, 4, "America/New_York"),      # Manhattan
    ("+1312555", 100, 40, 4, "America/Chicago"),       # Chicago
    ("+1303555", 100, 30, 4, "America/Denver"),        # Denver
    ("+1213555", 100, 40, 4, "America/Los_Angeles"),   # Los Angeles
    ("+1808555", 100, 30, 4, "Pacific/Honolulu"),      # Honolulu
    ("+442079460", 0, 50, 3, "Europe/London"),         # London drama range
    ("+447700900", 0, 50, 3, "Europe/London"),         # UK mobile drama range
    ("+61255500", 0, 40, 3, "Australia/Sydney"),       # NSW fiction range 02 5550 0xxx
    ("+61491570", 0, 40, 3, "Australia/Perth"),        # AU mobile fiction range (contact in WA)
]
# The reserved fictional ranges, as patterns every demo number must match.
FICTIONAL_RANGES = [
    re.compile(r"^\+1[2-9]\d{2}5550[1]\d{2}$"),   # NANPA 555-0100..0199
    re.compile(r"^\+442079460\d{3}$"),            # Ofcom 020 7946 0000..0999
    re.compile(r"^\+447700900\d{3}$"),            # Ofcom 07700 900000..900999
    re.compile(r"^\+6125550\d{4}$"),              # ACMA 02 5550 0000..9999
    re.compile(r"^\+61491570\d{3}$"),             # ACMA 0491 570 xxx
]
FIRST_NAMES = ["Alex", "Sam", "Jordan", "Robin", "Casey", "Morgan", "Taylor", "Jamie", "Avery", "Riley"]
LAST_NAMES = ["Doe", "Roe", "Smith", "Jones", "Citizen", "Bloggs", "Public", "Example"]

log = logging.getLogger(__name__)


def is_fictional(e164: str) -> bool:
    return any(p.match(e164) for p in FICTIONAL_RANGES)


def demo_contacts() -> list[dict]:
    """The demo's contacts: number, name and the time zone that goes with the number."""
    rows = []
    for prefix, first, count, digits, zone in NUMBER_PLAN:
        for i in range(first, first + count):
            n = len(rows)
            rows.append(dict(phone_e164=f"{prefix}{i:0{digits}d}", timezone=zone,
                             first_name=FIRST_NAMES[n % len(FIRST_NAMES)],
                             last_name=LAST_NAMES[(n // len(FIRST_NAMES)) % len(LAST_NAMES)]))
    return rows


def _password() -> str:
    return secrets.token_urlsafe(15)


def _user(username: str, role: str, full_name: str, passwords: dict | None):
    """The user, created with a fresh random password if missing (recorded in `passwords`)."""
    from app.users import services as users
    from app.auth.models import User
    from app.extensions import db

    user = db.session.scalar(select(User).where(User.username == username))
    if user is None:
        password = _password()
        user = users.create_user(username, password, role, full_name=full_name)
        if passwords is not None:
            passwords[username] = password
    return user


def _campaign(now: datetime):
    from app.campaigns.models import Campaign, DispositionCode
    from app.extensions import db

    campaign = db.session.scalar(select(Campaign).where(Campaign.name == DEMO_CAMPAIGN))
    if campaign is not None:
        return campaign, False
    campaign = Campaign(
        name=DEMO_CAMPAIGN, description="Fictional contacts round the globe; bot agents take calls.",
        status="active", dial_mode="predictive", caller_id=CALLER_ID, timezone="UTC",
        window_start=time(8, 0), window_end=time(21, 0), max_abandon_rate=0.03, max_attempts=3,
        # Short retry delays keep a small list moving for a demo that runs for an hour or so.
        retry_busy_seconds=120, retry_no_answer_seconds=300, retry_machine_seconds=600,
        retry_failed_seconds=300, seller_name="Omnivox Demo Ltd", seller_phone=CALLER_ID,
        safe_harbour_message="This is Omnivox Demo calling. We will call you back. "
                             "Our number is 212 555 0199.",
        script="Hello {first_name}, this is a demonstration call from Omnivox.", started_at=now)
    db.session.add(campaign)
    db.session.flush()
    from app.campaigns.services import STANDARD_DISPOSITIONS

    for code in STANDARD_DISPOSITIONS:
        db.session.add(DispositionCode(campaign_id=campaign.id, **code))
    return campaign, True


def seed_demo(now: datetime | None = None) -> dict:
    """Create the demo once; returns its ids and the newcomer's passwords (only when new)."""
    from app.campaigns.models import PauseCode
    from app.campaigns.models import CampaignAssignment
    from app.common.timeutil import utcnow
    from app.contacts.models import Contact
    from app.extensions import db

    now = now or utcnow()
    campaign, created = _campaign(now)
    passwords: dict[str, str] = {}
    supervisor = _user(SUPERVISOR, "supervisor", "Demo Supervisor", passwords)
    agent = _user(AGENT, "agent", "Demo Agent", passwords)
    _remember_phone(agent.id, AGENT_PHONE)
    bots = [_user(f"{BOT_PREFIX}{i}", "agent", f"Bot {i} (simulated)", None)
            for i in range(1, BOT_COUNT + 1)]
    assignments = [(supervisor.id, "supervisor"), (agent.id, "agent")] + [(b.id, "agent") for b in bots]
    db.session.execute(insert(CampaignAssignment).values(
        [dict(campaign_id=campaign.id, user_id=uid, role=role) for uid, role in assignments])
        .on_conflict_do_nothing())
    db.session.execute(insert(PauseCode).values(campaign_id=campaign.id, **PAUSE_CODE)
                       .on_conflict_do_nothing())
    db.session.execute(insert(Contact).values(
        [dict(campaign_id=campaign.id, **row) for row in demo_contacts()])
        .on_conflict_do_nothing(index_elements=["campaign_id", "phone_e164"]))
    db.session.commit()
    return {"campaign_id": campaign.id, "created": created, "passwords": passwords,
            "bot_ids": [b.id for b in bots], "supervisor_id": supervisor.id, "agent_id": agent.id}


def _remember_phone(agent_id: int, phone: str) -> None:
    from app.agents.models import AgentProfile
    from app.extensions import db

    profile = db.session.get(AgentProfile, agent_id)
    if profile is not None and not profile.phone_e164:
        profile.phone_e164 = phone


def bot_ids(campaign_name: str = DEMO_CAMPAIGN) -> tuple[int, list[int]]:
    from app.auth.models import User
    from app.campaigns.models import Campaign
    from app.extensions import db

    campaign_id = db.session.scalar(select(Campaign.id).where(Campaign.name == campaign_name))
    ids = list(db.session.scalars(select(User.id).where(User.username.like(f"{BOT_PREFIX}%"))
                                  .order_by(User.id)))
    db.session.rollback()
    return campaign_id, ids


def run_agents() -> int:
    """The `demo-agents` process: the bots work the demo campaign until SIGINT/SIGTERM."""
    from app import create_app
    from devtools import demo_supply
    from devtools.bot_agents import BotAgents

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    app = create_app()
    with app.app_context():
        campaign_id, ids = bot_ids()
    if campaign_id is None or not ids:
        print("demo-agents: no demo campaign or bots; nothing to do", flush=True)
        return 0
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    log.info("demo-agents: %s bots working campaign %s", len(ids), campaign_id)
    _register_agent_phone(app)
    # Fresh or recycled contacts in places inside their calling hours, for as long as it runs.
    supply_thread, supply_stop = demo_supply.start(app, campaign_id)
    BotAgents(app, ids, campaign_id, wrap_seconds=(2.0, 6.0), audio="mixed").run(stop)
    supply_stop.set()
    supply_thread.join(10)
    _sign_off(app, ids)
    return 0


def _register_agent_phone(app) -> None:
    """The simulator answers the newcomer's phone as an agent's (and presses 1)."""
    import requests

    sim = app.config.get("TWILIO_API_BASE_URL")
    if not sim:
        return
    try:
        phones = requests.get(f"{sim}/_sim/config", timeout=5).json().get("agent_phones", {})
        requests.post(f"{sim}/_sim/config", json={"agent_phones": {**phones, AGENT_PHONE: "1"}}, timeout=5)
    except requests.RequestException as exc:
        log.warning("demo-agents: could not register the demo agent's phone: %s", exc)


def _sign_off(app, ids: list[int]) -> None:
    """Bots leave ready on the way out, so the pacer stops counting them at once."""
    from app.agents import services as agent_services
    from app.auth.models import User
    from app.errors import ApiError
    from app.extensions import db

    with app.app_context():
        for agent_id in ids:
            try:
                agent_services.set_own_state(db.session.get(User, agent_id), "offline")
            except (ApiError, Exception):  # noqa: BLE001 - on a call, or Redis already gone
                db.session.rollback()


if __name__ == "__main__":
    if sys.argv[1:] == ["agents"]:
        sys.exit(run_agents())
    print("usage: python -m devtools.demo agents", file=sys.stderr)
    sys.exit(2)
