"""The lines of an export file, found by the bytes: what ``bulk screen`` numbers and fetches.

An NDJSON line is the bytes between two ``\\n``, numbered from 1 (a ``\\r`` just before the
``\\n`` is not part of it, a UTF-8 byte-order mark is not part of line 1, and a last line
without ``\\n`` is a line). Every line number of the DuckDB engine is this one: the lines the
general plan parses come from here, and the schema-read plan's record numbers are used only
when every line up to the last one used starts with ``{`` (then record *n* is line *n*:
DuckDB's ``read_json`` refuses two records on a line and a record over two lines; tests in
``tests/fhir/bulk/test_bulk_lines.py``).

A plain file is mapped (``mmap``) and its newlines found with numpy, window after window, at
several GB/s: nothing is copied but the lines asked for, and each window's pages are given back
once read, so the process does not grow with the file. A gzip file is inflated in blocks, and
always to its end: a file cut short, not gzip, or whose inflated bytes fail its CRC-32 is
:class:`DamagedFile` (it may hide any number of resources; DuckDB does not check the CRC).
"""

from __future__ import annotations

import gzip
import mmap
import os
import threading
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from clotsafe.fhir.bulk.source import ExportFile

#: bytes looked at (or inflated) at a time
CHUNK = 8 << 20
#: bytes compared at a time within a chunk (a core's L2 cache or less)
WINDOW = 512 << 10
BOM = b"\xef\xbb\xbf"
_NL = 10
_CR = 13
_BRACE = ord("{")

Ints = npt.NDArray[np.int64]


@dataclass(frozen=True, slots=True)
class Chunk:
    """Whole lines of a file: line ``first + i`` is ``buf[starts[i]:ends[i]]``. ``buf`` is
    valid only while the iteration that gave the chunk is at it."""

    buf: Any  # bytes, or the file's mmap
    first: int
    starts: Ints
    ends: Ints

    def __len__(self) -> int:
        return len(self.starts)

    def odd(self) -> int | None:
        """The first line (its number) that does not start with ``{``, blank lines included."""
        view = np.frombuffer(self.buf, np.uint8)
        heads = view[np.minimum(self.starts, len(view) - 1)]
        bad = np.flatnonzero((self.starts >= self.ends) | (heads != _BRACE))
        return int(self.first + bad[0]) if len(bad) else None

    def line(self, i: int) -> bytes:
        return bytes(self.buf[int(self.starts[i]) : int(self.ends[i])])


def chunks(f: ExportFile) -> Iterator[Chunk]:
    """The file's lines, chunk after chunk, in order."""
    if f.gzipped:
        yield from _inflated(f)
        return
    with f.path.open("rb") as fh:
        size = os.fstat(fh.fileno()).st_size
        if size == 0:
            return
        with mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ) as mm:
            yield from _mapped(mm, size)


def _mapped(mm: mmap.mmap, size: int) -> Iterator[Chunk]:
    start = len(BOM) if mm[: len(BOM)] == BOM else 0  # where the next line starts
    first, pos, released = 1, start, 0
    while pos < size:
        end = min(pos + CHUNK, size)
        nl = _newlines(mm, pos, end)
        if len(nl):
            yield _chunk(mm, first, start, nl)
            first, start = first + len(nl), int(nl[-1]) + 1
        pos = end
        released = _release(mm, released, start)
    if start < size:
        yield _chunk(mm, first, start, np.array([size], np.int64), eof=True)


def _newlines(buf: Any, pos: int, end: int) -> Ints:
    """The positions of the newlines in ``buf[pos:end]``, found :data:`WINDOW` bytes at a time
    into one reused bool array, which then stays in the core's cache between the comparison
    and ``flatnonzero`` (an 8 MB array at once went out to memory and back: 1.29-1.34 against
    1.04-1.12 CPU-s for a 10,000-patient export's 1.8 GB; benchmarks/bulk/README.md, session
    9)."""
    view = np.frombuffer(buf, np.uint8, end - pos, pos)
    bools = _bools()
    found = []
    for a in range(0, len(view), WINDOW):
        window = view[a : a + WINDOW]
        nl = np.flatnonzero(np.equal(window, _NL, out=bools[: len(window)]))
        nl += pos + a
        found.append(nl)
    return np.concatenate(found).astype(np.int64, copy=False) if found else _NONE


_NONE = np.empty(0, np.int64)
_scratch = threading.local()


def _bools() -> npt.NDArray[np.bool_]:
    """The comparison's output, one per thread (the text thread and the caller's)."""
    have: npt.NDArray[np.bool_] | None = getattr(_scratch, "bools", None)
    if have is None:
        have = _scratch.bools = np.empty(WINDOW, np.bool_)
    return have


def _chunk(buf: Any, first: int, start: int, nl: Ints, *, eof: bool = False) -> Chunk:
    """The lines ending at the newlines ``nl`` (or the last line, ending at the end of the
    file: ``eof``), the first of them starting at ``start``; a ``\\r`` before a newline is
    not part of its line."""
    starts = np.empty(len(nl), np.int64)
    starts[0] = start
    starts[1:] = nl[:-1] + 1
    if eof:
        return Chunk(buf, first, starts, nl)
    view = np.frombuffer(buf, np.uint8)
    cr = (nl > starts) & (view[np.maximum(nl - 1, 0)] == _CR)
    return Chunk(buf, first, starts, nl - cr)


