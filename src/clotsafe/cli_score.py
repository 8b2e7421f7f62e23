"""``clotsafe score NAME PATH|-`` and ``clotsafe score NAME --items``."""

from __future__ import annotations

import sys
from typing import IO, Any

import click
import orjson

import clotsafe.calculators  # noqa: F401  (registers the shipped calculators)
from clotsafe.calculators.base import Calculator, ScoreResult, builtin_calculators
from clotsafe.calculators.errors import CalculatorError
from clotsafe.domain import strictjson


def _calculator(name: str) -> Calculator:
    if name not in builtin_calculators():
        raise click.BadParameter(
            f"unknown calculator {name!r}; known: {', '.join(sorted(builtin_calculators()))}",
            param_hint="NAME",
        )
    return builtin_calculators()[name]


def list_items(name: str, fmt: str, version: str | None) -> str:
    calc = _calculator(name)
    try:
        items = calc.items(version)
    except CalculatorError as exc:
        raise click.BadParameter(str(exc), param_hint="--version") from None
    if fmt == "json":
        rows = [
            {
                "id": i.id,
                "label": i.label,
                "points": i.points,
                "exclusive": i.exclusive,
                "note": i.note,
            }
            for i in items
        ]
        doc = {
            "calculator": calc.name,
            "title": calc.title,
            "citation": calc.citation,
            "versions": list(calc.versions),
            "band_schemes": list(calc.band_schemes),
            "measurements": dict(calc.measurements),
            "items": rows,
        }
        return orjson.dumps(doc, option=orjson.OPT_INDENT_2).decode() + "\n"
    out = [
        f"{calc.title} ({calc.name}); versions: {', '.join(calc.versions)}; "
        f"bands: {', '.join(calc.band_schemes)}",
        f"  {calc.citation}",
    ]
    out += [f"  {i.id:<36} {i.points:>+5g}  {i.label}" for i in items]
    if calc.measurements:
        out.append(
            "  measurements: " + ", ".join(f"{k} ({v})" for k, v in calc.measurements.items())
        )
    return "\n".join(out) + "\n"


def run_score(name: str, path: IO[bytes], fmt: str, version: str | None, bands: str | None) -> str:
    calc = _calculator(name)
    findings = _findings(path)
    try:
        result = calc.score(findings, version=version, bands=bands)
    except CalculatorError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(1)
    if fmt == "json":
        return orjson.dumps(result.to_dict(), option=orjson.OPT_INDENT_2).decode() + "\n"
    return _text(result)


def _findings(path: IO[bytes]) -> dict[str, Any]:
    try:  # an item named twice is refused, never "the last one wins" (POLICY 1.1 §8.1)
        data = strictjson.loads(path.read())
    except strictjson.JsonInputError as exc:
        for e in exc.errors:
            click.echo(f"error: {e.message if e.code == 'invalid_json' else e}", err=True)
        sys.exit(1)
    if not isinstance(data, dict):
        click.echo(
            "error: expected a JSON object of item id -> true/false/null "
            "(or measurement -> number)",
            err=True,
        )
        sys.exit(1)
    return data


def _text(r: ScoreResult) -> str:
    total = f"{r.lower:g}" if r.lower == r.upper else f"{r.lower:g}–{r.upper:g}"
    band = r.band if r.band == r.band_upper else f"{r.band} to {r.band_upper}"
    out = [f"{r.calculator} {r.version}: {total} ({band}; bands {r.band_scheme})"]
    for i in r.items:
        mark = {True: "yes", False: "no", None: "unknown"}[i.present]
        out.append(f"  {i.id:<36} {mark:<8} {i.awarded:>+5g}")
    if r.unknown:
        out.append("  unknown: " + ", ".join(r.unknown))
    if r.not_assessed:
        out.append("  not assessed: " + ", ".join(r.not_assessed))
    out += [f"  note: {n}" for n in r.notes]
    return "\n".join(out) + "\n"
