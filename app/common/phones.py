"""Phone numbers and callee time zones: pure functions shared by imports and the dialer.

`normalize_phone` turns what a person typed into E.164 or says why it cannot; `parse_phone`
also refuses a number Omnivox must never call (premium rate, pay-per-call, service codes).
`check_state` says whether a US address's state is one.
`contact_timezone` says which IANA zone a contact lives in, which decides the legal calling
hours (08:00-21:00 local): an explicit zone wins, then the US state / ZIP code, then the number.
"""
from __future__ import annotations

import re
import zoneinfo
from functools import lru_cache

import phonenumbers
from phonenumbers import NumberParseException, PhoneNumberFormat
from phonenumbers import timezone as pn_timezone
from phonenumbers.tzdata import TIMEZONE_DATA, TIMEZONE_LONGEST_PREFIX

_UNKNOWN_ZONE = "Etc/Unknown"
_E164 = re.compile(r"^\+[1-9]\d{6,14}$")

_PARSE_REASONS = {
    NumberParseException.INVALID_COUNTRY_CODE: "unknown country code",
    NumberParseException.NOT_A_NUMBER: "not a phone number",
    NumberParseException.TOO_SHORT_AFTER_IDD: "too short",
    NumberParseException.TOO_SHORT_NSN: "too short",
    NumberParseException.TOO_LONG: "too long",
}


# NANP premium and pay-per-call ranges: the callee's carrier bills the caller per minute. The
# transfer and agent-phone policy (telephony.dial_policy) refuses the same ranges.
PREMIUM_AREA_CODES = frozenset({"900", "976"})
PAY_PER_CALL_EXCHANGES = frozenset({"976"})
# NANP line numbers that are a service, not a person: 555-1212 is directory assistance in every
# area code. Other 555 numbers stay valid: 555-0100 to 555-0199 are the fictional numbers films,
# demos and tests use, and the rest are not reached by mistake.
SERVICE_LINE_NUMBERS = frozenset({"5551212"})


def dial_refusal(number: phonenumbers.PhoneNumber) -> str | None:
    """Why a valid number is one no campaign may call, in words; None if it may be called.

    - premium rate (NANP 900, and whatever the number plan of another country marks so);
    - pay-per-call (NANP 976 as an area code or exchange);
    - a N11 exchange (411, 611, 911, ...): these are service codes, never assigned to lines;
    - 555-1212, directory assistance.
    """
    if number.country_code == 1:
        digits = str(number.national_number)  # NANP numbers have no leading zero to keep
        if len(digits) == 10:
            area, exchange = digits[:3], digits[3:6]
            if area in PREMIUM_AREA_CODES:
                return f"premium-rate number (area code {area}), never called"
            if exchange in PAY_PER_CALL_EXCHANGES:
                return f"pay-per-call number (exchange {exchange}), never called"
            if exchange[1:] == "11":
                return f"service code ({exchange}) where the exchange belongs, never called"
            if digits[3:] in SERVICE_LINE_NUMBERS:
                return "directory assistance (555-1212), never called"
        return None  # North America's premium range is 900, above (number_type is slow per row)
    if phonenumbers.number_type(number) == phonenumbers.PhoneNumberType.PREMIUM_RATE:
        return "premium-rate number, never called"
    return None


def parse_phone(raw: str, region: str | None, *, callable_only: bool = True) -> phonenumbers.PhoneNumber:
    """The parsed, valid number; ValueError with a reason a person can act on otherwise.

    With `callable_only` (the default: contacts, caller IDs) a number Omnivox must never call
    is refused too (`dial_refusal`); lookups of a number (do-not-call lists) pass False.
    """
    text = (raw or "").strip()
    if not text:
        raise ValueError("phone number is empty")
    try:
        number = phonenumbers.parse(text, (region or "").upper() or None)
    except NumberParseException as exc:
        reason = _PARSE_REASONS.get(exc.error_type, "not a phone number")
        raise ValueError(f"{reason}: {text[:40]!r}") from None
    if not phonenumbers.is_valid_number(number):
        where = phonenumbers.region_code_for_number(number) or region or "any region"
        raise ValueError(f"not a valid number for {where}: {text[:40]!r}")
    if callable_only and (refused := dial_refusal(number)):
        raise ValueError(f"{refused}: {text[:40]!r}")
    return number


