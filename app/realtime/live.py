"""The `/live` Socket.IO namespace: who may connect and which rooms they hear.

- The connection is authenticated by the Flask-Login session cookie (or a bearer token) of the
  handshake; anyone else is refused.
- An agent joins only its own room: campaign rooms carry supervisor-level events about other
  agents. Its console emits `heartbeat` every few seconds (see app.agents.reservations).
- A supervisor joins the rooms of the campaigns it supervises on connect, and may `watch` /
  `unwatch` a subset; an admin may watch any existing campaign. Nobody joins anything else.
- Rooms are fixed at join time: a supervisor removed from a campaign keeps hearing it until the
  socket reconnects (the console reconnects on sign-out; the session cookie decides again).
"""
from __future__ import annotations

from flask import Flask
from flask_login import current_user
from flask_socketio import ConnectionRefusedError, Namespace, join_room, leave_room, rooms

from app.realtime.publish import NAMESPACE, agent_room, campaign_room

_registered = False


class LiveNamespace(Namespace):
    def on_connect(self, auth=None):
        from app.agents.services import heartbeat, supervised_campaign_ids

        if not current_user or not current_user.is_authenticated:
            raise ConnectionRefusedError("unauthorized")
        user = current_user._get_current_object()
        if user.role == "agent":
            join_room(agent_room(user.id))
            heartbeat(user.id)
        elif user.role == "supervisor":
            for campaign_id in sorted(supervised_campaign_ids(user)):
                join_room(campaign_room(campaign_id))
        return True

    def on_heartbeat(self, data=None):
        from app.agents.services import heartbeat

        if current_user.is_authenticated and current_user.role == "agent":
            heartbeat(current_user.id)
            return {"ok": True}
        return {"ok": False}

    def on_watch(self, data):
        """{"campaign_ids": [..]} -> joins those the caller may watch; answers which."""
        from app.agents.services import may_watch_campaign

        if not current_user.is_authenticated or current_user.role not in ("supervisor", "admin"):
            return {"watching": [], "refused": _ids(data)}
        watching, refused = [], []
        for campaign_id in _ids(data):
            if may_watch_campaign(current_user, campaign_id):
                join_room(campaign_room(campaign_id))
                watching.append(campaign_id)
            else:
                refused.append(campaign_id)
        return {"watching": watching, "refused": refused}

    def on_unwatch(self, data):
        """{"campaign_ids": [..]} -> leaves those campaign rooms (only to watch a subset)."""
        for campaign_id in _ids(data):
            leave_room(campaign_room(campaign_id))
        joined = [r for r in rooms(namespace=NAMESPACE) if r.startswith("campaign:")]
        return {"watching": sorted(int(r.split(":", 1)[1]) for r in joined)}


def _ids(data) -> list[int]:
    raw = (data or {}).get("campaign_ids") if isinstance(data, dict) else None
    if not isinstance(raw, list):
        return []
    return [int(x) for x in raw if isinstance(x, int) or (isinstance(x, str) and x.isdigit())][:200]


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
        channel="flask-socketio",
        cors_allowed_origins=app.config.get("SOCKETIO_CORS_ORIGINS"),
        logger=False,
        engineio_logger=False,
    )
