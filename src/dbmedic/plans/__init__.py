"""Repair planners: one module per strategy (``reset``, ``resume``, ``sync``), each a pure
``plan_<strategy>(...) -> dbmedic.plan.Plan``."""
