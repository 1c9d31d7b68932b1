"""The Python API: plan a run and get its results as tables (and its files written)."""

from __future__ import annotations

from pathlib import Path

from sufficiency.outcome import Progress, RunResult
from sufficiency.pipeline import run_plan
from sufficiency.preprocess.config import load_run_config
from sufficiency.report.outputs import OutputPaths, refuse_overwrite, write_outputs


def plan(toml_path: str | Path, *, output_root: str | Path = ".", force: bool = False,
         write: bool = True, progress: Progress | None = None) -> tuple[RunResult,
                                                                        OutputPaths | None]:
    """Solve a planning run; write outputs/<name>/ and maps/<name>.html under ``output_root``.

    Returns the run (``run.optimal.plan``, ``.placements``, ``.costs_by_year``, and the same
    for ``run.do_nothing``) and where its files went (None when ``write`` is False).
    """
    if write:
        config = load_run_config(toml_path)
        refuse_overwrite(OutputPaths.for_run(Path(output_root), config.name), force)
    run = run_plan(toml_path, progress=progress)
    if not write:
        return run, None
    with run.timer.stage("write", "Writing outputs and map"):
        paths = write_outputs(run, Path(output_root), force=force)
    return run, paths
