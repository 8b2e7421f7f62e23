"""The two SQL dialects: every piece of engine-specific SQL the compiler writes is here.

A FHIRPath collection is an SQL array of elements. In DuckDB an element is a ``JSON`` value (a
string keeps its quotes, so types stay apart); in Spark it is a ``STRING``: objects and arrays as
JSON text, primitives as their bare text (what ``get_json_object``/``json_tuple`` return).
Collections are built with higher-order functions (DuckDB ``list_transform``/``list_filter``,
Spark ``transform``/``filter``) and rows as arrays of structs exploded once at the end. Spark SQL
is written to run the same with ANSI mode on or off (``try_cast``, ``try_element_at``).
"""

from __future__ import annotations

from dataclasses import dataclass

#: SQL types of the output columns, by FHIR type; anything else (and no type) is text
BOOL, INT, NUM, TEXT = "bool", "int", "num", "text"
FHIR_TYPES: dict[str, str] = {
    "boolean": BOOL,
    "integer": INT,
    "positiveInt": INT,
    "unsignedInt": INT,
    "integer64": INT,
    "decimal": NUM,
}


@dataclass(frozen=True)
class Dialect:
    """SQL snippets of one engine (see the module docstring for the element representation)."""

    name: str
    types: dict[str, str]

    # --- literals and names -------------------------------------------------------------
    def ident(self, name: str) -> str:
        raise NotImplementedError

    def string(self, text: str) -> str:
        raise NotImplementedError

    def number(self, value: int | float) -> str:
        return f"CAST({value!r} AS {self.types[NUM]})"

    # --- elements and collections -------------------------------------------------------
    def get(self, elem: str, field: str) -> str:
        """The JSON value of ``field`` of one element (SQL NULL when absent)."""
        raise NotImplementedError

    def to_coll(self, value: str) -> str:
        """A JSON value (array, element or NULL) as a collection."""
        raise NotImplementedError

    def field_coll(self, elem: str, field: str) -> str:
        """``field`` of one element as a collection."""
        return self.to_coll(self.get(elem, field))

    def raw_first_text(self, value: str) -> str:
        """The text of a JSON value, or of its first element when it is an array."""
        raise NotImplementedError

    def raw_many(self, value: str) -> str:
        """True when a JSON value is an array of more than one element."""
        raise NotImplementedError

    def raw_exists(self, value: str) -> str:
        """True when a JSON value (or SQL NULL) is a non-empty collection."""
        raise NotImplementedError

    def raw_nav(self, value: str, field: str, coll: str) -> str | None:
        """A JSON value whose collection is ``field`` of the JSON value ``value`` (``coll`` is
        that collection, built the general way), or None when the dialect has no cheap one."""
        return None

    def empty(self) -> str:
        raise NotImplementedError

    def array(self, items: list[str]) -> str:
        raise NotImplementedError

    def lam(self, params: list[str], body: str) -> str:
        raise NotImplementedError

    def transform(self, coll: str, var: str, body: str, index: str | None = None) -> str:
        raise NotImplementedError

    def filter(self, coll: str, var: str, body: str) -> str:
        raise NotImplementedError

    def flatten(self, coll: str) -> str:
        return f"flatten({coll})"

    def let(self, value: str, var: str, body: str) -> str:
        """``body`` with ``var`` bound to ``value``, evaluated once."""
        return self.first(self.transform(self.array([value]), var, body))

    def size(self, coll: str) -> str:
        raise NotImplementedError

    def first(self, coll: str) -> str:
        """The first element (NULL when empty)."""
        raise NotImplementedError

    def slice(self, coll: str, start0: str) -> str:
        """The collection holding element ``start0`` (0-based), or empty."""
        raise NotImplementedError

    def concat(self, colls: list[str]) -> str:
        raise NotImplementedError

    def text(self, elem: str) -> str:
        """An element as text: a primitive's value, an object's JSON."""
        raise NotImplementedError

    def elem_of(self, scalar: str, kind: str) -> str:
        """A scalar (text, number, boolean) as an element."""
        raise NotImplementedError

    def is_boolean(self, elem: str) -> str:
        raise NotImplementedError

    def row_index(self, index: str) -> str:
        """The 0-based index of a transform's index variable."""
        raise NotImplementedError

    # --- scalars ------------------------------------------------------------------------
    def try_cast(self, sql: str, kind: str) -> str:
        return f"TRY_CAST({sql} AS {self.types[kind]})"

    def cast(self, sql: str, kind: str) -> str:
        return f"CAST({sql} AS {self.types[kind]})"

    def null(self, kind: str, collection: bool = False) -> str:
        return f"CAST(NULL AS {self.sql_type(kind, collection)})"

    def sql_type(self, kind: str, collection: bool) -> str:
        raise NotImplementedError

    def divide(self, left: str, right: str) -> str:
        raise NotImplementedError

    def join(self, texts: str, sep: str) -> str:
        raise NotImplementedError

    def regexp_extract(self, text: str, pattern: str, group: int) -> str:
        return f"nullif(regexp_extract({text}, {self.string(pattern)}, {group}), '')"

    def error(self, message: str) -> str:
        raise NotImplementedError

    # --- rows ---------------------------------------------------------------------------
    def struct(self, fields: list[tuple[str, str]]) -> str:
        raise NotImplementedError

    def field(self, struct: str, name: str) -> str:
        return f"{struct}.{self.ident(name)}"

    def query(self, inner: list[str], outer: list[str], source: str, prefetch: list[str],
              where: list[str], carry: tuple[str, ...] = ()) -> str:  # fmt: skip
        """The whole SELECT: the resource's top-level fields read once (``prefetch``), rows
        kept by ``where``, the ``inner`` select items (columns, at most one explode), then the
        ``outer`` ones (the view's columns in order, from ``__sof_u``); ``carry``: columns of
        the source copied as they are, before the view's."""
        inner = [f"__sof_p.{self.ident(c)} AS {self.ident(c)}" for c in carry] + inner
        outer = [f"__sof_u.{self.ident(c)} AS {self.ident(c)}" for c in carry] + outer
        return (
            f"SELECT {', '.join(outer)} FROM (SELECT {', '.join(inner)} FROM "
            f"{self.prefetch_from(source, prefetch, carry)} AS __sof_p "
            f"WHERE {' AND '.join(where)}) AS __sof_u"
        )

    def prefetch_from(self, source: str, prefetch: list[str], carry: tuple[str, ...] = ()
                      ) -> str:  # fmt: skip
        """A subquery: ``resource``, the ``carry`` columns and the prefetched top-level
        fields."""
        raise NotImplementedError

    def explode(self, rows: str) -> str:
        """A select item: one output row per element of an array of row structs."""
        raise NotImplementedError

    def prefetched(self, index: int) -> str:
        """The SQL of the ``index``-th prefetched top-level field."""
        raise NotImplementedError


