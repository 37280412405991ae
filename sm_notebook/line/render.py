"""A spec back to the ``%%sm_train`` line that parses to it."""

from __future__ import annotations

import re
from typing import Any

from ..spec import TrainingSpec
from .grammar import SPEC_OPTIONS
from .values import hp_text

__all__ = ["hp_text", "quote", "render_line", "words"]

_SAFE_TOKEN = re.compile(r"^[\w@%+=:,./\-]+$")
_DEFAULT = TrainingSpec()


def quote(token: str) -> str:
    """Quote a token so :func:`split_line` returns it unchanged and unexpanded."""
    if token and _SAFE_TOKEN.match(token):
        return token
    return "'" + token.replace("'", "'\"'\"'") + "'"


def words(flag: str, text: str | None) -> list[str]:
    """One option on the line: the flag alone, or with its value quoted (attached with
    ``=`` when it starts with ``-``, which would read as an option)."""
    if text is None:
        return [flag]
    quoted = quote(text)
    return [f"{flag}={quoted}"] if quoted.startswith("-") else [flag, quoted]


def render_line(spec: TrainingSpec, variable: str | None = None,
                skip: frozenset[str] = frozenset()) -> str:
    """The ``%%sm_train`` line that parses back to ``spec`` (launch flags not included);
    options in ``skip`` are left out (the form renders those from its own fields)."""
    out = ["%%sm_train", variable] if variable else ["%%sm_train"]
    for opt in SPEC_OPTIONS:
        value: Any = getattr(spec, opt.field)
        if opt.flag in skip or opt.kind.render is None or (
                not opt.always and value == getattr(_DEFAULT, opt.field)):
            continue
        for text in opt.kind.render(value):
            out.extend(words(opt.flag, text))
    return " ".join(out)
