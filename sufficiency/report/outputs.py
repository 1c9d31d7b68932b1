"""Write a run's outputs atomically: everything, or nothing, and never over an earlier run.

Files go to a temporary folder beside the target and are moved into place only when all of
them are written; an earlier run is replaced only with ``force``.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from sufficiency.errors import OutputExistsError
from sufficiency.forked import Forked
from sufficiency.outcome import COST_COLUMNS, RunResult, placement_columns, plan_columns
from sufficiency.preprocess.paths import MARKER, marker_text, written_by_sufficiency
from sufficiency.report.analysis_tables import RunAnalyses
from sufficiency.report.cabinet import write_reports
from sufficiency.report.calibration import calibration_table
from sufficiency.report.changes import fixed_tables
from sufficiency.report.escaping import formula_safe_frame
from sufficiency.report.geopackage import write_geopackage
from sufficiency.report.layers import plan_map_html
from sufficiency.report.money import money_tables
from sufficiency.report.paper import MAP_PNG, write_paper
from sufficiency.report.static_map import plan_map_png
from sufficiency.report.summary import build_summary
from sufficiency.report.transport import transport_table


@dataclass(frozen=True)
class OutputPaths:
    """Where a run's files go: ``outputs/<name>/`` and ``maps/<name>.html`` under a root."""

    folder: Path
    map_file: Path

    @classmethod
    def for_run(cls, root: Path, name: str) -> OutputPaths:
        """The contract's locations for run ``name`` under ``root``."""
        return cls(root / "outputs" / name, root / "maps" / f"{name}.html")


def _write_csv(frame: pd.DataFrame, path: Path) -> None:
    """One CSV table; text a spreadsheet would evaluate gets a leading apostrophe."""
    formula_safe_frame(frame).to_csv(path, index=False, lineterminator="\n")


def write_tables(run: RunResult, folder: Path) -> None:
    """summary.json, plan.csv, placements.csv, costs_by_year.csv and the extra tables."""
    summary = build_summary(run)
    (folder / "summary.json").write_text(json.dumps(summary, indent=2, ensure_ascii=False) + "\n",
                                         encoding="utf-8")
    optimal, do_nothing = run.optimal, run.do_nothing
    _write_csv(optimal.plan[plan_columns(optimal.plan)], folder / "plan.csv")
    _write_csv(optimal.placements[placement_columns(optimal.placements)],
               folder / "placements.csv")
    _write_csv(optimal.costs_by_year, folder / "costs_by_year.csv")
    _write_csv(optimal.capacity, folder / "capacity.csv")
    _write_csv(transport_table(run), folder / "transport.csv")
    for name, table in money_tables(run).items():  # budget lines by AY and FY, payback
        _write_csv(table, folder / name)
    if run.gap is not None:  # the sufficiency gap (sufficiency.solve.gap)
        _write_csv(run.gap, folder / "gap.csv")
    calibration = calibration_table(run)  # the start year against today (report.calibration)
    if calibration is not None:
        _write_csv(calibration, folder / "calibration.csv")
    for name, table in fixed_tables(run).items():  # commitments.csv, changes.csv (re-plans)
        _write_csv(table, folder / name)
    if do_nothing is None:
        return
    _write_csv(do_nothing.placements[placement_columns(do_nothing.placements)],
               folder / "baseline_placements.csv")
    _write_csv(do_nothing.costs_by_year, folder / "baseline_costs_by_year.csv")
    comparison = optimal.costs_by_year[COST_COLUMNS].set_index("year").sub(
        do_nothing.costs_by_year[COST_COLUMNS].set_index("year")).add_suffix("_change")
    _write_csv(comparison.round(2).reset_index(), folder / "change_vs_do_nothing.csv")


EXTRAS_STAGE = "write_extras"  # the stage timer's name for the outputs beyond the contract's


def write_side_files(run: RunResult, folder: Path, analyses: RunAnalyses | None = None) -> None:
    """plan.gpkg (QGIS), plan_map.png and the cabinet paper that shows it, drawn beside the rest.

    No other output reads them while they are written, so they are made on the second core
    (:mod:`sufficiency.forked`) while this process writes the tables, appendix and map.
    """
    write_geopackage(run, folder / "plan.gpkg")
    (folder / MAP_PNG).write_bytes(plan_map_png(run))
    write_paper(run, folder, analyses=analyses)  # cabinet.docx, cabinet.html


def refuse_overwrite(paths: OutputPaths, force: bool) -> None:
    """Raise :class:`OutputExistsError` if the run's outputs exist and ``force`` is off.

    Even with ``force``, a folder the product did not write (no marker file) is never
    replaced: a run's name comes from a file that may have been written elsewhere.
    """
    existing = [p for p in (paths.folder, paths.map_file) if p.exists()]
    if existing and not force:
        raise OutputExistsError(
            f"an earlier run's outputs exist ({', '.join(str(p) for p in existing)}); "
            "rerun with --force to replace them, or change `name` in the run TOML")
    refuse_foreign_folder(paths.folder)


def refuse_foreign_folder(folder: Path) -> None:
    """Raise :class:`OutputExistsError` if ``folder`` exists but sufficiency did not write it."""
    if folder.exists() and not written_by_sufficiency(folder):
        raise OutputExistsError(
            f"{folder} exists but was not written by sufficiency (it has no {MARKER} file), "
            "so it is never replaced: move it away, or change `name` in the run TOML")


def _mark(folder: Path, command: str) -> None:
    """The marker that lets a later run with --force replace this folder (and nothing else)."""
    (folder / MARKER).write_text(marker_text(command), encoding="utf-8")


