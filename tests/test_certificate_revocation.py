"""Revoking a certificate and correcting a vaccinated person's details (which reissues the
certificate and revokes the versions it replaces): the rules, the audit, the area, and the
operator's commands."""
import datetime as dt
import zlib

import base45
import cbor2
import pytest
from sqlalchemy import select

from helpers import (
    TODAY,
    add_member,
    audit_rows,
    beneficiary_id,
    certificate_rows,
    csrf,
    fold_rollups,
    give_dose,
    make_user,
    reference,
    vaccinated,
    web_login,
)

REASON = "Recorded for the wrong person."


@pytest.fixture
def ref(app, database, client, cowin_kit_instance):
    """A citizen's member vaccinated twice at DEMO-PE-0001 (Lima): the reference id."""
    web_login(client, cowin_kit_instance)
    assert add_member(client, "45678912", name="Rosa Quispe", year="1980").status_code == 302
    ref = reference(database)
    vaccinated(app, database, ref, number=1, days_ago=40)
    vaccinated(app, database, ref, number=2, days_ago=10)
    return ref


def _user(database, email):
    from cowin_kit.accounts.models import StaffUser

    s = database.Session()
    return s, s.scalar(select(StaffUser).where(StaffUser.email == email))


def _ctx(app):
    from cowin_kit.certificates import admin

    dep = app.extensions["cowin_kit"]
    return admin.issuing_context(dep.settings, dep.profile)


# --- revoking ---------------------------------------------------------------------------------

def test_revoke_is_audited_and_listed(database, ref):
    from cowin_kit.certificates import admin, revocation

    first, second = certificate_rows(database, ref)
    make_user(database, "lima@example.org", "district_admin", "1501")
    s, user = _user(database, "lima@example.org")
    with s:
        cert = admin.revoke(s, first.uvci.lower().removeprefix("urn:uvci:"),  # as typed
                            reason=f"  {REASON}\n", user=user)
        s.commit()
        assert cert.revoked_by == user.id and cert.revocation_reason == REASON
        listed = revocation.revocation_list(s)
    assert listed["hashes"] == [revocation.uvci_hash(first.uvci)]
    [event] = audit_rows(database, "certificate.revoked")
    assert event.actor == f"staff:{user.id}" and event.target == f"certificate:{first.id}"
    assert event.division_id is not None
    assert "Rosa" not in str(event.details) and "45678912" not in str(event.details)
    # The other version stays valid.
    assert certificate_rows(database, ref)[1].revoked_at is None


@pytest.mark.parametrize("reason, field", [("", "reason"), ("too short", "reason"),
                                           ("x" * 501, "reason")])
def test_revoke_needs_a_reason_of_10_to_500_characters(database, ref, reason, field):
    from cowin_kit.certificates import admin

    first = certificate_rows(database, ref)[0]
    with database.Session() as s, pytest.raises(admin.CertificateError) as info:
        admin.revoke(s, first.id, reason=reason, user="test")
    assert info.value.field == field and info.value.status == 400


def test_revoking_twice_or_an_unknown_certificate_is_refused(database, ref):
    from cowin_kit.certificates import admin

    first = certificate_rows(database, ref)[0]
    with database.Session() as s:
        admin.revoke(s, first.uvci, reason=REASON, user="test")
        s.commit()
        with pytest.raises(admin.AlreadyRevoked) as info:
            admin.revoke(s, first.uvci, reason=REASON, user="test")
        assert info.value.status == 409 and "already revoked" in str(info.value)
        for unknown in ("URN:UVCI:01:PE:NOSUCHTHING#A", 999999, "12345678901234", "<x>"):
            with pytest.raises(admin.CertificateError) as info:
                admin.revoke(s, unknown, reason=REASON, user="test")
            assert info.value.status in (400, 404)


def test_only_the_area_of_the_latest_dose_may_revoke(database, ref):
    from cowin_kit.certificates import admin

    first = certificate_rows(database, ref)[0]
    make_user(database, "cusco@example.org", "district_admin", "0801")
    make_user(database, "vax@example.org", "vaccinator", "1501")
    for email in ("cusco@example.org", "vax@example.org"):
        s, user = _user(database, email)
        with s, pytest.raises(admin.NotInArea) as info:
            admin.revoke(s, first.id, reason=REASON, user=user)
        assert info.value.status == 403
    assert certificate_rows(database, ref)[0].revoked_at is None


