"""Build a planning dataset from the data councils already hold.

``sufficiency build-dataset inputs/<name>.build.toml`` reads a build spec (:mod:`.spec`)
and then, in one direction:

    boundaries ─► areas.py ─────────────┐
    establishments ─► establishments.py ─► provision.py ─► sites, provision options
    SEN2 + population ─► demand.py ─────┴─► demand by area × need × phase × year
                                        └─► assemble.py ─► files + README + run TOML

Every dropped, changed or unmatched source row is counted in the build log (:mod:`.log`).
The result is checked by the engine's own validation before anything is written; the
dataset folder and the run TOML are then published together, and an earlier build is only
replaced with ``force``. docs/build-dataset.md describes the spec.
"""

from __future__ import annotations

import os
import shutil
import tomllib
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


def _refuse_overwrite(spec: BuildSpec, force: bool) -> None:
    """An earlier build (dataset folder or run TOML) is only replaced with ``force``."""
    existing = [p for p in (spec.dataset_dir, spec.run_path) if p.exists()]
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


def _publish(files: Assembled, spec: BuildSpec) -> tuple[str, ...]:
    """Stage every file, validate, then move the folder and the run TOML into place.

    Returns the engine's warnings about the dataset (e.g. a site outside its own area).
    """
    target = spec.dataset_dir
    target.parent.mkdir(parents=True, exist_ok=True)
    spec.run_path.parent.mkdir(parents=True, exist_ok=True)
    staging = target.parent / f".{target.name}.building"
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir()
    try:
        for name, text in files.files.items():
            (staging / name).write_text(text, encoding="utf-8", newline="\n")
        warnings = _validate(staging, files.run_toml, spec)
        old = target.parent / f".{target.name}.old"
        shutil.rmtree(old, ignore_errors=True)
        if target.exists():
            os.replace(target, old)
        os.replace(staging, target)
        shutil.rmtree(old, ignore_errors=True)
        run_tmp = spec.run_path.with_name(f".{spec.run_path.name}.tmp")
        run_tmp.write_text(files.run_toml, encoding="utf-8", newline="\n")
        os.replace(run_tmp, spec.run_path)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return warnings


def build_dataset(spec_path: str | Path, *, force: bool = False,
                  dataset_dir: str | Path | None = None, run_path: str | Path | None = None,
                  progress: Progress | None = None) -> BuildResult:
    """Build the dataset and run TOML a spec describes; refuse to overwrite without ``force``.

    ``dataset_dir`` / ``run_path`` write elsewhere than the spec says (the tests rebuild the
    committed York dataset into a temporary folder).
    """
    spec = load_spec(spec_path)
    if dataset_dir is not None:
        spec = replace(spec, dataset_dir=Path(dataset_dir).resolve())
    if run_path is not None:
        spec = replace(spec, run_path=Path(run_path).resolve())
    _refuse_overwrite(spec, force)
    files, result = make(spec, progress)
    if progress:
        progress("Checking the dataset with the engine and writing it")
    for warning in _publish(files, spec):
        result.log.warn(f"the engine: {warning}")
    return result