class DuckDB(Dialect):
    """DuckDB (1.3 or later: ``lambda x:`` syntax); its JSON functions are built in."""

    def __init__(self) -> None:
        super().__init__("duckdb", {BOOL: "BOOLEAN", INT: "BIGINT", NUM: "DOUBLE", TEXT: "VARCHAR"})

    def ident(self, name: str) -> str:
        return '"' + name.replace('"', '""') + '"'

    def string(self, text: str) -> str:
        return "'" + text.replace("'", "''") + "'"

    def get(self, elem: str, field: str) -> str:
        return f"json_extract({elem}, {self.string('$.' + field)})"

    def field_coll(self, elem: str, field: str) -> str:
        # json_type/json_extract with a path: the field is never re-serialised as a whole
        path, items = self.string("$." + field), self.string("$." + field + "[*]")
        return (
            f"(CASE coalesce(json_type({elem}, {path}), 'NULL') WHEN 'NULL' THEN {self.empty()} "
            f"WHEN 'ARRAY' THEN list_filter(json_extract({elem}, {items}), "
            f"lambda __z: json_type(__z) <> 'NULL') ELSE [json_extract({elem}, {path})] END)"
        )

    def to_coll(self, value: str) -> str:
        return (
            f"(CASE coalesce(json_type({value}), 'NULL') WHEN 'NULL' THEN {self.empty()} "
            f"WHEN 'ARRAY' THEN list_filter(json_extract({value}, '$[*]'), "
            f"lambda __z: json_type(__z) <> 'NULL') ELSE [{value}] END)"
        )

    def raw_first_text(self, value: str) -> str:
        return (
            f"(CASE WHEN json_type({value}) = 'ARRAY' THEN json_extract_string({value}, '$[0]') "
            f"ELSE json_extract_string({value}, '$') END)"
        )

    def raw_many(self, value: str) -> str:
        return f"coalesce(json_array_length({value}) > 1, FALSE)"

    def raw_nav(self, value: str, field: str, coll: str) -> str | None:
        # an object (FHIR's usual case) is read directly; an array takes the general way
        return (
            f"(CASE WHEN json_type({value}) = 'ARRAY' THEN to_json({coll}) "
            f"ELSE {self.get(value, field)} END)"
        )

    def raw_exists(self, value: str) -> str:
        return (
            f"(CASE coalesce(json_type({value}), 'NULL') WHEN 'NULL' THEN FALSE "
            f"WHEN 'ARRAY' THEN json_array_length({value}) > 0 ELSE TRUE END)"
        )

    def empty(self) -> str:
        return "CAST([] AS JSON[])"

    def array(self, items: list[str]) -> str:
        return "[" + ", ".join(items) + "]"

    def lam(self, params: list[str], body: str) -> str:
        return f"lambda {', '.join(params)}: {body}"

    def transform(self, coll: str, var: str, body: str, index: str | None = None) -> str:
        params = [var] if index is None else [var, index]
        return f"list_transform({coll}, {self.lam(params, body)})"

    def filter(self, coll: str, var: str, body: str) -> str:
        return f"list_filter({coll}, {self.lam([var], body)})"

    def size(self, coll: str) -> str:
        return f"len({coll})"

    def first(self, coll: str) -> str:
        return f"({coll})[1]"

    def slice(self, coll: str, start0: str) -> str:
        return f"({coll})[({start0}) + 1:({start0}) + 1]"

    def concat(self, colls: list[str]) -> str:
        out = colls[0]
        for other in colls[1:]:
            out = f"list_concat({out}, {other})"
        return out

    def text(self, elem: str) -> str:
        return f"json_extract_string({elem}, '$')"

    def elem_of(self, scalar: str, kind: str) -> str:
        return f"to_json({scalar})"

    def is_boolean(self, elem: str) -> str:
        return f"(json_type({elem}) = 'BOOLEAN')"

    def row_index(self, index: str) -> str:
        return f"({index} - 1)"

    def sql_type(self, kind: str, collection: bool) -> str:
        return self.types[kind] + ("[]" if collection else "")

    def divide(self, left: str, right: str) -> str:
        return f"(CAST({left} AS DOUBLE) / nullif({right}, 0))"

    def join(self, texts: str, sep: str) -> str:
        return f"array_to_string({texts}, {sep})"

    def error(self, message: str) -> str:
        return f"error({message})"

    def struct(self, fields: list[tuple[str, str]]) -> str:
        return "struct_pack(" + ", ".join(f"{self.ident(n)} := {v}" for n, v in fields) + ")"

    def prefetched(self, index: int) -> str:
        return f"__sof_p.__sof_f[{index + 1}]"

    def prefetch_from(self, source: str, prefetch: list[str], carry: tuple[str, ...] = ()
                      ) -> str:  # fmt: skip
        paths = ", ".join(self.string("$." + f) for f in prefetch)
        kept = "".join(f"{self.ident(c)}, " for c in carry)
        return (f"(SELECT {kept}resource, json_extract(resource, [{paths}]) AS __sof_f "
                f"FROM {source})")  # fmt: skip

    def explode(self, rows: str) -> str:
        return f"unnest({rows}) AS __sof_r"


