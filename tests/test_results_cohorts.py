"""The split of merged commodities back to need × phase under sticky cohorts, by hand."""

from __future__ import annotations

import pytest
from conftest import option, run_toml

from sufficiency.pipeline import run_plan

STICKY = '\n[placements]\nmodel = "sticky"\nphase_years = { primary = 7, secondary = 5 }\n'


def _run(tiny, demand: list[str], current: list[str], provision: list[str], years: int):
    toml = tiny.write(toml=run_toml(years=years) + STICKY, demand=demand, provision=provision)
    (tiny.root / "data" / "current_placements.csv").write_text(
        "\n".join(["area_id,need,phase,option_id,pupils", *current]) + "\n")
    return run_plan(toml)


def test_each_need_keeps_its_own_cohort_when_merged(tiny):
    """10 ASD already at SP, 10 SEMH independent (£50k); SP (£20k) has 20 places.

    Secondary: 80 % stay, so in 2027 8 ASD stay at SP, 8 SEMH stay independent and the 2 + 2
    entrants go to SP. ASD and SEMH merge (same options, same ρ): SP holds 12 and 8 are
    independent. Split in proportion to demand, ASD would have 6 at SP, fewer than its 8
    stayers; split cohort by cohort, ASD has 10 at SP and SEMH 2 at SP, 8 independent.
    """
    run = _run(tiny, [f"A,{need},secondary,{year},10" for need in ("ASD", "SEMH")
                      for year in (2026, 2027)],
               ["A,ASD,secondary,SP,10", "A,SEMH,secondary,independent,10"],
               [option("SP", "S1", existing=20)], years=2)
    assert run.sets.members["commodity"].nunique() == 1
    placed = run.optimal.placements.query("year == 2027").set_index(
        ["need", "option_id"])["pupils"]
    assert placed.to_dict() == pytest.approx({("ASD", "SP"): 10, ("SEMH", "SP"): 2,
                                              ("SEMH", "independent"): 8})
    assert run.optimal.total_cost == pytest.approx(10 * 20_000 + 10 * 50_000
                                                   + 12 * 20_000 + 8 * 50_000)


def test_a_need_that_starts_later_joins_as_entrants(tiny):
    """SEMH has no pupils in 2026 and 5 in 2027 (no ρ of its own: it merges with ASD).

    2027: ASD's 8 stayers remain at SP; the 7 entrants (2 ASD, 5 SEMH) take SP's other 5
    places and 2 go independent."""
    run = _run(tiny, ["A,ASD,secondary,2026,10", "A,ASD,secondary,2027,10",
                      "A,SEMH,secondary,2027,5"],
               ["A,ASD,secondary,SP,10"], [option("SP", "S1", existing=13)], years=2)
    assert run.sets.members["commodity"].nunique() == 1
    placed = run.optimal.placements.query("year == 2027").groupby(
        ["need", "option_id"])["pupils"].sum()
    assert placed[("ASD", "SP")] >= 8 - 1e-9
    assert placed.groupby(level="need").sum().to_dict() == pytest.approx({"ASD": 10, "SEMH": 5})
    assert placed.xs("SP", level="option_id").sum() == pytest.approx(13)


def test_needs_leaving_at_different_rates_stay_apart(tiny):
    """ASD falls 10 → 5 (ρ = 1/2), SEMH stays at 10 (ρ = 4/5): merged, the model could
    keep 8 of ASD's 10 at SP, more than ASD has; so they are two commodities."""
    run = _run(tiny, ["A,ASD,secondary,2026,10", "A,ASD,secondary,2027,5",
                      "A,SEMH,secondary,2026,10", "A,SEMH,secondary,2027,10"],
               ["A,ASD,secondary,SP,10"], [option("SP", "S1", existing=20)], years=2)
    assert sorted(run.sets.members["commodity"]) == ["ASD/secondary", "SEMH/secondary"]
