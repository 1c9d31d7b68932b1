"""[appraisal] and [capital] read from the run TOML, and their arithmetic by hand."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from conftest import run_toml

from sufficiency.preprocess.capital import (
    ASSET_LIFE_YEARS,
    CapitalRules,
    annuity_due,
    life_share,
    tranches,
)
from sufficiency.preprocess.config import load_run_config


def config_of(tmp_path, extra: str):
    (tmp_path / "data").mkdir(exist_ok=True)
    path = tmp_path / "run.toml"
    path.write_text(run_toml(years=8, extra=extra))
    return load_run_config(path)


def test_absent_tables_mean_v1(tmp_path):
    config = config_of(tmp_path, "")
    assert not config.appraisal.annuity and not config.appraisal.stated
    assert not config.capital.on
    assert config.capital.profile("new_special") == (1.0,)


def test_tables_are_read(tmp_path):
    config = config_of(tmp_path, '\n[appraisal]\nmethod = "annuity"\n'
                                 "[appraisal.asset_life_years]\nresourced = 25\n"
                                 "\n[capital]\nspend_profile.new_special = [0.1, 0.4, 0.5]\n"
                                 "construction_inflation = 0.03\n")
    assert config.appraisal.annuity and config.appraisal.stated
    assert config.appraisal.asset_life_years == ASSET_LIFE_YEARS | {"resourced": 25}
    assert config.capital.profile("new_special") == (0.1, 0.4, 0.5)
    assert config.capital.profile("special") == (1.0,)
    assert config.capital.construction_inflation == 0.03 and config.capital.on


def test_v1_values_written_out_are_still_v1(tmp_path):
    config = config_of(tmp_path, '\n[appraisal]\nmethod = "none"\n'
                                 "\n[capital]\nspend_profile.special = [1]\n")
    assert config.appraisal.stated and not config.appraisal.annuity
    assert not config.capital.on


def test_life_share_and_annuity_by_hand():
    """r = 0: n / L and ä_L = L. r = 0.035, L = 20, n = 3: (1 − 1.035^−3) / (1 − 1.035^−20)
    = 0.0980573 / 0.4974341 = 0.1971262; ä_20 = 14.7098374; n ≤ 0 is charged nothing."""
    assert life_share(0.0, 3, 20) == pytest.approx(0.15)
    assert annuity_due(0.0, 20) == 20
    assert life_share(0.035, 3, 20) == pytest.approx(0.1971262, abs=1e-7)
    assert annuity_due(0.035, 20) == pytest.approx(14.7098374, abs=1e-7)
    assert life_share(0.035, np.array([0, -1, 20]), 20).tolist() == pytest.approx([0, 0, 1])


def test_tranches_follow_each_kind_profile():
    frame = pd.DataFrame({"capital_year": [2026, 2027]})
    rules = CapitalRules({"new_special": (0.1, 0.4, 0.5)})
    out = tranches(frame, ["new_special", "special"], rules)
    assert out.index.tolist() == [0, 0, 0, 1]
    assert out["spend_year"].tolist() == [2026, 2027, 2028, 2027]
    assert out["share"].tolist() == [0.1, 0.4, 0.5, 1.0]
