"""The ``%%sm_train`` line's tokenizer, with explicit expansion.

Expansion follows the shell, so it is predictable: text in single quotes is literal;
unquoted and double-quoted text expands ``$name`` (a variable), ``{expr}`` (a Python
expression) and ``$$``/``{{``/``}}`` (literal ``$``, ``{``, ``}``).  A name that does not
exist is an error naming the option, never a silently unexpanded line (IPython's own
expansion gives up on the whole line when one token fails).  ``{3}`` and ``{1,5}`` stay
literal, so unquoted regex quantifiers survive.  A token that is exactly one reference
(``$lr``, ``lr=$lr``, ``--hps $params``) keeps the object's type.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ..errors import SpecError

_REF = re.compile(r"\$\$|\{\{|\}\}|\$([A-Za-z_]\w*)|\{([^{}]*)\}")
_QUANTIFIER = re.compile(r"^\s*\d*\s*(,\s*\d*\s*)?$")
PLACEHOLDER = re.compile(r"\x00(\d+)\x00")


def split_line(line: str) -> list[list[tuple[str, bool]]]:
    """Split like a POSIX shell; each token is a list of (text, expandable) segments."""
    tokens: list[list[tuple[str, bool]]] = []
    current: list[tuple[str, bool]] | None = None
    i, n = 0, len(line)

    def add(text: str, expand: bool) -> None:
        nonlocal current
        if current is None:
            current = []
        current.append((text, expand))

    while i < n:
        c = line[i]
        if c.isspace():
            if current is not None:
                tokens.append(current)
                current = None
            i += 1
        elif c == "'":
            end = line.find("'", i + 1)
            if end < 0:
                raise SpecError("line", "unclosed single quote", "matching '...' quotes")
            add(line[i + 1:end], False)
            i = end + 1
        elif c == '"':
            i += 1
            buf = []
            while True:
                if i >= n:
                    raise SpecError("line", "unclosed double quote", 'matching "..." quotes')
                ch = line[i]
                if ch == '"':
                    i += 1
                    break
                if ch == "\\" and i + 1 < n and line[i + 1] in '"\\$`{}':
                    if buf:
                        add("".join(buf), True)
                        buf = []
                    add(line[i + 1], False)
                    i += 2
                    continue
                buf.append(ch)
                i += 1
            add("".join(buf), True)
            if current is None:
                add("", False)
        elif _escapes(line, i):
            add(line[i + 1], False)
            i += 2
        else:
            j = i
            while j < n and not line[j].isspace() and line[j] not in "'\"" \
                    and not _escapes(line, j):
                j = _skip_braces(line, j)
            add(line[i:j], True)
            i = j
    if current is not None:
        tokens.append(current)
    return tokens


def _escapes(line: str, i: int) -> bool:
    """Outside quotes a backslash escapes only what the line gives meaning to (space, quotes,
    ``$``, braces, backslash); elsewhere it stays, so an unquoted ``\\d+`` regex survives."""
    return line[i] == "\\" and i + 1 < len(line) and line[i + 1] in _ESCAPABLE


_ESCAPABLE = frozenset(" \t'\"\\$`{}")


def _skip_braces(line: str, i: int) -> int:
    """Index after the character at ``i``; after the whole ``{expression}`` when one opens
    there, so ``--hp lr={base * 2}`` is one token (quotes and nesting inside are kept)."""
    if line[i] != "{" or line.startswith("{{", i):
        return i + 2 if line.startswith("{{", i) else i + 1
    depth, quote, j = 0, "", i
    while j < len(line):
        c = line[j]
        if quote:
            quote = "" if c == quote else quote
        elif c in "'\"":
            quote = c
        elif c == "{":
            depth += 1
        elif c == "}":
            depth -= 1
            if depth == 0:
                return j + 1
        j += 1
    return i + 1  # no closing brace: an ordinary character


@dataclass
class ExpandedLine:
    """Argument strings for argparse plus the objects that whole-reference tokens stand for."""

    args: list[str]
    objects: list[Any]

    def resolve(self, text: str) -> Any:
        """A parsed value back to its object when it is exactly a placeholder, else text."""
        match = PLACEHOLDER.fullmatch(text)
        if match:
            return self.objects[int(match.group(1))]
        return PLACEHOLDER.sub(lambda m: str(self.objects[int(m.group(1))]), text)


def expand_line(line: str, namespace: Mapping[str, Any]) -> ExpandedLine:
    """Tokenize ``line`` and expand references from ``namespace`` (see module docstring)."""
    raw = split_line(line)
    result = ExpandedLine([], [])
    for index, segments in enumerate(raw):
        option = _option_context(raw, index)
        parts: list[Any] = []  # str pieces or _Obj
        for text, expandable in segments:
            parts.extend(_expand_segment(text, namespace, option) if expandable else [text])
        result.args.append(_join_parts(parts, result.objects))
    return result


class _Obj:
    __slots__ = ("value",)

    def __init__(self, value: Any):
        self.value = value


def _option_context(raw: list[list[tuple[str, bool]]], index: int) -> str:
    def plain(i: int) -> str:
        return "".join(t for t, _ in raw[i])

    here = plain(index)
    if here.startswith("--"):
        return here.split("=", 1)[0]
    if index > 0 and plain(index - 1).startswith("--"):
        return plain(index - 1)
    return "line"


def _expand_segment(text: str, namespace: Mapping[str, Any], option: str) -> list[Any]:
    parts: list[Any] = []
    pos = 0
    for m in _REF.finditer(text):
        parts.append(text[pos:m.start()])
        token, name, expr = m.group(0), m.group(1), m.group(2)
        if token == "$$":
            parts.append("$")
        elif token in ("{{", "}}"):
            parts.append(token[0])
        elif name is not None:
            if name not in namespace:
                raise SpecError(option, f"${name}: no variable named {name!r} in the notebook",
                                "an existing variable, or $$ for a literal $")
            parts.append(_Obj(namespace[name]))
        elif _QUANTIFIER.match(expr):
            parts.append(token)  # {3} or {1,5}: a regex quantifier, not an expression
        else:
            try:
                value = eval(expr, dict(namespace))
            except Exception as exc:
                raise SpecError(option, f"{{{expr}}}: {type(exc).__name__}: {exc}",
                                "a Python expression, or '...' quotes for literal text") from None
            parts.append(_Obj(value))
        pos = m.end()
    parts.append(text[pos:])
    return [p for p in parts if not (isinstance(p, str) and p == "")]


def _join_parts(parts: list[Any], objects: list[Any]) -> str:
    objs = [p for p in parts if isinstance(p, _Obj)]
    whole = len(objs) == 1 and (
        len(parts) == 1 or (len(parts) == 2 and isinstance(parts[0], str)
                            and parts[0].endswith("=") and isinstance(parts[1], _Obj)))
    if whole:
        objects.append(objs[0].value)
        prefix = parts[0] if len(parts) == 2 else ""
        return f"{prefix}\x00{len(objects) - 1}\x00"
    return "".join(p if isinstance(p, str) else str(p.value) for p in parts)


