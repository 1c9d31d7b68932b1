"""Safe outputs: an interrupted run leaves nothing half-written; same inputs, same bytes.

Outputs are staged in a hidden folder and moved into place only when complete
(:func:`sufficiency.report.outputs.write_outputs`); Ctrl-C exits with code 130.
"""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from conftest import areas_geojson, option, run_toml, square
from typer.testing import CliRunner

import sufficiency.report.outputs as outputs
from sufficiency.cli import INTERRUPTED, app


def small_run(tiny, **kwargs):
    return tiny.write(toml=run_toml(years=2, budget={2026: 300_000}),
                      demand=["A,ASD,primary,2026,12", "A,ASD,primary,2027,14"],
                      provision=[option("SP", "S1", existing=5),
                                 option("NEW", "S1", module=10, max_modules=1, capital=200_000)],
                      **kwargs)


def plan_cli(toml, root, *extra):
    return CliRunner().invoke(app, ["plan", str(toml), "--output-root", str(root), *extra])


def files_under(root: Path) -> dict[str, bytes]:
    """Every file under ``root`` (hidden ones included), by relative path."""
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*"))
            if p.is_file()}


def interrupt_on_call(monkeypatch, number: int) -> None:
    """Make the ``number``-th CSV write raise KeyboardInterrupt, as Ctrl-C would."""
    calls = {"n": 0}
    real = outputs._write_csv

    def write(frame, path):
        calls["n"] += 1
        if calls["n"] == number:
            raise KeyboardInterrupt
        real(frame, path)
    monkeypatch.setattr(outputs, "_write_csv", write)


def test_interrupted_writing_leaves_nothing(tiny, monkeypatch):
    interrupt_on_call(monkeypatch, 3)
    root = tiny.root / "project"
    result = plan_cli(small_run(tiny), root)
    assert result.exit_code == INTERRUPTED, result.output
    assert "interrupted: nothing was written" in result.output
    assert not root.exists(), f"left behind: {sorted(files_under(root)) if root.exists() else ''}"


def test_interrupted_replacement_keeps_the_earlier_run(tiny, monkeypatch):
    """With --force, an interruption while swapping in the new run restores the old one."""
    root = tiny.root / "project"
    toml = small_run(tiny)
    assert plan_cli(toml, root).exit_code == 0
    before = files_under(root)
    real_rename = Path.rename

    def rename(self, target):
        staged = self.name.startswith(".tiny.") and self.name != ".tiny.old"
        if staged and Path(target) == root / "outputs" / "tiny":
            raise KeyboardInterrupt  # the staged folder's move into place
        return real_rename(self, target)
    monkeypatch.setattr(Path, "rename", rename)
    result = plan_cli(toml, root, "--force")
    assert result.exit_code == INTERRUPTED, result.output
    assert files_under(root) == before, "the earlier run is back, byte for byte; no leftovers"


def test_ctrl_c_in_a_real_process(tiny):
    """A real SIGINT, sent by the process to itself while it writes the tables."""
    root = tiny.root / "project"
    script = textwrap.dedent(f"""
        import os, signal, sys
        import sufficiency.report.outputs as outputs
        from sufficiency.cli import main
        real, calls = outputs._write_csv, []
        def write(frame, path):
            calls.append(path)
            if len(calls) == 2:
                os.kill(os.getpid(), signal.SIGINT)
            real(frame, path)
        outputs._write_csv = write
        sys.argv = ["sufficiency", "plan", {str(small_run(tiny))!r}, "--output-root", {str(root)!r}]
        main()
    """)
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          timeout=300, env=os.environ | {"PYTHONWARNINGS": "ignore"})
    assert done.returncode == INTERRUPTED, done.stderr
    assert "interrupted: nothing was written" in done.stderr
    assert "Traceback" not in done.stderr
    assert not root.exists()


def without_timings(value):
    """summary.json with its timing values removed, at any depth."""
    if isinstance(value, dict):  # solve_seconds, and any other timing in seconds
        return {k: without_timings(v) for k, v in value.items() if not k.endswith("seconds")}
    if isinstance(value, list):
        return [without_timings(v) for v in value]
    return value


def test_same_inputs_give_byte_identical_outputs(tiny):
    """Byte for byte, apart from timings; names that are markup or formulas stay text."""
    areas = areas_geojson({"A": square(400_000, 300_000)}).replace(
        '"Area A"', '"<script>alert(1)</script> ${alert(2)} `"')
    toml = small_run(tiny, areas=areas,
                     sites=['S1,"=HYPERLINK(""http://x"",""y"")",A,405000,306000'])
    runs = []
    for name in ("one", "two"):
        assert plan_cli(toml, tiny.root / name).exit_code == 0
        runs.append(files_under(tiny.root / name))
    assert runs[0].keys() == runs[1].keys()
    summary = "outputs/tiny/summary.json"
    assert without_timings(json.loads(runs[0][summary])) == without_timings(
        json.loads(runs[1][summary]))
    differing = [path for path in runs[0] if path != summary and runs[0][path] != runs[1][path]]
    assert not differing, f"not byte-identical: {differing}"
    assert_names_stay_text(tiny.root / "one")


def assert_names_stay_text(root: Path) -> None:
    """Names are data: escaped in the map, never a formula in a CSV output."""
    html = (root / "maps" / "tiny.html").read_text()
    assert "<script>alert(1)" not in html
    for path in (root / "outputs" / "tiny").rglob("*.csv"):
        with path.open(newline="") as handle:
            cells = [cell for row in csv.reader(handle) for cell in row]
        formulas = [c for c in cells if c[:1] in ("=", "+", "@", "\t", "\r")
                    or (c.startswith("-") and not is_number(c))]
        assert not formulas, f"{path.name}: {formulas}"


def is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


@pytest.mark.parametrize("force", [False, True])
def test_nothing_written_on_bad_input_even_with_force(tiny, force):
    toml = tiny.write(demand=["A,ASD,primary,2026,-1"], provision=[option("SP", "S1",
                                                                          existing=10)])
    root = tiny.root / "project"
    result = plan_cli(toml, root, *(["--force"] if force else []))
    assert result.exit_code == 2
    assert not root.exists()


@pytest.mark.parametrize("name", ['=HYPERLINK("http://x","y")', "@cmd", "+1+1", "-2+3"])
def test_area_names_never_become_formulas_in_any_csv(tiny, name):
    areas = areas_geojson({"A": square(400_000, 300_000)}).replace(
        '"Area A"', json.dumps(name))
    root = tiny.root / "project"
    assert plan_cli(small_run(tiny, areas=areas), root).exit_code == 0
    with (root / "outputs" / "tiny" / "transport.csv").open(newline="") as handle:
        names = {row["area_name"] for row in csv.DictReader(handle)} - {"All areas"}
    assert names == {"'" + name}, "shown as written, after an apostrophe Excel hides"
    assert_names_stay_text(root)


def test_force_never_replaces_a_folder_sufficiency_did_not_write(tiny):
    """A run named like someone's own folder under outputs/: --force refuses, nothing lost."""
    root = tiny.root / "project"
    own = root / "outputs" / "tiny"
    own.mkdir(parents=True)
    (own / "notes.txt").write_text("mine")
    result = plan_cli(small_run(tiny), root, "--force")
    assert result.exit_code == 3, result.output
    assert "not written by sufficiency" in result.output
    assert (own / "notes.txt").read_text() == "mine"
    assert plan_cli(small_run(tiny), tiny.root / "fresh").exit_code == 0
    assert plan_cli(small_run(tiny), tiny.root / "fresh", "--force").exit_code == 0
