"""The bad-input catalogue of the optional files costs.csv and independent.csv.

Same rules as catalogue_cases.py: each case starts from the valid tiny run of
test_catalogue.py (area A, site S1, option SP with 10 places, 5 ASD primary pupils) plus
one of the new files with one mistake; `sufficiency plan` must stop before solving with
exit code 2, say where (file, row, column) and what to do, and write nothing.
"""

from __future__ import annotations

import pytest
from catalogue_cases import Case, write_bytes
from test_catalogue import problem_lines, write_case
from typer.testing import CliRunner

from sufficiency.cli import app

COSTS = "option_id,kind,need,phase,annual_cost_per_place,cost_per_place,transport_cost_per_pupil\n"
PROVIDERS = "provider_id,name,needs,phases,cost_per_place,easting,northing\n"
PROVIDERS_WGS = "provider_id,name,needs,phases,cost_per_place,lat,lon\n"


def costs(*rows: str) -> object:
    return write_bytes("costs.csv", (COSTS + "\n".join(rows) + "\n").encode())


def providers(*rows: str, header: str = PROVIDERS) -> object:
    return write_bytes("independent.csv", (header + "\n".join(rows) + "\n").encode())


CASES: list[Case] = [
    # --- costs.csv ------------------------------------------------------------------------
    Case("costs-unknown-kind", ("costs.csv, row 2, column 'kind': unknown kind 'specail'",
                                "did you mean 'special'?"),
         mutate=costs(",specail,ASD,*,20000,,")),
    Case("costs-unknown-need", ("costs.csv, row 2, column 'need': unknown code 'SEMHH'",
                                "did you mean 'SEMH'?", "'*' for all"),
         mutate=costs(",special,SEMHH,*,20000,,")),
    Case("costs-unknown-phase", ("costs.csv, row 2, column 'phase': unknown code 'primray'",
                                 "did you mean 'primary'?"),
         mutate=costs(",special,ASD,primray,20000,,")),
    Case("costs-unknown-option", ("costs.csv, row 2, column 'option_id': 'SPX' is not in "
                                  "provision.csv", "did you mean 'SP'?"),
         mutate=costs("SPX,,ASD,*,20000,,")),
    Case("costs-option-named-independent", ("costs.csv, row 2, column 'option_id': "
                                            "'independent' is not an option",
                                            "kind = independent"),
         mutate=costs("independent,,ASD,*,,50000,1000")),
    Case("costs-negative-place-cost", ("costs.csv, row 2, column 'annual_cost_per_place'",
                                       "-20000 is below the minimum 0", "at least 0"),
         mutate=costs("SP,,ASD,*,-20000,,")),
    Case("costs-negative-independent-fee", ("costs.csv, row 2, column 'cost_per_place'",
                                            "-5 is below the minimum 0"),
         mutate=costs(",independent,ASD,*,,-5,1000")),
    Case("costs-duplicate-at-one-level", ("costs.csv, row 3: repeats kind 'special', need "
                                          "'ASD', phase '*' of row 2", "give each combination "
                                          "once"),
         mutate=costs(",special,ASD,*,20000,,", ",Special,asd,*,21000,,")),
    Case("costs-option-and-kind", ("costs.csv, row 2, column 'kind': the row names option "
                                   "'SP' and kind 'special'", "leave kind empty"),
         mutate=costs("SP,special,ASD,*,20000,,")),
    Case("costs-neither-option-nor-kind", ("costs.csv, row 2, column 'option_id': the row "
                                           "names neither an option nor a kind",),
         mutate=costs(",,ASD,*,20000,,")),
    Case("costs-independent-row-without-transport", ("costs.csv, row 2, column "
                                                     "'transport_cost_per_pupil': empty cell",
                                                     "enter the transport"),
         mutate=costs(",independent,ASD,*,,50000,")),
    Case("costs-place-cost-on-independent-row", ("costs.csv, row 2, column "
                                                 "'annual_cost_per_place': this column is for "
                                                 "option and provision-kind rows only",),
         mutate=costs(",independent,ASD,*,20000,50000,1000")),
    Case("costs-missing-amount-column", ("costs.csv, column 'annual_cost_per_place': required "
                                         "column is missing",),
         mutate=write_bytes("costs.csv", b"kind,need,phase,cost_per_place\nspecial,ASD,*,1\n")),
    Case("costs-header-only", ("costs.csv: has no data rows", "or delete the file"),
         mutate=write_bytes("costs.csv", COSTS.encode())),
    # --- independent.csv ------------------------------------------------------------------
    Case("provider-without-location", ("independent.csv, row 2, column 'easting': the provider "
                                       "has no location", "give 'easting' and 'northing'"),
         mutate=providers("P1,Provider,ASD,*,40000,,")),
    Case("provider-outside-great-britain", ("independent.csv, row 2, column 'lat': (lat 40.4, "
                                            "lon -3.7) is outside Great Britain",),
         mutate=providers("P1,Madrid school,ASD,*,40000,40.4,-3.7", header=PROVIDERS_WGS)),
    Case("provider-grid-point-outside-great-britain", ("independent.csv, row 2, column "
                                                       "'easting': (2e+06, 300000) is outside "
                                                       "Great Britain",),
         mutate=providers("P1,Far away,ASD,*,40000,2000000,300000")),
    Case("provider-negative-fee", ("independent.csv, row 2, column 'cost_per_place'",
                                   "-40000 is below the minimum 0"),
         mutate=providers("P1,Provider,ASD,*,-40000,405000,306000")),
    Case("provider-unknown-need", ("independent.csv, row 2, column 'needs'",
                                   "unknown code(s) AUTISM"),
         mutate=providers("P1,Provider,AUTISM,*,40000,405000,306000")),
    Case("provider-unknown-phase", ("independent.csv, row 2, column 'phases'",
                                    "unknown code(s) nursery"),
         mutate=providers("P1,Provider,ASD,nursery,40000,405000,306000")),
    Case("provider-duplicate-id", ("independent.csv, row 3, column 'provider_id': 'P1' "
                                   "duplicate (row 2)",),
         mutate=providers("P1,One,ASD,*,40000,405000,306000",
                          "P1,Two,ASD,*,40000,405000,307000")),
    Case("provider-id-is-a-site-id", ("independent.csv, row 2, column 'provider_id': 'S1' is "
                                      "also a site_id in sites.csv", "its own id"),
         mutate=providers("S1,Provider,ASD,*,40000,405000,306000")),
    Case("provider-missing-fee-column", ("independent.csv, column 'cost_per_place': required "
                                         "column is missing",),
         mutate=write_bytes("independent.csv", b"provider_id,name,needs,phases,easting,"
                                               b"northing\nP1,One,ASD,*,405000,306000\n")),
    Case("travel-names-an-unknown-provider", ("travel.csv, row 3, column 'site_id': 'P2' is not "
                                              "in sites.csv or independent.csv",),
         files={"travel": ["A,S1,2,1", "A,P2,40,30"]},
         mutate=providers("P1,Provider,ASD,*,40000,405000,306000")),
]


