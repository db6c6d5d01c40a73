"""Helpers the kit's test modules share: logging in (portal, API, staff), reading forms, and
the demo data they book. Plain functions; the fixtures built on them are in conftest.py, and
what a plugin's tests could use too (the SMS outbox, settings) is in cowin_kit.testing.

Import them by name (``from helpers import web_login``); a test module never imports another
test module.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import os
import re
import signal
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path
from types import SimpleNamespace

import pytest
import requests
from sqlalchemy import select

from cowin_kit.testing import ADMIN_EMAIL, ADMIN_PASSWORD, last_otp, pinned_today

MOBILE = "987654321"  # a Peruvian mobile number as people type it
STAFF_PASSWORD = "a-long-enough-password"  # of the staff users make_user creates
# The PE deployment's day: the kit's wall clock is pinned for the test process (see
# cowin_kit.testing), so this is the day the demo data was seeded for, and the kit's "today".
TODAY = pinned_today("America/Lima")
LATER = TODAY + dt.timedelta(days=30)  # past the week of demo sessions

# Values that have broken forms before, or could: huge numbers, far dates, NULs, other digits.
NASTY = ["", " ", "0", "-1", "99999999999999999999", "1e309", "NaN", "9999-12-31", "\x00",
         "../../etc", "<script>", "%00", "Ω≈ç√", "١٢٣٤٥", "12-31-2020", "2020-02-30",
         "0001-01-01", "/portal/\r\nX: 1", "//evil.example"]


def csrf(page: str) -> str:
    """The CSRF token of the (first) form on an HTML page."""
    match = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page) or re.search(
        r'name="csrf_token" value="([^"]+)"', page)
    assert match, "the form has no CSRF token"
    return match.group(1)


def sha(code: str) -> str:
    """An OTP as Co-WIN clients send it to confirmOTP."""
    return hashlib.sha256(code.encode()).hexdigest()


# --- the citizen API -----------------------------------------------------------------------

def api_otp(client, instance, mobile=MOBILE, partner=False, **request) -> tuple[str, str]:
    """Ask for a code over the API: (txnId, the code the SMS carried).

    ``request`` goes to the test client (``environ_base=…``, ``headers=…``).
    """
    prefix = "/api/v2/auth/" + ("" if partner else "public/")
    r = client.post(prefix + "generateOTP", json={"mobile": mobile}, **request)
    assert r.status_code == 200, r.get_json()
    txn = r.get_json()["txnId"]
    uuid.UUID(txn)
    return txn, last_otp(instance)


def api_confirm(client, instance, mobile=MOBILE, partner=False, **request):
    """Log in over the API: confirmOTP's response."""
    txn, code = api_otp(client, instance, mobile, partner, **request)
    prefix = "/api/v2/auth/" + ("" if partner else "public/")
    return client.post(prefix + "confirmOTP", json={"otp": sha(code), "txnId": txn}, **request)


def api_login(client, instance, mobile=MOBILE, **request) -> dict:
    """Log in over the public API: the headers of its requests (bearer token, English)."""
    token = api_confirm(client, instance, mobile, **request).get_json()["token"]
    return {"Authorization": f"Bearer {token}", "Accept-Language": "en"}


def api_register(client, auth, dni_type, number, name="Ana Quispe", year="1980"):
    """Register a family member with a DNI over the API."""
    return client.post("/api/v2/registration/beneficiary/new", headers=auth, json={
        "name": name, "birth_year": year, "gender_id": 2, "photo_id_type": dni_type,
        "photo_id_number": number, "comorbidity_ind": "N", "consent_version": "1"})


def api_session(database, dose=1) -> tuple[int, str]:
    """A future demo session with places for ``dose``: (its id, its first slot as "HH:MM")."""
    from cowin_kit.scheduling.models import SessionCapacity, VaccinationSession

    today = TODAY
    with database.session() as s:
        vs = s.scalar(select(VaccinationSession).join(SessionCapacity).where(
            VaccinationSession.date > today, VaccinationSession.min_age <= 40,
            VaccinationSession.max_age.is_(None),  # not a child's (routine) session
            SessionCapacity.dose_number == dose, SessionCapacity.capacity > 0)
            .order_by(VaccinationSession.date))
        return vs.id, vs.slots[0].starts.strftime("%H:%M")


def dni_type_id(database) -> int:
    from cowin_kit.registration.models import IdDocumentType

    with database.session() as s:
        return s.scalar(select(IdDocumentType.id).where(IdDocumentType.code == "dni"))


