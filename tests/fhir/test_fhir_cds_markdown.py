"""Strings from the EHR reach the card's Markdown inert (issue 10 §3): a code system, a resource
id or a unit that holds Markdown shows as text, never as a link, image, HTML or emphasis."""

from __future__ import annotations

from typing import Any

from fhir_builders import AT, ICD, PATIENT_ID, ago, condition, patient
from markdown_it import MarkdownIt

from clotsafe.fhir.cds import PREFETCH, md_escape
from clotsafe.fhir.service import handle

EVIL = "[x](javascript:alert(1))"


def _detail(*resources: dict[str, Any]) -> str:
    pre: dict[str, Any] = {k: {"resourceType": "Bundle", "type": "searchset", "entry": []}
                           for k in PREFETCH}  # fmt: skip
    pre["patient"] = patient()
    pre["conditions"]["entry"] = [{"resource": r} for r in resources]
    body = {"hook": "patient-view", "hookInstance": "h", "prefetch": pre,
            "context": {"patientId": PATIENT_ID}}  # fmt: skip
    return str(handle("clotsafe-patient-view", body, today=AT).response["cards"][0]["detail"])


def _links_and_html(markdown: str) -> list[str]:
    tokens = MarkdownIt("commonmark").enable("table").parse(markdown)
    found = []
    for tok in tokens:
        for child in tok.children or ():
            if child.type in ("link_open", "image", "html_inline"):
                found.append(str(child.attrs.get("href") or child.content))
        if tok.type == "html_block":
            found.append(tok.content)
    return found


def test_a_code_system_holding_a_markdown_link_is_shown_as_text() -> None:
    """An unknown code system ``[x](javascript:…)`` was copied raw into "Not used from the
    record": a clickable javascript: link in the EHR. Now it is escaped text."""
    odd = condition("123", EVIL, rid="c9")
    detail = _detail(odd)
    assert "\\[x\\](javascript:alert(1))" in detail
    assert _links_and_html(detail) == []


def test_a_resource_id_with_markdown_and_line_breaks_stays_on_its_line() -> None:
    """A resource id is listed beside the answer it gave: HTML, emphasis and a line break in it
    neither render nor start a new block."""
    dvt = condition("I82.412", ICD, onset=ago(20), rid="dvt<img src=x onerror=alert(1)>\n# *h*")
    detail = _detail(dvt)
    assert "Condition/dvt\\<img src=x onerror=alert(1)\\> # \\*h\\*" in detail
    assert _links_and_html(detail) == []
    assert "\n# " not in detail


def test_md_escape_leaves_plain_words_and_references_alone() -> None:
    """Ordinary references and words are unchanged (the card stays readable as plain text)."""
    assert md_escape("Condition/dvt, MedicationRequest/warfarin (2026-11-05)") == (
        "Condition/dvt, MedicationRequest/warfarin (2026-11-05)"
    )
    assert md_escape("a|b_c`d") == "a\\|b\\_c\\`d"
