"""Validation as a whole: every problem of a round at once; good input passes.

Each single bad input (and its message) is in the catalogue, tests/catalogue/.
"""

from __future__ import annotations

from conftest import option
from typer.testing import CliRunner

from sufficiency.cli import app

GOOD_DEMAND = ["A,ASD,primary,2026,5"]
GOOD_PROVISION = [option("SP", "S1", existing=10)]


def plan_cli(toml, root):
    return CliRunner().invoke(app, ["plan", str(toml), "--output-root", str(root)])


def assert_rejected(tiny, *fragments, **files):
    files.setdefault("demand", GOOD_DEMAND)
    files.setdefault("provision", GOOD_PROVISION)
    toml = tiny.write(**files)
    out_root = tiny.root / "out"
    result = plan_cli(toml, out_root)
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    for fragment in fragments:
        assert fragment in result.output, result.output
    assert not out_root.exists(), "nothing may be written when validation fails"
    return result.output


def test_all_problems_reported_at_once(tiny):
    out = assert_rejected(tiny, "2 input problems found",
                          demand=["A,ASD,primary,2026,-1", "A,XYZ,primary,2026,5"])
    assert "row 2" in out and "row 3" in out


def test_validate_command_accepts_good_input(tiny):
    toml = tiny.write(demand=GOOD_DEMAND, provision=GOOD_PROVISION)
    result = CliRunner().invoke(app, ["validate", str(toml)])
    assert result.exit_code == 0, result.output
    assert "valid — 1 areas, 1 sites, 1 options" in result.output
