"""Simulated agents for the live demo, end-to-end tests and benchmarks.

Each bot first connects its audio the way a person does, through the carrier simulator: the
browser's Voice JS connect (a call from `client:agent-<id>` to the TwiML App's voice URL,
`/twilio/agent/voice`), or by having Omnivox call its phone (a number the simulator answers
for an agent, pressing 1). Once its leg is in its room it signs on to a campaign, takes
whatever call the dialer joins into its room, and once the call has ended records a
disposition after a short wrap-up and goes ready again. A bot whose audio drops is paused by
Omnivox like anyone else; it reconnects and goes ready again. They use the same services a
person's console uses, so what the wallboard shows is the real thing.
"""
from __future__ import annotations

import logging
import random
import threading
import time

import requests
from flask import current_app
from sqlalchemy import select

from app.agents import audio as agent_audio
from app.agents import services as agent_services
from app.agents import state as agent_state
from app.auth.models import User
from app.campaigns.models import DispositionCode
from app.errors import ApiError
from app.extensions import db
from app.interactions import services as interactions
from app.interactions.models import Interaction

log = logging.getLogger(__name__)

# A console's heartbeat, well inside the silent-agent timeout (30 s): beating on every poll
# cost two Redis round trips per bot per poll, which slowed the bots' wrap-ups under load.
HEARTBEAT_EVERY = 5.0
RECONNECT_EVERY = 20.0  # seconds before a bot whose audio did not come tries again


def bot_phone(agent_id: int) -> str:
    """The phone number a phone-audio bot answers on (the simulator's agent phones): in the
    fictional 555-0100..0199 range of a 5xx area code picked by the id: never a real phone,
    never one of the demo's or the tests' contacts, and never a premium or international-rate
    area code the dial policy refuses (app.telephony.dial_policy)."""
    return f"+1{500 + (agent_id // 100) % 100:03d}55501{agent_id % 100:02d}"


class BotAgents:
    def __init__(self, app, agent_ids: list[int], campaign_id: int, *, wrap_seconds=(1.0, 4.0),
                 seed: int | None = None, audio: str = "browser"):
        """`audio`: "browser", "phone", or "mixed" (every other bot by phone)."""
        self.app = app
        self.agent_ids = list(agent_ids)
        self.audio = {agent_id: ("phone" if audio == "phone" or (audio == "mixed" and i % 2) else "browser")
                      for i, agent_id in enumerate(self.agent_ids)}
        self._connecting: dict[int, float] = {}
        self._phones_known = False
        self.campaign_id = campaign_id
        self.wrap_seconds = wrap_seconds
        self.rng = random.Random(seed)
        self._wrap_until: dict[int, float] = {}
        self._next_beat: dict[int, float] = {}
        self.dispositions = 0

    def _codes(self) -> list[str]:
        return list(db.session.scalars(select(DispositionCode.code).where(
            DispositionCode.campaign_id == self.campaign_id, DispositionCode.active.is_(True),
            DispositionCode.is_callback.is_(False), DispositionCode.is_dnc.is_(False))))

    def step(self) -> None:
        """One look at every bot: sign on, finish wrap-ups, keep the heartbeat going."""
        snaps = agent_state.snapshots(self.agent_ids)
        codes = None
        for agent_id, snap in snaps.items():
            # The user row is loaded only when the bot acts: a poll of many idle bots stays cheap.
            if snap["state"] in ("offline", "paused") and not snap["audio"]:
                self._connect_audio(agent_id)
            elif snap["state"] == "offline" or (snap["state"] == "paused"
                                                and snap["pause_code"] == agent_audio.NO_AUDIO.code):
                self._try_ready(agent_id)
            elif snap["state"] == "wrap-up":
                until = self._wrap_until.setdefault(agent_id, time.monotonic() + self.rng.uniform(*self.wrap_seconds))
                if time.monotonic() >= until:
                    codes = codes if codes is not None else self._codes()
                    self._finish(db.session.get(User, agent_id), codes)
                    self._wrap_until.pop(agent_id, None)
            if time.monotonic() >= self._next_beat.get(agent_id, 0.0):
                agent_services.heartbeat(agent_id)
                self._next_beat[agent_id] = time.monotonic() + HEARTBEAT_EVERY
        db.session.rollback()

    def _try_ready(self, agent_id: int) -> None:
        try:
            agent_services.set_own_state(db.session.get(User, agent_id), "ready",
                                         campaign_id=self.campaign_id)
        except ApiError as exc:  # the audio went again between the look and the ask
            db.session.rollback()
            log.info("bot agent %s: %s", agent_id, exc.message)

    def _connect_audio(self, agent_id: int) -> None:
        """Connect the bot's leg the way its console would; again if nothing came of it."""
        if time.monotonic() < self._connecting.get(agent_id, 0.0):
            return
        self._connecting[agent_id] = time.monotonic() + RECONNECT_EVERY
        config = current_app.config
        sim = config.get("TWILIO_API_BASE_URL")
        if not sim:
            log.warning("bot agent %s: no carrier simulator to connect audio through", agent_id)
            return
        try:
            if self.audio[agent_id] == "phone":
                self._register_phones(sim)
                agent_audio.call_agent_phone(agent_id, bot_phone(agent_id))
            else:
                base = config["PUBLIC_BASE_URL"]
                requests.post(f"{sim}/_sim/clients/agent-{agent_id}/connect", timeout=5, data={
                    "Url": f"{base}/twilio/agent/voice",
                    "StatusCallback": f"{base}/twilio/agent/status"}).raise_for_status()
        except (ApiError, requests.RequestException) as exc:
            db.session.rollback()
            log.info("bot agent %s: audio not connected yet: %s", agent_id, exc)

    def _register_phones(self, sim: str) -> None:
        """Tell the simulator which numbers are the bots' phones (they press 1 to accept)."""
        if self._phones_known:
            return
        phones = requests.get(f"{sim}/_sim/config", timeout=5).json().get("agent_phones", {})
        phones.update({bot_phone(a): "1" for a, via in self.audio.items() if via == "phone"})
        requests.post(f"{sim}/_sim/config", json={"agent_phones": phones}, timeout=5).raise_for_status()
        self._phones_known = True

    def _finish(self, user: User, codes: list[str]) -> None:
        interaction_id = db.session.scalar(select(Interaction.id).where(
            Interaction.agent_id == user.id, Interaction.dispositioned_at.is_(None))
            .order_by(Interaction.id.desc()))
        try:
            if interaction_id is not None and codes:
                interactions.record_disposition(user, interaction_id, self.rng.choice(codes), notes="(bot)")
                self.dispositions += 1
            interactions.after_disposition(user, "ready")
        except ApiError as exc:  # a supervisor paused the bot meanwhile, say
            db.session.rollback()
            log.info("bot agent %s: %s", user.id, exc.message)

    def run(self, stop: threading.Event, poll_seconds: float = 0.2) -> None:
        with self.app.app_context():
            while not stop.is_set():
                try:
                    self.step()
                except Exception:  # noqa: BLE001 - a bot never takes the demo down
                    db.session.rollback()
                    log.exception("bot agents step failed")
                stop.wait(poll_seconds)

    def start(self) -> tuple[threading.Thread, threading.Event]:
        stop = threading.Event()
        thread = threading.Thread(target=self.run, args=(stop,), name="bot-agents", daemon=True)
        thread.start()
        return thread, stop
