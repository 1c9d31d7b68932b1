"""Questions asked of solved runs: scenarios, robust plans, alternatives, slippage, sweeps."""
