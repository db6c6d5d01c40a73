"""A search answer built cold (issue 15, item 4): read as plain rows, it says exactly what
the ORM's fields say, and the API sends it byte for byte as Co-WIN's JSON, whatever the mix
of centres and sessions; concurrent misses of one answer build it once."""
import datetime as dt
import json
import threading
import time
import uuid
from decimal import Decimal

import pytest
from sqlalchemy import select

from cowin_kit.api.public import AnswerCache
from cowin_kit.geography.models import Division
from cowin_kit.programmes.models import Product
from cowin_kit.scheduling import search
from cowin_kit.scheduling.models import Facility, SessionCapacity, Slot, VaccinationSession

DAY = dt.date.today() + dt.timedelta(days=3)
API = "/api/v2/appointment/sessions/public"


def _session(facility, day, product, caps, slots, *, booked=None, min_age=18, max_age=None,
             fee=0, walk_in=True, cancelled=False):
    """A session as an import could leave it: slots in any order, any dose numbers."""
    booked = booked or {}
    vs = VaccinationSession(id=str(uuid.uuid4()), facility=facility, date=day,
                            product_id=product.id, min_age=min_age, max_age=max_age,
                            fee=Decimal(str(fee)), walk_in=walk_in)
    vs.capacities = [SessionCapacity(dose_number=n, capacity=c, booked=booked.get(n, 0))
                     for n, c in caps.items()]
    vs.slots = [Slot(starts=dt.time(*a), ends=dt.time(*b)) for a, b in slots]
    if cancelled:
        vs.cancelled_at = dt.datetime.now(dt.UTC)
        vs.cancel_reason = "rain"
    return vs


@pytest.fixture
def mix(database):
    """Centres of every kind in two distritos of Lima (province 1501): free and paid, named
    in other languages, with quotes, tabs and non-Latin letters, without a postal code or
    coordinates; sessions of two products on one day, boosters (doses 3 and 4), an age
    band, no walk-ins, slots stored out of order, a session without slots or places, a
    cancelled session and an inactive centre (both left out)."""
    with database.session() as s:
        products = {p.code: p for p in s.scalars(select(Product))}
        comirnaty, vaxzevria = products["comirnaty"], products["vaxzevria"]
        miraflores = s.scalar(select(Division).where(Division.code == "150122"))
        surco = s.scalar(select(Division).where(Division.code == "150140"))
        free = Facility(code="MIX-FREE", name="Posta \"San José\"\tNorte",
                        names={"en": "St Joseph's post", "ar": "مركز سان خوسيه",
                               "qu": "San José wasi"},
                        address="Av. Larco 1150, piso 2 — إلى اليمين", division_id=miraflores.id,
                        postal_code="15074", latitude=-12.1211, longitude=-77.0297,
                        fee_type="Free")
        paid = Facility(code="MIX-PAID", name="Clínica Surco", address="Jr. Las Flores\n200",
                        division_id=surco.id, postal_code=None, latitude=None, longitude=None,
                        fee_type="Paid")
        closed = Facility(code="MIX-CLOSED", name="Cerrado", division_id=surco.id,
                          postal_code="15039", fee_type="Free", is_active=False)
        bare = Facility(code="MIX-BARE", name="Local comunal", division_id=surco.id,
                        postal_code="15039", latitude=-12.15, longitude=-77.0, fee_type="Free")
        s.add_all([free, paid, closed, bare])
        s.flush()
        later = DAY + dt.timedelta(days=1)
        s.add_all([
            _session(free, DAY, comirnaty, {1: 50, 2: 30}, [((14,), (16,)), ((9,), (11,))],
                     booked={1: 7}),
            _session(free, DAY, vaxzevria, {2: 20, 1: 10}, [((9, 30), (12, 15))],
                     booked={2: 20}, min_age=45),
            _session(free, later, comirnaty, {1: 5}, [((8,), (9,)), ((18,), (20, 30))]),
            _session(paid, DAY, comirnaty, {3: 40, 4: 15, 1: 2},
                     [((13,), (15,)), ((11,), (13,)), ((9,), (11,))], booked={4: 3},
                     max_age=59, fee="120.50", walk_in=False),
            _session(paid, later, vaxzevria, {1: 8}, [((10,), (12,))], fee=80),
            _session(paid, later + dt.timedelta(days=1), comirnaty, {2: 9},
                     [((10,), (12,))], fee="120.50"),
            _session(bare, DAY, comirnaty, {}, []),
            _session(bare, later, comirnaty, {1: 10}, [((9,), (11,))], cancelled=True),
            _session(closed, DAY, comirnaty, {1: 10}, [((9,), (11,))]),
        ])
        s.commit()
        lima = s.scalar(select(Division).where(Division.code == "1501"))
        return {"lima": lima.id, "surco": surco.id,
                "ids": {f.code: f.id for f in (free, paid, closed, bare)}}


