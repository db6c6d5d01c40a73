"""Several time zones in one country (issue 16, item 2): a division carries its own zone
([divisions.timezones]), its children and centres inherit it, and a centre's "today", slot
ends and no-shows follow it. Canada: the deployment is on Toronto's time; at 23:30 in
Toronto it is already tomorrow in Halifax and still this evening in Vancouver."""
import datetime as dt
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from cowin_kit.geography.models import Division
from cowin_kit.profiles import ProfileError, load_profile, load_profile_file

from helpers import STAFF_PASSWORD, api_login, csrf, staff_login

ROOT = Path(__file__).parents[1]

TORONTO = ZoneInfo("America/Toronto")
DAY = dt.date(2031, 3, 3)  # standard time everywhere: Halifax -4, Toronto -5, Vancouver -8


@pytest.fixture
def cowin_kit_country():
    return "CA"


def _centre(database, code, division_code):
    from cowin_kit.scheduling.models import Facility

    with database.Session() as s:
        division = s.scalar(select(Division).where(Division.code == division_code))
        centre = Facility(code=code, name=code, names={}, division_id=division.id)
        s.add(centre)
        s.commit()
        return centre.id


def _session(database, code, day, ends=dt.time(23, 59), quota=2):
    from cowin_kit.programmes.models import Product
    from cowin_kit.scheduling.models import Facility
    from cowin_kit.scheduling.sessions import create_session

    with database.Session() as s:
        centre = s.scalar(select(Facility).where(Facility.code == code))
        product = s.scalar(select(Product).where(Product.code == "comirnaty"))
        vs = create_session(s, centre, day, product, 18, None, {1: 5}, [(dt.time(0), ends)],
                            walk_in_quota=quota)
        s.commit()
        return vs.id


@pytest.fixture
def centres(database):
    """A centre in Vancouver (BC) and one in Halifax (NS), with sessions on DAY and DAY+1."""
    ids = {"BC": _centre(database, "TZ-BC", "CA-BC"), "NS": _centre(database, "TZ-NS", "CA-NS")}
    sessions = {(p, d): _session(database, f"TZ-{p}", d)
                for p in ("BC", "NS") for d in (DAY, DAY + dt.timedelta(days=1))}
    return ids, sessions


def test_init_copies_the_profiles_zones_and_centres_inherit_them(app, database):
    from cowin_kit.geography.service import zone_of

    with database.Session() as s:
        zones = dict(s.execute(select(Division.code, Division.timezone)
                               .where(Division.level == 1)).all())
        assert zones["CA-BC"] == "America/Vancouver" and zones["CA-NS"] == "America/Halifax"
        assert zones["CA-NU"] == "America/Iqaluit" and len(zones) == 13
        bc = s.scalar(select(Division).where(Division.code == "CA-BC"))
        child = Division(code="CA-BC-TEST", level=2, parent_id=bc.id, name="A health area")
        s.add(child)
        s.flush()
        cache: dict = {}
        assert zone_of(s, child.id, "America/Toronto", cache=cache) == "America/Vancouver"
        assert cache[child.id] == cache[bc.id] == "America/Vancouver"
        assert zone_of(s, None, "America/Toronto") == "America/Toronto"


def _person(app, database, mobile, passport, account_id=None, name="Jo Tremblay"):
    """A person registered with a passport under ``mobile`` (a new account), or in the
    account ``account_id``: (account id, person)."""
    from cowin_kit.accounts.models import CitizenAccount
    from cowin_kit.registration import service as registration

    dep = app.extensions["cowin_kit"]
    with database.Session() as s:
        if account_id is None:
            account = CitizenAccount(mobile=mobile)
            s.add(account)
            s.flush()
            account_id = account.id
        ctx = registration.IdContext.from_settings(dep.id_providers, dep.settings)
        person = registration.register_beneficiary(
            s, ctx, document_code="passport", id_number=passport, name=name,
            birth_year=1980, birth_date=dt.date(1980, 5, 5), gender="female",
            account_id=account_id, current_year=DAY.year)
        s.commit()
        return account_id, person


def _booked_on_day(app, database, sessions, people) -> dict:
    """Each (province, mobile, passport) of ``people`` a new account's person booked into
    that province's session on DAY: {province: appointment id}."""
    from cowin_kit.scheduling import booking

    booked = {}
    for p, mobile, passport in people:
        account_id, person = _person(app, database, mobile, passport)
        with database.Session() as s:
            [appt] = booking.schedule(s, account_id=account_id, beneficiary_ids=[person.id],
                                      session_id=sessions[(p, DAY)], slot="00:00", dose=1,
                                      today=DAY)
            s.commit()
            booked[p] = appt.id
    return booked


