r"""`sufficiency bench`: the whole plan path on synthetic scales or given runs, measured.

Each run is measured in a child process, so its peak memory (ru_maxrss from ``wait4``;
and, summed over the processes it starts, :class:`TreePeak`) and its whole wall time,
imports included, belong to that run alone. The child also writes
the model HiGHS received to MPS and times highspy solving that file directly with the same
options (same optimum, and how long HiGHS alone takes). Our overhead is what the plan
command takes beyond HiGHS's own runs inside it: the MIP (HiGHS's wall time around its
run, which starts from our rounded plan, so it can end sooner than highspy on the file),
the do-nothing LP, the rounding start's LPs and the budget re-plans. Writing the MPS file
is the benchmark's own and not counted.

Beside each run's ``plan`` child, the plain peer runs in a child of its own, first or
second by turns from one seed to the next. The row gives both wall times, their ratio
(the whole plan command over the whole plain process), both objectives, bounds and gaps,
and both peak memories; objectives that cannot both be right (one plan cheaper than the
other's proven bound) are flagged. A run with rules the plain model lacks gets a note
("comparison does not apply") instead of a ratio.

The plain peer (the last section of this module) is what a modeller would write straight
from the contract ("What the model means", ``../shared/contract.md``) in highspy, solved
with the run's own HiGHS options and thread count, in a process of its own (imports,
reading the run, building, solving): no aggregation of needs, no opening links, no start,
no cuts, no do-nothing solve, no outputs. It lives in the benchmark, never on the
product's path.

Columns
    x[i] ≥ 0            one per allowed (cell, option) arc; a cell is (area, need, phase,
                        year) with pupils: need × phase pairs are never merged
    u[c] ≥ 0            independent placement of cell c (fixed at 0 when switched off)
    m[s] ∈ 0…max_o      modules opened in slot s = (o, y) (the product's open slots)
    f[s] ∈ {0, 1}       option o's first module, and its fixed capital, in slot s
                        (slots of options with a fixed capital cost)

Rows (the contract's, nothing else)
    demand balance      Σ_{i ∈ c} x[i] + u[c] = d_c                                     ∀ c
    capacity            Σ_{i: o, t} x[i] − mp_o Σ_{s = (o, y ≤ t)} m[s] ≤ existing_o  ∀ (o, t)
    max modules         Σ_{s ∈ o} m[s] ≤ max_o                                          ∀ o
    fixed-capital link  m[o, y] − max_o Σ_{y' ≤ y} f[o, y'] ≤ 0;  f[o, y] − m[o, y] ≤ 0;
                        Σ_y f[o, y] ≤ 1   (paid once, in the year of the first module)
    capital budget      Σ_{s: y − lead = b} K_o m[s] + FC_o f[s] ≤ budget_b             ∀ b

Objective: the product's own coefficients (:func:`~sufficiency.formulation.objective.
objective_coefficients`) over the product's own index tables built without aggregation
(:func:`~sufficiency.formulation.sets.build_sets`): which arcs are allowed and what a unit
of each column costs are the contract's meaning, so the two optima must agree. Runs that
switch on rules this model lacks get reasons from :func:`does_not_apply` instead of a
number. Reusing those tables imports Pyomo (the formulation package does at import), a
cost a hand-written script would not pay; the child's ``import_s`` includes it.
"""

from __future__ import annotations

import csv
import json
import math
import os
import re
import resource
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import MISSING, dataclass, fields, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import highspy
import numpy as np
import pandas as pd

if TYPE_CHECKING:
    from sufficiency.preprocess.dataset import Dataset

MIN_STAGE_S = 1e-3  # a stage this short did not run (growth exponents leave it out)
STAGES = ("read_validate", "build", "hand_over", "baseline", "start", "solve", "extract_check",
          "prices", "gap_lp", "write", "write_extras")
COLUMNS = (
    "run", "scale", "areas", "sites", "options", "needs", "years",
    "variables", "integer_variables", "constraints", "nonzeros", "cartesian_variables",
    *[f"{stage}_s" for stage in STAGES], *[f"{stage}_cpu_s" for stage in STAGES],
    "plan_command_s", "extras_share", "total_wall_s", "status", "termination", "gap_rel",
    "gap_gbp",
    "gap_share_of_savings",
    "objective_gbp", "savings_gbp", "highs_direct_s", "highs_direct_objective_gbp", "overhead_s",
    "overhead_share", "peak_memory_mb", "child_peak_memory_mb", "tree_peak_memory_mb",
    "seed", "first", "bound_gbp", "plain_note", "plain_s", "plain_total_wall_s",
    "plain_import_s", "plain_read_s", "plain_build_s", "plain_solve_s", "plain_variables",
    "plain_integer_variables", "plain_constraints", "plain_nonzeros", "plain_status",
    "plain_objective_gbp", "plain_bound_gbp", "plain_gap_rel", "plain_peak_memory_mb",
    "plain_tree_peak_memory_mb", "plan_to_plain", "objective_difference_gbp", "objectives_agree",
    "at_plain_gap_s", "at_plain_gap_status", "at_plain_gap_rel", "at_plain_gap_to_plain",
)
# Two optima agree when neither plan is cheaper than the other's proven bound, within this
# share of the objective (HiGHS's feasibility tolerances on £ coefficients) plus £1.
AGREEMENT_REL = 1e-6
PLAIN = "plain"
PRODUCT = "product"