def _sessions_of(s, district_id, dates):
    """The area's sessions as ORM objects, in the answers' order (centre, day, product)."""
    return s.scalars(
        select(VaccinationSession).join(Facility)
        .where(Facility.division_id.in_(search.descendant_ids(s, district_id)),
               Facility.is_active.is_(True), VaccinationSession.date.in_(dates),
               VaccinationSession.cancelled_at.is_(None))
        .order_by(VaccinationSession.facility_id, VaccinationSession.date,
                  VaccinationSession.product_id)).all()


def expected_calendar(s, lang, district_id, start=DAY, days=7):
    """Co-WIN's calendar from the ORM's fields (search.centre_fields, session_fields):
    centres in id order, each with its sessions, the first one's hours, and for a paid
    centre its vaccines' fees in the order they first appear."""
    dates = [start + dt.timedelta(days=i) for i in range(days)]
    out = {}
    for vs in _sessions_of(s, district_id, dates):
        fields = search.session_fields(vs, s.get(Product, vs.product_id))
        entry = out.get(vs.facility_id)
        if entry is None:
            entry = out[vs.facility_id] = {**search.centre_fields(vs.facility, lang),
                                           "from": fields["from"], "to": fields["to"],
                                           "sessions": []}
        entry["sessions"].append(fields)
        if vs.facility.fee_type == "Paid":
            fees = entry.setdefault("vaccine_fees", [])
            if fields["vaccine"] not in [f["vaccine"] for f in fees]:
                fees.append({"vaccine": fields["vaccine"], "fee": fields["fee"]})
    return list(out.values())


def expected_sessions(s, lang, district_id, day):
    return [{**search.centre_fields(vs.facility, lang), "from": "", "to": "",
             **search.session_fields(vs, s.get(Product, vs.product_id))}
            for vs in _sessions_of(s, district_id, [day])]


def _cowin_bytes(key, items) -> bytes:
    """The API's body: Peru's postal codes are digits, so pincode is a JSON integer (0 for
    none); compact JSON, UTF-8, non-ASCII as it is."""
    items = [{**c, "pincode": int(c["pincode"]) if c["pincode"] else 0} for c in items]
    return json.dumps({key: items}, ensure_ascii=False, separators=(",", ":")).encode()


@pytest.mark.parametrize("lang", ["es", "en", "ar"])
def test_the_calendar_is_what_the_orm_fields_say(database, mix, lang):
    with database.Session() as s:
        found = search.calendar(s, lang, DAY, district_id=mix["lima"])
        assert found == expected_calendar(s, lang, mix["lima"])
    mine = {c["center_id"]: c for c in found if c["center_id"] in mix["ids"].values()}
    ids = mix["ids"]
    assert set(mine) == {ids["MIX-FREE"], ids["MIX-PAID"], ids["MIX-BARE"]}  # not the closed
    free, paid, bare = mine[ids["MIX-FREE"]], mine[ids["MIX-PAID"]], mine[ids["MIX-BARE"]]
    assert free["name_l"] == {"es": free["name"], "en": "St Joseph's post",
                              "ar": "مركز سان خوسيه"}[lang]
    assert [x["slots"] for x in free["sessions"]][0] == ["09:00AM-11:00AM", "02:00PM-04:00PM"]
    assert (free["from"], free["to"]) == ("09:00:00", "16:00:00")
    booster = paid["sessions"][0]
    assert (booster["available_capacity"], booster["available_capacity_dose3"],
            booster["available_capacity_dose4"]) == (2 + 40 + 12, 40, 12)
    assert list(booster)[5:7] == ["available_capacity_dose3", "available_capacity_dose4"]
    assert (booster["fee"], booster["walkin_ind"], booster["max_age_limit"]) == \
        ("120.50", "N", 59)
    assert paid["vaccine_fees"] == [{"vaccine": booster["vaccine"], "fee": "120.50"},
                                    {"vaccine": paid["sessions"][1]["vaccine"], "fee": "80"}]
    assert [x["date"] for x in bare["sessions"]] == [f"{DAY:%d-%m-%Y}"]  # not the cancelled
    assert (bare["from"], bare["to"], bare["sessions"][0]["slots"],
            bare["sessions"][0]["available_capacity"]) == ("", "", [], 0)


def test_find_sessions_is_what_the_orm_fields_say(database, mix):
    with database.Session() as s:
        for day in (DAY, DAY + dt.timedelta(days=1)):
            found = search.find_sessions(s, "en", day, district_id=mix["lima"])
            assert found == expected_sessions(s, "en", mix["lima"], day) and found