# --- the citizen portal --------------------------------------------------------------------

def web_login(client, instance, mobile=MOBILE):
    """Log the test client into the portal, through its forms."""
    page = client.get("/portal/login").get_data(as_text=True)
    r = client.post("/portal/login", data={"mobile": mobile, "csrf_token": csrf(page)})
    assert r.status_code == 302 and r.headers["Location"].endswith("/portal/login/code"), r.data
    page = client.get("/portal/login/code").get_data(as_text=True)
    r = client.post("/portal/login/code", data={"code": last_otp(instance),
                                                "csrf_token": csrf(page)})
    assert r.status_code == 302 and r.headers["Location"].endswith("/portal/"), r.data
    return client


def add_member(client, number, name="Ana Quispe", year="1980", groups=(), born=""):
    """Register a member through the portal's form (``born``: the date of birth, as the
    date input sends it, YYYY-MM-DD)."""
    page = client.get("/portal/members/new").get_data(as_text=True)
    return client.post("/portal/members/new", data={
        "name": name, "birth_year": year, "birth_date": born, "gender": "female",
        "id_type": "dni", "id_number": number, "priority_groups": list(groups),
        "csrf_token": csrf(page)})


def open_session(database, dose=1, min_age=40):
    """A future demo session with places: (it, its first slot as the portal writes it,
    its centre's postal code)."""
    from cowin_kit.scheduling.models import Facility, SessionCapacity, VaccinationSession

    today = TODAY
    with database.session() as s:
        vs = s.scalar(select(VaccinationSession).join(SessionCapacity).join(Facility).where(
            Facility.postal_code.is_not(None), VaccinationSession.date > today,
            VaccinationSession.min_age <= min_age, VaccinationSession.max_age.is_(None),
            SessionCapacity.dose_number == dose, SessionCapacity.capacity > SessionCapacity.booked)
            .order_by(VaccinationSession.date))
        slot = vs.slots[0]
        found = SimpleNamespace(id=vs.id, facility_name=vs.facility.name,
                                division_id=vs.facility.division_id)
        return found, f"{slot.starts:%I:%M%p}-{slot.ends:%I:%M%p}", vs.facility.postal_code


def reference(database) -> str:
    """The reference of the person registered last."""
    from cowin_kit.registration.models import Beneficiary

    with database.session() as s:
        return s.scalars(select(Beneficiary.reference_id).order_by(Beneficiary.id)).all()[-1]


# --- the staff pages -----------------------------------------------------------------------

def staff_login(client, email=ADMIN_EMAIL, password=ADMIN_PASSWORD):
    page = client.get("/staff/login").get_data(as_text=True)
    return client.post("/staff/login", data={"email": email, "password": password,
                                             "csrf_token": csrf(page)})


def make_user(database, email, role, division_code=None, must_change=False):
    """A staff user with STAFF_PASSWORD: its id."""
    from cowin_kit.accounts.service import create_staff_user
    from cowin_kit.geography.models import Division

    with database.Session() as s:
        division_id = None
        if division_code:
            division_id = s.scalar(select(Division.id).where(Division.code == division_code))
        user = create_staff_user(s, email, STAFF_PASSWORD, role, division_id, actor="test",
                                 must_change_password=must_change)
        s.commit()
        return user.id


def facility(database, code):
    from cowin_kit.scheduling.models import Facility

    with database.Session() as s:
        return s.scalar(select(Facility).where(Facility.code == code))


def audit_rows(database, action=None):
    from cowin_kit.accounts.models import AuditEvent

    with database.Session() as s:
        query = select(AuditEvent).order_by(AuditEvent.id)
        if action:
            query = query.where(AuditEvent.action == action)
        return s.scalars(query).all()


# --- services the CI machine runs ----------------------------------------------------------

REDIS = os.environ.get("COWIN_KIT_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")


def redis_or_skip() -> str:
    """The test Redis's URL; skips the test without one (fails it in CI, which starts one)."""
    import redis

    try:
        redis.Redis.from_url(REDIS, socket_connect_timeout=1).ping()
    except redis.RedisError:
        if os.environ.get("CI"):
            pytest.fail(f"Redis does not answer at {REDIS}; .ci/run starts it")
        pytest.skip(f"no Redis at {REDIS}")
    return REDIS


# --- centres, sessions and lots (issue 11: facilities) -------------------------------------

_person_numbers = iter(range(41000000, 41999999))