def _stage_times(timer) -> tuple[dict[str, float], dict[str, float]]:
    """Wall and CPU seconds per bench stage from the pipeline's stage timer."""
    wall, cpu = timer.wall, timer.cpu
    walls = {
        "read_validate": wall.get("read_validate", 0.0), "build": wall.get("build", 0.0),
        "hand_over": wall.get("hand_over", 0.0), "solve": wall.get("solve", 0.0),
        "extract_check": wall.get("solve_extract", 0.0),
        "baseline": wall.get("baseline", 0.0) + wall.get("baseline_extract", 0.0),
        # found first; or beside the MIP, where only HiGHS's wait for it counts; with the
        # relaxation solved before the MIP (links separated), that too
        "start": wall.get("start", 0.0) + wall.get("start_highs", 0.0)
        + wall.get("start_wait", 0.0) + wall.get("start_links", 0.0),
        "prices": wall.get("shadow", 0.0) + wall.get("budget_value", 0.0),  # LP duals (+ re-plans)
        "gap_lp": wall.get("gap", 0.0),  # the sufficiency gap's LP
        "write": wall.get("write", 0.0),
        "write_extras": wall.get("write_extras", 0.0),  # part of write: beyond the contract's
    }
    cpus = {stage: cpu.get(stage, 0.0) for stage in walls}
    cpus["solve"] = cpu.get("solve", 0.0)
    cpus["extract_check"] = cpu.get("solve_extract", 0.0)
    cpus["baseline"] = cpu.get("baseline", 0.0) + cpu.get("baseline_extract", 0.0)
    cpus["start"] = cpu.get("start", 0.0) + cpu.get("start_links", 0.0)
    cpus["prices"] = cpu.get("shadow", 0.0) + cpu.get("budget_value", 0.0)
    cpus["gap_lp"] = cpu.get("gap", 0.0)
    return walls, cpus


def solve_mps_directly(mps_path: Path, options: dict[str, Any]) -> tuple[float, float | None]:
    """Seconds highspy takes to read and solve an MPS file itself, and its objective (£k)."""
    from sufficiency.solve.highs import SOLUTION_FEASIBLE, quiet_highs

    highs = quiet_highs(options)
    started = time.perf_counter()
    highs.readModel(str(mps_path))
    highs.run()
    seconds = time.perf_counter() - started
    info = highs.getInfo()
    found = info.primal_solution_status == SOLUTION_FEASIBLE
    return seconds, info.objective_function_value if found else None


def measure_in_process(toml_path: Path, work_dir: Path, launched_at: float | None = None,
                       direct: bool = True) -> dict[str, Any]:
    """Run the whole plan path once, here, and return the measured row (no peak memory).

    ``launched_at`` (``time.time()`` when the process was started) gives the wall time of
    the plan path including interpreter start and imports, as `sufficiency plan` has it.
    ``direct``: also write the model as MPS and time highspy solving that file.
    """
    from sufficiency.formulation import MONEY_SCALE
    from sufficiency.pipeline import run_plan
    from sufficiency.report.outputs import write_outputs
    from sufficiency.solve.highs import highs_options

    mps_path = work_dir / "model.mps" if direct else None
    run = run_plan(toml_path, mps_path=mps_path, started_at=launched_at)
    with run.timer.stage("write", "write"):
        write_outputs(run, work_dir / "root", force=True)
    # the largest of this process and its forked helpers (the gap LP, the side files); KiB
    plan_peak_mb = max(resource.getrusage(who).ru_maxrss for who in (
        resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN)) / 1024
    # the MPS file is the benchmark's own instrument, not part of the plan command
    plan_command_s = (time.time() - launched_at - run.timer.wall.get("write_mps", 0.0)
                      if launched_at else None)
    walls, cpus = _stage_times(run.timer)
    config = run.dataset.config
    options = highs_options(replace(config.solver))
    direct_s, direct_objective = (solve_mps_directly(mps_path, options) if mps_path
                                  else (None, None))
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
        "status": report.status, "termination": report.termination, "gap_rel": report.mip_gap,
        "gap_gbp": None if gap_gbp is None else round(gap_gbp, 2),
        "gap_share_of_savings": None if gap_gbp is None or not savings
        else round(gap_gbp / savings, 6),
        "objective_gbp": round(run.optimal.total_cost, 2),
        "bound_gbp": None if report.bound is None else round(report.bound, 2),
        "savings_gbp": None if savings is None else round(savings, 2),
        "highs_direct_s": None if direct_s is None else round(direct_s, 3),
        "highs_direct_objective_gbp": None if direct_objective is None
        else round(direct_objective * MONEY_SCALE, 2),
        "plan_command_s": None if plan_command_s is None else round(plan_command_s, 3),
        "baseline_highs_s": (round(run.do_nothing.report.solve_seconds, 3) if run.do_nothing
                             else 0.0),
        "start_highs_s": round(run.timer.wall.get("start_highs", 0.0), 3),
        "mip_highs_s": round(report.solve_seconds, 3),
        "peak_memory_mb": round(plan_peak_mb, 1),
    }
    return row


