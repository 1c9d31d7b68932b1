"""Stage 3: every line that speaks HiGHS (options, status, backends, starts, cuts, prices)."""
