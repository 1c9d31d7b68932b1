"""Command line: `sufficiency plan|validate|build-dataset|synth|bench`, with one-line errors.

Errors a user can act on are printed as messages with their exit code (2 for bad input);
a traceback is shown only with ``--debug``.
"""

from __future__ import annotations

import atexit
import os
import signal
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, NoReturn

import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text

from sufficiency.errors import InputError, Issue, SufficiencyError, Terminated, raise_terminated

COMMAND_STARTED_AT = time.time()  # the origin of [solver] time_limit_covers = "plan"
app = typer.Typer(add_completion=False, no_args_is_help=True,
                  help="Optimal phasing of specialist SEND school places (Pyomo + HiGHS).")
console = Console(stderr=True, highlight=False, soft_wrap=True)
out = Console(highlight=False, soft_wrap=True)
DEBUG = {"on": False}
STOP_SAID = {"on": False}  # "interrupted: nothing was written" printed already
INTERRUPTED = 130  # exit code after Ctrl-C (128 + SIGINT), as shells report it
TERMINATED = Terminated.exit_code  # after SIGTERM (128 + 15)

RunArg = Annotated[Path, typer.Argument(help="planning run, e.g. models/example.toml")]


@app.callback()
def _options(debug: Annotated[bool, typer.Option(help="show tracebacks")] = False) -> None:
    DEBUG["on"] = debug


def _progress(started: float):
    def say(message: str) -> None:
        console.print(f"[dim]{time.perf_counter() - started:6.1f}s[/dim]  ", end="")
        console.print(f"{message}…", markup=False)
    return say


def _fail(exc: BaseException) -> NoReturn:
    """End the command: one message and the error's exit code (a traceback with --debug)."""
    if isinstance(exc, KeyboardInterrupt):  # Ctrl-C, SIGTERM: outputs are staged, none are left
        raise typer.Exit(_stopped(exc))
    if DEBUG["on"]:
        raise exc
    if isinstance(exc, SufficiencyError):
        console.print("[bold red]error:[/bold red] ", end="")
        console.print(str(exc), markup=False)
        raise typer.Exit(exc.exit_code)
    console.print("[bold red]internal error:[/bold red] ", end="")
    console.print(f"{type(exc).__name__}: {exc}\nrerun with --debug for the traceback, and "
                  "report it with the inputs", markup=False)
    raise typer.Exit(1)


@contextmanager
def errors_as_messages() -> Iterator[None]:
    """Every error inside the block ends the command in one message and its exit code."""
    try:
        yield
    except typer.Exit:
        raise
    except (Exception, KeyboardInterrupt) as exc:  # noqa: BLE001 - every error: one message
        _fail(exc)


def _money(value: float | None) -> str:
    return "—" if value is None else f"£{value:,.0f}"


def _print_run(run, paths) -> None:
    from sufficiency.report.summary import build_summary

    summary = build_summary(run)
    table = Table(title=f"Plan '{summary['run']}'", show_header=False)
    gap = summary["mip_gap"]
    table.add_row("status", f"{summary['status']} (gap {gap:.4%})" if gap is not None
                  else summary["status"])
    table.add_row("optimal cost (discounted)", _money(summary["objective"]))
    table.add_row("do nothing (discounted)", _money(summary["baseline_objective"]))
    table.add_row("savings", _money(summary["savings"]))
    table.add_row("places created", f"{summary['plan']['places_created']:,} in "
                  f"{summary['plan']['openings']} openings")
    table.add_row("capital", _money(summary["plan"].get("capital_cash_total",  # cash spent
                                                        summary["plan"]["capital_total"])))
    table.add_row("outputs", Text(f"{paths.folder}\n{paths.map_file}"))
    table.add_row("report", Text(f"{paths.folder / 'report.html'}\n{paths.folder / 'plan.xlsx'}"))
    out.print(table)
    for warning in summary["warnings"]:
        console.print("[yellow]warning:[/yellow] ", end="")
        console.print(warning, markup=False)


