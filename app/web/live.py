"""The `/live` Socket.IO namespace: who may connect and which rooms they hear.

- The connection is authenticated by the Flask-Login session cookie (or a bearer token) of the
  handshake; anyone else is refused.
- An agent joins only its own room: campaign rooms carry supervisor-level events about other
  agents. Its console emits `heartbeat` every few seconds (see app.agents.reservations).
- A supervisor joins the rooms of the campaigns it supervises on connect, and may `watch` /
  `unwatch` a subset; an admin may watch any existing campaign. Nobody joins anything else.
- Access taken away reaches open sockets at once, in any web process (app.realtime.presence):
  deactivation, a new role or password close every socket of the user, signing out closes the
  session's sockets, and a supervisor taken off a campaign leaves its room. Every event re-reads
  the caller, so a socket whose access ended is refused even before its close arrives.
- Every event is answered: junk payloads with an error ack in the error shape.
"""
from __future__ import annotations

import logging
import re

from flask import Flask, request, session
from flask_login import current_user
from flask_socketio import ConnectionRefusedError, Namespace, join_room, leave_room, rooms

from app.extensions import db
from app.realtime import presence
from app.realtime.publish import NAMESPACE, agent_room, campaign_room, queue_channel

log = logging.getLogger(__name__)

MAX_CAMPAIGNS_PER_EVENT = 200
_LARGEST_ID = 2**31 - 1  # PostgreSQL integer
_DIGITS = re.compile(r"[0-9]{1,10}\Z")
_SOCKET_USER = "live_user_id"  # in the socket's own copy of the session: who to forget on disconnect
_ASK_FOR_IDS = "Say which campaigns, as {\"campaign_ids\": [campaign numbers]}."
_registered = False


class LiveRefusal(Exception):
    """An event the server will not act on; the sender's ack says why."""

    def __init__(self, message: str, fields: dict | None = None, code: str = "validation_error"):
        super().__init__(message)
        self.code, self.message, self.fields = code, message, fields or {}

    def answer(self) -> dict:
        return {"error": {"code": self.code, "message": self.message, "fields": self.fields}}


class LiveNamespace(Namespace):
    def trigger_event(self, event, *args):
        """Every event is answered: a refusal or an unexpected failure becomes an error ack."""
        try:
            return super().trigger_event(event, *args)
        except ConnectionRefusedError:
            raise
        except LiveRefusal as refusal:
            return refusal.answer()
        except Exception:  # noqa: BLE001 - a socket event must never go unanswered
            log.exception("live event %r failed", event)
            if event == "connect":
                raise ConnectionRefusedError("unavailable") from None
            if event == "disconnect":
                return None
            return LiveRefusal("Something went wrong on our side; try again.", code="internal_error").answer()

    def on_connect(self, auth=None):
        from app.agents.services import heartbeat, supervised_campaign_ids
        from app.auth.security import reload_caller
        from app.auth.services import SESSION_ID

        if not current_user or not current_user.is_authenticated:
            raise ConnectionRefusedError("unauthorized")
        user = current_user._get_current_object()
        # Noted before a second look at the caller: access taken away from now on finds this
        # socket, and access taken away since the first look is seen by the second.
        session[_SOCKET_USER] = user.id
        presence.remember(request.sid, user.id, session.get(SESSION_ID))
        db.session.expire_all()
        again = reload_caller()
        if again is None or again.id != user.id:
            presence.forget(request.sid, user.id, session.get(SESSION_ID))
            raise ConnectionRefusedError("unauthorized")
        if user.role == "agent":
            join_room(agent_room(user.id))
            heartbeat(user.id)
        elif user.role == "supervisor":
            _join_campaigns(user, sorted(supervised_campaign_ids(user)))
        if user.role in ("supervisor", "admin"):
            join_room(agent_room(user.id))  # their own audio leg's `agent.audio` events
        return True

    def on_disconnect(self, reason=None):
        from app.auth.services import SESSION_ID

        presence.forget(request.sid, session.get(_SOCKET_USER), session.get(SESSION_ID))

    def on_heartbeat(self, *args):
        from app.agents.services import heartbeat

        if current_user.is_authenticated and current_user.role == "agent":
            heartbeat(current_user.id)
            return {"ok": True}
        return {"ok": False}

    def on_watch(self, *args):
        """{"campaign_ids": [..]} -> joins those the caller may watch; answers which."""
        from app.agents.services import watchable_campaign_ids

        ids = _campaign_ids(args)
        if not current_user.is_authenticated or current_user.role not in ("supervisor", "admin"):
            return {"watching": [], "refused": ids}
        allowed = watchable_campaign_ids(current_user, ids)
        watching = _join_campaigns(current_user, [i for i in ids if i in allowed])
        return {"watching": watching, "refused": [i for i in ids if i not in watching]}

    def on_unwatch(self, *args):
        """{"campaign_ids": [..]} -> leaves those campaign rooms (only to watch a subset)."""
        for campaign_id in _campaign_ids(args):
            leave_room(campaign_room(campaign_id))
        joined = [r for r in rooms(namespace=NAMESPACE) if r.startswith("campaign:")]
        return {"watching": sorted(int(r.split(":", 1)[1]) for r in joined)}


