"""Clinical scores (FACTS.md §1–5): Wells DVT, Wells PE, PERC, Caprini 2005, Padua.

Importing this package registers the shipped calculators in :data:`REGISTRY` (the same seam a
plug-in calculator uses). ``get("caprini").score({...})`` scores findings;
:func:`caprini_from_intake` scores Caprini from a client intake. Reference:
docs/calculators.md.
"""

from clotsafe.calculators.base import (
    REGISTRY,
    Band,
    Calculator,
    Finding,
    Item,
    ItemResult,
    ScoreResult,
    get,
    register,
)
from clotsafe.calculators.caprini import CAPRINI
from clotsafe.calculators.caprini_intake import caprini_from_intake
from clotsafe.calculators.errors import (
    CalculatorError,
    InvalidValue,
    UnknownBandScheme,
    UnknownItem,
    UnknownVersion,
)
from clotsafe.calculators.padua import PADUA
from clotsafe.calculators.perc import PERC
from clotsafe.calculators.wells_dvt import WELLS_DVT
from clotsafe.calculators.wells_pe import WELLS_PE

__all__ = [
    "CAPRINI",
    "PADUA",
    "PERC",
    "REGISTRY",
    "WELLS_DVT",
    "WELLS_PE",
    "Band",
    "Calculator",
    "CalculatorError",
    "Finding",
    "InvalidValue",
    "Item",
    "ItemResult",
    "ScoreResult",
    "UnknownBandScheme",
    "UnknownItem",
    "UnknownVersion",
    "caprini_from_intake",
    "get",
    "register",
]
