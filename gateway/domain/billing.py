"""Billing-effective dates of an inclusion (IC-R2).

Care is billable to the PSI from the first day of the month following the
declared start date, and until the last day of the month following the
declared end date (seed 001, items 7 and 8).
"""

from __future__ import annotations

import calendar
from datetime import date


def _next_month(day: date) -> tuple[int, int]:
    return (day.year + 1, 1) if day.month == 12 else (day.year, day.month + 1)


def billing_start(start: date) -> date:
    """First day of the month after ``start``."""
    year, month = _next_month(start)
    return date(year, month, 1)


def billing_end(end: date | None) -> date | None:
    """Last day of the month after ``end`` (``None`` while the inclusion is open)."""
    if end is None:
        return None
    year, month = _next_month(end)
    return date(year, month, calendar.monthrange(year, month)[1])
