"""Which numbers an agent may have Omnivox call: a transfer to a number, or the agent's own
phone. The account pays for these calls, so a number an agent types is toll fraud's way in.

- Only numbers starting with one of `TRANSFER_ALLOWED_PREFIXES` (default `+1`, the North
  American Numbering Plan).
- Never premium or pay-per-call numbers: NANP area code 900 (premium services) and the 976
  exchange (pay-per-call lines, NPA-976-XXXX, plus 976 as an area code for good measure).
- Never, unless a prefix names them explicitly (e.g. `+1876`), the NANP area codes of other
  countries: Caribbean and Atlantic numbers look domestic (+1) but are billed at international
  rates, and they are where "one-ring" and premium-rate fraud terminates.
"""
from __future__ import annotations

from flask import current_app

# NANP premium and pay-per-call ranges, refused whatever the allow-list says (the same ranges a
# contact's number is refused for: one list, in phones).
from app.common.phones import PAY_PER_CALL_EXCHANGES, PREMIUM_AREA_CODES, is_e164

# NANP area codes of countries other than the US and Canada (and the US territories): billed
# as international calls.
INTERNATIONAL_RATE_AREA_CODES = frozenset({
    "242", "246", "264", "268", "284", "345", "441", "473", "649", "658", "664", "721", "758",
    "767", "784", "809", "829", "849", "868", "869", "876",
})


def allowed_prefixes() -> tuple[str, ...]:
    return tuple(current_app.config.get("TRANSFER_ALLOWED_PREFIXES") or ("+1",))


def _listed(prefixes: tuple[str, ...]) -> str:
    return ", ".join(prefixes) if prefixes else "none"


def refusal(number: str, prefixes: tuple[str, ...] | None = None) -> str | None:
    """Why Omnivox will not call `number` for an agent, in words; None if it may."""
    prefixes = allowed_prefixes() if prefixes is None else prefixes
    if not is_e164(number):
        return "That is not a full international number."
    if number.startswith("+1") and len(number) == 12:
        area, exchange = number[2:5], number[5:8]
        if area in PREMIUM_AREA_CODES or exchange in PAY_PER_CALL_EXCHANGES:
            return "Premium-rate and pay-per-call numbers (900, 976) cannot be called."
        if area in INTERNATIONAL_RATE_AREA_CODES and not any(
                p.startswith(f"+1{area}") and number.startswith(p) for p in prefixes):
            return (f"Numbers in area code {area} are billed as international calls, which this "
                    "account does not allow.")
    if not any(number.startswith(p) for p in prefixes):
        return (f"This account only calls numbers starting with {_listed(prefixes)}: ask an "
                "administrator if this one should be allowed.")
    return None
