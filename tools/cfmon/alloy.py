"""Grafana Alloy configuration syntax: a parser, and a validator against the components we render.

No Alloy binary can run on the build machines, so the rendered `config.alloy` is checked here:
`parse()` turns the text into blocks and attributes (a syntax error names its line), and
`validate()` compares them with COMPONENTS, the components and stage blocks the alloy subchart
uses with their arguments as documented by Grafana (data, in cfmon.alloy_components): an unknown
component, block or attribute, a missing required attribute, a literal of the wrong type or a
reference to a component that is not defined is a problem.

Syntax covered: blocks `name.part "label" { ... }`, attributes `name = expr`, strings ("..." with
Go escapes, `raw`), numbers, booleans, null, lists, objects `{ key = expr, "key" = expr }`,
references `a.b.c`, calls `f(x)`, indexing, unary and binary operators, `//` and `/* */`
comments.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from cfmon.alloy_components import COMPONENTS, FUNCTIONS, STDLIB, Spec
from cfmon.catalog import conventions

# ---- syntax tree ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Ref:
    """A reference to a component's export or a standard library value: `loki.write.default.receiver`."""

    path: str


@dataclass(frozen=True)
class Call:
    function: str
    args: tuple[Any, ...]


@dataclass(frozen=True)
class Op:
    """A unary or binary operation (its value is only known when Alloy runs)."""

    op: str
    operands: tuple[Any, ...]


@dataclass
class Attribute:
    name: str
    value: Any
    line: int


@dataclass
class Block:
    name: str  # dotted: `loki.process`, `stage.json`, `rule`
    label: str | None
    line: int
    body: list[Attribute | Block] = field(default_factory=list)

    @property
    def attributes(self) -> dict[str, Attribute]:
        return {s.name: s for s in self.body if isinstance(s, Attribute)}

    @property
    def blocks(self) -> list[Block]:
        return [s for s in self.body if isinstance(s, Block)]

    @property
    def title(self) -> str:
        return f'{self.name} "{self.label}"' if self.label is not None else self.name


class AlloySyntaxError(ValueError):
    def __init__(self, message: str, line: int, column: int) -> None:
        super().__init__(f"line {line}, column {column}: {message}")
        self.message, self.line, self.column = message, line, column


# ---- tokens --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Token:
    kind: str  # ident | string | number | punct | eof
    text: str
    value: Any
    line: int
    column: int


_PUNCT = ("==", "!=", "<=", ">=", "&&", "||", "{", "}", "[", "]", "(", ")", ",", ".", "=", "<", ">")
_PUNCT += ("+", "-", "*", "/", "%", "^", "!")
_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_NUMBER = re.compile(r"\d+(\.\d+)?([eE][+-]?\d+)?")
_SIMPLE_ESCAPES = {
    "a": "\a",
    "b": "\b",
    "f": "\f",
    "n": "\n",
    "r": "\r",
    "t": "\t",
    "v": "\v",
    "\\": "\\",
    '"': '"',
    "'": "'",
}
_HEX_ESCAPES = {"x": 2, "u": 4, "U": 8}


