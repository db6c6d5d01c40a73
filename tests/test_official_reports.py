"""Officials' reports (cowin_kit.reporting.official, .exports, the staff pages and the
CLI): the numbers against sessions, appointments, doses and adverse events made here; the
scope of each role; 403 outside the area, audited; bad input; CSV exports with progress."""
from __future__ import annotations

import csv
import datetime as dt
import io

import pytest
from sqlalchemy import select

from cowin_kit.accounts.models import StaffUser
from cowin_kit.geography.models import Division
from cowin_kit.profiles import load_profile
from cowin_kit.programmes.models import Product
from cowin_kit.reporting import exports, official, queries
from cowin_kit.reporting.export_models import ReportExport
from cowin_kit.scheduling.models import Appointment, Facility, VaccinationSession
from cowin_kit.scheduling.search import descendant_ids
from cowin_kit.vaccination.aefi_models import AefiReport
from cowin_kit.vaccination.noshows import close_day
from cowin_kit.vaccination.service import record_dose

from helpers import (
    STAFF_PASSWORD,
    TODAY,
    audit_rows,
    booked_person,
    csrf,
    fold_rollups,
    make_facility_user,
    make_user,
    new_person,
    new_session,
    staff_login,
)

DAY = TODAY - dt.timedelta(days=40)  # before the demo's sessions: only this test's figures
ISO = DAY.isoformat()


@pytest.fixture
def profile():
    return load_profile("PE")


def _id(s, model, code):
    return s.scalar(select(model.id).where(model.code == code))


def _aefi(s, dose, seriousness, symptoms, division_code, staff_id):
    s.add(AefiReport(
        beneficiary_id=dose.beneficiary_id, dose_id=dose.id, reporter_kind="vaccinator",
        reported_by_staff=staff_id, seriousness=seriousness,
        serious_criteria=["hospitalisation"] if seriousness == "serious" else [],
        symptoms=symptoms, onset_on=DAY, outcome="recovered",
        division_id=_id(s, Division, division_code), status="reported", reported_on=DAY))


@pytest.fixture
def drive(app, database):
    """On DAY: a session at DEMO-PE-0001 (Lima) with 10 places and 2 walk-in places, three
    people booked (two vaccinated, one no-show) and one walk-in vaccinated; a cancelled
    session at DEMO-PE-0002; a session with 5 places at DEMO-PE-0011 (Callao) where one
    person had a serious adverse event; a first dose at DEMO-PE-0016 (Arequipa).
    Populations: Lima 1,000, Callao 5,000, Arequipa 400, Cusco unknown."""
    lima = new_session(database, "DEMO-PE-0001", DAY, capacity=10, walk_in_quota=2)
    cancelled = new_session(database, "DEMO-PE-0002", DAY, capacity=7)
    new_session(database, "DEMO-PE-0011", DAY, capacity=5)
    booked = [booked_person(app, database, lima, mobile=f"+5198700011{i}", today=DAY)
              for i in range(3)]
    with database.Session() as s:
        product = s.scalar(select(Product).where(Product.code == "comirnaty"))
        staff_id = s.scalar(select(StaffUser.id).order_by(StaffUser.id))
        at = {code: _id(s, Facility, code) for code in
              ("DEMO-PE-0001", "DEMO-PE-0011", "DEMO-PE-0016")}

        def dose(person_id, code):
            return record_dose(s, beneficiary_id=person_id, product=product, dose_number=1,
                               given_on=DAY, facility_id=at[code])
        doses = [dose(booked[i][1], "DEMO-PE-0001") for i in (0, 1)]
        for i in (0, 1):
            s.get(Appointment, booked[i][2]).status = "done"
        s.get(VaccinationSession, lima).walk_ins = 1
        doses.append(dose(new_person(s, "Walk-in").id, "DEMO-PE-0001"))
        callao = dose(new_person(s, "Callao").id, "DEMO-PE-0011")
        dose(new_person(s, "Arequipa").id, "DEMO-PE-0016")
        s.get(VaccinationSession, cancelled).cancelled_at = dt.datetime.now(dt.UTC)
        _aefi(s, doses[0], "minor", ["fever", "headache"], "150101", staff_id)
        _aefi(s, doses[1], "minor", ["fever"], "150101", staff_id)
        _aefi(s, callao, "serious", ["anaphylaxis"], "070101", staff_id)
        for code, people in (("1501", 1000), ("0701", 5000), ("0401", 400)):
            s.get(Division, _id(s, Division, code)).population = people
        s.commit()
        assert close_day(s, "test", today=TODAY, day=DAY) == 1
        s.commit()
    fold_rollups(app)
    with database.Session() as s:  # recorded after the fold: counted live
        dose(new_person(s, "Late").id, "DEMO-PE-0001")
        s.commit()
    return lima


