"""Committed schemes (committed.csv), hand-solved.

One area A, site S1 1 km north of its centroid. No discounting, no transport cost,
independent £50k per pupil-year; 10 ASD primary pupils in each of 2026, 2027 and 2028.
R1 (special, £20k a place, 10 places, £100k capital, lead 0) is what the optimum opens in
2026: 3 × 200k + 100k = £700k. R2 (resourced, £25k a place, 10 places, £300k) is never
worth opening: its places cost more than R1's and R1 already holds every pupil.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest
from conftest import option, run_toml
from typer.testing import CliRunner

from sufficiency.analyses.commitments import commitment_values
from sufficiency.audit import audit
from sufficiency.cli import app
from sufficiency.errors import AuditError, InputError
from sufficiency.formulation import build_model, build_sets
from sufficiency.pipeline import run_plan
from sufficiency.preprocess.committed import commitment_table
from sufficiency.preprocess.config import load_run_config
from sufficiency.preprocess.dataset import load_dataset
from sufficiency.solve.direct import highs_lp
from sufficiency.solve.highs import highs_options
from sufficiency.solve.rounding import Openings, keep_delivery, rounding_start

DEMAND = ["A,ASD,primary,2026,10", "A,ASD,primary,2027,10", "A,ASD,primary,2028,10"]
R1 = option("R1", "S1", module=10, max_modules=1, capital=100_000)


def r2(lead: int = 0, earliest: int = 2026, max_modules: int = 1) -> str:
    return option("R2", "S1", kind="resourced", module=10, max_modules=max_modules,
                  capital=300_000, cost=25_000, lead=lead, earliest=earliest)


def write(tiny, committed: list[str], *, provision=None, extra: str = "",
          header: str = "option_id,modules,opening_year,note"):
    path = tiny.write(demand=DEMAND, provision=provision or [R1, r2()],
                      toml=run_toml(years=3) + extra)
    (path.parent / "data" / "committed.csv").write_text("\n".join([header, *committed]) + "\n")
    return path


def test_a_commitment_the_optimum_would_not_choose_shows_its_cost(tiny):
    """R2 committed to open in 2027 (capital year 2027: nothing sunk). The plan keeps R1 in
    2026 and pays R2's £300k: 700k + 300k = £1,000k. Do nothing opens only R2: 2026 all
    independent 500k, 2027–28 10 × 25k each = 500k, capital 300k: £1,300k. Without the
    commitment the best plan costs £700k, so its value is 700k − 1,000k = −£300k."""
    run = run_plan(write(tiny, ["R2,1,2027,approved by cabinet"]))
    assert run.optimal.total_cost == pytest.approx(1_000_000)
    assert run.optimal.report.objective == pytest.approx(1_000_000)
    plan = run.optimal.plan.set_index("option_id")
    assert plan.loc["R2", "decision"] == "committed"
    assert plan.loc["R1", "decision"] == "new"
    assert run.optimal.costs_by_year.set_index("year").loc[2027, "capital"] == 300_000
    assert run.do_nothing.total_cost == pytest.approx(1_300_000)
    assert run.do_nothing.plan[["option_id", "opening_year", "modules"]].values.tolist() == [
        ["R2", 2027, 1]]  # do nothing: nothing new beyond the commitment
    values = commitment_values(run)
    assert values.loc[0, "cost_without"] == pytest.approx(700_000)
    assert values.loc[0, "value"] == pytest.approx(-300_000)


PROFILE = "\n[capital]\nspend_profile.resourced = [0.5, 0.5]\n"


def test_sunk_and_remaining_capital_with_a_spend_profile(tiny):
    """R2 (lead 2, so its capital year is 2025) opens in 2027: under construction, so its
    earliest_year 2028 does not block it. Half its £300k was spent in 2025 (sunk), half in
    2026 (remaining): the plan costs 700k + 150k = £850k; 2026's capital is R1's 100k and
    R2's 150k."""
    path = write(tiny, ["R2,1,2027,"], provision=[R1, r2(lead=2, earliest=2028)], extra=PROFILE)
    run = run_plan(path)
    assert run.optimal.total_cost == pytest.approx(850_000)
    costs = run.optimal.costs_by_year.set_index("year")
    assert costs.loc[2026, "capital"] == pytest.approx(250_000)
    assert costs.loc[2026, "capital_cash"] == pytest.approx(250_000)
    table = commitment_table(run.dataset.fixed, run.dataset.options, run.dataset.config)
    row = table.iloc[0]
    assert (row["capital_year"], row["sunk_capital"], row["remaining_capital"],
            row["remaining_capital_pv"]) == (2025, 150_000, 150_000, 150_000)