def format_e164(number: phonenumbers.PhoneNumber) -> str:
    return phonenumbers.format_number(number, PhoneNumberFormat.E164)


def format_national(e164: str) -> str:
    """A number as people write and say it at home (``(202) 555-0199``); as given if invalid."""
    try:
        return phonenumbers.format_number(parse_phone(e164, None), PhoneNumberFormat.NATIONAL)
    except ValueError:
        return e164


def normalize_phone(raw: str, region: str | None, *, callable_only: bool = False) -> str:
    """`raw` in E.164 (`+15551234567`), reading national numbers as numbers of `region`.

    Raises ValueError whose message is the reason, e.g. "too short: '555-12'". A number no one
    may call is accepted unless `callable_only` (it may still be looked up or listed as DNC).
    """
    return format_e164(parse_phone(raw, region, callable_only=callable_only))


def is_e164(value: str) -> bool:
    return bool(_E164.match(value or ""))


@lru_cache(maxsize=1)
def _known_zones() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones())


def valid_timezone(name: str) -> str:
    """The IANA zone `name` (case-insensitive match); ValueError if there is no such zone."""
    name = (name or "").strip()
    if name in _known_zones():
        return name
    lowered = {z.lower(): z for z in _known_zones()}
    if name.lower() in lowered:
        return lowered[name.lower()]
    raise ValueError(f"unknown time zone {name[:64]!r}")


def timezones_for_number(number: str | phonenumbers.PhoneNumber) -> tuple[str, ...]:
    """Every zone `phonenumbers` places the number in, sorted; empty when it does not know.

    This is the longest-prefix lookup in the library's zone data that its own
    `time_zones_for_geographical_number` does, without the number-type check in front that makes
    `time_zones_for_number` about fifty times slower (the import calls this per row). A
    Caribbean mobile number thus maps to its island rather than to every NANP zone. A dialer
    that wants to be strict can require the calling window to hold in all the zones returned.
    """
    if not isinstance(number, str):
        number = format_e164(number)
    return _zones_for_digits(number.lstrip("+"))


def _zones_for_digits(digits: str) -> tuple[str, ...]:
    for length in range(min(len(digits), TIMEZONE_LONGEST_PREFIX), 0, -1):
        zones = TIMEZONE_DATA.get(digits[:length])
        if zones is not None:
            return tuple(sorted(z for z in zones if z != _UNKNOWN_ZONE))
    return ()


