"""The figures the dashboards read (cowin_kit.reporting.queries), from folded rollups."""
from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from cowin_kit.geography.models import Division
from cowin_kit.profiles import load_profile
from cowin_kit.programmes.models import Product
from cowin_kit.reporting import queries, rollups
from cowin_kit.scheduling.models import Facility
from cowin_kit.vaccination.service import record_dose

from helpers import TODAY, new_person

BANDS = [0, 12, 15, 18, 45, 60]


@pytest.fixture
def profile():
    return load_profile("PE")


@pytest.fixture
def drive(database):
    """Three people at the demo centre: one with two doses, one with one, a child with one."""
    with database.Session() as s:
        f = s.scalar(select(Facility).where(Facility.code == "DEMO-PE-0001"))
        product = s.scalar(select(Product).where(Product.code == "comirnaty"))

        def give(person, number, days_ago):
            record_dose(s, beneficiary_id=person.id, product=product, dose_number=number,
                        given_on=TODAY - dt.timedelta(days=days_ago), facility_id=f.id)
        a = new_person(s, "Ana", year=TODAY.year - 30, gender="female")
        give(a, 1, 30)
        give(a, 2, 2)
        give(new_person(s, "Luis", year=TODAY.year - 70, gender="male"), 1, 2)
        give(new_person(s, "Rosa", year=TODAY.year - 13, gender="female"), 1, 0)
        s.commit()
        rollups.fold(s, BANDS)
        return f.code, f.division.code, product.primary_doses


def test_totals_count_people_by_their_doses(database, profile, drive):
    with database.Session() as s:
        programme = queries.programme_figures(s, "es")
        area = queries.resolve_area(s, profile, "es")
        c = queries.totals(s, area, programme)
        assert (c.total, c.first, c.by_dose) == (4, 3, {1: 3, 2: 1})
        assert c.full == (1 if drive[2] == 2 else 3)
        assert c.booster == 0


def test_areas_from_the_nation_down_to_the_centre(database, profile, drive):
    facility_code, division_code, _ = drive
    with database.Session() as s:
        programme = queries.programme_figures(s, "es")
        centre = queries.resolve_area(s, profile, "es", facility=facility_code)
        assert centre.is_facility and centre.trail[0].is_nation
        assert queries.totals(s, centre, programme).total == 4
        level1 = centre.trail[1]
        assert level1.level == 1
        nation = queries.resolve_area(s, profile, "es")
        kids = queries.children(s, nation, programme, profile, "es")
        assert sum(k.counts.total for k in kids) == 4
        assert len(kids) == s.query(Division).filter(Division.level == 1).count()
        district = queries.resolve_area(s, profile, "es", division=division_code)
        centres = queries.children(s, district, programme, profile, "es")
        assert any(k.area.code == facility_code and k.counts.total == 4 for k in centres)


def test_daily_fills_days_without_doses(database, profile, drive):
    with database.Session() as s:
        programme = queries.programme_figures(s, "es")
        area = queries.resolve_area(s, profile, "es")
        days = queries.daily(s, area, programme, TODAY - dt.timedelta(days=3), TODAY)
        assert [d for d, _ in days] == [TODAY - dt.timedelta(days=i) for i in (3, 2, 1, 0)]
        assert [c.total for _, c in days] == [0, 2, 0, 1]


def test_age_and_gender(database, profile, drive):
    with database.Session() as s:
        programme = queries.programme_figures(s, "es")
        area = queries.resolve_area(s, profile, "es")
        got = {k: c.total for k, c in queries.by_age_gender(s, area, programme, BANDS).items()}
        assert got == {(18, "female"): 2, (60, "male"): 1, (12, "female"): 1}
        assert queries.band_label(BANDS, 18) == "18–44"
        assert queries.band_label(BANDS, 60) == "60+"


@pytest.mark.parametrize("kwargs, field", [
    ({"division": "PE-XXX"}, "division"), ({"facility": "NOPE"}, "facility")])
def test_unknown_areas_are_refused_by_name(database, profile, kwargs, field):
    with database.Session() as s, pytest.raises(queries.ReportError) as err:
        queries.resolve_area(s, profile, "es", **kwargs)
    assert err.value.field == field and err.value.status == 400
    assert list(kwargs.values())[0] in str(err.value)


@pytest.mark.parametrize("start, end, message", [
    ("2026-13-01", None, "is not a date"), ("yesterday", None, "is not a date"),
    ("2026-03-02", "2026-03-01", "is after"), ("2020-01-01", "2026-01-01", "at most"),
    ("", "0001-01-01", "is too early")])
def test_bad_date_ranges_are_refused(start, end, message):
    with pytest.raises(queries.ReportError) as err:
        queries.date_range(start, end, TODAY)
    assert message in str(err.value)


def test_date_ranges_accept_both_formats():
    assert queries.date_range("01-03-2026", "2026-03-05", TODAY) == (
        dt.date(2026, 3, 1), dt.date(2026, 3, 5))
    first, last = queries.date_range(None, None, TODAY)
    assert last == TODAY and (last - first).days == 89


def test_an_official_is_refused_outside_their_area(database, profile, drive):
    _facility, division_code, _ = drive
    with database.Session() as s:
        area = queries.resolve_area(s, profile, "es", division=division_code)
        queries.check_in_area(area, None)
        queries.check_in_area(area, [area.division_id])
        with pytest.raises(queries.OutsideArea) as err:
            queries.check_in_area(area, [area.division_id + 10_000])
        assert err.value.status == 403
        with pytest.raises(queries.OutsideArea):
            queries.check_in_area(queries.nation(profile, "es"), [area.division_id])


def test_the_dashboard_figures_are_one_json_ready_dict(database, profile, drive):
    import json

    from cowin_kit.reporting.dashboard import dashboard_figures

    facility_code, _division, _ = drive
    with database.Session() as s:
        programme = queries.programme_figures(s, "es")
        area = queries.resolve_area(s, profile, "es")
        # A dose recorded after the fold counts in today's live figure at once.
        person = new_person(s, "Late", year=1990)
        record_dose(s, beneficiary_id=person.id, product=next(iter(programme.products)),
                    dose_number=1, given_on=TODAY,
                    facility_id=s.scalar(select(Facility.id).where(
                        Facility.code == facility_code)))
        s.commit()
        data = dashboard_figures(s, profile, "es", area, programme,
                                 TODAY - dt.timedelta(days=6), TODAY, TODAY)
        json.dumps(data)
        assert data["area"]["kind"] == "nation" and data["trail"] == []
        assert data["today"]["doses"] == 2  # Rosa (folded) and Late (not yet)
        assert data["totals"]["doses"] == 4  # the rollups: Late is not folded yet
        assert len(data["daily"]) == 7 and data["daily"][-1]["doses"] == 1
        assert sum(c["doses"] for c in data["children"]) == 4
        assert {p["code"] for p in data["products"]} >= {"comirnaty"}
        centre = queries.resolve_area(s, profile, "es", facility=facility_code)
        data = dashboard_figures(s, profile, "es", centre, programme, TODAY, TODAY, TODAY)
        assert data["today"]["doses"] == 2 and data["children"] == []
        assert [t["kind"] for t in data["trail"]][0] == "nation"