def test_without_a_spend_profile_capital_before_the_start_is_all_sunk(tiny):
    """v1 capital: R2's whole £300k in its capital year 2025, before the start: sunk."""
    run = run_plan(write(tiny, ["R2,1,2027,"], provision=[R1, r2(lead=2, earliest=2028)]))
    assert run.optimal.total_cost == pytest.approx(700_000)
    table = commitment_table(run.dataset.fixed, run.dataset.options, run.dataset.config)
    assert table.loc[0, "sunk_capital"] == 300_000 and table.loc[0, "remaining_capital"] == 0


def test_the_budget_counts_the_remaining_capital_only(tiny):
    """Budget 2026 £200k: R2's remaining £150k is spent then, so R1 (£100k) waits to 2027
    (2026: 500k independent + 150k; 2027: 200k + 100k; 2028: 200k = £1,150k). The sunk
    £150k of 2025 is in no budget, else the commitment alone would break the budget."""
    path = write(tiny, ["R2,1,2027,"], provision=[R1, r2(lead=2, earliest=2028)],
                 extra=PROFILE)
    path.write_text(path.read_text().replace("[capital_budget]\n",
                                             "[capital_budget]\n2026 = 200000\n"))
    run = run_plan(path)
    assert run.optimal.total_cost == pytest.approx(1_150_000)
    assert run.optimal.plan.set_index("option_id").loc["R1", "opening_year"] == 2027


def test_rounding_start_keeps_the_commitment_and_is_feasible(tiny):
    """The LP start (rounding and dive) holds the committed module exactly; every bound and
    row of the model is kept, so HiGHS takes it (it silently drops an infeasible start)."""
    path = write(tiny, ["R2,1,2027,"], provision=[R1, r2(lead=2, earliest=2028)],
                 extra=PROFILE)
    config = load_run_config(path)
    plan_model = build_model(build_sets(load_dataset(config)), config)
    lp = highs_lp(plan_model)
    found = rounding_start(plan_model, highs_lp(plan_model), highs_options(config.solver), config)
    assert found.plan is not None
    values = found.plan.values
    lower, upper = np.asarray(lp.col_lower_), np.asarray(lp.col_upper_)
    assert np.all(values >= lower - 1e-7) and np.all(values <= upper + 1e-7)
    starts, index, coef = (np.asarray(lp.a_matrix_.start_), np.asarray(lp.a_matrix_.index_),
                           np.asarray(lp.a_matrix_.value_))
    rows = np.array([coef[starts[r]:starts[r + 1]] @ values[index[starts[r]:starts[r + 1]]]
                     for r in range(lp.num_row_)])
    assert np.all(rows >= np.asarray(lp.row_lower_) - 1e-6)
    assert np.all(rows <= np.asarray(lp.row_upper_) + 1e-6)
    assert found.plan.objective == pytest.approx(850.0)  # £k: the optimum itself
    committed = plan_model.sets.open_slots["committed"].to_numpy() > 0
    start = plan_model.offsets["modules"]
    assert values[start:start + len(committed)][committed].tolist() == [1.0]
    on = path.read_text().replace("[solver]\n", "[solver]\nrounding_start = \"on\"\n")
    path.write_text(on)
    assert run_plan(path).optimal.total_cost == pytest.approx(850_000)


def test_delivery_repair_never_closes_a_commitment(tiny):
    """One scheme a year; R2 is committed in 2026 and the rounding also opened R1 then. The
    LP supported R2 less (0.2 against 0.9), yet R1 is closed: a commitment stays."""
    path = write(tiny, ["R2,1,2026,"], extra="\n[delivery]\nmax_new_schemes_per_year = 1\n")
    config = load_run_config(path)
    plan_model = build_model(build_sets(load_dataset(config)), config)
    slots = plan_model.sets.open_slots
    both = np.where(slots["year"].to_numpy() == 2026, 1.0, 0.0)
    firsts = plan_model.sets.first_slots
    openings = Openings(both, (firsts["year"].to_numpy() == 2026).astype(float))
    support = np.where(slots["option_id"].to_numpy() == "R1", 0.9, 0.2)
    kept = keep_delivery(plan_model, openings, support)
    opened = slots.assign(m=kept.modules).query("m > 0")["option_id"].tolist()
    assert opened == ["R2"]
    run = run_plan(path)  # R2 holds 2026 (250k + 300k); R1 in 2027 or never: both £1,050k
    assert run.optimal.total_cost == pytest.approx(1_050_000)
    assert run.optimal.plan.query("option_id == 'R1'")["opening_year"].min() != 2026


