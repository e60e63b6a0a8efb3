"""The API fuzzed from its own OpenAPI schema (schemathesis, a bounded number of examples per
operation; MSCHEMO_FUZZ_EXAMPLES sets it, 25 by default): no answer is a 5xx, and every 4xx carries one sentence (and the field when it has one)."""

from __future__ import annotations

import os

import pytest

schemathesis = pytest.importorskip("schemathesis", reason="schemathesis is not installed (the dev extra)")
from hypothesis import HealthCheck, settings  # noqa: E402

from mschemo.interfaces.web import create_app  # noqa: E402
from mschemo.interfaces.web.settings import WebSettings  # noqa: E402

# no trial worker: fuzzed trials queue (then 429), none runs
APP = create_app(WebSettings(compute_workers=0, trial_workers=0, trial_queue=2, trial_max_patients=300))
schema = schemathesis.openapi.from_asgi("/api/v1/openapi.json", APP)


@schema.parametrize()
@settings(max_examples=int(os.environ.get("MSCHEMO_FUZZ_EXAMPLES", "25")), deadline=None, derandomize=True,
          suppress_health_check=list(HealthCheck))
def test_no_5xx_and_every_4xx_is_one_sentence(case):
    response = case.call()
    assert response.status_code < 500, f"{case.method} {case.path}: {response.status_code} {response.text[:300]}"
    if response.status_code >= 400:
        body = response.json()
        message = body.get("error")
        assert isinstance(message, str) and message, f"{case.method} {case.path}: no message in {body}"
        assert "\n" not in message and "Traceback" not in message
        assert len(message) <= 600, f"{len(message)} characters"
        assert message.rstrip().endswith("."), message
