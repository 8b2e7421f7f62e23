"""Compile a validated ViewDefinition into one SQL query for DuckDB or Spark.

Every FHIRPath expression becomes an SQL expression of one of four kinds: the resource itself
(its top-level fields read once per row, ``Root``), one element (``Elem``, inside a lambda), a
collection (``Coll``, an array of elements) or a typed scalar (``Scalar``: a boolean, number or
text, NULL meaning empty). Each select node becomes an array of row structs for its focus:
its columns, times the rows of each nested select, times the concatenated unionAll branches,
for each element of its forEach; the query explodes the top node's array once per resource.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field

from clotsafe.fhir.sof import fhirpath as fp
from clotsafe.fhir.sof.dialect import BOOL, FHIR_TYPES, NUM, TEXT, Dialect
from clotsafe.fhir.sof.errors import SofError
from clotsafe.fhir.sof.view import Column, ConstantValue, Select, View

_FIELD = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
#: the id of a reference: ``[base/]Type/id[/_history/v]``, or the rest of ``urn:uuid:``/``urn:oid:``
_REF = r"^(?:.*/)?([A-Z][A-Za-z]+)/([A-Za-z0-9\-.]{1,64})(?:/_history/[^/]*)?$"
_URN = r"^urn:(?:uuid|oid):(.+)$"


@dataclass(frozen=True)
class Root:
    """The view's resource (its top-level fields are prefetched)."""


@dataclass(frozen=True)
class Elem:
    """One element that is not NULL (a lambda variable)."""

    sql: str


@dataclass(frozen=True)
class Coll:
    """A collection: an SQL array of elements (``single``: known to hold at most one)."""

    sql: str
    single: bool = False
    raw: str | None = None  # the JSON value it was made of (one step from a single element)


@dataclass(frozen=True)
class Scalar:
    """A boolean, number or text; SQL NULL is the empty collection."""

    sql: str
    kind: str


Value = Root | Elem | Coll | Scalar


@dataclass(frozen=True)
class _Ctx:
    focus: Value
    row_index: str
    where: str


@dataclass(frozen=True)
class _Rows:
    """An array of row structs and its fields (name, kind, collection)."""

    sql: str
    fields: tuple[tuple[str, str, bool], ...]
    struct: str | None = None  # set when the array is exactly [struct]: one row per focus

    def per_focus(self, d: Dialect, coll: str, var: str, index: str) -> str:
        """These rows for each element of ``coll`` (one struct each when there is one row)."""
        if self.struct is not None:
            return d.transform(coll, var, self.struct, index=index)
        return d.flatten(d.transform(coll, var, self.sql, index=index))


#: a column for rows_here: name, SQL, kind, collection
_Col = tuple[str, str, str, bool]


