"""The summary of a finished export: resources per type, the error and deleted files."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from clotsafe.fhir.bulk.export import ExportResult


def summary(result: ExportResult, out: Path) -> dict[str, Any]:
    """A JSON-ready summary (``clotsafe bulk export --format json`` prints it)."""
    output: dict[str, dict[str, int]] = {}
    for s in result.saved:
        if s.entry.kind == "output":
            row = output.setdefault(s.entry.type, {"files": 0, "resources": 0})
            row["files"] += 1
            row["resources"] += s.lines
    return {
        "out": str(out),
        "transactionTime": result.manifest.transaction_time,
        "output": output,
        "error": _side(result, "error"),
        "deleted": _side(result, "deleted"),
        "statusDeleted": result.status_deleted,
    }


def _side(result: ExportResult, kind: str) -> dict[str, Any]:
    saved = [s for s in result.saved if s.entry.kind == kind]
    return {"files": [s.path for s in saved], "lines": sum(s.lines for s in saved)}


def summary_text(data: dict[str, Any]) -> str:
    """The summary for a terminal."""
    lines = [f"Export complete into {data['out']} (transactionTime {data['transactionTime']})"]
    for rtype, row in sorted(data["output"].items()):
        lines.append(f"  {rtype:<22} {row['resources']:>10,} resources in {row['files']} file(s)")
    err, deleted = data["error"], data["deleted"]
    if err["files"]:
        lines.append(
            f"  errors reported by the server: {err['lines']:,} OperationOutcome(s) in "
            f"{', '.join(err['files'])}"
        )
    if deleted["files"]:
        lines.append(
            f"  deleted since --since: {deleted['lines']:,} in {', '.join(deleted['files'])}"
        )
    if not err["files"]:
        lines.append("  no errors reported by the server")
    lines.append(
        "The export was deleted on the server."
        if data["statusDeleted"]
        else "The export could NOT be deleted on the server (it expires there by itself)."
    )
    return "\n".join(lines) + "\n"
