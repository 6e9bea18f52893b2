"""The Twilio-compatible REST API and the ``/_sim`` introspection endpoints."""
from __future__ import annotations

import json
from xml.sax.saxutils import escape

from flask import Flask, Response, request

from carrier_sim import inbound
from carrier_sim import numbers as incoming_numbers
from carrier_sim import queues
from carrier_sim.calls import API_VERSION
from carrier_sim.conferences import OUTSIDE
from carrier_sim.config import SimConfig
from carrier_sim.engine import CallEngine
from carrier_sim.recordings import RECORDING_EVENTS, byte_range, wav_bytes
from carrier_sim.throttle import CreateThrottle
from carrier_sim.webhook_http import is_url

CALLS = f"/{API_VERSION}/Accounts/<account_sid>/Calls"
EVENTS = {"initiated", "ringing", "answered", "completed"}
AMD_MODES = {"Enable", "DetectMessageEnd"}


class ApiError(Exception):
    def __init__(self, status: int, code: int, message: str):
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


def _json(payload, status: int = 200, headers: dict | None = None) -> Response:
    return Response(json.dumps(payload), status=status, headers=headers,
                    mimetype="application/json")


def _error(status: int, code: int, message: str, headers: dict | None = None) -> Response:
    return _json({"code": code, "message": message, "status": status,
                  "more_info": f"https://www.twilio.com/docs/errors/{code}"}, status, headers)


