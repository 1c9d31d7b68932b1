"""The benchmark: model-size counts checked by hand; `sufficiency bench --scale S` end to end."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from conftest import TinyRun, option, run_toml
from typer.testing import CliRunner

from sufficiency.bench import (
    STAGES,
    _run_child,
    at_gap_copy,
    growth_exponents,
    measure_at_plain_gap,
    needs_matching,
)
from sufficiency.cli import app
from sufficiency.pipeline import run_plan


@pytest.mark.parametrize(("links", "constraints", "nonzeros"), [("none", 16, 34),
                                                                 ("area", 18, 38),
                                                                 ("placement", 18, 38)])
def test_model_size_matches_a_hand_count(tiny, links, constraints, nonzeros):
    """1 area, ASD primary in 2026 and 2027 (2 cells); SP (10 existing places) and NEW
    (module 10, max 2, fixed capital) both serve it: 2 arcs per cell.

    variables: x 4 + u 2 + modules 2 (2026, 2027) + first 2 + opened 2 + begun 2 = 14,
    integer 4. rows: demand 2, opened definition 2, begun definition 2, capacity 4 (2
    options × 2 years), max_modules 1, first link 2, first opens 2, single first 1 = 16;
    nonzeros 6 + 5 + 5 + 6 + 2 + 4 + 4 + 2 = 34 (begun[2027] = first[2026] + first[2027];
    first link: opened[y] − 2 begun[y] ≤ 0). The opening link (by area, or by placement:
    the same here, one need in one area) adds x[2026] ≤ 15 begun[2026] and x[2027] ≤ 15
    begun[2027]: 2 rows, 4 nonzeros. SP has no fixed capital cost, so no link.
    Dense: 1 area × 2 options × 1 need × 1 phase × 2 years = 4 assignment variables.
    """
    toml = run_toml(years=2) + f'\n[formulation]\nstrong_links = "{links}"\n'
    run = run_plan(tiny.write(toml=toml, demand=["A,ASD,primary,2026,15", "A,ASD,primary,2027,15"],
                              provision=[option("SP", "S1", existing=10),
                                         option("NEW", "S1", module=10, max_modules=2,
                                                capital=100_000, fixed=50_000)]))
    assert run.model_size == {"variables": 14, "integer_variables": 4,
                              "constraints": constraints, "nonzeros": nonzeros}
    assert run.sets.cartesian_size == 4


def test_bench_scale_s_two_seeds_against_the_plain_model(tmp_path, monkeypatch):
    """`sufficiency bench --scale S --seeds 2` as documented, on a smaller county (test only:
    the children read what synth writes, so only the parent's scale table is patched) with a
    capital budget: two seeds, plan and plain child in turns, the same optimum, a ratio."""
    from sufficiency.ingest import synth

    monkeypatch.setitem(synth.SCALES, "S", synth.ScaleSpec(
        "S", areas=4, sites=8, needs=3, phases=2, years=5, capital_budget=True,
        time_limit_s=60, towns=1))
    result = CliRunner().invoke(app, ["bench", "--scale", "S", "--seeds", "2",
                                      "--out-dir", str(tmp_path)])
    assert result.exit_code == 0, result.output
    with (tmp_path / "bench.csv").open() as handle:
        rows = list(csv.DictReader(handle))
    assert [(r["run"], r["seed"], r["first"]) for r in rows] == [
        ("synth-S-s1", "1", "product"), ("synth-S-s2", "2", "plain")]
    for row in rows:
        assert row["status"] == "optimal" and row["plain_status"] == "optimal"
        assert row["termination"] == "Optimal"  # HiGHS's words, or why the run stopped early
        assert int(row["nonzeros"]) > 0 and int(row["cartesian_variables"]) > int(
            row["variables"])
        assert float(row["highs_direct_objective_gbp"]) == pytest.approx(
            float(row["objective_gbp"]), rel=2e-4)
        assert 0 <= float(row["overhead_share"]) <= 1 and float(row["peak_memory_mb"]) > 0
        assert 0 < float(row["write_extras_s"]) < float(row["write_s"])
        extras = sum(float(row[c]) for c in ("prices_s", "gap_lp_s", "write_extras_s"))
        assert float(row["extras_share"]) == pytest.approx(
            extras / (float(row["plan_command_s"]) - extras), abs=1e-3)
        assert row["objectives_agree"] == "True" and row["plain_note"] == ""
        assert float(row["plain_objective_gbp"]) == pytest.approx(float(row["objective_gbp"]),
                                                                  rel=2e-4)
        assert float(row["plan_to_plain"]) == pytest.approx(
            float(row["plan_command_s"]) / float(row["plain_s"]), rel=1e-2)
        assert float(row["plain_peak_memory_mb"]) > 0 and float(row["plain_gap_rel"]) <= 1e-4
        if Path("/proc/self/smaps_rollup").exists():  # summed over each child's processes
            assert float(row["tree_peak_memory_mb"]) > 0
            assert float(row["plain_tree_peak_memory_mb"]) > 0
    assert "S: plan command / plain model, wall time over 2 run(s): median" in result.output
    assert "worst" in result.output and "DISAGREE" not in result.output


def test_synth_command_writes_a_run(tmp_path):
    result = CliRunner().invoke(app, ["synth", str(tmp_path), "--scale", "S", "--seed", "3"])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "synth-S-s3.toml").is_file()
    assert "wrote" in result.output


def test_growth_exponents_fit_each_stage_over_the_runs_it_ran_in():
    def row(nonzeros, **seconds):
        times = dict.fromkeys((f"{stage}_s" for stage in STAGES), 0.0)
        return {"nonzeros": nonzeros, **times, "plan_command_s": 1e-6 * nonzeros ** 2,
                **{f"{stage}_s": value for stage, value in seconds.items()}}

    rows = [row(1_000, build=0.01), row(10_000, build=0.1, start=5.0),
            row(100_000, build=1.0, start=50.0, write=2.0)]
    exponents = growth_exponents(rows)
    assert exponents["build"] == pytest.approx(1.0)  # time ∝ nonzeros
    assert exponents["plan_command"] == pytest.approx(2.0)
    assert exponents["start"] == pytest.approx(1.0)  # fitted without the run it skipped
    assert "write" not in exponents and "solve" not in exponents  # ran once, never


def test_growth_exponents_take_the_seeds_of_a_scale_as_one_point():
    def row(scale, nonzeros, build):
        times = dict.fromkeys((f"{stage}_s" for stage in STAGES), 0.0)
        return {"scale": scale, "nonzeros": nonzeros, **times, "plan_command_s": 1.0,
                "build_s": build}

    # two S seeds 1 % apart in size, 4× apart in time: alone they would say exponent ~140
    rows = [row("S", 1_000, 0.005), row("S", 1_010, 0.02), row("M", 100_000, 1.0)]
    assert growth_exponents(rows)["build"] == pytest.approx(1.0, abs=0.01)
    assert "build" not in growth_exponents(rows[:2])  # one scale: no slope


def test_runs_both_stopped_by_the_clock_are_timed_again_to_the_plain_gap(tmp_path):
    """Plan 1e-3 and plain 2e-2 at the time limit: the plan command runs again with
    mip_gap = 2e-2 (a real child, no MPS re-solve); the copy of the run is removed."""

    toml = TinyRun(tmp_path).write(demand=["A,ASD,primary,2026,12"],
                                   provision=[option("SP", "S1", existing=5),
                                              option("NEW", "S1", kind="resourced", module=10,
                                                     max_modules=1, capital=200_000)])
    row = {"status": "time_limit", "gap_rel": 1e-3, "plain_status": "time_limit",
           "plain_gap_rel": 2e-2, "plain_s": 4.0}
    assert needs_matching(row)
    assert not needs_matching({**row, "gap_rel": 3e-2})  # never reaches the plain gap
    assert not needs_matching({**row, "plain_status": "optimal"})
    matched = measure_at_plain_gap(toml, row, tmp_path / "work")
    assert matched["at_plain_gap_status"] == "optimal"  # tiny: HiGHS proves it at once
    assert matched["at_plain_gap_to_plain"] == pytest.approx(matched["at_plain_gap_s"] / 4.0,
                                                             rel=1e-3)
    assert sorted(p.name for p in toml.parent.glob("*.toml")) == [toml.name]


def test_a_run_without_a_mip_gap_line_is_not_timed_again(tmp_path):
    toml = tmp_path / "run.toml"
    toml.write_text('name = "x"\n[solver]\ntime_limit_s = 5\n', encoding="utf-8")
    assert at_gap_copy(toml, 0.01) is None
    toml.write_text('name = "x"\n[solver]\nmip_gap = 0.0001\n', encoding="utf-8")
    copy = at_gap_copy(toml, 0.01)
    assert copy is not None and "mip_gap = 0.01\n" in copy.read_text(encoding="utf-8")


# a parent and its forked child each fill 150 MB of their own, at the same time
TWO_PROCESSES = """import os, sys, time
child = os.fork()
block = bytes([child % 7 + 1]) * (150 * 2**20)
time.sleep(1.5)
if child == 0:
    os._exit(0)
os.waitpid(child, 0)
open(sys.argv[-2], "w").write("{}")
"""


@pytest.mark.skipif(not Path("/proc/self/smaps_rollup").exists(), reason="Linux's /proc only")
def test_the_tree_peak_counts_what_parent_and_child_hold_at_once(tmp_path):
    """Each process peaks at about 160 MB; the tree holds both blocks at once (300 MB)."""
    _, _, peak, tree_peak = _run_child(TWO_PROCESSES, [], tmp_path, "two processes")
    assert peak >= 150
    assert tree_peak is not None and tree_peak >= 290  # one process alone would read ~160
