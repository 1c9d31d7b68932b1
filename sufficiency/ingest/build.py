"""Build a planning dataset from the data councils already hold.

``sufficiency build-dataset inputs/<name>.build.toml`` reads a build spec (:mod:`.spec`)
and then, in one direction:

    boundaries ─► areas.py ─────────────┐
    establishments ─► establishments.py ─► provision.py ─► sites, provision options
    SEN2 + population ─► demand.py ─────┴─► demand by area × need × phase × year
                                        └─► assemble.py ─► files + README + run TOML

Every dropped, changed or unmatched source row is counted in the build log (:mod:`.log`).
The result is checked by the engine's own validation before anything is written; the
dataset folder and the run TOML are then published together. An earlier build is replaced
only with ``force``, and only what a build wrote: a dataset folder holding the marker file
(:data:`~sufficiency.preprocess.paths.MARKER`), a run TOML starting with the builder's
header line. Anything else in the way stops the build with an :class:`InputError` naming the
spec key (``--force`` cannot help: the spec points at something that is not its output), and
nothing is deleted. docs/build-dataset.md describes the spec.
"""

from __future__ import annotations

import os
import shutil
import tomllib
import uuid
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

from sufficiency.errors import InputError, Issue, OutputExistsError
from sufficiency.ingest.areas import build_areas
from sufficiency.ingest.assemble import Assembled, assemble
from sufficiency.ingest.demand import DemandResult, build_demand
from sufficiency.ingest.establishments import read_establishments
from sufficiency.ingest.log import BuildLog
from sufficiency.ingest.provision import Provision, build_provision
from sufficiency.ingest.spec import BuildSpec, load_spec
from sufficiency.preprocess.paths import MARKER, first_line, written_by_sufficiency

Progress = Callable[[str], None]


@dataclass(frozen=True)
class BuildResult:
    """What a build made and where it went."""

    spec: BuildSpec
    dataset_dir: Path
    run_path: Path
    provision: Provision
    demand: DemandResult
    log: BuildLog
    files: Assembled
    areas: int


RUN_HEADER = "Written by `sufficiency build-dataset "  # in the run TOML's first comment line


def _run_files(spec: BuildSpec) -> list[tuple[Path, str]]:
    """The run TOMLs a build writes, with the spec key naming each."""
    runs = [(spec.run_path, "build.run_toml")]
    if spec.demand.scenarios is not None:
        runs.append((spec.demand.scenarios.run_path, "demand.scenarios.run_toml"))
    return runs


def _not_ours(spec: BuildSpec) -> list[Issue]:
    """Whatever is at the dataset folder or run TOML paths that no build wrote."""
    issues = []
    folder = spec.dataset_dir
    if os.path.lexists(folder) and not written_by_sufficiency(folder):
        issues.append(Issue(spec.spec_path.name, None, "build.dataset", f"{folder} exists and "
                            f"was not written by build-dataset (it has no {MARKER} file); "
                            "nothing was replaced or deleted", "name a new folder in "
                            "build.dataset, or move the existing one away", column_label="key"))
    for run, key in _run_files(spec):
        header = first_line(run)
        if os.path.lexists(run) and not (header.startswith("# Run of ")
                                         and RUN_HEADER in header):
            issues.append(Issue(spec.spec_path.name, None, key, f"{run} exists and was not "
                                "written by build-dataset (its first line is not the "
                                "builder's header); it was not replaced", f"name a new file in "
                                f"{key}, or move the existing one away", column_label="key"))
    return issues


def _refuse_overwrite(spec: BuildSpec, force: bool) -> None:
    """Replace only an earlier build, and only with ``force``; never anything else."""
    issues = _not_ours(spec)
    if issues:
        raise InputError(issues)
    existing = [p for p in (spec.dataset_dir, *(r for r, _ in _run_files(spec))) if p.exists()]
    if existing and not force:
        raise OutputExistsError(f"{existing[0]} already exists; rerun with --force to replace "
                                "the earlier build")


def make(spec: BuildSpec, progress: Progress | None = None) -> tuple[Assembled, BuildResult]:
    """Run every stage of the build in memory (nothing is written)."""
    say = progress or (lambda message: None)
    log = BuildLog()
    say("Reading boundaries and forming planning areas")
    areas = build_areas(spec.areas, spec.precision_m, log)
    say("Reading and classifying establishments")
    establishments = read_establishments(spec.establishments, log)
    say("Making sites and provision options")
    provision = build_provision(spec, establishments, areas, log)
    say("Splitting, sharing and projecting the SEN2 demand")
    demand = build_demand(spec.demand, establishments, areas, spec.years, log)
    files = assemble(spec, areas, provision, demand, log, spec.dataset_dir, spec.run_path)
    return files, BuildResult(spec, spec.dataset_dir, spec.run_path, provision, demand, log,
                              files, len(areas.frame))


