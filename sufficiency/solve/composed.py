"""Models composed from the plan model's row blocks at column offsets, handed to HiGHS whole.

The two-stage scenario model (:mod:`sufficiency.analyses.robust`) and the alternatives model
(:mod:`sufficiency.analyses.mga`) reuse the formulation as it is: each copy of the plan model
contributes its constraint families (:mod:`sufficiency.formulation.blocks`) placed at the
copy's column offsets, and extra rows (regret, CVaR, a cost budget, distance links) are
further CSR blocks. The Pyomo model holds the variables (domain, bounds and fixings copied
from the plan model's own, values loaded back after solving) and one ``MatrixConstraint``
per block; :func:`sufficiency.solve.direct.matrix_lp` hands the arrays to highspy in one call.

Add every variable before the first rows: a block's CSR uses global column numbers.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import highspy
import numpy as np
import pyomo.core as pyo  # not pyomo.environ: its solver plugins cost 0.2 s of import
from pyomo.core.base.matrix_constraint import MatrixConstraint

from sufficiency.formulation.blocks import FIRST, MODULES, OPENED, Csr, RowBlock, block_csr
from sufficiency.solve.direct import DirectHighs, matrix_lp

OPENINGS = (MODULES, FIRST, OPENED)  # families that describe what is built, not who goes where


@dataclass
class ComposedModel:
    """A MILP over explicitly placed columns: Pyomo variables, CSR row blocks, a cost vector."""

    model: pyo.ConcreteModel
    columns: list = field(default_factory=list)
    rows: list[Csr] = field(default_factory=list)
    cost: np.ndarray = field(default_factory=lambda: np.zeros(0))
    constant: float = 0.0  # objective constant, model money units (£k)

    def add_variables(self, name: str, count: int, domain=pyo.Reals,
                      bounds: tuple[float | None, float | None] = (None, None)) -> int:
        """``count`` new variables named ``name``; returns the first one's column."""
        var = pyo.Var(range(count), domain=domain, bounds=bounds, dense=True)
        self.model.add_component(name, var)
        return self._append(list(var.values()))

    def copy_variables(self, name: str, template: list) -> int:
        """Variables with the domains and bounds of ``template`` (e.g. a plan model's ``x``)."""
        var = pyo.Var(range(len(template)), dense=True)
        self.model.add_component(name, var)
        members = list(var.values())
        for new, old in zip(members, template, strict=True):
            new.domain = old.domain
            new.setlb(old.lb)
            new.setub(old.ub)
        return self._append(members)

    def _append(self, members: list) -> int:
        start = len(self.columns)
        self.columns.extend(members)
        self.cost = np.concatenate([self.cost, np.zeros(len(members))])
        return start

    def add_rows(self, name: str, csr: Csr) -> None:
        """One block of rows over the columns, as a Pyomo MatrixConstraint and for HiGHS."""
        lower = [None if not np.isfinite(v) else float(v) for v in csr.lower]
        upper = [None if not np.isfinite(v) else float(v) for v in csr.upper]
        self.model.add_component(name, MatrixConstraint(
            csr.data.tolist(), csr.indices.tolist(), csr.indptr.tolist(), lower, upper,
            self.columns))
        self.rows.append(csr)

    def add_block(self, name: str, block: RowBlock, offsets: dict[str, int]) -> None:
        """A formulation block with its variable families at ``offsets``."""
        self.add_rows(name, block_csr(block, offsets))

    @property
    def size(self) -> dict[str, int]:
        """Variables, integer variables, constraints and nonzeros handed to HiGHS."""
        return {"variables": len(self.columns),
                "integer_variables": sum(1 for var in self.columns if var.is_integer()),
                "constraints": int(sum(len(c.lower) for c in self.rows)),
                "nonzeros": int(sum(len(c.data) for c in self.rows))}

    def lp(self) -> highspy.HighsLp:
        """The whole model as one highspy LP/MIP."""
        return matrix_lp(self.columns, self.rows, self.cost, self.constant)

    def values(self, start: int, count: int) -> np.ndarray:
        """Solved values of ``count`` columns from ``start`` (0 where unset)."""
        return np.array([v.value or 0.0 for v in self.columns[start:start + count]])


def dense_rows(coefficients: list[np.ndarray], lower, upper) -> Csr:
    """CSR of rows given as dense coefficient vectors over every column (zeros dropped)."""
    indices = [np.flatnonzero(row) for row in coefficients]
    data = [row[idx] for row, idx in zip(coefficients, indices, strict=True)]
    indptr = np.cumsum([0] + [len(idx) for idx in indices]).astype(np.int64)
    return Csr(np.concatenate(data).astype(float), np.concatenate(indices).astype(np.int64),
               indptr, np.asarray(lower, float), np.asarray(upper, float))


class ComposedHighs(DirectHighs):
    """The direct highspy hand-over for a :class:`ComposedModel`."""

    def lp(self, plan_model: ComposedModel) -> highspy.HighsLp:
        """The composed model's matrix, costs and bounds."""
        return plan_model.lp()


def sparse_rows(rows: np.ndarray, cols: np.ndarray, coefs: np.ndarray, n_rows: int,
                lower, upper) -> Csr:
    """CSR of ``n_rows`` rows given as (row, column, coefficient) triplets."""
    rows, cols, coefs = (np.asarray(a) for a in (rows, cols, coefs))
    order = np.lexsort((cols, rows))
    indptr = np.searchsorted(rows[order], np.arange(n_rows + 1)).astype(np.int64)
    return Csr(coefs[order].astype(float), cols[order].astype(np.int64), indptr,
               np.broadcast_to(np.asarray(lower, float), (n_rows,)).copy(),
               np.broadcast_to(np.asarray(upper, float), (n_rows,)).copy())
