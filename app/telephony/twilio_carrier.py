"""The Twilio implementation of :class:`~app.telephony.carrier.Carrier`.

It uses the real ``twilio`` SDK. When ``api_base_url`` is set (the local
carrier simulator), every request's scheme and host are rewritten to it: the
SDK has no base-URL setting, and its ``edge``/``region`` mangle a local address.
"""
from __future__ import annotations

import threading
from contextlib import contextmanager
from datetime import datetime
from typing import Any, Mapping
from urllib.parse import urlsplit, urlunsplit

import requests
from requests.adapters import HTTPAdapter
from twilio.base.exceptions import TwilioRestException
from twilio.http.http_client import TwilioHttpClient
from twilio.request_validator import RequestValidator
from twilio.rest import Client
from urllib3.exceptions import NewConnectionError

from app.telephony.carrier import (
    Carrier,
    CarrierError,
    CarrierRateLimited,
    CallInfo,
    OwnedNumber,
    PlaceCallRequest,
    PlacedCall,
    RecordingGone,
    RecordingInfo,
    RecordingMedia,
)

STATUS_CALLBACK_EVENTS = ["initiated", "ringing", "answered", "completed"]
RECORDING_CALLBACK_EVENTS = ["in-progress", "completed", "absent"]
TWILIO_API = "https://api.twilio.com"
MEDIA_CHUNK = 64 * 1024
RATE_LIMIT_CODE = 20429
DEFAULT_RETRY_AFTER_SECONDS = 1.0


class RoutingHttpClient(TwilioHttpClient):
    """A TwilioHttpClient that can send every request to another base URL.

    It also remembers, per thread, the ``Retry-After`` of the last response:
    TwilioRestException does not carry response headers.
    """

    def __init__(self, base_url: str | None = None, timeout: float = 10.0,
                 pool_maxsize: int = 32):
        super().__init__(timeout=timeout)
        self._base = urlsplit(base_url.rstrip("/")) if base_url else None
        self._local = threading.local()
        # The default adapter pools only 10 connections per host; dialer
        # threads placing calls in parallel need more.
        adapter = HTTPAdapter(pool_connections=4, pool_maxsize=pool_maxsize)
        self.session.mount("http://", adapter)
        self.session.mount("https://", adapter)
        if self._base is not None:
            self.session.trust_env = False  # never send the local simulator via a proxy

    def rewrite(self, url: str) -> str:
        if self._base is None:
            return url
        parts = urlsplit(url)
        return urlunsplit((self._base.scheme, self._base.netloc,
                           self._base.path + parts.path, parts.query, parts.fragment))

    def request(self, method, url, params=None, data=None, headers=None, auth=None,
                timeout=None, allow_redirects=False):
        self._local.retry_after = None
        cap = getattr(self._local, "timeout_cap", None)
        if cap is not None:
            timeout = min(timeout or self.timeout, cap)
        response = super().request(method, self.rewrite(url), params=params, data=data,
                                   headers=headers, auth=auth, timeout=timeout,
                                   allow_redirects=allow_redirects)
        if response.status_code == 429 and response.headers:
            self._local.retry_after = response.headers.get("Retry-After")
        return response

    @contextmanager
    def timeout_at_most(self, seconds: float | None):
        """This thread's requests give up after `seconds` (connect and read) within the block."""
        self._local.timeout_cap = seconds
        try:
            yield
        finally:
            self._local.timeout_cap = None

    @property
    def last_retry_after(self) -> float:
        try:
            return max(0.0, float(getattr(self._local, "retry_after", None)))
        except (TypeError, ValueError):
            return DEFAULT_RETRY_AFTER_SECONDS