def _scope(s, profile, **kwargs):
    return official.scope_for(s, profile, "en", **kwargs)


# --- the services ----------------------------------------------------------------------------

def test_utilisation_counts_places_bookings_doses_and_no_shows(database, profile, drive):
    with database.Session() as s:
        scope = _scope(s, profile, division="1501")
        rows = {u.code: u for u in official.facility_utilisation(s, scope, DAY, DAY, "en")}
        lima = rows["DEMO-PE-0001"]
        assert (lima.sessions, lima.capacity, lima.booked, lima.vaccinated, lima.no_shows) == (
            1, 12, 4, 4, 1)
        assert lima.utilisation == pytest.approx(33.3)
        assert rows["DEMO-PE-0002"].sessions == 0  # its session was cancelled
        assert "DEMO-PE-0011" not in rows  # Callao is not in Lima
        total = official.utilisation_total(s, scope, DAY, DAY)
        assert (total.sessions, total.capacity, total.vaccinated) == (1, 12, 4)
        nation = official.utilisation_total(s, _scope(s, profile), DAY, DAY)
        assert (nation.sessions, nation.capacity, nation.vaccinated) == (2, 17, 6)
        before = official.facility_utilisation(s, scope, DAY - dt.timedelta(days=3),
                                               DAY - dt.timedelta(days=1), "en")
        assert sum(u.sessions + u.vaccinated for u in before) == 0


def test_utilisation_pages_through_the_centres_by_code(database, profile, drive):
    with database.Session() as s:
        scope = _scope(s, profile)
        count = official.count_facilities(s, scope, DAY, DAY)
        assert count == s.query(Facility).filter(Facility.is_active.is_(True)).count()
        first = official.facility_utilisation(s, scope, DAY, DAY, "en", limit=5)
        rest = official.facility_utilisation(s, scope, DAY, DAY, "en", offset=5)
        codes = [u.code for u in first + rest]
        assert codes == sorted(codes) and len(codes) == count


def test_adverse_events_by_seriousness_and_symptom_per_division(database, profile, drive):
    with database.Session() as s:
        events = official.adverse_events(s, _scope(s, profile), DAY, DAY, "en")
        assert events.by == "division"
        by = {e.code: e for e in events.rows}
        assert by["PE-LMA"].by_seriousness == {"minor": 2, "severe": 0, "serious": 0}
        assert by["PE-CAL"].by_seriousness["serious"] == 1
        assert by["PE-CUS"].total == 0  # every level-1 division listed
        assert events.total.total == 3
        assert events.total.by_symptom == {"fever": 2, "headache": 1, "anaphylaxis": 1}
        lima = official.adverse_events(s, _scope(s, profile, division="1501"), DAY, DAY, "en")
        assert {e.code: e.total for e in lima.rows if e.total} == {"150101": 2}
        assert lima.total.total == 2
        centre = official.adverse_events(s, _scope(s, profile, facility="DEMO-PE-0011"),
                                         DAY, DAY, "en")
        assert centre.by == "facility" and centre.total.by_seriousness["serious"] == 1
        later = official.adverse_events(s, _scope(s, profile), DAY + dt.timedelta(days=1),
                                        TODAY, "en")
        assert later.total.total == 0