@pytest.mark.parametrize("case", CASES, ids=lambda case: case.id)
def test_bad_cost_file_is_rejected_before_solving(tiny, case):
    toml = write_case(tiny, case)
    out_root = tiny.root / "out"
    result = CliRunner().invoke(app, ["plan", str(toml), "--output-root", str(out_root)])
    output = result.output
    assert result.exit_code == 2, output
    assert "Traceback" not in output
    assert "nothing was solved or written" in output
    for fragment in case.expect:
        assert fragment in output, f"{fragment!r} not in:\n{output}"
    lines = problem_lines(output)
    assert lines and all(" — " in line for line in lines), "every problem says what to do"
    assert not out_root.exists(), "nothing may be written"


def test_cost_row_for_a_need_the_option_does_not_serve_is_a_warning(tiny):
    toml = write_case(tiny, Case("unused-row", (), mutate=costs("SP,,SEMH,*,20000,,")))
    (tiny.root / "data" / "provision.csv").write_text(
        (tiny.root / "data" / "provision.csv").read_text().replace(",*,*,", ",ASD,*,"))
    result = CliRunner().invoke(app, ["validate", str(toml)])
    assert result.exit_code == 0, result.output
    assert ("warning: costs.csv, row 2: option 'SP' does not serve need SEMH; the row has no "
            "effect") in result.output


assert len({c.id for c in CASES}) == len(CASES)
