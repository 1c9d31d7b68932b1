"""[solver.options] is an allow-list: a run file from elsewhere cannot make HiGHS touch a file.

HiGHS acts on some options the moment they are set (``log_file`` creates its file), and
others write files during the solve (``solution_file`` with ``write_solution_to_file``).
Names are checked against the allow-list before HiGHS sees any of them, by ``validate``
and ``plan`` alike; the allowed ones still reach HiGHS.
"""

from __future__ import annotations

import re
from pathlib import Path

import highspy
import pytest
from conftest import option, run_toml
from typer.testing import CliRunner

import sufficiency.solve.highs as highs_module
from sufficiency.cli import app
from sufficiency.errors import InputError
from sufficiency.preprocess.config import SolverSettings
from sufficiency.solve.highs import ALLOWED_OPTIONS, RESERVED_OPTIONS, highs_options

ROOT = Path(__file__).resolve().parents[2]
DEMAND = ["A,ASD,primary,2026,12"]
PROVISION = [option("NEW", "S1", module=5, max_modules=2, capital=50_000, fixed=150_000)]
# options that name a file, write output, read input, or change threads or the process
REFUSED = ["log_file", "solution_file", "write_solution_to_file", "write_model_file",
           "write_model_to_file", "write_presolved_model_file", "write_basis_file",
           "write_iis_model_file", "read_solution_file", "read_basis_file",
           "mip_improving_solution_file", "mip_improving_solution_save", "glpsol_cost_row_location",
           "output_flag", "log_to_console", "log_dev_level", "highs_debug_level",
           "parallel", "simplex_max_concurrency", "hipo_serial_blas", "ranging",
           "objective_bound", "no_such_option"]


def settings(**options) -> SolverSettings:
    return SolverSettings(options=options)


@pytest.mark.parametrize("key", REFUSED)
def test_an_option_off_the_list_is_refused_before_highs_sees_it(key, monkeypatch):
    def no_highs():
        raise AssertionError("HiGHS was asked before the name was checked")

    monkeypatch.setattr(highs_module, "quiet_highs", no_highs)
    with pytest.raises(InputError) as raised:
        highs_options(settings(**{key: "x", "mip_pool_soft_limit": 2000}))
    message = str(raised.value)
    assert f"solver.options.{key}" in message
    assert "not an allowed HiGHS option here; allowed: see docs/inputs.md" in message
    assert "mip_pool_soft_limit" not in message


@pytest.mark.parametrize("key", RESERVED_OPTIONS)
def test_what_the_solver_table_sets_stays_refused(key):
    with pytest.raises(InputError, match=r"is set by the \[solver\] table itself"):
        highs_options(settings(**{key: 1}))


def test_allowed_options_reach_highs_and_bad_values_are_input_errors():
    options = highs_options(settings(mip_pool_soft_limit=2000, mip_lp_solver="ipm",
                                     mip_feasibility_tolerance=1e-7, mip_detect_symmetry=False))
    assert options["mip_pool_soft_limit"] == 2000
    assert options["mip_lp_solver"] == "ipm"
    for value in ("lots", [1, 2], {"a": 1}):
        with pytest.raises(InputError, match="HiGHS does not accept option mip_pool_soft_limit"):
            highs_options(settings(mip_pool_soft_limit=value))


def test_every_allowed_option_is_a_highs_option():
    probe = highspy.Highs()
    probe.setOptionValue("output_flag", False)
    unknown = [name for name in sorted(ALLOWED_OPTIONS)
               if probe.getOptionType(name)[0] != highspy.HighsStatus.kOk]
    assert not unknown


def test_the_documented_list_is_the_allow_list_and_holds_every_recommended_option():
    docs = (ROOT / "docs/inputs.md").read_text(encoding="utf-8")
    section = docs.split("**HiGHS options allowed in `[solver.options]`.**")[1]
    section = section.split("\n\n", 2)[1]  # the bulleted list after the paragraph
    assert set(re.findall(r"`([a-z_]+)`", section)) - {"presolve"} == ALLOWED_OPTIONS
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    recommended = set(re.findall(r"`\[solver\.options\] ([a-z_]+) =", readme + docs))
    recommended |= {"mip_feasibility_tolerance", "mip_abs_gap", "mip_heuristic_effort",
                    "mip_lp_age_limit", "ipm_optimality_tolerance", "start_crossover_tolerance",
                    "mip_pscost_minreliable", "mip_detect_symmetry",
                    "mip_heuristic_run_feasibility_jump", "mip_max_nodes",
                    "mip_max_improving_sols"}
    assert {"mip_pool_soft_limit", "mip_lp_solver"} <= recommended
    assert recommended <= ALLOWED_OPTIONS


@pytest.mark.parametrize("command", ["validate", "plan"])
def test_a_run_file_cannot_make_highs_write_a_file(tiny, command):
    """log_file would be created while the options are checked; solution_file replaced."""
    target = tiny.root / "elsewhere"
    target.mkdir()
    log, solution = target / "highs.log", target / "precious.txt"
    solution.write_text("keep me\n")
    for extra in (f'log_file = "{log}"',
                  f'write_solution_to_file = true\nsolution_file = "{solution}"',
                  f'write_model_file = "{target / "model.mps"}"\nwrite_model_to_file = true'):
        toml = tiny.write(demand=DEMAND, provision=PROVISION,
                          toml=run_toml(extra=f"[solver.options]\n{extra}\n"))
        args = [command, str(toml)] + (["--output-root", str(tiny.root / "out")]
                                        if command == "plan" else [])
        result = CliRunner().invoke(app, args)
        assert result.exit_code == 2, result.output
        assert "not an allowed HiGHS option here" in result.output
        assert sorted(p.name for p in target.iterdir()) == ["precious.txt"]
        assert solution.read_text() == "keep me\n"
        assert not log.exists()
        assert not (tiny.root / "out").exists()


def test_allowed_options_still_plan(tiny):
    extra = ("[solver.options]\nmip_pool_soft_limit = 2000\nmip_lp_solver = \"simplex\"\n"
             "mip_feasibility_tolerance = 1e-7\n")
    toml = tiny.write(demand=DEMAND, provision=PROVISION, toml=run_toml(extra=extra))
    assert CliRunner().invoke(app, ["validate", str(toml)]).exit_code == 0
    result = CliRunner().invoke(app, ["plan", str(toml), "--output-root", str(tiny.root / "out")])
    assert result.exit_code == 0, result.output
    assert "optimal" in result.output
