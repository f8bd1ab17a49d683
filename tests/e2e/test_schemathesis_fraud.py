"""Contract test: schemathesis generates requests from docs/openapi.yaml and sends them to the
real app on the local host (Azurite underneath). No 5xx; every answer conforms to the spec.

Bounded: the fraud, health and openapi operations only (the ledger and collections owners test
theirs), and a few dozen examples per operation, so the run stays well under a minute.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis import GenerationMode
from schemathesis.checks import (
    content_type_conformance,
    negative_data_rejection,
    not_a_server_error,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.e2e.fraud_host import KEY, FraudHost, fraud_host

pytestmark = pytest.mark.slow

SPEC = Path(__file__).resolve().parents[2] / "docs" / "openapi.yaml"
MAX_EXAMPLES = 25
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    negative_data_rejection,
]

schema = schemathesis.openapi.from_path(SPEC).include(path_regex=r"^/(fraud-reports|health$|openapi\.json$)")
schema.config.generation.update(modes=[GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
# The local host (Python's http.server underneath) answers 501 to methods it has no handler
# for (QUERY, TRACE, OPTIONS); Azure answers those itself. Probe only the methods apps serve.
schema.config.phases.coverage.unexpected_methods = {"get", "put", "post", "patch", "delete"}


@pytest.fixture(scope="module")
def api(azurite) -> Iterator[FraudHost]:
    with fraud_host(azurite.connection_string) as host:
        yield host


@schema.parametrize()
@settings(max_examples=MAX_EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck))
def test_api_conforms_to_its_description(case: schemathesis.Case, api: FraudHost) -> None:
    case.call_and_validate(base_url=api.url, headers={"x-functions-key": KEY}, checks=CHECKS)


def test_success_answers_of_a_real_case_conform(api: FraudHost) -> None:
    """Generated case ids name no case (404); walk one real case through every operation."""
    body = {
        "customer_id": "d1111111-1111-4111-8111-111111111111",
        "subscription_ids": ["d1111111-0000-4000-8000-000000000001"],
        "category": "crypto_mining",
        "severity": "high",
        "source": "monitor",
        "reporter": "soc",
        "description": "mining pool connections",
        "evidence": [{"kind": "ip", "value": "203.0.113.7"}],
    }
    steps = [
        ("/fraud-reports", "POST", {}, body),
        ("/fraud-reports/{case_id}", "GET", None, None),
        ("/fraud-reports/{case_id}/escalation", "POST", None, {}),
        ("/fraud-reports/{case_id}/escalation", "PATCH", None, {"ticket_number": "21V-1", "state": "filed"}),
        ("/fraud-reports/{case_id}/resolution", "POST", None, {"outcome": "confirmed", "note": "mining"}),
        ("/fraud-reports", "GET", {}, None),
    ]
    case_id = None
    for path, method, params, payload in steps:
        operation = schema[path][method]
        kwargs = {"path_parameters": {"case_id": case_id}} if params is None else {}
        if method == "GET" and path == "/fraud-reports":
            kwargs = {"query": {"status": "confirmed"}}
        if payload is not None:
            kwargs["body"] = payload
            kwargs["media_type"] = "application/json"
        case = operation.Case(**kwargs)
        response = case.call(base_url=api.url, headers={"x-functions-key": KEY})
        assert response.status_code < 300, (method, path, response.text)
        case.validate_response(response, checks=CHECKS[:-1])
        if case_id is None:
            case_id = response.json()["case_id"]
