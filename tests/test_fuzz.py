"""Property-based fuzzing of every operation in our own OpenAPI document (Schemathesis).

Every generated request must get a non-5xx answer that matches the documented status
codes, content types and response schemas: Schemathesis' default checks, as the project's
`tests/schemathesis.toml` sets them for `schemathesis run` too.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.config import SchemathesisConfig

from app.config import Settings
from app.main import create_app

# The document does not depend on the data: list the operations once, at collection.
_SPEC = create_app(Settings(database_url="sqlite://")).openapi()
OPERATIONS = [(path, method.upper()) for path, item in _SPEC["paths"].items() for method in item]


@pytest.fixture(scope="session")
def api_schema(loaded_url):
    app = create_app(Settings(database_url=loaded_url))
    config = SchemathesisConfig.from_path(Path(__file__).parent / "schemathesis.toml")
    return schemathesis.openapi.from_asgi("/openapi.json", app, config=config)


@pytest.mark.parametrize(("path", "method"), OPERATIONS, ids=[f"{m} {p}" for p, m in OPERATIONS])
def test_operation_conforms_to_its_schema(api_schema, path, method):
    operation = api_schema[path][method]

    @given(case=operation.as_strategy())
    @settings(
        max_examples=60, deadline=None, suppress_health_check=list(HealthCheck), database=None
    )
    def fuzz(case):
        case.call_and_validate()

    fuzz()
