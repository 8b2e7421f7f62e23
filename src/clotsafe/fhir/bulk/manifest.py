"""The completion manifest (Bulk Data Access 2.0, "Response - Complete Status") and file names.

Each ``output`` file is stored as ``<type>.<n>.ndjson`` (n counts from 1 per type, in manifest
order); ``error`` files go to ``error/`` and ``deleted`` files to ``deleted/`` named alike. The
type becomes part of a file name, so it must be a FHIR resource type name (letters only): a
manifest cannot make clotsafe write outside DIR.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from typing import Any, Literal

from clotsafe.fhir.bulk.errors import BulkError, clean

Kind = Literal["output", "error", "deleted"]
KINDS: tuple[Kind, ...] = ("output", "error", "deleted")
TYPE_NAME = re.compile(r"[A-Z][A-Za-z]{0,63}")
SUBDIR: dict[Kind, str] = {"output": "", "error": "error/", "deleted": "deleted/"}


@dataclass(frozen=True)
class FileEntry:
    """One file of the manifest and where it lands under DIR (``stem`` + ``.ndjson`` or ``.gz``)."""

    kind: Kind
    type: str
    url: str
    count: int | None
    stem: str

    @property
    def ndjson(self) -> str:
        return f"{self.stem}.ndjson"


@dataclass(frozen=True)
class Manifest:
    transaction_time: str
    request: str
    requires_access_token: bool
    files: tuple[FileEntry, ...]

    def of(self, kind: Kind) -> tuple[FileEntry, ...]:
        return tuple(f for f in self.files if f.kind == kind)


def _bad(path: str, message: str) -> BulkError:
    return BulkError("bulk_bad_manifest", f"manifest {path}: {message}")


def parse_manifest(obj: Any) -> Manifest:
    """A validated Manifest, or BulkError ``bulk_bad_manifest`` naming the path into it."""
    if not isinstance(obj, dict):
        raise _bad("(top level)", "expected a JSON object")
    when, request = obj.get("transactionTime"), obj.get("request")
    if not isinstance(when, str) or not when:
        raise _bad("transactionTime", "missing (an instant is required)")
    requires = obj.get("requiresAccessToken", False)
    if not isinstance(requires, bool):
        raise _bad("requiresAccessToken", f"expected true or false, got {clean(requires, 40)}")
    files: list[FileEntry] = []
    numbers: Counter[tuple[Kind, str]] = Counter()
    for kind in KINDS:
        entries = obj.get(kind, [])
        if not isinstance(entries, list):
            raise _bad(kind, "expected a list")
        for i, entry in enumerate(entries):
            files.append(_entry(kind, i, entry, numbers))
    return Manifest(when, request if isinstance(request, str) else "", requires, tuple(files))


def _entry(kind: Kind, i: int, entry: Any, numbers: Counter[tuple[Kind, str]]) -> FileEntry:
    path = f"{kind}[{i}]"
    if not isinstance(entry, dict):
        raise _bad(path, "expected an object")
    rtype, url, count = entry.get("type"), entry.get("url"), entry.get("count")
    if not isinstance(rtype, str) or not TYPE_NAME.fullmatch(rtype):
        raise _bad(f"{path}.type", f"expected a resource type name, got {clean(rtype, 70)!r}")
    if not isinstance(url, str) or not url.startswith(("https://", "http://")):
        raise _bad(f"{path}.url", "expected an absolute http(s) URL")
    if count is not None and (not isinstance(count, int) or isinstance(count, bool) or count < 0):
        raise _bad(f"{path}.count", f"expected a whole number, got {clean(count, 40)}")
    numbers[kind, rtype] += 1
    return FileEntry(kind, rtype, url, count, f"{SUBDIR[kind]}{rtype}.{numbers[kind, rtype]}")
