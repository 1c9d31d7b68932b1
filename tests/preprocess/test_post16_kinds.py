"""Post-16 providers: FE-college high-needs places and specialist post-16 institutions.

They are kinds of their own (an extension of the contract's four), serve post16 only, and
have their own asset lives for the appraisal (college 20 years, institution 40).
"""

from __future__ import annotations

import pytest
from conftest import option, run_toml
from typer.testing import CliRunner

from sufficiency.cli import app
from sufficiency.pipeline import run_plan
from sufficiency.preprocess.capital import ASSET_LIFE_YEARS
from sufficiency.preprocess.vocabulary import KINDS, POST16_KINDS, V1_KINDS


def test_kinds_extend_the_contract():
    assert KINDS[:4] == V1_KINDS == ("special", "resourced", "satellite", "new_special")
    assert POST16_KINDS == ("fe_college", "specialist_post16")
    assert ASSET_LIFE_YEARS["fe_college"] == 20
    assert ASSET_LIFE_YEARS["specialist_post16"] == 40


@pytest.mark.parametrize(("kind", "phases"), [("fe_college", "primary"),
                                              ("specialist_post16", "*"),
                                              ("fe_college", "secondary;post16")])
def test_post16_kind_with_another_phase_is_refused(tiny, kind, phases):
    path = tiny.write(demand=["A,ASD,post16,2026,10"], provision=[
        option("S1_SPECIAL", "S1", existing=20),
        option("S1_FE", "S1", kind=kind, phases=phases, module=10, max_modules=1)])
    result = CliRunner().invoke(app, ["validate", str(path)])
    assert result.exit_code == 2
    assert "provision.csv, row 3, column 'phases'" in result.output
    assert f"a {kind} option serves post16 only" in result.output


def test_only_the_college_serves_post16_and_the_optimum_opens_it(tiny):
    """One year, r = 0, no transport cost; 10 ASD post16 pupils. S1's special school serves
    secondary only (its 20 cheap places cannot take them). The college may open one module of
    10 places for £100k capital, £6k per commissioned place and £6k per pupil.

    Open it: 100,000 + 10 × 6,000 + 10 × 6,000 = £220,000.
    Do nothing: 10 × £50,000 independent = £500,000."""
    path = tiny.write(demand=["A,ASD,post16,2026,10"], toml=run_toml(), provision=[
        option("S1_SPECIAL", "S1", phases="secondary", existing=20, cost=1_000),
        option("S1_FE", "S1", kind="fe_college", needs="ASD", phases="post16", module=10,
               max_modules=1, capital=100_000, cost=6_000, commissioned=6_000)])
    run = run_plan(path)
    assert run.optimal.total_cost == pytest.approx(220_000)
    assert run.do_nothing.total_cost == pytest.approx(500_000)
    plan = run.optimal.plan
    assert list(plan["option_id"]) == ["S1_FE"] and list(plan["kind"]) == ["fe_college"]
    placed = run.optimal.placements
    assert placed.loc[placed["option_id"] == "S1_FE", "pupils"].sum() == pytest.approx(10)
