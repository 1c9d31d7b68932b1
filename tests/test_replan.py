"""Rolling re-plans: ``plan RUN --lock-until YEAR --from outputs/<earlier run>``, hand-solved.

One area A, site S1; no discounting or transport; independent £50k per pupil-year. R1
(£20k a place) and R2 (£21k), 10 places each, £100k capital, £1k per commissioned place
a year, lead 0. First plan, demand 10, 10, 20 in 2026–28: R1 in 2026 (it saves £30k a
pupil-year), R2 in 2028 for the ten extra pupils: 310k + 210k + 530k = £1,050k.
"""

from __future__ import annotations

import pandas as pd
import pytest
from conftest import option, run_toml
from typer.testing import CliRunner

from sufficiency import api
from sufficiency.cli import app
from sufficiency.preprocess.paths import MARKER, marker_text
from sufficiency.report.changes import changes_table

PROVISION = [option("R1", "S1", module=10, max_modules=1, capital=100_000, commissioned=1000),
             option("R2", "S1", module=10, max_modules=1, capital=100_000, cost=21_000,
                    commissioned=1000)]


PLAN_CSV = ("option_id,site_id,kind,modules,places,opening_year,capital_year,capital_cost\n"
            "R1,S1,special,1,10,2026,2026,100000.0\nR2,S1,special,1,10,2028,2028,100000.0\n")


def folder(root, name: str, *, marker: bool = True, plan_csv: str | None = PLAN_CSV):
    """A folder as `sufficiency plan` writes it (its marker, plan.csv), or a faulty one."""
    path = root / name
    path.mkdir()
    if marker:
        (path / MARKER).write_text(marker_text("plan tiny"))
    if plan_csv is not None:
        (path / "plan.csv").write_text(plan_csv)
    return path


def write(tiny, demand: list[int], start: int = 2026, provision=None):
    rows = [f"A,ASD,primary,{start + i},{n}" for i, n in enumerate(demand)]
    return tiny.write(demand=rows, provision=provision or PROVISION,
                      toml=run_toml(start=start, years=len(demand)))


def plan(path, *args: str):
    return CliRunner().invoke(app, ["plan", str(path), "--output-root",
                                    str(path.parent), *args])


def first_plan(tiny):
    path = write(tiny, [10, 10, 20])
    result = plan(path)
    assert result.exit_code == 0, result.output
    return path, path.parent / "outputs" / "tiny"


def test_a_lock_keeps_year_one_and_lets_year_three_change(tiny):
    """Demand grows to 10, 20, 20. Locked to 2026, R1 stays; R2 moves from 2028 to 2027:
    2026 310k, 2027 200k + 210k + 20k + 100k, 2028 430k: £1,270k. changes.csv: R1 locked,
    R2 moved."""
    path, earlier = first_plan(tiny)
    assert (earlier / "plan.csv").read_text() == PLAN_CSV  # what the other tests start from
    write(tiny, [10, 20, 20])
    result = plan(path, "--force", "--lock-until", "2026", "--from", str(earlier))
    assert result.exit_code == 0, result.output
    folder = path.parent / "outputs" / "tiny"
    plan_csv = pd.read_csv(folder / "plan.csv")
    assert plan_csv[["option_id", "opening_year", "decision"]].values.tolist() == [
        ["R1", 2026, "locked"], ["R2", 2027, "new"]]
    summary = pd.read_json(folder / "summary.json", typ="series")
    assert summary["objective"] == pytest.approx(1_270_000)
    changes = pd.read_csv(folder / "changes.csv").set_index("option_id")
    assert changes["status"].to_dict() == {"R1": "locked", "R2": "moved"}
    assert changes.loc["R2", "openings_before"] == "2028×1"
    assert changes.loc["R2", "openings_now"] == "2027×1"
    report = (folder / "report.html").read_text()
    assert 'id="changes"' in report and 'id="commitments"' in report


def test_an_opening_no_longer_needed_is_dropped(tiny):
    """Demand now 1, 10, 10. R1 keeps its 2026 opening (2026: 20k + 10k commissioned + 100k;
    2027–28: 210k each = £550k; opening it in 2027 instead would cost £570k); R2, planned
    for 2028, is no longer needed: dropped."""
    earlier = folder(tiny.root, "earlier")  # the first plan, as plan.csv holds it
    path = write(tiny, [1, 10, 10])
    run, _ = api.plan(path, write=False, lock_until=2026, locked_from=earlier)
    assert run.optimal.total_cost == pytest.approx(550_000)
    assert changes_table(run).set_index("option_id")["status"].to_dict() == {
        "R1": "locked", "R2": "dropped"}


