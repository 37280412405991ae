"""Typed hyperparameter values ⇄ the four forms a SageMaker training script sees.

SageMaker stores hyperparameters as a map of strings.  The training toolkit decodes each
value with ``json.loads`` and falls back to the raw string, then hands the script
command-line arguments (``to_cmd_args``), ``SM_HPS`` and one ``SM_HP_<NAME>`` per key.

The SDKs lose types on the way (V2's generic ``str()`` turns ``True`` into ``"True"``;
V3 sends the string ``"1"`` as ``1``).  Here a value is JSON-encoded unless it is a string
that would not decode to anything else, so ``decode(encode(v)) == v`` for every JSON value,
and plain strings stay readable for built-in algorithms (``reg:squarederror``).
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from typing import Any

from .errors import SpecError
from .secrets import is_secret_value

MAX_KEYS = 100
MAX_KEY_LENGTH = 256
MAX_VALUE_LENGTH = 2500

_KEYWORDS = {"true": True, "false": False, "null": None, "True": True, "False": False, "None": None}


def parse_value(text: str) -> Any:
    """Type a value typed on the magic line: a JSON literal when it parses, else the string.

    Python's ``True``/``False``/``None`` are accepted as the JSON keywords; quote a value
    (``'"1"'``) to keep it a string.
    """
    if text in _KEYWORDS:
        return _KEYWORDS[text]
    try:
        value = json.loads(text)
    except ValueError:
        return text
    if isinstance(value, float) and not math.isfinite(value):
        return text  # NaN/Infinity are not portable JSON
    return value


def encode_value(value: Any) -> str:
    """One value → SageMaker's string form (see module docstring)."""
    if isinstance(value, str):
        try:
            json.loads(value)
        except ValueError:
            return value  # decodes back to itself
        return json.dumps(value)
    return json.dumps(value, separators=(", ", ": "))


def decode_value(text: str) -> Any:
    """What the training toolkit (and our launcher) does with one stored value."""
    try:
        return json.loads(text)
    except ValueError:
        return text


def encode(hyperparameters: Mapping[str, Any]) -> dict[str, str]:
    """Typed hyperparameters → the ``HyperParameters`` string map / ``hyperparameters.json``."""
    return {key: encode_value(value) for key, value in hyperparameters.items()}


def decode(stored: Mapping[str, str]) -> dict[str, Any]:
    """``hyperparameters.json`` → typed values, as the toolkit decodes them."""
    return {key: decode_value(value) for key, value in stored.items()}


def _cli_text(value: Any) -> str:
    """The toolkit's ``mapping._decode``: ``str()`` of the decoded value, ``None`` → ``""``."""
    if value is None:
        return ""
    if isinstance(value, Mapping):
        return ",".join(f"{k}={v}" for k, v in sorted(value.items()))
    return str(value)


def to_cli_args(hyperparameters: Mapping[str, Any]) -> list[str]:
    """The argv the training toolkit passes to the entry script (``mapping.to_cmd_args``).

    Keys sorted; one-letter keys get a single dash; booleans arrive as ``True``/``False``;
    dicts as ``a=1,b=2``; lists as their Python repr.  Reproduced exactly so a script sees
    the same arguments here as in an AWS framework container.
    """
    args: list[str] = []
    for key in sorted(hyperparameters):
        args.append(f"-{key}" if len(key) == 1 else f"--{key}")
        args.append(_cli_text(hyperparameters[key]))
    return args


def env_value(value: Any) -> str:
    """The toolkit's environment formatting: strings as-is, the rest as compact JSON."""
    if isinstance(value, str):
        return value
    if value is None:
        return ""
    return json.dumps(value, sort_keys=True, separators=(",", ":"))


def to_env(hyperparameters: Mapping[str, Any]) -> dict[str, str]:
    """``SM_HPS`` plus ``SM_HP_<NAME>`` for each key.

    The toolkit upper-cases the key and keeps dashes (``SM_HP_LEARNING-RATE``); V3's driver
    also replaces them (``SM_HP_LEARNING_RATE``).  Both are set, so scripts written for
    either find their variable.
    """
    env = {"SM_HPS": env_value(dict(hyperparameters))}
    for key, value in hyperparameters.items():  # V3 spellings first: the toolkit's win
        env[f"SM_HP_{key.upper().replace('-', '_')}"] = env_value(value)
    for key, value in hyperparameters.items():  # (a_b's SM_HP_A_B, not a-b's alias)
        env[f"SM_HP_{key.upper()}"] = env_value(value)
    return env


def validate(hyperparameters: Mapping[str, Any], option: str = "--hp") -> None:
    """Check the service limits and that every value is JSON-serialisable."""
    if len(hyperparameters) > MAX_KEYS:
        raise SpecError(option, f"{len(hyperparameters)} hyperparameters, the limit is {MAX_KEYS}")
    for key, value in hyperparameters.items():
        if not isinstance(key, str) or not key or len(key) > MAX_KEY_LENGTH:
            raise SpecError(option, f"invalid name {key!r}", f"1 to {MAX_KEY_LENGTH} characters")
        if key.startswith("sagemaker_"):
            raise SpecError(option, f"{key!r} is reserved for SageMaker",
                            "a name not starting with sagemaker_")
        if any(c.isspace() or c in "=\x00" for c in key) or key.startswith("-"):
            raise SpecError(option, f"invalid name {key!r}",
                            "a name without spaces, '=' or a leading '-'")
        try:
            text = encode_value(value)
        except (TypeError, ValueError):
            raise SpecError(
                option, f"{key}: value of type {type(value).__name__} is not JSON-serialisable",
                "a string, number, boolean, null, list or dict",
            ) from None
        if "\x00" in text or "\x00" in _cli_text(value) or "\x00" in env_value(value):
            raise SpecError(option, f"{key}: the value holds a NUL character (\\x00), which "
                            "no command-line argument or environment variable can carry")
        if len(text) > MAX_VALUE_LENGTH:
            raise SpecError(option, f"{key}: value is {len(text)} characters, the limit is "
                            f"{MAX_VALUE_LENGTH}")
        if is_secret_value(text):
            raise SpecError(option, f"{key}: the value looks like a credential, and "
                            "hyperparameters are stored and logged in clear",
                            "credentials from the job's role or a secret store, read by the script")