# US states (and DC / territories) -> the zone most of the state's people live in. Split states
# are refined by ZIP prefix below; the state alone gives the majority zone.
STATE_ZONES = {
    "AL": "America/Chicago", "AK": "America/Anchorage", "AZ": "America/Phoenix",
    "AR": "America/Chicago", "CA": "America/Los_Angeles", "CO": "America/Denver",
    "CT": "America/New_York", "DE": "America/New_York", "DC": "America/New_York",
    "FL": "America/New_York", "GA": "America/New_York", "HI": "Pacific/Honolulu",
    "ID": "America/Boise", "IL": "America/Chicago", "IN": "America/Indiana/Indianapolis",
    "IA": "America/Chicago", "KS": "America/Chicago", "KY": "America/New_York",
    "LA": "America/Chicago", "ME": "America/New_York", "MD": "America/New_York",
    "MA": "America/New_York", "MI": "America/Detroit", "MN": "America/Chicago",
    "MS": "America/Chicago", "MO": "America/Chicago", "MT": "America/Denver",
    "NE": "America/Chicago", "NV": "America/Los_Angeles", "NH": "America/New_York",
    "NJ": "America/New_York", "NM": "America/Denver", "NY": "America/New_York",
    "NC": "America/New_York", "ND": "America/Chicago", "OH": "America/New_York",
    "OK": "America/Chicago", "OR": "America/Los_Angeles", "PA": "America/New_York",
    "RI": "America/New_York", "SC": "America/New_York", "SD": "America/Chicago",
    "TN": "America/Chicago", "TX": "America/Chicago", "UT": "America/Denver",
    "VT": "America/New_York", "VA": "America/New_York", "WA": "America/Los_Angeles",
    "WV": "America/New_York", "WI": "America/Chicago", "WY": "America/Denver",
    "PR": "America/Puerto_Rico", "VI": "America/St_Thomas", "GU": "Pacific/Guam",
    "AS": "Pacific/Pago_Pago", "MP": "Pacific/Saipan",
}
STATE_NAMES = {
    "alabama": "AL", "alaska": "AK", "arizona": "AZ", "arkansas": "AR", "california": "CA",
    "colorado": "CO", "connecticut": "CT", "delaware": "DE", "district of columbia": "DC",
    "florida": "FL", "georgia": "GA", "hawaii": "HI", "idaho": "ID", "illinois": "IL",
    "indiana": "IN", "iowa": "IA", "kansas": "KS", "kentucky": "KY", "louisiana": "LA",
    "maine": "ME", "maryland": "MD", "massachusetts": "MA", "michigan": "MI", "minnesota": "MN",
    "mississippi": "MS", "missouri": "MO", "montana": "MT", "nebraska": "NE", "nevada": "NV",
    "new hampshire": "NH", "new jersey": "NJ", "new mexico": "NM", "new york": "NY",
    "north carolina": "NC", "north dakota": "ND", "ohio": "OH", "oklahoma": "OK", "oregon": "OR",
    "pennsylvania": "PA", "rhode island": "RI", "south carolina": "SC", "south dakota": "SD",
    "tennessee": "TN", "texas": "TX", "utah": "UT", "vermont": "VT", "virginia": "VA",
    "washington": "WA", "west virginia": "WV", "wisconsin": "WI", "wyoming": "WY",
    "puerto rico": "PR", "guam": "GU", "u.s. virgin islands": "VI", "us virgin islands": "VI",
    "virgin islands": "VI", "american samoa": "AS", "northern mariana islands": "MP",
    "washington dc": "DC", "washington, d.c.": "DC", "d.c.": "DC",
}
# ZIP-code prefixes (first three digits, inclusive ranges) -> state.
_ZIP3_STATES = [
    (5, 5, "NY"), (6, 7, "PR"), (8, 8, "VI"), (9, 9, "PR"), (10, 27, "MA"), (28, 29, "RI"),
    (30, 38, "NH"), (39, 49, "ME"), (50, 54, "VT"), (55, 55, "MA"), (56, 59, "VT"),
    (60, 69, "CT"), (70, 89, "NJ"), (100, 149, "NY"), (150, 196, "PA"), (197, 199, "DE"),
    (200, 205, "DC"), (206, 219, "MD"), (220, 246, "VA"), (247, 268, "WV"), (270, 289, "NC"),
    (290, 299, "SC"), (300, 319, "GA"), (320, 349, "FL"), (350, 369, "AL"), (370, 385, "TN"),
    (386, 397, "MS"), (398, 399, "GA"), (400, 427, "KY"), (430, 459, "OH"), (460, 479, "IN"),
    (480, 499, "MI"), (500, 528, "IA"), (530, 549, "WI"), (550, 567, "MN"), (569, 569, "DC"),
    (570, 577, "SD"), (580, 588, "ND"), (590, 599, "MT"), (600, 629, "IL"), (630, 658, "MO"),
    (660, 679, "KS"), (680, 693, "NE"), (700, 714, "LA"), (716, 729, "AR"), (730, 749, "OK"),
    (750, 799, "TX"), (800, 816, "CO"), (820, 831, "WY"), (832, 838, "ID"), (840, 847, "UT"),
    (850, 865, "AZ"), (870, 884, "NM"), (885, 885, "TX"), (889, 898, "NV"), (900, 961, "CA"),
    (967, 968, "HI"), (969, 969, "GU"), (970, 979, "OR"), (980, 994, "WA"), (995, 999, "AK"),
]
# ZIP prefixes in the minority zone of a split state.
_ZIP3_ZONES = [
    (324, 325, "America/Chicago"),    # Florida panhandle
    (373, 374, "America/New_York"),   # East Tennessee (375 is Memphis, Central)
    (376, 379, "America/New_York"),
    (420, 424, "America/Chicago"),    # West Kentucky
    (463, 464, "America/Chicago"),    # NW Indiana
    (476, 477, "America/Chicago"),    # SW Indiana
    (498, 499, "America/Menominee"),  # Michigan's Upper Peninsula border counties
    (577, 577, "America/Denver"),     # West South Dakota
    (693, 693, "America/Denver"),     # West Nebraska
    (798, 799, "America/Denver"),     # El Paso, Texas
    (885, 885, "America/Denver"),     # El Paso, Texas
    (835, 835, "America/Los_Angeles"),  # North Idaho: Lewiston (836-837 are Boise, Mountain)
    (838, 838, "America/Los_Angeles"),  # and the panhandle
    (586, 586, "America/Denver"),     # Southwest North Dakota
    (979, 979, "America/Boise"),      # East Oregon
]


