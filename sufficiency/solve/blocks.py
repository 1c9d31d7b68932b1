"""Solve an LP whose free columns fall apart into independent blocks, one block at a time.

With every opening fixed (the shadow-price LP), the plan's years meet only through the
openings: each year's placements, independents, capacity and link rows form an LP of
their own, unless sticky cohorts tie a year to the last. Dual simplex time grows faster
than the LP, so ten yearly LPs take less than the whole: at XL the prices took 13-17 s
after the MIP against 23-26 s, with the same objective (at L, 3-5 s either way; README,
Performance). The blocks are independent, so with ``beside`` about half of them (by terms)
are solved in a forked child on the second core (:mod:`sufficiency.forked`) while this
process solves the rest; each block is solved in a fresh instance either way, so the
answer is the same. The caller labels each column (its year); when a row's free columns
carry two labels (:func:`split_rows` returns None), the caller solves the whole LP instead.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import highspy
import numpy as np

from sufficiency.forked import Forked
from sufficiency.solve.highs import SOLUTION_FEASIBLE
from sufficiency.solve.interrupt import run_stoppable

ROW_FEASIBILITY = 1e-6  # model units: a row of fixed columns only may miss its bounds by this
_OPTIMAL = highspy.HighsModelStatus.kOptimal


@dataclass(frozen=True)
class LpSolution:
    """An LP's optimum: objective (model units, offset included) and row duals, row order."""

    objective: float
    row_dual: np.ndarray


@dataclass(frozen=True)
class RowSplit:
    """The LP's terms, with each row's block (−1: only fixed columns) and fixed activity."""

    row_of_term: np.ndarray
    free_term: np.ndarray
    row_block: np.ndarray
    fixed_activity: np.ndarray
    fixed: np.ndarray


def split_rows(lp: highspy.HighsLp, column_block: np.ndarray) -> RowSplit | None:
    """Each row's block: the one label its free columns share; None when a row has two.

    ``lp``: row-wise, as :func:`sufficiency.solve.direct.highs_lp` builds it. A column is
    fixed when its bounds are equal; its activity moves to the row's bounds.
    """
    starts = np.asarray(lp.a_matrix_.start_)
    index = np.asarray(lp.a_matrix_.index_)
    value = np.asarray(lp.a_matrix_.value_)
    lower, upper = np.asarray(lp.col_lower_), np.asarray(lp.col_upper_)
    fixed = lower == upper
    row_of_term = np.repeat(np.arange(lp.num_row_), np.diff(starts))
    free_term = ~fixed[index]
    labels = column_block[index[free_term]]
    rows = row_of_term[free_term]
    smallest = np.full(lp.num_row_, np.iinfo(np.int64).max)
    largest = np.full(lp.num_row_, -1)
    np.minimum.at(smallest, rows, labels)
    np.maximum.at(largest, rows, labels)
    has_free = largest >= 0
    if np.any(smallest[has_free] != largest[has_free]):
        return None
    fixed_activity = np.bincount(row_of_term, minlength=lp.num_row_,
                                 weights=np.where(free_term, 0.0, value * lower[index]))
    return RowSplit(row_of_term, free_term, np.where(has_free, largest, -1), fixed_activity,
                  fixed)


def _constant_rows_hold(lp: highspy.HighsLp, split: RowSplit) -> bool:
    """Whether every row of fixed columns only lies within its bounds."""
    constant = split.row_block < 0
    activity = split.fixed_activity[constant]
    return bool(np.all(activity >= np.asarray(lp.row_lower_)[constant] - ROW_FEASIBILITY)
                and np.all(activity <= np.asarray(lp.row_upper_)[constant] + ROW_FEASIBILITY))


def block_lp(lp: highspy.HighsLp, split: RowSplit, rows: np.ndarray,
             columns: np.ndarray) -> highspy.HighsLp:
    """The LP of one block: its free ``columns`` and ``rows``, fixed activity in the bounds."""
    starts = np.asarray(lp.a_matrix_.start_)
    position = np.full(lp.num_col_, -1, dtype=np.int32)
    position[columns] = np.arange(len(columns), dtype=np.int32)
    terms = np.concatenate([np.arange(starts[r], starts[r + 1]) for r in rows]
                           or [np.zeros(0, dtype=np.int64)])
    terms = terms[split.free_term[terms]]
    per_row = np.bincount(np.searchsorted(rows, split.row_of_term[terms]), minlength=len(rows))
    sub = highspy.HighsLp()
    sub.num_col_, sub.num_row_ = len(columns), len(rows)
    sub.col_cost_ = np.asarray(lp.col_cost_)[columns]
    sub.col_lower_ = np.asarray(lp.col_lower_)[columns]
    sub.col_upper_ = np.asarray(lp.col_upper_)[columns]
    sub.row_lower_ = np.asarray(lp.row_lower_)[rows] - split.fixed_activity[rows]
    sub.row_upper_ = np.asarray(lp.row_upper_)[rows] - split.fixed_activity[rows]
    sub.a_matrix_.format_ = highspy.MatrixFormat.kRowwise
    sub.a_matrix_.start_ = np.concatenate([[0], np.cumsum(per_row)]).astype(np.int32)
    sub.a_matrix_.index_ = position[np.asarray(lp.a_matrix_.index_)[terms]]
    sub.a_matrix_.value_ = np.asarray(lp.a_matrix_.value_)[terms]
    return sub


