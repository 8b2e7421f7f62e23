"""`clotsafe screen --batch --workers N`: the same output as one process, in input order, with
errors per line, and never more than a few blocks of the input in memory."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator

import orjson
from click.testing import CliRunner

from clotsafe.cli import main, run_batch
from clotsafe.rules import DEFAULT_SETTINGS
from clotsafe.rules.fastbatch import BatchStats, screen_ndjson
from tests.helpers import intake

ANSWERS = ({}, {"rf_faint": "unsure"}, {"varicose": "yes"}, {"age": 80, "bmi": 31},
           {"anticoagulant": "yes", "rf_unusual_bleeding": "yes"})  # fmt: skip


def _lines(n: int) -> list[bytes]:
    """n intakes, every 7th line broken in a way that names the line."""
    out = []
    for i in range(n):
        line = orjson.dumps(intake({**ANSWERS[i % len(ANSWERS)], "age": 20 + i % 70}))
        if i % 7 == 3:
            line = line.replace(b'"age":', b'"age":"old","x":', 1)
        out.append(line)
    return out


def _batch(lines: list[bytes], **kw: object) -> tuple[bytes, int, BatchStats]:
    out = io.BytesIO()
    stats = BatchStats()
    src = io.BytesIO(b"\n".join(lines) + b"\n")
    failed = run_batch(src, out, DEFAULT_SETTINGS, progress=False, stats=stats, **kw)  # type: ignore[arg-type]
    return out.getvalue(), failed, stats


def test_two_workers_write_what_one_writes() -> None:
    """workers=2 gives byte for byte the output of workers=1 (and of the reference path),
    over several blocks, so the order of the input is kept."""
    lines = _lines(1200)
    one, failed1, _ = _batch(lines)
    two, failed2, stats = _batch(lines, workers=2)
    ref, _, _ = _batch(lines, fast=False)
    assert two == one == ref
    assert failed1 == failed2 == stats.failed == sum(1 for i in range(1200) if i % 7 == 3)
    assert stats.intakes == 1200


def test_each_bad_line_is_reported_at_its_line() -> None:
    """A bad line gives {"line": n, "error": [...]} at its own place; the rest are decisions."""
    out, _, _ = _batch(_lines(30), workers=2)
    rows = [json.loads(x) for x in out.splitlines()]
    assert len(rows) == 30
    for i, row in enumerate(rows):
        if i % 7 == 3:
            assert row["line"] == i + 1
            assert {e["field"] for e in row["error"]} == {"answers.age", "answers.x"}
        else:
            assert "level" in row


def test_in_flight_blocks_are_bounded() -> None:
    """The workers never read far ahead: when the first block comes back, at most
    2 × workers + 1 blocks of the input have been read (memory stays flat)."""
    read = 0

    def source() -> Iterator[bytes]:
        nonlocal read
        for line in _lines(40) * 50:
            read += 1
            yield line

    blocks = screen_ndjson(source(), DEFAULT_SETTINGS, workers=2, chunk=20)
    next(blocks)
    assert read <= (2 * 2 + 1) * 20
    rest = sum(len(b.splitlines()) for b, _ in blocks)
    assert rest == 2000 - 20


def test_cli_workers_and_stats(tmp_path: object) -> None:
    """`--workers 2 --stats`: decisions on stdout, the counters as one JSON line on stderr."""
    data = b"\n".join(_lines(15)) + b"\n"
    r = CliRunner().invoke(main, ["screen", "--batch", "--workers", "2", "--stats", "-"],
                           input=data)  # fmt: skip
    assert r.exit_code == 1  # two broken lines
    assert len(r.stdout.splitlines()) == 15
    stats = json.loads(r.stderr.strip().splitlines()[-1])["stats"]
    assert stats["intakes"] == 15 and stats["failed"] == 2
    assert stats["parsed_fast"] + stats["parsed_reference"] == 15