BUDGET = ("[capital_budget]\n", "[capital_budget]\n2027 = 100000\n")
ONE_SCHEME = ("[solver]\n", "[delivery]\nmax_new_schemes_per_year = 1\n\n[solver]\n")
BAD = [
    ("unknown option", ["RX,1,2027,"], None, "'RX' is not in provision.csv"),
    ("no module", ["R2,0,2027,"], None, "at least 1 module"),
    ("beyond max_modules", ["R2,1,2027,", "R2,1,2028,"], None, "its max_modules is 1"),
    ("before earliest_year", ["R2,1,2027,"], "earliest", "before earliest_year 2028"),
    ("before the start", ["R2,1,2025,"], None, "existing_places"),
    ("after the horizon", ["R2,1,2029,"], None, "after the horizon"),
    ("repeated", ["R2,1,2027,", "R2,1,2027,"], None, "repeats option 'R2'"),
    ("two schemes in one year", ["R1,1,2027,", "R2,1,2027,"], ONE_SCHEME,
     "2 fixed schemes open in 2027"),
    ("over the budget", ["R2,1,2027,"], BUDGET, "more than its capital_budget"),
]


@pytest.mark.parametrize(("case", "rows", "edit", "expect"), BAD, ids=[b[0] for b in BAD])
def test_bad_commitments_stop_the_run(tiny, case, rows, edit, expect):
    """Each bad commitment: exit 2, file, row and what to do, nothing written."""
    provision = [R1, r2(earliest=2028)] if edit == "earliest" else None
    path = write(tiny, rows, provision=provision)
    if isinstance(edit, tuple):
        path.write_text(path.read_text().replace(*edit))
    out = tiny.root / "out"
    result = CliRunner().invoke(app, ["plan", str(path), "--output-root", str(out)])
    assert result.exit_code == 2, result.output
    assert expect in result.output, result.output
    assert "committed.csv" in result.output and " — " in result.output
    assert "Traceback" not in result.output
    assert not out.exists()


def test_a_header_only_file_is_no_commitment(tiny):
    path = write(tiny, [])
    assert load_dataset(load_run_config(path)).fixed is None


def test_missing_column_is_named(tiny):
    with pytest.raises(InputError, match="opening_year"):
        load_dataset(load_run_config(write(tiny, ["R2,1"], header="option_id,modules")))


def test_plan_why_writes_each_commitments_value_beside_its_remaining_cost(tiny):
    """End to end: `plan --why` writes commitments.csv (value −£300k, as above) and the
    report's Committed schemes section; plan.csv says which opening was decided before."""
    path = write(tiny, ["R2,1,2027,approved"])
    out = tiny.root / "out"
    result = CliRunner().invoke(app, ["plan", str(path), "--why", "--output-root", str(out)])
    assert result.exit_code == 0, result.output
    folder = out / "outputs" / "tiny"
    table = pd.read_csv(folder / "commitments.csv")
    assert table[["option_id", "source", "sunk_capital", "remaining_capital", "value"]
                 ].values.tolist() == [["R2", "committed", 0.0, 300_000.0, -300_000.0]]
    assert pd.read_csv(folder / "plan.csv")["decision"].tolist() == ["new", "committed"]
    report = (folder / "report.html").read_text()
    assert 'id="commitments-table"' in report and "−£300,000" in report


def test_the_audit_finds_a_commitment_missing_from_a_plan(tiny):
    """A plan that drops the commitment fails the audit (the plan is never written)."""
    run = run_plan(write(tiny, ["R2,1,2027,"]))
    broken = dataclasses.replace(run.optimal, plan=run.optimal.plan.query("option_id != 'R2'"))
    with pytest.raises(AuditError, match="fixed opening R2 in 2027"):
        audit(run.dataset, broken)
