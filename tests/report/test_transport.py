"""Transport indicators: hand-solved journeys, £ that add up to the objective, travel gaps.

The world (EPSG:27700): area A is the 10 km square at (400000, 300000), demand point
(405000, 305000); area B beside it has no pupils. S1 is 1 km north of A's demand point and
S2 5 km away (3 km east, 4 km north). With circuity 1.3 and 30 km/h:

    A → S1: 1.3 km, 2.6 min        A → S2: 6.5 km, 13 min

10 primary pupils a year for two years; SP (S1) has 4 places, SP2 (S2) 3, and NEW (S1) may
open one module of 3 places in 2027. Independent placement costs £50,000 + £2,000 transport;
local transport is £1,000 + £100 per km: £1,130 a pupil to S1, £1,650 to S2.

    2026 (plan = do nothing): 4 at S1, 3 at S2, 3 independent
        local £ = 4 × 1130 + 3 × 1650 = 9,470; independent transport £ = 3 × 2000 = 6,000
        mean minutes = (4 × 2.6 + 3 × 13) / 7 = 7.0571; pupil-km = 4 × 1.3 + 3 × 6.5 = 24.7
    2027 plan: 7 at S1, 3 at S2, none independent
        local £ = 7 × 1130 + 3 × 1650 = 12,860; mean minutes = (7 × 2.6 + 39) / 10 = 5.72
    discount 10 %: 2027 counts 1 / 1.1.
"""

from __future__ import annotations

import gc
import json

import pandas as pd
import pytest
from conftest import TinyRun, areas_geojson, option, run_toml, square
from typer.testing import CliRunner

from sufficiency.cli import app
from sufficiency.errors import InputError
from sufficiency.pipeline import run_plan
from sufficiency.preprocess.config import load_run_config
from sufficiency.report import transport

AREAS = areas_geojson({"A": square(400_000, 300_000), "B": square(410_000, 300_000)})
SITES = ["S1,One,A,405000,306000", "S2,Two,A,408000,309000"]
DEMAND = ["A,ASD,primary,2026,10", "A,ASD,primary,2027,10"]
PROVISION = [option("SP", "S1", existing=4), option("SP2", "S2", existing=3),
             option("NEW", "S1", module=3, max_modules=1, capital=10_000, earliest=2027)]
ECONOMICS = dict(years=2, rate=0.1, independent=50_000, independent_transport=2_000,
                 transport_pupil=1_000, transport_km=100, circuity=1.3)


def write(tiny: TinyRun, **changes) -> object:
    files = dict(areas=AREAS, sites=SITES, demand=DEMAND, provision=PROVISION,
                 toml=run_toml(**ECONOMICS))
    return tiny.write(**(files | changes))


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    return run_plan(write(TinyRun(tmp_path_factory.mktemp("transport"))))


@pytest.fixture(scope="module")
def table(run) -> pd.DataFrame:
    return transport.transport_table(run)


def row(table: pd.DataFrame, scenario: str, year: int, area: str = "") -> pd.Series:
    level = transport.AREA if area else transport.TOTAL
    rows = table[(table["scenario"] == scenario) & (table["year"] == year)
                 & (table["level"] == level) & (table["area_id"] == area)]
    assert len(rows) == 1
    return rows.iloc[0]


def test_hand_solved_journeys(run, table):
    first = row(table, "plan", 2026, "A")
    assert first["pupils_local"] == 7 and first["pupils_independent"] == 3
    assert first["mean_minutes"] == pytest.approx((4 * 2.6 + 3 * 13) / 7, abs=0.01)
    assert first["max_minutes"] == pytest.approx(13.0)
    assert first["pupil_km"] == pytest.approx(24.7)
    assert first["pupils_over_limit"] == 0
    assert first["transport_cost_local"] == pytest.approx(9_470)
    assert first["transport_cost_independent"] == pytest.approx(6_000)
    assert first["transport_cost"] == pytest.approx(15_470)
    assert first["travel_source"] == "straight line"
    later = row(table, "plan", 2027, "A")
    assert later["pupils_local"] == 10 and later["pupils_independent"] == 0
    assert later["mean_minutes"] == pytest.approx(5.72)
    assert later["transport_cost_local"] == pytest.approx(12_860)
    assert later["discounted_transport_cost"] == pytest.approx(12_860 / 1.1, abs=0.01)
    assert row(table, "do_nothing", 2027, "A")["transport_cost"] == pytest.approx(15_470)


def test_area_without_pupils_has_no_journey(table):
    empty = row(table, "plan", 2026, "B")
    assert empty["pupils_local"] == 0 and empty["transport_cost"] == 0
    assert pd.isna(empty["mean_minutes"]) and pd.isna(empty["max_minutes"])
    assert empty["area_name"] == "Area B" and empty["travel_source"] == ""


