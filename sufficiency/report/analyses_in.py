"""The analyses of a run, read back for the report, the paper and the map, if still fresh.

``sufficiency scenarios|alternatives|slippage RUN`` write ``outputs/<run>.<command>/`` with an
``analysis.json`` (:func:`analysis_texts`): the command, the options used, the product
version and the run's fingerprint (:mod:`sufficiency.preprocess.fingerprint`). An analysis
reaches the report only when that fingerprint equals the plan's: otherwise its inputs or
settings have changed since, and it is left out with a note saying how to re-run it. Only
folders the product wrote (its marker file) and only the tables each command writes are
read; nothing in them is evaluated.
"""

from __future__ import annotations

import json
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

import pandas as pd

from sufficiency.errors import InputError, Issue
from sufficiency.preprocess.paths import written_by_sufficiency
from sufficiency.report.analysis_tables import RunAnalyses, read_written_table

ANALYSIS_FILE = "analysis.json"
ANALYSIS_TABLES = {  # command -> the tables it writes (the analyses' ``tables()``)
    "scenarios": ("scenarios.csv", "plans.csv", "regret.csv", "comparison.csv", "robust.csv"),
    "alternatives": ("alternatives.csv", "plans.csv"),
    "slippage": ("slippage.csv", "slippage_by_year.csv", "plans.csv"),
}
ANALYSES = tuple(ANALYSIS_TABLES)  # the names `report --with` accepts, in the report's order
TEXT_COLUMNS = {"plan", "case", "scenario", "status", "sites", "sites_not_in_optimal",
                "openings", "kind", "objective", "central_scenario", "demand", "name",
                "needs", "phases"}  # kept as text even when every value looks like a number
MAX_JSON_BYTES = 100_000


def product_version() -> str:
    """The installed sufficiency version ('unknown' in a bare source tree)."""
    try:
        return version("sufficiency")
    except PackageNotFoundError:
        return "unknown"


def analysis_folder(output_root: Path, run_name: str, command: str) -> Path:
    """``outputs/<run>.<command>/`` under ``output_root``: where an analysis is written."""
    return Path(output_root) / "outputs" / f"{run_name}.{command}"


def analysis_record(command: str, run_name: str, fingerprint: str,
                    options: dict[str, Any]) -> dict[str, Any]:
    """What ``analysis.json`` holds: which analysis of which inputs, with which options."""
    return {"command": command, "run": run_name, "fingerprint": fingerprint,
            "options": options, "sufficiency_version": product_version(),
            "tables": list(ANALYSIS_TABLES.get(command, ()))}


def analysis_texts(command: str, run_name: str, fingerprint: str,
                   options: dict[str, Any]) -> dict[str, str]:
    """``{"analysis.json": text}``, for ``write_table_folder(..., texts=...)``."""
    record = analysis_record(command, run_name, fingerprint, options)
    return {ANALYSIS_FILE: json.dumps(record, indent=2, sort_keys=True, ensure_ascii=False)
            + "\n"}


def _plain_file(path: Path) -> bool:
    return path.is_file() and not path.is_symlink()


def read_record(folder: Path) -> dict[str, Any] | None:
    """The folder's ``analysis.json`` as a dict; None when missing, too large or unreadable."""
    path = folder / ANALYSIS_FILE
    if not _plain_file(path) or path.stat().st_size > MAX_JSON_BYTES:
        return None
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError):
        return None
    return record if isinstance(record, dict) else None


def read_analysis_table(path: Path) -> pd.DataFrame:
    """A table an analysis wrote: text read as text, columns of numbers as numbers."""
    return read_written_table(path, TEXT_COLUMNS)


def rerun_hint(command: str, run_file: str) -> str:
    """What to type to bring an analysis up to date."""
    return (f"re-run `sufficiency {command} {run_file} --force`, or "
            f"`sufficiency report {run_file} --force --with {command}`")


