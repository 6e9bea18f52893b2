"""The account's phone numbers: Twilio's IncomingPhoneNumbers list, paged as Twilio pages it,
each number's update (VoiceUrl, VoiceMethod, StatusCallback...: what a call to it does), and
``/_sim/numbers``, the control that sets one number's person-answer rate."""
from __future__ import annotations

import hashlib
import json
from datetime import datetime, timezone
from email.utils import format_datetime
from urllib.parse import urlencode

from flask import Flask, Response, request

from carrier_sim.calls import API_VERSION
from carrier_sim.webhook_http import is_url

MAX_PAGE_SIZE = 1000  # Twilio's ceiling
DEFAULT_PAGE_SIZE = 50
# When the simulator started: the numbers' "date_created" (stable across list calls).
_CREATED = format_datetime(datetime(2024, 1, 2, 9, 0, tzinfo=timezone.utc))


def number_sid(phone_number: str) -> str:
    """The same PN... sid for a number every time (Twilio's sids are stable per number)."""
    return "PN" + hashlib.sha256(phone_number.encode()).hexdigest()[:32]


# Update fields -> the number's JSON keys (and the simulator's settings), as Twilio names them.
SETTINGS = {"VoiceUrl": "voice_url", "VoiceMethod": "voice_method",
            "VoiceFallbackUrl": "voice_fallback_url",
            "VoiceFallbackMethod": "voice_fallback_method",
            "StatusCallback": "status_callback", "StatusCallbackMethod": "status_callback_method"}
URL_SETTINGS = ("VoiceUrl", "VoiceFallbackUrl", "StatusCallback")
METHOD_SETTINGS = ("VoiceMethod", "VoiceFallbackMethod", "StatusCallbackMethod")


def number_json(account_sid: str, phone_number: str, friendly_name: str,
                settings: dict[str, str] | None = None) -> dict:
    sid = number_sid(phone_number)
    return {
        "account_sid": account_sid, "sid": sid, "phone_number": phone_number,
        "friendly_name": friendly_name or phone_number, "api_version": API_VERSION,
        "capabilities": {"voice": True, "sms": True, "mms": False, "fax": False},
        "date_created": _CREATED, "date_updated": _CREATED, "origin": "twilio",
        "status": "in-use", "beta": False, "voice_method": "POST", "voice_url": None,
        "voice_fallback_method": "POST", "voice_fallback_url": None, "voice_application_sid": None,
        "voice_caller_id_lookup": False, "status_callback": "", "status_callback_method": "POST",
        "emergency_status": "Inactive", "type": "local",
        "uri": f"/{API_VERSION}/Accounts/{account_sid}/IncomingPhoneNumbers/{sid}.json",
        **{key: value for key, value in (settings or {}).items() if key in SETTINGS.values()},
    }


def register(app: Flask, engine, authenticate, api_error) -> None:
    """Add the numbers routes to the simulator's app (`authenticate` raises as Twilio answers)."""
    base = f"/{API_VERSION}/Accounts/<account_sid>/IncomingPhoneNumbers"

    def owned(account_sid: str) -> list[dict]:
        numbers = sorted(engine.config.incoming_numbers.items())
        return [number_json(account_sid, number, name, engine.number_settings.get(number))
                for number, name in numbers]

    def find(account_sid: str, sid: str) -> dict:
        for number in owned(account_sid):
            if number["sid"] == sid:
                return number
        raise api_error(404, 20404, f"The requested resource {request.path} was not found")

    @app.get(f"{base}.json")
    def list_incoming_numbers(account_sid: str):
        authenticate(account_sid)
        args = request.args
        try:
            page = max(0, int(args.get("Page") or 0))
            size = min(MAX_PAGE_SIZE, max(1, int(args.get("PageSize") or DEFAULT_PAGE_SIZE)))
        except ValueError:
            raise api_error(400, 20001, "Page and PageSize must be integers") from None
        found = owned(account_sid)
        if args.get("PhoneNumber"):  # Twilio matches a pattern; a prefix or exact number here
            wanted = args["PhoneNumber"].replace("*", "")
            found = [n for n in found if wanted in n["phone_number"]]
        if args.get("FriendlyName"):
            found = [n for n in found if n["friendly_name"] == args["FriendlyName"]]
        start = page * size
        items = found[start:start + size]
        path = f"/{API_VERSION}/Accounts/{account_sid}/IncomingPhoneNumbers.json"

        def uri(n: int) -> str:
            query = {"PageSize": size, "Page": n}
            if n:
                query["PageToken"] = "PA" + number_sid(found[n * size - 1]["phone_number"])[2:]
            return f"{path}?{urlencode(query)}"

        more = start + size < len(found)
        payload = {"incoming_phone_numbers": items, "page": page, "page_size": size,
                   "start": start, "end": start + max(0, len(items) - 1),
                   "first_page_uri": uri(0), "previous_page_uri": uri(page - 1) if page else None,
                   "next_page_uri": uri(page + 1) if more else None, "uri": uri(page)}
        return Response(json.dumps(payload), mimetype="application/json")

    @app.get(f"{base}/<sid>.json")
    def fetch_incoming_number(account_sid: str, sid: str):
        authenticate(account_sid)
        return Response(json.dumps(find(account_sid, sid)), mimetype="application/json")

    @app.post(f"{base}/<sid>.json")
    def update_incoming_number(account_sid: str, sid: str):
        """What the SDK's ``incoming_phone_numbers(sid).update(voice_url=...)`` sends; an empty
        VoiceUrl takes the number out of service for calls (as Twilio's blank webhook)."""
        authenticate(account_sid)
        number = find(account_sid, sid)["phone_number"]
        form = request.form
        for name in URL_SETTINGS:
            if form.get(name) and not is_url(form[name]):
                raise api_error(400, 21502, f"{name} is not a valid URL: {form[name]}")
        for name in METHOD_SETTINGS:
            if form.get(name) and form[name].upper() not in ("GET", "POST"):
                raise api_error(400, 21501, f"{name} must be GET or POST")
        with engine.lock:
            settings = dict(engine.number_settings.get(number, {}), sid=sid)
            for name, key in SETTINGS.items():
                if name in form:
                    value = form[name]
                    settings[key] = value.upper() if name in METHOD_SETTINGS else value
            engine.number_settings[number] = settings
        if "FriendlyName" in form:
            names = dict(engine.config.incoming_numbers, **{number: form["FriendlyName"]})
            engine.update_config({"incoming_numbers": names})
        engine.stats.incr("number_updates")
        return Response(json.dumps(find(account_sid, sid)), mimetype="application/json")

    @app.route("/_sim/numbers", methods=["GET", "POST"])
    def sim_numbers():
        """GET: the numbers, each caller ID's person-answer rate and what its calls drew.
        POST ``{"number": "+1...", "answer_rate": 0.05}`` (null: back to the outcome mix)."""
        if request.method == "POST":
            body = request.get_json(force=True) or {}
            number, rate = str(body.get("number") or ""), body.get("answer_rate")
            rates = dict(engine.config.answer_rates)
            if rate is None:
                rates.pop(number, None)
            else:
                rates[number] = rate
            try:
                engine.update_config({"answer_rates": rates})
            except (TypeError, ValueError) as exc:
                raise api_error(400, 20001, str(exc)) from None
        config = engine.config
        return Response(json.dumps({"numbers": config.incoming_numbers,
                                    "answer_rates": config.answer_rates,
                                    "outcomes_by_from": engine.store.outcomes_by_from()}),
                        mimetype="application/json")

