"""`sufficiency bench`: the whole plan path on synthetic scales or given runs, measured.

Each run is measured in a child process, so its peak memory (ru_maxrss from ``wait4``)
and its whole wall time, imports included, belong to that run alone. The child also writes
the model HiGHS received to MPS and times highspy solving that file directly with the same
options (same optimum, and how long HiGHS alone takes). Our overhead is what the plan
command takes beyond HiGHS's own runs inside it: the MIP (HiGHS's wall time around its
run, which starts from our rounded plan, so it can end sooner than highspy on the file),
the do-nothing LP, the rounding start's LPs and the budget re-plans. Writing the MPS file
is the benchmark's own and not counted.
"""

from __future__ import annotations

import csv
import json
import math
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

MIN_STAGE_S = 1e-3  # a stage this short did not run (growth exponents leave it out)
STAGES = ("read_validate", "build", "hand_over", "baseline", "start", "solve", "extract_check",
          "budget_value", "write")
COLUMNS = (
    "run", "scale", "areas", "sites", "options", "needs", "years",
    "variables", "integer_variables", "constraints", "nonzeros", "cartesian_variables",
    *[f"{stage}_s" for stage in STAGES], *[f"{stage}_cpu_s" for stage in STAGES],
    "plan_command_s", "total_wall_s", "status", "gap_rel", "gap_gbp", "gap_share_of_savings",
    "objective_gbp", "savings_gbp", "highs_direct_s", "highs_direct_objective_gbp", "overhead_s",
    "overhead_share", "peak_memory_mb",
)


def _stage_times(timer) -> tuple[dict[str, float], dict[str, float]]:
    """Wall and CPU seconds per bench stage from the pipeline's stage timer."""
    wall, cpu = timer.wall, timer.cpu
    walls = {
        "read_validate": wall.get("read_validate", 0.0), "build": wall.get("build", 0.0),
        "hand_over": wall.get("hand_over", 0.0), "solve": wall.get("solve", 0.0),
        "extract_check": wall.get("solve_extract", 0.0),
        "baseline": wall.get("baseline", 0.0) + wall.get("baseline_extract", 0.0),
        "start": wall.get("start", 0.0) + wall.get("start_highs", 0.0),
        "budget_value": wall.get("budget_value", 0.0) + wall.get("shadow", 0.0),
        "write": wall.get("write", 0.0),
    }
    cpus = {stage: cpu.get(stage, 0.0) for stage in walls}
    cpus["solve"] = cpu.get("solve", 0.0)
    cpus["extract_check"] = cpu.get("solve_extract", 0.0)
    cpus["baseline"] = cpu.get("baseline", 0.0) + cpu.get("baseline_extract", 0.0)
    cpus["start"] = cpu.get("start", 0.0)
    return walls, cpus


def solve_mps_directly(mps_path: Path, options: dict[str, Any]) -> tuple[float, float | None]:
    """Seconds highspy takes to read and solve an MPS file itself, and its objective (£k)."""
    from sufficiency.solve.highs import SOLUTION_FEASIBLE, quiet_highs

    highs = quiet_highs()
    for key, value in options.items():
        highs.setOptionValue(key, value)
    started = time.perf_counter()
    highs.readModel(str(mps_path))
    highs.run()
    seconds = time.perf_counter() - started
    info = highs.getInfo()
    found = info.primal_solution_status == SOLUTION_FEASIBLE
    return seconds, info.objective_function_value if found else None


def measure_in_process(toml_path: Path, work_dir: Path,
                       launched_at: float | None = None) -> dict[str, Any]:
    """Run the whole plan path once, here, and return the measured row (no peak memory).

    ``launched_at`` (``time.time()`` when the process was started) gives the wall time of
    the plan path including interpreter start and imports, as `sufficiency plan` has it.
    """
    from sufficiency.formulation import MONEY_SCALE
    from sufficiency.pipeline import run_plan
    from sufficiency.report.outputs import write_outputs
    from sufficiency.solve.highs import highs_options

    mps_path = work_dir / "model.mps"
    run = run_plan(toml_path, mps_path=mps_path)
    with run.timer.stage("write", "write"):
        write_outputs(run, work_dir / "root", force=True)
    # the MPS file is the benchmark's own instrument, not part of the plan command
    plan_command_s = (time.time() - launched_at - run.timer.wall.get("write_mps", 0.0)
                      if launched_at else None)
    walls, cpus = _stage_times(run.timer)
    config = run.dataset.config
    options = highs_options(replace(config.solver))
    direct_s, direct_objective = solve_mps_directly(mps_path, options)
    report = run.optimal.report
    gap_gbp = None if report.bound is None else report.objective - report.bound
    savings = run.savings
    row = {
        "run": config.name, "areas": len(run.dataset.areas), "sites": len(run.dataset.sites),
        "options": len(run.dataset.options), "needs": run.dataset.demand["need"].nunique(),
        "years": config.horizon_years, **run.model_size,
        "cartesian_variables": run.sets.cartesian_size,
        **{f"{k}_s": round(v, 3) for k, v in walls.items()},
        **{f"{k}_cpu_s": round(v, 3) for k, v in cpus.items()},
        "status": report.status, "gap_rel": report.mip_gap,
        "gap_gbp": None if gap_gbp is None else round(gap_gbp, 2),
        "gap_share_of_savings": None if gap_gbp is None or not savings
        else round(gap_gbp / savings, 6),
        "objective_gbp": round(run.optimal.total_cost, 2),
        "savings_gbp": None if savings is None else round(savings, 2),
        "highs_direct_s": round(direct_s, 3),
        "highs_direct_objective_gbp": None if direct_objective is None
        else round(direct_objective * MONEY_SCALE, 2),
        "plan_command_s": None if plan_command_s is None else round(plan_command_s, 3),
        "baseline_highs_s": (round(run.do_nothing.report.solve_seconds, 3) if run.do_nothing
                             else 0.0),
        "start_highs_s": round(run.timer.wall.get("start_highs", 0.0), 3),
        "mip_highs_s": round(report.solve_seconds, 3),
    }
    return row


