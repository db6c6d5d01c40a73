"""The dose rollups: every dose counted once in the nation, each division above its
facility and the facility; folding twice counts nothing twice; a rebuild gives the same
figures; doses still being recorded wait for the next fold."""
from __future__ import annotations

import datetime as dt
import threading

import pytest
from sqlalchemy import func, select

from cowin_kit.geography.models import Division
from cowin_kit.programmes.models import Product
from cowin_kit.reporting import rollups
from cowin_kit.reporting.models import NATION, DoseRollup, DoseRollupTotal
from cowin_kit.scheduling.models import Facility
from cowin_kit.vaccination.models import Dose
from cowin_kit.vaccination.service import record_dose

from helpers import TODAY, new_person

BANDS = [0, 12, 15, 18, 45, 60]


def _dose(s, person, number, facility, days_ago=0, product="comirnaty"):
    prod = s.scalar(select(Product).where(Product.code == product))
    return record_dose(s, beneficiary_id=person.id, product=prod, dose_number=number,
                       given_on=TODAY - dt.timedelta(days=days_ago), facility_id=facility)


def _rows(s, table, division, facility=NATION):
    return {tuple(r[2:-1]): r[-1] for r in s.execute(
        select(*table.__table__.columns).where(table.division_id == division,
                                               table.facility_id == facility))}


@pytest.fixture
def place(database):
    """The demo centre and the chain of divisions above it (nearest first)."""
    with database.Session() as s:
        f = s.scalar(select(Facility).where(Facility.code == "DEMO-PE-0001"))
        chain, d = [], f.division
        while d is not None:
            chain.append(d.id)
            d = d.parent
        return f.id, f.division_id, chain


def test_a_dose_counts_once_in_every_area_above_it(database, place):
    facility, own, chain = place
    with database.Session() as s:
        young = new_person(s, "Ana", year=TODAY.year - 30, gender="female")
        old = new_person(s, "Luis", year=TODAY.year - 70, gender="male")
        _dose(s, young, 1, facility, days_ago=20)
        _dose(s, young, 2, facility, days_ago=0)
        _dose(s, old, 1, facility, days_ago=0)
        s.commit()
        assert rollups.pending(s) == 3
        assert rollups.pending(s, TODAY) == 2
        folded = rollups.fold(s, BANDS)
        assert folded.doses == 3
        assert rollups.pending(s) == 0
        product = s.scalar(select(Product.id).where(Product.code == "comirnaty"))
        today = {(TODAY, product, 2, 18, "female"): 1, (TODAY, product, 1, 60, "male"): 1}
        earlier = {(TODAY - dt.timedelta(days=20), product, 1, 18, "female"): 1}
        for division in [NATION, *chain]:
            assert _rows(s, DoseRollup, division) == {**today, **earlier}, division
            assert _rows(s, DoseRollupTotal, division) == {
                (product, 1, 18, "female"): 1, (product, 2, 18, "female"): 1,
                (product, 1, 60, "male"): 1}
        assert _rows(s, DoseRollup, own, facility) == {**today, **earlier}
        # Nothing counted in a division the centre is not in.
        other = s.scalar(select(Division.id).where(Division.level == 1,
                                                   Division.id.not_in(chain)))
        assert _rows(s, DoseRollupTotal, other) == {}


def test_folding_again_counts_nothing_twice_and_adds_new_doses(database, place):
    facility, _own, _chain = place
    with database.Session() as s:
        a = new_person(s, "Ana", year=1990)
        _dose(s, a, 1, facility, days_ago=3)
        s.commit()
        assert rollups.fold(s, BANDS).doses == 1
        assert rollups.fold(s, BANDS).doses == 0
        _dose(s, a, 2, facility, days_ago=0)
        s.commit()
        assert rollups.fold(s, BANDS).doses == 1
        total = s.scalar(select(func.sum(DoseRollupTotal.doses))
                         .where(DoseRollupTotal.division_id == NATION))
        assert total == 2


def test_fold_takes_a_limited_batch_and_fold_all_drains(database, place):
    facility, _own, _chain = place
    with database.Session() as s:
        for i in range(5):
            _dose(s, new_person(s, f"P{i}", year=1960 + i), 1, facility, days_ago=i)
        s.commit()
        assert rollups.fold(s, BANDS, limit=2).doses == 2
        assert rollups.pending(s) == 3
        assert rollups.fold_all(s, BANDS, limit=2) == 3
        assert s.scalar(select(func.sum(DoseRollup.doses))
                        .where(DoseRollup.division_id == NATION)) == 5


def test_a_dose_without_a_centre_counts_in_the_nation_only(database, place):
    with database.Session() as s:
        _dose(s, new_person(s, "Imported", year=1950), 1, None, days_ago=400)
        s.commit()
        rollups.fold(s, BANDS)
        assert s.scalar(select(func.sum(DoseRollupTotal.doses))
                        .where(DoseRollupTotal.division_id == NATION)) == 1
        assert s.scalar(select(func.count()).select_from(DoseRollupTotal)
                        .where(DoseRollupTotal.division_id != NATION)) == 0


