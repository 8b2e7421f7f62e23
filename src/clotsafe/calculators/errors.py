"""Errors raised by the calculators: each names what was wrong and lists what is valid.

They are ``ValueError`` subclasses, so callers at the edge (CLI, web form, API) can map them to a
"bad input" answer in one place.
"""

from __future__ import annotations

from collections.abc import Iterable


class CalculatorError(ValueError):
    """Base class of every calculator input error."""


class UnknownItem(CalculatorError):
    """A findings key that is neither an item id nor a measurement of this calculator/version."""

    def __init__(self, calculator: str, version: str, key: str, valid: Iterable[str]) -> None:
        self.calculator = calculator
        self.version = version
        self.key = key
        self.valid = tuple(valid)
        super().__init__(
            f"{calculator} (version {version}) has no item or measurement {key!r}; "
            f"valid keys: {', '.join(self.valid)}"
        )


class UnknownVersion(CalculatorError):
    """A version the calculator does not implement."""

    def __init__(self, calculator: str, version: str, valid: Iterable[str]) -> None:
        self.calculator = calculator
        self.version = version
        self.valid = tuple(valid)
        super().__init__(
            f"{calculator} has no version {version!r}; valid versions: {', '.join(self.valid)}"
        )


class UnknownBandScheme(CalculatorError):
    """A band scheme the calculator (or this version of it) does not have."""

    def __init__(self, calculator: str, version: str, scheme: str, valid: Iterable[str]) -> None:
        self.calculator = calculator
        self.version = version
        self.scheme = scheme
        self.valid = tuple(valid)
        super().__init__(
            f"{calculator} (version {version}) has no band scheme {scheme!r}; "
            f"valid band schemes: {', '.join(self.valid)}"
        )


class InvalidValue(CalculatorError):
    """A finding that is not True/False/None, or a measurement that is not a finite number."""

    def __init__(self, calculator: str, key: str, expected: str, got: object) -> None:
        self.calculator = calculator
        self.key = key
        self.expected = expected
        self.got = got
        super().__init__(f"{calculator}: {key!r} expects {expected}, got {got!r}")
