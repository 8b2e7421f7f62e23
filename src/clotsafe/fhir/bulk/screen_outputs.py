"""What ``bulk screen`` writes into OUT, from the patients' Outcomes (in patient-id order).

* ``decisions.ndjson``: ``{"patient", "decision", "sources"}`` per patient (``"error"`` instead
  of ``decision`` when the record could not be read);
* ``risk-assessments.ndjson``: a FHIR RiskAssessment per screened patient (``fhir/risk.py``);
* ``worklist.csv``: one row per patient, most urgent first, in the presenter's words; the only
  identifier is the patient reference (the file holds patient data all the same);
* ``summary.json`` and ``levels.html`` (a bar chart of the levels as shown, inline SVG, no
  network), and the printed summary (:func:`summary_text`).
"""

from __future__ import annotations

import csv
import html
import sys
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import orjson

from clotsafe import POLICY_VERSION
from clotsafe.fhir.bulk.screen_patient import NOT_SCREENED, Outcome
from clotsafe.render import present

WORKLIST_COLUMNS = ("priority", "patient", "shown as", "what to do", "reasons",
                    "questions the record does not answer")  # fmt: skip
#: the levels as the worklist and chart show them, most urgent first
SHOWN_ORDER = ("not_screened", "emergency", "urgent_referral", "clearance_required",
               "incomplete", "adapt", "standard")  # fmt: skip


@dataclass
class Tally:
    """Counts over every patient, for summary.json."""

    patients: int = 0
    screened: int = 0
    levels: Counter[str] = field(default_factory=Counter)
    shown: Counter[str] = field(default_factory=Counter)
    labels: dict[str, str] = field(default_factory=dict)
    rules: Counter[str] = field(default_factory=Counter)
    unknowns: Counter[str] = field(default_factory=Counter)
    #: per warning code of the reader, the patients whose record held something it names
    not_used: Counter[str] = field(default_factory=Counter)
    complete: int = 0
    policy_versions: set[str] = field(default_factory=set)

    def add(self, info: Mapping[str, Any]) -> None:
        self.patients += 1
        self.shown[info["shown"]] += 1
        self.labels[info["shown"]] = info["shown_label"]
        if info["level"] is None:
            return
        self.screened += 1
        self.levels[info["level"]] += 1
        self.rules.update(info["fired"])
        self.unknowns.update(info["pending"])
        self.not_used.update(info["not_used"])
        self.complete += bool(info["complete"])
        self.policy_versions.add(info["policy_version"])


class OutputWriter:
    """Streams decisions and RiskAssessments; keeps the small worklist rows to sort at the end."""

    def __init__(self, out: Path) -> None:
        out.mkdir(parents=True, exist_ok=True)
        self.out = out
        self._decisions = (out / "decisions.ndjson").open("wb")
        self._risks = (out / "risk-assessments.ndjson").open("wb")
        self.rows: list[WorklistRow] = []
        self.tally = Tally()

    def write(self, outcomes: Iterable[Outcome]) -> int:
        n = 0
        for o in outcomes:
            self._decisions.write(o.line)
            if o.risk:
                self._risks.write(o.risk)
            info = o.info_json()
            self.tally.add(info)
            self.rows.append(worklist_row(o.patient, info))
            n += 1
        return n

    def abort(self) -> None:
        """The screening failed: the files are closed as they are (the summary is not written)."""
        self._decisions.close()
        self._risks.close()

    def close(self) -> None:
        self.abort()
        with (self.out / "worklist.csv").open("w", newline="", encoding="utf-8") as f:
            write_worklist(f, self.rows)


#: one patient's worklist line before numbering: the sort key (urgency, complete, patient),
#: then shown as, headline, reasons, and how many questions to ask
WorklistRow = tuple[int, bool, str, str, str, str, int]


def worklist_row(patient: str, info: Mapping[str, Any]) -> WorklistRow:
    """The few values the worklist shows, as one small tuple: the screening holds one per
    patient until the end (to sort), so not the whole ``info``. The texts repeat from patient
    to patient and are interned (one copy each): memory grows by ~100 bytes a patient."""
    reasons = "; ".join(info["reasons"]) or "no rule of the policy fired"
    return (-int(info["rank"]), bool(info["complete"]), patient,
            sys.intern(info["shown_label"]), sys.intern(info["headline"]), sys.intern(reasons),
            len(info["pending"]))  # fmt: skip


def write_worklist(f: IO[str], rows: list[WorklistRow]) -> None:
    """Most urgent first (not screened, then by level; the incomplete before the complete at
    the same level), then by patient reference; plain words only."""
    w = csv.writer(f)
    w.writerow(WORKLIST_COLUMNS)
    rows.sort(key=lambda r: r[:3])
    for i, (_rank, _complete, patient, shown, headline, reasons, pending) in enumerate(rows, 1):
        ask = f"{pending} (ask them before any massage)" if pending else "none"
        w.writerow((i, patient, shown, headline, reasons, ask))