def tokenize(text: str) -> list[Token]:
    tokens: list[Token] = []
    i, line, col = 0, 1, 1

    def error(message: str) -> AlloySyntaxError:
        return AlloySyntaxError(message, line, col)

    while i < len(text):
        ch = text[i]
        if ch == "\n":
            i, line, col = i + 1, line + 1, 1
            continue
        if ch in " \t\r":
            i, col = i + 1, col + 1
            continue
        if text.startswith("//", i):
            end = text.find("\n", i)
            i = len(text) if end < 0 else end
            continue
        if text.startswith("/*", i):
            end = text.find("*/", i + 2)
            if end < 0:
                raise error("unterminated /* comment")
            chunk = text[i : end + 2]
            line += chunk.count("\n")
            col = len(chunk) - chunk.rfind("\n") if "\n" in chunk else col + len(chunk)
            i = end + 2
            continue
        start_line, start_col = line, col
        if ch == '"':
            value, j = _string(text, i, line, col)
            tokens.append(Token("string", text[i:j], value, start_line, start_col))
            col += j - i
            i = j
            continue
        if ch == "`":
            end = text.find("`", i + 1)
            if end < 0:
                raise error("unterminated raw string (no closing backtick)")
            raw = text[i + 1 : end]
            tokens.append(Token("string", text[i : end + 1], raw, start_line, start_col))
            if "\n" in raw:
                line += raw.count("\n")
                col = len(raw) - raw.rfind("\n") + 1
            else:
                col += end + 1 - i
            i = end + 1
            continue
        m = _IDENT.match(text, i) or _NUMBER.match(text, i)
        if m:
            word = m.group(0)
            if word[0].isdigit():
                value: Any = float(word) if any(c in word for c in ".eE") else int(word)
                tokens.append(Token("number", word, value, start_line, start_col))
            else:
                tokens.append(Token("ident", word, word, start_line, start_col))
            i, col = m.end(), col + len(word)
            continue
        punct = next((p for p in _PUNCT if text.startswith(p, i)), None)
        if punct is None:
            raise error(f"unexpected character {ch!r}")
        tokens.append(Token("punct", punct, punct, start_line, start_col))
        i, col = i + len(punct), col + len(punct)
    tokens.append(Token("eof", "", None, line, col))
    return tokens


def _string(text: str, i: int, line: int, col: int) -> tuple[str, int]:
    """The value of the double-quoted string at text[i], and the index after its closing quote."""
    out: list[str] = []
    j = i + 1
    while True:
        if j >= len(text) or text[j] == "\n":
            raise AlloySyntaxError("unterminated string (a string ends on its line)", line, col)
        ch = text[j]
        if ch == '"':
            return "".join(out), j + 1
        if ch != "\\":
            out.append(ch)
            j += 1
            continue
        esc = text[j + 1 : j + 2]
        if esc in _SIMPLE_ESCAPES:
            out.append(_SIMPLE_ESCAPES[esc])
            j += 2
        elif esc in _HEX_ESCAPES:
            digits = text[j + 2 : j + 2 + _HEX_ESCAPES[esc]]
            if not re.fullmatch(r"[0-9a-fA-F]+", digits) or len(digits) != _HEX_ESCAPES[esc]:
                raise AlloySyntaxError(f"invalid \\{esc} escape in string", line, col + j - i)
            out.append(chr(int(digits, 16)))
            j += 2 + len(digits)
        elif re.fullmatch(r"[0-7]", esc):
            digits = text[j + 1 : j + 4]
            if not re.fullmatch(r"[0-7]{3}", digits):
                raise AlloySyntaxError("invalid octal escape in string", line, col + j - i)
            out.append(chr(int(digits, 8)))
            j += 4
        else:
            raise AlloySyntaxError(f"unknown escape sequence \\{esc} in string", line, col + j - i)


# ---- parser --------------------------------------------------------------------------------------

# Binary operators, loosest first; `^` binds to the right.
_BINARY = (("||",), ("&&",), ("==", "!=", "<", ">", "<=", ">="), ("+", "-"), ("*", "/", "%"), ("^",))


