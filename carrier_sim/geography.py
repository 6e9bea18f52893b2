"""Where a phone number is, as Twilio tells an inbound call's webhooks: FromCity, FromState,
FromZip, FromCountry and the same for To, Caller and Called.

Twilio looks numbers up in carrier data; the simulator asks `phonenumbers`' geocoder, which
knows the area code's city or state ("Chicago, IL", "Florida") and the country. Cities come in
capitals and states as two letters, as Twilio sends them; what is not known is sent empty (a
withheld number, a ZIP code), as Twilio does.
"""
from __future__ import annotations

from functools import lru_cache

import phonenumbers
from phonenumbers import geocoder

US_STATES = {
    "Alabama": "AL", "Alaska": "AK", "Arizona": "AZ", "Arkansas": "AR", "California": "CA",
    "Colorado": "CO", "Connecticut": "CT", "Delaware": "DE", "Florida": "FL", "Georgia": "GA",
    "Hawaii": "HI", "Idaho": "ID", "Illinois": "IL", "Indiana": "IN", "Iowa": "IA", "Kansas": "KS",
    "Kentucky": "KY", "Louisiana": "LA", "Maine": "ME", "Maryland": "MD", "Massachusetts": "MA",
    "Michigan": "MI", "Minnesota": "MN", "Mississippi": "MS", "Missouri": "MO", "Montana": "MT",
    "Nebraska": "NE", "Nevada": "NV", "New Hampshire": "NH", "New Jersey": "NJ",
    "New Mexico": "NM", "New York": "NY", "North Carolina": "NC", "North Dakota": "ND",
    "Ohio": "OH", "Oklahoma": "OK", "Oregon": "OR", "Pennsylvania": "PA", "Rhode Island": "RI",
    "South Carolina": "SC", "South Dakota": "SD", "Tennessee": "TN", "Texas": "TX", "Utah": "UT",
    "Vermont": "VT", "Virginia": "VA", "Washington": "WA", "West Virginia": "WV",
    "Wisconsin": "WI", "Wyoming": "WY", "Washington D.C.": "DC",
}
CITY_STATES = {"Washington D.C.": ("WASHINGTON", "DC")}
# What Twilio sends as From for a withheld caller ID: the words on a phone keypad (ANONYMOUS,
# UNAVAILABLE, UNKNOWN, BLOCKED, RESTRICTED), or "anonymous" from SIP and clients.
WITHHELD = frozenset({"+266696687", "+86282452253", "+8656696", "+2562533", "+7378742833",
                      "anonymous"})
ANONYMOUS = "+266696687"


@lru_cache(maxsize=4096)
def place(number: str) -> tuple[str, str, str, str]:
    """(city, state, zip, country) of a number; empty strings where unknown."""
    if number in WITHHELD:
        return "", "", "", ""
    try:
        parsed = phonenumbers.parse(number)
    except phonenumbers.NumberParseException:
        return "", "", "", ""
    if not phonenumbers.is_possible_number(parsed):
        return "", "", "", ""
    country = phonenumbers.region_code_for_number(parsed) or ""
    described = geocoder.description_for_number(parsed, "en")
    if described in CITY_STATES:
        city, state = CITY_STATES[described]
    elif ", " in described:
        city, _, state = described.rpartition(", ")
        city = city.upper()
    elif described in US_STATES:
        city, state = "", US_STATES[described]
    else:
        city, state = described.upper(), ""
    return city, state, "", country


def params(from_: str, to: str) -> dict[str, str]:
    """The geographic parameters of an inbound call's requests."""
    form = {}
    for prefixes, number in ((("From", "Caller"), from_), (("To", "Called"), to)):
        city, state, zip_code, country = place(number)
        for prefix in prefixes:
            form.update({f"{prefix}City": city, f"{prefix}State": state,
                         f"{prefix}Zip": zip_code, f"{prefix}Country": country})
    return form
