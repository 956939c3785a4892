"""IC-R2: billing-effective dates."""

from datetime import date

import pytest

from gateway.domain.billing import billing_end, billing_start


@pytest.mark.parametrize(
    ("start", "effective"),
    [(date(2026, 3, 10), date(2026, 4, 1)), (date(2026, 3, 1), date(2026, 4, 1)), (date(2026, 12, 31), date(2027, 1, 1))],
)
def test_IC_R2_billable_from_the_first_of_the_next_month(start, effective):
    assert billing_start(start) == effective


@pytest.mark.parametrize(
    ("end", "effective"),
    [
        (date(2026, 3, 10), date(2026, 4, 30)),
        (date(2026, 1, 31), date(2026, 2, 28)),
        (date(2028, 1, 5), date(2028, 2, 29)),
        (date(2026, 12, 1), date(2027, 1, 31)),
        (None, None),
    ],
)
def test_IC_R2_billable_until_the_last_day_of_the_next_month(end, effective):
    assert billing_end(end) == effective
