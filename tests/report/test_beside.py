"""The second-core writer: a forked job, redone here when it fails, stopped on errors."""

from __future__ import annotations

import multiprocessing
from pathlib import Path

import pytest

import sufficiency
from sufficiency.report import beside
from sufficiency.report import outputs as outputs_module
from sufficiency.report.beside import Beside
from tests.conftest import TinyRun, option


def test_a_job_beside_writes_its_file(tmp_path):
    target = tmp_path / "made.txt"
    side = Beside(lambda: target.write_text("drawn beside"))
    assert side.done() is True
    assert target.read_text() == "drawn beside"


def test_a_failing_job_says_so_and_leaves_the_work_to_the_caller(tmp_path):
    def fails() -> None:
        (tmp_path / "half.txt").write_text("half")
        raise RuntimeError("no")

    side = Beside(fails)
    assert side.done() is False  # the parent redoes the job and meets the error itself


def test_without_fork_the_caller_does_the_job(monkeypatch, tmp_path):
    monkeypatch.setattr(multiprocessing, "get_all_start_methods", lambda: ["spawn"])
    target = tmp_path / "never.txt"
    side = Beside(lambda: target.write_text("x"))
    assert side.done() is False and not target.exists()
    side.stop()


def test_stop_ends_a_running_child_at_once(tmp_path):
    import time

    side = Beside(lambda: time.sleep(60))
    started = time.perf_counter()
    side.stop()
    assert time.perf_counter() - started < 10
    assert side.done() is False


def test_a_side_file_that_fails_is_reported_and_nothing_is_written(tmp_path, monkeypatch):
    """The child fails, the parent redoes the job, meets the error: no outputs at all."""
    toml = _tiny_run(tmp_path)

    def broken(run, folder: Path) -> None:
        raise OSError("disk full while drawing the map")

    monkeypatch.setattr(outputs_module, "write_side_files", broken)
    with pytest.raises(OSError, match="disk full"):
        sufficiency.plan(toml, output_root=tmp_path / "project")
    assert not (tmp_path / "project" / "outputs" / "tiny").exists()
    assert not (tmp_path / "project" / "maps").exists()


def test_the_outputs_are_the_same_beside_or_serial(tmp_path, monkeypatch):
    toml = _tiny_run(tmp_path)
    run, paths = sufficiency.plan(toml, output_root=tmp_path / "beside")
    monkeypatch.setattr(outputs_module, "Beside", _Serial)
    _, serial = sufficiency.plan(toml, output_root=tmp_path / "serial")
    for name in ("plan_map.png", "plan.gpkg", "cabinet.docx", "cabinet.html", "report.html"):
        assert (paths.folder / name).read_bytes() == (serial.folder / name).read_bytes(), name
    assert beside.FAILED == 1


class _Serial:
    """Beside switched off: the caller does every job."""

    def __init__(self, job) -> None:
        self.job = job

    def done(self) -> bool:
        return False

    def stop(self) -> None:
        return None


def _tiny_run(root: Path) -> Path:
    """One area, a special school with room for some, a resourced unit that may open."""
    return TinyRun(root).write(
        demand=["A,ASD,primary,2026,12"],
        provision=[option("SP", "S1", existing=5),
                   option("NEW", "S1", kind="resourced", module=10, max_modules=1,
                          capital=200_000)])
