"""Keeping the dose rollups (cowin_kit.reporting.models): fold new doses in, or rebuild.

Recording a dose writes nothing for the reports: its ``rollup_batch`` is NULL until the
worker folds it in (every ROLLUP_SECONDS, `cowin-kit worker` or `serve`'s thread), so the
hot path pays one index entry and no contended counter row. A fold is one transaction:

1. lock the rollup_state row (SQLite: BEGIN IMMEDIATE), so folds run one at a time;
2. mark up to ``limit`` uncounted doses with the next batch number (READ COMMITTED sees
   only committed doses: one still being recorded stays NULL for the next fold);
3. add that batch's counts to each area's rows (the nation, every division above the
   facility, the facility), per day and in total, with INSERT … SELECT … ON CONFLICT:
   the database does the counting, whatever the batch's size.

`cowin-kit reports rebuild` empties the rollups and counts every folded dose again from the
dose records (after a bug, a changed age band or a bulk import).

The age bands the rows are counted in are kept with the state: folds go on using them even
when the profile's change, so no table ever mixes two sets of bands, until a rebuild adopts
the profile's (`reports status` says when one is due). A correction of a vaccinated person's
year of birth or gender takes their doses out again (``unfold_people``): the next fold
counts them under the corrected details.
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import (
    Integer,
    and_,
    case,
    delete,
    extract,
    func,
    literal,
    literal_column,
    select,
    text,
    update,
)
from sqlalchemy.orm import Session, aliased

from cowin_kit.db import begin_write, utcnow
from cowin_kit.geography.models import Division
from cowin_kit.registration.models import Beneficiary
from cowin_kit.reporting.models import NATION, DoseRollup, DoseRollupTotal, RollupState
from cowin_kit.scheduling.models import Facility
from cowin_kit.vaccination.models import Dose

FOLD_LIMIT = 50_000  # doses per fold: a short transaction, whatever the backlog
REBUILD_WORK_MEM = "256MB"  # PostgreSQL's memory for the rebuild's aggregates


@dataclass(frozen=True)
class Folded:
    batch: int
    doses: int


def age_band_expr(bands: Sequence[int]):
    """SQL for the age band (lower bound) of a dose's person on the day it was given: age
    by year of birth, like Co-WIN. Bounds are written as literals so that GROUP BY and
    SELECT name the same expression on PostgreSQL."""
    age = extract("year", Dose.given_on) - Beneficiary.birth_year
    whens = [(age >= literal_column(str(int(b))), literal_column(str(int(b))))
             for b in sorted(bands, reverse=True) if b > 0]
    return case(*whens, else_=literal_column("0")) if whens else literal_column("0")


def _ancestors():
    """(division_id, ancestor_id) for every division and each division above it, itself
    included: a recursive CTE, so no closure table has to be kept in step with imports."""
    anc = select(Division.id.label("division_id"),
                 Division.id.label("ancestor_id")).cte("anc", recursive=True)
    up = aliased(Division)
    return anc.union_all(select(anc.c.division_id, up.parent_id)
                         .join(up, up.id == anc.c.ancestor_id)
                         .where(up.parent_id.is_not(None)))


def _insert(session: Session, table):
    if session.get_bind().dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    return insert(table)


def _selects(which, bands: Sequence[int], with_day: bool, sign: int = 1):
    """The three SELECTs that count the doses ``which`` selects: in the nation, in each
    division above their facility, at their facility. Columns in table order. ``sign`` -1
    counts them out."""
    band = age_band_expr(bands)
    day = [Dose.given_on] if with_day else []
    tail = [Dose.product_id, Dose.dose_number, band, Beneficiary.gender]
    count = (func.count() * sign).cast(Integer)

    def grouped(division, facility, *joins):
        cols = [division, facility, *day, *tail]
        stmt = select(*cols, count).select_from(Dose).join(
            Beneficiary, Beneficiary.id == Dose.beneficiary_id)
        for target, on in joins:
            stmt = stmt.join(target, on)
        # Grouped by position: the band's CASE is then written once.
        return stmt.where(which).group_by(*[literal_column(str(i + 1))
                                            for i in range(len(cols))])

    anc = _ancestors()
    nation = grouped(literal(NATION, Integer), literal(NATION, Integer))
    divisions = grouped(anc.c.ancestor_id, literal(NATION, Integer),
                        (Facility, Facility.id == Dose.facility_id),
                        (anc, anc.c.division_id == Facility.division_id))
    facilities = grouped(Facility.division_id, Facility.id,
                         (Facility, Facility.id == Dose.facility_id))
    return nation, divisions, facilities


def _add(session: Session, table, stmt) -> None:
    cols = [c.name for c in table.__table__.columns]
    ins = _insert(session, table.__table__)
    ins = ins.from_select(cols, stmt)
    keys = [c.name for c in table.__table__.primary_key.columns]
    ins = ins.on_conflict_do_update(index_elements=keys,
                                    set_={"doses": table.__table__.c.doses + ins.excluded.doses})
    session.execute(ins)


def _count(session: Session, which, bands: Sequence[int], sign: int = 1) -> None:
    for table, with_day in ((DoseRollup, True), (DoseRollupTotal, False)):
        for stmt in _selects(which, bands, with_day, sign):
            _add(session, table, stmt)


def _lock_state(session: Session) -> RollupState:
    begin_write(session)
    state = session.scalar(select(RollupState).where(RollupState.id == 1).with_for_update())
    if state is None:  # a database made before the row existed
        state = RollupState(id=1, last_batch=0)
        session.add(state)
        session.flush()
    return state


def fold(session: Session, bands: Sequence[int], *, limit: int = FOLD_LIMIT,
         now: dt.datetime | None = None) -> Folded:
    """Count up to ``limit`` uncounted doses into the rollups and commit. Returns the
    batch and how many doses it counted (0: nothing was waiting). ``bands`` are the
    profile's; the rollups' own are used once they have some (see the module's notes)."""
    state = _lock_state(session)
    if state.age_bands is None:
        state.age_bands = list(bands)
    bands = state.age_bands
    batch = state.last_batch + 1
    # The lowest ``limit`` uncounted ids: their batch is marked by one UPDATE, then counted.
    cutoff = session.scalar(select(Dose.id).where(Dose.rollup_batch.is_(None))
                            .order_by(Dose.id).offset(limit - 1).limit(1))
    mark = update(Dose).where(Dose.rollup_batch.is_(None)).values(rollup_batch=batch)
    if cutoff is not None:
        mark = mark.where(Dose.id <= cutoff)
    marked = session.execute(mark.execution_options(synchronize_session=False)).rowcount
    if marked:
        _count(session, Dose.rollup_batch == batch, bands)
        state.last_batch = batch
    state.folded_at = now or utcnow()
    session.commit()
    return Folded(batch if marked else state.last_batch, marked or 0)


def fold_all(session: Session, bands: Sequence[int], *, limit: int = FOLD_LIMIT) -> int:
    """Fold until nothing is waiting; returns the doses counted."""
    total = 0
    while (done := fold(session, bands, limit=limit).doses):
        total += done
    return total


def rebuild(session: Session, bands: Sequence[int], *,
            now: dt.datetime | None = None) -> int:
    """Empty the rollups and count every folded dose again from the dose records, in one
    transaction (the dashboards keep the old figures until it commits). Doses not yet
    folded stay for the next fold. Returns the doses counted."""
    state = _lock_state(session)
    if session.get_bind().dialect.name == "postgresql":
        # Big aggregates: in memory rather than spilled to disk, for this transaction only.
        session.execute(text(f"SET LOCAL work_mem = '{REBUILD_WORK_MEM}'"))
    session.execute(delete(DoseRollup))
    session.execute(delete(DoseRollupTotal))
    counted = Dose.rollup_batch.is_not(None)
    nation, _divisions, facilities = _selects(counted, bands, True)
    # The rollups are empty and the three kinds of area never share a key: plain INSERTs.
    cols = [c.name for c in DoseRollup.__table__.columns]
    table = DoseRollup.__table__
    session.execute(table.insert().from_select(cols, nation))
    session.execute(table.insert().from_select(cols, facilities))
    # Each division's rows from its centres' rows (fewer than the doses, and the person's
    # age band already worked out), not from the doses again.
    r, anc = DoseRollup, _ancestors()
    session.execute(table.insert().from_select(cols, select(
        anc.c.ancestor_id, literal(NATION, Integer), r.day, r.product_id, r.dose_number,
        r.age_band, r.gender, func.sum(r.doses).cast(Integer))
        .join(anc, anc.c.division_id == r.division_id)
        .where(r.facility_id != NATION)
        .group_by(anc.c.ancestor_id, r.day, r.product_id, r.dose_number, r.age_band,
                  r.gender)))
    # All-time figures from the daily ones: one pass over the rollup, not the doses again.
    r = DoseRollup
    cols = [r.division_id, r.facility_id, r.product_id, r.dose_number, r.age_band, r.gender]
    session.execute(_insert(session, DoseRollupTotal.__table__).from_select(
        [c.key for c in cols] + ["doses"],
        select(*cols, func.sum(r.doses).cast(Integer)).group_by(*cols)))
    n = session.scalar(select(func.count()).select_from(Dose).where(counted)) or 0
    state.rebuilt_at = state.folded_at = now or utcnow()
    state.age_bands = list(bands)
    session.commit()
    return n


def unfold_people(session: Session, beneficiary_ids: Sequence[int]) -> int:
    """Take these people's counted doses out of the rollups (counted under their details as
    they are now) and leave them for the next fold. Call it before changing a vaccinated
    person's year of birth or gender, in the same transaction; the caller commits. Returns
    the doses taken out."""
    ids = list(beneficiary_ids)
    state = _lock_state(session)
    if not ids or state.age_bands is None:
        return 0
    theirs = and_(Dose.beneficiary_id.in_(ids), Dose.rollup_batch.is_not(None))
    _count(session, theirs, state.age_bands, sign=-1)
    return session.execute(update(Dose).where(theirs).values(rollup_batch=None)
                           .execution_options(synchronize_session=False)).rowcount or 0


def counted_bands(session: Session, profile_bands: Sequence[int]) -> list[int]:
    """The age bands the rollups are counted in (the profile's before the first fold):
    what reports label their bands with."""
    stored = session.scalar(select(RollupState.age_bands).where(RollupState.id == 1))
    return list(stored or profile_bands)


def bands_changed(session: Session, bands: Sequence[int]) -> bool:
    """Whether the rollups are counted in other age bands than ``bands`` (the profile's):
    a rebuild is due."""
    stored = session.scalar(select(RollupState.age_bands).where(RollupState.id == 1))
    return stored is not None and list(stored) != list(bands)


def pending(session: Session, on: dt.date | None = None) -> int:
    """Doses recorded but not yet folded in (on a day, or all)."""
    stmt = select(func.count()).select_from(Dose).where(Dose.rollup_batch.is_(None))
    if on is not None:
        stmt = stmt.where(Dose.given_on == on)
    return session.scalar(stmt) or 0


__all__ = ["FOLD_LIMIT", "Folded", "age_band_expr", "bands_changed",
           "counted_bands", "fold", "fold_all", "pending", "rebuild", "unfold_people"]
