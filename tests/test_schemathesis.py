"""Schemathesis over the whole OpenAPI document (/api/openapi.json), in process against the
Flask app, with a logged-in citizen's Bearer token: no generated request, valid or not, may
be answered with a 5xx (issue 9). It runs schemathesis' own engine, with the phases of
`schemathesis run` (examples, coverage, fuzzing, stateful), bounded to fit CI; docs/api.md
shows the same run against a live server.

Random ids would almost all be unknown (404) and never reach booking, so half of the ids
schemathesis sends are real ones of this deployment: the citizen's family members and
appointment, open sessions and their slots, states, districts, postal codes and dates."""

import pytest
from sqlalchemy import select

from helpers import TODAY, api_confirm, certify

schemathesis = pytest.importorskip("schemathesis")
from schemathesis.config import SchemathesisConfig  # noqa: E402
from schemathesis.engine import Status, events, from_schema  # noqa: E402

from cowin_kit.geography.models import Division  # noqa: E402
from cowin_kit.registration.models import IdDocumentType  # noqa: E402
from cowin_kit.scheduling.models import Facility, SessionCapacity, VaccinationSession  # noqa: E402

# Per operation and phase (27 operations): each parameter's edge values (the coverage
# phase), plus random requests, in about 30 s per database on a CI machine.
MAX_EXAMPLES = 100
SEED = 20240509  # the same requests every run; change it to explore others
REAL = 0.5  # how often a bound parameter takes a real value


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


def _login(client, instance) -> str:
    return api_confirm(client, instance, "987654321").get_json()["token"]


def _real_values(client, database, auth) -> dict[str, list]:
    """Real ids of this deployment, and a family with one booked appointment."""
    today = TODAY
    with database.session() as s:
        dni = s.scalar(select(IdDocumentType.id).where(IdDocumentType.code == "dni"))
        sessions = s.scalars(select(VaccinationSession).join(SessionCapacity).where(
            VaccinationSession.max_age.is_(None),
            VaccinationSession.date > today, VaccinationSession.min_age <= 40,
            SessionCapacity.dose_number == 1, SessionCapacity.capacity > 0)
            .order_by(VaccinationSession.date).limit(5)).unique().all()
        slots = sorted({f"{slot.starts:%I:%M%p}-{slot.ends:%I:%M%p}"
                        for vs in sessions for slot in vs.slots})
        states = s.scalars(select(Division.id).where(Division.level == 1).limit(5)).all()
        districts = s.scalars(select(Facility.division_id).distinct().limit(5)).all()
        pincodes = s.scalars(select(Facility.postal_code).where(
            Facility.postal_code.is_not(None)).distinct().limit(5)).all()
        dates = sorted({vs.date.strftime("%d-%m-%Y") for vs in sessions})
        session_ids = [vs.id for vs in sessions]
    refs = [client.post("/api/v2/registration/beneficiary/new", headers=auth, json={
        "name": name, "birth_year": "1980", "gender_id": 2, "photo_id_type": dni,
        "photo_id_number": number}).get_json()["beneficiary_reference_id"]
        for name, number in (("Ana Quispe", "40123456"), ("Rosa Quispe", "40123457"))]
    booked = client.post("/api/v2/appointment/schedule", headers=auth, json={
        "dose": 1, "session_id": session_ids[0], "slot": slots[0], "beneficiaries": refs[:1]})
    assert booked.status_code == 200, booked.get_json()
    certify(client.application, database, refs[1])  # a certificate to download
    return {"refs": refs, "sessions": session_ids, "slots": slots, "dates": dates,
            "appointments": booked.get_json()["appointment_ids"], "states": states,
            "districts": districts, "pincodes": pincodes, "id_types": [dni],
            "doses": [1, 2]}


BINDINGS = {  # parameter (as schemathesis names it) -> the real values it may take
    "body.beneficiaries[*]": "refs", "body.beneficiariesToCancel[*]": "refs",
    "body.beneficiary_reference_id": "refs", "query.beneficiary_reference_id": "refs",
    "body.session_id": "sessions",
    "body.slot": "slots", "body.appointment_id": "appointments", "body.dose": "doses",
    "body.photo_id_type": "id_types", "query.appointment_id": "appointments",
    "query.district_id": "districts", "query.pincode": "pincodes", "query.date": "dates",
    "path.state_id": "states",
}


def _schema(app, token: str, real: dict[str, list]):
    config = SchemathesisConfig.from_dict({
        "seed": SEED,
        "headers": {"Authorization": f"Bearer {token}"},
        "workers": 1,
        "checks": {"enabled": False, "not_a_server_error": {"enabled": True}},
        "generation": {"max-examples": MAX_EXAMPLES, "no-shrink": True},
        "dictionaries": {name: {"values": values} for name, values in real.items()},
        "parameters": {key: {"dictionary": name, "probability": REAL}
                       for key, name in BINDINGS.items()},
    })
    schema = schemathesis.openapi.from_wsgi("/api/openapi.json", app, config=config)
    # Logging out would end the token every other operation uses (tests/test_api_auth.py
    # covers it).
    return schema.exclude(path="/api/v2/auth/logout")


def test_no_request_gets_a_server_error(api_app, cowin_kit_instance, database):
    client = api_app.test_client()
    token = _login(client, cowin_kit_instance)
    real = _real_values(client, database, {"Authorization": f"Bearer {token}"})
    cases, operations, statuses, failures, errors = 0, set(), {}, [], []
    for event in from_schema(_schema(api_app, token, real)).execute():
        if isinstance(event, events.ScenarioFinished):
            operations.add(event.recorder.label)
            cases += len(event.recorder.cases)
            for interaction in event.recorder.interactions.values():
                status = interaction.response.status_code if interaction.response else None
                statuses[status] = statuses.get(status, 0) + 1
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
          f"{len(failures)} server errors, {len(errors)} engine errors; answers "
          f"{dict(sorted(statuses.items(), key=str))}")
    assert not failures, "\n".join(failures)
    assert len(operations) >= 27 and cases > 27 * MAX_EXAMPLES
    assert statuses.get(200, 0) + statuses.get(204, 0) > 27 * 10  # it got past the checks
