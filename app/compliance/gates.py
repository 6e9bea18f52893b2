"""Compliance gates, applied when the hopper is refilled and again at the moment of dialling.

Every rule here is law (DESIGN.md): the callee's local time inside 08:00-21:00 and inside the
campaign's narrower window, not on any do-not-call list, under the maximum attempts, and the
retry delay for the last outcome passed. A contact held back gets a reason, so the queue status
can say why contacts are waiting.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError


from app.common.phones import zones_the_callee_may_be_in

LAW_EARLIEST = time(8, 0)
LAW_LATEST = time(21, 0)

# Reasons a contact is held back (stable codes: the API and metrics count by them).
OUTSIDE_WINDOW = "outside_calling_window"
NO_TIMEZONE = "unknown_time_zone"
ON_DNC = "do_not_call"
MAX_ATTEMPTS = "max_attempts_reached"
RETRY_NOT_DUE = "retry_not_due"
NOT_DIALABLE = "not_dialable_status"
DIALABLE_STATUSES = frozenset({"new", "retry", "callback"})


@dataclass(frozen=True)
class Window:
    """The campaign's calling window in the callee's local time, clipped to what the law allows."""

    start: time
    end: time

    @classmethod
    def for_campaign(cls, start: time, end: time) -> "Window":
        return cls(max(start, LAW_EARLIEST), min(end, LAW_LATEST))

    def contains(self, local: datetime) -> bool:
        t = local.time()
        return self.start <= t < self.end


@lru_cache(maxsize=4096)
def _zone(name: str) -> ZoneInfo | None:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return None


@lru_cache(maxsize=65536)
def candidate_zones(contact_zone: str | None, e164: str, region: str | None = None,
                    postal: str | None = None) -> tuple[ZoneInfo, ...]:
    """Every zone the callee may be in (app.common.phones.zones_the_callee_may_be_in: the stored
    zone, the address and the number, a mobile number's whole country); the window must be
    open in all of them."""
    names = zones_the_callee_may_be_in(contact_zone, e164, region, postal)
    return tuple(z for z in (_zone(n) for n in names) if z is not None)


def inside_window(now: datetime, zones: tuple[ZoneInfo, ...], window: Window) -> bool:
    """True only if it is inside the window in every zone the callee may be in."""
    return bool(zones) and all(window.contains(now.astimezone(z)) for z in zones)


def next_window_opening(now: datetime, zones: tuple[ZoneInfo, ...], window: Window) -> datetime | None:
    """The earliest moment (on a 5-minute grid, within 8 days) at which the window is open in
    every candidate zone: when a callback or retry may be scheduled."""
    if not zones:
        return None
    probe = now.replace(second=0, microsecond=0)
    probe += timedelta(minutes=(5 - probe.minute % 5) % 5)
    for _ in range(8 * 24 * 12):
        if inside_window(probe, zones, window):
            return probe
        probe += timedelta(minutes=5)
    return None


@dataclass(frozen=True)
class GateInput:
    status: str
    attempts: int
    next_due_at: datetime | None
    phone_e164: str
    timezone: str | None
    region: str | None = None
    postal_code: str | None = None


def hold_reason(contact: GateInput, *, now: datetime, window: Window, max_attempts: int,
                on_dnc: bool) -> str | None:
    """Why `contact` may not be dialled at `now`, or None when it may. `now` is timezone-aware."""
    if contact.status not in DIALABLE_STATUSES:
        return NOT_DIALABLE
    if on_dnc:
        return ON_DNC
    if contact.status != "callback" and contact.attempts >= max_attempts:
        return MAX_ATTEMPTS
    if contact.next_due_at is not None and contact.next_due_at > now:
        return RETRY_NOT_DUE
    zones = candidate_zones(contact.timezone, contact.phone_e164, contact.region, contact.postal_code)
    if not zones:
        return NO_TIMEZONE
    if not inside_window(now, zones, window):
        return OUTSIDE_WINDOW
    return None