def _child_main(toml_path: str, work_dir: str, direct: str, row_path: str,
                launched_at: str) -> None:
    row = measure_in_process(Path(toml_path), Path(work_dir), float(launched_at),
                             direct=direct == "direct")
    Path(row_path).write_text(json.dumps(row))


SAMPLE_EVERY_S = 0.1  # how often a child's process tree has its memory read (TreePeak)


def _tree(pid: int) -> list[int]:
    """``pid`` and every process it started that is still running (Linux's /proc)."""
    found, todo = [], [pid]
    while todo:
        parent = todo.pop()
        found.append(parent)
        for children in Path(f"/proc/{parent}/task").glob("*/children"):
            try:
                todo += [int(child) for child in children.read_text().split()]
            except OSError:  # the thread or the process has just ended
                continue
    return found


def _pss_mb(pid: int) -> float:
    """A process's proportional set size (MB): its pages, shared ones split among sharers."""
    try:
        rollup = Path(f"/proc/{pid}/smaps_rollup").read_text()
    except OSError:  # it has just ended
        return 0.0
    return next((int(line.split()[1]) / 1024 for line in rollup.splitlines()
                 if line.startswith("Pss:")), 0.0)


class TreePeak:
    """The peak over time of a process tree's summed proportional set size (MB).

    ``ru_maxrss`` is one process's peak, and a forked child counts the pages it shares
    with its parent again: neither says what a run holds at once when its children (the
    start, the sufficiency gap) run beside it. Sampled on a thread every
    :data:`SAMPLE_EVERY_S`; None where the system has no ``/proc`` rollups (not Linux).
    """

    def __init__(self, pid: int) -> None:
        """Start sampling ``pid``'s tree now."""
        self._pid, self.peak_mb = pid, 0.0
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()

    def _sample(self) -> None:
        while not self._done.wait(SAMPLE_EVERY_S):
            self.peak_mb = max(self.peak_mb, sum(_pss_mb(pid) for pid in _tree(self._pid)))

    def stop(self) -> float | None:
        """Stop sampling; the peak (MB), or None where it cannot be read."""
        self._done.set()
        self._thread.join()
        return round(self.peak_mb, 1) if Path("/proc/self/smaps_rollup").exists() else None


def _run_child(code: str, args: list[str], work_dir: Path, what: str,
               ) -> tuple[dict[str, Any], float, float, float | None]:
    """Run ``code`` in a fresh interpreter with ``args`` + [out path, launch time].

    Returns the JSON it wrote, its wall seconds, its peak memory (MB, ru_maxrss) and its
    process tree's (:class:`TreePeak`).
    """
    work_dir.mkdir(parents=True, exist_ok=True)
    out_path = work_dir / "row.json"
    stderr_path = work_dir / "stderr.txt"
    started = time.perf_counter()
    with stderr_path.open("wb") as stderr:  # a file, not a pipe: a chatty child cannot block
        child = subprocess.Popen([sys.executable, "-c", code, *args, str(out_path),
                                  repr(time.time())],
                                 stdout=subprocess.DEVNULL, stderr=stderr)
        tree = TreePeak(child.pid)
        _, status, usage = os.wait4(child.pid, 0)
        tree_peak = tree.stop()
    total = time.perf_counter() - started
    child.returncode = os.waitstatus_to_exitcode(status)
    if child.returncode != 0:
        tail = stderr_path.read_text(errors="replace")[-2000:]
        raise RuntimeError(f"benchmark of {what} failed:\n{tail}")
    return (json.loads(out_path.read_text()), total, round(usage.ru_maxrss / 1024, 1),
            tree_peak)


def measure(toml_path: Path, work_dir: Path, direct: bool = True) -> dict[str, Any]:
    """Measure one run in a child process: its row plus total wall time and peak memory.

    ``direct``: also time highspy solving the model's MPS file (the ``highs_direct_s`` column).
    """
    code = ("import sys; from sufficiency.bench import _child_main; "
            "_child_main(*sys.argv[1:6])")
    row, total, peak, tree_peak = _run_child(code, [str(toml_path), str(work_dir),
                                         "direct" if direct else "no-direct"],
                                  work_dir, str(toml_path))
    row["total_wall_s"] = round(total, 3)
    # the plan command's own peak is taken before the benchmark's MPS re-solve (its own
    # instrument, which the child then runs); the child's whole peak is kept beside it
    row["child_peak_memory_mb"] = peak
    row["tree_peak_memory_mb"] = tree_peak  # with the MPS re-solve, when ``direct``
    plan_s = row["plan_command_s"]
    # HiGHS's own runs inside the plan command (see the module docstring)
    highs_total = (row.pop("mip_highs_s") + row.pop("baseline_highs_s") + row.pop("start_highs_s")
                   + row["prices_s"] + row["gap_lp_s"])
    row["overhead_s"] = round(max(plan_s - highs_total, 0.0), 3)
    row["extras_share"] = extras_share(row)
    row["overhead_share"] = round(row["overhead_s"] / plan_s, 4)
    return row


