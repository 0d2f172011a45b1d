"""Property-based run over the OpenAPI schema (schemathesis): no 500s, answers match the schema.

Bounded: a few dozen examples per operation, against a real server on a loopback port.
"Schema-valid data is accepted" is not checked: cross-field rules (end after start, the
frequency range ordered, a sensor token writing only for its own site) are beyond JSON
Schema, so schema-valid bodies are rightly refused with 422 or 403.
"""

from __future__ import annotations

import pytest
import schemathesis
from service_helpers import ThreadServer, make_tokens
from hypothesis import HealthCheck, given, settings

from schemathesis.specs.openapi.checks import positive_data_acceptance

from service.app import create_app
from service.settings import Settings


@pytest.fixture(scope="module")
def served(module_db_url):
    db_url = module_db_url
    tokens = make_tokens(db_url)
    with ThreadServer(create_app(Settings(db_url=db_url))) as server:
        yield f"http://127.0.0.1:{server.port}", tokens


def role_for(method: str, path: str) -> str:
    if path.startswith("/api/v1/tokens"):
        return "admin"
    return "sensor" if method.upper() == "POST" else "viewer"


def test_api_conforms_to_its_schema(served):
    # Driven by hand (operation strategies + hypothesis) rather than through schemathesis'
    # pytest plugin, which does not run under pytest 9 here.
    url, tokens = served
    schema = schemathesis.openapi.from_url(f"{url}/openapi.json").exclude(path="/api/v1/stream")
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 10
    failures = []
    for operation in operations:
        token = tokens[role_for(operation.method, operation.path)]

        @given(case=operation.as_strategy())
        @settings(max_examples=15, deadline=None, database=None, suppress_health_check=list(HealthCheck))
        def check(case):
            case.call_and_validate(base_url=url, headers={"Authorization": f"Bearer {token}"},
                                   excluded_checks=[positive_data_acceptance])

        try:
            check()
        except Exception as exc:  # collect every operation's failure, not only the first
            failures.append(f"{operation.method.upper()} {operation.path}: {exc}")
    assert not failures, "\n\n".join(failures)