def _validate(staging: Path, run_text: str, spec: BuildSpec) -> tuple[str, ...]:
    """The engine's own checks on the staged dataset (a failure here is a build problem)."""
    from sufficiency.preprocess.config import parse_run_config
    from sufficiency.preprocess.dataset import load_dataset

    data = tomllib.loads(run_text)
    data["inputs"] = str(staging)
    try:
        return load_dataset(parse_run_config(spec.run_path, data)).warnings
    except InputError as exc:
        raise InputError([Issue(spec.spec_path.name, None, None, "the built dataset fails "
                                f"the engine's checks: {issue}", "adjust the spec")
                          for issue in exc.issues]) from None


def _validate_scenarios(staging: Path, run_text: str, spec: BuildSpec) -> None:
    """The scenarios run and its demand files pass the engine's checks as well."""
    from sufficiency.preprocess.config import parse_run_config
    from sufficiency.preprocess.dataset import load_dataset
    from sufficiency.preprocess.scenarios import load_scenarios

    data = tomllib.loads(run_text)
    data["inputs"] = str(staging)
    try:
        load_scenarios(load_dataset(parse_run_config(spec.demand.scenarios.run_path, data)))
    except InputError as exc:
        raise InputError([Issue(spec.spec_path.name, None, None, "the built scenarios fail "
                                f"the engine's checks: {issue}", "adjust the spec")
                          for issue in exc.issues]) from None


def _publish(files: Assembled, spec: BuildSpec) -> tuple[str, ...]:
    """Stage every file, validate, then move the folder and the run TOML into place.

    The staging folder has a fresh name and holds the marker from its first moment, so no
    existing file is ever overwritten by it and a leftover is recognisably the builder's.
    Returns the engine's warnings about the dataset (e.g. a site outside its own area).
    """
    target = spec.dataset_dir
    target.parent.mkdir(parents=True, exist_ok=True)
    spec.run_path.parent.mkdir(parents=True, exist_ok=True)
    staging = _fresh(target, "building")
    staging.mkdir()  # a new name: fails rather than reuse anything that exists
    try:
        for name, text in files.files.items():  # the marker first
            (staging / name).write_text(text, encoding="utf-8", newline="\n")
        warnings = _validate(staging, files.run_toml, spec)
        if files.scenarios_toml is not None:
            _validate_scenarios(staging, files.scenarios_toml, spec)
        _refuse_overwrite(spec, force=True)  # nothing else appeared meanwhile
        old = _fresh(target, "old")
        if target.exists():
            os.replace(target, old)
        os.replace(staging, target)
        shutil.rmtree(old, ignore_errors=True)
        _write_run(spec.run_path, files.run_toml)
        if files.scenarios_toml is not None and spec.demand.scenarios is not None:
            _write_run(spec.demand.scenarios.run_path, files.scenarios_toml)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return warnings


def _fresh(path: Path, purpose: str) -> Path:
    """A hidden name beside ``path`` that nothing has (random, so never an existing file)."""
    return path.with_name(f".{path.name}.{purpose}-{uuid.uuid4().hex[:12]}")


def _write_run(path: Path, text: str) -> None:
    """Write the run TOML through a new temporary file beside it, then move it into place."""
    tmp = _fresh(path, "tmp")
    try:
        with tmp.open("x", encoding="utf-8", newline="\n") as out:  # "x": never overwrite
            out.write(text)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def build_dataset(spec_path: str | Path, *, force: bool = False,
                  dataset_dir: str | Path | None = None, run_path: str | Path | None = None,
                  project: str | Path | None = None,
                  progress: Progress | None = None) -> BuildResult:
    """Build the dataset and run TOML a spec describes; refuse to overwrite without ``force``.

    ``dataset_dir`` / ``run_path`` write elsewhere than the spec says (the tests rebuild the
    committed York dataset into a temporary folder): the caller's own choice, so they are not
    held to the project folder, but they too replace only an earlier build. A scenarios run
    (``[demand.scenarios]``) then goes beside ``run_path``, as ``<stem>_scenarios.toml``.
    ``project`` names the project folder (default: the parent of the spec's folder).
    """
    spec = load_spec(spec_path, project=project)
    if dataset_dir is not None:
        spec = replace(spec, dataset_dir=Path(dataset_dir).resolve())
    if run_path is not None:
        spec = replace(spec, run_path=Path(run_path).resolve())
        if spec.demand.scenarios is not None:  # the scenarios run goes beside it
            moved = spec.run_path.with_name(f"{spec.run_path.stem}_scenarios.toml")
            spec = replace(spec, demand=replace(spec.demand, scenarios=replace(
                spec.demand.scenarios, run_path=moved)))
    _refuse_overwrite(spec, force)
    files, result = make(spec, progress)
    if progress:
        progress("Checking the dataset with the engine and writing it")
    for warning in _publish(files, spec):
        result.log.warn(f"the engine: {warning}")
    return result
