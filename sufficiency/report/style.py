"""How kinds of provision and academic years look in every output: colours and labels.

Shared by the web map, the paper's figure, the appendix and the workbook, without loading
folium (the map's library), so that a ``plan`` holds none of it in memory during the MIP.
"""

from __future__ import annotations

KIND_COLOURS = {
    "special": "#1b9e77",
    "resourced": "#d95f02",
    "satellite": "#7570b3",
    "new_special": "#e7298a",
    "fe_college": "#66a61e",
    "specialist_post16": "#e6ab02",
}
KIND_LABELS = {
    "special": "Special school",
    "resourced": "Resourced provision",
    "satellite": "Satellite site",
    "new_special": "New special school",
    "fe_college": "FE college high-needs places",
    "specialist_post16": "Specialist post-16 institution",
}
OTHER_COLOUR = "#666666"


def ay_label(year: int) -> str:
    """Label an academic year starting in September: 2028 -> 'AY 2028/29'."""
    return f"AY {year}/{(year + 1) % 100:02d}"
