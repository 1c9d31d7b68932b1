"""Demand scenarios in the run TOML: multipliers, whole demand files, weights, bad input."""

from __future__ import annotations

import pytest
from conftest import areas_geojson, option, run_toml, square
from typer.testing import CliRunner

from sufficiency.cli import app
from sufficiency.errors import InputError
from sufficiency.preprocess.config import load_run_config
from sufficiency.preprocess.dataset import load_dataset
from sufficiency.preprocess.scenarios import (
    central_name,
    load_scenarios,
    parse_scenarios,
    scenario_table,
)

TWO_AREAS = areas_geojson({"A": square(400_000, 300_000), "B": square(410_000, 300_000)})
DEMAND = ["A,ASD,primary,2026,10", "A,ASD,primary,2027,10", "A,SEMH,primary,2026,4",
          "B,ASD,primary,2026,20"]


def write(tiny, scenarios: str, demand_files: dict[str, str] | None = None):
    path = tiny.write(areas=TWO_AREAS, demand=DEMAND, provision=[option("SP", "S1", existing=5)],
                      toml=run_toml(years=2) + scenarios)
    for name, text in (demand_files or {}).items():
        (path.parent / "data" / name).write_text(text)
    return path


def pupils(scenario) -> dict[tuple, float]:
    demand = scenario.dataset.demand
    return {(a, n, y): p for a, n, y, p in demand[["area_id", "need", "year", "pupils"]]
            .itertuples(index=False)}


def test_multipliers_compound_and_weights_are_normalised(tiny):
    """high: × 1.5 overall, ASD × 2, area B × 0.5, 2027 × 3, growth 10 %/year.

    A ASD 2026: 10 × 1.5 × 2 = 30; A ASD 2027: 10 × 1.5 × 2 × 3 × 1.1 = 99;
    A SEMH 2026: 4 × 1.5 = 6; B ASD 2026: 20 × 1.5 × 2 × 0.5 = 30.
    Weights 1 and 3 → 0.25 and 0.75; the heavier one is central.
    """
    path = write(tiny, """
[scenarios.base]
[scenarios.high]
weight = 3
demand_multiplier = 1.5
growth_per_year = 0.1
need_multipliers = { asd = 2 }
area_multipliers = { B = 0.5 }
year_multipliers = { 2027 = 3 }
""")
    dataset = load_dataset(load_run_config(path))
    base, high = load_scenarios(dataset)
    assert (base.name, base.weight, high.name, high.weight) == ("base", 0.25, "high", 0.75)
    assert pupils(base) == {("A", "ASD", 2026): 10, ("A", "ASD", 2027): 10,
                            ("A", "SEMH", 2026): 4, ("B", "ASD", 2026): 20}
    assert pupils(high) == pytest.approx({("A", "ASD", 2026): 30, ("A", "ASD", 2027): 99,
                                          ("A", "SEMH", 2026): 6, ("B", "ASD", 2026): 30})
    assert central_name([base.spec, high.spec]) == "high"
    table = scenario_table([base, high], dataset)
    assert table["pupil_years"].tolist() == pytest.approx([44, 165])
    assert table["central"].tolist() == [False, True]


def test_a_scenario_called_central_is_central_and_a_demand_file_replaces_demand(tiny):
    """The file's rows replace demand.csv; the multiplier applies on top: 7 × 2 = 14."""
    path = write(tiny, """
[scenarios.central]
weight = 0.1
[scenarios.other]
weight = 0.9
demand_file = "demand_other.csv"
demand_multiplier = 2
""", {"demand_other.csv": "area_id,need,phase,year,pupils\nB,MLD,secondary,2027,7\n"})
    specs = parse_scenarios(load_run_config(path))
    assert central_name(specs) == "central"
    other = load_scenarios(load_dataset(load_run_config(path)))[1]
    assert pupils(other) == {("B", "MLD", 2027): 14}