def test_rebuild_gives_the_same_figures_and_mends_damage(database, place):
    facility, own, _chain = place
    with database.Session() as s:
        for i, year in enumerate((1950, 1980, 2010, 2012)):
            p = new_person(s, f"P{i}", year=year, gender="male" if i % 2 else "female")
            _dose(s, p, 1, facility, days_ago=i)
        s.commit()
        rollups.fold(s, BANDS)
        before = sorted(tuple(r) for r in s.execute(select(*DoseRollup.__table__.columns)))
        totals = sorted(tuple(r) for r in s.execute(select(*DoseRollupTotal.__table__.columns)))
        s.execute(DoseRollup.__table__.update().values(doses=999))  # damage
        s.commit()
        assert rollups.rebuild(s, BANDS) == 4
        assert sorted(tuple(r) for r in s.execute(select(*DoseRollup.__table__.columns))) == before
        assert sorted(tuple(r) for r in s.execute(
            select(*DoseRollupTotal.__table__.columns))) == totals


def test_rebuild_leaves_unfolded_doses_for_the_next_fold(database, place):
    facility, _own, _chain = place
    with database.Session() as s:
        _dose(s, new_person(s, "A", year=1970), 1, facility)
        s.commit()
        assert rollups.rebuild(s, BANDS) == 0
        assert rollups.pending(s) == 1
        assert rollups.fold(s, BANDS).doses == 1


def test_concurrent_folds_never_count_a_dose_twice(database, place):
    facility, _own, _chain = place
    with database.Session() as s:
        for i in range(40):
            _dose(s, new_person(s, f"P{i}", year=1950 + i), 1, facility, days_ago=i % 7)
        s.commit()
    errors = []

    def work():
        try:
            with database.Session() as s:
                rollups.fold_all(s, BANDS, limit=7)
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    with database.Session() as s:
        assert s.scalar(select(func.sum(DoseRollupTotal.doses))
                        .where(DoseRollupTotal.division_id == NATION)) == 40
        assert s.scalar(select(func.count()).select_from(Dose)
                        .where(Dose.rollup_batch.is_(None))) == 0


def test_reports_commands_fold_rebuild_and_tell_the_state(run_cli, cowin_kit_instance,
                                                         database, place):
    facility, _own, _chain = place
    with database.Session() as s:
        _dose(s, new_person(s, "A", year=1970), 1, facility)
        s.commit()
    run = lambda *args: run_cli("reports", *args, "--instance", str(cowin_kit_instance))  # noqa: E731
    result = run("status")
    assert result.exit_code == 0 and "waiting    1 doses" in result.output
    assert "last fold  never" in result.output
    result = run("fold")
    assert result.exit_code == 0 and "folded 1 doses" in result.output
    result = run("rebuild")
    assert result.exit_code == 0 and "from 1 doses" in result.output
    result = run("status")
    assert "waiting    0 doses" in result.output and "never" not in result.output


def test_the_worker_folds_every_rollup_seconds(app, database, place):
    from cowin_kit.cli.worker_cmd import background_tasks

    facility, _own, _chain = place
    dep = app.extensions["cowin_kit"]
    tasks = dict((task.__name__, (seconds, task)) for seconds, task in background_tasks(dep))
    seconds, fold_task = tasks["fold_rollups"]
    assert seconds == dep.settings["ROLLUP_SECONDS"] > 0
    with database.Session() as s:
        _dose(s, new_person(s, "A", year=1970), 1, facility)
        s.commit()
    assert fold_task() == 1
    with database.Session() as s:
        assert rollups.pending(s) == 0


def _nation_by_band_and_gender(s) -> dict:
    t = DoseRollupTotal
    return {(band, gender): n for band, gender, n in s.execute(
        select(t.age_band, t.gender, func.sum(t.doses)).where(t.division_id == NATION)
        .group_by(t.age_band, t.gender))}


def test_a_corrected_year_of_birth_or_gender_moves_the_doses(database, place):
    facility, _own, _chain = place
    with database.Session() as s:
        p = new_person(s, "Ana", year=TODAY.year - 30, gender="female")
        _dose(s, p, 1, facility, days_ago=5)
        _dose(s, p, 2, facility, days_ago=1)
        s.commit()
        rollups.fold(s, BANDS)
        assert rollups.unfold_people(s, [p.id]) == 2
        p.birth_year, p.gender = TODAY.year - 70, "male"
        s.commit()
        rollups.fold(s, BANDS)
        got = _nation_by_band_and_gender(s)
        assert got == {(18, "female"): 0, (60, "male"): 2}


def test_folds_keep_the_rollups_bands_until_a_rebuild(database, place):
    facility, _own, _chain = place
    with database.Session() as s:
        _dose(s, new_person(s, "A", year=TODAY.year - 50), 1, facility)
        s.commit()
        rollups.fold(s, BANDS)
        wider = [0, 18, 65]
        assert rollups.bands_changed(s, wider)
        _dose(s, new_person(s, "B", year=TODAY.year - 50), 1, facility)
        s.commit()
        rollups.fold(s, wider)  # still counted in the bands the rows already use
        assert _nation_by_band_and_gender(s) == {(45, "female"): 2}
        rollups.rebuild(s, wider)
        assert _nation_by_band_and_gender(s) == {(18, "female"): 2}
        assert not rollups.bands_changed(s, wider)