@dataclass
class Compiler:
    """One compilation: the dialect, the constants, the prefetched fields, fresh names."""

    d: Dialect
    resource: str
    constants: Mapping[str, ConstantValue]
    prefetch: list[str] = field(default_factory=lambda: ["resourceType"])
    counter: int = 0

    def fresh(self, stem: str = "x") -> str:
        self.counter += 1
        return f"__sof_{stem}{self.counter}"

    # --- values -------------------------------------------------------------------------
    def root_field(self, name: str) -> str:
        if name not in self.prefetch:
            self.prefetch.append(name)
        return self.d.prefetched(self.prefetch.index(name))

    def nav(self, base: Value, name: str, where: str) -> Value:
        if not _FIELD.fullmatch(name):
            raise SofError("sof_unsupported", f"element name {name!r} is not supported", where)
        d = self.d
        if isinstance(base, Root):
            if name == self.resource:
                return base
            raw = self.root_field(name)
            return Coll(d.to_coll(raw), raw=raw)
        if isinstance(base, Elem):
            return Coll(d.field_coll(base.sql, name), raw=d.get(base.sql, name))
        if isinstance(base, Coll):
            var = self.fresh()
            sql = d.flatten(d.transform(base.sql, var, d.field_coll(var, name)))
            deeper = None if base.raw is None else d.raw_nav(base.raw, name, sql)
            return Coll(sql, raw=deeper)
        raise SofError("sof_unsupported", f"cannot read {name!r} of a computed value", where)

    def coll(self, value: Value) -> str:
        d = self.d
        if isinstance(value, Root):
            return d.array(["__sof_p.resource"])
        if isinstance(value, Elem):
            return d.array([value.sql])
        if isinstance(value, Coll):
            return value.sql
        elem = d.elem_of(value.sql, value.kind)
        return f"(CASE WHEN {value.sql} IS NULL THEN {d.empty()} ELSE {d.array([elem])} END)"

    def text(self, value: Value) -> str:
        """The value as one text (the first element of a collection; NULL when empty)."""
        d = self.d
        if isinstance(value, Root):
            return "CAST(__sof_p.resource AS " + d.types[TEXT] + ")"
        if isinstance(value, Elem):
            return d.text(value.sql)
        if isinstance(value, Coll):
            if value.raw is not None:
                return d.raw_first_text(value.raw)
            return d.text(d.first(value.sql))
        return value.sql if value.kind == TEXT else d.cast(value.sql, TEXT)

    def typed(self, value: Value, kind: str) -> str:
        if isinstance(value, Scalar) and (value.kind == kind or kind == TEXT == value.kind):
            return value.sql
        if kind == TEXT:
            return self.text(value)
        return self.d.try_cast(self.text(value), kind)

    def boolean(self, value: Value, where: str) -> str:
        if isinstance(value, Scalar):
            if value.kind != BOOL:
                raise SofError("sof_unsupported", "expected a boolean expression", where)
            return value.sql
        if isinstance(value, Root):
            return "TRUE"
        if isinstance(value, Elem):
            return self.d.try_cast(self.d.text(value.sql), BOOL)
        if value.single:
            return self.d.try_cast(self.d.text(self.d.first(value.sql)), BOOL)
        if value.raw is not None:
            one = self.d.try_cast(self.d.raw_first_text(value.raw), BOOL)
            return f"(CASE WHEN {self.d.raw_many(value.raw)} THEN NULL ELSE {one} END)"
        c = self.fresh("c")
        first = self.d.try_cast(self.d.text(self.d.first(c)), BOOL)
        return self.d.let(value.sql, c, f"(CASE WHEN {self.d.size(c)} = 1 THEN {first} END)")

    # --- expressions --------------------------------------------------------------------
    def expr(self, node: fp.Node, ctx: _Ctx) -> Value:
        d = self.d
        if isinstance(node, fp.Literal):
            return self.literal(node.value)
        if isinstance(node, fp.Empty):
            return Coll(d.empty())
        if isinstance(node, fp.This):
            return ctx.focus
        if isinstance(node, fp.Constant):
            return self.constant(node.name, ctx)
        if isinstance(node, fp.Member):
            base = ctx.focus if node.base is None else self.expr(node.base, ctx)
            return self.nav(base, node.name, ctx.where)
        if isinstance(node, fp.Index):
            return self.index(node, ctx)
        if isinstance(node, fp.Call):
            return self.call(node, ctx)
        if isinstance(node, fp.Negate):
            return Scalar(f"(-{self.typed(self.expr(node.operand, ctx), NUM)})", NUM)
        return self.binary(node, ctx)

    def literal(self, value: str | int | float | bool) -> Scalar:
        if isinstance(value, bool):
            return Scalar("TRUE" if value else "FALSE", BOOL)
        if isinstance(value, int | float):
            return Scalar(self.d.number(value), NUM)
        return Scalar(self.d.string(value), TEXT)

    def constant(self, name: str, ctx: _Ctx) -> Value:
        if name in ("resource", "rootResource", "context"):
            return Root()
        if name == "rowIndex":
            return Scalar(ctx.row_index, NUM)
        if name not in self.constants:
            raise SofError("sof_undefined_constant", f"%{name} is not defined", ctx.where)
        value = self.constants[name]
        if isinstance(value, tuple):
            elems = [self.d.elem_of(self.literal(v).sql, self.literal(v).kind) for v in value]
            return Coll(self.d.array(elems) if elems else self.d.empty())
        return self.literal(value)

    def index(self, node: fp.Index, ctx: _Ctx) -> Value:
        base = self.expr(node.base, ctx)
        idx = self.expr(node.index, ctx)
        if not isinstance(idx, Scalar) or idx.kind != NUM:
            raise SofError("sof_unsupported", "an index must be a number", ctx.where)
        return Coll(self.d.slice(self.coll(base), f"CAST({idx.sql} AS BIGINT)"), single=True)

    def binary(self, node: fp.Binary, ctx: _Ctx) -> Value:
        op = node.op
        if op == "in":
            return self.member_of(self.expr(node.left, ctx), node.right, ctx)
        left = self.expr(node.left, ctx)
        right = self.expr(node.right, ctx)
        if op in ("and", "or", "xor", "implies"):
            lb, rb = self.boolean(left, ctx.where), self.boolean(right, ctx.where)
            sql = {
                "and": f"({lb} AND {rb})",
                "or": f"({lb} OR {rb})",
                "xor": f"({lb} <> {rb})",
                "implies": f"((NOT {lb}) OR {rb})",
            }[op]
            return Scalar(sql, BOOL)
        if op in ("=", "!=", "<", "<=", ">", ">="):
            return self.compare(op, left, right)
        if op in ("+", "-", "*", "/"):
            return self.arithmetic(op, left, right)
        if op == "&":
            return Scalar(
                f"(coalesce({self.text(left)}, '') || coalesce({self.text(right)}, ''))", TEXT
            )
        if op == "|":
            return Coll(self.d.concat([self.coll(left), self.coll(right)]))
        raise SofError("sof_unsupported", f"the operator {op!r} is not supported", ctx.where)

    def member_of(self, left: Value, right: fp.Node, ctx: _Ctx) -> Scalar:
        """``x in list``: NULL when x is empty; x must be one value (else the query fails)."""
        d = self.d
        binds: list[tuple[str, str]] = []
        left = self.bound(left, binds)
        needle = self.text(left)
        listed = self.constants.get(right.name) if isinstance(right, fp.Constant) else None
        if isinstance(listed, tuple):
            texts = [v if isinstance(v, str) else json.dumps(v) for v in listed]
            found = f"{needle} IN ({', '.join(map(d.string, texts))})" if texts else "FALSE"
        else:
            var = self.fresh()
            coll = self.coll(self.expr(right, ctx))
            found = self.contains(d.transform(coll, var, d.text(var)), needle)
        checks = [f"{d.size(var)} > 1" for _sql, var in binds]
        if isinstance(left, Coll) and left.raw is not None:
            checks.append(d.raw_many(left.raw))
        message = d.string(f"{ctx.where}: the left of 'in' has several values [sof_not_single]")
        many = f"WHEN {' OR '.join(checks)} THEN {d.error(message)} " if checks else ""
        sql = f"(CASE {many}WHEN {needle} IS NULL THEN NULL ELSE {found} END)"
        for value, var in reversed(binds):
            sql = d.let(value, var, sql)
        return Scalar(sql, BOOL)

    def contains(self, texts: str, needle: str) -> str:
        fn = "list_contains" if self.d.name == "duckdb" else "array_contains"
        return f"{fn}({texts}, {needle})"

    def compare(self, op: str, left: Value, right: Value) -> Scalar:
        binds: list[tuple[str, str]] = []
        left, right = self.bound(left, binds), self.bound(right, binds)
        sql_op = "<>" if op == "!=" else op
        kinds = [v.kind for v in (left, right) if isinstance(v, Scalar)]
        if kinds:
            kind = NUM if NUM in kinds else kinds[0]
            sql = f"({self.typed(left, kind)} {sql_op} {self.typed(right, kind)})"
        else:
            lt, rt = self.text(left), self.text(right)
            ln, rn = self.d.try_cast(lt, NUM), self.d.try_cast(rt, NUM)
            sql = (
                f"(CASE WHEN {ln} IS NOT NULL AND {rn} IS NOT NULL THEN {ln} {sql_op} {rn} "
                f"ELSE {lt} {sql_op} {rt} END)"
            )
        checks = [f"{self.d.size(var)} > 1" for _sql, var in binds]
        checks += [self.d.raw_many(v.raw) for v in (left, right) if isinstance(v, Coll) and v.raw]
        many = " OR ".join(checks)
        if many:
            verdict = {"=": "FALSE", "!=": "TRUE"}.get(op, "NULL")
            sql = f"(CASE WHEN {many} THEN {verdict} ELSE {sql} END)"
        for value, var in reversed(binds):
            sql = self.d.let(value, var, sql)
        return Scalar(sql, BOOL)

    def bound(self, value: Value, binds: list[tuple[str, str]]) -> Value:
        """A collection that may hold several elements, bound to a variable (evaluated once)."""
        if isinstance(value, Coll) and not value.single and value.raw is None:
            var = self.fresh("c")
            binds.append((value.sql, var))
            return Coll(var)
        return value

    def arithmetic(self, op: str, left: Value, right: Value) -> Scalar:
        if op == "+" and TEXT in [v.kind for v in (left, right) if isinstance(v, Scalar)]:
            return Scalar(f"({self.text(left)} || {self.text(right)})", TEXT)
        ln, rn = self.typed(left, NUM), self.typed(right, NUM)
        if op == "/":
            return Scalar(self.d.divide(ln, rn), NUM)
        return Scalar(f"({ln} {op} {rn})", NUM)

    # --- functions ----------------------------------------------------------------------
    def call(self, node: fp.Call, ctx: _Ctx) -> Value:
        handler = _FUNCTIONS.get(node.name)
        if handler is None:
            raise SofError(
                "sof_unsupported", f"the function {node.name}() is not supported", ctx.where
            )
        arity = _ARITY[node.name]
        if len(node.args) not in arity:
            raise SofError(
                "sof_bad_fhirpath", f"{node.name}() takes {' or '.join(map(str, arity))} "
                f"arguments, got {len(node.args)}", ctx.where,
            )  # fmt: skip
        return handler(self, node, ctx)

    def base(self, node: fp.Call, ctx: _Ctx) -> Value:
        return ctx.focus if node.base is None else self.expr(node.base, ctx)

    def fn_where(self, node: fp.Call, ctx: _Ctx) -> Value:
        base = self.base(node, ctx)
        return self.filtered(base, node.args[0], ctx)

    def filtered(self, base: Value, crit: fp.Node, ctx: _Ctx) -> Value:
        d = self.d
        if isinstance(base, Root | Elem):
            cond = self.boolean(self.expr(crit, _Ctx(base, ctx.row_index, ctx.where)), ctx.where)
            return Coll(f"(CASE WHEN {cond} THEN {self.coll(base)} ELSE {d.empty()} END)")
        var = self.fresh()
        inner = _Ctx(Elem(var), ctx.row_index, ctx.where)
        cond = self.boolean(self.expr(crit, inner), ctx.where)
        return Coll(d.filter(self.coll(base), var, f"coalesce({cond}, FALSE)"))

    def fn_exists(self, node: fp.Call, ctx: _Ctx) -> Value:
        base = self.base(node, ctx)
        if node.args:
            base = self.filtered(base, node.args[0], ctx)
        if isinstance(base, Root | Elem):
            return Scalar("TRUE", BOOL)
        if isinstance(base, Coll) and base.raw is not None:
            return Scalar(self.d.raw_exists(base.raw), BOOL)
        return Scalar(f"({self.d.size(self.coll(base))} > 0)", BOOL)

    def fn_empty(self, node: fp.Call, ctx: _Ctx) -> Value:
        base = self.base(node, ctx)
        if isinstance(base, Root | Elem):
            return Scalar("FALSE", BOOL)
        if isinstance(base, Coll) and base.raw is not None:
            return Scalar(f"(NOT {self.d.raw_exists(base.raw)})", BOOL)
        return Scalar(f"({self.d.size(self.coll(base))} = 0)", BOOL)

    def fn_count(self, node: fp.Call, ctx: _Ctx) -> Value:
        return Scalar(f"{self.d.size(self.coll(self.base(node, ctx)))}", NUM)

    def fn_first(self, node: fp.Call, ctx: _Ctx) -> Value:
        base = self.base(node, ctx)
        if isinstance(base, Root | Elem | Scalar):
            return base
        return Coll(self.d.slice(base.sql, "0"), single=True)

    def fn_not(self, node: fp.Call, ctx: _Ctx) -> Value:
        return Scalar(f"(NOT {self.boolean(self.base(node, ctx), ctx.where)})", BOOL)

    def fn_of_type(self, node: fp.Call, ctx: _Ctx) -> Value:
        type_name = _type_name(node.args[0], ctx.where)
        if not isinstance(node.base, fp.Member):
            raise SofError(
                "sof_unsupported", "ofType() is supported on a choice element (value.ofType(T))",
                ctx.where,
            )  # fmt: skip
        member = node.base
        base = ctx.focus if member.base is None else self.expr(member.base, ctx)
        return self.nav(base, member.name + type_name[0].upper() + type_name[1:], ctx.where)

    def fn_extension(self, node: fp.Call, ctx: _Ctx) -> Value:
        url = node.args[0]
        if not (isinstance(url, fp.Literal) and isinstance(url.value, str)):
            raise SofError("sof_unsupported", "extension() needs a string literal", ctx.where)
        exts = self.nav(self.base(node, ctx), "extension", ctx.where)
        var = self.fresh()
        cond = f"({self.d.text(self.d.get(var, 'url'))} = {self.d.string(url.value)})"
        return Coll(self.d.filter(self.coll(exts), var, f"coalesce({cond}, FALSE)"))

    def fn_join(self, node: fp.Call, ctx: _Ctx) -> Value:
        sep = self.d.string("")
        if node.args:
            sep_value = self.expr(node.args[0], ctx)
            sep = self.text(sep_value)
        var = self.fresh()
        texts = self.d.transform(self.coll(self.base(node, ctx)), var, self.d.text(var))
        return Scalar(self.d.join(texts, sep), TEXT)

    def fn_resource_key(self, node: fp.Call, ctx: _Ctx) -> Value:
        base = self.base(node, ctx)
        if isinstance(base, Root):
            return Scalar(self.d.text(self.root_field("id")), TEXT)
        return Scalar(self.text(self.nav(base, "id", ctx.where)), TEXT)

    def fn_reference_key(self, node: fp.Call, ctx: _Ctx) -> Value:
        d = self.d
        refs = self.coll(self.base(node, ctx))
        var = self.fresh()
        ref = d.text(d.get(var, "reference"))
        key = f"coalesce({d.regexp_extract(ref, _REF, 2)}, {d.regexp_extract(ref, _URN, 1)})"
        keys = d.transform(refs, var, d.elem_of(key, TEXT) if d.name == "duckdb" else key)
        if node.args:
            wanted = d.string(_type_name(node.args[0], ctx.where))
            rtype = f"coalesce({d.regexp_extract(ref, _REF, 1)}, {d.text(d.get(var, 'type'))})"
            keep = f"coalesce({rtype} = {wanted}, {d.regexp_extract(ref, _URN, 1)} IS NOT NULL)"
            refs = d.filter(refs, var, keep)
            keys = d.transform(refs, var, d.elem_of(key, TEXT) if d.name == "duckdb" else key)
        out = self.fresh()
        return Coll(d.filter(keys, out, f"{out} IS NOT NULL"))

    # --- columns and rows ---------------------------------------------------------------
    def column(self, col: Column, ctx: _Ctx) -> str:
        cctx = _Ctx(ctx.focus, ctx.row_index, f"{col.where}.path")
        value = self.expr(col.path, cctx)
        kind = FHIR_TYPES.get(col.type or "", TEXT)
        d = self.d
        if col.collection:
            var = self.fresh()
            return d.transform(self.coll(value), var, self.cast_text(d.text(var), kind))
        if isinstance(value, Scalar):
            return value.sql if value.kind == kind else d.cast(value.sql, kind)
        if isinstance(value, Root | Elem):
            return self.cast_text(self.text(value), kind)
        if value.single:
            return self.cast_text(self.text(value), kind)
        message = d.string(
            f"{col.where}: column {col.name!r} has several values; set collection: true "
            "[sof_not_collection]"
        )
        if value.raw is not None:
            return (
                f"(CASE WHEN {d.raw_many(value.raw)} THEN {d.error(message)} "
                f"ELSE {self.cast_text(d.raw_first_text(value.raw), kind)} END)"
            )
        var = self.fresh("c")
        return d.let(
            value.sql,
            var,
            f"(CASE WHEN {d.size(var)} > 1 THEN {d.error(message)} "
            f"ELSE {self.cast_text(d.text(d.first(var)), kind)} END)",
        )

    def cast_text(self, text: str, kind: str) -> str:
        return text if kind == TEXT else self.d.try_cast(text, kind)

    def rows(self, node: Select, ctx: _Ctx) -> _Rows:
        if node.repeat:
            return self.repeat_rows(node, ctx)
        if node.for_each is None:
            return self.rows_here(node, ctx)
        fctx = _Ctx(
            ctx.focus,
            ctx.row_index,
            node.where + (".forEachOrNull" if node.or_null else ".forEach"),
        )
        foci = self.coll(self.expr(node.for_each, fctx))
        var, idx = self.fresh(), self.fresh("i")
        inner = self.rows_here(node, _Ctx(Elem(var), self.d.row_index(idx), node.where))
        if not node.or_null:
            return _Rows(inner.per_focus(self.d, foci, var, idx), inner.fields)
        bound = self.fresh("f")
        sql = inner.per_focus(self.d, bound, var, idx)
        none = self.null_rows(node, inner)
        sql = f"(CASE WHEN {self.d.size(bound)} = 0 THEN {none} ELSE {sql} END)"
        return _Rows(self.d.let(foci, bound, sql), inner.fields)

    def repeat_rows(self, node: Select, ctx: _Ctx) -> _Rows:
        """repeat: every element the paths reach, at any depth, in depth-first pre-order."""
        foci = self.repeat_coll(node, ctx.focus, 1)
        var, idx = self.fresh(), self.fresh("i")
        inner = self.rows_here(node, _Ctx(Elem(var), self.d.row_index(idx), node.where))
        return _Rows(inner.per_focus(self.d, foci, var, idx), inner.fields)

    def repeat_coll(self, node: Select, focus: Value, depth: int) -> str:
        """The elements under ``focus``; below ``REPEAT_DEPTH`` levels the query fails."""
        d = self.d
        at = f"{node.where}.repeat"
        children = d.concat(
            [
                self.coll(self.expr(p, _Ctx(focus, "0", f"{at}[{i}]")))
                for i, p in enumerate(node.repeat)
            ]
        )
        if depth > REPEAT_DEPTH:
            message = d.string(
                f"{at}: elements nested deeper than {REPEAT_DEPTH} levels [sof_repeat_too_deep]"
            )
            return (
                f"(CASE WHEN {d.size(children)} > 0 THEN {d.error(message)} ELSE {d.empty()} END)"
            )
        var = self.fresh()
        below = self.repeat_coll(node, Elem(var), depth + 1)
        return d.flatten(d.transform(children, var, d.concat([d.array([var]), below])))

    def null_rows(self, node: Select, inner: _Rows) -> str:
        """forEachOrNull over nothing: one row of NULLs (a %rowIndex column is 0)."""
        index_cols = {c.name for c in node.all_columns() if c.path == fp.Constant("rowIndex")}
        nulls = self.d.struct(
            [
                (n, self.d.cast("0", k) if n in index_cols else self.d.null(k, c))
                for n, k, c in inner.fields
            ]
            or _DUMMY
        )
        return self.d.array([nulls])

    def rows_here(self, node: Select, ctx: _Ctx) -> _Rows:
        """The node's rows for one focus: its columns (computed once, outside any lambda) times
        each row array (nested forEach/repeat selects, the unionAll)."""
        pieces = self.pieces(node, ctx)
        cols = [p for p in pieces if not isinstance(p, _Rows)]
        parts = [(self.fresh("r"), p) for p in pieces if isinstance(p, _Rows)]
        if not parts:
            struct = self.d.struct([(n, sql) for n, sql, _k, _c in cols] or _DUMMY)
            only = tuple((n, k, c) for n, _s, k, c in cols)
            return _Rows(self.d.array([struct]), only, struct=struct)
        if len(pieces) == 1:
            return parts[0][1]
        own = self.fresh("o")
        names = iter(var for var, _p in parts)
        picked: list[tuple[str, str]] = []
        fields: list[tuple[str, str, bool]] = []
        for piece in pieces:
            if isinstance(piece, _Rows):
                var = next(names)
                picked.extend((n, self.d.field(var, n)) for n, _k, _c in piece.fields)
                fields.extend(piece.fields)
            else:
                picked.append((piece[0], self.d.field(own, piece[0])))
                fields.append((piece[0], piece[2], piece[3]))
        sql = self.d.struct(picked)
        sql = self.d.transform(parts[-1][1].sql, parts[-1][0], sql)
        for var, part in reversed(parts[:-1]):
            sql = self.d.flatten(self.d.transform(part.sql, var, sql))
        if cols:
            struct = self.d.struct([(n, sql_) for n, sql_, _k, _c in cols])
            sql = self.d.flatten(self.d.transform(self.d.array([struct]), own, sql))
        return _Rows(sql, tuple(fields))

    def pieces(self, node: Select, ctx: _Ctx) -> list[_Rows | _Col]:
        """Columns (name, SQL, kind, collection) and row arrays in output order; a nested select
        without forEach/repeat gives one row per focus, so its pieces are taken in directly."""
        out: list[_Rows | _Col] = [
            (c.name, self.column(c, ctx), FHIR_TYPES.get(c.type or "", TEXT), c.collection)
            for c in node.columns
        ]
        for sub in node.selects:
            if sub.for_each is None and not sub.repeat:
                out.extend(self.pieces(sub, ctx))
            else:
                out.append(self.rows(sub, ctx))
        if node.union:
            out.append(self.union(node, ctx))
        return out

    def union(self, node: Select, ctx: _Ctx) -> _Rows:
        branches = [self.rows(b, ctx) for b in node.union]
        for i, branch in enumerate(branches[1:], start=1):
            if branch.fields != branches[0].fields:
                raise SofError(
                    "sof_union_mismatch", "the branches' columns differ in type or collection",
                    f"{node.where}.unionAll[{i}]",
                )  # fmt: skip
        return _Rows(self.d.concat([b.sql for b in branches]), branches[0].fields)

    def where(self, node: fp.Node, at: str) -> str:
        value = self.expr(node, _Ctx(Root(), "0", at))
        d = self.d
        if isinstance(value, Scalar):
            if value.kind != BOOL:
                raise SofError("sof_where_not_boolean", "a where path must give a boolean", at)
            return f"coalesce({value.sql}, FALSE)"
        if isinstance(value, Root | Elem):
            raise SofError("sof_where_not_boolean", "a where path must give a boolean", at)
        message = d.string(f"{at}: the where path gave something other than one boolean "
                           "[sof_where_not_boolean]")  # fmt: skip
        c = self.fresh("c")
        check = (
            f"(CASE WHEN {d.size(c)} = 0 THEN NULL "
            f"WHEN {d.size(c)} = 1 AND {d.is_boolean(d.first(c))} "
            f"THEN {d.try_cast(d.text(d.first(c)), BOOL)} ELSE {d.error(message)} END)"
        )
        return f"coalesce({d.let(value.sql, c, check)}, FALSE)"


