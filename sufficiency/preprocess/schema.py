"""Every input column: its type, unit, whether it is required and its meaning.

The checks take their required columns from these tables; docs/inputs.md describes the
same columns for people (keep the two in step). The codes a cell may hold (needs, phases,
kinds) are in :mod:`sufficiency.preprocess.vocabulary`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

ColumnKind = Literal["id", "text", "int", "number", "need", "phase", "kind", "needs", "phases"]


@dataclass(frozen=True)
class Column:
    """One column of an input table."""

    name: str
    kind: ColumnKind
    unit: str
    meaning: str
    required: bool = True
    default: float | None = None


AREA_COLUMNS = (
    Column("area_id", "id", "", "planning area identifier, unique"),
    Column("name", "text", "", "planning area name, shown on maps and reports"),
    Column("demand_easting", "number", "m (EPSG:27700)",
           "optional population-weighted demand point; with demand_northing", required=False),
    Column("demand_northing", "number", "m (EPSG:27700)",
           "optional population-weighted demand point; with demand_easting", required=False),
)

LOCATION_COLUMNS = (  # a point: lat/lon or easting/northing (sites.csv, independent.csv)
    Column("lat", "number", "degrees (WGS84)", "latitude; or give easting/northing",
           required=False),
    Column("lon", "number", "degrees (WGS84)", "longitude; or give easting/northing",
           required=False),
    Column("easting", "number", "m (EPSG:27700)", "British National Grid easting; or lat/lon",
           required=False),
    Column("northing", "number", "m (EPSG:27700)", "British National Grid northing; or lat/lon",
           required=False),
)

SITE_COLUMNS = (
    Column("site_id", "id", "", "site identifier, unique (a URN for real schools)"),
    Column("name", "text", "", "site name"),
    Column("area_id", "id", "", "planning area the site lies in"),
    *LOCATION_COLUMNS,
)

DEMAND_COLUMNS = (
    Column("area_id", "id", "", "planning area where the pupils live"),
    Column("need", "need", "", "SEN2 primary-need code, any case"),
    Column("phase", "phase", "", "primary, secondary or post16"),
    Column("year", "int", "academic year", "2026 means AY 2026/27; within the horizon"),
    Column("pupils", "number", "pupils", "pupils needing a specialist place that year"),
)

PROVISION_COLUMNS = (
    Column("option_id", "id", "", "provision option identifier, unique"),
    Column("site_id", "id", "", "site where the provision is or would be"),
    Column("kind", "kind", "", "special, resourced, satellite, new_special; "
           "post16 only: fe_college, specialist_post16"),
    Column("needs", "needs", "", "needs served: codes separated by ';', or '*' for all"),
    Column("phases", "phases", "", "phases served: separated by ';', or '*' for all"),
    Column("existing_places", "int", "places", "places open before the horizon starts"),
    Column("module_places", "int", "places", "places one module adds"),
    Column("max_modules", "int", "modules", "most modules that may ever open (0: no expansion)"),
    Column("capital_cost_per_module", "number", "£", "capital of each module"),
    Column("fixed_capital_cost", "number", "£", "capital paid once, with the first module"),
    Column("lead_time_years", "int", "years", "capital is spent this many years before opening"),
    Column("earliest_year", "int", "academic year", "first year a module may open"),
    Column("annual_cost_per_place", "number", "£ per pupil-year", "cost of each filled place"),
    Column("annual_cost_per_commissioned_place", "number", "£ per place-year",
           "cost of each commissioned place, filled or not"),
    Column("exclusive_group", "text", "", "options sharing a group are mutually exclusive: at "
           "most one of them opens a module; empty: no group", required=False),
)
EXCLUSIVE_GROUP = "exclusive_group"

TRAVEL_COLUMNS = (
    Column("area_id", "id", "", "planning area (journey origin)"),
    Column("site_id", "id", "", "site (journey destination)"),
    Column("minutes", "number", "minutes", "one-way journey time"),
    Column("km", "number", "km", "one-way road distance"),
)

COSTS_COLUMNS = (  # costs.csv (optional): each row fills option_id or kind, not both
    Column("option_id", "id", "", "the provision.csv option the row prices; or empty",
           required=False),
    Column("kind", "kind", "", "special, resourced, satellite, new_special or independent; or "
           "empty", required=False),
    Column("need", "need", "", "SEN2 need code, any case, or '*' for every need"),
    Column("phase", "phase", "", "primary, secondary or post16, or '*' for every phase"),
    Column("annual_cost_per_place", "number", "£ per pupil-year",
           "cost of each filled place (option and provision-kind rows)", required=False),
    Column("cost_per_place", "number", "£ per pupil-year",
           "independent fee (kind independent rows)", required=False),
    Column("transport_cost_per_pupil", "number", "£ per pupil-year",
           "transport to an independent placement (kind independent rows)", required=False),
)

PROVIDER_COLUMNS = (  # independent.csv (optional)
    Column("provider_id", "id", "", "independent provider identifier, unique (not a site_id)"),
    Column("name", "text", "", "provider name"),
    Column("needs", "needs", "", "needs taken: codes separated by ';', or '*' for all"),
    Column("phases", "phases", "", "phases taken: separated by ';', or '*' for all"),
    Column("cost_per_place", "number", "£ per pupil-year", "annual fee per place"),
    *LOCATION_COLUMNS,
)

CURRENT_COLUMNS = (  # current_placements.csv (optional): sticky cohorts
    Column("area_id", "id", "", "planning area where the pupils live"),
    Column("need", "need", "", "SEN2 primary-need code"),
    Column("phase", "phase", "", "primary, secondary or post16"),
    Column("option_id", "id", "", "provision.csv option, or 'independent'"),
    Column("pupils", "number", "pupils", "pupils already in that setting in the start year"),
)
COMMITTED_COLUMNS = (  # committed.csv (optional): approved schemes
    Column("option_id", "id", "", "provision.csv option of an approved scheme"),
    Column("modules", "int", "modules", "modules the scheme opens (1 or more)"),
    Column("opening_year", "int", "academic year", "year the places open (2027 = AY 2027/28)"),
    Column("note", "text", "", "e.g. the decision that approved it", required=False),
)
CALIBRATION_COLUMNS = (  # calibration.csv (optional): today's placements
    Column("group", "text", "", "independent, special, resourced, post16 or other"),
    Column("need", "text", "", "SEN2 primary-need code, or * for every need"),
    Column("phase", "text", "", "primary, secondary, post16, or * for every phase"),
    Column("pupils", "number", "pupils", "pupils placed today"),
    Column("year", "int", "academic year", "year counted; default the start year",
           required=False),
    Column("source", "text", "", "where the count comes from", required=False),
)


def required_columns(columns: tuple[Column, ...]) -> list[str]:
    """Names of the columns a file must have."""
    return [column.name for column in columns if column.required]