def create_sim_app(config: SimConfig | None = None, engine: CallEngine | None = None) -> Flask:
    """A WSGI app for the simulator; starts an engine unless one is given."""
    if engine is None:
        engine = CallEngine(config or SimConfig())
        engine.start()
    throttle = CreateThrottle(engine.chance)
    app = Flask("carrier_sim")
    app.extensions["carrier_sim"] = engine

    @app.errorhandler(ApiError)
    def api_error(exc: ApiError):
        return _error(exc.status, exc.code, exc.message)

    def authenticate(account_sid: str) -> None:
        config, auth = engine.config, request.authorization
        if (auth is None or auth.username != config.account_sid
                or auth.password != config.auth_token):
            engine.stats.incr("auth_failures")
            raise ApiError(401, 20003, "Authenticate")
        if account_sid != config.account_sid:
            raise ApiError(404, 20404, f"The requested resource /Accounts/{account_sid} "
                                       "was not found")

    def find_call(account_sid: str, call_sid: str):
        authenticate(account_sid)
        call = engine.store.get(call_sid)
        if call is None:
            raise ApiError(404, 20404, f"The requested resource {request.path} was not found")
        return call

    @app.post(f"{CALLS}.json")
    def create_call(account_sid: str):
        authenticate(account_sid)
        form = request.form
        to = form.get("To", "").strip()
        engine.stats.incr("create_requests")
        if to:
            engine.store.count_request(to)
        if not throttle.admit(engine.config):
            engine.stats.incr("rate_limited")
            return _error(429, 20429, "Too Many Requests",
                          {"Retry-After": str(engine.config.retry_after_seconds)})
        call = engine.place(**_call_fields(form, to))
        return _json(call.to_json(), 201)

    @app.get(f"{CALLS}.json")
    def list_calls(account_sid: str):
        """The account's calls (one page), filtered by To, From and Status as Twilio does."""
        authenticate(account_sid)
        wanted = {k: request.args[k] for k in ("To", "From", "Status") if request.args.get(k)}
        with engine.lock:
            found = [c.to_json() for c in list(engine.store.calls.values())]
        found = [c for c in found if all(c[k.lower()] == v for k, v in wanted.items())]
        return _json({"calls": found, "meta": {"page": 0, "page_size": 50, "key": "calls",
                                               "next_page_url": None}})

    CONFERENCES = f"/{API_VERSION}/Accounts/<account_sid>/Conferences"

    def find_conference(account_sid: str, key: str, *, live: bool = False):
        authenticate(account_sid)
        conference = engine.conferences.by_sid.get(key)  # by its sid only, as Twilio
        if conference is None or (live and conference.status == "completed"):
            raise ApiError(404, 20404, f"The requested resource {request.path} was not found")
        return conference

    @app.get(f"{CONFERENCES}.json")
    def list_conferences(account_sid: str):
        authenticate(account_sid)
        name, status = request.args.get("FriendlyName"), request.args.get("Status")
        with engine.lock:
            found = [c.to_json() for c in engine.conferences.by_sid.values()
                     if (name is None or c.name == name) and (status is None or c.status == status)]
        return _json({"conferences": found, "meta": {"page": 0, "page_size": 50, "key": "conferences",
                                                     "next_page_url": None}})

    @app.get(f"{CONFERENCES}/<conference>.json")
    def fetch_conference(account_sid: str, conference: str):
        with engine.lock:
            return _json(find_conference(account_sid, conference).to_json())

    @app.post(f"{CONFERENCES}/<conference>/Participants.json")
    def create_participant(account_sid: str, conference: str):
        """A new leg dialled into a conference (named, or by its sid), as Twilio does it: the
        leg is a call of its own whose TwiML joins the conference with the options given."""
        authenticate(account_sid)
        form = request.form
        to = form.get("To", "").strip()
        engine.stats.incr("participant_requests")
        with engine.lock:
            known = engine.conferences.by_sid.get(conference)
        name = known.name if known is not None else conference
        attributes = {"startConferenceOnEnter": form.get("StartConferenceOnEnter") or "true",
                      "endConferenceOnExit": form.get("EndConferenceOnExit") or "false",
                      "participantLabel": form.get("Label") or "",
                      "muted": form.get("Muted") or "false", "beep": "false"}
        options = " ".join(f'{key}="{escape(value)}"' for key, value in attributes.items())
        twiml = (f"<Response><Dial><Conference {options}>{escape(name)}</Conference></Dial>"
                 "</Response>")
        call = engine.place(party=OUTSIDE, **_call_fields(form, to, twiml=twiml))
        engine.store.add_participant(name, call.sid, form.get("Label") or "")
        return _json({"account_sid": account_sid, "call_sid": call.sid,
                      "conference_sid": known.sid if known is not None else None,
                      "label": form.get("Label") or None,
                      "status": "queued", "muted": False, "hold": False, "coaching": False,
                      "start_conference_on_enter": attributes["startConferenceOnEnter"] == "true",
                      "end_conference_on_exit": attributes["endConferenceOnExit"] == "true",
                      "uri": f"/{API_VERSION}/Accounts/{account_sid}/Conferences/{conference}/"
                             f"Participants/{call.sid}.json"}, 201)

    @app.get(f"{CONFERENCES}/<conference>/Participants.json")
    def list_participants(account_sid: str, conference: str):
        with engine.lock:
            found = find_conference(account_sid, conference)
            return _json({"participants": [found.participant_json(m) for m in found.members.values()],
                          "meta": {"page": 0, "page_size": 50, "key": "participants",
                                   "next_page_url": None}})

    @app.route(f"{CONFERENCES}/<conference>/Participants/<call_sid>.json",
               methods=["GET", "POST", "DELETE"])
    def participant(account_sid: str, conference: str, call_sid: str):
        """Fetch, update (Hold, HoldUrl, Muted, Coaching, CallSidToCoach) or remove one."""
        with engine.lock:
            found = find_conference(account_sid, conference, live=True)
            member = found.members.get(call_sid)
            if member is None:
                raise ApiError(404, 20404, f"The requested resource {request.path} was not found")
            if request.method == "DELETE":
                engine.conferences.leave(member.call, go_on=True)
                return Response(status=204)
            if request.method == "POST":
                engine.stats.incr("participant_updates")
                engine.conferences.update(found, call_sid, request.form)
            return _json(found.participant_json(member))

    incoming_numbers.register(app, engine, authenticate, ApiError)
    queues.register(app, engine, authenticate, ApiError)
    inbound.register(app, engine, ApiError)

    @app.get(f"{CALLS}/<call_sid>.json")
    def fetch_call(account_sid: str, call_sid: str):
        return _json(find_call(account_sid, call_sid).to_json())

    @app.post(f"{CALLS}/<call_sid>.json")
    def update_call(account_sid: str, call_sid: str):
        call = find_call(account_sid, call_sid)
        status, url, twiml = (request.form.get(k) for k in ("Status", "Url", "Twiml"))
        if status:
            if status not in ("completed", "canceled"):
                raise ApiError(400, 21218, f"Invalid Status: {status}")
            engine.hang_up(call, status)
        elif url or twiml:
            if url and not is_url(url):
                raise ApiError(400, 21205, "Url is not a valid URL")
            if not engine.redirect(call, url, twiml):
                raise ApiError(400, 21220, "Call is not in-progress. Cannot redirect.")
        return _json(call.to_json())

    # -- recordings ------------------------------------------------------------------------
    RECORDINGS = f"/{API_VERSION}/Accounts/<account_sid>/Recordings"

    def find_recording(account_sid: str, sid: str, call_sid: str | None = None):
        authenticate(account_sid)
        recording = engine.recordings.get(sid)
        if recording is None or (call_sid is not None and recording.call_sid != call_sid):
            raise ApiError(404, 20404, f"The requested resource {request.path} was not found")
        return recording

    @app.post(f"{CALLS}/<call_sid>/Recordings.json")
    def create_recording(account_sid: str, call_sid: str):
        """Start recording a call in progress: RecordingChannels (mono|dual),
        RecordingStatusCallback, RecordingStatusCallbackEvent (in-progress completed absent)."""
        call = find_call(account_sid, call_sid)
        form = request.form
        channels = (form.get("RecordingChannels") or "mono").lower()
        if channels not in ("mono", "dual"):
            raise ApiError(400, 21626, f"Invalid RecordingChannels: {channels}")
        callback = form.get("RecordingStatusCallback") or None
        if callback and not is_url(callback):
            raise ApiError(400, 21609, "RecordingStatusCallback is not a valid URL")
        events = {e for value in form.getlist("RecordingStatusCallbackEvent")
                  for e in value.replace(",", " ").split()}
        if events - RECORDING_EVENTS:
            raise ApiError(400, 21626, "One or more of the RecordingStatusCallbackEvents "
                                       "provided were invalid")
        recording = engine.start_recording(call, 2 if channels == "dual" else 1, callback,
                                           frozenset(events or {"completed"}))
        if recording is None:
            raise ApiError(400, 21220, "Requested resource is not eligible for recording: "
                                       "the call is not in progress")
        with engine.lock:
            return _json(recording.to_json(under_call=True), 201)

    @app.get(f"{CALLS}/<call_sid>/Recordings.json")
    def list_call_recordings(account_sid: str, call_sid: str):
        call = find_call(account_sid, call_sid)
        with engine.lock:
            found = [r.to_json(under_call=True) for r in engine.recordings.of_call(call)
                     if r.status != "deleted"]
        return _json({"recordings": found, "meta": {"page": 0, "page_size": 50,
                                                    "key": "recordings", "next_page_url": None}})

    @app.route(f"{CALLS}/<call_sid>/Recordings/<sid>.json", methods=["GET", "POST", "DELETE"])
    def call_recording(account_sid: str, call_sid: str, sid: str):
        """Fetch, update (Status paused | in-progress | stopped, PauseBehavior skip |
        silence) or delete one recording of a call."""
        find_call(account_sid, call_sid)
        recording = find_recording(account_sid, sid, call_sid)
        if request.method == "DELETE":
            return _delete_recording(recording)
        if request.method == "POST":
            status = request.form.get("Status", "")
            behavior = request.form.get("PauseBehavior") or "silence"  # Twilio's default
            if status not in ("paused", "in-progress", "stopped"):
                raise ApiError(400, 21626, f"Invalid Status: {status}")
            if behavior not in ("skip", "silence"):
                raise ApiError(400, 21626, f"Invalid PauseBehavior: {behavior}")
            if not engine.update_recording(recording, status, behavior):
                raise ApiError(400, 21220, "The recording is not in progress and cannot be "
                                           "updated")
        with engine.lock:
            return _json(recording.to_json(under_call=True))

    def _delete_recording(recording) -> Response:
        with engine.lock:
            if recording.status in ("in-progress", "paused"):
                raise ApiError(400, 21220, "A recording in progress cannot be deleted")
            recording.delete()
        engine.stats.incr("recordings_deleted")
        return Response(status=204)

    @app.route(f"{RECORDINGS}/<name>", methods=["GET", "DELETE"])
    def recording(account_sid: str, name: str):
        """`<sid>.json`: the metadata (GET) or delete it (DELETE); `<sid>`, `<sid>.wav`,
        `<sid>.mp3`: the media."""
        sid, _, ext = name.partition(".")
        if ext not in ("", "json", "wav", "mp3") or (request.method == "DELETE" and ext != "json"):
            raise ApiError(404, 20404, f"The requested resource {request.path} was not found")
        recording = find_recording(account_sid, sid)
        if ext == "json":
            if request.method == "DELETE":
                return _delete_recording(recording)
            with engine.lock:
                return _json(recording.to_json())
        return _media(recording)

    def _media(recording) -> Response:
        """The media (always WAV here), with HTTP range requests as a CDN answers them."""
        with engine.lock:
            if recording.status not in ("completed", "absent"):
                raise ApiError(404, 20404, "The recording is not available until it completes")
            seconds, channels = recording.duration or 0, recording.channels
        engine.stats.incr("recording_media_fetches")
        body = wav_bytes(seconds, channels)
        size = len(body)
        wanted = byte_range(request.headers.get("Range"), size)
        headers = {"Accept-Ranges": "bytes"}
        if wanted is False:
            headers["Content-Range"] = f"bytes */{size}"
            return Response(status=416, headers=headers)
        if wanted is None:
            return Response(body, mimetype="audio/x-wav", headers=headers)
        first, last = wanted
        headers["Content-Range"] = f"bytes {first}-{last}/{size}"
        return Response(body[first:last + 1], status=206, mimetype="audio/x-wav", headers=headers)

    @app.get("/_sim/recordings")
    def sim_recordings():
        """Every recording (deleted ones too), with its pauses and recorded seconds."""
        call_sid = request.args.get("call_sid")
        with engine.lock:
            found = [r.introspect(engine.config.time_scale)
                     for r in engine.recordings.by_sid.values()
                     if call_sid is None or r.call_sid == call_sid]
        return _json({"recordings": found})

    @app.get("/_sim/calls")
    def sim_calls():
        return _json({"calls": engine.store.snapshot(request.args.get("to")),
                      "create_requests_by_to": engine.store.requests_by_to()})

    @app.get("/_sim/calls/<call_sid>")
    def sim_call(call_sid: str):
        call = engine.store.get(call_sid)
        return _json(call.introspect()) if call else _error(404, 20404, "no such call")

    @app.post("/_sim/clients/<identity>/connect")
    def sim_client_connect(identity: str):
        """A browser's Voice JS `Device.connect()`: form `Url` (the TwiML App's voice URL),
        `StatusCallback` (the TwiML App's status callback), any other fields as its params."""
        form = request.form.to_dict()
        url, status_callback = form.pop("Url", ""), form.pop("StatusCallback", None)
        if not is_url(url):
            return _error(400, 21205, "Url is not a valid URL")
        call = engine.connect_client(identity, url, status_callback, form)
        return _json({"call_sid": call.sid}, 201)

    @app.post("/_sim/clients/<identity>/disconnect")
    def sim_client_disconnect(identity: str):
        """The browser goes away: every live call of that client ends."""
        ended = [c.sid for c in list(engine.store.calls.values())
                 if f"client:{identity}" in (c.from_, c.to) and engine.hang_up_far_end(c)]
        return _json({"ended": ended})

    @app.post("/_sim/calls/<call_sid>/hangup")
    def sim_far_end_hangup(call_sid: str):
        """The far end of a call hangs up (a phone put down)."""
        call = engine.store.get(call_sid)
        if call is None:
            return _error(404, 20404, "no such call")
        return _json({"ended": engine.hang_up_far_end(call)})

    @app.get("/_sim/conferences")
    def sim_conferences():
        """Every conference with its participants, who hears whom, and each person who sat in
        one with nobody to talk to (`alone`)."""
        with engine.lock:
            return _json({"conferences": engine.conferences.snapshot(request.args.get("name")),
                          "alone": list(engine.conferences.alone.values())})

    @app.get("/_sim/stats")
    def sim_stats():
        stats = engine.stats.snapshot()
        with engine.lock:
            stats["persons_alone"] = len(engine.conferences.alone)
        stats.update(calls_by_status=engine.store.status_counts(),
                     scheduled=engine.scheduler.pending(),
                     callback_backlog=engine.sender.backlog())
        return _json(stats)

    @app.route("/_sim/config", methods=["GET", "POST"])
    def sim_config():
        if request.method == "POST":
            changes = dict(request.get_json(force=True) or {})
            if "rate_limit_next" in changes:
                throttle.reject_next(changes.pop("rate_limit_next"))
            try:
                engine.update_config(changes)
            except KeyError as exc:
                return _error(400, 20001, f"unknown knob {exc.args[0]}")
            except (TypeError, ValueError) as exc:
                return _error(400, 20001, str(exc))
        return _json(engine.config.as_dict())

    @app.post("/_sim/reset")
    def sim_reset():
        engine.store.clear()
        engine.stats.clear()
        with engine.lock:
            engine.recordings.clear()
        with engine.lock:
            engine.conferences.clear()
            engine.queues.clear()
        return _json({"ok": True})

    return app


