"""Body regions, region groups and distal order (INTAKE.md "Body regions")."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

REGIONS: tuple[str, ...] = (
    "head",
    "neck",
    "chest",
    "abdomen",
    "upper_back",
    "lower_back",
    "gluteal",
    "left_upper_arm",
    "left_forearm",
    "left_hand",
    "right_upper_arm",
    "right_forearm",
    "right_hand",
    "left_thigh",
    "left_knee",
    "left_calf",
    "left_foot",
    "right_thigh",
    "right_knee",
    "right_calf",
    "right_foot",
)
REGION_SET = frozenset(REGIONS)

#: each limb in proximal -> distal order
LIMBS: dict[str, tuple[str, ...]] = {
    "left_leg": ("left_thigh", "left_knee", "left_calf", "left_foot"),
    "right_leg": ("right_thigh", "right_knee", "right_calf", "right_foot"),
    "left_arm": ("left_upper_arm", "left_forearm", "left_hand"),
    "right_arm": ("right_upper_arm", "right_forearm", "right_hand"),
}
GROUPS: dict[str, tuple[str, ...]] = {
    **LIMBS,
    "legs": LIMBS["left_leg"] + LIMBS["right_leg"],
    "arms": LIMBS["left_arm"] + LIMBS["right_arm"],
}
LEGS = frozenset(GROUPS["legs"])
ARMS = frozenset(GROUPS["arms"])
LIMB_OF: dict[str, str] = {r: limb for limb, rs in LIMBS.items() for r in rs}
REGION_OR_GROUP = REGION_SET | frozenset(GROUPS)


class UnknownRegion(ValueError):
    """A region id that is neither one of the 21 regions nor a group."""

    def __init__(self, name: str) -> None:
        super().__init__(f"unknown region {name!r}")
        self.name = name


def expand(names: Iterable[str]) -> frozenset[str]:
    """Expand region ids and group ids into region ids."""
    out: set[str] = set()
    for name in names:
        if name in REGION_SET:
            out.add(name)
        elif name in GROUPS:
            out.update(GROUPS[name])
        else:
            raise UnknownRegion(name)
    return frozenset(out)


def distal_from(region: str) -> frozenset[str]:
    """The region and everything distal to it on its limb; just the region off the limbs."""
    limb = LIMB_OF.get(region)
    if limb is None:
        return frozenset((region,))
    chain = LIMBS[limb]
    return frozenset(chain[chain.index(region) :])


def distal_closure(regions: Iterable[str]) -> frozenset[str]:
    """Every region in `regions` plus everything distal to each."""
    out: set[str] = set()
    for r in regions:
        out |= distal_from(r)
    return frozenset(out)


def limbs_of(regions: Iterable[str]) -> frozenset[str]:
    """The limb groups (left_leg, ...) touched by `regions`."""
    return frozenset(LIMB_OF[r] for r in regions if r in LIMB_OF)


def sort_regions(regions: Iterable[str]) -> list[str]:
    """Regions in the canonical (INTAKE.md) order."""
    s = set(regions)
    if not s:
        return []
    return [r for r in REGIONS if r in s]


def expand_caps(caps: Mapping[str, int]) -> dict[str, int]:
    """Caps by region or group -> caps by region; where a region is named twice (itself and
    in a group), the lower cap wins (a cap only ever goes down)."""
    out: dict[str, int] = {}
    for name, cap in caps.items():
        for r in GROUPS.get(name, (name,)):
            out[r] = min(cap, out.get(r, cap))
    return out
