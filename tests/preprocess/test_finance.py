"""[finance]: the high-needs allocation, other high-needs spend and the opening deficit."""

from __future__ import annotations

from conftest import option, run_toml

from sufficiency.preprocess.config import load_run_config
from sufficiency.preprocess.finance import FinanceSettings, finance_years


def test_finance_is_read_by_financial_year(tiny):
    """Two AYs (2026, 2027) touch FY 2026..2028; keys may be any of them, in any order."""
    toml = tiny.write(toml=run_toml(years=2, extra="""
[finance]
deficit_brought_forward = 1_500_000
[finance.high_needs_allocation]
2028 = 3_000
2027 = 2_000
[finance.other_high_needs_spend]
2027 = 500
"""), demand=["A,ASD,primary,2026,5"], provision=[option("SP", "S1", existing=10)])
    finance = load_run_config(toml).finance
    assert finance == FinanceSettings({2027: 2_000.0, 2028: 3_000.0}, {2027: 500.0},
                                      1_500_000.0)
    assert list(finance.high_needs_allocation) == [2027, 2028]
    assert finance.stated


def test_no_finance_table_means_no_path(tiny):
    toml = tiny.write(demand=["A,ASD,primary,2026,5"], provision=[option("SP", "S1",
                                                                          existing=10)])
    assert not load_run_config(toml).finance.stated
    assert finance_years([2026, 2027]) == [2026, 2027, 2028]
