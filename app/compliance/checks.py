"""Every calling rule at one instant, against the database as it is then.

The dial attempt (when a claimed contact becomes a call) and the placement (the moment the
carrier is asked, after any wait for a CPS slot or a 429 backoff, on every path: pacing,
retries, the reaper, preview, manual dial, callbacks) both ask here, so a number put on a
do-not-call list, a window that closed or a campaign stopped while a call waited stops it.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import text

from app.campaigns.models import Campaign
from app.compliance import blackouts, gates, jurisdictions
from app.contacts import consents
from app.contacts.models import Contact
from app.dnc.registry import registry_check
from app.dnc.services import is_dnc
from app.extensions import db

CAMPAIGN_NOT_ACTIVE = "campaign_not_active"
CONSENT_REQUIRED = "consent_required"
WINDOW_CLOSING = "calling_window_closing"
# Reasons that pass with time: the contact waits for the next legal instant.
TIME_REASONS = frozenset({gates.OUTSIDE_WINDOW, WINDOW_CLOSING, "state_calling_hours", "state_sunday_ban",
                          "state_no_calls_day", "state_holiday", "declared_blackout", "state_frequency_cap"})

# Reasons the refill's own query already keeps out of the queue (nothing to remember).
REFILL_KNOWS = frozenset({CAMPAIGN_NOT_ACTIVE, gates.ON_DNC, gates.NOT_DIALABLE, gates.MAX_ATTEMPTS,
                          gates.RETRY_NOT_DUE})
# A refusal waiting will not fix (consent missing, rule data unreadable) is looked at again after
# this long, or as soon as consent is recorded; one whose next legal time is beyond the rules'
# horizon (a long blackout) after the horizon.
FINAL_RECHECK = timedelta(days=1)
HORIZON = timedelta(days=14)


def wait_until(reason: str, next_at: datetime | None, now: datetime) -> datetime | None:
    """When a contact refused for `reason` at `now` should next be tried (None: the refill's
    own query keeps it out). Without this, a refused contact is queued again at every refill and
    can starve the campaign: the refill's query knows neither consent nor state rules."""
    if reason in REFILL_KNOWS:
        return None
    if next_at is not None:
        return next_at
    return now + (HORIZON if reason in TIME_REASONS else FINAL_RECHECK)


MESSAGES = {
    CAMPAIGN_NOT_ACTIVE: "The campaign is not running.",
    gates.ON_DNC: "The number is on a do-not-call list (the internal list or the campaign's).",
    gates.NO_TIMEZONE: "Where this number rings is unknown, so its calling hours are too.",
    gates.OUTSIDE_WINDOW: "It is outside calling hours in a zone the callee may be in.",
    WINDOW_CLOSING: "The calling window closes before the call could finish ringing.",
    # In a few words, for a refusal shown without the rule's own message (an agent's dial).
    "state_calling_hours": "It is outside the calling hours of the contact's state.",
    "state_sunday_ban": "The contact's state allows no sales calls on Sundays.",
    "state_no_calls_day": "The contact's state allows no sales calls today.",
    "state_holiday": "Today is a holiday on which the contact's state allows no sales calls.",
    "declared_blackout": "Calls to the contact's state are suspended today (a declared blackout).",
    "state_frequency_cap": "This person has had as many calls from this seller in 24 hours as their "
                           "state allows.",
    "written_consent_required": "The contact's state requires their written consent for this call.",
    "rules_unavailable": "The calling rules for the contact's state could not be read: it may not be "
                         "called until they are fixed.",
    CONSENT_REQUIRED: "The campaign calls only contacts with consent on record, and this one has none.",
    "national_registry": "The number is on the national Do Not Call Registry.",
    "national_registry_stale": "The national registry's copy for this area code is missing or more than "
                               "31 days old, so the number cannot be checked.",
}


@dataclass
class Assessment:
    """The answer to "may this number be called now, and if not, why and when?"."""

    callable: bool
    reasons: list[dict] = field(default_factory=list)  # {code, message, rule, source}
    next_callable_at: datetime | None = None
    zones: list[str] = field(default_factory=list)
    jurisdiction: str | None = None
    jurisdictions: list[str] = field(default_factory=list)
    proof: dict = field(default_factory=dict)

    @property
    def first_code(self) -> str | None:
        return self.reasons[0]["code"] if self.reasons else None