@app.command()
def plan(run: RunArg,
         force: Annotated[bool, typer.Option(help="replace an earlier run's outputs")] = False,
         output_root: Annotated[Path, typer.Option(help="folder holding outputs/ and maps/")]
         = Path("."),
         why: Annotated[bool, typer.Option(
             "--why", help="also re-solve without each opening: its value in the report "
                           "(one MIP per opened option, as `sufficiency report`)")] = False,
         lock_until: Annotated[int | None, typer.Option(
             "--lock-until", help="re-plan: keep the --from plan's openings up to this "
                                  "academic year (e.g. 2027 = AY 2027/28)")] = None,
         from_: Annotated[Path | None, typer.Option(
             "--from", help="re-plan: the earlier plan's folder, e.g. outputs/example")]
         = None,
         ) -> None:
    """Solve a planning run and write its outputs and map.

    With --lock-until YEAR --from outputs/<earlier run>: a rolling re-plan that keeps the
    earlier plan's openings up to YEAR and writes changes.csv (earlier against now).
    """
    run_result, paths = _plan_with_progress(run, output_root, force, why, lock_until, from_)
    _print_run(run_result, paths)


def _plan_with_progress(run: Path, output_root: Path, force: bool, why: bool = False,
                        lock_until: int | None = None, locked_from: Path | None = None):
    """Plan and write a run, showing each stage; any error ends in one message."""
    from sufficiency.api import plan as plan_run

    started = time.perf_counter()
    with errors_as_messages():
        result = plan_run(run, output_root=output_root, force=force,
                          progress=_progress(started), why=why, lock_until=lock_until,
                          locked_from=locked_from, started_at=COMMAND_STARTED_AT)
    console.print(f"[dim]{time.perf_counter() - started:6.1f}s[/dim]  done")
    return result


@app.command()
def report(run: RunArg,
           force: Annotated[bool, typer.Option(help="replace an earlier run's outputs")] = False,
           output_root: Annotated[Path, typer.Option(help="folder holding outputs/ and maps/")]
           = Path("."),
           with_: Annotated[str, typer.Option(
               "--with", help="analyses to run first when missing or out of date, e.g. "
                              "scenarios,alternatives,slippage")] = "",
           k: Annotated[int, typer.Option(help="--with alternatives: most alternatives")] = 3,
           epsilon: Annotated[float, typer.Option(
               help="--with alternatives: largest extra cost over the optimum, in %")] = 2.0,
           objective: Annotated[str, typer.Option(
               help="--with scenarios: robust objective (expected, regret or cvar)")]
           = "expected",
           lock_until: Annotated[int | None, typer.Option(
               "--lock-until", help="re-plan: keep the --from plan's openings up to this "
                                    "academic year (e.g. 2027 = AY 2027/28)")] = None,
           from_: Annotated[Path | None, typer.Option(
               "--from", help="re-plan: the earlier plan's folder, e.g. outputs/example")]
           = None) -> None:
    """Plan a run and write its cabinet report (report.html) and workbook (plan.xlsx).

    `plan` writes both as well; `report` also re-solves the plan without each opening, for
    the value of each opening (as `plan --why`). The report is always built from the results
    of the same solve (never from older tables), so an existing run needs --force to be redone.
    Every analysis (scenarios, alternatives, slippage) already run on the same inputs and
    settings is included; one run on other inputs is left out with a note. --with runs the
    named analyses first when they are missing or out of date (with --force to replace one).
    With --lock-until YEAR --from outputs/<earlier run>: a re-plan, as `plan` makes it.
    """
    from sufficiency.api import AnalysisOptions
    from sufficiency.api import report as report_run

    started = time.perf_counter()
    with errors_as_messages():
        _, paths, analyses = report_run(
            run, output_root=output_root, force=force, with_analyses=with_,
            options=AnalysisOptions(k=k, epsilon=epsilon, objective=objective),
            progress=_progress(started), lock_until=lock_until, locked_from=from_)
    console.print(f"[dim]{time.perf_counter() - started:6.1f}s[/dim]  done")
    for note in analyses.notes:
        console.print("[yellow]note:[/yellow] ", end="")
        console.print(note, markup=False)
    shown = [name for name in ("scenarios", "alternatives", "slippage")
             if getattr(analyses, name) is not None]
    out.print(f"paper:    {paths.folder / 'cabinet.docx'} (and cabinet.html)"
              f"\nreport:   {paths.folder / 'report.html'}\nworkbook: {paths.folder / 'plan.xlsx'}"
              f"\nmap:      {paths.map_file}\nanalyses: {', '.join(shown) or 'none'}",
              markup=False)


