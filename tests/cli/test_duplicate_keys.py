"""The command line refuses JSON that names a key twice (POLICY 1.1 §8.1, docs/cli.md)."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from clotsafe.cli import main
from tests.domain.test_strictjson import repeat_key
from tests.helpers import intake

#: a red flag answered "yes", then "no": the last one must not win
HIDDEN_RED_FLAG = repeat_key(intake({"rf_breathless": "yes"}), ("answers", "rf_breathless"), "no")


def _run(*args: str, input: bytes | None = None) -> tuple[int, str, str]:
    r = CliRunner().invoke(main, list(args), input=input)
    return r.exit_code, r.stdout, r.stderr


def test_screen_file_refuses_a_repeated_answer(tmp_path: Path) -> None:
    """`clotsafe screen FILE` with a red flag "yes" then "no" exits 1 naming the answer, and
    prints no decision (it is never screened as "standard")."""
    src = tmp_path / "intake.json"
    src.write_bytes(HIDDEN_RED_FLAG)
    code, out, err = _run("screen", str(src))
    assert code == 1 and out == ""
    assert "answers.rf_breathless" in err and "[duplicate_key]" in err
    assert "'rf_breathless'" in err


def test_screen_stdin_json_errors() -> None:
    """`clotsafe screen - --format json` reports the duplicate as a JSON error with its path."""
    code, out, err = _run("screen", "-", "--format", "json", input=HIDDEN_RED_FLAG)
    assert code == 1 and out == ""
    (error,) = json.loads(err)["errors"]
    assert (error["field"], error["code"]) == ("answers.rf_breathless", "duplicate_key")
    assert "'rf_breathless'" in error["message"]


def test_screen_refuses_repeats_in_records_and_dates() -> None:
    """A clot's treatment, a clearance's date or the screening date given twice is refused."""
    clot = {
        "kind": "dvt",
        "site": "left_calf",
        "treatment": "ongoing",
        "diagnosed_on": "2026-11-01",
    }
    with_clot = intake({"clot_ever": "yes", "clots": [clot]})
    clearance = {"rules": ["CLOT-ACTIVE"], "clinician": "Dr A", "date": "2026-11-20"}
    cleared = intake({"clot_ever": "yes", "clots": [clot]}, clearances=[clearance, clearance])
    cases = [
        (
            repeat_key(with_clot, ("answers", "clots", 0, "treatment"), "none"),
            "answers.clots[0].treatment",
        ),
        (repeat_key(cleared, ("clearances", 1, "date"), "2026-11-24"), "clearances[1].date"),
        (repeat_key(intake(), ("screened_on",), "2026-01-01"), "screened_on"),
        (repeat_key(intake(), ("answers",), {}), "answers"),
    ]
    for raw, path in cases:
        code, out, err = _run("screen", "-", input=raw)
        assert (code, out) == (1, ""), path
        assert f"error: {path}: " in err and "[duplicate_key]" in err, path


def test_escaped_key_is_the_same_answer() -> None:
    """ "rf_\\u0062reathless" after "rf_breathless" is the same answer given twice: refused."""
    raw = repeat_key(
        intake({"rf_breathless": "yes"}), ("answers", "rf_breathless"), "no", escaped=True
    )
    code, _, err = _run("screen", "-", input=raw)
    assert code == 1 and "answers.rf_breathless" in err and "duplicate_key" in err


def test_batch_line_with_a_repeat_is_an_error_row_and_the_batch_goes_on(tmp_path: Path) -> None:
    """Batch: the line with a repeated answer gives {"line": N, "error": [duplicate_key]}; the
    lines before and after are still screened in order; exit 1."""
    good = json.dumps(intake())
    src = tmp_path / "in.ndjson"
    src.write_bytes(b"\n".join([good.encode(), HIDDEN_RED_FLAG, good.encode()]) + b"\n")
    code, out, _ = _run("screen", "--batch", str(src))
    rows = [json.loads(x) for x in out.splitlines()]
    assert code == 1 and len(rows) == 3
    assert rows[0]["level"] == "standard" and rows[2]["level"] == "standard"
    assert rows[1]["line"] == 2
    assert [(e["field"], e["code"]) for e in rows[1]["error"]] == [
        ("answers.rf_breathless", "duplicate_key")
    ]


def test_score_refuses_a_repeated_item(tmp_path: Path) -> None:
    """`clotsafe score NAME PATH`: an item given as true then false is refused, not scored."""
    src = tmp_path / "items.json"
    src.write_bytes(b'{"active_cancer": true, "active_cancer": false}')
    code, out, err = _run("score", "padua", str(src))
    assert code == 1 and out == ""
    assert "error: active_cancer: " in err and "'active_cancer'" in err and "duplicate_key" in err


def test_score_not_json_still_says_so() -> None:
    """`clotsafe score` on broken JSON keeps its plain "not valid JSON" message."""
    code, _, err = _run("score", "padua", "-", input=b'{"active_cancer": ')
    assert code == 1 and err.startswith("error: not valid JSON")
