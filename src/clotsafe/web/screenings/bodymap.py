"""The body map: the 21 regions of INTAKE.md on a front and a back outline, coloured by cap.

Shapes are data (x, y, width, height in a 200 x 440 box per view); the template draws them.
Front view: the client faces you, so the client's left is on your right. Back view: the
client's left is on your left. Every region also shows its cap as a number (or ✕ for avoid),
so colour is never the only signal.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from clotsafe.domain.decision import Plan
from clotsafe.domain.regions import REGIONS
from clotsafe.render import present

Box = tuple[int, int, int, int]

#: what a region of an incomplete screening shows: no pressure is allowed yet (POLICY §2)
PENDING_MARK = "–"
PENDING_TEXT = "No massage until the screening is complete"

_TRUNK_FRONT: dict[str, Box] = {
    "head": (78, 8, 44, 52), "neck": (90, 62, 20, 16),
    "chest": (64, 80, 72, 60), "abdomen": (67, 142, 66, 58),
}  # fmt: skip
_TRUNK_BACK: dict[str, Box] = {
    "head": (78, 8, 44, 52), "neck": (90, 62, 20, 16),
    "upper_back": (64, 80, 72, 60), "lower_back": (67, 142, 66, 40), "gluteal": (67, 184, 66, 28),
}  # fmt: skip
_LIMB_VIEWER_LEFT: dict[str, Box] = {
    "upper_arm": (38, 82, 24, 70), "forearm": (32, 155, 24, 64), "hand": (28, 222, 26, 28),
    "thigh": (67, 214, 31, 82), "knee": (69, 299, 27, 24), "calf": (70, 326, 25, 78),
    "foot": (64, 407, 31, 20),
}  # fmt: skip


def _mirror(box: Box) -> Box:
    x, y, w, h = box
    return (200 - x - w, y, w, h)


def _limbs(left_side_on_viewer_left: bool) -> dict[str, Box]:
    out: dict[str, Box] = {}
    for part, box in _LIMB_VIEWER_LEFT.items():
        near, far = ("left", "right") if left_side_on_viewer_left else ("right", "left")
        out[f"{near}_{part}"] = box
        out[f"{far}_{part}"] = _mirror(box)
    return out


VIEWS: dict[str, dict[str, Box]] = {
    "front": {**_TRUNK_FRONT, **_limbs(left_side_on_viewer_left=False)},
    "back": {**_TRUNK_BACK, **_limbs(left_side_on_viewer_left=True)},
}
assert set(VIEWS["front"]) | set(VIEWS["back"]) == set(REGIONS)


@dataclass(frozen=True)
class Shape:
    region: str
    label: str
    cap: int
    avoid: bool
    pending: bool
    x: int
    y: int
    w: int
    h: int

    @property
    def mark(self) -> str:
        if self.pending:
            return PENDING_MARK
        return "✕" if self.avoid else str(self.cap)

    @property
    def cx(self) -> float:
        return self.x + self.w / 2

    @property
    def cy(self) -> float:
        return self.y + self.h / 2 + 4

    @property
    def css(self) -> str:
        if self.pending:
            return "cap-pending"
        return "cap-avoid" if self.avoid else f"cap-{self.cap}"


def body_map(plan: Plan, *, complete: bool = True) -> dict[str, Any]:
    """The map of a plan. Until the screening is complete no region shows any pressure as
    allowed (POLICY §2: an incomplete screening is never a green light): every region is
    marked pending, and the table says so."""
    caps, avoid, pending = plan.pressure_max, plan.avoid, not complete
    views = []
    for name, boxes in VIEWS.items():
        shapes = [Shape(r, present.region_label(r), caps[r], r in avoid or caps[r] == 0, pending,
                        *box) for r, box in boxes.items()]  # fmt: skip
        views.append({"name": name, "title": f"{name.capitalize()} view", "shapes": shapes})
    legend = [{"css": "cap-avoid", "mark": "✕", "text": present.walton(0)}] + [
        {"css": f"cap-{n}", "mark": str(n), "text": present.walton(n)} for n in range(1, 6)
    ]
    if pending:
        legend = [{"css": "cap-pending", "mark": PENDING_MARK, "text": PENDING_TEXT}]
    rows = [{"region": r, "label": present.region_label(r), "cap": caps[r], "avoid": r in avoid,
             "text": _cap_text(caps[r], r in avoid, pending)} for r in REGIONS]  # fmt: skip
    return {"views": views, "legend": legend, "rows": rows, "pending": pending}


def _cap_text(cap: int, avoid: bool, pending: bool) -> str:
    if pending:
        return PENDING_TEXT
    return "avoid (0)" if avoid or cap == 0 else str(cap)
