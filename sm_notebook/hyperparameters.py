"""Typed hyperparameter values ⇄ what a training script sees, in the two SDKs' styles.

SageMaker stores hyperparameters as a map of strings.  Inside the container every value is
decoded with ``json.loads``, falling back to the raw string, and the script gets
command-line arguments, ``SM_HPS`` and one ``SM_HP_<NAME>`` per key.  The two SDKs
differ at every one of those steps, and scripts are written against one of them
(reference ``sagemaker-contract.md`` §1.2, §2.3-2.5):

- **v3** (``ModelTrainer``, the current SDK): strings are stored as they are and
  everything else as JSON (``safe_serialize``); V3's driver passes ``--key value`` in the
  given order with the decoded value re-serialised the same way (``true``, ``[1, 2]``,
  ``{"a": 1}``), ``SM_HPS`` is ``json.dumps`` of the decoded map and ``SM_HP_<NAME>``
  replaces dashes with underscores.
- **v2** (the framework estimators with the training toolkit): every value is
  ``json.dumps``'d (``"adam"`` is stored as ``"\"adam\""``); the toolkit's
  ``to_cmd_args`` sorts the keys, gives one-letter keys one dash and passes ``str()`` of
  the decoded value (``True``, ``a=1,b=2`` for a dict, a Python repr for a list);
  ``SM_HPS`` is compact sorted JSON and ``SM_HP_<NAME>`` keeps dashes.

Each style reproduces its SDK exactly, so a script sees here what it sees there.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from typing import Any

from .errors import SpecError
from .secrets import holds_credential

MAX_KEYS = 100
MAX_KEY_LENGTH = 256
MAX_VALUE_LENGTH = 2500

STYLES = ("v3", "v2")
_WHY_NOT = {"=": "SM_HP_<NAME> is an environment variable, whose name cannot hold '='",
            "\x00": "no argument or environment variable can hold NUL",
            "\n": "SageMaker's pattern for names allows no line break",
            "\r": "SageMaker's pattern for names allows no line break"}
DEFAULT_STYLE = "v3"

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


def _serialize(value: Any) -> str:
    """V3's ``safe_serialize``: a string as it is, anything else as JSON."""
    return value if isinstance(value, str) else json.dumps(value)


def encode_value(value: Any, style: str = DEFAULT_STYLE) -> str:
    """One value → its stored string (``HyperParameters`` / ``hyperparameters.json``)."""
    return _serialize(value) if style == "v3" else json.dumps(value)


def decode_value(text: str) -> Any:
    """What the toolkit and V3's driver do with one stored value."""
    try:
        return json.loads(text)
    except ValueError:
        return text


def encode(hyperparameters: Mapping[str, Any], style: str = DEFAULT_STYLE) -> dict[str, str]:
    """Typed hyperparameters → the ``HyperParameters`` string map / ``hyperparameters.json``."""
    return {key: encode_value(value, style) for key, value in hyperparameters.items()}


def decode(stored: Mapping[str, str]) -> dict[str, Any]:
    """``hyperparameters.json`` → typed values, as the container decodes them."""
    return {key: decode_value(value) for key, value in stored.items()}


def seen(hyperparameters: Mapping[str, Any], style: str = DEFAULT_STYLE) -> dict[str, Any]:
    """The typed values the script gets back (under v3 the string ``"5"`` arrives as 5)."""
    return decode(encode(hyperparameters, style))


def _toolkit_text(value: Any) -> str:
    """The toolkit's ``mapping._decode``: ``str()`` of the decoded value, ``None`` → ``""``."""
    if value is None:
        return ""
    if isinstance(value, Mapping):
        return ",".join(f"{k}={v}" for k, v in sorted(value.items()))
    return str(value)


def to_cli_args(hyperparameters: Mapping[str, Any], style: str = DEFAULT_STYLE) -> list[str]:
    """The argv the style's SDK passes to the entry script (see the module docstring)."""
    values = seen(hyperparameters, style)
    if style == "v3":  # V3's hyperparameters_to_cli_args
        return [item for key, value in values.items() for item in (f"--{key}",
                                                                    _serialize(value))]
    args: list[str] = []  # the toolkit's mapping.to_cmd_args
    for key in sorted(values):
        args += [f"-{key}" if len(key) == 1 else f"--{key}", _toolkit_text(values[key])]
    return args