def extras_share(row: dict[str, Any]) -> float:
    """The extras' seconds over the plan's own (#21: "plan stays lean", at most 0.2).

    Extras: prices, the gap LP and the outputs beyond the contract's (appendix, workbook,
    GeoPackage, paper); the plan's own: everything else (read, build, do nothing, the MIP,
    the audit, the contract's tables and map).
    """
    extras = row["prices_s"] + row["gap_lp_s"] + row["write_extras_s"]
    return round(extras / max(row["plan_command_s"] - extras, 1e-9), 4)


def plain_options(toml_path: Path) -> dict[str, Any]:
    """The HiGHS options the product's plan of this run uses (threads, seed, limit, gap, …)."""
    from sufficiency.preprocess.config import load_run_config
    from sufficiency.solve.highs import highs_options

    return highs_options(load_run_config(toml_path).solver)


def measure_plain(toml_path: Path, work_dir: Path) -> dict[str, Any]:
    """The plain peer of a run in a child process: ``plain_*`` columns, or a note why not."""
    code = ("import sys; from sufficiency.bench import plain_child_main; "
            "plain_child_main(sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4])")
    result, total, peak, tree_peak = _run_child(code, [str(toml_path),
                                            json.dumps(plain_options(toml_path))],
                                     work_dir, f"the plain model of {toml_path}")
    if not result["applies"]:
        return {"plain_note": "comparison does not apply: " + "; ".join(result["reasons"])}
    row = {key if key.startswith("plain_") else f"plain_{key}": value
           for key, value in result.items() if key not in ("applies", "objective_gbp",
                                                           "bound_gbp")}
    row = {key: round(value, 3) if isinstance(value, float) and key.endswith("_s") else value
           for key, value in row.items()}
    for key in ("objective_gbp", "bound_gbp"):
        row[f"plain_{key}"] = None if result[key] is None else round(result[key], 2)
    row["plain_total_wall_s"] = round(total, 3)
    row["plain_peak_memory_mb"] = peak
    row["plain_tree_peak_memory_mb"] = tree_peak
    return row


def objectives_agree(objective: float | None, bound: float | None, plain_objective: float | None,
                     plain_bound: float | None) -> bool | None:
    """Whether both answers can be right: neither plan cheaper than the other's proven bound.

    Each solve says the optimum lies in [bound, objective]; the two intervals must meet
    (within :data:`AGREEMENT_REL` and £1), so two plans "optimal within the gap" differ by
    at most the wider gap. None when either has no plan.
    """
    if objective is None or plain_objective is None:
        return None
    bounds = [b for b in (bound, plain_bound) if b is not None]
    slack = AGREEMENT_REL * max(abs(objective), abs(plain_objective)) + 1.0
    return all(b <= min(objective, plain_objective) + slack for b in bounds)


def compare(row: dict[str, Any]) -> dict[str, Any]:
    """The product's row with its plain peer's: the wall-time ratio and the objectives' match."""
    if row.get("plain_s") is None:
        return {"plan_to_plain": None, "objective_difference_gbp": None, "objectives_agree": None}
    plain_objective = row["plain_objective_gbp"]
    return {
        "plan_to_plain": round(row["plan_command_s"] / row["plain_s"], 3),
        "objective_difference_gbp": (None if plain_objective is None
                                     else round(row["objective_gbp"] - plain_objective, 2)),
        "objectives_agree": objectives_agree(row["objective_gbp"], row["bound_gbp"],
                                             plain_objective, row["plain_bound_gbp"]),
    }


def needs_matching(row: dict[str, Any]) -> bool:
    """Whether to time the product to the plain model's gap: both stopped at the limit.

    A wall ratio of two runs stopped by the same clock says nothing; the product's gap must
    be the smaller, else it never reaches the plain model's.
    """
    return (row["status"] == "time_limit" and row.get("plain_status") == "time_limit"
            and row.get("plain_gap_rel") is not None and row["gap_rel"] is not None
            and row["gap_rel"] < row["plain_gap_rel"])


def at_gap_copy(toml_path: Path, gap: float) -> Path | None:
    """A copy of a (synthetic) run beside it with ``[solver] mip_gap = gap``.

    None when the run has no ``mip_gap`` line to change.
    """
    text = toml_path.read_text(encoding="utf-8")
    changed, count = re.subn(r"(?m)^mip_gap = .*$", f"mip_gap = {gap!r}", text)
    if count != 1:
        return None
    copy = toml_path.with_name(f"{toml_path.stem}-at-plain-gap.toml")
    copy.write_text(changed, encoding="utf-8")
    return copy