def _freshness_problem(folder: Path, command: str, run_name: str,
                       fingerprint: str) -> str | None:
    """Why the analysis in ``folder`` cannot be used for this plan; None when it is fresh."""
    if not written_by_sufficiency(folder):
        return f"{folder} was not written by sufficiency (it has no marker file)"
    record = read_record(folder)
    if record is None:
        return (f"{folder} has no readable {ANALYSIS_FILE} (written by an older version), so "
                "it cannot be shown to match this plan's inputs")
    if record.get("command") != command or record.get("run") != run_name:
        return f"{folder}/{ANALYSIS_FILE} belongs to another command or run"
    if record.get("fingerprint") != fingerprint:
        return ("it was run on other inputs or settings than this plan (the run TOML or a "
                "dataset file has changed since, or this plan locks an earlier one)")
    missing = [name for name in ANALYSIS_TABLES[command] if not _plain_file(folder / name)]
    if missing:
        return f"{folder} lacks {', '.join(missing)}"
    return None


def _load_one(output_root: Path, run_name: str, fingerprint: str, command: str,
              run_file: str) -> tuple[dict[str, pd.DataFrame] | None, str | None]:
    """One analysis's tables (None if absent or stale) and the note when it is left out."""
    folder = analysis_folder(output_root, run_name, command)
    if not folder.exists():
        return None, None
    problem = _freshness_problem(folder, command, run_name, fingerprint)
    if problem is None:
        try:
            tables = {name: read_analysis_table(folder / name)
                      for name in ANALYSIS_TABLES[command]}
        except (OSError, UnicodeDecodeError, ValueError, pd.errors.ParserError) as exc:
            problem = f"{folder} could not be read ({exc})"
        else:
            return tables, None
    return None, f"{command} left out: {problem}; {rerun_hint(command, run_file)}."


def load_run_analyses(output_root: Path | str, run_name: str, fingerprint: str, *,
                      run_file: str | None = None) -> RunAnalyses:
    """Every fresh analysis of run ``run_name`` under ``output_root``, with notes on the rest.

    ``fingerprint``: the plan's (:func:`sufficiency.preprocess.fingerprint.run_fingerprint`).
    ``run_file``: the run TOML as the user names it, for the notes' re-run commands.
    """
    run_file = run_file or f"models/{run_name}.toml"
    loaded: dict[str, dict[str, pd.DataFrame] | None] = {}
    notes: list[str] = []
    for command in ANALYSES:
        loaded[command], note = _load_one(Path(output_root), run_name, fingerprint, command,
                                          run_file)
        if note:
            notes.append(note)
    return RunAnalyses(scenarios=loaded["scenarios"], alternatives=loaded["alternatives"],
                       slippage=loaded["slippage"], notes=tuple(notes))


def stale_or_missing(output_root: Path | str, run_name: str, fingerprint: str,
                     commands: list[str]) -> tuple[list[str], list[str]]:
    """Of ``commands``: those with no folder, and those whose folder is not fresh."""
    missing, stale = [], []
    for command in commands:
        folder = analysis_folder(Path(output_root), run_name, command)
        if not folder.exists():
            missing.append(command)
        elif _freshness_problem(folder, command, run_name, fingerprint) is not None:
            stale.append(command)
    return missing, stale


def parse_with(names: str | list[str] | tuple[str, ...] | None) -> list[str]:
    """The analyses named for ``report --with`` ("scenarios,slippage"), in the report's order.

    Raises :class:`InputError` naming each unknown name and the names allowed.
    """
    given = names.split(",") if isinstance(names, str) else list(names or [])
    wanted = [name.strip().lower() for name in given if name.strip()]
    unknown = [name for name in wanted if name not in ANALYSES]
    if unknown:
        raise InputError([Issue("command line", None, "--with", f"{name!r} is not an analysis",
                                f"name any of {', '.join(ANALYSES)}, separated by commas, "
                                "e.g. --with scenarios,slippage", column_label="option")
                          for name in unknown])
    return [name for name in ANALYSES if name in wanted]
