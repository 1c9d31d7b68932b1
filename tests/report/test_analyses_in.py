"""Analyses in the report and the map: only fresh ones (same fingerprint), notes for the rest.

The end-to-end case is the alternatives test's three-site world (tests/analyses/test_mga.py):
10 pupils, one year; a 10-place module at S1 costs £100k, at S2 £101k, at S3 £102k, so the
optimum opens S1 (£300k) and the one alternative within 1 % opens S2 (+£1,000).
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pandas as pd
import pytest
from conftest import TinyRun, option
from typer.testing import CliRunner

from sufficiency.api import AnalysisOptions
from sufficiency.api import plan as plan_run
from sufficiency.api import report as report_run
from sufficiency.cli import app
from sufficiency.errors import InputError
from sufficiency.report.analyses_in import (
    ANALYSIS_FILE,
    analysis_folder,
    analysis_texts,
    load_run_analyses,
    parse_with,
    read_analysis_table,
)
from sufficiency.report.analyses_view import scenarios_view
from sufficiency.report.cabinet import jinja_environment
from sufficiency.report.outputs import write_table_folder

SITES = ["S1,One,A,405000,306000", "S2,Two,A,405000,307000", "S3,Three,A,405000,308000"]
OPTIONS = [option("NA", "S1", module=10, max_modules=1, capital=100_000),
           option("NB", "S2", module=10, max_modules=1, capital=101_000),
           option("NC", "S3", module=10, max_modules=1, capital=102_000)]
FAST = AnalysisOptions(k=1, epsilon=1.0)
SLIPPAGE_TABLES = {"slippage.csv": pd.DataFrame({"case": ["as planned"], "total_cost": [1.0]}),
                   "slippage_by_year.csv": pd.DataFrame({"year": [2026]}),
                   "plans.csv": pd.DataFrame({"case": ["as planned"], "option_id": ["007"]})}


def write_slippage(root: Path, fingerprint: str, *, record: bool = True) -> Path:
    """A slippage folder as the command writes it (tiny tables), with its fingerprint."""
    texts = analysis_texts("slippage", "tiny", fingerprint, {"kinds": []}) if record else None
    return write_table_folder(analysis_folder(root, "tiny", "slippage"), SLIPPAGE_TABLES,
                              texts=texts)


# --- loading: fresh, stale, unproven, foreign, absent (no solving) ---

def test_a_fresh_analysis_is_loaded_with_ids_as_text(tmp_path):
    write_slippage(tmp_path, "f" * 64)
    loaded = load_run_analyses(tmp_path, "tiny", "f" * 64)
    assert loaded.slippage is not None and loaded.notes == ()
    assert loaded.scenarios is None and loaded.alternatives is None
    assert loaded.slippage["plans.csv"]["option_id"].tolist() == ["007"]
    assert loaded.slippage["slippage.csv"]["total_cost"].tolist() == [1.0]


def test_a_stale_analysis_is_left_out_with_how_to_rerun_it(tmp_path):
    write_slippage(tmp_path, "a" * 64)
    loaded = load_run_analyses(tmp_path, "tiny", "b" * 64, run_file="models/tiny.toml")
    assert loaded.slippage is None and not loaded.any
    (note,) = loaded.notes
    assert note.startswith("slippage left out: it was run on other inputs or settings")
    assert "`sufficiency slippage models/tiny.toml --force`" in note


@pytest.mark.parametrize("damage", ["no record", "unreadable record", "no marker"])
def test_an_unproven_or_foreign_folder_is_left_out(tmp_path, damage):
    folder = write_slippage(tmp_path, "f" * 64, record=damage != "no record")
    if damage == "unreadable record":
        (folder / ANALYSIS_FILE).write_text("{not json")
    if damage == "no marker":
        (folder / ".sufficiency-dataset").unlink()
    loaded = load_run_analyses(tmp_path, "tiny", "f" * 64)
    assert loaded.slippage is None
    (note,) = loaded.notes
    assert ("no marker" if damage == "no marker" else "no readable analysis.json") in note


def test_with_names_are_checked_and_put_in_order():
    assert parse_with("slippage, Scenarios,slippage") == ["scenarios", "slippage"]
    with pytest.raises(InputError, match="'sweep' is not an analysis.*scenarios, alternatives"):
        parse_with("slippage,sweep")


def test_unknown_with_name_exits_2_before_anything_is_done(tiny, tmp_path):
    toml = tiny.write(sites=SITES, demand=["A,ASD,primary,2026,10"], provision=OPTIONS)
    result = CliRunner().invoke(app, ["report", str(toml), "--with", "robustness",
                                      "--output-root", str(tmp_path / "out")])
    assert result.exit_code == 2
    assert "'robustness' is not an analysis" in result.output
    assert not (tmp_path / "out").exists()


def test_with_scenarios_on_a_run_without_scenarios_says_so(tiny, tmp_path):
    toml = tiny.write(sites=SITES, demand=["A,ASD,primary,2026,10"], provision=OPTIONS)
    result = CliRunner().invoke(app, ["report", str(toml), "--with", "scenarios",
                                      "--output-root", str(tmp_path / "out")])
    assert result.exit_code == 2
    assert "names no scenarios" in result.output
    assert not (tmp_path / "out").exists()


# --- end to end: run, include, go stale, re-run (one project; each step a fixture) ---

def pages(root: Path) -> tuple[str, str, dict]:
    """report.html, the map and summary.json of run "tiny" under ``root``."""
    folder = root / "outputs" / "tiny"
    return ((folder / "report.html").read_text(encoding="utf-8"),
            (root / "maps" / "tiny.html").read_text(encoding="utf-8"),
            json.loads((folder / "summary.json").read_text(encoding="utf-8")))


@pytest.fixture(scope="module")
def reported(tmp_path_factory):
    """Step 1: `report --with alternatives,slippage` on a fresh project (k = 1)."""
    root = tmp_path_factory.mktemp("analyses")
    toml = TinyRun(root).write(sites=SITES, demand=["A,ASD,primary,2026,10"],
                               provision=OPTIONS)
    _, _, analyses = report_run(toml, output_root=root / "out",
                                with_analyses="alternatives,slippage", options=FAST)
    return toml, root / "out", analyses, pages(root / "out")


@pytest.fixture(scope="module")
def gone_stale(reported):
    """Step 2: demand.csv edited after the analyses, then `plan --force`."""
    toml, root, _, _ = reported
    demand = toml.parent / "data" / "demand.csv"
    demand.write_text(demand.read_text().replace(",10", ",9"))
    plan_run(toml, output_root=root, force=True)
    return pages(root)


@pytest.fixture(scope="module")
def rerun(reported, gone_stale):
    """Step 3: `report --force --with alternatives` from the command line."""
    toml, root, _, _ = reported
    result = CliRunner().invoke(app, ["report", str(toml), "--force", "--with", "alternatives",
                                      "--k", "1", "--epsilon", "1", "--output-root", str(root)])
    return result, pages(root)


def test_with_runs_the_missing_analyses_and_the_report_and_map_show_them(reported):
    _, root, analyses, (html, page_map, summary) = reported
    assert analyses.alternatives is not None and analyses.slippage is not None
    assert analyses.notes == ()
    assert 'id="analysis-alternatives"' in html and 'id="analysis-slippage"' in html
    assert "Two (S2)" in html  # the alternative's site, by name
    layer = re.search(r'"Alternative 1: \+[^"]*" : (feature_group_\w+)', page_map)
    assert layer is not None  # its layer in the layer control,
    assert f"{layer.group(1)}.addTo(" not in page_map  # off until ticked
    records = {command: json.loads((analysis_folder(root, "tiny", command)
                                    / ANALYSIS_FILE).read_text())
               for command in ("alternatives", "slippage")}
    assert {r["fingerprint"] for r in records.values()} == {summary["fingerprint"]}
    assert records["alternatives"]["options"] == {"k": 1, "epsilon": 1.0}


def test_after_demand_changes_the_analyses_are_left_out_with_notes(gone_stale):
    html, page_map, _ = gone_stale
    assert 'id="analysis-alternatives"' not in html and 'id="analysis-slippage"' not in html
    assert html.count('class="note neg analysis-note"') == 2
    assert "alternatives left out: it was run on other inputs" in html
    assert "Alternative 1: +" not in page_map


def test_with_reruns_the_stale_one_asked_for(rerun):
    result, (html, page_map, _) = rerun
    assert result.exit_code == 0, result.output
    assert 'id="analysis-alternatives"' in html and "Alternative 1: +" in page_map
    assert 'id="analysis-slippage"' not in html  # not asked for: still left out, with its note
    assert "slippage left out" in html and "slippage left out" in result.output


# --- the scenario comparison as the report shows it (tables as `scenarios` writes them) ---

SCENARIO_CSV = {  # the columns the view reads, rows of the robust test's hand case
    "scenarios.csv": """scenario,weight,central,pupil_years,demand,own_optimum,do_nothing