def measure_at_plain_gap(toml_path: Path, row: dict[str, Any], work_dir: Path,
                         progress=None) -> dict[str, Any]:
    """The product's `plan` again, told to stop at the plain model's gap at its limit.

    Its whole wall time over the plain process's is the time each takes to a plan of the
    same proven quality. The product may stop at the limit again (status time_limit).
    """
    copy = at_gap_copy(toml_path, row["plain_gap_rel"])
    if copy is None:
        return {}
    if progress:
        progress(f"benchmarking {toml_path.name}: the plan command to the plain model's gap")
    try:
        matched = measure(copy, work_dir / "at-plain-gap", direct=False)
    finally:
        copy.unlink()
    return {"at_plain_gap_s": matched["plan_command_s"],
            "at_plain_gap_status": matched["status"], "at_plain_gap_rel": matched["gap_rel"],
            "at_plain_gap_to_plain": round(matched["plan_command_s"] / row["plain_s"], 3)}


def measure_pair(toml_path: Path, work_dir: Path, plain_first: bool,
                 progress=None, match_gap: bool = False, direct: bool = True) -> dict[str, Any]:
    """The product's `plan` child and the plain child of one run, in the order given.

    ``direct``: also time highspy solving the product's model as MPS (:func:`measure`).

    ``match_gap``: when both stop at the time limit, also the product to the plain gap
    (:func:`measure_at_plain_gap`; it writes a copy of the run TOML beside it).
    """
    def product() -> dict[str, Any]:
        if progress:
            progress(f"benchmarking {toml_path.name}: the plan command")
        return measure(toml_path, work_dir / PRODUCT, direct=direct)

    def plain() -> dict[str, Any]:
        if progress:
            progress(f"benchmarking {toml_path.name}: the plain model")
        return measure_plain(toml_path, work_dir / PLAIN)

    if plain_first:
        peer = plain()
        row = product()
    else:
        row = product()
        peer = plain()
    row.update(peer, first=PLAIN if plain_first else PRODUCT)
    row.update(compare(row))
    if match_gap and needs_matching(row):
        row.update(measure_at_plain_gap(toml_path, row, work_dir, progress))
    return row


def ratio_summary(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Per scale (or given run): median and worst plan/plain ratio, agreement, what did not apply.

    Worst is the largest ratio: the run where the product is slowest against its peer.
    """
    groups: dict[str, list[dict[str, Any]]] = {}
    for row in rows:
        groups.setdefault(row.get("scale") or row["run"], []).append(row)
    summary = []
    for group, members in groups.items():
        ratios = [r["plan_to_plain"] for r in members if r.get("plan_to_plain") is not None]
        summary.append({
            "group": group, "runs": len(members), "compared": len(ratios),
            "median": round(statistics.median(ratios), 3) if ratios else None,
            "worst": max(ratios) if ratios else None,
            **_matched_summary(members),
            "disagree": [r["run"] for r in members if r.get("objectives_agree") is False],
            "notes": sorted({r["plain_note"] for r in members if r.get("plain_note")}),
        })
    return summary


def _matched_summary(members: list[dict[str, Any]]) -> dict[str, Any]:
    """Median and worst ratio of the runs timed to the plain model's gap (none: {})."""
    ratios = [r["at_plain_gap_to_plain"] for r in members
              if r.get("at_plain_gap_to_plain") is not None]
    if not ratios:
        return {}
    return {"matched": len(ratios), "matched_median": round(statistics.median(ratios), 3),
            "matched_worst": max(ratios)}


def growth_exponents(rows: list[dict[str, Any]]) -> dict[str, float]:
    """Least-squares slope of log(stage seconds) against log(nonzeros), per stage.

    A stage is fitted over the runs it ran in (at least :data:`MIN_STAGE_S`): the LP start
    runs only on large models, and a slope through its zeros would say nothing. Seeds of one
    scale are one point (the medians of their logs): their sizes differ by a few per cent,
    so a slope between them would be noise. Stages that ran at fewer than two sizes get no
    exponent.
    """
    exponents = {}
    for stage in (*STAGES, "plan_command"):
        groups: dict[Any, list[tuple[float, float]]] = {}
        for k, r in enumerate(rows):
            if r[f"{stage}_s"] >= MIN_STAGE_S:
                groups.setdefault(r.get("scale") or r.get("run") or k, []).append(
                    (math.log(r["nonzeros"]), math.log(r[f"{stage}_s"])))
        points = [(statistics.median(x for x, _ in g), statistics.median(y for _, y in g))
                  for g in groups.values()]
        sizes = [x for x, _ in points]
        if len(points) < 2 or max(sizes) - min(sizes) < 1e-9:
            continue
        times = [y for _, y in points]
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
          progress=None, seeds: int = 1,
          v1: bool = False, direct: bool = True) -> tuple[list[dict[str, Any]], dict[str, float]]:
    """Benchmark synthetic ``scales`` (``seeds`` of each, from ``seed`` on) and given ``runs``.

    ``v1``: the synthetic runs without their ``[appraisal]`` table (contract v1 capital).
    ``direct``: also time highspy solving each product model's MPS (as long again as a solve).

    Each run is measured twice, the plan command and its plain peer, each in its own child
    process; which goes first alternates from one seed (or run) to the next. Writes
    ``out_dir/bench.csv``.
    """
    from sufficiency.ingest.synth import write_synthetic

    jobs = [(scale, k, seed + k) for scale in scales for k in range(seeds)]
    rows = []
    for scale, k, job_seed in jobs:
        toml_path = write_synthetic(out_dir / "data", scale, job_seed, overwrite=True, v1=v1)
        rows.append(_measure_job(toml_path, k % 2 == 1, progress, match_gap=True,
                                 direct=direct, scale=scale, seed=job_seed))
    for k, run in enumerate(runs):
        rows.append(_measure_job(Path(run).resolve(), k % 2 == 1, progress, direct=direct,
                                 scale="", seed=None))
    write_rows(rows, out_dir / "bench.csv")
    return rows, growth_exponents(rows)