def test_coverage_ranks_districts_and_flags_the_laggards(database, profile, drive):
    with database.Session() as s:
        programme = queries.programme_figures(s, "en")
        report = official.coverage(s, profile, "en", _scope(s, profile), programme, TODAY,
                                   TODAY)
        assert report.level == 2 and report.reference == "area"
        assert [d.code for d in report.districts] == ["0701", "0401", "1501"]
        callao, arequipa, lima = report.districts
        assert (lima.counts.first, lima.share_first) == (3, 0.3)  # "Late" is not folded yet
        assert (callao.share_first, callao.lags_first) == (0.02, True)
        assert not arequipa.lags and not lima.lags and report.lagging == 1
        assert report.reference_first == queries.share(5, 6400)
        assert [d.code for d in report.without_population] == ["0801"]  # listed apart
        assert lima.parent  # the department it lies in
        earlier = official.coverage(s, profile, "en", _scope(s, profile), programme,
                                    DAY - dt.timedelta(days=1), TODAY)
        assert sum(d.counts.first for d in earlier.districts) == 0
        one = official.coverage(s, profile, "en", _scope(s, profile, division="1501"),
                                programme, TODAY, TODAY)
        assert one.reference == "nation" and [d.code for d in one.districts] == ["1501"]
        with pytest.raises(queries.ReportError) as err:
            official.coverage(s, profile, "en", _scope(s, profile), programme, TODAY, TODAY,
                              level=9)
        assert err.value.field == "level"


def test_the_lag_rule():
    assert official.lags(44.0, 50.0) and not official.lags(46.0, 50.0)
    assert official.lags(3.9, 5.0) and not official.lags(4.5, 5.0)
    assert not official.lags(None, 50.0) and not official.lags(10.0, None)


def test_scopes_are_checked_against_the_officials_area(database, profile, drive):
    with database.Session() as s:
        lima = _id(s, Division, "1501")
        allowed = descendant_ids(s, lima)
        assert _scope(s, profile, division="150101", allowed=allowed).division_ids == (
            _id(s, Division, "150101"),)
        for kwargs in ({"division": "0701"}, {"facility": "DEMO-PE-0011"}, {}):
            with pytest.raises(queries.OutsideArea):
                _scope(s, profile, allowed=allowed, **kwargs)
        centre = _id(s, Facility, "DEMO-PE-0001")
        own = _scope(s, profile, own_facility=centre)
        assert own.facility_id == centre and own.area.code == "DEMO-PE-0001"
        for kwargs in ({"facility": "DEMO-PE-0002"}, {"division": "150101"}):
            with pytest.raises(queries.OutsideArea):
                _scope(s, profile, own_facility=centre, **kwargs)
        with pytest.raises(queries.ReportError) as err:
            _scope(s, profile, division="NOPE")
        assert err.value.status == 400 and err.value.field == "division"


# --- the staff pages ---------------------------------------------------------------------------

def _login(client, email):
    r = staff_login(client, email, STAFF_PASSWORD)
    assert r.status_code == 302, r.data
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    return client


@pytest.fixture
def lima_admin(client, database):
    make_user(database, "lima@example.org", "district_admin", "1501")
    return _login(client, "lima@example.org")


def test_a_district_admin_sees_only_their_districts(lima_admin, database, drive):
    r = lima_admin.get("/staff/reports")
    page = r.get_data(as_text=True)
    assert r.status_code == 200 and "Centre utilisation" in page and "coverage lags" in page
    r = lima_admin.get(f"/staff/reports/utilisation?from={ISO}&to={ISO}")
    page = r.get_data(as_text=True)
    assert r.status_code == 200
    assert "DEMO-PE-0001" in page and "DEMO-PE-0011" not in page
    assert ">12<" in page and "33.3%" in page
    viewed = audit_rows(database, "report.viewed")[-1]
    assert viewed.details["kind"] == "utilisation" and viewed.details["area"] == "1501"
    assert viewed.details["from"] == ISO and "lima@" not in str(viewed.details)
    r = lima_admin.get(f"/staff/reports/adverse-events?from={ISO}&to={ISO}")
    assert r.status_code == 200 and "Fever" in r.get_data(as_text=True)
    r = lima_admin.get("/staff/reports/coverage")
    assert r.status_code == 200 and "Lima" in r.get_data(as_text=True)