@app.command()
def validate(run: RunArg) -> None:
    """Check a planning run and its dataset without solving."""
    from sufficiency.pipeline import validate_run

    with errors_as_messages():
        dataset, sets = validate_run(run)
        if dataset.config.scenarios:  # [scenarios.*]: checked here as well (extension)
            from sufficiency.preprocess.scenarios import load_scenarios

            load_scenarios(dataset)
    for warning in dataset.warnings:
        console.print("[yellow]warning:[/yellow] ", end="")
        console.print(warning, markup=False)
    out.print(f"{run}: valid — {len(dataset.areas)} areas, {len(dataset.sites)} sites, "
              f"{len(dataset.options)} options, {len(sets.cells)} demand cells, "
              f"{len(sets.placements)} allowed placements; travel: {dataset.travel_metric}")


@app.command("build-dataset")
def build_dataset(spec: Annotated[Path, typer.Argument(help="build spec, e.g. "
                                                        "inputs/york.build.toml")],
                  force: Annotated[bool, typer.Option(help="replace an earlier build")]
                  = False,
                  project: Annotated[Path | None, typer.Option(
                      help="project folder the spec may write in (default: the parent of "
                      "the spec's folder)")] = None) -> None:
    """Build a planning dataset and its run TOML from a council's own source files."""
    from sufficiency.ingest.build import build_dataset as build

    started = time.perf_counter()
    with errors_as_messages():
        result = build(spec, force=force, project=project, progress=_progress(started))
    console.print(f"[dim]{time.perf_counter() - started:6.1f}s[/dim]  done")
    log = result.log
    out.print(f"wrote {result.dataset_dir} ({result.areas} areas, "
              f"{len(result.provision.sites)} sites, {len(result.provision.options)} options, "
              f"{result.demand.demand['pupils'].sum():,.1f} pupil-years of demand) and "
              f"{result.run_path}; build log: {log.rows_for('dropped')} source rows dropped, "
              f"{log.rows_for('changed')} changed, {log.rows_for('unmatched')} unmatched")
    for warning in log.warnings:
        console.print("[yellow]warning:[/yellow] ", end="")
        console.print(warning, markup=False)


V1_HELP = ("no [appraisal] table: the contract's own capital counting (annuity appraisal "
           "makes the MIP harder whoever builds it)")


@app.command()
def synth(folder: Annotated[Path, typer.Argument(metavar="OUT",
                                                 help="folder for the run TOML and dataset")],
          scale: Annotated[str, typer.Option(help="S, M, L or XL")] = "S",
          seed: Annotated[int, typer.Option(help="random seed")] = 1,
          overwrite: Annotated[bool, typer.Option(help="replace an earlier dataset")] = False,
          sticky: Annotated[bool, typer.Option(
              help="sticky cohorts: [placements] model = \"sticky\" and a resourced ramp-up "
                   "(run named synth-<scale>-s<seed>-sticky)")] = False,
          v1: Annotated[bool, typer.Option("--v1", help=V1_HELP + " (run named …-v1)")]
          = False,
          ) -> None:
    """Write a seeded synthetic dataset and its run TOML at scale S, M, L or XL."""
    from sufficiency.ingest.synth import write_synthetic

    with errors_as_messages():
        try:
            toml_path = write_synthetic(folder, scale.upper(), seed, overwrite=overwrite,
                                        sticky=sticky, v1=v1)
        except (ValueError, FileExistsError) as exc:
            raise InputError([Issue("synth", None, "OUT", str(exc),
                                    "see `sufficiency synth --help`",
                                    column_label="argument")]) from None
    out.print(f"wrote {toml_path}")