def test_a_person_without_a_dose_at_a_centre_is_the_nations(app, database, client,
                                                             cowin_kit_instance):
    from cowin_kit.certificates import admin

    web_login(client, cowin_kit_instance)
    add_member(client, "45678913")
    ref = reference(database)
    vaccinated(app, database, ref, facility_code="NONE")
    [cert] = certificate_rows(database, ref)
    make_user(database, "lima@example.org", "state_admin", "PE-LMA")
    s, state = _user(database, "lima@example.org")
    with s, pytest.raises(admin.NotInArea):
        admin.revoke(s, cert.id, reason=REASON, user=state)
    s, national = _user(database, "admin@example.org")
    with s:
        admin.revoke(s, cert.id, reason=REASON, user=national)
        s.commit()


# --- correcting -------------------------------------------------------------------------------

def test_correcting_details_reissues_and_revokes_what_it_replaces(app, database, client, ref):
    from cowin_kit.certificates import admin
    from cowin_kit.registration.models import Beneficiary
    from cowin_kit.reporting import rollups

    make_user(database, "lima@example.org", "district_admin", "1501")
    s, user = _user(database, "lima@example.org")
    assert fold_rollups(app) == 2
    with s:
        person = s.scalar(select(Beneficiary).where(Beneficiary.reference_id == ref))
        done = admin.correct_details(s, person, name="Rosa Quispe Mamani", birth_year=1981,
                                     birth_date=None, gender="female",
                                     reason="Surname and year as on the DNI.", user=user,
                                     ctx=_ctx(app))
        s.commit()
        assert done.changed == ["name", "birth_year"]
        # The reports count the doses again, in the corrected year's age band.
        assert rollups.pending(s) == 2
    rows = certificate_rows(database, ref)
    assert [r.version for r in rows] == [1, 2, 3]
    newest = rows[-1]
    assert newest.revoked_at is None and newest.superseded_at is None and newest.doses == 2
    assert all(r.revoked_at is not None and r.revocation_reason == admin.CORRECTED
               for r in rows[:2])
    cose = cbor2.loads(zlib.decompress(base45.b45decode(newest.hc1[4:])))
    dcc = cbor2.loads(cose.value[2])[-260][1]
    assert dcc["nam"] == {"fn": "Rosa Quispe Mamani", "fnt": "ROSA<QUISPE<MAMANI"}
    assert dcc["dob"] == "1981"
    [event] = audit_rows(database, "beneficiary.corrected")
    assert event.details["fields"] == ["name", "birth_year"]
    from cowin_kit.notifications.models import OutboxMessage
    with database.Session() as s:  # the family is told where to get the new certificate
        [text] = s.scalars(select(OutboxMessage).where(
            OutboxMessage.kind == "certificate.corrected")).all()
        assert text.params["name"] == "Rosa Quispe Mamani"
    assert "Mamani" not in str(event.details) and "1981" not in str(event.details)
    assert len(audit_rows(database, "certificate.revoked")) == 2
    # The family still cannot change the record themselves.
    page = client.get(f"/portal/members/{ref}/edit").get_data(as_text=True)
    r = client.post(f"/portal/members/{ref}/edit", data={
        "name": "Someone Else", "birth_year": "1981", "gender": "female",
        "csrf_token": csrf(page)})
    assert r.status_code == 400
    with database.Session() as s2:
        assert s2.scalar(select(Beneficiary.name).where(
            Beneficiary.reference_id == ref)) == "Rosa Quispe Mamani"


@pytest.mark.parametrize("changes, field", [
    ({"name": ""}, "name"), ({"name": "A\x00B"}, "name"), ({"birth_year": 1800}, "birth_year"),
    ({"gender": "robot"}, "gender"), ({"reason": "short"}, "reason"),
    ({}, "name"),  # nothing changed
])
def test_a_correction_is_checked_as_registration_is(app, database, ref, changes, field):

    from cowin_kit.certificates import admin
    from cowin_kit.errors import UserError
    from cowin_kit.registration.models import Beneficiary

    values = {"name": "Rosa Quispe", "birth_year": 1980, "birth_date": None,
              "gender": "female", "reason": "As on the ID document."}
    values.update(changes)
    with database.Session() as s:
        person = s.scalar(select(Beneficiary).where(Beneficiary.reference_id == ref))
        with pytest.raises(UserError) as info:
            admin.correct_details(s, person, user="test", ctx=_ctx(app),
                                  today=TODAY, **values)
        assert info.value.field == field, info.value
    assert len(certificate_rows(database, ref)) == 2


