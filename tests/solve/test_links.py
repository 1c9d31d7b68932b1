"""Opening links separated from the LP relaxation: the same relaxation, only the needed
links in HiGHS's MIP, the others switched off in place; the optimum never changes."""

from __future__ import annotations

import time

import highspy
import numpy as np
import pytest
from conftest import option, run_toml
from test_beside import example_with
from test_oracle import random_instance
from test_rounding import plan_model_of

from sufficiency.pipeline import run_plan
from sufficiency.solve.direct import DirectHighs, highs_lp
from sufficiency.solve.highs import HighsClock, highs_options, quiet_highs
from sufficiency.solve.links import BROKEN, RowSubset, link_rows, separate_links, without_rows

START = "rounding_start = true\n"


def three_rows() -> highspy.HighsLp:
    """Rows [1 2 0] ≤ 10, [0 0 3] ≤ 20, [4 0 5] ≤ 30 over three columns in [0, 1], row-wise."""
    lp = highspy.HighsLp()
    lp.num_col_, lp.num_row_ = 3, 3
    lp.col_cost_ = np.array([-1.0, -1.0, -1.0])
    lp.col_lower_, lp.col_upper_ = np.zeros(3), np.ones(3)
    lp.row_lower_ = np.full(3, -highspy.kHighsInf)
    lp.row_upper_ = np.array([10.0, 20.0, 30.0])
    lp.a_matrix_.format_ = highspy.MatrixFormat.kRowwise
    lp.a_matrix_.start_ = np.array([0, 2, 3, 5])
    lp.a_matrix_.index_ = np.array([0, 1, 2, 0, 2])
    lp.a_matrix_.value_ = np.array([1.0, 2.0, 3.0, 4.0, 5.0])
    return lp


def test_rows_are_taken_in_the_order_asked_with_their_activity():
    rows = RowSubset.of(three_rows(), np.array([2, 0]))
    assert rows.starts.tolist() == [0, 2, 4]
    assert rows.index.tolist() == [0, 2, 0, 1]
    assert rows.value.tolist() == [4.0, 5.0, 1.0, 2.0]
    assert rows.upper.tolist() == [30.0, 10.0]
    assert rows.activity(np.array([1.0, 10.0, 100.0])).tolist() == [504.0, 21.0]


def test_a_model_without_rows_keeps_the_others_and_rows_can_be_added_back():
    lp = three_rows()
    smaller = without_rows(lp, np.array([1]))
    assert smaller.num_row_ == 2 and list(smaller.row_upper_) == [10.0, 30.0]
    assert list(smaller.a_matrix_.index_) == [0, 1, 0, 2]
    highs = quiet_highs({})
    highs.passModel(smaller)
    RowSubset.of(lp, np.array([1, 2])).add_to(highs, np.array([0]))  # row 1: 3·x2 ≤ 20
    model = highs.getLp()
    assert model.num_row_ == 3 and model.row_upper_[2] == 20.0


def test_link_rows_are_the_opening_link_block_and_none_without_strong_links(tiny):
    linked, _ = plan_model_of(random_instance(tiny, 1))
    rows = link_rows(linked)
    start = 0
    for block in linked.blocks:
        if block.name == "opening_link_by_area":
            assert rows.tolist() == list(range(start, start + block.rows))
        start += block.rows
    assert rows.size > 0
    unlinked, _ = plan_model_of(random_instance(tiny, 1, '[formulation]\nstrong_links = "none"\n'))
    assert link_rows(unlinked).size == 0


def relaxation_of(lp: highspy.HighsLp, options) -> float:
    lp.integrality_ = []
    highs = quiet_highs(options)
    highs.passModel(lp)
    highs.run()
    return highs.getInfo().objective_function_value


def growing_demand(tiny):
    """One option (module 10 places, 2 at most, £50k fixed capital) and 10, 20, 20 pupils in
    2026-2028. Without links the LP opens 1 then 2 modules and pays half the fixed capital
    in 2026 and half in 2027 (2 modules need "opened by 2027" = 1, 1 module only 0.5); the
    2026 link (10 pupils ≤ 10 · opened by 2026) moves it all to 2026, the 2027 and 2028
    links already hold. At 3.5 % the relaxation rises."""
    return tiny.write(toml=run_toml(years=3, rate=0.035) + START,
                      demand=["A,ASD,primary,2026,10", "A,ASD,primary,2027,20",
                              "A,ASD,primary,2028,20"],
                      provision=[option("NEW", "S1", module=10, max_modules=2,
                                        capital=100_000, fixed=50_000)])


def test_the_needed_links_give_the_relaxation_with_every_link(tiny):
    """Same optimum as the relaxation with all links; every link holds; only 2026's added."""
    plan_model, config = plan_model_of(growing_demand(tiny))
    options = highs_options(config.solver)
    links = link_rows(plan_model)
    separated = separate_links(highs_lp(plan_model), links, options, HighsClock())
    assert separated is not None
    highs = separated.relaxation.highs
    assert highs.getInfo().objective_function_value == pytest.approx(
        relaxation_of(highs_lp(plan_model), options), rel=1e-9)
    assert relaxation_of(without_rows(highs_lp(plan_model), links), options) < (
        highs.getInfo().objective_function_value - 0.1)  # £k: the links do raise it
    every_link = RowSubset.of(highs_lp(plan_model), links)
    values = np.asarray(highs.getSolution().col_value)
    assert np.all(every_link.activity(values) <= every_link.upper + BROKEN)
    assert links.size == 3 and separated.needed.tolist() == [links[0]]
    assert separated.relaxation.seconds > 0


def test_no_time_for_the_relaxation_is_no_separation(tiny):
    plan_model, config = plan_model_of(random_instance(tiny, 1))
    clock = HighsClock(deadline=time.perf_counter() - 1.0)
    assert separate_links(highs_lp(plan_model), link_rows(plan_model),
                          highs_options(config.solver), clock) is None


def test_on_the_example_highs_gets_only_the_needed_links_and_the_same_optimum(tmp_path,
                                                                             monkeypatch):
    switched_off: list[np.ndarray] = []
    free_in_highs: list[bool] = []
    switch_off = DirectHighs.switch_off_rows

    def recorded(self: DirectHighs, model, rows: np.ndarray) -> None:
        switch_off(self, model, rows)
        switched_off.append(rows)
        model_rows = self.loaded.getLp()
        free_in_highs.append(bool(np.all(np.isinf(np.asarray(model_rows.row_upper_)[rows]))
                                  and np.all(np.isinf(np.asarray(model_rows.row_lower_)[rows]))))

    monkeypatch.setattr(DirectHighs, "switch_off_rows", recorded)
    separated = run_plan(example_with(tmp_path, START))
    assert len(switched_off) == 1 and switched_off[0].size > 0 and free_in_highs == [True]
    assert "start_links" in separated.timer.wall
    every_link = run_plan(example_with(tmp_path, START + "separate_links = false\n"))
    assert len(switched_off) == 1 and "start_links" not in every_link.timer.wall
    assert separated.optimal.report.status == every_link.optimal.report.status == "optimal"
    assert separated.optimal.total_cost == pytest.approx(every_link.optimal.total_cost,
                                                         rel=2e-4)
