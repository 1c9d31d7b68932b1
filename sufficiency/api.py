"""The Python API: plan a run and get its results as tables (and its files written)."""

from __future__ import annotations

import dataclasses
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from sufficiency.analyses.commitments import with_commitment_values
from sufficiency.analyses.openings import with_opening_values
from sufficiency.errors import InputError, Issue, OutputExistsError
from sufficiency.outcome import Progress, RunResult
from sufficiency.pipeline import run_plan
from sufficiency.preprocess.config import RunConfig, load_run_config
from sufficiency.preprocess.fingerprint import run_fingerprint
from sufficiency.preprocess.locks import Replan
from sufficiency.report.analyses_in import (
    analysis_folder,
    analysis_texts,
    load_run_analyses,
    parse_with,
    stale_or_missing,
)
from sufficiency.report.analysis_tables import RunAnalyses
from sufficiency.report.outputs import (
    OutputPaths,
    check_writable,
    refuse_foreign_folder,
    refuse_overwrite,
    write_outputs,
    write_table_folder,
)
from sufficiency.report.runlock import run_lock


def plan(toml_path: str | Path, *, output_root: str | Path = ".", force: bool = False,
         write: bool = True, progress: Progress | None = None,
         why: bool = False, lock_until: int | None = None,
         locked_from: str | Path | None = None,
         started_at: float | None = None) -> tuple[RunResult, OutputPaths | None]:
    """Solve a planning run; write outputs/<name>/ and maps/<name>.html under ``output_root``.

    Returns the run (``run.optimal.plan``, ``.placements``, ``.costs_by_year``, and the same
    for ``run.do_nothing``) and where its files went (None when ``write`` is False).
    ``why``: also re-solve the plan without each opening (``run.openings``: the value of each
    opening in the report; :mod:`sufficiency.analyses.openings`) and with £1m more in each
    binding budget year (:func:`sufficiency.solve.shadow.budget_value_by_resolve`).
    ``lock_until`` with ``locked_from`` (an earlier run's ``outputs/<run>`` folder): re-plan
    with that plan's openings up to that academic year fixed (:mod:`sufficiency.preprocess.
    locks`); ``changes.csv`` compares the two plans.
    ``started_at``: when the command began (``time.time()``), for ``[solver]
    time_limit_covers = "plan"``; default: this call.
    """
    replan = replan_request(lock_until, locked_from)
    started_at = time.time() if started_at is None else started_at
    if not write:
        return _solved(toml_path, progress, why, replan, started_at), None
    paths = OutputPaths.for_run(Path(output_root), load_run_config(toml_path).name)
    notes: list[str] = []
    with run_lock(paths.folder, notes):  # one writer per run name, for the whole run
        for note in notes:
            if progress:
                progress(note)
        refuse_overwrite(paths, force)
        check_writable(paths)
        run = _solved(toml_path, progress, why, replan, started_at)
        with run.timer.stage("write", "Writing outputs and map"):
            write_outputs(run, Path(output_root), force=force,
                          analyses=fresh_analyses(run, output_root, toml_path))
    return run, paths


def replan_request(lock_until: int | None, locked_from: str | Path | None) -> Replan | None:
    """The re-plan asked for (both given), none (neither), or an InputError (one alone)."""
    if lock_until is None and locked_from is None:
        return None
    if lock_until is None or locked_from is None:
        given, missing = (("--lock-until", "--from") if locked_from is None
                          else ("--from", "--lock-until"))
        raise InputError(Issue(given, None, None, f"{given} needs {missing}",
                               "give both: --lock-until YEAR --from outputs/<earlier run>"))
    return Replan(int(lock_until), Path(locked_from))


def _solved(toml_path: str | Path, progress: Progress | None, why: bool,
            replan: Replan | None = None, started_at: float | None = None) -> RunResult:
    """The planned run, with the value of each opening and commitment when ``why``."""
    run = run_plan(toml_path, progress=progress, replan_budget=why, replan=replan,
                   started_at=started_at)
    if not why:
        return run
    return with_commitment_values(with_opening_values(run, progress), progress)


def fresh_analyses(run: RunResult, output_root: str | Path,
                   toml_path: str | Path) -> RunAnalyses:
    """The run's analyses whose fingerprint matches its inputs (notes on those left out)."""
    config = run.dataset.config
    return load_run_analyses(Path(output_root), config.name, run_fingerprint(config),
                             run_file=str(toml_path))


# --- `sufficiency report RUN --with scenarios,alternatives,slippage` ---

@dataclass(frozen=True)
class AnalysisOptions:
    """Options of the analyses ``report --with`` runs; the analysis commands' defaults."""

    k: int = 3  # alternatives: most near-optimal plans
    epsilon: float = 2.0  # alternatives: largest extra cost over the optimum, %
    objective: str = "expected"  # scenarios: expected | regret | cvar
    alpha: float = 0.9  # scenarios: CVaR level
    kinds: tuple[str, ...] = ()  # slippage: slip only openings of these kinds (all if empty)

    def of(self, command: str) -> dict[str, Any]:
        """The options ``command`` uses, as stored in its analysis.json."""
        return {"scenarios": {"objective": self.objective, "alpha": self.alpha},
                "alternatives": {"k": self.k, "epsilon": self.epsilon},
                "slippage": {"kinds": list(self.kinds)}}[command]


def check_analysis_options(commands: list[str], options: AnalysisOptions) -> None:
    """Refuse bad options of the analyses to run before anything is solved."""
    from sufficiency.analyses import mga, robust, slippage

    if "alternatives" in commands:
        mga.check_options(options.k, options.epsilon)
    if "scenarios" in commands:
        robust.check_objective(options.objective, options.alpha)
    if "slippage" in commands:
        slippage.check_kinds(list(options.kinds))