@pytest.mark.usefixtures("english")
@pytest.mark.parametrize("province,later", [("BC", 0), ("NS", 1)])
def test_a_walk_in_joins_the_session_of_the_day_at_the_centre(
        client, database, centres, cowin_kit_clock, province, later):
    """23:30 in Toronto: a Vancouver centre's walk-ins join today's session (20:30 there),
    a Halifax centre's join tomorrow's (00:30 there)."""
    from helpers import facility_user_at

    _ids, sessions = centres
    cowin_kit_clock.set(dt.datetime.combine(DAY, dt.time(23, 30), TORONTO))
    day, number = DAY + dt.timedelta(days=later), f"{province}1234567"
    if True:
        email = f"vax-{province.lower()}@example.org"
        facility_user_at(database, email, "vaccinator", f"TZ-{province}")
        assert staff_login(client, email, STAFF_PASSWORD).status_code == 302
        page = client.get("/staff/walk-in").get_data(as_text=True)
        r = client.post("/staff/walk-in", data={"id_type": "passport", "id_number": number,
                                                "csrf_token": csrf(page)})
        r = client.post("/staff/walk-in/register", data={
            "id_type": "passport", "id_number": number, "name": "Jo Tremblay",
            "birth_year": "1970", "birth_date": "1970-05-05", "gender": "female", "language": "en",
            "mobile": "", "csrf_token": csrf(r.get_data(as_text=True))})
        assert r.status_code == 302, r.get_data(as_text=True)
        page = client.get("/staff/walk-in/book").get_data(as_text=True)
        other = sessions[(province, DAY + dt.timedelta(days=1) if day == DAY else DAY)]
        assert sessions[(province, day)] in page and other not in page
        r = client.post("/staff/walk-in/book", data={"session_id": other,
                                                     "csrf_token": csrf(page)})
        assert r.status_code == 400  # not the centre's day
        r = client.post("/staff/walk-in/book", data={"session_id": sessions[(province, day)],
                                                     "csrf_token": csrf(page)})
        assert r.status_code == 302, r.get_data(as_text=True)[-3000:]
        assert "/staff/today/appointments/" in r.headers["Location"]
        # ... and the dose is recorded on the centre's day
        page = client.get(r.headers["Location"])
        assert page.status_code == 200, page.get_data(as_text=True)


def test_a_slot_that_ended_in_halifax_but_not_in_vancouver(app, database, centres,
                                                           cowin_kit_clock):
    """22:30 in Toronto: 23:30 in Halifax (a slot ending 23:00 has ended), 19:30 in
    Vancouver (it has not)."""
    from cowin_kit.portal.search_views import _centre_clocks, _open_slots
    from cowin_kit.runtime import deployment
    from cowin_kit.scheduling import booking

    ids, _ = centres
    late = {p: _session(database, f"TZ-{p}", DAY + dt.timedelta(days=2), ends=dt.time(23))
            for p in ("BC", "NS")}
    cowin_kit_clock.set(dt.datetime.combine(DAY + dt.timedelta(days=2), dt.time(22, 30),
                                            TORONTO))
    with app.test_request_context():
        dep = deployment()
        today, now = dep.today(), dep.now().time()
        found = [{"center_id": ids[p], "sessions": [{"session_id": late[p]}]}
                 for p in ("BC", "NS")]
        clocks = _centre_clocks(found, today, now)
        slot = {"date": (DAY + dt.timedelta(days=2)).strftime("%d-%m-%Y"),
                "slots": ["12:00AM-11:00PM"]}
        assert _open_slots({**slot, "session_id": late["BC"]}, *clocks[late["BC"]])
        assert not _open_slots({**slot, "session_id": late["NS"]}, *clocks[late["NS"]])
        # the deployment's own clock (Toronto, 22:30) would show both
        assert _open_slots(slot, today, now)
    account_id, person = _person(app, database, "+14165550101", "K1234567")
    person_id = person.id
    with app.test_request_context(), database.Session() as s:
        zone_of = deployment().zone_resolver(s)
        with pytest.raises(booking.BookingError, match="already ended"):
            booking.schedule(s, account_id=account_id, beneficiary_ids=[person_id],
                             session_id=late["NS"], slot="00:00", dose=1, today=today,
                             now=now, zone_of=zone_of)
        s.rollback()
        made = booking.schedule(s, account_id=account_id, beneficiary_ids=[person_id],
                                session_id=late["BC"], slot="00:00", dose=1, today=today,
                                now=now, zone_of=zone_of)
        assert len(made) == 1


def test_the_days_no_shows_close_in_the_centres_zone(app, database, centres, cowin_kit_clock):
    """Closing every day before today at 23:30 Toronto: Halifax's DAY is over (00:30 there),
    Vancouver's is not (20:30)."""
    from cowin_kit.geography.service import zone_of
    from cowin_kit.scheduling.models import Appointment, AppointmentStatus
    from cowin_kit.vaccination.noshows import close_day

    _ids, sessions = centres
    booked = _booked_on_day(app, database, sessions, (("BC", "+14165550102", "K1234568"),
                                                      ("NS", "+14165550103", "K1234569")))
    cowin_kit_clock.set(dt.datetime.combine(DAY, dt.time(23, 30), TORONTO))
    from cowin_kit import clock

    with database.Session() as s:
        cache: dict = {}
        count = close_day(s, "test", today=DAY + dt.timedelta(days=1),
                          today_at=lambda d: clock.today(
                              zone_of(s, d, "America/Toronto", cache=cache)))
        s.commit()
        assert count == 1
        status = {p: s.get(Appointment, a).status for p, a in booked.items()}
    assert status == {"BC": AppointmentStatus.BOOKED, "NS": AppointmentStatus.MISSED}