@pytest.mark.parametrize("query", ["division=0701", "facility=DEMO-PE-0011", "division=PE-CAL"])
def test_a_report_outside_the_area_is_403_and_audited(lima_admin, database, drive, query):
    before = len(audit_rows(database, "access.denied"))
    r = lima_admin.get(f"/staff/reports/utilisation?{query}")
    assert r.status_code == 403
    denied = audit_rows(database, "access.denied")
    assert len(denied) == before + 1 and denied[-1].details["reason"] == "area"
    assert not [e for e in audit_rows(database, "report.viewed")
                if e.details.get("area") in ("0701", "DEMO-PE-0011", "PE-CAL")]


def test_a_facility_manager_sees_only_their_centre(client, database, drive):
    make_facility_user(database, "manager@example.org", "facility_manager", "DEMO-PE-0001")
    _login(client, "manager@example.org")
    page = client.get(f"/staff/reports/utilisation?from={ISO}&to={ISO}").get_data(as_text=True)
    assert "DEMO-PE-0001" in page and "DEMO-PE-0002" not in page
    assert 'name="division"' not in page
    assert client.get("/staff/reports/utilisation?facility=DEMO-PE-0002").status_code == 403
    assert client.get("/staff/reports/utilisation?division=150101").status_code == 403
    assert client.get("/staff/reports/coverage").status_code == 403
    assert "coverage lags" not in client.get("/staff/reports").get_data(as_text=True)


def test_roles_without_reports_are_refused(client, database):
    make_facility_user(database, "vax@example.org", "vaccinator", "DEMO-PE-0001")
    _login(client, "vax@example.org")
    assert client.get("/staff/reports").status_code == 403


@pytest.mark.parametrize("query, field, message", [
    ("division=NOPE", "division", "no division with the code NOPE"),
    ("facility=NOPE", "facility", "no centre with the code NOPE"),
    ("from=yesterday", "from", "is not a date"),
    ("from=2026-02-30", "from", "is not a date"),
    ("from=2026-03-02&to=2026-03-01", "from", "is after"),
    ("from=2020-01-01&to=2026-01-01", "from", "at most"),
    ("to=%00", "to", "is not a date"),
])
def test_bad_input_is_a_form_error(admin, query, field, message):
    admin.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    r = admin.get(f"/staff/reports/utilisation?{query}")
    page = r.get_data(as_text=True)
    assert r.status_code == 400 and message in page
    assert f'href="#{field}"' in page


def test_unknown_reports_and_levels(admin):
    admin.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    assert admin.get("/staff/reports/nonsense").status_code == 404
    r = admin.get("/staff/reports/coverage?level=x")
    assert r.status_code == 400 and "Choose one of the levels" in r.get_data(as_text=True)
    assert admin.get("/staff/reports/coverage?programme=nope").status_code == 400


# --- CSV exports -------------------------------------------------------------------------------

def _rows(path) -> list[dict]:
    return list(csv.DictReader(io.StringIO(path.read_text(encoding="utf-8"))))


def test_an_export_is_built_in_chunks_with_progress(app, database, profile, drive, tmp_path):
    with database.Session() as s:
        s.add(Facility(code="ZZ-FORMULA", name="=HYPERLINK(\"http://x\")",
                       division_id=_id(s, Division, "150101")))
        s.commit()
        job = exports.request_export(
            s, profile, kind="utilisation", params={"from": ISO, "to": ISO, "lang": "en"},
            scope=_scope(s, profile), user=None, actor="test", today=TODAY)
        s.commit()
        total = job.rows_total
        assert total == official.count_facilities(s, _scope(s, profile), DAY, DAY) > 10
        assert job.status == "queued" and job.rows_done == 0
    folder = tmp_path / "exports"
    done = []
    with database.Session() as s, database.Session() as read:
        for _call in range(100):  # the worker's task, one chunk of 5 rows a call
            exports.work(s, read, profile, folder, TODAY, seconds=0, chunk=5)
            job = s.scalars(select(ReportExport)).one()
            done.append(job.rows_done)
            if job.status == "done":
                break
            assert job.status == "running"
    assert done == list(range(5, total, 5)) + [total]
    rows = _rows(folder / job.file_name)
    assert list(rows[0]) == exports.COLUMNS["utilisation"] and len(rows) == total
    lima = next(r for r in rows if r["centre_code"] == "DEMO-PE-0001")
    assert (lima["sessions"], lima["places_offered"], lima["places_taken"], lima["vaccinated"],
            lima["no_shows"], lima["utilisation_percent"]) == ("1", "12", "4", "4", "1", "33.3")
    bad = next(r for r in rows if r["centre_code"] == "ZZ-FORMULA")
    assert bad["centre"] == "'=HYPERLINK(\"http://x\")"
    assert not any(r["centre"][:1] in "=+-@" for r in rows)


