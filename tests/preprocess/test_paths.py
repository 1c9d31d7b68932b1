"""A run file from elsewhere is untrusted: what it may read (the project folder) and how.

The tiny runs here are ``tmp_path/project/run/run.toml`` with ``inputs = "data"``, so their
project folder is ``tmp_path/project`` and ``tmp_path/outside`` is outside it. A scenario's
``demand_file`` must stay inside the dataset or project folder; otherwise it is refused unread.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import TinyRun, option, run_toml
from typer.testing import CliRunner

import sufficiency.preprocess.scenarios as scenarios_module
from sufficiency.cli import app
from sufficiency.errors import InputError
from sufficiency.ingest.synth import write_synthetic
from sufficiency.preprocess.config import load_run_config
from sufficiency.preprocess.paths import project_folder
from sufficiency.preprocess.scenarios import parse_scenarios

ROOT = Path(__file__).resolve().parents[2]
SECRET = "area_id,need,phase,year,pupils\nSECRET-CELL,ASD,primary,2026,1\n"


@pytest.fixture
def tiny(tmp_path: Path) -> TinyRun:
    """A tiny run one folder below its project folder, with a folder outside beside it."""
    (tmp_path / "outside").mkdir()
    (tmp_path / "outside" / "secret.csv").write_text(SECRET)
    return TinyRun(tmp_path / "project" / "run")


def write(tiny, extra: str = "") -> Path:
    return tiny.write(demand=["A,ASD,primary,2026,5"], provision=[option("SP", "S1", existing=10)],
                      toml=run_toml() + extra)


def test_project_folder_is_the_parent_of_the_files_folder(tmp_path):
    assert project_folder(ROOT / "models" / "example.toml") == ROOT
    assert project_folder(ROOT / "inputs" / "york.build.toml") == ROOT
    assert project_folder(tmp_path / "run.toml") == tmp_path.parent
    assert project_folder(tmp_path / "run.toml", tmp_path / "x" / "..") == tmp_path
    assert project_folder(Path("/tmp/run.toml")) == Path("/tmp").resolve(), "never the root"


def test_worked_examples_and_synthetic_runs_stay_valid(tmp_path):
    for name in ("example", "example_scenarios", "york"):
        config = load_run_config(ROOT / "models" / f"{name}.toml")
        assert config.project == ROOT and config.inputs_dir.is_relative_to(ROOT)
    config = load_run_config(write_synthetic(tmp_path / "out", "S", seed=0))
    assert config.inputs_dir == tmp_path / "out" / "synth-S-s0"


def test_tiny_run_reads_its_data_folder(tiny):
    config = load_run_config(write(tiny))
    assert config.inputs_dir == tiny.root / "data" and config.project == tiny.root.parent


def test_nul_byte_in_the_run_path_is_an_input_error(tmp_path):
    with pytest.raises(InputError, match="not a usable path: it contains a NUL byte"):
        load_run_config(str(tmp_path / "run\0.toml"))


def test_project_folder_given_explicitly(tiny):
    """A run two folders below its data reads it only with the project named."""
    write(tiny)
    deep = tiny.root / "runs" / "2026"
    deep.mkdir(parents=True)
    toml = deep / "run.toml"
    toml.write_text(run_toml().replace('inputs = "data"', 'inputs = "../../data"'))
    with pytest.raises(InputError, match="key 'inputs': '../../data' leads outside the project"):
        load_run_config(toml)
    assert load_run_config(toml, project=tiny.root).inputs_dir == tiny.root / "data"


@pytest.fixture
def unread(monkeypatch):
    """Fail the test if a scenario's demand file is opened at all."""
    def refuse(path, *args, **kwargs):
        raise AssertionError(f"{path} was read")
    monkeypatch.setattr(scenarios_module, "read_csv_table", refuse)


@pytest.mark.parametrize("name", ["/etc/passwd", "../../../outside/secret.csv",
                                  "../../../../../../../../etc/passwd"])
def test_demand_file_outside_the_project_is_refused_unread(tiny, unread, name):
    toml = write(tiny, f'\n[scenarios.high]\ndemand_file = "{name}"\n')
    with pytest.raises(InputError) as error:
        parse_scenarios(load_run_config(toml))
    text = str(error.value)
    assert (f"key 'scenarios.high.demand_file': '{name}' leads outside the dataset and project "
            "folders; it was not read") in text
    assert "SECRET" not in text and "root:" not in text


def test_demand_file_through_a_symlink_is_refused_and_not_echoed(tiny):
    outside = tiny.root.parent.parent / "outside"
    toml = write(tiny, '\n[scenarios.high]\ndemand_file = "linked.csv"\n'
                       '[scenarios.low]\ndemand_file = "up/../outside/secret.csv"\n')
    (tiny.root / "data" / "linked.csv").symlink_to(outside / "secret.csv")
    (tiny.root / "data" / "up").symlink_to(outside)
    result = CliRunner().invoke(app, ["validate", str(toml)])
    assert result.exit_code == 2, result.output
    assert "key 'scenarios.high.demand_file': 'linked.csv' leads outside" in result.output
    assert "key 'scenarios.low.demand_file'" in result.output
    assert "SECRET" not in result.output and "Traceback" not in result.output


@pytest.mark.parametrize(("name", "says"), [
    ("de\\u0000mand.csv", "is not a usable path: it contains a NUL byte"),
    ("loop/demand.csv", "is not a usable path: it leads into a loop of symbolic links"),
])
def test_unusable_demand_file_path_is_an_input_error(tiny, unread, name, says):
    toml = write(tiny, f'\n[scenarios.high]\ndemand_file = "{name}"\n')
    (tiny.root / "data" / "loop").symlink_to(tiny.root / "data" / "loop")
    result = CliRunner().invoke(app, ["validate", str(toml)])
    assert result.exit_code == 2, result.output
    assert "key 'scenarios.high.demand_file'" in result.output and says in result.output


def test_demand_file_elsewhere_in_the_project_is_read(tiny):
    """The project folder (here the run folder's parent) may hold shared demand files."""
    toml = write(tiny, '\n[scenarios.high]\ndemand_file = "../../shared-demand.csv"\n')
    shared = tiny.root.parent / "shared-demand.csv"
    shared.write_text("area_id,need,phase,year,pupils\nA,ASD,primary,2026,7\n")
    (spec,) = parse_scenarios(load_run_config(toml))
    assert spec.demand_file == shared
