"""FHIR dates: the fast path for a full date (``date.fromisoformat``) reads every text exactly
as the general reading by parts does, partial dates, odd texts and week dates included."""

from __future__ import annotations

import calendar
from datetime import date

from hypothesis import given
from hypothesis import strategies as st

from clotsafe.fhir.resources import fhir_date


def _by_parts(value: object, *, latest: bool = True) -> date | None:
    """The general reading (the one path before the fast one): year, month, day by '-'."""
    if not isinstance(value, str) or len(value) < 4:
        return None
    try:
        parts = value[:10].split("-")
        year = int(parts[0])
        if len(parts) == 1:
            return date(year, 12, 31) if latest else date(year, 1, 1)
        month = int(parts[1])
        if len(parts) == 2:
            last = calendar.monthrange(year, month)[1]
            return date(year, month, last if latest else 1)
        return date(year, month, int(parts[2]))
    except (ValueError, OverflowError):
        return None


DATED = st.builds(
    lambda y, m, d, tail: f"{y:04d}-{m:02d}-{d:02d}{tail}",
    st.integers(0, 10_000),
    st.integers(0, 13),
    st.integers(0, 32),
    st.sampled_from(["", "T10:00:00Z", "T00:00:00-05:00", "Z", "x"]),
)
ODD = st.text(alphabet="0123456789-+_ WT:Z.\u0663", min_size=0, max_size=14)


@given(value=DATED | ODD, latest=st.booleans())
def test_the_fast_path_reads_every_text_as_the_reading_by_parts(value: str, latest: bool) -> None:
    assert fhir_date(value, latest=latest) == _by_parts(value, latest=latest)


def test_week_dates_and_years_beyond_the_calendar_are_not_dates() -> None:
    """``date.fromisoformat`` takes "2026-W48-1" (a week date): not a FHIR date, not read."""
    assert fhir_date("2026-W48-1") is None
    assert fhir_date("9999999999") is None
    assert fhir_date("2026-11-30T08:00:00+01:00") == date(2026, 11, 30)
    assert fhir_date("2026-02", latest=False) == date(2026, 2, 1)