def env_value(value: Any) -> str:
    """The toolkit's environment formatting: strings as-is, the rest as compact JSON."""
    if isinstance(value, str):
        return value
    if value is None:
        return ""
    return json.dumps(value, sort_keys=True, separators=(",", ":"))


def json_env(value: Any, style: str = DEFAULT_STYLE) -> str:
    """A JSON-valued variable (``SM_HPS``, ``SM_TRAINING_ENV``) as the style writes it."""
    return json.dumps(value) if style == "v3" else env_value(value)


def to_env(hyperparameters: Mapping[str, Any], style: str = DEFAULT_STYLE) -> dict[str, str]:
    """``SM_HPS`` plus one ``SM_HP_<NAME>`` per key, named and formatted as the style's SDK
    does (V3: ``SM_HP_LEARNING_RATE``; the toolkit: ``SM_HP_LEARNING-RATE``)."""
    values = seen(hyperparameters, style)
    env = {"SM_HPS": json_env(values, style)}
    for key, value in values.items():
        if style == "v3":
            env[f"SM_HP_{key.replace('-', '_').upper()}"] = _serialize(value)
        else:
            env[f"SM_HP_{key.upper()}"] = env_value(value)
    return env


SECRETS_HINT = "credentials from the job's role or a secret store, read by the script"


def _over(value: Any, budget: int) -> bool:
    """More than ``budget`` items in ``value``, counted without building its text: a
    value shared many times over (YAML aliases, ``[row] * 9`` nested nine deep, a cycle)
    would otherwise be expanded in full by ``json.dumps`` before its length is known."""
    stack = [value]
    while stack:
        item = stack.pop()
        budget -= 1 + (len(item) if isinstance(item, str) else 0)
        if budget < 0:
            return True
        if isinstance(item, Mapping):
            stack += [*item.keys(), *item.values()]
        elif isinstance(item, list | tuple):
            stack += item
    return False


def validate(hyperparameters: Mapping[str, Any], option: str = "--hp",
             style: str = DEFAULT_STYLE, secrets: str = SECRETS_HINT) -> None:
    """Check the service limits (on the style's stored strings) and that every value is
    JSON-serialisable; ``secrets`` says where credentials come from instead."""
    if len(hyperparameters) > MAX_KEYS:
        raise SpecError(option, f"{len(hyperparameters)} hyperparameters, the limit is {MAX_KEYS}")
    for key, value in hyperparameters.items():
        if not isinstance(key, str) or not key or len(key) > MAX_KEY_LENGTH:
            why = (": an empty name would be the bare argument --, which ends a script's options"
                   if key == "" else "")
            raise SpecError(option, f"invalid name {key!r}{why}",
                            f"1 to {MAX_KEY_LENGTH} characters")
        if key.startswith("sagemaker_"):
            raise SpecError(option, f"{key!r} is reserved for SageMaker",
                            "a name not starting with sagemaker_")
        bad = next((c for c in key if c in "=\x00\n\r"), None)
        if bad is not None:  # SageMaker takes any name; these could never reach the script
            raise SpecError(option, f"invalid name {key!r}: {_WHY_NOT[bad]}",
                            "a name without '=', line breaks or NUL")
        if _over(value, 10 * MAX_VALUE_LENGTH):  # n items: a text of at least n - 1
            raise SpecError(option, f"{key}: value is far over {MAX_VALUE_LENGTH} characters, "
                            f"the limit (it holds over {10 * MAX_VALUE_LENGTH:,} items and "
                            "characters)")
        try:
            text = encode_value(value, style)
            json.dumps(value)  # v3 keeps a string as it is, but it must still be JSON
        except (TypeError, ValueError):
            raise SpecError(
                option, f"{key}: value of type {type(value).__name__} is not JSON-serialisable",
                "a string, number, boolean, null, list or dict",
            ) from None
        if "\x00" in text or "\x00" in _toolkit_text(value) or "\x00" in env_value(value):
            raise SpecError(option, f"{key}: the value holds a NUL character (\\x00), which "
                            "no command-line argument or environment variable can carry")
        if len(text) > MAX_VALUE_LENGTH:
            raise SpecError(option, f"{key}: value is {len(text)} characters, the limit is "
                            f"{MAX_VALUE_LENGTH}")
        if holds_credential(key, value):
            raise SpecError(option, f"{key}: the value looks like a credential, and "
                            "hyperparameters are stored and logged in clear",
                            f"no credentials: {secrets}")
