"""The DuckDB engine keeps every medicine line the reader reads by name (docs/fhir.md,
"Medicines by name"): the candidates' regular expression and ``keep_sql``'s ``instr`` each
hold every text the reader's whole-word match takes, run in DuckDB itself."""

from __future__ import annotations

import importlib.util
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from clotsafe.fhir.bulk.source_codes import code_rows
from clotsafe.fhir.codes import code_lists

pytestmark = pytest.mark.skipif(
    importlib.util.find_spec("duckdb") is None,
    reason="bulk screen needs the bulk extra (pip install -e '.[bulk]')",
)

NAMES = sorted(code for kind, _s, code in code_rows() if kind == "drug_name")


@pytest.fixture(scope="module")
def con() -> Any:
    import duckdb

    from clotsafe.fhir.bulk.screen_views import _holds_name, _names_pattern

    c = duckdb.connect()
    c.execute("CREATE TABLE codes (kind VARCHAR, system VARCHAR, code VARCHAR)")
    c.executemany("INSERT INTO codes VALUES (?, ?, ?)", list(code_rows()))
    c.execute("CREATE TABLE v (text VARCHAR, display VARCHAR)")
    keep = (
        f"SELECT count(*) FROM v JOIN codes n ON n.kind = 'drug_name' AND {_holds_name('v', 'n')}"
    )
    candidate = (
        f"SELECT count(*) FROM v WHERE regexp_matches(v.text, {_names_pattern()}, 'i') "
        f"OR regexp_matches(v.display, {_names_pattern()}, 'i')"
    )
    return c, keep, candidate


@settings(max_examples=150, deadline=None)
@given(
    st.lists(
        st.one_of(
            st.sampled_from(NAMES),
            st.sampled_from([n.upper() for n in NAMES]),
            st.text(max_size=5),
            st.sampled_from([" ", "[", "-", "ſ", "K", "İ"]),
        ),
        max_size=5,
    ),
    st.booleans(),
)
def test_every_text_the_reader_reads_by_name_is_kept(
    con: Any, parts: list[str], as_display: bool
) -> None:
    text = "".join(parts)
    if code_lists().drug_named(text) is None:
        return
    db, keep, candidate = con
    db.execute("DELETE FROM v")
    db.execute("INSERT INTO v VALUES (?, ?)", (None, text) if as_display else (text, None))
    assert db.execute(candidate).fetchone()[0] == 1, text
    assert db.execute(keep).fetchone()[0] >= 1, text