def _release(mm: mmap.mmap, released: int, upto: int) -> int:
    """Give back the mapped pages before ``upto`` (read): the page cache keeps them, the
    process's resident size does not count them."""
    page = (upto // mmap.PAGESIZE) * mmap.PAGESIZE
    if page > released and hasattr(mm, "madvise"):
        mm.madvise(mmap.MADV_DONTNEED, released, page - released)
        return page
    return released


#: how a gzip file is damaged, in words (after its name), whichever engine found it
CUT_SHORT = "is cut short: its gzip data ends early"
NOT_GZIP = "is not a gzip file (or has bytes after its gzip data)"
BAD_CHECK = "is damaged: what it inflates to fails its gzip check (CRC-32)"
CANNOT_INFLATE = "is damaged: its gzip data cannot be inflated"


class DamagedFile(Exception):
    """A gzip file that cannot be read to its end; ``what`` says how, in words."""

    def __init__(self, name: str, what: str) -> None:
        super().__init__(f"{name} {what}")


def _inflated(f: ExportFile) -> Iterator[Chunk]:
    try:
        yield from _inflated_blocks(f)
    except EOFError as exc:
        raise DamagedFile(f.name, CUT_SHORT) from exc
    except gzip.BadGzipFile as exc:
        # Python's words: "Not a gzipped file" (also bytes after the last gzip member), or a
        # CRC-32 or length check that failed at the end of a member
        raise DamagedFile(f.name, NOT_GZIP if "Not a gzipped" in str(exc) else BAD_CHECK) from exc
    except zlib.error as exc:
        raise DamagedFile(f.name, CANNOT_INFLATE) from exc


def _inflated_blocks(f: ExportFile) -> Iterator[Chunk]:
    first = 1
    with gzip.GzipFile(f.path, "rb") as fh:
        carry = _after_bom(fh)
        while True:
            block = fh.read(CHUNK)
            buf = carry + block if carry else block
            nl = _newlines(buf, 0, len(buf))
            if len(nl):
                yield _chunk(buf, first, 0, nl)
                first += len(nl)
                carry = buf[int(nl[-1]) + 1 :]
            else:
                carry = buf
            if not block:
                break
    if carry:
        yield _chunk(carry, first, 0, np.array([len(carry)], np.int64), eof=True)


def _after_bom(fh: gzip.GzipFile) -> bytes:
    """The stream's first bytes, unless they are a byte-order mark (read whole: a block may
    end inside one)."""
    head = b""
    while len(head) < len(BOM) and (more := fh.read(len(BOM) - len(head))):
        head += more
    return b"" if head == BOM else head


def first_odd(f: ExportFile) -> int | None:
    """The first line of the file that does not start with ``{`` (blank included), or None."""
    for c in chunks(f):
        if (n := c.odd()) is not None:
            return n
    return None


class OddLine(Exception):
    """A line that does not start with ``{`` where record numbers must be line numbers, or a
    wanted line past the end of the file (the file changed since it was numbered)."""

    def __init__(self, line: int, message: str = "does not start with '{'") -> None:
        super().__init__(f"line {line} {message}")
        self.line = line


@dataclass(frozen=True, slots=True)
class Picked:
    """``wanted[lo:hi]``'s lines: ``buf[starts[k]:ends[k]]`` (valid while iterating)."""

    lo: int
    hi: int
    buf: Any
    starts: Ints
    ends: Ints


def pick(f: ExportFile, wanted: Ints, *, strict: bool) -> Iterator[Picked]:
    """The lines ``wanted`` names (line numbers, ascending, repeats allowed), chunk by chunk.

    With ``strict``, every line up to the last wanted one must start with ``{``
    (:class:`OddLine` otherwise): record numbers were taken for line numbers up to there.
    Reading a plain file stops after the last wanted line; a gzip file is read to its end
    (nothing wanted too), where its CRC-32 is checked (:class:`DamagedFile`).
    """
    done = 0
    if len(wanted) and wanted[0] < 1:
        raise ValueError(f"line numbers start at 1, not {wanted[0]}")
    if not len(wanted) and not f.gzipped:
        return
    for c in chunks(f):
        if done == len(wanted):
            continue  # a gzip file after the last wanted line: inflated to its end, unused
        if strict and (n := c.odd()) is not None and n <= wanted[-1]:
            raise OddLine(n)
        stop = int(np.searchsorted(wanted, c.first + len(c), side="left"))
        if stop > done:
            at = wanted[done:stop] - c.first
            yield Picked(done, stop, c.buf, c.starts[at], c.ends[at])
        done = stop
        if done == len(wanted) and not f.gzipped:
            return
    if done < len(wanted):
        raise OddLine(int(wanted[done]), "is past the end of the file")


__all__ = ["Chunk", "DamagedFile", "OddLine", "Picked", "chunks", "first_odd", "pick"]