@app.command()
def template(workbook: Annotated[Path, typer.Argument(
                 metavar="OUT.xlsx", help="workbook to write, e.g. inputs/mine.xlsx")],
             source: Annotated[Path | None, typer.Option(
                 "--from", help="dataset folder whose rows fill the sheets, e.g. "
                 "inputs/example")] = None,
             force: Annotated[bool, typer.Option(help="replace an existing file")] = False,
             ) -> None:
    """Write a documented dataset workbook (a sheet per table), empty or from a dataset."""
    from sufficiency.api import template as write

    with errors_as_messages():
        path = write(workbook, source=source, force=force)
    out.print(f"wrote {path}" + (f" from {source}" if source else ""), markup=False)


@app.command()
def bench(runs: Annotated[list[Path] | None, typer.Argument(help="run TOMLs to measure")] = None,
          scale: Annotated[list[str] | None, typer.Option(
              help="synthetic scale(s) to measure: S, M, L, XL (repeat the option)")] = None,
          seed: Annotated[int, typer.Option(help="seed of the synthetic data")] = 1,
          seeds: Annotated[int, typer.Option(
              min=1, help="seeds per scale (seed, seed + 1, …): median and worst ratio")] = 1,
          out_dir: Annotated[Path, typer.Option(help="where bench.csv and data go")]
          = Path("bench"),
          v1: Annotated[bool, typer.Option("--v1", help="synthetic runs with " + V1_HELP)]
          = False,
          direct: Annotated[bool, typer.Option(
              help="also time highspy solving each product model's MPS file (as long again "
                   "as the solve)")] = True) -> None:
    """Measure the whole plan path against a plain HiGHS model of the same run.

    Model size, stage times, gap, overhead, peak memory; and the plain peer's wall time,
    objective, gap and memory. Exits 1 when the two objectives disagree.
    """
    from sufficiency.bench import bench as run_bench
    from sufficiency.bench import ratio_summary

    scales = [s.upper() for s in (scale or [])] or ([] if runs else ["S", "M"])
    started = time.perf_counter()
    with errors_as_messages():
        rows, exponents = run_bench(scales, list(runs or []), out_dir, seed,
                                    progress=_progress(started), seeds=seeds, v1=v1,
                                    direct=direct)
    _print_bench(rows, exponents, out_dir / "bench.csv")
    if _print_ratios(ratio_summary(rows), rows):
        raise typer.Exit(1)


def _print_bench(rows: list[dict], exponents: dict[str, float], csv_path: Path) -> None:
    table = Table(title="sufficiency bench (seconds, £, MB)")
    table.add_column("measure")
    for row in rows:
        table.add_column(row["run"], justify="right")
    for column in ("variables", "integer_variables", "constraints", "nonzeros",
                   "cartesian_variables", "read_validate_s", "build_s", "hand_over_s",
                   "solve_s", "extract_check_s", "baseline_s", "prices_s", "gap_lp_s", "write_s",
                   "write_extras_s", "plan_command_s", "extras_share",
                   "total_wall_s", "status", "gap_rel", "gap_gbp", "gap_share_of_savings",
                   "highs_direct_s", "overhead_s", "overhead_share", "peak_memory_mb",
                   "tree_peak_memory_mb", "first", "plain_variables", "plain_nonzeros",
                   "plain_import_s", "plain_read_s", "plain_build_s", "plain_solve_s", "plain_s",
                   "plain_status", "plain_gap_rel", "plain_peak_memory_mb",
                   "plain_tree_peak_memory_mb", "plan_to_plain",
                   "at_plain_gap_s", "at_plain_gap_status", "at_plain_gap_to_plain",
                   "objective_gbp", "plain_objective_gbp", "objective_difference_gbp",
                   "objectives_agree"):
        table.add_row(column, *[_cell(row.get(column)) for row in rows])
    out.print(table)
    if exponents:
        out.print("growth exponent of time against nonzeros: "
                  + ", ".join(f"{k} {v:g}" for k, v in exponents.items()))
    out.print(f"wrote {csv_path}")


