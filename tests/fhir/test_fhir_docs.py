"""Every error or warning code the FHIR edge emits is documented in docs/fhir.md."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SOURCES = [
    *(ROOT / "src/clotsafe/fhir").glob("*.py"),
    *(ROOT / "src/clotsafe/web/cds").glob("*.py"),
]
CALL = re.compile(r'(?:problem|self\.warn)\(\s*[^()]*?(?:\([^()]*\)[^()]*?)*?,\s*"([a-z_]+)"', re.S)
SIMPLE = re.compile(r'simple_error\(\s*"([a-z_]+)"')


def test_every_emitted_code_has_a_docs_entry() -> None:
    """A client can look up every code it receives (datasette-style docs test)."""
    codes: set[str] = set()
    for path in SOURCES:
        text = path.read_text()
        codes |= set(CALL.findall(text)) | set(SIMPLE.findall(text))
    assert len(codes) > 20
    doc = (ROOT / "docs" / "fhir.md").read_text()
    assert sorted(c for c in codes if f"`{c}`" not in doc) == []
