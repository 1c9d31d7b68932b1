"""The files a run writes: contract columns, costs = objective, no overwrite, the example map."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pandas as pd
import pytest
from conftest import option, run_toml
from typer.testing import CliRunner

from sufficiency.cli import app

ROOT = Path(__file__).resolve().parents[2]
CONTRACT_SUMMARY = {"status", "objective", "mip_gap", "solve_seconds", "baseline_objective",
                    "savings"}


def small_run(tiny):
    return tiny.write(toml=run_toml(years=3, budget={2026: 300_000}),
                      demand=[f"A,ASD,primary,{y},12" for y in (2026, 2027, 2028)],
                      provision=[option("SP", "S1", existing=5),
                                 option("NEW", "S1", module=10, max_modules=1,
                                        capital=200_000)])


def test_plan_writes_contract_files(tiny):
    root = tiny.root / "project"
    result = CliRunner().invoke(app, ["plan", str(small_run(tiny)), "--output-root", str(root)])
    assert result.exit_code == 0, result.output
    folder = root / "outputs" / "tiny"
    summary = json.loads((folder / "summary.json").read_text())
    assert summary.keys() >= CONTRACT_SUMMARY
    assert summary["status"] == "optimal"
    assert summary["savings"] == pytest.approx(summary["baseline_objective"] - summary["objective"])
    plan = pd.read_csv(folder / "plan.csv")
    assert list(plan.columns) == ["option_id", "site_id", "kind", "modules", "places",
                                  "opening_year", "capital_year", "capital_cost"]
    assert plan[["option_id", "opening_year", "places"]].values.tolist() == [["NEW", 2026, 10]]
    placements = pd.read_csv(folder / "placements.csv", keep_default_na=False)
    assert list(placements.columns) == ["year", "area_id", "need", "phase", "option_id",
                                        "pupils", "minutes", "km"]
    costs = pd.read_csv(folder / "costs_by_year.csv")
    assert list(costs.columns[:8]) == ["year", "placement", "commissioned", "transport",
                                       "independent", "capital", "total", "discounted_total"]
    assert costs["discounted_total"].sum() == pytest.approx(summary["objective"], abs=0.05)
    assert (root / "maps" / "tiny.html").is_file()


def test_refuses_to_overwrite_without_force(tiny):
    root = tiny.root / "project"
    toml = small_run(tiny)
    runner = CliRunner()
    assert runner.invoke(app, ["plan", str(toml), "--output-root", str(root)]).exit_code == 0
    summary = root / "outputs" / "tiny" / "summary.json"
    summary.write_text("earlier run")
    second = runner.invoke(app, ["plan", str(toml), "--output-root", str(root)])
    assert second.exit_code == 3
    assert "--force" in second.output
    assert summary.read_text() == "earlier run"
    forced = runner.invoke(app, ["plan", str(toml), "--output-root", str(root), "--force"])
    assert forced.exit_code == 0
    assert json.loads(summary.read_text())["status"] == "optimal"
    assert not [p for p in (root / "outputs").iterdir() if p.name.startswith(".")]


def test_same_inputs_same_outputs(tiny):
    toml = small_run(tiny)
    runner = CliRunner()
    for root in ("one", "two"):
        assert runner.invoke(app, ["plan", str(toml), "--output-root",
                                   str(tiny.root / root)]).exit_code == 0
    for name in ("plan.csv", "placements.csv", "costs_by_year.csv", "capacity.csv"):
        assert ((tiny.root / "one/outputs/tiny" / name).read_bytes()
                == (tiny.root / "two/outputs/tiny" / name).read_bytes())
    assert ((tiny.root / "one/maps/tiny.html").read_bytes()
            == (tiny.root / "two/maps/tiny.html").read_bytes())


def test_example_end_to_end(tmp_path):
    """The embedded example plans to optimality and its map names its layers."""
    result = CliRunner().invoke(app, ["plan", str(ROOT / "models" / "example.toml"),
                                      "--output-root", str(tmp_path)])
    assert result.exit_code == 0, result.output
    folder = tmp_path / "outputs" / "example"
    for name in ("summary.json", "plan.csv", "placements.csv", "costs_by_year.csv"):
        assert (folder / name).is_file()
    summary = json.loads((folder / "summary.json").read_text())
    assert summary["status"] == "optimal"
    assert summary["savings"] > 0
    html = (tmp_path / "maps" / "example.html").read_text()
    for layer in ("Planning areas: demand growth 2026", "Existing provision",
                  "New provision (plan)"):
        assert layer in html
    assert not re.search(r'(src|href)="https?:', html)
    from docx import Document

    from sufficiency.report.cabinet import money

    paper = Document(str(folder / "cabinet.docx"))  # the cabinet paper of the same run
    words = [p.text for p in paper.paragraphs]
    words += [c.text for t in paper.tables for row in t.rows for c in row.cells]
    assert len(paper.tables) <= 5 and len(" ".join(words).split()) <= 2_000
    assert f"saving of {money(summary['savings'])}" in " ".join(words)
    assert (folder / "cabinet.html").is_file() and (folder / "plan_map.png").is_file()
