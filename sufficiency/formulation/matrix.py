"""The matrix form every model here shares: CSR row blocks over one ordered list of columns.

A constraint family is built as a :class:`RowBlock` (a term table, see
:mod:`sufficiency.formulation.constraints`) and turned into a :class:`Csr` over the model's
global column numbers (:func:`block_csr`). A :class:`MatrixModel` holds the Pyomo variables
in column order, its CSR blocks, a cost vector and a constant: what
:mod:`sufficiency.solve.direct` hands to HiGHS in one call. The rows are not also Pyomo
``MatrixConstraint`` components: nothing walks them (Pyomo's own interface, the reference,
takes expression rows), and at scale L their Python lists held 40 MB through the MIP.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import pyomo.core as pyo  # not pyomo.environ: its solver plugins cost 0.2 s of import
from pyomo.core.base.var import VarData

X, U, MODULES, FIRST, OPENED, BEGUN, OVER = ("x", "u", "modules", "first", "opened", "begun",
                                             "over")
FAMILIES = (X, U, MODULES, FIRST, OPENED, BEGUN, OVER)  # column order of the matrix handed to HiGHS


@dataclass(frozen=True)
class RowBlock:
    """One family of linear rows: lower ≤ Σ coef · var ≤ upper, terms sorted by row."""

    name: str
    terms: pd.DataFrame  # row, family, index, coef
    lower: np.ndarray
    upper: np.ndarray

    @property
    def rows(self) -> int:
        """Number of constraints in the family."""
        return len(self.lower)


@dataclass(frozen=True)
class Csr:
    """A row block in compressed sparse row form over the model's global columns."""

    data: np.ndarray
    indices: np.ndarray
    indptr: np.ndarray
    lower: np.ndarray
    upper: np.ndarray


def block_csr(block: RowBlock, offsets: dict[str, int]) -> Csr:
    """CSR of a block: column = offset of the variable's family + its index."""
    terms = block.terms
    indices = terms["index"].to_numpy() + terms["family"].map(offsets).to_numpy(np.int64)
    indptr = np.searchsorted(terms["row"].to_numpy(), np.arange(block.rows + 1))
    return Csr(terms["coef"].to_numpy(float), indices.astype(np.int64), indptr.astype(np.int64),
               block.lower, block.upper)


def dense_rows(coefficients: list[np.ndarray], lower: Sequence[float] | np.ndarray,
               upper: Sequence[float] | np.ndarray) -> Csr:
    """CSR of rows given as dense coefficient vectors over every column (zeros dropped)."""
    indices = [np.flatnonzero(row) for row in coefficients]
    data = [row[idx] for row, idx in zip(coefficients, indices, strict=True)]
    indptr = np.cumsum([0] + [len(idx) for idx in indices]).astype(np.int64)
    return Csr(np.concatenate(data).astype(float), np.concatenate(indices).astype(np.int64),
               indptr, np.asarray(lower, float), np.asarray(upper, float))


def sparse_rows(rows: np.ndarray, cols: np.ndarray, coefs: np.ndarray, n_rows: int,
                lower: float | np.ndarray, upper: float | np.ndarray) -> Csr:
    """CSR of ``n_rows`` rows given as (row, column, coefficient) triplets."""
    rows, cols, coefs = (np.asarray(a) for a in (rows, cols, coefs))
    order = np.lexsort((cols, rows))
    indptr = np.searchsorted(rows[order], np.arange(n_rows + 1)).astype(np.int64)
    return Csr(coefs[order].astype(float), cols[order].astype(np.int64), indptr,
               np.broadcast_to(np.asarray(lower, float), (n_rows,)).copy(),
               np.broadcast_to(np.asarray(upper, float), (n_rows,)).copy())


def finite_or_none(bounds: np.ndarray) -> list[float | None]:
    """Row bounds as Pyomo takes them: None where a side is unbounded."""
    return [None if not np.isfinite(v) else float(v) for v in bounds]


@dataclass
class MatrixModel:
    """A MILP over explicitly ordered Pyomo columns: CSR row blocks, a cost vector, a constant.

    Add every variable before the first rows: a block's CSR uses global column numbers.
    """

    model: pyo.ConcreteModel
    columns: list[VarData] = field(default_factory=list)
    rows: list[Csr] = field(default_factory=list)
    cost: np.ndarray = field(default_factory=lambda: np.zeros(0))  # £k per unit, per column
    constant: float = 0.0  # objective constant, model money units (£k)

    def add_rows(self, name: str, csr: Csr) -> None:
        """One block of rows over the columns, next in the order HiGHS numbers them.

        ``name`` (the family) is the caller's label only: the rows are not Pyomo components.
        """
        del name
        self.rows.append(csr)

    def integer_count(self) -> int:
        """Integer columns, by a scan of every column's domain."""
        return sum(1 for var in self.columns if var.is_integer())

    @property
    def size(self) -> dict[str, int]:
        """Variables, integer variables, constraints and nonzeros handed to HiGHS."""
        return {"variables": len(self.columns),
                "integer_variables": self.integer_count(),
                "constraints": int(sum(len(c.lower) for c in self.rows)),
                "nonzeros": int(sum(len(c.data) for c in self.rows))}

    def values(self, start: int, count: int) -> np.ndarray:
        """Solved values of ``count`` columns from ``start`` (0 where unset)."""
        return np.array([v.value or 0.0 for v in self.columns[start:start + count]])
