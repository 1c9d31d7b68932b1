"""``python -m sufficiency``: the same command line as ``sufficiency``."""

from sufficiency.cli import main

main()