#: how deep repeat follows its paths (a deeper element fails the query: sof_repeat_too_deep)
REPEAT_DEPTH = 8

_DUMMY = [("__sof_none", "NULL")]


def _type_name(node: fp.Node, where: str) -> str:
    if isinstance(node, fp.Member) and node.base is None:
        return node.name
    if isinstance(node, fp.Member) and node.base == fp.Member(None, "FHIR"):
        return node.name
    if isinstance(node, fp.Literal) and isinstance(node.value, str):
        return node.value
    raise SofError("sof_bad_fhirpath", "expected a type name", where)


_FUNCTIONS = {
    "where": Compiler.fn_where,
    "exists": Compiler.fn_exists,
    "empty": Compiler.fn_empty,
    "count": Compiler.fn_count,
    "first": Compiler.fn_first,
    "not": Compiler.fn_not,
    "ofType": Compiler.fn_of_type,
    "extension": Compiler.fn_extension,
    "join": Compiler.fn_join,
    "getResourceKey": Compiler.fn_resource_key,
    "getReferenceKey": Compiler.fn_reference_key,
}
_ARITY: dict[str, tuple[int, ...]] = {
    "where": (1,), "exists": (0, 1), "empty": (0,), "count": (0,), "first": (0,), "not": (0,),
    "ofType": (1,), "extension": (1,), "join": (0, 1), "getResourceKey": (0,),
    "getReferenceKey": (0, 1),
}  # fmt: skip


