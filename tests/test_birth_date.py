"""The date of birth, which a programme counting age from it needs (Peru's routine SPR
series): entered on the portal's member forms and over the API, refused when impossible,
in the future or outside the year of birth, and asked for, with a link, when booking."""
import datetime as dt

import pytest
from babel.dates import format_date
from sqlalchemy import select

from cowin_kit.programmes.models import Product
from cowin_kit.registration.models import Beneficiary
from cowin_kit.scheduling.models import Appointment, SessionCapacity, VaccinationSession

from helpers import TODAY, add_member, api_register, csrf, reference, web_login

pytestmark = pytest.mark.usefixtures("english")

BORN = TODAY - dt.timedelta(days=600)  # about 20 months old: SPR dose 1 is due


@pytest.fixture
def citizen(client, cowin_kit_instance):
    return web_login(client, cowin_kit_instance)


def spr_session(database) -> tuple[str, str]:
    """A future demo session of the SPR vaccine with places for dose 1: (its id, its first
    slot as the portal writes it)."""
    with database.session() as s:
        vs = s.scalar(select(VaccinationSession).join(SessionCapacity).join(Product).where(
            Product.code == "spr", VaccinationSession.date > TODAY,
            SessionCapacity.dose_number == 1,
            SessionCapacity.capacity > SessionCapacity.booked)
            .order_by(VaccinationSession.date))
        slot = vs.slots[0]
        return vs.id, f"{slot.starts:%I:%M%p}-{slot.ends:%I:%M%p}"


def book(client, ref, session_id, slot):
    page = client.get(f"/portal/search?for={ref}").get_data(as_text=True)
    return client.post("/portal/book", data={"session_id": session_id, "slot": slot,
                                             "members": ref, "csrf_token": csrf(page),
                                             "back": "/portal/"})


def stored(database, ref):
    with database.session() as s:
        return s.scalar(select(Beneficiary.birth_date).where(Beneficiary.reference_id == ref))


def test_a_parent_books_a_childs_spr_dose(citizen, database):
    form = citizen.get("/portal/members/new").get_data(as_text=True)
    assert 'type="date"' in form and "count age in weeks or months" in form
    r = add_member(citizen, "79012345", name="Mateo Quispe", year=str(BORN.year),
                   born=BORN.isoformat())
    assert r.status_code == 302, r.get_data(as_text=True)
    ref = reference(database)
    assert stored(database, ref) == BORN
    edit = citizen.get(f"/portal/members/{ref}/edit").get_data(as_text=True)
    assert f'value="{BORN.isoformat()}"' in edit  # the stored date, shown to correct
    family = citizen.get("/portal/").get_data(as_text=True)
    assert f"Date of birth</dt><dd>{format_date(BORN, 'medium', locale='en')}" in family

    session_id, slot = spr_session(database)
    r = book(citizen, ref, session_id, slot)
    assert r.status_code == 302 and "/portal/appointments/" in r.headers["Location"], (
        citizen.get("/portal/").get_data(as_text=True))
    with database.session() as s:
        appt = s.scalar(select(Appointment))
        assert appt.session_id == session_id and appt.dose_number == 1


def test_booking_asks_for_the_date_and_links_to_where_it_is_added(citizen, database):
    add_member(citizen, "79012345", name="Luz <b>Quispe</b>", year=str(BORN.year))
    ref = reference(database)
    session_id, slot = spr_session(database)
    r = book(citizen, ref, session_id, slot)
    assert r.status_code == 302 and r.headers["Location"] == "/portal/"
    page = citizen.get("/portal/").get_data(as_text=True)
    assert "Enter Luz &lt;b&gt;Quispe&lt;/b&gt;&#39;s date of birth" in page  # escaped
    assert f'<a href="/portal/members/{ref}/edit">Add the date of birth of Luz' in page

    edit = citizen.get(f"/portal/members/{ref}/edit").get_data(as_text=True)
    r = citizen.post(f"/portal/members/{ref}/edit", data={
        "name": "Luz Quispe", "birth_year": str(BORN.year), "birth_date": BORN.isoformat(),
        "gender": "female", "csrf_token": csrf(edit)})
    assert r.status_code == 302, r.get_data(as_text=True)
    assert stored(database, ref) == BORN
    r = book(citizen, ref, session_id, slot)
    assert r.status_code == 302 and "/portal/appointments/" in r.headers["Location"]

    # Forgetting the date again would break the booked appointment: refused on the field.
    edit = citizen.get(f"/portal/members/{ref}/edit").get_data(as_text=True)
    r = citizen.post(f"/portal/members/{ref}/edit", data={
        "name": "Luz Quispe", "birth_year": str(BORN.year), "birth_date": "",
        "gender": "female", "csrf_token": csrf(edit)})
    assert r.status_code == 400 and 'id="birth_date-error"' in r.get_data(as_text=True)
    assert stored(database, ref) == BORN