def make_facility_user(database, email, role, facility_code):
    """A facility manager or vaccinator working at the centre ``facility_code``: its id."""
    from cowin_kit.accounts.models import StaffUser
    from cowin_kit.scheduling.models import Facility

    with database.Session() as s:
        centre = s.scalar(select(Facility).where(Facility.code == facility_code))
        division_code = centre.division.code
    user_id = make_user(database, email, role, division_code)
    with database.Session() as s:
        user = s.get(StaffUser, user_id)
        user.facility_id = centre.id
        s.commit()
    return user_id


def new_session(database, facility_code, day, *, capacity=10, product="comirnaty",
                walk_in_quota=0):
    """A session of ``product`` at the centre on ``day`` (any day, past ones too): its id."""
    from cowin_kit.programmes.models import Product
    from cowin_kit.scheduling.models import Facility
    from cowin_kit.scheduling.sessions import create_session

    with database.Session() as s:
        centre = s.scalar(select(Facility).where(Facility.code == facility_code))
        vaccine = s.scalar(select(Product).where(Product.code == product))
        vs = create_session(s, centre, day, vaccine, 18, None, {1: capacity},
                            [(dt.time(9), dt.time(11)), (dt.time(11), dt.time(13))],
                            walk_in_quota=walk_in_quota)
        s.commit()
        return vs.id


def booked_person(app, database, session_id, mobile="+51987000111", language=None,
                  today=None):
    """A citizen account with one person booked into the session (dose 1, 09:00):
    (account id, beneficiary id, appointment id)."""
    from cowin_kit.accounts.models import CitizenAccount
    from cowin_kit.registration import service as registration
    from cowin_kit.registration.service import IdContext
    from cowin_kit.scheduling import booking

    dep = app.extensions["cowin_kit"]
    ctx = IdContext.from_settings(dict(dep.id_providers), dep.settings)
    with database.Session() as s:
        account = s.scalar(select(CitizenAccount).where(CitizenAccount.mobile == mobile))
        if account is None:
            account = CitizenAccount(mobile=mobile, language=language)
            s.add(account)
            s.flush()
        person = registration.register_beneficiary(
            s, ctx, document_code="dni", id_number=str(next(_person_numbers)),
            name="Rosa Mamani", birth_year=1980, gender="female", account_id=account.id,
            language=language)
        [appt] = booking.schedule(s, account_id=account.id, beneficiary_ids=[person.id],
                                  session_id=session_id, slot="09:00", dose=1,
                                  today=today or TODAY)
        s.commit()
        return account.id, person.id, appt.id


# --- the vaccinator's day (issue 11) ---------------------------------------------------------

def adult_session_today(database):
    """A demo session today for adults (no maximum age, minimum age 40 or less): it."""
    from cowin_kit.scheduling.models import VaccinationSession

    with database.Session() as s:
        return s.scalar(select(VaccinationSession).where(
            VaccinationSession.date == TODAY, VaccinationSession.max_age.is_(None),
            VaccinationSession.min_age <= 40).order_by(VaccinationSession.facility_id))


def book_today(app, session_id, number, name="Ana Quispe", mobile="+51987654321", year=1980):
    """Register a person under ``mobile`` and book them into ``session_id`` (today, any
    hour: the slot's end is not checked). Returns SimpleNamespace(beneficiary_id,
    reference, appointment_id, code)."""
    from cowin_kit.accounts.models import CitizenAccount
    from cowin_kit.registration.service import IdContext, register_beneficiary
    from cowin_kit.scheduling.booking import schedule
    from cowin_kit.scheduling.models import VaccinationSession

    dep = app.extensions["cowin_kit"]
    with dep.db.Session() as s:
        account = s.scalar(select(CitizenAccount).where(CitizenAccount.mobile == mobile))
        if account is None:
            account = CitizenAccount(mobile=mobile, language="es")
            s.add(account)
            s.flush()
        person = register_beneficiary(s, IdContext.from_settings(dep.id_providers, dep.settings),
                                      document_code="dni", id_number=number, name=name,
                                      birth_year=year, gender="female", account_id=account.id)
        vs = s.get(VaccinationSession, session_id)
        [appt] = schedule(s, account_id=account.id, beneficiary_ids=[person.id],
                          session_id=session_id, slot=vs.slots[0].id, dose=1, today=vs.date)
        s.commit()
        return SimpleNamespace(beneficiary_id=person.id, reference=person.reference_id,
                               appointment_id=appt.id, code=appt.secret_code)


