"""Capital as a capital planner signs it: appraisal over the asset's life, spend profiles.

Two contract extensions of the run TOML (docs/inputs.md, "Capital over the asset's life"),
both absent = the contract's v1 (a module's whole capital counts, and is spent, in the one
year ``opening_year − lead_time_years``):

    [appraisal]
    method = "annuity"              # or "none" (v1)
    [appraisal.asset_life_years]    # per kind; assumptions (typical accounting lives)
    new_special = 60
    special = 40
    resourced = 20
    satellite = 20

    [capital]
    spend_profile.new_special = [0.1, 0.4, 0.5]   # shares spent in c, c + 1, c + 2 (c = y − lead)
    construction_inflation = 0.0    # cash in year t = K · (1 + i) ** (t − start): budget rows only

With r the discount rate, δ_t = (1 + r) ** −(t − start), T the last year: a tranche of
capital K spent in year c for a module of life L opening in year y enters the objective as
δ_c · K · (1 − (1 + r) ** −n) / (1 − (1 + r) ** −L), n = min(L, T − y + 1) (r = 0:
δ_c · K · n / L); the rest of δ_c · K is its residual value. The yearly view of the same
charge is A = K · (1 + r) ** (y − c) / ä_L, ä_L = Σ_{j<L} (1 + r) ** −j, in each year of
service y … min(T, y + L − 1): Σ_t δ_t · A equals the objective's charge.

This module holds the settings, their reading and checks, and the arithmetic every
consumer of "the capital year" shares (model, results, audit, analyses, report).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from sufficiency.errors import Issue
from sufficiency.preprocess.tomlread import TomlReader
from sufficiency.preprocess.vocabulary import KINDS
from sufficiency.tolerances import SPEND_PROFILE_SUM

if TYPE_CHECKING:
    from sufficiency.preprocess.config import RunConfig

# Typical accounting lives (years): assumptions, no seed document gives them. A college's
# high-needs places are a fit-out in its buildings (20, as a resourced unit); a specialist
# post-16 institution is a building of its own (40, as a special-school block).
ASSET_LIFE_YEARS = {"new_special": 60, "special": 40, "resourced": 20, "satellite": 20,
                    "fe_college": 20, "specialist_post16": 40}
METHODS = ("none", "annuity")
MAX_LIFE_YEARS = 200
INFLATION_RANGE = (-0.5, 1.0)
SINGLE = (1.0,)  # v1: the whole capital in the capital year


@dataclass(frozen=True)
class Appraisal:
    """``[appraisal]``: how capital enters the objective. ``stated``: the table was written."""

    method: str = "none"
    asset_life_years: dict[str, int] = field(default_factory=lambda: dict(ASSET_LIFE_YEARS))
    stated: bool = False

    @property
    def annuity(self) -> bool:
        """Whether capital counts only for the years of service within the horizon."""
        return self.method == "annuity"

    def life(self, kind: str) -> int:
        """Asset life (years) of a kind."""
        return self.asset_life_years.get(kind, ASSET_LIFE_YEARS.get(kind, 40))


@dataclass(frozen=True)
class CapitalRules:
    """``[capital]``: when capital is spent (profile per kind) and its cash inflation."""

    spend_profile: dict[str, tuple[float, ...]] = field(default_factory=dict)
    construction_inflation: float = 0.0

    def profile(self, kind: str) -> tuple[float, ...]:
        """Shares of a kind's capital spent in c, c + 1, …; (1.0,) unless the run gives one."""
        return self.spend_profile.get(kind, SINGLE)

    @property
    def on(self) -> bool:
        """Whether anything differs from v1 (a profile other than [1.0], or inflation)."""
        return (self.construction_inflation != 0.0
                or any(p != SINGLE for p in self.spend_profile.values()))

    def inflation_factor(self, years: Any, start_year: int) -> Any:
        """Cash per £ of start-year prices spent in ``years``: (1 + i) ** (t − start)."""
        return (1.0 + self.construction_inflation) ** (np.asarray(years) - start_year)


# --- reading -----------------------------------------------------------------------------

def read_appraisal(reader: TomlReader, data: dict[str, Any]) -> Appraisal:
    """``[appraisal]`` and ``[appraisal.asset_life_years]``; absent: v1 (method "none")."""
    if "appraisal" not in data:
        return Appraisal()
    table = reader.table(data, "appraisal", "", {"method", "asset_life_years"})
    if not isinstance(data["appraisal"], dict):  # reported as "must be a table"
        return Appraisal()
    method = "none"
    if "method" not in table:
        reader.problem("appraisal.method", "required key is missing",
                       'add method = "annuity" (or "none" for the contract\'s v1)')
    else:
        method = reader.choice(table, "method", "appraisal.", "none", METHODS,
                               'write method = "annuity" or method = "none"')
    lives = reader.table(table, "asset_life_years", "appraisal.", set(KINDS),
                         fix="write [appraisal.asset_life_years] with whole years per kind")
    life = dict(ASSET_LIFE_YEARS)
    for kind in KINDS:
        value = reader.number(lives, kind, "appraisal.asset_life_years.", life[kind],
                              minimum=1, maximum=MAX_LIFE_YEARS, integer=True)
        life[kind] = int(value)
    return Appraisal(method, life, stated=True)


