"""The audit fails loudly on a plan that breaks an invariant, or on numerical garbage."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
from conftest import option, run_toml

from sufficiency.audit import audit
from sufficiency.errors import AuditError
from sufficiency.pipeline import run_plan


@pytest.fixture
def solved(tiny):
    """15 pupils, 10 existing places: 10 local, 5 independent."""
    run = run_plan(tiny.write(toml=run_toml(), demand=["A,ASD,primary,2026,15"],
                              provision=[option("SP", "S1", existing=10)]))
    return run.dataset, run.optimal


def test_a_correct_plan_passes(solved):
    dataset, result = solved
    audit(dataset, result)


def test_nan_in_a_table_is_numerical_trouble(solved):
    dataset, result = solved
    costs = result.costs_by_year.assign(placement=np.nan)
    with pytest.raises(AuditError, match="numerical trouble: costs_by_year holds NaN") as error:
        audit(dataset, replace(result, costs_by_year=costs))
    assert 'presolve = "off"' in str(error.value)


def test_over_capacity_fails_loudly(solved):
    dataset, result = solved
    placements = result.placements.copy()
    local = placements["option_id"] == "SP"
    placements.loc[local, "pupils"] += 5
    placements.loc[~local, "pupils"] -= 5
    with pytest.raises(AuditError, match="option SP in 2026: 15 pupils in 10"):
        audit(dataset, replace(result, placements=placements))
