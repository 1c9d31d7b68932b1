"""Placements that stay put: sticky cohorts, run-off, ramp-up and soft capacity, by hand."""

from __future__ import annotations

import pytest
from conftest import option, run_toml

from sufficiency.pipeline import run_plan

STICKY = '\n[placements]\nmodel = "sticky"\nphase_years = { primary = 7, secondary = 5 }\n'


def with_current(tiny, rows: list[str], **kwargs):
    toml = tiny.write(**kwargs)
    (tiny.root / "data" / "current_placements.csv").write_text(
        "\n".join(["area_id,need,phase,option_id,pupils", *rows]) + "\n")
    return toml


def test_pupils_are_not_moved_mid_phase_when_a_cheaper_place_opens(tiny):
    """7 primary pupils at SP (£40k) in 2026; NEW (£20k, 10 places) opens in 2027.

    Primary lasts 7 years: 6/7 of last year's pupils stay, so 6 stay at SP and only the 1
    entrant goes to NEW: 2026 7 × 40k + 2027 (6 × 40k + 1 × 20k) = £540k. The v1 model
    moves everyone: 280k + 7 × 20k = £420k.
    """
    data = {"demand": ["A,ASD,primary,2026,7", "A,ASD,primary,2027,7"],
            "provision": [option("SP", "S1", existing=10, cost=40_000),
                          option("NEW", "S1", module=10, max_modules=1, earliest=2027)]}
    sticky = run_plan(with_current(tiny, ["A,ASD,primary,SP,7"], toml=run_toml(years=2) + STICKY,
                                   **data))
    assert sticky.dataset.placement_model == "sticky"
    assert sticky.optimal.total_cost == pytest.approx(540_000)
    placed = sticky.optimal.placements.query("year == 2027").set_index("option_id")["pupils"]
    assert placed.to_dict() == pytest.approx({"SP": 6, "NEW": 1})
    v1 = run_plan(with_current(tiny, ["A,ASD,primary,SP,7"],
                               toml=run_toml(years=2) + '\n[placements]\nmodel = "v1"\n', **data))
    assert v1.optimal.total_cost == pytest.approx(420_000)


def test_independent_placements_run_off_over_years(tiny):
    """10 secondary pupils independent (£50k) in 2026; a 10-place unit (£20k) is open.

    Secondary lasts 5 years: 80 % stay each year. 2026: 10 × 50k = 500k; 2027: 8 × 50k +
    2 × 20k = 440k; 2028: 6.4 × 50k + 3.6 × 20k = 392k → £1,332k.
    """
    run = run_plan(with_current(
        tiny, ["A,ASD,secondary,independent,10"], toml=run_toml(years=3) + STICKY,
        demand=[f"A,ASD,secondary,{y},10" for y in (2026, 2027, 2028)],
        provision=[option("RP", "S1", existing=10)]))
    assert run.optimal.total_cost == pytest.approx(1_332_000)
    independent = run.optimal.costs_by_year["pupils_independent"].tolist()
    assert independent == pytest.approx([10, 8, 6.4])


def test_falling_demand_lets_more_pupils_leave(tiny):
    """Demand halves (10 → 5): retention is min(4/5, 5/10) = 1/2, so 5 of the 10 stay."""
    run = run_plan(with_current(
        tiny, ["A,ASD,secondary,SP,10"], toml=run_toml(years=2) + STICKY,
        demand=["A,ASD,secondary,2026,10", "A,ASD,secondary,2027,5"],
        provision=[option("SP", "S1", existing=10)]))
    assert run.optimal.placements.query("year == 2027")["pupils"].sum() == pytest.approx(5)


def test_ramp_up_caps_the_opening_year(tiny):
    """Half of a new unit's 10 places are usable in its first year: 2026 5 local (£20k) +
    5 independent (£50k) = 350k; 2027 10 local = 200k; capital 100k → £650k."""
    toml = run_toml(years=2) + "\n[ramp_up.resourced]\nfirst_year = 0.5\n"
    run = run_plan(tiny.write(
        toml=toml, demand=["A,ASD,primary,2026,10", "A,ASD,primary,2027,10"],
        provision=[option("RP", "S1", kind="resourced", module=10, max_modules=1,
                          capital=100_000)]))
    assert run.optimal.total_cost == pytest.approx(650_000)
    capacity = run.optimal.capacity.set_index("year")
    assert capacity.loc[2026, "usable_places"] == pytest.approx(5)
    assert capacity.loc[2027, "usable_places"] == pytest.approx(10)


@pytest.mark.parametrize(("premium", "cost", "over"), [
    (5_000, 275_000, 1),     # 10 × 20k + 1 × (20k + 5k) + 1 × 50k
    (40_000, 300_000, 0),    # 20k + 40k > 50k: not worth it; 10 × 20k + 2 × 50k
])
def test_soft_capacity_is_used_only_when_cheaper(tiny, premium, cost, over):
    """A special school of 10 places may take 10 % more at a premium; 12 pupils."""
    toml = run_toml() + f"\n[soft_capacity]\nshare = 0.1\npremium_per_pupil = {premium}\n"
    run = run_plan(tiny.write(toml=toml, demand=["A,ASD,primary,2026,12"],
                              provision=[option("SP", "S1", existing=10)]))
    assert run.optimal.total_cost == pytest.approx(cost)
    assert run.optimal.capacity["over_capacity"].sum() == pytest.approx(over)
    assert run.optimal.costs_by_year["over_capacity_premium"].sum() == pytest.approx(
        over * premium)


