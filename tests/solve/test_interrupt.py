"""Ctrl-C and SIGTERM stop a running HiGHS solve at once, on every path, leaving nothing.

In-process: a market-split MIP (4 rows, 30 binaries: B&B needs minutes) is run through
each stoppable entry point and interrupted by a real SIGINT after a second. In real
processes: ``sufficiency plan`` on a synthetic M run (time limit 60 s) gets SIGINT or
SIGTERM once its optimal solve has started, and must end with 130 or 143 within seconds,
having written nothing, with no staging folder and no lock file, and an earlier run's
outputs untouched when it had --force. Bounds are generous: the machine may be loaded.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import highspy
import numpy as np
import pytest

from sufficiency.preprocess.paths import MARKER
from sufficiency.solve.highs import HighsClock, quiet_highs
from sufficiency.solve.interrupt import run_stoppable, solves_left_running

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")

ENV = os.environ | {"PYTHONWARNINGS": "ignore"}
STOP_WITHIN = 10.0  # seconds from the signal to the process's exit (measured: under 1 s)


def market_split(m: int = 4, n: int = 30, seed: int = 1) -> highspy.HighsLp:
    """min Σ|slack| s.t. a·x + s⁺ − s⁻ = ⌊Σa/2⌋, x binary: tiny and very slow for B&B."""
    a = np.random.default_rng(seed).integers(0, 100, size=(m, n)).astype(float)
    dense = np.hstack([a, np.eye(m), -np.eye(m)])
    lp = highspy.HighsLp()
    lp.num_col_, lp.num_row_ = n + 2 * m, m
    lp.col_cost_ = np.concatenate([np.zeros(n), np.ones(2 * m)])
    lp.col_lower_ = np.zeros(n + 2 * m)
    lp.col_upper_ = np.concatenate([np.ones(n), np.full(2 * m, highspy.kHighsInf)])
    lp.row_lower_ = lp.row_upper_ = np.floor(a.sum(axis=1) / 2)
    lp.a_matrix_.format_ = highspy.MatrixFormat.kRowwise
    lp.a_matrix_.start_ = np.arange(0, dense.size + 1, dense.shape[1], dtype=np.int32)
    lp.a_matrix_.index_ = np.tile(np.arange(dense.shape[1], dtype=np.int32), m)
    lp.a_matrix_.value_ = dense.ravel()
    lp.integrality_ = ([highspy.HighsVarType.kInteger] * n
                       + [highspy.HighsVarType.kContinuous] * (2 * m))
    return lp


def slow_highs() -> highspy.Highs:
    highs = quiet_highs()
    for key, value in {"threads": 1, "random_seed": 0, "time_limit": 120.0}.items():
        highs.setOptionValue(key, value)
    highs.passModel(market_split())
    return highs


def interrupt_after(seconds: float, signum: int = signal.SIGINT) -> threading.Timer:
    timer = threading.Timer(seconds, os.kill, (os.getpid(), signum))
    timer.start()
    return timer


@pytest.mark.parametrize("run", [run_stoppable, HighsClock().run], ids=["direct", "clock"])
def test_ctrl_c_stops_a_running_solve_at_once_and_highs_soon_after(run):
    highs = slow_highs()
    timer = interrupt_after(1.0)
    started = time.monotonic()
    with pytest.raises(KeyboardInterrupt):
        run(highs)
    timer.join()
    assert time.monotonic() - started < 1.0 + STOP_WITHIN / 2
    deadline = time.monotonic() + 30  # HiGHS's own stop, at its next interrupt check
    while solves_left_running() and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not solves_left_running()
    assert highs.getModelStatus() == highspy.HighsModelStatus.kInterrupt


def test_the_pyomo_reference_path_is_stoppable_too():
    import pyomo.environ as pyo

    from sufficiency.preprocess.config import SolverSettings
    from sufficiency.solve.reference import PyomoHighs

    lp = market_split()
    model = pyo.ConcreteModel()
    n = len(lp.col_cost_)
    model.x = pyo.Var(range(n), bounds=lambda _, j: (lp.col_lower_[j], lp.col_upper_[j]),
                      within=lambda _, j: pyo.Binary if j < 30 else pyo.NonNegativeReals)
    values = np.asarray(lp.a_matrix_.value_).reshape(lp.num_row_, n)
    model.rows = pyo.Constraint(range(lp.num_row_), rule=lambda m, i: sum(
        values[i, j] * m.x[j] for j in range(n) if values[i, j]) == lp.row_lower_[i])
    model.cost = pyo.Objective(expr=sum(lp.col_cost_[j] * model.x[j] for j in range(n)))

    class Plan:  # the two things PyomoHighs asks of a PlanModel
        size = {"integer_variables": 30}

    Plan.model = model
    solver = PyomoHighs(SolverSettings(time_limit_s=120))
    timer = interrupt_after(1.0)
    started = time.monotonic()
    with pytest.raises(KeyboardInterrupt):
        solver.solve(Plan())
    timer.join()
    assert time.monotonic() - started < 1.0 + STOP_WITHIN / 2


def test_a_solve_off_the_main_thread_runs_there_untouched():
    highs = quiet_highs()
    highs.passModel(market_split(m=2, n=8))
    names = []

    def solve():
        names.append(threading.current_thread().name)
        run_stoppable(highs)

    worker = threading.Thread(target=solve, name="worker")
    worker.start()
    worker.join(60)
    assert names == ["worker"]
    assert highs.getModelStatus() == highspy.HighsModelStatus.kOptimal


def test_every_highs_run_in_the_solve_stage_goes_through_run_stoppable():
    """A bare ``highs.run()`` would make Ctrl-C wait for the end of that solve again."""
    solve = Path(__file__).resolve().parents[2] / "sufficiency" / "solve"
    bare = [f"{path.name}:{number}" for path in sorted(solve.glob("*.py"))
            if path.name != "interrupt.py"
            for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
            if re.search(r"(?<!self)\.run\(\)", line.split("#")[0])]
    assert not bare


# --- real processes: `sufficiency plan` on a run whose MIP takes a minute ---------------

@pytest.fixture(scope="module")
def long_run(tmp_path_factory) -> Path:
    """A synthetic M run (its MIP does not finish in 60 s), and a 2 s one of the same name."""
    folder = tmp_path_factory.mktemp("long") / "runs"
    subprocess.run([sys.executable, "-m", "sufficiency", "synth", str(folder), "--scale", "M",
                    "--seed", "1"], check=True, capture_output=True, timeout=300, env=ENV)
    toml = next(folder.glob("*.toml"))
    text = toml.read_text(encoding="utf-8")
    assert "time_limit_s = 60" in text
    short = text.replace("time_limit_s = 60", "time_limit_s = 2\nprice_budget = false")
    (folder / "short.toml").write_text(short, encoding="utf-8")
    return toml


def plan_and_signal(toml: Path, root: Path, signum: int, *extra: str) -> tuple[int, float, str]:
    """Start `sufficiency plan`, signal it a second into its optimal solve; (exit, s, stderr)."""
    proc = subprocess.Popen([sys.executable, "-m", "sufficiency", "plan", str(toml),
                             "--output-root", str(root), *extra], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=ENV)
    seen = []
    try:
        assert proc.stderr is not None
        for line in proc.stderr:
            seen.append(line)
            if "Solving the optimal plan" in line:
                break
        time.sleep(1.0)
        assert proc.poll() is None, "".join(seen)  # still solving when the signal comes
        sent = time.monotonic()
        proc.send_signal(signum)
        _, err = proc.communicate(timeout=60)
        return proc.returncode, time.monotonic() - sent, "".join(seen) + err
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()


def files_under(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*"))
            if p.is_file()} if root.exists() else {}


def leftovers(root: Path) -> list[str]:
    """Hidden staging and ``.old`` entries and lock files under ``root`` (not the marker)."""
    return sorted(str(p) for p in root.rglob("*") if p.suffix == ".lock" or (
        p.name.startswith(".") and p.name != MARKER)) if root.exists() else []


@pytest.mark.parametrize(("signum", "code", "said"), [
    (signal.SIGINT, 130, "interrupted: nothing was written"),
    (signal.SIGTERM, 143, "terminated: nothing was written")], ids=["SIGINT", "SIGTERM"])
def test_a_signal_during_the_solve_ends_the_run_at_once_writing_nothing(long_run, tmp_path,
                                                                        signum, code, said):
    root = tmp_path / "root"
    returncode, seconds, err = plan_and_signal(long_run, root, signum)
    assert returncode == code, err
    assert seconds < STOP_WITHIN, err
    assert said in err
    assert "Traceback" not in err
    assert not files_under(root)
    assert not leftovers(root)


def test_an_interrupted_forced_run_keeps_the_earlier_outputs(long_run, tmp_path):
    root = tmp_path / "root"
    earlier = subprocess.run([sys.executable, "-m", "sufficiency", "plan",
                              str(long_run.with_name("short.toml")), "--output-root", str(root)],
                             capture_output=True, text=True, timeout=300, env=ENV)
    assert earlier.returncode == 0, earlier.stderr
    before = files_under(root)
    assert any(name.endswith("plan.csv") for name in before)
    returncode, seconds, err = plan_and_signal(long_run, root, signal.SIGINT, "--force")
    assert returncode == 130, err
    assert seconds < STOP_WITHIN, err
    assert files_under(root) == before, "the earlier run's outputs, byte for byte"
    assert not leftovers(root)