def solve_by_blocks(lp: highspy.HighsLp, column_block: np.ndarray, split: RowSplit,
                    new_highs: Callable[[], highspy.Highs], *,
                    beside: bool = False) -> LpSolution | None:
    """Solve ``lp`` (continuous) block by block: its optimum, or None when it has none.

    ``column_block``: the label of each column (e.g. its year); ``split``: its
    :func:`split_rows`. ``new_highs``: an instance with the run's options set (its thread
    count above all: HiGHS's scheduler keeps the first solve's). Rows of fixed columns only
    get dual 0. ``beside``: solve about half of the blocks on the second core (only when
    HiGHS uses one thread: otherwise that core is taken).
    """
    if not _constant_rows_hold(lp, split):
        return None
    cost, lower = np.asarray(lp.col_cost_), np.asarray(lp.col_lower_)
    ours, theirs = _halves(np.unique(column_block[~split.fixed]), split)
    job = Forked(lambda: _solve_blocks(lp, column_block, split, theirs, new_highs),
                 wanted=beside and bool(theirs))
    try:
        solved = _solve_blocks(lp, column_block, split, ours, new_highs)
        solved = None if solved is None else _joined(solved, job.result())
    finally:
        job.stop()
    if solved is None:
        return None
    objective, row_dual = solved
    return LpSolution(objective + float(lp.offset_) + float(cost[split.fixed] @ lower[split.fixed]),
                      row_dual)


def _halves(labels: np.ndarray, split: RowSplit) -> tuple[list[int], list[int]]:
    """The block labels in two halves of about equal terms (largest first, to the lighter).

    The second half (never the largest block) goes to the second core; the halves
    depend on the LP alone, so the answer does not depend on where they ran.
    """
    rows_of_free_terms = split.row_of_term[split.free_term]
    terms = np.bincount(np.searchsorted(labels, split.row_block[rows_of_free_terms]),
                        minlength=len(labels))
    halves: tuple[list[int], list[int]] = ([], [])
    load = [0, 0]
    for position in np.argsort(-terms, kind="stable"):
        lighter = int(load[1] < load[0])
        halves[lighter].append(int(labels[position]))
        load[lighter] += int(terms[position])
    return halves


def _solve_blocks(lp: highspy.HighsLp, column_block: np.ndarray, split: RowSplit,
                  labels: list[int], new_highs: Callable[[], highspy.Highs],
                  ) -> tuple[float, np.ndarray] | None:
    """The blocks ``labels`` solved one by one: their objective and the duals of their rows.

    Rows of other blocks get dual 0; None when a block has no optimum.
    """
    objective, row_dual = 0.0, np.zeros(lp.num_row_)
    for label in labels:
        rows = np.flatnonzero(split.row_block == label)
        columns = np.flatnonzero(~split.fixed & (column_block == label))
        solved = solve_lp(block_lp(lp, split, rows, columns), new_highs)
        if solved is None:
            return None
        objective += solved.objective
        row_dual[rows] = solved.row_dual
    return objective, row_dual


def _joined(ours: tuple[float, np.ndarray],
            theirs: tuple[float, np.ndarray] | None) -> tuple[float, np.ndarray] | None:
    """Both halves' objective and duals together (each half's rows are disjoint)."""
    if theirs is None:
        return None
    return ours[0] + theirs[0], ours[1] + theirs[1]


def solve_lp(lp: highspy.HighsLp, new_highs: Callable[[], highspy.Highs]) -> LpSolution | None:
    """Solve one continuous LP in a fresh instance: its optimum, or None without one.

    None when HiGHS ends without an optimal dual solution (infeasible, unbounded, stopped).
    """
    highs = new_highs()
    highs.passModel(lp)
    run_stoppable(highs)
    info = highs.getInfo()
    if highs.getModelStatus() != _OPTIMAL or info.dual_solution_status != SOLUTION_FEASIBLE:
        return None
    return LpSolution(info.objective_function_value, np.asarray(highs.getSolution().row_dual))
