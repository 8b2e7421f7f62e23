"""Clinical scores (FACTS.md §1–5): Wells DVT, Wells PE, PERC, Caprini 2005, Padua.

The shipped calculators are registered in ``builtin_calculators()``, an explicit
:class:`CalculatorRegistry` (the same seam a plug-in calculator uses; registering a name twice is
an error). ``get("caprini").score({...})`` scores findings;
:func:`caprini_from_intake` scores Caprini from a client intake. Reference:
docs/calculators.md.
"""

from clotsafe.calculators.base import (
    Band,
    Calculator,
    CalculatorRegistry,
    DuplicateCalculatorError,
    Finding,
    Item,
    ItemResult,
    ScoreResult,
    builtin_calculators,
    get,
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
    "WELLS_DVT",
    "WELLS_PE",
    "Band",
    "Calculator",
    "CalculatorError",
    "CalculatorRegistry",
    "DuplicateCalculatorError",
    "Finding",
    "InvalidValue",
    "Item",
    "ItemResult",
    "ScoreResult",
    "UnknownBandScheme",
    "UnknownItem",
    "UnknownVersion",
    "builtin_calculators",
    "caprini_from_intake",
    "get",
]