def _shares(reader: TomlReader, key: str, value: Any) -> tuple[float, ...] | None:
    """A spend profile: a non-empty list of shares ≥ 0 adding up to 1 (None when wrong)."""
    fix = f"write {key.split('.', 1)[1]} = [0.1, 0.4, 0.5]: shares ≥ 0 adding up to 1"
    if (not isinstance(value, list) or not value
            or any(isinstance(v, bool) or not isinstance(v, int | float) for v in value)):
        reader.problem(key, f"{value!r} is not a list of shares", fix)
        return None
    shares = tuple(float(v) for v in value)
    if any(not math.isfinite(v) or v < 0 for v in shares):
        reader.problem(key, f"{value!r} has a negative or non-finite share", fix)
        return None
    if abs(math.fsum(shares) - 1.0) > SPEND_PROFILE_SUM:
        reader.problem(key, f"the shares add up to {math.fsum(shares):.10g}, not 1", fix)
        return None
    return shares


def read_capital_rules(reader: TomlReader, data: dict[str, Any]) -> CapitalRules:
    """``[capital]``: ``spend_profile.<kind>`` and ``construction_inflation``."""
    table = reader.table(data, "capital", "", {"spend_profile", "construction_inflation"})
    profiles = reader.table(table, "spend_profile", "capital.", set(KINDS),
                            fix="write spend_profile.<kind> = [shares] under [capital]")
    spend = {}
    for kind in KINDS:
        if kind in profiles:
            shares = _shares(reader, f"capital.spend_profile.{kind}", profiles[kind])
            if shares is not None:
                spend[kind] = shares
    low, high = INFLATION_RANGE
    inflation = reader.number(table, "construction_inflation", "capital.", 0.0, minimum=low,
                              maximum=high)
    return CapitalRules(spend, float(inflation))


def profile_lead_issues(config: RunConfig, options: pd.DataFrame) -> list[Issue]:
    """A kind's spend profile may be no longer than the lead time of each option of it.

    Shares are spent in c … c + m − 1 with c = opening year − lead, so m ≤ lead keeps every
    tranche before the opening (m = 1 when the lead time is 0). Options that cannot open
    (max_modules 0) spend nothing and are not checked.
    """
    issues = []
    for kind, shares in sorted(config.capital.spend_profile.items()):
        opening = options[(options["kind"] == kind) & (options["max_modules"] > 0)]
        short = opening[np.maximum(opening["lead_time_years"], 1) < len(shares)]
        for row in short.itertuples(index=False):
            issues.append(Issue(
                config.toml_path.name, None, f"capital.spend_profile.{kind}",
                f"{len(shares)} shares, but option {row.option_id!r} (provision.csv) has "
                f"lead_time_years {row.lead_time_years}: its capital would be spent after it "
                "opens",
                f"give at most {max(int(row.lead_time_years), 1)} share(s) for {kind}, or "
                "lengthen that option's lead_time_years", column_label="key"))
    return issues


# --- arithmetic --------------------------------------------------------------------------

def life_share(rate: float, service_years: Any, life: Any) -> Any:
    """(1 − (1 + r) ** −n) / (1 − (1 + r) ** −L) (r = 0: n / L): the share of capital charged.

    ``service_years`` n ≤ 0 (an asset opening after the horizon) is charged nothing.
    """
    n = np.maximum(np.asarray(service_years, dtype=float), 0.0)
    life = np.asarray(life, dtype=float)
    if rate == 0.0:
        return n / life
    return (1.0 - (1.0 + rate) ** -n) / (1.0 - (1.0 + rate) ** -life)


def annuity_due(rate: float, life: Any) -> Any:
    """ä_L = Σ_{j=0}^{L−1} (1 + r) ** −j, the present value of £1 a year for L years."""
    life = np.asarray(life, dtype=float)
    if rate == 0.0:
        return life
    return (1.0 - (1.0 + rate) ** -life) / (1.0 - 1.0 / (1.0 + rate))


def service_years(opening_year: Any, life: Any, end_year: int) -> Any:
    """N = min(L, T − y + 1): the asset's years of service within the horizon."""
    return np.minimum(np.asarray(life), end_year - np.asarray(opening_year) + 1)


