"""``lines`` (the line index of an export file) and ``kept_text`` (the kept lines' text by part),
checked against a reference of a few lines of ``bytes.split``.

A line is the bytes between two ``\\n``, numbered from 1; a ``\\r`` just before the ``\\n`` is
not part of it; a UTF-8 BOM at the very start of the file is not part of line 1; a last line
without ``\\n`` is a line (an empty file, or one ending in ``\\n``, has no extra line).

Protects: ``chunks`` gives exactly the reference lines with their numbers, plain and gzip, with
chunks of 1 to 64 bytes (lines, CRLF endings and the BOM across chunk boundaries; a lone ``\\r``
stays inside its line; empty files, a file that is only a BOM, very long lines); ``pick`` gives
the wanted lines (repeats included), stops reading a plain file after the last one (a gzip
file is read to its end, where a damaged one is ``DamagedFile``), and raises ``OddLine``
for a wanted line past the end, and with ``strict`` for the first line up to the last wanted one
that is blank or does not start with ``{`` (not for one after it); ``first_odd`` is the
reference's; ``kept_text`` gives each part's patients with their lines sorted by file and line,
byte-exact, across flushes, parts and types, and ``drop`` removes a type; a kept line whose file
was truncated before its text was fetched is the ``bulk_input_changed`` error.
"""

from __future__ import annotations

import gzip
import importlib.util
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from clotsafe.fhir.bulk import kept_text, lines
from clotsafe.fhir.bulk.kept_text import KeptText
from clotsafe.fhir.bulk.lines import (
    BOM,
    DamagedFile,
    OddLine,
    Picked,
    chunks,
    first_odd,
    pick,
)
from clotsafe.fhir.bulk.source import ExportFile, Row

#: chunk sizes small enough that lines, CRLF endings and the BOM cross chunk boundaries
SIZES = (1, 2, 3, 7, 64)


# --- the reference ------------------------------------------------------------------------------
def ref_lines(data: bytes) -> list[bytes]:
    """The file's lines by the definition (line n is ``ref_lines(data)[n - 1]``)."""
    if data.startswith(BOM):
        data = data[len(BOM) :]
    parts = data.split(b"\n")
    if parts[-1] == b"":
        parts.pop()  # an empty file, or one ending in "\n": no extra line
    last = len(parts) - 1
    return [
        p[:-1] if p.endswith(b"\r") and (i < last or data.endswith(b"\n")) else p
        for i, p in enumerate(parts)
    ]


def ref_first_odd(data: bytes) -> int | None:
    """The first line (its number) that does not start with ``{``, blank included."""
    return next((n for n, b in enumerate(ref_lines(data), 1) if not b.startswith(b"{")), None)


# --- helpers ------------------------------------------------------------------------------------
def ints(*values: int) -> np.ndarray[Any, Any]:
    return np.array(values, np.int64)


def export_file(directory: Path, data: bytes, *, gz: bool, ordinal: int = 0) -> ExportFile:
    """``data`` as ``Thing.<ordinal>.ndjson[.gz]`` in ``directory``."""
    path = directory / f"Thing.{ordinal}.ndjson{'.gz' if gz else ''}"
    path.write_bytes(gzip.compress(data, mtime=0) if gz else data)
    return ExportFile(path, "Thing", ordinal, gz, ordinal)


def numbered(f: ExportFile) -> list[tuple[int, bytes]]:
    """Every chunk's lines with their numbers, checking the chunks follow one another."""
    out: list[tuple[int, bytes]] = []
    for c in chunks(f):
        assert len(c) > 0 and c.first == len(out) + 1
        out += [(c.first + i, c.line(i)) for i in range(len(c))]
    return out


def picked(f: ExportFile, wanted: np.ndarray[Any, Any], *, strict: bool) -> list[bytes]:
    """What ``pick`` gives, in ``wanted`` order, checking its pieces cover ``wanted`` in turn."""
    out: list[bytes] = []
    for got in pick(f, wanted, strict=strict):
        assert isinstance(got, Picked)
        assert got.lo == len(out) and got.hi > got.lo and len(got.starts) == got.hi - got.lo
        out += [bytes(got.buf[a:b]) for a, b in zip(got.starts, got.ends, strict=True)]
    assert len(out) == len(wanted)
    return out


