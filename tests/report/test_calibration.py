"""The calibrated start: do nothing's start year against today's placements.

A one-year run, area A: S1 a special school (ASD and MLD, every phase, 10 places, £20k a
pupil), S2 a resourced provision (ASD primary, 5 places, £10k); independent £50k. Demand in
2026: 12 ASD primary, 8 SEMH secondary. Do nothing places ASD primary in the cheaper RP
first (5), the other 7 in the special school; no option serves SEMH, so its 8 go
independent. calibration.csv counts 20 independent (SEMH secondary), 6 special and 5
resourced (ASD primary) in 2025. So, by hand:

    independent  model 8,  data 20, −12   (12 > 20 % of 20 = 4, and 12 > 10: a warning)
    special      model 7,  data 6,  +1
    resourced    model 5,  data 5,   0
    all          model 20, data 31, −11
"""

from __future__ import annotations

import json

import pandas as pd
import pytest
from conftest import option, run_toml
from typer.testing import CliRunner

from sufficiency.cli import app
from sufficiency.pipeline import run_plan
from sufficiency.report.cabinet import render_report
from sufficiency.report.calibration import (
    calibration_table,
    calibration_view,
    calibration_warning,
    differs,
)

PROVISION = [option("S1_SPECIAL", "S1", needs="ASD;MLD", existing=10, cost=20_000),
             option("S2_RP", "S2", kind="resourced", needs="ASD", phases="primary", existing=5,
                    cost=10_000)]
SITES = ["S1,Special school,A,405000,306000", "S2,Host primary,A,405000,307000"]
DEMAND = ["A,ASD,primary,2026,12", "A,SEMH,secondary,2026,8"]
COUNTS = ("group,need,phase,pupils,year,source\n"
          "independent,SEMH,secondary,20,2025,test count\n"
          "special,ASD,primary,6,2025,test count\n"
          "resourced,ASD,primary,5,2025,test count\n")


def calibrated(tiny, counts: str | None = COUNTS, toml: str | None = None):
    """The tiny run, with calibration.csv (``counts``) in its dataset when given."""
    path = tiny.write(demand=DEMAND, provision=PROVISION, sites=SITES, toml=toml)
    if counts is not None:
        (path.parent / "data" / "calibration.csv").write_text(counts)
    return path


def totals(table: pd.DataFrame) -> dict[str, tuple[float, float, float]]:
    rows = table[(table["need"] == "all") & (table["phase"] == "all")]
    return {r.group: (r.model_pupils, r.data_pupils, r.difference) for r in rows.itertuples()}


def test_table_by_hand(tiny):
    run = run_plan(calibrated(tiny))
    table = calibration_table(run)
    assert totals(table) == {"independent": (8.0, 20.0, -12.0), "special": (7.0, 6.0, 1.0),
                             "resourced": (5.0, 5.0, 0.0), "all": (20.0, 31.0, -11.0)}
    detail = table.set_index(["group", "need", "phase"])
    assert detail.loc[("special", "ASD", "primary"), "model_pupils"] == 7.0
    assert set(table["data_year"]) == {2025}
    assert set(table["source"]) == {"calibration.csv (test count)"}
    warning = calibration_warning(run, table)
    assert warning.startswith("start year not calibrated: do nothing places 8 pupils "
                              "independently in AY 2026/27, the data 20 in AY 2025/26")


@pytest.mark.parametrize(("model", "data", "warned"), [
    (30.5, 20, True),     # 10.5 apart: over 10 pupils and over 20 % (4)
    (30, 20, False),      # exactly 10 pupils apart: not more than 10
    (112, 100, False),    # 12 pupils apart but 12 % of the data: not more than 20 %
    (121, 100, True),     # 21 apart: over 20 % (20) and over 10
    (79, 100, True),      # below the data as well
    (0, 11, True),        # the model has none
    (0, 10, False),
])
def test_warning_threshold_on_both_sides(model, data, warned):
    assert differs(model, data) is warned


def test_warning_reaches_summary_cli_and_report(tiny, tmp_path):
    path = calibrated(tiny)
    result = CliRunner().invoke(app, ["plan", str(path), "--output-root", str(tmp_path / "o")])
    assert result.exit_code == 0, result.output
    assert "start year not calibrated" in result.output
    folder = tmp_path / "o" / "outputs" / "tiny"
    summary = json.loads((folder / "summary.json").read_text())
    assert any(w.startswith("start year not calibrated") for w in summary["warnings"])
    written = pd.read_csv(folder / "calibration.csv")
    assert list(written.columns) == ["group", "need", "phase", "model_pupils", "data_pupils",
                                     "difference", "data_year", "source"]
    report = (folder / "report.html").read_text()
    assert 'id="calibration-table"' in report and 'id="calibration-warning"' in report


def test_close_enough_gives_no_warning(tiny):
    counts = COUNTS.replace("independent,SEMH,secondary,20", "independent,SEMH,secondary,15")
    run = run_plan(calibrated(tiny, counts))       # 8 against 15: 7 apart, not over 10
    assert calibration_warning(run) is None


def test_without_data_no_table_and_a_note(tiny):
    run = run_plan(calibrated(tiny, counts=None))
    assert calibration_table(run) is None
    view = calibration_view(run)
    assert view["rows"] is None and "not checked against today's placements" in view["note"]
    assert 'id="calibration-note"' in render_report(run)


def test_current_placements_are_the_data_when_given(tiny):
    """current_placements.csv: 5 in the RP, 8 independent (SEMH) at the start; sticky cohorts
    keep them there, so do nothing matches them exactly for those groups."""
    path = calibrated(tiny, counts=None)
    (path.parent / "data" / "current_placements.csv").write_text(
        "area_id,need,phase,option_id,pupils\nA,ASD,primary,S2_RP,5\n"
        "A,SEMH,secondary,independent,8\n")
    table = calibration_table(run_plan(path))
    assert set(table["source"]) == {"current_placements.csv"}
    assert totals(table)["independent"] == (8.0, 8.0, 0.0)
    assert totals(table)["resourced"] == (5.0, 5.0, 0.0)
    assert totals(table)["special"] == (7.0, 0.0, 7.0)


def test_bad_calibration_file_is_refused_and_nothing_written(tiny, tmp_path):
    path = calibrated(tiny, COUNTS.replace("special,ASD", "hospital,ASD"))
    result = CliRunner().invoke(app, ["plan", str(path), "--output-root", str(tmp_path / "o")])
    assert result.exit_code == 2
    assert "calibration.csv" in result.output and "row 3" in result.output
    assert "group" in result.output and "hospital" in result.output
    assert not (tmp_path / "o" / "outputs" / "tiny").exists()


def test_v1_run_without_calibration_keeps_its_outputs(tiny, tmp_path):
    """A contract v1 dataset (no calibration.csv, no current placements) writes no table."""
    path = calibrated(tiny, counts=None, toml=run_toml())
    result = CliRunner().invoke(app, ["plan", str(path), "--output-root", str(tmp_path / "o")])
    assert result.exit_code == 0, result.output
    assert not (tmp_path / "o" / "outputs" / "tiny" / "calibration.csv").exists()
