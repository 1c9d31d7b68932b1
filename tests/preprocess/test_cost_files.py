"""Precedence of costs.csv and independent.csv, on the resolved tables themselves.

Filled-place cost of (option, need, phase): the option's own rows, then its kind's, then
provision.csv; within each level (need, phase) > (need, *) > (*, phase) > (*, *).
Independent cost of (area, need, phase): the cheapest eligible provider (fee + transport),
then costs.csv's kind = independent rows (same order), then [independent].
"""

from __future__ import annotations

import math
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest

from sufficiency.preprocess import geo
from sufficiency.preprocess.config import RunConfig, TransportSettings
from sufficiency.preprocess.costs import (
    RULE_COLUMNS,
    check_costs,
    independent_costs,
    place_costs,
)
from sufficiency.preprocess.readers import ROW

OPTIONS = pd.DataFrame({
    "option_id": ["SP", "SP2", "RP"],
    "kind": ["special", "special", "resourced"],
    "needs": [("ASD", "SEMH"), ("ASD", "SEMH"), ("ASD",)],
    "phases": [("primary", "secondary"), ("primary", "secondary"), ("primary",)],
    "annual_cost_per_place": [10_000.0, 10_000.0, 9_000.0],
})


def rules(*rows: tuple) -> pd.DataFrame:
    """costs.csv rules: (option_id, kind, need, phase, £ place[, fee, taxi]), rows 2, 3, …"""
    full = [(*row, *([math.nan] * (7 - len(row))), i + 2) for i, row in enumerate(rows)]
    return pd.DataFrame(full, columns=RULE_COLUMNS)


def cost(table: pd.DataFrame, option: str, need: str, phase: str) -> tuple[float, str]:
    row = table[(table["option_id"] == option) & (table["need"] == need)
                & (table["phase"] == phase)].iloc[0]
    return row["annual_cost_per_place"], row["cost_source"]


def test_without_costs_csv_there_is_no_table():
    assert place_costs(OPTIONS, None) is None


def test_within_a_level_need_beats_phase_beats_star():
    table = place_costs(OPTIONS, rules(("SP", "", "*", "*", 1.0), ("SP", "", "*", "secondary", 2.0),
                                       ("SP", "", "ASD", "*", 3.0),
                                       ("SP", "", "ASD", "primary", 4.0)))
    assert cost(table, "SP", "ASD", "primary") == (4.0, "costs.csv row 5")
    assert cost(table, "SP", "ASD", "secondary") == (3.0, "costs.csv row 4")  # need > phase
    assert cost(table, "SP", "SEMH", "secondary") == (2.0, "costs.csv row 3")
    assert cost(table, "SP", "SEMH", "primary") == (1.0, "costs.csv row 2")


def test_an_option_row_beats_a_kind_row_which_beats_provision():
    table = place_costs(OPTIONS, rules(("", "special", "ASD", "primary", 7.0),
                                       ("SP", "", "*", "*", 5.0)))
    assert cost(table, "SP", "ASD", "primary") == (5.0, "costs.csv row 3")  # option's * wins
    assert cost(table, "SP2", "ASD", "primary") == (7.0, "costs.csv row 2")  # its kind's row
    assert cost(table, "SP2", "SEMH", "primary") == (10_000.0, "provision.csv")
    assert cost(table, "RP", "ASD", "primary") == (9_000.0, "provision.csv")  # other kind


def test_only_what_an_option_serves_is_priced():
    table = place_costs(OPTIONS, rules(("", "special", "*", "*", 1.0)))
    assert len(table[table["option_id"] == "RP"]) == 1
    assert len(table) == 4 + 4 + 1


def config(tmp_path: Path, **transport) -> RunConfig:
    return RunConfig(name="t", toml_path=tmp_path / "run.toml", inputs_dir=tmp_path,
                     start_year=2026, horizon_years=1,
                     transport=TransportSettings(**transport))


DEMAND = pd.DataFrame({"area_id": ["A", "A", "A", "B"], "need": ["ASD", "SEMH", "MLD", "ASD"],
                       "phase": ["primary"] * 4, "year": [2026] * 4, "pupils": [1.0] * 4})


def group(table: pd.DataFrame, area: str, need: str) -> pd.Series:
    return table[(table["area_id"] == area) & (table["need"] == need)].iloc[0]