def _join_campaigns(user, campaign_ids: list[int]) -> list[int]:
    """Join the campaigns' rooms, then look again and leave any the user lost meanwhile (a
    removal committed between the first look and the join would otherwise miss this socket)."""
    from app.agents.services import watchable_campaign_ids

    for campaign_id in campaign_ids:
        join_room(campaign_room(campaign_id))
    still = watchable_campaign_ids(user, campaign_ids) if campaign_ids else set()
    for campaign_id in campaign_ids:
        if campaign_id not in still:
            leave_room(campaign_room(campaign_id))
    return [i for i in campaign_ids if i in still]


def _campaign_ids(args: tuple) -> list[int]:
    """The campaign ids of a watch / unwatch payload, in order, once each; LiveRefusal if junk."""
    if len(args) != 1 or not isinstance(args[0], dict):
        raise LiveRefusal(_ASK_FOR_IDS)
    raw = args[0].get("campaign_ids")
    if not isinstance(raw, list):
        raise LiveRefusal(_ASK_FOR_IDS, {"campaign_ids": ["A list of campaign numbers is required."]})
    if len(raw) > MAX_CAMPAIGNS_PER_EVENT:
        raise LiveRefusal("Too many campaigns at once.", {"campaign_ids": [
            f"At most {MAX_CAMPAIGNS_PER_EVENT} campaigns per request."]})
    ids: list[int] = []
    for item in raw:
        if isinstance(item, str) and _DIGITS.match(item):
            item = int(item)
        if isinstance(item, bool) or not isinstance(item, int) or not 1 <= item <= _LARGEST_ID:
            raise LiveRefusal("Some campaign numbers are not valid.", {"campaign_ids": [
                f"Each campaign is a whole number from 1 to {_LARGEST_ID}."]})
        if item not in ids:
            ids.append(item)
    return ids


def init_live(app: Flask) -> None:
    """Bind Socket.IO to the app (threading mode, Redis message queue) with the /live namespace."""
    global _registered
    from app.extensions import socketio

    if not _registered:
        socketio.on_namespace(LiveNamespace(NAMESPACE))
        _registered = True
    socketio.init_app(
        app,
        async_mode="threading",
        message_queue=app.config.get("SOCKETIO_MESSAGE_QUEUE") or None,
        channel=queue_channel(app.config.get("SOCKETIO_MESSAGE_QUEUE")),
        cors_allowed_origins=app.config.get("SOCKETIO_CORS_ORIGINS"),
        logger=False,
        engineio_logger=False,
    )