def add_lot(database, facility_id, product_id, number="LOT-A1", doses=10, expires=None,
            used=0):
    """A vaccine lot at the facility: its id."""
    from cowin_kit.vaccination.models import VaccineLot

    with database.Session() as s:
        lot = VaccineLot(facility_id=facility_id, product_id=product_id, lot_number=number,
                         expires_on=expires or TODAY + dt.timedelta(days=90),
                         doses_received=doses, doses_used=used)
        s.add(lot)
        s.commit()
        return lot.id


def facility_user(database, email, role, facility_id):
    """A vaccinator or facility manager of ``facility_id``: its id."""
    from cowin_kit.accounts.models import StaffUser
    from cowin_kit.scheduling.models import Facility

    user_id = make_user(database, email, role)
    with database.Session() as s:
        user = s.get(StaffUser, user_id)
        user.facility_id = facility_id
        user.division_id = s.get(Facility, facility_id).division_id
        s.commit()
    return user_id


# --- adverse events (AEFI) -----------------------------------------------------------------

def give_dose(database, reference, facility_code="DEMO-PE-0001", days_ago=1, number=1,
              product_code="comirnaty") -> int:
    """Record dose ``number`` of ``product_code`` for the person with this reference, given
    ``days_ago`` days ago at ``facility_code`` (None: no facility): the dose's id."""
    from cowin_kit.programmes.models import Product
    from cowin_kit.registration.models import Beneficiary
    from cowin_kit.scheduling.models import Facility
    from cowin_kit.vaccination.service import record_dose

    with database.Session() as s:
        person = s.scalar(select(Beneficiary).where(Beneficiary.reference_id == reference))
        product = s.scalar(select(Product).where(Product.code == product_code))
        place = (s.scalar(select(Facility.id).where(Facility.code == facility_code))
                 if facility_code else None)
        dose = record_dose(s, beneficiary_id=person.id, product=product, dose_number=number,
                           given_on=TODAY - dt.timedelta(days=days_ago), facility_id=place)
        s.commit()
        return dose.id


def beneficiary_id(database, reference) -> int:
    from cowin_kit.registration.models import Beneficiary

    with database.Session() as s:
        return s.scalar(select(Beneficiary.id).where(Beneficiary.reference_id == reference))


# --- walk-ins and assisted registration (issue 11) ------------------------------------------

def facility_user_at(database, email, role, facility_code):
    """A staff user of one facility (vaccinator, facility manager) with STAFF_PASSWORD,
    the facility given by its code."""
    from cowin_kit.accounts.models import StaffUser
    from cowin_kit.scheduling.models import Facility

    user_id = make_user(database, email, role)
    with database.Session() as s:
        centre = s.scalar(select(Facility).where(Facility.code == facility_code))
        user = s.get(StaffUser, user_id)
        user.facility_id, user.division_id = centre.id, centre.division_id
        s.commit()
    return user_id


_SESSIONS_MADE: set[str] = set()  # by session_today: never taken for the demo's


def session_today(database, facility_code, *, quota=1, capacity=1, dose=1, min_age=18,
                  max_age=None, product_code=None, ends=dt.time.max,
                  day=None):
    """A session today (the deployment's day) at a centre, with a walk-in quota and one slot
    that is still open: its id. The demo's own sessions at the centre that day are marked
    cancelled first: whether their slots are still to come depends on the hour the tests
    run, and a test must not (a walk-in page offers every open session)."""
    from cowin_kit.db import utcnow
    from cowin_kit.programmes.models import Product
    from cowin_kit.scheduling.models import Facility, VaccinationSession
    from cowin_kit.scheduling.sessions import create_session

    with database.Session() as s:
        centre = s.scalar(select(Facility).where(Facility.code == facility_code))
        for demo in s.scalars(select(VaccinationSession).where(
                VaccinationSession.facility_id == centre.id,
                VaccinationSession.date == (day or TODAY),
                VaccinationSession.id.not_in(_SESSIONS_MADE or {""}),
                VaccinationSession.cancelled_at.is_(None))):
            demo.cancelled_at = utcnow()
        taken = set(s.scalars(select(VaccinationSession.product_id).where(
            VaccinationSession.facility_id == centre.id,
            VaccinationSession.date == (day or TODAY))))
        # The product asked for, else an adult COVID-19 vaccine without a session that day
        # (one session per centre, day and product; the demo data has some).
        product = s.scalar(select(Product).where(
            Product.code == product_code if product_code else Product.code.in_(
                ("comirnaty", "spikevax", "vaxzevria", "bbibp-corv")),
            Product.id.not_in(taken or {-1})).order_by(Product.id))
        vs = create_session(s, centre, day or TODAY, product, min_age, max_age,
                            {dose: capacity} if capacity else {},
                            [(dt.time(0, 0), ends)])
        vs.walk_in_quota = quota
        s.commit()
        _SESSIONS_MADE.add(vs.id)
        return vs.id


