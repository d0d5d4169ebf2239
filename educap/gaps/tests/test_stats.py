"""GapStats: the counts of a cell and what is derived from them."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from educap.gaps.engine import COUNTS
from educap.gaps.selectors import GapStats

counts = st.fixed_dictionaries({name: st.integers(-1000, 1000) for name in COUNTS})


@given(st.lists(counts, max_size=6))
def test_merge_adds_what_add_adds(rows):
    by_rows, by_cells = GapStats(), GapStats()
    for row in rows:
        by_rows.add(row)
        cell = GapStats()
        cell.add(row)
        by_cells.merge(cell)
    assert vars(by_cells) == vars(by_rows)
    assert [getattr(by_rows, name) for name in COUNTS] == [
        sum(row[name] for row in rows) for name in COUNTS
    ]


def test_missing_and_null_counts_add_nothing():
    stats = GapStats(in_scope=3)
    stats.add({"in_scope": None, "assessed": 2})
    assert (stats.in_scope, stats.assessed, stats.unknown) == (3, 2, 1)
    assert stats.share_assessed == 2 / 3