def compile_parsed(view: View, d: Dialect, source: str, constants: Mapping[str, ConstantValue],
                   carry: tuple[str, ...] = ()) -> str:  # fmt: skip
    """The SQL of a validated view (see :func:`clotsafe.fhir.sof.compile_view`).

    The top node's columns are plain select items and at most one row array is exploded beside
    them; with several row arrays, their product is built first (``Compiler.rows``).
    """
    comp = Compiler(d, view.resource, {**view.constants, **constants})
    ctx = _Ctx(Root(), "0", "")
    pieces = comp.pieces(view.root, ctx)
    if sum(isinstance(p, _Rows) for p in pieces) > 1:
        pieces = [comp.rows(view.root, ctx)]
    inner: list[str] = []
    outer: list[str] = []
    for piece in pieces:
        if isinstance(piece, _Rows):
            inner.append(d.explode(piece.sql))
            outer.extend(
                f"__sof_u.__sof_r.{d.ident(n)} AS {d.ident(n)}" for n, _k, _c in piece.fields
            )
        else:
            inner.append(f"{piece[1]} AS {d.ident(piece[0])}")
            outer.append(f"__sof_u.{d.ident(piece[0])} AS {d.ident(piece[0])}")
    conds = [f"{d.text(d.prefetched(0))} = {d.string(view.resource)}"]
    conds.extend(comp.where(node, at) for node, at in view.where)
    return d.query(inner, outer, source, comp.prefetch, conds, carry)


__all__ = ["Compiler", "compile_parsed"]
