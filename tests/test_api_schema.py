"""schemathesis against /api/openapi.json: no server error, no response that breaks the schema."""

from __future__ import annotations

from hypothesis import HealthCheck, settings

from app import create_app
from tests.conftest import require_module

schemathesis = require_module("schemathesis")
APP = create_app({"RATE_LIMIT": "1000000 per minute", "API_RATE_LIMIT": "1000000 per minute"})
schema = schemathesis.openapi.from_wsgi("/api/openapi.json", APP.server)


@schema.parametrize()
@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
def test_api_conforms_to_its_schema(case):
    # The WSGI transport does not undo compression, so ask for none.
    case.call_and_validate(
        headers={"Accept-Encoding": "identity"},
        checks=[
            schemathesis.checks.not_a_server_error,
            schemathesis.specs.openapi.checks.status_code_conformance,
            schemathesis.specs.openapi.checks.content_type_conformance,
            schemathesis.specs.openapi.checks.response_schema_conformance,
        ],
    )
