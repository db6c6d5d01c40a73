"""Schemathesis over the whole OpenAPI document (/api/openapi.json), in process against the
Flask app, with a logged-in citizen's Bearer token: no generated request, valid or not, may
be answered with a 5xx (issue 9). It runs schemathesis' own engine, with the phases of
`schemathesis run` (examples, coverage, fuzzing, stateful), bounded to fit CI; docs/api.md
shows the longer run against a live server."""
import hashlib
import json

import pytest

schemathesis = pytest.importorskip("schemathesis")
from schemathesis.config import SchemathesisConfig  # noqa: E402
from schemathesis.engine import Status, events, from_schema  # noqa: E402

# Per operation and phase (27 operations): each parameter's edge values (the coverage
# phase), plus a few random requests, in about 30 s per database on a CI machine.
MAX_EXAMPLES = 100
SEED = 20240509  # the same requests every run; change it to explore others


@pytest.fixture
def api_app(cowin_kit_instance):
    from cowin_kit.app import create_app

    # Per-address limits off, so that the login endpoints' own checks are what is tested
    # rather than their 429 (tests/test_api_auth.py tests the limits). A crash is answered
    # as in production: a 500 that the check sees.
    app = create_app({"INSTANCE_PATH": cowin_kit_instance, "RATELIMIT_ENABLED": False,
                      "PROPAGATE_EXCEPTIONS": False})
    yield app
    app.extensions["cowin_kit"].db.dispose()


@pytest.fixture
def citizen_token(api_app, cowin_kit_instance) -> str:
    app = api_app
    client = app.test_client()
    txn = client.post("/api/v2/auth/public/generateOTP",
                      json={"mobile": "987654321"}).get_json()["txnId"]
    line = (cowin_kit_instance / "sms-outbox.jsonl").read_text(encoding="utf-8").splitlines()[-1]
    code = next(w for w in json.loads(line)["text"].split() if w.isdigit() and len(w) == 6)
    r = client.post("/api/v2/auth/public/confirmOTP",
                    json={"otp": hashlib.sha256(code.encode()).hexdigest(), "txnId": txn})
    return r.get_json()["token"]


def _schema(app, token: str):
    config = SchemathesisConfig()
    config.update(seed=SEED, max_failures=None)
    project = config.projects.override
    project.update(headers={"Authorization": f"Bearer {token}"}, workers=1)
    project.checks.update(included_check_names=["not_a_server_error"])
    project.generation.update(max_examples=MAX_EXAMPLES, no_shrink=True)
    schema = schemathesis.openapi.from_wsgi("/api/openapi.json", app, config=config)
    # Logging out would end the token every other operation uses (tests/test_api_auth.py
    # covers it).
    return schema.exclude(path="/api/v2/auth/logout")


def test_no_request_gets_a_server_error(api_app, citizen_token):
    cases, operations, failures, errors = 0, set(), [], []
    for event in from_schema(_schema(api_app, citizen_token)).execute():
        if isinstance(event, events.ScenarioFinished):
            operations.add(event.recorder.label)
            cases += len(event.recorder.cases)
            for case_id, checks in event.recorder.checks.items():
                for check in checks:
                    if check.status == Status.FAILURE:
                        case = event.recorder.cases[case_id].value
                        failures.append(f"{event.recorder.label}: {check.failure_info}"
                                        f" {case.path_parameters} {case.query} {case.body!r}"[:600])
        elif isinstance(event, events.NonFatalError) and event.related_to_operation:
            errors.append(f"{event.label}: {event.info.title}")
        elif isinstance(event, events.FatalError):
            raise event.exception
    print(f"schemathesis: {len(operations)} operations, {cases} requests, "
          f"{len(failures)} server errors, {len(errors)} engine errors")
    assert not failures, "\n".join(failures)
    assert len(operations) >= 27 and cases > 27 * MAX_EXAMPLES
