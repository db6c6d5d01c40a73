"""`cowin-kit sessions import FILE.csv`: validated whole-file-first, idempotent."""
import datetime as dt
import os

import pytest
from sqlalchemy import select

from cowin_kit.accounts.models import CitizenAccount
from cowin_kit.cli.sessions_cmd import sessions
from cowin_kit.registration.models import Beneficiary
from cowin_kit.scheduling.booking import schedule
from cowin_kit.scheduling.models import VaccinationSession

from helpers import TODAY

HEADER = ("facility_code,date,vaccine,min_age,max_age,capacity_dose1,capacity_dose2,"
          "capacity_dose3,slots,fee\n")


def _day(offset):
    # Weeks ahead: `init --demo` already filled the coming week with demo sessions.
    today = TODAY
    ahead = 30 if offset >= 0 else 0  # past dates stay in the past
    return (today + dt.timedelta(days=ahead + offset)).strftime("%d-%m-%Y")


@pytest.fixture
def run_import(cli_runner, cowin_kit_instance, monkeypatch, tmp_path):
    for key in list(os.environ):
        if key.startswith("COWIN_KIT_") and key != "COWIN_KIT_TEST_DATABASE_URL":
            monkeypatch.delenv(key)

    def run(text, name="sessions.csv"):
        path = tmp_path / name
        path.write_text(text, encoding="utf-8")
        return cli_runner.invoke(sessions, ["import", str(path), "--instance",
                                            str(cowin_kit_instance)])
    return run


def _good():
    return (HEADER
            + f"DEMO-PE-0001,{_day(1)},comirnaty,12,,50,30,20,09:00-11:00;11:00-13:00,0\n"
            + f"DEMO-PE-0002,{_day(2)},bbibp-corv,18,44,100,,,08:00-12:00,\n")


def _sessions(database):
    with database.Session() as s:
        return {(v.facility.code, v.date.strftime("%d-%m-%Y")): (
                    {c.dose_number: (c.capacity, c.booked) for c in v.capacities},
                    [(x.starts.strftime("%H:%M"), x.ends.strftime("%H:%M")) for x in v.slots],
                    v.min_age, v.max_age)
                for v in s.scalars(select(VaccinationSession).where(
                    VaccinationSession.date >= TODAY + dt.timedelta(days=20)))}


def test_import_a_good_file(run_import, database):
    result = run_import(_good())
    assert result.exit_code == 0, result.output
    assert "2 session(s) created, 0 updated" in result.output
    got = _sessions(database)
    assert got[("DEMO-PE-0001", _day(1))] == (
        {1: (50, 0), 2: (30, 0), 3: (20, 0)}, [("09:00", "11:00"), ("11:00", "13:00")], 12, None)
    assert got[("DEMO-PE-0002", _day(2))] == ({1: (100, 0)}, [("08:00", "12:00")], 18, 44)


@pytest.fixture
def beneficiaries(app, database):
    from cowin_kit.registration.service import IdContext, register_beneficiary

    dep = app.extensions["cowin_kit"]
    ctx = IdContext.from_settings(dict(dep.id_providers), dep.settings)
    with database.Session() as s:
        for i, number in enumerate(("30000001", "30000002")):
            register_beneficiary(s, ctx, document_code="dni", id_number=number,
                                 name=f"Person {i}", birth_year=1995, gender="male")
        s.commit()


@pytest.mark.usefixtures("beneficiaries")
def test_importing_twice_updates_and_never_goes_below_booked(run_import, database):
    assert run_import(_good()).exit_code == 0
    again = run_import(_good())
    assert again.exit_code == 0, again.output
    assert "0 session(s) created, 2 updated" in again.output
    assert len(_sessions(database)) == 2

    # Book two places, then try to lower the capacity below them.
    with database.Session() as s:
        acc = CitizenAccount(mobile="+51987000111")
        s.add(acc)
        s.flush()
        people = s.scalars(select(Beneficiary).limit(2)).all()
        vs = s.scalar(select(VaccinationSession).where(
            VaccinationSession.min_age == 18,
            VaccinationSession.date >= TODAY + dt.timedelta(days=20)))  # imported
        for p in people:
            p.account_id = acc.id
        schedule(s, account_id=acc.id, beneficiary_ids=[p.id for p in people],
                 session_id=vs.id, slot="08:00", dose=1,
                 today=TODAY)
        s.commit()
    lowered = _good().replace(",100,", ",1,")
    refused = run_import(lowered)
    assert refused.exit_code == 2
    assert "sessions.csv:3: capacity_dose1 1 is below the 2 place(s) already booked" in \
        refused.output
    raised = run_import(_good().replace(",100,", ",2,").replace("08:00-12:00",
                                                                "08:00-12:00;13:00-15:00"))
    assert raised.exit_code == 0, raised.output
    got = _sessions(database)[("DEMO-PE-0002", _day(2))]
    assert got[0] == {1: (2, 2)} and got[1] == [("08:00", "12:00"), ("13:00", "15:00")]