def by_size(data: bytes, tmp: Path, *, gz: bool) -> dict[int, list[tuple[int, bytes]]]:
    """``numbered`` of the file with each chunk size of ``SIZES``."""
    f = export_file(tmp, data, gz=gz)
    out = {}
    with pytest.MonkeyPatch.context() as mp:
        for size in SIZES:
            mp.setattr(lines, "CHUNK", size)
            out[size] = numbered(f)
    return out


# --- 1. chunks: the edges, each with every chunk size -------------------------------------------
EDGES: dict[str, bytes] = {
    "empty": b"",
    "only-newline": b"\n",
    "two-newlines": b"\n\n",
    "crlf": b'{"a":1}\r\n{"b":2}\r\n',
    "crlf-blank-lines": b"\r\n\r\n{}\r\n",
    "lone-cr-inside": b'{"a":"x\ry"}\n{\r}\n\r{}\n',
    "cr-cr-lf": b"{}\r\r\n{}\n",
    "bom-only": BOM,
    "bom-newline": BOM + b"\n",
    "bom-content": BOM + b'{"a":1}\n{"b":2}',
    "bom-crlf": BOM + b"{}\r\n\r\n",
    "bom-not-at-start": b"{}\n" + BOM + b"{}\n",
    "two-boms": BOM + BOM + b"{}\n",
    "half-a-bom": BOM[:2] + b"{}\n",
    "last-line-without-newline": b"{}\n{}\n{x}",
    "long-lines": b"{" + b"y" * 3000 + b"}\n{}\n{" + b"z" * 500,
    "last-line-ends-in-cr": b"{}\n{}\r",
    "only-cr": b"\r",
}


@pytest.mark.parametrize("gz", [False, True], ids=["plain", "gzip"])
@pytest.mark.parametrize("name", list(EDGES))
def test_chunks_give_the_reference_lines(name: str, gz: bool, tmp_path: Path) -> None:
    """Every chunk size gives the reference's lines, numbered from 1."""
    data = EDGES[name]
    expected = list(enumerate(ref_lines(data), 1))
    assert by_size(data, tmp_path, gz=gz) == dict.fromkeys(SIZES, expected)


def test_the_reference_is_the_definition() -> None:
    """The reference itself on the edges the definition names."""
    assert ref_lines(b"") == [] and ref_lines(BOM) == [] and ref_lines(b"\n") == [b""]
    assert ref_lines(BOM + b"a\r\nb\rc\r\n\r\nd") == [b"a", b"b\rc", b"", b"d"]
    assert ref_lines(b"a\r") == [b"a\r"] and ref_lines(b"a\n" + BOM) == [b"a", BOM]


# --- 1. chunks: any bytes -----------------------------------------------------------------------
#: pieces files are made of: the bytes the line index cares about, and some JSON-ish text
PIECES = st.sampled_from(
    [b"\n", b"\r", b"\r\n", b"{", b"}", b" ", b"a", b'{"k":"v"}', BOM, BOM[:1], b"x" * 40]
)
FILES = st.builds(
    lambda bom, pieces: (BOM if bom else b"") + b"".join(pieces),
    st.booleans(),
    st.lists(PIECES, max_size=30),
) | st.binary(max_size=60)


