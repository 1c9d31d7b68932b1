"""Sensitivity sweeps: hand-checked rows, parameter checks, serial = LocalCluster.

The run: 12 pupils, one year; option NEW: modules of 5 places at £50k each (at most 2)
plus £150k fixed, places at £20k. With independent placement at £c per pupil:

    2 modules: 150k + 100k + 10 × 20k + 2c = 450k + 2c
    nothing:   12c
    → open from c > 45k: c = 30k → 360k (nothing); 50k → 550k; 70k → 590k.
"""

from __future__ import annotations

import pytest
from conftest import option, run_toml

from sufficiency.analyses.distributed import Backend
from sufficiency.analyses.sweep import parse_values, sweep
from sufficiency.errors import InputError

KEY = "independent.cost_per_place"


@pytest.fixture
def toml(tiny):
    return tiny.write(demand=["A,ASD,primary,2026,12"],
                      provision=[option("NEW", "S1", module=5, max_modules=2, capital=50_000,
                                        fixed=150_000)])


def test_sweep_by_hand_and_identical_on_a_local_cluster(toml):
    """Rows as worked out above; the same sweep on a LocalCluster of 2 worker processes
    (values given in another order) gives exactly the same table."""
    serial = sweep(toml, KEY, [70_000, 30_000, 50_000], Backend(serial=True))
    assert serial["value"].tolist() == [30_000, 50_000, 70_000]  # sorted by value
    assert serial["objective"].tolist() == pytest.approx([360_000, 550_000, 590_000])
    assert serial["places_special"].tolist() == [0, 10, 10]
    assert serial["plan"].tolist() == ["—", "NEW@2026×2", "NEW@2026×2"]
    assert serial["savings"].tolist() == pytest.approx([0, 50_000, 250_000])
    cluster = sweep(toml, KEY, [30_000, 50_000, 70_000], Backend(serial=False, n_workers=2))
    assert serial.equals(cluster)


@pytest.mark.parametrize(("key", "values", "factor_column", "expected"), [
    ("provision.capital_cost_per_module.special", [0.5, 2.0], "capital", [200_000, 0]),
    ("provision.capital_cost_per_module.resourced", [0.5], "capital", [250_000]),
    ("capital_budget.2026", [0, 250_000], "capital", [0, 250_000]),
])
def test_other_parameters(toml, key, values, factor_column, expected):
    """Module capital × 0.5 → 150k + 50k = 200k; × 2 → 350k fixed+modules: not worth it."""
    table = sweep(toml, key, values)
    assert table[factor_column].tolist() == pytest.approx(expected)


def test_a_failing_value_is_a_row_not_a_crash(tiny):
    """Independent placement off; the school is 12 minutes away: a 1-minute limit fails."""
    path = tiny.write(demand=["A,ASD,primary,2026,5"], provision=[option("SP", "S1",
                                                                         existing=10)],
                      toml=run_toml().replace("transport_cost_per_pupil = 0",
                                              "transport_cost_per_pupil = 0\navailable = false"))
    table = sweep(path, "travel_limit_minutes.primary", [1, 45])
    assert table["status"].tolist() == ["failed (exit 2)", "optimal"]
    assert "no option serves" in table.loc[0, "message"]


@pytest.mark.parametrize(("key", "values", "message"), [
    ("independent.cost_per_plase", [1], "did you mean 'independent.cost_per_place'"),
    ("discount_rate", [2], "out of range"),
    ("capital_budget.scale", [1], "no [capital_budget] to scale"),
    ("provision.annual_cost_per_place.school", [1], "not a parameter"),
])
def test_bad_parameters(toml, key, values, message):
    with pytest.raises(InputError) as error:
        sweep(toml, key, values)
    assert message in str(error.value)


def test_parse_values():
    assert parse_values("40_000, 54000,7e4") == [40_000, 54_000, 70_000]
    with pytest.raises(InputError, match="not a number"):
        parse_values("40k")
    with pytest.raises(InputError, match="repeated"):
        parse_values("1,1")


def test_a_sweep_whose_every_value_fails_prints_its_messages_not_a_traceback(tiny):
    """12 pupils, 5 places, independent placement off: every value is infeasible."""
    from typer.testing import CliRunner

    from sufficiency.cli import app

    toml = tiny.write(toml=run_toml().replace("transport_cost_per_pupil = 0",
                                              "transport_cost_per_pupil = 0\navailable = false"),
                      demand=["A,ASD,primary,2026,12"], provision=[option("SP", "S1",
                                                                          existing=5)])
    result = CliRunner().invoke(app, ["sweep", str(toml), "--parameter", KEY, "--values",
                                      "30000,50000", "--serial", "--output-root",
                                      str(tiny.root / "project")])
    assert result.exit_code == 0, result.output
    assert "Traceback" not in result.output and "internal error" not in result.output
    assert result.output.count("failed (exit") == 2
