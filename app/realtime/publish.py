"""The one way to publish a live event, from a web process or a Celery worker.

Event names (the live-events contract): see EVENTS. Rooms: one per campaign, one per agent.

With `SOCKETIO_MESSAGE_QUEUE` set (production, and the test suite) every publish is written to
the Redis message queue by a write-only emitter cached per process; every web process's
Socket.IO server listens there and delivers to its own clients, so a web request and a worker
publish the same way. With it unset (a single process, e.g. Flask-SocketIO's test client, which
refuses a queue) the app's own in-process server emits directly.

Access changes reach open sockets by the same road: `disconnect_sockets` and `remove_from_room`
hand python-socketio's manager an instruction for a socket id, which the process holding that
socket carries out (app.realtime.presence knows each user's socket ids).
"""
from __future__ import annotations

import logging
import threading

from flask import current_app, has_app_context

from app.common.redis import db_number

log = logging.getLogger(__name__)

EVENTS = frozenset({
    "agent.state",        # an agent changed state: {agent_id, state, since, campaign_id, pause_code}
    "agent.audio",        # an agent's audio leg connected or went: {agent_id, connected, via, reason}
    "agent.pending",      # an agent's pause or sign-off waits for calls placed for them:
                          # {agent_id, campaign_id, target, pause_code, calls_ringing} (null target: done)
    "call.transfer",      # a transfer on a call: {call_id, transfer_id, kind, status, to_agent_id, ...}
    "monitor.state",      # a supervisor's monitoring session began, changed mode or ended:
                          # {session_id, supervisor_id, supervisor, agent_id, agent, campaign_id,
                          # call_id, mode (listen|whisper|barge), active, reason}
    "call.state",         # a call changed state: {call_id, campaign_id, status, ...}
    "campaign.figures",   # a campaign's live figures / KPIs: {campaign_id, today, ...}; or, from
                          # the pacing tick when it changes, why it holds back: {campaign_id,
                          # pacing: {how, because, in_words} or null}
    "call.screen_pop",    # to one agent: the connected call's contact, script and campaign
    "callback.due",       # a scheduled callback fell due: {callback_id, campaign_id, contact_id,
                          # agent_id, due_at, notes, first_name, last_name, phone}
})
NAMESPACE = "/live"
QUEUE_CHANNEL = "flask-socketio"  # Flask-SocketIO's default channel: servers listen there


def queue_channel(url: str | None) -> str:
    """The pub/sub channel for a Redis queue URL. Redis pub/sub ignores the db number, so two
    deployments (or test runs) sharing a server on dbs 0 and 1 would hear each other's events
    on one channel: every db but 0 gets its own (db 0 keeps Flask-SocketIO's default)."""
    db = db_number(url)
    return QUEUE_CHANNEL if db == 0 else f"{QUEUE_CHANNEL}-db{db}"


_emitters: dict[str, object] = {}
_lock = threading.Lock()


def campaign_room(campaign_id: int) -> str:
    return f"campaign:{campaign_id}"


def agent_room(agent_id: int) -> str:
    return f"agent:{agent_id}"


def publish(event: str, payload: dict, *, room: str) -> None:
    """Send `event` with a JSON-serialisable `payload` to everyone in `room`.

    Never raises for a delivery problem: a live view missing one update must not fail the
    call flow that published it (the failure is logged).
    """
    if event not in EVENTS:
        raise ValueError(f"unknown live event {event!r}")
    try:
        _emitter().emit(event, payload, to=room, namespace=NAMESPACE)
    except Exception:  # noqa: BLE001 - see docstring
        log.exception("could not publish %s to %s", event, room)


def disconnect_sockets(sids) -> None:
    """Close these /live sockets, in whichever web process holds them (through the queue).

    Never raises, like `publish`: an access change already committed must not fail for it.
    """
    for sid in sids:
        try:
            _emitter().server.disconnect(sid, namespace=NAMESPACE)
        except Exception:  # noqa: BLE001 - see docstring
            log.exception("could not disconnect socket %s", sid)


def remove_from_room(sids, room: str) -> None:
    """Take these /live sockets out of `room`, in whichever web process holds them."""
    for sid in sids:
        try:
            _emitter().server.leave_room(sid, room, namespace=NAMESPACE)
        except Exception:  # noqa: BLE001 - see disconnect_sockets
            log.exception("could not take socket %s out of %s", sid, room)


def _emitter():
    queue = current_app.config.get("SOCKETIO_MESSAGE_QUEUE") if has_app_context() else None
    if not queue:
        from app.extensions import socketio

        if socketio.server is None:
            raise RuntimeError("Socket.IO is not initialised and no message queue is configured")
        return socketio
    emitter = _emitters.get(queue)
    if emitter is None:
        with _lock:
            emitter = _emitters.get(queue)
            if emitter is None:
                emitter = _emitters[queue] = queue_emitter(queue)
    return emitter


def queue_emitter(url: str):
    """A write-only Socket.IO emitter on the Redis queue: no server, no listener thread."""
    from flask_socketio import SocketIO

    return SocketIO(message_queue=url, channel=queue_channel(url), async_mode="threading")
