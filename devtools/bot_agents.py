"""Simulated agents for the live demo, end-to-end tests and benchmarks.

Each bot signs on to a campaign, takes whatever call the dialer connects to it, and once the
call has ended records a disposition after a short wrap-up and goes ready again. They use
the same services a person's console uses, so what the wallboard shows is the real thing.
"""
from __future__ import annotations

import logging
import random
import threading
import time

from sqlalchemy import select

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


class BotAgents:
    def __init__(self, app, agent_ids: list[int], campaign_id: int, *, wrap_seconds=(1.0, 4.0),
                 seed: int | None = None):
        self.app = app
        self.agent_ids = list(agent_ids)
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
            if snap["state"] == "offline":
                agent_services.set_own_state(db.session.get(User, agent_id), "ready",
                                             campaign_id=self.campaign_id)
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
