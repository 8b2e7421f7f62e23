"""The one seam between the web app and the screening engine (clotsafe.rules).

Views and services never call the engine directly: they call these functions, which take and
return plain JSON-able data, so what is stored is exactly what the engine said. Evaluation
goes through the engine's executor, :class:`clotsafe.rules.screener.Screener`, with the
clinic's settings and the screening date passed in.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from typing import Any

from clotsafe.domain.decision import Decision
from clotsafe.domain.errors import FieldError, IntakeError, SettingsError
from clotsafe.domain.intake import Intake, parse_intake
from clotsafe.knowledge import clearable_rules
from clotsafe.render import present
from clotsafe.rules import load_settings
from clotsafe.rules.screener import Screener
from clotsafe.rules.settings import Settings


@dataclass(frozen=True)
class Evaluation:
    """One evaluated intake: the intake JSON and the Decision; ``decision`` is what is stored."""

    intake: dict[str, Any]
    outcome: Decision

    @property
    def decision(self) -> dict[str, Any]:
        return self.outcome.to_json()

    @property
    def level(self) -> str:
        return self.outcome.level.value

    @property
    def complete(self) -> bool:
        return self.outcome.complete

    @property
    def policy_version(self) -> str:
        return self.outcome.policy_version


def clearable_reasons(decision: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The reasons of a stored decision JSON that a clearance can cover: rules at
    clearance_required (before any clearance), never red flags (POLICY §5)."""
    return [r.to_json() for r in present.rules_to_clear(Decision.from_json(decision))]


@lru_cache(maxsize=64)
def _settings(text: str) -> Settings:
    return load_settings(text, name="clinic")


@lru_cache(maxsize=64)
def _screener(settings_toml: str) -> Screener:
    """The engine's executor for a clinic's settings (the default policy when there are none)."""
    return Screener(_settings(settings_toml)) if settings_toml.strip() else Screener()


def settings_errors(text: str) -> list[FieldError]:
    """The engine's own messages for stricter clinic settings; empty when they are valid."""
    if not text.strip():
        return []
    try:
        _settings(text)
    except SettingsError as exc:
        return list(exc.errors)
    return []


def build_intake(answers: Mapping[str, Any], screened_on: date,
                 clearances: Iterable[Mapping[str, Any]] = ()) -> dict[str, Any]:  # fmt: skip
    obj: dict[str, Any] = {"screened_on": screened_on.isoformat(), "answers": dict(answers)}
    cl = list(clearances)
    if cl:
        obj["clearances"] = cl
    return obj


def check_answers(answers: Mapping[str, Any], screened_on: date) -> list[FieldError]:
    """Field errors of these answers (as the engine parses them); empty when they are valid."""
    try:
        parse_intake(build_intake(answers, screened_on), known_rules=clearable_rules())
    except IntakeError as exc:
        return list(exc.errors)
    return []


def run(answers: Mapping[str, Any], screened_on: date, *, settings_toml: str = "",
        clearances: Iterable[Mapping[str, Any]] = ()) -> Evaluation:  # fmt: skip
    """Parse and evaluate one intake; raises IntakeError on invalid answers."""
    obj = build_intake(answers, screened_on, clearances)
    intake = parse_intake(obj, known_rules=clearable_rules())
    return Evaluation(intake=intake.to_json(), outcome=decide(intake, settings_toml=settings_toml))


def decide(intake: Intake, *, settings_toml: str = "") -> Decision:
    """The Decision for an intake the engine has already parsed, under the clinic's settings,
    on its own screening date."""
    return _screener(settings_toml).screen_one(intake, at=intake.screened_on)
