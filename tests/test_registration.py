"""Registering a person's ID: one number, one person; stored hashed and encrypted."""
import time

import pytest
from sqlalchemy import select

from cowin_kit.plugins.interfaces import IdProvider, VerificationResult
from cowin_kit.registration import ids
from cowin_kit.registration.models import Beneficiary
from cowin_kit.registration.service import (
    DuplicateId,
    IdContext,
    RegistrationError,
    register_beneficiary,
    reverify_pending,
)


class _Registry(IdProvider):
    """A national registry stand-in behind the real plugin interface: up or down."""

    code, country, name, hint, example = "pe.dni", "PE", "DNI", "8 digits", "10117410"
    can_verify = True
    up = False
    people = {"10117410": ("ANA QUISPE", 1985)}

    def normalize(self, raw):
        return "".join(ch for ch in raw if ch.isdigit())

    def validate(self, number):
        from cowin_kit.plugins.builtin.ids.pe import PeruDni
        return PeruDni().validate(number)

    def mask(self, number):
        return "XXXX" + number[-4:]

    def verify(self, number, claims, timeout):
        if not type(self).up:
            time.sleep(timeout + 1)  # a registry that hangs
            return VerificationResult("verified")
        person = self.people.get(number)
        if person is None:
            return VerificationResult("not_found", "REG-0")
        ok = (person[0] == claims.name.upper() and person[1] == claims.birth_year)
        return VerificationResult("verified" if ok else "mismatch", "REG-1")


@pytest.fixture
def ctx(app):
    dep = app.extensions["cowin_kit"]
    return IdContext.from_settings(dict(dep.id_providers), dep.settings)


def _register(session, ctx, number="10117410", **kw):
    values = dict(document_code="dni", id_number=number, name="Ana Quispe", birth_year=1985,
                  gender="female")
    values.update(kw)
    return register_beneficiary(session, ctx, **values)


def test_registration_stores_the_number_hashed_encrypted_and_masked(db_session, ctx):
    person = _register(db_session, ctx, " 10117410-2 ")
    db_session.commit()
    assert len(person.reference_id) == 14 and person.reference_id.isdigit()
    assert person.id_number_masked == "XXXXXX10"
    assert "10117410" not in person.id_number_hash + person.id_number_encrypted
    assert ids.decrypt_number(ctx.encryption_key, person.id_number_encrypted) == "10117410"
    assert person.id_verification_status == "unverified"  # DNI checks are offline here


def test_the_same_number_cannot_be_registered_twice(db_session, ctx):
    _register(db_session, ctx, "10117410")
    db_session.commit()
    with pytest.raises(DuplicateId) as info:
        _register(db_session, ctx, "10117410-2", name="Someone Else")
    # The refusal says the number cannot be registered, not that (or where) it is.
    assert info.value.field == "id_number" and "cannot be registered" in str(info.value)
    assert "already" not in str(info.value)


@pytest.mark.parametrize("kw,field", [
    ({"id_number": "10117410-3"}, "id_number"),
    ({"id_number": "12"}, "id_number"),
    ({"document_code": "nope"}, "id_type"),
    ({"name": "   "}, "name"),
    ({"birth_year": 1800}, "birth_year"),
    ({"gender": "x"}, "gender"),
])
def test_bad_input_names_the_field(db_session, ctx, kw, field):
    with pytest.raises(RegistrationError) as info:
        _register(db_session, ctx, **kw)
    assert info.value.field == field
    assert db_session.scalar(select(Beneficiary)) is None


def test_a_registry_that_hangs_never_blocks_and_reverify_catches_up(db_session, ctx, run_cli):
    ctx.providers["dni"] = _Registry()
    ctx.verify_timeout, ctx.verify_retries = 1, 0
    _Registry.up = False
    started = time.monotonic()
    person = _register(db_session, ctx)
    assert time.monotonic() - started < 2.5
    assert person.id_verification_status == "unavailable"
    db_session.commit()

    _Registry.up = True
    counts = reverify_pending(db_session, ctx)
    db_session.commit()
    assert counts == {"verified": 1}
    assert person.id_verification_status == "verified"
    assert person.id_verification_reference == "REG-1" and person.id_verified_at is not None
    assert reverify_pending(db_session, ctx) == {}


def test_reverify_command_reports_and_skips_offline_providers(db_session, ctx, run_cli,
                                                              cowin_kit_instance):
    _register(db_session, ctx)
    db_session.commit()
    result = run_cli("ids", "reverify", "--instance", cowin_kit_instance)
    assert result.exit_code == 0, result.output
    assert "Nobody is waiting for verification." in result.output  # DNI checks are offline


def test_swapping_the_provider_keeps_one_person_one_record(db_session, ctx):
    _register(db_session, ctx, "10117410")
    db_session.commit()

    class OtherDni(_Registry):
        code = "example.dni"
        up = True

    ctx.providers["dni"] = OtherDni()  # e.g. a ministry's registry-verifying plugin
    with pytest.raises(DuplicateId):
        _register(db_session, ctx, "10117410")


def test_editing_the_name_or_year_asks_the_registry_again(db_session, ctx):
    """A verification holds for the name and year it was made with: an edit that changes
    them is checked again, so nobody keeps "verified" with details the registry refuses."""
    from cowin_kit.accounts.models import CitizenAccount
    from cowin_kit.registration.service import update_beneficiary

    ctx.providers["dni"] = _Registry()
    ctx.verify_timeout, ctx.verify_retries = 1, 0
    _Registry.up = True
    account = CitizenAccount(mobile="+51987654321")
    db_session.add(account)
    db_session.flush()
    person = _register(db_session, ctx, account_id=account.id)
    assert person.id_verification_status == "verified"
    update_beneficiary(db_session, account_id=account.id, reference_id=person.reference_id,
                       name="Ana Quispe", birth_year=1940, gender="female", ctx=ctx)
    assert person.id_verification_status == "mismatch"
    update_beneficiary(db_session, account_id=account.id, reference_id=person.reference_id,
                       name="Ana Quispe", birth_year=1985, gender="other", ctx=ctx)
    assert person.id_verification_status == "verified"
    _Registry.up = False  # nobody answers now: the status says so, and reverify will retry
    update_beneficiary(db_session, account_id=account.id, reference_id=person.reference_id,
                       name="Ana María Quispe", birth_year=1985, gender="other", ctx=ctx)
    assert person.id_verification_status == "unavailable"