def test_change_is_plan_minus_do_nothing(table):
    change = row(table, "change", 2027)
    assert change["pupils_independent"] == -3
    assert change["transport_cost_local"] == pytest.approx(12_860 - 9_470)
    assert change["transport_cost_independent"] == pytest.approx(-6_000)
    assert change["mean_minutes"] == pytest.approx(5.72 - 7.06, abs=0.01)
    assert (table.loc[table["scenario"] == "change", "travel_source"] == "").all()
    same = row(table, "change", 2026)
    assert same["transport_cost"] == 0 and str(same["transport_cost"]) == "0.0"  # never -0.0


def test_totals_add_up_to_costs_by_year(run, table):
    """Local transport is costs_by_year's `transport`; independent transport sits in its
    `independent` column beside the fee."""
    for result, scenario in ((run.optimal, "plan"), (run.do_nothing, "do_nothing")):
        costs = result.costs_by_year.set_index("year")
        rows = table[(table["scenario"] == scenario)]
        totals = rows[rows["level"] == "total"].set_index("year")
        areas = rows[rows["level"] == "area"].groupby("year")
        assert totals["transport_cost_local"].to_dict() == pytest.approx(
            costs["transport"].to_dict(), abs=0.01)
        assert areas["transport_cost_local"].sum().to_dict() == pytest.approx(
            costs["transport"].to_dict(), abs=0.02)
        fees = 50_000 * costs["pupils_independent"]
        assert totals["transport_cost_independent"].to_dict() == pytest.approx(
            (costs["independent"] - fees).to_dict(), abs=0.01)
        assert totals["pupils_independent"].to_dict() == pytest.approx(
            costs["pupils_independent"].to_dict())


def test_transport_is_what_the_objective_charges(tiny):
    """With every other cost zero, the solver's objective is the discounted transport £."""
    free = [option("SP", "S1", existing=4, cost=0), option("SP2", "S2", existing=3, cost=0),
            option("NEW", "S1", module=3, max_modules=1, earliest=2027, cost=0)]
    toml = run_toml(**(ECONOMICS | {"independent": 0}))
    result = run_plan(write(tiny, provision=free, toml=toml))
    table = transport.transport_table(result)
    for plan, scenario in ((result.optimal, "plan"), (result.do_nothing, "do_nothing")):
        totals = table[(table["scenario"] == scenario) & (table["level"] == "total")]
        assert totals["discounted_transport_cost"].sum() == pytest.approx(
            plan.report.objective, abs=0.05)
        assert plan.total_cost == pytest.approx(plan.report.objective, abs=0.05)
    # hand: 2026 £15,470; 2027 plan £12,860 / 1.1; do nothing £15,470 / 1.1
    assert result.optimal.report.objective == pytest.approx(15_470 + 12_860 / 1.1, abs=0.05)
    assert result.do_nothing.report.objective == pytest.approx(15_470 * (1 + 1 / 1.1), abs=0.05)


def test_summary_section(run):
    summary = transport.transport_summary(run)
    assert summary["travel_metric"].startswith("derived: straight-line km")
    assert summary["journeys"]["pairs"] == {"travel.csv": 0, "straight line": 4}
    assert summary["journeys"]["fill_missing_travel"] is False
    plan = summary["plan"]
    assert plan["by_year"]["2027"]["transport_cost_local"] == pytest.approx(12_860)
    horizon = plan["horizon"]
    assert horizon["pupil_years_local"] == 17 and horizon["pupil_years_independent"] == 3
    assert horizon["transport_cost"] == pytest.approx(15_470 + 12_860)
    assert horizon["mean_minutes"] == pytest.approx((11 * 2.6 + 6 * 13) / 17, abs=0.01)
    assert horizon["max_minutes"] == pytest.approx(13.0)
    assert summary["change"]["horizon"]["transport_cost"] == pytest.approx(12_860 - 15_470)
    json.dumps(summary, allow_nan=False)  # strict JSON: no NaN anywhere


def test_flows_and_rings(run):
    flows = transport.flows(run.dataset, run.optimal, "plan")
    later = flows[flows["year"] == 2027].set_index("site_id")
    assert later.loc["S1", "pupils"] == pytest.approx(7)
    assert later.loc["S1", "option_ids"] == "NEW;SP"
    assert later.loc["S2", "minutes"] == pytest.approx(13.0)
    lines = transport.flow_lines(run.dataset, flows)
    assert lines.crs.to_epsg() == 27700
    assert lines.geometry.length.round(3).tolist() == [1000.0, 5000.0, 1000.0, 5000.0]
    rings = transport.journey_rings(run.dataset, run.optimal)
    assert rings["site_id"].tolist() == ["S1"] * 3
    assert rings["opening_year"].tolist() == [2027] * 3
    # 15 min at 30 km/h is 7.5 road km, 7.5 / 1.3 = 5.769 km in a straight line
    assert rings["radius_km"].tolist() == pytest.approx([5.769, 11.538, 17.308], abs=1e-3)
    assert rings.geometry.area.iloc[0] == pytest.approx(3.14159 * 5769.2 ** 2, rel=2e-3)


