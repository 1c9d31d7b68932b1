"""The LP start found beside the MIP: handed over at HiGHS's ask after its root LP; when
HiGHS stops first, its plan and bound are taken where better; the optimum never changes."""

from __future__ import annotations

import dataclasses
import shutil
from pathlib import Path

import numpy as np
import pytest
from test_oracle import brute_force, random_instance

from sufficiency.pipeline import run_plan
from sufficiency.solve.beside import ASK_AFTER_ROOT_LP, StartBeside
from sufficiency.solve.direct import STOPPED_LATE, best_known
from sufficiency.solve.rounding import RoundedStart, StartResult

BESIDE = "rounding_start = true\n"
SERIAL = "rounding_start = true\nstart_beside = false\n"
REPO = Path(__file__).resolve().parents[2]


def a_start(objective: float = 90.0, bound: float | None = 80.0,
            relaxation_seconds: float = 0.25) -> StartResult:
    return StartResult(RoundedStart(np.array([1.0, 2.0]), objective, "dive"), bound, 0.5,
                       relaxation_seconds)


class Ask:
    """HiGHS's user-solution ask, as the callback sees it: what was handed is recorded."""

    def __init__(self) -> None:
        self.data_in = self
        self.handed: list[np.ndarray] = []
        self.interrupted = False

    def setSolution(self, values: np.ndarray) -> None:  # noqa: N802 - highspy's name
        self.handed.append(values)

    def interrupt(self) -> None:
        """HiGHS's interrupt check, as the callback sees it."""
        self.interrupted = True


def test_the_start_is_handed_at_the_ask_after_the_root_lp_only():
    beside = StartBeside(a_start)
    assert beside.started
    beside.begin(time_limit_s=60)
    asks = [Ask() for _ in range(ASK_AFTER_ROOT_LP + 3)]
    for ask in asks:
        beside.offer(ask)
    handed = [len(ask.handed) for ask in asks]
    assert handed == [0] * (ASK_AFTER_ROOT_LP - 1) + [1, 0, 0, 0]
    assert asks[ASK_AFTER_ROOT_LP - 1].handed[0].tolist() == [1.0, 2.0]
    arrived = beside.at_end()
    assert arrived.plan.objective == 90.0 and arrived.bound == 80.0


def test_highs_waits_no_longer_than_its_time_limit():
    def slow() -> StartResult:
        import time

        time.sleep(30)
        return a_start()

    beside = StartBeside(slow)
    beside.begin(time_limit_s=0.3)
    asks = [Ask() for _ in range(ASK_AFTER_ROOT_LP)]
    for ask in asks:
        beside.offer(ask)
    assert 0.2 < beside.waited_s < 5
    assert not asks[-1].handed
    assert beside.at_end() is None  # not arrived: the child is stopped


@pytest.mark.parametrize(("found", "stopped"), [
    (a_start(relaxation_seconds=100.0), True),  # 60 s left: HiGHS's root would overrun
    (a_start(relaxation_seconds=0.25), False),
    (StartResult(None, 80.0, 0.5, 100.0), False),  # no plan to end the run with
])
def test_highs_stops_when_the_start_comes_with_less_time_left_than_its_relaxation_took(
        found, stopped):
    beside = StartBeside(lambda: found)
    beside.begin(time_limit_s=60)
    asks = [Ask() for _ in range(ASK_AFTER_ROOT_LP)]
    checks = [Ask(), Ask()]
    beside.stop_if_late(checks[0])  # before the ask: never
    for ask in asks:
        beside.offer(ask)
    beside.stop_if_late(checks[1])
    assert bool(asks[-1].handed) == (found.plan is not None)
    assert (beside.late, checks[0].interrupted, checks[1].interrupted) == (stopped, False,
                                                                           stopped)
    beside.at_end()


def test_on_the_example_a_late_start_ends_the_run_with_its_plan(tmp_path, monkeypatch):
    """A start whose relaxation took longer than the whole limit stops HiGHS once handed
    over: time-limited, with the start's plan or a better one, and an honest gap."""
    from sufficiency import pipeline

    found = pipeline.rounding_start

    def slow_relaxation(*args, **kwargs) -> StartResult:
        return dataclasses.replace(found(*args, **kwargs), relaxation_seconds=1e6)

    monkeypatch.setattr(pipeline, "rounding_start", slow_relaxation)
    run = run_plan(example_with(tmp_path, BESIDE))
    report = run.optimal.report
    assert report.status == "time_limit" and report.termination == STOPPED_LATE
    assert report.bound <= report.objective and report.mip_gap is not None
    assert report.solve_seconds < 60  # of the example's 120 s


