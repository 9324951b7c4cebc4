"""Repair planners: one module per strategy (``reset``, ``resume``, ``sync``), each a pure
``plan_<strategy>(...) -> dbmedic.plan.Plan``.

- :func:`dbmedic.plans.reset.plan_reset`: back up, drop and recreate the database, run every
  migration from zero, verify, hooks; refused when the rehearsal predicts the fresh run fails.
- :func:`dbmedic.plans.resume.plan_resume`: record pending migrations whose effects are all
  present as applied, run only the missing statements of half-applied ones, repair conflicts
  keeping their data, then let the framework run the rest.
- :func:`dbmedic.plans.sync.plan_sync`: bring the missing schema over from the reference.

The facts reset and resume need from databases and frameworks are read by
:mod:`dbmedic.plans.facts` (the I/O edge); the planners themselves never touch a database.
"""
