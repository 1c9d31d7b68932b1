"""The Python API: plan a run and get its results as tables (and its files written)."""

from __future__ import annotations

from pathlib import Path

from sufficiency.analyses.openings import with_opening_values
from sufficiency.outcome import Progress, RunResult
from sufficiency.pipeline import run_plan
from sufficiency.preprocess.config import load_run_config
from sufficiency.report.outputs import (
    OutputPaths,
    check_writable,
    refuse_overwrite,
    write_outputs,
)
from sufficiency.report.runlock import run_lock


def plan(toml_path: str | Path, *, output_root: str | Path = ".", force: bool = False,
         write: bool = True, progress: Progress | None = None,
         why: bool = False) -> tuple[RunResult, OutputPaths | None]:
    """Solve a planning run; write outputs/<name>/ and maps/<name>.html under ``output_root``.

    Returns the run (``run.optimal.plan``, ``.placements``, ``.costs_by_year``, and the same
    for ``run.do_nothing``) and where its files went (None when ``write`` is False).
    ``why``: also re-solve the plan without each opening (``run.openings``: the value of each
    opening in the report; :mod:`sufficiency.analyses.openings`).
    """
    if not write:
        return _solved(toml_path, progress, why), None
    paths = OutputPaths.for_run(Path(output_root), load_run_config(toml_path).name)
    notes: list[str] = []
    with run_lock(paths.folder, notes):  # one writer per run name, for the whole run
        for note in notes:
            if progress:
                progress(note)
        refuse_overwrite(paths, force)
        check_writable(paths)
        run = _solved(toml_path, progress, why)
        with run.timer.stage("write", "Writing outputs and map"):
            write_outputs(run, Path(output_root), force=force)
    return run, paths


def _solved(toml_path: str | Path, progress: Progress | None, why: bool) -> RunResult:
    """The planned run, with the value of each opening when ``why``."""
    run = run_plan(toml_path, progress=progress)
    return with_opening_values(run, progress) if why else run
