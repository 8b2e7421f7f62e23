"""Every rule, calculator, CLI command and error code has its docs entry (datasette's test_docs)."""

from __future__ import annotations

import re
from pathlib import Path

from click.testing import CliRunner

from clotsafe.cli import main
from clotsafe.domain.errors import ERROR_CODES
from clotsafe.knowledge import rules as rule_info
from clotsafe.knowledge import sources

DOCS = Path(__file__).resolve().parents[1] / "docs"


def test_rules_doc_is_current() -> None:
    """docs/rules.md is exactly what `clotsafe rules --format markdown` prints."""
    out = CliRunner().invoke(main, ["rules", "--format", "markdown"]).stdout
    assert out in (DOCS / "rules.md").read_text()
    for rid in rule_info():
        assert f"`{rid}`" in out


def test_every_error_code_documented() -> None:
    """Each error code has a row in docs/errors.md."""
    text = (DOCS / "errors.md").read_text()
    missing = [c for c in ERROR_CODES if f"| `{c}` |" not in text]
    assert not missing


def test_every_cli_command_documented() -> None:
    """Each CLI command and subcommand has a heading in docs/cli.md."""
    text = (DOCS / "cli.md").read_text()
    for name, cmd in main.commands.items():
        assert f"## `clotsafe {name}" in text, name
        for sub in getattr(cmd, "commands", {}):
            assert f"## `clotsafe {name} {sub}" in text, (name, sub)


def test_every_calculator_documented() -> None:
    """Each calculator and each of its item ids appears in docs/calculators.md."""
    import clotsafe.calculators  # noqa: F401
    from clotsafe.calculators.base import builtin_calculators

    text = (DOCS / "calculators.md").read_text()
    for name, calc in builtin_calculators().items():
        assert name in text
        for version in calc.versions:
            for item in calc.items(version):
                assert item.id in text, (name, item.id)


def test_every_cited_source_exists() -> None:
    """Every S# a rule cites is in the source list copied from FACTS.md §12."""
    known = sources()
    for info in rule_info().values():
        for s in info.sources:
            assert s in known, (info.id, s)
        assert re.fullmatch(r"[A-Z]+(-[A-Z0-9]+)*", info.id)
