"""An infeasible run is explained by its real cause; a plan's own placements feed back."""

from __future__ import annotations

import re
import shutil
from dataclasses import replace
from pathlib import Path

import pytest
from conftest import option, run_toml

from sufficiency.errors import SolveError
from sufficiency.pipeline import run_plan, validate_run
from sufficiency.solve.diagnose import explain_infeasible

REPO = Path(__file__).resolve().parents[2]
STICKY = '\n[placements]\nmodel = "sticky"\n'


def _sticky_run(tiny, pupils: float):
    toml = tiny.write(toml=run_toml() + STICKY, demand=["A,ASD,primary,2026,12"],
                      provision=[option("SP", "S1", existing=10)])
    (tiny.root / "data" / "current_placements.csv").write_text(
        f"area_id,need,phase,option_id,pupils\nA,ASD,primary,SP,{pupils}\n")
    return validate_run(toml)


def test_independent_allowed_is_never_blamed_on_independent_placement(tiny):
    """With independent placement on, the message names what can conflict instead."""
    dataset, sets = _sticky_run(tiny, 10)
    with pytest.raises(SolveError) as raised:
        explain_infeasible(dataset, sets)
    assert "switched off" not in str(raised.value)
    assert "committed.csv" in str(raised.value)


def test_current_pupils_over_places_are_named(tiny):
    """Pupils already placed above the places (past validation) are the cause named."""
    dataset, sets = _sticky_run(tiny, 10)
    cohorts = replace(sets.cohorts, current=sets.cohorts.current.assign(pupils=11.0))
    with pytest.raises(SolveError, match=re.escape(
            "current_placements.csv puts 11 pupils at 'SP' in AY 2026/27: 1 more than")):
        explain_infeasible(dataset, replace(sets, cohorts=cohorts))


def test_sticky_example_plans_from_its_own_do_nothing_placements(tmp_path):
    """The example with sticky cohorts and ramp-up, fed its do-nothing start year as
    current_placements.csv (rounded to 6 decimals, as written), plans without error."""
    shutil.copytree(REPO / "inputs" / "example", tmp_path / "inputs" / "example")
    (tmp_path / "models").mkdir()
    toml = tmp_path / "models" / "sticky.toml"
    text = (REPO / "models" / "example.toml").read_text()
    text = re.sub(r"(?m)^time_limit_s = .*$", "time_limit_s = 2", text)
    toml.write_text(text + STICKY + "\n[ramp_up.resourced]\nfirst_year = 0.5\n")
    first = run_plan(toml)
    assert first.do_nothing is not None
    placed = first.do_nothing.placements
    start = placed[placed["year"] == first.dataset.config.start_year]
    current = start.groupby(["area_id", "need", "phase", "option_id"], as_index=False)[
        "pupils"].sum().round(6)
    places = first.dataset.options.set_index("option_id")["existing_places"]
    held = current.groupby("option_id")["pupils"].sum()
    full = [o for o in held.index if o in places.index and held[o] >= places[o] - 1e-9]
    assert full  # do nothing fills some schools; the written rounding can tip one over:
    current.loc[current["option_id"] == full[0], "pupils"] += 0.000002  # as in issue #20
    current.to_csv(tmp_path / "inputs" / "example" / "current_placements.csv", index=False)
    again = run_plan(toml)
    assert again.dataset.current is not None
    assert again.optimal.report.status in ("optimal", "time_limit")
    assert again.do_nothing is not None