def test_an_unfinished_chunk_is_written_again(database, profile, drive, tmp_path):
    """A chunk written to the file but never committed (a crash) is cut off and redone."""
    with database.Session() as s, database.Session() as read:
        job = exports.request_export(
            s, profile, kind="utilisation", params={"from": ISO, "to": ISO},
            scope=_scope(s, profile), user=None, actor="test", today=TODAY)
        s.commit()
        rows = exports.build_chunk(s, read, profile, job, tmp_path, TODAY, chunk=5)
        with open(tmp_path / job.file_name, "ab") as fh:
            fh.write(b"half a chunk\n")
        exports.build(s, read, profile, job, tmp_path, TODAY)
        assert rows is not None and job.status == "done"
        text = (tmp_path / job.file_name).read_text(encoding="utf-8")
        assert "half a chunk" not in text and len(_rows(tmp_path / job.file_name)) == job.rows_total


def test_adverse_events_and_coverage_exports(database, profile, drive, tmp_path):
    with database.Session() as s, database.Session() as read:
        for kind, check in (("adverse_events", "PE-CAL"), ("coverage", "0701")):
            job = exports.request_export(
                s, profile, kind=kind, params={"from": ISO, "to": TODAY.isoformat()},
                scope=_scope(s, profile), user=None, actor="test", today=TODAY)
            s.commit()
            exports.build(s, read, profile, job, tmp_path, TODAY)
            rows = _rows(tmp_path / job.file_name)
            if kind == "adverse_events":
                cal = next(r for r in rows if r["code"] == check)
                assert (cal["serious"], cal["symptom_anaphylaxis"]) == ("1", "1")
            else:
                assert rows[0]["division_code"] == check and rows[0]["lags_first_dose"] == "yes"
                assert rows[-1]["division_code"] == "0801" and rows[-1]["population"] == ""


def test_old_exports_are_cleaned_up(database, profile, drive, tmp_path):
    with database.Session() as s, database.Session() as read:
        job = exports.request_export(
            s, profile, kind="coverage", params={}, scope=_scope(s, profile), user=None,
            actor="test", today=TODAY)
        s.commit()
        exports.build(s, read, profile, job, tmp_path, TODAY)
        path = tmp_path / job.file_name
        assert path.exists()
        assert exports.cleanup(s, tmp_path, job.finished_at + exports.KEEP / 2) == 0
        assert exports.cleanup(s, tmp_path, job.finished_at + exports.KEEP * 1.1) == 1
        assert not path.exists() and s.scalars(select(ReportExport)).all() == []


