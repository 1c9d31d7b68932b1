"""The side files (GeoPackage, the paper's map and the paper) written on the second core."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import NoSecondCore, TinyRun, option

import sufficiency
from sufficiency.report import outputs as outputs_module


def test_a_side_file_that_fails_is_reported_and_nothing_is_written(tmp_path, monkeypatch):
    """The child fails, the parent redoes the job, meets the error: no outputs at all."""
    toml = _tiny_run(tmp_path)

    def broken(run, folder: Path, analyses=None) -> None:
        raise OSError("disk full while drawing the map")

    monkeypatch.setattr(outputs_module, "write_side_files", broken)
    with pytest.raises(OSError, match="disk full"):
        sufficiency.plan(toml, output_root=tmp_path / "project")
    assert not (tmp_path / "project" / "outputs" / "tiny").exists()
    assert not (tmp_path / "project" / "maps").exists()


def test_the_outputs_are_the_same_beside_or_serial(tmp_path, monkeypatch):
    toml = _tiny_run(tmp_path)
    run, paths = sufficiency.plan(toml, output_root=tmp_path / "beside")
    monkeypatch.setattr(outputs_module, "Forked", NoSecondCore)
    _, serial = sufficiency.plan(toml, output_root=tmp_path / "serial")
    for name in ("plan_map.png", "plan.gpkg", "cabinet.docx", "cabinet.html", "report.html"):
        assert (paths.folder / name).read_bytes() == (serial.folder / name).read_bytes(), name


def _tiny_run(root: Path) -> Path:
    """One area, a special school with room for some, a resourced unit that may open."""
    return TinyRun(root).write(
        demand=["A,ASD,primary,2026,12"],
        provision=[option("SP", "S1", existing=5),
                   option("NEW", "S1", kind="resourced", module=10, max_modules=1,
                          capital=200_000)])
