"""Schemathesis drives every operation of the OpenAPI document with generated requests (valid
and not), as a citizen and as the mall administrator: no answer may be a server error, and
every answer must be one the document declares, with its content type and schema (the
refusals too: the one `Error` shape). Derandomised, so a run is repeatable."""

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import content_type_conformance, response_schema_conformance, status_code_conformance

from satupintu.config.wsgi import application

schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", application)
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]


@pytest.fixture
def in_test_transaction(db):
    """The requests go straight to the WSGI handler, which closes the database connection after
    each one; the test's transaction must survive them (Django's test client does the same)."""
    from django.core.signals import request_finished, request_started
    from django.db import close_old_connections

    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture(params=["citizen", "mall_admin"])
def bearer(request, api, pbg):
    return {"Authorization": f"Bearer {api.token(request.getfixturevalue(request.param))}"}


@schema.parametrize()
@settings(max_examples=6, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))
def test_every_operation_answers_as_documented(case, in_test_transaction, bearer):
    case.call_and_validate(headers=bearer, checks=CHECKS)