# Canada's provinces and territories: a Canadian number's address may name one.
CANADIAN_PROVINCES = frozenset({"AB", "BC", "MB", "NB", "NL", "NS", "NT", "NU", "ON", "PE", "QC", "SK", "YT"})


def check_state(state: str | None, e164: str) -> str | None:
    """The state of a North American number's address as its code ("NY"), None when none is
    given; ValueError when it is not a US state, DC or territory (code or full name).

    A Canadian number may give a province code instead. The address of a number outside North
    America is not read as a US address (see `zones_the_callee_may_be_in`), so any text goes.
    """
    value = (state or "").strip()
    if not value:
        return None
    if not e164.startswith("+1"):
        return value
    code = state_code(value)
    if code is not None:
        return code
    if value.upper() in CANADIAN_PROVINCES and _region_of(e164) == "CA":
        return value.upper()
    raise ValueError(f"{value[:40]!r} is not a US state, DC or territory (a code such as NY, or its full name)")


def _region_of(e164: str) -> str | None:
    try:
        return phonenumbers.region_code_for_number(phonenumbers.parse(e164, None))
    except NumberParseException:
        return None


def state_code(state: str | None) -> str | None:
    value = (state or "").strip()
    if not value:
        return None
    if value.upper() in STATE_ZONES:
        return value.upper()
    return STATE_NAMES.get(value.lower())


def _zip3(postal: str | None) -> int | None:
    digits = (postal or "").strip()[:5]
    if len(digits) < 5 or not digits.isdigit():
        return None
    return int(digits[:3])


def zone_for_postal(postal: str | None) -> str | None:
    """The zone of a US ZIP code (by its first three digits); None if not a US ZIP we know."""
    zip3 = _zip3(postal)
    if zip3 is None:
        return None
    for low, high, zone in _ZIP3_ZONES:
        if low <= zip3 <= high:
            return zone
    for low, high, state in _ZIP3_STATES:
        if low <= zip3 <= high:
            return STATE_ZONES[state]
    return None


# States whose people live in more than one zone: the state alone does not say which, so
# without a ZIP code the calling window must be open in all of them.
SPLIT_STATE_ZONES = {
    "AK": ("America/Anchorage", "America/Adak"), "FL": ("America/New_York", "America/Chicago"),
    "ID": ("America/Boise", "America/Los_Angeles"),
    "IN": ("America/Indiana/Indianapolis", "America/Chicago"),
    "KS": ("America/Chicago", "America/Denver"), "KY": ("America/New_York", "America/Chicago"),
    "MI": ("America/Detroit", "America/Menominee"), "ND": ("America/Chicago", "America/Denver"),
    "NE": ("America/Chicago", "America/Denver"), "OR": ("America/Los_Angeles", "America/Boise"),
    "SD": ("America/Chicago", "America/Denver"), "TN": ("America/Chicago", "America/New_York"),
    "TX": ("America/Chicago", "America/Denver"),
}


