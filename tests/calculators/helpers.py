"""Small helpers shared by the calculator tests."""

from __future__ import annotations

from datetime import date, timedelta

from clotsafe.calculators import ItemResult, ScoreResult

#: the screening date used by the intake tests (never the clock)
AT = date(2026, 6, 15)


def days_ago(n: int) -> str:
    """An ISO date ``n`` days before :data:`AT`."""
    return (AT - timedelta(days=n)).isoformat()


def item(result: ScoreResult, item_id: str) -> ItemResult:
    """The ItemResult of ``item_id`` (KeyError when it was not assessed)."""
    return {i.id: i for i in result.items}[item_id]