class Spark(Dialect):
    """Spark SQL (3.5 or later), ANSI mode on or off."""

    def __init__(self) -> None:
        super().__init__("spark", {BOOL: "BOOLEAN", INT: "BIGINT", NUM: "DOUBLE", TEXT: "STRING"})

    def ident(self, name: str) -> str:
        return "`" + name.replace("`", "``") + "`"

    def string(self, text: str) -> str:
        return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"

    def get(self, elem: str, field: str) -> str:
        return f"get_json_object({elem}, {self.string('$.' + field)})"

    def to_coll(self, value: str) -> str:
        return (
            f"(CASE WHEN {value} IS NULL THEN {self.empty()} "
            f"WHEN substr({value}, 1, 1) = '[' THEN coalesce(filter(from_json({value}, "
            f"'array<string>'), __z -> __z IS NOT NULL), array({value})) "
            f"ELSE array({value}) END)"
        )

    def raw_first_text(self, value: str) -> str:
        return (
            f"(CASE WHEN substr({value}, 1, 1) = '[' THEN coalesce(try_element_at("
            f"from_json({value}, 'array<string>'), 1), {value}) ELSE {value} END)"
        )

    def raw_many(self, value: str) -> str:
        return (
            f"(substr({value}, 1, 1) = '[' AND "
            f"coalesce(size(from_json({value}, 'array<string>')) > 1, FALSE))"
        )

    def raw_exists(self, value: str) -> str:
        return f"coalesce({value} <> '[]', FALSE)"

    def empty(self) -> str:
        return "CAST(array() AS ARRAY<STRING>)"

    def array(self, items: list[str]) -> str:
        return "array(" + ", ".join(items) + ")"

    def lam(self, params: list[str], body: str) -> str:
        head = params[0] if len(params) == 1 else "(" + ", ".join(params) + ")"
        return f"{head} -> {body}"

    def transform(self, coll: str, var: str, body: str, index: str | None = None) -> str:
        params = [var] if index is None else [var, index]
        return f"transform({coll}, {self.lam(params, body)})"

    def filter(self, coll: str, var: str, body: str) -> str:
        return f"filter({coll}, {self.lam([var], body)})"

    def size(self, coll: str) -> str:
        return f"size({coll})"

    def first(self, coll: str) -> str:
        return f"try_element_at({coll}, 1)"

    def slice(self, coll: str, start0: str) -> str:
        return (
            f"(CASE WHEN ({start0}) >= 0 AND ({start0}) < size({coll}) "
            f"THEN slice({coll}, CAST(({start0}) + 1 AS INT), 1) ELSE {self.empty()} END)"
        )

    def concat(self, colls: list[str]) -> str:
        return "concat(" + ", ".join(colls) + ")"

    def text(self, elem: str) -> str:
        return elem

    def elem_of(self, scalar: str, kind: str) -> str:
        return f"CAST({scalar} AS STRING)"

    def is_boolean(self, elem: str) -> str:
        return f"({elem} IN ('true', 'false'))"

    def row_index(self, index: str) -> str:
        return index

    def try_cast(self, sql: str, kind: str) -> str:
        return f"try_cast({sql} AS {self.types[kind]})"

    def sql_type(self, kind: str, collection: bool) -> str:
        base = self.types[kind]
        return f"ARRAY<{base}>" if collection else base

    def divide(self, left: str, right: str) -> str:
        return f"try_divide(CAST({left} AS DOUBLE), {right})"

    def join(self, texts: str, sep: str) -> str:
        return f"array_join({texts}, {sep})"

    def error(self, message: str) -> str:
        return f"raise_error({message})"

    def struct(self, fields: list[tuple[str, str]]) -> str:
        return "named_struct(" + ", ".join(f"{self.string(n)}, {v}" for n, v in fields) + ")"

    def prefetched(self, index: int) -> str:
        return f"__sof_p.__sof_f{index}"

    def prefetch_from(self, source: str, prefetch: list[str], carry: tuple[str, ...] = ()
                      ) -> str:  # fmt: skip
        names = ", ".join(self.string(f) for f in prefetch)
        aliases = ", ".join(f"__sof_f{i}" for i in range(len(prefetch)))
        kept = "".join(f"{self.ident(c)}, " for c in carry)
        return (
            f"(SELECT {kept}resource, {aliases} FROM {source} "
            f"LATERAL VIEW json_tuple(resource, {names}) __sof_t AS {aliases})"
        )

    def explode(self, rows: str) -> str:
        return f"explode({rows}) AS __sof_r"


DIALECTS: dict[str, Dialect] = {"duckdb": DuckDB(), "spark": Spark()}
