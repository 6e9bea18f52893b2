"""Schemathesis over /api/openapi.json through the WSGI app, once per role.

Every documented operation is fuzzed with schema-valid and schema-invalid input: no answer may
be a 5xx, every error must be in the error shape, every documented success must match its
schema. New routes are covered as soon as they are in the document. Bounded: a few examples per
operation (SCHEMATHESIS_MAX_EXAMPLES, default 8), derandomised so CI is repeatable.

Derandomised, the cases do not depend on the role (only the headers they are sent with do), so
they are drawn once for the module and every role sends all of them: drawing them was half of
each role's time.
"""
from __future__ import annotations

import os

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis.checks import not_a_server_error
from schemathesis.generation import GenerationMode
from schemathesis.specs.openapi.checks import content_type_conformance, response_schema_conformance

from tests.security.conftest import assert_error_shape

MAX_EXAMPLES = int(os.environ.get("SCHEMATHESIS_MAX_EXAMPLES", "8"))
# Paths whose calls end the caller's own session: fuzz them last so the rest keep a valid caller.
LAST = ("/api/auth/logout",)


def _draw_cases(operation, mode: GenerationMode) -> list:
    """The operation's cases in `mode`: what hypothesis generates for it, kept to be sent."""
    cases: list = []

    @settings(max_examples=MAX_EXAMPLES, deadline=None, derandomize=True, database=None,
              phases=[Phase.explicit, Phase.generate], suppress_health_check=list(HealthCheck))
    @given(case=operation.as_strategy(generation_mode=mode))
    def draw(case):
        cases.append(case)

    try:
        draw()
    except Unsatisfiable:
        if mode is GenerationMode.POSITIVE:
            raise  # a documented operation must accept some valid input
    return cases


def _send(case, headers: dict, mode: GenerationMode) -> list[str]:
    """Send one case as the role; the problems its answer shows."""
    response = case.call(headers=headers)
    label = f"{case.method} {case.formatted_path} ({mode.value})"
    if response.status_code >= 500:
        return [f"{label}: {response.status_code} {response.text[:300]}"]
    if response.status_code >= 400:
        try:
            assert_error_shape(_Wrapped(response), label)
        except AssertionError as exc:
            return [str(exc)]
        return []
    if mode is GenerationMode.POSITIVE:
        try:
            case.validate_response(response, checks=[not_a_server_error, content_type_conformance,
                                                     response_schema_conformance])
        except Exception as exc:  # noqa: BLE001 - collect every operation's problems
            return [f"{label}: {str(exc)[:500]}"]
    return []


@pytest.fixture(scope="module")
def fuzz_cases(_app) -> list:
    """(mode, case) for every documented operation, both modes, in the order they are sent."""
    schema = schemathesis.openapi.from_wsgi("/api/openapi.json", _app)
    ops = [result.ok() for result in schema.get_all_operations()]
    ops.sort(key=lambda op: op.path in LAST)
    assert ops, "the OpenAPI document lists no operation"
    return [(mode, case) for operation in ops
            for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE)
            for case in _draw_cases(operation, mode)]


class _Wrapped:
    """Schemathesis' response, seen through the two methods assert_error_shape uses."""

    def __init__(self, response):
        self._response, self.status_code = response, response.status_code

    def get_json(self, silent=False):
        try:
            return self._response.json()
        except Exception:  # noqa: BLE001
            return None

    def get_data(self, as_text=False):
        return self._response.text


@pytest.mark.parametrize("role", ["anonymous", "agent", "supervisor", "admin"])
def test_no_server_errors_and_one_error_shape(app, bearer, roomy_limits, fuzz_cases, role):
    headers = {} if role == "anonymous" else bearer(role)[1]
    problems: list[str] = []
    for mode, case in fuzz_cases:
        problems += _send(case, headers, mode)
    assert not problems, f"{len(problems)} problem(s) as {role}:\n" + "\n".join(dict.fromkeys(problems))
