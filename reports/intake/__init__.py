"""Counsel's intake service (extra ``ftiscan[intake]``): see `ftiscan.reports.protocol`.

`Intake` (`ftiscan.reports.intake.service`) verifies, stores once and signs receipts;
the store (`ftiscan.reports.intake.store`) is SQLite or PostgreSQL; the fleet view's
rules are in `ftiscan.reports.intake.fleet`.
"""

from ftiscan.reports.intake.service import Accepted, Intake, IntakeError

__all__ = ["Accepted", "Intake", "IntakeError"]