def _measure_job(toml_path: Path, plain_first: bool, progress, match_gap: bool = False,
                 direct: bool = True, **labels: Any) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="bench-") as work:
        row = measure_pair(toml_path, Path(work), plain_first, progress, match_gap, direct)
    row.update(labels)
    return row


# --- the plain model: the contract's rows in direct highspy (see the module doc) ---------

MONEY = 1_000.0  # £ per model money unit (£k), as the product's objective coefficients
SOLUTION_FEASIBLE = 2  # HiGHS's primal_solution_status of a feasible solution
# RunConfig fields the plain model knows (or that never change the optimum); any other
# field set away from its default is a rule it lacks
KNOWN_CONFIG = {"name", "toml_path", "inputs_dir", "start_year", "horizon_years",
                "discount_rate", "independent", "transport", "travel_limit_minutes",
                "capital_budget", "solver", "formulation", "placement_rules", "scenarios",
                "appraisal", "capital", "project_dir"}
# the product's variable families the plain model has a counterpart for (over: soft capacity)
KNOWN_FAMILIES = ("x", "u", "modules", "first", "opened", "begun", "over")
STATUS = {highspy.HighsModelStatus.kOptimal: "optimal",
          highspy.HighsModelStatus.kTimeLimit: "time_limit",
          highspy.HighsModelStatus.kInfeasible: "infeasible"}


def does_not_apply(dataset: Dataset) -> list[str]:
    """Why the plain model is not the same run (rules it lacks); [] when it is."""
    from sufficiency.formulation.matrix import FAMILIES
    from sufficiency.preprocess.config import RunConfig
    from sufficiency.preprocess.placement_rules import PHASE_YEARS

    config = dataset.config
    rules = config.placement_rules
    reasons = []
    if dataset.placement_model == "sticky":
        reasons.append("sticky cohorts (current_placements.csv or [placements] model = "
                       "\"sticky\")")
    if any(r.first_year < 1.0 or r.second_year < 1.0 for r in rules.ramp_up.values()):
        reasons.append("ramp-up ([ramp_up.<kind>] below 1)")
    if rules.soft_capacity.share > 0:
        reasons.append("soft capacity ([soft_capacity] share > 0)")
    if rules.phase_years != PHASE_YEARS or rules.plan_cease_rate != 0.0:
        reasons.append("[placements] phase_years or plan_cease_rate set")
    if config.capital.on:
        reasons.append("capital spend profiles or construction inflation ([capital])")
    groups = dataset.options.get("exclusive_group")
    if groups is not None and (groups != "").any():
        reasons.append("exclusive options (provision.csv exclusive_group)")
    for field in fields(RunConfig):
        if field.name in KNOWN_CONFIG:
            continue
        default = (field.default if field.default is not MISSING
                   else field.default_factory())  # type: ignore[misc]
        if getattr(config, field.name) != default:
            name = field.name
            reasons.append(f"run setting {name!r}, unknown to the plain model")
    if tuple(FAMILIES) != KNOWN_FAMILIES:
        reasons.append(f"the product's variables {FAMILIES} differ from those the plain "
                       f"model mirrors {KNOWN_FAMILIES}")
    return reasons


def plain_dataset(dataset: Dataset) -> Dataset:
    """The same dataset with need × phase pairs never merged (the plain model's cells)."""
    config = dataset.config
    unmerged = replace(config, formulation=replace(config.formulation, aggregate_needs=False))
    return replace(dataset, config=unmerged)


