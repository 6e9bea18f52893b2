"""The configured Carrier, built once per app from its config."""
from __future__ import annotations

from flask import Flask, current_app

from app.telephony.carrier import Carrier


def build_carrier(app: Flask) -> Carrier:
    from app.telephony.twilio_carrier import TwilioCarrier

    config = app.config
    return TwilioCarrier(config["TWILIO_ACCOUNT_SID"], config["TWILIO_AUTH_TOKEN"],
                         api_base_url=config.get("TWILIO_API_BASE_URL"))


def get_carrier() -> Carrier:
    """The app's carrier (the real SDK; pointed at the simulator when TWILIO_API_BASE_URL is set)."""
    carrier = current_app.extensions.get("carrier")
    if carrier is None:
        carrier = current_app.extensions["carrier"] = build_carrier(current_app)
    return carrier


def webhook_url(path: str, attempt: int | None = None) -> str:
    """The public URL of one of our webhooks, carrying the attempt's own id (calls.id).

    The id lets a callback find its call even when the worker that placed it died
    before storing the CallSid.
    """
    url = f"{current_app.config['PUBLIC_BASE_URL']}/twilio/{path}"
    return url if attempt is None else f"{url}?attempt={attempt}"
