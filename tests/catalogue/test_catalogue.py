"""The bad-input catalogue through the command line (cases in catalogue_cases.py).

Each bad input stops `sufficiency plan` before solving: exit code 2, no traceback, one line
per problem naming the file, the row or feature, the column or key, and what to do; nothing
written. Harmless slips are fixed with a warning; the run goes on.
"""

from __future__ import annotations

import json

import pytest
from catalogue_cases import ACCEPTED, CASES, WARNED, Case
from conftest import option
from typer.testing import CliRunner

from sufficiency.cli import app

GOOD = {"demand": ["A,ASD,primary,2026,5"], "provision": [option("SP", "S1", existing=10)]}


def write_case(tiny, case: Case):
    """The valid tiny run with the case's one mistake; returns the TOML path."""
    toml = tiny.write(**(GOOD | case.files))
    if case.mutate:
        case.mutate(tiny.root / "data", toml)
    return toml


def problem_lines(output: str) -> list[str]:
    return [line for line in output.splitlines() if line.startswith("  - ")]


@pytest.mark.parametrize("case", CASES, ids=lambda case: case.id)
def test_bad_input_is_rejected_before_solving(tiny, case):
    toml = write_case(tiny, case)
    out_root = tiny.root / "out"
    result = CliRunner().invoke(app, ["plan", str(toml), "--output-root", str(out_root)])
    output = result.output
    assert result.exit_code == 2, output
    assert result.exception is None or isinstance(result.exception, SystemExit), output
    assert "Traceback" not in output
    assert "nothing was solved or written" in output
    assert "Solving" not in output, "rejected before solving"
    for fragment in case.expect:
        assert fragment in output, f"{fragment!r} not in:\n{output}"
    lines = problem_lines(output)
    assert lines and all(" — " in line for line in lines), "every problem says what to do"
    assert not out_root.exists(), "nothing may be written"
    validated = CliRunner().invoke(app, ["validate", str(toml)])
    assert validated.exit_code == 2
    assert problem_lines(validated.output) == lines, "validate reports what plan reports"


@pytest.mark.parametrize("case", WARNED, ids=lambda case: case.id)
def test_harmless_slip_is_fixed_with_a_warning(tiny, case):
    result = CliRunner().invoke(app, ["validate", str(write_case(tiny, case))])
    assert result.exit_code == 0, result.output
    for fragment in case.expect:
        assert f"warning: {fragment}" in result.output, result.output


@pytest.mark.parametrize("case", ACCEPTED, ids=lambda case: case.id)
def test_accepted_without_complaint(tiny, case):
    result = CliRunner().invoke(app, ["validate", str(write_case(tiny, case))])
    assert result.exit_code == 0, result.output
    assert "warning" not in result.output


def test_warnings_reach_the_summary(tiny):
    """A trimmed identifier is said on screen and recorded in summary.json."""
    toml = write_case(tiny, WARNED[0])
    result = CliRunner().invoke(app, ["plan", str(toml), "--output-root", str(tiny.root / "out")])
    assert result.exit_code == 0, result.output
    summary = json.loads((tiny.root / "out" / "outputs" / "tiny" / "summary.json").read_text())
    assert any("removed spaces around" in warning for warning in summary["warnings"])


def test_catalogue_is_complete():
    """The issue's list: at least 30 bad inputs, each with a location and a fix to show."""
    assert len(CASES) >= 30
    assert all(len(case.expect) >= 2 for case in CASES)
