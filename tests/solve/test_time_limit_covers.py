"""[solver] time_limit_covers: HiGHS's limit per solve (v1), or the whole plan command."""

from __future__ import annotations

import time

import pytest
from conftest import option, run_toml

from sufficiency.errors import InputError
from sufficiency.pipeline import (
    AFTER_PER_BEFORE_MIP,
    MIP_KEEPS_AT_LEAST,
    plan_charge_s,
    run_plan,
)
from sufficiency.preprocess.config import load_run_config
from sufficiency.solve.direct import DirectHighs

DEMAND = ["A,ASD,primary,2026,12"]
PROVISION = [option("SP", "S1", existing=4), option("NEW", "S1", module=5, max_modules=2,
                                                    capital=50_000, fixed=150_000)]


def tiny_run(tiny, solver_lines: str):
    return tiny.write(toml=run_toml().replace("[solver]\n", "[solver]\n" + solver_lines),
                      demand=DEMAND, provision=PROVISION)


def test_the_charge_is_the_work_before_and_the_estimate_after_at_most_half_the_limit():
    assert plan_charge_s(2.0, 60.0) == pytest.approx(2.0 * (1 + AFTER_PER_BEFORE_MIP))
    assert plan_charge_s(100.0, 60.0) == pytest.approx(60.0 * (1 - MIP_KEEPS_AT_LEAST))
    assert plan_charge_s(0.0, 60.0) == 0.0


@pytest.mark.parametrize(("written", "read"), [
    ("", "solve"), ('time_limit_covers = "solve"\n', "solve"),
    ('time_limit_covers = "plan"\n', "plan")])
def test_the_setting(tiny, written, read):
    assert load_run_config(tiny_run(tiny, written)).solver.time_limit_covers == read


def test_other_values_are_refused(tiny):
    with pytest.raises(InputError, match="solver.time_limit_covers"):
        load_run_config(tiny_run(tiny, 'time_limit_covers = "all"\n'))


def mip_limits(tiny, monkeypatch, solver_lines: str, started_s_ago: float) -> list[float]:
    """The time limits HiGHS was given, run by run (do nothing, then the plan)."""
    limits: list[float] = []
    run_cleared = DirectHighs._run_cleared

    def recorded(self, time_limit_s, start, beside):
        limits.append(time_limit_s)
        return run_cleared(self, time_limit_s, start, beside)

    monkeypatch.setattr(DirectHighs, "_run_cleared", recorded)
    run = run_plan(tiny_run(tiny, solver_lines), started_at=time.time() - started_s_ago)
    assert run.optimal.report.status == "optimal"
    return limits


def test_covering_the_plan_takes_the_command_so_far_and_after_off_the_mip(tiny, monkeypatch):
    """The limit is 60 s: a command begun 100 s ago leaves HiGHS half (30 s); one begun
    now leaves it nearly all; v1 ("solve") gives every solve the whole 60 s."""
    assert mip_limits(tiny, monkeypatch, 'time_limit_covers = "plan"\n', 100.0)[-1] == (
        pytest.approx(30.0))
    limits = mip_limits(tiny, monkeypatch, 'time_limit_covers = "plan"\n', 0.0)
    assert 55.0 < limits[-1] < 60.0
    assert limits[0] == 60.0  # do nothing keeps its own limit
    assert mip_limits(tiny, monkeypatch, "", 100.0) == [60.0, 60.0]