def assess(campaign: Campaign | None, to_number: str, contact: Contact | None, at: datetime, *,
           ring_seconds: float = 0, autodialed: bool = True, on_dnc: bool | None = None) -> Assessment:
    """Every rule for a call from `campaign` to `to_number` (the contact's data where there is a
    contact) starting at `at`: the campaign runs, no do-not-call list holds the number, the
    federal and campaign window is open in every zone the callee may be in for the whole ring,
    and the state rules of every jurisdiction the callee may be in (hours by day, Sundays,
    holidays, the seller's calls in the last 24 hours, written consent for autodialled calls).
    The gates at the attempt and at placement, and the compliance check, are this function.
    `on_dnc`: the do-not-call lists' answer when the caller has just asked them."""
    zones = zones_of(contact, to_number)
    region = contact.region if contact else None
    postal = contact.postal_code if contact else None
    places = jurisdictions.jurisdictions_for(region, postal, to_number)
    reasons: list[dict] = []
    waits = True  # False once a reason no amount of waiting fixes
    if campaign is None or campaign.status != "active":
        reasons.append(_plain(CAMPAIGN_NOT_ACTIVE))
        waits = False
    on_list = campaign is not None and (is_dnc(to_number, campaign.id) if on_dnc is None else on_dnc)
    if on_list:
        reasons.append(_plain(gates.ON_DNC))
        waits = False
    consent = consents.strongest_consent(contact, at)
    # The national Do Not Call Registry (US numbers only; None for the rest). The contact's
    # prior express written consent exempts the number (16 CFR 310.4(b)(1)(iii)(B)(1)); an
    # established business relationship is not modelled yet, so it exempts nothing. Neither a
    # listing nor a stale copy passes with time.
    national = None
    exempt = consent is not None and consent.kind == "prior_express_written"
    if campaign is not None and campaign.scrub_national_registry and not exempt:
        national = registry_check(to_number, at)
        if national is not None and national.code is not None:
            reasons.append(national.reason)
            waits = False
    next_at = None
    if not zones:
        reasons.append(_plain(gates.NO_TIMEZONE))
        waits = False
    elif campaign is not None:
        reasons += _window_reasons(campaign, zones, at, ring_seconds)
    if campaign is not None and not consents.satisfies(consent, campaign.required_consent):
        reasons.append({"code": CONSENT_REQUIRED, "rule": None, "source": None, "message":
                        f"The campaign calls only contacts with {campaign.required_consent.replace('_', ' ')} "
                        "consent on record, and this contact has none."})
        waits = False
    count, oldest = seller_calls_if_capped(campaign, to_number, places, zones, at)
    declared = blackouts.blackouts_for(at, zones, places, to_number)  # an admin's blackout days
    verdict = jurisdictions.evaluate(
        at, zones, places, blackout_days=declared, calls_last_24h=count, oldest_call_in_window=oldest,
        has_written_consent=consent is not None and consent.kind == "prior_express_written",
        autodialed=autodialed, ring_seconds=int(ring_seconds),
        window=(campaign.window_start, campaign.window_end) if campaign is not None else None)
    seen = {r["code"] for r in reasons}
    for reason in verdict.reasons:
        if reason.code not in seen or reason.rule:
            reasons.append({"code": reason.code, "message": reason.message, "rule": reason.rule,
                            "source": reason.source})
    if reasons and waits and verdict.next_callable_at is not None:
        next_at = verdict.next_callable_at
    local = [{"zone": z.key, "local_time": at.astimezone(z).isoformat(timespec="seconds")} for z in zones]
    proof = {"checked_at": at.isoformat(timespec="seconds"), "ruleset_version": verdict.ruleset_version,
             "zones": local, "jurisdictions": list(places),
             "lists_checked": (["internal", f"campaign:{campaign.id}"] if campaign is not None else ["internal"])
             + ([national.list_checked] if national is not None else []),
             "on_do_not_call_list": on_list, "seller_calls_last_24h": count,
             "consent_relied_on": None if consent is None else {
                 "id": consent.id, "kind": consent.kind, "given_at": consent.given_at.isoformat(),
                 "source": consent.source, "evidence_sha256": consent.evidence_sha256},
             "autodialed": autodialed}
    return Assessment(callable=not reasons, reasons=reasons, next_callable_at=next_at if reasons else at,
                      zones=[z.key for z in zones], jurisdiction=places[0] if places else None,
                      jurisdictions=list(places), proof=proof)


def time_rules(campaign: Campaign, contact: Contact, at: datetime, *,
               count_calls: bool = False) -> tuple[list[dict], datetime | None]:
    """The rules that pass with time, at `at`: the window in every zone for the whole ring, the
    state's hours, Sundays and holidays, declared blackouts, and the seller's 24-hour cap for
    seller's calls counted when `count_calls` (reasons, the next instant they all allow). For a
    time to promise or offer, such as a callback; lists and consent are the dial's, checked when
    it is made."""
    zones = zones_of(contact, contact.phone_e164)
    places = jurisdictions.jurisdictions_for(contact.region, contact.postal_code, contact.phone_e164)
    if not zones:
        return [_plain(gates.NO_TIMEZONE)], None
    reasons = _window_reasons(campaign, zones, at, campaign.ring_timeout_seconds)
    count, oldest = seller_calls_if_capped(campaign, contact.phone_e164, places, zones, at) \
        if count_calls else (0, None)
    verdict = jurisdictions.evaluate(
        at, zones, places, blackout_days=blackouts.blackouts_for(at, zones, places, contact.phone_e164),
        calls_last_24h=count, oldest_call_in_window=oldest,
        has_written_consent=True,  # consent is the dial's question, not the hour's
        autodialed=campaign.dial_mode != "preview", ring_seconds=campaign.ring_timeout_seconds,
        window=(campaign.window_start, campaign.window_end))
    seen = {r["code"] for r in reasons}
    reasons += [{"code": r.code, "message": r.message, "rule": r.rule, "source": r.source}
                for r in verdict.reasons if r.code in TIME_REASONS and (r.code not in seen or r.rule)]
    return reasons, (verdict.next_callable_at if reasons else at)


