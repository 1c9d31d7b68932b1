"""The Pyomo-free result types: status words as summary.json writes them, one release alias."""

from __future__ import annotations

import json

from sufficiency.outcome import RunResult, SolveStatus, StageTimer


def test_statuses_are_the_contract_words_and_say_whether_there_is_a_plan():
    assert json.dumps([SolveStatus.OPTIMAL, SolveStatus.TIME_LIMIT]) == '["optimal", "time_limit"]'
    assert [s for s in SolveStatus if s.has_plan] == [SolveStatus.OPTIMAL, SolveStatus.TIME_LIMIT]


def test_run_baseline_still_names_do_nothing_for_one_release():
    run = RunResult(dataset=None, sets=None, model_size={}, optimal=None, do_nothing="dn",
                    timer=StageTimer())
    assert run.baseline == run.do_nothing == "dn"
