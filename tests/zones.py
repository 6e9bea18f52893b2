"""Test numbers that ring in one known zone each, for tests whose calls must be (or must not be)
inside calling hours at the real time the test runs.

The dialer requires the window to be open in every zone a contact's data allows, the number's
own zone included, so a test contact's number must ring where its stated zone says. Fictional
or test ranges where they exist (US 555, Ofcom's drama ranges, ACMA's); each pattern takes an
index of up to four digits.
"""
from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

NUMBERS_BY_ZONE = {
    "Pacific/Honolulu": "+1808555{:04d}",
    "America/Los_Angeles": "+1310555{:04d}",
    "America/Denver": "+1303555{:04d}",
    "America/Chicago": "+1312555{:04d}",
    "America/New_York": "+1202555{:04d}",
    "America/Sao_Paulo": "+551123{:06d}",
    "Europe/London": "+44207946{:04d}",
    "Europe/Moscow": "+7495123{:04d}",
    "Asia/Dubai": "+9714312{:04d}",
    "Asia/Kolkata": "+911123{:06d}",
    "Asia/Singapore": "+656512{:04d}",
    "Asia/Tokyo": "+81312{:06d}",
    "Australia/Sydney": "+612555{:05d}",
}


def number_in_zone(zone: str, index: int) -> str:
    return NUMBERS_BY_ZONE[zone].format(index % 10000)


def zones_at_local_hours(now: datetime, hours: range) -> list[str]:
    """The zones whose local hour at `now`, and for the next `margin` of the range, is in `hours`."""
    found = []
    for zone in NUMBERS_BY_ZONE:
        local = now.astimezone(ZoneInfo(zone))
        if local.hour in hours and (local + timedelta(hours=1)).hour in hours:
            found.append(zone)
    return found


def zone_in_calling_hours(now: datetime | None = None) -> str:
    """A zone where it is 10:00-18:59 now and an hour from now: calls there may be placed."""
    now = now or datetime.now().astimezone()
    zones = zones_at_local_hours(now, range(10, 19))
    assert zones, f"no test zone in calling hours at {now}"
    return zones[0]