def _call_fields(form, to: str, twiml: str | None = None) -> dict:
    """Validate a create request the way Twilio does and pick what the engine needs."""
    from_ = form.get("From", "").strip()
    url, twiml = form.get("Url"), twiml or form.get("Twiml")
    if not to:
        raise ApiError(400, 21201, "No 'To' number is specified")
    if not from_:
        raise ApiError(400, 21213, "No 'From' number is specified")
    if not url and not twiml:
        raise ApiError(400, 21205, "Url parameter is required")
    if url and not is_url(url):
        raise ApiError(400, 21205, f"Url is not a valid URL: {url}")
    status_callback = form.get("StatusCallback") or None
    if status_callback and not is_url(status_callback):
        raise ApiError(400, 21609, "StatusCallback is not a valid URL")
    events = {e for value in form.getlist("StatusCallbackEvent") for e in value.split()}
    if events - EVENTS:
        raise ApiError(400, 21626, "One or more of the StatusCallbackEvents provided "
                                   "were invalid")
    try:
        timeout = min(600, max(1, int(form.get("Timeout") or 60)))
    except ValueError:
        raise ApiError(400, 21216, "Timeout must be an integer") from None
    amd = form.get("MachineDetection") or None
    if amd and amd not in AMD_MODES:
        raise ApiError(400, 21626, f"Invalid MachineDetection: {amd}")
    async_amd = (form.get("AsyncAmd") or "").lower() == "true"
    amd_callback = form.get("AsyncAmdStatusCallback") or None
    record = (form.get("Record") or "").lower() == "true"
    try:
        time_limit = float(form.get("TimeLimit") or 0) or None
    except ValueError:
        raise ApiError(400, 21210, "TimeLimit must be an integer") from None
    return dict(to=to, from_=from_, url=url or None, twiml=twiml or None,
                method=(form.get("Method") or "POST").upper(),
                status_callback=status_callback,
                status_events=frozenset(events or {"completed"}), timeout=timeout,
                machine_detection=amd, async_amd=bool(amd and async_amd),
                amd_callback=amd_callback if amd else None, record=record,
                recording_callback=form.get("RecordingStatusCallback") or None,
                time_limit=time_limit)
