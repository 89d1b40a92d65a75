"""Schemathesis against /api/openapi.json: every documented operation, with requests made from the
document, answers without a 5xx and as the document says (status, content type, body schema).

Each example is sent by a signed-in person with a fresh CSRF token from /sync/session, so what is
checked is the endpoint's answer to the generated body, never a stale session."""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import given, settings
from hypothesis import strategies as st
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)

from tests.fuzz.conftest import FUZZ

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]


@pytest.fixture
def schema(fctx):
    return schemathesis.openapi.from_wsgi("/api/openapi.json", fctx.app)


@pytest.mark.parametrize(("method", "path", "examples"), [("POST", "/sync", 30), ("GET", "/sync/session", 5)])
def test_every_documented_operation_answers_as_documented(fctx, schema, method, path, examples):
    operation = schema[path][method]
    seen = []
    # /api/feed (a liaison system's bearer token, not a session) has its own tests: tests/govfeed.
    documented = {("POST", "/sync"), ("GET", "/sync/session"), ("GET", "/api/feed")}
    operations = (result.ok() for result in schema.get_all_operations())
    assert {(op.method.upper(), op.path) for op in operations} == documented

    @settings(FUZZ, max_examples=examples)
    @given(case=operation.as_strategy(), signed_in=st.booleans())
    def run(case, signed_in):
        fctx.ran_one()
        # Sent through a Flask test client: the signed-in person's own (with a fresh token), or a
        # new one for a stranger, so no cookie carries over from one example to the next.
        client = fctx.browser("va").client if signed_in else fctx.app.test_client()
        headers = {**(case.headers or {}), "Accept-Encoding": "identity"}
        if signed_in and method == "POST":
            headers["X-CSRFToken"] = fctx.token("va")
        body = {"json": case.body} if case.body is not None and method == "POST" else {}
        response = client.open(case.formatted_path, method=method, headers=headers,
                               query_string=case.query or None, **body)
        case.validate_response(response, checks=CHECKS)
        assert response.status_code < 500
        if signed_in:  # a valid session and token: never refused for those, whatever the body
            assert response.status_code != 401
            assert response.status_code != 400 or response.get_json().get("error") != "csrf"
        seen.append((signed_in, response.status_code))

    run()
    assert (True, 200) in seen  # signed-in examples reached the endpoint itself