@pytest.mark.parametrize(("scenarios", "expected"), [
    ("[scenarios.high]\ndemand_multiplyer = 2\n",
     "key 'scenarios.high.demand_multiplyer': unknown key — did you mean "
     "'scenarios.high.demand_multiplier'?"),
    ("[scenarios.high]\ndemand_multiplier = -1\n",
     "key 'scenarios.high.demand_multiplier': -1 is out of range"),
    ("[scenarios.high]\nweight = \"1\"\n", "key 'scenarios.high.weight': '1' is not a number"),
    ("[scenarios.high]\nneed_multipliers = { AUT = 2 }\n",
     "key 'scenarios.high.need_multipliers.AUT': is not an SEN2 need code"),
    ("[scenarios.high]\nyear_multipliers = { 2040 = 2 }\n",
     "key 'scenarios.high.year_multipliers.2040': is not a year of the horizon"),
    ("[scenarios.high]\nyear_multipliers = { \"02026\" = 2 }\n",
     "key 'scenarios.high.year_multipliers.02026': is not a year of the horizon"),
    ("[scenarios.high]\nyear_multipliers = { \"2026²\" = 2 }\n",
     "key 'scenarios.high.year_multipliers.2026²': is not a year of the horizon"),
    ("[scenarios.high]\ndemand_file = \"nope.csv\"\n",
     "key 'scenarios.high.demand_file': file"),
    ("[scenarios.a]\nweight = 0\n[scenarios.b]\nweight = 0\n",
     "key 'scenarios': every scenario has weight 0"),
    ("", "key 'scenarios': the run names no scenarios"),
    ("[scenarios]\nhigh = 3\n", "key 'scenarios.high': must be a table"),
])
def test_bad_scenario_tables_name_the_key_and_the_fix(tiny, scenarios, expected):
    path = write(tiny, "\n" + scenarios)
    with pytest.raises(InputError) as error:
        parse_scenarios(load_run_config(path))
    assert expected in str(error.value)


def test_unknown_area_and_bad_demand_file_rows_are_input_errors(tiny):
    path = write(tiny, """
[scenarios.x]
area_multipliers = { Z = 2 }
[scenarios.y]
demand_file = "bad.csv"
""", {"bad.csv": "area_id,need,phase,year,pupils\nQ,ASD,primary,2026,1\nA,ASD,primary,2050,1\n"})
    dataset = load_dataset(load_run_config(path))
    with pytest.raises(InputError) as error:
        load_scenarios(dataset)
    assert "scenarios.x.area_multipliers.Z': names no planning area" in str(error.value)
    (path.parent / "run.toml").write_text(path.read_text().replace("[scenarios.x]\n"
                                                                    "area_multipliers = { Z = 2 }",
                                                                    ""))
    with pytest.raises(InputError) as error:
        load_scenarios(load_dataset(load_run_config(path)))
    assert "bad.csv, row 3, column 'year': 2050 is outside the horizon" in str(error.value)


def test_validate_checks_the_scenarios_too(tiny):
    """`sufficiency validate` reports a bad scenario with exit code 2."""
    path = write(tiny, "\n[scenarios.high]\nneed_multipliers = { AUT = 2 }\n")
    result = CliRunner().invoke(app, ["validate", str(path)])
    assert result.exit_code == 2
    assert "is not an SEN2 need code" in result.output


def test_scenario_below_the_pupils_already_placed_is_an_input_error(tiny):
    """current_placements.csv puts 8 pupils at SP; halving A's 10 ASD pupils leaves 5 < 8."""
    path = write(tiny, "\n[scenarios.low]\ndemand_multiplier = 0.5\n[scenarios.central]\n",
                 {"current_placements.csv": "area_id,need,phase,option_id,pupils\n"
                                            "A,ASD,primary,SP,8\n"})
    with pytest.raises(InputError) as error:
        load_scenarios(load_dataset(load_run_config(path)))
    assert "scenarios.low': its first-year demand is below the pupils already placed" in str(
        error.value)
