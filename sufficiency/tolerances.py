"""Every numerical tolerance of the engine, named by what it compares (one table).

Values differ on purpose: each is set by the arithmetic it guards (a solver's feasibility
tolerance, float round-off in a sum, pennies in a report). Changing one changes results.
"""

# pupils
PUPILS_EXTRACTED = 1e-6  # placements smaller than this are solver noise, not pupils
PUPILS_AUDIT = 1e-5  # the audit's slack on demand placed and capacity (HiGHS feasibility 1e-6)
PUPILS_ROUNDED_ROW = 5e-7  # a placement row as written (6 decimals): a sum of n rows may
# miss the solver's by n times this (audit: 207 rows at one York MSOA school, 1.2e-5)
PUPILS_VIEW = 1e-9  # transport views: a group with fewer pupils counts as empty
PUPILS_CURRENT_OVER_DEMAND = 1e-4  # current_placements.csv against the start year's demand
PUPILS_CURRENT_OVER_CAPACITY = 1e-4  # ... against an option's places: within it, clipped
# (both 1e-4: placements are written to 6 decimals, so a sum of a few hundred rows fed
# back as current_placements.csv misses the model's own value by up to 1e-4)
PUPILS_SEN2_AGE_ROWS = 0.5  # build: SEN2 age rows against a placement's total (else logged)

# journeys
MINUTES_LIMIT = 1e-9  # a journey this much over its phase's limit still counts as within
MINUTES_INPUT_AGREEMENT = 1e-6  # audit: a placement's minutes against travel.csv's

# money
MONEY_AUDIT_REL = 1e-6  # audit: cost tables against the solver's objective, relative
MONEY_AUDIT_ABS = 1.0  # audit: £ on top of MONEY_AUDIT_REL
BUDGET_AUDIT_REL = 1e-9  # audit: capital spent against a year's budget, relative (+ £0.01)
CAPITAL_AUDIT_ABS = 0.01  # audit: £ of an option's capital, and of a year's over its budget
SPEND_PROFILE_SUM = 1e-9  # [capital] spend_profile: its shares may miss a total of 1 by this
OBJECTIVE_AGREEMENT_REL = 1e-9  # HiGHS's stated objective against its columns' cost
DUAL_ZERO = 1e-9  # £k per unit: a smaller dual is reported as 0
ALTERNATIVE_COST_REL = 1e-7  # near-optimal alternatives: slack on their ε cost bound
ALTERNATIVE_COST_ABS = 1.0  # near-optimal alternatives: £ on top of ALTERNATIVE_COST_REL

# heuristics and cuts (model units)
ROUNDING = 1e-6  # the start heuristics' rounding and "fractional" threshold
CUT_MIN_GAIN_REL = 1e-7  # cut rounds stop when the bound gains less than this share
CUT_SAFETY = 1e-7  # pupils added to each cut's right side against round-off in ⌈b / MP⌉
CUT_CEILING = 1e-9  # round-off allowed when taking ⌈b / MP⌉ and testing b > 0

# shares and scales
SHARE = 1e-9  # a share this close to 0 or 1 is 0 or 1 (report wording)
GAP_DENOMINATOR = 1e-9  # smallest |objective| a relative gap divides by
RETENTION_MERGE = 1e-12  # sticky cohorts: pairs merge only where their retentions ρ
# agree within this (a cohort split back to them is then exact: formulation.sets)

# geometry
AREA_TILING_M2 = 1.0  # synthetic areas: m² by which the cells may miss tiling the region