def run_analysis(command: str, toml_path: str | Path, run: RunResult,
                 options: AnalysisOptions) -> dict[str, pd.DataFrame]:
    """The tables of one analysis of the solved ``run``: what its own command computes."""
    from sufficiency.analyses.mga import alternatives_of
    from sufficiency.analyses.robust import analyse_scenarios
    from sufficiency.analyses.slippage import slippage_of

    if command == "scenarios":
        return analyse_scenarios(toml_path, options.objective, options.alpha).tables()
    if command == "alternatives":
        return alternatives_of(run, options.k, options.epsilon).tables()
    return slippage_of(run, list(options.kinds) or None).tables()


def write_analysis(folder: Path, command: str, tables: dict[str, pd.DataFrame], run_name: str,
                   fingerprint: str, options: dict[str, Any], force: bool) -> Path:
    """``outputs/<run>.<command>/``: the tables and analysis.json, atomically."""
    return write_table_folder(folder, tables, force,
                              texts=analysis_texts(command, run_name, fingerprint, options))


def _scenarios_named(config: RunConfig, commands: list[str]) -> None:
    if "scenarios" in commands and not config.scenarios:
        raise InputError(Issue(
            config.toml_path.name, None, "scenarios", "the run names no scenarios, so "
            "`--with scenarios` has nothing to compare",
            "add [scenarios.<name>] tables (docs/scenarios.md), or leave scenarios out of "
            "--with", column_label="key"))


def _no_locked_scenarios(commands: list[str]) -> None:
    """Refuse ``--with scenarios`` on a re-plan: the scenario plans do not keep the locks."""
    if "scenarios" in commands:
        raise InputError(Issue(
            "command line", None, "--with", "the scenarios analysis plans each scenario "
            "afresh, without the --lock-until locks, so it cannot go with a re-plan",
            "run `sufficiency report RUN --with scenarios` without --lock-until, or leave "
            "scenarios out of --with", column_label="option"))


def _to_refresh(root: Path, config: RunConfig, fingerprint: str, commands: list[str],
                force: bool) -> list[str]:
    """Of ``commands``, those to run: missing or stale; a stale one is replaced only with force."""
    missing, stale = stale_or_missing(root, config.name, fingerprint, commands)
    for command in stale:
        refuse_foreign_folder(analysis_folder(root, config.name, command))
    if stale and not force:
        folders = ", ".join(str(analysis_folder(root, config.name, c)) for c in stale)
        raise OutputExistsError(f"{folders}: out of date for this run's inputs or settings; "
                                "rerun with --force to replace")
    return [command for command in commands if command in missing + stale]


def report(toml_path: str | Path, *, output_root: str | Path = ".", force: bool = False,
           with_analyses: str | list[str] | tuple[str, ...] = (),
           options: AnalysisOptions | None = None,
           progress: Progress | None = None, lock_until: int | None = None,
           locked_from: str | Path | None = None
           ) -> tuple[RunResult, OutputPaths, RunAnalyses]:
    """Plan a run with the value of each opening, run the analyses asked for, write all.

    ``with_analyses`` ("scenarios,slippage" or a list): each that is missing or stale is run
    first, exactly as its command would (same tables, same ``outputs/<run>.<command>/``);
    then the report, paper and map include every fresh analysis of the run (also those run
    earlier). ``lock_until`` with ``locked_from``: a re-plan, as :func:`plan` (changes.csv);
    the analyses then count as fresh only for the same locks. Returns the run, where its
    files went, and the analyses included.
    """
    commands = parse_with(with_analyses)
    options = options or AnalysisOptions()
    root = Path(output_root)
    replan = replan_request(lock_until, locked_from)
    config = load_run_config(toml_path)
    if replan is not None:  # the fingerprint of a re-plan includes its locks (as plan's)
        config = dataclasses.replace(config, replan=replan)
        _no_locked_scenarios(commands)
    _scenarios_named(config, commands)
    check_analysis_options(commands, options)
    paths = OutputPaths.for_run(root, config.name)
    notes: list[str] = []
    with run_lock(paths.folder, notes):
        for note in notes:
            if progress:
                progress(note)
        refuse_overwrite(paths, force)
        check_writable(paths)
        fingerprint = run_fingerprint(config)
        to_run = _to_refresh(root, config, fingerprint, commands, force)
        for command in commands:
            if progress and command not in to_run:
                progress(f"The {command} analysis is up to date for these inputs: kept")
        run = _solved(toml_path, progress, why=True, replan=replan)
        tables = {}
        for command in to_run:
            with run.timer.stage(f"analysis_{command}", f"Running the {command} analysis"):
                tables[command] = run_analysis(command, toml_path, run, options)
        for command, table in tables.items():
            write_analysis(analysis_folder(root, config.name, command), command, table,
                           config.name, fingerprint, options.of(command), force=True)
        analyses = fresh_analyses(run, root, toml_path)
        with run.timer.stage("write", "Writing outputs and map"):
            write_outputs(run, root, force=force, analyses=analyses)
    return run, paths, analyses


def template(out: str | Path, *, source: str | Path | None = None,
             force: bool = False) -> Path:
    """Write a documented dataset workbook ``out`` (.xlsx); with ``source``, that folder's rows.

    The workbook is a dataset in itself: name it in a run TOML (``inputs = "../inputs/x.xlsx"``).
    An existing file is replaced only with ``force``; nothing but ``out`` is written.
    """
    from sufficiency.ingest.workbook_template import write_template

    return write_template(out, source, force=force)
