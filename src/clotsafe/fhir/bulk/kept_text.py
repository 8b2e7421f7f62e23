"""The kept lines' text on disk, by type and part of the patients, read back one part at a time.

``bulk screen`` keeps only the lines the EHR reader could use (a few per cent of an export), but
hands them over patient by patient, while the files hold them type by type. The text is written
as it is found, each line to the part of its patient (``patient number // part size``):
``<dir>/<Type>/<part>.txt`` (the lines one after the other) and ``<part>.idx`` (per line: patient
number, file, line, offset, length). Reading a part back sorts its lines of every type by
patient number, file and line (file numbers are in export order), so one part's text is in
memory at a time, whatever the size of the export; a type's text can be dropped whole (when
its record numbers turn out not to be line numbers).
"""

from __future__ import annotations

import mmap
import os
import shutil
from collections.abc import Iterator
from contextlib import ExitStack, nullcontext
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from clotsafe.fhir.bulk.lines import Ints, Picked
from clotsafe.fhir.bulk.source import PatientGroup, Row

#: bytes of text buffered before every part's buffer is appended to its files
FLUSH_BYTES = 16 << 20
_FIELDS = 5  # patient number, file, line, offset, length


class TypeWriter:
    """One type's kept lines, buffered per part and appended to the part's files."""

    def __init__(self, folder: Path, part_patients: int) -> None:
        self.folder = folder
        self.part_patients = part_patients
        self.index: dict[int, list[Ints]] = {}
        self.text: dict[int, list[bytes]] = {}
        self.sizes: dict[int, int] = {}
        self.buffered = 0
        # a type's text is written by one writer: what an earlier one left is not its own
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir(parents=True)

    def add(self, pnos: Ints, file: int, lines: Ints, got: Picked) -> None:
        """The lines ``got`` (of patients ``pnos``, line numbers ``lines``), by part."""
        parts = pnos // self.part_patients
        order = np.argsort(parts, kind="stable")
        cuts = np.flatnonzero(np.diff(parts[order])) + 1
        with memoryview(got.buf) as view:
            for group in np.split(order, cuts):
                self._add_part(int(parts[group[0]]), view, got, group,
                               np.column_stack((pnos[group], np.full(len(group), file),
                                                lines[group])))  # fmt: skip
        if self.buffered >= FLUSH_BYTES:
            self.flush()

    def _add_part(self, part: int, view: memoryview, got: Picked, group: Ints,
                  head: Ints) -> None:  # fmt: skip
        starts, ends = got.starts[group], got.ends[group]
        text = b"".join([view[a:b] for a, b in zip(starts.tolist(), ends.tolist(), strict=True)])
        lengths = ends - starts
        offsets = self.sizes.get(part, 0) + np.cumsum(lengths) - lengths
        self.index.setdefault(part, []).append(np.column_stack((head, offsets, lengths)))
        self.text.setdefault(part, []).append(text)
        self.sizes[part] = self.sizes.get(part, 0) + len(text)
        self.buffered += len(text)

    def flush(self) -> None:
        for part, rows in self.index.items():
            with (self.folder / f"{part}.txt").open("ab") as fh:
                fh.writelines(self.text[part])  # no joined copy of the buffered pieces
            with (self.folder / f"{part}.idx").open("ab") as fh:
                fh.write(np.concatenate(rows).astype(np.int64).tobytes())
        self.index.clear()
        self.text.clear()
        self.buffered = 0


class KeptText:
    """Every type's kept lines under ``directory``; see the module docstring."""

    def __init__(self, directory: Path, part_patients: int) -> None:
        self.directory = directory
        self.part_patients = part_patients

    def writer(self, kind: str) -> TypeWriter:
        return TypeWriter(self.directory / kind, self.part_patients)

    def drop(self, kind: str) -> None:
        shutil.rmtree(self.directory / kind, ignore_errors=True)

    def has(self, kind: str) -> bool:
        return (self.directory / kind).is_dir()

    def part(self, part: int, lo: int = 0, hi: int | None = None
             ) -> Iterator[tuple[int, tuple[Row, ...]]]:  # fmt: skip
        """Each patient of the part (by number; only ``lo`` <= number < ``hi`` when given)
        with their lines, sorted by file and line. The text files are mapped, so a range
        reads only its own lines."""
        indexes: list[Ints] = []
        texts: list[Any] = []
        with ExitStack() as stack:
            for idx in sorted(self.directory.glob(f"*/{part}.idx")):
                rows = np.fromfile(idx, np.int64).reshape(-1, _FIELDS)
                if hi is not None:
                    rows = rows[(rows[:, 0] >= lo) & (rows[:, 0] < hi)]
                if not len(rows):
                    continue
                source = np.full((len(rows), 1), len(texts), np.int64)
                indexes.append(np.hstack((rows, source)))
                texts.append(stack.enter_context(_mapped(idx.with_suffix(".txt"))))
            if indexes:
                yield from _patients(np.concatenate(indexes), texts)


@dataclass(frozen=True)
class PatientRange:
    """Patients ``lo`` .. ``lo + len(ids) - 1`` (by number) of one part, with their ids: small
    enough to send to a worker, which reads their lines itself (:meth:`groups`)."""

    directory: Path
    part_patients: int
    part: int
    lo: int
    ids: tuple[str, ...]

    def groups(self) -> Iterator[PatientGroup]:
        store = KeptText(self.directory, self.part_patients)
        for pno, rows in store.part(self.part, self.lo, self.lo + len(self.ids)):
            yield PatientGroup(self.ids[pno - self.lo], rows)


def _mapped(path: Path) -> Any:
    """The file's bytes, mapped (a context manager; an empty file cannot be mapped)."""
    with path.open("rb") as fh:
        if not os.fstat(fh.fileno()).st_size:
            return nullcontext(b"")
        return mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ)


def _patients(rows: Ints, texts: list[Any]) -> Iterator[tuple[int, tuple[Row, ...]]]:
    rows = rows[np.lexsort((rows[:, 2], rows[:, 1], rows[:, 0]))]
    cuts = (np.flatnonzero(np.diff(rows[:, 0])) + 1).tolist()
    pnos, files, lines, offsets, lengths, sources = rows.T.tolist()
    for lo, hi in zip([0, *cuts], [*cuts, len(rows)], strict=True):
        yield pnos[lo], tuple([
            Row(files[i], lines[i], texts[sources[i]][offsets[i] : offsets[i] + lengths[i]])
            for i in range(lo, hi)
        ])  # fmt: skip


__all__ = ["KeptText", "PatientRange", "TypeWriter"]