class TwilioCarrier(Carrier):
    def __init__(self, account_sid: str, auth_token: str, api_base_url: str | None = None,
                 *, http_timeout: float = 10.0):
        if not account_sid or not auth_token:
            raise ValueError("TwilioCarrier needs an account SID and an auth token")
        self.account_sid = account_sid
        self._auth = (account_sid, auth_token)
        self._http = RoutingHttpClient(api_base_url, timeout=http_timeout)
        self._client = Client(account_sid, auth_token, http_client=self._http)
        self._validator = RequestValidator(auth_token)

    # -- calls ---------------------------------------------------------------
    def place_call(self, request: PlaceCallRequest) -> PlacedCall:
        options: dict[str, Any] = {
            "to": request.to,
            "from_": request.from_,
            "url": request.answer_url,
            "method": "POST",
            "status_callback": request.status_callback_url,
            "status_callback_event": STATUS_CALLBACK_EVENTS,
            "status_callback_method": "POST",
            "timeout": request.timeout_seconds,
        }
        if request.machine_detection:
            options["machine_detection"] = request.amd_mode
            if request.amd_callback_url:
                options["async_amd"] = "true"
                options["async_amd_status_callback"] = request.amd_callback_url
                options["async_amd_status_callback_method"] = "POST"
        if request.time_limit_seconds:
            options["time_limit"] = request.time_limit_seconds
        if request.record:
            options["record"] = True
            if request.recording_callback_url:
                options["recording_status_callback"] = request.recording_callback_url
                options["recording_status_callback_method"] = "POST"
        call = self._call_api(lambda: self._client.calls.create(**options))
        return PlacedCall(call_sid=call.sid, status=call.status)

    def hangup(self, call_sid: str, *, cancel_only: bool = False) -> CallInfo:
        # "canceled" only affects queued/ringing calls; "completed" ends a call
        # in any state (an unanswered one then ends as canceled).
        status = "canceled" if cancel_only else "completed"
        call = self._call_api(lambda: self._client.calls(call_sid).update(status=status))
        return _call_info(call)

    def redirect(self, call_sid: str, twiml: str, *, within_seconds: float | None = None) -> CallInfo:
        with self._http.timeout_at_most(within_seconds):
            return _call_info(self._call_api(lambda: self._client.calls(call_sid).update(twiml=twiml)))

    def add_participant(self, conference: str, to: str, from_: str, *, label: str,
                        timeout_seconds: int, status_callback_url: str | None = None,
                        within_seconds: float | None = None,
                        status_events: tuple[str, ...] = ("completed",),
                        end_conference_on_exit: bool = True) -> str:
        options: dict[str, Any] = {
            "from_": from_, "to": to, "label": label, "timeout": timeout_seconds,
            "early_media": True, "beep": "false", "start_conference_on_enter": True,
            "end_conference_on_exit": end_conference_on_exit}
        if status_callback_url:
            options.update(status_callback=status_callback_url, status_callback_method="POST",
                           status_callback_event=list(status_events))
        with self._http.timeout_at_most(within_seconds):
            participant = self._call_api(
                lambda: self._client.conferences(conference).participants.create(**options))
        return participant.call_sid

    def update_participant(self, conference_sid: str, call_sid: str, *, hold: bool | None = None,
                           hold_url: str | None = None, muted: bool | None = None,
                           coaching: bool | None = None, call_sid_to_coach: str | None = None,
                           end_conference_on_exit: bool | None = None) -> None:
        options: dict[str, Any] = {}
        if end_conference_on_exit is not None:
            options["end_conference_on_exit"] = end_conference_on_exit
        if hold is not None:
            options["hold"] = hold
        if hold_url:
            options.update(hold_url=hold_url, hold_method="POST")
        if muted is not None:
            options["muted"] = muted
        if coaching is not None:
            options["coaching"] = coaching
        if coaching and call_sid_to_coach:
            options["call_sid_to_coach"] = call_sid_to_coach
        self._call_api(lambda: self._client.conferences(conference_sid)
                       .participants(call_sid).update(**options))

    def live_conference_sid(self, name: str) -> str | None:
        found = self._call_api(lambda: self._client.conferences.list(
            friendly_name=name, status="in-progress", limit=1))
        return found[0].sid if found else None

    def fetch(self, call_sid: str) -> CallInfo:
        return _call_info(self._call_api(lambda: self._client.calls(call_sid).fetch()))

    # -- recordings ------------------------------------------------------------
    def start_recording(self, call_sid: str, *, status_callback_url: str,
                        dual_channel: bool = True) -> RecordingInfo:
        recording = self._call_api(lambda: self._client.calls(call_sid).recordings.create(
            recording_channels="dual" if dual_channel else "mono",
            recording_status_callback=status_callback_url,
            recording_status_callback_method="POST",
            recording_status_callback_event=RECORDING_CALLBACK_EVENTS))
        return _recording_info(recording)

    def set_recording_paused(self, call_sid: str, recording_sid: str, paused: bool) -> RecordingInfo:
        options: dict[str, Any] = {"status": "paused" if paused else "in-progress"}
        if paused:
            options["pause_behavior"] = "skip"
        return _recording_info(self._call_api(
            lambda: self._client.calls(call_sid).recordings(recording_sid).update(**options)))

    def fetch_recording(self, recording_sid: str) -> RecordingInfo:
        try:
            return _recording_info(self._call_api(lambda: self._client.recordings(recording_sid).fetch()))
        except CarrierError as exc:
            if exc.status == 404:
                raise RecordingGone(exc.code, exc.message, 404) from exc
            raise

    def delete_recording(self, recording_sid: str) -> bool:
        try:
            return bool(self._call_api(lambda: self._client.recordings(recording_sid).delete()))
        except CarrierError as exc:
            if exc.status == 404:
                return False
            raise

    def open_recording_media(self, recording_sid: str, range_header: str | None = None) -> RecordingMedia:
        url = self._http.rewrite(
            f"{TWILIO_API}/2010-04-01/Accounts/{self.account_sid}/Recordings/{recording_sid}.wav")
        headers = {"Accept": "audio/wav, audio/x-wav, */*"}
        if range_header:
            headers["Range"] = range_header
        try:
            response = self._http.session.get(url, auth=self._auth, headers=headers, stream=True,
                                              timeout=self._http.timeout, allow_redirects=True)
        except requests.RequestException as exc:
            raise CarrierError(None, f"carrier unreachable: {exc}", None,
                               unsent=_never_sent(exc)) from exc
        if response.status_code == 404:
            response.close()
            raise RecordingGone(20404, "The carrier has no such recording", 404)
        if response.status_code not in (200, 206, 416):
            status = response.status_code
            response.close()
            raise CarrierError(None, f"recording media answered HTTP {status}", status)
        length = response.headers.get("Content-Length")
        return RecordingMedia(
            status=response.status_code,
            content_type=response.headers.get("Content-Type") or "audio/wav",
            content_length=int(length) if length and length.isdigit() else None,
            content_range=response.headers.get("Content-Range"),
            chunks=response.iter_content(MEDIA_CHUNK),
            close=response.close)

    # -- webhooks ------------------------------------------------------------
    # -- the account's numbers ---------------------------------------------------
    def list_numbers(self) -> list[OwnedNumber]:
        found = self._call_api(lambda: self._client.incoming_phone_numbers.list(page_size=1000))
        return [_owned_number(n) for n in found]

    def set_voice_url(self, number_sid: str, url: str, status_callback: str) -> OwnedNumber:
        return _owned_number(self._call_api(lambda: self._client.incoming_phone_numbers(number_sid).update(
            voice_url=url, voice_method="POST", status_callback=status_callback, status_callback_method="POST")))

    def validate_webhook(self, url: str, form_params: Mapping[str, Any] | Any,
                         signature: str | None) -> bool:
        if not signature:
            return False
        return self._validator.validate(url, form_params or {}, signature)

    # -- helpers -------------------------------------------------------------
    def _call_api(self, operation):
        try:
            return operation()
        except TwilioRestException as exc:
            if exc.status == 429 or exc.code == RATE_LIMIT_CODE:
                raise CarrierRateLimited(self._http.last_retry_after, exc.msg,
                                         exc.code or RATE_LIMIT_CODE) from exc
            raise CarrierError(exc.code, exc.msg, exc.status) from exc
        except requests.RequestException as exc:
            raise CarrierError(None, f"carrier unreachable: {exc}", None,
                               unsent=_never_sent(exc)) from exc


