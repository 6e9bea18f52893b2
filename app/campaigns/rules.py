"""The campaign settings the law decides (DESIGN.md, "Rules that are law"), as field errors.

Each message says what the rule is and where it comes from, so whoever set up the campaign
knows why the value was refused. The database holds the same limits as CHECK constraints.
"""
from __future__ import annotations

import re
from datetime import time
from decimal import Decimal

from app.common.phones import format_national, is_e164, parse_phone

EARLIEST_CALL = time(8, 0)
LATEST_CALL = time(21, 0)
MIN_RING_SECONDS = 15
MAX_ABANDON_RATE = Decimal("0.03")

RING_TIMEOUT_RULE = (
    "Ring timeout must be at least 15 seconds: a call must ring for at least 15 seconds or four "
    "rings before it is given up (FCC, 47 CFR 64.1200(a)(6))."
)
WINDOW_RULE = (
    "The calling window must lie within 08:00-21:00: calls may not be placed before 8 am or "
    "after 9 pm in the called person's local time (FTC TSR 16 CFR 310.4(c); FCC 47 CFR "
    "64.1200(c)(1)). A campaign may be narrower, never wider."
)
ABANDON_RULE = (
    "The abandonment limit must be above 0% and at most 3%: no more than 3% of calls answered "
    "by a person may be abandoned, per campaign over each 30-day period (FTC TSR 16 CFR "
    "310.4(b)(4)(i); FCC 47 CFR 64.1200(a)(7)(i))."
)
# What people call each setting (the campaign form's labels), for messages that name fields.
FIELD_LABELS = {
    "name": "Name", "description": "Description", "dial_mode": "Dial mode",
    "caller_id": "Caller ID", "timezone": "Reporting time zone",
    "default_region": "Default phone region", "ring_timeout_seconds": "Ring timeout",
    "window_start": "Calling window start", "window_end": "Calling window end",
    "max_abandon_rate": "Maximum abandonment rate", "max_attempts": "Maximum attempts per contact",
    "retry_busy_seconds": "Retry after busy", "retry_no_answer_seconds": "Retry after no answer",
    "retry_machine_seconds": "Retry after answering machine",
    "retry_failed_seconds": "Retry after failure", "amd_enabled": "Answering-machine detection",
    "machine_action": "On a machine", "machine_message": "Machine message",
    "recording_enabled": "Record calls", "recording_retention_days": "Keep recordings for",
    "scrub_national_registry": "National Do Not Call Registry scrub",
    "seller_name": "Seller name", "seller_phone": "Seller phone",
    "safe_harbour_message": "Safe-harbour message", "script": "Agent script",
    "required_consent": "Required consent",
    "inbound_max_wait_seconds": "Longest wait for an agent",
    "inbound_hold_message": "Hold message", "inbound_keep_agents": "Agents kept for calls to us",
}


def in_words(fields) -> str:
    """"Caller ID, Ring timeout": the labels of `fields`, in the form's order."""
    order = list(FIELD_LABELS)
    known = sorted((f for f in fields if f in FIELD_LABELS), key=order.index)
    return ", ".join(FIELD_LABELS[f] for f in known) or "some settings"
CALLER_ID_RULE = (
    "A caller ID in E.164 form (e.g. +12025550123) is required: caller ID must be transmitted on "
    "every telemarketing call (FTC TSR 16 CFR 310.4(a)(8); FCC 47 CFR 64.1601(e))."
)
SAFE_HARBOUR_RULE = (
    "An abandoned call must hear a recorded message with the seller's name and a telephone "
    "number (FTC TSR 16 CFR 310.4(b)(4)(iii); FCC 47 CFR 64.1200(a)(7)(i)(A)); the message must "
    "contain the seller name and phone number (or the {seller_name} and {seller_phone} placeholders)."
)
MACHINE_MESSAGE_RULE = (
    "A prerecorded message must identify the seller and state a telephone number (FCC 47 CFR "
    "64.1200(b)); the message must contain the seller name and phone number (or the placeholders)."
)


def _digits(text: str) -> str:
    return re.sub(r"\D", "", text or "")