def test_a_one_zone_profile_asks_nothing_more(tmp_path):
    profile = load_profile("PE")
    assert profile["divisions"]["timezones"] == {}


def _ca_with(tmp_path, line):
    text = (ROOT / "country_profiles" / "CA" / "profile.toml").read_text(encoding="utf-8")
    text = text.replace('"CA-BC" = "America/Vancouver"', line)
    folder = tmp_path / "CA"
    folder.mkdir()
    (folder / "profile.toml").write_text(text, encoding="utf-8")
    return folder / "profile.toml"


@pytest.mark.parametrize("line,reason", [
    ('"CA-BC" = "America/Vancover"', "CA-BC: 'America/Vancover' is not an IANA time zone"),
    ('"CA-XX" = "America/Vancouver"', "CA-XX is not a level-1 division"),
])
def test_a_bad_zone_is_refused_naming_the_division_and_the_fix(tmp_path, line, reason):
    with pytest.raises(ProfileError) as info:
        load_profile_file(_ca_with(tmp_path, line))
    assert "divisions.timezones" in str(info.value) and reason in str(info.value)


def test_the_zone_column_downgrades_and_comes_back(app, database):
    import sqlalchemy as sa

    from cowin_kit import migrate
    from cowin_kit.geography.service import load_profile_divisions

    app.extensions["cowin_kit"].dispose()
    migrate.downgrade(database, "0022_search")
    with database.engine.connect() as conn:
        assert "timezone" not in {c["name"] for c in sa.inspect(conn).get_columns("division")}
        assert conn.execute(sa.text("SELECT count(*) FROM division")).scalar_one() >= 13
    migrate.upgrade(database)
    with database.Session() as s:
        assert s.scalar(select(Division.timezone).where(Division.code == "CA-BC")) is None
        load_profile_divisions(s, load_profile("CA"))  # what init --update does
        s.commit()
        assert s.scalar(select(Division.timezone).where(Division.code == "CA-BC")) == \
            "America/Vancouver"


def test_close_day_from_the_command_line_follows_each_centres_zone(
        app, database, centres, cowin_kit_clock, run_cli, cowin_kit_instance):
    """The nightly `sessions close-day` at 23:30 in Toronto: Halifax's DAY is over, so its
    booking becomes a no-show; Vancouver's day has three hours to go."""
    from cowin_kit.scheduling.models import Appointment, AppointmentStatus

    _ids, sessions = centres
    booked = _booked_on_day(app, database, sessions, (("BC", "+14165550104", "K1234570"),
                                                      ("NS", "+14165550105", "K1234571")))
    cowin_kit_clock.set(dt.datetime.combine(DAY, dt.time(23, 30), TORONTO))
    r = run_cli("sessions", "close-day", "--instance", cowin_kit_instance)
    assert r.exit_code == 0 and "1 appointment(s)" in r.output, r.output
    with database.Session() as s:
        status = {p: s.get(Appointment, a).status for p, a in booked.items()}
    assert status == {"BC": AppointmentStatus.BOOKED, "NS": AppointmentStatus.MISSED}


def test_the_api_books_by_the_centres_clock(app, client, database, centres, cowin_kit_clock,
                                            cowin_kit_instance):
    """The same evening through the API: on PostgreSQL plain bookings are served before
    Flask (cowin_kit.api.fast_booking), which must read each centre's clock as the view
    does: Vancouver's slot is open, Halifax's has ended."""
    from cowin_kit.api.fast_booking import FastBooking

    day = DAY + dt.timedelta(days=2)
    late = {p: _session(database, f"TZ-{p}", day, ends=dt.time(23)) for p in ("BC", "NS")}
    cowin_kit_clock.set(dt.datetime.combine(day, dt.time(22, 30), TORONTO))
    account_id, _ = _person(app, database, "+14165550101", "K1234567")
    refs = [_person(app, database, None, number, account_id, name)[1].reference_id
            for number, name in (("K1234568", "Al Roy"), ("K1234569", "Bo Roy"))]
    auth = api_login(client, cowin_kit_instance, "4165550101")
    fast = app.extensions[FastBooking.EXTENSION]

    def book(province, ref):
        return client.post("/api/v2/appointment/schedule", headers=auth, json={
            "dose": 1, "session_id": late[province], "slot": "00:00",
            "beneficiaries": [ref]})

    first_ref = client.get("/api/v2/appointment/beneficiaries", headers=auth).get_json()[
        "beneficiaries"]
    first_ref = next(p["beneficiary_reference_id"] for p in first_ref
                     if p["beneficiary_reference_id"] not in refs)
    assert book("BC", first_ref).status_code == 200  # Flask's answer: the one it learns
    served = fast.served
    r = book("NS", refs[0])
    assert r.status_code == 400 and "already ended" in r.get_json()["error"]
    assert book("BC", refs[0]).status_code == 200
    assert book("BC", refs[1]).status_code == 200
    assert fast.served == served + (0 if database.is_sqlite else 2)