def test_missing_travel_pair_is_a_clear_error(tiny):
    toml = write(tiny, travel=["A,S1,10,5", "B,S1,10,5"])
    result = CliRunner().invoke(app, ["validate", str(toml)])
    assert result.exit_code == 2, result.output
    text = " ".join(result.output.split())
    assert "travel.csv" in text and "1 journey(s) the model needs are missing: A → S2" in text
    assert "fill_missing_travel = true" in text


def test_fill_missing_travel_plans_and_says_so(tiny):
    toml = write(tiny, travel=["A,S1,10,5", "B,S2,60,40"],
                 toml=run_toml(**ECONOMICS).replace(
                     "circuity = 1.3\n", "circuity = 1.3\nfill_missing_travel = true\n"))
    assert load_run_config(toml).transport.fill_missing_travel is True
    result = run_plan(toml)
    travel = result.dataset.travel.set_index(["area_id", "site_id"])
    assert travel.loc[("A", "S1"), ["minutes", "km", "travel_source"]].tolist() == [
        10.0, 5.0, "travel.csv"]
    assert travel.loc[("A", "S2"), ["minutes", "km", "travel_source"]].tolist() == [
        pytest.approx(13.0), pytest.approx(6.5), "straight line"]
    assert "2 area-site pair(s) absent from it filled" in result.dataset.travel_metric
    table = transport.transport_table(result)
    assert row(table, "plan", 2026, "A")["travel_source"] == "travel.csv + straight line"
    summary = transport.transport_summary(result)
    assert summary["journeys"]["pairs"] == {"travel.csv": 2, "straight line": 2}
    assert summary["journeys"]["fill_missing_travel"] is True
    assert summary["journeys"]["pairs_within_limits"] == {"travel.csv": 1, "straight line": 1}
    assert transport.transport_warnings(result) == [
        "travel.csv: 1 of the 2 journeys within the travel limits were filled from straight-line"
        " distance ([transport] fill_missing_travel = true); 6.0 pupil-years of the plan travel "
        "on them"]
    rings = transport.journey_rings(result.dataset, result.optimal)
    # S1's only given journey: 1 straight-line km in 10 minutes, so 15 minutes reach 1.5 km
    assert rings["radius_km"].tolist() == pytest.approx([1.5, 3.0, 4.5])
    assert rings["ring_method"].iloc[0] == "travel.csv: median straight-line speed of 1 journeys"


def test_fill_missing_travel_must_be_true_or_false(tiny):
    toml = write(tiny, toml=run_toml().replace("circuity = 1\n",
                                               'circuity = 1\nfill_missing_travel = "yes"\n'))
    with pytest.raises(InputError, match="transport.fill_missing_travel"):
        load_run_config(toml)


def test_without_do_nothing_every_view_still_works(tiny):
    """Independent placement off and too few existing places: do nothing is infeasible."""
    from sufficiency.report.geopackage import geopackage_layers
    from sufficiency.report.layers import plan_map_html

    toml = run_toml(**ECONOMICS).replace("transport_cost_per_pupil = 2000",
                                         "transport_cost_per_pupil = 2000\navailable = false")
    provision = [option("SP", "S1", existing=4), option("SP2", "S2", existing=3),
                 option("NEW", "S1", module=3, max_modules=1, capital=10_000)]
    result = run_plan(write(tiny, provision=provision, toml=toml))
    assert result.do_nothing is None
    table = transport.transport_table(result)
    assert set(table["scenario"]) == {"plan"}
    assert row(table, "plan", 2026, "A")["pupils_independent"] == 0
    summary = transport.transport_summary(result)
    assert summary["do_nothing"] is None and summary["change"] is None
    layers = geopackage_layers(result)
    assert "pupils_local_do_nothing" not in layers["areas"].columns
    assert set(layers["flows"]["scenario"]) == {"plan"}
    html = plan_map_html(result)
    assert "Journeys (plan)" in html and "Journeys (do nothing)" not in html


def test_source_labels_name_every_source_of_a_group_in_order():
    local = pd.DataFrame({"year": [2026, 2026, 2026, 2027, 2028],
                          "travel_source": ["straight line", "travel.csv", "straight line",
                                            "straight line", None]})
    labels = transport._source_labels(local, ["year"])
    assert labels.to_dict() == {2026: "travel.csv + straight line", 2027: "straight line",
                                2028: ""}


def test_views_are_computed_once_per_live_owner_and_forgotten_with_it():
    class Owner:
        pass

    calls = []

    def compute():
        calls.append(1)
        return pd.DataFrame({"a": [1]})

    owner = Owner()
    first = transport._memoised(("view",), compute, owner)
    first.loc[0, "a"] = 99  # a caller changing its copy changes nobody else's
    again = transport._memoised(("view",), compute, owner)
    assert calls == [1] and again.loc[0, "a"] == 1
    key = ("view", id(owner))
    del owner
    gc.collect()
    assert key not in transport._MEMO
