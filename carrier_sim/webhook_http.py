"""A small keep-alive HTTP client for webhooks, one per sender thread.

http.client with a connection per host costs about a fifth of the CPU of a
requests.Session post, and CPU is what limits a 100-calls-per-second run on a
machine that also hosts the app being measured.
"""
from __future__ import annotations

import http.client
from dataclasses import dataclass
from urllib.parse import urlencode, urlsplit


# What a kept-alive connection closed by the server looks like.
STALE_CONNECTION = (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError,
                    ConnectionAbortedError)


def is_url(value: str | None) -> bool:
    """An absolute http(s) URL, as Twilio requires of every webhook it is given."""
    if not value:
        return False
    parts = urlsplit(value)
    return parts.scheme in ("http", "https") and bool(parts.netloc)


class WebhookConnectionError(Exception):
    """The webhook's host could not be reached or dropped the connection."""


@dataclass
class WebhookResponse:
    status_code: int
    text: str


class WebhookClient:
    def __init__(self, timeout: float):
        self.timeout = timeout
        self._connections: dict[tuple[str, str], http.client.HTTPConnection] = {}

    def post(self, url: str, params: dict[str, str], headers: dict[str, str],
             read_body: bool = True) -> WebhookResponse:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise WebhookConnectionError(f"not an http(s) URL: {url}")
        target = parts.path or "/"
        if parts.query:
            target += "?" + parts.query
        body = urlencode(params)
        key = (parts.scheme, parts.netloc)
        reused = key in self._connections
        try:
            return self._exchange(key, target, body, headers, read_body)
        except STALE_CONNECTION as exc:
            self._drop(key)
            if not reused:
                raise WebhookConnectionError(str(exc)) from exc
        except (OSError, http.client.HTTPException) as exc:
            self._drop(key)
            raise WebhookConnectionError(str(exc)) from exc
        # A kept-alive connection the server had already closed: one fresh try.
        try:
            return self._exchange(key, target, body, headers, read_body)
        except (OSError, http.client.HTTPException) as exc:
            self._drop(key)
            raise WebhookConnectionError(str(exc)) from exc

    def _exchange(self, key, target, body, headers, read_body) -> WebhookResponse:
        connection = self._connections.get(key)
        if connection is None:
            scheme, netloc = key
            factory = (http.client.HTTPSConnection if scheme == "https"
                       else http.client.HTTPConnection)
            connection = self._connections[key] = factory(netloc, timeout=self.timeout)
        connection.request("POST", target, body, headers)
        response = connection.getresponse()
        data = response.read()  # always drain, so the connection can be reused
        if response.will_close:
            self._drop(key)
        text = data.decode(response.headers.get_content_charset() or "utf-8",
                           "replace") if read_body else ""
        return WebhookResponse(response.status, text)

    def _drop(self, key) -> None:
        connection = self._connections.pop(key, None)
        if connection is not None:
            try:
                connection.close()
            except OSError:
                pass
