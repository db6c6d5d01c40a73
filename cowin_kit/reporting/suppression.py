"""Small-cell suppression for published counts, with complementary suppression.

The cells are counts; the *groups* are the sums a reader can form from what is published:
a table's rows against a total printed elsewhere, or two tables that count the same doses
in different ways (cells of one side minus cells of the other is zero). A group tells a
reader one suppressed cell exactly when every other cell in it is published, so:

1. primary: every cell with 0 < count < k is suppressed (0 is published: "no dose" is not
   about anyone);
2. complementary: in every group with exactly one suppressed cell, another non-zero
   published cell is suppressed too: detail cells before totals (``priority``), then one
   that also mends another such group, then the smallest; the groups of each newly
   suppressed cell are checked again, until none has exactly one.

Such a group always has another non-zero cell (its suppressed cell is non-zero, and both
sides of a group add up to the same), so the loop always finds one, and it ends: every
step suppresses a cell. What it guarantees: no suppressed cell is any group's published
cells subtracted from one another. What it does not: a reader solving many groups at once
as a system of equations; the tables are kept few and coarse so that such systems stay
underdetermined in practice (see docs/reporting.md).
"""
from __future__ import annotations

from collections import deque
from collections.abc import Sequence


def suppress(values: Sequence[int], groups: Sequence[Sequence[int]], k: int,
             priority: Sequence[int] | None = None) -> tuple[set[int], set[int]]:
    """The cells to suppress: (primary, complementary), as indexes into ``values``.

    ``groups`` lists, for each published sum, the indexes of the cells it relates (both
    sides and the total alike: only which cells are known matters). ``priority``: a cell
    with a lower number is taken first as a complement (default 0 for all)."""
    primary = {i for i, v in enumerate(values) if 0 < v < k}
    hidden = set(primary)
    groups_of: dict[int, list[int]] = {}
    for g, cells in enumerate(groups):
        for i in cells:
            groups_of.setdefault(i, []).append(g)
    rank = priority if priority is not None else [0] * len(values)
    count = [sum(1 for i in cells if i in hidden) for cells in groups]  # hidden per group

    def mends(i: int) -> int:  # other groups left with one hidden cell that i would mend
        return sum(1 for g in groups_of.get(i, ()) if count[g] == 1)

    todo = deque(sorted({g for i in hidden for g in groups_of.get(i, ())}))
    while todo:
        g = todo.popleft()
        if count[g] != 1:
            continue
        candidates = [i for i in groups[g] if i not in hidden and values[i] > 0]
        if not candidates:  # cannot happen with consistent sums; then nothing is told
            continue
        # A cell that also mends another group saves a suppression there; among equals,
        # the smallest.
        pick = min(candidates, key=lambda i: (rank[i], -mends(i), values[i], i))
        hidden.add(pick)
        for h in groups_of.get(pick, ()):
            count[h] += 1
            todo.append(h)
    return primary, hidden - primary


def recoverable(hidden: set[int], groups: Sequence[Sequence[int]]) -> list[int]:
    """The groups that would tell a suppressed cell: exactly one of their cells hidden."""
    return [g for g, cells in enumerate(groups) if sum(1 for i in cells if i in hidden) == 1]


__all__ = ["recoverable", "suppress"]
