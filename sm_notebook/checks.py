"""Checks of one value against what SageMaker accepts, each raising a :class:`SpecError`
naming the option: the spec's validation is made of these."""

from __future__ import annotations

import os
import re
import unicodedata
from pathlib import Path
from typing import Any

from .errors import SpecError


def check_writable_dir(option: str, path: Path) -> None:
    """``path`` is a directory, or can be made one, that this user can write to."""
    existing = next(p for p in (path, *path.parents) if p.exists())
    if not existing.is_dir():
        raise SpecError(option, f"{existing} is not a directory", "a directory path")
    if not os.access(existing, os.W_OK | os.X_OK):
        raise SpecError(option, f"{existing} is not writable", "a directory you can write to")


def check_choice(option: str, value: str, choices: tuple[str, ...]) -> None:
    if value not in choices:
        raise SpecError(option, f"unknown value {value!r}", " | ".join(choices))


def check_positive(option: str, value: Any, minimum: int = 1, maximum: int | None = None,
                   why: str = "") -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum or (
            maximum is not None and value > maximum):
        bound = f"an integer from {minimum}" + (f" to {maximum}" if maximum else " up")
        raise SpecError(option, f"invalid value {value!r}" + (f": {why}" if why else ""), bound)


def check_service_text(option: str, what: str, text: str, limit: int) -> None:
    """Free text the service takes as it is (``.+`` / ``.*`` in its model): only what it
    refuses is refused here, a line break (its patterns match one line) or the length."""
    expected = f"1 to {limit} characters on one line (SageMaker's limit)"
    if len(text) > limit:
        raise SpecError(option, f"{what} is {len(text)} characters", expected)
    if not text or any(c in "\n\r\x00" for c in text):
        raise SpecError(option, f"invalid {what} {text!r}", expected)


def tag_character(c: str) -> bool:
    """AWS's tag pattern ``[\\p{L}\\p{Z}\\p{N}_.:/=+\\-@]``: letters, separators,
    numbers and a few signs, in any script."""
    return c in "_.:/=+-@" or unicodedata.category(c)[0] in "LZN"


def check_mapping(option: str, mapping: dict[str, str], key_re: re.Pattern[str], limit: int,
                  value_limit: int, expected: str) -> None:
    if len(mapping) > limit:
        raise SpecError(option, f"{len(mapping)} entries, the limit is {limit}")
    for key, value in mapping.items():
        if not key_re.match(key):
            raise SpecError(option, f"invalid name {key!r}", expected)
        if len(str(value)) > value_limit:
            raise SpecError(option, f"{key}: value longer than {value_limit} characters")