def test_a_later_start_skips_what_opened_before_it(tiny):
    """Re-planned a year on (start 2027): R1 opened in 2026, before the start, so its places
    are taken to be in existing_places (a warning says so) and nothing is fixed for it."""
    earlier = folder(tiny.root, "earlier")  # the first plan, as plan.csv holds it
    with_r1 = [option("R1", "S1", existing=10, module=10, max_modules=0),
               PROVISION[1]]
    path = write(tiny, [10, 20], start=2027, provision=with_r1)
    run, _ = api.plan(path, write=False, lock_until=2027, locked_from=earlier)
    assert run.dataset.fixed is None
    assert any("taken to be in provision.csv's existing_places" in w and "R1" in w
               for w in run.dataset.warnings)
    table = changes_table(run).set_index("option_id")
    assert table.loc["R1", "status"] == "locked"
    assert "existing_places" in table.loc["R1", "note"]


@pytest.mark.parametrize(("args", "expect"), [
    (["--lock-until", "2030", "--from", "EARLIER"], "outside the horizon"),
    (["--lock-until", "2026"], "--lock-until needs --from"),
    (["--from", "EARLIER"], "--from needs --lock-until"),
    (["--lock-until", "2026", "--from", "NOT_A_PLAN"], "not a plan written by sufficiency"),
    (["--lock-until", "2026", "--from", "NO_PLAN_CSV"], "holds no plan.csv"),
    (["--lock-until", "2026", "--from", "MISSING"], "--from folder not found"),
    (["--lock-until", "2026", "--from", "UNKNOWN"], "locked option 'R9'"),
])
def test_bad_re_plans_stop_before_solving(tiny, args, expect):
    """Exit 2 with what to do, before solving; nothing is written."""
    path = write(tiny, [10, 20, 20])
    names = {"EARLIER": folder(tiny.root, "earlier"),
             "NOT_A_PLAN": folder(tiny.root, "other", marker=False),
             "NO_PLAN_CSV": folder(tiny.root, "no_plan", plan_csv=None),
             "MISSING": tiny.root / "missing",
             "UNKNOWN": folder(tiny.root, "unknown", plan_csv=PLAN_CSV.replace("R1,", "R9,"))}
    result = plan(path, *[str(names.get(a, a)) for a in args])
    assert result.exit_code == 2, result.output
    assert expect in result.output, result.output
    assert " — " in result.output and "Traceback" not in result.output
    assert "Solving" not in result.output
    assert not (tiny.root / "outputs").exists()
    if expect.startswith("locked option"):
        assert "plan.csv, row 2, column 'option_id'" in result.output


def test_a_lock_that_is_also_a_commitment_is_the_commitment(tiny):
    """committed.csv holds R1 in 2026, which the earlier plan also opened: one fixed opening,
    the commitment (the lock of the same option and year is dropped, not counted twice)."""
    earlier = folder(tiny.root, "earlier")
    path = write(tiny, [10, 20, 20])
    (path.parent / "data" / "committed.csv").write_text("option_id,modules,opening_year\n"
                                                         "R1,1,2026\n")
    run, _ = api.plan(path, write=False, lock_until=2028, locked_from=earlier)
    fixed = run.dataset.fixed
    assert fixed[["option_id", "opening_year", "source"]].values.tolist() == [
        ["R1", 2026, "committed"], ["R2", 2028, "locked"]]
    assert run.optimal.plan["decision"].tolist() == ["committed", "locked"]


def test_report_re_plans_with_a_lock(tiny):
    """`report --lock-until 2026 --from <earlier>`: the re-plan of the first test, with the
    value of each opening; changes.csv written; the API takes the same two arguments."""
    earlier = folder(tiny.root, "earlier")
    path = write(tiny, [10, 20, 20])
    result = CliRunner().invoke(app, ["report", str(path), "--output-root", str(path.parent),
                                      "--lock-until", "2026", "--from", str(earlier)])
    assert result.exit_code == 0, result.output
    written = path.parent / "outputs" / "tiny"
    changes = pd.read_csv(written / "changes.csv").set_index("option_id")
    assert changes["status"].to_dict() == {"R1": "locked", "R2": "moved"}
    summary = pd.read_json(written / "summary.json", typ="series")
    assert summary["objective"] == pytest.approx(1_270_000)
    assert 'id="changes"' in (written / "report.html").read_text()
    run, paths, _ = api.report(path, output_root=path.parent / "api", lock_until=2026,
                               locked_from=earlier)
    assert (paths.folder / "changes.csv").read_bytes() == (written / "changes.csv").read_bytes()
    assert run.openings is not None and run.dataset.config.replan.lock_until == 2026


@pytest.mark.parametrize(("args", "expect"), [
    (["--lock-until", "2026"], "--lock-until needs --from"),
    (["--lock-until", "2026", "--from", "EARLIER", "--with", "scenarios"],
     "cannot go with a re-plan"),
])
def test_report_refuses_a_half_or_unkeepable_lock(tiny, args, expect):
    path = write(tiny, [10, 20, 20])
    earlier = str(folder(tiny.root, "earlier"))
    result = CliRunner().invoke(app, ["report", str(path), "--output-root", str(path.parent),
                                      *[earlier if a == "EARLIER" else a for a in args]])
    assert result.exit_code == 2, result.output
    assert expect in result.output and " — " in result.output
    assert not (tiny.root / "outputs").exists()