# --- certificates: revoke ------------------------------------------------------------------

def vaccinated(app, database, reference, *, facility_code="DEMO-PE-0001", number=1,
               days_ago=30, public_url="https://vacunas.example.gob"):
    """Record dose ``number`` of comirnaty for the person ``reference`` at ``facility_code``
    and issue their certificate (with a SMART Health Card: ``public_url``): the new
    certificate's UVCI."""
    from cowin_kit.certificates import issuing
    from cowin_kit.certificates.models import Certificate
    from cowin_kit.programmes.models import Product
    from cowin_kit.registration.models import Beneficiary
    from cowin_kit.scheduling.models import Facility
    from cowin_kit.vaccination.service import record_dose

    dep = app.extensions["cowin_kit"]
    with database.Session() as s:
        ctx = issuing.context_for(dep.settings, dep.profile)
        ctx = issuing.IssuingContext(ctx.country, ctx.issuer, ctx.ring, public_url=public_url)
        person = s.scalar(select(Beneficiary).where(Beneficiary.reference_id == reference))
        product = s.scalar(select(Product).where(Product.code == "comirnaty"))
        place = s.scalar(select(Facility.id).where(Facility.code == facility_code))
        record_dose(s, beneficiary_id=person.id, product=product, dose_number=number,
                    given_on=TODAY - dt.timedelta(days=days_ago), facility_id=place,
                    certificates=ctx)
        s.commit()
        return s.scalar(select(Certificate.uvci).where(Certificate.beneficiary_id == person.id)
                        .order_by(Certificate.version.desc()).limit(1))


def certificate_rows(database, reference):
    """The person's certificate versions, oldest first (detached)."""
    from cowin_kit.certificates.models import Certificate
    from cowin_kit.registration.models import Beneficiary

    with database.Session() as s:
        rows = s.scalars(select(Certificate).join(Beneficiary).where(
            Beneficiary.reference_id == reference).order_by(Certificate.programme_id,
                                                            Certificate.version)).all()
        s.expunge_all()
        return rows


# --- certificates: issuer ------------------------------------------------------------------

def shared_testdata(*parts: str):
    """A file or folder of the public test data (EU DCC vectors, schemas and value sets,
    SMART Health Cards examples): the unchanged copy of ``../shared/testdata`` kept in
    tests/data/shared-testdata, so the tests run wherever the checkout is."""
    from pathlib import Path

    return Path(__file__).resolve().parent.joinpath("data", "shared-testdata", *parts)


def decode_hc1(text: str) -> dict:
    """The EU DCC JSON inside an ``HC1:`` payload (signature not checked)."""
    import zlib

    import base45
    import cbor2

    assert text.startswith("HC1:")
    cose = cbor2.loads(zlib.decompress(base45.b45decode(text[4:])))
    assert cose.tag == 18
    return cbor2.loads(cose.value[2])[-260][1]


def decode_shc(jws: str) -> dict:
    """The payload of a SMART Health Card's compact JWS (signature not checked)."""
    import base64
    import json
    import zlib

    body = jws.split(".")[1]
    return json.loads(zlib.decompress(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)),
                                      -15))


def new_person(session, name, *, year=1980, born=None, gender="female", language=None):
    """A person inserted directly (any country's deployment: no ID provider involved)."""
    from cowin_kit.registration.models import Beneficiary, IdDocumentType

    doc = session.scalar(select(IdDocumentType).order_by(IdDocumentType.id))
    token = uuid.uuid4().hex
    person = Beneficiary(reference_id=str(uuid.uuid4().int)[:14], name=name, birth_year=year,
                         birth_date=born, gender=gender, language=language,
                         id_document_type_id=doc.id, id_number_hash=token,
                         id_number_encrypted="x", id_number_masked="XXXX" + token[:4])
    session.add(person)
    session.flush()
    return person
# --- certificates: docs ---------------------------------------------------------------------

