"""Where events come from: the features' own blinker signals, each sent inside the transaction
that made the change, so an event exists only if that change commits.

- call.completed: `app.calls.signals.call_finished` (every call that reaches a terminal status);
- disposition.saved and callback.scheduled: `app.interactions.signals.disposition_saved`;
  callback.scheduled also from `app.interactions.signals.voicemail_callback` (a caller's
  voicemail asked for one);
- contact.opted_out and consent.revoked: `app.contacts.signals.consent_revoked` (the opt-out
  key and a do-not-call disposition are opt-outs; consent.revoked is raised whenever consents
  were revoked, and for every revocation through the API).
"""
from __future__ import annotations

import logging

from app.calls.signals import call_finished
from app.contacts.signals import consent_revoked
from app.interactions.signals import disposition_saved, voicemail_callback
from app.outbound_hooks import events, services

log = logging.getLogger(__name__)

OPT_OUT_CHANNELS = ("opt_out_key", "dnc_disposition")


def on_call_finished(call, *, at, **_) -> None:
    services.raise_event("call.completed", events.call_completed(call), at)


def on_disposition_saved(_sender, *, interaction, disposition, contact, campaign, callback, at, **_) -> None:
    services.raise_event("disposition.saved",
                         events.disposition_saved(interaction, disposition, contact, campaign), at)
    if callback is not None:
        from app.extensions import db

        db.session.flush()  # the callback's id
        services.raise_event("callback.scheduled",
                             events.callback_scheduled(callback, interaction, contact, campaign), at)


def on_voicemail_callback(_sender, *, voicemail, callback, contact, campaign, at, **_) -> None:
    services.raise_event("callback.scheduled",
                         events.callback_scheduled(callback, None, contact, campaign, voicemail), at)


def on_consent_revoked(_sender, *, phone, seller, via, at, consents_revoked, **_) -> None:
    data = events.revocation(phone, seller, via, at, consents_revoked)
    if via in OPT_OUT_CHANNELS:
        services.raise_event("contact.opted_out", data, at)
    if consents_revoked or via not in OPT_OUT_CHANNELS:
        services.raise_event("consent.revoked", data, at)


def connect() -> None:
    """Subscribe webhooks out to the features' signals (idempotent)."""
    call_finished.connect(on_call_finished, weak=False)
    disposition_saved.connect(on_disposition_saved, weak=False)
    voicemail_callback.connect(on_voicemail_callback, weak=False)
    consent_revoked.connect(on_consent_revoked, weak=False)
    services.listen_for_commits()
