"""The matrix hand-over keeps its rows and costs as arrays only, not also as Pyomo components."""

from __future__ import annotations

import pyomo.core as pyo
from conftest import option, run_toml

from sufficiency.formulation import build_model
from sufficiency.pipeline import validate_run


def _plan_model(tiny, extra: str = ""):
    toml = tiny.write(toml=run_toml(years=2) + extra,
                      demand=["A,ASD,primary,2026,15", "A,ASD,primary,2027,18"],
                      provision=[option("SP", "S1", existing=10, module=5, max_modules=2,
                                        capital=100_000)])
    dataset, sets = validate_run(toml)
    return build_model(sets, dataset.config)


def test_matrix_rows_and_costs_are_not_also_pyomo_components(tiny):
    """Nothing walks them; at scale L they held 64 MB (rows 40, objective 24) through the MIP."""
    plan = _plan_model(tiny)
    assert plan.size["constraints"] > 0
    assert sum(len(c.lower) for c in plan.rows) == plan.size["constraints"]
    assert plan.cost.any()
    assert not list(plan.model.component_objects(pyo.Constraint))
    assert not list(plan.model.component_objects(pyo.Objective))


def test_the_pyomo_reference_path_still_has_its_expression_rows(tiny):
    """Pyomo's own interface (the reference the direct hand-over is checked against)."""
    plan = _plan_model(tiny, "\n[formulation]\nmatrix_constraints = false\n")
    rows = sum(len(c) for c in plan.model.component_objects(pyo.Constraint))
    assert rows == plan.size["constraints"]
    assert len(list(plan.model.component_objects(pyo.Objective))) == 1
