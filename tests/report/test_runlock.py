"""One writer per run name: a second run of the same name refuses while the first holds it."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import pytest
from conftest import option, run_toml
from typer.testing import CliRunner

from sufficiency.cli import app
from sufficiency.report.runlock import LockHolder, RunLockedError, lock_path, run_lock


def small_run(tiny):
    return tiny.write(toml=run_toml(years=2), demand=["A,ASD,primary,2026,12",
                                                      "A,ASD,primary,2027,14"],
                      provision=[option("SP", "S1", existing=5),
                                 option("NEW", "S1", module=10, max_modules=1, capital=200_000)])


def test_a_live_lock_makes_the_second_run_refuse_and_name_its_holder(tmp_path):
    folder = tmp_path / "outputs" / "tiny"
    with (run_lock(folder),
          pytest.raises(RunLockedError, match=f"process {os.getpid()}") as caught,
          run_lock(folder)):
        pass
    assert caught.value.exit_code == 3
    assert not lock_path(folder).exists()


def test_a_lock_whose_process_is_gone_is_taken_over_with_a_note(tmp_path):
    folder = tmp_path / "outputs" / "tiny"
    finished = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                              capture_output=True, text=True, check=True)
    dead = LockHolder(int(finished.stdout), LockHolder.me().host, "2026-01-01T00:00:00+00:00")
    lock_path(folder).parent.mkdir(parents=True)
    lock_path(folder).write_text(dead.text())
    notes: list[str] = []
    with run_lock(folder, notes):
        assert LockHolder.read(lock_path(folder)).pid == os.getpid()
    assert notes and "stale" in notes[0] and str(dead.pid) in notes[0]


def test_a_lock_from_another_computer_is_never_taken_over(tmp_path):
    folder = tmp_path / "outputs" / "tiny"
    lock_path(folder).parent.mkdir(parents=True)
    lock_path(folder).write_text(LockHolder(1, "another-pc", "2026-01-01T00:00:00").text())
    with pytest.raises(RunLockedError, match="another-pc"), run_lock(folder):
        pass
    assert lock_path(folder).exists(), "someone else's lock is left alone"


def test_plan_refuses_while_another_run_of_the_name_holds_the_lock(tiny):
    root = tiny.root / "project"
    toml = small_run(tiny)
    with run_lock(root / "outputs" / "tiny"):
        result = CliRunner().invoke(app, ["plan", str(toml), "--output-root", str(root)])
    assert result.exit_code == 3, result.output
    assert "holds" in result.output and "lock" in result.output
    assert not (root / "outputs" / "tiny").exists() and not (root / "maps").exists()


def test_two_processes_planning_one_name_at_once_one_refuses(tiny):
    """Started together: exactly one writes; the other refuses (exit 3), none exits 0 late."""
    root = tiny.root / "project"
    toml = small_run(tiny)
    script = textwrap.dedent(f"""
        import sys
        from sufficiency.cli import main
        sys.argv = ["sufficiency", "plan", {str(toml)!r}, "--output-root", {str(root)!r}]
        main()
    """)
    env = os.environ | {"PYTHONWARNINGS": "ignore"}
    runs = [subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True, env=env) for _ in range(2)]
    errors = [run.communicate(timeout=300)[1] for run in runs]
    assert sorted(run.returncode for run in runs) == [0, 3], errors
    assert (root / "outputs" / "tiny" / "plan.csv").exists()
    assert not lock_path(root / "outputs" / "tiny").exists()
    leftovers = [p.name for p in (root / "outputs").iterdir() if p.name.startswith(".")]
    assert not leftovers


def test_outputs_follow_the_umask(tiny):
    root = tiny.root / "project"
    old = os.umask(0o022)
    try:
        result = CliRunner().invoke(app, ["plan", str(small_run(tiny)), "--output-root",
                                          str(root)])
        assert result.exit_code == 0, result.output
    finally:
        os.umask(old)
    assert (root / "outputs" / "tiny").stat().st_mode & 0o777 == 0o755


def test_a_full_disk_is_found_before_solving(tiny, monkeypatch):
    """The check runs before the solve: the pipeline is never entered."""
    import shutil
    from collections import namedtuple

    import sufficiency.api as api

    usage = namedtuple("usage", "total used free")
    monkeypatch.setattr(shutil, "disk_usage", lambda path: usage(10**9, 10**9 - 1000, 1000))
    monkeypatch.setattr(api, "run_plan", lambda *a, **k: pytest.fail("solved on a full disk"))
    root = tiny.root / "project"
    result = CliRunner().invoke(app, ["plan", str(small_run(tiny)), "--output-root", str(root)])
    assert result.exit_code == 3, result.output
    assert "MB free" in result.output
    assert not root.exists()
