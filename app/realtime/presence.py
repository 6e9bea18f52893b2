"""Which /live sockets each user (and each sign-in session) holds open, so access changes reach them.

A socket's rooms are chosen when it connects or watches; taking access away afterwards must
reach the socket at once, in whichever web process holds it. The sockets' ids are kept in Redis
(one set per user, one per session), and the change is sent through app.realtime.publish:

- deactivation, a new role or password: every socket of the user is closed;
- signing out: the sockets opened with that session are closed;
- taken off a campaign: the user's sockets leave that campaign's room.

The sets expire a week after the last connect, so entries of a process that died never pile up.
None of these functions raises: the access change they follow is already committed.
"""
from __future__ import annotations

import logging

from app.common.redis import get_redis
from app.realtime import publish

log = logging.getLogger(__name__)

KEEP_SECONDS = 7 * 24 * 3600


def _user_key(user_id: int) -> str:
    return f"live:sockets:user:{user_id}"


def _session_key(session_id: str) -> str:
    return f"live:sockets:session:{session_id}"


def remember(sid: str, user_id: int, session_id: str | None) -> None:
    """Note a socket that has just connected (raises: a socket nobody can reach is refused)."""
    pipe = get_redis().pipeline()
    keys = [_user_key(user_id)] + ([_session_key(session_id)] if session_id else [])
    for key in keys:
        pipe.sadd(key, sid)
        pipe.expire(key, KEEP_SECONDS)
    pipe.execute()


def forget(sid: str, user_id: int | None, session_id: str | None) -> None:
    try:
        pipe = get_redis().pipeline()
        if user_id is not None:
            pipe.srem(_user_key(user_id), sid)
        if session_id:
            pipe.srem(_session_key(session_id), sid)
        pipe.execute()
    except Exception:  # noqa: BLE001 - the sets expire by themselves
        log.exception("could not forget socket %s", sid)


def _members(key: str) -> list[str]:
    try:
        return sorted(get_redis().smembers(key))
    except Exception:  # noqa: BLE001 - see the module docstring
        log.exception("could not read the sockets under %s", key)
        return []


def close_user_sockets(user_id: int) -> None:
    """The user lost access (deactivated, new role or password): close every socket of theirs."""
    publish.disconnect_sockets(_members(_user_key(user_id)))


def close_session_sockets(session_id: str | None) -> None:
    """A session was signed out: close the sockets opened with it."""
    if session_id:
        publish.disconnect_sockets(_members(_session_key(session_id)))


def stop_hearing_campaign(user_id: int, campaign_id: int) -> None:
    """The user may no longer watch the campaign: take their sockets out of its room."""
    publish.remove_from_room(_members(_user_key(user_id)), publish.campaign_room(campaign_id))