def register_person(app, database, mobile, *, name="Ana Quispe", year=1980, language=None,
                    passport="K1234567") -> str:
    """Register a person with a passport (every profile accepts one) under the citizen
    account of ``mobile`` (E.164; made if it has never logged in): their reference ID."""
    from cowin_kit.accounts.models import CitizenAccount
    from cowin_kit.registration import service as registration

    dep = app.extensions["cowin_kit"]
    with database.Session() as s:
        account = s.scalar(select(CitizenAccount).where(CitizenAccount.mobile == mobile))
        if account is None:
            account = CitizenAccount(mobile=mobile, language=language)
            s.add(account)
            s.flush()
        ctx = registration.IdContext.from_settings(dep.id_providers, dep.settings)
        person = registration.register_beneficiary(
            s, ctx, document_code="passport", id_number=passport, name=name, birth_year=year,
            gender="female", account_id=account.id, language=language,
            current_year=TODAY.year)
        s.commit()
        return person.reference_id


def add_centre(database, code, name, names=None) -> str:
    """A vaccination centre in the first level-1 division (for profiles without demo
    centres): its code."""
    from cowin_kit.geography.models import Division
    from cowin_kit.scheduling.models import Facility

    with database.Session() as s:
        division = s.scalar(select(Division).where(Division.level == 1).order_by(Division.id))
        s.add(Facility(code=code, name=name, names=names or {}, division_id=division.id))
        s.commit()
    return code


def certify(app, database, reference, *, number=1, days_ago=30, product_code=None,
            lot="FA1234", public_url="https://vacunas.example.gob", facility_code=None):
    """Record dose ``number`` (at the country's first demo centre, from a lot there) for
    the person with this reference, issuing the next version of their certificate as the
    vaccinator's page does: the new version's UVCI. ``product_code``: the first COVID-19
    product with an EU DCC code when None; ``public_url`` "" issues no SMART Health Card."""
    from cowin_kit.certificates import issuing
    from cowin_kit.programmes.models import Product
    from cowin_kit.registration.models import Beneficiary
    from cowin_kit.scheduling.models import Facility
    from cowin_kit.vaccination.models import VaccineLot
    from cowin_kit.vaccination.service import DoseDetails, record_dose

    dep = app.extensions["cowin_kit"]
    with database.Session() as s:
        person = s.scalar(select(Beneficiary).where(Beneficiary.reference_id == reference))
        product = s.scalar(select(Product).where(
            Product.code == product_code if product_code else Product.dcc_product.is_not(None))
            .order_by(Product.id))
        centre = s.scalar(select(Facility).where(
            Facility.code == facility_code if facility_code else Facility.is_demo.is_(True))
            .order_by(Facility.id))
        found = issuing.context_for(dep.settings, dep.profile)
        ctx = issuing.IssuingContext(found.country, found.issuer, found.ring,
                                     public_url=public_url)
        details = None
        if lot:
            row = s.scalar(select(VaccineLot).where(
                VaccineLot.facility_id == centre.id, VaccineLot.product_id == product.id,
                VaccineLot.lot_number == f"{lot}-{number}"))
            if row is None:
                row = VaccineLot(facility_id=centre.id, product_id=product.id,
                                 lot_number=f"{lot}-{number}",
                                 expires_on=TODAY + dt.timedelta(days=90),
                                 doses_received=10, doses_used=0)
                s.add(row)
                s.flush()
            details = DoseDetails(idempotency_key=uuid.uuid4().hex, lot_id=row.id)
        record_dose(s, beneficiary_id=person.id, product=product, dose_number=number,
                    given_on=TODAY - dt.timedelta(days=days_ago), facility_id=centre.id,
                    details=details, certificates=ctx)
        s.commit()
        return issuing.current(s, person.id, product.programme_id).uvci


# --- certificates: verifypage ---

def member_id(client, number, name="Ana Quispe", year="1980") -> int:
    """Register a member through the portal (the client logged in with web_login): its id."""
    from cowin_kit.registration.models import Beneficiary

    add_member(client, number, name=name, year=year)
    db = client.application.extensions["cowin_kit"].db
    with db.Session() as s:
        return s.scalar(select(Beneficiary.id).order_by(Beneficiary.id.desc()))