def test_impossible_future_or_other_year_dates_are_refused_on_the_field(citizen, database):
    tomorrow = TODAY + dt.timedelta(days=1)
    cases = [("2020", "2020-02-30", "Enter a real date"),
             ("2020", "30-06-2020", "Enter a real date"),
             ("2020", "2019-06-30", "in the year of birth"),
             ("2020", "0001-01-01", "in the year of birth"),
             # the day after today: "in the future", or another year on 31 December
             (str(TODAY.year), tomorrow.isoformat(),
              "not in the future" if tomorrow.year == TODAY.year else "in the year of birth")]
    for year, born, message in cases:
        r = add_member(citizen, "79012345", year=year, born=born)
        page = r.get_data(as_text=True)
        assert r.status_code == 400, (born, page)
        error = page.split('id="birth_date-error"', 1)[1].split("</p>", 1)[0]
        assert message in error, (born, error)
    with database.session() as s:
        assert s.scalar(select(Beneficiary.id)) is None

    # On the edit form too; the stored date stays.
    add_member(citizen, "79012345", year=str(BORN.year), born=BORN.isoformat())
    ref = reference(database)
    edit = citizen.get(f"/portal/members/{ref}/edit").get_data(as_text=True)
    r = citizen.post(f"/portal/members/{ref}/edit", data={
        "name": "Ana Quispe", "birth_year": str(BORN.year), "birth_date": "2001-01-01",
        "gender": "female", "csrf_token": csrf(edit)})
    assert r.status_code == 400 and "in the year of birth" in r.get_data(as_text=True)
    assert stored(database, ref) == BORN


def test_the_api_takes_and_shows_the_date_of_birth(client, ana, other, dni_type):
    def register(number, **more):
        return client.post("/api/v2/registration/beneficiary/new", headers=ana, json={
            "name": "Mateo Quispe", "birth_year": "2020", "gender_id": 1,
            "photo_id_type": dni_type, "photo_id_number": number, **more})

    for bad, message in (("31-02-2020", "birth_date must be a date written DD-MM-YYYY"),
                         ("2020-06-15", "birth_date must be a date written DD-MM-YYYY"),
                         (20200615, "birth_date must be a date written DD-MM-YYYY"),
                         ("15-06-2019", "Enter a date of birth in the year of birth.")):
        r = register("79012345", birth_date=bad)
        assert r.status_code == 400 and message in r.get_json()["error"], (bad, r.get_json())
    future = TODAY + dt.timedelta(days=1)
    r = register("79012345", birth_year=str(future.year),
                 birth_date=future.strftime("%d-%m-%Y"))
    assert r.status_code == 400 and r.get_json()["error"] in (
        "Enter a date of birth that is not in the future.",
        f"Enter a year of birth between {TODAY.year - 120} and {TODAY.year}.")

    ref = register("79012345", birth_date="15-06-2020").get_json()["beneficiary_reference_id"]
    # Without it, as Co-WIN clients send: still registered, and no date listed.
    plain = api_register(client, ana, dni_type, "40123456").get_json()[
        "beneficiary_reference_id"]
    listed = {p["beneficiary_reference_id"]: p for p in client.get(
        "/api/v2/appointment/beneficiaries", headers=ana).get_json()["beneficiaries"]}
    assert listed[ref]["birth_date"] == "15-06-2020" and listed[ref]["birth_year"] == "2020"
    assert "birth_date" not in listed[plain]
    assert client.get("/api/v2/appointment/beneficiaries",
                      headers=other).get_json()["beneficiaries"] == []
    r = register("79012346", birth_date=None)  # null: as good as absent
    assert r.status_code == 200, r.get_json()
