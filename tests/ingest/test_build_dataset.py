"""The whole build: spec checks, written files, no overwrite, the command line."""

from __future__ import annotations

import json

import pytest
from buildkit import build, copy_fixtures, edit
from typer.testing import CliRunner

from sufficiency.cli import app
from sufficiency.errors import InputError, OutputExistsError
from sufficiency.ingest.spec import load_spec
from sufficiency.preprocess.dataset import load


def test_unknown_spec_key_gets_a_suggestion(tmp_path):
    spec = copy_fixtures(tmp_path)
    edit(spec, "places_from =", "place_from =")
    with pytest.raises(InputError, match=r"key 'establishments.place_from': unknown key — did "
                                         r"you mean 'establishments.places_from'\?"):
        load_spec(spec)


def test_run_settings_are_checked_by_the_engine_reader(tmp_path):
    spec = copy_fixtures(tmp_path)
    edit(spec, "horizon_years = 2", "horizon_years = 0")
    with pytest.raises(InputError, match="key 'run.horizon_years': 0 is out of range"):
        load_spec(spec)


def test_missing_source_file_is_named(tmp_path):
    spec = copy_fixtures(tmp_path)
    (spec.parent / "snpp.csv").unlink()
    with pytest.raises(InputError, match=r"key 'demand.population.file': source file .*snpp.csv "
                                         "does not exist"):
        load_spec(spec)


def test_written_dataset_is_a_valid_contract_dataset(tmp_path):
    spec = copy_fixtures(tmp_path)
    result = build(spec, tmp_path)
    folder = result.dataset_dir
    assert sorted(p.name for p in folder.iterdir()) == [
        ".sufficiency-dataset", "README.md", "areas.geojson", "base_demand.csv",
        "build_log.csv", "calibration.csv", "demand.csv", "growth.csv", "provision.csv",
        "sites.csv"]
    assert (folder / ".sufficiency-dataset").read_text().startswith(
        "This folder was written by `sufficiency build-dataset testshire.build.toml`.")
    doc = json.loads((folder / "areas.geojson").read_text())
    assert doc["crs"]["properties"]["name"] == "urn:ogc:def:crs:EPSG::27700"
    dataset = load(result.run_path)           # the engine's own reader and checks
    assert list(dataset.areas["area_id"]) == ["A", "B"]
    assert len(dataset.options) == 10
    assert 'inputs = "../inputs/testshire"' in result.run_path.read_text()
    readme = (folder / "README.md").read_text()
    assert "Fabricated test data." in readme
    assert "unknown establishment type 'Secure children's home'" in readme


def test_same_sources_give_the_same_bytes(tmp_path):
    spec = copy_fixtures(tmp_path)
    first = build(spec, tmp_path / "one")
    second = build(spec, tmp_path / "two")
    assert first.files == second.files


def test_refuses_to_overwrite_without_force(tmp_path):
    spec = copy_fixtures(tmp_path)
    result = build(spec, tmp_path)
    (result.dataset_dir / "sites.csv").write_text("edited by hand\n")
    with pytest.raises(OutputExistsError, match="--force"):
        build(spec, tmp_path)
    assert (result.dataset_dir / "sites.csv").read_text() == "edited by hand\n"
    build(spec, tmp_path, force=True)
    assert (result.dataset_dir / "sites.csv").read_text().startswith("site_id,name,area_id")


def test_command_line(tmp_path):
    spec = copy_fixtures(tmp_path)
    runner = CliRunner()
    first = runner.invoke(app, ["build-dataset", str(spec)])
    assert first.exit_code == 0, first.output
    assert "10 options" in first.output and "Secure children's home" in first.output
    assert (spec.parent / "testshire" / "demand.csv").is_file()
    assert (spec.parent.parent / "models" / "testshire.toml").is_file()
    again = runner.invoke(app, ["build-dataset", str(spec)])
    assert again.exit_code == 3 and "--force" in again.output
    assert runner.invoke(app, ["build-dataset", str(spec), "--force"]).exit_code == 0
    edit(spec.parent / "caseload.csv", "All EHC plans,500,20,100,10", "All EHC plans,500,20,1o0,10")
    bad = runner.invoke(app, ["build-dataset", str(spec), "--force"])
    assert bad.exit_code == 2
    assert "caseload.csv, row 2, column 'special_la_maintained'" in bad.output
