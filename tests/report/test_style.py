"""Colours and labels shared by every output, without the map's libraries in memory."""

from __future__ import annotations

import subprocess
import sys

from sufficiency.report.style import KIND_COLOURS, KIND_LABELS, ay_label


def test_academic_year_label():
    assert ay_label(2028) == "AY 2028/29"
    assert ay_label(2099) == "AY 2099/00"


def test_every_kind_has_a_colour_and_a_label():
    assert KIND_COLOURS.keys() == KIND_LABELS.keys()


def test_planning_loads_no_map_paper_or_figure_library_before_it_writes():
    """folium, branca, requests, matplotlib and python-docx load only when outputs are
    written, after the MIP: they are not in memory at the MIP's peak."""
    code = ("import sys, sufficiency.api, sufficiency.cli, sufficiency.pipeline; "
            "print(' '.join(m for m in ('folium', 'branca', 'requests', 'matplotlib', 'docx') "
            "if m in sys.modules))")
    loaded = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            check=True).stdout.split()
    assert loaded == []