def issue_certificate(app, person_id, *, public_url="", number=1, days_ago=30,
                      product="comirnaty"):
    """Record a dose for the person, which issues their certificate (a SMART Health Card too
    when ``public_url`` is given): the new certificate row, detached."""
    from cowin_kit.certificates import issuing
    from cowin_kit.certificates.models import Certificate
    from cowin_kit.programmes.models import Product
    from cowin_kit.vaccination.service import record_dose

    dep = app.extensions["cowin_kit"]
    with dep.db.Session() as s:
        ctx = issuing.context_for(dep.settings, dep.profile)
        if public_url:
            ctx = issuing.IssuingContext(ctx.country, ctx.issuer, ctx.ring, public_url=public_url)
        record_dose(s, beneficiary_id=person_id, dose_number=number,
                    product=s.scalar(select(Product).where(Product.code == product)),
                    given_on=TODAY - dt.timedelta(days=days_ago), certificates=ctx)
        s.commit()
        cert = s.scalar(select(Certificate).where(Certificate.beneficiary_id == person_id)
                        .order_by(Certificate.version.desc()))
        s.expunge(cert)
        return cert


def revoke_certificate(app, certificate_id, reason="issued in error"):
    """Mark a certificate revoked in the database, as the administrators' revocation does."""
    from cowin_kit.certificates.models import Certificate
    from cowin_kit.db import utcnow

    with app.extensions["cowin_kit"].db.Session() as s:
        cert = s.get(Certificate, certificate_id)
        cert.revoked_at, cert.revocation_reason = utcnow(), reason
        s.commit()


def tampered_hc1(hc1: str, **changes) -> str:
    """``hc1`` with its certificate's name changed and the signature kept (so it no longer
    matches)."""
    import zlib

    import base45
    import cbor2

    cose = cbor2.loads(zlib.decompress(base45.b45decode(hc1[4:])))
    protected, unprotected, payload, signature = cose.value
    claims = cbor2.loads(payload)
    claims[-260][1]["nam"].update(changes or {"fn": "Someone Else", "fnt": "SOMEONE<ELSE"})
    cose = cbor2.CBORTag(18, [protected, unprotected, cbor2.dumps(claims), signature])
    return "HC1:" + base45.b45encode(zlib.compress(cbor2.dumps(cose))).decode("ascii")


# --- certificates: verifier -------------------------------------------------------------------

CERTIFICATE_URL = "https://vacunas.example.gob"  # the PUBLIC_URL certificates are issued under


def issue_family_certificate(app, database, client, instance, *, number="45678912",
                      name="Mária Quispe-Ñahui", dose=1, days_ago=40):
    """A member of the logged-in family with a dose of Comirnaty recorded, and so a
    certificate issued with a SMART Health Card under CERTIFICATE_URL: (the Certificate row,
    detached; the instance's key ring)."""
    from cowin_kit.certificates import issuing
    from cowin_kit.certificates.models import Certificate
    from cowin_kit.programmes.models import Product
    from cowin_kit.registration.models import Beneficiary
    from cowin_kit.vaccination.service import record_dose

    web_login(client, instance)
    add_member(client, number, name=name, year="1980")
    dep = app.extensions["cowin_kit"]
    with database.Session() as s:
        person = s.scalar(select(Beneficiary.id).order_by(Beneficiary.id.desc()))
        ctx = issuing.context_for(dep.settings, dep.profile)
        ctx = issuing.IssuingContext(ctx.country, ctx.issuer, ctx.ring,
                                     public_url=CERTIFICATE_URL)
        product = s.scalar(select(Product).where(Product.code == "comirnaty"))
        # The EU value-set codes of Comirnaty (mRNA vaccine; BioNTech), whatever the issuing
        # code derives when the profile does not give them.
        product.dcc_vaccine_type = product.dcc_vaccine_type or "1119349007"
        product.dcc_manufacturer = product.dcc_manufacturer or "ORG-100030215"
        record_dose(s, beneficiary_id=person, product=product, dose_number=dose,
                    given_on=TODAY - dt.timedelta(days=days_ago), certificates=ctx)
        s.commit()
        cert = s.scalar(select(Certificate).where(Certificate.beneficiary_id == person)
                        .order_by(Certificate.version.desc()))
        s.expunge(cert)
        return cert, ctx.ring


# --- reporting (issue 13) -------------------------------------------------------------------

def fold_rollups(app) -> int:
    """Fold every recorded dose into the rollups, as the worker does: the doses counted."""
    from cowin_kit.reporting import rollups

    dep = app.extensions["cowin_kit"]
    with dep.db.Session() as s:
        return rollups.fold_all(s, dep.profile["reporting"]["age_bands"])