MIN_FREE_BYTES = 20_000_000  # refuse to start a run with less free disk than this (bytes)


def check_writable(paths: OutputPaths) -> None:
    """Refuse before solving when the output folders cannot be written or the disk is full."""
    for folder in (paths.folder.parent, paths.map_file.parent):
        existing = next(p for p in (folder, *folder.parents) if p.exists())
        if not os.access(existing, os.W_OK | os.X_OK):
            raise OutputExistsError(f"cannot write to {existing}: choose another "
                                    "--output-root, or ask for write access to it")
        free = shutil.disk_usage(existing).free
        if free < MIN_FREE_BYTES:
            raise OutputExistsError(f"only {free / 1e6:.1f} MB free at {existing}: free some "
                                    "space or choose another --output-root")


def _follow_umask(folder: Path) -> None:
    """Give a staged folder (``mkdtemp``: owner only) the permissions the umask asks for."""
    umask = os.umask(0)
    os.umask(umask)
    folder.chmod(0o777 & ~umask)


def write_outputs(run: RunResult, root: Path, force: bool = False, *,
                  analyses: RunAnalyses | None = None) -> OutputPaths:
    """Write every output of ``run`` under ``root``, atomically; return where they went.

    ``analyses``: the run's fresh analyses (:mod:`sufficiency.report.analyses_in`), shown
    in the report and as map layers; None or empty: none are shown.
    """
    paths = OutputPaths.for_run(root, run.dataset.config.name)
    refuse_overwrite(paths, force)
    created = [p for p in (paths.folder.parent, paths.map_file.parent, Path(root))
               if not p.exists()]  # children first, so that they can be removed in order
    paths.folder.parent.mkdir(parents=True, exist_ok=True)
    paths.map_file.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{paths.folder.name}.", dir=paths.folder.parent))
    _follow_umask(staging)
    try:
        _mark(staging, f"plan {paths.folder.name}")
        side = Forked(lambda: write_side_files(run, staging, analyses))  # on the second core
        try:
            write_tables(run, staging)
            staged_map = staging / "map.html.tmp"
            staged_map.write_text(plan_map_html(run, analyses=analyses), encoding="utf-8")
            with run.timer.stage(EXTRAS_STAGE, "Writing the appendix, workbook, GeoPackage "
                                 "and cabinet paper"):
                write_reports(run, staging, analyses=analyses)
                side.result()
        finally:
            side.stop()
        _swap_in(staging, staged_map, paths)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        for folder in created:  # leave no empty outputs/ or maps/ behind either
            with contextlib.suppress(OSError):
                folder.rmdir()
        raise
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return paths


def _swap_in(staging: Path, staged_map: Path, paths: OutputPaths) -> None:
    """Move the staged files into place; an earlier run is removed only after that.

    Any failure on the way, Ctrl-C included, undoes the half-done swap: the earlier run's
    files come back and no file of the new run is left (see :func:`_roll_back`).
    """
    old_folder = paths.folder.with_name(f".{paths.folder.name}.old")
    old_map = paths.map_file.with_name(f".{paths.map_file.name}.old")
    shutil.rmtree(old_folder, ignore_errors=True)
    old_map.unlink(missing_ok=True)
    try:
        if paths.folder.exists():
            paths.folder.rename(old_folder)
        if paths.map_file.exists():
            paths.map_file.replace(old_map)
        staged_map.replace(paths.map_file)
        staging.rename(paths.folder)
    except BaseException:
        _roll_back(staging, staged_map, paths, old_folder, old_map)
        raise
    shutil.rmtree(old_folder, ignore_errors=True)
    old_map.unlink(missing_ok=True)


def _roll_back(staging: Path, staged_map: Path, paths: OutputPaths, old_folder: Path,
               old_map: Path) -> None:
    """Undo a half-done swap, judging each step by what is on disk (not by what was said)."""
    if not staging.exists() and paths.folder.exists():  # the new folder went into place
        shutil.rmtree(paths.folder)
    if not staged_map.exists():  # the new map went into place
        paths.map_file.unlink(missing_ok=True)
    if old_folder.exists() and not paths.folder.exists():
        old_folder.rename(paths.folder)
    if old_map.exists():
        old_map.replace(paths.map_file)


def write_table_folder(folder: Path, tables: dict[str, pd.DataFrame], force: bool = False,
                       texts: dict[str, str] | None = None) -> Path:
    """Write CSV ``tables`` (and text files) into ``folder`` atomically; never over an old one.

    Used by the analysis commands (scenarios, alternatives, sweep, slippage), which write
    ``outputs/<run>.<command>/``: staged beside the target, moved in when complete, and an
    earlier folder is replaced only with ``force``.
    """
    if folder.exists() and not force:
        raise OutputExistsError(f"an earlier result exists ({folder}); rerun with --force to "
                                "replace it, or change `name` in the run TOML")
    refuse_foreign_folder(folder)
    folder.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{folder.name}.", dir=folder.parent))
    _follow_umask(staging)
    try:
        run_name, _, command = folder.name.rpartition(".")
        _mark(staging, f"{command} {run_name}")
        for name, frame in tables.items():
            _write_csv(frame, staging / name)
        for name, text in (texts or {}).items():
            (staging / name).write_text(text, encoding="utf-8")
        old = folder.with_name(f".{folder.name}.old")
        shutil.rmtree(old, ignore_errors=True)
        if folder.exists():
            folder.rename(old)
        staging.rename(folder)
        shutil.rmtree(old, ignore_errors=True)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return folder
