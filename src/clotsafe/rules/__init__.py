"""The screening policy (POLICY.md): evaluate(intake, at=..., settings=...) -> Decision."""

from clotsafe.rules.engine import evaluate, pending_questions
from clotsafe.rules.settings import DEFAULT_SETTINGS, Settings, load_settings, load_settings_file

__all__ = [
    "DEFAULT_SETTINGS",
    "Settings",
    "evaluate",
    "load_settings",
    "load_settings_file",
    "pending_questions",
]
