"""benchmarks/seed_population.py at a tiny scale, so the benchmark cannot rot: it seeds a
geography, people and exactly the doses asked for, and the rollups (rebuilt, or folded as
the worker would) count every one of them in the nation, the divisions and the centres."""
from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path

import pytest
from sqlalchemy import func, select

from cowin_kit.geography.models import Division
from cowin_kit.registration.models import Beneficiary
from cowin_kit.reporting import dashboard, queries
from cowin_kit.reporting.models import NATION, DoseRollupTotal
from cowin_kit.vaccination.models import Dose

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
import seed_population  # noqa: E402

DOSES = 2000


def _total(s, *where) -> int:
    return s.scalar(select(func.coalesce(func.sum(DoseRollupTotal.doses), 0)).where(*where))


@pytest.mark.parametrize("counted", [True, False], ids=["rebuild", "fold"])
def test_seeded_doses_are_all_counted_in_every_area(app, database, counted):
    profile = app.extensions["cowin_kit"].profile
    stats = seed_population.seed(database, profile, doses=DOSES, facilities=60,
                                 provinces=30, districts=50, counted=counted,
                                 progress=False, chunk=500)
    assert stats.doses == DOSES
    assert stats.by_number[1] > stats.by_number[2] > stats.by_number[3] > 0
    timed = seed_population.time_rollups(database, profile, "rebuild" if counted else "fold")
    assert list(timed.values())[0][1] == DOSES
    check = seed_population.check_rollups(database)
    assert check["doses"] == check["daily"] == check["total"] == DOSES

    with database.session() as s:
        # Every seeded person is valid and unique; doses lie in the last 365 days.
        assert s.scalar(select(func.count(func.distinct(Beneficiary.id_number_hash)))
                        .where(Beneficiary.reference_id.like("7%"))) == stats.people
        first, last = s.execute(select(func.min(Dose.given_on), func.max(Dose.given_on))).one()
        assert stats.first_day <= first and last <= stats.last_day
        assert (stats.last_day - stats.first_day).days == 364
        # Each level's divisions and the centres together hold every dose once.
        level1 = select(Division.id).where(Division.level == 1)
        assert _total(s, DoseRollupTotal.division_id.in_(level1),
                      DoseRollupTotal.facility_id == NATION) == DOSES
        deepest = select(Division.id).where(Division.level == 3)
        assert _total(s, DoseRollupTotal.division_id.in_(deepest),
                      DoseRollupTotal.facility_id == NATION) == DOSES
        assert _total(s, DoseRollupTotal.facility_id != NATION) == DOSES
        # The dashboard shows them: the nation's doses and the people with a first dose.
        area = queries.resolve_area(s, profile, "en")
        programme = queries.programme_figures(s, "en")
        today = stats.last_day
        figures = dashboard.dashboard_figures(s, profile, "en", area, programme,
                                              today - dt.timedelta(days=89), today, today)
        assert figures["totals"]["doses"] == DOSES
        assert figures["totals"]["first"] == stats.by_number[1]
        assert figures["totals"]["booster"] == stats.by_number[3]
        assert sum(c["doses"] for c in figures["children"]) == DOSES
        assert {"female", "male"} <= {row["gender"] for row in figures["age_gender"]}
