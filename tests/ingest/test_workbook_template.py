"""`sufficiency template`: a documented dataset workbook, empty or from a dataset folder.

The end-to-end test round-trips the example: CSV folder -> template --from -> a run naming
the workbook gives the same plan as the folder (one solve of each).
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
from conftest import option
from typer.testing import CliRunner

import sufficiency
from sufficiency.cli import app
from sufficiency.ingest.workbook_template import TABLES, write_template
from sufficiency.preprocess.dataset import load
from sufficiency.preprocess.vocabulary import KINDS, NEEDS, PHASES

ROOT = Path(__file__).resolve().parents[2]
GOOD = {"demand": ["A,ASD,primary,2026,5"], "provision": [option("SP", "S1", existing=10)]}


def test_blank_template_is_documented(tmp_path):
    out = tmp_path / "blank.xlsx"
    result = CliRunner().invoke(app, ["template", str(out)])
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in tmp_path.iterdir()) == ["blank.xlsx"], "only OUT is written"
    book = openpyxl.load_workbook(out)
    assert book.sheetnames == ["notes", "settings", *(t.name for t in TABLES)]
    notes = " ".join(str(c.value) for row in book["notes"].iter_rows() for c in row if c.value)
    assert "settings sheet (setting 'areas')" in notes and "£ per pupil-year" in notes
    assert [c.value for c in book["settings"][1]] == ["setting", "value", "meaning"]
    assert book["settings"]["A2"].value == "areas"
    provision = book["provision"]
    header = [c.value for c in provision[1]]
    assert header[:3] == ["option_id", "site_id", "kind"] and "max_modules" in header
    comment = provision.cell(1, header.index("max_modules") + 1).comment.text
    assert "most modules that may ever open" in comment and "Unit: modules" in comment
    lists = {str(v.sqref): v.formula1 for v in provision.data_validations.dataValidation}
    assert lists == {"C2:C10001": '"' + ",".join(KINDS) + '"'}
    demand = book["demand"]
    lists = sorted(v.formula1 for v in demand.data_validations.dataValidation)
    assert lists == sorted(['"' + ",".join(NEEDS) + '"', '"' + ",".join(PHASES) + '"'])
    assert demand.column_dimensions["A"].number_format == "@"  # ids typed as text


def test_from_a_folder_fills_the_sheets_and_reads_back(tiny):
    """Numbers as numbers, text formula-safe, and the workbook run reads the same dataset."""
    toml = tiny.write(**GOOD, sites=["S1,=HYPERLINK(1),A,405000,306000"])
    out = tiny.root / "data.xlsx"
    write_template(out, tiny.root / "data")
    book = openpyxl.load_workbook(out)
    assert book["settings"]["B2"].value == "data/areas.geojson"
    sites = book["sites"]
    assert sites["B2"].value == "'=HYPERLINK(1)" and sites["D2"].value == 405000
    assert book["demand"]["E2"].value == 5 and book["travel"].max_row == 1
    toml.write_text(toml.read_text().replace('inputs = "data"', 'inputs = "data.xlsx"'))
    dataset = load(toml)
    assert dataset.sites["name"].tolist() == ["=HYPERLINK(1)"]  # the apostrophe is removed
    assert dataset.demand["pupils"].tolist() == [5.0]


def test_refuses_to_overwrite_without_force(tmp_path):
    out = tmp_path / "mine.xlsx"
    out.write_bytes(b"earlier")
    result = CliRunner().invoke(app, ["template", str(out)])
    assert result.exit_code == 3 and "--force" in result.output
    assert out.read_bytes() == b"earlier"
    assert CliRunner().invoke(app, ["template", str(out), "--force"]).exit_code == 0
    assert out.read_bytes()[:2] == b"PK"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["mine.xlsx"]


def test_same_inputs_same_bytes(tiny):
    tiny.write(**GOOD)
    first, second = tiny.root / "a.xlsx", tiny.root / "b.xlsx"
    write_template(first, tiny.root / "data")
    write_template(second, tiny.root / "data")
    assert first.read_bytes() == second.read_bytes()


@pytest.mark.parametrize(("args", "expect"), [
    (["out.csv"], "the template must be an .xlsx file"),
    (["missing/out.xlsx"], "does not exist"),
    (["out.xlsx", "--from", "nowhere"], "not a dataset folder"),
])
def test_bad_arguments(tmp_path, monkeypatch, args, expect):
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(app, ["template", *args])
    assert result.exit_code == 2 and expect in result.output, result.output
    assert list(tmp_path.iterdir()) == []


def test_example_round_trip_gives_the_same_plan(tmp_path):
    """CSV folder -> template --from -> workbook run: the same plan.csv and objective."""
    project = tmp_path / "project"
    (project / "models").mkdir(parents=True)
    shutil.copytree(ROOT / "inputs" / "example", project / "inputs" / "example")
    text = (ROOT / "models" / "example.toml").read_text()
    (project / "models" / "csv.toml").write_text(text.replace('name = "example"',
                                                              'name = "csv"'))
    (project / "models" / "xlsx.toml").write_text(
        text.replace('name = "example"', 'name = "xlsx"')
        .replace('inputs = "../inputs/example"', 'inputs = "../inputs/example.xlsx"'))
    result = CliRunner().invoke(app, ["template", str(project / "inputs" / "example.xlsx"),
                                      "--from", str(project / "inputs" / "example")])
    assert result.exit_code == 0, result.output
    csv_run, _ = sufficiency.plan(project / "models" / "csv.toml", write=False)
    xlsx_run, paths = sufficiency.plan(project / "models" / "xlsx.toml", output_root=project)
    assert not csv_run.optimal.plan.empty
    pd.testing.assert_frame_equal(xlsx_run.optimal.plan, csv_run.optimal.plan)
    pd.testing.assert_frame_equal(xlsx_run.optimal.placements, csv_run.optimal.placements)
    assert xlsx_run.optimal.report.objective == csv_run.optimal.report.objective
    written = pd.read_csv(paths.folder / "plan.csv", dtype={"option_id": str})
    assert written["option_id"].tolist() == csv_run.optimal.plan["option_id"].tolist()
    assert json.loads((paths.folder / "summary.json").read_text())["status"] == "optimal"