@dataclass
class Triplets:
    """Rows of the plain model as (row, column, value) triplets, with row bounds."""

    rows: list[np.ndarray]
    cols: list[np.ndarray]
    vals: list[np.ndarray]
    lower: list[np.ndarray]
    upper: list[np.ndarray]
    count: int = 0

    def add(self, n_rows: int, terms: list[tuple[Any, Any, Any]], lower: Any, upper: Any) -> None:
        """``n_rows`` rows; each term is (local row, column, value) arrays."""
        for row, col, val in terms:
            row = np.asarray(row, dtype=np.int64)
            self.rows.append(row + self.count)
            self.cols.append(np.asarray(col, dtype=np.int64))
            self.vals.append(np.broadcast_to(np.asarray(val, dtype=float), row.shape).copy())
        self.lower.append(np.broadcast_to(np.asarray(lower, dtype=float), (n_rows,)).copy())
        self.upper.append(np.broadcast_to(np.asarray(upper, dtype=float), (n_rows,)).copy())
        self.count += n_rows


def _capacity(t: Triplets, sets: Any, x0: int, m0: int) -> None:
    """Σ x[·, o, t] − mp_o Σ_{y ≤ t} m[o, y] ≤ existing_o, per (o, t) receiving pupils."""
    p = sets.placements.reset_index(names="i")
    rows = p[["o", "year"]].drop_duplicates().sort_values(["o", "year"]).reset_index(drop=True)
    rows = rows.reset_index(names="row")
    placed = p.merge(rows, on=["o", "year"])
    slots = sets.open_slots.reset_index(names="slot").merge(rows, on="o", suffixes=("", "_t"))
    slots = slots[slots["year"] <= slots["year_t"]]
    options = sets.options
    mp = options["module_places"].to_numpy(float)
    t.add(len(rows), [(placed["row"], x0 + placed["i"].to_numpy(), 1.0),
                      (slots["row"], m0 + slots["slot"].to_numpy(), -mp[slots["o"]])],
          -np.inf, options["existing_places"].to_numpy(float)[rows["o"]])


def _modules_and_fixed_capital(t: Triplets, sets: Any, m0: int, f0: int) -> None:
    """Max modules per option; the fixed capital paid once, with the first module."""
    slots = sets.open_slots.reset_index(names="slot")
    max_mod = sets.options["max_modules"].to_numpy(float)
    options = np.sort(slots["o"].unique())
    row_of = pd.Series(np.arange(len(options)), index=options)
    t.add(len(options), [(slots["o"].map(row_of), m0 + slots["slot"].to_numpy(), 1.0)],
          -np.inf, max_mod[options])
    firsts = sets.first_slots.reset_index(names="f")
    pairs = firsts.merge(firsts, on="o", suffixes=("", "_earlier"))
    pairs = pairs[pairs["year_earlier"] <= pairs["year"]]
    n = len(firsts)
    t.add(n, [(firsts["f"], m0 + firsts["slot"].to_numpy(), 1.0),
              (pairs["f"], f0 + pairs["f_earlier"].to_numpy(), -max_mod[pairs["o"]])],
          -np.inf, 0.0)
    t.add(n, [(firsts["f"], f0 + firsts["f"].to_numpy(), 1.0),
              (firsts["f"], m0 + firsts["slot"].to_numpy(), -1.0)], -np.inf, 0.0)
    fixed_options = np.sort(firsts["o"].unique())
    row_of = pd.Series(np.arange(len(fixed_options)), index=fixed_options)
    t.add(len(fixed_options), [(firsts["o"].map(row_of), f0 + firsts["f"].to_numpy(), 1.0)],
          -np.inf, 1.0)


def _capital_budget(t: Triplets, sets: Any, budget: dict[int, float], m0: int, f0: int) -> None:
    """Capital spent in each budget year (capital year = opening year − lead) ≤ its budget."""
    years = sorted(budget)
    row_of = pd.Series(np.arange(len(years)), index=years, dtype="int64")
    options = sets.options
    terms = []
    for table, first_col, cost in ((sets.open_slots.reset_index(names="k"), m0,
                                    "capital_cost_per_module"),
                                   (sets.first_slots.reset_index(names="k"), f0,
                                    "fixed_capital_cost")):
        spent = table[table["capital_year"].isin(years)]
        terms.append((spent["capital_year"].map(row_of), first_col + spent["k"].to_numpy(),
                      options[cost].to_numpy(float)[spent["o"]] / MONEY))
    t.add(len(years), terms, -np.inf, np.array([budget[y] for y in years], dtype=float) / MONEY)


