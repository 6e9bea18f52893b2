"""The FTC's National Do Not Call Registry at the moment of dialling.

A seller may not call a number on the registry, and must work from a copy of it taken no more
than 31 days before the call (16 CFR 310.4(b)(1)(iii)(B) and 310.4(b)(3)(iv); 47 CFR
64.1200(c)(2)). The registry is sold per area code, so each US area code's copy has its own
date: a number whose area code's copy is missing or too old cannot be cleared, and is held.

Only geographic numbers of the US and its territories are in scope: the registry holds no
other country's numbers, nor the non-geographic codes (toll-free, 900, 5XX). Numbers that can
never be assigned (an exchange starting 0 or 1, the 555-0100..0199 range kept for fiction) can
never be listed either.
"""
from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from functools import lru_cache

import phonenumbers
from sqlalchemy import select, text

from app.dnc.models import RegistryAreaCode
from app.extensions import db

NATIONAL_REGISTRY = "national_registry"
NATIONAL_REGISTRY_STALE = "national_registry_stale"
MAX_COPY_AGE_DAYS = 31
SOURCE = "16 CFR 310.4(b)(1)(iii)(B); 47 CFR 64.1200(c)(2)"
MESSAGES = {
    NATIONAL_REGISTRY: "The number is on the National Do Not Call Registry.",
    NATIONAL_REGISTRY_STALE: "The National Do Not Call Registry copy for this area code is missing or "
                             f"older than {MAX_COPY_AGE_DAYS} days: import a current one.",
}
US_REGIONS = frozenset({"US", "PR", "VI", "GU", "AS", "MP"})
AREA_CODE_SPAN = 10_000_000  # the numbers of area code N are N * 10^7 .. (N + 1) * 10^7 - 1
DATES_TTL_SECONDS = 5.0

# Contacts (alias c) whose number is not listed: an anti-join for the refill's queries, e.g.
# `WHERE ... AND (NOT :scrub_national_registry OR {REGISTRY_ANTI_JOIN_SQL})`. Each +1 number is
# one probe of the registry's primary key, in its area code's partition. The guard keeps a
# malformed number from failing the whole query with a cast error; LIKE first, as it is five
# times cheaper than the regular expression and settles every number outside +1. Stale area
# codes are not excluded here: the dial gate holds them.
REGISTRY_ANTI_JOIN_SQL = """NOT EXISTS (
    SELECT 1 FROM dnc_registry_numbers r
    WHERE r.number = CASE WHEN c.phone_e164 LIKE '+1__________' AND c.phone_e164 ~ '^[+]1[0-9]{10}$'
                          THEN substr(c.phone_e164, 3)::bigint END)"""


@dataclass(frozen=True)
class RegistryCheck:
    """The registry's answer for one number in scope: its area code's copy and the hold, if any."""

    area_code: int
    downloaded_on: date | None
    code: str | None

    @property
    def list_checked(self) -> str:
        """What goes into a call's proof: which copy was asked (`national_registry:212:2026-12-01`)."""
        return f"national_registry:{self.area_code}:{self.downloaded_on.isoformat() if self.downloaded_on else 'none'}"

    @property
    def reason(self) -> dict | None:
        if self.code is None:
            return None
        return {"code": self.code, "message": MESSAGES[self.code], "rule": None, "source": SOURCE}


def registry_hold(phone_e164: str, at: datetime) -> str | None:
    """`national_registry` (listed), `national_registry_stale` (no copy of its area code fresh
    at `at`) or None (clear, or a number the registry does not cover)."""
    check = registry_check(phone_e164, at)
    return check.code if check is not None else None


def registry_check(phone_e164: str, at: datetime) -> RegistryCheck | None:
    """The registry's answer for `phone_e164` at `at`; None when the registry does not cover it.
    One primary-key probe; the area codes' dates come from a cache of a few seconds."""
    area_code = area_code_in_scope(phone_e164)
    if area_code is None:
        return None
    downloaded_on = copy_dates().get(area_code)
    if downloaded_on is None:
        return RegistryCheck(area_code, None, NATIONAL_REGISTRY_STALE)
    listed = db.session.execute(_LISTED, {"number": int(phone_e164[2:])}).first() is not None
    if listed:
        code = NATIONAL_REGISTRY
    elif not copy_is_fresh(downloaded_on, at):
        code = NATIONAL_REGISTRY_STALE
    else:
        code = None
    return RegistryCheck(area_code, downloaded_on, code)


_LISTED = text("SELECT 1 FROM dnc_registry_numbers WHERE number = :number")


def copy_is_fresh(downloaded_on: date, at: datetime) -> bool:
    """At most 31 days old on the day of `at`, counted in UTC: on the US mainland the UTC date
    is never behind the callee's, so it never calls a copy fresh that is stale where they are."""
    return (at.astimezone(timezone.utc).date() - downloaded_on).days <= MAX_COPY_AGE_DAYS


def area_code_in_scope(phone_e164: str) -> int | None:
    """The area code of a geographic US (or US territory) number, else None."""
    if len(phone_e164) != 12 or not phone_e164.startswith("+1") or not phone_e164[2:].isdigit():
        return None
    if phone_e164[5] in "01" or "5550100" <= phone_e164[5:] <= "5550199":
        return None  # no exchange starts 0 or 1, and 555-01XX is reserved for fiction: never listed
    area_code = int(phone_e164[2:5])
    return area_code if is_us_area_code(area_code) else None


@lru_cache(maxsize=1024)
def is_us_area_code(area_code: int) -> bool:
    """Is `area_code` a geographic area code of the US or a US territory (phonenumbers' data)?"""
    if not 200 <= area_code <= 999:
        return False
    for line in ("2345678", "5550100", "8675309"):  # any valid local number will do
        number = phonenumbers.parse(f"+1{area_code}{line}")
        region = phonenumbers.region_code_for_number(number)
        if region is not None:
            return region in US_REGIONS and phonenumbers.is_number_geographical(number)
    return False


def number_range(area_code: int) -> tuple[int, int]:
    """[low, high) of the ten-digit numbers of `area_code`."""
    return area_code * AREA_CODE_SPAN, (area_code + 1) * AREA_CODE_SPAN


class _CopyDates:
    """Every area code's copy date, read at most every few seconds per process (a few hundred
    rows). An import in this process forgets them at once; other processes within seconds, and
    until then they hold with the older date, which can only hold more, never less."""

    def __init__(self):
        self._lock = threading.Lock()
        self._dates: dict[int, date] = {}
        self._read_at = float("-inf")

    def get(self) -> dict[int, date]:
        if time.monotonic() - self._read_at > DATES_TTL_SECONDS:
            rows = db.session.execute(select(RegistryAreaCode.area_code, RegistryAreaCode.downloaded_on)).all()
            with self._lock:
                self._dates = {area: day for area, day in rows}
                self._read_at = time.monotonic()
        return self._dates

    def forget(self) -> None:
        with self._lock:
            self._read_at = float("-inf")


_copy_dates = _CopyDates()
copy_dates = _copy_dates.get
forget_copy_dates = _copy_dates.forget


def fresh_through(downloaded_on: date) -> date:
    """The last day (UTC) a copy taken on `downloaded_on` clears a call."""
    return downloaded_on + timedelta(days=MAX_COPY_AGE_DAYS)