def _print_ratios(summary: list[dict], rows: list[dict]) -> bool:
    """Median and worst plan/plain ratio per scale; True when any objectives disagree."""
    for group in summary:
        if group["compared"]:
            out.print(f"{group['group']}: plan command / plain model, wall time over "
                      f"{group['compared']} run(s): median {group['median']:.2f}, "
                      f"worst {group['worst']:.2f}")
        if group.get("matched"):
            out.print(f"{group['group']}: both stopped at the time limit in "
                      f"{group['matched']} run(s); plan command to the plain model's gap / "
                      f"plain model: median {group['matched_median']:.2f}, "
                      f"worst {group['matched_worst']:.2f}")
        for note in group["notes"]:
            out.print(f"{group['group']}: {note}", markup=False)
    disagree = [row for row in rows if row.get("objectives_agree") is False]
    for row in disagree:
        message = (f"OBJECTIVES DISAGREE on {row['run']}: plan £{row['objective_gbp']:,.2f} "
                   f"(bound {_cell(row.get('bound_gbp'))}), plain model "
                   f"£{row['plain_objective_gbp']:,.2f} (bound "
                   f"{_cell(row.get('plain_bound_gbp'))}): one of the two models is wrong")
        console.print("[bold red]error:[/bold red] ", end="")
        console.print(message, markup=False)
    return bool(disagree)


def _cell(value) -> str:
    if isinstance(value, bool):
        return "yes" if value else "NO"
    if isinstance(value, float):
        return f"{value:.3g}" if abs(value) < 1 else f"{value:,.2f}"
    return "—" if value is None else f"{value:,}" if isinstance(value, int) else str(value)


# --- analyses: scenarios, alternatives, sweep, slippage (outputs/<run>.<command>/) ---

SchedulerOpt = Annotated[str | None, typer.Option(
    help="tcp://host:port of a running Dask scheduler (default: a LocalCluster, 2 workers)")]
SerialOpt = Annotated[bool, typer.Option(help="run every task here, one after another")]
ForceOpt = Annotated[bool, typer.Option(help="replace an earlier result of this command")]
RootOpt = Annotated[Path, typer.Option(help="folder holding outputs/")]


def _analysis_folder(run: Path, output_root: Path, command: str, force: bool) -> Path:
    """outputs/<run>.<command>/ under the root; refuse early if it exists without --force."""
    from sufficiency.errors import OutputExistsError
    from sufficiency.preprocess.config import load_run_config

    folder = output_root / "outputs" / f"{load_run_config(run).name}.{command}"
    if folder.exists() and not force:
        raise OutputExistsError(f"an earlier result exists ({folder}); rerun with --force to "
                                "replace it")
    return folder


def _analysis_json(run: Path, command: str, options: dict) -> dict[str, str]:
    """analysis.json for outputs/<run>.<command>/: the inputs' fingerprint, before solving."""
    from sufficiency.preprocess.config import load_run_config
    from sufficiency.preprocess.fingerprint import run_fingerprint
    from sufficiency.report.analyses_in import analysis_texts

    config = load_run_config(run)
    return analysis_texts(command, config.name, run_fingerprint(config), options)


def _backend(scheduler: str | None, serial: bool):
    from sufficiency.analyses.distributed import Backend

    return Backend(serial=serial, scheduler=scheduler, show_progress=True)