def build_plain(dataset: Dataset) -> tuple[highspy.HighsLp, dict[str, int]]:
    """The plain model of a run (see the module doc) and its size."""
    from sufficiency.formulation.objective import objective_coefficients
    from sufficiency.formulation.sets import build_sets

    dataset = plain_dataset(dataset)
    config = dataset.config
    sets = build_sets(dataset)
    costs = objective_coefficients(sets, config)
    n_x, n_c = len(sets.placements), len(sets.cells)
    n_m, n_f = len(sets.open_slots), len(sets.first_slots)
    x0, u0, m0, f0 = 0, n_x, n_x + n_c, n_x + n_c + n_m
    t = Triplets([], [], [], [], [])
    pupils = sets.cells["pupils"].to_numpy(float)
    t.add(n_c, [(sets.placements["cell"], x0 + np.arange(n_x), 1.0),
                (np.arange(n_c), u0 + np.arange(n_c), 1.0)], pupils, pupils)
    _capacity(t, sets, x0, m0)
    _modules_and_fixed_capital(t, sets, m0, f0)
    if config.capital_budget:
        _capital_budget(t, sets, config.capital_budget, m0, f0)
    rows, cols, vals = (np.concatenate(part) for part in (t.rows, t.cols, t.vals))
    order = np.lexsort((cols, rows))
    inf = highspy.kHighsInf
    lp = highspy.HighsLp()
    lp.num_col_, lp.num_row_ = f0 + n_f, t.count
    lp.col_cost_ = np.concatenate([costs.x, costs.u, costs.modules, costs.first])
    lp.offset_ = float(costs.constant)
    max_mod = sets.options["max_modules"].to_numpy(float)[sets.open_slots["o"].to_numpy()]
    independent = inf if config.independent.available else 0.0
    lp.col_lower_ = np.zeros(lp.num_col_)
    lp.col_upper_ = np.concatenate([np.full(n_x, inf), np.full(n_c, independent), max_mod,
                                    np.ones(n_f)])
    lower, upper = np.concatenate(t.lower), np.concatenate(t.upper)
    lp.row_lower_ = np.where(np.isfinite(lower), lower, -inf)
    lp.row_upper_ = np.where(np.isfinite(upper), upper, inf)
    lp.a_matrix_.format_ = highspy.MatrixFormat.kRowwise
    lp.a_matrix_.start_ = np.searchsorted(rows[order], np.arange(t.count + 1)).astype(np.int32)
    lp.a_matrix_.index_ = cols[order].astype(np.int32)
    lp.a_matrix_.value_ = vals[order]
    lp.integrality_ = ([highspy.HighsVarType.kContinuous] * (n_x + n_c)
                       + [highspy.HighsVarType.kInteger] * (n_m + n_f))
    size = {"variables": lp.num_col_, "integer_variables": n_m + n_f,
            "constraints": t.count, "nonzeros": len(vals)}
    return lp, size


def solve_plain(lp: highspy.HighsLp, options: dict[str, Any],
                integers: bool = True) -> dict[str, Any]:
    """Solve with the run's HiGHS options; status, objective and bound in £, gap, seconds."""
    highs = highspy.Highs()
    highs.setOptionValue("output_flag", False)
    for key, value in options.items():
        highs.setOptionValue(key, value)
    highs.passModel(lp)
    started = time.perf_counter()
    highs.run()
    seconds = time.perf_counter() - started
    status = highs.getModelStatus()
    info = highs.getInfo()
    found = info.primal_solution_status == SOLUTION_FEASIBLE
    objective = info.objective_function_value * MONEY if found else None
    bound = info.mip_dual_bound * MONEY if integers else objective
    if bound is not None and not np.isfinite(bound):
        bound = None
    if status == highspy.HighsModelStatus.kOptimal and bound is None:
        bound = objective
    gap = (None if objective is None or bound is None
           else abs(objective - bound) / max(abs(objective), 1e-9))
    return {"status": STATUS.get(status, highs.modelStatusToString(status)),
            "objective_gbp": objective, "bound_gbp": bound, "gap_rel": gap,
            "solve_s": seconds}


def plain_run(toml_path: Path, options: dict[str, Any]) -> dict[str, Any]:
    """Read, build and solve the plain model of a run, here; or say why it does not apply."""
    from sufficiency.preprocess.config import load_run_config
    from sufficiency.preprocess.dataset import load_dataset

    marks = {"start": time.time()}
    dataset = load_dataset(load_run_config(toml_path))
    reasons = does_not_apply(dataset)
    marks["read"] = time.time()
    if reasons:
        return {"applies": False, "reasons": reasons}
    lp, size = build_plain(dataset)
    marks["build"] = time.time()
    result = solve_plain(lp, options, integers=size["integer_variables"] > 0)
    marks["solve"] = time.time()
    return {"applies": True, **size, **result, "marks": marks}


def plain_child_main(toml_path: str, options_json: str, out_path: str,
                     launched_at: str) -> None:
    """The plain process: imports, reading the run, building and solving, each timed.

    ``launched_at`` is ``time.time()`` when the parent started this process, so ``plain_s``
    counts interpreter start and imports, as the product's ``plan_command_s`` does.
    """
    import sufficiency.formulation.objective  # noqa: F401  (timed as the child's imports)
    import sufficiency.formulation.sets  # noqa: F401
    import sufficiency.preprocess.dataset  # noqa: F401

    launched = float(launched_at)
    imported = time.time()
    result = plain_run(Path(toml_path), json.loads(options_json))
    if result["applies"]:
        marks = result.pop("marks")
        result.update(plain_s=marks["solve"] - launched, import_s=imported - launched,
                      read_s=marks["read"] - marks["start"],
                      build_s=marks["build"] - marks["read"])
    Path(out_path).write_text(json.dumps(result))
