"""Command line: `sufficiency plan|validate|synth|bench`, with progress and one-line errors.

Errors a user can act on are printed as messages with their exit code (2 for bad input);
a traceback is shown only with ``--debug``.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text

from sufficiency.errors import SufficiencyError

app = typer.Typer(add_completion=False, no_args_is_help=True,
                  help="Optimal phasing of specialist SEND school places (Pyomo + HiGHS).")
console = Console(stderr=True, highlight=False, soft_wrap=True)
out = Console(highlight=False, soft_wrap=True)
DEBUG = {"on": False}

RunArg = Annotated[Path, typer.Argument(help="planning run, e.g. models/example.toml")]


@app.callback()
def _options(debug: Annotated[bool, typer.Option(help="show tracebacks")] = False) -> None:
    DEBUG["on"] = debug


def _progress(started: float):
    def say(message: str) -> None:
        console.print(f"[dim]{time.perf_counter() - started:6.1f}s[/dim]  ", end="")
        console.print(f"{message}…", markup=False)
    return say


def _fail(exc: BaseException) -> None:
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


def _money(value: float | None) -> str:
    return "—" if value is None else f"£{value:,.0f}"


def _print_run(run, paths) -> None:
    from sufficiency.summary import build_summary

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
    table.add_row("capital", _money(summary["plan"]["capital_total"]))
    table.add_row("outputs", Text(f"{paths.folder}\n{paths.map_file}"))
    out.print(table)
    for warning in summary["warnings"]:
        console.print("[yellow]warning:[/yellow] ", end="")
        console.print(warning, markup=False)


@app.command()
def plan(run: RunArg,
         force: Annotated[bool, typer.Option(help="replace an earlier run's outputs")] = False,
         output_root: Annotated[Path, typer.Option(help="folder holding outputs/ and maps/")]
         = Path(".")) -> None:
    """Solve a planning run and write its outputs and map."""
    from sufficiency.api import plan as plan_run

    started = time.perf_counter()
    try:
        run_result, paths = plan_run(run, output_root=output_root, force=force,
                                     progress=_progress(started))
    except Exception as exc:  # noqa: BLE001 - every error ends in one message
        _fail(exc)
        return
    console.print(f"[dim]{time.perf_counter() - started:6.1f}s[/dim]  done")
    _print_run(run_result, paths)


@app.command()
def validate(run: RunArg) -> None:
    """Check a planning run and its dataset without solving."""
    from sufficiency.pipeline import validate_run

    try:
        dataset, sets = validate_run(run)
    except Exception as exc:  # noqa: BLE001
        _fail(exc)
        return
    for warning in dataset.warnings:
        console.print("[yellow]warning:[/yellow] ", end="")
        console.print(warning, markup=False)
    out.print(f"{run}: valid — {len(dataset.areas)} areas, {len(dataset.sites)} sites, "
              f"{len(dataset.options)} options, {len(sets.cells)} demand cells, "
              f"{len(sets.placements)} allowed placements; travel: {dataset.travel_metric}")


@app.command()
def synth(out: Annotated[Path, typer.Argument(help="folder for the run TOML and dataset")],
          scale: Annotated[str, typer.Option(help="S, M, L or XL")] = "S",
          seed: Annotated[int, typer.Option(help="random seed")] = 1,
          overwrite: Annotated[bool, typer.Option(help="replace an earlier dataset")] = False,
          ) -> None:
    """Write a seeded synthetic dataset and its run TOML at scale S, M, L or XL."""
    from sufficiency.synth import write_synthetic

    try:
        toml_path = write_synthetic(out, scale.upper(), seed, overwrite=overwrite)
    except (ValueError, FileExistsError) as exc:
        console.print(f"error: {exc}", markup=False)
        raise typer.Exit(2) from None
    out.print(f"wrote {toml_path}")


@app.command()
def bench(runs: Annotated[list[Path] | None, typer.Argument(help="run TOMLs to measure")] = None,
          scale: Annotated[list[str] | None, typer.Option(
              help="synthetic scale(s) to measure: S, M, L, XL (repeat the option)")] = None,
          seed: Annotated[int, typer.Option(help="seed of the synthetic data")] = 1,
          out_dir: Annotated[Path, typer.Option(help="where bench.csv and data go")]
          = Path("bench")) -> None:
    """Measure the whole plan path: model size, stage times, gap, overhead, peak memory."""
    from sufficiency.bench import bench as run_bench

    scales = [s.upper() for s in (scale or [])] or ([] if runs else ["S", "M"])
    started = time.perf_counter()
    try:
        rows, exponents = run_bench(scales, list(runs or []), out_dir, seed,
                                    progress=_progress(started))
    except Exception as exc:  # noqa: BLE001
        _fail(exc)
        return
    _print_bench(rows, exponents, out_dir / "bench.csv")


def _print_bench(rows: list[dict], exponents: dict[str, float], csv_path: Path) -> None:
    table = Table(title="sufficiency bench (seconds, £, MB)")
    table.add_column("measure")
    for row in rows:
        table.add_column(row["run"], justify="right")
    for column in ("variables", "integer_variables", "constraints", "nonzeros",
                   "cartesian_variables", "read_validate_s", "build_s", "hand_over_s",
                   "solve_s", "extract_check_s", "baseline_s", "write_s", "plan_command_s",
                   "total_wall_s", "status", "gap_rel", "gap_gbp", "gap_share_of_savings",
                   "highs_direct_s", "overhead_s", "overhead_share", "peak_memory_mb"):
        table.add_row(column, *[_cell(row.get(column)) for row in rows])
    out.print(table)
    if exponents:
        out.print("growth exponent of time against nonzeros: "
                  + ", ".join(f"{k} {v:g}" for k, v in exponents.items()))
    out.print(f"wrote {csv_path}")


def _cell(value) -> str:
    if isinstance(value, float):
        return f"{value:.3g}" if abs(value) < 1 else f"{value:,.2f}"
    return "—" if value is None else f"{value:,}" if isinstance(value, int) else str(value)


def main() -> None:
    """Entry point of the `sufficiency` command."""
    try:
        app()
    except KeyboardInterrupt:
        console.print("interrupted: nothing was written")
        sys.exit(130)
