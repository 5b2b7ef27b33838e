"""Customer-satisfaction and complaint-handling KPIs, computed from the audit log alone.

Layer 2: imports `audit`, `base` and `schemas` only. Anyone holding an export bundle can
recompute every figure, because nothing here reads Temporal or any other state.
"""