def zones_for_state(state: str | None) -> tuple[str, ...]:
    """Every zone a split state spans (empty for a single-zone or unknown state)."""
    code = state_code(state)
    return SPLIT_STATE_ZONES.get(code, ()) if code else ()


def contact_timezone(e164: str, explicit: str | None = None, state: str | None = None,
                     postal: str | None = None) -> str | None:
    """The contact's IANA zone when it is known for sure: explicit, else from the ZIP code or a
    single-zone state (US numbers), else the number's only zone.

    An explicit zone that does not exist raises ValueError (calling hours depend on it). None
    means "not one zone for sure": a split state without a ZIP code (Texas: Central and, in El
    Paso, Mountain), a number in an area code that spans two zones (208, north and south
    Idaho), a non-geographic number. The dialer then calls only when the window is open in
    every zone the contact may be in (the state's, else the number's: `gates.candidate_zones`),
    so a guess can never put a call outside someone's hours.
    """
    if explicit and explicit.strip():
        return valid_timezone(explicit)
    if e164.startswith("+1"):  # North America: a US ZIP or state is more precise than the number
        zone = zone_for_postal(postal)
        if zone is not None:
            return zone
        code = state_code(state)
        if code in SPLIT_STATE_ZONES:
            return None  # where in the state the number cannot tell: every zone of it applies
        if code in STATE_ZONES:
            return STATE_ZONES[code]
    zones = _zones_for_digits(e164.lstrip("+"))
    return zones[0] if len(zones) == 1 else None


def zones_for_address(state: str | None, postal: str | None) -> tuple[str, ...]:
    """The zones a US address places someone in: its ZIP code's zone, else every zone of its
    state (one for most states, two for a split one); empty when the address says nothing."""
    zone = zone_for_postal(postal)
    if zone is not None:
        return (zone,)
    code = state_code(state)
    if code in SPLIT_STATE_ZONES:
        return SPLIT_STATE_ZONES[code]
    return (STATE_ZONES[code],) if code in STATE_ZONES else ()


_GEOGRAPHIC = frozenset({phonenumbers.PhoneNumberType.FIXED_LINE,
                         phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE})


def zones_the_callee_may_be_in(stated_zone: str | None, e164: str, state: str | None = None,
                               postal: str | None = None) -> tuple[str, ...]:
    """Every zone a contact's data allows, sorted: its stated (or stored) zone, its address (the
    ZIP code's zone, else every zone of its state; read as a US address for a North American
    number only) and the number's own zones. A mobile or non-geographic number may be anywhere
    in its country: it brings every zone of the country, unless the address places the callee.

    Where the sources disagree the stricter reading holds: the calling window must be open in
    every zone returned (a New York number whose contact says London: both).
    """
    names = {stated_zone} if stated_zone else set()
    # A state and ZIP code are read as a US address only for a North American number: "WA" with
    # an Australian mobile is Western Australia, and 28001 in Madrid is not a Carolina ZIP code.
    address = zones_for_address(state, postal) if e164.startswith("+1") else ()
    names.update(address)
    try:
        number = phonenumbers.parse(e164, None)
    except NumberParseException:
        number = None
    if number is not None:
        if phonenumbers.number_type(number) in _GEOGRAPHIC:
            names.update(_zones_for_digits(e164.lstrip("+")))
        elif not address:
            names.update(pn_timezone.time_zones_for_number(number))
    names.discard(_UNKNOWN_ZONE)
    return tuple(sorted(names))


def zones_agree(zone: str | None, e164: str, state: str | None = None, postal: str | None = None) -> bool:
    """True when every source of the contact's zone says `zone` (and nothing else)."""
    return zone is not None and zones_the_callee_may_be_in(zone, e164, state, postal) == (zone,)