def _window_reasons(campaign: Campaign, zones, at: datetime, ring_seconds: float) -> list[dict]:
    """The federal and campaign window, open in every zone now and for the whole ring."""
    window = window_of(campaign)
    if not gates.inside_window(at, zones, window):
        return [_plain(gates.OUTSIDE_WINDOW)]
    if not gates.inside_window(at + timedelta(seconds=ring_seconds), zones, window):
        return [_plain(WINDOW_CLOSING)]
    return []


def seller_calls_last_24h(to_number: str, seller_name: str, at: datetime) -> tuple[int, datetime | None]:
    """Calls placed to this number in the 24 hours before `at` by every campaign of the seller
    (one subject per seller: the stricter reading), and when the oldest of them was placed."""
    # One placement at a time per number while a cap applies: the lock is held to the end of the
    # transaction (at placement, past the carrier request and the commit of its CallSid), so two
    # workers cannot both count two calls and both place a third.
    db.session.execute(text("SELECT pg_advisory_xact_lock(hashtext(:number))"), {"number": to_number})
    row = db.session.execute(_SELLER_CALLS, {"number": to_number, "seller": seller_name,
                                             "since": at - timedelta(hours=24), "at": at}).one()
    return int(row[0] or 0), row[1]


# Placed calls only (the carrier took them), by when the carrier started them (initiated_at;
# queued_at until that is known, which can be minutes earlier after 429s, so never later): on the
# (to_number, queued_at) index, reading back far enough for the longest 429 backoff.
_PLACED_AT = "GREATEST(c.queued_at, COALESCE(c.initiated_at, c.queued_at))"
_SELLER_CALLS = text(
    f"SELECT count(*), min({_PLACED_AT}) FROM calls c JOIN campaigns k ON k.id = c.campaign_id "
    "WHERE c.to_number = :number AND k.seller_name = :seller AND c.call_sid IS NOT NULL "
    "AND c.queued_at > CAST(:since AS timestamptz) - interval '1 hour' AND c.queued_at <= :at "
    f"AND {_PLACED_AT} > :since")


def seller_calls_if_capped(campaign: Campaign | None, to_number: str, places, zones,
                           at: datetime) -> tuple[int, datetime | None]:
    """The seller's calls to the number in the 24 hours before `at`, counted (under its lock)
    only where a frequency cap is in force; (0, None) elsewhere."""
    if campaign is None or not _capped(places, at, zones):
        return 0, None
    return seller_calls_last_24h(to_number, campaign.seller_name, at)


def _capped(places: tuple[str, ...], at: datetime, zones) -> bool:
    """Whether a frequency cap is in force on any of the callee's local dates at `at`."""
    days = {at.astimezone(z).date() for z in zones} or {at.date()}
    return any(rule.kind == "frequency_cap"
               for day in days for rule in jurisdictions.rules_in_force(day, places))


def _plain(code: str) -> dict:
    return {"code": code, "message": MESSAGES[code], "rule": None, "source": None}


def attempt_hold(contact: Contact, campaign: Campaign, now: datetime, *,
                 autodialed: bool = True) -> tuple[str | None, datetime | None]:
    """(why `contact` may not be given a new attempt at `now`, when it next may) or (None, None):
    its status, attempts and retry time, then every rule of `assess`."""
    if campaign.status != "active":
        return CAMPAIGN_NOT_ACTIVE, None
    on_dnc = is_dnc(contact.phone_e164, campaign.id)  # asked once, for both steps
    reason = gates.hold_reason(
        gates.GateInput(status=contact.status, attempts=contact.pass_attempts, next_due_at=contact.next_due_at,
                        phone_e164=contact.phone_e164, timezone=contact.timezone, region=contact.region,
                        postal_code=contact.postal_code),
        now=now, window=window_of(campaign), max_attempts=campaign.max_attempts, on_dnc=on_dnc)
    if reason is not None and reason != gates.OUTSIDE_WINDOW:
        return reason, None
    verdict = assess(campaign, contact.phone_e164, contact, now, autodialed=autodialed,
                     ring_seconds=campaign.ring_timeout_seconds, on_dnc=on_dnc)
    if verdict.callable:
        return None, None
    return verdict.first_code, verdict.next_callable_at


def window_of(campaign: Campaign) -> gates.Window:
    return gates.Window.for_campaign(campaign.window_start, campaign.window_end)


def zones_of(contact: Contact | None, to_number: str):
    if contact is None:
        return gates.candidate_zones(None, to_number)
    return gates.candidate_zones(contact.timezone, to_number, contact.region, contact.postal_code)