def _child_main(toml_path: str, work_dir: str, row_path: str, launched_at: str) -> None:
    row = measure_in_process(Path(toml_path), Path(work_dir), float(launched_at))
    Path(row_path).write_text(json.dumps(row))


def measure(toml_path: Path, work_dir: Path) -> dict[str, Any]:
    """Measure one run in a child process: its row plus total wall time and peak memory."""
    work_dir.mkdir(parents=True, exist_ok=True)
    row_path = work_dir / "row.json"
    stderr_path = work_dir / "stderr.txt"
    started = time.perf_counter()
    with stderr_path.open("wb") as stderr:  # a file, not a pipe: a chatty child cannot block
        child = subprocess.Popen([sys.executable, "-c",
                                  "import sys; from sufficiency.bench import _child_main; "
                                  "_child_main(*sys.argv[1:])", str(toml_path), str(work_dir),
                                  str(row_path), repr(time.time())],
                                 stdout=subprocess.DEVNULL, stderr=stderr)
        _, status, usage = os.wait4(child.pid, 0)
    total = time.perf_counter() - started
    child.returncode = os.waitstatus_to_exitcode(status)
    if child.returncode != 0:
        tail = stderr_path.read_text(errors="replace")[-2000:]
        raise RuntimeError(f"benchmark of {toml_path} failed:\n{tail}")
    row = json.loads(row_path.read_text())
    row["total_wall_s"] = round(total, 3)
    row["peak_memory_mb"] = round(usage.ru_maxrss / 1024, 1)  # ru_maxrss is KiB on Linux
    plan_s = row["plan_command_s"]
    # HiGHS's own runs inside the plan command (see the module docstring)
    highs_total = (row.pop("mip_highs_s") + row.pop("baseline_highs_s") + row.pop("start_highs_s")
                   + row["budget_value_s"])
    row["overhead_s"] = round(max(plan_s - highs_total, 0.0), 3)
    row["overhead_share"] = round(row["overhead_s"] / plan_s, 4)
    return row


def growth_exponents(rows: list[dict[str, Any]]) -> dict[str, float]:
    """Least-squares slope of log(stage seconds) against log(nonzeros), per stage.

    A stage is fitted over the runs it ran in (at least :data:`MIN_STAGE_S`): the LP start
    runs only on large models, and a slope through its zeros would say nothing. Stages that
    ran in fewer than two runs of different sizes get no exponent.
    """
    exponents = {}
    for stage in (*STAGES, "plan_command"):
        ran = [r for r in rows if r[f"{stage}_s"] >= MIN_STAGE_S]
        sizes = [math.log(r["nonzeros"]) for r in ran]
        if len(ran) < 2 or max(sizes) - min(sizes) < 1e-9:
            continue
        times = [math.log(r[f"{stage}_s"]) for r in ran]
        mean_x, mean_y = sum(sizes) / len(sizes), sum(times) / len(times)
        slope = (sum((x - mean_x) * (y - mean_y) for x, y in zip(sizes, times, strict=True))
                 / sum((x - mean_x) ** 2 for x in sizes))
        exponents[stage] = round(slope, 2)
    return exponents


def write_rows(rows: list[dict[str, Any]], path: Path) -> None:
    """The benchmark table as CSV, one row per run."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=COLUMNS, extrasaction="ignore",
                                lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)


def bench(scales: list[str], runs: list[Path], out_dir: Path, seed: int = 1,
          progress=None) -> tuple[list[dict[str, Any]], dict[str, float]]:
    """Benchmark synthetic ``scales`` and given ``runs``; write ``out_dir/bench.csv``."""
    from sufficiency.ingest.synth import write_synthetic

    jobs = [(scale, write_synthetic(out_dir / "data", scale, seed, overwrite=True))
            for scale in scales] + [("", Path(run).resolve()) for run in runs]
    rows = []
    for scale, toml_path in jobs:
        if progress:
            progress(f"benchmarking {toml_path.name}")
        with tempfile.TemporaryDirectory(prefix="bench-") as work:
            row = measure(toml_path, Path(work))
        row["scale"] = scale
        rows.append(row)
    write_rows(rows, out_dir / "bench.csv")
    return rows, growth_exponents(rows)
