"""A parser for the FHIRPath subset the compiler handles: the syntax tree, nothing about SQL.

Grammar (precedence from loosest): ``implies``; ``or``/``xor``; ``and``; ``in``/``contains``;
``=``/``!=``/``~``/``!~``; ``<``/``<=``/``>``/``>=``; ``|``; ``+``/``-``/``&``;
``*``/``/``/``div``/``mod``; unary ``-``; then invocations (``.name``, ``.fn(args)``) and
indexers (``[n]``) on a term (a literal, ``%constant``, ``$this``, an identifier, a function call,
or a parenthesised expression). Operators the compiler does not translate parse fine and are
refused later with ``sof_unsupported``, so the error names the operator.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from clotsafe.fhir.sof.errors import SofError


@dataclass(frozen=True)
class Literal:
    """A string, number, boolean or date literal (``@2020-01-01`` is kept as its text)."""

    value: str | int | float | bool
    is_date: bool = False


@dataclass(frozen=True)
class Empty:
    """``{}``: the empty collection."""


@dataclass(frozen=True)
class Constant:
    """``%name``: a view constant, one passed in, or ``%resource``/``%rowIndex``."""

    name: str


@dataclass(frozen=True)
class This:
    """``$this``: the focus."""


@dataclass(frozen=True)
class Member:
    """``base.name`` (``base`` None: a name on the focus)."""

    base: Node | None
    name: str


@dataclass(frozen=True)
class Call:
    """``base.name(args)`` (``base`` None: a function on the focus)."""

    base: Node | None
    name: str
    args: tuple[Node, ...]


@dataclass(frozen=True)
class Index:
    """``base[index]``."""

    base: Node
    index: Node


@dataclass(frozen=True)
class Binary:
    """``left op right``."""

    op: str
    left: Node
    right: Node


@dataclass(frozen=True)
class Negate:
    """Unary minus."""

    operand: Node


Node = Literal | Empty | Constant | This | Member | Call | Index | Binary | Negate

_TOKEN = re.compile(
    r"""
    (?P<ws>\s+)
  | (?P<comment>//[^\n]*|/\*.*?\*/)
  | (?P<date>@[0-9T][0-9T:\-+.Z]*)
  | (?P<number>\d+(?:\.\d+)?)
  | (?P<string>'(?:[^'\\]|\\.)*')
  | (?P<quoted>`(?:[^`\\]|\\.)*`)
  | (?P<const>%(?:[A-Za-z_][A-Za-z0-9_]*|`(?:[^`\\]|\\.)*`|'(?:[^'\\]|\\.)*'))
  | (?P<special>\$(?:this|index|total))
  | (?P<ident>[A-Za-z_][A-Za-z0-9_]*)
  | (?P<op><=|>=|!=|!~|[-+*/&|=~<>(){}\[\].,])
    """,
    re.VERBOSE | re.DOTALL,
)
_ESCAPES = {"n": "\n", "r": "\r", "t": "\t", "f": "\f"}
_BINARY_LEVELS: tuple[tuple[str, ...], ...] = (
    ("implies",),
    ("or", "xor"),
    ("and",),
    ("in", "contains"),
    ("=", "!=", "~", "!~"),
    ("<", "<=", ">", ">="),
    ("|",),
    ("+", "-", "&"),
    ("*", "/", "div", "mod"),
)
_WORD_OPS = {"implies", "or", "xor", "and", "in", "contains", "div", "mod"}


@dataclass(frozen=True)
class _Tok:
    kind: str
    text: str
    pos: int


def _unescape(body: str) -> str:
    out: list[str] = []
    i = 0
    while i < len(body):
        ch = body[i]
        if ch == "\\" and i + 1 < len(body):
            nxt = body[i + 1]
            if nxt == "u" and re.fullmatch(r"[0-9a-fA-F]{4}", body[i + 2 : i + 6]):
                out.append(chr(int(body[i + 2 : i + 6], 16)))
                i += 6
                continue
            out.append(_ESCAPES.get(nxt, nxt))
            i += 2
            continue
        out.append(ch)
        i += 1
    return "".join(out)


def _tokens(text: str, where: str) -> list[_Tok]:
    toks: list[_Tok] = []
    pos = 0
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if m is None:
            raise SofError(
                "sof_bad_fhirpath",
                f"cannot read {text[pos : pos + 10]!r} at character {pos}",
                where,
            )
        kind = m.lastgroup or ""
        if kind not in ("ws", "comment"):
            toks.append(_Tok(kind, m.group(), pos))
        pos = m.end()
    toks.append(_Tok("end", "", len(text)))
    return toks


class _Parser:
    def __init__(self, text: str, where: str) -> None:
        self.text = text
        self.where = where
        self.toks = _tokens(text, where)
        self.i = 0

    def fail(self, message: str) -> SofError:
        tok = self.toks[self.i]
        got = f"{tok.text!r}" if tok.text else "the end"
        return SofError(
            "sof_bad_fhirpath", f"{message}, got {got} at character {tok.pos}", self.where
        )

    def peek(self) -> _Tok:
        return self.toks[self.i]

    def take(self) -> _Tok:
        tok = self.toks[self.i]
        self.i += 1
        return tok

    def accept(self, text: str) -> bool:
        tok = self.peek()
        if tok.kind in ("op", "ident") and tok.text == text:
            self.i += 1
            return True
        return False

    def expect(self, text: str) -> None:
        if not self.accept(text):
            raise self.fail(f"expected {text!r}")

    def parse(self) -> Node:
        node = self.binary(0)
        if self.peek().kind != "end":
            raise self.fail("expected the end of the expression")
        return node

    def binary(self, level: int) -> Node:
        if level == len(_BINARY_LEVELS):
            return self.unary()
        left = self.binary(level + 1)
        while True:
            tok = self.peek()
            ops = _BINARY_LEVELS[level]
            is_op = tok.kind == "op" or (tok.kind == "ident" and tok.text in _WORD_OPS)
            if not (is_op and tok.text in ops):
                return left
            self.take()
            left = Binary(tok.text, left, self.binary(level + 1))

    def unary(self) -> Node:
        if self.accept("-"):
            return Negate(self.unary())
        if self.accept("+"):
            return self.unary()
        return self.postfix(self.term())

    def postfix(self, node: Node) -> Node:
        while True:
            if self.accept("."):
                node = self.invocation(node)
            elif self.accept("["):
                index = self.binary(0)
                self.expect("]")
                node = Index(node, index)
            else:
                return node

    def identifier(self, after_dot: bool) -> str | None:
        tok = self.peek()
        if tok.kind == "ident" and (after_dot or tok.text not in _WORD_OPS):
            self.take()
            return tok.text
        if tok.kind == "quoted":
            self.take()
            return _unescape(tok.text[1:-1])
        return None

    def invocation(self, base: Node | None) -> Node:
        name = self.identifier(after_dot=base is not None)
        if name is None:
            raise self.fail("expected a name")
        if self.accept("("):
            args: list[Node] = []
            if not self.accept(")"):
                args.append(self.binary(0))
                while self.accept(","):
                    args.append(self.binary(0))
                self.expect(")")
            return Call(base, name, tuple(args))
        return Member(base, name)

    def term(self) -> Node:
        tok = self.peek()
        if tok.kind == "number":
            self.take()
            return Literal(float(tok.text) if "." in tok.text else int(tok.text))
        if tok.kind == "string":
            self.take()
            return Literal(_unescape(tok.text[1:-1]))
        if tok.kind == "date":
            self.take()
            return Literal(tok.text[1:], is_date=True)
        if tok.kind == "const":
            self.take()
            raw = tok.text[1:]
            return Constant(_unescape(raw[1:-1]) if raw[0] in "`'" else raw)
        if tok.kind == "special":
            self.take()
            if tok.text != "$this":
                raise SofError("sof_unsupported", f"{tok.text} is not supported", self.where)
            return This()
        if tok.kind == "ident" and tok.text in ("true", "false"):
            self.take()
            return Literal(tok.text == "true")
        if self.accept("("):
            node = self.binary(0)
            self.expect(")")
            return node
        if self.accept("{"):
            self.expect("}")
            return Empty()
        return self.invocation(None)


def parse(text: str, where: str = "") -> Node:
    """The syntax tree of ``text``; ``where`` (the path into the view) goes into errors."""
    if not isinstance(text, str) or not text.strip():
        raise SofError("sof_bad_fhirpath", "expected a FHIRPath expression", where)
    return _Parser(text, where).parse()
