"""Sparse sets: which need × phase pairs merge into one commodity, and how pupils split back."""

from __future__ import annotations

import pytest
from conftest import option, run_toml

from sufficiency.pipeline import run_plan, validate_run


def test_interchangeable_needs_merge_into_one_commodity(tiny):
    """ASD and SLCN primary have the same options and limit: one commodity; SEMH primary has
    its own unit; secondary ASD (limit 75) stays apart from primary ASD (limit 45)."""
    _, sets = validate_run(tiny.write(
        demand=["A,ASD,primary,2026,6", "A,SLCN,primary,2026,3", "A,SEMH,primary,2026,2",
                "A,ASD,secondary,2026,4"],
        provision=[option("RP", "S1", needs="ASD;SLCN", phases="*", existing=20),
                   option("SEMHU", "S1", needs="SEMH", phases="primary", existing=5)]))
    groups = sets.members.groupby("commodity").apply(
        lambda g: sorted(zip(g["need"], g["phase"], strict=True)), include_groups=False)
    assert groups.to_dict() == {
        "ASD+SLCN/primary": [("ASD", "primary"), ("SLCN", "primary")],
        "ASD/secondary": [("ASD", "secondary")],
        "SEMH/primary": [("SEMH", "primary")],
    }
    assert sets.cells.set_index("commodity")["pupils"].to_dict() == {
        "ASD+SLCN/primary": 9, "ASD/secondary": 4, "SEMH/primary": 2}


def test_pupils_split_back_in_proportion_to_demand(tiny):
    """6 ASD + 3 SLCN share 6 places: each need gets its share, 4 and 2; the rest go
    independent, 2 and 1."""
    run = run_plan(tiny.write(
        demand=["A,ASD,primary,2026,6", "A,SLCN,primary,2026,3"],
        provision=[option("RP", "S1", needs="ASD;SLCN", phases="primary", existing=6)]))
    placed = run.optimal.placements.set_index(["need", "option_id"])["pupils"]
    assert placed.to_dict() == pytest.approx({("ASD", "RP"): 4, ("ASD", "independent"): 2,
                                              ("SLCN", "RP"): 2, ("SLCN", "independent"): 1})


STICKY = '\n[placements]\nmodel = "sticky"\nphase_years = { primary = 7, secondary = 5 }\n'


def test_sticky_pairs_merge_only_where_they_keep_the_same_share(tiny):
    """Secondary keeps 4/5 a year. ASD 10 → 12 and SLCN 5 → 9 keep 4/5 (ρ = min(4/5, growth));
    MLD 10 → 6 keeps 3/5, so it cannot share their rows; SEMH has no pupils in 2026 (no ρ),
    so it joins the first group. The merged cell keeps its members' ρ: 4/5."""
    demand = [f"A,{need},secondary,{year},{pupils}" for need, pupils in (
        ("ASD", (10, 12)), ("SLCN", (5, 9)), ("MLD", (10, 6)), ("SEMH", (0, 4)))
        for year, pupils in zip((2026, 2027), pupils, strict=True)]
    toml = tiny.write(toml=run_toml(years=2) + STICKY, demand=demand,
                      provision=[option("SP", "S1", existing=40)])
    _, sets = validate_run(toml)
    groups = sets.members.groupby("commodity")["need"].agg(lambda n: sorted(n)).to_dict()
    assert groups == {"ASD+SEMH+SLCN/secondary": ["ASD", "SEMH", "SLCN"],
                      "MLD/secondary": ["MLD"]}
    retention = sets.cohorts.carry_independent.assign(
        commodity=sets.cells["commodity"].to_numpy()[sets.cohorts.carry_independent["cell"]])
    assert retention.set_index("commodity")["retention"].to_dict() == pytest.approx(
        {"ASD+SEMH+SLCN/secondary": 0.8, "MLD/secondary": 0.6})
    unmerged = tiny.write(toml=run_toml(years=2) + STICKY
                          + "\n[formulation]\naggregate_needs = false\n", demand=demand,
                          provision=[option("SP", "S1", existing=40)])
    assert validate_run(unmerged)[1].members["commodity"].nunique() == 4


def test_sticky_pairs_falling_at_the_same_rate_merge(tiny):
    """ASD 10 → 5 and SLCN 4 → 2 both keep 1/2 (below 4/5): one commodity, ρ = 1/2."""
    demand = ["A,ASD,secondary,2026,10", "A,ASD,secondary,2027,5",
              "A,SLCN,secondary,2026,4", "A,SLCN,secondary,2027,2"]
    _, sets = validate_run(tiny.write(toml=run_toml(years=2) + STICKY, demand=demand,
                                      provision=[option("SP", "S1", existing=40)]))
    assert sets.members["commodity"].nunique() == 1
    assert sets.cohorts.carry_independent["retention"].tolist() == pytest.approx([0.5])