def _print_frame(title: str, frame, columns: list[str], money: tuple[str, ...] = ()) -> None:
    """Selected columns of a result table (those it has), £ columns formatted."""
    columns = [column for column in columns if column in frame]
    table = Table(title=title)
    for column in columns:
        table.add_column(column, justify="left" if column in ("plan", "case", "status",
                                                              "openings", "sites") else "right")
    for row in frame[columns].itertuples(index=False):
        table.add_row(*["—" if v is None or v != v else _money(v) if c in money else _cell(v)
                        for c, v in zip(columns, row, strict=True)])
    out.print(table)


def _written(folder: Path, started: float) -> None:
    console.print(f"[dim]{time.perf_counter() - started:6.1f}s[/dim]  done")
    out.print(f"tables: {folder}", markup=False)


@app.command()
def scenarios(run: RunArg,
              objective: Annotated[str, typer.Option(
                  help="robust objective: expected (weighted cost), regret (worst-case "
                       "regret) or cvar")] = "expected",
              alpha: Annotated[float, typer.Option(
                  help="CVaR level: the mean cost of the worst 1 − alpha of the weight")] = 0.9,
              scheduler: SchedulerOpt = None, serial: SerialOpt = False,
              force: ForceOpt = False, output_root: RootOpt = Path(".")) -> None:
    """Plan each demand scenario, one robust build plan for all, and the regret table."""
    from sufficiency.analyses.robust import analyse_scenarios
    from sufficiency.report.outputs import write_table_folder

    started = time.perf_counter()
    with errors_as_messages():
        folder = _analysis_folder(run, output_root, "scenarios", force)
        texts = _analysis_json(run, "scenarios", {"objective": objective, "alpha": alpha})
        analysis = analyse_scenarios(run, objective, alpha, _backend(scheduler, serial))
        write_table_folder(folder, analysis.tables(), force, texts=texts)
        _written(folder, started)
        _print_frame(f"Plans across scenarios (robust: {objective})", analysis.comparison,
                     ["plan", "expected_cost", "worst_cost", "cvar", "worst_regret",
                      "places_created", "capital"],
                     money=("expected_cost", "worst_cost", "cvar", "worst_regret", "capital"))


@app.command()
def alternatives(run: RunArg,
                 k: Annotated[int, typer.Option(help="most alternatives to find")] = 3,
                 epsilon: Annotated[float, typer.Option(
                     help="largest extra cost over the optimum, in %")] = 2.0,
                 force: ForceOpt = False, output_root: RootOpt = Path(".")) -> None:
    """Near-optimal plans (within epsilon %) that open other sites than the optimum."""
    from sufficiency.analyses.mga import alternatives as find_alternatives
    from sufficiency.report.outputs import write_table_folder

    started = time.perf_counter()
    with errors_as_messages():
        folder = _analysis_folder(run, output_root, "alternatives", force)
        texts = _analysis_json(run, "alternatives", {"k": k, "epsilon": epsilon})
        result = find_alternatives(run, k, epsilon)
        write_table_folder(folder, result.tables(), force, texts=texts)
        _written(folder, started)
        _print_frame(f"Alternatives within {epsilon:g} %", result.summary,
                     ["plan", "total_cost", "extra_cost", "extra_percent", "sites"],
                     money=("total_cost", "extra_cost"))
        out.print(result.stopped, markup=False)