def tranches(frame: pd.DataFrame, kinds: Any, rules: CapitalRules) -> pd.DataFrame:
    """``frame`` (with ``capital_year``) repeated per tranche of its kind's spend profile.

    Adds ``share`` and ``spend_year`` (= capital_year + tranche); the index of ``frame`` is
    kept (repeated), so sums per original row are ``groupby(level=0)``.
    """
    kinds = np.asarray(kinds, dtype=object)
    profiles = [rules.profile(str(k)) for k in kinds]
    if all(p == SINGLE for p in profiles):
        return frame.assign(share=1.0, spend_year=frame["capital_year"].to_numpy())
    counts = np.array([len(p) for p in profiles], dtype=np.int64)
    out = frame.loc[frame.index.repeat(counts)]
    offset = (np.concatenate([np.arange(c) for c in counts]) if len(counts)
              else np.zeros(0, dtype=np.int64))
    share = np.concatenate([np.asarray(p, dtype=float) for p in profiles]) if profiles else (
        np.zeros(0))
    return out.assign(share=share, spend_year=out["capital_year"].to_numpy() + offset)


def spend_table(plan: pd.DataFrame, config: RunConfig) -> pd.DataFrame:
    """One row per tranche of each opening of ``plan`` (plan.csv rows), £.

    Columns: ``opening`` (plan row position), option_id, kind, opening_year, capital_year,
    ``spend_year``, ``amount`` (£, start-year prices), ``cash`` (£ spent: amount with
    construction inflation; what the budget limits), ``pv`` (δ_spend_year · amount; 0 for a
    tranche spent before the start year, sunk: committed schemes under construction),
    ``charged`` (what the objective counts: pv, times the life share under annuity) and
    ``residual`` (pv − charged).
    """
    base = plan.reset_index(drop=True)[["option_id", "kind", "opening_year", "capital_year",
                                        "capital_cost"]].rename_axis("opening")
    rows = tranches(base, base["kind"], config.capital).reset_index()
    years = rows["spend_year"].to_numpy()
    amount = rows["capital_cost"].to_numpy(float) * rows["share"].to_numpy(float)
    delta = np.array([config.discount_factor(int(y)) for y in years], dtype=float)
    pv = np.where(years < config.start_year, 0.0, delta * amount)  # spent before: sunk
    charged = pv
    if config.appraisal.annuity:
        life = np.array([config.appraisal.life(str(k)) for k in rows["kind"]], dtype=float)
        n = service_years(rows["opening_year"].to_numpy(), life, config.end_year)
        charged = pv * life_share(config.discount_rate, n, life)
    return rows.assign(amount=amount, cash=amount * config.capital.inflation_factor(
        years, config.start_year), pv=pv, charged=charged, residual=pv - charged)[
        ["opening", "option_id", "kind", "opening_year", "capital_year", "spend_year",
         "amount", "cash", "pv", "charged", "residual"]]


def cash_by_year(plan: pd.DataFrame, config: RunConfig) -> pd.Series:
    """Capital cash (£, nominal) spent by the openings of ``plan`` in each (financial) year.

    v1 (no profile, no inflation): plan.csv's capital_cost summed by capital_year.
    """
    if not config.capital.on:
        return plan.groupby("capital_year")["capital_cost"].sum()
    table = spend_table(plan, config)
    return table.groupby("spend_year")["cash"].sum().rename_axis("capital_year")


def residual_values(plan: pd.DataFrame, config: RunConfig) -> np.ndarray:
    """Residual value (£, discounted to the start year) of each opening of ``plan``."""
    table = spend_table(plan, config)
    return table.groupby("opening")["residual"].sum().reindex(
        range(len(plan)), fill_value=0.0).to_numpy()


def annual_charges(plan: pd.DataFrame, config: RunConfig) -> pd.Series:
    """The equal yearly capital charge of every tranche, by year of service (£, real).

    A = amount · (1 + r) ** (y − c) / ä_L in each year y … min(T, y + L − 1).
    """
    table = spend_table(plan, config)
    table = table[table["spend_year"] >= config.start_year]  # sunk tranches: no charge
    r = config.discount_rate
    life = np.array([config.appraisal.life(str(k)) for k in table["kind"]], dtype=int)
    charge = (table["amount"].to_numpy(float)
              * (1.0 + r) ** (table["opening_year"] - table["spend_year"]).to_numpy(float)
              / annuity_due(r, life))
    n = np.maximum(service_years(table["opening_year"].to_numpy(), life, config.end_year), 0)
    years = np.repeat(table["opening_year"].to_numpy(), n) + (
        np.concatenate([np.arange(k) for k in n]) if len(n) else np.zeros(0, dtype=np.int64))
    return pd.Series(np.repeat(charge, n), index=years, dtype=float).groupby(level=0).sum()