def summary(tally: Tally, meta: Mapping[str, Any]) -> dict[str, Any]:
    """summary.json: counts per level and rule, the record's unknowns, the export, the policy."""
    # with no patient screened the policy in force is still the engine's
    versions = sorted(tally.policy_versions) or [POLICY_VERSION]
    return {
        "transactionTime": meta.get("transactionTime"),
        "policy_version": versions[0] if len(versions) == 1 else versions,
        "screened_on": meta.get("screened_on"),
        "patients": tally.patients,
        "screened": tally.screened,
        "not_screened": tally.patients - tally.screened,
        "complete": tally.complete,
        "levels": {k: tally.levels[k] for k in sorted(tally.levels)},
        "shown_as": {k: tally.shown[k] for k in SHOWN_ORDER if tally.shown[k]},
        "rules": dict(sorted(tally.rules.items(), key=lambda kv: (-kv[1], kv[0]))),
        "unknowns": dict(sorted(tally.unknowns.items(), key=lambda kv: (-kv[1], kv[0]))),
        "not_used": dict(sorted(tally.not_used.items(), key=lambda kv: (-kv[1], kv[0]))),
        **{k: v for k, v in meta.items() if k not in ("transactionTime", "screened_on")},
    }


def write_summary(out: Path, data: Mapping[str, Any], tally: Tally) -> None:
    (out / "summary.json").write_bytes(orjson.dumps(data, option=orjson.OPT_INDENT_2) + b"\n")
    (out / "levels.html").write_text(chart_html(data, tally), encoding="utf-8")


def _export_words(transaction_time: str | None) -> str:
    return f"export of {transaction_time}" if transaction_time else "export time not given"


def summary_text(data: Mapping[str, Any], tally: Tally) -> str:
    """The printed summary: plain words, question texts rather than ids."""
    lines = [f"Screened {data['screened']:,} of {data['patients']:,} patients on "
             f"{data['screened_on']} ({_export_words(data['transactionTime'])}, policy "
             f"{data['policy_version']})."]  # fmt: skip
    lines.append("Shown as (a screening from a record is never a green light):")
    for key, n in data["shown_as"].items():
        lines.append(f"  {tally.labels.get(key, key)}: {n:,}")
    if data["rules"]:
        fired = ", ".join(f"{r} {n:,}" for r, n in data["rules"].items())
        lines.append(f"Rules that fired: {fired}")
    top = list(data["unknowns"].items())[:5]
    if top:
        lines.append("What the records most often do not say (ask the client):")
        lines += [f"  {present.question_text(q)} ({n:,})" for q, n in top]
    problems = data.get("input", {}).get("malformed", [])
    if problems:
        lines.append(f"{len(problems)} unreadable line(s) were skipped; see summary.json.")
    return "\n".join(lines) + "\n"


_COLOURS = {"not_screened": "#555555", "emergency": "#8b0000", "urgent_referral": "#c0392b",
            "clearance_required": "#d35400", "incomplete": "#7f6a00", "adapt": "#2e6da4",
            "standard": "#2e7d32"}  # fmt: skip


def chart_html(data: Mapping[str, Any], tally: Tally) -> str:
    """A self-contained page: one labelled bar per level as shown (words, not colour alone)."""
    shown = data["shown_as"]
    top = max(shown.values(), default=1)
    bars = []
    for i, (key, n) in enumerate(shown.items()):
        width = 480 * n / top
        label = html.escape(tally.labels.get(key, key) if key != "not_screened" else NOT_SCREENED)
        y = 10 + 40 * i
        bars.append(f'<text x="0" y="{y + 20}">{label}</text>'
                    f'<rect x="330" y="{y}" width="{width:.1f}" height="28" '
                    f'fill="{_COLOURS.get(key, "#444")}"/>'
                    f'<text x="{336 + width:.1f}" y="{y + 20}">{n:,}</text>')  # fmt: skip
    height = 20 + 40 * len(bars)
    title = (f"{data['patients']:,} patients screened from the record on "
             f"{data['screened_on']} (export {data['transactionTime']})")  # fmt: skip
    return (
        "<!doctype html><html lang=en><meta charset=utf-8>"
        f"<title>clotsafe: levels</title><h1>{html.escape(title)}</h1>"
        "<p>A screening from a record is never a green light: the questions the record "
        "does not answer must be asked before any massage.</p>"
        f'<svg role="img" aria-label="patients per level" width="900" height="{height}" '
        f'font-family="sans-serif" font-size="15">{"".join(bars)}</svg></html>\n'
    )
