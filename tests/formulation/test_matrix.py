"""The matrix hand-over keeps its rows and costs as arrays only, not also as Pyomo components."""

from __future__ import annotations

import pyomo.core as pyo
from conftest import option, run_toml

from sufficiency.formulation import BEGUN, FIRST, build_model
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


def _blocks(tiny) -> dict:
    """The row blocks of a three-year run whose one option has a fixed capital cost."""
    toml = tiny.write(toml=run_toml(years=3),
                      demand=[f"A,ASD,primary,{y},{d}" for y, d in ((2026, 15), (2027, 18),
                                                                     (2028, 22))],
                      provision=[option("SP", "S1", existing=10, module=5, max_modules=3,
                                        capital=100_000, fixed=250_000)])
    dataset, sets = validate_run(toml)
    plan = build_model(sets, dataset.config)
    return {block.name: block for block in plan.blocks}


def test_opened_by_year_is_one_column_each_link_names_once(tiny):
    """begun[o, t] = Σ_{y ≤ t} first[o, y] is written once, not in every link row.

    At XL the running sums were 282,000 of the opening links' 378,000 nonzeros.
    """
    blocks = _blocks(tiny)
    begun = blocks["begun_definition"].terms
    firsts_by_row = begun[begun["family"] == FIRST].groupby("row")["index"].apply(list)
    assert firsts_by_row.tolist() == [[0], [0, 1], [0, 1, 2]]  # opened by 2026, 2027, 2028
    assert (blocks["begun_definition"].lower == 0).all()
    assert (blocks["begun_definition"].upper == 0).all()
    for name in ("opening_link_by_area", "first_module_link"):
        terms = blocks[name].terms
        assert FIRST not in set(terms["family"])
        per_row = terms[terms["family"] == BEGUN].groupby("row").size()
        assert per_row.tolist() == [1] * blocks[name].rows