@pytest.mark.parametrize("links", ["none", "area", "placement"])
def test_opening_links_leave_room_for_soft_capacity(tiny, links):
    """SP has 10 places (10 % soft at £5k) and could add 10 more (£100k + £50k fixed).

    12 pupils: 10 × 20k + 1 × 25k + 1 × 50k = £275k beats opening (12 × 20k + 150k =
    £390k). An opening link that forgot the soft share would cap SP at 10 unopened and
    give £300k.
    """
    toml = (run_toml() + "\n[soft_capacity]\nshare = 0.1\npremium_per_pupil = 5000\n"
            + f'\n[formulation]\nstrong_links = "{links}"\n')
    run = run_plan(tiny.write(toml=toml, demand=["A,ASD,primary,2026,12"],
                              provision=[option("SP", "S1", existing=10, module=10,
                                                max_modules=1, capital=100_000,
                                                fixed=50_000)]))
    assert run.optimal.total_cost == pytest.approx(275_000)
    assert run.optimal.capacity["over_capacity"].sum() == pytest.approx(1)


def test_current_placements_are_checked(tiny):
    """Unknown options, unserved groups and more pupils than demand are input errors."""
    from typer.testing import CliRunner

    from sufficiency.cli import app

    toml = with_current(tiny, ["A,ASD,primary,NOPE,3", "A,SEMH,primary,SP,9"],
                        demand=["A,ASD,primary,2026,5", "A,SEMH,primary,2026,4"],
                        provision=[option("SP", "S1", existing=10)])
    result = CliRunner().invoke(app, ["validate", str(toml)])
    assert result.exit_code == 2
    assert "current_placements.csv, row 2, column 'option_id': 'NOPE' is not in provision.csv" \
        in result.output
    assert "9 pupils placed for A SEMH primary but demand.csv has 4 in 2026" in result.output


def test_current_placements_a_rounding_over_capacity_are_clipped(tiny):
    """10.000002 pupils at a 10-place school (a plan's own placements, written rounded, fed
    back) plan without error: 10 stay at SP (£20k), the rest of 12 go independent (£50k).
    """
    toml = with_current(tiny, ["A,ASD,primary,SP,10.000002"], toml=run_toml() + STICKY,
                        demand=["A,ASD,primary,2026,12"],
                        provision=[option("SP", "S1", existing=10)])
    run = run_plan(toml)
    assert run.optimal.total_cost == pytest.approx(10 * 20_000 + 2 * 50_000)


def test_current_placements_over_capacity_name_the_option_year_and_excess(tiny):
    """12 pupils at a 10-place school, soft capacity off: an input error naming what to set."""
    from typer.testing import CliRunner

    from sufficiency.cli import app

    toml = with_current(tiny, ["A,ASD,primary,SP,12"], toml=run_toml() + STICKY,
                        demand=["A,ASD,primary,2026,12"],
                        provision=[option("SP", "S1", existing=10)])
    result = CliRunner().invoke(app, ["plan", str(toml)])
    assert result.exit_code == 2
    assert "'SP' holds 12 pupils in AY 2026/27, 2 over its 10 existing places" in result.output
    assert "[soft_capacity] share = 0.2" in result.output
    assert "independent placement is switched off" not in result.output
    assert not (tiny.root / "outputs").exists()


def test_current_placements_over_capacity_use_soft_capacity_where_allowed(tiny):
    """With 20 % soft capacity the 12 pupils stay: 12 × 20k + 2 × £5k premium = £250k."""
    toml = with_current(tiny, ["A,ASD,primary,SP,12"],
                        toml=run_toml() + STICKY + "\n[soft_capacity]\nshare = 0.2\n",
                        demand=["A,ASD,primary,2026,12"],
                        provision=[option("SP", "S1", existing=10)])
    run = run_plan(toml)
    assert run.optimal.total_cost == pytest.approx(12 * 20_000 + 2 * 5_000)
    too_many = with_current(tiny, ["A,ASD,primary,SP,13"],
                            toml=run_toml() + STICKY + "\n[soft_capacity]\nshare = 0.2\n",
                            demand=["A,ASD,primary,2026,13"],
                            provision=[option("SP", "S1", existing=10)])
    from sufficiency.errors import InputError

    with pytest.raises(InputError, match="raise \\[soft_capacity\\] share to at least 0.3"):
        run_plan(too_many)


def test_current_independent_pupils_need_independent_placement(tiny):
    """Pupils already independent in a run without independent placement: named, not a
    false 'no places within reach'."""
    from sufficiency.errors import InputError

    toml = with_current(tiny, ["A,ASD,primary,independent,2"],
                        toml=run_toml().replace("[transport]",
                                                "available = false\n\n[transport]") + STICKY,
                        demand=["A,ASD,primary,2026,2"], provision=[option("SP", "S1",
                                                                           existing=10)])
    with pytest.raises(InputError, match="switches independent placement off"):
        run_plan(toml)
