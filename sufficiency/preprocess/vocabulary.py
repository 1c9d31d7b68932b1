"""The engine's fixed vocabulary: SEN2 need codes, phases, provision kinds, the fallback option.

Every input file, TOML and report spells these the same way; inputs may use any case and
are normalised to the spelling here.
"""

from __future__ import annotations

NEEDS = ("ASD", "SEMH", "SLCN", "MLD", "SLD", "PMLD", "SPLD", "HI", "VI", "MSI", "PD", "OTH")
PHASES = ("primary", "secondary", "post16")
V1_KINDS = ("special", "resourced", "satellite", "new_special")  # the contract's four
# Post-16 providers (extension; docs/inputs.md): high-needs places at a further-education
# college, and a specialist post-16 institution (SPI). They serve the post16 phase only.
POST16_KINDS = ("fe_college", "specialist_post16")
KINDS = (*V1_KINDS, *POST16_KINDS)
INDEPENDENT = "independent"  # the always-available fallback option's id


def canonical_code(text: str, allowed: tuple[str, ...]) -> str | None:
    """``text`` spelled as in ``allowed`` (any case matches), or None when it is not there."""
    return {code.lower(): code for code in allowed}.get(text.lower())


def need_code(text: str) -> str | None:
    """The SEN2 need code ``text`` names (any case), in its canonical upper case, or None."""
    code = text.upper()
    return code if code in NEEDS else None
