"""Request bodies in JSON: whatever the parser cannot take is a 400, on every route, in one place.

Python's parser recurses once per nesting level, so a body nested a thousand levels deep raises
RecursionError (not the ValueError Flask and webargs expect) and used to be a 500. Every JSON
body is therefore read once before the view: unreadable text, nesting past MAX_DEPTH and lone
surrogates (valid JSON escapes that no database or hash can encode) are refused with a 400
`invalid_json`. What passes is shallow enough for webargs to parse again safely, deeper in the
stack. Flask's own `request.get_json()` uses the same rules through `SafeJSONProvider`.
"""
from __future__ import annotations

import json
import re

from flask import Flask, request
from flask.json.provider import DefaultJSONProvider

from app.errors import ApiError

MAX_DEPTH = 32  # Omnivox's deepest body (a campaign with its rules) nests four levels
_SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89a-fA-F]")  # \uD800-\uDFFF: half of a pair, or alone
NOT_UNICODE = "The JSON in the request body holds text that is not valid Unicode."


class UnreadableJSON(ValueError):
    """The body is not JSON Omnivox can take; the message says why in plain words."""


def load_json(data: str | bytes):
    """`json.loads` that raises only UnreadableJSON (a ValueError), whatever the text holds."""
    try:
        value = json.loads(data)
    except RecursionError:
        raise UnreadableJSON("The JSON in the request body is nested too deeply.") from None
    except ValueError:  # JSONDecodeError and UnicodeDecodeError both
        raise UnreadableJSON("The request body is not valid JSON.") from None
    raw = data if isinstance(data, bytes) else data.encode("utf-8", "surrogatepass")
    _check_shape(value, needs_text_check=_SURROGATE_ESCAPE.search(raw) is not None)
    return value


def _check_shape(value, *, needs_text_check: bool) -> None:
    """Nesting depth, and unpaired surrogates when the text has \\uD8xx escapes; no recursion."""
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, (dict, list)):
            if depth > MAX_DEPTH:
                raise UnreadableJSON("The JSON in the request body is nested too deeply.")
            children = list(item.items()) if isinstance(item, dict) else item
            for child in children:
                if isinstance(child, tuple):  # a dict's (key, value)
                    stack.append((child[0], depth))
                    stack.append((child[1], depth + 1))
                else:
                    stack.append((child, depth + 1))
        elif needs_text_check and isinstance(item, str):
            try:
                item.encode("utf-8")
            except UnicodeEncodeError:
                raise UnreadableJSON(NOT_UNICODE) from None


class SafeJSONProvider(DefaultJSONProvider):
    """Flask's JSON with `loads` that fails only with a ValueError (Flask then answers 400)."""

    def loads(self, s: str | bytes, **kwargs):
        if kwargs:
            return super().loads(s, **kwargs)
        return load_json(s)


def _refuse_unreadable_json() -> None:
    if not request.is_json or request.method in ("GET", "HEAD", "OPTIONS"):
        return
    data = request.get_data(cache=True)
    if not data.strip():
        return  # no body: the view decides whether it needed one
    try:
        load_json(data)
    except UnreadableJSON as exc:
        raise ApiError(400, str(exc), "invalid_json") from None


def init_json_bodies(app: Flask) -> None:
    """Install the safe loader and check every JSON body before anything else reads it."""
    app.json = SafeJSONProvider(app)
    app.before_request(_refuse_unreadable_json)
