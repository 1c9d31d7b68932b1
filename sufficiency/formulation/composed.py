"""Models composed from the plan model's row blocks at column offsets, handed to HiGHS whole.

The two-stage scenario model (:mod:`sufficiency.analyses.robust`) and the alternatives model
(:mod:`sufficiency.analyses.mga`) reuse the formulation as it is: each copy of the plan model
contributes its constraint families (:mod:`sufficiency.formulation.constraints`) placed at
the copy's column offsets, and extra rows (regret, CVaR, a cost budget, distance links) are
further CSR blocks (:func:`~sufficiency.formulation.matrix.dense_rows`,
:func:`~sufficiency.formulation.matrix.sparse_rows`). The Pyomo model holds the variables
(domain, bounds and fixings copied from the plan model's own, values loaded back after
solving); the blocks are CSR arrays, which :mod:`sufficiency.solve.direct` hands to
highspy in one call.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyomo.core as pyo  # not pyomo.environ: its solver plugins cost 0.2 s of import
from pyomo.core.base.var import VarData

from sufficiency.formulation.matrix import (
    BEGUN,
    FIRST,
    MODULES,
    OPENED,
    MatrixModel,
    RowBlock,
    block_csr,
)

# families that describe what is built, not who goes where
OPENINGS = (MODULES, FIRST, OPENED, BEGUN)


@dataclass
class ComposedModel(MatrixModel):
    """A MILP over explicitly placed columns: Pyomo variables, CSR row blocks, a cost vector."""

    def add_variables(self, name: str, count: int, domain: object = pyo.Reals,
                      bounds: tuple[float | None, float | None] = (None, None)) -> int:
        """``count`` new variables named ``name``; returns the first one's column."""
        var = pyo.Var(range(count), domain=domain, bounds=bounds, dense=True)
        self.model.add_component(name, var)
        return self._append(list(var.values()))

    def copy_variables(self, name: str, template: list[VarData]) -> int:
        """Variables with the domains and bounds of ``template`` (e.g. a plan model's ``x``)."""
        var = pyo.Var(range(len(template)), dense=True)
        self.model.add_component(name, var)
        members = list(var.values())
        for new, old in zip(members, template, strict=True):
            new.domain = old.domain
            new.setlb(old.lb)
            new.setub(old.ub)
        return self._append(members)

    def _append(self, members: list[VarData]) -> int:
        """Add ``members`` as the next columns, at zero cost; returns the first one's column."""
        start = len(self.columns)
        self.columns.extend(members)
        self.cost = np.concatenate([self.cost, np.zeros(len(members))])
        return start

    def add_block(self, name: str, block: RowBlock, offsets: dict[str, int]) -> None:
        """A formulation block with its variable families at ``offsets``."""
        self.add_rows(name, block_csr(block, offsets))