def test_a_birth_date_outside_the_year_is_refused(app, database, ref):
    import datetime as dt

    from cowin_kit.certificates import admin
    from cowin_kit.errors import UserError

    with database.Session() as s, pytest.raises(UserError) as info:
        admin.correct_details(s, beneficiary_id(database, ref), name="Rosa Quispe",
                              birth_year=1980, birth_date=dt.date(1979, 5, 1), gender="female",
                              reason="As on the ID document.", user="test", ctx=_ctx(app))
    assert info.value.field == "birth_date"


def test_correcting_someone_without_a_dose_is_refused(app, database, client,
                                                      cowin_kit_instance):
    from cowin_kit.certificates import admin

    web_login(client, cowin_kit_instance)
    add_member(client, "45678914")
    ref = reference(database)
    with database.Session() as s, pytest.raises(admin.CertificateError) as info:
        admin.correct_details(s, beneficiary_id(database, ref), name="New Name", birth_year=1980,
                              birth_date=None, gender="female", reason="As on the ID card.",
                              user="test", ctx=_ctx(app))
    assert info.value.field == "beneficiary"


# --- the operator's commands --------------------------------------------------------------------

@pytest.fixture
def certificate_cli(run_cli):
    return lambda *args: run_cli("certificate", *args)


def test_cli_revoke_and_reissue(database, ref, cowin_kit_instance, certificate_cli, refused):
    inst = ["--instance", str(cowin_kit_instance)]
    first = certificate_rows(database, ref)[0]
    result = certificate_cli("revoke", first.uvci, "--reason", REASON, *inst)
    assert result.exit_code == 0, result.output
    assert "Revoked" in result.output
    [event] = audit_rows(database, "certificate.revoked")
    assert event.actor.startswith("cli:")
    refused(certificate_cli("revoke", first.uvci, "--reason", REASON, *inst),
            "already revoked")
    refused(certificate_cli("revoke", "URN:UVCI:01:PE:NOPE#A", "--reason", REASON, *inst),
            "No person or certificate")
    second = certificate_rows(database, ref)[1]
    refused(certificate_cli("revoke", second.uvci, "--reason", "short", *inst), "reason",
            "10")
    result = certificate_cli("reissue", ref, *inst)
    assert result.exit_code == 0, result.output
    rows = certificate_rows(database, ref)
    assert [r.version for r in rows] == [1, 2, 3] and rows[1].superseded_at is not None
    assert rows[1].revoked_at is None and rows[2].uvci in result.output
    assert len(audit_rows(database, "certificate.reissued")) == 1
    refused(certificate_cli("reissue", "123", *inst), "14-digit")
    refused(certificate_cli("reissue", "12345678901234", *inst), "nobody is registered")


def test_cli_issue_missing_certifies_doses_recorded_without_one(app, database, client,
                                                               cowin_kit_instance,
                                                               certificate_cli):
    """Doses recorded before certificates existed (or while the keys were unreadable) get
    their certificate from `certificate issue-missing`, once; a revocation stands."""
    from cowin_kit.certificates.models import Certificate

    inst = ["--instance", str(cowin_kit_instance)]
    web_login(client, cowin_kit_instance)
    add_member(client, "41234567", name="Luz Huamán", year="1975")
    old = reference(database)
    give_dose(database, old, days_ago=60, number=1)
    give_dose(database, old, days_ago=20, number=2)
    assert certificate_rows(database, old) == []
    result = certificate_cli("issue-missing", "--batch", "1", *inst)
    assert result.exit_code == 0, result.output
    [cert] = certificate_rows(database, old)
    assert (cert.version, cert.status, cert.doses) == (1, "final", 2) and cert.hc1
    assert len(audit_rows(database, "certificate.issued_missing")) >= 1
    again = certificate_cli("issue-missing", *inst)
    assert "already" in again.output and len(certificate_rows(database, old)) == 1
    with database.Session() as s:
        s.get(Certificate, cert.id).revoked_at = dt.datetime.now(dt.UTC)
        s.commit()
    certificate_cli("issue-missing", *inst)
    assert len(certificate_rows(database, old)) == 1  # the revocation stands
