"""Errors of the FHIR edge: every problem names the path into the resource it came from."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import orjson

from clotsafe.domain import strictjson
from clotsafe.domain.errors import ClotsafeInputError, FieldError


class FhirInputError(ClotsafeInputError):
    """A FHIR resource, bundle or CDS Hooks request that clotsafe cannot use (HTTP 400/422)."""


class NotJson(FhirInputError):
    """Text that is not JSON at all (``invalid_json``; CDS Hooks: HTTP 400)."""


class PrefetchMissing(FhirInputError):
    """The data the service needs was neither prefetched nor fetchable (CDS Hooks: HTTP 412)."""


class FhirServerError(FhirInputError):
    """The EHR's FHIR server failed or refused while clotsafe fetched data (HTTP 502/412)."""


def fhir_json(raw: bytes | str) -> Any:
    """Decode a FHIR resource, Bundle, list or CDS Hooks request given as JSON text.

    Not JSON: :class:`NotJson`. An object that names a key twice, at any depth (POLICY 1.1
    §8.1): :class:`FhirInputError` with code ``duplicate_key`` and the path into the input
    (``entry[3].resource.code``) -- which of two ``valueCoding``s was meant is never guessed.
    """
    try:
        return strictjson.loads(raw)
    except strictjson.JsonInputError as exc:
        kind = NotJson if exc.errors[0].code == "invalid_json" else FhirInputError
        raise kind(exc.errors) from None


#: ``got`` (an object or list) is echoed back only when its compact JSON is this short
GOT_MAX_CHARS = 80
#: a longer string in ``got`` is cut to this many characters
GOT_MAX_STRING = 200


def problem(path: str, code: str, message: str, got: Any = None) -> FieldError:
    """One problem at ``path`` (for example ``item[3].answer[0].valueCoding``).

    ``got`` (what arrived) is kept only when it is short: a string is cut at
    :data:`GOT_MAX_STRING` characters, and an object or list is kept only when its compact JSON
    is at most :data:`GOT_MAX_CHARS` characters. Its size is measured with ``orjson.dumps``,
    which stops at 255 levels, never by ``str()``: a value nested a thousand levels deep would
    otherwise end in a RecursionError."""
    return FieldError(path, code, message, _short_got(got))


def _short_got(got: Any) -> Any:
    if isinstance(got, str):
        return got if len(got) <= GOT_MAX_STRING else got[: GOT_MAX_STRING - 1] + "…"
    if got is None or isinstance(got, (bool, int, float)):
        return got
    try:
        size = len(orjson.dumps(got))
    except (orjson.JSONEncodeError, TypeError):
        return None
    return got if size <= GOT_MAX_CHARS else None


def join(prefix: str, path: str) -> str:
    """``entry[2].resource`` + ``item[0]`` -> ``entry[2].resource.item[0]``."""
    if not prefix:
        return path
    if not path:
        return prefix
    return f"{prefix}{path}" if path.startswith("[") else f"{prefix}.{path}"


def loc_path(loc: Iterable[int | str]) -> str:
    """A pydantic error location as a FHIR path: ``('item', 3, 'answer')`` -> ``item[3].answer``."""
    out = ""
    for part in loc:
        out = join(out, f"[{part}]" if isinstance(part, int) else str(part))
    return out


def from_pydantic(errors: Iterable[Mapping[str, Any]], prefix: str = "") -> list[FieldError]:
    """Structural errors reported by the fhir.resources models, with FHIR paths."""
    out = []
    for e in errors:
        loc = [p for p in e.get("loc", ()) if p != "__root__"]
        code = "unknown_element" if e.get("type") == "extra_forbidden" else "invalid_fhir"
        if str(e.get("type", "")).startswith("fhir-validation-wrong-resource-type"):
            code = "wrong_resource_type"
        msg = str(e.get("msg", "")).split("\n")[0].strip()
        out.append(problem(join(prefix, loc_path(loc)), code, msg, e.get("input")))
    return out