@settings(max_examples=120, deadline=None)
@given(data=FILES, gz=st.booleans())
def test_chunks_give_the_reference_lines_for_any_bytes(
    data: bytes, gz: bool, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """Any bytes, plain or gzip, any chunk size: the reference's lines."""
    tmp = tmp_path_factory.getbasetemp()
    expected = list(enumerate(ref_lines(data), 1))
    for size, got in by_size(data, tmp, gz=gz).items():
        assert got == expected, size


# --- 2 and 3. pick ------------------------------------------------------------------------------
@st.composite
def files_and_wanted(draw: st.DrawFn) -> tuple[bytes, np.ndarray[Any, Any]]:
    """A file and ascending wanted line numbers of it, with repeats."""
    data = draw(FILES)
    n = len(ref_lines(data))
    if not n:
        return data, np.array([], np.int64)
    numbers = draw(st.lists(st.integers(1, n), min_size=1, max_size=12))
    return data, np.array(sorted(numbers), np.int64)


@settings(max_examples=120, deadline=None)
@given(case=files_and_wanted(), gz=st.booleans(), size=st.sampled_from(SIZES))
def test_pick_gives_the_wanted_lines_and_reads_no_further(
    case: tuple[bytes, np.ndarray[Any, Any]],
    gz: bool,
    size: int,
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    """The lines named (repeats too), in order; no chunk of a plain file after the last wanted
    line is read, and every chunk of a gzip file is (its CRC-32 is at its end)."""
    data, wanted = case
    f = export_file(tmp_path_factory.getbasetemp(), data, gz=gz)
    ref = ref_lines(data)
    read: list[int] = []

    def counted(f: ExportFile) -> Iterator[lines.Chunk]:
        for c in original(f):
            read.append(c.first)
            yield c

    original = lines.chunks
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(lines, "CHUNK", size)
        mp.setattr(lines, "chunks", counted)
        assert picked(f, wanted, strict=False) == [ref[n - 1] for n in wanted]
    if gz:
        assert read == _firsts(f, size)
    else:
        assert all(first <= wanted[-1] for first in read) if len(wanted) else read == []


def _firsts(f: ExportFile, size: int) -> list[int]:
    """The first line of every chunk of the file, read with chunks of ``size`` bytes."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(lines, "CHUNK", size)
        return [c.first for c in chunks(f)]


def test_pick_gives_the_wanted_lines_then_names_a_damaged_gzip_file(tmp_path: Path) -> None:
    """A gzip file with bytes after its stream: the wanted lines come before they are read,
    then the file is named damaged (the bytes might have been more resources)."""
    data = b"".join(b'{"n":%d}\n' % n for n in range(1, 401))
    path = tmp_path / "Thing.1.ndjson.gz"
    path.write_bytes(gzip.compress(data) + b"not gzip at all")
    f = ExportFile(path, "Thing", 1, True, 0)
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(lines, "CHUNK", 64)
        with pytest.raises(DamagedFile, match="is not a gzip file"):
            numbered(f)
        got: list[bytes] = []
        with pytest.raises(DamagedFile, match=r"^Thing\.1\.ndjson\.gz is not a gzip file"):
            for piece in pick(f, np.array([2, 5, 5, 9], np.int64), strict=True):
                got += [
                    bytes(piece.buf[a:b]) for a, b in zip(piece.starts, piece.ends, strict=True)
                ]
        assert got == [b'{"n":2}', b'{"n":5}', b'{"n":5}', b'{"n":9}']


@pytest.mark.parametrize("gz", [False, True], ids=["plain", "gzip"])
def test_a_wanted_line_past_the_end_is_an_odd_line(gz: bool, tmp_path: Path) -> None:
    """The first wanted line after the last line is named (the file changed)."""
    f = export_file(tmp_path, b"{}\n{}\n{}", gz=gz)
    for strict in (False, True):
        with pytest.raises(OddLine, match="past the end") as exc:
            picked(f, np.array([1, 3, 4, 4, 6], np.int64), strict=strict)
        assert exc.value.line == 4
    with pytest.raises(OddLine) as empty:
        picked(export_file(tmp_path, b"", gz=gz), np.array([1], np.int64), strict=False)
    assert empty.value.line == 1


def test_nothing_wanted_reads_nothing_of_a_plain_file(tmp_path: Path) -> None:
    """No wanted line: nothing, even from a file that is not there."""
    f = ExportFile(tmp_path / "gone.ndjson", "Thing", 1, False, 0)
    assert list(pick(f, np.array([], np.int64), strict=True)) == []


def test_nothing_wanted_of_a_gzip_file_still_checks_it_whole(tmp_path: Path) -> None:
    """A gzip file none of whose lines is kept may be damaged where a kept line would be."""
    path = tmp_path / "Thing.1.ndjson.gz"
    path.write_bytes(gzip.compress(b'{"n":1}\n' * 50)[:-20])
    f = ExportFile(path, "Thing", 1, True, 0)
    with pytest.raises(DamagedFile, match="is cut short"):
        list(pick(f, np.array([], np.int64), strict=True))


#: lines that are not records where record numbers must be line numbers
ODD = {"blank": b"", "only-cr": b"\r", "spaces-then-brace": b"  {}", "array": b"[]", "word": b"x"}


@pytest.mark.parametrize("gz", [False, True], ids=["plain", "gzip"])
@pytest.mark.parametrize("odd", list(ODD))
def test_strict_pick_raises_at_the_first_odd_line_up_to_the_last_wanted(
    odd: str, gz: bool, tmp_path: Path
) -> None:
    """An odd line 4 of 8 (CRLF): raised for wanted lines reaching it, not for ones before."""
    rows = [b'{"n":%d}' % n for n in range(1, 9)]
    rows[3] = ODD[odd]
    f = export_file(tmp_path, b"\r\n".join(rows) + b"\r\n", gz=gz)
    with pytest.MonkeyPatch.context() as mp:
        for size in SIZES:
            mp.setattr(lines, "CHUNK", size)
            for wanted in ([4], [1, 4], [2, 8], [8]):
                with pytest.raises(OddLine, match="does not start with") as exc:
                    picked(f, np.array(wanted, np.int64), strict=True)
                assert exc.value.line == 4, (size, wanted)
            assert picked(f, np.array([1, 3, 3], np.int64), strict=True) == [
                rows[0],
                rows[2],
                rows[2],
            ]
            assert picked(f, np.array([4, 8], np.int64), strict=False) == [rows[3], rows[7]]


@settings(max_examples=120, deadline=None)
@given(case=files_and_wanted(), gz=st.booleans(), size=st.sampled_from(SIZES))
def test_strict_pick_agrees_with_the_reference(
    case: tuple[bytes, np.ndarray[Any, Any]],
    gz: bool,
    size: int,
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    """Raised iff the reference has an odd line up to the last wanted one; that line named."""
    data, wanted = case
    f = export_file(tmp_path_factory.getbasetemp(), data, gz=gz)
    odd = ref_first_odd(data)
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(lines, "CHUNK", size)
        if len(wanted) and odd is not None and odd <= wanted[-1]:
            with pytest.raises(OddLine) as exc:
                picked(f, wanted, strict=True)
            assert exc.value.line == odd
        else:
            ref = ref_lines(data)
            assert picked(f, wanted, strict=True) == [ref[n - 1] for n in wanted]


# --- 4. first_odd -------------------------------------------------------------------------------
@settings(max_examples=120, deadline=None)
@given(data=FILES, gz=st.booleans(), size=st.sampled_from(SIZES))
def test_first_odd_agrees_with_the_reference(
    data: bytes, gz: bool, size: int, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """The first line that is blank or does not start with ``{``, or None."""
    f = export_file(tmp_path_factory.getbasetemp(), data, gz=gz)
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(lines, "CHUNK", size)
        assert first_odd(f) == ref_first_odd(data)


# --- 5. kept_text -------------------------------------------------------------------------------
Kept = list[tuple[int, int, int, bytes]]  # patient number, file, line, text


def write_kept(store: KeptText, kind: str, files: list[tuple[ExportFile, list[int]]],
               pnos: dict[tuple[int, int], int]) -> Kept:  # fmt: skip
    """Each file's wanted lines (ascending) through ``pick`` into ``kind``'s writer; the rows
    expected back (``pnos``: each (file, line)'s patient)."""
    writer = store.writer(kind)
    expected: Kept = []
    for f, numbers in files:
        wanted = np.array(numbers, np.int64)
        owners = np.array([pnos[f.ordinal, n] for n in numbers], np.int64)
        for got in pick(f, wanted, strict=False):
            got_lines = wanted[got.lo : got.hi]
            writer.add(owners[got.lo : got.hi], f.ordinal, got_lines, got)
        ref = ref_lines(f.path.read_bytes() if not f.gzipped else gzip.decompress(
            f.path.read_bytes()))  # fmt: skip
        expected += [(pnos[f.ordinal, n], f.ordinal, n, ref[n - 1]) for n in numbers]
    writer.flush()
    return expected


def read_back(store: KeptText, parts: int) -> Kept:
    """Every part's rows as ``part`` gives them, checking the grouping by patient."""
    out: Kept = []
    for part in range(parts):
        seen: list[int] = []
        for pno, rows in store.part(part):
            assert rows and pno // store.part_patients == part
            seen.append(pno)
            for r in rows:
                assert isinstance(r, Row) and isinstance(r.raw, bytes)
                out.append((pno, r.file, r.line, r.raw))
        assert seen == sorted(set(seen))
    return out


LINE_TEXT = st.lists(PIECES.filter(lambda p: p not in (b"\n", b"\r")), max_size=6).map(
    lambda ps: b"{" + b"".join(ps)
)


@st.composite
def kept_case(draw: st.DrawFn) -> tuple[list[list[bytes]], dict[tuple[int, int], int], int]:
    """Files' lines, each line's patient number, and the patients per part."""
    files = draw(st.lists(st.lists(LINE_TEXT, min_size=1, max_size=15), min_size=1, max_size=4))
    pnos = {
        (ordinal, n): draw(st.integers(0, 11))
        for ordinal, rows in enumerate(files)
        for n in range(1, len(rows) + 1)
    }
    return files, pnos, draw(st.integers(1, 5))


@settings(max_examples=80, deadline=None)
@given(
    case=kept_case(),
    flush=st.sampled_from([1, 40, 1 << 20]),
    size=st.sampled_from([3, 64]),
    data=st.data(),
)
def test_kept_text_gives_each_part_sorted_by_patient_file_and_line(
    case: tuple[list[list[bytes]], dict[tuple[int, int], int], int],
    flush: int,
    size: int,
    data: st.DataObject,
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    """Two types' lines, written in pieces across flushes and parts, read back part by part in
    (patient, file, line) order, byte-exact; dropping one type leaves the other's."""
    contents, pnos, per_part = case
    tmp = tmp_path_factory.mktemp("kept")
    files = [
        export_file(tmp, b"\r\n".join(rows) + b"\n", gz=i % 2 == 1, ordinal=i)
        for i, rows in enumerate(contents)
    ]
    chosen = [
        (f, sorted(data.draw(st.lists(st.integers(1, len(rows)), max_size=10))))
        for f, rows in zip(files, contents, strict=True)
    ]
    split = data.draw(st.integers(0, len(chosen)))  # the files of type A, then of type B
    store = KeptText(tmp / "text", per_part)
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(kept_text, "FLUSH_BYTES", flush)
        mp.setattr(lines, "CHUNK", size)
        a = write_kept(store, "A", chosen[:split], pnos)
        b = write_kept(store, "B", chosen[split:], pnos)
    parts = 12 // per_part + 1
    assert read_back(store, parts) == sorted(a + b, key=lambda r: r[:3])
    store.drop("A")
    assert not store.has("A") and store.has("B")
    assert read_back(store, parts) == sorted(b, key=lambda r: r[:3])


def test_kept_text_merges_two_types_of_one_part(tmp_path: Path) -> None:
    """Patient 1's Conditions (file 2) come after their Encounters (file 0), patient 0 first,
    whatever the order written; a part with no line gives nothing."""
    store = KeptText(tmp_path / "text", 10)
    encounters = export_file(tmp_path, b'{"e":1}\n{"e":2}\r\n{"e":3}', gz=False, ordinal=0)
    conditions = export_file(tmp_path, b'{"c":1}\n{"c":\r2}\n', gz=True, ordinal=2)
    pnos = {(2, 1): 1, (2, 2): 0, (0, 1): 1, (0, 2): 0, (0, 3): 1}
    write_kept(store, "Condition", [(conditions, [1, 2])], pnos)
    write_kept(store, "Encounter", [(encounters, [1, 2, 3])], pnos)
    assert list(store.part(0)) == [
        (0, (Row(0, 2, b'{"e":2}'), Row(2, 2, b'{"c":\r2}'))),
        (1, (Row(0, 1, b'{"e":1}'), Row(0, 3, b'{"e":3}'), Row(2, 1, b'{"c":1}'))),
    ]
    assert list(store.part(1)) == []


def test_kept_text_from_picked_pieces_written_across_flushes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Hand-made pieces over one buffer, flushed after each add, two parts: offsets hold."""
    monkeypatch.setattr(kept_text, "FLUSH_BYTES", 1)
    buf = b"AAA|BB|CCCC|D|"
    store = KeptText(tmp_path / "text", 2)
    writer = store.writer("T")

    def piece(spans: list[tuple[int, int]]) -> Picked:
        starts = np.array([s for s, _ in spans], np.int64)
        return Picked(0, len(spans), buf, starts, np.array([e for _, e in spans], np.int64))

    writer.add(ints(3, 0), 5, ints(1, 2), piece([(0, 3), (4, 6)]))
    writer.add(ints(2, 3), 5, ints(3, 4), piece([(7, 11), (12, 13)]))
    writer.add(ints(3), 4, ints(9), piece([(4, 6)]))
    writer.flush()
    assert list(store.part(0)) == [(0, (Row(5, 2, b"BB"),))]
    assert list(store.part(1)) == [
        (2, (Row(5, 3, b"CCCC"),)),
        (3, (Row(4, 9, b"BB"), Row(5, 1, b"AAA"), Row(5, 4, b"D"))),
    ]


# --- 6. the engine: a file truncated between numbering and fetching -----------------------------
needs_duckdb = pytest.mark.skipif(
    importlib.util.find_spec("duckdb") is None,
    reason="bulk screen needs the bulk extra (pip install -e '.[bulk]')",
)


def _tiny_export(directory: Path) -> Path:
    """Two patients, a DVT each (Condition lines 2 and 3 after a blank line 1: general plan)."""
    from test_bulk_screen_support import write_export

    coding = {"system": "http://snomed.info/sct", "code": "128053003"}
    status = {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/condition-clinical",
                          "code": "active"}]}  # fmt: skip
    resources = [
        *({"resourceType": "Patient", "id": p, "gender": "female", "birthDate": "1960-05-01"}
          for p in ("p1", "p2")),
        *({"resourceType": "Condition", "id": f"c{n}", "clinicalStatus": status,
           "code": {"coding": [coding]}, "subject": {"reference": f"Patient/p{n}"},
           "onsetDateTime": "2026-11-05"} for n in (1, 2)),
    ]  # fmt: skip
    write_export(directory, resources)
    path = directory / "Condition.1.ndjson"
    path.write_bytes(b"\n" + path.read_bytes())
    return directory


@needs_duckdb
def test_a_kept_line_truncated_away_before_its_text_is_fetched_is_input_changed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The Condition file cut after line 2 once its lines were numbered: bulk_input_changed,
    naming line 3; untouched, the same export gives both Conditions' text."""
    from clotsafe.fhir.bulk.errors import BulkError
    from clotsafe.fhir.bulk.screen_duckdb import DuckDbEngine
    from clotsafe.fhir.bulk.source import export_files

    directory = _tiny_export(tmp_path / "export")
    path = directory / "Condition.1.ndjson"
    engine = DuckDbEngine(export_files(directory), temp_directory=tmp_path / "duck")
    try:
        engine.prepare()
        assert "Condition" not in engine.texts  # the general plan, so ``_write_kept``
        kept = {g.patient: [(r.line, orjson.loads(r.raw)["id"]) for r in g.rows
                            if orjson.loads(r.raw)["resourceType"] == "Condition"]
                for g in engine.groups()}  # fmt: skip
        assert kept == {"p1": [(2, "c1")], "p2": [(3, "c2")]}
    finally:
        engine.close()

    engine = DuckDbEngine(export_files(directory), temp_directory=tmp_path / "duck")
    write_kept = engine._write_kept

    def truncated_first(t: str) -> None:
        if t == "Condition":
            path.write_bytes(b"\n".join(path.read_bytes().split(b"\n")[:2]) + b"\n")
        write_kept(t)

    monkeypatch.setattr(engine, "_write_kept", truncated_first)
    try:
        with pytest.raises(BulkError) as exc:
            engine.prepare()
    finally:
        engine.close()
    assert exc.value.code == "bulk_input_changed"
    assert "Condition" in exc.value.message and "line 3" in exc.value.message