@app.command()
def sweep(run: RunArg,
          parameter: Annotated[str, typer.Option(
              help="dotted key, e.g. independent.cost_per_place, discount_rate, "
                   "capital_budget.2027, capital_budget.scale, transport.cost_per_km, "
                   "provision.annual_cost_per_place[.<kind>] (a factor)")],
          values: Annotated[str, typer.Option(help="comma-separated values, e.g. 40000,54000")],
          scheduler: SchedulerOpt = None, serial: SerialOpt = False,
          force: ForceOpt = False, output_root: RootOpt = Path(".")) -> None:
    """Plan the run once per value of one input parameter; one table of plans and costs."""
    from sufficiency.analyses.sweep import parse_values
    from sufficiency.analyses.sweep import sweep as run_sweep
    from sufficiency.report.outputs import write_table_folder

    started = time.perf_counter()
    with errors_as_messages():
        folder = _analysis_folder(run, output_root, "sweep", force)
        table = run_sweep(run, parameter, parse_values(values), _backend(scheduler, serial))
        write_table_folder(folder, {"sweep.csv": table}, force)
        _written(folder, started)
        _print_frame(f"Sweep of {parameter}", table,
                     ["value", "status", "objective", "savings", "places_created", "openings"],
                     money=("objective", "savings"))
        for message in table.get("message", []).fillna(""):
            if message:
                console.print("[yellow]warning:[/yellow] ", end="")
                console.print(message, markup=False)


@app.command()
def slippage(run: RunArg,
             kind: Annotated[list[str] | None, typer.Option(
                 help="slip only openings of this kind, e.g. new_special (repeatable)")] = None,
             force: ForceOpt = False, output_root: RootOpt = Path(".")) -> None:
    """Stress test: the optimal plan's openings one year late (capital year unchanged)."""
    from sufficiency.analyses.slippage import slippage as stress
    from sufficiency.report.outputs import write_table_folder

    started = time.perf_counter()
    with errors_as_messages():
        folder = _analysis_folder(run, output_root, "slippage", force)
        texts = _analysis_json(run, "slippage", {"kinds": list(kind or [])})
        result = stress(run, kind or None)
        write_table_folder(folder, result.tables(), force, texts=texts)
        _written(folder, started)
        _print_frame("Openings one year late", result.summary,
                     ["case", "total_cost", "extra_cost", "independent_pupil_years",
                      "extra_independent_pupil_years", "sunk_capital"],
                     money=("total_cost", "extra_cost", "sunk_capital"))


def _stopped(exc: KeyboardInterrupt) -> int:
    """Say (once) that Ctrl-C or SIGTERM stopped the command; its exit code."""
    terminated = isinstance(exc, Terminated)
    if not STOP_SAID["on"]:
        STOP_SAID["on"] = True
        console.print(f"{'terminated' if terminated else 'interrupted'}: nothing was written",
                      markup=False)
    return TERMINATED if terminated else INTERRUPTED


def _interrupt_behind(exc: BaseException) -> KeyboardInterrupt | None:
    """The Ctrl-C or SIGTERM that an exit stands for (Typer exits 130 on one), if any."""
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, KeyboardInterrupt):
            return seen
        seen = seen.__cause__ or seen.__context__
    return None


def _exit(code: int | str | None) -> None:
    """End the process; at once if an interrupted HiGHS is still running in its thread.

    Such a HiGHS (inside a sub-MIP, see :mod:`sufficiency.solve.interrupt`) would run on
    while the interpreter shuts down: the exit handlers run, then the process ends.
    """
    solve = sys.modules.get("sufficiency.solve.interrupt")  # never imported just for this
    if solve is not None and solve.solves_left_running():
        sys.stdout.flush()
        sys.stderr.flush()
        atexit._run_exitfuncs()  # noqa: SLF001 - what the interpreter would run
        os._exit(code if isinstance(code, int) else 1)
    sys.exit(code)


def main() -> None:
    """Entry point of the `sufficiency` command: exit 130 after Ctrl-C, 143 after SIGTERM."""
    if signal.getsignal(signal.SIGTERM) == signal.SIG_DFL:
        signal.signal(signal.SIGTERM, raise_terminated)  # cleans up like Ctrl-C
    try:
        app()
        code: int | str | None = 0
    except SystemExit as exc:
        code = exc.code
        interrupt = _interrupt_behind(exc)
        if interrupt is not None and code == INTERRUPTED:  # outside errors_as_messages
            code = _stopped(interrupt)
    except KeyboardInterrupt as exc:
        code = _stopped(exc)
    _exit(code)
