"""A ViewDefinition read and validated into immutable parts, every error naming its path.

Only the structure is checked here (required elements, JSON types, names, constants, unionAll
column lists, FHIRPath syntax); translating the FHIRPath is the compiler's job.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from clotsafe.fhir.sof import fhirpath
from clotsafe.fhir.sof.errors import SofError

_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_]*")
_VIEW_KEYS = {
    "resourceType", "url", "identifier", "name", "title", "meta", "status", "experimental",
    "publisher", "contact", "description", "useContext", "copyright", "resource", "fhirVersion",
    "constant", "select", "where", "id", "text", "extension", "modifierExtension",
    "implicitRules", "language", "contained", "profile",
}  # fmt: skip
_SELECT_KEYS = {"column", "select", "forEach", "forEachOrNull", "repeat", "unionAll", "extension",
                "id"}  # fmt: skip
_COLUMN_KEYS = {"name", "path", "type", "collection", "description", "tag", "extension", "id"}
#: constant value[x] types whose value is a number or boolean in FHIRPath (the rest are text)
_NUMBER_CONSTANTS = {"valueInteger", "valueDecimal", "valuePositiveInt", "valueUnsignedInt",
                     "valueInteger64"}  # fmt: skip


@dataclass(frozen=True)
class Column:
    """One output column: ``name``, its FHIRPath, its FHIR ``type`` (or None), ``collection``."""

    name: str
    path: fhirpath.Node
    type: str | None
    collection: bool
    where: str


@dataclass(frozen=True)
class Select:
    """A select node: its columns, nested selects and unionAll branches, on an optional forEach."""

    columns: tuple[Column, ...]
    selects: tuple[Select, ...]
    union: tuple[Select, ...]
    for_each: fhirpath.Node | None
    or_null: bool
    where: str
    repeat: tuple[fhirpath.Node, ...] = ()

    def column_names(self) -> tuple[str, ...]:
        """The node's output columns in the specification's order: own, selects, unionAll."""
        names = [c.name for c in self.columns]
        for sub in self.selects:
            names.extend(sub.column_names())
        if self.union:
            names.extend(self.union[0].column_names())
        return tuple(names)

    def all_columns(self) -> tuple[Column, ...]:
        """The node's Column objects in output order (unionAll: the first branch's)."""
        cols = list(self.columns)
        for sub in self.selects:
            cols.extend(sub.all_columns())
        if self.union:
            cols.extend(self.union[0].all_columns())
        return tuple(cols)


ConstantValue = str | int | float | bool | tuple[str | int | float | bool, ...]


@dataclass(frozen=True)
class View:
    """A validated ViewDefinition: ``resource`` type, constants, where paths, the select tree."""

    resource: str
    constants: Mapping[str, ConstantValue]
    where: tuple[tuple[fhirpath.Node, str], ...]
    root: Select


def _obj(value: object, where: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise SofError("sof_not_an_object", "expected a JSON object", where)
    return value


def _list(value: object, where: str) -> list[Any]:
    if not isinstance(value, list):
        raise SofError("sof_wrong_type", "expected a JSON array", where)
    return value


def _string(value: object, where: str) -> str:
    if not isinstance(value, str) or not value:
        raise SofError("sof_wrong_type", "expected a non-empty string", where)
    return value


def _keys(obj: Mapping[str, Any], allowed: set[str], where: str) -> None:
    for key in obj:
        if key not in allowed:
            raise SofError("sof_unknown_field", f"unknown element {key!r}", f"{where}.{key}")


def _items(obj: Mapping[str, Any], key: str, where: str) -> list[tuple[object, str]]:
    at = f"{where}.{key}" if where else key
    return [(item, f"{at}[{i}]") for i, item in enumerate(_list(obj.get(key, []), at))]


def _column(raw: object, where: str) -> Column:
    obj = _obj(raw, where)
    _keys(obj, _COLUMN_KEYS, where)
    for key in ("name", "path"):
        if key not in obj:
            raise SofError("sof_missing_field", f"a column needs {key!r}", f"{where}.{key}")
    name = _string(obj["name"], f"{where}.name")
    if not _NAME.fullmatch(name):
        raise SofError(
            "sof_bad_name", f"{name!r} is not a name (a letter, then letters, digits, _)",
            f"{where}.name",
        )  # fmt: skip
    path = fhirpath.parse(_string(obj["path"], f"{where}.path"), f"{where}.path")
    ftype = obj.get("type")
    if ftype is not None:
        ftype = _string(ftype, f"{where}.type")
    collection = obj.get("collection", False)
    if not isinstance(collection, bool):
        raise SofError("sof_wrong_type", "expected true or false", f"{where}.collection")
    return Column(name, path, ftype, collection, where)


def _select(raw: object, where: str) -> Select:
    obj = _obj(raw, where)
    _keys(obj, _SELECT_KEYS, where)
    if len({"forEach", "forEachOrNull", "repeat"} & set(obj)) > 1:
        raise SofError("sof_wrong_type", "only one of forEach, forEachOrNull, repeat", where)
    repeat = tuple(fhirpath.parse(_string(p, at), at) for p, at in _items(obj, "repeat", where))
    if "repeat" in obj and not repeat:
        raise SofError("sof_wrong_type", "repeat needs at least one path", f"{where}.repeat")
    for_each = None
    key = "forEach" if "forEach" in obj else "forEachOrNull"
    if key in obj:
        for_each = fhirpath.parse(_string(obj[key], f"{where}.{key}"), f"{where}.{key}")
    columns = tuple(_column(c, at) for c, at in _items(obj, "column", where))
    selects = tuple(_select(s, at) for s, at in _items(obj, "select", where))
    union = tuple(_select(s, at) for s, at in _items(obj, "unionAll", where))
    node = Select(columns, selects, union, for_each, key == "forEachOrNull", where, repeat)
    _check_union(node)
    return node


def _check_union(node: Select) -> None:
    if not node.union:
        return
    first = node.union[0].column_names()
    for i, branch in enumerate(node.union[1:], start=1):
        if branch.column_names() != first:
            raise SofError(
                "sof_union_mismatch",
                f"columns {list(branch.column_names())} differ from the first branch's "
                f"{list(first)} (names and order must match)",
                f"{node.where}.unionAll[{i}]",
            )


def _constant(raw: object, where: str) -> tuple[str, ConstantValue]:
    obj = _obj(raw, where)
    name = _string(obj.get("name"), f"{where}.name")
    if not _NAME.fullmatch(name):
        raise SofError("sof_bad_name", f"{name!r} is not a constant name", f"{where}.name")
    values = [k for k in obj if k.startswith("value")]
    if len(values) != 1:
        raise SofError("sof_bad_constant", "a constant needs exactly one value[x]", where)
    key = values[0]
    value = obj[key]
    ok = (
        isinstance(value, bool)
        if key == "valueBoolean"
        else isinstance(value, int | float) and not isinstance(value, bool)
        if key in _NUMBER_CONSTANTS
        else isinstance(value, str)
    )
    if not ok:
        raise SofError("sof_bad_constant", f"{key} has the wrong JSON type", f"{where}.{key}")
    return name, value


def read_view(raw: object) -> View:
    """Validate a ViewDefinition (a parsed JSON object); :class:`SofError` names the path."""
    obj = _obj(raw, "")
    _keys(obj, _VIEW_KEYS, "view")
    if "resource" not in obj:
        raise SofError("sof_missing_field", "a view needs 'resource' (a FHIR type)", "resource")
    resource = _string(obj["resource"], "resource")
    if not _NAME.fullmatch(resource):
        raise SofError("sof_wrong_type", f"{resource!r} is not a FHIR resource type", "resource")
    if "select" not in obj:
        raise SofError("sof_missing_field", "a view needs 'select'", "select")
    constants = dict(_constant(c, at) for c, at in _items(obj, "constant", ""))
    where = []
    for i, w in enumerate(_list(obj.get("where", []), "where")):
        at = f"where[{i}].path"
        wobj = _obj(w, f"where[{i}]")
        if "path" not in wobj:
            raise SofError("sof_missing_field", "a where needs 'path'", at)
        where.append((fhirpath.parse(_string(wobj["path"], at), at), at))
    selects = tuple(
        _select(s, f"select[{i}]") for i, s in enumerate(_list(obj["select"], "select"))
    )
    if not selects:
        raise SofError("sof_missing_field", "a view needs at least one select", "select")
    root = Select((), selects, (), None, False, "")
    _check_duplicates(root)
    return View(resource, constants, tuple(where), root)


def _check_duplicates(root: Select) -> None:
    seen: set[str] = set()
    for col in root.all_columns():
        if col.name in seen:
            raise SofError(
                "sof_duplicate_column", f"column {col.name!r} is defined twice", f"{col.where}.name"
            )
        seen.add(col.name)