@pytest.mark.parametrize("lang", ["es", "en"])  # languages the PE deployment offers
def test_the_api_sends_those_fields_byte_for_byte(client, database, mix, lang):
    headers = {"Accept-Language": lang}
    calendar = client.get(f"{API}/calendarByDistrict?district_id={mix['lima']}"
                          f"&date={DAY:%d-%m-%Y}", headers=headers)
    flat = client.get(f"{API}/findByDistrict?district_id={mix['lima']}&date={DAY:%d-%m-%Y}",
                      headers=headers)
    block = client.get(f"{API}/calendarByDistrict?district_id={mix['lima']}"
                       f"&block_id={mix['surco']}&date={DAY:%d-%m-%Y}", headers=headers)
    with database.Session() as s:
        assert calendar.get_data() == _cowin_bytes("centers", expected_calendar(
            s, lang, mix["lima"]))
        assert flat.get_data() == _cowin_bytes("sessions", expected_sessions(
            s, lang, mix["lima"], DAY))
        assert block.get_data() == _cowin_bytes("centers", expected_calendar(
            s, lang, mix["surco"]))
    assert b'"pincode":0' in block.get_data() and b'"lat":null' in block.get_data()
    assert '"name":"Posta \\"San José\\"\\tNorte"'.encode() in calendar.get_data()


# --- one build for concurrent misses ----------------------------------------------------------

def _race(cache, key, build, n):
    """``n`` threads asking ``cache`` for ``key`` at once; their answers (or errors)."""
    results, start = [None] * n, threading.Barrier(n)

    def ask(i):
        start.wait()
        try:
            results[i] = cache.entry(key, build)
        except Exception as exc:  # noqa: BLE001 - the test looks at what each thread got
            results[i] = exc
    threads = [threading.Thread(target=ask, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert not any(t.is_alive() for t in threads), "a thread still waits"
    return results


def test_concurrent_misses_of_one_answer_build_it_once():
    cache, calls, release = AnswerCache(ttl=60), [], threading.Event()

    def build():
        calls.append(1)
        release.wait(5)  # slow enough for every other thread to miss too
        return {"centers": [{"center_id": len(calls)}]}
    threading.Timer(0.3, release.set).start()
    results = _race(cache, ("calendar", 1), build, 8)
    assert calls == [1]
    assert {r[1] for r in results} == {b'{"centers":[{"center_id":1}]}'}
    assert len({r[2] for r in results}) == 1  # one ETag


def test_misses_of_different_answers_build_at_the_same_time():
    cache, inside, both = AnswerCache(ttl=60), [], threading.Barrier(2, timeout=5)

    def build():
        inside.append(1)
        both.wait()  # raises BrokenBarrierError if the other build is held back
        return {"n": len(inside)}
    results = [None, None]
    threads = [threading.Thread(target=lambda i=i: results.__setitem__(
        i, cache.entry(("calendar", i), build))) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    assert len(inside) == 2 and all(results)


def test_a_failed_build_is_no_answer_and_the_next_miss_builds_again():
    cache, calls, release = AnswerCache(ttl=60), [], threading.Event()

    def failing():
        calls.append(1)
        release.wait(5)
        raise LookupError("no district 999")
    threading.Timer(0.3, release.set).start()
    results = _race(cache, ("calendar", 999), failing, 4)
    assert calls == [1]  # the waiters got its error (a 404 is every request's 404)
    assert all(isinstance(r, LookupError) for r in results), results
    assert cache.entry(("calendar", 999), lambda: {"ok": 1})[1] == b'{"ok":1}'


def test_without_a_lifetime_every_request_builds_its_own():
    cache, calls = AnswerCache(ttl=0), []
    for _ in range(2):
        cache.entry(("calendar", 1), lambda: calls.append(1) or {"n": len(calls)})
    assert calls == [1, 1]


def test_concurrent_requests_for_one_district_read_it_once(app, database, mix, monkeypatch):
    """Through the API: six visitors asking for the same district and day at once while its
    answer is being built get one build's bytes."""
    real, calls = search.calendar, []

    def slow_calendar(*args, **kwargs):
        calls.append(1)
        time.sleep(0.5)  # every other request arrives while this one builds
        return real(*args, **kwargs)
    monkeypatch.setattr(search, "calendar", slow_calendar)
    url = f"{API}/calendarByDistrict?district_id={mix['lima']}&date={DAY:%d-%m-%Y}"
    bodies, start = [None] * 6, threading.Barrier(6)

    def visit(i):
        start.wait()
        r = app.test_client().get(url, headers={"Accept-Language": "en"})
        bodies[i] = (r.status_code, r.get_data())
    threads = [threading.Thread(target=visit, args=(i,)) for i in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert calls == [1]
    assert {b[0] for b in bodies} == {200} and len({b[1] for b in bodies}) == 1
    with database.Session() as s:
        assert bodies[0][1] == _cowin_bytes("centers", expected_calendar(s, "en", mix["lima"]))
