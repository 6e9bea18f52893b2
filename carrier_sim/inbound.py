"""``POST /_sim/inbound``: a person calls one of the account's numbers.

The control says who calls which number and how the person behaves (carrier_sim.calls.Caller);
the call then runs as Twilio runs a call to a number: it rings while the number's voice URL
is asked for TwiML (CallStatus ringing, Direction inbound, the caller's and the number's
geography), is answered when that TwiML starts, and ends with the number's status callback.

A number whose voice URL is blank is out of service: the caller hears so and Twilio neither
answers nor logs the call, so there is no call sid. A number the account does not own is
refused.
"""
from __future__ import annotations

import json

from flask import Flask, Response, request

from carrier_sim.calls import Caller
from carrier_sim.geography import ANONYMOUS

FIELDS = ("From", "To", "digits", "patience", "voicemail", "voicemail_seconds",
          "voicemail_ends", "talk_seconds")


def register(app: Flask, engine, api_error) -> None:
    @app.post("/_sim/inbound")
    def sim_inbound():
        """Form or JSON: ``From`` (absent or blank: a withheld number, sent as Twilio sends
        it), ``To`` (one of our numbers), and optionally ``digits``, ``patience``,
        ``voicemail``, ``voicemail_seconds``, ``voicemail_ends`` and ``talk_seconds``."""
        body = request.get_json(silent=True) if request.is_json else None
        if body is None:  # a form: digits repeated are one press per <Gather>
            body = request.form.to_dict()
            if len(request.form.getlist("digits")) > 1:
                body["digits"] = request.form.getlist("digits")
        unknown = set(body) - set(FIELDS)
        if unknown:
            raise api_error(400, 20001, f"unknown fields: {', '.join(sorted(unknown))}")
        to = str(body.get("To") or "").strip()
        from_ = str(body.get("From") or "").strip() or ANONYMOUS
        if not to:
            raise api_error(400, 21201, "No 'To' number is specified")
        if to not in engine.config.incoming_numbers:
            raise api_error(404, 21404, f"{to} is not a phone number of this account")
        try:
            caller, talk = _caller(engine, body)
        except (TypeError, ValueError) as exc:
            raise api_error(400, 20001, f"invalid caller behaviour: {exc}") from None
        if not engine.number_settings.get(to, {}).get("voice_url"):
            engine.stats.incr("inbound_out_of_service")
            return _json({"call_sid": None, "status": "out-of-service",
                          "message": f"{to} has no voice URL: the caller hears that the number "
                                     "is not in service; Twilio logs no call"})
        behaviour = caller.as_dict()
        call = engine.receive(from_, to, caller, talk)
        with engine.lock:
            return _json({"call_sid": call.sid, "call": call.to_json(), "caller": behaviour}, 201)


def _caller(engine, body: dict) -> tuple[Caller, float | None]:
    config = engine.config
    digits = body.get("digits")
    if digits is not None and not isinstance(digits, (str, list)):
        digits = str(digits)
    voicemail = body.get("voicemail", True)
    if isinstance(voicemail, str):
        voicemail = voicemail.strip().lower() in ("1", "true", "yes")
    caller = Caller(
        digits=list(map(str, digits)) if isinstance(digits, list) else digits,
        patience=_seconds(body, "patience", engine.draw(config.caller_patience_seconds)),
        voicemail=bool(voicemail),
        voicemail_seconds=_seconds(body, "voicemail_seconds",
                                   engine.draw(config.voicemail_seconds)),
        voicemail_ends=str(body.get("voicemail_ends") or "hangup"))
    talk = body.get("talk_seconds")
    return caller, None if talk in (None, "") else _positive(float(talk), "talk_seconds")


def _seconds(body: dict, name: str, default: float) -> float:
    value = body.get(name)
    return default if value in (None, "") else _positive(float(value), name)


def _positive(value: float, name: str) -> float:
    if value < 0:
        raise ValueError(f"{name} must not be negative")
    return value


def _json(payload, status: int = 200) -> Response:
    return Response(json.dumps(payload), status=status, mimetype="application/json")
