"""Reports: views over a plan's dataset and results, never re-solving."""