def names_seller(message: str, seller_name: str, seller_phone: str) -> bool:
    """Does `message` state the seller's name and phone number (literally or by placeholder)?"""
    message = message or ""
    has_name = "{seller_name}" in message or (
        bool(seller_name.strip()) and seller_name.strip().lower() in message.lower()
    )
    if "{seller_phone}" in message:
        return has_name
    phone_digits = _digits(seller_phone)
    national = phone_digits[1:] if phone_digits.startswith("1") and len(phone_digits) == 11 else phone_digits
    message_digits = _digits(message)
    has_phone = bool(national) and len(national) >= 7 and national in message_digits
    return has_name and has_phone


def spoken(message: str, seller_name: str, seller_phone: str) -> str:
    """`message` as the callee hears it: the {seller_name} and {seller_phone} placeholders filled
    in, the number in its national form so text-to-speech reads it as a phone number."""
    message = (message or "").replace("{seller_phone}", format_national(seller_phone))
    return message.replace("{seller_name}", seller_name or "")


def campaign_problems(v: dict) -> dict[str, list[str]]:
    """Field -> messages for every law-derived rule the campaign settings `v` break."""
    problems: dict[str, list[str]] = {}

    def add(field: str, message: str) -> None:
        problems.setdefault(field, []).append(message)

    if v.get("ring_timeout_seconds") is None or v["ring_timeout_seconds"] < MIN_RING_SECONDS:
        add("ring_timeout_seconds", RING_TIMEOUT_RULE)
    start, end = v.get("window_start"), v.get("window_end")
    if start is None or start < EARLIEST_CALL or start >= LATEST_CALL:
        add("window_start", WINDOW_RULE)
    if end is None or end > LATEST_CALL or end <= EARLIEST_CALL:
        add("window_end", WINDOW_RULE)
    if start is not None and end is not None and start >= end and "window_end" not in problems:
        add("window_end", "The calling window must end after it starts.")
    rate = v.get("max_abandon_rate")
    if rate is None or Decimal(str(rate)) <= 0 or Decimal(str(rate)) > MAX_ABANDON_RATE:
        add("max_abandon_rate", ABANDON_RULE)
    caller_id = v.get("caller_id") or ""
    if not _valid_e164(caller_id):
        add("caller_id", CALLER_ID_RULE)
    seller_name = (v.get("seller_name") or "").strip()
    seller_phone = v.get("seller_phone") or ""
    if not seller_name:
        add("seller_name", "The seller's name is required: the safe-harbour message must state it.")
    if not _valid_e164(seller_phone):
        add("seller_phone", "The seller's phone number is required in E.164 form (e.g. "
                            "+12025550123): the safe-harbour message must state it.")
    if seller_name and _valid_e164(seller_phone):
        if not names_seller(v.get("safe_harbour_message") or "", seller_name, seller_phone):
            add("safe_harbour_message", SAFE_HARBOUR_RULE)
        if v.get("amd_enabled") and v.get("machine_action") == "message" and not names_seller(
                v.get("machine_message") or "", seller_name, seller_phone):
            add("machine_message", MACHINE_MESSAGE_RULE)
    return problems


def _valid_e164(value: str) -> bool:
    if not is_e164(value):
        return False
    try:
        parse_phone(value, None)
    except ValueError:
        return False
    return True


def disposition_problems(v: dict) -> dict[str, list[str]]:
    """Flags that contradict each other on a disposition code."""
    problems: dict[str, list[str]] = {}
    if v.get("is_dnc") and not v.get("is_final"):
        problems["is_final"] = ["A do-not-call outcome is final: the number must never be dialled again."]
    if v.get("is_callback") and v.get("is_final"):
        problems["is_callback"] = ["A callback outcome cannot also be final."]
    if v.get("is_dnc") and v.get("is_callback"):
        problems.setdefault("is_callback", []).append("A do-not-call outcome cannot schedule a callback.")
    if v.get("is_sale") and not v.get("is_contact"):
        problems["is_contact"] = ["A sale is a contact: set is_contact."]
    return problems