def served_health(instance, *extra_args, wait_seconds: float = 60) -> dict:
    """Start ``cowin-kit serve`` for ``instance`` on a free port, as an operator would, and
    return its first /healthz answer. The wait is long because a loaded CI machine can take
    well over 10 s to start a server; the server is always stopped."""
    import json
    import socket
    import subprocess
    import sys
    import time
    import urllib.request

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen([sys.executable, "-m", "cowin_kit", "serve", *extra_args,
                             "--instance", str(instance), "--port", str(port)],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        deadline = time.monotonic() + wait_seconds
        while time.monotonic() < deadline and proc.poll() is None:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as r:
                    return json.loads(r.read())
            except OSError:
                time.sleep(0.1)
        proc.terminate()
        pytest.fail(f"cowin-kit serve gave no /healthz answer:\n{proc.communicate(timeout=10)[0]}")
    finally:
        if proc.poll() is None:
            proc.terminate()
            proc.wait(timeout=10)


# --- /metrics ------------------------------------------------------------------------------

def samples(text: str) -> dict:
    """{(sample name, frozenset of labels): value} of an exposition."""
    from prometheus_client.parser import text_string_to_metric_families

    found = {}
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            found[s.name, frozenset(s.labels.items())] = s.value
    return found


def scrape(client, **request) -> dict:
    r = client.get("/metrics", **request)
    assert r.status_code == 200, r.get_data(as_text=True)
    assert r.headers["Content-Type"].startswith("text/plain; version=")
    return samples(r.get_data(as_text=True))


def value(found: dict, name: str, **labels) -> float:
    return found.get((name, frozenset(labels.items())), 0.0)


def requests_of(found, route, method="GET", status="2xx"):
    return value(found, "cowin_kit_http_requests_total", method=method, route=route,
                 status=status)




def calendar_by_pin_url(database, day) -> str:
    """The calendarByPin URL of the first centre's postal code on ``day``, where a session
    with places (7 of 50 booked) and one slot is added: an answer of about 1 kB."""
    import uuid

    from cowin_kit.programmes.models import Product
    from cowin_kit.scheduling.models import Facility, SessionCapacity, Slot, VaccinationSession

    with database.session() as s:
        facility = s.scalars(select(Facility).order_by(Facility.id)).first()
        product = s.scalar(select(Product).where(Product.code == "comirnaty"))
        vs = VaccinationSession(id=str(uuid.uuid4()), facility=facility, date=day,
                                product_id=product.id, min_age=18, max_age=None, fee=0)
        vs.capacities = [SessionCapacity(dose_number=1, capacity=50, booked=7)]
        vs.slots = [Slot(starts=dt.time(9), ends=dt.time(11))]
        s.add(vs)
        s.flush()
        pin = facility.postal_code
    return f"/api/v2/appointment/sessions/public/calendarByPin?pincode={pin}&date={day:%d-%m-%Y}"


# --- `cowin-kit web`, the production server, as a subprocess ------------------------------

COWIN_KIT = [str(Path(sys.executable).with_name("cowin-kit"))]  # installed beside this Python


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def web_env(instance: Path, **extra) -> dict:
    """The environment `cowin-kit web` runs in for the instance: a shared rate-limit store
    (several processes serve), no metrics folder of the test process."""
    env = {k: v for k, v in os.environ.items() if k != "PROMETHEUS_MULTIPROC_DIR"}
    env.update({"COWIN_KIT_INSTANCE": str(instance), "COWIN_KIT_RATE_LIMIT_STORAGE": "database",
                **extra})
    return env


class WebServer:
    """`cowin-kit web` started as an operator starts it, on a free port of 127.0.0.1, for the
    instance (2 processes by default); ``stop()`` sends SIGTERM and returns its output."""

    def __init__(self, instance: Path, workers: int = 2, options: tuple = (), **env):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.proc = subprocess.Popen(
            [*COWIN_KIT, "web", "--port", str(self.port), "--workers", str(workers),
             "--threads", "2", *options], env=web_env(instance, **env), stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT, text=True, start_new_session=True)
        end = time.monotonic() + 60
        while time.monotonic() < end:
            if self.proc.poll() is not None:
                raise AssertionError(self.proc.stdout.read())
            try:
                if requests.get(f"{self.url}/healthz", timeout=2).status_code == 200:
                    return
            except requests.ConnectionError:
                time.sleep(0.2)
        self.stop()
        raise AssertionError("cowin-kit web did not answer /healthz within 60 s")

    def stop(self) -> str:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        return self.proc.stdout.read()