def test_a_start_that_fails_is_no_start():
    def fails() -> StartResult:
        raise RuntimeError("no relaxation")

    beside = StartBeside(fails)
    beside.begin(time_limit_s=60)
    asks = [Ask() for _ in range(ASK_AFTER_ROOT_LP)]
    for ask in asks:
        beside.offer(ask)
    assert not asks[-1].handed
    assert beside.at_end() is None


@pytest.mark.parametrize(("objective", "bound", "arrived", "expected"), [
    # HiGHS stopped at 100 with bound 50: the start's 90 and its bound 80 are better
    (100.0, 50.0, a_start(), (90.0, 80.0, True)),
    # HiGHS's own plan (85) is cheaper: kept; the start's bound still counts
    (85.0, 50.0, a_start(), (85.0, 80.0, False)),
    # HiGHS found no plan in its limit: the start's is the plan
    (None, None, a_start(), (90.0, 80.0, True)),
    # the start found no bound: HiGHS's stays, capped at the plan's cost
    (100.0, 95.0, a_start(bound=None), (90.0, 90.0, True)),
    # nothing arrived: HiGHS's answer as it was
    (100.0, 50.0, None, (100.0, 50.0, False)),
])
def test_a_stopped_run_keeps_the_better_plan_and_the_higher_bound(objective, bound, arrived,
                                                                   expected):
    got_objective, got_bound, plan = best_known(objective, bound, None, arrived)
    assert (got_objective, got_bound, plan is not None) == expected


def test_a_bound_known_before_the_run_counts_too():
    assert best_known(100.0, 50.0, 85.0, a_start())[1] == 85.0


@pytest.mark.parametrize("seed", range(6))
def test_beside_and_serial_starts_reach_the_brute_force_optimum(tiny, seed):
    beside = run_plan(random_instance(tiny, seed, BESIDE))
    optimum = brute_force(random_instance(tiny, seed, BESIDE))
    serial = run_plan(random_instance(tiny, seed, SERIAL))
    for run in (beside, serial):
        assert run.optimal.report.status == "optimal"
        assert run.optimal.total_cost == pytest.approx(optimum, rel=1e-4, abs=1.0)
    assert "start" in serial.timer.wall and "start" not in beside.timer.wall


def example_with(tmp_path: Path, solver_lines: str) -> Path:
    """The example run, copied, with ``solver_lines`` added to its [solver] table."""
    if not (tmp_path / "inputs").exists():
        shutil.copytree(REPO / "inputs" / "example", tmp_path / "inputs" / "example")
        (tmp_path / "models").mkdir()
    text = (REPO / "models" / "example.toml").read_text()
    toml = tmp_path / "models" / f"example{len(list((tmp_path / 'models').iterdir()))}.toml"
    toml.write_text(text.replace("[solver]\n", "[solver]\n" + solver_lines))
    return toml


def test_on_the_example_highs_takes_the_start_after_its_root_lp_and_plans_the_same(
        tmp_path, monkeypatch):
    """The example's MIP asks at least three times, so the start is handed over; the plan
    is the same in two runs and costs what the start-first plan costs, to the 1e-4 gap."""
    asks: list[int] = []
    offer = StartBeside.offer

    def counted(self: StartBeside, event) -> None:
        asks.append(1)
        offer(self, event)

    monkeypatch.setattr(StartBeside, "offer", counted)
    first, again = (run_plan(example_with(tmp_path, BESIDE)) for _ in range(2))
    assert len(asks) >= 2 * ASK_AFTER_ROOT_LP and "start_wait" in first.timer.wall
    assert first.optimal.report.objective == again.optimal.report.objective
    assert first.optimal.report.bound == again.optimal.report.bound
    assert first.optimal.plan.equals(again.optimal.plan)
    serial = run_plan(example_with(tmp_path, SERIAL))
    assert first.optimal.report.status == serial.optimal.report.status == "optimal"
    assert first.optimal.total_cost == pytest.approx(serial.optimal.total_cost, rel=2e-4)
