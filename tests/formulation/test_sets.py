"""Sparse sets: which need × phase pairs merge into one commodity, and how pupils split back."""

from __future__ import annotations

import pytest
from conftest import option

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
