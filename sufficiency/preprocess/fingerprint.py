"""A fingerprint of a run's inputs and settings: proof that an analysis and a plan match.

The plan (``summary.json``) and each analysis (``analysis.json`` in ``outputs/<run>.<command>/``)
store :func:`run_fingerprint`; the report includes an analysis only when the two agree. It is
a sha256 over the run TOML's parsed settings (canonical JSON, sorted keys, so comments and
layout do not count) and the bytes of every dataset file the run reads (every file of the
dataset folder but its documentation; a workbook and its areas file; scenario demand files;
a re-plan's earlier plan.csv), in order of their path relative to the dataset folder (so
moving the project does not change it). Nothing is solved: it takes milliseconds.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from pathlib import Path
from typing import Any

from sufficiency.errors import InputError
from sufficiency.preprocess.config import RunConfig
from sufficiency.preprocess.locks import PLAN_FILE
from sufficiency.preprocess.paths import UnusablePath, inside, resolve
from sufficiency.preprocess.tomlread import read_toml
from sufficiency.preprocess.workbook import WorkbookSource, dataset_folder, is_workbook

NOT_DATA_SUFFIXES = (".md", ".txt", ".pdf", ".docx", ".html", ".py")  # docs, scripts: never read
OFFICE_LOCK = "~$"  # Excel's owner file while a workbook is open: not part of the dataset
ABSENT = b"absent"


def _json_default(value: object) -> str:
    """TOML dates and times as ISO text (the only non-JSON values TOML has)."""
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} is not a TOML value")


def canonical_settings(config: RunConfig) -> bytes:
    """The run TOML's parsed settings as canonical JSON (sorted keys, no spaces), UTF-8."""
    try:
        data: Any = read_toml(config.toml_path)
    except (InputError, OSError):  # a config made in code (tests), or the file gone since
        data = None
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False,
                      default=_json_default).encode("utf-8")


def _folder_files(folder: Path) -> list[Path]:
    """Every file of a dataset folder but its documentation and scripts, hidden and lock files.

    The loader reads a fixed set of them (areas, sites, demand, provision and the optional
    tables); taking every data file also covers a table added to the format later, at the
    price of calling an analysis stale when, say, the build log changes.
    """
    return sorted(p for p in folder.iterdir()
                  if p.is_file() and not p.name.startswith((".", OFFICE_LOCK))
                  and p.suffix.lower() not in NOT_DATA_SUFFIXES)


def _workbook_files(book: Path, config: RunConfig) -> list[Path]:
    """A dataset workbook and the areas file its settings sheet names (when it names one)."""
    if not book.is_file():
        return []
    try:
        return [book, WorkbookSource(book, config.project).areas_path()]
    except InputError:  # the plan refuses such a workbook; the bytes still tell it apart
        return [book]


def _scenario_files(config: RunConfig) -> list[Path]:
    """Each ``[scenarios.*] demand_file`` that the scenario reader would accept and read.

    As :func:`sufficiency.preprocess.scenarios._demand_file` finds it (without its errors).
    """
    files = []
    for table in config.scenarios.values():
        name = table.get("demand_file") if isinstance(table, dict) else None
        if not isinstance(name, str) or not name.strip():
            continue
        try:
            path = resolve(config.inputs_dir / name)
        except UnusablePath:
            continue
        allowed = inside(path, resolve(config.inputs_dir)) or inside(path, config.project)
        if allowed and path.is_file():
            files.append(path)
    return files


def files_read(config: RunConfig) -> list[Path]:
    """The dataset files a plan or an analysis of ``config`` reads (those present), resolved."""
    inputs = config.inputs_dir
    if is_workbook(inputs):
        files = _workbook_files(inputs, config)
    else:
        files = _folder_files(inputs) if inputs.is_dir() else []
    files += _scenario_files(config)
    return list(dict.fromkeys(resolve(p) for p in files))


def _replan_part(config: RunConfig) -> bytes | None:
    """``plan --lock-until --from``: the lock year and the earlier plan.csv's bytes."""
    replan = getattr(config, "replan", None)
    if replan is None:
        return None
    try:
        earlier = (Path(replan.source) / PLAN_FILE).read_bytes()
    except OSError:
        earlier = ABSENT
    return str(replan.lock_until).encode("ascii") + b"\0" + earlier


def relative_name(path: Path, config: RunConfig) -> str:
    """``path`` relative to the dataset folder (else the project folder), with '/'."""
    for base in (resolve(dataset_folder(config.inputs_dir)), config.project):
        if inside(path, base):
            return path.relative_to(base).as_posix()
    return path.name


def run_fingerprint(config: RunConfig) -> str:
    """sha256 (hex) of the run's settings and the bytes of every dataset file it reads."""
    digest = hashlib.sha256()
    _add(digest, b"settings", canonical_settings(config))
    replan = _replan_part(config)
    if replan is not None:
        _add(digest, b"replan", replan)
    named = sorted((relative_name(p, config), p) for p in files_read(config))
    for name, path in named:
        try:
            content = path.read_bytes()
        except OSError:
            content = ABSENT
        _add(digest, name.encode("utf-8"), content)
    return digest.hexdigest()


def _add(digest: Any, label: bytes, content: bytes) -> None:
    """One labelled, length-prefixed part, so that no two different inputs hash alike."""
    digest.update(len(label).to_bytes(8, "big") + label)
    digest.update(len(content).to_bytes(8, "big") + content)