def test_independent_rows_by_need_beat_the_flat_figures(tmp_path):
    table = independent_costs(config(tmp_path), DEMAND,
                              rules(("", "independent", "*", "*", math.nan, 60_000.0, 9_000.0),
                                    ("", "independent", "SEMH", "primary", math.nan, 70_000.0,
                                     8_000.0)),
                              None, None)
    assert tuple(group(table, "A", "SEMH")[["cost_per_place", "transport_cost_per_pupil",
                                            "cost_source"]]) == (70_000.0, 8_000.0,
                                                                 "costs.csv row 3")
    assert group(table, "A", "ASD")["cost_per_place"] == 60_000.0
    assert "provider_id" not in table.columns  # no independent.csv: no provider column
    flat = independent_costs(config(tmp_path), DEMAND, rules(("SP", "", "*", "*", 1.0)), None,
                             None)
    assert tuple(group(flat, "A", "ASD")[["cost_per_place", "transport_cost_per_pupil",
                                          "cost_source"]]) == (54_000.0, 12_000.0,
                                                               "[independent]")


def test_the_cheapest_eligible_provider_wins_even_over_a_cheaper_costs_row(tmp_path):
    """A: ASD to FAR (fee 40k + 1k + 100 × 60 km = 47k) rather than NEAR (60k + 2k = 62k),
    though costs.csv's ASD row is cheaper still; B, with its own journeys: FAR 44k, NEAR 62k.
    SEMH: no provider, costs.csv's row. MLD: no provider, no row: flat.
    """
    providers = gpd.GeoDataFrame({
        "provider_id": ["FAR", "NEAR"], "name": ["Far", "Near"],
        "needs": [("ASD",), ("ASD",)], "phases": [("primary",), ("primary",)],
        "cost_per_place": [40_000.0, 60_000.0]},
        geometry=gpd.points_from_xy([0, 0], [0, 0]), crs=geo.BNG)
    journeys = pd.DataFrame({"area_id": ["A", "A", "B", "B"],
                             "provider_id": ["FAR", "NEAR", "FAR", "NEAR"],
                             "minutes": [120.0, 20.0, 60.0, 60.0],
                             "km": [60.0, 10.0, 30.0, 10.0]})
    costs = rules(("", "independent", "ASD", "primary", math.nan, 1.0, 1.0),
                  ("", "independent", "SEMH", "*", math.nan, 30_000.0, 2_000.0))
    table = independent_costs(config(tmp_path, cost_per_pupil=1_000.0, cost_per_km=100.0),
                              DEMAND, costs, providers, journeys)
    far = group(table, "A", "ASD")
    assert (far["provider_id"], far["cost_per_place"], far["transport_cost_per_pupil"],
            far["km"]) == ("FAR", 40_000.0, 7_000.0, 60.0)
    assert group(table, "B", "ASD")["provider_id"] == "FAR"  # 40k + 1k + 3k < 60k + 1k + 1k
    semh = group(table, "A", "SEMH")
    assert (semh["provider_id"], semh["cost_per_place"], semh["cost_source"]) == (
        "", 30_000.0, "costs.csv row 3")
    assert math.isnan(semh["km"])
    assert group(table, "A", "MLD")["cost_source"] == "[independent]"


def test_check_costs_reads_codes_in_any_case_and_star():
    raw = pd.DataFrame({"option_id": ["", "SP"], "kind": ["Special", ""], "need": ["asd", "*"],
                        "phase": ["*", "Post16"], "annual_cost_per_place": ["1", "2"],
                        ROW: [2, 3]})
    frame, cells = check_costs(raw)
    assert not cells.issues
    assert frame[["kind", "need", "phase"]].values.tolist() == [["special", "ASD", "*"],
                                                               ["", "*", "post16"]]
    assert frame["annual_cost_per_place"].tolist() == [1.0, 2.0]
    assert math.isnan(frame["cost_per_place"].iloc[0])


@pytest.mark.parametrize("text", ["", " "])
def test_check_costs_needs_a_need(text):
    raw = pd.DataFrame({"kind": ["special"], "need": [text], "phase": ["*"],
                        "annual_cost_per_place": ["1"], ROW: [2]})
    _, cells = check_costs(raw)
    assert [str(i) for i in cells.issues] == [
        "costs.csv, row 2, column 'need': empty cell — use one of ASD, SEMH, SLCN, MLD, SLD, "
        "PMLD, SPLD, HI, VI, MSI, PD, OTH, or '*' for all"]
