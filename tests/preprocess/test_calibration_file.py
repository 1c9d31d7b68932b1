"""calibration.csv is read and checked with the dataset: `validate` refuses a bad one as `plan`
does (exit 2, file, row and column named), and a good one is on the Dataset for the report."""

from __future__ import annotations

from conftest import option
from typer.testing import CliRunner

from sufficiency.cli import app
from sufficiency.preprocess.dataset import load

GOOD = {"demand": ["A,ASD,primary,2026,5"], "provision": [option("SP", "S1", existing=10)]}
HEADER = "group,need,phase,pupils,year,source\n"


def with_calibration(tiny, text: str):
    """The valid tiny run with ``text`` as its calibration.csv; the TOML path."""
    toml = tiny.write(**GOOD)
    (tiny.root / "data" / "calibration.csv").write_text(text)
    return toml


def problem_lines(output: str) -> list[str]:
    return [line for line in output.splitlines() if line.startswith("  - ")]


def test_validate_refuses_a_bad_calibration_file(tiny):
    toml = with_calibration(tiny, HEADER + "independent,ASD,primary,3,2025,SEN2\n"
                            "hospital,ASD,primary,2,2025,SEN2\nspecial,ASD,primary,many,2025,\n")
    result = CliRunner().invoke(app, ["validate", str(toml)])
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    lines = problem_lines(result.output)
    assert any("calibration.csv, row 3, column 'group': unknown code 'hospital'" in line
               for line in lines), result.output
    assert any("calibration.csv, row 4, column 'pupils'" in line and "'many'" in line
               for line in lines), result.output
    assert all(" — " in line for line in lines), "every problem says what to do"
    planned = CliRunner().invoke(app, ["plan", str(toml), "--output-root",
                                       str(tiny.root / "out")])
    assert planned.exit_code == 2 and problem_lines(planned.output) == lines
    assert "Solving" not in planned.output, "refused before solving"


def test_header_only_calibration_file_is_refused(tiny):
    result = CliRunner().invoke(app, ["validate", str(with_calibration(tiny, HEADER))])
    assert result.exit_code == 2
    assert "calibration.csv: has no data rows" in result.output


def test_good_calibration_file_is_on_the_dataset(tiny):
    dataset = load(with_calibration(tiny, "group,need,phase,pupils\nindependent,*,*,4\n"))
    rows = dataset.calibration.to_dict("records")
    assert rows == [{"group": "independent", "need": "*", "phase": "*", "pupils": 4.0,
                     "year": 2026, "source": "calibration.csv"}]
    (tiny.root / "data" / "calibration.csv").unlink()
    assert load(tiny.write(**GOOD)).calibration is None  # v1 dataset: none
