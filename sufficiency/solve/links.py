"""The opening links HiGHS's MIP needs, found from the LP relaxation before it starts.

The opening links (:func:`sufficiency.formulation.constraints.opening_link`) are valid
inequalities: they raise the LP relaxation, never change the optimum. There are many
(24,528 of the 50,068 rows at scale L, seed 1) and few bind: at the relaxation's optimum
about 1,570 do. Every row costs HiGHS memory and time in each LP of its MIP (HiGHS alone
on the exported L model peaked at 793 MB with every link, 579 MB with the needed ones, for
about the same root bound; README Performance).

A cut loop finds them: the relaxation is solved without the links (interior point and
crossover, as the start's relaxation always was), every link its solution breaks is
added, and the LP is solved again from its basis (dual simplex), until none is broken
(six rounds at L). The relaxation then has the optimum of the one with every link, so the
start (:mod:`sufficiency.solve.rounding`) starts from it instead of solving its own, and
HiGHS's MIP keeps only the links found: the others' rows are switched off (free bounds,
which HiGHS's presolve drops), so every row keeps its number.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import highspy
import numpy as np

from sufficiency.formulation import PlanModel
from sufficiency.solve.highs import HighsClock
from sufficiency.solve.rounding import SolvedRelaxation, solved_relaxation

LINK_FAMILY_PREFIX = "opening_link_by_"  # constraints.opening_link's block names
BROKEN = 1e-6  # pupils over a link's bound before it is added (HiGHS's tolerance: 1e-7)
_OPTIMAL = highspy.HighsModelStatus.kOptimal


def link_rows(plan_model: PlanModel) -> np.ndarray:
    """Row numbers, as handed to HiGHS, of the opening links (none without strong links)."""
    start, rows = 0, [np.zeros(0, np.int64)]
    for block in plan_model.blocks:
        if block.name.startswith(LINK_FAMILY_PREFIX):
            rows.append(np.arange(start, start + block.rows, dtype=np.int64))
        start += block.rows
    return np.concatenate(rows)


def _slice(starts: np.ndarray, index: np.ndarray, value: np.ndarray, rows: np.ndarray,
           ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``rows`` of a row-wise matrix (starts with one more entry at the end), row-wise."""
    first = starts[rows]
    lengths = starts[rows + 1] - first
    before = np.r_[0, np.cumsum(lengths)]
    entries = np.repeat(first - before[:-1], lengths) + np.arange(before[-1])
    return before, index[entries], value[entries]


@dataclass(frozen=True)
class RowSubset:
    """Some rows of a row-wise LP, row-wise: Σ value · column ≤ upper."""

    starts: np.ndarray  # first entry of each row; one more entry at the end
    index: np.ndarray
    value: np.ndarray
    upper: np.ndarray

    @classmethod
    def of(cls, lp: highspy.HighsLp, rows: np.ndarray) -> RowSubset:
        """``rows`` of ``lp`` (its matrix row-wise, as :func:`~.direct.highs_lp` makes it)."""
        matrix = lp.a_matrix_
        return cls(*_slice(np.asarray(matrix.start_, dtype=np.int64), np.asarray(matrix.index_),
                           np.asarray(matrix.value_), rows), np.asarray(lp.row_upper_)[rows])

    def activity(self, values: np.ndarray) -> np.ndarray:
        """Each row's left-hand side at column ``values``."""
        rows = np.repeat(np.arange(len(self.upper)), np.diff(self.starts))
        return np.bincount(rows, weights=self.value * values[self.index],
                           minlength=len(self.upper))

    def add_to(self, highs: highspy.Highs, picked: np.ndarray) -> None:
        """Add the ``picked`` rows (Σ ≤ upper) to ``highs``'s model, in their order."""
        starts, index, value = _slice(self.starts, self.index, self.value, picked)
        highs.addRows(len(picked), np.full(len(picked), -highspy.kHighsInf), self.upper[picked],
                      len(index), starts[:-1].astype(np.int32), index.astype(np.int32), value)


def without_rows(lp: highspy.HighsLp, rows: np.ndarray) -> highspy.HighsLp:
    """A copy of row-wise ``lp`` without ``rows`` (columns, costs and bounds unchanged)."""
    kept = np.setdiff1d(np.arange(lp.num_row_), rows)
    part = RowSubset.of(lp, kept)
    smaller = highspy.HighsLp()
    smaller.num_col_, smaller.num_row_ = lp.num_col_, len(kept)
    smaller.col_cost_, smaller.offset_ = lp.col_cost_, lp.offset_
    smaller.col_lower_, smaller.col_upper_ = lp.col_lower_, lp.col_upper_
    smaller.row_lower_ = np.asarray(lp.row_lower_)[kept]
    smaller.row_upper_ = part.upper
    smaller.a_matrix_.format_ = highspy.MatrixFormat.kRowwise
    smaller.a_matrix_.start_ = part.starts
    smaller.a_matrix_.index_ = part.index
    smaller.a_matrix_.value_ = part.value
    smaller.integrality_ = lp.integrality_
    return smaller


@dataclass(frozen=True)
class SeparatedLinks:
    """The relaxation solved with the links it needs, and those links' row numbers."""

    relaxation: SolvedRelaxation
    needed: np.ndarray  # row numbers (as handed to HiGHS) of the links the relaxation needs


def separate_links(lp: highspy.HighsLp, links: np.ndarray, options: dict[str, Any],
                   clock: HighsClock) -> SeparatedLinks | None:
    """Solve ``lp``'s relaxation adding only the ``links`` rows its solution breaks.

    ``lp``: the model as handed to HiGHS (row-wise), openings free; ``options``: the run's.
    None when an LP is not solved in time (the relaxation is capped as the start's is).
    """
    lp.integrality_ = []
    spent_before = clock.seconds
    candidates = RowSubset.of(lp, links)
    highs = solved_relaxation(without_rows(lp, links), options, clock)
    if highs is None:
        return None
    added = np.zeros(len(links), dtype=bool)
    while True:
        values = np.asarray(highs.getSolution().col_value)
        broken = np.flatnonzero((candidates.activity(values) > candidates.upper + BROKEN)
                                & ~added)
        if not broken.size:
            break
        candidates.add_to(highs, broken)
        added[broken] = True
        clock.run(highs)
        if highs.getModelStatus() != _OPTIMAL:
            return None
    return SeparatedLinks(SolvedRelaxation(highs, clock.seconds - spent_before), links[added])