central,0.5,True,30.0,demand.csv as given,1000000.0,1500000.0
high,0.25,False,60.0,× 2,2001000.0,3000000.0
""",
    "comparison.csv": """plan,expected_cost,worst_cost,worst_regret,places_created,capital,openings
robust,1213500.0,2001000.0,101000.0,20,201000.0,NA@2027×1; NB@2027×1
optimal for central,1262500.0,2500000.0,499000.0,10,100000.0,NA@2027×1
optimal for high,1213500.0,2001000.0,101000.0,20,201000.0,NA@2027×1; NB@2027×1
""",
    "regret.csv": """plan,scenario,cost,regret
robust,central,1101000.0,101000.0
robust,high,2001000.0,0.0
""",
    "robust.csv": "objective,alpha,status\nexpected,,optimal\n",
    "plans.csv": """plan,option_id,site_id,kind,places,opening_year,capital_year,capital_cost
robust,NA,S1,special,10,2027,2026,100000.0
robust,NB,S2,special,10,2027,2026,101000.0
""",
}


def test_scenario_comparison_shows_each_scenario_and_the_robust_plan(tmp_path):
    for name, text in SCENARIO_CSV.items():
        (tmp_path / name).write_text(text, encoding="utf-8")
    view = scenarios_view({name: read_analysis_table(tmp_path / name) for name in SCENARIO_CSV})
    high = view["rows"][1]
    assert (high["own_optimum"], high["own_places"], high["robust_cost"]) == (2_001_000, 20,
                                                                              2_001_000)
    assert [o["option_id"] for o in view["robust_openings"]] == ["NA", "NB"]
    html = jinja_environment().get_template("analyses.html.j2").render(analyses={
        "scenarios": view, "alternatives": None, "slippage": None, "notes": []})
    assert 'id="analysis-scenarios"' in html and "£1,101,000" in html  # robust, central
    assert "one robust plan (expected)" in html


def test_analysis_options_are_checked_by_the_commands_own_public_checks():
    """`report --with` refuses bad options before solving, through each module's check."""
    from sufficiency.analyses import mga, robust, slippage
    from sufficiency.api import check_analysis_options

    bad = AnalysisOptions(k=0, epsilon=2.0, objective="cheapest", kinds=("academy",))
    for command, check, args in (("alternatives", mga.check_options, (0, 2.0)),
                                 ("scenarios", robust.check_objective, ("cheapest", 0.9)),
                                 ("slippage", slippage.check_kinds, (["academy"],))):
        with pytest.raises(InputError) as caught:
            check_analysis_options([command], bad)
        with pytest.raises(InputError) as direct:
            check(*args)
        assert str(caught.value) == str(direct.value)
    check_analysis_options(["alternatives", "scenarios", "slippage"], AnalysisOptions())
