"""The run fingerprint: it changes with any dataset byte or setting, and with nothing else.

The tiny run is ``project/models/run.toml`` with ``inputs = "../inputs/d"``, as a council's
project is laid out; nothing is solved.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from conftest import TinyRun, option, run_toml

from sufficiency.preprocess.config import load_run_config
from sufficiency.preprocess.fingerprint import files_read, run_fingerprint

SCENARIO = '\n[scenarios.high]\ndemand_file = "../../scenarios/high.csv"\n'


def write_project(root: Path, extra: str = "") -> Path:
    """project/models/run.toml and project/inputs/d/ (a one-area tiny dataset)."""
    data_root = root / "inputs"
    TinyRun(data_root).write(demand=["A,ASD,primary,2026,10"],
                             provision=[option("NA", "S1", module=10, max_modules=1)])
    (data_root / "run.toml").unlink()
    (data_root / "data").rename(data_root / "d")
    toml = root / "models" / "run.toml"
    toml.parent.mkdir(parents=True)
    toml.write_text(run_toml().replace('inputs = "data"', 'inputs = "../inputs/d"') + extra)
    return toml


def fingerprint(toml: Path) -> str:
    return run_fingerprint(load_run_config(toml))


@pytest.fixture
def project(tmp_path: Path) -> Path:
    return write_project(tmp_path / "project")


def test_same_inputs_same_fingerprint_even_after_moving_the_project(project, tmp_path):
    first = fingerprint(project)
    assert len(first) == 64 and first == fingerprint(project)
    moved = tmp_path / "elsewhere" / "project"
    shutil.copytree(project.parent.parent, moved)
    assert fingerprint(moved / "models" / "run.toml") == first


def test_one_dataset_byte_changes_it(project):
    before = fingerprint(project)
    demand = project.parent.parent / "inputs" / "d" / "demand.csv"
    demand.write_text(demand.read_text().replace(",10", ",11"))
    assert fingerprint(project) != before


def test_a_setting_changes_it_but_comments_and_layout_do_not(project):
    before = fingerprint(project)
    text = project.read_text()
    project.write_text("# a comment\n" + text.replace("discount_rate = 0.0",
                                                      "discount_rate   =   0.0  # same"))
    assert fingerprint(project) == before
    project.write_text(text.replace("discount_rate = 0.0", "discount_rate = 0.035"))
    assert fingerprint(project) != before


def test_documentation_and_lock_files_do_not_count_but_new_tables_do(project):
    before = fingerprint(project)
    folder = project.parent.parent / "inputs" / "d"
    (folder / "README.md").write_text("notes")
    (folder / "~$demand.xlsx").write_text("Excel's owner file")
    (folder / ".sufficiency-dataset").write_text("marker")
    assert fingerprint(project) == before
    (folder / "committed.csv").write_text("option_id,modules,opening_year\n")
    assert fingerprint(project) != before


def test_scenario_demand_files_count_also_outside_the_dataset_folder(tmp_path):
    """A scenario's demand file may lie anywhere in the project: it counts all the same."""
    high = tmp_path / "project" / "scenarios" / "high.csv"
    high.parent.mkdir(parents=True)
    toml = write_project(tmp_path / "project", SCENARIO)
    high.write_text("area_id,need,phase,year,pupils\nA,ASD,primary,2026,20\n")
    config = load_run_config(toml)
    assert high.resolve() in files_read(config)
    before = run_fingerprint(config)
    high.write_text("area_id,need,phase,year,pupils\nA,ASD,primary,2026,21\n")
    assert run_fingerprint(config) != before