def test_bad_lines_are_all_reported_and_nothing_is_written(run_import, database):
    bad = (HEADER
           + f"DEMO-PE-0001,{_day(1)},comirnaty,12,,50,30,20,09:00-11:00,0\n"       # fine
           + f"NOPE,{_day(1)},comirnaty,12,,50,,,09:00-11:00,\n"                     # 3
           + "DEMO-PE-0001,31-02-2030,comirnaty,12,,50,,,09:00-11:00,\n"            # 4
           + f"DEMO-PE-0001,{_day(-1)},comirnaty,12,,50,,,09:00-11:00,\n"            # 5
           + f"DEMO-PE-0001,{_day(1)},sputnik,12,,50,,,09:00-11:00,\n"               # 6
           + f"DEMO-PE-0001,{_day(2)},comirnaty,twelve,,50,,,09:00-11:00,\n"         # 7
           + f"DEMO-PE-0001,{_day(2)},comirnaty,12,,50,,,9-11,\n"                    # 8
           + f"DEMO-PE-0001,{_day(2)},comirnaty,12,,50,,,11:00-09:00,\n"             # 9
           + f"DEMO-PE-0001,{_day(2)},comirnaty,12,,50,,,09:00-11:00,25\n"           # 10
           + f"DEMO-PE-0001,{_day(1)},comirnaty,12,,50,30,20,09:00-11:00,0\n"        # 11
           + f"DEMO-PE-0001,{_day(3)},comirnaty,30,20,50,,,09:00-11:00,\n"           # 12
           + f"DEMO-PE-0001,{_day(3)},bbibp-corv,18,,-5,,,09:00-11:00,\n")           # 13
    result = run_import(bad)
    assert result.exit_code == 2
    out = result.output
    assert "nothing was imported" in out
    for line, words in [(3, "unknown facility_code 'NOPE'"), (4, "not a DD-MM-YYYY date"),
                        (5, "in the past"), (6, "unknown vaccine 'sputnik'"),
                        (7, "min_age 'twelve'"), (8, "not like 09:00-11:00"),
                        (9, "end after it starts"), (10, "free centre"),
                        (11, "the same session as line 2"), (12, "maximum age"),
                        (13, "capacity_dose1 '-5'")]:
        assert f"sessions.csv:{line}: " in out and words in out, (line, words, out)
    assert "sessions.csv:2:" not in out
    assert _sessions(database) == {}


def test_missing_columns_and_empty_files(run_import, database):
    result = run_import("facility_code,date\nDEMO-PE-0001,01-01-2040\n")
    assert result.exit_code == 2 and "missing column(s)" in result.output
    result = run_import(HEADER)
    assert result.exit_code == 2 and "no data rows" in result.output
    result = run_import(HEADER.replace("capacity_dose3", "capacity_doseX")
                        + f"DEMO-PE-0001,{_day(1)},comirnaty,12,,50,30,20,09:00-11:00,0\n")
    assert result.exit_code == 2 and "capacity_dose<N>" in result.output
    assert _sessions(database) == {}


def test_a_capacity_for_a_dose_the_vaccine_lacks(run_import):
    result = run_import(HEADER.replace("fee\n", "fee,capacity_dose4\n")
                        + f"DEMO-PE-0001,{_day(1)},comirnaty,12,,50,,,09:00-11:00,0,10\n")
    assert result.exit_code == 2 and "has no dose 4" in result.output
