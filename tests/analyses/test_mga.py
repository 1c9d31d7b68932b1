"""Near-optimal alternatives: all within ε of the optimum, all opening other sites.

Three sites, each with a new option of one 10-place module; 10 pupils, one year, places at
£20k, independent £50k. Capital: S1 £100k, S2 £101k, S3 £102k, so

    open S1: 100k + 10 × 20k = 300k (the optimum)
    open S2: 301k (+0.33 %),   open S3: 302k (+0.67 %)
    two sites: ≥ 401k (+34 %),  nothing: 500k (+67 %)

Within ε = 1 % the alternatives are S2 then S3 (cheapest first among equally distant
plans), and no third; within ε = 0.5 % only S2.
"""

from __future__ import annotations

import pytest
from conftest import option

from sufficiency.analyses.mga import alternatives_of
from sufficiency.errors import InputError
from sufficiency.pipeline import run_plan

SITES = ["S1,One,A,405000,306000", "S2,Two,A,405000,307000", "S3,Three,A,405000,308000"]
OPTIONS = [option("NA", "S1", module=10, max_modules=1, capital=100_000),
           option("NB", "S2", module=10, max_modules=1, capital=101_000),
           option("NC", "S3", module=10, max_modules=1, capital=102_000)]


@pytest.fixture
def run(tiny):
    return run_plan(tiny.write(sites=SITES, demand=["A,ASD,primary,2026,10"], provision=OPTIONS))


@pytest.mark.parametrize(("epsilon", "sites", "costs"), [
    (1.0, ["S1", "S2", "S3"], [300_000, 301_000, 302_000]),
    (0.5, ["S1", "S2"], [300_000, 301_000]),
])
def test_alternatives_are_within_epsilon_and_distinct(run, epsilon, sites, costs):
    found = alternatives_of(run, k=3, epsilon=epsilon)
    summary = found.summary
    assert summary["sites"].tolist() == sites
    assert summary["total_cost"].tolist() == pytest.approx(costs)
    assert (summary["total_cost"] <= (1 + epsilon / 100) * summary.loc[0, "total_cost"]).all()
    assert summary["sites"].is_unique
    assert summary["extra_percent"].iloc[1] == pytest.approx(1 / 3, rel=1e-6)
    assert "no further plan" in found.stopped
    assert found.plans.groupby("plan")["site_id"].first().to_dict() == dict(
        zip(summary["plan"], sites, strict=True))


def test_stops_at_k(run):
    """k = 1 with room for two: one alternative, and the search says it found all asked."""
    found = alternatives_of(run, k=1, epsilon=1.0)
    assert found.summary["plan"].tolist() == ["optimal", "alternative 1"]
    assert found.stopped == "found all 1 alternatives asked for"


@pytest.mark.parametrize(("k", "epsilon", "option"), [(0, 2.0, "--k"), (3, 0.0, "--epsilon"),
                                                      (3, 150.0, "--epsilon")])
def test_bad_k_or_epsilon(k, epsilon, option):
    """Checked before anything is solved (no run needed)."""
    with pytest.raises(InputError, match=option):
        alternatives_of(None, k=k, epsilon=epsilon)