def _never_sent(exc: requests.RequestException) -> bool:
    """No connection was made (refused, unresolvable, timed out connecting): the request never
    reached the carrier. A read that timed out, or a connection dropped mid-answer, may have."""
    if isinstance(exc, requests.ConnectTimeout):
        return True
    if isinstance(exc, requests.ConnectionError) and not isinstance(exc, requests.Timeout):
        reason = getattr(exc.args[0], "reason", None) if exc.args else None
        return isinstance(reason, NewConnectionError)
    return False


def carrier_from_config(config: Mapping[str, Any]) -> TwilioCarrier:
    """The carrier for an app config (or ``os.environ``).

    ``TWILIO_API_BASE_URL`` (e.g. ``http://127.0.0.1:5055``) points the SDK at
    the carrier simulator; without it, calls go to Twilio.
    """
    missing = [name for name in ("TWILIO_ACCOUNT_SID", "TWILIO_AUTH_TOKEN")
               if not config.get(name)]
    if missing:
        raise RuntimeError(f"set {' and '.join(missing)} to place calls")
    return TwilioCarrier(config["TWILIO_ACCOUNT_SID"], config["TWILIO_AUTH_TOKEN"],
                         api_base_url=config.get("TWILIO_API_BASE_URL") or None)


def _owned_number(n) -> OwnedNumber:
    return OwnedNumber(sid=n.sid, phone_number=n.phone_number, friendly_name=n.friendly_name or n.phone_number,
                       voice=bool((n.capabilities or {}).get("voice", True)), voice_url=n.voice_url or None,
                       status_callback=n.status_callback or None)


def _call_info(call) -> CallInfo:
    duration = int(call.duration) if call.duration not in (None, "") else None
    return CallInfo(
        call_sid=call.sid,
        status=call.status,
        duration=duration,
        answered_by=call.answered_by,
        start_time=_as_datetime(call.start_time),
        end_time=_as_datetime(call.end_time),
        to=call.to,
        from_=getattr(call, "_from", None),
    )


def _recording_info(recording) -> RecordingInfo:
    duration = getattr(recording, "duration", None)
    try:
        seconds = int(duration) if duration not in (None, "") else None
    except (TypeError, ValueError):
        seconds = None
    channels = getattr(recording, "channels", None)
    return RecordingInfo(sid=recording.sid, call_sid=getattr(recording, "call_sid", None),
                         status=str(recording.status), channels=int(channels) if channels else None,
                         duration=None if seconds is None or seconds < 0 else seconds)


def _as_datetime(value) -> datetime | None:
    # The SDK hands back the raw string when a date does not parse.
    return value if isinstance(value, datetime) else None