class _Parser:
    def __init__(self, tokens: list[Token]) -> None:
        self.tokens = tokens
        self.pos = 0

    @property
    def tok(self) -> Token:
        return self.tokens[self.pos]

    def next(self) -> Token:
        tok = self.tokens[self.pos]
        self.pos += 1
        return tok

    def error(self, message: str, tok: Token | None = None) -> AlloySyntaxError:
        tok = tok or self.tok
        return AlloySyntaxError(message, tok.line, tok.column)

    def expect(self, text: str) -> Token:
        if self.tok.text != text or self.tok.kind == "string":
            raise self.error(f"expected {text!r}, found {self._shown(self.tok)}")
        return self.next()

    @staticmethod
    def _shown(tok: Token) -> str:
        return "end of file" if tok.kind == "eof" else repr(tok.text)

    def body(self, closing: str | None) -> list[Attribute | Block]:
        out: list[Attribute | Block] = []
        last_line = 0
        while not (self.tok.kind == "eof" or (closing and self.tok.text == closing)):
            if self.tok.line == last_line:
                raise self.error(f"{self._shown(self.tok)} must start on a new line")
            out.append(self.statement())
            last_line = self.tokens[self.pos - 1].line
        if closing:
            if self.tok.kind == "eof":
                raise self.error(f"missing {closing!r} at end of file")
            self.next()
        return out

    def statement(self) -> Attribute | Block:
        first = self.tok
        if first.kind != "ident":
            raise self.error(f"expected an attribute or block name, found {self._shown(first)}")
        parts = [self.next().text]
        while self.tok.text == "." and self.tok.kind == "punct":
            self.next()
            if self.tok.kind != "ident":
                raise self.error(f"expected a name after '.', found {self._shown(self.tok)}")
            parts.append(self.next().text)
        name = ".".join(parts)
        if self.tok.kind == "punct" and self.tok.text == "=":
            if len(parts) > 1:
                raise self.error(f"an attribute name cannot contain '.': {name}", first)
            self.next()
            return Attribute(name, self.expression(), first.line)
        label = None
        if self.tok.kind == "string":
            label = self.next().value
        if not (self.tok.kind == "punct" and self.tok.text == "{"):
            raise self.error(f"expected '=' or a block body after {name}, found {self._shown(self.tok)}")
        self.next()
        return Block(name, label, first.line, self.body("}"))

    def expression(self, level: int = 0) -> Any:
        if level == len(_BINARY):
            return self.unary()
        left = self.expression(level + 1)
        while self.tok.kind == "punct" and self.tok.text in _BINARY[level]:
            op = self.next().text
            right = self.expression(level if op == "^" else level + 1)
            left = Op(op, (left, right))
        return left

    def unary(self) -> Any:
        if self.tok.kind == "punct" and self.tok.text in ("!", "-"):
            op = self.next().text
            operand = self.unary()
            if op == "-" and isinstance(operand, int | float) and not isinstance(operand, bool):
                return -operand
            return Op(op, (operand,))
        return self.postfix()

    def postfix(self) -> Any:
        value = self.primary()
        while self.tok.kind == "punct" and self.tok.text in (".", "[", "("):
            punct = self.next().text
            if punct == ".":
                if self.tok.kind != "ident" or not isinstance(value, Ref):
                    raise self.error(f"expected a name after '.', found {self._shown(self.tok)}")
                value = Ref(f"{value.path}.{self.next().text}")
            elif punct == "[":
                index = self.expression()
                self.expect("]")
                value = Op("[]", (value, index))
            else:
                if not isinstance(value, Ref):
                    raise self.error("only a name can be called")
                value = Call(value.path, tuple(self.items(")")))
        return value

    def items(self, closing: str) -> list[Any]:
        out = []
        while not (self.tok.kind == "punct" and self.tok.text == closing):
            if self.tok.kind == "eof":
                raise self.error(f"missing {closing!r}")
            out.append(self.expression())
            if self.tok.kind == "punct" and self.tok.text == ",":
                self.next()
            elif not (self.tok.kind == "punct" and self.tok.text == closing):
                raise self.error(f"expected ',' or {closing!r}, found {self._shown(self.tok)}")
        self.next()
        return out

    def primary(self) -> Any:
        tok = self.tok
        if tok.kind in ("string", "number"):
            self.next()
            return tok.value
        if tok.kind == "ident":
            self.next()
            return {"true": True, "false": False, "null": None}.get(tok.text, Ref(tok.text))
        if tok.kind == "punct" and tok.text == "(":
            self.next()
            value = self.expression()
            self.expect(")")
            return value
        if tok.kind == "punct" and tok.text == "[":
            self.next()
            return self.items("]")
        if tok.kind == "punct" and tok.text == "{":
            self.next()
            return self.object()
        raise self.error(f"expected a value, found {self._shown(tok)}")

    def object(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        while not (self.tok.kind == "punct" and self.tok.text == "}"):
            key_tok = self.tok
            if key_tok.kind not in ("ident", "string"):
                raise self.error(f"expected an object key, found {self._shown(key_tok)}")
            self.next()
            key = key_tok.value
            if key in out:
                raise self.error(f"duplicate object key {key!r}", key_tok)
            self.expect("=")
            out[key] = self.expression()
            if self.tok.kind == "punct" and self.tok.text == ",":
                self.next()
            elif not (self.tok.kind == "punct" and self.tok.text == "}"):
                raise self.error(f"expected ',' or '}}', found {self._shown(self.tok)}")
        self.next()
        return out


def parse(text: str) -> list[Attribute | Block]:
    """The top-level statements of an Alloy config; AlloySyntaxError (with line) when it is not valid."""
    parser = _Parser(tokenize(text))
    return parser.body(None)


def references(value: Any) -> list[Ref]:
    """Every reference inside a value (lists, objects, calls and operations included)."""
    if isinstance(value, Ref):
        return [value]
    if isinstance(value, Call):
        return [r for arg in value.args for r in references(arg)]
    if isinstance(value, Op):
        return [r for operand in value.operands for r in references(operand)]
    if isinstance(value, list):
        return [r for item in value for r in references(item)]
    if isinstance(value, dict):
        return [r for item in value.values() for r in references(item)]
    return []


def calls(value: Any) -> list[Call]:
    """Every function call inside a value."""
    if isinstance(value, Call):
        return [value, *(c for arg in value.args for c in calls(arg))]
    if isinstance(value, Op):
        return [c for operand in value.operands for c in calls(operand)]
    if isinstance(value, list):
        return [c for item in value for c in calls(item)]
    if isinstance(value, dict):
        return [c for item in value.values() for c in calls(item)]
    return []


def walk(statements: list[Attribute | Block], parents: tuple[Block, ...] = ()):
    """(block, its ancestors) for every block, depth first in file order."""
    for s in statements:
        if isinstance(s, Block):
            yield s, parents
            yield from walk(s.body, (*parents, s))


# ---- validation against the component table -----------------------------------------------------

DURATION = re.compile(r"^(0|(\d+(\.\d+)?(ns|us|µs|ms|s|m|h))+)$")


@dataclass(frozen=True)
class Problem:
    line: int
    message: str


def _type_error(value: Any, kind: Any) -> str | None:
    """Why a literal does not fit the attribute type (None when it fits or is only known at run time)."""
    if isinstance(value, Ref | Call | Op) or kind == "any":
        return None
    if kind == "relabel_action":
        kind = conventions().relabel_actions
    if isinstance(kind, tuple):
        if not isinstance(value, str) or value not in kind:
            return f"must be one of {', '.join(kind)}, not {_shown(value)}"
        return None
    checks = {
        "string": lambda v: isinstance(v, str),
        "bool": lambda v: isinstance(v, bool),
        "number": lambda v: isinstance(v, int | float) and not isinstance(v, bool),
        "duration": lambda v: isinstance(v, str) and bool(DURATION.match(v)),
        "list": lambda v: isinstance(v, list),
        "map": lambda v: isinstance(v, dict),
        "list(string)": lambda v: (
            isinstance(v, list) and all(isinstance(i, str | Ref | Call | Op) for i in v)
        ),
        "map(string)": lambda v: (
            isinstance(v, dict) and all(isinstance(i, str | Ref | Call | Op) for i in v.values())
        ),
        "receivers": lambda v: (
            isinstance(v, list) and all(isinstance(i, Ref) and i.path.endswith(".receiver") for i in v)
        ),
    }
    if checks[kind](value):
        return None
    wanted = {
        "duration": 'a duration string like "30s"',
        "receivers": "a list of component receivers ([loki.write.x.receiver])",
    }.get(kind, f"a {kind}")
    return f"must be {wanted}, not {_shown(value)}"


def _shown(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    if isinstance(value, str):
        return f'"{value}"'
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "an object"
    return str(value)


def _check_block(block: Block, spec: Spec, where: str, problems: list[Problem]) -> None:
    attrs = block.attributes
    for name, attr in attrs.items():
        if name not in spec.attrs:
            allowed = ", ".join(sorted(spec.attrs)) or "none"
            problems.append(Problem(attr.line, f"{where}: unknown attribute {name} (allowed: {allowed})"))
            continue
        why = _type_error(attr.value, spec.attrs[name])
        if why:
            problems.append(Problem(attr.line, f"{where}: {name} {why}"))
    seen: set[str] = set()
    for attr in block.body:
        if isinstance(attr, Attribute):
            if attr.name in seen:
                problems.append(Problem(attr.line, f"{where}: attribute {attr.name} is set twice"))
            seen.add(attr.name)
    for name in sorted(spec.required - attrs.keys()):
        problems.append(Problem(block.line, f"{where}: missing required attribute {name}"))
    for child in block.blocks:
        child_where = f"{where} > {child.name}"
        child_spec = spec.blocks.get(child.name)
        if child_spec is None:
            allowed = ", ".join(sorted(spec.blocks)) or "none"
            problems.append(Problem(child.line, f"{where}: unknown block {child.name} (allowed: {allowed})"))
            continue
        if child.label is not None:
            problems.append(Problem(child.line, f"{child_where}: an inner block takes no label"))
        _check_block(child, child_spec, child_where, problems)


def validate(statements: list[Attribute | Block]) -> list[Problem]:
    """What is wrong with a parsed config against COMPONENTS, in line order."""
    problems: list[Problem] = []
    defined: dict[tuple[str, str], Block] = {}
    for s in statements:
        if isinstance(s, Attribute):
            problems.append(Problem(s.line, f"attribute {s.name} outside any block"))
            continue
        spec = COMPONENTS.get(s.name)
        if spec is None:
            problems.append(
                Problem(s.line, f"unknown component {s.name} (known here: {', '.join(sorted(COMPONENTS))})")
            )
            continue
        if spec.labelled and s.label is None:
            problems.append(
                Problem(s.line, f'{s.name}: a component needs a label ({s.name} "name" {{ ... }})')
            )
        if not spec.labelled and s.label is not None:
            problems.append(Problem(s.line, f"{s.name}: takes no label"))
        if s.label is not None:
            if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", s.label):
                problems.append(Problem(s.line, f'{s.title}: a label is letters, digits and "_" only'))
            key = (s.name, s.label)
            if key in defined:
                problems.append(
                    Problem(s.line, f"{s.title} is defined twice (first on line {defined[key].line})")
                )
            defined[key] = s
        _check_block(s, spec, s.title, problems)
    for block, _ in walk(statements):
        for attr in block.attributes.values():
            for call in calls(attr.value):
                if call.function not in FUNCTIONS:
                    known = ", ".join(FUNCTIONS)
                    problems.append(
                        Problem(
                            attr.line,
                            f"{block.title}: {attr.name}: unknown function {call.function} ({known})",
                        )
                    )
            for ref in references(attr.value):
                why = _reference_error(ref, defined)
                if why:
                    problems.append(Problem(attr.line, f"{block.title}: {attr.name}: {why}"))
    return sorted(problems, key=lambda p: p.line)


def _reference_error(ref: Ref, defined: dict[tuple[str, str], Block]) -> str | None:
    if ref.path in STDLIB:
        return None
    for name, spec in COMPONENTS.items():
        if not ref.path.startswith(name + "."):
            continue
        rest = ref.path[len(name) + 1 :].split(".")
        if len(rest) != 2:
            return f"{ref.path} is not <component>.<label>.<export>"
        label, export = rest
        if (name, label) not in defined:
            return f'{ref.path} refers to {name} "{label}", which is not defined'
        if export not in spec.exports:
            exports = ", ".join(sorted(spec.exports)) or "nothing"
            return f"{ref.path}: {name} exports {exports}, not {export}"
        return None
    return f"unknown reference {ref.path}"
