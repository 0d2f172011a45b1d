"""Fuzzing with invalid data (schemathesis, negative mode) against the OpenAPI schema, with real
tokens of the right role: no 5xx, and no 2xx for data the schema forbids.

Bounded: a dozen examples per operation against a real server on a loopback port. The
positive run (schema-valid data: no 5xx, answers match the schema) is ``test_service_schema``.
"""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis.checks import not_a_server_error
from schemathesis.generation import GenerationMode
from schemathesis.specs.openapi.checks import negative_data_rejection
from service_helpers import ThreadServer, make_tokens

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


def test_invalid_data_is_refused(served):
    url, tokens = served
    schema = schemathesis.openapi.from_url(f"{url}/openapi.json").exclude(path="/api/v1/stream")
    operations = [result.ok() for result in schema.get_all_operations()]
    failures, tried = [], []
    for operation in operations:
        token = tokens[role_for(operation.method, operation.path)]
        strategy = operation.as_strategy(generation_mode=GenerationMode.NEGATIVE)

        @given(case=strategy)
        # derandomised: the same examples every run, so a red run is reproducible (a random one once
        # counted our valid Authorization header, which replaces the generated one, as invalid data)
        @settings(max_examples=12, deadline=None, database=None, derandomize=True,
                  suppress_health_check=list(HealthCheck))
        def check(case):
            case.call_and_validate(base_url=url, headers={"Authorization": f"Bearer {token}"},
                                   checks=[not_a_server_error, negative_data_rejection])

        try:
            check()
            tried.append(operation.path)
        except Unsatisfiable:  # nothing to negate: no parameters and no body (e.g. /healthz)
            continue
        except Exception as exc:  # collect every operation's failure, not only the first
            failures.append(f"{operation.method.upper()} {operation.path}: {exc}")
    assert not failures, "\n\n".join(failures)
    assert {"/api/v1/events", "/api/v1/heartbeats", "/api/v1/spectra", "/api/v1/tokens"} <= set(tried)