def test_exporting_on_the_pages_progress_download_and_who_may(
        app, client, database, profile, drive, monkeypatch):
    monkeypatch.setattr(exports, "SMALL_EXPORT", 0)  # every export goes to the worker
    make_user(database, "lima@example.org", "district_admin", "1501")
    make_user(database, "callao@example.org", "district_admin", "0701")
    make_user(database, "state@example.org", "state_admin", "PE-LMA")
    _login(client, "lima@example.org")
    page = client.get(f"/staff/reports/utilisation?from={ISO}&to={ISO}").get_data(as_text=True)
    r = client.post(f"/staff/reports/utilisation/export?from={ISO}&to={ISO}",
                    data={"csrf_token": csrf(page)})
    assert r.status_code == 302
    progress_url = r.headers["Location"]
    page = client.get(progress_url).get_data(as_text=True)
    assert "<progress" in page and 'http-equiv="refresh"' in page and "Download CSV" not in page
    asked = audit_rows(database, "report.export_requested")[-1]
    assert asked.details["kind"] == "utilisation" and asked.details["area"] == "1501"
    folder = exports.folder_for(app.extensions["cowin_kit"].settings.instance_path)
    with database.Session() as s, database.Session() as read:
        while exports.work(s, read, profile, folder, TODAY, chunk=4):
            pass
    page = client.get(progress_url).get_data(as_text=True)
    assert "Download CSV" in page and 'http-equiv="refresh"' not in page
    download = progress_url + "/download"
    r = client.get(download)
    assert r.status_code == 200 and r.mimetype == "text/csv"
    assert "DEMO-PE-0001" in r.get_data(as_text=True)
    assert audit_rows(database, "report.downloaded")[-1].details["kind"] == "utilisation"
    assert client.post("/staff/reports/utilisation/export", data={}).status_code == 400  # CSRF
    for email, status in (("callao@example.org", 403), ("state@example.org", 200)):
        other = app.test_client()
        _login(other, email)
        assert other.get(download).status_code == status
        assert other.get(progress_url).status_code == status
    assert client.get("/staff/reports/exports/999999").status_code == 404


def test_a_small_export_is_ready_at_once(admin, database, drive):
    admin.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    page = admin.get("/staff/reports/coverage").get_data(as_text=True)
    r = admin.post("/staff/reports/coverage/export", data={"csrf_token": csrf(page)})
    assert r.status_code == 302
    page = admin.get(r.headers["Location"]).get_data(as_text=True)
    assert "Download CSV" in page and "<progress" in page
    index = admin.get("/staff/reports").get_data(as_text=True)
    assert "Your exports" in index


# --- the worker and the CLI --------------------------------------------------------------------

def test_the_worker_builds_exports_every_few_seconds(app, database, profile, drive):
    from cowin_kit.cli.worker_cmd import background_tasks

    dep = app.extensions["cowin_kit"]
    tasks = {task.__name__: (seconds, task) for seconds, task in background_tasks(dep)}
    seconds, task = tasks["build_report_exports"]
    assert seconds == exports.POLL_SECONDS
    with database.Session() as s:
        exports.request_export(s, profile, kind="adverse_events", params={},
                               scope=_scope(s, profile), user=None, actor="test", today=TODAY)
        s.commit()
    assert task() > 0
    with database.Session() as s:
        job = s.scalars(select(ReportExport)).one()
        assert job.status == "done"
        assert (exports.folder_for(dep.settings.instance_path) / job.file_name).is_file()


def test_the_cli_exports_a_report(run_cli, cowin_kit_instance, database, drive, tmp_path,
                                  refused):
    out = tmp_path / "utilisation.csv"
    result = run_cli("reports", "export", "utilisation", "--division", "1501", "--from", ISO,
                     "--to", ISO, "-o", out, "--instance", cowin_kit_instance)
    assert result.exit_code == 0, result.output
    rows = _rows(out)
    assert {r["centre_code"] for r in rows} >= {"DEMO-PE-0001"}
    assert not {r["centre_code"] for r in rows} & {"DEMO-PE-0011"}
    assert "wrote" in result.output and "Exporting utilisation" in result.output
    exported = audit_rows(database, "report.exported")[-1]
    assert exported.details["area"] == "1501" and exported.actor.startswith("cli:")
    refused(run_cli("reports", "export", "coverage", "--division", "NOPE", "-o", out,
                    "--instance", cowin_kit_instance), "division", "NOPE")
    refused(run_cli("reports", "export", "coverage", "--from", "soon", "-o", out,
                    "--instance", cowin_kit_instance), "from", "is not a date")


@pytest.mark.parametrize("slug", ["utilisation", "adverse-events", "coverage"])
def test_nasty_values_never_break_a_report(admin, slug):
    from helpers import NASTY

    for name in ("division", "facility", "from", "to", "programme", "level", "page"):
        for value in NASTY:
            r = admin.get(f"/staff/reports/{slug}", query_string={name: value})
            assert r.status_code in (200, 400, 403), (name, value, r.status_code)
